/*
 * The control socket (docs/PROTOCOL.md): accept, peer credentials, one
 * bufferevent per connection, JSON-lines framing, dispatch of each op.
 * The daemon hands it a listening socket and the services it needs; the
 * module never reaches into the fetcher or the event loop's owner directly,
 * so tests drive it in-process over socketpair().
 */
#ifndef DJCAL_CTL_H
#define DJCAL_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "djcal/config.h"
#include "djcal/store.h"

/* The outcome of fetching one feed, as `refresh` reports it. */
struct ctl_refresh_result {
	const char	*feed;
	int		 ok;
	int		 unchanged;	/* not modified, or the same bytes */
	int		 http_status;	/* 0 for files */
	int64_t		 items;
	int64_t		 changed;
	int64_t		 removed;
	const char	*error;		/* when !ok */
};

/* Called once when a refresh has finished; results borrowed for the call. */
typedef void	(*ctl_refresh_done)(const struct ctl_refresh_result *results,
		    size_t n, void *arg);

/* What the control socket needs from the rest of the daemon.  Borrowed. */
struct ctl_env {
	struct store		*store;
	/*
	 * Fetch one feed (NULL: every feed) now, bypassing back-off, and
	 * call done (exactly once, later, from the event loop) with the
	 * results.  Returns 0, or -1 with *cause when it cannot start (1 when
	 * the feed is unknown: a not_found reply).
	 */
	int	(*refresh)(void *arg, const char *feed, ctl_refresh_done done,
		    void *done_arg, char **cause);
	/* The next scheduled fetch of a feed; 0 when none is scheduled. */
	time_t	(*next_fetch)(void *arg, const char *feed);
	/* The merged ICS for a filter (`export`); NULL with *cause on
	 * failure.  Caller frees.  NULL pointer: the op is unavailable. */
	char	*(*export_ics)(void *arg, const struct store_filter *,
		    size_t *len, char **cause);
	/* The clock (tests inject one); NULL: time(NULL). */
	time_t	(*now)(void *arg);
	void	 *arg;
};

struct ctl;

/*
 * Serve the control protocol on a listening socket (taking ownership of
 * fd; -1: none, connections come only through ctl_attach) with the given
 * config (borrowed; replace it with ctl_set_config on reload).  NULL with
 * *cause on failure.  The process must ignore SIGPIPE: replies are written
 * with writev(), which raises it when a client has gone.
 */
struct ctl	*ctl_new(struct event_base *, int listen_fd,
		    const struct config *, const struct ctl_env *,
		    char **cause);
/* Stop accepting, close every connection, free.  A refresh still running
 * may call its done callback later: that is safe, and frees its record. */
void		 ctl_free(struct ctl *);
/* Use a new config (after SIGHUP); connections stay. */
void		 ctl_set_config(struct ctl *, const struct config *);
/*
 * Serve one already-connected socket (taking ownership of fd) as if it had
 * been accepted, with the given peer credentials: for tests over
 * socketpair(), and for connections the daemon accepts itself.  0, or -1
 * when it is not served (fd closed; when its uid already has
 * max_clients_per_uid connections, after a `busy` error line).
 */
int		 ctl_attach(struct ctl *, int fd, uid_t uid, gid_t gid);
/*
 * Answer the bytes a client sends before it shuts down writing, as a
 * connection with these credentials would be answered, without a socket:
 * the fuzzer's entry to the framing and dispatch.  Returns what the
 * connection had queued when its input was done (JSON lines; caller frees;
 * *outlen bytes, NUL-terminated); a refresh that answers later ends it.
 * Run the loop afterwards: a refresh's done may come from it.
 */
char		*ctl_answer(struct ctl *, uid_t uid, gid_t gid, const void *in,
		    size_t len, size_t *outlen);
/* Connections open now. */
size_t		 ctl_clients(const struct ctl *);
/* Connections that have subscribed. */
size_t		 ctl_subscribers(const struct ctl *);
/* Bytes of replies and messages queued for all connections now (what
 * max_output_bytes caps). */
size_t		 ctl_queued(const struct ctl *);
/* Push a committed message (store_msg_add) to the live subscribers it
 * matches; replaying ones read it from the store.  m is borrowed. */
void		 ctl_broadcast(struct ctl *, const struct store_msg *m);
/* Whether new connections are accepted now: 0 while paused at max_clients
 * or after accept() failed (EMFILE), and without a listening socket. */
int		 ctl_accepting(const struct ctl *);

/*
 * Create the listening socket at path with the given mode: a stale socket
 * file left by a crashed daemon is replaced; a live one (something accepts
 * connections on it) is not stolen and gives -1 with *cause.  Returns the
 * non-blocking, close-on-exec fd.
 */
int		 ctl_listen(const char *path, unsigned mode, char **cause);

#endif
