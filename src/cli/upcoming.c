/* djcal upcoming, today, week: the occurrences in a window. */
#include <stdlib.h>
#include <string.h>

#include "djcal/classify.h"
#include "djcal/proto.h"
#include "djcal/query.h"
#include "djcal/xmalloc.h"
#include "cli.h"

/* A century of days is the longest window --days asks for. */
#define MAX_DAYS	36600

struct window_args {
	const char	*from, *to;	/* as given; read after connecting */
	long long	 days;
	int		 has_days;
	unsigned	 categories;	/* 1 << enum dj_category */
	const char	*feed, *branch, *search;
	long long	 limit;
	int		 has_limit;
};

/* Options; window: whether --days, --from and --to are allowed. */
static int
parse_window(struct cli *c, int argc, char **argv, int window,
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
	int ch, cat;

	while ((ch = cli_getopt(c, argc, argv, window ? "n:F:T:c:f:b:S:l:" :
	    "c:f:b:S:l:", window ? longopts : longopts + 3)) != -1) {
		switch (ch) {
		case 'n':
			if (cli_number_arg("--days", optarg, MAX_DAYS,
			    &w->days) == -1)
				return -1;
			if (w->days == 0) {
				cli_error(_("--days: the window must be at "
				    "least one day"));
				return -1;
			}
			w->has_days = 1;
			break;
		case 'F':
		case 'T':
			if (cli_time_arg_check(ch == 'F' ? "--from" : "--to",
			    optarg) == -1)
				return -1;
			*(ch == 'F' ? &w->from : &w->to) = optarg;
			break;
		case 'c':
			if ((cat = cli_category_arg(optarg)) == -1)
				return -1;
			w->categories |= 1u << cat;
			break;
		case 'f':
			w->feed = optarg;
			break;
		case 'b':
			w->branch = optarg;
			break;
		case 'S':
			w->search = optarg;
			break;
		case 'l':
			if (cli_number_arg("--limit", optarg, 1000000,
			    &w->limit) == -1)
				return -1;
			w->has_limit = 1;
			break;
		default:
			return -1;
		}
	}
	if (cli_operands_max(c, argc, argv, 0) == -1)
		return -1;
	if (w->has_days && w->to != NULL) {
		cli_error(_("--days and --to exclude each other"));
		return -1;
	}
	return 0;
}

/* The request's filter fields, shared with export. */
static void
add_filter(json_t *req, unsigned categories, const char *feed,
    const char *branch)
{
	json_t *a;
	int i;

	if (categories != 0) {
		a = json_array();
		for (i = 0; i < DJ_CAT_COUNT; i++)
			if (categories & (1u << i))
				json_array_append_new(a, json_string(
				    classify_category_name(
				    (enum dj_category)i)));
		json_object_set_new(req, "category", a);
	}
	if (feed != NULL)
		json_object_set_new(req, "feed", json_string(feed));
	if (branch != NULL)
		json_object_set_new(req, "branch", json_string(branch));
}

json_t *
cli_filter_request(const char *op, unsigned categories,
    const char *feed, const char *branch)
{
	json_t *req = json_pack("{s:s}", "op", op);

	add_filter(req, categories, feed, branch);
	return req;
}

/* --db: the upcoming op in-process, as djcald's socket does it. */
static int
upcoming_local(struct cli *c, json_t *req, json_t **reply)
{
	struct store_filter f;
	struct dj_occ_list l;
	char *cause = NULL;
	json_t *a;
	size_t i;

	memset(&l, 0, sizeof l);
	if (proto_request_filter(req, PROTO_FILTER_WINDOW, c->zone, c->now,
	    &f, &cause) == -1 ||
	    query_upcoming(c->store, &f, &l, &cause) == -1) {
		occ_list_free(&l);
		cli_error("%s: %s", c->cmd, cause);
		free(cause);
		return CLI_FAIL;
	}
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, proto_occurrence_json(&l.v[i],
		    c->zone));
	occ_list_free(&l);
	*reply = json_pack("{s:o}", "occurrences", a);
	return CLI_OK;
}

static json_t *
time_json(const struct cli *c, time_t t)
{
	char *s = proto_format_time(t, 0, c->zone);
	json_t *j = json_string(s);

	free(s);
	return j;
}

/* Run the window [from, to) and print it. */
static int
run_window(struct cli *c, const struct window_args *w, time_t from,
    time_t to)
{
	json_t *req, *reply;
	int rc;

	if (to <= from) {
		cli_error(_("the window is empty: --to is not after --from"));
		return CLI_USAGE;
	}
	req = cli_filter_request("upcoming", w->categories, w->feed,
	    w->branch);
	/* Absolute instants, so the daemon and --db read the same window
	 * whatever their clocks. */
	json_object_set_new(req, "from", time_json(c, from));
	json_object_set_new(req, "to", time_json(c, to));
	if (w->search != NULL)
		json_object_set_new(req, "search", json_string(w->search));
	if (w->has_limit)
		json_object_set_new(req, "limit", json_integer(w->limit));
	rc = cli_call(c, req, upcoming_local, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		rc = cli_print_occurrences(c, json_object_get(reply,
		    "occurrences"));
	json_decref(reply);
	return rc;
}

int
cmd_upcoming(struct cli *c, int argc, char **argv)
{
	struct window_args w;
	time_t from, to;
	int rc;

	memset(&w, 0, sizeof w);
	w.days = 7;
	if (parse_window(c, argc, argv, 1, &w) == -1)
		return cli_usage(c->cmd);
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	from = c->now;
	if (w.from != NULL && cli_time_arg(c, "--from", w.from, &from) == -1)
		return CLI_USAGE;
	to = from + (time_t)w.days * 86400;
	if (w.to != NULL && cli_time_arg(c, "--to", w.to, &to) == -1)
		return CLI_USAGE;
	return run_window(c, &w, from, to);
}

int
cmd_today(struct cli *c, int argc, char **argv)
{
	struct window_args w;
	time_t from, to;
	int rc;

	memset(&w, 0, sizeof w);
	if (parse_window(c, argc, argv, 0, &w) == -1)
		return cli_usage(c->cmd);
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	if (cli_time_arg(c, "today", "today", &from) == -1 ||
	    cli_time_arg(c, "today", "tomorrow", &to) == -1)
		return CLI_FAIL;
	return run_window(c, &w, from, to);
}

/* week: this calendar week, Monday to Sunday (本周). */
int
cmd_week(struct cli *c, int argc, char **argv)
{
	struct window_args w;
	struct tz_civil lc;
	char spec[32];
	time_t from, to;
	int rc, back;

	memset(&w, 0, sizeof w);
	if (parse_window(c, argc, argv, 0, &w) == -1)
		return cli_usage(c->cmd);
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	tz_from_utc(c->zone, c->now, &lc);
	back = (tz_weekday(lc.year, lc.month, lc.day) + 6) % 7;
	snprintf(spec, sizeof spec, "-%dd", back);
	if (cli_time_arg(c, "week", spec, &from) == -1)
		return CLI_FAIL;
	snprintf(spec, sizeof spec, "+%dd", 7 - back);
	if (cli_time_arg(c, "week", spec, &to) == -1)
		return CLI_FAIL;
	return run_window(c, &w, from, to);
}
