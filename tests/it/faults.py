#!/usr/bin/env python3
"""Storage faults through the real djcald (issue 9).  See faults.sh.

  - A corrupt database (not SQLite at all; a damaged first page, later
    page or last page; cut short), another program's SQLite database (in
    rollback and in WAL mode) and one from a newer djcal: `djcald --once`
    and the foreground daemon (`djcald -f`) both refuse to start, exit 1,
    name the file and the reason on stderr, and leave it byte for byte as
    it was (sha256), with no -wal, -shm or -journal file beside it and no
    socket left behind.
  - A full disk (a 600 KiB tmpfs; only as root where mount(8) works, else
    skipped with the reason): a first body fits; a much bigger one fails
    with "database or disk is full" in the feed's health while every item
    of the first is still listed, as it was, and PRAGMA integrity_check
    says ok; with room again the bigger body goes in.

tests/check_faults.c does the same on the store directly, and the schema
migrations.  Python stdlib only; no fixed sleeps.
"""
import os
import shutil
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (DJCALD, SmallFs, djcald_once, feed_health,  # noqa: E402
                      file_state, ics_events, integrity, run, uids,
                      write_conf)

failures = []


def check(cond, what):
    print("%s - %s" % ("ok  " if cond else "FAIL", what))
    if not cond:
        failures.append(what)
    return cond


def make_good_db(tmp, db):
    """A djcal database holding 40 events, written by djcald itself."""
    feed = os.path.join(tmp, "good.ics")
    with open(feed, "wb") as f:
        f.write(ics_events(40, pad=512))
    conf = os.path.join(tmp, "good.conf")
    write_conf(conf, db, {"study": feed})
    rc, _, err = djcald_once(conf)
    if rc != 0:
        raise RuntimeError("making a good database: exit %s: %s" % (rc, err))


def damage(db, off, data=None, cut=False):
    if cut:
        with open(db, "r+b") as f:
            f.truncate(off)
        return
    with open(db, "r+b") as f:
        f.seek(off)
        f.write(data)


def foreign(db, wal):
    c = sqlite3.connect(db)
    c.execute("PRAGMA journal_mode = %s" % ("WAL" if wal else "DELETE"))
    c.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    c.execute("INSERT INTO contacts VALUES ('张三', '13800000000')")
    c.commit()
    c.close()


def newer(db):
    c = sqlite3.connect(db)
    v = c.execute("PRAGMA user_version").fetchone()[0]
    c.execute("PRAGMA user_version = %d" % (v + 1))
    c.commit()
    c.close()


def refusals(tmp):
    feed = os.path.join(tmp, "feed.ics")
    with open(feed, "wb") as f:
        f.write(ics_events(3))
    cases = [
        ("random bytes", "not a usable SQLite database",
         lambda db: open(db, "wb").write(os.urandom(65536))),
        ("a damaged first page", "not a usable SQLite database",
         lambda db: (make_good_db(tmp, db), damage(db, 100, b"Z" * 3000))),
        ("a damaged later page", "the database is corrupt",
         lambda db: (make_good_db(tmp, db), damage(db, 5 * 4096,
                                                   b"Z" * 4096))),
        ("a damaged last page", "the database is corrupt",
         lambda db: (make_good_db(tmp, db),
                     damage(db, os.path.getsize(db) - 4096, b"Z" * 4096))),
        ("a file cut short", "",
         lambda db: (make_good_db(tmp, db),
                     damage(db, os.path.getsize(db) // 2, cut=True))),
        ("a foreign database (rollback journal)", "not a djcal database",
         lambda db: foreign(db, False)),
        ("a foreign database (WAL)", "not a djcal database",
         lambda db: foreign(db, True)),
        ("a database of a newer djcal", "newer than this djcal",
         lambda db: (make_good_db(tmp, db), newer(db))),
    ]
    for n, (what, why, make) in enumerate(cases):
        d = os.path.join(tmp, "case%d" % n)
        os.mkdir(d)
        db = os.path.join(d, "djcal.db")
        make(db)
        before = file_state(db)
        conf = os.path.join(d, "djcald.conf")
        sock = os.path.join(d, "djcald.sock")
        write_conf(conf, db, {"study": feed}, socket=sock)
        for mode in (["--once"], ["-f"]):
            rc, _, err = run([DJCALD] + mode + ["-c", conf])
            label = "%s: djcald %s" % (what, mode[0])
            check(rc == 1, "%s exits 1 (got %s)" % (label, rc))
            check(db in err and why in err,
                  "%s says why: %r" % (label, err.strip()[:200]))
            check("Sanitizer" not in err and "runtime error" not in err,
                  "%s: no sanitizer report" % label)
            check(file_state(db) == before,
                  "%s leaves the file, -wal, -shm and -journal as they were"
                  % label)
            check(not os.path.exists(sock), "%s leaves no socket" % label)


def full_disk(tmp):
    with SmallFs("600k") as fs:
        if fs.path is None:
            print("skip - full disk through djcald: %s" % fs.reason)
            return
        db = os.path.join(fs.path, "djcal.db")
        feed = os.path.join(tmp, "study.ics")
        conf = os.path.join(tmp, "full.conf")
        write_conf(conf, db, {"study": feed})
        with open(feed, "wb") as f:
            f.write(ics_events(100, "支部学习", pad=200))
        rc, _, err = djcald_once(conf)
        check(rc == 0, "full disk: the first body fits (exit %s: %s)"
              % (rc, err.strip()[-200:]))
        first = uids(db)
        check(len(first) == 100, "full disk: 100 items after the first body")

        with open(feed, "wb") as f:
            f.write(ics_events(2000, "改期学习", pad=2000))
        rc, _, err = djcald_once(conf)
        check(rc == 1, "full disk: the bigger body fails (exit %s)" % rc)
        check("database or disk is full" in err,
              "full disk: stderr says so: %r" % err.strip()[-200:])
        h = feed_health(db, "study")
        check(h is not None and h["last_error"] is not None and
              "database or disk is full" in h["last_error"] and
              h["failures"] == 1 and h["items"] == 100,
              "full disk: the feed's health holds the error: %r" % (h,))
        check(uids(db) == first,
              "full disk: every item of the last good body, as it was")
        check(integrity(db) == "ok", "full disk: integrity_check is ok")

        # Room again: the same body goes in.
        shutil.move(db, os.path.join(tmp, "djcal.db"))
        db = os.path.join(tmp, "djcal.db")
        write_conf(conf, db, {"study": feed})
        rc, _, err = djcald_once(conf)
        check(rc == 0, "full disk: with room the bigger body goes in "
              "(exit %s: %s)" % (rc, err.strip()[-200:]))
        check(len(uids(db)) == 2000, "full disk: 2000 items now")
        h = feed_health(db, "study")
        check(h is not None and h["last_error"] is None and
              h["failures"] == 0, "full disk: the health is clear again")


def main():
    tmp = tempfile.mkdtemp(prefix="djcal-faults.")
    try:
        refusals(tmp)
        full_disk(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
