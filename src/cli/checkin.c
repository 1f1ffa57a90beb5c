/*
 * djcal checkin, attendance: who came to an occurrence (签到) or took
 * leave from it (请假), and the list of them.  An occurrence is named by
 * its UID and its start, as `upcoming --json` shows them.
 */
#include <stdlib.h>
#include <string.h>

#include "djcal/branch.h"
#include "djcal/clitext.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"
#include "cli.h"

#define COL_REASON	40

/* The options of both commands: --member, --leave (checkin), --feed. */
struct checkin_args {
	const char	*uid, *start;
	const char	*member, *leave, *feed;
};

static int
parse_args(struct cli *c, int argc, char **argv, int checkin,
    struct checkin_args *a)
{
	static const struct option longopts[] = {
		{ "feed", required_argument, NULL, 'f' },
		{ "member", required_argument, NULL, 'm' },
		{ "leave", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct option attendance_longopts[] = {
		{ "feed", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(a, 0, sizeof *a);
	while ((ch = cli_getopt(c, argc, argv, checkin ? "f:m:l:" : "f:",
	    checkin ? longopts : attendance_longopts)) != -1) {
		switch (ch) {
		case 'f':
			a->feed = optarg;
			break;
		case 'm':
			a->member = optarg;
			break;
		case 'l':
			a->leave = optarg;
			break;
		default:
			return -1;
		}
	}
	if (argc - optind < 2) {
		cli_error(_("%s: needs the occurrence's UID and start"),
		    c->cmd);
		return -1;
	}
	if (cli_operands_max(c, argc, argv, 2) == -1)
		return -1;
	a->uid = argv[optind];
	a->start = argv[optind + 1];
	if (*a->uid == '\0') {
		cli_error(_("%s: the UID is empty"), c->cmd);
		return -1;
	}
	if (cli_time_arg_check("START", a->start) == -1)
		return -1;
	if (checkin && (a->member == NULL || *a->member == '\0')) {
		cli_error(_("%s: --member NAME is required"), c->cmd);
		return -1;
	}
	return 0;
}

/* The request of either op, once the zone is known. */
static json_t *
make_request(struct cli *c, const char *op, const struct checkin_args *a)
{
	json_t *req;
	time_t start;
	char *s;

	if (cli_time_arg(c, "START", a->start, &start) == -1)
		return NULL;
	s = proto_format_time(start, 0, c->zone);
	req = json_pack("{s:s, s:s, s:s}", "op", op, "uid", a->uid, "start",
	    s);
	free(s);
	if (a->feed != NULL)
		json_object_set_new(req, "feed", json_string(a->feed));
	if (a->member != NULL)
		json_object_set_new(req, "member", json_string(a->member));
	if (a->leave != NULL)
		json_object_set_new(req, "leave", json_string(a->leave));
	return req;
}

/* When an occurrence starts, from a reply's time ("2026-12-12" for an
 * all-day one).  Caller frees. */
static char *
when_of(const struct cli *c, const char *s)
{
	time_t t;
	int is_date = 0;

	if (s == NULL || proto_parse_time(s, c->zone, &t, &is_date) == -1)
		return xstrdup(s != NULL ? s : "-");
	return is_date ? cli_date(c, t) : cli_datetime(c, t);
}

static const char *
summary_of(json_t *o)
{
	const char *s = json_string_value(json_object_get(o, "summary"));

	return s != NULL ? s : json_string_value(json_object_get(o, "uid"));
}

int
cmd_checkin(struct cli *c, int argc, char **argv)
{
	struct checkin_args a;
	json_t *req, *reply, *o;
	const char *reason;
	char *when, *line;
	int rc;

	if (parse_args(c, argc, argv, 1, &a) == -1)
		return cli_usage(c->cmd);
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	if ((req = make_request(c, "checkin", &a)) == NULL)
		return CLI_USAGE;
	rc = cli_call(c, req, NULL, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	if (c->json) {
		cli_print_json(reply);
		json_decref(reply);
		return CLI_OK;
	}
	o = json_object_get(reply, "checkin");
	when = when_of(c, json_string_value(json_object_get(o, "start")));
	reason = json_string_value(json_object_get(o, "reason"));
	if (json_string_value(json_object_get(o, "status")) != NULL &&
	    strcmp(json_string_value(json_object_get(o, "status")),
	    "leave") == 0) {
		if (reason != NULL && *reason != '\0')
			/* TRANSLATORS: member, summary, when, reason. */
			xasprintf(&line, _("Leave recorded: %s, %s (%s): %s"),
			    json_string_value(json_object_get(o, "member")),
			    summary_of(o), when, reason);
		else
			/* TRANSLATORS: member, summary, when. */
			xasprintf(&line, _("Leave recorded: %s, %s (%s)"),
			    json_string_value(json_object_get(o, "member")),
			    summary_of(o), when);
	} else
		/* TRANSLATORS: member, summary, when. */
		xasprintf(&line, _("Checked in: %s, %s (%s)"),
		    json_string_value(json_object_get(o, "member")),
		    summary_of(o), when);
	cli_puts(line);
	free(line);
	free(when);
	json_decref(reply);
	return CLI_OK;
}

/* --db: the attendance op in-process, as djcald's socket does it. */
static int
attendance_local(struct cli *c, json_t *req, json_t **reply)
{
	const char *uid = json_string_value(json_object_get(req, "uid"));
	const char *feed = json_string_value(json_object_get(req, "feed"));
	struct branch_checkin *v;
	char *cause = NULL, *t;
	time_t start;
	size_t n;
	json_t *a;
	int rc;

	if (proto_parse_time(json_string_value(json_object_get(req,
	    "start")), c->zone, &start, NULL) == -1)
		return CLI_USAGE;
	rc = branch_attendance(c->store, feed, uid, start, &v, &n, &cause);
	if (rc == 1) {
		t = proto_format_time(start, 0, c->zone);
		cli_error(_("%s: no occurrence of %s starting at %s"), c->cmd,
		    uid, t);
		free(t);
		return CLI_FAIL;
	}
	if (rc == -1) {
		cli_error("%s: %s", c->cmd, cause);
		free(cause);
		return CLI_FAIL;
	}
	a = branch_attendance_json(v, n, c->zone);
	*reply = json_pack("{s:o}", "attendance", a);
	return CLI_OK;
}

static int
print_attendance(struct cli *c, json_t *list)
{
	const char *head[4] = { _("MEMBER"), _("STATUS"), _("REASON"),
	    _("RECORDED") };
	struct clitext_table *t;
	int present = 0, leave = 0;
	char *when, *line;
	json_t *o;
	size_t i;

	if (!json_is_array(list)) {
		cli_error(_("%s: the reply has no list"), c->cmd);
		return CLI_FAIL;
	}
	if (json_array_size(list) == 0) {
		printf("%s\n", _("No one has checked in yet."));
		return CLI_OK;
	}
	o = json_array_get(list, 0);
	when = when_of(c, json_string_value(json_object_get(o, "start")));
	xasprintf(&line, "%s  %s", summary_of(o), when);
	cli_puts(line);
	free(line);
	free(when);

	t = clitext_table_new(4);
	clitext_table_header(t, head);
	clitext_table_keep(t, 1);
	clitext_table_keep(t, 3);
	clitext_table_max(t, 2, COL_REASON);
	json_array_foreach(list, i, o) {
		const char *row[4], *sgr[4] = { NULL };
		const char *st = json_string_value(json_object_get(o,
		    "status"));
		char *rec = when_of(c, json_string_value(json_object_get(o,
		    "recorded")));

		if (st != NULL && strcmp(st, "leave") == 0) {
			row[1] = _("on leave");
			sgr[1] = "33";
			leave++;
		} else {
			row[1] = _("present");
			sgr[1] = "32";
			present++;
		}
		row[0] = json_string_value(json_object_get(o, "member"));
		row[2] = json_string_value(json_object_get(o, "reason"));
		row[3] = rec;
		clitext_table_row(t, row, sgr);
		free(rec);
	}
	cli_table_print(c, t);
	clitext_table_free(t);
	/* TRANSLATORS: the totals under the attendance table: "2 present,
	 * 1 on leave".  Chinese: "出席 %d 人，请假 %d 人". */
	printf(_("%d present, %d on leave\n"), present, leave);
	return CLI_OK;
}

int
cmd_attendance(struct cli *c, int argc, char **argv)
{
	struct checkin_args a;
	json_t *req, *reply;
	int rc;

	if (parse_args(c, argc, argv, 0, &a) == -1)
		return cli_usage(c->cmd);
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	if ((req = make_request(c, "attendance", &a)) == NULL)
		return CLI_USAGE;
	rc = cli_call(c, req, attendance_local, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		rc = print_attendance(c, json_object_get(reply, "attendance"));
	json_decref(reply);
	return rc;
}
