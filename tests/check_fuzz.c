/*
 * Replays the fuzz targets' inputs without clang: every seed (the
 * iCalendar corpus, tests/data, examples, the configs in etc and
 * tests/data, tests/fuzz/seeds) and every input a fuzzer found and we
 * kept (tests/fuzz/regress/<target>/) goes through the same entry point
 * that `make fuzz` builds, cut to the same -max_len.  One loop test per
 * file, so a crash names its index; DJCAL_FUZZ_VERBOSE=1 prints each
 * file as it is read.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "djcal/xmalloc.h"
#include "testutil.h"

#include "fuzz/fuzz.h"
#include "fuzz/fuzz_config.c"
#include "fuzz/fuzz_ingest.c"
#include "fuzz/fuzz_proto.c"

/* The -max_len of each target in the Makefile's fuzz rule. */
#define MAX_INGEST	(1024 * 1024)
#define MAX_PROTO	(1024 * 1024 + 104858)	/* 1.1 MiB */
#define MAX_CONFIG	(64 * 1024)

struct source {
	const char	*dir;
	const char	*suffix[2];	/* NULL: any file */
};

struct target {
	const char	*name;
	int		(*entry)(const uint8_t *, size_t);
	void		(*cleanup)(void);
	size_t		 max_len;
	struct source	 src[6];
	char		**files;	/* sorted */
	size_t		 nfiles;
};

static struct target targets[] = {
	{ "ingest", fuzz_ingest, fuzz_ingest_cleanup, MAX_INGEST, {
	    { "tests/corpus", { ".ics", ".ical" } },
	    { "tests/data", { ".ics", NULL } },
	    { "examples", { ".ics", NULL } },
	    { "tests/fuzz/seeds/ingest", { NULL, NULL } },
	    { "tests/fuzz/regress/ingest", { NULL, NULL } },
	}, NULL, 0 },
	{ "proto", fuzz_proto, fuzz_proto_cleanup, MAX_PROTO, {
	    { "tests/fuzz/seeds/proto", { NULL, NULL } },
	    { "tests/fuzz/regress/proto", { NULL, NULL } },
	}, NULL, 0 },
	{ "config", fuzz_config, fuzz_config_cleanup, MAX_CONFIG, {
	    { "etc", { ".conf", NULL } },
	    { "tests/data", { ".conf", NULL } },
	    { "tests/fuzz/seeds/config", { NULL, NULL } },
	    { "tests/fuzz/regress/config", { NULL, NULL } },
	}, NULL, 0 },
};
#define NTARGETS	(sizeof targets / sizeof targets[0])

/* nftw has no argument for its callback: the walk in progress. */
static struct target *walk_target;
static const struct source *walk_source;

static int
has_suffix(const char *path, const char *suffix)
{
	size_t n = strlen(path), m = strlen(suffix);

	return n >= m && strcmp(path + n - m, suffix) == 0;
}

static int
walk_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	struct target *t = walk_target;
	const struct source *s = walk_source;
	const char *base = path + ftw->base;

	(void)sb;
	if (type != FTW_F || *base == '.')
		return 0;
	if (s->suffix[0] != NULL && !has_suffix(path, s->suffix[0]) &&
	    (s->suffix[1] == NULL || !has_suffix(path, s->suffix[1])))
		return 0;
	t->files = xreallocarray(t->files, t->nfiles + 1, sizeof *t->files);
	t->files[t->nfiles++] = xstrdup(path);
	return 0;
}

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
collect(struct target *t)
{
	size_t i;

	for (i = 0; i < sizeof t->src / sizeof t->src[0] && t->src[i].dir != NULL; i++) {
		walk_target = t;
		walk_source = &t->src[i];
		/* A missing directory (no regression kept yet) is fine. */
		(void)nftw(t->src[i].dir, walk_cb, 16, FTW_PHYS);
	}
	qsort(t->files, t->nfiles, sizeof *t->files, path_cmp);
}

static void
replay(struct target *t, int i)
{
	char *data;
	size_t len;

	if (getenv("DJCAL_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "fuzz %s: %s\n", t->name, t->files[i]);
	data = tu_read(t->files[i], &len);
	ck_assert_msg(data != NULL, "cannot read %s", t->files[i]);
	if (len > t->max_len)
		len = t->max_len;
	ck_assert_msg(t->entry((const uint8_t *)data, len) == 0, "%s",
	    t->files[i]);
	free(data);
}

START_TEST(test_replay_ingest)
{
	replay(&targets[0], _i);
}
END_TEST

START_TEST(test_replay_proto)
{
	replay(&targets[1], _i);
}
END_TEST

START_TEST(test_replay_config)
{
	replay(&targets[2], _i);
}
END_TEST

/* A line one byte past DJ_MAX_LINE, then a ping: too_large, and the
 * connection ends there (run.sh makes the same seed for the fuzzer). */
START_TEST(test_proto_too_large)
{
	static const char head[] = "{\"op\":\"ping\",\"pad\":\"";
	static const char tail[] = "\"}\n{\"op\":\"ping\"}\n";
	size_t len = sizeof head - 1 + DJ_MAX_LINE + sizeof tail - 1;
	char *buf = xmalloc(len);

	memcpy(buf, head, sizeof head - 1);
	memset(buf + sizeof head - 1, 'x', DJ_MAX_LINE);
	memcpy(buf + sizeof head - 1 + DJ_MAX_LINE, tail, sizeof tail - 1);
	ck_assert_int_eq(fuzz_proto((const uint8_t *)buf, len), 0);
	free(buf);
}
END_TEST

/* Each target has seeds: a moved directory must not empty the replay. */
START_TEST(test_seeds_present)
{
	static const size_t least[NTARGETS] = { 250, 25, 3 };

	ck_assert_msg(targets[_i].nfiles >= least[_i], "%s: %zu inputs, want "
	    "at least %zu", targets[_i].name, targets[_i].nfiles, least[_i]);
}
END_TEST

static void
cleanup_all(void)
{
	size_t i;

	for (i = 0; i < NTARGETS; i++)
		targets[i].cleanup();
}

static Suite *
fuzz_suite(void)
{
	const TTest *tests[NTARGETS];
	Suite *s = suite_create("fuzz");
	TCase *tc;
	size_t i;

	tests[0] = test_replay_ingest;
	tests[1] = test_replay_proto;
	tests[2] = test_replay_config;
	tc = tcase_create("seeds");
	tcase_add_loop_test(tc, test_seeds_present, 0, NTARGETS);
	tcase_add_test(tc, test_proto_too_large);
	tcase_add_unchecked_fixture(tc, NULL, cleanup_all);
	suite_add_tcase(s, tc);
	for (i = 0; i < NTARGETS; i++) {
		collect(&targets[i]);
		tc = tcase_create(targets[i].name);
		/* Without fork the targets' state lives on: free it. */
		tcase_add_unchecked_fixture(tc, NULL, cleanup_all);
		tcase_add_loop_test(tc, tests[i], 0, (int)targets[i].nfiles);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	SRunner *sr;
	size_t i, j;
	int failed;

	sr = srunner_create(fuzz_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < NTARGETS; i++) {
		for (j = 0; j < targets[i].nfiles; j++)
			free(targets[i].files[j]);
		free(targets[i].files);
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
