/*
 * test_ff1_fast.c: FF1's 64-bit path (ff1.c, values with radix^ceil(n/2)
 * <= 2^32, e.g. up to 18 decimal digits) gives exactly the numerals of
 * the BIGNUM path, for many random inputs and the edge cases (all zeros,
 * all radix-1 such as 18 nines, leading zeros, every tweak length class),
 * in both directions; and lengths just past the bound fall back to BIGNUM
 * with the same result.  The tokenizer on signed, zero and leading-zero
 * values gives what the BIGNUM path gives for the same numerals.  The
 * tokenizer's memory of its last value (mask_tokenize.c) never returns a
 * result for another value or the other direction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff1.h"
#include "keys.h"
#include "mask_tokenize.h"
#include "xorshift.h"

#define rng() xorshift_next(&rng_state)

#define KEYHEX "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94"
#define MAXN 40

/* Deterministic random inputs, so failures repeat. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

/* The fast instance and a BIGNUM-only one under the same key. */
typedef struct pair
{
	trib_ff1   *fast;
	trib_ff1   *bn;
} pair;

static pair
pair_new(size_t keylen, unsigned radix)
{
	unsigned char key[32];
	char		err[256];
	pair		p;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char) (i * 29 + 7);
	p.fast = trib_ff1_new(key, keylen, radix, err, sizeof(err));
	p.bn = trib_ff1_new(key, keylen, radix, err, sizeof(err));
	assert_non_null(p.fast);
	assert_non_null(p.bn);
	trib_ff1_force_bignum(p.bn, true);
	return p;
}

static void
pair_free(pair p)
{
	trib_ff1_free(p.fast);
	trib_ff1_free(p.bn);
}

/* Both paths, both directions, on in[0..n); they agree and round-trip. */
static void
check_same(pair p, unsigned radix, const unsigned char *tw, size_t tl,
		   const uint16_t *in, size_t n)
{
	uint16_t	a[MAXN],
				b[MAXN],
				da[MAXN],
				db[MAXN];
	char		err[256];

	assert_true(trib_ff1_encrypt(p.fast, tw, tl, in, n, a, err, sizeof(err)));
	assert_true(trib_ff1_encrypt(p.bn, tw, tl, in, n, b, err, sizeof(err)));
	if (memcmp(a, b, n * sizeof(uint16_t)) != 0)
		fail_msg("radix %u n %zu tweak %zu: encrypt differs between the paths", radix, n, tl);
	/* decrypt of an arbitrary string (in) must agree too, not only of a's */
	assert_true(trib_ff1_decrypt(p.fast, tw, tl, in, n, da, err, sizeof(err)));
	assert_true(trib_ff1_decrypt(p.bn, tw, tl, in, n, db, err, sizeof(err)));
	if (memcmp(da, db, n * sizeof(uint16_t)) != 0)
		fail_msg("radix %u n %zu tweak %zu: decrypt differs between the paths", radix, n, tl);
	assert_true(trib_ff1_decrypt(p.fast, tw, tl, a, n, da, err, sizeof(err)));
	assert_memory_equal(da, in, n * sizeof(uint16_t));
}

/* The edge inputs of length n (all zeros, all radix-1, leading zeros)
 * and `randoms` random ones. */
static void
check_length(pair p, unsigned radix, size_t n, int randoms)
{
	unsigned char tw[TRIB_FF1_MAXTWEAK];
	static const size_t tweaks[] = {0, 1, 2, 7, 11, 12, 13, 16, 31, TRIB_FF1_MAXTWEAK};
	uint16_t	in[MAXN];

	for (size_t i = 0; i < sizeof(tw); i++)
		tw[i] = (unsigned char) rng();
	for (int r = -3; r < randoms; r++)
	{
		size_t		tl = tweaks[rng() % (sizeof(tweaks) / sizeof(tweaks[0]))];

		for (size_t i = 0; i < n; i++)
			in[i] = r == -3 ? 0 : r == -2 ? (uint16_t) (radix - 1)
				: r == -1 && i < n / 2 ? 0 : (uint16_t) (rng() % radix);
		check_same(p, radix, tw, tl, in, n);
	}
}

/* Random and edge inputs, every length from the minimum to a few past
 * the 64-bit bound, radixes 2 to 65536, AES-128/192/256. */
static void
test_ff1_fast_path_matches_bignum(void **state)
{
	static const unsigned radixes[] = {10, 2, 16, 36, 62, 256, 65536};
	static const size_t keylens[] = {16, 24, 32};

	(void) state;
	for (size_t r = 0; r < sizeof(radixes) / sizeof(radixes[0]); r++)
		for (size_t k = 0; k < 3; k++)
		{
			pair		p = pair_new(keylens[k], radixes[r]);
			size_t		last = radixes[r] == 2 ? MAXN : radixes[r] == 10 ? 22 : 14;

			for (size_t n = trib_ff1_minlen(radixes[r]); n <= last; n++)
				check_length(p, radixes[r], n, radixes[r] == 10 && k == 0 ? 300 : 20);
			pair_free(p);
		}
}

/* The NIST radix-10 samples take the 64-bit path; check one there too
 * with a fresh instance (no cached CIPH(P)) and after other lengths. */
static void
test_ff1_fast_path_nist_sample(void **state)
{
	unsigned char key[16] = {0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
	0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C};
	unsigned char tweak[10] = "9876543210";
	uint16_t	in[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
				out[20];
	static const uint16_t ct[10] = {6, 1, 2, 4, 2, 0, 0, 7, 7, 3};	/* sample 2 */
	char		err[256];
	trib_ff1   *f = trib_ff1_new(key, 16, 10, err, sizeof(err));

	(void) state;
	assert_non_null(f);
	assert_true(trib_ff1_encrypt(f, tweak, 10, in, 10, out, err, sizeof(err)));
	assert_memory_equal(out, ct, sizeof(ct));
	assert_true(trib_ff1_encrypt(f, tweak, 3, in, 7, out, err, sizeof(err)));
	assert_true(trib_ff1_encrypt(f, NULL, 0, in, 10, out, err, sizeof(err)));
	assert_true(trib_ff1_encrypt(f, tweak, 10, in, 10, out, err, sizeof(err)));
	assert_memory_equal(out, ct, sizeof(ct));
	trib_ff1_free(f);
}

/* The tokenizer's output for text: through FF1 on the BIGNUM path. */
static void
expected_token(trib_ff1 *bn, const char *tweak, const char *text, char *out)
{
	uint16_t	nums[MAXN];
	size_t		k = 0,
				len = strlen(text);
	char		err[256];

	for (size_t i = 0; i < len; i++)
		if (text[i] >= '0' && text[i] <= '9')
			nums[k++] = (uint16_t) (text[i] - '0');
	assert_true(trib_ff1_encrypt(bn, (const unsigned char *) tweak, strlen(tweak), nums, k,
								 nums, err, sizeof(err)));
	k = 0;
	for (size_t i = 0; i < len; i++)
		out[i] = text[i] >= '0' && text[i] <= '9' ? (char) ('0' + nums[k++]) : text[i];
	out[len] = '\0';
}

/* Signed, zero, leading-zero, 18-digit and 19+-digit values tokenize as
 * the BIGNUM path would. */
static void
test_tokenize_edge_values_match_bignum(void **state)
{
	static const char *const values[] = {
		"000000", "-000000", "123456", "-123456", "000123", "-000000123456",
		"999999999999999999", "-999999999999999999", "100000000000000000",
		"000000000000000001", "1234567890123456789", "-9223372036854775808",
		"9223372036854775807", "18446744073709551615", "12345678901234567890123",
		"12.345678", "-0.0001234567",
	};
	char		err[256];
	trib_key   *key = trib_key_parse(KEYHEX, 64, TRIB_KEY_HEX, "test", err, sizeof(err));
	trib_mask_tokenizer *t;
	trib_ff1   *bn;

	(void) state;
	assert_non_null(key);
	t = trib_mask_tokenize_new(key, TRIB_ALPHA_DIGITS, "id", 2, false, err, sizeof(err));
	bn = trib_ff1_new(key->bytes, key->len, 10, err, sizeof(err));
	assert_non_null(t);
	assert_non_null(bn);
	trib_ff1_force_bignum(bn, true);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
	{
		char		want[MAXN + 1];
		char	   *got = NULL;

		expected_token(bn, "id", values[i], want);
		assert_true(trib_mask_tokenize(t, values[i], strlen(values[i]), &got, err, sizeof(err)));
		if (strcmp(got, want) != 0)
			fail_msg("%s: tokenized to %s, the BIGNUM path gives %s", values[i], got, want);
		free(got);
	}
	trib_ff1_free(bn);
	trib_mask_tokenize_free(t);
	trib_key_free(key);
}

/* t's result for in[0..len) in direction enc equals a fresh tokenizer's. */
static void
check_like_fresh(trib_mask_tokenizer *t, const trib_key *key, bool enc, const char *in,
				 size_t len)
{
	char		err[256];
	trib_mask_tokenizer *fresh = trib_mask_tokenize_new(key, TRIB_ALPHA_DIGITS, "id", 2, false,
														err, sizeof(err));
	char	   *got = NULL,
			   *want = NULL;

	assert_non_null(fresh);
	assert_true((enc ? trib_mask_tokenize : trib_mask_tokenize_reverse) (t, in, len, &got, err,
															   sizeof(err)));
	assert_true((enc ? trib_mask_tokenize : trib_mask_tokenize_reverse) (fresh, in, len, &want, err,
															   sizeof(err)));
	if (memcmp(got, want, len + 1) != 0)
		fail_msg("%s of a %zu-byte value: the remembered result differs from a fresh "
				 "tokenizer's", enc ? "tokenize" : "detokenize", len);
	free(got);
	free(want);
	trib_mask_tokenize_free(fresh);
}

/* The same value twice, then the other direction, another length, and
 * values that differ only after a NUL byte. */
static void
test_tokenize_memo_only_for_the_same_value(void **state)
{
	char		err[256];
	trib_key   *key = trib_key_parse(KEYHEX, 64, TRIB_KEY_HEX, "test", err, sizeof(err));
	trib_mask_tokenizer *t;

	(void) state;
	assert_non_null(key);
	t = trib_mask_tokenize_new(key, TRIB_ALPHA_DIGITS, "id", 2, false, err, sizeof(err));
	assert_non_null(t);
	check_like_fresh(t, key, true, "123456", 6);
	check_like_fresh(t, key, true, "123456", 6);
	check_like_fresh(t, key, false, "123456", 6);
	check_like_fresh(t, key, true, "123456", 6);
	check_like_fresh(t, key, true, "1234567", 7);
	check_like_fresh(t, key, true, "12\0003456", 7);
	check_like_fresh(t, key, true, "12\0003457", 7);
	check_like_fresh(t, key, true, "-123456", 7);
	check_like_fresh(t, key, true, "123456", 6);
	trib_mask_tokenize_free(t);
	trib_key_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ff1_fast_path_matches_bignum),
		cmocka_unit_test(test_ff1_fast_path_nist_sample),
		cmocka_unit_test(test_tokenize_edge_values_match_bignum),
		cmocka_unit_test(test_tokenize_memo_only_for_the_same_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
