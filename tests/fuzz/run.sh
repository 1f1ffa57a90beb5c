#!/bin/sh
# Run each libFuzzer target for a while: `make fuzz` calls this with the
# fuzz build directory, the seconds per target and the targets' names.
#
# Each target starts from its seeds (copied into $B/seeds/<target>, named
# by content) and from what earlier runs found ($B/corpus/<target>, where
# new inputs go).  A finding is written to $B/crashes/<target>-crash-...
# (or -timeout-, -oom-, -leak-); keep it as a regression case in
# tests/fuzz/regress/<target>/ once it is fixed, and `make check` replays
# it (tests/check_fuzz.c).  Exit status: 1 when any target found anything.

set -u
B=${1:-build-fuzz}
SECONDS_EACH=${2:-60}
shift 2 2>/dev/null || shift $#
TARGETS=${*:-ingest proto config}

# seeds TARGET: the directories and name patterns of its seeds.
seeds() {
	case $1 in
	ingest)	find tests/corpus tests/data examples -type f \
		    \( -name '*.ics' -o -name '*.ical' \) ;;
	proto)	: ;;
	config)	find etc tests/data -type f -name '*.conf' ;;
	esac
	[ -d "tests/fuzz/seeds/$1" ] && find "tests/fuzz/seeds/$1" -type f
	[ -d "tests/fuzz/regress/$1" ] && find "tests/fuzz/regress/$1" -type f
	return 0
}

# The -max_len of each target; tests/check_fuzz.c cuts replays the same.
max_len() {
	case $1 in
	ingest)	echo 1048576 ;;		# 1 MiB: a body
	proto)	echo 1153434 ;;		# 1.1 MiB: past DJ_MAX_LINE
	config)	echo 65536 ;;
	esac
}

mkdir -p "$B/crashes" || exit 1
fail=0
summary=""
for t in $TARGETS; do
	bin=$B/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is missing" >&2
		fail=1
		continue
	fi
	rm -rf "$B/seeds/$t"
	mkdir -p "$B/seeds/$t" "$B/corpus/$t"
	seeds "$t" | while IFS= read -r f; do
		h=$(sha1sum <"$f" | cut -c1-40)
		cp "$f" "$B/seeds/$t/$h"
	done
	# One line past DJ_MAX_LINE, then another request: too_large.  Made
	# here rather than kept in git (check_fuzz.c makes it too).
	if [ "$t" = proto ]; then
		{ printf '{"op":"ping","pad":"'
		  head -c 1048576 /dev/zero | tr '\0' x
		  printf '"}\n{"op":"ping"}\n'; } >"$B/seeds/$t/too-large"
	fi
	echo "== fuzz $t: $SECONDS_EACH s, $(ls "$B/seeds/$t" | wc -l) seeds," \
	    "$(ls "$B/corpus/$t" | wc -l) in the corpus"
	# close_fd_mask=2: the target's own log lines go nowhere; libFuzzer
	# and the sanitizers still report on a copy of stderr.
	"$bin" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" \
	    -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
	    -print_final_stats=1 -artifact_prefix="$B/crashes/$t-" \
	    "$B/corpus/$t" "$B/seeds/$t" >"$B/fuzz-$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$B/fuzz-$t.log" | tail -1)
	if [ "$rc" -ne 0 ]; then
		fail=1
		echo "FAIL: fuzz $t (exit $rc): see $B/fuzz-$t.log" >&2
		grep -E "ERROR: |SUMMARY: |Test unit written to" \
		    "$B/fuzz-$t.log" | head -10 >&2
	fi
	summary="$summary$t: ${runs:-?} executions in $SECONDS_EACH s (exit $rc)
"
done
printf '%s' "$summary"
exit $fail
