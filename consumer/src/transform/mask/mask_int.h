/*
 * mask_int.h: what the strategy files share and nobody else needs: the
 * compiled mask, and the functions of the files below mask.c, which uses
 * them: mask_prf.c (the keyed hash; mask_perturb.c uses it too) and
 * mask_perturb.c (perturb, generalize).  Nothing here is mask.c's, so
 * the dependencies point one way.
 */
#ifndef TRIB_MASK_INT_H
#define TRIB_MASK_INT_H

#include "hmac.h"
#include "mask.h"

struct trib_mask
{
	trib_mask_spec spec;		/* string fields point at the copies below */
	unsigned char *key;			/* copied key, or NULL */
	size_t		keylen;
	char	   *mask_char;		/* redact/partial mask character */
	char	   *iban_country;
	trib_jkind	fixed_kind;		/* redact fixed: the parsed value */
	char	   *fixed_text;
	size_t		fixed_len;
	trib_hmac  *mac;			/* keyed once; trib_hmac_start per use */
};

/*
 * mask_prf.c: HMAC-SHA256 under m's key (or the public fallback key) of a label and
 * up to three byte strings, each length-prefixed so no two different
 * inputs share an encoding.  A NULL part is distinct from an empty one.
 */
void		trib_mask_prf(const trib_mask *m, const char *label,
						  const void *a, size_t alen,
						  const void *b, size_t blen,
						  const void *c, size_t clen,
						  unsigned char out[32]);

/* mask_perturb.c: the strategies. */
bool		trib_mask_perturb(const trib_mask *m, const trib_jvalue *in,
							  const trib_mask_row *row, trib_jvalue_buf *out,
							  char *errbuf, size_t errlen);
bool		trib_mask_generalize(const trib_mask *m, const trib_jvalue *in,
								 trib_jvalue_buf *out, char *errbuf, size_t errlen);

#endif							/* TRIB_MASK_INT_H */
