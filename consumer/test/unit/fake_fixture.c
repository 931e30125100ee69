/*
 * fake_fixture.c: loads data/fake for the tests (see fake_fixture.h); a
 * helper linked into every test binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_fixture.h"

trib_fake_dicts *test_dicts;

int
test_dicts_setup(void **state)
{
	char		err[512];

	(void) state;
	test_dicts = trib_fake_dicts_load(TRIB_TOP_SRCDIR "/data/fake", err, sizeof(err));
	if (test_dicts == NULL)
		fail_msg("dictionaries: %s", err);
	return 0;
}

int
test_dicts_teardown(void **state)
{
	(void) state;
	trib_fake_dicts_free(test_dicts);
	test_dicts = NULL;
	return 0;
}
