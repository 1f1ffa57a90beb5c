/* The djcal CLI: shared state and the command table.  Private to src/cli. */
#ifndef DJCAL_CLI_H
#define DJCAL_CLI_H

#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "djcal/occ.h"
#include "djcal/store.h"
#include "djcal/tz.h"

/* Exit statuses (SPEC section 8). */
#define CLI_OK		0
#define CLI_FAIL	1
#define CLI_USAGE	2

struct cli {
	const char	*socket_path;
	const char	*db_path;	/* --db: read the database directly */
	int		 json;
	int		 color;		/* resolved: 1 = use colour */
	time_t		 now;
	const struct tz	*zone;		/* for output and time arguments */
	struct store	*store;		/* open when db_path is set */
};

struct cli_cmd {
	const char	*name;
	int		(*fn)(struct cli *, int argc, char **argv);
	const char	*usage;
};

/* Commands, one file per noun. */
int	cmd_upcoming(struct cli *, int, char **);
int	cmd_today(struct cli *, int, char **);
int	cmd_week(struct cli *, int, char **);
int	cmd_tasks(struct cli *, int, char **);

/* Print an error (prefixed "djcal: ") to stderr. */
void	cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a usage error for a command and return CLI_USAGE. */
int	cli_usage(const char *cmd);
/* Open the database of --db read-only when not yet open. */
int	cli_open_db(struct cli *);
/* Parse a time argument: RFC 3339, YYYY-MM-DD, "YYYY-MM-DD HH:MM",
 * today, tomorrow, yesterday, +Nd/-Nd/+Nh/+Nw.  0 or -1. */
int	cli_parse_time(const struct cli *, const char *, time_t *);
/* Print a JSON value on stdout, indented, and a newline. */
void	cli_print_json(json_t *);

/* Tables aligned by display width (CJK characters are two columns). */
struct table;
struct table *table_new(int ncols);
void	table_header(struct table *, const char *const *cells);
void	table_row(struct table *, const char *const *cells);
void	table_print(struct table *, FILE *);
void	table_free(struct table *);
/* Display width of a UTF-8 string. */
int	cli_width(const char *);

/* Occurrences: the table, or the JSON reply object. */
void	cli_print_occurrences(struct cli *, const struct dj_occ_list *,
	    const char *key);

#endif
