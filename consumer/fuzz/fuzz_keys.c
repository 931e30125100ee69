/*
 * fuzz_keys.c: libFuzzer target for key text parsing (keys.c) and the
 * strict hex/base64 codec under it (textcodec.c).
 *
 * The first byte picks the key format (auto, hex, base64, raw); the rest
 * is the key text as an environment variable or a key file would hold it.
 * Whatever the bytes, parsing returns a key or an error, never crashes or
 * leaks.  Properties checked on every input:
 *   - a parsed key is non-empty, and for hex/base64 the decoding is
 *     canonical: encoding the key again gives the (trimmed) text back
 *     (hex up to case, base64 up to alphabet and padding);
 *   - the codec round-trips the input bytes in both alphabets, padded and
 *     not.
 *
 *   make -C consumer fuzz FUZZERS=fuzz/fuzz_keys.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "hex.h"
#include "keys.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The text with surrounding ASCII whitespace dropped. */
static void
trimmed(const char *s, size_t n, const char **t, size_t *tn)
{
	while (n > 0 && space(s[0]))
	{
		s++;
		n--;
	}
	while (n > 0 && space(s[n - 1]))
		n--;
	*t = s;
	*tn = n;
}

/* Encoding the key again must reproduce its text. */
static void
check_canonical(const trib_key *k, const char *text, size_t len, trib_key_format fmt)
{
	const char *t;
	size_t		tn;
	char	   *enc = malloc(k->len * 2 + 8);
	size_t		en;

	if (enc == NULL)
		abort();
	trimmed(text, len, &t, &tn);
	if (fmt == TRIB_KEY_HEX || (fmt == TRIB_KEY_AUTO && trib_hex_valid(t, tn)))
	{
		en = trib_hex_encode(k->bytes, k->len, enc);
		if (en != tn || strncasecmp(enc, t, tn) != 0)
			abort();
	}
	else
	{
		bool		url = memchr(t, '-', tn) || memchr(t, '_', tn);
		bool		pad = tn > 0 && t[tn - 1] == '=';

		en = trib_b64_encode(k->bytes, k->len, url, pad, enc);
		/* without -_ or +/ in the text, either alphabet encodes it */
		if (en != tn || (memcmp(enc, t, tn) != 0 &&
						 (trib_b64_encode(k->bytes, k->len, !url, pad, enc) != tn ||
						  memcmp(enc, t, tn) != 0)))
			abort();
	}
	free(enc);
}

/* The codec round-trips arbitrary bytes. */
static void
check_codec(const uint8_t *data, size_t size)
{
	char	   *enc = malloc(trib_b64_encoded_len(size, true) + 2 * size + 1);
	unsigned char *dec = malloc(size + 4);
	size_t		n,
				dn;

	if (enc == NULL || dec == NULL)
		abort();
	for (int mode = 0; mode < 4; mode++)
	{
		bool		url = mode & 1,
					pad = mode & 2;

		n = trib_b64_encode(data, size, url, pad, enc);
		if (n != trib_b64_encoded_len(size, pad) ||
			!trib_b64_decode(enc, n, url ? TRIB_B64_URL : TRIB_B64_STD,
							 pad ? TRIB_B64_PAD_REQUIRED : TRIB_B64_PAD_FORBIDDEN, dec, &dn) ||
			dn != size || (size > 0 && memcmp(dec, data, size) != 0))
			abort();
	}
	n = trib_hex_encode(data, size, enc);
	if (!trib_hex_decode(enc, n, dec, &dn) || dn != size ||
		(size > 0 && memcmp(dec, data, size) != 0))
		abort();
	free(enc);
	free(dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	trib_key_format fmt;
	trib_key   *k;
	char		err[512];

	if (size == 0)
		return 0;
	fmt = (trib_key_format) (data[0] % 4);
	k = trib_key_parse((const char *) data + 1, size - 1, fmt, "key file fuzz", err,
					   sizeof(err));
	if (k != NULL)
	{
		if (k->len == 0)
			abort();
		if (fmt != TRIB_KEY_RAW)
			check_canonical(k, (const char *) data + 1, size - 1, fmt);
		trib_key_free(k);
	}
	check_codec(data + 1, size - 1);
	return 0;
}

#ifdef TRIB_FUZZ_MAIN
#include <stdio.h>

/* Replay the files named on the command line. */
int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		FILE	   *fp = fopen(argv[i], "rb");
		uint8_t		buf[1 << 16];
		size_t		len;

		if (fp == NULL)
			return 1;
		len = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, len);
	}
	return 0;
}
#endif
