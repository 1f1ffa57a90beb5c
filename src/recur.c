/*
 * Recurrence expansion (RFC 5545 3.8.5): DTSTART, RRULE, RDATE, EXDATE and
 * RECURRENCE-ID overrides of one UID, in a window.
 *
 * libical's iterator does the calendar arithmetic of an RRULE on wall-clock
 * values; everything that involves a zone is done here: the iterator is fed
 * DTSTART as a floating value, UNTIL is moved into DTSTART's zone first, and
 * each instance becomes an instant through tz_to_utc (RFC 5545's gap and
 * overlap rules, which libical 3.0 gets wrong).
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "djcal/recur.h"
#include "djcal/xmalloc.h"

/* A length: nominal days (same wall time N days later) plus exact seconds. */
struct span_len {
	int		days;
	int64_t		secs;
};

struct rdate {
	time_t		start;
	time_t		end;		/* when has_end (a PERIOD) */
	int		has_end;
	int		is_date;
	long long	day;		/* civil day of the value */
};

/* One master component: a recurrence set of its own. */
struct master {
	size_t		 comp;
	struct tz_civil	 dtstart;	/* wall clock in zone */
	const struct tz	*zone;		/* zone of the wall clock */
	int		 all_day;
	int		 floating;	/* DTSTART has no zone */
	time_t		 dtstart_utc;
	struct span_len	 len;

	struct icalrecurrencetype *rules;
	size_t		 nrules;
	struct rdate	*rdates;
	size_t		 nrdates;
	time_t		*exdates;	/* sorted instants */
	size_t		 nexdates;
	long long	*exdays;	/* sorted civil days (DATE EXDATEs) */
	size_t		 nexdays;
	int		 recurring;
};

struct override {
	size_t		 comp;
	time_t		 rid;		/* instant (a DATE: floating midnight) */
	int		 rid_is_date;
	long long	 rid_day;	/* civil day of the RID value */
	time_t		 start, end;
	int		 all_day;
};

struct recur_series {
	icalcomponent *const *comps;
	size_t		 ncomps;
	const struct tz	*floating;
	struct master	*m;
	size_t		 nm;
	struct override	*ovr;		/* sorted by rid */
	size_t		 novr;
	long long	*ovr_days;	/* sorted rid_day of day-matching ones */
	size_t		 novr_days;
	int		 recurring;
	time_t		 first, last;
	int		 unbounded;
};

/*
 * Rule steps that expansions may still take (recur_budget); SIZE_MAX: no
 * budget.  One variable for the process: the daemon has one thread, and a
 * budget is set around one feed body or one query.
 */
static size_t recur_steps_left = SIZE_MAX;
static size_t recur_budget_size = SIZE_MAX;	/* as set, for messages */

/* Civil arithmetic */

static long long
civil_day(const struct tz_civil *c)
{
	return tz_days_from_civil(c->year, c->month, c->day);
}

static void
civil_add_days(struct tz_civil *c, long long days)
{
	tz_civil_from_days(civil_day(c) + days, &c->year, &c->month, &c->day);
}

static struct tz_civil
civil_from_ical(struct icaltimetype t)
{
	struct tz_civil c;

	c.year = t.year;
	c.month = t.month;
	c.day = t.day;
	if (t.is_date)
		c.hour = c.minute = c.second = 0;
	else {
		c.hour = t.hour;
		c.minute = t.minute;
		c.second = t.second;
	}
	return c;
}

static struct icaltimetype
ical_from_civil(const struct tz_civil *c, int is_date)
{
	struct icaltimetype t = icaltime_null_time();

	t.year = c->year;
	t.month = c->month;
	t.day = c->day;
	t.is_date = is_date;
	if (!is_date) {
		t.hour = c->hour;
		t.minute = c->minute;
		t.second = c->second;
	}
	return t;
}

static int
civil_cmp(const struct tz_civil *a, const struct tz_civil *b)
{
	long long da = civil_day(a), db = civil_day(b);
	int sa, sb;

	if (da != db)
		return da < db ? -1 : 1;
	sa = a->hour * 3600 + a->minute * 60 + a->second;
	sb = b->hour * 3600 + b->minute * 60 + b->second;
	return sa < sb ? -1 : sa > sb;
}

/* Reading time values */

static const char *
prop_tzid(icalproperty *p)
{
	icalparameter *par;

	par = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	return par == NULL ? NULL : icalparameter_get_tzid(par);
}

static int
time_from_value(struct icaltimetype t, const char *tzid, struct tzmap *zones,
    const struct tz *floating, struct recur_time *out)
{
	const struct tz *z = NULL;

	if (icaltime_is_null_time(t) || t.year < 1 || t.month < 1 ||
	    t.month > 12 || t.day < 1 || t.day > 31)
		return -1;
	memset(out, 0, sizeof *out);
	out->civil = civil_from_ical(t);
	out->is_date = t.is_date;
	if (t.is_date) {
		out->zone = floating;
		out->floating = 1;
		return 0;
	}
	if (icaltime_is_utc(t))
		z = tz_utc();
	else if (tzid != NULL && zones != NULL)
		z = tzmap_get(zones, tzid);
	if (z == NULL) {
		out->zone = floating;
		out->floating = 1;
	} else
		out->zone = z;
	return 0;
}

int
recur_time_get(icalproperty *p, struct tzmap *zones, const struct tz *floating,
    struct recur_time *out)
{
	icalvalue *v;
	icalvalue_kind k;

	if (p == NULL || (v = icalproperty_get_value(p)) == NULL)
		return -1;
	k = icalvalue_isa(v);
	if (k != ICAL_DATETIME_VALUE && k != ICAL_DATE_VALUE &&
	    k != ICAL_DATETIMEDATE_VALUE)
		return -1;
	return time_from_value(icalvalue_get_datetime(v), prop_tzid(p), zones,
	    floating, out);
}

time_t
recur_time_utc(const struct recur_time *t)
{
	return tz_to_utc(t->zone, &t->civil);
}

/* The zone a master's instances are read in. */
static const struct tz *
master_zone(const struct recur_series *s, const struct master *m)
{
	return m->all_day ? s->floating : m->zone;
}

/* The end of an instance of m that starts at civil c, instant t. */
static time_t
instance_end(const struct recur_series *s, const struct master *m,
    const struct tz_civil *c, time_t t)
{
	struct tz_civil e;

	if (m->len.days == 0)
		return t + m->len.secs;
	e = *c;
	civil_add_days(&e, m->len.days);
	return tz_to_utc(master_zone(s, m), &e) + m->len.secs;
}

/*
 * The length of a component from DTSTART to DTEND/DUE or by DURATION
 * (RFC 5545 3.8.2.5): exact for DATE-TIMEs, nominal days for DATEs and for
 * the day and week parts of a DURATION.  A DATE's DURATION counts whole
 * days only (RFC 5545 requires dur-day or dur-week there).
 */
static void
component_len(icalcomponent *c, const struct recur_time *st, time_t st_utc,
    struct tzmap *zones, const struct tz *floating, int is_todo,
    struct span_len *len)
{
	icalproperty *p;
	struct recur_time et;
	time_t eu;

	len->days = 0;
	len->secs = 0;
	p = icalcomponent_get_first_property(c,
	    is_todo ? ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY);
	if (p != NULL && recur_time_get(p, zones, floating, &et) == 0) {
		if (st->is_date && et.is_date) {
			long long d = civil_day(&et.civil) -
			    civil_day(&st->civil);

			len->days = d > 0 ? (int)d : 0;
			return;
		}
		eu = recur_time_utc(&et);
		len->secs = eu > st_utc ? eu - st_utc : 0;
		return;
	}
	p = icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY);
	if (p != NULL) {
		struct icaldurationtype d = icalproperty_get_duration(p);

		if (!icaldurationtype_is_bad_duration(d) && !d.is_neg) {
			len->days = (int)(d.weeks * 7 + d.days);
			if (!st->is_date)
				len->secs = (int64_t)d.hours * 3600 +
				    (int64_t)d.minutes * 60 + d.seconds;
		}
		return;
	}
	if (st->is_date)
		len->days = 1;
}

/* Warnings */

static void
warn_add(char **warnings, const char *msg)
{
	char *joined;

	if (warnings == NULL)
		return;
	if (*warnings == NULL)
		*warnings = xstrdup(msg);
	else if (strstr(*warnings, msg) == NULL) {
		xasprintf(&joined, "%s; %s", *warnings, msg);
		free(*warnings);
		*warnings = joined;
	}
}

/* Choosing components */

static int
comp_has_sequence(icalcomponent *c)
{
	return icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY) !=
	    NULL;
}

static int
comp_sequence(icalcomponent *c)
{
	icalproperty *p;

	p = icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY);
	return p == NULL ? 0 : icalproperty_get_sequence(p);
}

static int
comp_is_override(icalcomponent *c)
{
	return icalcomponent_get_first_property(c,
	    ICAL_RECURRENCEID_PROPERTY) != NULL;
}

/*
 * The masters to expand.  Several components without RECURRENCE-ID in one
 * calendar are versions of one event when every one carries SEQUENCE: the
 * highest (then the last) wins.  Without SEQUENCE on all of them nothing
 * says which is current, so each is listed; calendars in one body are read
 * independently.  Returns the chosen indexes in *out (caller frees).
 */
static size_t
pick_masters(icalcomponent *const *comps, const int *cals, size_t n,
    size_t **out, char **warnings)
{
	size_t i, j, k = 0;
	size_t *v = xcalloc(n, sizeof *v);
	int *done = xcalloc(n, sizeof *done);

	for (i = 0; i < n; i++) {
		int cal = cals != NULL ? cals[i] : 0, all_seq = 1, count = 0;
		int best = -1, bestseq = INT_MIN;

		if (done[i] || comp_is_override(comps[i]))
			continue;
		for (j = i; j < n; j++) {
			if (comp_is_override(comps[j]) ||
			    (cals != NULL ? cals[j] : 0) != cal)
				continue;
			count++;
			if (!comp_has_sequence(comps[j]))
				all_seq = 0;
		}
		for (j = i; j < n; j++) {
			if (comp_is_override(comps[j]) ||
			    (cals != NULL ? cals[j] : 0) != cal)
				continue;
			done[j] = 1;
			if (!all_seq || count == 1) {
				v[k++] = j;
				continue;
			}
			if (comp_sequence(comps[j]) >= bestseq) {
				bestseq = comp_sequence(comps[j]);
				best = (int)j;
			}
		}
		if (best >= 0)
			v[k++] = (size_t)best;
		if (count > 1)
			warn_add(warnings, all_seq ? "several versions of one "
			    "event: the highest SEQUENCE (then the last) wins" :
			    "several components without RECURRENCE-ID and "
			    "without SEQUENCE: each is listed");
	}
	free(done);
	*out = v;
	return k;
}

/* The start of a component: DTSTART, or a VTODO's DUE. */
static icalproperty *
start_prop(icalcomponent *c, int *at_due)
{
	icalproperty *p;

	*at_due = 0;
	p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	if (p == NULL && icalcomponent_isa(c) == ICAL_VTODO_COMPONENT) {
		p = icalcomponent_get_first_property(c, ICAL_DUE_PROPERTY);
		*at_due = 1;
	}
	return p;
}

/* The timing of one component: start, zone, length. */
static int
comp_timing(icalcomponent *c, struct tzmap *zones, const struct tz *floating,
    struct recur_time *st, time_t *start, struct span_len *len)
{
	icalproperty *p;
	int at_due;

	if ((p = start_prop(c, &at_due)) == NULL ||
	    recur_time_get(p, zones, floating, st) == -1)
		return -1;
	*start = recur_time_utc(st);
	memset(len, 0, sizeof *len);
	if (!at_due)
		component_len(c, st, *start, zones, floating,
		    icalcomponent_isa(c) == ICAL_VTODO_COMPONENT, len);
	return 0;
}

static time_t
timing_end(const struct recur_time *st, time_t start,
    const struct span_len *len)
{
	struct tz_civil e;
	time_t end;

	if (len->days == 0)
		return start + len->secs;
	e = st->civil;
	civil_add_days(&e, len->days);
	end = tz_to_utc(st->zone, &e) + len->secs;
	return end < start ? start : end;
}

/* Collecting RRULE, RDATE, EXDATE */

static int
cmp_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void
collect_rules(struct master *m, icalcomponent *c, char **warnings)
{
	icalproperty *p;
	size_t cap = 0;

	for (p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(c, ICAL_RRULE_PROPERTY)) {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);

		if (r.freq == ICAL_NO_RECURRENCE || r.interval < 1) {
			warn_add(warnings, "an RRULE without a usable FREQ or "
			    "INTERVAL was ignored");
			continue;
		}
		if (m->nrules == cap) {
			cap = cap == 0 ? 2 : cap * 2;
			m->rules = xreallocarray(m->rules, cap,
			    sizeof *m->rules);
		}
		m->rules[m->nrules++] = r;
	}
}

static void
collect_rdates(const struct recur_series *s, struct master *m,
    icalcomponent *c, struct tzmap *zones)
{
	icalproperty *p;
	size_t cap = 0;

	for (p = icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(c, ICAL_RDATE_PROPERTY)) {
		struct icaldatetimeperiodtype dp = icalproperty_get_rdate(p);
		struct recur_time rt;
		struct rdate rd;

		memset(&rd, 0, sizeof rd);
		if (!icaltime_is_null_time(dp.time)) {
			if (time_from_value(dp.time, prop_tzid(p), zones,
			    s->floating, &rt) == -1)
				continue;
			rd.is_date = rt.is_date;
			rd.day = civil_day(&rt.civil);
			rd.start = recur_time_utc(&rt);
		} else if (!icalperiodtype_is_null_period(dp.period)) {
			struct icalperiodtype per = dp.period;

			if (time_from_value(per.start, prop_tzid(p), zones,
			    s->floating, &rt) == -1)
				continue;
			rd.start = recur_time_utc(&rt);
			rd.day = civil_day(&rt.civil);
			rd.has_end = 1;
			if (!icaltime_is_null_time(per.end)) {
				struct recur_time et;

				if (time_from_value(per.end, prop_tzid(p),
				    zones, s->floating, &et) == -1)
					continue;
				rd.end = recur_time_utc(&et);
			} else
				rd.end = rd.start + icaldurationtype_as_int(
				    per.duration);
			if (rd.end < rd.start)
				rd.end = rd.start;
		} else
			continue;
		if (m->nrdates == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			m->rdates = xreallocarray(m->rdates, cap,
			    sizeof *m->rdates);
		}
		m->rdates[m->nrdates++] = rd;
	}
}

static void
collect_exdates(const struct recur_series *s, struct master *m,
    icalcomponent *c, struct tzmap *zones)
{
	icalproperty *p;
	size_t cap = 0, dcap = 0;

	for (p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
		struct recur_time rt;

		if (time_from_value(icalproperty_get_exdate(p), prop_tzid(p),
		    zones, s->floating, &rt) == -1)
			continue;
		/*
		 * A DATE excludes that day; on an all-day series any EXDATE
		 * excludes its day (by its own wall clock).
		 */
		if (rt.is_date || m->all_day) {
			if (m->nexdays == dcap) {
				dcap = dcap == 0 ? 8 : dcap * 2;
				m->exdays = xreallocarray(m->exdays, dcap,
				    sizeof *m->exdays);
			}
			m->exdays[m->nexdays++] = civil_day(&rt.civil);
			continue;
		}
		/*
		 * A floating series has no instants of its own: its EXDATEs
		 * name wall-clock times, whatever zone they are written in
		 * (Google and Outlook write them in UTC).
		 */
		if (m->floating)
			rt.zone = s->floating;
		if (m->nexdates == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			m->exdates = xreallocarray(m->exdates, cap,
			    sizeof *m->exdates);
		}
		m->exdates[m->nexdates++] = recur_time_utc(&rt);
	}
	if (m->nexdates > 1)
		qsort(m->exdates, m->nexdates, sizeof *m->exdates, cmp_time);
	if (m->nexdays > 1)
		qsort(m->exdays, m->nexdays, sizeof *m->exdays, cmp_ll);
}

static int
master_init(const struct recur_series *s, struct master *m, size_t comp,
    struct tzmap *zones, char **warnings)
{
	icalcomponent *c = s->comps[comp];
	struct recur_time st;

	memset(m, 0, sizeof *m);
	m->comp = comp;
	if (comp_timing(c, zones, s->floating, &st, &m->dtstart_utc,
	    &m->len) == -1)
		return -1;
	m->dtstart = st.civil;
	m->zone = st.zone;
	m->all_day = st.is_date;
	m->floating = st.floating;
	collect_rules(m, c, warnings);
	collect_rdates(s, m, c, zones);
	collect_exdates(s, m, c, zones);
	m->recurring = m->nrules > 0 || m->nrdates > 0;
	return 0;
}

static void
master_free(struct master *m)
{
	free(m->rules);
	free(m->rdates);
	free(m->exdates);
	free(m->exdays);
}

static int
cmp_ovr(const void *a, const void *b)
{
	const struct override *x = a, *y = b;

	if (x->rid != y->rid)
		return x->rid < y->rid ? -1 : 1;
	return x->comp < y->comp ? -1 : x->comp > y->comp;
}

/* Overrides: one per RECURRENCE-ID; the highest SEQUENCE, then the last. */
static void
collect_overrides(struct recur_series *s, struct tzmap *zones,
    char **warnings)
{
	const struct master *m0 = s->nm > 0 ? &s->m[0] : NULL;
	size_t i, j, cap = 0;

	for (i = 0; i < s->ncomps; i++) {
		icalcomponent *c = s->comps[i];
		struct recur_time rt, st;
		struct span_len len;
		struct override o;
		icalproperty *p;

		p = icalcomponent_get_first_property(c,
		    ICAL_RECURRENCEID_PROPERTY);
		if (p == NULL)
			continue;
		if (recur_time_get(p, zones, s->floating, &rt) == -1) {
			warn_add(warnings, "an override with an unreadable "
			    "RECURRENCE-ID was skipped");
			continue;
		}
		memset(&o, 0, sizeof o);
		o.comp = i;
		o.rid_is_date = rt.is_date;
		o.rid_day = civil_day(&rt.civil);
		if (m0 != NULL && m0->floating && !rt.is_date)
			rt.zone = s->floating;
		o.rid = recur_time_utc(&rt);
		if (comp_timing(c, zones, s->floating, &st, &o.start,
		    &len) == 0) {
			o.all_day = st.is_date;
			o.end = timing_end(&st, o.start, &len);
		} else {
			/* No DTSTART of its own: the instance keeps its time
			 * and the master's length. */
			o.start = o.end = o.rid;
			o.all_day = rt.is_date;
			if (m0 != NULL) {
				struct tz_civil lc;

				tz_from_utc(master_zone(s, m0), o.rid, &lc);
				o.end = instance_end(s, m0, &lc, o.start);
			}
		}
		if (s->novr == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			s->ovr = xreallocarray(s->ovr, cap, sizeof *s->ovr);
		}
		s->ovr[s->novr++] = o;
	}
	if (s->novr > 1)
		qsort(s->ovr, s->novr, sizeof *s->ovr, cmp_ovr);
	for (i = 0, j = 0; i < s->novr; i++) {
		if (j > 0 && s->ovr[j - 1].rid == s->ovr[i].rid) {
			if (comp_sequence(s->comps[s->ovr[i].comp]) >=
			    comp_sequence(s->comps[s->ovr[j - 1].comp]))
				s->ovr[j - 1] = s->ovr[i];
			warn_add(warnings, "two overrides of one instance: "
			    "the highest SEQUENCE (then the last) wins");
			continue;
		}
		s->ovr[j++] = s->ovr[i];
	}
	s->novr = j;
	/* Overrides that name a day rather than an instant. */
	for (i = 0; i < s->novr; i++)
		if (s->ovr[i].rid_is_date || (m0 != NULL && m0->all_day)) {
			s->ovr_days = xreallocarray(s->ovr_days,
			    s->novr_days + 1, sizeof *s->ovr_days);
			s->ovr_days[s->novr_days++] = s->ovr[i].rid_day;
		}
	if (s->novr_days > 1)
		qsort(s->ovr_days, s->novr_days, sizeof *s->ovr_days, cmp_ll);
}

/* Matching instances against EXDATE and overrides */

static int
exdate_hit(const struct master *m, time_t t, long long day)
{
	if (m->nexdates > 0 && bsearch(&t, m->exdates, m->nexdates,
	    sizeof *m->exdates, cmp_time) != NULL)
		return 1;
	if (m->nexdays > 0 && bsearch(&day, m->exdays, m->nexdays,
	    sizeof *m->exdays, cmp_ll) != NULL)
		return 1;
	return 0;
}

/* Whether an override replaces the instance with rid t on day. */
static int
override_hit(const struct recur_series *s, time_t t, long long day)
{
	size_t lo = 0, hi = s->novr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->ovr[mid].rid < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->novr && s->ovr[lo].rid == t)
		return 1;
	return s->novr_days > 0 && bsearch(&day, s->ovr_days, s->novr_days,
	    sizeof *s->ovr_days, cmp_ll) != NULL;
}

/* Expansion */

static int
in_window(time_t start, time_t end, time_t from, time_t to,
    enum recur_mode mode)
{
	if (mode == RECUR_START_IN || start == end)
		return start >= from && start < to;
	return start < to && end > from;
}

typedef int (*instance_cb)(const struct master *, time_t start, time_t end,
    void *arg);

/* An UNTIL in the terms of DTSTART (RFC 5545 3.3.10): a UTC UNTIL moves
 * into the master's zone; a DATE UNTIL of a timed series ends that day. */
static void
rule_until_local(const struct recur_series *s, const struct master *m,
    struct icalrecurrencetype *r)
{
	struct tz_civil uc;

	if (icaltime_is_null_time(r->until))
		return;
	uc = civil_from_ical(r->until);
	if (icaltime_is_utc(r->until) && !m->all_day && !m->floating)
		tz_from_utc(master_zone(s, m), tz_civil_to_epoch(&uc), &uc);
	if (m->all_day) {
		r->until = ical_from_civil(&uc, 1);
		return;
	}
	if (r->until.is_date) {
		uc.hour = 23;
		uc.minute = 59;
		uc.second = 59;
	}
	r->until = ical_from_civil(&uc, 0);
}

/*
 * Give a rule an UNTIL no later than the walk's bound.  libical steps a
 * rule one FREQ x INTERVAL at a time until an instance passes the BY*
 * filters, checking UNTIL at each step but the caller's bound only when an
 * instance comes out: a rule whose filters never match
 * (FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30) would step on to libical's last
 * year, 2582, which takes hours for a sub-daily rule.  A sub-daily rule is
 * also walked at most RECUR_MAX_INSTANCES steps from DTSTART (where its walk
 * starts); returns 1 when that cap, not the rule or the bound, ends the
 * walk.
 */
static int
rule_limit(const struct master *m, struct icalrecurrencetype *r,
    const struct tz_civil *bound)
{
	struct tz_civil lim = *bound, u;
	int capped = 0;

	if (r->freq == ICAL_SECONDLY_RECURRENCE ||
	    r->freq == ICAL_MINUTELY_RECURRENCE ||
	    r->freq == ICAL_HOURLY_RECURRENCE) {
		int64_t unit = r->freq == ICAL_SECONDLY_RECURRENCE ? 1 :
		    r->freq == ICAL_MINUTELY_RECURRENCE ? 60 : 3600;
		struct tz_civil cap;

		tz_epoch_to_civil(tz_civil_to_epoch(&m->dtstart) +
		    (time_t)((int64_t)RECUR_MAX_INSTANCES * r->interval * unit),
		    &cap);
		if (civil_cmp(&cap, &lim) < 0) {
			lim = cap;
			capped = 1;
		}
	}
	if (!icaltime_is_null_time(r->until)) {
		u = civil_from_ical(r->until);
		if (civil_cmp(&u, &lim) <= 0)
			return 0;	/* the rule's own UNTIL comes first */
	}
	r->until = ical_from_civil(&lim, m->all_day);
	return capped;
}

/*
 * One instance of a rule at wall clock c: 0 go on, 1 the callback stopped
 * the walk, 2 past the end of the walk.
 */
static int
rule_instance(const struct recur_series *s, const struct master *m,
    const struct tz_civil *c, const struct tz_civil *bound, time_t from,
    time_t to, enum recur_mode mode, instance_cb cb, void *arg)
{
	time_t t, e;

	if (civil_cmp(c, bound) > 0)
		return 2;
	t = tz_to_utc(master_zone(s, m), c);
	if (t >= to)
		return 2;
	e = instance_end(s, m, c, t);
	if (!in_window(t, e, from, to, mode) || exdate_hit(m, t, civil_day(c)))
		return 0;
	return cb(m, t, e, arg) != 0 ? 1 : 0;
}

/* libical 3.0 applies BYSETPOS to MONTHLY and YEARLY rules only; for the
 * others it is done here. */
static int
rule_needs_setpos(const struct icalrecurrencetype *r)
{
	return r->by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX &&
	    r->freq != ICAL_MONTHLY_RECURRENCE &&
	    r->freq != ICAL_YEARLY_RECURRENCE;
}

/*
 * libical 3.0 never matches a negative BYMONTHDAY of a DAILY or finer rule
 * (FREQ=DAILY;BYMONTHDAY=-1 gave nothing), so BYMONTHDAY, a plain limit at
 * these frequencies (RFC 5545 3.3.10), is applied here.
 */
static int
rule_needs_monthday(const struct icalrecurrencetype *r)
{
	return r->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX &&
	    (r->freq == ICAL_DAILY_RECURRENCE ||
	    r->freq == ICAL_HOURLY_RECURRENCE ||
	    r->freq == ICAL_MINUTELY_RECURRENCE ||
	    r->freq == ICAL_SECONDLY_RECURRENCE);
}

/* Whether a day is one of a rule's BYMONTHDAY (negative: from the end). */
static int
monthday_match(const struct icalrecurrencetype *r, const struct tz_civil *c)
{
	long long first = tz_days_from_civil(c->year, c->month, 1);
	long long next = c->month == 12 ?
	    tz_days_from_civil(c->year + 1, 1, 1) :
	    tz_days_from_civil(c->year, c->month + 1, 1);
	int dim = (int)(next - first), j, v;

	for (j = 0; j < ICAL_BY_MONTHDAY_SIZE &&
	    r->by_month_day[j] != ICAL_RECURRENCE_ARRAY_MAX; j++) {
		v = r->by_month_day[j];
		if (v == c->day || (v < 0 && dim + 1 + v == c->day))
			return 1;
	}
	return 0;
}

/* Whether a BYDAY entry has an ordinal (-1TH, 20MO). */
static int
byday_has_position(const struct icalrecurrencetype *r)
{
	int j;

	for (j = 0; j < ICAL_BY_DAY_SIZE &&
	    r->by_day[j] != ICAL_RECURRENCE_ARRAY_MAX; j++)
		if (icalrecurrencetype_day_position(r->by_day[j]) != 0)
			return 1;
	return 0;
}

/* WKST as a day of the week, 0 = Sunday (Monday when not given). */
static int
rule_wkst(const struct icalrecurrencetype *r)
{
	/* icalrecurrencetype_weekday: ICAL_SUNDAY_WEEKDAY (1) ... 7. */
	return r->week_start == ICAL_NO_WEEKDAY ? 1 : (int)r->week_start - 1;
}

/*
 * Whether an instance of a WEEKLY rule lies in one of its weeks: every
 * INTERVAL-th week (starting on WKST) from the one holding DTSTART.
 * libical 3.0 gets this phase wrong when DTSTART is not one of the BYDAY
 * days or WKST is not MO or SU (FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;WKST=MO
 * from a Monday skipped that week's Sunday), so it walks every week and
 * the weeks are chosen here.
 */
static int
week_match(const struct master *m, const struct icalrecurrencetype *r,
    const struct tz_civil *c)
{
	long long d0 = civil_day(&m->dtstart);
	long long w0 = d0 - (tz_weekday(m->dtstart.year, m->dtstart.month,
	    m->dtstart.day) - rule_wkst(r) + 7) % 7;
	long long d = civil_day(c);

	if (d < w0)
		return 0;
	return ((d - w0) / 7) % r->interval == 0;
}

/* The FREQ period (week by WKST, day, hour...) an instance is in. */
static long long
setpos_period(const struct icalrecurrencetype *r, const struct tz_civil *c)
{
	long long day = civil_day(c);
	int wkst, wd;

	switch (r->freq) {
	case ICAL_WEEKLY_RECURRENCE:
		wkst = rule_wkst(r);
		wd = tz_weekday(c->year, c->month, c->day);
		return day - (wd - wkst + 7) % 7;
	case ICAL_DAILY_RECURRENCE:
		return day;
	case ICAL_HOURLY_RECURRENCE:
		return day * 24 + c->hour;
	case ICAL_MINUTELY_RECURRENCE:
		return (day * 24 + c->hour) * 60 + c->minute;
	default:
		return ((day * 24 + c->hour) * 60 + c->minute) * 60 +
		    c->second;
	}
}

/*
 * The BYSETPOS choice among the instances of one period (from DTSTART on,
 * as python-dateutil does), counted against COUNT in *emitted.  Returns
 * as rule_instance; 2 also when COUNT is reached.
 */
static int
setpos_emit(const struct recur_series *s, const struct master *m,
    const struct icalrecurrencetype *orig, const struct tz_civil *g,
    size_t n, int *emitted, const struct tz_civil *bound, time_t from,
    time_t to, enum recur_mode mode, instance_cb cb, void *arg)
{
	size_t i, j;
	int rc, pick, p;

	for (i = 0; i < n; i++) {
		pick = 0;
		for (j = 0; j < ICAL_BY_SETPOS_SIZE &&
		    orig->by_set_pos[j] != ICAL_RECURRENCE_ARRAY_MAX; j++) {
			p = orig->by_set_pos[j];
			if ((p > 0 && (size_t)p == i + 1) ||
			    (p < 0 && (long long)n + p == (long long)i))
				pick = 1;
		}
		if (!pick)
			continue;
		if (orig->count > 0 && *emitted >= orig->count)
			return 2;
		(*emitted)++;
		if ((rc = rule_instance(s, m, &g[i], bound, from, to, mode, cb,
		    arg)) != 0)
			return rc;
	}
	return 0;
}

/*
 * Walk every RRULE of a master from DTSTART while instances start before
 * `to`, calling cb for each instance in the window that no EXDATE removes.
 * A rule without COUNT skips ahead with libical's set_start when the window
 * begins long after DTSTART; that is only used for DAILY and coarser rules,
 * where set_start agrees with a full walk (tests/check_recur.c checks it).
 * For sub-daily rules libical 3.0's set_start loses the INTERVAL's phase.
 */
static int
expand_rules(const struct recur_series *s, const struct master *m,
    time_t from, time_t to, enum recur_mode mode, instance_cb cb, void *arg,
    size_t *iters, char **cause)
{
	struct icaltimetype dt = ical_from_civil(&m->dtstart, m->all_day);
	const struct tz *z = master_zone(s, m);
	int64_t maxlen = (int64_t)m->len.days * 86400 + m->len.secs +
	    2 * 86400;
	struct tz_civil bound;
	size_t i, j;

	/* Instances are compared in wall-clock terms against a bound a day
	 * past `to`, so a zone's offset never cuts the walk short. */
	tz_from_utc(z, to >= RECUR_FAR_FUTURE - 86400 ? RECUR_FAR_FUTURE :
	    to + 86400, &bound);
	for (i = 0; i < m->nrules; i++) {
		struct icalrecurrencetype r = m->rules[i];
		icalrecur_iterator *it;
		struct icaltimetype n;
		struct tz_civil *grp = NULL;
		size_t ngrp = 0, capgrp = 0;
		long long period = 0;
		int capped, count = r.count, nret = 0, setpos, emitted = 0;
		int monthday, weeks, own, rc = 0;

		rule_until_local(s, m, &r);
		capped = rule_limit(m, &r, &bound);
		/* BYSETPOS, BYMONTHDAY below MONTHLY and the INTERVAL of a
		 * WEEKLY rule are done here: libical gives every instance,
		 * COUNT counts those kept. */
		setpos = rule_needs_setpos(&r);
		monthday = rule_needs_monthday(&r);
		weeks = r.freq == ICAL_WEEKLY_RECURRENCE && r.interval > 1;
		own = setpos || monthday || weeks;
		if (setpos)
			r.by_set_pos[0] = ICAL_RECURRENCE_ARRAY_MAX;
		if (monthday)
			r.by_month_day[0] = ICAL_RECURRENCE_ARRAY_MAX;
		if (weeks)
			r.interval = 1;
		if (own)
			r.count = 0;
		/* A YEARLY BYMONTHDAY expands to every month (RFC 5545
		 * 3.3.10); libical 3.0 keeps to DTSTART's month unless
		 * BYMONTH lists them.  (Not with BYDAY=20MO and the like:
		 * with BYMONTH those would count within the month.) */
		if (r.freq == ICAL_YEARLY_RECURRENCE &&
		    r.by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX &&
		    r.by_month[0] == ICAL_RECURRENCE_ARRAY_MAX &&
		    r.by_year_day[0] == ICAL_RECURRENCE_ARRAY_MAX &&
		    r.by_week_no[0] == ICAL_RECURRENCE_ARRAY_MAX &&
		    !byday_has_position(&r)) {
			for (j = 0; j < 12; j++)
				r.by_month[j] = (short)(j + 1);
			r.by_month[12] = ICAL_RECURRENCE_ARRAY_MAX;
		}
		if ((it = icalrecur_iterator_new(r, dt)) == NULL)
			continue;
		if (!setpos && count == 0 && r.freq >= ICAL_DAILY_RECURRENCE &&
		    r.freq != ICAL_NO_RECURRENCE &&
		    from - maxlen > m->dtstart_utc + 7 * 86400) {
			struct tz_civil fc;

			tz_from_utc(z, from - maxlen, &fc);
			icalrecur_iterator_set_start(it,
			    ical_from_civil(&fc, m->all_day));
		}
		while (!icaltime_is_null_time(n = icalrecur_iterator_next(it))) {
			struct tz_civil c = civil_from_ical(n);
			long long per;

			nret++;
			if (++*iters > RECUR_MAX_INSTANCES) {
				icalrecur_iterator_free(it);
				free(grp);
				xasprintf(cause, "recurrence stopped after %d "
				    "instances", RECUR_MAX_INSTANCES);
				return -1;
			}
			if (recur_steps_left != SIZE_MAX &&
			    recur_steps_left-- == 0) {
				recur_steps_left = 0;
				icalrecur_iterator_free(it);
				free(grp);
				xasprintf(cause, "recurrence not expanded: the "
				    "budget of %zu rule steps is spent (too "
				    "many long rules)", recur_budget_size);
				return -1;
			}
			if ((monthday && !monthday_match(&m->rules[i], &c)) ||
			    (weeks && !week_match(m, &m->rules[i], &c)))
				continue;
			if (!setpos) {
				if (own && count > 0 && emitted++ >= count) {
					rc = 2;
					break;
				}
				if ((rc = rule_instance(s, m, &c, &bound, from,
				    to, mode, cb, arg)) != 0)
					break;
				continue;
			}
			/* A period is complete when the next one begins. */
			per = setpos_period(&r, &c);
			if (ngrp > 0 && per != period) {
				rc = setpos_emit(s, m, &m->rules[i], grp, ngrp,
				    &emitted, &bound, from, to, mode, cb, arg);
				ngrp = 0;
				if (rc != 0)
					break;
			}
			if (ngrp == 0 && civil_cmp(&c, &bound) > 0) {
				rc = 2;
				break;
			}
			if (ngrp == capgrp) {
				capgrp = capgrp == 0 ? 16 : capgrp * 2;
				grp = xreallocarray(grp, capgrp, sizeof *grp);
			}
			grp[ngrp++] = c;
			period = per;
		}
		if (rc == 0 && ngrp > 0)
			rc = setpos_emit(s, m, &m->rules[i], grp, ngrp, &emitted,
			    &bound, from, to, mode, cb, arg);
		icalrecur_iterator_free(it);
		free(grp);
		if (rc == 1)
			return 1;
		if (own)
			nret = emitted;
		if (capped && rc == 0 && icaltime_is_null_time(n) &&
		    (count == 0 || nret < count)) {
			xasprintf(cause, "recurrence stopped after %d steps of "
			    "a sub-daily rule", RECUR_MAX_INSTANCES);
			return -1;
		}
	}
	return 0;
}

struct occ_buf {
	struct recur_occ	*v;
	size_t			 n, cap;
	const struct recur_series *s;
};

static void
buf_push(struct occ_buf *b, const struct recur_occ *o)
{
	if (b->n == b->cap) {
		b->cap = b->cap == 0 ? 16 : b->cap * 2;
		b->v = xreallocarray(b->v, b->cap, sizeof *b->v);
	}
	b->v[b->n++] = *o;
}

/* An instance of a master, unless an override replaces it. */
static int
push_instance(const struct master *m, time_t start, time_t end, void *arg)
{
	struct occ_buf *b = arg;
	const struct recur_series *s = b->s;
	struct recur_occ o;

	if (s->novr > 0) {
		struct tz_civil c;

		tz_from_utc(master_zone(s, m), start, &c);
		if (override_hit(s, start, civil_day(&c)))
			return 0;
	}
	memset(&o, 0, sizeof o);
	o.start = start;
	o.end = end < start ? start : end;
	o.all_day = m->all_day;
	o.has_rid = s->recurring;
	o.rid = start;
	o.rid_all_day = m->all_day;
	o.comp = m->comp;
	buf_push(b, &o);
	return 0;
}

static int
cmp_occ(const void *a, const void *b)
{
	const struct recur_occ *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->comp != y->comp)
		return x->comp < y->comp ? -1 : 1;
	if (x->rid != y->rid)
		return x->rid < y->rid ? -1 : 1;
	return 0;
}

/* DTSTART, the rules and the RDATEs of one master. */
static int
expand_master(const struct recur_series *s, const struct master *m,
    time_t from, time_t to, enum recur_mode mode, instance_cb cb, void *arg,
    size_t *iters, char **cause)
{
	time_t e;
	size_t i;
	int rc = 0;

	/* DTSTART is the first instance (RFC 5545 3.8.5.3). */
	e = instance_end(s, m, &m->dtstart, m->dtstart_utc);
	if (in_window(m->dtstart_utc, e, from, to, mode) && !(m->recurring &&
	    exdate_hit(m, m->dtstart_utc, civil_day(&m->dtstart))))
		if ((rc = cb(m, m->dtstart_utc, e, arg)) != 0)
			return rc;
	if (m->nrules > 0 && (rc = expand_rules(s, m, from, to, mode, cb, arg,
	    iters, cause)) != 0)
		return rc;
	for (i = 0; i < m->nrdates; i++) {
		const struct rdate *rd = &m->rdates[i];
		struct tz_civil c;
		time_t st = rd->start;

		if (rd->is_date && !m->all_day) {
			/* A DATE RDATE of a timed series: that day at
			 * DTSTART's time of day. */
			tz_civil_from_days(rd->day, &c.year, &c.month, &c.day);
			c.hour = m->dtstart.hour;
			c.minute = m->dtstart.minute;
			c.second = m->dtstart.second;
			st = tz_to_utc(master_zone(s, m), &c);
		} else
			tz_from_utc(master_zone(s, m), st, &c);
		e = rd->has_end ? rd->end : instance_end(s, m, &c, st);
		if (!in_window(st, e, from, to, mode) ||
		    exdate_hit(m, st, civil_day(&c)))
			continue;
		if ((rc = cb(m, st, e, arg)) != 0)
			return rc;
	}
	return 0;
}

size_t
recur_budget(size_t steps)
{
	size_t left = recur_steps_left;

	recur_steps_left = recur_budget_size = steps;
	return left;
}

int
recur_expand(const struct recur_series *s, time_t from, time_t to,
    enum recur_mode mode, recur_cb cb, void *arg, char **cause)
{
	struct occ_buf b;
	size_t i, iters = 0;
	int rc = 0, stopped = 0;

	memset(&b, 0, sizeof b);
	b.s = s;
	for (i = 0; i < s->nm && rc != -1; i++)
		rc = expand_master(s, &s->m[i], from, to, mode, push_instance,
		    &b, &iters, cause);
	for (i = 0; i < s->novr; i++) {
		const struct override *o = &s->ovr[i];
		struct recur_occ oc;

		if (!in_window(o->start, o->end, from, to, mode))
			continue;
		memset(&oc, 0, sizeof oc);
		oc.start = o->start;
		oc.end = o->end;
		oc.all_day = o->all_day;
		oc.has_rid = 1;
		oc.rid = o->rid;
		oc.rid_all_day = o->rid_is_date;
		oc.comp = o->comp;
		buf_push(&b, &oc);
	}
	if (b.n > 1)
		qsort(b.v, b.n, sizeof *b.v, cmp_occ);
	for (i = 0; i < b.n && !stopped; i++) {
		/* DTSTART or an RDATE equal to a rule instance: the set has
		 * it once (RFC 5545 3.8.5.2). */
		if (i > 0 && b.v[i].start == b.v[i - 1].start &&
		    b.v[i].comp == b.v[i - 1].comp &&
		    b.v[i].rid == b.v[i - 1].rid)
			continue;
		if (cb(&b.v[i], arg) != 0)
			stopped = 1;
	}
	free(b.v);
	if (rc == -1)
		return -1;
	return stopped ? 1 : 0;
}

/* Span */

static int
span_last_cb(const struct master *m, time_t start, time_t end, void *arg)
{
	time_t *last = arg;

	(void)m;
	(void)start;
	if (end > *last)
		*last = end;
	return 0;
}

/* The span of one master; COUNT rules are walked once for their end. */
static void
master_span(const struct recur_series *s, const struct master *m,
    time_t *first, time_t *last, int *unbounded)
{
	int64_t maxlen = (int64_t)m->len.days * 86400 + 7200 + m->len.secs;
	int need_walk = 0;
	size_t i;

	*first = m->dtstart_utc;
	*last = m->dtstart_utc + maxlen;
	*unbounded = 0;
	for (i = 0; i < m->nrules; i++) {
		const struct icalrecurrencetype *r = &m->rules[i];
		struct tz_civil uc;
		time_t u;

		if (r->count != 0) {
			need_walk = 1;
			continue;
		}
		if (icaltime_is_null_time(r->until)) {
			*unbounded = 1;
			continue;
		}
		/* UNTIL bounds the last start; two days of slack cover its
		 * reading in any zone. */
		uc = civil_from_ical(r->until);
		u = tz_civil_to_epoch(&uc) + 2 * 86400;
		if (u + maxlen > *last)
			*last = u + maxlen;
	}
	for (i = 0; i < m->nrdates; i++) {
		time_t e = m->rdates[i].has_end ? m->rdates[i].end :
		    m->rdates[i].start + maxlen;

		if (m->rdates[i].start - 86400 < *first)
			*first = m->rdates[i].start - 86400;
		if (e + 86400 > *last)
			*last = e + 86400;
	}
	if (need_walk && !*unbounded) {
		size_t iters = 0;
		char *c = NULL;

		if (expand_rules(s, m, m->dtstart_utc, RECUR_FAR_FUTURE,
		    RECUR_START_IN, span_last_cb, last, &iters, &c) == -1) {
			*unbounded = 1;
			free(c);
		}
	}
}

static void
compute_span(struct recur_series *s)
{
	size_t i;
	int have = 0;

	s->unbounded = 0;
	for (i = 0; i < s->nm; i++) {
		time_t f, l;
		int u;

		master_span(s, &s->m[i], &f, &l, &u);
		if (!have || f < s->first)
			s->first = f;
		if (!have || l > s->last)
			s->last = l;
		s->unbounded |= u;
		have = 1;
	}
	for (i = 0; i < s->novr; i++) {
		if (!have || s->ovr[i].start < s->first)
			s->first = s->ovr[i].start;
		if (!have || s->ovr[i].end > s->last)
			s->last = s->ovr[i].end;
		have = 1;
	}
}

/* The series */

struct recur_series *
recur_series_new(icalcomponent *const *comps, const int *cals, size_t n,
    struct tzmap *zones, const struct tz *floating, char **cause,
    char **warnings)
{
	struct recur_series *s;
	size_t *picked, np, i;
	int undated_task = 0;

	s = xcalloc(1, sizeof *s);
	s->comps = comps;
	s->ncomps = n;
	s->floating = floating;
	np = pick_masters(comps, cals, n, &picked, warnings);
	s->m = xcalloc(np + 1, sizeof *s->m);
	for (i = 0; i < np; i++) {
		struct master *m = &s->m[s->nm];
		icalcomponent *c = comps[picked[i]];

		if (master_init(s, m, picked[i], zones, warnings) == 0) {
			s->nm++;
			continue;
		}
		master_free(m);
		if (icalcomponent_isa(c) == ICAL_VTODO_COMPONENT &&
		    icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY) ==
		    NULL)
			undated_task = 1;
		else
			warn_add(warnings, "a component without a usable "
			    "DTSTART was skipped");
	}
	free(picked);
	collect_overrides(s, zones, warnings);
	if (s->nm == 0 && s->novr == 0) {
		xasprintf(cause, undated_task ? "task without DTSTART or DUE: "
		    "nothing to schedule" : "no component with a usable "
		    "start");
		recur_series_free(s);
		return NULL;
	}
	for (i = 0; i < s->nm; i++)
		s->recurring |= s->m[i].recurring;
	if (s->nm != 1 || s->novr > 0)
		s->recurring = s->recurring || s->novr > 0;
	compute_span(s);
	return s;
}

void
recur_series_free(struct recur_series *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nm; i++)
		master_free(&s->m[i]);
	free(s->m);
	free(s->ovr);
	free(s->ovr_days);
	free(s);
}

int
recur_series_recurring(const struct recur_series *s)
{
	return s->recurring;
}

int
recur_series_master(const struct recur_series *s)
{
	return s->nm > 0 ? (int)s->m[0].comp : -1;
}

void
recur_series_span(const struct recur_series *s, time_t *first, time_t *last,
    int *unbounded)
{
	*first = s->first;
	*last = s->last;
	*unbounded = s->unbounded;
}
