#!/bin/sh
# Storage faults through the real djcald (issue 9): corrupt, foreign and
# newer database files are refused and left untouched; a full disk keeps
# the last good items with the error in the feed's health.  See faults.py
# (python3 stdlib only).
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
exec "$PY" "$(dirname "$0")/faults.py"
