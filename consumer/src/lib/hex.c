/*
 * hex.c: strict hex (see hex.h).
 */
#include "hex.h"

static const char hexdigits[] = "0123456789abcdef";

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
