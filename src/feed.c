/*
 * Feeds: config -> store sync, reading file feeds, and applying a body to a
 * feed with its health recorded.  The http(s) fetcher calls feed_apply and
 * feed_failed the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "djcal/classify.h"
#include "djcal/feed.h"
#include "djcal/ingest.h"
#include "djcal/log.h"
#include "djcal/xmalloc.h"

struct classifier *
feed_classifier_new(const struct config *cfg)
{
	struct classifier *c = classifier_new();
	size_t i, j;

	for (i = 0; i < DJ_CAT_COUNT; i++)
		for (j = 0; j < cfg->categories[i].naliases; j++)
			classifier_add_category_alias(c, (enum dj_category)i,
			    cfg->categories[i].aliases[j]);
	for (i = 0; i < DJ_MT_COUNT; i++)
		for (j = 0; j < cfg->meetings[i].naliases; j++)
			classifier_add_meeting_alias(c, (enum dj_meeting)i,
			    cfg->meetings[i].aliases[j]);
	return c;
}

enum feed_scheme
feed_scheme(const char *url)
{
	if (strncasecmp(url, "https://", 8) == 0 ||
	    strncasecmp(url, "webcal://", 9) == 0 ||
	    strncasecmp(url, "webcals://", 10) == 0)
		return FEED_HTTPS;
	if (strncasecmp(url, "http://", 7) == 0)
		return FEED_HTTP;
	return FEED_FILE;
}

char *
feed_display_url(const char *url)
{
	const char *p, *auth, *at, *end;
	char *out;

	if ((p = strstr(url, "://")) == NULL)
		return xstrdup(url);
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(end - auth));
	if (at == NULL)
		return xstrdup(url);
	/* Keep the last '@' of the authority: passwords may hold '@'. */
	while ((p = memchr(at + 1, '@', (size_t)(end - at - 1))) != NULL)
		at = p;
	xasprintf(&out, "%.*s%s", (int)(auth - url), url, at + 1);
	return out;
}

/* A fingerprint of everything that changes how stored items were read:
 * the zone, the aliases, the feeds' default categories. */
static char *
config_signature(const struct config *cfg)
{
	uint64_t h = ingest_hash(cfg->timezone, strlen(cfg->timezone));
	size_t i, j;
	char *out;

	for (i = 0; i < DJ_CAT_COUNT; i++)
		for (j = 0; j < cfg->categories[i].naliases; j++)
			h = h * 31 + ingest_hash(cfg->categories[i].aliases[j],
			    strlen(cfg->categories[i].aliases[j])) + i;
	for (i = 0; i < DJ_MT_COUNT; i++)
		for (j = 0; j < cfg->meetings[i].naliases; j++)
			h = h * 37 + ingest_hash(cfg->meetings[i].aliases[j],
			    strlen(cfg->meetings[i].aliases[j])) + i;
	for (i = 0; i < cfg->nfeeds; i++)
		h = h * 41 + ingest_hash(cfg->feeds[i].name,
		    strlen(cfg->feeds[i].name)) +
		    (uint64_t)(cfg->feeds[i].category + 2);
	xasprintf(&out, "%016llx", (unsigned long long)h);
	return out;
}

int
feed_sync_config(struct store *s, const struct config *cfg, char **cause)
{
	struct store_feed *have, sf;
	size_t n, i;
	int64_t id;
	char *sig, *old;

	for (i = 0; i < cfg->nfeeds; i++) {
		const struct config_feed *cf = &cfg->feeds[i];

		memset(&sf, 0, sizeof sf);
		sf.name = cf->name;
		sf.url = feed_display_url(cf->url);
		sf.category = cf->category >= 0 ? (char *)
		    classify_category_name((enum dj_category)cf->category) :
		    NULL;
		sf.branch = cf->branch;
		sf.kind = cf->kind == CONFIG_FEED_HOLIDAYS ? "holidays" :
		    "events";
		sf.refresh = cf->refresh;
		if (store_feed_upsert(s, &sf, &id, cause) == -1) {
			free(sf.url);
			return -1;
		}
		free(sf.url);
	}
	if (store_feed_list(s, &have, &n) == -1) {
		xasprintf(cause, "database: %s", store_errmsg(s));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (config_feed_find(cfg, have[i].name) != NULL)
			continue;
		log_info("feed %s: no longer configured; removing its %lld "
		    "items", have[i].name, (long long)have[i].items);
		if (store_feed_delete(s, have[i].name) == -1) {
			xasprintf(cause, "database: %s", store_errmsg(s));
			store_feed_list_free(have, n);
			return -1;
		}
	}
	store_feed_list_free(have, n);

	sig = config_signature(cfg);
	old = store_meta_get(s, "config_signature");
	if (old == NULL || strcmp(old, sig) != 0) {
		if (old != NULL)
			log_info("zone, aliases or feed categories changed: "
			    "every feed is read again");
		if (store_feeds_invalidate(s) == -1 ||
		    store_meta_set(s, "config_signature", sig) == -1 ||
		    store_meta_set(s, "timezone", cfg->timezone) == -1) {
			xasprintf(cause, "database: %s", store_errmsg(s));
			free(old);
			free(sig);
			return -1;
		}
	}
	free(old);
	free(sig);
	return 0;
}

int
feed_read_file(const char *path, uint64_t max, char **body, size_t *len,
    char **cause)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	char *buf;
	int fd;

	*body = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		xasprintf(cause, "%s: %lld bytes, more than max_feed_bytes "
		    "(%llu)", path, (long long)st.st_size,
		    (unsigned long long)max);
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			xasprintf(cause, "%s: %s", path, n == 0 ?
			    "shorter than expected" : strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*body = buf;
	*len = off;
	return 0;
}

void
feed_result_clear(struct feed_result *r)
{
	free(r->error);
	update_result_clear(&r->update);
	memset(r, 0, sizeof *r);
}

static void
update_ctx_init(const struct feed_env *env, time_t now,
    struct update_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->store = env->store;
	ctx->classifier = env->classifier;
	ctx->zone = env->zone;
	ctx->now = now;
	ctx->horizon_days = env->cfg->horizon_days;
	ctx->history_days = env->cfg->history_days;
	ctx->max_items = env->cfg->max_items;
}

void
feed_failed(const struct feed_env *env, const struct config_feed *cf,
    time_t now, int http_status, const char *error)
{
	struct store_feed sf;
	struct store_fetch fe;
	int same = 0;

	if (store_feed_get(env->store, cf->name, &sf) != 0) {
		log_warnx("feed %s: %s", cf->name, error);
		return;
	}
	same = sf.last_error != NULL && strcmp(sf.last_error, error) == 0;
	if (same)
		log_debug("feed %s: still failing: %s", cf->name, error);
	else
		log_warnx("feed %s: %s%s", cf->name, error,
		    sf.items > 0 ? "; keeping its last good items" : "");
	memset(&fe, 0, sizeof fe);
	fe.when = now;
	fe.ok = 0;
	fe.error = error;
	fe.http_status = http_status;
	if (store_feed_fetched(env->store, sf.id, &fe) == -1)
		log_warnx("feed %s: recording its health: %s", cf->name,
		    store_errmsg(env->store));
	store_feed_clear(&sf);
}

int
feed_apply(const struct feed_env *env, const struct config_feed *cf,
    time_t now, const char *body, size_t len, int http_status,
    const char *etag, const char *last_modified, struct feed_result *r)
{
	struct update_ctx ctx;
	struct store_feed sf;
	struct store_fetch fe;
	int64_t mf, mt;
	char *cause = NULL;
	int had_error;

	memset(r, 0, sizeof *r);
	if (store_feed_get(env->store, cf->name, &sf) != 0) {
		xasprintf(&r->error, "feed not in the database");
		return -1;
	}
	had_error = sf.last_error != NULL;
	update_ctx_init(env, now, &ctx);
	update_window(&ctx, &mf, &mt);
	if (sf.has_body_hash && sf.body_hash == ingest_hash(body, len) &&
	    sf.mat_from == mf && sf.mat_to == mt) {
		r->ok = 1;
		r->unchanged = 1;
		r->update.items = sf.items;
		log_debug("feed %s: unchanged", cf->name);
	} else if (update_feed_body(&ctx, sf.id, cf->category, body, len, 0,
	    &r->update, &cause) == -1) {
		r->error = cause;
		feed_failed(env, cf, now, http_status, cause);
		store_feed_clear(&sf);
		return -1;
	} else {
		r->ok = 1;
		if (r->update.changed > 0 || r->update.removed > 0 ||
		    had_error)
			log_info("feed %s: %lld items (%lld new or changed, "
			    "%lld removed)%s", cf->name,
			    (long long)r->update.items,
			    (long long)r->update.changed,
			    (long long)r->update.removed,
			    r->update.truncated ? "; body incomplete, nothing "
			    "removed" : "");
		if (r->update.problems != NULL)
			log_warnx("feed %s: %s", cf->name, r->update.problems);
	}
	memset(&fe, 0, sizeof fe);
	fe.when = now;
	fe.ok = 1;
	fe.http_status = http_status;
	fe.etag = etag;
	fe.last_modified = last_modified;
	if (store_feed_fetched(env->store, sf.id, &fe) == -1)
		log_warnx("feed %s: recording its health: %s", cf->name,
		    store_errmsg(env->store));
	store_feed_clear(&sf);
	if (!r->unchanged && (r->update.changed > 0 || r->update.removed > 0)
	    && env->changed != NULL)
		env->changed(cf->name, env->arg);
	return 0;
}

int
feed_once_files(const struct feed_env *env, time_t now)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < env->cfg->nfeeds; i++) {
		const struct config_feed *cf = &env->cfg->feeds[i];
		struct feed_result r;
		char *body = NULL, *cause = NULL;
		size_t len;

		if (feed_scheme(cf->url) != FEED_FILE)
			continue;
		if (feed_read_file(cf->path,
		    env->cfg->max_feed_bytes, &body, &len, &cause) == -1) {
			feed_failed(env, cf, now, 0, cause);
			free(cause);
			failed++;
			continue;
		}
		if (feed_apply(env, cf, now, body, len, 0, NULL, NULL,
		    &r) == -1)
			failed++;
		feed_result_clear(&r);
		free(body);
	}
	return failed;
}
