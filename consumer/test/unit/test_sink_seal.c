/*
 * test_sink_seal.c: the positions a sink stores for itself, sealed with
 * the pipeline's checkpoint key (sink_seal.h): a sealed position hides the
 * clear text and opens to it for the same pipeline and sink; without a key
 * nothing changes; a missing key, a wrong key, another sink's or
 * pipeline's sealed text, and a changed byte are errors naming the
 * pipeline, the sink and the store (and leave no position); a clear
 * position read with a key is used as it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "sink.h"
#include "sink_seal.h"
#include "xalloc.h"

#define KEY_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define PLAIN "{\"_data\":\"82\",\"_id\":{\"email\":\"alice@example.com\"}}"
#define STORE "table tributary_sink.positions"

/* A sink named name of pipeline p, sealing with hex (NULL: no key). */
static trib_sink
sink_of(const char *p, const char *name, const char *hex)
{
	trib_sink	s;
	char		err[256];

	memset(&s, 0, sizeof(s));
	s.pipeline = p;
	s.name = (char *) name;
	if (hex != NULL)
	{
		s.seal_key = trib_key_parse(hex, strlen(hex), TRIB_KEY_HEX, "test key", err, sizeof(err));
		assert_non_null(s.seal_key);
	}
	return s;
}

/* What sink stores for PLAIN (malloc'd). */
static char *
stored(const trib_sink *sink)
{
	char		err[256] = "";
	char	   *sealed = NULL;
	const char *text = NULL;

	assert_true(trib_sink_seal(sink, STORE, PLAIN, &sealed, &text, err, sizeof(err)));
	return sealed != NULL ? sealed : trib_xstrdup(text);
}

static void
a_sealed_position_hides_the_text_and_opens_for_its_sink(void **state)
{
	trib_sink	a = sink_of("p1", "pg", KEY_A);
	char	   *t = stored(&a);
	char		err[256] = "";

	(void) state;
	assert_null(strstr(t, "alice"));
	assert_null(strstr(t, "_data"));
	assert_non_null(strstr(t, "tributary_sealed"));
	assert_true(trib_sink_unseal(&a, STORE, &t, err, sizeof(err)));
	assert_string_equal(t, PLAIN);
	assert_false(a.seal_warned);
	free(t);
	trib_key_free(a.seal_key);
}

static void
without_a_key_nothing_changes(void **state)
{
	trib_sink	n = sink_of("p1", "pg", NULL);
	char		err[256] = "";
	char	   *sealed = (char *) 1;
	const char *text = NULL;
	char	   *t = trib_xstrdup(PLAIN);
	char	   *none = NULL;

	(void) state;
	assert_true(trib_sink_seal(&n, STORE, PLAIN, &sealed, &text, err, sizeof(err)));
	assert_null(sealed);
	assert_string_equal(text, PLAIN);
	assert_true(trib_sink_unseal(&n, STORE, &t, err, sizeof(err)));
	assert_string_equal(t, PLAIN);
	assert_true(trib_sink_unseal(&n, STORE, &none, err, sizeof(err)));
	assert_null(none);
	free(t);
}

/* Opening t (consumed) as sink fails, naming pipeline, sink and store. */
static void
fails_to_open(trib_sink *sink, char *t, const char *why)
{
	char		err[512] = "";

	assert_false(trib_sink_unseal(sink, STORE, &t, err, sizeof(err)));
	assert_null(t);
	assert_non_null(strstr(err, "pipeline p1, sink pg (" STORE ")"));
	assert_non_null(strstr(err, "not starting over"));
	assert_non_null(strstr(err, why));
	assert_null(strstr(err, "alice"));
}

static void
a_missing_or_wrong_key_another_sink_or_a_changed_byte_fail(void **state)
{
	trib_sink	a = sink_of("p1", "pg", KEY_A),
				b = sink_of("p1", "pg", KEY_B),
				n = sink_of("p1", "pg", NULL),
				other = sink_of("p1", "kafka", KEY_A),
				otherp = sink_of("p2", "pg", KEY_A);
	char	   *t = stored(&a);
	char	   *t2;
	char		err[512] = "";
	size_t		at;

	(void) state;
	fails_to_open(&n, trib_xstrdup(t), "set checkpoint.encryption_key");
	fails_to_open(&b, trib_xstrdup(t), "cannot be read");
	/* another sink or pipeline: the message names that one */
	t2 = trib_xstrdup(t);
	assert_false(trib_sink_unseal(&other, STORE, &t2, err, sizeof(err)));
	assert_non_null(strstr(err, "sink kafka"));
	t2 = trib_xstrdup(t);
	assert_false(trib_sink_unseal(&otherp, STORE, &t2, err, sizeof(err)));
	assert_non_null(strstr(err, "pipeline p2"));
	/* a changed byte of the data */
	t2 = trib_xstrdup(t);
	at = (size_t) (strstr(t2, "\"data\":\"") - t2) + 12;
	t2[at] = t2[at] == 'A' ? 'B' : 'A';
	fails_to_open(&a, t2, "cannot be read");
	free(t);
	trib_key_free(a.seal_key);
	trib_key_free(b.seal_key);
	trib_key_free(other.seal_key);
	trib_key_free(otherp.seal_key);
}

static void
a_clear_position_read_with_a_key_is_used_and_warned_once(void **state)
{
	trib_sink	a = sink_of("p1", "pg", KEY_A);
	char	   *t = trib_xstrdup(PLAIN);
	char		err[256] = "";

	(void) state;
	assert_true(trib_sink_unseal(&a, STORE, &t, err, sizeof(err)));
	assert_string_equal(t, PLAIN);
	assert_true(a.seal_warned);
	free(t);
	trib_key_free(a.seal_key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_sealed_position_hides_the_text_and_opens_for_its_sink),
		cmocka_unit_test(without_a_key_nothing_changes),
		cmocka_unit_test(a_missing_or_wrong_key_another_sink_or_a_changed_byte_fail),
		cmocka_unit_test(a_clear_position_read_with_a_key_is_used_and_warned_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
