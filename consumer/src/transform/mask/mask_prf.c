/*
 * mask_prf.c: the keyed hash of the masking strategies (see mask_int.h):
 * HMAC-SHA256 under the mask's key (hmac.h, the context keyed once at
 * trib_mask_new and duplicated per value) of a label naming the strategy
 * and up to three length-prefixed parts.  The message format is fixed,
 * since it fixes every fake and every noise (docs/MASKING.md).
 *
 * It sits below mask.c (substitute) and mask_perturb.c (perturb), which
 * both use it.
 */
#include "mask_int.h"

#include <stdlib.h>
#include <string.h>

/* Feed a length-prefixed part (a length of 0xFF.. marks NULL). */
static bool
add_part(trib_hmac_ctx *h, const void *p, size_t n)
{
	return trib_hmac_update_be64(h, p ? (uint64_t) n : UINT64_MAX) &&
		(p == NULL || trib_hmac_update(h, p, n));
}

void
trib_mask_prf(const trib_mask *m, const char *label, const void *a,
			  size_t alen, const void *b, size_t blen, const void *c,
			  size_t clen, unsigned char out[32])
{
	/* from the key set up at trib_mask_new() (hmac.h) */
	trib_hmac_ctx *h = trib_hmac_start(m->mac);

	/* strlen + 1: the label's NUL is the 0x00 separator */
	if (h == NULL || !trib_hmac_update(h, label, strlen(label) + 1) ||
		!add_part(h, a, alen) || !add_part(h, b, blen) || !add_part(h, c, clen) ||
		!trib_hmac_final(h, out))
		abort();
}
