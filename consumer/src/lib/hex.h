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

/* One more than the value of each byte as a hex digit (either case), 0
 * for a byte that is not one (hex.c). */
extern const unsigned char trib_hex_values1[256];

/* The value of hex digit c (either case), or -1.  Inline and a table
 * lookup: LSN parsing (core/lsn.c) calls it for every digit of an LSN in
 * every record; the six comparisons it replaces cost about 150
 * instructions per LSN. */
static inline int
trib_hex_digit(int c)
{
	return c >= 0 && c < 256 ? (int) trib_hex_values1[c] - 1 : -1;
}

/* True when in[0..n) is a non-empty, even-length string of hex digits. */
bool		trib_hex_valid(const char *in, size_t n);

#endif							/* TRIB_HEX_H */
