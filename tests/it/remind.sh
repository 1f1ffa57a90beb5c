#!/bin/sh
# Reminders end to end (issue 5): the real daemon, real time, short leads;
# subscribers, djcal watch, SIGKILL and downtime.  See remind.py (python3
# stdlib only): about a minute, most of it waiting for due times.  First,
# systemd/djcal-watch.service as `make install` writes it passes
# `systemd-analyze verify` (skipped without systemd-analyze).
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${DJCAL_BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
fail=0
if command -v systemd-analyze >/dev/null 2>&1; then
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/djcal-watch-unit.XXXXXX") || exit 1
	sed -e "s|@BINDIR@|$build|g" "$top/systemd/djcal-watch.service" \
	    > "$tmp/djcal-watch.service"
	mkdir -p "$tmp/man/man1"
	cp "$top/man/djcal.1" "$tmp/man/man1/"
	if out=$(cd "$tmp" && MANPATH="$tmp/man" systemd-analyze verify \
	    ./djcal-watch.service 2>&1) && [ -z "$out" ]; then
		echo "ok   - djcal-watch.service: systemd-analyze verify is clean"
	else
		echo "FAIL - djcal-watch.service: systemd-analyze verify:"
		echo "$out"
		fail=1
	fi
	rm -rf "$tmp"
else
	echo "skip - djcal-watch.service: systemd-analyze is not installed"
fi
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
"$PY" "$top/tests/it/remind.py" || fail=1
exit $fail
