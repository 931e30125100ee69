/*
 * hmac.c: HMAC-SHA256 through OpenSSL's EVP_MAC (see hmac.h).
 *
 * A trib_hmac holds the keyed EVP_MAC_CTX, never used for a MAC itself,
 * and an id from a process-wide atomic counter, never reused (an address
 * can be reused once a key is freed and another allocated).  Each thread
 * keeps HMAC_CACHE_SLOTS working contexts, each a duplicate of one key's
 * context tagged with that key's id.  trib_hmac_start finds the key's slot
 * and resets it to the keyed state with EVP_MAC_init(ctx, NULL, 0, NULL);
 * on a miss it evicts a slot in turn (freeing its context) and duplicates
 * the key's context into it.  Duplicating a shared context only reads it,
 * which OpenSSL allows from several threads at once.
 *
 * What is left: a thread's slots are freed at its exit (a pthread key's
 * destructor); the main thread's stay until the process ends, at most
 * HMAC_CACHE_SLOTS contexts (~1 KB each).  A freed key's contexts in other
 * threads stay until evicted (EVP_MAC_CTX_free cleanses the key state).
 */
#include "hmac.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "xalloc.h"

#define HMAC_CACHE_SLOTS 8

struct trib_hmac
{
	EVP_MAC_CTX *keyed;			/* keyed state; only duplicated */
	uint64_t	id;				/* unique in the process, never 0 */
};

typedef struct
{
	uint64_t	id[HMAC_CACHE_SLOTS];	/* 0: empty */
	EVP_MAC_CTX *ctx[HMAC_CACHE_SLOTS];
	unsigned	next;			/* the slot a miss evicts */
	bool		registered;		/* the exit destructor is set */
} hmac_cache;

static _Atomic uint64_t next_id = 1;
static _Thread_local hmac_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* A new HMAC-SHA256 context keyed with key[0..keylen); NULL on failure. */
static EVP_MAC_CTX *
keyed_ctx(const void *key, size_t keylen)
{
	EVP_MAC    *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM	params[2];

	EVP_MAC_free(mac);			/* the context holds its own reference */
	if (ctx == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
												 (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, keylen, params))
	{
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

trib_hmac *
trib_hmac_new(const void *key, size_t keylen)
{
	EVP_MAC_CTX *ctx = keyed_ctx(key, keylen);
	trib_hmac  *h;

	if (ctx == NULL)
		return NULL;
	h = trib_xcalloc(1, sizeof(*h));
	h->keyed = ctx;
	h->id = atomic_fetch_add(&next_id, 1);
	return h;
}

static void
cache_clear(void *p)
{
	hmac_cache *c = p;

	for (int i = 0; i < HMAC_CACHE_SLOTS; i++)
	{
		EVP_MAC_CTX_free(c->ctx[i]);
		c->ctx[i] = NULL;
		c->id[i] = 0;
	}
}

static void
cache_key_create(void)
{
	if (pthread_key_create(&cache_key, cache_clear) != 0)
		abort();
}

/* Have cache_clear run when this thread exits. */
static void
cache_register(void)
{
	pthread_once(&cache_once, cache_key_create);
	if (pthread_setspecific(cache_key, &cache) != 0)
		abort();
	cache.registered = true;
}

trib_hmac_ctx *
trib_hmac_start(const trib_hmac *key)
{
	unsigned	i;

	for (i = 0; i < HMAC_CACHE_SLOTS; i++)
		if (cache.id[i] == key->id)
			return EVP_MAC_init(cache.ctx[i], NULL, 0, NULL) ? cache.ctx[i] : NULL;
	if (!cache.registered)
		cache_register();
	i = cache.next;
	cache.next = (i + 1) % HMAC_CACHE_SLOTS;
	EVP_MAC_CTX_free(cache.ctx[i]);
	cache.ctx[i] = EVP_MAC_CTX_dup(key->keyed);
	cache.id[i] = cache.ctx[i] ? key->id : 0;
	return cache.ctx[i];
}

bool
trib_hmac_update(trib_hmac_ctx *h, const void *data, size_t n)
{
	return n == 0 || EVP_MAC_update(h, data, n);
}

bool
trib_hmac_update_be32(trib_hmac_ctx *h, uint32_t v)
{
	unsigned char be[4] = {
		(unsigned char) (v >> 24), (unsigned char) (v >> 16),
		(unsigned char) (v >> 8), (unsigned char) v
	};

	return EVP_MAC_update(h, be, sizeof(be));
}

bool
trib_hmac_update_be64(trib_hmac_ctx *h, uint64_t v)
{
	unsigned char be[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		be[i] = (unsigned char) v;
	return EVP_MAC_update(h, be, sizeof(be));
}

bool
trib_hmac_final(trib_hmac_ctx *h, unsigned char mac[TRIB_HMAC_LEN])
{
	size_t		n = 0;

	return EVP_MAC_final(h, mac, &n, TRIB_HMAC_LEN) && n == TRIB_HMAC_LEN;
}

void
trib_hmac_free(trib_hmac *key)
{
	if (key == NULL)
		return;
	for (int i = 0; i < HMAC_CACHE_SLOTS; i++)
		if (cache.id[i] == key->id)
		{
			EVP_MAC_CTX_free(cache.ctx[i]);
			cache.ctx[i] = NULL;
			cache.id[i] = 0;
		}
	EVP_MAC_CTX_free(key->keyed);
	free(key);
}

bool
trib_hmac_sha256(const unsigned char *key, size_t keylen, const void *data,
				 size_t n, unsigned char mac[TRIB_HMAC_LEN])
{
	/* a one-off key: its own context, not the thread's cache */
	EVP_MAC_CTX *h = keyed_ctx(key, keylen);
	bool		ok = h != NULL && trib_hmac_update(h, data, n) && trib_hmac_final(h, mac);

	EVP_MAC_CTX_free(h);
	return ok;
}
