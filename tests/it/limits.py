#!/usr/bin/env python3
"""Resource limits through the real djcald (issue 9).

  - max_items: a feed with more UIDs keeps its first max_items, reports
    it in its health (`problems`) and logs it once, however often its
    body changes; a body with new UIDs replaces them (the feed never
    holds more than max_items); back under the limit the problem goes,
    and going over again is logged again.
  - max_feed_bytes for a file feed that keeps growing: the last good items
    stay, the error is in the feed's health and logged once.
  - max_clients_per_uid over the real socket (SO_PEERCRED): as root, a
    child that runs as nobody gets `busy` past its cap while root is not
    capped (skipped when not root).
Every warning is counted in djcald's log by its priority prefix.  Ends
with SIGTERM and exit status 0.  Python stdlib only; no fixed sleeps.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hardlib as h  # noqa: E402
from hardlib import Fatal, check  # noqa: E402

DJCAL = os.path.join(h.BUILD, "djcal")
MAX_ITEMS = 5
MAX_BYTES = 64 * 1024


def body(uids, tag="v1", pad=0):
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//djcal limits//EN"]
    for i, uid in enumerate(uids):
        out += ["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z",
                "DTSTART:2030%02d%02dT010000Z" % (1 + i % 12, 1 + i % 28),
                "DURATION:PT1H", "SUMMARY:主题党日 %s %s" % (uid, tag)]
        if pad:
            out.append("DESCRIPTION:" + "x" * pad)
        out.append("END:VEVENT")
    out.append("END:VCALENDAR")
    return ("\r\n".join(out) + "\r\n").encode()


def refresh(sock, feed):
    r = h.ctl_call(sock, {"op": "refresh", "feed": feed})
    if not r.get("ok"):
        raise Fatal("refresh %s: %s" % (feed, r))
    return r["results"][0]


def health(sock, feed):
    for f in h.ctl_call(sock, {"op": "feeds"})["feeds"]:
        if f["name"] == feed:
            return f
    raise Fatal("no feed %s" % feed)


def series(db, feed):
    con = h.db_ro(db)
    try:
        return [u for (u,) in con.execute(
            "SELECT s.uid FROM series s JOIN feed f ON f.id = s.feed_id "
            "WHERE f.name = ? ORDER BY s.uid", (feed,))]
    finally:
        con.close()


def warnings(d, text):
    return sum(1 for x in h.log_lines(d.text(), "4") if text in x)


# Connects n times (each sends a ping and reads its answer; a refused one
# may find the socket closed before it has written), then runs djcal with
# the connections still open.
CHILD = r'''
import json, socket, subprocess, sys
path, n, djcal = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks, out = [], []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    try:
        s.sendall(b'{"op":"ping","id":1}\n')
    except (BrokenPipeError, ConnectionResetError):
        pass
    buf = b""
    while b"\n" not in buf:
        c = s.recv(65536)
        if not c:
            break
        buf += c
    out.append(json.loads(buf.split(b"\n")[0]) if buf else None)
    socks.append(s)
p = subprocess.run([djcal, "--socket", path, "feeds"], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, env={"LANG": "C.UTF-8"})
print(json.dumps({"replies": out, "djcal": [p.returncode,
                                            p.stderr.decode()]}))
'''


def uid_cap(tmp, sock, d):
    if os.geteuid() != 0:
        print("skip - max_clients_per_uid over the socket: not root")
        return
    # A python that nobody may run (not one under /root).
    py = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) \
        else sys.executable
    os.chmod(tmp, 0o755)
    os.chmod(sock, 0o666)
    try:
        p = subprocess.run([py, "-c", CHILD, sock, "4", DJCAL],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=h.DEADLINE,
                           preexec_fn=lambda: os.setuid(65534))
    except PermissionError as e:
        print("skip - max_clients_per_uid over the socket: %s" % e)
        return
    res = json.loads(p.stdout) if p.returncode == 0 else None
    out = res and res["replies"]
    check(out is not None and [bool(r and r.get("ok")) for r in out] ==
          [True, True, True, False] and
          out[3]["error"]["code"] == "busy" and
          "max_clients_per_uid" in out[3]["error"]["message"],
          "uid 65534 over the socket: 3 connections served, the 4th gets "
          "busy (%s)" % ([r and (r.get("error") or {}).get("code", "ok")
                          for r in out] if out else
                         p.stderr.decode()[-500:]))
    rc, err = res["djcal"] if res else (None, "")
    check(rc == 1 and "too many connections from uid 65534" in err and
          "(busy)" in err, "djcal past the cap: exit 1 with the daemon's "
          "reason (%s: %s)" % (rc, err.strip()))
    p = subprocess.run([py, "-c", CHILD, sock, "5", DJCAL],
                       stdout=subprocess.PIPE, timeout=h.DEADLINE)
    res = json.loads(p.stdout) if p.returncode == 0 else None
    check(res is not None and all(r and r.get("ok") for r in
                                  res["replies"]) and res["djcal"][0] == 0,
          "root is not capped")
    check(warnings(d, "uid 65534 has 3 connections (max_clients_per_uid)")
          == 1, "the cap is logged once for the uid")


def run(tmp):
    db = os.path.join(tmp, "limits.db")
    sock = os.path.join(tmp, "limits.sock")
    many = os.path.join(tmp, "many.ics")
    grow = os.path.join(tmp, "grow.ics")
    h.write_atomic(many, body(["a%d@t" % i for i in range(8)]))
    h.write_atomic(grow, body(["g%d@t" % i for i in range(3)]))
    conf = os.path.join(tmp, "limits.conf")
    with open(conf, "w") as f:
        f.write(h.conf_text(db, sock, [
            ("many", {"url": many, "category": "party-day",
                      "refresh": "1h"}),
            ("grow", {"url": grow, "category": "study", "refresh": "1h"})],
            "max_items = %d\nmax_feed_bytes = %d\nmax_clients_per_uid = 3" %
            (MAX_ITEMS, MAX_BYTES)))
    d = h.Daemon(tmp, "limits", conf)
    try:
        d.wait_ready()
        r = refresh(sock, "many")
        f = health(sock, "many")
        over = "more than %d items (max_items)" % MAX_ITEMS
        check(r["ok"] and f["items"] == MAX_ITEMS and
              over in (f["problems"] or ""),
              "max_items: 8 UIDs, %d kept, said in the feed's health (%s)" %
              (f["items"], f["problems"]))
        check(series(db, "many") == ["a%d@t" % i for i in range(5)],
              "max_items: the first %d of the body" % MAX_ITEMS)
        # New UIDs, three times: they replace the old ones.
        for k in range(3):
            h.write_atomic(many, body(["b%d@t" % i for i in range(8)],
                                      "v%d" % (k + 2)))
            refresh(sock, "many")
        f = health(sock, "many")
        check(f["items"] == MAX_ITEMS and series(db, "many") ==
              ["b%d@t" % i for i in range(5)],
              "max_items: a body of new UIDs replaces the old, never more "
              "than %d (%d)" % (MAX_ITEMS, f["items"]))
        check(warnings(d, over) == 1, "max_items: logged once over four "
              "bodies (%d)" % warnings(d, over))
        h.write_atomic(many, body(["c%d@t" % i for i in range(4)]))
        refresh(sock, "many")
        f = health(sock, "many")
        check(f["items"] == 4 and not f["problems"],
              "max_items: under the limit again, no problem (%s)" %
              f["problems"])
        h.write_atomic(many, body(["d%d@t" % i for i in range(9)]))
        refresh(sock, "many")
        check(warnings(d, over) == 2 and health(sock, "many")["items"] ==
              MAX_ITEMS, "max_items: over it again, logged again")

        refresh(sock, "grow")
        for k in range(3):
            h.write_atomic(grow, body(["g%d@t" % i for i in range(3)],
                                      pad=MAX_BYTES * (k + 1)))
            refresh(sock, "grow")
        f = health(sock, "grow")
        check(f["items"] == 3 and "max_feed_bytes" in (f["last_error"] or
                                                        ""),
              "max_feed_bytes: a file feed over it keeps its items, the "
              "error in its health (%s)" % f["last_error"])
        check(warnings(d, "larger than max_feed_bytes") == 1,
              "max_feed_bytes: logged once while the file keeps growing "
              "(%d)" % warnings(d, "larger than max_feed_bytes"))

        uid_cap(tmp, sock, d)
        code = d.stop()
        check(code == 0, "SIGTERM: exit status 0 (%s)" % code)
        check(not d.sanitizer_report(), "no sanitizer report")
        check(h.integrity(db) == "ok", "database integrity")
    finally:
        d.close()


def main():
    if not os.access(h.DJCALD, os.X_OK):
        print("FAIL - %s is not built" % h.DJCALD)
        return 1
    tmp = tempfile.mkdtemp(prefix="djcal-limits-")
    try:
        run(tmp)
    except Fatal as e:
        check(False, str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if h.failures:
        print("%d check(s) failed" % len(h.failures))
        return 1
    print("all limit checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
