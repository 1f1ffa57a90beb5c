/* Reminders: due times, the outbox, late and skipped, changes after sending. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libical/ical.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/feed.h"
#include "djcal/remind.h"
#include "djcal/store.h"
#include "djcal/tz.h"
#include "djcal/update.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

/* 2026-12-01T00:00:00Z */
#define T0	((time_t)1796083200)

static char *dir;
static struct config *cfg;
static struct store *store;
static struct classifier *cls;
static int64_t feed_id;
static struct remind *rem;
static json_t *got;		/* every delivered message */

static void
deliver(void *arg, const struct store_msg *m)
{
	json_error_t err;
	json_t *j;

	(void)arg;
	j = json_loads(m->body, 0, &err);
	ck_assert_msg(j != NULL, "bad message body: %s", m->body);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "seq")),
	    m->seq);
	json_array_append_new(got, j);
}

static void
setup_conf(const char *extra)
{
	struct store_feed sf;
	struct remind_env env;
	char *conf, *path, *cause = NULL;

	dir = tu_mkdtemp();
	xasprintf(&conf, "[daemon]\ndatabase = db\nsocket = sock\n"
	    "timezone = Asia/Shanghai\nreminders = 1h\nlate_grace = 12h\n"
	    "%s\n[feed f]\nurl = f.ics\ncategory = study\nbranch = 机关\n",
	    extra);
	path = tu_write_str(dir, "djcald.conf", conf);
	ck_assert_msg(config_load(path, &cfg, &cause) == 0, "%s", cause);
	free(conf);
	free(path);
	store = store_open(cfg->database, 0, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	ck_assert_int_eq(feed_sync_config(store, cfg, &cause), 0);
	memset(&sf, 0, sizeof sf);
	ck_assert_int_eq(store_feed_get(store, "f", &sf), 0);
	feed_id = sf.id;
	store_feed_clear(&sf);
	cls = feed_classifier_new(cfg);
	got = json_array();
	memset(&env, 0, sizeof env);
	env.store = store;
	env.deliver = deliver;
	rem = remind_new(NULL, cfg, &env, &cause);
	ck_assert_msg(rem != NULL, "%s", cause);
}

static void
setup(void)
{
	setup_conf("");
}

static void
teardown(void)
{
	remind_free(rem);
	classifier_free(cls);
	store_close(store);
	config_free(cfg);
	json_decref(got);
	tu_rmtree(dir);
	free(dir);
}

/* Ingest a calendar body (the VEVENTs/VTODOs given) as feed f at now. */
static void
ingest(const char *components, time_t now)
{
	struct update_ctx ctx;
	struct update_result res;
	struct store_fetch fe;
	char *body, *cause = NULL;

	xasprintf(&body, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n"
	    "%sEND:VCALENDAR\r\n", components);
	memset(&ctx, 0, sizeof ctx);
	ctx.store = store;
	ctx.classifier = cls;
	ctx.zone = tz_system("Asia/Shanghai");
	ctx.now = now;
	ctx.horizon_days = 400;
	ctx.history_days = 400;
	ck_assert_msg(update_feed_body(&ctx, feed_id, DJ_CAT_STUDY, body,
	    strlen(body), 0, &res, &cause) == 0, "%s", cause);
	memset(&fe, 0, sizeof fe);
	fe.when = now;
	fe.ok = 1;
	ck_assert_int_eq(store_feed_fetched(store, feed_id, &fe), 0);
	update_result_clear(&res);
	free(body);
}

/* A VEVENT starting at a UTC time string, one hour long. */
static char *
event(const char *uid, const char *start, const char *extra)
{
	char *s;

	xasprintf(&s, "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261101T000000Z\r\n"
	    "DTSTART:%s\r\nDURATION:PT1H\r\nSUMMARY:支委会 %s\r\n%s"
	    "END:VEVENT\r\n", uid, start, uid, extra);
	return s;
}

static json_t *
msg(size_t i)
{
	return json_array_get(got, i);
}

static const char *
msg_str(size_t i, const char *key)
{
	return json_string_value(json_object_get(msg(i), key));
}

START_TEST(test_first_run_announces_nothing_old)
{
	char *e = event("a", "20261130T230000Z", "");

	ingest(e, T0);
	/* a started an hour ago; its reminder was due two hours ago. */
	ck_assert_int_eq(remind_run(rem, T0), 0);
	ck_assert_int_eq(json_array_size(got), 0);
	free(e);
}
END_TEST

START_TEST(test_on_time_once)
{
	char *e = event("a", "20261201T020000Z", "");

	ingest(e, T0);
	ck_assert_int_eq(remind_run(rem, T0), 0);
	ck_assert_int_eq(remind_next_due(rem, T0), T0 + 3600);
	ck_assert_int_eq(remind_run(rem, T0 + 3600), 0);
	ck_assert_int_eq(json_array_size(got), 1);
	ck_assert_str_eq(msg_str(0, "type"), "reminder");
	ck_assert_str_eq(msg_str(0, "lead"), "PT1H");
	ck_assert(json_is_false(json_object_get(msg(0), "late")));
	ck_assert_int_eq(json_integer_value(json_object_get(msg(0), "seq")),
	    1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    msg(0), "occurrence"), "uid")), "a");
	/* Running again, or later, sends nothing twice. */
	ck_assert_int_eq(remind_run(rem, T0 + 3601), 0);
	ck_assert_int_eq(remind_run(rem, T0 + 7200), 0);
	ck_assert_int_eq(json_array_size(got), 1);
	ck_assert_int_eq(store_msg_latest(store), 1);
	free(e);
}
END_TEST

START_TEST(test_late_within_grace)
{
	char *e = event("a", "20261201T020000Z", "");

	ingest(e, T0);
	remind_run(rem, T0);
	/* Down from T0 until three hours later. */
	ck_assert_int_eq(remind_run(rem, T0 + 3 * 3600), 0);
	ck_assert_int_eq(json_array_size(got), 1);
	ck_assert(json_is_true(json_object_get(msg(0), "late")));
	free(e);
}
END_TEST

START_TEST(test_skipped_beyond_grace)
{
	char *e = event("a", "20261201T020000Z", "");
	struct store_okey k = { "f", "a", 0 };

	ingest(e, T0);
	remind_run(rem, T0);
	ck_assert_int_eq(remind_run(rem, T0 + 20 * 3600), 0);
	ck_assert_int_eq(json_array_size(got), 0);
	/* Recorded as skipped, so not considered again. */
	ck_assert_int_eq(store_reminder_done(store, &k, "PT1H", T0 + 3600), 1);
	free(e);
}
END_TEST

START_TEST(test_moved_before_reminder)
{
	char *e1 = event("a", "20261201T020000Z", "SEQUENCE:0\r\n");
	char *e2 = event("a", "20261201T050000Z", "SEQUENCE:1\r\n");

	ingest(e1, T0);
	remind_run(rem, T0);
	ingest(e2, T0 + 60);
	remind_feeds_changed(rem, T0 + 60);
	ck_assert_int_eq(remind_next_due(rem, T0 + 60), T0 + 4 * 3600);
	/* Nothing at the old time. */
	remind_run(rem, T0 + 3600);
	ck_assert_int_eq(json_array_size(got), 0);
	remind_run(rem, T0 + 4 * 3600);
	ck_assert_int_eq(json_array_size(got), 1);
	ck_assert_str_eq(msg_str(0, "type"), "reminder");
	free(e1);
	free(e2);
}
END_TEST

START_TEST(test_cancelled_after_reminder)
{
	char *e1 = event("a", "20261201T020000Z", "");
	char *e2 = event("a", "20261201T020000Z", "STATUS:CANCELLED\r\n"
	    "SEQUENCE:1\r\n");

	ingest(e1, T0);
	remind_run(rem, T0);
	remind_run(rem, T0 + 3600);
	ck_assert_int_eq(json_array_size(got), 1);
	ingest(e2, T0 + 3700);
	ck_assert_int_eq(remind_feeds_changed(rem, T0 + 3700), 0);
	ck_assert_int_eq(json_array_size(got), 2);
	ck_assert_str_eq(msg_str(1, "type"), "cancelled");
	ck_assert_str_eq(msg_str(1, "reason"), "cancelled");
	ck_assert_int_eq(json_integer_value(json_object_get(msg(1), "seq")),
	    2);
	/* Announced once. */
	remind_feeds_changed(rem, T0 + 3800);
	ck_assert_int_eq(json_array_size(got), 2);
	free(e1);
	free(e2);
}
END_TEST

START_TEST(test_removed_after_reminder)
{
	char *e1 = event("a", "20261201T020000Z", "");
	char *e2 = event("b", "20261205T020000Z", "");

	ingest(e1, T0);
	remind_run(rem, T0);
	remind_run(rem, T0 + 3600);
	ingest(e2, T0 + 3700);
	remind_feeds_changed(rem, T0 + 3700);
	ck_assert_int_eq(json_array_size(got), 2);
	ck_assert_str_eq(msg_str(1, "type"), "cancelled");
	ck_assert_str_eq(msg_str(1, "reason"), "removed");
	free(e1);
	free(e2);
}
END_TEST

static int
stored_cb(const struct store_msg *m, void *arg)
{
	struct store_msg *out = arg;

	out->seq = m->seq;
	out->category = m->category;
	out->branch = m->branch != NULL ? xstrdup(m->branch) : NULL;
	return 1;
}

/* The cancellation of a removed occurrence reaches the subscribers its
 * reminder reached (category, branch) and shows what it was. */
START_TEST(test_removed_keeps_category_and_branch)
{
	char *e1 = event("a", "20261201T020000Z", "LOCATION:三楼\r\n");
	char *e2 = event("b", "20261205T020000Z", "");
	struct store_msg m;
	json_t *o;

	ingest(e1, T0);
	remind_run(rem, T0);
	remind_run(rem, T0 + 3600);
	ingest(e2, T0 + 3700);
	remind_feeds_changed(rem, T0 + 3700);
	ck_assert_int_eq(json_array_size(got), 2);
	ck_assert_str_eq(msg_str(1, "reason"), "removed");
	o = json_object_get(msg(1), "occurrence");
	ck_assert_str_eq(json_string_value(json_object_get(o, "summary")),
	    "支委会 a");
	ck_assert_str_eq(json_string_value(json_object_get(o, "location")),
	    "三楼");
	ck_assert_str_eq(json_string_value(json_object_get(o, "category")),
	    "study");
	ck_assert_str_eq(json_string_value(json_object_get(o, "branch")),
	    "机关");
	ck_assert_str_eq(json_string_value(json_object_get(o, "start")),
	    "2026-12-01T10:00:00+08:00");
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(store_msg_since(store, 1, 1, stored_cb, &m), 0);
	ck_assert_int_eq(m.seq, 2);
	ck_assert_int_eq(m.category, DJ_CAT_STUDY);
	ck_assert_ptr_nonnull(m.branch);
	ck_assert_str_eq(m.branch, "机关");
	free((char *)m.branch);
	free(e1);
	free(e2);
}
END_TEST

START_TEST(test_moved_after_reminder)
{
	char *e1 = event("a", "20261201T020000Z", "");
	char *e2 = event("a", "20261201T060000Z", "SEQUENCE:1\r\n");

	ingest(e1, T0);
	remind_run(rem, T0);
	remind_run(rem, T0 + 3600);
	ingest(e2, T0 + 3700);
	remind_feeds_changed(rem, T0 + 3700);
	ck_assert_int_eq(json_array_size(got), 2);
	ck_assert_str_eq(msg_str(1, "type"), "changed");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    msg(1), "previous"), "start")), "2026-12-01T10:00:00+08:00");
	/* The new time gets its reminder. */
	remind_run(rem, T0 + 5 * 3600);
	ck_assert_int_eq(json_array_size(got), 3);
	ck_assert_str_eq(msg_str(2, "type"), "reminder");
	free(e1);
	free(e2);
}
END_TEST

START_TEST(test_valarm_and_config_leads)
{
	char *e = event("a", "20261201T020000Z",
	    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\n"
	    "TRIGGER:-PT15M\r\nEND:VALARM\r\n");

	ingest(e, T0);
	remind_run(rem, T0);
	remind_run(rem, T0 + 2 * 3600);
	ck_assert_int_eq(json_array_size(got), 2);
	ck_assert_str_eq(msg_str(0, "lead"), "PT1H");
	ck_assert_str_eq(msg_str(1, "lead"), "PT15M");
	/* Both were on time only if fired on time: here both are late. */
	ck_assert(json_is_true(json_object_get(msg(1), "late")));
	free(e);
}
END_TEST

START_TEST(test_all_day_item)
{
	/* 2026-12-02, all day: local midnight is 2026-12-01T16:00Z; the 1h
	 * lead falls at 15:00Z. */
	const char *e = "BEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20261101T000000Z\r\n"
	    "DTSTART;VALUE=DATE:20261202\r\nSUMMARY:主题党日\r\nEND:VEVENT\r\n";

	ingest(e, T0);
	remind_run(rem, T0);
	ck_assert_int_eq(remind_next_due(rem, T0), T0 + 15 * 3600);
	remind_run(rem, T0 + 15 * 3600);
	ck_assert_int_eq(json_array_size(got), 1);
	ck_assert(json_is_true(json_object_get(json_object_get(msg(0),
	    "occurrence"), "all_day")));
}
END_TEST

START_TEST(test_task_due_and_overdue)
{
	const char *t = "BEGIN:VTODO\r\nUID:t\r\nDTSTAMP:20261101T000000Z\r\n"
	    "DUE:20261201T060000Z\r\nSUMMARY:八星党支部材料\r\n"
	    "STATUS:NEEDS-ACTION\r\nEND:VTODO\r\n";

	ingest(t, T0);
	remind_run(rem, T0);
	remind_run(rem, T0 + 5 * 3600);
	ck_assert_int_eq(json_array_size(got), 1);
	ck_assert_str_eq(msg_str(0, "lead"), "PT1H");
	remind_run(rem, T0 + 6 * 3600);
	ck_assert_int_eq(json_array_size(got), 2);
	ck_assert(json_is_true(json_object_get(msg(1), "overdue")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    msg(1), "occurrence"), "kind")), "task");
}
END_TEST

START_TEST(test_completed_task_not_reminded)
{
	const char *t = "BEGIN:VTODO\r\nUID:t\r\nDTSTAMP:20261101T000000Z\r\n"
	    "DUE:20261201T060000Z\r\nSUMMARY:done\r\nSTATUS:COMPLETED\r\n"
	    "COMPLETED:20261130T000000Z\r\nEND:VTODO\r\n";

	ingest(t, T0);
	remind_run(rem, T0);
	remind_run(rem, T0 + 7 * 3600);
	ck_assert_int_eq(json_array_size(got), 0);
}
END_TEST

static int
count_cb(const struct store_msg *m, void *arg)
{
	int64_t *last = arg;

	ck_assert_int_eq(m->seq, *last + 1);
	*last = m->seq;
	return 0;
}

START_TEST(test_seq_replay)
{
	char *a = event("a", "20261201T020000Z", "");
	char *b = event("b", "20261201T030000Z", "");
	char *both;
	int64_t last = 1;

	xasprintf(&both, "%s%s", a, b);
	ingest(both, T0);
	remind_run(rem, T0);
	remind_run(rem, T0 + 3 * 3600);
	ck_assert_int_eq(json_array_size(got), 2);
	/* A subscriber that saw seq 1 gets exactly seq 2 again. */
	ck_assert_int_eq(store_msg_since(store, 1, 0, count_cb, &last), 0);
	ck_assert_int_eq(last, 2);
	free(a);
	free(b);
	free(both);
}
END_TEST

START_TEST(test_requirement_warning)
{
	/* December has its 支委会, January has nothing. */
	char *e = event("z", "20261203T070000Z", "CATEGORIES:支委会\r\n");

	teardown();
	setup_conf("[requirement 支委会]\nmeeting_type = branch-committee\n"
	    "cadence = month\nwarn_days = 7\n");
	ingest(e, T0);
	remind_run(rem, T0);
	ck_assert_int_eq(json_array_size(got), 0);
	/* January's window opens on 2026-12-25 (local midnight). */
	ck_assert_int_eq(remind_next_due(rem, T0 + 3 * 86400), 0);
	remind_run(rem, T0 + 23 * 86400 + 16 * 3600 + 60);
	ck_assert_int_eq(json_array_size(got), 1);
	ck_assert_str_eq(msg_str(0, "type"), "warning");
	ck_assert_str_eq(msg_str(0, "requirement"), "支委会");
	ck_assert_str_eq(msg_str(0, "period"), "2027-01");
	ck_assert_str_eq(msg_str(0, "begins"), "2027-01-01");
	/* Once per period. */
	remind_run(rem, T0 + 24 * 86400);
	remind_feeds_changed(rem, T0 + 24 * 86400 + 60);
	ck_assert_int_eq(json_array_size(got), 1);
	free(e);
}
END_TEST

START_TEST(test_warning_waits_for_every_feed)
{
	struct store_feed sf;
	struct store_fetch fe;
	time_t jan_window = T0 + 23 * 86400 + 16 * 3600 + 60;

	/* Feed f is fetched; feed g never was: no warning yet, even inside
	 * January's warning window. */
	teardown();
	setup_conf("[requirement 支委会]\nmeeting_type = branch-committee\n"
	    "cadence = month\nwarn_days = 7\n[feed g]\nurl = g.ics\n");
	ingest("", T0);
	remind_run(rem, T0);
	remind_run(rem, jan_window);
	ck_assert_int_eq(json_array_size(got), 0);
	/* g is fetched: now the warning is given. */
	ck_assert_int_eq(store_feed_get(store, "g", &sf), 0);
	memset(&fe, 0, sizeof fe);
	fe.when = jan_window + 60;
	fe.ok = 1;
	ck_assert_int_eq(store_feed_fetched(store, sf.id, &fe), 0);
	store_feed_clear(&sf);
	remind_feed_fetched(rem, jan_window + 60);
	ck_assert_int_eq(json_array_size(got), 1);
	ck_assert_str_eq(msg_str(0, "period"), "2027-01");
}
END_TEST

START_TEST(test_iso_duration)
{
	static const struct { long long s; const char *iso; } t[] = {
		{ 0, "PT0S" }, { 3600, "PT1H" }, { 86400, "P1D" },
		{ 604800, "P1W" }, { 5400, "PT1H30M" }, { -900, "-PT15M" },
		{ 90061, "P1DT1H1M1S" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		remind_iso_duration(t[i].s, buf, sizeof buf);
		ck_assert_str_eq(buf, t[i].iso);
	}
}
END_TEST

static Suite *
remind_suite(void)
{
	Suite *s = suite_create("remind");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_first_run_announces_nothing_old);
	tcase_add_test(tc, test_on_time_once);
	tcase_add_test(tc, test_late_within_grace);
	tcase_add_test(tc, test_skipped_beyond_grace);
	tcase_add_test(tc, test_moved_before_reminder);
	tcase_add_test(tc, test_cancelled_after_reminder);
	tcase_add_test(tc, test_removed_after_reminder);
	tcase_add_test(tc, test_removed_keeps_category_and_branch);
	tcase_add_test(tc, test_moved_after_reminder);
	tcase_add_test(tc, test_valarm_and_config_leads);
	tcase_add_test(tc, test_all_day_item);
	tcase_add_test(tc, test_task_due_and_overdue);
	tcase_add_test(tc, test_completed_task_not_reminded);
	tcase_add_test(tc, test_seq_replay);
	tcase_add_test(tc, test_requirement_warning);
	tcase_add_test(tc, test_warning_waits_for_every_feed);
	tcase_add_test(tc, test_iso_duration);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(remind_suite());
	int failed;

	icalerror_set_errors_are_fatal(0);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
