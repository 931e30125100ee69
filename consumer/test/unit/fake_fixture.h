/*
 * fake_fixture.h: the shipped fake-value dictionaries (data/fake) for the
 * unit tests of the substitute strategy, as a cmocka group setup and
 * teardown that load them into test_dicts.
 */
#ifndef TRIB_TEST_FAKE_FIXTURE_H
#define TRIB_TEST_FAKE_FIXTURE_H

#include "mask_fake.h"

extern trib_fake_dicts *test_dicts;

int			test_dicts_setup(void **state);
int			test_dicts_teardown(void **state);

#endif							/* TRIB_TEST_FAKE_FIXTURE_H */
