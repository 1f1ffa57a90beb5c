/*
 * The second floor of `make bench`: parse + expand + insert done the
 * simplest way, the yardstick for djcald's whole ingest.  It parses the
 * whole file with icalparser_parse_string, expands each VEVENT's RRULE
 * with libical's icalrecur_iterator over [FROM, TO) (the window djcald
 * materialises), converts each start with icaltime_convert_to_zone, and
 * inserts every occurrence (uid, start, end, summary) into a fresh SQLite
 * table in one transaction through one prepared statement.  A VEVENT
 * without RRULE and a VTODO (at DUE) give one row each.  No EXDATE, RDATE
 * or RECURRENCE-ID handling, no validation, no classification: the least
 * work that still gives a table of occurrences.
 *
 * usage: floor_simple FILE DB FROM TO		(FROM and TO in epoch seconds)
 * Prints the number of occurrences inserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>
#include <sqlite3.h>

#include "bench.h"

struct sink {
	sqlite3_stmt	*ins;
	const char	*uid, *summary;
	long long	 n;
};

static int
put(struct sink *s, time_t start, time_t end)
{
	sqlite3_bind_text(s->ins, 1, s->uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->ins, 2, (sqlite3_int64)start);
	sqlite3_bind_int64(s->ins, 3, (sqlite3_int64)end);
	sqlite3_bind_text(s->ins, 4, s->summary, -1, SQLITE_STATIC);
	if (sqlite3_step(s->ins) != SQLITE_DONE)
		return -1;
	sqlite3_reset(s->ins);
	s->n++;
	return 0;
}

static time_t
utc_of(struct icaltimetype t)
{
	icaltimezone *utc = icaltimezone_get_utc_timezone();

	return icaltime_as_timet(icaltime_convert_to_zone(t, utc));
}

static int
expand(struct sink *s, icalcomponent *c, time_t from, time_t to)
{
	struct icaltimetype dtstart, dtend, t;
	icalrecur_iterator *it;
	icalproperty *rrule;
	time_t start, len;

	s->uid = icalcomponent_get_uid(c);
	s->summary = icalcomponent_get_summary(c);
	if (s->uid == NULL)
		return 0;
	if (icalcomponent_isa(c) == ICAL_VTODO_COMPONENT) {
		dtstart = icalcomponent_get_due(c);
		if (icaltime_is_null_time(dtstart))
			return 0;
		start = utc_of(dtstart);
		return put(s, start, start);
	}
	dtstart = icalcomponent_get_dtstart(c);
	if (icaltime_is_null_time(dtstart))
		return 0;
	dtend = icalcomponent_get_dtend(c);
	start = utc_of(dtstart);
	len = icaltime_is_null_time(dtend) ? 0 : utc_of(dtend) - start;
	rrule = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
	if (rrule == NULL)
		return put(s, start, start + len);
	it = icalrecur_iterator_new(icalproperty_get_rrule(rrule), dtstart);
	if (it == NULL)
		return 0;
	for (t = icalrecur_iterator_next(it); !icaltime_is_null_time(t);
	    t = icalrecur_iterator_next(it)) {
		t.zone = dtstart.zone;
		start = utc_of(t);
		if (start >= to)
			break;
		if (start >= from && put(s, start, start + len) == -1) {
			icalrecur_iterator_free(it);
			return -1;
		}
	}
	icalrecur_iterator_free(it);
	return 0;
}

int
main(int argc, char **argv)
{
	icalcomponent *root, *c;
	struct sink s;
	sqlite3 *db;
	char *buf;
	size_t len;
	time_t from, to;

	if (argc != 5) {
		fprintf(stderr, "usage: floor_simple FILE DB FROM TO\n");
		return 2;
	}
	icalerror_set_errors_are_fatal(0);
	from = (time_t)strtoll(argv[3], NULL, 10);
	to = (time_t)strtoll(argv[4], NULL, 10);
	if ((buf = bench_slurp(argv[1], &len)) == NULL)
		return 1;
	if ((root = icalparser_parse_string(buf)) == NULL) {
		fprintf(stderr, "floor_simple: %s: not a calendar\n", argv[1]);
		return 1;
	}
	free(buf);
	if (sqlite3_open(argv[2], &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE TABLE occurrence (uid TEXT, start "
	    "INTEGER, end INTEGER, summary TEXT); BEGIN", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO occurrence VALUES "
	    "(?, ?, ?, ?)", -1, &s.ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "floor_simple: %s: %s\n", argv[2],
		    sqlite3_errmsg(db));
		return 1;
	}
	s.n = 0;
	for (c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	    c != NULL;
	    c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		if (icalcomponent_isa(c) != ICAL_VEVENT_COMPONENT &&
		    icalcomponent_isa(c) != ICAL_VTODO_COMPONENT)
			continue;
		if (expand(&s, c, from, to) == -1) {
			fprintf(stderr, "floor_simple: insert: %s\n",
			    sqlite3_errmsg(db));
			return 1;
		}
	}
	sqlite3_finalize(s.ins);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "floor_simple: commit: %s\n",
		    sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_close(db);
	icalcomponent_free(root);
	printf("%lld\n", s.n);
	return 0;
}
