/*
 * seal.h: authenticated encryption of short texts at rest (the positions a
 * checkpoint store keeps), with AES-256-GCM through OpenSSL's EVP.
 *
 * Design.  A sealed text is itself a JSON object, so that it fits every
 * place that holds a position (the file store's "position" member, the
 * catalog's jsonb column):
 *
 *     {"tributary_sealed":1,"alg":"AES-256-GCM","data":"BASE64"}
 *
 * tributary_sealed  the version of this form; a text without the member is
 *                   not sealed (a position written before sealing was
 *                   turned on), one with another value is refused
 * data              standard base64 (padded) of nonce (12 random bytes) ||
 *                   ciphertext || tag (16 bytes)
 *
 * The caller's associated data (`aad`) is authenticated with it and not
 * stored: the checkpoint store binds a position to its pipeline and source
 * that way, so a sealed position copied to another pipeline's row does not
 * open.  A wrong key, a changed byte anywhere, or other associated data
 * all fail the tag check, reported as one error (GCM cannot tell them
 * apart).  Messages never hold key material nor the plain text.
 *
 * Ownership: returned strings are malloc'd and the caller frees them.
 */
#ifndef TRIB_SEAL_H
#define TRIB_SEAL_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"

/* The key length sealing needs (AES-256). */
#define TRIB_SEAL_KEY_LEN 32

/* The largest plain text trib_seal takes (a position is a few KB at most);
 * sealed, it is a third longer (base64) and ~100 bytes more. */
#define TRIB_SEAL_MAX_PLAIN (1024 * 1024)

/* The version written by trib_seal. */
#define TRIB_SEAL_VERSION 1

/*
 * Seal `plain` under key (TRIB_SEAL_KEY_LEN bytes) with aad[0..aadlen):
 * the sealed object's text, or NULL with errbuf filled (a key of another
 * length, an OpenSSL failure).
 */
char	   *trib_seal(const trib_key *key, const unsigned char *aad, size_t aadlen,
					  const char *plain, char *errbuf, size_t errlen);

/* Is text a JSON object with a "tributary_sealed" member? */
bool		trib_seal_is_sealed(const char *text);

/*
 * Open a sealed text: 1 and *out the plain text; 0 when text is not sealed
 * (*out NULL: the caller uses text as it is); -1 with errbuf when it is
 * sealed but does not open: no key given (key NULL), an unknown version or
 * algorithm, malformed, or the tag check failed (wrong key, or altered).
 */
int			trib_unseal(const trib_key *key, const unsigned char *aad, size_t aadlen,
						const char *text, char **out, char *errbuf, size_t errlen);

#endif							/* TRIB_SEAL_H */
