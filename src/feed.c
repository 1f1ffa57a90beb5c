/*
 * Feeds: config -> store sync, reading file feeds, applying a body to a
 * feed with its health recorded, and the scheduler that fetches each feed
 * on its own timer (http(s) through fetch.c) with jitter and back-off.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

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

/*
 * A fingerprint of what changes how every stored item was read: the zone
 * and the aliases.  (A feed's default category matters to its own items
 * only; feed_sync_config compares those one by one, so that adding or
 * removing a feed does not make every other feed be read again.)
 */
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
	xasprintf(&out, "s2-%016llx", (unsigned long long)h);
	return out;
}

int
feed_sync_config(struct store *s, const struct config *cfg, char **cause)
{
	struct store_feed *have, sf, prev;
	size_t n, i;
	int64_t id;
	int recat = 0;
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
		/* A feed whose default category changed is read again. */
		if (store_feed_get(s, cf->name, &prev) == 0) {
			if ((prev.category == NULL) != (sf.category == NULL) ||
			    (prev.category != NULL &&
			    strcmp(prev.category, sf.category) != 0))
				recat = 1;
			store_feed_clear(&prev);
		}
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
	if (old == NULL || strcmp(old, sig) != 0 || recat) {
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
		/* Not its size: a file that grows on must not make a new
		 * error (logged anew) at every refresh. */
		xasprintf(cause, "%s: larger than max_feed_bytes (%llu "
		    "bytes)", path, (unsigned long long)max);
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

/* Whether a feed's new problems are the ones it had (old may end with a
 * note on duplicate UIDs, which the store adds). */
static int
same_problems(const char *old, const char *new)
{
	size_t n = strlen(new);

	return old != NULL && strncmp(old, new, n) == 0 &&
	    (old[n] == '\0' || old[n] == ';');
}

/* Note one fetch in the feed's health: good when error is NULL. */
static void
record_fetch(const struct feed_env *env, const struct config_feed *cf,
    int64_t feed_id, time_t now, int http_status, const char *error,
    const char *etag, const char *last_modified)
{
	struct store_fetch fe;

	memset(&fe, 0, sizeof fe);
	fe.when = now;
	fe.ok = error == NULL;
	fe.error = error;
	fe.http_status = http_status;
	fe.etag = etag;
	fe.last_modified = last_modified;
	if (store_feed_fetched(env->store, feed_id, &fe) == -1)
		log_warnx("feed %s: recording its health: %s", cf->name,
		    store_errmsg(env->store));
}

void
feed_failed(const struct feed_env *env, const struct config_feed *cf,
    time_t now, int http_status, const char *error)
{
	struct store_feed sf;
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
	record_fetch(env, cf, sf.id, now, http_status, error, NULL, NULL);
	store_feed_clear(&sf);
}

int
feed_apply(const struct feed_env *env, const struct config_feed *cf,
    time_t now, const char *body, size_t len, int http_status,
    const char *etag, const char *last_modified, struct feed_result *r)
{
	struct update_ctx ctx;
	struct store_feed sf;
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
			log_info("feed %s: items %lld (%lld new or changed, "
			    "%lld removed)%s", cf->name,
			    (long long)r->update.items,
			    (long long)r->update.changed,
			    (long long)r->update.removed,
			    r->update.truncated ? "; body incomplete, nothing "
			    "removed" : "");
		/* Problems stay in the feed's health; the log says them
		 * when they change, not at every new body (a feed over
		 * max_items, say, that changes every refresh). */
		if (r->update.problems != NULL &&
		    same_problems(sf.problems, r->update.problems))
			log_debug("feed %s: %s", cf->name, r->update.problems);
		else if (r->update.problems != NULL)
			log_warnx("feed %s: %s", cf->name, r->update.problems);
	}
	record_fetch(env, cf, sf.id, now, http_status, NULL, etag,
	    last_modified);
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

/* Scheduling */

int64_t
feed_backoff(int64_t refresh, int failures)
{
	int64_t cap = refresh > FEED_BACKOFF_CAP ? refresh : FEED_BACKOFF_CAP;
	int64_t d = refresh > 0 ? refresh : 1;
	int i;

	for (i = 0; i < failures && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

int64_t
feed_jitter_max_ms(int64_t refresh)
{
	int64_t ms = refresh > 0 ? refresh * 100 : 0;	/* a tenth, in ms */

	return ms < FEED_JITTER_CAP * 1000 ? ms : FEED_JITTER_CAP * 1000;
}

int64_t
feed_next_ms(int64_t refresh, int failures, int64_t last_ms, int64_t now_ms,
    uint32_t rnd)
{
	int64_t due;

	if (last_ms <= 0)
		return now_ms;
	due = last_ms + feed_backoff(refresh, failures) * 1000 +
	    (int64_t)(rnd % (uint64_t)(feed_jitter_max_ms(refresh) + 1));
	return due > now_ms ? due : now_ms;
}

char *
feed_status_line(const struct store_feed *f, size_t n)
{
	size_t i, ok = 0, failing = 0, pending = 0, shown = 0;
	char *out, *t;

	for (i = 0; i < n; i++) {
		if (f[i].last_error != NULL)
			failing++;
		else if (f[i].last_fetch == 0)
			pending++;
		else
			ok++;
	}
	xasprintf(&out, "%zu feed%s, %zu ok", n, n == 1 ? "" : "s", ok);
	if (pending > 0) {
		xasprintf(&t, "%s, %zu not fetched yet", out, pending);
		free(out);
		out = t;
	}
	if (failing == 0)
		return out;
	xasprintf(&t, "%s, %zu failing:", out, failing);
	free(out);
	out = t;
	/* Name the first few: STATUS is one line in systemctl status. */
	for (i = 0; i < n && shown < 3; i++) {
		if (f[i].last_error == NULL)
			continue;
		xasprintf(&t, "%s%s %s: %.120s", out, shown > 0 ? ";" : "",
		    f[i].name, f[i].last_error);
		free(out);
		out = t;
		shown++;
	}
	if (failing > shown) {
		xasprintf(&t, "%s; %zu more", out, failing - shown);
		free(out);
		out = t;
	}
	return out;
}

/* The scheduler */

struct feed_refresh;

/* A refresh waiting for a feed's fetch: its slot in the refresh. */
struct feed_wait {
	struct feed_refresh	*r;
	size_t			 slot;
};

struct feed_state {
	struct feed_sched	*s;
	char			*name;
	const struct config_feed *cf;	/* in env->cfg; updated on reload */
	struct event		*timer;
	int64_t			 next_ms;	/* 0: not scheduled */
	int64_t			 last_ms;	/* our last fetch ended; 0:
						   none since start */
	struct fetch_xfer	*xfer;		/* in flight */
	int			 unconditional;	/* next fetch: no ETag */
	char			*ca;		/* the CA file in use, or NULL */
	struct feed_wait	*waits;
	size_t			 nwaits;
	TAILQ_ENTRY(feed_state)	 entry;
};

struct feed_refresh {
	feed_refresh_cb		 done;
	void			*arg;
	struct feed_outcome	*out;
	char			**strs;		/* owned: names, errors */
	size_t			 nstrs;
	size_t			 n, pending;
};

struct feed_sched {
	struct event_base	*base;
	const struct feed_env	*env;
	struct fetcher		*fetcher;
	enum feed_sched_mode	 mode;
	int			 stopped;
	size_t			 busy;
	TAILQ_HEAD(, feed_state) feeds;
};

static int64_t
feed_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
feed_refresh_str(struct feed_refresh *r, const char *s)
{
	if (s == NULL)
		return NULL;
	r->strs = xreallocarray(r->strs, r->nstrs + 1, sizeof *r->strs);
	return r->strs[r->nstrs++] = xstrdup(s);
}

static void
feed_refresh_free(struct feed_refresh *r)
{
	size_t i;

	for (i = 0; i < r->nstrs; i++)
		free(r->strs[i]);
	free(r->strs);
	free(r->out);
	free(r);
}

/* Fill a refresh's slot; the last one calls its callback. */
static void
feed_refresh_fill(struct feed_refresh *r, size_t slot,
    const struct feed_outcome *o)
{
	struct feed_outcome *d = &r->out[slot];

	d->ok = o->ok;
	d->unchanged = o->unchanged;
	d->http_status = o->http_status;
	d->items = o->items;
	d->changed = o->changed;
	d->removed = o->removed;
	d->error = feed_refresh_str(r, o->error);
	if (--r->pending == 0) {
		r->done(r->out, r->n, r->arg);
		feed_refresh_free(r);
	}
}

/* Answer every refresh waiting on a feed. */
static void
feed_state_answer(struct feed_state *fs, const struct feed_outcome *o)
{
	struct feed_wait *w = fs->waits;
	size_t i, n = fs->nwaits;

	/* The callbacks may ask for more: start a fresh list first. */
	fs->waits = NULL;
	fs->nwaits = 0;
	for (i = 0; i < n; i++)
		feed_refresh_fill(w[i].r, w[i].slot, o);
	free(w);
}

static void
feed_state_schedule(struct feed_state *fs)
{
	struct feed_sched *s = fs->s;
	struct store_feed sf;
	struct timeval tv;
	int64_t now_ms = feed_now_ms(), delay, last_ms;

	evtimer_del(fs->timer);
	fs->next_ms = 0;
	if (s->mode != FEED_SCHED_PERIODIC || s->stopped || fs->xfer != NULL)
		return;
	if (store_feed_get(s->env->store, fs->name, &sf) != 0) {
		/* Not in the database (a failed reload?): try again later. */
		memset(&sf, 0, sizeof sf);
		sf.last_fetch = now_ms / 1000;
		sf.failures = 1;
	}
	/* The store keeps seconds; a fetch of ours is known to the ms. */
	last_ms = sf.last_fetch * 1000;
	if (fs->last_ms / 1000 == sf.last_fetch)
		last_ms = fs->last_ms;
	/* The store forgot what it read (the zone or the aliases changed):
	 * read it again now, unless the feed is failing anyway. */
	if (!sf.has_body_hash && sf.last_success != 0 && sf.failures == 0)
		last_ms = 0;
	fs->next_ms = feed_next_ms(fs->cf->refresh, sf.failures, last_ms,
	    now_ms, arc4random());
	delay = fs->next_ms - now_ms;
	if (sf.failures > 0)
		log_debug("feed %s: next fetch in %.1f s (backing off after "
		    "%d failure%s)", fs->name, (double)delay / 1000,
		    sf.failures, sf.failures == 1 ? "" : "s");
	else
		log_debug("feed %s: next fetch in %.1f s", fs->name,
		    (double)delay / 1000);
	store_feed_clear(&sf);
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(fs->timer, &tv);
}

/* Fire a feed's timer now (from the loop, not from here). */
static void
feed_state_kick(struct feed_state *fs)
{
	struct timeval tv = { 0, 0 };

	if (fs->xfer != NULL || fs->s->stopped)
		return;
	evtimer_del(fs->timer);
	fs->next_ms = 0;
	evtimer_add(fs->timer, &tv);
}

static void
feed_state_finish(struct feed_state *fs, struct feed_result *res,
    int http_status)
{
	const struct feed_env *env = fs->s->env;
	struct feed_outcome o;

	memset(&o, 0, sizeof o);
	o.feed = fs->name;
	o.ok = res->ok;
	o.unchanged = res->unchanged;
	o.http_status = http_status;
	o.items = res->update.items;
	o.changed = res->update.changed;
	o.removed = res->update.removed;
	o.error = res->error;
	feed_state_schedule(fs);
	if (env->fetched != NULL)
		env->fetched(fs->name, env->arg);
	feed_state_answer(fs, &o);
}

/* A 304: nothing to read; the feed's health notes a good fetch. */
static void
feed_not_modified(const struct feed_env *env, const struct config_feed *cf,
    time_t now, int http_status, const char *etag, const char *last_modified,
    struct feed_result *r)
{
	struct store_feed sf;

	memset(r, 0, sizeof *r);
	if (store_feed_get(env->store, cf->name, &sf) != 0) {
		xasprintf(&r->error, "feed not in the database");
		return;
	}
	r->ok = 1;
	r->unchanged = 1;
	r->update.items = sf.items;
	if (sf.last_error != NULL)
		log_info("feed %s: fetched again (not modified); %lld items",
		    cf->name, (long long)sf.items);
	else
		log_debug("feed %s: not modified", cf->name);
	record_fetch(env, cf, sf.id, now, http_status, NULL, etag,
	    last_modified);
	store_feed_clear(&sf);
}

static void
feed_fetch_done_cb(const struct fetch_reply *rep, void *arg)
{
	struct feed_state *fs = arg;
	struct feed_sched *s = fs->s;
	struct feed_result res;
	time_t now;

	fs->last_ms = feed_now_ms();
	now = (time_t)(fs->last_ms / 1000);
	fs->xfer = NULL;
	s->busy--;
	memset(&res, 0, sizeof res);
	switch (rep->status) {
	case FETCH_OK:
		log_debug("feed %s: HTTP %d, %zu bytes", fs->name,
		    rep->http_status, rep->len);
		feed_apply(s->env, fs->cf, now, rep->body, rep->len,
		    rep->http_status, rep->etag, rep->last_modified, &res);
		break;
	case FETCH_NOT_MODIFIED:
		feed_not_modified(s->env, fs->cf, now, rep->http_status,
		    rep->etag, rep->last_modified, &res);
		break;
	case FETCH_FAILED:
		feed_failed(s->env, fs->cf, now, rep->http_status, rep->error);
		res.error = xstrdup(rep->error);
		break;
	}
	feed_state_finish(fs, &res, rep->http_status);
	feed_result_clear(&res);
}

/* Start an http(s) fetch; 0, or -1 with *cause. */
static int
feed_state_fetch(struct feed_state *fs, time_t now, char **cause)
{
	struct feed_sched *s = fs->s;
	const struct feed_env *env = s->env;
	const struct config_feed *cf = fs->cf;
	struct update_ctx ctx;
	struct store_feed sf;
	struct fetch_req req;
	int64_t mf, mt;
	int conditional;
	char *shown;

	if (store_feed_get(env->store, cf->name, &sf) != 0) {
		xasprintf(cause, "feed not in the database");
		return -1;
	}
	/*
	 * A conditional request can only say "nothing changed"; when the
	 * window the feed is materialised for has slid (once a day) or
	 * was forgotten (zone or aliases changed), or the URL changed, the
	 * body is needed again, so ask for it outright.
	 */
	update_ctx_init(env, now, &ctx);
	update_window(&ctx, &mf, &mt);
	conditional = !fs->unconditional && sf.has_body_hash &&
	    sf.mat_from == mf && sf.mat_to == mt;
	memset(&req, 0, sizeof req);
	req.url = cf->url;
	req.username = cf->username;
	req.password = cf->password;
	req.ca_file = cf->ca_file != NULL ? cf->ca_file : env->cfg->ca_file;
	req.etag = conditional ? sf.etag : NULL;
	req.last_modified = conditional ? sf.last_modified : NULL;
	req.max_bytes = env->cfg->max_feed_bytes;
	req.timeout = env->cfg->fetch_timeout;
	shown = feed_display_url(cf->url);
	log_debug("feed %s: GET %s%s%s", cf->name, shown,
	    req.etag != NULL ? " If-None-Match" : "",
	    req.last_modified != NULL ? " If-Modified-Since" : "");
	free(shown);
	fs->xfer = fetch_start(s->fetcher, &req, feed_fetch_done_cb, fs,
	    cause);
	store_feed_clear(&sf);
	if (fs->xfer == NULL)
		return -1;
	fs->unconditional = 0;
	s->busy++;
	return 0;
}

static void
feed_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct feed_state *fs = arg;
	struct feed_sched *s = fs->s;
	const struct config_feed *cf = fs->cf;
	struct feed_result res;
	time_t now;
	char *body = NULL, *cause = NULL;
	size_t len;

	(void)fd;
	(void)what;
	fs->next_ms = 0;
	if (fs->xfer != NULL)
		return;
	fs->last_ms = feed_now_ms();
	now = (time_t)(fs->last_ms / 1000);
	memset(&res, 0, sizeof res);
	if (feed_scheme(cf->url) != FEED_FILE) {
		if (feed_state_fetch(fs, now, &cause) == 0)
			return;
		feed_failed(s->env, cf, now, 0, cause);
		res.error = cause;
	} else if (feed_read_file(cf->path, s->env->cfg->max_feed_bytes,
	    &body, &len, &cause) == -1) {
		feed_failed(s->env, cf, now, 0, cause);
		res.error = cause;
	} else {
		feed_apply(s->env, cf, now, body, len, 0, NULL, NULL, &res);
		free(body);
	}
	feed_state_finish(fs, &res, 0);
	feed_result_clear(&res);
}

static struct feed_state *
feed_state_find(const struct feed_sched *s, const char *name)
{
	struct feed_state *fs;

	TAILQ_FOREACH(fs, &s->feeds, entry)
		if (strcmp(fs->name, name) == 0)
			return fs;
	return NULL;
}

/* The CA file a feed is verified with: its own, else the daemon's.
 * Caller frees. */
static char *
feed_ca(const struct config *cfg, const struct config_feed *cf)
{
	const char *ca = cf->ca_file != NULL ? cf->ca_file : cfg->ca_file;

	return ca != NULL ? xstrdup(ca) : NULL;
}

static struct feed_state *
feed_state_new(struct feed_sched *s, const struct config_feed *cf)
{
	struct feed_state *fs = xcalloc(1, sizeof *fs);

	fs->s = s;
	fs->name = xstrdup(cf->name);
	fs->cf = cf;
	fs->ca = feed_ca(s->env->cfg, cf);
	if ((fs->timer = evtimer_new(s->base, feed_timer_cb, fs)) == NULL)
		fatalx("feed: cannot create a timer");
	TAILQ_INSERT_TAIL(&s->feeds, fs, entry);
	return fs;
}

/* Cancel a feed's fetch and answer its refreshes with why. */
static void
feed_state_abort(struct feed_state *fs, const char *why)
{
	struct feed_outcome o;

	evtimer_del(fs->timer);
	fs->next_ms = 0;
	if (fs->xfer != NULL) {
		fetch_cancel(fs->xfer);
		fs->xfer = NULL;
		fs->s->busy--;
	}
	memset(&o, 0, sizeof o);
	o.feed = fs->name;
	o.error = why;
	feed_state_answer(fs, &o);
}

static void
feed_state_free(struct feed_state *fs)
{
	feed_state_abort(fs, "the daemon is stopping");
	TAILQ_REMOVE(&fs->s->feeds, fs, entry);
	event_free(fs->timer);
	free(fs->waits);
	free(fs->ca);
	free(fs->name);
	free(fs);
}

struct feed_sched *
feed_sched_new(struct event_base *base, const struct feed_env *env,
    struct fetcher *fetcher, enum feed_sched_mode mode)
{
	struct feed_sched *s = xcalloc(1, sizeof *s);
	struct feed_state *fs;
	size_t i;

	s->base = base;
	s->env = env;
	s->fetcher = fetcher;
	s->mode = mode;
	TAILQ_INIT(&s->feeds);
	for (i = 0; i < env->cfg->nfeeds; i++) {
		fs = feed_state_new(s, &env->cfg->feeds[i]);
		feed_state_schedule(fs);
	}
	return s;
}

void
feed_sched_free(struct feed_sched *s)
{
	struct feed_state *fs;

	if (s == NULL)
		return;
	s->stopped = 1;
	while ((fs = TAILQ_FIRST(&s->feeds)) != NULL)
		feed_state_free(fs);
	free(s);
}

static int
feed_str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

void
feed_sched_reload(struct feed_sched *s)
{
	const struct config *cfg = s->env->cfg;
	struct feed_state *fs, *next;
	const struct config_feed *old, *cf;
	size_t i;
	char *ca;
	int cachanged;

	/* glibc's sys/queue.h has no TAILQ_FOREACH_SAFE. */
	for (fs = TAILQ_FIRST(&s->feeds); fs != NULL; fs = next) {
		next = TAILQ_NEXT(fs, entry);
		if (config_feed_find(cfg, fs->name) != NULL)
			continue;
		log_debug("feed %s: removed from the configuration",
		    fs->name);
		/* Answered with this reason, feed_state_free finds none. */
		feed_state_abort(fs, "removed from the configuration");
		feed_state_free(fs);
	}
	for (i = 0; i < cfg->nfeeds; i++) {
		cf = &cfg->feeds[i];
		if ((fs = feed_state_find(s, cf->name)) == NULL) {
			log_info("feed %s: added", cf->name);
			fs = feed_state_new(s, cf);
			feed_state_schedule(fs);
			continue;
		}
		old = fs->cf;
		fs->cf = cf;
		ca = feed_ca(cfg, cf);
		cachanged = feed_str_differs(ca, fs->ca);
		free(fs->ca);
		fs->ca = ca;
		if (feed_str_differs(old->url, cf->url) ||
		    feed_str_differs(old->username, cf->username) ||
		    feed_str_differs(old->password, cf->password) ||
		    cachanged) {
			/* The transfer in flight asks the old place. */
			log_info("feed %s: source changed; fetching it now",
			    cf->name);
			if (fs->xfer != NULL) {
				fetch_cancel(fs->xfer);
				fs->xfer = NULL;
				s->busy--;
			}
			fs->unconditional = 1;
			if (s->mode == FEED_SCHED_PERIODIC && !s->stopped)
				feed_state_kick(fs);
		} else if (fs->xfer == NULL && fs->nwaits == 0)
			/* Its refresh may have changed, or the store may
			 * have forgotten its body (zone, aliases). */
			feed_state_schedule(fs);
	}
	/* A refresh that was waiting on a cancelled fetch still needs it. */
	TAILQ_FOREACH(fs, &s->feeds, entry)
		if (fs->nwaits > 0 && fs->xfer == NULL)
			feed_state_kick(fs);
}

/* A refresh over zero feeds still answers later, from the loop. */
static void
feed_refresh_empty_cb(evutil_socket_t fd, short what, void *arg)
{
	struct feed_refresh *r = arg;

	(void)fd;
	(void)what;
	r->done(r->out, 0, r->arg);
	feed_refresh_free(r);
}

static void
feed_state_wait(struct feed_state *fs, struct feed_refresh *r, size_t slot)
{
	fs->waits = xreallocarray(fs->waits, fs->nwaits + 1,
	    sizeof *fs->waits);
	fs->waits[fs->nwaits].r = r;
	fs->waits[fs->nwaits].slot = slot;
	fs->nwaits++;
	r->out[slot].feed = feed_refresh_str(r, fs->name);
}

int
feed_sched_refresh(struct feed_sched *s, const char *feed,
    feed_refresh_cb done, void *arg)
{
	struct feed_refresh *r;
	struct feed_state *fs, *one = NULL;
	struct timeval tv = { 0, 0 };
	size_t n = 0;

	if (feed != NULL) {
		if ((one = feed_state_find(s, feed)) == NULL)
			return 1;
		n = 1;
	} else
		TAILQ_FOREACH(fs, &s->feeds, entry)
			n++;
	r = xcalloc(1, sizeof *r);
	r->done = done;
	r->arg = arg;
	r->n = r->pending = n;
	r->out = xcalloc(n > 0 ? n : 1, sizeof *r->out);
	if (n == 0) {
		if (event_base_once(s->base, -1, EV_TIMEOUT,
		    feed_refresh_empty_cb, r, &tv) == -1)
			fatalx("feed: cannot schedule a callback");
		return 0;
	}
	if (one != NULL) {
		feed_state_wait(one, r, 0);
		feed_state_kick(one);
		return 0;
	}
	n = 0;
	TAILQ_FOREACH(fs, &s->feeds, entry) {
		feed_state_wait(fs, r, n++);
		feed_state_kick(fs);
	}
	return 0;
}

time_t
feed_sched_next(const struct feed_sched *s, const char *feed)
{
	const struct feed_state *fs = feed_state_find(s, feed);

	if (fs == NULL || fs->next_ms == 0)
		return 0;
	return (time_t)(fs->next_ms / 1000);
}

void
feed_sched_stop(struct feed_sched *s)
{
	struct feed_state *fs;

	s->stopped = 1;
	TAILQ_FOREACH(fs, &s->feeds, entry) {
		evtimer_del(fs->timer);
		fs->next_ms = 0;
	}
}

size_t
feed_sched_busy(const struct feed_sched *s)
{
	return s->busy;
}
