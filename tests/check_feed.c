/*
 * Tests for feed.c: back-off, jitter and next-fetch arithmetic (time passed
 * in), the STATUS line, display URLs, re-materialising a feed whose window
 * slid, and the scheduler on a real event loop with file feeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <event2/event.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/feed.h"
#include "djcal/fetch.h"
#include "djcal/store.h"
#include "djcal/tz.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

/* 2026-01-01T00:00:00Z: a fixed "now" for the pure functions. */
#define NOW	((int64_t)1767225600)

/* Scheduling arithmetic */

static const struct {
	int64_t	refresh;
	int	failures;
	int64_t	want;
} backoff_cases[] = {
	{ 900, 0, 900 },
	{ 900, 1, 1800 },
	{ 900, 2, 3600 },
	{ 900, 4, 14400 },
	{ 900, 5, FEED_BACKOFF_CAP },		/* 28800 capped */
	{ 900, 1000, FEED_BACKOFF_CAP },	/* no overflow */
	{ 1, 3, 8 },
	{ 86400, 0, 86400 },			/* never below refresh */
	{ 86400, 3, 86400 },			/* the cap is refresh here */
	{ FEED_BACKOFF_CAP, 1, FEED_BACKOFF_CAP },
};

START_TEST(test_backoff)
{
	ck_assert_int_eq(feed_backoff(backoff_cases[_i].refresh,
	    backoff_cases[_i].failures), backoff_cases[_i].want);
}
END_TEST

START_TEST(test_jitter_max)
{
	ck_assert_int_eq(feed_jitter_max_ms(1), 100);
	ck_assert_int_eq(feed_jitter_max_ms(100), 10000);
	ck_assert_int_eq(feed_jitter_max_ms(600), 60000);
	ck_assert_int_eq(feed_jitter_max_ms(900), 60000);	/* capped */
	ck_assert_int_eq(feed_jitter_max_ms(86400), 60000);
}
END_TEST

START_TEST(test_next_never_fetched_is_now)
{
	ck_assert_int_eq(feed_next_ms(900, 0, 0, NOW * 1000, 12345),
	    NOW * 1000);
}
END_TEST

START_TEST(test_next_refresh_plus_jitter)
{
	int64_t last = (NOW - 10) * 1000;

	ck_assert_int_eq(feed_next_ms(900, 0, last, NOW * 1000, 0),
	    last + 900000);
	ck_assert_int_eq(feed_next_ms(900, 0, last, NOW * 1000, 59999),
	    last + 900000 + 59999);
	/* rnd is reduced into [0, jitter max]. */
	ck_assert_int_eq(feed_next_ms(900, 0, last, NOW * 1000, 60001),
	    last + 900000 + 0);
	ck_assert_int_le(feed_next_ms(900, 0, last, NOW * 1000, 0xffffffffU),
	    last + 900000 + 60000);
}
END_TEST

START_TEST(test_next_backs_off)
{
	int64_t last = NOW * 1000;

	ck_assert_int_eq(feed_next_ms(60, 1, last, last, 0), last + 120000);
	ck_assert_int_eq(feed_next_ms(60, 3, last, last, 0), last + 480000);
	ck_assert_int_eq(feed_next_ms(60, 40, last, last, 0),
	    last + FEED_BACKOFF_CAP * 1000);
}
END_TEST

START_TEST(test_next_overdue_is_now)
{
	/* Down for a day: the feed is fetched at start-up. */
	ck_assert_int_eq(feed_next_ms(900, 0, (NOW - 86400) * 1000,
	    NOW * 1000, 5000), NOW * 1000);
}
END_TEST

START_TEST(test_status_line)
{
	struct store_feed f[5];
	char *s;

	memset(f, 0, sizeof f);
	s = feed_status_line(f, 0);
	ck_assert_str_eq(s, "0 feeds, 0 ok");
	free(s);

	f[0].name = "a";
	f[0].last_fetch = NOW;
	s = feed_status_line(f, 1);
	ck_assert_str_eq(s, "1 feed, 1 ok");
	free(s);

	f[1].name = "jiguan-study";
	f[1].last_fetch = NOW;
	f[1].last_error = "HTTP 500";
	f[2].name = "new";
	s = feed_status_line(f, 3);
	ck_assert_str_eq(s, "3 feeds, 1 ok, 1 not fetched yet, 1 failing: "
	    "jiguan-study: HTTP 500");
	free(s);

	f[2].last_error = "timed out after 60 s";
	f[3].name = "c";
	f[3].last_error = "x";
	f[4].name = "d";
	f[4].last_error = "y";
	s = feed_status_line(f, 5);
	ck_assert_str_eq(s, "5 feeds, 1 ok, 4 failing: jiguan-study: "
	    "HTTP 500; new: timed out after 60 s; c: x; 1 more");
	free(s);
}
END_TEST

START_TEST(test_display_url)
{
	char *s;

	s = feed_display_url("https://u:p@example.org/a.ics");
	ck_assert_str_eq(s, "https://example.org/a.ics");
	free(s);
	s = feed_display_url("https://u:p@ss@example.org/a@b.ics");
	ck_assert_str_eq(s, "https://example.org/a@b.ics");
	free(s);
	s = feed_display_url("http://example.org:8080/x");
	ck_assert_str_eq(s, "http://example.org:8080/x");
	free(s);
}
END_TEST

/* A store, a config and a feed env in a temp dir */

static char *tmpdir;
static struct config *cfg;
static struct store *store;
static struct classifier *cls;
static struct feed_env env;
static int fetched_calls;

static void
fetched_cb(const char *feed, void *arg)
{
	(void)feed;
	(void)arg;
	fetched_calls++;
}

/* Load a config text (with the database in tmpdir) into cfg/env. */
static void
load(const char *feeds)
{
	char *text, *path, *cause = NULL;
	struct config *n;

	xasprintf(&text, "[daemon]\ndatabase = %s/t.db\nsocket = %s/t.sock\n"
	    "timezone = Asia/Shanghai\n\n%s", tmpdir, tmpdir, feeds);
	path = tu_write_str(tmpdir, "t.conf", text);
	ck_assert_msg(config_load(path, &n, &cause) == 0, "%s", cause);
	free(path);
	free(text);
	if (store == NULL) {
		store = store_open(n->database, 0, &cause);
		ck_assert_msg(store != NULL, "%s", cause);
	}
	ck_assert_msg(feed_sync_config(store, n, &cause) == 0, "%s", cause);
	classifier_free(cls);
	cls = feed_classifier_new(n);
	env.store = store;
	env.cfg = n;
	env.classifier = cls;
	env.zone = tz_system(n->timezone);
	env.fetched = fetched_cb;
	ck_assert_ptr_nonnull(env.zone);
	/* The caller frees the previous config after following it. */
	cfg = n;
}

static void
setup(void)
{
	tmpdir = tu_mkdtemp();
	cfg = NULL;
	store = NULL;
	cls = NULL;
	memset(&env, 0, sizeof env);
	fetched_calls = 0;
}

static void
teardown(void)
{
	store_close(store);
	classifier_free(cls);
	config_free(cfg);
	tu_rmtree(tmpdir);
	free(tmpdir);
}

#define DAILY \
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" \
	"BEGIN:VEVENT\r\nUID:daily@t\r\nDTSTAMP:20250101T000000Z\r\n" \
	"DTSTART:20200101T010000Z\r\nDURATION:PT1H\r\n" \
	"RRULE:FREQ=DAILY\r\nSUMMARY:学习\r\nEND:VEVENT\r\n" \
	"END:VCALENDAR\r\n"

static int
count_cb(const struct dj_occurrence *o, void *arg)
{
	(void)o;
	(*(int *)arg)++;
	return 0;
}

static int
count_materialised(int64_t from, int64_t to)
{
	struct store_filter f;
	int n = 0;

	memset(&f, 0, sizeof f);
	f.from = from;
	f.to = to;
	ck_assert_int_eq(store_occurrences(store, &f, count_cb, &n), 0);
	return n;
}

/*
 * The horizon slides a day at a time: the same bytes a day later must be
 * expanded again, not skipped as unchanged, or the materialised window
 * would stop short of the horizon.
 */
START_TEST(test_window_slide_reexpands)
{
	struct feed_result r;
	struct store_feed sf;
	int64_t to1;

	load("[feed daily]\nurl = x.ics\n");
	ck_assert_int_eq(feed_apply(&env, &cfg->feeds[0], NOW, DAILY,
	    strlen(DAILY), 0, NULL, NULL, &r), 0);
	ck_assert(r.ok && !r.unchanged);
	ck_assert_int_eq(r.update.items, 1);
	feed_result_clear(&r);
	ck_assert_int_eq(store_feed_get(store, "daily", &sf), 0);
	to1 = sf.mat_to;
	store_feed_clear(&sf);
	ck_assert_int_eq(count_materialised(to1, to1 + 86400), 0);

	/* Same bytes, same day: skipped. */
	ck_assert_int_eq(feed_apply(&env, &cfg->feeds[0], NOW + 3600, DAILY,
	    strlen(DAILY), 0, NULL, NULL, &r), 0);
	ck_assert(r.ok && r.unchanged);
	feed_result_clear(&r);

	/* Same bytes, next day: expanded for the new window. */
	ck_assert_int_eq(feed_apply(&env, &cfg->feeds[0], NOW + 86400, DAILY,
	    strlen(DAILY), 0, NULL, NULL, &r), 0);
	ck_assert(r.ok && !r.unchanged);
	feed_result_clear(&r);
	ck_assert_int_eq(store_feed_get(store, "daily", &sf), 0);
	ck_assert_int_eq(sf.mat_to, to1 + 86400);
	store_feed_clear(&sf);
	ck_assert_int_eq(count_materialised(to1, to1 + 86400), 1);
}
END_TEST

/* Adding a feed leaves the others' bodies trusted; changing a feed's
 * default category makes them be read again. */
START_TEST(test_sync_add_feed_keeps_others)
{
	struct feed_result r;
	struct store_feed sf;
	struct config *old;

	load("[feed a]\nurl = x.ics\ncategory = study\n");
	ck_assert_int_eq(feed_apply(&env, &cfg->feeds[0], NOW, DAILY,
	    strlen(DAILY), 0, NULL, NULL, &r), 0);
	feed_result_clear(&r);
	old = cfg;
	load("[feed a]\nurl = x.ics\ncategory = study\n\n"
	    "[feed b]\nurl = y.ics\n");
	config_free(old);
	ck_assert_int_eq(store_feed_get(store, "a", &sf), 0);
	ck_assert(sf.has_body_hash);
	store_feed_clear(&sf);

	old = cfg;
	load("[feed a]\nurl = x.ics\ncategory = volunteer\n\n"
	    "[feed b]\nurl = y.ics\n");
	config_free(old);
	ck_assert_int_eq(store_feed_get(store, "a", &sf), 0);
	ck_assert(!sf.has_body_hash);
	store_feed_clear(&sf);
}
END_TEST

/* The scheduler */

struct outcome_log {
	int		 calls;
	size_t		 n;
	char		 feed[4][32];
	int		 ok[4];
	int64_t		 items[4];
	char		 error[4][128];
	struct event_base *base;
};

static void
refresh_cb(const struct feed_outcome *o, size_t n, void *arg)
{
	struct outcome_log *l = arg;
	size_t i;

	l->calls++;
	l->n = n;
	for (i = 0; i < n && i < 4; i++) {
		snprintf(l->feed[i], sizeof l->feed[i], "%s", o[i].feed);
		l->ok[i] = o[i].ok;
		l->items[i] = o[i].items;
		snprintf(l->error[i], sizeof l->error[i], "%s",
		    o[i].error != NULL ? o[i].error : "");
	}
	if (l->base != NULL)
		event_base_loopbreak(l->base);
}

static struct event_base *sbase;
static struct fetcher *sfetch;

static void
sched_setup(void)
{
	char *cause = NULL;

	setup();
	sbase = event_base_new();
	sfetch = fetch_new(sbase, &cause);
	ck_assert_ptr_nonnull(sfetch);
}

static void
sched_teardown(void)
{
	fetch_free(sfetch);
	event_base_free(sbase);
	teardown();
}

START_TEST(test_refresh_all_file_feeds)
{
	struct feed_sched *s;
	struct outcome_log l;
	char *p;

	p = tu_write_str(tmpdir, "daily.ics", DAILY);
	free(p);
	load("[feed a]\nurl = daily.ics\n\n[feed b]\nurl = missing.ics\n");
	s = feed_sched_new(sbase, &env, sfetch, FEED_SCHED_ONCE);
	memset(&l, 0, sizeof l);
	l.base = sbase;
	ck_assert_int_eq(feed_sched_refresh(s, NULL, refresh_cb, &l), 0);
	ck_assert_int_eq(l.calls, 0);		/* later, from the loop */
	event_base_dispatch(sbase);
	ck_assert_int_eq(l.calls, 1);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.feed[0], "a");
	ck_assert(l.ok[0]);
	ck_assert_int_eq(l.items[0], 1);
	ck_assert_str_eq(l.feed[1], "b");
	ck_assert(!l.ok[1]);
	ck_assert_ptr_nonnull(strstr(l.error[1], "missing.ics"));
	ck_assert_int_eq(fetched_calls, 2);
	/* ONCE: nothing is scheduled after. */
	ck_assert_int_eq(feed_sched_next(s, "a"), 0);
	ck_assert_int_eq(feed_sched_refresh(s, "nope", refresh_cb, &l), 1);
	feed_sched_free(s);
}
END_TEST

START_TEST(test_refresh_no_feeds_answers_later)
{
	struct feed_sched *s;
	struct outcome_log l;

	load("");
	s = feed_sched_new(sbase, &env, sfetch, FEED_SCHED_ONCE);
	memset(&l, 0, sizeof l);
	l.base = sbase;
	ck_assert_int_eq(feed_sched_refresh(s, NULL, refresh_cb, &l), 0);
	ck_assert_int_eq(l.calls, 0);
	event_base_dispatch(sbase);
	ck_assert_int_eq(l.calls, 1);
	ck_assert_uint_eq(l.n, 0);
	feed_sched_free(s);
}
END_TEST

START_TEST(test_periodic_schedules_next)
{
	struct feed_sched *s;
	time_t next, now;
	char *p;

	p = tu_write_str(tmpdir, "daily.ics", DAILY);
	free(p);
	load("[feed a]\nurl = daily.ics\nrefresh = 1h\n");
	s = feed_sched_new(sbase, &env, sfetch, FEED_SCHED_PERIODIC);
	/* Never fetched: due now (the timer fires on the first turn). */
	while (fetched_calls == 0)
		event_base_loop(sbase, EVLOOP_ONCE);
	now = time(NULL);
	next = feed_sched_next(s, "a");
	ck_assert_int_ge(next, now + 3600 - 1);
	ck_assert_int_le(next, now + 3600 + 60 + 1);
	feed_sched_stop(s);
	ck_assert_int_eq(feed_sched_next(s, "a"), 0);
	feed_sched_free(s);
}
END_TEST

/* A feed removed on reload answers the refresh waiting on it. */
START_TEST(test_reload_removes_and_adds)
{
	struct feed_sched *s;
	struct outcome_log l;
	struct config *old;
	struct store_feed sf;
	char *p;

	p = tu_write_str(tmpdir, "daily.ics", DAILY);
	free(p);
	load("[feed a]\nurl = daily.ics\n");
	s = feed_sched_new(sbase, &env, sfetch, FEED_SCHED_ONCE);
	memset(&l, 0, sizeof l);
	ck_assert_int_eq(feed_sched_refresh(s, "a", refresh_cb, &l), 0);
	old = cfg;
	load("[feed b]\nurl = daily.ics\n");
	feed_sched_reload(s);
	config_free(old);
	ck_assert_int_eq(l.calls, 1);
	ck_assert(!l.ok[0]);
	ck_assert_str_eq(l.error[0], "removed from the configuration");
	ck_assert_int_eq(store_feed_get(store, "a", &sf), 1);
	ck_assert_int_eq(feed_sched_refresh(s, "a", refresh_cb, &l), 1);

	memset(&l, 0, sizeof l);
	l.base = sbase;
	ck_assert_int_eq(feed_sched_refresh(s, "b", refresh_cb, &l), 0);
	event_base_dispatch(sbase);
	ck_assert_int_eq(l.calls, 1);
	ck_assert(l.ok[0]);
	ck_assert_int_eq(l.items[0], 1);
	feed_sched_free(s);
}
END_TEST

/* A reload that changes the zone makes the store forget every body: the
 * feeds are read again now, not at their next refresh. */
START_TEST(test_reload_zone_change_rereads_now)
{
	struct feed_sched *s;
	struct config *old;
	char *p, *text, *cause = NULL;
	time_t now;

	p = tu_write_str(tmpdir, "daily.ics", DAILY);
	free(p);
	load("[feed a]\nurl = daily.ics\nrefresh = 1h\n");
	s = feed_sched_new(sbase, &env, sfetch, FEED_SCHED_PERIODIC);
	while (fetched_calls == 0)
		event_base_loop(sbase, EVLOOP_ONCE);
	now = time(NULL);
	ck_assert_int_ge(feed_sched_next(s, "a"), now + 3000);

	/* load() writes timezone = Asia/Shanghai: swap it for UTC. */
	old = cfg;
	xasprintf(&text, "[daemon]\ndatabase = %s/t.db\nsocket = %s/t.sock\n"
	    "timezone = UTC\n\n[feed a]\nurl = daily.ics\nrefresh = 1h\n",
	    tmpdir, tmpdir);
	p = tu_write_str(tmpdir, "t.conf", text);
	free(text);
	ck_assert_int_eq(config_load(p, &cfg, &cause), 0);
	ck_assert_int_eq(feed_sync_config(store, cfg, &cause), 0);
	free(p);
	env.cfg = cfg;
	env.zone = tz_system("UTC");
	feed_sched_reload(s);
	config_free(old);
	ck_assert_int_le(feed_sched_next(s, "a"), time(NULL) + 1);
	while (fetched_calls == 1)
		event_base_loop(sbase, EVLOOP_ONCE);
	ck_assert_int_ge(feed_sched_next(s, "a"), now + 3000);
	feed_sched_free(s);
}
END_TEST

/* Freeing with a refresh pending answers it. */
START_TEST(test_free_answers_pending)
{
	struct feed_sched *s;
	struct outcome_log l;

	load("[feed a]\nurl = x.ics\n");
	s = feed_sched_new(sbase, &env, sfetch, FEED_SCHED_ONCE);
	memset(&l, 0, sizeof l);
	ck_assert_int_eq(feed_sched_refresh(s, NULL, refresh_cb, &l), 0);
	feed_sched_free(s);
	ck_assert_int_eq(l.calls, 1);
	ck_assert(!l.ok[0]);
	ck_assert_str_eq(l.error[0], "the daemon is stopping");
}
END_TEST

static Suite *
feed_suite(void)
{
	Suite *s = suite_create("feed");
	TCase *tc = tcase_create("schedule");

	tcase_add_loop_test(tc, test_backoff, 0,
	    (int)(sizeof backoff_cases / sizeof backoff_cases[0]));
	tcase_add_test(tc, test_jitter_max);
	tcase_add_test(tc, test_next_never_fetched_is_now);
	tcase_add_test(tc, test_next_refresh_plus_jitter);
	tcase_add_test(tc, test_next_backs_off);
	tcase_add_test(tc, test_next_overdue_is_now);
	tcase_add_test(tc, test_status_line);
	tcase_add_test(tc, test_display_url);
	suite_add_tcase(s, tc);

	tc = tcase_create("apply");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_window_slide_reexpands);
	tcase_add_test(tc, test_sync_add_feed_keeps_others);
	suite_add_tcase(s, tc);

	tc = tcase_create("sched");
	tcase_add_checked_fixture(tc, sched_setup, sched_teardown);
	tcase_add_test(tc, test_refresh_all_file_feeds);
	tcase_add_test(tc, test_refresh_no_feeds_answers_later);
	tcase_add_test(tc, test_periodic_schedules_next);
	tcase_add_test(tc, test_reload_removes_and_adds);
	tcase_add_test(tc, test_reload_zone_change_rereads_now);
	tcase_add_test(tc, test_free_answers_pending);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(feed_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
