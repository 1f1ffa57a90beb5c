#!/bin/sh
# Install the Debian packages djcal needs to build and test, when missing.
# Runs apt-get only as root; otherwise says what to install.
set -eu

PKGS="build-essential pkg-config gettext libevent-dev libical-dev
libsqlite3-dev sqlite3 libjansson-dev libinih-dev libcurl4-openssl-dev
libsystemd-dev zlib1g-dev check python3 python3-icalendar
python3-recurring-ical-events khal strace openssl mandoc"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "djcal: missing packages:$missing" >&2
	echo "djcal: run as root: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
