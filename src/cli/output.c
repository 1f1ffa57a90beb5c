/* Printing occurrences: a table aligned by display width, or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "djcal/classify.h"
#include "djcal/proto.h"
#include "djcal/xmalloc.h"
#include "cli.h"

/* "2026-12-01 周二 09:00-11:30" style, in the CLI's zone. */
static char *
when(const struct cli *c, const struct dj_occurrence *o)
{
	struct tz_civil s, e;
	char *out;

	tz_from_utc(c->zone, o->start, &s);
	tz_from_utc(c->zone, o->end, &e);
	if (o->all_day) {
		xasprintf(&out, "%04d-%02d-%02d", s.year, s.month, s.day);
		return out;
	}
	if (o->end == o->start)
		xasprintf(&out, "%04d-%02d-%02d %02d:%02d", s.year, s.month,
		    s.day, s.hour, s.minute);
	else if (s.year == e.year && s.month == e.month && s.day == e.day)
		xasprintf(&out, "%04d-%02d-%02d %02d:%02d-%02d:%02d", s.year,
		    s.month, s.day, s.hour, s.minute, e.hour, e.minute);
	else
		xasprintf(&out, "%04d-%02d-%02d %02d:%02d - %02d-%02d %02d:%02d",
		    s.year, s.month, s.day, s.hour, s.minute, e.month, e.day,
		    e.hour, e.minute);
	return out;
}

void
cli_print_occurrences(struct cli *c, const struct dj_occ_list *l,
    const char *key)
{
	static const char *const head[] = { "WHEN", "CATEGORY", "SUMMARY",
	    "LOCATION", "FEED" };
	struct table *t;
	size_t i;

	if (c->json) {
		json_t *j = json_object(), *a = json_array();

		for (i = 0; i < l->n; i++)
			json_array_append_new(a,
			    proto_occurrence_json(&l->v[i], c->zone));
		json_object_set_new(j, key, a);
		cli_print_json(j);
		json_decref(j);
		return;
	}
	t = table_new(5);
	table_header(t, head);
	for (i = 0; i < l->n; i++) {
		const struct dj_occurrence *o = &l->v[i];
		char *w = when(c, o), *summary;
		const char *row[5];

		if (o->status != NULL && strcmp(o->status, "CANCELLED") == 0)
			xasprintf(&summary, "%s (cancelled)",
			    o->summary != NULL ? o->summary : "");
		else
			summary = xstrdup(o->summary != NULL ? o->summary :
			    "");
		row[0] = w;
		row[1] = classify_category_name(o->category);
		row[2] = summary;
		row[3] = o->location;
		row[4] = o->feed;
		table_row(t, row);
		free(w);
		free(summary);
	}
	table_print(t, stdout);
	table_free(t);
}
