/* Helpers shared by the Check suites. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "djcal/xmalloc.h"
#include "testutil.h"

char *
tu_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	xasprintf(&path, "%s/djcal-test.XXXXXX", tmp);
	if (mkdtemp(path) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return path;
}

static int
tu_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
tu_rmtree(const char *path)
{
	if (path != NULL)
		nftw(path, tu_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tu_write(const char *dir, const char *name, const void *data, size_t len)
{
	char *path;
	FILE *f;

	xasprintf(&path, "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		abort();
	}
	if (len > 0 && fwrite(data, 1, len, f) != len) {
		perror(path);
		abort();
	}
	fclose(f);
	return path;
}

char *
tu_write_str(const char *dir, const char *name, const char *s)
{
	return tu_write(dir, name, s, strlen(s));
}

char *
tu_read(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0) {
		fclose(f);
		return NULL;
	}
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

const char *
tu_build_dir(void)
{
	const char *b = getenv("DJCAL_BUILD");

	return b != NULL && *b != '\0' ? b : "build";
}

const char *
tu_shared_dir(void)
{
	const char *s = getenv("DJCAL_SHARED");
	struct stat st;

	if (s != NULL && *s != '\0')
		return s;
	if (stat("../shared/corpus", &st) == 0)
		return "../shared";
	return NULL;
}
