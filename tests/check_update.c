/*
 * Tests for update.c and the file part of feed.c: applying bodies to the
 * store.  Bad input loses nothing: a body that is not a calendar keeps the
 * feed's last good items and records the error in its health; a truncated
 * body removes nothing; a broken component is skipped and named (feed,
 * what, line) while every good one, of that feed and of the others, stays.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/feed.h"
#include "djcal/log.h"
#include "djcal/query.h"
#include "djcal/update.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

/* 2026-01-05T00:00:00Z; the feeds' window is 400 days either side. */
#define NOW	1767571200LL
#define DAY	86400LL

static char *dir, *dbpath, *cause, *logpath;
static struct store *st;
static struct classifier *cls;
static struct update_ctx ctx;
static int64_t f1;
static struct dj_occ_list out;
static int saved_stderr = -1;

static void
setup(void)
{
	struct store_feed f;

	icalerror_set_errors_are_fatal(0);
	log_init("check_update", 0);
	dir = tu_mkdtemp();
	xasprintf(&dbpath, "%s/djcal.db", dir);
	logpath = NULL;
	cause = NULL;
	st = store_open(dbpath, 0, &cause);
	ck_assert_msg(st != NULL, "%s", cause);
	cls = classifier_new();
	memset(&ctx, 0, sizeof ctx);
	ctx.store = st;
	ctx.classifier = cls;
	ctx.zone = tz_system("Asia/Shanghai");
	ctx.now = NOW;
	ctx.horizon_days = 400;
	ctx.history_days = 400;
	memset(&f, 0, sizeof f);
	f.name = "f1";
	f.url = "/srv/f1.ics";
	ck_assert_int_eq(store_feed_upsert(st, &f, &f1, &cause), 0);
	memset(&out, 0, sizeof out);
}

static void
teardown(void)
{
	if (saved_stderr != -1) {
		dup2(saved_stderr, 2);
		close(saved_stderr);
		saved_stderr = -1;
	}
	occ_list_free(&out);
	classifier_free(cls);
	store_close(st);
	free(cause);
	free(logpath);
	tu_rmtree(dir);
	free(dir);
	free(dbpath);
}

/* Send stderr (the log) to a file in the test's directory. */
static void
capture_log(void)
{
	int fd;

	free(logpath);
	xasprintf(&logpath, "%s/log", dir);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	if (saved_stderr == -1)
		saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* What was logged so far. Caller frees. */
static char *
logged(void)
{
	char *s;

	fflush(stderr);
	s = tu_read(logpath, NULL);
	ck_assert_ptr_nonnull(s);
	return s;
}

#define H	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//djcal//t//EN\r\n"
#define E	"END:VCALENDAR\r\n"
#define EV(uid, start, summary) "BEGIN:VEVENT\r\nUID:" uid "\r\n" \
	"DTSTART;TZID=Asia/Shanghai:" start "\r\nDURATION:PT1H\r\n" \
	"SUMMARY:" summary "\r\nEND:VEVENT\r\n"
#define DAILY(uid, start, summary) "BEGIN:VEVENT\r\nUID:" uid "\r\n" \
	"DTSTART;TZID=Asia/Shanghai:" start "\r\nDURATION:PT1H\r\n" \
	"RRULE:FREQ=DAILY\r\nSUMMARY:" summary "\r\nEND:VEVENT\r\n"

static int
apply(const char *body, size_t len, struct update_result *res)
{
	free(cause);
	cause = NULL;
	return update_feed_body(&ctx, f1, -1, body, len, 0, res, &cause);
}

static void
apply_ok(const char *body, struct update_result *res)
{
	ck_assert_msg(apply(body, strlen(body), res) == 0, "%s", cause);
}

static time_t
ut(const char *s)
{
	struct tz_civil c;

	memset(&c, 0, sizeof c);
	ck_assert_int_ge(sscanf(s, "%4d%2d%2dT%2d%2d%2d", &c.year, &c.month,
	    &c.day, &c.hour, &c.minute, &c.second), 3);
	return tz_civil_to_epoch(&c);
}

/* The UIDs (and starts) of the occurrences in a window, "uid uid ...". */
static char *
uids_in(time_t from, time_t to, const char *feed)
{
	struct store_filter f;
	char *s = xstrdup(""), *t;
	size_t i;

	memset(&f, 0, sizeof f);
	f.from = from;
	f.to = to;
	f.feed = feed;
	occ_list_free(&out);
	ck_assert_msg(query_upcoming(st, &f, &out, &cause) == 0, "%s", cause);
	for (i = 0; i < out.n; i++) {
		xasprintf(&t, "%s%s%s", s, i > 0 ? " " : "", out.v[i].uid);
		free(s);
		s = t;
	}
	return s;
}

static void
assert_uids(time_t from, time_t to, const char *feed, const char *want)
{
	char *got = uids_in(from, to, feed);

	ck_assert_msg(strcmp(got, want) == 0, "got \"%s\", wanted \"%s\"",
	    got, want);
	free(got);
}

static long long
feed_items(const char *name)
{
	struct store_feed f;
	long long n;

	ck_assert_int_eq(store_feed_get(st, name, &f), 0);
	n = f.items;
	store_feed_clear(&f);
	return n;
}

/* update_feed_body */

#define BODY1	H EV("a", "20260106T090000", "支委会") \
	EV("b", "20260107T090000", "党小组会") \
	DAILY("c", "20260105T080000", "晨读") E

START_TEST(test_apply_counts)
{
	struct update_result res;

	apply_ok(BODY1, &res);
	ck_assert_int_eq(res.items, 3);
	ck_assert_int_eq(res.changed, 3);
	ck_assert_int_eq(res.unchanged, 0);
	ck_assert_int_eq(res.removed, 0);
	ck_assert_ptr_null(res.problems);
	update_result_clear(&res);
	/* The same body: every series unchanged. */
	apply_ok(BODY1, &res);
	ck_assert_int_eq(res.items, 3);
	ck_assert_int_eq(res.changed, 0);
	ck_assert_int_eq(res.unchanged, 3);
	update_result_clear(&res);
	/* b changed, c gone, d new. */
	apply_ok(H EV("a", "20260106T090000", "支委会")
	    EV("b", "20260108T090000", "党小组会（改期）")
	    EV("d", "20260109T090000", "党课") E, &res);
	ck_assert_int_eq(res.items, 3);
	ck_assert_int_eq(res.changed, 2);
	ck_assert_int_eq(res.unchanged, 1);
	ck_assert_int_eq(res.removed, 1);
	update_result_clear(&res);
	assert_uids(ut("20260105"), ut("20260110"), NULL, "a b d");
	ck_assert_str_eq(out.v[1].summary, "党小组会（改期）");
	/* force re-expands everything. */
	ck_assert_int_eq(update_feed_body(&ctx, f1, -1, BODY1, strlen(BODY1),
	    1, &res, &cause), 0);
	ck_assert_int_eq(res.changed, 3);
	update_result_clear(&res);
}
END_TEST

START_TEST(test_apply_classifies)
{
	struct update_result res;

	ck_assert_int_eq(update_feed_body(&ctx, f1, DJ_CAT_VOLUNTEER,
	    H EV("x", "20260106T090000", "走访慰问")
	    "BEGIN:VEVENT\r\nUID:y\r\nDTSTART;TZID=Asia/Shanghai:"
	    "20260106T100000\r\nSUMMARY:例会\r\nCATEGORIES:学习\r\n"
	    "END:VEVENT\r\n"
	    EV("z", "20260106T110000", "十月主题党日") E,
	    strlen(H EV("x", "20260106T090000", "走访慰问")
	    "BEGIN:VEVENT\r\nUID:y\r\nDTSTART;TZID=Asia/Shanghai:"
	    "20260106T100000\r\nSUMMARY:例会\r\nCATEGORIES:学习\r\n"
	    "END:VEVENT\r\n"
	    EV("z", "20260106T110000", "十月主题党日") E), 0, &res, &cause),
	    0);
	update_result_clear(&res);
	assert_uids(ut("20260106"), ut("20260107"), NULL, "x y z");
	ck_assert_int_eq(out.v[0].category, DJ_CAT_VOLUNTEER);
	ck_assert_int_eq(out.v[1].category, DJ_CAT_STUDY);
	ck_assert_int_eq(out.v[2].category, DJ_CAT_PARTY_DAY);
}
END_TEST

START_TEST(test_alarms_encoding)
{
	icalcomponent *c;
	char *a;

	c = icalparser_parse_string("BEGIN:VEVENT\r\nUID:x\r\n"
	    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT1H\r\nEND:VALARM\r\n"
	    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;RELATED=END:PT0S\r\n"
	    "END:VALARM\r\n"
	    "BEGIN:VALARM\r\nACTION:DISPLAY\r\n"
	    "TRIGGER;VALUE=DATE-TIME:20260101T000000Z\r\nEND:VALARM\r\n"
	    "END:VEVENT\r\n");
	ck_assert_ptr_nonnull(c);
	a = update_alarms(c);
	ck_assert_str_eq(a, "S-3600,E0,A1767225600");
	free(a);
	icalcomponent_free(c);
	c = icalparser_parse_string("BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n");
	ck_assert_ptr_null(update_alarms(c));
	icalcomponent_free(c);
}
END_TEST

/* A body that is not a calendar: -1, nothing changes. */
START_TEST(test_unparseable_keeps_items)
{
	static const char *const bodies[] = { "", "<html>error</html>",
	    "\x89PNG\r\n\x1a\n\0\0\0\rIHDR" };
	struct update_result res;
	size_t i;

	apply_ok(BODY1, &res);
	update_result_clear(&res);
	for (i = 0; i < 3; i++) {
		size_t len = i == 2 ? 16 : strlen(bodies[i]);

		ck_assert_int_eq(apply(bodies[i], len, &res), -1);
		ck_assert_ptr_nonnull(cause);
		update_result_clear(&res);
	}
	ck_assert_int_eq(feed_items("f1"), 3);
	assert_uids(ut("20260106"), ut("20260108"), NULL, "c a c b");
}
END_TEST

/* A truncated body adds and changes, and removes nothing. */
START_TEST(test_truncated_removes_nothing)
{
	struct update_result res;
	char *body;

	apply_ok(BODY1, &res);
	update_result_clear(&res);
	body = tu_read("tests/data/bad-truncated.ics", NULL);
	ck_assert_ptr_nonnull(body);
	apply_ok(body, &res);
	free(body);
	ck_assert(res.truncated);
	ck_assert_int_eq(res.removed, 0);
	ck_assert_int_eq(res.items, 5);
	ck_assert_ptr_nonnull(strstr(res.problems, "line 18"));
	update_result_clear(&res);
	assert_uids(ut("20260106"), ut("20260112"), NULL,
	    "c a c b c c c trunc-1@djcal.test c trunc-2@djcal.test");
}
END_TEST

/*
 * Regression: a truncated body on a later day kept the series it no longer
 * held with occurrences for the old window while the feed took the new
 * one, so a query near the window's edges listed the kept series' first
 * occurrences twice and lost its last ones.
 */
START_TEST(test_truncated_after_window_moved)
{
	struct update_result res;
	int64_t mf, mt;
	size_t i;

	apply_ok(H EV("a", "20260106T090000", "支委会")
	    DAILY("c", "20240101T080000", "晨读") E, &res);
	update_result_clear(&res);
	ctx.now = NOW + 3 * DAY;
	apply_ok(H EV("a", "20260106T090000", "支委会")
	    "BEGIN:VEVENT\r\nUID:cut", &res);
	ck_assert(res.truncated);
	update_result_clear(&res);
	update_window(&ctx, &mf, &mt);
	/* c is daily at 00:00Z: each day at both edges exactly once. */
	free(uids_in(mf - 5 * DAY, mf + 5 * DAY, NULL));
	ck_assert_uint_eq(out.n, 10);
	for (i = 0; i < out.n; i++) {
		ck_assert_str_eq(out.v[i].uid, "c");
		if (i > 0)
			ck_assert_int_eq(out.v[i].start - out.v[i - 1].start,
			    DAY);
	}
	free(uids_in(mt - 5 * DAY, mt + 5 * DAY, NULL));
	ck_assert_uint_eq(out.n, 10);
	for (i = 1; i < out.n; i++)
		ck_assert_int_eq(out.v[i].start - out.v[i - 1].start, DAY);
}
END_TEST

/* Broken components: skipped and named; the rest stored. */
START_TEST(test_broken_components_named)
{
	struct update_result res;
	char *body;

	body = tu_read("tests/data/bad-components.ics", NULL);
	ck_assert_ptr_nonnull(body);
	apply_ok(body, &res);
	free(body);
	ck_assert_int_eq(res.items, 2);
	ck_assert_uint_eq(res.skipped, 2);
	ck_assert(!res.truncated);
	ck_assert_ptr_nonnull(strstr(res.problems, "line 11"));
	ck_assert_ptr_nonnull(strstr(res.problems, "RRULE"));
	ck_assert_ptr_nonnull(strstr(res.problems, "line 19"));
	ck_assert_ptr_nonnull(strstr(res.problems, "DTSTART"));
	update_result_clear(&res);
	assert_uids(ut("20260112"), ut("20260122"), NULL,
	    "good-1@djcal.test good-2@djcal.test good-2@djcal.test");
}
END_TEST

/* A series whose rule stops early is stored with what it has, and the
 * problem is named with its line and UID. */
START_TEST(test_recurrence_limit_reported)
{
	struct update_result res;

	apply_ok(H "BEGIN:VEVENT\r\nUID:never\r\n"
	    "DTSTART:20260105T000000Z\r\n"
	    "RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n"
	    EV("ok", "20260106T090000", "支委会") E, &res);
	ck_assert_ptr_nonnull(res.problems);
	ck_assert_msg(strstr(res.problems, "line 4: uid never: recurrence "
	    "stopped") != NULL, "%s", res.problems);
	ck_assert_int_eq(res.items, 2);
	update_result_clear(&res);
	assert_uids(ut("20260106"), ut("20260107"), NULL, "ok");
}
END_TEST

/* A full disk: the ingest fails with the reason, the last good data stays
 * (regression: the reason was read after the rollback). */
START_TEST(test_full_database)
{
	struct update_result res;
	char *big;
	size_t i, n = 4 * 1024 * 1024;

	apply_ok(BODY1, &res);
	update_result_clear(&res);
	ck_assert_int_eq(store_set_max_pages(st, 64), 0);
	big = xmalloc(n + 1024);
	i = (size_t)sprintf(big, H "BEGIN:VEVENT\r\nUID:big\r\n"
	    "DTSTART:20260105T000000Z\r\nDESCRIPTION:");
	memset(big + i, 'x', n);
	i += n;
	strcpy(big + i, "\r\nEND:VEVENT\r\n" E);
	ck_assert_int_eq(apply(big, strlen(big), &res), -1);
	free(big);
	update_result_clear(&res);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "full") != NULL, "%s", cause);
	ck_assert_int_eq(store_set_max_pages(st, 1LL << 30), 0);
	ck_assert_int_eq(feed_items("f1"), 3);
	assert_uids(ut("20260106"), ut("20260108"), NULL, "c a c b");
	ck_assert_int_eq(store_integrity(st, &cause), 0);
}
END_TEST

/* feed_apply, feed_once_files */

static struct config *cfg;
static struct feed_env env;

/* A config with the given [feed] sections (NAME=PATH pairs). */
static void
load_config(const char *feeds)
{
	char *text, *path;

	xasprintf(&text, "[daemon]\ndatabase = %s\ntimezone = Asia/Shanghai\n"
	    "horizon_days = 400\nhistory_days = 400\nmax_feed_bytes = 32M\n"
	    "%s", dbpath, feeds);
	path = tu_write_str(dir, "djcald.conf", text);
	free(text);
	ck_assert_msg(config_load(path, &cfg, &cause) == 0, "%s", cause);
	free(path);
	ck_assert_int_eq(feed_sync_config(st, cfg, &cause), 0);
	memset(&env, 0, sizeof env);
	env.store = st;
	env.cfg = cfg;
	env.classifier = cls;
	env.zone = ctx.zone;
}

static void
feed_teardown(void)
{
	config_free(cfg);
	cfg = NULL;
	teardown();
}

static const struct config_feed *
cfeed(const char *name)
{
	const struct config_feed *cf = config_feed_find(cfg, name);

	ck_assert_ptr_nonnull(cf);
	return cf;
}

static void
copy_data(const char *name, const char *to)
{
	char *src, *body, *p;
	size_t len;

	xasprintf(&src, "tests/data/%s", name);
	body = tu_read(src, &len);
	ck_assert_msg(body != NULL, "%s", src);
	p = tu_write(dir, to, body, len);
	free(p);
	free(body);
	free(src);
}

START_TEST(test_feed_apply_unparseable_keeps_items)
{
	struct feed_result r;
	struct store_feed f;
	char *good, *log;

	load_config("[feed f1]\nurl = f1.ics\n");
	capture_log();
	good = tu_read("tests/data/good-branch.ics", NULL);
	ck_assert_int_eq(feed_apply(&env, cfeed("f1"), NOW, good,
	    strlen(good), 200, "\"e1\"", NULL, &r), 0);
	ck_assert(r.ok);
	feed_result_clear(&r);
	ck_assert_int_eq(feed_apply(&env, cfeed("f1"), NOW + 900,
	    "\x01\x02garbage", 9, 200, "\"e2\"", NULL, &r), -1);
	ck_assert(!r.ok);
	ck_assert_ptr_nonnull(r.error);
	feed_result_clear(&r);
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 0);
	ck_assert_int_eq(f.items, 3);
	ck_assert_int_eq(f.last_success, NOW);
	ck_assert_int_eq(f.last_fetch, NOW + 900);
	ck_assert_int_eq(f.failures, 1);
	ck_assert_ptr_nonnull(f.last_error);
	ck_assert_ptr_nonnull(strstr(f.last_error, "not an iCalendar"));
	store_feed_clear(&f);
	assert_uids(ut("20260115"), ut("20260121"), "f1",
	    "study-1@djcal.test partyday-1@djcal.test");
	log = logged();
	ck_assert_ptr_nonnull(strstr(log, "feed f1: not an iCalendar"));
	ck_assert_ptr_nonnull(strstr(log, "keeping its last good items"));
	free(log);
	/* The same good body again: unchanged, health back to ok. */
	ck_assert_int_eq(feed_apply(&env, cfeed("f1"), NOW + 1800, good,
	    strlen(good), 200, NULL, NULL, &r), 0);
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 0);
	ck_assert_int_eq(f.failures, 0);
	ck_assert_ptr_null(f.last_error);
	store_feed_clear(&f);
	feed_result_clear(&r);
	free(good);
}
END_TEST

START_TEST(test_feed_apply_truncated_keeps_all)
{
	struct feed_result r;
	char *good, *cut;
	size_t n;

	load_config("[feed f1]\nurl = f1.ics\n");
	good = tu_read("tests/data/good-branch.ics", NULL);
	ck_assert_int_eq(feed_apply(&env, cfeed("f1"), NOW, good,
	    strlen(good), 0, NULL, NULL, &r), 0);
	feed_result_clear(&r);
	/* Cut the body in the middle of its second event. */
	n = (size_t)(strstr(good, "UID:partyday-1") - good) + 10;
	cut = xstrndup(good, n);
	ck_assert_int_eq(feed_apply(&env, cfeed("f1"), NOW + 900, cut, n, 0,
	    NULL, NULL, &r), 0);
	ck_assert(r.update.truncated);
	ck_assert_int_eq(r.update.removed, 0);
	ck_assert_int_eq(r.update.items, 3);
	feed_result_clear(&r);
	ck_assert_int_eq(feed_items("f1"), 3);
	assert_uids(ut("20260115"), ut("20260121"), "f1",
	    "study-1@djcal.test partyday-1@djcal.test");
	free(cut);
	free(good);
}
END_TEST

/*
 * feed_once_files over a set of bad feeds next to a good one: each problem
 * named (feed, what, where), only broken components skipped, never a crash.
 */
START_TEST(test_once_files_bad_input)
{
	struct store_feed f;
	char *log, *big;
	size_t i, n = 10 * 1024 * 1024;
	unsigned seed = 42;
	int failed;

	copy_data("good-branch.ics", "good.ics");
	copy_data("bad-truncated.ics", "truncated.ics");
	copy_data("bad-components.ics", "components.ics");
	free(tu_write(dir, "empty.ics", "", 0));
	big = xmalloc(n);
	for (i = 0; i < 65536; i++)
		big[i] = (char)(rand_r(&seed) & 0xff);
	free(tu_write(dir, "random.ics", big, 65536));
	/* A 10 MB single line inside a good calendar's DESCRIPTION... */
	i = (size_t)snprintf(big, n, H EV("small", "20260110T090000", "支委会")
	    "BEGIN:VEVENT\r\nUID:long\r\nDTSTART:20260111T010000Z\r\n"
	    "DESCRIPTION:");
	memset(big + i, 'x', n - i - 64);
	i = n - 64;
	i += (size_t)snprintf(big + i, 64, "\r\nEND:VEVENT\r\n" E);
	free(tu_write(dir, "longline.ics", big, i));
	/* ... and as garbage outside any calendar. */
	memset(big, 'y', n);
	free(tu_write(dir, "garbage.ics", big, n));
	free(big);

	load_config(
	    "[feed good]\nurl = good.ics\ncategory = study\n"
	    "[feed missing]\nurl = missing.ics\n"
	    "[feed empty]\nurl = empty.ics\n"
	    "[feed random]\nurl = random.ics\n"
	    "[feed truncated]\nurl = truncated.ics\n"
	    "[feed components]\nurl = components.ics\n"
	    "[feed longline]\nurl = longline.ics\n"
	    "[feed garbage]\nurl = garbage.ics\n");
	capture_log();
	failed = feed_once_files(&env, NOW);
	ck_assert_int_eq(failed, 4);	/* missing, empty, random, garbage */
	log = logged();
	ck_assert_ptr_nonnull(strstr(log, "feed missing: "));
	ck_assert_ptr_nonnull(strstr(log, "missing.ics: No such file"));
	ck_assert_ptr_nonnull(strstr(log, "feed empty: empty body"));
	ck_assert_ptr_nonnull(strstr(log, "feed random: not an iCalendar"));
	ck_assert_ptr_nonnull(strstr(log, "feed garbage: not an iCalendar"));
	ck_assert_ptr_nonnull(strstr(log, "feed truncated: "));
	ck_assert_ptr_nonnull(strstr(log, "line 18: VEVENT not terminated"));
	ck_assert_ptr_nonnull(strstr(log, "feed components: "));
	ck_assert_ptr_nonnull(strstr(log, "line 11: VEVENT: "));
	ck_assert_ptr_nonnull(strstr(log, "line 19: VEVENT without DTSTART"));
	free(log);
	ck_assert_int_eq(feed_items("good"), 3);
	ck_assert_int_eq(feed_items("truncated"), 2);
	ck_assert_int_eq(feed_items("components"), 2);
	ck_assert_int_eq(feed_items("longline"), 2);
	ck_assert_int_eq(feed_items("missing"), 0);
	ck_assert_int_eq(store_feed_get(st, "components", &f), 0);
	ck_assert_ptr_null(f.last_error);
	ck_assert_ptr_nonnull(f.problems);
	ck_assert_ptr_nonnull(strstr(f.problems, "line 11"));
	store_feed_clear(&f);
	ck_assert_int_eq(store_feed_get(st, "random", &f), 0);
	ck_assert_int_eq(f.failures, 1);
	ck_assert_ptr_nonnull(f.last_error);
	store_feed_clear(&f);
	assert_uids(ut("20260110"), ut("20260112"), NULL,
	    "small trunc-1@djcal.test long trunc-2@djcal.test");
	assert_uids(ut("20260115"), ut("20260116"), "good",
	    "study-1@djcal.test");
	ck_assert_int_eq(out.v[0].category, DJ_CAT_STUDY);

	/* The missing file comes back, the good one turns to garbage: the
	 * good feed keeps its items, the other gets them. */
	copy_data("good-branch.ics", "missing.ics");
	free(tu_write(dir, "good.ics", "\xff\xfe\x00", 3));
	capture_log();
	failed = feed_once_files(&env, NOW + 900);
	ck_assert_int_eq(failed, 4);
	ck_assert_int_eq(feed_items("good"), 3);
	ck_assert_int_eq(feed_items("missing"), 3);
	ck_assert_int_eq(feed_items("components"), 2);
}
END_TEST

/* feed_read_file refuses what it should. */
START_TEST(test_read_file_limits)
{
	char *body, *p;
	size_t len;

	p = tu_write_str(dir, "small.ics", "0123456789");
	ck_assert_int_eq(feed_read_file(p, 10, &body, &len, &cause), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(body, "0123456789");
	free(body);
	ck_assert_int_eq(feed_read_file(p, 9, &body, &len, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "max_feed_bytes"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(feed_read_file(dir, 100, &body, &len, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "not a regular file"));
	free(p);
}
END_TEST

static Suite *
update_suite(void)
{
	Suite *s = suite_create("update");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_apply_counts);
	tcase_add_test(tc, test_apply_classifies);
	tcase_add_test(tc, test_alarms_encoding);
	tcase_add_test(tc, test_recurrence_limit_reported);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, feed_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_unparseable_keeps_items);
	tcase_add_test(tc, test_truncated_removes_nothing);
	tcase_add_test(tc, test_truncated_after_window_moved);
	tcase_add_test(tc, test_broken_components_named);
	tcase_add_test(tc, test_feed_apply_unparseable_keeps_items);
	tcase_add_test(tc, test_feed_apply_truncated_keeps_all);
	tcase_add_test(tc, test_once_files_bad_input);
	tcase_add_test(tc, test_read_file_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_full_database);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(update_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
