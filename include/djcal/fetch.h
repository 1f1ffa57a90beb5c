/*
 * The fetcher: HTTP(S) GETs with libcurl's multi-socket interface, driven
 * by the daemon's libevent loop (no threads of ours, no blocking calls).
 * It knows nothing of feeds or the store: it takes a request and calls back
 * once with what the server said.
 */
#ifndef DJCAL_FETCH_H
#define DJCAL_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

/* Redirects followed at most. */
#define FETCH_MAX_REDIRS	5
/* Connecting may take at most this long (and never longer than the
 * request's whole timeout). */
#define FETCH_CONNECT_TIMEOUT	30

/* One GET.  Strings are copied by fetch_start. */
struct fetch_req {
	const char	*url;		/* http:// or https:// */
	const char	*username;	/* NULL: none, or from the URL */
	const char	*password;
	const char	*ca_file;	/* NULL: the system's CA store */
	const char	*etag;		/* If-None-Match; NULL: none */
	const char	*last_modified;	/* If-Modified-Since; NULL: none */
	uint64_t	 max_bytes;	/* the (decoded) body at most */
	int64_t		 timeout;	/* seconds for the whole transfer */
};

enum fetch_status {
	FETCH_OK,		/* 2xx: body holds the entity */
	FETCH_NOT_MODIFIED,	/* 304 to a conditional request */
	FETCH_FAILED		/* error says why */
};

/* What came back.  Borrowed for the callback only. */
struct fetch_reply {
	enum fetch_status status;
	int		 http_status;	/* of the last response; 0: none */
	const char	*body;		/* NUL-terminated; len bytes */
	size_t		 len;
	const char	*etag;		/* NULL when the response had none */
	const char	*last_modified;
	const char	*error;		/* FETCH_FAILED: "HTTP 500",
					   "timed out after 60 s", ... with no
					   credentials in it */
};

struct fetcher;
struct fetch_xfer;

/* Called exactly once per transfer that was not cancelled, from the
 * event loop. */
typedef void	(*fetch_done_cb)(const struct fetch_reply *, void *arg);

/* A fetcher on the loop.  NULL with *cause when libcurl cannot start. */
struct fetcher	*fetch_new(struct event_base *, char **cause);
/* Cancel every transfer (no callbacks) and free. */
void		 fetch_free(struct fetcher *);
/*
 * Start a GET; done is called later from the event loop, never from
 * inside fetch_start.  Returns the transfer, valid until done is called
 * or it is cancelled; NULL with *cause when it cannot start.
 */
struct fetch_xfer *fetch_start(struct fetcher *, const struct fetch_req *,
		    fetch_done_cb done, void *arg, char **cause);
/* Abort a transfer; its callback is not called. */
void		 fetch_cancel(struct fetch_xfer *);
/* Transfers in flight. */
size_t		 fetch_active(const struct fetcher *);

#endif
