/*
 * The store's attendance records (schema v3): who came to (or took leave
 * from) which occurrence.  Part of the store module; rare statements are
 * prepared per call.
 */
#include <stdlib.h>
#include <string.h>

#include "djcal/store.h"
#include "store_int.h"

int
store_checkin_put(struct store *s, const struct store_checkin *c)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store_sqlite(s), "INSERT OR REPLACE INTO "
	    "checkin(feed, uid, okey, member, start, end, kind, reason, "
	    "created, summary, category, all_day) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9, ?10, ?11, ?12)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, c->key.feed, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c->key.uid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, c->key.okey);
	sqlite3_bind_text(st, 4, c->member, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, c->start);
	sqlite3_bind_int64(st, 6, c->end);
	sqlite3_bind_int(st, 7, c->kind);
	store_bind_text(st, 8, c->reason);
	sqlite3_bind_int64(st, 9, c->created);
	store_bind_text(st, 10, c->summary);
	sqlite3_bind_int(st, 11, c->category);
	sqlite3_bind_int(st, 12, c->all_day);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
each_checkin(sqlite3_stmt *st, int (*cb)(const struct store_checkin *,
    void *), void *arg)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_checkin c;

		memset(&c, 0, sizeof c);
		c.key.feed = (const char *)sqlite3_column_text(st, 0);
		c.key.uid = (const char *)sqlite3_column_text(st, 1);
		c.key.okey = sqlite3_column_int64(st, 2);
		c.member = (const char *)sqlite3_column_text(st, 3);
		c.start = sqlite3_column_int64(st, 4);
		c.end = sqlite3_column_int64(st, 5);
		c.kind = sqlite3_column_int(st, 6);
		c.reason = (const char *)sqlite3_column_text(st, 7);
		c.created = sqlite3_column_int64(st, 8);
		c.summary = (const char *)sqlite3_column_text(st, 9);
		c.category = sqlite3_column_int(st, 10);
		c.all_day = sqlite3_column_int(st, 11);
		if (cb(&c, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

#define CHECKIN_COLS	"feed, uid, okey, member, start, end, kind, " \
	"reason, created, summary, category, all_day"

int
store_checkins_of(struct store *s, const struct store_okey *k,
    int (*cb)(const struct store_checkin *, void *), void *arg)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(store_sqlite(s), "SELECT " CHECKIN_COLS
	    " FROM checkin WHERE feed = ?1 AND uid = ?2 AND okey = ?3 "
	    "ORDER BY member", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, k->feed, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, k->uid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, k->okey);
	return each_checkin(st, cb, arg);
}

int
store_checkins_between(struct store *s, int64_t from, int64_t to,
    int (*cb)(const struct store_checkin *, void *), void *arg)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(store_sqlite(s), "SELECT " CHECKIN_COLS
	    " FROM checkin WHERE start >= ?1 AND start < ?2 "
	    "ORDER BY start, member", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	return each_checkin(st, cb, arg);
}
