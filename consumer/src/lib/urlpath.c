/*
 * urlpath.c: the two steps of percent-decoding a URL path (urlpath.h).
 * One loop, told which escapes to decode; %00 is never decoded.
 */
#include "urlpath.h"

#include <stdbool.h>

#include "hex.h"

/* Is byte value v one that the path step keeps encoded? */
static bool
kept(int v)
{
	return v == '/' || v == '%';
}

/* Decode the escapes of s that `segment` selects (the kept ones, or all
 * others), in place; returns the new length. */
static size_t
unescape(char *s, bool segment)
{
	char	   *out = s;

	for (const char *in = s; *in != '\0';)
	{
		int			hi = in[0] == '%' ? trib_hex_digit((unsigned char) in[1]) : -1;
		int			lo = hi >= 0 ? trib_hex_digit((unsigned char) in[2]) : -1;
		int			v = hi * 16 + lo;

		if (lo >= 0 && v != 0 && kept(v) == segment)
		{
			*out++ = (char) v;
			in += 3;
		}
		else
			*out++ = *in++;
	}
	*out = '\0';
	return (size_t) (out - s);
}

size_t
trib_url_unescape_path(char *s)
{
	return unescape(s, false);
}

void
trib_url_unescape_segment(char *s)
{
	(void) unescape(s, true);
}
