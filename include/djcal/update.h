/*
 * Update: apply one feed body to the store in one transaction: ingest
 * (parse, validate), classify, expand recurrences for the materialised
 * window, store.  The feed's last good data stays when the body is not a
 * calendar at all; a body that ends early only adds and changes items.
 */
#ifndef DJCAL_UPDATE_H
#define DJCAL_UPDATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "djcal/classify.h"
#include "djcal/store.h"
#include "djcal/tz.h"

struct update_ctx {
	struct store		*store;
	const struct classifier	*classifier;
	const struct tz		*zone;		/* floating times and dates */
	time_t			 now;
	int			 horizon_days;
	int			 history_days;
	size_t			 max_items;	/* per feed; 0 = no limit */
};

struct update_result {
	int64_t		 items;		/* series the feed now holds */
	int64_t		 changed;	/* series stored anew */
	int64_t		 unchanged;	/* series kept as they were */
	int64_t		 removed;
	size_t		 skipped;	/* components dropped */
	int		 truncated;	/* nothing was removed: see ingest.h */
	int		 same_body;	/* byte-identical to the last one */
	char		*problems;	/* "; "-joined, or NULL. Caller frees
					   with update_result_clear */
};

/* The window a feed is materialised for at `now`. */
void		 update_window(const struct update_ctx *, int64_t *from,
		    int64_t *to);

/*
 * Apply body to the feed.  0 on success (problems in res), -1 with *cause
 * when the body is not a calendar or the store failed; then the feed's
 * items are as they were.  fallback is the feed's category for items that
 * name none.  force re-expands series whose text did not change.
 */
int		 update_feed_body(const struct update_ctx *, int64_t feed_id,
		    int fallback, const char *body, size_t len, int force,
		    struct update_result *res, char **cause);
void		 update_result_clear(struct update_result *);

/* Encode the VALARM triggers of a component ("S-3600,E0,A1767225600":
 * relative to start or end in seconds, or absolute).  NULL when none.
 * Caller frees. */
char		*update_alarms(icalcomponent *);

#endif
