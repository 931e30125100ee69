/*
 * arena.c: a scratch arena (see arena.h).
 *
 * Blocks form a list from `first`; `head` is the one being filled.  An
 * allocation that does not fit moves `head` to the next kept block with
 * room, or links a new block after it.  A request larger than a regular
 * block gets a block of its own, freed again at the next reset so that one
 * huge record does not pin its memory for the life of the process.
 */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_common.h>

#include "strbuf.h"

#if defined(__SANITIZE_ADDRESS__)
#define TRIB_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRIB_ARENA_ASAN 1
#endif
#endif

#ifdef TRIB_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void) (p), (void) (n))
#define UNPOISON(p, n) ((void) (p), (void) (n))
#endif

#define ALIGN alignof(max_align_t)
#define DEFAULT_BLOCK 16384

struct trib_arena_block
{
	trib_arena_block *next;
	size_t		size;			/* bytes in data */
	size_t		used;
	alignas(max_align_t) unsigned char data[];
};

/* An empty arena. */
void
trib_arena_init(trib_arena *a, size_t block_size)
{
	a->head = a->first = NULL;
	a->block_size = block_size ? block_size : DEFAULT_BLOCK;
}

/* A new block of `size` bytes, linked after a->head (or first). */
static trib_arena_block *
block_new(trib_arena *a, size_t size)
{
	trib_arena_block *b = trib_xmalloc(sizeof(*b) + size);

	b->size = size;
	b->used = 0;
	POISON(b->data, size);
	if (a->head == NULL)
	{
		b->next = a->first;
		a->first = b;
	}
	else
	{
		b->next = a->head->next;
		a->head->next = b;
	}
	return b;
}

/* n bytes, aligned for any type. */
void *
trib_arena_alloc(trib_arena *a, size_t n)
{
	trib_arena_block *b = a->head;
	void	   *p;

	n = (n + ALIGN - 1) & ~(ALIGN - 1);
	if (n == 0)
		n = ALIGN;
	while (b && b->size - b->used < n && b->next && b->next->size >= n)
	{
		b = b->next;
		b->used = 0;
	}
	if (b == NULL || b->size - b->used < n)
	{
		b = block_new(a, n > a->block_size ? n : a->block_size);
	}
	a->head = b;
	p = b->data + b->used;
	b->used += n;
	UNPOISON(p, n);
	return p;
}

/* A NUL-terminated copy. */
char *
trib_arena_strndup(trib_arena *a, const char *s, size_t n)
{
	char	   *d = trib_arena_alloc(a, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Everything back; regular blocks are kept, oversized ones freed. */
void
trib_arena_reset(trib_arena *a)
{
	trib_arena_block **pp = &a->first;

	while (*pp)
	{
		trib_arena_block *b = *pp;

		if (b->size > a->block_size)
		{
			*pp = b->next;
			free(b);
			continue;
		}
		b->used = 0;
		POISON(b->data, b->size);
		pp = &b->next;
	}
	a->head = a->first;
}

/* Release every block. */
void
trib_arena_free(trib_arena *a)
{
	trib_arena_block *b = a->first;

	while (b)
	{
		trib_arena_block *next = b->next;

		free(b);
		b = next;
	}
	a->head = a->first = NULL;
}

/* yajl allocations carry their size in front, for realloc. */
typedef struct yhdr
{
	alignas(max_align_t) size_t size;
} yhdr;

static void *
y_malloc(void *ctx, size_t n)
{
	yhdr	   *h = trib_arena_alloc(ctx, sizeof(yhdr) + n);

	h->size = n;
	return h + 1;
}

static void *
y_realloc(void *ctx, void *ptr, size_t n)
{
	yhdr	   *old = ptr ? (yhdr *) ptr - 1 : NULL;
	void	   *p;

	if (old && old->size >= n)
		return ptr;
	p = y_malloc(ctx, n);
	if (old)
		memcpy(p, ptr, old->size);
	return p;
}

static void
y_free(void *ctx, void *ptr)
{
	(void) ctx;
	(void) ptr;
}

/* Fill a yajl_alloc_funcs with the arena's functions. */
void
trib_arena_yajl_funcs(trib_arena *a, void *funcs)
{
	yajl_alloc_funcs *f = funcs;

	f->malloc = y_malloc;
	f->realloc = y_realloc;
	f->free = y_free;
	f->ctx = a;
}
