#!/bin/sh
# Integration test of djcal, the CLI.
#
# Ingests a small fixture feed (and the bundled examples/) with
# `djcald --once` into a temporary database and checks the commands over
# --db: exit statuses 0/1/2, the JSON shape, table alignment by display
# width, Chinese output under zh_CN, colour and NO_COLOR.  Then starts the
# real daemon on a temporary socket and checks that the socket and --db
# print the same JSON, plus feeds, refresh, export, forbidden and a
# protocol version mismatch.
#
# Runs from the top directory; $DJCAL_BUILD names the build directory
# (default build).  "Now" is fixed with DJCAL_NOW: 2026-12-01 08:00 in
# Shanghai, a Tuesday.  No fixed sleeps: waits poll with a deadline.

set -u

top=$(pwd)
B=${DJCAL_BUILD:-build}
case $B in /*) ;; *) B=$top/$B ;; esac
DJCAL=$B/djcal
DJCALD=$B/djcald
NOW=1796083200

tmp=$(mktemp -d "${TMPDIR:-/tmp}/djcal-cli.XXXXXX") || exit 1
daemon_pid=
fake_pid=
fails=0
checks=0

cleanup() {
	[ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null
	[ -n "$fake_pid" ] && kill -TERM "$fake_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	fails=$((fails + 1))
	echo "FAIL: $*"
	if [ -s "$tmp/out" ]; then echo "--- stdout:"; head -40 "$tmp/out"; fi
	if [ -s "$tmp/err" ]; then echo "--- stderr:"; head -20 "$tmp/err"; fi
}

ok() {
	checks=$((checks + 1))
}

# run WANT_RC DESCRIPTION COMMAND...: stdout in $tmp/out, stderr in $tmp/err.
run() {
	want=$1 desc=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	# Under SANITIZE=1 a finding may exit 1, which some checks expect.
	if grep -qE "Sanitizer|runtime error:" "$tmp/err"; then
		fail "$desc: sanitizer report ($*)"
		return 1
	fi
	if [ "$rc" -ne "$want" ]; then
		fail "$desc: exit $rc, want $want ($*)"
		return 1
	fi
	ok
	return 0
}

# has FILE PATTERN DESCRIPTION: a fixed string is in the file.
has() {
	if grep -qF -- "$2" "$1"; then ok; else fail "$3: no \"$2\" in $(basename "$1")"; fi
}

hasnt() {
	if grep -qF -- "$2" "$1"; then fail "$3: \"$2\" in $(basename "$1")"; else ok; fi
}

# pycheck DESCRIPTION PYTHON-CODE FILE: the code reads the file as `text`.
pycheck() {
	if python3 - "$3" >"$tmp/py.err" 2>&1 <<EOF
import json, sys, unicodedata
text = open(sys.argv[1], encoding="utf-8").read()
$2
EOF
	then ok; else fail "$1: $(tail -3 "$tmp/py.err")"; fi
}

for f in "$DJCAL" "$DJCALD"; do
	if [ ! -x "$f" ]; then
		echo "FAIL: $f is not built"
		exit 1
	fi
done

# The fixture: three weeks of a weekly theory study with one cancelled
# instance, a branch committee meeting, an all-day Party day and three
# tasks (open, open, done).
cat >"$tmp/fixture.ics" <<'EOF'
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//djcal//cli test//ZH
BEGIN:VEVENT
UID:zwh-20261208@example.org
DTSTAMP:20261101T000000Z
DTSTART;TZID=Asia/Shanghai:20261208T150000
DTEND;TZID=Asia/Shanghai:20261208T163000
SUMMARY:12月支委会
LOCATION:三楼会议室
CATEGORIES:支委会
END:VEVENT
BEGIN:VEVENT
UID:study-weekly@example.org
DTSTAMP:20261101T000000Z
DTSTART;TZID=Asia/Shanghai:20261201T090000
DTEND;TZID=Asia/Shanghai:20261201T113000
RRULE:FREQ=WEEKLY;COUNT=6
SUMMARY:Weekly theory study
LOCATION:Room 301
CATEGORIES:理论学习
END:VEVENT
BEGIN:VEVENT
UID:study-weekly@example.org
DTSTAMP:20261101T000000Z
RECURRENCE-ID;TZID=Asia/Shanghai:20261215T090000
DTSTART;TZID=Asia/Shanghai:20261215T090000
DTEND;TZID=Asia/Shanghai:20261215T113000
SUMMARY:Weekly theory study
CATEGORIES:理论学习
STATUS:CANCELLED
END:VEVENT
BEGIN:VEVENT
UID:partyday-dec@example.org
DTSTAMP:20261101T000000Z
DTSTART;VALUE=DATE:20261210
DTEND;VALUE=DATE:20261211
SUMMARY:12月主题党日：参观红色教育基地
END:VEVENT
BEGIN:VTODO
UID:std-task-1@example.org
DTSTAMP:20261101T000000Z
DUE;TZID=Asia/Shanghai:20261205T180000
SUMMARY:上报支部标准化自查表
CATEGORIES:标准化建设
END:VTODO
BEGIN:VTODO
UID:std-task-2@example.org
DTSTAMP:20261101T000000Z
DUE;VALUE=DATE:20261220
SUMMARY:Update branch member roster
CATEGORIES:standardization
END:VTODO
BEGIN:VTODO
UID:std-task-3@example.org
DTSTAMP:20261101T000000Z
DUE;VALUE=DATE:20261120
COMPLETED:20261118T100000Z
STATUS:COMPLETED
SUMMARY:整理党费收缴记录
CATEGORIES:standardization
END:VTODO
END:VCALENDAR
EOF

{
	cat <<EOF
[daemon]
database = $tmp/djcald.db
socket = $tmp/djcald.sock
socket_mode = 0666
admin_group = root
http_listen =
timezone = Asia/Shanghai

[feed fixture]
url = $tmp/fixture.ics
category = study
branch = 机关党支部
EOF
	for f in "$top"/examples/*.ics; do
		[ -f "$f" ] || continue
		n=$(basename "$f" .ics)
		printf '\n[feed example-%s]\nurl = %s\n' "$n" "$f"
		[ "$n" = holidays ] && echo "kind = holidays"
	done
} >"$tmp/djcald.conf"

run 0 "djcald --once ingests the feeds" "$DJCALD" --once -c "$tmp/djcald.conf"

DB=$tmp/djcald.db
export DJCAL_NOW=$NOW
export LANG=C.UTF-8
unset LC_ALL LC_MESSAGES LANGUAGE NO_COLOR DJCAL_SOCKET DJCAL_LOCALEDIR LOCPATH
D() {
	"$DJCAL" "$@"
}

# --- JSON shape over --db

run 0 "upcoming --json" D --db "$DB" upcoming --json --feed fixture --days 30
cp "$tmp/out" "$tmp/upcoming.json"
pycheck "upcoming --json shape" '
j = json.loads(text)
assert list(j) == ["occurrences"], list(j)
occ = j["occurrences"]
assert len(occ) == 9, len(occ)
keys = {"uid", "feed", "branch", "kind", "category", "summary", "location",
        "description", "start", "end", "all_day", "recurrence_id", "status"}
for o in occ:
    assert keys <= set(o), keys - set(o)
    assert o["feed"] == "fixture"
    assert o["kind"] in ("event", "task")
    assert o["category"] in ("study", "party-day", "volunteer",
                             "standardization", "other")
starts = [o["start"] for o in occ]
assert occ[0]["start"] == "2026-12-01T09:00:00+08:00", occ[0]["start"]
pd = [o for o in occ if o["uid"] == "partyday-dec@example.org"][0]
assert pd["all_day"] is True and pd["start"] == "2026-12-10", pd
assert pd["end"] == "2026-12-11" and pd["category"] == "party-day", pd
zwh = [o for o in occ if o["uid"] == "zwh-20261208@example.org"][0]
assert zwh["meeting_type"] == "branch-committee", zwh
assert zwh["branch"] == "机关党支部", zwh
c = [o for o in occ if o["status"] == "CANCELLED"]
assert len(c) == 1 and c[0]["start"] == "2026-12-15T09:00:00+08:00", c
' "$tmp/upcoming.json"

run 0 "upcoming --limit" D --db "$DB" --json upcoming --feed fixture --limit 2
pycheck "upcoming --limit 2" '
assert len(json.loads(text)["occurrences"]) == 2' "$tmp/out"

run 0 "upcoming --category" D --db "$DB" --json upcoming --feed fixture \
    --from 2026-12-01 --to 2027-01-01 --category party-day --category 学习
pycheck "categories filter" '
occ = json.loads(text)["occurrences"]
assert {o["category"] for o in occ} == {"study", "party-day"}, occ
assert len(occ) == 7, len(occ)' "$tmp/out"

run 0 "upcoming --search" D --db "$DB" --json upcoming --feed fixture \
    --days 40 --search 支委
pycheck "search filter" '
occ = json.loads(text)["occurrences"]
assert [o["summary"] for o in occ] == ["12月支委会"], occ' "$tmp/out"

run 0 "today" D --db "$DB" --json today --feed fixture
pycheck "today is 1 December" '
occ = json.loads(text)["occurrences"]
assert [o["start"][:10] for o in occ] == ["2026-12-01"], occ' "$tmp/out"

# This calendar week: Monday 30 November to Sunday 6 December.
run 0 "week" D --db "$DB" --json week --feed fixture
pycheck "week is Monday to Sunday" '
occ = json.loads(text)["occurrences"]
assert [o["start"][:10] for o in occ] == ["2026-12-01", "2026-12-05"], occ
' "$tmp/out"

run 0 "tasks --all" D --db "$DB" tasks --all --json
pycheck "tasks shape" '
j = json.loads(text)
assert list(j) == ["tasks"], list(j)
mine = [t for t in j["tasks"] if t["feed"] == "fixture"]
assert [t["uid"] for t in mine] == ["std-task-3@example.org",
    "std-task-1@example.org", "std-task-2@example.org"], mine
assert all(t["kind"] == "task" and "due" in t for t in mine)' "$tmp/out"

run 0 "tasks --done" D --db "$DB" --json tasks --done
pycheck "tasks --done" '
mine = [t for t in json.loads(text)["tasks"] if t["feed"] == "fixture"]
assert [t["uid"] for t in mine] == ["std-task-3@example.org"], mine' "$tmp/out"

run 0 "feeds --json" D --db "$DB" --json feeds
pycheck "feeds shape" '
f = {x["name"]: x for x in json.loads(text)["feeds"]}
x = f["fixture"]
for k in ("name", "url", "category", "branch", "last_fetch", "last_success",
          "last_error", "items", "next_fetch"):
    assert k in x, k
assert x["items"] == 6 and x["last_error"] is None, x
assert x["last_success"] is not None and x["next_fetch"] is None, x' "$tmp/out"

# --- exit statuses

run 2 "no command" D --db "$DB"
run 2 "unknown command" D --db "$DB" frobnicate
has "$tmp/err" "unknown command" "unknown command message"
run 2 "unknown option" D --db "$DB" upcoming --bogus
run 2 "unknown global option" D --bogus upcoming
run 2 "bad time" D --db "$DB" upcoming --from tomorow
has "$tmp/err" "not a time" "bad time message"
run 2 "nonexistent date" D --db "$DB" upcoming --from 2026-02-30
run 2 "bad category" D --db "$DB" upcoming --category meeting
has "$tmp/err" "unknown category" "bad category message"
run 2 "bad --days" D --db "$DB" upcoming --days x
run 2 "zero --days" D --db "$DB" upcoming --days 0
run 2 "bad --limit" D --db "$DB" upcoming --limit -1
run 2 "--to before --from" D --db "$DB" upcoming --from +3d --to today
run 2 "--days with --to" D --db "$DB" upcoming --days 3 --to +3d
run 2 "extra argument" D --db "$DB" upcoming soon
run 2 "today takes no window" D --db "$DB" today --days 3
run 2 "two task states" D --db "$DB" tasks --open --done
run 2 "bad --color" D --db "$DB" --color=sometimes upcoming
run 2 "refresh needs the daemon" D --db "$DB" refresh
has "$tmp/err" "djcald" "refresh --db message"
run 2 "export needs the daemon" D --db "$DB" export
run 2 "--socket with --db" D --socket "$tmp/x.sock" --db "$DB" feeds
run 2 "bad time before connecting" env DJCAL_SOCKET="$tmp/none.sock" \
    "$DJCAL" upcoming --to 2026-13-01
run 1 "missing database" D --db "$tmp/none.db" upcoming
run 1 "no daemon" env DJCAL_SOCKET="$tmp/none.sock" "$DJCAL" upcoming
has "$tmp/err" "djcald is not running (no socket at $tmp/none.sock)" \
    "no daemon message"
has "$tmp/err" "--db" "no daemon message suggests --db"
run 0 "--help" D --help
has "$tmp/out" "usage: djcal" "--help prints the usage"
run 0 "command --help" D upcoming --help
has "$tmp/out" "--days N" "upcoming --help"
run 0 "--version" D --version
has "$tmp/out" "protocol 1" "--version names the protocol"
run 0 "global options after the command" D upcoming --db "$DB" --json \
    --feed fixture
pycheck "after the command" 'json.loads(text)["occurrences"]' "$tmp/out"

# --- tables: English, aligned by display width

run 0 "upcoming table" D --db "$DB" --color=never upcoming --feed fixture \
    --days 30
cp "$tmp/out" "$tmp/table.txt"
has "$tmp/table.txt" "Tue  8 Dec 15:00-16:30  study/branch committee" \
    "English date and meeting type"
has "$tmp/table.txt" "Thu 10 Dec all day" "all-day event"
has "$tmp/table.txt" "[cancelled] Weekly theory study" "cancelled mark"

# Every column starts at the same display column on every line (CJK
# characters are two columns), with two blanks before it.
ALIGN='
def cols(line):
    out = []
    for ch in line:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        out.append(ch)
        if w == 2:
            out.append(None)
    return out
lines = text.rstrip("\n").split("\n")
head = cols(lines[0])
starts = [p for p in range(2, len(head)) if head[p] not in (" ", None)
          and head[p-1] == " " and head[p-2] == " "]
assert len(starts) >= 3, starts
for line in lines[1:]:
    c = cols(line)
    for p in starts:
        if p >= len(c):
            continue
        assert c[p-1] == " " and c[p-2] == " ", (line, p)
        assert c[p] is not None, ("a wide character across a column", line)
'
pycheck "English table aligned" "$ALIGN" "$tmp/table.txt"

run 0 "tasks table" D --db "$DB" --color=never tasks --all
has "$tmp/out" "4 days left" "days left"
has "$tmp/out" "done" "done task"
pycheck "tasks table aligned" "$ALIGN" "$tmp/out"
run 0 "overdue tasks" env DJCAL_NOW=$((NOW + 10 * 86400)) "$DJCAL" \
    --db "$DB" --color=never tasks --overdue
has "$tmp/out" "overdue 6 days" "overdue days"

run 0 "feeds table" D --db "$DB" --color=never feeds
has "$tmp/out" "fixture" "feeds table lists the fixture"
pycheck "feeds table aligned" "$ALIGN" "$tmp/out"

# --- colour

run 0 "--color=always" D --db "$DB" --color=always upcoming --feed fixture
if grep -q "$(printf '\033')\[" "$tmp/out"; then ok; else
	fail "--color=always has no escape"; fi
run 0 "--color=never" D --db "$DB" --color=never upcoming --feed fixture
if grep -q "$(printf '\033')" "$tmp/out"; then fail "--color=never coloured"
else ok; fi
run 0 "auto, not a terminal" D --db "$DB" upcoming --feed fixture
if grep -q "$(printf '\033')" "$tmp/out"; then fail "a pipe got colour"
else ok; fi
run 0 "NO_COLOR with --color=always" env NO_COLOR=1 "$DJCAL" --db "$DB" \
    --color=always upcoming --feed fixture
if grep -q "$(printf '\033')\[" "$tmp/out"; then ok; else
	fail "--color=always must win over NO_COLOR"; fi
# On a terminal (script(1) gives one): colour, unless NO_COLOR.
if command -v script >/dev/null 2>&1 &&
    script -qec true /dev/null >/dev/null 2>&1; then
	script -qec "'$DJCAL' --db '$DB' upcoming --feed fixture" /dev/null \
	    </dev/null >"$tmp/out" 2>&1
	if grep -q "$(printf '\033')\[3" "$tmp/out"; then ok; else
		fail "a terminal got no colour"; fi
	NO_COLOR=1 script -qec "'$DJCAL' --db '$DB' upcoming --feed fixture" \
	    /dev/null </dev/null >"$tmp/out" 2>&1
	if grep -q "$(printf '\033')\[3" "$tmp/out"; then
		fail "NO_COLOR on a terminal still coloured"; else ok; fi
	NO_COLOR= script -qec "'$DJCAL' --db '$DB' upcoming --feed fixture" \
	    /dev/null </dev/null >"$tmp/out" 2>&1
	if grep -q "$(printf '\033')\[3" "$tmp/out"; then ok; else
		fail "an empty NO_COLOR must not disable colour"; fi
else
	echo "skip: terminal colour checks (script(1) cannot make a pty)"
fi

# --- Chinese

# zh_CN.UTF-8 may not be installed: djcal then falls back to C.UTF-8 and
# LANGUAGE.  Where localedef works, also check a real zh_CN locale.
zh_check() {
	label=$1
	shift
	run 0 "$label: upcoming" env "$@" "$DJCAL" --db "$DB" --color=never \
	    upcoming --feed fixture --days 40
	cp "$tmp/out" "$tmp/zh.txt"
	has "$tmp/zh.txt" "时间" "$label: header"
	has "$tmp/zh.txt" "12月8日 周二 15:00-16:30" "$label: date"
	has "$tmp/zh.txt" "学习/支委会" "$label: category and meeting type"
	has "$tmp/zh.txt" "主题党日" "$label: category"
	has "$tmp/zh.txt" "12月10日 周四 全天" "$label: all day"
	has "$tmp/zh.txt" "【已取消】Weekly theory study" "$label: cancelled"
	has "$tmp/zh.txt" "2027年1月5日 周二" "$label: next year's date"
	pycheck "$label: table aligned" "$ALIGN" "$tmp/zh.txt"
	run 0 "$label: tasks" env "$@" "$DJCAL" --db "$DB" --color=never \
	    tasks --all
	has "$tmp/out" "剩余4天" "$label: days left"
	has "$tmp/out" "已完成" "$label: done"
	has "$tmp/out" "标准化建设" "$label: standardization"
	pycheck "$label: tasks aligned" "$ALIGN" "$tmp/out"
	run 0 "$label: overdue" env "$@" DJCAL_NOW=$((NOW + 10 * 86400)) \
	    "$DJCAL" --db "$DB" --color=never tasks
	has "$tmp/out" "逾期6天" "$label: overdue days"
	run 2 "$label: bad time" env "$@" "$DJCAL" --db "$DB" upcoming \
	    --from tomorow
	has "$tmp/err" "不是有效的时间" "$label: message"
	run 1 "$label: no daemon" env "$@" DJCAL_SOCKET="$tmp/none.sock" \
	    "$DJCAL" feeds
	has "$tmp/err" "djcald 未运行" "$label: no daemon message"
}

LD=$B/locale
if [ -f "$LD/zh_CN/LC_MESSAGES/djcal.mo" ]; then
	zh_check "LANG=zh_CN.UTF-8" LANG=zh_CN.UTF-8 DJCAL_LOCALEDIR="$LD"
	zh_check "LANGUAGE=zh_CN" LANG=C.UTF-8 LANGUAGE=zh_CN \
	    DJCAL_LOCALEDIR="$LD"
	mkdir -p "$tmp/locale"
	localedef -i zh_CN -f UTF-8 "$tmp/locale/zh_CN.UTF-8" >/dev/null 2>&1
	if [ -f "$tmp/locale/zh_CN.UTF-8/LC_CTYPE" ]; then
		zh_check "zh_CN locale" LOCPATH="$tmp/locale" \
		    LANG=zh_CN.UTF-8 DJCAL_LOCALEDIR="$LD"
		# LC_CTYPE=C: the width falls back to the built-in table.
		zh_check "zh_CN messages, LC_CTYPE=C" LOCPATH="$tmp/locale" \
		    LANG=C LC_MESSAGES=zh_CN.UTF-8 LANGUAGE=zh_CN \
		    DJCAL_LOCALEDIR="$LD"
	else
		echo "skip: a real zh_CN locale (localedef failed)"
	fi
else
	fail "no catalogue at $LD/zh_CN/LC_MESSAGES/djcal.mo (make po-build)"
fi
run 0 "LANG=C is English" env LANG=C "$DJCAL" --db "$DB" --color=never \
    upcoming --feed fixture
has "$tmp/out" "WHEN" "English header"
pycheck "LANG=C table aligned" "$ALIGN" "$tmp/out"

# --- over the socket

wait_socket() {
	# Poll until djcal gets an answer; a deadline, not a fixed sleep.
	i=0
	while [ $i -lt 200 ]; do
		if "$DJCAL" --socket "$1" feeds >/dev/null 2>"$tmp/wait.err"
		then
			return 0
		fi
		if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

S=$tmp/djcald.sock
"$DJCALD" -f -c "$tmp/djcald.conf" 2>"$tmp/daemon.log" &
daemon_pid=$!
if ! wait_socket "$S" "$daemon_pid"; then
	fail "djcald did not serve $S within 10 s: $(cat "$tmp/wait.err") $(tail -5 "$tmp/daemon.log")"
	echo "cli.sh: $checks checks, $fails failed"
	exit 1
fi
ok

run 0 "socket: upcoming --json" D --socket "$S" upcoming --json --days 400
cp "$tmp/out" "$tmp/sock.json"
run 0 "--db: upcoming --json" D --db "$DB" upcoming --json --days 400
if cmp -s "$tmp/sock.json" "$tmp/out"; then ok; else
	fail "upcoming --json differs between the socket and --db"
	diff "$tmp/sock.json" "$tmp/out" | head -20
fi
pycheck "socket: occurrences" '
occ = json.loads(text)["occurrences"]
assert len(occ) > 9, len(occ)' "$tmp/sock.json"

# Any window, filters included, and through DJCAL_SOCKET.
run 0 "socket: a filtered window" env DJCAL_SOCKET="$S" "$DJCAL" --json \
    upcoming --from 2026-01-01 --to "2027-06-30 12:00" --category study \
    --category party-day --search 党
cp "$tmp/out" "$tmp/sock.json"
run 0 "--db: a filtered window" D --db "$DB" --json upcoming \
    --from 2026-01-01 --to "2027-06-30 12:00" --category study \
    --category party-day --search 党
if cmp -s "$tmp/sock.json" "$tmp/out"; then ok; else
	fail "a filtered upcoming differs between the socket and --db"; fi

run 0 "socket: tasks --all" D --socket "$S" --json tasks --all
cp "$tmp/out" "$tmp/sock.json"
run 0 "--db: tasks --all" D --db "$DB" --json tasks --all
if cmp -s "$tmp/sock.json" "$tmp/out"; then ok; else
	fail "tasks --json differs between the socket and --db"; fi

run 0 "socket: table" D --socket "$S" --color=never upcoming --feed fixture \
    --days 30
if cmp -s "$tmp/out" "$tmp/table.txt"; then ok; else
	fail "the table differs between the socket and --db"; fi

run 0 "socket: feeds" D --socket "$S" --json feeds
pycheck "socket: feeds" '
f = {x["name"]: x for x in json.loads(text)["feeds"]}
assert f["fixture"]["items"] == 6, f["fixture"]
assert f["fixture"]["next_fetch"] is not None, f["fixture"]' "$tmp/out"
run 0 "socket: feeds table" D --socket "$S" feeds
has "$tmp/out" "fixture" "socket: feeds table"

run 0 "socket: refresh one" D --socket "$S" refresh fixture
has "$tmp/out" "fixture" "refresh names the feed"
has "$tmp/out" "unchanged" "an unchanged feed"
run 0 "socket: refresh all --json" D --socket "$S" --json refresh
pycheck "refresh results" '
r = {x["feed"]: x for x in json.loads(text)["results"]}
assert r["fixture"]["ok"] is True, r' "$tmp/out"
run 1 "socket: refresh of an unknown feed" D --socket "$S" refresh nosuch
has "$tmp/err" "nosuch" "unknown feed message"
run 2 "socket: refresh of two feeds" D --socket "$S" refresh a b

# Bash completion: commands, options, categories, and feed names from the
# daemon and from --db.
if command -v bash >/dev/null 2>&1; then
	cat >"$tmp/comp.bash" <<EOF
PATH="$B:\$PATH"
. "$top/contrib/djcal.bash-completion"
t() {
	COMP_WORDS=("\$@")
	COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_djcal
	echo "\$*: \${COMPREPLY[*]}"
}
t djcal up
t djcal upcoming --category p
t djcal tasks --o
t djcal --color = a
t djcal --socket "$S" refresh fi
t djcal --db "$DB" upcoming --feed fix
EOF
	bash "$tmp/comp.bash" >"$tmp/out" 2>"$tmp/err"
	has "$tmp/out" "djcal up: upcoming" "completion: command"
	has "$tmp/out" "--category p: party-day" "completion: category"
	has "$tmp/out" "tasks --o: --open --overdue" "completion: option"
	has "$tmp/out" "--color = a: auto always" "completion: --color="
	has "$tmp/out" "refresh fi: fixture" "completion: feeds from djcald"
	has "$tmp/out" "--feed fix: fixture" "completion: feeds from --db"
else
	echo "skip: bash completion (no bash)"
fi

# A feed that breaks: refresh reports it and exits 1; the old data stays.
cp "$tmp/fixture.ics" "$tmp/fixture.good"
printf 'not a calendar\n' >"$tmp/fixture.ics"
run 1 "socket: refresh of a broken feed" D --socket "$S" --color=never \
    refresh fixture
has "$tmp/out" "failed" "refresh shows the failure"
has "$tmp/err" "failed" "refresh failure message"
run 0 "socket: feeds after a failure" D --socket "$S" --color=never feeds
pycheck "feeds table after a failure" "$ALIGN" "$tmp/out"
cp "$tmp/fixture.good" "$tmp/fixture.ics"

"$DJCAL" --socket "$S" export >"$tmp/out" 2>"$tmp/err"
rc=$?
if grep -q "not available" "$tmp/err"; then
	echo "skip: export over the socket (djcald has no export yet)"
elif [ $rc -ne 0 ]; then
	fail "socket: export: exit $rc"
else
	ok
	has "$tmp/out" "BEGIN:VCALENDAR" "export writes the ICS"
	has "$tmp/out" "END:VCALENDAR" "export writes the whole ICS"
	run 0 "socket: export --category" D --socket "$S" export \
	    --category party-day --feed fixture
	has "$tmp/out" "主题党日" "filtered export"
	hasnt "$tmp/out" "支委会" "filtered export leaves out study"
fi

# A user outside admin_group gets forbidden for refresh (not for reads).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=65534 --regid=65534 --clear-groups "$DJCAL" --version \
    >/dev/null 2>&1; then
	chmod 0755 "$tmp"
	run 0 "nobody: feeds" setpriv --reuid=65534 --regid=65534 \
	    --clear-groups "$DJCAL" --socket "$S" feeds
	run 1 "nobody: refresh" setpriv --reuid=65534 --regid=65534 \
	    --clear-groups "$DJCAL" --socket "$S" refresh
	has "$tmp/err" "root" "forbidden message names root"
	has "$tmp/err" "admin" "forbidden message names the admin group"
else
	echo "skip: forbidden (needs root, setpriv and a build that uid 65534 can run)"
fi

kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=
if [ $rc -eq 0 ]; then ok; else fail "djcald exited $rc on SIGTERM"; fi

# --- a daemon of another protocol version (a stand-in server)

fake_server() {
	python3 - "$1" "$2" "$tmp/fake.ready" <<'EOF' &
import json, os, socket, sys
path, version, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
open(ready, "w").close()
c, _ = s.accept()
f = c.makefile("rwb")
req = json.loads(f.readline())
f.write((json.dumps({"ok": True, "id": req.get("id"), "version": version,
                     "daemon": "9.9"}) + "\n").encode())
f.flush()
c.close()
EOF
	fake_pid=$!
	i=0
	while [ ! -f "$tmp/fake.ready" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

for v in 2 0; do
	rm -f "$tmp/fake.sock" "$tmp/fake.ready"
	fake_server "$tmp/fake.sock" $v
	run 1 "protocol $v" D --socket "$tmp/fake.sock" feeds
	if [ $v -eq 2 ]; then
		has "$tmp/err" "djcald speaks protocol 2, this djcal speaks 1: upgrade djcal" \
		    "newer daemon message"
	else
		has "$tmp/err" "djcald speaks protocol 0, this djcal speaks 1: upgrade djcald" \
		    "older daemon message"
	fi
	wait "$fake_pid" 2>/dev/null
	fake_pid=
done

echo "cli.sh: $checks checks, $fails failed"
[ $fails -eq 0 ]
