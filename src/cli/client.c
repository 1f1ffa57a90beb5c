/*
 * The client side of the control protocol (docs/PROTOCOL.md): connect to
 * djcald's Unix socket, ping and check the protocol version, then one
 * request line and its reply line at a time.  Blocking I/O with poll(2)
 * for the deadlines; the CLI has nothing else to do meanwhile.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "djcal/proto.h"
#include "djcal/xmalloc.h"
#include "cli.h"

/* A reply larger than this is refused: an export of every feed is far
 * smaller, and a runaway peer must not eat the machine. */
#define CLIENT_MAX_REPLY	((size_t)1 << 30)
#define CLIENT_PING_MS		(10 * 1000)

struct client {
	int		 fd;
	const char	*path;		/* borrowed from struct cli */
	char		*buf;		/* bytes read, not yet a line */
	size_t		 len, cap;
	json_int_t	 next_id;
};

long long
cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready until the deadline (-1: none).  0, or -1 with
 * errno (ETIMEDOUT). */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	int ms, n;

	for (;;) {
		ms = -1;
		if (deadline >= 0) {
			long long left = deadline - cli_now_ms();

			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			ms = left > 60000 ? 60000 : (int)left;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		if ((n = poll(&pfd, 1, ms)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n > 0)
			return 0;
	}
}

static int
write_all(struct client *cl, const char *p, size_t len, long long deadline)
{
	ssize_t n;

	while (len > 0) {
		if (wait_fd(cl->fd, POLLOUT, deadline) == -1)
			return -1;
		/* MSG_NOSIGNAL: a daemon that went away is an error message,
		 * not a SIGPIPE. */
		n = send(cl->fd, p, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one line (without the '\n'); caller frees.  NULL with errno, or
 * with errno 0 at end of file, or EMSGSIZE past the cap. */
static char *
read_line(struct client *cl, long long deadline)
{
	size_t scanned = 0;
	char *nl, *line;
	ssize_t n;

	for (;;) {
		if (cl->len > scanned && (nl = memchr(cl->buf + scanned, '\n',
		    cl->len - scanned)) != NULL) {
			size_t ll = (size_t)(nl - cl->buf);

			line = xstrndup(cl->buf, ll);
			memmove(cl->buf, nl + 1, cl->len - ll - 1);
			cl->len -= ll + 1;
			return line;
		}
		scanned = cl->len;
		if (cl->len >= CLIENT_MAX_REPLY) {
			errno = EMSGSIZE;
			return NULL;
		}
		if (cl->cap - cl->len < 65536) {
			cl->cap = cl->cap == 0 ? 131072 : cl->cap * 2;
			cl->buf = xrealloc(cl->buf, cl->cap);
		}
		if (wait_fd(cl->fd, POLLIN, deadline) == -1)
			return NULL;
		n = read(cl->fd, cl->buf + cl->len, cl->cap - cl->len);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return NULL;
		}
		if (n == 0) {
			errno = 0;
			return NULL;
		}
		cl->len += (size_t)n;
	}
}

static void
report_io(const struct client *cl, const char *what)
{
	if (errno == 0)
		cli_error(_("djcald closed the connection (%s)"), what);
	else if (errno == ETIMEDOUT)
		cli_error(_("djcald did not answer in time (%s)"), what);
	else if (errno == EMSGSIZE)
		cli_error(_("the reply of djcald is too large (%s)"), what);
	else
		cli_error(_("%s: %s (%s)"), cl->path, strerror(errno), what);
}

/* A copy of a daemon's message fit for a terminal: it may quote feed
 * text, and control characters must not reach the user's terminal. */
static char *
printable(const char *s)
{
	char *v = xstrdup(s), *p;

	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return v;
}

/* An error reply as a message: the daemon's own words, except for
 * forbidden, which gets an explanation of who may. */
static void
report_error(const struct cli *c, json_t *reply)
{
	json_t *err = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *text = json_string_value(json_object_get(err, "message"));
	char *msg;

	if (code != NULL && strcmp(code, "forbidden") == 0) {
		cli_error(_("%s: permission denied: only root and members of "
		    "djcald's admin group (admin_group in djcald.conf) may do "
		    "this"), c->cmd);
		return;
	}
	if (text == NULL)
		text = code != NULL ? code : _("unknown error");
	msg = printable(text);
	if (code != NULL && strcmp(code, "not_found") == 0)
		cli_error("%s: %s", c->cmd, msg);
	else
		cli_error(_("%s: djcald says: %s (%s)"), c->cmd, msg,
		    code != NULL ? code : "?");
	free(msg);
}

/* Send req with a fresh id and read lines until its reply.  NULL after a
 * message. */
static json_t *
roundtrip(struct client *cl, json_t *req, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : cli_now_ms() + timeout_ms;
	const char *op = json_string_value(json_object_get(req, "op"));
	json_int_t id = ++cl->next_id;
	json_error_t jerr;
	json_t *reply, *rid;
	char *line;

	if (op == NULL)
		op = "?";
	json_object_set_new(req, "id", json_integer(id));
	line = proto_dump_line(req);
	json_object_del(req, "id");
	/* A daemon that refuses the connection (busy: too many of this
	 * user's) says why and closes it, maybe before the request is
	 * written: its reason may still be there to read. */
	if (write_all(cl, line, strlen(line), deadline) == -1 &&
	    errno != EPIPE && errno != ECONNRESET) {
		free(line);
		report_io(cl, op);
		return NULL;
	}
	free(line);
	for (;;) {
		if ((line = read_line(cl, deadline)) == NULL) {
			report_io(cl, op);
			return NULL;
		}
		reply = json_loads(line, JSON_DECODE_ANY, &jerr);
		free(line);
		if (!json_is_object(reply)) {
			json_decref(reply);
			cli_error(_("%s: not a djcald reply: %s"), cl->path,
			    jerr.text[0] != '\0' ? jerr.text : _("not an "
			    "object"));
			return NULL;
		}
		/* Skip pushed messages; take the reply to this request (an
		 * error about an unreadable line has no id). */
		rid = json_object_get(reply, "id");
		if (json_object_get(reply, "ok") != NULL && (rid == NULL ||
		    (json_is_integer(rid) && json_integer_value(rid) == id)))
			return reply;
		json_decref(reply);
	}
}

static int
connect_socket(const struct cli *c)
{
	struct sockaddr_un sa;
	int fd, saved;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(c->socket_path) >= sizeof sa.sun_path) {
		cli_error(_("socket path too long: %s"), c->socket_path);
		return -1;
	}
	strcpy(sa.sun_path, c->socket_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		cli_error("socket: %s", strerror(errno));
		return -1;
	}
	while (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		if (saved == ENOENT || saved == ENOTDIR)
			cli_error(_("djcald is not running (no socket at %s); "
			    "start it or use --db"), c->socket_path);
		else if (saved == ECONNREFUSED)
			cli_error(_("djcald is not running (nothing accepts "
			    "connections on %s); start it or use --db"),
			    c->socket_path);
		else if (saved == EACCES || saved == EPERM)
			cli_error(_("cannot connect to %s: %s (only the "
			    "socket's owner and group may)"), c->socket_path,
			    strerror(saved));
		else
			cli_error(_("cannot connect to %s: %s"),
			    c->socket_path, strerror(saved));
		return -1;
	}
	return fd;
}

struct client *
client_open(struct cli *c)
{
	struct client *cl;
	json_t *req, *reply, *v;
	const struct tz *z;
	json_int_t version;
	int fd;

	if ((fd = connect_socket(c)) == -1)
		return NULL;
	cl = xcalloc(1, sizeof *cl);
	cl->fd = fd;
	cl->path = c->socket_path;
	req = json_pack("{s:s}", "op", "ping");
	reply = roundtrip(cl, req, CLIENT_PING_MS);
	json_decref(req);
	if (reply == NULL) {
		client_close(cl);
		return NULL;
	}
	v = json_object_get(reply, "version");
	if (json_is_false(json_object_get(reply, "ok")) &&
	    json_is_object(json_object_get(reply, "error"))) {
		/* Refused (busy): the daemon's reason. */
		report_error(c, reply);
		json_decref(reply);
		client_close(cl);
		return NULL;
	}
	if (!json_is_true(json_object_get(reply, "ok")) ||
	    !json_is_integer(v)) {
		cli_error(_("%s does not answer like djcald (no protocol "
		    "version in its ping reply)"), c->socket_path);
		json_decref(reply);
		client_close(cl);
		return NULL;
	}
	version = json_integer_value(v);
	if (version != PROTO_VERSION) {
		cli_error(_("djcald speaks protocol %lld, this djcal speaks "
		    "%d: upgrade %s"), (long long)version, PROTO_VERSION,
		    version > PROTO_VERSION ? "djcal" : "djcald");
		json_decref(reply);
		client_close(cl);
		return NULL;
	}
	/* Time arguments are read in the daemon's zone when it says. */
	v = json_object_get(reply, "timezone");
	if (json_is_string(v) && (z = tz_system(json_string_value(v))) !=
	    NULL)
		c->zone = z;
	json_decref(reply);
	return cl;
}

int
client_release(struct client *cl, char **buf, size_t *len)
{
	int fd = cl->fd;

	*len = cl->len;
	*buf = xrealloc(cl->buf, cl->len + 1);
	free(cl);
	return fd;
}

void
client_close(struct client *cl)
{
	if (cl == NULL)
		return;
	close(cl->fd);
	free(cl->buf);
	free(cl);
}

int
client_call(struct cli *c, struct client *cl, json_t *req, int timeout_ms,
    json_t **out)
{
	json_t *reply;

	*out = NULL;
	if ((reply = roundtrip(cl, req, timeout_ms)) == NULL)
		return CLI_FAIL;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		report_error(c, reply);
		json_decref(reply);
		return CLI_FAIL;
	}
	json_object_del(reply, "ok");
	json_object_del(reply, "id");
	*out = reply;
	return CLI_OK;
}
