#!/usr/bin/env python3
"""Reminders end to end (issue 5): the real djcald, real time, short leads.

Two daemons, one after the other; each scenario waits about 20-30 s, most
of it for due times that are inherent to the test (computed, never fixed
sleeps: every wait is for a condition, with a deadline).

Scenario "live" (one daemon, everything connected before the first due):
  - an event 20 s ahead with a 10 s lead reaches two subscribers within 1 s
    of its due time, once each, and 1,000 more subscribers too, while one
    that never reads (small SO_RCVBUF, a large backlog of replies) does
    not delay them;
  - VALARMs relative to the start and to the end, and an absolute one;
  - an all-day item (config lead computed so it falls due a few seconds
    ahead; the config is changed with SIGHUP, the subscribers stay) and a
    VTODO with DUE (10 s before, then "overdue" at DUE);
  - moved in its feed before its reminder: none at the old time, one at
    the new; cancelled after its reminder: `cancelled`; moved after it:
    `changed` with the previous times;
  - `djcal watch`: English and Chinese lines, --json (with a filter),
    --exec (DJCAL_* variables, argv split from our own argument, feed text
    never run by a shell), --notify (a stand-in notify-send on PATH; and
    the note when there is none), and a watch stopped and restarted that
    resumes from its saved seq without a miss or a duplicate.
Scenario "restart" (late_grace = 10s):
  - SIGKILL right after a reminder is recorded (seen in the outbox with
    sqlite3, read-only) and before a subscriber read it; after the restart
    it subscribes with `since` and gets it exactly once;
  - the daemon is down across two due times: the one within late_grace is
    sent with "late":true, the other is recorded as skipped and never sent;
  - a running `djcal watch` reconnects by itself and sees each message once.
Every daemon ends with SIGTERM and exit status 0.  Python stdlib only.

Timing: "within 1 s of the due time" holds in the sanitizer build too, so
it is not relaxed there (DJCAL_REMIND_TOLERANCE overrides it by hand).
"""
import calendar
import json
import os
import re
import resource
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon as dh  # noqa: E402  (the daemon engineer's helpers)
from daemon import Daemon, Fatal, check  # noqa: E402

DJCAL = os.path.join(dh.TOP, dh.BUILD, "djcal")
LOCALEDIR = os.path.join(dh.TOP, dh.BUILD, "locale")
TOLERANCE = float(os.environ.get("DJCAL_REMIND_TOLERANCE", "1.0"))
NSUBS = 1000
ZONE_OFFSET = 8 * 3600		# Asia/Shanghai, the daemon's zone: no DST


# Feeds --------------------------------------------------------------------

def utc(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def rfc3339(t):
    """As djcald writes times: the zone's offset."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00",
                         time.gmtime(t + ZONE_OFFSET))


def parse_time(s):
    """An RFC 3339 time of djcald's (+08:00) or a date: epoch seconds."""
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d):(\d\d)"
                 r"([+-])(\d\d):(\d\d))?$", s)
    if not m:
        raise ValueError(s)
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m.group(4) is None:
        return calendar.timegm((y, mo, d, 0, 0, 0)) - ZONE_OFFSET
    off = (int(m.group(8)) * 3600 + int(m.group(9)) * 60) * \
        (1 if m.group(7) == "+" else -1)
    return calendar.timegm((y, mo, d, int(m.group(4)), int(m.group(5)),
                            int(m.group(6)))) - off


def vevent(uid, start, end=None, summary=None, location=None,
           categories=None, seq=0, status=None, alarms=(), all_day=None):
    out = ["BEGIN:VEVENT", "UID:%s" % uid, "DTSTAMP:20260101T000000Z",
           "SEQUENCE:%d" % seq]
    if all_day is not None:
        out += ["DTSTART;VALUE=DATE:%s" % all_day[0],
                "DTEND;VALUE=DATE:%s" % all_day[1]]
    else:
        out += ["DTSTART:%s" % utc(start),
                "DTEND:%s" % utc(end if end is not None else start + 3600)]
    out.append("SUMMARY:%s" % (summary or uid))
    if location:
        out.append("LOCATION:%s" % location)
    if categories:
        out.append("CATEGORIES:%s" % categories)
    if status:
        out.append("STATUS:%s" % status)
    for trig in alarms:
        out += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:x",
                "TRIGGER%s" % trig, "END:VALARM"]
    out.append("END:VEVENT")
    return out


def vtodo(uid, due, summary):
    return ["BEGIN:VTODO", "UID:%s" % uid, "DTSTAMP:20260101T000000Z",
            "DUE:%s" % utc(due), "SUMMARY:%s" % summary,
            "STATUS:NEEDS-ACTION", "END:VTODO"]


def calendar_text(comps):
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//djcal tests//EN"]
    for c in comps:
        out += c
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n"


def write_feed(path, comps):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(calendar_text(comps))
    os.rename(tmp, path)


def placeholder(name):
    # Far in the future: a valid feed that reminds of nothing now.
    return [vevent("placeholder-%s@t" % name,
                   calendar.timegm((2031, 3, 3, 3, 0, 0)))]


def refresh(sock, feed=None):
    req = {"op": "refresh"}
    if feed:
        req["feed"] = feed
    rep = dh.ctl_call(sock, req)
    if not rep.get("ok") or not all(r.get("ok") for r in rep["results"]):
        raise Fatal("refresh %s: %s" % (feed or "", rep))
    return rep


# Reading many sockets and pipes on one thread ------------------------------

class Hub(threading.Thread):
    """Reads every registered stream as data comes, stamping arrivals."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        self.cond = threading.Condition()
        self.rwake, self.wwake = os.pipe()
        os.set_blocking(self.rwake, False)
        self.sel.register(self.rwake, selectors.EVENT_READ, None)
        self.pending = []
        self.done = False

    def add(self, stream):
        with self.cond:
            self.pending.append(stream)
        os.write(self.wwake, b"x")

    def shutdown(self):
        self.done = True
        os.write(self.wwake, b"x")
        self.join(dh.DEADLINE)

    def run(self):
        while not self.done:
            for key, _ in self.sel.select():
                if key.data is None:
                    try:
                        os.read(self.rwake, 4096)
                    except BlockingIOError:
                        pass
                    with self.cond:
                        for s in self.pending:
                            self.sel.register(s.fd, selectors.EVENT_READ, s)
                        self.pending = []
                    continue
                s = key.data
                t = time.time()
                try:
                    data = os.read(s.fd, 1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                with self.cond:
                    if not data:
                        self.sel.unregister(s.fd)
                        s.eof = True
                    else:
                        s.on_data(data, t)
                    self.cond.notify_all()

    def wait(self, pred, what, timeout=None):
        end = time.monotonic() + (timeout or dh.DEADLINE)
        with self.cond:
            while True:
                v = pred()
                if v:
                    return v
                left = end - time.monotonic()
                if left <= 0:
                    raise Fatal("timed out waiting for %s" % what)
                self.cond.wait(min(left, 0.2))

    def wait_until(self, t, pred=None, what=""):
        """Wait until the wall clock passes t (a due time, inherently)."""
        self.wait(lambda: time.time() >= t and (pred is None or pred()),
                  what or "the time %s" % rfc3339(int(t)),
                  timeout=max(t - time.time(), 0) + dh.DEADLINE)


class Lines:
    """A stream of lines, each stamped with its arrival."""

    def __init__(self, fd):
        self.fd = fd
        os.set_blocking(fd, False)
        self.buf = b""
        self.lines = []		# (time, text)
        self.eof = False

    def on_data(self, data, t):
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.lines.append((t, line.decode("utf-8", "replace")))


class Sub(Lines):
    """A subscriber: connects, subscribes, then the Hub reads it."""

    def __init__(self, path, since=None, rcvbuf=None, **filters):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(dh.DEADLINE)
        self.sock.connect(path)
        req = {"op": "subscribe"}
        if since is not None:
            req["since"] = since
        req.update(filters)
        self.sock.sendall((json.dumps(req) + "\n").encode())
        buf = b""
        while b"\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Fatal("subscribe: the connection closed")
            buf += chunk
        line, rest = buf.split(b"\n", 1)
        reply = json.loads(line)
        if not reply.get("ok"):
            raise Fatal("subscribe: %s" % reply)
        self.latest = reply["seq"]
        super().__init__(self.sock.fileno())
        self.on_data(rest, time.time())

    def msgs(self):
        return [(t, json.loads(line)) for t, line in self.lines]

    def close(self):
        self.sock.close()


def of_uid(msgs, uid, type_="reminder"):
    return [(t, m) for t, m in msgs if m.get("type") == type_ and
            (m.get("occurrence") or {}).get("uid") == uid]


def has(sub, uid, type_="reminder", n=1):
    return lambda: len(of_uid(sub.msgs(), uid, type_)) >= n


def seqs_once(msgs):
    s = [m["seq"] for _, m in msgs]
    return len(s) == len(set(s)) and s == sorted(s)


# djcal watch --------------------------------------------------------------

class Watch:
    def __init__(self, hub, tmp, name, sock, args, lang="C.UTF-8", env=None):
        self.name = name
        self.errpath = os.path.join(tmp, "watch-%s.err" % name)
        e = {k: v for k, v in os.environ.items()
             if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE", "NO_COLOR",
                          "DJCAL_SOCKET")}
        e.update({"LANG": lang, "DJCAL_LOCALEDIR": LOCALEDIR,
                  "XDG_STATE_HOME": os.path.join(tmp, "state-" + name)})
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        if env:
            e.update(env)
        self.env = e
        self.argv = [DJCAL, "--socket", sock, "watch"] + args
        self.hub = hub
        self.runs = []		# Lines of each run
        self.codes = []
        self.start()

    def start(self):
        self.err = open(self.errpath, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=self.err, env=self.env)
        self.out = Lines(self.proc.stdout.fileno())
        self.runs.append(self.out)
        self.hub.add(self.out)

    def stop(self):
        """SIGTERM; the exit status (None when it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(dh.DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        self.hub.wait(lambda: self.out.eof, "%s: end of output" % self.name)
        self.proc.stdout.close()
        self.err.close()
        self.codes.append(code)
        return code

    def lines(self, every_run=True):
        runs = self.runs if every_run else self.runs[-1:]
        return [line for r in runs for _, line in r.lines]

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def state_files(self):
        d = os.path.join(self.env["XDG_STATE_HOME"], "djcal")
        return [os.path.join(d, f) for f in os.listdir(d)] \
            if os.path.isdir(d) else []


def json_lines(lines):
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append({"unparsable": line})
    return out


def within(t, due, what):
    late = t - due
    return check(-0.05 <= late <= TOLERANCE,
                 "%s: %.3f s after its due time (at most %.1f)" %
                 (what, late, TOLERANCE))


# Scenario "live" ----------------------------------------------------------

def live_conf(tmp, allday_lead):
    feeds = [("a", [("url", os.path.join(tmp, "a.ics")),
                    ("category", "study"), ("branch", "机关党支部"),
                    ("refresh", "1h"), ("reminders", "10s")]),
             ("alarm", [("url", os.path.join(tmp, "alarm.ics")),
                        ("category", "party-day"), ("branch", "社区党支部"),
                        ("refresh", "1h"), ("reminders", "1w")]),
             ("allday", [("url", os.path.join(tmp, "allday.ics")),
                         ("category", "volunteer"), ("refresh", "1h"),
                         ("reminders", allday_lead)]),
             ("tasks", [("url", os.path.join(tmp, "tasks.ics")),
                        ("category", "standardization"), ("refresh", "1h"),
                        ("reminders", "10s")])]
    # warn_days = 366: a required meeting with nothing in its next period
    # is always warned about, so the Chinese watch has a warning to show.
    return dh.conf_text(tmp, feeds, "max_clients = %d\nwarn_days = 366" %
                        (NSUBS + 100))


HOOK = r'''
import json, os, sys
env = {k: v for k, v in os.environ.items() if k.startswith("DJCAL_")}
env["argv"] = sys.argv[1:]
with open(os.path.join(sys.argv[1], env.get("DJCAL_SEQ", "x") + ".json"),
          "w") as f:
    json.dump(env, f)
with open(os.path.join(sys.argv[1], "seqs.log"), "a") as f:
    f.write(env.get("DJCAL_SEQ", "x") + "\n")
'''

FAKE_NOTIFY = r'''#!%s
import json, os, sys
with open(os.environ["NOTIFY_LOG"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\n")
'''


def live_scenario(tmp):
    os.makedirs(os.path.join(tmp, "db"))
    os.makedirs(os.path.join(tmp, "run"))
    sock = os.path.join(tmp, "run", "djcald.sock")
    db = os.path.join(tmp, "db", "djcald.db")
    for name in ("a", "alarm", "allday", "tasks"):
        write_feed(os.path.join(tmp, name + ".ics"), placeholder(name))
    cpath = os.path.join(tmp, "djcald.conf")
    dh.write(cpath, live_conf(tmp, "1w"))

    hookdir = os.path.join(tmp, "hook")
    os.makedirs(hookdir)
    hook = os.path.join(tmp, "hook.py")
    dh.write(hook, HOOK)
    fakebin = os.path.join(tmp, "fakebin")
    os.makedirs(fakebin)
    dh.write(os.path.join(fakebin, "notify-send"), FAKE_NOTIFY %
             sys.executable)
    os.chmod(os.path.join(fakebin, "notify-send"), 0o755)
    notify_log = os.path.join(tmp, "notify.log")
    pwned = os.path.join(tmp, "pwned")

    hub = Hub()
    hub.start()
    d = Daemon(tmp, "live", cpath)
    watches = []
    subs = []
    try:
        d.wait_notify(r"^READY=1", "READY=1")
        refresh(sock)
        setup_start = time.monotonic()

        # Watches first: they take longest to start.
        w_en = Watch(hub, tmp, "en", sock, [])
        w_zh = Watch(hub, tmp, "zh", sock, ["--since", "0"],
                     lang="zh_CN.UTF-8")
        w_json = Watch(hub, tmp, "json", sock, ["--json", "--category",
                                                "study"])
        w_exec = Watch(hub, tmp, "exec", sock, [
            "--exec", "%s %s '%s' \"two words\" it\\'s" %
            (sys.executable, hook, hookdir)])
        w_notify = Watch(hub, tmp, "notify", sock, ["--notify"], env={
            "PATH": fakebin + ":" + os.environ.get("PATH", "/usr/bin:/bin"),
            "NOTIFY_LOG": notify_log})
        w_nonotify = Watch(hub, tmp, "nonotify", sock, ["--notify"],
                           env={"PATH": "/nonexistent"})
        w_resume = Watch(hub, tmp, "resume", sock, ["--json"])
        w_fail = Watch(hub, tmp, "fail", sock, ["--exec", "false"])
        w_slow = Watch(hub, tmp, "slow", sock, ["--exec", "sleep 60",
                                                "--exec-timeout", "1"])
        watches = [w_en, w_zh, w_json, w_exec, w_notify, w_nonotify,
                   w_resume, w_fail, w_slow]

        s1 = Sub(sock)
        s2 = Sub(sock)
        # Filtered subscribers.
        s_party = Sub(sock, category=["party-day"])
        s_branch = Sub(sock, branch=["社区党支部"])
        s_study = Sub(sock, category=["study"], feed=["a", "alarm"])
        for s in (s1, s2, s_party, s_branch, s_study):
            hub.add(s)
        # The one that never reads: a small receive buffer, then a
        # backlog of replies it will not take.
        stuck = Sub(sock, rcvbuf=4096)
        many = []
        for _ in range(NSUBS):
            many.append(Sub(sock))
        for s in many:
            hub.add(s)
        subs = [s1, s2, s_party, s_branch, s_study, stuck] + many
        stuck.sock.setblocking(False)
        backlog = b"".join(
            (json.dumps({"op": "upcoming", "from": "2020-01-01",
                         "to": "2035-01-01", "id": i}) + "\n").encode()
            for i in range(400))
        sent = 0
        try:
            while sent < len(backlog):
                sent += stuck.sock.send(backlog[sent:])
        except BlockingIOError:
            pass
        # Every watch has subscribed when its state file exists (zh,
        # replaying from 0, once it has shown a message).
        for w in watches:
            if w is w_zh:
                hub.wait(lambda: w_zh.lines(), "watch zh: replayed warnings")
            else:
                hub.wait(lambda w=w: w.state_files() or w.proc.poll()
                         is not None, "watch %s: subscribed" % w.name)
        check(all(w.proc.poll() is None for w in watches),
              "every djcal watch is running")
        print("info - setup: %d subscribers and %d watches in %.1f s" %
              (len(subs), len(watches), time.monotonic() - setup_start))

        # The plan, from a whole second T0 on.
        T0 = int(time.time()) + 1
        # The all-day item: its date's local midnight, at least a minute
        # after its due time T0+11; the lead reaches back to T0+11.
        midnight = (T0 + ZONE_OFFSET) // 86400 * 86400 - ZONE_OFFSET
        while midnight < T0 + 11 + 60:
            midnight += 86400
        allday_due = T0 + 11
        day = time.strftime("%Y%m%d", time.gmtime(midnight + ZONE_OFFSET))
        day2 = time.strftime("%Y%m%d", time.gmtime(midnight + 86400 +
                                                    ZONE_OFFSET))
        since = time.monotonic()
        dh.write(cpath, live_conf(tmp, "%ds" % (midnight - allday_due)))
        d.proc.send_signal(signal.SIGHUP)
        d.wait_notify(r"^READY=1", "READY=1 after SIGHUP", since)

        summary_e1 = "支部学习 $(touch %s) `touch %s`; echo x" % (pwned,
                                                             pwned)
        a = {
            "e1": vevent("e1@t", T0 + 20, summary=summary_e1,
                         location="三楼会议室", categories="支委会"),
            "move": vevent("move@t", T0 + 24, summary="挪动的学习"),
            "can": vevent("can@t", T0 + 16, summary="取消的学习"),
            "chg": vevent("chg@t", T0 + 17, summary="改时间的学习"),
        }

        def write_a():
            write_feed(os.path.join(tmp, "a.ics"), list(a.values()))

        write_a()
        alarm = {
            "va": vevent("va@t", T0 + 19, T0 + 60, summary="主题党日 提醒",
                         alarms=[":-PT10S", ";RELATED=END:-PT50S"]),
            "vabs": vevent("vabs@t", T0 + 100, summary="主题党日 绝对",
                           alarms=[";VALUE=DATE-TIME:%s" % utc(T0 + 12)]),
            "rm": vevent("rm@t", T0 + 18, summary="主题党日 删除",
                         location="社区", alarms=[":-PT10S"]),
        }

        def write_alarm():
            write_feed(os.path.join(tmp, "alarm.ics"), list(alarm.values()))

        write_alarm()
        write_feed(os.path.join(tmp, "allday.ics"), [
            vevent("ad@t", None, summary="入户走访", all_day=(day, day2))])
        write_feed(os.path.join(tmp, "tasks.ics"), [
            vtodo("td@t", T0 + 15, "提交支部材料")])
        refresh(sock)
        check(time.time() < T0 + 2.5,
              "the plan is in place before its first due time (%.1f s "
              "after T0)" % (time.time() - T0))

        # Moved before its reminder (due T0+14): now due at T0+18.
        hub.wait_until(T0 + 2)
        a["move"] = vevent("move@t", T0 + 28, summary="挪动的学习", seq=1)
        write_a()
        refresh(sock, "a")

        # Cancelled after its reminder (due T0+6).
        hub.wait(has(s1, "can@t"), "the reminder of can@t",
                 timeout=T0 + 6 - time.time() + dh.DEADLINE)
        a["can"] = vevent("can@t", T0 + 16, summary="取消的学习", seq=1,
                          status="CANCELLED")
        write_a()
        refresh(sock, "a")
        # Moved after its reminder (due T0+7).
        hub.wait(has(s1, "chg@t"), "the reminder of chg@t",
                 timeout=T0 + 7 - time.time() + dh.DEADLINE)
        a["chg"] = vevent("chg@t", T0 + 300, summary="改时间的学习", seq=1)
        write_a()
        refresh(sock, "a")

        # Removed from its feed after its reminder (due T0+8).
        hub.wait(has(s1, "rm@t"), "the reminder of rm@t",
                 timeout=T0 + 8 - time.time() + dh.DEADLINE)
        del alarm["rm"]
        write_alarm()
        refresh(sock, "alarm")

        # A watch stopped after the reminder of can@t and restarted after
        # e1's: it must resume where it was.
        hub.wait(lambda: any('"uid":"can@t"' in x for x in
                             w_resume.lines()), "watch resume: can@t")
        check(w_resume.stop() == 0, "watch: SIGTERM: exit status 0")
        hub.wait(has(s1, "e1@t"), "the reminder of e1@t",
                 timeout=T0 + 10 - time.time() + dh.DEADLINE)
        w_resume.start()

        # The last one: move@t at T0+18.  Then every subscriber has had
        # its time to get e1@t.
        hub.wait_until(T0 + 18, has(s1, "move@t"), "the reminder of move@t")
        hub.wait(lambda: all(has(s, "e1@t")() for s in many),
                 "e1@t at all %d subscribers" % NSUBS)
        hub.wait(lambda: all(has(s, "e1@t")() for s in (s1, s2)) and
                 any('"uid":"move@t"' in x for x in w_resume.lines()) and
                 any("挪动的学习" in x for x in w_en.lines()) and
                 any("提交支部材料" in x for x in w_zh.lines()) and
                 any("move@t" in x for x in w_json.lines()) and
                 os.path.exists(notify_log),
                 "every watch to show the last reminder")

        # Two subscribers, once each, within 1 s.
        for name, s in (("s1", s1), ("s2", s2)):
            got = of_uid(s.msgs(), "e1@t")
            check(len(got) == 1, "%s: e1@t reminded once (%d)" %
                  (name, len(got)))
            if got:
                t, m = got[0]
                check(parse_time(m["due"]) == T0 + 10 and
                      m["lead"] == "PT10S" and m["late"] is False,
                      "%s: e1@t due T0+10, lead PT10S, not late (%s)" %
                      (name, m))
                within(t, T0 + 10, "%s: e1@t" % name)
            check(seqs_once(s.msgs()),
                  "%s: every seq once, in order" % name)
        msgs = s1.msgs()
        seqs = [m["seq"] for _, m in msgs]
        check(seqs == list(range(s1.latest + 1, s1.latest + 1 + len(seqs))),
              "s1: seq grows by one per message (%s)" % seqs)

        # 1,000 subscribers, and the one that never read.
        lates = []
        missing = 0
        for s in many:
            got = of_uid(s.msgs(), "e1@t")
            if len(got) != 1:
                missing += 1
            else:
                lates.append(got[0][0] - (T0 + 10))
        check(missing == 0, "%d subscribers: e1@t once each (%d without)" %
              (NSUBS, missing))
        if lates:
            check(max(lates) <= TOLERANCE and min(lates) >= -0.05,
                  "%d subscribers: e1@t within %.1f s of due (latest "
                  "%.3f s)" % (NSUBS, TOLERANCE, max(lates)))
        check(d.alive(), "the daemon is up with a stalled subscriber")

        # VALARMs: start-relative, end-relative, absolute.
        va = sorted((parse_time(m["due"]), m["lead"])
                    for _, m in of_uid(msgs, "va@t"))
        check(va == [(T0 + 9, "PT10S"), (T0 + 10, "PT9S")],
              "VALARM before the start and before the end (%s)" % va)
        vabs = of_uid(msgs, "vabs@t")
        check(len(vabs) == 1 and parse_time(vabs[0][1]["due"]) == T0 + 12,
              "VALARM with an absolute trigger")
        for uid, due in (("va@t", T0 + 9), ("vabs@t", T0 + 12)):
            for t, m in of_uid(msgs, uid):
                if parse_time(m["due"]) == due:
                    within(t, due, "%s" % uid)

        # The all-day item and the task.
        ad = of_uid(msgs, "ad@t")
        check(len(ad) == 1 and parse_time(ad[0][1]["due"]) == allday_due and
              ad[0][1]["occurrence"]["all_day"] is True and
              ad[0][1]["occurrence"]["start"] == "%s-%s-%s" %
              (day[:4], day[4:6], day[6:]),
              "all-day item: reminded once at its config lead (%s)" %
              [m for _, m in ad])
        if ad:
            within(ad[0][0], allday_due, "all-day item")
        td = of_uid(msgs, "td@t")
        check([(parse_time(m["due"]), m["lead"], m.get("overdue", False))
               for _, m in td] == [(T0 + 5, "PT10S", False),
                                   (T0 + 15, "PT0S", True)],
              "task: 10 s before DUE, then overdue at DUE (%s)" %
              [m for _, m in td])
        for t, m in td:
            within(t, parse_time(m["due"]), "task %s" % m["lead"])

        # Moved before: only the new time.  Cancelled and moved after.
        mv = of_uid(msgs, "move@t")
        check([parse_time(m["due"]) for _, m in mv] == [T0 + 18],
              "moved before its reminder: one reminder, at the new time "
              "(%s)" % [m["due"] for _, m in mv])
        if mv:
            within(mv[0][0], T0 + 18, "moved event")
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
        old = [r for r in con.execute(
            "SELECT due FROM reminder WHERE uid = 'move@t'")]
        con.close()
        check(old == [(T0 + 18,)], "outbox: move@t only at its new time "
              "(%s)" % old)
        cx = of_uid(msgs, "can@t", "cancelled")
        check(len(cx) == 1 and cx[0][1]["reason"] == "cancelled" and
              cx[0][1]["occurrence"]["status"] == "CANCELLED",
              "cancelled after its reminder: one cancelled message (%s)" %
              [m for _, m in cx])
        ch = of_uid(msgs, "chg@t", "changed")
        check(len(ch) == 1 and
              parse_time(ch[0][1]["previous"]["start"]) == T0 + 17 and
              parse_time(ch[0][1]["occurrence"]["start"]) == T0 + 300,
              "moved after its reminder: one changed message with the "
              "previous times (%s)" % [m for _, m in ch])
        rm = of_uid(msgs, "rm@t", "cancelled")
        check(len(rm) == 1 and rm[0][1]["reason"] == "removed" and
              rm[0][1]["occurrence"]["summary"] == "主题党日 删除" and
              rm[0][1]["occurrence"]["category"] == "party-day" and
              rm[0][1]["occurrence"]["branch"] == "社区党支部" and
              parse_time(rm[0][1]["occurrence"]["start"]) == T0 + 18,
              "removed after its reminder: one cancelled message showing "
              "what it was (%s)" % [m for _, m in rm])
        for name, s in (("category party-day", s_party),
                        ("branch 社区党支部", s_branch)):
            sm = s.msgs()
            check(len(of_uid(sm, "rm@t")) == 1 and
                  len(of_uid(sm, "rm@t", "cancelled")) == 1 and
                  not of_uid(sm, "e1@t") and seqs_once(sm),
                  "subscriber with %s: the reminder and the cancellation "
                  "of a removed item, nothing else's" % name)
        sm = s_study.msgs()
        check(not of_uid(sm, "rm@t") and not of_uid(sm, "rm@t", "cancelled")
              and len(of_uid(sm, "e1@t")) == 1 and
              len(of_uid(sm, "can@t", "cancelled")) == 1 and
              not of_uid(sm, "ad@t"),
              "subscriber with category study, feeds a and alarm: its own")
        for uid in ("can@t", "chg@t", "e1@t"):
            check(len(of_uid(msgs, uid)) == 1,
                  "%s: one reminder in all" % uid)

        # djcal watch, English.
        en = w_en.lines()
        rx = re.compile(r"^\w{3} [ \d]\d \w{3}( \d{4})? \d\d:\d\d "
                        r"\[study/branch committee\] " + re.escape(
                            summary_e1) + r" @三楼会议室 — in 10 seconds$")
        check(sum(1 for x in en if rx.match(x)) == 1,
              "watch: the reminder as a line (%s)" % en)
        check(any(re.search(r"\[standardization\] 提交支部材料 — due in 10 "
                            r"seconds$", x) for x in en) and
              any(re.search(r"提交支部材料 — overdue$", x) for x in en),
              "watch: a task's reminder and its overdue one")
        check(any(re.search(r" all day \[volunteer\] 入户走访 — in ", x)
                  for x in en), "watch: the all-day item")
        check(any(x.startswith("moved: ") and " → " in x and "改时间的学习"
                  in x for x in en), "watch: a changed message")
        check(any(x.startswith("cancelled: ") and "取消的学习" in x
                  for x in en), "watch: a cancelled message")
        check(not os.path.exists(pwned), "feed text is never run by a shell")

        # Chinese.
        zh = w_zh.lines()
        rx = re.compile(r"^(\d+年)?\d+月\d+日 周. \d\d:\d\d \[学习/支委会\] " +
                        re.escape(summary_e1) + r" @三楼会议室 — 10秒后$")
        check(sum(1 for x in zh if rx.match(x)) == 1,
              "watch (zh_CN): 10秒后 (%s)" % zh[-12:])
        check(any(re.match(r"^预警：\S+ \S+ 尚无安排$", x) for x in zh),
              "watch (zh_CN): a compliance warning, replayed with --since 0")
        check(any(x.startswith("时间变更：") for x in zh) and
              any(x.startswith("已取消：") for x in zh) and
              any(x.endswith("— 已逾期") for x in zh),
              "watch (zh_CN): 时间变更, 已取消, 已逾期")

        # --json with a category filter: the lines djcald pushed, as is.
        bodies = {m["seq"]: m for _, m in msgs}
        js = json_lines(w_json.lines())
        check(js and all(bodies.get(m.get("seq")) == m for m in js
                         if m.get("seq", 0) > s1.latest),
              "watch --json: the messages as pushed")
        check({(m.get("occurrence") or {}).get("uid") for m in js} >=
              {"e1@t", "move@t", "can@t", "chg@t"} and
              all(m.get("type") == "warning" or
                  m["occurrence"]["category"] == "study" for m in js),
              "watch --json --category study: study only")

        # --exec.
        f = os.path.join(hookdir, "%d.json" % of_uid(msgs, "e1@t")[0][1]
                         ["seq"])
        hub.wait(lambda: os.path.exists(f), "--exec for e1@t")
        with open(f) as fh:
            env = json.load(fh)
        m = of_uid(msgs, "e1@t")[0][1]
        o = m["occurrence"]
        want = {"DJCAL_TYPE": "reminder", "DJCAL_SEQ": str(m["seq"]),
                "DJCAL_DUE": m["due"], "DJCAL_LEAD": "PT10S",
                "DJCAL_LATE": "0", "DJCAL_UID": "e1@t",
                "DJCAL_SUMMARY": summary_e1, "DJCAL_START": o["start"],
                "DJCAL_END": o["end"], "DJCAL_LOCATION": "三楼会议室",
                "DJCAL_CATEGORY": "study",
                "DJCAL_MEETING_TYPE": "branch-committee",
                "DJCAL_FEED": "a", "DJCAL_BRANCH": "机关党支部",
                "DJCAL_STATUS": ""}
        bad = {k: (env.get(k), v) for k, v in want.items()
               if env.get(k) != v}
        check(not bad, "--exec: DJCAL_* variables (%s)" % bad)
        check(json.loads(env.get("DJCAL_JSON", "{}")) == m,
              "--exec: DJCAL_JSON is the message")
        check(env.get("argv") == [hookdir, "two words", "it's"],
              "--exec: argv split from the argument (%s)" % env.get("argv"))
        with open(os.path.join(hookdir, "seqs.log")) as fh:
            ex = [int(x) for x in fh.read().split()]
        check(ex == sorted(set(ex)) and set(ex) >= {
            m["seq"] for _, m in msgs}, "--exec: once per message, in "
              "order (%s)" % ex)

        # --notify.
        with open(notify_log) as fh:
            calls = [json.loads(x) for x in fh]
        e1 = [c for c in calls if c[-2:-1] == [summary_e1]]
        check(len(e1) == 1 and e1[0][:2] == ["--app-name=djcal", "--"] and
              "in 10 seconds" in e1[0][-1],
              "--notify: notify-send with the title and body as argv (%s)" %
              e1)
        err = w_nonotify.stderr()
        check(err.count("notify-send is not installed") == 1 and
              any("入户走访" in x for x in w_nonotify.lines()),
              "--notify without notify-send: said once, lines printed (%s)"
              % err.strip())

        # --exec failing, and taking too long.
        check("false failed with exit status 1" in w_fail.stderr() and
              len(w_fail.lines()) >= len(msgs),
              "--exec: a failing command is reported, the watch goes on")
        hub.wait(lambda: "sleep took longer than 1 s" in w_slow.stderr(),
                 "--exec-timeout")
        check(w_slow.proc.poll() is None,
              "--exec-timeout: the command is stopped, the watch goes on")
        t = time.monotonic()
        check(w_slow.stop() == 0 and time.monotonic() - t < 3 * dh.SLOW,
              "SIGTERM while --exec runs: the command is stopped, exit "
              "status 0 (%.1f s)" % (time.monotonic() - t))

        # The restarted watch: what s1 saw after the first run started,
        # each exactly once across both runs.
        rs = json_lines(w_resume.lines())
        first = json_lines([x for _, x in w_resume.runs[0].lines])
        rseq = [m.get("seq") for m in rs]
        want = [m["seq"] for _, m in msgs if not first or
                m["seq"] >= first[0]["seq"]]
        check(first and rseq == want,
              "a restarted watch resumes from its saved seq: nothing "
              "missed, nothing twice (%s, want %s)" % (rseq, want))

        for w in watches:
            if w.proc.poll() is None:
                code = w.stop()
                check(code == 0, "watch %s: SIGTERM: exit status 0 (%s)" %
                      (w.name, code))
            err = w.stderr()
            if "Sanitizer" in err or "runtime error" in err:
                check(False, "watch %s: sanitizer report:\n%s" %
                      (w.name, err[-3000:]))
        code = d.stop()
        check(code == 0, "live: SIGTERM: exit status 0 (%s)" % code)
        check(dh.integrity(db) == "ok", "live: database integrity")
    finally:
        for w in watches:
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait()
        for s in subs:
            s.close()
        hub.shutdown()
        d.close()


# Scenario "restart" -------------------------------------------------------

def outbox(db, like):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return [r[0] for r in con.execute(
            "SELECT body FROM message WHERE body LIKE ?",
            ("%" + like + "%",))]
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def restart_scenario(tmp):
    os.makedirs(os.path.join(tmp, "db"))
    os.makedirs(os.path.join(tmp, "run"))
    sock = os.path.join(tmp, "run", "djcald.sock")
    db = os.path.join(tmp, "db", "djcald.db")
    feed = os.path.join(tmp, "b.ics")
    write_feed(feed, placeholder("b"))
    cpath = os.path.join(tmp, "djcald.conf")
    dh.write(cpath, dh.conf_text(tmp, [
        ("b", [("url", feed), ("category", "study"), ("refresh", "1h"),
               ("reminders", "10s")])], "late_grace = 10s"))

    hub = Hub()
    hub.start()
    d = Daemon(tmp, "restart", cpath)
    d2 = None
    w = None
    subs = []
    try:
        d.wait_notify(r"^READY=1", "READY=1")
        refresh(sock)
        r = Sub(sock)
        hub.add(r)
        subs.append(r)
        w = Watch(hub, tmp, "reconnect", sock, ["--json"])
        hub.wait(lambda: w.state_files() or w.proc.poll() is not None,
                 "watch reconnect: subscribed")
        # A subscriber that is away: it last saw this seq.
        away_since = r.latest

        T0 = int(time.time()) + 1
        write_feed(feed, [
            vevent("k@t", T0 + 15, summary="杀掉之前"),	# due T0+5
            vevent("skip@t", T0 + 19, summary="跳过"),	# due T0+9
            vevent("late@t", T0 + 29, summary="迟到"),	# due T0+19
            vevent("live@t", T0 + 33, summary="重启之后")])  # due T0+23
        refresh(sock)
        check(time.time() < T0 + 4, "the plan is in place before its "
              "first due time")

        # Recorded: in the outbox.  Then SIGKILL at once.
        hub.wait(lambda: outbox(db, '"uid":"k@t"'), "k@t in the outbox",
                 timeout=T0 + 5 - time.time() + dh.DEADLINE)
        d.proc.kill()
        d.proc.wait()
        killed = time.time()
        check(killed < T0 + 8.5, "SIGKILL before the next due time "
              "(%.1f s after T0)" % (killed - T0))

        # Down across skip@t (T0+9) and late@t (T0+19); up again 12.5 s
        # after skip@t's due time (beyond late_grace) and 2.5 s after
        # late@t's (within it).
        hub.wait_until(T0 + 21.5)
        d2 = Daemon(tmp, "restart2", cpath)
        d2.wait_notify(r"^READY=1", "READY=1 after the restart")
        up = time.time()
        check(up - (T0 + 9) > 10 and up - (T0 + 19) < 10,
              "restarted after skip@t's grace and within late@t's (%.1f s "
              "after T0)" % (up - T0))

        away = Sub(sock, since=away_since)
        hub.add(away)
        subs.append(away)
        r_seen = max([m["seq"] for _, m in r.msgs()] + [r.latest])
        r2 = Sub(sock, since=r_seen)
        hub.add(r2)
        subs.append(r2)
        hub.wait_until(T0 + 23, lambda: has(away, "live@t")() and
                       has(r2, "live@t")(), "live@t after the restart")
        hub.wait(lambda: any('"uid":"live@t"' in x for x in w.lines()),
                 "the reconnected watch: live@t")

        am = away.msgs()
        k = of_uid(am, "k@t")
        check(len(k) == 1 and k[0][1]["late"] is False,
              "killed after recording: the subscriber that comes back "
              "with since gets it exactly once (%d)" % len(k))
        lt = of_uid(am, "late@t")
        check(len(lt) == 1 and lt[0][1]["late"] is True,
              "down across a due time, back within late_grace: sent with "
              "\"late\":true (%s)" % [m for _, m in lt])
        check(not of_uid(am, "skip@t") and not outbox(db, "skip@t"),
              "down beyond late_grace: not sent, not in the outbox")
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
        st = [x for x in con.execute(
            "SELECT state, seq FROM reminder WHERE uid = 'skip@t'")]
        con.close()
        check(st == [(2, None)], "skip@t recorded as skipped (%s)" % st)
        lv = of_uid(am, "live@t")
        check(len(lv) == 1 and lv[0][1]["late"] is False,
              "after the restart, a live reminder on time")
        if lv:
            within(lv[0][0], T0 + 23, "live@t after the restart")
        check(seqs_once(am), "the returning subscriber: every seq once")
        check(all(m["seq"] > r_seen for _, m in r2.msgs()) and
              seqs_once(r2.msgs()) and has(r2, "late@t")(),
              "a reader that resumes from its last seq: nothing twice")

        wl = json_lines(w.lines())
        uids = [(m.get("occurrence") or {}).get("uid") for m in wl
                if m.get("type") == "reminder"]
        check(all(uids.count(u) == 1 for u in
                  ("k@t", "late@t", "live@t")) and "skip@t" not in uids,
              "the watch that lived through the restart: each reminder "
              "once (%s)" % uids)
        ws = [m.get("seq") for m in wl]
        check(ws == sorted(set(ws)), "the watch: every seq once")
        err = w.stderr()
        check("lost the connection" in err and "reconnected" in err,
              "the watch says it lost the connection and reconnected")
        check(w.stop() == 0, "watch: SIGTERM: exit status 0")
        code = d2.stop()
        check(code == 0, "restart: SIGTERM: exit status 0 (%s)" % code)
        check(dh.integrity(db) == "ok", "restart: database integrity")
    finally:
        if w is not None and w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()
        for s in subs:
            s.close()
        hub.shutdown()
        d.close()
        if d2 is not None:
            d2.close()


def usage_checks(tmp):
    """Usage errors are exit 2 without a daemon."""
    for args in (["--since", "x"], ["--exec", "'open"], ["--exec", ""],
                 ["--category", "nope"], ["extra"], ["--exec-timeout", "0"]):
        p = subprocess.run([DJCAL, "--socket", os.path.join(tmp, "none"),
                            "watch"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=dh.DEADLINE)
        check(p.returncode == 2, "watch %s: usage error, exit 2 (%d)" %
              (args, p.returncode))
    p = subprocess.run([DJCAL, "--db", os.path.join(tmp, "none.db"),
                        "watch"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=dh.DEADLINE)
    check(p.returncode == 2, "watch --db: needs djcald, exit 2")
    p = subprocess.run([DJCAL, "--socket", os.path.join(tmp, "none"),
                        "watch"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=dh.DEADLINE)
    check(p.returncode == 1 and b"not running" in p.stderr,
          "watch without djcald: exit 1 with a message")


def main():
    for prog in (dh.DJCALD, DJCAL):
        if not os.access(prog, os.X_OK):
            print("FAIL - %s is not built" % prog)
            return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NSUBS + 512
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            print("FAIL - %d subscribers need %d file descriptors; the "
                  "limit is %d" % (NSUBS, want, hard))
            return 1
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    only = sys.argv[1:]
    for name, fn in (("usage", usage_checks), ("live", live_scenario),
                     ("restart", restart_scenario)):
        if only and name not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="djcal-remind-it-")
        start = time.monotonic()
        try:
            fn(tmp)
        except Fatal as e:
            dh.failures.append(str(e))
            print("FAIL - %s: %s" % (name, e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print("info - %s: %.1f s" % (name, time.monotonic() - start))
    if dh.failures:
        print("%d check(s) failed" % len(dh.failures))
        return 1
    print("all reminder checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
