/*
 * Human output: localized dates, category names and colours, and the
 * tables of occurrences and tasks.  Every table is built from the reply
 * objects of the protocol, so the socket and --db print the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "djcal/classify.h"
#include "djcal/clitext.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"
#include "cli.h"

/* Column caps; a terminal narrows them further. */
#define COL_SUMMARY	48
#define COL_LOCATION	24
#define COL_FEED	20

void
cli_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s != NULL) {
		puts(s);
		free(s);
	}
}

void
cli_table_print(struct cli *c, struct clitext_table *t)
{
	clitext_table_print(t, stdout, c->color, c->columns);
}

static const char *const category_labels[DJ_CAT_COUNT] = {
	N_("study"), N_("party day"), N_("volunteer"), N_("standardization"),
	N_("other")
};

/* Blue, red (the Party's colour), green, yellow; other stays plain. */
static const char *const category_sgr[DJ_CAT_COUNT] = {
	"34", "31", "32", "33", NULL
};

static const char *const meeting_labels[DJ_MT_COUNT] = {
	NULL, N_("branch committee"), N_("member assembly"),
	N_("Party group meeting"), N_("Party lecture"), N_("theory study")
};

const char *
cli_category_label(enum dj_category cat)
{
	if ((int)cat < 0 || cat >= DJ_CAT_COUNT)
		cat = DJ_CAT_OTHER;
	return _(category_labels[cat]);
}

const char *
cli_meeting_label(enum dj_meeting mt)
{
	if ((int)mt <= DJ_MT_NONE || mt >= DJ_MT_COUNT)
		return NULL;
	return _(meeting_labels[mt]);
}

char *
cli_hours_text(double h)
{
	char *s;
	size_t n;

	xasprintf(&s, "%.2f", h);
	n = strlen(s);
	while (n > 0 && s[n - 1] == '0')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	return s;
}

void
cli_puts(const char *s)
{
	char *v = clitext_clean(s);

	puts(v);
	free(v);
}

const char *
cli_category_sgr(enum dj_category cat)
{
	if ((int)cat < 0 || cat >= DJ_CAT_COUNT)
		return NULL;
	return category_sgr[cat];
}

/* Dates */

static const char *const weekdays[7] = {
	N_("Sun"), N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"),
	N_("Sat")
};

static const char *const months[12] = {
	N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"),
	N_("Jul"), N_("Aug"), N_("Sep"), N_("Oct"), N_("Nov"), N_("Dec")
};

const char *
cli_month_label(int month)
{
	if (month < 1 || month > 12)
		return "?";
	return _(months[month - 1]);
}

/*
 * Fill a date template: %Y year, %m month and %d day as plain numbers,
 * %e the day padded to two columns, %a the weekday's and %b the month's
 * abbreviation, %% a percent sign.  The templates are the translators'.
 */
static char *
fill_date(const char *tmpl, const struct tz_civil *lc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *p;

	if (f == NULL)
		abort();
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			fputc(*p, f);
			continue;
		}
		switch (*++p) {
		case 'Y':
			fprintf(f, "%d", lc->year);
			break;
		case 'm':
			fprintf(f, "%d", lc->month);
			break;
		case 'd':
			fprintf(f, "%d", lc->day);
			break;
		case 'e':
			fprintf(f, "%2d", lc->day);
			break;
		case 'a':
			fputs(_(weekdays[tz_weekday(lc->year, lc->month,
			    lc->day)]), f);
			break;
		case 'b':
			fputs(_(months[lc->month - 1]), f);
			break;
		default:
			fputc(*p, f);
			break;
		}
	}
	fclose(f);
	return buf;
}

static char *
date_of(const struct cli *c, const struct tz_civil *lc)
{
	struct tz_civil now;

	tz_from_utc(c->zone, c->now, &now);
	if (lc->year == now.year)
		/* TRANSLATORS: a date in this year.  %a weekday, %b month
		 * (abbreviated), %e day padded to two columns, %d day, %m
		 * month number, %Y year.  Chinese: "%m月%d日 %a". */
		return fill_date(_("%a %e %b"), lc);
	/* TRANSLATORS: a date in another year; as above.  Chinese:
	 * "%Y年%m月%d日 %a". */
	return fill_date(_("%a %e %b %Y"), lc);
}

char *
cli_date(const struct cli *c, time_t t)
{
	struct tz_civil lc;

	tz_from_utc(c->zone, t, &lc);
	return date_of(c, &lc);
}

char *
cli_datetime(const struct cli *c, time_t t)
{
	struct tz_civil lc;
	char *d, *out;

	if (t == 0)
		return xstrdup(_("never"));
	tz_from_utc(c->zone, t, &lc);
	d = date_of(c, &lc);
	xasprintf(&out, "%s %02d:%02d", d, lc.hour, lc.minute);
	free(d);
	return out;
}

/* When an occurrence is: "Tue  8 Dec 15:00-16:30", "Thu 10 Dec all day",
 * "Thu 10 Dec - Sat 12 Dec", "Tue  8 Dec 22:00 - Wed  9 Dec 02:00". */
static char *
when(const struct cli *c, const struct dj_occurrence *o)
{
	struct tz_civil s, e;
	char *ds, *de, *out;

	tz_from_utc(c->zone, o->start, &s);
	if (o->all_day) {
		time_t last = o->end > o->start ? o->end - 1 : o->start;

		tz_from_utc(c->zone, last, &e);
		ds = date_of(c, &s);
		if (s.year == e.year && s.month == e.month && s.day == e.day) {
			xasprintf(&out, "%s %s", ds, _("all day"));
			free(ds);
			return out;
		}
		de = date_of(c, &e);
		/* TRANSLATORS: a range of dates or times. */
		xasprintf(&out, _("%s - %s"), ds, de);
		free(ds);
		free(de);
		return out;
	}
	tz_from_utc(c->zone, o->end, &e);
	ds = date_of(c, &s);
	if (o->end <= o->start)
		xasprintf(&out, "%s %02d:%02d", ds, s.hour, s.minute);
	else if (s.year == e.year && s.month == e.month && s.day == e.day)
		xasprintf(&out, "%s %02d:%02d-%02d:%02d", ds, s.hour, s.minute,
		    e.hour, e.minute);
	else {
		char *a, *b;

		de = date_of(c, &e);
		xasprintf(&a, "%s %02d:%02d", ds, s.hour, s.minute);
		xasprintf(&b, "%s %02d:%02d", de, e.hour, e.minute);
		xasprintf(&out, _("%s - %s"), a, b);
		free(a);
		free(b);
		free(de);
	}
	free(ds);
	return out;
}

static int
is_status(const struct dj_occurrence *o, const char *status)
{
	return o->status != NULL && strcasecmp(o->status, status) == 0;
}

static char *
category_cell(const struct dj_occurrence *o)
{
	char *out;

	if (o->category == DJ_CAT_STUDY && o->meeting_type > DJ_MT_NONE &&
	    o->meeting_type < DJ_MT_COUNT)
		xasprintf(&out, "%s/%s", cli_category_label(o->category),
		    _(meeting_labels[o->meeting_type]));
	else
		out = xstrdup(cli_category_label(o->category));
	return out;
}

/* Read the occurrences of a reply; -1 after a message. */
static int
read_occurrences(const struct cli *c, json_t *array, struct dj_occ_list *l)
{
	struct dj_occurrence o;
	char *cause = NULL;
	json_t *v;
	size_t i;

	memset(l, 0, sizeof *l);
	if (!json_is_array(array)) {
		cli_error(_("%s: the reply has no list"), c->cmd);
		return -1;
	}
	json_array_foreach(array, i, v) {
		if (proto_occurrence_from_json(v, c->zone, &o, &cause) == -1) {
			cli_error("%s: %s", c->cmd, cause);
			free(cause);
			occ_list_free(l);
			return -1;
		}
		occ_list_take(l, &o);
	}
	return 0;
}

int
cli_print_occurrences(struct cli *c, json_t *array)
{
	const char *head[5] = { _("WHEN"), _("CATEGORY"), _("SUMMARY"),
	    _("LOCATION"), _("FEED") };
	struct clitext_table *t;
	struct dj_occ_list l;
	size_t i;

	if (read_occurrences(c, array, &l) == -1)
		return CLI_FAIL;
	if (l.n == 0) {
		printf("%s\n", _("Nothing scheduled."));
		occ_list_free(&l);
		return CLI_OK;
	}
	t = clitext_table_new(5);
	clitext_table_header(t, head);
	clitext_table_max(t, 2, COL_SUMMARY);
	clitext_table_max(t, 3, COL_LOCATION);
	clitext_table_max(t, 4, COL_FEED);
	clitext_table_keep(t, 0);
	clitext_table_priority(t, 1, 2);
	clitext_table_priority(t, 2, 2);
	for (i = 0; i < l.n; i++) {
		const struct dj_occurrence *o = &l.v[i];
		const char *row[5], *sgr[5] = { NULL };
		char *w = when(c, o), *cat = category_cell(o), *summary;
		int k;

		if (is_status(o, "CANCELLED")) {
			/* TRANSLATORS: a cancelled instance's summary; the
			 * mark comes first so truncation keeps it. */
			xasprintf(&summary, _("[cancelled] %s"),
			    o->summary != NULL ? o->summary : "");
			for (k = 0; k < 5; k++)
				sgr[k] = "2;9";
		} else {
			summary = xstrdup(o->summary != NULL ? o->summary :
			    "");
			sgr[1] = cli_category_sgr(o->category);
		}
		row[0] = w;
		row[1] = cat;
		row[2] = summary;
		row[3] = o->location;
		row[4] = o->feed;
		clitext_table_row(t, row, sgr);
		free(w);
		free(cat);
		free(summary);
	}
	cli_table_print(c, t);
	clitext_table_free(t);
	occ_list_free(&l);
	return CLI_OK;
}

/* A task's state: done, cancelled, N days left, overdue N days. */
static char *
task_state(const struct cli *c, const struct dj_occurrence *o,
    const char **sgr)
{
	long long d;
	char *out;

	*sgr = NULL;
	if (o->has_completed || is_status(o, "COMPLETED"))
		return xstrdup(_("done"));
	if (is_status(o, "CANCELLED")) {
		*sgr = "2;9";
		return xstrdup(_("cancelled"));
	}
	if (!o->has_due)
		return xstrdup(_("no due date"));
	if (o->due >= c->now) {
		d = clitext_days_between(c->zone, c->now, o->due);
		if (d <= 3)
			*sgr = "33";
		if (d == 0)
			return xstrdup(_("due today"));
		xasprintf(&out, ngettext("%lld day left", "%lld days left",
		    (unsigned long)d), d);
		return out;
	}
	*sgr = "1;31";
	d = clitext_days_between(c->zone, o->due, c->now);
	if (d == 0)
		return xstrdup(_("overdue"));
	xasprintf(&out, ngettext("overdue %lld day", "overdue %lld days",
	    (unsigned long)d), d);
	return out;
}

int
cli_print_tasks(struct cli *c, json_t *array)
{
	const char *head[5] = { _("DUE"), _("STATE"), _("SUMMARY"),
	    _("CATEGORY"), _("FEED") };
	struct clitext_table *t;
	struct dj_occ_list l;
	size_t i;

	if (read_occurrences(c, array, &l) == -1)
		return CLI_FAIL;
	if (l.n == 0) {
		printf("%s\n", _("No tasks."));
		occ_list_free(&l);
		return CLI_OK;
	}
	t = clitext_table_new(5);
	clitext_table_header(t, head);
	clitext_table_max(t, 2, COL_SUMMARY);
	clitext_table_max(t, 4, COL_FEED);
	clitext_table_keep(t, 0);
	clitext_table_keep(t, 1);
	clitext_table_priority(t, 3, 2);
	clitext_table_priority(t, 2, 2);
	for (i = 0; i < l.n; i++) {
		const struct dj_occurrence *o = &l.v[i];
		const char *row[5], *sgr[5] = { NULL };
		char *due, *state, *cat = category_cell(o);

		if (!o->has_due)
			due = xstrdup("-");
		else if (o->due_all_day)
			due = cli_date(c, o->due);
		else
			due = cli_datetime(c, o->due);
		state = task_state(c, o, &sgr[1]);
		if (sgr[1] != NULL && strcmp(sgr[1], "2;9") == 0)
			sgr[0] = sgr[2] = sgr[3] = sgr[4] = sgr[1];
		else
			sgr[3] = cli_category_sgr(o->category);
		row[0] = due;
		row[1] = state;
		row[2] = o->summary;
		row[3] = cat;
		row[4] = o->feed;
		clitext_table_row(t, row, sgr);
		free(due);
		free(state);
		free(cat);
	}
	cli_table_print(c, t);
	clitext_table_free(t);
	occ_list_free(&l);
	return CLI_OK;
}
