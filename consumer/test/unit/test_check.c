/*
 * test_check.c: the table patterns `tributary check` applies to list what a
 * source captures; they must select what the output plugin selects
 * (pg_ext/src/options.c): "schema.table", '*' any run, '?' one character,
 * double-quoted parts literal ("" for a quote), both parts required.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check.h"

static void
wildcards_match_like_the_plugin(void **state)
{
	(void) state;
	assert_true(trib_check_pattern_match("public.orders", "public", "orders"));
	assert_false(trib_check_pattern_match("public.orders", "public", "orders2"));
	assert_true(trib_check_pattern_match("public.ord*", "public", "orders"));
	assert_true(trib_check_pattern_match("public.ord*", "public", "ord"));
	assert_true(trib_check_pattern_match("*.*", "x", "y"));
	assert_true(trib_check_pattern_match("p?blic.t", "public", "t"));
	assert_false(trib_check_pattern_match("p?blic.t", "pblic", "t"));
	assert_true(trib_check_pattern_match("*.a*b*c", "s", "axxbyyc"));
	assert_false(trib_check_pattern_match("*.a*b*c", "s", "axxbyy"));
	assert_false(trib_check_pattern_match("public.orders", "Public", "orders"));
}

static void
quoted_parts_are_literal(void **state)
{
	(void) state;
	assert_true(trib_check_pattern_match("\"My.Schema\".\"T*\"", "My.Schema", "T*"));
	assert_false(trib_check_pattern_match("\"My.Schema\".\"T*\"", "My.Schema", "Tx"));
	assert_true(trib_check_pattern_match("public.\"a\"\"b\"", "public", "a\"b"));
	assert_true(trib_check_pattern_match("\"s\".*", "s", "anything"));
}

static void
malformed_patterns_match_nothing(void **state)
{
	(void) state;
	assert_false(trib_check_pattern_match("orders", "public", "orders"));
	assert_false(trib_check_pattern_match("public.", "public", ""));
	assert_false(trib_check_pattern_match(".orders", "", "orders"));
	assert_false(trib_check_pattern_match("\"public.orders", "public", "orders"));
	assert_false(trib_check_pattern_match("pub\"lic.orders", "pub\"lic", "orders"));
	assert_false(trib_check_pattern_match("\"a\"x.t", "ax", "t"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wildcards_match_like_the_plugin),
		cmocka_unit_test(quoted_parts_are_literal),
		cmocka_unit_test(malformed_patterns_match_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
