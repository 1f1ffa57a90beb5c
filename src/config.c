/*
 * The daemon's configuration (SPEC section 2): INI read with inih, every
 * error reported as file:line.
 *
 * inih does the key = value splitting; everything it cannot tell us is done
 * in our reader function, which hands inih one physical line at a time:
 *
 * - Line numbers.  Debian builds inih without INI_HANDLER_LINENO, so the
 *   handler gets none.  inih calls the handler for a line before it asks the
 *   reader for the next one, so the reader's count is the handler's line.
 * - Syntax errors.  inih reports only the first one, as a number.  The
 *   reader checks each line (a [section], a key = value, a comment or blank)
 *   and records an error for every bad line, then gives inih an empty line.
 * - Sections.  Debian's inih does not call the handler for a section header,
 *   so an empty unknown section would go unnoticed; the reader opens
 *   sections itself and the handler only sees keys.
 * - Continuation lines.  inih, like Python's configparser, would append an
 *   indented line to the previous key's value, so that an indented
 *   "category = study" silently became part of the url.  The reader strips
 *   leading blanks, so every line stands on its own and there are no
 *   continuation lines.  List keys (aliases) may be repeated instead.
 * - Comments.  ';' or '#' starts a comment at the start of a line, and ';'
 *   after a blank starts one anywhere (inih's rule).  The reader removes
 *   comments itself, so that they do not count against inih's line buffer
 *   (200 bytes in Debian's build) and cannot hide a '=' or a ']'.
 */
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/log.h"
#include "djcal/tz.h"
#include "djcal/xmalloc.h"

#define CONFIG_DEF_DATABASE	"/var/lib/djcald/djcald.db"
#define CONFIG_DEF_SOCKET	"/run/djcald/djcald.sock"
#define CONFIG_DEF_SOCKET_MODE	0660
#define CONFIG_DEF_ADMIN_GROUP	"djcal"
#define CONFIG_DEF_HTTP_LISTEN	"127.0.0.1:8765"
#define CONFIG_DEF_TIMEZONE	"Asia/Shanghai"
#define CONFIG_DEF_HORIZON	400
#define CONFIG_DEF_HISTORY	400
#define CONFIG_DEF_REMINDERS	"1d, 1h"
#define CONFIG_DEF_LATE_GRACE	(12 * 3600)
#define CONFIG_DEF_MAX_FEED	(64ULL * 1024 * 1024)
#define CONFIG_DEF_MAX_CLIENTS	1024
#define CONFIG_DEF_MAX_OUTPUT	(128ULL * 1024 * 1024)
#define CONFIG_DEF_WARN_DAYS	7
#define CONFIG_DEF_REFRESH	(15 * 60)
#define CONFIG_DEF_FETCH_TIMEOUT 60

/* Longest duration accepted: 100 years keeps time_t sums far from overflow. */
#define CONFIG_MAX_DURATION	(100LL * 366 * 86400)
/* Largest configuration file read. */
#define CONFIG_MAX_FILE		(16 * 1024 * 1024)

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

enum cfg_sec {
	SEC_NONE,		/* before the first section */
	SEC_SKIP,		/* a bad header: its keys are ignored */
	SEC_DAEMON,
	SEC_CATEGORY,
	SEC_MEETING,
	SEC_FEED,
	SEC_REQUIREMENT
};

#define KEY_LIST	0x1	/* may be repeated; values accumulate */

struct cfg_key {
	const char	*name;
	int		 id;
	int		 flags;
};

enum {
	DK_DATABASE, DK_SOCKET, DK_SOCKET_MODE, DK_ADMIN_GROUP, DK_HTTP_LISTEN,
	DK_HTTP_TOKEN, DK_TIMEZONE, DK_HORIZON, DK_HISTORY, DK_REMINDERS,
	DK_LATE_GRACE, DK_MAX_FEED, DK_CA_FILE, DK_MAX_CLIENTS, DK_WARN_DAYS,
	DK_MAX_ITEMS, DK_FETCH_TIMEOUT, DK_MAX_CLIENTS_UID, DK_MAX_OUTPUT
};
static const struct cfg_key cfg_daemon_keys[] = {
	{ "database", DK_DATABASE, 0 },
	{ "socket", DK_SOCKET, 0 },
	{ "socket_mode", DK_SOCKET_MODE, 0 },
	{ "admin_group", DK_ADMIN_GROUP, 0 },
	{ "http_listen", DK_HTTP_LISTEN, 0 },
	{ "http_token", DK_HTTP_TOKEN, 0 },
	{ "timezone", DK_TIMEZONE, 0 },
	{ "horizon_days", DK_HORIZON, 0 },
	{ "history_days", DK_HISTORY, 0 },
	{ "reminders", DK_REMINDERS, 0 },
	{ "late_grace", DK_LATE_GRACE, 0 },
	{ "max_feed_bytes", DK_MAX_FEED, 0 },
	{ "ca_file", DK_CA_FILE, 0 },
	{ "max_clients", DK_MAX_CLIENTS, 0 },
	{ "warn_days", DK_WARN_DAYS, 0 },
	{ "max_items", DK_MAX_ITEMS, 0 },
	{ "fetch_timeout", DK_FETCH_TIMEOUT, 0 },
	{ "max_clients_per_uid", DK_MAX_CLIENTS_UID, 0 },
	{ "max_output_bytes", DK_MAX_OUTPUT, 0 },
};

enum { CK_ALIASES, CK_REMINDERS };
static const struct cfg_key cfg_category_keys[] = {
	{ "aliases", CK_ALIASES, KEY_LIST },
	{ "reminders", CK_REMINDERS, 0 },
};

enum { MK_ALIASES };
static const struct cfg_key cfg_meeting_keys[] = {
	{ "aliases", MK_ALIASES, KEY_LIST },
};

enum {
	FK_URL, FK_CATEGORY, FK_BRANCH, FK_REFRESH, FK_REMINDERS, FK_USERNAME,
	FK_PASSWORD, FK_CA_FILE, FK_KIND
};
static const struct cfg_key cfg_feed_keys[] = {
	{ "url", FK_URL, 0 },
	{ "category", FK_CATEGORY, 0 },
	{ "branch", FK_BRANCH, 0 },
	{ "refresh", FK_REFRESH, 0 },
	{ "reminders", FK_REMINDERS, 0 },
	{ "username", FK_USERNAME, 0 },
	{ "password", FK_PASSWORD, 0 },
	{ "ca_file", FK_CA_FILE, 0 },
	{ "kind", FK_KIND, 0 },
};

enum { RK_CATEGORY, RK_MEETING_TYPE, RK_ALIASES, RK_CADENCE, RK_WARN_DAYS };
static const struct cfg_key cfg_requirement_keys[] = {
	{ "category", RK_CATEGORY, 0 },
	{ "meeting_type", RK_MEETING_TYPE, 0 },
	{ "aliases", RK_ALIASES, KEY_LIST },
	{ "cadence", RK_CADENCE, 0 },
	{ "warn_days", RK_WARN_DAYS, 0 },
};

struct cfg_err {
	unsigned	 line;
	size_t		 seq;
	char		*msg;
};

struct cfg_parse {
	struct config	*cfg;
	const char	*file;		/* as given: for messages */
	char		*dir;		/* absolute directory of the file */

	const char	*buf;		/* the whole file */
	size_t		 len;
	size_t		 off;
	unsigned	 lineno;

	enum cfg_sec	 sec;
	size_t		 idx;		/* of category, meeting, feed... */
	char		*secdesc;	/* "[feed x]" for messages */
	uint32_t	*seen;		/* keys given in this section */
	uint32_t	 daemon_seen;
	uint32_t	 cat_seen[DJ_CAT_COUNT];
	uint32_t	 mt_seen[DJ_MT_COUNT];
	uint32_t	 inst_seen;	/* the current feed or requirement */
	size_t		 sec_nerrs;	/* errors before the section began */
	int		 have_requirements;

	struct cfg_err	*errs;
	size_t		 nerrs;
};

static void cfg_error(struct cfg_parse *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
cfg_error(struct cfg_parse *p, unsigned line, const char *fmt, ...)
{
	struct cfg_err *e;
	va_list ap;

	p->errs = xreallocarray(p->errs, p->nerrs + 1, sizeof *p->errs);
	e = &p->errs[p->nerrs];
	e->line = line;
	e->seq = p->nerrs++;
	va_start(ap, fmt);
	if (vasprintf(&e->msg, fmt, ap) == -1)
		fatal("config error message");
	va_end(ap);
}

/* Errors in line order; errors found after the file was read (a feed without
 * url) are filed under the line of their section. */
static int
cfg_err_cmp(const void *a, const void *b)
{
	const struct cfg_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static char *
cfg_errors_join(struct cfg_parse *p)
{
	char *out, *o;
	size_t i, len = 0;

	qsort(p->errs, p->nerrs, sizeof *p->errs, cfg_err_cmp);
	for (i = 0; i < p->nerrs; i++)
		len += strlen(p->file) + 16 + strlen(p->errs[i].msg);
	o = out = xmalloc(len + 1);
	*o = '\0';
	for (i = 0; i < p->nerrs; i++)
		o += sprintf(o, "%s%s:%u: %s", i == 0 ? "" : "\n", p->file,
		    p->errs[i].line, p->errs[i].msg);
	return out;
}

/*
 * Values.
 */

static int
cfg_is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v';
}

/* Parse digits at *sp into *v (no sign); -1 on none or beyond max. */
static int
cfg_digits(const char **sp, int64_t max, int64_t *v)
{
	const char *s = *sp;
	int64_t n = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (max - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	*sp = s;
	*v = n;
	return 0;
}

/* Add n * mult to *sum within CONFIG_MAX_DURATION. */
static int
cfg_dur_add(int64_t *sum, int64_t n, int64_t mult)
{
	if (n > CONFIG_MAX_DURATION / mult)
		return -1;
	if (*sum > CONFIG_MAX_DURATION - n * mult)
		return -1;
	*sum += n * mult;
	return 0;
}

/* ISO 8601 / RFC 5545 durations after the 'P': [nW][nD][T[nH][nM][nS]].
 * Years and months have no fixed length and are refused. */
static int
cfg_dur_iso(const char *s, int64_t *out)
{
	static const char date_units[] = "WD", time_units[] = "HMS";
	static const int64_t date_mult[] = { 604800, 86400 };
	static const int64_t time_mult[] = { 3600, 60, 1 };
	int64_t n, sum = 0;
	const char *u;
	int next = 0, any = 0, in_time = 0, time_any = 0;
	char c;

	while (*s != '\0') {
		if (*s == 'T' || *s == 't') {
			if (in_time)
				return -1;
			in_time = 1;
			next = 0;
			s++;
			continue;
		}
		if (cfg_digits(&s, CONFIG_MAX_DURATION, &n) == -1)
			return -1;
		c = *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s;
		if (c == '\0')
			return -1;
		if (!in_time) {
			if ((u = strchr(date_units, c)) == NULL ||
			    u - date_units < next)
				return -1;
			next = (int)(u - date_units) + 1;
			if (cfg_dur_add(&sum, n, date_mult[u - date_units]))
				return -1;
		} else {
			if ((u = strchr(time_units, c)) == NULL ||
			    u - time_units < next)
				return -1;
			next = (int)(u - time_units) + 1;
			if (cfg_dur_add(&sum, n, time_mult[u - time_units]))
				return -1;
			time_any = 1;
		}
		any = 1;
		s++;
	}
	if (!any || (in_time && !time_any))
		return -1;
	*out = sum;
	return 0;
}

/* Our own durations: "90", or number-unit pairs in falling order, "1h30m". */
static int
cfg_dur_simple(const char *s, int64_t *out)
{
	static const char units[] = "wdhms";
	static const int64_t mult[] = { 604800, 86400, 3600, 60, 1 };
	int64_t n, sum = 0;
	const char *u;
	int next = 0, pairs = 0;
	char c;

	while (*s != '\0') {
		if (cfg_digits(&s, CONFIG_MAX_DURATION, &n) == -1)
			return -1;
		if (*s == '\0') {
			if (pairs > 0)
				return -1;	/* "1h30": 30 what? */
			*out = n;
			return 0;
		}
		c = *s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s;
		if ((u = strchr(units, c)) == NULL || u - units < next)
			return -1;
		next = (int)(u - units) + 1;
		if (cfg_dur_add(&sum, n, mult[u - units]) == -1)
			return -1;
		pairs++;
		s++;
	}
	if (pairs == 0)
		return -1;
	*out = sum;
	return 0;
}

int
config_parse_duration(const char *str, int64_t *secs)
{
	const char *s = str;
	size_t len;
	char *copy;
	int64_t v;
	int neg = 0, rc;

	if (s == NULL)
		return -1;
	while (cfg_is_blank((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && cfg_is_blank((unsigned char)s[len - 1]))
		len--;
	copy = xstrndup(s, len);
	s = copy;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (*s == 'P' || *s == 'p')
		rc = cfg_dur_iso(s + 1, &v);
	else
		rc = cfg_dur_simple(s, &v);
	free(copy);
	if (rc == -1)
		return -1;
	*secs = neg ? -v : v;
	return 0;
}

int
config_parse_size(const char *str, uint64_t *bytes)
{
	const char *s = str;
	uint64_t n = 0, mult = 1;
	int shift = 0;

	if (s == NULL)
		return -1;
	while (cfg_is_blank((unsigned char)*s))
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	switch (*s) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case 't': case 'T':
		shift = 40;
		break;
	}
	if (shift != 0) {
		s++;
		if (*s == 'i' && (s[1] == 'B' || s[1] == 'b'))
			s++;
	}
	if (*s == 'B' || *s == 'b')
		s++;
	while (cfg_is_blank((unsigned char)*s))
		s++;
	if (*s != '\0')
		return -1;
	mult = (uint64_t)1 << shift;
	if (n > UINT64_MAX / mult)
		return -1;
	*bytes = n * mult;
	return 0;
}

/* The separator at s: ',' (1 byte) or the full-width '，' (3), else 0. */
static size_t
cfg_sep(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (*u == ',')
		return 1;
	if (u[0] == 0xef && u[1] == 0xbc && u[2] == 0x8c)
		return 3;
	return 0;
}

/* Bounds of s[0..len) without blanks and U+3000 at either end. */
static void
cfg_trim(const char **s, size_t *len)
{
	const unsigned char *u = (const unsigned char *)*s;
	size_t n = *len;

	for (;;) {
		if (n > 0 && cfg_is_blank(*u)) {
			u++;
			n--;
		} else if (n >= 3 && u[0] == 0xe3 && u[1] == 0x80 &&
		    u[2] == 0x80) {
			u += 3;
			n -= 3;
		} else
			break;
	}
	for (;;) {
		if (n > 0 && cfg_is_blank(u[n - 1]))
			n--;
		else if (n >= 3 && u[n - 3] == 0xe3 && u[n - 2] == 0x80 &&
		    u[n - 1] == 0x80)
			n -= 3;
		else
			break;
	}
	*s = (const char *)u;
	*len = n;
}

/*
 * Split a list at ',' or '，' into trimmed items, appended to *v.  A value
 * that is blank is an empty list; an empty item inside one ("a,,b") is an
 * error.  On error nothing is appended.
 */
static int
cfg_split(const char *value, char ***v, size_t *n)
{
	const char *p = value, *item, *end;
	char **items = NULL;
	size_t len, sep, i, count = 0;

	item = p;
	len = strlen(p);
	cfg_trim(&item, &len);
	if (len == 0)
		return 0;
	for (;;) {
		for (end = p; *end != '\0' && cfg_sep(end) == 0; end++)
			;
		sep = cfg_sep(end);
		item = p;
		len = (size_t)(end - p);
		cfg_trim(&item, &len);
		if (len == 0) {
			for (i = 0; i < count; i++)
				free(items[i]);
			free(items);
			return -1;
		}
		items = xreallocarray(items, count + 1, sizeof *items);
		items[count++] = xstrndup(item, len);
		if (sep == 0)
			break;
		p = end + sep;
	}
	*v = xreallocarray(*v, *n + count, sizeof **v);
	for (i = 0; i < count; i++)
		(*v)[(*n)++] = items[i];
	free(items);
	return 0;
}

static int
cfg_lead_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x > y ? -1 : x < y;
}

int
config_parse_leads(const char *str, struct dj_leads *out)
{
	struct dj_leads l;
	char **items = NULL;
	size_t i, nitems = 0;
	int64_t v;
	int j, rc = 0;

	if (str == NULL)
		return -1;
	if (cfg_split(str, &items, &nitems) == -1)
		return -1;
	memset(&l, 0, sizeof l);
	for (i = 0; i < nitems && rc == 0; i++) {
		if (config_parse_duration(items[i], &v) == -1) {
			rc = -1;
			break;
		}
		for (j = 0; j < l.n; j++)
			if (l.v[j] == v)
				break;
		if (j < l.n)
			continue;	/* a duplicate */
		if (l.n == DJ_MAX_LEADS)
			rc = -1;
		else
			l.v[l.n++] = v;
	}
	for (i = 0; i < nitems; i++)
		free(items[i]);
	free(items);
	if (rc == -1)
		return -1;
	qsort(l.v, (size_t)l.n, sizeof l.v[0], cfg_lead_cmp);
	*out = l;
	return 0;
}

/* A decimal integer in [min, max]. */
static int
cfg_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v;
	int neg = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (cfg_digits(&s, INT64_MAX, &v) == -1 || *s != '\0')
		return -1;
	if (neg)
		v = -v;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Whether s is valid UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF): names and aliases end up in JSON, which needs it. */
static int
cfg_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/*
 * Whether a zone name is known: tz.c is the authority, so the daemon accepts
 * exactly the zones it can later load (IANA names from the system's zoneinfo
 * or $TZDIR, and the aliases tz_system documents).
 */
static int
cfg_zone_known(const char *name)
{
	return tz_system(name) != NULL;
}

/*
 * Paths.
 */

/* path made absolute against dir; an absolute path is kept as it is.  Only
 * leading "./" is removed: ".." is left to the kernel, because resolving it
 * by hand goes wrong across symbolic links. */
static char *
cfg_abspath(const char *dir, const char *path)
{
	char *out;

	if (*path == '/')
		return xstrdup(path);
	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (*path == '/')
			path++;
	}
	if (*path == '\0' || strcmp(path, ".") == 0)
		return xstrdup(dir);
	xasprintf(&out, "%s%s%s", dir,
	    dir[strlen(dir) - 1] == '/' ? "" : "/", path);
	return out;
}

/* The absolute directory of the file at path (which need not exist). */
static char *
cfg_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *cwd, *out;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	if (*dir == '/')
		return dir;
	if ((cwd = getcwd(NULL, 0)) == NULL) {
		free(dir);
		return NULL;
	}
	out = cfg_abspath(cwd, dir);
	free(cwd);
	free(dir);
	return out;
}

static int
cfg_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode a file URL's path; NULL on a bad escape or a NUL. */
static char *
cfg_pct_decode(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		if ((hi = cfg_hexval((unsigned char)s[1])) == -1 ||
		    (lo = cfg_hexval((unsigned char)s[2])) == -1 ||
		    (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		s += 2;
	}
	*o = '\0';
	return out;
}

/* A file URL for an absolute path, escaping all but unreserved bytes. */
static char *
cfg_file_url(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(7 + strlen(path) * 3 + 1), *o = out;
	const unsigned char *s;

	o += sprintf(o, "file://");
	for (s = (const unsigned char *)path; *s != '\0'; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr("/-._~", *s) != NULL)
			*o++ = (char)*s;
		else {
			*o++ = '%';
			*o++ = hex[*s >> 4];
			*o++ = hex[*s & 0xf];
		}
	}
	*o = '\0';
	return out;
}

/*
 * A feed's url: http and https are kept, webcal:// and webcals:// become
 * https://, and file URLs and plain paths are made absolute.  Messages name
 * the scheme only, never the URL, which may hold a password.
 */
static int
cfg_feed_url(struct cfg_parse *p, struct config_feed *f, const char *value)
{
	const char *s, *rest, *host, *pathpart;
	char *scheme = NULL, *decoded, *abs;
	size_t n;

	if (*value == '\0') {
		cfg_error(p, p->lineno, "url: empty");
		return -1;
	}
	/* A scheme: a letter, then letters, digits, '+', '-' or '.'; a ':'. */
	s = value;
	if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
		for (s++; (*s >= 'A' && *s <= 'Z') ||
		    (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '+' || *s == '-' || *s == '.'; s++)
			;
		if (*s == ':')
			scheme = xstrndup(value, (size_t)(s - value));
	}
	if (scheme == NULL) {
		/* A plain path. */
		free(f->url);
		free(f->path);
		f->path = cfg_abspath(p->dir, value);
		f->url = xstrdup(f->path);
		return 0;
	}
	rest = s + 1;

	if (strcasecmp(scheme, "file") == 0) {
		free(scheme);
		if (rest[0] == '/' && rest[1] == '/') {
			host = rest + 2;
			if (strncasecmp(host, "localhost/", 10) == 0)
				pathpart = host + 9;
			else
				pathpart = host;	/* "/abs" or "rel" */
		} else
			pathpart = rest;
		if (*pathpart == '\0' ||
		    (decoded = cfg_pct_decode(pathpart)) == NULL) {
			cfg_error(p, p->lineno, "url: bad file URL");
			return -1;
		}
		abs = cfg_abspath(p->dir, decoded);
		free(f->url);
		free(f->path);
		f->url = *decoded == '/' ? xstrdup(value) : cfg_file_url(abs);
		f->path = abs;
		free(decoded);
		return 0;
	}

	if (strcasecmp(scheme, "http") == 0 ||
	    strcasecmp(scheme, "https") == 0 ||
	    strcasecmp(scheme, "webcal") == 0 ||
	    strcasecmp(scheme, "webcals") == 0) {
		host = rest + 2;
		n = rest[0] == '/' && rest[1] == '/' ?
		    strcspn(host, "/?#") : 0;
		if (n == 0 || host[n - 1] == '@') {
			cfg_error(p, p->lineno, "url: %s URL without a host",
			    scheme);
			free(scheme);
			return -1;
		}
		free(f->url);
		free(f->path);
		f->path = NULL;
		if (strncasecmp(scheme, "webcal", 6) == 0)
			xasprintf(&f->url, "https:%s", rest);
		else
			f->url = xstrdup(value);
		free(scheme);
		return 0;
	}

	cfg_error(p, p->lineno, "url: unsupported scheme '%s' (use https, "
	    "http, webcal, file or a path)", scheme);
	free(scheme);
	return -1;
}

/* A url key that failed to parse leaves an empty url, so that the feed is not
 * also reported as having none; the config is discarded anyway. */
static void
cfg_set_url(struct cfg_parse *p, struct config_feed *f, const char *value)
{
	if (cfg_feed_url(p, f, value) == -1 && f->url == NULL)
		f->url = xstrdup("");
}

/* A CA file: made absolute and required to exist. */
static int
cfg_ca_file(struct cfg_parse *p, char **dst, const char *value)
{
	struct stat st;
	char *abs;

	if (*value == '\0') {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	abs = cfg_abspath(p->dir, value);
	if (stat(abs, &st) == -1) {
		cfg_error(p, p->lineno, "ca_file: %s: %s", abs,
		    strerror(errno));
		free(abs);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_error(p, p->lineno, "ca_file: %s: not a regular file", abs);
		free(abs);
		return -1;
	}
	free(*dst);
	*dst = abs;
	return 0;
}

/* "host:port" or "[v6]:port"; empty is off. */
static int
cfg_listen_valid(const char *s)
{
	const char *colon, *close;
	int64_t port;

	if (*s == '\0')
		return 1;
	if (*s == '[') {
		if ((close = strchr(s, ']')) == NULL || close == s + 1 ||
		    close[1] != ':')
			return 0;
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || colon == s ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL)
			return 0;
	}
	if (strpbrk(s, " \t") != NULL)
		return 0;
	return cfg_parse_int(colon + 1, 1, 65535, &port) == 0 &&
	    colon[1] != '+' && colon[1] != '-';
}

/*
 * Keys of each section.
 */

static void
cfg_set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = xstrdup(value);
}

/* A string that may be unset: empty means NULL. */
static void
cfg_set_opt(char **dst, const char *value)
{
	free(*dst);
	*dst = *value == '\0' ? NULL : xstrdup(value);
}

static void
cfg_set_int(struct cfg_parse *p, const char *key, const char *value,
    int64_t min, int64_t max, int *dst)
{
	int64_t v;

	if (cfg_parse_int(value, min, max, &v) == -1)
		cfg_error(p, p->lineno, "%s: '%s' is not a whole number from "
		    "%lld to %lld", key, value, (long long)min, (long long)max);
	else
		*dst = (int)v;
}

static void
cfg_set_duration(struct cfg_parse *p, const char *key, const char *value,
    int64_t min, int64_t *dst)
{
	int64_t v;

	if (config_parse_duration(value, &v) == -1)
		cfg_error(p, p->lineno, "%s: '%s' is not a duration (like "
		    "90s, 15m, 2h, 1d, 1w or ISO 8601 PT15M)", key, value);
	else if (v < min)
		cfg_error(p, p->lineno, "%s: '%s' is too short", key, value);
	else
		*dst = v;
}

static void
cfg_set_leads(struct cfg_parse *p, const char *key, const char *value,
    struct dj_leads *dst, int *has)
{
	if (config_parse_leads(value, dst) == -1)
		cfg_error(p, p->lineno, "%s: '%s' is not a list of at most %d "
		    "durations (like 1d, 2h, PT15M)", key, value, DJ_MAX_LEADS);
	else if (has != NULL)
		*has = 1;
}

static void
cfg_add_aliases(struct cfg_parse *p, const char *key, const char *value,
    char ***v, size_t *n)
{
	if (cfg_split(value, v, n) == -1)
		cfg_error(p, p->lineno, "%s: empty item in '%s'", key, value);
}

static void
cfg_daemon_key(struct cfg_parse *p, const struct cfg_key *k,
    const char *value)
{
	struct config *cfg = p->cfg;
	struct sockaddr_un sun;
	uint64_t size;
	char *abs, *end;
	unsigned long mode;
	int64_t secs, n;

	switch (k->id) {
	case DK_DATABASE:
	case DK_SOCKET:
		if (*value == '\0') {
			cfg_error(p, p->lineno, "%s: empty", k->name);
			break;
		}
		abs = cfg_abspath(p->dir, value);
		if (k->id == DK_SOCKET && strlen(abs) >= sizeof sun.sun_path) {
			cfg_error(p, p->lineno, "socket: %s: longer than %zu "
			    "bytes", abs, sizeof sun.sun_path - 1);
			free(abs);
			break;
		}
		free(k->id == DK_DATABASE ? cfg->database : cfg->socket);
		*(k->id == DK_DATABASE ? &cfg->database : &cfg->socket) = abs;
		break;
	case DK_SOCKET_MODE:
		errno = 0;
		mode = strtoul(value, &end, 8);
		if (*value < '0' || *value > '7' || *end != '\0' ||
		    errno != 0 || mode > 0777)
			cfg_error(p, p->lineno, "socket_mode: '%s' is not an "
			    "octal mode like 0660", value);
		else
			cfg->socket_mode = (unsigned)mode;
		break;
	case DK_ADMIN_GROUP:
		if (strpbrk(value, " \t:") != NULL)
			cfg_error(p, p->lineno, "admin_group: '%s' is not a "
			    "group name", value);
		else
			cfg_set_str(&cfg->admin_group, value);
		break;
	case DK_HTTP_LISTEN:
		if (!cfg_listen_valid(value))
			cfg_error(p, p->lineno, "http_listen: '%s' is not "
			    "host:port (or empty for off)", value);
		else
			cfg_set_str(&cfg->http_listen, value);
		break;
	case DK_HTTP_TOKEN:
		cfg_set_str(&cfg->http_token, value);	/* never echoed */
		break;
	case DK_TIMEZONE:
		if (!cfg_zone_known(value))
			cfg_error(p, p->lineno, "timezone: unknown zone '%s'",
			    value);
		else
			cfg_set_str(&cfg->timezone, value);
		break;
	case DK_HORIZON:
		cfg_set_int(p, k->name, value, 1, 36600, &cfg->horizon_days);
		break;
	case DK_HISTORY:
		cfg_set_int(p, k->name, value, 0, 36600, &cfg->history_days);
		break;
	case DK_REMINDERS:
		cfg_set_leads(p, k->name, value, &cfg->reminders, NULL);
		break;
	case DK_LATE_GRACE:
		secs = cfg->late_grace;
		cfg_set_duration(p, k->name, value, 0, &secs);
		cfg->late_grace = secs;
		break;
	case DK_MAX_FEED:
		if (config_parse_size(value, &size) == -1 || size == 0)
			cfg_error(p, p->lineno, "max_feed_bytes: '%s' is not "
			    "a size (like 64M, 1G, 512K or bytes)", value);
		else
			cfg->max_feed_bytes = size;
		break;
	case DK_CA_FILE:
		cfg_ca_file(p, &cfg->ca_file, value);
		break;
	case DK_MAX_CLIENTS:
		cfg_set_int(p, k->name, value, 1, 1000000, &cfg->max_clients);
		break;
	case DK_WARN_DAYS:
		cfg_set_int(p, k->name, value, 0, 366, &cfg->warn_days);
		break;
	case DK_MAX_ITEMS:
		if (cfg_parse_int(value, 0, 100000000, &n) == -1)
			cfg_error(p, p->lineno, "max_items: '%s' is not a whole "
			    "number from 0 to 100000000", value);
		else
			cfg->max_items = (size_t)n;
		break;
	case DK_FETCH_TIMEOUT:
		cfg_set_duration(p, k->name, value, 1, &cfg->fetch_timeout);
		break;
	case DK_MAX_CLIENTS_UID:
		cfg_set_int(p, k->name, value, 1, 1000000,
		    &cfg->max_clients_per_uid);
		break;
	case DK_MAX_OUTPUT:
		if (config_parse_size(value, &size) == -1 || size == 0)
			cfg_error(p, p->lineno, "max_output_bytes: '%s' is not "
			    "a size (like 128M, 1G, 512K or bytes)", value);
		else
			cfg->max_output_bytes = size;
		break;
	}
}

static void
cfg_category_key(struct cfg_parse *p, const struct cfg_key *k,
    const char *value)
{
	struct config_category *c = &p->cfg->categories[p->idx];

	switch (k->id) {
	case CK_ALIASES:
		cfg_add_aliases(p, k->name, value, &c->aliases, &c->naliases);
		break;
	case CK_REMINDERS:
		cfg_set_leads(p, k->name, value, &c->reminders,
		    &c->has_reminders);
		break;
	}
}

static void
cfg_meeting_key(struct cfg_parse *p, const struct cfg_key *k,
    const char *value)
{
	struct config_meeting *m = &p->cfg->meetings[p->idx];

	if (k->id == MK_ALIASES)
		cfg_add_aliases(p, k->name, value, &m->aliases, &m->naliases);
}

static int
cfg_category_value(struct cfg_parse *p, const char *key, const char *value)
{
	int c;

	if ((c = classify_category_from_name(value)) == -1)
		cfg_error(p, p->lineno, "%s: unknown category '%s' (use study, "
		    "party-day, volunteer, standardization or other)", key,
		    value);
	return c;
}

static void
cfg_feed_key(struct cfg_parse *p, const struct cfg_key *k, const char *value)
{
	struct config_feed *f = &p->cfg->feeds[p->idx];
	int c;

	switch (k->id) {
	case FK_URL:
		cfg_set_url(p, f, value);
		break;
	case FK_CATEGORY:
		if ((c = cfg_category_value(p, k->name, value)) != -1)
			f->category = c;
		break;
	case FK_BRANCH:
		cfg_set_opt(&f->branch, value);
		break;
	case FK_REFRESH:
		cfg_set_duration(p, k->name, value, 1, &f->refresh);
		break;
	case FK_REMINDERS:
		cfg_set_leads(p, k->name, value, &f->reminders,
		    &f->has_reminders);
		break;
	case FK_USERNAME:
		cfg_set_opt(&f->username, value);
		break;
	case FK_PASSWORD:
		cfg_set_opt(&f->password, value);	/* never echoed */
		break;
	case FK_CA_FILE:
		cfg_ca_file(p, &f->ca_file, value);
		break;
	case FK_KIND:
		if (strcasecmp(value, "events") == 0)
			f->kind = CONFIG_FEED_EVENTS;
		else if (strcasecmp(value, "holidays") == 0)
			f->kind = CONFIG_FEED_HOLIDAYS;
		else
			cfg_error(p, p->lineno, "kind: '%s' is not events or "
			    "holidays", value);
		break;
	}
}

static void
cfg_requirement_key(struct cfg_parse *p, const struct cfg_key *k,
    const char *value)
{
	struct config_requirement *r = &p->cfg->requirements[p->idx];
	int v;

	switch (k->id) {
	case RK_CATEGORY:
		if ((v = cfg_category_value(p, k->name, value)) != -1)
			r->category = v;
		break;
	case RK_MEETING_TYPE:
		if ((v = classify_meeting_from_name(value)) == -1)
			cfg_error(p, p->lineno, "meeting_type: unknown meeting "
			    "type '%s' (use branch-committee, member-assembly, "
			    "group, lecture or theory-study)", value);
		else
			r->meeting_type = v;
		break;
	case RK_ALIASES:
		cfg_add_aliases(p, k->name, value, &r->aliases, &r->naliases);
		break;
	case RK_CADENCE:
		if (strcasecmp(value, "month") == 0)
			r->cadence = CONFIG_CADENCE_MONTH;
		else if (strcasecmp(value, "quarter") == 0)
			r->cadence = CONFIG_CADENCE_QUARTER;
		else if (strcasecmp(value, "year") == 0)
			r->cadence = CONFIG_CADENCE_YEAR;
		else
			cfg_error(p, p->lineno, "cadence: '%s' is not month, "
			    "quarter or year", value);
		break;
	case RK_WARN_DAYS:
		cfg_set_int(p, k->name, value, 0, 366, &r->warn_days);
		break;
	}
}

/* inih's handler: one key of the section the reader opened. */
static int
cfg_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct cfg_parse *p = user;
	const struct cfg_key *keys = NULL, *k = NULL;
	size_t nkeys = 0, i;

	(void)section;	/* the reader keeps its own, untruncated */
	if (p->sec == SEC_SKIP)
		return 1;
	if (*name == '\0') {
		cfg_error(p, p->lineno, "missing key name before '='");
		return 1;
	}
	switch (p->sec) {
	case SEC_NONE:
	case SEC_SKIP:
		cfg_error(p, p->lineno, "key '%s' before any [section]", name);
		return 1;
	case SEC_DAEMON:
		keys = cfg_daemon_keys;
		nkeys = NITEMS(cfg_daemon_keys);
		break;
	case SEC_CATEGORY:
		keys = cfg_category_keys;
		nkeys = NITEMS(cfg_category_keys);
		break;
	case SEC_MEETING:
		keys = cfg_meeting_keys;
		nkeys = NITEMS(cfg_meeting_keys);
		break;
	case SEC_FEED:
		keys = cfg_feed_keys;
		nkeys = NITEMS(cfg_feed_keys);
		break;
	case SEC_REQUIREMENT:
		keys = cfg_requirement_keys;
		nkeys = NITEMS(cfg_requirement_keys);
		break;
	}
	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, name) == 0)
			k = &keys[i];
	if (k == NULL) {
		cfg_error(p, p->lineno, "unknown key '%s' in %s", name,
		    p->secdesc);
		return 1;
	}
	if (!(k->flags & KEY_LIST)) {
		if (*p->seen & (1U << k->id)) {
			cfg_error(p, p->lineno, "%s given twice in %s", name,
			    p->secdesc);
			return 1;
		}
		*p->seen |= 1U << k->id;
	}

	switch (p->sec) {
	case SEC_DAEMON:
		cfg_daemon_key(p, k, value);
		break;
	case SEC_CATEGORY:
		cfg_category_key(p, k, value);
		break;
	case SEC_MEETING:
		cfg_meeting_key(p, k, value);
		break;
	case SEC_FEED:
		cfg_feed_key(p, k, value);
		break;
	case SEC_REQUIREMENT:
		cfg_requirement_key(p, k, value);
		break;
	default:
		break;
	}
	return 1;
}

/*
 * Sections.
 */

static void
cfg_feed_init(struct config_feed *f, const char *name, unsigned line)
{
	memset(f, 0, sizeof *f);
	f->name = xstrdup(name);
	f->category = -1;
	f->refresh = CONFIG_DEF_REFRESH;
	f->kind = CONFIG_FEED_EVENTS;
	f->line = line;
}

static struct config_requirement *
cfg_requirement_add(struct config *cfg, const char *name, unsigned line)
{
	struct config_requirement *r;

	cfg->requirements = xreallocarray(cfg->requirements,
	    cfg->nrequirements + 1, sizeof *cfg->requirements);
	r = &cfg->requirements[cfg->nrequirements++];
	memset(r, 0, sizeof *r);
	r->name = xstrdup(name);
	r->category = -1;
	r->meeting_type = -1;
	r->cadence = CONFIG_CADENCE_MONTH;
	r->warn_days = -1;	/* the daemon's warn_days, filled at the end */
	r->line = line;
	return r;
}

static int
cfg_feed_name_valid(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-'))
			return 0;
	return 1;
}

/* Checks when a section ends.  A requirement that matches nothing is worth
 * an error only when no bad value inside it explains that already. */
static void
cfg_section_end(struct cfg_parse *p)
{
	struct config_requirement *r;

	if (p->sec != SEC_REQUIREMENT || p->nerrs > p->sec_nerrs)
		return;
	r = &p->cfg->requirements[p->idx];
	if (r->category == -1 && r->meeting_type == -1 && r->naliases == 0)
		cfg_error(p, r->line, "requirement '%s' matches nothing: give "
		    "category, meeting_type or aliases", r->name);
}

/* Open the section of a "[type name]" header; inner is between the
 * brackets. */
static void
cfg_section(struct cfg_parse *p, const char *inner, size_t len)
{
	struct config *cfg = p->cfg;
	const char *type, *name;
	char *t, *n;
	size_t tlen, nlen, i;
	int v;

	cfg_section_end(p);
	p->sec_nerrs = p->nerrs;
	cfg_trim(&inner, &len);
	type = inner;
	for (tlen = 0; tlen < len && !cfg_is_blank((unsigned char)type[tlen]);
	    tlen++)
		;
	name = type + tlen;
	nlen = len - tlen;
	cfg_trim(&name, &nlen);
	t = xstrndup(type, tlen);
	n = xstrndup(name, nlen);

	free(p->secdesc);
	if (nlen > 0)
		xasprintf(&p->secdesc, "[%s %s]", t, n);
	else
		xasprintf(&p->secdesc, "[%s]", t);
	p->sec = SEC_SKIP;
	p->inst_seen = 0;
	p->seen = &p->inst_seen;

	if (tlen == 0) {
		cfg_error(p, p->lineno, "empty section name");
	} else if (memchr(inner, '[', len) != NULL ||
	    memchr(inner, ']', len) != NULL) {
		cfg_error(p, p->lineno, "'[' or ']' inside a section name");
	} else if (strcmp(t, "daemon") == 0) {
		if (nlen > 0)
			cfg_error(p, p->lineno, "[daemon] takes no name");
		else {
			p->sec = SEC_DAEMON;
			p->seen = &p->daemon_seen;
		}
	} else if (strcmp(t, "category") == 0) {
		if ((v = classify_category_from_name(n)) == -1)
			cfg_error(p, p->lineno, "unknown category '%s' in %s "
			    "(use study, party-day, volunteer, "
			    "standardization or other)", n, p->secdesc);
		else {
			p->sec = SEC_CATEGORY;
			p->idx = (size_t)v;
			p->seen = &p->cat_seen[v];
		}
	} else if (strcmp(t, "meeting") == 0) {
		if ((v = classify_meeting_from_name(n)) == -1)
			cfg_error(p, p->lineno, "unknown meeting type '%s' in "
			    "%s (use branch-committee, member-assembly, group, "
			    "lecture or theory-study)", n, p->secdesc);
		else {
			p->sec = SEC_MEETING;
			p->idx = (size_t)v;
			p->seen = &p->mt_seen[v];
		}
	} else if (strcmp(t, "feed") == 0) {
		for (i = 0; i < cfg->nfeeds; i++)
			if (strcmp(cfg->feeds[i].name, n) == 0)
				break;
		if (nlen == 0)
			cfg_error(p, p->lineno, "[feed] needs a name");
		else if (!cfg_feed_name_valid(n))
			cfg_error(p, p->lineno, "bad feed name '%s' (letters, "
			    "digits, '.', '_' and '-' only)", n);
		else if (i < cfg->nfeeds)
			cfg_error(p, p->lineno, "duplicate feed '%s' (first on "
			    "line %u)", n, cfg->feeds[i].line);
		else {
			cfg->feeds = xreallocarray(cfg->feeds, cfg->nfeeds + 1,
			    sizeof *cfg->feeds);
			cfg_feed_init(&cfg->feeds[cfg->nfeeds], n, p->lineno);
			p->idx = cfg->nfeeds++;
			p->sec = SEC_FEED;
		}
	} else if (strcmp(t, "requirement") == 0) {
		p->have_requirements = 1;
		for (i = 0; i < cfg->nrequirements; i++)
			if (strcmp(cfg->requirements[i].name, n) == 0)
				break;
		if (nlen == 0)
			cfg_error(p, p->lineno, "[requirement] needs a name");
		else if (i < cfg->nrequirements)
			cfg_error(p, p->lineno, "duplicate requirement '%s' "
			    "(first on line %u)", n,
			    cfg->requirements[i].line);
		else {
			cfg_requirement_add(cfg, n, p->lineno);
			p->idx = cfg->nrequirements - 1;
			p->sec = SEC_REQUIREMENT;
		}
	} else
		cfg_error(p, p->lineno, "unknown section %s", p->secdesc);
	free(t);
	free(n);
}

/*
 * Check one physical line and copy what inih should see of it into
 * str[0..num): the line without comments and surrounding blanks, or an empty
 * line after a syntax error (recorded here, with its line number).
 */
static void
cfg_scan_line(struct cfg_parse *p, const char *line, size_t len, char *str,
    int num)
{
	const char *end;
	size_t i;

	*str = '\0';
	if (memchr(line, '\0', len) != NULL) {
		cfg_error(p, p->lineno, "NUL byte in line");
		return;
	}
	if (!cfg_utf8_valid((const unsigned char *)line, len)) {
		cfg_error(p, p->lineno, "invalid UTF-8");
		return;
	}
	while (len > 0 && cfg_is_blank((unsigned char)*line)) {
		line++;
		len--;
	}
	if (len == 0 || *line == ';' || *line == '#')
		return;
	/* A ';' after a blank starts a comment (inih's rule). */
	for (i = 1; i < len; i++)
		if (line[i] == ';' && cfg_is_blank((unsigned char)line[i - 1]))
			break;
	len = i < len ? i : len;
	while (len > 0 && cfg_is_blank((unsigned char)line[len - 1]))
		len--;

	if (*line == '[') {
		if (len < 2 || line[len - 1] != ']') {
			cfg_section_end(p);
			cfg_error(p, p->lineno, "syntax error: a section "
			    "header must end with ']'");
			p->sec = SEC_SKIP;
			return;
		}
		cfg_section(p, line + 1, len - 2);
		/* inih need not see it: the section is ours. */
		return;
	}
	end = memchr(line, '=', len);
	if (end == NULL && memchr(line, ':', len) == NULL) {
		/* The line is not echoed: it may hold a password. */
		cfg_error(p, p->lineno, "syntax error: expected [section] or "
		    "key = value");
		return;
	}
	/* inih's buffer must hold the line, '\n', '\0' and a spare byte
	 * for the '\r' it expects (its own documented "3 more"). */
	if (num < 4 || len > (size_t)num - 3) {
		cfg_error(p, p->lineno, "line too long (at most %d bytes "
		    "without comments); repeat list keys instead", num - 3);
		return;
	}
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
}

/* inih's reader: one physical line per call, so our count is inih's. */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parse *p = stream;
	const char *line, *nl;
	size_t len;

	if (p->off >= p->len || num < 1)
		return NULL;
	line = p->buf + p->off;
	nl = memchr(line, '\n', p->len - p->off);
	len = nl != NULL ? (size_t)(nl - line) : p->len - p->off;
	p->off += len + (nl != NULL);
	p->lineno++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (p->lineno == 1 && len >= 3 &&
	    memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	cfg_scan_line(p, line, len, str, num);
	return str;
}

/*
 * The config.
 */

static void
cfg_add_default_requirements(struct config *cfg)
{
	static const struct {
		const char		*name;
		enum dj_category	 category;
		enum dj_meeting		 meeting;
		enum config_cadence	 cadence;
	} defs[] = {
		{ "支委会", DJ_CAT_STUDY, DJ_MT_BRANCH_COMMITTEE,
		    CONFIG_CADENCE_MONTH },
		{ "党员大会", DJ_CAT_STUDY, DJ_MT_MEMBER_ASSEMBLY,
		    CONFIG_CADENCE_QUARTER },
		{ "党小组会", DJ_CAT_STUDY, DJ_MT_GROUP, CONFIG_CADENCE_MONTH },
		{ "党课", DJ_CAT_STUDY, DJ_MT_LECTURE, CONFIG_CADENCE_QUARTER },
		{ "主题党日", DJ_CAT_PARTY_DAY, -1, CONFIG_CADENCE_MONTH },
	};
	struct config_requirement *r;
	size_t i;

	for (i = 0; i < NITEMS(defs); i++) {
		r = cfg_requirement_add(cfg, defs[i].name, 0);
		r->category = (int)defs[i].category;
		r->meeting_type = (int)defs[i].meeting;
		r->cadence = defs[i].cadence;
		r->warn_days = cfg->warn_days;
	}
	cfg->default_requirements = 1;
}

static struct config *
cfg_new(void)
{
	struct config *cfg;

	cfg = xcalloc(1, sizeof *cfg);
	cfg->database = xstrdup(CONFIG_DEF_DATABASE);
	cfg->socket = xstrdup(CONFIG_DEF_SOCKET);
	cfg->socket_mode = CONFIG_DEF_SOCKET_MODE;
	cfg->admin_group = xstrdup(CONFIG_DEF_ADMIN_GROUP);
	cfg->http_listen = xstrdup(CONFIG_DEF_HTTP_LISTEN);
	cfg->http_token = xstrdup("");
	cfg->timezone = xstrdup(CONFIG_DEF_TIMEZONE);
	cfg->horizon_days = CONFIG_DEF_HORIZON;
	cfg->history_days = CONFIG_DEF_HISTORY;
	if (config_parse_leads(CONFIG_DEF_REMINDERS, &cfg->reminders) == -1)
		abort();
	cfg->late_grace = CONFIG_DEF_LATE_GRACE;
	cfg->max_feed_bytes = CONFIG_DEF_MAX_FEED;
	cfg->max_clients = CONFIG_DEF_MAX_CLIENTS;
	cfg->max_output_bytes = CONFIG_DEF_MAX_OUTPUT;
	cfg->warn_days = CONFIG_DEF_WARN_DAYS;
	cfg->fetch_timeout = CONFIG_DEF_FETCH_TIMEOUT;
	return cfg;
}

struct config *
config_default(void)
{
	struct config *cfg = cfg_new();

	cfg_add_default_requirements(cfg);
	return cfg;
}

/* Checks that need the whole file: feeds without url, requirements. */
static void
cfg_finish(struct cfg_parse *p)
{
	struct config *cfg = p->cfg;
	struct config_requirement *r;
	size_t i;

	for (i = 0; i < cfg->nfeeds; i++)
		if (cfg->feeds[i].url == NULL)
			cfg_error(p, cfg->feeds[i].line, "feed '%s' has no url",
			    cfg->feeds[i].name);
	for (i = 0; i < cfg->nrequirements; i++) {
		r = &cfg->requirements[i];
		if (r->warn_days == -1)
			r->warn_days = cfg->warn_days;
		if (r->meeting_type != -1 && r->category == -1)
			r->category = DJ_CAT_STUDY;
		if (r->meeting_type != -1 && r->category != DJ_CAT_STUDY)
			cfg_error(p, r->line, "requirement '%s': meeting_type "
			    "applies to category study only", r->name);
	}
	if (!p->have_requirements)
		cfg_add_default_requirements(cfg);
}

static int	cfg_parse_buf(const char *, const char *, size_t,
		    struct config **, char **);

/* Read the whole file; -1 with errno set. */
static int
cfg_read_file(const char *path, char **buf, size_t *len)
{
	FILE *f;
	char *b = NULL;
	size_t n = 0, cap = 0, r;
	int saved;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	for (;;) {
		if (n == cap) {
			if (cap >= CONFIG_MAX_FILE) {
				free(b);
				fclose(f);
				errno = EFBIG;
				return -1;
			}
			cap = cap == 0 ? 8192 : cap * 2;
			b = xrealloc(b, cap + 1);
		}
		r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		saved = errno;
		free(b);
		fclose(f);
		errno = saved != 0 ? saved : EIO;
		return -1;
	}
	fclose(f);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int
config_load(const char *path, struct config **out, char **cause)
{
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if (cause != NULL)
		*cause = NULL;
	if (cfg_read_file(path, &buf, &len) == -1) {
		if (cause != NULL)
			xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = cfg_parse_buf(path, buf, len, out, cause);
	free(buf);
	return rc;
}

int
config_load_buffer(const char *name, const char *buf, size_t len,
    struct config **out, char **cause)
{
	char *copy;
	int rc;

	*out = NULL;
	if (cause != NULL)
		*cause = NULL;
	if (len >= CONFIG_MAX_FILE) {
		if (cause != NULL)
			xasprintf(cause, "%s: %s", name, strerror(EFBIG));
		return -1;
	}
	/* NUL-terminated, as cfg_read_file leaves a file's bytes. */
	copy = xmalloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	rc = cfg_parse_buf(name, copy, len, out, cause);
	free(copy);
	return rc;
}

/* Parse a file's bytes (buf[len] is NUL; borrowed): config_load's and
 * config_load_buffer's common path. */
static int
cfg_parse_buf(const char *path, const char *buf, size_t len,
    struct config **out, char **cause)
{
	struct cfg_parse p;
	char *base;
	size_t i;
	int rc;

	memset(&p, 0, sizeof p);
	p.file = path;
	p.buf = buf;
	p.len = len;
	p.sec = SEC_NONE;
	p.seen = &p.inst_seen;
	p.secdesc = xstrdup("[]");
	if ((p.dir = cfg_dirname(path)) == NULL) {
		if (cause != NULL)
			xasprintf(cause, "%s: current directory: %s", path,
			    strerror(errno));
		free(p.secdesc);
		return -1;
	}
	p.cfg = cfg_new();
	base = strrchr(path, '/');
	p.cfg->path = cfg_abspath(p.dir, base != NULL ? base + 1 : path);

	rc = ini_parse_stream(cfg_reader, &p, cfg_handler, &p);
	cfg_section_end(&p);
	if (rc > 0 && p.nerrs == 0)	/* the reader should have said */
		cfg_error(&p, (unsigned)rc, "syntax error");
	else if (rc < 0)
		cfg_error(&p, 0, "out of memory in inih");
	cfg_finish(&p);

	if (p.nerrs > 0) {
		if (cause != NULL)
			*cause = cfg_errors_join(&p);
		config_free(p.cfg);
	} else
		*out = p.cfg;
	for (i = 0; i < p.nerrs; i++)
		free(p.errs[i].msg);
	free(p.errs);
	free(p.secdesc);
	free(p.dir);
	return *out != NULL ? 0 : -1;
}

static void
cfg_free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
config_free(struct config *cfg)
{
	struct config_feed *f;
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->database);
	free(cfg->socket);
	free(cfg->admin_group);
	free(cfg->http_listen);
	if (cfg->http_token != NULL)
		explicit_bzero(cfg->http_token, strlen(cfg->http_token));
	free(cfg->http_token);
	free(cfg->timezone);
	free(cfg->ca_file);
	for (i = 0; i < DJ_CAT_COUNT; i++)
		cfg_free_list(cfg->categories[i].aliases,
		    cfg->categories[i].naliases);
	for (i = 0; i < DJ_MT_COUNT; i++)
		cfg_free_list(cfg->meetings[i].aliases,
		    cfg->meetings[i].naliases);
	for (i = 0; i < cfg->nfeeds; i++) {
		f = &cfg->feeds[i];
		free(f->name);
		free(f->url);
		free(f->path);
		free(f->branch);
		free(f->username);
		if (f->password != NULL)
			explicit_bzero(f->password, strlen(f->password));
		free(f->password);
		free(f->ca_file);
	}
	free(cfg->feeds);
	for (i = 0; i < cfg->nrequirements; i++) {
		free(cfg->requirements[i].name);
		cfg_free_list(cfg->requirements[i].aliases,
		    cfg->requirements[i].naliases);
	}
	free(cfg->requirements);
	free(cfg);
}

const struct config_feed *
config_feed_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nfeeds; i++)
		if (strcmp(cfg->feeds[i].name, name) == 0)
			return &cfg->feeds[i];
	return NULL;
}

const struct dj_leads *
config_leads(const struct config *cfg, const struct config_feed *feed,
    enum dj_category cat)
{
	if (feed != NULL && feed->has_reminders)
		return &feed->reminders;
	if ((int)cat >= 0 && cat < DJ_CAT_COUNT &&
	    cfg->categories[cat].has_reminders)
		return &cfg->categories[cat].reminders;
	return &cfg->reminders;
}
