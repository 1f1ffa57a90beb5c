/*
 * Tests for export.c (and the store's export side): folding, VTIMEZONEs,
 * filters, duplicate UIDs, the content version behind ETags, and the
 * evhttp server driven in-process over loopback.
 *
 * Run as `check_export --render CONF [--feed F] [--branch B]
 * [--category C,...]` it prints the body for a database instead: the
 * round-trip test (tests/it/export_roundtrip.py) uses that.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <libical/ical.h>
#include <zlib.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/export.h"
#include "djcal/feed.h"
#include "djcal/log.h"
#include "djcal/store.h"
#include "djcal/tz.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

/* 2026-01-01T00:00:00Z */
#define NOW	((time_t)1767225600)

static const char feed_a[] =
    "BEGIN:VCALENDAR\n"
    "VERSION:2.0\n"
    "PRODID:-//test//a//EN\n"
    "BEGIN:VTIMEZONE\n"
    "TZID:Asia/Shanghai\n"
    "BEGIN:STANDARD\n"
    "TZOFFSETFROM:+0800\n"
    "TZOFFSETTO:+0800\n"
    "TZNAME:CST\n"
    "DTSTART:19700101T000000\n"
    "END:STANDARD\n"
    "END:VTIMEZONE\n"
    "BEGIN:VTIMEZONE\n"
    "TZID:Customized Time Zone\n"
    "BEGIN:STANDARD\n"
    "TZOFFSETFROM:+0800\n"
    "TZOFFSETTO:+0800\n"
    "DTSTART:16010101T000000\n"
    "END:STANDARD\n"
    "END:VTIMEZONE\n"
    "BEGIN:VTIMEZONE\n"
    "TZID:Unused/Zone\n"
    "BEGIN:STANDARD\n"
    "TZOFFSETFROM:+0100\n"
    "TZOFFSETTO:+0100\n"
    "DTSTART:19700101T000000\n"
    "END:STANDARD\n"
    "END:VTIMEZONE\n"
    "BEGIN:VEVENT\n"
    "UID:study-1@test\n"
    "DTSTAMP:20260101T000000Z\n"
    "DTSTART;TZID=Asia/Shanghai:20260106T150000\n"
    "DTEND;TZID=Asia/Shanghai:20260106T163000\n"
    "RRULE:FREQ=MONTHLY;BYDAY=1TU;COUNT=6\n"
    "RDATE;TZID=Asia/Shanghai:20260512T150000\n"
    "EXDATE;TZID=Asia/Shanghai:20260505T150000\n"
    "SUMMARY:支委会\n"
    "CATEGORIES:三会一课\n"
    "DESCRIPTION:支部委员会会议：研究支部月度工作、党员教育管理和发展党员事项，"
    "审议主题党日和志愿服务安排。参加人员：支部委员；各党小组组长列席。"
    "每月第一个星期二召开😀。\n"
    "BEGIN:VALARM\n"
    "ACTION:DISPLAY\n"
    "DESCRIPTION:提醒\n"
    "TRIGGER:-PT1H\n"
    "END:VALARM\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:study-1@test\n"
    "DTSTAMP:20260101T000000Z\n"
    "RECURRENCE-ID;TZID=Asia/Shanghai:20260203T150000\n"
    "DTSTART;TZID=Asia/Shanghai:20260204T150000\n"
    "DTEND;TZID=Asia/Shanghai:20260204T163000\n"
    "SUMMARY:支委会（改期）\n"
    "CATEGORIES:主题党日\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:berlin-1@test\n"
    "DTSTAMP:20260101T000000Z\n"
    "DTSTART;TZID=Europe/Berlin:20260310T100000\n"
    "DURATION:PT1H\n"
    "SUMMARY:理论学习 Berlin\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:win-1@test\n"
    "DTSTAMP:20260101T000000Z\n"
    "DTSTART;TZID=W. Europe Standard Time:20260311T100000\n"
    "SUMMARY:党课 windows zone\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:custom-a@test\n"
    "DTSTAMP:20260101T000000Z\n"
    "DTSTART;TZID=Customized Time Zone:20260312T100000\n"
    "SUMMARY:党课 custom zone\n"
    "END:VEVENT\n"
    "BEGIN:VTODO\n"
    "DTSTAMP:20260101T000000Z\n"
    "SUMMARY:无UID的标准化任务\n"
    "CATEGORIES:学习\n"
    "DUE;VALUE=DATE:20260401\n"
    "END:VTOOD\n"
    "END:VCALENDAR\n";

/* Another branch; its Asia/Shanghai differs from feed a's, and it has a
 * UID that feed a has too. */
static const char feed_b[] =
    "BEGIN:VCALENDAR\n"
    "VERSION:2.0\n"
    "PRODID:-//test//b//EN\n"
    "BEGIN:VTIMEZONE\n"
    "TZID:Asia/Shanghai\n"
    "BEGIN:DAYLIGHT\n"
    "TZOFFSETFROM:+0800\n"
    "TZOFFSETTO:+0900\n"
    "TZNAME:CDT\n"
    "DTSTART:19860504T020000\n"
    "RDATE:19860504T020000\n"
    "END:DAYLIGHT\n"
    "BEGIN:STANDARD\n"
    "TZOFFSETFROM:+0900\n"
    "TZOFFSETTO:+0800\n"
    "TZNAME:CST\n"
    "DTSTART:19860914T020000\n"
    "RDATE:19860914T020000\n"
    "END:STANDARD\n"
    "END:VTIMEZONE\n"
    "BEGIN:VTIMEZONE\n"
    "TZID:Customized Time Zone\n"
    "BEGIN:STANDARD\n"
    "TZOFFSETFROM:+0900\n"
    "TZOFFSETTO:+0900\n"
    "DTSTART:16010101T000000\n"
    "END:STANDARD\n"
    "END:VTIMEZONE\n"
    "BEGIN:VEVENT\n"
    "UID:custom-b@test\n"
    "DTSTAMP:20260101T000000Z\n"
    "DTSTART;TZID=Customized Time Zone:20260313T100000\n"
    "SUMMARY:主题党日 custom zone\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:pd-1@test\n"
    "DTSTAMP:20260101T000000Z\n"
    "DTSTART;TZID=Asia/Shanghai:20260115T140000\n"
    "DTEND;TZID=Asia/Shanghai:20260115T170000\n"
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=15;COUNT=12\n"
    "SUMMARY:主题党日\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "UID:study-1@test\n"
    "DTSTAMP:20260101T000000Z\n"
    "DTSTART;TZID=Asia/Shanghai:20260107T090000\n"
    "SUMMARY:重复的支委会\n"
    "END:VEVENT\n"
    "END:VCALENDAR\n";

static char *tmpdir;
static struct config *cfg;
static struct store *store;
static struct classifier *cls;
static time_t clock_now = NOW;

static time_t
test_clock(void *arg)
{
	(void)arg;
	return clock_now;
}

static void
write_config(const char *extra)
{
	char *conf, *p;

	xasprintf(&conf,
	    "[daemon]\n"
	    "database = djcal.db\n"
	    "socket = sock\n"
	    "timezone = Asia/Shanghai\n"
	    "http_listen =\n"
	    "%s\n"
	    "[feed a]\n"
	    "url = a.ics\n"
	    "category = study\n"
	    "branch = 机关党支部\n"
	    "refresh = 15m\n"
	    "[feed b]\n"
	    "url = b.ics\n"
	    "branch = 社区党支部\n"
	    "refresh = 10m\n", extra);
	p = tu_write_str(tmpdir, "djcald.conf", conf);
	free(p);
	free(conf);
}

/* (Re)load the config and sync the store's feeds with it. */
static void
load(void)
{
	char *path, *cause = NULL;

	xasprintf(&path, "%s/djcald.conf", tmpdir);
	config_free(cfg);
	cfg = NULL;
	ck_assert_msg(config_load(path, &cfg, &cause) == 0, "%s", cause);
	free(path);
	if (store == NULL) {
		store = store_open(cfg->database, 0, &cause);
		ck_assert_msg(store != NULL, "%s", cause);
	}
	ck_assert_msg(feed_sync_config(store, cfg, &cause) == 0, "%s", cause);
	classifier_free(cls);
	cls = feed_classifier_new(cfg);
}

static void
ingest(time_t now)
{
	struct feed_env env;

	memset(&env, 0, sizeof env);
	env.store = store;
	env.cfg = cfg;
	env.classifier = cls;
	env.zone = tz_system(cfg->timezone);
	ck_assert_int_eq(feed_once_files(&env, now), 0);
}

static void
write_feed(const char *name, const char *text)
{
	free(tu_write_str(tmpdir, name, text));
}

static void
setup(void)
{
	tmpdir = tu_mkdtemp();
	cfg = NULL;
	store = NULL;
	cls = NULL;
	clock_now = NOW;
	write_feed("a.ics", feed_a);
	write_feed("b.ics", feed_b);
	write_config("");
	load();
	ingest(NOW);
}

static void
teardown(void)
{
	classifier_free(cls);
	store_close(store);
	config_free(cfg);
	tu_rmtree(tmpdir);
	free(tmpdir);
	cls = NULL;
	store = NULL;
	cfg = NULL;
	tmpdir = NULL;
}

static char *
render(unsigned cats, const char *feed, const char *branch, size_t *lenp)
{
	struct export_filter f;
	char *out = NULL, *cause = NULL;
	size_t len;

	memset(&f, 0, sizeof f);
	f.categories = cats;
	f.feed = feed;
	f.branch = branch;
	ck_assert_msg(export_render(store, cfg, &f, &out, &len, &cause) == 0,
	    "%s", cause);
	ck_assert_uint_eq(strlen(out), len);
	if (lenp != NULL)
		*lenp = len;
	return out;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;
	const char *p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* Unfold CRLF-folded text (for searching across folds). */
static char *
unfold_text(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	while (*s != '\0') {
		if (s[0] == '\r' && s[1] == '\n' && s[2] == ' ') {
			s += 3;
			continue;
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/* Every physical line: CRLF ended, at most 75 octets, valid UTF-8 by
 * itself (so no character was split). */
static void
assert_folded(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *l = s + i, *crlf = strstr(l, "\r\n");
		size_t n;

		ck_assert_msg(crlf != NULL, "line without CRLF at %zu", i);
		n = (size_t)(crlf - l);
		ck_assert_msg(n <= EXPORT_FOLD, "line of %zu octets: %.*s", n,
		    (int)n, l);
		ck_assert_msg(memchr(l, '\n', n) == NULL &&
		    memchr(l, '\r', n) == NULL, "bare line end");
		/* Valid UTF-8 on its own: no lead byte cut from its tail. */
		{
			size_t j = 0;

			while (j < n) {
				unsigned char c = (unsigned char)l[j];
				size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 :
				    c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;

				ck_assert_msg(k != 0 && j + k <= n,
				    "split UTF-8 at octet %zu of %.*s", j,
				    (int)n, l);
				j += k;
			}
		}
		i += n + 2;
	}
}

/* Folding */

START_TEST(test_fold_ascii)
{
	char line[400], *out, *un;
	size_t len, i;

	memcpy(line, "DESCRIPTION:", 12);
	for (i = 12; i < 300; i++)
		line[i] = (char)('a' + i % 26);
	line[300] = '\0';
	out = export_fold(line, 300, &len);
	assert_folded(out, len);
	ck_assert_int_eq(strncmp(out, line, 75), 0);
	ck_assert_int_eq(out[75], '\r');
	un = unfold_text(out);
	ck_assert_int_eq(strncmp(un, line, 300), 0);
	ck_assert_str_eq(un + 300, "\r\n");
	free(un);
	free(out);
}
END_TEST

START_TEST(test_fold_multibyte)
{
	/* 3-byte and 4-byte characters: 75 is not a multiple of either. */
	const char *text = "SUMMARY:主题党日活动：重温入党誓词😀参观红色教育基地"
	    "并开展志愿服务😀😀，全体党员参加，支部书记讲专题党课。";
	char *out, *un;
	size_t len;

	out = export_fold(text, strlen(text), &len);
	assert_folded(out, len);
	ck_assert_uint_gt(count(out, "\r\n "), 0);
	un = unfold_text(out);
	ck_assert_int_eq(strncmp(un, text, strlen(text)), 0);
	ck_assert_str_eq(un + strlen(text), "\r\n");
	free(un);
	free(out);
}
END_TEST

START_TEST(test_fold_refolds_source)
{
	/* LF line ends, a fold that split a character in the source, a tab
	 * continuation, an empty line, invalid bytes. */
	const char in[] = "BEGIN:VEVENT\nSUMMARY:支\xe5\n \x85\xa8委会\n"
	    "DESCRIPTION:a\n\tb\n\nX-BAD:\xff\xc0\x80z\r\nEND:VEVENT";
	char *out;
	size_t len;

	out = export_fold(in, sizeof in - 1, &len);
	assert_folded(out, len);
	ck_assert_str_eq(out, "BEGIN:VEVENT\r\nSUMMARY:支全委会\r\n"
	    "DESCRIPTION:ab\r\nX-BAD:\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\r\n"
	    "END:VEVENT\r\n");
	free(out);
}
END_TEST

START_TEST(test_token_equal)
{
	ck_assert(export_token_equal("s3cret", "s3cret"));
	ck_assert(!export_token_equal("s3cre", "s3cret"));
	ck_assert(!export_token_equal("s3cretX", "s3cret"));
	ck_assert(!export_token_equal("S3cret", "s3cret"));
	ck_assert(!export_token_equal("", "s3cret"));
	ck_assert(export_token_equal("", ""));
}
END_TEST

/* Rendering */

START_TEST(test_header_and_folding)
{
	size_t len;
	char *out = render(0, NULL, NULL, &len), *un;

	assert_folded(out, len);
	ck_assert_int_eq(strncmp(out, "BEGIN:VCALENDAR\r\n", 17), 0);
	ck_assert_str_eq(out + len - 15, "END:VCALENDAR\r\n");
	ck_assert_ptr_nonnull(strstr(out, "\r\nPRODID:" EXPORT_PRODID "\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nVERSION:2.0\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nCALSCALE:GREGORIAN\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nX-WR-CALNAME:党建日历\r\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "\r\nX-WR-TIMEZONE:Asia/Shanghai\r\n"));
	/* The shortest refresh (10m) of the feeds shown. */
	ck_assert_ptr_nonnull(strstr(out,
	    "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT10M\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nX-PUBLISHED-TTL:PT10M\r\n"));
	un = unfold_text(out);
	ck_assert_ptr_nonnull(strstr(un, "每月第一个星期二召开😀。\r\n"));
	free(un);
	free(out);
}
END_TEST

START_TEST(test_parses_with_libical)
{
	char *out = render(0, NULL, NULL, NULL);
	icalcomponent *cal, *c;
	int events = 0, todos = 0, zones = 0;

	cal = icalparser_parse_string(out);
	ck_assert_ptr_nonnull(cal);
	ck_assert_int_eq(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
	for (c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	    c != NULL;
	    c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		if (icalcomponent_isa(c) == ICAL_VEVENT_COMPONENT)
			events++;
		else if (icalcomponent_isa(c) == ICAL_VTODO_COMPONENT)
			todos++;
		else if (icalcomponent_isa(c) == ICAL_VTIMEZONE_COMPONENT)
			zones++;
	}
	/* a: master, override, berlin, win, custom-a; b: custom-b, pd-1
	 * (its study-1 is a duplicate); zones: Asia/Shanghai, Berlin, the
	 * Windows name, Customized Time Zone twice (a's, b's renamed). */
	ck_assert_int_eq(events, 7);
	ck_assert_int_eq(todos, 1);
	ck_assert_int_eq(zones, 5);
	icalcomponent_free(cal);
	free(out);
}
END_TEST

START_TEST(test_series_kept_whole)
{
	char *out = render(0, "a", NULL, NULL), *un = unfold_text(out);
	const char *m, *o;

	m = strstr(un, "UID:study-1@test\r\n");
	ck_assert_ptr_nonnull(m);
	o = strstr(m + 1, "UID:study-1@test\r\n");
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(strstr(un,
	    "RRULE:FREQ=MONTHLY;BYDAY=1TU;COUNT=6\r\n"));
	ck_assert_ptr_nonnull(strstr(un,
	    "RDATE;TZID=Asia/Shanghai:20260512T150000\r\n"));
	ck_assert_ptr_nonnull(strstr(un,
	    "EXDATE;TZID=Asia/Shanghai:20260505T150000\r\n"));
	ck_assert_ptr_nonnull(strstr(un,
	    "RECURRENCE-ID;TZID=Asia/Shanghai:20260203T150000\r\n"));
	ck_assert_ptr_nonnull(strstr(un, "BEGIN:VALARM\r\nACTION:DISPLAY\r\n"
	    "DESCRIPTION:提醒\r\nTRIGGER:-PT1H\r\nEND:VALARM\r\n"));
	free(un);
	free(out);
}
END_TEST

START_TEST(test_vtimezones)
{
	char *out = render(0, "a", NULL, NULL), *un = unfold_text(out);

	/* The feed's own zone, once; its unused zone not at all. */
	ck_assert_uint_eq(count(un,
	    "BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\n"), 1);
	ck_assert_ptr_null(strstr(un, "Unused/Zone"));
	/* System zones for TZIDs without a VTIMEZONE, named as used. */
	ck_assert_uint_eq(count(un, "\r\nTZID:Europe/Berlin\r\n"), 1);
	ck_assert_uint_eq(count(un, "\r\nTZID:W. Europe Standard Time\r\n"),
	    1);
	ck_assert_ptr_nonnull(strstr(un,
	    "DTSTART;TZID=W. Europe Standard Time:20260311T100000\r\n"));
	/* Zones come before the components. */
	ck_assert(strstr(un, "BEGIN:VTIMEZONE") < strstr(un, "BEGIN:VEVENT"));
	free(un);
	free(out);
}
END_TEST

START_TEST(test_zone_conflict_known_name)
{
	char *out = render(0, NULL, NULL, NULL), *un = unfold_text(out);
	char *only_b;

	/* a and b define Asia/Shanghai differently: the name stays, once,
	 * with the system's definition (X-LIC-LOCATION and the 1986-1991
	 * daylight time that neither feed has whole). */
	ck_assert_uint_eq(count(un, "\r\nTZID:Asia/Shanghai\r\n"), 1);
	ck_assert_ptr_null(strstr(un, "Asia/Shanghai ("));
	ck_assert_ptr_nonnull(strstr(un, "TZID:Asia/Shanghai\r\n"
	    "X-LIC-LOCATION:Asia/Shanghai\r\n"));
	ck_assert_ptr_nonnull(strstr(un, "19910414T"));
	ck_assert_ptr_nonnull(strstr(un,
	    "DTSTART;TZID=Asia/Shanghai:20260115T140000\r\n"));
	ck_assert_ptr_nonnull(strstr(un,
	    "DTSTART;TZID=Asia/Shanghai:20260106T150000\r\n"));
	/* Alone, b's own definition goes out as it wrote it. */
	only_b = render(0, "b", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(only_b, "\r\nTZID:Asia/Shanghai\r\n"
	    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0800\r\n"));
	free(only_b);
	free(un);
	free(out);
}
END_TEST

START_TEST(test_zone_conflict_custom_renamed)
{
	char *out = render(0, NULL, NULL, NULL), *un = unfold_text(out);
	char *only_b;

	/* A name only its VTIMEZONE defines: b's different one is renamed,
	 * and b's items follow it. */
	ck_assert_uint_eq(count(un, "\r\nTZID:Customized Time Zone\r\n"), 1);
	ck_assert_uint_eq(count(un, "\r\nTZID:Customized Time Zone (b)\r\n"),
	    1);
	ck_assert_ptr_nonnull(strstr(un,
	    "DTSTART;TZID=Customized Time Zone (b):20260313T100000\r\n"));
	ck_assert_ptr_nonnull(strstr(un,
	    "DTSTART;TZID=Customized Time Zone:20260312T100000\r\n"));
	ck_assert_ptr_nonnull(strstr(un, "TZID:Customized Time Zone (b)\r\n"
	    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0900\r\n"));
	/* Alone, b keeps its own name. */
	only_b = render(0, "b", NULL, NULL);
	ck_assert_ptr_null(strstr(only_b, "(b)"));
	free(only_b);
	free(un);
	free(out);
}
END_TEST

START_TEST(test_filters)
{
	char *s;

	/* party-day: a's study-1 (its override is a party day) whole, and
	 * b's pd-1; nothing else. */
	s = render(1u << DJ_CAT_PARTY_DAY, NULL, NULL, NULL);
	ck_assert_uint_eq(count(s, "UID:study-1@test\r\n"), 2);
	ck_assert_uint_eq(count(s, "UID:pd-1@test\r\n"), 1);
	ck_assert_ptr_null(strstr(s, "berlin-1"));
	ck_assert_ptr_nonnull(strstr(s, "RRULE:FREQ=MONTHLY;BYDAY=1TU"));
	ck_assert_ptr_nonnull(strstr(s, "X-WR-CALNAME:党建日历 · 主题党日\r\n"));
	ck_assert_ptr_null(strstr(s, "Europe/Berlin"));
	free(s);
	/* study (a's default category; the VTODO by its CATEGORIES). */
	s = render(1u << DJ_CAT_STUDY, NULL, NULL, NULL);
	ck_assert_uint_eq(count(s, "UID:study-1@test\r\n"), 2);
	ck_assert_ptr_nonnull(strstr(s, "UID:berlin-1@test\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "UID:win-1@test\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "BEGIN:VTODO"));
	ck_assert_ptr_null(strstr(s, "pd-1"));
	free(s);
	s = render((1u << DJ_CAT_STUDY) | (1u << DJ_CAT_PARTY_DAY), NULL,
	    NULL, NULL);
	ck_assert_ptr_nonnull(strstr(s,
	    "X-WR-CALNAME:党建日历 · 理论学习、主题党日\r\n"));
	free(s);
	s = render(1u << DJ_CAT_VOLUNTEER, NULL, NULL, NULL);
	ck_assert_ptr_null(strstr(s, "BEGIN:VEVENT"));
	ck_assert_ptr_null(strstr(s, "BEGIN:VTIMEZONE"));
	free(s);
	/* branch */
	s = render(0, NULL, "社区党支部", NULL);
	ck_assert_ptr_nonnull(strstr(s, "UID:pd-1@test\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "重复的支委会"));
	ck_assert_ptr_null(strstr(s, "berlin-1"));
	ck_assert_ptr_nonnull(strstr(s,
	    "X-WR-CALNAME:党建日历 · 社区党支部\r\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "REFRESH-INTERVAL;VALUE=DURATION:PT10M"));
	free(s);
	s = render(0, NULL, "机关党支部", NULL);
	ck_assert_ptr_null(strstr(s, "pd-1"));
	ck_assert_ptr_nonnull(strstr(s,
	    "REFRESH-INTERVAL;VALUE=DURATION:PT15M"));
	free(s);
	/* feed */
	s = render(0, "a", NULL, NULL);
	ck_assert_ptr_null(strstr(s, "pd-1"));
	ck_assert_ptr_nonnull(strstr(s, "berlin-1"));
	free(s);
	s = render(0, "nosuch", NULL, NULL);
	ck_assert_ptr_null(strstr(s, "BEGIN:VEVENT"));
	free(s);
}
END_TEST

START_TEST(test_duplicate_uid_reported)
{
	struct store_feed fa, fb;
	char *s = render(0, NULL, NULL, NULL);

	/* Merged: a's copy only. */
	ck_assert_uint_eq(count(s, "UID:study-1@test\r\n"), 2);
	ck_assert_ptr_null(strstr(s, "重复的支委会"));
	free(s);
	/* The later feed's health names it; the first's does not. */
	ck_assert_int_eq(store_feed_get(store, "a", &fa), 0);
	ck_assert_int_eq(store_feed_get(store, "b", &fb), 0);
	ck_assert(fa.problems == NULL ||
	    strstr(fa.problems, "study-1@test") == NULL);
	ck_assert_ptr_nonnull(fb.problems);
	ck_assert_ptr_nonnull(strstr(fb.problems,
	    "study-1@test (also in feed a)"));
	store_feed_clear(&fa);
	store_feed_clear(&fb);
	/* Still there after b is read again (its own problems rewritten). */
	write_feed("b.ics", feed_b);
	ingest(NOW + 86400);
	ck_assert_int_eq(store_feed_get(store, "b", &fb), 0);
	ck_assert_ptr_nonnull(fb.problems);
	ck_assert_ptr_nonnull(strstr(fb.problems, "study-1@test"));
	store_feed_clear(&fb);
	/* Gone when a no longer has it. */
	write_feed("a.ics", "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n"
	    "BEGIN:VEVENT\nUID:other@test\nDTSTART:20260301T100000Z\n"
	    "SUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n");
	ingest(NOW + 2 * 86400);
	ck_assert_int_eq(store_feed_get(store, "b", &fb), 0);
	ck_assert(fb.problems == NULL ||
	    strstr(fb.problems, "study-1@test") == NULL);
	store_feed_clear(&fb);
	s = render(0, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(s, "重复的支委会"));
	free(s);
}
END_TEST

START_TEST(test_nouid_and_bad_end)
{
	char *s = render(0, "a", NULL, NULL);
	const char *todo = strstr(s, "BEGIN:VTODO\r\n");

	ck_assert_ptr_nonnull(todo);
	ck_assert_int_eq(strncmp(todo + 13, "UID:djcal-nouid-", 16), 0);
	ck_assert_ptr_nonnull(strstr(todo, "END:VTODO\r\n"));
	ck_assert_ptr_null(strstr(s, "VTOOD"));
	free(s);
}
END_TEST

START_TEST(test_version_changes_only_with_content)
{
	uint64_t v0, v;

	v0 = store_content_version(store);
	ck_assert_uint_ne(v0, 0);
	/* The same bodies again, and on a later day (the materialised
	 * window moves, every series is stored again): no change. */
	ingest(NOW);
	ck_assert_uint_eq(store_content_version(store), v0);
	ingest(NOW + 86400);
	ck_assert_uint_eq(store_content_version(store), v0);
	load();		/* the config again, unchanged */
	ck_assert_uint_eq(store_content_version(store), v0);
	/* One feed's content changes. */
	write_feed("b.ics", "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n"
	    "BEGIN:VEVENT\nUID:pd-1@test\nDTSTART:20260115T060000Z\n"
	    "SUMMARY:主题党日（改）\nEND:VEVENT\nEND:VCALENDAR\n");
	ingest(NOW + 86400);
	v = store_content_version(store);
	ck_assert_uint_ne(v, v0);
	/* A feed's branch changes. */
	v0 = v;
	write_config("");
	free(tu_write_str(tmpdir, "djcald.conf", "[daemon]\n"
	    "database = djcal.db\nsocket = sock\ntimezone = Asia/Shanghai\n"
	    "[feed a]\nurl = a.ics\ncategory = study\nbranch = 另一个支部\n"
	    "[feed b]\nurl = b.ics\nbranch = 社区党支部\nrefresh = 10m\n"));
	load();
	v = store_content_version(store);
	ck_assert_uint_ne(v, v0);
	/* A feed removed. */
	v0 = v;
	free(tu_write_str(tmpdir, "djcald.conf", "[daemon]\n"
	    "database = djcal.db\nsocket = sock\ntimezone = Asia/Shanghai\n"
	    "[feed a]\nurl = a.ics\ncategory = study\nbranch = 另一个支部\n"));
	load();
	ck_assert_uint_ne(store_content_version(store), v0);
}
END_TEST

START_TEST(test_version_on_recategorised)
{
	uint64_t v0 = store_content_version(store);
	char *s;

	/* An alias moves 支委会 to volunteer: the same text, other
	 * categories. */
	free(tu_write_str(tmpdir, "djcald.conf", "[daemon]\n"
	    "database = djcal.db\nsocket = sock\ntimezone = Asia/Shanghai\n"
	    "[category volunteer]\naliases = 三会一课\n"
	    "[feed a]\nurl = a.ics\ncategory = study\nbranch = 机关党支部\n"
	    "refresh = 15m\n"
	    "[feed b]\nurl = b.ics\nbranch = 社区党支部\nrefresh = 10m\n"));
	load();
	ingest(NOW);
	ck_assert_uint_ne(store_content_version(store), v0);
	s = render(1u << DJ_CAT_VOLUNTEER, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(s, "UID:study-1@test"));
	free(s);
}
END_TEST

/* HTTP, in-process: the server and a client on one event_base */

static struct event_base *base;
static struct export *ex;

struct resp {
	int	 status;	/* 0: closed without a reply */
	char	*head;		/* status line and headers */
	char	*body;
	size_t	 bodylen;
	int	 eof;		/* the server closed the connection */
};

struct client {
	struct evbuffer	*in;
	int		 done;
};

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	evbuffer_add_buffer(c->in, bufferevent_get_input(bev));
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		evbuffer_add_buffer(c->in, bufferevent_get_input(bev));
		c->done = 1;
		event_base_loopbreak(base);
	}
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(base);
}

static void
resp_clear(struct resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* Send raw bytes to the server and read until it closes (at most 20 s). */
static void
http_raw(const char *req, size_t len, struct resp *r)
{
	struct sockaddr_in sin;
	struct bufferevent *bev;
	struct client c;
	struct event *dl;
	struct timeval tv = { 20, 0 };
	size_t n;
	char *all, *sep;

	memset(r, 0, sizeof *r);
	memset(&c, 0, sizeof c);
	c.in = evbuffer_new();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)export_port(ex));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, client_read_cb, NULL, client_event_cb, &c);
	bufferevent_enable(bev, EV_READ);
	ck_assert_int_eq(bufferevent_socket_connect(bev,
	    (struct sockaddr *)&sin, sizeof sin), 0);
	bufferevent_write(bev, req, len);
	dl = evtimer_new(base, deadline_cb, NULL);
	evtimer_add(dl, &tv);
	while (!c.done) {
		event_base_dispatch(base);
		if (!evtimer_pending(dl, NULL))
			break;
	}
	event_free(dl);
	r->eof = c.done;
	n = evbuffer_get_length(c.in);
	all = xmalloc(n + 1);
	evbuffer_remove(c.in, all, n);
	all[n] = '\0';
	evbuffer_free(c.in);
	bufferevent_free(bev);
	if (n == 0) {
		free(all);
		return;
	}
	sscanf(all, "HTTP/1.%*d %d", &r->status);
	if ((sep = strstr(all, "\r\n\r\n")) != NULL) {
		r->head = xstrndup(all, (size_t)(sep - all) + 2);
		r->bodylen = n - (size_t)(sep + 4 - all);
		r->body = xmalloc(r->bodylen + 1);
		memcpy(r->body, sep + 4, r->bodylen);
		r->body[r->bodylen] = '\0';
	} else
		r->head = xstrdup(all);
	free(all);
}

static void
http(const char *method, const char *target, const char *headers,
    struct resp *r)
{
	char *req;

	xasprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n%s\r\n", method, target,
	    headers != NULL ? headers : "");
	http_raw(req, strlen(req), r);
	free(req);
}

/* A header's value (first one, case-insensitive name), copied to buf. */
static const char *
header(const struct resp *r, const char *name, char *buf, size_t size)
{
	const char *p = r->head;
	size_t n = strlen(name);

	while (p != NULL && (p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			snprintf(buf, size, "%.*s", (int)(e - v), v);
			return buf;
		}
	}
	return NULL;
}

static void
http_setup_token(const char *token)
{
	struct export_env env;
	char *cause = NULL;

	setup();
	free(cfg->http_listen);
	cfg->http_listen = xstrdup("127.0.0.1:0");
	free(cfg->http_token);
	cfg->http_token = xstrdup(token);
	base = event_base_new();
	memset(&env, 0, sizeof env);
	env.store = store;
	env.now = test_clock;
	env.timeout = 1;
	ex = export_new(base, cfg, &env, &cause);
	ck_assert_msg(ex != NULL, "%s", cause);
	ck_assert_int_gt(export_port(ex), 0);
}

static void
http_setup(void)
{
	http_setup_token("");
}

static void
http_teardown(void)
{
	export_free(ex);
	event_base_free(base);
	ex = NULL;
	base = NULL;
	teardown();
}

START_TEST(test_http_get)
{
	struct resp r;
	char v[256], *want;
	size_t wlen;

	http("GET", "/calendar.ics", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Type", v, sizeof v),
	    "text/calendar; charset=utf-8");
	ck_assert_ptr_nonnull(header(&r, "ETag", v, sizeof v));
	ck_assert_int_eq(v[0], '"');
	ck_assert_str_eq(header(&r, "Last-Modified", v, sizeof v),
	    "Thu, 01 Jan 2026 00:00:00 GMT");
	ck_assert_str_eq(header(&r, "Cache-Control", v, sizeof v),
	    "max-age=600");
	ck_assert_str_eq(header(&r, "Vary", v, sizeof v), "Accept-Encoding");
	ck_assert_ptr_null(header(&r, "Content-Encoding", v, sizeof v));
	want = render(0, NULL, NULL, &wlen);
	ck_assert_uint_eq(r.bodylen, wlen);
	ck_assert_str_eq(r.body, want);
	free(want);
	resp_clear(&r);
	/* A filter */
	http("GET", "/calendar.ics?category=party-day&branch=%E7%A4%BE%E5%8C%BA"
	    "%E5%85%9A%E6%94%AF%E9%83%A8", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	want = render(1u << DJ_CAT_PARTY_DAY, NULL, "社区党支部", NULL);
	ck_assert_str_eq(r.body, want);
	free(want);
	resp_clear(&r);
	/* Several categories, as a list and repeated */
	http("GET", "/calendar.ics?category=study,party-day", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	want = render((1u << DJ_CAT_STUDY) | (1u << DJ_CAT_PARTY_DAY), NULL,
	    NULL, NULL);
	ck_assert_str_eq(r.body, want);
	resp_clear(&r);
	http("GET", "/calendar.ics?category=study&category=party-day", NULL,
	    &r);
	ck_assert_str_eq(r.body, want);
	free(want);
	resp_clear(&r);
	http("GET", "/calendar.ics?feed=a", NULL, &r);
	want = render(0, "a", NULL, NULL);
	ck_assert_str_eq(r.body, want);
	free(want);
	resp_clear(&r);
}
END_TEST

START_TEST(test_http_conditional)
{
	struct resp r;
	char etag[128], lm[128], *h;

	http("GET", "/calendar.ics", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	header(&r, "ETag", etag, sizeof etag);
	header(&r, "Last-Modified", lm, sizeof lm);
	resp_clear(&r);
	xasprintf(&h, "If-None-Match: %s\r\n", etag);
	http("GET", "/calendar.ics", h, &r);
	ck_assert_int_eq(r.status, 304);
	ck_assert_uint_eq(r.bodylen, 0);
	ck_assert_ptr_nonnull(header(&r, "ETag", lm + 64, 64));
	resp_clear(&r);
	free(h);
	/* In a list, and weak */
	xasprintf(&h, "If-None-Match: \"nope\", W/%s\r\n", etag);
	http("GET", "/calendar.ics", h, &r);
	ck_assert_int_eq(r.status, 304);
	resp_clear(&r);
	free(h);
	http("GET", "/calendar.ics", "If-None-Match: \"0000\"\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);
	/* If-Modified-Since */
	http("GET", "/calendar.ics",
	    "If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT\r\n", &r);
	ck_assert_int_eq(r.status, 304);
	resp_clear(&r);
	http("GET", "/calendar.ics",
	    "If-Modified-Since: Wed, 31 Dec 2025 23:59:59 GMT\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);
	/* If-None-Match wins over If-Modified-Since. */
	http("GET", "/calendar.ics", "If-None-Match: \"0000\"\r\n"
	    "If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);
	/* Another filter has another ETag. */
	xasprintf(&h, "If-None-Match: %s\r\n", etag);
	http("GET", "/calendar.ics?feed=a", h, &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);
	free(h);
}
END_TEST

START_TEST(test_http_etag_follows_feeds)
{
	struct resp r;
	char e1[128], e2[128], e3[128], lm[128];

	http("GET", "/calendar.ics", NULL, &r);
	header(&r, "ETag", e1, sizeof e1);
	resp_clear(&r);
	/* Read again the next day: the same content, the same ETag. */
	clock_now = NOW + 86400;
	ingest(NOW + 86400);
	export_changed(ex);
	http("GET", "/calendar.ics", NULL, &r);
	header(&r, "ETag", e2, sizeof e2);
	header(&r, "Last-Modified", lm, sizeof lm);
	ck_assert_str_eq(e1, e2);
	ck_assert_str_eq(lm, "Thu, 01 Jan 2026 00:00:00 GMT");
	resp_clear(&r);
	/* One source feed changes: a new ETag and Last-Modified, and the
	 * old ETag no longer gets 304. */
	clock_now = NOW + 2 * 86400;
	write_feed("b.ics", "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n"
	    "BEGIN:VEVENT\nUID:pd-1@test\nDTSTART:20260115T060000Z\n"
	    "SUMMARY:主题党日（改）\nEND:VEVENT\nEND:VCALENDAR\n");
	ingest(NOW + 2 * 86400);
	http("GET", "/calendar.ics", NULL, &r);
	header(&r, "ETag", e3, sizeof e3);
	header(&r, "Last-Modified", lm, sizeof lm);
	ck_assert_str_ne(e1, e3);
	ck_assert_str_eq(lm, "Sat, 03 Jan 2026 00:00:00 GMT");
	ck_assert_ptr_nonnull(strstr(r.body, "主题党日（改）"));
	resp_clear(&r);
	/* Also for a filter that does not show the changed feed: the
	 * version is the store's. */
	http("GET", "/calendar.ics", "If-None-Match: \"x\"\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);
}
END_TEST

START_TEST(test_http_gzip)
{
	struct resp r;
	char v[128], *want, *out;
	size_t wlen;
	uLongf olen;
	z_stream z;

	want = render(0, NULL, NULL, &wlen);
	http("GET", "/calendar.ics", "Accept-Encoding: br, gzip;q=0.8\r\n",
	    &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Encoding", v, sizeof v), "gzip");
	ck_assert_ptr_nonnull(strstr(header(&r, "ETag", v, sizeof v), "-gz\""));
	ck_assert_uint_lt(r.bodylen, wlen);
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	olen = (uLongf)wlen + 16;
	out = xmalloc(olen);
	z.next_in = (Bytef *)r.body;
	z.avail_in = (uInt)r.bodylen;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)olen;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.total_out, wlen);
	ck_assert_int_eq(memcmp(out, want, wlen), 0);
	inflateEnd(&z);
	free(out);
	resp_clear(&r);
	/* The gzip ETag answers 304 too. */
	{
		char etag[128], *h;

		http("GET", "/calendar.ics", "Accept-Encoding: gzip\r\n", &r);
		header(&r, "ETag", etag, sizeof etag);
		resp_clear(&r);
		xasprintf(&h, "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n",
		    etag);
		http("GET", "/calendar.ics", h, &r);
		ck_assert_int_eq(r.status, 304);
		resp_clear(&r);
		free(h);
	}
	/* Refused */
	http("GET", "/calendar.ics", "Accept-Encoding: gzip;q=0, deflate\r\n",
	    &r);
	ck_assert_ptr_null(header(&r, "Content-Encoding", v, sizeof v));
	ck_assert_str_eq(r.body, want);
	resp_clear(&r);
	http("GET", "/calendar.ics", "Accept-Encoding: *\r\n", &r);
	ck_assert_str_eq(header(&r, "Content-Encoding", v, sizeof v), "gzip");
	resp_clear(&r);
	free(want);
}
END_TEST

START_TEST(test_http_head)
{
	struct resp r;
	char v[128], n[32];
	size_t wlen;
	char *want = render(0, NULL, NULL, &wlen);

	http("HEAD", "/calendar.ics", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.bodylen, 0);
	snprintf(n, sizeof n, "%zu", wlen);
	ck_assert_str_eq(header(&r, "Content-Length", v, sizeof v), n);
	ck_assert_ptr_nonnull(header(&r, "ETag", v, sizeof v));
	resp_clear(&r);
	http("HEAD", "/healthz", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.bodylen, 0);
	resp_clear(&r);
	free(want);
}
END_TEST

START_TEST(test_http_bad_requests)
{
	struct resp r;
	char v[128], *big;
	size_t n = 100 * 1024, i;

	http("GET", "/nope", NULL, &r);
	ck_assert_int_eq(r.status, 404);
	resp_clear(&r);
	http("GET", "/calendar.ics?category=study,nonsense", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	resp_clear(&r);
	http("GET", "/calendar.ics?feed=nosuch", NULL, &r);
	ck_assert_int_eq(r.status, 404);
	resp_clear(&r);
	http("POST", "/calendar.ics", "Content-Length: 0\r\n", &r);
	ck_assert_int_eq(r.status, 405);
	ck_assert_str_eq(header(&r, "Allow", v, sizeof v), "GET, HEAD");
	resp_clear(&r);
	http("OPTIONS", "/calendar.ics", NULL, &r);
	ck_assert_int_eq(r.status, 405);
	resp_clear(&r);
	/* A 100 KB query string */
	big = xmalloc(n + 64);
	strcpy(big, "/calendar.ics?category=");
	for (i = strlen(big); i < n; i++)
		big[i] = 'a';
	big[n] = '\0';
	http("GET", big, NULL, &r);
	ck_assert_msg(r.status == 0 || (r.status >= 400 && r.status < 500),
	    "status %d", r.status);
	ck_assert(r.eof);
	resp_clear(&r);
	free(big);
	/* A request line without a version */
	http_raw("GET /calendar.ics\r\n\r\n", 21, &r);
	ck_assert_msg(r.status == 0 || (r.status >= 400 && r.status < 500),
	    "status %d", r.status);
	ck_assert(r.eof);
	resp_clear(&r);
	/* Garbage */
	http_raw("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15,
	    &r);
	ck_assert(r.status == 0 || (r.status >= 400 && r.status < 500));
	resp_clear(&r);
	/* A client that stops half way is closed after the timeout. */
	http_raw("GET /calendar.ics HTTP/1.1\r\nHost: x\r\n", 37, &r);
	ck_assert(r.eof);
	ck_assert(r.status == 0 || r.status == 408);
	resp_clear(&r);
	/* And the server still serves. */
	http("GET", "/calendar.ics", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);
}
END_TEST

START_TEST(test_http_healthz)
{
	struct resp r;

	clock_now = NOW + 60;
	http("GET", "/healthz", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "ok\n");
	resp_clear(&r);
	/* b refreshes every 10 minutes: stale after 30. */
	clock_now = NOW + 3 * 600 + 1;
	http("GET", "/healthz", NULL, &r);
	ck_assert_int_eq(r.status, 503);
	ck_assert_str_eq(r.body, "stale: b\n");
	resp_clear(&r);
	clock_now = NOW + 3 * 900 + 1;
	http("GET", "/healthz", NULL, &r);
	ck_assert_int_eq(r.status, 503);
	ck_assert_str_eq(r.body, "stale: a, b\n");
	resp_clear(&r);
	/* Fresh again after a successful read. */
	ingest(clock_now);
	http("GET", "/healthz", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);
}
END_TEST

START_TEST(test_ctl_ics)
{
	struct store_filter sf;
	struct resp r;
	char *cause = NULL, *s;
	size_t len;

	memset(&sf, 0, sizeof sf);
	sf.categories = 1u << DJ_CAT_STUDY;
	s = export_ctl_ics(ex, &sf, &len, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	http("GET", "/calendar.ics?category=study", NULL, &r);
	ck_assert_uint_eq(len, r.bodylen);
	ck_assert_str_eq(s, r.body);
	resp_clear(&r);
	free(s);
}
END_TEST

START_TEST(test_set_config_rebinds)
{
	struct config *c2;
	struct resp r;
	char *path, *cause = NULL;
	int p1 = export_port(ex);

	xasprintf(&path, "%s/djcald.conf", tmpdir);
	ck_assert_int_eq(config_load(path, &c2, &cause), 0);
	free(path);
	/* The same address: the same socket. */
	free(c2->http_listen);
	c2->http_listen = xstrdup("127.0.0.1:0");
	ck_assert_int_eq(export_set_config(ex, c2, &cause), 0);
	ck_assert_int_eq(export_port(ex), p1);
	/* Unbindable: the old one stays. */
	free(c2->http_listen);
	c2->http_listen = xstrdup("192.0.2.1:1");
	ck_assert_int_eq(export_set_config(ex, c2, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(export_port(ex), p1);
	http("GET", "/healthz", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);
	/* Another address: rebound. */
	free(c2->http_listen);
	c2->http_listen = xstrdup("127.0.0.1:0");
	free(cfg->http_listen);
	cfg->http_listen = xstrdup("");
	ck_assert_int_eq(export_set_config(ex, cfg, &cause), 0);
	ck_assert_int_eq(export_port(ex), 0);
	ck_assert_int_eq(export_set_config(ex, c2, &cause), 0);
	ck_assert_int_gt(export_port(ex), 0);
	http("GET", "/healthz", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);
	export_free(ex);	/* before c2 goes */
	ex = NULL;
	config_free(c2);
}
END_TEST

START_TEST(test_http_ipv6)
{
	struct export_env env;
	struct export *e6;
	char *cause = NULL;

	free(cfg->http_listen);
	cfg->http_listen = xstrdup("[::1]:0");
	memset(&env, 0, sizeof env);
	env.store = store;
	e6 = export_new(base, cfg, &env, &cause);
	if (e6 == NULL) {
		/* No IPv6 loopback here. */
		free(cause);
		return;
	}
	ck_assert_int_gt(export_port(e6), 0);
	export_free(e6);
}
END_TEST

static void
token_setup(void)
{
	http_setup_token("s3cret-Token");
}

START_TEST(test_http_token)
{
	struct resp r;
	char v[128], *logpath, *logtext;
	int fd, saved;

	/* Capture the log, with debug on, to see that the token is never
	 * in it. */
	logpath = NULL;
	xasprintf(&logpath, "%s/log", tmpdir);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	log_init("test", 1);

	http("GET", "/calendar.ics", NULL, &r);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(header(&r, "WWW-Authenticate", v, sizeof v),
	    "Bearer realm=\"djcal\"");
	ck_assert_uint_eq(r.bodylen, 0);
	ck_assert_ptr_null(header(&r, "ETag", v, sizeof v));
	resp_clear(&r);
	http("GET", "/calendar.ics?token=s3cret-Tok", NULL, &r);
	ck_assert_int_eq(r.status, 401);
	resp_clear(&r);
	http("GET", "/nope?token=wrong", NULL, &r);
	ck_assert_int_eq(r.status, 401);
	resp_clear(&r);
	http("GET", "/healthz", NULL, &r);
	ck_assert_int_eq(r.status, 401);
	resp_clear(&r);
	http("GET", "/calendar.ics", "Authorization: Bearer wrong\r\n", &r);
	ck_assert_int_eq(r.status, 401);
	resp_clear(&r);
	http("GET", "/calendar.ics?token=s3cret-Token&category=study", NULL,
	    &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Cache-Control", v, sizeof v),
	    "private, max-age=600");
	resp_clear(&r);
	http("GET", "/calendar.ics", "Authorization: Bearer s3cret-Token\r\n",
	    &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);
	http("GET", "/calendar.ics?token=s3cret%2DToken", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_clear(&r);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	log_init("check_export", 0);
	logtext = tu_read(logpath, NULL);
	ck_assert_ptr_nonnull(logtext);
	ck_assert_ptr_nonnull(strstr(logtext, "http: GET /calendar.ics"));
	ck_assert_ptr_null(strstr(logtext, "s3cret"));
	ck_assert_ptr_null(strstr(logtext, "token="));
	free(logtext);
	free(logpath);
}
END_TEST

static Suite *
export_suite(void)
{
	Suite *s = suite_create("export");
	TCase *tc;

	tc = tcase_create("fold");
	tcase_add_test(tc, test_fold_ascii);
	tcase_add_test(tc, test_fold_multibyte);
	tcase_add_test(tc, test_fold_refolds_source);
	tcase_add_test(tc, test_token_equal);
	suite_add_tcase(s, tc);

	tc = tcase_create("render");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_header_and_folding);
	tcase_add_test(tc, test_parses_with_libical);
	tcase_add_test(tc, test_series_kept_whole);
	tcase_add_test(tc, test_vtimezones);
	tcase_add_test(tc, test_zone_conflict_known_name);
	tcase_add_test(tc, test_zone_conflict_custom_renamed);
	tcase_add_test(tc, test_filters);
	tcase_add_test(tc, test_duplicate_uid_reported);
	tcase_add_test(tc, test_nouid_and_bad_end);
	tcase_add_test(tc, test_version_changes_only_with_content);
	tcase_add_test(tc, test_version_on_recategorised);
	suite_add_tcase(s, tc);

	tc = tcase_create("http");
	tcase_add_checked_fixture(tc, http_setup, http_teardown);
	tcase_add_test(tc, test_http_get);
	tcase_add_test(tc, test_http_conditional);
	tcase_add_test(tc, test_http_etag_follows_feeds);
	tcase_add_test(tc, test_http_gzip);
	tcase_add_test(tc, test_http_head);
	tcase_add_test(tc, test_http_bad_requests);
	tcase_add_test(tc, test_http_healthz);
	tcase_add_test(tc, test_ctl_ics);
	tcase_add_test(tc, test_set_config_rebinds);
	tcase_add_test(tc, test_http_ipv6);
	suite_add_tcase(s, tc);

	tc = tcase_create("token");
	tcase_add_checked_fixture(tc, token_setup, http_teardown);
	tcase_add_test(tc, test_http_token);
	suite_add_tcase(s, tc);
	return s;
}

/* --render CONF [--feed F] [--branch B] [--category C,...]: print the
 * body for the database of CONF. */
static int
render_main(int argc, char **argv)
{
	struct export_filter f;
	struct config *c;
	struct store *s;
	char *cause = NULL, *out;
	size_t len;
	int i;

	memset(&f, 0, sizeof f);
	for (i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--feed") == 0)
			f.feed = argv[i + 1];
		else if (strcmp(argv[i], "--branch") == 0)
			f.branch = argv[i + 1];
		else if (strcmp(argv[i], "--category") == 0) {
			char *list = xstrdup(argv[i + 1]), *p = list, *w;

			while ((w = strsep(&p, ",")) != NULL) {
				int cat = classify_category_from_name(w);

				if (cat < 0) {
					fprintf(stderr, "bad category %s\n", w);
					return 2;
				}
				f.categories |= 1u << cat;
			}
			free(list);
		}
	}
	if (config_load(argv[2], &c, &cause) == -1 ||
	    (s = store_open(c->database, STORE_RDONLY, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	if (export_render(s, c, &f, &out, &len, &cause) == -1) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	fwrite(out, 1, len, stdout);
	free(out);
	store_close(s);
	config_free(c);
	tz_shutdown();
	return 0;
}

int
main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	icalerror_set_errors_are_fatal(0);
	/* The server closes on a client still writing (the 100 KB query). */
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && strcmp(argv[1], "--render") == 0)
		return render_main(argc, argv);
	log_init("check_export", 0);
	sr = srunner_create(export_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
