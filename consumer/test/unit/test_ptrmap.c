/*
 * test_ptrmap.c: the pointer-keyed table (lib/ptrmap.c) under the schema
 * and lineage stages.  Entries keep their data across the growths that
 * thousands of keys cause; a put of a known key finds its entry and adds
 * nothing; a walk of the slots sees every entry exactly once; clear
 * forgets every key and the table can be filled again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>

#include "ptrmap.h"

#define NKEYS 5000

typedef struct entry
{
	const int  *key;
	size_t		value;
	char		pad[13];		/* an odd entry size */
} entry;

static int	keys[NKEYS];

/* Put every key with its index as value. */
static void
fill(trib_ptrmap *m)
{
	for (size_t i = 0; i < NKEYS; i++)
	{
		bool		added = false;
		entry	   *e = trib_ptrmap_put(m, &keys[i], &added);

		assert_true(added);
		assert_ptr_equal(e->key, &keys[i]);
		assert_int_equal(e->value, 0);	/* zeroed but for the key */
		e->value = i + 1;
	}
}

static void
entries_survive_growth_and_are_found_again(void **state)
{
	trib_ptrmap m;

	(void) state;
	trib_ptrmap_init(&m, sizeof(entry), 64);
	fill(&m);
	assert_int_equal(m.used, NKEYS);
	assert_true(m.nslots >= 2 * NKEYS);
	for (size_t i = 0; i < NKEYS; i++)
	{
		entry	   *e = trib_ptrmap_get(&m, &keys[i]);
		bool		added = true;

		assert_non_null(e);
		assert_int_equal(e->value, i + 1);
		assert_ptr_equal(trib_ptrmap_put(&m, &keys[i], &added), e);
		assert_false(added);
	}
	assert_int_equal(m.used, NKEYS);
	assert_null(trib_ptrmap_get(&m, &m));	/* never put */
	trib_ptrmap_free(&m);
}

static void
a_walk_of_the_slots_sees_each_entry_once(void **state)
{
	trib_ptrmap m;
	unsigned char *seen = calloc(NKEYS, 1);
	size_t		n = 0;

	(void) state;
	trib_ptrmap_init(&m, sizeof(entry), 0);
	fill(&m);
	for (size_t i = 0; i < m.nslots; i++)
	{
		entry	   *e = trib_ptrmap_slot(&m, i);

		if (e == NULL)
			continue;
		assert_ptr_equal(e->key, &keys[e->value - 1]);
		assert_int_equal(seen[e->value - 1], 0);
		seen[e->value - 1] = 1;
		n++;
	}
	assert_int_equal(n, NKEYS);
	free(seen);
	trib_ptrmap_free(&m);
}

static void
clear_forgets_every_key(void **state)
{
	trib_ptrmap m;

	(void) state;
	trib_ptrmap_init(&m, sizeof(entry), 8);
	fill(&m);
	trib_ptrmap_clear(&m);
	assert_int_equal(m.used, 0);
	for (size_t i = 0; i < NKEYS; i++)
		assert_null(trib_ptrmap_get(&m, &keys[i]));
	fill(&m);					/* every key is new again */
	assert_int_equal(m.used, NKEYS);
	trib_ptrmap_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_survive_growth_and_are_found_again),
		cmocka_unit_test(a_walk_of_the_slots_sees_each_entry_once),
		cmocka_unit_test(clear_forgets_every_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
