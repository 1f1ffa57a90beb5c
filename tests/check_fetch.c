/*
 * Tests for fetch.c: libcurl's multi-socket API on a libevent loop, against
 * an evhttp server on the same loop (loopback only, no threads, no sleeps).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <zlib.h>

#include "djcal/fetch.h"
#include "djcal/xmalloc.h"
#include "testutil.h"

#define BODY	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
#define ETAG	"\"v1\""
#define LASTMOD	"Wed, 01 Jan 2025 00:00:00 GMT"

static struct event_base *base;
static struct evhttp *http;
static struct fetcher *fetcher;
static int port;
static struct evhttp_request *hung;	/* a request left unanswered */
static char *seen_auth;			/* Authorization of the last request */
static char *seen_inm;			/* If-None-Match of the last request */
static char *seen_ae;			/* Accept-Encoding of the last request */

/* What a transfer's callback saw. */
struct got {
	int		 called;
	enum fetch_status status;
	int		 http_status;
	char		*body;
	size_t		 len;
	char		*etag, *last_modified, *error;
};

static void
got_clear(struct got *g)
{
	free(g->body);
	free(g->etag);
	free(g->last_modified);
	free(g->error);
	memset(g, 0, sizeof *g);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
done_cb(const struct fetch_reply *r, void *arg)
{
	struct got *g = arg;

	g->called++;
	g->status = r->status;
	g->http_status = r->http_status;
	if (r->body != NULL) {
		g->body = xmalloc(r->len + 1);
		memcpy(g->body, r->body, r->len);
		g->body[r->len] = '\0';
	}
	g->len = r->len;
	g->etag = dup_or_null(r->etag);
	g->last_modified = dup_or_null(r->last_modified);
	g->error = dup_or_null(r->error);
	event_base_loopbreak(base);
}

static void
remember(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);

	free(seen_auth);
	free(seen_inm);
	free(seen_ae);
	seen_auth = dup_or_null(evhttp_find_header(h, "Authorization"));
	seen_inm = dup_or_null(evhttp_find_header(h, "If-None-Match"));
	seen_ae = dup_or_null(evhttp_find_header(h, "Accept-Encoding"));
}

static void
reply(struct evhttp_request *req, int code, const void *data, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, data, len);
	evhttp_send_reply(req, code, "X", b);
	evbuffer_free(b);
}

static void
ok_cb(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *inm;

	(void)arg;
	remember(req);
	evhttp_add_header(out, "ETag", ETAG);
	evhttp_add_header(out, "Last-Modified", LASTMOD);
	inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	if (inm != NULL && strcmp(inm, ETAG) == 0) {
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	reply(req, 200, BODY, strlen(BODY));
}

static void
e500_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	remember(req);
	reply(req, 500, "no", 2);
}

static void
big_cb(struct evhttp_request *req, void *arg)
{
	char buf[4096];

	(void)arg;
	memset(buf, 'x', sizeof buf);
	reply(req, 200, buf, sizeof buf);
}

/* No Content-Length: only counting while reading can stop it. */
static void
chunked_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();
	char buf[1024];
	int i;

	(void)arg;
	memset(buf, 'y', sizeof buf);
	evhttp_send_reply_start(req, 200, "OK");
	for (i = 0; i < 4; i++) {
		evbuffer_add(b, buf, sizeof buf);
		evhttp_send_reply_chunk(req, b);
	}
	evhttp_send_reply_end(req);
	evbuffer_free(b);
}

static void
redirect_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
	    "/ok");
	evhttp_send_reply(req, 302, "Found", NULL);
}

static void
loop_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
	    "/loop");
	evhttp_send_reply(req, 302, "Found", NULL);
}

static void
hang_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	hung = req;	/* answered never; freed with the server */
}

/* A gzip body of n bytes of 'z', Content-Encoding: gzip. */
static void
gzip_send(struct evhttp_request *req, size_t n)
{
	unsigned char *in = xmalloc(n), out[65536];
	z_stream z;

	memset(in, 'z', n);
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 31, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = sizeof out;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Encoding", "gzip");
	reply(req, 200, out, sizeof out - z.avail_out);
	deflateEnd(&z);
	free(in);
}

static void
gzip_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	remember(req);
	gzip_send(req, 1000);
}

/* 1 MB of zeros compresses to about 1 KB. */
static void
bomb_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	gzip_send(req, 1024 * 1024);
}

static void
setup(void)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	char *cause = NULL;

	base = event_base_new();
	http = evhttp_new(base);
	bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	ck_assert_ptr_nonnull(bs);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin,
	    &sl);
	port = ntohs(sin.sin_port);
	evhttp_set_cb(http, "/ok", ok_cb, NULL);
	evhttp_set_cb(http, "/500", e500_cb, NULL);
	evhttp_set_cb(http, "/big", big_cb, NULL);
	evhttp_set_cb(http, "/chunked", chunked_cb, NULL);
	evhttp_set_cb(http, "/redirect", redirect_cb, NULL);
	evhttp_set_cb(http, "/loop", loop_cb, NULL);
	evhttp_set_cb(http, "/hang", hang_cb, NULL);
	evhttp_set_cb(http, "/gzip", gzip_cb, NULL);
	evhttp_set_cb(http, "/bomb", bomb_cb, NULL);
	fetcher = fetch_new(base, &cause);
	ck_assert_msg(fetcher != NULL, "fetch_new: %s", cause);
	hung = NULL;
}

static void
teardown(void)
{
	fetch_free(fetcher);
	evhttp_free(http);
	event_base_free(base);
	free(seen_auth);
	free(seen_inm);
	free(seen_ae);
	seen_auth = seen_inm = seen_ae = NULL;
}

static char *
url(const char *path)
{
	char *u;

	xasprintf(&u, "http://127.0.0.1:%d%s", port, path);
	return u;
}

/* Fetch path and run the loop until the callback came. */
static void
run(struct fetch_req *req, struct got *g)
{
	struct fetch_xfer *x;
	char *cause = NULL;

	memset(g, 0, sizeof *g);
	if (req->max_bytes == 0)
		req->max_bytes = 2048;
	if (req->timeout == 0)
		req->timeout = 30;
	x = fetch_start(fetcher, req, done_cb, g, &cause);
	ck_assert_msg(x != NULL, "fetch_start: %s", cause);
	ck_assert_int_eq(g->called, 0);		/* never from inside */
	ck_assert_uint_eq(fetch_active(fetcher), 1);
	event_base_dispatch(base);
	ck_assert_int_eq(g->called, 1);
	ck_assert_uint_eq(fetch_active(fetcher), 0);
}

static void
get(const char *path, struct got *g)
{
	struct fetch_req req;
	char *u = url(path);

	memset(&req, 0, sizeof req);
	req.url = u;
	run(&req, g);
	free(u);
}

START_TEST(test_ok_with_validators)
{
	struct got g;

	get("/ok", &g);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_int_eq(g.http_status, 200);
	ck_assert_str_eq(g.body, BODY);
	ck_assert_uint_eq(g.len, strlen(BODY));
	ck_assert_str_eq(g.etag, ETAG);
	ck_assert_str_eq(g.last_modified, LASTMOD);
	ck_assert_ptr_nonnull(seen_ae);		/* Accept-Encoding offered */
	ck_assert_ptr_nonnull(strstr(seen_ae, "gzip"));
	got_clear(&g);
}
END_TEST

START_TEST(test_conditional_304)
{
	struct fetch_req req;
	struct got g;
	char *u = url("/ok");

	memset(&req, 0, sizeof req);
	req.url = u;
	req.etag = ETAG;
	req.last_modified = LASTMOD;
	run(&req, &g);
	ck_assert_str_eq(seen_inm, ETAG);
	ck_assert_int_eq(g.status, FETCH_NOT_MODIFIED);
	ck_assert_int_eq(g.http_status, 304);
	ck_assert_ptr_null(g.body);
	got_clear(&g);

	/* A stale validator gets the body. */
	req.etag = "\"old\"";
	run(&req, &g);
	ck_assert_int_eq(g.status, FETCH_OK);
	got_clear(&g);
	free(u);
}
END_TEST

START_TEST(test_validator_with_newline_not_sent)
{
	struct fetch_req req;
	struct got g;
	char *u = url("/ok");

	memset(&req, 0, sizeof req);
	req.url = u;
	req.etag = "\"v1\"\r\nX-Evil: 1";
	run(&req, &g);
	ck_assert_ptr_null(seen_inm);
	ck_assert_int_eq(g.status, FETCH_OK);
	got_clear(&g);
	free(u);
}
END_TEST

START_TEST(test_http_500)
{
	struct got g;

	get("/500", &g);
	ck_assert_int_eq(g.status, FETCH_FAILED);
	ck_assert_int_eq(g.http_status, 500);
	ck_assert_str_eq(g.error, "HTTP 500");
	got_clear(&g);
}
END_TEST

START_TEST(test_too_big_with_length)
{
	struct got g;

	get("/big", &g);
	ck_assert_int_eq(g.status, FETCH_FAILED);
	ck_assert_ptr_nonnull(strstr(g.error, "max_feed_bytes"));
	got_clear(&g);
}
END_TEST

START_TEST(test_too_big_chunked)
{
	struct got g;

	get("/chunked", &g);
	ck_assert_int_eq(g.status, FETCH_FAILED);
	ck_assert_ptr_nonnull(strstr(g.error, "max_feed_bytes"));
	got_clear(&g);
}
END_TEST

START_TEST(test_gzip_decoded)
{
	struct got g;

	get("/gzip", &g);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_uint_eq(g.len, 1000);
	ck_assert_int_eq(g.body[0], 'z');
	ck_assert_int_eq(g.body[999], 'z');
	got_clear(&g);
}
END_TEST

/* max_bytes counts decoded bytes: a small compressed body that inflates
 * past the cap fails. */
START_TEST(test_gzip_bomb_capped)
{
	struct got g;

	get("/bomb", &g);
	ck_assert_int_eq(g.status, FETCH_FAILED);
	ck_assert_ptr_nonnull(strstr(g.error, "max_feed_bytes"));
	got_clear(&g);
}
END_TEST

START_TEST(test_redirect_followed)
{
	struct got g;

	get("/redirect", &g);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_int_eq(g.http_status, 200);
	ck_assert_str_eq(g.body, BODY);
	ck_assert_str_eq(g.etag, ETAG);
	got_clear(&g);
}
END_TEST

START_TEST(test_redirect_loop_bounded)
{
	struct got g;

	get("/loop", &g);
	ck_assert_int_eq(g.status, FETCH_FAILED);
	ck_assert_str_eq(g.error, "more than 5 redirects");
	got_clear(&g);
}
END_TEST

START_TEST(test_timeout)
{
	struct fetch_req req;
	struct got g;
	char *u = url("/hang");

	memset(&req, 0, sizeof req);
	req.url = u;
	req.timeout = 1;
	run(&req, &g);
	ck_assert_ptr_nonnull(hung);
	ck_assert_int_eq(g.status, FETCH_FAILED);
	ck_assert_str_eq(g.error, "timed out after 1 s");
	got_clear(&g);
	free(u);
}
END_TEST

/* Credentials go to the server and never into an error message. */
START_TEST(test_refused_no_credentials_in_error)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	struct fetch_req req;
	struct got g;
	char *u;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	close(fd);		/* nothing listens there now */
	xasprintf(&u, "http://reader:pw-s3cret@127.0.0.1:%d/x.ics",
	    ntohs(sin.sin_port));
	memset(&req, 0, sizeof req);
	req.url = u;
	run(&req, &g);
	ck_assert_int_eq(g.status, FETCH_FAILED);
	ck_assert_int_eq(g.http_status, 0);
	ck_assert_ptr_null(strstr(g.error, "s3cret"));
	ck_assert_ptr_null(strstr(g.error, "reader"));
	got_clear(&g);
	free(u);
}
END_TEST

START_TEST(test_credentials_sent)
{
	struct fetch_req req;
	struct got g;
	char *u;

	xasprintf(&u, "http://reader:pw@127.0.0.1:%d/ok", port);
	memset(&req, 0, sizeof req);
	req.url = u;
	run(&req, &g);
	ck_assert_str_eq(seen_auth, "Basic cmVhZGVyOnB3");	/* reader:pw */
	got_clear(&g);
	free(u);

	u = url("/ok");
	memset(&req, 0, sizeof req);
	req.url = u;
	req.username = "reader2";
	req.password = "other";
	run(&req, &g);
	ck_assert_str_eq(seen_auth, "Basic cmVhZGVyMjpvdGhlcg==");
	got_clear(&g);
	free(u);
}
END_TEST

START_TEST(test_cancel_no_callback)
{
	struct fetch_req req;
	struct fetch_xfer *x, *y;
	struct got g, h;
	char *u = url("/hang"), *v = url("/ok"), *cause = NULL;

	memset(&req, 0, sizeof req);
	memset(&g, 0, sizeof g);
	memset(&h, 0, sizeof h);
	req.url = u;
	req.max_bytes = 2048;
	req.timeout = 30;
	x = fetch_start(fetcher, &req, done_cb, &g, &cause);
	ck_assert_ptr_nonnull(x);
	req.url = v;
	y = fetch_start(fetcher, &req, done_cb, &h, &cause);
	ck_assert_ptr_nonnull(y);
	ck_assert_uint_eq(fetch_active(fetcher), 2);
	/* Run until the hanging request reached the server, then drop it. */
	while (hung == NULL || h.called == 0)
		event_base_loop(base, EVLOOP_ONCE);
	fetch_cancel(x);
	ck_assert_uint_eq(fetch_active(fetcher), 0);
	ck_assert_int_eq(g.called, 0);
	ck_assert_int_eq(h.called, 1);
	got_clear(&h);
	free(u);
	free(v);
}
END_TEST

/* Transfers in flight when the fetcher goes: no callbacks, no leaks. */
START_TEST(test_free_with_transfers)
{
	struct fetch_req req;
	struct got g;
	char *u = url("/hang"), *cause = NULL;

	memset(&req, 0, sizeof req);
	memset(&g, 0, sizeof g);
	req.url = u;
	req.max_bytes = 2048;
	ck_assert_ptr_nonnull(fetch_start(fetcher, &req, done_cb, &g,
	    &cause));
	while (hung == NULL)
		event_base_loop(base, EVLOOP_ONCE);
	fetch_free(fetcher);
	fetcher = NULL;
	ck_assert_int_eq(g.called, 0);
	free(u);
}
END_TEST

static Suite *
fetch_suite(void)
{
	Suite *s = suite_create("fetch");
	TCase *core = tcase_create("core"), *limits = tcase_create("limits");
	TCase *errors = tcase_create("errors");

	tcase_add_checked_fixture(core, setup, teardown);
	tcase_add_test(core, test_ok_with_validators);
	tcase_add_test(core, test_conditional_304);
	tcase_add_test(core, test_validator_with_newline_not_sent);
	tcase_add_test(core, test_gzip_decoded);
	tcase_add_test(core, test_redirect_followed);
	tcase_add_test(core, test_credentials_sent);
	tcase_add_test(core, test_cancel_no_callback);
	tcase_add_test(core, test_free_with_transfers);
	suite_add_tcase(s, core);

	tcase_add_checked_fixture(limits, setup, teardown);
	tcase_add_test(limits, test_too_big_with_length);
	tcase_add_test(limits, test_too_big_chunked);
	tcase_add_test(limits, test_gzip_bomb_capped);
	tcase_add_test(limits, test_redirect_loop_bounded);
	tcase_add_test(limits, test_timeout);
	suite_add_tcase(s, limits);

	tcase_add_checked_fixture(errors, setup, teardown);
	tcase_add_test(errors, test_http_500);
	tcase_add_test(errors, test_refused_no_credentials_in_error);
	suite_add_tcase(s, errors);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(fetch_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
