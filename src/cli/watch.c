/*
 * djcal watch: subscribe to djcald's reminders and print each pushed
 * message as it comes (a line per message, or the message's JSON line with
 * --json), optionally running a command (--exec) and sending a desktop
 * notification (--notify) for each.
 *
 * The last seq handled is kept in a state file, written after each message
 * by rename, and a restarted watch subscribes with `since` from it: djcald
 * replays what came after, so nothing is missed and nothing is seen twice.
 * A lost connection (djcald restarted) is retried with back-off and
 * resumed the same way.
 *
 * Signals: SIGINT and SIGTERM end the watch with status 0, but only
 * between messages, so the message being handled is finished and recorded
 * first.  The handlers write to a pipe that every wait also watches, so a
 * wait never polls.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "djcal/classify.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"
#include "cli.h"

extern char **environ;

/* djcald accepts at most this many branch or feed names per subscription. */
#define WATCH_MAX_NAMES		64
/* A pushed line longer than this is refused (and the connection
 * reopened): a message is an occurrence, far smaller. */
#define WATCH_MAX_LINE		((size_t)16 << 20)
/* Reconnection back-off, in milliseconds. */
#define WATCH_RETRY_MIN		250
#define WATCH_RETRY_MAX		(4 * 1000)
/* --exec's default time limit, and how long a stopped command gets
 * between SIGTERM and SIGKILL. */
#define WATCH_EXEC_TIMEOUT	60
#define WATCH_KILL_GRACE	5
#define WATCH_NOTIFY_TIMEOUT	10
#define WATCH_SUBSCRIBE_MS	(60 * 1000)

struct watch {
	struct cli	*c;
	unsigned	 cats;
	const char	*branches[WATCH_MAX_NAMES];
	size_t		 nbranches;
	const char	*feeds[WATCH_MAX_NAMES];
	size_t		 nfeeds;
	char		**exec_argv;	/* NULL: no --exec */
	long long	 exec_timeout;
	int		 notify;
	char		*notify_path;	/* notify-send; NULL when absent */

	char		*state;		/* the state file; NULL: none */
	int		 state_warned;
	int64_t		 seq;		/* the last seq handled */
	int		 has_seq;

	int		 fd;		/* the subscribed connection */
	char		*buf;
	size_t		 len, cap;
};

/* Signals */

static volatile sig_atomic_t watch_stop;
static int watch_pipe[2] = { -1, -1 };

static void
watch_signal(int sig)
{
	int saved = errno;

	if (sig == SIGINT || sig == SIGTERM)
		watch_stop = 1;
	/* Nonblocking: a full pipe already says "look". */
	if (write(watch_pipe[1], "", 1) == -1)
		(void)0;
	errno = saved;
}

static int
signals_setup(void)
{
	struct sigaction sa;

	if (pipe2(watch_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		cli_error("pipe: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = watch_signal;
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART keeps writes to stdout whole; poll(2) is never
	 * restarted, so waits still wake. */
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	return 0;
}

/*
 * Wait until fd (-1: none) is readable, a signal came, or timeout_ms
 * passed (-1: no limit).  1 when fd is readable, 0 otherwise.
 */
static int
wait_for(int fd, long long timeout_ms)
{
	struct pollfd pfd[2];
	char drain[64];
	int n;

	pfd[0].fd = watch_pipe[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = fd;
	pfd[1].events = POLLIN;
	pfd[0].revents = pfd[1].revents = 0;
	if (timeout_ms > INT_MAX)
		timeout_ms = INT_MAX;
	n = poll(pfd, fd >= 0 ? 2 : 1, (int)timeout_ms);
	if (n <= 0)
		return 0;
	if (pfd[0].revents != 0)
		while (read(watch_pipe[0], drain, sizeof drain) > 0)
			;
	return fd >= 0 && pfd[1].revents != 0;
}

/* Text */

/*
 * A copy of feed text fit for a terminal and a notification: control
 * characters (C0, DEL, and C1 as UTF-8) become '?', line breaks and tabs
 * spaces.  NULL gives "".  Caller frees.
 */
static char *
clean(const char *s)
{
	char *v = xstrdup(s != NULL ? s : ""), *p, *q;

	for (p = q = v; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '\t' || ch == '\n' || ch == '\r')
			*q++ = ' ';
		else if (ch < 0x20 || ch == 0x7f)
			*q++ = '?';
		else if (ch == 0xc2 && (unsigned char)p[1] >= 0x80 &&
		    (unsigned char)p[1] <= 0x9f) {
			*q++ = '?';
			p++;
		} else
			*q++ = *p;
	}
	*q = '\0';
	return v;
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* An ISO 8601 duration ("PT1H", "-P1DT2H", "P2W") in seconds.  0 or -1. */
static int
iso_duration(const char *s, long long *out)
{
	long long total = 0, n;
	int neg = 0, in_time = 0, any = 0;
	char *end;

	if (s == NULL)
		return -1;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (*s++ != 'P')
		return -1;
	while (*s != '\0') {
		if (*s == 'T' && !in_time) {
			in_time = 1;
			s++;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || n > 100LL * 365 * 86400)
			return -1;
		s = end;
		switch (*s++) {
		case 'W':
			n *= 7 * 86400;
			break;
		case 'D':
			n *= 86400;
			break;
		case 'H':
			n *= 3600;
			break;
		case 'M':
			if (!in_time)
				return -1;	/* months have no length */
			n *= 60;
			break;
		case 'S':
			break;
		default:
			return -1;
		}
		total += n;
		any = 1;
	}
	if (!any)
		return -1;
	*out = neg ? -total : total;
	return 0;
}

/* A span of time in the two largest units: "1 hour 30 minutes", "1小时
 * 30分钟".  Caller frees. */
static char *
span_text(long long secs)
{
	long long v[4], unit[4] = { 86400, 3600, 60, 1 };
	char *part[2] = { NULL, NULL }, *out;
	int i, n = 0;

	if (secs < 0)
		secs = -secs;
	for (i = 0; i < 4; i++) {
		v[i] = secs / unit[i];
		secs %= unit[i];
	}
	for (i = 0; i < 4 && n < 2; i++) {
		if (v[i] == 0) {
			if (n > 0)
				break;		/* "1 hour", not "1 hour 0 s" */
			continue;
		}
		switch (i) {
		case 0:
			xasprintf(&part[n], ngettext("%lld day", "%lld days",
			    (unsigned long)v[i]), v[i]);
			break;
		case 1:
			xasprintf(&part[n], ngettext("%lld hour", "%lld hours",
			    (unsigned long)v[i]), v[i]);
			break;
		case 2:
			xasprintf(&part[n], ngettext("%lld minute",
			    "%lld minutes", (unsigned long)v[i]), v[i]);
			break;
		default:
			xasprintf(&part[n], ngettext("%lld second",
			    "%lld seconds", (unsigned long)v[i]), v[i]);
			break;
		}
		n++;
	}
	if (n == 0)
		xasprintf(&part[n++], ngettext("%lld second", "%lld seconds",
		    0UL), 0LL);
	if (n == 2)
		/* TRANSLATORS: two parts of a span of time, "1 hour 30
		 * minutes".  Chinese: "%1$s%2$s". */
		xasprintf(&out, _("%1$s %2$s"), part[0], part[1]);
	else
		out = xstrdup(part[0]);
	free(part[0]);
	free(part[1]);
	return out;
}

/* When an occurrence is, for a message: a task's due time; an all-day
 * item's date; an event's start. */
static char *
occ_when(struct cli *c, const struct dj_occurrence *o)
{
	char *d, *out;

	if (o->kind == DJ_KIND_TASK && o->has_due)
		return o->due_all_day ? cli_date(c, o->due) :
		    cli_datetime(c, o->due);
	if (o->all_day) {
		d = cli_date(c, o->start);
		xasprintf(&out, "%s %s", d, _("all day"));
		free(d);
		return out;
	}
	return cli_datetime(c, o->start);
}

/* A time of a message ("previous" start) as occ_when shows one. */
static char *
time_when(struct cli *c, const char *s)
{
	time_t t;
	int is_date = 0;

	if (s == NULL || proto_parse_time(s, c->zone, &t, &is_date) == -1)
		return clean(s != NULL ? s : "?");
	return is_date ? cli_date(c, t) : cli_datetime(c, t);
}

/* The meeting types' names, as the tables show them. */
static const char *const watch_meetings[DJ_MT_COUNT] = {
	NULL, N_("branch committee"), N_("member assembly"),
	N_("Party group meeting"), N_("Party lecture"), N_("theory study")
};

/* "[学习/支委会] 12月支委会 @三楼会议室"; without the category when asked. */
static char *
occ_what(struct cli *c, const struct dj_occurrence *o, int category)
{
	const char *sgr = c->color ? cli_category_sgr(o->category) : NULL;
	char *summary, *loc = NULL, *cat = NULL, *label, *out;

	summary = clean(o->summary != NULL ? o->summary : o->uid != NULL ?
	    o->uid : "?");
	if (category) {
		if (o->category == DJ_CAT_STUDY &&
		    o->meeting_type > DJ_MT_NONE &&
		    o->meeting_type < DJ_MT_COUNT)
			xasprintf(&label, "%s/%s",
			    cli_category_label(o->category),
			    _(watch_meetings[o->meeting_type]));
		else
			label = xstrdup(cli_category_label(o->category));
		if (sgr != NULL)
			xasprintf(&cat, "[\033[%sm%s\033[0m] ", sgr, label);
		else
			xasprintf(&cat, "[%s] ", label);
		free(label);
	}
	if (o->location != NULL && *o->location != '\0')
		loc = clean(o->location);
	xasprintf(&out, "%s%s%s%s", cat != NULL ? cat : "", summary,
	    loc != NULL ? " @" : "", loc != NULL ? loc : "");
	free(summary);
	free(loc);
	free(cat);
	return out;
}

/* A mark such as "[late]", coloured when the CLI uses colour. */
static char *
mark(struct cli *c, const char *sgr, const char *text)
{
	char *out;

	if (c->color)
		xasprintf(&out, "\033[%sm%s\033[0m", sgr, text);
	else
		out = xstrdup(text);
	return out;
}

/* How a reminder relates to its occurrence: "in 1 hour", "due in 10
 * minutes", "started 5 minutes ago", "overdue". */
static char *
reminder_when(struct cli *c, json_t *msg, const struct dj_occurrence *o)
{
	int task = o->kind == DJ_KIND_TASK && o->has_due;
	time_t base = task ? o->due : o->start;
	long long secs;
	char *span, *out;

	if (json_is_true(json_object_get(msg, "overdue")))
		return xstrdup(_("overdue"));
	/* On time, the lead says it; a late reminder says how it is now. */
	if (json_is_true(json_object_get(msg, "late")) ||
	    iso_duration(jstr(msg, "lead"), &secs) == -1)
		secs = (long long)(base - c->now);
	if (secs == 0)
		return xstrdup(task ? _("due now") : _("starting now"));
	span = span_text(secs);
	if (secs > 0)
		/* TRANSLATORS: when an item starts.  Chinese: "%s后". */
		xasprintf(&out, task ? _("due in %s") : _("in %s"), span);
	else
		/* TRANSLATORS: Chinese: "已逾期%s" and "已开始%s". */
		xasprintf(&out, task ? _("overdue by %s") : _("started %s ago"),
		    span);
	free(span);
	return out;
}

/* What a message says, as a line and as a notification. */
struct view {
	char	*line;
	char	*title;
	char	*body;
};

static void
view_free(struct view *v)
{
	free(v->line);
	free(v->title);
	free(v->body);
}

/* 0, or -1 (a message already printed) when the occurrence is unreadable. */
static int
read_occ(struct cli *c, json_t *msg, struct dj_occurrence *o)
{
	char *cause = NULL;

	memset(o, 0, sizeof *o);
	if (proto_occurrence_from_json(json_object_get(msg, "occurrence"),
	    c->zone, o, &cause) == -1) {
		cli_error(_("%s: message %lld: %s"), c->cmd, (long long)
		    json_integer_value(json_object_get(msg, "seq")), cause);
		free(cause);
		occ_clear(o);
		return -1;
	}
	return 0;
}

static int
view_reminder(struct cli *c, json_t *msg, struct view *v)
{
	int late = json_is_true(json_object_get(msg, "late"));
	int overdue = json_is_true(json_object_get(msg, "overdue"));
	struct dj_occurrence o;
	char *when, *what, *rel, *relm, *latem = NULL;

	if (read_occ(c, msg, &o) == -1)
		return -1;
	when = occ_when(c, &o);
	what = occ_what(c, &o, 1);
	rel = reminder_when(c, msg, &o);
	relm = overdue ? mark(c, "1;31", rel) : xstrdup(rel);
	if (late)
		/* TRANSLATORS: a reminder sent late (djcald was down or the
		 * machine asleep).  Chinese: "[迟到]". */
		latem = mark(c, "33", _("[late]"));
	xasprintf(&v->line, "%s %s — %s%s%s", when, what, relm,
	    late ? " " : "", late ? latem : "");
	free(what);
	/* The notification has no colour; view_of restores it. */
	c->color = 0;
	what = occ_what(c, &o, 1);
	v->title = clean(o.summary != NULL ? o.summary : o.uid);
	xasprintf(&v->body, "%s — %s%s%s\n%s", when, rel, late ? " " : "",
	    late ? _("[late]") : "", what);
	free(when);
	free(what);
	free(rel);
	free(relm);
	free(latem);
	occ_clear(&o);
	return 0;
}

static int
view_changed(struct cli *c, json_t *msg, struct view *v)
{
	json_t *prev = json_object_get(msg, "previous");
	struct dj_occurrence o;
	char *was, *now, *what, *moved;

	if (read_occ(c, msg, &o) == -1)
		return -1;
	was = time_when(c, jstr(prev, "start"));
	now = occ_when(c, &o);
	what = occ_what(c, &o, 1);
	/* TRANSLATORS: an occurrence whose reminder was sent has moved:
	 * old time, new time.  Chinese: "时间变更：%s → %s". */
	xasprintf(&moved, _("moved: %s → %s"), was, now);
	xasprintf(&v->line, "%s %s", moved, what);
	v->title = clean(o.summary != NULL ? o.summary : o.uid);
	v->body = xstrdup(moved);
	free(was);
	free(now);
	free(what);
	free(moved);
	occ_clear(&o);
	return 0;
}

static int
view_cancelled(struct cli *c, json_t *msg, struct view *v)
{
	const char *reason = jstr(msg, "reason");
	int removed = reason != NULL && strcmp(reason, "removed") == 0;
	struct dj_occurrence o;
	char *when, *what, *head;

	if (read_occ(c, msg, &o) == -1)
		return -1;
	when = occ_when(c, &o);
	what = occ_what(c, &o, 1);
	/* TRANSLATORS: Chinese: "已取消：%s". */
	xasprintf(&head, _("cancelled: %s"), when);
	xasprintf(&v->line, "%s %s%s", head, what, removed ?
	    /* TRANSLATORS: Chinese: "（已从日程源删除）". */
	    _(" (removed from its feed)") : "");
	v->title = clean(o.summary != NULL ? o.summary : o.uid);
	v->body = xstrdup(head);
	free(when);
	free(what);
	free(head);
	occ_clear(&o);
	return 0;
}

static int
view_warning(struct cli *c, json_t *msg, struct view *v)
{
	char *req = clean(jstr(msg, "requirement"));
	char *per = clean(jstr(msg, "period"));
	char *text;

	(void)c;
	/* TRANSLATORS: a required meeting (支委会) has nothing scheduled
	 * for a period (2027-01).  Chinese: "预警：%s %s 尚无安排". */
	xasprintf(&text, _("warning: %s %s has nothing scheduled"), req, per);
	v->line = mark(c, "1;33", text);
	v->title = xstrdup(_("djcal warning"));
	v->body = text;
	free(req);
	free(per);
	return 0;
}

/* The line and notification of a message; -1 when it cannot be read. */
static int
view_of(struct cli *c, json_t *msg, const char *type, struct view *v)
{
	int color = c->color, rc;

	memset(v, 0, sizeof *v);
	c->now = time(NULL);
	if (strcmp(type, "reminder") == 0)
		rc = view_reminder(c, msg, v);
	else if (strcmp(type, "changed") == 0)
		rc = view_changed(c, msg, v);
	else if (strcmp(type, "cancelled") == 0)
		rc = view_cancelled(c, msg, v);
	else if (strcmp(type, "warning") == 0)
		rc = view_warning(c, msg, v);
	else {
		char *t = clean(type);

		/* A newer djcald's message: say that it came. */
		xasprintf(&v->line, _("message of type %s (seq %lld)"), t,
		    (long long)json_integer_value(json_object_get(msg, "seq")));
		v->title = xstrdup("djcal");
		v->body = xstrdup(v->line);
		free(t);
		rc = 0;
	}
	c->color = color;
	if (rc == -1)
		view_free(v);
	return rc;
}

/* Commands */

/*
 * Split --exec's argument into words: blanks separate words; '...' keeps
 * everything literally; "..." keeps everything but \" and \\; outside
 * quotes a backslash keeps the next character.  Nothing is expanded.
 * NULL-terminated vector, caller frees each word and the vector; NULL
 * after a message.
 */
static char **
split_words(const char *s)
{
	char **v = NULL, *w;
	size_t n = 0, len;
	int have;

	w = xmalloc(strlen(s) + 1);
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (*s == '\0')
			break;
		len = 0;
		have = 0;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\n') {
			have = 1;
			if (*s == '\'') {
				for (s++; *s != '\0' && *s != '\''; s++)
					w[len++] = *s;
				if (*s != '\'')
					goto unterminated;
				s++;
			} else if (*s == '"') {
				for (s++; *s != '\0' && *s != '"'; s++) {
					if (*s == '\\' && (s[1] == '"' ||
					    s[1] == '\\'))
						s++;
					w[len++] = *s;
				}
				if (*s != '"')
					goto unterminated;
				s++;
			} else if (*s == '\\' && s[1] != '\0') {
				w[len++] = s[1];
				s += 2;
			} else
				w[len++] = *s++;
		}
		if (have) {
			v = xreallocarray(v, n + 2, sizeof *v);
			v[n++] = xstrndup(w, len);
			v[n] = NULL;
		}
	}
	free(w);
	if (n == 0)
		cli_error(_("--exec: no command given"));
	return v;
unterminated:
	free(w);
	while (n > 0)
		free(v[--n]);
	free(v);
	cli_error(_("--exec: a quote is not closed"));
	return NULL;
}

static void
words_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* The first executable name on PATH, or NULL.  Caller frees. */
static char *
path_find(const char *name)
{
	const char *path = getenv("PATH"), *p, *e;
	char *f;

	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = e + 1) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		xasprintf(&f, "%.*s%s%s", (int)(e - p), p, e > p ? "/" : "",
		    name);
		if (access(f, X_OK) == 0)
			return f;
		free(f);
		if (*e == '\0')
			return NULL;
	}
}

/* The DJCAL_* variables of a message. */
static const char *const env_names[] = {
	"DJCAL_TYPE", "DJCAL_SEQ", "DJCAL_DUE", "DJCAL_LEAD", "DJCAL_LATE",
	"DJCAL_OVERDUE", "DJCAL_UID", "DJCAL_SUMMARY", "DJCAL_START",
	"DJCAL_END", "DJCAL_ALL_DAY", "DJCAL_KIND", "DJCAL_LOCATION",
	"DJCAL_CATEGORY", "DJCAL_MEETING_TYPE", "DJCAL_FEED", "DJCAL_BRANCH",
	"DJCAL_STATUS", "DJCAL_REASON", "DJCAL_PREVIOUS_START",
	"DJCAL_PREVIOUS_END", "DJCAL_REQUIREMENT", "DJCAL_PERIOD",
	"DJCAL_BEGINS", "DJCAL_JSON"
};
#define NENV	(sizeof env_names / sizeof env_names[0])

/* A JSON value as an environment value: strings as they are, integers in
 * decimal, true "1", false "0", null or absent "". */
static char *
env_value(json_t *v)
{
	char *s;

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v)) {
		xasprintf(&s, "%lld", (long long)json_integer_value(v));
		return s;
	}
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "1" : "0");
	return xstrdup("");
}

/*
 * The environment for --exec: ours without any DJCAL_* name of the list,
 * then the message's.  Feed text travels only here, never in argv.
 * Caller frees with words_free.
 */
static char **
exec_env(json_t *msg, const char *line)
{
	json_t *occ = json_object_get(msg, "occurrence");
	json_t *prev = json_object_get(msg, "previous");
	json_t *val[NENV];
	char **env, **e, *s;
	size_t n = 0, i, k;

	for (e = environ; *e != NULL; e++)
		n++;
	env = xcalloc(n + NENV + 1, sizeof *env);
	n = 0;
	for (e = environ; *e != NULL; e++) {
		for (k = 0; k < NENV; k++) {
			size_t l = strlen(env_names[k]);

			if (strncmp(*e, env_names[k], l) == 0 &&
			    (*e)[l] == '=')
				break;
		}
		if (k == NENV)
			env[n++] = xstrdup(*e);
	}
	val[0] = json_object_get(msg, "type");
	val[1] = json_object_get(msg, "seq");
	val[2] = json_object_get(msg, "due");
	val[3] = json_object_get(msg, "lead");
	val[4] = json_object_get(msg, "late");
	val[5] = json_object_get(msg, "overdue");
	val[6] = json_object_get(occ, "uid");
	val[7] = json_object_get(occ, "summary");
	val[8] = json_object_get(occ, "start");
	val[9] = json_object_get(occ, "end");
	val[10] = json_object_get(occ, "all_day");
	val[11] = json_object_get(occ, "kind");
	val[12] = json_object_get(occ, "location");
	val[13] = occ != NULL ? json_object_get(occ, "category") :
	    json_object_get(msg, "category");
	val[14] = json_object_get(occ, "meeting_type");
	val[15] = json_object_get(occ, "feed");
	val[16] = json_object_get(occ, "branch");
	val[17] = json_object_get(occ, "status");
	val[18] = json_object_get(msg, "reason");
	val[19] = json_object_get(prev, "start");
	val[20] = json_object_get(prev, "end");
	val[21] = json_object_get(msg, "requirement");
	val[22] = json_object_get(msg, "period");
	val[23] = json_object_get(msg, "begins");
	/* A reminder is either overdue or not. */
	if (val[5] == NULL && json_is_string(val[0]) &&
	    strcmp(json_string_value(val[0]), "reminder") == 0)
		val[5] = json_false();
	for (i = 0; i < NENV - 1; i++) {
		s = env_value(val[i]);
		xasprintf(&env[n++], "%s=%s", env_names[i], s);
		free(s);
	}
	xasprintf(&env[n++], "DJCAL_JSON=%s", line);
	env[n] = NULL;
	return env;
}

/*
 * Run a command and wait for it (so messages are handled in order), at
 * most timeout seconds: then SIGTERM, and SIGKILL WATCH_KILL_GRACE later.
 * A stop request (SIGINT, SIGTERM) ends it the same way.  Its failure is
 * reported on stderr; the watch goes on either way.
 */
static void
run_command(struct cli *c, const char *what, char *const argv[],
    char *const envp[], long long timeout, long long seq)
{
	long long deadline, now;
	int status, fd, killed = 0, timed_out = 0;
	pid_t pid, r;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		cli_error(_("%s: cannot run %s: %s"), c->cmd, argv[0],
		    strerror(errno));
		return;
	}
	if (pid == 0) {
		struct sigaction sa;

		/* Its own process group, so a timeout stops what it
		 * started too. */
		setpgid(0, 0);
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, STDIN_FILENO);
			if (fd != STDIN_FILENO)
				close(fd);
		}
		execvpe(argv[0], argv, envp);
		cli_error(_("%s: cannot run %s: %s"), what, argv[0],
		    strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	deadline = cli_now_ms() + timeout * 1000;
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r == -1 && errno != EINTR))
			break;
		now = cli_now_ms();
		if ((watch_stop || now >= deadline) && killed < 2) {
			if (now >= deadline && !watch_stop)
				timed_out = 1;
			/* First SIGTERM; SIGKILL if that is not enough. */
			kill(-pid, killed == 0 ? SIGTERM : SIGKILL);
			kill(pid, killed == 0 ? SIGTERM : SIGKILL);
			killed++;
			deadline = now + WATCH_KILL_GRACE * 1000;
			continue;
		}
		wait_for(-1, deadline - now);
	}
	if (r == -1)
		return;
	if (timed_out)
		cli_error(_("%s: %s took longer than %lld s and was stopped "
		    "(message %lld)"), what, argv[0], timeout, seq);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		cli_error(_("%s: %s failed with exit status %d (message %lld)"),
		    what, argv[0], WEXITSTATUS(status), seq);
	else if (WIFSIGNALED(status) && !killed)
		cli_error(_("%s: %s was killed by signal %d (message %lld)"),
		    what, argv[0], WTERMSIG(status), seq);
}

/* The state file */

/* FNV-1a, 64 bits: names a state file after what it is the state of. */
static uint64_t
fnv1a(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
mkdir_p(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * The state file: $XDG_STATE_HOME/djcal (default ~/.local/state/djcal),
 * watch-HASH.seq, HASH naming the socket (its real path) and the filters,
 * so watches of different daemons or different filters keep their own
 * place.  NULL (with a message) when there is no home.
 */
static char *
state_path(struct watch *w)
{
	const char *base = getenv("XDG_STATE_HOME"), *home;
	const char *names[WATCH_MAX_NAMES];
	char *dir, *path, *real;
	struct passwd *pw;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	if (base != NULL && base[0] == '/')
		dir = xstrdup(base);
	else {
		home = getenv("HOME");
		if ((home == NULL || *home == '\0') &&
		    (pw = getpwuid(getuid())) != NULL)
			home = pw->pw_dir;
		if (home == NULL || *home == '\0') {
			cli_error(_("%s: no home directory: the place in the "
			    "stream is not remembered"), w->c->cmd);
			return NULL;
		}
		xasprintf(&dir, "%s/.local/state", home);
	}
	real = realpath(w->c->socket_path, NULL);
	h = fnv1a(h, "socket", 7);
	h = fnv1a(h, real != NULL ? real : w->c->socket_path,
	    strlen(real != NULL ? real : w->c->socket_path) + 1);
	free(real);
	h = fnv1a(h, &w->cats, sizeof w->cats);
	memcpy(names, w->branches, w->nbranches * sizeof *names);
	qsort(names, w->nbranches, sizeof *names, cmp_names);
	h = fnv1a(h, "branch", 7);
	for (i = 0; i < w->nbranches; i++)
		h = fnv1a(h, names[i], strlen(names[i]) + 1);
	memcpy(names, w->feeds, w->nfeeds * sizeof *names);
	qsort(names, w->nfeeds, sizeof *names, cmp_names);
	h = fnv1a(h, "feed", 5);
	for (i = 0; i < w->nfeeds; i++)
		h = fnv1a(h, names[i], strlen(names[i]) + 1);
	xasprintf(&path, "%s/djcal/watch-%016llx.seq", dir,
	    (unsigned long long)h);
	free(dir);
	return path;
}

/* The saved seq: 1 with *seq, 0 when there is none. */
static int
state_load(struct watch *w, int64_t *seq)
{
	char buf[64], *end;
	long long v;
	FILE *f;

	if (w->state == NULL || (f = fopen(w->state, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof buf, f) == NULL) {
		fclose(f);
		return 0;
	}
	fclose(f);
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    v < 0) {
		cli_error(_("%s: %s is not a seq; starting from now"),
		    w->c->cmd, w->state);
		return 0;
	}
	*seq = v;
	return 1;
}

/* Write the seq to a temporary file and rename it over the state file, so
 * a crash leaves the old seq or the new one, never half of one. */
static void
state_save(struct watch *w)
{
	char *tmp, *dir, *slash;
	FILE *f;
	int ok;

	if (w->state == NULL)
		return;
	xasprintf(&tmp, "%s.%ld.tmp", w->state, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL && errno == ENOENT) {
		dir = xstrdup(w->state);
		if ((slash = strrchr(dir, '/')) != NULL) {
			*slash = '\0';
			mkdir_p(dir);
		}
		free(dir);
		f = fopen(tmp, "w");
	}
	ok = f != NULL;
	if (ok) {
		fprintf(f, "%lld\n", (long long)w->seq);
		ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
		ok = fclose(f) == 0 && ok;
	}
	if (ok && rename(tmp, w->state) == -1)
		ok = 0;
	if (!ok) {
		if (!w->state_warned)
			cli_error(_("%s: cannot save the place in the stream "
			    "to %s: %s"), w->c->cmd, w->state,
			    strerror(errno));
		w->state_warned = 1;
		unlink(tmp);
	} else
		w->state_warned = 0;
	free(tmp);
}

/* One message */

static void
notify(struct watch *w, const struct view *v, long long seq)
{
	char *title, *body;
	char *argv[6];

	if (w->notify_path == NULL)
		return;
	title = xstrdup(v->title != NULL ? v->title : "djcal");
	body = xstrdup(v->body != NULL ? v->body : "");
	argv[0] = w->notify_path;
	argv[1] = "--app-name=djcal";
	/* "--": a summary that starts with '-' is not an option. */
	argv[2] = "--";
	argv[3] = title;
	argv[4] = body;
	argv[5] = NULL;
	run_command(w->c, "--notify", argv, environ, WATCH_NOTIFY_TIMEOUT,
	    seq);
	free(title);
	free(body);
}

/* Handle one pushed line: print it, run --exec, notify, remember it. */
static void
handle_line(struct watch *w, const char *line)
{
	struct cli *c = w->c;
	json_error_t jerr;
	json_t *msg, *jseq;
	const char *type;
	struct view v;
	int64_t seq;
	char **env;

	msg = json_loads(line, 0, &jerr);
	if (!json_is_object(msg)) {
		cli_error(_("%s: not a message: %s"), c->cmd, jerr.text);
		json_decref(msg);
		return;
	}
	/* A reply (there should be none after subscribing) is no message. */
	jseq = json_object_get(msg, "seq");
	type = jstr(msg, "type");
	if (json_object_get(msg, "ok") != NULL || type == NULL ||
	    !json_is_integer(jseq)) {
		json_decref(msg);
		return;
	}
	seq = json_integer_value(jseq);
	if (w->has_seq && seq <= w->seq) {
		json_decref(msg);
		return;			/* seen already */
	}
	memset(&v, 0, sizeof v);
	if (c->json) {
		fputs(line, stdout);
		fputc('\n', stdout);
	}
	if (view_of(c, msg, type, &v) == 0 && !c->json)
		printf("%s\n", v.line);
	fflush(stdout);
	if (w->exec_argv != NULL) {
		env = exec_env(msg, line);
		run_command(c, "--exec", w->exec_argv, env, w->exec_timeout,
		    seq);
		words_free(env);
	}
	if (w->notify && v.line != NULL)
		notify(w, &v, seq);
	view_free(&v);
	json_decref(msg);
	w->seq = seq;
	w->has_seq = 1;
	state_save(w);
}

/* The connection */

/* Whether something accepts connections on the socket, asked quietly. */
static int
socket_answers(const char *path)
{
	struct sockaddr_un sa;
	int fd, ok;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path)
		return 1;		/* client_open says why */
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

/*
 * Subscribe on an open client and take its connection over.  CLI_OK;
 * CLI_FAIL after a message; -2 when djcald's stream is behind our seq (a
 * new database): the caller reconnects from djcald's latest seq.
 */
static int
subscribe(struct watch *w, struct client *cl)
{
	struct cli *c = w->c;
	json_t *req, *reply, *a;
	int64_t latest;
	size_t i;
	int rc;

	req = cli_filter_request("subscribe", w->cats, NULL, NULL);
	if (w->nbranches > 0) {
		a = json_array();
		for (i = 0; i < w->nbranches; i++)
			json_array_append_new(a, json_string(w->branches[i]));
		json_object_set_new(req, "branch", a);
	}
	if (w->nfeeds > 0) {
		a = json_array();
		for (i = 0; i < w->nfeeds; i++)
			json_array_append_new(a, json_string(w->feeds[i]));
		json_object_set_new(req, "feed", a);
	}
	if (w->has_seq)
		json_object_set_new(req, "since", json_integer(w->seq));
	rc = client_call(c, cl, req, WATCH_SUBSCRIBE_MS, &reply);
	json_decref(req);
	if (rc != CLI_OK) {
		client_close(cl);
		return rc;
	}
	latest = json_integer_value(json_object_get(reply, "seq"));
	json_decref(reply);
	if (w->has_seq && latest < w->seq) {
		/* djcald would skip everything up to our seq. */
		cli_error(_("%s: djcald's messages end at seq %lld, before "
		    "%lld (a new database?): following from %lld"), c->cmd,
		    (long long)latest, (long long)w->seq, (long long)latest);
		w->seq = latest;
		state_save(w);
		client_close(cl);
		return -2;
	}
	if (!w->has_seq) {
		w->seq = latest;
		w->has_seq = 1;
		state_save(w);
	}
	free(w->buf);
	w->fd = client_release(cl, &w->buf, &w->len);
	w->cap = w->len;
	return CLI_OK;
}

/*
 * Read and handle messages until the connection ends (0) or a stop is
 * asked for (1).
 */
static int
follow(struct watch *w)
{
	size_t scanned = 0;
	char *nl;
	ssize_t n;

	for (;;) {
		while (!watch_stop && w->len > scanned && (nl = memchr(w->buf +
		    scanned, '\n', w->len - scanned)) != NULL) {
			size_t ll = (size_t)(nl - w->buf);

			*nl = '\0';
			if (ll > 0 && w->buf[ll - 1] == '\r')
				w->buf[ll - 1] = '\0';
			handle_line(w, w->buf);
			memmove(w->buf, nl + 1, w->len - ll - 1);
			w->len -= ll + 1;
			scanned = 0;
		}
		if (watch_stop)
			return 1;
		scanned = w->len;
		if (w->len >= WATCH_MAX_LINE) {
			cli_error(_("%s: a message longer than %zu bytes; "
			    "reconnecting"), w->c->cmd, WATCH_MAX_LINE);
			return 0;
		}
		if (w->cap - w->len < 65536) {
			w->cap = w->cap < 131072 ? 131072 : w->cap * 2;
			w->buf = xrealloc(w->buf, w->cap);
		}
		if (!wait_for(w->fd, -1))
			continue;
		n = read(w->fd, w->buf + w->len, w->cap - w->len);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0;
		w->len += (size_t)n;
	}
}

static void
disconnect(struct watch *w)
{
	if (w->fd != -1)
		close(w->fd);
	w->fd = -1;
	w->len = 0;
}

/*
 * Connect again after a loss, with back-off, and subscribe from the last
 * seq.  CLI_OK, or 1 when a stop was asked for meanwhile.
 */
static int
reconnect(struct watch *w)
{
	struct cli *c = w->c;
	long long delay = WATCH_RETRY_MIN, until;
	struct client *cl;
	int rc;

	for (;;) {
		if (watch_stop)
			return 1;
		if (socket_answers(c->socket_path) &&
		    (cl = client_open(c)) != NULL) {
			if ((rc = subscribe(w, cl)) == CLI_OK)
				return CLI_OK;
			if (rc == -2)
				continue;
		}
		until = cli_now_ms() + delay;
		while (!watch_stop && cli_now_ms() < until)
			wait_for(-1, until - cli_now_ms());
		delay = delay * 2 > WATCH_RETRY_MAX ? WATCH_RETRY_MAX :
		    delay * 2;
	}
}

static int
parse_args(struct watch *w, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "category", required_argument, NULL, 'c' },
		{ "branch", required_argument, NULL, 'b' },
		{ "feed", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ "exec", required_argument, NULL, 'e' },
		{ "exec-timeout", required_argument, NULL, 't' },
		{ "notify", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli *c = w->c;
	long long v;
	int ch, cat;

	while ((ch = cli_getopt(c, argc, argv, "c:b:f:s:e:t:n",
	    longopts)) != -1) {
		switch (ch) {
		case 'c':
			if ((cat = cli_category_arg(optarg)) == -1)
				return -1;
			w->cats |= 1u << cat;
			break;
		case 'b':
		case 'f':
			if ((ch == 'b' ? w->nbranches : w->nfeeds) ==
			    WATCH_MAX_NAMES) {
				cli_error(_("%s: at most %d of --%s"), c->cmd,
				    WATCH_MAX_NAMES, ch == 'b' ? "branch" :
				    "feed");
				return -1;
			}
			if (ch == 'b')
				w->branches[w->nbranches++] = optarg;
			else
				w->feeds[w->nfeeds++] = optarg;
			break;
		case 's':
			if (cli_number_arg("--since", optarg, INT64_MAX,
			    &v) == -1)
				return -1;
			w->seq = v;
			w->has_seq = 1;
			break;
		case 'e':
			words_free(w->exec_argv);
			if ((w->exec_argv = split_words(optarg)) == NULL)
				return -1;
			break;
		case 't':
			if (cli_number_arg("--exec-timeout", optarg, 86400,
			    &w->exec_timeout) == -1)
				return -1;
			if (w->exec_timeout == 0) {
				cli_error(_("--exec-timeout: at least one "
				    "second"));
				return -1;
			}
			break;
		case 'n':
			w->notify = 1;
			break;
		default:
			return -1;
		}
	}
	if (cli_operands_max(c, argc, argv, 0) == -1)
		return -1;
	return 0;
}

int
cmd_watch(struct cli *c, int argc, char **argv)
{
	struct watch w;
	int rc, given;

	memset(&w, 0, sizeof w);
	w.c = c;
	w.fd = -1;
	w.exec_timeout = WATCH_EXEC_TIMEOUT;
	if (parse_args(&w, argc, argv) == -1) {
		words_free(w.exec_argv);
		return cli_usage(c->cmd);
	}
	given = w.has_seq;
	if ((rc = cli_connect(c)) != CLI_OK) {
		words_free(w.exec_argv);
		return rc;
	}
	if (w.notify && (w.notify_path = path_find("notify-send")) == NULL)
		cli_error(_("%s: notify-send is not installed (Debian: "
		    "libnotify-bin): no desktop notifications"), c->cmd);
	w.state = state_path(&w);
	if (!given)
		w.has_seq = state_load(&w, &w.seq);
	if (signals_setup() == -1) {
		rc = CLI_FAIL;
		goto out;
	}
	rc = subscribe(&w, c->client);
	c->client = NULL;
	if (rc == -2)
		rc = reconnect(&w) == 1 ? CLI_OK : CLI_FAIL;
	if (rc != CLI_OK)
		goto out;
	while (follow(&w) == 0) {
		disconnect(&w);
		cli_error(_("%s: lost the connection to djcald; "
		    "reconnecting"), c->cmd);
		if (reconnect(&w) == 1)
			break;
		cli_error(_("%s: reconnected; going on after message %lld"),
		    c->cmd, (long long)w.seq);
	}
	rc = CLI_OK;
out:
	disconnect(&w);
	free(w.buf);
	free(w.state);
	free(w.notify_path);
	words_free(w.exec_argv);
	return rc;
}
