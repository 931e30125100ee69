/*
 * test_lru.c: the lookup rule's cache (lib/lru.c).  What it keeps and in
 * which order it lets go (gets make an entry the newest; a put into a
 * full cache drops the least recently used; NULL values are values; the
 * free function sees every value once), checked against a plain list
 * model under a long random sequence; and its spread under keys crafted
 * against an unkeyed hash: 2,000 keys that FNV-1a (the hash this cache
 * used before) sends to one bucket of a 2,001-bucket table, as anyone
 * who can write rows could compute offline, land in the keyed table
 * about as random keys would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "lru.h"

static int	freed;

static void
count_free(void *v)
{
	freed++;
	free(v);
}

static void *
boxed(int v)
{
	int		   *p = malloc(sizeof(int));

	*p = v;
	return p;
}

static void
test_order(void **state)
{
	trib_lru   *c = trib_lru_new(3, count_free);
	void	   *v = NULL;

	(void) state;
	freed = 0;
	assert_non_null(c);
	assert_false(trib_lru_get(c, "a", &v));
	trib_lru_put(c, "a", boxed(1));
	trib_lru_put(c, "b", NULL);	/* "no row" is a value too */
	trib_lru_put(c, "c", boxed(3));
	assert_int_equal(trib_lru_count(c), 3);
	assert_true(trib_lru_get(c, "a", &v));	/* a is now the newest */
	assert_int_equal(*(int *) v, 1);
	trib_lru_put(c, "d", boxed(4));	/* evicts b, the oldest */
	assert_int_equal(trib_lru_count(c), 3);
	assert_false(trib_lru_get(c, "b", &v));
	assert_true(trib_lru_get(c, "c", &v));
	assert_int_equal(*(int *) v, 3);
	trib_lru_put(c, "e", boxed(5));	/* evicts a */
	assert_int_equal(freed, 1);
	assert_false(trib_lru_get(c, "a", &v));
	assert_true(trib_lru_get(c, "d", &v) && trib_lru_get(c, "e", &v));
	trib_lru_free(c);
	assert_int_equal(freed, 4);	/* a, then c, d, e; never b's NULL */
}

#define MODEL_CAP 16
#define MODEL_KEYS 40
#define MODEL_STEPS 20000

/* The cache against a model: an array of keys, newest first. */
static void
test_against_model(void **state)
{
	trib_lru   *c = trib_lru_new(MODEL_CAP, count_free);
	int			model[MODEL_CAP];
	int			n = 0,
				puts = 0;
	uint64_t	s = 0x9e3779b97f4a7c15ULL;

	(void) state;
	freed = 0;
	for (int step = 0; step < MODEL_STEPS; step++)
	{
		char		key[16];
		int			k,
					at = -1;
		void	   *v = NULL;
		bool		hit;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		k = (int) (s % MODEL_KEYS);
		snprintf(key, sizeof(key), "k%d", k);
		for (int i = 0; i < n; i++)
			if (model[i] == k)
				at = i;
		hit = trib_lru_get(c, key, &v);
		assert_int_equal(hit, at >= 0);
		if (hit)
		{
			assert_int_equal(*(int *) v, k);
			memmove(model + 1, model, sizeof(int) * (size_t) at);
		}
		else
		{
			trib_lru_put(c, key, boxed(k));
			puts++;
			if (n < MODEL_CAP)
				n++;
			memmove(model + 1, model, sizeof(int) * (size_t) (n - 1));
		}
		model[0] = k;
		assert_int_equal(trib_lru_count(c), n);
	}
	assert_int_equal(freed, puts - n);	/* each evicted value once */
	trib_lru_free(c);
	assert_int_equal(freed, puts);	/* and the rest at the end */
}

#define FLOOD_KEYS 2000

/* Keys that all fall into bucket 0 of a table of FLOOD_KEYS + 1 buckets
 * under FNV-1a spread out under the keyed hash. */
static void
test_crafted_keys(void **state)
{
	trib_lru   *c = trib_lru_new(FLOOD_KEYS, NULL);
	int			found = 0;
	char		key[32];

	(void) state;
	for (uint64_t i = 0; found < FLOOD_KEYS; i++)
	{
		snprintf(key, sizeof(key), "user%" PRIu64 "@example.com", i);
		if (trib_fnv1a_str(key) % (FLOOD_KEYS + 1) != 0)
			continue;
		trib_lru_put(c, key, NULL);
		found++;
	}
	assert_int_equal(trib_lru_count(c), FLOOD_KEYS);

	/*
	 * 2,000 random keys in 2,001 buckets: the longest chain is about 6;
	 * above 16 has a probability far below 1e-9.  Under FNV-1a all 2,000
	 * would share one chain.
	 */
	assert_true(trib_lru_longest_chain(c) <= 16);
	trib_lru_free(c);
}

/* The lookup rule's pattern, get then put on a miss, computes one MAC;
 * a put of another key than the one missed computes its own. */
static void
test_one_mac_per_miss(void **state)
{
	trib_lru   *c = trib_lru_new(4, count_free);
	void	   *v = NULL;

	(void) state;
	freed = 0;
	assert_false(trib_lru_get(c, "k1", &v));
	trib_lru_put(c, "k1", boxed(1));
	assert_int_equal(trib_lru_hash_count(c), 1);
	assert_true(trib_lru_get(c, "k1", &v));
	assert_int_equal(*(int *) v, 1);
	assert_int_equal(trib_lru_hash_count(c), 2);
	assert_false(trib_lru_get(c, "k2", &v));
	trib_lru_put(c, "k3", boxed(3));	/* not the missed key */
	assert_int_equal(trib_lru_hash_count(c), 4);
	trib_lru_put(c, "k2", boxed(2));	/* the missed key, later */
	assert_int_equal(trib_lru_hash_count(c), 4);
	assert_true(trib_lru_get(c, "k2", &v));
	assert_int_equal(*(int *) v, 2);
	assert_true(trib_lru_get(c, "k3", &v));
	assert_int_equal(*(int *) v, 3);
	assert_false(trib_lru_get(c, "k4", &v));	/* freed by trib_lru_free */
	trib_lru_free(c);
	assert_int_equal(freed, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_crafted_keys),
		cmocka_unit_test(test_one_mac_per_miss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
