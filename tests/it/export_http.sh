#!/bin/sh
# The ICS export over HTTP from the real daemon (issue 6): validators,
# gzip, HEAD, bad requests, slow clients, the token, reload.  See
# export_http.py (python3 stdlib only).
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
exec "$PY" "$(dirname "$0")/export_http.py"
