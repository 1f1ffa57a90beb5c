/* The djcal CLI: shared state and the command table.  Private to src/cli. */
#ifndef DJCAL_CLI_H
#define DJCAL_CLI_H

#include <getopt.h>
#include <libintl.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "djcal/occ.h"
#include "djcal/store.h"
#include "djcal/tz.h"

#define _(s)		gettext(s)
#define N_(s)		(s)

/* Exit statuses (SPEC section 8). */
#define CLI_OK		0
#define CLI_FAIL	1
#define CLI_USAGE	2

#define CLI_DEFAULT_SOCKET	"/run/djcald/djcald.sock"
#define CLI_DEFAULT_ZONE	"Asia/Shanghai"

struct client;

struct cli {
	const char	*socket_path;
	int		 socket_given;	/* --socket on the command line */
	const char	*db_path;	/* --db: read the database directly */
	int		 json;
	const char	*color_mode;	/* auto, always, never */
	int		 color;		/* resolved: 1 = use colour */
	int		 columns;	/* the terminal's width; 0: no limit */
	time_t		 now;
	const struct tz	*zone;		/* for output and time arguments */
	const char	*cmd;		/* the command, for messages */
	struct store	*store;		/* open when db_path is set */
	struct client	*client;	/* open when talking to djcald */
};

struct cli_cmd {
	const char	*name;
	int		(*fn)(struct cli *, int argc, char **argv);
	const char	*usage;		/* syntax: not translated */
	int		 daemon_only;	/* refuses --db */
};

/* Commands, one file per noun. */
int	cmd_upcoming(struct cli *, int, char **);
int	cmd_today(struct cli *, int, char **);
int	cmd_week(struct cli *, int, char **);
int	cmd_tasks(struct cli *, int, char **);
int	cmd_feeds(struct cli *, int, char **);
int	cmd_refresh(struct cli *, int, char **);
int	cmd_export(struct cli *, int, char **);
int	cmd_watch(struct cli *, int, char **);
int	cmd_checkin(struct cli *, int, char **);
int	cmd_attendance(struct cli *, int, char **);
int	cmd_hours(struct cli *, int, char **);
int	cmd_stats(struct cli *, int, char **);
int	cmd_compliance(struct cli *, int, char **);

/* djcal.c */

/* Print "djcal: " and a message to stderr. */
void	cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the usage of a command (NULL: of djcal) to stderr; CLI_USAGE. */
int	cli_usage(const char *cmd);
/*
 * getopt_long over a command's options plus the global ones (--json,
 * --color, --socket, --db), which may also follow the command.  Handles
 * the global ones itself; returns a command option, -1 at the end, or '?'
 * on a bad option (already reported).
 */
int	cli_getopt(struct cli *, int argc, char **argv, const char *shortopts,
	    const struct option *longopts);
/* Parse a time argument in the CLI's zone (clitext_parse_time).  0, or
 * -1 after a usage message naming the option. */
int	cli_time_arg(struct cli *, const char *opt, const char *arg,
	    time_t *out);
/* Check the syntax of a time argument before the zone is known. */
int	cli_time_arg_check(const char *opt, const char *arg);
/* A category argument: a name (study, party-day, ...) or an alias
 * (学习, 主题党日, ...).  Returns the category or -1 after a message. */
int	cli_category_arg(const char *arg);
/* A non-negative integer argument no larger than max; -1 after a
 * message. */
int	cli_number_arg(const char *opt, const char *arg, long long max,
	    long long *out);
/* At most max operands left after the options (argv[optind] on); -1
 * after a message naming the first one too many. */
int	cli_operands_max(struct cli *, int argc, char **argv, int max);
/* Milliseconds on the monotonic clock, for deadlines. */
long long cli_now_ms(void);

/*
 * Run a request: over the socket, or with --db through local (the op done
 * in-process, building the same reply).  *reply is the reply object
 * without "ok" and "id" (new reference).  Returns CLI_OK, or CLI_FAIL /
 * CLI_USAGE after a message.
 */
typedef int	(*cli_local_fn)(struct cli *, json_t *req, json_t **reply);
int	cli_call(struct cli *, json_t *req, cli_local_fn local,
	    json_t **reply);
/* Open the --db database or connect to djcald (once).  CLI_OK, or
 * CLI_FAIL after a message. */
int	cli_connect(struct cli *);

/* client.c: the socket side */

/* Connect to djcald, ping, check the protocol version; learn the
 * daemon's zone.  NULL after a message. */
struct client	*client_open(struct cli *);
void		 client_close(struct client *);
/* Send a request (borrowed) and wait up to timeout_ms (-1: no limit) for
 * its reply.  CLI_OK with *reply (without "ok" and "id"), or CLI_FAIL
 * after a message (error replies included). */
int		 client_call(struct cli *, struct client *, json_t *req,
		    int timeout_ms, json_t **reply);
/* Hand the connection over (watch reads pushed messages itself): returns
 * its fd, which the caller closes, with what was read past the last reply
 * in *buf (caller frees) and *len.  Frees cl. */
int		 client_release(struct client *, char **buf, size_t *len);

/* upcoming.c: a request of op with the filter fields category, feed and
 * branch (export uses it too).  New reference. */
json_t	*cli_filter_request(const char *op, unsigned categories,
	    const char *feed, const char *branch);

/* stats.c: a --year argument of the branch-work commands (hours, stats,
 * compliance), PROTO_YEAR_MIN to PROTO_YEAR_MAX.  0, or -1 after a
 * message. */
int	cli_year_arg(const char *opt, const char *arg, int *year);

/* output.c */

/* Print a JSON value on stdout, indented, and a newline. */
void	cli_print_json(json_t *);
/* Print an occurrence list reply (array under key) as a table. */
int	cli_print_occurrences(struct cli *, json_t *array);
/* Print a tasks reply as a table with days left / overdue. */
int	cli_print_tasks(struct cli *, json_t *array);
/* A localized date ("12月8日 周二"), with the year when it is not this
 * year's.  Caller frees. */
char	*cli_date(const struct cli *, time_t);
/* A localized date and time ("12月8日 周二 15:00"); "never" for 0.
 * Caller frees. */
char	*cli_datetime(const struct cli *, time_t);
/* The translated name of a category ("学习"). */
const char *cli_category_label(enum dj_category);
/* The translated name of a meeting type ("支委会"); NULL for none. */
const char *cli_meeting_label(enum dj_meeting);
/* A month's abbreviated name ("Jan", "1月"), month 1 to 12. */
const char *cli_month_label(int month);
/* Hours as people write them: "4", "2.5", "1.25".  Caller frees. */
char	*cli_hours_text(double);
/* Print a line that may hold feed text, as clitext_clean makes it. */
void	cli_puts(const char *);
/* The SGR colour of a category, or NULL. */
const char *cli_category_sgr(enum dj_category);
/* Print a table to stdout with the CLI's colour and width. */
struct clitext_table;
void	cli_table_print(struct cli *, struct clitext_table *);

#endif
