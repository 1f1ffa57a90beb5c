/*
 * Party-branch work: compliance of required meetings (三会一课, 主题党日)
 * by period, attendance, volunteer hours and the year's statistics.
 *
 * All of it is derived from query_upcoming over the year, so a moved
 * meeting counts in the month it moved to, a cancelled one (STATUS:
 * CANCELLED, kept as an occurrence) counts as cancelled, and the answer is
 * right for any year.  Check-ins are the only state of their own: they are
 * keyed like reminders (feed, UID, RECURRENCE-ID) so they survive feed
 * updates that change anything else about the occurrence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "djcal/branch.h"
#include "djcal/classify.h"
#include "djcal/proto.h"
#include "djcal/query.h"
#include "djcal/xmalloc.h"

/* Small helpers */

const char *
branch_status_name(enum branch_status s)
{
	switch (s) {
	case BRANCH_GREEN:
		return "green";
	case BRANCH_YELLOW:
		return "yellow";
	default:
		return "red";
	}
}

const char *
branch_cadence_name(enum config_cadence c)
{
	switch (c) {
	case CONFIG_CADENCE_MONTH:
		return "month";
	case CONFIG_CADENCE_QUARTER:
		return "quarter";
	default:
		return "year";
	}
}

static int
occ_is_cancelled(const struct dj_occurrence *o)
{
	return o->status != NULL && strcasecmp(o->status, "CANCELLED") == 0;
}

/* Midnight of a local date in zone z. */
static time_t
local_midnight(const struct tz *z, int y, int m, int d)
{
	struct tz_civil c;

	memset(&c, 0, sizeof c);
	tz_civil_from_days(tz_days_from_civil(y, m, d), &c.year, &c.month,
	    &c.day);
	return tz_to_utc(z, &c);
}

void
branch_year_bounds(struct store *s, int year, time_t *start, time_t *end)
{
	const struct tz *z = query_zone(s);

	*start = local_midnight(z, year, 1, 1);
	*end = local_midnight(z, year + 1, 1, 1);
}

/* The year's occurrences (events only), for one branch or all. */
static int
year_occurrences(struct store *s, int year, const char *branch,
    struct dj_occ_list *l, char **cause)
{
	struct store_filter f;

	memset(&f, 0, sizeof f);
	branch_year_bounds(s, year, &f.from, &f.to);
	f.branch = branch;
	f.kinds = 1u << DJ_KIND_EVENT;
	memset(l, 0, sizeof *l);
	return query_upcoming(s, &f, l, cause);
}

/* The feeds of kind "holidays", as the store records them (the CLI's --db
 * path has no config). */
struct holfeeds {
	char	**names;
	size_t	  n;
};

static int
holfeeds_load(struct store *s, struct holfeeds *h, char **cause)
{
	struct store_feed *f;
	size_t n, i;

	memset(h, 0, sizeof *h);
	if (store_feed_list(s, &f, &n) == -1) {
		xasprintf(cause, "database: %s", store_errmsg(s));
		return -1;
	}
	for (i = 0; i < n; i++)
		if (f[i].kind != NULL && strcmp(f[i].kind, "holidays") == 0) {
			h->names = xreallocarray(h->names, h->n + 1,
			    sizeof *h->names);
			h->names[h->n++] = xstrdup(f[i].name);
		}
	store_feed_list_free(f, n);
	return 0;
}

static void
holfeeds_free(struct holfeeds *h)
{
	while (h->n > 0)
		free(h->names[--h->n]);
	free(h->names);
}

static int
is_holiday_feed(const struct holfeeds *h, const char *feed)
{
	size_t i;

	for (i = 0; feed != NULL && i < h->n; i++)
		if (strcmp(h->names[i], feed) == 0)
			return 1;
	return 0;
}

/*
 * Hours of an occurrence for volunteer time: its length, and a whole
 * working day (BRANCH_DAY_HOURS) for each day of an all-day item.
 */
static double
occ_hours(time_t start, time_t end, int all_day)
{
	if (all_day)
		return (double)((end - start + 43200) / 86400) *
		    BRANCH_DAY_HOURS;
	return (double)(end - start) / 3600.0;
}

/* Compliance */

int
branch_req_matches(const struct config_requirement *r,
    const struct dj_occurrence *o)
{
	size_t i;

	if (r->meeting_type > 0 && (int)o->meeting_type == r->meeting_type)
		return 1;
	if (r->meeting_type <= 0 && r->category >= 0 &&
	    (int)o->category == r->category)
		return 1;
	for (i = 0; i < r->naliases; i++)
		if (o->summary != NULL && strstr(o->summary,
		    r->aliases[i]) != NULL)
			return 1;
	return 0;
}

/* The periods of a year for a cadence. */
static size_t
make_periods(const struct tz *z, int year, enum config_cadence c,
    struct branch_period **out)
{
	size_t n = c == CONFIG_CADENCE_MONTH ? 12 : c == CONFIG_CADENCE_QUARTER ?
	    4 : 1, i;
	struct branch_period *p = xcalloc(n, sizeof *p);
	int step = 12 / (int)n;

	for (i = 0; i < n; i++) {
		int m = 1 + (int)i * step, em = m + step;

		if (c == CONFIG_CADENCE_MONTH)
			snprintf(p[i].label, sizeof p[i].label, "%04d-%02d",
			    year, m);
		else if (c == CONFIG_CADENCE_QUARTER)
			snprintf(p[i].label, sizeof p[i].label, "%04d-Q%zu",
			    year, i + 1);
		else
			snprintf(p[i].label, sizeof p[i].label, "%04d", year);
		p[i].start = local_midnight(z, year, m, 1);
		p[i].end = em > 12 ? local_midnight(z, year + 1, 1, 1) :
		    local_midnight(z, year, em, 1);
	}
	*out = p;
	return n;
}

/* Fill one requirement's periods and status from the year's occurrences. */
static void
evaluate(const struct holfeeds *hf, const struct tz *z,
    const struct config_requirement *r, int year,
    const struct dj_occ_list *l, time_t now, struct branch_req *out)
{
	size_t i, k;
	int red = 0, yellow = 0, cur = -1;

	memset(out, 0, sizeof *out);
	out->req = r;
	out->nperiods = make_periods(z, year, r->cadence, &out->periods);
	for (i = 0; i < l->n; i++) {
		const struct dj_occurrence *o = &l->v[i];

		if (is_holiday_feed(hf, o->feed) ||
		    !branch_req_matches(r, o))
			continue;
		for (k = 0; k < out->nperiods; k++) {
			struct branch_period *p = &out->periods[k];

			if (o->start < p->start || o->start >= p->end)
				continue;
			if (occ_is_cancelled(o))
				p->cancelled++;
			else if (o->start < now)
				p->held++;
			else
				p->scheduled++;
			if (!occ_is_cancelled(o) && o->on_holiday)
				p->on_holiday++;
		}
	}
	for (k = 0; k < out->nperiods; k++) {
		struct branch_period *p = &out->periods[k];

		if (p->end <= now && p->held == 0) {
			p->missing = 1;
			red = 1;
		}
		if (p->start <= now && now < p->end)
			cur = (int)k;
	}
	/* The current period, and the next when it is in this year. */
	if (cur >= 0) {
		struct branch_period *p = &out->periods[cur];

		if (p->held + p->scheduled == 0)
			yellow = 1;
		if ((size_t)cur + 1 < out->nperiods &&
		    out->periods[cur + 1].scheduled == 0)
			yellow = 1;
	} else if (out->nperiods > 0 && out->periods[0].start > now &&
	    out->periods[0].scheduled == 0)
		yellow = 1;	/* a future year that starts with nothing */
	out->status = red ? BRANCH_RED : yellow ? BRANCH_YELLOW : BRANCH_GREEN;
}

int
branch_compliance(struct store *s, const struct config *cfg, int year,
    const char *branch, time_t now, struct branch_compliance *out,
    char **cause)
{
	const struct tz *z = query_zone(s);
	struct dj_occ_list l;
	struct holfeeds hf;
	size_t i;

	memset(out, 0, sizeof *out);
	out->year = year;
	if (holfeeds_load(s, &hf, cause) == -1)
		return -1;
	if (year_occurrences(s, year, branch, &l, cause) == -1) {
		holfeeds_free(&hf);
		return -1;
	}
	out->reqs = xcalloc(cfg->nrequirements + 1, sizeof *out->reqs);
	out->nreqs = cfg->nrequirements;
	for (i = 0; i < cfg->nrequirements; i++)
		evaluate(&hf, z, &cfg->requirements[i], year, &l, now,
		    &out->reqs[i]);
	holfeeds_free(&hf);
	occ_list_free(&l);
	return 0;
}

void
branch_compliance_free(struct branch_compliance *c)
{
	size_t i;

	for (i = 0; i < c->nreqs; i++)
		free(c->reqs[i].periods);
	free(c->reqs);
	memset(c, 0, sizeof *c);
}

json_t *
branch_compliance_json(const struct branch_compliance *c)
{
	json_t *j = json_object(), *a = json_array();
	size_t i, k;

	json_object_set_new(j, "year", json_integer(c->year));
	for (i = 0; i < c->nreqs; i++) {
		const struct branch_req *br = &c->reqs[i];
		const struct config_requirement *r = br->req;
		const char *mt = r->meeting_type > 0 ?
		    classify_meeting_name((enum dj_meeting)r->meeting_type) :
		    NULL;
		json_t *o = json_object(), *ps = json_array();

		json_object_set_new(o, "name", json_string(r->name));
		json_object_set_new(o, "category", r->category >= 0 ?
		    json_string(classify_category_name(
		    (enum dj_category)r->category)) : json_null());
		json_object_set_new(o, "meeting_type", mt != NULL ?
		    json_string(mt) : json_null());
		json_object_set_new(o, "cadence",
		    json_string(branch_cadence_name(r->cadence)));
		json_object_set_new(o, "status",
		    json_string(branch_status_name(br->status)));
		for (k = 0; k < br->nperiods; k++) {
			const struct branch_period *p = &br->periods[k];
			json_t *po = json_object();

			json_object_set_new(po, "period",
			    json_string(p->label));
			json_object_set_new(po, "held", json_integer(p->held));
			json_object_set_new(po, "scheduled",
			    json_integer(p->scheduled));
			json_object_set_new(po, "cancelled",
			    json_integer(p->cancelled));
			json_object_set_new(po, "on_holiday",
			    json_integer(p->on_holiday));
			json_object_set_new(po, "missing",
			    json_boolean(p->missing));
			json_array_append_new(ps, po);
		}
		json_object_set_new(o, "periods", ps);
		json_array_append_new(a, o);
	}
	json_object_set_new(j, "requirements", a);
	return j;
}

/* Warnings */

void
branch_warning_key(const struct config_requirement *r,
    const struct branch_period *p, struct store_okey *out)
{
	/* Not a feed: "" cannot be a feed's name. */
	out->feed = "";
	out->uid = r->name;
	out->okey = p->start;
}

/*
 * Whether anything matching the requirement is scheduled in a period: the
 * period alone is read, and only the requirement's category where it has
 * one.
 */
static int
period_scheduled(struct store *s, const struct holfeeds *hf,
    const struct config_requirement *r, const struct branch_period *p,
    int *n, char **cause)
{
	struct store_filter f;
	struct dj_occ_list l;
	size_t i;

	memset(&f, 0, sizeof f);
	f.from = p->start;
	f.to = p->end;
	f.kinds = 1u << DJ_KIND_EVENT;
	if (r->naliases == 0 && r->meeting_type > 0)
		f.categories = 1u << DJ_CAT_STUDY;
	else if (r->naliases == 0 && r->category >= 0)
		f.categories = 1u << r->category;
	memset(&l, 0, sizeof l);
	if (query_upcoming(s, &f, &l, cause) == -1)
		return -1;
	*n = 0;
	for (i = 0; i < l.n; i++)
		if (l.v[i].start >= p->start && !occ_is_cancelled(&l.v[i]) &&
		    !is_holiday_feed(hf, l.v[i].feed) &&
		    branch_req_matches(r, &l.v[i]))
			(*n)++;
	occ_list_free(&l);
	return 0;
}

/*
 * Only the next period of each requirement can be warned about, and only
 * once its warning window has opened: until then this is calendar
 * arithmetic, so the daemon can call it after every feed change.
 */
time_t
branch_warnings(struct store *s, const struct config *cfg, time_t now,
    branch_warning_cb cb, void *arg)
{
	const struct tz *z = query_zone(s);
	struct holfeeds hf;
	struct tz_civil c;
	time_t next = 0, np;
	size_t i, k;
	int y, loaded = 0;

	tz_from_utc(z, now, &c);
	for (i = 0; i < cfg->nrequirements; i++) {
		const struct config_requirement *r = &cfg->requirements[i];
		int wd = r->warn_days > 0 ? r->warn_days : cfg->warn_days;
		struct branch_period *p = NULL, *nextp = NULL, *all[2];
		size_t nall[2];

		/* The periods of this year and the next, in order. */
		for (y = 0; y < 2; y++)
			nall[y] = make_periods(z, c.year + y, r->cadence,
			    &all[y]);
		for (y = 0; y < 2 && nextp == NULL; y++)
			for (k = 0; k < nall[y]; k++) {
				if (all[y][k].start <= now)
					continue;
				if (p == NULL)
					p = &all[y][k];
				else if (nextp == NULL) {
					nextp = &all[y][k];
					break;
				}
			}
		np = 0;
		if (p != NULL && now >= p->start - (time_t)wd * 86400) {
			char *cause = NULL;
			int n = 0;

			if (!loaded) {
				if (holfeeds_load(s, &hf, &cause) == -1) {
					free(cause);
					free(all[0]);
					free(all[1]);
					return now + 3600;
				}
				loaded = 1;
			}
			if (period_scheduled(s, &hf, r, p, &n, &cause) == -1) {
				free(cause);
				next = next == 0 || now + 3600 < next ?
				    now + 3600 : next;
			} else if (n == 0)
				cb(r, p, arg);
			/* The next look: when the period after opens. */
			if (nextp != NULL)
				np = nextp->start - (time_t)wd * 86400;
		} else if (p != NULL)
			np = p->start - (time_t)wd * 86400;
		if (np > now && (next == 0 || np < next))
			next = np;
		free(all[0]);
		free(all[1]);
	}
	if (loaded)
		holfeeds_free(&hf);
	return next;
}

/* Attendance */

void
branch_checkin_clear(struct branch_checkin *c)
{
	free(c->feed);
	free(c->uid);
	free(c->member);
	free(c->reason);
	free(c->summary);
	memset(c, 0, sizeof *c);
}

/* The occurrence of uid starting at start (any feed when feed is NULL). */
static int
find_occurrence(struct store *s, const char *feed, const char *uid,
    time_t start, struct dj_occurrence *out, char **cause)
{
	struct store_filter f;
	struct dj_occ_list l;
	size_t i;
	int found = 1;

	memset(&f, 0, sizeof f);
	f.from = start;
	f.to = start + 1;
	f.feed = feed;
	memset(&l, 0, sizeof l);
	if (query_upcoming(s, &f, &l, cause) == -1)
		return -1;
	for (i = 0; i < l.n; i++)
		if (l.v[i].uid != NULL && strcmp(l.v[i].uid, uid) == 0 &&
		    l.v[i].start == start) {
			occ_copy(out, &l.v[i]);
			found = 0;
			break;
		}
	occ_list_free(&l);
	return found;
}

int
branch_checkin(struct store *s, const char *feed, const char *uid,
    time_t start, const char *member, const char *leave_reason, time_t now,
    struct branch_checkin *out, char **cause)
{
	struct dj_occurrence o;
	struct store_checkin sc;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = find_occurrence(s, feed, uid, start, &o, cause)) != 0)
		return rc;
	memset(&sc, 0, sizeof sc);
	sc.key.feed = o.feed;
	sc.key.uid = o.uid;
	sc.key.okey = o.has_rid ? (int64_t)o.rid : 0;
	sc.start = o.start;
	sc.end = o.end;
	sc.member = member;
	sc.kind = leave_reason != NULL ? BRANCH_LEAVE : BRANCH_PRESENT;
	sc.reason = leave_reason;
	sc.created = now;
	sc.summary = o.summary;
	sc.all_day = o.all_day;
	sc.category = (int)o.category;
	if (store_checkin_put(s, &sc) == -1) {
		xasprintf(cause, "database: %s", store_errmsg(s));
		occ_clear(&o);
		return -1;
	}
	out->feed = xstrdup(o.feed);
	out->uid = xstrdup(o.uid);
	out->okey = sc.key.okey;
	out->start = o.start;
	out->end = o.end;
	out->member = xstrdup(member);
	out->kind = (enum branch_checkin_kind)sc.kind;
	out->reason = xstrdup0(leave_reason);
	out->created = now;
	out->summary = xstrdup0(o.summary);
	out->category = o.category;
	occ_clear(&o);
	return 0;
}

struct collect {
	struct branch_checkin	*v;
	size_t			 n;
};

static int
collect_cb(const struct store_checkin *sc, void *arg)
{
	struct collect *c = arg;
	struct branch_checkin *b;

	c->v = xreallocarray(c->v, c->n + 1, sizeof *c->v);
	b = &c->v[c->n++];
	memset(b, 0, sizeof *b);
	b->feed = xstrdup(sc->key.feed);
	b->uid = xstrdup(sc->key.uid);
	b->okey = sc->key.okey;
	b->start = sc->start;
	b->end = sc->end;
	b->member = xstrdup(sc->member);
	b->kind = (enum branch_checkin_kind)sc->kind;
	b->reason = xstrdup0(sc->reason);
	b->created = sc->created;
	b->summary = xstrdup0(sc->summary);
	b->all_day = sc->all_day;
	b->category = (enum dj_category)sc->category;
	return 0;
}

int
branch_attendance(struct store *s, const char *feed, const char *uid,
    time_t start, struct branch_checkin **out, size_t *n, char **cause)
{
	struct dj_occurrence o;
	struct store_okey k;
	struct collect c;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = find_occurrence(s, feed, uid, start, &o, cause)) != 0)
		return rc;
	k.feed = o.feed;
	k.uid = o.uid;
	k.okey = o.has_rid ? (int64_t)o.rid : 0;
	memset(&c, 0, sizeof c);
	rc = store_checkins_of(s, &k, collect_cb, &c);
	/* The summary as the feed says it now, not as it was then. */
	for (size_t i = 0; rc == 0 && i < c.n; i++) {
		free(c.v[i].summary);
		c.v[i].summary = xstrdup0(o.summary);
	}
	occ_clear(&o);
	if (rc == -1) {
		xasprintf(cause, "database: %s", store_errmsg(s));
		while (c.n > 0)
			branch_checkin_clear(&c.v[--c.n]);
		free(c.v);
		return -1;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

json_t *
branch_checkin_json(const struct branch_checkin *c, const struct tz *z)
{
	json_t *j = json_object();
	char *t;

	json_object_set_new(j, "feed", json_string(c->feed));
	json_object_set_new(j, "uid", json_string(c->uid));
	json_object_set_new(j, "summary", c->summary != NULL ?
	    json_string(c->summary) : json_null());
	json_object_set_new(j, "category",
	    json_string(classify_category_name(c->category)));
	t = proto_format_time(c->start, 0, z);
	json_object_set_new(j, "start", json_string(t));
	free(t);
	t = proto_format_time(c->end, 0, z);
	json_object_set_new(j, "end", json_string(t));
	free(t);
	json_object_set_new(j, "member", json_string(c->member));
	json_object_set_new(j, "status", json_string(c->kind == BRANCH_LEAVE ?
	    "leave" : "present"));
	json_object_set_new(j, "reason", c->reason != NULL ?
	    json_string(c->reason) : json_null());
	t = proto_format_time(c->created, 0, z);
	json_object_set_new(j, "recorded", json_string(t));
	free(t);
	return j;
}

json_t *
branch_attendance_json(struct branch_checkin *v, size_t n,
    const struct tz *z)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_array_append_new(a, branch_checkin_json(&v[i], z));
		branch_checkin_clear(&v[i]);
	}
	free(v);
	return a;
}

/* Volunteer hours */

struct hours_acc {
	const char		*member;
	struct branch_hours	*v;
	size_t			 n;
};

static int
hours_cb(const struct store_checkin *sc, void *arg)
{
	struct hours_acc *h = arg;
	size_t i;

	if (sc->kind != BRANCH_PRESENT || sc->category != DJ_CAT_VOLUNTEER)
		return 0;
	if (h->member != NULL && strcmp(h->member, sc->member) != 0)
		return 0;
	for (i = 0; i < h->n; i++)
		if (strcmp(h->v[i].member, sc->member) == 0)
			break;
	if (i == h->n) {
		h->v = xreallocarray(h->v, h->n + 1, sizeof *h->v);
		memset(&h->v[h->n], 0, sizeof h->v[h->n]);
		h->v[h->n++].member = xstrdup(sc->member);
	}
	h->v[i].hours += occ_hours(sc->start, sc->end, sc->all_day);
	h->v[i].count++;
	return 0;
}

static int
hours_cmp(const void *a, const void *b)
{
	return strcmp(((const struct branch_hours *)a)->member,
	    ((const struct branch_hours *)b)->member);
}

int
branch_hours(struct store *s, int year, const char *member,
    struct branch_hours **out, size_t *n, char **cause)
{
	struct hours_acc h;
	time_t from, to;

	memset(&h, 0, sizeof h);
	h.member = member;
	branch_year_bounds(s, year, &from, &to);
	if (store_checkins_between(s, from, to, hours_cb, &h) == -1) {
		xasprintf(cause, "database: %s", store_errmsg(s));
		branch_hours_free(h.v, h.n);
		return -1;
	}
	if (h.n > 1)
		qsort(h.v, h.n, sizeof *h.v, hours_cmp);
	*out = h.v;
	*n = h.n;
	return 0;
}

void
branch_hours_free(struct branch_hours *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].member);
	free(v);
}

json_t *
branch_hours_json(const struct branch_hours *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:f, s:i}",
		    "member", v[i].member, "hours", v[i].hours, "count",
		    v[i].count));
	return a;
}

/* Statistics */

struct stat_acc {
	struct branch_stat	 cat[DJ_CAT_COUNT];
	struct branch_stat	 mt[DJ_MT_COUNT];	/* within study */
	int			 seen_cat[DJ_CAT_COUNT];
	int			 seen_mt[DJ_MT_COUNT];
	/* Occurrence keys of the year: which category and type each is. */
	const struct dj_occ_list *l;
};

static struct branch_stat *
acc_row(struct stat_acc *a, enum dj_category c, enum dj_meeting m, int mt)
{
	if (mt) {
		a->seen_mt[m] = 1;
		a->mt[m].category = c;
		a->mt[m].meeting_type = m;
		return &a->mt[m];
	}
	a->seen_cat[c] = 1;
	a->cat[c].category = c;
	a->cat[c].meeting_type = DJ_MT_NONE;
	return &a->cat[c];
}

/* The occurrence a check-in belongs to, among the year's. */
static const struct dj_occurrence *
occ_of(const struct dj_occ_list *l, const struct store_checkin *sc)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct dj_occurrence *o = &l->v[i];
		int64_t k = o->has_rid ? (int64_t)o->rid : 0;

		if (k == sc->key.okey && o->uid != NULL && o->feed != NULL &&
		    strcmp(o->uid, sc->key.uid) == 0 &&
		    strcmp(o->feed, sc->key.feed) == 0)
			return o;
	}
	return NULL;
}

static void
acc_checkin(struct stat_acc *a, const struct dj_occurrence *o,
    const struct store_checkin *sc, int mt)
{
	struct branch_stat *r = acc_row(a, o->category, o->meeting_type, mt);

	if (sc->kind == BRANCH_PRESENT) {
		r->checkins++;
		if (o->category == DJ_CAT_VOLUNTEER)
			r->volunteer_hours += occ_hours(o->start, o->end,
			    o->all_day);
	} else
		r->leaves++;
}

static int
stat_checkin_cb(const struct store_checkin *sc, void *arg)
{
	struct stat_acc *a = arg;
	const struct dj_occurrence *o = occ_of(a->l, sc);

	if (o == NULL)
		return 0;
	acc_checkin(a, o, sc, 0);
	if (o->meeting_type != DJ_MT_NONE)
		acc_checkin(a, o, sc, 1);
	return 0;
}

static void
acc_occ(struct stat_acc *a, const struct dj_occurrence *o, time_t now,
    int mt)
{
	struct branch_stat *r = acc_row(a, o->category, o->meeting_type, mt);

	if (occ_is_cancelled(o))
		r->cancelled++;
	else if (o->start < now)
		r->held++;
	else
		r->upcoming++;
}

int
branch_stats(struct store *s, int year, const char *branch, time_t now,
    struct branch_stat **rows, size_t *n, char **cause)
{
	struct stat_acc a;
	struct dj_occ_list l;
	struct store_feed *feeds;
	size_t nfeeds, i, k, out = 0;
	time_t from, to;

	*rows = NULL;
	*n = 0;
	if (year_occurrences(s, year, branch, &l, cause) == -1)
		return -1;
	if (store_feed_list(s, &feeds, &nfeeds) == -1) {
		occ_list_free(&l);
		xasprintf(cause, "database: %s", store_errmsg(s));
		return -1;
	}
	memset(&a, 0, sizeof a);
	a.l = &l;
	for (i = 0; i < l.n; i++) {
		const struct dj_occurrence *o = &l.v[i];
		int holiday = 0;

		for (k = 0; k < nfeeds; k++)
			if (strcmp(feeds[k].name, o->feed) == 0 &&
			    feeds[k].kind != NULL &&
			    strcmp(feeds[k].kind, "holidays") == 0)
				holiday = 1;
		if (holiday)
			continue;
		acc_occ(&a, o, now, 0);
		if (o->meeting_type != DJ_MT_NONE)
			acc_occ(&a, o, now, 1);
	}
	store_feed_list_free(feeds, nfeeds);
	branch_year_bounds(s, year, &from, &to);
	if (store_checkins_between(s, from, to, stat_checkin_cb, &a) == -1) {
		occ_list_free(&l);
		xasprintf(cause, "database: %s", store_errmsg(s));
		return -1;
	}
	occ_list_free(&l);
	*rows = xcalloc(DJ_CAT_COUNT + DJ_MT_COUNT, sizeof **rows);
	for (i = 0; i < DJ_CAT_COUNT; i++) {
		if (!a.seen_cat[i])
			continue;
		(*rows)[out++] = a.cat[i];
		for (k = 1; k < DJ_MT_COUNT; k++)
			if (a.seen_mt[k] && (size_t)a.mt[k].category == i)
				(*rows)[out++] = a.mt[k];
	}
	*n = out;
	return 0;
}

double
branch_attendance_rate(const struct branch_stat *r)
{
	if (r->checkins + r->leaves == 0)
		return -1;
	return (double)r->checkins / (double)(r->checkins + r->leaves);
}

json_t *
branch_stats_json(int year, const struct branch_stat *rows, size_t n)
{
	json_t *j = json_object(), *a = json_array();
	size_t i;

	json_object_set_new(j, "year", json_integer(year));
	for (i = 0; i < n; i++) {
		const struct branch_stat *r = &rows[i];
		const char *mt = classify_meeting_name(r->meeting_type);
		double rate = branch_attendance_rate(r);
		json_t *o = json_object();

		json_object_set_new(o, "category",
		    json_string(classify_category_name(r->category)));
		json_object_set_new(o, "meeting_type", mt != NULL ?
		    json_string(mt) : json_null());
		json_object_set_new(o, "held", json_integer(r->held));
		json_object_set_new(o, "cancelled",
		    json_integer(r->cancelled));
		json_object_set_new(o, "upcoming", json_integer(r->upcoming));
		json_object_set_new(o, "checkins", json_integer(r->checkins));
		json_object_set_new(o, "leaves", json_integer(r->leaves));
		json_object_set_new(o, "attendance_rate", rate < 0 ?
		    json_null() : json_real((double)(int)(rate * 100 + 0.5) /
		    100.0));
		json_object_set_new(o, "volunteer_hours",
		    json_real(r->volunteer_hours));
		json_array_append_new(a, o);
	}
	json_object_set_new(j, "rows", a);
	return j;
}
