/*
 * Text helpers of the djcal CLI that need no socket, database or locale
 * catalogue, so the Check suite links them: display width of UTF-8 text
 * (CJK characters take two columns), truncation to a width, tables aligned
 * by display width, and the CLI's time arguments.
 */
#ifndef DJCAL_CLITEXT_H
#define DJCAL_CLITEXT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "djcal/tz.h"

/*
 * Display width of one code point: 2 for East Asian wide and fullwidth
 * characters, 0 for combining marks and other zero-width characters, 1
 * otherwise.  Under a UTF-8 LC_CTYPE this is wcwidth(3) where it has an
 * answer; under any other locale (LANG=C) a built-in table decides, so a
 * table of Chinese text stays aligned on a UTF-8 terminal either way.
 */
int		 clitext_cp_width(uint32_t cp);
/* Display width of a UTF-8 string; a byte that is not valid UTF-8 counts
 * as one column. */
int		 clitext_width(const char *);
/*
 * A copy of s that fits in width columns: s itself when it fits, else its
 * longest prefix of whole characters that fits with an ellipsis ("…")
 * after it.  width < 1 gives "".  Caller frees.
 */
char		*clitext_truncate(const char *s, int width);
/*
 * A copy of s as it may reach a terminal: feed text can hold control
 * characters, and an escape sequence from a feed must not drive the
 * user's terminal.  Tabs and line breaks become spaces, other C0 and C1
 * controls and DEL become '?'.  Caller frees.
 */
char		*clitext_clean(const char *s);

/*
 * A time argument of the CLI, read at `now` in zone:
 *   now; today, tomorrow, yesterday (and 今天, 明天, 昨天): local midnight;
 *   +Nd, -Nd, +Nw, -Nw: local midnight N days (weeks) from today;
 *   +Nh, -Nh, +Nm, -Nm: N hours (minutes) from now;
 *   RFC 3339 ("2026-12-08T15:00:00+08:00", "...Z"); "YYYY-MM-DD" (local
 *   midnight); "YYYY-MM-DD HH:MM[:SS]" or with a "T" (wall clock in zone).
 * 0, or -1 when s is none of these (also a date that does not exist, such
 * as 2026-02-30).
 */
int		 clitext_parse_time(const char *s, time_t now,
		    const struct tz *zone, time_t *out);
/* Calendar days from the local date of a to the local date of b in zone
 * (negative when b's date is earlier). */
long long	 clitext_days_between(const struct tz *, time_t a, time_t b);

/*
 * Tables aligned by display width: columns separated by two spaces, no
 * padding after the last one.  Cells are copied; newlines and tabs in a
 * cell become spaces.
 */
struct clitext_table;

struct clitext_table *clitext_table_new(int ncols);
void		 clitext_table_free(struct clitext_table *);
/* The header row (printed first, never truncated below its own width). */
void		 clitext_table_header(struct clitext_table *,
		    const char *const *cells);
/*
 * A row.  sgr, when not NULL, gives each cell's SGR attributes ("31",
 * "1;9", or NULL for none), used only when the table is printed with
 * colour; escape sequences never count toward the width.
 */
void		 clitext_table_row(struct clitext_table *,
		    const char *const *cells, const char *const *sgr);
/* Truncate the cells of a column to at most width columns (0: no limit). */
void		 clitext_table_max(struct clitext_table *, int col, int width);
/* Align a column to the right (numbers). */
void		 clitext_table_right(struct clitext_table *, int col);
/* Never narrow a column to fit the total width (times, names). */
void		 clitext_table_keep(struct clitext_table *, int col);
/* When lines must be narrowed, columns of a lower priority (default 0)
 * give up their width first: the summary's should be the highest. */
void		 clitext_table_priority(struct clitext_table *, int col,
		    int prio);
/*
 * Print the table.  total > 0 caps the line width (a terminal's):
 * columns not kept are narrowed, lowest priority first and the widest
 * first among equals, down to 8 columns each (or their header's width),
 * until lines fit; lines stay longer when they cannot.
 */
void		 clitext_table_print(struct clitext_table *, FILE *, int color,
		    int total);

#endif
