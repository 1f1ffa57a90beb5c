/* Tables aligned by display width: CJK and other wide characters take two
 * columns (wcwidth under a UTF-8 locale), combining marks none. */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "djcal/xmalloc.h"
#include "cli.h"

struct table {
	int	  ncols;
	char	**cells;	/* row-major */
	size_t	  nrows;
	int	  has_header;
};

/* Width of one code point; wcwidth needs a UTF-8 LC_CTYPE, so fall back to
 * the East Asian wide ranges when the locale cannot say. */
static int
cp_width(wchar_t wc)
{
	int w = wcwidth(wc);

	if (w >= 0)
		return w;
	if ((wc >= 0x1100 && wc <= 0x115f) || (wc >= 0x2e80 && wc <= 0xa4cf) ||
	    (wc >= 0xac00 && wc <= 0xd7a3) || (wc >= 0xf900 && wc <= 0xfaff) ||
	    (wc >= 0xfe30 && wc <= 0xfe4f) || (wc >= 0xff00 && wc <= 0xff60) ||
	    (wc >= 0xffe0 && wc <= 0xffe6) || (wc >= 0x20000 && wc <= 0x3fffd))
		return 2;
	return wc < 0x20 ? 0 : 1;
}

int
cli_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0;

	while (*p != '\0') {
		wchar_t wc;
		int n;

		if (*p < 0x80) {
			wc = *p;
			n = 1;
		} else if ((*p & 0xe0) == 0xc0 && p[1] != '\0') {
			wc = ((*p & 0x1f) << 6) | (p[1] & 0x3f);
			n = 2;
		} else if ((*p & 0xf0) == 0xe0 && p[1] != '\0' && p[2] != '\0') {
			wc = ((*p & 0x0f) << 12) | ((p[1] & 0x3f) << 6) |
			    (p[2] & 0x3f);
			n = 3;
		} else if ((*p & 0xf8) == 0xf0 && p[1] != '\0' &&
		    p[2] != '\0' && p[3] != '\0') {
			wc = ((*p & 0x07) << 18) | ((p[1] & 0x3f) << 12) |
			    ((p[2] & 0x3f) << 6) | (p[3] & 0x3f);
			n = 4;
		} else {
			wc = 0xfffd;
			n = 1;
		}
		w += cp_width(wc);
		p += n;
	}
	return w;
}

struct table *
table_new(int ncols)
{
	struct table *t = xcalloc(1, sizeof *t);

	t->ncols = ncols;
	return t;
}

static void
table_add(struct table *t, const char *const *cells)
{
	int i;

	t->cells = xreallocarray(t->cells, (t->nrows + 1) * (size_t)t->ncols,
	    sizeof *t->cells);
	for (i = 0; i < t->ncols; i++) {
		const char *c = cells[i] != NULL ? cells[i] : "";
		char *v = xstrdup(c), *q;

		/* One line per row: newlines and tabs become spaces. */
		for (q = v; *q != '\0'; q++)
			if (*q == '\n' || *q == '\r' || *q == '\t')
				*q = ' ';
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = v;
	}
	t->nrows++;
}

void
table_header(struct table *t, const char *const *cells)
{
	table_add(t, cells);
	t->has_header = 1;
}

void
table_row(struct table *t, const char *const *cells)
{
	table_add(t, cells);
}

void
table_print(struct table *t, FILE *f)
{
	int *w = xcalloc((size_t)t->ncols, sizeof *w), i;
	size_t r;

	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++) {
			int cw = cli_width(t->cells[r * (size_t)t->ncols +
			    (size_t)i]);

			if (cw > w[i])
				w[i] = cw;
		}
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *c = t->cells[r * (size_t)t->ncols +
			    (size_t)i];
			int pad = w[i] - cli_width(c);

			fputs(c, f);
			if (i + 1 < t->ncols)
				fprintf(f, "%*s", pad + 2, "");
		}
		fputc('\n', f);
	}
	free(w);
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
