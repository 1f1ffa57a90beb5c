#!/bin/sh
# Party-branch work end to end (issue 7): stats and compliance of a known
# year, check-ins that survive a re-ingest and a restart, hours, Chinese
# output, CSV.  See branch.py (python3 stdlib only).
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
exec "$PY" "$(dirname "$0")/branch.py"
