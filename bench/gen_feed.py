#!/usr/bin/env python3
"""Write a deterministic iCalendar feed of Party-branch activities (djcal's
benchmark workload) to stdout.

`make bench` uses ../shared/bench/gen_feed.py when this tree sits next to it,
and this file otherwise.  It follows the same recipe, written for djcal, so
that the figures of either are comparable (not byte-identical):

  - one Asia/Shanghai VTIMEZONE; every timed value carries TZID=Asia/Shanghai
  - per UID: 10% VTODO with DUE (some all-day), 25% recurring VEVENT,
    65% single VEVENT (about 10% of them all-day)
  - recurring rules: FREQ=WEEKLY;BYDAY=.. (a quarter with INTERVAL=2),
    FREQ=MONTHLY;BYDAY=nXX, FREQ=MONTHLY;BYMONTHDAY=n; ended by COUNT, by
    UNTIL (UTC, the end of the local day) or never; 30% with EXDATEs (some
    in UTC), 12% with one or two RECURRENCE-ID overrides
  - 30% of the components with a VALARM (-PT30M, -P1D or both)
  - Chinese text with escaped , ; and newlines, folded at 75 octets without
    splitting a UTF-8 sequence

Only the standard library: any python3 runs it.

usage: gen_feed.py [--events N] [--seed S] [--start YYYY-MM-DD] [--stats]
"""
import argparse
import datetime
import random
import sys

ZONE = "Asia/Shanghai"
OFFSET = datetime.timedelta(hours=8)    # no DST in Shanghai since 1991
STAMP = "20261101T000000Z"
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

BRANCHES = ("机关第一党支部", "机关第二党支部", "泽当社区党支部", "昌珠镇党支部",
            "颇章乡党支部", "市人民医院党支部", "区税务局党支部", "中心小学党支部",
            "职业技术学校党支部", "离退休干部党支部")
PLACES = ("党群服务中心二楼会议室", "机关大院3号楼302室", "支部党员活动室",
          "线上会议（会议号：987 654 321）", "社区居委会, 一楼大厅",
          "镇政府; 第二会议室", "烈士陵园", "雅砻广场")
PEOPLE = ("王强", "李娜", "扎西", "卓玛", "张伟", "刘芳", "格桑", "陈静", "次仁", "赵磊")
TOPICS = ("党章学习", "党的二十大报告精神", "《中国共产党纪律处分条例》",
          "民族团结进步教育", "基层党建工作规范", "党史专题")
# (what, categories, start hours, minutes long, share of all-day)
KINDS = (
    ("集中学习：{t}", "学习教育,三会一课", (9, 10, 15, 19), (60, 90, 120), 0.0),
    ("主题党日：{t}", "主题党日", (9, 14), (120, 180), 0.3),
    ("志愿服务：社区环境整治", "志愿服务", (9, 14), (120, 180), 0.15),
    ("支部委员会会议", "三会一课,支委会", (8, 16), (60, 90), 0.0),
    ("支部党员大会", "三会一课,党员大会", (15, 19), (90, 120), 0.0),
    ("党小组会", "三会一课,党小组", (12, 18), (45, 60), 0.0),
    ("专题党课：{t}", "党课,学习教育", (9, 15), (90, 120), 0.0),
    ("标准化规范化建设推进会", "标准化建设", (10, 16), (60, 90), 0.1),
)
TASKS = ("三会一课记录台账", "党费收缴台账", "党员发展档案", "组织关系转接",
         "活动阵地建设", "换届选举材料")


def text(s):
    """Escape TEXT (RFC 5545 3.3.11)."""
    for a, b in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\n", "\\n")):
        s = s.replace(a, b)
    return s


def folded(line):
    """The content line folded at 75 octets, CRLF-terminated."""
    raw = line.encode("utf-8")
    parts = []
    while len(raw) > (75 if not parts else 74):
        cut = 75 if not parts else 74
        while raw[cut] & 0xC0 == 0x80:     # never inside a character
            cut -= 1
        parts.append(raw[:cut])
        raw = raw[cut:]
    parts.append(raw)
    return b"\r\n ".join(parts) + b"\r\n"


def local(dt):
    return dt.strftime("%Y%m%dT%H%M%S")


def utc(dt):
    return (dt - OFFSET).strftime("%Y%m%dT%H%M%SZ")


def date(d):
    return d.strftime("%Y%m%d")


def month_add(d, n):
    m = d.month - 1 + n
    return d.year + m // 12, m % 12 + 1


def nth_weekday(y, m, wd, n):
    if n > 0:
        first = datetime.date(y, m, 1)
        return first + datetime.timedelta(days=(wd - first.weekday()) % 7 + 7 * (n - 1))
    y2, m2 = (y + 1, 1) if m == 12 else (y, m + 1)
    last = datetime.date(y2, m2, 1) - datetime.timedelta(days=1)
    return last - datetime.timedelta(days=(last.weekday() - wd) % 7)


class Feed:
    def __init__(self, n, seed, start):
        self.n, self.seed, self.start = n, seed, start
        self.rnd = random.Random(seed * 7919 + 17)
        self.lines = []
        self.stats = dict(single=0, recurring=0, todo=0, allday=0, weekly=0,
                          monthly=0, count=0, until=0, infinite=0,
                          exdate=0, override=0, alarm=0)

    def put(self, line):
        self.lines.append(folded(line))

    def uid(self, i):
        return "%d-%07d@bench.djcal.example" % (self.seed, i)

    def about(self, kind):
        r = self.rnd
        what, cats, hours, lengths, allday = KINDS[kind]
        branch = r.choice(BRANCHES)
        return dict(summary=branch + what.format(t=r.choice(TOPICS)),
                    cats=cats, hour=r.choice(hours), minute=r.choice((0, 30)),
                    length=r.choice(lengths), allday=r.random() < allday,
                    branch=branch)

    def body(self, a):
        r = self.rnd
        host, clerk = r.sample(PEOPLE, 2)
        self.put("DTSTAMP:" + STAMP)
        self.put("SUMMARY:" + text(a["summary"]))
        self.put("LOCATION:" + text(r.choice(PLACES)))
        desc = "主办：%s\n主持人：%s; 记录人：%s\n请全体党员准时参加, 提前学习%s并撰写心得体会" % (
            a["branch"], host, clerk, r.choice(TOPICS))
        self.put("DESCRIPTION:" + text(desc))
        self.put("CATEGORIES:" + ",".join(text(c) for c in a["cats"].split(",")))
        if r.random() < 0.25:
            self.put("ORGANIZER;CN=%s书记:mailto:sj%03d@bench.djcal.example"
                     % (a["branch"], r.randrange(1000)))

    def alarm(self):
        r = self.rnd
        if r.random() >= 0.3:
            return
        for trig in r.choice((("-PT30M",), ("-PT30M",), ("-P1D",), ("-P1D", "-PT30M"))):
            self.stats["alarm"] += 1
            self.put("BEGIN:VALARM")
            self.put("ACTION:DISPLAY")
            self.put("TRIGGER:" + trig)
            self.put("DESCRIPTION:提醒")
            self.put("END:VALARM")

    def when(self, a, day):
        if a["allday"]:
            self.put("DTSTART;VALUE=DATE:" + date(day))
            self.put("DTEND;VALUE=DATE:" + date(day + datetime.timedelta(days=1)))
            return
        s = datetime.datetime(day.year, day.month, day.day, a["hour"], a["minute"])
        self.put("DTSTART;TZID=%s:%s" % (ZONE, local(s)))
        self.put("DTEND;TZID=%s:%s" % (ZONE, local(s + datetime.timedelta(minutes=a["length"]))))

    def single(self, i):
        r = self.rnd
        a = self.about(r.randrange(len(KINDS)))
        a["allday"] = a["allday"] or r.random() < 0.08
        self.stats["single"] += 1
        self.stats["allday"] += a["allday"]
        self.put("BEGIN:VEVENT")
        self.put("UID:" + self.uid(i))
        self.body(a)
        self.when(a, self.start + datetime.timedelta(days=r.randrange(-60, 420)))
        self.put("STATUS:CONFIRMED")
        self.alarm()
        self.put("END:VEVENT")

    def dates(self, rule, first, n):
        """The first n dates of one of our rules from first (an occurrence)."""
        kind, step, wd, nth, mday = rule
        out = []
        if kind == "weekly":
            while len(out) < n:
                out.append(first + datetime.timedelta(days=7 * step * len(out)))
            return out
        k = 0
        while len(out) < n:
            y, m = month_add(first, k)
            d = nth_weekday(y, m, wd, nth) if kind == "byday" else datetime.date(y, m, mday)
            if d >= first:
                out.append(d)
            k += 1
        return out

    def recurring(self, i):
        r = self.rnd
        a = self.about(r.randrange(len(KINDS)))
        a["allday"] = a["allday"] and r.random() < 0.5
        self.stats["recurring"] += 1
        anchor = self.start + datetime.timedelta(days=r.randrange(-300, 300))
        x = r.random()
        if x < 0.5:
            rule = ("weekly", 2 if r.random() < 0.25 else 1, r.randrange(7), 0, 0)
            first = anchor + datetime.timedelta(days=(rule[2] - anchor.weekday()) % 7)
            rrule = "FREQ=WEEKLY;%sBYDAY=%s" % ("INTERVAL=2;" if rule[1] == 2 else "", DAYS[rule[2]])
            self.stats["weekly"] += 1
        else:
            if x < 0.8:
                rule = ("byday", 1, r.randrange(5), r.choice((1, 1, 2, 3, -1)), 0)
                rrule = "FREQ=MONTHLY;BYDAY=%d%s" % (rule[3], DAYS[rule[2]])
            else:
                rule = ("bymonthday", 1, 0, 0, r.choice((1, 5, 10, 15, 20, 25, 28)))
                rrule = "FREQ=MONTHLY;BYMONTHDAY=%d" % rule[4]
            first = self.dates(rule, anchor.replace(day=1), 2)
            first = first[0] if first[0] >= anchor else first[1]
            self.stats["monthly"] += 1
        end = r.random()
        if end < 0.3:
            n = r.randrange(4, 53) if rule[0] == "weekly" else r.randrange(3, 13)
            rrule += ";COUNT=%d" % n
            self.stats["count"] += 1
        elif end < 0.6:
            n = r.randrange(3, 40)
            last = self.dates(rule, first, n)[-1]
            if a["allday"]:
                rrule += ";UNTIL=" + date(last)
            else:
                rrule += ";UNTIL=" + utc(datetime.datetime(last.year, last.month, last.day, 23, 59, 59))
            self.stats["until"] += 1
        else:
            n = 60
            self.stats["infinite"] += 1
        occ = self.dates(rule, first, n)

        def at(d):
            return datetime.datetime(d.year, d.month, d.day, a["hour"], a["minute"])

        near = occ[1:25]
        ex = sorted(r.sample(near, min(len(near), r.randrange(1, 4)))) \
            if len(near) > 2 and r.random() < 0.3 else []
        free = [d for d in near if d not in ex]
        moved = sorted(r.sample(free, min(len(free), r.randrange(1, 3)))) \
            if free and r.random() < 0.12 else []

        self.put("BEGIN:VEVENT")
        self.put("UID:" + self.uid(i))
        self.body(a)
        self.when(a, first)
        self.put("RRULE:" + rrule)
        self.stats["exdate"] += len(ex)
        if ex and a["allday"]:
            self.put("EXDATE;VALUE=DATE:" + ",".join(date(d) for d in ex))
        elif ex and r.random() < 0.2:
            self.put("EXDATE:" + ",".join(utc(at(d)) for d in ex))
        else:
            for d in ex:
                self.put("EXDATE;TZID=%s:%s" % (ZONE, local(at(d))))
        self.put("STATUS:CONFIRMED")
        self.alarm()
        self.put("END:VEVENT")
        for d in moved:
            self.stats["override"] += 1
            self.put("BEGIN:VEVENT")
            self.put("UID:" + self.uid(i))
            self.put("DTSTAMP:" + STAMP)
            self.put("SEQUENCE:1")
            self.put("SUMMARY:" + text(a["summary"] + "（改期）"))
            self.put("LOCATION:" + text(r.choice(PLACES)))
            if a["allday"]:
                self.put("RECURRENCE-ID;VALUE=DATE:" + date(d))
            else:
                self.put("RECURRENCE-ID;TZID=%s:%s" % (ZONE, local(at(d))))
            self.when(a, d + datetime.timedelta(days=1))
            self.put("STATUS:CONFIRMED")
            self.put("END:VEVENT")

    def todo(self, i):
        r = self.rnd
        self.stats["todo"] += 1
        branch = r.choice(BRANCHES)
        item = r.choice(TASKS)
        due = self.start + datetime.timedelta(days=r.randrange(-30, 400))
        self.put("BEGIN:VTODO")
        self.put("UID:" + self.uid(i))
        self.put("DTSTAMP:" + STAMP)
        self.put("SUMMARY:" + text("标准化规范化建设自查：%s（%s）" % (item, branch)))
        self.put("DESCRIPTION:" + text("对照《党支部工作条例》逐项自查, 形成问题清单; 整改材料报上级党委。"))
        self.put("CATEGORIES:标准化建设,自查")
        if r.random() < 0.3:
            self.put("DUE;VALUE=DATE:" + date(due))
        else:
            self.put("DUE;TZID=%s:%s" % (ZONE, local(datetime.datetime(due.year, due.month, due.day, 18))))
        self.put("PRIORITY:%d" % r.choice((1, 5, 9)))
        s = r.random()
        if s < 0.2:
            self.put("STATUS:COMPLETED")
            self.put("COMPLETED:20261020T080000Z")
        else:
            self.put("STATUS:" + ("IN-PROCESS" if s < 0.5 else "NEEDS-ACTION"))
        self.alarm()
        self.put("END:VTODO")

    def write(self, out):
        for line in ("BEGIN:VCALENDAR", "VERSION:2.0",
                     "PRODID:-//djcal//bench gen_feed//ZH", "CALSCALE:GREGORIAN",
                     "X-WR-CALNAME:" + text("党支部活动日历"), "X-WR-TIMEZONE:" + ZONE,
                     "BEGIN:VTIMEZONE", "TZID:" + ZONE, "BEGIN:STANDARD",
                     "DTSTART:19700101T000000", "TZOFFSETFROM:+0800",
                     "TZOFFSETTO:+0800", "TZNAME:CST", "END:STANDARD", "END:VTIMEZONE"):
            self.put(line)
        for i in range(self.n):
            x = self.rnd.random()
            if x < 0.1:
                self.todo(i)
            elif x < 0.35:
                self.recurring(i)
            else:
                self.single(i)
            if len(self.lines) > 10000:
                out.write(b"".join(self.lines))
                self.lines = []
        self.put("END:VCALENDAR")
        out.write(b"".join(self.lines))
        self.lines = []


def main():
    ap = argparse.ArgumentParser(description="djcal benchmark feed generator")
    ap.add_argument("--events", type=int, default=1000, help="UIDs (default 1000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--start", default="2026-01-01", help="reference day, YYYY-MM-DD")
    ap.add_argument("--stats", action="store_true", help="counts to stderr")
    a = ap.parse_args()
    f = Feed(a.events, a.seed, datetime.date.fromisoformat(a.start))
    f.write(sys.stdout.buffer)
    sys.stdout.buffer.flush()
    if a.stats:
        print(" ".join("%s=%d" % kv for kv in f.stats.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
