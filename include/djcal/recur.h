/*
 * Recurrence: the occurrences of one series (a master component and its
 * RECURRENCE-ID overrides) in a window.  Pure functions: the caller passes
 * the window; nothing here reads the clock or does I/O.
 */
#ifndef DJCAL_RECUR_H
#define DJCAL_RECUR_H

#include <stddef.h>
#include <time.h>

#include <libical/ical.h>

#include "djcal/tz.h"

/* Most instances one expansion generates before it stops and says so; a
 * sub-daily rule (SECONDLY, MINUTELY, HOURLY) is also walked at most this
 * many FREQ x INTERVAL steps from DTSTART, since libical steps through
 * every one whether or not its BY* parts match. */
#define RECUR_MAX_INSTANCES	200000
/* The rule steps one feed body's expansions may take together, and one
 * query's (recur_budget): RECUR_MAX_INSTANCES bounds a series, this a
 * body of many.  A step costs about 1-5 us. */
#define RECUR_BUDGET		(10 * RECUR_MAX_INSTANCES)
/* 9999-12-31T23:59:59Z: the end of time as iCalendar can write it. */
#define RECUR_FAR_FUTURE	((time_t)253402300799LL)

struct recur_occ {
	time_t	start;		/* UTC; an all-day item's local midnight */
	time_t	end;		/* UTC, >= start */
	int	all_day;	/* start is a DATE */
	int	has_rid;	/* part of a recurrence set */
	time_t	rid;		/* the instance's original start */
	int	rid_all_day;	/* rid is a DATE */
	size_t	comp;		/* index of the component whose properties
				   (summary, status...) it has */
};

/* Select occurrences that overlap [from, to) (RFC 5545 window semantics:
 * start < to && end > from; a zero-length one if from <= start < to), or
 * those that start in [from, to). */
enum recur_mode {
	RECUR_OVERLAP,
	RECUR_START_IN
};

struct recur_series;

/*
 * Prepare a series from the components of one UID: masters and overrides.
 * Several masters in one calendar are versions of one event when each
 * carries SEQUENCE (the highest, then the last, wins); otherwise, and
 * across calendars (cals[i] is component i's calendar; NULL: all one),
 * each is expanded.  comps are borrowed and must outlive the series; zones
 * is borrowed too.  floating is the zone for floating times and dates.
 * NULL with *cause (caller frees) when nothing can be expanded (no DTSTART,
 * no DUE).  Problems that only drop a part (a duplicate master, an unusable
 * RDATE) are appended to *warnings when warnings is not NULL (caller frees;
 * NULL when none).
 */
struct recur_series *recur_series_new(icalcomponent *const *comps,
		    const int *cals, size_t n, struct tzmap *zones,
		    const struct tz *floating, char **cause, char **warnings);
void		 recur_series_free(struct recur_series *);

/* Whether the series has RRULE or RDATE. */
int		 recur_series_recurring(const struct recur_series *);
/* Index of the (first) master component in the array given, or -1
 * (overrides only). */
int		 recur_series_master(const struct recur_series *);
/*
 * The span every occurrence lies in: [*first, *last]; *unbounded is set
 * when an RRULE has neither COUNT nor UNTIL (then *last is meaningless).
 */
void		 recur_series_span(const struct recur_series *, time_t *first,
		    time_t *last, int *unbounded);

/* Called per occurrence in start order; return nonzero to stop. */
typedef int	(*recur_cb)(const struct recur_occ *, void *arg);

/*
 * Call cb for each occurrence in the window, sorted by start.  Returns 0,
 * 1 when cb stopped the walk, or -1 with *cause when RECUR_MAX_INSTANCES
 * was reached (the occurrences before that point were delivered).
 */
int		 recur_expand(const struct recur_series *, time_t from,
		    time_t to, enum recur_mode, recur_cb cb, void *arg,
		    char **cause);

/*
 * Give every expansion from now on (recur_series_new's walk of a COUNT
 * rule for its span too) a shared budget of steps: once it is spent, an
 * expansion stops as at RECUR_MAX_INSTANCES, with a cause that says so (a
 * span becomes unbounded).  SIZE_MAX: no budget (the default).  Returns
 * the steps that were left, so a caller can put them back.
 */
size_t		 recur_budget(size_t steps);

/*
 * The properties of an icaltimetype-valued property as djcal needs them:
 * the civil value, whether it is a DATE, and its zone (UTC, its TZID's
 * zone, or floating).  Used by ingest and export too.
 */
struct recur_time {
	struct tz_civil	 civil;
	int		 is_date;
	const struct tz	*zone;		/* the zone the value is read in */
	int		 floating;	/* no TZID (or an unknown one), no Z */
};

/* Read a DTSTART/DTEND/DUE/RECURRENCE-ID/EXDATE-like property. -1 when the
 * value is not a date or date-time. */
int		 recur_time_get(icalproperty *, struct tzmap *,
		    const struct tz *floating, struct recur_time *);
/* The instant of a recur_time (a DATE: its midnight in its zone). */
time_t		 recur_time_utc(const struct recur_time *);

#endif
