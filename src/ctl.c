/*
 * The control socket (docs/PROTOCOL.md): accept with peer credentials, one
 * bufferevent per connection, JSON-lines framing, dispatch of each op.
 *
 * Everything is non-blocking and every reply is queued in the connection's
 * bufferevent, so a slow client only ever delays itself.  What one client
 * can make the daemon hold is bounded: its input by the read watermark
 * (just over one maximal line), its output by CTL_MAX_OUTPUT (past it the
 * client is dropped), and the number of clients by max_clients (at the cap
 * the listener is disabled until a connection closes).  What all clients
 * together make it hold is bounded too: one local user may have at most
 * max_clients_per_uid connections (more are refused with `busy`), and the
 * output queued for every client together at most max_output_bytes (past
 * it, the clients that have stopped reading are dropped, largest first).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "djcal/branch.h"
#include "djcal/ctl.h"
#include "djcal/log.h"
#include "djcal/proto.h"
#include "djcal/query.h"
#include "djcal/types.h"
#include "djcal/xmalloc.h"

/* Replies waiting for a client past which it is dropped. */
#define CTL_MAX_OUTPUT		(8 * 1024 * 1024)
/* After an accept error other than a full backlog: retry this much later
 * if no connection has closed meanwhile. */
#define CTL_ACCEPT_RETRY	1
/* How long a connection being closed may take to read its last reply. */
#define CTL_CLOSE_TIMEOUT	10
/* A subscriber's replay reads this many messages at a time, and the next
 * batch once its output has drained below CTL_REPLAY_LOWAT. */
#define CTL_REPLAY_BATCH	256
#define CTL_REPLAY_LOWAT	(64 * 1024)
/* Most branches or feeds one subscription may name. */
#define CTL_SUB_MAX_NAMES	64
/* A client whose queued output has not shrunk for this many seconds has
 * stopped reading: the first to go past max_output_bytes. */
#define CTL_STALL		2

struct ctl_pending;

struct ctl_conn {
	struct ctl		*ctl;
	struct bufferevent	*bev;
	unsigned long		 serial;	/* for the log */
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;		/* 0 when unknown */
	size_t			 scanned;	/* input searched for '\n' */
	int			 eof;		/* the client sent everything */
	int			 closing;	/* close once output is sent */
	int			 drop;		/* close now: set while busy */
	int			 busy;		/* inside conn_process */
	int			 held;		/* ctl_answer frees it */
	struct ctl_pending	*pending;	/* a refresh in flight */
	TAILQ_ENTRY(ctl_conn)	 entry;
	/* Its output counted in ctl->out_total (NULL: not counted, for
	 * ctl_answer); when its output last shrank or began. */
	struct evbuffer_cb_entry *out_cb;
	time_t			 out_since;
	int			 uid_counted;	/* in ctl->uids */

	/* After `subscribe`: which messages, and how far it has got. */
	int			 sub;
	int			 sub_live;	/* replay done: pushed live */
	int64_t			 sub_seq;	/* last seq sent (or skipped) */
	unsigned		 sub_cats;	/* 0: all categories */
	char			**sub_branches;
	size_t			  sub_nbranches;
	char			**sub_feeds;
	size_t			  sub_nfeeds;
	TAILQ_ENTRY(ctl_conn)	 sub_entry;
};

/* The connections of one peer uid (max_clients_per_uid). */
struct ctl_uid {
	uid_t			 uid;
	size_t			 n;		/* open now */
	size_t			 refused;	/* since it reached the cap */
};

/*
 * A refresh in flight.  Its done callback may come after the client has
 * gone (the connection then sets conn to NULL) or after ctl_free (ctl is
 * then NULL); the record is freed by the callback either way.
 */
struct ctl_pending {
	struct ctl		*ctl;
	struct ctl_conn		*conn;
	json_t			*id;
	LIST_ENTRY(ctl_pending)	 entry;
};

struct ctl {
	struct event_base	*base;
	struct evconnlistener	*listener;	/* NULL: attach only */
	struct event		*retry;
	const struct config	*cfg;
	struct ctl_env		 env;
	TAILQ_HEAD(ctl_conns, ctl_conn) conns;
	TAILQ_HEAD(ctl_subs, ctl_conn) subs;
	LIST_HEAD(ctl_pendings, ctl_pending) pendings;
	size_t			 nconns;
	size_t			 nsubs;
	unsigned long		 serial;
	int			 enabled;	/* the listener accepts */
	int			 accept_failed;	/* paused after an error */
	int			 cap_logged;
	struct ctl_uid		*uids;		/* peers with connections */
	size_t			 nuids;
	size_t			 out_total;	/* queued for every client */
	int			 out_capped;	/* over max_output_bytes: said */
};

static void	conn_free(struct ctl_conn *);
static void	conn_process(struct ctl_conn *);
static time_t	ctl_now(struct ctl *);

/* Listener state */

/* Enable the listener when neither the cap nor an accept error holds it. */
static void
listener_update(struct ctl *ctl)
{
	int want;

	if (ctl->listener == NULL)
		return;
	want = !ctl->accept_failed &&
	    ctl->nconns < (size_t)(ctl->cfg->max_clients > 0 ?
	    ctl->cfg->max_clients : 1);
	if (want == ctl->enabled)
		return;
	if (want) {
		evconnlistener_enable(ctl->listener);
		log_debug("control: accepting connections again");
		ctl->cap_logged = 0;
	} else {
		evconnlistener_disable(ctl->listener);
		if (!ctl->accept_failed && !ctl->cap_logged) {
			log_info("control: %zu clients (max_clients): not "
			    "accepting until one closes", ctl->nconns);
			ctl->cap_logged = 1;
		}
	}
	ctl->enabled = want;
}

static void
retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct ctl *ctl = arg;

	(void)fd;
	(void)events;
	ctl->accept_failed = 0;
	listener_update(ctl);
}

/*
 * accept() failed with something other than EAGAIN, EINTR or ECONNABORTED
 * (libevent retries those itself): EMFILE, ENFILE, ENOBUFS, ENOMEM.  The
 * pending connection stays in the backlog, so a level-triggered listener
 * would be woken again at once: disable it, and enable it when a
 * connection closes (freeing an fd) or after CTL_ACCEPT_RETRY seconds.
 */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct ctl *ctl = arg;
	struct timeval tv = { CTL_ACCEPT_RETRY, 0 };
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	if (!ctl->accept_failed)
		log_warnx("control: accept: %s; pausing until a connection "
		    "closes", strerror(err));
	ctl->accept_failed = 1;
	listener_update(ctl);
	evtimer_add(ctl->retry, &tv);
}

/* Peer uids (max_clients_per_uid) */

/* The most connections one uid may have: max_clients_per_uid, else a
 * quarter of max_clients. */
static size_t
uid_cap(const struct ctl *ctl)
{
	const struct config *cfg = ctl->cfg;

	if (cfg->max_clients_per_uid > 0)
		return (size_t)cfg->max_clients_per_uid;
	return cfg->max_clients >= 4 ? (size_t)cfg->max_clients / 4 : 1;
}

/* Root and the uid djcald runs as can stop or trace the daemon anyway:
 * capping their connections would protect nothing. */
static int
uid_exempt(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static struct ctl_uid *
uid_find(struct ctl *ctl, uid_t uid)
{
	size_t i;

	for (i = 0; i < ctl->nuids; i++)
		if (ctl->uids[i].uid == uid)
			return &ctl->uids[i];
	return NULL;
}

/*
 * Refuse a connection: one `busy` line, written at once (a new socket's
 * buffer has room for it), then close.  A refused connection takes no
 * slot and holds nothing, however often its client tries again.  What it
 * sent is read first, within reason: closing a Unix socket with unread
 * input makes the peer's reads end in ECONNRESET instead of EOF.
 */
static void
conn_refuse(int fd, uid_t uid, size_t cap)
{
	char buf[4096], *msg, *line;
	json_t *j;
	int i;

	xasprintf(&msg, "too many connections from uid %lu (at most %zu: "
	    "max_clients_per_uid); close one and try again",
	    (unsigned long)uid, cap);
	j = proto_error(NULL, PROTO_E_BUSY, msg);
	line = proto_dump_line(j);
	if (send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		log_debug("control: refusing uid %lu: %s", (unsigned long)uid,
		    strerror(errno));
	for (i = 0; i < 16 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0;
	    i++)
		;
	close(fd);
	free(line);
	json_decref(j);
	free(msg);
}

/*
 * Count a new connection of uid: 0, or -1 when the uid has its cap
 * already (the connection is then refused and fd closed).  Logged once
 * when a uid reaches the cap, and once when it is below it again.
 */
static int
uid_admit(struct ctl *ctl, int fd, uid_t uid)
{
	struct ctl_uid *u = uid_find(ctl, uid);
	size_t cap = uid_cap(ctl);

	if (u != NULL && u->n >= cap && !uid_exempt(uid)) {
		if (u->refused++ == 0)
			log_warnx("control: uid %lu has %zu connections "
			    "(max_clients_per_uid): refusing more until one "
			    "closes", (unsigned long)uid, u->n);
		else
			log_debug("control: uid %lu: connection refused",
			    (unsigned long)uid);
		conn_refuse(fd, uid, cap);
		return -1;
	}
	if (u == NULL) {
		ctl->uids = xreallocarray(ctl->uids, ctl->nuids + 1,
		    sizeof *ctl->uids);
		u = &ctl->uids[ctl->nuids++];
		memset(u, 0, sizeof *u);
		u->uid = uid;
	}
	u->n++;
	return 0;
}

/* A connection of uid has closed. */
static void
uid_release(struct ctl *ctl, uid_t uid)
{
	struct ctl_uid *u = uid_find(ctl, uid);

	if (u == NULL)
		return;
	u->n--;
	if (u->refused > 0 && u->n < uid_cap(ctl)) {
		log_info("control: uid %lu is below max_clients_per_uid "
		    "again (%zu connection%s refused)", (unsigned long)uid,
		    u->refused, u->refused == 1 ? " was" : "s were");
		u->refused = 0;
	}
	if (u->n == 0)
		*u = ctl->uids[--ctl->nuids];
}

/* Output queued for all clients (max_output_bytes) */

/* Keep ctl->out_total and the connection's progress up to date: called
 * by libevent whenever its output buffer changes. */
static void
out_count_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct ctl_conn *c = arg;

	(void)buf;
	c->ctl->out_total += info->n_added;
	c->ctl->out_total -= info->n_deleted;
	if (info->n_deleted > 0 || info->orig_size == 0)
		c->out_since = ctl_now(c->ctl);
}

/*
 * Past max_output_bytes queued for every client together, drop clients
 * until it holds: first those that have not read for CTL_STALL seconds,
 * then any, the one with the most queued first of either.  The last
 * client with output is kept when it reads (one reply may be larger than
 * the cap: it is what was asked for).  cur, and any connection being
 * processed, is only marked: its caller settles it.  Logged once when it
 * starts, and once when the total has fallen to half the cap.
 */
static void
out_enforce(struct ctl *ctl, struct ctl_conn *cur)
{
	uint64_t max = ctl->cfg->max_output_bytes;
	struct ctl_conn *c, *victim;
	size_t total = 0, len, vlen, nwith = 0;
	time_t now;
	int stalled, vstalled;

	if (max == 0)
		return;
	if (ctl->out_total <= max) {
		if (ctl->out_capped && ctl->out_total <= max / 2) {
			log_info("control: queued replies are below "
			    "max_output_bytes again");
			ctl->out_capped = 0;
		}
		return;
	}
	now = ctl_now(ctl);
	TAILQ_FOREACH(c, &ctl->conns, entry) {
		if (c->drop || c->out_cb == NULL)
			continue;
		len = evbuffer_get_length(bufferevent_get_output(c->bev));
		total += len;
		nwith += len > 0;
	}
	while (total > max) {
		victim = NULL;
		vlen = 0;
		vstalled = 0;
		TAILQ_FOREACH(c, &ctl->conns, entry) {
			if (c->drop || c->out_cb == NULL)
				continue;
			len = evbuffer_get_length(bufferevent_get_output(
			    c->bev));
			if (len == 0)
				continue;
			stalled = now - c->out_since >= CTL_STALL;
			if (victim == NULL || stalled > vstalled ||
			    (stalled == vstalled && len > vlen)) {
				victim = c;
				vlen = len;
				vstalled = stalled;
			}
		}
		if (victim == NULL || (!vstalled && nwith == 1))
			break;
		if (!ctl->out_capped)
			log_warnx("control: %zu bytes of replies queued, more "
			    "than max_output_bytes (%llu): dropping client %lu "
			    "(uid %lu, %zu bytes unread%s), and more if need "
			    "be", total, (unsigned long long)max,
			    victim->serial, (unsigned long)victim->uid, vlen,
			    vstalled ? ", not reading" : "");
		else
			log_debug("control: max_output_bytes: dropping client "
			    "%lu (uid %lu, %zu bytes unread%s)", victim->serial,
			    (unsigned long)victim->uid, vlen, vstalled ?
			    ", not reading" : "");
		ctl->out_capped = 1;
		total -= vlen;
		nwith--;
		victim->drop = 1;
		if (victim != cur && !victim->busy && !victim->held)
			conn_free(victim);
	}
}

/* Connections */

static void
sub_clear(struct ctl_conn *c)
{
	size_t i;

	if (!c->sub)
		return;
	TAILQ_REMOVE(&c->ctl->subs, c, sub_entry);
	c->ctl->nsubs--;
	for (i = 0; i < c->sub_nbranches; i++)
		free(c->sub_branches[i]);
	for (i = 0; i < c->sub_nfeeds; i++)
		free(c->sub_feeds[i]);
	free(c->sub_branches);
	free(c->sub_feeds);
	c->sub = 0;
}

static void
conn_free(struct ctl_conn *c)
{
	struct ctl *ctl = c->ctl;

	if (c->pending != NULL)
		c->pending->conn = NULL;
	sub_clear(c);
	TAILQ_REMOVE(&ctl->conns, c, entry);
	ctl->nconns--;
	if (c->out_cb != NULL) {
		struct evbuffer *out = bufferevent_get_output(c->bev);

		evbuffer_remove_cb_entry(out, c->out_cb);
		ctl->out_total -= evbuffer_get_length(out);
	}
	if (c->uid_counted)
		uid_release(ctl, c->uid);
	bufferevent_free(c->bev);
	log_debug("control: client %lu disconnected", c->serial);
	free(c);
	/* A closed connection freed an fd and a slot. */
	if (ctl->accept_failed) {
		ctl->accept_failed = 0;
		evtimer_del(ctl->retry);
	}
	listener_update(ctl);
}

/* Whether a connection is finished: all input read and answered.  A
 * subscriber that has only shut down writing still wants its stream. */
static int
conn_finished(struct ctl_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	return (c->closing || (c->eof && !c->sub)) && c->pending == NULL &&
	    evbuffer_get_length(out) == 0;
}

/* Called after processing: free a dropped or finished connection. */
static void
conn_settle(struct ctl_conn *c)
{
	if (c->busy || c->held)
		return;
	if (c->drop || conn_finished(c))
		conn_free(c);
}

static int
dump_cb(const char *buf, size_t size, void *arg)
{
	return evbuffer_add(arg, buf, size);
}

/*
 * Queue a reply (taking the reference).  A client that has left more than
 * CTL_MAX_OUTPUT bytes of earlier replies unread is dropped instead: it has
 * stopped reading, and the daemon will not hold its output without bound.
 * One reply may be larger than the cap: it is what was asked for.
 */
static void
conn_send(struct ctl_conn *c, json_t *reply)
{
	struct evbuffer *out = bufferevent_get_output(c->bev), *tmp;

	if (c->drop) {
		json_decref(reply);
		return;
	}
	if (evbuffer_get_length(out) > CTL_MAX_OUTPUT) {
		log_warnx("control: client %lu (uid %lu) leaves more than %d "
		    "bytes of replies unread; dropping it", c->serial,
		    (unsigned long)c->uid, CTL_MAX_OUTPUT);
		c->drop = 1;
		json_decref(reply);
		return;
	}
	/* Encode into a buffer of its own, so a failure leaves no half a
	 * line behind; the chains then move without a copy. */
	tmp = evbuffer_new();
	if (json_dump_callback(reply, dump_cb, tmp, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) == -1 || evbuffer_add(tmp, "\n", 1) == -1) {
		evbuffer_drain(tmp, evbuffer_get_length(tmp));
		log_warnx("control: client %lu: cannot encode a reply",
		    c->serial);
		evbuffer_add_printf(tmp, "{\"ok\":false,\"error\":{\"code\":"
		    "\"internal\",\"message\":\"cannot encode the reply\"}}\n");
	}
	evbuffer_add_buffer(out, tmp);
	evbuffer_free(tmp);
	json_decref(reply);
}

/* A bad_request (or other) error reply from a cause, which it frees. */
static json_t *
error_reply(json_t *id, enum proto_err e, char *cause)
{
	json_t *j = proto_error(id, e, cause);

	free(cause);
	return j;
}

static time_t
ctl_now(struct ctl *ctl)
{
	return ctl->env.now != NULL ? ctl->env.now(ctl->env.arg) :
	    time(NULL);
}

/*
 * Root, or a member of admin_group: the peer's primary group (from
 * SO_PEERCRED) or a supplementary group of its user in the group database.
 * An empty admin_group means root only.
 */
static int
conn_is_admin(struct ctl_conn *c)
{
	const char *name = c->ctl->cfg->admin_group;
	struct group *gr;
	struct passwd *pw;
	gid_t admin, *groups;
	char *user;
	int n, i, found = 0;

	if (c->uid == 0)
		return 1;
	if (name == NULL || *name == '\0')
		return 0;
	if ((gr = getgrnam(name)) == NULL)
		return 0;
	admin = gr->gr_gid;
	if (c->gid == admin)
		return 1;
	if ((pw = getpwuid(c->uid)) == NULL)
		return 0;
	user = xstrdup(pw->pw_name);
	n = 32;
	groups = xreallocarray(NULL, (size_t)n, sizeof *groups);
	for (i = 0; i < 8; i++) {
		int want = n;

		if (getgrouplist(user, pw->pw_gid, groups, &want) != -1) {
			n = want;
			break;
		}
		/* Too small: want holds the size needed (glibc). */
		n = want > n ? want : n * 2;
		groups = xreallocarray(groups, (size_t)n, sizeof *groups);
	}
	if (i < 8)
		for (i = 0; i < n && !found; i++)
			found = groups[i] == admin;
	free(groups);
	free(user);
	return found;
}

/* Operations */

static json_t *
op_ping(struct ctl_conn *c, json_t *req, json_t *id)
{
	json_t *j = proto_ok(id);

	(void)req;
	json_object_set_new(j, "version", json_integer(PROTO_VERSION));
	json_object_set_new(j, "daemon", json_string(DJCAL_VERSION));
	/* Clients read and show times in the daemon's zone. */
	json_object_set_new(j, "timezone",
	    json_string(tz_name(query_zone(c->ctl->env.store))));
	return j;
}

static json_t *
occ_list_json(const struct dj_occ_list *l, const struct tz *z)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < l->n; i++)
		json_array_append_new(a, proto_occurrence_json(&l->v[i], z));
	return a;
}

static json_t *
op_upcoming(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct store *s = c->ctl->env.store;
	const struct tz *z = query_zone(s);
	struct store_filter f;
	struct dj_occ_list l;
	char *cause = NULL;
	json_t *j;

	if (proto_request_filter(req, PROTO_FILTER_WINDOW, z, ctl_now(c->ctl),
	    &f, &cause) == -1)
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	memset(&l, 0, sizeof l);
	if (query_upcoming(s, &f, &l, &cause) == -1) {
		occ_list_free(&l);
		log_warnx("control: upcoming: %s", cause);
		return error_reply(id, PROTO_E_INTERNAL, cause);
	}
	j = proto_ok(id);
	json_object_set_new(j, "occurrences", occ_list_json(&l, z));
	occ_list_free(&l);
	return j;
}

static json_t *
op_tasks(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct store *s = c->ctl->env.store;
	const char *status;
	struct dj_occ_list l;
	char *cause = NULL, *q;
	int which = QUERY_TASKS_OPEN;
	json_t *j;

	if (proto_field_string(req, "status", &status, &cause) == -1)
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	if (status != NULL && (which = query_tasks_from_name(status)) < 0) {
		q = proto_quote(status, 64);
		xasprintf(&cause, "status: unknown status \"%s\" (open, "
		    "overdue, done, all)", q);
		free(q);
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	}
	memset(&l, 0, sizeof l);
	if (query_tasks(s, (enum query_tasks)which, ctl_now(c->ctl), &l,
	    &cause) == -1) {
		occ_list_free(&l);
		log_warnx("control: tasks: %s", cause);
		return error_reply(id, PROTO_E_INTERNAL, cause);
	}
	j = proto_ok(id);
	json_object_set_new(j, "tasks", occ_list_json(&l, query_zone(s)));
	occ_list_free(&l);
	return j;
}

static json_t *
str_or_null(const char *s)
{
	json_t *j;

	if (s == NULL || (j = json_string(s)) == NULL)
		return json_null();
	return j;
}

static json_t *
op_feeds(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct ctl *ctl = c->ctl;
	struct store *s = ctl->env.store;
	const struct tz *z = query_zone(s);
	struct store_feed *v;
	size_t n, i;
	json_t *a, *j;
	char *cause;
	time_t next;

	(void)req;
	if (store_feed_list(s, &v, &n) == -1) {
		xasprintf(&cause, "database: %s", store_errmsg(s));
		log_warnx("control: feeds: %s", cause);
		return error_reply(id, PROTO_E_INTERNAL, cause);
	}
	a = json_array();
	for (i = 0; i < n; i++) {
		next = ctl->env.next_fetch != NULL ?
		    ctl->env.next_fetch(ctl->env.arg, v[i].name) : 0;
		json_array_append_new(a, proto_feed_json(&v[i], next, z));
	}
	store_feed_list_free(v, n);
	j = proto_ok(id);
	json_object_set_new(j, "feeds", a);
	return j;
}

static json_t *
refresh_result_json(const struct ctl_refresh_result *r)
{
	json_t *j = json_object();

	json_object_set_new(j, "feed", str_or_null(r->feed));
	json_object_set_new(j, "ok", json_boolean(r->ok));
	json_object_set_new(j, "unchanged", json_boolean(r->unchanged));
	json_object_set_new(j, "http_status", r->http_status != 0 ?
	    json_integer(r->http_status) : json_null());
	json_object_set_new(j, "items", json_integer(r->items));
	json_object_set_new(j, "changed", json_integer(r->changed));
	json_object_set_new(j, "removed", json_integer(r->removed));
	json_object_set_new(j, "error", r->ok ? json_null() :
	    str_or_null(r->error != NULL ? r->error : "failed"));
	return j;
}

/*
 * The refresh has finished.  The connection may have closed meanwhile (the
 * record then has no conn) or the whole ctl may be gone (no ctl): only the
 * record itself is certain to be alive here.
 */
static void
refresh_done_cb(const struct ctl_refresh_result *res, size_t n, void *arg)
{
	struct ctl_pending *p = arg;
	struct ctl_conn *c = p->conn;
	json_t *j, *a;
	size_t i;

	if (p->ctl != NULL)
		LIST_REMOVE(p, entry);
	if (c != NULL) {
		c->pending = NULL;
		a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, refresh_result_json(&res[i]));
		j = proto_ok(p->id);
		json_object_set_new(j, "results", a);
		conn_send(c, j);
		out_enforce(c->ctl, c);
		/*
		 * Requests that came after this one waited in the input
		 * buffer (replies go in order).  Resume them from the loop,
		 * not from here: done may be called from deep inside the
		 * fetcher, or even from inside env->refresh.
		 */
		if (c->drop)
			conn_settle(c);
		else
			bufferevent_trigger(c->bev, EV_READ,
			    BEV_TRIG_DEFER_CALLBACKS |
			    BEV_TRIG_IGNORE_WATERMARKS);
	}
	json_decref(p->id);
	free(p);
}

static json_t *
op_refresh(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct ctl *ctl = c->ctl;
	struct ctl_pending *p;
	const char *feed;
	char *cause = NULL, *q;
	int rc;

	if (proto_field_string(req, "feed", &feed, &cause) == -1)
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	if (ctl->env.refresh == NULL)
		return proto_error(id, PROTO_E_INTERNAL,
		    "refresh is not available");
	p = xcalloc(1, sizeof *p);
	p->ctl = ctl;
	p->conn = c;
	p->id = id != NULL ? json_incref(id) : NULL;
	LIST_INSERT_HEAD(&ctl->pendings, p, entry);
	c->pending = p;
	log_info("control: client %lu (uid %lu): refresh %s", c->serial,
	    (unsigned long)c->uid, feed != NULL ? feed : "(all feeds)");
	rc = ctl->env.refresh(ctl->env.arg, feed, refresh_done_cb, p, &cause);
	if (rc == 0)
		return NULL;		/* the reply comes from done */
	/* Not started: done will not be called. */
	c->pending = NULL;
	LIST_REMOVE(p, entry);
	json_decref(p->id);
	free(p);
	if (rc == 1) {
		free(cause);
		q = proto_quote(feed != NULL ? feed : "", 64);
		xasprintf(&cause, "no such feed: %s", q);
		free(q);
		return error_reply(id, PROTO_E_NOT_FOUND, cause);
	}
	if (cause == NULL)
		cause = xstrdup("refresh failed");
	return error_reply(id, PROTO_E_INTERNAL, cause);
}

static json_t *
op_export(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct ctl *ctl = c->ctl;
	struct store_filter f;
	char *cause = NULL, *ics;
	size_t len;
	json_t *j, *s;

	if (proto_request_filter(req, 0, query_zone(ctl->env.store),
	    ctl_now(ctl), &f, &cause) == -1)
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	if (ctl->env.export_ics == NULL)
		return proto_error(id, PROTO_E_INTERNAL,
		    "export is not available");
	if ((ics = ctl->env.export_ics(ctl->env.arg, &f, &len,
	    &cause)) == NULL) {
		if (cause == NULL)
			cause = xstrdup("export failed");
		log_warnx("control: export: %s", cause);
		return error_reply(id, PROTO_E_INTERNAL, cause);
	}
	s = json_stringn(ics, len);
	free(ics);
	if (s == NULL)
		return proto_error(id, PROTO_E_INTERNAL,
		    "the exported calendar is not valid UTF-8");
	j = proto_ok(id);
	json_object_set_new(j, "ics", s);
	return j;
}

/* Party-branch work (issue 7) */

/* Longest member name or leave reason, in bytes. */
#define CTL_NAME_MAX		256

/*
 * A required, non-empty text field (a member's name, a UID) without
 * control characters and at most CTL_NAME_MAX bytes: it is shown in
 * tables and stored for good.  0 or -1 with *cause.
 */
static int
text_field(json_t *req, const char *key, int required, const char **out,
    char **cause)
{
	const unsigned char *p;

	if (proto_field_string(req, key, out, cause) == -1)
		return -1;
	if (*out == NULL) {
		if (!required)
			return 0;
		xasprintf(cause, "%s: missing", key);
		return -1;
	}
	if (required && **out == '\0') {
		xasprintf(cause, "%s: empty", key);
		return -1;
	}
	if (strlen(*out) > CTL_NAME_MAX) {
		xasprintf(cause, "%s: longer than %d bytes", key,
		    CTL_NAME_MAX);
		return -1;
	}
	for (p = (const unsigned char *)*out; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			xasprintf(cause, "%s: control characters are not "
			    "allowed", key);
			return -1;
		}
	return 0;
}

/* The occurrence fields of checkin and attendance: uid, start, feed. */
static int
occurrence_fields(json_t *req, const struct tz *z, const char **uid,
    time_t *start, const char **feed, char **cause)
{
	int present;

	if (text_field(req, "uid", 1, uid, cause) == -1 ||
	    proto_field_time(req, "start", z, start, &present, cause) == -1)
		return -1;
	if (!present) {
		xasprintf(cause, "start: missing");
		return -1;
	}
	return proto_field_string(req, "feed", feed, cause);
}

/* The not_found reply for an occurrence that does not exist. */
static json_t *
no_occurrence(json_t *id, const char *feed, const char *uid, time_t start,
    const struct tz *z)
{
	char *q = proto_quote(uid, 64), *t = proto_format_time(start, 0, z);
	char *f = feed != NULL ? proto_quote(feed, 64) : NULL, *cause;

	if (f != NULL)
		xasprintf(&cause, "no occurrence of %s starting at %s in feed "
		    "%s", q, t, f);
	else
		xasprintf(&cause, "no occurrence of %s starting at %s", q, t);
	free(q);
	free(t);
	free(f);
	return error_reply(id, PROTO_E_NOT_FOUND, cause);
}

static json_t *
op_checkin(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct store *s = c->ctl->env.store;
	const struct tz *z = query_zone(s);
	const char *uid, *feed, *member, *leave;
	struct branch_checkin bc;
	char *cause = NULL;
	time_t start;
	json_t *j;
	int rc;

	if (occurrence_fields(req, z, &uid, &start, &feed, &cause) == -1 ||
	    text_field(req, "member", 1, &member, &cause) == -1 ||
	    text_field(req, "leave", 0, &leave, &cause) == -1)
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	rc = branch_checkin(s, feed, uid, start, member, leave,
	    ctl_now(c->ctl), &bc, &cause);
	if (rc == 1)
		return no_occurrence(id, feed, uid, start, z);
	if (rc == -1) {
		log_warnx("control: checkin: %s", cause);
		return error_reply(id, PROTO_E_INTERNAL, cause);
	}
	log_info("control: client %lu (uid %lu): %s %s at %s (feed %s)",
	    c->serial, (unsigned long)c->uid, leave != NULL ? "leave for" :
	    "checkin of", member, uid, bc.feed);
	j = proto_ok(id);
	json_object_set_new(j, "checkin", branch_checkin_json(&bc, z));
	branch_checkin_clear(&bc);
	return j;
}

static json_t *
op_attendance(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct store *s = c->ctl->env.store;
	const struct tz *z = query_zone(s);
	const char *uid, *feed;
	struct branch_checkin *v;
	char *cause = NULL;
	time_t start;
	size_t n;
	json_t *j, *a;
	int rc;

	if (occurrence_fields(req, z, &uid, &start, &feed, &cause) == -1)
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	rc = branch_attendance(s, feed, uid, start, &v, &n, &cause);
	if (rc == 1)
		return no_occurrence(id, feed, uid, start, z);
	if (rc == -1) {
		log_warnx("control: attendance: %s", cause);
		return error_reply(id, PROTO_E_INTERNAL, cause);
	}
	a = branch_attendance_json(v, n, z);
	j = proto_ok(id);
	json_object_set_new(j, "attendance", a);
	return j;
}

static json_t *
op_hours(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct store *s = c->ctl->env.store;
	struct branch_hours *v;
	const char *member;
	char *cause = NULL;
	size_t n;
	json_t *j, *a;
	int year;

	if (proto_field_year(req, "year", query_zone(s), ctl_now(c->ctl),
	    &year, &cause) == -1 ||
	    proto_field_string(req, "member", &member, &cause) == -1)
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	if (branch_hours(s, year, member, &v, &n, &cause) == -1) {
		log_warnx("control: hours: %s", cause);
		return error_reply(id, PROTO_E_INTERNAL, cause);
	}
	a = branch_hours_json(v, n);
	branch_hours_free(v, n);
	j = proto_ok(id);
	json_object_set_new(j, "year", json_integer(year));
	json_object_set_new(j, "hours", a);
	return j;
}

/* Move every member of a reply object (from branch.c) into j. */
static json_t *
merge_reply(json_t *j, json_t *body)
{
	json_object_update(j, body);
	json_decref(body);
	return j;
}

static json_t *
op_stats(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct store *s = c->ctl->env.store;
	struct branch_stat *rows;
	const char *branch;
	char *cause = NULL;
	size_t n;
	json_t *j;
	int year;

	if (proto_field_year(req, "year", query_zone(s), ctl_now(c->ctl),
	    &year, &cause) == -1 ||
	    proto_field_string(req, "branch", &branch, &cause) == -1)
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	if (branch_stats(s, year, branch, ctl_now(c->ctl), &rows, &n,
	    &cause) == -1) {
		log_warnx("control: stats: %s", cause);
		return error_reply(id, PROTO_E_INTERNAL, cause);
	}
	j = merge_reply(proto_ok(id), branch_stats_json(year, rows, n));
	free(rows);
	return j;
}

static json_t *
op_compliance(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct store *s = c->ctl->env.store;
	struct branch_compliance bc;
	const char *branch;
	char *cause = NULL;
	json_t *j;
	int year;

	if (proto_field_year(req, "year", query_zone(s), ctl_now(c->ctl),
	    &year, &cause) == -1 ||
	    proto_field_string(req, "branch", &branch, &cause) == -1)
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	if (branch_compliance(s, c->ctl->cfg, year, branch, ctl_now(c->ctl),
	    &bc, &cause) == -1) {
		log_warnx("control: compliance: %s", cause);
		return error_reply(id, PROTO_E_INTERNAL, cause);
	}
	j = merge_reply(proto_ok(id), branch_compliance_json(&bc));
	branch_compliance_free(&bc);
	return j;
}

/* Subscriptions */

/* Whether a message is one a subscriber asked for. */
static int
sub_matches(const struct ctl_conn *c, const struct store_msg *m)
{
	size_t i;

	if (c->sub_cats != 0 && (m->category < 0 ||
	    !(c->sub_cats & (1u << m->category))))
		return 0;
	if (c->sub_nbranches > 0) {
		for (i = 0; i < c->sub_nbranches; i++)
			if (m->branch != NULL &&
			    strcmp(m->branch, c->sub_branches[i]) == 0)
				break;
		if (i == c->sub_nbranches)
			return 0;
	}
	if (c->sub_nfeeds > 0) {
		for (i = 0; i < c->sub_nfeeds; i++)
			if (m->feed != NULL &&
			    strcmp(m->feed, c->sub_feeds[i]) == 0)
				break;
		if (i == c->sub_nfeeds)
			return 0;
	}
	return 1;
}

/* Queue a stored message's line: its body is the JSON object. */
static void
sub_write(struct ctl_conn *c, const struct store_msg *m)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add(out, m->body, strlen(m->body));
	evbuffer_add(out, "\n", 1);
	c->sub_seq = m->seq;
}

/*
 * A live message goes to every subscriber at once.  Written straight to the
 * socket when nothing is queued before it, it costs each subscriber one
 * system call; through the bufferevent it would cost a round through the
 * loop (epoll_ctl, epoll_wait, writev, epoll_ctl), and the first of 10,000
 * would wait until all were queued.  What the socket does not take now is
 * queued.  (Not for a replay: its next batch waits for the queue to drain.)
 */
static void
sub_push(struct ctl_conn *c, const struct store_msg *m)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = strlen(m->body), done = 0;
	struct iovec iov[2];
	ssize_t n;

	if (evbuffer_get_length(out) == 0) {
		iov[0].iov_base = (void *)m->body;
		iov[0].iov_len = len;
		iov[1].iov_base = (void *)"\n";
		iov[1].iov_len = 1;
		if ((n = writev(bufferevent_getfd(c->bev), iov, 2)) > 0)
			done = (size_t)n;
	}
	if (done < len)
		evbuffer_add(out, m->body + done, len - done);
	if (done < len + 1)
		evbuffer_add(out, "\n", 1);
	c->sub_seq = m->seq;
}

struct replay {
	struct ctl_conn	*c;
	size_t		 n;
};

static int
replay_cb(const struct store_msg *m, void *arg)
{
	struct replay *r = arg;

	r->n++;
	if (sub_matches(r->c, m))
		sub_write(r->c, m);
	else
		r->c->sub_seq = m->seq;
	return 0;
}

/*
 * Send the next batch of stored messages after the subscriber's seq.  A
 * batch shorter than CTL_REPLAY_BATCH means it has caught up: from then on
 * broadcasts reach it directly.  The loop is single-threaded, so no message
 * can be committed between the last batch and the switch.
 */
static void
sub_replay(struct ctl_conn *c)
{
	struct replay r;
	size_t i;

	for (i = 0; i < 4 && !c->sub_live; i++) {
		r.c = c;
		r.n = 0;
		if (store_msg_since(c->ctl->env.store, c->sub_seq,
		    CTL_REPLAY_BATCH, replay_cb, &r) == -1) {
			log_warnx("control: client %lu: replay: %s", c->serial,
			    store_errmsg(c->ctl->env.store));
			c->drop = 1;
			return;
		}
		if (r.n < CTL_REPLAY_BATCH)
			c->sub_live = 1;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    CTL_REPLAY_LOWAT)
			break;
	}
}

/* A string or an array of strings, copied. */
static int
sub_names(json_t *req, const char *key, char ***out, size_t *n, char **cause)
{
	json_t *v = json_object_get(req, key), *e;
	size_t i;

	*out = NULL;
	*n = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		*out = xcalloc(1, sizeof **out);
		(*out)[(*n)++] = xstrdup(json_string_value(v));
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) > CTL_SUB_MAX_NAMES) {
		xasprintf(cause, "%s: expected an array of at most %d strings",
		    key, CTL_SUB_MAX_NAMES);
		return -1;
	}
	*out = xcalloc(json_array_size(v) + 1, sizeof **out);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			xasprintf(cause, "%s: expected an array of strings",
			    key);
			while (*n > 0)
				free((*out)[--*n]);
			free(*out);
			*out = NULL;
			return -1;
		}
		(*out)[(*n)++] = xstrdup(json_string_value(e));
	}
	return 0;
}

static json_t *
op_subscribe(struct ctl_conn *c, json_t *req, json_t *id)
{
	struct ctl *ctl = c->ctl;
	unsigned long long since = 0;
	int64_t latest;
	unsigned cats = 0;
	char *cause = NULL, **branches = NULL, **feeds = NULL;
	size_t nb = 0, nf = 0, i;
	json_t *reply, *jsince;

	if (c->sub)
		return proto_error(id, PROTO_E_BAD_REQUEST,
		    "already subscribed on this connection");
	jsince = json_object_get(req, "since");
	if (proto_field_categories(req, "category", &cats, &cause) == -1 ||
	    proto_field_uint(req, "since", INT64_MAX, &since, &cause) == -1 ||
	    sub_names(req, "branch", &branches, &nb, &cause) == -1)
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	if (sub_names(req, "feed", &feeds, &nf, &cause) == -1) {
		for (i = 0; i < nb; i++)
			free(branches[i]);
		free(branches);
		return error_reply(id, PROTO_E_BAD_REQUEST, cause);
	}
	latest = store_msg_latest(ctl->env.store);
	c->sub = 1;
	c->sub_cats = cats;
	c->sub_branches = branches;
	c->sub_nbranches = nb;
	c->sub_feeds = feeds;
	c->sub_nfeeds = nf;
	/* Without since: from now on.  With it: everything after it. */
	if (jsince == NULL || json_is_null(jsince)) {
		c->sub_seq = latest;
		c->sub_live = 1;
	} else {
		c->sub_seq = (int64_t)since;
		c->sub_live = c->sub_seq >= latest;
	}
	TAILQ_INSERT_TAIL(&ctl->subs, c, sub_entry);
	ctl->nsubs++;
	log_debug("control: client %lu subscribed from seq %lld", c->serial,
	    (long long)c->sub_seq);
	reply = proto_ok(id);
	json_object_set_new(reply, "seq", json_integer(latest));
	conn_send(c, reply);
	bufferevent_setwatermark(c->bev, EV_WRITE, CTL_REPLAY_LOWAT, 0);
	if (!c->sub_live)
		sub_replay(c);
	return NULL;
}

enum {
	CTL_OP_WRITE = 1	/* root or admin_group only */
};

static const struct ctl_op {
	const char	*name;
	json_t		*(*fn)(struct ctl_conn *, json_t *, json_t *);
	int		 flags;
} ctl_ops[] = {
	{ "ping", op_ping, 0 },
	{ "upcoming", op_upcoming, 0 },
	{ "tasks", op_tasks, 0 },
	{ "feeds", op_feeds, 0 },
	{ "refresh", op_refresh, CTL_OP_WRITE },
	{ "export", op_export, 0 },
	{ "subscribe", op_subscribe, 0 },
	{ "checkin", op_checkin, CTL_OP_WRITE },
	{ "attendance", op_attendance, 0 },
	{ "hours", op_hours, 0 },
	{ "stats", op_stats, 0 },
	{ "compliance", op_compliance, 0 },
};

/* Handle one request line; the reply is queued (or, for refresh, will be). */
static void
conn_request(struct ctl_conn *c, const char *line, size_t len)
{
	const struct ctl_op *op = NULL;
	json_error_t jerr;
	json_t *req, *id, *jop, *reply;
	const char *name;
	char *cause, *q;
	size_t i;

	if ((req = json_loadb(line, len, 0, &jerr)) == NULL) {
		q = proto_quote(jerr.text, 120);
		xasprintf(&cause, "not JSON: %s (column %d)", q,
		    jerr.column);
		free(q);
		conn_send(c, error_reply(NULL, PROTO_E_BAD_REQUEST, cause));
		return;
	}
	if (!json_is_object(req)) {
		conn_send(c, proto_error(NULL, PROTO_E_BAD_REQUEST,
		    "not a JSON object: a request is {\"op\":...}"));
		json_decref(req);
		return;
	}
	id = json_object_get(req, "id");
	jop = json_object_get(req, "op");
	if (jop == NULL)
		reply = proto_error(id, PROTO_E_BAD_REQUEST, "missing op");
	else if (!json_is_string(jop))
		reply = proto_error(id, PROTO_E_BAD_REQUEST,
		    "op: expected a string");
	else {
		name = json_string_value(jop);
		for (i = 0; i < sizeof ctl_ops / sizeof ctl_ops[0]; i++)
			if (strcmp(name, ctl_ops[i].name) == 0)
				op = &ctl_ops[i];
		if (op == NULL) {
			q = proto_quote(name, 64);
			xasprintf(&cause, "unknown op: \"%s\"", q);
			free(q);
			reply = error_reply(id, PROTO_E_BAD_REQUEST, cause);
		} else if ((op->flags & CTL_OP_WRITE) && !conn_is_admin(c)) {
			const char *g = c->ctl->cfg->admin_group;

			if (g == NULL || *g == '\0')
				xasprintf(&cause, "%s: only root may do "
				    "this", op->name);
			else
				xasprintf(&cause, "%s: only root and "
				    "members of group %s may do this",
				    op->name, g);
			reply = error_reply(id, PROTO_E_FORBIDDEN, cause);
		} else
			reply = op->fn(c, req, id);
	}
	if (reply != NULL)
		conn_send(c, reply);
	json_decref(req);
}

/*
 * A line longer than DJ_MAX_LINE: answer too_large and close once the
 * reply is flushed.  The rest of the line is never read, so nothing tells
 * where the next request would start.
 */
static void
conn_too_large(struct ctl_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct timeval tv = { CTL_CLOSE_TIMEOUT, 0 };
	char *msg;

	log_warnx("control: client %lu (uid %lu): request line over %d "
	    "bytes; closing", c->serial, (unsigned long)c->uid, DJ_MAX_LINE);
	xasprintf(&msg, "request line longer than %d bytes", DJ_MAX_LINE);
	conn_send(c, error_reply(NULL, PROTO_E_TOO_LARGE, msg));
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_set_timeouts(c->bev, NULL, &tv);
}

/*
 * Answer the complete lines in the input buffer, in order.  Stops while a
 * refresh is pending (its reply must come first) and at a line that is too
 * long.  After EOF a last line without '\n' counts too.
 */
static void
conn_process(struct ctl_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr p;
	size_t len, linelen, eol_len;
	const char *line;

	c->busy = 1;
	while (!c->closing && !c->drop && c->pending == NULL &&
	    (len = evbuffer_get_length(in)) > 0) {
		/* Search only what was not searched before: a long line
		 * arriving in small reads is scanned once, not per read. */
		if (c->scanned > len)
			c->scanned = 0;
		evbuffer_ptr_set(in, &p, c->scanned, EVBUFFER_PTR_SET);
		eol_len = 0;
		p = evbuffer_search_eol(in, &p, &eol_len, EVBUFFER_EOL_LF);
		if (p.pos == -1) {
			if (len > DJ_MAX_LINE) {
				conn_too_large(c);
				break;
			}
			if (!c->eof) {
				c->scanned = len;
				break;
			}
			linelen = len;
		} else
			linelen = (size_t)p.pos;
		if (linelen > DJ_MAX_LINE) {
			conn_too_large(c);
			break;
		}
		line = linelen > 0 ? (const char *)evbuffer_pullup(in,
		    (ev_ssize_t)linelen) : "";
		conn_request(c, line, linelen);
		evbuffer_drain(in, linelen + eol_len);
		c->scanned = 0;
	}
	c->busy = 0;
	out_enforce(c->ctl, c);
	conn_settle(c);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_process(arg);
}

/* Output drained: a replaying subscriber gets its next batch; a
 * connection waiting to close may now. */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;

	(void)bev;
	if (c->sub && !c->sub_live && !c->drop) {
		sub_replay(c);
		out_enforce(c->ctl, c);
	}
	conn_settle(c);
}

/* Whether the peer has closed both directions (not just shut down
 * writing, when it may still wait for replies). */
static int
peer_gone(struct bufferevent *bev)
{
	struct pollfd pfd;

	pfd.fd = bufferevent_getfd(bev);
	pfd.events = POLLOUT;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (POLLHUP | POLLERR)) != 0;
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn *c = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    !peer_gone(bev)) {
		/* Half-closed: answer what was sent, then close. */
		c->eof = 1;
		bufferevent_disable(bev, EV_READ);
		conn_process(c);
		return;
	}
	if ((what & BEV_EVENT_ERROR) && EVUTIL_SOCKET_ERROR() != EPIPE &&
	    EVUTIL_SOCKET_ERROR() != ECONNRESET)
		log_debug("control: client %lu: %s", c->serial,
		    strerror(EVUTIL_SOCKET_ERROR()));
	else if (what & BEV_EVENT_TIMEOUT)
		log_debug("control: client %lu: timed out", c->serial);
	if (c->busy)
		c->drop = 1;
	else
		conn_free(c);
}

static int
conn_new(struct ctl *ctl, int fd, uid_t uid, gid_t gid, pid_t pid)
{
	struct ctl_conn *c;
	struct bufferevent *bev;

	if (uid_admit(ctl, fd, uid) == -1)
		return -1;
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    (bev = bufferevent_socket_new(ctl->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("control: cannot set up a connection");
		close(fd);
		uid_release(ctl, uid);
		return -1;
	}
	c = xcalloc(1, sizeof *c);
	c->ctl = ctl;
	c->bev = bev;
	c->serial = ++ctl->serial;
	c->uid = uid;
	c->gid = gid;
	c->pid = pid;
	c->uid_counted = 1;
	c->out_since = ctl_now(ctl);
	if ((c->out_cb = evbuffer_add_cb(bufferevent_get_output(bev),
	    out_count_cb, c)) == NULL)
		fatalx("control: out of memory");
	/*
	 * Read at most one line over the limit: enough to tell that a line
	 * is too long, and a bound on what a client that sends faster than
	 * its replies are taken (or during a refresh) makes us hold.
	 */
	bufferevent_setwatermark(bev, EV_READ, 0, DJ_MAX_LINE + 1);
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&ctl->conns, c, entry);
	ctl->nconns++;
	log_debug("control: client %lu connected (uid %lu, gid %lu, pid %ld)",
	    c->serial, (unsigned long)uid, (unsigned long)gid, (long)pid);
	listener_update(ctl);
	return 0;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct ctl *ctl = arg;
	struct ucred cred;
	socklen_t len = sizeof cred;

	(void)l;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	conn_new(ctl, fd, cred.uid, cred.gid, cred.pid);
}

/* Public interface */

struct ctl *
ctl_new(struct event_base *base, int listen_fd, const struct config *cfg,
    const struct ctl_env *env, char **cause)
{
	struct ctl *ctl;

	ctl = xcalloc(1, sizeof *ctl);
	ctl->base = base;
	ctl->cfg = cfg;
	ctl->env = *env;
	TAILQ_INIT(&ctl->conns);
	TAILQ_INIT(&ctl->subs);
	LIST_INIT(&ctl->pendings);
	if ((ctl->retry = evtimer_new(base, retry_cb, ctl)) == NULL) {
		xasprintf(cause, "control socket: cannot create a timer");
		free(ctl);
		if (listen_fd != -1)
			close(listen_fd);
		return NULL;
	}
	if (listen_fd != -1) {
		evutil_make_socket_nonblocking(listen_fd);
		evutil_make_socket_closeonexec(listen_fd);
		/* backlog 0: the socket is already listening. */
		ctl->listener = evconnlistener_new(base, accept_cb, ctl,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
		    LEV_OPT_DISABLED, 0, listen_fd);
		if (ctl->listener == NULL) {
			xasprintf(cause, "control socket: cannot listen");
			event_free(ctl->retry);
			free(ctl);
			close(listen_fd);
			return NULL;
		}
		evconnlistener_set_error_cb(ctl->listener, accept_error_cb);
		listener_update(ctl);
	}
	return ctl;
}

void
ctl_free(struct ctl *ctl)
{
	struct ctl_pending *p;
	struct ctl_conn *c;

	if (ctl == NULL)
		return;
	if (ctl->listener != NULL)
		evconnlistener_free(ctl->listener);
	ctl->listener = NULL;
	/* Refreshes still running call done later: leave them a record
	 * that points at nothing. */
	while ((p = LIST_FIRST(&ctl->pendings)) != NULL) {
		LIST_REMOVE(p, entry);
		p->ctl = NULL;
		if (p->conn != NULL)
			p->conn->pending = NULL;
		p->conn = NULL;
	}
	while ((c = TAILQ_FIRST(&ctl->conns)) != NULL)
		conn_free(c);
	event_free(ctl->retry);
	free(ctl->uids);
	free(ctl);
}

void
ctl_set_config(struct ctl *ctl, const struct config *cfg)
{
	ctl->cfg = cfg;
	ctl->cap_logged = 0;
	listener_update(ctl);
}

int
ctl_attach(struct ctl *ctl, int fd, uid_t uid, gid_t gid)
{
	return conn_new(ctl, fd, uid, gid, 0);
}

/*
 * Why not a socket: a fuzzer runs this hundreds of times a second, and a
 * socketpair would need the loop to move up to a megabyte each way.  The
 * connection is real except for its missing fd: its bufferevent is never
 * enabled, so nothing is read or written; the input is placed in it, EOF
 * is marked, and conn_process frames and answers it as it would a
 * half-closed client's.  held keeps conn_settle from freeing it under us
 * (a dropped or finished connection) so that its output can be taken.
 */
char *
ctl_answer(struct ctl *ctl, uid_t uid, gid_t gid, const void *in, size_t len,
    size_t *outlen)
{
	struct ctl_conn *c;
	struct evbuffer *inbuf, *out;
	char *s;
	size_t n;

	c = xcalloc(1, sizeof *c);
	c->ctl = ctl;
	if ((c->bev = bufferevent_socket_new(ctl->base, -1, 0)) == NULL)
		fatalx("control: cannot create a bufferevent");
	c->serial = ++ctl->serial;
	c->uid = uid;
	c->gid = gid;
	c->held = 1;
	TAILQ_INSERT_TAIL(&ctl->conns, c, entry);
	ctl->nconns++;
	/* A socket bufferevent keeps its input's end frozen: only its own
	 * reads may add there. */
	inbuf = bufferevent_get_input(c->bev);
	evbuffer_unfreeze(inbuf, 0);
	if (evbuffer_add(inbuf, in, len) == -1)
		fatalx("control: out of memory");
	evbuffer_freeze(inbuf, 0);
	c->eof = 1;
	conn_process(c);
	out = bufferevent_get_output(c->bev);
	n = evbuffer_get_length(out);
	s = xmalloc(n + 1);
	/* And its output's start: only its own writes may take from it. */
	evbuffer_unfreeze(out, 1);
	if (evbuffer_remove(out, s, n) != (int)n)
		fatalx("control: cannot read a reply buffer");
	s[n] = '\0';
	*outlen = n;
	conn_free(c);
	return s;
}

size_t
ctl_clients(const struct ctl *ctl)
{
	return ctl->nconns;
}

size_t
ctl_subscribers(const struct ctl *ctl)
{
	return ctl->nsubs;
}

size_t
ctl_queued(const struct ctl *ctl)
{
	return ctl->out_total;
}

/*
 * Push a committed message to every live subscriber it matches.  Its line
 * is queued as is; a subscriber whose unread output passes CTL_MAX_OUTPUT
 * is dropped (it can come back with since), so a stalled one never holds
 * the others up or grows without bound.
 */
void
ctl_broadcast(struct ctl *ctl, const struct store_msg *m)
{
	struct ctl_conn *c, *next;
	size_t sent = 0, dropped = 0;

	for (c = TAILQ_FIRST(&ctl->subs); c != NULL; c = next) {
		next = TAILQ_NEXT(c, sub_entry);
		if (!c->sub_live || c->drop || m->seq <= c->sub_seq)
			continue;
		if (!sub_matches(c, m)) {
			c->sub_seq = m->seq;
			continue;
		}
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    CTL_MAX_OUTPUT) {
			log_warnx("control: subscriber %lu (uid %lu) is not "
			    "reading; dropping it at seq %lld", c->serial,
			    (unsigned long)c->uid, (long long)c->sub_seq);
			dropped++;
			/* A broadcast may come from inside a request of
			 * this very connection (a refresh that changed a
			 * feed): then it is only marked. */
			c->drop = 1;
			if (!c->busy && !c->held)
				conn_free(c);
			continue;
		}
		sub_push(c, m);
		sent++;
	}
	out_enforce(ctl, NULL);
	log_debug("control: message %lld to %zu subscriber%s%s",
	    (long long)m->seq, sent, sent == 1 ? "" : "s",
	    dropped > 0 ? " (some dropped)" : "");
}

int
ctl_accepting(const struct ctl *ctl)
{
	return ctl->listener != NULL && ctl->enabled;
}

/* Listening socket */

/* 1 when something accepts connections at sun, 0 when the file is stale,
 * -1 with *cause when it cannot tell. */
static int
socket_live(const struct sockaddr_un *sun, char **cause)
{
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0)
		rc = 1;
	else if (errno == ECONNREFUSED)
		rc = 0;
	else if (errno == EAGAIN || errno == EINPROGRESS)
		rc = 1;		/* listening, with a full backlog */
	else {
		xasprintf(cause, "%s: cannot tell whether a daemon owns it: "
		    "%s", sun->sun_path, strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

int
ctl_listen(const char *path, unsigned mode, char **cause)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(cause, "%s: socket path too long", path);
		return -1;
	}
	strncpy(sun.sun_path, path, sizeof sun.sun_path - 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			xasprintf(cause, "%s: exists and is not a socket; "
			    "not removing it", path);
			return -1;
		}
		if ((rc = socket_live(&sun, cause)) == -1)
			return -1;
		if (rc == 1) {
			xasprintf(cause, "%s: already in use (is another "
			    "djcald running?)", path);
			return -1;
		}
		/* Left behind by a daemon that crashed. */
		log_info("control: removing stale socket %s", path);
		if (unlink(path) == -1 && errno != ENOENT) {
			xasprintf(cause, "%s: unlink: %s", path,
			    strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	/* Created with the mode at once: no moment with a wider one. */
	old = umask(~(mode_t)mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc == -1) {
		xasprintf(cause, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(path, (mode_t)mode & 07777) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}
