/*
 * seal.c: AES-256-GCM sealing of short texts; see seal.h for the form.
 *
 * One EVP_CIPHER_CTX per call: sealing happens once per checkpoint save
 * (a few per second at most), so nothing is cached.  The nonce is 12
 * random bytes from RAND_bytes; with one key sealing far fewer than 2^32
 * texts the collision bound of random GCM nonces is not approached.
 */
#include "seal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <yajl/yajl_tree.h>

#include "base64.h"
#include "errf.h"
#include "xalloc.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define ALG_NAME "AES-256-GCM"

/* Largest plain text sealed or opened (seal.h). */
#define MAX_PLAIN TRIB_SEAL_MAX_PLAIN

/* Run GCM over in[0..n) into out (n bytes) with the nonce and aad; on
 * sealing, write the tag into tag; on opening, check it.  False when
 * OpenSSL fails or the tag does not match. */
static bool
gcm(bool enc, const trib_key *key, const unsigned char *nonce, const unsigned char *aad,
	size_t aadlen, const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			len = 0;
	bool		ok;

	ok = ctx != NULL &&
		EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc ? 1 : 0) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
		EVP_CipherInit_ex(ctx, NULL, NULL, key->bytes, nonce, enc ? 1 : 0) == 1 &&
		(aadlen == 0 || EVP_CipherUpdate(ctx, NULL, &len, aad, (int) aadlen) == 1) &&
		(n == 0 || EVP_CipherUpdate(ctx, out, &len, in, (int) n) == 1) &&
		(enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1) &&
		EVP_CipherFinal_ex(ctx, out + (n == 0 ? 0 : len), &len) == 1 &&
		(!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* See seal.h. */
char *
trib_seal(const trib_key *key, const unsigned char *aad, size_t aadlen, const char *plain,
		  char *errbuf, size_t errlen)
{
	size_t		n = strlen(plain);
	size_t		blen = NONCE_LEN + n + TAG_LEN;
	unsigned char *blob;
	char	   *b64,
			   *out = NULL;

	if (key == NULL || key->len != TRIB_SEAL_KEY_LEN)
		return trib_errf(errbuf, errlen, "seal: the key must be %d bytes", TRIB_SEAL_KEY_LEN), NULL;
	if (n > MAX_PLAIN)
		return trib_errf(errbuf, errlen, "seal: the text is larger than %d bytes", MAX_PLAIN), NULL;
	blob = trib_xmalloc(blen);
	if (RAND_bytes(blob, NONCE_LEN) != 1 ||
		!gcm(true, key, blob, aad, aadlen, (const unsigned char *) plain, n, blob + NONCE_LEN,
			 blob + NONCE_LEN + n))
	{
		free(blob);
		return trib_errf(errbuf, errlen, "seal: OpenSSL failed to encrypt"), NULL;
	}
	b64 = trib_xmalloc(trib_b64_encoded_len(blen, true) + 1);
	trib_b64_encode(blob, blen, false, true, b64);
	free(blob);
	out = trib_xmalloc(strlen(b64) + 96);
	sprintf(out, "{\"tributary_sealed\":%d,\"alg\":\"" ALG_NAME "\",\"data\":\"%s\"}",
			TRIB_SEAL_VERSION, b64);
	free(b64);
	return out;
}

/* The "tributary_sealed" member of a parsed object, or NULL. */
static yajl_val
sealed_member(yajl_val root)
{
	static const char *p[] = {"tributary_sealed", NULL};

	return root != NULL && YAJL_IS_OBJECT(root) ? yajl_tree_get(root, p, yajl_t_any) : NULL;
}

/* See seal.h. */
bool
trib_seal_is_sealed(const char *text)
{
	yajl_val	root;
	bool		sealed;

	if (text == NULL || strstr(text, "\"tributary_sealed\"") == NULL)
		return false;
	root = yajl_tree_parse(text, NULL, 0);
	sealed = sealed_member(root) != NULL;
	yajl_tree_free(root);
	return sealed;
}

/* Decode and open the blob of data (base64); -1 with errbuf. */
static int
open_data(const trib_key *key, const unsigned char *aad, size_t aadlen, const char *data,
		  char **out, char *errbuf, size_t errlen)
{
	size_t		dlen = strlen(data);
	unsigned char *blob = trib_xmalloc(trib_b64_decoded_max(dlen) + 1);
	size_t		blen = 0;
	char	   *plain;
	size_t		n;

	if (!trib_b64_decode(data, dlen, TRIB_B64_STD, TRIB_B64_PAD_REQUIRED, blob, &blen) ||
		blen < NONCE_LEN + TAG_LEN || blen - NONCE_LEN - TAG_LEN > MAX_PLAIN)
	{
		free(blob);
		return trib_errf(errbuf, errlen, "its data is not base64 of a sealed text"), -1;
	}
	n = blen - NONCE_LEN - TAG_LEN;
	plain = trib_xmalloc(n + 1);
	if (!gcm(false, key, blob, aad, aadlen, blob + NONCE_LEN, n, (unsigned char *) plain,
			 blob + NONCE_LEN + n))
	{
		/* GCM decrypts before it checks the tag: with the right key and
		 * another row's associated data, plain holds that row's text */
		OPENSSL_cleanse(plain, n);
		free(blob);
		free(plain);
		return trib_errf(errbuf, errlen, "it does not open with the key given (a wrong key, "
						 "or the stored text was altered or copied from elsewhere)"), -1;
	}
	free(blob);
	plain[n] = '\0';
	if (strlen(plain) != n)
	{
		OPENSSL_cleanse(plain, n);
		free(plain);
		return trib_errf(errbuf, errlen, "its plain text holds a NUL byte"), -1;
	}
	*out = plain;
	return 1;
}

/* See seal.h. */
int
trib_unseal(const trib_key *key, const unsigned char *aad, size_t aadlen, const char *text,
			char **out, char *errbuf, size_t errlen)
{
	static const char *p_alg[] = {"alg", NULL};
	static const char *p_data[] = {"data", NULL};
	yajl_val	root,
				ver,
				alg,
				data;
	int			rc = -1;

	*out = NULL;
	if (text == NULL || strstr(text, "\"tributary_sealed\"") == NULL)
		return 0;
	root = yajl_tree_parse(text, NULL, 0);
	if ((ver = sealed_member(root)) == NULL)
	{
		yajl_tree_free(root);
		return 0;
	}
	alg = yajl_tree_get(root, p_alg, yajl_t_string);
	data = yajl_tree_get(root, p_data, yajl_t_string);
	if (!YAJL_IS_INTEGER(ver) || YAJL_GET_INTEGER(ver) != TRIB_SEAL_VERSION)
		trib_errf(errbuf, errlen, "it is sealed in a form this version does not know "
				  "(tributary_sealed is not %d)", TRIB_SEAL_VERSION);
	else if (alg == NULL || strcmp(alg->u.string, ALG_NAME) != 0)
		trib_errf(errbuf, errlen, "it is sealed with an algorithm this version does not know "
				  "(alg is not " ALG_NAME ")");
	else if (data == NULL)
		trib_errf(errbuf, errlen, "it is sealed but has no data");
	else if (key == NULL)
		trib_errf(errbuf, errlen, "it is sealed and no key was given");
	else if (key->len != TRIB_SEAL_KEY_LEN)
		trib_errf(errbuf, errlen, "the key must be %d bytes", TRIB_SEAL_KEY_LEN);
	else
		rc = open_data(key, aad, aadlen, data->u.string, out, errbuf, errlen);
	yajl_tree_free(root);
	return rc;
}
