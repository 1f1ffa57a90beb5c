#!/usr/bin/env python3
"""Crash safety (issue 9): SIGKILL djcald at random moments, 50 times in
all, and check after each restart that nothing committed was lost and
nothing half-done is visible.

Phase "ingest" (35 kills): one file feed of 20,000 events (8,000 in the
sanitizer build, whose ingest is three times slower), written in versions
that alternate between two UID sets of different sizes, each version's
SUMMARY marked "[vN]".  Each round asks the running daemon to refresh (a
new version, or the one a kill interrupted) and kills it at a seeded random
point: anywhere in the ingest, near its expected end, right after the
refresh reply (just after the commit), or during start-up.  After each
restart: PRAGMA integrity_check is ok (read-only); the feed holds exactly
one version, complete (its UID set, its item and occurrence counts, the
feed row's item count, every summary with the one marker), and never an
older version than the last one known to be committed.

Phase "remind" (15 kills): events whose reminders fall due every half
second, four subscribers that each come back after a kill with `since` =
the last seq they saw, and kills just before or just after due times.  In
the end every subscriber has received every reminder exactly once, the
outbox holds each exactly once, and both are the set the feed implies
(late_grace is an hour, so nothing due while djcald was down is skipped).

Every restart ends with SIGTERM and exit status 0 at the end of its phase;
the temporary directory is removed.  Kill points come from a seeded
random generator (DJCAL_CRASH_SEED, default 9).  `crash.py --bench` uses
/work/shared/bench/gen_feed.py's 20,000-event feed instead (make soak):
slower, more realistic.  Python stdlib only.
"""
import calendar
import json
import os
import random
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hardlib as h  # noqa: E402
from hardlib import Fatal, check, info  # noqa: E402

SEED = int(os.environ.get("DJCAL_CRASH_SEED", "9"))
INGEST_KILLS = 35
REMIND_KILLS = 15
BENCH = "--bench" in sys.argv[1:]
EVENTS = 20000 if not h.SANITIZED or BENCH else 8000
ZONE = 8 * 3600			# Asia/Shanghai, the daemon's zone


# The big feed --------------------------------------------------------------

def own_body(version, n, first_day):
    """Version `version` of the big feed: UID set "a" (n UIDs) for odd
    versions, "b" (n + n/40) for even ones, so that both the set and the
    count tell versions apart.  Mostly single events, every tenth a weekly
    series of 10, every twentieth a task; some with a VALARM."""
    letter = "a" if version % 2 else "b"
    count = n if letter == "a" else n + n // 40
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//djcal crash//EN"]
    for i in range(count):
        d = time.gmtime((first_day + i % 300) * 86400)
        day = "%04d%02d%02d" % (d.tm_year, d.tm_mon, d.tm_mday)
        uid = "%s-%d@crash.djcal.test" % (letter, i)
        summary = "SUMMARY:[v%d] 支部学习 %s %d" % (version, letter, i)
        if i % 20 == 19:
            out += ["BEGIN:VTODO", "UID:" + uid, "DTSTAMP:20260101T000000Z",
                    "DUE;TZID=Asia/Shanghai:%sT180000" % day, summary,
                    "END:VTODO"]
            continue
        out += ["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z",
                "DTSTART;TZID=Asia/Shanghai:%sT%02d0000" % (day, 8 + i % 10),
                "DURATION:PT1H", summary, "CATEGORIES:学习",
                "LOCATION:党员活动室 %d" % (i % 7),
                "DESCRIPTION:第%d次学习：党章、条例和讲话精神" % i]
        if i % 10 == 5:
            out.append("RRULE:FREQ=WEEKLY;COUNT=10")
        if i % 3 == 0:
            out += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:提醒",
                    "TRIGGER:-PT30M", "END:VALARM"]
        out.append("END:VEVENT")
    out.append("END:VCALENDAR")
    body = ("\r\n".join(out) + "\r\n").encode()
    uids = {"%s-%d@crash.djcal.test" % (letter, i) for i in range(count)}
    return body, letter, uids, count


BENCH_CACHE = {}


def bench_body(version, n, first_day):
    """gen_feed.py's feed (seed 1 or 2 by version), SUMMARY marked."""
    letter = "a" if version % 2 else "b"
    if letter not in BENCH_CACHE:
        gen = os.path.join(h.shared_dir(), "bench", "gen_feed.py")
        start = time.strftime("%Y-%m-%d", time.gmtime(first_day * 86400))
        body = subprocess.run(
            [sys.executable, gen, "--events", str(n), "--seed",
             "1" if letter == "a" else "2", "--start", start],
            check=True, stdout=subprocess.PIPE, timeout=h.DEADLINE).stdout
        uids = set(re.findall(rb"\r\nUID:([^\r\n]*)", body))
        comps = len(re.findall(rb"\r\nBEGIN:(?:VEVENT|VTODO)\r\n", body))
        BENCH_CACHE[letter] = (body, {u.decode() for u in uids}, comps)
    body, uids, comps = BENCH_CACHE[letter]
    body = body.replace(b"\r\nSUMMARY:", b"\r\nSUMMARY:[v%d] " % version)
    return body, letter, uids, comps


def feed_state(db):
    """What the database says of the big feed: (markers, uids, items,
    series, occurrences, the feed row's item count)."""
    con = h.db_ro(db)
    try:
        fid = con.execute("SELECT id, items FROM feed WHERE name = 'big'"
                          ).fetchone()
        if fid is None:
            return None
        rows = con.execute(
            "SELECT s.uid, i.summary FROM item i JOIN series s ON "
            "s.id = i.series_id WHERE s.feed_id = ?", (fid[0],)).fetchall()
        nseries = con.execute("SELECT count(*) FROM series WHERE "
                              "feed_id = ?", (fid[0],)).fetchone()[0]
        nocc = con.execute("SELECT count(*) FROM occurrence WHERE "
                           "feed_id = ?", (fid[0],)).fetchone()[0]
    finally:
        con.close()
    markers = set()
    for _, s in rows:
        m = re.match(r"^\[v(\d+)\] ", s or "")
        markers.add(int(m.group(1)) if m else None)
    return {"markers": markers, "uids": {u for u, _ in rows},
            "items": len(rows), "series": nseries, "occ": nocc,
            "feed_items": fid[1]}


def ingest_phase(tmp, rnd):
    db = os.path.join(tmp, "ingest.db")
    sock = os.path.join(tmp, "ingest.sock")
    feed = os.path.join(tmp, "big.ics")
    conf = os.path.join(tmp, "ingest.conf")
    with open(conf, "w") as f:
        f.write(h.conf_text(db, sock, [("big", {
            "url": feed, "category": "study", "refresh": "1h",
            "reminders": ""})], "horizon_days = 800\nhistory_days = 30"))
    # From the day after tomorrow: no VALARM of it falls due during the
    # test (the reminder service has nothing to do here).
    first_day = int(time.time()) // 86400 + 2
    make = bench_body if BENCH else own_body
    versions = {}

    def write_version(v):
        body, letter, uids, items = make(v, EVENTS, first_day)
        versions[v] = (letter, uids, items)
        h.write_atomic(feed, body)
        return len(body)

    size = write_version(1)
    info("ingest: %d events, %.1f MB a version (%s)" % (
        EVENTS, size / 1e6, "gen_feed.py" if BENCH else "own generator"))
    occ = {}			# letter -> occurrences of a complete ingest
    d = h.Daemon(tmp, "ingest", conf)
    daemons = [d]
    t = time.monotonic()
    d.wait_ready()
    rep = h.ctl_call(sock, {"op": "refresh"})
    took = time.monotonic() - t
    if not (rep.get("ok") and rep["results"][0]["ok"]):
        raise Fatal("the first ingest: %s" % rep)
    st = feed_state(db)
    occ[versions[1][0]] = st["occ"]
    known, current = 1, 2
    write_version(2)
    # The ingest of a whole new version, measured once more below (the
    # first also had the start); kill points are spread over it.
    dur = took
    # Each kind of kill point a fixed number of times, in a seeded order.
    plan = (["anywhere"] * 20 + ["near-end"] * 6 + ["after-commit"] * 6 +
            ["start-up"] * 3)[:INGEST_KILLS]
    rnd.shuffle(plan)
    completed = 0
    try:
        for k, mode in enumerate(plan):
            conn = None
            if mode == "start-up":
                # d is idle: stop it, then kill the next one while it
                # opens the database.
                code = d.stop()
                if not check(code == 0, "kill %d (start-up): SIGTERM "
                             "first: exit status 0 (%s)" % (k + 1, code)):
                    break
                d = h.Daemon(tmp, "ingest", conf)
                daemons.append(d)
                h.wait_until(d.started + rnd.uniform(0, 0.25) * h.SLOW)
            else:
                conn = h.Conn(sock)
                t0 = time.monotonic()
                conn.sock.sendall(b'{"op":"refresh","id":1}\n')
                if mode == "after-commit":
                    r = conn.line()
                    if not (r.get("ok") and r["results"][0]["ok"]):
                        raise Fatal("refresh: %s" % r)
                    dur = time.monotonic() - t0
                elif mode == "near-end":
                    h.wait_until(t0 + dur * rnd.uniform(0.85, 1.1))
                else:
                    h.wait_until(t0 + dur * rnd.uniform(0, 1.15))
            d.kill()
            if conn is not None:
                conn.close()
            d = h.Daemon(tmp, "ingest", conf)
            daemons.append(d)
            d.wait_ready()
            ok = h.integrity(db)
            st = feed_state(db)
            v = max(st["markers"]) if st["markers"] and \
                None not in st["markers"] else None
            what = "kill %d (%s): " % (k + 1, mode)
            if not check(ok == "ok", what + "integrity_check: %s" % ok):
                break
            if not check(len(st["markers"]) == 1 and v in versions,
                         what + "one version, not a mix (%s)" %
                         sorted(st["markers"], key=str)):
                break
            letter, uids, items = versions[v]
            good = (st["uids"] == uids and st["items"] == items and
                    st["series"] == len(uids) and
                    st["feed_items"] == len(uids) and
                    occ.get(letter, st["occ"]) == st["occ"])
            if not check(good and known <= v <= current,
                         what + "version %d complete (%d series, %d items, "
                         "%d occurrences; last committed %d, in the file "
                         "%d)" % (v, st["series"], st["items"], st["occ"],
                                  known, current)):
                break
            if mode == "after-commit" and not check(
                    v == current, what + "the committed version survives"):
                break
            occ.setdefault(letter, st["occ"])
            known = v
            if v == current:
                completed += 1
                current += 1
                write_version(current)
        code = d.stop()
        check(code == 0, "ingest: SIGTERM: exit status 0 (%s)" % code)
        check(h.integrity(db) == "ok", "ingest: integrity at the end")
        info("ingest: %d kills; %d versions committed in between; an "
             "ingest takes %.1f s" % (len(plan), completed, dur))
        check(completed >= 3, "ingest: completed ingests replaced earlier "
              "ones (%d)" % completed)
    finally:
        for x in daemons:
            if x.sanitizer_report():
                check(False, "ingest: sanitizer report:\n%s" %
                      x.text()[-3000:])
            x.close()


# Reminders ------------------------------------------------------------------

def utc(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(t + ZONE))


class Sub:
    """A subscriber that resumes with since = the last seq it saw."""

    def __init__(self, name):
        self.name = name
        self.sock = None
        self.buf = b""
        self.last = None
        self.got = []		# (seq, uid, due, late)
        self.resumes = 0

    def connect(self, path, sel):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(h.DEADLINE)
        s.connect(path)
        req = {"op": "subscribe"}
        if self.last is not None:
            req["since"] = self.last
            self.resumes += 1
        s.sendall((json.dumps(req) + "\n").encode())
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise Fatal("%s: closed before the subscribe reply" %
                            self.name)
            buf += chunk
        line, rest = buf.split(b"\n", 1)
        r = json.loads(line)
        if not r.get("ok"):
            raise Fatal("%s: subscribe: %s" % (self.name, r))
        if self.last is None:
            self.last = r["seq"]
        s.setblocking(False)
        self.sock = s
        self.buf = b""
        sel.register(s, selectors.EVENT_READ, self)
        self.feed(rest)

    def feed(self, data):
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            m = json.loads(line)
            self.last = m["seq"]
            if m.get("type") == "reminder":
                self.got.append((m["seq"], m["occurrence"]["uid"], m["due"],
                                 m["late"]))

    def read(self, sel):
        try:
            data = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionError:
            data = b""
        if data:
            self.feed(data)
            return
        # The daemon was killed: a half line is lost, and read again
        # after since.
        sel.unregister(self.sock)
        self.sock.close()
        self.sock = None
        self.buf = b""


def pump_until(sel, t, pred=None, what="the subscribers"):
    """Read subscribers until the wall clock passes t (a due time, or a
    kill point near one) and pred holds."""
    while True:
        now = time.time()
        if now >= t and (pred is None or pred()):
            return
        if now > t + h.DEADLINE:
            raise Fatal("timed out waiting for %s" % what)
        for key, _ in sel.select(max(min(t - now, 0.2), 0.01)):
            key.data.read(sel)


def outbox(db):
    con = h.db_ro(db)
    try:
        return [json.loads(b) for (b,) in con.execute(
            "SELECT body FROM message WHERE type = 'reminder' ORDER BY seq")]
    finally:
        con.close()


def remind_phase(tmp, rnd):
    db = os.path.join(tmp, "remind.db")
    sock = os.path.join(tmp, "remind.sock")
    feed = os.path.join(tmp, "rem.ics")
    conf = os.path.join(tmp, "remind.conf")
    with open(conf, "w") as f:
        f.write(h.conf_text(db, sock, [("rem", {
            "url": feed, "category": "study", "refresh": "1h",
            "reminders": "10s"})], "late_grace = 1h\nmax_clients = 64"))
    # Two reminders due each second from T0 + 4 on; T0 leaves time to
    # start and subscribe.  A kill every other due second.
    seconds = 2 * REMIND_KILLS + 2
    T0 = int(time.time()) + 3 * h.SLOW
    dues = [T0 + 4 + i // 2 for i in range(2 * seconds)]
    comps = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//djcal crash//EN"]
    want = set()
    for i, due in enumerate(dues):
        uid = "r%d@crash.djcal.test" % i
        comps += ["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z",
                  "DTSTART:" + utc(due + 10), "DTEND:" + utc(due + 3600),
                  "SUMMARY:党小组会 %d" % i, "END:VEVENT"]
        want.add((uid, rfc3339(due)))
    comps.append("END:VCALENDAR")
    h.write_atomic(feed, ("\r\n".join(comps) + "\r\n").encode())

    sel = selectors.DefaultSelector()
    subs = [Sub("sub%d" % i) for i in range(4)]
    d = h.Daemon(tmp, "remind", conf)
    daemons = [d]
    try:
        d.wait_ready()
        rep = h.ctl_call(sock, {"op": "refresh"})
        if not (rep.get("ok") and rep["results"][0]["ok"]):
            raise Fatal("refresh: %s" % rep)
        for s in subs:
            s.connect(sock, sel)
        if not check(time.time() < T0 + 3.5, "remind: set up before the "
                     "first due time"):
            return
        # Kill points: every other due second, a little before it, just
        # after (while it commits and pushes) or later.
        kills = []
        for k in range(REMIND_KILLS):
            kills.append(T0 + 4 + 2 * k + rnd.choice([
                rnd.uniform(-0.15, -0.01), rnd.uniform(0, 0.06),
                rnd.uniform(0.06, 0.4)]))
        for k, t in enumerate(kills):
            pump_until(sel, t)
            d.kill()
            # Whatever is still readable arrives before the EOF.
            pump_until(sel, time.time(), lambda: all(
                s.sock is None for s in subs), "EOF on every subscriber")
            # Killed before a due time: now and then back only a second
            # after it, so that it falls due while djcald is down (and
            # goes out late when it is back).
            if t < round(t) and rnd.random() < 0.6:
                pump_until(sel, round(t) + rnd.uniform(1.05, 1.3))
            d = h.Daemon(tmp, "remind", conf)
            daemons.append(d)
            d.wait_ready()
            ok = h.integrity(db)
            if not check(ok == "ok", "remind: kill %d at %+.2f s from a due "
                         "time: integrity_check: %s" % (
                             k + 1, t - round(t), ok)):
                return
            for s in subs:
                s.connect(sock, sel)
        # The last due time, then every subscriber has everything.
        pump_until(sel, dues[-1] + 0.5, lambda: all(
            len({(u, du) for _, u, du, _ in s.got}) >= len(want)
            for s in subs), "every reminder at every subscriber")
        box = outbox(db)
        got_box = [(m["occurrence"]["uid"], m["due"]) for m in box]
        check(len(got_box) == len(set(got_box)) and set(got_box) == want,
              "remind: the outbox holds each of the %d reminders once (%d "
              "messages)" % (len(want), len(got_box)))
        late = sum(1 for m in box if m["late"])
        for s in subs:
            pairs = [(u, du) for _, u, du, _ in s.got]
            seqs = [q for q, _, _, _ in s.got]
            check(sorted(pairs) == sorted(want) and
                  len(pairs) == len(set(pairs)) and seqs == sorted(set(seqs)),
                  "remind: %s, back %d times with since: every reminder "
                  "exactly once (%d of %d; missing %s; twice %s)" % (
                      s.name, s.resumes, len(set(pairs)), len(want),
                      sorted(want - set(pairs))[:3],
                      sorted({p for p in pairs if pairs.count(p) > 1})[:3]))
        info("remind: %d reminders, %d sent late (due while djcald was "
             "down)" % (len(want), late))
        code = d.stop()
        check(code == 0, "remind: SIGTERM: exit status 0 (%s)" % code)
        check(h.integrity(db) == "ok", "remind: integrity at the end")
    finally:
        for s in subs:
            if s.sock is not None:
                s.sock.close()
        for x in daemons:
            if x.sanitizer_report():
                check(False, "remind: sanitizer report:\n%s" %
                      x.text()[-3000:])
            x.close()


def main():
    if not os.access(h.DJCALD, os.X_OK):
        print("FAIL - %s is not built" % h.DJCALD)
        return 1
    if BENCH and (h.shared_dir() is None or not os.path.exists(
            os.path.join(h.shared_dir(), "bench", "gen_feed.py"))):
        print("skip - --bench: no ../shared/bench/gen_feed.py")
        return 0
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    rnd = random.Random(SEED)
    for name, fn in (("ingest", ingest_phase), ("remind", remind_phase)):
        if only and name not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="djcal-crash-")
        start = time.monotonic()
        try:
            fn(tmp, rnd)
        except Fatal as e:
            check(False, "%s: %s" % (name, e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        info("%s: %.1f s" % (name, time.monotonic() - start))
    if h.failures:
        print("%d check(s) failed" % len(h.failures))
        return 1
    print("all crash checks passed (seed %d)" % SEED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
