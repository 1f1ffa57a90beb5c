/*
 * Feeds: configured sources of iCalendar bodies.  This part reads bodies
 * (files directly, http(s) through the fetcher), applies them to the
 * store keeping each feed's health, and schedules each feed's next fetch
 * on its own timer, with jitter and back-off.
 */
#ifndef DJCAL_FEED_H
#define DJCAL_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/fetch.h"
#include "djcal/store.h"
#include "djcal/tz.h"
#include "djcal/update.h"

/* What the feed module needs from the daemon.  Borrowed. */
struct feed_env {
	struct store		*store;
	const struct config	*cfg;
	const struct classifier	*classifier;
	const struct tz		*zone;
	/* Called after a feed's items changed (reminders, export). */
	void			(*changed)(const char *feed, void *arg);
	/* Called after each fetch of a feed, whatever came of it (the
	 * daemon's STATUS line).  May be NULL. */
	void			(*fetched)(const char *feed, void *arg);
	void			 *arg;
};

enum feed_scheme {
	FEED_FILE,
	FEED_HTTP,
	FEED_HTTPS
};

/* A classifier with the built-in aliases and the config's. Caller frees. */
struct classifier *feed_classifier_new(const struct config *);

/* The scheme of a configured URL (webcal:// is https). */
enum feed_scheme feed_scheme(const char *url);
/* The URL without user:password@, for display and logs. Caller frees. */
char		*feed_display_url(const char *url);

/*
 * Make the store's feeds match the config: add and update each configured
 * feed, remove the others with their items.  Also records the zone the
 * store's items are read in (re-expanding everything when it changed).
 */
int		 feed_sync_config(struct store *, const struct config *,
		    char **cause);

/* Read a file feed, refusing more than max bytes. 0 or -1 with *cause. */
int		 feed_read_file(const char *path, uint64_t max, char **body,
		    size_t *len, char **cause);

struct feed_result {
	int		 ok;		/* the body was applied */
	int		 unchanged;	/* same bytes as last time: skipped */
	char		*error;		/* when !ok; caller frees */
	struct update_result update;
};

void		 feed_result_clear(struct feed_result *);

/*
 * Apply a fetched body to a feed at `now`: skip it when its bytes are what
 * was applied last, else update the items; record the result in the feed's
 * health and log what changed.  http_status, etag and last_modified come
 * from the fetch (0/NULL for files).
 */
int		 feed_apply(const struct feed_env *, const struct config_feed *,
		    time_t now, const char *body, size_t len, int http_status,
		    const char *etag, const char *last_modified,
		    struct feed_result *);
/* Record a failed fetch in the feed's health and log it. */
void		 feed_failed(const struct feed_env *, const struct config_feed *,
		    time_t now, int http_status, const char *error);

/* Read and apply every file feed once; http(s) feeds are left to the
 * fetcher.  Returns the number of feeds that failed. */
int		 feed_once_files(const struct feed_env *, time_t now);

/* Scheduling: pure functions of the feed's health and the time */

/* The longest wait between fetches of a failing feed (unless its refresh
 * is longer), and the most jitter added to a refresh, in seconds. */
#define FEED_BACKOFF_CAP	(6 * 3600)
#define FEED_JITTER_CAP		60

/* Seconds from one fetch to the next after `failures` consecutive
 * failures: refresh * 2^failures, capped at FEED_BACKOFF_CAP, never less
 * than refresh. */
int64_t		 feed_backoff(int64_t refresh, int failures);
/* The most jitter for a refresh, in milliseconds: refresh / 10, at most
 * FEED_JITTER_CAP seconds. */
int64_t		 feed_jitter_max_ms(int64_t refresh);
/*
 * When to fetch a feed next, in milliseconds since the epoch: now_ms when
 * it was never fetched (last_ms 0) or is overdue, else the last fetch
 * (last_ms) plus feed_backoff plus a jitter of rnd modulo
 * (feed_jitter_max_ms + 1).
 */
int64_t		 feed_next_ms(int64_t refresh, int failures, int64_t last_ms,
		    int64_t now_ms, uint32_t rnd);
/* A one-line summary of the feeds' health for systemd's STATUS= ("12
 * feeds, 11 ok, 1 failing: jiguan-study: HTTP 500").  Caller frees. */
char		*feed_status_line(const struct store_feed *, size_t n);

/* The scheduler: one timer per feed on the daemon's loop */

/* The outcome of one fetch of a feed, for a refresh's caller.  Strings
 * borrowed for the callback. */
struct feed_outcome {
	const char	*feed;
	int		 ok;
	int		 unchanged;	/* 304, or the same bytes */
	int		 http_status;	/* 0 for files */
	int64_t		 items;
	int64_t		 changed;
	int64_t		 removed;
	const char	*error;		/* when !ok */
};

/* Called once when every feed of a refresh has been fetched. */
typedef void	(*feed_refresh_cb)(const struct feed_outcome *, size_t n,
		    void *arg);

struct feed_sched;

enum feed_sched_mode {
	FEED_SCHED_PERIODIC,	/* each feed on its refresh timer */
	FEED_SCHED_ONCE		/* only what feed_sched_refresh asks for */
};

/*
 * Schedule the feeds of env->cfg on the loop, fetching http(s) feeds
 * with the fetcher.  env and the fetcher are borrowed: the caller may
 * change env's config, classifier and zone and then call
 * feed_sched_reload.
 */
struct feed_sched *feed_sched_new(struct event_base *,
		    const struct feed_env *, struct fetcher *,
		    enum feed_sched_mode);
/* Cancel every fetch and timer; a pending refresh is answered with an
 * error for the feeds not yet fetched.  Then free. */
void		 feed_sched_free(struct feed_sched *);
/*
 * Follow a new env->cfg: start added feeds, drop removed ones (answering
 * their pending refreshes), and fetch a feed whose URL, credentials or CA
 * changed now.  Call while the old config is still valid.
 */
void		 feed_sched_reload(struct feed_sched *);
/*
 * Fetch one feed (NULL: all) now, ignoring back-off; a fetch already in
 * flight is joined.  done is called exactly once, later, from the loop.
 * 0, or 1 when there is no such feed.
 */
int		 feed_sched_refresh(struct feed_sched *, const char *feed,
		    feed_refresh_cb done, void *arg);
/* When a feed is next fetched (seconds since the epoch); 0 when none is
 * scheduled (unknown, in flight, or stopping). */
time_t		 feed_sched_next(const struct feed_sched *, const char *feed);
/* Stop the timers (shutting down); fetches in flight go on. */
void		 feed_sched_stop(struct feed_sched *);
/* Fetches in flight. */
size_t		 feed_sched_busy(const struct feed_sched *);

#endif
