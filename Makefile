# djcal: one non-recursive Makefile.  See README.md for the targets.

PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share
LOCALEDIR ?= $(DATADIR)/locale
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR  ?= $(PREFIX)/lib/systemd/system
USERUNITDIR ?= $(PREFIX)/lib/systemd/user
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions

CC       ?= cc
PKG_CONFIG ?= pkg-config
B        := build

# Libraries by layer: the CLI links no event loop and no HTTP client, so a
# layering mistake (the CLI calling into feed.c, say) fails to link.
PKGS_CORE   := libical sqlite3 jansson
PKGS_CONFIG := inih
PKGS_DAEMON := libevent libcurl libsystemd zlib
PKGS_TEST   := check

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1))

WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CSTD     := -std=c11 -D_GNU_SOURCE
OPT      ?= -O2 -g
CPPFLAGS += -Iinclude -DLOCALEDIR='"$(LOCALEDIR)"' -DSYSCONFDIR='"$(SYSCONFDIR)"'
CFLAGS   ?=
ALL_CFLAGS = $(CSTD) $(OPT) $(WARN) $(CFLAGS) -MMD -MP \
             $(call pc_cflags,$(PKGS_CORE) $(PKGS_CONFIG) $(PKGS_DAEMON))
LDFLAGS  ?=

ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=address,undefined
B := build-san
endif

# Fuzzing (tests/fuzz/): `make fuzz` builds everything again with clang's
# libFuzzer, ASan and UBSan into build-fuzz/, then runs each target for
# FUZZ_SECONDS (tests/fuzz/run.sh).  FUZZ=1 is that sub-make's mode.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := ingest proto config
ifeq ($(FUZZ),1)
CC         := $(FUZZ_CC)
ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined \
              -fno-omit-frame-pointer -fno-sanitize-recover=all -DDJCAL_LIBFUZZER
LDFLAGS    += -fsanitize=fuzzer,address,undefined
B := build-fuzz
endif

LIBS_CORE   = $(call pc_libs,$(PKGS_CORE)) -lm
LIBS_CONFIG = $(call pc_libs,$(PKGS_CONFIG))
LIBS_DAEMON = $(call pc_libs,$(PKGS_DAEMON))
LIBS_TEST   = $(call pc_libs,$(PKGS_TEST))

# Every src/*.c is a module in the core archive; the two programs pull
# from it only what they use.
LIB_SRCS    := $(wildcard src/*.c)
DAEMON_SRCS := $(wildcard src/daemon/*.c)
CLI_SRCS    := $(wildcard src/cli/*.c)
TEST_SRCS   := $(wildcard tests/check_*.c)
TESTUTIL    := tests/testutil.c

LIB_OBJS    := $(LIB_SRCS:%.c=$(B)/obj/%.o)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(B)/obj/%.o)
CLI_OBJS    := $(CLI_SRCS:%.c=$(B)/obj/%.o)
TEST_BINS   := $(TEST_SRCS:tests/%.c=$(B)/tests/%)
TESTUTIL_OBJ := $(TESTUTIL:%.c=$(B)/obj/%.o)
LIBDJCAL    := $(B)/libdjcal.a

all: $(B)/djcald $(B)/djcal

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBDJCAL): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/djcald: $(DAEMON_OBJS) $(LIBDJCAL)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON) $(LIBS_CONFIG) $(LIBS_CORE)

$(B)/djcal: $(CLI_OBJS) $(LIBDJCAL)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CONFIG) $(LIBS_CORE)

$(B)/tests/%: $(B)/obj/tests/%.o $(TESTUTIL_OBJ) $(LIBDJCAL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_TEST) $(LIBS_DAEMON) $(LIBS_CONFIG) $(LIBS_CORE)

FUZZ_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)
$(B)/fuzz/fuzz_%: $(B)/obj/tests/fuzz/fuzz_%.o $(LIBDJCAL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON) $(LIBS_CONFIG) $(LIBS_CORE)

# Kept between runs: they are not intermediate files to delete.
.PRECIOUS: $(B)/obj/%.o

fuzz:
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-run

fuzz-run: $(FUZZ_BINS)
	sh tests/fuzz/run.sh $(B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Benchmarks (bench/, docs/PERFORMANCE.md): one table of figures and their
# floors.  Not part of check; CI does not run it.  BENCH_ARGS passes options
# to bench/bench.c (-r RUNS, -s ingest,repoll,upcoming,fanout, -k).
BENCH_BINS := $(B)/bench/bench $(B)/bench/floor_parse $(B)/bench/floor_simple
$(B)/bench/%: bench/%.c bench/util.c bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(filter-out -MMD -MP,$(ALL_CFLAGS)) \
		-pthread -o $@ bench/$*.c bench/util.c $(LDFLAGS) $(LIBS_CORE)

bench: all $(BENCH_BINS)
	$(B)/bench/bench -b $(B) $(BENCH_ARGS)

.PHONY: bench

# Tests run from the top directory; each binary finds its data relative to it.
# CK_DEFAULT_TIMEOUT is generous for the sanitizer build; no test sleeps.
check: all $(TEST_BINS) po-build
	@fail=0; for t in $(TEST_BINS); do \
		echo "== $$t"; \
		DJCAL_BUILD=$(B) CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-120} \
		$$t || fail=1; \
	done; \
	for t in tests/it/*.sh; do \
		[ -f "$$t" ] || continue; \
		echo "== $$t"; DJCAL_BUILD=$(B) sh $$t || fail=1; \
	done; \
	exit $$fail

# The long forms of the hardening tests (issue 9): the load test with
# 1,000 clients and 1,000 subscribers for 60 s, and the crash test on
# ../shared/bench/gen_feed.py's feed.  Several minutes; not part of check.
soak: all
	DJCAL_BUILD=$(B) sh tests/it/load.sh --soak
	DJCAL_BUILD=$(B) sh tests/it/crash.sh --bench

.PHONY: soak

# The unit suites under valgrind (the integration tests run under the
# sanitizers instead).  One target per suite, so that `make -j` runs them
# side by side; each prints its log when it is done.  VG_EXCLUDE_<suite>
# names test cases left out there: check_recur's limits walk 200,000-step
# rules, 7 s natively and 7 minutes under valgrind, and the sanitizer
# build runs them anyway.
VG_RUNS := $(TEST_BINS:$(B)/tests/%=valgrind-%)
VG_EXCLUDE_check_recur := limits
check-valgrind: all $(VG_RUNS)
valgrind-%: $(B)/tests/% all
	@mkdir -p $(B)/valgrind; \
	DJCAL_BUILD=$(B) CK_FORK=no CK_DEFAULT_TIMEOUT=600 DJCAL_VALGRIND=1 \
	$(if $(VG_EXCLUDE_$*),CK_EXCLUDE_CASE=$(VG_EXCLUDE_$*)) \
	valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		--suppressions=tests/valgrind.supp $< \
		>$(B)/valgrind/$*.log 2>&1; rc=$$?; \
	echo "== valgrind $< (exit $$rc)"; cat $(B)/valgrind/$*.log; exit $$rc

# Translations: compiled into build/locale so that tests and `make run`
# can use them without installing.
PO_FILES := $(wildcard po/*.po)
MO_FILES := $(PO_FILES:po/%.po=$(B)/locale/%/LC_MESSAGES/djcal.mo)
po-build: $(MO_FILES)
$(B)/locale/%/LC_MESSAGES/djcal.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt -c -o $@ $<

VAR := var
# Installs missing Debian packages first when it can (as root).  Otherwise
# install-deps.sh names them, and the build goes on: it stops by itself if a
# library is really missing, while a missing test-only tool does not matter
# here.  The build is a sub-make so that `make -j run` cannot start
# compiling before the packages are in.
run:
	@sh scripts/install-deps.sh || echo "djcal: going on without them" >&2
	@$(MAKE) --no-print-directory all po-build
	@mkdir -p $(VAR)
	./$(B)/djcald -f -c etc/djcald-example.conf

deps:
	sh scripts/install-deps.sh

lint:
	sh scripts/lint.sh

install: all $(MO_FILES)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(B)/djcald $(DESTDIR)$(SBINDIR)/djcald
	install -m 0755 $(B)/djcal $(DESTDIR)$(BINDIR)/djcal
	install -d $(DESTDIR)$(SYSCONFDIR)/djcald
	install -m 0644 etc/djcald.conf $(DESTDIR)$(SYSCONFDIR)/djcald/djcald.conf
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	for m in man/*.[1578]; do \
		s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -d $(DESTDIR)$(UNITDIR)
	for u in systemd/djcald.service systemd/djcald.socket; do \
		[ -f $$u ] || continue; \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			$$u > $(DESTDIR)$(UNITDIR)/$${u##*/}; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/}; done
	if [ -f systemd/djcal-watch.service ]; then \
		install -d $(DESTDIR)$(USERUNITDIR); \
		sed -e 's|@BINDIR@|$(BINDIR)|g' systemd/djcal-watch.service \
			> $(DESTDIR)$(USERUNITDIR)/djcal-watch.service; \
		chmod 0644 $(DESTDIR)$(USERUNITDIR)/djcal-watch.service; fi
	if [ -f systemd/djcal.sysusers ]; then \
		install -d $(DESTDIR)$(SYSUSERSDIR); \
		install -m 0644 systemd/djcal.sysusers $(DESTDIR)$(SYSUSERSDIR)/djcal.conf; fi
	if [ -f contrib/djcal.bash-completion ]; then \
		install -d $(DESTDIR)$(BASHCOMPDIR); \
		install -m 0644 contrib/djcal.bash-completion $(DESTDIR)$(BASHCOMPDIR)/djcal; fi
	for mo in $(MO_FILES); do \
		l=$${mo#$(B)/locale/}; l=$${l%%/*}; \
		install -d $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES; \
		install -m 0644 $$mo $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/djcal.mo; done

# Debian packages (debian/, see debian/README.source): dpkg-buildpackage
# runs in a copy of this tree, so that its clean step cannot touch build/
# here; the .debs land in DEB_OUT.  check-deb (root: it installs, upgrades
# and purges them on this machine) is tests/pkg/test-deb.sh.
DEB_OUT ?= build/deb
deb:
	if [ -d $(DEB_OUT)/src ]; then chmod -R u+w $(DEB_OUT)/src; fi
	rm -rf $(DEB_OUT)/src && mkdir -p $(DEB_OUT)/src/djcal
	tar -cf - --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
		--exclude=./var --exclude=./.git --exclude=./$(DEB_OUT) . | \
		tar -xf - -C $(DEB_OUT)/src/djcal
	cd $(DEB_OUT)/src/djcal && dpkg-buildpackage -us -uc -b -Jauto
	rm -f $(DEB_OUT)/*.deb $(DEB_OUT)/*.changes $(DEB_OUT)/*.buildinfo
	mv $(DEB_OUT)/src/*.deb $(DEB_OUT)/src/*.changes \
		$(DEB_OUT)/src/*.buildinfo $(DEB_OUT)/
	chmod -R u+w $(DEB_OUT)/src && rm -rf $(DEB_OUT)/src
	@ls -1 $(DEB_OUT)/*.deb

check-deb:
	sh tests/pkg/test-deb.sh

.PHONY: deb check-deb

clean:
	rm -rf build build-san build-fuzz

.PHONY: all check check-valgrind po-build run deps lint install clean \
	fuzz fuzz-run

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
