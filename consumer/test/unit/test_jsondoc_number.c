/*
 * test_jsondoc_number.c: trib_jdoc_number (lib/jsondoc.c) builds the node
 * yajl's tree would build for a number, with or without its shortcut for
 * short integers: the same raw text, flags, integer and double (bit for
 * bit, so -0 keeps its sign) as strtoll and strtod give.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsondoc.h"

/* The node the strtoll/strtod reference gives for raw, compared with
 * trib_jdoc_number's. */
static void
check(const char *raw)
{
	yajl_val	v = trib_jdoc_number(raw);
	char	   *end;
	unsigned	flags = 0;
	long long	i;
	double		d;

	errno = 0;
	i = strtoll(raw, &end, 10);
	if (errno == 0 && *end == '\0')
		flags |= YAJL_NUMBER_INT_VALID;
	errno = 0;
	d = strtod(raw, &end);
	if (errno == 0 && *end == '\0')
		flags |= YAJL_NUMBER_DOUBLE_VALID;
	assert_true(YAJL_IS_NUMBER(v));
	assert_string_equal(v->u.number.r, raw);
	if ((unsigned) v->u.number.flags != flags)
		fail_msg("%s: flags %u, expected %u", raw, (unsigned) v->u.number.flags, flags);
	if (flags & YAJL_NUMBER_INT_VALID)
		assert_true(v->u.number.i == i);
	if (memcmp(&v->u.number.d, &d, sizeof(d)) != 0)
		fail_msg("%s: double %.17g, expected %.17g", raw, v->u.number.d, d);
	yajl_tree_free(v);
}

/* Integers on both sides of the shortcut's 15 digits, signs, zeros,
 * decimals, exponents and values past int64 and double. */
static void
test_number_nodes_match_strtoll_strtod(void **state)
{
	static const char *const raws[] = {
		"0", "-0", "7", "-7", "1.50", "-0.0", "12", "100001", "999999999999999",
		"-999999999999999", "1000000000000000", "9007199254740993",
		"-9007199254740993", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809",
		"123456789012345678901234567890", "1e5", "1E-3", "-2.5e+10", "1e400",
		"-1e400", "1e-400", "0.1", "00", "007",
	};

	(void) state;
	for (size_t k = 0; k < sizeof(raws) / sizeof(raws[0]); k++)
		check(raws[k]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number_nodes_match_strtoll_strtod),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
