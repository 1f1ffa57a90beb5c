/*
 * The ICS export: the merged calendar that calendar clients subscribe to
 * (rendering), and the evhttp server that hands it out with validators,
 * gzip and an optional token.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <libical/ical.h>
#include <zlib.h>

#include "djcal/classify.h"
#include "djcal/export.h"
#include "djcal/ingest.h"
#include "djcal/log.h"
#include "djcal/tz.h"
#include "djcal/types.h"
#include "djcal/xmalloc.h"

/* Growing byte buffers */

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
buf_grow(struct buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 256;
	while (b->len + more + 1 > b->cap)
		b->cap *= 2;
	b->p = xrealloc(b->p, b->cap);
}

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

static void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* Lines: unfolding, UTF-8, folding */

/*
 * Unfold text into logical lines, each followed by '\n' in out (RFC 5545
 * 3.1: a line end followed by a space or tab is removed with that
 * character).  Line ends may be CRLF, LF or CR; empty lines are dropped.
 */
static void
unfold(const char *text, size_t len, struct buf *out)
{
	size_t i = 0;
	int at_start = 1;	/* nothing of the current line written yet */

	while (i < len) {
		char c = text[i];

		if (c == '\r' || c == '\n') {
			i += c == '\r' && i + 1 < len && text[i + 1] == '\n' ?
			    2 : 1;
			if (i < len && (text[i] == ' ' || text[i] == '\t') &&
			    !at_start) {
				i++;	/* a continuation */
				continue;
			}
			if (!at_start)
				buf_addc(out, '\n');
			at_start = 1;
			continue;
		}
		buf_addc(out, c);
		at_start = 0;
		i++;
	}
	if (!at_start)
		buf_addc(out, '\n');
}

/*
 * The length of the UTF-8 character at p (at most n bytes), or 0 when the
 * bytes there are not one (overlong forms, surrogates and code points past
 * U+10FFFF included).
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len, i;

	if (c < 0x80)
		return c == 0 ? 0 : 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return len;
}

/*
 * Append one logical line folded: at most EXPORT_FOLD octets per physical
 * line (a continuation's leading space counts), cut only between UTF-8
 * characters; invalid bytes become U+FFFD.
 */
static void
fold_line(struct buf *out, const char *line, size_t len)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)line;
	size_t i = 0, used = 0, clen;
	const char *c;

	buf_grow(out, len + len / 40 * 3 + 8);
	while (i < len) {
		if ((clen = utf8_len(p + i, len - i)) == 0) {
			c = repl;
			clen = 3;
			i++;
		} else {
			c = line + i;
			i += clen;
		}
		if (used + clen > EXPORT_FOLD) {
			buf_add(out, "\r\n ", 3);
			used = 1;
		}
		buf_add(out, c, clen);
		used += clen;
	}
	buf_add(out, "\r\n", 2);
}

char *
export_fold(const char *text, size_t len, size_t *outlen)
{
	struct buf u = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	size_t i = 0;

	unfold(text, len, &u);
	while (i < u.len) {
		char *nl = memchr(u.p + i, '\n', u.len - i);

		fold_line(&out, u.p + i, (size_t)(nl - (u.p + i)));
		i = (size_t)(nl - u.p) + 1;
	}
	buf_free(&u);
	if (out.p == NULL)
		out.p = xstrdup("");
	if (outlen != NULL)
		*outlen = out.len;
	return out.p;
}

/* Content lines: name, parameters, value */

struct cline {
	const char	*p;
	size_t		 len;
	size_t		 name_end;	/* name is p[0, name_end) */
	size_t		 value;		/* value starts here (after ':') */
	int		 valid;		/* a ':' ends the parameters */
	/* The first TZID parameter's value, quotes excluded. */
	int		 has_tzid;
	size_t		 tz_start, tz_end;	/* value */
	size_t		 tz_from, tz_to;	/* with its quotes */
};

static int
span_eq(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

static void
cline_parse(struct cline *l, const char *p, size_t len)
{
	size_t i = 0;

	memset(l, 0, sizeof *l);
	l->p = p;
	l->len = len;
	while (i < len && p[i] != ';' && p[i] != ':')
		i++;
	l->name_end = i;
	while (i < len && p[i] == ';') {
		size_t ps = ++i, pe;

		while (i < len && p[i] != '=' && p[i] != ';' && p[i] != ':')
			i++;
		pe = i;
		if (i >= len || p[i] != '=')
			continue;
		i++;
		for (;;) {
			size_t vs, ve, from = i;

			if (i < len && p[i] == '"') {
				vs = ++i;
				while (i < len && p[i] != '"')
					i++;
				ve = i;
				if (i < len)
					i++;
			} else {
				vs = i;
				while (i < len && p[i] != ';' && p[i] != ':' &&
				    p[i] != ',')
					i++;
				ve = i;
			}
			if (!l->has_tzid && span_eq(p + ps, pe - ps, "TZID")) {
				l->has_tzid = 1;
				l->tz_start = vs;
				l->tz_end = ve;
				l->tz_from = from;
				l->tz_to = i;
			}
			if (i < len && p[i] == ',') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i < len && p[i] == ':') {
		l->valid = 1;
		l->value = i + 1;
	} else
		l->value = len;
}

static int
cline_is(const struct cline *l, const char *name)
{
	return span_eq(l->p, l->name_end, name);
}

/* The value, with surrounding blanks removed, upper-cased into buf. */
static void
cline_word(const struct cline *l, char *buf, size_t size)
{
	size_t i, n = 0;

	for (i = l->value; i < l->len && n + 1 < size; i++)
		if (!isspace((unsigned char)l->p[i]))
			buf[n++] = (char)toupper((unsigned char)l->p[i]);
	buf[n] = '\0';
}

/* A parameter value as written: quoted when it holds ';', ':' or ','. */
static void
add_param_value(struct buf *b, const char *v)
{
	const char *q;

	if (strpbrk(v, ";:,") == NULL) {
		buf_adds(b, v);
		return;
	}
	buf_addc(b, '"');
	for (q = v; *q != '\0'; q++)
		buf_addc(b, *q == '"' ? '\'' : *q);
	buf_addc(b, '"');
}

/* TEXT escaping (RFC 5545 3.3.11). */
static void
add_text(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == ';' || *v == ',')
			buf_addc(b, '\\');
		if (*v == '\n') {
			buf_add(b, "\\n", 2);
			continue;
		}
		if (*v == '\r')
			continue;
		buf_addc(b, *v);
	}
}

/* Small string maps and sets */

struct kv {
	char	*key;
	char	*value;
};

struct kvlist {
	struct kv	*v;
	size_t		 n, cap;
};

static struct kv *
kv_find(struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return &l->v[i];
	return NULL;
}

static struct kv *
kv_add(struct kvlist *l, const char *key, const char *value)
{
	struct kv *e;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	e = &l->v[l->n++];
	e->key = xstrdup(key);
	e->value = xstrdup0(value);
	return e;
}

static void
kv_clear(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* A set of strings (open addressing; never shrinks). */
struct strset {
	char	**slot;
	size_t	  n, cap;
};

static uint64_t
str_hash(const char *s, uint64_t h)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Add s; 1 when it was new, 0 when it was there. */
static int
strset_add(struct strset *set, const char *s)
{
	size_t i, j;

	if ((set->n + 1) * 2 > set->cap) {
		struct strset big;

		big.cap = set->cap == 0 ? 64 : set->cap * 2;
		big.n = set->n;
		big.slot = xcalloc(big.cap, sizeof *big.slot);
		for (j = 0; j < set->cap; j++) {
			if (set->slot[j] == NULL)
				continue;
			i = (size_t)str_hash(set->slot[j],
			    1469598103934665603ULL) & (big.cap - 1);
			while (big.slot[i] != NULL)
				i = (i + 1) & (big.cap - 1);
			big.slot[i] = set->slot[j];
		}
		free(set->slot);
		*set = big;
	}
	i = (size_t)str_hash(s, 1469598103934665603ULL) & (set->cap - 1);
	while (set->slot[i] != NULL) {
		if (strcmp(set->slot[i], s) == 0)
			return 0;
		i = (i + 1) & (set->cap - 1);
	}
	set->slot[i] = xstrdup(s);
	set->n++;
	return 1;
}

static void
strset_clear(struct strset *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof *set);
}

/* Rendering */

/* A TZID as it goes out, and the definition it stands for. */
struct zone_out {
	char	*name;
	char	*def;		/* normalised VTIMEZONE; NULL: none */
	char	*text;		/* what goes out; NULL: none */
	int	 canonical;	/* the system's definition, for everyone */
};

struct render {
	struct store		*store;
	const struct config	*cfg;
	struct buf		 body;	/* the components */
	struct buf		 zones;	/* the VTIMEZONEs */
	struct buf		 scratch;
	int			 failed;
	/* The feed being written, its stored zones, and what each of its
	 * TZIDs goes out as. */
	int64_t			 feed_id;
	char			*feed;
	struct kvlist		 feed_zones;
	struct kvlist		 feed_map;
	/* Every TZID written so far, and system zones' VTIMEZONE text. */
	struct zone_out		*out;
	size_t			 nout;
	struct kvlist		 system;
	struct strset		 uids;
};

static int
load_zone_cb(const char *tzid, const char *ical, void *arg)
{
	struct render *r = arg;

	if (tzid != NULL && ical != NULL && kv_find(&r->feed_zones, tzid) ==
	    NULL)
		kv_add(&r->feed_zones, tzid, ical);
	return 0;
}

/*
 * A DAYLIGHT observance that does not change the offset (the zone's data
 * calls it daylight time, as Argentina's in October 1999) becomes a
 * STANDARD one: the rules are the same, and python-icalendar 4 cannot read
 * a zone where daylight time adds nothing to standard time.
 */
static void
daylight_without_change(icalcomponent *vtz)
{
	icalcomponent *sub, *next, *std;
	icalproperty *p, *from, *to;

	for (sub = icalcomponent_get_first_component(vtz,
	    ICAL_XDAYLIGHT_COMPONENT); sub != NULL; sub = next) {
		next = icalcomponent_get_next_component(vtz,
		    ICAL_XDAYLIGHT_COMPONENT);
		from = icalcomponent_get_first_property(sub,
		    ICAL_TZOFFSETFROM_PROPERTY);
		to = icalcomponent_get_first_property(sub,
		    ICAL_TZOFFSETTO_PROPERTY);
		if (from == NULL || to == NULL ||
		    icalproperty_get_tzoffsetfrom(from) !=
		    icalproperty_get_tzoffsetto(to))
			continue;
		std = icalcomponent_new(ICAL_XSTANDARD_COMPONENT);
		for (p = icalcomponent_get_first_property(sub,
		    ICAL_ANY_PROPERTY); p != NULL;
		    p = icalcomponent_get_next_property(sub, ICAL_ANY_PROPERTY))
			icalcomponent_add_property(std,
			    icalproperty_new_clone(p));
		icalcomponent_remove_component(vtz, sub);
		icalcomponent_free(sub);
		icalcomponent_add_component(vtz, std);
	}
}

/* The VTIMEZONE text of a system zone (its TZID is the IANA name, which
 * the caller replaces), or NULL when the name is no known zone. */
static const char *
system_zone(struct render *r, const char *tzid)
{
	const struct tz *z;
	icalcomponent *c;
	struct kv *e;
	char *text;

	if ((e = kv_find(&r->system, tzid)) != NULL)
		return e->value;
	text = NULL;
	if ((z = tz_system(tzid)) != NULL && (c = tz_component(z)) != NULL) {
		c = icalcomponent_new_clone(c);
		daylight_without_change(c);
		text = icalcomponent_as_ical_string_r(c);
		icalcomponent_free(c);
	}
	e = kv_add(&r->system, tzid, text);
	free(text);
	return e->value;
}

/*
 * A VTIMEZONE's definition for comparison: its lines unfolded, without
 * the TZID itself and without what does not change the rules (DTSTAMP,
 * LAST-MODIFIED, TZURL, X- properties).
 */
static char *
zone_def(struct render *r, const char *text)
{
	struct buf out = { NULL, 0, 0 };
	size_t i = 0;

	r->scratch.len = 0;
	unfold(text, strlen(text), &r->scratch);
	while (i < r->scratch.len) {
		char *l = r->scratch.p + i;
		size_t n = (size_t)((char *)memchr(l, '\n',
		    r->scratch.len - i) - l);
		struct cline cl;

		i += n + 1;
		cline_parse(&cl, l, n);
		if (cline_is(&cl, "TZID") || cline_is(&cl, "DTSTAMP") ||
		    cline_is(&cl, "LAST-MODIFIED") || cline_is(&cl, "TZURL") ||
		    (cl.name_end >= 2 && strncasecmp(l, "X-", 2) == 0))
			continue;
		buf_add(&out, l, n);
		buf_addc(&out, '\n');
	}
	if (out.p == NULL)
		out.p = xstrdup("");
	return out.p;
}

/* Write a VTIMEZONE with its TZID property set to name. */
static void
write_zone(struct render *r, const char *text, const char *name)
{
	struct buf u = { NULL, 0, 0 }, tmp = { NULL, 0, 0 };
	size_t i = 0;
	int depth = 0;

	unfold(text, strlen(text), &u);
	while (i < u.len) {
		char *l = u.p + i;
		size_t n = (size_t)((char *)memchr(l, '\n', u.len - i) - l);
		struct cline cl;

		i += n + 1;
		cline_parse(&cl, l, n);
		if (cline_is(&cl, "BEGIN"))
			depth++;
		else if (cline_is(&cl, "END"))
			depth--;
		else if (depth == 1 && cline_is(&cl, "TZID")) {
			tmp.len = 0;
			buf_adds(&tmp, "TZID:");
			add_text(&tmp, name);
			fold_line(&r->zones, tmp.p, tmp.len);
			continue;
		}
		fold_line(&r->zones, l, n);
	}
	buf_free(&u);
	buf_free(&tmp);
}

static struct zone_out *
zone_add(struct render *r, const char *name, char *def, const char *text)
{
	struct zone_out *o;

	r->out = xreallocarray(r->out, r->nout + 1, sizeof *r->out);
	o = &r->out[r->nout++];
	o->name = xstrdup(name);
	o->def = def;
	o->text = xstrdup0(text);
	o->canonical = 0;
	return o;
}

static int
def_equal(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * What a TZID of the current feed goes out as.  The feed's own VTIMEZONE
 * defines it, else the system zone of that name, else nothing (floating
 * for every reader).  Feeds that agree share the name.  When they do not:
 *
 * - a name the system knows (IANA, Windows, vendor-prefixed) stays, with
 *   the system's definition for all of them: most clients go by such a
 *   name and ignore the VTIMEZONE, and a renamed copy of a partial
 *   definition ("Europe/Berlin" with its 2018 rules only) would make them
 *   read it instead;
 * - any other name (Outlook's "Customized Time Zone") means only its
 *   VTIMEZONE, so a later feed's different one goes out as "TZID (feed)"
 *   and its items keep the rules their source gave them.
 */
static const char *
zone_name(struct render *r, const char *tzid)
{
	struct zone_out *o;
	struct kv *m, *fz;
	const char *text, *sys;
	char *def, *name;
	size_t i;
	int k;

	if ((m = kv_find(&r->feed_map, tzid)) != NULL)
		return m->value;
	sys = system_zone(r, tzid);
	if ((fz = kv_find(&r->feed_zones, tzid)) != NULL)
		text = fz->value;
	else
		text = sys;
	def = text != NULL ? zone_def(r, text) : NULL;
	name = xstrdup(tzid);
	for (k = 1;; k++) {
		o = NULL;
		for (i = 0; i < r->nout; i++)
			if (strcmp(r->out[i].name, name) == 0)
				o = &r->out[i];
		if (o == NULL) {
			zone_add(r, name, def, text);
			break;
		}
		if (o->canonical || def_equal(def, o->def)) {
			free(def);
			break;
		}
		if (k == 1 && sys != NULL) {
			free(o->def);
			free(o->text);
			o->def = zone_def(r, sys);
			o->text = xstrdup(sys);
			o->canonical = 1;
			free(def);
			break;
		}
		free(name);
		if (k == 1)
			xasprintf(&name, "%s (%s)", tzid, r->feed);
		else
			xasprintf(&name, "%s (%s %d)", tzid, r->feed, k);
	}
	m = kv_add(&r->feed_map, tzid, name);
	free(name);
	return m->value;
}

/* The line with its TZID parameter naming the zone as it goes out. */
static void
write_line(struct render *r, const struct cline *cl)
{
	const char *name;
	char *tzid;

	if (!cl->valid || !cl->has_tzid) {
		fold_line(&r->body, cl->p, cl->len);
		return;
	}
	tzid = xstrndup(cl->p + cl->tz_start, cl->tz_end - cl->tz_start);
	name = zone_name(r, tzid);
	if (strcmp(name, tzid) == 0) {
		free(tzid);
		fold_line(&r->body, cl->p, cl->len);
		return;
	}
	free(tzid);
	r->scratch.len = 0;
	buf_add(&r->scratch, cl->p, cl->tz_from);
	add_param_value(&r->scratch, name);
	buf_add(&r->scratch, cl->p + cl->tz_to, cl->len - cl->tz_to);
	fold_line(&r->body, r->scratch.p, r->scratch.len);
}

/* Whether the component starting after line index `from` (depth 1) has a
 * UID property of its own. */
static int
has_uid(const char *u, size_t ulen, size_t from)
{
	size_t i = from;
	int depth = 1;

	while (i < ulen && depth > 0) {
		const char *l = u + i;
		size_t n = (size_t)((const char *)memchr(l, '\n', ulen - i) -
		    l);
		struct cline cl;

		i += n + 1;
		cline_parse(&cl, l, n);
		if (cline_is(&cl, "BEGIN"))
			depth++;
		else if (cline_is(&cl, "END"))
			depth--;
		else if (depth == 1 && cline_is(&cl, "UID"))
			return 1;
	}
	return 0;
}

/*
 * Write one series: its lines unfolded and folded again, TZIDs named as
 * they go out, BEGIN/END balanced (a malformed END closes the open
 * component, as ingest read it), and a UID added to a component that had
 * none (the one djcal gave it, so it stays the same across polls).
 */
static void
write_series(struct render *r, const struct store_export_row *row)
{
	struct buf u = { NULL, 0, 0 };
	char *stack[16], word[64];
	size_t i = 0;
	int depth = 0, deeper = 0, nouid;

	nouid = strncmp(row->uid, INGEST_NOUID_PREFIX,
	    strlen(INGEST_NOUID_PREFIX)) == 0;
	unfold(row->ical, row->icallen, &u);
	while (i < u.len) {
		char *l = u.p + i;
		size_t n = (size_t)((char *)memchr(l, '\n', u.len - i) - l);
		struct cline cl;

		i += n + 1;
		cline_parse(&cl, l, n);
		/* Components nested deeper than any calendar nests them are
		 * left out whole. */
		if (deeper > 0 || (cl.valid && cline_is(&cl, "BEGIN") &&
		    depth == (int)(sizeof stack / sizeof stack[0]))) {
			if (cl.valid && cline_is(&cl, "BEGIN"))
				deeper++;
			else if (cl.valid && cline_is(&cl, "END"))
				deeper--;
			continue;
		}
		if (cl.valid && cline_is(&cl, "BEGIN")) {
			cline_word(&cl, word, sizeof word);
			stack[depth++] = xstrdup(word);
			buf_adds(&r->body, "BEGIN:");
			buf_adds(&r->body, word);
			buf_add(&r->body, "\r\n", 2);
			if (depth == 1 && nouid && !has_uid(u.p, u.len, i)) {
				r->scratch.len = 0;
				buf_adds(&r->scratch, "UID:");
				add_text(&r->scratch, row->uid);
				fold_line(&r->body, r->scratch.p,
				    r->scratch.len);
			}
			continue;
		}
		if (depth == 0)
			continue;	/* nothing outside a component */
		if (cl.valid && cline_is(&cl, "END")) {
			int k;

			cline_word(&cl, word, sizeof word);
			for (k = depth - 1; k >= 0; k--)
				if (strcmp(stack[k], word) == 0)
					break;
			if (k < 0)
				k = depth - 1;	/* END:VTOOD closes a VTODO */
			while (depth > k) {
				depth--;
				buf_adds(&r->body, "END:");
				buf_adds(&r->body, stack[depth]);
				buf_add(&r->body, "\r\n", 2);
				free(stack[depth]);
			}
			continue;
		}
		write_line(r, &cl);
	}
	while (depth > 0) {
		depth--;
		buf_adds(&r->body, "END:");
		buf_adds(&r->body, stack[depth]);
		buf_add(&r->body, "\r\n", 2);
		free(stack[depth]);
	}
	buf_free(&u);
}

static int
render_series_cb(const struct store_export_row *row, void *arg)
{
	struct render *r = arg;

	if (row->feed_id != r->feed_id || r->feed == NULL) {
		kv_clear(&r->feed_zones);
		kv_clear(&r->feed_map);
		free(r->feed);
		r->feed_id = row->feed_id;
		r->feed = xstrdup(row->feed != NULL ? row->feed : "");
		if (store_zones(r->store, row->feed_id, load_zone_cb, r) ==
		    -1) {
			r->failed = 1;
			return 1;
		}
	}
	/* A UID an earlier feed already gave is left out (see
	 * store_duplicates; the feed's problems say so). */
	if (!strset_add(&r->uids, row->uid))
		return 0;
	write_series(r, row);
	return 0;
}

static const char *const category_label[DJ_CAT_COUNT] = {
	[DJ_CAT_STUDY] = "理论学习",
	[DJ_CAT_PARTY_DAY] = "主题党日",
	[DJ_CAT_VOLUNTEER] = "志愿服务",
	[DJ_CAT_STANDARDIZATION] = "标准化规范化建设",
	[DJ_CAT_OTHER] = "其他",
};

/* An ISO 8601 duration: "PT15M", "PT1H30M", "P1D". */
static void
add_duration(struct buf *b, int64_t secs)
{
	char t[64];
	int64_t d = secs / 86400, h = secs % 86400 / 3600,
	    m = secs % 3600 / 60, s = secs % 60;
	int n = 0;

	n += snprintf(t + n, sizeof t - (size_t)n, "P");
	if (d > 0)
		n += snprintf(t + n, sizeof t - (size_t)n, "%lldD",
		    (long long)d);
	if (h > 0 || m > 0 || s > 0 || d == 0)
		n += snprintf(t + n, sizeof t - (size_t)n, "T");
	if (h > 0)
		n += snprintf(t + n, sizeof t - (size_t)n, "%lldH",
		    (long long)h);
	if (m > 0)
		n += snprintf(t + n, sizeof t - (size_t)n, "%lldM",
		    (long long)m);
	if (s > 0 || (d == 0 && h == 0 && m == 0))
		snprintf(t + n, sizeof t - (size_t)n, "%lldS", (long long)s);
	buf_adds(b, t);
}

/* The refresh that clients are told: the shortest of the feeds shown. */
static int64_t
export_refresh(const struct config *cfg, const struct export_filter *f)
{
	int64_t best = 0;
	size_t i;

	for (i = 0; i < cfg->nfeeds; i++) {
		const struct config_feed *cf = &cfg->feeds[i];

		if (f != NULL && f->feed != NULL && strcmp(cf->name, f->feed))
			continue;
		if (f != NULL && f->branch != NULL && (cf->branch == NULL ||
		    strcmp(cf->branch, f->branch) != 0))
			continue;
		if (best == 0 || cf->refresh < best)
			best = cf->refresh;
	}
	if (best == 0 && f != NULL && (f->feed != NULL || f->branch != NULL))
		return export_refresh(cfg, NULL);
	if (best == 0)
		best = 900;
	if (best < EXPORT_REFRESH_MIN)
		best = EXPORT_REFRESH_MIN;
	if (best > EXPORT_REFRESH_MAX)
		best = EXPORT_REFRESH_MAX;
	return best;
}

static void
write_header(struct buf *b, const struct config *cfg,
    const struct export_filter *f)
{
	struct buf t = { NULL, 0, 0 };
	int64_t refresh = export_refresh(cfg, f);
	int i, first = 1;

	fold_line(b, "BEGIN:VCALENDAR", 15);
	fold_line(b, "PRODID:" EXPORT_PRODID, strlen("PRODID:" EXPORT_PRODID));
	fold_line(b, "VERSION:2.0", 11);
	fold_line(b, "CALSCALE:GREGORIAN", 18);
	fold_line(b, "METHOD:PUBLISH", 14);
	buf_adds(&t, "X-WR-CALNAME:");
	add_text(&t, EXPORT_CALNAME);
	if (f->branch != NULL) {
		buf_adds(&t, " · ");
		add_text(&t, f->branch);
	}
	if (f->feed != NULL) {
		buf_adds(&t, " · ");
		add_text(&t, f->feed);
	}
	for (i = 0; i < DJ_CAT_COUNT; i++) {
		if (!(f->categories & (1u << i)))
			continue;
		buf_adds(&t, first ? " · " : "、");
		add_text(&t, category_label[i]);
		first = 0;
	}
	fold_line(b, t.p, t.len);
	t.len = 0;
	buf_adds(&t, "X-WR-TIMEZONE:");
	add_text(&t, cfg->timezone);
	fold_line(b, t.p, t.len);
	t.len = 0;
	buf_adds(&t, "REFRESH-INTERVAL;VALUE=DURATION:");
	add_duration(&t, refresh);
	fold_line(b, t.p, t.len);
	t.len = 0;
	buf_adds(&t, "X-PUBLISHED-TTL:");
	add_duration(&t, refresh);
	fold_line(b, t.p, t.len);
	buf_free(&t);
}

int
export_render(struct store *store, const struct config *cfg,
    const struct export_filter *f, char **out, size_t *len, char **cause)
{
	struct store_filter sf;
	struct render r;
	struct buf b = { NULL, 0, 0 };
	size_t i;
	int rc;

	memset(&r, 0, sizeof r);
	r.store = store;
	r.cfg = cfg;
	r.feed_id = -1;
	memset(&sf, 0, sizeof sf);
	sf.categories = f->categories;
	sf.feed = f->feed;
	sf.branch = f->branch;
	rc = store_export_series(store, &sf, render_series_cb, &r);
	if (rc == 0 && !r.failed) {
		write_header(&b, cfg, f);
		for (i = 0; i < r.nout; i++)
			if (r.out[i].text != NULL)
				write_zone(&r, r.out[i].text, r.out[i].name);
		if (r.zones.len > 0)
			buf_add(&b, r.zones.p, r.zones.len);
		if (r.body.len > 0)
			buf_add(&b, r.body.p, r.body.len);
		fold_line(&b, "END:VCALENDAR", 13);
		*out = b.p;
		*len = b.len;
	} else {
		xasprintf(cause, "database: %s", store_errmsg(store));
		buf_free(&b);
		rc = -1;
	}
	buf_free(&r.body);
	buf_free(&r.zones);
	buf_free(&r.scratch);
	free(r.feed);
	kv_clear(&r.feed_zones);
	kv_clear(&r.feed_map);
	kv_clear(&r.system);
	for (i = 0; i < r.nout; i++) {
		free(r.out[i].name);
		free(r.out[i].def);
		free(r.out[i].text);
	}
	free(r.out);
	strset_clear(&r.uids);
	return rc;
}

/* The HTTP side */

int
export_token_equal(const char *given, const char *want)
{
	size_t n = strlen(want), m = strlen(given), i;
	unsigned char d = n != m;

	/* Every byte of want is looked at, whatever given holds. */
	for (i = 0; i < n; i++)
		d |= (unsigned char)want[i] ^
		    (unsigned char)(i < m ? given[i] : 0);
	return d == 0;
}

/* A rendered body, shared by the cache and the replies sending it. */
struct body {
	int	 refs;
	size_t	 len;
	char	*data;
};

static struct body *
body_new(char *data, size_t len)
{
	struct body *b = xcalloc(1, sizeof *b);

	b->refs = 1;
	b->data = data;
	b->len = len;
	return b;
}

static void
body_unref(struct body *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	free(b->data);
	free(b);
}

static void
body_unref_cb(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	body_unref(arg);
}

struct centry {
	char		*key;		/* NULL: free */
	uint64_t	 version;	/* store content version */
	uint64_t	 cfgsig;
	uint64_t	 tag;		/* the ETag's hash */
	int64_t		 refresh;
	struct body	*plain, *gz;
	unsigned long	 used;
};

struct export {
	struct event_base	*base;
	const struct config	*cfg;
	struct export_env	 env;
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	char			*listen;	/* what bound is bound to */
	struct centry		 cache[EXPORT_CACHE];
	unsigned long		 tick;
	uint64_t		 cfgsig;
	uint64_t		 version;	/* last seen content version */
	time_t			 modified;	/* when it was first seen */
	time_t			 started;
	struct strset		 logged;	/* duplicate UIDs logged */
	size_t			 dup_new;	/* ... new in this check */
};

static time_t
ex_now(struct export *ex)
{
	return ex->env.now != NULL ? ex->env.now(ex->env.arg) : time(NULL);
}

/* Everything of the config a body depends on. */
static uint64_t
config_sig(const struct config *cfg)
{
	uint64_t h = str_hash(DJCAL_VERSION, 1469598103934665603ULL);
	char n[32];
	size_t i;

	h = str_hash(cfg->timezone, h);
	for (i = 0; i < cfg->nfeeds; i++) {
		h = str_hash(cfg->feeds[i].name, h * 31);
		snprintf(n, sizeof n, ":%lld:",
		    (long long)cfg->feeds[i].refresh);
		h = str_hash(n, h);
		h = str_hash(cfg->feeds[i].branch != NULL ?
		    cfg->feeds[i].branch : "", h);
	}
	return h;
}

static void
cache_clear(struct export *ex)
{
	size_t i;

	for (i = 0; i < EXPORT_CACHE; i++) {
		free(ex->cache[i].key);
		body_unref(ex->cache[i].plain);
		body_unref(ex->cache[i].gz);
		memset(&ex->cache[i], 0, sizeof ex->cache[i]);
	}
}

/* The cache key of a filter; lengths keep "a" + "bc" apart from "ab" + "c". */
static char *
filter_key(const struct export_filter *f)
{
	char *k;

	xasprintf(&k, "%x|%zu:%s|%zu:%s", f->categories,
	    f->feed != NULL ? strlen(f->feed) : (size_t)0,
	    f->feed != NULL ? f->feed : "",
	    f->branch != NULL ? strlen(f->branch) : (size_t)0,
	    f->branch != NULL ? f->branch : "");
	return k;
}

static int
log_dup_cb(const char *uid, const char *feed, const char *first, void *arg)
{
	struct export *ex = arg;
	char *k;

	xasprintf(&k, "%s\n%s", feed, uid);
	if (ex->logged.n < 100000 && strset_add(&ex->logged, k)) {
		if (++ex->dup_new <= 10)
			log_warnx("feed %s: UID %s is also in feed %s; left "
			    "out of the merged ICS feed", feed, uid, first);
	}
	free(k);
	return 0;
}

/*
 * Note the store's content version: a new one is when the content was last
 * modified (kept in the store, so a restart does not move Last-Modified),
 * and the time to log new duplicate UIDs.
 */
static uint64_t
note_version(struct export *ex)
{
	struct store *s = ex->env.store;
	uint64_t v = store_content_version(s);
	char *m, buf[64];
	unsigned long long mv;
	long long mt;

	if (v == ex->version && ex->modified != 0)
		return v;
	ex->version = v;
	ex->modified = 0;
	if ((m = store_meta_get(s, "export_modified")) != NULL &&
	    sscanf(m, "%llu %lld", &mv, &mt) == 2 && mv == v)
		ex->modified = (time_t)mt;
	free(m);
	if (ex->modified == 0) {
		ex->modified = ex_now(ex);
		snprintf(buf, sizeof buf, "%llu %lld", (unsigned long long)v,
		    (long long)ex->modified);
		if (store_meta_set(s, "export_modified", buf) == -1)
			log_debug("export: recording the modification time: "
			    "%s", store_errmsg(s));
	}
	ex->dup_new = 0;
	if (store_duplicates(s, log_dup_cb, ex) == -1)
		log_warnx("export: listing duplicate UIDs: %s",
		    store_errmsg(s));
	if (ex->dup_new > 10)
		log_warnx("export: %zu more duplicate UIDs left out of the "
		    "merged ICS feed (see djcal feeds)", ex->dup_new - 10);
	return v;
}

void
export_changed(struct export *ex)
{
	note_version(ex);
}

/* The cached entry for a filter, rendered anew when the store or the
 * config changed.  NULL with *cause when rendering failed. */
static struct centry *
cache_get(struct export *ex, const struct export_filter *f, char **cause)
{
	struct centry *e = NULL, *lru = &ex->cache[0];
	uint64_t v = note_version(ex);
	char *key = filter_key(f), *out, t[32];
	size_t i, len;

	for (i = 0; i < EXPORT_CACHE; i++) {
		if (ex->cache[i].key != NULL &&
		    strcmp(ex->cache[i].key, key) == 0) {
			e = &ex->cache[i];
			break;
		}
		if (ex->cache[i].key == NULL ||
		    (lru->key != NULL && ex->cache[i].used < lru->used))
			lru = &ex->cache[i];
	}
	if (e != NULL && e->version == v && e->cfgsig == ex->cfgsig) {
		free(key);
		e->used = ++ex->tick;
		return e;
	}
	if (export_render(ex->env.store, ex->cfg, f, &out, &len, cause) ==
	    -1) {
		free(key);
		return NULL;
	}
	if (e == NULL)
		e = lru;
	free(e->key);
	body_unref(e->plain);
	body_unref(e->gz);
	memset(e, 0, sizeof *e);
	e->key = key;
	e->version = v;
	e->cfgsig = ex->cfgsig;
	e->plain = body_new(out, len);
	e->refresh = export_refresh(ex->cfg, f);
	snprintf(t, sizeof t, "%llu", (unsigned long long)v);
	e->tag = str_hash(key, str_hash(t, ex->cfgsig));
	e->used = ++ex->tick;
	return e;
}

/* gzip (RFC 1952) of a body, or NULL when zlib fails. */
static struct body *
gzip_body(const struct body *in)
{
	z_stream z;
	uLong bound;
	char *out;
	int rc;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	bound = deflateBound(&z, (uLong)in->len) + 32;
	out = xmalloc(bound);
	z.next_in = (Bytef *)in->data;
	z.avail_in = (uInt)in->len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	if (rc != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	deflateEnd(&z);
	return body_new(out, (size_t)z.total_out);
}

/* Whether Accept-Encoding allows gzip (a q of 0 refuses). */
static int
accepts_gzip(const char *ae)
{
	int gzip = -1, star = -1;

	while (ae != NULL && *ae != '\0') {
		size_t n = strcspn(ae, ",");
		const char *tok = ae, *semi, *q;
		size_t tlen;
		int ok = 1;

		ae += n;
		if (*ae == ',')
			ae++;
		while (n > 0 && (*tok == ' ' || *tok == '\t')) {
			tok++;
			n--;
		}
		semi = memchr(tok, ';', n);
		tlen = semi != NULL ? (size_t)(semi - tok) : n;
		while (tlen > 0 && (tok[tlen - 1] == ' ' ||
		    tok[tlen - 1] == '\t'))
			tlen--;
		if (semi != NULL && (q = strstr(semi, "q=")) != NULL &&
		    q < tok + n) {
			double qv = strtod(q + 2, NULL);

			ok = qv > 0;
		}
		if (span_eq(tok, tlen, "gzip") || span_eq(tok, tlen, "x-gzip"))
			gzip = ok;
		else if (span_eq(tok, tlen, "*"))
			star = ok;
	}
	return gzip == 1 || (gzip == -1 && star == 1);
}

static const char *const wday_name[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const month_name[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};

/* An IMF-fixdate (RFC 9110 5.6.7), whatever the locale. */
static void
http_date(time_t t, char *buf, size_t len)
{
	struct tz_civil c;

	tz_epoch_to_civil(t, &c);
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    wday_name[tz_weekday(c.year, c.month, c.day)], c.day,
	    month_name[c.month - 1], c.year, c.hour, c.minute, c.second);
}

/* Parse an IMF-fixdate; -1 when it is not one. */
static int
http_date_parse(const char *s, time_t *t)
{
	struct tz_civil c;
	char wd[4], mon[4];
	int i, n = 0;

	memset(&c, 0, sizeof c);
	if (sscanf(s, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", wd, &c.day,
	    mon, &c.year, &c.hour, &c.minute, &c.second, &n) != 7 || n == 0)
		return -1;
	for (i = 0; i < 12; i++)
		if (strcmp(mon, month_name[i]) == 0)
			break;
	if (i == 12 || c.day < 1 || c.day > 31 || c.hour > 23 ||
	    c.minute > 59 || c.second > 60)
		return -1;
	c.month = i + 1;
	*t = tz_civil_to_epoch(&c);
	return 0;
}

/* Whether If-None-Match names the entry (weak comparison, RFC 9110
 * 13.1.2: either representation's tag will do). */
static int
etag_matches(const char *inm, const char *plain, const char *gz)
{
	while (inm != NULL && *inm != '\0') {
		size_t n;

		while (*inm == ' ' || *inm == '\t' || *inm == ',')
			inm++;
		if (*inm == '*')
			return 1;
		if (strncmp(inm, "W/", 2) == 0)
			inm += 2;
		if (*inm != '"')
			return 0;
		n = strcspn(inm + 1, "\"") + 2;
		if (inm[n - 1] != '"')
			return 0;
		if ((strlen(plain) == n && strncmp(inm, plain, n) == 0) ||
		    (strlen(gz) == n && strncmp(inm, gz, n) == 0))
			return 1;
		inm += n;
	}
	return 0;
}

/* The decoded query: name=value pairs split at '&', '+' as a space. */
static void
query_parse(const char *q, struct kvlist *out)
{
	while (q != NULL && *q != '\0') {
		size_t n = strcspn(q, "&"), klen;
		const char *eq = memchr(q, '=', n);
		char *k, *v, *kd, *vd;

		klen = eq != NULL ? (size_t)(eq - q) : n;
		k = xstrndup(q, klen);
		v = eq != NULL ? xstrndup(eq + 1, n - klen - 1) : xstrdup("");
		kd = evhttp_uridecode(k, 1, NULL);
		vd = evhttp_uridecode(v, 1, NULL);
		if (kd != NULL && vd != NULL && *kd != '\0')
			kv_add(out, kd, vd);
		free(kd);
		free(vd);
		free(k);
		free(v);
		q += n;
		if (*q == '&')
			q++;
	}
}

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add(b, text, strlen(text));
	else {
		char n[32];

		snprintf(n, sizeof n, "%zu", strlen(text));
		evhttp_add_header(h, "Content-Length", n);
	}
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

/* Whether the request carries the configured token (or none is set). */
static int
authorized(struct export *ex, struct evhttp_request *req,
    struct kvlist *query)
{
	const char *want = ex->cfg->http_token, *auth;
	struct kv *t;
	int ok = 0;

	if (want == NULL || *want == '\0')
		return 1;
	if ((t = kv_find(query, "token")) != NULL && t->value != NULL &&
	    export_token_equal(t->value, want))
		ok = 1;
	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (auth != NULL && strncasecmp(auth, "Bearer", 6) == 0 &&
	    (auth[6] == ' ' || auth[6] == '\t')) {
		auth += 6;
		while (*auth == ' ' || *auth == '\t')
			auth++;
		if (export_token_equal(auth, want))
			ok = 1;
	}
	return ok;
}

/* The filter of a /calendar.ics query; -1 with a reply sent. */
static int
query_filter(struct export *ex, struct evhttp_request *req,
    struct kvlist *q, struct export_filter *f)
{
	size_t i;

	memset(f, 0, sizeof *f);
	for (i = 0; i < q->n; i++) {
		const char *k = q->v[i].key, *v = q->v[i].value;

		if (strcmp(k, "category") == 0) {
			while (*v != '\0') {
				size_t n = strcspn(v, ",");
				char *c = xstrndup(v, n);
				char *s = c, *e;
				int cat;

				while (*s == ' ')
					s++;
				e = s + strlen(s);
				while (e > s && e[-1] == ' ')
					*--e = '\0';
				cat = *s == '\0' ? -2 :
				    classify_category_from_name(s);
				free(c);
				if (cat == -1) {
					reply_text(req, 400, "Bad Request",
					    "unknown category; use study, "
					    "party-day, volunteer, "
					    "standardization or other\n");
					return -1;
				}
				if (cat >= 0)
					f->categories |= 1u << cat;
				v += n;
				if (*v == ',')
					v++;
			}
		} else if (strcmp(k, "feed") == 0 && *v != '\0')
			f->feed = v;
		else if (strcmp(k, "branch") == 0 && *v != '\0')
			f->branch = v;
	}
	if (f->feed != NULL && config_feed_find(ex->cfg, f->feed) == NULL) {
		reply_text(req, 404, "Not Found", "no such feed\n");
		return -1;
	}
	return 0;
}

static void
serve_calendar(struct export *ex, struct evhttp_request *req,
    struct kvlist *q)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct export_filter f;
	struct centry *e;
	struct body *b;
	const char *inm, *ims;
	char etag[48], etag_gz[48], lm[64], cc[64], n[32], *cause = NULL;
	time_t since;
	int gz, head;

	if (query_filter(ex, req, q, &f) == -1)
		return;
	if ((e = cache_get(ex, &f, &cause)) == NULL) {
		log_warnx("export: %s", cause);
		free(cause);
		reply_text(req, 500, "Internal Server Error",
		    "internal error\n");
		return;
	}
	snprintf(etag, sizeof etag, "\"%016llx\"", (unsigned long long)e->tag);
	snprintf(etag_gz, sizeof etag_gz, "\"%016llx-gz\"",
	    (unsigned long long)e->tag);
	gz = accepts_gzip(evhttp_find_header(in, "Accept-Encoding"));
	if (gz && e->gz == NULL && (e->gz = gzip_body(e->plain)) == NULL)
		log_warnx("export: gzip failed; sending uncompressed");
	gz = gz && e->gz != NULL;
	b = gz ? e->gz : e->plain;
	http_date(ex->modified, lm, sizeof lm);
	snprintf(cc, sizeof cc, "%smax-age=%lld",
	    *ex->cfg->http_token != '\0' ? "private, " : "",
	    (long long)e->refresh);
	evhttp_add_header(h, "ETag", gz ? etag_gz : etag);
	evhttp_add_header(h, "Last-Modified", lm);
	evhttp_add_header(h, "Cache-Control", cc);
	evhttp_add_header(h, "Vary", "Accept-Encoding");
	inm = evhttp_find_header(in, "If-None-Match");
	ims = evhttp_find_header(in, "If-Modified-Since");
	/* RFC 9110 13.2.2: If-Modified-Since counts only without
	 * If-None-Match. */
	if ((inm != NULL && etag_matches(inm, etag, etag_gz)) ||
	    (inm == NULL && ims != NULL && http_date_parse(ims, &since) == 0 &&
	    ex->modified <= since)) {
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	evhttp_add_header(h, "Content-Type", "text/calendar; charset=utf-8");
	evhttp_add_header(h, "Content-Disposition",
	    "inline; filename=\"calendar.ics\"");
	if (gz)
		evhttp_add_header(h, "Content-Encoding", "gzip");
	head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
	if (head) {
		snprintf(n, sizeof n, "%zu", b->len);
		evhttp_add_header(h, "Content-Length", n);
		evhttp_send_reply(req, 200, "OK", NULL);
	} else {
		struct evbuffer *out = evbuffer_new();

		b->refs++;
		evbuffer_add_reference(out, b->data, b->len, body_unref_cb, b);
		evhttp_send_reply(req, 200, "OK", out);
		evbuffer_free(out);
	}
}

static void
serve_health(struct export *ex, struct evhttp_request *req)
{
	struct store_feed *have;
	struct buf stale = { NULL, 0, 0 };
	time_t now = ex_now(ex);
	size_t n, i, j;

	if (store_feed_list(ex->env.store, &have, &n) == -1) {
		log_warnx("export: healthz: %s", store_errmsg(ex->env.store));
		reply_text(req, 503, "Service Unavailable",
		    "database unavailable\n");
		return;
	}
	for (i = 0; i < ex->cfg->nfeeds; i++) {
		const struct config_feed *cf = &ex->cfg->feeds[i];
		int64_t last = 0, limit = 3 * cf->refresh;

		for (j = 0; j < n; j++)
			if (strcmp(have[j].name, cf->name) == 0)
				last = have[j].last_success;
		/* A feed not fetched yet has 3 refreshes from start-up. */
		if (last == 0 ? now - ex->started <= limit :
		    now - last <= limit)
			continue;
		buf_adds(&stale, stale.len == 0 ? "stale: " : ", ");
		buf_adds(&stale, cf->name);
	}
	store_feed_list_free(have, n);
	if (stale.len == 0)
		reply_text(req, 200, "OK", "ok\n");
	else {
		buf_addc(&stale, '\n');
		reply_text(req, 503, "Service Unavailable", stale.p);
	}
	buf_free(&stale);
}

static void
export_request_cb(struct evhttp_request *req, void *arg)
{
	struct export *ex = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *path;
	struct kvlist q;

	memset(&q, 0, sizeof q);
	if (uri == NULL || (path = evhttp_uri_get_path(uri)) == NULL ||
	    *path != '/') {
		reply_text(req, 400, "Bad Request", "bad request\n");
		return;
	}
	query_parse(evhttp_uri_get_query(uri), &q);
	/* Never log the query: it may hold the token. */
	if (log_get_debug()) {
		char shown[128];
		size_t i;

		for (i = 0; i + 1 < sizeof shown && path[i] != '\0'; i++)
			shown[i] = path[i] > ' ' && path[i] < 0x7f ? path[i] :
			    '?';
		shown[i] = '\0';
		log_debug("http: %s %s", m == EVHTTP_REQ_GET ? "GET" :
		    m == EVHTTP_REQ_HEAD ? "HEAD" : "other", shown);
	}
	if (!authorized(ex, req, &q)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"djcal\"");
		evhttp_send_reply(req, 401, "Unauthorized", NULL);
	} else if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed",
		    "method not allowed\n");
	} else if (strcmp(path, "/calendar.ics") == 0)
		serve_calendar(ex, req, &q);
	else if (strcmp(path, "/healthz") == 0)
		serve_health(ex, req);
	else
		reply_text(req, 404, "Not Found", "not found\n");
	kv_clear(&q);
}

/* Split "host:port" or "[v6]:port" (validated by config.c). */
static int
split_listen(const char *s, char **host, int *port)
{
	const char *colon;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		*host = xstrndup(s + 1, (size_t)(close - s - 1));
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		*host = xstrndup(s, (size_t)(colon - s));
	}
	*port = atoi(colon + 1);
	if (*port < 0 || *port > 65535) {
		free(*host);
		return -1;
	}
	return 0;
}

static struct evhttp_bound_socket *
bind_listen(struct export *ex, const char *listen, char **cause)
{
	struct evhttp_bound_socket *b;
	char *host;
	int port;

	if (split_listen(listen, &host, &port) == -1) {
		xasprintf(cause, "http_listen: '%s' is not host:port", listen);
		return NULL;
	}
	b = evhttp_bind_socket_with_handle(ex->http, host, (ev_uint16_t)port);
	if (b == NULL)
		xasprintf(cause, "http_listen %s: cannot listen: %s", listen,
		    errno != 0 ? strerror(errno) : "address unusable");
	free(host);
	return b;
}

struct export *
export_new(struct event_base *base, const struct config *cfg,
    const struct export_env *env, char **cause)
{
	struct export *ex = xcalloc(1, sizeof *ex);

	ex->base = base;
	ex->cfg = cfg;
	ex->env = *env;
	if (ex->env.timeout <= 0)
		ex->env.timeout = EXPORT_TIMEOUT;
	ex->cfgsig = config_sig(cfg);
	ex->started = ex_now(ex);
	if (base != NULL) {
		if ((ex->http = evhttp_new(base)) == NULL) {
			xasprintf(cause, "evhttp_new failed");
			free(ex);
			return NULL;
		}
		evhttp_set_max_headers_size(ex->http, EXPORT_MAX_HEADERS);
		evhttp_set_max_body_size(ex->http, EXPORT_MAX_BODY);
		evhttp_set_timeout(ex->http, ex->env.timeout);
		/* Every method reaches the callback, which answers 405
		 * (evhttp would answer 501 itself). */
		evhttp_set_allowed_methods(ex->http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
		    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
		    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
		evhttp_set_default_content_type(ex->http,
		    "text/plain; charset=utf-8");
		evhttp_set_gencb(ex->http, export_request_cb, ex);
	}
	if (ex->http != NULL && *cfg->http_listen != '\0') {
		errno = 0;
		if ((ex->bound = bind_listen(ex, cfg->http_listen, cause)) ==
		    NULL) {
			evhttp_free(ex->http);
			free(ex);
			return NULL;
		}
		ex->listen = xstrdup(cfg->http_listen);
		log_info("export: serving http://%s/calendar.ics",
		    cfg->http_listen);
	}
	if (ex->env.store != NULL)
		note_version(ex);	/* and log the duplicate UIDs held */
	return ex;
}

void
export_free(struct export *ex)
{
	if (ex == NULL)
		return;
	if (ex->http != NULL)
		evhttp_free(ex->http);
	cache_clear(ex);
	strset_clear(&ex->logged);
	free(ex->listen);
	free(ex);
}

int
export_set_config(struct export *ex, const struct config *cfg, char **cause)
{
	const char *want = cfg->http_listen;
	struct evhttp_bound_socket *nb = NULL;

	ex->cfg = cfg;
	ex->cfgsig = config_sig(cfg);
	cache_clear(ex);
	if (ex->http == NULL || strcmp(want, ex->listen != NULL ? ex->listen :
	    "") == 0)
		return 0;
	if (*want != '\0') {
		errno = 0;
		if ((nb = bind_listen(ex, want, cause)) == NULL)
			return -1;	/* the old address stays */
	}
	if (ex->bound != NULL)
		evhttp_del_accept_socket(ex->http, ex->bound);
	ex->bound = nb;
	free(ex->listen);
	ex->listen = *want != '\0' ? xstrdup(want) : NULL;
	if (*want != '\0')
		log_info("export: serving http://%s/calendar.ics", want);
	else
		log_info("export: http_listen is empty; not serving");
	return 0;
}

int
export_port(const struct export *ex)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	evutil_socket_t fd;

	if (ex->bound == NULL)
		return 0;
	fd = evhttp_bound_socket_get_fd(ex->bound);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

char *
export_ctl_ics(void *arg, const struct store_filter *sf, size_t *len,
    char **cause)
{
	struct export *ex = arg;
	struct export_filter f;
	struct centry *e;

	memset(&f, 0, sizeof f);
	f.categories = sf->categories;
	f.feed = sf->feed;
	f.branch = sf->branch;
	if ((e = cache_get(ex, &f, cause)) == NULL)
		return NULL;
	*len = e->plain->len;
	return xstrndup(e->plain->data, e->plain->len);
}
