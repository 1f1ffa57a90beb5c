"""Helpers for the hardening tests (issue 9): crash.py and load.py.

Runs the real djcald in the foreground with NOTIFY_SOCKET pointed at a
datagram socket of ours and waits for READY=1 with a deadline; talks to its
control socket; reads its RSS and CPU time from /proc; reads its database
read-only.  Python stdlib only.  Nothing here sleeps for a fixed time:
every wait is for a condition, with a deadline.
"""
import grp
import json
import os
import resource
import select
import signal
import socket
import sqlite3
import subprocess
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("DJCAL_BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(TOP, BUILD)
DJCALD = os.path.join(BUILD, "djcald")
SANITIZED = "san" in os.path.basename(BUILD.rstrip("/"))
# The sanitizer build is slower: deadlines, not sleeps, grow.
SLOW = 4 if SANITIZED or os.environ.get("DJCAL_VALGRIND") else 1
DEADLINE = 60 * SLOW

failures = []


def check(cond, what):
    print("%s - %s" % ("ok  " if cond else "FAIL", what), flush=True)
    if not cond:
        failures.append(what)
    return cond


def info(what):
    print("info - %s" % what, flush=True)


class Fatal(Exception):
    pass


def shared_dir():
    """../shared next to the tree (or $DJCAL_SHARED), or None."""
    d = os.environ.get("DJCAL_SHARED") or os.path.join(TOP, "..", "shared")
    return d if os.path.isdir(d) else None


def raise_nofile(want):
    """Raise the soft open-file limit to want (the daemon inherits it);
    the limit we have, which may be less when the hard limit is."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return new


def wait_for(pred, what, timeout=None, step=0.02):
    """Poll pred until it is true (its value), or raise Fatal."""
    end = time.monotonic() + (timeout if timeout is not None else DEADLINE)
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            raise Fatal("timed out waiting for %s" % what)
        select.select([], [], [], step)


def wait_until(t):
    """Wait until the monotonic clock reaches t: a moment the test chose
    (a kill point, a due time), not a guess at how long something takes."""
    while True:
        left = t - time.monotonic()
        if left <= 0:
            return
        select.select([], [], [], left)


class Daemon:
    """djcald -f -c CONF, its log in a file, READY=1 through our socket.
    JOURNAL_STREAM names the log file, so each line starts with its syslog
    priority (<4> warning, <6> info, <7> debug)."""

    def __init__(self, tmp, name, conf, debug=False, env=None):
        self.logpath = os.path.join(tmp, name + ".log")
        self.npath = npath = os.path.join(tmp, name + ".notify")
        if os.path.exists(npath):
            os.unlink(npath)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(npath)
        self.notes = []
        e = {k: v for k, v in os.environ.items()
             if k not in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                          "WATCHDOG_USEC", "WATCHDOG_PID", "STATE_DIRECTORY",
                          "RUNTIME_DIRECTORY")}
        self.log = open(self.logpath, "ab")
        st = os.fstat(self.log.fileno())
        e["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        e["NOTIFY_SOCKET"] = npath
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        if env:
            e.update(env)
        argv = [DJCALD, "-f", "-c", conf] + (["-d"] if debug else [])
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, env=e)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def text(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def drain(self, timeout):
        r, _, _ = select.select([self.notify], [], [], timeout)
        if r:
            self.notes.append(self.notify.recv(65536).decode("utf-8",
                                                             "replace"))
            return True
        return False

    def wait_ready(self, timeout=None):
        """Wait for READY=1; the seconds it took since the start."""
        end = time.monotonic() + (timeout or DEADLINE)
        while not any(n.startswith("READY=1") or "\nREADY=1" in n
                      for n in self.notes):
            if not self.alive():
                raise Fatal("djcald exited (%s) before READY=1; log:\n%s" %
                            (self.proc.returncode, self.text()[-3000:]))
            left = end - time.monotonic()
            if left <= 0:
                raise Fatal("timed out waiting for READY=1; log:\n%s" %
                            self.text()[-3000:])
            self.drain(min(left, 0.1))
        # Nobody reads notifications from now on: with the socket gone
        # djcald's sd_notify fails at once, while a full one would block
        # it (a STATUS= after every fetch).
        self.notify.close()
        os.unlink(self.npath)
        return time.monotonic() - self.started

    def kill(self):
        """SIGKILL, and wait for it to be gone."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(DEADLINE)

    def stop(self):
        """SIGTERM; its exit status (None when it had to be killed)."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def close(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self.notify.close()
        self.log.close()

    def rss_kib(self):
        """VmRSS in KiB, or None once it has gone."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def cpu_seconds(self):
        """User and system CPU time so far."""
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            tck = os.sysconf("SC_CLK_TCK")
            return (int(fields[11]) + int(fields[12])) / tck
        except (OSError, IndexError, ValueError):
            return 0.0

    def sanitizer_report(self):
        t = self.text()
        return "Sanitizer" in t or "runtime error:" in t


def log_lines(text, prio=None):
    """Lines of a Daemon's log at a priority ("4" warnings, ...)."""
    out = []
    for line in text.splitlines():
        if prio is None or line.startswith("<%s>" % prio):
            out.append(line)
    return out


class Conn:
    """A blocking control connection: one request, one reply."""

    def __init__(self, path, timeout=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout or DEADLINE)
        self.sock.connect(path)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise Fatal("the daemon closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, req):
        self.sock.sendall((json.dumps(req) + "\n").encode())
        return self.line()

    def close(self):
        self.sock.close()


def ctl_call(path, req, timeout=None):
    c = Conn(path, timeout)
    try:
        return c.call(req)
    finally:
        c.close()


def db_ro(db):
    """A read-only connection to a djcald database."""
    return sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)


def integrity(db):
    con = db_ro(db)
    try:
        return "; ".join(r[0] for r in con.execute("PRAGMA integrity_check"))
    finally:
        con.close()


def conf_text(db, sock, feeds, extra=""):
    """A djcald.conf: feeds is a list of (name, {key: value})."""
    # Our own group is the admin group: refresh works without root.
    gname = grp.getgrgid(os.getgid()).gr_name
    out = ["[daemon]", "database = %s" % db, "socket = %s" % sock,
           "socket_mode = 0600", "admin_group = %s" % gname,
           "http_listen =",
           "timezone = Asia/Shanghai", extra, ""]
    for name, keys in feeds:
        out.append("[feed %s]" % name)
        out += ["%s = %s" % kv for kv in keys.items()]
        out.append("")
    return "\n".join(out)


def write_atomic(path, data):
    """Replace a file at once: a reader sees the old or the new bytes."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)
