/*
 * test_quoted.c: the end of a quoted text (lib/quoted.c).  The closing
 * quote is the first unescaped occurrence of the opening character; a
 * backslash takes the next character with it, another quote character
 * does not close, and a text that ends first (a lone backslash at the end
 * included) gives its NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "quoted.h"

/* The offset of the end trib_quoted_end finds in s (opening at s[0]). */
static long
end_at(const char *s)
{
	return (long) (trib_quoted_end(s) - s);
}

static void
test_closes_at_the_same_quote(void **state)
{
	(void) state;
	assert_int_equal(end_at("\"abc\" tail"), 4);
	assert_int_equal(end_at("\"\""), 1);
	assert_int_equal(end_at("'it\"s' x"), 5);	/* '"' does not close a '\'' */
	assert_int_equal(end_at("\"it's\""), 5);
}

static void
test_backslash_escapes_the_next(void **state)
{
	(void) state;
	assert_int_equal(end_at("\"a\\\"b\" x"), 5);	/* "a\"b" */
	assert_int_equal(end_at("\"a\\\\\" x"), 4);	/* "a\\" closes after the pair */
	assert_int_equal(end_at("'a\\'b' x"), 5);
}

static void
test_unclosed_gives_the_nul(void **state)
{
	const char *s1 = "\"abc";
	const char *s2 = "\"abc\\";
	const char *s3 = "'";

	(void) state;
	assert_ptr_equal(trib_quoted_end(s1), s1 + strlen(s1));
	assert_ptr_equal(trib_quoted_end(s2), s2 + strlen(s2));
	assert_ptr_equal(trib_quoted_end(s3), s3 + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closes_at_the_same_quote),
		cmocka_unit_test(test_backslash_escapes_the_next),
		cmocka_unit_test(test_unclosed_gives_the_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
