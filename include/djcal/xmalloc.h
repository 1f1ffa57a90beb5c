/* Allocation wrappers that exit on out-of-memory: callers never check NULL. */
#ifndef DJCAL_XMALLOC_H
#define DJCAL_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
/* Grow an array of nmemb elements of size bytes; overflow is fatal. */
void	*xreallocarray(void *, size_t nmemb, size_t size);
char	*xstrdup(const char *);
/* Copy at most n bytes of s and terminate the copy. */
char	*xstrndup(const char *s, size_t n);
/* xstrdup that passes NULL through. */
char	*xstrdup0(const char *);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
