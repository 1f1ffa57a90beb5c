/*
 * Tests for ctl.c: the control socket, driven in-process.  Most clients are
 * socketpair() ends given to ctl_attach; the limits use a real listening
 * socket from ctl_listen.  The server runs on a private event_base that the
 * tests drive with EVLOOP_ONCE until a condition holds or a deadline
 * passes; a short persistent timer bounds each round, so nothing sleeps.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>
#include <jansson.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/ctl.h"
#include "djcal/feed.h"
#include "djcal/log.h"
#include "djcal/proto.h"
#include "djcal/query.h"
#include "djcal/store.h"
#include "djcal/tz.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

#define DEADLINE	30.0		/* seconds for any one wait */
#define NOBODY		65534

static const char study_ics[] =
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//djcal//check_ctl//ZH\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:zhibu-20261208@example.org\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DTSTART;TZID=Asia/Shanghai:20261208T150000\r\n"
    "DTEND;TZID=Asia/Shanghai:20261208T163000\r\n"
    "SUMMARY:12月支委会\r\n"
    "LOCATION:三楼会议室\r\n"
    "CATEGORIES:学习\r\n"
    "STATUS:CONFIRMED\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:party-day@example.org\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DTSTART;TZID=Asia/Shanghai:20260105T143000\r\n"
    "DTEND;TZID=Asia/Shanghai:20260105T163000\r\n"
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=5\r\n"
    "SUMMARY:主题党日\r\n"
    "LOCATION:党员活动室\r\n"
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

static const char tasks_ics[] =
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//djcal//check_ctl//ZH\r\n"
    "BEGIN:VTODO\r\n"
    "UID:task-overdue@example.org\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DUE;TZID=Asia/Shanghai:20261125T180000\r\n"
    "SUMMARY:整理支部台账\r\n"
    "STATUS:NEEDS-ACTION\r\n"
    "END:VTODO\r\n"
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

static const char config_text[] =
    "[daemon]\n"
    "database = djcald.db\n"
    "socket = djcald.sock\n"
    "timezone = Asia/Shanghai\n"
    "max_clients = 64\n"
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
    "category = volunteer\n";

/* The fake rest of the daemon, as ctl_env sees it. */
struct fake {
	time_t			 now;
	int			 refresh_calls;
	char			*refresh_feed;	/* NULL: all */
	int			 refresh_rc;	/* what refresh returns */
	ctl_refresh_done	 done;
	void			*done_arg;
	int			 export_calls;
	unsigned		 export_categories;
	char			*export_branch;
	size_t			 export_size;	/* 0: a small calendar */
};

static char *tmpdir;
static struct config *cfg;
static struct store *store;
static struct event_base *base;
static struct event *tick;
static struct ctl *ctl;
static struct ctl_env env;
static struct fake fk;
static char admin_group[256];	/* the group of getgid() */

/* Clock and loop */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
}

/* One round of the loop: at most a tick long. */
static void
pump(void)
{
	event_base_loop(base, EVLOOP_ONCE);
}

#define PUMP_UNTIL(cond) do {						\
	double dl_ = mono() + DEADLINE;					\
	while (!(cond)) {						\
		ck_assert_msg(mono() < dl_, "timed out waiting for %s",	\
		    #cond);						\
		pump();							\
	}								\
} while (0)

/* The fake environment */

static time_t
fake_now(void *arg)
{
	return ((struct fake *)arg)->now;
}

static time_t
fake_next_fetch(void *arg, const char *feed)
{
	return strcmp(feed, "remote") == 0 ? ((struct fake *)arg)->now + 900 :
	    0;
}

static int
fake_refresh(void *arg, const char *feed, ctl_refresh_done done,
    void *done_arg, char **cause)
{
	struct fake *f = arg;

	f->refresh_calls++;
	free(f->refresh_feed);
	f->refresh_feed = feed != NULL ? xstrdup(feed) : NULL;
	if (feed != NULL && strcmp(feed, "nosuch") == 0)
		return 1;
	if (f->refresh_rc == -1) {
		*cause = xstrdup("the fetcher is stopping");
		return -1;
	}
	f->done = done;
	f->done_arg = done_arg;
	return 0;
}

static char *
fake_export(void *arg, const struct store_filter *flt, size_t *len,
    char **cause)
{
	struct fake *f = arg;
	char *s;

	(void)cause;
	f->export_calls++;
	f->export_categories = flt->categories;
	free(f->export_branch);
	f->export_branch = flt->branch != NULL ? xstrdup(flt->branch) : NULL;
	if (f->export_size == 0) {
		s = xstrdup("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
		    "END:VCALENDAR\r\n");
		*len = strlen(s);
		return s;
	}
	s = xmalloc(f->export_size);
	memset(s, 'X', f->export_size);
	*len = f->export_size;
	return s;
}

/* Call the refresh's done callback as the fetcher would. */
static void
fake_done(int ok)
{
	struct ctl_refresh_result r;
	ctl_refresh_done done = fk.done;

	ck_assert_ptr_nonnull(done);
	memset(&r, 0, sizeof r);
	r.feed = "study";
	r.ok = ok;
	r.http_status = 0;
	r.items = 3;
	r.changed = 1;
	r.error = ok ? NULL : "study.ics: No such file or directory";
	fk.done = NULL;
	done(&r, 1, fk.done_arg);
}

/* Fixture: a store with two file feeds ingested, and a ctl without a
 * listening socket. */

static void
ingest_files(void)
{
	struct classifier *cls = feed_classifier_new(cfg);
	struct feed_env fe;

	memset(&fe, 0, sizeof fe);
	fe.store = store;
	fe.cfg = cfg;
	fe.classifier = cls;
	fe.zone = tz_system(cfg->timezone);
	ck_assert_int_eq(feed_once_files(&fe, fk.now), 0);
	classifier_free(cls);
}

static void
setup(void)
{
	char *path, *cause = NULL;
	struct group *gr;
	int is_date;

	tmpdir = tu_mkdtemp();
	free(tu_write_str(tmpdir, "study.ics", study_ics));
	free(tu_write_str(tmpdir, "tasks.ics", tasks_ics));
	path = tu_write_str(tmpdir, "djcald.conf", config_text);
	ck_assert_msg(config_load(path, &cfg, &cause) == 0, "%s", cause);
	free(path);
	gr = getgrgid(getgid());
	ck_assert_ptr_nonnull(gr);
	snprintf(admin_group, sizeof admin_group, "%s", gr->gr_name);
	free(cfg->admin_group);
	cfg->admin_group = xstrdup(admin_group);

	memset(&fk, 0, sizeof fk);
	ck_assert_int_eq(proto_parse_time("2026-12-01T00:00:00+08:00", NULL,
	    &fk.now, &is_date), 0);
	store = store_open(cfg->database, 0, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	ck_assert_msg(feed_sync_config(store, cfg, &cause) == 0, "%s", cause);
	ingest_files();

	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(tick, &(struct timeval){ 0, 10000 });

	memset(&env, 0, sizeof env);
	env.store = store;
	env.refresh = fake_refresh;
	env.next_fetch = fake_next_fetch;
	env.export_ics = fake_export;
	env.now = fake_now;
	env.arg = &fk;
	ctl = ctl_new(base, -1, cfg, &env, &cause);
	ck_assert_msg(ctl != NULL, "%s", cause);
}

static void
teardown(void)
{
	ctl_free(ctl);
	event_free(tick);
	event_base_free(base);
	store_close(store);
	config_free(cfg);
	free(fk.refresh_feed);
	free(fk.export_branch);
	tu_rmtree(tmpdir);
	free(tmpdir);
	ctl = NULL;
	base = NULL;
	store = NULL;
	cfg = NULL;
	tmpdir = NULL;
}

/* Clients */

struct client {
	int	 fd;
	char	*buf;
	size_t	 len, cap;
	int	 eof;		/* EOF or a reset seen */
};

static struct client *
cl_wrap(int fd)
{
	struct client *c = xcalloc(1, sizeof *c);
	int fl = fcntl(fd, F_GETFL);

	ck_assert_int_ne(fl, -1);
	ck_assert_int_ne(fcntl(fd, F_SETFL, fl | O_NONBLOCK), -1);
	c->fd = fd;
	return c;
}

/* A client over socketpair(), attached with these credentials. */
static struct client *
cl_attach(uid_t uid, gid_t gid)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	ck_assert_int_eq(ctl_attach(ctl, sv[0], uid, gid), 0);
	return cl_wrap(sv[1]);
}

static struct client *
cl_root(void)
{
	return cl_attach(0, 0);
}

static void
cl_free(struct client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	free(c);
}

/* Read what is there without blocking; returns the bytes read. */
static size_t
cl_fill(struct client *c)
{
	size_t total = 0;
	ssize_t n;

	for (;;) {
		if (c->cap - c->len < 65536) {
			c->cap = c->cap * 2 + 65536;
			c->buf = xrealloc(c->buf, c->cap);
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (n > 0) {
			c->len += (size_t)n;
			total += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			c->eof = 1;
		break;
	}
	return total;
}

/* Take one line (without '\n') out of the buffer, or NULL. */
static char *
cl_take_line(struct client *c)
{
	char *nl, *line;
	size_t n;

	if (c->len == 0 || (nl = memchr(c->buf, '\n', c->len)) == NULL)
		return NULL;
	n = (size_t)(nl - c->buf);
	line = xstrndup(c->buf, n);
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	return line;
}

/* The next line from the server; NULL at EOF.  Fails at the deadline. */
static char *
cl_line(struct client *c)
{
	double dl = mono() + DEADLINE;
	char *line;

	for (;;) {
		if ((line = cl_take_line(c)) != NULL)
			return line;
		cl_fill(c);
		if ((line = cl_take_line(c)) != NULL)
			return line;
		if (c->eof)
			return NULL;
		ck_assert_msg(mono() < dl, "timed out waiting for a reply");
		pump();
	}
}

/* Whether a complete line is waiting, after a read without blocking. */
static int
cl_has_line(struct client *c)
{
	cl_fill(c);
	return c->len > 0 && memchr(c->buf, '\n', c->len) != NULL;
}

/* Write everything, running the loop while the socket is full. */
static void
cl_send(struct client *c, const char *data, size_t len)
{
	double dl = mono() + DEADLINE;
	ssize_t n;

	while (len > 0) {
		n = write(c->fd, data, len);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		ck_assert_msg(n == -1 && errno == EAGAIN, "write: %s",
		    strerror(errno));
		ck_assert_msg(mono() < dl, "timed out writing");
		pump();
	}
}

static void
cl_send_str(struct client *c, const char *s)
{
	cl_send(c, s, strlen(s));
}

static json_t *
cl_reply(struct client *c)
{
	json_error_t err;
	char *line = cl_line(c);
	json_t *j;

	ck_assert_msg(line != NULL, "connection closed before a reply");
	j = json_loads(line, 0, &err);
	ck_assert_msg(j != NULL, "reply is not JSON: %s: %.200s", err.text,
	    line);
	ck_assert_msg(json_is_object(j), "reply is not an object: %.200s",
	    line);
	free(line);
	return j;
}

/* Send a request line ('\n' added) and read its reply. */
static json_t *
rpc(struct client *c, const char *req)
{
	cl_send_str(c, req);
	cl_send_str(c, "\n");
	return cl_reply(c);
}

static void
assert_ok(json_t *r)
{
	json_t *e = json_object_get(r, "error");

	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "not ok: %s",
	    e != NULL ? json_string_value(json_object_get(e, "message")) :
	    "(no error)");
}

static void
assert_error(json_t *r, const char *code)
{
	json_t *e = json_object_get(r, "error");

	ck_assert(json_is_false(json_object_get(r, "ok")));
	ck_assert_msg(json_is_object(e), "no error object");
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")), code);
	ck_assert_msg(json_is_string(json_object_get(e, "message")) &&
	    *json_string_value(json_object_get(e, "message")) != '\0',
	    "no message");
}

static const char *
err_message(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"),
	    "message"));
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "%s: not a string", key);
	return json_string_value(v);
}

static void
assert_ping_ok(struct client *c)
{
	json_t *r = rpc(c, "{\"op\":\"ping\",\"id\":\"after\"}");

	assert_ok(r);
	ck_assert_str_eq(jstr(r, "id"), "after");
	json_decref(r);
}

/* The occurrence in an array with this summary. */
static json_t *
find_summary(json_t *a, const char *summary)
{
	json_t *o;
	size_t i;

	json_array_foreach(a, i, o)
		if (strcmp(jstr(o, "summary"), summary) == 0)
			return o;
	ck_abort_msg("no occurrence \"%s\"", summary);
	return NULL;
}

/* core */

START_TEST(test_ping)
{
	struct client *c = cl_root();
	json_t *r;

	r = rpc(c, "{\"op\":\"ping\",\"id\":7}");
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "version")),
	    PROTO_VERSION);
	ck_assert_str_eq(jstr(r, "daemon"), DJCAL_VERSION);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 7);
	json_decref(r);

	/* Any JSON value is an id; none means none in the reply. */
	r = rpc(c, "{\"id\":{\"a\":[1,\"二\"]},\"op\":\"ping\"}");
	assert_ok(r);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(
	    json_object_get(r, "id"), "a"), 1)), "二");
	json_decref(r);
	r = rpc(c, "{\"op\":\"ping\"}");
	ck_assert_ptr_null(json_object_get(r, "id"));
	json_decref(r);
	ck_assert_uint_eq(ctl_clients(ctl), 1);
	cl_free(c);
	PUMP_UNTIL(ctl_clients(ctl) == 0);
}
END_TEST

START_TEST(test_upcoming_occurrence)
{
	struct client *c = cl_root();
	json_t *r, *a, *o;

	r = rpc(c, "{\"op\":\"upcoming\",\"id\":1,\"from\":\"2026-12-01\","
	    "\"to\":\"2027-01-01\"}");
	assert_ok(r);
	a = json_object_get(r, "occurrences");
	ck_assert(json_is_array(a));

	o = find_summary(a, "12月支委会");
	ck_assert_str_eq(jstr(o, "uid"), "zhibu-20261208@example.org");
	ck_assert_str_eq(jstr(o, "feed"), "study");
	ck_assert_str_eq(jstr(o, "branch"), "机关党支部");
	ck_assert_str_eq(jstr(o, "kind"), "event");
	ck_assert_str_eq(jstr(o, "category"), "study");
	ck_assert_str_eq(jstr(o, "meeting_type"), "branch-committee");
	ck_assert_str_eq(jstr(o, "location"), "三楼会议室");
	ck_assert(json_is_null(json_object_get(o, "description")));
	ck_assert_str_eq(jstr(o, "start"), "2026-12-08T15:00:00+08:00");
	ck_assert_str_eq(jstr(o, "end"), "2026-12-08T16:30:00+08:00");
	ck_assert(json_is_false(json_object_get(o, "all_day")));
	ck_assert(json_is_null(json_object_get(o, "recurrence_id")));
	ck_assert_str_eq(jstr(o, "status"), "CONFIRMED");

	o = find_summary(a, "主题党日");
	ck_assert_str_eq(jstr(o, "category"), "party-day");
	ck_assert_str_eq(jstr(o, "start"), "2026-12-05T14:30:00+08:00");
	ck_assert_str_eq(jstr(o, "recurrence_id"),
	    "2026-12-05T14:30:00+08:00");

	o = find_summary(a, "社区志愿服务");
	ck_assert_str_eq(jstr(o, "category"), "volunteer");
	ck_assert_str_eq(jstr(o, "start"), "2026-12-12");
	ck_assert_str_eq(jstr(o, "end"), "2026-12-13");
	ck_assert(json_is_true(json_object_get(o, "all_day")));
	json_decref(r);

	/* Far outside the materialised window: expanded on the fly. */
	r = rpc(c, "{\"op\":\"upcoming\",\"from\":\"2031-03-01T00:00:00Z\","
	    "\"to\":\"2031-04-01T00:00:00Z\"}");
	assert_ok(r);
	a = json_object_get(r, "occurrences");
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_str_eq(jstr(json_array_get(a, 0), "start"),
	    "2031-03-05T14:30:00+08:00");
	json_decref(r);
	cl_free(c);
}
END_TEST

/* Each filter against the same query made directly on the store. */
static const struct {
	const char	*fields;	/* added to {"op":"upcoming", ... } */
	const char	*from, *to;	/* the window they mean */
	unsigned	 categories;
	const char	*feed, *branch, *search;
	size_t		 limit;
	size_t		 expect;	/* occurrences, as a sanity check */
} upcoming_rows[] = {
	{ "\"from\":\"2026-12-01\",\"to\":\"2027-01-01\"",
	    "2026-12-01", "2027-01-01", 0, NULL, NULL, NULL, 0, 4 },
	/* Defaults: from now, seven days. */
	{ "", "2026-12-01T00:00:00+08:00", "2026-12-08T00:00:00+08:00",
	    0, NULL, NULL, NULL, 0, 1 },
	{ "\"from\":\"2026-12-08\"", "2026-12-08", "2026-12-15",
	    0, NULL, NULL, NULL, 0, 2 },
	{ "\"from\":\"2026-12-01 09:00\",\"to\":\"2026-12-08T15:00\"",
	    "2026-12-01T09:00:00+08:00", "2026-12-08T15:00:00+08:00",
	    0, NULL, NULL, NULL, 0, 1 },
	{ "\"from\":\"2026-12-01\",\"to\":\"2027-01-01\","
	  "\"category\":[\"party-day\",\"volunteer\"]",
	    "2026-12-01", "2027-01-01",
	    1u << DJ_CAT_PARTY_DAY | 1u << DJ_CAT_VOLUNTEER, NULL, NULL, NULL,
	    0, 2 },
	{ "\"from\":\"2026-12-01\",\"to\":\"2027-01-01\",\"feed\":\"tasks\"",
	    "2026-12-01", "2027-01-01", 0, "tasks", NULL, NULL, 0, 1 },
	{ "\"from\":\"2026-12-01\",\"to\":\"2027-01-01\","
	  "\"branch\":\"机关党支部\"",
	    "2026-12-01", "2027-01-01", 0, NULL, "机关党支部", NULL, 0, 3 },
	{ "\"from\":\"2026-12-01\",\"to\":\"2027-01-01\","
	  "\"search\":\"会议室\"",
	    "2026-12-01", "2027-01-01", 0, NULL, NULL, "会议室", 0, 1 },
	{ "\"from\":\"2026-12-01\",\"to\":\"2027-01-01\",\"limit\":2",
	    "2026-12-01", "2027-01-01", 0, NULL, NULL, NULL, 2, 2 },
	{ "\"from\":\"2026-12-01\",\"to\":\"2027-01-01\",\"category\":null,"
	  "\"feed\":null,\"unknown\":[1,2]",
	    "2026-12-01", "2027-01-01", 0, NULL, NULL, NULL, 0, 4 },
	{ "\"from\":\"2026-11-30T16:00:00Z\","
	  "\"to\":\"2027-01-01T00:00:00+08:00\","
	  "\"category\":[]",
	    "2026-12-01", "2027-01-01", 0, NULL, NULL, NULL, 0, 4 },
};

START_TEST(test_upcoming_filters)
{
	const struct tz *z = query_zone(store);
	struct client *c = cl_root();
	struct store_filter f;
	struct dj_occ_list l;
	char *req, *cause = NULL;
	json_t *r, *a;
	size_t i;

	memset(&f, 0, sizeof f);
	ck_assert_int_eq(proto_parse_time(upcoming_rows[_i].from, z, &f.from,
	    NULL), 0);
	ck_assert_int_eq(proto_parse_time(upcoming_rows[_i].to, z, &f.to,
	    NULL), 0);
	f.categories = upcoming_rows[_i].categories;
	f.feed = upcoming_rows[_i].feed;
	f.branch = upcoming_rows[_i].branch;
	f.search = upcoming_rows[_i].search;
	f.limit = upcoming_rows[_i].limit;
	memset(&l, 0, sizeof l);
	ck_assert_msg(query_upcoming(store, &f, &l, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(l.n, upcoming_rows[_i].expect);

	xasprintf(&req, "{\"op\":\"upcoming\"%s%s}",
	    *upcoming_rows[_i].fields != '\0' ? "," : "",
	    upcoming_rows[_i].fields);
	r = rpc(c, req);
	assert_ok(r);
	a = json_object_get(r, "occurrences");
	ck_assert_uint_eq(json_array_size(a), l.n);
	for (i = 0; i < l.n; i++) {
		json_t *want = proto_occurrence_json(&l.v[i], z);

		ck_assert_msg(json_equal(want, json_array_get(a, i)),
		    "row %d: occurrence %zu differs", _i, i);
		json_decref(want);
	}
	json_decref(r);
	occ_list_free(&l);
	free(req);
	cl_free(c);
}
END_TEST

static const struct {
	const char	*req;
	size_t		 n;
	const char	*first;		/* summary of the first, or NULL */
} tasks_rows[] = {
	{ "{\"op\":\"tasks\"}", 2, "整理支部台账" },
	{ "{\"op\":\"tasks\",\"status\":\"open\"}", 2, "整理支部台账" },
	{ "{\"op\":\"tasks\",\"status\":\"overdue\"}", 1, "整理支部台账" },
	{ "{\"op\":\"tasks\",\"status\":\"done\"}", 1, "更新党员信息" },
	{ "{\"op\":\"tasks\",\"status\":\"all\"}", 3, NULL },
	{ "{\"op\":\"tasks\",\"status\":null}", 2, NULL },
};

START_TEST(test_tasks)
{
	struct client *c = cl_root();
	json_t *r, *a, *o;
	size_t i;

	r = rpc(c, tasks_rows[_i].req);
	assert_ok(r);
	a = json_object_get(r, "tasks");
	ck_assert_uint_eq(json_array_size(a), tasks_rows[_i].n);
	json_array_foreach(a, i, o) {
		ck_assert_str_eq(jstr(o, "kind"), "task");
		ck_assert_str_eq(jstr(o, "feed"), "tasks");
		ck_assert_ptr_nonnull(json_object_get(o, "due"));
	}
	if (tasks_rows[_i].first != NULL)
		ck_assert_str_eq(jstr(json_array_get(a, 0), "summary"),
		    tasks_rows[_i].first);
	json_decref(r);
	cl_free(c);
}
END_TEST

START_TEST(test_tasks_fields)
{
	struct client *c = cl_root();
	json_t *r, *a;

	r = rpc(c, "{\"op\":\"tasks\",\"status\":\"done\"}");
	assert_ok(r);
	a = json_object_get(r, "tasks");
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_str_eq(jstr(json_array_get(a, 0), "due"),
	    "2026-11-10T18:00:00+08:00");
	ck_assert_str_eq(jstr(json_array_get(a, 0), "completed"),
	    "2026-11-09T18:00:00+08:00");
	json_decref(r);
	cl_free(c);
}
END_TEST

START_TEST(test_feeds)
{
	struct client *c = cl_root();
	json_t *r, *a, *f;
	const char *names[] = { "remote", "study", "tasks" };
	size_t i;

	r = rpc(c, "{\"op\":\"feeds\",\"id\":\"f\"}");
	assert_ok(r);
	ck_assert_str_eq(jstr(r, "id"), "f");
	a = json_object_get(r, "feeds");
	ck_assert_uint_eq(json_array_size(a), 3);
	for (i = 0; i < 3; i++)
		ck_assert_str_eq(jstr(json_array_get(a, i), "name"),
		    names[i]);

	f = json_array_get(a, 0);		/* remote: never fetched */
	ck_assert_str_eq(jstr(f, "url"), "https://example.org/remote.ics");
	ck_assert_str_eq(jstr(f, "category"), "volunteer");
	ck_assert(json_is_null(json_object_get(f, "branch")));
	ck_assert_str_eq(jstr(f, "kind"), "events");
	ck_assert_int_eq(json_integer_value(json_object_get(f, "refresh")),
	    900);
	ck_assert(json_is_null(json_object_get(f, "last_fetch")));
	ck_assert(json_is_null(json_object_get(f, "last_success")));
	ck_assert(json_is_null(json_object_get(f, "http_status")));
	ck_assert_str_eq(jstr(f, "next_fetch"), "2026-12-01T00:15:00+08:00");

	f = json_array_get(a, 1);		/* study: read once */
	ck_assert_msg(strstr(jstr(f, "url"), "study.ics") != NULL, "url");
	ck_assert_str_eq(jstr(f, "branch"), "机关党支部");
	ck_assert_str_eq(jstr(f, "last_fetch"), "2026-12-01T00:00:00+08:00");
	ck_assert_str_eq(jstr(f, "last_success"),
	    "2026-12-01T00:00:00+08:00");
	ck_assert(json_is_null(json_object_get(f, "last_error")));
	ck_assert_int_eq(json_integer_value(json_object_get(f, "failures")),
	    0);
	ck_assert_int_eq(json_integer_value(json_object_get(f, "items")), 3);
	ck_assert(json_is_null(json_object_get(f, "next_fetch")));
	ck_assert_ptr_nonnull(json_object_get(f, "problems"));
	json_decref(r);

	/* Without next_fetch in the environment, every one is null. */
	ctl_free(ctl);
	env.next_fetch = NULL;
	ctl = ctl_new(base, -1, cfg, &env, NULL);
	cl_free(c);
	c = cl_root();
	r = rpc(c, "{\"op\":\"feeds\"}");
	assert_ok(r);
	ck_assert(json_is_null(json_object_get(json_array_get(
	    json_object_get(r, "feeds"), 0), "next_fetch")));
	json_decref(r);
	cl_free(c);
}
END_TEST

START_TEST(test_refresh)
{
	struct client *c = cl_root();
	json_t *r, *res;

	cl_send_str(c, "{\"op\":\"refresh\",\"id\":3,\"feed\":\"study\"}\n");
	PUMP_UNTIL(fk.refresh_calls == 1);
	ck_assert_str_eq(fk.refresh_feed, "study");
	/* The reply waits for the fetch. */
	pump();
	ck_assert(!cl_has_line(c));
	fake_done(1);
	r = cl_reply(c);
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 3);
	res = json_array_get(json_object_get(r, "results"), 0);
	ck_assert_str_eq(jstr(res, "feed"), "study");
	ck_assert(json_is_true(json_object_get(res, "ok")));
	ck_assert(json_is_false(json_object_get(res, "unchanged")));
	ck_assert(json_is_null(json_object_get(res, "http_status")));
	ck_assert_int_eq(json_integer_value(json_object_get(res, "items")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(res, "changed")),
	    1);
	ck_assert_int_eq(json_integer_value(json_object_get(res, "removed")),
	    0);
	ck_assert(json_is_null(json_object_get(res, "error")));
	json_decref(r);

	/* All feeds; a failed fetch. */
	cl_send_str(c, "{\"op\":\"refresh\"}\n");
	PUMP_UNTIL(fk.refresh_calls == 2);
	ck_assert_ptr_null(fk.refresh_feed);
	fake_done(0);
	r = cl_reply(c);
	assert_ok(r);
	res = json_array_get(json_object_get(r, "results"), 0);
	ck_assert(json_is_false(json_object_get(res, "ok")));
	ck_assert_str_eq(jstr(res, "error"),
	    "study.ics: No such file or directory");
	json_decref(r);

	r = rpc(c, "{\"op\":\"refresh\",\"id\":4,\"feed\":\"nosuch\"}");
	assert_error(r, "not_found");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 4);
	json_decref(r);
	fk.refresh_rc = -1;
	r = rpc(c, "{\"op\":\"refresh\"}");
	assert_error(r, "internal");
	ck_assert_str_eq(err_message(r), "the fetcher is stopping");
	json_decref(r);
	r = rpc(c, "{\"op\":\"refresh\",\"feed\":[\"study\"]}");
	assert_error(r, "bad_request");
	json_decref(r);
	assert_ping_ok(c);
	cl_free(c);
}
END_TEST

/* Requests after a refresh wait for its reply: replies come in order. */
START_TEST(test_refresh_keeps_order)
{
	struct client *c = cl_root();
	json_t *r;

	cl_send_str(c, "{\"op\":\"ping\",\"id\":1}\n"
	    "{\"op\":\"refresh\",\"id\":2}\n{\"op\":\"ping\",\"id\":3}\n");
	r = cl_reply(c);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	PUMP_UNTIL(fk.refresh_calls == 1);
	pump();
	pump();
	ck_assert(!cl_has_line(c));
	fake_done(1);
	r = cl_reply(c);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 2);
	ck_assert_ptr_nonnull(json_object_get(r, "results"));
	json_decref(r);
	r = cl_reply(c);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 3);
	json_decref(r);
	cl_free(c);
}
END_TEST

START_TEST(test_refresh_unavailable)
{
	struct client *c;
	json_t *r;

	ctl_free(ctl);
	env.refresh = NULL;
	env.export_ics = NULL;
	ctl = ctl_new(base, -1, cfg, &env, NULL);
	c = cl_root();
	r = rpc(c, "{\"op\":\"refresh\"}");
	assert_error(r, "internal");
	json_decref(r);
	r = rpc(c, "{\"op\":\"export\"}");
	assert_error(r, "internal");
	ck_assert_str_eq(err_message(r), "export is not available");
	json_decref(r);
	assert_ping_ok(c);
	cl_free(c);
}
END_TEST

START_TEST(test_export)
{
	struct client *c = cl_root();
	json_t *r;

	r = rpc(c, "{\"op\":\"export\",\"id\":9,\"category\":[\"study\"],"
	    "\"branch\":\"机关党支部\",\"from\":\"not looked at\"}");
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 9);
	ck_assert_str_eq(jstr(r, "ics"),
	    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n");
	ck_assert_int_eq(fk.export_calls, 1);
	ck_assert_uint_eq(fk.export_categories, 1u << DJ_CAT_STUDY);
	ck_assert_str_eq(fk.export_branch, "机关党支部");
	json_decref(r);
	r = rpc(c, "{\"op\":\"export\",\"category\":[\"studying\"]}");
	assert_error(r, "bad_request");
	ck_assert_int_eq(fk.export_calls, 1);
	json_decref(r);
	cl_free(c);
}
END_TEST

/* A client that shuts down its side still gets every reply, including
 * one for a last line without '\n'. */
START_TEST(test_half_close)
{
	struct client *c = cl_root();
	json_t *r;
	char *line;

	cl_send_str(c, "{\"op\":\"ping\",\"id\":1}\n"
	    "{\"op\":\"tasks\",\"id\":2}");
	ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	r = cl_reply(c);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	r = cl_reply(c);
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 2);
	json_decref(r);
	line = cl_line(c);
	ck_assert_ptr_null(line);
	PUMP_UNTIL(ctl_clients(ctl) == 0);
	cl_free(c);
}
END_TEST

/* A half-closed client waiting for a refresh gets its reply. */
START_TEST(test_half_close_refresh)
{
	struct client *c = cl_root();
	json_t *r;

	cl_send_str(c, "{\"op\":\"refresh\",\"id\":1}\n");
	ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	PUMP_UNTIL(fk.refresh_calls == 1);
	pump();
	ck_assert_uint_eq(ctl_clients(ctl), 1);
	fake_done(1);
	r = cl_reply(c);
	assert_ok(r);
	json_decref(r);
	ck_assert_ptr_null(cl_line(c));
	PUMP_UNTIL(ctl_clients(ctl) == 0);
	cl_free(c);
}
END_TEST

/* errors */

static const struct {
	const char	*line;
	const char	*code;
	int		 id;	/* the reply echoes "id":5 */
	const char	*message;	/* a substring of the message */
} bad_rows[] = {
	{ "hello", "bad_request", 0, "not JSON" },
	{ "{\"op\":\"ping\"", "bad_request", 0, "not JSON" },
	{ "", "bad_request", 0, "not JSON" },
	{ "   \t", "bad_request", 0, "not JSON" },
	{ "{\"op\":\"\xff\xfe\"}", "bad_request", 0, "not JSON" },
	{ "42", "bad_request", 0, "not JSON" },
	{ "[{\"op\":\"ping\"}]", "bad_request", 0, "not a JSON object" },
	{ "{}", "bad_request", 0, "missing op" },
	{ "{\"id\":5}", "bad_request", 5, "missing op" },
	{ "{\"id\":5,\"op\":7}", "bad_request", 5, "op: expected a string" },
	{ "{\"id\":5,\"op\":null}", "bad_request", 5, "op: expected" },
	{ "{\"id\":5,\"op\":\"frobnicate\"}", "bad_request", 5,
	    "unknown op: \"frobnicate\"" },
	{ "{\"id\":5,\"op\":\"PING\"}", "bad_request", 5, "unknown op" },
	{ "{\"id\":5,\"op\":\"frobnicate\"}", "bad_request", 5, "unknown op" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"from\":\"tomorow\"}",
	    "bad_request", 5, "from: not a time: \"tomorow\"" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"to\":\"2026-13-01\"}",
	    "bad_request", 5, "to: not a time" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"from\":20261201}",
	    "bad_request", 5, "from: expected a time" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"from\":\"2026-12-02\","
	  "\"to\":\"2026-12-01\"}", "bad_request", 5, "to: not after from" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"from\":\"2026-12-02\","
	  "\"to\":\"2026-12-02\"}", "bad_request", 5, "to: not after from" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"category\":\"study\"}",
	    "bad_request", 5, "category: expected an array" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"category\":[\"study\",3]}",
	    "bad_request", 5, "category: expected an array" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"category\":[\"meeting\"]}",
	    "bad_request", 5, "unknown category \"meeting\"" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"feed\":3}",
	    "bad_request", 5, "feed: expected a string" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"branch\":true}",
	    "bad_request", 5, "branch: expected a string" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"search\":{}}",
	    "bad_request", 5, "search: expected a string" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"limit\":-1}",
	    "bad_request", 5, "limit: expected an integer" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"limit\":\"5\"}",
	    "bad_request", 5, "limit: expected an integer" },
	{ "{\"id\":5,\"op\":\"upcoming\",\"limit\":2.5}",
	    "bad_request", 5, "limit: expected an integer" },
	{ "{\"id\":5,\"op\":\"tasks\",\"status\":\"later\"}",
	    "bad_request", 5, "status: unknown status \"later\"" },
	{ "{\"id\":5,\"op\":\"tasks\",\"status\":1}",
	    "bad_request", 5, "status: expected a string" },
	{ "{\"id\":5,\"op\":\"refresh\",\"feed\":1}",
	    "bad_request", 5, "feed: expected a string" },
	{ "{\"id\":5,\"op\":\"export\",\"category\":[1]}",
	    "bad_request", 5, "category" },
	{ "{\"id\":5,\"op\":\"export\",\"feed\":{}}",
	    "bad_request", 5, "feed: expected a string" },
	{ "{\"id\":5,\"op\":\"checkin\",\"start\":\"2026-12-08\","
	  "\"member\":\"张三\"}", "bad_request", 5, "uid: missing" },
	{ "{\"id\":5,\"op\":\"checkin\",\"uid\":\"\","
	  "\"start\":\"2026-12-08\",\"member\":\"张三\"}",
	    "bad_request", 5, "uid: empty" },
	{ "{\"id\":5,\"op\":\"checkin\",\"uid\":7,"
	  "\"start\":\"2026-12-08\",\"member\":\"张三\"}",
	    "bad_request", 5, "uid: expected a string" },
	{ "{\"id\":5,\"op\":\"checkin\",\"uid\":\"u\","
	  "\"member\":\"张三\"}", "bad_request", 5, "start: missing" },
	{ "{\"id\":5,\"op\":\"checkin\",\"uid\":\"u\","
	  "\"start\":\"tomorow\",\"member\":\"张三\"}",
	    "bad_request", 5, "start: not a time: \"tomorow\"" },
	{ "{\"id\":5,\"op\":\"checkin\",\"uid\":\"u\","
	  "\"start\":\"2026-12-08\"}", "bad_request", 5,
	    "member: missing" },
	{ "{\"id\":5,\"op\":\"checkin\",\"uid\":\"u\","
	  "\"start\":\"2026-12-08\",\"member\":\"\"}", "bad_request", 5,
	    "member: empty" },
	{ "{\"id\":5,\"op\":\"checkin\",\"uid\":\"u\","
	  "\"start\":\"2026-12-08\",\"member\":[\"张三\"]}",
	    "bad_request", 5, "member: expected a string" },
	{ "{\"id\":5,\"op\":\"checkin\",\"uid\":\"u\","
	  "\"start\":\"2026-12-08\",\"member\":\"张\\u001b[31m\"}",
	    "bad_request", 5, "member: control characters" },
	{ "{\"id\":5,\"op\":\"checkin\",\"uid\":\"u\","
	  "\"start\":\"2026-12-08\",\"member\":\"张三\",\"leave\":1}",
	    "bad_request", 5, "leave: expected a string" },
	{ "{\"id\":5,\"op\":\"checkin\",\"uid\":\"u\","
	  "\"start\":\"2026-12-08\",\"member\":\"张三\",\"feed\":2}",
	    "bad_request", 5, "feed: expected a string" },
	{ "{\"id\":5,\"op\":\"attendance\",\"uid\":\"u\"}",
	    "bad_request", 5, "start: missing" },
	{ "{\"id\":5,\"op\":\"attendance\",\"start\":\"2026-12-08\"}",
	    "bad_request", 5, "uid: missing" },
	{ "{\"id\":5,\"op\":\"hours\",\"year\":\"2026\"}",
	    "bad_request", 5, "year: expected a year from 1900 to 9999" },
	{ "{\"id\":5,\"op\":\"hours\",\"member\":5}",
	    "bad_request", 5, "member: expected a string" },
	{ "{\"id\":5,\"op\":\"stats\",\"year\":1899}",
	    "bad_request", 5, "year: expected a year" },
	{ "{\"id\":5,\"op\":\"stats\",\"year\":10000}",
	    "bad_request", 5, "year: expected a year" },
	{ "{\"id\":5,\"op\":\"stats\",\"year\":2026.5}",
	    "bad_request", 5, "year: expected a year" },
	{ "{\"id\":5,\"op\":\"stats\",\"branch\":[]}",
	    "bad_request", 5, "branch: expected a string" },
	{ "{\"id\":5,\"op\":\"compliance\",\"year\":-1}",
	    "bad_request", 5, "year: expected a year" },
	{ "{\"id\":5,\"op\":\"compliance\",\"branch\":1}",
	    "bad_request", 5, "branch: expected a string" },
};

START_TEST(test_bad_request)
{
	struct client *c = cl_root();
	json_t *r;

	r = rpc(c, bad_rows[_i].line);
	assert_error(r, bad_rows[_i].code);
	ck_assert_msg(strstr(err_message(r), bad_rows[_i].message) != NULL,
	    "message \"%s\" lacks \"%s\"", err_message(r),
	    bad_rows[_i].message);
	if (bad_rows[_i].id)
		ck_assert_int_eq(json_integer_value(json_object_get(r, "id")),
		    5);
	else
		ck_assert_ptr_null(json_object_get(r, "id"));
	json_decref(r);
	/* The connection stays usable. */
	assert_ping_ok(c);
	ck_assert_uint_eq(ctl_clients(ctl), 1);
	cl_free(c);
}
END_TEST

/* A huge bad value is not echoed back whole. */
START_TEST(test_bad_value_quoted_short)
{
	struct client *c = cl_root();
	size_t n = 100000;
	char *req = xmalloc(n + 64), *p;
	json_t *r;

	p = req + sprintf(req, "{\"op\":\"upcoming\",\"from\":\"");
	memset(p, 'x', n);
	strcpy(p + n, "\"}");
	r = rpc(c, req);
	assert_error(r, "bad_request");
	ck_assert_uint_lt(strlen(err_message(r)), 200);
	json_decref(r);
	/* Cut on a character boundary, never inside one. */
	p = req + sprintf(req, "{\"op\":\"tasks\",\"status\":\"");
	for (size_t i = 0; i < 100; i++)
		p += sprintf(p, "党");
	strcpy(p, "\"}");
	r = rpc(c, req);
	assert_error(r, "bad_request");
	ck_assert_ptr_nonnull(strstr(err_message(r), "党党..."));
	json_decref(r);
	free(req);
	cl_free(c);
}
END_TEST

/* Many requests in one write, each answered in order. */
START_TEST(test_pipelined)
{
	struct client *c = cl_root();
	char *buf = NULL, *p;
	json_t *r;
	int i, n = 500;

	buf = xmalloc((size_t)n * 64);
	p = buf;
	for (i = 0; i < n; i++)
		p += sprintf(p, i % 2 ? "{\"op\":\"ping\",\"id\":%d}\n" :
		    "[%d]\n", i);
	cl_send(c, buf, (size_t)(p - buf));
	for (i = 0; i < n; i++) {
		r = cl_reply(c);
		if (i % 2) {
			assert_ok(r);
			ck_assert_int_eq(json_integer_value(json_object_get(r,
			    "id")), i);
		} else
			assert_error(r, "bad_request");
		json_decref(r);
	}
	free(buf);
	cl_free(c);
}
END_TEST

/* Authorisation of write ops: who asks, and which admin_group. */
enum { ADMIN_GROUP_MINE, ADMIN_GROUP_EMPTY, ADMIN_GROUP_MISSING };

static const struct {
	const char	*what;
	int		 root;		/* uid 0, gid 0 */
	int		 my_gid;	/* else NOBODY with getgid() */
	int		 group;
	int		 allowed;
} auth_rows[] = {
	{ "root", 1, 0, ADMIN_GROUP_MINE, 1 },
	{ "root, root only", 1, 0, ADMIN_GROUP_EMPTY, 1 },
	{ "root, missing group", 1, 0, ADMIN_GROUP_MISSING, 1 },
	{ "primary group", 0, 1, ADMIN_GROUP_MINE, 1 },
	{ "other user", 0, 0, ADMIN_GROUP_MINE, 0 },
	{ "primary group, root only", 0, 1, ADMIN_GROUP_EMPTY, 0 },
	{ "other user, missing group", 0, 0, ADMIN_GROUP_MISSING, 0 },
};

START_TEST(test_authorisation)
{
	uid_t uid = auth_rows[_i].root ? 0 : NOBODY;
	gid_t gid = auth_rows[_i].root ? 0 : auth_rows[_i].my_gid ?
	    getgid() : NOBODY;
	struct client *c;
	json_t *r;

	if (!auth_rows[_i].root && !auth_rows[_i].my_gid && getgid() == NOBODY)
		gid = NOBODY - 1;
	free(cfg->admin_group);
	cfg->admin_group = xstrdup(auth_rows[_i].group == ADMIN_GROUP_MINE ?
	    admin_group : auth_rows[_i].group == ADMIN_GROUP_EMPTY ? "" :
	    "djcal-no-such-group");
	c = cl_attach(uid, gid);
	cl_send_str(c, "{\"op\":\"refresh\",\"id\":1}\n");
	if (auth_rows[_i].allowed) {
		PUMP_UNTIL(fk.refresh_calls == 1);
		fake_done(1);
		r = cl_reply(c);
		assert_ok(r);
	} else {
		r = cl_reply(c);
		assert_error(r, "forbidden");
		ck_assert_int_eq(fk.refresh_calls, 0);
		ck_assert_int_eq(json_integer_value(json_object_get(r, "id")),
		    1);
	}
	json_decref(r);
	/* Reads are open to everyone. */
	r = rpc(c, "{\"op\":\"feeds\"}");
	assert_ok(r);
	json_decref(r);
	cl_free(c);
}
END_TEST

/* A user whose supplementary group (in the group database) is admin_group;
 * found among the system's groups, or the test is skipped. */
START_TEST(test_authorisation_supplementary)
{
	struct group *gr;
	struct passwd *pw;
	uid_t uid = 0;
	gid_t pgid = 0;
	char *group = NULL;
	struct client *c;
	json_t *r;
	size_t i;

	setgrent();
	while (group == NULL && (gr = getgrent()) != NULL)
		for (i = 0; gr->gr_mem[i] != NULL; i++) {
			pw = getpwnam(gr->gr_mem[i]);
			if (pw != NULL && pw->pw_uid != 0 &&
			    pw->pw_gid != gr->gr_gid) {
				group = xstrdup(gr->gr_name);
				uid = pw->pw_uid;
				pgid = pw->pw_gid;
				break;
			}
		}
	endgrent();
	if (group == NULL) {
		printf("test_authorisation_supplementary: skipped: no user "
		    "has a supplementary group in the group database\n");
		return;
	}
	free(cfg->admin_group);
	cfg->admin_group = group;
	c = cl_attach(uid, pgid);
	cl_send_str(c, "{\"op\":\"refresh\"}\n");
	PUMP_UNTIL(fk.refresh_calls == 1);
	fake_done(1);
	r = cl_reply(c);
	assert_ok(r);
	json_decref(r);
	cl_free(c);
}
END_TEST

/* ctl_set_config: a new admin_group applies to open connections, and the
 * old config is not used after the swap. */
START_TEST(test_set_config)
{
	struct config *cfg2;
	struct client *c;
	char *path, *cause = NULL;
	json_t *r;

	free(cfg->admin_group);
	cfg->admin_group = xstrdup("");
	c = cl_attach(NOBODY, getgid());
	r = rpc(c, "{\"op\":\"refresh\"}");
	assert_error(r, "forbidden");
	ck_assert_str_eq(err_message(r), "refresh: only root may do this");
	json_decref(r);
	path = tu_write_str(tmpdir, "djcald2.conf", config_text);
	ck_assert_msg(config_load(path, &cfg2, &cause) == 0, "%s", cause);
	free(path);
	free(cfg2->admin_group);
	cfg2->admin_group = xstrdup(admin_group);
	ctl_set_config(ctl, cfg2);
	config_free(cfg);
	cfg = cfg2;
	ck_assert_uint_eq(ctl_clients(ctl), 1);
	cl_send_str(c, "{\"op\":\"refresh\"}\n");
	PUMP_UNTIL(fk.refresh_calls == 1);
	fake_done(1);
	r = cl_reply(c);
	assert_ok(r);
	json_decref(r);
	cl_free(c);
}
END_TEST

/* The done callback after the client has gone touches nothing freed (run
 * under the SANITIZE=1 build and valgrind). */
START_TEST(test_refresh_client_gone)
{
	struct client *c = cl_root(), *d;

	cl_send_str(c, "{\"op\":\"refresh\",\"id\":1}\n{\"op\":\"ping\"}\n");
	PUMP_UNTIL(fk.refresh_calls == 1);
	cl_free(c);
	PUMP_UNTIL(ctl_clients(ctl) == 0);
	fake_done(1);
	pump();
	d = cl_root();
	assert_ping_ok(d);
	cl_free(d);
}
END_TEST

/* ... and after ctl_free. */
START_TEST(test_refresh_done_after_free)
{
	struct client *c = cl_root();

	cl_send_str(c, "{\"op\":\"refresh\"}\n");
	PUMP_UNTIL(fk.refresh_calls == 1);
	ctl_free(ctl);
	ctl = NULL;
	fake_done(1);
	/* libevent closes a freed bufferevent's fd from the loop. */
	PUMP_UNTIL((cl_fill(c), c->eof));
	cl_free(c);
}
END_TEST

/* done called from inside env->refresh, and a refresh whose client sent
 * more requests meanwhile. */
static int
sync_refresh(void *arg, const char *feed, ctl_refresh_done done,
    void *done_arg, char **cause)
{
	struct ctl_refresh_result r;

	(void)feed;
	(void)cause;
	((struct fake *)arg)->refresh_calls++;
	memset(&r, 0, sizeof r);
	r.feed = "study";
	r.ok = 1;
	r.unchanged = 1;
	done(&r, 1, done_arg);
	return 0;
}

START_TEST(test_refresh_done_synchronously)
{
	struct client *c;
	json_t *r;
	int i;

	ctl_free(ctl);
	env.refresh = sync_refresh;
	ctl = ctl_new(base, -1, cfg, &env, NULL);
	c = cl_root();
	cl_send_str(c, "{\"op\":\"refresh\",\"id\":1}\n{\"op\":\"ping\","
	    "\"id\":2}\n{\"op\":\"refresh\",\"id\":3}\n");
	for (i = 1; i <= 3; i++) {
		r = cl_reply(c);
		assert_ok(r);
		ck_assert_int_eq(json_integer_value(json_object_get(r, "id")),
		    i);
		if (i != 2)
			ck_assert(json_is_true(json_object_get(
			    json_array_get(json_object_get(r, "results"), 0),
			    "unchanged")));
		json_decref(r);
	}
	ck_assert_int_eq(fk.refresh_calls, 2);
	cl_free(c);
}
END_TEST

/* limits */

/* Send len bytes of a line that never ends (or ends after len) and
 * collect what comes back until the server closes. */
static void
send_until_closed(struct client *c, const char *data, size_t len)
{
	double dl = mono() + DEADLINE;
	size_t off = 0;
	ssize_t n;

	while (!c->eof) {
		ck_assert_msg(mono() < dl, "timed out: server did not close");
		if (off < len) {
			n = write(c->fd, data + off, len - off > 65536 ?
			    65536 : len - off);
			if (n > 0)
				off += (size_t)n;
			else if (n == -1 && errno != EAGAIN)
				off = len;	/* EPIPE: it closed */
		}
		pump();
		cl_fill(c);
	}
}

START_TEST(test_too_large)
{
	struct client *c = cl_root(), *other = cl_root();
	size_t len = 2 * 1024 * 1024;
	char *data = xmalloc(len), *line;
	json_t *r;
	json_error_t err;

	memset(data, 'a', len);
	memcpy(data, "{\"op\":\"ping\",\"pad\":\"", 20);
	send_until_closed(c, data, len);
	line = cl_take_line(c);
	ck_assert_msg(line != NULL, "no reply before the close");
	r = json_loads(line, 0, &err);
	ck_assert_ptr_nonnull(r);
	assert_error(r, "too_large");
	json_decref(r);
	free(line);
	ck_assert_uint_eq(c->len, 0);
	PUMP_UNTIL(ctl_clients(ctl) == 1);
	/* Others are unaffected. */
	assert_ping_ok(other);
	free(data);
	cl_free(c);
	cl_free(other);
}
END_TEST

/* A line of exactly DJ_MAX_LINE bytes is fine; one more byte is not. */
static const struct {
	size_t	len;
	int	ok;
} edge_rows[] = {
	{ DJ_MAX_LINE, 1 },
	{ DJ_MAX_LINE + 1, 0 },
	{ DJ_MAX_LINE - 1, 1 },
};

START_TEST(test_line_limit_edge)
{
	struct client *c = cl_root();
	size_t len = edge_rows[_i].len;
	char *data = xmalloc(len + 1);
	const char *head = "{\"op\":\"ping\",\"id\":1,\"pad\":\"";
	json_t *r;

	memset(data, 'a', len);
	memcpy(data, head, strlen(head));
	memcpy(data + len - 2, "\"}", 2);
	data[len] = '\n';
	if (edge_rows[_i].ok) {
		cl_send(c, data, len + 1);
		r = cl_reply(c);
		assert_ok(r);
		json_decref(r);
		assert_ping_ok(c);
	} else {
		send_until_closed(c, data, len + 1);
		r = json_loadb(c->buf, c->len, JSON_DISABLE_EOF_CHECK, NULL);
		ck_assert_ptr_nonnull(r);
		assert_error(r, "too_large");
		json_decref(r);
	}
	free(data);
	cl_free(c);
}
END_TEST

/*
 * A client that asks for large replies and never reads them: the others
 * are answered meanwhile, and past the output cap it is dropped.
 */
START_TEST(test_nonreader_dropped)
{
	struct client *hog = cl_root(), *other = cl_root();
	int i;

	fk.export_size = 1024 * 1024;
	for (i = 0; i < 40 && ctl_clients(ctl) == 2; i++) {
		cl_send_str(hog, "{\"op\":\"export\"}\n");
		PUMP_UNTIL(fk.export_calls == i + 1 || ctl_clients(ctl) < 2);
		assert_ping_ok(other);
	}
	ck_assert_msg(ctl_clients(ctl) == 1, "the client that does not read "
	    "was not dropped after %d replies of 1 MiB", i);
	/* About 8 MiB, plus what the kernel buffers: not much more. */
	ck_assert_int_le(i, 12);
	ck_assert_int_ge(i, 8);
	/* What it finally reads ends in a close. */
	{
		double dl = mono() + DEADLINE;

		while (!hog->eof) {
			ck_assert(mono() < dl);
			hog->len = 0;
			cl_fill(hog);
			pump();
		}
	}
	assert_ping_ok(other);
	cl_free(hog);
	cl_free(other);
}
END_TEST

/* A real listening socket in tmpdir, served by ctl. */
static char *
listen_here(void)
{
	char *path, *cause = NULL;
	int fd;

	xasprintf(&path, "%s/ctl.sock", tmpdir);
	fd = ctl_listen(path, 0660, &cause);
	ck_assert_msg(fd != -1, "%s", cause);
	ctl_free(ctl);
	ctl = ctl_new(base, fd, cfg, &env, &cause);
	ck_assert_msg(ctl != NULL, "%s", cause);
	return path;
}

static int
connect_to(const char *path, int nonblock)
{
	struct sockaddr_un sun;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd == -1)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

START_TEST(test_max_clients)
{
	char *path = listen_here();
	struct client *c[3];
	json_t *r;
	int i;

	cfg->max_clients = 2;
	ctl_set_config(ctl, cfg);
	ck_assert(ctl_accepting(ctl));
	for (i = 0; i < 3; i++) {
		int fd = connect_to(path, 1);

		ck_assert_int_ne(fd, -1);
		c[i] = cl_wrap(fd);
		/* Accepted in order: the third waits in the backlog. */
		if (i < 2)
			PUMP_UNTIL(ctl_clients(ctl) == (size_t)i + 1);
	}
	cl_send_str(c[2], "{\"op\":\"ping\",\"id\":3}\n");
	for (i = 0; i < 20; i++)
		pump();
	ck_assert_uint_eq(ctl_clients(ctl), 2);
	ck_assert(!ctl_accepting(ctl));
	ck_assert(!cl_has_line(c[2]));
	assert_ping_ok(c[0]);

	/* One closes: the third is accepted and answered. */
	cl_free(c[0]);
	r = cl_reply(c[2]);
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 3);
	json_decref(r);
	ck_assert_uint_eq(ctl_clients(ctl), 2);
	ck_assert(!ctl_accepting(ctl));

	/* A larger cap on reload lets more in at once. */
	cfg->max_clients = 3;
	ctl_set_config(ctl, cfg);
	ck_assert(ctl_accepting(ctl));
	c[0] = cl_wrap(connect_to(path, 1));
	assert_ping_ok(c[0]);
	ck_assert_uint_eq(ctl_clients(ctl), 3);
	ck_assert(!ctl_accepting(ctl));
	for (i = 0; i < 3; i++)
		cl_free(c[i]);
	PUMP_UNTIL(ctl_clients(ctl) == 0);
	ck_assert(ctl_accepting(ctl));
	free(path);
}
END_TEST

/* The soft fd limit the kernel applies (valgrind only pretends). */
static long long
kernel_fd_limit(void)
{
	FILE *f = fopen("/proc/self/limits", "r");
	char line[256];
	long long soft = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "Max open files", 14) == 0)
			soft = strtoll(line + 14, NULL, 10);
	fclose(f);
	return soft;
}

/*
 * accept() failing with EMFILE pauses the listener (it would otherwise be
 * woken again at once, forever) until a connection closes.
 */
START_TEST(test_accept_emfile)
{
	char *path = listen_here();
	struct rlimit old, rl;
	struct client *a, *waiting;
	int fds[512], nfds = 0, fd, i;

	a = cl_root();
	assert_ping_ok(a);
	waiting = cl_wrap(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	if ((fd = dup(0)) == -1 || fd > 200) {
		printf("test_accept_emfile: skipped: too many fds open\n");
		if (fd != -1)
			close(fd);
		cl_free(a);
		cl_free(waiting);
		free(path);
		return;
	}
	close(fd);
	rl = old;
	rl.rlim_cur = 256;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	/* Under valgrind the kernel's accept() succeeds and valgrind then
	 * closes the new fd: the connection is lost, unlike with a real
	 * EMFILE.  Nothing to test there. */
	if (kernel_fd_limit() != 256) {
		printf("test_accept_emfile: skipped: the fd limit is "
		    "emulated (valgrind?)\n");
		setrlimit(RLIMIT_NOFILE, &old);
		cl_free(a);
		cl_free(waiting);
		free(path);
		return;
	}
	while (nfds < 512 && (fd = dup(0)) != -1)
		fds[nfds++] = fd;
	ck_assert_int_eq(errno, EMFILE);

	/* The connection is made in the kernel; accept() cannot take it. */
	{
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
		ck_assert_int_eq(connect(waiting->fd, (struct sockaddr *)&sun,
		    sizeof sun), 0);
		fcntl(waiting->fd, F_SETFL, O_NONBLOCK);
	}
	cl_send_str(waiting, "{\"op\":\"ping\",\"id\":1}\n");
	PUMP_UNTIL(!ctl_accepting(ctl));
	for (i = 0; i < 10; i++)
		pump();
	ck_assert_uint_eq(ctl_clients(ctl), 1);
	ck_assert(!ctl_accepting(ctl));

	/* A connection closes, freeing an fd: accepting resumes. */
	cl_free(a);
	PUMP_UNTIL(cl_has_line(waiting));
	{
		json_t *r = cl_reply(waiting);

		assert_ok(r);
		json_decref(r);
	}
	ck_assert(ctl_accepting(ctl));
	ck_assert_uint_eq(ctl_clients(ctl), 1);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	setrlimit(RLIMIT_NOFILE, &old);
	cl_free(waiting);
	free(path);
}
END_TEST

/* 1,000 clients at once, each with its own answer. */

#define NCLIENTS	1000

struct crowd {
	const char	*path;
	size_t		 n_upcoming, n_tasks;	/* the right answers */
	atomic_int	 done;
	char		 error[256];
	int		 ok;
};

static void
crowd_fail(struct crowd *cr, const char *fmt, int i, const char *what)
{
	if (cr->error[0] == '\0')
		snprintf(cr->error, sizeof cr->error, fmt, i, what);
}

/* Check the reply of client i. */
static void
crowd_check(struct crowd *cr, int i, const char *line)
{
	json_t *r = json_loads(line, 0, NULL), *a;

	if (r == NULL || !json_is_true(json_object_get(r, "ok")) ||
	    json_integer_value(json_object_get(r, "id")) != i) {
		crowd_fail(cr, "client %d: bad reply %.100s", i, line);
		json_decref(r);
		return;
	}
	switch (i % 3) {
	case 0:
		if (json_integer_value(json_object_get(r, "version")) !=
		    PROTO_VERSION)
			crowd_fail(cr, "client %d: %s", i, "no version");
		break;
	case 1:
		a = json_object_get(r, "occurrences");
		if (json_array_size(a) != cr->n_upcoming)
			crowd_fail(cr, "client %d: %s", i, "wrong occurrences");
		break;
	case 2:
		a = json_object_get(r, "tasks");
		if (json_array_size(a) != cr->n_tasks)
			crowd_fail(cr, "client %d: %s", i, "wrong tasks");
		break;
	}
	json_decref(r);
	cr->ok++;
}

static void *
crowd_main(void *arg)
{
	struct crowd *cr = arg;
	static int fd[NCLIENTS];
	static struct pollfd pfd[NCLIENTS];
	static char buf[NCLIENTS][16384];
	static size_t len[NCLIENTS];
	static int got[NCLIENTS];
	char req[256];
	int i, left = NCLIENTS;
	double dl = mono() + DEADLINE * 4;

	/* Connect all first: they are open at the same time. */
	for (i = 0; i < NCLIENTS; i++) {
		if ((fd[i] = connect_to(cr->path, 0)) == -1) {
			crowd_fail(cr, "client %d: connect: %s", i,
			    strerror(errno));
			for (i--; i >= 0; i--)
				close(fd[i]);
			atomic_store(&cr->done, 1);
			return NULL;
		}
		len[i] = 0;
		got[i] = 0;
	}
	for (i = 0; i < NCLIENTS; i++) {
		switch (i % 3) {
		case 0:
			snprintf(req, sizeof req, "{\"op\":\"ping\",\"id\":%d}"
			    "\n", i);
			break;
		case 1:
			snprintf(req, sizeof req, "{\"op\":\"upcoming\","
			    "\"id\":%d,\"from\":\"2026-12-01\",\"to\":"
			    "\"2027-01-01\"}\n", i);
			break;
		default:
			snprintf(req, sizeof req, "{\"op\":\"tasks\","
			    "\"id\":%d,\"status\":\"all\"}\n", i);
			break;
		}
		if (write(fd[i], req, strlen(req)) != (ssize_t)strlen(req))
			crowd_fail(cr, "client %d: write: %s", i,
			    strerror(errno));
	}
	while (left > 0 && mono() < dl && cr->error[0] == '\0') {
		for (i = 0; i < NCLIENTS; i++) {
			pfd[i].fd = got[i] ? -1 : fd[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, NCLIENTS, 100) <= 0)
			continue;
		for (i = 0; i < NCLIENTS; i++) {
			ssize_t n;
			char *nl;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fd[i], buf[i] + len[i],
			    sizeof buf[i] - 1 - len[i]);
			if (n <= 0) {
				crowd_fail(cr, "client %d: %s", i,
				    "closed early");
				got[i] = 1;
				left--;
				continue;
			}
			len[i] += (size_t)n;
			buf[i][len[i]] = '\0';
			if ((nl = strchr(buf[i], '\n')) != NULL) {
				*nl = '\0';
				crowd_check(cr, i, buf[i]);
				got[i] = 1;
				left--;
			}
		}
	}
	if (left > 0)
		crowd_fail(cr, "%d clients: %s", left, "no reply in time");
	for (i = 0; i < NCLIENTS; i++)
		close(fd[i]);
	atomic_store(&cr->done, 1);
	return NULL;
}

/* Raise the fd limit to the hard limit; 0 when it is still too low. */
static int
enough_fds(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need) {
		printf("test_thousand_clients: skipped: RLIMIT_NOFILE is %llu, "
		    "need %llu\n", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)need);
		return 0;
	}
	return 1;
}

START_TEST(test_thousand_clients)
{
	struct crowd cr;
	struct store_filter f;
	struct dj_occ_list l;
	pthread_t t;
	char *path, *cause = NULL;
	size_t peak = 0;
	double dl;

	if (!enough_fds(2 * NCLIENTS + 100))
		return;
	memset(&cr, 0, sizeof cr);
	memset(&f, 0, sizeof f);
	proto_parse_time("2026-12-01", query_zone(store), &f.from, NULL);
	proto_parse_time("2027-01-01", query_zone(store), &f.to, NULL);
	memset(&l, 0, sizeof l);
	ck_assert_int_eq(query_upcoming(store, &f, &l, &cause), 0);
	cr.n_upcoming = l.n;
	occ_list_free(&l);
	ck_assert_int_eq(query_tasks(store, QUERY_TASKS_ALL, fk.now, &l,
	    &cause), 0);
	cr.n_tasks = l.n;
	occ_list_free(&l);
	ck_assert_uint_gt(cr.n_upcoming, 0);

	cfg->max_clients = 2 * NCLIENTS;
	path = listen_here();
	cr.path = path;
	ck_assert_int_eq(pthread_create(&t, NULL, crowd_main, &cr), 0);
	dl = mono() + DEADLINE * 5;
	while (!atomic_load(&cr.done) && mono() < dl) {
		pump();
		if (ctl_clients(ctl) > peak)
			peak = ctl_clients(ctl);
	}
	/* The thread ends by its own deadline; wait for it either way. */
	while (!atomic_load(&cr.done))
		pump();
	pthread_join(t, NULL);
	ck_assert_msg(cr.error[0] == '\0', "%s", cr.error);
	ck_assert_int_eq(cr.ok, NCLIENTS);
	ck_assert_uint_eq(peak, NCLIENTS);
	PUMP_UNTIL(ctl_clients(ctl) == 0);
	free(path);
}
END_TEST

/* ctl_listen: a stale socket file is replaced, a live one is not. */
START_TEST(test_listen_stale_and_live)
{
	char *path, *file, *cause = NULL;
	struct stat st;
	int fd, fd2, c;

	xasprintf(&path, "%s/s.sock", tmpdir);
	fd = ctl_listen(path, 0660, &cause);
	ck_assert_msg(fd != -1, "%s", cause);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0660);
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);

	/* Live: refused, and the socket still works. */
	ck_assert_int_eq(ctl_listen(path, 0660, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "already in use"));
	free(cause);
	cause = NULL;
	c = connect_to(path, 1);
	ck_assert_int_ne(c, -1);
	close(c);

	/* Stale (nobody listens): replaced, with the new mode. */
	close(fd);
	ck_assert_int_eq(stat(path, &st), 0);
	fd2 = ctl_listen(path, 0600, &cause);
	ck_assert_msg(fd2 != -1, "%s", cause);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	c = connect_to(path, 1);
	ck_assert_int_ne(c, -1);
	close(c);
	close(fd2);

	/* Not a socket: left alone. */
	file = tu_write_str(tmpdir, "notasocket", "data\n");
	ck_assert_int_eq(ctl_listen(file, 0660, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "not a socket"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	free(file);

	/* No directory; a path too long for sun_path. */
	free(path);
	xasprintf(&path, "%s/nodir/s.sock", tmpdir);
	ck_assert_int_eq(ctl_listen(path, 0660, &cause), -1);
	free(cause);
	cause = NULL;
	free(path);
	path = xmalloc(200);
	memset(path, 'a', 199);
	path[0] = '/';
	path[199] = '\0';
	ck_assert_int_eq(ctl_listen(path, 0660, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "too long"));
	free(cause);
	free(path);
}
END_TEST


/* Subscriptions */

/* Record and broadcast a message, as the reminder service does. */
static int64_t
push_msg(const char *type, int category, const char *branch,
    const char *feed)
{
	struct store_msg m;
	int64_t seq;
	char *body;

	ck_assert_int_eq(store_begin(store), 0);
	ck_assert_int_eq(store_msg_add(store, type, fk.now, feed, branch,
	    category, &seq), 0);
	xasprintf(&body, "{\"type\":\"%s\",\"seq\":%lld}", type,
	    (long long)seq);
	ck_assert_int_eq(store_msg_set_body(store, seq, body), 0);
	ck_assert_int_eq(store_commit(store), 0);
	memset(&m, 0, sizeof m);
	m.seq = seq;
	m.type = type;
	m.feed = feed;
	m.branch = branch;
	m.category = category;
	m.body = body;
	ctl_broadcast(ctl, &m);
	free(body);
	return seq;
}

static int64_t
line_seq(struct client *c)
{
	json_t *j = cl_reply(c);
	int64_t seq = json_integer_value(json_object_get(j, "seq"));

	ck_assert_ptr_nonnull(json_object_get(j, "type"));
	json_decref(j);
	return seq;
}

START_TEST(test_subscribe_live)
{
	struct client *a = cl_attach(1000, 1000), *b = cl_attach(1001, 1001);
	json_t *r;

	push_msg("reminder", DJ_CAT_STUDY, "b1", "f1");
	r = rpc(a, "{\"op\":\"subscribe\",\"id\":1}");
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "seq")), 1);
	json_decref(r);
	r = rpc(b, "{\"op\":\"subscribe\",\"category\":[\"party-day\"]}");
	assert_ok(r);
	json_decref(r);
	ck_assert_int_eq(ctl_subscribers(ctl), 2);
	/* Without since: nothing old, then the live stream. */
	push_msg("reminder", DJ_CAT_STUDY, "b1", "f1");
	push_msg("reminder", DJ_CAT_PARTY_DAY, "b1", "f1");
	ck_assert_int_eq(line_seq(a), 2);
	ck_assert_int_eq(line_seq(a), 3);
	ck_assert_int_eq(line_seq(b), 3);
	/* Requests still work on a subscribed connection. */
	assert_ping_ok(a);
	r = rpc(a, "{\"op\":\"subscribe\"}");
	assert_error(r, "bad_request");
	json_decref(r);
	cl_free(a);
	cl_free(b);
}
END_TEST

START_TEST(test_subscribe_since_replays_once)
{
	struct client *a;
	json_t *r;
	int64_t i, n = 700;	/* more than two replay batches */

	for (i = 0; i < n; i++)
		push_msg("reminder", DJ_CAT_STUDY, NULL, "f1");
	a = cl_attach(1000, 1000);
	r = rpc(a, "{\"op\":\"subscribe\",\"since\":5}");
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "seq")), n);
	json_decref(r);
	/* One arrives while the replay is still going. */
	push_msg("reminder", DJ_CAT_STUDY, NULL, "f1");
	for (i = 6; i <= n + 1; i++)
		ck_assert_int_eq(line_seq(a), i);
	push_msg("warning", DJ_CAT_STUDY, NULL, NULL);
	ck_assert_int_eq(line_seq(a), n + 2);
	/* Nothing twice. */
	pump();
	ck_assert(!cl_has_line(a));
	cl_free(a);
}
END_TEST

START_TEST(test_subscribe_filters)
{
	struct client *a = cl_attach(1000, 1000);
	json_t *r;

	r = rpc(a, "{\"op\":\"subscribe\",\"category\":[\"study\"],"
	    "\"branch\":[\"b1\"],\"feed\":\"f1\"}");
	assert_ok(r);
	json_decref(r);
	push_msg("reminder", DJ_CAT_PARTY_DAY, "b1", "f1");
	push_msg("reminder", DJ_CAT_STUDY, "b2", "f1");
	push_msg("reminder", DJ_CAT_STUDY, "b1", "f2");
	push_msg("reminder", DJ_CAT_STUDY, "b1", "f1");
	ck_assert_int_eq(line_seq(a), 4);
	cl_free(a);
}
END_TEST

START_TEST(test_subscribe_bad_fields)
{
	struct client *a = cl_attach(1000, 1000);
	static const char *const bad[] = {
		"{\"op\":\"subscribe\",\"since\":\"x\"}",
		"{\"op\":\"subscribe\",\"since\":-1}",
		"{\"op\":\"subscribe\",\"category\":[\"nope\"]}",
		"{\"op\":\"subscribe\",\"branch\":[1]}",
		"{\"op\":\"subscribe\",\"feed\":{}}",
	};
	size_t i;
	json_t *r;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = rpc(a, bad[i]);
		assert_error(r, "bad_request");
		json_decref(r);
	}
	ck_assert_int_eq(ctl_subscribers(ctl), 0);
	cl_free(a);
}
END_TEST

START_TEST(test_subscriber_not_reading_dropped)
{
	struct client *slow = cl_attach(1000, 1000), *fast;
	json_t *r;
	char big[8192];
	int64_t seq = 0;
	int i, got = 0;

	r = rpc(slow, "{\"op\":\"subscribe\"}");
	assert_ok(r);
	json_decref(r);
	fast = cl_attach(1001, 1001);
	r = rpc(fast, "{\"op\":\"subscribe\"}");
	assert_ok(r);
	json_decref(r);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	/* slow never reads; fast reads every message at once. */
	for (i = 0; i < 2000 && ctl_subscribers(ctl) == 2; i++) {
		seq = push_msg(big, DJ_CAT_STUDY, NULL, NULL);
		cl_fill(fast);
		while (cl_has_line(fast)) {
			char *line = cl_take_line(fast);

			free(line);
			got++;
		}
		pump();
	}
	ck_assert_int_eq(ctl_subscribers(ctl), 1);
	ck_assert_int_eq(ctl_clients(ctl), 1);
	/* The reader saw every message so far, without waiting. */
	while (got < seq) {
		char *line = cl_line(fast);

		ck_assert_ptr_nonnull(line);
		free(line);
		got++;
	}
	cl_free(slow);
	cl_free(fast);
}
END_TEST

/* Limits of all clients together (issue 9) */

/* What the code under test logs (stderr), captured into a file. */
static int log_saved = -1;
static char *log_path;

static void
log_capture(void)
{
	int fd;

	xasprintf(&log_path, "%s/stderr.log", tmpdir);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ne(fd, -1);
	fflush(stderr);
	log_saved = dup(2);
	ck_assert_int_ne(log_saved, -1);
	ck_assert_int_ne(dup2(fd, 2), -1);
	close(fd);
}

/* Stop capturing; the log so far (caller frees). */
static char *
log_captured(void)
{
	char *s;
	size_t len;

	fflush(stderr);
	ck_assert_int_ne(dup2(log_saved, 2), -1);
	close(log_saved);
	log_saved = -1;
	s = tu_read(log_path, &len);
	ck_assert_ptr_nonnull(s);
	free(log_path);
	log_path = NULL;
	return s;
}

static int
count_str(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* A uid that is capped: neither root nor ours. */
static uid_t
capped_uid(int i)
{
	uid_t u = 4200 + (uid_t)i;

	return u == geteuid() ? u + 100 : u;
}

/* Attach with these credentials when the cap allows: the client, or
 * NULL with the busy reply read into *refused. */
static struct client *
cl_try_attach(uid_t uid, json_t **refused)
{
	struct client *c;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	/* What a client sends at once is read and discarded. */
	ck_assert_int_eq(write(sv[1], "{\"op\":\"ping\"}\n", 14), 14);
	if (ctl_attach(ctl, sv[0], uid, uid) == 0) {
		*refused = NULL;
		c = cl_wrap(sv[1]);
		json_decref(cl_reply(c));
		return c;
	}
	c = cl_wrap(sv[1]);
	*refused = cl_reply(c);
	/* Then the end: EOF, not a reset. */
	ck_assert_ptr_null(cl_line(c));
	cl_free(c);
	return NULL;
}

START_TEST(test_uid_cap)
{
	struct client *a[3], *b, *root[3], *c;
	json_t *r;
	char *log;
	size_t n;
	int i;

	cfg->max_clients_per_uid = 2;
	ctl_set_config(ctl, cfg);
	log_capture();
	for (i = 0; i < 2; i++) {
		a[i] = cl_try_attach(capped_uid(0), &r);
		ck_assert_ptr_nonnull(a[i]);
	}
	n = ctl_clients(ctl);
	/* The third of that uid is refused, at once and with a reason;
	 * however often it tries, it takes no slot. */
	for (i = 0; i < 3; i++) {
		ck_assert_ptr_null(cl_try_attach(capped_uid(0), &r));
		assert_error(r, "busy");
		ck_assert_ptr_nonnull(strstr(err_message(r),
		    "max_clients_per_uid"));
		json_decref(r);
		ck_assert_uint_eq(ctl_clients(ctl), n);
	}
	/* Another uid, root and our own uid are not held up by it. */
	b = cl_try_attach(capped_uid(1), &r);
	ck_assert_ptr_nonnull(b);
	assert_ping_ok(b);
	for (i = 0; i < 3; i++) {
		root[i] = cl_try_attach(i == 2 ? geteuid() : 0, &r);
		ck_assert_ptr_nonnull(root[i]);
	}
	assert_ping_ok(a[0]);
	/* One of them closes: the uid may connect again. */
	cl_free(a[1]);
	PUMP_UNTIL(ctl_clients(ctl) == n + 3);
	a[1] = cl_try_attach(capped_uid(0), &r);
	ck_assert_ptr_nonnull(a[1]);
	assert_ping_ok(a[1]);
	ck_assert_ptr_null(cl_try_attach(capped_uid(0), &r));
	json_decref(r);
	log = log_captured();
	/* Said once when the cap is reached, once when below it again
	 * (with the count), once more at the second time. */
	ck_assert_int_eq(count_str(log, "(max_clients_per_uid): refusing "
	    "more"), 2);
	ck_assert_int_eq(count_str(log, "below max_clients_per_uid again "
	    "(3 connections were refused)"), 1);
	free(log);
	/* A lower cap on reload keeps the connections there are. */
	cfg->max_clients_per_uid = 1;
	ctl_set_config(ctl, cfg);
	assert_ping_ok(a[0]);
	assert_ping_ok(a[1]);
	ck_assert_ptr_null(cl_try_attach(capped_uid(0), &r));
	json_decref(r);
	c = cl_try_attach(capped_uid(2), &r);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(cl_try_attach(capped_uid(2), &r));
	json_decref(r);
	cl_free(c);
	for (i = 0; i < 3; i++)
		cl_free(root[i]);
	cl_free(a[0]);
	cl_free(a[1]);
	cl_free(b);
	PUMP_UNTIL(ctl_clients(ctl) == 0);
}
END_TEST

/* Without max_clients_per_uid, a quarter of max_clients; through a real
 * listening socket, where the uid comes from SO_PEERCRED. */
START_TEST(test_uid_cap_default)
{
	struct client *c[3];
	json_t *r;
	char *path;
	int i;

	cfg->max_clients = 8;
	cfg->max_clients_per_uid = 0;
	for (i = 0; i < 3; i++) {
		c[i] = cl_try_attach(capped_uid(0), &r);
		if (i < 2)
			ck_assert_ptr_nonnull(c[i]);
	}
	ck_assert_ptr_null(c[2]);
	assert_error(r, "busy");
	json_decref(r);
	cl_free(c[0]);
	cl_free(c[1]);
	/* Our own uid over the socket: not capped. */
	path = listen_here();
	for (i = 0; i < 3; i++) {
		int fd = connect_to(path, 1);

		ck_assert_int_ne(fd, -1);
		c[i] = cl_wrap(fd);
		assert_ping_ok(c[i]);
	}
	for (i = 0; i < 3; i++)
		cl_free(c[i]);
	free(path);
}
END_TEST

/* Ask for an export of size bytes (fk.export_size) and run the loop
 * until it is answered, and written as far as the client's socket
 * takes it. */
static void
ask_export(struct client *c, size_t size)
{
	int calls = fk.export_calls, same = 0;
	size_t q;

	fk.export_size = size;
	cl_send_str(c, "{\"op\":\"export\"}\n");
	PUMP_UNTIL(fk.export_calls == calls + 1);
	while (same < 5) {
		q = ctl_queued(ctl);
		pump();
		same = ctl_queued(ctl) == q ? same + 1 : 0;
	}
}

/* Read replies until there is one whole line of at least n bytes. */
static void
read_big_line(struct client *c, size_t n)
{
	char *line = cl_line(c);

	ck_assert_ptr_nonnull(line);
	ck_assert_uint_ge(strlen(line), n);
	free(line);
}

/* Wait for a client to be closed by the daemon, reading what comes. */
static void
wait_closed(struct client *c)
{
	double dl = mono() + DEADLINE;

	while (!c->eof) {
		ck_assert_msg(mono() < dl, "timed out waiting for a close");
		c->len = 0;
		cl_fill(c);
		pump();
	}
}

#define MiB	(1024 * 1024)

START_TEST(test_output_cap)
{
	struct client *hog, *reader, *idle, *a, *b, *big;
	char *log;

	cfg->max_output_bytes = 2 * MiB;
	ctl_set_config(ctl, cfg);
	hog = cl_attach(capped_uid(0), capped_uid(0));
	reader = cl_attach(capped_uid(1), capped_uid(1));
	idle = cl_attach(capped_uid(2), capped_uid(2));
	assert_ping_ok(idle);
	log_capture();

	/* hog asks for 1 MiB and reads none of it: under the cap. */
	ask_export(hog, MiB);
	ck_assert_uint_gt(ctl_queued(ctl), MiB / 2);
	ck_assert_uint_le(ctl_queued(ctl), MiB + 4096);
	/* Time passes without hog reading: it has stopped. */
	fk.now += 10;
	/* reader's 1.5 MiB goes past the cap: hog is dropped, not reader,
	 * although reader's queue is the larger one. */
	ask_export(reader, 3 * MiB / 2);
	read_big_line(reader, 3 * MiB / 2);
	wait_closed(hog);
	ck_assert_uint_eq(ctl_clients(ctl), 2);
	assert_ping_ok(idle);
	PUMP_UNTIL(ctl_queued(ctl) == 0);

	/* Nobody stalled: the one with the most unread goes. */
	a = cl_attach(capped_uid(3), capped_uid(3));
	b = cl_attach(capped_uid(4), capped_uid(4));
	ask_export(a, 3 * MiB / 2);
	ask_export(b, MiB);
	read_big_line(b, MiB);
	wait_closed(a);
	ck_assert_uint_eq(ctl_clients(ctl), 3);
	PUMP_UNTIL(ctl_queued(ctl) == 0);

	/* One reply larger than the cap, for a client that reads, is sent
	 * whole. */
	big = cl_attach(capped_uid(5), capped_uid(5));
	ask_export(big, 5 * MiB / 2);
	read_big_line(big, 5 * MiB / 2);
	assert_ping_ok(big);
	assert_ping_ok(reader);
	PUMP_UNTIL(ctl_queued(ctl) == 0);
	log = log_captured();
	/* Logged once for the first drop, again after the total fell. */
	ck_assert_int_eq(count_str(log, "more than max_output_bytes"), 2);
	ck_assert_int_eq(count_str(log, "not reading"), 1);
	free(log);
	cl_free(hog);
	cl_free(reader);
	cl_free(idle);
	cl_free(a);
	cl_free(b);
	cl_free(big);
	PUMP_UNTIL(ctl_clients(ctl) == 0);
	ck_assert_uint_eq(ctl_queued(ctl), 0);
}
END_TEST

/* Subscribers that stop reading go first when pushed messages fill the
 * cap, while many below the per-client limit each. */
START_TEST(test_output_cap_subscribers)
{
	struct client *slow[4], *fast;
	json_t *r;
	char big[8192];
	int64_t seq = 0;
	int i, got = 0, dropped;

	cfg->max_output_bytes = 2 * MiB;
	ctl_set_config(ctl, cfg);
	for (i = 0; i < 4; i++) {
		slow[i] = cl_attach(capped_uid(i), capped_uid(i));
		r = rpc(slow[i], "{\"op\":\"subscribe\"}");
		assert_ok(r);
		json_decref(r);
	}
	fast = cl_attach(capped_uid(9), capped_uid(9));
	r = rpc(fast, "{\"op\":\"subscribe\"}");
	assert_ok(r);
	json_decref(r);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	/* 4 MiB of messages: each slow one would hold 4 MiB, under the
	 * 8 MiB of one client, but together past the cap. */
	for (i = 0; i < 512; i++) {
		if (i == 64)
			fk.now += 10;	/* by now the slow ones have stopped */
		seq = push_msg(big, DJ_CAT_STUDY, NULL, NULL);
		ck_assert_uint_le(ctl_queued(ctl), 2 * MiB + sizeof big + 64);
		cl_fill(fast);
		while (cl_has_line(fast)) {
			free(cl_take_line(fast));
			got++;
		}
		pump();
	}
	dropped = 4 - (int)ctl_subscribers(ctl) + 1;
	ck_assert_int_ge(dropped, 2);
	ck_assert_int_eq(ctl_subscribers(ctl), 5 - dropped);
	/* The reader got every message. */
	while (got < seq) {
		char *line = cl_line(fast);

		ck_assert_ptr_nonnull(line);
		free(line);
		got++;
	}
	for (i = 0; i < 4; i++)
		cl_free(slow[i]);
	cl_free(fast);
	PUMP_UNTIL(ctl_clients(ctl) == 0);
	ck_assert_uint_eq(ctl_queued(ctl), 0);
}
END_TEST

/* Party-branch work: checkin, attendance, hours, stats, compliance */

#define ZWH	"\"uid\":\"zhibu-20261208@example.org\"," \
		"\"start\":\"2026-12-08T15:00:00+08:00\""

START_TEST(test_checkin_attendance)
{
	struct client *c = cl_root();
	json_t *r, *o, *a;

	r = rpc(c, "{\"op\":\"checkin\",\"id\":3," ZWH ",\"member\":\"张三\"}");
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 3);
	o = json_object_get(r, "checkin");
	ck_assert_str_eq(jstr(o, "feed"), "study");
	ck_assert_str_eq(jstr(o, "uid"), "zhibu-20261208@example.org");
	ck_assert_str_eq(jstr(o, "summary"), "12月支委会");
	ck_assert_str_eq(jstr(o, "category"), "study");
	ck_assert_str_eq(jstr(o, "start"), "2026-12-08T15:00:00+08:00");
	ck_assert_str_eq(jstr(o, "end"), "2026-12-08T16:30:00+08:00");
	ck_assert_str_eq(jstr(o, "member"), "张三");
	ck_assert_str_eq(jstr(o, "status"), "present");
	ck_assert(json_is_null(json_object_get(o, "reason")));
	ck_assert_str_eq(jstr(o, "recorded"), "2026-12-01T00:00:00+08:00");
	json_decref(r);

	/* 请假, in the feed named, with the start as wall-clock time. */
	r = rpc(c, "{\"op\":\"checkin\",\"uid\":\"zhibu-20261208@example.org\","
	    "\"start\":\"2026-12-08 15:00\",\"feed\":\"study\","
	    "\"member\":\"李四\",\"leave\":\"出差\"}");
	assert_ok(r);
	o = json_object_get(r, "checkin");
	ck_assert_str_eq(jstr(o, "status"), "leave");
	ck_assert_str_eq(jstr(o, "reason"), "出差");
	json_decref(r);

	r = rpc(c, "{\"op\":\"attendance\"," ZWH "}");
	assert_ok(r);
	a = json_object_get(r, "attendance");
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_str_eq(jstr(json_array_get(a, 0), "member"), "张三");
	ck_assert_str_eq(jstr(json_array_get(a, 0), "status"), "present");
	ck_assert_str_eq(jstr(json_array_get(a, 1), "member"), "李四");
	ck_assert_str_eq(jstr(json_array_get(a, 1), "status"), "leave");
	json_decref(r);

	/* Checking in again replaces the member's record. */
	r = rpc(c, "{\"op\":\"checkin\"," ZWH ",\"member\":\"李四\"}");
	assert_ok(r);
	json_decref(r);
	r = rpc(c, "{\"op\":\"attendance\"," ZWH ",\"feed\":\"study\"}");
	assert_ok(r);
	a = json_object_get(r, "attendance");
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_str_eq(jstr(json_array_get(a, 1), "status"), "present");
	json_decref(r);

	/* An occurrence with nobody yet: an empty list. */
	r = rpc(c, "{\"op\":\"attendance\",\"uid\":\"party-day@example.org\","
	    "\"start\":\"2026-03-05T14:30:00+08:00\"}");
	assert_ok(r);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "attendance")),
	    0);
	json_decref(r);
	cl_free(c);
}
END_TEST

static const struct {
	const char	*req;
	const char	*message;
} notfound_rows[] = {
	{ "{\"op\":\"checkin\",\"uid\":\"nosuch@example.org\","
	  "\"start\":\"2026-12-08T15:00:00+08:00\",\"member\":\"张三\"}",
	  "no occurrence of nosuch@example.org starting at "
	  "2026-12-08T15:00:00+08:00" },
	/* The right UID at another time. */
	{ "{\"op\":\"checkin\",\"uid\":\"zhibu-20261208@example.org\","
	  "\"start\":\"2026-12-08T15:01:00+08:00\",\"member\":\"张三\"}",
	  "no occurrence of zhibu-20261208@example.org" },
	/* A recurring one at a date it does not recur on. */
	{ "{\"op\":\"checkin\",\"uid\":\"party-day@example.org\","
	  "\"start\":\"2026-03-06T14:30:00+08:00\",\"member\":\"张三\"}",
	  "no occurrence of party-day@example.org" },
	/* The right occurrence in another feed. */
	{ "{\"op\":\"checkin\"," ZWH ",\"feed\":\"tasks\","
	  "\"member\":\"张三\"}", "in feed tasks" },
	{ "{\"op\":\"attendance\",\"uid\":\"nosuch@example.org\","
	  "\"start\":\"2026-12-08\"}",
	  "no occurrence of nosuch@example.org starting at "
	  "2026-12-08T00:00:00+08:00" },
};

START_TEST(test_checkin_not_found)
{
	struct client *c = cl_root();
	json_t *r;

	r = rpc(c, notfound_rows[_i].req);
	assert_error(r, "not_found");
	ck_assert_msg(strstr(err_message(r), notfound_rows[_i].message) !=
	    NULL, "message \"%s\" lacks \"%s\"", err_message(r),
	    notfound_rows[_i].message);
	json_decref(r);
	/* Nothing was recorded. */
	r = rpc(c, "{\"op\":\"attendance\"," ZWH "}");
	assert_ok(r);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "attendance")),
	    0);
	json_decref(r);
	cl_free(c);
}
END_TEST

/* checkin is a write: a user outside admin_group is refused; reading the
 * attendance, hours, stats and compliance is open to everyone. */
START_TEST(test_checkin_forbidden)
{
	gid_t gid = getgid() == NOBODY ? NOBODY - 1 : NOBODY;
	const char *reads[] = {
		"{\"op\":\"attendance\"," ZWH "}",
		"{\"op\":\"hours\"}",
		"{\"op\":\"stats\"}",
		"{\"op\":\"compliance\"}",
	};
	struct client *c = cl_attach(NOBODY, gid);
	json_t *r;
	size_t i;

	r = rpc(c, "{\"op\":\"checkin\",\"id\":9," ZWH ",\"member\":\"张三\"}");
	assert_error(r, "forbidden");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 9);
	ck_assert_ptr_nonnull(strstr(err_message(r), "checkin:"));
	json_decref(r);
	for (i = 0; i < sizeof reads / sizeof reads[0]; i++) {
		r = rpc(c, reads[i]);
		assert_ok(r);
		json_decref(r);
	}
	r = rpc(c, "{\"op\":\"attendance\"," ZWH "}");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "attendance")),
	    0);
	json_decref(r);
	cl_free(c);

	/* The admin group's members may. */
	c = cl_attach(NOBODY, getgid());
	r = rpc(c, "{\"op\":\"checkin\"," ZWH ",\"member\":\"张三\"}");
	assert_ok(r);
	json_decref(r);
	cl_free(c);
}
END_TEST

/* The row of a stats reply for a category and meeting type (NULL). */
static json_t *
stats_row(json_t *r, const char *category, const char *mt)
{
	json_t *o, *v;
	size_t i;

	json_array_foreach(json_object_get(r, "rows"), i, o) {
		v = json_object_get(o, "meeting_type");
		if (strcmp(jstr(o, "category"), category) == 0 &&
		    (mt == NULL ? json_is_null(v) : json_is_string(v) &&
		    strcmp(json_string_value(v), mt) == 0))
			return o;
	}
	ck_abort_msg("no row %s/%s", category, mt != NULL ? mt : "-");
	return NULL;
}

static long long
jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s: not an integer", key);
	return (long long)json_integer_value(v);
}

START_TEST(test_stats)
{
	struct client *c = cl_root();
	json_t *r, *o;

	r = rpc(c, "{\"op\":\"checkin\"," ZWH ",\"member\":\"张三\"}");
	json_decref(r);
	r = rpc(c, "{\"op\":\"checkin\"," ZWH ",\"member\":\"李四\","
	    "\"leave\":\"病假\"}");
	json_decref(r);

	/* Without year: this year in the daemon's zone. */
	r = rpc(c, "{\"op\":\"stats\",\"id\":1}");
	assert_ok(r);
	ck_assert_int_eq(jint(r, "year"), 2026);
	ck_assert(json_is_array(json_object_get(r, "rows")));
	/* 主题党日 on the 5th: January to November held, December to come. */
	o = stats_row(r, "party-day", NULL);
	ck_assert_int_eq(jint(o, "held"), 11);
	ck_assert_int_eq(jint(o, "upcoming"), 1);
	ck_assert_int_eq(jint(o, "cancelled"), 0);
	ck_assert_int_eq(jint(o, "checkins"), 0);
	ck_assert(json_is_null(json_object_get(o, "attendance_rate")));
	o = stats_row(r, "study", NULL);
	ck_assert_int_eq(jint(o, "held"), 0);
	ck_assert_int_eq(jint(o, "upcoming"), 1);
	ck_assert_int_eq(jint(o, "checkins"), 1);
	ck_assert(json_real_value(json_object_get(o, "attendance_rate")) ==
	    0.5);
	o = stats_row(r, "study", "branch-committee");
	ck_assert_int_eq(jint(o, "upcoming"), 1);
	ck_assert_int_eq(jint(o, "checkins"), 1);
	o = stats_row(r, "volunteer", NULL);
	ck_assert_int_eq(jint(o, "upcoming"), 1);
	ck_assert(json_is_number(json_object_get(o, "volunteer_hours")));
	json_decref(r);

	r = rpc(c, "{\"op\":\"stats\",\"year\":2026,"
	    "\"branch\":\"机关党支部\"}");
	assert_ok(r);
	ck_assert_int_eq(jint(stats_row(r, "party-day", NULL), "held"), 11);
	json_decref(r);
	r = rpc(c, "{\"op\":\"stats\",\"year\":2026,\"branch\":\"无此支部\"}");
	assert_ok(r);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "rows")), 0);
	json_decref(r);
	/* Any year: 2030 has only the monthly 主题党日, all to come. */
	r = rpc(c, "{\"op\":\"stats\",\"year\":2030}");
	assert_ok(r);
	ck_assert_int_eq(jint(r, "year"), 2030);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "rows")), 1);
	ck_assert_int_eq(jint(stats_row(r, "party-day", NULL), "upcoming"),
	    12);
	json_decref(r);
	cl_free(c);
}
END_TEST

START_TEST(test_hours)
{
	struct client *c = cl_root();
	json_t *r, *a;

	r = rpc(c, "{\"op\":\"checkin\",\"uid\":"
	    "\"volunteer-20261212@example.org\",\"start\":\"2026-12-12\","
	    "\"member\":\"王五\"}");
	assert_ok(r);
	json_decref(r);
	r = rpc(c, "{\"op\":\"checkin\"," ZWH ",\"member\":\"王五\"}");
	json_decref(r);

	r = rpc(c, "{\"op\":\"hours\"}");
	assert_ok(r);
	ck_assert_int_eq(jint(r, "year"), 2026);
	a = json_object_get(r, "hours");
	/* The study meeting adds nothing: only volunteer occurrences. */
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_str_eq(jstr(json_array_get(a, 0), "member"), "王五");
	ck_assert_int_eq(jint(json_array_get(a, 0), "count"), 1);
	ck_assert(json_number_value(json_object_get(json_array_get(a, 0),
	    "hours")) > 0);
	json_decref(r);
	r = rpc(c, "{\"op\":\"hours\",\"year\":2026,\"member\":\"张三\"}");
	assert_ok(r);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "hours")), 0);
	json_decref(r);
	r = rpc(c, "{\"op\":\"hours\",\"year\":2025,\"member\":\"王五\"}");
	assert_ok(r);
	ck_assert_int_eq(jint(r, "year"), 2025);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "hours")), 0);
	json_decref(r);
	cl_free(c);
}
END_TEST

/* The requirement of that name in a compliance reply. */
static json_t *
requirement(json_t *r, const char *name)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(r, "requirements"), i, o)
		if (strcmp(jstr(o, "name"), name) == 0)
			return o;
	ck_abort_msg("no requirement %s", name);
	return NULL;
}

START_TEST(test_compliance)
{
	struct client *c = cl_root();
	json_t *r, *q, *p;

	r = rpc(c, "{\"op\":\"compliance\",\"year\":2026}");
	assert_ok(r);
	ck_assert_int_eq(jint(r, "year"), 2026);
	/* The defaults: 三会一课 and 主题党日. */
	ck_assert_uint_eq(json_array_size(json_object_get(r,
	    "requirements")), 5);
	q = requirement(r, "主题党日");
	ck_assert_str_eq(jstr(q, "category"), "party-day");
	ck_assert(json_is_null(json_object_get(q, "meeting_type")));
	ck_assert_str_eq(jstr(q, "cadence"), "month");
	ck_assert_str_eq(jstr(q, "status"), "green");
	ck_assert_uint_eq(json_array_size(json_object_get(q, "periods")), 12);
	p = json_array_get(json_object_get(q, "periods"), 0);
	ck_assert_str_eq(jstr(p, "period"), "2026-01");
	ck_assert_int_eq(jint(p, "held"), 1);
	ck_assert_int_eq(jint(p, "scheduled"), 0);
	ck_assert(json_is_false(json_object_get(p, "missing")));
	p = json_array_get(json_object_get(q, "periods"), 11);
	ck_assert_int_eq(jint(p, "held"), 0);
	ck_assert_int_eq(jint(p, "scheduled"), 1);
	/* 支委会 only in December: every earlier month missed. */
	q = requirement(r, "支委会");
	ck_assert_str_eq(jstr(q, "meeting_type"), "branch-committee");
	ck_assert_str_eq(jstr(q, "status"), "red");
	p = json_array_get(json_object_get(q, "periods"), 0);
	ck_assert(json_is_true(json_object_get(p, "missing")));
	q = requirement(r, "党课");
	ck_assert_str_eq(jstr(q, "cadence"), "quarter");
	ck_assert_uint_eq(json_array_size(json_object_get(q, "periods")), 4);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(q, "periods"),
	    1), "period"), "2026-Q2");
	json_decref(r);

	/* Without year: this year; the reply is the same object. */
	r = rpc(c, "{\"op\":\"compliance\",\"id\":2,"
	    "\"branch\":\"机关党支部\"}");
	assert_ok(r);
	ck_assert_int_eq(jint(r, "year"), 2026);
	ck_assert_str_eq(jstr(requirement(r, "主题党日"), "status"), "green");
	json_decref(r);
	cl_free(c);
}
END_TEST

static Suite *
ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ping);
	tcase_add_test(tc, test_upcoming_occurrence);
	tcase_add_loop_test(tc, test_upcoming_filters, 0,
	    sizeof upcoming_rows / sizeof upcoming_rows[0]);
	tcase_add_loop_test(tc, test_tasks, 0,
	    sizeof tasks_rows / sizeof tasks_rows[0]);
	tcase_add_test(tc, test_tasks_fields);
	tcase_add_test(tc, test_feeds);
	tcase_add_test(tc, test_refresh);
	tcase_add_test(tc, test_refresh_keeps_order);
	tcase_add_test(tc, test_refresh_unavailable);
	tcase_add_test(tc, test_refresh_done_synchronously);
	tcase_add_test(tc, test_export);
	tcase_add_test(tc, test_half_close);
	tcase_add_test(tc, test_half_close_refresh);
	tcase_add_test(tc, test_pipelined);
	tcase_add_loop_test(tc, test_authorisation, 0,
	    sizeof auth_rows / sizeof auth_rows[0]);
	tcase_add_test(tc, test_authorisation_supplementary);
	tcase_add_test(tc, test_set_config);
	tcase_add_test(tc, test_listen_stale_and_live);
	suite_add_tcase(s, tc);

	tc = tcase_create("branch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_checkin_attendance);
	tcase_add_loop_test(tc, test_checkin_not_found, 0,
	    sizeof notfound_rows / sizeof notfound_rows[0]);
	tcase_add_test(tc, test_checkin_forbidden);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_hours);
	tcase_add_test(tc, test_compliance);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_request, 0,
	    sizeof bad_rows / sizeof bad_rows[0]);
	tcase_add_test(tc, test_bad_value_quoted_short);
	tcase_add_test(tc, test_refresh_client_gone);
	tcase_add_test(tc, test_refresh_done_after_free);
	suite_add_tcase(s, tc);

	tc = tcase_create("subscribe");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_subscribe_live);
	tcase_add_test(tc, test_subscribe_since_replays_once);
	tcase_add_test(tc, test_subscribe_filters);
	tcase_add_test(tc, test_subscribe_bad_fields);
	tcase_add_test(tc, test_subscriber_not_reading_dropped);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_too_large);
	tcase_add_loop_test(tc, test_line_limit_edge, 0,
	    sizeof edge_rows / sizeof edge_rows[0]);
	tcase_add_test(tc, test_nonreader_dropped);
	tcase_add_test(tc, test_max_clients);
	tcase_add_test(tc, test_accept_emfile);
	tcase_add_test(tc, test_thousand_clients);
	tcase_add_test(tc, test_uid_cap);
	tcase_add_test(tc, test_uid_cap_default);
	tcase_add_test(tc, test_output_cap);
	tcase_add_test(tc, test_output_cap_subscribers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	/* Writes to a client that has gone must fail with EPIPE, as in
	 * the daemon. */
	signal(SIGPIPE, SIG_IGN);
	log_init("check_ctl", getenv("DJCAL_DEBUG") != NULL);
	icalerror_set_errors_are_fatal(0);
	sr = srunner_create(ctl_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
