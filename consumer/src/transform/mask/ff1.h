/*
 * ff1.h: FF1 format-preserving encryption (NIST SP 800-38G, with the
 * minimum-domain rule of the 2019 revision, SP 800-38G Rev. 1 draft) on
 * numeral strings, over AES-128/192/256.
 *
 * Design.  FF1 is a ten-round Feistel network whose round function is
 * AES in CBC-MAC form over (P || Q) followed by AES in counter-like
 * expansion; the numeral halves are added modulo radix^m as big integers.
 * OpenSSL supplies AES (EVP, ECB mode, one block at a time) and the big
 * integers (BIGNUM); this file implements only the mode, step for step
 * as the standard numbers them (comments cite Algorithm 7 / 8 steps).
 * Short values (radix^ceil(n/2) <= 2^32: up to 18 decimal digits) take
 * the same steps in 64-bit integers instead of BIGNUM, with the same
 * result.
 *
 * A numeral string is an array of values in [0, radix).  Mapping text to
 * numerals (alphabets, characters kept in place) is mask_tokenize.c's job.
 *
 * Limits: radix 2..65536; length n with radix^n >= 1,000,000 (the 2019
 * revision's minimum domain) and n <= TRIB_FF1_MAXLEN; tweak at most
 * TRIB_FF1_MAXTWEAK bytes.
 *
 * A trib_ff1 holds the AES key schedule and, for short values, the
 * constants of the last (length, tweak) it saw (see ff1.c); it is not
 * thread-safe.
 */
#ifndef TRIB_FF1_H
#define TRIB_FF1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRIB_FF1_MAXLEN 4096
#define TRIB_FF1_MAXTWEAK 256
#define TRIB_FF1_MIN_DOMAIN 1000000

typedef struct trib_ff1 trib_ff1;

/*
 * An FF1 instance for AES with key[0..keylen) (16, 24 or 32 bytes; the key
 * is copied into OpenSSL's context) and radix.  NULL with errbuf on a bad
 * key length, radix, or when OpenSSL fails.  Free with trib_ff1_free().
 */
trib_ff1   *trib_ff1_new(const unsigned char *key, size_t keylen, unsigned radix,
						 char *errbuf, size_t errlen);

/* The shortest length the 2019 revision allows for radix: the least n >= 2
 * with radix^n >= 1,000,000. */
size_t		trib_ff1_minlen(unsigned radix);

/*
 * Encrypt (decrypt) the n numerals in[0..n) under tweak[0..tweaklen) into
 * out[0..n) (may be the same array as in).  False with errbuf when n is
 * outside [minlen, TRIB_FF1_MAXLEN], a numeral is >= radix, the tweak is
 * too long, or OpenSSL fails.  Messages never include the numerals.
 */
bool		trib_ff1_encrypt(trib_ff1 *f, const unsigned char *tweak,
							 size_t tweaklen, const uint16_t *in, size_t n,
							 uint16_t *out, char *errbuf, size_t errlen);
bool		trib_ff1_decrypt(trib_ff1 *f, const unsigned char *tweak,
							 size_t tweaklen, const uint16_t *in, size_t n,
							 uint16_t *out, char *errbuf, size_t errlen);

void		trib_ff1_free(trib_ff1 *f);

/* Tests and benchmarks: on, every length takes the BIGNUM path (the
 * 64-bit path for short values must give the same numerals). */
void		trib_ff1_force_bignum(trib_ff1 *f, bool on);

#endif							/* TRIB_FF1_H */
