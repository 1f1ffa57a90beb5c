/*
 * Tests for clitext.c, the pure parts of the djcal CLI: display width of
 * mixed Chinese and ASCII text (under a UTF-8 locale and under LANG=C),
 * truncation, table alignment, colour and sanitising, and the CLI's time
 * arguments with a fixed "now".  The commands themselves are driven by
 * tests/it/cli.sh.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "djcal/clitext.h"
#include "djcal/proto.h"
#include "djcal/tz.h"
#include "djcal/xmalloc.h"

/* The locales the width tests run under: wcwidth answers in the first,
 * the built-in table in the second. */
static const char *const locales[] = { "C.UTF-8", "C" };

static void
use_locale(int i)
{
	if (setlocale(LC_CTYPE, locales[i]) == NULL)
		/* C.UTF-8 is built into glibc >= 2.35; without it the
		 * built-in table is tested twice. */
		setlocale(LC_CTYPE, "C");
}

static void
reset_locale(void)
{
	setlocale(LC_CTYPE, "C");
}

/* Display width */

struct width_case {
	const char	*s;
	int		 width;
};

static const struct width_case width_cases[] = {
	{ "", 0 },
	{ "abc", 3 },
	{ "支委会", 6 },
	{ "12月支委会", 10 },
	{ "12月主题党日：参观红色教育基地", 30 },	/* fullwidth colon */
	{ "Room 301 三楼会议室", 19 },
	{ "e\xcc\x81", 1 },			/* e + combining acute */
	{ "\xe3\x80\x80", 2 },			/* ideographic space */
	{ "\xef\xbc\x81", 2 },			/* fullwidth ! */
	{ "\xea\xb0\x80", 2 },			/* Hangul syllable */
	{ "\xe2\x80\x8b", 0 },			/* zero-width space */
	{ "\xff\xfe", 2 },			/* not UTF-8: a column each */
	{ "\xe6\x94", 2 },			/* a cut sequence */
	{ "a\xed\xa0\x80", 4 },			/* a surrogate: 3 bad bytes */
	{ "\xf0\xa0\x80\x80", 2 },		/* U+20000, CJK Ext. B */
};

START_TEST(test_width)
{
	size_t i;

	use_locale(_i);
	for (i = 0; i < sizeof width_cases / sizeof width_cases[0]; i++)
		ck_assert_msg(clitext_width(width_cases[i].s) ==
		    width_cases[i].width, "%s: width of \"%s\" is %d, not %d",
		    locales[_i], width_cases[i].s,
		    clitext_width(width_cases[i].s), width_cases[i].width);
	reset_locale();
}
END_TEST

START_TEST(test_cp_width)
{
	use_locale(_i);
	ck_assert_int_eq(clitext_cp_width('a'), 1);
	ck_assert_int_eq(clitext_cp_width('\t'), 0);
	ck_assert_int_eq(clitext_cp_width(0x4e00), 2);	/* 一 */
	ck_assert_int_eq(clitext_cp_width(0x9fa5), 2);
	ck_assert_int_eq(clitext_cp_width(0xff1a), 2);	/* ： */
	ck_assert_int_eq(clitext_cp_width(0x3001), 2);	/* 、 */
	ck_assert_int_eq(clitext_cp_width(0x300), 0);
	ck_assert_int_eq(clitext_cp_width(0xe9), 1);	/* é */
	ck_assert_int_eq(clitext_cp_width(0x1f600), 2);	/* emoji */
	reset_locale();
}
END_TEST

/* Truncation */

struct trunc_case {
	const char	*s;
	int		 width;
	const char	*out;
};

static const struct trunc_case trunc_cases[] = {
	{ "abcdef", 6, "abcdef" },
	{ "abcdef", 4, "abc…" },
	{ "abcdef", 1, "…" },
	{ "abcdef", 0, "" },
	{ "支委会会议", 10, "支委会会议" },
	{ "支委会会议", 5, "支委…" },
	/* A wide character that would leave the line one column too long
	 * is dropped whole. */
	{ "支委会会议", 4, "支…" },
	{ "a支b", 3, "a…" },
	{ "a支b", 4, "a支b" },
	{ "e\xcc\x81" "abc", 2, "e\xcc\x81…" },
	{ "", 3, "" },
};

START_TEST(test_truncate)
{
	const struct trunc_case *t = &trunc_cases[_i];
	char *s;

	use_locale(0);
	s = clitext_truncate(t->s, t->width);
	ck_assert_str_eq(s, t->out);
	ck_assert_int_le(clitext_width(s), t->width < 0 ? 0 : t->width);
	free(s);
	reset_locale();
}
END_TEST

/* Tables */

static char *
print_table(struct clitext_table *t, int color, int total)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	clitext_table_print(t, f, color, total);
	fclose(f);
	return buf;
}

/* Remove SGR sequences ("\033[...m"). */
static char *
strip_sgr(const char *s)
{
	char *out = xstrdup(s), *q = out;

	while (*s != '\0') {
		if (s[0] == '\033' && s[1] == '[') {
			s += 2;
			while (*s != '\0' && *s != 'm')
				s++;
			if (*s == 'm')
				s++;
			continue;
		}
		*q++ = *s++;
	}
	*q = '\0';
	return out;
}

/* The display column where each "  "-separated cell of each line starts
 * must agree across lines: checked on the expected text itself below. */
START_TEST(test_table_cjk_alignment)
{
	static const char *const head[] = { "WHEN", "SUMMARY", "FEED" };
	static const char *const r1[] = { "12月8日", "支委会", "a" };
	static const char *const r2[] = { "Tue 8 Dec", "Weekly study", "bb" };
	static const char *const r3[] = { "周二", "主题党日：参观", "机关" };
	struct clitext_table *t;
	char *out;

	use_locale(_i);
	t = clitext_table_new(3);
	clitext_table_header(t, head);
	clitext_table_row(t, r1, NULL);
	clitext_table_row(t, r2, NULL);
	clitext_table_row(t, r3, NULL);
	out = print_table(t, 0, 0);
	ck_assert_str_eq(out,
	    "WHEN       SUMMARY         FEED\n"
	    "12月8日    支委会          a\n"
	    "Tue 8 Dec  Weekly study    bb\n"
	    "周二       主题党日：参观  机关\n");
	free(out);
	clitext_table_free(t);
	reset_locale();
}
END_TEST

START_TEST(test_table_color)
{
	static const char *const head[] = { "CATEGORY", "SUMMARY" };
	static const char *const row[] = { "学习", "支委会" };
	static const char *const sgr[] = { "34", NULL };
	struct clitext_table *t;
	char *plain, *color, *stripped;

	t = clitext_table_new(2);
	clitext_table_header(t, head);
	clitext_table_row(t, row, sgr);
	plain = print_table(t, 0, 0);
	color = print_table(t, 1, 0);
	ck_assert_ptr_null(strchr(plain, '\033'));
	ck_assert_ptr_nonnull(strstr(color, "\033[34m学习\033[0m"));
	ck_assert_ptr_nonnull(strstr(color, "\033[1mCATEGORY\033[0m"));
	/* Escapes never count toward the width. */
	stripped = strip_sgr(color);
	ck_assert_str_eq(stripped, plain);
	free(plain);
	free(color);
	free(stripped);
	clitext_table_free(t);
}
END_TEST

START_TEST(test_table_truncate_and_fit)
{
	static const char *const head[] = { "A", "SUMMARY", "B" };
	static const char *const row[] = { "x",
	    "学习贯彻党的二十大精神专题党课暨十二月主题党日活动", "yy" };
	struct clitext_table *t;
	char *out, *line, *save = NULL;

	use_locale(1);
	t = clitext_table_new(3);
	clitext_table_header(t, head);
	clitext_table_row(t, row, NULL);
	clitext_table_max(t, 1, 20);
	out = print_table(t, 0, 0);
	ck_assert_str_eq(out,
	    "A  SUMMARY               B\n"
	    "x  学习贯彻党的二十大…   yy\n");
	free(out);
	/* A 20-column terminal: every line fits. */
	clitext_table_max(t, 1, 0);
	out = print_table(t, 0, 20);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		ck_assert_int_le(clitext_width(line), 20);
	free(out);
	clitext_table_free(t);
	reset_locale();
}
END_TEST

/* Narrowing to a terminal: kept columns stay whole, the lowest priority
 * gives first, then the widest of the rest. */
START_TEST(test_table_fit_priority)
{
	static const char *const head[] = { "WHEN", "SUMMARY", "FEED" };
	static const char *const row[] = { "12月8日 周二 15:00-16:30",
	    "学习贯彻党的二十大精神专题党课", "example-study" };
	struct clitext_table *t;
	char *out;

	use_locale(1);
	t = clitext_table_new(3);
	clitext_table_header(t, head);
	clitext_table_row(t, row, NULL);
	clitext_table_keep(t, 0);
	clitext_table_priority(t, 1, 2);
	/* Natural: 24 + 2 + 30 + 2 + 13 = 71.  At 60 the feed gives 5
	 * (to 8), then the summary 6 (to 24). */
	out = print_table(t, 0, 60);
	ck_assert_str_eq(out,
	    "WHEN                      SUMMARY                   FEED\n"
	    "12月8日 周二 15:00-16:30  学习贯彻党的二十大精神…   example…\n");
	free(out);
	/* Too narrow for the kept column: lines stay longer. */
	out = print_table(t, 0, 20);
	ck_assert_str_eq(out,
	    "WHEN                      SUMMARY   FEED\n"
	    "12月8日 周二 15:00-16:30  学习贯…   example…\n");
	free(out);
	clitext_table_free(t);
	reset_locale();
}
END_TEST

START_TEST(test_table_sanitize_and_trailing)
{
	static const char *const head[] = { "NAME", "ERROR" };
	static const char *const r1[] = { "a\033[2Jb", NULL };
	static const char *const r2[] = { "tab\there", "line1\nline2" };
	static const char *const r3[] = { "c1\xc2\x9b" "x", "" };
	struct clitext_table *t;
	char *out;

	t = clitext_table_new(2);
	clitext_table_header(t, head);
	clitext_table_row(t, r1, NULL);
	clitext_table_row(t, r2, NULL);
	clitext_table_row(t, r3, NULL);
	out = print_table(t, 0, 0);
	/* No escape reaches the terminal; no line ends in blanks. */
	ck_assert_str_eq(out,
	    "NAME      ERROR\n"
	    "a?[2Jb\n"
	    "tab here  line1 line2\n"
	    "c1?x\n");
	free(out);
	clitext_table_free(t);
}
END_TEST

START_TEST(test_table_right)
{
	static const char *const head[] = { "NAME", "ITEMS", "X" };
	static const char *const r1[] = { "study", "6", "-" };
	static const char *const r2[] = { "支部", "1200", "-" };
	struct clitext_table *t;
	char *out;

	t = clitext_table_new(3);
	clitext_table_header(t, head);
	clitext_table_row(t, r1, NULL);
	clitext_table_row(t, r2, NULL);
	clitext_table_right(t, 1);
	out = print_table(t, 0, 0);
	ck_assert_str_eq(out,
	    "NAME   ITEMS  X\n"
	    "study      6  -\n"
	    "支部    1200  -\n");
	free(out);
	clitext_table_free(t);
}
END_TEST

/* Time arguments: now is 2026-12-01 08:00 in Shanghai (a Tuesday). */

#define NOW_SHANGHAI	"2026-12-01T08:00:00+08:00"

struct time_case {
	const char	*arg;
	const char	*want;		/* RFC 3339 in Shanghai; NULL: bad */
};

static const struct time_case time_cases[] = {
	{ "now", "2026-12-01T08:00:00+08:00" },
	{ "NOW", "2026-12-01T08:00:00+08:00" },
	{ "today", "2026-12-01T00:00:00+08:00" },
	{ "tomorrow", "2026-12-02T00:00:00+08:00" },
	{ "yesterday", "2026-11-30T00:00:00+08:00" },
	{ "今天", "2026-12-01T00:00:00+08:00" },
	{ "明天", "2026-12-02T00:00:00+08:00" },
	{ "昨天", "2026-11-30T00:00:00+08:00" },
	{ "+3d", "2026-12-04T00:00:00+08:00" },
	{ "+0d", "2026-12-01T00:00:00+08:00" },
	{ "-1d", "2026-11-30T00:00:00+08:00" },
	{ "+31d", "2027-01-01T00:00:00+08:00" },
	{ "+2w", "2026-12-15T00:00:00+08:00" },
	{ "+3h", "2026-12-01T11:00:00+08:00" },
	{ "-30m", "2026-12-01T07:30:00+08:00" },
	{ "2026-12-08", "2026-12-08T00:00:00+08:00" },
	{ "2026-12-08 15:00", "2026-12-08T15:00:00+08:00" },
	{ "2026-12-08T15:00", "2026-12-08T15:00:00+08:00" },
	{ "2026-12-08 15:00:30", "2026-12-08T15:00:30+08:00" },
	{ "2026-12-08T07:00:00Z", "2026-12-08T15:00:00+08:00" },
	{ "2026-12-08T15:00:00+08:00", "2026-12-08T15:00:00+08:00" },
	{ "2026-12-08T02:00:00-05:00", "2026-12-08T15:00:00+08:00" },
	{ "2026-12-08T07:00:00.250Z", "2026-12-08T15:00:00+08:00" },
	{ "2028-02-29", "2028-02-29T00:00:00+08:00" },
	{ "", NULL },
	{ "tomorow", NULL },
	{ "today!", NULL },
	{ "+3", NULL },
	{ "+3x", NULL },
	{ "+3dd", NULL },
	{ "+d", NULL },
	{ "3d", NULL },
	{ "+999999d", NULL },
	{ "+99999999999999999999d", NULL },
	{ "2026-02-30", NULL },
	{ "2027-02-29", NULL },
	{ "2026-13-01", NULL },
	{ "2026-12-8", NULL },
	{ "2026-12-08 25:00", NULL },
	{ "2026-12-08 15:00 ", NULL },
	{ "2026-12-08T15:00:00+8", NULL },
	{ "12/08/2026", NULL },
};

START_TEST(test_time_arg)
{
	const struct time_case *c = &time_cases[_i];
	const struct tz *z = tz_system("Asia/Shanghai");
	time_t now, t = 0;
	char *got;
	int rc;

	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(proto_parse_time(NOW_SHANGHAI, z, &now, NULL), 0);
	rc = clitext_parse_time(c->arg, now, z, &t);
	if (c->want == NULL) {
		ck_assert_msg(rc == -1, "\"%s\" was accepted", c->arg);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\" was refused", c->arg);
	got = proto_format_time(t, 0, z);
	ck_assert_msg(strcmp(got, c->want) == 0, "\"%s\": %s, not %s",
	    c->arg, got, c->want);
	free(got);
}
END_TEST

/* Days count calendar days, so midnight-based forms follow the wall clock
 * across a DST change (New York springs forward on 2026-03-08). */
START_TEST(test_time_arg_dst)
{
	const struct tz *z = tz_system("America/New_York");
	time_t now, t;
	char *got;

	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(proto_parse_time("2026-03-08T12:00:00-04:00", z,
	    &now, NULL), 0);
	ck_assert_int_eq(clitext_parse_time("today", now, z, &t), 0);
	got = proto_format_time(t, 0, z);
	ck_assert_str_eq(got, "2026-03-08T00:00:00-05:00");
	free(got);
	ck_assert_int_eq(clitext_parse_time("tomorrow", now, z, &t), 0);
	got = proto_format_time(t, 0, z);
	ck_assert_str_eq(got, "2026-03-09T00:00:00-04:00");
	free(got);
	ck_assert_int_eq(clitext_parse_time("+24h", now, z, &t), 0);
	ck_assert_int_eq((long long)(t - now), 86400);
}
END_TEST

START_TEST(test_days_between)
{
	const struct tz *z = tz_system("Asia/Shanghai");
	time_t a, b;

	ck_assert_int_eq(proto_parse_time("2026-12-01T08:00:00+08:00", z, &a,
	    NULL), 0);
	ck_assert_int_eq(proto_parse_time("2026-12-05T18:00:00+08:00", z, &b,
	    NULL), 0);
	ck_assert_int_eq(clitext_days_between(z, a, b), 4);
	ck_assert_int_eq(clitext_days_between(z, b, a), -4);
	ck_assert_int_eq(clitext_days_between(z, a, a), 0);
	/* One minute, but across local midnight: a day. */
	ck_assert_int_eq(proto_parse_time("2026-12-01T23:59:00+08:00", z, &a,
	    NULL), 0);
	ck_assert_int_eq(proto_parse_time("2026-12-02T00:00:00+08:00", z, &b,
	    NULL), 0);
	ck_assert_int_eq(clitext_days_between(z, a, b), 1);
	/* The local date, not the UTC one (16:00Z is midnight in Shanghai). */
	ck_assert_int_eq(proto_parse_time("2026-12-01T15:59:00Z", z, &a,
	    NULL), 0);
	ck_assert_int_eq(proto_parse_time("2026-12-01T16:00:00Z", z, &b,
	    NULL), 0);
	ck_assert_int_eq(clitext_days_between(z, a, b), 1);
	ck_assert_int_eq(clitext_days_between(NULL, a, b), 0);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc;
	int nloc = (int)(sizeof locales / sizeof locales[0]);

	tc = tcase_create("width");
	tcase_add_loop_test(tc, test_width, 0, nloc);
	tcase_add_loop_test(tc, test_cp_width, 0, nloc);
	tcase_add_loop_test(tc, test_truncate, 0,
	    (int)(sizeof trunc_cases / sizeof trunc_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	tcase_add_loop_test(tc, test_table_cjk_alignment, 0, nloc);
	tcase_add_test(tc, test_table_color);
	tcase_add_test(tc, test_table_truncate_and_fit);
	tcase_add_test(tc, test_table_fit_priority);
	tcase_add_test(tc, test_table_sanitize_and_trailing);
	tcase_add_test(tc, test_table_right);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_loop_test(tc, test_time_arg, 0,
	    (int)(sizeof time_cases / sizeof time_cases[0]));
	tcase_add_test(tc, test_time_arg_dst);
	tcase_add_test(tc, test_days_between);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cli_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
