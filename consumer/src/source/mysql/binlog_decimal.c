/*
 * binlog_decimal.c: DECIMAL values in the binlog's binary form, to their
 * exact decimal text.
 *
 * Format (MySQL's decimal2bin, documented in strings/decimal.cc and the
 * MariaDB KB "Rows event" page): the digits are cut into groups of nine,
 * counted outwards from the decimal point; every full group is a 4-byte
 * big-endian number, and a leftover group of n digits takes 0, 1, 1, 2, 2,
 * 3, 3, 4, 4 or 4 bytes (n = 0..9).  The integer part's leftover group
 * comes first, the fraction's last.  The high bit of the first byte is
 * inverted (set for non-negative values), and a negative value has every
 * byte complemented, so that the bytes sort as the numbers do.
 *
 * The text keeps every digit of the scale ("12.50" for DECIMAL(5,2)) and
 * drops the integer part's leading zeros, keeping one ("0.05").  A
 * negative zero is written without its sign.  Nothing is converted through
 * binary floating point.
 */
#include <string.h>

#include "binlog_int.h"

/* Bytes of a leftover group of n digits. */
static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

static const uint32_t pow10_u32[10] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000
};

size_t
trib_my_decimal_size(int precision, int scale)
{
	int			intg = precision - scale;

	if (precision < 1 || precision > 65 || scale < 0 || scale > precision)
		return 0;
	return (size_t) ((intg / 9) * 4 + dig2bytes[intg % 9] +
					 (scale / 9) * 4 + dig2bytes[scale % 9]);
}

/* Read one group of `digits` digits (bytes from dig2bytes) from b at *off
 * into out, zero-padded; false when its value has too many digits. */
static bool
group(const uint8_t *b, size_t *off, int digits, trib_strbuf *out)
{
	int			nbytes = digits == 9 ? 4 : dig2bytes[digits];
	uint32_t	v = 0;
	char		buf[16];

	for (int i = 0; i < nbytes; i++)
		v = v << 8 | b[(*off)++];
	if (v >= pow10_u32[digits])
		return false;
	for (int i = digits - 1; i >= 0; i--)
	{
		buf[i] = (char) ('0' + v % 10);
		v /= 10;
	}
	trib_strbuf_add(out, buf, (size_t) digits);
	return true;
}

bool
trib_my_decimal_text(const uint8_t *src, int precision, int scale,
					 trib_strbuf *out)
{
	size_t		size = trib_my_decimal_size(precision, scale);
	int			intg = precision - scale;
	uint8_t		b[40];
	bool		negative;
	size_t		off = 0,
				start = out->len,
				int_start,
				ndig,
				zeros;
	bool		ok = true;

	if (size == 0 || size > sizeof(b))
		return false;
	memcpy(b, src, size);
	negative = (b[0] & 0x80) == 0;
	b[0] ^= 0x80;
	if (negative)
		for (size_t i = 0; i < size; i++)
			b[i] = (uint8_t) ~b[i];
	trib_strbuf_addc(out, '-');
	int_start = out->len;
	if (intg % 9)
		ok = group(b, &off, intg % 9, out);
	for (int i = 0; ok && i < intg / 9; i++)
		ok = group(b, &off, 9, out);
	if (!ok)
		return false;
	/* drop the integer part's leading zeros, keep one digit */
	ndig = out->len - int_start;
	for (zeros = 0; zeros + 1 < ndig && out->data[int_start + zeros] == '0'; zeros++)
		;
	if (ndig == 0)
		trib_strbuf_addc(out, '0');
	else if (zeros > 0)
	{
		memmove(out->data + int_start, out->data + int_start + zeros, ndig - zeros);
		out->len -= zeros;
	}
	if (scale > 0)
		trib_strbuf_addc(out, '.');
	for (int i = 0; ok && i < scale / 9; i++)
		ok = group(b, &off, 9, out);
	if (ok && scale % 9)
		ok = group(b, &off, scale % 9, out);
	if (!ok)
		return false;
	/* "-0.00" is written "0.00" */
	if (strspn(out->data + start + 1, "0.") == out->len - start - 1 || !negative)
	{
		memmove(out->data + start, out->data + start + 1, out->len - start - 1);
		out->len--;
	}
	out->data[out->len] = '\0';
	return true;
}
