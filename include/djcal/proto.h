/*
 * The wire protocol (docs/PROTOCOL.md): one JSON object per line each way,
 * encoded and decoded with jansson.  Shared by the daemon, the CLI and the
 * tests; no I/O here.
 */
#ifndef DJCAL_PROTO_H
#define DJCAL_PROTO_H

#include <time.h>

#include <jansson.h>

#include "djcal/occ.h"
#include "djcal/store.h"
#include "djcal/tz.h"

/* Bumped when a reply changes incompatibly; reported by ping. */
#define PROTO_VERSION		1

enum proto_err {
	PROTO_E_BAD_REQUEST,
	PROTO_E_NOT_FOUND,
	PROTO_E_FORBIDDEN,
	PROTO_E_TOO_LARGE,
	PROTO_E_INTERNAL,
	PROTO_E_BUSY		/* too many connections from the peer's uid */
};

/* "bad_request", "not_found", ... */
const char	*proto_err_code(enum proto_err);

/*
 * A time as the protocol writes it: RFC 3339 with the zone's offset
 * ("2026-12-01T09:00:00+08:00"), or "YYYY-MM-DD" for a date (the instant is
 * the date's midnight in the zone).  Caller frees.
 */
char		*proto_format_time(time_t, int is_date, const struct tz *);
/*
 * Parse RFC 3339 ("...Z", "...+08:00", fractional seconds ignored),
 * "YYYY-MM-DDTHH:MM[:SS]" and "YYYY-MM-DD HH:MM[:SS]" (wall clock in zone),
 * or "YYYY-MM-DD" (midnight in zone; *is_date set).  0 or -1.
 */
int		 proto_parse_time(const char *, const struct tz *, time_t *,
		    int *is_date);

/* A feed's health as the feeds op lists it (SPEC section 5); next_fetch
 * 0 for none.  New reference. */
json_t		*proto_feed_json(const struct store_feed *, time_t next_fetch,
		    const struct tz *);

/* An occurrence as a JSON object (SPEC section 5).  New reference. */
json_t		*proto_occurrence_json(const struct dj_occurrence *,
		    const struct tz *);
/* Read an occurrence back (the CLI over the socket).  0, or -1 with
 * *cause.  The caller clears *out with occ_clear. */
int		 proto_occurrence_from_json(json_t *, const struct tz *,
		    struct dj_occurrence *out, char **cause);

/* {"ok":false,"error":{"code":..,"message":..}} with the request's id
 * when given.  New reference. */
json_t		*proto_error(json_t *id, enum proto_err, const char *message);
/* {"ok":true} with the request's id when given.  New reference. */
json_t		*proto_ok(json_t *id);
/* One line of output: compact JSON and '\n'.  Caller frees. */
char		*proto_dump_line(json_t *);

/*
 * Reading requests (the server side, used by ctl.c).  Each helper reads one
 * field of a request object; an absent field and a JSON null are the same.
 * On a wrong type or a bad value they return -1 with *cause, a message for
 * a bad_request reply that names the field ("from: not a time: \"x\"").
 */

/* A string field: *out borrowed from req, NULL when absent.  0 or -1. */
int		 proto_field_string(json_t *req, const char *key,
		    const char **out, char **cause);
/* A time field (proto_parse_time in zone z); *present is 0 when absent. */
int		 proto_field_time(json_t *req, const char *key,
		    const struct tz *z, time_t *out, int *present,
		    char **cause);
/* An integer field in [0, max]; *out untouched when absent.  0 or -1. */
int		 proto_field_uint(json_t *req, const char *key,
		    unsigned long long max, unsigned long long *out,
		    char **cause);
/* The years a `year` field may name. */
#define PROTO_YEAR_MIN		1900
#define PROTO_YEAR_MAX		9999

/* A year field: an integer from PROTO_YEAR_MIN to PROTO_YEAR_MAX; when
 * absent, the year of now in zone z.  0 or -1 with *cause. */
int		 proto_field_year(json_t *req, const char *key,
		    const struct tz *z, time_t now, int *year, char **cause);
/* An array of category names as a mask of 1 << enum dj_category; 0 when
 * absent (all categories).  0 or -1. */
int		 proto_field_categories(json_t *req, const char *key,
		    unsigned *mask, char **cause);

/* Which fields proto_request_filter reads. */
#define PROTO_FILTER_WINDOW	0x1	/* from, to, search, limit */

/*
 * The filter of an `upcoming` or `export` request: category, feed, branch,
 * and with PROTO_FILTER_WINDOW also from (default now), to (default from +
 * 7 days; must be after from), search and limit.  Strings are borrowed
 * from req.  0, or -1 with *cause.
 */
int		 proto_request_filter(json_t *req, int fields,
		    const struct tz *z, time_t now, struct store_filter *f,
		    char **cause);
/*
 * A printable copy of s for a message: at most max bytes (cut on a
 * character boundary, "..." appended when cut), invalid UTF-8 bytes
 * replaced by '?'.  Caller frees.
 */
char		*proto_quote(const char *s, size_t max);

#endif
