/*
 * djcal: the companion CLI of djcald.  Global options, then a command from
 * the table; each noun lives in its own file.  A command parses its
 * arguments first (so a usage error is exit 2 whether or not the daemon
 * runs), then connects (socket, or the database with --db), then builds a
 * protocol request, runs it, and prints the reply.
 */
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libical/ical.h>

#include "djcal/classify.h"
#include "djcal/clitext.h"
#include "djcal/proto.h"
#include "djcal/query.h"
#include "djcal/types.h"
#include "djcal/xmalloc.h"
#include "cli.h"

#ifndef LOCALEDIR
#define LOCALEDIR	"/usr/local/share/locale"
#endif

static const struct cli_cmd commands[] = {
	{ "upcoming", cmd_upcoming, "upcoming [--days N] [--from T] "
	    "[--to T] [--category C]... [--feed F] [--branch B] "
	    "[--search TEXT] [--limit N]", 0 },
	{ "today", cmd_today, "today [--category C]... [--feed F] "
	    "[--branch B] [--search TEXT] [--limit N]", 0 },
	{ "week", cmd_week, "week [--category C]... [--feed F] "
	    "[--branch B] [--search TEXT] [--limit N]", 0 },
	{ "tasks", cmd_tasks, "tasks [--open|--overdue|--done|--all]", 0 },
	{ "feeds", cmd_feeds, "feeds", 0 },
	{ "refresh", cmd_refresh, "refresh [FEED]", 1 },
	{ "export", cmd_export, "export [--category C]... [--branch B] "
	    "[--feed F]", 1 },
	{ "watch", cmd_watch, "watch [--category C]... [--branch B]... "
	    "[--feed F]... [--since SEQ] [--exec CMD] [--exec-timeout S] "
	    "[--notify]", 1 },
	{ "checkin", cmd_checkin, "checkin UID START --member NAME "
	    "[--leave REASON] [--feed F]", 1 },
	{ "attendance", cmd_attendance, "attendance UID START [--feed F]",
	    0 },
	{ "hours", cmd_hours, "hours [--year Y] [--member NAME]", 0 },
	{ "stats", cmd_stats, "stats [--year Y] [--branch B] [--csv]", 0 },
	{ "compliance", cmd_compliance, "compliance [--year Y] [--branch B] "
	    "[--config FILE]", 0 },
};

#define NCOMMANDS	(sizeof commands / sizeof commands[0])

static const struct cli_cmd *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("djcal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
print_usage(FILE *f, const char *cmd)
{
	const struct cli_cmd *k = cmd != NULL ? find_command(cmd) : NULL;
	size_t i;

	if (k != NULL) {
		fprintf(f, _("usage: djcal %s\n"), k->usage);
		return;
	}
	fprintf(f, _("usage: djcal [--socket PATH | --db PATH] [--json] "
	    "[--color=auto|always|never] COMMAND [ARGS]\n"));
	fprintf(f, _("commands:\n"));
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, _("See djcal(1).\n"));
}

int
cli_usage(const char *cmd)
{
	print_usage(stderr, cmd);
	return CLI_USAGE;
}

/* Global options: also accepted after the command. */
enum {
	OPT_JSON = 0x100,
	OPT_COLOR,
	OPT_SOCKET,
	OPT_DB,
	OPT_HELP
};

static const struct option global_longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "color", optional_argument, NULL, OPT_COLOR },
	{ "colour", optional_argument, NULL, OPT_COLOR },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "db", required_argument, NULL, OPT_DB },
	{ "help", no_argument, NULL, OPT_HELP },
};

#define NGLOBAL		(sizeof global_longopts / sizeof global_longopts[0])
#define MAX_LONGOPTS	64

/* A global option; 0, or -1 after a message. */
static int
global_opt(struct cli *c, int ch, const char *arg)
{
	switch (ch) {
	case OPT_JSON:
		c->json = 1;
		return 0;
	case OPT_COLOR:
		if (arg == NULL)
			arg = "always";
		if (strcmp(arg, "auto") != 0 && strcmp(arg, "always") != 0 &&
		    strcmp(arg, "never") != 0) {
			cli_error(_("--color must be auto, always or never, "
			    "not \"%s\""), arg);
			return -1;
		}
		c->color_mode = arg;
		return 0;
	case OPT_SOCKET:
		c->socket_path = arg;
		c->socket_given = 1;
		return 0;
	case OPT_DB:
		c->db_path = arg;
		return 0;
	case OPT_HELP:
		print_usage(stdout, c->cmd);
		exit(CLI_OK);
	}
	return -1;
}

int
cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	struct option merged[MAX_LONGOPTS];
	size_t n = 0, i;
	int ch;

	for (; longopts != NULL && longopts[n].name != NULL; n++)
		;
	if (n + NGLOBAL + 1 > MAX_LONGOPTS)
		abort();
	if (n > 0)
		memcpy(merged, longopts, n * sizeof *merged);
	for (i = 0; i < NGLOBAL; i++)
		merged[n + i] = global_longopts[i];
	memset(&merged[n + NGLOBAL], 0, sizeof merged[0]);
	for (;;) {
		ch = getopt_long(argc, argv, shortopts, merged, NULL);
		if (ch < OPT_JSON || ch > OPT_HELP)
			return ch;
		if (global_opt(c, ch, optarg) == -1)
			return '?';
	}
}

int
cli_time_arg_check(const char *opt, const char *arg)
{
	time_t t;

	/* The syntax does not depend on the zone or the clock. */
	if (clitext_parse_time(arg, 0, tz_utc(), &t) == -1) {
		cli_error(_("%s: not a time: \"%s\" (try 2026-12-08, "
		    "\"2026-12-08 15:00\", today, tomorrow or +3d)"), opt, arg);
		return -1;
	}
	return 0;
}

int
cli_time_arg(struct cli *c, const char *opt, const char *arg, time_t *out)
{
	if (clitext_parse_time(arg, c->now, c->zone, out) == -1)
		return cli_time_arg_check(opt, arg);
	return 0;
}

int
cli_category_arg(const char *arg)
{
	struct classifier *cls;
	int cat, i;

	if ((cat = classify_category_from_name(arg)) >= 0)
		return cat;
	for (i = 0; i < DJ_CAT_COUNT; i++)
		if (strcmp(arg, cli_category_label((enum dj_category)i)) == 0)
			return i;
	/* The built-in aliases too: --category 主题党日. */
	cls = classifier_new();
	cat = (int)classifier_category(cls, &arg, 1, NULL, DJ_CAT_COUNT);
	classifier_free(cls);
	if (cat >= 0 && cat < DJ_CAT_COUNT)
		return cat;
	cli_error(_("unknown category: \"%s\" (study, party-day, volunteer, "
	    "standardization or other)"), arg);
	return -1;
}

int
cli_number_arg(const char *opt, const char *arg, long long max,
    long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < 0 || v > max) {
		cli_error(_("%s: not a number from 0 to %lld: \"%s\""), opt,
		    max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int
cli_operands_max(struct cli *c, int argc, char **argv, int max)
{
	if (argc - optind <= max)
		return 0;
	cli_error(_("%s: unexpected argument: %s"), c->cmd,
	    argv[optind + max]);
	return -1;
}

static int
resolve_color(const char *mode)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (mode != NULL && strcmp(mode, "always") == 0)
		return 1;
	if (mode != NULL && strcmp(mode, "never") == 0)
		return 0;
	/* auto: a terminal, unless NO_COLOR (https://no-color.org) says no
	 * or the terminal cannot. */
	if (!isatty(STDOUT_FILENO) || (nc != NULL && *nc != '\0'))
		return 0;
	return term == NULL || strcmp(term, "dumb") != 0;
}

static int
terminal_columns(void)
{
	struct winsize ws;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

int
cli_connect(struct cli *c)
{
	const struct cli_cmd *k = find_command(c->cmd);
	char *cause = NULL;

	c->color = resolve_color(c->color_mode);
	c->columns = terminal_columns();
	if (c->store != NULL || c->client != NULL)
		return CLI_OK;
	if (c->db_path != NULL && c->socket_given) {
		cli_error(_("--socket and --db exclude each other"));
		return CLI_USAGE;
	}
	if (c->db_path != NULL && k != NULL && k->daemon_only) {
		cli_error(_("%s needs djcald; it does not work with --db"),
		    c->cmd);
		return CLI_USAGE;
	}
	if (c->db_path != NULL) {
		c->store = store_open(c->db_path, STORE_RDONLY, &cause);
		if (c->store == NULL) {
			cli_error("%s", cause);
			free(cause);
			return CLI_FAIL;
		}
		c->zone = query_zone(c->store);
		return CLI_OK;
	}
	if ((c->client = client_open(c)) == NULL)
		return CLI_FAIL;
	return CLI_OK;
}

/* How long a request may take: a refresh waits for every fetch. */
#define CALL_TIMEOUT_MS		(60 * 1000)
#define REFRESH_TIMEOUT_MS	(15 * 60 * 1000)

int
cli_call(struct cli *c, json_t *req, cli_local_fn local, json_t **reply)
{
	const char *op = json_string_value(json_object_get(req, "op"));
	int rc;

	*reply = NULL;
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	if (c->store != NULL) {
		if (local == NULL) {
			cli_error(_("%s needs djcald; it does not work with "
			    "--db"), c->cmd);
			return CLI_USAGE;
		}
		return local(c, req, reply);
	}
	return client_call(c, c->client, req, op != NULL &&
	    strcmp(op, "refresh") == 0 ? REFRESH_TIMEOUT_MS :
	    CALL_TIMEOUT_MS, reply);
}

/*
 * The locale and the message catalogue.  When the locale the environment
 * names is not installed, setlocale fails and everything would stay "C",
 * where gettext ignores LANGUAGE; fall back to C.UTF-8 and ask for the
 * language through LANGUAGE, so LANG=zh_CN.UTF-8 still gives Chinese.
 */
static void
setup_locale(void)
{
	const char *dir, *lang = NULL, *vars[] = { "LC_ALL", "LC_MESSAGES",
	    "LANG" };
	char *l;
	size_t i;

	if (setlocale(LC_ALL, "") == NULL) {
		for (i = 0; i < sizeof vars / sizeof vars[0]; i++)
			if ((lang = getenv(vars[i])) != NULL && *lang != '\0')
				break;
		setlocale(LC_ALL, "C.UTF-8");
		if (lang != NULL && *lang != '\0' && strcmp(lang, "C") != 0 &&
		    strcmp(lang, "POSIX") != 0 && (getenv("LANGUAGE") == NULL ||
		    *getenv("LANGUAGE") == '\0')) {
			/* zh_CN.UTF-8@variant -> zh_CN */
			l = xstrndup(lang, strcspn(lang, ".@"));
			setenv("LANGUAGE", l, 1);
			free(l);
		}
	}
	dir = getenv("DJCAL_LOCALEDIR");
	if (dir == NULL || *dir == '\0')
		dir = LOCALEDIR;
	bindtextdomain("djcal", dir);
	/* Feed text is UTF-8 and printed as it is; messages must not turn
	 * into "?" next to it when LC_CTYPE names another charset. */
	bind_textdomain_codeset("djcal", "UTF-8");
	textdomain("djcal");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_cmd *k;
	const char *env;
	char *prog;
	struct cli c;
	int ch, rc;

	setup_locale();
	icalerror_set_errors_are_fatal(0);
	memset(&c, 0, sizeof c);
	c.now = time(NULL);
	/* Tests fix the clock: seconds since the epoch. */
	if ((env = getenv("DJCAL_NOW")) != NULL && *env != '\0')
		c.now = (time_t)strtoll(env, NULL, 10);
	c.socket_path = getenv("DJCAL_SOCKET");
	if (c.socket_path == NULL || *c.socket_path == '\0')
		c.socket_path = CLI_DEFAULT_SOCKET;
	c.color_mode = "auto";
	if ((c.zone = tz_system(CLI_DEFAULT_ZONE)) == NULL)
		c.zone = tz_utc();
	/* '+': global options end at the command. */
	while ((ch = cli_getopt(&c, argc, argv, "+hV", longopts)) != -1) {
		switch (ch) {
		case 'V':
			printf(_("djcal %s (protocol %d)\n"), DJCAL_VERSION,
			    PROTO_VERSION);
			return CLI_OK;
		case 'h':
			print_usage(stdout, NULL);
			return CLI_OK;
		default:
			return cli_usage(NULL);
		}
	}
	if (optind >= argc)
		return cli_usage(NULL);
	if ((k = find_command(argv[optind])) == NULL) {
		cli_error(_("unknown command: %s"), argv[optind]);
		return cli_usage(NULL);
	}
	c.cmd = k->name;
	argc -= optind;
	argv += optind;
	optind = 0;	/* a full reset of getopt for the command */
	/* getopt names argv[0] in its messages: "djcal upcoming: ...". */
	xasprintf(&prog, "djcal %s", k->name);
	argv[0] = prog;
	rc = k->fn(&c, argc, argv);
	free(prog);
	store_close(c.store);
	client_close(c.client);
	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (rc == CLI_OK)
			cli_error(_("cannot write the output: %s"),
			    strerror(errno));
		rc = rc == CLI_OK ? CLI_FAIL : rc;
	}
	tz_shutdown();
	return rc;
}
