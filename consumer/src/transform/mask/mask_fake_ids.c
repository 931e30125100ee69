/*
 * mask_fake_ids.c: fake identifiers, dates and network values for the
 * substitute strategy (see mask_fake.h; the random stream is in
 * mask_fake_int.h).
 *
 * Formats, chosen to look like what Python's Faker writes for the provider
 * of the same name (the copy-and-sanitize tool's `field_type`), but drawn
 * from our own rules:
 *   ssn            AAA-GG-SSSS: area 001-899 but 666, group 01-99, serial
 *                  0001-9999 (the ranges the US SSA never issues stay out)
 *   date_of_birth  an ISO date between 1935-01-01 and 2007-12-31; fixed
 *                  bounds, not "today minus N years", so a value gets the
 *                  same fake next year too
 *   ipv4           a dotted quad in public unicast space: private (10/8,
 *                  172.16/12, 192.168/16), loopback, link-local, CGNAT,
 *                  documentation, benchmarking, multicast and reserved
 *                  ranges are redrawn; the host part is 1-254
 *   uuid4          a version 4, RFC 4122 variant UUID, lower case
 *   url            http(s)://[www.]DOMAIN/ with DOMAIN from domains.txt
 *                  (reserved names only)
 *   postcode       the input's shape when it looks like a postcode (3-10
 *                  letters, digits, spaces and '-', with a digit): each
 *                  digit a random digit, each letter a random letter of the
 *                  same case ("SW1A 1AA" -> "KP7D 2XR", "12345-6789" ->
 *                  "80417-2256"); else five digits
 */
#include <string.h>

#include "isodate.h"
#include "mask_fake_int.h"

#define DOB_FIRST_YEAR 1935
#define DOB_LAST_YEAR 2007

bool
fake_gen_ssn(fake_req *q, trib_strbuf *out)
{
	fake_rng   *r = q->r;
	unsigned	area;

	do
		area = 1 + (unsigned) fake_rng_below(r, 899);
	while (area == 666);
	trib_strbuf_printf(out, "%03u-%02u-%04u", area, 1 + (unsigned) fake_rng_below(r, 99),
					   1 + (unsigned) fake_rng_below(r, 9999));
	return true;
}

bool
fake_gen_date_of_birth(fake_req *q, trib_strbuf *out)
{
	fake_rng   *r = q->r;
	int64_t		first = trib_isodate_days_from_civil(DOB_FIRST_YEAR, 1, 1);
	int64_t		last = trib_isodate_days_from_civil(DOB_LAST_YEAR, 12, 31);
	int64_t		day = first + (int64_t) fake_rng_below(r, (uint64_t) (last - first + 1));
	int64_t		y;
	int			m,
				d;

	trib_isodate_civil_from_days(day, &y, &m, &d);
	trib_isodate_format(y, m, d, out);
	return true;
}

/* Is a.b.c.0/24 outside public unicast space? */
static bool
ipv4_special(unsigned a, unsigned b, unsigned c)
{
	return a == 0 || a == 10 || a == 127 || a >= 224 ||
		(a == 100 && b >= 64 && b < 128) ||	/* shared address space */
		(a == 169 && b == 254) ||	/* link-local */
		(a == 172 && b >= 16 && b < 32) ||
		(a == 192 && b == 168) ||
		(a == 192 && b == 0 && (c == 0 || c == 2)) ||	/* IETF, TEST-NET-1 */
		(a == 198 && (b == 18 || b == 19)) ||	/* benchmarking */
		(a == 198 && b == 51 && c == 100) ||	/* TEST-NET-2 */
		(a == 203 && b == 0 && c == 113);	/* TEST-NET-3 */
}

bool
fake_gen_ipv4(fake_req *q, trib_strbuf *out)
{
	fake_rng   *r = q->r;
	unsigned	a,
				b,
				c;

	do
	{
		a = (unsigned) fake_rng_below(r, 256);
		b = (unsigned) fake_rng_below(r, 256);
		c = (unsigned) fake_rng_below(r, 256);
	} while (ipv4_special(a, b, c));
	trib_strbuf_printf(out, "%u.%u.%u.%u", a, b, c, 1 + (unsigned) fake_rng_below(r, 254));
	return true;
}

bool
fake_gen_uuid4(fake_req *q, trib_strbuf *out)
{
	fake_rng   *r = q->r;
	unsigned char u[16];
	uint64_t	hi = fake_rng_u64(r),
				lo = fake_rng_u64(r);

	for (int i = 0; i < 8; i++)
	{
		u[i] = (unsigned char) (hi >> (56 - 8 * i));
		u[8 + i] = (unsigned char) (lo >> (56 - 8 * i));
	}
	u[6] = (unsigned char) ((u[6] & 0x0f) | 0x40);	/* version 4 */
	u[8] = (unsigned char) ((u[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	for (int i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			trib_strbuf_addc(out, '-');
		trib_strbuf_printf(out, "%02x", u[i]);
	}
	return true;
}

bool
fake_gen_url(fake_req *q, trib_strbuf *out)
{
	fake_rng   *r = q->r;

	trib_strbuf_adds(out, fake_rng_below(r, 5) ? "https://" : "http://");
	if (fake_rng_below(r, 2))
		trib_strbuf_adds(out, "www.");
	trib_strbuf_adds(out, fake_rng_pick(r, &q->d->domains));
	trib_strbuf_addc(out, '/');
	return true;
}

/* Does the input look like a postcode whose shape we can keep? */
static bool
postcode_shape(const char *in, size_t n)
{
	bool		digit = false;

	if (in == NULL || n < 3 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		char		c = in[i];

		if (c >= '0' && c <= '9')
			digit = true;
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' ' || c == '-'))
			return false;
	}
	return digit;
}

bool
fake_gen_postcode(fake_req *q, trib_strbuf *out)
{
	fake_rng   *r = q->r;
	const char *in = q->input;
	size_t		n = q->inlen;

	if (!postcode_shape(in, n))
	{
		for (int i = 0; i < 5; i++)
			trib_strbuf_addc(out, fake_rng_digit(r));
		return true;
	}
	for (size_t i = 0; i < n; i++)
	{
		char		c = in[i];

		if (c >= '0' && c <= '9')
			c = fake_rng_digit(r);
		else if (c >= 'A' && c <= 'Z')
			c = (char) ('A' + fake_rng_below(r, 26));
		else if (c >= 'a' && c <= 'z')
			c = (char) ('a' + fake_rng_below(r, 26));
		trib_strbuf_addc(out, c);
	}
	return true;
}
