/*
 * ptrmap.c: a hash table keyed by pointer identity; see ptrmap.h for the
 * design (open addressing, linear probing, grown at half full).
 *
 * Keys are read and written with memcpy, since the caller's entry
 * declares its key as a pointer to its own type, not as void *.
 */
#include "ptrmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define PTRMAP_MIN_SLOTS 8

/* The key stored in an entry. */
static const void *
key_of(const unsigned char *entry)
{
	const void *k;

	memcpy(&k, entry, sizeof(k));
	return k;
}

/* The home slot of key. */
static size_t
home_of(const trib_ptrmap *m, const void *key)
{
	uint64_t	h = (uint64_t) (uintptr_t) key;

	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ULL;
	return (size_t) (h >> 7) & (m->nslots - 1);
}

/* The slot of key: its entry, or the free slot where it goes. */
static unsigned char *
find_slot(const trib_ptrmap *m, const void *key)
{
	for (size_t i = home_of(m, key);; i = (i + 1) & (m->nslots - 1))
	{
		unsigned char *e = m->slots + i * m->esize;
		const void *k = key_of(e);

		if (k == key || k == NULL)
			return e;
	}
}

/* See ptrmap.h. */
void
trib_ptrmap_init(trib_ptrmap *m, size_t esize, size_t nslots)
{
	size_t		n = PTRMAP_MIN_SLOTS;

	while (n < nslots)
		n *= 2;
	m->esize = esize < sizeof(void *) ? sizeof(void *) : esize;
	m->nslots = n;
	m->used = 0;
	m->slots = trib_xcalloc(n, m->esize);
}

/* Double the array, moving every entry to its new slot. */
static void
grow(trib_ptrmap *m)
{
	unsigned char *old = m->slots;
	size_t		n = m->nslots;

	m->nslots *= 2;
	m->slots = trib_xcalloc(m->nslots, m->esize);
	for (size_t i = 0; i < n; i++)
	{
		const unsigned char *e = old + i * m->esize;

		if (key_of(e) != NULL)
			memcpy(find_slot(m, key_of(e)), e, m->esize);
	}
	free(old);
}

/* See ptrmap.h. */
void *
trib_ptrmap_get(const trib_ptrmap *m, const void *key)
{
	unsigned char *e = find_slot(m, key);

	return key_of(e) == NULL ? NULL : e;
}

/* See ptrmap.h. */
void *
trib_ptrmap_put(trib_ptrmap *m, const void *key, bool *added)
{
	unsigned char *e = find_slot(m, key);

	if (added != NULL)
		*added = key_of(e) == NULL;
	if (key_of(e) != NULL)
		return e;
	if ((m->used + 1) * 2 > m->nslots)
	{
		grow(m);
		e = find_slot(m, key);
	}
	memset(e, 0, m->esize);
	memcpy(e, &key, sizeof(key));
	m->used++;
	return e;
}

/* See ptrmap.h. */
void *
trib_ptrmap_slot(const trib_ptrmap *m, size_t i)
{
	unsigned char *e = m->slots + i * m->esize;

	return key_of(e) == NULL ? NULL : e;
}

/* See ptrmap.h. */
void
trib_ptrmap_clear(trib_ptrmap *m)
{
	memset(m->slots, 0, m->nslots * m->esize);
	m->used = 0;
}

/* See ptrmap.h. */
void
trib_ptrmap_free(trib_ptrmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->nslots = 0;
	m->used = 0;
}
