/*
 * ff1.c: FF1 (NIST SP 800-38G, Algorithms 7 and 8) over OpenSSL AES, with
 * the numeral arithmetic in 64-bit integers for short values and OpenSSL
 * BIGNUM for long ones (see ff1.h).
 *
 * Layout.  ff1_prf() is what both paths share: steps 6.ii and 6.iii (the
 * CBC-MAC of P || Q and its expansion to S).  Its first block, CIPH(P),
 * depends only on the key, radix, n and the tweak length, so the instance
 * keeps it for the last (n, t) it saw: one AES call fewer per round.
 * Each AES block is one EVP_Cipher call (ciph()), the provider's cipher
 * without EVP_EncryptUpdate's bookkeeping around it.
 *
 * Two paths compute the rounds, with the same bytes in and out:
 *   - ff1_crypt64(): when radix^v <= 2^32 (radix 10: up to 18 digits;
 *     radix 36: 12; radix 62: 10), every half, radix^m and NUM(S) mod
 *     radix^m fit in a uint64_t (b <= 4 bytes, so d = 8 and S is one
 *     block), and the rounds run without allocating.  What no round
 *     changes is computed once per (n, tweak) and kept in the instance
 *     (shape_get(): u, v, b, radix^u and radix^v with their reciprocals,
 *     and the CBC-MAC state after P and Q's fixed blocks), so a round is
 *     one AES block, a few xors and no division instruction: the
 *     reductions mod radix^m and the final STR conversion use a
 *     multiply-high by a reciprocal computed once (ff1_divmod()).
 *     test_ff1_ref.c keeps the former version of this path (Q rebuilt
 *     and MACed in full each round, `%` for every reduction) and checks
 *     both give the same numerals;
 *   - ff1_crypt_bn(): any other length, on BIGNUM.  ff1_setup() computes
 *     the per-call constants (u, v, b, d, P, radix^u, radix^v);
 *     ff1_round_y() computes one round's y from the half that goes into Q
 *     (steps 6.i to 6.iv).  The halves live in three buffers of v numerals
 *     (v >= u); each round rotates them (A <- B, B <- C) instead of
 *     copying.
 * Encrypt and decrypt differ only in which half feeds the round and
 * whether y is added or subtracted.  trib_ff1_force_bignum() sends every
 * length down the BIGNUM path, so tests can compare the two.
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

/* The 64-bit path's bound on radix^v (so b <= 4 and d = 8). */
#define FF1_FAST_MAX (UINT64_C(1) << 32)

/* Q's largest size: T, padding, i, and NUM(X) in at most 4 bytes. */
#define FF1_FAST_QMAX (TRIB_FF1_MAXTWEAK + 16 + 1 + 4)

/* A divisor d (2 <= d <= 2^32) with m = floor((2^64 - 1) / d), for
 * ff1_divmod(). */
typedef struct ff1_div
{
	uint64_t	d;
	uint64_t	m;
} ff1_div;

/* The 64-bit path's constants for one (n, tweak): see shape_get(). */
typedef struct ff1_shape
{
	bool		valid;
	size_t		n,
				t;
	unsigned char T[TRIB_FF1_MAXTWEAK];
	size_t		u,
				v;
	unsigned	ibit;			/* 8 * b: where i sits in Q's last 8 bytes */
	ff1_div		mod_u,			/* radix^u */
				mod_v;			/* radix^v */
	unsigned char base[16];		/* CBC-MAC state xor Q's last block's fixed bytes */
} ff1_shape;

struct trib_ff1
{
	EVP_CIPHER_CTX *aes;		/* AES-ECB, encrypt, no padding */
	unsigned	radix;
	size_t		minlen;			/* trib_ff1_minlen(radix) */
	ff1_div		rdiv;			/* radix */
	ff1_shape	shape;			/* the 64-bit path's last (n, tweak) */
	BN_CTX	   *bn;
	bool		bignum_only;	/* trib_ff1_force_bignum() */
	bool		p_valid;		/* p_ciph is CIPH(P) for (p_n, p_t) */
	size_t		p_n,
				p_t;
	unsigned char p_ciph[16];
};

/* Per-call constants and scratch space (Algorithm 7/8 steps 1 to 5). */
typedef struct ff1_call
{
	size_t		n,
				u,
				v,
				b,
				d;
	unsigned char *Q;			/* qlen bytes: T || pad || i || NUM(X) */
	size_t		qlen;
	unsigned char *S;			/* d rounded up to 16 bytes */
	BIGNUM	   *pow_u,
			   *pow_v,
			   *x,
			   *y,
			   *c;
} ff1_call;

static void div_init(ff1_div *dv, uint64_t d);

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
	f->minlen = trib_ff1_minlen(radix);
	div_init(&f->rdiv, radix);
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
	OPENSSL_clear_free(f, sizeof(*f));
}

void
trib_ff1_force_bignum(trib_ff1 *f, bool on)
{
	f->bignum_only = on;
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

/* out = CIPH_K(in), one AES block.  EVP_Cipher calls the provider's
 * cipher directly; EVP_EncryptUpdate's checks and partial-block handling
 * around the same call (ECB, no padding, whole blocks) cost ~20
 * instructions a block, ten blocks a 6-digit value.  EVP_Cipher returns the
 * bytes written, or 1 for a legacy cipher; <= 0 on failure. */
static bool
ciph(trib_ff1 *f, const unsigned char in[16], unsigned char out[16])
{
	return EVP_Cipher(f->aes, out, in, 16) > 0;
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

/* NUM(p[0..8)): written out so that the compiler makes it one load and
 * a byte swap (a loop over the bytes cost ~45 instructions a round). */
static inline uint64_t
get_be64(const unsigned char p[8])
{
	return (uint64_t) p[0] << 56 | (uint64_t) p[1] << 48 | (uint64_t) p[2] << 40 |
		(uint64_t) p[3] << 32 | (uint64_t) p[4] << 24 | (uint64_t) p[5] << 16 |
		(uint64_t) p[6] << 8 | (uint64_t) p[7];
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

/* Q's length: T || [0]^((-t-b-1) mod 16) || [i]^1 || [NUM(X)]^b. */
static size_t
q_len(size_t t, size_t b)
{
	return t + (16 - (t + b + 1) % 16) % 16 + 1 + b;
}

/* Q's fixed part, T and the zero padding (step 6.i). */
static void
q_prefix(unsigned char *Q, size_t qlen, const unsigned char *T, size_t t, size_t b)
{
	if (t > 0)
		memcpy(Q, T, t);
	memset(Q + t, 0, qlen - t - b);
}

/*
 * CIPH_K(P), P = [1]^1 || [2]^1 || [1]^1 || [radix]^3 || [10]^1 ||
 * [u mod 256]^1 || [n]^4 || [t]^4 (step 5): the first block of every
 * round's CBC-MAC, computed once per (n, t) and kept in f.
 */
static bool
ciph_P(trib_ff1 *f, size_t n, size_t t, unsigned char out[16])
{
	unsigned char P[16];

	if (!f->p_valid || f->p_n != n || f->p_t != t)
	{
		P[0] = 1;
		P[1] = 2;
		P[2] = 1;
		put_be(P + 3, 3, f->radix);
		P[6] = 10;
		P[7] = (unsigned char) ((n / 2) % 256);
		put_be(P + 8, 4, n);
		put_be(P + 12, 4, t);
		f->p_valid = ciph(f, P, f->p_ciph);
		f->p_n = n;
		f->p_t = t;
		if (!f->p_valid)
			return false;
	}
	memcpy(out, f->p_ciph, 16);
	return true;
}

/*
 * Steps 6.ii and 6.iii: R = PRF(P || Q) (CBC-MAC with AES, zero IV, its
 * first block CIPH(P) from ciph_P), then S = R || CIPH(R xor [1]^16) ||
 * CIPH(R xor [2]^16) ... into S[0..ceil(d/16)*16).  R and the block are
 * wiped with explicit_bzero (a memset the compiler keeps), which costs a
 * fraction of OPENSSL_cleanse's call, ten times per value.
 */
static bool
ff1_prf(trib_ff1 *f, size_t n, size_t t, const unsigned char *Q, size_t qlen,
		size_t d, unsigned char *S)
{
	unsigned char R[16];
	unsigned char blk[16];
	bool		ok = ciph_P(f, n, t, R);

	for (size_t off = 0; ok && off < qlen; off += 16)
	{
		for (int k = 0; k < 16; k++)
			blk[k] = R[k] ^ Q[off + k];
		ok = ciph(f, blk, R);
	}
	memcpy(S, R, 16);
	for (size_t j = 1; ok && j < (d + 15) / 16; j++)
	{
		unsigned char jb[4];

		memcpy(blk, R, 16);
		put_be(jb, 4, j);
		for (int k = 0; k < 4; k++)
			blk[12 + k] ^= jb[k];
		ok = ciph(f, blk, S + 16 * j);
	}
	explicit_bzero(R, sizeof(R));
	explicit_bzero(blk, sizeof(blk));
	return ok;
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
	c->qlen = q_len(t, c->b);
	c->Q = trib_xcalloc(1, c->qlen);
	c->S = trib_xcalloc(1, (c->d + 15) / 16 * 16);
	return true;
}

/* Steps 6.i to 6.iv: y = NUM(S) for round i with X the half in Q. */
static bool
ff1_round_y(trib_ff1 *f, ff1_call *c, const unsigned char *T, size_t t,
			unsigned i, const uint16_t *X, size_t xlen)
{
	/* i. Q; T and the zero padding are fixed, write them every round */
	q_prefix(c->Q, c->qlen, T, t, c->b);
	c->Q[c->qlen - c->b - 1] = (unsigned char) i;
	if (!num_radix(f, X, xlen, c->x) ||
		BN_bn2binpad(c->x, c->Q + c->qlen - c->b, (int) c->b) < 0)
		return false;
	/* ii., iii. */
	if (!ff1_prf(f, c->n, t, c->Q, c->qlen, c->d, c->S))
		return false;
	/* iv. y = NUM(S) over the first d bytes */
	return BN_bin2bn(c->S, (int) c->d, c->y) != NULL;
}

/* Validate the arguments both directions share. */
static bool
check_args(const trib_ff1 *f, size_t tweaklen, const uint16_t *in, size_t n,
		   char *errbuf, size_t errlen)
{
	size_t		minlen = f->minlen;

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

/* The BIGNUM path of one direction; enc selects Algorithm 7 or 8. */
static bool
ff1_crypt_bn(trib_ff1 *f, bool enc, const unsigned char *T, size_t t,
			 const uint16_t *in, size_t n, uint16_t *out, char *errbuf, size_t errlen)
{
	ff1_call	c;
	uint16_t   *A,
			   *B,
			   *C;
	size_t		alen,
				blen;
	bool		ok = true;

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

/* ---- the 64-bit path ------------------------------------------------------ */

/* radix^m when it is at most FF1_FAST_MAX, else 0. */
static uint64_t
pow_small(unsigned radix, size_t m)
{
	uint64_t	p = 1;

	for (size_t i = 0; i < m; i++)
		if ((p *= radix) > FF1_FAST_MAX)
			return 0;
	return p;
}

/* d's reciprocal for ff1_mod / ff1_divmod (2 <= d <= 2^32). */
static void
div_init(ff1_div *dv, uint64_t d)
{
	dv->d = d;
	dv->m = UINT64_MAX / d;
}

/*
 * x mod d without a division instruction.  With m = floor((2^64 - 1) / d)
 * and q = floor(x * m / 2^64): x * m / 2^64 = x / d - x (1 + e) / (d 2^64)
 * where e = (2^64 - 1) mod d < d and x < 2^64, so it is above x / d - 1;
 * q is floor(x / d) or one less, and x - q d is below 2 d (no overflow:
 * d <= 2^32).  One conditional subtraction gives the remainder.
 */
static inline uint64_t
ff1_divmod(uint64_t x, const ff1_div *dv, uint64_t *quot)
{
	uint64_t	q,
				r;

#ifdef __SIZEOF_INT128__
	q = (uint64_t) (((unsigned __int128) x * dv->m) >> 64);
#else
	q = x / dv->d;
#endif
	r = x - q * dv->d;
	if (r >= dv->d)
	{
		r -= dv->d;
		q++;
	}
	*quot = q;
	return r;
}

static inline uint64_t
ff1_mod(uint64_t x, const ff1_div *dv)
{
	uint64_t	q;

	return ff1_divmod(x, dv, &q);
}

/* NUM_radix(X[0..len)) when it fits (X < radix^len <= 2^32). */
static uint64_t
num64(const uint16_t *X, size_t len, unsigned radix)
{
	uint64_t	x = 0;

	for (size_t i = 0; i < len; i++)
		x = x * radix + X[i];
	return x;
}

/* X[0..m) = STR^m_radix(x); rdiv is the radix. */
static void
str64(uint64_t x, const ff1_div *rdiv, size_t m, uint16_t *X)
{
	for (size_t i = m; i-- > 0;)
	{
		uint64_t	q;

		X[i] = (uint16_t) ff1_divmod(x, rdiv, &q);
		x = q;
	}
}

/*
 * The per-call constants of the 64-bit path for length n and tweak
 * T[0..t) (steps 1 to 5, and the part of 6.i and 6.ii that no round
 * changes), kept in f->shape for the next call with the same n and
 * tweak.  False when radix^v > 2^32 (the BIGNUM path's lengths) or AES
 * fails.
 *
 * Q = T || pad || [i]^1 || [NUM(X)]^b is qlen bytes, a multiple of 16;
 * b <= 4, so i and NUM(X) lie in its last block and every block before
 * is the same in all ten rounds: the CBC-MAC state after P and those
 * blocks, xored with the last block's fixed bytes (its share of T and
 * the padding), is `base`; a round xors in i and NUM(X) and encrypts
 * once.
 */
static bool
shape_get(trib_ff1 *f, size_t n, const unsigned char *T, size_t t)
{
	ff1_shape  *sh = &f->shape;
	size_t		u = n / 2,
				v = n - u,
				b = 0,
				qlen;
	uint64_t	pu,
				pv;
	unsigned char Q[FF1_FAST_QMAX];
	unsigned char R[16];
	bool		ok;

	if (sh->valid && sh->n == n && sh->t == t && (t == 0 || memcmp(sh->T, T, t) == 0))
		return true;
	sh->valid = false;
	pu = pow_small(f->radix, u);
	pv = pow_small(f->radix, v);
	if (pu == 0 || pv == 0)
		return false;
	for (uint64_t bound = pv - 1; bound > 0; bound >>= 8)
		b++;					/* b = bytes of radix^v - 1 */
	qlen = q_len(t, b);
	q_prefix(Q, qlen, T, t, b);
	Q[qlen - b - 1] = 0;
	memset(Q + qlen - b, 0, b);
	ok = ciph_P(f, n, t, R);
	for (size_t off = 0; ok && off + 16 < qlen; off += 16)
	{
		for (int k = 0; k < 16; k++)
			R[k] ^= Q[off + k];
		ok = ciph(f, R, R);
	}
	if (!ok)
		return false;
	for (int k = 0; k < 16; k++)
		sh->base[k] = R[k] ^ Q[qlen - 16 + k];
	sh->n = n;
	sh->t = t;
	if (t > 0)
		memcpy(sh->T, T, t);
	sh->u = u;
	sh->v = v;
	sh->ibit = 8 * b;
	div_init(&sh->mod_u, pu);
	div_init(&sh->mod_v, pv);
	sh->valid = true;
	return true;
}

/* Big-endian bytes of v into out[0..8): written out, like get_be64, so
 * that the compiler makes it a byte swap and one store (the loop form
 * cost ~40 instructions a round). */
static inline void
put_be64(unsigned char out[8], uint64_t v)
{
	out[0] = (unsigned char) (v >> 56);
	out[1] = (unsigned char) (v >> 48);
	out[2] = (unsigned char) (v >> 40);
	out[3] = (unsigned char) (v >> 32);
	out[4] = (unsigned char) (v >> 24);
	out[5] = (unsigned char) (v >> 16);
	out[6] = (unsigned char) (v >> 8);
	out[7] = (unsigned char) v;
}

/*
 * One direction with every number in a uint64_t (radix^v <= 2^32, so
 * b <= 4, d = 8, S one block, y = NUM(S) < 2^64); the same steps and the
 * same bytes into AES as ff1_crypt_bn(), with f->shape's constants
 * (shape_get() has succeeded for n and T).  Per round: the block is
 * base xor ([i]^1 || [NUM(X)]^b) in its last b + 1 bytes, one AES call,
 * y = NUM(S[0..8)) mod radix^m and the sum or difference mod radix^m,
 * both without a division (ff1_divmod; A, B and y are below radix^m, so
 * a sum needs at most one subtraction).
 */
static bool
ff1_crypt64(trib_ff1 *f, bool enc, const uint16_t *in, uint16_t *out, char *errbuf,
			size_t errlen)
{
	const ff1_shape *sh = &f->shape;
	const uint64_t base_lo = get_be64(sh->base + 8);
	uint64_t	A = num64(in, sh->u, f->radix),
				B = num64(in + sh->u, sh->v, f->radix);
	unsigned char blk[16];
	bool		ok = true;

	memcpy(blk, sh->base, 8);
	for (unsigned k = 0; k < 10 && ok; k++)
	{
		unsigned	i = enc ? k : 9 - k;
		const ff1_div *mod = i % 2 == 0 ? &sh->mod_u : &sh->mod_v;
		uint64_t	y,
					c;

		/* 6.i, 6.ii: the last 8 bytes are base's xor i || NUM(X) */
		put_be64(blk + 8, base_lo ^ ((uint64_t) i << sh->ibit) ^ (enc ? B : A));
		ok = ciph(f, blk, blk);
		/* 6.iv to 6.vi: y = NUM(S) mod radix^m; c = A + y or B - y */
		y = ff1_mod(get_be64(blk), mod);
		memcpy(blk, sh->base, 8);
		if (enc)
		{
			c = A + y;
			if (c >= mod->d)
				c -= mod->d;
			A = B;
			B = c;
		}
		else
		{
			c = B >= y ? B - y : B + mod->d - y;
			B = A;
			A = c;
		}
	}
	if (ok)
	{
		str64(A, &f->rdiv, sh->u, out);
		str64(B, &f->rdiv, sh->v, out + sh->u);
	}
	else
		trib_errf(errbuf, errlen, "FF1: OpenSSL AES failed");
	/* explicit_bzero, as in ff1_prf: a fraction of OPENSSL_cleanse's call */
	explicit_bzero(blk, sizeof(blk));
	explicit_bzero(&A, sizeof(A));
	explicit_bzero(&B, sizeof(B));
	return ok;
}

/* One direction of the cipher: the arguments checked, then the path. */
static bool
ff1_crypt(trib_ff1 *f, bool enc, const unsigned char *T, size_t t,
		  const uint16_t *in, size_t n, uint16_t *out, char *errbuf, size_t errlen)
{
	if (!check_args(f, t, in, n, errbuf, errlen))
		return false;
	if (!f->bignum_only && shape_get(f, n, T, t))
		return ff1_crypt64(f, enc, in, out, errbuf, errlen);
	return ff1_crypt_bn(f, enc, T, t, in, n, out, errbuf, errlen);
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
