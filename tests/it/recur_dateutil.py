#!/usr/bin/env python3
"""Random RRULEs through djcal, checked against python-dateutil.

libical 3.0, which djcal's recurrence expansion builds on, gets several
rule shapes wrong (BYSETPOS below MONTHLY, a negative BYMONTHDAY of a DAILY
rule, the INTERVAL phase of WEEKLY rules, a YEARLY BYMONTHDAY without
BYMONTH); recur.c works around them.  This test keeps it honest: a fixed
set of random rules (seeded) is ingested with the real `djcald --once`,
listed with `djcal --db --json upcoming` over 2020-2070 (materialised rows
near now, on-the-fly expansion beyond), and compared with dateutil's
expansion, rule by rule.

Left out are shapes where dateutil itself departs from RFC 5545 (a BYDAY
list mixing ordinal and plain days: dateutil drops the plain ones) and
BYWEEKNO, where the two disagree on week numbering edge cases.  DTSTART is
always djcal's first instance (docs/CONFORMANCE.md); dateutil lists it
only when it matches the rule, so it is compared only in that case.

Skips (exit 0) when python3-dateutil is not installed.
"""
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import warnings

try:
    from dateutil.rrule import rrulestr
except ImportError:
    print("recur_dateutil: python3-dateutil not installed; skipped")
    sys.exit(0)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, os.environ.get("DJCAL_BUILD", "build"))
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
FROM, TO = "2020-01-01", "2070-01-01"


def random_rule(r):
    freq = r.choice(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"])
    parts = ["FREQ=" + freq, "INTERVAL=%d" % r.randint(1, 4)]
    plain = 0
    if r.random() < 0.6:
        n = r.randint(1, 3)
        if freq in ("MONTHLY", "YEARLY") and r.random() < 0.4:
            # Ordinal days only (not mixed with plain ones).
            pos = [1, 2, 3, 4, -1, -2] if freq == "MONTHLY" else [1, 2, 20, -1, -3]
            days = ["%d%s" % (r.choice(pos), r.choice(DAYS)) for _ in range(n)]
        else:
            days = r.sample(DAYS, n)
            plain = n
        parts.append("BYDAY=" + ",".join(dict.fromkeys(days)))
    # Ordinal days with month days rarely meet; libical then searches up
    # to the year 20000 for a first instance, seconds per rule.
    if freq != "WEEKLY" and r.random() < 0.3 and (plain > 0 or
                                                   "BYDAY" not in parts[-1]):
        parts.append("BYMONTHDAY=" + ",".join(
            str(x) for x in r.sample([1, 2, 15, 28, 29, 30, 31, -1, -2], r.randint(1, 2))))
    if r.random() < 0.3:
        parts.append("BYMONTH=" + ",".join(
            str(x) for x in r.sample(range(1, 13), r.randint(1, 3))))
    if freq == "YEARLY" and r.random() < 0.1:
        parts.append("BYYEARDAY=" + str(r.choice([1, 100, 200, 365, 366])))
    if r.random() < 0.2:
        # BYSETPOS=2 of a period with fewer instances never matches,
        # and dateutil takes seconds to find that out.
        parts.append("BYSETPOS=" + str(r.choice(
            [1, 2, -1, -2] if plain >= 2 and freq != "DAILY" else [1, -1])))
    if r.random() < 0.3:
        parts.append("WKST=" + r.choice(DAYS))
    if r.random() < 0.7:
        parts.append("COUNT=%d" % r.randint(1, 10))
    else:
        parts.append("UNTIL=%04d%02d%02dT000000Z" % (
            r.randint(2026, 2040), r.randint(1, 12), r.randint(1, 28)))
    start = datetime.datetime(r.randint(2020, 2030), r.randint(1, 12),
                              r.randint(1, 28), r.randint(0, 23),
                              tzinfo=datetime.timezone.utc)
    return start, ";".join(parts)


def utc(s):
    d = datetime.datetime.fromisoformat(s)
    return d.astimezone(datetime.timezone.utc)


def main():
    # dateutil frowns on COUNT with UNTIL; the UNTIL below only bounds it.
    warnings.simplefilter("ignore", DeprecationWarning)
    r = random.Random(20260105)
    rules = [random_rule(r) for _ in range(300)]
    lo = datetime.datetime.fromisoformat(FROM).replace(tzinfo=datetime.timezone.utc)
    hi = datetime.datetime.fromisoformat(TO).replace(tzinfo=datetime.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="djcal-dateutil.") as tmp:
        with open(os.path.join(tmp, "rules.ics"), "w", newline="") as f:
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//djcal//dateutil//EN\r\n")
            for i, (start, rule) in enumerate(rules):
                f.write("BEGIN:VEVENT\r\nUID:r%d\r\nDTSTART:%sZ\r\nRRULE:%s\r\n"
                        "SUMMARY:%s\r\nEND:VEVENT\r\n" %
                        (i, start.strftime("%Y%m%dT%H%M%S"), rule, rule))
            f.write("END:VCALENDAR\r\n")
        with open(os.path.join(tmp, "djcald.conf"), "w") as f:
            f.write("[daemon]\ndatabase = %s/djcal.db\ntimezone = Asia/Shanghai\n"
                    "[feed rules]\nurl = rules.ics\n" % tmp)
        p = subprocess.run([os.path.join(BUILD, "djcald"), "--once", "-c",
                            os.path.join(tmp, "djcald.conf")],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print("FAIL: djcald --once: exit %d\n%s" % (p.returncode, p.stderr))
            return 1
        p = subprocess.run([os.path.join(BUILD, "djcal"), "--db",
                            os.path.join(tmp, "djcal.db"), "--json", "upcoming",
                            "--from", FROM, "--to", TO, "--limit", "1000000"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print("FAIL: djcal upcoming: exit %d\n%s" % (p.returncode, p.stderr))
            return 1
    ours = {}
    for o in json.loads(p.stdout)["occurrences"]:
        ours.setdefault(o["uid"], []).append(utc(o["start"]))
    bad = skipped = 0
    for i, (start, rule) in enumerate(rules):
        # An UNTIL at the window's end keeps dateutil from searching to
        # the year 9999 for a rule that never matches.
        try:
            rr = rrulestr("RRULE:" + rule, dtstart=start)
            rr = rr.replace(until=hi if rr._until is None or rr._until > hi
                            else rr._until)
            want = [d for d in rr if lo <= d < hi]
        except (ValueError, IndexError):
            skipped += 1    # dateutil cannot expand it
            continue
        got = sorted(ours.get("r%d" % i, []))
        if start not in want:
            got = [d for d in got if d != start]
        if got != want:
            bad += 1
            if bad <= 10:
                print("DIFF DTSTART:%sZ RRULE:%s" % (start.strftime("%Y%m%dT%H%M%S"), rule))
                print("  djcal   ", [d.strftime("%Y%m%dT%H%M%S") for d in got[:8]])
                print("  dateutil", [d.strftime("%Y%m%dT%H%M%S") for d in want[:8]])
    print("recur_dateutil: %d of %d random rules agree with python-dateutil"
          "%s" % (len(rules) - skipped - bad, len(rules) - skipped,
                  " (%d it cannot expand)" % skipped if skipped else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
