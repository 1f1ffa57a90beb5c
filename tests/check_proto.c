/*
 * Tests for the time and occurrence part of proto.c: RFC 3339 and dates
 * written and read in a zone (offsets, Z, wall clock, DST gaps and
 * overlaps), round trips, and occurrences to JSON and back.  The request
 * helpers are tested with the socket server in check_ctl.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "djcal/ingest.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"

static time_t
ut(const char *s)
{
	struct tz_civil c;

	memset(&c, 0, sizeof c);
	ck_assert_int_ge(sscanf(s, "%4d%2d%2dT%2d%2d%2d", &c.year, &c.month,
	    &c.day, &c.hour, &c.minute, &c.second), 3);
	return tz_civil_to_epoch(&c);
}

static const struct tz *
zone(const char *name)
{
	const struct tz *z = tz_system(name);

	ck_assert_msg(z != NULL, "no zone %s", name);
	return z;
}

struct fmt_case {
	const char	*zone;
	const char	*utc;
	int		 is_date;
	const char	*expect;
};

static const struct fmt_case fmt_cases[] = {
	{ "Asia/Shanghai", "20261201T010000Z", 0,
	  "2026-12-01T09:00:00+08:00" },
	{ "UTC", "20261201T010000Z", 0, "2026-12-01T01:00:00Z" },
	{ "America/New_York", "20260701T130000Z", 0,
	  "2026-07-01T09:00:00-04:00" },
	{ "America/New_York", "20260101T140000Z", 0,
	  "2026-01-01T09:00:00-05:00" },
	{ "Asia/Kathmandu", "20260101T031500Z", 0,
	  "2026-01-01T09:00:00+05:45" },
	{ "America/St_Johns", "20260101T123000Z", 0,
	  "2026-01-01T09:00:00-03:30" },
	{ "Asia/Shanghai", "20261130T160000Z", 1, "2026-12-01" },
	{ "America/New_York", "20261201T050000Z", 1, "2026-12-01" },
	/* Local mean time had offsets with seconds (Shanghai +08:05:43):
	 * the wall clock goes with the whole minutes written. */
	{ "Asia/Shanghai", "19000101T000000Z", 0,
	  "1900-01-01T08:05:00+08:05" },
	{ "Africa/Monrovia", "19700101T000000Z", 0,
	  "1969-12-31T23:16:00-00:44" },
};

START_TEST(test_format)
{
	const struct fmt_case *fc = &fmt_cases[_i];
	char *s = proto_format_time(ut(fc->utc), fc->is_date, zone(fc->zone));

	ck_assert_str_eq(s, fc->expect);
	free(s);
}
END_TEST

START_TEST(test_format_null_zone_is_utc)
{
	char *s = proto_format_time(ut("20261201T010203Z"), 0, NULL);

	ck_assert_str_eq(s, "2026-12-01T01:02:03Z");
	free(s);
}
END_TEST

struct parse_case {
	const char	*in;
	const char	*zone;
	int		 ok;
	const char	*utc;
	int		 is_date;
};

static const struct parse_case parse_cases[] = {
	{ "2026-12-01T09:00:00+08:00", "UTC", 1, "20261201T010000Z", 0 },
	{ "2026-12-01T09:00:00-05:30", "UTC", 1, "20261201T143000Z", 0 },
	{ "2026-12-01T01:00:00Z", "Asia/Shanghai", 1, "20261201T010000Z", 0 },
	{ "2026-12-01t01:00:00z", "Asia/Shanghai", 1, "20261201T010000Z", 0 },
	{ "2026-12-01T01:00:00.123456Z", "UTC", 1, "20261201T010000Z", 0 },
	{ "2026-12-01T09:00:00.5+08:00", "UTC", 1, "20261201T010000Z", 0 },
	/* Wall clock in the zone. */
	{ "2026-12-01T09:00", "Asia/Shanghai", 1, "20261201T010000Z", 0 },
	{ "2026-12-01T09:00:30", "Asia/Shanghai", 1, "20261201T010030Z", 0 },
	{ "2026-12-01 09:00:00", "Asia/Shanghai", 1, "20261201T010000Z", 0 },
	{ "2026-07-01T09:00", "America/New_York", 1, "20260701T130000Z", 0 },
	/* RFC 5545 3.3.5: a gap takes the offset before it, an overlap the
	 * first occurrence. */
	{ "2026-03-08T02:30", "America/New_York", 1, "20260308T073000Z", 0 },
	{ "2026-11-01T01:30", "America/New_York", 1, "20261101T053000Z", 0 },
	/* A date: its midnight in the zone. */
	{ "2026-12-01", "Asia/Shanghai", 1, "20261130T160000Z", 1 },
	{ "2026-12-01", "UTC", 1, "20261201T000000Z", 1 },
	{ "2026-03-08", "America/New_York", 1, "20260308T050000Z", 1 },
	/* Not times. */
	{ "", "UTC", 0, NULL, 0 },
	{ "20261201", "UTC", 0, NULL, 0 },
	{ "2026-13-01", "UTC", 0, NULL, 0 },
	{ "2026-00-10", "UTC", 0, NULL, 0 },
	{ "2026-12-32", "UTC", 0, NULL, 0 },
	{ "2026-02-30", "UTC", 0, NULL, 0 },
	{ "2026-02-29T09:00", "UTC", 0, NULL, 0 },
	{ "2026-04-31T09:00:00Z", "UTC", 0, NULL, 0 },
	{ "2028-02-29", "UTC", 1, "20280229", 1 },
	{ "2026-12-01T24:00", "UTC", 0, NULL, 0 },
	{ "2026-12-01T09:60", "UTC", 0, NULL, 0 },
	{ "2026-12-01T09", "UTC", 0, NULL, 0 },
	{ "2026-12-01T09:00:00+8:00", "UTC", 0, NULL, 0 },
	{ "2026-12-01T09:00:00+08", "UTC", 0, NULL, 0 },
	{ "2026-12-01T09:00:00+24:00", "UTC", 0, NULL, 0 },
	{ "2026-12-01T09:00:00Z ", "UTC", 0, NULL, 0 },
	{ "2026-12-01T09:00:00Zjunk", "UTC", 0, NULL, 0 },
	{ "2026-12-01x", "UTC", 0, NULL, 0 },
	{ "tomorrow", "UTC", 0, NULL, 0 },
	{ "２０２６-12-01", "UTC", 0, NULL, 0 },
};

START_TEST(test_parse)
{
	const struct parse_case *pc = &parse_cases[_i];
	time_t t = 0;
	int is_date = -1, rc;

	rc = proto_parse_time(pc->in, zone(pc->zone), &t, &is_date);
	if (!pc->ok) {
		ck_assert_msg(rc == -1, "\"%s\" accepted", pc->in);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\" refused", pc->in);
	ck_assert_msg(t == ut(pc->utc), "\"%s\": %lld, wanted %lld", pc->in,
	    (long long)t, (long long)ut(pc->utc));
	ck_assert_int_eq(is_date, pc->is_date);
}
END_TEST

/* format then parse gives the instant back, in zones with DST, odd offsets
 * and local mean time, from 1900 to 2100; dates give their midnight. */
START_TEST(test_round_trip)
{
	static const char *const zones[] = { "Asia/Shanghai", "UTC",
	    "America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
	    "Asia/Kathmandu", "America/St_Johns", "Africa/Monrovia",
	    "Pacific/Chatham" };
	uint64_t x = 88172645463325252ULL;
	int i;

	for (i = 0; i < 3000; i++) {
		const struct tz *z = zone(zones[i % 9]);
		struct tz_civil c;
		time_t t, back, mid;
		char *s;
		int d;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = ut("19000101") + (time_t)(x % (200ULL * 365 * 86400));
		s = proto_format_time(t, 0, z);
		ck_assert_int_eq(proto_parse_time(s, z, &back, &d), 0);
		ck_assert_msg(back == t, "%s: %s is %lld, not %lld", zones[i % 9],
		    s, (long long)back, (long long)t);
		ck_assert_int_eq(d, 0);
		free(s);
		/* The date of t, and its midnight, survive as a date. */
		tz_from_utc(z, t, &c);
		c.hour = c.minute = c.second = 0;
		mid = tz_to_utc(z, &c);
		s = proto_format_time(mid, 1, z);
		ck_assert_int_eq(proto_parse_time(s, z, &back, &d), 0);
		ck_assert_int_eq(d, 1);
		ck_assert_msg(back == mid, "%s: date %s", zones[i % 9], s);
		free(s);
	}
}
END_TEST

/* Occurrences as JSON */

static json_t *
reparse(json_t *j)
{
	char *line = proto_dump_line(j);
	json_error_t err;
	json_t *back;

	/* One line: the only newline ends it. */
	ck_assert_ptr_eq(strchr(line, '\n'), line + strlen(line) - 1);
	back = json_loads(line, 0, &err);
	ck_assert_msg(back != NULL, "%s: %s", line, err.text);
	free(line);
	return back;
}

static void
assert_same(const struct dj_occurrence *a, const struct dj_occurrence *b)
{
#define SAME_STR(f)	do {						\
	if (a->f == NULL)						\
		ck_assert_ptr_null(b->f);				\
	else								\
		ck_assert_str_eq(a->f, b->f);				\
} while (0)
	SAME_STR(uid);
	SAME_STR(feed);
	SAME_STR(branch);
	SAME_STR(summary);
	SAME_STR(location);
	SAME_STR(description);
	SAME_STR(status);
#undef SAME_STR
	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_int_eq(a->category, b->category);
	ck_assert_int_eq(a->meeting_type, b->meeting_type);
	ck_assert_int_eq(a->start, b->start);
	ck_assert_int_eq(a->end, b->end);
	ck_assert_int_eq(a->all_day, b->all_day);
	ck_assert_int_eq(a->has_rid, b->has_rid);
	if (a->has_rid) {
		ck_assert_int_eq(a->rid, b->rid);
		ck_assert_int_eq(a->rid_all_day, b->rid_all_day);
	}
	ck_assert_int_eq(a->has_due, b->has_due);
	if (a->has_due) {
		ck_assert_int_eq(a->due, b->due);
		ck_assert_int_eq(a->due_all_day, b->due_all_day);
	}
	ck_assert_int_eq(a->has_completed, b->has_completed);
	if (a->has_completed)
		ck_assert_int_eq(a->completed, b->completed);
}

static void
round_trip(const struct dj_occurrence *o, const struct tz *z, json_t **out)
{
	struct dj_occurrence back;
	json_t *j = proto_occurrence_json(o, z), *r;
	char *cause = NULL;

	r = reparse(j);
	json_decref(j);
	ck_assert_msg(proto_occurrence_from_json(r, z, &back, &cause) == 0,
	    "%s", cause);
	assert_same(o, &back);
	occ_clear(&back);
	if (out != NULL)
		*out = r;
	else
		json_decref(r);
}

static const char *
jstr(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	ck_assert_msg(v != NULL, "no %s", key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

START_TEST(test_occurrence_event)
{
	const struct tz *z = zone("Asia/Shanghai");
	struct dj_occurrence o;
	json_t *j;

	memset(&o, 0, sizeof o);
	o.uid = "study-1@djcal.test";
	o.feed = "jiguan-study";
	o.branch = "机关党支部";
	o.summary = "专题党课：\"学习\"\n第二行\\";
	o.location = "三楼会议室";
	o.description = NULL;
	o.status = "CONFIRMED";
	o.kind = DJ_KIND_EVENT;
	o.category = DJ_CAT_STUDY;
	o.meeting_type = DJ_MT_LECTURE;
	o.start = ut("20261201T010000Z");
	o.end = ut("20261201T030000Z");
	o.has_rid = 1;
	o.rid = ut("20261130T010000Z");
	round_trip(&o, z, &j);
	ck_assert_str_eq(jstr(j, "uid"), "study-1@djcal.test");
	ck_assert_str_eq(jstr(j, "kind"), "event");
	ck_assert_str_eq(jstr(j, "category"), "study");
	ck_assert_str_eq(jstr(j, "start"), "2026-12-01T09:00:00+08:00");
	ck_assert_str_eq(jstr(j, "end"), "2026-12-01T11:00:00+08:00");
	ck_assert_str_eq(jstr(j, "recurrence_id"),
	    "2026-11-30T09:00:00+08:00");
	ck_assert_str_eq(jstr(j, "summary"), o.summary);
	ck_assert(json_is_null(json_object_get(j, "description")));
	ck_assert(json_is_false(json_object_get(j, "all_day")));
	ck_assert_ptr_null(json_object_get(j, "due"));
	json_decref(j);
}
END_TEST

START_TEST(test_occurrence_all_day_and_nulls)
{
	const struct tz *z = zone("Asia/Shanghai");
	struct dj_occurrence o;
	json_t *j;

	memset(&o, 0, sizeof o);
	o.uid = "day";
	o.feed = "f";
	o.category = DJ_CAT_PARTY_DAY;
	o.all_day = 1;
	o.start = ut("20261130T160000Z");
	o.end = ut("20261201T160000Z");
	o.has_rid = 1;
	o.rid = o.start;
	o.rid_all_day = 1;
	round_trip(&o, z, &j);
	ck_assert_str_eq(jstr(j, "start"), "2026-12-01");
	/* The end is exclusive: the day after. */
	ck_assert_str_eq(jstr(j, "end"), "2026-12-02");
	ck_assert_str_eq(jstr(j, "recurrence_id"), "2026-12-01");
	ck_assert(json_is_true(json_object_get(j, "all_day")));
	ck_assert(json_is_null(json_object_get(j, "branch")));
	ck_assert(json_is_null(json_object_get(j, "status")));
	json_decref(j);
	/* No recurrence id: null. */
	o.has_rid = 0;
	round_trip(&o, z, &j);
	ck_assert(json_is_null(json_object_get(j, "recurrence_id")));
	json_decref(j);
}
END_TEST

START_TEST(test_occurrence_task)
{
	const struct tz *z = zone("America/New_York");
	struct dj_occurrence o;
	json_t *j;

	memset(&o, 0, sizeof o);
	o.uid = "task-1";
	o.feed = "std";
	o.kind = DJ_KIND_TASK;
	o.category = DJ_CAT_STANDARDIZATION;
	o.status = "COMPLETED";
	o.start = o.end = ut("20260308T050000Z");
	o.all_day = 1;
	o.has_due = 1;
	o.due = ut("20260308T050000Z");
	o.due_all_day = 1;
	o.has_completed = 1;
	o.completed = ut("20260307T150000Z");
	round_trip(&o, z, &j);
	ck_assert_str_eq(jstr(j, "kind"), "task");
	ck_assert_str_eq(jstr(j, "due"), "2026-03-08");
	ck_assert_str_eq(jstr(j, "completed"), "2026-03-07T10:00:00-05:00");
	json_decref(j);
}
END_TEST

/* A made-up UID is shown as null. */
START_TEST(test_occurrence_nouid)
{
	struct dj_occurrence o, back;
	json_t *j;
	char *cause = NULL;

	memset(&o, 0, sizeof o);
	o.uid = INGEST_NOUID_PREFIX "0123456789abcdef";
	o.feed = "f";
	o.start = o.end = ut("20261201T010000Z");
	j = proto_occurrence_json(&o, tz_utc());
	ck_assert(json_is_null(json_object_get(j, "uid")));
	ck_assert_int_eq(proto_occurrence_from_json(j, tz_utc(), &back,
	    &cause), 0);
	ck_assert_ptr_null(back.uid);
	occ_clear(&back);
	json_decref(j);
}
END_TEST

START_TEST(test_occurrence_bad_json)
{
	struct dj_occurrence back;
	char *cause = NULL;
	json_t *j;

	j = json_pack("{s:s}", "uid", "x");
	ck_assert_int_eq(proto_occurrence_from_json(j, tz_utc(), &back,
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	json_decref(j);
	j = json_pack("{s:s}", "start", "2026-02-30T25:00:00Z");
	ck_assert_int_eq(proto_occurrence_from_json(j, tz_utc(), &back,
	    &cause), -1);
	free(cause);
	cause = NULL;
	json_decref(j);
	j = json_string("not an object");
	ck_assert_int_eq(proto_occurrence_from_json(j, tz_utc(), &back,
	    &cause), -1);
	free(cause);
	json_decref(j);
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_loop_test(tc, test_format, 0,
	    (int)(sizeof fmt_cases / sizeof fmt_cases[0]));
	tcase_add_test(tc, test_format_null_zone_is_utc);
	tcase_add_loop_test(tc, test_parse, 0,
	    (int)(sizeof parse_cases / sizeof parse_cases[0]));
	tcase_add_test(tc, test_occurrence_event);
	tcase_add_test(tc, test_occurrence_all_day_and_nulls);
	tcase_add_test(tc, test_occurrence_task);
	tcase_add_test(tc, test_occurrence_nouid);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_occurrence_bad_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(proto_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
