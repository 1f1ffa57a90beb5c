#!/usr/bin/env python3
"""Write the example feeds in examples/ (the ones `make run` serves).

The feeds are those of a Party branch of a city People's Congress standing
committee office (市人大常委会机关党支部), 2026 and 2027:

  study.ics            三会一课 and 理论学习 (theory study)
  party-day.ics        主题党日, the monthly themed Party day
  volunteer.ics        志愿服务, 结对帮扶, 入户宣传 in the branch's communities
  standardization.ics  支部标准化规范化建设 tasks (VTODO), 八星党支部 criteria
  holidays.ics         public holidays (2026 official, 2027 estimated)

The output is deterministic (no clock, no randomness): run

    python3 scripts/gen-examples.py [--check] [OUTDIR]

and commit the result.  --check also parses each file with python3-icalendar
and expands it over 2026-2027 with python3-recurring-ical-events.

Files are RFC 5545: UTF-8 without a BOM, CRLF line ends, content lines
folded at 75 octets without splitting a UTF-8 character, TEXT values
escaped, and an Asia/Shanghai VTIMEZONE in every calendar.

The dates are checked as they are written: every "first Tuesday" below
really is one (see the assertions), so a typo fails here, not in a demo.
Standard library only (apart from --check).
"""

import datetime as dt
import os
import sys

TZID = "Asia/Shanghai"
DOMAIN = "rd.example.gov.cn"
PRODID = "-//djcal//examples 1.0//ZH"
BRANCH = "市人大常委会机关党支部"
ORGANIZER = 'ORGANIZER;CN=%s:mailto:djzb@%s' % (BRANCH, DOMAIN)
# Every UNTIL is the end of 2027 in Shanghai, written in UTC as RFC 5545
# 3.3.10 requires when DTSTART has a TZID.
UNTIL = "20271231T155959Z"

D = dt.date


# --- Writing content lines ---------------------------------------------

def fold(line):
    """Fold one content line at 75 octets (RFC 5545 3.1), never inside a
    UTF-8 sequence.  The leading space of a continuation line counts."""
    out = []
    cur = b""
    limit = 75
    for ch in line:
        b = ch.encode("utf-8")
        if len(cur) + len(b) > limit:
            out.append(cur)
            cur = b" "
        cur += b
    out.append(cur)
    return b"\r\n".join(out) + b"\r\n"


def text(s):
    """Escape a TEXT value (RFC 5545 3.3.11)."""
    return (s.replace("\\", "\\\\").replace(";", "\\;")
            .replace(",", "\\,").replace("\n", "\\n"))


def stamp(d, h=8, m=0):
    """A UTC date-time: DTSTAMP, LAST-MODIFIED, COMPLETED."""
    return "%04d%02d%02dT%02d%02d00Z" % (d.year, d.month, d.day, h, m)


def local(d, hm):
    """A Shanghai wall-clock time, hm = "HHMM"."""
    return "%04d%02d%02dT%s00" % (d.year, d.month, d.day, hm)


def date(d):
    return "%04d%02d%02d" % (d.year, d.month, d.day)


def uid(d, tag):
    return "%s-%s@%s" % (date(d), tag, DOMAIN)


def vtimezone():
    # China has kept UTC+8 without daylight time since 1991; one STANDARD
    # block is the whole truth for any date a feed can hold.
    return [
        "BEGIN:VTIMEZONE",
        "TZID:" + TZID,
        "X-LIC-LOCATION:" + TZID,
        "BEGIN:STANDARD",
        "TZOFFSETFROM:+0800",
        "TZOFFSETTO:+0800",
        "TZNAME:CST",
        "DTSTART:19700101T000000",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]


def calendar(name, desc, comps, tz=True):
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:" + PRODID,
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:" + text(name),
        "X-WR-CALDESC:" + text(desc),
        "X-WR-TIMEZONE:" + TZID,
    ]
    if tz:
        lines += vtimezone()
    for c in comps:
        lines += c
    lines.append("END:VCALENDAR")
    return b"".join(fold(l) for l in lines)


def alarm(trigger, what):
    return [
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "TRIGGER:" + trigger,
        "DESCRIPTION:" + text(what),
        "END:VALARM",
    ]


def vevent(uid_, summary, start, end=None, *, all_day=False, hm=None,
           rrule=None, rdates=(), exdates=(), rid=None, rid_hm=None,
           rid_all_day=False, categories=(), location=None,
           description=None, status=None, sequence=0, dtstamp=None,
           alarms=(), transp=None, organizer=True, comment=None):
    """One VEVENT.  start/end are dates; hm = ("HHMM", "HHMM") for timed
    events, all_day for date events (end exclusive, default start + 1)."""
    c = ["BEGIN:VEVENT", "UID:" + uid_,
         "DTSTAMP:" + (dtstamp or stamp(D(2026, 1, 5)))]
    if rid is not None:
        if rid_all_day:
            c.append("RECURRENCE-ID;VALUE=DATE:" + date(rid))
        else:
            c.append("RECURRENCE-ID;TZID=%s:%s" % (TZID, local(rid, rid_hm)))
    if all_day:
        c.append("DTSTART;VALUE=DATE:" + date(start))
        c.append("DTEND;VALUE=DATE:" +
                 date(end or start + dt.timedelta(days=1)))
    else:
        c.append("DTSTART;TZID=%s:%s" % (TZID, local(start, hm[0])))
        c.append("DTEND;TZID=%s:%s" % (TZID, local(end or start, hm[1])))
    if rrule:
        c.append("RRULE:" + rrule)
    for d in rdates:
        if all_day:
            c.append("RDATE;VALUE=DATE:" + date(d))
        else:
            c.append("RDATE;TZID=%s:%s" % (TZID, local(d, hm[0])))
    for d in exdates:
        c.append("EXDATE;TZID=%s:%s" % (TZID, local(d, hm[0])))
    c.append("SUMMARY:" + text(summary))
    if categories:
        c.append("CATEGORIES:" + ",".join(text(x) for x in categories))
    if location:
        c.append("LOCATION:" + text(location))
    if description:
        c.append("DESCRIPTION:" + text(description))
    if comment:
        c.append("COMMENT:" + text(comment))
    if organizer:
        c.append(ORGANIZER)
    c.append("STATUS:" + (status or "CONFIRMED"))
    c.append("SEQUENCE:%d" % sequence)
    if transp:
        c.append("TRANSP:" + transp)
    for a in alarms:
        c += a
    c.append("END:VEVENT")
    return c


def vtodo(uid_, summary, criterion, detail, *, due, due_hm=None,
          start=None, priority, status, percent=None, completed=None,
          dtstamp=None, sequence=0):
    """One standardization task.  due_hm None makes an all-day DUE."""
    c = ["BEGIN:VTODO", "UID:" + uid_,
         "DTSTAMP:" + (dtstamp or stamp(D(2026, 1, 5)))]
    if start is not None:
        if due_hm is None:
            c.append("DTSTART;VALUE=DATE:" + date(start))
        else:
            c.append("DTSTART;TZID=%s:%s" % (TZID, local(start, "0900")))
    if due_hm is None:
        c.append("DUE;VALUE=DATE:" + date(due))
    else:
        c.append("DUE;TZID=%s:%s" % (TZID, local(due, due_hm)))
    c.append("SUMMARY:" + text(summary))
    c.append("CATEGORIES:" + ",".join(
        text(x) for x in ("支部标准化规范化建设", "八星党支部", criterion)))
    c.append("DESCRIPTION:" + text("考核标准：%s。\n%s" % (criterion, detail)))
    c.append(ORGANIZER)
    c.append("PRIORITY:%d" % priority)
    c.append("STATUS:" + status)
    if percent is not None:
        c.append("PERCENT-COMPLETE:%d" % percent)
    if completed is not None:
        c.append("COMPLETED:" + completed)
    c.append("SEQUENCE:%d" % sequence)
    if status not in ("COMPLETED", "CANCELLED"):
        c += alarm("-P1D", "明天到期：" + summary)
    c.append("END:VTODO")
    return c


# --- Date helpers with checks ------------------------------------------

WD = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def nth(year, month, n, wd):
    """The n-th (1..5, or -1 for last) weekday wd of a month."""
    w = WD[wd]
    if n > 0:
        d = D(year, month, 1)
        d += dt.timedelta(days=(w - d.weekday()) % 7 + 7 * (n - 1))
    else:
        nm = D(year + month // 12, month % 12 + 1, 1)
        d = nm - dt.timedelta(days=1)
        d -= dt.timedelta(days=(d.weekday() - w) % 7)
    assert d.month == month
    return d


def check(d, wd):
    assert d.weekday() == WD[wd], "%s is not a %s" % (d, wd)
    return d


def workday(d):
    assert d.weekday() < 5, "%s is a weekend day" % d
    return d


# Official 2026 public holidays (State Council notice), used to keep
# meetings off them.
HOLIDAYS_2026 = [
    ("元旦", D(2026, 1, 1), D(2026, 1, 3)),
    ("春节", D(2026, 2, 15), D(2026, 2, 23)),
    ("清明节", D(2026, 4, 4), D(2026, 4, 6)),
    ("劳动节", D(2026, 5, 1), D(2026, 5, 5)),
    ("端午节", D(2026, 6, 19), D(2026, 6, 21)),
    ("中秋节", D(2026, 9, 25), D(2026, 9, 27)),
    ("国庆节", D(2026, 10, 1), D(2026, 10, 7)),
]
# 2027: the State Council publishes the dates late in 2026.  These are
# estimates from the lunar calendar (除夕 2027-02-05, 清明 04-05, 端午
# 06-09, 中秋 09-15) and the usual pattern; the feed says so.
HOLIDAYS_2027 = [
    ("元旦", D(2027, 1, 1), D(2027, 1, 3)),
    ("春节", D(2027, 2, 5), D(2027, 2, 12)),
    ("清明节", D(2027, 4, 3), D(2027, 4, 5)),
    ("劳动节", D(2027, 5, 1), D(2027, 5, 5)),
    ("端午节", D(2027, 6, 9), D(2027, 6, 9)),
    ("中秋节", D(2027, 9, 15), D(2027, 9, 15)),
    ("国庆节", D(2027, 10, 1), D(2027, 10, 7)),
]


def in_holiday(d):
    return any(a <= d <= b for _, a, b in HOLIDAYS_2026 + HOLIDAYS_2027)


# --- study.ics: 三会一课 and 理论学习 -----------------------------------

def study():
    comps = []
    lead1h = alarm("-PT1H", "一小时后开会")
    lead1d = alarm("-P1D", "明天开会，请提前准备")

    # 支委会: first Tuesday, 15:00-16:30.  May's falls in the 劳动节
    # holiday: excluded and held on 5-12 instead (EXDATE + RDATE).  October's
    # falls in 国庆 both years: moved a week on by overrides.
    d0 = check(nth(2026, 1, 1, "TU"), "TU")
    zwh = uid(d0, "zwh")
    may = nth(2026, 5, 1, "TU")
    assert in_holiday(may)
    comps.append(vevent(
        zwh, "支委会", d0, hm=("1500", "1630"),
        rrule="FREQ=MONTHLY;BYDAY=1TU;UNTIL=" + UNTIL,
        rdates=[check(D(2026, 5, 12), "TU")], exdates=[may],
        categories=["三会一课", "支委会"],
        location="机关办公楼三楼会议室",
        description="支部委员会会议：研究支部月度工作、党员教育管理和"
        "发展党员事项，审议主题党日和志愿服务安排。\n"
        "参加人员：支部委员；各党小组组长列席。\n"
        "每月第一个星期二召开；2026年5月因劳动节假期改在5月12日。",
        sequence=1, dtstamp=stamp(D(2026, 4, 20)),
        alarms=[lead1d, lead1h]))
    for y in (2026, 2027):
        oct1 = nth(y, 10, 1, "TU")
        assert in_holiday(oct1)
        comps.append(vevent(
            zwh, "支委会", oct1 + dt.timedelta(days=7), hm=("1500", "1630"),
            rid=oct1, rid_hm="1500",
            categories=["三会一课", "支委会"],
            location="机关办公楼三楼会议室",
            description="支部委员会会议。本月第一个星期二在国庆假期内，"
            "顺延一周召开。",
            sequence=1, dtstamp=stamp(D(y, 9, 20)),
            alarms=[lead1d, lead1h]))
    dec = check(nth(2026, 12, 1, "TU"), "TU")
    comps.append(vevent(
        zwh, "支委会：研究年度组织生活会和民主评议党员工作", dec,
        hm=("1500", "1700"), rid=dec, rid_hm="1500",
        categories=["三会一课", "支委会"],
        location="机关办公楼三楼会议室",
        description="议题：1. 审议年度组织生活会方案和会前学习安排；"
        "2. 研究民主评议党员工作；3. 听取年度党费收缴情况汇报。\n"
        "会议延长半小时，至17:00。",
        sequence=1, dtstamp=stamp(D(2026, 11, 20)),
        alarms=[lead1d, lead1h]))

    # 支部党员大会: quarterly, last Thursday of the quarter's last month.
    # December 2026's (the 31st) moves to the 24th for the annual 组织生活会.
    d0 = check(nth(2026, 3, -1, "TH"), "TH")
    dydh = uid(d0, "dydh")
    comps.append(vevent(
        dydh, "支部党员大会", d0, hm=("0900", "1130"),
        rrule="FREQ=MONTHLY;INTERVAL=3;BYDAY=-1TH;UNTIL=" + UNTIL,
        categories=["三会一课", "党员大会"],
        location="机关办公楼二楼大会议室",
        description="全体党员参加。通报支部季度工作，传达学习上级精神，"
        "讨论决定支部重要事项；按程序讨论发展党员、预备党员转正。\n"
        "请党员提前安排工作，因故不能参加的向支部书记请假。",
        dtstamp=stamp(D(2026, 1, 5)), alarms=[lead1d, lead1h]))
    last = nth(2026, 12, -1, "TH")
    comps.append(vevent(
        dydh, "支部党员大会：年度组织生活会暨民主评议党员",
        last - dt.timedelta(days=7), hm=("0900", "1200"),
        rid=last, rid_hm="0900",
        categories=["三会一课", "党员大会"],
        location="机关办公楼二楼大会议室",
        description="年度组织生活会：支部班子对照检查，党员逐一开展批评和"
        "自我批评，民主评议党员。\n原定12月31日，提前一周召开。",
        sequence=1, dtstamp=stamp(D(2026, 11, 25)),
        alarms=[lead1d, lead1h]))

    # 党小组会: two groups, monthly.  February 2026's fall in 春节: moved.
    for n, (tag, wd, room, leader) in enumerate([
            ("xz1", "WE", "机关办公楼四楼小会议室", "第一党小组"),
            ("xz2", "TH", "机关办公楼五楼研究室会议室", "第二党小组")]):
        d0 = nth(2026, 1, 3, wd)
        u = uid(d0, tag)
        desc = ("%s组织生活：学习交流、谈心谈话、收集党员意见建议。"
                "每月第三个星期%s下午召开。" % (leader, "三四"[n]))
        comps.append(vevent(
            u, "%s党小组会" % leader[:-3], d0, hm=("1600", "1700"),
            rrule="FREQ=MONTHLY;BYDAY=3%s;UNTIL=%s" % (wd, UNTIL),
            categories=["三会一课", "党小组会"], location=room,
            description=desc, dtstamp=stamp(D(2026, 1, 5)),
            alarms=[lead1h]))
        feb = nth(2026, 2, 3, wd)
        assert in_holiday(feb)
        comps.append(vevent(
            u, "%s党小组会" % leader[:-3], feb + dt.timedelta(days=7),
            hm=("1600", "1700"), rid=feb, rid_hm="1600",
            categories=["三会一课", "党小组会"], location=room,
            description=desc + "\n本月因春节假期顺延一周。",
            sequence=1, dtstamp=stamp(D(2026, 2, 3)), alarms=[lead1h]))

    # 党课: once a quarter, each with its own topic and speaker.
    lectures = [
        (D(2026, 3, 19), "专题党课：深入学习贯彻党的二十届四中全会精神",
         "支部书记"),
        (D(2026, 6, 30), "“七一”专题党课：坚定理想信念 传承红色基因",
         "机关党委书记"),
        (D(2026, 9, 17), "党课：坚持好、完善好、运行好人民代表大会制度",
         "支部书记"),
        (D(2026, 12, 17), "党课：锲而不舍落实中央八项规定精神 持续深化作风建设",
         "支部纪检委员"),
        (D(2027, 3, 18), "党课：做好新时代人大机关党建工作", "支部书记"),
        (D(2027, 6, 30), "“七一”专题党课：弘扬伟大建党精神", "机关党委书记"),
        (D(2027, 9, 16), "党课：践行全过程人民民主", "支部副书记"),
        (D(2027, 12, 16), "党课：严守政治纪律和政治规矩", "支部纪检委员"),
    ]
    for d, summary, speaker in lectures:
        workday(d)
        assert not in_holiday(d)
        comps.append(vevent(
            uid(d, "dk"), summary, d, hm=("1430", "1630"),
            categories=["三会一课", "党课"],
            location="机关办公楼二楼大会议室",
            description="主讲：%s。全体党员参加，入党积极分子列席。"
            "会后各党小组交流学习体会。" % speaker,
            dtstamp=stamp(d - dt.timedelta(days=30)),
            alarms=[lead1d, lead1h]))

    # 集中学习: every other Friday morning, 52 sessions (to 2027-12-24).
    # Two fall in holidays and are excluded; one is cancelled; one has a
    # set text.
    d0 = check(D(2026, 1, 9), "FR")
    jz = uid(d0, "jzxx")
    ex = [check(D(2026, 2, 20), "FR"), check(D(2026, 10, 2), "FR")]
    for d in ex:
        assert in_holiday(d) and (d - d0).days % 14 == 0
    comps.append(vevent(
        jz, "理论学习：集中学习", d0, hm=("0900", "1100"),
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;COUNT=52", exdates=ex,
        categories=["理论学习"], location="机关办公楼三楼会议室",
        description="隔周星期五上午集中学习：原原本本学习党的创新理论、"
        "党章党规党纪和人大工作相关法律法规，轮流领学、交流研讨。\n"
        "遇法定节假日不安排。",
        dtstamp=stamp(D(2026, 1, 5)), alarms=[lead1h]))
    d = check(D(2026, 12, 11), "FR")
    assert (d - d0).days % 14 == 0
    comps.append(vevent(
        jz, "理论学习：学习《中国共产党纪律处分条例》", d,
        hm=("0900", "1100"), rid=d, rid_hm="0900",
        categories=["理论学习"], location="机关办公楼三楼会议室",
        description="领学：支部纪检委员。逐章学习，结合机关典型案例交流"
        "讨论；每名党员撰写一篇学习体会。",
        sequence=1, dtstamp=stamp(D(2026, 11, 27)), alarms=[lead1h]))
    d = check(D(2026, 12, 25), "FR")
    assert (d - d0).days % 14 == 0
    comps.append(vevent(
        jz, "理论学习：集中学习（取消）", d, hm=("0900", "1100"),
        rid=d, rid_hm="0900", status="CANCELLED",
        categories=["理论学习"], location="机关办公楼三楼会议室",
        description="因与常委会会议服务保障工作冲突，本次集中学习取消，"
        "学习内容并入下次集中学习。",
        sequence=1, dtstamp=stamp(D(2026, 11, 27))))

    return calendar("机关党支部·三会一课与理论学习",
                    BRANCH + "：支委会、党员大会、党小组会、党课和集中学习。",
                    comps)


# --- party-day.ics: 主题党日 ----------------------------------------------

def party_day():
    comps = []
    d0 = check(nth(2026, 1, -1, "FR"), "FR")
    u = uid(d0, "ztdr")
    base_desc = ("每月最后一个星期五下午为支部主题党日，全体党员参加。"
                 "固定内容：集中学习、交纳党费、重温入党誓词或组织生活，"
                 "另有当月主题活动。")
    lead = [alarm("-P1D", "明天下午主题党日"), alarm("-PT1H", "一小时后主题党日")]
    comps.append(vevent(
        u, "主题党日", d0, hm=("1430", "1700"),
        rrule="FREQ=MONTHLY;BYDAY=-1FR;UNTIL=" + UNTIL,
        categories=["主题党日"], location="机关党员活动室",
        description=base_desc, dtstamp=stamp(D(2026, 1, 5)), alarms=lead))

    # (instance, new date or None, all-day, summary, location, detail, stamp)
    themes = [
        (d0, None, False, "主题党日：学习贯彻党的二十届四中全会精神", None,
         "原原本本学习全会公报和《建议》，党员代表交流发言。",
         D(2026, 1, 20)),
        (nth(2026, 3, -1, "FR"), None, False,
         "主题党日：学习贯彻全国两会精神", None,
         "学习政府工作报告和全国人大常委会工作报告，结合机关工作谈体会。",
         D(2026, 3, 16)),
        (nth(2026, 4, -1, "FR"), check(D(2026, 4, 3), "FR"), False,
         "主题党日：清明祭英烈 缅怀革命先烈", "市烈士陵园",
         "敬献花篮、重温入党誓词。清明节前提前到4月3日举行，"
         "13:30在机关大院集合乘车。", D(2026, 3, 20)),
        (nth(2026, 6, -1, "FR"), None, True,
         "“七一”主题党日：参观红色教育基地 重温入党誓词", "市革命历史纪念馆",
         "全天现场教学：参观红色教育基地，在党旗下重温入党誓词，"
         "为“光荣在党50年”老党员送纪念章。8:00在机关大院集合。",
         D(2026, 6, 10)),
        (nth(2026, 9, -1, "FR"), check(D(2026, 9, 18), "FR"), False,
         "主题党日：铭记历史 勿忘国耻", None,
         "“九一八”纪念日主题教育，观看历史文献片。月末为中秋假期，"
         "提前到9月18日。", D(2026, 9, 1)),
        (nth(2026, 11, -1, "FR"), None, False,
         "主题党日：观看警示教育片 以案为鉴", None,
         "观看警示教育片，结合身边案例开展讨论，签订廉洁承诺书。",
         D(2026, 11, 16)),
        (nth(2026, 12, -1, "FR"), check(D(2026, 12, 4), "FR"), False,
         "主题党日：“12·4”国家宪法日 学习宣传宪法", None,
         "集体学习宪法，开展宪法宣誓；会后到结对社区开展宪法宣传。"
         "提前到国家宪法日举行。", D(2026, 11, 20)),
        (nth(2027, 3, -1, "FR"), None, False,
         "主题党日：学习贯彻全国两会精神", None,
         "学习政府工作报告和全国人大常委会工作报告。", D(2027, 3, 15)),
        (nth(2027, 6, -1, "FR"), None, False,
         "“七一”主题党日：重温入党誓词 集体过政治生日", None,
         "全体党员重温入党誓词，为本季度入党的党员过政治生日，"
         "评选表彰优秀共产党员。", D(2027, 6, 10)),
    ]
    for rid, moved, all_day, summary, loc, detail, st in themes:
        check(rid, "FR")
        day = moved or rid
        if moved:
            assert moved.month == rid.month and not in_holiday(moved)
        if all_day:
            comps.append(vevent(
                u, summary, day, all_day=True, rid=rid, rid_hm="1430",
                categories=["主题党日"], location=loc or "机关党员活动室",
                description=detail, sequence=1, dtstamp=stamp(st),
                alarms=[alarm("-PT16H", "明天全天主题党日，8:00集合")]))
        else:
            comps.append(vevent(
                u, summary, day, hm=("1430", "1700"), rid=rid,
                rid_hm="1430", categories=["主题党日"],
                location=loc or "机关党员活动室", description=detail,
                sequence=1 if moved else 0, dtstamp=stamp(st),
                alarms=lead))
    return calendar("机关党支部·主题党日",
                    BRANCH + "：每月最后一个星期五下午的主题党日活动。",
                    comps)


# --- volunteer.ics: 志愿服务, 结对帮扶, 入户宣传 -------------------------------

def volunteer():
    comps = []
    xfl = "东城街道幸福里社区党群服务中心"
    hpj = "东城街道和平街社区"
    gm = "西湖街道光明社区"

    # 在职党员进社区: second Saturday morning, every month.
    d0 = check(nth(2026, 1, 2, "SA"), "SA")
    comps.append(vevent(
        uid(d0, "sqfw"), "志愿服务：在职党员进社区（幸福里社区）", d0,
        hm=("0900", "1130"),
        rrule="FREQ=MONTHLY;BYDAY=2SA;UNTIL=" + UNTIL,
        categories=["志愿服务"], location=xfl,
        description="在职党员到幸福里社区报到服务：环境整治、文明劝导、"
        "关爱“一老一小”，听取居民对人大工作的意见建议。\n"
        "请穿志愿者马甲，8:45在社区党群服务中心签到。",
        dtstamp=stamp(D(2026, 1, 5)), alarms=[alarm("-P1D", "明早社区志愿服务")]))

    # 结对帮扶: visits before festivals, on irregular dates: one all-day
    # series with RDATEs.
    visits = [D(2026, 6, 16), D(2026, 9, 22), D(2026, 12, 29),
              D(2027, 1, 28), D(2027, 6, 4), D(2027, 9, 10),
              D(2027, 12, 28)]
    d0 = workday(D(2026, 2, 10))
    for d in visits:
        workday(d)
        assert not in_holiday(d)
    comps.append(vevent(
        uid(d0, "jdbf"), "结对帮扶：走访慰问光明社区困难党员和群众", d0,
        all_day=True, rdates=visits, categories=["结对帮扶"], location=gm,
        description="节前走访结对帮扶对象：困难党员、老党员和困难群众，"
        "送去慰问品，了解实际困难并协调解决。\n"
        "具体时间由支部宣传委员当天上午通知。",
        dtstamp=stamp(D(2026, 1, 20)),
        alarms=[alarm("-P1D", "明天结对帮扶走访")]))

    # 学雷锋志愿服务日, all day, both years.
    for d in (D(2026, 3, 5), D(2027, 3, 5)):
        workday(d)
        comps.append(vevent(
            uid(d, "xlf"), "学雷锋志愿服务日：和平街社区便民服务", d,
            all_day=True, categories=["志愿服务"], location=hpj,
            description="与和平街社区联合开展便民服务：义诊、法律咨询、"
            "家电维修、政策宣讲。支部党员分两批参加。",
            dtstamp=stamp(d - dt.timedelta(days=20))))

    # One that falls in a holiday on purpose: a holidays feed marks it.
    d = D(2026, 10, 3)
    assert in_holiday(d)
    comps.append(vevent(
        uid(d, "gqzy"), "志愿服务：国庆假期文明旅游劝导", d,
        hm=("0900", "1200"), categories=["志愿服务"],
        location="东城街道幸福里社区（古城景区入口）",
        description="国庆假期在景区入口开展文明旅游劝导和游客咨询。"
        "自愿报名，请在支部群接龙。",
        dtstamp=stamp(D(2026, 9, 15)),
        alarms=[alarm("-P1D", "明早国庆志愿服务")]))

    # 入户宣传.
    props = [
        (check(D(2026, 12, 5), "SA"), "入户宣传：宪法进社区 进家庭", xfl,
         "国家宪法日前后到幸福里社区入户发放宪法读本，讲解宪法知识。"),
        (check(D(2027, 4, 10), "SA"), "入户宣传：基层人大代表选举法律知识宣传", hpj,
         "宣传选举法和代表法，动员选民依法参加选民登记。"),
        (check(D(2027, 9, 11), "SA"), "入户宣传：反诈防骗和国家安全知识", gm,
         "入户发放宣传资料，帮助老年居民安装反诈软件。"),
    ]
    for d, summary, loc, desc in props:
        comps.append(vevent(
            uid(d, "rhxc"), summary, d, hm=("0900", "1130"),
            categories=["入户宣传"], location=loc, description=desc,
            dtstamp=stamp(d - dt.timedelta(days=14)),
            alarms=[alarm("-P1D", "明早入户宣传")]))

    return calendar("机关党支部·志愿服务",
                    BRANCH + "：在职党员进社区、结对帮扶和入户宣传。",
                    comps)


# --- standardization.ics: 支部标准化规范化建设 (VTODO) --------------------

def standardization():
    zssz = "组织设置标准化"
    zzsh = "组织生活规范化"
    dygl = "党员管理规范化"
    zdjs = "阵地建设标准化"
    zdls = "制度落实规范化"
    comps = []

    def t(d, tag, *a, **k):
        comps.append(vtodo(uid(d, tag), *a, **k))

    t(D(2026, 1, 6), "bzh-dfzc", "完成2025年度党费收缴情况自查", dygl,
      "核对每名党员的缴费基数和缴纳记录，形成自查报告报机关党委。",
      due=D(2026, 1, 30), due_hm="1700", start=D(2026, 1, 6), priority=2,
      status="COMPLETED", percent=100, completed=stamp(D(2026, 1, 28), 7, 30),
      dtstamp=stamp(D(2026, 1, 28), 7, 30), sequence=1)
    t(D(2026, 2, 2), "bzh-hjxj", "完成支部委员会换届选举并报机关党委批复", zssz,
      "按期换届：召开党员大会选举新一届支部委员会，材料归档。",
      due=D(2026, 3, 31), due_hm="1700", start=D(2026, 2, 2), priority=1,
      status="COMPLETED", percent=100, completed=stamp(D(2026, 3, 25), 9),
      dtstamp=stamp(D(2026, 3, 25), 9), sequence=2)
    t(D(2026, 4, 1), "bzh-hdsz", "更新党员活动室制度上墙和党务公开栏", zdjs,
      "党员活动室做到有场所、有设施、有标志、有党旗、有书报、有制度。",
      due=D(2026, 6, 30), due_hm="1700", priority=3, status="COMPLETED",
      percent=100, completed=stamp(D(2026, 6, 18), 6),
      dtstamp=stamp(D(2026, 6, 18), 6), sequence=1)
    t(D(2026, 7, 1), "bzh-jlgd", "整理第三季度“三会一课”会议记录并归档", zdls,
      "记录本、签到表、照片按月整理，季度末前交机关党委审核。"
      "已整理7、8月，9月记录待补。",
      due=D(2026, 9, 30), due_hm="1700", start=D(2026, 7, 1), priority=2,
      status="IN-PROCESS", percent=60, dtstamp=stamp(D(2026, 9, 28)),
      sequence=1)
    t(D(2026, 11, 2), "bzh-xxxt", "全国党员管理信息系统数据核查更新", dygl,
      "逐人核对党员基本信息、组织关系和党费数据，确保系统信息与档案一致。",
      due=D(2026, 11, 20), due_hm="1700", priority=1, status="NEEDS-ACTION",
      dtstamp=stamp(D(2026, 11, 2)))
    t(D(2026, 11, 16), "bzh-zzshfa", "制定年度组织生活会和民主评议党员工作方案",
      zzsh, "方案报机关党委审核，明确会前学习、谈心谈话、征求意见各环节。",
      due=D(2026, 12, 15), due_hm=None, priority=1,
      status="NEEDS-ACTION", dtstamp=stamp(D(2026, 11, 16)))
    t(D(2026, 11, 20), "bzh-bxzp", "对照八星党支部标准完成年度自评报告", zdls,
      "对照八项标准逐项自评打分，附佐证材料，报机关党委。",
      due=D(2026, 12, 31), due_hm="1200", priority=1, status="IN-PROCESS",
      percent=20, dtstamp=stamp(D(2026, 11, 25)), sequence=1)
    t(D(2026, 12, 1), "bzh-zzsh", "召开2026年度组织生活会并报送情况报告", zzsh,
      "会后10个工作日内报送会议情况报告和整改清单。",
      due=D(2027, 1, 29), due_hm="1700", priority=2, status="NEEDS-ACTION",
      dtstamp=stamp(D(2026, 11, 20)))
    t(D(2027, 1, 4), "bzh-yszd", "党员活动室“一室多用”改造", zdjs,
      "增设党建书屋和人大代表联络站接待区，完善信息化设备。",
      due=D(2027, 3, 31), due_hm="1700", priority=5, status="NEEDS-ACTION",
      dtstamp=stamp(D(2026, 11, 20)))
    t(D(2027, 1, 4), "bzh-fzdy", "上半年发展党员工作检查", dygl,
      "检查入党积极分子培养考察、发展对象政审材料是否齐全规范。",
      due=D(2027, 6, 30), due_hm="1700", priority=5, status="NEEDS-ACTION",
      dtstamp=stamp(D(2026, 11, 20)))
    t(D(2027, 1, 4), "bzh-bxys", "八星党支部创建年度验收准备", zssz,
      "整理全年创建台账，迎接机关党委年度验收。",
      due=D(2027, 12, 20), due_hm="1700", priority=3, status="NEEDS-ACTION",
      dtstamp=stamp(D(2026, 11, 20)))

    return calendar("机关党支部·标准化规范化建设",
                    BRANCH + "：八星党支部创建和支部标准化规范化建设任务。",
                    comps)


# --- holidays.ics ----------------------------------------------------------

def holidays():
    comps = []
    for year, table in ((2026, HOLIDAYS_2026), (2027, HOLIDAYS_2027)):
        for name, a, b in table:
            if year == 2026:
                desc = "国务院办公厅公布的%d年%s放假安排：%d月%d日至%d月%d日，共%d天。" % (
                    year, name, a.month, a.day, b.month, b.day,
                    (b - a).days + 1)
                summary = name
            else:
                desc = ("%d年%s放假日期为预估，以国务院办公厅正式通知为准。"
                        % (year, name))
                summary = name + "（预估）"
            comps.append(vevent(
                uid(a, "hol"), summary, a, b + dt.timedelta(days=1),
                all_day=True, categories=["法定节假日"], description=desc,
                transp="TRANSPARENT", organizer=False,
                dtstamp=stamp(D(2026, 1, 5))))
    return calendar("法定节假日（2026—2027）",
                    "中国法定节假日。2026年为国务院办公厅公布日期，"
                    "2027年为预估。", comps)


FEEDS = [
    ("study.ics", study),
    ("party-day.ics", party_day),
    ("volunteer.ics", volunteer),
    ("standardization.ics", standardization),
    ("holidays.ics", holidays),
]


def verify(path):
    """Parse a written file with Debian's python3-icalendar and expand it
    over 2026-2027 with python3-recurring-ical-events (--check)."""
    import icalendar
    import recurring_ical_events
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    occ = recurring_ical_events.of(cal).between(D(2026, 1, 1), D(2028, 1, 1))
    return len(occ), len(cal.walk("VTODO"))


def main():
    args = sys.argv[1:]
    check_after = "--check" in args
    args = [a for a in args if a != "--check"]
    here = os.path.dirname(os.path.abspath(__file__))
    out = args[0] if args else os.path.join(here, "..", "examples")
    os.makedirs(out, exist_ok=True)
    for name, fn in FEEDS:
        data = fn()
        for line in data.split(b"\r\n")[:-1]:
            # Every physical line decodes on its own: no character split.
            assert len(line) <= 75 and line.decode("utf-8"), line
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(data)
        msg = "wrote %s (%d bytes)" % (os.path.normpath(path), len(data))
        if check_after:
            msg += ": %d occurrences in 2026-2027, %d tasks" % verify(path)
        print(msg)


if __name__ == "__main__":
    main()
