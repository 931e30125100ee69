/*
 * test_dec_double.c: trib_dec_to_double (decimal.c), whose fast path
 * skips strtod, against strtod of the decimal written out, on random
 * decimals: 1 to 20
 * significant digits and powers of ten from -30 to 30, so both sides of
 * the 15-digit and 10^±22 bounds, both signs, plus zero and the bounds
 * themselves; the doubles must be the same bits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "decimal.h"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* d as strtod reads "[-]DIGITSe[-]EXP": the reference. */
static double
by_strtod(const trib_dec *d)
{
	char		text[128];

	snprintf(text, sizeof(text), "%s%se%lld", d->neg ? "-" : "", d->digits,
			 (long long) d->exp10);
	return strtod(text, NULL);
}

/* The number text parses, and both conversions give the same bits. */
static void
assert_same(const char *text)
{
	trib_dec	d;
	double		want,
				got;

	if (!trib_dec_parse(text, strlen(text), &d))
		fail_msg("unparsable test number %s", text);
	want = by_strtod(&d);
	got = trib_dec_to_double(&d);
	if (memcmp(&want, &got, sizeof(want)) != 0)
		fail_msg("%s: strtod %.17g, fast path %.17g", text, want, got);
	trib_dec_free(&d);
}

static void
test_bounds(void **state)
{
	static const char *const texts[] = {
		"0", "-0", "0.0", "1", "-1", "0.1", "0.3", "123456.50", "-98765.43",
		"999999999999999", "9999999999999999", "999999999999999e22",
		"999999999999999e23", "1e-22", "1e-23", "123456789012345e-22",
		"4.35", "2.675", "1.005", "9007199254740993", "0.000001",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		assert_same(texts[i]);
}

static void
test_random_decimals(void **state)
{
	char		text[64];

	(void) state;
	for (int round = 0; round < 200000; round++)
	{
		int			ndig = 1 + (int) (rnd() % 20);
		int			e = (int) (rnd() % 61) - 30;
		size_t		n = 0;

		if (rnd() % 2)
			text[n++] = '-';
		text[n++] = (char) ('1' + rnd() % 9);
		for (int i = 1; i < ndig; i++)
			text[n++] = (char) ('0' + rnd() % 10);
		if (rnd() % 2)
			snprintf(text + n, sizeof(text) - n, "e%d", e);
		else
		{
			/* the same digits with a decimal point inside, as rows write them */
			int			at = 1 + (int) (rnd() % (size_t) ndig);

			memmove(text + (text[0] == '-') + at + 1, text + (text[0] == '-') + at,
					n - at - (text[0] == '-'));
			text[(text[0] == '-') + at] = '.';
			n++;
			if (text[n - 1] == '.')
				text[n++] = '0';
			text[n] = '\0';
		}
		assert_same(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_random_decimals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
