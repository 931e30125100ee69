/*
 * test_xalloc.c: the aborting allocators (xalloc.c), and trib_xgrow's
 * growth of an array kept as (pointer, count, capacity).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* An empty array gets the first capacity; a full one doubles; one with
 * room is returned as is, its capacity unchanged. */
static void
xgrow_doubles_a_full_array_and_leaves_room_alone(void **state)
{
	int		   *v = NULL;
	size_t		n = 0,
				cap = 0;
	size_t		seen[8];
	int			nseen = 0;

	(void) state;
	for (int i = 0; i < 100; i++)
	{
		size_t		before = cap;

		v = trib_xgrow(v, n, &cap, sizeof(*v), 16);
		assert_non_null(v);
		assert_true(cap > n);
		if (cap != before)
			seen[nseen++] = cap;
		v[n++] = i;
	}
	assert_int_equal(nseen, 4);
	assert_int_equal(seen[0], 16);
	assert_int_equal(seen[1], 32);
	assert_int_equal(seen[2], 64);
	assert_int_equal(seen[3], 128);
	for (int i = 0; i < 100; i++)
		assert_int_equal(v[i], i);	/* the elements survive each move */

	/* room left: the same pointer, the same capacity */
	{
		int		   *same = trib_xgrow(v, 100, &cap, sizeof(*v), 16);

		assert_ptr_equal(same, v);
		assert_int_equal(cap, 128);
	}
	free(v);
}

/* The first capacity is the caller's (8 for small name lists). */
static void
xgrow_starts_at_the_callers_first_capacity(void **state)
{
	char	  **names = NULL;
	size_t		cap = 0;

	(void) state;
	names = trib_xgrow(names, 0, &cap, sizeof(*names), 8);
	assert_int_equal(cap, 8);
	names[0] = trib_xstrdup("a");
	assert_string_equal(names[0], "a");
	free(names[0]);
	free(names);
}

/* trib_xstrndup copies n bytes of an unterminated string and ends it. */
static void
xstrndup_ends_the_copy(void **state)
{
	char	   *s = trib_xstrndup("abcdef", 3);

	(void) state;
	assert_string_equal(s, "abc");
	free(s);
	assert_null(trib_xstrdup(NULL));
}

/* trib_xadd_zeroed keeps the elements before and zeroes the new one, even
 * where the memory it reuses held something. */
static void
xadd_zeroed_keeps_the_old_and_zeroes_the_new(void **state)
{
	long	   *v = NULL;
	size_t		n = 0;

	(void) state;
	for (long i = 0; i < 40; i++)
	{
		v = trib_xadd_zeroed(v, n, sizeof(*v));
		assert_int_equal(v[n], 0);
		v[n++] = i * 7 - 3;		/* not zero, to be kept */
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], (long) i * 7 - 3);
	v[n - 1] = 99;
	v = trib_xadd_zeroed(trib_xrealloc(v, (n - 1) * sizeof(*v)), n - 1, sizeof(*v));
	assert_int_equal(v[n - 2], (long) (n - 2) * 7 - 3);
	assert_int_equal(v[n - 1], 0);	/* the element dropped and added again */
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xgrow_doubles_a_full_array_and_leaves_room_alone),
		cmocka_unit_test(xgrow_starts_at_the_callers_first_capacity),
		cmocka_unit_test(xstrndup_ends_the_copy),
		cmocka_unit_test(xadd_zeroed_keeps_the_old_and_zeroes_the_new),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
