/*
 * base64.h: strict base64 (RFC 4648) encoding and decoding of binary data,
 * for key material and the text forms of crypto outputs.
 *
 * Design.  These are text codecs, not cryptography, so they are written
 * here rather than borrowed from OpenSSL: EVP_DecodeBlock accepts
 * whitespace, silently counts padding into its length and knows nothing
 * of the URL-safe alphabet, and the callers (key parsing, Fernet tokens,
 * GCM blobs) need exact rules to reject malformed input from outside.
 *
 * Decoding is strict: only characters of the chosen alphabet, '=' only as
 * final padding, no whitespace, and the unused low bits of the last
 * character must be zero (one text form per byte string).
 *
 * Every function works on caller-provided buffers; the *_len helpers say
 * how large they must be.  Nothing allocates.
 */
#ifndef TRIB_BASE64_H
#define TRIB_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Which base64 alphabet: standard (+/), URL-safe (-_), or either one
 * (decoding only; one text may not mix them). */
typedef enum trib_b64_alphabet
{
	TRIB_B64_STD,
	TRIB_B64_URL,
	TRIB_B64_ANY
} trib_b64_alphabet;

/* Padding when decoding: must be present (length a multiple of 4), may be
 * left out, or must be absent. */
typedef enum trib_b64_padding
{
	TRIB_B64_PAD_REQUIRED,
	TRIB_B64_PAD_OPTIONAL,
	TRIB_B64_PAD_FORBIDDEN
} trib_b64_padding;

/* Characters base64 needs for n bytes (not counting the NUL). */
size_t		trib_b64_encoded_len(size_t n, bool pad);

/*
 * Base64 of in[0..n) into out (trib_b64_encoded_len(n, pad) + 1 bytes, NUL
 * terminated), URL-safe alphabet when url.  Returns the length written.
 */
size_t		trib_b64_encode(const unsigned char *in, size_t n, bool url, bool pad,
							char *out);

/* Upper bound of the bytes n base64 characters decode to. */
size_t		trib_b64_decoded_max(size_t n);

/*
 * Strictly decode base64 text in[0..n) into out (trib_b64_decoded_max(n)
 * bytes).  False on any character outside the alphabet, misplaced or
 * wrong padding, an impossible length, or non-zero trailing bits.
 */
bool		trib_b64_decode(const char *in, size_t n, trib_b64_alphabet alphabet,
							trib_b64_padding padding, unsigned char *out,
							size_t *outlen);

#endif							/* TRIB_BASE64_H */
