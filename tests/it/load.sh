#!/bin/sh
# Load (issue 9), the short form: 100 feeds refreshing every few seconds,
# 100 clients querying and 200 subscribers for 10 s; no error reply, no
# subscriber dropped, flat RSS.  `make soak` runs the long form (60 s,
# 1,000 clients and 1,000 subscribers).  See load.py (python3 stdlib).
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
exec "$PY" "$(dirname "$0")/load.py" "$@"
