/*
 * mask_fake_int.h: what the fake-value files share (mask_fake.c: the
 * dictionaries, the random stream, names, e-mail, addresses, IBANs and
 * card numbers; mask_fake_ids.c: identifiers, dates and network values).
 * Internal to those files; everything else includes mask_fake.h.
 *
 * The random stream: block i is SHA-256(seed || i), taken 8 bytes at a
 * time, so a fake is a pure function of its 32-byte seed.
 */
#ifndef TRIB_MASK_FAKE_INT_H
#define TRIB_MASK_FAKE_INT_H

#include <stdint.h>

#include "mask_fake.h"

typedef struct fake_rng
{
	unsigned char seed[32];
	uint32_t	counter;
	unsigned char block[32];
	size_t		pos;
} fake_rng;

void		fake_rng_init(fake_rng *r, const unsigned char seed[32]);
/* The next 64 random bits. */
uint64_t	fake_rng_u64(fake_rng *r);
/* Uniform in [0, n), n > 0 (bias below 2^-50 for the n used here). */
uint64_t	fake_rng_below(fake_rng *r, uint64_t n);
/* A uniformly chosen entry of l (which has at least one). */
const char *fake_rng_pick(fake_rng *r, const trib_fake_list *l);
/* '0'..'9'. */
char		fake_rng_digit(fake_rng *r);

/*
 * One request to a generator: the dictionaries, the random stream, the
 * input value (NULL and 0 without one: it shapes postcode, iban and
 * credit_card, see mask_fake.h), the default IBAN country and the
 * caller's error buffer.
 */
typedef struct fake_req
{
	const trib_fake_dicts *d;
	const trib_fake_list *list; /* the kind's dictionary, if it has one */
	fake_rng   *r;
	const char *input;
	size_t		inlen;
	const char *iban_country;
	char	   *errbuf;
	size_t		errlen;
} fake_req;

/* A generator: appends one fake of its kind to out; false (errbuf) when
 * it cannot.  trib_fake_generate() picks one from a table by kind. */
typedef bool (*fake_gen) (fake_req *q, trib_strbuf *out);

/* mask_fake_ids.c: the kinds that need no dictionary but the domains. */
bool		fake_gen_ssn(fake_req *q, trib_strbuf *out);
bool		fake_gen_date_of_birth(fake_req *q, trib_strbuf *out);
bool		fake_gen_ipv4(fake_req *q, trib_strbuf *out);
bool		fake_gen_uuid4(fake_req *q, trib_strbuf *out);
bool		fake_gen_url(fake_req *q, trib_strbuf *out);
bool		fake_gen_postcode(fake_req *q, trib_strbuf *out);

#endif							/* TRIB_MASK_FAKE_INT_H */
