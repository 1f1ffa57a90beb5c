/*
 * The store's side of the ICS export: the series as their feeds wrote them,
 * the content version that the export's ETags derive from, and the UIDs
 * that two feeds share.  Part of the store module (the only place that
 * speaks SQL).
 *
 * The content version is a counter in meta ('content_version') that store.c
 * bumps in the same transaction as any change an export could show: a
 * series stored with new text or new categories, a series or feed removed,
 * a zone changed, a feed's branch changed.  Re-storing a series whose text
 * and categories are unchanged (the materialised window moved on a new day)
 * does not bump it, so a client's ETag stays valid.  The counter starts at
 * a random value, so a database made anew never repeats an old version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "djcal/store.h"
#include "djcal/xmalloc.h"
#include "store_int.h"

/* UIDs listed in one feed's duplicate note; more are counted. */
#define DUP_LISTED	5

/* A random first version in [1, 2^62). */
static int64_t
first_version(void)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
	return (int64_t)(r >> 2) + 1;
}

int
store_content_bump(struct store *s)
{
	sqlite3_stmt *st;

	st = store_prep_once(s, "INSERT INTO meta(key, value) VALUES "
	    "('content_version', ?1) ON CONFLICT(key) DO UPDATE SET "
	    "value = CAST(value AS INTEGER) + 1");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, first_version());
	return store_run_once(st);
}

uint64_t
store_content_version(struct store *s)
{
	sqlite3_stmt *st;
	uint64_t v = 0;
	int found = 0;

	if ((st = store_prep_once(s, "SELECT CAST(value AS INTEGER) FROM meta "
	    "WHERE key = 'content_version'")) == NULL)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = (uint64_t)sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_finalize(st);
	if (found || sqlite3_db_readonly(store_sqlite(s), "main") != 0)
		return v;
	/* A database that has never had content: give it its version. */
	if (store_content_bump(s) == -1)
		return 0;
	return store_content_version(s);
}

int
store_series_categories(struct store *s, int64_t series_id,
    unsigned *mask)
{
	sqlite3_stmt *st;
	int rc;

	*mask = 0;
	if ((st = store_prep_once(s, "SELECT category FROM item WHERE series_id = ?1"))
	    == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, series_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int c = sqlite3_column_int(st, 0);

		if (c >= 0 && c < 32)
			*mask |= 1u << c;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_export_series(struct store *s, const struct store_filter *f,
    store_export_cb cb, void *arg)
{
	char sql[1024], cats[64] = "";
	sqlite3_stmt *st;
	size_t off = 0;
	int i, rc;

	for (i = 0; i < DJ_CAT_COUNT; i++)
		if (f->categories & (1u << i))
			off += (size_t)snprintf(cats + off, sizeof cats - off,
			    "%s%d", off ? "," : "", i);
	/*
	 * A series is kept whole when any of its items is in one of the
	 * categories; the mask of all its items' categories comes along.
	 */
	snprintf(sql, sizeof sql,
	    "SELECT s.feed_id, f.name, f.branch, s.uid, s.ical, "
	    "(SELECT group_concat(DISTINCT i.category) FROM item i "
	    "WHERE i.series_id = s.id) "
	    "FROM series s JOIN feed f ON f.id = s.feed_id WHERE 1%s%s%s%s%s "
	    "ORDER BY s.feed_id, s.uid",
	    f->feed != NULL ? " AND f.name = ?1" : "",
	    f->branch != NULL ? " AND f.branch = ?2" : "",
	    f->categories != 0 ? " AND EXISTS (SELECT 1 FROM item i WHERE "
	    "i.series_id = s.id AND i.category IN (" : "",
	    f->categories != 0 ? cats : "",
	    f->categories != 0 ? "))" : "");
	if ((st = store_prep_once(s, sql)) == NULL)
		return -1;
	if (f->feed != NULL)
		sqlite3_bind_text(st, 1, f->feed, -1, SQLITE_STATIC);
	if (f->branch != NULL)
		sqlite3_bind_text(st, 2, f->branch, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_export_row row;
		const char *c;

		memset(&row, 0, sizeof row);
		row.feed_id = sqlite3_column_int64(st, 0);
		row.feed = (const char *)sqlite3_column_text(st, 1);
		row.branch = (const char *)sqlite3_column_text(st, 2);
		row.uid = (const char *)sqlite3_column_text(st, 3);
		row.ical = (const char *)sqlite3_column_text(st, 4);
		row.icallen = (size_t)sqlite3_column_bytes(st, 4);
		c = (const char *)sqlite3_column_text(st, 5);
		while (c != NULL && *c != '\0') {
			int v = atoi(c);

			if (v >= 0 && v < 32)
				row.categories |= 1u << v;
			c += strcspn(c, ",");
			if (*c == ',')
				c++;
		}
		if (row.uid == NULL || row.ical == NULL)
			continue;
		if (cb(&row, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Each series whose UID an earlier feed (lower id) also holds, by feed and
 * UID, with the name of the first feed that holds it.
 */
static sqlite3_stmt *
duplicates_stmt(struct store *s)
{
	return store_prep_once(s, "SELECT d.feed_id, f.name, d.uid, "
	    "(SELECT f2.name FROM series s2 JOIN feed f2 ON "
	    "f2.id = s2.feed_id WHERE s2.uid = d.uid AND "
	    "s2.feed_id < d.feed_id ORDER BY s2.feed_id LIMIT 1) "
	    "FROM series d JOIN feed f ON f.id = d.feed_id "
	    "WHERE d.uid IN (SELECT uid FROM series GROUP BY uid "
	    "HAVING count(*) > 1) ORDER BY d.feed_id, d.uid");
}

int
store_duplicates(struct store *s, store_dup_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = duplicates_stmt(s)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *feed = (const char *)sqlite3_column_text(st, 1);
		const char *uid = (const char *)sqlite3_column_text(st, 2);
		const char *first = (const char *)sqlite3_column_text(st, 3);

		if (first == NULL || feed == NULL || uid == NULL)
			continue;	/* the earliest holder itself */
		if (cb(uid, feed, first, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* One feed's note while it is being written. */
struct dup_note {
	int64_t		 feed_id;
	char		*text;
	size_t		 n;
};

static int
dup_note_flush(struct store *s, struct dup_note *d)
{
	sqlite3_stmt *st;
	char key[48], *t = NULL;
	int rc;

	if (d->n == 0)
		return 0;
	if (d->n > DUP_LISTED)
		xasprintf(&t, "%s and %zu more", d->text, d->n - DUP_LISTED);
	else
		t = xstrdup(d->text);
	free(d->text);
	d->text = NULL;
	d->n = 0;
	snprintf(key, sizeof key, "duplicates:%lld", (long long)d->feed_id);
	if ((st = store_prep_once(s, "INSERT INTO meta(key, value) VALUES (?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value")) == NULL) {
		free(t);
		return -1;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, t, -1, SQLITE_TRANSIENT);
	rc = store_run_once(st);
	free(t);
	return rc;
}

int
store_duplicates_note(struct store *s)
{
	struct dup_note d;
	sqlite3_stmt *st;
	int rc;

	if ((st = store_prep_once(s, "DELETE FROM meta WHERE key GLOB 'duplicates:*'"))
	    == NULL || store_run_once(st) == -1)
		return -1;
	if ((st = duplicates_stmt(s)) == NULL)
		return -1;
	memset(&d, 0, sizeof d);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t feed_id = sqlite3_column_int64(st, 0);
		const char *uid = (const char *)sqlite3_column_text(st, 2);
		const char *first = (const char *)sqlite3_column_text(st, 3);
		char *t;

		if (first == NULL || uid == NULL)
			continue;
		if (feed_id != d.feed_id && dup_note_flush(s, &d) == -1)
			break;
		d.feed_id = feed_id;
		if (++d.n > DUP_LISTED)
			continue;
		t = d.text;
		xasprintf(&d.text, "%s%s%s (also in feed %s)", t != NULL ? t :
		    "duplicate UIDs left out of the merged ICS feed: ",
		    t != NULL ? ", " : "", uid, first);
		free(t);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(d.text);
		return -1;
	}
	return dup_note_flush(s, &d);
}
