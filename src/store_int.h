/* Private to the store module (store.c, store_msg.c, store_export.c): the
 * raw connection. */
#ifndef DJCAL_STORE_INT_H
#define DJCAL_STORE_INT_H

#include <sqlite3.h>

#include "djcal/store.h"

/* The SQLite connection of a store.  Borrowed. */
sqlite3	*store_sqlite(struct store *);

/* store_export.c, called by store.c inside the transaction of a change: */
/* Bump the content version (see store_content_version). */
int	 store_content_bump(struct store *);
/* Rewrite every feed's note of UIDs an earlier feed also holds. */
int	 store_duplicates_note(struct store *);
/* The categories of a stored series' items (1 << enum dj_category). */
int	 store_series_categories(struct store *, int64_t series_id,
	    unsigned *mask);

#endif
