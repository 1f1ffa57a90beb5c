/*
 * djcald: reads Party-branch iCalendar feeds into SQLite, reminds
 * subscribers, re-publishes a merged feed.  This file owns start-up:
 * options, config, the store, and (in daemon mode) the event loop.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/feed.h"
#include "djcal/log.h"
#include "djcal/store.h"
#include "djcal/tz.h"
#include "djcal/types.h"
#include "djcal/xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG	SYSCONFDIR "/djcald/djcald.conf"

static void
usage(FILE *f)
{
	fprintf(f, "usage: djcald [-c FILE] [-f|--foreground] [-d|--debug] "
	    "[--once] [--check-config] [--version]\n");
}

struct opts {
	const char	*config;
	int		 foreground;
	int		 debug;
	int		 once;
	int		 check;
};

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "once", no_argument, NULL, 'o' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof *o);
	o->config = DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "c:fdnhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'o':
			o->once = 1;
			break;
		case 'n':
			o->check = 1;
			break;
		case 'V':
			printf("djcald %s\n", DJCAL_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

/* --once: every feed fetched and ingested once. */
static int
run_once(const struct config *cfg, struct store *store)
{
	struct classifier *cls;
	struct feed_env env;
	const struct tz *zone;
	time_t now = time(NULL);
	size_t i;
	int failed;

	zone = tz_system(cfg->timezone);
	cls = feed_classifier_new(cfg);
	memset(&env, 0, sizeof env);
	env.store = store;
	env.cfg = cfg;
	env.classifier = cls;
	env.zone = zone;
	failed = feed_once_files(&env, now);
	for (i = 0; i < cfg->nfeeds; i++) {
		if (feed_scheme(cfg->feeds[i].url) == FEED_FILE)
			continue;
		feed_failed(&env, &cfg->feeds[i], now, 0,
		    "http(s) feeds are fetched by the daemon's fetcher, "
		    "which this build does not have yet");
		failed++;
	}
	classifier_free(cls);
	return failed == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct config *cfg;
	struct store *store;
	struct opts o;
	char *cause = NULL;
	int rc;

	setlocale(LC_ALL, "");
	parse_opts(argc, argv, &o);
	log_init("djcald", o.debug);
	icalerror_set_errors_are_fatal(0);
	icalerror_clear_errno();

	if (config_load(o.config, &cfg, &cause) == -1) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	if (o.check) {
		printf("%s: ok (%zu feed%s)\n", o.config, cfg->nfeeds,
		    cfg->nfeeds == 1 ? "" : "s");
		config_free(cfg);
		return 0;
	}
	if ((store = store_open(cfg->database, 0, &cause)) == NULL) {
		log_error("%s", cause);
		free(cause);
		config_free(cfg);
		return 1;
	}
	if (feed_sync_config(store, cfg, &cause) == -1) {
		log_error("%s", cause);
		free(cause);
		store_close(store);
		config_free(cfg);
		return 1;
	}
	if (o.once)
		rc = run_once(cfg, store);
	else {
		log_error("daemon mode is not built yet; use --once");
		rc = 1;
	}
	store_close(store);
	config_free(cfg);
	return rc;
}
