/*
 * Ingest: one feed body (bytes) -> time zones and series (all components of
 * one UID), validated.  libical parses component by component, so a 64 MB
 * feed never becomes one 600 MB tree.  No I/O, no clock.
 */
#ifndef DJCAL_INGEST_H
#define DJCAL_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include <libical/ical.h>

#include "djcal/tz.h"

/* The UID given to a component that has none (RFC 5545 requires one):
 * this prefix and a hash of its bytes. */
#define INGEST_NOUID_PREFIX	"djcal-nouid-"

/* Problems listed per body; more are counted, not listed. */
#define INGEST_MAX_PROBLEMS	100

struct ingest_opts {
	size_t		 max_items;	/* UIDs per feed; 0 = no limit */
	struct tzmap	*bare_zones;	/* TZIDs of components outside any
					   VCALENDAR (a stored series); NULL:
					   system zones only.  Borrowed. */
};

/* Everything one body says about one UID. */
struct ingest_series {
	const char	 *uid;		/* decoded UID */
	icalcomponent	**comps;	/* in source order; borrowed */
	const unsigned	 *lines;	/* first source line of each */
	const int	 *cals;		/* calendar of each (0, 1, ...) */
	size_t		  ncomps;
	const char	 *text;		/* their source text, CRLF line ends */
	size_t		  textlen;
	uint64_t	  hash;		/* of text */
	struct tzmap	 *zones;	/* the calendar's TZIDs; borrowed */
};

struct ingest_sink {
	/* A VTIMEZONE that its calendar defines (usable or not). */
	int	(*zone)(const char *tzid, const char *text, size_t len,
		    void *arg);
	/* A series; return -1 to abort the ingest. */
	int	(*series)(const struct ingest_series *, void *arg);
	void	 *arg;
};

struct ingest_report {
	size_t		 components;	/* VEVENT/VTODO read */
	size_t		 series;	/* given to the sink */
	size_t		 skipped;	/* components dropped */
	int		 truncated;	/* ended inside a component or calendar:
					   what is missing may just be cut off;
					   also set past max_items */
	size_t		 over_limit;	/* UIDs past max_items, not read */
	char		**problems;	/* "line N: what", at most
					   INGEST_MAX_PROBLEMS */
	size_t		 nproblems;
	size_t		 more_problems;	/* not listed */
};

/*
 * Read a body and hand its zones, then its series, to the sink.  Returns 0
 * when the body is an iCalendar stream (even with skipped components; see
 * the report), or -1 with *cause (caller frees) when it is not one at all
 * (empty, binary, no VCALENDAR) or the sink aborted.  The report is filled
 * either way; free it with ingest_report_free.
 */
int		 ingest_body(const char *body, size_t len,
		    const struct ingest_opts *, const struct ingest_sink *,
		    struct ingest_report *, char **cause);
void		 ingest_report_free(struct ingest_report *);
/* The problems of a report as one string, "; "-joined; NULL when none.
 * Caller frees. */
char		*ingest_report_summary(const struct ingest_report *);

/* A 64-bit hash of bytes (FNV-1a; from 4 KiB on, 8 bytes a step): change
 * detection, not security. */
uint64_t	 ingest_hash(const void *, size_t);

#endif
