/*
 * CLI text: display widths, truncation, aligned tables, time arguments.
 * Pure functions over their arguments (and LC_CTYPE for the width), so the
 * Check suite tests them without a terminal, socket or database.
 */
#include <ctype.h>
#include <langinfo.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "djcal/clitext.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"

/* Code point ranges, inclusive, sorted. */
struct cp_range {
	uint32_t	lo, hi;
};

/* Zero width: combining marks, zero-width spaces and joiners, variation
 * selectors, the BOM.  Checked before the wide ranges (U+3099 lies inside
 * a wide block). */
static const struct cp_range zero_ranges[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd },
	{ 0x05bf, 0x05bf }, { 0x05c1, 0x05c2 }, { 0x05c4, 0x05c5 },
	{ 0x05c7, 0x05c7 }, { 0x0610, 0x061a }, { 0x064b, 0x065f },
	{ 0x0670, 0x0670 }, { 0x06d6, 0x06dc }, { 0x06df, 0x06e4 },
	{ 0x06e7, 0x06e8 }, { 0x06ea, 0x06ed }, { 0x0e31, 0x0e31 },
	{ 0x0e34, 0x0e3a }, { 0x0e47, 0x0e4e }, { 0x1ab0, 0x1aff },
	{ 0x1dc0, 0x1dff }, { 0x200b, 0x200f }, { 0x202a, 0x202e },
	{ 0x2060, 0x2064 }, { 0x20d0, 0x20ff }, { 0x302a, 0x302d },
	{ 0x3099, 0x309a }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f },
	{ 0xfeff, 0xfeff }, { 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
	{ 0xe0100, 0xe01ef },
};

/* East Asian Wide and Fullwidth (Unicode's EastAsianWidth.txt, W and F),
 * with the emoji blocks, condensed. */
static const struct cp_range wide_ranges[] = {
	{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a },
	{ 0x23e9, 0x23ec }, { 0x23f0, 0x23f0 }, { 0x23f3, 0x23f3 },
	{ 0x25fd, 0x25fe }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 },
	{ 0x267f, 0x267f }, { 0x2693, 0x2693 }, { 0x26a1, 0x26a1 },
	{ 0x26aa, 0x26ab }, { 0x26bd, 0x26be }, { 0x26c4, 0x26c5 },
	{ 0x26ce, 0x26ce }, { 0x26d4, 0x26d4 }, { 0x26ea, 0x26ea },
	{ 0x26f2, 0x26f3 }, { 0x26f5, 0x26f5 }, { 0x26fa, 0x26fa },
	{ 0x26fd, 0x26fd }, { 0x2705, 0x2705 }, { 0x270a, 0x270b },
	{ 0x2728, 0x2728 }, { 0x274c, 0x274c }, { 0x274e, 0x274e },
	{ 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
	{ 0x27b0, 0x27b0 }, { 0x27bf, 0x27bf }, { 0x2b1b, 0x2b1c },
	{ 0x2b50, 0x2b50 }, { 0x2b55, 0x2b55 }, { 0x2e80, 0x303e },
	{ 0x3041, 0x33ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff },
	{ 0xa000, 0xa4cf }, { 0xa960, 0xa97f }, { 0xac00, 0xd7a3 },
	{ 0xf900, 0xfaff }, { 0xfe10, 0xfe19 }, { 0xfe30, 0xfe6f },
	{ 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x16fe0, 0x16fe4 },
	{ 0x17000, 0x18aff }, { 0x1b000, 0x1b16f }, { 0x1f004, 0x1f004 },
	{ 0x1f0cf, 0x1f0cf }, { 0x1f18e, 0x1f18e }, { 0x1f191, 0x1f19a },
	{ 0x1f200, 0x1f251 }, { 0x1f300, 0x1f64f }, { 0x1f680, 0x1f6ff },
	{ 0x1f900, 0x1f9ff }, { 0x1fa70, 0x1faff }, { 0x20000, 0x2fffd },
	{ 0x30000, 0x3fffd },
};

static int
in_ranges(uint32_t cp, const struct cp_range *r, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cp < r[mid].lo)
			hi = mid;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

static int
locale_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs != NULL && (strcasecmp(cs, "UTF-8") == 0 ||
	    strcasecmp(cs, "UTF8") == 0);
}

static int
table_width(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return 0;
	if (in_ranges(cp, zero_ranges, sizeof zero_ranges /
	    sizeof zero_ranges[0]))
		return 0;
	if (in_ranges(cp, wide_ranges, sizeof wide_ranges /
	    sizeof wide_ranges[0]))
		return 2;
	return 1;
}

int
clitext_cp_width(uint32_t cp)
{
	int w;

	if (cp < 0x7f)
		return cp < 0x20 ? 0 : 1;
	/* wcwidth only knows the characters of the locale's charset: under
	 * LANG=C every non-ASCII character is "unprintable" (-1). */
	if (locale_is_utf8() && cp <= 0x10ffff &&
	    (w = wcwidth((wchar_t)cp)) >= 0)
		return w;
	return table_width(cp);
}

/* Decode one UTF-8 sequence at p: its length in bytes (at least 1), and
 * U+FFFD for a byte that does not start a valid sequence. */
static size_t
utf8_next(const unsigned char *p, uint32_t *cp)
{
	uint32_t c, min;
	size_t n, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		c = p[0] & 0x1f;
		n = 2;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		c = p[0] & 0x0f;
		n = 3;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		c = p[0] & 0x07;
		n = 4;
		min = 0x10000;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = c;
	return n;
}

int
clitext_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0;

	while (*p != '\0') {
		uint32_t cp;

		p += utf8_next(p, &cp);
		w += clitext_cp_width(cp);
	}
	return w;
}

#define ELLIPSIS	"\xe2\x80\xa6"	/* U+2026, one column */

char *
clitext_truncate(const char *s, int width)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t cut = 0;
	int w = 0;
	char *out;

	if (width < 1)
		return xstrdup("");
	if (clitext_width(s) <= width)
		return xstrdup(s);
	/* Keep whole characters while they leave one column for the "…". */
	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);
		int cw = clitext_cp_width(cp);

		if (w + cw > width - 1)
			break;
		w += cw;
		p += n;
		cut = (size_t)(p - (const unsigned char *)s);
	}
	xasprintf(&out, "%.*s%s", (int)cut, s, ELLIPSIS);
	return out;
}

/* Time arguments */

static int
local_midnight_plus(time_t now, const struct tz *zone, long long days,
    time_t *out)
{
	struct tz_civil lc;
	long long d;

	tz_from_utc(zone, now, &lc);
	d = tz_days_from_civil(lc.year, lc.month, lc.day) + days;
	memset(&lc, 0, sizeof lc);
	tz_civil_from_days(d, &lc.year, &lc.month, &lc.day);
	*out = tz_to_utc(zone, &lc);
	return 0;
}

/* Whether the "YYYY-MM-DD" at the start of s names a day that exists. */
static int
date_exists(const char *s)
{
	int y, m, d, yy, mm, dd;

	if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return 0;
	tz_civil_from_days(tz_days_from_civil(y, m, d), &yy, &mm, &dd);
	return y == yy && m == mm && d == dd;
}

int
clitext_parse_time(const char *s, time_t now, const struct tz *zone,
    time_t *out)
{
	static const struct {
		const char	*word;
		int		 days;
	} words[] = {
		{ "today", 0 }, { "tomorrow", 1 }, { "yesterday", -1 },
		{ "\xe4\xbb\x8a\xe5\xa4\xa9", 0 },	/* 今天 */
		{ "\xe6\x98\x8e\xe5\xa4\xa9", 1 },	/* 明天 */
		{ "\xe6\x98\xa8\xe5\xa4\xa9", -1 },	/* 昨天 */
	};
	long long n;
	size_t i;
	char *end;

	if (zone == NULL)
		zone = tz_utc();
	if (strcasecmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(s, words[i].word) == 0)
			return local_midnight_plus(now, zone, words[i].days,
			    out);
	if ((s[0] == '+' || s[0] == '-') && isdigit((unsigned char)s[1])) {
		n = strtoll(s, &end, 10);
		/* About 270 years either way: far beyond any calendar, well
		 * inside time_t. */
		if (end[0] == '\0' || end[1] != '\0' || n > 100000 ||
		    n < -100000)
			return -1;
		switch (end[0]) {
		case 'd':
			return local_midnight_plus(now, zone, n, out);
		case 'w':
			return local_midnight_plus(now, zone, n * 7, out);
		case 'h':
			*out = now + (time_t)n * 3600;
			return 0;
		case 'm':
			*out = now + (time_t)n * 60;
			return 0;
		default:
			return -1;
		}
	}
	if (!date_exists(s))
		return -1;
	return proto_parse_time(s, zone, out, NULL);
}

long long
clitext_days_between(const struct tz *zone, time_t a, time_t b)
{
	struct tz_civil ca, cb;

	if (zone == NULL)
		zone = tz_utc();
	tz_from_utc(zone, a, &ca);
	tz_from_utc(zone, b, &cb);
	return tz_days_from_civil(cb.year, cb.month, cb.day) -
	    tz_days_from_civil(ca.year, ca.month, ca.day);
}

/* Tables */

#define TABLE_MIN_COL	8

struct clitext_table {
	int	  ncols;
	size_t	  nrows;
	char	**cells;	/* row-major, nrows * ncols */
	char	**sgr;		/* the same shape; NULL entries: none */
	int	 *max;		/* per column, 0: none */
	int	 *right;	/* per column */
	int	 *keep;		/* per column: never narrowed to fit */
	int	 *prio;		/* per column: the lowest is narrowed first */
	int	  has_header;	/* row 0 is the header */
};

struct clitext_table *
clitext_table_new(int ncols)
{
	struct clitext_table *t = xcalloc(1, sizeof *t);

	t->ncols = ncols;
	t->max = xcalloc((size_t)ncols, sizeof *t->max);
	t->right = xcalloc((size_t)ncols, sizeof *t->right);
	t->keep = xcalloc((size_t)ncols, sizeof *t->keep);
	t->prio = xcalloc((size_t)ncols, sizeof *t->prio);
	return t;
}

void
clitext_table_free(struct clitext_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * (size_t)t->ncols; i++) {
		free(t->cells[i]);
		free(t->sgr[i]);
	}
	free(t->cells);
	free(t->sgr);
	free(t->max);
	free(t->right);
	free(t->keep);
	free(t->prio);
	free(t);
}

char *
clitext_clean(const char *s)
{
	const unsigned char *p;
	char *v, *q;

	v = q = xmalloc(strlen(s) + 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*q++ = ' ';
		else if (*p < 0x20 || *p == 0x7f)
			*q++ = '?';
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			*q++ = '?';
			p++;
		} else
			*q++ = (char)*p;
	}
	*q = '\0';
	return v;
}

static void
table_add(struct clitext_table *t, const char *const *cells,
    const char *const *sgr)
{
	size_t base = t->nrows * (size_t)t->ncols;
	int i;

	t->cells = xreallocarray(t->cells, base + (size_t)t->ncols,
	    sizeof *t->cells);
	t->sgr = xreallocarray(t->sgr, base + (size_t)t->ncols,
	    sizeof *t->sgr);
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + (size_t)i] = clitext_clean(cells[i] != NULL ?
		    cells[i] : "");
		t->sgr[base + (size_t)i] = sgr != NULL && sgr[i] != NULL ?
		    xstrdup(sgr[i]) : NULL;
	}
	t->nrows++;
}

void
clitext_table_header(struct clitext_table *t, const char *const *cells)
{
	/* The header is row 0: add it before any row. */
	if (t->nrows == 0) {
		table_add(t, cells, NULL);
		t->has_header = 1;
	}
}

void
clitext_table_row(struct clitext_table *t, const char *const *cells,
    const char *const *sgr)
{
	table_add(t, cells, sgr);
}

void
clitext_table_max(struct clitext_table *t, int col, int width)
{
	if (col >= 0 && col < t->ncols)
		t->max[col] = width > 0 ? width : 0;
}

void
clitext_table_right(struct clitext_table *t, int col)
{
	if (col >= 0 && col < t->ncols)
		t->right[col] = 1;
}

void
clitext_table_keep(struct clitext_table *t, int col)
{
	if (col >= 0 && col < t->ncols)
		t->keep[col] = 1;
}

void
clitext_table_priority(struct clitext_table *t, int col, int prio)
{
	if (col >= 0 && col < t->ncols)
		t->prio[col] = prio;
}

/* Column widths: the widest cell, within the column's cap (the header
 * always fits), then narrowed to the total width when there is one. */
static int *
table_widths(const struct clitext_table *t, int total)
{
	int *w = xcalloc((size_t)t->ncols, sizeof *w);
	int *floor = xcalloc((size_t)t->ncols, sizeof *floor);
	size_t r;
	int i, sum;

	for (i = 0; i < t->ncols; i++) {
		floor[i] = TABLE_MIN_COL;
		if (t->has_header) {
			int hw = clitext_width(t->cells[i]);

			w[i] = hw;
			if (hw > floor[i])
				floor[i] = hw;
		}
	}
	for (r = t->has_header ? 1 : 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++) {
			int cw = clitext_width(t->cells[r * (size_t)t->ncols +
			    (size_t)i]);

			if (t->max[i] > 0 && cw > t->max[i])
				cw = t->max[i];
			if (cw > w[i])
				w[i] = cw;
		}
	if (total <= 0) {
		free(floor);
		return w;
	}
	for (i = 0; i < t->ncols; i++)
		if (t->keep[i])
			floor[i] = w[i];
	/* One column at a time: of the columns of the lowest priority that
	 * can give, the widest, so equals share what is left fairly. */
	for (;;) {
		int pick = -1;

		sum = 2 * (t->ncols - 1);
		for (i = 0; i < t->ncols; i++)
			sum += w[i];
		if (sum <= total)
			break;
		for (i = 0; i < t->ncols; i++) {
			if (w[i] <= floor[i])
				continue;
			if (pick == -1 || t->prio[i] < t->prio[pick] ||
			    (t->prio[i] == t->prio[pick] && w[i] > w[pick]))
				pick = i;
		}
		if (pick == -1)
			break;
		w[pick]--;
	}
	free(floor);
	return w;
}

void
clitext_table_print(struct clitext_table *t, FILE *f, int color, int total)
{
	int *w = table_widths(t, total), i;
	char *line = NULL;
	size_t r, len = 0;

	for (r = 0; r < t->nrows; r++) {
		FILE *lf = open_memstream(&line, &len);
		int header = t->has_header && r == 0;

		if (lf == NULL)
			abort();
		for (i = 0; i < t->ncols; i++) {
			size_t k = r * (size_t)t->ncols + (size_t)i;
			char *cell = clitext_truncate(t->cells[k], w[i]);
			const char *sgr = header ? "1" : t->sgr[k];
			int pad = w[i] - clitext_width(cell);

			if (i > 0)
				fputs("  ", lf);
			if (t->right[i])
				fprintf(lf, "%*s", pad, "");
			if (color && sgr != NULL && *cell != '\0')
				fprintf(lf, "\033[%sm%s\033[0m", sgr, cell);
			else
				fputs(cell, lf);
			if (!t->right[i] && i + 1 < t->ncols)
				fprintf(lf, "%*s", pad, "");
			free(cell);
		}
		fclose(lf);
		/* No trailing blanks when the last cells are empty. */
		while (len > 0 && line[len - 1] == ' ')
			len--;
		fwrite(line, 1, len, f);
		fputc('\n', f);
		free(line);
		line = NULL;
	}
	free(w);
}
