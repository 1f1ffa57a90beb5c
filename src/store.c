/*
 * SQLite storage: schema and migrations (PRAGMA user_version), prepared
 * statements, one transaction per feed ingest.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "djcal/store.h"
#include "djcal/xmalloc.h"
#include "store_int.h"

/* 'djcl': marks a database as ours, so a foreign file is never touched. */
#define STORE_APPLICATION_ID	0x646a636c

static const char *const store_schema_v1[] = {
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT"
	") WITHOUT ROWID",
	"CREATE TABLE feed ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  url TEXT NOT NULL DEFAULT '',"
	"  category TEXT,"
	"  branch TEXT,"
	"  kind TEXT NOT NULL DEFAULT 'events',"
	"  refresh INTEGER NOT NULL DEFAULT 900,"
	"  etag TEXT,"
	"  last_modified TEXT,"
	"  body_hash INTEGER,"
	"  last_fetch INTEGER NOT NULL DEFAULT 0,"
	"  last_success INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  http_status INTEGER NOT NULL DEFAULT 0,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  items INTEGER NOT NULL DEFAULT 0,"
	"  problems TEXT,"
	"  mat_from INTEGER NOT NULL DEFAULT 0,"
	"  mat_to INTEGER NOT NULL DEFAULT 0"
	")",
	"CREATE TABLE zone ("
	"  feed_id INTEGER NOT NULL REFERENCES feed(id) ON DELETE CASCADE,"
	"  tzid TEXT NOT NULL,"
	"  ical TEXT NOT NULL,"
	"  PRIMARY KEY (feed_id, tzid)"
	") WITHOUT ROWID",
	/* All components of one UID in one feed, as the feed wrote them. */
	"CREATE TABLE series ("
	"  id INTEGER PRIMARY KEY,"
	"  feed_id INTEGER NOT NULL REFERENCES feed(id) ON DELETE CASCADE,"
	"  uid TEXT NOT NULL,"
	"  hash INTEGER NOT NULL,"
	"  ical TEXT NOT NULL,"
	"  recurring INTEGER NOT NULL,"
	"  span_start INTEGER NOT NULL,"
	"  span_end INTEGER NOT NULL,"
	"  unbounded INTEGER NOT NULL,"
	"  UNIQUE (feed_id, uid)"
	")",
	/* One component: (feed, UID, RECURRENCE-ID) through its series. */
	"CREATE TABLE item ("
	"  id INTEGER PRIMARY KEY,"
	"  series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,"
	"  idx INTEGER NOT NULL,"
	"  rid TEXT NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  sequence INTEGER NOT NULL,"
	"  summary TEXT,"
	"  location TEXT,"
	"  description TEXT,"
	"  status TEXT,"
	"  category INTEGER NOT NULL,"
	"  meeting_type INTEGER NOT NULL,"
	"  due INTEGER,"
	"  due_all_day INTEGER NOT NULL DEFAULT 0,"
	"  completed INTEGER,"
	"  alarms TEXT,"
	"  UNIQUE (series_id, idx)"
	")",
	"CREATE TABLE occurrence ("
	"  series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,"
	"  item_id INTEGER NOT NULL,"
	"  feed_id INTEGER NOT NULL,"
	"  start INTEGER NOT NULL,"
	"  end INTEGER NOT NULL,"
	"  all_day INTEGER NOT NULL,"
	"  rid INTEGER,"
	"  rid_all_day INTEGER NOT NULL DEFAULT 0,"
	"  category INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL"
	")",
	"CREATE INDEX occurrence_start ON occurrence(start)",
	"CREATE INDEX occurrence_series ON occurrence(series_id)",
	"CREATE INDEX item_series ON item(series_id)",
	NULL
};

/*
 * v2: the reminder outbox.  A message (reminder, changed, cancelled,
 * warning) gets its seq from AUTOINCREMENT, so a seq is never reused even
 * after old messages are pruned; a reminder row records that (occurrence,
 * lead, due) was sent or skipped, in the same transaction as its message.
 */
static const char *const store_schema_v2[] = {
	"CREATE TABLE message ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  type TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  feed TEXT,"
	"  branch TEXT,"
	"  category INTEGER,"
	"  body TEXT NOT NULL"
	")",
	"CREATE TABLE reminder ("
	"  feed TEXT NOT NULL,"
	"  uid TEXT NOT NULL,"
	"  okey INTEGER NOT NULL,"
	"  lead TEXT NOT NULL,"
	"  due INTEGER NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  seq INTEGER,"
	"  start INTEGER NOT NULL,"
	"  end INTEGER NOT NULL,"
	"  followup INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (feed, uid, okey, lead, due)"
	") WITHOUT ROWID",
	"CREATE INDEX reminder_start ON reminder(start)",
	NULL
};

/* v3: attendance.  A check-in names its occurrence the way a reminder
 * does, by (feed, UID, RECURRENCE-ID or 0), and keeps its times. */
static const char *const store_schema_v3[] = {
	"CREATE TABLE checkin ("
	"  feed TEXT NOT NULL,"
	"  uid TEXT NOT NULL,"
	"  okey INTEGER NOT NULL,"
	"  member TEXT NOT NULL,"
	"  start INTEGER NOT NULL,"
	"  end INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  reason TEXT,"
	"  created INTEGER NOT NULL,"
	"  summary TEXT,"
	"  category INTEGER NOT NULL,"
	"  all_day INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (feed, uid, okey, member)"
	") WITHOUT ROWID",
	"CREATE INDEX checkin_start ON checkin(start)",
	NULL
};

/* Migrations: store_migrations[v] takes a database from v to v + 1. */
static const char *const *const store_migrations[] = {
	store_schema_v1,
	store_schema_v2,
	store_schema_v3,
};

/* A feed's note of UIDs an earlier feed also holds (store_export.c). */
#define STORE_DUP_NOTE	"(SELECT value FROM meta WHERE key = " \
	"'duplicates:' || feed.id)"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_META_GET,
	ST_META_SET,
	ST_FEED_INSERT,
	ST_FEED_UPDATE,
	ST_FEED_GET,
	ST_FEED_LIST,
	ST_FEED_DELETE,
	ST_FEED_FETCHED,
	ST_FEED_INGESTED,
	ST_FEED_MAT,
	ST_ZONE_PUT,
	ST_ZONE_LIST,
	ST_ZONE_DELETE_FEED,
	ST_SERIES_HASHES,
	ST_SERIES_UPSERT,
	ST_SERIES_DELETE,
	ST_SERIES_COUNT,
	ST_ITEM_DELETE_SERIES,
	ST_ITEM_INSERT,
	ST_OCC_DELETE_SERIES,
	ST_OCC_INSERT,
	ST_OCC_MAXLEN,
	ST_ITEMS_OF_SERIES,
	ST_TASKS,
	ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[ST_FEED_INSERT] = "INSERT INTO feed(name, url, category, branch, "
	    "kind, refresh) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_FEED_UPDATE] = "UPDATE feed SET url = ?2, category = ?3, "
	    "branch = ?4, kind = ?5, refresh = ?6 WHERE name = ?1 AND "
	    "(url IS NOT ?2 OR category IS NOT ?3 OR branch IS NOT ?4 OR "
	    "kind IS NOT ?5 OR refresh IS NOT ?6)",
	[ST_FEED_GET] = "SELECT id, name, url, category, branch, kind, "
	    "refresh, etag, last_modified, body_hash, last_fetch, "
	    "last_success, last_error, http_status, failures, items, "
	    "coalesce(problems || '; ' || " STORE_DUP_NOTE ", problems, "
	    STORE_DUP_NOTE "), mat_from, mat_to FROM feed WHERE name = ?1",
	[ST_FEED_LIST] = "SELECT id, name, url, category, branch, kind, "
	    "refresh, etag, last_modified, body_hash, last_fetch, "
	    "last_success, last_error, http_status, failures, items, "
	    "coalesce(problems || '; ' || " STORE_DUP_NOTE ", problems, "
	    STORE_DUP_NOTE "), mat_from, mat_to FROM feed ORDER BY name",
	[ST_FEED_DELETE] = "DELETE FROM feed WHERE name = ?1",
	[ST_FEED_FETCHED] = "UPDATE feed SET last_fetch = ?2, "
	    "last_success = CASE WHEN ?3 THEN ?2 ELSE last_success END, "
	    "last_error = CASE WHEN ?3 THEN NULL ELSE ?4 END, "
	    "http_status = ?5, "
	    "failures = CASE WHEN ?3 THEN 0 ELSE failures + 1 END, "
	    "etag = COALESCE(?6, etag), "
	    "last_modified = COALESCE(?7, last_modified) WHERE id = ?1",
	[ST_FEED_INGESTED] = "UPDATE feed SET body_hash = ?2, items = ?3, "
	    "problems = ?4, mat_from = ?5, mat_to = ?6 WHERE id = ?1",
	[ST_FEED_MAT] = "SELECT mat_from, mat_to FROM feed WHERE id = ?1",
	[ST_ZONE_PUT] = "INSERT INTO zone(feed_id, tzid, ical) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT(feed_id, tzid) "
	    "DO UPDATE SET ical = excluded.ical "
	    "WHERE ical IS NOT excluded.ical",
	[ST_ZONE_LIST] = "SELECT tzid, ical FROM zone WHERE feed_id = ?1",
	[ST_ZONE_DELETE_FEED] = "DELETE FROM zone WHERE feed_id = ?1",
	[ST_SERIES_HASHES] = "SELECT id, uid, hash FROM series "
	    "WHERE feed_id = ?1",
	[ST_SERIES_UPSERT] = "INSERT INTO series(feed_id, uid, hash, ical, "
	    "recurring, span_start, span_end, unbounded) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	    "ON CONFLICT(feed_id, uid) DO UPDATE SET hash = excluded.hash, "
	    "ical = excluded.ical, recurring = excluded.recurring, "
	    "span_start = excluded.span_start, span_end = excluded.span_end, "
	    "unbounded = excluded.unbounded RETURNING id",
	[ST_SERIES_DELETE] = "DELETE FROM series WHERE id = ?1",
	[ST_SERIES_COUNT] = "SELECT count(*) FROM series WHERE feed_id = ?1",
	[ST_ITEM_DELETE_SERIES] = "DELETE FROM item WHERE series_id = ?1",
	[ST_ITEM_INSERT] = "INSERT INTO item(series_id, idx, rid, kind, "
	    "sequence, summary, location, description, status, category, "
	    "meeting_type, due, due_all_day, completed, alarms) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
	    "?15)",
	[ST_OCC_DELETE_SERIES] = "DELETE FROM occurrence WHERE series_id = ?1",
	[ST_OCC_INSERT] = "INSERT INTO occurrence(series_id, item_id, "
	    "feed_id, start, end, all_day, rid, rid_all_day, category, kind) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_OCC_MAXLEN] = "SELECT value FROM meta WHERE key = 'max_length'",
	[ST_ITEMS_OF_SERIES] = "SELECT idx, rid, kind, sequence, summary, "
	    "location, description, status, category, meeting_type, due, "
	    "due_all_day, completed, alarms FROM item WHERE series_id = ?1 "
	    "ORDER BY idx",
	[ST_TASKS] = "SELECT s.uid, f.name, f.branch, i.summary, "
	    "i.location, i.description, i.status, i.category, "
	    "i.meeting_type, i.due, i.due_all_day, i.completed, "
	    "o.start, o.end, o.all_day "
	    "FROM item i JOIN series s ON s.id = i.series_id "
	    "JOIN feed f ON f.id = s.feed_id "
	    "LEFT JOIN occurrence o ON o.item_id = i.id "
	    "AND o.rowid = (SELECT min(rowid) FROM occurrence "
	    "WHERE item_id = i.id) "
	    "WHERE i.kind = 1 AND i.rid = '' "
	    "ORDER BY coalesce(i.due, o.start, 9e18), s.uid",
};

/* Statements whose SQL a filter shapes, kept from one query to the next. */
enum store_sq {
	SQ_OCCURRENCES,
	SQ_OUTSIDE,
	SQ__COUNT
};

struct store {
	sqlite3		*db;
	int		 rdonly;
	sqlite3_stmt	*st[ST__COUNT];
	int64_t		 max_length;	/* cached; -1 = unknown */
	sqlite3_stmt	*sq[SQ__COUNT];
	char		*sq_sql[SQ__COUNT];
	int		 sq_busy[SQ__COUNT];
};

/* Errors */

static void
set_cause(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

const char *
store_errmsg(struct store *s)
{
	return sqlite3_errmsg(s->db);
}

sqlite3 *
store_sqlite(struct store *s)
{
	return s->db;
}

sqlite3_stmt *
store_prep_once(struct store *s, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

int
store_run_once(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

void
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Statements */

static sqlite3_stmt *
stmt(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];

	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[id], NULL) != SQLITE_OK)
			return NULL;
		st = s->st[id];
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Run a statement that returns no rows. */
static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static void
bind_text0(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t == NULL ? NULL : xstrdup((const char *)t);
}

static int
exec(struct store *s, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		set_cause(cause, "%s", err != NULL ? err :
		    sqlite3_errmsg(s->db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int
store_begin(struct store *s)
{
	return exec(s, "BEGIN IMMEDIATE", NULL);
}

int
store_commit(struct store *s)
{
	if (exec(s, "COMMIT", NULL) == -1) {
		exec(s, "ROLLBACK", NULL);
		return -1;
	}
	return 0;
}

void
store_rollback(struct store *s)
{
	exec(s, "ROLLBACK", NULL);
}

static int
pragma_int(struct store *s, const char *sql, long long *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Opening and migrating */

/* Whether the database has any table (so is not a fresh file). */
static int
store_has_tables(struct store *s, int *has)
{
	long long n = 0;

	if (pragma_int(s, "SELECT count(*) FROM sqlite_master", &n) == -1)
		return -1;
	*has = n > 0;
	return 0;
}

static int
store_migrate(struct store *s, long long from, char **cause)
{
	long long v;
	size_t i, nmig = sizeof store_migrations / sizeof store_migrations[0];
	char sql[64];

	if (exec(s, "BEGIN IMMEDIATE", cause) == -1)
		return -1;
	for (v = from; v < (long long)nmig; v++) {
		for (i = 0; store_migrations[v][i] != NULL; i++)
			if (exec(s, store_migrations[v][i], cause) == -1)
				goto fail;
	}
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
	    STORE_SCHEMA_VERSION);
	if (exec(s, sql, cause) == -1)
		goto fail;
	snprintf(sql, sizeof sql, "PRAGMA application_id = %d",
	    STORE_APPLICATION_ID);
	if (exec(s, sql, cause) == -1 || exec(s, "COMMIT", cause) == -1)
		goto fail;
	return 0;
fail:
	exec(s, "ROLLBACK", NULL);
	return -1;
}

/* PRAGMA quick_check: 0 when "ok", else -1 with its first finding. */
static int
store_quick_check(struct store *s, const char *path, char **cause)
{
	sqlite3_stmt *st;
	const unsigned char *t;
	const char *what, *nl;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st,
	    NULL) != SQLITE_OK) {
		set_cause(cause, "%s: the database is corrupt (%s); refusing "
		    "to use it", path, sqlite3_errmsg(s->db));
		return -1;
	}
	rc = sqlite3_step(st);
	t = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (t != NULL && strcmp((const char *)t, "ok") == 0) {
		sqlite3_finalize(st);
		return 0;
	}
	/* The finding comes after a line naming the schema ("main"). */
	what = t != NULL ? (const char *)t : sqlite3_errmsg(s->db);
	if (strncmp(what, "*** ", 4) == 0 && (nl = strchr(what, '\n')) != NULL)
		what = nl + 1;
	set_cause(cause, "%s: the database is corrupt (%s); refusing to use "
	    "it: move it away or restore a backup", path, what);
	sqlite3_finalize(st);
	return -1;
}

/* Check that the file is ours and current, migrating an older schema. */
static int
store_check_schema(struct store *s, const char *path, char **cause)
{
	long long appid = 0, version = 0;
	int has = 0;

	if (pragma_int(s, "PRAGMA application_id", &appid) == -1 ||
	    pragma_int(s, "PRAGMA user_version", &version) == -1 ||
	    store_has_tables(s, &has) == -1) {
		set_cause(cause, "%s: not a usable SQLite database: %s", path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	if (has && appid != STORE_APPLICATION_ID) {
		set_cause(cause, "%s: not a djcal database (application_id "
		    "%lld); refusing to touch it", path, appid);
		return -1;
	}
	if (version > STORE_SCHEMA_VERSION) {
		set_cause(cause, "%s: schema version %lld is newer than this "
		    "djcal (%d)", path, version, STORE_SCHEMA_VERSION);
		return -1;
	}
	/*
	 * A damaged file must not be written to: what we wrote would build
	 * on the damage, and a later repair (or a backup restored over it)
	 * should find it as it was.  The header and the schema page read
	 * fine when only a later page is damaged, so read them all: quick_
	 * check is linear in the file's size (once, at start-up) and leaves
	 * out integrity_check's index cross-checks.  Read-only opens (the
	 * CLI, once per command) skip it.
	 */
	if (has && !s->rdonly && store_quick_check(s, path, cause) == -1)
		return -1;
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if (s->rdonly) {
		set_cause(cause, "%s: schema version %lld needs a migration "
		    "that a read-only open cannot do", path, version);
		return -1;
	}
	if (store_migrate(s, version, cause) == -1) {
		char *c = cause != NULL ? *cause : NULL;

		set_cause(cause, "%s: migration failed: %s", path,
		    c != NULL ? c : "?");
		free(c);
		return -1;
	}
	return 0;
}

struct store *
store_open(const char *path, int flags, char **cause)
{
	struct store *s;
	int oflags;
	struct stat sb;

	if ((flags & STORE_RDONLY) && stat(path, &sb) == -1) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->rdonly = (flags & STORE_RDONLY) != 0;
	s->max_length = -1;
	oflags = s->rdonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		set_cause(cause, "%s: %s", path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "cannot open");
		store_close(s);
		return NULL;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	if (store_check_schema(s, path, cause) == -1) {
		store_close(s);
		return NULL;
	}
	if (!s->rdonly &&
	    (exec(s, "PRAGMA journal_mode = WAL", cause) == -1 ||
	    exec(s, "PRAGMA synchronous = NORMAL", cause) == -1)) {
		store_close(s);
		return NULL;
	}
	if (exec(s, "PRAGMA foreign_keys = ON", cause) == -1) {
		store_close(s);
		return NULL;
	}
	return s;
}

void
store_close(struct store *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	for (i = 0; i < SQ__COUNT; i++) {
		sqlite3_finalize(s->sq[i]);
		free(s->sq_sql[i]);
	}
	sqlite3_close(s->db);
	free(s);
}

int
store_integrity(struct store *s, char **cause)
{
	sqlite3_stmt *st;
	const unsigned char *t;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st,
	    NULL) != SQLITE_OK) {
		set_cause(cause, "%s", sqlite3_errmsg(s->db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (t = sqlite3_column_text(st, 0)) != NULL) {
		if (strcmp((const char *)t, "ok") == 0)
			rc = 0;
		else
			set_cause(cause, "%s", (const char *)t);
	} else
		set_cause(cause, "%s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return rc;
}

int
store_set_max_pages(struct store *s, long long pages)
{
	char sql[64];

	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", pages);
	return exec(s, sql, NULL);
}

/* Meta */

char *
store_meta_get(struct store *s, const char *key)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if ((st = stmt(s, ST_META_GET)) == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = col_text(st, 0);
	sqlite3_reset(st);
	return v;
}

int
store_meta_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st;

	if ((st = stmt(s, ST_META_SET)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	bind_text0(st, 2, value);
	return step_done(st);
}

/* Feeds */

void
store_feed_clear(struct store_feed *f)
{
	free(f->name);
	free(f->url);
	free(f->category);
	free(f->branch);
	free(f->kind);
	free(f->etag);
	free(f->last_modified);
	free(f->last_error);
	free(f->problems);
	memset(f, 0, sizeof *f);
}

void
store_feed_list_free(struct store_feed *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_feed_clear(&v[i]);
	free(v);
}

static void
feed_from_row(sqlite3_stmt *st, struct store_feed *f)
{
	memset(f, 0, sizeof *f);
	f->id = sqlite3_column_int64(st, 0);
	f->name = col_text(st, 1);
	f->url = col_text(st, 2);
	f->category = col_text(st, 3);
	f->branch = col_text(st, 4);
	f->kind = col_text(st, 5);
	f->refresh = sqlite3_column_int64(st, 6);
	f->etag = col_text(st, 7);
	f->last_modified = col_text(st, 8);
	f->has_body_hash = sqlite3_column_type(st, 9) != SQLITE_NULL;
	f->body_hash = (uint64_t)sqlite3_column_int64(st, 9);
	f->last_fetch = sqlite3_column_int64(st, 10);
	f->last_success = sqlite3_column_int64(st, 11);
	f->last_error = col_text(st, 12);
	f->http_status = sqlite3_column_int(st, 13);
	f->failures = sqlite3_column_int(st, 14);
	f->items = sqlite3_column_int64(st, 15);
	f->problems = col_text(st, 16);
	f->mat_from = sqlite3_column_int64(st, 17);
	f->mat_to = sqlite3_column_int64(st, 18);
}

int
store_feed_get(struct store *s, const char *name, struct store_feed *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = stmt(s, ST_FEED_GET)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		feed_from_row(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int
store_feed_upsert(struct store *s, const struct store_feed *f, int64_t *id,
    char **cause)
{
	struct store_feed cur;
	sqlite3_stmt *st;
	enum stmt_id which;
	int found;

	if ((found = store_feed_get(s, f->name, &cur)) == -1) {
		set_cause(cause, "%s", sqlite3_errmsg(s->db));
		return -1;
	}
	which = found == 0 ? ST_FEED_UPDATE : ST_FEED_INSERT;
	if (found == 0)
		store_feed_clear(&cur);
	if ((st = stmt(s, which)) == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->url != NULL ? f->url : "", -1,
	    SQLITE_STATIC);
	bind_text0(st, 3, f->category);
	bind_text0(st, 4, f->branch);
	sqlite3_bind_text(st, 5, f->kind != NULL ? f->kind : "events", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, f->refresh);
	if (step_done(st) == -1)
		goto fail;
	if (which == ST_FEED_UPDATE && sqlite3_changes(s->db) > 0 &&
	    store_content_bump(s) == -1)
		goto fail;
	if (store_feed_get(s, f->name, &cur) != 0)
		goto fail;
	*id = cur.id;
	store_feed_clear(&cur);
	return 0;
fail:
	set_cause(cause, "feed %s: %s", f->name, sqlite3_errmsg(s->db));
	return -1;
}

int
store_feed_list(struct store *s, struct store_feed **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((st = stmt(s, ST_FEED_LIST)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		feed_from_row(st, &(*out)[(*n)++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_feed_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
store_feed_delete(struct store *s, const char *name)
{
	sqlite3_stmt *st;

	if ((st = stmt(s, ST_FEED_DELETE)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	s->max_length = -1;
	if (step_done(st) == -1)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return 0;
	return store_content_bump(s) == -1 || store_duplicates_note(s) == -1 ?
	    -1 : 0;
}

int
store_feeds_invalidate(struct store *s)
{
	return exec(s, "UPDATE feed SET mat_from = 0, mat_to = 0, "
	    "body_hash = NULL", NULL);
}

int
store_feed_fetched(struct store *s, int64_t feed_id,
    const struct store_fetch *f)
{
	sqlite3_stmt *st;

	if ((st = stmt(s, ST_FEED_FETCHED)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, feed_id);
	sqlite3_bind_int64(st, 2, f->when);
	sqlite3_bind_int(st, 3, f->ok);
	bind_text0(st, 4, f->error);
	sqlite3_bind_int(st, 5, f->http_status);
	bind_text0(st, 6, f->etag);
	bind_text0(st, 7, f->last_modified);
	return step_done(st);
}

/* Ingest */

/* The stored series of a feed, by UID: id, hash, and whether seen. */
struct known {
	char		*uid;
	int64_t		 id;
	uint64_t	 hash;
	int		 seen;
};

/* SQLite's page cache during an ingest, in KiB (negative: see PRAGMA
 * cache_size); it adds up to this much to the peak RSS. */
#define STORE_INGEST_CACHE	"-16384"

struct store_ingest {
	struct store	*s;
	int64_t		 feed_id;
	int64_t		 mat_from, mat_to;
	int		 same_window;	/* hashes may be trusted */
	struct known	*known;
	size_t		 nknown;
	size_t		*slots;		/* index + 1 */
	size_t		 nslots;
	int64_t		 max_length;
	char		**zones_seen;
	size_t		  nzones;
	int		  content_changed;	/* what an export shows */
	int		  uids_changed;		/* a UID added or removed */
	long long	  cache_size;		/* to restore; 0: unchanged */
};

static uint64_t
str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t
known_slot(struct store_ingest *in, const char *uid)
{
	size_t i = (size_t)str_hash(uid) & (in->nslots - 1);

	while (in->slots[i] != 0 &&
	    strcmp(in->known[in->slots[i] - 1].uid, uid) != 0)
		i = (i + 1) & (in->nslots - 1);
	return i;
}

static struct known *
known_find(struct store_ingest *in, const char *uid)
{
	size_t i;

	if (in->nslots == 0)
		return NULL;
	i = known_slot(in, uid);
	return in->slots[i] == 0 ? NULL : &in->known[in->slots[i] - 1];
}

static int
load_known(struct store_ingest *in)
{
	struct store *s = in->s;
	sqlite3_stmt *st;
	size_t cap = 0, i;
	int rc;

	if ((st = stmt(s, ST_SERIES_HASHES)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, in->feed_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct known *k;

		if (in->nknown == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			in->known = xreallocarray(in->known, cap,
			    sizeof *in->known);
		}
		k = &in->known[in->nknown++];
		k->id = sqlite3_column_int64(st, 0);
		k->uid = col_text(st, 1);
		k->hash = (uint64_t)sqlite3_column_int64(st, 2);
		k->seen = 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	for (in->nslots = 16; in->nslots < in->nknown * 2 + 1;)
		in->nslots *= 2;
	in->slots = xcalloc(in->nslots, sizeof *in->slots);
	for (i = 0; i < in->nknown; i++)
		in->slots[known_slot(in, in->known[i].uid)] = i + 1;
	return 0;
}

static void
ingest_free(struct store_ingest *in)
{
	char sql[64];
	size_t i;

	if (in->cache_size != 0) {
		snprintf(sql, sizeof sql, "PRAGMA cache_size = %lld",
		    in->cache_size);
		exec(in->s, sql, NULL);
		sqlite3_db_release_memory(in->s->db);
	}

	for (i = 0; i < in->nknown; i++)
		free(in->known[i].uid);
	for (i = 0; i < in->nzones; i++)
		free(in->zones_seen[i]);
	free(in->zones_seen);
	free(in->known);
	free(in->slots);
	free(in);
}

struct store_ingest *
store_ingest_begin(struct store *s, int64_t feed_id, int64_t mat_from,
    int64_t mat_to, char **cause)
{
	struct store_ingest *in;
	sqlite3_stmt *st;

	if (s->rdonly) {
		set_cause(cause, "database is read-only");
		return NULL;
	}
	if ((st = stmt(s, ST_BEGIN)) == NULL || step_done(st) == -1) {
		set_cause(cause, "begin: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	in = xcalloc(1, sizeof *in);
	in->s = s;
	/*
	 * A large body writes more pages than SQLite's default cache (2 MB)
	 * holds, and the index on occurrence start takes them in random
	 * order: each page was spilled to the WAL and read back many times
	 * (a quarter of the CPU time of a 100,000-event ingest went to
	 * pwrite and pread).  The ingest gets a larger cache, which grows
	 * only as pages are used; ingest_free gives it back.
	 */
	if (pragma_int(s, "PRAGMA cache_size", &in->cache_size) == 0 &&
	    exec(s, "PRAGMA cache_size = " STORE_INGEST_CACHE, NULL) == -1)
		in->cache_size = 0;
	in->feed_id = feed_id;
	in->mat_from = mat_from;
	in->mat_to = mat_to;
	if ((st = stmt(s, ST_FEED_MAT)) != NULL) {
		sqlite3_bind_int64(st, 1, feed_id);
		if (sqlite3_step(st) == SQLITE_ROW)
			in->same_window = sqlite3_column_int64(st, 0) ==
			    mat_from && sqlite3_column_int64(st, 1) == mat_to;
		sqlite3_reset(st);
	}
	if (load_known(in) == -1) {
		set_cause(cause, "%s", sqlite3_errmsg(s->db));
		store_ingest_abort(in);
		return NULL;
	}
	return in;
}

int
store_ingest_zone(struct store_ingest *in, const char *tzid, const char *ical,
    size_t len)
{
	sqlite3_stmt *st;
	size_t i;

	/* Of two VTIMEZONEs with one TZID the first counts, as in tzmap. */
	for (i = 0; i < in->nzones; i++)
		if (strcmp(in->zones_seen[i], tzid) == 0)
			return 0;
	if ((st = stmt(in->s, ST_ZONE_PUT)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, in->feed_id);
	sqlite3_bind_text(st, 2, tzid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ical, (int)len, SQLITE_STATIC);
	if (step_done(st) == -1)
		return -1;
	if (sqlite3_changes(in->s->db) > 0)
		in->content_changed = 1;
	in->zones_seen = xreallocarray(in->zones_seen, in->nzones + 1,
	    sizeof *in->zones_seen);
	in->zones_seen[in->nzones++] = xstrdup(tzid);
	return 0;
}

int
store_ingest_unchanged(struct store_ingest *in, const char *uid,
    uint64_t hash)
{
	struct known *k;

	if (!in->same_window || (k = known_find(in, uid)) == NULL ||
	    k->hash != hash)
		return 0;
	k->seen = 1;
	return 1;
}

int
store_ingest_same_window(const struct store_ingest *in)
{
	return in->same_window;
}

int
store_ingest_unseen(struct store_ingest *in,
    int (*cb)(const char *uid, const char *ical, void *), void *arg)
{
	sqlite3_stmt *st;
	size_t i;
	char *uid, *ical;
	int rc = 0;

	if (sqlite3_prepare_v2(in->s->db, "SELECT uid, ical FROM series "
	    "WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	/* cb may store the series (which marks it seen): copy, reset, call. */
	for (i = 0; i < in->nknown && rc == 0; i++) {
		if (in->known[i].seen)
			continue;
		sqlite3_bind_int64(st, 1, in->known[i].id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			continue;
		}
		uid = col_text(st, 0);
		ical = col_text(st, 1);
		sqlite3_reset(st);
		if (uid != NULL && ical != NULL)
			rc = cb(uid, ical, arg);
		free(uid);
		free(ical);
	}
	sqlite3_finalize(st);
	return rc;
}

static int
insert_items(struct store_ingest *in, int64_t sid,
    const struct store_series *ser, int64_t *ids)
{
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < ser->nitems; i++) {
		const struct store_item *it = &ser->items[i];

		if ((st = stmt(in->s, ST_ITEM_INSERT)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_int(st, 2, it->idx);
		sqlite3_bind_text(st, 3, it->rid != NULL ? it->rid : "", -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(st, 4, it->kind);
		sqlite3_bind_int(st, 5, it->sequence);
		bind_text0(st, 6, it->summary);
		bind_text0(st, 7, it->location);
		bind_text0(st, 8, it->description);
		bind_text0(st, 9, it->status);
		sqlite3_bind_int(st, 10, it->category);
		sqlite3_bind_int(st, 11, it->meeting_type);
		if (it->has_due)
			sqlite3_bind_int64(st, 12, it->due);
		sqlite3_bind_int(st, 13, it->due_all_day);
		if (it->has_completed)
			sqlite3_bind_int64(st, 14, it->completed);
		bind_text0(st, 15, it->alarms);
		if (step_done(st) == -1)
			return -1;
		ids[i] = sqlite3_last_insert_rowid(in->s->db);
	}
	return 0;
}

static int
insert_occs(struct store_ingest *in, int64_t sid,
    const struct store_series *ser, const int64_t *ids)
{
	sqlite3_stmt *st;
	size_t i, j;

	for (i = 0; i < ser->nocc; i++) {
		const struct store_occ *o = &ser->occs[i];
		const struct store_item *it = NULL;
		int64_t item_id = 0;

		for (j = 0; j < ser->nitems; j++)
			if (ser->items[j].idx == o->item) {
				it = &ser->items[j];
				item_id = ids[j];
				break;
			}
		if (it == NULL)
			continue;
		if ((st = stmt(in->s, ST_OCC_INSERT)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_int64(st, 2, item_id);
		sqlite3_bind_int64(st, 3, in->feed_id);
		sqlite3_bind_int64(st, 4, o->start);
		sqlite3_bind_int64(st, 5, o->end);
		sqlite3_bind_int(st, 6, o->all_day);
		if (o->has_rid)
			sqlite3_bind_int64(st, 7, o->rid);
		sqlite3_bind_int(st, 8, o->rid_all_day);
		sqlite3_bind_int(st, 9, it->category);
		sqlite3_bind_int(st, 10, it->kind);
		if (step_done(st) == -1)
			return -1;
		if (o->end - o->start > in->max_length)
			in->max_length = o->end - o->start;
	}
	return 0;
}

/* Whether a stored series shows differently now: new text, or the same
 * text classified into other categories (the aliases changed). */
static int
series_changed(struct store_ingest *in, const struct known *k,
    const struct store_series *ser)
{
	unsigned old, now = 0;
	size_t i;

	if (k->hash != ser->hash)
		return 1;
	for (i = 0; i < ser->nitems; i++)
		now |= 1u << ser->items[i].category;
	return store_series_categories(in->s, k->id, &old) == -1 || old != now;
}

int
store_ingest_series(struct store_ingest *in, const struct store_series *ser)
{
	struct store *s = in->s;
	struct known *k;
	sqlite3_stmt *st;
	int64_t sid, *ids;
	int rc;

	if ((k = known_find(in, ser->uid)) != NULL) {
		k->seen = 1;
		if (!in->content_changed && series_changed(in, k, ser))
			in->content_changed = 1;
		if ((st = stmt(s, ST_OCC_DELETE_SERIES)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, k->id);
		if (step_done(st) == -1)
			return -1;
		if ((st = stmt(s, ST_ITEM_DELETE_SERIES)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, k->id);
		if (step_done(st) == -1)
			return -1;
	} else
		in->content_changed = in->uids_changed = 1;
	if ((st = stmt(s, ST_SERIES_UPSERT)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, in->feed_id);
	sqlite3_bind_text(st, 2, ser->uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)ser->hash);
	sqlite3_bind_text(st, 4, ser->ical, (int)ser->icallen, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, ser->recurring);
	sqlite3_bind_int64(st, 6, ser->span_start);
	sqlite3_bind_int64(st, 7, ser->span_end);
	sqlite3_bind_int(st, 8, ser->unbounded);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return -1;
	}
	sid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	ids = xcalloc(ser->nitems + 1, sizeof *ids);
	rc = insert_items(in, sid, ser, ids);
	if (rc == 0)
		rc = insert_occs(in, sid, ser, ids);
	free(ids);
	return rc;
}

/* Remove what the body no longer has: series not seen, zones not seen. */
static int
remove_unseen(struct store_ingest *in, int64_t *removed)
{
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < in->nknown; i++) {
		if (in->known[i].seen)
			continue;
		if ((st = stmt(in->s, ST_SERIES_DELETE)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, in->known[i].id);
		if (step_done(st) == -1)
			return -1;
		(*removed)++;
		in->content_changed = in->uids_changed = 1;
	}
	if (in->nzones == 0) {
		if ((st = stmt(in->s, ST_ZONE_DELETE_FEED)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, in->feed_id);
		if (step_done(st) == -1)
			return -1;
		if (sqlite3_changes(in->s->db) > 0)
			in->content_changed = 1;
	}
	return 0;
}

static int
update_max_length(struct store *s, int64_t len)
{
	char buf[32];
	int64_t cur = store_max_length(s);

	if (len <= cur)
		return 0;
	snprintf(buf, sizeof buf, "%lld", (long long)len);
	s->max_length = len;
	return store_meta_set(s, "max_length", buf);
}

int
store_ingest_commit(struct store_ingest *in, const struct store_ingest_end *e,
    int64_t *items, int64_t *removed, char **cause)
{
	struct store *s = in->s;
	sqlite3_stmt *st;
	int64_t n = 0, rm = 0;

	if (e->complete && remove_unseen(in, &rm) == -1)
		goto fail;
	if ((st = stmt(s, ST_SERIES_COUNT)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, in->feed_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if ((st = stmt(s, ST_FEED_INGESTED)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, in->feed_id);
	sqlite3_bind_int64(st, 2, (int64_t)e->body_hash);
	sqlite3_bind_int64(st, 3, n);
	bind_text0(st, 4, e->problems);
	sqlite3_bind_int64(st, 5, in->mat_from);
	sqlite3_bind_int64(st, 6, in->mat_to);
	if (step_done(st) == -1)
		goto fail;
	if (update_max_length(s, in->max_length) == -1)
		goto fail;
	if (in->content_changed && store_content_bump(s) == -1)
		goto fail;
	if (in->uids_changed && store_duplicates_note(s) == -1)
		goto fail;
	if ((st = stmt(s, ST_COMMIT)) == NULL || step_done(st) == -1)
		goto fail;
	if (items != NULL)
		*items = n;
	if (removed != NULL)
		*removed = rm;
	ingest_free(in);
	return 0;
fail:
	set_cause(cause, "%s", sqlite3_errmsg(s->db));
	s->max_length = -1;
	store_ingest_abort(in);
	return -1;
}

void
store_ingest_abort(struct store_ingest *in)
{
	sqlite3_stmt *st;

	if (in == NULL)
		return;
	if ((st = stmt(in->s, ST_ROLLBACK)) != NULL)
		step_done(st);
	in->s->max_length = -1;
	ingest_free(in);
}

/* Reading */

int64_t
store_max_length(struct store *s)
{
	sqlite3_stmt *st;

	if (s->max_length >= 0)
		return s->max_length;
	s->max_length = 0;
	if ((st = stmt(s, ST_OCC_MAXLEN)) == NULL)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		s->max_length = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return s->max_length;
}

/* A LIKE pattern that matches text containing s literally. */
static char *
like_pattern(const char *s)
{
	size_t n = strlen(s), i;
	char *p, *o;

	p = o = xmalloc(n * 2 + 3);
	*o++ = '%';
	for (i = 0; i < n; i++) {
		if (s[i] == '%' || s[i] == '_' || s[i] == '\\')
			*o++ = '\\';
		*o++ = s[i];
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

/* Append " AND category IN (...)" style filters; binds from index 10. */
static void
filter_sql(char *buf, size_t len, const struct store_filter *f,
    const char *occ, const char *item)
{
	char cats[64] = "", kinds[32] = "";
	size_t off;
	int i;

	if (f->categories != 0) {
		off = 0;
		for (i = 0; i < DJ_CAT_COUNT; i++)
			if (f->categories & (1u << i))
				off += (size_t)snprintf(cats + off,
				    sizeof cats - off, "%s%d", off ? "," : "",
				    i);
	}
	if (f->kinds != 0) {
		off = 0;
		for (i = 0; i <= DJ_KIND_TASK; i++)
			if (f->kinds & (1u << i))
				off += (size_t)snprintf(kinds + off,
				    sizeof kinds - off, "%s%d", off ? "," : "",
				    i);
	}
	snprintf(buf, len, "%s%s%s%s%s%s%s%s%s%s",
	    f->categories != 0 ? " AND " : "",
	    f->categories != 0 ? occ : "",
	    f->categories != 0 ? ".category IN (" : "",
	    f->categories != 0 ? cats : "",
	    f->categories != 0 ? ")" : "",
	    f->kinds != 0 ? " AND " : "",
	    f->kinds != 0 ? occ : "",
	    f->kinds != 0 ? ".kind IN (" : "",
	    f->kinds != 0 ? kinds : "",
	    f->kinds != 0 ? ")" : "");
	off = strlen(buf);
	snprintf(buf + off, len - off, "%s%s",
	    f->feed != NULL ? " AND f.name = ?11" : "",
	    f->branch != NULL ? " AND f.branch = ?12" : "");
	off = strlen(buf);
	if (f->search != NULL && item != NULL)
		snprintf(buf + off, len - off, " AND (%s.summary LIKE ?13 "
		    "ESCAPE '\\' OR %s.location LIKE ?13 ESCAPE '\\' OR "
		    "%s.description LIKE ?13 ESCAPE '\\')", item, item, item);
}

static void
filter_bind(sqlite3_stmt *st, const struct store_filter *f, char *pattern)
{
	if (f->feed != NULL)
		sqlite3_bind_text(st, 11, f->feed, -1, SQLITE_STATIC);
	if (f->branch != NULL)
		sqlite3_bind_text(st, 12, f->branch, -1, SQLITE_STATIC);
	if (pattern != NULL)
		sqlite3_bind_text(st, 13, pattern, -1, SQLITE_STATIC);
}

static const char *
col_str(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/*
 * The statement for sql in slot i: the one prepared for the last query when
 * its SQL is the same, else a new one.  Preparing was an eighth of the time
 * of an `upcoming` of 50 occurrences.  A slot in use (a callback that
 * queries again) gets a statement of its own.  Give it back with sq_done.
 */
static sqlite3_stmt *
sq_get(struct store *s, enum store_sq i, const char *sql)
{
	sqlite3_stmt *st;

	if (s->sq_busy[i]) {
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
			sqlite3_finalize(st);
			return NULL;
		}
		return st;
	}
	if (s->sq[i] == NULL || strcmp(s->sq_sql[i], sql) != 0) {
		sqlite3_finalize(s->sq[i]);
		free(s->sq_sql[i]);
		s->sq_sql[i] = NULL;
		if (sqlite3_prepare_v2(s->db, sql, -1, &s->sq[i], NULL) !=
		    SQLITE_OK) {
			sqlite3_finalize(s->sq[i]);
			s->sq[i] = NULL;
			return NULL;
		}
		s->sq_sql[i] = xstrdup(sql);
	}
	s->sq_busy[i] = 1;
	return s->sq[i];
}

static void
sq_done(struct store *s, enum store_sq i, sqlite3_stmt *st)
{
	if (st != s->sq[i]) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	s->sq_busy[i] = 0;
}

int
store_occurrences(struct store *s, const struct store_filter *f,
    store_occ_cb cb, void *arg)
{
	char where[1024], sql[2048], *pattern = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	filter_sql(where, sizeof where, f, "o", "i");
	/*
	 * Overlap of [start, end) with [from, to); a zero-length occurrence
	 * counts when it starts in the window.  The lower bound on start lets
	 * the index on start do the work: nothing lasts longer than
	 * max_length.  A recurring series' rows count only inside its
	 * feed's window (query.c expands the rest): a window emptied by
	 * store_feeds_invalidate must not show them next to the expansion.
	 */
	snprintf(sql, sizeof sql,
	    "SELECT s.uid, f.name, f.branch, i.summary, i.location, "
	    "i.description, i.status, o.kind, o.category, i.meeting_type, "
	    "o.start, o.end, o.all_day, o.rid, o.rid_all_day, i.due, "
	    "i.due_all_day, i.completed, i.alarms "
	    "FROM occurrence o JOIN item i ON i.id = o.item_id "
	    "JOIN series s ON s.id = o.series_id "
	    "JOIN feed f ON f.id = o.feed_id "
	    "WHERE o.start >= ?1 AND o.start < ?3 "
	    "AND (o.end > ?2 OR (o.end = o.start AND o.start >= ?2)) "
	    "AND (s.recurring = 0 OR (o.start >= f.mat_from AND "
	    "o.start < f.mat_to))%s "
	    "ORDER BY o.start, f.name, s.uid, o.rid%s",
	    where, f->limit > 0 ? " LIMIT ?4" : "");
	if ((st = sq_get(s, SQ_OCCURRENCES, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, f->from - store_max_length(s));
	sqlite3_bind_int64(st, 2, f->from);
	sqlite3_bind_int64(st, 3, f->to);
	if (f->limit > 0)
		sqlite3_bind_int64(st, 4, (int64_t)f->limit);
	if (f->search != NULL)
		pattern = like_pattern(f->search);
	filter_bind(st, f, pattern);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dj_occurrence o;

		memset(&o, 0, sizeof o);
		o.uid = (char *)col_str(st, 0);
		o.feed = (char *)col_str(st, 1);
		o.branch = (char *)col_str(st, 2);
		o.summary = (char *)col_str(st, 3);
		o.location = (char *)col_str(st, 4);
		o.description = (char *)col_str(st, 5);
		o.status = (char *)col_str(st, 6);
		o.kind = (enum dj_kind)sqlite3_column_int(st, 7);
		o.category = (enum dj_category)sqlite3_column_int(st, 8);
		o.meeting_type = (enum dj_meeting)sqlite3_column_int(st, 9);
		o.start = sqlite3_column_int64(st, 10);
		o.end = sqlite3_column_int64(st, 11);
		o.all_day = sqlite3_column_int(st, 12);
		o.has_rid = sqlite3_column_type(st, 13) != SQLITE_NULL;
		o.rid = sqlite3_column_int64(st, 13);
		o.rid_all_day = sqlite3_column_int(st, 14);
		o.has_due = sqlite3_column_type(st, 15) != SQLITE_NULL;
		o.due = sqlite3_column_int64(st, 15);
		o.due_all_day = sqlite3_column_int(st, 16);
		o.has_completed = sqlite3_column_type(st, 17) != SQLITE_NULL;
		o.completed = sqlite3_column_int64(st, 17);
		o.alarms = (char *)col_str(st, 18);
		n++;
		if (cb(&o, arg) != 0)
			break;
	}
	sq_done(s, SQ_OCCURRENCES, st);
	free(pattern);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Items of a series, for on-the-fly expansion. */
static int
load_items(struct store *s, int64_t sid, struct store_item **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((st = stmt(s, ST_ITEMS_OF_SERIES)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, sid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_item *it;

		if (*n == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		it = &(*out)[(*n)++];
		memset(it, 0, sizeof *it);
		it->idx = sqlite3_column_int(st, 0);
		it->rid = col_text(st, 1);
		it->kind = (enum dj_kind)sqlite3_column_int(st, 2);
		it->sequence = sqlite3_column_int(st, 3);
		it->summary = col_text(st, 4);
		it->location = col_text(st, 5);
		it->description = col_text(st, 6);
		it->status = col_text(st, 7);
		it->category = (enum dj_category)sqlite3_column_int(st, 8);
		it->meeting_type = (enum dj_meeting)sqlite3_column_int(st, 9);
		it->has_due = sqlite3_column_type(st, 10) != SQLITE_NULL;
		it->due = sqlite3_column_int64(st, 10);
		it->due_all_day = sqlite3_column_int(st, 11);
		it->has_completed = sqlite3_column_type(st, 12) != SQLITE_NULL;
		it->completed = sqlite3_column_int64(st, 12);
		it->alarms = col_text(st, 13);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
free_items(struct store_item *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free((char *)v[i].rid);
		free((char *)v[i].summary);
		free((char *)v[i].location);
		free((char *)v[i].description);
		free((char *)v[i].status);
		free((char *)v[i].alarms);
	}
	free(v);
}

int
store_series_outside(struct store *s, const struct store_filter *f,
    store_series_cb cb, void *arg)
{
	char where[1024], sql[2048];
	struct store_filter ff = *f;
	sqlite3_stmt *st;
	int rc;

	/*
	 * Feeds first (CROSS JOIN fixes the order): a feed whose window
	 * holds [from, to) is passed over before any of its series is read.
	 * Left to itself SQLite scanned every series (100 MB of text for
	 * 160,000 of them) for each `upcoming`, to find none.
	 */
	/* Category and kind live on items: filter them after expansion. */
	ff.categories = 0;
	ff.kinds = 0;
	ff.search = NULL;
	filter_sql(where, sizeof where, &ff, "s", NULL);
	snprintf(sql, sizeof sql,
	    "SELECT s.id, s.feed_id, f.name, f.branch, s.uid, s.ical, "
	    "f.mat_from, f.mat_to FROM feed f CROSS JOIN series s ON "
	    "s.feed_id = f.id WHERE s.recurring = 1 "
	    "AND s.span_start < ?3 AND (s.unbounded OR s.span_end > ?2) "
	    "AND NOT (f.mat_from <= ?1 AND f.mat_to >= ?3)%s "
	    "ORDER BY s.id", where);
	if ((st = sq_get(s, SQ_OUTSIDE, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, f->from - store_max_length(s));
	sqlite3_bind_int64(st, 2, f->from);
	sqlite3_bind_int64(st, 3, f->to);
	filter_bind(st, &ff, NULL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_series_row row;
		struct store_item *items;
		size_t nitems;
		int stop;

		memset(&row, 0, sizeof row);
		row.id = sqlite3_column_int64(st, 0);
		row.feed_id = sqlite3_column_int64(st, 1);
		row.feed = col_str(st, 2);
		row.branch = col_str(st, 3);
		row.uid = col_str(st, 4);
		row.ical = col_str(st, 5);
		row.mat_from = sqlite3_column_int64(st, 6);
		row.mat_to = sqlite3_column_int64(st, 7);
		if (load_items(s, row.id, &items, &nitems) == -1) {
			rc = SQLITE_ERROR;
			break;
		}
		row.items = items;
		row.nitems = nitems;
		stop = cb(&row, arg);
		free_items(items, nitems);
		if (stop != 0)
			break;
	}
	sq_done(s, SQ_OUTSIDE, st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
store_zones(struct store *s, int64_t feed_id,
    int (*cb)(const char *, const char *, void *), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = stmt(s, ST_ZONE_LIST)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, feed_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb(col_str(st, 0), col_str(st, 1), arg) != 0)
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
store_tasks(struct store *s, store_occ_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = stmt(s, ST_TASKS)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dj_occurrence o;

		memset(&o, 0, sizeof o);
		o.kind = DJ_KIND_TASK;
		o.uid = (char *)col_str(st, 0);
		o.feed = (char *)col_str(st, 1);
		o.branch = (char *)col_str(st, 2);
		o.summary = (char *)col_str(st, 3);
		o.location = (char *)col_str(st, 4);
		o.description = (char *)col_str(st, 5);
		o.status = (char *)col_str(st, 6);
		o.category = (enum dj_category)sqlite3_column_int(st, 7);
		o.meeting_type = (enum dj_meeting)sqlite3_column_int(st, 8);
		o.has_due = sqlite3_column_type(st, 9) != SQLITE_NULL;
		o.due = sqlite3_column_int64(st, 9);
		o.due_all_day = sqlite3_column_int(st, 10);
		o.has_completed = sqlite3_column_type(st, 11) != SQLITE_NULL;
		o.completed = sqlite3_column_int64(st, 11);
		o.start = sqlite3_column_int64(st, 12);
		o.end = sqlite3_column_int64(st, 13);
		o.all_day = sqlite3_column_int(st, 14);
		if (sqlite3_column_type(st, 12) == SQLITE_NULL && o.has_due) {
			o.start = o.end = o.due;
			o.all_day = o.due_all_day;
		}
		if (cb(&o, arg) != 0)
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}
