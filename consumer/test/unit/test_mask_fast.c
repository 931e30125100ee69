/*
 * test_mask_fast.c: the faster paths of the masking strategies write
 * exactly what the code before them wrote.  perturb's int64_t sum
 * (mask_perturb.c, values of at most 18 digits at their scale) against
 * the BIGNUM sum, and substitute's fakes (SHA-256 fetched once, not per
 * block) against recorded output:
 *
 *   - decimal.c: trib_dec_to_i64 + trib_dec_format_i64 against
 *     trib_dec_to_bn + trib_dec_format_bn, for random and edge values
 *     (zero, negative, leading fraction zeros, trailing zeros, 18 and 19+
 *     digits) and sums that cross zero or reach 18 digits;
 *   - decimal.c: trib_dec_to_double, written without printf, against
 *     strtod of the printf-written text;
 *   - perturb: the outputs for 6,000 deterministic values (number and
 *     string kinds, percent and absolute, with and without a row key)
 *     hash to the SHA-256 the BIGNUM-only code gave before the int64_t
 *     path existed (recorded at commit 34aaacd);
 *   - substitute: the fakes of every kind for 300 inputs each hash to the
 *     SHA-256 the code gave before (recorded at commit d95769a).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "decimal.h"
#include "hex.h"
#include "fake_fixture.h"
#include "mask.h"
#include "xorshift.h"

#define rng() xorshift_next(&rng_state)

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

/* A JSON number text: sign, integer part of up to `maxint` digits (no
 * leading zero but "0"), up to 8 fraction digits (leading and trailing
 * zeros likely). */
static void
random_number(char *buf, size_t len, int maxint)
{
	size_t		n = 0;
	int			ilen = (int) (rng() % (uint64_t) (maxint + 1));
	int			flen = (int) (rng() % 9);

	if (rng() % 4 == 0)
		buf[n++] = '-';
	if (ilen == 0)
		buf[n++] = '0';
	for (int i = 0; i < ilen; i++)
		buf[n++] = (char) ('0' + (i == 0 ? 1 + rng() % 9 : rng() % 3 == 0 ? 0 : rng() % 10));
	if (flen > 0)
		buf[n++] = '.';
	for (int i = 0; i < flen; i++)
		buf[n++] = (char) ('0' + (rng() % 3 == 0 ? 0 : rng() % 10));
	buf[n] = '\0';
	assert_true(n < len);
}

/* Both writers of value + units (units of 10^-scale) give one text. */
static void
check_sum(const trib_dec *d, int64_t units, const char *text)
{
	BIGNUM	   *a = BN_new(),
			   *b = BN_new();
	trib_strbuf x = {0},
				y = {0};
	char		err[128];
	int64_t		i;

	assert_true(trib_dec_to_i64(d, d->scale, &i));
	assert_true(trib_dec_to_bn(d, d->scale, a, err, sizeof(err)));
	assert_true(BN_set_word(b, (BN_ULONG) (units < 0 ? -(uint64_t) units : (uint64_t) units)));
	BN_set_negative(b, units < 0);
	assert_true(BN_add(a, a, b));
	trib_dec_format_bn(a, d->scale, &x);
	trib_dec_format_i64(i + units, d->scale, &y);
	if (strcmp(x.data, y.data) != 0)
		fail_msg("%s + %lld units: BIGNUM writes %s, int64 writes %s", text,
				 (long long) units, x.data, y.data);
	trib_strbuf_free(&x);
	trib_strbuf_free(&y);
	BN_free(a);
	BN_free(b);
}

/* Random and edge values: where to_i64 accepts, both paths agree (also
 * for sums); it accepts every value of up to 18 digits and nothing more. */
static void
test_dec_i64_matches_bignum(void **state)
{
	static const char *const edges[] = {
		"0", "-0", "0.00", "-0.00", "0.0001", "-0.0001", "12.50", "-12.50",
		"999999999999999999", "-999999999999999999", "99999999999999999.9",
		"0.999999999999999999", "1000000000000000000", "-1000000000000000000",
		"9999999999999999999", "123456789012345678901234567890.12",
	};
	int			fast = 0,
				slow = 0;

	(void) state;
	for (size_t k = 0; k < 20000 + sizeof(edges) / sizeof(edges[0]); k++)
	{
		char		buf[64];
		const char *text = buf;
		trib_dec	d;
		int64_t		i;
		size_t		digits;

		if (k < sizeof(edges) / sizeof(edges[0]))
			text = edges[k];
		else
			random_number(buf, sizeof(buf), 21);
		assert_true(trib_dec_parse(text, strlen(text), &d));
		digits = strlen(d.digits) + (size_t) (d.exp10 + d.scale);
		if (!trib_dec_to_i64(&d, d.scale, &i))
		{
			assert_true(digits > 18);
			slow++;
			trib_dec_free(&d);
			continue;
		}
		assert_true(digits <= 18 || strcmp(d.digits, "0") == 0);
		fast++;
		check_sum(&d, 0, text);
		check_sum(&d, (int64_t) (rng() % 2000) - 1000, text);
		check_sum(&d, -i, text);	/* exactly zero */
		check_sum(&d, -i - 1, text);	/* crosses zero */
		check_sum(&d, (int64_t) (rng() % 999999999999999999ULL) * (i < 0 ? -1 : 1), text);
		trib_dec_free(&d);
	}
	assert_true(fast > 10000);
	assert_true(slow > 1000);
}

/* trib_dec_to_double (written without printf) gives the double strtod
 * gives for the printf-written "[-]DIGITSe[-]EXP", for random values and
 * exponent forms. */
static void
test_dec_to_double_matches_printf(void **state)
{
	static const char *const edges[] = {"0", "-0", "1e-400", "-1e+400", "5e-324",
	"1.7976931348623157e308", "123456789012345678901234567890.12", "0.000001"};

	(void) state;
	for (size_t k = 0; k < 20000 + sizeof(edges) / sizeof(edges[0]); k++)
	{
		char		buf[64],
					ref[128];
		const char *text = buf;
		trib_dec	d;
		double		want,
					got;

		if (k < sizeof(edges) / sizeof(edges[0]))
			text = edges[k];
		else
		{
			random_number(buf, sizeof(buf), 21);
			if (k % 4 == 0)
				snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "e%d",
						 (int) (rng() % 700) - 350);
		}
		assert_true(trib_dec_parse(text, strlen(text), &d));
		snprintf(ref, sizeof(ref), "%s%se%lld", d.neg ? "-" : "", d.digits, (long long) d.exp10);
		want = strtod(ref, NULL);
		got = trib_dec_to_double(&d);
		if (memcmp(&want, &got, sizeof(double)) != 0)
			fail_msg("%s: %.17g, expected %.17g", text, got, want);
		trib_dec_free(&d);
	}
}

/* The SHA-256 of perturb's outputs over the deterministic values below,
 * from the BIGNUM-only code (commit 34aaacd). */
#define PERTURB_DIGEST "88014201b2de8f20c3ca4f94a103b019121e130a6f04a2d1ee6c6a9c9dbcecf4"

static trib_mask *
perturb_mask(trib_perturb_mode mode, double amount)
{
	trib_mask_spec s;
	char		err[256];
	trib_mask  *m;

	trib_mask_spec_init(&s, TRIB_MASK_PERTURB);
	s.perturb.mode = mode;
	s.perturb.amount = amount;
	s.key = (const unsigned char *) "0123456789abcdef";
	s.keylen = 16;
	m = trib_mask_new(&s, err, sizeof(err));
	assert_non_null(m);
	return m;
}

/* perturb over 6,000 values: the outputs hash to PERTURB_DIGEST. */
static void
test_perturb_outputs_unchanged(void **state)
{
	trib_mask  *ms[2] = {perturb_mask(TRIB_PERTURB_PERCENT, 5),
	perturb_mask(TRIB_PERTURB_ABSOLUTE, 3.7)};
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char h[32];
	char		hex[65];

	(void) state;
	rng_state = 42;
	assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	for (int k = 0; k < 6000; k++)
	{
		char		buf[64],
					key[32];
		trib_jvalue in = {k % 3 == 0 ? TRIB_J_STRING : TRIB_J_NUMBER, buf, 0, NULL};
		trib_mask_row row = {key, 0, "amount"};
		trib_jvalue_buf out = {0};
		char		err[256];

		random_number(buf, sizeof(buf), 20);
		in.len = strlen(buf);
		snprintf(key, sizeof(key), "{\"id\":%d}", k);
		row.row_key_len = strlen(key);
		assert_true(trib_mask_apply(ms[k % 2], &in, k % 5 == 0 ? NULL : &row, &out,
									err, sizeof(err)));
		assert_true(EVP_DigestUpdate(md, out.text.data, out.text.len + 1));
		trib_jvalue_buf_free(&out);
	}
	assert_true(EVP_DigestFinal_ex(md, h, NULL));
	trib_hex_encode(h, 32, hex);
	assert_string_equal(hex, PERTURB_DIGEST);
	EVP_MD_CTX_free(md);
	trib_mask_free(ms[0]);
	trib_mask_free(ms[1]);
}

/* The SHA-256 of substitute's fakes below (commit d95769a). */
#define SUBSTITUTE_DIGEST "e33d26c918b2003dba1470641725857334474397395d5bfa9f02c116d35683e7"

/* substitute, every kind, 300 inputs each: the fakes hash to
 * SUBSTITUTE_DIGEST. */
static void
test_substitute_outputs_unchanged(void **state)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char h[32];
	char		hex[65];

	(void) state;
	assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	for (int kind = 0; kind < TRIB_FAKE_NKINDS; kind++)
	{
		trib_mask_spec s;
		char		err[256];
		trib_mask  *m;

		trib_mask_spec_init(&s, TRIB_MASK_SUBSTITUTE);
		s.substitute.what = (trib_fake_kind) kind;
		s.dicts = test_dicts;
		s.key = (const unsigned char *) "0123456789abcdef";
		s.keylen = 16;
		m = trib_mask_new(&s, err, sizeof(err));
		assert_non_null(m);
		for (int k = 0; k < 300; k++)
		{
			char		buf[32];
			trib_jvalue in = {TRIB_J_STRING, buf, 0, NULL};
			trib_jvalue_buf out = {0};

			snprintf(buf, sizeof(buf), "value %d", k);
			in.len = strlen(buf);
			if (!trib_mask_apply(m, &in, NULL, &out, err, sizeof(err)))
				fail_msg("kind %s: %s", trib_fake_kind_name((trib_fake_kind) kind), err);
			assert_true(EVP_DigestUpdate(md, out.text.data, out.text.len + 1));
			trib_jvalue_buf_free(&out);
		}
		trib_mask_free(m);
	}
	assert_true(EVP_DigestFinal_ex(md, h, NULL));
	trib_hex_encode(h, 32, hex);
	assert_string_equal(hex, SUBSTITUTE_DIGEST);
	EVP_MD_CTX_free(md);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dec_i64_matches_bignum),
		cmocka_unit_test(test_dec_to_double_matches_printf),
		cmocka_unit_test(test_perturb_outputs_unchanged),
		cmocka_unit_test(test_substitute_outputs_unchanged),
	};

	return cmocka_run_group_tests(tests, test_dicts_setup, test_dicts_teardown);
}
