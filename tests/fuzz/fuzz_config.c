/*
 * Fuzz target: the configuration parser.  The bytes are one djcald.conf,
 * read through config_load_buffer (config_load's own path once the file
 * is read).  A config that loads is then used the way the daemon starts
 * with it: each feed looked up with its leads and display URL, and the
 * classifier built from the configured aliases and asked about the
 * aliases themselves.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/feed.h"
#include "djcal/tz.h"

#include "fuzz.h"

static void
fc_use(const struct config *cfg)
{
	struct classifier *cls;
	const struct config_feed *f;
	const char *cats[1];
	char *u;
	size_t i, j;
	int c;

	for (i = 0; i < cfg->nfeeds; i++) {
		f = config_feed_find(cfg, cfg->feeds[i].name);
		if (f == NULL)
			abort();	/* a loaded feed must be found */
		for (c = 0; c < DJ_CAT_COUNT; c++)
			(void)config_leads(cfg, f, (enum dj_category)c);
		(void)feed_scheme(f->url);
		u = feed_display_url(f->url);
		free(u);
	}
	cls = feed_classifier_new(cfg);
	for (c = 0; c < DJ_CAT_COUNT; c++)
		for (j = 0; j < cfg->categories[c].naliases; j++) {
			cats[0] = cfg->categories[c].aliases[j];
			(void)classifier_category(cls, cats, 1, cats[0],
			    DJ_CAT_OTHER);
			(void)classifier_meeting(cls, NULL, 0, cats[0],
			    DJ_CAT_STUDY);
		}
	for (i = 0; i < cfg->nrequirements; i++)
		for (j = 0; j < cfg->requirements[i].naliases; j++)
			(void)classifier_category(cls, NULL, 0,
			    cfg->requirements[i].aliases[j], DJ_CAT_OTHER);
	classifier_free(cls);
}

int
fuzz_config(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char *cause = NULL;

	if (config_load_buffer("fuzz/djcald.conf", (const char *)data, size,
	    &cfg, &cause) == 0) {
		if (cause != NULL)
			abort();	/* no cause on success */
		fc_use(cfg);
		config_free(cfg);
	} else {
		if (cfg != NULL || cause == NULL || *cause == '\0')
			abort();	/* every failure is explained */
		free(cause);
	}
	return 0;
}

void
fuzz_config_cleanup(void)
{
	tz_shutdown();		/* timezone = ... loads system zones */
}

#ifdef DJCAL_LIBFUZZER
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_config(data, size);
}
#endif
