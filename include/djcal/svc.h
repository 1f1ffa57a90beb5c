/*
 * The service manager: sd_notify messages (READY, STATUS, RELOADING,
 * STOPPING, WATCHDOG) and socket activation, through libsystemd.  Each
 * call is a no-op when the daemon does not run under systemd.
 */
#ifndef DJCAL_SVC_H
#define DJCAL_SVC_H

#include <event2/event.h>

struct svc;

/* Start the watchdog timer (a ping every half of $WATCHDOG_USEC) when
 * systemd asks for one.  Never NULL. */
struct svc	*svc_new(struct event_base *);
void		 svc_free(struct svc *);

/* READY=1 with a STATUS line (NULL: none). */
void		 svc_ready(const char *status);
/* STATUS=: shown by systemctl status.  One line. */
void		 svc_status(const char *status);
/* RELOADING=1 before re-reading the config; svc_ready after. */
void		 svc_reloading(void);
/* STOPPING=1 when shutting down. */
void		 svc_stopping(void);

/* Whether a service manager is listening ($NOTIFY_SOCKET) or our output
 * goes to the journal ($JOURNAL_STREAM): then the daemon stays in the
 * foreground. */
int		 svc_managed(void);

/*
 * The listening socket passed by socket activation (sd_listen_fds), made
 * non-blocking and close-on-exec: the fd; -1 when none was passed; -2
 * with *cause when what was passed is not one listening Unix stream
 * socket.
 */
int		 svc_listen_fd(char **cause);

#endif
