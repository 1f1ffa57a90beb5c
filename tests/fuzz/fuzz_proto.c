/*
 * Fuzz target: the control protocol.  The bytes are what one client sends
 * before it shuts down writing; ctl_answer frames them into lines and
 * answers each as a connection of root would be (root may use every op),
 * and, for a short input, once more as an unprivileged user.  The daemon
 * behind it is small but real: a store in memory holding two file feeds'
 * events, tasks and three pushed messages, a clock fixed on 2026-12-01,
 * the export's renderer, and a refresh that answers at once.  Each input
 * starts from the same store (see fp_answer), so a finding replays alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <libical/ical.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/ctl.h"
#include "djcal/export.h"
#include "djcal/feed.h"
#include "djcal/store.h"
#include "djcal/tz.h"
#include "djcal/update.h"
#include "djcal/xmalloc.h"

#include "fuzz.h"

/* 2026-12-01T00:00:00+08:00 */
#define FP_NOW		((time_t)1796054400)
#define FP_NOBODY	65534
/* Inputs up to this size are answered for an unprivileged user too. */
#define FP_TWICE	4096

static const char fp_config[] =
    "[daemon]\n"
    "timezone = Asia/Shanghai\n"
    "admin_group =\n"
    "\n"
    "[feed study]\n"
    "url = study.ics\n"
    "category = study\n"
    "branch = 机关党支部\n"
    "\n"
    "[feed tasks]\n"
    "url = tasks.ics\n"
    "category = standardization\n"
    "\n"
    "[feed remote]\n"
    "url = https://user:secret@example.org/remote.ics\n"
    "category = volunteer\n"
    "branch = 机关党支部\n";

static const char fp_study[] =
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//djcal//fuzz_proto//ZH\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:zhibu-20261208@example.org\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DTSTART;TZID=Asia/Shanghai:20261208T150000\r\n"
    "DTEND;TZID=Asia/Shanghai:20261208T163000\r\n"
    "SUMMARY:12月支委会\r\n"
    "LOCATION:三楼会议室\r\n"
    "CATEGORIES:学习\r\n"
    "BEGIN:VALARM\r\n"
    "ACTION:DISPLAY\r\n"
    "TRIGGER:-PT30M\r\n"
    "END:VALARM\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:party-day@example.org\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DTSTART;TZID=Asia/Shanghai:20260105T143000\r\n"
    "DTEND;TZID=Asia/Shanghai:20260105T163000\r\n"
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=5\r\n"
    "SUMMARY:主题党日\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:party-day@example.org\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "RECURRENCE-ID;TZID=Asia/Shanghai:20261205T143000\r\n"
    "DTSTART;TZID=Asia/Shanghai:20261206T093000\r\n"
    "DTEND;TZID=Asia/Shanghai:20261206T113000\r\n"
    "SUMMARY:主题党日（改期）\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:volunteer-20261212@example.org\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20261212\r\n"
    "DTEND;VALUE=DATE:20261213\r\n"
    "SUMMARY:社区志愿服务\r\n"
    "CATEGORIES:志愿服务\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n";

static const char fp_tasks[] =
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//djcal//fuzz_proto//ZH\r\n"
    "BEGIN:VTODO\r\n"
    "UID:task-open@example.org\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DUE;VALUE=DATE:20261220\r\n"
    "SUMMARY:提交标准化自查报告\r\n"
    "END:VTODO\r\n"
    "BEGIN:VTODO\r\n"
    "UID:task-done@example.org\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DUE;TZID=Asia/Shanghai:20261110T180000\r\n"
    "COMPLETED:20261109T100000Z\r\n"
    "STATUS:COMPLETED\r\n"
    "SUMMARY:更新党员信息\r\n"
    "END:VTODO\r\n"
    "END:VCALENDAR\r\n";

static struct {
	int			 ready;
	int			 verbose;	/* $DJCAL_FUZZ_VERBOSE */
	struct event_base	*base;
	struct config		*cfg;
	struct classifier	*cls;
	struct store		*store;
	struct ctl		*ctl;
	struct ctl_env		 env;
} fp;

static time_t
fp_now(void *arg)
{
	(void)arg;
	return FP_NOW;
}

static time_t
fp_next_fetch(void *arg, const char *feed)
{
	(void)arg;
	return strcmp(feed, "remote") == 0 ? FP_NOW + 900 : 0;
}

/* A refresh that is done at once: allowed, and it lets the requests after
 * it be answered within the same input. */
static int
fp_refresh(void *arg, const char *feed, ctl_refresh_done done,
    void *done_arg, char **cause)
{
	struct ctl_refresh_result r[2];

	(void)arg;
	if (feed != NULL && strcmp(feed, "stopping") == 0) {
		*cause = xstrdup("the fetcher is stopping");
		return -1;
	}
	if (feed != NULL && config_feed_find(fp.cfg, feed) == NULL)
		return 1;
	memset(r, 0, sizeof r);
	r[0].feed = feed != NULL ? feed : "study";
	r[0].ok = 1;
	r[0].unchanged = 1;
	r[0].items = 3;
	r[1].feed = "remote";
	r[1].http_status = 503;
	r[1].error = "HTTP 503";
	done(r, feed != NULL ? 1 : 2, done_arg);
	return 0;
}

static char *
fp_export(void *arg, const struct store_filter *sf, size_t *len,
    char **cause)
{
	struct export_filter ef;
	char *out;

	(void)arg;
	memset(&ef, 0, sizeof ef);
	ef.categories = sf->categories;
	ef.feed = sf->feed;
	ef.branch = sf->branch;
	if (export_render(fp.store, fp.cfg, &ef, &out, len, cause) == -1)
		return NULL;
	return out;
}

/* What feed_apply does, without its log lines. */
static void
fp_apply(const char *name, const char *body)
{
	struct update_ctx ctx;
	struct update_result res;
	const struct config_feed *cf = config_feed_find(fp.cfg, name);
	struct store_feed sf;
	struct store_fetch fe;
	char *cause = NULL;

	if (cf == NULL || store_feed_get(fp.store, name, &sf) != 0)
		abort();
	memset(&ctx, 0, sizeof ctx);
	ctx.store = fp.store;
	ctx.classifier = fp.cls;
	ctx.zone = tz_system(fp.cfg->timezone);
	ctx.now = FP_NOW;
	ctx.horizon_days = fp.cfg->horizon_days;
	ctx.history_days = fp.cfg->history_days;
	if (update_feed_body(&ctx, sf.id, cf->category, body, strlen(body), 0, &res,
	    &cause) == -1)
		abort();
	update_result_clear(&res);
	memset(&fe, 0, sizeof fe);
	fe.when = FP_NOW - 60;
	fe.ok = 1;
	if (store_feed_fetched(fp.store, sf.id, &fe) == -1)
		abort();
	store_feed_clear(&sf);
}

static void
fp_message(const char *type, const char *feed, int category)
{
	int64_t seq;
	char body[160];

	if (store_msg_add(fp.store, type, FP_NOW - 3600, feed, "机关党支部",
	    category, &seq) == -1)
		abort();
	snprintf(body, sizeof body, "{\"type\":\"%s\",\"seq\":%lld,"
	    "\"feed\":\"%s\"}", type, (long long)seq, feed);
	if (store_msg_set_body(fp.store, seq, body) == -1)
		abort();
}

/* The store as each input finds it. */
static void
fp_store_new(void)
{
	char *cause = NULL;

	if ((fp.store = store_open(":memory:", 0, &cause)) == NULL ||
	    feed_sync_config(fp.store, fp.cfg, &cause) == -1)
		abort();
	fp_apply("study", fp_study);
	fp_apply("tasks", fp_tasks);
	fp_message("reminder", "study", DJ_CAT_STUDY);
	fp_message("changed", "study", DJ_CAT_STUDY);
	fp_message("warning", "tasks", DJ_CAT_STANDARDIZATION);
}

static void
fp_setup(void)
{
	char *cause = NULL;

	icalerror_set_errors_are_fatal(0);
	if (config_load_buffer("/djcal-fuzz/djcald.conf", fp_config,
	    sizeof fp_config - 1, &fp.cfg, &cause) == -1)
		abort();
	fp.cls = feed_classifier_new(fp.cfg);
	if ((fp.base = event_base_new()) == NULL)
		abort();
	memset(&fp.env, 0, sizeof fp.env);
	fp.env.refresh = fp_refresh;
	fp.env.next_fetch = fp_next_fetch;
	fp.env.export_ics = fp_export;
	fp.env.now = fp_now;
	fp.verbose = getenv("DJCAL_FUZZ_VERBOSE") != NULL;
	fp_store_new();
	fp.ready = 1;
}

static void
fp_answer(uid_t uid, gid_t gid, const uint8_t *data, size_t size)
{
	char *out, *cause = NULL;
	size_t len;

	/*
	 * Every input starts from the same store: the ops run inside one
	 * transaction that is rolled back after, which is much cheaper than
	 * building the store again (no op that a client can reach opens a
	 * transaction of its own; one that did would fail here, not crash).
	 */
	if (store_begin(fp.store) == -1) {
		store_close(fp.store);
		fp_store_new();
		if (store_begin(fp.store) == -1)
			abort();
	}
	fp.env.store = fp.store;
	if ((fp.ctl = ctl_new(fp.base, -1, fp.cfg, &fp.env, &cause)) == NULL)
		abort();
	out = ctl_answer(fp.ctl, uid, gid, data, size, &len);
	/* Every reply is a whole line. */
	if (len > 0 && out[len - 1] != '\n')
		abort();
	if (fp.verbose)
		fprintf(stderr, "uid %lu: %.*s", (unsigned long)uid,
		    len > 2000 ? 2000 : (int)len, out);
	free(out);
	/* Deferred callbacks of the connection run (and free) now. */
	event_base_loop(fp.base, EVLOOP_NONBLOCK);
	if (ctl_clients(fp.ctl) != 0)
		abort();
	ctl_free(fp.ctl);
	fp.ctl = NULL;
	store_rollback(fp.store);
}

int
fuzz_proto(const uint8_t *data, size_t size)
{
	if (!fp.ready)
		fp_setup();
	fp_answer(0, 0, data, size);
	if (size <= FP_TWICE)
		fp_answer(FP_NOBODY, FP_NOBODY, data, size);
	return 0;
}

void
fuzz_proto_cleanup(void)
{
	if (!fp.ready)
		return;
	store_close(fp.store);
	event_base_free(fp.base);
	classifier_free(fp.cls);
	config_free(fp.cfg);
	memset(&fp, 0, sizeof fp);
	tz_shutdown();
}

#ifdef DJCAL_LIBFUZZER
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_proto(data, size);
}
#endif
