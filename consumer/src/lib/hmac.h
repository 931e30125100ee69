/*
 * hmac.h: HMAC-SHA256, keyed once and used per value.
 *
 * Design.  Every keyed, deterministic value the daemon derives (the hash
 * strategy's pseudonyms, the keyed fakes and noise of the masking
 * strategies, the sample's choice, Fernet's MAC) is HMAC-SHA256 through
 * OpenSSL's EVP_MAC.  A context is keyed once (the key schedule costs
 * several times the MAC of a short value), and each value works on a
 * duplicate of it:
 *
 *     trib_hmac *base = trib_hmac_new(key, keylen);      -- once
 *     trib_hmac *h = trib_hmac_dup(base);                -- per value
 *     trib_hmac_update(h, msg, n) && trib_hmac_final(h, mac);
 *     trib_hmac_free(h);
 *
 * The message formats (what is fed, in which order) belong to the
 * callers and are fixed, since they fix the outputs; docs/MASKING.md
 * lists them side by side.
 *
 * trib_hmac is OpenSSL's EVP_MAC_CTX (no extra allocation per value).  A
 * context is not thread-safe; duplicates are independent.
 */
#ifndef TRIB_HMAC_H
#define TRIB_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct evp_mac_ctx_st trib_hmac;

#define TRIB_HMAC_LEN 32

/* The bytes a pseudonym key may have (the hash strategy's key, the
 * erasure audit log's subject key): at least 16, at most 1024. */
#define TRIB_HMAC_KEY_MIN 16
#define TRIB_HMAC_KEY_MAX 1024

/* A context keyed with key[0..keylen); NULL when OpenSSL fails. */
trib_hmac  *trib_hmac_new(const void *key, size_t keylen);

/* A copy that goes on from h's state; NULL when OpenSSL fails. */
trib_hmac  *trib_hmac_dup(const trib_hmac *h);

/* Feed data[0..n); false when OpenSSL fails. */
bool		trib_hmac_update(trib_hmac *h, const void *data, size_t n);

/* Feed v as 4 (8) bytes, big-endian: the length prefixes of the formats. */
bool		trib_hmac_update_be32(trib_hmac *h, uint32_t v);
bool		trib_hmac_update_be64(trib_hmac *h, uint64_t v);

/* The MAC into mac; h is spent afterwards (free it). */
bool		trib_hmac_final(trib_hmac *h, unsigned char mac[TRIB_HMAC_LEN]);

/* NULL is allowed. */
void		trib_hmac_free(trib_hmac *h);

/* HMAC-SHA256 of data[0..n) under key[0..keylen) in one call. */
bool		trib_hmac_sha256(const unsigned char *key, size_t keylen,
							 const void *data, size_t n,
							 unsigned char mac[TRIB_HMAC_LEN]);

#endif							/* TRIB_HMAC_H */
