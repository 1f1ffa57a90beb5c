/*
 * Reminders (SPEC section 6): which (occurrence, lead) falls due when, an
 * outbox in SQLite, one timer for the earliest due reminder, and the
 * changed/cancelled messages for occurrences whose reminder was already
 * sent.
 *
 * A reminder is recorded, with its message and its seq, in one transaction
 * before anything is pushed; the `deliver` callback only hands committed
 * messages to live subscribers, who catch up with `since` after a crash.
 */
#ifndef DJCAL_REMIND_H
#define DJCAL_REMIND_H

#include <time.h>

#include <event2/event.h>

#include "djcal/config.h"
#include "djcal/store.h"

/* Reminders more than this far before or after their occurrence are not
 * considered (a VALARM of -P60D, say). */
#define REMIND_MAX_LEAD		(31 * 86400)
/* A reminder fired this much after its due time is "late". */
#define REMIND_LATE_SLACK	30
/* Messages are kept this long for subscribers that come back with since. */
#define REMIND_KEEP		(30 * 86400)

struct remind_env {
	struct store		*store;
	/* Push a committed message to live subscribers.  m is borrowed. */
	void	(*deliver)(void *arg, const struct store_msg *m);
	/* The clock; NULL: time(NULL). */
	time_t	(*now)(void *arg);
	void	 *arg;
};

struct remind;

/*
 * Start the reminder service.  With an event_base, a timer (a CLOCK_REALTIME
 * timerfd with an absolute expiry, so suspend and clock changes are caught
 * up with) fires at the earliest due reminder; without one (tests) call
 * remind_run yourself.  The first start records "now" as the point from
 * which reminders are due, so old events are not announced.
 */
struct remind	*remind_new(struct event_base *, const struct config *,
		    const struct remind_env *, char **cause);
void		 remind_free(struct remind *);
/* Use a new config (leads, late_grace). */
void		 remind_set_config(struct remind *, const struct config *);

/*
 * Send what fell due up to now: on time, or late (with "late":true) when
 * fired more than REMIND_LATE_SLACK after its due time or due before the
 * service started (the daemon was down), if within late_grace; older ones
 * are recorded as skipped.  Then re-arm the timer.  0 or -1.
 */
int		 remind_run(struct remind *, time_t now);
/*
 * After feeds changed: announce occurrences whose reminder was sent and
 * that were since cancelled, removed or moved, then re-arm the timer.
 */
int		 remind_feeds_changed(struct remind *, time_t now);
/* A feed was fetched (changed or not): compliance warnings held back
 * until every feed had been fetched once may now be looked at. */
void		 remind_feed_fetched(struct remind *, time_t now);
/* The next due reminder after now, or 0 when none is due within the
 * materialised horizon. */
time_t		 remind_next_due(struct remind *, time_t now);

/* An ISO 8601 duration for seconds: "PT1H", "P1D", "-PT15M", "PT0S". */
void		 remind_iso_duration(long long secs, char *buf, size_t len);

#endif
