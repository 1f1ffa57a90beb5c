/*
 * Party-branch work (issue 7): required meetings by period with 三色
 * (green/yellow/red) status, attendance (签到/请假), volunteer hours and the
 * year's statistics.  Everything is computed from the occurrences a query
 * returns, so it holds for any year, also outside the materialised horizon,
 * and follows the feeds as they change.  Time is a parameter.
 */
#ifndef DJCAL_BRANCH_H
#define DJCAL_BRANCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "djcal/config.h"
#include "djcal/occ.h"
#include "djcal/store.h"
#include "djcal/tz.h"

/* Compliance */

enum branch_status {
	BRANCH_GREEN,		/* every past period met, the current one has
				   something held or scheduled */
	BRANCH_YELLOW,		/* the current or next period has nothing */
	BRANCH_RED		/* a past period was missed */
};

struct branch_period {
	char		 label[16];	/* "2026-03", "2026-Q1", "2026" */
	time_t		 start, end;	/* local period bounds, as instants */
	int		 held;		/* matching, started before now, not
					   cancelled */
	int		 scheduled;	/* matching, starting from now on */
	int		 cancelled;
	int		 on_holiday;	/* of those, on a public holiday */
	int		 missing;	/* over, and nothing held */
};

struct branch_req {
	const struct config_requirement *req;	/* borrowed from the config */
	enum branch_status status;
	struct branch_period *periods;
	size_t		 nperiods;
};

struct branch_compliance {
	int		 year;
	struct branch_req *reqs;
	size_t		 nreqs;
};

/* "green", "yellow", "red". */
const char	*branch_status_name(enum branch_status);
/* "month", "quarter", "year". */
const char	*branch_cadence_name(enum config_cadence);
/* Whether an occurrence is one a requirement counts. */
int		 branch_req_matches(const struct config_requirement *,
		    const struct dj_occurrence *);

/*
 * Every requirement of the config over a year (in the store's zone), for
 * one branch or all (NULL), as of now.  0, or -1 with *cause.  Free with
 * branch_compliance_free.
 */
int		 branch_compliance(struct store *, const struct config *,
		    int year, const char *branch, time_t now,
		    struct branch_compliance *out, char **cause);
void		 branch_compliance_free(struct branch_compliance *);
/* {"year":Y,"requirements":[...]} as docs/PROTOCOL.md shows.  New ref. */
json_t		*branch_compliance_json(const struct branch_compliance *);

/*
 * Warnings: a requirement whose next period begins within its warn_days
 * and has nothing scheduled is warned about once per period.  Calls cb for
 * each such (requirement, period) not warned about before; the caller
 * records it (store_reminder_put with branch_warning_key).  Returns the
 * next instant at which a period enters its warning window (0: none within
 * a year).
 */
typedef int	(*branch_warning_cb)(const struct config_requirement *,
		    const struct branch_period *, void *arg);
time_t		 branch_warnings(struct store *, const struct config *,
		    time_t now, branch_warning_cb, void *arg);
/* The key under which a warning for a period is recorded. */
void		 branch_warning_key(const struct config_requirement *,
		    const struct branch_period *, struct store_okey *out);

/* Attendance */

/* Volunteer hours for each day of an all-day activity. */
#define BRANCH_DAY_HOURS	8

enum branch_checkin_kind {
	BRANCH_PRESENT = 1,	/* 签到 */
	BRANCH_LEAVE = 2	/* 请假 */
};

struct branch_checkin {
	char		*feed;
	char		*uid;
	int64_t		 okey;		/* the instance's rid, 0 if single */
	time_t		 start, end;	/* the occurrence's, when checked in */
	int		 all_day;
	char		*member;
	enum branch_checkin_kind kind;
	char		*reason;	/* for a leave; NULL otherwise */
	time_t		 created;
	char		*summary;	/* the occurrence's, for display */
	enum dj_category category;
};

void		 branch_checkin_clear(struct branch_checkin *);

/*
 * Record that a member came to (or took leave from) the occurrence of uid
 * that starts at `start` (in feed, or any feed when NULL).  0 and *out
 * filled (caller clears); 1 when no such occurrence exists; -1 with
 * *cause.  Checking in again replaces the member's record.
 */
int		 branch_checkin(struct store *, const char *feed,
		    const char *uid, time_t start, const char *member,
		    const char *leave_reason, time_t now,
		    struct branch_checkin *out, char **cause);
/* The check-ins of one occurrence (1: no such occurrence).  *out is an
 * array of *n (caller frees each with branch_checkin_clear, then it). */
int		 branch_attendance(struct store *, const char *feed,
		    const char *uid, time_t start, struct branch_checkin **out,
		    size_t *n, char **cause);

/* A check-in as JSON (times in the zone).  New reference. */
json_t		*branch_checkin_json(const struct branch_checkin *,
		    const struct tz *);
/* The check-ins of branch_attendance as a JSON array; then frees them
 * (v and each of its n).  New reference. */
json_t		*branch_attendance_json(struct branch_checkin *v, size_t n,
		    const struct tz *);

/* Volunteer hours: per member, the attended volunteer occurrences. */
struct branch_hours {
	char		*member;
	double		 hours;
	int		 count;
};

/* The year's volunteer hours, per member (or one member), by member. */
int		 branch_hours(struct store *, int year, const char *member,
		    struct branch_hours **out, size_t *n, char **cause);
void		 branch_hours_free(struct branch_hours *, size_t n);
/* The hours op's list: {member, hours, count} each.  New reference. */
json_t		*branch_hours_json(const struct branch_hours *, size_t n);

/* Statistics */

struct branch_stat {
	enum dj_category category;
	enum dj_meeting	 meeting_type;	/* DJ_MT_NONE: the category's row */
	int		 held;
	int		 cancelled;
	int		 upcoming;
	int		 checkins;	/* present */
	int		 leaves;
	double		 volunteer_hours;
};

/*
 * The year's counts per category and meeting type that occurred (a row
 * per category, then one per meeting type within it), for one branch or
 * all.  Holiday feeds are not counted.  Caller frees *rows.
 */
int		 branch_stats(struct store *, int year, const char *branch,
		    time_t now, struct branch_stat **rows, size_t *n,
		    char **cause);
/* attendance_rate: present / (present + leave); -1 when none recorded. */
double		 branch_attendance_rate(const struct branch_stat *);
/* {"year":Y,"rows":[...]}.  New reference. */
json_t		*branch_stats_json(int year, const struct branch_stat *,
		    size_t n);

/* The local [start, end) of a calendar year in the store's zone. */
void		 branch_year_bounds(struct store *, int year, time_t *start,
		    time_t *end);

#endif
