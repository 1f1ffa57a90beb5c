/*
 * Tests for recur.c: RRULE, RDATE, EXDATE and RECURRENCE-ID overrides of
 * one UID in a window, with zones and RFC 5545's DST rules.
 *
 * Each case is a set of components (VEVENT/VTODO lines, no VCALENDAR); the
 * expansion is written as a string, one occurrence per word:
 * "20260105T010000Z" for a timed start (UTC), "D20260105" for an all-day
 * one (its date in the floating zone, Asia/Shanghai), optionally followed by
 * "/END" in the same style, and "@N" when the occurrence takes its
 * properties from component N rather than 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "djcal/recur.h"
#include "djcal/tz.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

#define MAXCOMPS	32

/* One parsed set of components and its series. */
static icalcomponent	*cal;
static icalcomponent	*comps[MAXCOMPS];
static int		 cals[MAXCOMPS];
static size_t		 ncomps;
static struct tzmap	*zones;
static struct recur_series *series;
static char		*cause, *warnings;
static const struct tz	*shanghai;

static void
setup(void)
{
	icalerror_set_errors_are_fatal(0);
	shanghai = tz_system("Asia/Shanghai");
	ck_assert_ptr_nonnull(shanghai);
	cal = NULL;
	ncomps = 0;
	zones = tzmap_new();
	series = NULL;
	cause = warnings = NULL;
}

static void
teardown(void)
{
	recur_series_free(series);
	series = NULL;
	tzmap_free(zones);
	zones = NULL;
	if (cal != NULL)
		icalcomponent_free(cal);
	cal = NULL;
	free(cause);
	free(warnings);
	cause = warnings = NULL;
}

/* "20260105T010000Z" (UTC) or "20260105" (a date) -> instant (a date: its
 * midnight UTC). */
static time_t
ut(const char *s)
{
	struct tz_civil c;

	memset(&c, 0, sizeof c);
	if (sscanf(s, "%4d%2d%2dT%2d%2d%2d", &c.year, &c.month, &c.day,
	    &c.hour, &c.minute, &c.second) < 3)
		ck_abort_msg("bad time %s", s);
	return tz_civil_to_epoch(&c);
}

/*
 * Parse components (VEVENTs, VTODOs and VTIMEZONEs, LF line ends) into
 * comps[].  A component with X-TEST-CAL:N is put in calendar N.
 */
static void
load(const char *text)
{
	icalcomponent *c;
	char *body;
	size_t i, n = 0;
	const char *p;

	body = xmalloc(strlen(text) * 2 + 128);
	n = (size_t)sprintf(body, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//djcal//check_recur//EN\r\n");
	for (p = text; *p != '\0'; p++) {
		if (*p == '\n')
			body[n++] = '\r';
		body[n++] = *p;
	}
	if (n > 0 && body[n - 1] != '\n') {
		body[n++] = '\r';
		body[n++] = '\n';
	}
	n += (size_t)sprintf(body + n, "END:VCALENDAR\r\n");
	cal = icalparser_parse_string(body);
	free(body);
	ck_assert_ptr_nonnull(cal);
	for (c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	    c != NULL;
	    c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		icalproperty *x;

		if (icalcomponent_isa(c) == ICAL_VTIMEZONE_COMPONENT) {
			char *zc = NULL;

			ck_assert_msg(tzmap_add(zones, c, &zc) == 0,
			    "VTIMEZONE: %s", zc);
			continue;
		}
		ck_assert_uint_lt(ncomps, MAXCOMPS);
		cals[ncomps] = 0;
		for (x = icalcomponent_get_first_property(c, ICAL_X_PROPERTY);
		    x != NULL;
		    x = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
			if (strcmp(icalproperty_get_x_name(x),
			    "X-TEST-CAL") == 0)
				cals[ncomps] = atoi(icalproperty_get_x(x));
		comps[ncomps++] = c;
	}
	for (i = 0; i < ncomps; i++)
		ck_assert_ptr_nonnull(comps[i]);
}

/* load() and make the series; NULL (cause set) when recur refuses. */
static struct recur_series *
make(const char *text)
{
	load(text);
	series = recur_series_new(comps, cals, ncomps, zones, shanghai,
	    &cause, &warnings);
	return series;
}

struct outbuf {
	char	*s;
	size_t	 len, cap;
	int	 ends;		/* write "/END" too */
	size_t	 n;		/* occurrences seen */
	size_t	 stop_after;	/* 0: never stop */
	time_t	 last_start;
	int	 unsorted;
};

static void
out_add(struct outbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 2 > b->cap) {
		b->cap = (b->len + n + 2) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	if (b->len > 0)
		b->s[b->len++] = ' ';
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

static void
fmt_time(char *buf, size_t len, time_t t, int all_day)
{
	struct tz_civil c;

	if (all_day) {
		tz_from_utc(shanghai, t, &c);
		snprintf(buf, len, "D%04d%02d%02d", c.year, c.month, c.day);
	} else {
		tz_epoch_to_civil(t, &c);
		snprintf(buf, len, "%04d%02d%02dT%02d%02d%02dZ", c.year,
		    c.month, c.day, c.hour, c.minute, c.second);
	}
}

static int
out_cb(const struct recur_occ *o, void *arg)
{
	struct outbuf *b = arg;
	char one[96], st[32], en[32];

	if (b->n > 0 && o->start < b->last_start)
		b->unsorted = 1;
	b->last_start = o->start;
	ck_assert_int_ge(o->end, o->start);
	fmt_time(st, sizeof st, o->start, o->all_day);
	fmt_time(en, sizeof en, o->end, o->all_day);
	snprintf(one, sizeof one, "%s%s%s", st, b->ends ? "/" : "",
	    b->ends ? en : "");
	if (o->comp != 0)
		snprintf(one + strlen(one), sizeof one - strlen(one), "@%zu",
		    o->comp);
	out_add(b, one);
	b->n++;
	return b->stop_after > 0 && b->n >= b->stop_after;
}

/* The expansion of the series over [from, to) as a string (caller frees);
 * *rc gets recur_expand's result. */
static char *
expand(const char *from, const char *to, enum recur_mode mode, int ends,
    int *rc)
{
	struct outbuf b;

	memset(&b, 0, sizeof b);
	b.ends = ends;
	free(cause);
	cause = NULL;
	*rc = recur_expand(series, ut(from), ut(to), mode, out_cb, &b,
	    &cause);
	ck_assert_msg(!b.unsorted, "occurrences out of order: %s", b.s);
	if (b.s == NULL)
		b.s = xstrdup("");
	return b.s;
}

/* The table of rules */

#define SH	"DTSTART;TZID=Asia/Shanghai:"
#define NY	"DTSTART;TZID=America/New_York:"

struct rule_case {
	const char	*name;
	const char	*comps;
	const char	*from, *to;
	enum recur_mode	 mode;
	int		 ends;		/* expect "/END" in each word */
	const char	*expect;
};

static const struct rule_case rule_cases[] = {
	/* RRULE */
	{ "bysetpos_last_weekday",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260130T090000\n"
	  "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=4\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260130T010000Z 20260227T010000Z 20260331T010000Z "
	  "20260430T010000Z" },
	{ "bysetpos_first_and_last",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260101T090000\n"
	  "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1;COUNT=4\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260101T010000Z 20260130T010000Z 20260202T010000Z "
	  "20260227T010000Z" },
	/* Regression: libical 3.0 ignores BYSETPOS below MONTHLY.  The
	 * choice is made among a period's instances from DTSTART on, as
	 * python-dateutil does; COUNT counts the chosen ones. */
	{ "bysetpos_weekly_last",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;BYSETPOS=-1;COUNT=3\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260109T010000Z 20260116T010000Z "
	  "20260123T010000Z" },
	{ "bysetpos_weekly_interval_first_and_last",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260109T090000\n"
	  "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;BYSETPOS=1,-1;"
	  "COUNT=4\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260109T010000Z 20260119T010000Z 20260123T010000Z "
	  "20260202T010000Z" },
	{ "bysetpos_weekly_wkst_sunday",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260104T090000\n"
	  "RRULE:FREQ=WEEKLY;BYDAY=SU,MO;BYSETPOS=1;COUNT=3;WKST=SU\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260104T010000Z 20260111T010000Z 20260118T010000Z" },
	{ "bysetpos_weekly_wkst_monday",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260104T090000\n"
	  "RRULE:FREQ=WEEKLY;BYDAY=SU,MO;BYSETPOS=1;COUNT=3;WKST=MO\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260104T010000Z 20260105T010000Z 20260112T010000Z" },
	{ "bysetpos_weekly_far_window",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;BYSETPOS=-1\nEND:VEVENT",
	  "20900101", "20900115", RECUR_OVERLAP, 0,
	  "20900106T010000Z 20900113T010000Z" },
	{ "bysetpos_daily",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;BYHOUR=9,17;BYSETPOS=-1;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260105T090000Z 20260106T090000Z "
	  "20260107T090000Z" },
	{ "byday_last_friday",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260130T090000\n"
	  "RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260130T010000Z 20260227T010000Z 20260327T010000Z" },
	{ "byday_second_last_monday",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260119T090000\n"
	  "RRULE:FREQ=MONTHLY;BYDAY=-2MO;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260119T010000Z 20260216T010000Z 20260323T010000Z" },
	{ "yearly_byday_third_thursday_november",
	  "BEGIN:VEVENT\nUID:a\n" SH "20261119T090000\n"
	  "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=3TH;COUNT=3\nEND:VEVENT",
	  "20260101", "20300101", RECUR_OVERLAP, 0,
	  "20261119T010000Z 20271118T010000Z 20281116T010000Z" },
	/* Regression: libical 3.0 kept a YEARLY BYMONTHDAY to DTSTART's
	 * month (BYMONTHDAY=31 from February: nothing at all). */
	{ "yearly_bymonthday_every_month",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20250811T190000Z\n"
	  "RRULE:FREQ=YEARLY;INTERVAL=2;BYMONTHDAY=15;COUNT=4\nEND:VEVENT",
	  "20250101", "20300101", RECUR_OVERLAP, 0,
	  "20250811T190000Z 20250815T190000Z 20250915T190000Z "
	  "20251015T190000Z 20251115T190000Z" },
	{ "yearly_bymonthday_31",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260131T090000\n"
	  "RRULE:FREQ=YEARLY;BYMONTHDAY=31;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260131T010000Z 20260331T010000Z 20260531T010000Z" },
	{ "yearly_tuesday_13th",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260113T090000\n"
	  "RRULE:FREQ=YEARLY;BYDAY=TU;BYMONTHDAY=13;COUNT=3\nEND:VEVENT",
	  "20260101", "20300101", RECUR_OVERLAP, 0,
	  "20260113T010000Z 20261013T010000Z 20270413T010000Z" },
	/* RFC 5545's "every 20th Monday of the year". */
	{ "yearly_20th_monday_rfc",
	  "BEGIN:VEVENT\nUID:a\n" NY "19970519T090000\n"
	  "RRULE:FREQ=YEARLY;BYDAY=20MO;COUNT=3\nEND:VEVENT",
	  "19970101", "20000101", RECUR_OVERLAP, 0,
	  "19970519T130000Z 19980518T130000Z 19990517T130000Z" },
	{ "bymonthday_31_skips_short_months",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260131T090000\n"
	  "RRULE:FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260131T010000Z 20260331T010000Z 20260531T010000Z "
	  "20260731T010000Z" },
	{ "bymonthday_minus1_last_day",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260131T090000\n"
	  "RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260131T010000Z 20260228T010000Z 20260331T010000Z" },
	/* Regression: libical 3.0 never matches a negative BYMONTHDAY of a
	 * DAILY (or finer) rule. */
	{ "bymonthday_minus1_daily",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260131T090000\n"
	  "RRULE:FREQ=DAILY;BYMONTHDAY=-1;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260131T010000Z 20260228T010000Z 20260331T010000Z" },
	{ "bymonthday_daily_interval_byday",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20250210T010000Z\n"
	  "RRULE:FREQ=DAILY;INTERVAL=3;BYDAY=MO,TH,SA;BYMONTHDAY=-1,1;"
	  "COUNT=4\nEND:VEVENT",
	  "20250101", "20300101", RECUR_OVERLAP, 0,
	  "20250210T010000Z 20250731T010000Z 20251101T010000Z "
	  "20251201T010000Z 20260430T010000Z" },
	{ "bymonthday_hourly_limit",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T030000Z\n"
	  "RRULE:FREQ=HOURLY;INTERVAL=6;BYMONTHDAY=-1;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T030000Z 20260131T030000Z 20260131T090000Z "
	  "20260131T150000Z" },
	{ "bymonthday_daily_far_window",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260131T090000\n"
	  "RRULE:FREQ=DAILY;BYMONTHDAY=-1\nEND:VEVENT",
	  "20900101", "20900401", RECUR_OVERLAP, 0,
	  "20900131T010000Z 20900228T010000Z 20900331T010000Z" },
	{ "count",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T010000Z 20260107T010000Z" },
	/* 2026-01-06T02:00Z is 10:00 in Shanghai: the 6th is in; read as a
	 * wall clock (02:00) it would not be. */
	{ "until_utc_of_zoned_series",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;UNTIL=20260106T020000Z\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T010000Z" },
	{ "until_inclusive",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;UNTIL=20260107T010000Z\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T010000Z 20260107T010000Z" },
	{ "until_utc_new_york_evening",
	  "BEGIN:VEVENT\nUID:a\n" NY "20260105T200000\n"
	  "RRULE:FREQ=DAILY;UNTIL=20260107T005959Z\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260106T010000Z" },
	{ "until_date_of_timed_series",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;UNTIL=20260107\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T010000Z 20260107T010000Z" },
	{ "until_date_all_day",
	  "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260105\n"
	  "RRULE:FREQ=DAILY;UNTIL=20260107\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "D20260105 D20260106 D20260107" },
	{ "interval_weekly_two_days",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260106T090000\n"
	  "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=4\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260106T010000Z 20260108T010000Z 20260120T010000Z "
	  "20260122T010000Z" },
	/* RFC 5545 3.8.5.3's own example of WKST. */
	{ "interval_weekly_wkst_mo_rfc",
	  "BEGIN:VEVENT\nUID:a\n" NY "19970805T090000\n"
	  "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO\n"
	  "END:VEVENT",
	  "19970101", "19980101", RECUR_OVERLAP, 0,
	  "19970805T130000Z 19970810T130000Z 19970819T130000Z "
	  "19970824T130000Z" },
	{ "interval_weekly_wkst_su_rfc",
	  "BEGIN:VEVENT\nUID:a\n" NY "19970805T090000\n"
	  "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU\n"
	  "END:VEVENT",
	  "19970101", "19980101", RECUR_OVERLAP, 0,
	  "19970805T130000Z 19970817T130000Z 19970819T130000Z "
	  "19970831T130000Z" },
	/* Regression: libical 3.0 loses a WEEKLY rule's INTERVAL phase
	 * when DTSTART is not a BYDAY day or WKST is not MO or SU (here it
	 * skipped May 10 and gave May 17, 31...). */
	{ "interval_weekly_unsynchronised_dtstart",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260504T090000\n"
	  "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;WKST=MO;COUNT=3\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260504T010000Z 20260510T010000Z 20260524T010000Z "
	  "20260607T010000Z" },
	{ "interval_weekly_wkst_saturday",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260806T210000Z\n"
	  "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH,TU;WKST=SA;COUNT=4\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260806T210000Z 20260818T210000Z 20260820T210000Z "
	  "20260901T210000Z" },
	{ "interval_weekly_bysetpos",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR;BYSETPOS=-1;COUNT=3\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260109T010000Z 20260130T010000Z "
	  "20260220T010000Z" },
	{ "interval_weekly_far_window",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260504T090000\n"
	  "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;WKST=MO\nEND:VEVENT",
	  "20900101", "20900201", RECUR_OVERLAP, 0,
	  "20900108T010000Z 20900122T010000Z" },
	{ "interval_monthly",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260115T090000\n"
	  "RRULE:FREQ=MONTHLY;INTERVAL=5\nEND:VEVENT",
	  "20260101", "20270701", RECUR_OVERLAP, 0,
	  "20260115T010000Z 20260615T010000Z 20261115T010000Z "
	  "20270415T010000Z" },
	/* RFC 5545 3.8.5.3: DTSTART is the first instance even when the
	 * rule would not produce it. */
	{ "dtstart_unsynchronised_is_first",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=WEEKLY;BYDAY=WE;UNTIL=20260115T000000Z\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260107T010000Z 20260114T010000Z" },
	{ "feb29_yearly_skips_common_years",
	  "BEGIN:VEVENT\nUID:a\n" SH "20240229T090000\n"
	  "RRULE:FREQ=YEARLY;COUNT=3\nEND:VEVENT",
	  "20240101", "20400101", RECUR_OVERLAP, 0,
	  "20240229T010000Z 20280229T010000Z 20320229T010000Z" },
	{ "two_rrules_merged",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2\n"
	  "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260107T010000Z 20260112T010000Z" },

	/* RDATE */
	{ "rdate_datetime_other_zone",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RDATE;TZID=Europe/Berlin:20260110T100000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260110T090000Z" },
	{ "rdate_utc_list",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "DTEND;TZID=Asia/Shanghai:20260105T100000\n"
	  "RDATE:20260112T060000Z,20260110T060000Z\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260105T010000Z/20260105T020000Z "
	  "20260110T060000Z/20260110T070000Z "
	  "20260112T060000Z/20260112T070000Z" },
	{ "rdate_date_of_timed_series",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RDATE;VALUE=DATE:20260110\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260110T010000Z" },
	{ "rdate_date_all_day",
	  "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260105\n"
	  "RDATE;VALUE=DATE:20260110,20260108\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "D20260105/D20260106 D20260108/D20260109 D20260110/D20260111" },
	{ "rdate_period",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "DTEND;TZID=Asia/Shanghai:20260105T100000\n"
	  "RDATE;VALUE=PERIOD:20260110T020000Z/20260110T050000Z,"
	  "20260111T020000Z/PT2H\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260105T010000Z/20260105T020000Z "
	  "20260110T020000Z/20260110T050000Z "
	  "20260111T020000Z/20260111T040000Z" },
	{ "rdate_equal_to_rule_instance_once",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\n"
	  "RDATE;TZID=Asia/Shanghai:20260106T090000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T010000Z 20260107T010000Z" },

	/* EXDATE */
	{ "exdate_instant",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=4\n"
	  "EXDATE;TZID=Asia/Shanghai:20260106T090000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260107T010000Z 20260108T010000Z" },
	{ "exdate_utc_of_zoned_series",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=4\nEXDATE:20260107T010000Z\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T010000Z 20260108T010000Z" },
	{ "exdate_date",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=4\nEXDATE;VALUE=DATE:20260106\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260107T010000Z 20260108T010000Z" },
	{ "exdate_dtstart",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\n"
	  "EXDATE;TZID=Asia/Shanghai:20260105T090000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260106T010000Z 20260107T010000Z" },
	{ "exdate_utc_of_floating_series",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=4\nEXDATE:20260106T090000Z\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260107T010000Z 20260108T010000Z" },
	{ "exdate_all_day",
	  "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260105\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEXDATE;VALUE=DATE:20260106\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "D20260105 D20260107" },
	{ "exdate_removes_rdate",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RDATE;TZID=Asia/Shanghai:20260110T090000\n"
	  "EXDATE;TZID=Asia/Shanghai:20260110T090000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z" },

	/* All-day items, lengths */
	{ "all_day_weekly",
	  "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260105\n"
	  "DTEND;VALUE=DATE:20260106\nRRULE:FREQ=WEEKLY;COUNT=2\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "D20260105/D20260106 D20260112/D20260113" },
	{ "all_day_multi_day",
	  "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260105\n"
	  "DTEND;VALUE=DATE:20260108\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "D20260105/D20260108" },
	{ "date_without_dtend_is_one_day",
	  "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260105\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "D20260105/D20260106" },
	{ "no_dtend_zero_length",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260105T010000Z/20260105T010000Z" },
	{ "dtend_other_zone",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "DTEND;TZID=Europe/Berlin:20260105T030000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260105T010000Z/20260105T020000Z" },
	/* 2026-03-08 is New York's spring-forward day: P1D is the same wall
	 * clock a day later (23 hours); PT24H is 24 hours. */
	{ "duration_nominal_day_across_dst",
	  "BEGIN:VEVENT\nUID:a\n" NY "20260307T120000\nDURATION:P1D\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260307T170000Z/20260308T160000Z" },
	{ "duration_exact_hours_across_dst",
	  "BEGIN:VEVENT\nUID:a\n" NY "20260307T120000\nDURATION:PT24H\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260307T170000Z/20260308T170000Z" },
	{ "duration_recurring_across_dst",
	  "BEGIN:VEVENT\nUID:a\n" NY "20260306T120000\nDURATION:P1DT1H\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260306T170000Z/20260307T180000Z "
	  "20260307T170000Z/20260308T170000Z "
	  "20260308T160000Z/20260309T170000Z" },
	{ "duration_on_date_counts_days",
	  "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260105\n"
	  "DURATION:P2D\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "D20260105/D20260107" },

	/* Window semantics */
	{ "window_overlap_takes_running",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T100000Z\n"
	  "DTEND:20260105T110000Z\nEND:VEVENT",
	  "20260105T103000Z", "20260105T120000Z", RECUR_OVERLAP, 0,
	  "20260105T100000Z" },
	{ "window_start_in_skips_running",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T100000Z\n"
	  "DTEND:20260105T110000Z\nEND:VEVENT",
	  "20260105T103000Z", "20260105T120000Z", RECUR_START_IN, 0,
	  "" },
	{ "window_end_at_from_excluded",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T100000Z\n"
	  "DTEND:20260105T110000Z\nEND:VEVENT",
	  "20260105T110000Z", "20260105T120000Z", RECUR_OVERLAP, 0,
	  "" },
	{ "window_start_at_to_excluded",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T100000Z\n"
	  "DTEND:20260105T110000Z\nEND:VEVENT",
	  "20260105T090000Z", "20260105T100000Z", RECUR_OVERLAP, 0,
	  "" },
	{ "window_zero_length_at_from",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T100000Z\nEND:VEVENT",
	  "20260105T100000Z", "20260105T110000Z", RECUR_OVERLAP, 0,
	  "20260105T100000Z" },
	{ "window_zero_length_at_to",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T100000Z\nEND:VEVENT",
	  "20260105T090000Z", "20260105T100000Z", RECUR_OVERLAP, 0,
	  "" },
	{ "window_recurring_overlap",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T230000Z\n"
	  "DTEND:20260106T010000Z\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT",
	  "20260106T000000Z", "20260107T000000Z", RECUR_OVERLAP, 0,
	  "20260105T230000Z 20260106T230000Z" },
	{ "window_recurring_start_in",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T230000Z\n"
	  "DTEND:20260106T010000Z\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT",
	  "20260106T000000Z", "20260107T000000Z", RECUR_START_IN, 0,
	  "20260106T230000Z" },

	/* DST (RFC 5545 3.3.5): 2026-03-08 02:30 does not exist in New
	 * York (the offset before the gap: 07:30Z); 2026-11-01 01:30
	 * happens twice (the first: EDT, 05:30Z). */
	{ "dst_gap_weekly",
	  "BEGIN:VEVENT\nUID:a\n" NY "20260301T023000\n"
	  "RRULE:FREQ=WEEKLY;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260301T073000Z 20260308T073000Z 20260315T063000Z" },
	{ "dst_overlap_weekly",
	  "BEGIN:VEVENT\nUID:a\n" NY "20261025T013000\n"
	  "RRULE:FREQ=WEEKLY;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20261025T053000Z 20261101T053000Z 20261108T063000Z" },
	{ "dst_wall_clock_kept",
	  "BEGIN:VEVENT\nUID:a\n" NY "20260305T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=4\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260305T140000Z 20260306T140000Z 20260307T140000Z "
	  "20260308T130000Z" },

	/* RECURRENCE-ID overrides */
	{ "override_moved_instance",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "DTEND;TZID=Asia/Shanghai:20260105T100000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\n"
	  "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	  SH "20260106T150000\nDTEND;TZID=Asia/Shanghai:20260106T170000\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260105T010000Z/20260105T020000Z "
	  "20260106T070000Z/20260106T090000Z@1 "
	  "20260107T010000Z/20260107T020000Z" },
	{ "override_moved_out_of_window",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\n"
	  "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	  SH "20260110T090000\nEND:VEVENT",
	  "20260106T000000Z", "20260106T050000Z", RECUR_OVERLAP, 0,
	  "" },
	{ "override_moved_into_window",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\n"
	  "RECURRENCE-ID;TZID=Asia/Shanghai:20260107T090000\n"
	  "DTSTART:20260106T030000Z\nEND:VEVENT",
	  "20260106T020000Z", "20260106T050000Z", RECUR_OVERLAP, 0,
	  "20260106T030000Z@1" },
	{ "override_utc_rid_of_zoned_series",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\nRECURRENCE-ID:20260106T010000Z\n"
	  "DTSTART:20260106T050000Z\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T050000Z@1 20260107T010000Z" },
	{ "override_cancelled_listed_with_its_component",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\n"
	  "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	  SH "20260106T090000\nSTATUS:CANCELLED\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T010000Z@1 20260107T010000Z" },
	{ "override_before_master_in_source",
	  "BEGIN:VEVENT\nUID:a\n"
	  "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	  SH "20260106T150000\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z@1 20260106T070000Z 20260107T010000Z@1" },
	{ "override_without_master",
	  "BEGIN:VEVENT\nUID:a\n"
	  "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	  SH "20260106T150000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260106T070000Z" },
	{ "override_without_dtstart_keeps_time",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "DTEND;TZID=Asia/Shanghai:20260105T100000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\n"
	  "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	  "SUMMARY:changed\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260105T010000Z/20260105T020000Z "
	  "20260106T010000Z/20260106T020000Z@1 "
	  "20260107T010000Z/20260107T020000Z" },
	{ "override_date_rid_of_timed_series",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\nRECURRENCE-ID;VALUE=DATE:20260106\n"
	  SH "20260106T150000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T070000Z@1 20260107T010000Z" },
	{ "override_of_all_day_series",
	  "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260105\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\nRECURRENCE-ID;VALUE=DATE:20260106\n"
	  "DTSTART;VALUE=DATE:20260109\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "D20260105 D20260107 D20260109@1" },
	{ "override_of_floating_series",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T090000\n"
	  "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\nRECURRENCE-ID:20260106T090000\n"
	  "DTSTART:20260106T100000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T020000Z@1 20260107T010000Z" },
	{ "override_of_rdate_instance",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RDATE;TZID=Asia/Shanghai:20260110T090000\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\n"
	  "RECURRENCE-ID;TZID=Asia/Shanghai:20260110T090000\n"
	  SH "20260111T090000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260111T010000Z@1" },

	/* Several masters (docs/CONFORMANCE.md) */
	{ "masters_sequence_highest_wins",
	  "BEGIN:VEVENT\nUID:a\nSEQUENCE:2\n" SH "20260105T090000\n"
	  "END:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\nSEQUENCE:1\n" SH "20260106T090000\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z" },
	{ "masters_equal_sequence_last_wins",
	  "BEGIN:VEVENT\nUID:a\nSEQUENCE:1\n" SH "20260105T090000\n"
	  "END:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\nSEQUENCE:1\n" SH "20260106T090000\n"
	  "END:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260106T010000Z@1" },
	{ "masters_without_sequence_each_listed",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\nEND:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\n" SH "20260106T090000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T010000Z@1" },
	{ "masters_partly_sequenced_each_listed",
	  "BEGIN:VEVENT\nUID:a\nSEQUENCE:3\n" SH "20260105T090000\n"
	  "END:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\n" SH "20260106T090000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T010000Z@1" },
	{ "masters_in_two_calendars_each_listed",
	  "BEGIN:VEVENT\nUID:a\nSEQUENCE:2\n" SH "20260105T090000\n"
	  "END:VEVENT\n"
	  "BEGIN:VEVENT\nUID:a\nSEQUENCE:1\nX-TEST-CAL:1\n"
	  SH "20260106T090000\nEND:VEVENT",
	  "20260101", "20270101", RECUR_OVERLAP, 0,
	  "20260105T010000Z 20260106T010000Z@1" },

	/* Tasks */
	{ "task_due_only",
	  "BEGIN:VTODO\nUID:t\nDUE;TZID=Asia/Shanghai:20260110T180000\n"
	  "END:VTODO",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260110T100000Z/20260110T100000Z" },
	{ "task_dtstart_and_due",
	  "BEGIN:VTODO\nUID:t\n" SH "20260105T090000\n"
	  "DUE;TZID=Asia/Shanghai:20260110T180000\nEND:VTODO",
	  "20260101", "20270101", RECUR_OVERLAP, 1,
	  "20260105T010000Z/20260110T100000Z" },

	/* Far from DTSTART: libical's set_start path */
	{ "far_window_weekly",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=WEEKLY;BYDAY=MO\nEND:VEVENT",
	  "20900101", "20900120", RECUR_OVERLAP, 0,
	  "20900102T010000Z 20900109T010000Z 20900116T010000Z" },
	{ "far_window_monthly_last_weekday",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260130T090000\n"
	  "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1\n"
	  "END:VEVENT",
	  "20900101", "20900401", RECUR_OVERLAP, 0,
	  "20900131T010000Z 20900228T010000Z 20900331T010000Z" },
	{ "far_window_until_before_window",
	  "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	  "RRULE:FREQ=DAILY;UNTIL=20300101T000000Z\nEND:VEVENT",
	  "20900101", "20900120", RECUR_OVERLAP, 0,
	  "" },
	/* Regression: set_start was used for sub-daily rules, where libical
	 * 3.0 loses the INTERVAL's phase (08:00Z came out of a 7-hourly
	 * rule whose instances are 11:00Z, 18:00Z, ...). */
	{ "subdaily_interval_far_window",
	  "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T090000Z\n"
	  "RRULE:FREQ=HOURLY;INTERVAL=7\nEND:VEVENT",
	  "20270115T090000Z", "20270116T000000Z", RECUR_OVERLAP, 0,
	  "20270115T110000Z 20270115T180000Z" },
};

START_TEST(test_rule_table)
{
	const struct rule_case *rc = &rule_cases[_i];
	char *got;
	int r;

	ck_assert_msg(make(rc->comps) != NULL, "%s: %s", rc->name, cause);
	got = expand(rc->from, rc->to, rc->mode, rc->ends, &r);
	ck_assert_msg(r == 0, "%s: rc %d (%s)", rc->name, r, cause);
	ck_assert_msg(strcmp(got, rc->expect) == 0,
	    "%s:\n  got    \"%s\"\n  wanted \"%s\"", rc->name, got,
	    rc->expect);
	free(got);
}
END_TEST


/* Occurrences collected as structs. */
struct occv {
	struct recur_occ	*v;
	size_t			 n, cap;
};

static int
occv_cb(const struct recur_occ *o, void *arg)
{
	struct occv *ov = arg;

	if (ov->n == ov->cap) {
		ov->cap = ov->cap == 0 ? 64 : ov->cap * 2;
		ov->v = xreallocarray(ov->v, ov->cap, sizeof *ov->v);
	}
	ov->v[ov->n++] = *o;
	return 0;
}

START_TEST(test_recurrence_ids)
{
	struct occv ov;

	memset(&ov, 0, sizeof ov);
	ck_assert_ptr_nonnull(make(
	    "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	    "RRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:a\n"
	    "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	    SH "20260106T150000\nEND:VEVENT"));
	ck_assert(recur_series_recurring(series));
	ck_assert_int_eq(recur_series_master(series), 0);
	ck_assert_int_eq(recur_expand(series, ut("20260101"), ut("20270101"),
	    RECUR_OVERLAP, occv_cb, &ov, &cause), 0);
	ck_assert_uint_eq(ov.n, 2);
	ck_assert(ov.v[0].has_rid);
	ck_assert_int_eq(ov.v[0].rid, ut("20260105T010000Z"));
	ck_assert(!ov.v[0].rid_all_day);
	ck_assert_uint_eq(ov.v[0].comp, 0);
	ck_assert(ov.v[1].has_rid);
	ck_assert_int_eq(ov.v[1].rid, ut("20260106T010000Z"));
	ck_assert_int_eq(ov.v[1].start, ut("20260106T070000Z"));
	ck_assert_uint_eq(ov.v[1].comp, 1);
	free(ov.v);
}
END_TEST

START_TEST(test_all_day_recurrence_id)
{
	struct occv ov;

	memset(&ov, 0, sizeof ov);
	ck_assert_ptr_nonnull(make(
	    "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260105\n"
	    "RRULE:FREQ=WEEKLY;COUNT=2\nEND:VEVENT"));
	ck_assert_int_eq(recur_expand(series, ut("20260101"), ut("20270101"),
	    RECUR_OVERLAP, occv_cb, &ov, &cause), 0);
	ck_assert_uint_eq(ov.n, 2);
	ck_assert(ov.v[1].all_day);
	ck_assert(ov.v[1].has_rid);
	ck_assert(ov.v[1].rid_all_day);
	/* An all-day item's instant is its local midnight. */
	ck_assert_int_eq(ov.v[1].start, ut("20260111T160000Z"));
	ck_assert_int_eq(ov.v[1].end, ut("20260112T160000Z"));
	free(ov.v);
}
END_TEST

/* A single event is no recurrence set: no recurrence id. */
START_TEST(test_single_has_no_rid)
{
	struct occv ov;

	memset(&ov, 0, sizeof ov);
	ck_assert_ptr_nonnull(make(
	    "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\nEND:VEVENT"));
	ck_assert(!recur_series_recurring(series));
	ck_assert_int_eq(recur_expand(series, ut("20260101"), ut("20270101"),
	    RECUR_OVERLAP, occv_cb, &ov, &cause), 0);
	ck_assert_uint_eq(ov.n, 1);
	ck_assert(!ov.v[0].has_rid);
	free(ov.v);
}
END_TEST

START_TEST(test_custom_vtimezone)
{
	char *got;
	int r;

	ck_assert_ptr_nonnull(make(
	    "BEGIN:VTIMEZONE\nTZID:Branch Standard Time\n"
	    "BEGIN:STANDARD\nDTSTART:19700101T000000\n"
	    "TZOFFSETFROM:+0300\nTZOFFSETTO:+0300\nEND:STANDARD\n"
	    "END:VTIMEZONE\n"
	    "BEGIN:VEVENT\nUID:a\n"
	    "DTSTART;TZID=Branch Standard Time:20260105T090000\n"
	    "RRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT"));
	got = expand("20260101", "20270101", RECUR_OVERLAP, 0, &r);
	ck_assert_str_eq(got, "20260105T060000Z 20260106T060000Z");
	free(got);
}
END_TEST

/* The callback stops the walk. */
START_TEST(test_callback_stops)
{
	struct outbuf b;

	memset(&b, 0, sizeof b);
	b.stop_after = 2;
	ck_assert_ptr_nonnull(make("BEGIN:VEVENT\nUID:a\n" SH
	    "20260105T090000\nRRULE:FREQ=DAILY\nEND:VEVENT"));
	ck_assert_int_eq(recur_expand(series, ut("20260101"), ut("20270101"),
	    RECUR_OVERLAP, out_cb, &b, &cause), 1);
	ck_assert_str_eq(b.s, "20260105T010000Z 20260106T010000Z");
	free(b.s);
}
END_TEST

/* recur_time_get */

START_TEST(test_time_get)
{
	struct recur_time t;
	icalcomponent *c;
	icalproperty *p;

	make("BEGIN:VTIMEZONE\nTZID:Branch Standard Time\n"
	    "BEGIN:STANDARD\nDTSTART:19700101T000000\n"
	    "TZOFFSETFROM:+0300\nTZOFFSETTO:+0300\nEND:STANDARD\n"
	    "END:VTIMEZONE\n"
	    "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260105\n"
	    "DTEND:20260105T010000Z\n"
	    "DUE;TZID=Asia/Shanghai:20260105T090000\n"
	    "RECURRENCE-ID;TZID=No/Such_Zone:20260105T090000\n"
	    "COMPLETED;TZID=Branch Standard Time:20260105T090000\n"
	    "END:VEVENT");
	c = comps[0];
	p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	ck_assert_int_eq(recur_time_get(p, zones, shanghai, &t), 0);
	ck_assert(t.is_date);
	ck_assert(t.floating);
	ck_assert_int_eq(recur_time_utc(&t), ut("20260104T160000Z"));

	p = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY);
	ck_assert_int_eq(recur_time_get(p, zones, shanghai, &t), 0);
	ck_assert(!t.is_date && !t.floating);
	ck_assert_ptr_eq(t.zone, tz_utc());
	ck_assert_int_eq(recur_time_utc(&t), ut("20260105T010000Z"));

	p = icalcomponent_get_first_property(c, ICAL_DUE_PROPERTY);
	ck_assert_int_eq(recur_time_get(p, zones, shanghai, &t), 0);
	ck_assert(!t.floating);
	ck_assert_int_eq(recur_time_utc(&t), ut("20260105T010000Z"));

	/* An unknown TZID without VTIMEZONE: floating. */
	p = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
	ck_assert_int_eq(recur_time_get(p, zones, shanghai, &t), 0);
	ck_assert(t.floating);
	ck_assert_ptr_eq(t.zone, shanghai);
	ck_assert_int_eq(recur_time_utc(&t), ut("20260105T010000Z"));

	p = icalcomponent_get_first_property(c, ICAL_COMPLETED_PROPERTY);
	ck_assert_int_eq(recur_time_get(p, zones, shanghai, &t), 0);
	ck_assert(!t.floating);
	ck_assert_int_eq(recur_time_utc(&t), ut("20260105T060000Z"));

	p = icalcomponent_get_first_property(c, ICAL_UID_PROPERTY);
	ck_assert_int_eq(recur_time_get(p, zones, shanghai, &t), -1);
	ck_assert_int_eq(recur_time_get(NULL, zones, shanghai, &t), -1);
}
END_TEST

/* recur_series_span */

START_TEST(test_span_count)
{
	time_t first, last;
	int unbounded;

	ck_assert_ptr_nonnull(make("BEGIN:VEVENT\nUID:a\n" SH
	    "20260105T090000\nDTEND;TZID=Asia/Shanghai:20260105T100000\n"
	    "RRULE:FREQ=WEEKLY;COUNT=3\nEND:VEVENT"));
	recur_series_span(series, &first, &last, &unbounded);
	ck_assert(!unbounded);
	ck_assert_int_eq(first, ut("20260105T010000Z"));
	/* The last instance ends 2026-01-19T02:00Z; a little slack is
	 * allowed, a whole extra week is not. */
	ck_assert_int_ge(last, ut("20260119T020000Z"));
	ck_assert_int_lt(last, ut("20260126T010000Z"));
}
END_TEST

START_TEST(test_span_until)
{
	time_t first, last;
	int unbounded;

	ck_assert_ptr_nonnull(make("BEGIN:VEVENT\nUID:a\n" NY
	    "20260105T200000\nDURATION:PT2H\n"
	    "RRULE:FREQ=DAILY;UNTIL=20260301T000000Z\nEND:VEVENT"));
	recur_series_span(series, &first, &last, &unbounded);
	ck_assert(!unbounded);
	ck_assert_int_eq(first, ut("20260106T010000Z"));
	/* The last start is 2026-02-28 20:00 EST = 03-01T01:00Z. */
	ck_assert_int_ge(last, ut("20260301T030000Z"));
	ck_assert_int_lt(last, ut("20260306T000000Z"));
}
END_TEST

START_TEST(test_span_unbounded)
{
	time_t first, last;
	int unbounded;

	ck_assert_ptr_nonnull(make("BEGIN:VEVENT\nUID:a\n" SH
	    "20260105T090000\nRRULE:FREQ=WEEKLY\nEND:VEVENT"));
	recur_series_span(series, &first, &last, &unbounded);
	ck_assert(unbounded);
	ck_assert_int_eq(first, ut("20260105T010000Z"));
}
END_TEST

START_TEST(test_span_overrides_and_rdates)
{
	time_t first, last;
	int unbounded;

	ck_assert_ptr_nonnull(make(
	    "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	    "RRULE:FREQ=DAILY;COUNT=2\n"
	    "RDATE:20251201T010000Z\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:a\n"
	    "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	    "DTSTART:20260601T010000Z\nDTEND:20260601T020000Z\n"
	    "END:VEVENT"));
	recur_series_span(series, &first, &last, &unbounded);
	ck_assert(!unbounded);
	ck_assert_int_le(first, ut("20251201T010000Z"));
	ck_assert_int_ge(last, ut("20260601T020000Z"));
}
END_TEST

/* Errors and warnings */

START_TEST(test_no_dtstart)
{
	ck_assert_ptr_null(make("BEGIN:VEVENT\nUID:a\nSUMMARY:x\n"
	    "END:VEVENT"));
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "start"));
}
END_TEST

START_TEST(test_undated_task)
{
	ck_assert_ptr_null(make("BEGIN:VTODO\nUID:t\nSUMMARY:x\n"
	    "END:VTODO"));
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "task"));
}
END_TEST

START_TEST(test_bad_rrule_keeps_dtstart)
{
	char *got;
	int r;

	ck_assert_ptr_nonnull(make("BEGIN:VEVENT\nUID:a\n" SH
	    "20260105T090000\nRRULE:FREQ=FORTNIGHTLY;COUNT=3\nEND:VEVENT"));
	got = expand("20260101", "20270101", RECUR_OVERLAP, 0, &r);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(got, "20260105T010000Z");
	free(got);
}
END_TEST

START_TEST(test_duplicate_override_warns)
{
	char *got;
	int r;

	ck_assert_ptr_nonnull(make(
	    "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\n"
	    "RRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:a\nSEQUENCE:2\n"
	    "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	    "DTSTART:20260106T050000Z\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:a\nSEQUENCE:1\n"
	    "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	    "DTSTART:20260106T060000Z\nEND:VEVENT"));
	ck_assert_ptr_nonnull(warnings);
	ck_assert_ptr_nonnull(strstr(warnings, "two overrides"));
	got = expand("20260101", "20270101", RECUR_OVERLAP, 0, &r);
	ck_assert_str_eq(got, "20260105T010000Z 20260106T050000Z@1");
	free(got);
}
END_TEST

START_TEST(test_several_masters_warn)
{
	ck_assert_ptr_nonnull(make(
	    "BEGIN:VEVENT\nUID:a\n" SH "20260105T090000\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:a\n" SH "20260106T090000\nEND:VEVENT"));
	ck_assert_ptr_nonnull(warnings);
	ck_assert_ptr_nonnull(strstr(warnings, "each is listed"));
}
END_TEST

START_TEST(test_master_without_dtstart_and_override)
{
	char *got;
	int r;

	ck_assert_ptr_nonnull(make(
	    "BEGIN:VEVENT\nUID:a\nSUMMARY:no start\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:a\n"
	    "RECURRENCE-ID;TZID=Asia/Shanghai:20260106T090000\n"
	    "DTSTART:20260106T050000Z\nEND:VEVENT"));
	ck_assert_ptr_nonnull(warnings);
	got = expand("20260101", "20270101", RECUR_OVERLAP, 0, &r);
	ck_assert_str_eq(got, "20260106T050000Z@1");
	free(got);
}
END_TEST

/* Limits */

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(test_secondly_stops_at_max_instances)
{
	struct occv ov;

	memset(&ov, 0, sizeof ov);
	ck_assert_ptr_nonnull(make("BEGIN:VEVENT\nUID:a\n"
	    "DTSTART:20260105T000000Z\nRRULE:FREQ=SECONDLY\nEND:VEVENT"));
	ck_assert_int_eq(recur_expand(series, ut("20260105"), ut("20270105"),
	    RECUR_OVERLAP, occv_cb, &ov, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "200000"));
	/* The instances before the stop were delivered, in order. */
	ck_assert_uint_gt(ov.n, RECUR_MAX_INSTANCES - 2);
	ck_assert_uint_le(ov.n, RECUR_MAX_INSTANCES + 1);
	ck_assert_int_eq(ov.v[0].start, ut("20260105T000000Z"));
	ck_assert_int_eq(ov.v[1].start, ut("20260105T000001Z"));
	free(ov.v);
}
END_TEST

/* A sub-daily rule is walked from DTSTART, so a window far away hits the
 * limit rather than producing instances out of phase. */
START_TEST(test_secondly_far_window_stops)
{
	struct occv ov;

	memset(&ov, 0, sizeof ov);
	ck_assert_ptr_nonnull(make("BEGIN:VEVENT\nUID:a\n"
	    "DTSTART:20260105T000000Z\nRRULE:FREQ=SECONDLY\nEND:VEVENT"));
	ck_assert_int_eq(recur_expand(series, ut("20270105"), ut("20270106"),
	    RECUR_OVERLAP, occv_cb, &ov, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(ov.v);
}
END_TEST

/*
 * Regression: libical steps a sub-daily rule one second, minute or hour at
 * a time until an instance passes its BY* filters, and these never do: the
 * expansion ran for hours (SECONDLY) or to the year 2582 (HOURLY).  Each
 * must end, with an error or without instances, and quickly.
 */
static const char *const impossible_rules[] = {
	"FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
	"FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
	"FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30",
	"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
	"FREQ=MINUTELY;COUNT=5;BYMONTH=2;BYMONTHDAY=30",
	"FREQ=SECONDLY;COUNT=10;BYMONTH=2;BYMONTHDAY=29",
	"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
	"FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11",
};

START_TEST(test_impossible_rule_ends)
{
	char *text, *got;
	double t0 = now_seconds();
	int r;

	xasprintf(&text, "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T000000Z\n"
	    "RRULE:%s\nEND:VEVENT", impossible_rules[_i]);
	ck_assert_ptr_nonnull(make(text));
	free(text);
	got = expand("20260101", "20300101", RECUR_OVERLAP, 0, &r);
	ck_assert_msg(r == 0 || r == -1, "%s: rc %d", impossible_rules[_i],
	    r);
	/* DTSTART is always there; nothing else can be. */
	ck_assert_msg(strncmp(got, "20260105T000000Z", 16) == 0,
	    "%s: %s", impossible_rules[_i], got);
	free(got);
	got = expand("20900101", "20900201", RECUR_OVERLAP, 0, &r);
	ck_assert_msg(r == 0 || r == -1, "%s: rc %d", impossible_rules[_i],
	    r);
	free(got);
	/* Generous for sanitizers and valgrind; the bug took hours. */
	if (getenv("DJCAL_VALGRIND") == NULL)
		ck_assert_msg(now_seconds() - t0 < 30, "%s took %.1f s",
		    impossible_rules[_i], now_seconds() - t0);
}
END_TEST

/*
 * Randomized: recur_expand over a window far from DTSTART (libical's
 * set_start skips ahead for DAILY and coarser rules without COUNT) must give
 * what a walk from DTSTART gives, filtered to the window.
 */

static uint64_t rng_state;

static unsigned
rng(unsigned n)
{
	/* xorshift64*: the same sequence everywhere. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned)((rng_state * 2685821657736338717ULL) >> 33) % n;
}

static void
random_rule(char *rule, size_t len, int *all_day)
{
	static const char *const freqs[] = { "DAILY", "WEEKLY", "MONTHLY",
	    "YEARLY" };
	static const char *const days[] = { "MO", "TU", "WE", "TH", "FR",
	    "SA", "SU" };
	unsigned f = rng(4), i, nd;
	size_t off = 0;

#define ADD(...)	off += (size_t)snprintf(rule + off, len - off, \
			    __VA_ARGS__)
	ADD("FREQ=%s;INTERVAL=%u", freqs[f], 1 + rng(7));
	if (rng(2)) {
		nd = 1 + rng(3);
		ADD(";BYDAY=");
		for (i = 0; i < nd; i++) {
			int ord = 0;

			if (f >= 2 && rng(3) == 0)
				ord = rng(2) ? (int)(1 + rng(4)) :
				    -(int)(1 + rng(2));
			if (ord != 0)
				ADD("%s%d%s", i ? "," : "", ord, days[rng(7)]);
			else
				ADD("%s%s", i ? "," : "", days[rng(7)]);
		}
	}
	if (f >= 2 && rng(3) == 0)
		ADD(";BYMONTHDAY=%d", rng(2) ? (int)(1 + rng(31)) :
		    -(int)(1 + rng(3)));
	if (f == 0 && rng(4) == 0)
		ADD(";BYMONTHDAY=%d", rng(2) ? (int)(1 + rng(31)) :
		    -(int)(1 + rng(3)));
	if (rng(3) == 0)
		ADD(";BYMONTH=%u,%u", 1 + rng(12), 1 + rng(12));
	if (f == 3 && rng(5) == 0)
		ADD(";BYYEARDAY=%d", rng(2) ? (int)(1 + rng(366)) :
		    -(int)(1 + rng(10)));
	if (f == 3 && rng(5) == 0)
		ADD(";BYWEEKNO=%d", rng(2) ? (int)(1 + rng(53)) : -1);
	if (f == 1 && rng(3) == 0)
		ADD(";WKST=%s", days[rng(7)]);
	if (rng(4) == 0)
		ADD(";BYSETPOS=%d", rng(2) ? 1 : -1);
	if (rng(4) == 0)
		ADD(";UNTIL=20%02u%02u%02uT000000Z", 30 + rng(20),
		    1 + rng(12), 1 + rng(28));
#undef ADD
	*all_day = rng(5) == 0;
}

START_TEST(test_set_start_matches_full_walk)
{
	int n = getenv("DJCAL_VALGRIND") != NULL ? 25 : 300, k, bad = 0;

	rng_state = 20260105;
	for (k = 0; k < n; k++) {
		struct occv far, full;
		struct recur_series *rs;
		struct tz_civil c;
		icalcomponent *ev;
		char rule[256], text[1024], *why = NULL;
		time_t first, last, from, to;
		size_t i, j;
		int all_day, ub, same;

		random_rule(rule, sizeof rule, &all_day);
		c.year = 2000 + (int)rng(26);
		c.month = 1 + (int)rng(12);
		c.day = 1 + (int)rng(28);
		c.hour = (int)rng(24);
		if (all_day)
			snprintf(text, sizeof text, "BEGIN:VEVENT\r\nUID:r\r\n"
			    "DTSTART;VALUE=DATE:%04d%02d%02d\r\nRRULE:%s\r\n"
			    "END:VEVENT\r\n", c.year, c.month, c.day, rule);
		else
			snprintf(text, sizeof text, "BEGIN:VEVENT\r\nUID:r\r\n"
			    "DTSTART;TZID=%s:%04d%02d%02dT%02d3000\r\n"
			    "DURATION:PT1H\r\nRRULE:%s\r\nEND:VEVENT\r\n",
			    rng(2) ? "America/New_York" : "Asia/Shanghai",
			    c.year, c.month, c.day, c.hour, rule);
		ev = icalparser_parse_string(text);
		ck_assert_ptr_nonnull(ev);
		rs = recur_series_new(&ev, NULL, 1, zones, shanghai, &why,
		    NULL);
		ck_assert_msg(rs != NULL, "%s: %s", text, why);
		recur_series_span(rs, &first, &last, &ub);
		from = first + (time_t)(3 + rng(37)) * 365 * 86400 +
		    (time_t)rng(86400) * 17;
		to = from + (time_t)(30 + rng(700)) * 86400;
		memset(&far, 0, sizeof far);
		memset(&full, 0, sizeof full);
		ck_assert_int_eq(recur_expand(rs, from, to, RECUR_START_IN,
		    occv_cb, &far, &why), 0);
		ck_assert_int_eq(recur_expand(rs, first, to + 400 * 86400,
		    RECUR_START_IN, occv_cb, &full, &why), 0);
		for (i = j = 0; i < full.n; i++)
			if (full.v[i].start >= from && full.v[i].start < to)
				full.v[j++] = full.v[i];
		full.n = j;
		same = far.n == full.n;
		for (i = 0; same && i < far.n; i++)
			same = far.v[i].start == full.v[i].start &&
			    far.v[i].end == full.v[i].end;
		if (!same) {
			bad++;
			fprintf(stderr, "set_start differs: %s: far %zu, "
			    "full %zu", text, far.n, full.n);
		}
		free(far.v);
		free(full.v);
		recur_series_free(rs);
		icalcomponent_free(ev);
	}
	ck_assert_int_eq(bad, 0);
}
END_TEST

static Suite *
recur_suite(void)
{
	Suite *s = suite_create("recur");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_rule_table, 0,
	    (int)(sizeof rule_cases / sizeof rule_cases[0]));
	tcase_add_test(tc, test_recurrence_ids);
	tcase_add_test(tc, test_all_day_recurrence_id);
	tcase_add_test(tc, test_single_has_no_rid);
	tcase_add_test(tc, test_custom_vtimezone);
	tcase_add_test(tc, test_callback_stops);
	tcase_add_test(tc, test_time_get);
	tcase_add_test(tc, test_span_count);
	tcase_add_test(tc, test_span_until);
	tcase_add_test(tc, test_span_unbounded);
	tcase_add_test(tc, test_span_overrides_and_rdates);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_no_dtstart);
	tcase_add_test(tc, test_undated_task);
	tcase_add_test(tc, test_bad_rrule_keeps_dtstart);
	tcase_add_test(tc, test_duplicate_override_warns);
	tcase_add_test(tc, test_several_masters_warn);
	tcase_add_test(tc, test_master_without_dtstart_and_override);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_secondly_stops_at_max_instances);
	tcase_add_test(tc, test_secondly_far_window_stops);
	tcase_add_loop_test(tc, test_impossible_rule_ends, 0,
	    (int)(sizeof impossible_rules / sizeof impossible_rules[0]));
	tcase_add_test(tc, test_set_start_matches_full_walk);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(recur_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
