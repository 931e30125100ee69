/*
 * mask_fernet.h: the `encrypt` strategy with Fernet tokens, readable by
 * Python's cryptography.fernet.Fernet (and every other implementation of
 * the Fernet spec, github.com/fernet/spec, version 0x80).
 *
 * Key: 32 bytes, conventionally written as URL-safe base64 (what
 * Fernet.generate_key() prints); keys.h's auto format reads that.  The
 * first 16 bytes sign (HMAC-SHA256), the last 16 encrypt (AES-128-CBC).
 *
 * Token: base64url, padded, of
 *
 *     0x80 || timestamp (64-bit big-endian seconds since 1970) ||
 *     IV (16 random bytes) || AES-128-CBC(PKCS#7(value)) ||
 *     HMAC-SHA256(signing key, everything before)
 *
 * so an n-byte value becomes 4 * ceil((73 + 16 * floor(n / 16)) / 3)
 * characters.  Decryption checks, in this order: base64url, length and
 * block alignment, version, HMAC (constant-time, CRYPTO_memcmp), then,
 * when a TTL is given, that the token is not older than the TTL and not
 * more than 60 seconds in the future (as cryptography does), then the
 * padding.  Like GCM, Fernet is randomised (no joins) and its timestamp
 * is visible to anyone holding the token (not secret).
 */
#ifndef TRIB_MASK_FERNET_H
#define TRIB_MASK_FERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define TRIB_FERNET_VERSION 0x80
#define TRIB_FERNET_KEY_LEN 32
#define TRIB_FERNET_MAX_CLOCK_SKEW 60
/* The longest value accepted. */
#define TRIB_FERNET_MAX_VALUE (1u << 30)

typedef struct trib_fernet trib_fernet;

/* A Fernet instance for key (32 bytes; copied).  NULL with errbuf on a
 * bad key length.  Free with trib_fernet_free(). */
trib_fernet *trib_fernet_new(const trib_key *key, char *errbuf, size_t errlen);

/*
 * A token for value[0..n) stamped `now` (seconds since 1970; the caller
 * passes time(NULL)), with a random IV: a malloc'd NUL-terminated string
 * the caller frees.  False with errbuf when the value is too long or
 * OpenSSL fails.
 */
bool		trib_fernet_encrypt(trib_fernet *f, const void *value, size_t n,
								int64_t now, char **out, size_t *outlen,
								char *errbuf, size_t errlen);

/* The same with a caller-chosen IV: for tests only. */
bool		trib_fernet_encrypt_iv(trib_fernet *f, const void *value, size_t n,
								   int64_t now, const unsigned char iv[16],
								   char **out, size_t *outlen, char *errbuf,
								   size_t errlen);

/*
 * The value in token[0..len), checked at time `now`; ttl > 0 rejects
 * tokens older than ttl seconds (and more than 60 s in the future), ttl
 * <= 0 accepts any age.  The value is malloc'd with a NUL appended (not
 * counted in *outlen); the caller frees it.  False with errbuf saying
 * which check failed.
 */
bool		trib_fernet_decrypt(trib_fernet *f, const char *token, size_t len,
								int64_t ttl, int64_t now, unsigned char **out,
								size_t *outlen, char *errbuf, size_t errlen);

void		trib_fernet_free(trib_fernet *f);

#endif							/* TRIB_MASK_FERNET_H */
