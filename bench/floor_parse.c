/*
 * The first floor of `make bench`: a bare libical parse of a whole feed,
 * the least any libical-based ingest can cost.  Reads FILE, parses it with
 * icalparser_parse_string, counts the VEVENTs and VTODOs, frees the tree.
 *
 * usage: floor_parse FILE
 */
#include <stdio.h>
#include <stdlib.h>

#include <libical/ical.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	icalcomponent *root, *c;
	char *buf;
	size_t len, n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: floor_parse FILE\n");
		return 2;
	}
	icalerror_set_errors_are_fatal(0);
	if ((buf = bench_slurp(argv[1], &len)) == NULL)
		return 1;
	if ((root = icalparser_parse_string(buf)) == NULL) {
		fprintf(stderr, "floor_parse: %s: not a calendar\n", argv[1]);
		return 1;
	}
	for (c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	    c != NULL;
	    c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT))
		if (icalcomponent_isa(c) == ICAL_VEVENT_COMPONENT ||
		    icalcomponent_isa(c) == ICAL_VTODO_COMPONENT)
			n++;
	icalcomponent_free(root);
	free(buf);
	printf("%zu\n", n);
	return 0;
}
