/*
 * djcal stats: the year's counts per category and meeting type, as a
 * year-end summary (年终总结: "2026年，机关党支部召开主题党日12次、
 * 支委会12次……"), a table and a bar chart; --csv for spreadsheets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "djcal/branch.h"
#include "djcal/classify.h"
#include "djcal/clitext.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"
#include "cli.h"

/* The longest bar, however wide the terminal. */
#define BAR_MAX		60
/* The width assumed when standard output is not a terminal. */
#define BAR_COLUMNS	80

int
cli_year_arg(const char *opt, const char *arg, int *year)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 ||
	    v < PROTO_YEAR_MIN || v > PROTO_YEAR_MAX) {
		cli_error(_("%s: not a year from %d to %d: \"%s\""), opt,
		    PROTO_YEAR_MIN, PROTO_YEAR_MAX, arg);
		return -1;
	}
	*year = (int)v;
	return 0;
}

/* --db: the stats op in-process, as djcald's socket does it. */
static int
stats_local(struct cli *c, json_t *req, json_t **reply)
{
	const char *branch = json_string_value(json_object_get(req,
	    "branch"));
	struct branch_stat *rows;
	char *cause = NULL;
	size_t n;
	int year;

	if (proto_field_year(req, "year", c->zone, c->now, &year,
	    &cause) == -1 ||
	    branch_stats(c->store, year, branch, c->now, &rows, &n,
	    &cause) == -1) {
		cli_error("%s: %s", c->cmd, cause);
		free(cause);
		return CLI_FAIL;
	}
	*reply = branch_stats_json(year, rows, n);
	free(rows);
	return CLI_OK;
}

/* A row of the reply, read back. */
struct row {
	int		 category;	/* enum dj_category */
	int		 meeting;	/* enum dj_meeting; 0: the category's */
	long long	 held, cancelled, upcoming, checkins, leaves;
	double		 rate;		/* -1: none recorded */
	double		 hours;
	char		*label;
};

static long long
int_of(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* The rows of a reply; -1 after a message. */
static int
read_rows(struct cli *c, json_t *reply, struct row **out, size_t *n)
{
	json_t *a = json_object_get(reply, "rows"), *o, *v;
	struct row *r;
	const char *mt;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!json_is_array(a)) {
		cli_error(_("%s: the reply has no list"), c->cmd);
		return -1;
	}
	*out = xcalloc(json_array_size(a) + 1, sizeof **out);
	json_array_foreach(a, i, o) {
		r = &(*out)[*n];
		r->category = classify_category_from_name(json_string_value(
		    json_object_get(o, "category")));
		if (r->category < 0)
			r->category = DJ_CAT_OTHER;
		mt = json_string_value(json_object_get(o, "meeting_type"));
		r->meeting = mt != NULL ? classify_meeting_from_name(mt) : 0;
		if (r->meeting < 0)
			r->meeting = 0;
		r->held = int_of(o, "held");
		r->cancelled = int_of(o, "cancelled");
		r->upcoming = int_of(o, "upcoming");
		r->checkins = int_of(o, "checkins");
		r->leaves = int_of(o, "leaves");
		v = json_object_get(o, "attendance_rate");
		r->rate = json_is_number(v) ? json_number_value(v) : -1;
		r->hours = json_number_value(json_object_get(o,
		    "volunteer_hours"));
		if (r->meeting > 0)
			xasprintf(&r->label, "  %s", cli_meeting_label(
			    (enum dj_meeting)r->meeting));
		else
			r->label = xstrdup(cli_category_label(
			    (enum dj_category)r->category));
		(*n)++;
	}
	return 0;
}

static void
free_rows(struct row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].label);
	free(v);
}

/* The summary */

struct words {
	char	**v;
	size_t	  n;
};

static void
words_add(struct words *w, char *s)
{
	w->v = xreallocarray(w->v, w->n + 1, sizeof *w->v);
	w->v[w->n++] = s;
}

/* "a, b and c" (Chinese "a、b、c"); frees the words. */
static char *
words_join(struct words *w)
{
	char *out, *next;
	size_t i;

	if (w->n == 0)
		return xstrdup("");
	out = w->v[0];
	for (i = 1; i < w->n; i++) {
		if (i + 1 < w->n)
			/* TRANSLATORS: joins the items of a list but the
			 * last: "a, b".  Chinese: "%1$s、%2$s". */
			xasprintf(&next, _("%1$s, %2$s"), out, w->v[i]);
		else
			/* TRANSLATORS: joins the last item of a list:
			 * "a and b".  Chinese: "%1$s、%2$s". */
			xasprintf(&next, _("%1$s and %2$s"), out, w->v[i]);
		free(out);
		free(w->v[i]);
		out = next;
	}
	free(w->v);
	w->v = NULL;
	w->n = 0;
	return out;
}

/* Clauses of the sentence: "held ..., gave ..." (Chinese "召开…，讲…"). */
static char *
clauses_join(struct words *w)
{
	char *out, *next;
	size_t i;

	if (w->n == 0)
		return xstrdup("");
	out = w->v[0];
	for (i = 1; i < w->n; i++) {
		/* TRANSLATORS: joins the clauses of the year's summary.
		 * Chinese: "%s，%s". */
		xasprintf(&next, _("%s, %s"), out, w->v[i]);
		free(out);
		free(w->v[i]);
		out = next;
	}
	free(w->v);
	w->v = NULL;
	w->n = 0;
	return out;
}

static const struct row *
find_row(const struct row *v, size_t n, int category, int meeting)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].category == category && v[i].meeting == meeting)
			return &v[i];
	return NULL;
}

/* "12 themed Party days" (Chinese "主题党日12次") for a row held. */
static void
add_count(struct words *w, const struct row *v, size_t n, int category,
    int meeting)
{
	const struct row *r = find_row(v, n, category, meeting);
	unsigned long k;
	char *s;

	if (r == NULL || r->held <= 0)
		return;
	k = (unsigned long)r->held;
	switch (meeting) {
	case DJ_MT_BRANCH_COMMITTEE:
		xasprintf(&s, ngettext("%lld branch committee meeting",
		    "%lld branch committee meetings", k), r->held);
		break;
	case DJ_MT_MEMBER_ASSEMBLY:
		xasprintf(&s, ngettext("%lld member assembly",
		    "%lld member assemblies", k), r->held);
		break;
	case DJ_MT_GROUP:
		xasprintf(&s, ngettext("%lld Party group meeting",
		    "%lld Party group meetings", k), r->held);
		break;
	case DJ_MT_LECTURE:
		xasprintf(&s, ngettext("%lld Party lecture",
		    "%lld Party lectures", k), r->held);
		break;
	case DJ_MT_THEORY_STUDY:
		xasprintf(&s, ngettext("%lld theory study session",
		    "%lld theory study sessions", k), r->held);
		break;
	default:
		switch (category) {
		case DJ_CAT_PARTY_DAY:
			xasprintf(&s, ngettext("%lld themed Party day",
			    "%lld themed Party days", k), r->held);
			break;
		case DJ_CAT_VOLUNTEER:
			xasprintf(&s, ngettext("%lld volunteer activity",
			    "%lld volunteer activities", k), r->held);
			break;
		case DJ_CAT_STANDARDIZATION:
			xasprintf(&s, ngettext("%lld standardization "
			    "activity", "%lld standardization activities",
			    k), r->held);
			break;
		default:
			xasprintf(&s, ngettext("%lld other activity",
			    "%lld other activities", k), r->held);
			break;
		}
	}
	words_add(w, s);
}

/* Study sessions of no meeting type: the category's row less its types. */
static void
add_other_study(struct words *w, const struct row *v, size_t n)
{
	const struct row *r = find_row(v, n, DJ_CAT_STUDY, 0);
	long long k;
	size_t i;
	char *s;

	if (r == NULL)
		return;
	k = r->held;
	for (i = 0; i < n; i++)
		if (v[i].category == DJ_CAT_STUDY && v[i].meeting > 0)
			k -= v[i].held;
	if (k <= 0)
		return;
	xasprintf(&s, ngettext("%lld other study session",
	    "%lld other study sessions", (unsigned long)k), k);
	words_add(w, s);
}

/*
 * The year's summary in one sentence: what was held (召开), the lectures
 * given (讲党课), what was organised (开展), the volunteer hours and the
 * attendance rate; only what occurred.
 */
static char *
summary(const struct row *v, size_t n, int year, const char *branch)
{
	struct words items = { NULL, 0 }, clauses = { NULL, 0 };
	long long present = 0, leave = 0;
	double hours = 0;
	char *s, *list, *body, *out;
	size_t i;

	add_count(&items, v, n, DJ_CAT_PARTY_DAY, 0);
	add_count(&items, v, n, DJ_CAT_STUDY, DJ_MT_BRANCH_COMMITTEE);
	add_count(&items, v, n, DJ_CAT_STUDY, DJ_MT_MEMBER_ASSEMBLY);
	add_count(&items, v, n, DJ_CAT_STUDY, DJ_MT_GROUP);
	if (items.n > 0) {
		list = words_join(&items);
		/* TRANSLATORS: "held 12 themed Party days, ...".  Chinese:
		 * "召开%s". */
		xasprintf(&s, _("held %s"), list);
		free(list);
		words_add(&clauses, s);
	}
	add_count(&items, v, n, DJ_CAT_STUDY, DJ_MT_LECTURE);
	if (items.n > 0) {
		list = words_join(&items);
		/* TRANSLATORS: "gave 4 Party lectures".  Chinese: "讲%s". */
		xasprintf(&s, _("gave %s"), list);
		free(list);
		words_add(&clauses, s);
	}
	add_count(&items, v, n, DJ_CAT_STUDY, DJ_MT_THEORY_STUDY);
	add_other_study(&items, v, n);
	add_count(&items, v, n, DJ_CAT_VOLUNTEER, 0);
	add_count(&items, v, n, DJ_CAT_STANDARDIZATION, 0);
	add_count(&items, v, n, DJ_CAT_OTHER, 0);
	if (items.n > 0) {
		list = words_join(&items);
		/* TRANSLATORS: "organised 24 theory study sessions and 16
		 * volunteer activities".  Chinese: "开展%s". */
		xasprintf(&s, _("organised %s"), list);
		free(list);
		words_add(&clauses, s);
	}
	for (i = 0; i < n; i++)
		if (v[i].meeting == 0) {
			hours += v[i].hours;
			present += v[i].checkins;
			leave += v[i].leaves;
		}
	if (clauses.n == 0) {
		if (branch != NULL)
			/* TRANSLATORS: year, branch. */
			xasprintf(&out, _("In %d, %s has held nothing yet."),
			    year, branch);
		else
			xasprintf(&out, _("In %d, nothing has been held yet."),
			    year);
		return out;
	}
	if (hours > 0) {
		list = cli_hours_text(hours);
		/* TRANSLATORS: Chinese: "累计志愿服务%s小时". */
		xasprintf(&s, _("with %s volunteer hours in all"), list);
		free(list);
		words_add(&clauses, s);
	}
	body = clauses_join(&clauses);
	if (present + leave > 0) {
		/* TRANSLATORS: the clauses, then the attendance rate in
		 * per cent.  Chinese: "%s；党员出勤率%lld%%". */
		xasprintf(&s, _("%s; member attendance was %lld%%"), body,
		    (present * 100 + (present + leave) / 2) /
		    (present + leave));
		free(body);
		body = s;
	}
	if (branch != NULL)
		/* TRANSLATORS: year, branch, what it did.  Chinese:
		 * "%d年，%s%s。". */
		xasprintf(&out, _("In %d, %s %s."), year, branch, body);
	else
		/* TRANSLATORS: year, what every branch did together.
		 * Chinese: "%d年，各支部共%s。". */
		xasprintf(&out, _("In %d, the branches %s."), year, body);
	free(body);
	return out;
}

/* The table and the chart */

static char *
count_text(long long v)
{
	char *s;

	xasprintf(&s, "%lld", v);
	return s;
}

static void
print_table(struct cli *c, const struct row *v, size_t n)
{
	const char *head[8] = { _("ACTIVITY"), _("HELD"), _("CANCELLED"),
	    _("UPCOMING"), _("PRESENT"), _("LEAVE"), _("ATTENDANCE"),
	    _("HOURS") };
	struct clitext_table *t = clitext_table_new(8);
	size_t i;
	int k;

	clitext_table_header(t, head);
	for (k = 0; k < 8; k++) {
		clitext_table_keep(t, k);
		if (k > 0)
			clitext_table_right(t, k);
	}
	for (i = 0; i < n; i++) {
		const struct row *r = &v[i];
		const char *row[8], *sgr[8] = { NULL };
		char *cell[7];

		cell[0] = count_text(r->held);
		cell[1] = count_text(r->cancelled);
		cell[2] = count_text(r->upcoming);
		cell[3] = count_text(r->checkins);
		cell[4] = count_text(r->leaves);
		if (r->rate < 0)
			cell[5] = xstrdup("-");
		else
			xasprintf(&cell[5], "%d%%", (int)(r->rate * 100 +
			    0.5));
		cell[6] = r->hours > 0 ? cli_hours_text(r->hours) :
		    xstrdup("-");
		row[0] = r->label;
		for (k = 0; k < 7; k++)
			row[k + 1] = cell[k];
		if (r->meeting == 0)
			sgr[0] = cli_category_sgr((enum dj_category)
			    r->category);
		clitext_table_row(t, row, sgr);
		for (k = 0; k < 7; k++)
			free(cell[k]);
	}
	cli_table_print(c, t);
	clitext_table_free(t);
}

/*
 * A bar per row, of the occurrences held: labels padded to one display
 * width, bars of █ scaled so the longest fills what the terminal leaves
 * (at most BAR_MAX), every non-zero count at least one block.
 */
static void
print_chart(struct cli *c, const struct row *v, size_t n)
{
	int lw = 0, nw = 1, cols, room, len, w, k;
	long long max = 0;
	size_t i;
	char *num, *label;

	for (i = 0; i < n; i++) {
		if ((w = clitext_width(v[i].label)) > lw)
			lw = w;
		if (v[i].held > max)
			max = v[i].held;
	}
	if (max == 0)
		return;
	num = count_text(max);
	nw = (int)strlen(num);
	free(num);
	cols = c->columns > 0 ? c->columns : BAR_COLUMNS;
	if (lw > cols / 3)
		lw = cols / 3;
	room = cols - lw - 2 - 1 - nw;
	if (room > BAR_MAX)
		room = BAR_MAX;
	if (room < 1)
		room = 1;
	putchar('\n');
	for (i = 0; i < n; i++) {
		const char *sgr = cli_category_sgr((enum dj_category)
		    v[i].category);

		label = clitext_truncate(v[i].label, lw);
		fputs(label, stdout);
		printf("%*s  ", lw - clitext_width(label), "");
		free(label);
		len = v[i].held == 0 ? 0 : (int)((v[i].held * room +
		    max / 2) / max);
		if (v[i].held > 0 && len == 0)
			len = 1;
		if (c->color && sgr != NULL && len > 0)
			printf("\033[%sm", sgr);
		for (k = 0; k < len; k++)
			fputs("█", stdout);
		if (c->color && sgr != NULL && len > 0)
			fputs("\033[0m", stdout);
		printf("%s%lld\n", len > 0 ? " " : "", v[i].held);
	}
}

/* CSV (RFC 4180) */

static void
csv_field(const char *s, int last)
{
	const char *p;

	if (s == NULL)
		s = "";
	if (strpbrk(s, ",\"\r\n") != NULL) {
		putchar('"');
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				putchar('"');
			putchar(*p);
		}
		putchar('"');
	} else
		fputs(s, stdout);
	fputs(last ? "\r\n" : ",", stdout);
}

static void
print_csv(json_t *reply, const struct row *v, size_t n)
{
	static const char *const head[] = { "year", "category",
	    "meeting_type", "label", "held", "cancelled", "upcoming",
	    "checkins", "leaves", "attendance_rate", "volunteer_hours" };
	int year = (int)json_integer_value(json_object_get(reply, "year"));
	size_t i, k;
	char *s;

	for (k = 0; k < sizeof head / sizeof head[0]; k++)
		csv_field(head[k], k + 1 == sizeof head / sizeof head[0]);
	for (i = 0; i < n; i++) {
		const struct row *r = &v[i];
		char *label = r->label;

		while (*label == ' ')
			label++;
		xasprintf(&s, "%d", year);
		csv_field(s, 0);
		free(s);
		csv_field(classify_category_name((enum dj_category)
		    r->category), 0);
		csv_field(r->meeting > 0 ? classify_meeting_name(
		    (enum dj_meeting)r->meeting) : "", 0);
		csv_field(label, 0);
		printf("%lld,%lld,%lld,%lld,%lld,", r->held, r->cancelled,
		    r->upcoming, r->checkins, r->leaves);
		if (r->rate >= 0)
			printf("%.2f", r->rate);
		putchar(',');
		s = cli_hours_text(r->hours);
		csv_field(s, 1);
		free(s);
	}
}

int
cmd_stats(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "year", required_argument, NULL, 'y' },
		{ "branch", required_argument, NULL, 'b' },
		{ "csv", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	const char *branch = NULL;
	struct row *rows;
	json_t *req, *reply;
	int ch, rc, year = 0, csv = 0;
	size_t n;
	char *s;

	while ((ch = cli_getopt(c, argc, argv, "y:b:", longopts)) != -1) {
		switch (ch) {
		case 'y':
			if (cli_year_arg("--year", optarg, &year) == -1)
				return cli_usage(c->cmd);
			break;
		case 'b':
			branch = optarg;
			break;
		case 'C':
			csv = 1;
			break;
		default:
			return cli_usage(c->cmd);
		}
	}
	if (cli_operands_max(c, argc, argv, 0) == -1)
		return cli_usage(c->cmd);
	if (csv && c->json) {
		cli_error(_("--csv and --json exclude each other"));
		return cli_usage(c->cmd);
	}
	req = json_pack("{s:s}", "op", "stats");
	if (year != 0)
		json_object_set_new(req, "year", json_integer(year));
	if (branch != NULL)
		json_object_set_new(req, "branch", json_string(branch));
	rc = cli_call(c, req, stats_local, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	if (c->json) {
		cli_print_json(reply);
		json_decref(reply);
		return CLI_OK;
	}
	if (read_rows(c, reply, &rows, &n) == -1) {
		json_decref(reply);
		return CLI_FAIL;
	}
	year = (int)json_integer_value(json_object_get(reply, "year"));
	if (csv)
		print_csv(reply, rows, n);
	else if (n == 0)
		printf(_("No activities in %d.\n"), year);
	else {
		s = summary(rows, n, year, branch);
		cli_puts(s);
		free(s);
		putchar('\n');
		print_table(c, rows, n);
		print_chart(c, rows, n);
	}
	free_rows(rows, n);
	json_decref(reply);
	return CLI_OK;
}
