/* djcal refresh: ask djcald to fetch one feed or all now. */
#include <stdlib.h>
#include <string.h>

#include "djcal/clitext.h"
#include "djcal/xmalloc.h"
#include "cli.h"

#define COL_ERROR	60

static char *
count_cell(json_t *result, const char *key)
{
	json_t *v = json_object_get(result, key);
	char *s;

	if (!json_is_integer(v))
		return xstrdup("-");
	xasprintf(&s, "%lld", (long long)json_integer_value(v));
	return s;
}

/* The results as a table; the number of feeds that failed in *failed. */
static int
print_results(struct cli *c, json_t *results, size_t *failed)
{
	const char *head[6] = { _("FEED"), _("RESULT"), _("ITEMS"),
	    _("CHANGED"), _("REMOVED"), _("ERROR") };
	struct clitext_table *t;
	json_t *r;
	size_t i;

	*failed = 0;
	if (!json_is_array(results)) {
		cli_error(_("%s: the reply has no list"), c->cmd);
		return CLI_FAIL;
	}
	t = clitext_table_new(6);
	clitext_table_header(t, head);
	clitext_table_max(t, 5, COL_ERROR);
	for (i = 0; i <= 4; i++) {
		clitext_table_keep(t, (int)i);
		if (i >= 2)
			clitext_table_right(t, (int)i);
	}
	json_array_foreach(results, i, r) {
		const char *row[6], *sgr[6] = { NULL };
		char *items = count_cell(r, "items");
		char *changed = count_cell(r, "changed");
		char *removed = count_cell(r, "removed");

		if (!json_is_true(json_object_get(r, "ok"))) {
			row[1] = _("failed");
			sgr[0] = sgr[1] = sgr[5] = "1;31";
			(*failed)++;
		} else if (json_is_true(json_object_get(r, "unchanged")))
			row[1] = _("unchanged");
		else {
			row[1] = _("updated");
			sgr[1] = "32";
		}
		row[0] = json_string_value(json_object_get(r, "feed"));
		row[2] = items;
		row[3] = changed;
		row[4] = removed;
		row[5] = json_string_value(json_object_get(r, "error"));
		clitext_table_row(t, row, sgr);
		free(items);
		free(changed);
		free(removed);
	}
	cli_table_print(c, t);
	clitext_table_free(t);
	return CLI_OK;
}

int
cmd_refresh(struct cli *c, int argc, char **argv)
{
	json_t *req, *reply, *results, *r;
	size_t failed = 0, i;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", NULL)) != -1)
		return cli_usage(c->cmd);
	if (cli_operands_max(c, argc, argv, 1) == -1)
		return cli_usage(c->cmd);
	req = json_pack("{s:s}", "op", "refresh");
	if (optind < argc)
		json_object_set_new(req, "feed", json_string(argv[optind]));
	rc = cli_call(c, req, NULL, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	results = json_object_get(reply, "results");
	if (c->json) {
		cli_print_json(reply);
		json_array_foreach(results, i, r)
			if (!json_is_true(json_object_get(r, "ok")))
				failed++;
	} else
		rc = print_results(c, results, &failed);
	json_decref(reply);
	if (rc == CLI_OK && failed > 0) {
		cli_error(ngettext("%s: %zu feed failed",
		    "%s: %zu feeds failed", failed), c->cmd, failed);
		rc = CLI_FAIL;
	}
	return rc;
}
