#!/usr/bin/python3
"""Round trip of the ICS export through an independent engine.

For the example feeds (examples/*.ics) and every corpus file that the
conformance test ingests (tests/corpus/expected/gold.txt and
gold_wrap_bare.txt): ingest them with the real `djcald --once`, export each
feed (`check_export --render`, which calls export_render on the database),
and check that Python's recurring-ical-events on icalendar (Debian's
/usr/bin/python3) computes the same occurrences from the export as from the
source, over 2026 and over the file's window in windows.tsv.  Occurrences
are compared as a multiset of (uid, start, end, recurrence-id) in UTC.

Also: every export parses with icalendar's Calendar.from_ical, the merged
export of all feeds as well; and `khal import` (Debian's khal) accepts the
merged example export and the events land in its vdir.

A source the engine cannot read is skipped with its reason.  A disagreement
is a failure unless it is listed in KNOWN below with its cause.
"""
import collections
import datetime as dt
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zoneinfo

import icalendar
import icalendar.prop
import icalendar.timezone_cache
import pytz
import recurring_ical_events

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, os.environ.get("DJCAL_BUILD", "build"))
CORPUS = os.path.join(TOP, "tests", "corpus")
EXPECTED = os.path.join(CORPUS, "expected")
EXAMPLES = os.path.join(TOP, "examples")
RENDER = os.path.join(BUILD, "tests", "check_export")
UTC = dt.timezone.utc
FLOATING = pytz.timezone("Asia/Shanghai")
NOUID = "djcal-nouid-"
YEAR = (dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC))

# Files whose export the engine reads differently from the source, and why.
KNOWN = {
    "icalendar/calendars/issue_313_globally_unique_tzid.ics":
        "TZIDs with a vendor prefix and no VTIMEZONE (/freeassociation."
        "sourceforge.net/Europe/Berlin, /mozilla.org/...): the engine reads "
        "the source as floating; djcal reads them as the IANA zone they "
        "name (docs/CONFORMANCE.md) and the export carries that zone's "
        "VTIMEZONE, so the engine now agrees with djcal",
}

# ------------------------------------------------------------------ engine

EMBEDDED = {}
_orig_from_ical = icalendar.prop.vDatetime.from_ical


def _from_ical(ical, timezone=None):
    """A TZID names the calendar's own VTIMEZONE first (RFC 5545 3.2.19);
    icalendar 4 would prefer an IANA zone of the same name."""
    if timezone:
        tz = EMBEDDED.get(timezone)
        if tz is not None:
            naive = _orig_from_ical(ical)
            return tz.localize(naive) if naive.tzinfo is None else naive
    return _orig_from_ical(ical, timezone)


icalendar.prop.vDatetime.from_ical = staticmethod(_from_ical)


def _parse(data):
    icalendar.timezone_cache._timezone_cache.clear()
    return icalendar.Calendar.from_ical(data, multiple=True)


def instant(v):
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            return FLOATING.localize(v).astimezone(UTC)
        return v.astimezone(UTC)
    return FLOATING.localize(dt.datetime(v.year, v.month, v.day)).astimezone(UTC)


def text(v):
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return instant(v).strftime("%Y-%m-%dT%H:%M:%SZ")
    return v.isoformat()


def value(comp, name):
    p = comp.get(name)
    if isinstance(p, list):
        p = p[0] if p else None
    return getattr(p, "dt", None)


def occurrences(data, windows, wrap_bare=False):
    """Per window, a Counter of (uid, start, end, recurrence-id)."""
    EMBEDDED.clear()
    for top in _parse(data):
        for tzc in top.walk("VTIMEZONE"):
            tzid = str(tzc.get("TZID", ""))
            if not tzid or tzid in EMBEDDED:
                continue
            try:
                EMBEDDED[tzid] = tzc.to_tz()
            except Exception:  # noqa: BLE001 - unusable: IANA or floating
                pass
    tops = _parse(data)
    out = [collections.Counter() for _ in windows]
    for top in tops:
        if top.name != "VCALENDAR":
            if not wrap_bare:
                raise ValueError("top-level %s, not VCALENDAR" % top.name)
            cal = icalendar.Calendar()
            cal.add_component(top)
            top = cal
        # As the oracle: a VEVENT without DTSTART, or a VTODO without
        # DTSTART and DUE, is left out.
        for comp in list(top.subcomponents):
            if comp.name in ("VEVENT", "VTODO") and "DTSTART" not in comp and \
                    not (comp.name == "VTODO" and "DUE" in comp):
                top.subcomponents.remove(comp)
        unf = recurring_ical_events.UnfoldableCalendar(
            top, keep_recurrence_attributes=True, components=["VEVENT", "VTODO"])
        for i, (frm, to) in enumerate(windows):
            lo = (frm - dt.timedelta(days=3)).replace(tzinfo=None)
            hi = (to + dt.timedelta(days=3)).replace(tzinfo=None)
            for occ in unf.between(lo, hi):
                start = value(occ, "DTSTART")
                if start is None:
                    start = value(occ, "DUE")
                if start is None:
                    continue
                end = value(occ, "DUE" if occ.name == "VTODO" else "DTEND")
                uid = occ.get("UID")
                uid = None if uid is None or str(uid).startswith(NOUID) else str(uid)
                s = instant(start)
                e = instant(end) if end is not None else s
                if (e > s and s < to and e > frm) or (e <= s and frm <= s < to):
                    out[i][(uid, text(start), text(end),
                            text(value(occ, "RECURRENCE-ID")))] += 1
    return out


# ------------------------------------------------------------------ helpers

def read_list(path):
    with open(path, encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def auto_windows():
    w = {}
    with open(os.path.join(EXPECTED, "windows.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split("\t")
            w[p[0]] = tuple(dt.datetime.fromisoformat(x.replace("Z", "+00:00"))
                            for x in p[1:3])
    return w


def ingest(tmp, name, feeds):
    """feeds: [(feed name, path)] -> config path, after djcald --once."""
    conf = os.path.join(tmp, name + ".conf")
    with open(conf, "w", encoding="utf-8") as c:
        c.write("[daemon]\ndatabase = %s\nsocket = %s\ntimezone = Asia/Shanghai\n"
                "http_listen =\n" % (os.path.join(tmp, name + ".db"),
                                     os.path.join(tmp, name + ".sock")))
        for feed, path in feeds:
            c.write("[feed %s]\nurl = %s\n" % (feed, path))
    p = subprocess.run([os.path.join(BUILD, "djcald"), "--once", "-c", conf],
                       capture_output=True)
    if p.returncode not in (0, 1):
        raise RuntimeError("djcald --once: exit %d: %s" %
                           (p.returncode, p.stderr.decode(errors="replace")))
    return conf


def export(conf, feed=None):
    cmd = [RENDER, "--render", conf] + (["--feed", feed] if feed else [])
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                                 p.stderr.decode(errors="replace")))
    return p.stdout


def first_difference(a, b):
    miss = list((a - b).elements())[:2]
    extra = list((b - a).elements())[:2]
    return "source only %s; export only %s" % (miss, extra)


def khal_accepts(path):
    """Whether khal import would take the file: its own splitting and
    checks (khal.icalendar.split_ics), in-process, which is where khal
    import refuses what it refuses."""
    from khal.icalendar import split_ics
    logging.getLogger("khal").setLevel(logging.CRITICAL)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            split_ics(f.read(), False, FLOATING)
        return True
    except Exception:  # noqa: BLE001 - any refusal
        return False


def khal_import(tmp, ics_path, tag="khal"):
    """khal import --batch into a fresh vdir: (exit status, files, stderr)."""
    home = os.path.join(tmp, "khal-" + tag.replace("/", "_"))
    vdir = os.path.join(home, "cal")
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(vdir)
    conf = os.path.join(home, "config")
    with open(conf, "w", encoding="utf-8") as f:
        f.write("[calendars]\n[[djcal]]\npath = %s\ntype = calendar\n"
                "[locale]\nlocal_timezone = Asia/Shanghai\n"
                "default_timezone = Asia/Shanghai\n"
                "[sqlite]\npath = %s\n" % (vdir, os.path.join(home, "khal.db")))
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home, XDG_DATA_HOME=home)
    p = subprocess.run(["khal", "-c", conf, "import", "--batch", ics_path],
                       capture_output=True, env=env)
    files = [n for n in os.listdir(vdir) if n.endswith(".ics")]
    return p.returncode, files, p.stderr.decode(errors="replace")


# ------------------------------------------------------------------ main

def main():
    failures = []
    tmp = tempfile.mkdtemp(prefix="djcal-export-rt.")
    try:
        # The example feeds: each feed, and all merged.
        ex = sorted(n for n in os.listdir(EXAMPLES) if n.endswith(".ics"))
        feeds = [(n[:-4], os.path.join(EXAMPLES, n)) for n in ex]
        conf = ingest(tmp, "examples", feeds)
        win = [YEAR, (dt.datetime(2025, 1, 1, tzinfo=UTC),
                      dt.datetime(2028, 1, 1, tzinfo=UTC))]
        union = [collections.Counter() for _ in win]
        for feed, path in feeds:
            src = occurrences(open(path, "rb").read(), win)
            got = occurrences(export(conf, feed), win)
            for i in range(len(win)):
                union[i] += src[i]
                if src[i] != got[i]:
                    failures.append("examples/%s: %s" % (
                        os.path.basename(path), first_difference(src[i], got[i])))
            print("examples/%s: %d occurrences in 2026 agree" % (
                os.path.basename(path), sum(src[0].values())))
        merged = export(conf)
        icalendar.Calendar.from_ical(merged)
        got = occurrences(merged, win)
        for i in range(len(win)):
            if union[i] != got[i]:
                failures.append("examples merged: %s" % first_difference(union[i], got[i]))
        mpath = os.path.join(tmp, "examples.ics")
        with open(mpath, "wb") as f:
            f.write(merged)
        rc, files, err = khal_import(tmp, mpath)
        cal = icalendar.Calendar.from_ical(merged)
        uids = {str(c["UID"]) for c in cal.walk("VEVENT")}
        if rc != 0 or len(files) != len(uids):
            failures.append("khal import of the merged examples: exit %d, %d of %d "
                            "events in the vdir: %s" % (rc, len(files), len(uids),
                                                        err.strip()[:300]))
        else:
            print("khal import: %d events from the merged examples" % len(files))

        # Every system zone: an item per TZID without a VTIMEZONE, so the
        # export carries the VTIMEZONE that djcal makes from the zone's
        # TZif data, and the engine reads that instead of its own tzdata.
        zones = sorted(z for z in zoneinfo.available_timezones()
                       if z in pytz.all_timezones_set and not z.startswith(
                           ("posix/", "right/")) and z != "localtime")
        zones += ["China Standard Time", "W. Europe Standard Time",
                  "Pacific Standard Time", "AUS Eastern Standard Time"]
        zpath = os.path.join(tmp, "zones.ics")
        with open(zpath, "w", encoding="utf-8") as f:
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//djcal//test//EN\r\n")
            for z in zones:
                f.write("BEGIN:VEVENT\r\nUID:zone-%s\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART;TZID=%s:20260104T090000\r\nDURATION:PT1H\r\n"
                        "RRULE:FREQ=WEEKLY;COUNT=52\r\nSUMMARY:%s\r\nEND:VEVENT\r\n"
                        % (z, z, z))
            f.write("END:VCALENDAR\r\n")
        conf = ingest(tmp, "zones", [("zones", zpath)])
        body = export(conf, "zones")
        src = occurrences(open(zpath, "rb").read(), [YEAR])[0]
        got = occurrences(body, [YEAR])[0]
        if src != got:
            bad = sorted({k[0] for k in (src - got) + (got - src)})
            failures.append("system zones: %d of %d disagree: %s; %s" % (
                len(bad), len(zones), ", ".join(bad[:10]),
                first_difference(src, got)))
        else:
            print("system zones: %d zones, %d occurrences agree" % (
                len(zones), sum(src.values())))

        # The corpus
        gold = read_list(os.path.join(EXPECTED, "gold.txt"))
        bare = read_list(os.path.join(EXPECTED, "gold_wrap_bare.txt"))
        files_ = gold + bare
        autow = auto_windows()
        names = {path: "f%03d" % i for i, path in enumerate(files_)}
        conf = ingest(tmp, "corpus", [(names[p], os.path.join(CORPUS, p))
                                      for p in files_])
        agree = skipped = 0
        for path in files_:
            windows = [YEAR, autow[path]]
            body = export(conf, names[path])
            try:
                icalendar.Calendar.from_ical(body)
            except Exception as e:  # noqa: BLE001
                failures.append("%s: the export does not parse: %s" % (path, e))
                continue
            try:
                src = occurrences(open(os.path.join(CORPUS, path), "rb").read(),
                                  windows, wrap_bare=path in bare)
            except Exception as e:  # noqa: BLE001
                skipped += 1
                print("SKIP %s: the engine cannot read the source: %s: %s" % (
                    path, type(e).__name__, str(e).splitlines()[0][:200] if str(e) else ""))
                continue
            try:
                got = occurrences(body, windows)
            except Exception as e:  # noqa: BLE001
                failures.append("%s: the engine reads the source but not the "
                                "export: %s: %s" % (path, type(e).__name__, e))
                continue
            diff = ["%s: %s" % (w, first_difference(src[i], got[i]))
                    for i, w in enumerate(("2026", "auto")) if src[i] != got[i]]
            if not diff:
                agree += 1
                if path in KNOWN:
                    print("now agrees (remove from KNOWN): %s" % path)
            elif path in KNOWN:
                print("KNOWN %s\n  %s\n  cause: %s" % (path, "\n  ".join(diff), KNOWN[path]))
            else:
                failures.append("%s:\n  %s" % (path, "\n  ".join(diff)))
        merged = export(conf)
        try:
            icalendar.Calendar.from_ical(merged)
        except Exception as e:  # noqa: BLE001
            failures.append("merged corpus export does not parse: %s" % e)
        # khal refuses some corpus sources themselves (DATE DTEND with a
        # DATE-TIME DTSTART, ...): the merged export of the others must
        # go in whole.
        accepted = [p for p in files_ if khal_accepts(os.path.join(CORPUS, p))]
        mpath = os.path.join(tmp, "corpus.ics")
        with open(mpath, "wb") as f:
            f.write(export(ingest(tmp, "khal", [(names[p], os.path.join(CORPUS, p))
                                               for p in accepted])))
        # (khal's own checks in-process: a real import of this merged
        # feed spends 20 s expanding one unbounded every-20-minutes rule.)
        if not khal_accepts(mpath):
            failures.append("khal refuses the merged export of the %d corpus "
                            "files it accepts one by one" % len(accepted))
        else:
            print("khal accepts the merged export of the %d corpus files it "
                  "accepts one by one" % len(accepted))
        print("corpus: %d of %d files agree after the round trip; %d skipped "
              "(the engine cannot read the source)" % (agree, len(files_), skipped))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
