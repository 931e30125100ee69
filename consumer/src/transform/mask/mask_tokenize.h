/*
 * mask_tokenize.h: the `tokenize` masking strategy: reversible,
 * format-preserving encryption of a value with FF1 (ff1.h), so that a
 * card number stays 16 digits in the same layout and a key that was
 * alphanumeric stays alphanumeric.
 *
 * Alphabets (the numeral of a character is its index in the string; this
 * order is part of the format, other FF1 implementations must use the
 * same one to interoperate):
 *
 *   digits       radix 10  "0123456789"
 *   alnum-lower  radix 36  "0123456789abcdefghijklmnopqrstuvwxyz"
 *   alnum-upper  radix 36  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
 *   alnum        radix 62  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
 *                          "abcdefghijklmnopqrstuvwxyz"
 *
 * The characters of the value that are in the alphabet are encrypted as
 * one numeral string; every other byte (separators such as '-' or ' ',
 * '@' and '.' of an e-mail, UTF-8 multibyte sequences) stays where it
 * is, unchanged, unless `strict` is set, which makes them an error.
 * Case is not folded: with alnum-lower, upper-case letters are "other"
 * characters and pass through in clear, so mixed-case data wants alnum.
 * The output has exactly the input's length and layout.
 *
 * Minimum length: the alphabet characters must number at least
 * radix^n >= 1,000,000 (SP 800-38G Rev. 1): 6 digits, 4 alnum-lower /
 * alnum-upper, 4 alnum.  Shorter values are an error (the caller decides
 * whether to pass them through, redact or drop them); a small domain
 * could be enumerated by anyone who can query the transform.
 *
 * Tweak: a per-column byte string (e.g. "payments.card_number"), at most
 * TRIB_FF1_MAXTWEAK bytes; the same value with a different tweak gives an
 * unrelated token.  Keys: AES-128/192/256 (16, 24 or 32 bytes).
 *
 * Tokenization is deterministic: the same (key, tweak, value) always
 * gives the same token, which keeps joins working but means equal values
 * are visibly equal.  A tokenizer is not thread-safe.
 */
#ifndef TRIB_MASK_TOKENIZE_H
#define TRIB_MASK_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"

typedef enum trib_mask_token_alphabet
{
	TRIB_ALPHA_DIGITS,
	TRIB_ALPHA_ALNUM_LOWER,
	TRIB_ALPHA_ALNUM_UPPER,
	TRIB_ALPHA_ALNUM
} trib_mask_token_alphabet;

typedef struct trib_mask_tokenizer trib_mask_tokenizer;

/* "digits", "alnum-lower", "alnum-upper", "alnum"; errbuf lists them. */
bool		trib_mask_tokenize_alphabet_parse(const char *name, trib_mask_token_alphabet *out,
											  char *errbuf, size_t errlen);

/* The alphabet's name, and its characters (the radix is their count). */
const char *trib_mask_tokenize_alphabet_name(trib_mask_token_alphabet alphabet);
const char *trib_mask_tokenize_alphabet_chars(trib_mask_token_alphabet alphabet);

/*
 * A tokenizer for one column: key (16/24/32 bytes; copied into OpenSSL's
 * context), alphabet, tweak[0..tweaklen) (copied), strict (characters
 * outside the alphabet are an error rather than kept in place).  NULL
 * with errbuf on a bad key length or tweak.  Free with
 * trib_mask_tokenize_free().
 */
trib_mask_tokenizer *trib_mask_tokenize_new(const trib_key *key,
											trib_mask_token_alphabet alphabet,
											const void *tweak, size_t tweaklen,
											bool strict, char *errbuf, size_t errlen);

/*
 * Tokenize (detokenize) in[0..len) into a malloc'd NUL-terminated string
 * of the same length that the caller frees.  False with errbuf (which
 * names counts and positions, never characters of the value) when the
 * value has too few or too many alphabet characters or, in strict mode,
 * a character outside the alphabet.  With errlen 0 (errbuf may be NULL)
 * no message is formatted: a caller that only needs to know that the
 * value could not be tokenized (too_short: redact) skips the snprintf.
 */
bool		trib_mask_tokenize(trib_mask_tokenizer *t, const char *in, size_t len,
							   char **out, char *errbuf, size_t errlen);
bool		trib_mask_tokenize_reverse(trib_mask_tokenizer *t, const char *in, size_t len,
									   char **out, char *errbuf, size_t errlen);

void		trib_mask_tokenize_free(trib_mask_tokenizer *t);

#endif							/* TRIB_MASK_TOKENIZE_H */
