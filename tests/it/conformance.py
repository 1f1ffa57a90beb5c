#!/usr/bin/env python3
"""Differential conformance test against the vendored corpus.

For every gold file (tests/corpus/expected/gold.txt and gold_wrap_bare.txt)
and both windows (2026 and the file's auto window), ingest the file with the
real `djcald --once` and compare `djcal --db ... --json upcoming` with the
occurrences an independent engine computed (tests/corpus/expected/).

Occurrences are compared as a multiset of (uid, start), as the corpus README
says; end and recurrence_id are compared too and reported separately.
Files listed in tests/conformance-known.txt (explained in
docs/CONFORMANCE.md) may disagree; any other disagreement fails the test.
"""
import collections
import datetime
import json
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, os.environ.get("DJCAL_BUILD", "build"))
CORPUS = os.environ.get("DJCAL_CORPUS", os.path.join(TOP, "tests", "corpus"))
EXPECTED = os.path.join(CORPUS, "expected")
KNOWN = os.path.join(TOP, "tests", "conformance-known.txt")


def read_list(path):
    with open(path, encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def read_known():
    known = {}
    if os.path.exists(KNOWN):
        for line in read_list(KNOWN):
            path, _, why = line.partition("\t")
            known[path.strip()] = why.strip()
    return known


def windows():
    w = {}
    with open(os.path.join(EXPECTED, "windows.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            w[parts[0]] = (parts[1], parts[2])
    return w


def to_utc(s):
    """An RFC 3339 time with offset -> ...Z; a date stays a date."""
    if s is None or len(s) == 10:
        return s
    d = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return d.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_expected(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
    return out


def ours(db, feed, frm, to):
    cmd = [os.path.join(BUILD, "djcal"), "--db", db, "--json", "upcoming",
           "--feed", feed, "--from", frm, "--to", to, "--limit", "0"]
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                                 p.stderr.decode()))
    occ = json.loads(p.stdout)["occurrences"]
    return [{"uid": o["uid"], "start": to_utc(o["start"]),
             "end": to_utc(o["end"]),
             "recurrence_id": to_utc(o["recurrence_id"])} for o in occ]


def key(o):
    return (o["uid"], o["start"])


def full(o):
    return (o["uid"], o["start"], o["end"], o["recurrence_id"])


def main():
    gold = read_list(os.path.join(EXPECTED, "gold.txt"))
    bare = read_list(os.path.join(EXPECTED, "gold_wrap_bare.txt"))
    files = gold + bare
    win = windows()
    known = read_known()
    tmp = tempfile.mkdtemp(prefix="djcal-conf.")
    db = os.path.join(tmp, "djcal.db")
    names = {}
    with open(os.path.join(tmp, "djcald.conf"), "w", encoding="utf-8") as c:
        c.write("[daemon]\ndatabase = %s\ntimezone = Asia/Shanghai\n"
                "socket = %s/sock\nhttp_listen =\n" % (db, tmp))
        for i, path in enumerate(files):
            name = "f%03d" % i
            names[path] = name
            c.write("[feed %s]\nurl = %s\n" % (name, os.path.join(CORPUS, path)))
    p = subprocess.run([os.path.join(BUILD, "djcald"), "--once", "-c",
                        os.path.join(tmp, "djcald.conf")],
                       capture_output=True)
    if p.returncode not in (0, 1):
        print(p.stderr.decode())
        print("djcald --once crashed: exit %d" % p.returncode)
        return 1

    agree = 0
    strict = 0
    failures = []
    now_agree = []
    for path in files:
        ok = True
        exact = True
        notes = []
        for wname, (frm, to) in (("2026", ("2026-01-01T00:00:00Z",
                                           "2027-01-01T00:00:00Z")),
                                 ("auto", win[path])):
            exp = load_expected(os.path.join(EXPECTED, wname, path + ".jsonl"))
            got = ours(db, names[path], frm, to)
            ce = collections.Counter(map(key, exp))
            cg = collections.Counter(map(key, got))
            if ce != cg:
                ok = False
                missing = list((ce - cg).elements())[:3]
                extra = list((cg - ce).elements())[:3]
                notes.append("%s: %d expected, %d ours; missing %s; extra %s"
                             % (wname, len(exp), len(got), missing, extra))
            elif collections.Counter(map(full, exp)) != \
                    collections.Counter(map(full, got)):
                exact = False
                d = list((collections.Counter(map(full, exp)) -
                          collections.Counter(map(full, got))).elements())[:2]
                g = list((collections.Counter(map(full, got)) -
                          collections.Counter(map(full, exp))).elements())[:2]
                notes.append("%s: end/recurrence_id differ: expected %s, ours %s"
                             % (wname, d, g))
        if ok:
            agree += 1
            if exact:
                strict += 1
            if path in known:
                now_agree.append(path)
            if not exact and os.environ.get("DJCAL_CONFORMANCE_VERBOSE"):
                print("NOTE %s\n  %s" % (path, "\n  ".join(notes)))
        else:
            tag = "KNOWN" if path in known else "FAIL"
            print("%s %s\n  %s" % (tag, path, "\n  ".join(notes)))
            if path not in known:
                failures.append(path)
    for path in now_agree:
        print("now agrees (remove from %s): %s" % (os.path.basename(KNOWN), path))
    print("%d of %d files agree (uid, start); %d also agree on end and "
          "recurrence_id" % (agree, len(files), strict))
    subprocess.run(["rm", "-rf", tmp])
    if failures:
        print("%d unexpected disagreement(s)" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
