/* djcal export: the merged, filtered iCalendar feed to stdout. */
#include <stdio.h>

#include "cli.h"

int
cmd_export(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "category", required_argument, NULL, 'c' },
		{ "feed", required_argument, NULL, 'f' },
		{ "branch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	const char *feed = NULL, *branch = NULL;
	unsigned categories = 0;
	json_t *req, *reply, *ics;
	int ch, rc, cat;

	while ((ch = cli_getopt(c, argc, argv, "c:f:b:", longopts)) != -1) {
		switch (ch) {
		case 'c':
			if ((cat = cli_category_arg(optarg)) == -1)
				return cli_usage(c->cmd);
			categories |= 1u << cat;
			break;
		case 'f':
			feed = optarg;
			break;
		case 'b':
			branch = optarg;
			break;
		default:
			return cli_usage(c->cmd);
		}
	}
	if (cli_operands_max(c, argc, argv, 0) == -1)
		return cli_usage(c->cmd);
	req = cli_filter_request("export", categories, feed, branch);
	rc = cli_call(c, req, NULL, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	ics = json_object_get(reply, "ics");
	if (!json_is_string(ics)) {
		cli_error(_("%s: the reply has no calendar"), c->cmd);
		rc = CLI_FAIL;
	} else if (c->json)
		cli_print_json(reply);
	else
		fwrite(json_string_value(ics), 1, json_string_length(ics),
		    stdout);
	json_decref(reply);
	return rc;
}
