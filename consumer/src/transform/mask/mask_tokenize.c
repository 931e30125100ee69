/*
 * mask_tokenize.c: FF1 tokenization of text values (see mask_tokenize.h).
 *
 * A value is split into the positions of its alphabet characters and
 * everything else.  The alphabet characters, read left to right, form the
 * numeral string FF1 encrypts; the result is written back into the same
 * positions, so the other bytes never move.  A 256-entry table maps bytes
 * to numerals (-1 for "other").
 *
 * A tokenizer remembers its last input and result (per direction): a
 * rule meets a key column twice per event, in `after` and in the key, and
 * an update's before and after usually hold the same value, so the second
 * time costs a compare and a copy instead of FF1.  The remembered texts
 * keep their buffers from one value to the next (grown when needed);
 * they are overwritten when replaced, the bytes past a shorter value
 * wiped, and wiped on free.  Values of up to TOK_STACK_NUMS characters
 * take their numerals on the stack.
 */
#include "mask_tokenize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "errf.h"
#include "ff1.h"
#include "strbuf.h"
#include "words.h"

/* The alphabets' words and characters, indexed by trib_mask_token_alphabet. */
static const char *const alphabet_names[] = {
	[TRIB_ALPHA_DIGITS] = "digits",
	[TRIB_ALPHA_ALNUM_LOWER] = "alnum-lower",
	[TRIB_ALPHA_ALNUM_UPPER] = "alnum-upper",
	[TRIB_ALPHA_ALNUM] = "alnum",
};

static const char *const alphabet_chars[] = {
	[TRIB_ALPHA_DIGITS] = "0123456789",
	[TRIB_ALPHA_ALNUM_LOWER] = "0123456789abcdefghijklmnopqrstuvwxyz",
	[TRIB_ALPHA_ALNUM_UPPER] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	[TRIB_ALPHA_ALNUM] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
};

/* Values up to this many characters keep their numerals on the stack. */
#define TOK_STACK_NUMS 64

struct trib_mask_tokenizer
{
	trib_ff1   *ff1;
	trib_mask_token_alphabet alphabet;
	const char *chars;
	unsigned	radix;
	size_t		minlen;			/* trib_ff1_minlen(radix) */
	int16_t		numeral[256];	/* byte -> numeral, or -1 */
	unsigned char *tweak;
	size_t		tweaklen;
	bool		strict;
	/* the last value and its result (see above) */
	char	   *memo_in;
	char	   *memo_out;
	size_t		memo_len;		/* of both: tokens keep the length */
	size_t		memo_cap;		/* bytes of each buffer */
	bool		memo_set;		/* memo_in/out hold a value */
	bool		memo_enc;
};

TRIB_WORDS_PARSER(trib_mask_tokenize_alphabet_parse, trib_mask_token_alphabet, alphabet_names,
				  "tokenize alphabet")

const char *
trib_mask_tokenize_alphabet_name(trib_mask_token_alphabet alphabet)
{
	return alphabet_names[alphabet];
}

const char *
trib_mask_tokenize_alphabet_chars(trib_mask_token_alphabet alphabet)
{
	return alphabet_chars[alphabet];
}

trib_mask_tokenizer *
trib_mask_tokenize_new(const trib_key *key, trib_mask_token_alphabet alphabet,
					   const void *tweak, size_t tweaklen, bool strict,
					   char *errbuf, size_t errlen)
{
	static const size_t aes_lens[] = {16, 24, 32};
	trib_mask_tokenizer *t;

	if (!trib_key_require_lens(key, aes_lens, 3, "tokenize (FF1-AES-128/192/256)",
							   errbuf, errlen))
		return NULL;
	if (!trib_errf_len_ok(tweaklen, TRIB_FF1_MAXTWEAK, "tokenize tweak", errbuf, errlen))
		return NULL;
	t = trib_xcalloc(1, sizeof(*t));
	t->alphabet = alphabet;
	t->chars = alphabet_chars[alphabet];
	t->radix = (unsigned) strlen(t->chars);
	t->minlen = trib_ff1_minlen(t->radix);
	t->strict = strict;
	for (int i = 0; i < 256; i++)
		t->numeral[i] = -1;
	for (unsigned i = 0; i < t->radix; i++)
		t->numeral[(unsigned char) t->chars[i]] = (int16_t) i;
	t->tweak = trib_xmalloc(tweaklen > 0 ? tweaklen : 1);
	if (tweaklen > 0)
		memcpy(t->tweak, tweak, tweaklen);
	t->tweaklen = tweaklen;
	t->ff1 = trib_ff1_new(key->bytes, key->len, t->radix, errbuf, errlen);
	if (t->ff1 == NULL)
	{
		trib_mask_tokenize_free(t);
		return NULL;
	}
	return t;
}

/* Forget the remembered value and free its buffers, wiping them. */
static void
memo_clear(trib_mask_tokenizer *t)
{
	if (t->memo_in != NULL)
	{
		OPENSSL_clear_free(t->memo_in, t->memo_cap);
		OPENSSL_clear_free(t->memo_out, t->memo_cap);
	}
	t->memo_in = t->memo_out = NULL;
	t->memo_cap = 0;
	t->memo_set = false;
}

/* A NUL-terminated copy of exactly len bytes (values may hold NULs). */
static char *
bytes_dup(const char *p, size_t len)
{
	char	   *c = trib_xmalloc(len + 1);

	memcpy(c, p, len);
	c[len] = '\0';
	return c;
}

/* A copy of the result for in[0..len) in direction enc if it is the
 * remembered one, else NULL. */
static char *
memo_get(const trib_mask_tokenizer *t, bool enc, const char *in, size_t len)
{
	if (!t->memo_set || t->memo_enc != enc || t->memo_len != len ||
		memcmp(t->memo_in, in, len) != 0)
		return NULL;
	return bytes_dup(t->memo_out, len);
}

/* Remember in[0..len) -> out[0..len) for direction enc, over the
 * previous value (its bytes past len wiped). */
static void
memo_put(trib_mask_tokenizer *t, bool enc, const char *in, const char *out, size_t len)
{
	if (len + 1 > t->memo_cap)
	{
		memo_clear(t);
		t->memo_cap = len + 1 > 32 ? len + 1 : 32;
		t->memo_in = trib_xmalloc(t->memo_cap);
		t->memo_out = trib_xmalloc(t->memo_cap);
	}
	else if (t->memo_set && t->memo_len > len)
	{
		OPENSSL_cleanse(t->memo_in + len, t->memo_len - len);
		OPENSSL_cleanse(t->memo_out + len, t->memo_len - len);
	}
	memcpy(t->memo_in, in, len);
	memcpy(t->memo_out, out, len);
	t->memo_in[len] = t->memo_out[len] = '\0';
	t->memo_len = len;
	t->memo_enc = enc;
	t->memo_set = true;
}

void
trib_mask_tokenize_free(trib_mask_tokenizer *t)
{
	if (t == NULL)
		return;
	trib_ff1_free(t->ff1);
	memo_clear(t);
	free(t->tweak);
	free(t);
}

/* Collect the numerals of in[0..len) into nums; false on a strict miss or
 * too many. */
static bool
collect(const trib_mask_tokenizer *t, const char *what, const char *in, size_t len,
		uint16_t *nums, size_t *count, char *errbuf, size_t errlen)
{
	size_t		k = 0;

	for (size_t i = 0; i < len; i++)
	{
		int16_t		v = t->numeral[(unsigned char) in[i]];

		if (v >= 0)
			nums[k++] = (uint16_t) v;
		else if (t->strict)
			return trib_errf(errbuf, errlen, "%s: the value has a character outside the "
							 "%s alphabet at byte %zu (strict mode)", what,
							 alphabet_names[t->alphabet], i);
	}
	*count = k;
	return true;
}

/* The length checks, in the terms of the value (not of FF1). */
static bool
check_count(const trib_mask_tokenizer *t, const char *what, size_t count, char *errbuf,
			size_t errlen)
{
	size_t		minlen = t->minlen;

	if (count >= minlen && count <= TRIB_FF1_MAXLEN)
		return true;
	/* trib_errf formats nothing for errlen 0 (a caller that redacts) */
	return trib_errf(errbuf, errlen, "%s: the value has %zu characters of the %s "
					 "alphabet; FF1 needs %zu to %d (radix %u, radix^length >= %d)",
					 what, count, alphabet_names[t->alphabet], minlen, TRIB_FF1_MAXLEN,
					 t->radix, TRIB_FF1_MIN_DOMAIN);
}

/* Shared body of tokenize and detokenize. */
static bool
transform(trib_mask_tokenizer *t, bool enc, const char *in, size_t len, char **out,
		  char *errbuf, size_t errlen)
{
	uint16_t	stack_nums[TOK_STACK_NUMS];
	uint16_t   *nums = len <= TOK_STACK_NUMS ? stack_nums
		: trib_xmalloc(len * sizeof(uint16_t));
	size_t		count = 0;
	char	   *res;
	bool		ok;
	const char *what = enc ? "tokenize" : "detokenize";

	if ((*out = memo_get(t, enc, in, len)) != NULL)
	{
		if (nums != stack_nums)
			free(nums);
		return true;
	}
	ok = collect(t, what, in, len, nums, &count, errbuf, errlen) &&
		check_count(t, what, count, errbuf, errlen) &&
		(enc ? trib_ff1_encrypt : trib_ff1_decrypt) (t->ff1, t->tweak, t->tweaklen,
													 nums, count, nums, errbuf, errlen);
	if (ok)
	{
		size_t		k = 0;

		res = trib_xmalloc(len + 1);
		for (size_t i = 0; i < len; i++)
			res[i] = t->numeral[(unsigned char) in[i]] >= 0 ? t->chars[nums[k++]] : in[i];
		res[len] = '\0';
		*out = res;
		memo_put(t, enc, in, res, len);
	}
	/* explicit_bzero (a memset the compiler keeps), as in ff1.c: a
	 * fraction of OPENSSL_cleanse's call */
	explicit_bzero(nums, len * sizeof(uint16_t));
	if (nums != stack_nums)
		free(nums);
	return ok;
}

bool
trib_mask_tokenize(trib_mask_tokenizer *t, const char *in, size_t len, char **out,
				   char *errbuf, size_t errlen)
{
	return transform(t, true, in, len, out, errbuf, errlen);
}

bool
trib_mask_tokenize_reverse(trib_mask_tokenizer *t, const char *in, size_t len, char **out,
						   char *errbuf, size_t errlen)
{
	return transform(t, false, in, len, out, errbuf, errlen);
}
