/*
 * utf8.c: strict UTF-8 decoding (see utf8.h).
 *
 * One rule serves validation, counting, iteration and scrubbing:
 * trib_utf8_seqlen() accepts a sequence (it checks the lead byte and the
 * allowed range of the second byte, which rejects overlong forms,
 * surrogates and values above U+10FFFF); trib_utf8_next() then only
 * assembles the code point.
 */
#include "utf8.h"

#include <string.h>

#include "xalloc.h"

size_t
trib_utf8_next(const char *str, size_t len, size_t i, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *) str + i;
	size_t		n = trib_utf8_seqlen(str + i, len - i);
	uint32_t	v;

	switch (n)
	{
		case 1:
			v = s[0];
			break;
		case 2:
			v = (uint32_t) (s[0] & 0x1F) << 6 | (s[1] & 0x3F);
			break;
		case 3:
			v = (uint32_t) (s[0] & 0x0F) << 12 | (uint32_t) (s[1] & 0x3F) << 6 | (s[2] & 0x3F);
			break;
		case 4:
			v = (uint32_t) (s[0] & 0x07) << 18 | (uint32_t) (s[1] & 0x3F) << 12 |
				(uint32_t) (s[2] & 0x3F) << 6 | (s[3] & 0x3F);
			break;
		default:
			*cp = 0xFFFD;		/* ill-formed: one byte, so loops advance */
			return 1;
	}
	*cp = v;
	return n;
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

char *
trib_utf8_scrub(const char *s, size_t len)
{
	char	   *out = trib_xmalloc(len * 3 + 1);	/* one byte becomes at most 3 */
	size_t		o = 0;
	uint32_t	cp;

	for (size_t i = 0; i < len;)
	{
		size_t		n = trib_utf8_next(s, len, i, &cp);

		if (cp == 0xFFFD && n == 1 && (unsigned char) s[i] >= 0x80)
		{
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
		}
		else
		{
			memcpy(out + o, s + i, n);
			o += n;
		}
		i += n;
	}
	out[o] = '\0';
	return out;
}
