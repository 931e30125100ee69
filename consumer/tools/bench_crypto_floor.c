/*
 * bench_crypto_floor.c: the crypto floor of the masking strategies (issue
 * 15, target 2): what one value costs with the most direct OpenSSL calls,
 * against what the project's strategies take for the same value in the
 * same run.
 *
 *   build/tools/bench_crypto_floor [ITERATIONS]     (default 200000)
 *
 * Each case runs ITERATIONS times, 3 rounds; the best round's thread CPU
 * time (CLOCK_THREAD_CPUTIME_ID, so other processes on a shared machine
 * count less than in wall time) is printed in ns per operation.  Floors:
 *   - SHA-256 of a 50-byte message, reused EVP_MD_CTX: one compression;
 *   - HMAC-SHA256 of a 50-byte message (the size of hash's message for a
 *     W1 e-mail: label, lengths, context "email", value), with EVP_MAC
 *     re-initialised without a key (the key schedule kept), and with the
 *     inner and outer SHA-256 states precomputed and copied per value
 *     (EVP_MD_CTX_copy_ex): two compressions plus the copies;
 *   - one AES-128 block, EVP_Cipher on an ECB context (what ff1.c calls);
 *   - FF1 (NIST SP 800-38G) radix 10 on a 7-digit W1 id, tweak "id",
 *     written here from the standard in 64-bit integers with CIPH(P)
 *     computed once: ten rounds of one AES block each, the least FF1 can
 *     do for up to 16 digits and tweaks up to 6 bytes; checked against
 *     NIST's FF1 sample 1 and against trib_ff1_encrypt on W1 ids before
 *     timing.
 * The project's side: trib_mask_hash_apply (hex) on the e-mail,
 * trib_ff1_encrypt on the same numerals, and trib_mask_tokenize on the id
 * text (the strategy around FF1: numerals in and out).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "ff1.h"
#include "keys.h"
#include "mask_hash.h"
#include "mask_tokenize.h"

#define KEYHEX "00112233445566778899aabbccddeeff"
#define EMAIL "user123456@example.com"
#define ROUNDS 3

static const unsigned char KEY[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
};

static void
die(const char *what)
{
	fprintf(stderr, "bench_crypto_floor: %s failed\n", what);
	exit(1);
}

static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- FF1 floor: radix 10, n <= 16, one AES block per round ---- */

typedef struct
{
	EVP_CIPHER_CTX *aes;		/* AES-ECB encrypt, no padding */
	unsigned char p_ciph[16];	/* CIPH(P) for (n, t) below */
	size_t		n,
				t;
} floor_ff1;

static void
aes_block(EVP_CIPHER_CTX *c, const unsigned char in[16], unsigned char out[16])
{
	if (EVP_Cipher(c, out, in, 16) <= 0)
		die("EVP_Cipher");
}

static void
floor_ff1_init(floor_ff1 *f, const unsigned char *key, size_t keylen)
{
	f->aes = EVP_CIPHER_CTX_new();
	if (f->aes == NULL ||
		!EVP_EncryptInit_ex(f->aes, keylen == 16 ? EVP_aes_128_ecb() : EVP_aes_256_ecb(),
							NULL, key, NULL) ||
		!EVP_CIPHER_CTX_set_padding(f->aes, 0))
		die("AES set-up");
	f->n = f->t = 0;
}

/* P (SP 800-38G, Algorithm 7 step 5) for radix 10, encrypted once per (n, t). */
static void
floor_ff1_p(floor_ff1 *f, size_t n, size_t t)
{
	unsigned char p[16] = {1, 2, 1, 0, 0, 10, 10, 0};

	if (f->n == n && f->t == t)
		return;
	p[7] = (unsigned char) (n / 2);
	p[8] = (unsigned char) (n >> 24);
	p[9] = (unsigned char) (n >> 16);
	p[10] = (unsigned char) (n >> 8);
	p[11] = (unsigned char) n;
	p[12] = (unsigned char) (t >> 24);
	p[13] = (unsigned char) (t >> 16);
	p[14] = (unsigned char) (t >> 8);
	p[15] = (unsigned char) t;
	aes_block(f->aes, p, f->p_ciph);
	f->n = n;
	f->t = t;
}

/* Encrypt digits x[0..n) (values 0..9), 2 <= n <= 16, tweak of t <= 6
 * bytes (so that Q is one block: t + pad + 1 + b = 16), into y. */
static void
floor_ff1_encrypt(floor_ff1 *f, const unsigned char *tw, size_t t,
				  const uint16_t *x, size_t n, uint16_t *y)
{
	static const uint64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000,
	10000000, 100000000, 1000000000ULL};
	size_t		u = n / 2,
				v = n - u,
				i;
	uint64_t	a = 0,
				b = 0;
	unsigned	bb = v <= 2 ? 1 : v <= 4 ? 2 : v <= 7 ? 3 : 4;	/* ceil(ceil(v log2 10) / 8), v <= 8 */

	floor_ff1_p(f, n, t);
	for (i = 0; i < u; i++)
		a = a * 10 + x[i];
	for (i = u; i < n; i++)
		b = b * 10 + x[i];
	for (unsigned r = 0; r < 10; r++)
	{
		unsigned char q[16] = {0},
					out[16];
		uint64_t	s = 0,
					c;
		size_t		m = (r % 2 == 0) ? u : v;

		memcpy(q, tw, t);
		q[15 - bb] = (unsigned char) r;
		for (unsigned k = 0; k < bb; k++)
			q[15 - k] = (unsigned char) (b >> (8 * k));
		for (int k = 0; k < 16; k++)
			q[k] ^= f->p_ciph[k];
		aes_block(f->aes, q, out);
		for (int k = 0; k < 8; k++)	/* d = 8: S = the first 8 bytes */
			s = (s << 8) | out[k];
		c = (a + s % pow10[m]) % pow10[m];
		a = b;
		b = c;
	}
	for (i = u; i-- > 0;)
	{
		y[i] = (uint16_t) (a % 10);
		a /= 10;
	}
	for (i = n; i-- > u;)
	{
		y[i] = (uint16_t) (b % 10);
		b /= 10;
	}
}

static void
digits(const char *s, uint16_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d[i] = (uint16_t) (s[i] - '0');
}

/* NIST SP 800-38G FF1 sample 1 (AES-128, radix 10, no tweak); sample 2's
 * 10-byte tweak makes Q two blocks, which the floor does not do. */
static void
floor_ff1_check(void)
{
	static const unsigned char k[16] = {
		0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
		0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C
	};
	floor_ff1	f;
	uint16_t	x[10],
				y[10],
				want[10];

	floor_ff1_init(&f, k, 16);
	digits("0123456789", x, 10);
	floor_ff1_encrypt(&f, NULL, 0, x, 10, y);
	digits("2433477484", want, 10);
	if (memcmp(y, want, sizeof(y)) != 0)
		die("NIST FF1 sample 1");
	EVP_CIPHER_CTX_free(f.aes);
}

/* ---- timing ---- */

#define TIME(label, iters, body) do { \
	double best = 0; \
	for (int r_ = 0; r_ < ROUNDS; r_++) { \
		double t0_ = cpu_ns(); \
		for (long i_ = 0; i_ < (iters); i_++) { body; } \
		double ns_ = (cpu_ns() - t0_) / (double) (iters); \
		if (r_ == 0 || ns_ < best) best = ns_; \
	} \
	printf("%-58s %8.1f ns\n", label, best); \
} while (0)

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 200000;
	unsigned char msg[50],
				md[32],
				blk[16] = {0},
				out[16];
	unsigned int mdlen;
	size_t		maclen;
	char		err[256];
	const EVP_MD *sha = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new(),
			   *inner = EVP_MD_CTX_new(),
			   *outer = EVP_MD_CTX_new(),
			   *work = EVP_MD_CTX_new();
	EVP_MAC    *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *mac;
	OSSL_PARAM	params[2];
	unsigned char ipad[64],
				opad[64];
	floor_ff1	f;
	uint16_t	x[7],
				y[7],
				z[7];
	trib_key   *key;
	trib_mask_hash *h;
	trib_mask_tokenizer *tok;
	char	   *text = NULL;
	size_t		tlen = 0;
	volatile unsigned sink = 0;

	if (n <= 0 || sha == NULL || mctx == NULL || inner == NULL || outer == NULL ||
		work == NULL || hmac == NULL)
		die("set-up");
	memset(msg, 'a', sizeof(msg));
	memcpy(msg + sizeof(msg) - strlen(EMAIL), EMAIL, strlen(EMAIL));

	/* HMAC contexts: EVP_MAC keyed once */
	mac = EVP_MAC_CTX_new(hmac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (mac == NULL || !EVP_MAC_init(mac, KEY, sizeof(KEY), params))
		die("EVP_MAC_init");
	/* and by hand: the inner and outer states after the padded key */
	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (size_t i = 0; i < sizeof(KEY); i++)
	{
		ipad[i] ^= KEY[i];
		opad[i] ^= KEY[i];
	}
	if (!EVP_DigestInit_ex2(inner, sha, NULL) || !EVP_DigestUpdate(inner, ipad, 64) ||
		!EVP_DigestInit_ex2(outer, sha, NULL) || !EVP_DigestUpdate(outer, opad, 64))
		die("HMAC pads");
	/* the two HMACs agree */
	{
		unsigned char a[32],
					b[32];

		if (!EVP_MAC_init(mac, NULL, 0, NULL) || !EVP_MAC_update(mac, msg, sizeof(msg)) ||
			!EVP_MAC_final(mac, a, &maclen, sizeof(a)) ||
			!EVP_MD_CTX_copy_ex(work, inner) || !EVP_DigestUpdate(work, msg, sizeof(msg)) ||
			!EVP_DigestFinal_ex(work, b, &mdlen) || !EVP_MD_CTX_copy_ex(work, outer) ||
			!EVP_DigestUpdate(work, b, 32) || !EVP_DigestFinal_ex(work, b, &mdlen) ||
			memcmp(a, b, 32) != 0)
			die("HMAC by hand against EVP_MAC");
	}

	floor_ff1_check();
	floor_ff1_init(&f, KEY, sizeof(KEY));
	key = trib_key_parse(KEYHEX, strlen(KEYHEX), TRIB_KEY_HEX, "bench", err, sizeof(err));
	if (key == NULL)
		die(err);
	h = trib_mask_hash_new(key, "email", 5, TRIB_MASK_HASH_HEX, 0, err, sizeof(err));
	tok = trib_mask_tokenize_new(key, TRIB_ALPHA_DIGITS, "id", 2, false, err, sizeof(err));
	if (h == NULL || tok == NULL)
		die(err);
	{
		trib_ff1   *ff = trib_ff1_new(KEY, sizeof(KEY), 10, err, sizeof(err));
		static const unsigned char k1[16] = {
			0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
			0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C
		};
		trib_ff1   *nist = trib_ff1_new(k1, 16, 10, err, sizeof(err));
		floor_ff1	g;
		uint16_t	a[10],
					b[10],
					c[10];

		if (ff == NULL || nist == NULL)
			die(err);
		/* the floor and the project agree: NIST sample 1, and W1 ids */
		floor_ff1_init(&g, k1, 16);
		digits("0123456789", a, 10);
		floor_ff1_encrypt(&g, NULL, 0, a, 10, b);
		if (!trib_ff1_encrypt(nist, NULL, 0, a, 10, c, err, sizeof(err)) ||
			memcmp(b, c, sizeof(b)) != 0)
			die("NIST sample 1, floor against trib_ff1");
		for (int id = 100000; id < 1000000; id += 99991)
		{
			char		s[8];

			snprintf(s, sizeof(s), "%07d", id);
			digits(s, x, 7);
			floor_ff1_encrypt(&f, (const unsigned char *) "id", 2, x, 7, y);
			if (!trib_ff1_encrypt(ff, (const unsigned char *) "id", 2, x, 7, z, err, sizeof(err)) ||
				memcmp(y, z, sizeof(y)) != 0)
				die("a W1 id, floor against trib_ff1");
		}
		EVP_CIPHER_CTX_free(g.aes);
		trib_ff1_free(nist);

		printf("per operation, thread CPU time, best of %d rounds of %ld\n", ROUNDS, n);
		TIME("floor: SHA-256 of 50 bytes (reused EVP_MD_CTX)", n,
			 EVP_DigestInit_ex2(mctx, NULL, NULL); EVP_DigestUpdate(mctx, msg, sizeof(msg));
			 EVP_DigestFinal_ex(mctx, md, &mdlen); sink += md[0]);
		TIME("floor: HMAC-SHA256 of 50 bytes (EVP_MAC, key kept)", n,
			 EVP_MAC_init(mac, NULL, 0, NULL); EVP_MAC_update(mac, msg, sizeof(msg));
			 EVP_MAC_final(mac, md, &maclen, sizeof(md)); sink += md[0]);
		TIME("floor: HMAC-SHA256 of 50 bytes (pad states copied)", n,
			 EVP_MD_CTX_copy_ex(work, inner); EVP_DigestUpdate(work, msg, sizeof(msg));
			 EVP_DigestFinal_ex(work, md, &mdlen); EVP_MD_CTX_copy_ex(work, outer);
			 EVP_DigestUpdate(work, md, 32); EVP_DigestFinal_ex(work, md, &mdlen); sink += md[0]);
		TIME("project: trib_mask_hash_apply, W1 e-mail, hex", n,
			 if (!trib_mask_hash_apply(h, EMAIL, strlen(EMAIL), &text, &tlen, err, sizeof(err))) die(err);
			 sink += (unsigned) text[0]; free(text));
		TIME("floor: one AES-128 block (EVP_Cipher, ECB)", n,
			 aes_block(f.aes, blk, out); blk[0] = out[0]; sink += out[1]);
		TIME("floor: FF1 radix 10, 7 digits, 10 AES blocks, u64", n,
			 x[6] = (uint16_t) (i_ % 10); floor_ff1_encrypt(&f, (const unsigned char *) "id", 2, x, 7, y);
			 sink += y[0]);
		TIME("project: trib_ff1_encrypt, same numerals", n,
			 x[6] = (uint16_t) (i_ % 10);
			 if (!trib_ff1_encrypt(ff, (const unsigned char *) "id", 2, x, 7, z, err, sizeof(err))) die(err);
			 sink += z[0]);
		TIME("project: trib_mask_tokenize, W1 id text (7 digits)", n,
			 char s_[8]; snprintf(s_, sizeof(s_), "%07ld", 1000000 - i_ % 900000);
			 if (!trib_mask_tokenize(tok, s_, 7, &text, err, sizeof(err))) die(err);
			 sink += (unsigned) text[0]; free(text));
		trib_ff1_free(ff);
	}
	(void) sink;
	trib_mask_hash_free(h);
	trib_mask_tokenize_free(tok);
	trib_key_free(key);
	EVP_MAC_CTX_free(mac);
	EVP_MAC_free(hmac);
	EVP_MD_CTX_free(mctx);
	EVP_MD_CTX_free(inner);
	EVP_MD_CTX_free(outer);
	EVP_MD_CTX_free(work);
	EVP_CIPHER_CTX_free(f.aes);
	EVP_MD_free((EVP_MD *) sha);
	return 0;
}
