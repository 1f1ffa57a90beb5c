/*
 * Branch work: a year (2026) of generated branch activity where the right
 * counts are known; compliance colours, statistics, check-ins, hours,
 * holidays and warnings must come out exactly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "djcal/branch.h"
#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/feed.h"
#include "djcal/proto.h"
#include "djcal/query.h"
#include "djcal/store.h"
#include "djcal/update.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

#define TZ	"TZID=Asia/Shanghai"

/* 2026-11-20T00:00:00+08:00 */
#define NOW	((time_t)1795104000)

static const char study_ics[] =
    /* 支委会: first Tuesday, March moved within March. */
    "BEGIN:VEVENT\r\nUID:zwh\r\nDTSTART;" TZ ":20260106T150000\r\n"
    "DTEND;" TZ ":20260106T163000\r\nRRULE:FREQ=MONTHLY;BYDAY=1TU;COUNT=12\r\n"
    "SUMMARY:支委会\r\nCATEGORIES:支委会\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:zwh\r\nRECURRENCE-ID;" TZ ":20260303T150000\r\n"
    "DTSTART;" TZ ":20260310T150000\r\nDTEND;" TZ ":20260310T163000\r\n"
    "SUMMARY:支委会（调整）\r\nCATEGORIES:支委会\r\nEND:VEVENT\r\n"
    /* 党员大会: last Thursday of each quarter. */
    "BEGIN:VEVENT\r\nUID:dydh\r\nDTSTART;" TZ ":20260326T090000\r\n"
    "DTEND;" TZ ":20260326T110000\r\n"
    "RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=-1TH;COUNT=4\r\n"
    "SUMMARY:支部党员大会\r\nCATEGORIES:党员大会\r\nEND:VEVENT\r\n"
    /* 党小组会: the 10th, January to November only. */
    "BEGIN:VEVENT\r\nUID:xzh\r\nDTSTART;" TZ ":20260110T090000\r\n"
    "DTEND;" TZ ":20260110T100000\r\n"
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=10;COUNT=11\r\n"
    "SUMMARY:党小组会\r\nCATEGORIES:党小组会\r\nEND:VEVENT\r\n"
    /* 党课: Q1, Q3, Q4; Q2 missed. */
    "BEGIN:VEVENT\r\nUID:dk1\r\nDTSTART;" TZ ":20260320T140000\r\n"
    "DTEND;" TZ ":20260320T160000\r\nSUMMARY:专题党课\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:dk3\r\nDTSTART;" TZ ":20260918T140000\r\n"
    "DTEND;" TZ ":20260918T160000\r\nSUMMARY:专题党课\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:dk4\r\nDTSTART;" TZ ":20261218T140000\r\n"
    "DTEND;" TZ ":20261218T160000\r\nSUMMARY:专题党课\r\nEND:VEVENT\r\n";

static const char party_ics[] =
    /* 主题党日: last Friday; July's cancelled. */
    "BEGIN:VEVENT\r\nUID:ztdr\r\nDTSTART;" TZ ":20260130T140000\r\n"
    "DTEND;" TZ ":20260130T170000\r\n"
    "RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=12\r\nSUMMARY:主题党日\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:ztdr\r\nRECURRENCE-ID;" TZ ":20260731T140000\r\n"
    "DTSTART;" TZ ":20260731T140000\r\nDTEND;" TZ ":20260731T170000\r\n"
    "SUMMARY:主题党日\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n";

static const char volunteer_ics[] =
    "BEGIN:VEVENT\r\nUID:v1\r\nDTSTART;" TZ ":20260509T090000\r\n"
    "DTEND;" TZ ":20260509T130000\r\nSUMMARY:社区志愿服务\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:v2\r\nDTSTART;" TZ ":20261002T090000\r\n"
    "DTEND;" TZ ":20261002T120000\r\nSUMMARY:入户宣传\r\nEND:VEVENT\r\n";

static const char holidays_ics[] =
    "BEGIN:VEVENT\r\nUID:gq\r\nDTSTART;VALUE=DATE:20261001\r\n"
    "DTEND;VALUE=DATE:20261008\r\nSUMMARY:国庆节\r\nEND:VEVENT\r\n";

static char *dir;
static struct config *cfg;
static struct store *store;
static struct classifier *cls;

static void
ingest(const char *feed, const char *components)
{
	struct update_ctx ctx;
	struct update_result res;
	struct store_feed sf;
	const struct config_feed *cf = config_feed_find(cfg, feed);
	char *body, *cause = NULL;

	ck_assert_ptr_nonnull(cf);
	ck_assert_int_eq(store_feed_get(store, feed, &sf), 0);
	xasprintf(&body, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n"
	    "%sEND:VCALENDAR\r\n", components);
	memset(&ctx, 0, sizeof ctx);
	ctx.store = store;
	ctx.classifier = cls;
	ctx.zone = tz_system("Asia/Shanghai");
	ctx.now = NOW;
	ctx.horizon_days = 400;
	ctx.history_days = 400;
	ck_assert_msg(update_feed_body(&ctx, sf.id, cf->category, body,
	    strlen(body), 0, &res, &cause) == 0, "%s", cause);
	ck_assert_msg(res.problems == NULL, "%s", res.problems);
	update_result_clear(&res);
	store_feed_clear(&sf);
	free(body);
}

static void
setup(void)
{
	char *path, *cause = NULL;

	dir = tu_mkdtemp();
	path = tu_write_str(dir, "djcald.conf",
	    "[daemon]\ndatabase = db\nsocket = sock\n"
	    "timezone = Asia/Shanghai\nwarn_days = 7\n"
	    "[feed study]\nurl = s.ics\ncategory = study\nbranch = 机关\n"
	    "[feed party]\nurl = p.ics\ncategory = party-day\nbranch = 机关\n"
	    "[feed vol]\nurl = v.ics\ncategory = volunteer\nbranch = 机关\n"
	    "[feed hol]\nurl = h.ics\nkind = holidays\n");
	ck_assert_msg(config_load(path, &cfg, &cause) == 0, "%s", cause);
	free(path);
	store = store_open(cfg->database, 0, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	ck_assert_int_eq(feed_sync_config(store, cfg, &cause), 0);
	cls = feed_classifier_new(cfg);
	ingest("study", study_ics);
	ingest("party", party_ics);
	ingest("vol", volunteer_ics);
	ingest("hol", holidays_ics);
}

static void
teardown(void)
{
	classifier_free(cls);
	store_close(store);
	config_free(cfg);
	tu_rmtree(dir);
	free(dir);
}

static time_t
at(const char *local)
{
	time_t t;

	ck_assert_int_eq(proto_parse_time(local, tz_system("Asia/Shanghai"),
	    &t, NULL), 0);
	return t;
}

static const struct branch_req *
req(const struct branch_compliance *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nreqs; i++)
		if (strcmp(c->reqs[i].req->name, name) == 0)
			return &c->reqs[i];
	ck_abort_msg("no requirement %s", name);
	return NULL;
}

static const struct {
	const char		*name;
	enum branch_status	 status;
	int			 held, scheduled, missing;
} compliance_rows[] = {
	{ "支委会", BRANCH_GREEN, 11, 1, 0 },
	{ "党员大会", BRANCH_GREEN, 3, 1, 0 },
	{ "党小组会", BRANCH_YELLOW, 11, 0, 0 },
	{ "党课", BRANCH_RED, 2, 1, 1 },
	{ "主题党日", BRANCH_RED, 9, 2, 1 },
};

START_TEST(test_compliance)
{
	struct branch_compliance c;
	const struct branch_req *r;
	char *cause = NULL;
	int held = 0, sched = 0, missing = 0;
	size_t k;

	ck_assert_int_eq(branch_compliance(store, cfg, 2026, NULL, NOW, &c,
	    &cause), 0);
	r = req(&c, compliance_rows[_i].name);
	for (k = 0; k < r->nperiods; k++) {
		held += r->periods[k].held;
		sched += r->periods[k].scheduled;
		missing += r->periods[k].missing;
	}
	ck_assert_msg(r->status == compliance_rows[_i].status,
	    "%s: status %s", compliance_rows[_i].name,
	    branch_status_name(r->status));
	ck_assert_int_eq(held, compliance_rows[_i].held);
	ck_assert_int_eq(sched, compliance_rows[_i].scheduled);
	ck_assert_int_eq(missing, compliance_rows[_i].missing);
	branch_compliance_free(&c);
}
END_TEST

START_TEST(test_moved_meeting_stays_in_month)
{
	struct branch_compliance c;
	const struct branch_req *r;
	char *cause = NULL;

	ck_assert_int_eq(branch_compliance(store, cfg, 2026, "机关", NOW, &c,
	    &cause), 0);
	r = req(&c, "支委会");
	ck_assert_int_eq(r->nperiods, 12);
	ck_assert_str_eq(r->periods[2].label, "2026-03");
	ck_assert_int_eq(r->periods[2].held, 1);
	r = req(&c, "主题党日");
	ck_assert_str_eq(r->periods[6].label, "2026-07");
	ck_assert_int_eq(r->periods[6].cancelled, 1);
	ck_assert_int_eq(r->periods[6].held, 0);
	ck_assert(r->periods[6].missing);
	r = req(&c, "党课");
	ck_assert_str_eq(r->periods[1].label, "2026-Q2");
	ck_assert(r->periods[1].missing);
	branch_compliance_free(&c);
}
END_TEST

START_TEST(test_compliance_json_shape)
{
	struct branch_compliance c;
	char *cause = NULL, *s;
	json_t *j;

	ck_assert_int_eq(branch_compliance(store, cfg, 2026, NULL, NOW, &c,
	    &cause), 0);
	j = branch_compliance_json(&c);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_ptr_nonnull(strstr(s, "{\"year\":2026,\"requirements\":[{"
	    "\"name\":\"支委会\",\"category\":\"study\",\"meeting_type\":"
	    "\"branch-committee\",\"cadence\":\"month\",\"status\":\"green\","
	    "\"periods\":[{\"period\":\"2026-01\",\"held\":1,\"scheduled\":0,"));
	free(s);
	json_decref(j);
	branch_compliance_free(&c);
}
END_TEST

static const struct branch_stat *
row(const struct branch_stat *rows, size_t n, enum dj_category c,
    enum dj_meeting m)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].category == c && rows[i].meeting_type == m)
			return &rows[i];
	ck_abort_msg("no row %d/%d", c, m);
	return NULL;
}

static void
checkin(const char *uid, const char *start, const char *member,
    const char *leave)
{
	struct branch_checkin c;
	char *cause = NULL;

	ck_assert_msg(branch_checkin(store, NULL, uid, at(start), member,
	    leave, NOW, &c, &cause) == 0, "%s %s: %s", uid, start,
	    cause != NULL ? cause : "not found");
	ck_assert_str_eq(c.member, member);
	branch_checkin_clear(&c);
}

START_TEST(test_stats)
{
	struct branch_stat *rows;
	const struct branch_stat *r;
	char *cause = NULL;
	size_t n;

	checkin("zwh", "2026-01-06T15:00", "张三", NULL);
	checkin("zwh", "2026-01-06T15:00", "李四", NULL);
	checkin("zwh", "2026-01-06T15:00", "王五", NULL);
	checkin("zwh", "2026-01-06T15:00", "赵六", "出差");
	checkin("v1", "2026-05-09T09:00", "张三", NULL);
	checkin("v1", "2026-05-09T09:00", "李四", NULL);
	checkin("v2", "2026-10-02T09:00", "张三", NULL);
	ck_assert_int_eq(branch_stats(store, 2026, NULL, NOW, &rows, &n,
	    &cause), 0);
	r = row(rows, n, DJ_CAT_STUDY, DJ_MT_NONE);
	ck_assert_int_eq(r->held, 27);
	ck_assert_int_eq(r->upcoming, 3);
	ck_assert_int_eq(r->cancelled, 0);
	r = row(rows, n, DJ_CAT_STUDY, DJ_MT_BRANCH_COMMITTEE);
	ck_assert_int_eq(r->held, 11);
	ck_assert_int_eq(r->upcoming, 1);
	ck_assert_int_eq(r->checkins, 3);
	ck_assert_int_eq(r->leaves, 1);
	ck_assert_double_eq_tol(branch_attendance_rate(r), 0.75, 1e-9);
	r = row(rows, n, DJ_CAT_STUDY, DJ_MT_MEMBER_ASSEMBLY);
	ck_assert_int_eq(r->held, 3);
	r = row(rows, n, DJ_CAT_STUDY, DJ_MT_GROUP);
	ck_assert_int_eq(r->held, 11);
	r = row(rows, n, DJ_CAT_STUDY, DJ_MT_LECTURE);
	ck_assert_int_eq(r->held, 2);
	ck_assert_int_eq(r->upcoming, 1);
	r = row(rows, n, DJ_CAT_PARTY_DAY, DJ_MT_NONE);
	ck_assert_int_eq(r->held, 9);
	ck_assert_int_eq(r->cancelled, 1);
	ck_assert_int_eq(r->upcoming, 2);
	r = row(rows, n, DJ_CAT_VOLUNTEER, DJ_MT_NONE);
	ck_assert_int_eq(r->held, 2);
	ck_assert_int_eq(r->checkins, 3);
	ck_assert_double_eq_tol(r->volunteer_hours, 11.0, 1e-9);
	/* Holidays are not activities; no row for "other". */
	ck_assert_int_eq(n, 7);
	free(rows);
}
END_TEST

START_TEST(test_hours)
{
	struct branch_hours *h;
	char *cause = NULL;
	size_t n;

	checkin("v1", "2026-05-09T09:00", "张三", NULL);
	checkin("v1", "2026-05-09T09:00", "李四", NULL);
	checkin("v2", "2026-10-02T09:00", "张三", NULL);
	checkin("v2", "2026-10-02T09:00", "王五", "生病");
	ck_assert_int_eq(branch_hours(store, 2026, NULL, &h, &n, &cause), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(h[0].member, "张三");
	ck_assert_double_eq_tol(h[0].hours, 7.0, 1e-9);
	ck_assert_int_eq(h[0].count, 2);
	ck_assert_str_eq(h[1].member, "李四");
	ck_assert_double_eq_tol(h[1].hours, 4.0, 1e-9);
	branch_hours_free(h, n);
	ck_assert_int_eq(branch_hours(store, 2026, "李四", &h, &n, &cause), 0);
	ck_assert_int_eq(n, 1);
	branch_hours_free(h, n);
	ck_assert_int_eq(branch_hours(store, 2025, NULL, &h, &n, &cause), 0);
	ck_assert_int_eq(n, 0);
	branch_hours_free(h, n);
}
END_TEST

START_TEST(test_hours_all_day)
{
	struct branch_hours *h;
	char *cause = NULL, *vol;
	size_t n;

	/* A two-day activity counts two working days. */
	xasprintf(&vol, "%sBEGIN:VEVENT\r\nUID:v3\r\n"
	    "DTSTART;VALUE=DATE:20260601\r\nDTEND;VALUE=DATE:20260603\r\n"
	    "SUMMARY:结对帮扶\r\nEND:VEVENT\r\n", volunteer_ics);
	ingest("vol", vol);
	free(vol);
	checkin("v3", "2026-06-01", "张三", NULL);
	ck_assert_int_eq(branch_hours(store, 2026, "张三", &h, &n, &cause), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_double_eq_tol(h[0].hours, 2 * BRANCH_DAY_HOURS, 1e-9);
	branch_hours_free(h, n);
}
END_TEST

START_TEST(test_checkin_not_found)
{
	struct branch_checkin c;
	char *cause = NULL;

	/* No such UID; a real UID at a time it does not occur. */
	ck_assert_int_eq(branch_checkin(store, NULL, "nope",
	    at("2026-01-06T15:00"), "张三", NULL, NOW, &c, &cause), 1);
	ck_assert_int_eq(branch_checkin(store, NULL, "zwh",
	    at("2026-01-07T15:00"), "张三", NULL, NOW, &c, &cause), 1);
}
END_TEST

START_TEST(test_checkin_survives_reingest)
{
	struct branch_checkin *v;
	char *cause = NULL, *changed, *p;
	size_t n;

	checkin("zwh", "2026-03-10T15:00", "张三", NULL);
	/* The feed renames the meeting; the check-in stays. */
	changed = xstrdup(study_ics);
	while ((p = strstr(changed, "SUMMARY:支委会（调整）")) != NULL)
		memcpy(p + 8, "支部委员会", strlen("支部委员会"));
	ingest("study", changed);
	free(changed);
	ck_assert_int_eq(branch_attendance(store, NULL, "zwh",
	    at("2026-03-10T15:00"), &v, &n, &cause), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(v[0].member, "张三");
	ck_assert_int_eq(v[0].kind, BRANCH_PRESENT);
	/* Listed with the summary the feed has now. */
	ck_assert_ptr_nonnull(strstr(v[0].summary, "支部委员会"));
	branch_checkin_clear(&v[0]);
	free(v);
	/* And after a restart (the store reopened). */
	store_close(store);
	store = store_open(cfg->database, 0, &cause);
	ck_assert_ptr_nonnull(store);
	ck_assert_int_eq(branch_attendance(store, NULL, "zwh",
	    at("2026-03-10T15:00"), &v, &n, &cause), 0);
	ck_assert_int_eq(n, 1);
	branch_checkin_clear(&v[0]);
	free(v);
}
END_TEST

START_TEST(test_on_holiday)
{
	struct store_filter f;
	struct dj_occ_list l;
	char *cause = NULL;
	size_t i, marked = 0;

	memset(&f, 0, sizeof f);
	f.from = at("2026-09-01");
	f.to = at("2026-11-01");
	memset(&l, 0, sizeof l);
	ck_assert_int_eq(query_upcoming(store, &f, &l, &cause), 0);
	for (i = 0; i < l.n; i++) {
		if (strcmp(l.v[i].feed, "hol") == 0) {
			ck_assert(!l.v[i].on_holiday);
			continue;
		}
		/* 入户宣传 on 10-02 and 支委会 on 10-06, in 国庆. */
		if (l.v[i].on_holiday) {
			ck_assert_msg(strcmp(l.v[i].uid, "v2") == 0 ||
			    (strcmp(l.v[i].uid, "zwh") == 0 &&
			    l.v[i].start == at("2026-10-06T15:00")),
			    "%s marked", l.v[i].uid);
			marked++;
		}
	}
	ck_assert_int_eq(marked, 2);
	occ_list_free(&l);
}
END_TEST

static int
warn_cb(const struct config_requirement *r, const struct branch_period *p,
    void *arg)
{
	char *seen = arg;

	strcat(seen, r->name);
	strcat(seen, "@");
	strcat(seen, p->label);
	strcat(seen, ";");
	return 0;
}

START_TEST(test_warnings)
{
	char seen[512] = "";
	time_t next;

	/* Nine days before December: nothing in its warning window yet. */
	next = branch_warnings(store, cfg, at("2026-11-22"), warn_cb, seen);
	ck_assert_str_eq(seen, "");
	ck_assert_int_eq(next, at("2026-11-24"));
	/* Six days before: 党小组会 has nothing in December. */
	branch_warnings(store, cfg, at("2026-11-25"), warn_cb, seen);
	ck_assert_str_eq(seen, "党小组会@2026-12;");
}
END_TEST

static Suite *
branch_suite(void)
{
	Suite *s = suite_create("branch");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_compliance, 0,
	    sizeof compliance_rows / sizeof compliance_rows[0]);
	tcase_add_test(tc, test_moved_meeting_stays_in_month);
	tcase_add_test(tc, test_compliance_json_shape);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_hours);
	tcase_add_test(tc, test_hours_all_day);
	tcase_add_test(tc, test_checkin_not_found);
	tcase_add_test(tc, test_checkin_survives_reingest);
	tcase_add_test(tc, test_on_holiday);
	tcase_add_test(tc, test_warnings);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(branch_suite());
	int failed;

	icalerror_set_errors_are_fatal(0);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
