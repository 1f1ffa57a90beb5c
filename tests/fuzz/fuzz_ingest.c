/*
 * Fuzz target: the iCalendar ingest.  The bytes are one feed body.  Each
 * series the ingest hands over is prepared for recurrence with its
 * calendars' zones and a floating zone, and expanded as update.c does it:
 * a recurring one over a bounded window (a feed's materialised window is
 * about as wide), a single one over all time.  Then, as query.c reads a
 * stored series back, its text is ingested again on its own with the
 * feed's VTIMEZONEs as bare zones and expanded once more.  So ingest,
 * libical's parser, recur and tz all see the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "djcal/ingest.h"
#include "djcal/recur.h"
#include "djcal/tz.h"

#include "fuzz.h"

/* [2025-01-01, 2027-03-01) UTC: some 800 days, history_days plus
 * horizon_days by default. */
#define FI_FROM		((time_t)1735689600)
#define FI_TO		((time_t)1803859200)
/* 0001-01-01T00:00:00Z, as update.c expands a single item from. */
#define FI_FAR_PAST	((time_t)-62135596800LL)
/* UIDs per body: small enough that a fuzzer reaches the limit. */
#define FI_MAX_ITEMS	1000
/*
 * The body's expansions share a budget as update.c's do, but a hundredth
 * of RECUR_BUDGET: a step costs several times more under ASan, inputs
 * that spend the budget are many in a corpus, and the fuzzer's -timeout
 * is there to find loops that no budget bounds.
 */
#define FI_BUDGET	(RECUR_BUDGET / 100)

struct fi_run {
	const struct tz	*floating;
	struct tzmap	*bare;		/* the body's VTIMEZONEs */
	int		 second;	/* reading a series' text back */
	size_t		 occs;
};

static int
fi_occ(const struct recur_occ *o, void *arg)
{
	struct fi_run *r = arg;

	/* A broken invariant here is a bug: make the fuzzer see it. */
	if (o->end < o->start)
		abort();
	r->occs++;
	return 0;
}

static void
fi_expand(struct fi_run *r, const struct ingest_series *s)
{
	struct recur_series *rs;
	char *cause = NULL, *warnings = NULL;
	time_t first, last;
	int unbounded;

	rs = recur_series_new(s->comps, s->cals, s->ncomps, s->zones,
	    r->floating, &cause, &warnings);
	free(warnings);
	if (rs == NULL) {
		free(cause);
		return;
	}
	recur_series_span(rs, &first, &last, &unbounded);
	(void)recur_series_master(rs);
	if (recur_series_recurring(rs)) {
		if (recur_expand(rs, FI_FROM, FI_TO, RECUR_START_IN, fi_occ, r,
		    &cause) == -1)
			free(cause);
	} else if (recur_expand(rs, FI_FAR_PAST, RECUR_FAR_FUTURE,
	    RECUR_OVERLAP, fi_occ, r, &cause) == -1)
		free(cause);
	recur_series_free(rs);
}

static int
fi_zone(const char *tzid, const char *text, size_t len, void *arg)
{
	struct fi_run *r = arg;
	icalcomponent *c;
	char *copy, *cause = NULL;

	(void)tzid;
	/* As the store keeps it and update.c/query.c read it back. */
	copy = malloc(len + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, text, len);
	copy[len] = '\0';
	if ((c = icalparser_parse_string(copy)) != NULL) {
		if (tzmap_add(r->bare, c, &cause) == -1)
			free(cause);
		icalcomponent_free(c);
	}
	free(copy);
	return 0;
}

static int
fi_series_again(const struct ingest_series *s, void *arg)
{
	fi_expand(arg, s);
	return 0;
}

static int
fi_series(const struct ingest_series *s, void *arg)
{
	struct fi_run *r = arg;
	struct ingest_opts opts;
	struct ingest_sink sink;
	struct ingest_report rep;
	char *cause = NULL;

	fi_expand(r, s);
	if (r->second)
		return 0;
	/* The store keeps the text as SQL TEXT, which is read up to a NUL. */
	memset(&opts, 0, sizeof opts);
	opts.bare_zones = r->bare;
	memset(&sink, 0, sizeof sink);
	sink.series = fi_series_again;
	sink.arg = r;
	r->second = 1;
	if (ingest_body(s->text, strnlen(s->text, s->textlen), &opts, &sink,
	    &rep, &cause) == -1)
		free(cause);
	ingest_report_free(&rep);
	r->second = 0;
	return 0;
}

int
fuzz_ingest(const uint8_t *data, size_t size)
{
	static int ready;
	struct fi_run r;
	struct ingest_opts opts;
	struct ingest_sink sink;
	struct ingest_report rep;
	char *cause = NULL, *sum;

	if (!ready) {
		icalerror_set_errors_are_fatal(0);
		ready = 1;
	}
	memset(&r, 0, sizeof r);
	if ((r.floating = tz_system("Asia/Shanghai")) == NULL)
		abort();
	r.bare = tzmap_new();
	memset(&opts, 0, sizeof opts);
	opts.max_items = FI_MAX_ITEMS;
	memset(&sink, 0, sizeof sink);
	sink.zone = fi_zone;
	sink.series = fi_series;
	sink.arg = &r;
	recur_budget(FI_BUDGET);
	if (ingest_body((const char *)data, size, &opts, &sink, &rep,
	    &cause) == -1)
		free(cause);
	recur_budget(SIZE_MAX);
	sum = ingest_report_summary(&rep);
	free(sum);
	ingest_report_free(&rep);
	tzmap_free(r.bare);
	icalerror_clear_errno();
	return 0;
}

void
fuzz_ingest_cleanup(void)
{
	tz_shutdown();
}

#ifdef DJCAL_LIBFUZZER
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_ingest(data, size);
}
#endif
