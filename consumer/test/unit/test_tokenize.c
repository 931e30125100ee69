/*
 * test_tokenize.c: FF1 (ff1.c) against every NIST SP 800-38G FF1 sample
 * (FF1samples.pdf, samples 1 to 9: AES-128/192/256, radix 10 and 36,
 * empty and non-empty tweaks), and the tokenize strategy
 * (mask_tokenize.c): alphabets, characters kept in place, round trips,
 * tweak separation and the errors.
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
#include "hex.h"
#include "keys.h"
#include "mask_tokenize.h"

/* The NIST samples' keys (the 128/192-bit ones are prefixes of this). */
#define NIST_KEY "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94"

typedef struct nist_sample
{
	int			number;
	size_t		keylen;
	unsigned	radix;
	const char *tweak_hex;
	const char *pt;
	const char *ct;
} nist_sample;

/* NIST "FF1 samples" (csrc.nist.gov, Examples with Intermediate Values). */
static const nist_sample samples[] = {
	{1, 16, 10, "", "0123456789", "2433477484"},
	{2, 16, 10, "39383736353433323130", "0123456789", "6124200773"},
	{3, 16, 36, "3737373770717273373737", "0123456789abcdefghi", "a9tv40mll9kdu509eum"},
	{4, 24, 10, "", "0123456789", "2830668132"},
	{5, 24, 10, "39383736353433323130", "0123456789", "2496655549"},
	{6, 24, 36, "3737373770717273373737", "0123456789abcdefghi", "xbj3kv35jrawxv32ysr"},
	{7, 32, 10, "", "0123456789", "6657667009"},
	{8, 32, 10, "39383736353433323130", "0123456789", "1001623463"},
	{9, 32, 36, "3737373770717273373737", "0123456789abcdefghi", "xs8a0azh2avyalyzuwd"},
};

#define N_SAMPLES (sizeof(samples) / sizeof(samples[0]))

static const char lower36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

/* Decode hex (test data) into out; returns the length. */
static size_t
unhex(const char *hex, unsigned char *out)
{
	size_t		n = 0;

	assert_true(trib_hex_decode(hex, strlen(hex), out, &n));
	return n;
}

/* Numerals of s in the lower-case radix-36 alphabet (digits are a prefix). */
static void
to_numerals(const char *s, uint16_t *out)
{
	for (size_t i = 0; s[i]; i++)
		out[i] = (uint16_t) (strchr(lower36, s[i]) - lower36);
}

static void
from_numerals(const uint16_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = lower36[in[i]];
	out[n] = '\0';
}

/* A key of the sample's length. */
static trib_key *
sample_key(size_t keylen)
{
	char		hex[65];
	char		err[256];
	trib_key   *k;

	memcpy(hex, NIST_KEY, keylen * 2);
	hex[keylen * 2] = '\0';
	k = trib_key_parse(hex, keylen * 2, TRIB_KEY_HEX, "test", err, sizeof(err));
	assert_non_null(k);
	return k;
}

/* Every NIST sample encrypts to its ciphertext and decrypts back. */
static void
test_ff1_nist_samples(void **state)
{
	(void) state;
	for (size_t s = 0; s < N_SAMPLES; s++)
	{
		const nist_sample *v = &samples[s];
		unsigned char key[32],
					tweak[32];
		size_t		tl = unhex(v->tweak_hex, tweak);
		size_t		n = strlen(v->pt);
		uint16_t	in[32],
					out[32],
					back[32];
		char		text[33];
		char		err[256];
		trib_ff1   *f;

		unhex(NIST_KEY, key);
		f = trib_ff1_new(key, v->keylen, v->radix, err, sizeof(err));
		if (f == NULL)
			fail_msg("sample %d: %s", v->number, err);
		to_numerals(v->pt, in);
		if (!trib_ff1_encrypt(f, tweak, tl, in, n, out, err, sizeof(err)))
			fail_msg("sample %d: %s", v->number, err);
		from_numerals(out, n, text);
		if (strcmp(text, v->ct) != 0)
			fail_msg("sample %d: expected %s, got %s", v->number, v->ct, text);
		if (!trib_ff1_decrypt(f, tweak, tl, out, n, back, err, sizeof(err)))
			fail_msg("sample %d decrypt: %s", v->number, err);
		from_numerals(back, n, text);
		if (strcmp(text, v->pt) != 0)
			fail_msg("sample %d decrypt: expected %s, got %s", v->number, v->pt, text);
		trib_ff1_free(f);
	}
}

/* The same samples through the tokenizer (digits and alnum-lower). */
static void
test_tokenizer_nist_samples(void **state)
{
	(void) state;
	for (size_t s = 0; s < N_SAMPLES; s++)
	{
		const nist_sample *v = &samples[s];
		unsigned char tweak[32];
		size_t		tl = unhex(v->tweak_hex, tweak);
		trib_key   *k = sample_key(v->keylen);
		char		err[256];
		char	   *out = NULL,
				   *back = NULL;
		trib_mask_tokenizer *t = trib_mask_tokenize_new(k, v->radix == 10 ? TRIB_ALPHA_DIGITS :
														TRIB_ALPHA_ALNUM_LOWER, tweak, tl,
														true, err, sizeof(err));

		if (t == NULL)
			fail_msg("sample %d: %s", v->number, err);
		assert_true(trib_mask_tokenize(t, v->pt, strlen(v->pt), &out, err, sizeof(err)));
		assert_string_equal(out, v->ct);
		assert_true(trib_mask_tokenize_reverse(t, out, strlen(out), &back, err, sizeof(err)));
		assert_string_equal(back, v->pt);
		free(out);
		free(back);
		trib_mask_tokenize_free(t);
		trib_key_free(k);
	}
}

/* The minimum lengths of the 2019 revision: radix^n >= 1,000,000. */
static void
test_ff1_minlen(void **state)
{
	(void) state;
	assert_int_equal(trib_ff1_minlen(10), 6);
	assert_int_equal(trib_ff1_minlen(36), 4);	/* 36^3 = 46,656 */
	assert_int_equal(trib_ff1_minlen(62), 4);	/* 62^3 = 238,328 */
	assert_int_equal(trib_ff1_minlen(2), 20);	/* 2^20 = 1,048,576 */
	assert_int_equal(trib_ff1_minlen(1000), 2);
	assert_int_equal(trib_ff1_minlen(65536), 2);	/* never below 2 */
}

/* FF1 refuses too-short input, bad numerals, long tweaks, bad keys. */
static void
test_ff1_errors(void **state)
{
	unsigned char key[32] = {1};
	unsigned char tweak[TRIB_FF1_MAXTWEAK + 1] = {0};
	uint16_t	in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint16_t	out[8];
	char		err[256];
	trib_ff1   *f;

	(void) state;
	assert_null(trib_ff1_new(key, 20, 10, err, sizeof(err)));
	assert_non_null(strstr(err, "16, 24 or 32"));
	assert_null(trib_ff1_new(key, 32, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "radix"));
	f = trib_ff1_new(key, 32, 10, err, sizeof(err));
	assert_non_null(f);
	/* 5 digits: 10^5 < 10^6 */
	assert_false(trib_ff1_encrypt(f, NULL, 0, in, 5, out, err, sizeof(err)));
	assert_non_null(strstr(err, "5 numerals"));
	assert_non_null(strstr(err, "needs 6"));
	assert_false(trib_ff1_decrypt(f, NULL, 0, in, 5, out, err, sizeof(err)));
	assert_true(trib_ff1_encrypt(f, NULL, 0, in, 6, out, err, sizeof(err)));
	in[3] = 10;
	assert_false(trib_ff1_encrypt(f, NULL, 0, in, 8, out, err, sizeof(err)));
	assert_non_null(strstr(err, "position 3"));
	in[3] = 4;
	assert_false(trib_ff1_encrypt(f, tweak, sizeof(tweak), in, 8, out, err, sizeof(err)));
	assert_non_null(strstr(err, "tweak"));
	assert_true(trib_ff1_encrypt(f, tweak, TRIB_FF1_MAXTWEAK, in, 8, out, err,
								 sizeof(err)));
	trib_ff1_free(f);
}

/* Round trips at every length from the minimum to 200, odd and even,
 * several radixes and tweak lengths that cross the Q padding boundary. */
static void
test_ff1_round_trips(void **state)
{
	static const unsigned radixes[] = {2, 10, 36, 62, 256, 65536};
	unsigned char key[24];
	unsigned char tweak[40];
	char		err[256];

	(void) state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char) (i * 7 + 3);
	for (size_t i = 0; i < sizeof(tweak); i++)
		tweak[i] = (unsigned char) (i * 13);
	for (size_t r = 0; r < sizeof(radixes) / sizeof(radixes[0]); r++)
	{
		trib_ff1   *f = trib_ff1_new(key, sizeof(key), radixes[r], err, sizeof(err));

		assert_non_null(f);
		for (size_t n = trib_ff1_minlen(radixes[r]); n <= 200; n += 7)
		{
			uint16_t	in[200],
						ct[200],
						back[200];
			size_t		tl = n % sizeof(tweak);

			for (size_t i = 0; i < n; i++)
				in[i] = (uint16_t) ((i * 31 + n) % radixes[r]);
			if (!trib_ff1_encrypt(f, tweak, tl, in, n, ct, err, sizeof(err)))
				fail_msg("radix %u n %zu: %s", radixes[r], n, err);
			assert_true(trib_ff1_decrypt(f, tweak, tl, ct, n, back, err, sizeof(err)));
			assert_memory_equal(in, back, n * sizeof(uint16_t));
			assert_memory_not_equal(in, ct, n * sizeof(uint16_t));
			for (size_t i = 0; i < n; i++)
				assert_true(ct[i] < radixes[r]);
		}
		trib_ff1_free(f);
	}
}

static trib_key *
key32(void)
{
	char		err[256];
	trib_key   *k = trib_key_parse("000102030405060708090a0b0c0d0e0f"
								   "101112131415161718191a1b1c1d1e1f", 64,
								   TRIB_KEY_HEX, "test key", err, sizeof(err));

	assert_non_null(k);
	return k;
}

/* Separators stay in place; only digits change; the result round-trips. */
static void
test_tokenize_keeps_format(void **state)
{
	static const char card[] = "4111-1111 1111-1111";
	trib_key   *k = key32();
	char		err[256];
	char	   *tok = NULL,
			   *back = NULL;
	trib_mask_tokenizer *t = trib_mask_tokenize_new(k, TRIB_ALPHA_DIGITS, "payments.card", 13,
													false, err, sizeof(err));

	(void) state;
	assert_non_null(t);
	assert_true(trib_mask_tokenize(t, card, strlen(card), &tok, err, sizeof(err)));
	assert_int_equal(strlen(tok), strlen(card));
	for (size_t i = 0; card[i]; i++)
	{
		if (card[i] == '-' || card[i] == ' ')
			assert_int_equal(tok[i], card[i]);
		else
			assert_non_null(strchr("0123456789", tok[i]));
	}
	assert_string_not_equal(tok, card);
	assert_true(trib_mask_tokenize_reverse(t, tok, strlen(tok), &back, err, sizeof(err)));
	assert_string_equal(back, card);
	free(tok);
	free(back);
	trib_mask_tokenize_free(t);
	trib_key_free(k);
}

/* Deterministic per (key, tweak); another tweak or key gives another token. */
static void
test_tokenize_tweak_and_key_separate(void **state)
{
	static const char v[] = "5500000000000004";
	trib_key   *k = key32();
	trib_key   *k2 = trib_key_dup(k);
	char		err[256];
	char	   *a = NULL,
			   *a2 = NULL,
			   *b = NULL,
			   *c = NULL;
	trib_mask_tokenizer *ta,
			   *ta2,
			   *tb,
			   *tc;

	(void) state;
	k2->bytes[0] ^= 1;
	ta = trib_mask_tokenize_new(k, TRIB_ALPHA_DIGITS, "t1", 2, true, err, sizeof(err));
	ta2 = trib_mask_tokenize_new(k, TRIB_ALPHA_DIGITS, "t1", 2, true, err, sizeof(err));
	tb = trib_mask_tokenize_new(k, TRIB_ALPHA_DIGITS, "t2", 2, true, err, sizeof(err));
	tc = trib_mask_tokenize_new(k2, TRIB_ALPHA_DIGITS, "t1", 2, true, err, sizeof(err));
	assert_true(ta && ta2 && tb && tc);
	assert_true(trib_mask_tokenize(ta, v, 16, &a, err, sizeof(err)));
	assert_true(trib_mask_tokenize(ta2, v, 16, &a2, err, sizeof(err)));
	assert_true(trib_mask_tokenize(tb, v, 16, &b, err, sizeof(err)));
	assert_true(trib_mask_tokenize(tc, v, 16, &c, err, sizeof(err)));
	assert_string_equal(a, a2);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	free(a);
	free(a2);
	free(b);
	free(c);
	trib_mask_tokenize_free(ta);
	trib_mask_tokenize_free(ta2);
	trib_mask_tokenize_free(tb);
	trib_mask_tokenize_free(tc);
	trib_key_free(k);
	trib_key_free(k2);
}

/* Each alphabet maps only onto itself; others (and UTF-8) are kept. */
static void
test_tokenize_alphabets(void **state)
{
	static const char value[] = "Jöhn.Doe-42@Example.com";
	trib_key   *k = key32();
	char		err[256];

	(void) state;
	for (int a = TRIB_ALPHA_DIGITS; a <= TRIB_ALPHA_ALNUM; a++)
	{
		const char *chars = trib_mask_tokenize_alphabet_chars((trib_mask_token_alphabet) a);
		const char *in = a == TRIB_ALPHA_DIGITS ? "call +1 (555) 010-9999" : value;
		trib_mask_tokenizer *t = trib_mask_tokenize_new(k, (trib_mask_token_alphabet) a, "x", 1,
														false, err, sizeof(err));
		char	   *tok = NULL,
				   *back = NULL;

		assert_non_null(t);
		if (!trib_mask_tokenize(t, in, strlen(in), &tok, err, sizeof(err)))
			fail_msg("%s: %s", trib_mask_tokenize_alphabet_name((trib_mask_token_alphabet) a), err);
		for (size_t i = 0; in[i]; i++)
		{
			bool		inalpha = strchr(chars, in[i]) != NULL;

			if (inalpha)
				assert_non_null(strchr(chars, tok[i]));
			else
				assert_int_equal(tok[i], in[i]);
		}
		assert_true(trib_mask_tokenize_reverse(t, tok, strlen(tok), &back, err, sizeof(err)));
		assert_string_equal(back, in);
		free(tok);
		free(back);
		trib_mask_tokenize_free(t);
	}
	trib_key_free(k);
}

/* Too few alphabet characters, strict mode, bad keys, bad names. */
static void
test_tokenize_errors(void **state)
{
	trib_key   *k = key32();
	trib_key   *bad;
	char		err[256];
	char	   *out = NULL;
	trib_mask_token_alphabet a;
	trib_mask_tokenizer *t;

	(void) state;
	t = trib_mask_tokenize_new(k, TRIB_ALPHA_DIGITS, NULL, 0, false, err, sizeof(err));
	assert_non_null(t);
	/* 5 digits among separators: too short, and the message has no digits
	 * of the value */
	assert_false(trib_mask_tokenize(t, "12-3 45", 7, &out, err, sizeof(err)));
	assert_non_null(strstr(err, "has 5 characters of the digits alphabet"));
	assert_non_null(strstr(err, "needs 6"));
	assert_null(strstr(err, "12-3"));
	assert_false(trib_mask_tokenize_reverse(t, "", 0, &out, err, sizeof(err)));
	assert_true(trib_mask_tokenize(t, "123456", 6, &out, err, sizeof(err)));
	free(out);
	trib_mask_tokenize_free(t);

	t = trib_mask_tokenize_new(k, TRIB_ALPHA_DIGITS, NULL, 0, true, err, sizeof(err));
	assert_false(trib_mask_tokenize(t, "1234-5678", 9, &out, err, sizeof(err)));
	assert_non_null(strstr(err, "at byte 4"));
	trib_mask_tokenize_free(t);

	/* alnum needs 4 */
	t = trib_mask_tokenize_new(k, TRIB_ALPHA_ALNUM, NULL, 0, false, err, sizeof(err));
	assert_false(trib_mask_tokenize(t, "aB1", 3, &out, err, sizeof(err)));
	assert_true(trib_mask_tokenize(t, "aB1z", 4, &out, err, sizeof(err)));
	free(out);
	trib_mask_tokenize_free(t);

	bad = trib_key_parse("00112233445566778899", 20, TRIB_KEY_HEX, "environment "
						 "variable TK", err, sizeof(err));
	assert_non_null(bad);
	assert_null(trib_mask_tokenize_new(bad, TRIB_ALPHA_DIGITS, NULL, 0, false, err,
								  sizeof(err)));
	assert_string_equal(err, "key from environment variable TK is 10 bytes; tokenize "
						"(FF1-AES-128/192/256) needs 16, 24 or 32 bytes");
	trib_key_free(bad);

	assert_true(trib_mask_tokenize_alphabet_parse("alnum-upper", &a, err, sizeof(err)));
	assert_int_equal(a, TRIB_ALPHA_ALNUM_UPPER);
	assert_false(trib_mask_tokenize_alphabet_parse("hex", &a, err, sizeof(err)));
	assert_non_null(strstr(err, "accepted: digits, alnum-lower, alnum-upper, alnum"));
	trib_key_free(k);
}

/* The remembered value (kept buffers, overwritten in place): a run of
 * values of random lengths, repeats and both directions on one tokenizer
 * gives what a fresh tokenizer gives for each value. */
static void
test_tokenize_memo_matches_fresh(void **state)
{
	trib_key   *k = key32();
	char		err[256];
	trib_mask_tokenizer *t = trib_mask_tokenize_new(k, TRIB_ALPHA_DIGITS, "id", 2, false, err,
													sizeof(err));
	char		in[200];
	char		prev[200] = "123456";
	unsigned	x = 7;

	(void) state;
	assert_non_null(t);
	for (int i = 0; i < 3000; i++)
	{
		trib_mask_tokenizer *fresh = trib_mask_tokenize_new(k, TRIB_ALPHA_DIGITS, "id", 2, false,
															err, sizeof(err));
		bool		reverse = i % 5 == 4;
		size_t		len;
		char	   *a = NULL,
				   *b = NULL;

		x = x * 1103515245u + 12345u;
		len = 6 + (x >> 8) % (i % 7 == 0 ? 150 : 14);
		if (i % 3 == 2)
			snprintf(in, sizeof(in), "%s", prev);	/* a repeat */
		else
			for (size_t j = 0; j < len; j++)
				in[j] = (char) ('0' + (x >> (j % 20)) % 10), in[len] = '\0';
		len = strlen(in);
		assert_true((reverse ? trib_mask_tokenize_reverse : trib_mask_tokenize) (t, in, len, &a, err,
																		 sizeof(err)));
		assert_true((reverse ? trib_mask_tokenize_reverse : trib_mask_tokenize) (fresh, in, len, &b, err,
																		 sizeof(err)));
		assert_string_equal(a, b);
		snprintf(prev, sizeof(prev), "%s", in);
		free(a);
		free(b);
		trib_mask_tokenize_free(fresh);
	}
	trib_mask_tokenize_free(t);
	trib_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ff1_nist_samples),
		cmocka_unit_test(test_tokenizer_nist_samples),
		cmocka_unit_test(test_ff1_minlen),
		cmocka_unit_test(test_ff1_errors),
		cmocka_unit_test(test_ff1_round_trips),
		cmocka_unit_test(test_tokenize_keeps_format),
		cmocka_unit_test(test_tokenize_tweak_and_key_separate),
		cmocka_unit_test(test_tokenize_alphabets),
		cmocka_unit_test(test_tokenize_errors),
		cmocka_unit_test(test_tokenize_memo_matches_fresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
