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
 *
 * Growable arrays.  An array kept as (pointer, count, capacity) gets room
 * for one more element from trib_xgrow(): when it is full it doubles
 * (from the caller's first capacity when empty), so n appends cost
 * O(log n) reallocations.  The element type stays the caller's:
 *
 *     l->v = trib_xgrow(l->v, l->n, &l->cap, sizeof(*l->v), 16);
 *     l->v[l->n++] = x;
 *
 * An array that grows by one now and then (a table, a range, a run) keeps
 * no capacity: trib_xadd_zeroed reallocates it to one more element, zeroed.
 */
#ifndef TRIB_XALLOC_H
#define TRIB_XALLOC_H

#include <stddef.h>

void	   *trib_xmalloc(size_t n);
void	   *trib_xcalloc(size_t count, size_t size);
void	   *trib_xrealloc(void *p, size_t n);

/* The full case of trib_xgrow: *cap becomes twice itself (`first` when
 * 0) and p is reallocated to it. */
void	   *trib_xgrow_full(void *p, size_t n, size_t *cap, size_t size, size_t first);

/* p, an array of n elements of `size` bytes with room for *cap, with
 * room for at least one more: when n == *cap, *cap becomes twice itself
 * (`first` when 0) and p is reallocated (it may move); else p as is.
 * Inline: the parser calls it for every member of every row image, and
 * the array is rarely full. */
static inline void *
trib_xgrow(void *p, size_t n, size_t *cap, size_t size, size_t first)
{
	return n < *cap ? p : trib_xgrow_full(p, n, cap, size, first);
}

/* p, an array of n elements of `size` bytes, reallocated to n + 1 with
 * the new last element zeroed; the caller counts it:
 *     p->v = trib_xadd_zeroed(p->v, p->n, sizeof(*p->v));
 *     e = &p->v[p->n++];
 * For arrays that grow by one now and then (no capacity kept). */
void	   *trib_xadd_zeroed(void *p, size_t n, size_t size);

/* A copy of s; NULL stays NULL. */
char	   *trib_xstrdup(const char *s);

/* A NUL-terminated copy of the first n bytes of s (s need not be
 * NUL-terminated). */
char	   *trib_xstrndup(const char *s, size_t n);

#endif							/* TRIB_XALLOC_H */
