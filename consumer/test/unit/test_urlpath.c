/*
 * test_urlpath.c: percent-decoding in two steps (lib/urlpath.c): the
 * path step decodes every escape but %2F and %25, the segment step those
 * two, so each escape is decoded exactly once and an encoded '/' stays
 * inside its segment; invalid escapes are kept, and so is %00, which
 * would cut the path short.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "urlpath.h"

/* The path step, then the segment step, of in. */
static void
two_steps(const char *in, const char *want_path, const char *want_segment)
{
	char		buf[128];
	size_t		n;

	strcpy(buf, in);
	n = trib_url_unescape_path(buf);
	assert_string_equal(buf, want_path);
	assert_int_equal(n, strlen(want_path));
	trib_url_unescape_segment(buf);
	assert_string_equal(buf, want_segment);
}

static void
slash_and_percent_wait_for_the_segment_step(void **state)
{
	(void) state;
	two_steps("/subjects/a%2Fb%20c/versions", "/subjects/a%2Fb c/versions",
			  "/subjects/a/b c/versions");
	two_steps("a%2fb%3F%23", "a%2fb?#", "a/b?#");
	two_steps("a%25b", "a%25b", "a%b");
}

static void
each_escape_is_decoded_once(void **state)
{
	(void) state;
	/* "%252F" is the three characters %2F, not a slash */
	two_steps("a%252Fb", "a%252Fb", "a%2Fb");
	two_steps("%2541", "%2541", "%41");
}

static void
invalid_escapes_are_kept(void **state)
{
	(void) state;
	two_steps("100%", "100%", "100%");
	two_steps("%zz%2", "%zz%2", "%zz%2");
	two_steps("%%41", "%A", "%A");
	two_steps("+", "+", "+");
}

/* A NUL would end the path early: /subjects/a%00b/versions must not be
 * served as /subjects/a. */
static void
nul_is_never_decoded(void **state)
{
	(void) state;
	two_steps("/subjects/a%00b/versions", "/subjects/a%00b/versions",
			  "/subjects/a%00b/versions");
	two_steps("/api/v1/sources/main%2500/pause", "/api/v1/sources/main%2500/pause",
			  "/api/v1/sources/main%00/pause");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slash_and_percent_wait_for_the_segment_step),
		cmocka_unit_test(each_escape_is_decoded_once),
		cmocka_unit_test(invalid_escapes_are_kept),
		cmocka_unit_test(nul_is_never_decoded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
