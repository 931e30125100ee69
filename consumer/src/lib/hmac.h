/*
 * hmac.h: HMAC-SHA256, keyed once and used per value.
 *
 * Design.  Every keyed, deterministic value the daemon derives (the hash
 * strategy's pseudonyms, the keyed fakes and noise of the masking
 * strategies, the sample's choice, Fernet's MAC) is HMAC-SHA256, built on
 * OpenSSL's SHA-256 (hmac.c).  A key is set up once (the padded key's two
 * SHA-256 states), and each value is computed on a working context that
 * starts from the keyed state:
 *
 *     trib_hmac *key = trib_hmac_new(k, klen);            -- once
 *     trib_hmac_ctx *h = trib_hmac_start(key);            -- per value
 *     trib_hmac_update(h, msg, n) && trib_hmac_final(h, mac);
 *
 * The working contexts are cached per thread (hmac.c): a trib_hmac is
 * read-only after trib_hmac_new, so several threads may use one at once,
 * each on its own working context.  A thread's working context of a key is
 * kept and set back to the key's inner state per value (a copy of that
 * state) instead of allocated and freed per value; the
 * duplicate + free was ~15% of five masking rules' instructions, and
 * EVP_MAC's reset ~40 ns per MAC more than the copy (docs/BENCHMARKS.md).
 * A context from trib_hmac_start is valid until
 * trib_hmac_final or the thread's next trib_hmac_start: do not interleave
 * two MACs on one thread (no caller does; each is straight-line code).
 *
 * The message formats (what is fed, in which order) belong to the
 * callers and are fixed, since they fix the outputs; docs/MASKING.md
 * lists them side by side.
 */
#ifndef TRIB_HMAC_H
#define TRIB_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key set up once; read-only afterwards. */
typedef struct trib_hmac trib_hmac;

/* A working context, owned by the thread's cache (hmac.c). */
typedef struct trib_hmac_ctx trib_hmac_ctx;

#define TRIB_HMAC_LEN 32

/* The bytes a pseudonym key may have (the hash strategy's key, the
 * erasure audit log's subject key): at least 16, at most 1024. */
#define TRIB_HMAC_KEY_MIN 16
#define TRIB_HMAC_KEY_MAX 1024

/* A key[0..keylen) set up for HMAC-SHA256; NULL when OpenSSL fails. */
trib_hmac  *trib_hmac_new(const void *key, size_t keylen);

/* A working context in the keyed state (see above); NULL when OpenSSL
 * fails.  Not freed by the caller. */
trib_hmac_ctx *trib_hmac_start(const trib_hmac *key);

/* Feed data[0..n); false when OpenSSL fails. */
bool		trib_hmac_update(trib_hmac_ctx *h, const void *data, size_t n);

/* Feed v as 4 (8) bytes, big-endian: the length prefixes of the formats. */
bool		trib_hmac_update_be32(trib_hmac_ctx *h, uint32_t v);
bool		trib_hmac_update_be64(trib_hmac_ctx *h, uint64_t v);

/* The MAC into mac; h is spent afterwards. */
bool		trib_hmac_final(trib_hmac_ctx *h, unsigned char mac[TRIB_HMAC_LEN]);

/* NULL is allowed.  Also drops the calling thread's working context of
 * key; other threads' go when evicted or when the thread exits. */
void		trib_hmac_free(trib_hmac *key);

/* HMAC-SHA256 of data[0..n) under key[0..keylen) in one call. */
bool		trib_hmac_sha256(const unsigned char *key, size_t keylen,
							 const void *data, size_t n,
							 unsigned char mac[TRIB_HMAC_LEN]);

#endif							/* TRIB_HMAC_H */
