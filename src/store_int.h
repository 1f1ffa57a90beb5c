/* Private to the store module (store.c, store_msg.c): the raw connection. */
#ifndef DJCAL_STORE_INT_H
#define DJCAL_STORE_INT_H

#include <sqlite3.h>

#include "djcal/store.h"

/* The SQLite connection of a store.  Borrowed. */
sqlite3	*store_sqlite(struct store *);

#endif
