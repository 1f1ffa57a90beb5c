/*
 * HTTP(S) fetching with libcurl's multi-socket interface on libevent.
 *
 * curl tells us which sockets it wants watched (socket_cb) and when it
 * next needs a call (timer_cb); we turn those into libevent events and
 * hand readiness back with curl_multi_socket_action.  Nothing here blocks
 * and nothing runs outside the loop.  Finished transfers are collected
 * after each curl_multi_socket_action call and reported through their
 * callbacks, which may start or cancel other transfers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "djcal/fetch.h"
#include "djcal/log.h"
#include "djcal/types.h"
#include "djcal/xmalloc.h"

/* A response header line is at most this long to be kept. */
#define FETCH_MAX_HEADER	1024
/* A day: longer whole-transfer timeouts are treated as this. */
#define FETCH_MAX_TIMEOUT	86400

struct fetch_xfer {
	struct fetcher		*f;
	CURL			*easy;
	struct curl_slist	*headers;
	fetch_done_cb		 done;
	void			*arg;
	char			*body;
	size_t			 len, cap;
	uint64_t		 max;
	int			 too_big;
	int64_t			 timeout;
	char			*etag;
	char			*last_modified;
	char			*secrets[2];	/* kept out of error texts */
	char			 errbuf[CURL_ERROR_SIZE];
	TAILQ_ENTRY(fetch_xfer)	 entry;
};

/* A socket curl asked us to watch. */
struct fetch_sock {
	struct fetcher		*f;
	curl_socket_t		 fd;
	struct event		*ev;
	int			 what;
};

struct fetcher {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	size_t			 nactive;
	TAILQ_HEAD(, fetch_xfer) xfers;
};

static int	fetch_global_refs;

static void	fetch_check_done(struct fetcher *);

static void
fetch_sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetch_sock *fs = arg;
	struct fetcher *f = fs->f;
	int flags = 0, running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	/* fs may be freed by socket_cb inside this call: use f after. */
	curl_multi_socket_action(f->multi, fd, flags, &running);
	fetch_check_done(f);
}

static int
fetch_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *sockp)
{
	struct fetcher *f = userp;
	struct fetch_sock *fs = sockp;
	short ev;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (fs != NULL) {
			event_free(fs->ev);
			free(fs);
			curl_multi_assign(f->multi, fd, NULL);
		}
		return 0;
	}
	ev = EV_PERSIST;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= EV_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= EV_WRITE;
	if (fs == NULL) {
		fs = xcalloc(1, sizeof *fs);
		fs->f = f;
		fs->fd = fd;
		curl_multi_assign(f->multi, fd, fs);
	} else if (fs->what == what)
		return 0;
	else {
		event_free(fs->ev);
		fs->ev = NULL;
	}
	fs->what = what;
	fs->ev = event_new(f->base, fd, ev, fetch_sock_event_cb, fs);
	if (fs->ev == NULL || event_add(fs->ev, NULL) == -1)
		fatalx("fetch: cannot watch a socket");
	return 0;
}

static void
fetch_timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetcher *f = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	fetch_check_done(f);
}

/* curl asks for a call in timeout_ms (-1: none).  We may not call back
 * into curl from here, so even 0 goes through the loop. */
static int
fetch_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetcher *f = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(f->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(f->timer, &tv);
	return 0;
}

struct fetcher *
fetch_new(struct event_base *base, char **cause)
{
	struct fetcher *f;

	if (fetch_global_refs++ == 0 &&
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fetch_global_refs--;
		xasprintf(cause, "libcurl: global initialisation failed");
		return NULL;
	}
	f = xcalloc(1, sizeof *f);
	f->base = base;
	TAILQ_INIT(&f->xfers);
	if ((f->multi = curl_multi_init()) == NULL) {
		xasprintf(cause, "libcurl: cannot create a multi handle");
		free(f);
		if (--fetch_global_refs == 0)
			curl_global_cleanup();
		return NULL;
	}
	if ((f->timer = evtimer_new(base, fetch_timer_event_cb, f)) == NULL)
		fatalx("fetch: cannot create a timer");
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, fetch_socket_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, fetch_timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	return f;
}

static void
fetch_xfer_free(struct fetch_xfer *x)
{
	struct fetcher *f = x->f;

	TAILQ_REMOVE(&f->xfers, x, entry);
	f->nactive--;
	curl_multi_remove_handle(f->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->body);
	free(x->etag);
	free(x->last_modified);
	free(x->secrets[0]);
	free(x->secrets[1]);
	free(x);
}

void
fetch_free(struct fetcher *f)
{
	struct fetch_xfer *x;

	if (f == NULL)
		return;
	while ((x = TAILQ_FIRST(&f->xfers)) != NULL)
		fetch_xfer_free(x);
	curl_multi_cleanup(f->multi);
	event_free(f->timer);
	free(f);
	if (--fetch_global_refs == 0)
		curl_global_cleanup();
}

static size_t
fetch_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct fetch_xfer *x = arg;
	size_t n = size * nmemb;

	/* The cap counts decoded bytes, so a small gzip body cannot
	 * unpack into a huge one. */
	if ((uint64_t)x->len + n > x->max) {
		x->too_big = 1;
		return 0;	/* curl aborts with CURLE_WRITE_ERROR */
	}
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap == 0 ? 16384 : x->cap;

		while (cap < x->len + n + 1)
			cap *= 2;
		x->body = xrealloc(x->body, cap);
		x->cap = cap;
	}
	memcpy(x->body + x->len, ptr, n);
	x->len += n;
	x->body[x->len] = '\0';
	return n;
}

/* A header's value if line is "name: value", trimmed; NULL otherwise.
 * Caller frees. */
static char *
fetch_header_value(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name), i, j, end;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	i = nl + 1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	end = len;
	while (end > i && (line[end - 1] == '\r' || line[end - 1] == '\n' ||
	    line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	if (end == i)
		return NULL;
	/* The value goes back out in a request header: no control bytes. */
	for (j = i; j < end; j++)
		if ((unsigned char)line[j] < 0x20 || line[j] == 0x7f)
			return NULL;
	return xstrndup(line + i, end - i);
}

static size_t
fetch_header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct fetch_xfer *x = arg;
	size_t n = size * nitems;
	char *v;

	if (n > FETCH_MAX_HEADER)
		return n;
	/* A new status line: a redirect's or 100's headers are not ours. */
	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		free(x->etag);
		free(x->last_modified);
		x->etag = x->last_modified = NULL;
		return n;
	}
	if ((v = fetch_header_value(buf, n, "ETag")) != NULL) {
		free(x->etag);
		x->etag = v;
	} else if ((v = fetch_header_value(buf, n, "Last-Modified")) != NULL) {
		free(x->last_modified);
		x->last_modified = v;
	}
	return n;
}

/* A request header "name: value", or NULL when value holds control
 * bytes that would split it. */
static struct curl_slist *
fetch_add_header(struct curl_slist *list, const char *name, const char *value)
{
	struct curl_slist *l;
	const char *p;
	char *h;

	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return list;
	xasprintf(&h, "%s: %s", name, value);
	if ((l = curl_slist_append(list, h)) == NULL)
		fatalx("out of memory");
	free(h);
	return l;
}

/* The user information of a URL ("user:password" before '@'), or NULL.
 * Caller frees. */
static char *
fetch_userinfo(const char *url)
{
	const char *p, *q, *end, *at = NULL;

	if ((p = strstr(url, "://")) == NULL)
		return NULL;
	p += 3;
	end = p + strcspn(p, "/?#");
	for (q = p; q < end; q++)
		if (*q == '@')
			at = q;
	return at != NULL && at > p ? xstrndup(p, (size_t)(at - p)) : NULL;
}

/*
 * curl's messages name hosts and ports, not user information; still, an
 * error text is stored and shown, so anything that looks like the
 * credentials is masked (values this short would mask at random).
 */
static void
fetch_scrub(struct fetch_xfer *x, char *msg)
{
	char *hit;
	size_t i, n;

	for (i = 0; i < 2; i++) {
		if (x->secrets[i] == NULL || (n = strlen(x->secrets[i])) < 4)
			continue;
		while ((hit = strstr(msg, x->secrets[i])) != NULL)
			memset(hit, '*', n);
	}
}

struct fetch_xfer *
fetch_start(struct fetcher *f, const struct fetch_req *req, fetch_done_cb done,
    void *arg, char **cause)
{
	struct fetch_xfer *x;
	CURL *e;
	int64_t timeout, connect;

	if ((e = curl_easy_init()) == NULL) {
		xasprintf(cause, "libcurl: cannot create a transfer");
		return NULL;
	}
	x = xcalloc(1, sizeof *x);
	x->f = f;
	x->easy = e;
	x->done = done;
	x->arg = arg;
	x->max = req->max_bytes;
	x->secrets[0] = fetch_userinfo(req->url);
	if (req->password != NULL)
		x->secrets[1] = xstrdup(req->password);
	timeout = req->timeout;
	if (timeout <= 0 || timeout > FETCH_MAX_TIMEOUT)
		timeout = FETCH_MAX_TIMEOUT;
	x->timeout = timeout;
	connect = timeout < FETCH_CONNECT_TIMEOUT ? timeout :
	    FETCH_CONNECT_TIMEOUT;

	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
	/* "": every encoding this libcurl can decode (gzip, deflate...). */
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "djcald/" DJCAL_VERSION);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect * 1000);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout * 1000);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
	if (req->username != NULL)
		curl_easy_setopt(e, CURLOPT_USERNAME, req->username);
	if (req->password != NULL)
		curl_easy_setopt(e, CURLOPT_PASSWORD, req->password);
	if (req->max_bytes > 0 && req->max_bytes < (uint64_t)INT64_MAX)
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)req->max_bytes);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	if (req->etag != NULL && *req->etag != '\0')
		x->headers = fetch_add_header(x->headers, "If-None-Match",
		    req->etag);
	if (req->last_modified != NULL && *req->last_modified != '\0')
		x->headers = fetch_add_header(x->headers, "If-Modified-Since",
		    req->last_modified);
	if (x->headers != NULL)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);

	TAILQ_INSERT_TAIL(&f->xfers, x, entry);
	f->nactive++;
	/* Adding only arms the timer (timer_cb with 0): the transfer and
	 * its callback happen later, from the loop. */
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
		xasprintf(cause, "libcurl: cannot add a transfer");
		TAILQ_REMOVE(&f->xfers, x, entry);
		f->nactive--;
		curl_easy_cleanup(e);
		curl_slist_free_all(x->headers);
		free(x->secrets[0]);
		free(x->secrets[1]);
		free(x);
		return NULL;
	}
	return x;
}

void
fetch_cancel(struct fetch_xfer *x)
{
	if (x != NULL)
		fetch_xfer_free(x);
}

size_t
fetch_active(const struct fetcher *f)
{
	return f->nactive;
}

/* The error text of a finished transfer, with no URL (so no
 * credentials) in it.  Caller frees. */
static char *
fetch_error(struct fetch_xfer *x, CURLcode rc, long code)
{
	char *s;

	if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		xasprintf(&s, "more than max_feed_bytes (%llu bytes)",
		    (unsigned long long)x->max);
		return s;
	}
	if (rc == CURLE_OK) {
		xasprintf(&s, "HTTP %ld", code);
		return s;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		xasprintf(&s, "timed out after %lld s",
		    (long long)x->timeout);
		return s;
	}
	if (rc == CURLE_TOO_MANY_REDIRECTS) {
		xasprintf(&s, "more than %d redirects", FETCH_MAX_REDIRS);
		return s;
	}
	xasprintf(&s, "%s", x->errbuf[0] != '\0' ? x->errbuf :
	    curl_easy_strerror(rc));
	fetch_scrub(x, s);
	return s;
}

static void
fetch_finish(struct fetch_xfer *x, CURLcode rc)
{
	struct fetch_reply r;
	long code = 0;
	char *err = NULL;
	fetch_done_cb done = x->done;
	void *arg = x->arg;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	memset(&r, 0, sizeof r);
	r.http_status = (int)code;
	r.etag = x->etag;
	r.last_modified = x->last_modified;
	if (rc == CURLE_OK && code >= 200 && code < 300) {
		r.status = FETCH_OK;
		r.body = x->body != NULL ? x->body : "";
		r.len = x->len;
	} else if (rc == CURLE_OK && code == 304) {
		r.status = FETCH_NOT_MODIFIED;
	} else {
		r.status = FETCH_FAILED;
		r.error = err = fetch_error(x, rc, code);
	}
	/* The callback may start or cancel other transfers (not this one,
	 * nor free the fetcher); x is freed after it. */
	done(&r, arg);
	free(err);
	fetch_xfer_free(x);
}

static void
fetch_check_done(struct fetcher *f)
{
	struct fetch_xfer *x;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&x) != CURLE_OK || x == NULL)
			continue;
		fetch_finish(x, msg->data.result);
	}
}
