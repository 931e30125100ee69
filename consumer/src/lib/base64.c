/*
 * base64.c: strict base64 (see base64.h).
 *
 * Decoding works in quanta of four characters: every full quantum gives
 * three bytes; the last, possibly shortened or padded, gives one or two.
 * Lengths that leave a single character in the last quantum cannot come
 * from any byte string and are rejected, as are bits left over in the last
 * character that an encoder would have set to zero.
 */
#include "base64.h"

#include <stdint.h>
#include <string.h>

static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
trib_b64_encoded_len(size_t n, bool pad)
{
	if (pad)
		return (n + 2) / 3 * 4;
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t
trib_b64_encode(const unsigned char *in, size_t n, bool url, bool pad, char *out)
{
	const char *a = url ? b64_url : b64_std;
	size_t		o = 0;
	size_t		i = 0;

	for (; i + 3 <= n; i += 3)
	{
		uint32_t	v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1)
	{
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4];
		if (pad)
		{
			out[o++] = '=';
			out[o++] = '=';
		}
	}
	else if (n - i == 2)
	{
		uint32_t	v = (uint32_t) in[i] << 8 | in[i + 1];

		out[o++] = a[v >> 10];
		out[o++] = a[(v >> 4) & 63];
		out[o++] = a[(v & 15) << 2];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t
trib_b64_decoded_max(size_t n)
{
	return (n + 3) / 4 * 3;
}

/*
 * The 6-bit value of c in the alphabet, or -1.  *seen records which
 * alphabet the URL/standard-specific characters came from (1 standard,
 * 2 URL) so that one text cannot mix them.
 */
static int
b64val(unsigned char c, trib_b64_alphabet alphabet, int *seen)
{
	int			kind = 0;
	int			v;

	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '/')
	{
		kind = 1;
		v = c == '+' ? 62 : 63;
	}
	else if (c == '-' || c == '_')
	{
		kind = 2;
		v = c == '-' ? 62 : 63;
	}
	else
		return -1;
	if ((alphabet == TRIB_B64_STD && kind != 1) ||
		(alphabet == TRIB_B64_URL && kind != 2) ||
		(*seen != 0 && *seen != kind))
		return -1;
	*seen = kind;
	return v;
}

/* Strip and check the padding: how many data characters there are. */
static bool
b64_data_len(const char *in, size_t n, trib_b64_padding padding, size_t *datalen)
{
	size_t		d = n;

	while (d > 0 && in[d - 1] == '=' && n - d < 2)
		d--;
	if (d > 0 && in[d - 1] == '=')
		return false;			/* three '=' or more */
	if (n != d)
	{
		/* padded: the whole text is quanta and the padding is exact */
		if (padding == TRIB_B64_PAD_FORBIDDEN || n % 4 != 0 ||
			(n - d) != (4 - d % 4) % 4)
			return false;
	}
	else if (d % 4 != 0 && padding == TRIB_B64_PAD_REQUIRED)
		return false;
	if (d % 4 == 1)
		return false;
	*datalen = d;
	return true;
}

bool
trib_b64_decode(const char *in, size_t n, trib_b64_alphabet alphabet,
				trib_b64_padding padding, unsigned char *out, size_t *outlen)
{
	size_t		d;
	size_t		o = 0;
	uint32_t	acc = 0;
	int			bits = 0;
	int			seen = 0;

	if (!b64_data_len(in, n, padding, &d))
		return false;
	for (size_t i = 0; i < d; i++)
	{
		int			v = b64val((unsigned char) in[i], alphabet, &seen);

		if (v < 0)
			return false;
		acc = (acc << 6 | (uint32_t) v) & 0xffffff;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (unsigned char) (acc >> bits);
		}
	}
	/* the bits an encoder left over must be zero */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return false;
	*outlen = o;
	return true;
}
