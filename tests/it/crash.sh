#!/bin/sh
# Crash safety (issue 9): djcald killed with SIGKILL 50 times, during the
# ingest of a large feed and during reminder delivery; after each restart
# the database is intact, the last committed ingest is whole and no
# reminder is lost or doubled for a subscriber that resumes.  See crash.py
# (python3 stdlib only): about 1.5 to 2.5 minutes.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
exec "$PY" "$(dirname "$0")/crash.py" "$@"
