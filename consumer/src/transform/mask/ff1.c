/*
 * ff1.c: FF1 (NIST SP 800-38G, Algorithms 7 and 8) over OpenSSL AES and
 * BIGNUM (see ff1.h).
 *
 * Layout.  ff1_setup() computes the per-call constants (u, v, b, d, P,
 * radix^u, radix^v); ff1_round_y() computes one round's y from the half
 * that goes into Q (steps 6.i to 6.iv); encrypt and decrypt differ only
 * in which half feeds the round and whether y is added or subtracted.
 *
 * The halves live in three buffers of v numerals (v >= u); each round
 * rotates them (A <- B, B <- C) instead of copying.
 *
 * Timing: BIGNUM arithmetic and the numeral conversions are not constant
 * time; FF1 protects the mapping, not the time taken, and the lengths are
 * public anyway.
 */
#include "ff1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "errf.h"
#include "strbuf.h"

struct trib_ff1
{
	EVP_CIPHER_CTX *aes;		/* AES-ECB, encrypt, no padding */
	unsigned	radix;
	BN_CTX	   *bn;
};

/* Per-call constants and scratch space (Algorithm 7/8 steps 1 to 5). */
typedef struct ff1_call
{
	size_t		n,
				u,
				v,
				b,
				d;
	unsigned char P[16];
	unsigned char *Q;			/* qlen bytes: T || pad || i || NUM(X) */
	size_t		qlen;
	unsigned char *S;			/* d rounded up to 16 bytes */
	BIGNUM	   *pow_u,
			   *pow_v,
			   *x,
			   *y,
			   *c;
} ff1_call;

trib_ff1 *
trib_ff1_new(const unsigned char *key, size_t keylen, unsigned radix,
			 char *errbuf, size_t errlen)
{
	const char *name = keylen == 16 ? "AES-128-ECB" : keylen == 24 ? "AES-192-ECB" :
		keylen == 32 ? "AES-256-ECB" : NULL;
	EVP_CIPHER *cipher;
	trib_ff1   *f;

	if (name == NULL)
	{
		snprintf(errbuf, errlen, "FF1 key is %zu bytes; AES needs 16, 24 or 32", keylen);
		return NULL;
	}
	if (radix < 2 || radix > 65536)
	{
		snprintf(errbuf, errlen, "FF1 radix %u is outside 2..65536", radix);
		return NULL;
	}
	f = trib_xcalloc(1, sizeof(*f));
	f->radix = radix;
	f->aes = EVP_CIPHER_CTX_new();
	f->bn = BN_CTX_new();
	cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	if (f->aes == NULL || f->bn == NULL || cipher == NULL ||
		!EVP_EncryptInit_ex2(f->aes, cipher, key, NULL, NULL) ||
		!EVP_CIPHER_CTX_set_padding(f->aes, 0))
	{
		EVP_CIPHER_free(cipher);
		trib_ff1_free(f);
		snprintf(errbuf, errlen, "FF1: OpenSSL could not set up %s", name);
		return NULL;
	}
	EVP_CIPHER_free(cipher);
	return f;
}

void
trib_ff1_free(trib_ff1 *f)
{
	if (f == NULL)
		return;
	EVP_CIPHER_CTX_free(f->aes);
	BN_CTX_free(f->bn);
	free(f);
}

size_t
trib_ff1_minlen(unsigned radix)
{
	uint64_t	dom = radix;
	size_t		n = 1;

	if (radix < 2)
		return 0;
	while (n < 2 || dom < TRIB_FF1_MIN_DOMAIN)
	{
		dom *= radix;
		n++;
	}
	return n;
}

/* out = CIPH_K(in), one AES block. */
static bool
ciph(trib_ff1 *f, const unsigned char in[16], unsigned char out[16])
{
	int			outl = 0;

	return EVP_EncryptUpdate(f->aes, out, &outl, in, 16) && outl == 16;
}

/* Big-endian bytes of v into out[0..len). */
static void
put_be(unsigned char *out, size_t len, uint64_t v)
{
	for (size_t i = len; i-- > 0;)
	{
		out[i] = (unsigned char) v;
		v >>= 8;
	}
}

/* x = NUM_radix(X[0..len)). */
static bool
num_radix(const trib_ff1 *f, const uint16_t *X, size_t len, BIGNUM *x)
{
	BN_zero(x);
	for (size_t i = 0; i < len; i++)
		if (!BN_mul_word(x, f->radix) || !BN_add_word(x, X[i]))
			return false;
	return true;
}

/* X[0..m) = STR^m_radix(c); c is consumed. */
static bool
str_radix(const trib_ff1 *f, BIGNUM *c, size_t m, uint16_t *X)
{
	for (size_t i = m; i-- > 0;)
	{
		BN_ULONG	r = BN_div_word(c, f->radix);

		if (r == (BN_ULONG) -1)
			return false;
		X[i] = (uint16_t) r;
	}
	return true;
}

static void
call_free(ff1_call *c)
{
	free(c->Q);
	if (c->S != NULL)
		OPENSSL_clear_free(c->S, (c->d + 15) / 16 * 16);
	BN_free(c->pow_u);
	BN_free(c->pow_v);
	BN_clear_free(c->x);
	BN_clear_free(c->y);
	BN_clear_free(c->c);
}

/* Steps 1 to 5: u, v, b, d, P; allocate Q and S. */
static bool
ff1_setup(trib_ff1 *f, size_t n, size_t t, ff1_call *c)
{
	BIGNUM	   *r = BN_new();
	BIGNUM	   *e = BN_new();
	bool		ok;

	memset(c, 0, sizeof(*c));
	c->n = n;
	c->u = n / 2;
	c->v = n - c->u;
	c->pow_u = BN_new();
	c->pow_v = BN_new();
	c->x = BN_new();
	c->y = BN_new();
	c->c = BN_new();
	ok = r && e && c->pow_u && c->pow_v && c->x && c->y && c->c &&
		BN_set_word(r, f->radix) &&
		BN_set_word(e, c->u) && BN_exp(c->pow_u, r, e, f->bn) &&
		BN_set_word(e, c->v) && BN_exp(c->pow_v, r, e, f->bn) &&
	/* b = ceil(ceil(v * log2(radix)) / 8) = bytes of (radix^v - 1) */
		BN_copy(e, c->pow_v) && BN_sub_word(e, 1);
	BN_free(r);
	if (!ok)
	{
		BN_free(e);
		return false;
	}
	c->b = ((size_t) BN_num_bits(e) + 7) / 8;
	BN_free(e);
	c->d = 4 * ((c->b + 3) / 4) + 4;
	/* P = [1]^1 || [2]^1 || [1]^1 || [radix]^3 || [10]^1 || [u mod 256]^1
	 * || [n]^4 || [t]^4 */
	c->P[0] = 1;
	c->P[1] = 2;
	c->P[2] = 1;
	put_be(c->P + 3, 3, f->radix);
	c->P[6] = 10;
	c->P[7] = (unsigned char) (c->u % 256);
	put_be(c->P + 8, 4, n);
	put_be(c->P + 12, 4, t);
	/* Q = T || [0]^((-t-b-1) mod 16) || [i]^1 || [NUM(X)]^b */
	c->qlen = t + (16 - (t + c->b + 1) % 16) % 16 + 1 + c->b;
	c->Q = trib_xcalloc(1, c->qlen);
	c->S = trib_xcalloc(1, (c->d + 15) / 16 * 16);
	return true;
}

/* Steps 6.i to 6.iv: y = NUM(S) for round i with X the half in Q. */
static bool
ff1_round_y(trib_ff1 *f, ff1_call *c, const unsigned char *T, size_t t,
			unsigned i, const uint16_t *X, size_t xlen)
{
	unsigned char R[16];
	unsigned char blk[16];

	/* i. Q; T and the zero padding are fixed, write them every round */
	if (t > 0)
		memcpy(c->Q, T, t);
	memset(c->Q + t, 0, c->qlen - t - c->b);
	c->Q[c->qlen - c->b - 1] = (unsigned char) i;
	if (!num_radix(f, X, xlen, c->x) ||
		BN_bn2binpad(c->x, c->Q + c->qlen - c->b, (int) c->b) < 0)
		return false;
	/* ii. R = PRF(P || Q): CBC-MAC with AES, zero IV */
	if (!ciph(f, c->P, R))
		return false;
	for (size_t off = 0; off < c->qlen; off += 16)
	{
		for (int k = 0; k < 16; k++)
			blk[k] = R[k] ^ c->Q[off + k];
		if (!ciph(f, blk, R))
			return false;
	}
	/* iii. S = R || CIPH(R xor [1]^16) || CIPH(R xor [2]^16) ..., d bytes */
	memcpy(c->S, R, 16);
	for (size_t j = 1; j < (c->d + 15) / 16; j++)
	{
		unsigned char jb[4];

		memcpy(blk, R, 16);
		put_be(jb, 4, j);
		for (int k = 0; k < 4; k++)
			blk[12 + k] ^= jb[k];
		if (!ciph(f, blk, c->S + 16 * j))
			return false;
	}
	OPENSSL_cleanse(R, sizeof(R));
	OPENSSL_cleanse(blk, sizeof(blk));
	/* iv. y = NUM(S) over the first d bytes */
	return BN_bin2bn(c->S, (int) c->d, c->y) != NULL;
}

/* Validate the arguments both directions share. */
static bool
check_args(const trib_ff1 *f, size_t tweaklen, const uint16_t *in, size_t n,
		   char *errbuf, size_t errlen)
{
	size_t		minlen = trib_ff1_minlen(f->radix);

	if (!trib_errf_len_ok(tweaklen, TRIB_FF1_MAXTWEAK, "FF1 tweak", errbuf, errlen))
		return false;
	if (n < minlen || n > TRIB_FF1_MAXLEN)
		return trib_errf(errbuf, errlen, "FF1 input has %zu numerals; radix %u needs %zu to %d "
						 "(radix^length >= %d)", n, f->radix, minlen, TRIB_FF1_MAXLEN,
						 TRIB_FF1_MIN_DOMAIN);
	for (size_t i = 0; i < n; i++)
		if (in[i] >= f->radix)
			return trib_errf(errbuf, errlen, "FF1 numeral at position %zu is not below the "
							 "radix %u", i, f->radix);
	return true;
}

/* One direction of the cipher; enc selects Algorithm 7 or 8. */
static bool
ff1_crypt(trib_ff1 *f, bool enc, const unsigned char *T, size_t t,
		  const uint16_t *in, size_t n, uint16_t *out, char *errbuf, size_t errlen)
{
	ff1_call	c;
	uint16_t   *A,
			   *B,
			   *C;
	size_t		alen,
				blen;
	bool		ok = true;

	if (!check_args(f, t, in, n, errbuf, errlen))
		return false;
	if (!ff1_setup(f, n, t, &c))
	{
		call_free(&c);
		return trib_errf(errbuf, errlen, "FF1: OpenSSL BIGNUM failed");
	}
	A = trib_xcalloc(c.v, sizeof(uint16_t));
	B = trib_xcalloc(c.v, sizeof(uint16_t));
	C = trib_xcalloc(c.v, sizeof(uint16_t));
	memcpy(A, in, c.u * sizeof(uint16_t));
	memcpy(B, in + c.u, c.v * sizeof(uint16_t));
	alen = c.u;
	blen = c.v;
	for (int k = 0; k < 10 && ok; k++)
	{
		unsigned	i = enc ? (unsigned) k : (unsigned) (9 - k);
		size_t		m = i % 2 == 0 ? c.u : c.v;
		BIGNUM	   *mod = i % 2 == 0 ? c.pow_u : c.pow_v;
		uint16_t   *tmp;

		/* encrypt: y from B, c = A + y; decrypt: y from A, c = B - y */
		ok = ff1_round_y(f, &c, T, t, i, enc ? B : A, enc ? blen : alen) &&
			num_radix(f, enc ? A : B, enc ? alen : blen, c.x) &&
			(enc ? BN_add(c.c, c.x, c.y) : BN_sub(c.c, c.x, c.y)) &&
			BN_nnmod(c.c, c.c, mod, f->bn) &&
			str_radix(f, c.c, m, C);
		tmp = enc ? A : B;
		if (enc)
		{						/* A = B; B = C */
			A = B;
			alen = blen;
			B = C;
			blen = m;
		}
		else
		{						/* B = A; A = C */
			B = A;
			blen = alen;
			A = C;
			alen = m;
		}
		C = tmp;
	}
	if (ok)
	{
		memcpy(out, A, alen * sizeof(uint16_t));
		memcpy(out + alen, B, blen * sizeof(uint16_t));
	}
	else
		trib_errf(errbuf, errlen, "FF1: OpenSSL AES or BIGNUM failed");
	OPENSSL_cleanse(A, c.v * sizeof(uint16_t));
	OPENSSL_cleanse(B, c.v * sizeof(uint16_t));
	OPENSSL_cleanse(C, c.v * sizeof(uint16_t));
	free(A);
	free(B);
	free(C);
	call_free(&c);
	return ok;
}

bool
trib_ff1_encrypt(trib_ff1 *f, const unsigned char *tweak, size_t tweaklen,
				 const uint16_t *in, size_t n, uint16_t *out, char *errbuf,
				 size_t errlen)
{
	return ff1_crypt(f, true, tweak, tweaklen, in, n, out, errbuf, errlen);
}

bool
trib_ff1_decrypt(trib_ff1 *f, const unsigned char *tweak, size_t tweaklen,
				 const uint16_t *in, size_t n, uint16_t *out, char *errbuf,
				 size_t errlen)
{
	return ff1_crypt(f, false, tweak, tweaklen, in, n, out, errbuf, errlen);
}
