/* djcal tasks: standardization tasks (VTODO) by state. */
#include <stdlib.h>
#include <string.h>

#include "djcal/proto.h"
#include "djcal/query.h"
#include "cli.h"

/* --db: the tasks op in-process, as djcald's socket does it. */
static int
tasks_local(struct cli *c, json_t *req, json_t **reply)
{
	const char *status = json_string_value(json_object_get(req,
	    "status"));
	struct dj_occ_list l;
	char *cause = NULL;
	json_t *a;
	size_t i;
	int which;

	which = status != NULL ? query_tasks_from_name(status) :
	    QUERY_TASKS_OPEN;
	if (which < 0)
		which = QUERY_TASKS_OPEN;
	memset(&l, 0, sizeof l);
	if (query_tasks(c->store, (enum query_tasks)which, c->now, &l,
	    &cause) == -1) {
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
	*reply = json_pack("{s:o}", "tasks", a);
	return CLI_OK;
}

int
cmd_tasks(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "open", no_argument, NULL, 'o' },
		{ "overdue", no_argument, NULL, 'O' },
		{ "done", no_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	const char *status = "open", *given = NULL;
	json_t *req, *reply;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case 'o':
			status = "open";
			break;
		case 'O':
			status = "overdue";
			break;
		case 'd':
			status = "done";
			break;
		case 'a':
			status = "all";
			break;
		default:
			return cli_usage(c->cmd);
		}
		if (given != NULL && strcmp(given, status) != 0) {
			cli_error(_("--%s and --%s exclude each other"), given,
			    status);
			return cli_usage(c->cmd);
		}
		given = status;
	}
	if (cli_operands_max(c, argc, argv, 0) == -1)
		return cli_usage(c->cmd);
	req = json_pack("{s:s, s:s}", "op", "tasks", "status", status);
	rc = cli_call(c, req, tasks_local, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		rc = cli_print_tasks(c, json_object_get(reply, "tasks"));
	json_decref(reply);
	return rc;
}
