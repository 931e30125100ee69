/*
 * xalloc.h: malloc, calloc, realloc and strdup that abort on
 * out-of-memory.
 *
 * Design.  A daemon that cannot allocate a few bytes cannot make progress,
 * and every caller would only pass the failure up to an exit; aborting
 * at the allocation keeps every call site free of failure paths.  The
 * message is written with write(2), which allocates nothing, before
 * abort().  Zero sizes are rounded up to one byte, so a successful call
 * never returns NULL.  The one exception to abort-on-failure is memory
 * whose size comes from outside (a file, the network): check the size
 * against a limit first, and give the caller an error.
 */
#ifndef TRIB_XALLOC_H
#define TRIB_XALLOC_H

#include <stddef.h>

void	   *trib_xmalloc(size_t n);
void	   *trib_xcalloc(size_t count, size_t size);
void	   *trib_xrealloc(void *p, size_t n);

/* A copy of s; NULL stays NULL. */
char	   *trib_xstrdup(const char *s);

/* A NUL-terminated copy of the first n bytes of s (s need not be
 * NUL-terminated). */
char	   *trib_xstrndup(const char *s, size_t n);

#endif							/* TRIB_XALLOC_H */
