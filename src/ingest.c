/*
 * Ingest: split a body into components with a line scanner, group them by
 * UID, and parse each component with libical on its own.
 *
 * Why not icalparser over the whole body: libical keeps the whole tree in
 * memory (about ten times the body), and one malformed component can end
 * the parse of everything after it.  Scanning BEGIN/END lines first gives
 * spans that are parsed one at a time and reported by line.
 */
#include <ctype.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "djcal/ingest.h"
#include "djcal/xmalloc.h"

enum span_type {
	SPAN_VEVENT,
	SPAN_VTODO,
	SPAN_VTIMEZONE,
	SPAN_OTHER
};

struct span {
	size_t		 off, len;	/* the component's bytes */
	unsigned	 line;		/* its BEGIN line */
	enum span_type	 type;
	int		 cal;		/* calendar index; -1: bare */
	int		 broken;	/* not terminated properly */
	int		 too_deep;	/* nests past SCAN_MAX_DEPTH */
	char		*uid;		/* raw UID value, or NULL */
};

struct group {
	char		*uid;
	size_t		*spans;
	size_t		 n, cap;
};

struct scan {
	const char	*buf;
	size_t		 len;
	struct span	*spans;
	size_t		 nspans, capspans;
	int		 ncals;
	int		 saw_bare;
	unsigned	 garbage_line;	/* first line outside any calendar */
	size_t		 garbage;
};

/* Reporting */

static void
report_add(struct ingest_report *r, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
report_add(struct ingest_report *r, unsigned line, const char *fmt, ...)
{
	char *msg, *full;
	va_list ap;

	if (r->nproblems >= INGEST_MAX_PROBLEMS) {
		r->more_problems++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;
	if (line > 0)
		xasprintf(&full, "line %u: %s", line, msg);
	else
		full = xstrdup(msg);
	free(msg);
	r->problems = xreallocarray(r->problems, r->nproblems + 1,
	    sizeof *r->problems);
	r->problems[r->nproblems++] = full;
}

void
ingest_report_free(struct ingest_report *r)
{
	size_t i;

	for (i = 0; i < r->nproblems; i++)
		free(r->problems[i]);
	free(r->problems);
	memset(r, 0, sizeof *r);
}

char *
ingest_report_summary(const struct ingest_report *r)
{
	size_t i, need = 1;
	char *s, *p;

	if (r->nproblems == 0)
		return NULL;
	for (i = 0; i < r->nproblems; i++)
		need += strlen(r->problems[i]) + 2;
	need += 32;
	s = p = xmalloc(need);
	*p = '\0';
	for (i = 0; i < r->nproblems; i++)
		p += sprintf(p, "%s%s", i > 0 ? "; " : "", r->problems[i]);
	if (r->more_problems > 0)
		sprintf(p, "; and %zu more", r->more_problems);
	return s;
}

#define HASH_WIDE	4096
#define HASH_P1		0x9E3779B185EBCA87ULL
#define HASH_P2		0xC2B2AE3D27D4EB4FULL

static uint64_t
rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/*
 * FNV-1a takes one byte per multiplication, each waiting for the last:
 * about 1.5 ns a byte, 100 ms for the 64 MB body that a poll answered
 * with the same bytes hashes again.  From HASH_WIDE bytes on, four
 * independent lanes take 8 bytes a step (xxHash64's round), about ten
 * times faster; FNV-1a then takes the tail.  Short strings (UIDs, the
 * config's signature, most series) hash as before.  Words are read in
 * host byte order: a database moved to a machine of the other order
 * reads its big feeds and series once more, nothing worse.
 */
uint64_t
ingest_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 1469598103934665603ULL, v[4], w;
	size_t i = 0, k;

	if (len >= HASH_WIDE) {
		v[0] = h;
		v[1] = h ^ HASH_P1;
		v[2] = h ^ HASH_P2;
		v[3] = h + HASH_P1;
		for (; i + 32 <= len; i += 32)
			for (k = 0; k < 4; k++) {
				memcpy(&w, p + i + 8 * k, sizeof w);
				v[k] = rotl64(v[k] + w * HASH_P2, 31) * HASH_P1;
			}
		h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) +
		    rotl64(v[3], 18);
	}
	for (; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Encoding: UTF-16 is converted, invalid UTF-8 replaced */

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Length of a fold (CRLF or LF, then a space or tab) at p, or 0. */
static size_t
fold_len(const unsigned char *p, size_t n)
{
	size_t i = n > 0 && p[0] == '\r' ? 1 : 0;

	if (i + 1 < n && p[i] == '\n' && (p[i + 1] == ' ' || p[i + 1] == '\t'))
		return i + 2;
	return 0;
}

/*
 * Like utf8_seq, but folds may split the sequence: RFC 5545 3.1 folds at
 * octets, and writers do split characters.  The folds stay (libical
 * unfolds later); the length counts them.
 */
static size_t
utf8_seq_folded(const unsigned char *p, size_t n)
{
	unsigned char seq[4];
	size_t need, got = 1, i = 1, f;

	if ((need = utf8_seq(p, n)) != 0)
		return need;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4;
	else
		return 0;
	seq[0] = p[0];
	while (got < need && i < n) {
		if ((f = fold_len(p + i, n - i)) != 0) {
			i += f;
			continue;
		}
		seq[got++] = p[i++];
	}
	if (got < need || utf8_seq(seq, need) != need)
		return 0;
	return i;
}

/*
 * Return a UTF-8 copy of the body when it needs one (UTF-16, invalid UTF-8,
 * NUL bytes), else NULL.  Invalid bytes become U+FFFD so that every string
 * that leaves djcal (JSON, ICS) is valid UTF-8.
 */
static char *
decode_body(const char *body, size_t len, size_t *outlen,
    struct ingest_report *r)
{
	const unsigned char *p = (const unsigned char *)body;
	size_t i, n, bad = 0;
	char *out, *o;

	if (len >= 2 && ((p[0] == 0xff && p[1] == 0xfe) ||
	    (p[0] == 0xfe && p[1] == 0xff) || (p[0] != 0 && p[1] == 0 &&
	    len >= 4 && p[2] != 0 && p[3] == 0))) {
		const char *from = p[0] == 0xfe ? "UTF-16BE" :
		    p[0] == 0xff ? "UTF-16LE" : "UTF-16LE";
		iconv_t cd = iconv_open("UTF-8", from);
		char *in = (char *)body, *dst;
		size_t inleft = len, outleft = len * 2 + 4;

		if (cd == (iconv_t)-1)
			return NULL;
		out = dst = xmalloc(outleft);
		while (inleft > 0 && iconv(cd, &in, &inleft, &dst,
		    &outleft) == (size_t)-1) {
			if (inleft < 2)
				break;
			in += 2;	/* skip an unpaired unit */
			inleft -= 2;
			bad++;
		}
		iconv_close(cd);
		*outlen = (size_t)(dst - out);
		if (*outlen >= 3 && memcmp(out, "\xef\xbb\xbf", 3) == 0) {
			memmove(out, out + 3, *outlen - 3);
			*outlen -= 3;
		}
		report_add(r, 0, "UTF-16 body converted to UTF-8%s",
		    bad > 0 ? " (invalid units dropped)" : "");
		return out;
	}
	for (i = 0; i < len; i += n) {
		if (p[i] == 0 || (n = utf8_seq_folded(p + i, len - i)) == 0)
			break;
	}
	if (i == len)
		return NULL;
	out = o = xmalloc(len * 3 + 1);
	for (i = 0; i < len; i += n) {
		if (p[i] != 0 && (n = utf8_seq_folded(p + i, len - i)) != 0) {
			memcpy(o, p + i, n);
			o += n;
			continue;
		}
		n = 1;
		bad++;
		memcpy(o, "\xef\xbf\xbd", 3);
		o += 3;
	}
	*outlen = (size_t)(o - out);
	report_add(r, 0, "%zu bytes of invalid UTF-8 (or NUL) replaced by "
	    "U+FFFD", bad);
	return out;
}

/* Scanning lines */

/* Is the line (without its end) "KEY:VALUE" for the given key and value,
 * ASCII case-insensitive, trailing blanks ignored? */
static int
line_is(const char *l, size_t n, const char *key, const char *value)
{
	size_t kl = strlen(key), vl;

	while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
		n--;
	if (n < kl + 1 || strncasecmp(l, key, kl) != 0 || l[kl] != ':')
		return 0;
	l += kl + 1;
	n -= kl + 1;
	if (value == NULL)
		return 1;
	vl = strlen(value);
	return n == vl && strncasecmp(l, value, vl) == 0;
}

/* The value of a BEGIN: or END: line, or NULL; *vlen gets its length. */
static const char *
line_keyword(const char *l, size_t n, const char *key, size_t *vlen)
{
	size_t kl = strlen(key);

	while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
		n--;
	if (n <= kl + 1 || strncasecmp(l, key, kl) != 0 || l[kl] != ':')
		return NULL;
	*vlen = n - kl - 1;
	return l + kl + 1;
}

static int
is_blank(const char *l, size_t n)
{
	while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
		n--;
	return n == 0;
}

static enum span_type
span_type_of(const char *v, size_t n)
{
	if (n == 6 && strncasecmp(v, "VEVENT", 6) == 0)
		return SPAN_VEVENT;
	if (n == 5 && strncasecmp(v, "VTODO", 5) == 0)
		return SPAN_VTODO;
	if (n == 9 && strncasecmp(v, "VTIMEZONE", 9) == 0)
		return SPAN_VTIMEZONE;
	return SPAN_OTHER;
}

/* Decode RFC 5545 TEXT escapes in place: \\ \; \, \n \N. */
static void
text_unescape(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			*o++ = *s == 'n' || *s == 'N' ? '\n' : *s;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

/*
 * The value of a "UID" content line starting at off (n bytes before its
 * line end), unfolded and decoded; NULL when the line is not UID.
 * Parameters (rare on UID) are skipped, quoted strings respected.
 */
static char *
uid_value(const char *buf, size_t len, size_t off, size_t n)
{
	const char *l = buf + off;
	size_t i, end, vn;
	int quoted = 0;
	char *line, *v;

	if (n < 3 || strncasecmp(l, "UID", 3) != 0 ||
	    (n > 3 && l[3] != ':' && l[3] != ';'))
		return NULL;
	/* Unfold: CRLF or LF followed by a space or tab continues. */
	line = xstrndup(l, n);
	vn = n;
	end = off + n;
	for (;;) {
		size_t s, e, cn;

		if (end < len && buf[end] == '\r')
			end++;
		if (end >= len || buf[end] != '\n')
			break;
		s = end + 1;
		if (s >= len || (buf[s] != ' ' && buf[s] != '\t'))
			break;
		for (e = s + 1; e < len && buf[e] != '\n'; e++)
			;
		cn = e - (s + 1);
		if (cn > 0 && buf[e - 1] == '\r')
			cn--;
		line = xrealloc(line, vn + cn + 1);
		memcpy(line + vn, buf + s + 1, cn);
		vn += cn;
		line[vn] = '\0';
		end = s + 1 + cn;
	}
	if (vn < 4 || (line[3] != ':' && line[3] != ';')) {
		free(line);
		return NULL;
	}
	for (i = 3; i < vn; i++) {
		if (line[i] == '"')
			quoted = !quoted;
		else if (line[i] == ':' && !quoted)
			break;
	}
	if (i >= vn) {
		free(line);
		return NULL;
	}
	v = xstrdup(line + i + 1);
	free(line);
	text_unescape(v);
	return v;
}

static struct span *
span_new(struct scan *sc, size_t off, unsigned line, enum span_type t, int cal)
{
	struct span *s;

	if (sc->nspans == sc->capspans) {
		sc->capspans = sc->capspans == 0 ? 256 : sc->capspans * 2;
		sc->spans = xreallocarray(sc->spans, sc->capspans,
		    sizeof *sc->spans);
	}
	s = &sc->spans[sc->nspans++];
	memset(s, 0, sizeof *s);
	s->off = off;
	s->line = line;
	s->type = t;
	s->cal = cal;
	return s;
}

#define SCAN_MAX_DEPTH	16

/*
 * Walk the lines once: calendars, the components directly in them (and bare
 * top-level VEVENT/VTODO), their UIDs.  A component that ends badly (EOF, a
 * BEGIN of a top-level kind inside it, a wrong END) is marked broken.
 */
static void
scan_body(struct scan *sc, struct ingest_report *r)
{
	const char *buf = sc->buf;
	size_t len = sc->len, off = 0, vlen;
	struct span *cur = NULL;
	int in_cal = 0, depth = 0, cal = -1;
	char stack[SCAN_MAX_DEPTH][16];
	unsigned line = 0;
	const char *v;

	while (off < len) {
		const char *l = buf + off, *nl;
		size_t n, next;

		line++;
		nl = memchr(l, '\n', len - off);
		n = nl == NULL ? len - off : (size_t)(nl - l);
		next = nl == NULL ? len : off + n + 1;
		if (n > 0 && l[n - 1] == '\r')
			n--;

		if (cur != NULL) {
			if ((v = line_keyword(l, n, "BEGIN", &vlen)) != NULL) {
				enum span_type t = span_type_of(v, vlen);

				if (t != SPAN_OTHER || (vlen == 9 &&
				    strncasecmp(v, "VCALENDAR", 9) == 0)) {
					/* A new top-level component: the
					 * current one never ended. */
					cur->broken = 1;
					cur->len = off - cur->off;
					cur = NULL;
					depth = 0;
					line--;
					continue;	/* rescan this line */
				}
				if (depth < SCAN_MAX_DEPTH) {
					snprintf(stack[depth], sizeof stack[0],
					    "%.*s", (int)(vlen < 15 ? vlen : 15),
					    v);
				} else
					cur->too_deep = 1;
				depth++;
			} else if ((v = line_keyword(l, n, "END", &vlen)) !=
			    NULL) {
				depth--;
				if (depth < SCAN_MAX_DEPTH && (vlen >= 16 ||
				    strncasecmp(stack[depth], v, vlen) != 0 ||
				    stack[depth][vlen] != '\0') && !(vlen == 9 &&
				    strncasecmp(v, "VCALENDAR", 9) == 0))
					report_add(r, line, "END:%.*s closes "
					    "%s", (int)(vlen < 32 ? vlen : 32),
					    v, depth < SCAN_MAX_DEPTH ?
					    stack[depth] : "a component");
				if (depth == 0) {
					cur->len = next - cur->off;
					cur = NULL;
				} else if (vlen == 9 &&
				    strncasecmp(v, "VCALENDAR", 9) == 0) {
					cur->broken = 1;
					cur->len = off - cur->off;
					cur = NULL;
					depth = 0;
					in_cal = 0;
				}
			} else if (depth == 1 && cur->uid == NULL)
				cur->uid = uid_value(buf, len, off, n);
			off = next;
			continue;
		}

		if ((v = line_keyword(l, n, "BEGIN", &vlen)) != NULL) {
			if (vlen == 9 && strncasecmp(v, "VCALENDAR", 9) == 0) {
				if (in_cal)
					report_add(r, line, "BEGIN:VCALENDAR "
					    "inside a calendar");
				in_cal = 1;
				cal = sc->ncals++;
			} else {
				enum span_type t = span_type_of(v, vlen);

				if (!in_cal && t != SPAN_VEVENT &&
				    t != SPAN_VTODO) {
					if (sc->garbage++ == 0)
						sc->garbage_line = line;
					off = next;
					continue;
				}
				if (!in_cal)
					sc->saw_bare = 1;
				cur = span_new(sc, off, line, t,
				    in_cal ? cal : -1);
				snprintf(stack[0], sizeof stack[0], "%.*s",
				    (int)(vlen < 15 ? vlen : 15), v);
				depth = 1;
			}
		} else if (line_is(l, n, "END", "VCALENDAR")) {
			in_cal = 0;
		} else if (!in_cal && !is_blank(l, n)) {
			if (sc->garbage++ == 0)
				sc->garbage_line = line;
		}
		off = next;
	}
	if (cur != NULL) {
		cur->broken = 1;
		cur->len = len - cur->off;
		r->truncated = 1;
	} else if (in_cal) {
		r->truncated = 1;
		report_add(r, line, "calendar not terminated (no "
		    "END:VCALENDAR): the body may be cut off");
	}
}

/* Grouping by UID */

struct uidmap {
	struct group	*groups;
	size_t		 ngroups, capgroups;
	size_t		*slots;		/* group index + 1; 0 = empty */
	size_t		 nslots;
};

static size_t
uidmap_find(struct uidmap *m, const char *uid)
{
	size_t h = (size_t)ingest_hash(uid, strlen(uid)), i;

	for (i = h & (m->nslots - 1);; i = (i + 1) & (m->nslots - 1)) {
		if (m->slots[i] == 0 ||
		    strcmp(m->groups[m->slots[i] - 1].uid, uid) == 0)
			return i;
	}
}

static void
uidmap_grow(struct uidmap *m)
{
	size_t i, *old = m->slots, oldn = m->nslots;

	m->nslots = oldn == 0 ? 1024 : oldn * 2;
	m->slots = xcalloc(m->nslots, sizeof *m->slots);
	for (i = 0; i < oldn; i++)
		if (old[i] != 0)
			m->slots[uidmap_find(m, m->groups[old[i] - 1].uid)] =
			    old[i];
	free(old);
}

/* Add span si to the group of uid (taking ownership of uid). */
static void
uidmap_add(struct uidmap *m, char *uid, size_t si)
{
	struct group *g;
	size_t slot;

	if (m->ngroups * 2 >= m->nslots)
		uidmap_grow(m);
	slot = uidmap_find(m, uid);
	if (m->slots[slot] == 0) {
		if (m->ngroups == m->capgroups) {
			m->capgroups = m->capgroups == 0 ? 256 :
			    m->capgroups * 2;
			m->groups = xreallocarray(m->groups, m->capgroups,
			    sizeof *m->groups);
		}
		g = &m->groups[m->ngroups++];
		memset(g, 0, sizeof *g);
		g->uid = uid;
		m->slots[slot] = m->ngroups;
	} else {
		g = &m->groups[m->slots[slot] - 1];
		free(uid);
	}
	if (g->n == g->cap) {
		g->cap = g->cap == 0 ? 2 : g->cap * 2;
		g->spans = xreallocarray(g->spans, g->cap, sizeof *g->spans);
	}
	g->spans[g->n++] = si;
}

static void
uidmap_free(struct uidmap *m)
{
	size_t i;

	for (i = 0; i < m->ngroups; i++) {
		free(m->groups[i].uid);
		free(m->groups[i].spans);
	}
	free(m->groups);
	free(m->slots);
}

/* Parsing and validating one component */

static const char *
span_name(enum span_type t)
{
	switch (t) {
	case SPAN_VEVENT:
		return "VEVENT";
	case SPAN_VTODO:
		return "VTODO";
	case SPAN_VTIMEZONE:
		return "VTIMEZONE";
	default:
		return "component";
	}
}

/* The property an X-LIC-ERROR complains about ("... in RRULE property"). */
static int
xlic_names(const char *msg, const char *prop)
{
	char pat[48];

	snprintf(pat, sizeof pat, "%s property", prop);
	return strstr(msg, pat) != NULL;
}

/*
 * libical's own string reader hands the parser 79 bytes at a time and looks
 * for the end of the line with strchr each time: quadratic in the length of
 * a line (a 10 MB DESCRIPTION took 22 s).  This one remembers where the
 * line ends.
 */
struct span_reader {
	const char	*buf;
	size_t		 len, pos;
	size_t		 eol;		/* end of the current line (after its
					   '\n', or len); valid when > pos */
};

static char *
span_read_line(char *out, size_t size, void *arg)
{
	struct span_reader *r = arg;
	const char *nl;
	size_t n;

	if (r->pos >= r->len || size < 2)
		return NULL;
	if (r->eol <= r->pos) {
		nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		r->eol = nl == NULL ? r->len : (size_t)(nl - r->buf) + 1;
	}
	n = r->eol - r->pos;
	if (n > size - 1)
		n = size - 1;
	memcpy(out, r->buf + r->pos, n);
	out[n] = '\0';
	r->pos += n;
	return out;
}

/* icalparser_parse_string on len bytes (without NULs), in linear time. */
static icalcomponent *
parse_text(const char *buf, size_t len)
{
	struct span_reader r;
	icalparser *p;
	icalcomponent *c;
	icalerrorstate es;

	memset(&r, 0, sizeof r);
	r.buf = buf;
	r.len = len;
	es = icalerror_get_error_state(ICAL_MALFORMEDDATA_ERROR);
	icalerror_set_error_state(ICAL_MALFORMEDDATA_ERROR,
	    ICAL_ERROR_NONFATAL);
	p = icalparser_new();
	icalparser_set_gen_data(p, &r);
	c = icalparser_parse(p, span_read_line);
	icalparser_free(p);
	icalerror_set_error_state(ICAL_MALFORMEDDATA_ERROR, es);
	return c;
}

/*
 * Parse one span.  NULL (and a problem reported) when the component must be
 * skipped: unparseable, a broken RRULE/DTSTART/RECURRENCE-ID, a VEVENT
 * without DTSTART.  Lesser X-LIC-ERRORs are reported and the component kept.
 */
static icalcomponent *
parse_span(const char *buf, const struct span *sp, struct ingest_report *r)
{
	icalcomponent_kind want;
	icalcomponent *c;
	icalproperty *p;
	const char *what = span_name(sp->type);
	int fatal_err = 0;

	c = parse_text(buf + sp->off, sp->len);
	want = sp->type == SPAN_VEVENT ? ICAL_VEVENT_COMPONENT :
	    sp->type == SPAN_VTODO ? ICAL_VTODO_COMPONENT :
	    ICAL_VTIMEZONE_COMPONENT;
	if (c == NULL || icalcomponent_isa(c) != want) {
		report_add(r, sp->line, "%s could not be parsed; skipped",
		    what);
		if (c != NULL)
			icalcomponent_free(c);
		return NULL;
	}
	for (p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
		const char *msg = icalproperty_get_xlicerror(p);

		if (msg == NULL)
			msg = "";
		if (xlic_names(msg, "RRULE") || xlic_names(msg, "DTSTART") ||
		    xlic_names(msg, "RECURRENCE-ID")) {
			report_add(r, sp->line, "%s: %s; skipped", what, msg);
			fatal_err = 1;
		} else
			report_add(r, sp->line, "%s: %s", what, msg);
	}
	if (!fatal_err && sp->type == SPAN_VEVENT &&
	    icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY) ==
	    NULL) {
		report_add(r, sp->line, "VEVENT without DTSTART; skipped");
		fatal_err = 1;
	}
	if (fatal_err) {
		icalcomponent_free(c);
		return NULL;
	}
	return c;
}

/* Append a span's text with CRLF line ends. */
static void
append_crlf(char **out, size_t *outlen, size_t *cap, const char *s, size_t n)
{
	size_t i;

	if (*outlen + n * 2 + 3 > *cap) {
		*cap = (*outlen + n * 2 + 3) * 2;
		*out = xrealloc(*out, *cap);
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			(*out)[(*outlen)++] = '\r';
		(*out)[(*outlen)++] = s[i];
	}
	if (*outlen > 0 && (*out)[*outlen - 1] != '\n') {
		(*out)[(*outlen)++] = '\r';
		(*out)[(*outlen)++] = '\n';
	}
	(*out)[*outlen] = '\0';
}

/* Zones */

static int
ingest_zones(struct scan *sc, struct tzmap **maps,
    const struct ingest_sink *sink, struct ingest_report *r)
{
	size_t i;

	for (i = 0; i < sc->nspans; i++) {
		struct span *sp = &sc->spans[i];
		icalcomponent *c;
		icalproperty *p;
		const char *tzid;
		char *cause = NULL;

		if (sp->type != SPAN_VTIMEZONE)
			continue;
		if (sp->too_deep) {
			report_add(r, sp->line, "VTIMEZONE nests components "
			    "more than %d deep; skipped", SCAN_MAX_DEPTH);
			continue;
		}
		if (sp->broken) {
			report_add(r, sp->line, "VTIMEZONE not terminated; "
			    "skipped");
			continue;
		}
		if ((c = parse_span(sc->buf, sp, r)) == NULL)
			continue;
		p = icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY);
		tzid = p == NULL ? NULL : icalproperty_get_tzid(p);
		if (tzid == NULL || *tzid == '\0') {
			report_add(r, sp->line, "VTIMEZONE without TZID; "
			    "skipped");
			icalcomponent_free(c);
			continue;
		}
		if (sp->cal >= 0 && tzmap_add(maps[sp->cal], c, &cause) == -1) {
			report_add(r, sp->line, "VTIMEZONE %s: %s; using the "
			    "system zone of that name if any", tzid, cause);
			free(cause);
		}
		if (sink->zone != NULL) {
			char *text = NULL;
			size_t tl = 0, cap = 0;

			append_crlf(&text, &tl, &cap, sc->buf + sp->off,
			    sp->len);
			if (sink->zone(tzid, text, tl, sink->arg) == -1) {
				free(text);
				icalcomponent_free(c);
				return -1;
			}
			free(text);
		}
		icalcomponent_free(c);
	}
	return 0;
}

/* Series */

struct group_work {
	icalcomponent	**comps;
	unsigned	 *lines;
	int		 *cals;
	char		 *text;
	size_t		  textlen, textcap;
};

static int
ingest_group(struct scan *sc, struct group *g, struct tzmap **maps,
    struct tzmap *bare, const struct ingest_sink *sink,
    struct ingest_report *r, struct group_work *w)
{
	struct ingest_series s;
	size_t i, n = 0;
	int cal = -2, rc = 0;

	w->comps = xreallocarray(w->comps, g->n, sizeof *w->comps);
	w->lines = xreallocarray(w->lines, g->n, sizeof *w->lines);
	w->cals = xreallocarray(w->cals, g->n, sizeof *w->cals);
	w->textlen = 0;
	for (i = 0; i < g->n; i++) {
		struct span *sp = &sc->spans[g->spans[i]];
		icalcomponent *c;

		if ((c = parse_span(sc->buf, sp, r)) == NULL) {
			r->skipped++;
			continue;
		}
		if (cal == -2)
			cal = sp->cal;
		w->comps[n] = c;
		w->lines[n] = sp->line;
		w->cals[n] = sp->cal;
		n++;
		append_crlf(&w->text, &w->textlen, &w->textcap,
		    sc->buf + sp->off, sp->len);
	}
	if (n == 0)
		return 0;
	memset(&s, 0, sizeof s);
	s.uid = g->uid;
	s.comps = w->comps;
	s.lines = w->lines;
	s.cals = w->cals;
	s.ncomps = n;
	s.text = w->text;
	s.textlen = w->textlen;
	s.hash = ingest_hash(w->text, w->textlen);
	s.zones = cal >= 0 ? maps[cal] : bare;
	r->series++;
	if (sink->series != NULL && sink->series(&s, sink->arg) == -1)
		rc = -1;
	for (i = 0; i < n; i++)
		icalcomponent_free(w->comps[i]);
	return rc;
}

/* Assign each VEVENT/VTODO span to its UID's group. */
static void
group_spans(struct scan *sc, struct uidmap *m, struct ingest_report *r)
{
	size_t i;

	for (i = 0; i < sc->nspans; i++) {
		struct span *sp = &sc->spans[i];
		char *uid;

		if (sp->type != SPAN_VEVENT && sp->type != SPAN_VTODO)
			continue;
		r->components++;
		/*
		 * libical frees (and copies) a component by recursion, one
		 * stack frame a level: a body of nothing but BEGIN lines
		 * would overflow the stack.  No real calendar nests deeper
		 * than three (VCALENDAR, VEVENT, VALARM).
		 */
		if (sp->too_deep) {
			report_add(r, sp->line, "%s nests components more "
			    "than %d deep; skipped", span_name(sp->type),
			    SCAN_MAX_DEPTH);
			r->skipped++;
			continue;
		}
		if (sp->broken) {
			report_add(r, sp->line, "%s not terminated; skipped",
			    span_name(sp->type));
			r->skipped++;
			continue;
		}
		if (sp->uid != NULL) {
			uid = sp->uid;
			sp->uid = NULL;
		} else {
			/* RFC 5545 requires UID; without one the component's
			 * bytes name it, stable across polls. */
			xasprintf(&uid, INGEST_NOUID_PREFIX "%016llx",
			    (unsigned long long)ingest_hash(sc->buf + sp->off,
			    sp->len));
			report_add(r, sp->line, "%s without UID; named %s",
			    span_name(sp->type), uid);
		}
		uidmap_add(m, uid, i);
	}
}

int
ingest_body(const char *body, size_t len, const struct ingest_opts *opts,
    const struct ingest_sink *sink, struct ingest_report *r, char **cause)
{
	struct scan sc;
	struct uidmap m;
	struct tzmap **maps = NULL, *bare;
	struct group_work w;
	char *decoded;
	size_t dlen = 0, i, limit;
	int rc = 0;

	memset(r, 0, sizeof *r);
	memset(&sc, 0, sizeof sc);
	memset(&m, 0, sizeof m);
	memset(&w, 0, sizeof w);
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		body += 3;
		len -= 3;
	}
	decoded = decode_body(body, len, &dlen, r);
	sc.buf = decoded != NULL ? decoded : body;
	sc.len = decoded != NULL ? dlen : len;
	scan_body(&sc, r);
	if (sc.ncals == 0 && !sc.saw_bare) {
		xasprintf(cause, len == 0 ? "empty body" :
		    "not an iCalendar stream (no BEGIN:VCALENDAR)");
		rc = -1;
		goto out;
	}
	if (sc.garbage > 0)
		report_add(r, sc.garbage_line, "%zu line%s outside any "
		    "calendar ignored", sc.garbage, sc.garbage == 1 ? "" : "s");

	maps = xcalloc((size_t)sc.ncals + 1, sizeof *maps);
	for (i = 0; i < (size_t)sc.ncals; i++)
		maps[i] = tzmap_new();
	bare = opts != NULL && opts->bare_zones != NULL ? opts->bare_zones :
	    tzmap_new();
	if (ingest_zones(&sc, maps, sink, r) == -1) {
		xasprintf(cause, "aborted");
		rc = -1;
		goto freemaps;
	}
	group_spans(&sc, &m, r);
	limit = opts != NULL && opts->max_items > 0 ? opts->max_items :
	    m.ngroups;
	for (i = 0; i < m.ngroups; i++) {
		if (i == limit) {
			/* The same words however many there are: the
			 * feed's health then changes, and is logged, only
			 * when the feed goes over the limit. */
			report_add(r, 0, "more than %zu items (max_items): "
			    "only the first %zu are kept", limit, limit);
			r->truncated = 1;
			r->over_limit = m.ngroups - limit;
			break;
		}
		if (ingest_group(&sc, &m.groups[i], maps, bare, sink, r,
		    &w) == -1) {
			xasprintf(cause, "aborted");
			rc = -1;
			break;
		}
	}
freemaps:
	for (i = 0; i < (size_t)sc.ncals; i++)
		tzmap_free(maps[i]);
	if (opts == NULL || bare != opts->bare_zones)
		tzmap_free(bare);
	free(maps);
out:
	for (i = 0; i < sc.nspans; i++)
		free(sc.spans[i].uid);
	free(sc.spans);
	uidmap_free(&m);
	free(w.comps);
	free(w.lines);
	free(w.cals);
	free(w.text);
	free(decoded);
	return rc;
}
