#!/usr/bin/env python3
"""The ICS export over HTTP from the real daemon (issue 6).

Starts build/djcald with NOTIFY_SOCKET (the Daemon helper of daemon.py),
waits for READY=1 with a deadline, and checks:

  - GET /calendar.ics: text/calendar, ETag, Last-Modified, Cache-Control;
    the same body from the control socket's `export` op and from
    `djcal export`; filters;
  - 304 on If-None-Match / If-Modified-Since; the ETag stays when a feed is
    read again unchanged and changes when any source feed changes;
  - gzip; HEAD;
  - bad requests (unknown path, bad category, a 100 KB query string, a
    request line without version, a slow client, garbage) get 4xx or are
    closed, and the daemon stays up;
  - /healthz;
  - after SIGHUP: http_token required (401 with nothing else; ?token= and
    Authorization: Bearer), never in the log; a new http_listen is bound
    and the old one closed;
  - SIGTERM: exit 0.
"""
import gzip
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon as dh  # noqa: E402  (the daemon engineer's helpers)
from daemon import Daemon, Fatal, check, ctl_call  # noqa: E402

TOKEN = "Zq7-secret-token"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def feed_text(uids, summary="学习"):
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//djcal tests//EN"]
    for i, uid in enumerate(uids):
        out += ["BEGIN:VEVENT", "UID:%s" % uid, "DTSTAMP:20260101T000000Z",
                "DTSTART;TZID=Asia/Shanghai:2026%02d%02dT150000" % (1 + i % 12, 1 + i % 28),
                "DURATION:PT1H", "RRULE:FREQ=MONTHLY;COUNT=3",
                "SUMMARY:%s %s" % (summary, uid), "END:VEVENT"]
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n"


def get(port, path, headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=dh.DEADLINE)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, body


def raw(port, data, wait=None):
    """Send bytes; read until the server closes.  (status or 0, closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait or dh.DEADLINE)
    try:
        s.sendall(data)
    except OSError:
        pass
    buf = b""
    closed = False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            buf += chunk
    except (socket.timeout, ConnectionResetError):
        closed = isinstance(sys.exc_info()[1], ConnectionResetError)
    s.close()
    status = 0
    if buf.startswith(b"HTTP/1."):
        status = int(buf.split(b" ", 2)[1])
    return status, closed


def conf(tmp, port, extra=""):
    feeds = [("study", [("url", os.path.join(tmp, "study.ics")),
                        ("category", "study"), ("branch", "机关党支部"),
                        ("refresh", "15m")]),
             ("party", [("url", os.path.join(tmp, "party.ics")),
                        ("category", "party-day"), ("branch", "社区党支部"),
                        ("refresh", "10m")])]
    text = dh.conf_text(tmp, feeds, extra)
    return text.replace("http_listen =", "http_listen = 127.0.0.1:%d" % port)


def scenario(tmp):
    os.makedirs(os.path.join(tmp, "db"))
    os.makedirs(os.path.join(tmp, "run"))
    dh.write(os.path.join(tmp, "study.ics"), feed_text(["s1@t", "s2@t"]))
    dh.write(os.path.join(tmp, "party.ics"), feed_text(["p1@t"], "主题党日"))
    port = free_port()
    cpath = os.path.join(tmp, "djcald.conf")
    dh.write(cpath, conf(tmp, port))
    sock = os.path.join(tmp, "run", "djcald.sock")
    d = Daemon(tmp, "export", cpath)
    try:
        d.wait_notify(r"^READY=1", "READY=1")
        d.wait(lambda: all(f["last_success"] for f in dh.db_feeds(
            os.path.join(tmp, "db", "djcald.db")).values()) and
            len(dh.db_feeds(os.path.join(tmp, "db", "djcald.db"))) == 2,
            "both feeds read")

        st, h, body = get(port, "/calendar.ics")
        check(st == 200, "GET /calendar.ics: 200")
        check(h.get("content-type") == "text/calendar; charset=utf-8",
              "Content-Type: text/calendar; charset=utf-8")
        check(h.get("etag", "").startswith('"') and "last-modified" in h,
              "ETag and Last-Modified")
        check(h.get("cache-control") == "max-age=600",
              "Cache-Control from the shortest refresh (%s)" % h.get("cache-control"))
        check(b"UID:s1@t" in body and b"UID:p1@t" in body, "both feeds in it")
        etag, lm = h.get("etag"), h.get("last-modified")

        # The same body from the control socket and from the CLI.
        rep = ctl_call(sock, {"op": "export"})
        check(rep.get("ok") and rep.get("ics", "").encode() == body,
              "the control socket's export op gives the same body")
        p = subprocess.run([os.path.join(dh.TOP, dh.BUILD, "djcal"), "--socket",
                            sock, "export", "--category", "study"],
                           capture_output=True)
        st2, _, body2 = get(port, "/calendar.ics?category=study")
        check(p.returncode == 0 and p.stdout == body2 and b"p1@t" not in body2
              and b"s1@t" in body2,
              "djcal export --category study prints GET ?category=study "
              "(exit %d)" % p.returncode)
        st2, _, body2 = get(port, "/calendar.ics?branch=%E7%A4%BE%E5%8C%BA"
                            "%E5%85%9A%E6%94%AF%E9%83%A8")
        check(st2 == 200 and b"p1@t" in body2 and b"s1@t" not in body2,
              "?branch= filters")

        # Validators
        st, h, b = get(port, "/calendar.ics", {"If-None-Match": etag})
        check(st == 304 and b == b"", "If-None-Match: 304")
        st, h, b = get(port, "/calendar.ics", {"If-Modified-Since": lm})
        check(st == 304, "If-Modified-Since: 304")
        rep = ctl_call(sock, {"op": "refresh"})
        check(rep.get("ok"), "refresh (unchanged feeds)")
        st, h, b = get(port, "/calendar.ics", {"If-None-Match": etag})
        check(st == 304, "read again unchanged: still 304")
        dh.write(os.path.join(tmp, "party.ics"), feed_text(["p1@t", "p2@t"], "主题党日"))
        rep = ctl_call(sock, {"op": "refresh", "feed": "party"})
        check(rep.get("ok"), "refresh after a change")
        st, h, b = get(port, "/calendar.ics", {"If-None-Match": etag})
        check(st == 200 and h.get("etag") != etag and b"UID:p2@t" in b,
              "a changed source feed: a new ETag and the new body")
        body = b

        # gzip and HEAD
        st, h, b = get(port, "/calendar.ics", {"Accept-Encoding": "gzip"})
        check(st == 200 and h.get("content-encoding") == "gzip" and
              gzip.decompress(b) == body and "Accept-Encoding" in h.get("vary", ""),
              "gzip")
        st, h, b = get(port, "/calendar.ics", method="HEAD")
        check(st == 200 and b == b"" and h.get("content-length") == str(len(body)),
              "HEAD: headers, Content-Length, no body")

        # Bad requests
        check(get(port, "/nope")[0] == 404, "unknown path: 404")
        check(get(port, "/calendar.ics?category=nonsense")[0] == 400,
              "bad category: 400")
        check(get(port, "/calendar.ics", method="DELETE")[0] == 405,
              "DELETE: 405")
        st, closed = raw(port, b"GET /calendar.ics?category=" + b"a" * 102400 +
                         b" HTTP/1.1\r\nHost: x\r\n\r\n")
        check(st == 0 or 400 <= st < 500, "100 KB query string: %s" %
              (st or "closed"))
        st, closed = raw(port, b"GET /calendar.ics\r\n\r\n")
        check((st == 0 and closed) or 400 <= st < 500,
              "request line without version: %s" % (st or "closed"))
        st, closed = raw(port, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" +
                         os.urandom(64))
        check(st == 0 or 400 <= st < 500, "TLS hello: %s" % (st or "closed"))
        # A slow client: half a request, then nothing.  Others are served
        # meanwhile, and it is closed after the idle timeout.
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\n")
        check(get(port, "/healthz")[0] == 200, "served while a client stalls")
        slow.settimeout(dh.DEADLINE)
        t0 = time.monotonic()
        try:
            rest = slow.recv(65536)
        except (socket.timeout, ConnectionResetError):
            rest = None
        check(rest is not None and (rest == b"" or rest.startswith(b"HTTP/1.1 4")),
              "a stalled client is closed (after %.1f s)" % (time.monotonic() - t0))
        slow.close()
        check(d.alive() and get(port, "/calendar.ics")[0] == 200,
              "the daemon stays up and serves")

        # healthz
        st, h, b = get(port, "/healthz")
        check(st == 200 and b == b"ok\n", "/healthz: 200 ok")

        # SIGHUP: a token, and a new address.
        port2 = free_port()
        dh.write(cpath, conf(tmp, port2, "http_token = %s" % TOKEN))
        since = time.monotonic()
        d.proc.send_signal(signal.SIGHUP)
        d.wait_notify(r"^READY=1", "READY=1 after SIGHUP", since)
        st, h, b = get(port2, "/calendar.ics")
        check(st == 401 and b == b"" and h.get("www-authenticate", "").startswith(
            "Bearer") and "etag" not in h, "no token: 401 and nothing else")
        check(get(port2, "/calendar.ics?token=wrong")[0] == 401, "wrong token: 401")
        check(get(port2, "/healthz")[0] == 401, "/healthz needs the token too")
        st, h, b = get(port2, "/calendar.ics?token=%s&category=study" % TOKEN)
        check(st == 200 and b"s1@t" in b, "?token=: 200")
        st, h, b = get(port2, "/calendar.ics",
                       {"Authorization": "Bearer %s" % TOKEN})
        check(st == 200 and h.get("cache-control", "").startswith("private"),
              "Authorization: Bearer: 200, private")
        try:
            get(port, "/healthz")
            moved = False
        except OSError:
            moved = True
        check(moved, "the old address is closed after the move")
        check(TOKEN not in d.text() and "token=" not in d.text(),
              "the token is never logged (debug on)")
        check("http: GET /calendar.ics" in d.text(), "requests are logged")

        rc = d.stop()
        check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)
    finally:
        d.close()


def main():
    if not os.access(dh.DJCALD, os.X_OK):
        print("FAIL - %s is not built" % dh.DJCALD)
        return 1
    tmp = tempfile.mkdtemp(prefix="djcal-export-it-")
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
    print("all export checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
