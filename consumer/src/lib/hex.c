/*
 * hex.c: strict hex (see hex.h).
 */
#include "hex.h"

static const char hexdigits[] = "0123456789abcdef";

/* See hex.h: the digit's value plus one, 0 elsewhere. */
const unsigned char trib_hex_values1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

size_t
trib_hex_encode(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
	{
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return 2 * n;
}

bool
trib_hex_valid(const char *in, size_t n)
{
	if (n == 0 || n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (trib_hex_digit((unsigned char) in[i]) < 0)
			return false;
	return true;
}

bool
trib_hex_decode(const char *in, size_t n, unsigned char *out, size_t *outlen)
{
	if (n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i += 2)
	{
		int			hi = trib_hex_digit((unsigned char) in[i]);
		int			lo = trib_hex_digit((unsigned char) in[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (unsigned char) (hi << 4 | lo);
	}
	*outlen = n / 2;
	return true;
}
