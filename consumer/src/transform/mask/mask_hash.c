/*
 * mask_hash.c: the keyed `hash` strategy (see mask_hash.h for the exact
 * construction).
 *
 * The hasher keeps an EVP_MAC_CTX that has already absorbed the key and
 * the constant prefix (label, context length, context).  Each value
 * duplicates that context, feeds the value and finalises, so the key
 * schedule and the prefix are paid for once per column, not per value.
 */
#include "mask_hash.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "strbuf.h"
#include "textcodec.h"

#define HASH_LABEL "tributary.hash.v1"

struct trib_hasher
{
	EVP_MAC_CTX *base;			/* key + prefix absorbed */
	trib_hash_encoding encoding;
	size_t		max_chars;
};

static const char *const encoding_names[] = {
	[TRIB_HASH_HEX] = "hex",
	[TRIB_HASH_BASE64] = "base64",
	[TRIB_HASH_BASE64URL] = "base64url",
};

bool
trib_hash_encoding_parse(const char *name, trib_hash_encoding *out, char *errbuf,
						 size_t errlen)
{
	for (size_t i = 0; i < sizeof(encoding_names) / sizeof(encoding_names[0]); i++)
		if (strcmp(name, encoding_names[i]) == 0)
		{
			*out = (trib_hash_encoding) i;
			return true;
		}
	snprintf(errbuf, errlen, "unknown hash encoding \"%s\" (accepted: hex, base64, "
			 "base64url)", name);
	return false;
}

/* A fresh HMAC-SHA256 context keyed with key[0..keylen), or NULL. */
static EVP_MAC_CTX *
hmac_ctx_new(const unsigned char *key, size_t keylen)
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

/* Finish ctx into mac (32 bytes). */
static bool
hmac_final(EVP_MAC_CTX *ctx, unsigned char mac[32])
{
	size_t		n = 0;

	return EVP_MAC_final(ctx, mac, &n, 32) && n == 32;
}

bool
trib_hmac_sha256(const unsigned char *key, size_t keylen, const void *data,
				 size_t n, unsigned char mac[32])
{
	EVP_MAC_CTX *ctx = hmac_ctx_new(key, keylen);
	bool		ok;

	if (ctx == NULL)
		return false;
	ok = EVP_MAC_update(ctx, data, n) && hmac_final(ctx, mac);
	EVP_MAC_CTX_free(ctx);
	return ok;
}

/* Feed the label, the context's length (big-endian 32 bits) and context. */
static bool
absorb_prefix(EVP_MAC_CTX *ctx, const char *context, size_t ctxlen)
{
	static const char label[] = HASH_LABEL;
	unsigned char be[4] = {
		(unsigned char) (ctxlen >> 24), (unsigned char) (ctxlen >> 16),
		(unsigned char) (ctxlen >> 8), (unsigned char) ctxlen
	};

	/* sizeof(label) includes the NUL: the 0x00 separator */
	return EVP_MAC_update(ctx, (const unsigned char *) label, sizeof(label)) &&
		EVP_MAC_update(ctx, be, 4) &&
		(ctxlen == 0 || EVP_MAC_update(ctx, (const unsigned char *) context, ctxlen));
}

trib_hasher *
trib_hasher_new(const trib_key *key, const char *context, size_t ctxlen,
				trib_hash_encoding encoding, size_t max_chars, char *errbuf,
				size_t errlen)
{
	trib_hasher *h;

	if (!trib_key_require_range(key, TRIB_HASH_KEY_MIN, TRIB_HASH_KEY_MAX,
								"hash (HMAC-SHA256)", errbuf, errlen))
		return NULL;
	if (ctxlen > TRIB_HASH_CONTEXT_MAX)
	{
		snprintf(errbuf, errlen, "hash context is %zu bytes; at most %d are accepted",
				 ctxlen, TRIB_HASH_CONTEXT_MAX);
		return NULL;
	}
	h = trib_xcalloc(1, sizeof(*h));
	h->encoding = encoding;
	h->max_chars = max_chars;
	h->base = hmac_ctx_new(key->bytes, key->len);
	if (h->base == NULL || !absorb_prefix(h->base, context, ctxlen))
	{
		snprintf(errbuf, errlen, "hash: OpenSSL could not set up HMAC-SHA256");
		trib_hasher_free(h);
		return NULL;
	}
	return h;
}

/* mac as text in the hasher's encoding, truncated; returns the length. */
static size_t
encode_mac(const trib_hasher *h, const unsigned char mac[32],
		   char out[TRIB_HASH_TEXT_MAX + 1])
{
	size_t		n;

	if (h->encoding == TRIB_HASH_HEX)
		n = trib_hex_encode(mac, 32, out);
	else
		n = trib_b64_encode(mac, 32, h->encoding == TRIB_HASH_BASE64URL,
							h->encoding == TRIB_HASH_BASE64, out);
	if (h->max_chars > 0 && h->max_chars < n)
	{
		n = h->max_chars;
		out[n] = '\0';
	}
	return n;
}

bool
trib_hasher_apply(trib_hasher *h, const void *value, size_t len, char **out,
				  size_t *outlen, char *errbuf, size_t errlen)
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(h->base);
	unsigned char mac[32];
	char		text[TRIB_HASH_TEXT_MAX + 1];
	bool		ok;

	ok = ctx != NULL && (len == 0 || EVP_MAC_update(ctx, value, len)) &&
		hmac_final(ctx, mac);
	EVP_MAC_CTX_free(ctx);
	if (!ok)
	{
		snprintf(errbuf, errlen, "hash: OpenSSL HMAC-SHA256 failed");
		return false;
	}
	*outlen = encode_mac(h, mac, text);
	*out = trib_xstrndup(text, *outlen);
	OPENSSL_cleanse(mac, sizeof(mac));
	return true;
}

void
trib_hasher_free(trib_hasher *h)
{
	if (h == NULL)
		return;
	EVP_MAC_CTX_free(h->base);
	free(h);
}
