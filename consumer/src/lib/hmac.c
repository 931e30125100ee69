/*
 * hmac.c: HMAC-SHA256 through OpenSSL's EVP_MAC (see hmac.h).
 */
#include "hmac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

trib_hmac *
trib_hmac_new(const void *key, size_t keylen)
{
	EVP_MAC    *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM	params[2];

	EVP_MAC_free(mac);			/* the context holds its own reference */
	if (ctx == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
												 (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, keylen, params))
	{
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

trib_hmac *
trib_hmac_dup(const trib_hmac *h)
{
	return EVP_MAC_CTX_dup(h);
}

bool
trib_hmac_update(trib_hmac *h, const void *data, size_t n)
{
	return n == 0 || EVP_MAC_update(h, data, n);
}

bool
trib_hmac_update_be32(trib_hmac *h, uint32_t v)
{
	unsigned char be[4] = {
		(unsigned char) (v >> 24), (unsigned char) (v >> 16),
		(unsigned char) (v >> 8), (unsigned char) v
	};

	return EVP_MAC_update(h, be, sizeof(be));
}

bool
trib_hmac_update_be64(trib_hmac *h, uint64_t v)
{
	unsigned char be[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		be[i] = (unsigned char) v;
	return EVP_MAC_update(h, be, sizeof(be));
}

bool
trib_hmac_final(trib_hmac *h, unsigned char mac[TRIB_HMAC_LEN])
{
	size_t		n = 0;

	return EVP_MAC_final(h, mac, &n, TRIB_HMAC_LEN) && n == TRIB_HMAC_LEN;
}

void
trib_hmac_free(trib_hmac *h)
{
	EVP_MAC_CTX_free(h);
}

bool
trib_hmac_sha256(const unsigned char *key, size_t keylen, const void *data,
				 size_t n, unsigned char mac[TRIB_HMAC_LEN])
{
	trib_hmac  *h = trib_hmac_new(key, keylen);
	bool		ok = h != NULL && trib_hmac_update(h, data, n) && trib_hmac_final(h, mac);

	trib_hmac_free(h);
	return ok;
}
