/*
 * decimal.c: exact decimal numbers from JSON number text (see decimal.h).
 *
 * The parser follows RFC 8259's number grammar by hand because it is
 * fed single values the yajl tree already accepted; what it adds is
 * the split into digits and exponent.  Arithmetic goes through OpenSSL's
 * BIGNUM on integers of 10^-scale units, so nothing here rounds except
 * where a caller chooses a smaller scale; values of at most 18 digits
 * can take int64_t instead (trib_dec_to_i64), and both kinds of integer
 * are written by the same code, so they give the same text.
 */
#include "decimal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "errf.h"

/* Values needing more digits than this are refused by trib_dec_to_bn. */
#define DEC_MAX_DIGITS 100000

/* Exponents beyond this are refused by the parser. */
#define DEC_MAX_EXP 1000000000LL

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parse the exponent part at *pp (after e/E); false if malformed/huge. */
static bool
parse_exp(const char **pp, const char *end, int64_t *out)
{
	const char *p = *pp;
	bool		neg = false;
	int64_t		e = 0;

	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p == end || !is_digit(*p))
		return false;
	while (p < end && is_digit(*p))
	{
		e = e * 10 + (*p++ - '0');
		if (e > DEC_MAX_EXP)
			return false;
	}
	*out = neg ? -e : e;
	*pp = p;
	return true;
}

bool
trib_dec_parse(const char *s, size_t len, trib_dec *d)
{
	const char *p = s,
			   *end = s + len,
			   *ip,
			   *fp = NULL;
	size_t		ilen,
				flen = 0;
	int64_t		e = 0;
	char	   *dig;
	size_t		n = 0,
				start;

	memset(d, 0, sizeof(*d));
	if (p < end && *p == '-')
		d->neg = true, p++;
	ip = p;
	if (p == end || !is_digit(*p))
		return false;
	if (*p == '0')
		p++;
	else
		while (p < end && is_digit(*p))
			p++;
	ilen = (size_t) (p - ip);
	if (p < end && *p == '.')
	{
		fp = ++p;
		while (p < end && is_digit(*p))
			p++;
		flen = (size_t) (p - fp);
		if (flen == 0)
			return false;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		p++;
		if (!parse_exp(&p, end, &e))
			return false;
		d->has_exp = true;
	}
	if (p != end)
		return false;

	dig = trib_xmalloc(ilen + flen + 2);
	memcpy(dig, ip, ilen);
	if (flen)
		memcpy(dig + ilen, fp, flen);
	n = ilen + flen;
	d->exp10 = e - (int64_t) flen;
	d->scale = d->exp10 < 0 ? (int) (d->exp10 < -DEC_MAX_DIGITS ? DEC_MAX_DIGITS : -d->exp10) : 0;
	if (!d->has_exp)
		d->scale = (int) flen;
	for (start = 0; start < n && dig[start] == '0'; start++)
		;
	while (n > start && dig[n - 1] == '0')
		n--, d->exp10++;
	if (n == start)
	{
		strcpy(dig, "0");
		d->neg = false;
		d->exp10 = 0;
	}
	else
	{
		memmove(dig, dig + start, n - start);
		dig[n - start] = '\0';
	}
	d->digits = dig;
	return true;
}

void
trib_dec_free(trib_dec *d)
{
	if (d == NULL)
		return;
	free(d->digits);
	d->digits = NULL;
}

static bool
dec_is_zero(const trib_dec *d)
{
	return d->digits[0] == '0';
}

/* Compare magnitudes. */
static int
cmp_abs(const trib_dec *a, const trib_dec *b)
{
	int64_t		la = (int64_t) strlen(a->digits),
				lb = (int64_t) strlen(b->digits);
	int64_t		ma = la + a->exp10,
				mb = lb + b->exp10;
	int64_t		i;

	if (dec_is_zero(a) || dec_is_zero(b))
		return dec_is_zero(a) ? (dec_is_zero(b) ? 0 : -1) : 1;
	if (ma != mb)
		return ma < mb ? -1 : 1;
	for (i = 0; i < la && i < lb; i++)
		if (a->digits[i] != b->digits[i])
			return a->digits[i] < b->digits[i] ? -1 : 1;
	return la == lb ? 0 : (la < lb ? -1 : 1);
}

int
trib_dec_cmp(const trib_dec *a, const trib_dec *b)
{
	int			c;

	if (a->neg != b->neg)
		return a->neg ? -1 : 1;
	c = cmp_abs(a, b);
	return a->neg ? -c : c;
}

void
trib_dec_canonical(const trib_dec *d, trib_strbuf *out)
{
	trib_strbuf_printf(out, "%s%se%lld", d->neg ? "-" : "", d->digits,
					   (long long) d->exp10);
}

bool
trib_dec_to_bn(const trib_dec *d, int scale, BIGNUM *bn, char *errbuf,
			   size_t errlen)
{
	int64_t		shift = d->exp10 + scale;
	size_t		n = strlen(d->digits);
	trib_strbuf b = {0};
	bool		ok;

	if (shift > DEC_MAX_DIGITS || (int64_t) n + shift > DEC_MAX_DIGITS)
		return trib_errf(errbuf, errlen, "number needs more than %d digits",
						 DEC_MAX_DIGITS);
	if (d->neg)
		trib_strbuf_addc(&b, '-');
	if (shift >= 0)
	{
		trib_strbuf_add(&b, d->digits, n);
		for (int64_t i = 0; i < shift; i++)
			trib_strbuf_addc(&b, '0');
	}
	else if ((uint64_t) -shift > n)
		trib_strbuf_addc(&b, '0');
	else
	{
		size_t		keep = n - (size_t) -shift;
		bool		up = d->digits[keep] >= '5';

		if (keep == 0)
			trib_strbuf_addc(&b, '0');
		else
			trib_strbuf_add(&b, d->digits, keep);
		ok = BN_dec2bn(&bn, b.data) != 0;
		trib_strbuf_free(&b);
		if (ok && up)
			ok = d->neg ? BN_sub_word(bn, 1) : BN_add_word(bn, 1);
		if (!ok)
			snprintf(errbuf, errlen, "number conversion failed");
		return ok;
	}
	ok = BN_dec2bn(&bn, b.data) != 0;
	trib_strbuf_free(&b);
	if (!ok)
		snprintf(errbuf, errlen, "number conversion failed");
	return ok;
}

bool
trib_dec_to_i64(const trib_dec *d, int scale, int64_t *out)
{
	int64_t		shift = d->exp10 + scale;
	size_t		n = strlen(d->digits);
	uint64_t	u = 0;

	/* only exact conversions with at most 18 digits: no rounding, no
	 * overflow (10^18 - 1 < 2^63) */
	if (shift < 0 || (int64_t) n + shift > 18)
		return false;
	for (size_t i = 0; i < n; i++)
		u = u * 10 + (uint64_t) (d->digits[i] - '0');
	for (int64_t i = 0; i < shift; i++)
		u *= 10;
	*out = d->neg ? -(int64_t) u : (int64_t) u;
	return true;
}

/* Append the plain decimal text of sign and the digits p[0..n) (units of
 * 10^-scale). */
static void
format_digits(bool neg, const char *p, size_t n, int scale, trib_strbuf *out)
{
	if (neg)
		trib_strbuf_addc(out, '-');
	if (scale <= 0)
		trib_strbuf_add(out, p, n);
	else if (n <= (size_t) scale)
	{
		trib_strbuf_adds(out, "0.");
		for (size_t i = n; i < (size_t) scale; i++)
			trib_strbuf_addc(out, '0');
		trib_strbuf_add(out, p, n);
	}
	else
	{
		trib_strbuf_add(out, p, n - (size_t) scale);
		trib_strbuf_addc(out, '.');
		trib_strbuf_add(out, p + n - (size_t) scale, (size_t) scale);
	}
}

void
trib_dec_format_bn(const BIGNUM *bn, int scale, trib_strbuf *out)
{
	char	   *s = BN_bn2dec(bn);
	const char *p = s;
	bool		neg = false;

	if (s == NULL)
		abort();
	if (*p == '-')
	{
		neg = strcmp(p, "-0") != 0;
		p++;
	}
	format_digits(neg, p, strlen(p), scale, out);
	OPENSSL_free(s);
}

void
trib_dec_format_i64(int64_t v, int scale, trib_strbuf *out)
{
	char		buf[20];
	size_t		i = sizeof(buf);
	uint64_t	u = v < 0 ? -(uint64_t) v : (uint64_t) v;

	do
	{
		buf[--i] = (char) ('0' + u % 10);
		u /= 10;
	} while (u > 0);
	format_digits(v < 0, buf + i, sizeof(buf) - i, scale, out);
}

/* d through strtod: "[-]DIGITSe[-]EXP", written without printf. */
static double
dec_to_double_strtod(const trib_dec *d)
{
	trib_strbuf b = {0};
	char		e[24];
	size_t		i = sizeof(e);
	uint64_t	u = d->exp10 < 0 ? -(uint64_t) d->exp10 : (uint64_t) d->exp10;
	double		v;

	do
	{
		e[--i] = (char) ('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (d->exp10 < 0)
		e[--i] = '-';
	if (d->neg)
		trib_strbuf_addc(&b, '-');
	trib_strbuf_adds(&b, d->digits);
	trib_strbuf_addc(&b, 'e');
	trib_strbuf_add(&b, e + i, sizeof(e) - i);
	v = strtod(b.data, NULL);
	trib_strbuf_free(&b);
	return v;
}

/* Significant digits that always fit below 2^53, and the largest power of
 * ten a double holds exactly. */
#define FAST_DIGITS 15
#define FAST_POW 22

/*
 * The nearest double.  perturb converts every value it touches, and
 * writing the number out for strtod costs ~1,100 instructions.  When the
 * significant digits fit in 15 (the integer m they form is below 2^53,
 * exact in a double) and the power of ten is at most 22 either way (10^k
 * exact too), m x 10^k or m / 10^-k is one IEEE operation on two exact
 * operands, which the FPU rounds correctly (to nearest in double
 * precision: x86-64's SSE arithmetic, the default mode): the double
 * strtod gives (Clinger's fast path, which strtod implementations take
 * themselves).  Anything else goes through strtod.  test_dec_double
 * compares the result with strtod on random decimals, at and past both
 * bounds.
 */
double
trib_dec_to_double(const trib_dec *d)
{
	static const double pow10_exact[FAST_POW + 1] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
	};
	size_t		n = strlen(d->digits);
	int64_t		k = d->exp10;
	uint64_t	u = 0;
	double		v;

	if (n > FAST_DIGITS || k > FAST_POW || k < -FAST_POW)
		return dec_to_double_strtod(d);
	for (size_t i = 0; i < n; i++)
		u = u * 10 + (uint64_t) (d->digits[i] - '0');
	v = k >= 0 ? (double) u * pow10_exact[k] : (double) u / pow10_exact[-k];
	return d->neg ? -v : v;
}
