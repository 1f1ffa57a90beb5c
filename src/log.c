/* Logging to stderr; under journald each line carries its <N> priority. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "djcal/log.h"

static const char *log_ident = "djcal";
static int log_debug_on;
static int log_journal;
static int log_syslog;

/* True when $JOURNAL_STREAM is "dev:inode" of our stderr (systemd.exec(5)). */
static int
log_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *ident, int debug)
{
	log_ident = ident;
	log_debug_on = debug;
	log_journal = log_is_journal();
}

void
log_to_syslog(void)
{
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
}

void
log_set_debug(int debug)
{
	log_debug_on = debug;
}

int
log_get_debug(void)
{
	return log_debug_on;
}

static void
log_vemit(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char buf[8192];

	vsnprintf(buf, sizeof buf, fmt, ap);
	if (log_syslog) {
		if (suffix != NULL)
			syslog(prio, "%s: %s", buf, suffix);
		else
			syslog(prio, "%s", buf);
	} else if (log_journal) {
		if (suffix != NULL)
			fprintf(stderr, "<%d>%s: %s\n", prio, buf, suffix);
		else
			fprintf(stderr, "<%d>%s\n", prio, buf);
	} else {
		if (suffix != NULL)
			fprintf(stderr, "%s: %s: %s\n", log_ident, buf, suffix);
		else
			fprintf(stderr, "%s: %s\n", log_ident, buf);
	}
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vemit(4, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(4, fmt, ap, NULL);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(3, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(6, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_vemit(7, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vemit(2, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(2, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
