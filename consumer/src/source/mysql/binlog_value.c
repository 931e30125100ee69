/*
 * binlog_value.c: one column value of a row image, from its binlog bytes
 * to one JSON value (docs/MYSQL.md has the whole mapping).
 *
 * How many bytes a value takes depends on its binlog type and TABLE_MAP
 * metadata (trib_my_column), never on the value: fixed sizes for numbers
 * and temporal types, a length prefix of 1 or 2 bytes for CHAR/VARCHAR
 * (2 when the column may hold more than 255 bytes), of 1-4 bytes for
 * BLOB, TEXT, JSON and GEOMETRY, the storage size for ENUM and SET.
 *
 *   integers     JSON numbers, unsigned ones read unsigned (an unsigned
 *                BIGINT above 2^63 stays exact)
 *   FLOAT/DOUBLE shortest text that reads back as the same value
 *   DECIMAL      every digit of the scale (binlog_decimal.c)
 *   text         converted to UTF-8 (mysql_charset.c); CHAR loses the
 *                trailing spaces the server pads it with, as SELECT does
 *   binary       base64; BINARY(n) gets back the 0x00 padding the binlog
 *                strips
 *   ENUM/SET     the member names ("a", "x,y"); a number when the names
 *                are unknown
 *   BIT(n)       a string of n binary digits
 *   JSON         MariaDB: the text embedded as JSON when it parses, its
 *                whitespace between tokens dropped (a stored document's
 *                newlines would break a JSON-lines record), else a string;
 *                MySQL: the binary form decoded (binlog_json.c)
 *   GEOMETRY     the WKB after the 4-byte SRID, in lower-case hex
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "binlog_int.h"
#include "base64.h"
#include "hex.h"

void
trib_my_gen_str(yajl_gen g, const char *s, size_t len)
{
	yajl_gen_string(g, (const unsigned char *) s, len);
}

void
trib_my_gen_num(yajl_gen g, const char *s, size_t len)
{
	yajl_gen_number(g, s, len);
}

/* v in decimal into buf (at least 21 bytes), no terminator; its length. */
static size_t
dec_u64(char *buf, uint64_t v)
{
	char		tmp[20];
	size_t		n = 0;

	do
	{
		tmp[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* A signed integer in decimal into buf (at least 21 bytes); its length. */
static size_t
dec_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return dec_u64(buf, (uint64_t) v);
	buf[0] = '-';
	return 1 + dec_u64(buf + 1, (uint64_t) 0 - (uint64_t) v);
}

/*
 * The fast path of trib_my_format_double for a double: true with the text
 * in buf when v is m / 10^k exactly as IEEE divides (m an integer below
 * 10^15, k the smallest such, 1e-4 <= |v| < 1e15).  Both operands are
 * exact, so the quotient is the double nearest to the decimal m * 10^-k,
 * which is what strtod reads from that text: the text reads back.  It
 * has at most 15 digits (DBL_DIG), so "%.15g" prints exactly these digits
 * and the slow path would stop there with the same bytes; and within
 * that range of magnitudes "%g" writes no exponent.
 */
static bool
short_decimal(double v, char *buf, size_t len)
{
	static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
	1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
	double		a = v < 0 ? -v : v;
	char		digits[24];
	size_t		nd,
				at = 0;

	if (!(a >= 1e-4 && a < 1e15) || len < 24)
		return false;
	for (size_t k = 0; k < sizeof(p10) / sizeof(p10[0]); k++)
	{
		double		m = rint(a * p10[k]);

		if (m >= 1e15)
			return false;
		if (m / p10[k] != a)
			continue;
		nd = dec_u64(digits, (uint64_t) m);
		if (v < 0)
			buf[at++] = '-';
		if (nd <= k)
		{
			buf[at++] = '0';
			buf[at++] = '.';
			for (size_t z = nd; z < k; z++)
				buf[at++] = '0';
			memcpy(buf + at, digits, nd);
			at += nd;
		}
		else
		{
			memcpy(buf + at, digits, nd - k);
			at += nd - k;
			if (k > 0)
			{
				buf[at++] = '.';
				memcpy(buf + at, digits + nd - k, k);
				at += k;
			}
		}
		buf[at] = '\0';
		return true;
	}
	return false;
}

void
trib_my_format_double(double v, bool single, char *buf, size_t len)
{
	int			lo = single ? 6 : 15,
				hi = single ? 9 : 17;

	if (!single && short_decimal(v, buf, len))
		return;
	/* %g trims trailing zeros, so the first precision that reads back is
	 * also the shortest text: any value with fewer digits prints as that
	 * value padded with zeros at a higher precision */
	for (int p = lo; p <= hi; p++)
	{
		snprintf(buf, len, "%.*g", p, v);
		if (single ? strtof(buf, NULL) == (float) v : strtod(buf, NULL) == v)
			break;
	}
}

/* Bytes of the length prefix of a CHAR/VARCHAR/BINARY value. */
static size_t
string_prefix(const trib_my_column *col)
{
	return col->length > 255 ? 2 : 1;
}

/* The bytes of a length-prefixed value (prefix of `prefix` bytes). */
static const uint8_t *
prefixed(trib_my_cur *c, size_t prefix, size_t *len)
{
	*len = (size_t) trib_my_cur_le(c, prefix);
	return trib_my_cur_take(c, *len);
}

/* An integer of the column's size, signed or not. */
static void
gen_int(const trib_my_column *col, trib_my_cur *c, yajl_gen g)
{
	static const uint8_t sizes[] = {
		[TRIB_MYT_TINY] = 1, [TRIB_MYT_SHORT] = 2, [TRIB_MYT_INT24] = 3,
		[TRIB_MYT_LONG] = 4, [TRIB_MYT_LONGLONG] = 8
	};
	size_t		n = col->type < sizeof(sizes) ? sizes[col->type] : 0;
	uint64_t	v = trib_my_cur_le(c, n);
	char		buf[24];
	size_t		len;

	if (col->is_unsigned)
		len = dec_u64(buf, v);
	else
		len = dec_i64(buf, trib_my_sext(v, (unsigned) n * 8));
	trib_my_gen_num(g, buf, len);
}

/* FLOAT or DOUBLE (little-endian IEEE 754). */
static bool
gen_float(const trib_my_column *col, trib_my_cur *c, yajl_gen g,
		  char *errbuf, size_t errlen)
{
	char		buf[40];
	double		v;

	if (col->kind == TRIB_MYK_FLOAT)
	{
		uint32_t	bits = (uint32_t) trib_my_cur_le(c, 4);
		float		f;

		memcpy(&f, &bits, sizeof(f));
		v = f;
	}
	else
	{
		uint64_t	bits = trib_my_cur_le(c, 8);

		memcpy(&v, &bits, sizeof(v));
	}
	if (v != v || v - v != 0)
		return trib_my_fail(errbuf, errlen, "column %s: NaN or infinite value",
							col->name);
	trib_my_format_double(v, col->kind == TRIB_MYK_FLOAT, buf, sizeof(buf));
	trib_my_gen_num(g, buf, strlen(buf));
	return true;
}

/* s[0..len) converted to UTF-8 into d->text (reused), from the column's
 * collation or, when the column names none, from `dflt`; false with
 * errbuf naming the column. */
static bool
column_utf8(trib_my_decoder *d, const trib_my_column *col, uint32_t dflt,
			const uint8_t *s, size_t len, char *errbuf, size_t errlen)
{
	d->text.len = 0;
	if (!trib_my_to_utf8(d->charsets, col->collation ? col->collation : dflt,
						 (const char *) s, len, &d->text, errbuf, errlen))
		return trib_my_fail_prefix(errbuf, errlen, "column %s", col->name);
	return true;
}

/* Text in the column's collation, as a UTF-8 JSON string. */
static bool
gen_text(trib_my_decoder *d, const trib_my_column *col, const uint8_t *s,
		 size_t len, yajl_gen g, char *errbuf, size_t errlen)
{
	trib_strbuf *t = &d->text;

	if (!column_utf8(d, col, 45, s, len, errbuf, errlen))
		return false;
	if (col->is_char)
		while (t->len > 0 && t->data[t->len - 1] == ' ')
			t->len--;
	trib_my_gen_str(g, t->data ? t->data : "", t->len);
	return true;
}

/* Binary data as base64; BINARY(n) padded back to n bytes with 0x00. */
static void
gen_base64(trib_my_decoder *d, const trib_my_column *col, const uint8_t *s,
		   size_t len, yajl_gen g)
{
	trib_strbuf *t = &d->text;
	size_t		full = col->is_char && col->length > len ? col->length : len;
	uint8_t    *padded = NULL;
	size_t		need = trib_b64_encoded_len(full, true);

	if (full > len)
	{
		padded = trib_xcalloc(1, full);
		memcpy(padded, s, len);
		s = padded;
	}
	t->len = 0;
	trib_strbuf_add(t, "", 0);
	if (t->cap < need + 1)
	{
		t->cap = need + 1;
		t->data = trib_xrealloc(t->data, t->cap);
	}
	t->len = trib_b64_encode(s, full, false, true, t->data);
	trib_my_gen_str(g, t->data, t->len);
	free(padded);
}

/*
 * JSON text (t[0..len), UTF-8, writable): embedded when it is one valid
 * JSON value, else a string.  The embedded text is compacted first: the
 * whitespace between tokens (which a document as stored may have, newlines
 * too) is dropped, so that the value never breaks a JSON-lines record;
 * strings and numbers keep their exact bytes.
 */
void
trib_my_gen_json_text(yajl_gen g, char *t, size_t len)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	bool		valid,
				in_str = false;
	size_t		out = 0;

	valid = len > 0 &&
		yajl_parse(h, (const unsigned char *) t, len) == yajl_status_ok &&
		yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	if (!valid)
	{
		trib_my_gen_str(g, t ? t : "", len);
		return;
	}
	for (size_t i = 0; i < len; i++)
	{
		char		ch = t[i];

		if (in_str)
		{
			t[out++] = ch;
			if (ch == '\\' && i + 1 < len)
				t[out++] = t[++i];
			else if (ch == '"')
				in_str = false;
		}
		else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
		{
			t[out++] = ch;
			in_str = ch == '"';
		}
	}
	trib_my_gen_num(g, t, out);
}

/* MariaDB JSON: the column's text converted to UTF-8, then as
 * trib_my_gen_json_text. */
static bool
gen_json_text(trib_my_decoder *d, const trib_my_column *col, const uint8_t *s,
			  size_t len, yajl_gen g, char *errbuf, size_t errlen)
{
	if (!column_utf8(d, col, 46, s, len, errbuf, errlen))
		return false;
	trib_my_gen_json_text(g, d->text.data, d->text.len);
	return true;
}

/* ENUM: member name by 1-based index (0 is the server's '' for invalid
 * values); the index as a number when the names are unknown. */
static void
gen_enum(const trib_my_column *col, trib_my_cur *c, yajl_gen g)
{
	uint64_t	v = trib_my_cur_le(c, col->length);
	char		buf[24];

	if (v == 0)
		trib_my_gen_str(g, "", 0);
	else if (v <= (uint64_t) col->nvalues)
		trib_my_gen_str(g, col->values[v - 1], strlen(col->values[v - 1]));
	else
	{
		int			n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

		trib_my_gen_num(g, buf, (size_t) n);
	}
}

/* SET: the names of the set bits joined with ',' (the server's text); the
 * bit mask as a number when a bit has no known name. */
static void
gen_set(trib_my_decoder *d, const trib_my_column *col, trib_my_cur *c,
		yajl_gen g)
{
	uint64_t	v = trib_my_cur_le(c, col->length);
	trib_strbuf *t = &d->text;
	char		buf[24];

	t->len = 0;
	trib_strbuf_add(t, "", 0);
	for (int i = 0; i < 64 && v >> i; i++)
	{
		if (!(v >> i & 1))
			continue;
		if (i >= col->nvalues)
		{
			int			n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

			trib_my_gen_num(g, buf, (size_t) n);
			return;
		}
		if (t->len > 0)
			trib_strbuf_addc(t, ',');
		trib_strbuf_adds(t, col->values[i]);
	}
	trib_my_gen_str(g, t->data, t->len);
}

/* BIT(n): n binary digits, most significant first. */
static void
gen_bit(const trib_my_column *col, trib_my_cur *c, yajl_gen g)
{
	unsigned	bits = col->length ? col->length : 1;
	uint64_t	v = trib_my_cur_be(c, (bits + 7) / 8);
	char		buf[65];

	for (unsigned i = 0; i < bits; i++)
		buf[i] = (char) ('0' + (v >> (bits - 1 - i) & 1));
	trib_my_gen_str(g, buf, bits);
}

/* GEOMETRY: the WKB after the SRID, in hex. */
static bool
gen_geometry(trib_my_decoder *d, const trib_my_column *col, const uint8_t *s,
			 size_t len, yajl_gen g, char *errbuf, size_t errlen)
{
	trib_strbuf *t = &d->text;

	if (len < 4)
		return trib_my_fail(errbuf, errlen,
							"column %s: a geometry of %zu bytes has no SRID",
							col->name, len);
	t->len = 0;
	trib_strbuf_add(t, "", 0);
	if (t->cap < 2 * (len - 4) + 1)
	{
		t->cap = 2 * (len - 4) + 1;
		t->data = trib_xrealloc(t->data, t->cap);
	}
	t->len = trib_hex_encode(s + 4, len - 4, t->data);
	trib_my_gen_str(g, t->data, t->len);
	(void) d;
	return true;
}

/* The variable-length kinds: read their bytes, then write them. */
static bool
value_bytes(trib_my_decoder *d, const trib_my_column *col, trib_my_cur *c,
			yajl_gen g, char *errbuf, size_t errlen)
{
	bool		blob = col->type == TRIB_MYT_BLOB || col->type == TRIB_MYT_JSON ||
		col->type == TRIB_MYT_GEOMETRY;
	size_t		len;
	const uint8_t *s = prefixed(c, blob ? col->length : string_prefix(col), &len);

	if (s == NULL)
		return trib_my_fail(errbuf, errlen, "column %s: value out of bounds",
							col->name);
	switch (col->kind)
	{
		case TRIB_MYK_TEXT:
			return gen_text(d, col, s, len, g, errbuf, errlen);
		case TRIB_MYK_BINARY:
			gen_base64(d, col, s, len, g);
			return true;
		case TRIB_MYK_JSON_TEXT:
			return gen_json_text(d, col, s, len, g, errbuf, errlen);
		case TRIB_MYK_JSON_BINARY:
			if (!trib_my_json_binary(d, s, len, g, errbuf, errlen))
				return trib_my_fail_prefix(errbuf, errlen, "column %s", col->name);
			return true;
		default:
			return gen_geometry(d, col, s, len, g, errbuf, errlen);
	}
}

bool
trib_my_value(trib_my_decoder *d, const trib_my_column *col, trib_my_cur *c,
			  yajl_gen g, char *errbuf, size_t errlen)
{
	switch (col->kind)
	{
		case TRIB_MYK_INT:
			gen_int(col, c, g);
			break;
		case TRIB_MYK_FLOAT:
		case TRIB_MYK_DOUBLE:
			if (!gen_float(col, c, g, errbuf, errlen))
				return false;
			break;
		case TRIB_MYK_DECIMAL:
			{
				size_t		n = trib_my_decimal_size(col->precision, col->scale);
				const uint8_t *b = trib_my_cur_take(c, n);

				d->text.len = 0;
				if (b == NULL || n == 0 ||
					!trib_my_decimal_text(b, col->precision, col->scale, &d->text))
					return trib_my_fail(errbuf, errlen,
										"column %s: not a DECIMAL(%d,%d) value",
										col->name, col->precision, col->scale);
				trib_my_gen_num(g, d->text.data, d->text.len);
				break;
			}
		case TRIB_MYK_YEAR:
		case TRIB_MYK_DATE:
		case TRIB_MYK_TIME:
		case TRIB_MYK_TIME2:
		case TRIB_MYK_DATETIME:
		case TRIB_MYK_DATETIME2:
		case TRIB_MYK_TIMESTAMP:
		case TRIB_MYK_TIMESTAMP2:
			trib_my_temporal(d, col, c, g);
			break;
		case TRIB_MYK_ENUM:
			gen_enum(col, c, g);
			break;
		case TRIB_MYK_SET:
			gen_set(d, col, c, g);
			break;
		case TRIB_MYK_BIT:
			gen_bit(col, c, g);
			break;
		case TRIB_MYK_NULL:
			yajl_gen_null(g);
			break;
		default:
			return value_bytes(d, col, c, g, errbuf, errlen);
	}
	if (c->bad)
		return trib_my_fail(errbuf, errlen, "column %s: value out of bounds",
							col->name);
	return true;
}
