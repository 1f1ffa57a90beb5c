#!/bin/sh
# Bad input loses nothing (issue 2): the real `djcald --once` over a set of
# broken file feeds next to a good one.  Each problem is named on stderr
# (feed, what, line); only broken components are skipped; every good
# component of each feed, and every other feed, is kept; a feed that turns
# unparseable keeps its last good items; nothing crashes; the exit status
# is 1 when a feed failed and 0 when none did.
#
# Runs from the top directory; $DJCAL_BUILD names the build directory
# (default build).  Queries name their window, so the wall clock's date
# does not matter.

set -u

top=$(pwd)
B=${DJCAL_BUILD:-build}
case $B in /*) ;; *) B=$top/$B ;; esac
DJCAL=$B/djcal
DJCALD=$B/djcald
DATA=$top/tests/data

tmp=$(mktemp -d "${TMPDIR:-/tmp}/djcal-badinput.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
fails=0
checks=0

fail() {
	fails=$((fails + 1))
	echo "FAIL: $*"
	if [ -s "$tmp/err" ]; then echo "--- stderr:"; head -30 "$tmp/err"; fi
}

ok() {
	checks=$((checks + 1))
}

# has FILE STRING DESCRIPTION
has() {
	if grep -qF -- "$2" "$1"; then ok; else fail "$3: no \"$2\""; fi
}

# once WANT_RC DESCRIPTION: run djcald --once; stderr in $tmp/err.
once() {
	"$DJCALD" --once -c "$tmp/djcald.conf" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if grep -qE "Sanitizer|runtime error:" "$tmp/err"; then
		fail "$2: sanitizer report"
	elif [ "$rc" -ne "$1" ]; then
		fail "$2: exit $rc, want $1"
	else
		ok
	fi
}

# uids FROM TO: the UIDs djcal --db lists in the window, sorted, one line.
uids() {
	"$DJCAL" --db "$tmp/djcal.db" --json upcoming --from "$1" --to "$2" \
	    --limit 1000 >"$tmp/json" 2>"$tmp/qerr"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "djcal --db upcoming $1 $2: exit $rc: $(cat "$tmp/qerr")"
		return
	fi
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(" ".join(sorted(set(o["uid"] or "null" for o in d["occurrences"]))))
' "$tmp/json"
}

# expect_uids FROM TO "UID ..." DESCRIPTION
expect_uids() {
	got=$(uids "$1" "$2")
	if [ "$got" = "$3" ]; then ok; else
		fail "$4: listed \"$got\", want \"$3\""
	fi
}

for f in "$DJCAL" "$DJCALD"; do
	if [ ! -x "$f" ]; then
		echo "FAIL: $f is not built"
		exit 1
	fi
done

# The feeds.
cp "$DATA/good-branch.ics" "$tmp/good.ics"
cp "$DATA/bad-truncated.ics" "$tmp/truncated.ics"
cp "$DATA/bad-components.ics" "$tmp/components.ics"
: >"$tmp/empty.ics"
python3 - "$tmp" <<'EOF'
import random, sys
d = sys.argv[1]
r = random.Random(2)
open(d + "/random.ics", "wb").write(bytes(r.randrange(256) for _ in range(65536)))
H = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//djcal//badinput//EN\r\n"
ev = ("BEGIN:VEVENT\r\nUID:small@djcal.test\r\n"
      "DTSTART;TZID=Asia/Shanghai:20260110T090000\r\nSUMMARY:支委会\r\n"
      "END:VEVENT\r\n")
big = "x" * (10 * 1024 * 1024)
open(d + "/longline.ics", "w", encoding="utf-8", newline="").write(
    H + ev + "BEGIN:VEVENT\r\nUID:long@djcal.test\r\n"
    "DTSTART:20260111T010000Z\r\nDESCRIPTION:" + big +
    "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
open(d + "/garbage.ics", "w").write("y" * (10 * 1024 * 1024))
EOF

cat >"$tmp/djcald.conf" <<EOF
[daemon]
database = $tmp/djcal.db
timezone = Asia/Shanghai
max_feed_bytes = 32M

[feed good]
url = good.ics
category = study
branch = 机关党支部

[feed missing]
url = missing.ics

[feed empty]
url = empty.ics

[feed random]
url = random.ics

[feed truncated]
url = truncated.ics

[feed components]
url = components.ics

[feed longline]
url = longline.ics

[feed garbage]
url = garbage.ics
EOF

# 1. Every kind of bad input at once.
once 1 "bad feeds"
has "$tmp/err" "feed missing: $tmp/missing.ics: No such file or directory" \
    "missing file named"
has "$tmp/err" "feed empty: empty body" "empty body named"
has "$tmp/err" "feed random: not an iCalendar stream" "random bytes named"
has "$tmp/err" "feed garbage: not an iCalendar stream" "10 MB garbage named"
has "$tmp/err" "feed truncated: line 18: VEVENT not terminated; skipped" \
    "truncated component named by line"
has "$tmp/err" "feed components: line 11: VEVENT: " \
    "invalid RRULE named by line"
has "$tmp/err" "in RRULE property" "invalid RRULE named"
has "$tmp/err" "line 19: VEVENT without DTSTART; skipped" \
    "missing DTSTART named by line"
expect_uids 2026-01-01 2026-02-01 \
    "good-1@djcal.test good-2@djcal.test long@djcal.test partyday-1@djcal.test small@djcal.test study-1@djcal.test task-1@djcal.test trunc-1@djcal.test trunc-2@djcal.test" \
    "every good component kept"

# 2. The good feed turns unparseable and the truncated one loses its end:
#    both keep what they had; the missing file appears.
printf '\377\376\000garbage' >"$tmp/good.ics"
head -c 200 "$DATA/bad-truncated.ics" >"$tmp/truncated.ics"
cp "$DATA/good-branch.ics" "$tmp/missing.ics"
once 1 "good feed broken"
has "$tmp/err" "feed good: " "broken good feed named"
has "$tmp/err" "keeping its last good items" "last good items kept"
expect_uids 2026-01-10 2026-01-12 \
    "long@djcal.test small@djcal.test trunc-1@djcal.test trunc-2@djcal.test" \
    "truncated feed keeps its items"
"$DJCAL" --db "$tmp/djcal.db" --json upcoming --from 2026-01-15 \
    --to 2026-01-21 --feed good >"$tmp/json" 2>/dev/null
has "$tmp/json" "study-1@djcal.test" "good feed's items kept"
has "$tmp/json" "机关党支部" "good feed's branch kept"
"$DJCAL" --db "$tmp/djcal.db" --json upcoming --from 2026-01-15 \
    --to 2026-01-21 --feed missing >"$tmp/json" 2>/dev/null
has "$tmp/json" "partyday-1@djcal.test" "formerly missing feed read"

# 3. Everything good again: exit 0, nothing lost.
cp "$DATA/good-branch.ics" "$tmp/good.ics"
cp "$DATA/bad-truncated.ics" "$tmp/truncated.ics"
for f in empty random garbage; do cp "$DATA/good-branch.ics" "$tmp/$f.ics"; done
once 0 "all feeds good"
expect_uids 2026-01-01 2026-02-01 \
    "good-1@djcal.test good-2@djcal.test long@djcal.test partyday-1@djcal.test small@djcal.test study-1@djcal.test task-1@djcal.test trunc-1@djcal.test trunc-2@djcal.test" \
    "all good components"

echo "badinput: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
