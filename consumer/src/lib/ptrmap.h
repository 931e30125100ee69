/*
 * ptrmap.h: a hash table keyed by pointer identity, whose entries are the
 * caller's own fixed-size structs (the schema stage's and the lineage
 * stage's per-relation state, keyed by the trib_relation a source hands
 * out once per table version).
 *
 * Design.  Open addressing with linear probing over a power-of-two array
 * of entries, grown to twice its size before it would become more than
 * half full, so probes stay short.  An entry is esize bytes whose first
 * member is the key, a pointer (`const T *key;` first in the caller's
 * struct); a NULL key marks a free slot, so NULL is not a key.  The key
 * is mixed (xor-shift, then a multiply by 2^64/phi) because allocations
 * share their low bits.  Entries cannot be removed one by one, only all
 * at once (trib_ptrmap_clear): the callers forget a relation only when
 * they start afresh.
 *
 * Ownership: the map owns its array; what an entry points to is the
 * caller's (free it while walking the slots before trib_ptrmap_free).
 * An entry pointer is valid until the next trib_ptrmap_put, which may
 * move every entry.  Not thread-safe.
 */
#ifndef TRIB_PTRMAP_H
#define TRIB_PTRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct trib_ptrmap
{
	unsigned char *slots;
	size_t		esize;			/* bytes per entry, key first */
	size_t		nslots;			/* a power of two */
	size_t		used;
} trib_ptrmap;

/* An empty map of entries of esize bytes (at least a pointer), with room
 * for nslots (rounded up to a power of two, at least 8) before it grows. */
void		trib_ptrmap_init(trib_ptrmap *m, size_t esize, size_t nslots);

/* The entry of key, or NULL when there is none. */
void	   *trib_ptrmap_get(const trib_ptrmap *m, const void *key);

/* The entry of key (not NULL); when there was none, a new one, zeroed
 * but for its key, and *added (when not NULL) is set true. */
void	   *trib_ptrmap_put(trib_ptrmap *m, const void *key, bool *added);

/* The entry in slot i (0 <= i < m->nslots), or NULL when it is free: to
 * walk every entry. */
void	   *trib_ptrmap_slot(const trib_ptrmap *m, size_t i);

/* Forget every entry (the array keeps its size). */
void		trib_ptrmap_clear(trib_ptrmap *m);

/* Release the array; the map is empty and must be initialised again
 * before another put. */
void		trib_ptrmap_free(trib_ptrmap *m);

#endif							/* TRIB_PTRMAP_H */
