/*
 * test_words.c: enum words and spans (lib/words.c).  A word is found by
 * its index, a span s[0..len) only when it is a whole word (not a prefix
 * nor an extension of one), case counts unless asked not to, and a NULL
 * list holds nothing; the parse names the accepted words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "words.h"

static const char *const colours[] = {"red", "green", "blue", NULL};

static void
test_span_whole_words_only(void **state)
{
	const char *text = "greenhouse";

	(void) state;
	assert_int_equal(trib_words_find_span(colours, "red", 3), 0);
	assert_int_equal(trib_words_find_span(colours, "blue}", 4), 2);
	assert_int_equal(trib_words_find_span(colours, text, 5), 1);	/* "green" */
	assert_int_equal(trib_words_find_span(colours, text, 4), -1);	/* "gree" */
	assert_int_equal(trib_words_find_span(colours, text, 6), -1);	/* "greenh" */
	assert_int_equal(trib_words_find_span(colours, "", 0), -1);
	assert_int_equal(trib_words_find_span(colours, "RED", 3), -1);
}

static void
test_span_ignoring_case(void **state)
{
	(void) state;
	assert_int_equal(trib_words_find_span_ci(colours, "RED; x", 3), 0);
	assert_int_equal(trib_words_find_span_ci(colours, "Blue", 4), 2);
	assert_int_equal(trib_words_find_span_ci(colours, "Blu", 3), -1);
}

static void
test_span_in_no_list(void **state)
{
	(void) state;
	assert_int_equal(trib_words_find_span(NULL, "red", 3), -1);
	assert_int_equal(trib_words_find_span_ci(NULL, "red", 3), -1);
}

static void
test_parse_names_the_accepted(void **state)
{
	char		err[128];
	int			i = -7;

	(void) state;
	assert_true(trib_words_parse(colours, 3, "blue", "colour", &i, err, sizeof(err)));
	assert_int_equal(i, 2);
	assert_false(trib_words_parse(colours, 3, "pink", "colour", &i, err, sizeof(err)));
	assert_string_equal(err, "unknown colour \"pink\" (accepted: red, green, blue)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_span_whole_words_only),
		cmocka_unit_test(test_span_ignoring_case),
		cmocka_unit_test(test_span_in_no_list),
		cmocka_unit_test(test_parse_names_the_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
