/*
 * mask_hash.h: the `hash` masking strategy: a keyed, deterministic,
 * one-way pseudonym of a value (HMAC-SHA256), domain-separated by a
 * per-column context.
 *
 * Design.  A plain or salted SHA-256 of an e-mail address or a phone
 * number is reversible by anyone who can enumerate the candidates (every
 * phone number of a country is ~10^10 hashes, minutes on a GPU), so the
 * strategy is only offered keyed: without the secret key nobody can test
 * a guess.  The same (key, context, value) always gives the same output,
 * so hashed columns still join and group; a different context gives an
 * unrelated output, so the same value in two unrelated columns cannot be
 * linked unless the rules give them the same context on purpose.
 *
 * Exact construction (stable; other tools can recompute it):
 *
 *     msg  = "tributary.hash.v1" || 0x00 || BE32(len(context)) || context
 *            || value
 *     mac  = HMAC-SHA256(key, msg)                       (32 bytes)
 *     text = hex (lowercase, 64 chars)
 *          | base64 (RFC 4648 standard alphabet, padded, 44 chars)
 *          | base64url (URL-safe alphabet, no padding, 43 chars)
 *     out  = the first max_chars characters of text (all when 0 or when
 *            max_chars is larger)
 *
 * context and value are byte strings (the value's text as the event
 * carries it); the length prefix makes (context, value) pairs
 * unambiguous.  Truncation shortens the pseudonym and so raises the
 * chance that two values collide: 16 hex characters (64 bits) make a
 * collision among a billion values unlikely (~3%); below that, expect
 * collisions in large tables.
 *
 * Keys: 16 to 1024 bytes (32 random bytes recommended), see keys.h.
 * A hasher is not thread-safe; use one per thread.
 */
#ifndef TRIB_MASK_HASH_H
#define TRIB_MASK_HASH_H

#include <stdbool.h>
#include <stddef.h>

#include "hmac.h"			/* trib_hmac_sha256, for the plain MAC */
#include "keys.h"

#define TRIB_MASK_HASH_KEY_MIN TRIB_HMAC_KEY_MIN
#define TRIB_MASK_HASH_KEY_MAX TRIB_HMAC_KEY_MAX
#define TRIB_MASK_HASH_CONTEXT_MAX 1024
/* The longest text (hex); outputs are at most this many chars + NUL. */
#define TRIB_MASK_HASH_TEXT_MAX 64

typedef enum trib_mask_hash_encoding
{
	TRIB_MASK_HASH_HEX,
	TRIB_MASK_HASH_BASE64,
	TRIB_MASK_HASH_BASE64URL
} trib_mask_hash_encoding;

typedef struct trib_mask_hash trib_mask_hash;

/* "hex", "base64", "base64url" to an encoding; errbuf lists them. */
bool		trib_mask_hash_encoding_parse(const char *name, trib_mask_hash_encoding *out,
										  char *errbuf, size_t errlen);

/*
 * A hasher for one column: key (copied; the caller keeps its own),
 * context (ctxlen bytes, copied), output encoding and truncation
 * (max_chars, 0 for none).  NULL with errbuf on a bad key length or an
 * over-long context.  Free with trib_mask_hash_free().
 */
trib_mask_hash *trib_mask_hash_new(const trib_key *key, const char *context,
								   size_t ctxlen, trib_mask_hash_encoding encoding,
								   size_t max_chars, char *errbuf, size_t errlen);

/*
 * The pseudonym of value[0..len): a malloc'd NUL-terminated string the
 * caller frees, its length in *outlen.  False (errbuf) only when OpenSSL
 * fails.
 */
bool		trib_mask_hash_apply(trib_mask_hash *h, const void *value, size_t len,
								 char **out, size_t *outlen, char *errbuf,
								 size_t errlen);

void		trib_mask_hash_free(trib_mask_hash *h);

#endif							/* TRIB_MASK_HASH_H */
