/*
 * mask_fernet.c: Fernet tokens (format in mask_fernet.h) on OpenSSL
 * AES-128-CBC (EVP, PKCS#7 padding) and HMAC-SHA256 (hmac.h).
 *
 * The signing key is set up once, in trib_fernet_new (trib_hmac_new), and
 * each token's MAC, made or checked, starts from that keyed state
 * (trib_hmac_start): keying HMAC per token cost ~14,000 of the ~36,000
 * instructions of an encryption (docs/BENCHMARKS.md).  The AES-128-CBC
 * implementation is fetched once there too (a fetch per token is a
 * lookup in OpenSSL's provider store, under its lock).  Like a trib_hmac,
 * a Fernet object is read-only after trib_fernet_new, and OpenSSL allows a
 * fetched cipher to be used by several threads at once.
 *
 * The MAC is checked before anything else in the token is trusted; only
 * then are the timestamp and the padding looked at, so no oracle on
 * padding or time exists for forged tokens.
 */
#include "mask_fernet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base64.h"
#include "errf.h"
#include "hmac.h"
#include "strbuf.h"

#define HDR_LEN (1 + 8 + 16)		/* version, timestamp, IV */
#define MAC_LEN 32
#define MIN_TOKEN (HDR_LEN + 16 + MAC_LEN)

struct trib_fernet
{
	trib_key   *key;			/* signing key [0,16), encryption key [16,32) */
	trib_hmac  *mac;			/* the signing key, set up once */
	EVP_CIPHER *cipher;			/* AES-128-CBC, fetched once */
};

trib_fernet *
trib_fernet_new(const trib_key *key, char *errbuf, size_t errlen)
{
	static const size_t lens[] = {TRIB_FERNET_KEY_LEN};
	trib_fernet *f;

	if (!trib_key_require_lens(key, lens, 1, "encrypt (Fernet)", errbuf, errlen))
		return NULL;
	f = trib_xcalloc(1, sizeof(*f));
	f->key = trib_key_dup(key);
	if ((f->mac = trib_hmac_new(f->key->bytes, 16)) == NULL)
	{
		trib_fernet_free(f);
		trib_errf(errbuf, errlen, "encrypt (Fernet): OpenSSL's HMAC-SHA256 set-up failed");
		return NULL;
	}
	if ((f->cipher = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL)) == NULL)
	{
		trib_fernet_free(f);
		trib_errf(errbuf, errlen, "encrypt (Fernet): OpenSSL has no AES-128-CBC");
		return NULL;
	}
	return f;
}

void
trib_fernet_free(trib_fernet *f)
{
	if (f == NULL)
		return;
	EVP_CIPHER_free(f->cipher);
	trib_hmac_free(f->mac);
	trib_key_free(f->key);
	free(f);
}

/* The token's MAC: HMAC-SHA256 of data[0..n) under the signing key. */
static bool
token_mac(const trib_fernet *f, const unsigned char *data, size_t n,
		  unsigned char mac[MAC_LEN])
{
	trib_hmac_ctx *h = trib_hmac_start(f->mac);

	return h != NULL && trib_hmac_update(h, data, n) && trib_hmac_final(h, mac);
}

/* AES-128-CBC with PKCS#7 of in[0..n) into out, under f's encryption
 * key; *outn the length. */
static bool
cbc(const trib_fernet *f, const unsigned char iv[16], bool enc,
	const unsigned char *in, size_t n, unsigned char *out, size_t *outn)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			l1 = 0,
				l2 = 0;
	bool		ok;

	ok = ctx != NULL &&
		EVP_CipherInit_ex2(ctx, f->cipher, f->key->bytes + 16, iv, enc ? 1 : 0, NULL) &&
		EVP_CipherUpdate(ctx, out, &l1, in, (int) n) &&
		EVP_CipherFinal_ex(ctx, out + l1, &l2);
	EVP_CIPHER_CTX_free(ctx);
	*outn = (size_t) l1 + (size_t) l2;
	return ok;
}

bool
trib_fernet_encrypt_iv(trib_fernet *f, const void *value, size_t n, int64_t now,
					   const unsigned char iv[16], char **out, size_t *outlen,
					   char *errbuf, size_t errlen)
{
	size_t		ctmax = (n / 16 + 1) * 16;
	unsigned char *tok;
	size_t		ctlen = 0;
	char	   *text;

	if (!trib_errf_len_ok(n, TRIB_FERNET_MAX_VALUE, "encrypt: the value", errbuf, errlen))
		return false;
	tok = trib_xmalloc(HDR_LEN + ctmax + MAC_LEN);
	tok[0] = TRIB_FERNET_VERSION;
	for (int i = 0; i < 8; i++)
		tok[1 + i] = (unsigned char) ((uint64_t) now >> (56 - 8 * i));
	memcpy(tok + 9, iv, 16);
	if (!cbc(f, iv, true, value, n, tok + HDR_LEN, &ctlen) ||
		ctlen != ctmax ||
		!token_mac(f, tok, HDR_LEN + ctlen, tok + HDR_LEN + ctlen))
	{
		free(tok);
		snprintf(errbuf, errlen, "encrypt: OpenSSL AES-128-CBC or HMAC failed");
		return false;
	}
	text = trib_xmalloc(trib_b64_encoded_len(HDR_LEN + ctlen + MAC_LEN, true) + 1);
	*outlen = trib_b64_encode(tok, HDR_LEN + ctlen + MAC_LEN, true, true, text);
	*out = text;
	free(tok);
	return true;
}

bool
trib_fernet_encrypt(trib_fernet *f, const void *value, size_t n, int64_t now,
					char **out, size_t *outlen, char *errbuf, size_t errlen)
{
	unsigned char iv[16];

	if (RAND_bytes(iv, sizeof(iv)) != 1)
		return trib_errf(errbuf, errlen, "encrypt: OpenSSL's random generator failed");
	return trib_fernet_encrypt_iv(f, value, n, now, iv, out, outlen, errbuf, errlen);
}

/* Decode and check the shape of a token; false with errbuf. */
static bool
decode_token(const char *token, size_t len, unsigned char *tok, size_t *n,
			 char *errbuf, size_t errlen)
{
	if (!trib_b64_decode(token, len, TRIB_B64_URL, TRIB_B64_PAD_OPTIONAL, tok, n))
		return trib_errf(errbuf, errlen, "decrypt: the Fernet token is not base64url text");
	/* a partial block is reported as such; no block at all is too short */
	if (*n >= HDR_LEN + MAC_LEN && (*n - HDR_LEN - MAC_LEN) % 16 != 0)
		return trib_errf(errbuf, errlen, "decrypt: the Fernet token's ciphertext is not a "
						 "whole number of blocks");
	if (*n < MIN_TOKEN)
		return trib_errf(errbuf, errlen, "decrypt: the Fernet token is too short");
	if (tok[0] != TRIB_FERNET_VERSION)
		return trib_errf(errbuf, errlen, "decrypt: unknown Fernet version (expected 0x80)");
	return true;
}

/* The TTL and clock-skew checks on the (authenticated) timestamp. */
static bool
check_time(const unsigned char *tok, int64_t ttl, int64_t now, char *errbuf,
		   size_t errlen)
{
	uint64_t	ts = 0;
	int64_t		t;

	if (ttl <= 0)
		return true;
	for (int i = 0; i < 8; i++)
		ts = ts << 8 | tok[1 + i];
	t = ts > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) ts;
	if (t < now - ttl)
		return trib_errf(errbuf, errlen, "decrypt: the Fernet token has expired (older than "
						 "the TTL of %lld s)", (long long) ttl);
	if (t - TRIB_FERNET_MAX_CLOCK_SKEW > now)
		return trib_errf(errbuf, errlen, "decrypt: the Fernet token's timestamp is more than "
						 "%d s in the future", TRIB_FERNET_MAX_CLOCK_SKEW);
	return true;
}

/* HMAC check in constant time. */
static bool
check_mac(const trib_fernet *f, const unsigned char *tok, size_t n)
{
	unsigned char mac[MAC_LEN];
	bool		ok;

	ok = token_mac(f, tok, n - MAC_LEN, mac) &&
		CRYPTO_memcmp(mac, tok + n - MAC_LEN, MAC_LEN) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

bool
trib_fernet_decrypt(trib_fernet *f, const char *token, size_t len, int64_t ttl,
					int64_t now, unsigned char **out, size_t *outlen, char *errbuf,
					size_t errlen)
{
	unsigned char *tok = trib_xmalloc(trib_b64_decoded_max(len) + 1);
	unsigned char *pt;
	size_t		n = 0;
	size_t		ptlen = 0;

	if (!decode_token(token, len, tok, &n, errbuf, errlen))
	{
		free(tok);
		return false;
	}
	if (!check_mac(f, tok, n))
	{
		free(tok);
		snprintf(errbuf, errlen, "decrypt: the Fernet token's HMAC does not match "
				 "(wrong key, or the token was altered)");
		return false;
	}
	if (!check_time(tok, ttl, now, errbuf, errlen))
	{
		free(tok);
		return false;
	}
	pt = trib_xmalloc(n - HDR_LEN - MAC_LEN + 1);
	if (!cbc(f, tok + 9, false, tok + HDR_LEN, n - HDR_LEN - MAC_LEN,
			 pt, &ptlen))
	{
		OPENSSL_cleanse(pt, n - HDR_LEN - MAC_LEN + 1);
		free(pt);
		free(tok);
		snprintf(errbuf, errlen, "decrypt: the Fernet token's padding is invalid");
		return false;
	}
	pt[ptlen] = '\0';
	free(tok);
	*out = pt;
	*outlen = ptlen;
	return true;
}
