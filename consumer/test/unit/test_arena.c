/*
 * test_arena.c: the scratch arena (arena.c) and the string set (intern.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>
#include <yajl/yajl_parse.h>

#include "arena.h"
#include "intern.h"

/* Allocations are aligned, distinct, and keep their bytes until reset. */
static void
arena_allocations_are_aligned_and_stable(void **state)
{
	trib_arena	a;
	char	   *p[200];

	(void) state;
	trib_arena_init(&a, 256);
	for (int i = 0; i < 200; i++)
	{
		char		want[32];

		snprintf(want, sizeof(want), "string %d", i);
		p[i] = trib_arena_strndup(&a, want, strlen(want));
		assert_int_equal((uintptr_t) p[i] % alignof(max_align_t), 0);
	}
	for (int i = 0; i < 200; i++)
	{
		char		want[32];

		snprintf(want, sizeof(want), "string %d", i);
		assert_string_equal(p[i], want);
	}
	trib_arena_free(&a);
}

/* A reset hands the same memory out again: no block is allocated in the
 * steady state; an oversized block is given back at reset. */
static void
arena_reset_reuses_blocks(void **state)
{
	trib_arena	a;
	void	   *first,
			   *again;

	(void) state;
	trib_arena_init(&a, 1024);
	first = trib_arena_alloc(&a, 100);
	for (int i = 0; i < 50; i++)
		trib_arena_alloc(&a, 100);	/* several blocks */
	trib_arena_reset(&a);
	again = trib_arena_alloc(&a, 100);
	assert_ptr_equal(first, again);
	memset(trib_arena_alloc(&a, 100000), 'x', 100000);	/* oversized */
	trib_arena_reset(&a);
	for (int i = 0; i < 50; i++)
		trib_arena_alloc(&a, 100);
	trib_arena_reset(&a);
	assert_ptr_equal(trib_arena_alloc(&a, 8), first);
	trib_arena_free(&a);
	trib_arena_free(&a);		/* twice is harmless */
}

/* yajl parses with the arena's allocator, buffers growing by realloc. */
static void
arena_serves_yajl(void **state)
{
	trib_arena	a;
	yajl_alloc_funcs f;
	yajl_handle h;
	char		doc[20000];
	size_t		n = 0;

	(void) state;
	trib_arena_init(&a, 0);
	trib_arena_yajl_funcs(&a, &f);
	n += (size_t) snprintf(doc + n, sizeof(doc) - n, "{\"s\":\"");
	for (int i = 0; i < 5000; i++)
		doc[n++] = (char) ('a' + i % 26);
	n += (size_t) snprintf(doc + n, sizeof(doc) - n, "\\n\",\"a\":[");
	for (int i = 0; i < 500; i++)
		n += (size_t) snprintf(doc + n, sizeof(doc) - n, "%s[[%d]]", i ? "," : "", i);
	n += (size_t) snprintf(doc + n, sizeof(doc) - n, "]}");
	for (int round = 0; round < 3; round++)
	{
		h = yajl_alloc(NULL, &f, NULL);
		assert_non_null(h);
		assert_int_equal(yajl_parse(h, (const unsigned char *) doc, n), yajl_status_ok);
		assert_int_equal(yajl_complete_parse(h), yajl_status_ok);
		assert_int_equal(yajl_parse(h, (const unsigned char *) "x", 1), yajl_status_error);
		yajl_free(h);
		trib_arena_reset(&a);
	}
	trib_arena_free(&a);
}

/* One copy per distinct string, stable across growth of the table. */
static void
intern_returns_one_copy_per_value(void **state)
{
	trib_intern *set = trib_intern_new();
	const char *first[1000];

	(void) state;
	for (int i = 0; i < 1000; i++)
	{
		char		s[32];

		snprintf(s, sizeof(s), "table_%d", i);
		first[i] = trib_intern_get(set, s, strlen(s));
		assert_string_equal(first[i], s);
		assert_ptr_not_equal(first[i], s);
	}
	assert_int_equal(trib_intern_count(set), 1000);
	for (int i = 999; i >= 0; i--)
	{
		char		s[32];

		snprintf(s, sizeof(s), "table_%d", i);
		assert_ptr_equal(trib_intern_get(set, s, strlen(s)), first[i]);
	}
	/* length counts: "table_1" is not "table_12" cut short */
	assert_ptr_not_equal(trib_intern_get(set, "table_12", 7), first[12]);
	assert_ptr_equal(trib_intern_get(set, "table_12", 7), first[1]);
	assert_string_equal(trib_intern_get(set, "", 0), "");
	assert_int_equal(trib_intern_count(set), 1001);
	trib_intern_free(set);
	trib_intern_free(NULL);
}

/* Each string keeps one value, across growth; keys may hold NUL bytes
 * ("schema\0table"), and each_value visits exactly the values set. */
static int	visited;

static void
count_value(void *value)
{
	visited += *(int *) value;
}

static void
intern_keeps_a_value_per_string(void **state)
{
	trib_intern *set = trib_intern_new();
	static int	vals[300];
	void	  **v;

	(void) state;
	for (int i = 0; i < 300; i++)
	{
		char		s[32];
		int			n = snprintf(s, sizeof(s), "public%ct_%d", '\0', i);

		vals[i] = i;
		v = trib_intern_value(set, s, (size_t) n);
		assert_null(*v);
		if (i % 2 == 0)
			*v = &vals[i];
	}
	for (int i = 0; i < 300; i++)
	{
		char		s[32];
		int			n = snprintf(s, sizeof(s), "public%ct_%d", '\0', i);

		v = trib_intern_value(set, s, (size_t) n);
		if (i % 2 == 0)
			assert_ptr_equal(*v, &vals[i]);
		else
			assert_null(*v);
	}
	/* "public" alone is another string than "public\0t_0" */
	assert_null(*trib_intern_value(set, "public", 6));
	assert_int_equal(trib_intern_count(set), 301);
	visited = 0;
	trib_intern_each_value(set, count_value);
	assert_int_equal(visited, 150 * 298 / 2);	/* 0 + 2 + ... + 298 */
	trib_intern_each_value(NULL, count_value);
	trib_intern_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arena_allocations_are_aligned_and_stable),
		cmocka_unit_test(arena_reset_reuses_blocks),
		cmocka_unit_test(arena_serves_yajl),
		cmocka_unit_test(intern_returns_one_copy_per_value),
		cmocka_unit_test(intern_keeps_a_value_per_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
