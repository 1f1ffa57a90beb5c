/* Helpers shared by the programs of `make bench` (bench/util.c). */
#ifndef DJCAL_BENCH_H
#define DJCAL_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* A whole file, NUL-terminated, *len bytes; NULL (reported) on failure.
 * Caller frees. */
char		*bench_slurp(const char *path, size_t *len);
/* CLOCK_MONOTONIC in nanoseconds. */
int64_t		 bench_now_ns(void);

#endif
