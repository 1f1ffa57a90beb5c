/* Logging to stderr, with journald priority prefixes when stderr is the journal. */
#ifndef DJCAL_LOG_H
#define DJCAL_LOG_H

#include <stdarg.h>

/* Set up logging: debug enables log_debug; journald prefixes are used when
 * $JOURNAL_STREAM names our stderr.  ident prefixes lines on a terminal. */
void log_init(const char *ident, int debug);

/* From now on log to syslog (facility daemon) instead of stderr: for a
 * daemon that detached from its terminal. */
void log_to_syslog(void);

/* Enable or disable debug messages after log_init. */
void log_set_debug(int debug);

/* Return whether debug messages are enabled. */
int log_get_debug(void);

/* Warnings with the errno string appended (log_warn) or without (log_warnx). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Errors: something failed and was given up on, but the process goes on. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log and exit(1): start-up failures, out of memory, broken invariants only. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
