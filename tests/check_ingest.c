/*
 * Tests for ingest.c: bytes -> zones and series.  Encodings (BOM, LF, folds
 * inside characters, UTF-16, invalid UTF-8), malformed and hostile input
 * (empty, random bytes, truncated, broken components, 10 MB lines), UIDs,
 * structure (nested, misspelt END, late VTIMEZONE, bare components, several
 * calendars) and limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "djcal/ingest.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

/* What the sink was given. */
struct got_series {
	char		*uid;
	size_t		 ncomps;
	unsigned	 lines[8];
	int		 cals[8];
	char		*summary;	/* of the first component */
	char		*description;
	char		*location;
	char		*text;
	size_t		 textlen;
	uint64_t	 hash;
	int		 zone_custom;	/* its zones hold a VTIMEZONE "Custom" */
};

static struct got_series *got;
static size_t ngot;
static char **zones_seen;
static size_t nzones;
static struct ingest_report rep;
static char *cause;
static int abort_after;		/* series callback fails after this many */

static void
setup(void)
{
	icalerror_set_errors_are_fatal(0);
	got = NULL;
	ngot = 0;
	zones_seen = NULL;
	nzones = 0;
	memset(&rep, 0, sizeof rep);
	cause = NULL;
	abort_after = -1;
}

static void
clear_got(void)
{
	size_t i;

	for (i = 0; i < ngot; i++) {
		free(got[i].uid);
		free(got[i].summary);
		free(got[i].description);
		free(got[i].location);
		free(got[i].text);
	}
	free(got);
	got = NULL;
	ngot = 0;
	for (i = 0; i < nzones; i++)
		free(zones_seen[i]);
	free(zones_seen);
	zones_seen = NULL;
	nzones = 0;
	ingest_report_free(&rep);
	free(cause);
	cause = NULL;
}

static void
teardown(void)
{
	clear_got();
}

static int
zone_cb(const char *tzid, const char *text, size_t len, void *arg)
{
	(void)arg;
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_ptr_nonnull(strstr(text, "BEGIN:VTIMEZONE\r\n"));
	zones_seen = xreallocarray(zones_seen, nzones + 1,
	    sizeof *zones_seen);
	zones_seen[nzones++] = xstrdup(tzid);
	return 0;
}

static char *
text_of(icalcomponent *c, icalproperty_kind k)
{
	icalproperty *p = icalcomponent_get_first_property(c, k);
	icalvalue *v;

	if (p == NULL || (v = icalproperty_get_value(p)) == NULL)
		return NULL;
	return xstrdup0(icalvalue_get_text(v));
}

static int
series_cb(const struct ingest_series *s, void *arg)
{
	struct got_series *g;
	size_t i;

	(void)arg;
	if (abort_after >= 0 && ngot >= (size_t)abort_after)
		return -1;
	ck_assert_uint_gt(s->ncomps, 0);
	ck_assert_ptr_nonnull(s->zones);
	ck_assert_uint_eq(strlen(s->text), s->textlen);
	ck_assert(s->hash == ingest_hash(s->text, s->textlen));
	got = xreallocarray(got, ngot + 1, sizeof *got);
	g = &got[ngot++];
	memset(g, 0, sizeof *g);
	g->uid = xstrdup(s->uid);
	g->ncomps = s->ncomps;
	for (i = 0; i < s->ncomps && i < 8; i++) {
		g->lines[i] = s->lines[i];
		g->cals[i] = s->cals[i];
	}
	g->summary = text_of(s->comps[0], ICAL_SUMMARY_PROPERTY);
	g->description = text_of(s->comps[0], ICAL_DESCRIPTION_PROPERTY);
	g->location = text_of(s->comps[0], ICAL_LOCATION_PROPERTY);
	g->text = xstrdup(s->text);
	g->textlen = s->textlen;
	g->hash = s->hash;
	g->zone_custom = tzmap_has_vtimezone(s->zones, "Custom");
	return 0;
}

/* Ingest len bytes; returns ingest_body's result. */
static int
run_opts(const char *body, size_t len, const struct ingest_opts *opts)
{
	struct ingest_sink sink = { zone_cb, series_cb, NULL };

	clear_got();
	return ingest_body(body, len, opts, &sink, &rep, &cause);
}

static int
run(const char *body, size_t len)
{
	return run_opts(body, len, NULL);
}

static int
run_str(const char *body)
{
	return run(body, strlen(body));
}

static int
run_file(const char *name)
{
	char *path, *body;
	size_t len;
	int rc;

	xasprintf(&path, "tests/data/%s", name);
	body = tu_read(path, &len);
	ck_assert_msg(body != NULL, "cannot read %s", path);
	free(path);
	rc = run(body, len);
	free(body);
	return rc;
}

static struct got_series *
find(const char *uid)
{
	size_t i;

	for (i = 0; i < ngot; i++)
		if (strcmp(got[i].uid, uid) == 0)
			return &got[i];
	return NULL;
}

/* Whether some problem contains both strings (b may be NULL). */
static int
has_problem(const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < rep.nproblems; i++)
		if (strstr(rep.problems[i], a) != NULL &&
		    (b == NULL || strstr(rep.problems[i], b) != NULL))
			return 1;
	return 0;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define H	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//djcal//t//EN\r\n"
#define E	"END:VCALENDAR\r\n"
#define EV(uid, start) "BEGIN:VEVENT\r\nUID:" uid "\r\nDTSTART:" start \
	"\r\nEND:VEVENT\r\n"

/* Encodings */

struct enc_case {
	const char	*file;
	const char	*uid;
	const char	*summary;
	const char	*problem;	/* a problem that must be reported, or
					   NULL: none at all */
};

static const struct enc_case enc_cases[] = {
	{ "enc-bom.ics", "bom-1@djcal.test", "主题党日：重温入党誓词", NULL },
	{ "enc-lf.ics", "lf-1@djcal.test", "支部委员会", NULL },
	{ "enc-fold-utf8.ics", "fold-1@djcal.test", "主题党日活动", NULL },
	{ "enc-utf16le.ics", "utf16-1@djcal.test", "党课：学习党章",
	  "UTF-16" },
	{ "enc-bad-utf8.ics", "badutf8-1@djcal.test",
	  "ab\xef\xbf\xbd" "cd\xef\xbf\xbd\xef\xbf\xbd" "ef\xef\xbf\xbd",
	  "invalid UTF-8" },
};

START_TEST(test_encoding)
{
	const struct enc_case *ec = &enc_cases[_i];
	struct got_series *g;

	ck_assert_int_eq(run_file(ec->file), 0);
	ck_assert_uint_eq(ngot, 1);
	ck_assert_ptr_nonnull(g = find(ec->uid));
	ck_assert_str_eq(g->summary, ec->summary);
	ck_assert_uint_eq(g->lines[0], 4);
	ck_assert(!rep.truncated);
	ck_assert_uint_eq(rep.skipped, 0);
	if (ec->problem == NULL)
		ck_assert_msg(rep.nproblems == 0, "%s: %s", ec->file,
		    rep.problems[0]);
	else
		ck_assert(has_problem(ec->problem, NULL));
	/* Stored text is CRLF and valid for a second reading. */
	ck_assert_ptr_null(strstr(g->text, "\n\n"));
}
END_TEST

START_TEST(test_lf_only_fold)
{
	struct got_series *g;

	ck_assert_int_eq(run_file("enc-lf.ics"), 0);
	ck_assert_ptr_nonnull(g = find("lf-1@djcal.test"));
	ck_assert_str_eq(g->description, "第一行\n第二行，折叠继续");
	/* The text handed on has CRLF line ends. */
	ck_assert_ptr_nonnull(strstr(g->text, "END:VEVENT\r\n"));
	ck_assert_ptr_nonnull(strstr(g->text, "\r\n 叠继续\r\n"));
}
END_TEST

/* Regression: the UTF-8 check ran on folded lines, so a fold inside a
 * character turned its bytes into three U+FFFD. */
START_TEST(test_fold_splitting_character)
{
	struct got_series *g;

	ck_assert_int_eq(run_file("enc-fold-utf8.ics"), 0);
	ck_assert_ptr_nonnull(g = find("fold-1@djcal.test"));
	ck_assert_str_eq(g->summary, "主题党日活动");
	ck_assert_str_eq(g->location, "党员活动室");
	ck_assert_uint_eq(rep.nproblems, 0);
}
END_TEST

/* A fold inside a four-byte character, LF-only, and one that splits the
 * lead byte from the rest: all whole again. */
START_TEST(test_fold_variants)
{
	struct got_series *g;

	ck_assert_int_eq(run_str(H "BEGIN:VEVENT\r\nUID:f\r\n"
	    "DTSTART:20260105T010000Z\r\n"
	    "SUMMARY:a\xf0\x9f\r\n \x8e\x89" "b\xe4\n\t\xb8\xbb" "c\xc3\r\n"
	    " \xa9\r\nEND:VEVENT\r\n" E), 0);
	ck_assert_ptr_nonnull(g = find("f"));
	ck_assert_str_eq(g->summary, "a\xf0\x9f\x8e\x89" "b\xe4\xb8\xbb"
	    "c\xc3\xa9");
	ck_assert_uint_eq(rep.nproblems, 0);
	/* A "fold" that is not followed by the rest is invalid UTF-8. */
	ck_assert_int_eq(run_str(H "BEGIN:VEVENT\r\nUID:f\r\n"
	    "DTSTART:20260105T010000Z\r\nSUMMARY:a\xe4\r\n b\r\n"
	    "END:VEVENT\r\n" E), 0);
	ck_assert_ptr_nonnull(g = find("f"));
	ck_assert_str_eq(g->summary, "a\xef\xbf\xbd" "b");
	ck_assert(has_problem("invalid UTF-8", NULL));
}
END_TEST

START_TEST(test_utf16_big_endian)
{
	static const char text[] = H EV("be", "20260105T010000Z") E;
	size_t n = strlen(text), i;
	char *b = xmalloc(2 * n + 2);

	b[0] = (char)0xfe;
	b[1] = (char)0xff;
	for (i = 0; i < n; i++) {
		b[2 + 2 * i] = 0;
		b[3 + 2 * i] = text[i];
	}
	ck_assert_int_eq(run(b, 2 * n + 2), 0);
	ck_assert_ptr_nonnull(find("be"));
	free(b);
}
END_TEST

/* Bodies that are not calendars */

START_TEST(test_empty_body)
{
	ck_assert_int_eq(run("", 0), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "empty"));
	ck_assert_uint_eq(ngot, 0);
	ck_assert_int_eq(run_str("\r\n\r\n  \r\n"), -1);
	ck_assert_int_eq(run_str("\xef\xbb\xbf"), -1);
}
END_TEST

START_TEST(test_not_a_calendar)
{
	ck_assert_int_eq(run_str("<html><body>502 Bad Gateway</body></html>"),
	    -1);
	ck_assert_ptr_nonnull(strstr(cause, "not an iCalendar"));
	ck_assert_int_eq(run_str("BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n"), -1);
}
END_TEST

static uint64_t rng_state;

static unsigned
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned)((rng_state * 2685821657736338717ULL) >> 33);
}

/* Random bytes, alone and inside a calendar and a component: never a
 * crash, and a calendar's good component survives them. */
START_TEST(test_random_bytes)
{
	static const char *const prefixes[] = { "", H, H "BEGIN:VEVENT\r\n",
	    H EV("good", "20260105T010000Z") "BEGIN:VEVENT\r\nUID:r\r\n" };
	int round;

	rng_state = 0x646a636c;
	for (round = 0; round < 64; round++) {
		const char *pre = prefixes[round % 4];
		size_t plen = strlen(pre), n = rng() % 65536, i;
		char *b = xmalloc(plen + n + 1);
		int rc;

		memcpy(b, pre, plen);
		for (i = 0; i < n; i++)
			b[plen + i] = (char)(round % 8 == 7 ? 0x20 + rng() % 95 :
			    rng() % 256);
		rc = run(b, plen + n);
		if (*pre == '\0')
			ck_assert_int_eq(rc, -1);
		else
			ck_assert_int_eq(rc, 0);
		if (round % 4 == 3)
			ck_assert_ptr_nonnull(find("good"));
		ck_assert_uint_le(rep.nproblems, INGEST_MAX_PROBLEMS);
		free(b);
	}
}
END_TEST

/* Truncation */

START_TEST(test_truncated_mid_component)
{
	ck_assert_int_eq(run_file("bad-truncated.ics"), 0);
	ck_assert(rep.truncated);
	ck_assert_uint_eq(ngot, 2);
	ck_assert_ptr_nonnull(find("trunc-1@djcal.test"));
	ck_assert_ptr_nonnull(find("trunc-2@djcal.test"));
	ck_assert_ptr_null(find("trunc-3@djcal.test"));
	ck_assert_uint_eq(rep.components, 3);
	ck_assert_uint_eq(rep.skipped, 1);
	ck_assert(has_problem("line 18", "not terminated"));
}
END_TEST

START_TEST(test_truncated_no_end_calendar)
{
	ck_assert_int_eq(run_str(H EV("a", "20260105T010000Z")
	    EV("b", "20260106T010000Z")), 0);
	ck_assert(rep.truncated);
	ck_assert_uint_eq(ngot, 2);
	ck_assert_uint_eq(rep.skipped, 0);
	ck_assert(has_problem("END:VCALENDAR", NULL));
	/* Nothing after BEGIN:VCALENDAR at all. */
	ck_assert_int_eq(run_str("BEGIN:VCALENDAR\r\n"), 0);
	ck_assert(rep.truncated);
	ck_assert_uint_eq(ngot, 0);
}
END_TEST

/* Broken components */

START_TEST(test_broken_components_skipped)
{
	ck_assert_int_eq(run_file("bad-components.ics"), 0);
	ck_assert(!rep.truncated);
	ck_assert_uint_eq(ngot, 2);
	ck_assert_ptr_nonnull(find("good-1@djcal.test"));
	ck_assert_ptr_nonnull(find("good-2@djcal.test"));
	ck_assert_uint_eq(rep.components, 4);
	ck_assert_uint_eq(rep.skipped, 2);
	ck_assert(has_problem("line 11", "RRULE"));
	ck_assert(has_problem("line 19", "without DTSTART"));
}
END_TEST

struct broken_case {
	const char	*what;
	const char	*comp;		/* lines of a VEVENT after UID */
	const char	*problem;
};

static const struct broken_case broken_cases[] = {
	{ "rrule_bad_byday", "DTSTART:20260105T010000Z\r\n"
	  "RRULE:FREQ=MONTHLY;BYDAY=XX\r\n", "RRULE" },
	{ "rrule_bad_count", "DTSTART:20260105T010000Z\r\n"
	  "RRULE:FREQ=WEEKLY;COUNT=abc\r\n", "RRULE" },
	{ "rrule_no_freq", "DTSTART:20260105T010000Z\r\n"
	  "RRULE:BYDAY=MO\r\n", "RRULE" },
	{ "no_dtstart", "SUMMARY:x\r\n", "without DTSTART" },
	{ "dtstart_garbage", "DTSTART:not-a-date\r\n", "DTSTART" },
	{ "rid_garbage", "DTSTART:20260105T010000Z\r\n"
	  "RECURRENCE-ID:yesterday\r\n", "RECURRENCE-ID" },
};

START_TEST(test_broken_component_table)
{
	const struct broken_case *bc = &broken_cases[_i];
	char *body;

	xasprintf(&body, H EV("before", "20260105T010000Z")
	    "BEGIN:VEVENT\r\nUID:broken\r\n%sEND:VEVENT\r\n"
	    EV("after", "20260106T010000Z") E, bc->comp);
	ck_assert_int_eq(run_str(body), 0);
	free(body);
	ck_assert_msg(find("broken") == NULL, "%s kept", bc->what);
	ck_assert_ptr_nonnull(find("before"));
	ck_assert_ptr_nonnull(find("after"));
	ck_assert_uint_eq(rep.skipped, 1);
	ck_assert_msg(has_problem("line 8", bc->problem), "%s: %s",
	    bc->what, rep.nproblems > 0 ? rep.problems[0] : "no problem");
}
END_TEST

/* Lesser errors are reported and the component kept. */
START_TEST(test_minor_error_kept)
{
	ck_assert_int_eq(run_str(H "BEGIN:VEVENT\r\nUID:m\r\n"
	    "DTSTART:20260105T010000Z\r\nDTEND;VALUE=DATE:2026x\r\n"
	    "END:VEVENT\r\n" E), 0);
	ck_assert_ptr_nonnull(find("m"));
	ck_assert_uint_eq(rep.skipped, 0);
	ck_assert(has_problem("line 4", "DTEND"));
}
END_TEST

/* Huge lines */

static char *
big_body(const char *before, size_t n, char fill, const char *after,
    size_t *len)
{
	size_t a = strlen(before), b = strlen(after);
	char *s = xmalloc(a + n + b + 1);

	memcpy(s, before, a);
	memset(s + a, fill, n);
	memcpy(s + a + n, after, b + 1);
	*len = a + n + b;
	return s;
}

#define TEN_MB	(10 * 1024 * 1024)

/* Seconds a 10 MB body may take: the quadratic reader took 8-22 s, the
 * linear one 0.1 s (more under ASan, or on a loaded machine). */
#ifdef __SANITIZE_ADDRESS__
#define BIG_BODY_SECONDS	20
#else
#define BIG_BODY_SECONDS	5
#endif

/* Regression: libical's string reader is quadratic in a line's length;
 * a 10 MB DESCRIPTION took 22 s. */
START_TEST(test_10mb_description)
{
	struct got_series *g;
	double t0 = now_seconds();
	size_t len;
	char *b = big_body(H "BEGIN:VEVENT\r\nUID:big\r\n"
	    "DTSTART:20260105T010000Z\r\nDESCRIPTION:", TEN_MB, 'x',
	    "\r\nEND:VEVENT\r\n" EV("small", "20260106T010000Z") E, &len);

	ck_assert_int_eq(run(b, len), 0);
	free(b);
	ck_assert_ptr_nonnull(g = find("big"));
	ck_assert_uint_eq(strlen(g->description), TEN_MB);
	ck_assert_ptr_nonnull(find("small"));
	if (getenv("DJCAL_VALGRIND") == NULL)
		ck_assert_msg(now_seconds() - t0 < BIG_BODY_SECONDS, "took %.1f s",
		    now_seconds() - t0);
}
END_TEST

START_TEST(test_10mb_garbage_line)
{
	double t0 = now_seconds();
	size_t len;
	char *b;

	/* Before the calendar: reported, the calendar read. */
	b = big_body("", TEN_MB, 'y', "\r\n" H EV("small", "20260105T010000Z")
	    E, &len);
	ck_assert_int_eq(run(b, len), 0);
	free(b);
	ck_assert_ptr_nonnull(find("small"));
	ck_assert(has_problem("line 1", "outside any calendar"));
	/* Inside the calendar, between components. */
	b = big_body(H, TEN_MB, 'y', "\r\n" EV("small", "20260105T010000Z") E,
	    &len);
	ck_assert_int_eq(run(b, len), 0);
	free(b);
	ck_assert_ptr_nonnull(find("small"));
	/* Inside a component, as a bogus property line. */
	b = big_body(H "BEGIN:VEVENT\r\nUID:junk\r\n"
	    "DTSTART:20260105T010000Z\r\n", TEN_MB, 'y', "\r\nEND:VEVENT\r\n"
	    EV("small", "20260105T010000Z") E, &len);
	ck_assert_int_eq(run(b, len), 0);
	free(b);
	ck_assert_ptr_nonnull(find("small"));
	/* A body that is one 10 MB line without an end. */
	b = big_body("", TEN_MB, 'z', "", &len);
	ck_assert_int_eq(run(b, len), -1);
	free(b);
	if (getenv("DJCAL_VALGRIND") == NULL)
		ck_assert_msg(now_seconds() - t0 < BIG_BODY_SECONDS, "took %.1f s",
		    now_seconds() - t0);
}
END_TEST

/* UIDs */

START_TEST(test_uid_folded_and_escaped)
{
	ck_assert_int_eq(run_str(H "BEGIN:VEVENT\r\n"
	    "UID:0123456789012345678901234567890123456789012345678901234567\r\n"
	    " 89abcdef@example.com\r\nDTSTART:20260105T010000Z\r\n"
	    "END:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:a\\,b\\;c\\\\d\\nx\r\n"
	    "DTSTART:20260105T010000Z\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID;X-P=\"q:r\":quoted\r\n"
	    "DTSTART:20260105T010000Z\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nuid:lower-case-name\r\n"
	    "DTSTART:20260105T010000Z\r\nEND:VEVENT\r\n" E), 0);
	ck_assert_uint_eq(ngot, 4);
	ck_assert_ptr_nonnull(find("0123456789012345678901234567890123456789"
	    "01234567890123456789abcdef@example.com"));
	ck_assert_ptr_nonnull(find("a,b;c\\d\nx"));
	ck_assert_ptr_nonnull(find("quoted"));
	ck_assert_ptr_nonnull(find("lower-case-name"));
}
END_TEST

/* Components of one UID are grouped in source order, wherever they are. */
START_TEST(test_grouped_by_uid)
{
	struct got_series *g;

	ck_assert_int_eq(run_str(H
	    "BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20260106T010000Z\r\n"
	    "DTSTART:20260106T050000Z\r\nEND:VEVENT\r\n"
	    EV("other", "20260105T010000Z")
	    "BEGIN:VEVENT\r\nUID:s\r\nDTSTART:20260105T010000Z\r\n"
	    "RRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n" E), 0);
	ck_assert_uint_eq(ngot, 2);
	ck_assert_ptr_nonnull(g = find("s"));
	ck_assert_uint_eq(g->ncomps, 2);
	ck_assert_uint_eq(g->lines[0], 4);
	ck_assert_uint_eq(g->lines[1], 13);
	ck_assert_ptr_nonnull(strstr(g->text, "RECURRENCE-ID"));
	ck_assert_ptr_nonnull(strstr(g->text, "RRULE"));
	ck_assert_ptr_null(strstr(g->text, "other"));
}
END_TEST

START_TEST(test_missing_uid_stable)
{
	static const char body[] = H
	    "BEGIN:VEVENT\r\nDTSTART:20260105T010000Z\r\nSUMMARY:a\r\n"
	    "END:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nDTSTART:20260105T010000Z\r\nSUMMARY:b\r\n"
	    "END:VEVENT\r\n" E;
	char *first[2];

	ck_assert_int_eq(run_str(body), 0);
	ck_assert_uint_eq(ngot, 2);
	ck_assert_int_eq(strncmp(got[0].uid, INGEST_NOUID_PREFIX,
	    strlen(INGEST_NOUID_PREFIX)), 0);
	ck_assert_str_ne(got[0].uid, got[1].uid);
	ck_assert(has_problem("line 4", "without UID"));
	first[0] = xstrdup(got[0].uid);
	first[1] = xstrdup(got[1].uid);
	/* The same bytes next time: the same names. */
	ck_assert_int_eq(run_str(body), 0);
	ck_assert_str_eq(got[0].uid, first[0]);
	ck_assert_str_eq(got[1].uid, first[1]);
	free(first[0]);
	free(first[1]);
}
END_TEST

/* Structure */

START_TEST(test_end_vtood)
{
	ck_assert_int_eq(run_str(H "BEGIN:VTODO\r\nUID:todo\r\n"
	    "DUE:20260105T010000Z\r\nSUMMARY:t\r\nEND:VTOOD\r\n"
	    EV("ev", "20260107T010000Z") E), 0);
	ck_assert_uint_eq(ngot, 2);
	ck_assert_ptr_nonnull(find("todo"));
	ck_assert_str_eq(find("todo")->summary, "t");
	ck_assert_ptr_nonnull(find("ev"));
	ck_assert(has_problem("line 8", "END:VTOOD"));
	ck_assert_uint_eq(rep.skipped, 0);
}
END_TEST

/* BEGIN:VEVENT inside a VEVENT: the outer one never ended (it is skipped
 * and named); the inner one and the rest are read. */
START_TEST(test_vevent_inside_vevent)
{
	ck_assert_int_eq(run_str(H "BEGIN:VEVENT\r\nUID:outer\r\n"
	    "DTSTART:20260105T010000Z\r\n"
	    EV("inner", "20260106T010000Z") "END:VEVENT\r\n"
	    EV("after", "20260107T010000Z") E), 0);
	ck_assert_ptr_null(find("outer"));
	ck_assert_ptr_nonnull(find("inner"));
	ck_assert_ptr_nonnull(find("after"));
	ck_assert_uint_eq(rep.skipped, 1);
	ck_assert(has_problem("line 4", "not terminated"));
}
END_TEST

/* Subcomponents (VALARM) are part of their component. */
START_TEST(test_valarm_inside)
{
	struct got_series *g;

	ck_assert_int_eq(run_str(H "BEGIN:VEVENT\r\nUID:al\r\n"
	    "DTSTART:20260105T010000Z\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"
	    "TRIGGER:-PT1H\r\nEND:VALARM\r\nEND:VEVENT\r\n" E), 0);
	ck_assert_ptr_nonnull(g = find("al"));
	ck_assert_ptr_nonnull(strstr(g->text, "END:VALARM"));
	ck_assert_uint_eq(rep.nproblems, 0);
}
END_TEST

#define CUSTOM_TZ "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\n" \
	"DTSTART:19700101T000000\r\nTZOFFSETFROM:+0300\r\n" \
	"TZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"

START_TEST(test_vtimezone_after_events)
{
	ck_assert_int_eq(run_str(H "BEGIN:VEVENT\r\nUID:tz\r\n"
	    "DTSTART;TZID=Custom:20260105T090000\r\nEND:VEVENT\r\n"
	    CUSTOM_TZ E), 0);
	ck_assert_uint_eq(nzones, 1);
	ck_assert_str_eq(zones_seen[0], "Custom");
	ck_assert_ptr_nonnull(find("tz"));
	ck_assert(find("tz")->zone_custom);
}
END_TEST

#define B3 "BEGIN:VEVENT\r\nUID:b3\r\nDTSTART;TZID=Custom:20260105T090000\r\n" \
	"END:VEVENT\r\n"

START_TEST(test_bare_components)
{
	struct ingest_opts opts;
	struct tzmap *bare = tzmap_new();
	icalcomponent *z;

	ck_assert_int_eq(run_str(EV("b1", "20260105T010000Z")
	    "BEGIN:VTODO\r\nUID:b2\r\nDUE:20260105T010000Z\r\nEND:VTODO\r\n"),
	    0);
	ck_assert_uint_eq(ngot, 2);
	ck_assert_int_eq(find("b1")->cals[0], -1);
	ck_assert(!find("b1")->zone_custom);
	/* A stored series is read with its feed's zones. */
	z = icalparser_parse_string(CUSTOM_TZ);
	ck_assert_int_eq(tzmap_add(bare, z, NULL), 0);
	icalcomponent_free(z);
	memset(&opts, 0, sizeof opts);
	opts.bare_zones = bare;
	ck_assert_int_eq(run_opts(B3, strlen(B3), &opts), 0);
	ck_assert_ptr_nonnull(find("b3"));
	ck_assert(find("b3")->zone_custom);
	tzmap_free(bare);
}
END_TEST

/* Several calendars in one body: each has its own zones; one UID in two
 * calendars is one series with components in both. */
START_TEST(test_several_calendars)
{
	struct got_series *g;

	ck_assert_int_eq(run_str(H CUSTOM_TZ
	    "BEGIN:VEVENT\r\nUID:m\r\nSEQUENCE:1\r\n"
	    "DTSTART;TZID=Custom:20260105T090000\r\nEND:VEVENT\r\n" E
	    H EV("m", "20260106T010000Z")
	    "BEGIN:VEVENT\r\nUID:n\r\nDTSTART;TZID=Custom:20260106T090000\r\n"
	    "END:VEVENT\r\n" E), 0);
	ck_assert_uint_eq(ngot, 2);
	ck_assert_ptr_nonnull(g = find("m"));
	ck_assert_uint_eq(g->ncomps, 2);
	ck_assert_int_eq(g->cals[0], 0);
	ck_assert_int_eq(g->cals[1], 1);
	ck_assert(g->zone_custom);
	ck_assert_ptr_nonnull(g = find("n"));
	ck_assert_int_eq(g->cals[0], 1);
	ck_assert(!g->zone_custom);
	ck_assert(!rep.truncated);
}
END_TEST

/* Limits and the sink */

START_TEST(test_max_items)
{
	struct ingest_opts opts;

	memset(&opts, 0, sizeof opts);
	opts.max_items = 2;
	ck_assert_int_eq(run_opts(H EV("a", "20260105T010000Z")
	    EV("b", "20260105T010000Z") EV("c", "20260105T010000Z") E,
	    strlen(H EV("a", "20260105T010000Z") EV("b", "20260105T010000Z")
	    EV("c", "20260105T010000Z") E), &opts), 0);
	ck_assert_uint_eq(ngot, 2);
	ck_assert(rep.truncated);
	ck_assert(has_problem("more than 2 items", NULL));
	ck_assert_ptr_nonnull(find("a"));
	ck_assert_ptr_nonnull(find("b"));
}
END_TEST

START_TEST(test_problem_limit)
{
	char *body = xstrdup(H), *t;
	char *sum;
	int i;

	for (i = 0; i < INGEST_MAX_PROBLEMS + 50; i++) {
		xasprintf(&t, "%sBEGIN:VEVENT\r\nUID:n%d\r\nEND:VEVENT\r\n",
		    body, i);
		free(body);
		body = t;
	}
	xasprintf(&t, "%s" EV("ok", "20260105T010000Z") E, body);
	free(body);
	ck_assert_int_eq(run_str(t), 0);
	free(t);
	ck_assert_uint_eq(ngot, 1);
	ck_assert_uint_eq(rep.skipped, INGEST_MAX_PROBLEMS + 50);
	ck_assert_uint_eq(rep.nproblems, INGEST_MAX_PROBLEMS);
	ck_assert_uint_eq(rep.more_problems, 50);
	sum = ingest_report_summary(&rep);
	ck_assert_ptr_nonnull(strstr(sum, "line 4: VEVENT without DTSTART; "
	    "skipped; line 7: "));
	ck_assert_ptr_nonnull(strstr(sum, "; and 50 more"));
	free(sum);
}
END_TEST

START_TEST(test_sink_abort)
{
	abort_after = 1;
	ck_assert_int_eq(run_str(H EV("a", "20260105T010000Z")
	    EV("b", "20260105T010000Z") E), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_uint_eq(ngot, 1);
}
END_TEST

START_TEST(test_hash)
{
	struct got_series *g;
	uint64_t ha, hb;

	/* Stored hashes and made-up UIDs depend on these values. */
	ck_assert(ingest_hash("", 0) == 1469598103934665603ULL);
	ck_assert(ingest_hash("a", 1) != ingest_hash("b", 1));
	ck_assert_int_eq(run_str(H EV("a", "20260105T010000Z")
	    EV("b", "20260105T010000Z") E), 0);
	ha = find("a")->hash;
	hb = find("b")->hash;
	/* LF-only, one series changed: the other keeps its hash. */
	ck_assert_int_eq(run_str("BEGIN:VCALENDAR\nVERSION:2.0\n"
	    "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T010000Z\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:b\nDTSTART:20260105T020000Z\nEND:VEVENT\n"
	    "END:VCALENDAR\n"), 0);
	ck_assert_ptr_nonnull(g = find("a"));
	ck_assert(g->hash == ha);
	ck_assert(find("b")->hash != hb);
}
END_TEST

static Suite *
ingest_suite(void)
{
	Suite *s = suite_create("ingest");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_encoding, 0,
	    (int)(sizeof enc_cases / sizeof enc_cases[0]));
	tcase_add_test(tc, test_lf_only_fold);
	tcase_add_test(tc, test_fold_splitting_character);
	tcase_add_test(tc, test_fold_variants);
	tcase_add_test(tc, test_utf16_big_endian);
	tcase_add_test(tc, test_uid_folded_and_escaped);
	tcase_add_test(tc, test_grouped_by_uid);
	tcase_add_test(tc, test_missing_uid_stable);
	tcase_add_test(tc, test_end_vtood);
	tcase_add_test(tc, test_vevent_inside_vevent);
	tcase_add_test(tc, test_valarm_inside);
	tcase_add_test(tc, test_vtimezone_after_events);
	tcase_add_test(tc, test_bare_components);
	tcase_add_test(tc, test_several_calendars);
	tcase_add_test(tc, test_hash);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty_body);
	tcase_add_test(tc, test_not_a_calendar);
	tcase_add_test(tc, test_random_bytes);
	tcase_add_test(tc, test_truncated_mid_component);
	tcase_add_test(tc, test_truncated_no_end_calendar);
	tcase_add_test(tc, test_broken_components_skipped);
	tcase_add_loop_test(tc, test_broken_component_table, 0,
	    (int)(sizeof broken_cases / sizeof broken_cases[0]));
	tcase_add_test(tc, test_minor_error_kept);
	tcase_add_test(tc, test_sink_abort);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_10mb_description);
	tcase_add_test(tc, test_10mb_garbage_line);
	tcase_add_test(tc, test_max_items);
	tcase_add_test(tc, test_problem_limit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(ingest_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
