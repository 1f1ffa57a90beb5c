#!/bin/sh
# The Debian packages on this machine (issue 10), as root: build them, install
# them with apt-get, run djcald the way djcald.service would (systemd-run is
# not available in containers: the ExecStart line of the installed unit, as a
# DynamicUser-like uid in the group djcal, with $STATE_DIRECTORY and
# $RUNTIME_DIRECTORY), query it with the installed djcal, upgrade (keeping
# and migrating the database), remove, purge, and check what remains.
#
# Run by `make check-deb`, never by `make check`.  Everything it creates is
# removed on exit, failure included (trap): the packages are purged, and the
# group djcal is deleted when it did not exist before.  It refuses to run
# where djcal is already installed or its directories exist.
#
# Environment:
#   DJCAL_DEB_FROM  git revision to upgrade from as well ("auto", the default:
#                   the commit before the last change of STORE_SCHEMA_VERSION,
#                   so that the upgrade migrates a real older schema; "none":
#                   only the same-source upgrade with a bumped version)
#   DJCAL_DEB_KEEP  1: keep the work directory (the .debs, logs) for a look
#   DJCAL_DEB_SOCKET_TIMEOUT  seconds to wait for djcald's socket (30)
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
from=${DJCAL_DEB_FROM:-auto}
deadline=${DJCAL_DEB_SOCKET_TIMEOUT:-30}
sock=/run/djcald/djcald.sock
db=/var/lib/djcald/djcald.db
fail=0
daemon_pid=
work=
made_group=0
made_private=0
installed=0

say() { printf '%s\n' "$*"; }
ok() { say "ok   - $*"; }
bad() { say "FAIL - $*"; fail=1; }
# A failure after which the rest would make no sense.
die() { say "FAIL - $*"; fail=1; exit 1; }
check() {	# check DESCRIPTION COMMAND...
	desc=$1; shift
	if "$@" >"$work/out" 2>&1; then ok "$desc"; else
		bad "$desc"; sed 's/^/       /' "$work/out"; fi
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	set +e
	if [ -n "$daemon_pid" ]; then
		kill -TERM "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	if [ "$installed" = 1 ] || dpkg-query -W -f='${Status}' djcald \
	    2>/dev/null | grep -q "installed\|config-files"; then
		say "cleanup: purging djcald and djcal"
		apt-get purge -y -q djcald djcal >/dev/null 2>&1
	fi
	rm -rf /var/lib/djcald /var/lib/private/djcald /run/djcald /etc/djcald
	[ "$made_private" = 1 ] && rmdir /var/lib/private 2>/dev/null
	if [ "$made_group" = 1 ] && getent group djcal >/dev/null; then
		say "cleanup: deleting the group djcal this test made"
		groupdel djcal
	fi
	if [ -n "$work" ]; then
		if [ "${DJCAL_DEB_KEEP:-0}" = 1 ]; then
			say "kept $work"
		else
			chmod -R u+w "$work" 2>/dev/null
			rm -rf "$work"
		fi
	fi
	if [ "$fail" = 0 ]; then say "PASS - test-deb.sh"; else
		say "FAIL - test-deb.sh"; fi
	exit "$fail"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# --- Preconditions ------------------------------------------------------

[ "$(id -u)" = 0 ] || die "needs root: it installs, upgrades and purges the packages on this machine"
for t in dpkg-buildpackage apt-get dpkg-query setpriv sqlite3 git; do
	command -v "$t" >/dev/null 2>&1 || die "$t is not installed"
done
if dpkg-query -W -f='${Status}' djcald djcal 2>/dev/null |
    grep -q "installed\|config-files"; then
	installed=0
	trap - EXIT
	die "djcald or djcal is installed here already; not touching it"
fi
for d in /etc/djcald /var/lib/djcald /var/lib/private/djcald /run/djcald; do
	if [ -e "$d" ] || [ -L "$d" ]; then
		trap - EXIT
		die "$d exists already; not touching it"
	fi
done
getent group djcal >/dev/null || made_group=1
[ -d /var/lib/private ] || made_private=1

# A uid as DynamicUser= would pick one (61184..65519, no passwd entry) for
# the daemon, and another for clients.
free_uid() {
	u=$1
	while getent passwd "$u" >/dev/null; do u=$((u + 1)); done
	echo "$u"
}
duid=$(free_uid 61184)
cuid=$(free_uid $((duid + 1)))
work=$(mktemp -d "${TMPDIR:-/tmp}/djcal-deb.XXXXXX") || die "mktemp"
chmod 0755 "$work"
say "work directory $work; daemon uid $duid, client uid $cuid"

# --- Building -----------------------------------------------------------

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
newer="$version+pkgtest1"
older="$version~pkgtest0"

# build_tree DIR VERSION OUT: dpkg-buildpackage in DIR as VERSION (no tests:
# the tree was tested by the first build), the .debs moved into OUT.
build_tree() {
	sed -i "1s/([^)]*)/($2)/" "$1/debian/changelog"
	mkdir -p "$3"
	if (cd "$1" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	    dpkg-buildpackage -us -uc -b) >"$3/build.log" 2>&1; then
		mv "$(dirname "$1")"/*.deb "$(dirname "$1")"/*.changes "$3/"
	else
		tail -n 30 "$3/build.log" | sed 's/^/       /'
		return 1
	fi
}

# copy_tree DIR: this tree as `make deb` copies it.
copy_tree() {
	mkdir -p "$1"
	(cd "$top" && tar -cf - --exclude=./build --exclude=./build-san \
	    --exclude=./build-fuzz --exclude=./var --exclude=./.git .) |
	    tar -xf - -C "$1"
}

say "# building $version with make deb (Check suites included)"
if make -C "$top" --no-print-directory deb DEB_OUT="$work/cur" \
    >"$work/build-cur.log" 2>&1; then
	ok "make deb builds djcald and djcal $version"
else
	tail -n 40 "$work/build-cur.log" | sed 's/^/       /'
	die "make deb"
fi
grep -E '^[0-9]+%: Checks' "$work/build-cur.log" | sed 's/^/       /'

say "# building $newer from the same tree (the upgrade)"
copy_tree "$work/src-new/djcal"
build_tree "$work/src-new/djcal" "$newer" "$work/new" ||
	die "dpkg-buildpackage of $newer"
ok "built $newer"

# The revision before the schema last changed, built with today's debian/.
old=
if [ "$from" = auto ] && git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	c=$(git -C "$top" log -n 1 --format=%H \
	    -G'define[[:space:]]+STORE_SCHEMA_VERSION' -- include/djcal/store.h)
	[ -n "$c" ] && git -C "$top" rev-parse -q --verify "$c^" >/dev/null &&
		old=$(git -C "$top" rev-parse --short "$c^")
elif [ "$from" != none ] && [ "$from" != auto ]; then
	old=$(git -C "$top" rev-parse --short "$from") ||
		die "DJCAL_DEB_FROM=$from is no revision"
fi
if [ -n "$old" ]; then
	say "# building $older from git revision $old (an older schema)"
	mkdir -p "$work/src-old/djcal"
	git -C "$top" archive "$old" | tar -xf - -C "$work/src-old/djcal"
	rm -rf "$work/src-old/djcal/debian"
	cp -R "$top/debian" "$work/src-old/djcal/debian"
	[ -f "$work/src-old/djcal/systemd/djcal.sysusers" ] ||
		cp "$top/systemd/djcal.sysusers" "$work/src-old/djcal/systemd/"
	build_tree "$work/src-old/djcal" "$older" "$work/old" ||
		die "dpkg-buildpackage of $older (revision $old)"
	ok "built $older from $old"
else
	say "# no older revision to upgrade from (DJCAL_DEB_FROM=$from)"
fi

# --- lintian ------------------------------------------------------------

if command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error -I "$work/cur"/djcal_*.changes \
	    >"$work/lintian" 2>&1
	lrc=$?
	grep -v 'running with root privileges' "$work/lintian" |
	    sed 's/^/       /'
	if [ $lrc = 0 ] && ! grep -q '^E:' "$work/lintian"; then
		ok "lintian reports no errors"
	else
		bad "lintian reports errors"
	fi
else
	say "# lintian is not installed: skipped"
fi

# --- Helpers for the running daemon ---------------------------------------

# The state and runtime directories as systemd makes them for the unit
# (StateDirectoryMode=0750, RuntimeDirectoryMode=0755, owned by the dynamic
# user and the unit's group).
prepare_dirs() {
	mkdir -p /var/lib/djcald /run/djcald
	chown "$duid:djcal" /var/lib/djcald /run/djcald
	chmod 0750 /var/lib/djcald
	chmod 0755 /run/djcald
}

# start_daemon CONFIG LOG: the unit's ExecStart with -c CONFIG, as the unit
# runs it: UMask=0077, uid $duid, gid djcal and no other group, systemd's
# directory variables, no NOTIFY_SOCKET (so no readiness message to wait
# for: we wait for the socket to answer instead).
start_daemon() {
	cmd=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/djcald.service |
	    sed "s|-c /etc/djcald/djcald.conf|-c $1|")
	prepare_dirs
	# shellcheck disable=SC2086 # the ExecStart line is words
	(umask 0077; exec setpriv --reuid="$duid" --regid=djcal \
	    --clear-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    LANG=C.UTF-8 STATE_DIRECTORY=/var/lib/djcald \
	    RUNTIME_DIRECTORY=/run/djcald CONFIGURATION_DIRECTORY=/etc/djcald \
	    $cmd) >"$2" 2>&1 &
	daemon_pid=$!
	daemon_log=$2
	# Wait for the socket to answer, with a deadline.
	end=$(($(date +%s) + deadline))
	while ! djcal --socket "$sock" feeds >/dev/null 2>&1; do
		if ! kill -0 "$daemon_pid" 2>/dev/null; then
			wait "$daemon_pid"
			say "       djcald exited with $? before answering:"
			sed 's/^/       /' "$daemon_log"
			daemon_pid=
			return 1
		fi
		if [ "$(date +%s)" -ge "$end" ]; then
			say "       no answer on $sock within ${deadline}s:"
			sed 's/^/       /' "$daemon_log"
			return 1
		fi
		sleep 0.1
	done
	return 0
}

# stop_daemon: SIGTERM, as systemctl stop; djcald must exit 0.
stop_daemon() {
	[ -n "$daemon_pid" ] || return 0
	kill -TERM "$daemon_pid" 2>/dev/null
	wait "$daemon_pid"
	rc=$?
	daemon_pid=
	if [ $rc = 0 ]; then ok "SIGTERM stops djcald with exit status 0"; else
		bad "djcald exited with $rc on SIGTERM"
		sed 's/^/       /' "$daemon_log"
	fi
	if [ -e "$sock" ]; then bad "djcald left $sock behind"; fi
}

user_version() {
	sqlite3 -readonly "$1" 'PRAGMA user_version'
}

# The schema version the installed djcald creates: a fresh database.
current_schema() {
	sed -e "s|^database .*|database = $work/fresh/djcald.db|" \
	    -e "s|^socket .*|socket = $work/fresh/djcald.sock|" \
	    -e 's|^http_listen .*|http_listen =|' \
	    /etc/djcald/djcald.conf >"$work/fresh.conf"
	rm -rf "$work/fresh" && mkdir -p "$work/fresh"
	djcald --once -c "$work/fresh.conf" >/dev/null 2>&1 &&
		user_version "$work/fresh/djcald.db"
}

# A copy of the installed config with one file feed and the HTTP export
# off (so that a developer's `make run` on port 8765 does not matter).
# The feed lives in the work directory; the real unit's PrivateTmp= would
# hide it, which does not matter when the test runs the daemon by hand.
test_config() {
	sed -e 's|^http_listen .*|http_listen =|' /etc/djcald/djcald.conf \
	    >"$work/test.conf"
	printf '\n[feed party-day]\nurl = %s\ncategory = party-day\n' \
	    "$work/feed/party-day.ics" >>"$work/test.conf"
	chmod 0644 "$work/test.conf"
}

# Occurrences of the example feed in 2026 (a fixed window: no wall clock).
count_2026() {
	djcal --socket "$sock" --json upcoming --from 2026-01-01 \
	    --to 2027-01-01 --category party-day | grep -c '"uid"'
}

as_client() {	# as_client GROUP COMMAND...: as uid $cuid in GROUP only
	g=$1; shift
	setpriv --reuid="$cuid" --regid="$g" --clear-groups "$@"
}

# --- First install --------------------------------------------------------

if [ -n "$old" ]; then first=old; firstv=$older; else first=cur; firstv=$version; fi
say "# installing $firstv"
installed=1
if apt-get install -y -q --no-install-recommends "$work/$first"/djcald_*.deb \
    "$work/$first"/djcal_*.deb >"$work/apt1.log" 2>&1; then
	ok "apt-get install ./djcald_$firstv.deb ./djcal_$firstv.deb"
else
	sed 's/^/       /' "$work/apt1.log"
	die "apt-get install of $firstv"
fi

check "the group djcal exists (sysusers.d, postinst)" getent group djcal
check "/etc/djcald/djcald.conf is a conffile" sh -c \
    "dpkg-query -W -f='\${Conffiles}' djcald | grep -q ' /etc/djcald/djcald.conf '"
# Enabled on installation (debian/README.source); deb-systemd-helper makes
# the symlinks even where systemd does not run.
check "djcald.service and djcald.socket are enabled" sh -c \
    "[ -L /etc/systemd/system/multi-user.target.wants/djcald.service ] &&
     [ -L /etc/systemd/system/sockets.target.wants/djcald.socket ]"
# The user unit, when the tree has one: shipped, not enabled for everyone.
check_user_unit() {
	wu=/usr/lib/systemd/user/djcal-watch.service
	[ -f "$wu" ] || return 0
	check "djcal-watch.service runs /usr/bin/djcal, enabled for nobody" sh -c \
	    "grep -q '^ExecStart=/usr/bin/djcal ' $wu &&
	     [ ! -e /etc/systemd/user/default.target.wants/djcal-watch.service ]"
}
check_user_unit
check "the installed config is valid" \
    djcald --check-config -c /etc/djcald/djcald.conf
check "djcald's default config is /etc/djcald/djcald.conf" sh -c \
    "djcald --check-config 2>&1 | grep -q '^/etc/djcald/djcald.conf: ok'"

# Paths agree: unit, socket unit, config, man pages.
unit=/lib/systemd/system/djcald.service
check "ExecStart=/usr/sbin/djcald -f -c /etc/djcald/djcald.conf" \
    grep -qx 'ExecStart=/usr/sbin/djcald -f -c /etc/djcald/djcald.conf' "$unit"
check "StateDirectory=djcald, RuntimeDirectory=djcald, Group=djcal" sh -c \
    "grep -qx StateDirectory=djcald $unit &&
     grep -qx RuntimeDirectory=djcald $unit && grep -qx Group=djcal $unit"
check "djcald.socket listens on $sock, group djcal" sh -c \
    "grep -qx ListenStream=$sock /lib/systemd/system/djcald.socket &&
     grep -qx SocketGroup=djcal /lib/systemd/system/djcald.socket"
check "the config keeps database and socket at $db and $sock" sh -c \
    "grep -Eq '^database[[:space:]]*=[[:space:]]*$db([[:space:];]|\$)' /etc/djcald/djcald.conf &&
     grep -Eq '^socket[[:space:]]*=[[:space:]]*$sock([[:space:];]|\$)' /etc/djcald/djcald.conf"
check "djcald(8) names the same config, database and socket" sh -c \
    "zcat /usr/share/man/man8/djcald.8.gz > $work/djcald.8 &&
     grep -q /etc/djcald/djcald.conf $work/djcald.8 &&
     grep -q $db $work/djcald.8 && grep -q $sock $work/djcald.8"
if command -v systemd-analyze >/dev/null 2>&1; then
	check "systemd-analyze verify of the installed units is clean" sh -c \
	    "out=\$(systemd-analyze verify $unit /lib/systemd/system/djcald.socket 2>&1);
	     [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
fi

# --- Running as the unit would --------------------------------------------

say "# djcald as djcald.service runs it, on the installed config"
conf=/etc/djcald/djcald.conf
http=0
if curl -s -o /dev/null --max-time 2 http://127.0.0.1:8765/ 2>/dev/null ||
    [ $? != 7 ]; then
	# Port 8765 answers already (someone's `make run`): the same config
	# with the export off.
	sed -e 's|^http_listen .*|http_listen =|' "$conf" >"$work/nohttp.conf"
	chmod 0644 "$work/nohttp.conf"
	conf=$work/nohttp.conf
	say "# 127.0.0.1:8765 is taken: running with http_listen empty"
else
	http=1
fi
if start_daemon "$conf" "$work/djcald1.log"; then
	ok "djcald answers on $sock"
	check "djcal feeds (default socket, installed CLI)" djcal feeds
	check "djcal --json feeds lists no feed" sh -c \
	    "djcal --json feeds | tr -d ' \n' | grep -q '\"feeds\":\[\]'"
	check "djcal upcoming" djcal --socket "$sock" upcoming
	if [ $http = 1 ]; then
		check "the ICS export answers on 127.0.0.1:8765" sh -c \
		    "curl -fsS http://127.0.0.1:8765/calendar.ics | grep -q BEGIN:VCALENDAR"
	fi
	check "socket mode 0660, group djcal" sh -c \
	    "[ \"\$(stat -c '%a %G' $sock)\" = '660 djcal' ]"
	check "a member of djcal may connect" as_client djcal \
	    djcal --socket "$sock" feeds
	if as_client nogroup djcal --socket "$sock" feeds >"$work/out" 2>&1; then
		bad "a user outside djcal could connect"
	else
		ok "a user outside djcal may not connect"
	fi
	check "the database is $db, owned by the daemon's uid" sh -c \
	    "[ \"\$(stat -c '%u' $db)\" = $duid ]"
	stop_daemon
else
	die "djcald did not start as the unit would"
fi

say "# with one file feed (a copy of the installed config)"
mkdir -p "$work/feed"
cp "$top/examples/party-day.ics" "$work/feed/"
chmod -R a+rX "$work/feed"
test_config
start_daemon "$work/test.conf" "$work/djcald2.log" ||
	die "djcald did not start on the test config"
check "djcal refresh party-day (root may write)" \
    djcal --socket "$sock" refresh party-day
check "djcal --json feeds lists party-day" sh -c \
    "djcal --socket $sock --json feeds | grep -Eq '\"name\": ?\"party-day\"'"
n_before=$(count_2026)
if [ "${n_before:-0}" -gt 0 ]; then
	ok "$n_before occurrences of party-day in 2026"
else
	bad "no occurrences of party-day in 2026"
fi
stop_daemon
v_before=$(user_version "$db")
ino_before=$(stat -c %i "$db")
say "# database: schema version $v_before, inode $ino_before"
# From here on the feed cannot be read: whatever the daemon shows after an
# upgrade comes from the database the upgrade kept.
rm -f "$work/feed/party-day.ics"

# --- Upgrades ---------------------------------------------------------------

# upgrade DIR VERSION: install over the running installation, restart (as
# the postinst's restart would), check the database.
upgrade() {
	say "# upgrading to $2"
	if apt-get install -y -q --no-install-recommends "$1"/djcald_*.deb \
	    "$1"/djcal_*.deb >"$work/apt-up.log" 2>&1; then
		ok "apt-get install over it: $2"
	else
		sed 's/^/       /' "$work/apt-up.log"
		die "upgrade to $2"
	fi
	check "installed version is $2" sh -c \
	    "[ \"\$(dpkg-query -W -f='\${Version}' djcald)\" = '$2' ]"
	check_user_unit
	check "the database file stayed (inode $ino_before)" sh -c \
	    "[ \"\$(stat -c %i $db)\" = $ino_before ]"
	want=$(current_schema)
	test_config
	if start_daemon "$work/test.conf" "$work/djcald-$2.log"; then
		ok "djcald $2 starts on the kept database"
		n=$(count_2026)
		if [ "$n" = "$n_before" ]; then
			ok "still $n occurrences in 2026 (feed unreadable: from the kept database)"
		else
			bad "$n occurrences in 2026 after the upgrade, $n_before before"
		fi
		# The catalogue in /usr/share/locale, found without
		# DJCAL_LOCALEDIR: the table's header is not the English one.
		for l in C zh_CN; do
			env -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 LANGUAGE=$l \
			    djcal --socket "$sock" --color=never upcoming \
			    --from 2026-01-01 --to 2027-01-01 >"$work/up.$l" 2>&1
		done
		if [ -s "$work/up.C" ] && [ "$(head -n 1 "$work/up.C")" != \
		    "$(head -n 1 "$work/up.zh_CN")" ]; then
			ok "djcal speaks Chinese under LANGUAGE=zh_CN (installed djcal.mo)"
		else
			bad "djcal does not find its Chinese catalogue"
			sed 's/^/       /' "$work/up.zh_CN"
		fi
		stop_daemon
	else
		bad "djcald $2 does not start on the kept database"
	fi
	v=$(user_version "$db")
	if [ -n "$want" ] && [ "$v" = "$want" ]; then
		ok "PRAGMA user_version $v_before -> $v (current)"
	else
		bad "PRAGMA user_version $v_before -> $v, current is '${want:-?}'"
	fi
	v_before=$v
}

[ -n "$old" ] && upgrade "$work/cur" "$version"
upgrade "$work/new" "$newer"

# --- Remove and purge -------------------------------------------------------

say "# apt-get remove"
apt-get remove -y -q djcald djcal >"$work/apt-rm.log" 2>&1 ||
	{ sed 's/^/       /' "$work/apt-rm.log"; die "apt-get remove"; }
check "the programs are gone" sh -c \
    "[ ! -e /usr/sbin/djcald ] && [ ! -e /usr/bin/djcal ]"
check "djcald is in state config-files" sh -c \
    "dpkg-query -W -f='\${db:Status-Abbrev}' djcald | grep -q '^rc'"
check "remove keeps /etc/djcald/djcald.conf" test -f /etc/djcald/djcald.conf
check "remove keeps the database" test -f "$db"
check "remove keeps the group djcal" getent group djcal

# What systemd does with DynamicUser=yes: the state in /var/lib/private,
# /var/lib/djcald a symlink to it.  The purge must remove both.
say "# the DynamicUser layout: /var/lib/djcald -> private/djcald"
if [ ! -d /var/lib/private ]; then
	mkdir -p /var/lib/private
	chmod 0700 /var/lib/private
fi
mv /var/lib/djcald /var/lib/private/djcald
ln -s private/djcald /var/lib/djcald
mkdir -p /run/djcald

say "# apt-get purge"
apt-get purge -y -q djcald djcal >"$work/apt-purge.log" 2>&1 ||
	{ sed 's/^/       /' "$work/apt-purge.log"; die "apt-get purge"; }
installed=0
check "purge leaves no package state" sh -c \
    "! dpkg-query -W -f='\${Status}' djcald djcal 2>/dev/null | grep -q 'installed\|config-files'"
for p in /etc/djcald /var/lib/djcald /var/lib/private/djcald /run/djcald \
    /usr/sbin/djcald /usr/bin/djcal /lib/systemd/system/djcald.service \
    /lib/systemd/system/djcald.socket /usr/lib/sysusers.d/djcal.conf; do
	if [ -e "$p" ] || [ -L "$p" ]; then bad "purge left $p"; else
		ok "purge removed $p"; fi
done
left=$(find /etc/systemd -name 'djcald*' 2>/dev/null)
if [ -n "$left" ]; then bad "purge left $left"; else
	ok "no djcald symlinks left under /etc/systemd"; fi
if getent group djcal >/dev/null; then
	say "# left by design: the group djcal (debian/README.source)"
fi
exit 0
