/*
 * u64text.h: the decimal digits of an unsigned 64-bit integer, written
 * backwards from the end of a caller's buffer.
 *
 * Design.  Two digits per division by 100, taken from a table of the
 * pairs "00" to "99", halve the divisions (each a multiply and a shift)
 * of the one-digit loop; the hot encoders (the envelope's numbers, the
 * Debezium temporal values) write one or more such numbers per event.
 * Header only, so that the loop inlines into its callers.
 */
#ifndef TRIB_U64TEXT_H
#define TRIB_U64TEXT_H

#include <stdint.h>
#include <string.h>

/* The most digits a uint64_t has. */
#define TRIB_U64_DIGITS 20

/* Write v's decimal digits so that they end just before `end`; returns
 * where they start (at most TRIB_U64_DIGITS bytes before end). */
static inline char *
trib_u64_digits(char *end, uint64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char	   *p = end;

	while (v >= 100)
	{
		unsigned	r = (unsigned) (v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * r, 2);
	}
	if (v >= 10)
	{
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	}
	else
		*--p = (char) ('0' + v);
	return p;
}

#endif							/* TRIB_U64TEXT_H */
