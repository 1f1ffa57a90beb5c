#!/bin/sh
# The ICS export through an independent engine (issue 6): examples and the
# conformance corpus, exported per feed and merged, give the occurrences
# python3-recurring-ical-events computes from the sources; icalendar parses
# every export; khal imports it.  See export_roundtrip.py.  Needs Debian's
# /usr/bin/python3 with python3-icalendar, python3-recurring-ical-events
# and khal.
exec /usr/bin/python3 "$(dirname "$0")/export_roundtrip.py"
