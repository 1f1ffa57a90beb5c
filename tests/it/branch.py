#!/usr/bin/env python3
"""Party-branch work end to end (issue 7): the real daemon and djcal.

A year of generated branch activity whose counts are known: the year before
the current one (in Asia/Shanghai), so that every occurrence is in the past
whatever day the test runs and the daemon's real clock cannot change a
count.  In it:

  - 支委会 on the first Tuesday of each month, March's moved a week later
    (an override that stays in March);
  - 党员大会 on the last Thursday of each quarter;
  - 党小组会 on the 10th of each month, September's on a public holiday;
  - 党课 in Q1, Q3 and Q4 only: Q2 missed, so 党课 is red;
  - 理论学习 on the 20th of each month;
  - 主题党日 on the last Friday of each month, July's cancelled and made up
    on 10 July (one held, one cancelled in July: still green);
  - two volunteer visits (4 h in May, 3 h on 2 October, a holiday);
  - a holiday feed (kind = holidays): 10 September and 1-8 October.

Checks `djcal --json stats` and `--json compliance` for exactly those
counts and colours (over the socket and with --db), check-ins (签到 and
请假) that survive a re-ingest that changes the event's summary and a
daemon restart, a check-in for an occurrence that does not exist (exit 1,
not_found), hours, the Chinese year-end summary, the table and bar chart
aligned by display width, and --csv read back with the csv module.

The daemon is started with NOTIFY_SOCKET (daemon.py's helper) and waited
for with deadlines, never fixed sleeps.  Python stdlib only.
"""
import csv
import datetime
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon as dh  # noqa: E402  (the daemon engineer's helpers)
from daemon import Daemon, Fatal, check  # noqa: E402

DJCAL = os.path.join(dh.TOP, dh.BUILD, "djcal")
LOCALEDIR = os.path.join(dh.TOP, dh.BUILD, "locale")
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
Y = datetime.datetime.now(SHANGHAI).year - 1
BRANCH = "机关党支部"


# The calendar --------------------------------------------------------------

def nth_weekday(year, month, weekday, n):
    """The n-th (n < 0: from the end) weekday (0 = Monday) of a month."""
    if n > 0:
        d = datetime.date(year, month, 1)
        d += datetime.timedelta((weekday - d.weekday()) % 7)
        return d + datetime.timedelta(7 * (n - 1))
    nxt = datetime.date(year + month // 12, month % 12 + 1, 1)
    d = nxt - datetime.timedelta(1)
    return d - datetime.timedelta((d.weekday() - weekday) % 7)


def ds(d):
    return d.strftime("%Y%m%d")


def vevent(uid, start, end, summary, extra=(), allday=False):
    out = ["BEGIN:VEVENT", "UID:%s" % uid, "DTSTAMP:%d0101T000000Z" % Y]
    if allday:
        out += ["DTSTART;VALUE=DATE:%s" % start, "DTEND;VALUE=DATE:%s" % end]
    else:
        out += ["DTSTART;TZID=Asia/Shanghai:%s" % start,
                "DTEND;TZID=Asia/Shanghai:%s" % end]
    out += ["SUMMARY:%s" % summary] + list(extra) + ["END:VEVENT"]
    return out


def calendar(events):
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//djcal//branch it//ZH"]
    for e in events:
        out += e
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n"


ZWH_MARCH = nth_weekday(Y, 3, 1, 1)        # first Tuesday of March
ZWH_MOVED = ZWH_MARCH + datetime.timedelta(7)
ZWH_START = "%s 15:00" % ZWH_MOVED.isoformat()


def study_ics(march_summary="支委会（调整）"):
    jan = nth_weekday(Y, 1, 1, 1)
    dydh = nth_weekday(Y, 3, 3, -1)            # last Thursday of March
    ev = [
        vevent("zwh@it", ds(jan) + "T150000", ds(jan) + "T163000", "支委会",
               ["RRULE:FREQ=MONTHLY;BYDAY=1TU;COUNT=12",
                "CATEGORIES:三会一课,支委会"]),
        vevent("zwh@it", ds(ZWH_MOVED) + "T150000",
               ds(ZWH_MOVED) + "T163000", march_summary,
               ["RECURRENCE-ID;TZID=Asia/Shanghai:%sT150000" % ds(ZWH_MARCH),
                "CATEGORIES:三会一课,支委会"]),
        vevent("dydh@it", ds(dydh) + "T090000", ds(dydh) + "T110000",
               "支部党员大会",
               ["RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=-1TH;COUNT=4",
                "CATEGORIES:党员大会"]),
        vevent("xzh@it", "%d0110T090000" % Y, "%d0110T100000" % Y, "党小组会",
               ["RRULE:FREQ=MONTHLY;BYMONTHDAY=10;COUNT=12",
                "CATEGORIES:党小组会"]),
        vevent("llxx@it", "%d0120T090000" % Y, "%d0120T113000" % Y,
               "集中学习", ["RRULE:FREQ=MONTHLY;BYMONTHDAY=20;COUNT=12",
                            "CATEGORIES:理论学习"]),
    ]
    for uid, md in (("dk1@it", "0318"), ("dk3@it", "0916"),
                    ("dk4@it", "1216")):
        ev.append(vevent(uid, "%d%sT140000" % (Y, md),
                         "%d%sT160000" % (Y, md), "专题党课"))
    return calendar(ev)


def party_ics():
    jan = nth_weekday(Y, 1, 4, -1)
    jul = nth_weekday(Y, 7, 4, -1)
    return calendar([
        vevent("ztdr@it", ds(jan) + "T143000", ds(jan) + "T170000", "主题党日",
               ["RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=12"]),
        vevent("ztdr@it", ds(jul) + "T143000", ds(jul) + "T170000", "主题党日",
               ["RECURRENCE-ID;TZID=Asia/Shanghai:%sT143000" % ds(jul),
                "STATUS:CANCELLED"]),
        vevent("ztdr-bu@it", "%d0710T143000" % Y, "%d0710T170000" % Y,
               "主题党日（补）"),
    ])


VOL_MAY = "%d-05-09 09:00" % Y
VOL_OCT = "%d-10-02 09:00" % Y


def volunteer_ics():
    return calendar([
        vevent("v1@it", "%d0509T090000" % Y, "%d0509T130000" % Y,
               "社区志愿服务"),
        vevent("v2@it", "%d1002T090000" % Y, "%d1002T120000" % Y,
               "入户宣传"),
    ])


def holidays_ics():
    return calendar([
        vevent("zq@it", "%d0910" % Y, "%d0911" % Y, "中秋节", allday=True),
        vevent("gq@it", "%d1001" % Y, "%d1009" % Y, "国庆节", allday=True),
    ])


def conf(tmp):
    feeds = [("jiguan-study", [("url", os.path.join(tmp, "study.ics")),
                               ("category", "study"), ("branch", BRANCH)]),
             ("jiguan-party-day", [("url", os.path.join(tmp, "party.ics")),
                                   ("category", "party-day"),
                                   ("branch", BRANCH)]),
             ("jiguan-volunteer", [("url", os.path.join(tmp, "vol.ics")),
                                   ("category", "volunteer"),
                                   ("branch", BRANCH)]),
             ("holidays", [("url", os.path.join(tmp, "hol.ics")),
                           ("kind", "holidays")])]
    return dh.conf_text(tmp, feeds)


# djcal ---------------------------------------------------------------------

class Run:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err


def djcal(args, lang="C.UTF-8", env=None):
    e = {k: v for k, v in os.environ.items()
         if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE", "NO_COLOR",
                      "DJCAL_SOCKET", "DJCAL_LOCALEDIR", "DJCAL_NOW",
                      "LOCPATH")}
    e["LANG"] = lang
    e["DJCAL_LOCALEDIR"] = LOCALEDIR
    if env:
        e.update(env)
    p = subprocess.run([DJCAL] + args, capture_output=True, env=e,
                       timeout=dh.DEADLINE)
    r = Run(p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))
    if "Sanitizer" in r.err or "runtime error:" in r.err:
        check(False, "djcal %s: sanitizer report:\n%s" % (args, r.err))
    return r


def same(got, want, what):
    """got == want, with both shown only when they differ."""
    if got == want:
        return check(True, what)
    return check(False, "%s\n got  %s\n want %s" % (what, got, want))


def ok_run(args, what, **kw):
    r = djcal(args, **kw)
    check(r.rc == 0, "%s: exit 0 (got %d: %s)" % (what, r.rc, r.err.strip()))
    return r


def json_of(r, what):
    try:
        return json.loads(r.out)
    except ValueError:
        check(False, "%s: not JSON: %r" % (what, r.out[:300]))
        return {}


def width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in s)


# The known answers ------------------------------------------------------------

def expected_stats(checkins):
    """The rows of `stats` for the year, given the check-ins made."""
    rows = [
        ("study", None, 43, 0), ("study", "branch-committee", 12, 0),
        ("study", "member-assembly", 4, 0), ("study", "group", 12, 0),
        ("study", "lecture", 3, 0), ("study", "theory-study", 12, 0),
        ("party-day", None, 12, 1), ("volunteer", None, 2, 0),
    ]
    out = []
    for cat, mt, held, cancelled in rows:
        mine = [c for c in checkins if c["category"] == cat and
                (mt is None or c["meeting_type"] == mt)]
        present = sum(1 for c in mine if c["leave"] is None)
        leave = len(mine) - present
        hours = sum(c["hours"] for c in mine if c["leave"] is None and
                    cat == "volunteer")
        out.append({"category": cat, "meeting_type": mt, "held": held,
                    "cancelled": cancelled, "upcoming": 0,
                    "checkins": present, "leaves": leave,
                    "attendance_rate": (round(present / (present + leave), 2)
                                        if present + leave else None),
                    "volunteer_hours": float(hours)})
    return out


def periods(cadence):
    if cadence == "month":
        return ["%d-%02d" % (Y, m) for m in range(1, 13)]
    return ["%d-Q%d" % (Y, q) for q in range(1, 5)]


def expected_compliance():
    def req(name, cat, mt, cadence, status, held, cancelled=None,
            holiday=None):
        ps = []
        for i, p in enumerate(periods(cadence)):
            ps.append({"period": p, "held": held[i], "scheduled": 0,
                       "cancelled": (cancelled or {}).get(i, 0),
                       "on_holiday": (holiday or {}).get(i, 0),
                       "missing": held[i] == 0})
        return {"name": name, "category": cat, "meeting_type": mt,
                "cadence": cadence, "status": status, "periods": ps}

    return {"year": Y, "requirements": [
        # The first Tuesday of October is always in the 国庆 holiday.
        req("支委会", "study", "branch-committee", "month", "green", [1] * 12,
            holiday={9: 1}),
        req("党员大会", "study", "member-assembly", "quarter", "green",
            [1] * 4),
        req("党小组会", "study", "group", "month", "green", [1] * 12,
            holiday={8: 1}),
        req("党课", "study", "lecture", "quarter", "red", [1, 0, 1, 1]),
        req("主题党日", "party-day", None, "month", "green", [1] * 12,
            cancelled={6: 1}),
    ]}


# The scenario ---------------------------------------------------------------

def start(tmp, cpath, name):
    d = Daemon(tmp, name, cpath)
    d.wait_notify(r"^READY=1", "READY=1 (%s)" % name)
    db = os.path.join(tmp, "db", "djcald.db")
    d.wait(lambda: len(dh.db_feeds(db)) == 4 and
           all(f["last_success"] for f in dh.db_feeds(db).values()),
           "every feed read (%s)" % name)
    return d


def stop(d, what):
    rc = d.stop()
    check(rc == 0, "%s: SIGTERM, exit 0 (got %s)" % (what, rc))
    d.close()


def scenario(tmp):
    os.makedirs(os.path.join(tmp, "db"))
    os.makedirs(os.path.join(tmp, "run"))
    dh.write(os.path.join(tmp, "study.ics"), study_ics())
    dh.write(os.path.join(tmp, "party.ics"), party_ics())
    dh.write(os.path.join(tmp, "vol.ics"), volunteer_ics())
    dh.write(os.path.join(tmp, "hol.ics"), holidays_ics())
    cpath = os.path.join(tmp, "djcald.conf")
    dh.write(cpath, conf(tmp))
    sock = os.path.join(tmp, "run", "djcald.sock")
    db = os.path.join(tmp, "db", "djcald.db")
    S = ["--socket", sock]
    print("# the year: %d" % Y)

    d = start(tmp, cpath, "branch")
    try:
        first_half(tmp, d, S, db, sock)
    finally:
        if d.alive():
            stop(d, "first daemon")
        else:
            d.close()
    # A restart: the check-ins are in the database.
    d = start(tmp, cpath, "branch2")
    try:
        second_half(tmp, S, db)
        stop(d, "restarted daemon")
    finally:
        d.close()


CHECKINS = []


def checkin(S, uid, when, member, category, mt, hours=0, leave=None):
    args = S + ["--json", "checkin", uid, when, "--member", member]
    if leave is not None:
        args += ["--leave", leave]
    r = ok_run(args, "checkin %s %s %s" % (uid, when, member))
    c = json_of(r, "checkin").get("checkin", {})
    check(c.get("member") == member and c.get("uid") == uid and
          c.get("status") == ("leave" if leave is not None else "present")
          and c.get("reason") == leave,
          "checkin %s: the record (%s)" % (member, c))
    CHECKINS.append({"category": category, "meeting_type": mt,
                     "hours": hours, "leave": leave})


def first_half(tmp, d, S, db, sock):
    # Stats and compliance before any check-in: exactly the known counts.
    r = ok_run(S + ["--json", "stats", "--year", str(Y)], "stats --json")
    got = json_of(r, "stats")
    want = {"year": Y, "rows": expected_stats([])}
    same(got, want, "stats --json: exactly the known counts")
    r = ok_run(S + ["--json", "compliance", "--year", str(Y)],
               "compliance --json")
    got = json_of(r, "compliance")
    want = expected_compliance()
    same(got, want, "compliance --json: exactly the known periods and "
         "colours")
    statuses = {q["name"]: q["status"] for q in got.get("requirements", [])}
    check(statuses.get("党课") == "red", "a missed quarter makes 党课 red")
    # --db gives the same objects (the defaults are the daemon's too, and
    # the holiday feed is known from the database).
    for what in ("stats", "compliance"):
        a = djcal(S + ["--json", what, "--year", str(Y)]).out
        b = djcal(["--db", db, "--json", what, "--year", str(Y)]).out
        check(a == b and a != "", "%s --json: the socket and --db agree" %
              what)
    r = ok_run(S + ["--json", "stats", "--year", str(Y), "--branch", BRANCH],
               "stats --branch")
    check(json_of(r, "stats").get("rows") == expected_stats([]),
          "stats --branch: the branch's feeds are all of them")
    r = ok_run(S + ["--json", "stats", "--year", str(Y), "--branch", "无"],
               "stats of an unknown branch")
    check(json_of(r, "stats") == {"year": Y, "rows": []},
          "stats of a branch without feeds: no rows")

    # Check-ins: 签到 and 请假 at the moved 支委会, and two volunteer visits.
    checkin(S, "zwh@it", ZWH_START, "张三", "study", "branch-committee")
    checkin(S, "zwh@it", ZWH_START, "李四", "study", "branch-committee")
    checkin(S, "zwh@it", ZWH_START, "王五", "study", "branch-committee")
    checkin(S, "zwh@it", ZWH_START, "赵六", "study", "branch-committee",
            leave="出差")
    checkin(S, "v1@it", VOL_MAY, "张三", "volunteer", None, hours=4)
    checkin(S, "v1@it", VOL_MAY, "李四", "volunteer", None, hours=4)
    checkin(S, "v2@it", VOL_OCT, "张三", "volunteer", None, hours=3)

    r = ok_run(S + ["--json", "attendance", "zwh@it", ZWH_START],
               "attendance --json")
    att = json_of(r, "attendance").get("attendance", [])
    check(sorted(a["member"] for a in att) == ["张三", "李四", "王五",
                                               "赵六"] and
          [a["status"] for a in att if a["member"] == "赵六"] == ["leave"],
          "attendance lists who came and who took leave (%s)" % att)

    # Errors: an occurrence that does not exist, a write with --db.
    r = djcal(S + ["checkin", "nosuch@it", ZWH_START, "--member", "张三"])
    check(r.rc == 1 and "no occurrence of nosuch@it" in r.err,
          "checkin of an unknown UID: exit 1, not_found (%d, %s)" %
          (r.rc, r.err.strip()))
    r = djcal(S + ["checkin", "zwh@it", "%d-03-04 15:00" % Y, "--member",
                   "张三"])
    check(r.rc == 1 and "no occurrence of zwh@it" in r.err,
          "checkin at a time the meeting does not start: exit 1 (%d, %s)" %
          (r.rc, r.err.strip()))
    r = djcal(S + ["attendance", "nosuch@it", ZWH_START])
    check(r.rc == 1 and "no occurrence" in r.err,
          "attendance of an unknown occurrence: exit 1")
    r = djcal(["--db", db, "checkin", "zwh@it", ZWH_START, "--member", "张三"])
    check(r.rc == 2 and "djcald" in r.err, "checkin with --db: exit 2")
    r = djcal(S + ["checkin", "zwh@it", ZWH_START])
    check(r.rc == 2, "checkin without --member: exit 2")
    r = djcal(S + ["stats", "--year", "20x"])
    check(r.rc == 2 and "--year" in r.err, "a bad --year: exit 2")
    r = djcal(S + ["--json", "stats", "--csv"])
    check(r.rc == 2, "--csv with --json: exit 2")
    r = djcal(S + ["compliance", "--config", "/nonexistent"])
    check(r.rc == 2, "compliance --config without --db: exit 2")

    # A re-ingest that changes the meeting's summary: the check-ins stay.
    dh.write(os.path.join(tmp, "study.ics"),
             study_ics("三月支委会：研究发展党员工作"))
    r = ok_run(S + ["--json", "refresh", "jiguan-study"], "refresh")
    res = json_of(r, "refresh").get("results", [{}])[0]
    check(res.get("ok") is True and res.get("changed", 0) >= 1,
          "refresh re-reads the changed feed (%s)" % res)
    r = ok_run(S + ["--json", "upcoming", "--from", ZWH_MOVED.isoformat(),
                    "--days", "1", "--feed", "jiguan-study"], "upcoming")
    occ = json_of(r, "upcoming").get("occurrences", [])
    check([o["summary"] for o in occ if o["uid"] == "zwh@it"] ==
          ["三月支委会：研究发展党员工作"], "the new summary is in (%s)" %
          [o["summary"] for o in occ])
    r = ok_run(S + ["--json", "attendance", "zwh@it", ZWH_START],
               "attendance after the re-ingest")
    check(len(json_of(r, "attendance").get("attendance", [])) == 4,
          "the check-ins survive a re-ingest that changes the summary")


def second_half(tmp, S, db):
    ZWH = ["zwh@it", ZWH_START]
    r = ok_run(S + ["--json", "attendance"] + ZWH,
               "attendance after a restart")
    att = json_of(r, "attendance").get("attendance", [])
    check("张三" in [a["member"] for a in att] and len(att) == 4,
          "the check-ins survive a restart (%s)" % att)
    r = ok_run(S + ["attendance"] + ZWH, "attendance table")
    check("张三" in r.out and "赵六" in r.out and "出差" in r.out and
          "3 present, 1 on leave" in r.out,
          "attendance table (%r)" % r.out)
    r = ok_run(["--db", db, "--json", "attendance"] + ZWH,
               "attendance --db")
    check(len(json_of(r, "attendance --db").get("attendance", [])) == 4,
          "attendance --db lists them too")

    # Stats with the check-ins: attendance counts, rate and hours.
    want = expected_stats(CHECKINS)
    r = ok_run(S + ["--json", "stats", "--year", str(Y)], "stats --json")
    got = json_of(r, "stats")
    same(got, {"year": Y, "rows": want}, "stats --json with check-ins: "
         "exact")
    r = ok_run(S + ["--json", "hours", "--year", str(Y)], "hours --json")
    same(json_of(r, "hours"), {"year": Y, "hours": [
        {"member": "张三", "hours": 7.0, "count": 2},
        {"member": "李四", "hours": 4.0, "count": 1}]},
        "hours --json: 张三 7 h in 2 visits, 李四 4 h")
    r = ok_run(S + ["--json", "hours", "--year", str(Y), "--member", "李四"],
               "hours --member")
    check([h["member"] for h in json_of(r, "hours").get("hours", [])] ==
          ["李四"], "hours --member: one member")
    r = ok_run(S + ["hours", "--year", str(Y)], "hours table")
    check("张三" in r.out and "7" in r.out and "11 hours by 2 members" in
          r.out, "hours table (%r)" % r.out)
    r = ok_run(["--db", db, "--json", "hours", "--year", str(Y)],
               "hours --db")
    check(json_of(r, "hours").get("hours", [{}])[0].get("hours") == 7.0,
          "hours --db")

    present = sum(1 for c in CHECKINS if c["leave"] is None)
    rate = round(100 * present / len(CHECKINS))
    # English, then Chinese: the summary, the table and the chart.
    r = ok_run(S + ["--color=never", "stats", "--year", str(Y), "--branch",
                    BRANCH], "stats (English)")
    en = ("In %d, %s held 12 themed Party days, 12 branch committee "
          "meetings, 4 member assemblies and 12 Party group meetings, gave "
          "3 Party lectures, organised 12 theory study sessions and 2 "
          "volunteer activities, with 11 volunteer hours in all; member "
          "attendance was %d%%." % (Y, BRANCH, rate))
    same(r.out.split("\n")[0], en, "English summary")
    chart_checks(r.out, "English")
    zh_env = {"DJCAL_LOCALEDIR": LOCALEDIR}
    r = ok_run(S + ["--color=never", "stats", "--year", str(Y), "--branch",
                    BRANCH], "stats (Chinese)", lang="zh_CN.UTF-8",
               env=zh_env)
    zh = ("%d年，%s召开主题党日12次、支委会12次、党员大会4次、党小组会12次，"
          "讲党课3次，开展理论学习12次、志愿服务2次，累计志愿服务11小时；"
          "党员出勤率%d%%。" % (Y, BRANCH, rate))
    same(r.out.split("\n")[0], zh, "Chinese summary")
    check("已开展" in r.out and "主题党日" in r.out and "支委会" in r.out,
          "Chinese table headers and labels")
    chart_checks(r.out, "Chinese")
    r = ok_run(S + ["--color=never", "stats", "--year", str(Y)],
               "stats of every branch (Chinese)", lang="zh_CN.UTF-8")
    check(r.out.startswith("%d年，各支部召开主题党日12次" % Y),
          "Chinese summary of every branch (%r)" % r.out[:80])
    r = ok_run(S + ["--color=always", "stats", "--year", str(Y)],
               "stats --color=always")
    check("\033[" in r.out, "stats in colour")

    # CSV: RFC 4180, read back with the csv module.
    r = ok_run(S + ["stats", "--year", str(Y), "--csv"], "stats --csv")
    check("\r\n" in r.out, "CSV lines end with CRLF")
    rows = list(csv.DictReader(io.StringIO(r.out, newline="")))
    check([(x["category"], x["meeting_type"], int(x["held"]),
            int(x["cancelled"]), int(x["checkins"]), int(x["leaves"]),
            float(x["volunteer_hours"])) for x in rows] ==
          [(w["category"], w["meeting_type"] or "", w["held"],
            w["cancelled"], w["checkins"], w["leaves"],
            w["volunteer_hours"]) for w in want],
          "--csv parses to the same counts (%s)" % rows[:2])
    check(all(x["year"] == str(Y) for x in rows) and
          rows[0]["attendance_rate"] == "0.75" and
          rows[1]["label"] in ("branch committee",), "--csv fields")
    r = ok_run(S + ["stats", "--year", str(Y), "--csv"], "stats --csv zh",
               lang="zh_CN.UTF-8")
    rows = list(csv.DictReader(io.StringIO(r.out, newline="")))
    check(rows[1]["label"] == "支委会", "--csv labels in Chinese, UTF-8")

    # Compliance tables: colours, marks, notes, both languages.
    r = ok_run(S + ["--color=never", "compliance", "--year", str(Y)],
               "compliance (English)")
    check("green (every period met so far)" in r.out and
          "red (missed: Q2)" in r.out, "compliance statuses (%r)" % r.out)
    check("✓⊘" in r.out and "✗" in r.out and "On public holidays: Sep (1)"
          in r.out, "compliance marks and holiday notes")
    r = ok_run(S + ["--color=never", "compliance", "--year", str(Y)],
               "compliance (Chinese)", lang="zh_CN.UTF-8")
    check("红色（未开展：第2季度）" in r.out and "绿色" in r.out and
          "节假日：9月（1次）" in r.out and "每季度" in r.out,
          "compliance in Chinese (%r)" % r.out)
    r = ok_run(S + ["--color=always", "compliance", "--year", str(Y)],
               "compliance --color=always")
    check("\033[1;31m" in r.out and "\033[1;32m" in r.out,
          "compliance statuses coloured red and green")
    # --db with a config: requirements from it.
    rq = os.path.join(tmp, "req.conf")
    dh.write(rq, "[requirement 党课]\nmeeting_type = lecture\n"
             "cadence = year\n")
    r = ok_run(["--db", db, "--json", "compliance", "--year", str(Y),
                "--config", rq], "compliance --db --config")
    q = json_of(r, "compliance").get("requirements", [])
    check([(x["name"], x["cadence"], x["status"]) for x in q] ==
          [("党课", "year", "green")],
          "compliance --db --config: the file's requirements (%s)" % q)
    completion_checks()


def completion_checks():
    """Bash completion knows the new commands and their options."""
    if shutil.which("bash") is None:
        print("# skip: bash completion (no bash)")
        return
    script = """. "%s/contrib/djcal.bash-completion"
t() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_djcal
	echo "$*: ${COMPREPLY[*]}"
}
t djcal att
t djcal c
t djcal stats --c
t djcal compliance --con
t djcal checkin --m
t djcal hours --y
""" % dh.TOP
    p = subprocess.run(["bash", "-c", script], capture_output=True,
                       timeout=dh.DEADLINE)
    out = p.stdout.decode()
    for want in ("djcal att: attendance", "djcal c: checkin compliance",
                 "stats --c: --csv --color", "--con: --config",
                 "checkin --m: --member", "hours --y: --year"):
        check(want in out, "completion: %s (%r)" % (want, out))


def chart_checks(out, what):
    """The table and the bar chart: aligned by display width."""
    lines = out.rstrip("\n").split("\n")
    bars = [ln for ln in lines if "█" in ln]
    check(len(bars) == 8, "%s: a bar per row (%d)" % (what, len(bars)))
    cols = {width(ln[:ln.index("█")]) for ln in bars}
    check(len(cols) == 1, "%s: the bars start in one column (%s)" %
          (what, cols))
    lens = [ln.count("█") for ln in bars]
    check(max(lens) <= 60 and lens[0] == max(lens) and min(lens) >= 1,
          "%s: bars scaled to the largest (%s)" % (what, lens))
    # The summary, a blank line, then the header and the 8 rows.
    table = lines[2:11]
    ends = {width(ln) for ln in table}
    check(len(ends) == 1, "%s: the table's lines end in one column (%s)" %
          (what, table))


def main():
    for f in (DJCAL, dh.DJCALD):
        if not os.access(f, os.X_OK):
            print("FAIL - %s is not built" % f)
            return 1
    if not os.path.exists(os.path.join(LOCALEDIR, "zh_CN", "LC_MESSAGES",
                                       "djcal.mo")):
        print("FAIL - no catalogue in %s (make po-build)" % LOCALEDIR)
        return 1
    tmp = tempfile.mkdtemp(prefix="djcal-branch-")
    try:
        scenario(tmp)
    except Fatal as e:
        dh.failures.append(str(e))
        print("FAIL - %s" % e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if dh.failures:
        print("%d check(s) failed" % len(dh.failures))
        return 1
    print("all branch checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
