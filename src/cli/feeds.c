/* djcal feeds: the health of each configured feed. */
#include <stdlib.h>
#include <string.h>

#include "djcal/clitext.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"
#include "cli.h"

#define COL_URL		48
#define COL_ERROR	40

/*
 * --db: the feeds op from the database, with the fields djcald's reply
 * has (docs/PROTOCOL.md).  Without a daemon nothing is scheduled, so
 * next_fetch is null.
 */
static int
feeds_local(struct cli *c, json_t *req, json_t **reply)
{
	struct store_feed *v;
	json_t *a;
	size_t n, i;

	(void)req;
	if (store_feed_list(c->store, &v, &n) == -1) {
		cli_error("%s: %s", c->cmd, store_errmsg(c->store));
		return CLI_FAIL;
	}
	a = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(a, proto_feed_json(&v[i], 0, c->zone));
	}
	store_feed_list_free(v, n);
	*reply = json_pack("{s:o}", "feeds", a);
	return CLI_OK;
}

/* A time field of a feed for the table; empty_text when null. */
static char *
time_cell(const struct cli *c, json_t *feed, const char *key,
    const char *empty_text)
{
	const char *s = json_string_value(json_object_get(feed, key));
	time_t t;

	if (s == NULL || proto_parse_time(s, c->zone, &t, NULL) == -1)
		return xstrdup(empty_text);
	return cli_datetime(c, t);
}

static int
print_feeds(struct cli *c, json_t *feeds)
{
	const char *head[6] = { _("NAME"), _("URL"), _("ITEMS"),
	    _("LAST SUCCESS"), _("LAST ERROR"), _("NEXT FETCH") };
	struct clitext_table *t;
	json_t *f;
	size_t i;

	if (!json_is_array(feeds)) {
		cli_error(_("%s: the reply has no list"), c->cmd);
		return CLI_FAIL;
	}
	if (json_array_size(feeds) == 0) {
		printf("%s\n", _("No feeds are configured."));
		return CLI_OK;
	}
	t = clitext_table_new(6);
	clitext_table_header(t, head);
	clitext_table_max(t, 1, COL_URL);
	clitext_table_max(t, 4, COL_ERROR);
	clitext_table_right(t, 2);
	clitext_table_keep(t, 0);
	clitext_table_keep(t, 2);
	clitext_table_keep(t, 3);
	clitext_table_keep(t, 5);
	clitext_table_priority(t, 4, 1);
	json_array_foreach(feeds, i, f) {
		const char *row[6], *sgr[6] = { NULL };
		const char *err = json_string_value(json_object_get(f,
		    "last_error"));
		char *items, *ok, *next;

		xasprintf(&items, "%lld", (long long)json_integer_value(
		    json_object_get(f, "items")));
		ok = time_cell(c, f, "last_success", _("never"));
		next = time_cell(c, f, "next_fetch", "-");
		if (err != NULL)
			sgr[0] = sgr[4] = "1;31";
		if (json_is_null(json_object_get(f, "last_success")) ||
		    json_object_get(f, "last_success") == NULL)
			sgr[3] = "33";
		row[0] = json_string_value(json_object_get(f, "name"));
		row[1] = json_string_value(json_object_get(f, "url"));
		row[2] = items;
		row[3] = ok;
		row[4] = err;
		row[5] = next;
		clitext_table_row(t, row, sgr);
		free(items);
		free(ok);
		free(next);
	}
	cli_table_print(c, t);
	clitext_table_free(t);
	return CLI_OK;
}

int
cmd_feeds(struct cli *c, int argc, char **argv)
{
	json_t *req, *reply;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", NULL)) != -1)
		return cli_usage(c->cmd);
	if (cli_operands_max(c, argc, argv, 0) == -1)
		return cli_usage(c->cmd);
	req = json_pack("{s:s}", "op", "feeds");
	rc = cli_call(c, req, feeds_local, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		rc = print_feeds(c, json_object_get(reply, "feeds"));
	json_decref(reply);
	return rc;
}
