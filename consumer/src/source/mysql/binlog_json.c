/*
 * binlog_json.c: MySQL 8's binary JSON (the JSON column type), decoded to
 * JSON text.  MariaDB stores JSON as text and never comes here.
 *
 * Format (MySQL sql/json_binary.h): a value is a type byte and a body.
 *
 *   0x00/0x01  small/large object: count, size, key entries (offset,
 *              2-byte length), value entries (type, offset or inlined
 *              value), then keys and values.  Small uses 2-byte counts
 *              and offsets, large 4-byte ones.  Offsets are from the start
 *              of the object's body.
 *   0x02/0x03  small/large array: count, size, value entries, values
 *   0x04       literal: 0 null, 1 true, 2 false
 *   0x05-0x0a  int16, uint16, int32, uint32, int64, uint64 (LE)
 *   0x0b       double (8 bytes LE)
 *   0x0c       string: length in 7-bit groups (low first, high bit set on
 *              all but the last byte), then utf8mb4 bytes
 *   0x0f       opaque: a MySQL field type byte, a length as for strings,
 *              the data (DECIMAL: precision, scale, binary decimal;
 *              DATE/TIME/DATETIME/TIMESTAMP: 8-byte packed value)
 *
 * Literals and 16-bit integers are always inlined in their value entry,
 * 32-bit integers only in large containers.  An empty value (length 0) is
 * JSON null, as MySQL reads it.
 *
 * Output is what MySQL prints for the same document: numbers exact
 * (doubles in shortest round-trip form, with ".0" when they have no
 * fraction), DECIMAL with its digits, temporal values as MySQL's strings
 * ("2015-01-15 23:24:25.000000"), and other opaque values as MySQL writes
 * them, "base64:typeNN:...".  Nesting deeper than MySQL allows (100) or
 * any offset outside its container is an error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_int.h"
#include "base64.h"

#define JSON_MAX_DEPTH 100

enum
{
	J_SMALL_OBJ = 0x00, J_LARGE_OBJ = 0x01, J_SMALL_ARR = 0x02,
	J_LARGE_ARR = 0x03, J_LITERAL = 0x04, J_INT16 = 0x05, J_UINT16 = 0x06,
	J_INT32 = 0x07, J_UINT32 = 0x08, J_INT64 = 0x09, J_UINT64 = 0x0a,
	J_DOUBLE = 0x0b, J_STRING = 0x0c, J_OPAQUE = 0x0f
};

typedef struct jctx
{
	trib_my_decoder *d;
	yajl_gen	g;
	char	   *errbuf;
	size_t		errlen;
} jctx;

static bool value(jctx *x, uint8_t type, const uint8_t *b, size_t len, int depth);

/* Read a 7-bit-group length; false when it runs out or exceeds 32 bits. */
static bool
varlen(const uint8_t *b, size_t len, size_t *used, uint32_t *out)
{
	uint64_t	v = 0;

	for (size_t i = 0; i < 5 && i < len; i++)
	{
		v |= (uint64_t) (b[i] & 0x7F) << (7 * i);
		if ((b[i] & 0x80) == 0)
		{
			if (v > UINT32_MAX)
				return false;
			*used = i + 1;
			*out = (uint32_t) v;
			return true;
		}
	}
	return false;
}

/* Write text s[0..n) (utf8mb4) as a JSON string. */
static bool
gen_utf8(jctx *x, const uint8_t *s, size_t n)
{
	trib_strbuf *t = &x->d->text2;

	t->len = 0;
	if (!trib_my_to_utf8(x->d->charsets, 45, (const char *) s, n, t,
						 x->errbuf, x->errlen))
		return false;
	trib_my_gen_str(x->g, t->data ? t->data : "", t->len);
	return true;
}

/* An opaque value: DECIMAL and temporal types decoded, others as MySQL
 * prints them ("base64:typeNN:..."). */
static bool
opaque(jctx *x, const uint8_t *b, size_t len)
{
	uint8_t		ftype;
	uint32_t	n;
	size_t		used;
	trib_strbuf *t = &x->d->text2;

	if (len < 1 || !varlen(b + 1, len - 1, &used, &n) || n > len - 1 - used)
		return trib_my_fail(x->errbuf, x->errlen, "JSON: opaque value out of bounds");
	ftype = b[0];
	b += 1 + used;
	t->len = 0;
	if (ftype == TRIB_MYT_NEWDECIMAL)
	{
		if (n < 2 || trib_my_decimal_size(b[0], b[1]) != n - 2 ||
			!trib_my_decimal_text(b + 2, b[0], b[1], t))
			return trib_my_fail(x->errbuf, x->errlen, "JSON: bad DECIMAL value");
		trib_my_gen_num(x->g, t->data, t->len);
		return true;
	}
	if (ftype == TRIB_MYT_DATE || ftype == TRIB_MYT_TIME ||
		ftype == TRIB_MYT_DATETIME || ftype == TRIB_MYT_TIMESTAMP ||
		ftype == TRIB_MYT_NEWDATE)
	{
		trib_my_cur c = trib_my_cur_make(b, n);

		if (n != 8)
			return trib_my_fail(x->errbuf, x->errlen, "JSON: bad temporal value");
		trib_my_json_temporal(ftype, (int64_t) trib_my_cur_le(&c, 8), t);
		trib_my_gen_str(x->g, t->data, t->len);
		return true;
	}
	trib_strbuf_printf(t, "base64:type%u:", (unsigned) ftype);
	{
		size_t		need = trib_b64_encoded_len(n, true);
		char	   *b64 = trib_xmalloc(need + 1);

		trib_b64_encode(b, n, false, true, b64);
		trib_strbuf_add(t, b64, need);
		free(b64);
	}
	trib_my_gen_str(x->g, t->data, t->len);
	return true;
}

/* Write a number's text. */
static void
gen_printf_num(jctx *x, const char *fmt, uint64_t uv, int64_t sv, bool is_signed)
{
	char		buf[32];
	int			n = is_signed ? snprintf(buf, sizeof(buf), fmt, sv)
		: snprintf(buf, sizeof(buf), fmt, uv);

	trib_my_gen_num(x->g, buf, (size_t) n);
}

/* A scalar read from b[0..len) (inline values come padded to their
 * entry's width). */
static bool
scalar(jctx *x, uint8_t type, const uint8_t *b, size_t len)
{
	trib_my_cur c = trib_my_cur_make(b, len);
	char		buf[40];

	switch (type)
	{
		case J_LITERAL:
			switch (trib_my_cur_u8(&c))
			{
				case 0:
					yajl_gen_null(x->g);
					break;
				case 1:
					yajl_gen_bool(x->g, 1);
					break;
				case 2:
					yajl_gen_bool(x->g, 0);
					break;
				default:
					return trib_my_fail(x->errbuf, x->errlen, "JSON: bad literal");
			}
			break;
		case J_INT16:
		case J_INT32:
		case J_UINT16:
		case J_UINT32:
			{
				/* 2 or 4 bytes, signed or not */
				int			bits = type == J_INT16 || type == J_UINT16 ? 16 : 32;
				uint64_t	u = trib_my_cur_le(&c, (size_t) bits / 8);

				if (type == J_INT16 || type == J_INT32)
					gen_printf_num(x, "%" PRId64, 0, trib_my_sext(u, bits), true);
				else
					gen_printf_num(x, "%" PRIu64, u, 0, false);
			}
			break;
		case J_INT64:
			gen_printf_num(x, "%" PRId64, 0, (int64_t) trib_my_cur_le(&c, 8), true);
			break;
		case J_UINT64:
			gen_printf_num(x, "%" PRIu64, trib_my_cur_le(&c, 8), 0, false);
			break;
		case J_DOUBLE:
			{
				uint64_t	bits = trib_my_cur_le(&c, 8);
				double		dv;

				memcpy(&dv, &bits, sizeof(dv));
				if (dv != dv || dv - dv != 0)
					return trib_my_fail(x->errbuf, x->errlen, "JSON: NaN or infinite double");
				trib_my_format_double(dv, false, buf, sizeof(buf));
				if (strpbrk(buf, ".e") == NULL)
					strcat(buf, ".0");
				trib_my_gen_num(x->g, buf, strlen(buf));
				break;
			}
		case J_STRING:
			{
				uint32_t	n;
				size_t		used;

				if (!varlen(b, len, &used, &n) || n > len - used)
					return trib_my_fail(x->errbuf, x->errlen, "JSON: string out of bounds");
				return gen_utf8(x, b + used, n);
			}
		case J_OPAQUE:
			return opaque(x, b, len);
		default:
			return trib_my_fail(x->errbuf, x->errlen, "JSON: unknown value type 0x%02x",
								(unsigned) type);
	}
	if (c.bad)
		return trib_my_fail(x->errbuf, x->errlen, "JSON: value out of bounds");
	return true;
}

/* Is a value of this type stored in its entry rather than at an offset? */
static bool
inlined(uint8_t type, bool large)
{
	return type == J_LITERAL || type == J_INT16 || type == J_UINT16 ||
		(large && (type == J_INT32 || type == J_UINT32));
}

/* Write the value of entry i of a container body b[0..size). */
static bool
entry_value(jctx *x, const uint8_t *b, size_t size, size_t entry, bool large,
			int depth)
{
	size_t		w = large ? 4 : 2;
	uint8_t		type = b[entry];
	trib_my_cur c = trib_my_cur_make(b + entry + 1, w);
	uint64_t	off;

	if (inlined(type, large))
		return scalar(x, type, b + entry + 1, w);
	off = trib_my_cur_le(&c, w);
	if (off >= size)
		return trib_my_fail(x->errbuf, x->errlen, "JSON: value offset out of bounds");
	return value(x, type, b + off, size - off, depth + 1);
}

/* An object or array body b[0..len). */
static bool
container(jctx *x, bool object, bool large, const uint8_t *b, size_t len,
		  int depth)
{
	size_t		w = large ? 4 : 2;
	trib_my_cur c = trib_my_cur_make(b, len);
	uint64_t	count = trib_my_cur_le(&c, w),
				size = trib_my_cur_le(&c, w);
	size_t		keys = 2 * w,
				vals = keys + (object ? count * (w + 2) : 0);

	if (c.bad || size > len || count > size ||
		vals + count * (1 + w) > size)
		return trib_my_fail(x->errbuf, x->errlen, "JSON: container header out of bounds");
	if (object)
		yajl_gen_map_open(x->g);
	else
		yajl_gen_array_open(x->g);
	for (uint64_t i = 0; i < count; i++)
	{
		if (object)
		{
			trib_my_cur k = trib_my_cur_make(b + keys + i * (w + 2), w + 2);
			uint64_t	koff = trib_my_cur_le(&k, w),
						klen = trib_my_cur_le(&k, 2);

			if (koff > size || klen > size - koff)
				return trib_my_fail(x->errbuf, x->errlen, "JSON: key out of bounds");
			if (!gen_utf8(x, b + koff, klen))
				return false;
		}
		if (!entry_value(x, b, size, vals + i * (1 + w), large, depth))
			return false;
	}
	if (object)
		yajl_gen_map_close(x->g);
	else
		yajl_gen_array_close(x->g);
	return true;
}

/* Any value of the given type with body b[0..len). */
static bool
value(jctx *x, uint8_t type, const uint8_t *b, size_t len, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return trib_my_fail(x->errbuf, x->errlen, "JSON: nested deeper than %d",
							JSON_MAX_DEPTH);
	switch (type)
	{
		case J_SMALL_OBJ:
		case J_LARGE_OBJ:
			return container(x, true, type == J_LARGE_OBJ, b, len, depth);
		case J_SMALL_ARR:
		case J_LARGE_ARR:
			return container(x, false, type == J_LARGE_ARR, b, len, depth);
		default:
			return scalar(x, type, b, len);
	}
}

bool
trib_my_json_binary(trib_my_decoder *d, const uint8_t *b, size_t len,
					yajl_gen g, char *errbuf, size_t errlen)
{
	jctx		x = {d, g, errbuf, errlen};

	if (len == 0)
	{
		yajl_gen_null(g);
		return true;
	}
	return value(&x, b[0], b + 1, len - 1, 1);
}
