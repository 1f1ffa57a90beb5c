/*
 * djcal: the companion CLI of djcald.  Global options, then a command from
 * the table; each noun lives in its own file.
 */
#include <ctype.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libical/ical.h>

#include "djcal/proto.h"
#include "djcal/query.h"
#include "djcal/types.h"
#include "cli.h"

#define DEFAULT_SOCKET	"/run/djcald/djcald.sock"

static const struct cli_cmd commands[] = {
	{ "upcoming", cmd_upcoming, "upcoming [--days N] [--from T] [--to T] "
	    "[--category C]... [--feed F] [--branch B] [--search TEXT] "
	    "[--limit N]" },
	{ "today", cmd_today, "today [--category C]..." },
	{ "week", cmd_week, "week [--category C]..." },
	{ "tasks", cmd_tasks, "tasks [--open|--overdue|--done|--all]" },
};

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("djcal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_usage(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (cmd != NULL && strcmp(commands[i].name, cmd) == 0) {
			fprintf(stderr, "usage: djcal %s\n", commands[i].usage);
			return CLI_USAGE;
		}
	fprintf(stderr, "usage: djcal [--socket PATH | --db PATH] [--json] "
	    "[--color=auto|always|never] COMMAND [ARGS]\ncommands:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(stderr, "  %s\n", commands[i].usage);
	return CLI_USAGE;
}

int
cli_open_db(struct cli *c)
{
	char *cause = NULL;

	if (c->store != NULL)
		return 0;
	if ((c->store = store_open(c->db_path, STORE_RDONLY, &cause)) ==
	    NULL) {
		cli_error("%s", cause);
		free(cause);
		return -1;
	}
	c->zone = query_zone(c->store);
	return 0;
}

int
cli_parse_time(const struct cli *c, const char *s, time_t *t)
{
	struct tz_civil lc;
	char *end;
	long n;

	tz_from_utc(c->zone, c->now, &lc);
	lc.hour = lc.minute = lc.second = 0;
	if (strcmp(s, "now") == 0) {
		*t = c->now;
		return 0;
	}
	if (strcmp(s, "today") == 0 || strcmp(s, "tomorrow") == 0 ||
	    strcmp(s, "yesterday") == 0) {
		long long d = tz_days_from_civil(lc.year, lc.month, lc.day);

		d += strcmp(s, "tomorrow") == 0 ? 1 :
		    strcmp(s, "yesterday") == 0 ? -1 : 0;
		tz_civil_from_days(d, &lc.year, &lc.month, &lc.day);
		*t = tz_to_utc(c->zone, &lc);
		return 0;
	}
	if ((s[0] == '+' || s[0] == '-') && isdigit((unsigned char)s[1])) {
		n = strtol(s, &end, 10);
		if (end[1] != '\0')
			return -1;
		switch (*end) {
		case 'd': {
			long long d = tz_days_from_civil(lc.year, lc.month,
			    lc.day) + n;

			tz_civil_from_days(d, &lc.year, &lc.month, &lc.day);
			*t = tz_to_utc(c->zone, &lc);
			return 0;
		}
		case 'w': {
			long long d = tz_days_from_civil(lc.year, lc.month,
			    lc.day) + n * 7;

			tz_civil_from_days(d, &lc.year, &lc.month, &lc.day);
			*t = tz_to_utc(c->zone, &lc);
			return 0;
		}
		case 'h':
			*t = c->now + n * 3600;
			return 0;
		case 'm':
			*t = c->now + n * 60;
			return 0;
		default:
			return -1;
		}
	}
	return proto_parse_time(s, c->zone, t, NULL);
}

void
cli_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s != NULL) {
		puts(s);
		free(s);
	}
}

static int
resolve_color(const char *mode)
{
	if (mode == NULL || strcmp(mode, "auto") == 0)
		return isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	if (strcmp(mode, "always") == 0)
		return 1;
	if (strcmp(mode, "never") == 0)
		return 0;
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli c;
	const char *color = NULL;
	size_t i;
	int ch, rc;

	setlocale(LC_ALL, "");
	icalerror_set_errors_are_fatal(0);
	memset(&c, 0, sizeof c);
	c.now = time(NULL);
	if (getenv("DJCAL_NOW") != NULL)
		c.now = (time_t)strtoll(getenv("DJCAL_NOW"), NULL, 10);
	c.socket_path = getenv("DJCAL_SOCKET");
	if (c.socket_path == NULL || *c.socket_path == '\0')
		c.socket_path = DEFAULT_SOCKET;
	/* '+': options end at the command; its own options follow it. */
	while ((ch = getopt_long(argc, argv, "+s:D:jhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			c.socket_path = optarg;
			break;
		case 'D':
			c.db_path = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'C':
			color = optarg != NULL ? optarg : "always";
			break;
		case 'V':
			printf("djcal %s (protocol %d)\n", DJCAL_VERSION,
			    PROTO_VERSION);
			return CLI_OK;
		case 'h':
			cli_usage(NULL);
			return CLI_OK;
		default:
			return cli_usage(NULL);
		}
	}
	if ((c.color = resolve_color(color)) == -1) {
		cli_error("--color must be auto, always or never");
		return CLI_USAGE;
	}
	if (optind >= argc)
		return cli_usage(NULL);
	c.zone = tz_system("Asia/Shanghai");
	if (c.zone == NULL)
		c.zone = tz_utc();
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(commands[i].name, argv[optind]) != 0)
			continue;
		argc -= optind;
		argv += optind;
		optind = 0;	/* reset getopt for the command */
		if (c.db_path != NULL && cli_open_db(&c) == -1)
			return CLI_FAIL;
		rc = commands[i].fn(&c, argc, argv);
		store_close(c.store);
		return rc;
	}
	cli_error("unknown command: %s", argv[optind]);
	return cli_usage(NULL);
}
