/*
 * xorshift.h: a small deterministic generator (xorshift64*) for unit tests
 * that draw many random inputs, so that a failure repeats run after run.
 * Not for anything secret.
 */
#ifndef TRIB_TEST_XORSHIFT_H
#define TRIB_TEST_XORSHIFT_H

#include <stdint.h>

/* The next 64 bits from *state (never 0). */
static inline uint64_t
xorshift_next(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1DULL;
}

#endif							/* TRIB_TEST_XORSHIFT_H */
