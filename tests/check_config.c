/* Tests for config.c: SPEC section 2, defaults, paths, values, errors. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/tz.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

static char *tmpdir;		/* this test's own directory */
static char *cfgpath;		/* tmpdir/djcald.conf after load_str */
static struct config *cfg;
static char *cause;

static void
setup(void)
{
	tmpdir = tu_mkdtemp();
	cfgpath = NULL;
	cfg = NULL;
	cause = NULL;
}

static void
teardown(void)
{
	config_free(cfg);
	free(cause);
	free(cfgpath);
	tu_rmtree(tmpdir);
	free(tmpdir);
	cfg = NULL;
	cause = NULL;
	cfgpath = NULL;
	tmpdir = NULL;
}

/* Write text as tmpdir/djcald.conf and load it into cfg/cause. */
static int
load_str(const char *text)
{
	free(cfgpath);
	cfgpath = tu_write_str(tmpdir, "djcald.conf", text);
	config_free(cfg);
	free(cause);
	cfg = NULL;
	cause = NULL;
	return config_load(cfgpath, &cfg, &cause);
}

/* Like load_str, but the config must be valid. */
static void
load_ok(const char *text)
{
	int rc = load_str(text);

	ck_assert_msg(rc == 0, "config rejected:\n%s", cause);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_null(cause);
}

static char *
tmp_path(const char *rel)
{
	char *p;

	xasprintf(&p, "%s/%s", tmpdir, rel);
	return p;
}

static void
assert_leads(const struct dj_leads *l, int n, int64_t a, int64_t b)
{
	ck_assert_int_eq(l->n, n);
	if (n > 0)
		ck_assert_int_eq(l->v[0], a);
	if (n > 1)
		ck_assert_int_eq(l->v[1], b);
}

/*
 * core
 */

START_TEST(test_spec_example)
{
	const struct config_category *study;
	const struct config_feed *f;
	static const char *const aliases[] = { "学习", "理论学习", "集中学习",
	    "三会一课", "党课", "支部党员大会", "支委会", "党小组会", "STUDY" };
	size_t i;

	ck_assert_int_eq(config_load("tests/data/spec-example.conf", &cfg,
	    &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(cfg->database, "/var/lib/djcald/djcald.db");
	ck_assert_str_eq(cfg->socket, "/run/djcald/djcald.sock");
	ck_assert_uint_eq(cfg->socket_mode, 0660);
	ck_assert_str_eq(cfg->admin_group, "djcal");
	ck_assert_str_eq(cfg->http_listen, "127.0.0.1:8765");
	ck_assert_str_eq(cfg->http_token, "");
	ck_assert_str_eq(cfg->timezone, "Asia/Shanghai");
	ck_assert_int_eq(cfg->horizon_days, 400);
	ck_assert_int_eq(cfg->history_days, 400);
	assert_leads(&cfg->reminders, 2, 86400, 3600);
	ck_assert_int_eq(cfg->late_grace, 12 * 3600);
	ck_assert_uint_eq(cfg->max_feed_bytes, 64ULL * 1024 * 1024);
	ck_assert_ptr_null(cfg->ca_file);
	ck_assert_int_eq(cfg->max_clients, 1024);
	ck_assert_int_eq(cfg->warn_days, 7);

	study = &cfg->categories[DJ_CAT_STUDY];
	ck_assert_uint_eq(study->naliases, sizeof aliases / sizeof aliases[0]);
	for (i = 0; i < study->naliases; i++)
		ck_assert_str_eq(study->aliases[i], aliases[i]);
	ck_assert_int_eq(study->has_reminders, 1);
	assert_leads(&study->reminders, 2, 86400, 3600);
	ck_assert_int_eq(cfg->categories[DJ_CAT_PARTY_DAY].has_reminders, 0);

	ck_assert_uint_eq(cfg->nfeeds, 1);
	f = config_feed_find(cfg, "jiguan-study");
	ck_assert_ptr_eq(f, &cfg->feeds[0]);
	ck_assert_str_eq(f->url, "https://example.org/branch/study.ics");
	ck_assert_ptr_null(f->path);
	ck_assert_int_eq(f->category, DJ_CAT_STUDY);
	ck_assert_str_eq(f->branch, "机关党支部");
	ck_assert_int_eq(f->refresh, 900);
	ck_assert_int_eq(f->has_reminders, 1);
	assert_leads(&f->reminders, 1, 7200, 0);
	ck_assert_ptr_null(f->username);
	ck_assert_ptr_null(f->password);
	ck_assert_ptr_null(f->ca_file);
	ck_assert_int_eq(f->kind, CONFIG_FEED_EVENTS);
	ck_assert_uint_eq(f->line, 19);
	ck_assert_ptr_null(config_feed_find(cfg, "nope"));

	ck_assert_int_eq(cfg->default_requirements, 1);
	ck_assert_uint_eq(cfg->nrequirements, 5);
	ck_assert_str_eq(cfg->path + strlen(cfg->path) -
	    strlen("/tests/data/spec-example.conf"),
	    "/tests/data/spec-example.conf");
	ck_assert_int_eq(cfg->path[0], '/');
}
END_TEST

START_TEST(test_installed_config)
{
	/* The shipped etc/djcald.conf is valid and has no feeds. */
	ck_assert_int_eq(config_load("etc/djcald.conf", &cfg, &cause), 0);
	ck_assert_uint_eq(cfg->nfeeds, 0);
	ck_assert_str_eq(cfg->database, "/var/lib/djcald/djcald.db");
	ck_assert_str_eq(cfg->socket, "/run/djcald/djcald.sock");
	ck_assert_int_eq(cfg->default_requirements, 1);
}
END_TEST

START_TEST(test_defaults)
{
	struct config *def;
	static const struct {
		const char	*name;
		int		 category;
		int		 meeting;
		enum config_cadence cadence;
	} reqs[] = {
		{ "支委会", DJ_CAT_STUDY, DJ_MT_BRANCH_COMMITTEE,
		    CONFIG_CADENCE_MONTH },
		{ "党员大会", DJ_CAT_STUDY, DJ_MT_MEMBER_ASSEMBLY,
		    CONFIG_CADENCE_QUARTER },
		{ "党小组会", DJ_CAT_STUDY, DJ_MT_GROUP, CONFIG_CADENCE_MONTH },
		{ "党课", DJ_CAT_STUDY, DJ_MT_LECTURE, CONFIG_CADENCE_QUARTER },
		{ "主题党日", DJ_CAT_PARTY_DAY, -1, CONFIG_CADENCE_MONTH },
	};
	size_t i;
	int pass;

	load_ok("");
	def = config_default();
	for (pass = 0; pass < 2; pass++) {
		struct config *c = pass == 0 ? cfg : def;

		ck_assert_str_eq(c->database, "/var/lib/djcald/djcald.db");
		ck_assert_str_eq(c->socket, "/run/djcald/djcald.sock");
		ck_assert_uint_eq(c->socket_mode, 0660);
		ck_assert_str_eq(c->admin_group, "djcal");
		ck_assert_str_eq(c->http_listen, "127.0.0.1:8765");
		ck_assert_str_eq(c->http_token, "");
		ck_assert_str_eq(c->timezone, "Asia/Shanghai");
		ck_assert_int_eq(c->horizon_days, 400);
		ck_assert_int_eq(c->history_days, 400);
		assert_leads(&c->reminders, 2, 86400, 3600);
		ck_assert_int_eq(c->late_grace, 43200);
		ck_assert_uint_eq(c->max_feed_bytes, 67108864);
		ck_assert_ptr_null(c->ca_file);
		ck_assert_int_eq(c->max_clients, 1024);
		ck_assert_int_eq(c->warn_days, 7);
		ck_assert_uint_eq(c->max_items, 0);
		ck_assert_int_eq(c->max_clients_per_uid, 0);
		ck_assert_uint_eq(c->max_output_bytes, 128ULL << 20);
		ck_assert_uint_eq(c->nfeeds, 0);
		ck_assert_int_eq(c->default_requirements, 1);
		ck_assert_uint_eq(c->nrequirements, 5);
		for (i = 0; i < 5; i++) {
			ck_assert_str_eq(c->requirements[i].name,
			    reqs[i].name);
			ck_assert_int_eq(c->requirements[i].category,
			    reqs[i].category);
			ck_assert_int_eq(c->requirements[i].meeting_type,
			    reqs[i].meeting);
			ck_assert_int_eq(c->requirements[i].cadence,
			    reqs[i].cadence);
			ck_assert_int_eq(c->requirements[i].warn_days, 7);
			ck_assert_uint_eq(c->requirements[i].naliases, 0);
		}
	}
	ck_assert_ptr_null(def->path);
	config_free(def);

	/* A feed's own defaults. */
	load_ok("[feed a]\nurl = https://x.org/a.ics\n");
	ck_assert_int_eq(cfg->feeds[0].category, -1);
	ck_assert_ptr_null(cfg->feeds[0].branch);
	ck_assert_int_eq(cfg->feeds[0].refresh, 15 * 60);
	ck_assert_int_eq(cfg->feeds[0].has_reminders, 0);
	ck_assert_int_eq(cfg->feeds[0].kind, CONFIG_FEED_EVENTS);
}
END_TEST

START_TEST(test_all_keys)
{
	char *ca = tmp_path("ca.pem");

	free(tu_write_str(tmpdir, "ca.pem", "-----BEGIN CERTIFICATE-----\n"));
	load_ok("[daemon]\n"
	    "database = /srv/djcal/db.sqlite\n"
	    "socket = /srv/djcal/sock\n"
	    "socket_mode = 600\n"
	    "admin_group = wheel\n"
	    "http_listen = [::1]:8080\n"
	    "http_token = abc def\n"
	    "timezone = UTC\n"
	    "horizon_days = 30\n"
	    "history_days = 0\n"
	    "reminders = 30m\n"
	    "late_grace = PT2H\n"
	    "max_feed_bytes = 1GiB\n"
	    "ca_file = ca.pem\n"
	    "max_clients = 8\n"
	    "warn_days = 14\n"
	    "max_items = 50000\n"
	    "max_clients_per_uid = 3\n"
	    "max_output_bytes = 16M\n"
	    "[category party-day]\n"
	    "reminders = 3d\n"
	    "[meeting lecture]\n"
	    "aliases = 微党课\n"
	    "[feed hol]\n"
	    "url = http://x.org/holidays.ics\n"
	    "kind = holidays\n"
	    "category = Other\n"
	    "username = reader\n"
	    "password = p;w ; the ';' without a blank before stays\n"
	    "ca_file = ca.pem\n"
	    "refresh = 1d\n"
	    "reminders =\n");
	ck_assert_uint_eq(cfg->socket_mode, 0600);
	ck_assert_str_eq(cfg->admin_group, "wheel");
	ck_assert_str_eq(cfg->http_listen, "[::1]:8080");
	ck_assert_str_eq(cfg->http_token, "abc def");
	ck_assert_str_eq(cfg->timezone, "UTC");
	ck_assert_int_eq(cfg->horizon_days, 30);
	ck_assert_int_eq(cfg->history_days, 0);
	assert_leads(&cfg->reminders, 1, 1800, 0);
	ck_assert_int_eq(cfg->late_grace, 7200);
	ck_assert_uint_eq(cfg->max_feed_bytes, 1ULL << 30);
	ck_assert_str_eq(cfg->ca_file, ca);
	ck_assert_int_eq(cfg->max_clients, 8);
	ck_assert_int_eq(cfg->warn_days, 14);
	ck_assert_uint_eq(cfg->max_items, 50000);
	ck_assert_int_eq(cfg->max_clients_per_uid, 3);
	ck_assert_uint_eq(cfg->max_output_bytes, 16ULL << 20);
	ck_assert_int_eq(cfg->categories[DJ_CAT_PARTY_DAY].has_reminders, 1);
	assert_leads(&cfg->categories[DJ_CAT_PARTY_DAY].reminders, 1,
	    3 * 86400, 0);
	ck_assert_uint_eq(cfg->meetings[DJ_MT_LECTURE].naliases, 1);
	ck_assert_str_eq(cfg->meetings[DJ_MT_LECTURE].aliases[0], "微党课");
	ck_assert_int_eq(cfg->feeds[0].kind, CONFIG_FEED_HOLIDAYS);
	ck_assert_int_eq(cfg->feeds[0].category, DJ_CAT_OTHER);
	ck_assert_str_eq(cfg->feeds[0].username, "reader");
	ck_assert_str_eq(cfg->feeds[0].password, "p;w");
	ck_assert_str_eq(cfg->feeds[0].ca_file, ca);
	ck_assert_int_eq(cfg->feeds[0].refresh, 86400);
	/* "reminders =" is an explicit empty list: no reminders. */
	ck_assert_int_eq(cfg->feeds[0].has_reminders, 1);
	ck_assert_int_eq(cfg->feeds[0].reminders.n, 0);
	free(ca);
}
END_TEST

START_TEST(test_relative_paths)
{
	char real[PATH_MAX], *sub, *want, *conf;
	int cwd, pass;

	sub = tmp_path("sub");
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_ptr_nonnull(realpath(sub, real));
	free(tu_write_str(sub, "ca.pem", "x\n"));
	conf = tu_write_str(sub, "djcald.conf",
	    "[daemon]\n"
	    "database = var/djcald.db\n"
	    "socket = ./run/djcald.sock\n"
	    "ca_file = ca.pem\n"
	    "[feed plain]\n"
	    "url = feeds/plain.ics\n"
	    "[feed fileurl]\n"
	    "url = file://feeds/with space.ics\n"
	    "[feed fileabs]\n"
	    "url = file:///srv/feeds/abs.ics\n"
	    "[feed abs]\n"
	    "url = /srv/feeds/abs.ics\n"
	    "[feed localhost]\n"
	    "url = file://localhost/srv/a%20b.ics\n"
	    "[feed web]\n"
	    "url = webcal://example.org/cal.ics\n"
	    "[feed https]\n"
	    "url = https://user:pw@example.org/cal.ics?x=1\n");
	free(conf);

	/* Once by absolute path, once relative to the working directory:
	 * the same absolute paths either way. */
	cwd = open(".", O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(cwd, 0);
	for (pass = 0; pass < 2; pass++) {
		config_free(cfg);
		cfg = NULL;
		if (pass == 0) {
			xasprintf(&conf, "%s/djcald.conf", real);
			ck_assert_int_eq(config_load(conf, &cfg, &cause), 0);
		} else {
			ck_assert_int_eq(chdir(tmpdir), 0);
			conf = xstrdup("sub/djcald.conf");
			ck_assert_int_eq(config_load(conf, &cfg, &cause), 0);
			ck_assert_int_eq(fchdir(cwd), 0);
		}
		free(conf);

		xasprintf(&want, "%s/djcald.conf", real);
		ck_assert_str_eq(cfg->path, want);
		free(want);
		xasprintf(&want, "%s/var/djcald.db", real);
		ck_assert_str_eq(cfg->database, want);
		free(want);
		xasprintf(&want, "%s/run/djcald.sock", real);
		ck_assert_str_eq(cfg->socket, want);
		free(want);
		xasprintf(&want, "%s/ca.pem", real);
		ck_assert_str_eq(cfg->ca_file, want);
		free(want);

		xasprintf(&want, "%s/feeds/plain.ics", real);
		ck_assert_str_eq(cfg->feeds[0].url, want);
		ck_assert_str_eq(cfg->feeds[0].path, want);
		free(want);
		xasprintf(&want, "%s/feeds/with space.ics", real);
		ck_assert_str_eq(cfg->feeds[1].path, want);
		free(want);
		xasprintf(&want, "file://%s/feeds/with%%20space.ics", real);
		ck_assert_str_eq(cfg->feeds[1].url, want);
		free(want);
		ck_assert_int_eq(strncmp(cfg->feeds[1].url, "file:///", 8), 0);
		ck_assert_str_eq(cfg->feeds[2].url,
		    "file:///srv/feeds/abs.ics");
		ck_assert_str_eq(cfg->feeds[2].path, "/srv/feeds/abs.ics");
		ck_assert_str_eq(cfg->feeds[3].url, "/srv/feeds/abs.ics");
		ck_assert_str_eq(cfg->feeds[3].path, "/srv/feeds/abs.ics");
		ck_assert_str_eq(cfg->feeds[4].path, "/srv/a b.ics");
		ck_assert_str_eq(cfg->feeds[5].url,
		    "https://example.org/cal.ics");
		ck_assert_ptr_null(cfg->feeds[5].path);
		ck_assert_str_eq(cfg->feeds[6].url,
		    "https://user:pw@example.org/cal.ics?x=1");
		ck_assert_ptr_null(cfg->feeds[6].path);
	}
	close(cwd);
	free(sub);
}
END_TEST

START_TEST(test_leads_precedence)
{
	const struct config_feed *own, *plain;

	load_ok("[daemon]\nreminders = 1h\n"
	    "[category study]\nreminders = 1d, 2h\n"
	    "[feed own]\nurl = a.ics\nreminders = 10m\n"
	    "[feed plain]\nurl = b.ics\n");
	own = config_feed_find(cfg, "own");
	plain = config_feed_find(cfg, "plain");
	assert_leads(config_leads(cfg, own, DJ_CAT_STUDY), 1, 600, 0);
	assert_leads(config_leads(cfg, own, DJ_CAT_VOLUNTEER), 1, 600, 0);
	assert_leads(config_leads(cfg, plain, DJ_CAT_STUDY), 2, 86400, 7200);
	assert_leads(config_leads(cfg, plain, DJ_CAT_VOLUNTEER), 1, 3600, 0);
	assert_leads(config_leads(cfg, NULL, DJ_CAT_STUDY), 2, 86400, 7200);
	assert_leads(config_leads(cfg, NULL, DJ_CAT_OTHER), 1, 3600, 0);
}
END_TEST

START_TEST(test_requirements)
{
	const struct config_requirement *r;

	load_ok("[daemon]\nwarn_days = 10\n"
	    "[requirement 支委会]\nmeeting_type = branch-committee\n"
	    "[requirement 主题党日]\ncategory = party-day\nwarn_days = 3\n"
	    "cadence = quarter\n"
	    "[requirement 义务植树]\naliases = 植树, 绿化\ncadence = year\n");
	ck_assert_int_eq(cfg->default_requirements, 0);
	ck_assert_uint_eq(cfg->nrequirements, 3);
	r = &cfg->requirements[0];
	ck_assert_str_eq(r->name, "支委会");
	ck_assert_int_eq(r->category, DJ_CAT_STUDY);	/* implied */
	ck_assert_int_eq(r->meeting_type, DJ_MT_BRANCH_COMMITTEE);
	ck_assert_int_eq(r->cadence, CONFIG_CADENCE_MONTH);
	ck_assert_int_eq(r->warn_days, 10);
	ck_assert_uint_eq(r->line, 3);
	r = &cfg->requirements[1];
	ck_assert_int_eq(r->category, DJ_CAT_PARTY_DAY);
	ck_assert_int_eq(r->meeting_type, -1);
	ck_assert_int_eq(r->cadence, CONFIG_CADENCE_QUARTER);
	ck_assert_int_eq(r->warn_days, 3);
	r = &cfg->requirements[2];
	ck_assert_int_eq(r->category, -1);
	ck_assert_uint_eq(r->naliases, 2);
	ck_assert_str_eq(r->aliases[1], "绿化");
	ck_assert_int_eq(r->cadence, CONFIG_CADENCE_YEAR);
}
END_TEST

START_TEST(test_syntax_details)
{
	const struct config_category *v;

	/* BOM, CRLF, both comment styles, inline comments, indentation (not
	 * a continuation), ':' as separator, repeated list keys, full-width
	 * commas. */
	load_ok("\xef\xbb\xbf# top comment\r\n"
	    "; another\r\n"
	    "[feed a]   ; comment after a header\r\n"
	    "  url = https://x.org/a.ics ; comment\r\n"
	    "  category = volunteer\r\n"
	    "\tbranch: 一支部;二组 ; ';' after a blank only\r\n"
	    "[category volunteer]\n"
	    "aliases = 慰问, 走访\n"
	    "aliases = 义诊，义剪 , 送温暖\n"
	    "[daemon]\n"
	    "http_listen =\n");
	ck_assert_str_eq(cfg->feeds[0].url, "https://x.org/a.ics");
	ck_assert_int_eq(cfg->feeds[0].category, DJ_CAT_VOLUNTEER);
	ck_assert_str_eq(cfg->feeds[0].branch, "一支部;二组");
	v = &cfg->categories[DJ_CAT_VOLUNTEER];
	ck_assert_uint_eq(v->naliases, 5);
	ck_assert_str_eq(v->aliases[0], "慰问");
	ck_assert_str_eq(v->aliases[2], "义诊");
	ck_assert_str_eq(v->aliases[3], "义剪");
	ck_assert_str_eq(v->aliases[4], "送温暖");
	ck_assert_str_eq(cfg->http_listen, "");
}
END_TEST

START_TEST(test_aliases_feed_classifier)
{
	struct classifier *cls;
	size_t c, i;

	/* What the daemon does with the configured aliases. */
	load_ok("[category study]\naliases = 读书班\n"
	    "[meeting group]\naliases = 小组学习\n");
	cls = classifier_new();
	for (c = 0; c < DJ_CAT_COUNT; c++)
		for (i = 0; i < cfg->categories[c].naliases; i++)
			classifier_add_category_alias(cls, (enum dj_category)c,
			    cfg->categories[c].aliases[i]);
	for (c = 0; c < DJ_MT_COUNT; c++)
		for (i = 0; i < cfg->meetings[c].naliases; i++)
			classifier_add_meeting_alias(cls, (enum dj_meeting)c,
			    cfg->meetings[c].aliases[i]);
	ck_assert_int_eq(classifier_category(cls, NULL, 0, "青年读书班",
	    DJ_CAT_OTHER), DJ_CAT_STUDY);
	ck_assert_int_eq(classifier_meeting(cls, NULL, 0, "第二小组学习",
	    DJ_CAT_STUDY), DJ_MT_GROUP);
	classifier_free(cls);
}
END_TEST

/* Durations: the string, whether it parses, and to what. */
static const struct {
	const char	*s;
	int		 ok;
	int64_t		 secs;
} dur_cases[] = {
	{ "90s", 1, 90 }, { "15m", 1, 900 }, { "2h", 1, 7200 },
	{ "1d", 1, 86400 }, { "1w", 1, 604800 }, { "3600", 1, 3600 },
	{ "0", 1, 0 }, { "1h30m", 1, 5400 }, { "1H", 1, 3600 },
	{ " 2h ", 1, 7200 }, { "-15m", 1, -900 }, { "+5s", 1, 5 },
	{ "PT1H", 1, 3600 }, { "P1D", 1, 86400 }, { "P1W", 1, 604800 },
	{ "-PT15M", 1, -900 }, { "P1DT2H", 1, 93600 },
	{ "PT1H30M15S", 1, 5415 }, { "pt10m", 1, 600 }, { "PT0S", 1, 0 },
	{ "P2W1D", 1, 1296000 },
	{ "", 0, 0 }, { " ", 0, 0 }, { "15x", 0, 0 }, { "h", 0, 0 },
	{ "1.5h", 0, 0 }, { "1 h", 0, 0 }, { "1h30", 0, 0 }, { "30m1h", 0, 0 },
	{ "1hh", 0, 0 }, { "--1h", 0, 0 }, { "P", 0, 0 }, { "PT", 0, 0 },
	{ "P1DT", 0, 0 }, { "P1M", 0, 0 }, { "P1Y", 0, 0 }, { "PT1H2H", 0, 0 },
	{ "PT1S1M", 0, 0 }, { "P1H", 0, 0 }, { "PT5", 0, 0 },
	{ "99999999999999999999s", 0, 0 }, { "P40000W", 0, 0 },
	{ "5300w", 0, 0 },
};

START_TEST(test_duration)
{
	int64_t v = 12345;
	int rc = config_parse_duration(dur_cases[_i].s, &v);

	if (dur_cases[_i].ok) {
		ck_assert_msg(rc == 0, "'%s' rejected", dur_cases[_i].s);
		ck_assert_msg(v == dur_cases[_i].secs, "'%s' = %lld",
		    dur_cases[_i].s, (long long)v);
	} else {
		ck_assert_msg(rc == -1, "'%s' accepted", dur_cases[_i].s);
		ck_assert_int_eq(v, 12345);
	}
}
END_TEST

static const struct {
	const char	*s;
	int		 ok;
	uint64_t	 bytes;
} size_cases[] = {
	{ "64M", 1, 64ULL << 20 }, { "1G", 1, 1ULL << 30 },
	{ "512K", 1, 512ULL << 10 }, { "1000", 1, 1000 },
	{ "64MB", 1, 64ULL << 20 }, { "64MiB", 1, 64ULL << 20 },
	{ "1000B", 1, 1000 }, { "2k", 1, 2048 }, { "1T", 1, 1ULL << 40 },
	{ "0", 1, 0 },
	{ "", 0, 0 }, { "M", 0, 0 }, { "64Q", 0, 0 }, { "1.5G", 0, 0 },
	{ "-1", 0, 0 }, { "64 M", 0, 0 }, { "64MBB", 0, 0 },
	{ "18446744073709551616", 0, 0 }, { "20000000000G", 0, 0 },
};

START_TEST(test_size)
{
	uint64_t v = 777;
	int rc = config_parse_size(size_cases[_i].s, &v);

	if (size_cases[_i].ok) {
		ck_assert_msg(rc == 0, "'%s' rejected", size_cases[_i].s);
		ck_assert_uint_eq(v, size_cases[_i].bytes);
	} else {
		ck_assert_msg(rc == -1, "'%s' accepted", size_cases[_i].s);
		ck_assert_uint_eq(v, 777);
	}
}
END_TEST

static const struct {
	const char	*s;
	int		 ok;
	int		 n;
	int64_t		 v[3];
} leads_cases[] = {
	{ "1d, 1h", 1, 2, { 86400, 3600 } },
	{ "1h,1d,1h", 1, 2, { 86400, 3600 } },
	{ "2h", 1, 1, { 7200 } },
	{ "", 1, 0, { 0 } },
	{ "  ", 1, 0, { 0 } },
	{ "-PT15M, 0, PT15M", 1, 3, { 900, 0, -900 } },
	{ "1h，30m", 1, 2, { 3600, 1800 } },
	{ "60m, 1h, 3600", 1, 1, { 3600 } },
	{ "1d,,1h", 0, 0, { 0 } },
	{ "1d,", 0, 0, { 0 } },
	{ "x", 0, 0, { 0 } },
	{ "1s,2s,3s,4s,5s,6s,7s,8s,9s,10s,11s,12s,13s,14s,15s,16s,17s", 0, 0,
	    { 0 } },
	{ "1s,2s,3s,4s,5s,6s,7s,8s,9s,10s,11s,12s,13s,14s,15s,16s,16s,1s", 1,
	    16, { 16, 15, 14 } },
};

START_TEST(test_leads)
{
	struct dj_leads l;
	int rc, j;

	memset(&l, 0xab, sizeof l);
	rc = config_parse_leads(leads_cases[_i].s, &l);
	if (!leads_cases[_i].ok) {
		ck_assert_msg(rc == -1, "'%s' accepted", leads_cases[_i].s);
		return;
	}
	ck_assert_msg(rc == 0, "'%s' rejected", leads_cases[_i].s);
	ck_assert_int_eq(l.n, leads_cases[_i].n);
	for (j = 0; j < l.n && j < 3; j++)
		ck_assert_int_eq(l.v[j], leads_cases[_i].v[j]);
	for (j = 1; j < l.n; j++)
		ck_assert_int_gt(l.v[j - 1], l.v[j]);
}
END_TEST

/*
 * errors
 */

/* One bad config, the line of its only error and part of the message. */
static const struct {
	const char	*text;
	unsigned	 line;
	const char	*msg;
} err_cases[] = {
	{ "[daemon]\nbogus = 1\n", 2, "unknown key 'bogus' in [daemon]" },
	{ "[daemon]\n[frobnicate]\n", 2, "unknown section [frobnicate]" },
	{ "x = 1\n", 1, "key 'x' before any [section]" },
	{ "[daemon]\nthis line is wrong\n", 2, "syntax error" },
	{ "[daemon\nsocket_mode = 1\n", 1, "must end with ']'" },
	{ "[daemon] trailing\n", 1, "must end with ']'" },
	{ "[]\n", 1, "empty section name" },
	{ "[daemon x]\n", 1, "[daemon] takes no name" },
	{ "[feed]\n", 1, "[feed] needs a name" },
	{ "[feed bad/name]\nurl = x\n", 1, "bad feed name 'bad/name'" },
	{ "[category festivals]\naliases = 节日\n", 1,
	    "unknown category 'festivals'" },
	{ "[meeting picnic]\n", 1, "unknown meeting type 'picnic'" },
	{ "[feed a]\nurl = a.ics\n\n[feed a]\nurl = b.ics\n", 4,
	    "duplicate feed 'a' (first on line 1)" },
	{ "\n[feed a]\nbranch = 一支部\n", 2, "feed 'a' has no url" },
	{ "[feed a]\nurl = gopher://x.org/a\n", 2,
	    "unsupported scheme 'gopher'" },
	{ "[feed a]\nurl = https:///a.ics\n", 2, "without a host" },
	{ "[feed a]\nurl = file://%zz.ics\n", 2, "bad file URL" },
	{ "[feed a]\nurl = a.ics\nrefresh = 15x\n", 3,
	    "refresh: '15x' is not a duration" },
	{ "[feed a]\nurl = a.ics\nrefresh = 0\n", 3, "refresh: '0' is too" },
	{ "[feed a]\nurl = a.ics\ncategory = meetings\n", 3,
	    "category: unknown category 'meetings'" },
	{ "[feed a]\nurl = a.ics\nkind = birthdays\n", 3,
	    "kind: 'birthdays' is not events or holidays" },
	{ "[feed a]\nurl = a.ics\nca_file = missing.pem\n", 3,
	    "missing.pem: No such file or directory" },
	{ "[feed a]\nurl = a.ics\nurl = b.ics\n", 3, "url given twice" },
	{ "[daemon]\nmax_feed_bytes = 64Q\n", 2,
	    "max_feed_bytes: '64Q' is not a size" },
	{ "[daemon]\nmax_feed_bytes = 0\n", 2, "max_feed_bytes: '0'" },
	{ "[daemon]\nsocket_mode = 0800\n", 2,
	    "socket_mode: '0800' is not an octal mode" },
	{ "[daemon]\nsocket_mode = 1777\n", 2, "socket_mode: '1777'" },
	{ "[daemon]\ntimezone = Asia/Atlantis\n", 2,
	    "timezone: unknown zone 'Asia/Atlantis'" },
	{ "[daemon]\ntimezone = ../../etc/passwd\n", 2, "unknown zone" },
	{ "[daemon]\ntimezone = zone.tab\n", 2, "unknown zone" },
	{ "[daemon]\ntimezone =\n", 2, "unknown zone ''" },
	{ "[daemon]\nhorizon_days = 0\n", 2, "horizon_days: '0' is not" },
	{ "[daemon]\nmax_clients = lots\n", 2, "max_clients: 'lots'" },
	{ "[daemon]\nwarn_days = 400\n", 2, "warn_days: '400'" },
	{ "[daemon]\nmax_items = -1\n", 2, "max_items: '-1'" },
	{ "[daemon]\nmax_clients_per_uid = 0\n", 2,
	    "max_clients_per_uid: '0' is not a whole number" },
	{ "[daemon]\nmax_output_bytes = 0\n", 2, "max_output_bytes: '0'" },
	{ "[daemon]\nreminders = 1d,,1h\n", 2, "reminders: '1d,,1h'" },
	{ "[daemon]\nlate_grace = -1h\n", 2, "late_grace: '-1h' is too" },
	{ "[daemon]\nhttp_listen = localhost\n", 2,
	    "http_listen: 'localhost' is not host:port" },
	{ "[daemon]\nhttp_listen = 127.0.0.1:99999\n", 2, "http_listen" },
	{ "[daemon]\ndatabase =\n", 2, "database: empty" },
	{ "[daemon]\nca_file = /nonexistent/ca.pem\n", 2,
	    "ca_file: /nonexistent/ca.pem: No such file or directory" },
	{ "[daemon]\nca_file = /\n", 2, "not a regular file" },
	{ "[daemon]\ndatabase = a\ndatabase = b\n", 3,
	    "database given twice in [daemon]" },
	{ "[daemon]\ndatabase = a\n[daemon]\ndatabase = b\n", 4,
	    "database given twice" },
	{ "[daemon]\n= 5\n", 2, "missing key name" },
	{ "[daemon]\nadmin_group = a b\n", 2, "admin_group: 'a b'" },
	{ "[category study]\naliases = 学习, , 党课\n", 2,
	    "aliases: empty item" },
	{ "[requirement 支委会]\ncategory = study\ncadence = weekly\n", 3,
	    "cadence: 'weekly' is not month, quarter or year" },
	{ "[requirement 支委会]\nmeeting_type = chat\n", 2,
	    "unknown meeting type 'chat'" },
	{ "[requirement 党课]\nmeeting_type = lecture\ncategory = volunteer\n",
	    1, "meeting_type applies to category study only" },
	{ "[requirement 党课]\ncadence = month\n", 1, "matches nothing" },
	{ "[requirement 党课]\ncategory = study\n[requirement 党课]\n", 3,
	    "duplicate requirement '党课' (first on line 1)" },
	{ "[requirement]\n", 1, "[requirement] needs a name" },
	{ "[daemon]\nadmin_group = \xff\xfe\n", 2, "invalid UTF-8" },
	{ "[daemon]\nadmin_group = \xc0\xaf\n", 2, "invalid UTF-8" },
	{ "[daemon]\nhttp_listen = a\0b\n", 2, "NUL byte" },
};

START_TEST(test_error)
{
	char *want, *path;
	size_t len;

	/* Written with its length: one case holds a NUL byte. */
	len = strlen(err_cases[_i].text);
	if (strstr(err_cases[_i].msg, "NUL") != NULL)
		len += 1 + strlen(err_cases[_i].text + len + 1);
	path = tu_write(tmpdir, "djcald.conf", err_cases[_i].text, len);
	ck_assert_int_eq(config_load(path, &cfg, &cause), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(cause);
	xasprintf(&want, "%s:%u: ", path, err_cases[_i].line);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0,
	    "case %d: got '%s', want line %u", _i, cause, err_cases[_i].line);
	ck_assert_msg(strstr(cause, err_cases[_i].msg) != NULL,
	    "case %d: got '%s', want '%s'", _i, cause, err_cases[_i].msg);
	ck_assert_msg(strchr(cause, '\n') == NULL,
	    "case %d: more than one error: '%s'", _i, cause);
	free(want);
	free(path);
}
END_TEST

START_TEST(test_many_errors)
{
	static const unsigned lines[] = { 1, 3, 4, 5, 6, 7, 8, 10, 12, 14 };
	char *line, *save, *copy, *want;
	size_t n = 0;

	/* Every error is reported, in line order, each with its line. */
	ck_assert_int_eq(load_str(
	    "stray = 1\n"				/* 1 */
	    "[daemon]\n"				/* 2 */
	    "horizon_days = soon\n"			/* 3 */
	    "no equals sign here\n"			/* 4 */
	    "colour = blue\n"				/* 5 */
	    "[feed ok]\n"				/* 6 */
	    "refresh = 5 minutes\n"			/* 7 */
	    "[mystery]\n"				/* 8 */
	    "ignored = inside an unknown section\n"	/* 9 */
	    "[feed ok]\n"				/* 10 */
	    "[category study]\n"			/* 11 */
	    "reminders = never\n"			/* 12 */
	    "[feed x]\n"				/* 13 */
	    "url = ftp://x.org/\n"),			/* 14 */
	    -1);
	copy = xstrdup(cause);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(n < sizeof lines / sizeof lines[0],
		    "too many errors:\n%s", cause);
		xasprintf(&want, "%s:%u: ", cfgpath, lines[n]);
		ck_assert_msg(strncmp(line, want, strlen(want)) == 0,
		    "error %zu: '%s', want prefix '%s'", n, line, want);
		free(want);
		n++;
	}
	ck_assert_uint_eq(n, sizeof lines / sizeof lines[0]);
	free(copy);
	/* The feed without url is reported under its header, line 6. */
	xasprintf(&want, "%s:6: feed 'ok' has no url\n", cfgpath);
	ck_assert_ptr_nonnull(strstr(cause, want));
	free(want);
	/* The key inside the unknown section is not reported. */
	ck_assert_ptr_null(strstr(cause, "ignored"));
}
END_TEST

START_TEST(test_secrets_not_echoed)
{
	char longline[400], *text;

	/* Secrets in bad lines, repeated keys, URLs and long lines. */
	memset(longline, 0, sizeof longline);
	strcpy(longline, "password = pw-SECRET-9");
	memset(longline + strlen(longline), 'x', 250);
	ck_assert_int_eq(load_str(
	    "[daemon]\n"
	    "http_token = tok-SECRET-1\n"
	    "http_token = tok-SECRET-2\n"
	    "http_token tok-SECRET-3\n"
	    "[feed a]\n"
	    "url = https://user:pw-SECRET-4@x.org/a.ics\n"
	    "password = pw-SECRET-5\n"
	    "password = pw-SECRET-6\n"
	    "password pw-SECRET-7\n"
	    "[feed b]\n"
	    "url = ftp://u:pw-SECRET-8@x.org/\n"
	    "[feed c]\n"
	    "url = c.ics\n"), -1);
	ck_assert_ptr_null(strstr(cause, "SECRET"));
	ck_assert_ptr_nonnull(strstr(cause, "http_token given twice"));
	ck_assert_ptr_nonnull(strstr(cause, "password given twice"));

	xasprintf(&text, "[feed a]\nurl = a.ics\n%s\n", longline);
	ck_assert_int_eq(load_str(text), -1);
	free(text);
	ck_assert_ptr_nonnull(strstr(cause, ":3: line too long"));
	ck_assert_ptr_null(strstr(cause, "SECRET"));
}
END_TEST

START_TEST(test_long_line_limits)
{
	char *text, *aliases;
	size_t i;

	/* A long comment is fine: comments do not count. */
	aliases = xmalloc(1000);
	for (i = 0; i < 999; i++)
		aliases[i] = 'c';
	aliases[999] = '\0';
	xasprintf(&text, "[daemon] ; %s\nadmin_group = wheel ; %s\n", aliases,
	    aliases);
	load_ok(text);
	free(text);
	ck_assert_str_eq(cfg->admin_group, "wheel");

	/* inih's buffer in Debian's build: 197 bytes fit, 198 do not. */
	memcpy(aliases, "branch = ", 9);
	aliases[197] = '\0';
	xasprintf(&text, "[feed a]\nurl = a.ics\n%s\n", aliases);
	load_ok(text);
	free(text);
	ck_assert_uint_eq(strlen(cfg->feeds[0].branch), 197 - 9);
	aliases[197] = 'c';
	aliases[198] = '\0';
	xasprintf(&text, "[feed a]\nurl = a.ics\n%s\n", aliases);
	ck_assert_int_eq(load_str(text), -1);
	free(text);
	ck_assert_ptr_nonnull(strstr(cause, ":3: line too long (at most 197"));
	free(aliases);
}
END_TEST

START_TEST(test_missing_file)
{
	char *path = tmp_path("nope.conf"), *want;

	ck_assert_int_eq(config_load(path, &cfg, &cause), -1);
	ck_assert_ptr_null(cfg);
	xasprintf(&want, "%s: No such file or directory", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(path);

	/* A directory is not a config file either. */
	free(cause);
	cause = NULL;
	ck_assert_int_eq(config_load(tmpdir, &cfg, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "Is a directory"));
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_spec_example);
	tcase_add_test(tc, test_installed_config);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_all_keys);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_leads_precedence);
	tcase_add_test(tc, test_requirements);
	tcase_add_test(tc, test_syntax_details);
	tcase_add_test(tc, test_aliases_feed_classifier);
	tcase_add_loop_test(tc, test_duration, 0,
	    (int)(sizeof dur_cases / sizeof dur_cases[0]));
	tcase_add_loop_test(tc, test_size, 0,
	    (int)(sizeof size_cases / sizeof size_cases[0]));
	tcase_add_loop_test(tc, test_leads, 0,
	    (int)(sizeof leads_cases / sizeof leads_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_error, 0,
	    (int)(sizeof err_cases / sizeof err_cases[0]));
	tcase_add_test(tc, test_many_errors);
	tcase_add_test(tc, test_secrets_not_echoed);
	tcase_add_test(tc, test_long_line_limits);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tz_shutdown();	/* zones cached by timezone checks, for valgrind */
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
