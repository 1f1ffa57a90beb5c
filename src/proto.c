/* Wire protocol encoding: times, occurrences, replies. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "djcal/classify.h"
#include "djcal/ingest.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"

static const char *const err_codes[] = {
	[PROTO_E_BAD_REQUEST] = "bad_request",
	[PROTO_E_NOT_FOUND] = "not_found",
	[PROTO_E_FORBIDDEN] = "forbidden",
	[PROTO_E_TOO_LARGE] = "too_large",
	[PROTO_E_INTERNAL] = "internal",
	[PROTO_E_BUSY] = "busy",
};

const char *
proto_err_code(enum proto_err e)
{
	return err_codes[e];
}

char *
proto_format_time(time_t t, int is_date, const struct tz *z)
{
	struct tz_civil c;
	int off;
	char *s;

	if (z == NULL)
		z = tz_utc();
	tz_from_utc(z, t, &c);
	if (is_date) {
		xasprintf(&s, "%04d-%02d-%02d", c.year, c.month, c.day);
		return s;
	}
	off = tz_offset(z, t);
	/* RFC 3339 offsets have no seconds (local mean time had them):
	 * write the wall clock of the offset in whole minutes, so the
	 * string still names the instant. */
	if (off % 60 != 0) {
		off -= off % 60;
		tz_epoch_to_civil(t + off, &c);
	}
	if (off == 0 && z == tz_utc())
		xasprintf(&s, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year,
		    c.month, c.day, c.hour, c.minute, c.second);
	else
		xasprintf(&s, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
		    c.year, c.month, c.day, c.hour, c.minute, c.second,
		    off < 0 ? '-' : '+', abs(off) / 3600, abs(off) % 3600 / 60);
	return s;
}

/* Read exactly n digits. */
static int
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

int
proto_parse_time(const char *s, const struct tz *z, time_t *out,
    int *is_date)
{
	struct tz_civil c;
	const char *p = s;
	int oh, om, sign, y, m, d;

	memset(&c, 0, sizeof c);
	if (is_date != NULL)
		*is_date = 0;
	if (digits(&p, 4, &c.year) == -1 || *p++ != '-' ||
	    digits(&p, 2, &c.month) == -1 || *p++ != '-' ||
	    digits(&p, 2, &c.day) == -1)
		return -1;
	if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31)
		return -1;
	/* No February 30th: the day must exist in its month. */
	tz_civil_from_days(tz_days_from_civil(c.year, c.month, c.day), &y, &m,
	    &d);
	if (m != c.month || d != c.day)
		return -1;
	if (*p == '\0') {
		if (is_date != NULL)
			*is_date = 1;
		*out = tz_to_utc(z != NULL ? z : tz_utc(), &c);
		return 0;
	}
	if ((*p != 'T' && *p != 't' && *p != ' ') || (p++,
	    digits(&p, 2, &c.hour) == -1) || *p++ != ':' ||
	    digits(&p, 2, &c.minute) == -1)
		return -1;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &c.second) == -1)
			return -1;
		if (*p == '.')
			for (p++; isdigit((unsigned char)*p); p++)
				;
	}
	if (c.hour > 23 || c.minute > 59 || c.second > 60)
		return -1;
	if (*p == '\0') {
		*out = tz_to_utc(z != NULL ? z : tz_utc(), &c);
		return 0;
	}
	if (*p == 'Z' || *p == 'z') {
		if (p[1] != '\0')
			return -1;
		*out = tz_civil_to_epoch(&c);
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &oh) == -1 || *p++ != ':' ||
	    digits(&p, 2, &om) == -1 || *p != '\0' || oh > 23 || om > 59)
		return -1;
	*out = tz_civil_to_epoch(&c) - sign * (oh * 3600 + om * 60);
	return 0;
}

static json_t *
str_or_null(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	/* Stored text is valid UTF-8 (ingest replaces bad bytes); be safe. */
	if ((j = json_string(s)) == NULL)
		j = json_stringn_nocheck(s, strlen(s));
	return j;
}

static json_t *
time_json(time_t t, int is_date, const struct tz *z)
{
	char *s = proto_format_time(t, is_date, z);
	json_t *j = json_string(s);

	free(s);
	return j;
}

static json_t *
time_or_null(int64_t t, const struct tz *z)
{
	return t != 0 ? time_json((time_t)t, 0, z) : json_null();
}

json_t *
proto_feed_json(const struct store_feed *f, time_t next_fetch,
    const struct tz *z)
{
	json_t *j = json_object();

	json_object_set_new(j, "name", str_or_null(f->name));
	json_object_set_new(j, "url", str_or_null(f->url));
	json_object_set_new(j, "category", str_or_null(f->category));
	json_object_set_new(j, "branch", str_or_null(f->branch));
	json_object_set_new(j, "kind", str_or_null(f->kind));
	json_object_set_new(j, "refresh", json_integer(f->refresh));
	json_object_set_new(j, "last_fetch", time_or_null(f->last_fetch, z));
	json_object_set_new(j, "last_success",
	    time_or_null(f->last_success, z));
	json_object_set_new(j, "last_error", str_or_null(f->last_error));
	json_object_set_new(j, "http_status", f->http_status != 0 ?
	    json_integer(f->http_status) : json_null());
	json_object_set_new(j, "failures", json_integer(f->failures));
	json_object_set_new(j, "items", json_integer(f->items));
	json_object_set_new(j, "problems", str_or_null(f->problems));
	json_object_set_new(j, "next_fetch", time_or_null(next_fetch, z));
	return j;
}

static int
is_midnight(time_t t, const struct tz *z)
{
	struct tz_civil c;

	tz_from_utc(z, t, &c);
	return c.hour == 0 && c.minute == 0 && c.second == 0;
}

json_t *
proto_occurrence_json(const struct dj_occurrence *o, const struct tz *z)
{
	json_t *j = json_object();
	const char *mt = classify_meeting_name(o->meeting_type);

	/* A component without UID has a made-up one inside djcal. */
	json_object_set_new(j, "uid", o->uid != NULL && strncmp(o->uid,
	    INGEST_NOUID_PREFIX, strlen(INGEST_NOUID_PREFIX)) == 0 ?
	    json_null() : str_or_null(o->uid));
	json_object_set_new(j, "feed", str_or_null(o->feed));
	json_object_set_new(j, "branch", str_or_null(o->branch));
	json_object_set_new(j, "kind", json_string(o->kind == DJ_KIND_TASK ?
	    "task" : "event"));
	json_object_set_new(j, "category",
	    json_string(classify_category_name(o->category)));
	json_object_set_new(j, "meeting_type", str_or_null(mt));
	json_object_set_new(j, "summary", str_or_null(o->summary));
	json_object_set_new(j, "location", str_or_null(o->location));
	json_object_set_new(j, "description", str_or_null(o->description));
	json_object_set_new(j, "start", time_json(o->start, o->all_day, z));
	/* An all-day end is exclusive (the day after the last one); a
	 * DATE start with a DATE-TIME end keeps its time. */
	json_object_set_new(j, "end", time_json(o->end, o->all_day &&
	    is_midnight(o->end, z), z));
	json_object_set_new(j, "all_day", json_boolean(o->all_day));
	json_object_set_new(j, "recurrence_id", o->has_rid ?
	    time_json(o->rid, o->rid_all_day, z) : json_null());
	json_object_set_new(j, "status", str_or_null(o->status));
	json_object_set_new(j, "on_holiday", json_boolean(o->on_holiday));
	if (o->kind == DJ_KIND_TASK) {
		json_object_set_new(j, "due", o->has_due ?
		    time_json(o->due, o->due_all_day, z) : json_null());
		json_object_set_new(j, "completed", o->has_completed ?
		    time_json(o->completed, 0, z) : json_null());
	}
	return j;
}

static char *
get_str(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static int
get_time(json_t *j, const char *key, const struct tz *z, time_t *t,
    int *is_date)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_string(v))
		return -1;
	return proto_parse_time(json_string_value(v), z, t, is_date);
}

int
proto_occurrence_from_json(json_t *j, const struct tz *z,
    struct dj_occurrence *o, char **cause)
{
	json_t *v;
	int d, c;

	memset(o, 0, sizeof *o);
	if (!json_is_object(j) || get_time(j, "start", z, &o->start,
	    &o->all_day) == -1) {
		xasprintf(cause, "occurrence without a valid start");
		return -1;
	}
	if (get_time(j, "end", z, &o->end, &d) == -1)
		o->end = o->start;
	o->uid = get_str(j, "uid");
	o->feed = get_str(j, "feed");
	o->branch = get_str(j, "branch");
	o->summary = get_str(j, "summary");
	o->location = get_str(j, "location");
	o->description = get_str(j, "description");
	o->status = get_str(j, "status");
	v = json_object_get(j, "kind");
	o->kind = json_is_string(v) && strcmp(json_string_value(v), "task") ==
	    0 ? DJ_KIND_TASK : DJ_KIND_EVENT;
	v = json_object_get(j, "category");
	c = json_is_string(v) ? classify_category_from_name(
	    json_string_value(v)) : -1;
	o->category = c >= 0 ? (enum dj_category)c : DJ_CAT_OTHER;
	v = json_object_get(j, "meeting_type");
	c = json_is_string(v) ? classify_meeting_from_name(
	    json_string_value(v)) : -1;
	o->meeting_type = c >= 0 ? (enum dj_meeting)c : DJ_MT_NONE;
	o->has_rid = get_time(j, "recurrence_id", z, &o->rid,
	    &o->rid_all_day) == 0;
	o->on_holiday = json_is_true(json_object_get(j, "on_holiday"));
	o->has_due = get_time(j, "due", z, &o->due, &o->due_all_day) == 0;
	o->has_completed = get_time(j, "completed", z, &o->completed,
	    &d) == 0;
	return 0;
}

json_t *
proto_error(json_t *id, enum proto_err e, const char *message)
{
	json_t *j = json_object(), *err = json_object();

	json_object_set_new(j, "ok", json_false());
	if (id != NULL)
		json_object_set(j, "id", id);
	json_object_set_new(err, "code", json_string(proto_err_code(e)));
	json_object_set_new(err, "message", str_or_null(message));
	json_object_set_new(j, "error", err);
	return j;
}

json_t *
proto_ok(json_t *id)
{
	json_t *j = json_object();

	json_object_set_new(j, "ok", json_true());
	if (id != NULL)
		json_object_set(j, "id", id);
	return j;
}

char *
proto_dump_line(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER), *line;

	if (s == NULL)
		return xstrdup("{\"ok\":false,\"error\":{\"code\":\"internal\","
		    "\"message\":\"cannot encode reply\"}}\n");
	xasprintf(&line, "%s\n", s);
	free(s);
	return line;
}

/*
 * Reading requests (server side).  Messages quote the client's values
 * through proto_quote, so a reply never grows with a huge bad value.
 */

#define PROTO_QUOTE_MAX		64

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

char *
proto_quote(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, l;
	char *out = xmalloc((n < max ? n : max) + 4);

	while (i < n) {
		l = utf8_len(p + i, n - i);
		if (o + (l == 0 ? 1 : l) > max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (l == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	out[o] = '\0';
	return out;
}

/* The field's value, NULL when absent or JSON null. */
static json_t *
field(json_t *req, const char *key)
{
	json_t *v = json_object_get(req, key);

	return json_is_null(v) ? NULL : v;
}

int
proto_field_string(json_t *req, const char *key, const char **out,
    char **cause)
{
	json_t *v = field(req, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		xasprintf(cause, "%s: expected a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int
proto_field_time(json_t *req, const char *key, const struct tz *z,
    time_t *out, int *present, char **cause)
{
	const char *s;
	char *q;

	*present = 0;
	if (proto_field_string(req, key, &s, cause) == -1) {
		free(*cause);
		xasprintf(cause, "%s: expected a time string (RFC 3339 or "
		    "YYYY-MM-DD)", key);
		return -1;
	}
	if (s == NULL)
		return 0;
	if (proto_parse_time(s, z, out, NULL) == -1) {
		q = proto_quote(s, PROTO_QUOTE_MAX);
		xasprintf(cause, "%s: not a time: \"%s\" (RFC 3339 or "
		    "YYYY-MM-DD)", key, q);
		free(q);
		return -1;
	}
	*present = 1;
	return 0;
}

int
proto_field_uint(json_t *req, const char *key, unsigned long long max,
    unsigned long long *out, char **cause)
{
	json_t *v = field(req, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (unsigned long long)json_integer_value(v) > max) {
		xasprintf(cause, "%s: expected an integer from 0 to %llu",
		    key, max);
		return -1;
	}
	*out = (unsigned long long)json_integer_value(v);
	return 0;
}

int
proto_field_year(json_t *req, const char *key, const struct tz *z,
    time_t now, int *year, char **cause)
{
	json_t *v = field(req, key);
	struct tz_civil c;

	if (v == NULL) {
		tz_from_utc(z, now, &c);
		*year = c.year;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < PROTO_YEAR_MIN ||
	    json_integer_value(v) > PROTO_YEAR_MAX) {
		xasprintf(cause, "%s: expected a year from %d to %d", key,
		    PROTO_YEAR_MIN, PROTO_YEAR_MAX);
		return -1;
	}
	*year = (int)json_integer_value(v);
	return 0;
}

int
proto_field_categories(json_t *req, const char *key, unsigned *mask,
    char **cause)
{
	json_t *v = field(req, key), *e;
	size_t i;
	int c;
	char *q;

	*mask = 0;
	if (v == NULL)
		return 0;
	if (!json_is_array(v)) {
		xasprintf(cause, "%s: expected an array of category names",
		    key);
		return -1;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			xasprintf(cause, "%s: expected an array of category "
			    "names", key);
			return -1;
		}
		c = classify_category_from_name(json_string_value(e));
		if (c < 0) {
			q = proto_quote(json_string_value(e),
			    PROTO_QUOTE_MAX);
			xasprintf(cause, "%s: unknown category \"%s\" (study, "
			    "party-day, volunteer, standardization, other)",
			    key, q);
			free(q);
			return -1;
		}
		*mask |= 1u << c;
	}
	return 0;
}

int
proto_request_filter(json_t *req, int fields, const struct tz *z,
    time_t now, struct store_filter *f, char **cause)
{
	unsigned long long limit = 0;
	time_t from = now, to;
	int has_from, has_to;

	memset(f, 0, sizeof *f);
	if (proto_field_categories(req, "category", &f->categories,
	    cause) == -1 ||
	    proto_field_string(req, "feed", &f->feed, cause) == -1 ||
	    proto_field_string(req, "branch", &f->branch, cause) == -1)
		return -1;
	if (!(fields & PROTO_FILTER_WINDOW))
		return 0;
	if (proto_field_time(req, "from", z, &from, &has_from, cause) == -1 ||
	    proto_field_time(req, "to", z, &to, &has_to, cause) == -1 ||
	    proto_field_string(req, "search", &f->search, cause) == -1 ||
	    proto_field_uint(req, "limit", SIZE_MAX, &limit, cause) == -1)
		return -1;
	if (!has_from)
		from = now;
	if (!has_to)
		to = from + 7 * 86400;
	if (to <= from) {
		xasprintf(cause, "to: not after from");
		return -1;
	}
	/* An empty search matches everything: the same as none. */
	if (f->search != NULL && *f->search == '\0')
		f->search = NULL;
	f->from = from;
	f->to = to;
	f->limit = (size_t)limit;
	return 0;
}
