/*
 * test_ff1_ref.c: ff1.c's 64-bit path against the implementation it
 * replaced (2026-12-07), kept here, and only here, as a reference.
 *
 * The reference (ref_crypt64 and its helpers below) is the former
 * ff1_crypt64 of ff1.c, unchanged in what it computes: per round it
 * builds Q in full, runs the CBC-MAC from CIPH(P) over every block of Q,
 * and takes y and the sum modulo radix^m with the `%` operator.  The new
 * path keeps the CBC-MAC state of Q's fixed blocks per (n, tweak) and
 * reduces with a multiply-high reciprocal; it must give the same numerals
 * for every input.  Lengths past the 64-bit bound go to the BIGNUM path,
 * which did not change; they are compared with the reference's BIGNUM
 * instance (trib_ff1_force_bignum) so that the dispatch is covered too.
 *
 * Inputs: radixes 2, 3, 10, 16, 36, 62, 255, 256, 1000, 65535 and 65536,
 * every length from the radix's minimum to a few past the 64-bit bound,
 * AES-128/192/256, tweaks of every length class (0, one block of Q, two,
 * the maximum), the tweak changed in place between calls of the same
 * length (the new path's cache must see it), both directions, thousands
 * of random values (a fixed seed, so a failure repeats).  The tokenizer
 * (digits, alnum-lower, alnum) on random text with separators gives what
 * the reference gives on its numerals.
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

#include "ff1.h"
#include "keys.h"
#include "mask_tokenize.h"
#include "xorshift.h"

#define rng() xorshift_next(&rng_state)
#define MAXN 48

static uint64_t rng_state = 0xD1B54A32D192ED03ULL;

/* ---- the reference: the former 64-bit path ---- */

#define REF_FAST_MAX (UINT64_C(1) << 32)

typedef struct ref_ff1
{
	EVP_CIPHER_CTX *aes;
	unsigned	radix;
} ref_ff1;

static void
ref_init(ref_ff1 *r, const unsigned char *key, size_t keylen, unsigned radix)
{
	const EVP_CIPHER *c = keylen == 16 ? EVP_aes_128_ecb() : keylen == 24 ?
		EVP_aes_192_ecb() : EVP_aes_256_ecb();

	r->aes = EVP_CIPHER_CTX_new();
	r->radix = radix;
	assert_non_null(r->aes);
	assert_true(EVP_EncryptInit_ex(r->aes, c, NULL, key, NULL));
	assert_true(EVP_CIPHER_CTX_set_padding(r->aes, 0));
}

static void
ref_ciph(ref_ff1 *r, const unsigned char in[16], unsigned char out[16])
{
	assert_true(EVP_Cipher(r->aes, out, in, 16) > 0);
}

static void
ref_put_be(unsigned char *out, size_t len, uint64_t v)
{
	for (size_t i = len; i-- > 0;)
	{
		out[i] = (unsigned char) v;
		v >>= 8;
	}
}

static uint64_t
ref_pow(unsigned radix, size_t m)
{
	uint64_t	p = 1;

	for (size_t i = 0; i < m; i++)
		if ((p *= radix) > REF_FAST_MAX)
			return 0;
	return p;
}

/* Steps 6.ii, 6.iii with d = 8: R = CBC-MAC(P || Q), S = R. */
static void
ref_prf(ref_ff1 *r, size_t n, size_t t, const unsigned char *Q, size_t qlen,
		unsigned char S[16])
{
	unsigned char P[16],
				R[16],
				blk[16];

	P[0] = 1;
	P[1] = 2;
	P[2] = 1;
	ref_put_be(P + 3, 3, r->radix);
	P[6] = 10;
	P[7] = (unsigned char) ((n / 2) % 256);
	ref_put_be(P + 8, 4, n);
	ref_put_be(P + 12, 4, t);
	ref_ciph(r, P, R);
	for (size_t off = 0; off < qlen; off += 16)
	{
		for (int k = 0; k < 16; k++)
			blk[k] = R[k] ^ Q[off + k];
		ref_ciph(r, blk, R);
	}
	memcpy(S, R, 16);
}

/* The former ff1_crypt64: false when radix^v > 2^32 (not its lengths). */
static bool
ref_crypt64(ref_ff1 *r, bool enc, const unsigned char *T, size_t t,
			const uint16_t *in, size_t n, uint16_t *out)
{
	size_t		u = n / 2,
				v = n - u,
				b = 0,
				qlen;
	uint64_t	pu = ref_pow(r->radix, u),
				pv = ref_pow(r->radix, v),
				A = 0,
				B = 0;
	unsigned char Q[TRIB_FF1_MAXTWEAK + 16 + 1 + 4];
	unsigned char S[16];

	if (pu == 0 || pv == 0)
		return false;
	for (size_t i = 0; i < u; i++)
		A = A * r->radix + in[i];
	for (size_t i = u; i < n; i++)
		B = B * r->radix + in[i];
	for (uint64_t bound = pv - 1; bound > 0; bound >>= 8)
		b++;
	qlen = t + (16 - (t + b + 1) % 16) % 16 + 1 + b;
	if (t > 0)
		memcpy(Q, T, t);
	memset(Q + t, 0, qlen - t - b);
	for (int k = 0; k < 10; k++)
	{
		unsigned	i = enc ? (unsigned) k : (unsigned) (9 - k);
		uint64_t	mod = i % 2 == 0 ? pu : pv,
					y = 0,
					c;

		Q[qlen - b - 1] = (unsigned char) i;
		ref_put_be(Q + qlen - b, b, enc ? B : A);
		ref_prf(r, n, t, Q, qlen, S);
		for (int j = 0; j < 8; j++)
			y = y << 8 | S[j];
		y %= mod;
		if (enc)
		{
			c = (A + y) % mod;
			A = B;
			B = c;
		}
		else
		{
			c = (B + mod - y) % mod;
			B = A;
			A = c;
		}
	}
	for (size_t i = u; i-- > 0; A /= r->radix)
		out[i] = (uint16_t) (A % r->radix);
	for (size_t i = n; i-- > u; B /= r->radix)
		out[i] = (uint16_t) (B % r->radix);
	return true;
}

/* ---- the comparison ---- */

typedef struct cmp
{
	ref_ff1		ref;
	trib_ff1   *bn;				/* the BIGNUM path: the reference past 2^32 */
	trib_ff1   *ff;				/* under test */
} cmp;

static cmp
cmp_new(const unsigned char *key, size_t keylen, unsigned radix)
{
	char		err[256];
	cmp			c;

	ref_init(&c.ref, key, keylen, radix);
	c.bn = trib_ff1_new(key, keylen, radix, err, sizeof(err));
	c.ff = trib_ff1_new(key, keylen, radix, err, sizeof(err));
	assert_non_null(c.bn);
	assert_non_null(c.ff);
	trib_ff1_force_bignum(c.bn, true);
	return c;
}

static void
cmp_free(cmp *c)
{
	EVP_CIPHER_CTX_free(c->ref.aes);
	trib_ff1_free(c->bn);
	trib_ff1_free(c->ff);
}

/* The reference's numerals for in[0..n) in direction enc. */
static void
ref_crypt(cmp *c, bool enc, const unsigned char *tw, size_t tl, const uint16_t *in, size_t n,
		  uint16_t *out)
{
	char		err[256];

	if (!ref_crypt64(&c->ref, enc, tw, tl, in, n, out))
		assert_true((enc ? trib_ff1_encrypt : trib_ff1_decrypt) (c->bn, tw, tl, in, n, out, err,
																 sizeof(err)));
}

/* Both directions of in[0..n) agree with the reference; returns whether
 * the length is one of the 64-bit path's. */
static bool
check_one(cmp *c, const unsigned char *tw, size_t tl, const uint16_t *in, size_t n)
{
	uint16_t	want[MAXN],
				got[MAXN],
				tmp[MAXN];
	char		err[256];
	bool		fast = ref_crypt64(&c->ref, true, tw, tl, in, n, tmp);

	for (int enc = 1; enc >= 0; enc--)
	{
		ref_crypt(c, enc, tw, tl, in, n, want);
		assert_true((enc ? trib_ff1_encrypt : trib_ff1_decrypt) (c->ff, tw, tl, in, n, got, err,
																 sizeof(err)));
		if (memcmp(want, got, n * sizeof(uint16_t)) != 0)
			fail_msg("radix %u n %zu tweak %zu: %s differs from the reference", c->ref.radix, n,
					 tl, enc ? "encrypt" : "decrypt");
	}
	return fast;
}

/* Every radix and length, random values and tweaks, the tweak changed in
 * place between calls of the same length. */
static void
test_ff1_matches_reference(void **state)
{
	static const unsigned radixes[] = {2, 3, 10, 16, 36, 62, 255, 256, 1000, 65535, 65536};
	static const size_t keylens[] = {16, 24, 32};
	static const size_t tweaks[] = {0, 1, 2, 6, 7, 11, 12, 13, 16, 27, 28, 31, 64,
	TRIB_FF1_MAXTWEAK};
	unsigned char key[32],
				tw[TRIB_FF1_MAXTWEAK];
	uint16_t	in[MAXN];
	long		fast = 0,
				total = 0;

	(void) state;
	for (size_t r = 0; r < sizeof(radixes) / sizeof(radixes[0]); r++)
	{
		unsigned	radix = radixes[r];
		size_t		last = trib_ff1_minlen(radix);

		/* a few lengths past the 64-bit bound: radix^ceil(n/2) > 2^32 */
		while (ref_pow(radix, last - last / 2) != 0)
			last++;
		last += 3;
		if (last > MAXN)
			last = MAXN;
		for (size_t k = 0; k < 3; k++)
		{
			cmp			c;

			for (size_t i = 0; i < sizeof(key); i++)
				key[i] = (unsigned char) rng();
			c = cmp_new(key, keylens[k], radix);
			for (size_t n = trib_ff1_minlen(radix); n <= last; n++)
			{
				int			reps = radix == 10 || radix == 36 || radix == 62 ? 60 : 12;

				for (int rep = 0; rep < reps; rep++)
				{
					size_t		tl = tweaks[rng() % (sizeof(tweaks) / sizeof(tweaks[0]))];

					/* same buffer, new bytes: a cache keyed on the pointer or
					 * the length alone would answer with the old tweak */
					for (size_t i = 0; i < tl; i++)
						tw[i] = (unsigned char) rng();
					for (size_t i = 0; i < n; i++)
						in[i] = rep == 0 ? 0 : rep == 1 ? (uint16_t) (radix - 1)
							: (uint16_t) (rng() % radix);
					fast += check_one(&c, tw, tl, in, n);
					total++;
					/* the same tweak again (the cached constants) */
					in[n - 1] = (uint16_t) (rng() % radix);
					check_one(&c, tw, tl, in, n);
					total++;
				}
			}
			cmp_free(&c);
		}
	}
	/* most of them on the 64-bit path, the rest on BIGNUM */
	assert_true(fast > 4000);
	assert_true(total - 2 * fast > 400);
}

/* Random radix-10 values of every length the 64-bit path takes, under
 * one tweak (the tokenizer's case): 20,000 per direction. */
static void
test_ff1_radix10_many(void **state)
{
	unsigned char key[16];
	uint16_t	in[MAXN];
	cmp			c;

	(void) state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char) rng();
	c = cmp_new(key, 16, 10);
	for (int rep = 0; rep < 20000; rep++)
	{
		size_t		n = 6 + (size_t) (rng() % 13);	/* 6..18 digits */

		for (size_t i = 0; i < n; i++)
			in[i] = (uint16_t) (rng() % 10);
		assert_true(check_one(&c, (const unsigned char *) "id", 2, in, n));
	}
	cmp_free(&c);
}

/* The tokenizer against the reference on the numerals of random text:
 * alphabet characters and separators mixed, both directions. */
static void
test_tokenize_matches_reference(void **state)
{
	static const trib_mask_token_alphabet alphabets[] = {
		TRIB_ALPHA_DIGITS, TRIB_ALPHA_ALNUM_LOWER, TRIB_ALPHA_ALNUM
	};
	static const char keyhex[] = "2B7E151628AED2A6ABF7158809CF4F3C";
	char		err[256];
	trib_key   *key = trib_key_parse(keyhex, 32, TRIB_KEY_HEX, "test", err, sizeof(err));

	(void) state;
	assert_non_null(key);
	for (size_t a = 0; a < sizeof(alphabets) / sizeof(alphabets[0]); a++)
	{
		const char *chars = trib_mask_tokenize_alphabet_chars(alphabets[a]);
		unsigned	radix = (unsigned) strlen(chars);
		trib_mask_tokenizer *t = trib_mask_tokenize_new(key, alphabets[a], "tbl.col", 7, false,
														err, sizeof(err));
		cmp			c = cmp_new(key->bytes, key->len, radix);

		assert_non_null(t);
		for (int rep = 0; rep < 3000; rep++)
		{
			char		text[MAXN + 1],
						want[MAXN + 1];
			uint16_t	nums[MAXN];
			size_t		len = 1 + (size_t) (rng() % MAXN),
						k = 0;
			bool		enc = rng() % 2 == 0;
			char	   *got = NULL;

			for (size_t i = 0; i < len; i++)
				text[i] = rng() % 5 == 0 ? "-. @/"[rng() % 5] : chars[rng() % radix];
			text[len] = '\0';
			for (size_t i = 0; i < len; i++)
				if (strchr(chars, text[i]) != NULL)
					nums[k++] = (uint16_t) (strchr(chars, text[i]) - chars);
			if (k < trib_ff1_minlen(radix))
			{
				assert_false((enc ? trib_mask_tokenize : trib_mask_tokenize_reverse) (t, text, len,
																	   &got, err, sizeof(err)));
				continue;
			}
			ref_crypt(&c, enc, (const unsigned char *) "tbl.col", 7, nums, k, nums);
			k = 0;
			for (size_t i = 0; i < len; i++)
				want[i] = strchr(chars, text[i]) != NULL ? chars[nums[k++]] : text[i];
			want[len] = '\0';
			assert_true((enc ? trib_mask_tokenize : trib_mask_tokenize_reverse) (t, text, len, &got,
																   err, sizeof(err)));
			if (strcmp(got, want) != 0)
				fail_msg("%s %s: %s, the reference gives %s", enc ? "tokenize" : "detokenize", text,
						 got, want);
			free(got);
		}
		cmp_free(&c);
		trib_mask_tokenize_free(t);
	}
	trib_key_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ff1_matches_reference),
		cmocka_unit_test(test_ff1_radix10_many),
		cmocka_unit_test(test_tokenize_matches_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
