/*
 * `make bench`: measures djcald against floors measured in the same run and
 * prints one table (docs/PERFORMANCE.md explains each row).  Progress goes
 * to stderr, the table to stdout.
 *
 * usage: bench [-b BUILD] [-D DJCALD] [-r RUNS] [-s SECTIONS] [-k]
 *	-b	the build directory holding djcald, djcal and bench/ (build)
 *	-D	another djcald to measure (a before/after comparison)
 *	-r	runs per figure (5; the 100,000-event ingest takes max(3, r-2))
 *	-s	comma-separated sections: ingest, repoll, upcoming, fanout
 *		(fan-out also measures idle RSS and system calls); all by default
 *	-k	keep the work directory (databases, configs, daemon logs)
 *
 * The workloads come from ../shared/bench/gen_feed.py when it is there,
 * else from bench/gen_feed.py (the same approach, written for djcal); feeds
 * are cached in BUILD/bench/work by size, seed and start date.  The daemon
 * runs as it would in production (its own process, the default window of
 * 400 days behind and ahead); the bench talks to it over its socket, serves
 * it HTTP from a thread of its own, and reads its CPU time, RSS and system
 * calls from outside.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench.h"

#define HORIZON_DAYS	400		/* djcald's defaults, written into */
#define HISTORY_DAYS	400		/* every config the bench makes */
#define UPCOMING_LIMIT	50		/* the short list's `limit` */
#define TARGET_OCC	1000000		/* occurrences for `upcoming` */
#define MAX_ROWS	64
#define BUDGET_S	20		/* seconds per latency figure, about */

/* One row of the table. */
struct row {
	char	what[64];
	char	value[40];
	char	floor[48];
	char	ratio[16];
	char	target[24];
	char	verdict[8];
};

static struct {
	const char	*build;
	const char	*other;		/* -D */
	int		 runs;
	int		 keep;
	char		*sections;
	char		 work[PATH_MAX];	/* cached feeds */
	char		 run[PATH_MAX];		/* this run's scratch */
	char		 gen[PATH_MAX];
	char		 djcald[PATH_MAX];
	char		 djcal[PATH_MAX];
	char		 floor_parse[PATH_MAX];
	char		 floor_simple[PATH_MAX];
	struct row	 rows[MAX_ROWS];
	size_t		 nrows;
	char		 notes[16][160];
	size_t		 nnotes;
} B;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* snprintf that the compiler does not second-guess: a cell of the table
 * may be cut short; a path never is this long. */
static void __attribute__((format(printf, 3, 4)))
strf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2)))
note(const char *fmt, ...)
{
	va_list ap;

	if (B.nnotes == sizeof B.notes / sizeof B.notes[0])
		return;
	va_start(ap, fmt);
	vsnprintf(B.notes[B.nnotes++], sizeof B.notes[0], fmt, ap);
	va_end(ap);
}

static int
section(const char *name)
{
	const char *p = B.sections;
	size_t n = strlen(name);

	if (p == NULL)
		return 1;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == B.sections || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ','))
			return 1;
		p += n;
	}
	return 0;
}

/* Statistics */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *v, size_t n)
{
	double *s;
	double m;

	if (n == 0)
		return NAN;
	s = malloc(n * sizeof *s);
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

/* The p-th percentile by nearest rank (p99 of 20 samples is the max). */
static double
percentile(const double *v, size_t n, double p)
{
	double *s, r;
	size_t k;

	if (n == 0)
		return NAN;
	s = malloc(n * sizeof *s);
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_double);
	k = (size_t)ceil(p / 100.0 * (double)n);
	r = s[k == 0 ? 0 : k - 1];
	free(s);
	return r;
}

/* The table */

static struct row *
row_add(const char *what)
{
	struct row *r;

	if (B.nrows == MAX_ROWS)
		die("too many rows");
	r = &B.rows[B.nrows++];
	memset(r, 0, sizeof *r);
	strf(r->what, sizeof r->what, "%s", what);
	return r;
}

/* Set a row's target and verdict: met when value <= limit. */
static void
row_target(struct row *r, const char *target, double value, double limit)
{
	strf(r->target, sizeof r->target, "%s", target);
	if (isnan(value))
		strf(r->verdict, sizeof r->verdict, "n/a");
	else
		strf(r->verdict, sizeof r->verdict, "%s",
		    value <= limit ? "met" : "MISSED");
}

static void
fmt_secs(char *buf, size_t len, double s)
{
	if (isnan(s))
		strf(buf, len, "n/a");
	else if (s >= 1)
		strf(buf, len, "%.2f s", s);
	else if (s >= 0.001)
		strf(buf, len, "%.2f ms", s * 1e3);
	else
		strf(buf, len, "%.0f us", s * 1e6);
}

static void
fmt_mib(char *buf, size_t len, double kib)
{
	strf(buf, len, "%.1f MiB", kib / 1024);
}

/* Display width of UTF-8 text: the table is ASCII except for "×". */
static int
width(const char *s)
{
	int w = 0;

	for (; *s != '\0'; s++)
		if ((*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
cell(const char *s, int w, int right)
{
	int pad = w - width(s);

	if (right)
		printf("%*s%s", pad > 0 ? pad : 0, "", s);
	else
		printf("%s%*s", s, pad > 0 ? pad : 0, "");
}

static void
print_table(void)
{
	static const char *head[] = { "measure", "djcal", "floor",
	    "ratio", "target", "" };
	int w[6] = { 0 };
	size_t i, j;

	for (j = 0; j < 6; j++)
		w[j] = width(head[j]);
	for (i = 0; i < B.nrows; i++) {
		const struct row *r = &B.rows[i];
		const char *c[6] = { r->what, r->value, r->floor, r->ratio,
		    r->target, r->verdict };

		for (j = 0; j < 6; j++)
			if (width(c[j]) > w[j])
				w[j] = width(c[j]);
	}
	for (j = 0; j < 6; j++) {
		cell(head[j], w[j], j == 1 || j == 3);
		fputs(j < 5 ? "  " : "\n", stdout);
	}
	for (i = 0; i < B.nrows; i++) {
		const struct row *r = &B.rows[i];
		const char *c[6] = { r->what, r->value, r->floor, r->ratio,
		    r->target, r->verdict };

		for (j = 0; j < 6; j++) {
			cell(c[j], w[j], j == 1 || j == 3);
			fputs(j < 5 ? "  " : "\n", stdout);
		}
	}
}

/* Processes */

static double
tv_secs(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

struct proc_result {
	int	 status;	/* exit status, or 128 + signal */
	double	 wall;		/* seconds */
	double	 cpu;		/* user + system seconds */
	long	 maxrss;	/* KiB */
};

/*
 * Start argv with stdout and stderr to files (NULL: /dev/null).
 * posix_spawn, not fork: the bench may hold 100 MB of replies, and copying
 * its page tables for each `djcal upcoming` would be counted as djcal's.
 */
static pid_t
spawn(char *const argv[], const char *out, const char *err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	fflush(NULL);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO,
	    out != NULL ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO,
	    err != NULL ? err : "/dev/null", O_WRONLY | O_CREAT | O_APPEND,
	    0644);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		die("%s: %s", argv[0], strerror(rc));
	return pid;
}

/* Run argv to the end: wall time, CPU time and peak RSS of that process. */
static struct proc_result
run(char *const argv[], const char *out, const char *err)
{
	struct proc_result r;
	struct rusage ru;
	int64_t t0;
	int st;
	pid_t pid;

	t0 = bench_now_ns();
	pid = spawn(argv, out, err);
	while (wait4(pid, &st, 0, &ru) == -1)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	r.wall = (double)(bench_now_ns() - t0) / 1e9;
	r.cpu = tv_secs(&ru.ru_utime) + tv_secs(&ru.ru_stime);
	r.maxrss = ru.ru_maxrss;
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r;
}

static void
run_ok(char *const argv[], const char *out, const char *err,
    struct proc_result *r)
{
	*r = run(argv, out, err);
	if (r->status != 0)
		die("%s exited with %d (see %s)", argv[0], r->status,
		    err != NULL ? err : "its output");
}

/* A process's CPU time (all threads) in seconds, from outside. */
static double
proc_cpu(pid_t pid)
{
	clockid_t cid;
	struct timespec ts;

	if (clock_getcpuclockid(pid, &cid) != 0 ||
	    clock_gettime(cid, &ts) == -1)
		return NAN;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmRSS or VmHWM of a process, KiB. */
static long
proc_status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t n = strlen(key);
	FILE *f;
	long v = -1;

	strf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	fputs(text, f);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static void
rm_db(const char *db)
{
	char p[PATH_MAX + 8];

	unlink(db);
	strf(p, sizeof p, "%s-wal", db);
	unlink(p);
	strf(p, sizeof p, "%s-shm", db);
	unlink(p);
	strf(p, sizeof p, "%s-journal", db);
	unlink(p);
}

/* Workloads */

/* A feed of n UIDs (seed, today's date), generated once and cached. */
static void
feed_path(int n, int seed, char *out, size_t len)
{
	char day[16], tmp[PATH_MAX + 8];
	char *argv[12];
	char ns[16], ss[16];
	time_t now = time(NULL);
	struct tm tm;
	struct stat sb;

	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	strf(out, len, "%s/feed-%d-s%d-%s.ics", B.work, n, seed, day);
	if (stat(out, &sb) == 0 && sb.st_size > 0)
		return;
	say("generating %d events (seed %d, from %s) with %s", n, seed,
	    day, B.gen);
	strf(ns, sizeof ns, "%d", n);
	strf(ss, sizeof ss, "%d", seed);
	strf(tmp, sizeof tmp, "%s.tmp", out);
	argv[0] = "/usr/bin/env";
	argv[1] = "python3";
	argv[2] = B.gen;
	argv[3] = "--events";
	argv[4] = ns;
	argv[5] = "--seed";
	argv[6] = ss;
	argv[7] = "--start";
	argv[8] = day;
	argv[9] = NULL;
	{
		struct proc_result r;

		run_ok(argv, tmp, NULL, &r);
	}
	if (rename(tmp, out) == -1)
		die("%s: %s", out, strerror(errno));
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* The window djcald materialises at now (update_window). */
static void
mat_window(time_t now, int64_t *from, int64_t *to)
{
	int64_t day = (int64_t)now - (int64_t)now % 86400;

	*from = day - (int64_t)HISTORY_DAYS * 86400;
	*to = day + (int64_t)(HORIZON_DAYS + 1) * 86400;
}

static const char *
admin_group(void)
{
	struct group *g = getgrgid(getgid());

	return g != NULL ? g->gr_name : "root";
}

/* A config: [daemon] with db and socket in dir, extra daemon lines, then
 * feeds ("name=url" lines, each becoming a section with feed_extra). */
static void
write_config(const char *path, const char *dir, const char *daemon_extra,
    const char *feeds[], size_t nfeeds, const char *feed_extra)
{
	FILE *f;
	size_t i;

	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "[daemon]\ndatabase = %s/djcald.db\nsocket = %s/sock\n"
	    "http_listen =\nadmin_group = %s\nhorizon_days = %d\n"
	    "history_days = %d\nmax_feed_bytes = 256M\n%s\n", dir, dir,
	    admin_group(), HORIZON_DAYS, HISTORY_DAYS,
	    daemon_extra != NULL ? daemon_extra : "");
	for (i = 0; i < nfeeds; i++) {
		const char *eq = strchr(feeds[i], '=');

		fprintf(f, "[feed %.*s]\nurl = %s\n%s\n", (int)(eq - feeds[i]),
		    feeds[i], eq + 1, feed_extra != NULL ? feed_extra : "");
	}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static void
make_dir(char *out, size_t len, const char *name)
{
	strf(out, len, "%s/%s", B.run, name);
	if (mkdir(out, 0755) == -1 && errno != EEXIST)
		die("%s: %s", out, strerror(errno));
}

/* The daemon */

struct daemon {
	pid_t	 pid;
	char	 dir[PATH_MAX];
	char	 conf[PATH_MAX + 16];
	char	 sock[PATH_MAX + 16];
	char	 log[PATH_MAX + 16];
};

static int
unix_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Start djcald -f on dir's config and wait (60 s at most) until its socket
 * accepts a connection. */
static void
daemon_start(struct daemon *d)
{
	char *argv[] = { B.djcald, "-f", "-c", d->conf, NULL };
	int64_t deadline;
	int fd, st;

	strf(d->sock, sizeof d->sock, "%s/sock", d->dir);
	strf(d->log, sizeof d->log, "%s/djcald.log", d->dir);
	d->pid = spawn(argv, NULL, d->log);
	deadline = bench_now_ns() + 60 * (int64_t)1000000000;
	for (;;) {
		if ((fd = unix_connect(d->sock)) != -1) {
			close(fd);
			return;
		}
		if (waitpid(d->pid, &st, WNOHANG) == d->pid)
			die("djcald exited at start (see %s)", d->log);
		if (bench_now_ns() > deadline)
			die("djcald is not listening after 60 s (see %s)",
			    d->log);
		usleep(10000);
	}
}

static void
daemon_stop(struct daemon *d)
{
	int st;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	while (waitpid(d->pid, &st, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		say("djcald exited with status %d (see %s)", st, d->log);
	d->pid = 0;
}

/* A client connection: requests and whole reply lines. */
struct conn {
	int	 fd;
	char	*buf;
	size_t	 len, cap, off;
	size_t	 scanned;	/* bytes after off known to hold no newline */
};

static void
conn_open(struct conn *c, const char *sock)
{
	memset(c, 0, sizeof *c);
	if ((c->fd = unix_connect(sock)) == -1)
		die("%s: %s", sock, strerror(errno));
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof *c);
}

static void
conn_send(struct conn *c, const char *line)
{
	size_t n = strlen(line), off = 0;
	ssize_t w;

	while (off < n) {
		if ((w = write(c->fd, line + off, n - off)) == -1) {
			if (errno == EINTR)
				continue;
			die("write to djcald: %s", strerror(errno));
		}
		off += (size_t)w;
	}
}

/* The next reply line (NUL-terminated, without its newline); borrowed
 * until the next call.  *lenp gets its length. */
static char *
conn_line(struct conn *c, size_t *lenp)
{
	char *nl;
	ssize_t r;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
		c->scanned = 0;
	}
	for (;;) {
		/* Only what came since the last look: a reply may be 80 MB. */
		if (c->len > c->scanned && (nl = memchr(c->buf + c->scanned,
		    '\n', c->len - c->scanned)) != NULL) {
			*nl = '\0';
			c->off = (size_t)(nl - c->buf) + 1;
			c->scanned = 0;
			if (lenp != NULL)
				*lenp = (size_t)(nl - c->buf);
			return c->buf;
		}
		c->scanned = c->len;
		if (c->cap - c->len < 65536) {
			c->cap = c->cap == 0 ? 1 << 20 : c->cap * 2;
			if ((c->buf = realloc(c->buf, c->cap)) == NULL)
				die("out of memory");
		}
		if ((r = read(c->fd, c->buf + c->len, c->cap - c->len - 1)) ==
		    -1) {
			if (errno == EINTR)
				continue;
			die("read from djcald: %s", strerror(errno));
		}
		if (r == 0)
			die("djcald closed the connection");
		c->len += (size_t)r;
	}
}

/* Send one request and return its reply; die unless it is "ok":true. */
static char *
conn_call(struct conn *c, const char *req, size_t *lenp)
{
	char *line;

	conn_send(c, req);
	line = conn_line(c, lenp);
	if (strstr(line, "\"ok\":true") == NULL &&
	    strstr(line, "\"ok\": true") == NULL)
		die("djcald answered %.300s to %s", line, req);
	return line;
}

/* Section: ingest */

static void
ingest(int n, int runs)
{
	char feed[PATH_MAX], dir[PATH_MAX], conf[PATH_MAX + 16];
	char db[PATH_MAX + 16], fldb[PATH_MAX + 16], log[PATH_MAX + 16];
	char fs[24], ts[24], what[64], label[16], v[40], fl[48], ra[16];
	char *feeds[1];
	char feedline[PATH_MAX + 8];
	double w[3][16], c[3][16], m[3][16], mw[3], mc[3], mr[3];
	struct proc_result r;
	int64_t from, to;
	int i, k;

	if (runs > 16)
		runs = 16;
	feed_path(n, 1, feed, sizeof feed);
	strf(label, sizeof label, "%dk", n / 1000);
	strf(what, sizeof what, "ingest-%s", label);
	make_dir(dir, sizeof dir, what);
	strf(conf, sizeof conf, "%s/djcald.conf", dir);
	strf(db, sizeof db, "%s/djcald.db", dir);
	strf(fldb, sizeof fldb, "%s/floor.db", dir);
	strf(log, sizeof log, "%s/djcald.log", dir);
	strf(feedline, sizeof feedline, "f=%s", feed);
	feeds[0] = feedline;
	write_config(conf, dir, NULL, (const char **)feeds, 1,
	    "refresh = 1d");
	for (i = 0; i < runs; i++) {
		char *d_argv[] = { B.djcald, "--once", "-c", conf, NULL };
		char *p_argv[] = { B.floor_parse, feed, NULL };
		char *s_argv[] = { B.floor_simple, feed, fldb, fs, ts, NULL };

		say("ingest %s: run %d of %d", label, i + 1, runs);
		rm_db(db);
		run_ok(d_argv, NULL, log, &r);
		w[0][i] = r.wall, c[0][i] = r.cpu, m[0][i] = (double)r.maxrss;
		run_ok(p_argv, NULL, NULL, &r);
		w[1][i] = r.wall, c[1][i] = r.cpu, m[1][i] = (double)r.maxrss;
		/* The window as djcald computed it, just now. */
		mat_window(time(NULL), &from, &to);
		strf(fs, sizeof fs, "%lld", (long long)from);
		strf(ts, sizeof ts, "%lld", (long long)to);
		rm_db(fldb);
		run_ok(s_argv, NULL, NULL, &r);
		w[2][i] = r.wall, c[2][i] = r.cpu, m[2][i] = (double)r.maxrss;
	}
	for (k = 0; k < 3; k++) {
		mw[k] = median(w[k], (size_t)runs);
		mc[k] = median(c[k], (size_t)runs);
		mr[k] = median(m[k], (size_t)runs);
	}
	rm_db(fldb);

	strf(what, sizeof what, "ingest %s (%.1f MB), wall", label,
	    (double)file_size(feed) / 1e6);
	{
		struct row *rw;
		static const char *fname[3] = { "", "parse", "p+e+i" };

		for (k = 1; k <= 2; k++) {
			rw = row_add(k == 1 ? what : "");
			fmt_secs(v, sizeof v, mw[0]);
			if (k == 1)
				strf(rw->value, sizeof rw->value, "%s", v);
			fmt_secs(fl, sizeof fl, mw[k]);
			strf(rw->floor, sizeof rw->floor, "%s %s",
			    fname[k], fl);
			strf(ra, sizeof ra, "%.2f×", mw[0] / mw[k]);
			strf(rw->ratio, sizeof rw->ratio, "%s", ra);
			row_target(rw, k == 1 ? "<= 3× parse" :
			    "<= 1.5× p+e+i", mw[0] / mw[k], k == 1 ? 3 : 1.5);
		}
		strf(what, sizeof what, "ingest %s, CPU (user+sys)", label);
		for (k = 1; k <= 2; k++) {
			rw = row_add(k == 1 ? what : "");
			if (k == 1)
				fmt_secs(rw->value, sizeof rw->value, mc[0]);
			fmt_secs(fl, sizeof fl, mc[k]);
			strf(rw->floor, sizeof rw->floor, "%s %s",
			    fname[k], fl);
			strf(rw->ratio, sizeof rw->ratio, "%.2f×",
			    mc[0] / mc[k]);
		}
		strf(what, sizeof what, "ingest %s, events/s", label);
		rw = row_add(what);
		strf(rw->value, sizeof rw->value, "%.0f/s",
		    (double)n / mw[0]);
		strf(rw->floor, sizeof rw->floor, "p+e+i %.0f/s",
		    (double)n / mw[2]);
		strf(rw->ratio, sizeof rw->ratio, "%.2f×",
		    mw[2] / mw[0]);
		strf(what, sizeof what, "ingest %s, peak RSS", label);
		for (k = 1; k <= 2; k++) {
			rw = row_add(k == 1 ? what : "");
			if (k == 1)
				fmt_mib(rw->value, sizeof rw->value, mr[0]);
			fmt_mib(fl, sizeof fl, mr[k]);
			strf(rw->floor, sizeof rw->floor, "%s %s",
			    fname[k], fl);
			strf(rw->ratio, sizeof rw->ratio, "%.2f×",
			    mr[0] / mr[k]);
			if (k == 1 && n >= 100000)
				row_target(rw, "< 150 MiB", mr[0] / 1024,
				    149.999);
		}
	}
}

/* Section: re-poll over HTTP */

enum http_mode {
	HTTP_ETAG,	/* ETag, and 304 for a matching If-None-Match */
	HTTP_PLAIN	/* 200 with the body, no validators */
};

static struct {
	int		 fd;
	const char	*body;
	size_t		 len;
	atomic_int	 mode;
	atomic_int	 requests;
} H;

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return;		/* the client went away */
		}
		p += w;
		n -= (size_t)w;
	}
}

/* One request per connection, answered and closed. */
static void *
http_main(void *arg)
{
	char req[16384], hdr[256];
	int c, mode, hit;
	ssize_t r;
	size_t n;

	(void)arg;
	for (;;) {
		if ((c = accept(H.fd, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		n = 0;
		while (n < sizeof req - 1 && (r = read(c, req + n,
		    sizeof req - 1 - n)) > 0) {
			n += (size_t)r;
			req[n] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[n] = '\0';
		mode = atomic_load(&H.mode);
		hit = mode == HTTP_ETAG &&
		    strcasestr(req, "If-None-Match: \"bench\"") != NULL;
		atomic_fetch_add(&H.requests, 1);
		if (hit)
			strf(hdr, sizeof hdr, "HTTP/1.1 304 Not Modified\r\n"
			    "ETag: \"bench\"\r\nConnection: close\r\n\r\n");
		else
			strf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\n"
			    "Content-Type: text/calendar\r\n%s"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			    mode == HTTP_ETAG ? "ETag: \"bench\"\r\n" : "",
			    H.len);
		write_all(c, hdr, strlen(hdr));
		if (!hit)
			write_all(c, H.body, H.len);
		shutdown(c, SHUT_WR);
		while (read(c, req, sizeof req) > 0)
			;
		close(c);
	}
}

static int
http_start(const char *body, size_t len)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	pthread_t t;
	int one = 1;

	H.body = body;
	H.len = len;
	atomic_store(&H.mode, HTTP_ETAG);
	if ((H.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	setsockopt(H.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(H.fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(H.fd, 16) == -1 ||
	    getsockname(H.fd, (struct sockaddr *)&sin, &sl) == -1)
		die("http: %s", strerror(errno));
	if (pthread_create(&t, NULL, http_main, NULL) != 0)
		die("pthread_create");
	pthread_detach(t);
	return ntohs(sin.sin_port);
}

/* CPU time of the daemon around each of runs `refresh` requests. */
static void
repoll_cpu(struct daemon *d, struct conn *c, int runs, double *out)
{
	char *line;
	double t0;
	int i;

	for (i = 0; i < runs; i++) {
		t0 = proc_cpu(d->pid);
		line = conn_call(c, "{\"op\":\"refresh\",\"feed\":\"f\"}\n",
		    NULL);
		out[i] = proc_cpu(d->pid) - t0;
		if (strstr(line, "\"unchanged\":true") == NULL)
			die("re-poll: the feed was not unchanged: %.300s",
			    line);
	}
}

static void
repoll(int runs)
{
	struct daemon d;
	struct conn c;
	struct proc_result r;
	char feed[PATH_MAX], url[64], feedline[80], *body;
	const char *feeds[1];
	double t304[64], tsame[64];
	long rss_idle, rss_after;
	size_t len;
	int port, n = runs * 4 + 1;
	struct row *rw;
	char *once[] = { B.djcald, "--once", "-c", d.conf, NULL };

	if (n > 64)
		n = 64;
	feed_path(100000, 1, feed, sizeof feed);
	if ((body = bench_slurp(feed, &len)) == NULL)
		die("%s: cannot read", feed);
	port = http_start(body, len);
	strf(url, sizeof url, "http://127.0.0.1:%d/feed.ics", port);
	strf(feedline, sizeof feedline, "f=%s", url);
	feeds[0] = feedline;
	memset(&d, 0, sizeof d);
	make_dir(d.dir, sizeof d.dir, "repoll");
	strf(d.conf, sizeof d.conf, "%s/djcald.conf", d.dir);
	write_config(d.conf, d.dir, NULL, feeds, 1, "refresh = 1d");
	say("re-poll: ingesting 100k events over HTTP");
	strf(d.log, sizeof d.log, "%s/djcald.log", d.dir);
	run_ok(once, NULL, d.log, &r);

	daemon_start(&d);
	conn_open(&c, d.sock);
	/* The first refresh joins the fetch the daemon starts with. */
	conn_call(&c, "{\"op\":\"refresh\",\"feed\":\"f\"}\n", NULL);
	rss_idle = proc_status_kib(d.pid, "VmRSS");

	say("re-poll: %d conditional requests answered 304", n);
	atomic_store(&H.mode, HTTP_ETAG);
	repoll_cpu(&d, &c, n, t304);
	say("re-poll: %d requests answered 200 with the same bytes", n);
	atomic_store(&H.mode, HTTP_PLAIN);
	repoll_cpu(&d, &c, n, tsame);
	rss_after = proc_status_kib(d.pid, "VmRSS");
	conn_close(&c);
	daemon_stop(&d);
	close(H.fd);

	rw = row_add("re-poll unchanged 100k, 304: CPU");
	fmt_secs(rw->value, sizeof rw->value, median(t304, (size_t)n));
	row_target(rw, "< 5 ms", median(t304, (size_t)n), 0.005);
	rw = row_add("re-poll unchanged 100k, same hash: CPU");
	fmt_secs(rw->value, sizeof rw->value, median(tsame, (size_t)n));
	row_target(rw, "< 5 ms", median(tsame, (size_t)n), 0.005);
	rw = row_add("daemon RSS, 100k events stored");
	fmt_mib(rw->value, sizeof rw->value, (double)rss_idle);
	row_target(rw, "< 50 MiB", (double)rss_idle / 1024, 49.999);
	rw = row_add("  same, after the same-hash re-polls");
	fmt_mib(rw->value, sizeof rw->value, (double)rss_after);
	row_target(rw, "< 50 MiB", (double)rss_after / 1024, 49.999);
	note("re-poll: CPU of djcald (all threads) around one `refresh` "
	    "request, median of %d", n);
	free(body);
}

/* Section: upcoming over 1,000,000 occurrences */

static long long
db_count(const char *db, const char *sql)
{
	sqlite3 *s;
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		die("%s: %s", db, sqlite3_errmsg(s));
	if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(s);
	return n;
}

static void
rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static size_t
count_str(const char *s, const char *needle)
{
	size_t n = 0, k = strlen(needle);

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += k;
	}
	return n;
}

/* Latency of `upcoming` over one connection: p50 and p99, seconds. */
static void
upcoming_latency(struct conn *c, int days, int limit, int iters,
    double *p50, double *p99, size_t *nocc, int *n)
{
	char req[256], from[32], to[32], *line;
	double *t;
	time_t now = time(NULL);
	int64_t t0, start;
	int i;

	rfc3339(now, from, sizeof from);
	rfc3339(now + (time_t)days * 86400, to, sizeof to);
	if (limit > 0)
		strf(req, sizeof req, "{\"op\":\"upcoming\",\"from\":\"%s\","
		    "\"to\":\"%s\",\"limit\":%d}\n", from, to, limit);
	else
		strf(req, sizeof req, "{\"op\":\"upcoming\",\"from\":\"%s\","
		    "\"to\":\"%s\"}\n", from, to);
	/* Two to warm the caches, not counted. */
	for (i = 0; i < 2; i++)
		line = conn_call(c, req, NULL);
	*nocc = count_str(line, "\"uid\":");
	/* iters requests, or fewer when they take more than BUDGET_S. */
	t = calloc((size_t)iters, sizeof *t);
	start = bench_now_ns();
	for (i = 0; i < iters; i++) {
		t0 = bench_now_ns();
		conn_call(c, req, NULL);
		t[i] = (double)(bench_now_ns() - t0) / 1e9;
		if (i >= 10 && bench_now_ns() - start > BUDGET_S * 1000000000LL)
			break;
	}
	*n = i < iters ? i + 1 : iters;
	*p50 = median(t, (size_t)*n);
	*p99 = percentile(t, (size_t)*n, 99);
	free(t);
}

/* `djcal upcoming` from fork to exit: p50 and p99 over iters. */
static void
cli_latency(struct daemon *d, const char *days, const char *limit,
    int iters, double *p50, double *p99)
{
	char *argv[12];
	double *t;
	struct proc_result r;
	int i, k = 0;

	argv[k++] = B.djcal;
	argv[k++] = "--socket";
	argv[k++] = d->sock;
	argv[k++] = "upcoming";
	argv[k++] = "--days";
	argv[k++] = (char *)days;
	if (limit != NULL) {
		argv[k++] = "--limit";
		argv[k++] = (char *)limit;
	}
	argv[k] = NULL;
	t = calloc((size_t)iters, sizeof *t);
	run_ok(argv, NULL, NULL, &r);
	for (i = 0; i < iters; i++) {
		run_ok(argv, NULL, NULL, &r);
		t[i] = r.wall;
	}
	*p50 = median(t, (size_t)iters);
	*p99 = percentile(t, (size_t)iters, 99);
	free(t);
}

static void
upcoming(int runs)
{
	struct daemon d;
	struct conn c;
	struct proc_result r;
	struct row *rw;
	char f1[PATH_MAX], f2[PATH_MAX], l1[PATH_MAX + 8], l2[PATH_MAX + 8];
	char db[PATH_MAX + 16], buf[48], what[80];
	const char *feeds[2];
	char *once[] = { B.djcald, "--once", "-c", d.conf, NULL };
	long long occ1, occ, n2;
	double p50, p99;
	size_t nocc;
	int niter;
	/* The short lists first: the long ones leave a large heap behind. */
	static const struct {
		int	 days, limit, iters;
	} q[] = {
		{ 7, UPCOMING_LIMIT, 2000 },
		{ 90, UPCOMING_LIMIT, 2000 },
		{ 7, 0, 200 },
		{ 90, 0, 20 }
	};
	size_t i;

	(void)runs;
	memset(&d, 0, sizeof d);
	make_dir(d.dir, sizeof d.dir, "upcoming");
	strf(d.conf, sizeof d.conf, "%s/djcald.conf", d.dir);
	strf(d.log, sizeof d.log, "%s/djcald.log", d.dir);
	strf(db, sizeof db, "%s/djcald.db", d.dir);
	feed_path(100000, 1, f1, sizeof f1);
	strf(l1, sizeof l1, "a=%s", f1);
	feeds[0] = l1;
	write_config(d.conf, d.dir, NULL, feeds, 1, "refresh = 1d");
	say("upcoming: ingesting the first feed");
	run_ok(once, NULL, d.log, &r);
	occ1 = db_count(db, "SELECT count(*) FROM occurrence");
	if (occ1 <= 0)
		die("upcoming: no occurrences stored");
	/* A second feed (another seed) for the rest of the million. */
	n2 = (TARGET_OCC - occ1) * 100000 / occ1 + 1;
	if (n2 > 0) {
		n2 = (n2 + 999) / 1000 * 1000;
		feed_path((int)n2, 2, f2, sizeof f2);
		strf(l2, sizeof l2, "b=%s", f2);
		feeds[1] = l2;
		write_config(d.conf, d.dir, NULL, feeds, 2, "refresh = 1d");
		say("upcoming: ingesting a second feed of %lld events", n2);
		run_ok(once, NULL, d.log, &r);
	}
	occ = db_count(db, "SELECT count(*) FROM occurrence");

	daemon_start(&d);
	conn_open(&c, d.sock);
	conn_call(&c, "{\"op\":\"refresh\"}\n", NULL);
	for (i = 0; i < sizeof q / sizeof q[0]; i++) {
		say("upcoming: %d days, limit %d, %d requests", q[i].days,
		    q[i].limit, q[i].iters);
		upcoming_latency(&c, q[i].days, q[i].limit, q[i].iters, &p50,
		    &p99, &nocc, &niter);
		if (q[i].limit > 0)
			strf(what, sizeof what, "upcoming %dd, limit %d, "
			    "n=%d: p50 / p99", q[i].days, q[i].limit, niter);
		else
			strf(what, sizeof what, "upcoming %dd, all %zu, n=%d: "
			    "p50 / p99", q[i].days, nocc, niter);
		rw = row_add(what);
		fmt_secs(buf, sizeof buf, p50);
		fmt_secs(what, sizeof what, p99);
		strf(rw->value, sizeof rw->value, "%s / %s", buf, what);
		if (q[i].days == 7)
			row_target(rw, "p99 < 1 ms", p99, 0.001);
	}
	/* The 100 MB of the last reply are freed before djcal runs. */
	conn_close(&c);
	say("upcoming: djcal upcoming, end to end");
	{
		static const struct {
			const char	*days, *limit;
		} e[] = { { "7", NULL }, { "7", "50" } };

		for (i = 0; i < sizeof e / sizeof e[0]; i++) {
			cli_latency(&d, e[i].days, e[i].limit, 20, &p50, &p99);
			strf(what, sizeof what, "djcal upcoming%s%s: "
			    "p50 / p99", e[i].limit != NULL ? " --limit " : "",
			    e[i].limit != NULL ? e[i].limit : "");
			rw = row_add(what);
			fmt_secs(buf, sizeof buf, p50);
			fmt_secs(what, sizeof what, p99);
			strf(rw->value, sizeof rw->value, "%s / %s", buf,
			    what);
			row_target(rw, "< 10 ms", p50, 0.010);
		}
	}
	daemon_stop(&d);
	note("upcoming: %lld occurrences stored (%lld of them from the "
	    "second feed of %lld events)", occ, occ - occ1, n2);
}

/* Section: reminder fan-out, then idle RSS and system calls */

struct sub {
	int	 fd;
	int	 got;
	char	 buf[2048];
	size_t	 len;
};

static void
raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		rl.rlim_max = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			rl.rlim_max = want;
		else
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < want)
		die("cannot raise RLIMIT_NOFILE to %llu (hard limit %llu)",
		    (unsigned long long)want, (unsigned long long)rl.rlim_max);
}

static double
realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
ics_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm);
}

/* Subscribers each read until their line naming uid has come: the time
 * (CLOCK_REALTIME) the last one got it, or NAN at the deadline. */
static double
fanout_wait(struct sub *subs, int n, const char *uid, double deadline,
    double *first)
{
	struct epoll_event ev[256];
	int ep, i, k, got = 0;
	double last = NAN, now;
	ssize_t r;

	*first = NAN;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		struct epoll_event e = { .events = EPOLLIN,
		    .data.u32 = (uint32_t)i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &e) == -1)
			die("epoll_ctl: %s", strerror(errno));
	}
	while (got < n && (now = realtime()) < deadline) {
		k = epoll_wait(ep, ev, 256, (int)((deadline - now) * 1000) + 1);
		for (i = 0; i < k; i++) {
			struct sub *s = &subs[ev[i].data.u32];
			char *nl;

			r = read(s->fd, s->buf + s->len,
			    sizeof s->buf - 1 - s->len);
			if (r <= 0)
				die("a subscriber was disconnected");
			now = realtime();
			s->len += (size_t)r;
			s->buf[s->len] = '\0';
			while ((nl = strchr(s->buf, '\n')) != NULL) {
				*nl = '\0';
				if (!s->got && strstr(s->buf, uid) != NULL &&
				    strstr(s->buf, "\"reminder\"") != NULL) {
					s->got = 1;
					got++;
					if (isnan(*first))
						*first = now;
					last = now;
				}
				s->len -= (size_t)(nl + 1 - s->buf);
				memmove(s->buf, nl + 1, s->len + 1);
			}
			if (s->len == sizeof s->buf - 1)
				s->len = 0;	/* a long line: not ours */
		}
	}
	close(ep);
	return got == n ? last : NAN;
}

/* Count system calls of pid over secs with strace -c; -1 if unavailable
 * (no strace, or it could not attach). */
static long
idle_syscalls(pid_t pid, int secs, const char *out)
{
	char ps[24], errpath[PATH_MAX + 8];
	char *argv[] = { "/usr/bin/strace", "-c", "-f", "-q", "-p", ps,
	    "-o", (char *)out, NULL };
	char line[256];
	long calls = -1;
	pid_t st;
	FILE *f;
	int status;

	if (access(argv[0], X_OK) == -1)
		return -1;
	strf(ps, sizeof ps, "%ld", (long)pid);
	strf(errpath, sizeof errpath, "%s.err", out);
	unlink(out);
	unlink(errpath);
	st = spawn(argv, NULL, errpath);
	/* Nothing else to wait for: the window is the measurement. */
	sleep((unsigned)secs);
	kill(st, SIGINT);
	waitpid(st, &status, 0);
	/* A failed attach (no ptrace here) is reported on stderr. */
	if (file_size(errpath) > 0 || (f = fopen(out, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		char *tok[8];
		int nt = 0;
		char *p, *save = NULL;

		for (p = strtok_r(line, " \t\n", &save); p != NULL && nt < 8;
		    p = strtok_r(NULL, " \t\n", &save))
			tok[nt++] = p;
		if (nt >= 4 && strcmp(tok[nt - 1], "total") == 0)
			calls = strtol(tok[3], NULL, 10);
	}
	fclose(f);
	/* strace -c prints no table at all when there was no call. */
	return calls == -1 ? 0 : calls;
}

#define SUBSCRIBE	"{\"op\":\"subscribe\",\"feed\":\"fan\"}\n"

static void
fanout(int nsubs, int idle)
{
	struct daemon d;
	struct conn adm;
	struct sub *subs;
	struct row *rw;
	char feed[PATH_MAX + 16], feedline[PATH_MAX + 24], uid[64];
	char ics[2048], ds[32], de[32], what[64], buf[48], trace[PATH_MAX + 16];
	const char *feeds[1];
	double last, first;
	time_t due;
	long rss, calls;
	int i;

	/* Each side (the bench, djcald) holds one descriptor per subscriber. */
	raise_nofile((rlim_t)nsubs + 256);
	memset(&d, 0, sizeof d);
	strf(what, sizeof what, "fanout-%d", nsubs);
	make_dir(d.dir, sizeof d.dir, what);
	strf(d.conf, sizeof d.conf, "%s/djcald.conf", d.dir);
	strf(feed, sizeof feed, "%s/feed.ics", d.dir);
	strf(feedline, sizeof feedline, "fan=%s", feed);
	feeds[0] = feedline;
	write_file(feed, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//djcal//bench//EN\r\nEND:VCALENDAR\r\n");
	strf(buf, sizeof buf, "max_clients = %d\nreminders = 1h",
	    nsubs + 64);
	write_config(d.conf, d.dir, buf, feeds, 1, "refresh = 1d");
	daemon_start(&d);
	conn_open(&adm, d.sock);
	conn_call(&adm, "{\"op\":\"refresh\"}\n", NULL);

	say("fan-out: connecting %d subscribers", nsubs);
	subs = calloc((size_t)nsubs, sizeof *subs);
	for (i = 0; i < nsubs; i++) {
		if ((subs[i].fd = unix_connect(d.sock)) == -1)
			die("subscriber %d: %s", i, strerror(errno));
		write_all(subs[i].fd, SUBSCRIBE, strlen(SUBSCRIBE));
	}
	/* Their "ok" replies first. */
	for (i = 0; i < nsubs; i++) {
		struct conn tmp;
		char *line;

		memset(&tmp, 0, sizeof tmp);
		tmp.fd = subs[i].fd;
		line = conn_line(&tmp, NULL);
		if (strstr(line, "\"ok\":true") == NULL)
			die("subscribe: %.200s", line);
		if (tmp.len > tmp.off)
			die("subscribe: unexpected message");
		free(tmp.buf);
	}

	/* An event whose one-hour reminder is due in three seconds. */
	due = time(NULL) + 3;
	strf(uid, sizeof uid, "bench-fanout-%d-%lld@djcal", nsubs,
	    (long long)due);
	ics_time(due + 3600, ds, sizeof ds);
	ics_time(due + 7200, de, sizeof de);
	strf(ics, sizeof ics, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//djcal//bench//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
	    "DTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\n"
	    "SUMMARY:支部党员大会\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", uid, ds,
	    ds, de);
	write_file(feed, ics);
	conn_call(&adm, "{\"op\":\"refresh\"}\n", NULL);
	if (time(NULL) >= due)
		say("fan-out: the refresh took until after the due time");
	say("fan-out: waiting for the reminder due at %lld", (long long)due);
	last = fanout_wait(subs, nsubs, uid, (double)due + 30, &first);
	strf(what, sizeof what, "fan-out to %d: due to last delivery",
	    nsubs);
	rw = row_add(what);
	fmt_secs(rw->value, sizeof rw->value, last - (double)due);
	fmt_secs(buf, sizeof buf, first - (double)due);
	strf(rw->floor, sizeof rw->floor, "first %s", buf);
	if (nsubs >= 10000)
		row_target(rw, "< 100 ms", last - (double)due, 0.1);

	if (idle) {
		rss = proc_status_kib(d.pid, "VmRSS");
		strf(what, sizeof what, "daemon RSS, %d idle subscribers",
		    nsubs);
		rw = row_add(what);
		fmt_mib(rw->value, sizeof rw->value, (double)rss);
		say("idle: counting djcald's system calls for 10 s");
		strf(trace, sizeof trace, "%s/strace.txt", d.dir);
		calls = idle_syscalls(d.pid, 10, trace);
		rw = row_add("idle system calls in 10 s");
		if (calls < 0)
			strf(rw->value, sizeof rw->value, "n/a (no strace)");
		else
			strf(rw->value, sizeof rw->value, "%ld", calls);
		row_target(rw, "0", calls < 0 ? NAN : (double)calls, 0);
	}
	for (i = 0; i < nsubs; i++)
		close(subs[i].fd);
	free(subs);
	conn_close(&adm);
	daemon_stop(&d);
}

/* Set-up */

static void
cpu_model(char *buf, size_t len)
{
	char line[256], *p;
	FILE *f;

	strf(buf, len, "unknown CPU");
	if ((f = fopen("/proc/cpuinfo", "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "model name", 10) == 0 &&
		    (p = strchr(line, ':')) != NULL) {
			p += 1 + strspn(p + 1, " \t");
			p[strcspn(p, "\n")] = '\0';
			strf(buf, len, "%s", p);
			break;
		}
	fclose(f);
}

static double
loadavg(void)
{
	double l = NAN;
	FILE *f;

	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = NAN;
		fclose(f);
	}
	return l;
}

static void
rm_tree(const char *dir)
{
	char *argv[] = { "/bin/rm", "-rf", (char *)dir, NULL };
	struct proc_result r;

	r = run(argv, NULL, NULL);
	(void)r;
}

static void
setup(void)
{
	char top[PATH_MAX];

	if (getcwd(top, sizeof top) == NULL)
		die("getcwd: %s", strerror(errno));
	if (B.other != NULL && realpath(B.other, B.djcald) == NULL)
		die("%s: %s", B.other, strerror(errno));
	if (B.other == NULL)
		strf(B.djcald, sizeof B.djcald, "%s/%s/djcald", top, B.build);
	strf(B.djcal, sizeof B.djcal, "%s/%s/djcal", top, B.build);
	strf(B.floor_parse, sizeof B.floor_parse, "%s/%s/bench/floor_parse",
	    top, B.build);
	strf(B.floor_simple, sizeof B.floor_simple,
	    "%s/%s/bench/floor_simple", top, B.build);
	if (access(B.djcald, X_OK) == -1 || access(B.djcal, X_OK) == -1 ||
	    access(B.floor_parse, X_OK) == -1 ||
	    access(B.floor_simple, X_OK) == -1)
		die("build first: %s, %s and %s/bench/ are needed", B.djcald,
		    B.djcal, B.build);
	/* The shared generator when this tree sits next to it. */
	strf(B.gen, sizeof B.gen, "%s/../shared/bench/gen_feed.py", top);
	if (access(B.gen, R_OK) == -1)
		strf(B.gen, sizeof B.gen, "%s/bench/gen_feed.py", top);
	strf(B.work, sizeof B.work, "%s/%s/bench/work", top, B.build);
	if (mkdir(B.work, 0755) == -1 && errno != EEXIST)
		die("%s: %s", B.work, strerror(errno));
	strf(B.run, sizeof B.run, "%s/run.XXXXXX", B.work);
	if (mkdtemp(B.run) == NULL)
		die("%s: %s", B.run, strerror(errno));
}

int
main(int argc, char **argv)
{
	char cpu[128], day[64];
	double load0, load1;
	time_t now;
	int ch, big;
	size_t i;

	B.build = "build";
	B.runs = 5;
	while ((ch = getopt(argc, argv, "b:D:r:s:k")) != -1) {
		switch (ch) {
		case 'b':
			B.build = optarg;
			break;
		case 'D':
			B.other = optarg;
			break;
		case 'r':
			B.runs = atoi(optarg);
			if (B.runs < 1 || B.runs > 15)
				die("-r: 1 to 15");
			break;
		case 's':
			B.sections = optarg;
			break;
		case 'k':
			B.keep = 1;
			break;
		default:
			fprintf(stderr, "usage: bench [-b BUILD] [-D DJCALD] "
			    "[-r RUNS] [-s SECTIONS] [-k]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	/* The daemons are started by hand, never as systemd's. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	setup();
	load0 = loadavg();
	now = time(NULL);
	big = B.runs > 3 ? B.runs - 2 : B.runs;
	if (big < 3 && B.runs >= 3)
		big = 3;

	if (section("ingest")) {
		ingest(10000, B.runs);
		ingest(100000, big);
	}
	if (section("repoll"))
		repoll(B.runs);
	if (section("upcoming"))
		upcoming(B.runs);
	if (section("fanout")) {
		fanout(1000, 0);
		fanout(10000, 1);
	}
	load1 = loadavg();

	cpu_model(cpu, sizeof cpu);
	strftime(day, sizeof day, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("djcal bench, %s; %s, %ld CPUs; load %.2f at start, %.2f at "
	    "end\n", day, cpu, sysconf(_SC_NPROCESSORS_ONLN), load0, load1);
	printf("medians of %d runs (%d for 100k ingest); floors measured in "
	    "this run; workload: %s\n\n", B.runs, big, B.gen);
	print_table();
	if (B.nnotes > 0)
		putchar('\n');
	for (i = 0; i < B.nnotes; i++)
		printf("%s\n", B.notes[i]);
	if (load0 > 1.5 || load1 > 1.5)
		printf("note: load above 1.5, figures taken under load; "
		    "compare the ratios\n");
	if (B.keep)
		say("kept %s", B.run);
	else
		rm_tree(B.run);
	return 0;
}
