/*
 * mask_prf.c: the keyed hash of the masking strategies (see mask_int.h):
 * HMAC-SHA256 under the mask's key (hmac.h, the context keyed once at
 * trib_mask_new and duplicated per value) of a label naming the strategy
 * and up to three length-prefixed parts.  The message format is fixed,
 * since it fixes every fake and every noise (docs/MASKING.md).  A message
 * that fits in PRF_BUF bytes is gathered on the stack and fed in one
 * update (the usual case); a longer one part by part, the same bytes.
 *
 * It sits below mask.c (substitute) and mask_perturb.c (perturb), which
 * both use it.
 */
#include "mask_int.h"

#include <stdlib.h>
#include <string.h>

/* The message is gathered here and fed in one EVP_MAC_update when it fits:
 * each update goes down four OpenSSL layers (~120 instructions), and a
 * PRF's message had seven.  HMAC of the concatenation is the same MAC. */
#define PRF_BUF 512

/* Append a length-prefixed part (a length of 0xFF.. marks NULL) to
 * buf[*n..], which the caller sized. */
static void
put_part(unsigned char *buf, size_t *n, const void *p, size_t len)
{
	uint64_t	v = p ? (uint64_t) len : UINT64_MAX;

	for (int i = 7; i >= 0; i--, v >>= 8)
		buf[*n + (size_t) i] = (unsigned char) v;
	*n += 8;
	if (p != NULL && len > 0)
		memcpy(buf + *n, p, len);
	*n += p ? len : 0;
}

/* Feed a length-prefixed part (a length of 0xFF.. marks NULL). */
static bool
add_part(trib_hmac_ctx *h, const void *p, size_t n)
{
	return trib_hmac_update_be64(h, p ? (uint64_t) n : UINT64_MAX) &&
		(p == NULL || trib_hmac_update(h, p, n));
}

/* The message fed in one update; false when it does not fit in buf. */
static bool
feed_whole(trib_hmac_ctx *h, const char *label, size_t lablen, const void *a,
		   size_t alen, const void *b, size_t blen, const void *c, size_t clen,
		   bool *ok)
{
	unsigned char buf[PRF_BUF];
	size_t		n = lablen;

	if (lablen + 24 > sizeof(buf) || (a ? alen : 0) + (b ? blen : 0) + (c ? clen : 0) >
		sizeof(buf) - lablen - 24)
		return false;
	memcpy(buf, label, lablen);
	put_part(buf, &n, a, alen);
	put_part(buf, &n, b, blen);
	put_part(buf, &n, c, clen);
	*ok = trib_hmac_update(h, buf, n);
	explicit_bzero(buf, n);		/* it holds the row's key and value */
	return true;
}

void
trib_mask_prf(const trib_mask *m, const char *label, const void *a,
			  size_t alen, const void *b, size_t blen, const void *c,
			  size_t clen, unsigned char out[32])
{
	/* from the key set up at trib_mask_new() (hmac.h) */
	trib_hmac_ctx *h = trib_hmac_start(m->mac);
	size_t		lablen = strlen(label) + 1;	/* its NUL: the 0x00 separator */
	bool		ok = h != NULL;

	if (ok && !feed_whole(h, label, lablen, a, alen, b, blen, c, clen, &ok))
		ok = trib_hmac_update(h, label, lablen) && add_part(h, a, alen) &&
			add_part(h, b, blen) && add_part(h, c, clen);
	if (!ok || !trib_hmac_final(h, out))
		abort();
}
