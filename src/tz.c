/*
 * Time zones: wall clock <-> UTC with RFC 5545's rules (section 3.3.5).
 *
 * Every zone becomes one table of transitions: from at[i] on, the offset is
 * off[i]; before at[0] it is off0.  A lookup is a binary search, and the
 * interval of the last lookup is remembered, so the common case (many
 * occurrences of one series in one zone) costs a few comparisons.
 *
 * System zones are read from the TZif files under /usr/share/zoneinfo (or
 * $TZDIR) with their POSIX footer for the years after the last listed
 * transition.  We do not use libical's builtin zones for this: libical
 * 3.0.16 turns a TZif file into a VTIMEZONE by guessing RRULEs, and the
 * guesses are wrong for about a fifth of the zones (Asia/Shanghai
 * 1986-1991, Asia/Jerusalem and America/Sao_Paulo since 2013, every zone
 * of the former USSR in 1982-1991, Lord_Howe and St_Johns after 2037).
 *
 * A VTIMEZONE is expanded the way libical's icaltimezone_expand_vtimezone
 * does it (every DTSTART is an onset, RDATEs and RRULE instances are local
 * times in TZOFFSETFROM, before the earliest onset its TZOFFSETFROM
 * applies), but here, lazily on first use and without libical's cap at
 * year 2582.  The usual observance RRULE (FREQ=YEARLY;BYMONTH=m;BYDAY=nDD)
 * is computed directly; anything else goes through libical's iterator,
 * which costs about 12 us an instance.
 *
 * Both kinds of table end with rules that repeat every 400 Gregorian years
 * (146097 days, a whole number of weeks).  The table is built up to 400
 * years past the last irregular onset, and later instants are moved back
 * by whole cycles: the far future costs nothing and stays exact.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libical/ical.h>

#include "djcal/log.h"
#include "djcal/tz.h"
#include "djcal/xmalloc.h"

#define TZ_DAY		86400LL
#define TZ_CYCLE	(146097LL * TZ_DAY)	/* 400 Gregorian years */
#define TZ_NOCYCLE	INT64_MAX
/* Instants are clamped to about +-35 million years: no overflow anywhere. */
#define TZ_TMAX		(1LL << 50)
#define TZ_TMIN		(-(1LL << 50))
/* RFC 5545 offsets beyond this are errors; TZif allows a little more. */
#define TZ_MAXOFF	(18 * 3600)
#define TZ_TZIF_MAXOFF	(26 * 3600)
#define TZ_TZIF_MAXLEN	(1024 * 1024)
/* Cap on the onsets one VTIMEZONE may expand to. */
#define TZ_MAXTRANS	100000
/* libical's recurrence iterator stops after this year. */
#define TZ_ICAL_MAXYEAR	2582
/* Negative tz_system look-ups remembered, against feeds full of junk. */
#define TZ_MAXNEG	4096
/* A generated VTIMEZONE lists onsets from this year on. */
#define TZ_GEN_FROM	1970
/* ... and, where a footer rule has no RRULE form, until this year. */
#define TZ_GEN_UNTIL	2100

enum tz_kind {
	TZ_KIND_UTC,
	TZ_KIND_SYSTEM,
	TZ_KIND_VTIMEZONE
};

/* A day of the year in a POSIX TZ rule: Jn, n or Mm.w.d, and a time. */
struct tz_pdate {
	char		kind;		/* 'J', 'N' or 'M' */
	int		n, m, w, d;
	int32_t		secs;		/* local time of day; may pass 24h */
};

/* The POSIX TZ string at the end of a TZif file. */
struct tz_posix {
	int		valid;
	int		hasdst;
	int32_t		std, dst;	/* seconds east of UTC */
	char		stdname[16], dstname[16];
	struct tz_pdate	start, end;	/* into and out of DST */
};

/* A local time type of a TZif file. */
struct tz_ttype {
	int32_t		off;
	uint8_t		isdst;
	uint8_t		abbr;		/* index into chars */
};

/* What a TZif file says, kept to generate a VTIMEZONE on request. */
struct tzif {
	int64_t		*at;
	uint8_t		*idx;
	size_t		 n;
	struct tz_ttype	*types;
	size_t		 ntypes;
	char		*chars;
	size_t		 nchars;
	struct tz_posix	 rule;
};

/* One onset while a table is built. */
struct tz_onset {
	int64_t		at;
	int32_t		off;
	int32_t		from;
	size_t		seq;		/* input order: a stable sort */
};

struct tz_onsets {
	struct tz_onset	*v;
	size_t		 n, cap;
	int		 full;
};

/*
 * The mutable part of a zone, behind a pointer so that a const zone can
 * build its table on first use and remember its last interval.
 */
struct tz_state {
	int		 built;
	int64_t		*at;
	int32_t		*off;
	size_t		 n;
	int32_t		 off0;		/* before at[0] */
	int32_t		 maxabs;	/* largest |offset| */
	int64_t		 cycle;		/* later instants fold back by cycles */
	int64_t		 lo, hi;	/* last interval looked up ... */
	int32_t		 coff;		/* ... and its offset */
	icalcomponent	*gen;		/* generated VTIMEZONE (system zones) */
};

struct tz {
	char		*name;
	enum tz_kind	 kind;
	icalcomponent	*comp;		/* VTIMEZONE zones: our own copy */
	struct tzif	*tzif;		/* system zones */
	struct tz_state	*st;
};

/* A small string-keyed hash table, for zone names and TZIDs. */
struct tz_hent {
	char		*key;
	void		*val;
	struct tz_hent	*next;
};

struct tz_hash {
	struct tz_hent	**b;
	size_t		 nb, n;
};

static int64_t	tz_fold(const struct tz_state *, int64_t, int64_t *);
static void	tz_state_build(const struct tz *);

/* ---- Civil calendar (Howard Hinnant's algorithms) ---- */

static long long
tz_floordiv(long long a, long long b)
{
	long long q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days since 1970-01-01; months outside 1-12 carry into the year. */
long long
tz_days_from_civil(int year, int month, int day)
{
	long long y = year, m = month, era, yoe, doy, doe;

	y += tz_floordiv(m - 1, 12);
	m -= 12 * tz_floordiv(m - 1, 12);
	if (m <= 2)
		y--;
	era = tz_floordiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The proleptic Gregorian date of a day number. */
void
tz_civil_from_days(long long days, int *year, int *month, int *day)
{
	long long z = days + 719468, era, doe, yoe, y, doy, mp, d, m;

	era = tz_floordiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)(y + (m <= 2));
	*month = (int)m;
	*day = (int)d;
}

/* A civil time read as UTC; fields out of range carry over. */
time_t
tz_civil_to_epoch(const struct tz_civil *c)
{
	return (time_t)(tz_days_from_civil(c->year, c->month, c->day) *
	    TZ_DAY + (long long)c->hour * 3600 + (long long)c->minute * 60 +
	    c->second);
}

/* The UTC civil time of an instant. */
void
tz_epoch_to_civil(time_t t, struct tz_civil *c)
{
	long long s = t, days, rem;

	if (s > TZ_TMAX)
		s = TZ_TMAX;
	if (s < TZ_TMIN)
		s = TZ_TMIN;
	days = tz_floordiv(s, TZ_DAY);
	rem = s - days * TZ_DAY;
	tz_civil_from_days(days, &c->year, &c->month, &c->day);
	c->hour = (int)(rem / 3600);
	c->minute = (int)(rem / 60 % 60);
	c->second = (int)(rem % 60);
}

/* Day of the week, 0 = Sunday. */
int
tz_weekday(int year, int month, int day)
{
	long long d = tz_days_from_civil(year, month, day);

	return (int)((d % 7 + 11) % 7);	/* 1970-01-01 was a Thursday */
}

static int
tz_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
tz_days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	return m == 2 && tz_is_leap(y) ? 29 : dm[m - 1];
}

static int64_t
tz_year_start(int y)
{
	return tz_days_from_civil(y, 1, 1) * TZ_DAY;
}

static int
tz_year_of(int64_t t)
{
	struct tz_civil c;

	tz_epoch_to_civil((time_t)t, &c);
	return c.year;
}

/* The time of day of seconds read as UTC. */
static int64_t
tz_tod(int64_t s)
{
	return s - tz_floordiv(s, TZ_DAY) * TZ_DAY;
}

/* A local icaltimetype's fields as seconds, read as UTC. */
static int64_t
tz_ical_secs(struct icaltimetype t)
{
	struct tz_civil c = { t.year, t.month, t.day, t.hour, t.minute,
	    t.second };

	if (t.is_date)
		c.hour = c.minute = c.second = 0;
	return tz_civil_to_epoch(&c);
}

static struct icaltimetype
tz_ical_from_secs(int64_t s)
{
	struct icaltimetype t = icaltime_null_time();
	struct tz_civil c;

	tz_epoch_to_civil((time_t)s, &c);
	t.year = c.year;
	t.month = c.month;
	t.day = c.day;
	t.hour = c.hour;
	t.minute = c.minute;
	t.second = c.second;
	return t;
}

/* ---- Hash table ---- */

static uint32_t
tz_hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct tz_hent *
tz_hash_find(const struct tz_hash *h, const char *key)
{
	struct tz_hent *e;

	if (h->nb == 0)
		return NULL;
	for (e = h->b[tz_hash_str(key) & (h->nb - 1)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static struct tz_hent *
tz_hash_add(struct tz_hash *h, const char *key, void *val)
{
	struct tz_hent *e, *next, **nb;
	size_t i, nnb;

	if (h->n >= h->nb) {
		nnb = h->nb == 0 ? 16 : h->nb * 2;
		nb = xcalloc(nnb, sizeof *nb);
		for (i = 0; i < h->nb; i++) {
			for (e = h->b[i]; e != NULL; e = next) {
				next = e->next;
				e->next = nb[tz_hash_str(e->key) & (nnb - 1)];
				nb[tz_hash_str(e->key) & (nnb - 1)] = e;
			}
		}
		free(h->b);
		h->b = nb;
		h->nb = nnb;
	}
	e = xmalloc(sizeof *e);
	e->key = xstrdup(key);
	e->val = val;
	i = tz_hash_str(key) & (h->nb - 1);
	e->next = h->b[i];
	h->b[i] = e;
	h->n++;
	return e;
}

static void
tz_hash_clear(struct tz_hash *h, void (*freeval)(void *))
{
	struct tz_hent *e, *next;
	size_t i;

	for (i = 0; i < h->nb; i++) {
		for (e = h->b[i]; e != NULL; e = next) {
			next = e->next;
			if (freeval != NULL)
				freeval(e->val);
			free(e->key);
			free(e);
		}
	}
	free(h->b);
	memset(h, 0, sizeof *h);
}

/* ---- Transition tables ---- */

static void
tz_onsets_add(struct tz_onsets *o, int64_t at, int32_t off, int32_t from)
{
	if (o->n >= TZ_MAXTRANS) {
		o->full = 1;
		return;
	}
	if (o->n == o->cap) {
		o->cap = o->cap == 0 ? 64 : o->cap * 2;
		o->v = xreallocarray(o->v, o->cap, sizeof *o->v);
	}
	o->v[o->n].at = at;
	o->v[o->n].off = off;
	o->v[o->n].from = from;
	o->v[o->n].seq = o->n;
	o->n++;
}

static int
tz_onset_cmp(const void *a, const void *b)
{
	const struct tz_onset *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int32_t
tz_abs(int32_t v)
{
	return v < 0 ? -v : v;
}

/*
 * Turn sorted onsets into the table, dropping onsets that do not change
 * the offset.  off0 applies before the first onset.
 */
static void
tz_state_fill(struct tz_state *st, struct tz_onsets *o, int32_t off0,
    int64_t cycle)
{
	int32_t prev = off0;
	size_t i;

	if (o->n > 0)
		qsort(o->v, o->n, sizeof *o->v, tz_onset_cmp);
	st->at = xreallocarray(NULL, o->n, sizeof *st->at);
	st->off = xreallocarray(NULL, o->n, sizeof *st->off);
	st->n = 0;
	st->off0 = off0;
	st->maxabs = tz_abs(off0);
	for (i = 0; i < o->n; i++) {
		if (o->v[i].off == prev)
			continue;
		st->at[st->n] = o->v[i].at;
		st->off[st->n] = o->v[i].off;
		st->n++;
		prev = o->v[i].off;
		if (tz_abs(prev) > st->maxabs)
			st->maxabs = tz_abs(prev);
	}
	st->cycle = cycle;
	st->lo = 1;		/* an empty interval: nothing cached yet */
	st->hi = 0;
	st->built = 1;
	free(o->v);
	memset(o, 0, sizeof *o);
}

/* The index of the interval holding t: -1 before at[0]. */
static long
tz_find(const struct tz_state *st, int64_t t)
{
	size_t lo = 0, hi = st->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (st->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

static int64_t
tz_ival_lo(const struct tz_state *st, long i)
{
	return i < 0 ? INT64_MIN : st->at[i];
}

static int64_t
tz_ival_hi(const struct tz_state *st, long i)
{
	return (size_t)(i + 1) < st->n ? st->at[i + 1] : INT64_MAX;
}

static int32_t
tz_ival_off(const struct tz_state *st, long i)
{
	return i < 0 ? st->off0 : st->off[i];
}

/*
 * Move an instant at or after the cycle start back by whole 400-year
 * cycles into the last cycle the table holds; *shift gets what was taken.
 */
static int64_t
tz_fold(const struct tz_state *st, int64_t t, int64_t *shift)
{
	int64_t k;

	*shift = 0;
	if (t < st->cycle)
		return t;
	k = (t - (st->cycle - TZ_CYCLE)) / TZ_CYCLE;
	*shift = k * TZ_CYCLE;
	return t - *shift;
}

static int64_t
tz_clamp(int64_t t)
{
	if (t > TZ_TMAX)
		return TZ_TMAX;
	if (t < TZ_TMIN)
		return TZ_TMIN;
	return t;
}

static struct tz_state *
tz_state_of(const struct tz *z)
{
	if (!z->st->built)
		tz_state_build(z);
	return z->st;
}

/* Seconds east of UTC at an instant. */
int
tz_offset(const struct tz *z, time_t utc)
{
	struct tz_state *st;
	int64_t t, shift;
	long i;

	if (z == NULL)
		return 0;
	st = tz_state_of(z);
	if (st->n == 0)
		return st->off0;
	t = tz_fold(st, tz_clamp(utc), &shift);
	if (t >= st->lo && t < st->hi)
		return st->coff;
	i = tz_find(st, t);
	st->lo = tz_ival_lo(st, i);
	st->hi = tz_ival_hi(st, i);
	st->coff = tz_ival_off(st, i);
	return st->coff;
}

/*
 * RFC 5545 3.3.5.  L is the wall-clock time read as UTC; an instant t is a
 * reading of it if t = L - offset(t).  Every such t lies within the largest
 * offset of L, so walk the intervals of constant offset that meet
 * [L - maxabs, L + maxabs] in order: the first interval whose offset gives
 * an instant inside itself is the answer (a second one would be the later
 * reading of an overlap).  If none does, L falls in a gap; it then takes
 * the offset of the last interval that ended, in wall-clock terms, at or
 * before L: the offset in force before the gap.
 */
time_t
tz_to_utc(const struct tz *z, const struct tz_civil *local)
{
	struct tz_state *st;
	int64_t l, t, shift, lo, hi, a, b;
	int32_t o, gapoff;
	long i;
	int gap = 0;

	l = tz_civil_to_epoch(local);
	if (z == NULL)
		return (time_t)l;
	st = tz_state_of(z);
	if (st->n == 0)
		return (time_t)(l - st->off0);
	l = tz_fold(st, tz_clamp(l), &shift);
	lo = l - st->maxabs - 1;
	hi = l + st->maxabs + 1;
	if (lo >= st->lo && hi < st->hi)
		return (time_t)(l - st->coff + shift);

	gapoff = 0;
	for (i = tz_find(st, lo); i < (long)st->n; i++) {
		a = tz_ival_lo(st, i);
		if (a > hi)
			break;
		b = tz_ival_hi(st, i);
		o = tz_ival_off(st, i);
		t = l - o;
		if (t >= a && t < b) {
			st->lo = a;
			st->hi = b;
			st->coff = o;
			return (time_t)(t + shift);
		}
		if (b != INT64_MAX && b + o <= l) {
			gapoff = o;
			gap = 1;
		}
	}
	if (!gap)	/* cannot happen with a consistent table */
		gapoff = tz_ival_off(st, tz_find(st, l));
	return (time_t)(l - gapoff + shift);
}

/* The wall-clock time of an instant. */
void
tz_from_utc(const struct tz *z, time_t utc, struct tz_civil *local)
{
	int64_t t = tz_clamp(utc);

	tz_epoch_to_civil((time_t)(t + tz_offset(z, (time_t)t)), local);
}

/* ---- POSIX TZ strings (TZif footers, RFC 8536 section 3.3) ---- */

static const char *
tzp_name(const char *s, char *buf, size_t len)
{
	const char *p;
	size_t n;

	if (*s == '<') {
		if ((p = strchr(s, '>')) == NULL)
			return NULL;
		n = (size_t)(p - s - 1);
		s++;
		p++;
	} else {
		for (p = s; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' &&
		    *p <= 'z'); p++)
			;
		n = (size_t)(p - s);
	}
	if (n < 1 || n >= len)
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return p;
}

/* [+-]hh[:mm[:ss]], hours up to 167 (RFC 8536 extension). */
static const char *
tzp_time(const char *s, int32_t *secs)
{
	int sign = 1, part[3] = { 0, 0, 0 }, i;

	if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		s++;
	}
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			if (*s != ':')
				break;
			s++;
		}
		if (*s < '0' || *s > '9')
			return NULL;
		while (*s >= '0' && *s <= '9') {
			part[i] = part[i] * 10 + (*s - '0');
			if (part[i] > 167)
				return NULL;
			s++;
		}
	}
	if (part[1] > 59 || part[2] > 59)
		return NULL;
	*secs = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return s;
}

static const char *
tzp_num(const char *s, int *v, int min, int max)
{
	if (*s < '0' || *s > '9')
		return NULL;
	for (*v = 0; *s >= '0' && *s <= '9'; s++) {
		*v = *v * 10 + (*s - '0');
		if (*v > max)
			return NULL;
	}
	return *v < min ? NULL : s;
}

static const char *
tzp_date(const char *s, struct tz_pdate *d)
{
	memset(d, 0, sizeof *d);
	if (*s == 'J') {
		d->kind = 'J';
		s = tzp_num(s + 1, &d->n, 1, 365);
	} else if (*s == 'M') {
		d->kind = 'M';
		if ((s = tzp_num(s + 1, &d->m, 1, 12)) == NULL || *s != '.')
			return NULL;
		if ((s = tzp_num(s + 1, &d->w, 1, 5)) == NULL || *s != '.')
			return NULL;
		s = tzp_num(s + 1, &d->d, 0, 6);
	} else {
		d->kind = 'N';
		s = tzp_num(s, &d->n, 0, 365);
	}
	if (s == NULL)
		return NULL;
	d->secs = 7200;
	if (*s == '/')
		s = tzp_time(s + 1, &d->secs);
	return s;
}

static int
tz_posix_parse(const char *s, struct tz_posix *r)
{
	int32_t secs;

	memset(r, 0, sizeof *r);
	if ((s = tzp_name(s, r->stdname, sizeof r->stdname)) == NULL ||
	    (s = tzp_time(s, &secs)) == NULL)
		return -1;
	r->std = -secs;
	if (*s == '\0') {
		r->valid = 1;
		return 0;
	}
	if ((s = tzp_name(s, r->dstname, sizeof r->dstname)) == NULL)
		return -1;
	r->hasdst = 1;
	r->dst = r->std + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = tzp_time(s, &secs)) == NULL)
			return -1;
		r->dst = -secs;
	}
	if (*s == '\0') {	/* no rule: the US one, as tzcode does */
		s = "M3.2.0,M11.1.0";
	} else if (*s++ != ',')
		return -1;
	if ((s = tzp_date(s, &r->start)) == NULL || *s++ != ',' ||
	    (s = tzp_date(s, &r->end)) == NULL || *s != '\0')
		return -1;
	if (tz_abs(r->std) > TZ_TZIF_MAXOFF || tz_abs(r->dst) > TZ_TZIF_MAXOFF)
		return -1;
	r->valid = 1;
	return 0;
}

/* The day number of a rule date in a year. */
static long long
tzp_day(const struct tz_pdate *d, int y)
{
	long long first;
	int wd, md;

	switch (d->kind) {
	case 'J':
		return tz_days_from_civil(y, 1, 1) + d->n - 1 +
		    (tz_is_leap(y) && d->n >= 60);
	case 'N':
		return tz_days_from_civil(y, 1, 1) + d->n;
	default:
		first = tz_days_from_civil(y, d->m, 1);
		wd = tz_weekday(y, d->m, 1);
		md = 1 + (d->d - wd + 7) % 7 + (d->w - 1) * 7;
		while (md > tz_days_in_month(y, d->m))
			md -= 7;
		return first + md - 1;
	}
}

/* A rule's local wall-clock time in year y, read as UTC. */
static int64_t
tzp_when(const struct tz_pdate *d, int y)
{
	return tzp_day(d, y) * TZ_DAY + d->secs;
}

/* ---- TZif files (RFC 8536) ---- */

static uint32_t
tz_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
tz_be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)tz_be32(p) << 32 | tz_be32(p + 4));
}

static void
tzif_free(struct tzif *f)
{
	if (f == NULL)
		return;
	free(f->at);
	free(f->idx);
	free(f->types);
	free(f->chars);
	free(f);
}

static struct tzif *
tzif_parse(const unsigned char *p, size_t len)
{
	uint32_t isut, isstd, leap, timecnt, typecnt, charcnt;
	size_t off = 0, tsz = 4, v1, need, i;
	const unsigned char *d, *end, *nl;
	struct tzif *f;
	char footer[128];

	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return NULL;
	for (;;) {
		if (len - off < 44)
			return NULL;
		isut = tz_be32(p + off + 20);
		isstd = tz_be32(p + off + 24);
		leap = tz_be32(p + off + 28);
		timecnt = tz_be32(p + off + 32);
		typecnt = tz_be32(p + off + 36);
		charcnt = tz_be32(p + off + 40);
		if (timecnt > 100000 || typecnt > 256 || typecnt == 0 ||
		    charcnt > 100000 || leap > 100000 || isut > 256 ||
		    isstd > 256)
			return NULL;
		need = timecnt * tsz + timecnt + typecnt * 6 + charcnt +
		    leap * (tsz + 4) + isstd + isut;
		if (len - off - 44 < need)
			return NULL;
		if (tsz == 8 || p[4] < '2')
			break;
		v1 = need;
		off += 44 + v1;
		tsz = 8;
	}
	if (leap != 0)		/* right/ zones: not civil time */
		return NULL;

	f = xcalloc(1, sizeof *f);
	f->n = timecnt;
	f->ntypes = typecnt;
	f->nchars = charcnt;
	f->at = xreallocarray(NULL, timecnt, sizeof *f->at);
	f->idx = xmalloc(timecnt);
	f->types = xreallocarray(NULL, typecnt, sizeof *f->types);
	f->chars = xmalloc(charcnt + 1);
	d = p + off + 44;
	for (i = 0; i < timecnt; i++) {
		f->at[i] = tsz == 8 ? tz_be64(d + i * 8) :
		    (int32_t)tz_be32(d + i * 4);
		if (i > 0 && f->at[i] <= f->at[i - 1])
			goto bad;
	}
	d += timecnt * tsz;
	for (i = 0; i < timecnt; i++) {
		f->idx[i] = d[i];
		if (d[i] >= typecnt)
			goto bad;
	}
	d += timecnt;
	for (i = 0; i < typecnt; i++) {
		f->types[i].off = (int32_t)tz_be32(d + i * 6);
		f->types[i].isdst = d[i * 6 + 4];
		f->types[i].abbr = d[i * 6 + 5];
		if (tz_abs(f->types[i].off) > TZ_TZIF_MAXOFF ||
		    f->types[i].abbr >= charcnt)
			goto bad;
	}
	d += typecnt * 6;
	memcpy(f->chars, d, charcnt);
	f->chars[charcnt] = '\0';
	d += need - timecnt * tsz - timecnt - typecnt * 6;

	/* The footer: "\nTZ string\n" after the 64-bit data. */
	end = p + len;
	if (tsz == 8 && d < end && *d == '\n' &&
	    (nl = memchr(d + 1, '\n', (size_t)(end - d - 1))) != NULL &&
	    (size_t)(nl - d - 1) < sizeof footer) {
		memcpy(footer, d + 1, (size_t)(nl - d - 1));
		footer[nl - d - 1] = '\0';
		if (footer[0] != '\0' &&
		    tz_posix_parse(footer, &f->rule) != 0)
			log_debug("tz: bad TZif footer \"%s\"", footer);
	}
	return f;

bad:
	tzif_free(f);
	return NULL;
}

/* The table of a system zone: its transitions, then the footer's rule. */
static void
tz_build_tzif(struct tz_state *st, const struct tzif *f)
{
	struct tz_onsets o = { NULL, 0, 0, 0 };
	const struct tz_posix *r = &f->rule;
	int64_t last = INT64_MIN, cycle = TZ_NOCYCLE, s, e;
	int32_t off0 = f->types[0].off;
	int y, y0;
	size_t i;

	for (i = 0; i < f->n; i++)
		tz_onsets_add(&o, f->at[i], f->types[f->idx[i]].off, 0);
	if (f->n > 0)
		last = f->at[f->n - 1];
	if (r->valid && r->hasdst) {
		y0 = f->n > 0 ? tz_year_of(last) : 1970;
		if (y0 < 1800)
			y0 = 1800;
		for (y = y0; y <= y0 + 403; y++) {
			s = tzp_when(&r->start, y) - r->std;
			e = tzp_when(&r->end, y) - r->dst;
			if (s > last)
				tz_onsets_add(&o, s, r->dst, r->std);
			if (e > last)
				tz_onsets_add(&o, e, r->std, r->dst);
		}
		cycle = tz_year_start(y0 + 402);
	} else if (r->valid && f->n == 0)
		off0 = r->std;
	tz_state_fill(st, &o, off0, cycle);
}

static struct tzif *
tzif_load(const char *path)
{
	unsigned char *buf;
	struct tzif *f;
	struct stat sb;
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > TZ_TZIF_MAXLEN) {
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (len < (size_t)sb.st_size) {
		n = read(fd, buf + len, (size_t)sb.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	f = tzif_parse(buf, len);
	free(buf);
	return f;
}

/* ---- VTIMEZONE components ---- */

static int
tz_bylist_empty(const short *v)
{
	return v[0] == ICAL_RECURRENCE_ARRAY_MAX;
}

static int
tz_bylist_one(const short *v)
{
	return v[0] != ICAL_RECURRENCE_ARRAY_MAX &&
	    v[1] == ICAL_RECURRENCE_ARRAY_MAX;
}

/*
 * The usual observance rule, FREQ=YEARLY;BYMONTH=m;BYDAY=nDD with n in
 * -1, 1..4 and nothing else, is computed here; 1 if r is of that shape.
 */
static int
tz_rrule_simple(const struct icalrecurrencetype *r, int *month, int *wday,
    int *pos)
{
	if (r->freq != ICAL_YEARLY_RECURRENCE || r->interval > 1 ||
	    r->count != 0 || r->rscale != NULL ||
	    (!icaltime_is_null_time(r->until) && r->until.is_date) ||
	    !tz_bylist_empty(r->by_second) || !tz_bylist_empty(r->by_minute) ||
	    !tz_bylist_empty(r->by_hour) ||
	    !tz_bylist_empty(r->by_month_day) ||
	    !tz_bylist_empty(r->by_year_day) ||
	    !tz_bylist_empty(r->by_week_no) ||
	    !tz_bylist_empty(r->by_set_pos) || !tz_bylist_one(r->by_month) ||
	    !tz_bylist_one(r->by_day))
		return 0;
	*month = r->by_month[0];
	*wday = (int)icalrecurrencetype_day_day_of_week(r->by_day[0]) - 1;
	*pos = icalrecurrencetype_day_position(r->by_day[0]);
	return *month >= 1 && *month <= 12 && *wday >= 0 && *wday <= 6 &&
	    (*pos == -1 || (*pos >= 1 && *pos <= 4));
}

/* Day number of the pos'th (or last, -1) weekday wd of a month. */
static long long
tz_nth_wday(int y, int m, int wd, int pos)
{
	int md;

	if (pos > 0)
		md = 1 + (wd - tz_weekday(y, m, 1) + 7) % 7 + (pos - 1) * 7;
	else {
		md = tz_days_in_month(y, m);
		md -= (tz_weekday(y, m, md) - wd + 7) % 7;
	}
	return tz_days_from_civil(y, m, md);
}

/* Whether an unbounded rule repeats with the 400-year cycle. */
static int
tz_rrule_periodic(const struct icalrecurrencetype *r)
{
	int iv = r->interval < 1 ? 1 : r->interval;

	if (r->rscale != NULL)
		return 0;
	if (r->freq == ICAL_YEARLY_RECURRENCE)
		return 400 % iv == 0;
	if (r->freq == ICAL_MONTHLY_RECURRENCE)
		return 4800 % iv == 0;
	return 0;
}

static int
tz_rrule_bounded(const struct icalrecurrencetype *r)
{
	return r->count != 0 || !icaltime_is_null_time(r->until);
}

/*
 * The onsets of one RRULE of an observance (local times in from) up to
 * the end of year endyear.  Mirrors libical: a UTC UNTIL is moved into
 * local time with TZOFFSETFROM, and an instance equal to DTSTART is
 * skipped because DTSTART was added already.  Returns the year of the
 * last instance, 0 if none.
 */
static int
tz_expand_rrule(struct tz_onsets *o, struct icalrecurrencetype r,
    struct icaltimetype dtstart, int32_t from, int32_t to, int endyear)
{
	icalrecur_iterator *it;
	struct icaltimetype occ;
	int64_t start, until = INT64_MAX, t;
	int y, month, wday, pos, lasty = 0;

	if (!icaltime_is_null_time(r.until) && icaltime_is_utc(r.until)) {
		icaltime_adjust(&r.until, 0, 0, 0, from);
		r.until.zone = NULL;
	}
	dtstart.zone = NULL;
	start = tz_ical_secs(dtstart);
	if (endyear > TZ_ICAL_MAXYEAR)
		endyear = TZ_ICAL_MAXYEAR;

	if (tz_rrule_simple(&r, &month, &wday, &pos)) {
		if (!icaltime_is_null_time(r.until))
			until = tz_ical_secs(r.until);
		for (y = dtstart.year; y <= endyear && !o->full; y++) {
			t = tz_nth_wday(y, month, wday, pos) * TZ_DAY +
			    tz_tod(start);
			if (t > until)
				break;
			if (t > start) {
				tz_onsets_add(o, t - from, to, from);
				lasty = y;
			}
		}
		return lasty;
	}

	if ((it = icalrecur_iterator_new(r, dtstart)) == NULL)
		return 0;
	while (!o->full) {
		occ = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(occ) || occ.year > endyear)
			break;
		if (icaltime_compare(dtstart, occ) == 0)
			continue;
		tz_onsets_add(o, tz_ical_secs(occ) - from, to, from);
		lasty = occ.year;
	}
	icalrecur_iterator_free(it);
	return lasty;
}

/* Whether a property's value is of a kind (NULL value: no). */
static int
tz_value_is(icalproperty *p, icalvalue_kind kind)
{
	icalvalue *v = icalproperty_get_value(p);

	return v != NULL && icalvalue_isa(v) == kind;
}

/*
 * Check one STANDARD/DAYLIGHT; 0, or -1 with *cause (the reason only: the
 * caller names the VTIMEZONE).  On success *dtstart, *from and *to are set.
 */
static int
tz_check_observance(icalcomponent *obs, struct icaltimetype *dtstart,
    int32_t *from, int32_t *to, char **cause)
{
	struct icaldatetimeperiodtype rd;
	struct icalrecurrencetype r;
	icalproperty *p;
	int hasfrom = 0, hasto = 0, hasstart = 0;
	const char *bad = NULL;

	for (p = icalcomponent_get_first_property(obs, ICAL_ANY_PROPERTY);
	    p != NULL && bad == NULL;
	    p = icalcomponent_get_next_property(obs, ICAL_ANY_PROPERTY)) {
		switch (icalproperty_isa(p)) {
		case ICAL_DTSTART_PROPERTY:
			if (tz_value_is(p, ICAL_DATE_VALUE)) {
				bad = "observance DTSTART is a DATE";
				break;
			}
			if (!tz_value_is(p, ICAL_DATETIME_VALUE))
				break;
			*dtstart = icalproperty_get_dtstart(p);
			if (icaltime_is_null_time(*dtstart) ||
			    dtstart->is_date ||
			    !icaltime_is_valid_time(*dtstart))
				break;
			hasstart = 1;
			break;
		case ICAL_TZOFFSETFROM_PROPERTY:
			if (icalproperty_get_value(p) == NULL)
				break;
			*from = icalproperty_get_tzoffsetfrom(p);
			hasfrom = 1;
			break;
		case ICAL_TZOFFSETTO_PROPERTY:
			if (icalproperty_get_value(p) == NULL)
				break;
			*to = icalproperty_get_tzoffsetto(p);
			hasto = 1;
			break;
		case ICAL_RDATE_PROPERTY:
			if (icalproperty_get_value(p) == NULL) {
				bad = "bad RDATE in an observance";
				break;
			}
			rd = icalproperty_get_rdate(p);
			if (tz_value_is(p, ICAL_PERIOD_VALUE) ||
			    !icalperiodtype_is_null_period(rd.period))
				bad = "RDATE;VALUE=PERIOD in an observance";
			else if (icaltime_is_null_time(rd.time))
				bad = "bad RDATE in an observance";
			break;
		case ICAL_RRULE_PROPERTY:
			if (icalproperty_get_value(p) == NULL) {
				bad = "bad RRULE in an observance";
				break;
			}
			r = icalproperty_get_rrule(p);
			if (r.freq != ICAL_YEARLY_RECURRENCE &&
			    r.freq != ICAL_MONTHLY_RECURRENCE)
				bad = "observance RRULE not YEARLY or MONTHLY";
			break;
		default:
			break;
		}
	}
	if (bad == NULL && !hasstart)
		bad = "observance without a DATE-TIME DTSTART";
	else if (bad == NULL && !hasfrom)
		bad = "observance without TZOFFSETFROM";
	else if (bad == NULL && !hasto)
		bad = "observance without TZOFFSETTO";
	else if (bad == NULL && (tz_abs(*from) > TZ_MAXOFF ||
	    tz_abs(*to) > TZ_MAXOFF))
		bad = "observance offset beyond 18 hours";
	if (bad != NULL) {
		*cause = xstrdup(bad);
		return -1;
	}
	return 0;
}

static int
tz_is_observance(icalcomponent *c)
{
	icalcomponent_kind k = icalcomponent_isa(c);

	return k == ICAL_XSTANDARD_COMPONENT || k == ICAL_XDAYLIGHT_COMPONENT;
}

/* What the first expansion pass learns about a VTIMEZONE. */
struct tz_expansion {
	int		ylast;		/* year of the last irregular onset */
	int		unbounded;	/* some RRULE has no end ... */
	int		periodic;	/* ... and all such repeat in 400y */
};

/* Where an RDATE of an observance takes effect, in UTC. */
static int64_t
tz_rdate_at(icalproperty *p, struct icaltimetype dtstart, int32_t from)
{
	struct icaltimetype rt = icalproperty_get_rdate(p).time;

	/* A DATE takes DTSTART's time (libical reads it as UTC, a bug). */
	if (rt.is_date)
		return tz_ical_secs(rt) + tz_tod(tz_ical_secs(dtstart)) - from;
	if (icaltime_is_utc(rt))
		return tz_ical_secs(rt);
	return tz_ical_secs(rt) - from;
}

/*
 * The onsets of one observance: in pass 0 its DTSTART, RDATEs and bounded
 * RRULEs, in pass 1 its unbounded RRULEs up to endyear.
 */
static void
tz_expand_observance(struct tz_onsets *o, icalcomponent *c, int pass,
    int endyear, struct tz_expansion *x)
{
	struct icalrecurrencetype r;
	struct icaltimetype dtstart;
	icalproperty *p;
	int32_t from, to;
	char *cause = NULL;
	int y;

	if (tz_check_observance(c, &dtstart, &from, &to, &cause) != 0) {
		free(cause);	/* checked by tz_from_vtimezone: cannot be */
		return;
	}
	if (pass == 0) {
		tz_onsets_add(o, tz_ical_secs(dtstart) - from, to, from);
		if (dtstart.year > x->ylast)
			x->ylast = dtstart.year;
	}
	for (p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		if (icalproperty_isa(p) == ICAL_RDATE_PROPERTY && pass == 0) {
			tz_onsets_add(o, tz_rdate_at(p, dtstart, from), to,
			    from);
			y = icalproperty_get_rdate(p).time.year;
			if (y > x->ylast)
				x->ylast = y;
		}
		if (icalproperty_isa(p) != ICAL_RRULE_PROPERTY)
			continue;
		r = icalproperty_get_rrule(p);
		if (tz_rrule_bounded(&r) && pass == 0) {
			y = tz_expand_rrule(o, r, dtstart, from, to,
			    TZ_ICAL_MAXYEAR);
			if (y > x->ylast)
				x->ylast = y;
		} else if (!tz_rrule_bounded(&r) && pass == 1) {
			tz_expand_rrule(o, r, dtstart, from, to, endyear);
			x->unbounded = 1;
			if (!tz_rrule_periodic(&r))
				x->periodic = 0;
		}
	}
}

/*
 * Expand a checked VTIMEZONE.  Two passes: first everything with an end
 * (DTSTARTs, RDATEs, RRULEs with UNTIL or COUNT), which tells the last
 * year of irregular onsets; then the unbounded RRULEs up to 400 years
 * past that, after which the zone repeats (when those rules do).
 */
static void
tz_build_vtimezone(struct tz_state *st, icalcomponent *vtz, const char *tzid)
{
	struct tz_onsets o = { NULL, 0, 0, 0 };
	struct tz_expansion x = { 0, 0, 1 };
	icalcomponent *c;
	int64_t cycle = TZ_NOCYCLE;
	int32_t off0 = 0;
	int pass;
	size_t i;

	for (pass = 0; pass < 2; pass++) {
		for (c = icalcomponent_get_first_component(vtz,
		    ICAL_ANY_COMPONENT); c != NULL;
		    c = icalcomponent_get_next_component(vtz,
		    ICAL_ANY_COMPONENT))
			if (tz_is_observance(c))
				tz_expand_observance(&o, c, pass,
				    x.ylast + 403, &x);
	}
	if (o.full)
		log_warnx("VTIMEZONE %s: more than %d onsets; later ones "
		    "ignored", tzid, TZ_MAXTRANS);
	else if (x.unbounded && x.periodic &&
	    x.ylast + 403 <= TZ_ICAL_MAXYEAR)
		cycle = tz_year_start(x.ylast + 402);

	/* Before the earliest onset its TZOFFSETFROM applies. */
	if (o.n > 0) {
		qsort(o.v, o.n, sizeof *o.v, tz_onset_cmp);
		off0 = o.v[0].from;
		for (i = 0; i < o.n; i++)
			o.v[i].seq = i;
	}
	tz_state_fill(st, &o, off0, cycle);
}

/* ---- Zones ---- */

static struct tz_state	tz_utc_state = { .built = 1, .cycle = TZ_NOCYCLE,
    .lo = 1, .hi = 0 };
static char		tz_utc_name[] = "UTC";
static struct tz	tz_utc_zone = { .name = tz_utc_name,
    .kind = TZ_KIND_UTC, .st = &tz_utc_state };

static void
tz_state_build(const struct tz *z)
{
	if (z->kind == TZ_KIND_SYSTEM)
		tz_build_tzif(z->st, z->tzif);
	else if (z->kind == TZ_KIND_VTIMEZONE)
		tz_build_vtimezone(z->st, z->comp, z->name);
	else
		z->st->built = 1;
}

/* The UTC zone. */
const struct tz *
tz_utc(void)
{
	return &tz_utc_zone;
}

static void
tz_state_free(struct tz_state *st)
{
	if (st == NULL)
		return;
	free(st->at);
	free(st->off);
	if (st->gen != NULL)
		icalcomponent_free(st->gen);
	free(st);
}

static void
tz_free_any(struct tz *z)
{
	if (z == NULL || z == &tz_utc_zone)
		return;
	free(z->name);
	if (z->comp != NULL)
		icalcomponent_free(z->comp);
	tzif_free(z->tzif);
	tz_state_free(z->st);
	free(z);
}

/* A zone from a VTIMEZONE component, or NULL with *cause. */
struct tz *
tz_from_vtimezone(icalcomponent *vtz, char **cause)
{
	struct icaltimetype dtstart;
	icalcomponent *c;
	icalproperty *p;
	const char *tzid;
	struct tz *z;
	int32_t from, to;
	int nobs = 0;

	if (vtz == NULL || icalcomponent_isa(vtz) != ICAL_VTIMEZONE_COMPONENT) {
		*cause = xstrdup("not a VTIMEZONE");
		return NULL;
	}
	p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
	tzid = p != NULL && icalproperty_get_value(p) != NULL ?
	    icalproperty_get_tzid(p) : NULL;
	if (tzid == NULL || *tzid == '\0') {
		*cause = xstrdup("VTIMEZONE without TZID");
		return NULL;
	}
	for (c = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT);
	    c != NULL;
	    c = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		if (!tz_is_observance(c))
			continue;
		if (tz_check_observance(c, &dtstart, &from, &to, cause) != 0)
			return NULL;
		nobs++;
	}
	if (nobs == 0) {
		*cause = xstrdup("no STANDARD or DAYLIGHT");
		return NULL;
	}
	z = xcalloc(1, sizeof *z);
	z->name = xstrdup(tzid);
	z->kind = TZ_KIND_VTIMEZONE;
	z->comp = icalcomponent_new_clone(vtz);
	z->st = xcalloc(1, sizeof *z->st);
	return z;
}

/* Free a zone from tz_from_vtimezone. */
void
tz_free(struct tz *z)
{
	if (z == NULL || z->kind != TZ_KIND_VTIMEZONE)
		return;
	tz_free_any(z);
}

/* The TZID or system name. */
const char *
tz_name(const struct tz *z)
{
	return z == NULL ? NULL : z->name;
}

/* ---- A VTIMEZONE for a system zone ---- */

/* One onset of a generated VTIMEZONE. */
struct tz_genon {
	int64_t		at;
	int32_t		from, to;
	int		isdst;
	const char	*abbr;
};

static short
tz_byday(int wday, int pos)
{
	short v = (short)(wday + 1 + 8 * (pos < 0 ? -pos : pos));

	return pos < 0 ? (short)-v : v;
}

/*
 * An RRULE for a footer date, and the local time of day of its onsets;
 * -1 if it has none (Jn, n, or a day shift that leaves the month).  Times
 * past 24h or negative become BYDAY with a BYMONTHDAY range.
 */
static int
tzp_rrule(const struct tz_pdate *d, struct icalrecurrencetype *rr,
    int32_t *tod)
{
	long long k;
	int lo, hi, md, mlen, i = 0;

	if (d->kind != 'M')
		return -1;
	k = tz_floordiv(d->secs, TZ_DAY);
	*tod = (int32_t)(d->secs - k * TZ_DAY);
	icalrecurrencetype_clear(rr);
	rr->freq = ICAL_YEARLY_RECURRENCE;
	rr->by_month[0] = (short)d->m;
	if (k == 0) {
		rr->by_day[0] = tz_byday(d->d, d->w == 5 ? -1 : d->w);
		return 0;
	}
	mlen = tz_days_in_month(2001, d->m);	/* shortest: not leap */
	if (d->w == 5) {
		lo = -7 + (int)k;
		hi = -1 + (int)k;
		if (hi > -1 || lo < -mlen)
			return -1;
	} else {
		lo = 7 * (d->w - 1) + 1 + (int)k;
		hi = 7 * d->w + (int)k;
		if (lo < 1 || hi > mlen)
			return -1;
	}
	rr->by_day[0] = tz_byday((int)((d->d + k % 7 + 7) % 7), 0);
	for (md = lo; md <= hi; md++)
		rr->by_month_day[i++] = (short)md;
	return 0;
}

static icalcomponent *
tz_gen_observance(const struct tz_genon *g)
{
	icalcomponent *c;

	c = icalcomponent_new(g->isdst ? ICAL_XDAYLIGHT_COMPONENT :
	    ICAL_XSTANDARD_COMPONENT);
	icalcomponent_add_property(c, icalproperty_new_tzname(g->abbr));
	icalcomponent_add_property(c, icalproperty_new_tzoffsetfrom(g->from));
	icalcomponent_add_property(c, icalproperty_new_tzoffsetto(g->to));
	icalcomponent_add_property(c,
	    icalproperty_new_dtstart(tz_ical_from_secs(g->at + g->from)));
	return c;
}

/*
 * Onsets grouped by (STANDARD or DAYLIGHT, from, to, name): one observance
 * per group, DTSTART the first and RDATEs the rest.
 */
struct tz_gengroup {
	struct tz_genon	 key;
	icalcomponent	*c;
};

static void
tz_gen_add(icalcomponent *vtz, struct tz_gengroup **gv, size_t *ng,
    const struct tz_genon *g)
{
	struct icaldatetimeperiodtype rd;
	size_t i;

	for (i = 0; i < *ng; i++) {
		if ((*gv)[i].key.isdst == g->isdst &&
		    (*gv)[i].key.from == g->from && (*gv)[i].key.to == g->to &&
		    strcmp((*gv)[i].key.abbr, g->abbr) == 0)
			break;
	}
	if (i == *ng) {
		*gv = xreallocarray(*gv, *ng + 1, sizeof **gv);
		(*gv)[i].key = *g;
		(*gv)[i].c = tz_gen_observance(g);
		icalcomponent_add_component(vtz, (*gv)[i].c);
		(*ng)++;
		return;
	}
	memset(&rd, 0, sizeof rd);
	rd.time = tz_ical_from_secs(g->at + g->from);
	rd.period = icalperiodtype_null_period();
	icalcomponent_add_property((*gv)[i].c, icalproperty_new_rdate(rd));
}

/*
 * Generate a VTIMEZONE from a TZif zone: the state on 1 January 1970,
 * every change after it, and the footer's rule as RRULEs from the year
 * after the last listed transition (or as RDATEs until 2100 where the
 * rule has no RRULE form).
 */
static icalcomponent *
tz_gen_vtimezone(const struct tz *z)
{
	const struct tzif *f = z->tzif;
	const struct tz_posix *r = &f->rule;
	struct tz_gengroup *gv = NULL;
	struct icalrecurrencetype rs, re;
	struct tz_genon g, cur, on[2];
	icalcomponent *vtz, *c;
	int32_t tod;
	int64_t from = tz_year_start(TZ_GEN_FROM), last = INT64_MIN;
	int y, y0, rrule = 0, first;
	size_t i, ng = 0;

	vtz = icalcomponent_new(ICAL_VTIMEZONE_COMPONENT);
	icalcomponent_add_property(vtz, icalproperty_new_tzid(z->name));
	icalcomponent_add_property(vtz,
	    icalproperty_new_x(z->name));
	icalproperty_set_x_name(icalcomponent_get_first_property(vtz,
	    ICAL_X_PROPERTY), "X-LIC-LOCATION");

	/* The state in force on 1 January 1970. */
	cur.at = from;
	cur.isdst = f->types[0].isdst;
	cur.to = f->types[0].off;
	cur.abbr = f->chars + f->types[0].abbr;
	if (f->n == 0 && r->valid) {
		cur.to = r->std;
		cur.abbr = r->stdname;
	}
	for (i = 0; i < f->n && f->at[i] <= from; i++) {
		cur.isdst = f->types[f->idx[i]].isdst;
		cur.to = f->types[f->idx[i]].off;
		cur.abbr = f->chars + f->types[f->idx[i]].abbr;
	}
	if (f->n > 0)
		last = f->at[f->n - 1];
	if (r->valid && r->hasdst && last < from) {
		/* The footer alone rules 1970: find its state then. */
		on[0].at = tzp_when(&r->start, TZ_GEN_FROM) - r->std;
		on[1].at = tzp_when(&r->end, TZ_GEN_FROM) - r->dst;
		cur.isdst = on[0].at < on[1].at ?
		    (from >= on[0].at && from < on[1].at) :
		    !(from >= on[1].at && from < on[0].at);
		cur.to = cur.isdst ? r->dst : r->std;
		cur.abbr = cur.isdst ? r->dstname : r->stdname;
	}
	cur.from = cur.to;
	tz_gen_add(vtz, &gv, &ng, &cur);

	for (; i < f->n; i++) {
		g.at = f->at[i];
		g.from = cur.to;
		g.to = f->types[f->idx[i]].off;
		g.isdst = f->types[f->idx[i]].isdst;
		g.abbr = f->chars + f->types[f->idx[i]].abbr;
		if (g.from == g.to && g.isdst == cur.isdst)
			continue;
		tz_gen_add(vtz, &gv, &ng, &g);
		cur = g;
	}

	if (r->valid && r->hasdst) {
		y0 = last == INT64_MIN ? TZ_GEN_FROM : tz_year_of(last);
		if (y0 < TZ_GEN_FROM)
			y0 = TZ_GEN_FROM;
		rrule = tzp_rrule(&r->start, &rs, &tod) == 0 &&
		    tzp_rrule(&r->end, &re, &tod) == 0;
		/* Footer onsets of y0 (after the last listed) as RDATEs. */
		for (y = y0; y <= (rrule ? y0 : TZ_GEN_UNTIL); y++) {
			on[0].at = tzp_when(&r->start, y) - r->std;
			on[0].from = r->std;
			on[0].to = r->dst;
			on[0].isdst = 1;
			on[0].abbr = r->dstname;
			on[1].at = tzp_when(&r->end, y) - r->dst;
			on[1].from = r->dst;
			on[1].to = r->std;
			on[1].isdst = 0;
			on[1].abbr = r->stdname;
			first = on[1].at < on[0].at;
			if (on[first].at > last && on[first].at >= from)
				tz_gen_add(vtz, &gv, &ng, &on[first]);
			if (on[!first].at > last && on[!first].at >= from)
				tz_gen_add(vtz, &gv, &ng, &on[!first]);
		}
		if (rrule) {
			y = y0 + 1;
			g.at = tzp_when(&r->start, y) - r->std;
			g.from = r->std;
			g.to = r->dst;
			g.isdst = 1;
			g.abbr = r->dstname;
			c = tz_gen_observance(&g);
			icalcomponent_add_property(c,
			    icalproperty_new_rrule(rs));
			icalcomponent_add_component(vtz, c);
			g.at = tzp_when(&r->end, y) - r->dst;
			g.from = r->dst;
			g.to = r->std;
			g.isdst = 0;
			g.abbr = r->stdname;
			c = tz_gen_observance(&g);
			icalcomponent_add_property(c,
			    icalproperty_new_rrule(re));
			icalcomponent_add_component(vtz, c);
		}
	}
	free(gv);
	return vtz;
}

/* The VTIMEZONE for this zone. */
icalcomponent *
tz_component(const struct tz *z)
{
	struct tz_genon g = { 0, 0, 0, 0, "UTC" };
	icalcomponent *vtz;

	if (z == NULL)
		return NULL;
	if (z->kind == TZ_KIND_VTIMEZONE)
		return z->comp;
	if (z->st->gen != NULL)
		return z->st->gen;
	if (z->kind == TZ_KIND_SYSTEM)
		z->st->gen = tz_gen_vtimezone(z);
	else {
		vtz = icalcomponent_new(ICAL_VTIMEZONE_COMPONENT);
		icalcomponent_add_property(vtz, icalproperty_new_tzid("UTC"));
		g.at = tz_year_start(TZ_GEN_FROM);
		icalcomponent_add_component(vtz, tz_gen_observance(&g));
		z->st->gen = vtz;
	}
	return z->st->gen;
}

/* ---- System zones by name ---- */

/*
 * Windows zone names (Outlook, Exchange) to IANA names: CLDR's
 * windowsZones.xml, territory "001".  Sorted case-insensitively.
 */
static const struct {
	const char	*win;
	const char	*iana;
} tz_windows[] = {
	{ "Afghanistan Standard Time", "Asia/Kabul" },
	{ "Alaskan Standard Time", "America/Anchorage" },
	{ "Aleutian Standard Time", "America/Adak" },
	{ "Altai Standard Time", "Asia/Barnaul" },
	{ "Arab Standard Time", "Asia/Riyadh" },
	{ "Arabian Standard Time", "Asia/Dubai" },
	{ "Arabic Standard Time", "Asia/Baghdad" },
	{ "Argentina Standard Time", "America/Buenos_Aires" },
	{ "Astrakhan Standard Time", "Europe/Astrakhan" },
	{ "Atlantic Standard Time", "America/Halifax" },
	{ "AUS Central Standard Time", "Australia/Darwin" },
	{ "Aus Central W. Standard Time", "Australia/Eucla" },
	{ "AUS Eastern Standard Time", "Australia/Sydney" },
	{ "Azerbaijan Standard Time", "Asia/Baku" },
	{ "Azores Standard Time", "Atlantic/Azores" },
	{ "Bahia Standard Time", "America/Bahia" },
	{ "Bangladesh Standard Time", "Asia/Dhaka" },
	{ "Belarus Standard Time", "Europe/Minsk" },
	{ "Bougainville Standard Time", "Pacific/Bougainville" },
	{ "Canada Central Standard Time", "America/Regina" },
	{ "Cape Verde Standard Time", "Atlantic/Cape_Verde" },
	{ "Caucasus Standard Time", "Asia/Yerevan" },
	{ "Cen. Australia Standard Time", "Australia/Adelaide" },
	{ "Central America Standard Time", "America/Guatemala" },
	{ "Central Asia Standard Time", "Asia/Almaty" },
	{ "Central Brazilian Standard Time", "America/Cuiaba" },
	{ "Central Europe Standard Time", "Europe/Budapest" },
	{ "Central European Standard Time", "Europe/Warsaw" },
	{ "Central Pacific Standard Time", "Pacific/Guadalcanal" },
	{ "Central Standard Time", "America/Chicago" },
	{ "Central Standard Time (Mexico)", "America/Mexico_City" },
	{ "Chatham Islands Standard Time", "Pacific/Chatham" },
	{ "China Standard Time", "Asia/Shanghai" },
	{ "Cuba Standard Time", "America/Havana" },
	{ "Dateline Standard Time", "Etc/GMT+12" },
	{ "E. Africa Standard Time", "Africa/Nairobi" },
	{ "E. Australia Standard Time", "Australia/Brisbane" },
	{ "E. Europe Standard Time", "Europe/Chisinau" },
	{ "E. South America Standard Time", "America/Sao_Paulo" },
	{ "Easter Island Standard Time", "Pacific/Easter" },
	{ "Eastern Standard Time", "America/New_York" },
	{ "Eastern Standard Time (Mexico)", "America/Cancun" },
	{ "Egypt Standard Time", "Africa/Cairo" },
	{ "Ekaterinburg Standard Time", "Asia/Yekaterinburg" },
	{ "Fiji Standard Time", "Pacific/Fiji" },
	{ "FLE Standard Time", "Europe/Kiev" },
	{ "Georgian Standard Time", "Asia/Tbilisi" },
	{ "GMT Standard Time", "Europe/London" },
	{ "Greenland Standard Time", "America/Godthab" },
	{ "Greenwich Standard Time", "Atlantic/Reykjavik" },
	{ "GTB Standard Time", "Europe/Bucharest" },
	{ "Haiti Standard Time", "America/Port-au-Prince" },
	{ "Hawaiian Standard Time", "Pacific/Honolulu" },
	{ "India Standard Time", "Asia/Calcutta" },
	{ "Iran Standard Time", "Asia/Tehran" },
	{ "Israel Standard Time", "Asia/Jerusalem" },
	{ "Jordan Standard Time", "Asia/Amman" },
	{ "Kaliningrad Standard Time", "Europe/Kaliningrad" },
	{ "Kamchatka Standard Time", "Asia/Kamchatka" },
	{ "Korea Standard Time", "Asia/Seoul" },
	{ "Libya Standard Time", "Africa/Tripoli" },
	{ "Line Islands Standard Time", "Pacific/Kiritimati" },
	{ "Lord Howe Standard Time", "Australia/Lord_Howe" },
	{ "Magadan Standard Time", "Asia/Magadan" },
	{ "Magallanes Standard Time", "America/Punta_Arenas" },
	{ "Marquesas Standard Time", "Pacific/Marquesas" },
	{ "Mauritius Standard Time", "Indian/Mauritius" },
	{ "Mid-Atlantic Standard Time", "Etc/GMT+2" },
	{ "Middle East Standard Time", "Asia/Beirut" },
	{ "Montevideo Standard Time", "America/Montevideo" },
	{ "Morocco Standard Time", "Africa/Casablanca" },
	{ "Mountain Standard Time", "America/Denver" },
	{ "Mountain Standard Time (Mexico)", "America/Mazatlan" },
	{ "Myanmar Standard Time", "Asia/Rangoon" },
	{ "N. Central Asia Standard Time", "Asia/Novosibirsk" },
	{ "Namibia Standard Time", "Africa/Windhoek" },
	{ "Nepal Standard Time", "Asia/Katmandu" },
	{ "New Zealand Standard Time", "Pacific/Auckland" },
	{ "Newfoundland Standard Time", "America/St_Johns" },
	{ "Norfolk Standard Time", "Pacific/Norfolk" },
	{ "North Asia East Standard Time", "Asia/Irkutsk" },
	{ "North Asia Standard Time", "Asia/Krasnoyarsk" },
	{ "North Korea Standard Time", "Asia/Pyongyang" },
	{ "Omsk Standard Time", "Asia/Omsk" },
	{ "Pacific SA Standard Time", "America/Santiago" },
	{ "Pacific Standard Time", "America/Los_Angeles" },
	{ "Pacific Standard Time (Mexico)", "America/Tijuana" },
	{ "Pakistan Standard Time", "Asia/Karachi" },
	{ "Paraguay Standard Time", "America/Asuncion" },
	{ "Qyzylorda Standard Time", "Asia/Qyzylorda" },
	{ "Romance Standard Time", "Europe/Paris" },
	{ "Russia Time Zone 10", "Asia/Srednekolymsk" },
	{ "Russia Time Zone 11", "Asia/Kamchatka" },
	{ "Russia Time Zone 3", "Europe/Samara" },
	{ "Russian Standard Time", "Europe/Moscow" },
	{ "SA Eastern Standard Time", "America/Cayenne" },
	{ "SA Pacific Standard Time", "America/Bogota" },
	{ "SA Western Standard Time", "America/La_Paz" },
	{ "Saint Pierre Standard Time", "America/Miquelon" },
	{ "Sakhalin Standard Time", "Asia/Sakhalin" },
	{ "Samoa Standard Time", "Pacific/Apia" },
	{ "Sao Tome Standard Time", "Africa/Sao_Tome" },
	{ "Saratov Standard Time", "Europe/Saratov" },
	{ "SE Asia Standard Time", "Asia/Bangkok" },
	{ "Singapore Standard Time", "Asia/Singapore" },
	{ "South Africa Standard Time", "Africa/Johannesburg" },
	{ "South Sudan Standard Time", "Africa/Juba" },
	{ "Sri Lanka Standard Time", "Asia/Colombo" },
	{ "Sudan Standard Time", "Africa/Khartoum" },
	{ "Syria Standard Time", "Asia/Damascus" },
	{ "Taipei Standard Time", "Asia/Taipei" },
	{ "Tasmania Standard Time", "Australia/Hobart" },
	{ "Tocantins Standard Time", "America/Araguaina" },
	{ "Tokyo Standard Time", "Asia/Tokyo" },
	{ "Tomsk Standard Time", "Asia/Tomsk" },
	{ "Tonga Standard Time", "Pacific/Tongatapu" },
	{ "Transbaikal Standard Time", "Asia/Chita" },
	{ "Turkey Standard Time", "Europe/Istanbul" },
	{ "Turks And Caicos Standard Time", "America/Grand_Turk" },
	{ "Ulaanbaatar Standard Time", "Asia/Ulaanbaatar" },
	{ "US Eastern Standard Time", "America/Indianapolis" },
	{ "US Mountain Standard Time", "America/Phoenix" },
	{ "UTC", "Etc/UTC" },
	{ "UTC+12", "Etc/GMT-12" },
	{ "UTC+13", "Etc/GMT-13" },
	{ "UTC-02", "Etc/GMT+2" },
	{ "UTC-08", "Etc/GMT+8" },
	{ "UTC-09", "Etc/GMT+9" },
	{ "UTC-11", "Etc/GMT+11" },
	{ "Venezuela Standard Time", "America/Caracas" },
	{ "Vladivostok Standard Time", "Asia/Vladivostok" },
	{ "Volgograd Standard Time", "Europe/Volgograd" },
	{ "W. Australia Standard Time", "Australia/Perth" },
	{ "W. Central Africa Standard Time", "Africa/Lagos" },
	{ "W. Europe Standard Time", "Europe/Berlin" },
	{ "W. Mongolia Standard Time", "Asia/Hovd" },
	{ "West Asia Standard Time", "Asia/Tashkent" },
	{ "West Bank Standard Time", "Asia/Hebron" },
	{ "West Pacific Standard Time", "Pacific/Port_Moresby" },
	{ "Yakutsk Standard Time", "Asia/Yakutsk" },
	{ "Yukon Standard Time", "America/Whitehorse" },
};

/* Names of UTC itself. */
static const char *const tz_utc_names[] = {
	"UTC", "GMT", "Z", "UCT", "Universal", "Zulu", "Greenwich", "GMT0",
	"GMT+0", "GMT-0", "Etc/UTC", "Etc/GMT", "Etc/UCT", "Etc/Universal",
	"Etc/Zulu", "Etc/Greenwich", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0",
	"Coordinated Universal Time"
};

static struct tz_hash	tz_names;	/* any name -> zone or NULL */
static struct tz_hash	tz_files;	/* IANA name -> zone (owned) */
static size_t		tz_nneg;
static int		tz_windows_checked;

static int
tz_windows_cmp(const void *key, const void *elem)
{
	const char *const *e = elem;

	return strcasecmp(key, *e);
}

/* Whether a name is safe to look up under the zoneinfo directory. */
static int
tz_name_ok(const char *name)
{
	const char *p, *seg = name;

	if (*name == '\0' || *name == '/' || strlen(name) > 255)
		return 0;
	for (p = name; ; p++) {
		if (*p == '/' || *p == '\0') {
			if (p == seg || (p - seg == 1 && seg[0] == '.') ||
			    (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
				return 0;
			if (*p == '\0')
				return 1;
			seg = p + 1;
			continue;
		}
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '+' || *p == '.'))
			return 0;
	}
}

/* A zone from the zoneinfo directory, by IANA name; loaded once. */
static const struct tz *
tz_load_file(const char *name)
{
	struct tz_hent *e;
	const char *dir;
	struct tzif *f;
	struct tz *z;
	char *path;

	if ((e = tz_hash_find(&tz_files, name)) != NULL)
		return e->val;
	if (!tz_name_ok(name))
		return NULL;
	dir = getenv("TZDIR");
	if (dir == NULL || *dir != '/')
		dir = "/usr/share/zoneinfo";
	xasprintf(&path, "%s/%s", dir, name);
	f = tzif_load(path);
	free(path);
	if (f == NULL)
		return NULL;
	z = xcalloc(1, sizeof *z);
	z->name = xstrdup(name);
	z->kind = TZ_KIND_SYSTEM;
	z->tzif = f;
	z->st = xcalloc(1, sizeof *z->st);
	tz_build_tzif(z->st, f);
	tz_hash_add(&tz_files, name, z);
	return z;
}

/* Resolve a name without the prefix rule: UTC, Windows, IANA. */
static const struct tz *
tz_resolve(const char *name)
{
	const char *const *w;
	size_t i;

	for (i = 0; i < sizeof tz_utc_names / sizeof tz_utc_names[0]; i++)
		if (strcasecmp(name, tz_utc_names[i]) == 0)
			return tz_utc();
	w = bsearch(name, tz_windows, sizeof tz_windows / sizeof tz_windows[0],
	    sizeof tz_windows[0], tz_windows_cmp);
	if (w != NULL)
		return tz_load_file(w[1]);
	return tz_load_file(name);
}

/* A system zone by name, or NULL. */
const struct tz *
tz_system(const char *name)
{
	const struct tz *z;
	struct tz_hent *e;
	const char *p;
	size_t i;

	if (name == NULL || *name == '\0')
		return NULL;
	if (!tz_windows_checked) {	/* bsearch needs the table sorted */
		for (i = 1; i < sizeof tz_windows / sizeof tz_windows[0]; i++)
			if (strcasecmp(tz_windows[i - 1].win,
			    tz_windows[i].win) >= 0)
				fatalx("tz: Windows zone table out of order "
				    "at \"%s\"", tz_windows[i].win);
		tz_windows_checked = 1;
	}
	if ((e = tz_hash_find(&tz_names, name)) != NULL)
		return e->val;
	z = tz_resolve(name);
	/*
	 * "/freeassociation.sourceforge.net/Tzfile/Europe/Berlin",
	 * "/mozilla.org/20050126_1/Europe/Berlin", "/citadel.org/.../":
	 * drop leading path elements until what is left is a zone.
	 */
	for (p = name; z == NULL && *name == '/' &&
	    (p = strchr(p, '/')) != NULL; )
		z = tz_resolve(++p);
	if (z != NULL || tz_nneg < TZ_MAXNEG) {
		if (z == NULL)
			tz_nneg++;
		tz_hash_add(&tz_names, name, (void *)(uintptr_t)z);
	}
	return z;
}

static void
tz_free_cb(void *p)
{
	tz_free_any(p);
}

/* Forget every system zone: at exit, for leak checkers. */
void
tz_shutdown(void)
{
	tz_hash_clear(&tz_names, NULL);
	tz_hash_clear(&tz_files, tz_free_cb);
	tz_nneg = 0;
	if (tz_utc_state.gen != NULL) {
		icalcomponent_free(tz_utc_state.gen);
		tz_utc_state.gen = NULL;
	}
}

/* ---- TZIDs of one calendar ---- */

struct tzmap_ent {
	struct tz	*own;		/* its usable VTIMEZONE, or NULL */
	const struct tz	*zone;		/* what the TZID means, or NULL */
	int		 resolved;
};

struct tzmap {
	struct tz_hash	 h;
};

/* An empty map. */
struct tzmap *
tzmap_new(void)
{
	return xcalloc(1, sizeof(struct tzmap));
}

static void
tzmap_ent_free(void *p)
{
	struct tzmap_ent *e = p;

	tz_free(e->own);
	free(e);
}

/* Free a map and its VTIMEZONE zones. */
void
tzmap_free(struct tzmap *m)
{
	if (m == NULL)
		return;
	tz_hash_clear(&m->h, tzmap_ent_free);
	free(m);
}

static struct tzmap_ent *
tzmap_entry(struct tzmap *m, const char *tzid)
{
	struct tz_hent *he;
	struct tzmap_ent *e;

	if ((he = tz_hash_find(&m->h, tzid)) != NULL)
		return he->val;
	e = xcalloc(1, sizeof *e);
	tz_hash_add(&m->h, tzid, e);
	return e;
}

/* Add a VTIMEZONE; the first usable one of a TZID wins. */
int
tzmap_add(struct tzmap *m, icalcomponent *vtz, char **cause)
{
	struct tzmap_ent *e;
	struct tz *z;

	if ((z = tz_from_vtimezone(vtz, cause)) == NULL)
		return -1;
	e = tzmap_entry(m, tz_name(z));
	if (e->own != NULL) {
		tz_free(z);	/* RFC 5545: TZIDs are unique; keep the first */
		return 0;
	}
	e->own = z;
	e->zone = z;
	e->resolved = 1;
	return 0;
}

/* The zone of a TZID, or NULL for floating. */
const struct tz *
tzmap_get(struct tzmap *m, const char *tzid)
{
	struct tzmap_ent *e;

	if (tzid == NULL)
		return NULL;
	e = tzmap_entry(m, tzid);
	if (!e->resolved) {
		e->zone = tz_system(tzid);
		e->resolved = 1;
	}
	return e->zone;
}

/* Whether the map has a usable VTIMEZONE of this TZID. */
int
tzmap_has_vtimezone(const struct tzmap *m, const char *tzid)
{
	struct tz_hent *he;

	if (tzid == NULL || (he = tz_hash_find(&m->h, tzid)) == NULL)
		return 0;
	return ((struct tzmap_ent *)he->val)->own != NULL;
}
