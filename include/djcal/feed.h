/*
 * Feeds: configured sources of iCalendar bodies.  This part reads bodies
 * (files now; http(s) through the fetcher) and applies them to the store,
 * keeping each feed's health.
 */
#ifndef DJCAL_FEED_H
#define DJCAL_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "djcal/classify.h"
#include "djcal/config.h"
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

#endif
