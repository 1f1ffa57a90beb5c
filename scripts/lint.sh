#!/bin/sh
# make lint: static checks that are not tests.  Fails on cppcheck findings,
# man page errors, systemd unit errors and translation errors; reports how
# far the C sources are from .clang-format (OpenBSD KNF) without failing,
# since formatting is a guide, not a gate (STYLE.md).
set -u
cd "$(dirname "$0")/.."
fail=0

say() { printf '== %s\n' "$*"; }

say cppcheck
if command -v cppcheck >/dev/null 2>&1; then
	cppcheck --quiet --error-exitcode=1 --std=c11 --language=c \
	    --enable=warning,portability --inline-suppr \
	    --suppress=missingIncludeSystem -Iinclude -Isrc \
	    --include=/usr/include/x86_64-linux-gnu/sys/queue.h \
	    src src/cli src/daemon || fail=1
else
	echo "cppcheck not installed: skipped"
fi

say "mandoc -T lint"
if command -v mandoc >/dev/null 2>&1; then
	# Cross-references to pages not installed on this machine are style
	# notes, not errors: only warnings and worse fail.
	mandoc -T lint -W warning man/*.[1578] || fail=1
else
	echo "mandoc not installed: skipped"
fi

say "systemd-analyze verify"
if command -v systemd-analyze >/dev/null 2>&1; then
	d=$(mktemp -d)
	for u in systemd/*.service systemd/*.socket; do
		sed -e "s|@SBINDIR@|$PWD/build|g" -e "s|@BINDIR@|$PWD/build|g" \
		    -e "s|@SYSCONFDIR@|$PWD/etc|g" "$u" >"$d/${u##*/}"
	done
	(cd "$d" && systemd-analyze verify --man=no ./*.service ./*.socket) || fail=1
	rm -rf "$d"
else
	echo "systemd-analyze not installed: skipped"
fi

say "msgfmt -c"
for po in po/*.po; do
	msgfmt -c -o /dev/null "$po" || fail=1
done

say "clang-format (advisory)"
if command -v clang-format >/dev/null 2>&1 && [ -f .clang-format ]; then
	n=0
	for f in src/*.c src/*/*.c include/djcal/*.h; do
		clang-format --dry-run "$f" 2>&1 | grep -q warning && n=$((n + 1))
	done
	echo "$n file(s) differ from .clang-format"
fi

exit $fail
