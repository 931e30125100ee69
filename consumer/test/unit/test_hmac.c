/*
 * test_hmac.c: the HMAC helper's per-thread working contexts (hmac.c)
 * against OpenSSL's one-shot HMAC() as the reference: many keys (more than
 * a thread's cache holds, so slots are evicted and refilled) used in a
 * shuffled order on values of many lengths fed in pieces; a MAC left
 * unfinished before the next start; keys freed and new ones allocated
 * (likely at the same address) giving the new key's MACs, on the same
 * thread and while another thread has the freed key's context cached; and
 * four threads at once, each with its own keys and all with one shared
 * key; and every key length the key schedule treats differently (empty,
 * a block, one more, far longer), through the cache and in one call.
 * Under ASan a thread's contexts not freed at its exit show as leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hmac.h"

#define NKEYS 40
#define NVALUES 64
#define NTHREADS 4
#define THREAD_ROUNDS 3000

/* A small deterministic generator (xorshift64), seeded per use. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
fill(unsigned char *p, size_t n, uint64_t *s)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char) next_rand(s);
}

typedef struct
{
	unsigned char bytes[80];
	size_t		len;
	trib_hmac  *h;
} test_key;

static void
key_make(test_key *k, uint64_t *s)
{
	k->len = 16 + next_rand(s) % 65;	/* 16..80: below and above a block */
	fill(k->bytes, k->len, s);
	k->h = trib_hmac_new(k->bytes, k->len);
	assert_non_null(k->h);
}

/* The helper's MAC of msg[0..n), fed in pieces of up to 7 bytes, equals
 * HMAC(). */
static bool
mac_matches(const test_key *k, const unsigned char *msg, size_t n)
{
	unsigned char got[TRIB_HMAC_LEN];
	unsigned char want[EVP_MAX_MD_SIZE];
	unsigned int wantlen = 0;
	trib_hmac_ctx *c = trib_hmac_start(k->h);
	size_t		off = 0;

	if (c == NULL)
		return false;
	while (off < n)
	{
		size_t		piece = n - off < 7 ? n - off : 7;

		if (!trib_hmac_update(c, msg + off, piece))
			return false;
		off += piece;
	}
	if (!trib_hmac_final(c, got) ||
		HMAC(EVP_sha256(), k->bytes, (int) k->len, msg, n, want, &wantlen) == NULL)
		return false;
	return wantlen == TRIB_HMAC_LEN && memcmp(got, want, TRIB_HMAC_LEN) == 0;
}

static void
test_many_keys_shuffled(void **state)
{
	test_key	keys[NKEYS];
	unsigned char msg[300];
	uint64_t	s = 0x9e3779b97f4a7c15ULL;

	(void) state;
	for (int i = 0; i < NKEYS; i++)
		key_make(&keys[i], &s);
	for (int i = 0; i < NKEYS * NVALUES; i++)
	{
		/* mostly a few hot keys (hits), sometimes any of 40 (misses) */
		int			k = next_rand(&s) % 4 ? (int) (next_rand(&s) % 3) : (int) (next_rand(&s) % NKEYS);
		size_t		n = next_rand(&s) % sizeof(msg);

		fill(msg, n, &s);
		assert_true(mac_matches(&keys[k], msg, n));
	}
	for (int i = 0; i < NKEYS; i++)
		trib_hmac_free(keys[i].h);
}

static void
test_unfinished_then_start(void **state)
{
	test_key	k;
	uint64_t	s = 42;
	trib_hmac_ctx *c;

	(void) state;
	key_make(&k, &s);
	assert_true(mac_matches(&k, (const unsigned char *) "a", 1));
	c = trib_hmac_start(k.h);
	assert_non_null(c);
	assert_true(trib_hmac_update(c, "left unfinished", 15));
	assert_true(mac_matches(&k, (const unsigned char *) "after", 5));
	assert_true(mac_matches(&k, (const unsigned char *) "", 0));
	trib_hmac_free(k.h);
}

static void
test_free_then_new(void **state)
{
	uint64_t	s = 7;
	unsigned char msg[] = "the same value";

	(void) state;
	for (int i = 0; i < 50; i++)
	{
		test_key	a, b;

		key_make(&a, &s);
		assert_true(mac_matches(&a, msg, sizeof(msg) - 1));
		trib_hmac_free(a.h);
		/* b likely takes a's address; it must not get a's context */
		key_make(&b, &s);
		assert_true(mac_matches(&b, msg, sizeof(msg) - 1));
		trib_hmac_free(b.h);
	}
}

/* A key freed on one thread while another still has its working context
 * cached, and a new key allocated, most often at the same address: the
 * other thread must get the new key's MACs. */
typedef struct
{
	pthread_barrier_t step;
	test_key	key;
	int			bad;
} handover;

static void *
handover_thread(void *p)
{
	handover   *h = p;
	unsigned char msg[] = "value";

	for (int r = 0; r < 20; r++)
	{
		if (!mac_matches(&h->key, msg, sizeof(msg) - 1))
			h->bad++;
		pthread_barrier_wait(&h->step); /* main swaps the key */
		pthread_barrier_wait(&h->step);
	}
	return NULL;
}

static void
test_key_freed_on_other_thread(void **state)
{
	handover	h = {.bad = 0};
	pthread_t	t;
	uint64_t	s = 5;
	int			same_address = 0;

	(void) state;
	assert_int_equal(pthread_barrier_init(&h.step, NULL, 2), 0);
	key_make(&h.key, &s);
	assert_int_equal(pthread_create(&t, NULL, handover_thread, &h), 0);
	for (int r = 0; r < 20; r++)
	{
		trib_hmac  *old = h.key.h;

		pthread_barrier_wait(&h.step);
		trib_hmac_free(old);
		key_make(&h.key, &s);
		same_address += h.key.h == old;
		pthread_barrier_wait(&h.step);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	trib_hmac_free(h.key.h);
	pthread_barrier_destroy(&h.step);
	assert_int_equal(h.bad, 0);
	/* the case this test is for happened at least once (ASan's quarantine
	 * keeps freed memory from being reused at once) */
#ifndef __SANITIZE_ADDRESS__
	assert_true(same_address > 0);
#else
	(void) same_address;
#endif
}

typedef struct
{
	const test_key *shared;
	uint64_t	seed;
	int			bad;
} thread_arg;

static void *
thread_main(void *p)
{
	thread_arg *a = p;
	test_key	own[3];
	unsigned char msg[100];

	for (int i = 0; i < 3; i++)
		key_make(&own[i], &a->seed);
	for (int r = 0; r < THREAD_ROUNDS; r++)
	{
		int			which = (int) (next_rand(&a->seed) % 4);
		const test_key *k = which == 3 ? a->shared : &own[which];
		size_t		n = next_rand(&a->seed) % sizeof(msg);

		fill(msg, n, &a->seed);
		if (!mac_matches(k, msg, n))
			a->bad++;
	}
	for (int i = 0; i < 3; i++)
		trib_hmac_free(own[i].h);
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t	t[NTHREADS];
	thread_arg	args[NTHREADS];
	test_key	shared;
	uint64_t	s = 99;

	(void) state;
	key_make(&shared, &s);
	for (int i = 0; i < NTHREADS; i++)
	{
		args[i] = (thread_arg)
		{
			&shared, 1000 + (uint64_t) i, 0
		};
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, &args[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
	{
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].bad, 0);
	}
	/* the shared key from this thread too, after the others are gone */
	assert_true(mac_matches(&shared, (const unsigned char *) "x", 1));
	trib_hmac_free(shared.h);
}

/*
 * Every key length the RFC 2104 key schedule treats differently, against
 * HMAC(): empty (all pad), shorter than a block, exactly a block, one
 * more (hashed first) and far longer; through a cached context (twice, so
 * the second start reuses the slot) and through trib_hmac_sha256; on
 * messages around SHA-256's padding boundaries.
 */
static void
test_key_lengths_across_the_block(void **state)
{
	static const size_t klens[] = {0, 1, 31, 32, 63, 64, 65, 127, 128, 129, 1000};
	static const size_t mlens[] = {0, 1, 55, 56, 63, 64, 65, 200};
	unsigned char key[1000],
				msg[200];
	uint64_t	s = 0x2545f4914f6cdd1dULL;

	(void) state;
	fill(key, sizeof(key), &s);
	fill(msg, sizeof(msg), &s);
	for (size_t k = 0; k < sizeof(klens) / sizeof(klens[0]); k++)
	{
		test_key	tk = {.len = klens[k]};

		tk.h = trib_hmac_new(key, klens[k]);
		assert_non_null(tk.h);
		for (size_t m = 0; m < sizeof(mlens) / sizeof(mlens[0]); m++)
		{
			unsigned char got[TRIB_HMAC_LEN],
						want[EVP_MAX_MD_SIZE];
			unsigned int wantlen = 0;
			trib_hmac_ctx *c;

			assert_non_null(HMAC(EVP_sha256(), key, (int) klens[k], msg, mlens[m], want,
								 &wantlen));
			assert_int_equal(wantlen, TRIB_HMAC_LEN);
			for (int round = 0; round < 2; round++)
			{
				c = trib_hmac_start(tk.h);
				assert_non_null(c);
				assert_true(trib_hmac_update(c, msg, mlens[m]));
				assert_true(trib_hmac_final(c, got));
				if (memcmp(got, want, TRIB_HMAC_LEN) != 0)
					fail_msg("key of %zu bytes, message of %zu: MAC differs from HMAC()",
							 klens[k], mlens[m]);
			}
			assert_true(trib_hmac_sha256(key, klens[k], msg, mlens[m], got));
			if (memcmp(got, want, TRIB_HMAC_LEN) != 0)
				fail_msg("trib_hmac_sha256, key of %zu bytes, message of %zu: differs",
						 klens[k], mlens[m]);
		}
		trib_hmac_free(tk.h);
	}
	/* no key at all is the empty key */
	{
		unsigned char got[TRIB_HMAC_LEN],
					want[TRIB_HMAC_LEN];
		trib_hmac  *h = trib_hmac_new(NULL, 0);
		trib_hmac_ctx *c;

		assert_non_null(h);
		c = trib_hmac_start(h);
		assert_non_null(c);
		assert_true(trib_hmac_update(c, msg, 10));
		assert_true(trib_hmac_final(c, got));
		assert_true(trib_hmac_sha256(key, 0, msg, 10, want));
		assert_memory_equal(got, want, TRIB_HMAC_LEN);
		trib_hmac_free(h);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_keys_shuffled),
		cmocka_unit_test(test_unfinished_then_start),
		cmocka_unit_test(test_free_then_new),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_key_freed_on_other_thread),
		cmocka_unit_test(test_key_lengths_across_the_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
