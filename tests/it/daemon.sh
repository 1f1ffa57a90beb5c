#!/bin/sh
# The daemon end to end (issue 3): http(s) polling, conditional requests,
# failures and back-off, reload, systemd notification, idle, SIGTERM.
# See daemon.py.  Needs python3 (stdlib only) and openssl; strace is
# optional (the idle check is skipped without it).
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
exec "$PY" "$(dirname "$0")/daemon.py"
