/* Private to the store module (store.c, store_msg.c, store_export.c,
 * store_branch.c): the raw connection and one-use statements. */
#ifndef DJCAL_STORE_INT_H
#define DJCAL_STORE_INT_H

#include <sqlite3.h>

#include "djcal/store.h"

/* The SQLite connection of a store.  Borrowed. */
sqlite3	*store_sqlite(struct store *);
/* A statement prepared for one use (store_run_once finalizes it), or
 * NULL with the reason in store_errmsg. */
sqlite3_stmt *store_prep_once(struct store *, const char *sql);
/* Step a statement from store_prep_once once and finalize it: 0 when it
 * ran (done or a row), else -1. */
int	 store_run_once(sqlite3_stmt *);
/* Bind text that SQLite copies, or NULL when v is NULL. */
void	 store_bind_text(sqlite3_stmt *, int i, const char *v);

/* store_export.c, called by store.c inside the transaction of a change: */
/* Bump the content version (see store_content_version). */
int	 store_content_bump(struct store *);
/* Rewrite every feed's note of UIDs an earlier feed also holds. */
int	 store_duplicates_note(struct store *);
/* The categories of a stored series' items (1 << enum dj_category). */
int	 store_series_categories(struct store *, int64_t series_id,
	    unsigned *mask);

#endif
