#!/bin/sh
# Random RRULEs through djcal against python-dateutil (see recur_dateutil.py).
exec python3 "$(dirname "$0")/recur_dateutil.py"
