/*
 * lru.c: a bounded cache by string key with a keyed hash (see lru.h).
 *
 * The table has cap + 1 buckets, fixed at creation, so a full cache has
 * chains of about one entry on average; the LRU list gives the eviction
 * order.  Should OpenSSL fail to compute a MAC (it does not, short of
 * running out of memory), the key's hash is 0: the entry still goes in,
 * into bucket 0, and every operation stays correct, only slower.
 *
 * A miss is nearly always followed by a put of the same key (the lookup
 * rule queries, then caches the answer), so trib_lru_get keeps its
 * missed key, copied, with its hash: a put of that key takes both, and the
 * MAC is computed once per miss, not twice.  Any other put computes it.
 */
#include "lru.h"

#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hmac.h"
#include "xalloc.h"

#define LRU_KEY_BYTES 32

typedef struct lru_entry
{
	char	   *key;
	void	   *value;
	uint64_t	hash;
	struct lru_entry *prev;		/* LRU list, newest first */
	struct lru_entry *next;
	struct lru_entry *chain;	/* hash bucket */
} lru_entry;

struct trib_lru
{
	trib_hmac  *mac;			/* the random key of this cache */
	lru_entry **buckets;
	size_t		nbuckets;
	size_t		cap;
	size_t		n;
	lru_entry  *newest;
	lru_entry  *oldest;
	void		(*free_value) (void *);
	char	   *miss_key;		/* the last missed key (owned), or NULL */
	uint64_t	miss_hash;		/* its hash */
	size_t		hashes;			/* MACs computed */
};

trib_lru *
trib_lru_new(size_t cap, void (*free_value) (void *))
{
	unsigned char k[LRU_KEY_BYTES];
	trib_lru   *c;
	trib_hmac  *mac;

	if (RAND_bytes(k, sizeof(k)) != 1)
		return NULL;
	mac = trib_hmac_new(k, sizeof(k));
	OPENSSL_cleanse(k, sizeof(k));
	if (mac == NULL)
		return NULL;
	c = trib_xcalloc(1, sizeof(*c));
	c->mac = mac;
	c->cap = cap ? cap : 1;
	c->nbuckets = c->cap + 1;
	c->buckets = trib_xcalloc(c->nbuckets, sizeof(lru_entry *));
	c->free_value = free_value;
	return c;
}

/* The keyed hash of key: the MAC's first 8 bytes. */
static uint64_t
key_hash(trib_lru *c, const char *key)
{
	unsigned char mac[TRIB_HMAC_LEN];
	trib_hmac_ctx *h = trib_hmac_start(c->mac);
	uint64_t	v = 0;

	c->hashes++;
	if (h == NULL || !trib_hmac_update(h, key, strlen(key)) || !trib_hmac_final(h, mac))
		return 0;
	memcpy(&v, mac, sizeof(v));
	return v;
}

static void
list_unlink(trib_lru *c, lru_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->newest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->oldest = e->prev;
	e->prev = e->next = NULL;
}

static void
list_push(trib_lru *c, lru_entry *e)
{
	e->next = c->newest;
	e->prev = NULL;
	if (c->newest)
		c->newest->prev = e;
	c->newest = e;
	if (c->oldest == NULL)
		c->oldest = e;
}

bool
trib_lru_get(trib_lru *c, const char *key, void **value)
{
	uint64_t	h = key_hash(c, key);

	for (lru_entry *e = c->buckets[h % c->nbuckets]; e; e = e->chain)
		if (e->hash == h && strcmp(e->key, key) == 0)
		{
			list_unlink(c, e);
			list_push(c, e);
			*value = e->value;
			return true;
		}
	free(c->miss_key);
	c->miss_key = trib_xstrdup(key);
	c->miss_hash = h;
	return false;
}

static void
entry_free(trib_lru *c, lru_entry *e)
{
	if (c->free_value && e->value)
		c->free_value(e->value);
	free(e->key);
	free(e);
}

static void
evict_oldest(trib_lru *c)
{
	lru_entry  *e = c->oldest;
	lru_entry **pp;

	list_unlink(c, e);
	for (pp = &c->buckets[e->hash % c->nbuckets]; *pp != e; pp = &(*pp)->chain)
		;
	*pp = e->chain;
	entry_free(c, e);
	c->n--;
}

void
trib_lru_put(trib_lru *c, const char *key, void *value)
{
	lru_entry  *e = trib_xcalloc(1, sizeof(*e));
	size_t		b;

	if (c->n >= c->cap && c->oldest)
		evict_oldest(c);
	e->value = value;
	if (c->miss_key && strcmp(c->miss_key, key) == 0)
	{
		e->key = c->miss_key;	/* takes it */
		e->hash = c->miss_hash;
		c->miss_key = NULL;
	}
	else
	{
		e->key = trib_xstrdup(key);
		e->hash = key_hash(c, key);
	}
	b = e->hash % c->nbuckets;
	e->chain = c->buckets[b];
	c->buckets[b] = e;
	list_push(c, e);
	c->n++;
}

size_t
trib_lru_count(const trib_lru *c)
{
	return c->n;
}

size_t
trib_lru_hash_count(const trib_lru *c)
{
	return c->hashes;
}

size_t
trib_lru_longest_chain(const trib_lru *c)
{
	size_t		longest = 0;

	for (size_t b = 0; b < c->nbuckets; b++)
	{
		size_t		n = 0;

		for (const lru_entry *e = c->buckets[b]; e; e = e->chain)
			n++;
		if (n > longest)
			longest = n;
	}
	return longest;
}

void
trib_lru_free(trib_lru *c)
{
	if (c == NULL)
		return;
	while (c->oldest)
		evict_oldest(c);
	free(c->buckets);
	free(c->miss_key);
	trib_hmac_free(c->mac);
	free(c);
}
