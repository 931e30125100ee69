/*
 * hex.h: strict hex encoding and decoding of binary data (key material,
 * crypto outputs, LSNs).
 *
 * Decoding accepts either case and nothing else; encoding writes lower
 * case.  Every function works on caller-provided buffers.
 */
#ifndef TRIB_HEX_H
#define TRIB_HEX_H

#include <stdbool.h>
#include <stddef.h>

/* Lowercase hex of in[0..n) into out (2n chars and a NUL); returns 2n. */
size_t		trib_hex_encode(const unsigned char *in, size_t n, char *out);

/*
 * Decode n hex digits (either case) into out (n/2 bytes).  False when n is
 * odd or a character is not a hex digit.
 */
bool		trib_hex_decode(const char *in, size_t n, unsigned char *out,
							size_t *outlen);

/* The value of hex digit c (either case), or -1.  Inline: LSN parsing
 * (core/lsn.c) calls it for every digit of two or three LSNs a record. */
static inline int
trib_hex_digit(int c)
{
	/* a digit's value plus one, 0 for any other byte: one load per
	 * digit, not three range tests */
	static const unsigned char val1[256] = {
		['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
		['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
		['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
		['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
	};

	if ((unsigned) c > 255)
		return -1;
	return (int) val1[c] - 1;
}

/* True when in[0..n) is a non-empty, even-length string of hex digits. */
bool		trib_hex_valid(const char *in, size_t n);

#endif							/* TRIB_HEX_H */
