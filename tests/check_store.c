/*
 * Tests for store.c: opening, creating and migrating a database, refusing
 * files that are not ours (unchanged), one transaction per ingest (updates
 * and removals without duplicates, unchanged series kept, rollback, a full
 * disk), feed health, and reading occurrences and tasks back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "djcal/store.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

#define DJCL_APPID	0x646a636c

static char *dir;
static char *dbpath;
static struct store *st;
static int64_t feed_id;
static char *cause;

static void
setup_dir(void)
{
	dir = tu_mkdtemp();
	xasprintf(&dbpath, "%s/djcal.db", dir);
	st = NULL;
	cause = NULL;
	feed_id = 0;
}

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	free(cause);
	cause = NULL;
	tu_rmtree(dir);
	free(dir);
	free(dbpath);
}

/* A fresh store with one feed, "f1". */
static void
setup_store(void)
{
	struct store_feed f;

	setup_dir();
	st = store_open(dbpath, 0, &cause);
	ck_assert_msg(st != NULL, "%s", cause);
	memset(&f, 0, sizeof f);
	f.name = "f1";
	f.url = "/srv/f1.ics";
	f.category = "study";
	f.branch = "机关党支部";
	f.refresh = 900;
	ck_assert_int_eq(store_feed_upsert(st, &f, &feed_id, &cause), 0);
}

/* Helpers: raw SQLite next to the store */

static long long
sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK,
	    "%s: %s", sql, err);
	sqlite3_close(db);
}

static long long
count(const char *table)
{
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	return sql_int(dbpath, sql);
}

/* Building series */

struct ser {
	struct store_series	 s;
	struct store_item	 items[4];
	struct store_occ	 occs[8];
	char			 text[128];
};

/* A series: nitems items (item 0 the master), occurrences starting at the
 * given instants, an hour long, of item 0. */
static void
ser_make(struct ser *x, const char *uid, uint64_t hash, int nitems,
    const int64_t *starts, size_t nocc)
{
	size_t i;

	memset(x, 0, sizeof *x);
	snprintf(x->text, sizeof x->text, "BEGIN:VEVENT\r\nUID:%s\r\n"
	    "END:VEVENT\r\n", uid);
	x->s.uid = uid;
	x->s.ical = x->text;
	x->s.icallen = strlen(x->text);
	x->s.hash = hash;
	x->s.recurring = nocc > 1;
	x->s.span_start = nocc > 0 ? starts[0] : 0;
	x->s.span_end = nocc > 0 ? starts[nocc - 1] + 3600 : 0;
	for (i = 0; i < (size_t)nitems; i++) {
		struct store_item *it = &x->items[i];

		it->idx = (int)i;
		it->rid = i == 0 ? "" : "20260106T010000Z";
		it->kind = DJ_KIND_EVENT;
		it->summary = i == 0 ? uid : "override";
		it->category = DJ_CAT_STUDY;
	}
	for (i = 0; i < nocc; i++) {
		struct store_occ *o = &x->occs[i];

		o->item = 0;
		o->start = starts[i];
		o->end = starts[i] + 3600;
		o->has_rid = x->s.recurring;
		o->rid = starts[i];
	}
	x->s.items = x->items;
	x->s.nitems = (size_t)nitems;
	x->s.occs = x->occs;
	x->s.nocc = nocc;
}

#define T0	1767574800LL	/* 2026-01-05T01:00:00Z */
#define DAY	86400LL
#define MAT_FROM (T0 - 400 * DAY)
#define MAT_TO	(T0 + 400 * DAY)

static struct store_ingest *
begin(int64_t from, int64_t to)
{
	struct store_ingest *in;

	in = store_ingest_begin(st, feed_id, from, to, &cause);
	ck_assert_msg(in != NULL, "%s", cause);
	return in;
}

static void
commit(struct store_ingest *in, int complete, int64_t *items,
    int64_t *removed)
{
	struct store_ingest_end e;

	memset(&e, 0, sizeof e);
	e.complete = complete;
	e.body_hash = 42;
	ck_assert_msg(store_ingest_commit(in, &e, items, removed, &cause) == 0,
	    "%s", cause);
}

/* The first body: A (master + override, three occurrences), B (one). */
static void
ingest_first(void)
{
	static const int64_t sa[] = { T0, T0 + DAY, T0 + 2 * DAY };
	static const int64_t sb[] = { T0 + 3 * DAY };
	struct store_ingest *in = begin(MAT_FROM, MAT_TO);
	struct ser a, b;
	int64_t items, removed;

	ser_make(&a, "A", 1, 2, sa, 3);
	ser_make(&b, "B", 2, 1, sb, 1);
	ck_assert_int_eq(store_ingest_series(in, &a.s), 0);
	ck_assert_int_eq(store_ingest_series(in, &b.s), 0);
	commit(in, 1, &items, &removed);
	ck_assert_int_eq(items, 2);
	ck_assert_int_eq(removed, 0);
}

/* Opening */

START_TEST(test_create)
{
	struct store_feed f;

	setup_dir();
	ck_assert_ptr_nonnull(st = store_open(dbpath, 0, &cause));
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA application_id"),
	    DJCL_APPID);
	ck_assert_int_eq(store_integrity(st, &cause), 0);
	store_close(st);
	/* WAL: the journal mode is recorded in the file. */
	ck_assert_int_eq(sql_int(dbpath, "SELECT journal_mode = 'wal' FROM "
	    "pragma_journal_mode"), 1);
	/* Reopening a current database changes nothing. */
	ck_assert_ptr_nonnull(st = store_open(dbpath, 0, &cause));
	ck_assert_int_eq(store_feed_get(st, "nope", &f), 1);
}
END_TEST

/* A database from before any schema (user_version 0, ours, empty). */
START_TEST(test_migrate_from_v0)
{
	setup_dir();
	sql_exec(dbpath, "PRAGMA application_id = 1684693868; "
	    "PRAGMA user_version = 0");
	ck_assert_ptr_nonnull(st = store_open(dbpath, 0, &cause));
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'occurrence'"), 1);
}
END_TEST

/* The schema djcal 0.1.0 wrote (user_version 1), with a feed and one
 * series: migrated forward with its data. */
static const char v1_schema[] =
	"PRAGMA application_id = 1684693868;"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
	"CREATE TABLE feed (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" url TEXT NOT NULL DEFAULT '', category TEXT, branch TEXT,"
	" kind TEXT NOT NULL DEFAULT 'events',"
	" refresh INTEGER NOT NULL DEFAULT 900, etag TEXT,"
	" last_modified TEXT, body_hash INTEGER,"
	" last_fetch INTEGER NOT NULL DEFAULT 0,"
	" last_success INTEGER NOT NULL DEFAULT 0, last_error TEXT,"
	" http_status INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" items INTEGER NOT NULL DEFAULT 0, problems TEXT,"
	" mat_from INTEGER NOT NULL DEFAULT 0,"
	" mat_to INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE zone (feed_id INTEGER NOT NULL REFERENCES feed(id)"
	" ON DELETE CASCADE, tzid TEXT NOT NULL, ical TEXT NOT NULL,"
	" PRIMARY KEY (feed_id, tzid)) WITHOUT ROWID;"
	"CREATE TABLE series (id INTEGER PRIMARY KEY,"
	" feed_id INTEGER NOT NULL REFERENCES feed(id) ON DELETE CASCADE,"
	" uid TEXT NOT NULL, hash INTEGER NOT NULL, ical TEXT NOT NULL,"
	" recurring INTEGER NOT NULL, span_start INTEGER NOT NULL,"
	" span_end INTEGER NOT NULL, unbounded INTEGER NOT NULL,"
	" UNIQUE (feed_id, uid));"
	"CREATE TABLE item (id INTEGER PRIMARY KEY,"
	" series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL, rid TEXT NOT NULL, kind INTEGER NOT NULL,"
	" sequence INTEGER NOT NULL, summary TEXT, location TEXT,"
	" description TEXT, status TEXT, category INTEGER NOT NULL,"
	" meeting_type INTEGER NOT NULL, due INTEGER,"
	" due_all_day INTEGER NOT NULL DEFAULT 0, completed INTEGER,"
	" alarms TEXT, UNIQUE (series_id, idx));"
	"CREATE TABLE occurrence ("
	" series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,"
	" item_id INTEGER NOT NULL, feed_id INTEGER NOT NULL,"
	" start INTEGER NOT NULL, end INTEGER NOT NULL,"
	" all_day INTEGER NOT NULL, rid INTEGER,"
	" rid_all_day INTEGER NOT NULL DEFAULT 0, category INTEGER NOT NULL,"
	" kind INTEGER NOT NULL);"
	"CREATE INDEX occurrence_start ON occurrence(start);"
	"CREATE INDEX occurrence_series ON occurrence(series_id);"
	"CREATE INDEX item_series ON item(series_id);"
	"INSERT INTO feed(id, name, url) VALUES (7, 'old', '/srv/old.ics');"
	"INSERT INTO series VALUES (1, 7, 'u1', 5, 'BEGIN:VEVENT', 0,"
	" 1767574800, 1767578400, 0);"
	"INSERT INTO item(series_id, idx, rid, kind, sequence, summary,"
	" category, meeting_type) VALUES (1, 0, '', 0, 0, '支委会', 0, 1);"
	"INSERT INTO occurrence VALUES (1, 1, 7, 1767574800, 1767578400, 0,"
	" NULL, 0, 0, 0);"
	"PRAGMA user_version = 1;";

START_TEST(test_migrate_from_v1)
{
	struct store_feed f;

	setup_dir();
	sql_exec(dbpath, v1_schema);
	/* A read-only open cannot migrate: refused, file untouched. */
	ck_assert_ptr_null(st = store_open(dbpath, STORE_RDONLY, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "migration"));
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"), 1);
	free(cause);
	cause = NULL;
	ck_assert_ptr_nonnull(st = store_open(dbpath, 0, &cause));
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(store_feed_get(st, "old", &f), 0);
	ck_assert_int_eq(f.id, 7);
	store_feed_clear(&f);
	ck_assert_int_eq(count("occurrence"), 1);
	ck_assert_int_eq(store_integrity(st, &cause), 0);
}
END_TEST

/* Files that are not ours are refused and left byte for byte. */

static char *
snapshot(const char *path, size_t *len)
{
	char *b = tu_read(path, len);

	ck_assert_ptr_nonnull(b);
	return b;
}

static void
assert_unchanged(const char *path, const char *before, size_t len)
{
	size_t now_len;
	char *now = tu_read(path, &now_len);

	ck_assert_ptr_nonnull(now);
	ck_assert_uint_eq(now_len, len);
	ck_assert_msg(memcmp(now, before, len) == 0, "%s changed", path);
	free(now);
}

static void
assert_refused(const char *path, const char *why)
{
	size_t len;
	char *before = snapshot(path, &len);
	int flags;

	for (flags = 0; flags <= STORE_RDONLY; flags += STORE_RDONLY) {
		ck_assert_ptr_null(st = store_open(path, flags, &cause));
		ck_assert_ptr_nonnull(cause);
		ck_assert_msg(strstr(cause, why) != NULL, "%s", cause);
		ck_assert_ptr_nonnull(strstr(cause, path));
		free(cause);
		cause = NULL;
		assert_unchanged(path, before, len);
	}
	free(before);
}

START_TEST(test_foreign_refused)
{
	setup_dir();
	sql_exec(dbpath, "CREATE TABLE contacts (name TEXT, phone TEXT);"
	    "INSERT INTO contacts VALUES ('张三', '123');"
	    "PRAGMA user_version = 1");
	assert_refused(dbpath, "not a djcal database");
	ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM contacts"), 1);
}
END_TEST

START_TEST(test_foreign_wal_refused)
{
	setup_dir();
	sql_exec(dbpath, "PRAGMA journal_mode = WAL;"
	    "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');"
	    "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_refused(dbpath, "not a djcal database");
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	char sql[128];

	setup_dir();
	snprintf(sql, sizeof sql, "PRAGMA application_id = %d; "
	    "CREATE TABLE meta (key TEXT); PRAGMA user_version = %d",
	    DJCL_APPID, STORE_SCHEMA_VERSION + 1);
	sql_exec(dbpath, sql);
	assert_refused(dbpath, "newer");
}
END_TEST

START_TEST(test_corrupt_refused)
{
	static const char header[] = "SQLite format 3";
	char *b = xmalloc(16384);
	size_t i;

	setup_dir();
	srandom(7);
	for (i = 0; i < 16384; i++)
		b[i] = (char)(random() & 0xff);
	free(tu_write(dir, "djcal.db", b, 16384));
	assert_refused(dbpath, "djcal.db");
	/* A SQLite header on random pages. */
	memcpy(b, header, sizeof header);
	free(tu_write(dir, "djcal.db", b, 16384));
	assert_refused(dbpath, "djcal.db");
	free(b);
}
END_TEST

/* Regression: a failed migration with a NULL cause dereferenced it. */
START_TEST(test_failed_migration_rolls_back)
{
	size_t len;
	char *before;

	setup_dir();
	/* Ours, schema 0, but a table in the way of the first migration. */
	sql_exec(dbpath, "PRAGMA application_id = 1684693868;"
	    "CREATE TABLE meta (k TEXT)");
	before = snapshot(dbpath, &len);
	ck_assert_ptr_null(st = store_open(dbpath, 0, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "migration failed"));
	assert_unchanged(dbpath, before, len);
	ck_assert_ptr_null(st = store_open(dbpath, 0, NULL));
	assert_unchanged(dbpath, before, len);
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"), 0);
	free(before);
}
END_TEST

START_TEST(test_rdonly_missing)
{
	struct stat sb;

	setup_dir();
	ck_assert_ptr_null(st = store_open(dbpath, STORE_RDONLY, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, dbpath));
	ck_assert_int_eq(stat(dbpath, &sb), -1);
}
END_TEST

START_TEST(test_rdonly_reads_never_writes)
{
	struct store_ingest *in;
	struct store_feed f;

	ingest_first();
	store_close(st);
	ck_assert_ptr_nonnull(st = store_open(dbpath, STORE_RDONLY, &cause));
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 0);
	ck_assert_int_eq(f.items, 2);
	store_feed_clear(&f);
	ck_assert_ptr_null(in = store_ingest_begin(st, feed_id, 0, 1,
	    &cause));
	ck_assert_ptr_nonnull(strstr(cause, "read-only"));
}
END_TEST

/* Ingest transactions */

START_TEST(test_reingest_updates_and_removes)
{
	static const int64_t sa[] = { T0, T0 + 7 * DAY };
	static const int64_t sc[] = { T0 + 5 * DAY };
	struct store_ingest *in;
	struct ser a, c;
	int64_t items, removed;

	ingest_first();
	ck_assert_int_eq(count("series"), 2);
	ck_assert_int_eq(count("item"), 3);
	ck_assert_int_eq(count("occurrence"), 4);

	/* A changed (one item, two occurrences), B gone, C new. */
	in = begin(MAT_FROM, MAT_TO);
	ser_make(&a, "A", 11, 1, sa, 2);
	ser_make(&c, "C", 3, 1, sc, 1);
	ck_assert_int_eq(store_ingest_unchanged(in, "A", 11), 0);
	ck_assert_int_eq(store_ingest_series(in, &a.s), 0);
	ck_assert_int_eq(store_ingest_series(in, &c.s), 0);
	commit(in, 1, &items, &removed);
	ck_assert_int_eq(items, 2);
	ck_assert_int_eq(removed, 1);
	ck_assert_int_eq(count("series"), 2);
	ck_assert_int_eq(count("item"), 2);
	ck_assert_int_eq(count("occurrence"), 3);
	ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM series WHERE "
	    "uid = 'B'"), 0);
	ck_assert_int_eq(sql_int(dbpath, "SELECT hash FROM series WHERE "
	    "uid = 'A'"), 11);

	/* The same body again, stored anew: still no duplicates. */
	in = begin(MAT_FROM, MAT_TO);
	ck_assert_int_eq(store_ingest_series(in, &a.s), 0);
	ck_assert_int_eq(store_ingest_series(in, &c.s), 0);
	commit(in, 1, &items, &removed);
	ck_assert_int_eq(removed, 0);
	ck_assert_int_eq(count("series"), 2);
	ck_assert_int_eq(count("item"), 2);
	ck_assert_int_eq(count("occurrence"), 3);
	ck_assert_int_eq(store_integrity(st, &cause), 0);
}
END_TEST

START_TEST(test_unchanged_series_kept)
{
	struct store_ingest *in;
	int64_t items, removed;

	ingest_first();
	in = begin(MAT_FROM, MAT_TO);
	ck_assert_int_eq(store_ingest_unchanged(in, "A", 1), 1);
	ck_assert_int_eq(store_ingest_unchanged(in, "B", 2), 1);
	ck_assert_int_eq(store_ingest_unchanged(in, "B", 3), 0);
	ck_assert_int_eq(store_ingest_unchanged(in, "new", 1), 0);
	commit(in, 1, &items, &removed);
	ck_assert_int_eq(items, 2);
	ck_assert_int_eq(removed, 0);
	ck_assert_int_eq(count("occurrence"), 4);
}
END_TEST

/* A new window: stored occurrences are for the old one, so even an
 * unchanged series must be expanded again. */
START_TEST(test_changed_window_reexpands)
{
	struct store_ingest *in;
	struct store_feed f;

	ingest_first();
	in = begin(MAT_FROM + DAY, MAT_TO + DAY);
	ck_assert_int_eq(store_ingest_unchanged(in, "A", 1), 0);
	store_ingest_abort(in);
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 0);
	ck_assert_int_eq(f.mat_from, MAT_FROM);
	ck_assert_int_eq(f.mat_to, MAT_TO);
	store_feed_clear(&f);
}
END_TEST

/* An incomplete body adds and changes but removes nothing. */
START_TEST(test_incomplete_removes_nothing)
{
	static const int64_t sc[] = { T0 + 5 * DAY };
	struct store_ingest *in;
	struct ser c;
	int64_t items, removed;

	ingest_first();
	in = begin(MAT_FROM, MAT_TO);
	ser_make(&c, "C", 3, 1, sc, 1);
	ck_assert_int_eq(store_ingest_series(in, &c.s), 0);
	commit(in, 0, &items, &removed);
	ck_assert_int_eq(items, 3);
	ck_assert_int_eq(removed, 0);
	ck_assert_int_eq(count("series"), 3);
}
END_TEST

START_TEST(test_abort_rolls_back)
{
	static const int64_t sc[] = { T0 + 5 * DAY };
	struct store_ingest *in;
	struct store_feed f;
	struct ser c;

	ingest_first();
	in = begin(MAT_FROM + DAY, MAT_TO + DAY);
	ser_make(&c, "C", 3, 1, sc, 1);
	ck_assert_int_eq(store_ingest_series(in, &c.s), 0);
	ck_assert_int_eq(store_ingest_zone(in, "Custom", "BEGIN:VTIMEZONE",
	    15), 0);
	store_ingest_abort(in);
	ck_assert_int_eq(count("series"), 2);
	ck_assert_int_eq(count("occurrence"), 4);
	ck_assert_int_eq(count("zone"), 0);
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 0);
	ck_assert_int_eq(f.items, 2);
	ck_assert_int_eq(f.mat_from, MAT_FROM);
	store_feed_clear(&f);
	/* The store is usable afterwards. */
	ingest_first();
	ck_assert_int_eq(count("series"), 2);
}
END_TEST

/* A full disk: the ingest fails cleanly and the last good data stays. */
START_TEST(test_full_database)
{
	struct store_ingest *in;
	struct store_feed f;
	struct ser big[64];
	static char text[32768];
	char uids[64][8];
	long long pages;
	int i, failed = 0;

	ingest_first();
	pages = sql_int(dbpath, "PRAGMA page_count");
	ck_assert_int_eq(store_set_max_pages(st, pages + 8), 0);
	memset(text, 'x', sizeof text - 1);
	in = begin(MAT_FROM, MAT_TO);
	for (i = 0; i < 64 && !failed; i++) {
		static const int64_t s1[] = { T0 };

		snprintf(uids[i], sizeof uids[i], "big%d", i);
		ser_make(&big[i], uids[i], 100 + (uint64_t)i, 1, s1, 1);
		big[i].s.ical = text;
		big[i].s.icallen = sizeof text - 1;
		if (store_ingest_series(in, &big[i].s) == -1)
			failed = 1;
	}
	if (!failed) {
		struct store_ingest_end e;

		memset(&e, 0, sizeof e);
		e.complete = 1;
		failed = store_ingest_commit(in, &e, NULL, NULL, &cause) == -1;
		ck_assert_msg(failed, "64 x 32 KB fit in 8 pages");
		ck_assert_ptr_nonnull(cause);
	} else
		store_ingest_abort(in);
	ck_assert_int_eq(count("series"), 2);
	ck_assert_int_eq(count("item"), 3);
	ck_assert_int_eq(count("occurrence"), 4);
	ck_assert_int_eq(store_integrity(st, &cause), 0);
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 0);
	ck_assert_int_eq(f.items, 2);
	store_feed_clear(&f);
	/* With room again, the next ingest works. */
	ck_assert_int_eq(store_set_max_pages(st, 1LL << 30), 0);
	ingest_first();
	ck_assert_int_eq(count("series"), 2);
}
END_TEST

/* Feeds and their health */

START_TEST(test_feed_health_round_trip)
{
	struct store_fetch fe;
	struct store_feed f;

	memset(&fe, 0, sizeof fe);
	fe.when = 1000;
	fe.ok = 1;
	fe.http_status = 200;
	fe.etag = "\"v1\"";
	fe.last_modified = "Mon, 05 Jan 2026 01:00:00 GMT";
	ck_assert_int_eq(store_feed_fetched(st, feed_id, &fe), 0);
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 0);
	ck_assert_int_eq(f.last_fetch, 1000);
	ck_assert_int_eq(f.last_success, 1000);
	ck_assert_int_eq(f.failures, 0);
	ck_assert_ptr_null(f.last_error);
	ck_assert_str_eq(f.etag, "\"v1\"");
	store_feed_clear(&f);

	memset(&fe, 0, sizeof fe);
	fe.when = 2000;
	fe.error = "connection refused";
	ck_assert_int_eq(store_feed_fetched(st, feed_id, &fe), 0);
	fe.when = 3000;
	fe.error = "HTTP 503";
	fe.http_status = 503;
	ck_assert_int_eq(store_feed_fetched(st, feed_id, &fe), 0);
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 0);
	ck_assert_int_eq(f.last_fetch, 3000);
	ck_assert_int_eq(f.last_success, 1000);
	ck_assert_int_eq(f.failures, 2);
	ck_assert_str_eq(f.last_error, "HTTP 503");
	ck_assert_int_eq(f.http_status, 503);
	/* A failure keeps the validators of the last good body. */
	ck_assert_str_eq(f.etag, "\"v1\"");
	ck_assert_str_eq(f.last_modified, "Mon, 05 Jan 2026 01:00:00 GMT");
	store_feed_clear(&f);

	memset(&fe, 0, sizeof fe);
	fe.when = 4000;
	fe.ok = 1;
	ck_assert_int_eq(store_feed_fetched(st, feed_id, &fe), 0);
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 0);
	ck_assert_int_eq(f.last_success, 4000);
	ck_assert_int_eq(f.failures, 0);
	ck_assert_ptr_null(f.last_error);
	store_feed_clear(&f);
}
END_TEST

START_TEST(test_feed_upsert_list_delete)
{
	struct store_feed f, *v;
	size_t n;
	int64_t id2, again;

	memset(&f, 0, sizeof f);
	f.name = "a-first";
	f.url = "/srv/a.ics";
	ck_assert_int_eq(store_feed_upsert(st, &f, &id2, &cause), 0);
	ck_assert_int_ne(id2, feed_id);
	f.branch = "第二党支部";
	ck_assert_int_eq(store_feed_upsert(st, &f, &again, &cause), 0);
	ck_assert_int_eq(again, id2);
	ck_assert_int_eq(store_feed_list(st, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "a-first");
	ck_assert_str_eq(v[0].branch, "第二党支部");
	ck_assert_str_eq(v[1].name, "f1");
	ck_assert_str_eq(v[1].kind, "events");
	store_feed_list_free(v, n);

	ingest_first();
	ck_assert_int_eq(store_feed_delete(st, "f1"), 0);
	ck_assert_int_eq(store_feed_get(st, "f1", &f), 1);
	ck_assert_int_eq(count("series"), 0);
	ck_assert_int_eq(count("item"), 0);
	ck_assert_int_eq(count("occurrence"), 0);
}
END_TEST

START_TEST(test_meta)
{
	char *v;

	ck_assert_ptr_null(store_meta_get(st, "timezone"));
	ck_assert_int_eq(store_meta_set(st, "timezone", "Asia/Shanghai"), 0);
	ck_assert_int_eq(store_meta_set(st, "timezone", "Europe/Berlin"), 0);
	ck_assert_str_eq(v = store_meta_get(st, "timezone"), "Europe/Berlin");
	free(v);
}
END_TEST

static int
zcb(const char *tzid, const char *ical, void *arg)
{
	ck_assert_str_eq(tzid, "Custom");
	ck_assert_str_eq(ical, "BEGIN:VTIMEZONE\r\n");
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_zones_round_trip)
{
	struct store_ingest *in;
	int n = 0;

	in = begin(MAT_FROM, MAT_TO);
	ck_assert_int_eq(store_ingest_zone(in, "Custom", "BEGIN:VTIMEZONE\r\n",
	    17), 0);
	commit(in, 1, NULL, NULL);
	ck_assert_int_eq(store_zones(st, feed_id, zcb, &n), 0);
	ck_assert_int_eq(n, 1);
	/* A body without VTIMEZONEs drops the feed's zones. */
	in = begin(MAT_FROM, MAT_TO);
	commit(in, 1, NULL, NULL);
	n = 0;
	ck_assert_int_eq(store_zones(st, feed_id, zcb, &n), 0);
	ck_assert_int_eq(n, 0);
}
END_TEST

/* Reading occurrences */

struct seen {
	int	n;
	char	uids[16][8];
	int64_t	starts[16];
};

static int
seen_cb(const struct dj_occurrence *o, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16) {
		snprintf(s->uids[s->n], sizeof s->uids[0], "%s", o->uid);
		s->starts[s->n] = o->start;
	}
	s->n++;
	return 0;
}

START_TEST(test_occurrences_window)
{
	static const int64_t sl[] = { T0 - 30 * DAY };
	struct store_ingest *in;
	struct store_filter f;
	struct seen s;
	struct ser l;

	ingest_first();
	/* A 60-day item that began a month before T0. */
	in = begin(MAT_FROM, MAT_TO);
	ser_make(&l, "L", 9, 1, sl, 1);
	l.occs[0].end = T0 + 30 * DAY;
	ck_assert_int_eq(store_ingest_series(in, &l.s), 0);
	commit(in, 0, NULL, NULL);
	ck_assert_int_ge(store_max_length(st), 60 * DAY);

	memset(&f, 0, sizeof f);
	f.from = T0 + 3600;		/* A's first has just ended */
	f.to = T0 + 2 * DAY;		/* A's third starts here */
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(store_occurrences(st, &f, seen_cb, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_str_eq(s.uids[0], "L");
	ck_assert_str_eq(s.uids[1], "A");
	ck_assert_int_eq(s.starts[1], T0 + DAY);
	/* limit */
	f.limit = 1;
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(store_occurrences(st, &f, seen_cb, &s), 0);
	ck_assert_int_eq(s.n, 1);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup_store, teardown);
	tcase_add_test(tc, test_rdonly_reads_never_writes);
	tcase_add_test(tc, test_reingest_updates_and_removes);
	tcase_add_test(tc, test_unchanged_series_kept);
	tcase_add_test(tc, test_changed_window_reexpands);
	tcase_add_test(tc, test_incomplete_removes_nothing);
	tcase_add_test(tc, test_abort_rolls_back);
	tcase_add_test(tc, test_feed_health_round_trip);
	tcase_add_test(tc, test_feed_upsert_list_delete);
	tcase_add_test(tc, test_meta);
	tcase_add_test(tc, test_zones_round_trip);
	tcase_add_test(tc, test_occurrences_window);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_migrate_from_v0);
	tcase_add_test(tc, test_migrate_from_v1);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_foreign_refused);
	tcase_add_test(tc, test_foreign_wal_refused);
	tcase_add_test(tc, test_newer_schema_refused);
	tcase_add_test(tc, test_corrupt_refused);
	tcase_add_test(tc, test_failed_migration_rolls_back);
	tcase_add_test(tc, test_rdonly_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup_store, teardown);
	tcase_add_test(tc, test_full_database);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(store_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
