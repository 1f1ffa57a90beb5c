/*
 * djcald: reads Party-branch iCalendar feeds into SQLite, reminds
 * subscribers, re-publishes a merged feed.  This file owns start-up
 * (options, config, the store, the listening socket), the one event_base,
 * the signals (SIGHUP reloads, SIGTERM and SIGINT stop) and the talk with
 * systemd; the modules keep their own events.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libical/ical.h>

#include "djcal/classify.h"
#include "djcal/config.h"
#include "djcal/ctl.h"
#include "djcal/export.h"
#include "djcal/feed.h"
#include "djcal/fetch.h"
#include "djcal/log.h"
#include "djcal/remind.h"
#include "djcal/store.h"
#include "djcal/svc.h"
#include "djcal/tz.h"
#include "djcal/types.h"
#include "djcal/xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG	SYSCONFDIR "/djcald/djcald.conf"

/* How long SIGTERM waits for fetches in flight before aborting them. */
#define STOP_GRACE	5

static void
usage(FILE *f)
{
	fprintf(f, "usage: djcald [-c FILE] [-f|--foreground] [-d|--debug] "
	    "[--once] [--check-config] [--version]\n");
}

struct opts {
	const char	*config;
	int		 foreground;
	int		 debug;
	int		 once;
	int		 check;
};

struct daemon {
	struct opts		 o;
	struct config		*cfg;
	struct store		*store;
	struct classifier	*cls;
	struct feed_env		 env;
	struct event_base	*base;
	struct fetcher		*fetcher;
	struct feed_sched	*sched;
	struct ctl		*ctl;
	struct remind		*remind;
	struct export		*export;
	struct svc		*svc;
	struct event		*ev_hup, *ev_term, *ev_int, *ev_grace;
	char			*status;	/* the last STATUS= sent */
	char			*socket_path;	/* ours to unlink at exit */
	int			 ready_fd;	/* to a waiting parent, or -1 */
	int			 stopping;
	int			 once_failed;
};

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "once", no_argument, NULL, 'o' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof *o);
	o->config = DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "c:fdnhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'o':
			o->once = 1;
			break;
		case 'n':
			o->check = 1;
			break;
		case 'V':
			printf("djcald %s\n", DJCAL_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

/* The first directory of a systemd directory variable ("a:b"), or NULL.
 * Caller frees. */
static char *
service_dir(const char *var)
{
	const char *v = getenv(var);

	if (v == NULL || *v != '/')
		return NULL;
	return xstrndup(v, strcspn(v, ":"));
}

/*
 * Under systemd with StateDirectory= and RuntimeDirectory=, a database or
 * socket left at the built-in default goes into the directories systemd
 * made for us ($STATE_DIRECTORY, $RUNTIME_DIRECTORY), which with
 * DynamicUser= are the only places we may write.
 */
static void
use_service_dirs(struct config *cfg)
{
	struct config *def = config_default();
	char *dir;

	if (strcmp(cfg->database, def->database) == 0 &&
	    (dir = service_dir("STATE_DIRECTORY")) != NULL) {
		free(cfg->database);
		xasprintf(&cfg->database, "%s/djcald.db", dir);
		free(dir);
	}
	if (strcmp(cfg->socket, def->socket) == 0 &&
	    (dir = service_dir("RUNTIME_DIRECTORY")) != NULL) {
		free(cfg->socket);
		xasprintf(&cfg->socket, "%s/djcald.sock", dir);
		free(dir);
	}
	config_free(def);
}

/* Log a cause that may hold several lines, one message per line. */
static void
log_lines(const char *prefix, const char *cause)
{
	const char *p = cause, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		log_error("%s%.*s", prefix, nl != NULL ? (int)(nl - p) :
		    (int)strlen(p), p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

static void
env_setup(struct daemon *d)
{
	memset(&d->env, 0, sizeof d->env);
	d->env.store = d->store;
	d->env.cfg = d->cfg;
	d->env.classifier = d->cls;
	d->env.zone = tz_system(d->cfg->timezone);
	d->env.arg = d;
	if (d->env.zone == NULL)
		fatalx("timezone %s: unknown", d->cfg->timezone);
}

/* STATUS= with the feeds' health, sent when it changed. */
static void
update_status(struct daemon *d, int force)
{
	struct store_feed *f;
	size_t n;
	char *line;

	if (store_feed_list(d->store, &f, &n) == -1)
		return;
	line = feed_status_line(f, n);
	store_feed_list_free(f, n);
	if (!force && d->status != NULL && strcmp(line, d->status) == 0) {
		free(line);
		return;
	}
	free(d->status);
	d->status = line;
	if (!force)
		svc_status(line);
}

/* After each fetch: the STATUS line; and a stopping daemon stops when
 * the last fetch is in. */
static void
fetched_cb(const char *feed, void *arg)
{
	struct daemon *d = arg;

	(void)feed;
	if (d->o.once)
		return;
	update_status(d, 0);
	if (d->remind != NULL)
		remind_feed_fetched(d->remind, time(NULL));
	if (d->stopping && feed_sched_busy(d->sched) == 0)
		event_base_loopbreak(d->base);
}

/* --once */

static void
once_done_cb(const struct feed_outcome *o, size_t n, void *arg)
{
	struct daemon *d = arg;
	size_t i;

	for (i = 0; i < n; i++)
		if (!o[i].ok)
			d->once_failed++;
	event_base_loopbreak(d->base);
}

/* Fetch and ingest every feed once, running the loop until every
 * transfer is in; 0 when all succeeded. */
static int
run_once(struct daemon *d)
{
	char *cause = NULL;

	if ((d->base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if ((d->fetcher = fetch_new(d->base, &cause)) == NULL) {
		log_error("%s", cause);
		free(cause);
		return 1;
	}
	d->sched = feed_sched_new(d->base, &d->env, d->fetcher,
	    FEED_SCHED_ONCE);
	feed_sched_refresh(d->sched, NULL, once_done_cb, d);
	event_base_dispatch(d->base);
	return d->once_failed == 0 ? 0 : 1;
}

/* The control socket's services */

struct refresh_req {
	ctl_refresh_done	 done;
	void			*arg;
};

static void
refresh_done_cb(const struct feed_outcome *o, size_t n, void *arg)
{
	struct refresh_req *rr = arg;
	struct ctl_refresh_result *r;
	size_t i;

	r = xcalloc(n > 0 ? n : 1, sizeof *r);
	for (i = 0; i < n; i++) {
		r[i].feed = o[i].feed;
		r[i].ok = o[i].ok;
		r[i].unchanged = o[i].unchanged;
		r[i].http_status = o[i].http_status;
		r[i].items = o[i].items;
		r[i].changed = o[i].changed;
		r[i].removed = o[i].removed;
		r[i].error = o[i].error;
	}
	rr->done(r, n, rr->arg);
	free(r);
	free(rr);
}

static int
env_refresh(void *arg, const char *feed, ctl_refresh_done done,
    void *done_arg, char **cause)
{
	struct daemon *d = arg;
	struct refresh_req *rr;

	if (d->stopping) {
		xasprintf(cause, "the daemon is stopping");
		return -1;
	}
	rr = xcalloc(1, sizeof *rr);
	rr->done = done;
	rr->arg = done_arg;
	if (feed_sched_refresh(d->sched, feed, refresh_done_cb, rr) == 1) {
		free(rr);
		xasprintf(cause, "no feed named '%s'", feed);
		return 1;
	}
	return 0;
}

static time_t
env_next_fetch(void *arg, const char *feed)
{
	struct daemon *d = arg;

	return feed_sched_next(d->sched, feed);
}

/* The control socket's `export`: the body GET /calendar.ics serves. */
static char *
env_export_ics(void *arg, const struct store_filter *f, size_t *len,
    char **cause)
{
	struct daemon *d = arg;

	return export_ctl_ics(d->export, f, len, cause);
}

/* After a feed's items changed. */
static void
changed_cb(const char *feed, void *arg)
{
	struct daemon *d = arg;

	(void)feed;
	if (d->export != NULL)
		export_changed(d->export);
	if (d->remind != NULL)
		remind_feeds_changed(d->remind, time(NULL));
}

/* A committed outbox message: to the live subscribers. */
static void
deliver_cb(void *arg, const struct store_msg *m)
{
	struct daemon *d = arg;

	if (d->ctl != NULL)
		ctl_broadcast(d->ctl, m);
}

/* Signals */

static void
reload(struct daemon *d)
{
	struct config *ncfg, *old = d->cfg;
	struct classifier *ocls = d->cls;
	const struct tz *zone;
	char *cause = NULL;

	svc_reloading();
	log_info("SIGHUP: reading %s", old->path);
	if (config_load(old->path, &ncfg, &cause) == -1) {
		log_error("%s is not valid; still running on the "
		    "configuration read before:", old->path);
		log_lines("", cause);
		free(cause);
		svc_ready(d->status);
		return;
	}
	use_service_dirs(ncfg);
	/* The store and the socket are open: moving them means a restart. */
	if (strcmp(ncfg->database, old->database) != 0) {
		log_warnx("database: the change to %s takes effect when "
		    "djcald restarts", ncfg->database);
		free(ncfg->database);
		ncfg->database = xstrdup(old->database);
	}
	if (strcmp(ncfg->socket, old->socket) != 0 ||
	    ncfg->socket_mode != old->socket_mode) {
		log_warnx("socket: the change takes effect when djcald "
		    "restarts");
		free(ncfg->socket);
		ncfg->socket = xstrdup(old->socket);
		ncfg->socket_mode = old->socket_mode;
	}
	if ((zone = tz_system(ncfg->timezone)) == NULL) {
		log_error("timezone %s: unknown; still running on the "
		    "configuration read before", ncfg->timezone);
		config_free(ncfg);
		svc_ready(d->status);
		return;
	}
	if (feed_sync_config(d->store, ncfg, &cause) == -1) {
		log_error("%s; still running on the configuration read "
		    "before", cause);
		free(cause);
		config_free(ncfg);
		svc_ready(d->status);
		return;
	}
	d->cfg = ncfg;
	d->cls = feed_classifier_new(ncfg);
	d->env.cfg = ncfg;
	d->env.classifier = d->cls;
	d->env.zone = zone;
	/* Both still borrow the old config until they have followed. */
	feed_sched_reload(d->sched);
	if (d->ctl != NULL)
		ctl_set_config(d->ctl, ncfg);
	if (d->remind != NULL)
		remind_set_config(d->remind, ncfg);
	if (d->export != NULL && export_set_config(d->export, ncfg,
	    &cause) == -1) {
		log_error("%s; the ICS export stays where it was", cause);
		free(cause);
		cause = NULL;
	}
	config_free(old);
	classifier_free(ocls);
	log_info("configuration reloaded: %zu feed%s", ncfg->nfeeds,
	    ncfg->nfeeds == 1 ? "" : "s");
	update_status(d, 1);
	svc_ready(d->status);
}

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	log_info("aborting %zu fetch%s still in flight",
	    feed_sched_busy(d->sched),
	    feed_sched_busy(d->sched) == 1 ? "" : "es");
	event_base_loopbreak(d->base);
}

static void
stop(struct daemon *d, int sig)
{
	struct timeval tv = { STOP_GRACE, 0 };

	if (d->stopping) {
		/* A second signal: do not wait. */
		event_base_loopbreak(d->base);
		return;
	}
	d->stopping = 1;
	svc_stopping();
	log_info("%s: stopping", strsignal(sig));
	feed_sched_stop(d->sched);
	/* Each ingest is one transaction, so aborting a download never
	 * leaves the store half-written; fetches nearly done may finish. */
	if (feed_sched_busy(d->sched) == 0) {
		event_base_loopbreak(d->base);
		return;
	}
	if ((d->ev_grace = evtimer_new(d->base, grace_cb, d)) == NULL ||
	    evtimer_add(d->ev_grace, &tv) == -1)
		event_base_loopbreak(d->base);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		if (!d->stopping)
			reload(d);
	} else
		stop(d, (int)sig);
}

/* Start-up */

/*
 * Detach from the terminal.  The parent waits until the daemon is ready
 * (a 0 byte on the pipe) or has failed (the pipe closes), so that
 * `djcald` exits with a status that means something.  Returns the pipe's
 * write end in the daemon.
 */
static int
daemonize(void)
{
	int p[2], fd;
	pid_t pid;
	char c;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n == -1 && errno == EINTR);
		if (n == 1 && c == 0)
			_exit(0);
		fprintf(stderr, "djcald: failed to start; see the system "
		    "log\n");
		_exit(1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	/* Again, so that we can never acquire a controlling terminal. */
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("/dev/null");
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	log_to_syslog();
	return p[1];
}

static void
tell_parent(struct daemon *d)
{
	char c = 0;

	if (d->ready_fd == -1)
		return;
	if (write(d->ready_fd, &c, 1) != 1)
		log_warn("telling the starting process we are up");
	close(d->ready_fd);
	d->ready_fd = -1;
}

/* The listening control socket: systemd's, or our own. -1 on failure. */
static int
open_socket(struct daemon *d)
{
	char *cause = NULL;
	int fd;

	fd = svc_listen_fd(&cause);
	if (fd == -2) {
		log_error("%s", cause);
		free(cause);
		return -1;
	}
	if (fd >= 0) {
		log_debug("control socket: passed by systemd");
		return fd;
	}
	if ((fd = ctl_listen(d->cfg->socket, d->cfg->socket_mode,
	    &cause)) == -1) {
		log_error("%s", cause);
		free(cause);
		return -1;
	}
	d->socket_path = xstrdup(d->cfg->socket);
	return fd;
}

static struct event *
signal_new(struct daemon *d, int sig)
{
	struct event *ev;

	if ((ev = evsignal_new(d->base, sig, signal_cb, d)) == NULL ||
	    evsignal_add(ev, NULL) == -1)
		fatalx("cannot handle signal %d", sig);
	return ev;
}

/* The long-running daemon: 0 after a clean stop. */
static int
run_daemon(struct daemon *d)
{
	struct ctl_env cenv;
	struct export_env eenv;
	struct remind_env renv;
	char *cause = NULL;
	int fd;

	if ((d->base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if ((fd = open_socket(d)) == -1)
		return 1;
	memset(&eenv, 0, sizeof eenv);
	eenv.store = d->store;
	if ((d->export = export_new(d->base, d->cfg, &eenv, &cause)) ==
	    NULL) {
		log_error("%s", cause);
		free(cause);
		close(fd);
		return 1;
	}
	memset(&cenv, 0, sizeof cenv);
	cenv.store = d->store;
	cenv.refresh = env_refresh;
	cenv.next_fetch = env_next_fetch;
	cenv.export_ics = env_export_ics;
	cenv.arg = d;
	if ((d->ctl = ctl_new(d->base, fd, d->cfg, &cenv, &cause)) == NULL) {
		log_error("control socket: %s", cause);
		free(cause);
		return 1;
	}
	/* Reminders that fell due while djcald was down go out first (late,
	 * or recorded as skipped); subscribers catch up with since. */
	memset(&renv, 0, sizeof renv);
	renv.store = d->store;
	renv.deliver = deliver_cb;
	renv.arg = d;
	if ((d->remind = remind_new(d->base, d->cfg, &renv, &cause)) ==
	    NULL) {
		log_error("reminders: %s", cause);
		free(cause);
		return 1;
	}
	remind_run(d->remind, time(NULL));
	if ((d->fetcher = fetch_new(d->base, &cause)) == NULL) {
		log_error("%s", cause);
		free(cause);
		return 1;
	}
	d->env.fetched = fetched_cb;
	d->env.changed = changed_cb;
	d->sched = feed_sched_new(d->base, &d->env, d->fetcher,
	    FEED_SCHED_PERIODIC);
	d->svc = svc_new(d->base);
	d->ev_hup = signal_new(d, SIGHUP);
	d->ev_term = signal_new(d, SIGTERM);
	d->ev_int = signal_new(d, SIGINT);

	update_status(d, 1);
	log_info("started: %zu feed%s, database %s, socket %s",
	    d->cfg->nfeeds, d->cfg->nfeeds == 1 ? "" : "s", d->cfg->database,
	    d->socket_path != NULL ? d->socket_path : "from systemd");
	svc_ready(d->status);
	tell_parent(d);

	if (event_base_dispatch(d->base) == -1) {
		log_error("the event loop failed");
		return 1;
	}
	return 0;
}

static void
cleanup(struct daemon *d)
{
	/* The scheduler answers pending refreshes, so before ctl. */
	feed_sched_free(d->sched);
	remind_free(d->remind);
	ctl_free(d->ctl);
	export_free(d->export);
	svc_free(d->svc);
	fetch_free(d->fetcher);
	if (d->ev_hup != NULL)
		event_free(d->ev_hup);
	if (d->ev_term != NULL)
		event_free(d->ev_term);
	if (d->ev_int != NULL)
		event_free(d->ev_int);
	if (d->ev_grace != NULL)
		event_free(d->ev_grace);
	if (d->base != NULL)
		event_base_free(d->base);
	if (d->store != NULL)
		store_close(d->store);
	if (d->socket_path != NULL) {
		unlink(d->socket_path);
		free(d->socket_path);
	}
	classifier_free(d->cls);
	config_free(d->cfg);
	free(d->status);
}

int
main(int argc, char **argv)
{
	struct daemon d;
	char *cause = NULL;
	int rc;

	memset(&d, 0, sizeof d);
	d.ready_fd = -1;
	setlocale(LC_ALL, "");
	parse_opts(argc, argv, &d.o);
	log_init("djcald", d.o.debug);
	icalerror_set_errors_are_fatal(0);
	icalerror_clear_errno();

	if (config_load(d.o.config, &d.cfg, &cause) == -1) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	if (d.o.check) {
		printf("%s: ok (%zu feed%s)\n", d.o.config, d.cfg->nfeeds,
		    d.cfg->nfeeds == 1 ? "" : "s");
		config_free(d.cfg);
		return 0;
	}
	use_service_dirs(d.cfg);
	/* A client that goes away must not kill us on write. */
	signal(SIGPIPE, SIG_IGN);
	if (!d.o.once && !d.o.foreground && !svc_managed())
		d.ready_fd = daemonize();

	if ((d.store = store_open(d.cfg->database, 0, &cause)) == NULL) {
		log_error("%s", cause);
		free(cause);
		cleanup(&d);
		return 1;
	}
	if (feed_sync_config(d.store, d.cfg, &cause) == -1) {
		log_error("%s", cause);
		free(cause);
		cleanup(&d);
		return 1;
	}
	d.cls = feed_classifier_new(d.cfg);
	env_setup(&d);
	if (d.o.once)
		rc = run_once(&d);
	else
		rc = run_daemon(&d);
	if (!d.o.once)
		log_info("stopped");
	cleanup(&d);
	return rc;
}
