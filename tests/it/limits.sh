#!/bin/sh
# Resource limits through the real djcald (issue 9): max_items,
# max_feed_bytes of a growing file, max_clients_per_uid over the socket
# (as root); each limit reported and logged once.  See limits.py.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
exec "$PY" "$(dirname "$0")/limits.py" "$@"
