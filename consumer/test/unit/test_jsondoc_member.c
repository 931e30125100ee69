/*
 * test_jsondoc_member.c: trib_jdoc_member_str (lib/jsondoc.c) gives a
 * string member's value, and NULL for an absent member, a member of
 * another type, a NULL object and a value that is not an object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jsondoc.h"

/* A string member is found; others are NULL. */
static void
test_member_str_gives_strings_only(void **state)
{
	char		err[128];
	yajl_val	o = trib_jdoc_parse("{\"s\":\"x\",\"e\":\"\",\"n\":1,\"z\":null,"
									"\"o\":{\"s\":\"inner\"},\"a\":[\"s\"]}",
									err, sizeof(err));
	yajl_val	arr = trib_jdoc_parse("[\"s\"]", err, sizeof(err));

	(void) state;
	assert_non_null(o);
	assert_non_null(arr);
	assert_string_equal(trib_jdoc_member_str(o, "s"), "x");
	assert_string_equal(trib_jdoc_member_str(o, "e"), "");
	assert_null(trib_jdoc_member_str(o, "n"));
	assert_null(trib_jdoc_member_str(o, "z"));
	assert_null(trib_jdoc_member_str(o, "o"));
	assert_null(trib_jdoc_member_str(o, "a"));
	assert_null(trib_jdoc_member_str(o, "absent"));
	assert_null(trib_jdoc_member_str(NULL, "s"));
	assert_null(trib_jdoc_member_str(arr, "s"));
	yajl_tree_free(o);
	yajl_tree_free(arr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_member_str_gives_strings_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
