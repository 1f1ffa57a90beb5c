/*
 * Queries: materialised occurrences from the store, plus the occurrences of
 * recurring series outside their feed's materialised window, expanded here
 * from the stored iCalendar text.  The window is split by start: rows for
 * starts inside [mat_from, mat_to), expansion for starts outside, so no
 * occurrence is counted twice.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "djcal/ingest.h"
#include "djcal/query.h"
#include "djcal/recur.h"
#include "djcal/xmalloc.h"

#define QUERY_DEFAULT_ZONE	"Asia/Shanghai"

const struct tz *
query_zone(struct store *s)
{
	const struct tz *z = NULL;
	char *name;

	if ((name = store_meta_get(s, "timezone")) != NULL) {
		z = tz_system(name);
		free(name);
	}
	if (z == NULL)
		z = tz_system(QUERY_DEFAULT_ZONE);
	return z != NULL ? z : tz_utc();
}

static int
push_cb(const struct dj_occurrence *o, void *arg)
{
	occ_list_push(arg, o);
	return 0;
}

/* Expanding one stored series */

struct outside {
	const struct store_filter	*f;
	const struct store_series_row	*row;
	const struct tz			*zone;
	struct dj_occ_list		*out;
	int				 failed;
};

static const struct store_item *
item_at(const struct store_series_row *row, size_t idx)
{
	size_t i;

	for (i = 0; i < row->nitems; i++)
		if ((size_t)row->items[i].idx == idx)
			return &row->items[i];
	return NULL;
}

static int
contains_ci(const char *hay, const char *needle)
{
	return hay != NULL && strcasestr(hay, needle) != NULL;
}

static int
item_matches(const struct store_filter *f, const struct store_item *it)
{
	if (f->categories != 0 && !(f->categories & (1u << it->category)))
		return 0;
	if (f->kinds != 0 && !(f->kinds & (1u << it->kind)))
		return 0;
	if (f->search != NULL && !contains_ci(it->summary, f->search) &&
	    !contains_ci(it->location, f->search) &&
	    !contains_ci(it->description, f->search))
		return 0;
	return 1;
}

static int
outside_occ(const struct recur_occ *o, void *arg)
{
	struct outside *w = arg;
	const struct store_series_row *row = w->row;
	const struct store_item *it;
	struct dj_occurrence d;

	/* Starts inside the materialised window are the store's rows. */
	if (o->start >= row->mat_from && o->start < row->mat_to)
		return 0;
	if ((it = item_at(row, o->comp)) == NULL || !item_matches(w->f, it))
		return 0;
	memset(&d, 0, sizeof d);
	d.uid = (char *)row->uid;
	d.feed = (char *)row->feed;
	d.branch = (char *)row->branch;
	d.summary = (char *)it->summary;
	d.location = (char *)it->location;
	d.description = (char *)it->description;
	d.status = (char *)it->status;
	d.alarms = (char *)it->alarms;
	d.kind = it->kind;
	d.category = it->category;
	d.meeting_type = it->meeting_type;
	d.start = o->start;
	d.end = o->end;
	d.all_day = o->all_day;
	d.has_rid = o->has_rid;
	d.rid = o->rid;
	d.rid_all_day = o->rid_all_day;
	d.has_due = it->has_due;
	d.due = it->due;
	d.due_all_day = it->due_all_day;
	d.has_completed = it->has_completed;
	d.completed = it->completed;
	occ_list_push(w->out, &d);
	return 0;
}

static int
outside_series(const struct ingest_series *s, void *arg)
{
	struct outside *w = arg;
	struct recur_series *rs;
	char *cause = NULL;

	rs = recur_series_new(s->comps, s->cals, s->ncomps, s->zones, w->zone,
	    &cause, NULL);
	if (rs == NULL) {
		free(cause);
		return 0;
	}
	if (recur_expand(rs, w->f->from, w->f->to, RECUR_OVERLAP, outside_occ,
	    w, &cause) == -1)
		free(cause);
	recur_series_free(rs);
	return 0;
}

/* The zones of one feed, cached for one query. */
struct zone_cache {
	int64_t		 feed_id;
	struct tzmap	*map;
};

static int
zone_add_cb(const char *tzid, const char *ical, void *arg)
{
	struct tzmap *map = arg;
	icalcomponent *c;
	char *cause = NULL;

	(void)tzid;
	if ((c = icalparser_parse_string(ical)) == NULL)
		return 0;
	if (tzmap_add(map, c, &cause) == -1)
		free(cause);
	icalcomponent_free(c);
	return 0;
}

struct outside_ctx {
	struct store			*store;
	const struct store_filter	*f;
	const struct tz			*zone;
	struct dj_occ_list		*out;
	struct zone_cache		 zc;
};

static int
outside_row(const struct store_series_row *row, void *arg)
{
	struct outside_ctx *c = arg;
	struct ingest_opts opts;
	struct ingest_sink sink;
	struct ingest_report rep;
	struct outside w;
	char *cause = NULL;

	if (c->zc.map == NULL || c->zc.feed_id != row->feed_id) {
		tzmap_free(c->zc.map);
		c->zc.map = tzmap_new();
		c->zc.feed_id = row->feed_id;
		store_zones(c->store, row->feed_id, zone_add_cb, c->zc.map);
	}
	memset(&w, 0, sizeof w);
	w.f = c->f;
	w.row = row;
	w.zone = c->zone;
	w.out = c->out;
	memset(&opts, 0, sizeof opts);
	opts.bare_zones = c->zc.map;
	memset(&sink, 0, sizeof sink);
	sink.series = outside_series;
	sink.arg = &w;
	if (ingest_body(row->ical, strlen(row->ical), &opts, &sink, &rep,
	    &cause) == -1)
		free(cause);
	ingest_report_free(&rep);
	return 0;
}

/* Materialised rows plus expansion outside the materialised window. */
static int
collect(struct store *s, const struct store_filter *f,
    struct dj_occ_list *out, char **cause)
{
	struct outside_ctx c;
	size_t budget;
	int rc;

	if (store_occurrences(s, f, push_cb, out) == -1) {
		xasprintf(cause, "database: %s", store_errmsg(s));
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.store = s;
	c.f = f;
	c.zone = query_zone(s);
	c.out = out;
	/* A window far from the feeds' (any client may ask for one) must
	 * not walk every long rule stored for long: one budget a query. */
	budget = recur_budget(RECUR_BUDGET);
	rc = store_series_outside(s, f, outside_row, &c);
	recur_budget(budget);
	tzmap_free(c.zc.map);
	if (rc == -1) {
		xasprintf(cause, "database: %s", store_errmsg(s));
		return -1;
	}
	return 0;
}

static int
cmp_day(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static long long
local_day(const struct tz *z, time_t t)
{
	struct tz_civil c;

	tz_from_utc(z, t, &c);
	return tz_days_from_civil(c.year, c.month, c.day);
}

/*
 * Mark the occurrences that fall on a public holiday: a local date that an
 * occurrence of a feed of kind "holidays" covers.  The holiday feeds' own
 * occurrences are not marked.
 */
static int
mark_holidays(struct store *s, const struct store_filter *f,
    struct dj_occ_list *out, char **cause)
{
	struct store_feed *feeds;
	size_t nfeeds, i, j, ndays = 0;
	const struct tz *z = query_zone(s);
	long long *days = NULL;
	int rc = 0;

	if (out->n == 0)
		return 0;
	if (store_feed_list(s, &feeds, &nfeeds) == -1) {
		xasprintf(cause, "database: %s", store_errmsg(s));
		return -1;
	}
	for (i = 0; i < nfeeds && rc == 0; i++) {
		struct store_filter hf;
		struct dj_occ_list h;

		if (feeds[i].kind == NULL ||
		    strcmp(feeds[i].kind, "holidays") != 0)
			continue;
		memset(&hf, 0, sizeof hf);
		hf.from = f->from - 2 * 86400;
		hf.to = f->to + 2 * 86400;
		hf.feed = feeds[i].name;
		memset(&h, 0, sizeof h);
		if ((rc = collect(s, &hf, &h, cause)) == 0) {
			for (j = 0; j < h.n; j++) {
				long long a = local_day(z, h.v[j].start);
				long long b = h.v[j].end > h.v[j].start ?
				    local_day(z, h.v[j].end - 1) : a;

				if (h.v[j].status != NULL && strcasecmp(
				    h.v[j].status, "CANCELLED") == 0)
					continue;
				for (; a <= b && ndays < 100000; a++) {
					days = xreallocarray(days, ndays + 1,
					    sizeof *days);
					days[ndays++] = a;
				}
			}
		}
		occ_list_free(&h);
	}
	if (ndays > 0) {
		qsort(days, ndays, sizeof *days, cmp_day);
		for (i = 0; i < out->n; i++) {
			long long d = local_day(z, out->v[i].start);
			int hol = 0;

			for (j = 0; j < nfeeds; j++)
				if (out->v[i].feed != NULL &&
				    strcmp(out->v[i].feed, feeds[j].name) == 0 &&
				    feeds[j].kind != NULL &&
				    strcmp(feeds[j].kind, "holidays") == 0)
					hol = 1;
			if (!hol && bsearch(&d, days, ndays, sizeof *days,
			    cmp_day) != NULL)
				out->v[i].on_holiday = 1;
		}
	}
	free(days);
	store_feed_list_free(feeds, nfeeds);
	return rc;
}

int
query_upcoming(struct store *s, const struct store_filter *f,
    struct dj_occ_list *out, char **cause)
{
	if (collect(s, f, out, cause) == -1)
		return -1;
	occ_list_sort(out);
	if (f->limit > 0)
		occ_list_truncate(out, f->limit);
	return mark_holidays(s, f, out, cause);
}

/* Tasks */

int
query_tasks_from_name(const char *s)
{
	static const char *const names[] = { "open", "overdue", "done",
	    "all" };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

int
query_task_done(const struct dj_occurrence *o)
{
	return o->has_completed ||
	    (o->status != NULL && strcasecmp(o->status, "COMPLETED") == 0);
}

static int
task_cancelled(const struct dj_occurrence *o)
{
	return o->status != NULL && strcasecmp(o->status, "CANCELLED") == 0;
}

struct task_sel {
	enum query_tasks	 which;
	time_t			 now;
	struct dj_occ_list	*out;
};

static int
task_cb(const struct dj_occurrence *o, void *arg)
{
	struct task_sel *t = arg;
	int done = query_task_done(o), open = !done && !task_cancelled(o);

	switch (t->which) {
	case QUERY_TASKS_OPEN:
		if (!open)
			return 0;
		break;
	case QUERY_TASKS_OVERDUE:
		if (!open || !o->has_due || o->due >= t->now)
			return 0;
		break;
	case QUERY_TASKS_DONE:
		if (!done)
			return 0;
		break;
	case QUERY_TASKS_ALL:
		break;
	}
	occ_list_push(t->out, o);
	return 0;
}

int
query_tasks(struct store *s, enum query_tasks which, time_t now,
    struct dj_occ_list *out, char **cause)
{
	struct task_sel t = { which, now, out };

	if (store_tasks(s, task_cb, &t) == -1) {
		xasprintf(cause, "database: %s", store_errmsg(s));
		return -1;
	}
	return 0;
}
