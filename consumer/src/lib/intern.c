/*
 * intern.c: a set of interned strings (see intern.h).
 *
 * Each slot keeps the hash and length next to the pointer, so a probe
 * compares bytes only when both match.
 */
#include "intern.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "strbuf.h"

typedef struct slot
{
	char	   *s;				/* NULL: empty */
	size_t		n;
	uint64_t	hash;
	void	   *value;			/* trib_intern_value() */
} slot;

struct trib_intern
{
	slot	   *slots;
	size_t		cap;			/* a power of two */
	size_t		count;
};

/* An empty set. */
trib_intern *
trib_intern_new(void)
{
	trib_intern *set = trib_xcalloc(1, sizeof(*set));

	set->cap = 64;
	set->slots = trib_xcalloc(set->cap, sizeof(slot));
	return set;
}

/* Double the table, re-placing every string. */
static void
grow(trib_intern *set)
{
	size_t		ncap = set->cap * 2;
	slot	   *ns = trib_xcalloc(ncap, sizeof(slot));

	for (size_t i = 0; i < set->cap; i++)
	{
		size_t		j;

		if (set->slots[i].s == NULL)
			continue;
		for (j = set->slots[i].hash & (ncap - 1); ns[j].s; j = (j + 1) & (ncap - 1))
			;
		ns[j] = set->slots[i];
	}
	free(set->slots);
	set->slots = ns;
	set->cap = ncap;
}

/* The slot holding s[0..n) (hash h), or the empty slot where it goes. */
static slot *
probe(const trib_intern *set, const char *s, size_t n, uint64_t h)
{
	for (size_t i = h & (set->cap - 1);; i = (i + 1) & (set->cap - 1))
	{
		slot	   *e = &set->slots[i];

		if (e->s == NULL || (e->hash == h && e->n == n && memcmp(e->s, s, n) == 0))
			return e;
	}
}

/* The slot of s[0..n), adding a copy of s (NUL-ended) when it is new. */
static slot *
add(trib_intern *set, const char *s, size_t n)
{
	uint64_t	h = trib_fnv1a(s, n);
	slot	   *e;

	if ((set->count + 1) * 2 > set->cap)
		grow(set);
	e = probe(set, s, n, h);
	if (e->s == NULL)
	{
		e->s = trib_xmalloc(n + 1);
		memcpy(e->s, s, n);
		e->s[n] = '\0';
		e->n = n;
		e->hash = h;
		set->count++;
	}
	return e;
}

/* The set's copy of s[0..n). */
const char *
trib_intern_get(trib_intern *set, const char *s, size_t n)
{
	return add(set, s, n)->s;
}

/* Where the value of s[0..n) is kept. */
void	  **
trib_intern_value(trib_intern *set, const char *s, size_t n)
{
	return &add(set, s, n)->value;
}

/* fn on every value that is set. */
void
trib_intern_each_value(trib_intern *set, void (*fn) (void *value))
{
	for (size_t i = 0; set != NULL && i < set->cap; i++)
		if (set->slots[i].value != NULL)
			fn(set->slots[i].value);
}

/* The set's copy of s[0..n), or NULL when it has none. */
const char *
trib_intern_find(const trib_intern *set, const char *s, size_t n)
{
	return probe(set, s, n, trib_fnv1a(s, n))->s;
}

/* Number of distinct strings. */
size_t
trib_intern_count(const trib_intern *set)
{
	return set->count;
}

/* Free the set and its strings. */
void
trib_intern_free(trib_intern *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i].s);
	free(set->slots);
	free(set);
}
