/* djcal hours: the year's volunteer hours per member (志愿服务时长). */
#include <stdlib.h>
#include <string.h>

#include "djcal/branch.h"
#include "djcal/clitext.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"
#include "cli.h"

/* --db: the hours op in-process, as djcald's socket does it. */
static int
hours_local(struct cli *c, json_t *req, json_t **reply)
{
	const char *member = json_string_value(json_object_get(req,
	    "member"));
	struct branch_hours *v;
	char *cause = NULL;
	size_t n;
	json_t *a;
	int year;

	if (proto_field_year(req, "year", c->zone, c->now, &year,
	    &cause) == -1 ||
	    branch_hours(c->store, year, member, &v, &n, &cause) == -1) {
		cli_error("%s: %s", c->cmd, cause);
		free(cause);
		return CLI_FAIL;
	}
	a = branch_hours_json(v, n);
	branch_hours_free(v, n);
	*reply = json_pack("{s:i, s:o}", "year", year, "hours", a);
	return CLI_OK;
}

static int
print_hours(struct cli *c, json_t *reply)
{
	const char *head[3] = { _("MEMBER"), _("HOURS"), _("ACTIVITIES") };
	json_t *list = json_object_get(reply, "hours"), *o;
	int year = (int)json_integer_value(json_object_get(reply, "year"));
	struct clitext_table *t;
	double total = 0;
	char *s;
	size_t i;

	if (!json_is_array(list)) {
		cli_error(_("%s: the reply has no list"), c->cmd);
		return CLI_FAIL;
	}
	if (json_array_size(list) == 0) {
		printf(_("No volunteer hours recorded in %d.\n"), year);
		return CLI_OK;
	}
	t = clitext_table_new(3);
	clitext_table_header(t, head);
	clitext_table_right(t, 1);
	clitext_table_right(t, 2);
	clitext_table_keep(t, 1);
	clitext_table_keep(t, 2);
	json_array_foreach(list, i, o) {
		const char *row[3];
		double h = json_number_value(json_object_get(o, "hours"));
		char *hs = cli_hours_text(h), *cs;

		total += h;
		xasprintf(&cs, "%lld", (long long)json_integer_value(
		    json_object_get(o, "count")));
		row[0] = json_string_value(json_object_get(o, "member"));
		row[1] = hs;
		row[2] = cs;
		clitext_table_row(t, row, NULL);
		free(hs);
		free(cs);
	}
	cli_table_print(c, t);
	clitext_table_free(t);
	s = cli_hours_text(total);
	/* TRANSLATORS: under the hours table: year, hours, members.
	 * Chinese: "%d年合计：%s 小时，%zu 人". */
	printf(ngettext("%d: %s hours by %zu member\n",
	    "%d: %s hours by %zu members\n", json_array_size(list)), year, s,
	    json_array_size(list));
	free(s);
	return CLI_OK;
}

int
cmd_hours(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "year", required_argument, NULL, 'y' },
		{ "member", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	const char *member = NULL;
	json_t *req, *reply;
	int ch, rc, year = 0;

	while ((ch = cli_getopt(c, argc, argv, "y:m:", longopts)) != -1) {
		switch (ch) {
		case 'y':
			if (cli_year_arg("--year", optarg, &year) == -1)
				return cli_usage(c->cmd);
			break;
		case 'm':
			member = optarg;
			break;
		default:
			return cli_usage(c->cmd);
		}
	}
	if (cli_operands_max(c, argc, argv, 0) == -1)
		return cli_usage(c->cmd);
	req = json_pack("{s:s}", "op", "hours");
	if (year != 0)
		json_object_set_new(req, "year", json_integer(year));
	if (member != NULL)
		json_object_set_new(req, "member", json_string(member));
	rc = cli_call(c, req, hours_local, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		rc = print_hours(c, reply);
	json_decref(reply);
	return rc;
}
