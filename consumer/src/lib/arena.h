/*
 * arena.h: a scratch arena for short-lived allocations of a hot loop.
 *
 * Design.  Parsing one plugin record used to make some thirty malloc/free
 * pairs (yajl's handle and buffers, decoded field strings, member names),
 * all dead once the record is built.  An arena hands out memory by bumping
 * a pointer in large blocks and takes it all back at once with
 * trib_arena_reset(), which keeps the blocks for the next round: in the
 * steady state it calls malloc never.
 *
 * Pointers stay valid until the next reset (blocks never move).  Every
 * allocation is aligned for any type (max_align_t).  Under AddressSanitizer
 * the memory of a reset arena is poisoned, so a pointer kept past its
 * reset is reported as a use after free.
 *
 * trib_arena_yajl_funcs() adapts an arena to yajl's allocator interface
 * (yajl_alloc_funcs): yajl's frees become no-ops and its reallocs copy,
 * which is what a parse that lives for one record wants.
 *
 * Ownership: the arena owns its blocks; trib_arena_free() releases them.
 * Out-of-memory aborts, like trib_xmalloc.  Not thread-safe.
 */
#ifndef TRIB_ARENA_H
#define TRIB_ARENA_H

#include <stddef.h>

typedef struct trib_arena_block trib_arena_block;

typedef struct trib_arena
{
	trib_arena_block *head;		/* the block being filled */
	trib_arena_block *first;	/* the oldest block; the list starts here */
	size_t		block_size;		/* size of a new regular block */
} trib_arena;

/* An empty arena whose blocks hold block_size bytes (0: 16 KiB). */
void		trib_arena_init(trib_arena *a, size_t block_size);

/* n bytes, aligned for any type; never NULL. */
void	   *trib_arena_alloc(trib_arena *a, size_t n);

/* A NUL-terminated copy of n bytes of s. */
char	   *trib_arena_strndup(trib_arena *a, const char *s, size_t n);

/* Take back everything allocated; the blocks are kept for reuse. */
void		trib_arena_reset(trib_arena *a);

/* Release every block. */
void		trib_arena_free(trib_arena *a);

/* yajl allocator functions that allocate from `a` (a yajl_alloc_funcs;
 * declared as void * so that this header does not need yajl's). */
void		trib_arena_yajl_funcs(trib_arena *a, void *funcs);

#endif							/* TRIB_ARENA_H */
