/*
 * mask_hash.c: the keyed `hash` strategy (see mask_hash.h for the exact
 * construction).
 *
 * The hasher keeps an HMAC key (hmac.h), set up once per column, and its
 * context.  Each value starts from the keyed state (the thread's working
 * context, reset), feeds the constant prefix (label, context length,
 * context), then the value, and finalises: the key schedule is paid for
 * once per column, the prefix per value (22 bytes and the context, which is
 * usually a column's name; a reset cannot keep it, hmac.h).  Prefix and
 * value are gathered on the stack and fed in one update when they fit in
 * HASH_BUF bytes (the usual case), else part by part: the same bytes.
 */
#include "mask_hash.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base64.h"
#include "errf.h"
#include "hex.h"
#include "hmac.h"
#include "strbuf.h"
#include "words.h"

#define HASH_LABEL "tributary.hash.v1"
#define HASH_BUF 512			/* a message up to this is fed in one update */

struct trib_mask_hash
{
	trib_hmac  *key;
	char	   *context;		/* the prefix's context */
	size_t		ctxlen;
	trib_mask_hash_encoding encoding;
	size_t		max_chars;
};

static const char *const encoding_names[] = {
	[TRIB_MASK_HASH_HEX] = "hex",
	[TRIB_MASK_HASH_BASE64] = "base64",
	[TRIB_MASK_HASH_BASE64URL] = "base64url",
};

TRIB_WORDS_PARSER(trib_mask_hash_encoding_parse, trib_mask_hash_encoding, encoding_names,
				  "hash encoding")

/* Feed the label, the context's length (big-endian 32 bits) and context. */
static bool
absorb_prefix(trib_hmac_ctx *h, const char *context, size_t ctxlen)
{
	static const char label[] = HASH_LABEL;

	/* sizeof(label) includes the NUL: the 0x00 separator */
	return trib_hmac_update(h, label, sizeof(label)) &&
		trib_hmac_update_be32(h, (uint32_t) ctxlen) &&
		trib_hmac_update(h, context, ctxlen);
}

/* The whole message (prefix, then the value) in one update, when it fits
 * in HASH_BUF bytes: each update goes down four OpenSSL layers, and the
 * message had four parts.  HMAC of the concatenation is the same MAC.
 * False when it does not fit (*ok untouched). */
static bool
absorb_whole(trib_hmac_ctx *h, const trib_mask_hash *hs, const void *value,
			 size_t len, bool *ok)
{
	static const char label[] = HASH_LABEL;
	unsigned char buf[HASH_BUF];
	size_t		n = sizeof(label);

	if (hs->ctxlen > sizeof(buf) - sizeof(label) - 4 ||
		len > sizeof(buf) - sizeof(label) - 4 - hs->ctxlen)
		return false;
	memcpy(buf, label, sizeof(label));
	for (int i = 3; i >= 0; i--)
		buf[n++] = (unsigned char) (hs->ctxlen >> (8 * i));
	if (hs->ctxlen > 0)
		memcpy(buf + n, hs->context, hs->ctxlen);
	n += hs->ctxlen;
	if (len > 0)
		memcpy(buf + n, value, len);
	n += len;
	*ok = trib_hmac_update(h, buf, n);
	explicit_bzero(buf, n);		/* it holds the value */
	return true;
}

trib_mask_hash *
trib_mask_hash_new(const trib_key *key, const char *context, size_t ctxlen,
				   trib_mask_hash_encoding encoding, size_t max_chars, char *errbuf,
				   size_t errlen)
{
	trib_mask_hash *h;

	if (!trib_key_require_range(key, TRIB_MASK_HASH_KEY_MIN, TRIB_MASK_HASH_KEY_MAX,
								"hash (HMAC-SHA256)", errbuf, errlen))
		return NULL;
	if (!trib_errf_len_ok(ctxlen, TRIB_MASK_HASH_CONTEXT_MAX, "hash context", errbuf, errlen))
		return NULL;
	h = trib_xcalloc(1, sizeof(*h));
	h->encoding = encoding;
	h->max_chars = max_chars;
	h->context = trib_xmalloc(ctxlen + 1);
	if (ctxlen > 0)
		memcpy(h->context, context, ctxlen);
	h->ctxlen = ctxlen;
	h->key = trib_hmac_new(key->bytes, key->len);
	if (h->key == NULL)
	{
		snprintf(errbuf, errlen, "hash: OpenSSL could not set up HMAC-SHA256");
		trib_mask_hash_free(h);
		return NULL;
	}
	return h;
}

/* mac as text in the hasher's encoding, truncated; returns the length. */
static size_t
encode_mac(const trib_mask_hash *h, const unsigned char mac[32],
		   char out[TRIB_MASK_HASH_TEXT_MAX + 1])
{
	size_t		n;

	if (h->encoding == TRIB_MASK_HASH_HEX)
		n = trib_hex_encode(mac, 32, out);
	else
		n = trib_b64_encode(mac, 32, h->encoding == TRIB_MASK_HASH_BASE64URL,
							h->encoding == TRIB_MASK_HASH_BASE64, out);
	if (h->max_chars > 0 && h->max_chars < n)
	{
		n = h->max_chars;
		out[n] = '\0';
	}
	return n;
}

bool
trib_mask_hash_apply(trib_mask_hash *h, const void *value, size_t len, char **out,
					 size_t *outlen, char *errbuf, size_t errlen)
{
	trib_hmac_ctx *ctx = trib_hmac_start(h->key);
	unsigned char mac[TRIB_HMAC_LEN];
	char		text[TRIB_MASK_HASH_TEXT_MAX + 1];
	bool		ok;

	ok = ctx != NULL;
	if (ok && !absorb_whole(ctx, h, value, len, &ok))
		ok = absorb_prefix(ctx, h->context, h->ctxlen) && trib_hmac_update(ctx, value, len);
	ok = ok && trib_hmac_final(ctx, mac);
	if (!ok)
		return trib_errf(errbuf, errlen, "hash: OpenSSL HMAC-SHA256 failed");
	*outlen = encode_mac(h, mac, text);
	*out = trib_xstrndup(text, *outlen);
	OPENSSL_cleanse(mac, sizeof(mac));
	return true;
}

void
trib_mask_hash_free(trib_mask_hash *h)
{
	if (h == NULL)
		return;
	trib_hmac_free(h->key);
	free(h->context);
	free(h);
}
