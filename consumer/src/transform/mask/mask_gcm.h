/*
 * mask_gcm.h: the `encrypt` strategy with AES-256-GCM: a value is
 * replaced by an authenticated ciphertext that only holders of the key
 * can turn back into the value (`decrypt`).
 *
 * Format (version 1; stable, other tools can decrypt it):
 *
 *     blob = 0x01 || nonce (12 bytes) || ciphertext (len(value)) || tag (16)
 *     aad  = 0x01 || context
 *     text = base64(blob)       standard alphabet, padded   (default)
 *          | base64url(blob)    URL-safe alphabet, no padding
 *
 * ciphertext and tag come from AES-256-GCM under the 32-byte key with the
 * random 96-bit nonce (RAND_bytes) and aad.  The context (the rule's
 * per-column context, e.g. "public.users.email") is bound into the tag
 * but not stored: a value moved to another column, or decrypted with the
 * wrong context, fails authentication.  In Python:
 *
 *     AESGCM(key).decrypt(blob[1:13], blob[13:], b"\x01" + context)
 *
 * Encryption is randomised: the same value encrypts differently each
 * time (no joins; use hash or tokenize for that).  With random nonces a
 * key should encrypt fewer than 2^32 values (NIST SP 800-38D 8.3);
 * rotate keys well before that.  The output is 4 * ceil((29 + n) / 3)
 * characters for an n-byte value (base64).
 *
 * Decrypting accepts either base64 alphabet, padded or not.  Every
 * failure after decoding (wrong key, wrong context, altered text) is the
 * same "authentication failed" error, by design.
 */
#ifndef TRIB_MASK_GCM_H
#define TRIB_MASK_GCM_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"

#define TRIB_GCM_VERSION 0x01
#define TRIB_GCM_KEY_LEN 32
#define TRIB_GCM_NONCE_LEN 12
#define TRIB_GCM_TAG_LEN 16
/* Version, nonce and tag around the ciphertext. */
#define TRIB_GCM_OVERHEAD (1 + TRIB_GCM_NONCE_LEN + TRIB_GCM_TAG_LEN)
/* The longest value accepted (OpenSSL's lengths are ints). */
#define TRIB_GCM_MAX_VALUE (1u << 30)

typedef struct trib_gcm trib_gcm;

/*
 * AES-256-GCM of pt[0..n) under key, nonce and aad[0..aadlen) into
 * ct[0..n) and tag.  The raw primitive the strategy uses (and the
 * known-answer tests check).  False when OpenSSL fails.
 */
bool		trib_gcm_seal(const unsigned char key[32],
						  const unsigned char nonce[12], const void *aad,
						  size_t aadlen, const void *pt, size_t n,
						  unsigned char *ct, unsigned char tag[16]);

/* The inverse; false when the tag does not verify (or OpenSSL fails). */
bool		trib_gcm_open(const unsigned char key[32],
						  const unsigned char nonce[12], const void *aad,
						  size_t aadlen, const unsigned char *ct, size_t n,
						  const unsigned char tag[16], unsigned char *pt);

/*
 * An encrypter for one column: key (32 bytes; copied), context[0..ctxlen)
 * (copied), url (base64url output instead of base64).  NULL with errbuf
 * on a bad key length.  Free with trib_gcm_free().
 */
trib_gcm   *trib_gcm_new(const trib_key *key, const void *context, size_t ctxlen,
						 bool url, char *errbuf, size_t errlen);

/*
 * Encrypt value[0..n) into a malloc'd NUL-terminated text the caller
 * frees.  False with errbuf when the value is too long or OpenSSL (or its
 * random generator) fails.
 */
bool		trib_gcm_encrypt(trib_gcm *g, const void *value, size_t n, char **out,
							 size_t *outlen, char *errbuf, size_t errlen);

/* The same with a caller-chosen nonce: for tests only (never reuse one). */
bool		trib_gcm_encrypt_nonce(trib_gcm *g, const unsigned char nonce[12],
								   const void *value, size_t n, char **out,
								   size_t *outlen, char *errbuf, size_t errlen);

/*
 * Decrypt text[0..len) into a malloc'd buffer the caller frees (NUL
 * appended, not counted in *outlen; the value may itself hold NULs).
 * False with errbuf when the text is not base64, too short, of an unknown
 * version, or does not authenticate.
 */
bool		trib_gcm_decrypt(trib_gcm *g, const char *text, size_t len,
							 unsigned char **out, size_t *outlen, char *errbuf,
							 size_t errlen);

void		trib_gcm_free(trib_gcm *g);

#endif							/* TRIB_MASK_GCM_H */
