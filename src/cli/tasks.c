/* djcal tasks: standardization tasks (VTODO) by state. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "djcal/query.h"
#include "cli.h"

int
cmd_tasks(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "open", no_argument, NULL, QUERY_TASKS_OPEN },
		{ "overdue", no_argument, NULL, QUERY_TASKS_OVERDUE },
		{ "done", no_argument, NULL, QUERY_TASKS_DONE },
		{ "all", no_argument, NULL, QUERY_TASKS_ALL },
		{ NULL, 0, NULL, 0 }
	};
	enum query_tasks which = QUERY_TASKS_OPEN;
	struct dj_occ_list l;
	char *cause = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch < QUERY_TASKS_OPEN || ch > QUERY_TASKS_ALL)
			return cli_usage("tasks");
		which = (enum query_tasks)ch;
	}
	if (optind != argc)
		return cli_usage("tasks");
	if (c->db_path == NULL) {
		cli_error("talking to djcald over %s is not built yet; use "
		    "--db", c->socket_path);
		return CLI_FAIL;
	}
	memset(&l, 0, sizeof l);
	if (query_tasks(c->store, which, c->now, &l, &cause) == -1) {
		cli_error("%s", cause);
		free(cause);
		return CLI_FAIL;
	}
	cli_print_occurrences(c, &l, "tasks");
	occ_list_free(&l);
	return CLI_OK;
}
