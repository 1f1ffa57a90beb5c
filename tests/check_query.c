/*
 * Tests for query.c: the occurrences of any window from materialised rows
 * plus on-the-fly expansion (each occurrence exactly once, also across the
 * edges of the materialised window and far outside it), the filters, and
 * tasks with a fixed `now`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "djcal/classify.h"
#include "djcal/query.h"
#include "djcal/recur.h"
#include "djcal/update.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

/* 2026-01-05T00:00:00Z, a Monday; the feeds' window is 400 days either
 * side of that day. */
#define NOW	1767571200LL
#define DAY	86400LL
#define WEEK	(7 * DAY)

static char *dir, *dbpath, *cause;
static struct store *st;
static struct classifier *cls;
static struct update_ctx ctx;
static int64_t f1, f2;
static struct dj_occ_list out;

static int64_t
add_feed(const char *name, const char *branch)
{
	struct store_feed f;
	int64_t id;

	memset(&f, 0, sizeof f);
	f.name = (char *)name;
	f.url = (char *)"/srv/x.ics";
	f.branch = (char *)branch;
	ck_assert_int_eq(store_feed_upsert(st, &f, &id, &cause), 0);
	return id;
}

static void
setup(void)
{
	icalerror_set_errors_are_fatal(0);
	dir = tu_mkdtemp();
	xasprintf(&dbpath, "%s/djcal.db", dir);
	cause = NULL;
	st = store_open(dbpath, 0, &cause);
	ck_assert_msg(st != NULL, "%s", cause);
	ck_assert_int_eq(store_meta_set(st, "timezone", "Asia/Shanghai"), 0);
	cls = classifier_new();
	memset(&ctx, 0, sizeof ctx);
	ctx.store = st;
	ctx.classifier = cls;
	ctx.zone = tz_system("Asia/Shanghai");
	ctx.now = NOW;
	ctx.horizon_days = 400;
	ctx.history_days = 400;
	f1 = add_feed("f1", "机关党支部");
	f2 = add_feed("f2", "第二党支部");
	memset(&out, 0, sizeof out);
}

static void
teardown(void)
{
	occ_list_free(&out);
	classifier_free(cls);
	store_close(st);
	free(cause);
	tu_rmtree(dir);
	free(dir);
	free(dbpath);
}

/* Apply a body (components only; the calendar is added) to a feed. */
static void
feed_body(int64_t feed, int fallback, const char *comps)
{
	struct update_result res;
	char *body;

	xasprintf(&body, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//djcal//check_query//EN\r\n%sEND:VCALENDAR\r\n", comps);
	ck_assert_msg(update_feed_body(&ctx, feed, fallback, body,
	    strlen(body), 0, &res, &cause) == 0, "%s", cause);
	ck_assert_msg(res.problems == NULL, "%s", res.problems);
	update_result_clear(&res);
	free(body);
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

static void
filter_init(struct store_filter *f, time_t from, time_t to)
{
	memset(f, 0, sizeof *f);
	f->from = from;
	f->to = to;
}

static void
query(const struct store_filter *f)
{
	occ_list_free(&out);
	ck_assert_msg(query_upcoming(st, f, &out, &cause) == 0, "%s", cause);
}

/* The occurrences' UIDs and starts as "uid@YYYYMMDDTHHMMSSZ ..." */
static char *
listing(void)
{
	char *s = xstrdup(""), *t;
	size_t i;

	for (i = 0; i < out.n; i++) {
		struct tz_civil c;

		tz_epoch_to_civil(out.v[i].start, &c);
		xasprintf(&t, "%s%s%s@%04d%02d%02dT%02d%02d%02dZ", s,
		    i > 0 ? " " : "", out.v[i].uid, c.year, c.month, c.day,
		    c.hour, c.minute, c.second);
		free(s);
		s = t;
	}
	return s;
}

#define WEEKLY	"BEGIN:VEVENT\r\nUID:weekly\r\n" \
	"DTSTART;TZID=Asia/Shanghai:20260105T090000\r\n" \
	"DTEND;TZID=Asia/Shanghai:20260105T110000\r\n" \
	"SUMMARY:理论学习\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n"

/* Every start in the list is one week after the one before. */
static void
assert_weekly_run(size_t n, time_t first)
{
	size_t i;

	ck_assert_uint_eq(out.n, n);
	for (i = 0; i < out.n; i++) {
		ck_assert_str_eq(out.v[i].uid, "weekly");
		ck_assert_int_eq(out.v[i].start, first + (time_t)i * WEEK);
		ck_assert_int_eq(out.v[i].end - out.v[i].start, 2 * 3600);
		ck_assert(out.v[i].has_rid);
		ck_assert_int_eq(out.v[i].rid, out.v[i].start);
	}
}

/* The materialised window of f1. */
static void
mat_window(int64_t *from, int64_t *to)
{
	struct store_feed f;

	update_window(&ctx, from, to);
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 0);
	if (f.mat_to != 0) {
		ck_assert_int_eq(f.mat_from, *from);
		ck_assert_int_eq(f.mat_to, *to);
	}
	store_feed_clear(&f);
	ck_assert_int_lt(*from, NOW);
	ck_assert_int_gt(*to, NOW);
}

/* Rows and expansion partition a window that straddles mat_to. */
START_TEST(test_partition_straddles_mat_to)
{
	struct store_filter f;
	int64_t mf, mt;
	time_t first;

	feed_body(f1, -1, WEEKLY);
	mat_window(&mf, &mt);
	filter_init(&f, mt - 10 * WEEK, mt + 10 * WEEK);
	query(&f);
	/* The first Monday 01:00Z at or after the window's start. */
	first = ut("20260105T010000Z");
	while (first < f.from)
		first += WEEK;
	assert_weekly_run(20, first);
	/* And across mat_from (the series starts after it: nothing before
	 * DTSTART). */
	filter_init(&f, mf - 10 * WEEK, ut("20260202"));
	query(&f);
	assert_weekly_run(4, ut("20260105T010000Z"));
}
END_TEST

/* An occurrence that runs across mat_to or mat_from is counted once. */
START_TEST(test_partition_running_across_edges)
{
	struct store_filter f;
	int64_t mf, mt;
	char *comps;
	struct tz_civil c;
	size_t i;

	mat_window(&mf, &mt);
	/* A daily 30-hour series whose instances start on both sides of
	 * each edge and run across it. */
	tz_epoch_to_civil(mf - 5 * DAY, &c);
	xasprintf(&comps, "BEGIN:VEVENT\r\nUID:long\r\n"
	    "DTSTART:%04d%02d%02dT120000Z\r\nDURATION:PT30H\r\n"
	    "RRULE:FREQ=DAILY\r\nEND:VEVENT\r\n", c.year, c.month, c.day);
	feed_body(f1, -1, comps);
	free(comps);
	filter_init(&f, mt - 3 * DAY, mt + 3 * DAY);
	query(&f);
	/* Overlapping: the one that started the day before too. */
	ck_assert_uint_eq(out.n, 7);
	for (i = 1; i < out.n; i++)
		ck_assert_int_eq(out.v[i].start - out.v[i - 1].start, DAY);
	filter_init(&f, mf - 3 * DAY, mf + 3 * DAY);
	query(&f);
	ck_assert_uint_eq(out.n, 7);
	for (i = 1; i < out.n; i++)
		ck_assert_int_eq(out.v[i].start - out.v[i - 1].start, DAY);
}
END_TEST

/*
 * Regression: after store_feeds_invalidate (the zone or aliases changed)
 * a feed's window is empty until its next body, but its rows stayed
 * visible, so each occurrence of a recurring series came twice: once as a
 * row and once expanded.  Rows of a recurring series count only inside
 * its feed's window.
 */
START_TEST(test_invalidated_window_no_duplicates)
{
	struct store_filter f;
	char *l;

	feed_body(f1, -1, WEEKLY);
	ck_assert_int_eq(store_feeds_invalidate(st), 0);
	filter_init(&f, ut("20260105"), ut("20260120"));
	query(&f);
	l = listing();
	ck_assert_str_eq(l, "weekly@20260105T010000Z weekly@20260112T010000Z "
	    "weekly@20260119T010000Z");
	free(l);
}
END_TEST

/* An infinite weekly rule in 1990 and 2090. */
START_TEST(test_far_past_and_future)
{
	struct store_filter f;
	char *l;

	feed_body(f1, -1, WEEKLY);
	filter_init(&f, ut("19900101"), ut("19910101"));
	query(&f);
	ck_assert_uint_eq(out.n, 0);
	filter_init(&f, ut("20900101"), ut("20900201"));
	query(&f);
	l = listing();
	ck_assert_str_eq(l, "weekly@20900102T010000Z weekly@20900109T010000Z "
	    "weekly@20900116T010000Z weekly@20900123T010000Z "
	    "weekly@20900130T010000Z");
	free(l);
	ck_assert_str_eq(out.v[0].summary, "理论学习");
	ck_assert_str_eq(out.v[0].feed, "f1");
	ck_assert_str_eq(out.v[0].branch, "机关党支部");
	ck_assert_int_eq(out.v[0].category, DJ_CAT_STUDY);
	/* A window of all time is not a hang: the limit stops it. */
	filter_init(&f, ut("20900101"), RECUR_FAR_FUTURE);
	f.limit = 3;
	query(&f);
	ck_assert_uint_eq(out.n, 3);
}
END_TEST

/* A finite series entirely in the past, and overrides far away. */
START_TEST(test_far_past_series)
{
	struct store_filter f;
	char *l;

	feed_body(f1, -1, "BEGIN:VEVENT\r\nUID:old\r\n"
	    "DTSTART;TZID=Asia/Shanghai:20100104T090000\r\n"
	    "RRULE:FREQ=MONTHLY;BYDAY=1MO;UNTIL=20121231T000000Z\r\n"
	    "EXDATE;TZID=Asia/Shanghai:20120206T090000\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:old\r\n"
	    "RECURRENCE-ID;TZID=Asia/Shanghai:20120305T090000\r\n"
	    "DTSTART;TZID=Asia/Shanghai:20120307T090000\r\n"
	    "SUMMARY:改期\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:old\r\n"
	    "RECURRENCE-ID;TZID=Asia/Shanghai:20120402T090000\r\n"
	    "DTSTART;TZID=Asia/Shanghai:20120402T090000\r\n"
	    "STATUS:CANCELLED\r\nEND:VEVENT\r\n");
	filter_init(&f, ut("20120101"), ut("20120501"));
	query(&f);
	l = listing();
	ck_assert_str_eq(l, "old@20120102T010000Z old@20120307T010000Z "
	    "old@20120402T010000Z");
	free(l);
	ck_assert_str_eq(out.v[1].summary, "改期");
	ck_assert_int_eq(out.v[1].rid, ut("20120305T010000Z"));
	ck_assert_str_eq(out.v[2].status, "CANCELLED");
	filter_init(&f, ut("20130101"), ut("20300101"));
	query(&f);
	ck_assert_uint_eq(out.n, 0);
}
END_TEST

/* Filters */

static void
filter_fixture(void)
{
	feed_body(f1, DJ_CAT_STUDY,
	    "BEGIN:VEVENT\r\nUID:s1\r\n"
	    "DTSTART;TZID=Asia/Shanghai:20260106T090000\r\n"
	    "SUMMARY:集中学习\r\nLOCATION:三楼会议室\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:p1\r\n"
	    "DTSTART;TZID=Asia/Shanghai:20260107T090000\r\n"
	    "SUMMARY:主题党日\r\nDESCRIPTION:完成率 100% 目标\r\n"
	    "END:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:u1\r\n"
	    "DTSTART;TZID=Asia/Shanghai:20260108T090000\r\n"
	    "SUMMARY:a_b 会议\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:u2\r\n"
	    "DTSTART;TZID=Asia/Shanghai:20260108T100000\r\n"
	    "SUMMARY:axb 会议\r\nEND:VEVENT\r\n"
	    /* Recurring: its far occurrences come from expansion. */
	    "BEGIN:VEVENT\r\nUID:r1\r\n"
	    "DTSTART;TZID=Asia/Shanghai:20260109T090000\r\n"
	    "SUMMARY:Weekly 50%_Review\r\nCATEGORIES:志愿服务\r\n"
	    "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n");
	feed_body(f2, DJ_CAT_VOLUNTEER,
	    "BEGIN:VEVENT\r\nUID:v2\r\n"
	    "DTSTART;TZID=Asia/Shanghai:20260106T140000\r\n"
	    "SUMMARY:入户走访\r\nEND:VEVENT\r\n");
}

struct filter_case {
	const char	*name;
	const char	*from, *to;
	unsigned	 categories;
	const char	*feed, *branch, *search;
	size_t		 limit;
	const char	*expect;	/* UIDs in order */
};

#define CAT(c)	(1u << (c))

static const struct filter_case filter_cases[] = {
	{ "all", "20260105", "20260112", 0, NULL, NULL, NULL, 0,
	  "s1 v2 p1 u1 u2 r1" },
	{ "category_study", "20260105", "20260112", CAT(DJ_CAT_STUDY), NULL,
	  NULL, NULL, 0, "s1 u1 u2" },
	{ "category_two", "20260105", "20260112",
	  CAT(DJ_CAT_PARTY_DAY) | CAT(DJ_CAT_VOLUNTEER), NULL, NULL, NULL, 0,
	  "v2 p1 r1" },
	{ "feed", "20260105", "20260112", 0, "f2", NULL, NULL, 0, "v2" },
	{ "feed_unknown", "20260105", "20260112", 0, "nope", NULL, NULL, 0,
	  "" },
	{ "branch", "20260105", "20260112", 0, NULL, "机关党支部", NULL, 0,
	  "s1 p1 u1 u2 r1" },
	{ "search_summary", "20260105", "20260112", 0, NULL, NULL, "学习",
	  0, "s1" },
	{ "search_location", "20260105", "20260112", 0, NULL, NULL, "三楼",
	  0, "s1" },
	{ "search_percent_literal", "20260105", "20260112", 0, NULL, NULL,
	  "%", 0, "p1 r1" },
	{ "search_underscore_literal", "20260105", "20260112", 0, NULL, NULL,
	  "a_b", 0, "u1" },
	{ "search_case_insensitive_ascii", "20260105", "20260112", 0, NULL,
	  NULL, "weekly", 0, "r1" },
	{ "limit", "20260105", "20260112", 0, NULL, NULL, NULL, 2, "s1 v2" },
	/* Far away: expansion, with the same filters. */
	{ "far_category", "20900101", "20900108", CAT(DJ_CAT_VOLUNTEER),
	  NULL, NULL, NULL, 0, "r1" },
	{ "far_category_other", "20900101", "20900108", CAT(DJ_CAT_STUDY),
	  NULL, NULL, NULL, 0, "" },
	{ "far_search_literal", "20900101", "20900108", 0, NULL, NULL, "%_r",
	  0, "r1" },
	{ "far_search_no_wildcard", "20900101", "20900108", 0, NULL, NULL,
	  "50%x", 0, "" },
	{ "far_feed", "20900101", "20900108", 0, "f2", NULL, NULL, 0, "" },
	{ "far_branch", "20900101", "20900108", 0, NULL, "机关党支部", NULL,
	  0, "r1" },
	{ "far_limit", "20900101", "20900301", 0, NULL, NULL, NULL, 2,
	  "r1 r1" },
};

START_TEST(test_filters)
{
	const struct filter_case *fc = &filter_cases[_i];
	struct store_filter f;
	char *got = xstrdup(""), *t;
	size_t i;

	filter_fixture();
	filter_init(&f, ut(fc->from), ut(fc->to));
	f.categories = fc->categories;
	f.feed = fc->feed;
	f.branch = fc->branch;
	f.search = fc->search;
	f.limit = fc->limit;
	query(&f);
	for (i = 0; i < out.n; i++) {
		xasprintf(&t, "%s%s%s", got, i > 0 ? " " : "", out.v[i].uid);
		free(got);
		got = t;
	}
	ck_assert_msg(strcmp(got, fc->expect) == 0, "%s: got \"%s\", wanted "
	    "\"%s\"", fc->name, got, fc->expect);
	free(got);
}
END_TEST

/* A limit counts occurrences in start order across rows and expansion. */
START_TEST(test_limit_across_sources)
{
	struct store_filter f;
	int64_t mf, mt;
	char *l;

	feed_body(f1, -1, WEEKLY);
	mat_window(&mf, &mt);
	filter_init(&f, mt - 2 * WEEK, mt + 10 * WEEK);
	f.limit = 4;
	query(&f);
	ck_assert_uint_eq(out.n, 4);
	ck_assert_int_lt(out.v[0].start, mt);
	ck_assert_int_ge(out.v[3].start, mt);
	l = listing();
	free(l);
}
END_TEST

/* Tasks */

static void
tasks_fixture(void)
{
	feed_body(f1, DJ_CAT_STANDARDIZATION,
	    "BEGIN:VTODO\r\nUID:overdue\r\nDUE;VALUE=DATE:20260101\r\n"
	    "SUMMARY:台账整理\r\nEND:VTODO\r\n"
	    "BEGIN:VTODO\r\nUID:open\r\n"
	    "DUE;TZID=Asia/Shanghai:20260120T180000\r\n"
	    "SUMMARY:自查材料报送\r\nEND:VTODO\r\n"
	    "BEGIN:VTODO\r\nUID:done-date\r\nDUE;VALUE=DATE:20251220\r\n"
	    "COMPLETED:20251219T080000Z\r\nSUMMARY:已完成\r\nEND:VTODO\r\n"
	    "BEGIN:VTODO\r\nUID:done-status\r\nDUE;VALUE=DATE:20260110\r\n"
	    "STATUS:COMPLETED\r\nSUMMARY:也完成了\r\nEND:VTODO\r\n"
	    "BEGIN:VTODO\r\nUID:cancelled\r\nDUE;VALUE=DATE:20251201\r\n"
	    "STATUS:CANCELLED\r\nSUMMARY:取消\r\nEND:VTODO\r\n"
	    "BEGIN:VTODO\r\nUID:undated\r\nSUMMARY:长期任务\r\nEND:VTODO\r\n"
	    "BEGIN:VTODO\r\nUID:due-now\r\nDUE:20260105T000000Z\r\n"
	    "SUMMARY:正好到期\r\nEND:VTODO\r\n");
}

struct task_case {
	enum query_tasks	 which;
	const char		*expect;
};

static const struct task_case task_cases[] = {
	{ QUERY_TASKS_OPEN, "overdue due-now open undated" },
	{ QUERY_TASKS_OVERDUE, "overdue" },
	{ QUERY_TASKS_DONE, "done-date done-status" },
	{ QUERY_TASKS_ALL, "cancelled done-date overdue due-now done-status "
	  "open undated" },
};

START_TEST(test_tasks)
{
	const struct task_case *tc = &task_cases[_i];
	char *got = xstrdup(""), *t;
	size_t i;

	tasks_fixture();
	occ_list_free(&out);
	ck_assert_int_eq(query_tasks(st, tc->which, NOW, &out, &cause), 0);
	for (i = 0; i < out.n; i++) {
		ck_assert_int_eq(out.v[i].kind, DJ_KIND_TASK);
		xasprintf(&t, "%s%s%s", got, i > 0 ? " " : "", out.v[i].uid);
		free(got);
		got = t;
	}
	ck_assert_msg(strcmp(got, tc->expect) == 0, "%d: got \"%s\", wanted "
	    "\"%s\"", tc->which, got, tc->expect);
	free(got);
}
END_TEST

START_TEST(test_task_fields)
{
	size_t i;

	tasks_fixture();
	ck_assert_int_eq(query_tasks(st, QUERY_TASKS_ALL, NOW, &out, &cause),
	    0);
	for (i = 0; i < out.n; i++) {
		const struct dj_occurrence *o = &out.v[i];

		if (strcmp(o->uid, "overdue") == 0) {
			ck_assert(o->has_due);
			ck_assert(o->due_all_day);
			/* A date is its midnight in the zone. */
			ck_assert_int_eq(o->due, ut("20251231T160000Z"));
			ck_assert_int_eq(o->category, DJ_CAT_STANDARDIZATION);
			ck_assert(!query_task_done(o));
		} else if (strcmp(o->uid, "done-date") == 0) {
			ck_assert(o->has_completed);
			ck_assert_int_eq(o->completed, ut("20251219T080000Z"));
			ck_assert(query_task_done(o));
		} else if (strcmp(o->uid, "undated") == 0)
			ck_assert(!o->has_due);
	}
}
END_TEST

START_TEST(test_tasks_from_name)
{
	ck_assert_int_eq(query_tasks_from_name("open"), QUERY_TASKS_OPEN);
	ck_assert_int_eq(query_tasks_from_name("OVERDUE"),
	    QUERY_TASKS_OVERDUE);
	ck_assert_int_eq(query_tasks_from_name("done"), QUERY_TASKS_DONE);
	ck_assert_int_eq(query_tasks_from_name("all"), QUERY_TASKS_ALL);
	ck_assert_int_eq(query_tasks_from_name("later"), -1);
	ck_assert_int_eq(query_tasks_from_name(""), -1);
}
END_TEST

START_TEST(test_zone_default)
{
	ck_assert_str_eq(tz_name(query_zone(st)), "Asia/Shanghai");
	ck_assert_int_eq(store_meta_set(st, "timezone", "Europe/Berlin"), 0);
	ck_assert_str_eq(tz_name(query_zone(st)), "Europe/Berlin");
	ck_assert_int_eq(store_meta_set(st, "timezone", "No/Such_Zone"), 0);
	ck_assert_str_eq(tz_name(query_zone(st)), "Asia/Shanghai");
}
END_TEST

/* All-day items and the zone: a date's instant is its local midnight. */
START_TEST(test_all_day)
{
	struct store_filter f;

	feed_body(f1, -1, "BEGIN:VEVENT\r\nUID:day\r\n"
	    "DTSTART;VALUE=DATE:20260110\r\nSUMMARY:主题党日\r\n"
	    "RRULE:FREQ=MONTHLY\r\nEND:VEVENT\r\n");
	/* 2026-01-09T16:00Z is midnight of the 10th in Shanghai. */
	filter_init(&f, ut("20260109T150000Z"), ut("20260109T160000Z"));
	query(&f);
	ck_assert_uint_eq(out.n, 0);
	filter_init(&f, ut("20260110T155959Z"), ut("20260111"));
	query(&f);
	ck_assert_uint_eq(out.n, 1);
	ck_assert(out.v[0].all_day);
	ck_assert_int_eq(out.v[0].start, ut("20260109T160000Z"));
	ck_assert_int_eq(out.v[0].end, ut("20260110T160000Z"));
	filter_init(&f, ut("20800101"), ut("20800201"));
	query(&f);
	ck_assert_uint_eq(out.n, 1);
	ck_assert(out.v[0].all_day);
	ck_assert_int_eq(out.v[0].start, ut("20800109T160000Z"));
}
END_TEST

static Suite *
query_suite(void)
{
	Suite *s = suite_create("query");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_partition_straddles_mat_to);
	tcase_add_test(tc, test_partition_running_across_edges);
	tcase_add_test(tc, test_invalidated_window_no_duplicates);
	tcase_add_test(tc, test_far_past_and_future);
	tcase_add_test(tc, test_far_past_series);
	tcase_add_loop_test(tc, test_filters, 0,
	    (int)(sizeof filter_cases / sizeof filter_cases[0]));
	tcase_add_test(tc, test_limit_across_sources);
	tcase_add_loop_test(tc, test_tasks, 0,
	    (int)(sizeof task_cases / sizeof task_cases[0]));
	tcase_add_test(tc, test_task_fields);
	tcase_add_test(tc, test_tasks_from_name);
	tcase_add_test(tc, test_zone_default);
	tcase_add_test(tc, test_all_day);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(query_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
