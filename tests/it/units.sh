#!/bin/sh
# The systemd units (issue 3): `systemd-analyze verify` is clean and the
# service's exposure in `systemd-analyze security --offline=true` stays
# below 2.0.  Skipped where systemd-analyze is missing.
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${DJCAL_BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "skip - systemd-analyze is not installed"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/djcal-units.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
mkdir -p "$tmp/units" "$tmp/man/man5" "$tmp/man/man8"
# As `make install` writes them, with the daemon in the build directory.
for u in djcald.service djcald.socket; do
	sed -e "s|@SBINDIR@|$build|g" -e 's|@SYSCONFDIR@|/etc|g' \
	    "$top/systemd/$u" > "$tmp/units/$u"
done
cp "$top/man/djcald.8" "$tmp/man/man8/"
cp "$top/man/djcald.conf.5" "$tmp/man/man5/"
if out=$(cd "$tmp/units" && MANPATH="$tmp/man" systemd-analyze verify \
    ./djcald.service ./djcald.socket 2>&1) && [ -z "$out" ]; then
	echo "ok   - systemd-analyze verify is clean"
else
	echo "FAIL - systemd-analyze verify:"
	echo "$out"
	fail=1
fi
score=$(systemd-analyze security --offline=true \
    "$tmp/units/djcald.service" 2>/dev/null |
    sed -n 's/.*Overall exposure level for djcald.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s < 2.0) }'; then
	echo "ok   - exposure $score (below 2.0)"
else
	echo "FAIL - exposure '${score:-?}' is not below 2.0"
	fail=1
fi
exit $fail
