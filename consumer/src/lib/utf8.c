/*
 * utf8.c: strict UTF-8 decoding (see utf8.h).
 *
 * One decoder serves validation, counting and iteration: the lead byte
 * gives the length and the smallest code point that length may encode
 * (which rejects overlong forms), continuation bytes must be 10xxxxxx, and
 * surrogates and values above U+10FFFF are refused.
 */
#include "utf8.h"

size_t
trib_utf8_next(const char *str, size_t len, size_t i, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *) str;
	unsigned char c = s[i];
	size_t		n;
	uint32_t	v,
				min;

	if (c < 0x80)
	{
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0)
		n = 2, v = c & 0x1F, min = 0x80;
	else if ((c & 0xF0) == 0xE0)
		n = 3, v = c & 0x0F, min = 0x800;
	else if ((c & 0xF8) == 0xF0)
		n = 4, v = c & 0x07, min = 0x10000;
	else
		goto bad;
	if (i + n > len)
		goto bad;
	for (size_t k = 1; k < n; k++)
	{
		if ((s[i + k] & 0xC0) != 0x80)
			goto bad;
		v = (v << 6) | (s[i + k] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		goto bad;
	*cp = v;
	return n;
bad:
	*cp = 0xFFFD;
	return 1;
}

bool
trib_utf8_valid(const char *s, size_t len)
{
	size_t		i = 0;
	uint32_t	cp;

	while (i < len)
	{
		size_t		n = trib_utf8_next(s, len, i, &cp);

		if (cp == 0xFFFD && n == 1 && (unsigned char) s[i] >= 0x80)
			return false;
		i += n;
	}
	return true;
}

size_t
trib_utf8_count(const char *s, size_t len)
{
	size_t		i = 0,
				count = 0;
	uint32_t	cp;

	while (i < len)
	{
		i += trib_utf8_next(s, len, i, &cp);
		count++;
	}
	return count;
}
