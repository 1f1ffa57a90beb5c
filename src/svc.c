/*
 * sd_notify and sd_listen_fds wrappers.  libsystemd's calls return
 * quietly when $NOTIFY_SOCKET or $LISTEN_FDS are unset, so the daemon
 * calls these unconditionally.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "djcal/log.h"
#include "djcal/svc.h"
#include "djcal/xmalloc.h"

struct svc {
	struct event	*watchdog;
};

static void
svc_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

struct svc *
svc_new(struct event_base *base)
{
	struct svc *s = xcalloc(1, sizeof *s);
	struct timeval tv;
	uint64_t usec = 0;

	/* Ping at half the interval, so one late loop turn is no kill. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		usec /= 2;
		tv.tv_sec = (time_t)(usec / 1000000);
		tv.tv_usec = (suseconds_t)(usec % 1000000);
		s->watchdog = event_new(base, -1, EV_PERSIST,
		    svc_watchdog_cb, s);
		if (s->watchdog == NULL || event_add(s->watchdog, &tv) == -1)
			fatalx("svc: cannot start the watchdog timer");
		log_debug("watchdog: pinging every %llu ms",
		    (unsigned long long)(usec / 1000));
		sd_notify(0, "WATCHDOG=1");
	}
	return s;
}

void
svc_free(struct svc *s)
{
	if (s == NULL)
		return;
	if (s->watchdog != NULL)
		event_free(s->watchdog);
	free(s);
}

/* A STATUS value is one line: newlines would start new assignments. */
static char *
svc_one_line(const char *status)
{
	char *s = xstrdup(status), *p;

	for (p = s; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return s;
}

void
svc_ready(const char *status)
{
	char *s;

	if (status == NULL) {
		sd_notify(0, "READY=1");
		return;
	}
	s = svc_one_line(status);
	sd_notifyf(0, "READY=1\nSTATUS=%s", s);
	free(s);
}

void
svc_status(const char *status)
{
	char *s = svc_one_line(status);

	sd_notifyf(0, "STATUS=%s", s);
	free(s);
}

void
svc_reloading(void)
{
	sd_notify(0, "RELOADING=1\nSTATUS=Reloading the configuration");
}

void
svc_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
}

int
svc_managed(void)
{
	const char *n = getenv("NOTIFY_SOCKET");
	const char *j = getenv("JOURNAL_STREAM");

	return (n != NULL && *n != '\0') || (j != NULL && *j != '\0');
}

int
svc_listen_fd(char **cause)
{
	int n, fd, fl;

	n = sd_listen_fds(1);
	if (n == 0)
		return -1;
	if (n < 0) {
		xasprintf(cause, "socket activation: %s", strerror(-n));
		return -2;
	}
	if (n > 1) {
		for (fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n;
		    fd++)
			close(fd);
		xasprintf(cause, "socket activation: %d sockets passed, "
		    "expected one", n);
		return -2;
	}
	fd = SD_LISTEN_FDS_START;
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		close(fd);
		xasprintf(cause, "socket activation: the socket passed is not "
		    "a listening Unix stream socket");
		return -2;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		xasprintf(cause, "socket activation: %s", strerror(errno));
		close(fd);
		return -2;
	}
	return fd;
}
