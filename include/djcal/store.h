/*
 * The store: SQLite, and the only module that speaks SQL.  Everything else
 * asks it in domain terms (feeds, series, occurrences), so another backend
 * is one more file.
 *
 * Data model: a feed holds series (all components of one UID); a series
 * holds items (its components, keyed by feed, UID and RECURRENCE-ID) and
 * the occurrences materialised for the feed's window [mat_from, mat_to).
 * Occurrences of a recurring series outside that window are expanded on
 * the fly by query.c from the series' iCalendar text; an item that does
 * not recur is always materialised.
 */
#ifndef DJCAL_STORE_H
#define DJCAL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "djcal/occ.h"

#define STORE_SCHEMA_VERSION	3

enum store_flags {
	STORE_RDONLY = 1	/* the CLI's --db: never writes */
};

struct store;

/*
 * Open (and create or migrate) a database.  Refuses, leaving the file as it
 * is, a file that is not a djcal database, a corrupt one, and one from a
 * newer djcal.  NULL with *cause on failure (caller frees).
 */
struct store	*store_open(const char *path, int flags, char **cause);
void		 store_close(struct store *);
/* The last SQLite error message of this connection.  Borrowed. */
const char	*store_errmsg(struct store *);
/* Run PRAGMA integrity_check; 0 when "ok", else -1 with *cause. */
int		 store_integrity(struct store *, char **cause);
/* Limit the database's size in pages (tests of a full disk). */
int		 store_set_max_pages(struct store *, long long pages);

/* A write transaction around several calls (BEGIN IMMEDIATE); commit
 * rolls back when it fails.  0 or -1. */
int		 store_begin(struct store *);
int		 store_commit(struct store *);
void		 store_rollback(struct store *);

/* Key-value settings the CLI's --db path needs (e.g. "timezone"). */
char		*store_meta_get(struct store *, const char *key);
int		 store_meta_set(struct store *, const char *key,
		    const char *value);

/* Feeds and their health */

struct store_feed {
	int64_t		 id;
	char		*name;
	char		*url;		/* credentials removed */
	char		*category;	/* category name or NULL */
	char		*branch;
	char		*kind;		/* "events" or "holidays" */
	int64_t		 refresh;	/* seconds */
	char		*etag;
	char		*last_modified;
	uint64_t	 body_hash;
	int		 has_body_hash;
	int64_t		 last_fetch;	/* 0 = never */
	int64_t		 last_success;	/* 0 = never */
	char		*last_error;	/* NULL after a success */
	int		 http_status;	/* 0 = not http, or no answer */
	int		 failures;	/* consecutive */
	int64_t		 items;		/* series held */
	char		*problems;	/* last ingest's skipped parts */
	int64_t		 mat_from, mat_to;
};

/* Create the feed or update its settings; *id gets its id. */
int		 store_feed_upsert(struct store *, const struct store_feed *,
		    int64_t *id, char **cause);
/* 0 and *out filled (caller clears), 1 when there is no such feed, -1. */
int		 store_feed_get(struct store *, const char *name,
		    struct store_feed *out);
/* Every feed, by name. Caller frees with store_feed_list_free. */
int		 store_feed_list(struct store *, struct store_feed **out,
		    size_t *n);
void		 store_feed_clear(struct store_feed *);
void		 store_feed_list_free(struct store_feed *, size_t n);
/* Forget every feed's materialised window and body hash, so the next
 * body of each is read in full (the zone or aliases changed). */
int		 store_feeds_invalidate(struct store *);
/* Remove a feed and everything it holds. */
int		 store_feed_delete(struct store *, const char *name);

/* What one fetch attempt found out. */
struct store_fetch {
	int64_t		 when;
	int		 ok;		/* fetched (or unchanged) and usable */
	const char	*error;		/* when !ok */
	int		 http_status;
	const char	*etag;		/* NULL: keep the stored one */
	const char	*last_modified;
};

/* Record a fetch attempt in the feed's health (not its items). */
int		 store_feed_fetched(struct store *, int64_t feed_id,
		    const struct store_fetch *);

/* Ingest: one transaction per feed body */

struct store_item {		/* one component */
	int		 idx;		/* its position in the series text */
	const char	*rid;		/* RECURRENCE-ID as written; "" master */
	enum dj_kind	 kind;
	int		 sequence;
	const char	*summary, *location, *description, *status;
	enum dj_category category;
	enum dj_meeting	 meeting_type;
	int		 has_due;
	int64_t		 due;
	int		 due_all_day;
	int		 has_completed;
	int64_t		 completed;
	const char	*alarms;	/* encoded VALARM triggers, or NULL */
};

struct store_occ {
	int		 item;		/* idx of the item it takes its
					   properties from */
	int64_t		 start, end;
	int		 all_day;
	int		 has_rid;
	int64_t		 rid;
	int		 rid_all_day;
};

struct store_series {
	const char		*uid;
	const char		*ical;	/* the components' source text */
	size_t			 icallen;
	uint64_t		 hash;
	int			 recurring;
	int64_t			 span_start, span_end;
	int			 unbounded;
	const struct store_item	*items;
	size_t			 nitems;
	const struct store_occ	*occs;
	size_t			 nocc;
};

struct store_ingest;

/*
 * Begin the ingest of a body for a feed, materialising [mat_from, mat_to).
 * When the feed was last materialised for the same window, a series whose
 * hash is unchanged is left as it is.
 */
struct store_ingest *store_ingest_begin(struct store *, int64_t feed_id,
		    int64_t mat_from, int64_t mat_to, char **cause);
/* Store a VTIMEZONE of the feed. */
int		 store_ingest_zone(struct store_ingest *, const char *tzid,
		    const char *ical, size_t len);
/* 1 when the feed already holds this UID with this hash (it is kept and
 * counted as seen), 0 when it must be stored with store_ingest_series. */
int		 store_ingest_unchanged(struct store_ingest *, const char *uid,
		    uint64_t hash);
/* Store (insert or replace) one series with its items and occurrences. */
int		 store_ingest_series(struct store_ingest *,
		    const struct store_series *);
/* Whether the feed was last materialised for this ingest's window. */
int		 store_ingest_same_window(const struct store_ingest *);
/*
 * Each series the feed holds that this ingest has neither stored nor found
 * unchanged: cb(uid, its iCalendar text, arg), strings borrowed for the
 * call; cb may store it.  A nonzero cb result stops the walk and is
 * returned.  (An incomplete body keeps such series; when the window moved
 * they must be expanded again.)
 */
int		 store_ingest_unseen(struct store_ingest *,
		    int (*cb)(const char *uid, const char *ical, void *),
		    void *arg);

struct store_ingest_end {
	int		 complete;	/* the body was whole: remove what it
					   no longer has */
	uint64_t	 body_hash;
	const char	*problems;	/* NULL when none */
};

/* Commit; *items gets the number of series the feed now holds, *removed
 * the number removed.  On failure everything is rolled back (-1, *cause). */
int		 store_ingest_commit(struct store_ingest *,
		    const struct store_ingest_end *, int64_t *items,
		    int64_t *removed, char **cause);
/* Roll back and free. */
void		 store_ingest_abort(struct store_ingest *);

/* Reading */

struct store_filter {
	int64_t		 from, to;	/* [from, to) */
	unsigned	 categories;	/* 1 << enum dj_category; 0 = all */
	unsigned	 kinds;		/* 1 << enum dj_kind; 0 = all */
	const char	*feed;		/* NULL = all */
	const char	*branch;	/* NULL = all */
	const char	*search;	/* substring of summary, location or
					   description; NULL = none */
	size_t		 limit;		/* 0 = all */
};

/* Called per occurrence; strings are borrowed for the call only.  Return
 * nonzero to stop. */
typedef int	(*store_occ_cb)(const struct dj_occurrence *, void *arg);

/*
 * The materialised occurrences that overlap the window (start order; at
 * most filter->limit).  A recurring series' occurrences count only inside
 * its feed's window; query.c adds those outside it.
 */
int		 store_occurrences(struct store *, const struct store_filter *,
		    store_occ_cb, void *arg);

/* A recurring series that may have occurrences in a window outside its
 * feed's materialised window.  Borrowed for the call. */
struct store_series_row {
	int64_t		 id;
	int64_t		 feed_id;
	const char	*feed;
	const char	*branch;
	const char	*uid;
	const char	*ical;
	int64_t		 mat_from, mat_to;
	const struct store_item *items;	/* strings borrowed */
	size_t		 nitems;
};

typedef int	(*store_series_cb)(const struct store_series_row *, void *);

/* Each recurring series (matching the filter's feed, branch, categories)
 * whose span meets [from, to) where that range is not inside its feed's
 * materialised window. */
int		 store_series_outside(struct store *,
		    const struct store_filter *, store_series_cb, void *arg);

/* The VTIMEZONEs of a feed: cb(tzid, ical, arg). */
int		 store_zones(struct store *, int64_t feed_id,
		    int (*cb)(const char *, const char *, void *), void *arg);

/* Tasks: each VTODO master (start = DTSTART or DUE). */
int		 store_tasks(struct store *, store_occ_cb, void *arg);

/* Longest occurrence held, in seconds (an upper bound). */
int64_t		 store_max_length(struct store *);

/* The ICS export (store_export.c) */

/*
 * The content version: it changes (in the same transaction) whenever
 * anything an export shows changes: a series' text or categories, a series,
 * zone or feed removed, a feed's branch.  Never repeats across databases.
 * 0 on error.
 */
uint64_t	 store_content_version(struct store *);

/* One series as its feed wrote it.  Strings borrowed for the call. */
struct store_export_row {
	int64_t		 feed_id;
	const char	*feed;
	const char	*branch;	/* NULL when none */
	const char	*uid;
	const char	*ical;		/* the components, CRLF line ends */
	size_t		 icallen;
	unsigned	 categories;	/* 1 << enum dj_category of its items */
};

typedef int	(*store_export_cb)(const struct store_export_row *, void *);

/*
 * Each series of the filter's feed and branch (NULL: all) that has an item
 * in one of the filter's categories (0: all), by feed id, then UID.  The
 * filter's window, kinds, search and limit are ignored.  Return nonzero
 * from cb to stop.
 */
int		 store_export_series(struct store *, const struct store_filter *,
		    store_export_cb, void *arg);

typedef int	(*store_dup_cb)(const char *uid, const char *feed,
		    const char *first_feed, void *arg);

/* Each UID that a feed shares with an earlier one (lower id, i.e. added to
 * the database first): the later copy is left out of merged exports, and
 * the feed's `problems` say so. */
int		 store_duplicates(struct store *, store_dup_cb, void *arg);

/* The reminder outbox (store_msg.c) */

/* A pushed message as stored: its seq, and what subscribers filter on. */
struct store_msg {
	int64_t		 seq;
	const char	*type;		/* reminder, changed, cancelled, warning */
	int64_t		 created;
	const char	*feed;		/* NULL for messages of no feed */
	const char	*branch;
	int		 category;	/* enum dj_category, or -1 */
	const char	*body;		/* the JSON object, with its seq */
};

/*
 * Append a message and give it the next seq (*seq); its body is set with
 * store_msg_set_body once it names the seq.  Use inside store_begin and
 * store_commit to record it together with its reminder.
 */
int		 store_msg_add(struct store *, const char *type, int64_t now,
		    const char *feed, const char *branch, int category,
		    int64_t *seq);
int		 store_msg_set_body(struct store *, int64_t seq,
		    const char *body);
/* The highest seq so far (0 when none). */
int64_t		 store_msg_latest(struct store *);
/* Each message with seq > since, in order, at most limit (0: all); the
 * callback's strings are borrowed for the call; nonzero stops. */
int		 store_msg_since(struct store *, int64_t since, size_t limit,
		    int (*cb)(const struct store_msg *, void *), void *arg);
/* Forget messages created before `before` (their seqs are never reused). */
int		 store_msg_prune(struct store *, int64_t before);

/*
 * Widen *before and *after to how far the stored VALARMs reach before and
 * after their occurrence's start or end (an absolute trigger counts as
 * reaching REMIND_MAX_LEAD both ways).  0 or -1.
 */
int		 store_alarm_reach(struct store *, int64_t *before,
		    int64_t *after);

/* The key of one occurrence for reminders: a recurring instance by its
 * RECURRENCE-ID, a single item by its UID alone (so a moved single event
 * keeps its key). */
struct store_okey {
	const char	*feed;
	const char	*uid;
	int64_t		 okey;		/* the rid, or 0 for a single item */
};

enum store_reminder_state {
	STORE_REMINDER_SENT = 1,
	STORE_REMINDER_SKIPPED = 2
};

/* 1 when (occurrence, lead, due) was already sent or skipped, 0 if not,
 * -1 on error. */
int		 store_reminder_done(struct store *, const struct store_okey *,
		    const char *lead, int64_t due);
/* Record (occurrence, lead, due) as sent (with its message) or skipped,
 * with the occurrence's times as they were. */
int		 store_reminder_put(struct store *, const struct store_okey *,
		    const char *lead, int64_t due, enum store_reminder_state,
		    int64_t seq, int64_t start, int64_t end);

/* A sent reminder's occurrence, as recorded. */
struct store_sent {
	struct store_okey key;
	int64_t		 start, end;
	int		 followup;	/* 1: its cancellation was announced */
	int64_t		 seq;		/* its last reminder's message */
};

/* Each distinct occurrence with a sent reminder whose recorded end is at or
 * after `since` (strings borrowed for the call; nonzero stops). */
int		 store_sent_since(struct store *, int64_t since,
		    int (*cb)(const struct store_sent *, void *), void *arg);
/* After a changed/cancelled message: record the occurrence's new times
 * (changed) or mark it announced (cancelled). */
int		 store_sent_update(struct store *, const struct store_okey *,
		    int64_t start, int64_t end, int followup);
/* The stored (materialised) occurrence with this key: 0 and *out filled
 * (caller clears), 1 when there is none, -1 on error. */
int		 store_occurrence_find(struct store *, const struct store_okey *,
		    struct dj_occurrence *out);

/* Attendance (store_branch.c) */

/* A member's check-in (or leave) for one occurrence, keyed like a
 * reminder so that it survives feed updates. */
struct store_checkin {
	struct store_okey key;
	int64_t		 start, end;	/* the occurrence's, when recorded */
	int		 all_day;
	const char	*member;
	int		 kind;		/* 1 present, 2 leave */
	const char	*reason;	/* a leave's, or NULL */
	int64_t		 created;
	const char	*summary;
	int		 category;
};

/* Record (or replace) a member's check-in for an occurrence. */
int		 store_checkin_put(struct store *, const struct store_checkin *);
/* The check-ins of one occurrence, by member (borrowed for the call). */
int		 store_checkins_of(struct store *, const struct store_okey *,
		    int (*cb)(const struct store_checkin *, void *), void *arg);
/* The check-ins of occurrences that started in [from, to). */
int		 store_checkins_between(struct store *, int64_t from,
		    int64_t to, int (*cb)(const struct store_checkin *, void *),
		    void *arg);

#endif
