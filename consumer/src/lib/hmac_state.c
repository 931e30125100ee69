/*
 * hmac_state.c: HMAC-SHA256 on copied SHA-256 states (see hmac_state.h).
 *
 * init pads the key to a block (hashing it first when longer), absorbs
 * key ^ 0x36.. into the inner state and key ^ 0x5c.. into the outer one,
 * and wipes the padded key; final finishes the inner hash and feeds its
 * 32 bytes to (its own copy of) the outer state.  SHA256_Update and
 * SHA256_Final cannot fail on a valid state, so nothing here returns an
 * error.
 */
#define OPENSSL_SUPPRESS_DEPRECATED	/* the low-level SHA-256, see the header */

#include "hmac_state.h"

#include <string.h>

#include <openssl/crypto.h>

#define HMAC_BLOCK 64			/* SHA-256's block */

/* state = SHA-256 initialised, then fed block ^ pad. */
static void
keyed(SHA256_CTX *state, const unsigned char block[HMAC_BLOCK], unsigned char pad)
{
	unsigned char x[HMAC_BLOCK];

	for (int i = 0; i < HMAC_BLOCK; i++)
		x[i] = block[i] ^ pad;
	SHA256_Init(state);
	SHA256_Update(state, x, sizeof(x));
	OPENSSL_cleanse(x, sizeof(x));
}

void
trib_hmac_state_init(trib_hmac_state *s, const void *key, size_t keylen)
{
	unsigned char block[HMAC_BLOCK] = {0};

	if (keylen > HMAC_BLOCK)
		trib_sha256(key, keylen, block);
	else if (keylen > 0)
		memcpy(block, key, keylen);
	keyed(&s->inner, block, 0x36);
	keyed(&s->outer, block, 0x5c);
	OPENSSL_cleanse(block, sizeof(block));
}

void
trib_hmac_state_update(trib_hmac_state *s, const void *data, size_t n)
{
	if (n > 0)
		SHA256_Update(&s->inner, data, n);
}

void
trib_hmac_state_update_be32(trib_hmac_state *s, uint32_t v)
{
	unsigned char be[4] = {
		(unsigned char) (v >> 24), (unsigned char) (v >> 16),
		(unsigned char) (v >> 8), (unsigned char) v
	};

	SHA256_Update(&s->inner, be, sizeof(be));
}

void
trib_hmac_state_update_be64(trib_hmac_state *s, uint64_t v)
{
	unsigned char be[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		be[i] = (unsigned char) v;
	SHA256_Update(&s->inner, be, sizeof(be));
}

void
trib_hmac_state_final(trib_hmac_state *s, unsigned char mac[TRIB_HMAC_STATE_LEN])
{
	unsigned char inner[TRIB_HMAC_STATE_LEN];

	SHA256_Final(inner, &s->inner);
	SHA256_Update(&s->outer, inner, sizeof(inner));
	SHA256_Final(mac, &s->outer);
	OPENSSL_cleanse(inner, sizeof(inner));
	trib_hmac_state_clear(s);
}

void
trib_hmac_state_clear(trib_hmac_state *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

void
trib_sha256(const void *data, size_t n, unsigned char md[32])
{
	SHA256_CTX	c;

	SHA256_Init(&c);
	SHA256_Update(&c, data, n);
	SHA256_Final(md, &c);
	OPENSSL_cleanse(&c, sizeof(c));
}
