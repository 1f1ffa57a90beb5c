#!/usr/bin/env python3
"""djcald end to end: the real daemon against loopback HTTP(S) servers.

Starts build/djcald (or $DJCAL_BUILD/djcald) with NOTIFY_SOCKET pointed at a
datagram socket of ours, waits for READY=1 with a deadline, and checks every
"Must hold" point of issue 3:

  - the first fetch ingests; a second poll sends If-None-Match and gets a 304
    with no re-ingest; a changed feed is re-ingested; an unchanged body
    without validators is skipped by its hash;
  - gzip, redirects, credentials (never logged);
  - a 500, a timeout, a connection refused and bodies over max_feed_bytes
    (with and without Content-Length) keep the last good items, are recorded
    in the feed's health, and back off;
  - https with a self-signed certificate is refused until its CA is
    configured (per feed, then daemon-wide);
  - SIGHUP adds and removes feeds (RELOADING=1 ... READY=1); a broken config
    is reported and the old one kept;
  - STATUS= with feed counts, WATCHDOG=1 when WATCHDOG_USEC is set;
  - the control socket's refresh reaches the fetcher;
  - socket activation (LISTEN_FDS); --once exit status;
  - idle: with every feed fresh, no system call for 3 s (strace);
  - SIGTERM: STOPPING=1, exit 0, PRAGMA integrity_check = ok.

Waits are for conditions with deadlines, never fixed sleeps.  Python stdlib
only.
"""
import base64
import grp
import gzip
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("DJCAL_BUILD", "build")
DJCALD = os.path.join(TOP, BUILD, "djcald")
# The sanitizer build is several times slower: deadlines, not sleeps, grow.
SLOW = 4 if "san" in BUILD or os.environ.get("DJCAL_VALGRIND") else 1
DEADLINE = 30 * SLOW
MAX_BYTES = 64 * 1024
FETCH_TIMEOUT = 2 * SLOW

failures = []


def check(cond, what):
    if cond:
        print("ok   - %s" % what)
    else:
        print("FAIL - %s" % what)
        failures.append(what)
    return cond


class Fatal(Exception):
    pass


def ics(uids, extra=""):
    """A calendar with one event per UID, at fixed dates."""
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//djcal tests//EN"]
    for i, uid in enumerate(uids):
        out += ["BEGIN:VEVENT", "UID:%s" % uid,
                "DTSTAMP:20250101T000000Z",
                "DTSTART:2030%02d%02dT010000Z" % (1 + i % 12, 1 + i % 28),
                "DURATION:PT1H",
                "SUMMARY:支部学习 %s%s" % (uid, extra),
                "CATEGORIES:学习",
                "END:VEVENT"]
    out.append("END:VCALENDAR")
    return ("\r\n".join(out) + "\r\n").encode()


# The HTTP servers ---------------------------------------------------------

class Web:
    """What the handlers serve, and what they were asked."""

    def __init__(self):
        self.lock = threading.Lock()
        self.bodies = {}	# path -> bytes
        self.modes = {}		# path -> ok|noetag|500|hang|big|bigchunk
        self.redirects = {}	# path -> location
        self.auth = {}		# path -> "user:password"
        self.gzip = set()	# paths served gzipped when asked
        self.requests = []
        self.stop = threading.Event()

    def set(self, path, body=None, mode=None):
        with self.lock:
            if body is not None:
                self.bodies[path] = body
            if mode is not None:
                self.modes[path] = mode

    def reqs(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]


def etag_of(body):
    return '"%s"' % hashlib.sha1(body).hexdigest()[:16]


def make_handler(web):
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so a stopped server
        # really refuses, and no kept-alive socket lingers.
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            with web.lock:
                mode = web.modes.get(path, "ok")
                body = web.bodies.get(path)
                entry = {"t": time.monotonic(), "path": path,
                         "inm": self.headers.get("If-None-Match"),
                         "ims": self.headers.get("If-Modified-Since"),
                         "ae": self.headers.get("Accept-Encoding") or "",
                         "auth": self.headers.get("Authorization"),
                         "status": None, "gzip": False}
                web.requests.append(entry)
            try:
                entry["status"] = self.respond(path, mode, body, entry)
            except (BrokenPipeError, ConnectionResetError):
                entry["status"] = "reset"

        def send(self, code, data=b"", headers=()):
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return code

        def respond(self, path, mode, body, entry):
            if path in web.redirects:
                return self.send(302, b"", [("Location",
                                             web.redirects[path])])
            if path in web.auth:
                want = "Basic " + base64.b64encode(
                    web.auth[path].encode()).decode()
                if entry["auth"] != want:
                    return self.send(401, b"no", [
                        ("WWW-Authenticate", 'Basic realm="djcal"')])
            if mode == "500":
                return self.send(500, b"broken")
            if mode == "hang":
                web.stop.wait(60 * SLOW)
                return "hung"
            if mode == "big":
                return self.send(200, b"X" * (MAX_BYTES * 2),
                                 [("Content-Type", "text/calendar")])
            if mode == "bigchunk":
                # No Content-Length: only counting can stop it.
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.end_headers()
                for _ in range(MAX_BYTES * 4 // 4096):
                    self.wfile.write(b"Y" * 4096)
                return 200
            if body is None:
                return self.send(404, b"none")
            hdrs = [("Content-Type", "text/calendar; charset=utf-8")]
            if mode == "ok":
                tag = etag_of(body)
                if entry["inm"] == tag:
                    return self.send(304, b"", [("ETag", tag)])
                hdrs += [("ETag", tag),
                         ("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT")]
            data = body
            if path in web.gzip and "gzip" in entry["ae"]:
                data = gzip.compress(body)
                hdrs.append(("Content-Encoding", "gzip"))
                entry["gzip"] = True
            return self.send(200, data, hdrs)

    return Handler


def start_server(web, tls_ctx=None):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(web))
    srv.daemon_threads = True
    if tls_ctx is not None:
        srv.socket = tls_ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv


# The daemon ---------------------------------------------------------------

class Daemon:
    def __init__(self, tmp, name, conf, env=None, listen_sock=None):
        self.tmp = tmp
        self.conf = conf
        self.logpath = os.path.join(tmp, name + ".log")
        self.notify_path = os.path.join(tmp, name + ".notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.messages = []
        e = {k: v for k, v in os.environ.items()
             if k not in ("JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID",
                          "LISTEN_FDNAMES", "WATCHDOG_USEC",
                          "WATCHDOG_PID", "STATE_DIRECTORY",
                          "RUNTIME_DIRECTORY")}
        e["NOTIFY_SOCKET"] = self.notify_path
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        if env:
            e.update(env)
        argv = [DJCALD, "-f", "-d", "-c", conf]
        self.log = open(self.logpath, "wb")
        kw = {}
        if listen_sock is not None:
            # Socket activation: the socket as fd 3, LISTEN_PID = us.
            fd = listen_sock.fileno()
            e["LISTEN_FDS"] = "1"
            # LISTEN_PID must be the daemon's pid, known only after fork:
            # a tiny exec wrapper sets it.
            argv = ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"'] + argv
            kw = {"preexec_fn": lambda: os.dup2(fd, 3), "pass_fds": (3,)}
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log,
                                     env=e, **kw)
        self.pid = self.proc.pid

    def text(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def drain(self, timeout):
        r, _, _ = select.select([self.notify], [], [], timeout)
        if r:
            data = self.notify.recv(65536).decode("utf-8", "replace")
            self.messages.append((time.monotonic(), data))
            return True
        return False

    def alive(self):
        return self.proc.poll() is None

    def wait(self, pred, what, timeout=None):
        """Wait until pred() is true, reading notifications meanwhile."""
        end = time.monotonic() + (timeout or DEADLINE)
        while True:
            v = pred()
            if v:
                return v
            if not self.alive():
                raise Fatal("%s: the daemon exited (%s) while waiting; "
                            "log:\n%s" % (what, self.proc.returncode,
                                          self.text()[-4000:]))
            left = end - time.monotonic()
            if left <= 0:
                raise Fatal("timed out waiting for %s; log:\n%s" %
                            (what, self.text()[-4000:]))
            self.drain(min(left, 0.05))

    def notified(self, pattern, since=0.0):
        rx = re.compile(pattern, re.M)
        for t, m in self.messages:
            if t >= since and rx.search(m):
                return m
        return None

    def wait_notify(self, pattern, what, since=0.0):
        return self.wait(lambda: self.notified(pattern, since), what)

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            end = time.monotonic() + DEADLINE
            while self.alive() and time.monotonic() < end:
                self.drain(0.05)
        if self.alive():
            self.proc.kill()
            self.proc.wait()
            return None
        self.drain(0)
        while self.drain(0):
            pass
        return self.proc.returncode

    def close(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self.notify.close()
        self.log.close()


def db_feeds(db):
    if not os.path.exists(db):
        return {}
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        return {r["name"]: dict(r) for r in con.execute("SELECT * FROM feed")}
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()


def db_series(db, feed):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return sorted(con.execute(
            "SELECT s.id, s.uid, s.hash FROM series s JOIN feed f "
            "ON f.id = s.feed_id WHERE f.name = ?", (feed,)))
    finally:
        con.close()


def integrity(db):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def ctl_call(path, req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(DEADLINE)
    s.connect(path)
    s.sendall((json.dumps(req) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf.decode())


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def conf_text(tmp, feeds, daemon_extra=""):
    gname = grp.getgrgid(os.getgid()).gr_name
    out = ["[daemon]",
           "database = %s/db/djcald.db" % tmp,
           "socket = %s/run/djcald.sock" % tmp,
           "socket_mode = 0600",
           "admin_group = %s" % gname,
           "http_listen =",
           "timezone = Asia/Shanghai",
           "max_feed_bytes = %d" % MAX_BYTES,
           "fetch_timeout = %d" % FETCH_TIMEOUT,
           daemon_extra, ""]
    for name, keys in feeds:
        out.append("[feed %s]" % name)
        out += ["%s = %s" % kv for kv in keys]
        out.append("")
    return "\n".join(out)


# The main scenario --------------------------------------------------------

def backoff_delays(text, feed):
    rx = re.compile(r"feed %s: next fetch in ([0-9.]+) s \(backing off "
                    r"after (\d+) failure" % re.escape(feed))
    return [(int(n), float(d)) for d, n in rx.findall(text)]


def main_scenario(tmp):
    os.makedirs(os.path.join(tmp, "db"))
    os.makedirs(os.path.join(tmp, "run"))
    db = os.path.join(tmp, "db", "djcald.db")
    sock = os.path.join(tmp, "run", "djcald.sock")

    # A self-signed certificate for 127.0.0.1.
    cert = os.path.join(tmp, "cert.pem")
    key = os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ctx.load_cert_chain(cert, key)

    web = Web()
    srv = start_server(web)
    srv2 = start_server(web)		# the one that goes away
    tls = start_server(web, tls_ctx)
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    base2 = "http://127.0.0.1:%d" % srv2.server_address[1]
    tbase = "https://127.0.0.1:%d" % tls.server_address[1]

    paths = ["etag", "noetag", "gz", "redir-target", "auth", "auth2",
             "e500", "hang", "big", "bigchunk", "refused", "tls", "tls2",
             "removed", "added"]
    for p in paths:
        web.set("/%s.ics" % p, ics(["%s-%d@djcal.test" % (p, i)
                                    for i in range(3)]))
    web.set("/noetag.ics", mode="noetag")
    web.gzip.add("/gz.ics")
    web.redirects["/redir.ics"] = "/redir-target.ics"
    web.auth["/auth.ics"] = "reader:s3cret-pw"
    web.auth["/auth2.ics"] = "reader2:0ther-pw"

    fast = ("refresh", "1s")
    slow = ("refresh", "1h")
    feeds = [
        ("etag", [("url", base + "/etag.ics"), fast]),
        ("noetag", [("url", base + "/noetag.ics"), fast]),
        ("gz", [("url", base + "/gz.ics"), slow]),
        ("redir", [("url", base + "/redir.ics"), slow]),
        ("auth", [("url", base.replace("://", "://reader:s3cret-pw@") +
                   "/auth.ics"), slow]),
        ("auth2", [("url", base + "/auth2.ics"), ("username", "reader2"),
                   ("password", "0ther-pw"), slow]),
        ("e500", [("url", base + "/e500.ics"), fast]),
        ("hang", [("url", base + "/hang.ics"), fast]),
        ("big", [("url", base + "/big.ics"), fast]),
        ("bigchunk", [("url", base + "/bigchunk.ics"), fast]),
        ("refused", [("url", base2 + "/refused.ics"), fast]),
        ("tls", [("url", tbase + "/tls.ics"), slow]),
        ("tls2", [("url", tbase + "/tls2.ics"), slow]),
        ("removed", [("url", base + "/removed.ics"), slow]),
    ]
    conf = os.path.join(tmp, "djcald.conf")
    write(conf, conf_text(tmp, feeds))

    d = Daemon(tmp, "main", conf, env={"WATCHDOG_USEC": "1000000"})
    try:
        main_checks(d, web, srv2, db, sock, conf, tmp, feeds, base, cert)
    finally:
        web.stop.set()
        d.close()
        for s in (srv, tls):
            s.shutdown()
            s.server_close()


def main_checks(d, web, srv2, db, sock, conf, tmp, feeds, base, cert):
    ready = d.wait_notify(r"^READY=1", "READY=1")
    check(os.path.exists(db) and os.path.exists(sock),
          "READY=1 comes after the database is open and the socket "
          "listens")
    check(re.search(r"^STATUS=\d+ feeds, ", ready, re.M) is not None,
          "READY=1 carries a STATUS= line with feed counts")

    # First fetches ---------------------------------------------------------
    good = ["etag", "noetag", "gz", "redir", "auth", "auth2", "e500", "hang",
            "big", "bigchunk", "refused", "removed"]

    def all_in():
        f = db_feeds(db)
        return all(n in f and f[n]["last_success"] > 0 and
                   f[n]["items"] == 3 for n in good) and \
            all(n in f and f[n]["last_error"] for n in ("tls", "tls2")) \
            and f
    f = d.wait(all_in, "the first fetch of every feed")
    check(True, "first fetch ingests every http feed (3 items each)")
    # A feed polled every second may already have had its 304.
    fastfeeds = [n for n, k in feeds if ("refresh", "1s") in k]
    check(all(f[n]["http_status"] == 200 for n in good
              if n not in fastfeeds) and
          all(f[n]["http_status"] in (200, 304) for n in fastfeeds),
          "feed health records the HTTP status (%s)" %
          {n: f[n]["http_status"] for n in good})
    gz = web.reqs("/gz.ics")
    check(gz and "gzip" in gz[0]["ae"] and gz[0]["gzip"],
          "Accept-Encoding asks for gzip and a gzipped body is read")
    check(web.reqs("/redir-target.ics") != [] and
          f["redir"]["items"] == 3, "a redirect is followed")
    check(f["auth"]["items"] == 3 and f["auth2"]["items"] == 3,
          "credentials from the URL and from username/password are sent")
    check("s3cret" not in f["auth"]["url"] and
          f["auth"]["url"] == base + "/auth.ics",
          "the stored URL has no credentials")
    for n in ("tls", "tls2"):
        check(re.search(r"certificate|SSL", f[n]["last_error"] or "")
              is not None and f[n]["items"] == 0,
              "https with an unknown CA is refused (%s: %s)" %
              (n, f[n]["last_error"]))

    # Conditional requests: If-None-Match and 304 -------------------------
    tag = etag_of(web.bodies["/etag.ics"])
    before = db_series(db, "etag")
    d.wait(lambda: any(r["inm"] == tag and r["status"] == 304
                       for r in web.reqs("/etag.ics")),
           "a conditional poll of feed etag")
    d.wait(lambda: db_feeds(db)["etag"]["http_status"] == 304,
           "the 304 recorded in feed health")
    text = d.text()
    check("feed etag: not modified" in text,
          "the second poll sends If-None-Match and gets 304")
    check(len(re.findall(r"feed etag: items \d+ \(", text)) == 1 and
          db_series(db, "etag") == before and
          db_feeds(db)["etag"]["items"] == 3,
          "a 304 costs no re-ingest (one ingest logged, series untouched)")
    d.wait(lambda: len([r for r in web.reqs("/noetag.ics")
                        if r["status"] == 200]) >= 2 and
           "feed noetag: unchanged" in d.text(),
           "a second fetch of the feed without validators")
    check(len(re.findall(r"feed noetag: items \d+ \(", d.text())) == 1,
          "identical bytes without ETag are skipped by their hash")

    # A changed feed --------------------------------------------------------
    web.set("/etag.ics", ics(["etag-%d@djcal.test" % i for i in range(4)]))
    d.wait(lambda: db_feeds(db)["etag"]["items"] == 4,
           "feed etag re-ingested with 4 items")
    check(re.search(r"feed etag: items 4 \(1 new or changed", d.text())
          is not None, "a changed feed is re-ingested")

    # Control socket: refresh reaches the fetcher -------------------------
    try:
        rep = ctl_call(sock, {"op": "refresh", "feed": "gz", "id": 7})
        res = rep.get("results") or []
        check(rep.get("ok") is True and len(res) == 1 and
              res[0].get("feed") == "gz" and res[0].get("ok") is True and
              res[0].get("unchanged") is True and
              res[0].get("http_status") == 304,
              "refresh over the control socket fetches now (%s)" % rep)
        rep = ctl_call(sock, {"op": "refresh", "feed": "nosuch"})
        check(rep.get("ok") is False and
              rep.get("error", {}).get("code") == "not_found",
              "refresh of an unknown feed: not_found")
    except (OSError, ValueError) as e:
        check(False, "control socket refresh: %s" % e)

    # Failures keep the last good items, are recorded, back off ----------
    failing = {"e500": r"^HTTP 500$", "hang": r"timed out",
               "big": r"max_feed_bytes", "bigchunk": r"max_feed_bytes",
               "refused": r"[Cc]onnect|refused"}
    series_before = {n: db_series(db, n) for n in failing}
    switched = time.monotonic()
    web.set("/e500.ics", mode="500")
    web.set("/hang.ics", mode="hang")
    web.set("/big.ics", mode="big")
    web.set("/bigchunk.ics", mode="bigchunk")
    srv2.shutdown()
    srv2.server_close()

    def failed_twice():
        f = db_feeds(db)
        return all(f[n]["failures"] >= 2 for n in failing) and f
    f = d.wait(failed_twice, "two failures of each failing feed",
               timeout=DEADLINE * 2)
    for n, rx in failing.items():
        check(re.search(rx, f[n]["last_error"] or "") is not None,
              "%s: the error is recorded (%s)" % (n, f[n]["last_error"]))
        check(f[n]["items"] == 3 and
              f[n]["last_success"] < f[n]["last_fetch"] and
              len(series_before[n]) == 3 and
              db_series(db, n) == series_before[n],
              "%s: the last good items are kept" % n)
    check(f["e500"]["http_status"] == 500, "e500: HTTP status 500 recorded")
    text = d.text()
    for n in failing:
        delays = dict(backoff_delays(text, n))
        check(1 in delays and 2 in delays and delays[1] >= 1.9 and
              delays[2] >= 3.9,
              "%s: backs off (refresh 1 s; waits %s after 1 and 2 "
              "failures)" % (n, {k: delays.get(k) for k in (1, 2)}))
    fails = [r["t"] for r in web.reqs("/e500.ics")
             if r["status"] == 500 and r["t"] >= switched]
    check(len(fails) >= 2 and fails[1] - fails[0] >= 1.9,
          "e500: the server sees the retries spaced out (%s s)" %
          (round(fails[1] - fails[0], 2) if len(fails) >= 2 else None))
    # Sorted by name, the first three failing feeds are named.
    st = d.wait_notify(r"^STATUS=14 feeds, 7 ok, 7 failing: big: .*; "
                       r"bigchunk: .*; e500: HTTP 500; 4 more$",
                       "STATUS= with the failing feeds", since=switched)
    check(True, "STATUS= counts the feeds and names the failing ones (%s)"
          % st.strip())
    text = d.text()
    check("s3cret-pw" not in text and "0ther-pw" not in text,
          "no password in the log")

    # SIGHUP: CA per feed, a feed added, a feed removed -------------------
    feeds2 = [(n, k) for n, k in feeds if n != "removed"]
    feeds2 = [(n, k + [("ca_file", cert)] if n == "tls" else k)
              for n, k in feeds2]
    feeds2.append(("added", [("url", base + "/added.ics"),
                             ("refresh", "1h")]))
    write(conf, conf_text(tmp, feeds2))
    t0 = time.monotonic()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_notify(r"^RELOADING=1", "RELOADING=1", since=t0)
    d.wait_notify(r"^READY=1", "READY=1 after the reload", since=t0)

    def reloaded():
        f = db_feeds(db)
        return "removed" not in f and "added" in f and \
            f["added"]["items"] == 3 and f["tls"]["items"] == 3 and f
    f = d.wait(reloaded, "the reload's effects")
    check(True, "SIGHUP adds a feed and removes another")
    check(f["tls"]["last_error"] is None,
          "https is accepted once the feed's ca_file names its CA")
    check(f["tls2"]["items"] == 0, "... and only for that feed")

    feeds3 = feeds2
    write(conf, conf_text(tmp, feeds3, "ca_file = %s" % cert))
    t0 = time.monotonic()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_notify(r"^READY=1", "READY=1 after the second reload", since=t0)
    d.wait(lambda: db_feeds(db)["tls2"]["items"] == 3,
           "tls2 fetched with the daemon's ca_file")
    check(True, "https is accepted with the daemon-wide ca_file")

    # A broken config is reported and the old one kept ------------------
    write(conf, conf_text(tmp, feeds3 + [("broken", [("url", base + "/x"),
                                                     ("refresh", "soon")])],
                          "bogus_key = 1"))
    t0 = time.monotonic()
    n_before = len(web.reqs("/etag.ics"))
    d.proc.send_signal(signal.SIGHUP)
    d.wait_notify(r"^READY=1", "READY=1 after the broken reload", since=t0)
    d.wait(lambda: "is not valid" in d.text(), "the reload error")
    text = d.text()
    check(re.search(r"djcald\.conf:\d+: .*bogus_key", text) and
          re.search(r"djcald\.conf:\d+: .*refresh", text),
          "a broken config is logged with every error and its line")
    d.wait(lambda: len(web.reqs("/etag.ics")) > n_before + 1,
           "polling going on after the broken reload")
    f = db_feeds(db)
    check("broken" not in f and "added" in f and f["added"]["items"] == 3,
          "after a broken config the old one is kept")

    # Watchdog ------------------------------------------------------------
    check(len([m for _, m in d.messages if m.startswith("WATCHDOG=1")])
          >= 2, "WATCHDOG=1 pings when WATCHDOG_USEC is set")

    # SIGTERM -------------------------------------------------------------
    t0 = time.monotonic()
    rc = d.stop()
    check(rc == 0, "SIGTERM: exit status 0 (got %s)" % rc)
    check(d.notified(r"^STOPPING=1", since=t0) is not None, "STOPPING=1")
    check(integrity(db) == "ok", "PRAGMA integrity_check = ok after stop")
    check(not os.path.exists(sock), "the socket file is removed at exit")
    if rc != 0:
        print(d.text()[-4000:])


# Idle, socket activation, --once ----------------------------------------

def idle_scenario(tmp):
    tmp = os.path.join(tmp, "idle")
    os.makedirs(os.path.join(tmp, "db"))
    os.makedirs(os.path.join(tmp, "run"))
    db = os.path.join(tmp, "db", "djcald.db")
    web = Web()
    srv = start_server(web)
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    web.set("/idle.ics", ics(["idle-%d@djcal.test" % i for i in range(2)]))
    filefeed = os.path.join(tmp, "file.ics")
    with open(filefeed, "wb") as f:
        f.write(ics(["file-%d@djcal.test" % i for i in range(5)]))
    conf = os.path.join(tmp, "djcald.conf")
    write(conf, conf_text(tmp, [
        ("web", [("url", base + "/idle.ics"), ("refresh", "1h")]),
        ("file", [("url", filefeed), ("refresh", "1h")])]))

    # --once: both feeds fine -> 0; a failing feed -> 1.
    once = subprocess.run([DJCALD, "--once", "-c", conf],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=DEADLINE)
    f = db_feeds(db)
    check(once.returncode == 0 and f["web"]["items"] == 2 and
          f["file"]["items"] == 5,
          "--once fetches http and file feeds and exits 0 (%d)" %
          once.returncode)
    web.set("/bad.ics", mode="500")
    conf_bad = os.path.join(tmp, "bad.conf")
    write(conf_bad, conf_text(tmp, [
        ("web", [("url", base + "/idle.ics")]),
        ("bad", [("url", base + "/bad.ics")])]).replace(
            "db/djcald.db", "db/bad.db"))
    once = subprocess.run([DJCALD, "--once", "-c", conf_bad],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=DEADLINE)
    check(once.returncode == 1, "--once exits 1 when a feed fails")

    # systemd's StateDirectory=/RuntimeDirectory=: with database and
    # socket at their defaults, the daemon uses the directories given.
    state = os.path.join(tmp, "state")
    runtime = os.path.join(tmp, "runtime")
    os.makedirs(state)
    os.makedirs(runtime)
    conf_dirs = os.path.join(tmp, "dirs.conf")
    write(conf_dirs, "[daemon]\nhttp_listen =\nsocket_mode = 0600\n\n"
          "[feed file]\nurl = %s\n" % filefeed)
    dd = Daemon(tmp, "dirs", conf_dirs, env={"STATE_DIRECTORY": state,
                                             "RUNTIME_DIRECTORY": runtime})
    try:
        dd.wait_notify(r"^READY=1", "READY=1 (service directories)")
        check(os.path.exists(os.path.join(state, "djcald.db")) and
              os.path.exists(os.path.join(runtime, "djcald.sock")),
              "database and socket go to $STATE_DIRECTORY and "
              "$RUNTIME_DIRECTORY")
        check(dd.stop() == 0, "... and it stops with status 0")
    finally:
        dd.close()

    # Socket activation: the socket is ours, passed as fd 3.
    sock_path = os.path.join(tmp, "activated.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(sock_path)
    lsock.listen(16)
    d = Daemon(tmp, "idle", conf, listen_sock=lsock)
    try:
        d.wait_notify(r"^READY=1", "READY=1 (idle daemon)")
        lsock.close()
        d.wait_notify(r"^STATUS=2 feeds, 2 ok$", "STATUS=2 feeds, 2 ok")
        d.wait(lambda: len(re.findall(r"next fetch in 3[0-9]{3}\.\d s",
                                      d.text())) >= 2,
               "both feeds scheduled an hour ahead")
        check("control socket: passed by systemd" in d.text(),
              "socket activation: the passed socket is used")
        # Before any client connects: a closing connection is work.
        idle_check(d, tmp)
        try:
            rep = ctl_call(sock_path, {"op": "ping"})
            check(rep.get("ok") is True,
                  "socket activation: ping answered on the passed socket")
        except (OSError, ValueError) as e:
            check(False, "ping on the activated socket: %s" % e)
        check(not os.path.exists(os.path.join(tmp, "run", "djcald.sock")),
              "socket activation: no socket of its own")
        rc = d.stop()
        check(rc == 0, "idle daemon: SIGTERM exit 0 (got %s)" % rc)
        check(os.path.exists(sock_path),
              "an activated socket's file is left to systemd")
    finally:
        d.close()
        srv.shutdown()
        srv.server_close()


def idle_check(d, tmp):
    strace = shutil.which("strace")
    if strace is None:
        print("skip - idle: strace is not installed")
        return
    out = os.path.join(tmp, "strace.out")
    p = subprocess.Popen([strace, "-f", "-qq", "-p", str(d.pid), "-o", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        p.wait(timeout=3)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=DEADLINE)
    err = p.stderr.read().decode("utf-8", "replace")
    if p.returncode not in (0, -signal.SIGINT, 130) or \
            "Operation not permitted" in err or not os.path.exists(out):
        print("skip - idle: strace cannot attach here (%s)" % err.strip())
        return
    with open(out) as f:
        lines = [line.strip() for line in f if line.strip()]
    # Attaching shows the wait in progress (or, if we came in at the very
    # end of a loop turn, the rest of that turn and then the wait); any
    # call after the daemon went to sleep is a wake-up.
    wait_rx = re.compile(r"^\d+\s+(epoll_wait|restart_syscall)\(")
    first = next((i for i, line in enumerate(lines)
                  if wait_rx.match(line)), len(lines))
    calls = [line for line in lines[first:] if not wait_rx.match(line)]
    if first == len(lines):
        calls = lines
    check(calls == [],
          "idle: no system calls for 3 s with every feed fresh (%s)" %
          (calls[:5] if calls else "%d lines, all the attached wait" %
           len(lines)))


def main():
    if not os.access(DJCALD, os.X_OK):
        print("FAIL - %s is not built" % DJCALD)
        return 1
    if shutil.which("openssl") is None:
        print("FAIL - openssl is needed for the https test")
        return 1
    tmp = tempfile.mkdtemp(prefix="djcal-it-")
    try:
        main_scenario(tmp)
        idle_scenario(tmp)
    except Fatal as e:
        failures.append(str(e))
        print("FAIL - %s" % e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all daemon checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
