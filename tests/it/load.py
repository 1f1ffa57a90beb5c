#!/usr/bin/env python3
"""Load (issue 9): many feeds refreshing, many clients, many subscribers.

100 file feeds refresh every 2 to 5 s, a few of them rewritten twice a
second (new summaries, and a new event whose reminder falls due some
seconds later), while clients query in a closed loop (upcoming, feeds,
tasks; one client in five reconnects every 20 requests) and subscribers
listen.  The short form (make check) runs 10 s with 100 clients and 200
subscribers; `load.py --soak` (make soak) 60 s with 1,000 of each.

Checks: every reply is ok and answers its request; every client is
answered all along; no subscriber is dropped, and each has received
every message of the outbox after it subscribed, in order, once; djcald
logs no warning; its RSS is flat: the highest sample of the last third of
the run is within 10% of the highest of the middle third (the first
third is warm-up); SIGTERM with everything connected: exit status 0.

One python process drives every connection with selectors; it prints the
requests per second it reached and the CPU time each side used, so that
a daemon that is not the bottleneck is visible.  RLIMIT_NOFILE is raised
for us and the daemon.  Seeded (DJCAL_LOAD_SEED), no fixed sleeps.
"""
import json
import os
import random
import re
import selectors
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hardlib as h  # noqa: E402
from hardlib import Fatal, check, info  # noqa: E402

SOAK = "--soak" in sys.argv[1:]
DURATION = float(os.environ.get("DJCAL_LOAD_SECONDS", 60 if SOAK else 10))
NCLIENTS = 1000 if SOAK else 100
NSUBS = 1000 if SOAK else 200
NFEEDS = 100
SEED = int(os.environ.get("DJCAL_LOAD_SEED", "5"))
LEAD = 2			# seconds: the feeds' reminder lead
ZONE = 8 * 3600
FLAT = 1.10			# last third's peak / middle third's peak


def utc(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


class Feeds:
    """The feed files: 30 events each over the next 60 days, a task in
    every fifth; rewritten with a new version in the summaries and new
    events whose reminder is due soon (the last 5 kept)."""

    def __init__(self, tmp, rnd):
        self.tmp = tmp
        self.rnd = rnd
        self.day0 = int(time.time()) // 86400 + 1
        self.version = [0] * NFEEDS
        self.extra = [[] for _ in range(NFEEDS)]
        self.rewrites = 0
        self.added = 0

    def path(self, i):
        return os.path.join(self.tmp, "f%03d.ics" % i)

    def write(self, i):
        v = self.version[i]
        out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//djcal load//EN"]
        for j in range(30):
            d = time.gmtime((self.day0 + (i + 2 * j) % 60) * 86400)
            out += ["BEGIN:VEVENT", "UID:e%d-%d@load.djcal.test" % (i, j),
                    "DTSTAMP:20260101T000000Z",
                    "DTSTART;TZID=Asia/Shanghai:%04d%02d%02dT%02d0000" % (
                        d.tm_year, d.tm_mon, d.tm_mday, 8 + j % 10),
                    "DURATION:PT1H",
                    "SUMMARY:支部学习 %d-%d v%d" % (i, j, v),
                    "LOCATION:党员活动室", "CATEGORIES:学习", "END:VEVENT"]
        if i % 5 == 0:
            out += ["BEGIN:VTODO", "UID:t%d@load.djcal.test" % i,
                    "DTSTAMP:20260101T000000Z",
                    "DUE:%s" % utc((self.day0 + 10 + i % 30) * 86400),
                    "SUMMARY:提交台账 %d v%d" % (i, v), "END:VTODO"]
        for uid, start in self.extra[i]:
            out += ["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z",
                    "DTSTART:" + utc(start), "DURATION:PT30M",
                    "SUMMARY:党小组会 %s" % uid, "END:VEVENT"]
        out.append("END:VCALENDAR")
        h.write_atomic(self.path(i), ("\r\n".join(out) + "\r\n").encode())

    def rewrite(self, i):
        """A new version of feed i with a reminder due in about 8 s: after
        the feed's next refresh (at most 5 s and its jitter)."""
        self.version[i] += 1
        self.added += 1
        start = int(time.time()) + 8 + LEAD
        self.extra[i] = (self.extra[i] + [
            ("r%d-%d@load.djcal.test" % (i, self.added), start)])[-5:]
        self.write(i)
        self.rewrites += 1


RX_SEQ = re.compile(rb'"seq":(\d+)')


class Client:
    """A closed-loop client: one request out at a time."""

    OPS = ("upcoming", "feeds", "tasks")

    def __init__(self, n, path, sel, rnd, stats):
        self.n = n
        self.path = path
        self.sel = sel
        self.rnd = rnd
        self.stats = stats
        self.reconnect = 20 if n % 5 == 0 else 0
        self.sock = None
        self.id = n * 1000000
        self.on_conn = 0
        self.replies = 0
        self.chunks = []
        self.connect()

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(h.DEADLINE)
        s.connect(self.path)
        s.setblocking(False)
        self.sock = s
        self.on_conn = 0
        self.sel.register(s, selectors.EVENT_READ, self)
        self.stats["connects"] += 1

    def send(self):
        self.id += 1
        op = self.OPS[self.id % 3]
        req = {"op": op, "id": self.id}
        if op == "upcoming":
            d = int(time.time()) + self.rnd.randrange(60) * 86400
            req["from"] = time.strftime("%Y-%m-%d", time.gmtime(d))
            req["to"] = time.strftime("%Y-%m-%d", time.gmtime(d + 86400))
        elif op == "tasks":
            req["status"] = "open"
        self.op = op
        self.want = b'{"ok":true,"id":%d' % self.id
        self.sock.send((json.dumps(req) + "\n").encode())

    def on_read(self):
        try:
            data = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionError:
            data = b""
        if not data:
            self.stats["errors"].append("client %d: closed by djcald" %
                                        self.n)
            self.sel.unregister(self.sock)
            self.sock.close()
            self.sock = None
            return
        if b"\n" not in data:
            self.chunks.append(data)
            return
        self.chunks.append(data)
        line = b"".join(self.chunks)
        self.chunks = []
        line, rest = line.split(b"\n", 1)
        if rest:
            self.stats["errors"].append("client %d: more than one reply" %
                                        self.n)
        if not (line.startswith(self.want) and
                line[len(self.want):len(self.want) + 1] in (b",", b"}")):
            self.stats["errors"].append("client %d: %s: %s" % (
                self.n, self.op, line[:300].decode("utf-8", "replace")))
        elif self.replies % 97 == 0:
            # Now and then, the whole reply.
            r = json.loads(line)
            key = {"upcoming": "occurrences", "feeds": "feeds",
                   "tasks": "tasks"}[self.op]
            if not isinstance(r.get(key), list) or (
                    self.op == "feeds" and len(r[key]) != NFEEDS):
                self.stats["errors"].append("client %d: %s: %s" % (
                    self.n, self.op, line[:300].decode()))
        self.replies += 1
        self.on_conn += 1
        self.stats[self.op] += 1
        self.stats["bytes"] += len(line)
        if self.reconnect and self.on_conn >= self.reconnect:
            self.sel.unregister(self.sock)
            self.sock.close()
            self.connect()
        self.send()

    def close(self):
        if self.sock is not None:
            self.sel.unregister(self.sock)
            self.sock.close()
            self.sock = None


class Sub:
    def __init__(self, n, path, sel):
        self.n = n
        self.sel = sel
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(h.DEADLINE)
        s.connect(path)
        s.sendall(b'{"op":"subscribe"}\n')
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise Fatal("subscriber %d: closed at subscribe" % n)
            buf += chunk
        line, self.buf = buf.split(b"\n", 1)
        r = json.loads(line)
        if not r.get("ok"):
            raise Fatal("subscriber %d: %s" % (n, r))
        self.start = r["seq"]
        self.seqs = []
        self.eof = False
        s.setblocking(False)
        self.sock = s
        sel.register(s, selectors.EVENT_READ, self)
        self.take()

    def take(self):
        if b"\n" not in self.buf:
            return
        whole, self.buf = self.buf.rsplit(b"\n", 1)
        self.seqs += [int(m) for m in RX_SEQ.findall(whole)]

    def on_read(self):
        try:
            data = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionError:
            data = b""
        if not data:
            self.eof = True
            self.sel.unregister(self.sock)
            return
        self.buf += data
        self.take()

    def close(self):
        if not self.eof:
            self.sel.unregister(self.sock)
        self.sock.close()


def flat(samples):
    """(middle third's peak, last third's peak) of [(t, kib)]."""
    t0, t1 = samples[0][0], samples[-1][0]
    third = (t1 - t0) / 3
    mid = [k for t, k in samples if t0 + third <= t < t0 + 2 * third]
    last = [k for t, k in samples if t >= t0 + 2 * third]
    return max(mid), max(last)


def run(tmp):
    rnd = random.Random(SEED)
    need = NCLIENTS + NSUBS + NFEEDS + 256
    have = h.raise_nofile(2 * need)
    if have < need:
        raise Fatal("%d connections need %d file descriptors; the limit "
                    "is %d" % (NCLIENTS + NSUBS, need, have))
    db = os.path.join(tmp, "load.db")
    sock = os.path.join(tmp, "load.sock")
    feeds = Feeds(tmp, rnd)
    conf_feeds = []
    for i in range(NFEEDS):
        feeds.write(i)
        conf_feeds.append(("f%03d" % i, {
            "url": feeds.path(i), "category": "study",
            "refresh": "%ds" % (2 + i % 4), "reminders": "%ds" % LEAD}))
    conf = os.path.join(tmp, "load.conf")
    with open(conf, "w") as f:
        f.write(h.conf_text(db, sock, conf_feeds, "max_clients = %d\n"
                            "late_grace = 1h" % (NCLIENTS + NSUBS + 100)))
    env = None
    if h.SANITIZED:
        # ASan holds freed memory back in a quarantine of 256 MiB by
        # default: RSS would grow for as long as the test runs.
        env = {"ASAN_OPTIONS": "detect_leaks=1:quarantine_size_mb=16"}
    d = h.Daemon(tmp, "load", conf, env=env)
    sel = selectors.DefaultSelector()
    clients, subs = [], []
    stats = {"upcoming": 0, "feeds": 0, "tasks": 0, "bytes": 0,
             "connects": 0, "errors": []}
    try:
        d.wait_ready()
        # Every feed in before the clock starts.
        h.wait_for(lambda: all(f["last_success"] for f in h.ctl_call(
            sock, {"op": "feeds"})["feeds"]), "the first fetch of every "
            "feed", step=0.2)
        t = time.monotonic()
        for i in range(NSUBS):
            subs.append(Sub(i, sock, sel))
        for i in range(NCLIENTS):
            clients.append(Client(i, sock, sel, rnd, stats))
        for c in clients:
            c.send()
        info("%d subscribers and %d clients connected in %.1f s" % (
            NSUBS, NCLIENTS, time.monotonic() - t))
        cpu0, pcpu0 = d.cpu_seconds(), time.process_time()
        t0 = time.monotonic()
        end = t0 + DURATION
        next_rewrite = t0
        next_sample = t0
        samples = []
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if now >= next_rewrite:
                for i in rnd.sample(range(NFEEDS), 1):
                    feeds.rewrite(i)
                next_rewrite += 0.5
            if now >= next_sample:
                k = d.rss_kib()
                if k is None:
                    raise Fatal("djcald has gone; log:\n%s" %
                                d.text()[-3000:])
                samples.append((now, k))
                next_sample += 0.2
            for key, _ in sel.select(max(0.0, min(next_rewrite, next_sample,
                                                 end) - time.monotonic())):
                key.data.on_read()
        elapsed = time.monotonic() - t0
        cpu, pcpu = d.cpu_seconds() - cpu0, time.process_time() - pcpu0
        nreq = stats["upcoming"] + stats["feeds"] + stats["tasks"]
        info("%.0f s: %d requests (%.0f/s: %d upcoming, %d feeds, %d tasks; "
             "%.0f MB), %d connects; %d feed rewrites" % (
                 elapsed, nreq, nreq / elapsed, stats["upcoming"],
                 stats["feeds"], stats["tasks"], stats["bytes"] / 1e6,
                 stats["connects"], feeds.rewrites))
        info("CPU: djcald %.1f s (%.0f%%), this driver %.1f s (%.0f%%)" % (
            cpu, 100 * cpu / elapsed, pcpu, 100 * pcpu / elapsed))
        errors = stats["errors"]
        check(not errors, "no error replies, no client closed by djcald "
              "(%d: %s)" % (len(errors), errors[:3]))
        slow = [c.n for c in clients if c.replies == 0]
        check(not slow, "every client was answered (%d were not)" %
              len(slow))
        info("replies per client: least %d, most %d" % (
            min(c.replies for c in clients), max(c.replies for c in
                                                 clients)))

        # Subscribers: wait until each has the whole outbox after it
        # subscribed.
        for c in clients:
            c.close()
        con = h.db_ro(db)
        try:
            box = [s for (s,) in con.execute(
                "SELECT seq FROM message ORDER BY seq")]
        finally:
            con.close()
        last = box[-1] if box else 0
        def caught_up():
            for key, _ in sel.select(0.05):
                key.data.on_read()
            return all(s.eof or s.start >= last or
                       (s.seqs and s.seqs[-1] >= last) for s in subs)
        h.wait_for(caught_up, "every subscriber to read the outbox", step=0)
        dropped = [s.n for s in subs if s.eof]
        check(not dropped, "no subscriber dropped (%d were)" % len(dropped))
        # Feeds rewritten near the end still record messages (reminders
        # due a few seconds on) after the snapshot: up to its last seq a
        # subscriber has exactly the outbox, and past it a rising run.
        bad = [s.n for s in subs
               if [q for q in s.seqs if q <= last] !=
               [q for q in box if q > s.start] or
               any(a >= b for a, b in zip(s.seqs, s.seqs[1:]))]
        check(not bad, "every subscriber got every message after it "
              "subscribed, in order, once (%d messages in the outbox; %d "
              "subscribers differ)" % (len(box), len(bad)))
        if bad:
            s = subs[bad[0]]
            info("subscriber %d: subscribed at seq %d, got %s; outbox %s" %
                 (s.n, s.start, s.seqs, box))
        info("messages pushed during the run: %d, to %d subscribers" % (
            len([q for q in box if q > min(s.start for s in subs)]),
            len(subs)))

        if os.environ.get("DJCAL_LOAD_RSS"):
            with open(os.environ["DJCAL_LOAD_RSS"], "w") as f:
                f.writelines("%.2f %d\n" % (t - t0, k) for t, k in samples)
        mid, lst = flat(samples)
        info("RSS (KiB): start %d, middle third's peak %d, last third's "
             "peak %d, %d samples" % (samples[0][1], mid, lst, len(samples)))
        check(lst <= mid * FLAT, "flat RSS: the last third's peak is within "
              "%d%% of the middle third's (%+.1f%%)" % (
                  round((FLAT - 1) * 100), 100.0 * (lst - mid) / mid))

        code = d.stop()
        check(code == 0, "SIGTERM with %d subscribers connected: exit status "
              "0 (%s)" % (len(subs), code))
        warns = [x for x in h.log_lines(d.text()) if x[:3] in
                 ("<0>", "<1>", "<2>", "<3>", "<4>")]
        check(not warns, "djcald logged no warning or error (%s)" %
              warns[:3])
        check(not d.sanitizer_report(), "no sanitizer report")
        check(h.integrity(db) == "ok", "database integrity")
    finally:
        for c in clients:
            c.close()
        for s in subs:
            s.close()
        d.close()


def main():
    if not os.access(h.DJCALD, os.X_OK):
        print("FAIL - %s is not built" % h.DJCALD)
        return 1
    tmp = tempfile.mkdtemp(prefix="djcal-load-")
    start = time.monotonic()
    try:
        run(tmp)
    except Fatal as e:
        check(False, str(e))
    finally:
        if os.environ.get("DJCAL_KEEP"):
            info("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    info("load: %.1f s in all" % (time.monotonic() - start))
    if h.failures:
        print("%d check(s) failed" % len(h.failures))
        return 1
    print("all load checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
