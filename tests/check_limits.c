/*
 * Limits against hostile input (issue 9; threat model in docs/SECURITY.md).
 *
 *  - A recurrence bomb: a feed of many rules that each walk nearly
 *    RECUR_MAX_INSTANCES steps (DTSTART in the year 1007, FREQ=DAILY with
 *    a large COUNT, which libical cannot skip ahead) costs each series
 *    about a second; before the shared budget, a 3 KB body of 20 such
 *    series held the daemon's loop for 19 s, and 400 of them past the
 *    watchdog.  The expansions of one body (update.c) and of one query
 *    (query.c) now share RECUR_BUDGET steps: the feed is still applied,
 *    every series is kept, and its problems say what was not expanded.
 *  - The problems of one body are listed up to INGEST_MAX_PROBLEMS and
 *    then counted ("; and N more"), as ingest's own are: appending one per
 *    broken series was quadratic in the number of series.
 *
 *  - Deep nesting: libical frees a component recursively, a stack frame
 *    a level, so a 9.6 MB body of nested BEGIN lines (well under
 *    max_feed_bytes) crashed djcald with SIGSEGV.  A component nested
 *    past 16 levels is now skipped and reported before libical sees it.
 *
 * The body-sized test takes some seconds by design (it spends the whole
 * budget) and is left out under valgrind (DJCAL_VALGRIND).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/feed.h"
#include "djcal/ingest.h"
#include "djcal/query.h"
#include "djcal/recur.h"
#include "djcal/store.h"
#include "djcal/tz.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

/* 2026-12-01T00:00:00+08:00 */
#define NOW0		((time_t)1796054400)

/* A calendar of n events: first a plain one ("plain@example.org", on
 * 2026-12-08), then n - 1 of a long DAILY rule from the year 1007. */
static char *
bomb_body(int n)
{
	char *body, *p, *t;
	int i;

	body = xstrdup("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//djcal//check_limits//EN\r\n"
	    "BEGIN:VEVENT\r\nUID:plain@example.org\r\n"
	    "DTSTAMP:20261101T000000Z\r\n"
	    "DTSTART;TZID=Asia/Shanghai:20261208T150000\r\n"
	    "DURATION:PT1H\r\nSUMMARY:12月支委会\r\nEND:VEVENT\r\n");
	for (i = 1; i < n; i++) {
		xasprintf(&p, "BEGIN:VEVENT\r\nUID:bomb-%d@example.org\r\n"
		    "DTSTAMP:20261101T000000Z\r\nDTSTART:10070204T093000Z\r\n"
		    "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=199000\r\n"
		    "SUMMARY:bomb %d\r\nEND:VEVENT\r\n", i, i);
		xasprintf(&t, "%s%s", body, p);
		free(p);
		free(body);
		body = t;
	}
	xasprintf(&t, "%sEND:VCALENDAR\r\n", body);
	free(body);
	return t;
}

/* The recur side: a budget shared by expansions, and put back. */

struct one {
	struct recur_series	*rs;
	icalcomponent		*c;
};

static void
one_new(struct one *o, const char *vevent)
{
	char *cause = NULL;

	o->c = icalparser_parse_string(vevent);
	ck_assert_ptr_nonnull(o->c);
	o->rs = recur_series_new(&o->c, NULL, 1, NULL, tz_system("UTC"),
	    &cause, NULL);
	ck_assert_msg(o->rs != NULL, "%s", cause);
}

static void
one_free(struct one *o)
{
	recur_series_free(o->rs);
	icalcomponent_free(o->c);
}

static int
count_cb(const struct recur_occ *occ, void *arg)
{
	(void)occ;
	(*(size_t *)arg)++;
	return 0;
}

static const char daily[] =
    "BEGIN:VEVENT\r\nUID:d@example.org\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART:20260101T010000Z\r\nDURATION:PT1H\r\n"
    "RRULE:FREQ=DAILY;COUNT=3000\r\nEND:VEVENT\r\n";

START_TEST(test_recur_budget_shared)
{
	struct one a, b;
	char *cause = NULL;
	size_t n = 0, left;

	one_new(&a, daily);
	one_new(&b, daily);
	/* No budget: all of it. */
	ck_assert_int_eq(recur_expand(a.rs, 0, RECUR_FAR_FUTURE,
	    RECUR_START_IN, count_cb, &n, &cause), 0);
	ck_assert_uint_eq(n, 3000);

	/* 1000 steps for both: the first stops, the second gets nothing. */
	ck_assert(recur_budget(1000) == SIZE_MAX);
	n = 0;
	ck_assert_int_eq(recur_expand(a.rs, 0, RECUR_FAR_FUTURE,
	    RECUR_START_IN, count_cb, &n, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "budget of 1000 rule steps is spent") !=
	    NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_uint_ge(n, 999);
	ck_assert_uint_le(n, 1001);
	n = 0;
	ck_assert_int_eq(recur_expand(b.rs, 0, RECUR_FAR_FUTURE,
	    RECUR_START_IN, count_cb, &n, &cause), -1);
	free(cause);
	ck_assert_uint_le(n, 1);		/* DTSTART itself */

	/* Put back: unlimited again. */
	left = recur_budget(SIZE_MAX);
	ck_assert_uint_eq(left, 0);
	n = 0;
	ck_assert_int_eq(recur_expand(b.rs, 0, RECUR_FAR_FUTURE,
	    RECUR_START_IN, count_cb, &n, &cause), 0);
	ck_assert_uint_eq(n, 3000);
	one_free(&a);
	one_free(&b);
}
END_TEST

/* Through feed_apply and a query, as the daemon does. */

static const char config_text[] =
    "[daemon]\n"
    "database = djcal.db\n"
    "timezone = Asia/Shanghai\n"
    "\n"
    "[feed bombs]\n"
    "url = bombs.ics\n";

START_TEST(test_feed_of_long_rules)
{
	struct config *cfg;
	struct classifier *cls;
	struct store *store;
	struct feed_env fe;
	struct feed_result r;
	struct store_filter f;
	struct dj_occ_list l;
	char *tmp, *path, *body, *cause = NULL;
	const char *more;
	size_t i, plain = 0;

	if (getenv("DJCAL_VALGRIND") != NULL)
		return;		/* seconds natively, many minutes there */
	tmp = tu_mkdtemp();
	path = tu_write_str(tmp, "djcald.conf", config_text);
	ck_assert_msg(config_load(path, &cfg, &cause) == 0, "%s", cause);
	free(path);
	cls = feed_classifier_new(cfg);
	store = store_open(cfg->database, 0, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	ck_assert_msg(feed_sync_config(store, cfg, &cause) == 0, "%s", cause);

	/* 150 series: the first five spend the budget (a span walk and an
	 * expansion of 199000 steps each), the other 144 bombs are named or
	 * counted. */
	body = bomb_body(151);
	memset(&fe, 0, sizeof fe);
	fe.store = store;
	fe.cfg = cfg;
	fe.classifier = cls;
	fe.zone = tz_system(cfg->timezone);
	ck_assert_int_eq(feed_apply(&fe, &cfg->feeds[0], NOW0, body,
	    strlen(body), 0, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.update.items, 151);
	ck_assert_ptr_nonnull(r.update.problems);
	ck_assert_msg(strstr(r.update.problems, "budget of 2000000 rule steps "
	    "is spent") != NULL, "%.300s", r.update.problems);
	more = strstr(r.update.problems, "; and ");
	ck_assert_msg(more != NULL, "%.300s", r.update.problems);
	ck_assert_int_eq(strncmp(more, "; and 4", 7), 0);	/* 40-something */
	ck_assert_str_eq(more + strcspn(more, "m"), "more");
	feed_result_clear(&r);

	/* The plain event is there; a query far in the past is bounded
	 * too, and answers. */
	memset(&f, 0, sizeof f);
	f.from = NOW0;
	f.to = NOW0 + 30 * 86400;
	memset(&l, 0, sizeof l);
	ck_assert_msg(query_upcoming(store, &f, &l, &cause) == 0, "%s", cause);
	for (i = 0; i < l.n; i++)
		plain += strcmp(l.v[i].uid, "plain@example.org") == 0;
	ck_assert_uint_eq(plain, 1);
	occ_list_free(&l);
	f.from = -14000000000LL;		/* 1526 */
	f.to = f.from + 30 * 86400;
	ck_assert_msg(query_upcoming(store, &f, &l, &cause) == 0, "%s", cause);
	occ_list_free(&l);

	free(body);
	store_close(store);
	classifier_free(cls);
	config_free(cfg);
	tu_rmtree(tmp);
	free(tmp);
}
END_TEST

/* Ingest */

static int
deep_series(const struct ingest_series *s, void *arg)
{
	ck_assert_str_eq(s->uid, "plain@example.org");
	(*(int *)arg)++;
	return 0;
}

/* A VEVENT nested 500,000 deep (4.5 MB), then a plain one. */
START_TEST(test_deep_nesting_skipped)
{
	static const char head[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//djcal//check_limits//EN\r\nBEGIN:VEVENT\r\n"
	    "UID:deep@example.org\r\nDTSTART:20261208T070000Z\r\n";
	static const char tail[] = "END:VEVENT\r\nBEGIN:VEVENT\r\n"
	    "UID:plain@example.org\r\nDTSTART:20261208T070000Z\r\n"
	    "END:VEVENT\r\nEND:VCALENDAR\r\n";
	const size_t levels = 500000;
	struct ingest_sink sink;
	struct ingest_report rep;
	char *body, *p, *cause = NULL, *sum;
	size_t i;
	int n = 0;

	body = xmalloc(sizeof head + levels * 16 + sizeof tail);
	p = body;
	memcpy(p, head, sizeof head - 1);
	p += sizeof head - 1;
	for (i = 0; i < levels; i++, p += 9)
		memcpy(p, "BEGIN:X\r\n", 9);
	for (i = 0; i < levels; i++, p += 7)
		memcpy(p, "END:X\r\n", 7);
	memcpy(p, tail, sizeof tail - 1);
	p += sizeof tail - 1;
	memset(&sink, 0, sizeof sink);
	sink.series = deep_series;
	sink.arg = &n;
	ck_assert_int_eq(ingest_body(body, (size_t)(p - body), NULL, &sink,
	    &rep, &cause), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(rep.skipped, 1);
	sum = ingest_report_summary(&rep);
	ck_assert_ptr_nonnull(sum);
	ck_assert_msg(strstr(sum, "line 4: VEVENT nests components more than "
	    "16 deep; skipped") != NULL, "%s", sum);
	free(sum);
	ingest_report_free(&rep);
	free(body);
}
END_TEST

static Suite *
limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc;

	tc = tcase_create("recurrence");
	tcase_add_test(tc, test_recur_budget_shared);
	tcase_add_test(tc, test_feed_of_long_rules);
	/* The sanitizer build takes several times as long. */
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);

	tc = tcase_create("ingest");
	tcase_add_test(tc, test_deep_nesting_skipped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	icalerror_set_errors_are_fatal(0);
	sr = srunner_create(limits_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
