/*
 * The ICS export (SPEC section 7): the merged, filtered iCalendar feed that
 * calendar clients subscribe to, served over HTTP by libevent's evhttp, and
 * the same body for the control socket's `export` op.
 *
 * Each series goes out as its feed wrote it (RRULE, RDATE, EXDATE, the
 * RECURRENCE-ID overrides and VALARMs together; UIDs unchanged), with the
 * VTIMEZONEs it uses, lines unfolded and folded again at 75 octets.  A UID
 * that two feeds hold goes out once, from the feed added first; the later
 * feed's `problems` say so.  Bodies are cached per filter and keyed by the
 * store's content version, which also makes the ETag.
 */
#ifndef DJCAL_EXPORT_H
#define DJCAL_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "djcal/config.h"
#include "djcal/store.h"

#define EXPORT_PRODID		"-//djcal//djcal 0.1//ZH"
#define EXPORT_CALNAME		"党建日历"
/* Octets per physical line, without the CRLF (RFC 5545 3.1). */
#define EXPORT_FOLD		75
/* Seconds a client may keep a connection idle before it is closed. */
#define EXPORT_TIMEOUT		10
/* Longest request line plus headers, and request body. */
#define EXPORT_MAX_HEADERS	8192
#define EXPORT_MAX_BODY		4096
/* Bodies cached (one per filter asked for recently). */
#define EXPORT_CACHE		16
/* REFRESH-INTERVAL and max-age: the feeds' shortest refresh, within these. */
#define EXPORT_REFRESH_MIN	300
#define EXPORT_REFRESH_MAX	86400

/* Which series a body shows. */
struct export_filter {
	unsigned	 categories;	/* 1 << enum dj_category; 0 = all */
	const char	*feed;		/* NULL = all */
	const char	*branch;	/* NULL = all */
};

/*
 * Render the calendar for a filter: 0 with *out (caller frees; NUL-
 * terminated, *len without the NUL), or -1 with *cause when the store
 * fails.  No event loop, no clock.
 */
int		 export_render(struct store *, const struct config *,
		    const struct export_filter *, char **out, size_t *len,
		    char **cause);

/*
 * Unfold iCalendar text (line ends CRLF, LF or CR; continuation lines
 * start with a space or tab) and fold it again: at most EXPORT_FOLD octets
 * a line, never inside a UTF-8 character, CRLF line ends.  Invalid UTF-8
 * becomes U+FFFD; empty lines are dropped.  Caller frees.
 */
char		*export_fold(const char *text, size_t len, size_t *outlen);

/* Whether a token a client gave equals the configured one, in time that
 * depends only on the configured token's length. */
int		 export_token_equal(const char *given, const char *want);

/* What the HTTP side needs from the daemon.  Borrowed. */
struct export_env {
	struct store	*store;
	/* The clock (tests inject one); NULL: time(NULL). */
	time_t		(*now)(void *arg);
	void		*arg;
	/* Seconds a connection may stay idle; 0: EXPORT_TIMEOUT. */
	int		 timeout;
};

struct export;

/*
 * Start the export with a config (borrowed: keep it alive, or replace it
 * with export_set_config): listen on cfg->http_listen unless it is empty.
 * NULL with *cause when the address cannot be bound.
 */
struct export	*export_new(struct event_base *, const struct config *,
		    const struct export_env *, char **cause);
/* Close the listener and every connection, free. */
void		 export_free(struct export *);
/*
 * Use a new config (after SIGHUP): cached bodies are dropped; when
 * http_listen changed the new address is bound before the old one is
 * closed, and a failure keeps the old one (-1 with *cause).
 */
int		 export_set_config(struct export *, const struct config *,
		    char **cause);
/* After feeds changed: note a new content version (Last-Modified) and log
 * each duplicate UID once. */
void		 export_changed(struct export *);
/* The bound TCP port, or 0 when not listening (tests bind port 0). */
int		 export_port(const struct export *);
/*
 * The body for a filter as the control socket's `export` op wants it
 * (ctl_env.export_ics; arg is the struct export).  Caller frees.
 */
char		*export_ctl_ics(void *arg, const struct store_filter *,
		    size_t *len, char **cause);

#endif
