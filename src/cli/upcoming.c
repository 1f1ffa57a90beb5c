/* djcal upcoming, today, week: occurrences in a window. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "djcal/classify.h"
#include "djcal/proto.h"
#include "djcal/query.h"
#include "djcal/xmalloc.h"
#include "cli.h"

#define UPCOMING_DEFAULT_LIMIT	0

struct window_args {
	time_t		 from, to;
	int		 has_from, has_to;
	long		 days;
	struct store_filter f;
};

static int
parse_window(struct cli *c, int argc, char **argv, const char *cmd,
    struct window_args *w)
{
	static const struct option longopts[] = {
		{ "days", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "category", required_argument, NULL, 'c' },
		{ "feed", required_argument, NULL, 'f' },
		{ "branch", required_argument, NULL, 'b' },
		{ "search", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int ch, cat;

	while ((ch = getopt_long(argc, argv, "n:c:f:b:S:l:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'n':
			w->days = strtol(optarg, &end, 10);
			if (*end != '\0' || w->days < 0 || w->days > 36600) {
				cli_error("--days: not a number of days: %s",
				    optarg);
				return -1;
			}
			break;
		case 'F':
		case 'T':
			if (cli_parse_time(c, optarg, ch == 'F' ? &w->from :
			    &w->to) == -1) {
				cli_error("--%s: not a time: %s",
				    ch == 'F' ? "from" : "to", optarg);
				return -1;
			}
			*(ch == 'F' ? &w->has_from : &w->has_to) = 1;
			break;
		case 'c':
			if ((cat = classify_category_from_name(optarg)) < 0) {
				cli_error("unknown category: %s (study, "
				    "party-day, volunteer, standardization, "
				    "other)", optarg);
				return -1;
			}
			w->f.categories |= 1u << cat;
			break;
		case 'f':
			w->f.feed = optarg;
			break;
		case 'b':
			w->f.branch = optarg;
			break;
		case 'S':
			w->f.search = optarg;
			break;
		case 'l':
			w->f.limit = (size_t)strtoul(optarg, &end, 10);
			if (*end != '\0') {
				cli_error("--limit: not a number: %s", optarg);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (optind != argc) {
		cli_error("%s: unexpected argument: %s", cmd, argv[optind]);
		return -1;
	}
	return 0;
}

static int
run_window(struct cli *c, struct window_args *w)
{
	struct dj_occ_list l;
	char *cause = NULL;

	if (!w->has_from)
		w->from = c->now;
	if (!w->has_to)
		w->to = w->from + (time_t)w->days * 86400;
	if (w->to <= w->from) {
		cli_error("the window is empty (--to is not after --from)");
		return CLI_USAGE;
	}
	w->f.from = w->from;
	w->f.to = w->to;
	if (c->db_path == NULL) {
		cli_error("talking to djcald over %s is not built yet; use "
		    "--db", c->socket_path);
		return CLI_FAIL;
	}
	memset(&l, 0, sizeof l);
	if (query_upcoming(c->store, &w->f, &l, &cause) == -1) {
		cli_error("%s", cause);
		free(cause);
		return CLI_FAIL;
	}
	cli_print_occurrences(c, &l, "occurrences");
	occ_list_free(&l);
	return CLI_OK;
}

int
cmd_upcoming(struct cli *c, int argc, char **argv)
{
	struct window_args w;

	memset(&w, 0, sizeof w);
	w.days = 7;
	w.f.limit = UPCOMING_DEFAULT_LIMIT;
	if (parse_window(c, argc, argv, "upcoming", &w) == -1)
		return cli_usage("upcoming");
	return run_window(c, &w);
}

/* today: from local midnight to the next; week: seven days from today. */
static int
day_window(struct cli *c, int argc, char **argv, const char *cmd, int days)
{
	struct window_args w;

	memset(&w, 0, sizeof w);
	if (parse_window(c, argc, argv, cmd, &w) == -1)
		return cli_usage(cmd);
	if (cli_parse_time(c, "today", &w.from) == -1)
		return CLI_FAIL;
	w.has_from = 1;
	w.days = days;
	if (!w.has_to) {
		char spec[16];

		snprintf(spec, sizeof spec, "+%dd", days);
		cli_parse_time(c, spec, &w.to);
		w.has_to = 1;
	}
	return run_window(c, &w);
}

int
cmd_today(struct cli *c, int argc, char **argv)
{
	return day_window(c, argc, argv, "today", 1);
}

int
cmd_week(struct cli *c, int argc, char **argv)
{
	return day_window(c, argc, argv, "week", 7);
}
