/* Helpers shared by the programs of `make bench`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

char *
bench_slurp(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	long sz;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == -1 || (sz = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1) {
		fprintf(stderr, "%s: cannot seek\n", path);
		fclose(f);
		return NULL;
	}
	if ((buf = malloc((size_t)sz + 1)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[sz] = '\0';
	*len = (size_t)sz;
	return buf;
}

int64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
