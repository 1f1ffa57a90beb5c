/*
 * djcal compliance: the required meetings (三会一课, 主题党日) by period,
 * with the 三色 status of each requirement: green (every past period met,
 * the current one held or scheduled), yellow (the current or next period
 * has nothing), red (a past period was missed).
 *
 * Over the socket the daemon's requirements apply.  With --db there is no
 * daemon and so no configuration: the requirements come from the file
 * --config names, else they are the defaults (config_default), and the
 * feeds the database records as holiday calendars count as such.
 */
#include <stdlib.h>
#include <string.h>

#include "djcal/branch.h"
#include "djcal/clitext.h"
#include "djcal/config.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"
#include "cli.h"

/* --config FILE, for the --db path. */
static const char *config_path;

/* The holiday feeds the database knows and the config does not name. */
static void
add_store_holidays(struct config *cfg, struct store *s)
{
	struct store_feed *v;
	struct config_feed *f;
	size_t n, i;

	if (store_feed_list(s, &v, &n) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (v[i].kind == NULL || strcmp(v[i].kind, "holidays") != 0 ||
		    config_feed_find(cfg, v[i].name) != NULL)
			continue;
		cfg->feeds = xreallocarray(cfg->feeds, cfg->nfeeds + 1,
		    sizeof *cfg->feeds);
		f = &cfg->feeds[cfg->nfeeds++];
		memset(f, 0, sizeof *f);
		f->name = xstrdup(v[i].name);
		f->category = -1;
		f->kind = CONFIG_FEED_HOLIDAYS;
	}
	store_feed_list_free(v, n);
}

/* --db: the compliance op in-process, with the requirements of --config
 * or the defaults. */
static int
compliance_local(struct cli *c, json_t *req, json_t **reply)
{
	const char *branch = json_string_value(json_object_get(req,
	    "branch"));
	struct branch_compliance bc;
	struct config *cfg;
	char *cause = NULL;
	int year;

	if (config_path != NULL) {
		if (config_load(config_path, &cfg, &cause) == -1) {
			cli_error("%s", cause);
			free(cause);
			return CLI_FAIL;
		}
	} else
		cfg = config_default();
	add_store_holidays(cfg, c->store);
	if (proto_field_year(req, "year", c->zone, c->now, &year,
	    &cause) == -1 ||
	    branch_compliance(c->store, cfg, year, branch, c->now, &bc,
	    &cause) == -1) {
		cli_error("%s: %s", c->cmd, cause);
		free(cause);
		config_free(cfg);
		return CLI_FAIL;
	}
	*reply = branch_compliance_json(&bc);
	branch_compliance_free(&bc);
	config_free(cfg);
	return CLI_OK;
}

/* A period's label: "2026-03" -> "Mar" (3月), "2026-Q2" -> "Q2"
 * (第2季度), "2026" -> "2026". Caller frees. */
static char *
period_label(const char *p)
{
	char *s;
	int y, k;
	char q;

	if (p == NULL)
		return xstrdup("?");
	if (sscanf(p, "%d-%c%d", &y, &q, &k) == 3 && q == 'Q') {
		/* TRANSLATORS: a quarter of the year.  Chinese:
		 * "第%d季度". */
		xasprintf(&s, _("Q%d"), k);
		return s;
	}
	if (sscanf(p, "%d-%d", &y, &k) == 2)
		return xstrdup(cli_month_label(k));
	return xstrdup(p);
}

static long long
int_of(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/*
 * A period's mark: ✓ held (with the count when more than one), ○
 * scheduled, ✗ missed, · nothing yet; ⊘ after it when something was
 * cancelled.  *sgr its colour.
 */
static char *
period_mark(json_t *p, const char **sgr)
{
	long long held = int_of(p, "held"), sched = int_of(p, "scheduled");
	const char *m;
	long long k = 0;
	char *s;

	if (held > 0) {
		m = "✓";
		k = held;
		*sgr = "32";
	} else if (sched > 0) {
		m = "○";
		k = sched;
		*sgr = "36";
	} else if (json_is_true(json_object_get(p, "missing"))) {
		m = "✗";
		*sgr = "1;31";
	} else {
		m = "·";
		*sgr = NULL;
	}
	if (k > 1)
		xasprintf(&s, "%s%lld%s", m, k, int_of(p, "cancelled") > 0 ?
		    "⊘" : "");
	else
		xasprintf(&s, "%s%s", m, int_of(p, "cancelled") > 0 ? "⊘" :
		    "");
	return s;
}

static const char *
cadence_label(const char *cadence)
{
	if (cadence != NULL && strcmp(cadence, "month") == 0)
		return _("monthly");
	if (cadence != NULL && strcmp(cadence, "quarter") == 0)
		return _("quarterly");
	return _("yearly");
}

/* "green (every period met so far)", and its colour. */
static char *
status_text(json_t *r, const char **sgr)
{
	const char *st = json_string_value(json_object_get(r, "status"));
	json_t *ps = json_object_get(r, "periods"), *p;
	char *out, *missed = NULL, *label, *next;
	size_t i;

	if (st != NULL && strcmp(st, "green") == 0) {
		*sgr = "1;32";
		/* TRANSLATORS: the status of a requirement and why.
		 * Chinese: "%s（%s）". */
		xasprintf(&out, _("%s (%s)"), _("green"),
		    _("every period met so far"));
		return out;
	}
	if (st != NULL && strcmp(st, "yellow") == 0) {
		*sgr = "1;33";
		xasprintf(&out, _("%s (%s)"), _("yellow"),
		    _("nothing scheduled for the current or next period"));
		return out;
	}
	*sgr = "1;31";
	json_array_foreach(ps, i, p) {
		if (!json_is_true(json_object_get(p, "missing")))
			continue;
		label = period_label(json_string_value(json_object_get(p,
		    "period")));
		if (missed == NULL)
			missed = label;
		else {
			xasprintf(&next, _("%1$s, %2$s"), missed, label);
			free(missed);
			free(label);
			missed = next;
		}
	}
	/* TRANSLATORS: the periods in which nothing was held.  Chinese:
	 * "未开展：%s". */
	xasprintf(&next, _("missed: %s"), missed != NULL ? missed : "?");
	xasprintf(&out, _("%s (%s)"), _("red"), next);
	free(next);
	free(missed);
	return out;
}

/* The notes under a requirement: its occurrences on public holidays. */
static void
print_holidays(json_t *ps)
{
	char *list = NULL, *label, *item, *next;
	json_t *p;
	size_t i;

	json_array_foreach(ps, i, p) {
		long long k = int_of(p, "on_holiday");

		if (k <= 0)
			continue;
		label = period_label(json_string_value(json_object_get(p,
		    "period")));
		/* TRANSLATORS: a period and how many occurrences in it fall
		 * on a public holiday: "Oct (1)".  Chinese: "%s（%lld次）". */
		xasprintf(&item, _("%s (%lld)"), label, k);
		free(label);
		if (list == NULL)
			list = item;
		else {
			xasprintf(&next, _("%1$s, %2$s"), list, item);
			free(list);
			free(item);
			list = next;
		}
	}
	if (list == NULL)
		return;
	/* TRANSLATORS: Chinese: "节假日：%s". */
	printf(_("On public holidays: %s\n"), list);
	free(list);
}

static int
print_compliance(struct cli *c, json_t *reply, const char *branch)
{
	json_t *reqs = json_object_get(reply, "requirements"), *r, *ps, *p;
	int year = (int)json_integer_value(json_object_get(reply, "year"));
	int namew = 0, cadw = 0, w, cancelled = 0;
	struct clitext_table *t;
	size_t i, k, np;

	if (!json_is_array(reqs)) {
		cli_error(_("%s: the reply has no list"), c->cmd);
		return CLI_FAIL;
	}
	if (json_array_size(reqs) == 0) {
		printf("%s\n", _("No required meetings are configured."));
		return CLI_OK;
	}
	if (branch != NULL) {
		char *s;

		/* TRANSLATORS: year, branch.  Chinese:
		 * "%d年%s规定活动落实情况". */
		xasprintf(&s, _("Required meetings in %d: %s"), year, branch);
		cli_puts(s);
		free(s);
	} else
		/* TRANSLATORS: Chinese: "%d年规定活动落实情况". */
		printf(_("Required meetings in %d\n"), year);
	json_array_foreach(reqs, i, r) {
		const char *name = json_string_value(json_object_get(r,
		    "name"));

		const char *cad = cadence_label(json_string_value(
		    json_object_get(r, "cadence")));

		if (name != NULL && (w = clitext_width(name)) > namew)
			namew = w;
		if ((w = clitext_width(cad)) > cadw)
			cadw = w;
	}
	json_array_foreach(reqs, i, r) {
		const char *name = json_string_value(json_object_get(r,
		    "name")), *sgr, *cad;
		char *st = status_text(r, &sgr), *nm;
		const char **head, **row, **rsgr;
		char **cells;

		if (name == NULL)
			name = "?";
		putchar('\n');
		/* The name and the cadence aligned by display width. */
		nm = clitext_clean(name);
		cad = cadence_label(json_string_value(json_object_get(r,
		    "cadence")));
		printf("%s%*s  %s%*s  ", nm, namew - clitext_width(nm), "",
		    cad, cadw - clitext_width(cad), "");
		free(nm);
		if (c->color)
			printf("\033[%sm%s\033[0m\n", sgr, st);
		else
			printf("%s\n", st);
		free(st);
		ps = json_object_get(r, "periods");
		np = json_array_size(ps);
		if (np == 0)
			continue;
		head = xcalloc(np, sizeof *head);
		row = xcalloc(np, sizeof *row);
		rsgr = xcalloc(np, sizeof *rsgr);
		cells = xcalloc(2 * np, sizeof *cells);
		t = clitext_table_new((int)np);
		json_array_foreach(ps, k, p) {
			cells[k] = period_label(json_string_value(
			    json_object_get(p, "period")));
			cells[np + k] = period_mark(p, &rsgr[k]);
			head[k] = cells[k];
			row[k] = cells[np + k];
			clitext_table_keep(t, (int)k);
			if (int_of(p, "cancelled") > 0)
				cancelled = 1;
		}
		clitext_table_header(t, head);
		clitext_table_row(t, row, rsgr);
		cli_table_print(c, t);
		clitext_table_free(t);
		for (k = 0; k < 2 * np; k++)
			free(cells[k]);
		free(cells);
		free(head);
		free(row);
		free(rsgr);
		print_holidays(ps);
	}
	putchar('\n');
	/* TRANSLATORS: the legend of the period marks. */
	printf("%s\n", cancelled ? _("✓ held  ○ scheduled  ✗ missed  · not "
	    "yet scheduled  ⊘ cancelled") : _("✓ held  ○ scheduled  ✗ missed"
	    "  · not yet scheduled"));
	return CLI_OK;
}

int
cmd_compliance(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "year", required_argument, NULL, 'y' },
		{ "branch", required_argument, NULL, 'b' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const char *branch = NULL;
	json_t *req, *reply;
	int ch, rc, year = 0;

	while ((ch = cli_getopt(c, argc, argv, "y:b:c:", longopts)) != -1) {
		switch (ch) {
		case 'y':
			if (cli_year_arg("--year", optarg, &year) == -1)
				return cli_usage(c->cmd);
			break;
		case 'b':
			branch = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		default:
			return cli_usage(c->cmd);
		}
	}
	if (cli_operands_max(c, argc, argv, 0) == -1)
		return cli_usage(c->cmd);
	if (config_path != NULL && c->db_path == NULL) {
		cli_error(_("%s: --config goes with --db; djcald uses its own "
		    "configuration"), c->cmd);
		return cli_usage(c->cmd);
	}
	req = json_pack("{s:s}", "op", "compliance");
	if (year != 0)
		json_object_set_new(req, "year", json_integer(year));
	if (branch != NULL)
		json_object_set_new(req, "branch", json_string(branch));
	rc = cli_call(c, req, compliance_local, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		rc = print_compliance(c, reply, branch);
	json_decref(reply);
	return rc;
}
