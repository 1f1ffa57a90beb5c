/*
 * Time zones: wall clock <-> UTC with RFC 5545's rules (section 3.3.5).
 *
 * Zone rules come from a calendar's VTIMEZONE or from the system's zones
 * (the TZif files under /usr/share/zoneinfo, or $TZDIR).  libical 3.0 gets
 * the reverse conversion wrong (a wall-clock time in a DST gap or overlap)
 * and misreads many TZif files, so both directions are done here; libical
 * only parses VTIMEZONE properties and iterates unusual observance RRULEs.
 *
 * A NULL zone is UTC for tz_offset, tz_to_utc and tz_from_utc (callers
 * handle floating times themselves).  Offsets are exact for any year: the
 * zones' final rules repeat every 400 years, which the lookup uses; a
 * VTIMEZONE whose irregular onsets reach past about 2180 keeps its last
 * offset after libical's iterator limit, 2582.
 */
#ifndef DJCAL_TZ_H
#define DJCAL_TZ_H

#include <time.h>

#include <libical/ical.h>

/* A calendar date and wall-clock time, without a zone. */
struct tz_civil {
	int	year, month, day;	/* month 1-12, day 1-31 */
	int	hour, minute, second;
};

/* Days since 1970-01-01 of a proleptic Gregorian date, and back.  Fields
 * out of range carry over (month 13 is next January, day 0 the last day of
 * the month before), here and in tz_civil_to_epoch and tz_to_utc. */
long long	 tz_days_from_civil(int y, int m, int d);
void		 tz_civil_from_days(long long days, int *y, int *m, int *d);
/* A civil time read as UTC, and back. */
time_t		 tz_civil_to_epoch(const struct tz_civil *);
void		 tz_epoch_to_civil(time_t, struct tz_civil *);
/* Day of the week of a date, 0 = Sunday. */
int		 tz_weekday(int y, int m, int d);

struct tz;

/* The UTC zone.  Borrowed; never freed. */
const struct tz	*tz_utc(void);
/*
 * A system zone by name: an IANA name ("Asia/Shanghai"), "UTC"/"GMT", a
 * Windows name ("China Standard Time"), or an IANA name behind a
 * libical/Mozilla TZID prefix ("/freeassociation.sourceforge.net/...").
 * NULL when unknown.  Cached for the life of the process (until
 * tz_shutdown); tz_name gives the IANA name ("Asia/Shanghai" for "China
 * Standard Time", "UTC" for every name of UTC).
 */
const struct tz	*tz_system(const char *name);
/* Free every cached system zone; only at exit (for leak checkers). */
void		 tz_shutdown(void);
/*
 * A zone from a VTIMEZONE component (copied; the caller keeps its own).
 * NULL with *cause set when the VTIMEZONE is unusable (no TZID, no
 * observance, an observance without a DATE-TIME DTSTART, without
 * TZOFFSETFROM or TZOFFSETTO or with an offset beyond +-18 hours, with
 * RDATE;VALUE=PERIOD, or with an RRULE other than YEARLY or MONTHLY); the
 * cause gives the reason only, the caller names the TZID, and *cause is
 * left alone on success.  Caller frees the zone with tz_free.  The onsets
 * are expanded on first use.
 */
struct tz	*tz_from_vtimezone(icalcomponent *vtimezone, char **cause);
/* Free a zone from tz_from_vtimezone; NULL and system zones are ignored. */
void		 tz_free(struct tz *);
/* The TZID or system name.  Borrowed. */
const char	*tz_name(const struct tz *);
/* The VTIMEZONE for this zone (a VTIMEZONE zone's own copy, or one
 * generated for a system zone with TZID tz_name: its state in 1970, every
 * change since as RDATEs, the current rule as RRULEs).  Borrowed; valid
 * while the zone lives. */
icalcomponent	*tz_component(const struct tz *);

/* Seconds east of UTC at an instant. */
int		 tz_offset(const struct tz *, time_t utc);
/*
 * The instant of a wall-clock time.  A time that occurs twice (an overlap)
 * is the first of the two; a time that does not exist (a gap) takes the
 * offset in force before the gap (RFC 5545 3.3.5): 02:30 on the night New
 * York springs forward is 07:30Z.
 */
time_t		 tz_to_utc(const struct tz *, const struct tz_civil *local);
/* The wall-clock time of an instant. */
void		 tz_from_utc(const struct tz *, time_t utc,
		    struct tz_civil *local);

/*
 * The TZIDs in scope of one calendar: its VTIMEZONEs first (RFC 5545
 * 3.2.19), then system zones of the same name.
 */
struct tzmap;

struct tzmap	*tzmap_new(void);
void		 tzmap_free(struct tzmap *);
/* Add a VTIMEZONE; 0, or -1 with *cause when unusable (then the TZID falls
 * back to a system zone of that name).  The component is copied.  Of two
 * usable VTIMEZONEs with one TZID the first is kept. */
int		 tzmap_add(struct tzmap *, icalcomponent *vtimezone,
		    char **cause);
/* The zone of a TZID, or NULL (then times are floating).  Borrowed; valid
 * until tzmap_free. */
const struct tz	*tzmap_get(struct tzmap *, const char *tzid);
/* Whether the map holds a usable VTIMEZONE of this TZID. */
int		 tzmap_has_vtimezone(const struct tzmap *, const char *tzid);

#endif
