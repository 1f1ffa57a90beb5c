"""Helpers for tests that break djcald's storage (faults.py) and, later,
that kill it (crash safety): feed bodies, configs, running djcald and djcal,
the state of a database file, a small filesystem.  Python stdlib only.

Nothing here sleeps: a process is waited for with a deadline.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("DJCAL_BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(TOP, BUILD)
DJCALD = os.path.join(BUILD, "djcald")
DJCAL = os.path.join(BUILD, "djcal")
# The sanitizer build and valgrind are several times slower: deadlines,
# not sleeps, grow.
SLOW = 4 if "san" in BUILD or os.environ.get("DJCAL_VALGRIND") else 1
DEADLINE = 60 * SLOW


def ics_events(n, tag="支部学习", pad=0, first=0):
    """A calendar of n events, UIDs ev-<i>@example.org from `first`, one a
    day from 2027-01-01 09:00 Shanghai time (28-day months, so the dates
    stay simple), summaries "<tag> <i>", each with a description of pad
    bytes so that a body can be made to need room."""
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//djcal tests//EN"]
    for i in range(first, first + n):
        d = 1 + i % 28
        m = 1 + (i // 28) % 12
        y = 2027 + i // 336
        out += ["BEGIN:VEVENT", "UID:ev-%d@example.org" % i,
                "DTSTAMP:20261101T000000Z",
                "DTSTART;TZID=Asia/Shanghai:%04d%02d%02dT090000" % (y, m, d),
                "DURATION:PT1H", "SUMMARY:%s %d" % (tag, i),
                "CATEGORIES:学习"]
        if pad:
            out.append("DESCRIPTION:" + "x" * pad)
        out.append("END:VEVENT")
    out.append("END:VCALENDAR")
    return ("\r\n".join(out) + "\r\n").encode()


# The window ics_events' dates fall in, for queries.
WINDOW = ("2027-01-01", "2040-01-01")


def write_conf(path, database, feeds, socket=None, extra=""):
    """A djcald.conf with the database, the socket (next to the config by
    default) and file feeds {name: path}."""
    d = os.path.dirname(path)
    lines = ["[daemon]", "database = %s" % database,
             "socket = %s" % (socket or os.path.join(d, "djcald.sock")),
             "timezone = Asia/Shanghai", extra, ""]
    for name, feed in sorted(feeds.items()):
        lines += ["[feed %s]" % name, "url = %s" % feed,
                  "category = study", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def run(argv, timeout=None):
    """Run a program to its end: (exit status, stdout, stderr).  A program
    still running at the deadline is killed and reported as status None."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    try:
        out, err = p.communicate(timeout=timeout or DEADLINE)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out.decode(errors="replace"), err.decode(errors="replace")
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def djcald_once(conf):
    return run([DJCALD, "--once", "-c", conf])


def djcal_json(db, *args):
    """`djcal --db DB --json ARGS`, parsed; raises on a failure."""
    rc, out, err = run([DJCAL, "--db", db, "--json"] + list(args))
    if rc != 0:
        raise RuntimeError("djcal %s: exit %s: %s" % (" ".join(args), rc, err))
    return json.loads(out)


def uids(db, window=WINDOW):
    """The UIDs djcal --db lists in the window, with their summaries."""
    d = djcal_json(db, "upcoming", "--from", window[0], "--to", window[1],
                   "--limit", "0")
    return {o["uid"]: o["summary"] for o in d["occurrences"]}


def feed_health(db, name):
    for f in djcal_json(db, "feeds")["feeds"]:
        if f["name"] == name:
            return f
    return None


def integrity(db):
    """PRAGMA integrity_check's answer ("ok" when intact)."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return "; ".join(r[0] for r in c.execute("PRAGMA integrity_check"))
    finally:
        c.close()


def file_state(path):
    """What must not change about a database djcald refuses: its bytes,
    and whether a -wal, -shm or -journal file sits next to it."""
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return (digest,) + tuple(os.path.exists(path + s)
                             for s in ("-wal", "-shm", "-journal"))


class SmallFs:
    """A small tmpfs mounted on a fresh directory, as a full disk; usable
    only as root where mount(8) works.  `reason` says why not otherwise."""

    def __init__(self, size="600k"):
        self.size = size
        self.path = None
        self.reason = None

    def __enter__(self):
        if os.geteuid() != 0:
            self.reason = "not root"
            return self
        if shutil.which("mount") is None:
            self.reason = "no mount(8)"
            return self
        path = tempfile.mkdtemp(prefix="djcal-smallfs.")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "size=%s,mode=0755" % self.size, "djcal-test",
                            path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0:
            os.rmdir(path)
            self.reason = "mount failed: %s" % r.stdout.decode().strip()
            return self
        self.path = path
        return self

    def __exit__(self, *exc):
        if self.path is not None:
            subprocess.run(["umount", self.path])
            os.rmdir(self.path)
        return False
