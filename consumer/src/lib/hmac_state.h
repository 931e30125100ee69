/*
 * hmac_state.h: HMAC-SHA256 as plain data, for the per-value MACs of the
 * masking strategies.
 *
 * Design.  hmac.h keys an EVP_MAC context once and resets a per-thread
 * copy per value; OpenSSL's layers (EVP_MAC, the provider, EVP_MD_CTX
 * copies and frees, OPENSSL_cleanse) then cost ~3,300 instructions per
 * MAC on top of the two SHA-256 blocks a short value needs (~4,100 in
 * callgrind, docs/BENCHMARKS.md "Transform rules").  A trib_hmac_state
 * is the two keyed SHA-256 states themselves (the inner hash after
 * key ^ ipad, the outer after key ^ opad), a struct that is copied to
 * start a MAC:
 *
 *     trib_hmac_state key;                      -- once
 *     trib_hmac_state_init(&key, k, klen);
 *     trib_hmac_state_update(&key, prefix, n);  -- optional: a constant
 *                                               -- prefix absorbed once
 *     trib_hmac_state h = key;                  -- per value
 *     trib_hmac_state_update(&h, msg, n);
 *     trib_hmac_state_final(&h, mac);           -- also wipes h
 *
 * A keyed state is read-only once set up, so threads share it freely,
 * each MAC on its own stack copy; there is no cache and nothing to free
 * but the wipe (trib_hmac_state_clear).  The MAC is HMAC-SHA256 (RFC
 * 2104), byte for byte hmac.h's: test_hmac_state compares the two.
 *
 * trib_sha256 is plain SHA-256 on the same path, for hashing short
 * values one by one (the fakes' random stream, mask_fake.c), where
 * EVP_Digest's context set-up and teardown cost ~1,300 instructions
 * over the block itself.
 *
 * This uses OpenSSL's low-level SHA-256 (SHA256_Init/Update/Final),
 * deprecated in OpenSSL 3.0 but present unless OpenSSL is built with
 * no-deprecated; only hmac_state.c calls it (with the deprecation
 * warnings silenced there), so replacing it touches one file.
 */
#ifndef TRIB_HMAC_STATE_H
#define TRIB_HMAC_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#define TRIB_HMAC_STATE_LEN 32

typedef struct trib_hmac_state
{
	SHA256_CTX	inner;			/* SHA-256 after key ^ ipad (and a prefix) */
	SHA256_CTX	outer;			/* SHA-256 after key ^ opad */
} trib_hmac_state;

/* s keyed with key[0..keylen) (any length; longer than a block is hashed
 * first, as HMAC says). */
void		trib_hmac_state_init(trib_hmac_state *s, const void *key, size_t keylen);

/* Feed data[0..n). */
void		trib_hmac_state_update(trib_hmac_state *s, const void *data, size_t n);

/* Feed v as 4 (8) bytes, big-endian: the length prefixes of the formats. */
void		trib_hmac_state_update_be32(trib_hmac_state *s, uint32_t v);
void		trib_hmac_state_update_be64(trib_hmac_state *s, uint64_t v);

/* The MAC into mac; s is wiped (spent) afterwards. */
void		trib_hmac_state_final(trib_hmac_state *s, unsigned char mac[TRIB_HMAC_STATE_LEN]);

/* Wipe s (a keyed state before it is freed). */
void		trib_hmac_state_clear(trib_hmac_state *s);

/* SHA-256 of data[0..n) into md. */
void		trib_sha256(const void *data, size_t n, unsigned char md[32]);

#endif							/* TRIB_HMAC_STATE_H */
