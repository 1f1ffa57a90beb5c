/* Tests for classify.c: category and meeting-type names and aliases. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "djcal/classify.h"

static struct classifier *cls;

static void
setup(void)
{
	cls = classifier_new();
}

static void
teardown(void)
{
	classifier_free(cls);
	cls = NULL;
}

/* One item as ingest sees it: CATEGORIES values (NULL-terminated, at most
 * three), SUMMARY, the feed's category, and what should come out. */
struct item_case {
	const char		*cats[3];
	const char		*summary;
	enum dj_category	 fallback;
	enum dj_category	 category;
	enum dj_meeting		 meeting;
};

static const struct item_case item_cases[] = {
	/* Same length (4 characters): the earliest match wins. */
	{ { NULL }, "十一月主题党日：走进社区开展志愿服务", DJ_CAT_OTHER,
	    DJ_CAT_PARTY_DAY, DJ_MT_NONE },
	{ { NULL }, "走进社区开展志愿服务暨十一月主题党日", DJ_CAT_OTHER,
	    DJ_CAT_VOLUNTEER, DJ_MT_NONE },
	/* 支部党员大会 holds 党员大会: the longest wins. */
	{ { NULL }, "第四季度支部党员大会", DJ_CAT_OTHER, DJ_CAT_STUDY,
	    DJ_MT_MEMBER_ASSEMBLY },
	{ { NULL }, "专题党课：学习贯彻党的二十大精神", DJ_CAT_OTHER,
	    DJ_CAT_STUDY, DJ_MT_LECTURE },
	{ { NULL }, "10月支委会", DJ_CAT_OTHER, DJ_CAT_STUDY,
	    DJ_MT_BRANCH_COMMITTEE },
	{ { NULL }, "第一党小组会：交流学习体会", DJ_CAT_OTHER, DJ_CAT_STUDY,
	    DJ_MT_GROUP },
	{ { NULL }, "党委理论学习中心组（扩大）学习", DJ_CAT_OTHER,
	    DJ_CAT_STUDY, DJ_MT_THEORY_STUDY },
	{ { NULL }, "集中学习：《习近平谈治国理政》第四卷", DJ_CAT_OTHER,
	    DJ_CAT_STUDY, DJ_MT_THEORY_STUDY },
	{ { NULL }, "三会一课台账检查", DJ_CAT_OTHER, DJ_CAT_STUDY,
	    DJ_MT_NONE },
	{ { NULL }, "结对帮扶困难党员走访", DJ_CAT_OTHER, DJ_CAT_VOLUNTEER,
	    DJ_MT_NONE },
	{ { NULL }, "入户宣传垃圾分类", DJ_CAT_OTHER, DJ_CAT_VOLUNTEER,
	    DJ_MT_NONE },
	{ { NULL }, "支部标准化规范化建设自查材料报送", DJ_CAT_OTHER,
	    DJ_CAT_STANDARDIZATION, DJ_MT_NONE },
	{ { NULL }, "创建八星党支部迎检", DJ_CAT_OTHER,
	    DJ_CAT_STANDARDIZATION, DJ_MT_NONE },
	{ { NULL }, "Monthly Party Day at the museum", DJ_CAT_OTHER,
	    DJ_CAT_PARTY_DAY, DJ_MT_NONE },
	{ { NULL }, "VOLUNTEERING: river clean-up", DJ_CAT_OTHER,
	    DJ_CAT_VOLUNTEER, DJ_MT_NONE },
	/* CATEGORIES come first, case-insensitive. */
	{ { "STUDY", NULL }, "主题党日", DJ_CAT_OTHER, DJ_CAT_STUDY,
	    DJ_MT_NONE },
	{ { "Meeting,志愿服务", NULL }, "主题党日", DJ_CAT_OTHER,
	    DJ_CAT_VOLUNTEER, DJ_MT_NONE },
	{ { "Meeting", " Party-Day ", NULL }, NULL, DJ_CAT_OTHER,
	    DJ_CAT_PARTY_DAY, DJ_MT_NONE },
	{ { "会议，标准化", NULL }, NULL, DJ_CAT_OTHER,
	    DJ_CAT_STANDARDIZATION, DJ_MT_NONE },
	{ { "other", NULL }, "主题党日", DJ_CAT_STUDY, DJ_CAT_OTHER,
	    DJ_MT_NONE },
	/* A value equal to no alias does not match by substring. */
	{ { "学习强国", NULL }, "会议", DJ_CAT_PARTY_DAY, DJ_CAT_PARTY_DAY,
	    DJ_MT_NONE },
	{ { "study", "lecture", NULL }, "月度例会", DJ_CAT_OTHER, DJ_CAT_STUDY,
	    DJ_MT_LECTURE },
	/* Machine names are not summary keywords. */
	{ { NULL }, "Other business; group photo", DJ_CAT_STUDY, DJ_CAT_STUDY,
	    DJ_MT_NONE },
	/* Nothing: the fallback. */
	{ { NULL }, "年度工作总结", DJ_CAT_VOLUNTEER, DJ_CAT_VOLUNTEER,
	    DJ_MT_NONE },
	{ { NULL }, "", DJ_CAT_OTHER, DJ_CAT_OTHER, DJ_MT_NONE },
	{ { NULL }, NULL, DJ_CAT_OTHER, DJ_CAT_OTHER, DJ_MT_NONE },
	/* Meeting types only within study. */
	{ { NULL }, "支委会", DJ_CAT_OTHER, DJ_CAT_STUDY,
	    DJ_MT_BRANCH_COMMITTEE },
	{ { "party-day", NULL }, "支委会", DJ_CAT_OTHER, DJ_CAT_PARTY_DAY,
	    DJ_MT_NONE },
};

static size_t
ncats_of(const struct item_case *c)
{
	size_t n = 0;

	while (n < 3 && c->cats[n] != NULL)
		n++;
	return n;
}

START_TEST(test_item)
{
	const struct item_case *c = &item_cases[_i];
	enum dj_category cat;
	enum dj_meeting mt;

	cat = classifier_category(cls, c->cats, ncats_of(c), c->summary,
	    c->fallback);
	ck_assert_msg(cat == c->category, "case %d (%s): category %s, "
	    "want %s", _i, c->summary != NULL ? c->summary : "NULL",
	    classify_category_name(cat), classify_category_name(c->category));
	mt = classifier_meeting(cls, c->cats, ncats_of(c), c->summary, cat);
	ck_assert_msg(mt == c->meeting, "case %d (%s): meeting %d, want %d",
	    _i, c->summary != NULL ? c->summary : "NULL", mt, c->meeting);
}
END_TEST

START_TEST(test_names_round_trip)
{
	int i;

	for (i = 0; i < DJ_CAT_COUNT; i++)
		ck_assert_int_eq(classify_category_from_name(
		    classify_category_name((enum dj_category)i)), i);
	for (i = DJ_MT_NONE + 1; i < DJ_MT_COUNT; i++)
		ck_assert_int_eq(classify_meeting_from_name(
		    classify_meeting_name((enum dj_meeting)i)), i);
	ck_assert_str_eq(classify_category_name(DJ_CAT_PARTY_DAY),
	    "party-day");
	ck_assert_int_eq(classify_category_from_name("Standardization"),
	    DJ_CAT_STANDARDIZATION);
	ck_assert_str_eq(classify_meeting_name(DJ_MT_THEORY_STUDY),
	    "theory-study");
	ck_assert_ptr_null(classify_meeting_name(DJ_MT_NONE));
}
END_TEST

START_TEST(test_configured_alias_extends)
{
	const char *cats[] = { "Branch Life" };

	ck_assert_int_eq(classifier_category(cls, cats, 1, "读书会",
	    DJ_CAT_OTHER), DJ_CAT_OTHER);
	classifier_add_category_alias(cls, DJ_CAT_STUDY, "读书会");
	classifier_add_category_alias(cls, DJ_CAT_PARTY_DAY, "branch life");
	ck_assert_int_eq(classifier_category(cls, NULL, 0, "青年读书会第三期",
	    DJ_CAT_OTHER), DJ_CAT_STUDY);
	ck_assert_int_eq(classifier_category(cls, cats, 1, "读书会",
	    DJ_CAT_OTHER), DJ_CAT_PARTY_DAY);
	classifier_add_meeting_alias(cls, DJ_MT_LECTURE, "微党课");
	ck_assert_int_eq(classifier_meeting(cls, NULL, 0, "七一微党课",
	    DJ_CAT_STUDY), DJ_MT_LECTURE);
}
END_TEST

START_TEST(test_configured_alias_overrides_builtin)
{
	/* 帮扶 is built in as volunteer; a branch that files it under
	 * standardization says so in its config, and that wins. */
	classifier_add_category_alias(cls, DJ_CAT_STANDARDIZATION, "帮扶");
	ck_assert_int_eq(classifier_category(cls, NULL, 0, "帮扶台账整理",
	    DJ_CAT_OTHER), DJ_CAT_STANDARDIZATION);
	/* The longer built-in 结对帮扶 still wins by length. */
	ck_assert_int_eq(classifier_category(cls, NULL, 0, "结对帮扶",
	    DJ_CAT_OTHER), DJ_CAT_VOLUNTEER);
	/* Configured machine names become summary keywords too. */
	classifier_add_meeting_alias(cls, DJ_MT_GROUP, "GROUP");
	ck_assert_int_eq(classifier_meeting(cls, NULL, 0, "Study group",
	    DJ_CAT_STUDY), DJ_MT_GROUP);
}
END_TEST

START_TEST(test_long_summary)
{
	char *s;
	size_t i, n = 4000;

	/* Longer than the stack buffer: the heap path. */
	s = malloc(n * 3 + sizeof "主题党日");
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * 3, "会", 3);
	strcpy(s + n * 3, "主题党日");
	ck_assert_int_eq(classifier_category(cls, NULL, 0, s, DJ_CAT_OTHER),
	    DJ_CAT_PARTY_DAY);
	free(s);
}
END_TEST

START_TEST(test_many_items)
{
	const char *cats[] = { "Meeting", "Branch" };
	int i, n = 0;

	/* Ingest classifies every component of big feeds. */
	for (i = 0; i < 100000; i++)
		n += classifier_category(cls, cats, 2,
		    "2024年第四季度支部党员大会暨专题党课", DJ_CAT_OTHER) ==
		    DJ_CAT_STUDY;
	ck_assert_int_eq(n, 100000);
}
END_TEST

START_TEST(test_bad_names)
{
	ck_assert_int_eq(classify_category_from_name("studies"), -1);
	ck_assert_int_eq(classify_category_from_name(""), -1);
	ck_assert_int_eq(classify_category_from_name(NULL), -1);
	ck_assert_int_eq(classify_meeting_from_name("党课"), -1);
	ck_assert_int_eq(classify_meeting_from_name(NULL), -1);
	ck_assert_str_eq(classify_category_name((enum dj_category)99),
	    "other");
	ck_assert_ptr_null(classify_meeting_name((enum dj_meeting)99));
}
END_TEST

START_TEST(test_empty_aliases_ignored)
{
	const char *cats[] = { "", " , ，", NULL };

	/* An empty alias would be a substring of every summary. */
	classifier_add_category_alias(cls, DJ_CAT_VOLUNTEER, "");
	classifier_add_category_alias(cls, DJ_CAT_VOLUNTEER, "   ");
	classifier_add_category_alias(cls, DJ_CAT_VOLUNTEER, NULL);
	classifier_add_category_alias(cls, (enum dj_category)42, "x");
	classifier_add_meeting_alias(cls, DJ_MT_NONE, "会议");
	ck_assert_int_eq(classifier_category(cls, cats, 3, "年度总结",
	    DJ_CAT_OTHER), DJ_CAT_OTHER);
	ck_assert_int_eq(classifier_meeting(cls, cats, 3, "会议",
	    DJ_CAT_STUDY), DJ_MT_NONE);
}
END_TEST

START_TEST(test_truncated_utf8_separator)
{
	const char *cats[] = { "study\xef", "\xef\xbc" };

	/* A value cut inside the full-width comma must not be read past. */
	ck_assert_int_eq(classifier_category(cls, cats, 2, NULL,
	    DJ_CAT_OTHER), DJ_CAT_OTHER);
}
END_TEST

static Suite *
classify_suite(void)
{
	Suite *s = suite_create("classify");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_item, 0,
	    (int)(sizeof item_cases / sizeof item_cases[0]));
	tcase_add_test(tc, test_names_round_trip);
	tcase_add_test(tc, test_configured_alias_extends);
	tcase_add_test(tc, test_configured_alias_overrides_builtin);
	tcase_add_test(tc, test_long_summary);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_many_items);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_empty_aliases_ignored);
	tcase_add_test(tc, test_truncated_utf8_separator);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(classify_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
