/* Helpers shared by the Check suites: temp dirs, files, paths. */
#ifndef DJCAL_TESTUTIL_H
#define DJCAL_TESTUTIL_H

#include <stddef.h>

/* A fresh directory under $TMPDIR (or /tmp); caller frees the path and
 * removes the tree with tu_rmtree. */
char	*tu_mkdtemp(void);
/* Remove a directory tree; errors ignored. */
void	 tu_rmtree(const char *path);
/* Write len bytes to dir/name; returns the path (caller frees). */
char	*tu_write(const char *dir, const char *name, const void *data,
	    size_t len);
/* Write a NUL-terminated string to dir/name; returns the path. */
char	*tu_write_str(const char *dir, const char *name, const char *s);
/* Read a whole file; NULL on error.  *len gets the size when not NULL. */
char	*tu_read(const char *path, size_t *len);
/* The build directory ($DJCAL_BUILD, default "build"). Borrowed. */
const char *tu_build_dir(void);
/* The shared directory (../shared relative to the top, or $DJCAL_SHARED);
 * NULL when absent. Borrowed. */
const char *tu_shared_dir(void);

#endif
