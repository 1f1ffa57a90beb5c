/*
 * The store's reminder outbox: pushed messages with their seq, and which
 * (occurrence, lead, due) reminders were sent or skipped.  Part of the store
 * module (the only place that speaks SQL); these statements run a few times
 * a minute at most, so they are prepared per call.
 */
#include <stdlib.h>
#include <string.h>

#include "djcal/remind.h"
#include "djcal/store.h"
#include "djcal/xmalloc.h"
#include "store_int.h"

int
store_msg_add(struct store *s, const char *type, int64_t now,
    const char *feed, const char *branch, int category, int64_t *seq)
{
	sqlite3_stmt *st;

	st = store_prep_once(s, "INSERT INTO message(type, created, feed, branch, "
	    "category, body) VALUES (?1, ?2, ?3, ?4, ?5, '')");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	store_bind_text(st, 3, feed);
	store_bind_text(st, 4, branch);
	if (category >= 0)
		sqlite3_bind_int(st, 5, category);
	if (store_run_once(st) == -1)
		return -1;
	*seq = sqlite3_last_insert_rowid(store_sqlite(s));
	return 0;
}

int
store_msg_set_body(struct store *s, int64_t seq, const char *body)
{
	sqlite3_stmt *st;

	if ((st = store_prep_once(s, "UPDATE message SET body = ?2 WHERE seq = ?1")) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, body, -1, SQLITE_TRANSIENT);
	return store_run_once(st);
}

int64_t
store_msg_latest(struct store *s)
{
	sqlite3_stmt *st;
	int64_t seq = 0;

	/* sqlite_sequence remembers the last seq even when messages were
	 * pruned; it has no row before the first message. */
	st = store_prep_once(s, "SELECT max(coalesce((SELECT seq FROM sqlite_sequence "
	    "WHERE name = 'message'), 0), coalesce((SELECT max(seq) FROM "
	    "message), 0))");
	if (st == NULL)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return seq;
}

int
store_msg_since(struct store *s, int64_t since, size_t limit,
    int (*cb)(const struct store_msg *, void *), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	st = store_prep_once(s, "SELECT seq, type, created, feed, branch, category, body "
	    "FROM message WHERE seq > ?1 ORDER BY seq LIMIT ?2");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, limit == 0 ? -1 : (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_msg m;

		m.seq = sqlite3_column_int64(st, 0);
		m.type = (const char *)sqlite3_column_text(st, 1);
		m.created = sqlite3_column_int64(st, 2);
		m.feed = (const char *)sqlite3_column_text(st, 3);
		m.branch = (const char *)sqlite3_column_text(st, 4);
		m.category = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 5);
		m.body = (const char *)sqlite3_column_text(st, 6);
		if (cb(&m, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
store_msg_prune(struct store *s, int64_t before)
{
	sqlite3_stmt *st;

	if ((st = store_prep_once(s, "DELETE FROM message WHERE created < ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, before);
	if (store_run_once(st) == -1)
		return -1;
	if ((st = store_prep_once(s, "DELETE FROM reminder WHERE end < ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, before);
	return store_run_once(st);
}

static void
bind_okey(sqlite3_stmt *st, const struct store_okey *k)
{
	sqlite3_bind_text(st, 1, k->feed, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, k->okey);
}

int
store_reminder_done(struct store *s, const struct store_okey *k,
    const char *lead, int64_t due)
{
	sqlite3_stmt *st;
	int rc;

	st = store_prep_once(s, "SELECT 1 FROM reminder WHERE feed = ?1 AND uid = ?2 "
	    "AND okey = ?3 AND lead = ?4 AND due = ?5");
	if (st == NULL)
		return -1;
	bind_okey(st, k);
	sqlite3_bind_text(st, 4, lead, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, due);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
store_reminder_put(struct store *s, const struct store_okey *k,
    const char *lead, int64_t due, enum store_reminder_state state,
    int64_t seq, int64_t start, int64_t end)
{
	sqlite3_stmt *st;

	st = store_prep_once(s, "INSERT OR REPLACE INTO reminder(feed, uid, okey, lead, "
	    "due, state, seq, start, end) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	    "?8, ?9)");
	if (st == NULL)
		return -1;
	bind_okey(st, k);
	sqlite3_bind_text(st, 4, lead, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, due);
	sqlite3_bind_int(st, 6, state);
	if (state == STORE_REMINDER_SENT)
		sqlite3_bind_int64(st, 7, seq);
	sqlite3_bind_int64(st, 8, start);
	sqlite3_bind_int64(st, 9, end);
	return store_run_once(st);
}

int
store_sent_since(struct store *s, int64_t since,
    int (*cb)(const struct store_sent *, void *), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	/* One row per occurrence: its latest recorded times.  Rows of feed
	 * "" are compliance warnings, not occurrences. */
	st = store_prep_once(s, "SELECT feed, uid, okey, start, end, max(followup), "
	    "(SELECT max(r.seq) FROM reminder r WHERE r.feed = reminder.feed "
	    "AND r.uid = reminder.uid AND r.okey = reminder.okey AND "
	    "r.state = 1) "
	    "FROM reminder WHERE state = 1 AND end >= ?1 AND feed <> '' "
	    "GROUP BY feed, uid, okey");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_sent x;

		x.key.feed = (const char *)sqlite3_column_text(st, 0);
		x.key.uid = (const char *)sqlite3_column_text(st, 1);
		x.key.okey = sqlite3_column_int64(st, 2);
		x.start = sqlite3_column_int64(st, 3);
		x.end = sqlite3_column_int64(st, 4);
		x.followup = sqlite3_column_int(st, 5);
		x.seq = sqlite3_column_int64(st, 6);
		if (cb(&x, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
store_sent_update(struct store *s, const struct store_okey *k, int64_t start,
    int64_t end, int followup)
{
	sqlite3_stmt *st;

	st = store_prep_once(s, "UPDATE reminder SET start = ?4, end = ?5, "
	    "followup = ?6 WHERE feed = ?1 AND uid = ?2 AND okey = ?3");
	if (st == NULL)
		return -1;
	bind_okey(st, k);
	sqlite3_bind_int64(st, 4, start);
	sqlite3_bind_int64(st, 5, end);
	sqlite3_bind_int(st, 6, followup);
	return store_run_once(st);
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t == NULL ? NULL : xstrdup((const char *)t);
}

int
store_occurrence_find(struct store *s, const struct store_okey *k,
    struct dj_occurrence *o)
{
	sqlite3_stmt *st;
	int rc;

	/* A single item has one occurrence (rid NULL); an instance is found
	 * by its rid. */
	st = store_prep_once(s, "SELECT s.uid, f.name, f.branch, i.summary, i.location, "
	    "i.description, i.status, o.kind, o.category, i.meeting_type, "
	    "o.start, o.end, o.all_day, o.rid, o.rid_all_day, i.alarms, "
	    "i.due, i.due_all_day, i.completed "
	    "FROM occurrence o JOIN item i ON i.id = o.item_id "
	    "JOIN series s ON s.id = o.series_id "
	    "JOIN feed f ON f.id = o.feed_id "
	    "WHERE f.name = ?1 AND s.uid = ?2 AND "
	    "(CASE WHEN o.rid IS NULL THEN 0 ELSE o.rid END) = ?3 "
	    "ORDER BY o.start LIMIT 1");
	if (st == NULL)
		return -1;
	bind_okey(st, k);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(o, 0, sizeof *o);
		o->uid = col_dup(st, 0);
		o->feed = col_dup(st, 1);
		o->branch = col_dup(st, 2);
		o->summary = col_dup(st, 3);
		o->location = col_dup(st, 4);
		o->description = col_dup(st, 5);
		o->status = col_dup(st, 6);
		o->kind = (enum dj_kind)sqlite3_column_int(st, 7);
		o->category = (enum dj_category)sqlite3_column_int(st, 8);
		o->meeting_type = (enum dj_meeting)sqlite3_column_int(st, 9);
		o->start = sqlite3_column_int64(st, 10);
		o->end = sqlite3_column_int64(st, 11);
		o->all_day = sqlite3_column_int(st, 12);
		o->has_rid = sqlite3_column_type(st, 13) != SQLITE_NULL;
		o->rid = sqlite3_column_int64(st, 13);
		o->rid_all_day = sqlite3_column_int(st, 14);
		o->alarms = col_dup(st, 15);
		o->has_due = sqlite3_column_type(st, 16) != SQLITE_NULL;
		o->due = sqlite3_column_int64(st, 16);
		o->due_all_day = sqlite3_column_int(st, 17);
		o->has_completed = sqlite3_column_type(st, 18) != SQLITE_NULL;
		o->completed = sqlite3_column_int64(st, 18);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int
store_alarm_reach(struct store *s, int64_t *before, int64_t *after)
{
	sqlite3_stmt *st;
	int rc;

	st = store_prep_once(s, "SELECT DISTINCT alarms FROM item WHERE alarms IS NOT "
	    "NULL");
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);

		while (p != NULL && *p != '\0') {
			char kind = *p++, *end;
			long long x = strtoll(p, &end, 10);

			if (end == p)
				break;
			p = *end == ',' ? end + 1 : end;
			if (kind == 'A') {
				*before = *after = REMIND_MAX_LEAD;
				continue;
			}
			if (x < 0 && -x > *before)
				*before = -x;
			if (x > 0 && x > *after)
				*after = x;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
