/*
 * hmac.c: HMAC-SHA256 (RFC 2104) on OpenSSL's SHA-256 (see hmac.h).
 *
 * A trib_hmac holds the two SHA-256 states after the padded key, inner
 * (key ^ ipad) and outer (key ^ opad; a key longer than a block is hashed
 * first), never used for a MAC themselves, and an id from a process-wide
 * atomic counter, never reused (an address can be reused once a key is
 * freed and another allocated).  Each thread keeps HMAC_CACHE_SLOTS
 * working contexts, each tagged with one key's id.  trib_hmac_start finds
 * the key's slot (on a miss it evicts a slot in turn) and copies the inner
 * state into it (EVP_MD_CTX_copy_ex); trib_hmac_final finishes the inner
 * hash, copies the outer state in and hashes the inner digest.  Copying a
 * shared state only reads it, which OpenSSL allows from several threads at
 * once.  This is what EVP_MAC's HMAC does, without its reset and its
 * layers: ~40 ns less per MAC of a short value (docs/BENCHMARKS.md, "Issue
 * 15: what limits targets 1 and 2"); the MACs are the same (test_hmac
 * against OpenSSL's HMAC()).
 *
 * What is left: a thread's slots are freed at its exit (a pthread key's
 * destructor); the main thread's stay until the process ends, at most
 * HMAC_CACHE_SLOTS contexts.  A freed key's working contexts in other
 * threads stay until evicted; they hold a state derived from the key, as
 * the key's own states do until trib_hmac_free (EVP_MD_CTX_free cleanses).
 */
#include "hmac.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "xalloc.h"

#define HMAC_CACHE_SLOTS 8

#define SHA256_BLOCK 64

struct trib_hmac
{
	EVP_MD_CTX *inner;			/* SHA-256 after key ^ ipad; only copied */
	EVP_MD_CTX *outer;			/* SHA-256 after key ^ opad; only copied */
	uint64_t	id;				/* unique in the process, never 0 */
};

/* A working context: the running inner (then outer) hash of one MAC. */
struct trib_hmac_ctx
{
	EVP_MD_CTX *md;
	const trib_hmac *key;		/* its outer state, for trib_hmac_final */
};

typedef struct
{
	uint64_t	id[HMAC_CACHE_SLOTS];	/* 0: empty */
	trib_hmac_ctx *ctx[HMAC_CACHE_SLOTS];
	unsigned	next;			/* the slot a miss evicts */
	bool		registered;		/* the exit destructor is set */
} hmac_cache;

static _Atomic uint64_t next_id = 1;
static _Thread_local hmac_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* A SHA-256 context that has absorbed the 64-byte block pad[]; NULL on
 * failure. */
static EVP_MD_CTX *
padded_state(EVP_MD *sha, const unsigned char pad[SHA256_BLOCK])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c != NULL && EVP_DigestInit_ex2(c, sha, NULL) && EVP_DigestUpdate(c, pad, SHA256_BLOCK))
		return c;
	EVP_MD_CTX_free(c);
	return NULL;
}

trib_hmac *
trib_hmac_new(const void *key, size_t keylen)
{
	EVP_MD	   *sha = EVP_MD_fetch(NULL, "SHA256", NULL);
	unsigned char k[SHA256_BLOCK] = {0},
				ipad[SHA256_BLOCK],
				opad[SHA256_BLOCK];
	unsigned int klen = 0;
	EVP_MD_CTX *inner = NULL,
			   *outer = NULL;
	trib_hmac  *h = NULL;

	if (sha == NULL)
		return NULL;
	/* RFC 2104: a key longer than a block is replaced by its hash */
	if (keylen > SHA256_BLOCK)
	{
		if (!EVP_Digest(key, keylen, k, &klen, sha, NULL))
			goto out;
	}
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (int i = 0; i < SHA256_BLOCK; i++)
	{
		ipad[i] = k[i] ^ 0x36;
		opad[i] = k[i] ^ 0x5c;
	}
	inner = padded_state(sha, ipad);
	outer = padded_state(sha, opad);
	if (inner == NULL || outer == NULL)
		goto out;
	h = trib_xcalloc(1, sizeof(*h));
	h->inner = inner;
	h->outer = outer;
	h->id = atomic_fetch_add(&next_id, 1);
	inner = outer = NULL;
out:
	EVP_MD_CTX_free(inner);
	EVP_MD_CTX_free(outer);
	EVP_MD_free(sha);			/* the states hold their own reference */
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	return h;
}

static void
work_free(trib_hmac_ctx *w)
{
	if (w == NULL)
		return;
	EVP_MD_CTX_free(w->md);
	free(w);
}

/* A working context in key's inner state, or w (not NULL) put back in it;
 * NULL when OpenSSL fails (w is then freed). */
static trib_hmac_ctx *
work_start(trib_hmac_ctx *w, const trib_hmac *key)
{
	if (w == NULL)
	{
		w = trib_xcalloc(1, sizeof(*w));
		w->md = EVP_MD_CTX_new();
	}
	w->key = key;
	if (w->md == NULL || !EVP_MD_CTX_copy_ex(w->md, key->inner))
	{
		work_free(w);
		return NULL;
	}
	return w;
}

static void
cache_clear(void *p)
{
	hmac_cache *c = p;

	for (int i = 0; i < HMAC_CACHE_SLOTS; i++)
	{
		work_free(c->ctx[i]);
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
			break;
	if (i == HMAC_CACHE_SLOTS)
	{
		if (!cache.registered)
			cache_register();
		i = cache.next;
		cache.next = (i + 1) % HMAC_CACHE_SLOTS;
		cache.id[i] = key->id;
	}
	cache.ctx[i] = work_start(cache.ctx[i], key);
	if (cache.ctx[i] == NULL)
		cache.id[i] = 0;
	return cache.ctx[i];
}

bool
trib_hmac_update(trib_hmac_ctx *h, const void *data, size_t n)
{
	return n == 0 || EVP_DigestUpdate(h->md, data, n);
}

bool
trib_hmac_update_be32(trib_hmac_ctx *h, uint32_t v)
{
	unsigned char be[4] = {
		(unsigned char) (v >> 24), (unsigned char) (v >> 16),
		(unsigned char) (v >> 8), (unsigned char) v
	};

	return EVP_DigestUpdate(h->md, be, sizeof(be));
}

bool
trib_hmac_update_be64(trib_hmac_ctx *h, uint64_t v)
{
	unsigned char be[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		be[i] = (unsigned char) v;
	return EVP_DigestUpdate(h->md, be, sizeof(be));
}

bool
trib_hmac_final(trib_hmac_ctx *h, unsigned char mac[TRIB_HMAC_LEN])
{
	unsigned char in[TRIB_HMAC_LEN];
	unsigned int n = 0,
				m = 0;
	bool		ok;

	ok = EVP_DigestFinal_ex(h->md, in, &n) && n == TRIB_HMAC_LEN &&
		EVP_MD_CTX_copy_ex(h->md, h->key->outer) &&
		EVP_DigestUpdate(h->md, in, sizeof(in)) &&
		EVP_DigestFinal_ex(h->md, mac, &m) && m == TRIB_HMAC_LEN;
	OPENSSL_cleanse(in, sizeof(in));
	return ok;
}

void
trib_hmac_free(trib_hmac *key)
{
	if (key == NULL)
		return;
	for (int i = 0; i < HMAC_CACHE_SLOTS; i++)
		if (cache.id[i] == key->id)
		{
			work_free(cache.ctx[i]);
			cache.ctx[i] = NULL;
			cache.id[i] = 0;
		}
	EVP_MD_CTX_free(key->inner);
	EVP_MD_CTX_free(key->outer);
	free(key);
}

bool
trib_hmac_sha256(const unsigned char *key, size_t keylen, const void *data,
				 size_t n, unsigned char mac[TRIB_HMAC_LEN])
{
	/* a one-off key: its own working context, not the thread's cache */
	trib_hmac  *k = trib_hmac_new(key, keylen);
	trib_hmac_ctx *h = k ? work_start(NULL, k) : NULL;
	bool		ok = h != NULL && trib_hmac_update(h, data, n) && trib_hmac_final(h, mac);

	work_free(h);
	if (k != NULL)
	{
		EVP_MD_CTX_free(k->inner);
		EVP_MD_CTX_free(k->outer);
		free(k);
	}
	return ok;
}
