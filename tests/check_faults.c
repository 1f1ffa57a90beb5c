/*
 * Storage faults (issue 9): a full disk, corrupt and foreign database
 * files, and databases from older schema versions.
 *
 *  - Full: the store is limited to the pages it uses after a first ingest
 *    (store_set_max_pages; SQLite's max_page_count), and a bigger body
 *    that also changes every old item is applied through feed_apply, as
 *    the daemon does.  It fails cleanly: every item of the first body is
 *    still there as it was, the feed's health says "database or disk is
 *    full", and the same body goes in once there is room again.
 *  - Refused: a file that is not SQLite, one with a damaged first page, a
 *    later page or a missing tail, another program's SQLite database (in
 *    either journal mode) and a djcal database from a newer version are
 *    refused by store_open with a message naming the file, and each is
 *    left byte for byte as it was, without a -wal, -shm or -journal file.
 *  - Migrated: databases built by hand with the exact statements of
 *    schema v1 and v2 (as djcal 0.1 shipped them; copied here, not taken
 *    from store.c, so that a later edit there cannot hide a break) open as
 *    the current version with their rows kept.
 *
 * tests/it/faults.sh does the same through the real djcald.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/feed.h"
#include "djcal/query.h"
#include "djcal/store.h"
#include "djcal/tz.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

/* 2026-12-01T00:00:00+08:00 and a day later. */
#define NOW0		((time_t)1796054400)
#define NOW1		(NOW0 + 86400)
/* The window all generated events fall in: 2026-12-01 .. 2028-12-01. */
#define WIN_FROM	NOW0
#define WIN_TO		(NOW0 + 731 * 86400LL)

#define FIRST_N		40	/* events of the first body */
#define BIG_N		400	/* of the bigger one */

static char *tmpdir;
static char *dbpath;
static struct config *cfg;
static struct classifier *cls;
static struct store *store;

/* Helpers (also for later crash-safety tests) */

/*
 * A feed body of n events, one a day from 2026-12-02 at 09:00 Shanghai
 * time, UIDs "ev-<i>@example.org", summaries "<tag> <i>", and a
 * description of pad bytes so that a body can be made to need room.
 * Caller frees.
 */
static char *
make_body(int n, const char *tag, size_t pad)
{
	char *body = NULL, *p, *desc;
	size_t len = 0, cap = 0, need;
	int i, y, m, d;
	long long day;

	desc = xmalloc(pad + 1);
	memset(desc, 'x', pad);
	desc[pad] = '\0';
	for (i = -1; i <= n; i++) {
		if (i == -1)
			xasprintf(&p, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
			    "PRODID:-//djcal//check_faults//ZH\r\n");
		else if (i == n)
			xasprintf(&p, "END:VCALENDAR\r\n");
		else {
			day = tz_days_from_civil(2026, 12, 2) + i;
			tz_civil_from_days(day, &y, &m, &d);
			xasprintf(&p, "BEGIN:VEVENT\r\nUID:ev-%d@example.org\r\n"
			    "DTSTAMP:20261101T000000Z\r\n"
			    "DTSTART;TZID=Asia/Shanghai:%04d%02d%02dT090000\r\n"
			    "DURATION:PT1H\r\nSUMMARY:%s %d\r\n"
			    "CATEGORIES:学习\r\nDESCRIPTION:%s\r\n"
			    "END:VEVENT\r\n", i, y, m, d, tag, i, desc);
		}
		need = strlen(p);
		if (len + need + 1 > cap) {
			cap = (len + need + 1) * 2;
			body = xrealloc(body, cap);
		}
		memcpy(body + len, p, need + 1);
		len += need;
		free(p);
	}
	free(desc);
	return body;
}

/* Apply a body to feed "study" as the daemon does; feed_apply's result. */
static int
apply(const char *body, time_t now, char **error)
{
	struct feed_env fe;
	struct feed_result r;
	const struct config_feed *cf = config_feed_find(cfg, "study");
	int rc;

	ck_assert_ptr_nonnull(cf);
	memset(&fe, 0, sizeof fe);
	fe.store = store;
	fe.cfg = cfg;
	fe.classifier = cls;
	fe.zone = tz_system(cfg->timezone);
	rc = feed_apply(&fe, cf, now, body, strlen(body), 0, NULL, NULL, &r);
	if (error != NULL)
		*error = r.error != NULL ? xstrdup(r.error) : NULL;
	feed_result_clear(&r);
	return rc;
}

/*
 * Check that the store lists exactly events 0..n-1 in the window, each
 * with the summary "<tag> <i>".
 */
static void
expect_events(struct store *s, int n, const char *tag)
{
	struct store_filter f;
	struct dj_occ_list l;
	char *cause = NULL, want[64];
	int *seen, i, k;
	size_t j;

	memset(&f, 0, sizeof f);
	f.from = WIN_FROM;
	f.to = WIN_TO;
	memset(&l, 0, sizeof l);
	ck_assert_msg(query_upcoming(s, &f, &l, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(l.n, (size_t)n);
	seen = xcalloc((size_t)n, sizeof *seen);
	for (j = 0; j < l.n; j++) {
		ck_assert_int_eq(sscanf(l.v[j].uid, "ev-%d@", &k), 1);
		ck_assert_int_ge(k, 0);
		ck_assert_int_lt(k, n);
		ck_assert_int_eq(seen[k], 0);
		seen[k] = 1;
		snprintf(want, sizeof want, "%s %d", tag, k);
		ck_assert_str_eq(l.v[j].summary, want);
	}
	for (i = 0; i < n; i++)
		ck_assert_msg(seen[i], "ev-%d is missing", i);
	free(seen);
	occ_list_free(&l);
}

/* Run SQL on a database file with a connection of our own. */
static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK,
	    "%s: %s", sql, err != NULL ? err : "?");
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

/* An integer from a one-value query on a database file. */
static long long
sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int
exists(const char *path, const char *suffix)
{
	struct stat sb;
	char *p;
	int rc;

	xasprintf(&p, "%s%s", path, suffix);
	rc = stat(p, &sb) == 0;
	free(p);
	return rc;
}

/* Open must fail naming the file and saying `why`, and leave it as it
 * was: the same bytes, no journal, WAL or shared-memory file. */
static void
expect_refused(const char *path, const char *why)
{
	struct store *s;
	char *before, *after, *cause = NULL;
	size_t blen, alen;

	ck_assert_ptr_nonnull(before = tu_read(path, &blen));
	s = store_open(path, 0, &cause);
	ck_assert_msg(s == NULL, "%s was opened", path);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strncmp(cause, path, strlen(path)) == 0 &&
	    strstr(cause, why) != NULL, "cause \"%s\": want the path and "
	    "\"%s\"", cause, why);
	free(cause);
	ck_assert_ptr_nonnull(after = tu_read(path, &alen));
	ck_assert_uint_eq(alen, blen);
	ck_assert_msg(memcmp(before, after, blen) == 0, "%s changed", path);
	ck_assert_msg(!exists(path, "-wal"), "%s-wal left behind", path);
	ck_assert_msg(!exists(path, "-shm"), "%s-shm left behind", path);
	ck_assert_msg(!exists(path, "-journal"), "%s-journal left behind",
	    path);
	free(before);
	free(after);
}

/* Fixture: a config with one file feed, and a store with it. */

static const char config_text[] =
    "[daemon]\n"
    "database = djcal.db\n"
    "timezone = Asia/Shanghai\n"
    "\n"
    "[feed study]\n"
    "url = study.ics\n"
    "category = study\n"
    "branch = 机关党支部\n";

static void
open_store(void)
{
	char *cause = NULL;

	store = store_open(dbpath, 0, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	ck_assert_msg(feed_sync_config(store, cfg, &cause) == 0, "%s", cause);
}

static void
setup(void)
{
	char *path, *cause = NULL;

	icalerror_set_errors_are_fatal(0);
	tmpdir = tu_mkdtemp();
	path = tu_write_str(tmpdir, "djcald.conf", config_text);
	ck_assert_msg(config_load(path, &cfg, &cause) == 0, "%s", cause);
	free(path);
	dbpath = xstrdup(cfg->database);
	cls = feed_classifier_new(cfg);
	store = NULL;
}

static void
teardown(void)
{
	store_close(store);
	store = NULL;
	classifier_free(cls);
	config_free(cfg);
	free(dbpath);
	tu_rmtree(tmpdir);
	free(tmpdir);
}

/* A full disk */

START_TEST(test_full_disk_keeps_last_good)
{
	struct store_feed sf;
	char *first, *big, *error = NULL, *cause = NULL;

	open_store();
	first = make_body(FIRST_N, "支部学习", 64);
	ck_assert_int_eq(apply(first, NOW0, NULL), 0);
	expect_events(store, FIRST_N, "支部学习");

	/* No page beyond those in use now (SQLite will not go below). */
	ck_assert_int_eq(store_set_max_pages(store, 1), 0);
	big = make_body(BIG_N, "改期学习", 2048);
	ck_assert_int_eq(apply(big, NOW1, &error), -1);
	ck_assert_ptr_nonnull(error);
	ck_assert_msg(strstr(error, "database or disk is full") != NULL,
	    "error \"%s\"", error);
	free(error);

	/* The last good data, all of it, unchanged. */
	expect_events(store, FIRST_N, "支部学习");
	ck_assert_int_eq(store_feed_get(store, "study", &sf), 0);
	ck_assert_ptr_nonnull(sf.last_error);
	ck_assert_msg(strstr(sf.last_error, "database or disk is full") !=
	    NULL, "last_error \"%s\"", sf.last_error);
	ck_assert_int_eq(sf.failures, 1);
	ck_assert_int_eq(sf.items, FIRST_N);
	ck_assert_int_eq(sf.last_fetch, NOW1);
	ck_assert_int_eq(sf.last_success, NOW0);
	store_feed_clear(&sf);
	ck_assert_msg(store_integrity(store, &cause) == 0, "%s", cause);

	/* Room again: the same body goes in, and the health clears. */
	ck_assert_int_eq(store_set_max_pages(store, 1LL << 30), 0);
	ck_assert_int_eq(apply(big, NOW1 + 60, NULL), 0);
	expect_events(store, BIG_N, "改期学习");
	ck_assert_int_eq(store_feed_get(store, "study", &sf), 0);
	ck_assert_ptr_null(sf.last_error);
	ck_assert_int_eq(sf.failures, 0);
	ck_assert_int_eq(sf.items, BIG_N);
	store_feed_clear(&sf);
	free(first);
	free(big);
}
END_TEST

/* Files that are refused */

/* A djcal database holding the first body, closed (WAL checkpointed). */
static void
make_good_db(void)
{
	char *body = make_body(FIRST_N, "支部学习", 512);

	open_store();
	ck_assert_int_eq(apply(body, NOW0, NULL), 0);
	store_close(store);
	store = NULL;
	free(body);
	ck_assert(!exists(dbpath, "-wal"));
}

/* Overwrite len bytes at off with a pattern (or cut the file there). */
static void
damage(off_t off, size_t len, int truncate_it)
{
	FILE *f;
	char *junk;

	if (truncate_it) {
		ck_assert_int_eq(truncate(dbpath, off), 0);
		return;
	}
	junk = xmalloc(len);
	memset(junk, 'Z', len);
	ck_assert_ptr_nonnull(f = fopen(dbpath, "r+b"));
	ck_assert_int_eq(fseeko(f, off, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(junk, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(junk);
}

static const struct {
	const char	*what;
	off_t		 off;		/* -1: a file of random bytes */
	size_t		 len;
	int		 truncate;
	const char	*why;
} corruptions[] = {
	{ "not SQLite", -1, 0, 0, "not a usable SQLite database" },
	{ "first page", 100, 3000, 0, "not a usable SQLite database" },
	{ "a later page", 5 * 4096, 4096, 0, "the database is corrupt" },
	{ "the last page", -2, 4096, 0, "the database is corrupt" },
	{ "cut short", -3, 0, 1, "" },
};

START_TEST(test_corrupt_refused)
{
	struct stat sb;
	unsigned char junk[65536];
	size_t i;
	off_t off;
	char *p;

	if (corruptions[_i].off == -1) {
		srand(9);
		for (i = 0; i < sizeof junk; i++)
			junk[i] = (unsigned char)rand();
		free(tu_write(tmpdir, "djcal.db", junk, sizeof junk));
	} else {
		make_good_db();
		ck_assert_int_eq(stat(dbpath, &sb), 0);
		ck_assert_int_ge(sb.st_size, 8 * 4096);
		off = corruptions[_i].off;
		if (off == -2)
			off = sb.st_size - 4096;
		else if (off == -3)
			off = sb.st_size / 2;
		damage(off, corruptions[_i].len, corruptions[_i].truncate);
	}
	/* A database cut short reads as damaged at whatever page it ends. */
	expect_refused(dbpath, corruptions[_i].why);
	p = tu_read(dbpath, NULL);
	free(p);
}
END_TEST

/* Another program's SQLite database, in rollback and in WAL mode. */
START_TEST(test_foreign_refused)
{
	sql_exec(dbpath, _i == 0 ? "PRAGMA journal_mode = DELETE" :
	    "PRAGMA journal_mode = WAL");
	sql_exec(dbpath, "CREATE TABLE contacts (name TEXT, phone TEXT);"
	    "INSERT INTO contacts VALUES ('张三', '13800000000')");
	ck_assert(!exists(dbpath, "-wal"));
	expect_refused(dbpath, "not a djcal database");
}
END_TEST

START_TEST(test_newer_refused)
{
	char sql[64];

	make_good_db();
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
	    STORE_SCHEMA_VERSION + 1);
	sql_exec(dbpath, sql);
	expect_refused(dbpath, "newer than this djcal");
}
END_TEST

/* Older schema versions */

/* Schema v1 exactly as src/store.c created it (djcal 0.1, issue 2). */
static const char schema_v1[] =
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT"
	") WITHOUT ROWID;"
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
	");"
	"CREATE TABLE zone ("
	"  feed_id INTEGER NOT NULL REFERENCES feed(id) ON DELETE CASCADE,"
	"  tzid TEXT NOT NULL,"
	"  ical TEXT NOT NULL,"
	"  PRIMARY KEY (feed_id, tzid)"
	") WITHOUT ROWID;"
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
	");"
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
	");"
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
	");"
	"CREATE INDEX occurrence_start ON occurrence(start);"
	"CREATE INDEX occurrence_series ON occurrence(series_id);"
	"CREATE INDEX item_series ON item(series_id);";

/* v2 as it added the reminder outbox (issue 5). */
static const char schema_v2[] =
	"CREATE TABLE message ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  type TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  feed TEXT,"
	"  branch TEXT,"
	"  category INTEGER,"
	"  body TEXT NOT NULL"
	");"
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
	") WITHOUT ROWID;"
	"CREATE INDEX reminder_start ON reminder(start);";

/*
 * One feed with one single event, as djcal 0.1 stored it: 2026-12-08
 * 15:00-16:30 Shanghai time (1796713200), study, branch committee.
 */
static const char data_v1[] =
	"INSERT INTO meta VALUES ('timezone', 'Asia/Shanghai');"
	"INSERT INTO feed (id, name, url, category, branch, refresh, "
	"  body_hash, last_fetch, last_success, items, mat_from, mat_to) "
	"  VALUES (1, 'study', '/srv/study.ics', 'study', '机关党支部', 900, "
	"  12345, 1796000000, 1796000000, 1, 1761000000, 1831000000);"
	"INSERT INTO series VALUES (1, 1, 'zhibu@example.org', 99, "
	"  'BEGIN:VEVENT' || char(13, 10) || 'UID:zhibu@example.org' || "
	"  char(13, 10) || 'DTSTART;TZID=Asia/Shanghai:20261208T150000' || "
	"  char(13, 10) || 'DTEND;TZID=Asia/Shanghai:20261208T163000' || "
	"  char(13, 10) || 'SUMMARY:12月支委会' || char(13, 10) || "
	"  'END:VEVENT' || char(13, 10), 0, 1796713200, 1796718600, 0);"
	"INSERT INTO item (id, series_id, idx, rid, kind, sequence, summary, "
	"  location, category, meeting_type) VALUES (1, 1, 0, '', 0, 0, "
	"  '12月支委会', '三楼会议室', 0, 1);"
	"INSERT INTO occurrence VALUES (1, 1, 1, 1796713200, 1796718600, 0, "
	"  NULL, 0, 0, 0);";

static const char data_v2[] =
	"INSERT INTO message VALUES (7, 'reminder', 1796626800, 'study', "
	"  '机关党支部', 0, '{\"type\":\"reminder\",\"seq\":7}');"
	"INSERT INTO reminder VALUES ('study', 'zhibu@example.org', 0, "
	"  '1d', 1796626800, 1, 7, 1796713200, 1796718600, 0);";

/* Build a database of schema version v (1 or 2) by hand. */
static void
make_old_db(int v)
{
	char *sql;

	xasprintf(&sql, "PRAGMA journal_mode = WAL; BEGIN; %s %s %s %s "
	    "PRAGMA user_version = %d; PRAGMA application_id = %d; COMMIT",
	    schema_v1, data_v1, v >= 2 ? schema_v2 : "", v >= 2 ? data_v2 : "",
	    v, 0x646a636c);
	sql_exec(dbpath, sql);
	free(sql);
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"), v);
}

static int
count_msg(const struct store_msg *m, void *arg)
{
	ck_assert_int_eq(m->seq, 7);
	ck_assert_str_eq(m->body, "{\"type\":\"reminder\",\"seq\":7}");
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_migrate_old_schema)
{
	struct store_feed sf;
	struct store_filter f;
	struct dj_occ_list l;
	struct store_okey key;
	struct store_checkin ci;
	char *cause = NULL;
	int v = _i, n = 0;

	make_old_db(v);
	/* Through the store: migrated on open, everything still there. */
	store = store_open(dbpath, 0, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	ck_assert_msg(store_integrity(store, &cause) == 0, "%s", cause);
	ck_assert_int_eq(store_feed_get(store, "study", &sf), 0);
	ck_assert_str_eq(sf.branch, "机关党支部");
	ck_assert_int_eq(sf.items, 1);
	ck_assert_int_eq(sf.last_success, 1796000000);
	ck_assert(sf.has_body_hash && sf.body_hash == 12345);
	store_feed_clear(&sf);
	memset(&f, 0, sizeof f);
	f.from = NOW0;
	f.to = NOW0 + 30 * 86400;
	memset(&l, 0, sizeof l);
	ck_assert_msg(query_upcoming(store, &f, &l, &cause) == 0, "%s",
	    cause);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0].uid, "zhibu@example.org");
	ck_assert_str_eq(l.v[0].summary, "12月支委会");
	ck_assert_str_eq(l.v[0].location, "三楼会议室");
	ck_assert_int_eq(l.v[0].start, 1796713200);
	ck_assert_int_eq(l.v[0].meeting_type, DJ_MT_BRANCH_COMMITTEE);
	occ_list_free(&l);
	memset(&key, 0, sizeof key);
	key.feed = "study";
	key.uid = "zhibu@example.org";
	if (v >= 2) {
		ck_assert_int_eq(store_msg_latest(store), 7);
		ck_assert_int_eq(store_msg_since(store, 0, 0, count_msg, &n),
		    0);
		ck_assert_int_eq(n, 1);
		ck_assert_int_eq(store_reminder_done(store, &key, "1d",
		    1796626800), 1);
	}
	/* What the newer versions added works. */
	memset(&ci, 0, sizeof ci);
	ci.key = key;
	ci.start = 1796713200;
	ci.end = 1796718600;
	ci.member = "张三";
	ci.kind = 1;
	ci.created = NOW0;
	ci.summary = "12月支委会";
	ci.category = DJ_CAT_STUDY;
	ck_assert_int_eq(store_checkin_put(store, &ci), 0);
	store_close(store);
	store = NULL;
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM checkin"), 1);
}
END_TEST

static Suite *
faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc;

	tc = tcase_create("full");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_disk_keeps_last_good);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_corrupt_refused, 0,
	    sizeof corruptions / sizeof corruptions[0]);
	tcase_add_loop_test(tc, test_foreign_refused, 0, 2);
	tcase_add_test(tc, test_newer_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("migrate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_migrate_old_schema, 1,
	    STORE_SCHEMA_VERSION);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(faults_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
