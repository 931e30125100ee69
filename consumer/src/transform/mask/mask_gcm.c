/*
 * mask_gcm.c: AES-256-GCM encryption of values (format in mask_gcm.h).
 *
 * Each call builds a fresh EVP context (the key schedule is cheap next to
 * the allocation and encoding around it) so that the strategy runs the
 * exact seal/open functions the known-answer tests check.  Buffers that
 * held plaintext are wiped before they are freed.
 */
#include "mask_gcm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base64.h"
#include "errf.h"
#include "strbuf.h"

struct trib_gcm
{
	trib_key   *key;
	unsigned char *aad;			/* 0x01 || context */
	size_t		aadlen;
	bool		url;
};

/* A context for AES-256-GCM with key and nonce, encrypting or not. */
static EVP_CIPHER_CTX *
gcm_ctx(const unsigned char key[32], const unsigned char nonce[12], bool enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	bool		ok;

	ok = ctx != NULL && cipher != NULL &&
		EVP_CipherInit_ex2(ctx, cipher, NULL, NULL, enc ? 1 : 0, NULL) &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) &&
		EVP_CipherInit_ex2(ctx, NULL, key, nonce, enc ? 1 : 0, NULL);
	EVP_CIPHER_free(cipher);
	if (!ok)
	{
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Feed aad (when any) and in -> out through ctx. */
static bool
gcm_update(EVP_CIPHER_CTX *ctx, const void *aad, size_t aadlen,
		   const unsigned char *in, size_t n, unsigned char *out)
{
	int			outl = 0;

	if (n > TRIB_GCM_MAX_VALUE || aadlen > TRIB_GCM_MAX_VALUE)
		return false;
	if (aadlen > 0 && !EVP_CipherUpdate(ctx, NULL, &outl, aad, (int) aadlen))
		return false;
	return n == 0 || (EVP_CipherUpdate(ctx, out, &outl, in, (int) n) && (size_t) outl == n);
}

bool
trib_gcm_seal(const unsigned char key[32], const unsigned char nonce[12],
			  const void *aad, size_t aadlen, const void *pt, size_t n,
			  unsigned char *ct, unsigned char tag[16])
{
	EVP_CIPHER_CTX *ctx = gcm_ctx(key, nonce, true);
	unsigned char fin[16];
	int			outl = 0;
	bool		ok;

	ok = ctx != NULL && gcm_update(ctx, aad, aadlen, pt, n, ct) &&
		EVP_EncryptFinal_ex(ctx, fin, &outl) && outl == 0 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

bool
trib_gcm_open(const unsigned char key[32], const unsigned char nonce[12],
			  const void *aad, size_t aadlen, const unsigned char *ct,
			  size_t n, const unsigned char tag[16], unsigned char *pt)
{
	EVP_CIPHER_CTX *ctx = gcm_ctx(key, nonce, false);
	unsigned char fin[16];
	int			outl = 0;
	bool		ok;

	/* the tag is checked by OpenSSL in DecryptFinal, in constant time */
	ok = ctx != NULL && gcm_update(ctx, aad, aadlen, ct, n, pt) &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *) tag) &&
		EVP_DecryptFinal_ex(ctx, fin, &outl) > 0 && outl == 0;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok && n > 0)
		OPENSSL_cleanse(pt, n);
	return ok;
}

trib_gcm *
trib_gcm_new(const trib_key *key, const void *context, size_t ctxlen, bool url,
			 char *errbuf, size_t errlen)
{
	static const size_t lens[] = {TRIB_GCM_KEY_LEN};
	trib_gcm   *g;

	if (!trib_key_require_lens(key, lens, 1, "encrypt (AES-256-GCM)", errbuf, errlen))
		return NULL;
	if (ctxlen > TRIB_GCM_MAX_VALUE)
	{
		snprintf(errbuf, errlen, "encrypt: context too long");
		return NULL;
	}
	g = trib_xcalloc(1, sizeof(*g));
	g->key = trib_key_dup(key);
	g->aadlen = 1 + ctxlen;
	g->aad = trib_xmalloc(g->aadlen);
	g->aad[0] = TRIB_GCM_VERSION;
	if (ctxlen > 0)
		memcpy(g->aad + 1, context, ctxlen);
	g->url = url;
	return g;
}

void
trib_gcm_free(trib_gcm *g)
{
	if (g == NULL)
		return;
	trib_key_free(g->key);
	free(g->aad);
	free(g);
}

bool
trib_gcm_encrypt_nonce(trib_gcm *g, const unsigned char nonce[12], const void *value,
					   size_t n, char **out, size_t *outlen, char *errbuf,
					   size_t errlen)
{
	size_t		bloblen;
	unsigned char *blob;
	char	   *text;

	if (!trib_errf_len_ok(n, TRIB_GCM_MAX_VALUE, "encrypt: the value", errbuf, errlen))
		return false;
	bloblen = TRIB_GCM_OVERHEAD + n;
	blob = trib_xmalloc(bloblen);
	blob[0] = TRIB_GCM_VERSION;
	memcpy(blob + 1, nonce, TRIB_GCM_NONCE_LEN);
	if (!trib_gcm_seal(g->key->bytes, nonce, g->aad, g->aadlen, value, n,
					   blob + 1 + TRIB_GCM_NONCE_LEN,
					   blob + 1 + TRIB_GCM_NONCE_LEN + n))
	{
		free(blob);
		snprintf(errbuf, errlen, "encrypt: OpenSSL AES-256-GCM failed");
		return false;
	}
	text = trib_xmalloc(trib_b64_encoded_len(bloblen, true) + 1);
	*outlen = trib_b64_encode(blob, bloblen, g->url, !g->url, text);
	*out = text;
	free(blob);
	return true;
}

bool
trib_gcm_encrypt(trib_gcm *g, const void *value, size_t n, char **out,
				 size_t *outlen, char *errbuf, size_t errlen)
{
	unsigned char nonce[TRIB_GCM_NONCE_LEN];

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return trib_errf(errbuf, errlen, "encrypt: OpenSSL's random generator failed");
	return trib_gcm_encrypt_nonce(g, nonce, value, n, out, outlen, errbuf, errlen);
}

bool
trib_gcm_decrypt(trib_gcm *g, const char *text, size_t len, unsigned char **out,
				 size_t *outlen, char *errbuf, size_t errlen)
{
	unsigned char *blob = trib_xmalloc(trib_b64_decoded_max(len) + 1);
	size_t		n = 0;
	size_t		ctlen;
	unsigned char *pt;

	if (!trib_b64_decode(text, len, TRIB_B64_ANY, TRIB_B64_PAD_OPTIONAL, blob, &n))
	{
		free(blob);
		snprintf(errbuf, errlen, "decrypt: the value is not base64 or base64url text");
		return false;
	}
	if (n < TRIB_GCM_OVERHEAD || blob[0] != TRIB_GCM_VERSION)
	{
		free(blob);
		snprintf(errbuf, errlen, n < TRIB_GCM_OVERHEAD ?
				 "decrypt: the value is too short to be an AES-256-GCM ciphertext" :
				 "decrypt: unknown ciphertext version (expected 1)");
		return false;
	}
	ctlen = n - TRIB_GCM_OVERHEAD;
	pt = trib_xmalloc(ctlen + 1);
	if (!trib_gcm_open(g->key->bytes, blob + 1, g->aad, g->aadlen,
					   blob + 1 + TRIB_GCM_NONCE_LEN, ctlen,
					   blob + 1 + TRIB_GCM_NONCE_LEN + ctlen, pt))
	{
		free(blob);
		free(pt);
		snprintf(errbuf, errlen, "decrypt: authentication failed (wrong key or "
				 "context, or the ciphertext was altered)");
		return false;
	}
	pt[ctlen] = '\0';
	free(blob);
	*out = pt;
	*outlen = ctlen;
	return true;
}
