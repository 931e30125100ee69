/*
 * decimal.h: exact decimal numbers from JSON number text.
 *
 * Design.  Row images keep every digit a database wrote (numeric(38,10),
 * bigint beyond 2^53), and masking must not lose them silently.  A JSON
 * number is parsed into sign, significant digits and a power of ten, which
 * is enough to compare two numbers exactly, to give equal numbers one
 * canonical text ("1.50" and "1.5e0" are the same member of a set), and to
 * move to OpenSSL BIGNUM for exact arithmetic at a fixed scale.  No
 * floating point is involved unless a caller asks for a double.
 *
 * Ownership: a trib_dec owns its digit string; trib_dec_free() releases it.
 */
#ifndef TRIB_DECIMAL_H
#define TRIB_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>

#include "strbuf.h"

typedef struct trib_dec
{
	bool		neg;			/* false for zero */
	char	   *digits;			/* significant digits, no leading or trailing
								 * zeros; "0" for zero */
	int64_t		exp10;			/* value = digits x 10^exp10 */
	int			scale;			/* fraction digits as written ("12.50" -> 2;
								 * 0 for integers; with an exponent, the
								 * scale the value needs, at least 0) */
	bool		has_exp;		/* the text used e/E notation */
} trib_dec;

/*
 * Parse one JSON number (RFC 8259 grammar; leading/trailing blanks are not
 * allowed) of len bytes.  Returns false for anything else.  On success the
 * caller frees *d with trib_dec_free().
 */
bool		trib_dec_parse(const char *s, size_t len, trib_dec *d);

void		trib_dec_free(trib_dec *d);

/* -1, 0, 1 as a <, =, > b, exactly. */
int			trib_dec_cmp(const trib_dec *a, const trib_dec *b);

/* Append a canonical text, equal for equal numbers ("-15e-1"). */
void		trib_dec_canonical(const trib_dec *d, trib_strbuf *out);

/*
 * The value in units of 10^-scale (scale >= 0), rounded half away from
 * zero, into bn.  Returns false (errbuf filled) when the value would need
 * more than 100000 digits.
 */
bool		trib_dec_to_bn(const trib_dec *d, int scale, BIGNUM *bn,
						   char *errbuf, size_t errlen);

/*
 * The value in units of 10^-scale into *out when that is exact and has at
 * most 18 digits (so sums of two such values cannot overflow); false
 * otherwise (use trib_dec_to_bn).  When true, *out equals what
 * trib_dec_to_bn gives.
 */
bool		trib_dec_to_i64(const trib_dec *d, int scale, int64_t *out);

/* Append bn (units of 10^-scale) as plain decimal text: "-12.50". */
void		trib_dec_format_bn(const BIGNUM *bn, int scale, trib_strbuf *out);

/* The same for an int64_t; the same text as trib_dec_format_bn for the
 * same value. */
void		trib_dec_format_i64(int64_t v, int scale, trib_strbuf *out);

/* The nearest double (may be +-inf or lose digits). */
double		trib_dec_to_double(const trib_dec *d);

#endif							/* TRIB_DECIMAL_H */
