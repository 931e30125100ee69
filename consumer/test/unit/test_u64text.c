/*
 * test_u64text.c: trib_u64_digits (lib/u64text.h) writes the same digits
 * as printf's %llu: at every power of ten and its neighbours, at 0 and
 * UINT64_MAX, and on 1,000,000 values spread over every length; and it
 * writes nothing outside the bytes it returns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "u64text.h"

/* v through trib_u64_digits equals v through snprintf, and the bytes
 * before the returned start are untouched. */
static void
check_one(uint64_t v)
{
	char		buf[TRIB_U64_DIGITS + 8];
	char		want[32];
	char	   *end = buf + sizeof(buf) - 1;
	char	   *p;
	int			n = snprintf(want, sizeof(want), "%llu", (unsigned long long) v);

	memset(buf, '#', sizeof(buf));
	*end = '\0';
	p = trib_u64_digits(end, v);
	if ((int) (end - p) != n || memcmp(p, want, (size_t) n) != 0)
		fail_msg("%llu: got [%.*s]", (unsigned long long) v, (int) (end - p), p);
	for (char *q = buf; q < p; q++)
		assert_int_equal(*q, '#');
}

/* 0, UINT64_MAX, and 10^k - 1, 10^k, 10^k + 1 for every k. */
static void
test_edges(void **state)
{
	uint64_t	p10 = 1;

	(void) state;
	check_one(0);
	check_one(UINT64_MAX);
	check_one(UINT64_MAX - 1);
	for (int k = 0; k < 20; k++)
	{
		check_one(p10 - 1);
		check_one(p10);
		check_one(p10 + 1);
		check_one(p10 * 2 - 1);
		if (k < 19)
			p10 *= 10;
	}
}

/* A million values, each of a random length (xorshift, fixed seed). */
static void
test_spread(void **state)
{
	uint64_t	x = 0x9E3779B97F4A7C15ULL;

	(void) state;
	for (int i = 0; i < 1000000; i++)
	{
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_one(x >> (x % 64));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
