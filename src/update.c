/* Apply a feed body to the store: ingest -> classify -> expand -> store. */
#include <stdlib.h>
#include <string.h>

#include "djcal/ingest.h"
#include "djcal/log.h"
#include "djcal/recur.h"
#include "djcal/update.h"
#include "djcal/xmalloc.h"

/* 0001-01-01T00:00:00Z: before anything a calendar can hold. */
#define UPDATE_FAR_PAST	((time_t)-62135596800LL)

struct update_run {
	const struct update_ctx	*ctx;
	struct store_ingest	*in;
	int			 fallback;
	int64_t			 mat_from, mat_to;
	int			 force;
	struct update_result	*res;
	struct ingest_report	*report;
	/* Scratch reused across series. */
	struct store_item	*items;
	char			**owned;	/* strings to free per series */
	size_t			 nowned, capowned;
	struct store_occ	*occs;
	size_t			 nocc, capocc;
	int			 failed;
	int			 quiet;		/* problems were reported when
						   the series was first read */
	size_t			 nproblems;	/* series problems listed */
	size_t			 more_problems;	/* and not listed */
};

void
update_window(const struct update_ctx *ctx, int64_t *from, int64_t *to)
{
	int64_t day = (int64_t)ctx->now - ((int64_t)ctx->now % 86400);

	*from = day - (int64_t)ctx->history_days * 86400;
	*to = day + (int64_t)(ctx->horizon_days + 1) * 86400;
}

void
update_result_clear(struct update_result *r)
{
	free(r->problems);
	memset(r, 0, sizeof *r);
}

static char *
own(struct update_run *u, char *s)
{
	if (s == NULL)
		return NULL;
	if (u->nowned == u->capowned) {
		u->capowned = u->capowned == 0 ? 64 : u->capowned * 2;
		u->owned = xreallocarray(u->owned, u->capowned,
		    sizeof *u->owned);
	}
	u->owned[u->nowned++] = s;
	return s;
}

static void
own_free(struct update_run *u)
{
	size_t i;

	for (i = 0; i < u->nowned; i++)
		free(u->owned[i]);
	u->nowned = 0;
}

/* Text of the first property of a kind, decoded (caller owns via u). */
static const char *
prop_text(struct update_run *u, icalcomponent *c, icalproperty_kind k)
{
	icalproperty *p = icalcomponent_get_first_property(c, k);
	icalvalue *v;

	if (p == NULL || (v = icalproperty_get_value(p)) == NULL)
		return NULL;
	if (icalvalue_isa(v) == ICAL_TEXT_VALUE)
		return own(u, xstrdup0(icalvalue_get_text(v)));
	return own(u, icalvalue_as_ical_string_r(v));
}

char *
update_alarms(icalcomponent *c)
{
	icalcomponent *a;
	char *out = NULL, *t;
	size_t len = 0;

	for (a = icalcomponent_get_first_component(c, ICAL_VALARM_COMPONENT);
	    a != NULL;
	    a = icalcomponent_get_next_component(c, ICAL_VALARM_COMPONENT)) {
		icalproperty *p;
		icalparameter *rel;
		struct icaltriggertype tr;
		char one[48];

		p = icalcomponent_get_first_property(a, ICAL_TRIGGER_PROPERTY);
		if (p == NULL)
			continue;
		tr = icalproperty_get_trigger(p);
		if (!icaltime_is_null_time(tr.time)) {
			struct icaltimetype tt = tr.time;
			struct tz_civil cv = { tt.year, tt.month, tt.day,
			    tt.hour, tt.minute, tt.second };

			/* RFC 5545 3.8.6.3: an absolute trigger is UTC. */
			snprintf(one, sizeof one, "A%lld",
			    (long long)tz_civil_to_epoch(&cv));
		} else {
			rel = icalproperty_get_first_parameter(p,
			    ICAL_RELATED_PARAMETER);
			snprintf(one, sizeof one, "%c%d",
			    rel != NULL && icalparameter_get_related(rel) ==
			    ICAL_RELATED_END ? 'E' : 'S',
			    icaldurationtype_as_int(tr.duration));
		}
		t = out;
		xasprintf(&out, "%s%s%s", t != NULL ? t : "",
		    t != NULL ? "," : "", one);
		free(t);
		len++;
	}
	(void)len;
	return out;
}

/* CATEGORIES values, collected before anything else touches the
 * component's property iterator. */
static size_t
collect_categories(struct update_run *u, icalcomponent *c,
    const char **cats, size_t max)
{
	icalproperty *p;
	size_t n = 0;

	for (p = icalcomponent_get_first_property(c, ICAL_CATEGORIES_PROPERTY);
	    p != NULL && n < max;
	    p = icalcomponent_get_next_property(c, ICAL_CATEGORIES_PROPERTY)) {
		char *v = icalproperty_get_value_as_string_r(p);

		if (v != NULL)
			cats[n++] = own(u, v);
	}
	return n;
}

static void
fill_item(struct update_run *u, icalcomponent *c, int idx,
    struct tzmap *zones, struct store_item *it)
{
	const char *cats[16];
	size_t ncats;
	icalproperty *p;
	struct recur_time rt;

	memset(it, 0, sizeof *it);
	ncats = collect_categories(u, c, cats, 16);
	it->idx = idx;
	it->kind = icalcomponent_isa(c) == ICAL_VTODO_COMPONENT ?
	    DJ_KIND_TASK : DJ_KIND_EVENT;
	it->rid = "";
	p = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
	if (p != NULL && recur_time_get(p, zones, u->ctx->zone, &rt) == 0) {
		char *r;

		if (rt.is_date)
			xasprintf(&r, "%04d%02d%02d", rt.civil.year,
			    rt.civil.month, rt.civil.day);
		else {
			struct tz_civil uc;

			tz_epoch_to_civil(recur_time_utc(&rt), &uc);
			xasprintf(&r, "%04d%02d%02dT%02d%02d%02dZ", uc.year,
			    uc.month, uc.day, uc.hour, uc.minute, uc.second);
		}
		it->rid = own(u, r);
	}
	p = icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY);
	it->sequence = p != NULL ? icalproperty_get_sequence(p) : 0;
	it->summary = prop_text(u, c, ICAL_SUMMARY_PROPERTY);
	it->location = prop_text(u, c, ICAL_LOCATION_PROPERTY);
	it->description = prop_text(u, c, ICAL_DESCRIPTION_PROPERTY);
	it->status = prop_text(u, c, ICAL_STATUS_PROPERTY);
	it->category = classifier_category(u->ctx->classifier, cats, ncats,
	    it->summary, u->fallback >= 0 ? (enum dj_category)u->fallback :
	    DJ_CAT_OTHER);
	it->meeting_type = classifier_meeting(u->ctx->classifier, cats, ncats,
	    it->summary, it->category);
	if (it->kind == DJ_KIND_TASK) {
		p = icalcomponent_get_first_property(c, ICAL_DUE_PROPERTY);
		if (p != NULL &&
		    recur_time_get(p, zones, u->ctx->zone, &rt) == 0) {
			it->has_due = 1;
			it->due = recur_time_utc(&rt);
			it->due_all_day = rt.is_date;
		}
		p = icalcomponent_get_first_property(c,
		    ICAL_COMPLETED_PROPERTY);
		if (p != NULL &&
		    recur_time_get(p, zones, u->ctx->zone, &rt) == 0) {
			it->has_completed = 1;
			it->completed = recur_time_utc(&rt);
		}
	}
	it->alarms = own(u, update_alarms(c));
}

static int
collect_occ(const struct recur_occ *o, void *arg)
{
	struct update_run *u = arg;
	struct store_occ *so;

	if (u->nocc == u->capocc) {
		u->capocc = u->capocc == 0 ? 64 : u->capocc * 2;
		u->occs = xreallocarray(u->occs, u->capocc, sizeof *u->occs);
	}
	so = &u->occs[u->nocc++];
	so->item = (int)o->comp;
	so->start = o->start;
	so->end = o->end;
	so->all_day = o->all_day;
	so->has_rid = o->has_rid;
	so->rid = o->rid;
	so->rid_all_day = o->rid_all_day;
	return 0;
}

static void
series_problem(struct update_run *u, const struct ingest_series *s,
    const char *what)
{
	char *p, *t = u->res->problems;

	if (u->quiet)
		return;
	/* Listed up to the ingest's own limit, then counted: appending to
	 * one string per broken series of a huge feed is quadratic. */
	if (u->nproblems >= INGEST_MAX_PROBLEMS) {
		u->more_problems++;
		return;
	}
	u->nproblems++;
	xasprintf(&p, "%s%sline %u: uid %s: %s", t != NULL ? t : "",
	    t != NULL ? "; " : "", s->lines[0], s->uid, what);
	free(t);
	u->res->problems = p;
}

static int
sink_zone(const char *tzid, const char *text, size_t len, void *arg)
{
	struct update_run *u = arg;

	if (store_ingest_zone(u->in, tzid, text, len) == -1) {
		u->failed = 1;
		return -1;
	}
	return 0;
}

static int
sink_series(const struct ingest_series *s, void *arg)
{
	struct update_run *u = arg;
	struct recur_series *rs;
	struct store_series ss;
	char *cause = NULL, *warnings = NULL;
	size_t i;
	int rc;

	if (!u->force && store_ingest_unchanged(u->in, s->uid, s->hash)) {
		u->res->unchanged++;
		return 0;
	}
	memset(&ss, 0, sizeof ss);
	u->items = xreallocarray(u->items, s->ncomps, sizeof *u->items);
	for (i = 0; i < s->ncomps; i++)
		fill_item(u, s->comps[i], (int)i, s->zones, &u->items[i]);
	u->nocc = 0;
	rs = recur_series_new(s->comps, s->cals, s->ncomps, s->zones,
	    u->ctx->zone,
	    &cause, &warnings);
	if (rs == NULL) {
		/* An undated task is listed; anything else is reported. */
		if (u->items[0].kind != DJ_KIND_TASK)
			series_problem(u, s, cause);
		free(cause);
		cause = NULL;
	} else {
		time_t first, last;
		int unbounded;

		recur_series_span(rs, &first, &last, &unbounded);
		ss.recurring = recur_series_recurring(rs);
		ss.span_start = first;
		ss.span_end = last;
		ss.unbounded = unbounded;
		if (ss.recurring)
			rc = recur_expand(rs, u->mat_from, u->mat_to,
			    RECUR_START_IN, collect_occ, u, &cause);
		else
			rc = recur_expand(rs, UPDATE_FAR_PAST,
			    RECUR_FAR_FUTURE, RECUR_OVERLAP, collect_occ, u,
			    &cause);
		if (rc == -1) {
			series_problem(u, s, cause);
			free(cause);
		}
		recur_series_free(rs);
	}
	if (warnings != NULL) {
		series_problem(u, s, warnings);
		free(warnings);
	}
	ss.uid = s->uid;
	ss.ical = s->text;
	ss.icallen = s->textlen;
	ss.hash = s->hash;
	ss.items = u->items;
	ss.nitems = s->ncomps;
	ss.occs = u->occs;
	ss.nocc = u->nocc;
	rc = store_ingest_series(u->in, &ss);
	own_free(u);
	if (rc == -1) {
		u->failed = 1;
		return -1;
	}
	u->res->changed++;
	return 0;
}

/* Expanding again what an incomplete body no longer holds */

static int
zone_add_cb(const char *tzid, const char *ical, void *arg)
{
	icalcomponent *c;
	char *cause = NULL;

	(void)tzid;
	if ((c = icalparser_parse_string(ical)) == NULL)
		return 0;
	if (tzmap_add(arg, c, &cause) == -1)
		free(cause);
	icalcomponent_free(c);
	return 0;
}

struct reexpand {
	struct update_run	*u;
	struct tzmap		*zones;
};

static int
reexpand_cb(const char *uid, const char *ical, void *arg)
{
	struct reexpand *x = arg;
	struct ingest_opts opts;
	struct ingest_sink sink;
	struct ingest_report rep;
	char *cause = NULL;

	(void)uid;
	memset(&opts, 0, sizeof opts);
	opts.bare_zones = x->zones;
	memset(&sink, 0, sizeof sink);
	sink.series = sink_series;
	sink.arg = x->u;
	ingest_body(ical, strlen(ical), &opts, &sink, &rep, &cause);
	free(cause);
	ingest_report_free(&rep);
	return x->u->failed ? -1 : 0;
}

/*
 * A body that ends early removes nothing, so the series it no longer holds
 * stay.  Their occurrences are for the window they were stored in; when the
 * feed's window moved, they are expanded again from their stored text, or
 * rows and on-the-fly expansion would overlap at one edge of the window and
 * leave a gap at the other.
 */
static int
reexpand_unseen(struct update_run *u, int64_t feed_id)
{
	struct reexpand x;
	int rc;

	x.u = u;
	x.zones = tzmap_new();
	if (store_zones(u->ctx->store, feed_id, zone_add_cb, x.zones) == -1) {
		tzmap_free(x.zones);
		u->failed = 1;
		return -1;
	}
	u->quiet = 1;
	rc = store_ingest_unseen(u->in, reexpand_cb, &x);
	u->quiet = 0;
	tzmap_free(x.zones);
	if (rc != 0)
		u->failed = 1;
	return rc != 0 ? -1 : 0;
}

static void
join_problems(struct update_result *res, const struct ingest_report *rep)
{
	char *ing = ingest_report_summary(rep), *t;

	if (ing == NULL)
		return;
	if (res->problems == NULL) {
		res->problems = ing;
		return;
	}
	xasprintf(&t, "%s; %s", ing, res->problems);
	free(ing);
	free(res->problems);
	res->problems = t;
}

int
update_feed_body(const struct update_ctx *ctx, int64_t feed_id, int fallback,
    const char *body, size_t len, int force, struct update_result *res,
    char **cause)
{
	struct ingest_report rep;
	struct ingest_opts opts;
	struct ingest_sink sink;
	struct store_ingest_end end;
	struct update_run u;
	char *icause = NULL;
	size_t budget;
	int rc, keep;

	memset(res, 0, sizeof *res);
	memset(&u, 0, sizeof u);
	u.ctx = ctx;
	u.fallback = fallback;
	u.force = force;
	u.res = res;
	u.report = &rep;
	update_window(ctx, &u.mat_from, &u.mat_to);
	if ((u.in = store_ingest_begin(ctx->store, feed_id, u.mat_from,
	    u.mat_to, cause)) == NULL)
		return -1;
	memset(&opts, 0, sizeof opts);
	opts.max_items = ctx->max_items;
	sink.zone = sink_zone;
	sink.series = sink_series;
	sink.arg = &u;
	/* A feed of many long rules (a recurrence bomb) must not hold the
	 * loop for minutes: its expansions share one budget. */
	budget = recur_budget(RECUR_BUDGET);
	rc = ingest_body(body, len, &opts, &sink, &rep, &icause);
	/*
	 * Only a body cut off removes nothing.  One past max_items counts as
	 * complete: the feed keeps its first max_items UIDs and loses the
	 * others, so it never holds more than max_items, however often the
	 * server changes its UIDs.
	 */
	keep = rep.truncated && rep.over_limit == 0;
	if (rc == 0 && keep && !store_ingest_same_window(u.in) &&
	    reexpand_unseen(&u, feed_id) == -1)
		rc = -1;
	recur_budget(budget);
	if (u.more_problems > 0) {
		char *t;

		xasprintf(&t, "%s; and %zu more", res->problems,
		    u.more_problems);
		free(res->problems);
		res->problems = t;
	}
	free(u.items);
	free(u.occs);
	own_free(&u);
	free(u.owned);
	res->skipped = rep.skipped;
	res->truncated = keep;
	join_problems(res, &rep);
	ingest_report_free(&rep);
	if (rc == -1) {
		/* The reason before the rollback replaces it. */
		if (u.failed) {
			free(icause);
			xasprintf(cause, "database: %s",
			    store_errmsg(ctx->store));
		} else
			*cause = icause;
		store_ingest_abort(u.in);
		return -1;
	}
	memset(&end, 0, sizeof end);
	end.complete = !res->truncated;
	end.body_hash = ingest_hash(body, len);
	end.problems = res->problems;
	if (store_ingest_commit(u.in, &end, &res->items, &res->removed,
	    cause) == -1)
		return -1;
	return 0;
}
