/*
 * Reminders: leads from VALARMs and the config, the outbox, one timer.
 *
 * Nothing is precomputed per reminder.  A checkpoint (meta
 * "remind_checkpoint") says up to which instant every due reminder has been
 * dealt with; a run takes the occurrences around (checkpoint, now], works
 * out each one's due times from its current data, and records and pushes
 * those in that interval which were not recorded before.  So an occurrence
 * moved or cancelled before its reminder is simply not found at the old
 * time, and a restart finds exactly what fell due while the daemon was
 * down.
 *
 * The timer is a timerfd on CLOCK_REALTIME armed with an absolute time:
 * reminders are wall-clock events, and the monotonic clock libevent uses
 * stops while a laptop sleeps.  With TFD_TIMER_CANCEL_ON_SET the kernel
 * also wakes us when the clock is set, so nothing needs to poll.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <jansson.h>

#include "djcal/branch.h"
#include "djcal/classify.h"
#include "djcal/log.h"
#include "djcal/proto.h"
#include "djcal/query.h"
#include "djcal/remind.h"
#include "djcal/xmalloc.h"

#define REMIND_META_CHECKPOINT	"remind_checkpoint"
/* A run catches up at most this far beyond late_grace (recording what it
 * skips); older reminders are neither sent nor recorded. */
#define REMIND_CATCHUP		(7 * 86400)
/* Retry a run that could not write the outbox after this long. */
#define REMIND_RETRY		60

struct remind {
	struct event_base	*base;
	const struct config	*cfg;
	struct remind_env	 env;
	int			 tfd;
	struct event		*ev;
	time_t			 armed;		/* 0: not armed */
	/* How far before its start (or end) any lead reaches, and how far
	 * after; from the config and every stored VALARM. */
	int64_t			 max_before, max_after;
	int			 leads_known;
	/* When the compliance warnings must be looked at again: the next
	 * period entering its warning window (0: at the next run). */
	time_t			 warn_next;
	int			 warn_waiting;	/* a feed was never fetched */
	time_t			 started;	/* reminders due before this
						   were missed while down */
};

/* One reminder of one occurrence. */
struct due {
	time_t		 due;
	char		 lead[32];
	int		 overdue;
};

/* Small helpers */

static time_t
remind_now(struct remind *r)
{
	return r->env.now != NULL ? r->env.now(r->env.arg) : time(NULL);
}

void
remind_iso_duration(long long secs, char *buf, size_t len)
{
	long long a = secs < 0 ? -secs : secs, d, h, m, s;
	size_t o = 0;

	if (a == 0) {
		snprintf(buf, len, "PT0S");
		return;
	}
	if (a % (7 * 86400) == 0) {
		snprintf(buf, len, "%sP%lldW", secs < 0 ? "-" : "",
		    a / (7 * 86400));
		return;
	}
	d = a / 86400;
	h = a % 86400 / 3600;
	m = a % 3600 / 60;
	s = a % 60;
	o += (size_t)snprintf(buf + o, len - o, "%sP", secs < 0 ? "-" : "");
	if (d > 0 && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%lldD", d);
	if ((h > 0 || m > 0 || s > 0) && o < len) {
		o += (size_t)snprintf(buf + o, len - o, "T");
		if (h > 0 && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%lldH", h);
		if (m > 0 && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%lldM", m);
		if (s > 0 && o < len)
			snprintf(buf + o, len - o, "%lldS", s);
	}
}

static int
occ_cancelled(const struct dj_occurrence *o)
{
	return o->status != NULL && strcasecmp(o->status, "CANCELLED") == 0;
}

/* The store's key of an occurrence for reminders. */
static void
occ_key(const struct dj_occurrence *o, struct store_okey *k)
{
	k->feed = o->feed;
	k->uid = o->uid;
	k->okey = o->has_rid ? (int64_t)o->rid : 0;
}

/* Leads */

/* Add a due time unless it is there already. */
static void
due_add(struct due *v, size_t *n, size_t max, time_t due, time_t base,
    int overdue)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (v[i].due == due && v[i].overdue == overdue)
			return;
	if (*n == max)
		return;
	v[*n].due = due;
	v[*n].overdue = overdue;
	if (overdue)
		snprintf(v[*n].lead, sizeof v[*n].lead, "overdue");
	else
		remind_iso_duration((long long)(base - due), v[*n].lead,
		    sizeof v[*n].lead);
	(*n)++;
}

/*
 * Every reminder of an occurrence: the config's leads (the feed's, else its
 * category's, else the daemon's) before its start (a task: before its DUE,
 * and once more at DUE when it is still open), and its VALARMs.
 */
static size_t
occ_dues(const struct config *cfg, const struct dj_occurrence *o,
    struct due *v, size_t max)
{
	const struct config_feed *cf;
	const struct dj_leads *leads;
	const char *p;
	time_t base;
	size_t n = 0;
	int i;

	if (occ_cancelled(o))
		return 0;
	if (o->kind == DJ_KIND_TASK && query_task_done(o))
		return 0;
	base = o->kind == DJ_KIND_TASK && o->has_due ? o->due : o->start;
	cf = o->feed != NULL ? config_feed_find(cfg, o->feed) : NULL;
	leads = config_leads(cfg, cf, o->category);
	for (i = 0; leads != NULL && i < leads->n; i++)
		due_add(v, &n, max, base - leads->v[i], base, 0);
	if (o->kind == DJ_KIND_TASK && o->has_due)
		due_add(v, &n, max, o->due, base, 1);
	for (p = o->alarms; p != NULL && *p != '\0';) {
		char kind = *p++, *end;
		long long x = strtoll(p, &end, 10);
		time_t due;

		if (end == p)
			break;
		p = *end == ',' ? end + 1 : end;
		if (kind == 'S')
			due = o->start + x;
		else if (kind == 'E')
			due = o->end + x;
		else if (kind == 'A')
			due = (time_t)x;
		else
			continue;
		if (base - due > REMIND_MAX_LEAD || due - o->end >
		    REMIND_MAX_LEAD)
			continue;
		due_add(v, &n, max, due, base, 0);
	}
	return n;
}

/*
 * How far leads reach: the config's leads and every stored VALARM (read
 * once per change of feeds or config, not per run).
 */
static void
compute_reach(struct remind *r)
{
	const struct config *cfg = r->cfg;
	int64_t before = 0, after = 0;
	size_t i, c;
	int k;

	for (k = 0; k < cfg->reminders.n; k++)
		before = cfg->reminders.v[k] > before ? cfg->reminders.v[k] :
		    before;
	for (c = 0; c < DJ_CAT_COUNT; c++)
		for (k = 0; k < cfg->categories[c].reminders.n; k++)
			if (cfg->categories[c].reminders.v[k] > before)
				before = cfg->categories[c].reminders.v[k];
	for (i = 0; i < cfg->nfeeds; i++)
		for (k = 0; k < cfg->feeds[i].reminders.n; k++)
			if (cfg->feeds[i].reminders.v[k] > before)
				before = cfg->feeds[i].reminders.v[k];
	/* Negative leads (after the start) reach forward. */
	if (-before > after)
		after = -before;
	if (store_alarm_reach(r->env.store, &before, &after) == -1)
		before = after = REMIND_MAX_LEAD;
	r->max_before = before > REMIND_MAX_LEAD ? REMIND_MAX_LEAD : before;
	r->max_after = after > REMIND_MAX_LEAD ? REMIND_MAX_LEAD : after;
	r->leads_known = 1;
}

/* Candidates */

struct cand {
	struct due	 d;
	size_t		 occ;		/* index into the list */
};

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->d.due != y->d.due)
		return x->d.due < y->d.due ? -1 : 1;
	return x->occ < y->occ ? -1 : x->occ > y->occ;
}

/* The occurrences whose reminders may fall due in (lo, hi]. */
static int
load_window(struct remind *r, time_t lo, time_t hi, struct dj_occ_list *l)
{
	struct store_filter f;
	char *cause = NULL;

	if (!r->leads_known)
		compute_reach(r);
	memset(&f, 0, sizeof f);
	f.from = lo - r->max_after - 1;
	f.to = hi + r->max_before + 1;
	memset(l, 0, sizeof *l);
	if (query_upcoming(r->env.store, &f, l, &cause) == -1) {
		log_warnx("reminders: %s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Every (occurrence, due) with due in (lo, hi], sorted by due. */
static size_t
collect(struct remind *r, const struct dj_occ_list *l, time_t lo, time_t hi,
    struct cand **out)
{
	struct cand *v = NULL;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < l->n; i++) {
		struct due d[DJ_MAX_LEADS * 2 + 8];
		size_t nd = occ_dues(r->cfg, &l->v[i], d,
		    sizeof d / sizeof d[0]);

		for (j = 0; j < nd; j++) {
			if (d[j].due <= lo || d[j].due > hi)
				continue;
			if (n == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				v = xreallocarray(v, cap, sizeof *v);
			}
			v[n].d = d[j];
			v[n].occ = i;
			n++;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof *v, cand_cmp);
	*out = v;
	return n;
}

/* Messages */

/* The message's JSON text.  Caller frees. */
static char *
msg_text(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	return s != NULL ? s : xstrdup("{}");
}

struct pending {
	struct store_msg	*v;
	char			**bodies;
	size_t			 n;
};

static void
pending_add(struct pending *p, int64_t seq, const char *type, time_t now,
    const struct dj_occurrence *o, char *body)
{
	struct store_msg *m;

	p->v = xreallocarray(p->v, p->n + 1, sizeof *p->v);
	p->bodies = xreallocarray(p->bodies, p->n + 1, sizeof *p->bodies);
	m = &p->v[p->n];
	memset(m, 0, sizeof *m);
	m->seq = seq;
	m->type = type;
	m->created = now;
	m->feed = o != NULL ? xstrdup0(o->feed) : NULL;
	m->branch = o != NULL ? xstrdup0(o->branch) : NULL;
	m->category = o != NULL ? (int)o->category : -1;
	m->body = body;
	p->bodies[p->n] = body;
	p->n++;
}

static void
pending_deliver(struct remind *r, struct pending *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (r->env.deliver != NULL)
			r->env.deliver(r->env.arg, &p->v[i]);
		free((char *)p->v[i].feed);
		free((char *)p->v[i].branch);
		free(p->bodies[i]);
	}
	free(p->v);
	free(p->bodies);
	memset(p, 0, sizeof *p);
}

/*
 * Record a message of the given type in the open transaction: reserve its
 * seq, then store its body (which names the seq).  The body is built by the
 * caller with "seq" set to the value this returns through *seq.
 */
static int
record_msg(struct remind *r, const char *type, time_t now,
    const struct dj_occurrence *o, json_t *j, struct pending *p)
{
	int64_t seq;
	char *body;

	if (store_msg_add(r->env.store, type, now, o != NULL ? o->feed : NULL,
	    o != NULL ? o->branch : NULL, o != NULL ? (int)o->category : -1,
	    &seq) == -1)
		return -1;
	json_object_set_new(j, "seq", json_integer(seq));
	body = msg_text(j);
	if (store_msg_set_body(r->env.store, seq, body) == -1) {
		free(body);
		return -1;
	}
	pending_add(p, seq, type, now, o, body);
	return 0;
}

static json_t *
reminder_json(const struct cand *c, const struct dj_occurrence *o, int late,
    const struct tz *z)
{
	json_t *j = json_object();
	char *due = proto_format_time(c->d.due, 0, z);

	json_object_set_new(j, "type", json_string("reminder"));
	json_object_set_new(j, "seq", json_integer(0));
	json_object_set_new(j, "due", json_string(due));
	json_object_set_new(j, "lead", json_string(c->d.overdue ? "PT0S" :
	    c->d.lead));
	json_object_set_new(j, "late", json_boolean(late));
	if (c->d.overdue)
		json_object_set_new(j, "overdue", json_true());
	json_object_set_new(j, "occurrence", proto_occurrence_json(o, z));
	free(due);
	return j;
}

/* The run */

static int
get_checkpoint(struct remind *r, time_t *c)
{
	char *v = store_meta_get(r->env.store, REMIND_META_CHECKPOINT);

	if (v == NULL)
		return 1;
	*c = (time_t)strtoll(v, NULL, 10);
	free(v);
	return 0;
}

static int
set_checkpoint(struct remind *r, time_t c)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%lld", (long long)c);
	return store_meta_set(r->env.store, REMIND_META_CHECKPOINT, buf);
}

static void remind_arm(struct remind *, time_t now);

/* Compliance warnings (issue 7) */

struct warn_run {
	struct remind	*r;
	time_t		 now;
	const struct tz	*z;
	struct pending	*p;
	int		 failed;
};

static int
warn_cb(const struct config_requirement *req, const struct branch_period *per,
    void *arg)
{
	struct warn_run *w = arg;
	struct remind *r = w->r;
	struct dj_occurrence o;
	struct store_okey k;
	json_t *j;
	char *begins;
	int done;

	branch_warning_key(req, per, &k);
	if ((done = store_reminder_done(r->env.store, &k, "warning",
	    per->start)) != 0) {
		if (done == -1)
			w->failed = 1;
		return 0;
	}
	j = json_object();
	begins = proto_format_time(per->start, 1, w->z);
	json_object_set_new(j, "type", json_string("warning"));
	json_object_set_new(j, "seq", json_integer(0));
	json_object_set_new(j, "requirement", json_string(req->name));
	json_object_set_new(j, "category", req->category >= 0 ?
	    json_string(classify_category_name(
	    (enum dj_category)req->category)) : json_null());
	json_object_set_new(j, "period", json_string(per->label));
	json_object_set_new(j, "begins", json_string(begins));
	json_object_set_new(j, "scheduled", json_integer(0));
	free(begins);
	/* Filters see the requirement's category; no feed, no branch. */
	memset(&o, 0, sizeof o);
	o.category = req->category >= 0 ? (enum dj_category)req->category :
	    DJ_CAT_OTHER;
	if (record_msg(r, "warning", w->now, &o, j, w->p) == -1 ||
	    store_reminder_put(r->env.store, &k, "warning", per->start,
	    STORE_REMINDER_SENT, w->p->v[w->p->n - 1].seq, per->start,
	    per->end) == -1)
		w->failed = 1;
	else
		log_info("warning: %s has nothing scheduled for %s",
		    req->name, per->label);
	json_decref(j);
	return 0;
}

static int
all_fetched(struct remind *r)
{
	struct store_feed *f;
	size_t n, i;
	int all = 1;

	if (store_feed_list(r->env.store, &f, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (f[i].last_fetch == 0)
			all = 0;
	store_feed_list_free(f, n);
	return all;
}

/*
 * Look at the required meetings when a period has entered its warning
 * window since the last look (or the feeds changed): the evaluation reads
 * two years of occurrences, so it is not done on every reminder.
 */
static int
record_warnings(struct remind *r, time_t now, const struct tz *z,
    struct pending *p)
{
	struct warn_run w;

	if (r->cfg->nrequirements == 0 || (r->warn_next != 0 &&
	    now < r->warn_next))
		return 0;
	/*
	 * Not before every feed has been fetched once: at start-up the study
	 * feed may be in while the party-day feed, with December's 主题党日,
	 * is not yet, and a warning is given once per period.
	 */
	if (!all_fetched(r)) {
		r->warn_waiting = 1;
		return 0;
	}
	r->warn_waiting = 0;
	memset(&w, 0, sizeof w);
	w.r = r;
	w.now = now;
	w.z = z;
	w.p = p;
	r->warn_next = branch_warnings(r->env.store, r->cfg, now, warn_cb, &w);
	if (r->warn_next == 0)
		r->warn_next = now + 365 * 86400;
	return w.failed ? -1 : 0;
}

/* Record one candidate: sent (a message) or skipped. */
static int
record_cand(struct remind *r, const struct cand *c,
    const struct dj_occurrence *o, time_t now, const struct tz *z,
    struct pending *p, size_t *sent, size_t *skipped)
{
	struct store_okey k;
	json_t *j;
	int done, rc;

	occ_key(o, &k);
	if ((done = store_reminder_done(r->env.store, &k, c->d.lead,
	    c->d.due)) != 0)
		return done == 1 ? 0 : -1;
	if (now - c->d.due > r->cfg->late_grace) {
		(*skipped)++;
		log_info("reminder skipped (%lld s late, beyond late_grace): "
		    "%s %s", (long long)(now - c->d.due), o->feed,
		    o->summary != NULL ? o->summary : o->uid);
		return store_reminder_put(r->env.store, &k, c->d.lead,
		    c->d.due, STORE_REMINDER_SKIPPED, 0, o->start, o->end);
	}
	/* Late: fired well after its time (a suspended machine), or due
	 * before this daemon started (it was down). */
	j = reminder_json(c, o, now - c->d.due > REMIND_LATE_SLACK ||
	    c->d.due < r->started, z);
	rc = record_msg(r, "reminder", now, o, j, p);
	json_decref(j);
	if (rc == -1)
		return -1;
	(*sent)++;
	return store_reminder_put(r->env.store, &k, c->d.lead, c->d.due,
	    STORE_REMINDER_SENT, p->v[p->n - 1].seq, o->start, o->end);
}

int
remind_run(struct remind *r, time_t now)
{
	struct dj_occ_list l;
	struct pending p;
	struct cand *cands = NULL;
	const struct tz *z = query_zone(r->env.store);
	size_t n, i, sent = 0, skipped = 0;
	time_t cp;

	memset(&p, 0, sizeof p);
	if (get_checkpoint(r, &cp) == 1) {
		/* First start: reminders are due from now on. */
		if (set_checkpoint(r, now) == -1)
			log_warnx("reminders: %s", store_errmsg(r->env.store));
		remind_arm(r, now);
		return 0;
	}
	if (cp < now - r->cfg->late_grace - REMIND_CATCHUP)
		cp = now - r->cfg->late_grace - REMIND_CATCHUP;
	memset(&l, 0, sizeof l);
	n = 0;
	if (now > cp) {
		if (load_window(r, cp, now, &l) == -1) {
			remind_arm(r, now + REMIND_RETRY);
			return -1;
		}
		n = collect(r, &l, cp, now, &cands);
	}
	if (store_begin(r->env.store) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (record_cand(r, &cands[i], &l.v[cands[i].occ], now, z, &p,
		    &sent, &skipped) == -1) {
			store_rollback(r->env.store);
			goto fail;
		}
	if (record_warnings(r, now, z, &p) == -1) {
		store_rollback(r->env.store);
		goto fail;
	}
	if ((now > cp && set_checkpoint(r, now) == -1) ||
	    store_commit(r->env.store) == -1) {
		store_rollback(r->env.store);
		goto fail;
	}
	if (sent > 0 || skipped > 0)
		log_debug("reminders: %zu sent, %zu skipped", sent, skipped);
	pending_deliver(r, &p);
	free(cands);
	occ_list_free(&l);
	if (store_msg_prune(r->env.store, now - REMIND_KEEP) == -1)
		log_warnx("reminders: pruning old messages: %s",
		    store_errmsg(r->env.store));
	remind_arm(r, now);
	return 0;
fail:
	/* Nothing was recorded: pending messages are dropped unsent and the
	 * next run finds the same reminders again. */
	log_warnx("reminders: cannot record the outbox: %s; retrying in %d s",
	    store_errmsg(r->env.store), REMIND_RETRY);
	for (i = 0; i < p.n; i++) {
		free((char *)p.v[i].feed);
		free((char *)p.v[i].branch);
		free(p.bodies[i]);
	}
	free(p.v);
	free(p.bodies);
	free(cands);
	occ_list_free(&l);
	remind_arm(r, now + REMIND_RETRY);
	return -1;
}

/* The next due time */

time_t
remind_next_due(struct remind *r, time_t now)
{
	static const int64_t steps[] = { 2 * 86400, 32 * 86400,
	    400 * 86400 };
	size_t s, i, j;
	time_t best = 0, lo = now;

	for (s = 0; s < sizeof steps / sizeof steps[0] && best == 0; s++) {
		struct dj_occ_list l;
		time_t hi = now + steps[s];

		if (load_window(r, lo, hi, &l) == -1)
			return now + REMIND_RETRY;
		for (i = 0; i < l.n; i++) {
			struct due d[DJ_MAX_LEADS * 2 + 8];
			size_t nd = occ_dues(r->cfg, &l.v[i], d,
			    sizeof d / sizeof d[0]);

			for (j = 0; j < nd; j++)
				if (d[j].due > now && d[j].due <= hi &&
				    (best == 0 || d[j].due < best))
					best = d[j].due;
		}
		occ_list_free(&l);
		lo = hi;
	}
	return best;
}

/* The timer */

static void
remind_arm(struct remind *r, time_t now)
{
	struct itimerspec its;
	time_t next;

	if (r->tfd == -1)
		return;
	next = remind_next_due(r, now);
	if (r->warn_next > now && (next == 0 || r->warn_next < next))
		next = r->warn_next;
	memset(&its, 0, sizeof its);
	if (next > 0)
		its.it_value.tv_sec = next;
	if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
	    &its, NULL) == -1)
		log_warn("reminders: timerfd_settime");
	r->armed = next;
	if (next > 0)
		log_debug("reminders: next at %lld", (long long)next);
}

static void
remind_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct remind *r = arg;
	uint64_t n;

	(void)what;
	/* ECANCELED: the clock was set; either way, run now. */
	if (read(fd, &n, sizeof n) == -1 && errno != ECANCELED &&
	    errno != EAGAIN)
		log_warn("reminders: timerfd read");
	remind_run(r, remind_now(r));
}

struct remind *
remind_new(struct event_base *base, const struct config *cfg,
    const struct remind_env *env, char **cause)
{
	struct remind *r = xcalloc(1, sizeof *r);

	r->base = base;
	r->cfg = cfg;
	r->env = *env;
	r->tfd = -1;
	r->started = remind_now(r);
	if (base != NULL) {
		r->tfd = timerfd_create(CLOCK_REALTIME,
		    TFD_NONBLOCK | TFD_CLOEXEC);
		if (r->tfd == -1) {
			xasprintf(cause, "timerfd_create: %s", strerror(errno));
			free(r);
			return NULL;
		}
		r->ev = event_new(base, r->tfd, EV_READ | EV_PERSIST,
		    remind_timer_cb, r);
		if (r->ev == NULL || event_add(r->ev, NULL) == -1) {
			xasprintf(cause, "cannot watch the reminder timer");
			remind_free(r);
			return NULL;
		}
	}
	return r;
}

void
remind_free(struct remind *r)
{
	if (r == NULL)
		return;
	if (r->ev != NULL)
		event_free(r->ev);
	if (r->tfd != -1)
		close(r->tfd);
	free(r);
}

void
remind_set_config(struct remind *r, const struct config *cfg)
{
	r->cfg = cfg;
	r->leads_known = 0;
	r->warn_next = 0;
	remind_run(r, remind_now(r));
}

/* Changes after a reminder was sent */

struct followup {
	struct remind	*r;
	time_t		 now;
	const struct tz	*z;
	struct pending	*p;
	int		 failed;
	size_t		 n;
};

/*
 * What the last reminder of an occurrence that no longer exists said: its
 * occurrence object, category and branch.  Its cancellation goes to the
 * subscribers whose filters let the reminder through, and shows what they
 * were reminded of.
 */
struct last_reminder {
	int64_t		 seq;
	json_t		*occ;
	int		 category;	/* DJ_CAT_OTHER when pruned */
	char		*branch;
};

static int
last_reminder_cb(const struct store_msg *m, void *arg)
{
	struct last_reminder *lr = arg;
	json_t *j;

	if (m->seq == lr->seq && (j = json_loads(m->body, 0, NULL)) != NULL) {
		lr->occ = json_incref(json_object_get(j, "occurrence"));
		lr->category = m->category;
		lr->branch = xstrdup0(m->branch);
		json_decref(j);
	}
	return 1;
}

/* The occurrence object of one that no longer exists: as its last reminder
 * showed it, at its last known times; a minimal one when that message was
 * pruned.  New reference. */
static json_t *
gone_json(const struct store_sent *x, struct last_reminder *lr,
    const struct tz *z)
{
	struct dj_occurrence o;
	json_t *j = lr->occ;
	int all_day;
	char *t;

	if (json_is_object(j)) {
		lr->occ = NULL;
		all_day = json_is_true(json_object_get(j, "all_day"));
		t = proto_format_time(x->start, all_day, z);
		json_object_set_new(j, "start", json_string(t));
		free(t);
		t = proto_format_time(x->end, all_day, z);
		json_object_set_new(j, "end", json_string(t));
		free(t);
		return j;
	}
	memset(&o, 0, sizeof o);
	o.feed = (char *)x->key.feed;
	o.uid = (char *)x->key.uid;
	o.category = DJ_CAT_OTHER;
	o.start = x->start;
	o.end = x->end;
	o.has_rid = x->key.okey != 0;
	o.rid = x->key.okey;
	return proto_occurrence_json(&o, z);
}

static int
followup_cb(const struct store_sent *x, void *arg)
{
	struct followup *f = arg;
	struct remind *r = f->r;
	struct dj_occurrence o;
	json_t *j;
	int found, rc = 0;

	if (x->followup)
		return 0;
	if ((found = store_occurrence_find(r->env.store, &x->key, &o)) == -1) {
		f->failed = 1;
		return 1;
	}
	if (found == 0 && !occ_cancelled(&o) && o.start == x->start &&
	    o.end == x->end) {
		occ_clear(&o);
		return 0;
	}
	j = json_object();
	if (found == 1 || occ_cancelled(&o)) {
		struct dj_occurrence gone;
		struct last_reminder lr;

		memset(&lr, 0, sizeof lr);
		lr.seq = x->seq;
		lr.category = DJ_CAT_OTHER;
		if (found == 1 && x->seq > 0 && store_msg_since(r->env.store,
		    x->seq - 1, 1, last_reminder_cb, &lr) == -1) {
			json_decref(j);
			f->failed = 1;
			return 1;
		}
		json_object_set_new(j, "type", json_string("cancelled"));
		json_object_set_new(j, "seq", json_integer(0));
		json_object_set_new(j, "reason", json_string(found == 1 ?
		    "removed" : "cancelled"));
		json_object_set_new(j, "occurrence", found == 1 ?
		    gone_json(x, &lr, f->z) : proto_occurrence_json(&o, f->z));
		memset(&gone, 0, sizeof gone);
		gone.feed = (char *)x->key.feed;
		gone.uid = (char *)x->key.uid;
		gone.branch = lr.branch;
		gone.category = (enum dj_category)lr.category;
		rc = record_msg(r, "cancelled", f->now, found == 1 ? &gone :
		    &o, j, f->p);
		if (rc == 0)
			rc = store_sent_update(r->env.store, &x->key, x->start,
			    x->end, 1);
		json_decref(lr.occ);
		free(lr.branch);
	} else {
		json_t *prev = json_object();
		char *ps = proto_format_time(x->start, o.all_day, f->z);
		char *pe = proto_format_time(x->end, o.all_day, f->z);

		json_object_set_new(j, "type", json_string("changed"));
		json_object_set_new(j, "seq", json_integer(0));
		json_object_set_new(j, "occurrence",
		    proto_occurrence_json(&o, f->z));
		json_object_set_new(prev, "start", json_string(ps));
		json_object_set_new(prev, "end", json_string(pe));
		json_object_set_new(j, "previous", prev);
		free(ps);
		free(pe);
		rc = record_msg(r, "changed", f->now, &o, j, f->p);
		if (rc == 0)
			rc = store_sent_update(r->env.store, &x->key, o.start,
			    o.end, 0);
	}
	json_decref(j);
	if (found == 0)
		occ_clear(&o);
	if (rc == -1) {
		f->failed = 1;
		return 1;
	}
	f->n++;
	return 0;
}

void
remind_feed_fetched(struct remind *r, time_t now)
{
	if (r->warn_waiting)
		remind_run(r, now);
}

int
remind_feeds_changed(struct remind *r, time_t now)
{
	struct followup f;
	struct pending p;
	size_t i;

	r->leads_known = 0;
	r->warn_next = 0;
	memset(&p, 0, sizeof p);
	memset(&f, 0, sizeof f);
	f.r = r;
	f.now = now;
	f.z = query_zone(r->env.store);
	f.p = &p;
	if (store_begin(r->env.store) == -1 ||
	    store_sent_since(r->env.store, now, followup_cb, &f) == -1 ||
	    f.failed || store_commit(r->env.store) == -1) {
		store_rollback(r->env.store);
		log_warnx("reminders: checking sent reminders: %s",
		    store_errmsg(r->env.store));
		for (i = 0; i < p.n; i++) {
			free((char *)p.v[i].feed);
			free((char *)p.v[i].branch);
			free(p.bodies[i]);
		}
		free(p.v);
		free(p.bodies);
		remind_arm(r, now);
		return -1;
	}
	if (f.n > 0)
		log_info("reminders: %zu changed or cancelled occurrence%s "
		    "announced", f.n, f.n == 1 ? "" : "s");
	pending_deliver(r, &p);
	/* A new or moved occurrence may be due already; warnings may have
	 * changed: a run looks at both and re-arms. */
	return remind_run(r, now);
}
