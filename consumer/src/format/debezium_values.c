/*
 * debezium_values.c: one column value in Debezium's encoding (see
 * debezium.h): decimals, money, bits, binary, json, hstore, point, and
 * the dispatch to the temporal encoders of debezium_time.c.
 *
 * Design.  The input is a yajl tree node of the row image, whose numbers
 * keep their text (yajl_val->u.number.r), so a numeric's digits reach
 * lib/decimal untouched (a plain one whose unscaled value has at most 18
 * digits, the usual case, is read into an int64_t here instead, with the
 * same result and no allocation).  `precise` decimals are the unscaled value's
 * big-endian two's complement, minimal length (Java's
 * BigInteger.toByteArray, which Kafka Connect's Decimal uses), in base64
 * as the JsonConverter writes BYTES; numeric without a declared scale is
 * Debezium's VariableScaleDecimal {"scale":s,"value":bytes}.  NaN and the
 * infinities have no Decimal form: null in precise mode, "NaN" etc. in
 * string and double mode.  Doubles are written as Java's Double.toString
 * does (Jackson, in the JsonConverter): "12.5", "100.0", "1.0E10".
 *
 * json values are embedded in row images, so their original text is
 * gone: jsonb is rewritten in PostgreSQL's jsonb output form (which is
 * what Debezium reads from the server), json in compact form.
 */
#include "debezium.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "base64.h"
#include "decimal.h"
#include "hex.h"
#include "jsondoc.h"

/* See debezium.h (encoded on the stack when short, the common case: no
 * allocation). */
void
trib_dbz_put_bytes(trib_strbuf *out, trib_dbz_binary mode, const unsigned char *p, size_t n)
{
	char		stack[256];
	size_t		cap = mode == TRIB_DBZ_BINARY_HEX ? 2 * n + 1
		: trib_b64_encoded_len(n, true) + 1;
	char	   *tmp = cap <= sizeof(stack) ? stack : trib_xrealloc(NULL, cap);
	size_t		len = mode == TRIB_DBZ_BINARY_HEX ? trib_hex_encode(p, n, tmp)
		: trib_b64_encode(p, n, mode == TRIB_DBZ_BINARY_BASE64_URL, true, tmp);

	trib_strbuf_addc(out, '"');
	trib_strbuf_add(out, tmp, len);
	trib_strbuf_addc(out, '"');
	if (tmp != stack)
		free(tmp);
}

/* The minimal big-endian two's complement of v (Java's toByteArray) into
 * b[8]; returns the number of bytes (1 to 8). */
static size_t
twos_complement_i64(int64_t v, unsigned char *b)
{
	/* the bits of the magnitude (of ~v when negative), and a sign bit */
	uint64_t	w = v < 0 ? ~(uint64_t) v : (uint64_t) v;
	size_t		bits = w ? 64 - (size_t) __builtin_clzll(w) : 0;
	size_t		n = bits / 8 + 1;
	uint64_t	u = (uint64_t) v;

	for (size_t i = n; i-- > 0; u >>= 8)
		b[i] = (unsigned char) (u & 0xFF);
	return n;
}

/* The minimal big-endian two's complement of bn (Java's toByteArray);
 * returns a malloc'd buffer of *n bytes. */
static unsigned char *
twos_complement(const BIGNUM *bn, size_t *n)
{
	BIGNUM	   *m = BN_dup(bn);
	bool		neg = BN_is_negative(bn);
	unsigned char *buf;
	int			len;

	if (m == NULL)
		abort();
	BN_set_negative(m, 0);
	if (neg)
		BN_sub_word(m, 1);		/* -x = ~(x - 1) */
	len = BN_num_bytes(m);
	buf = trib_xrealloc(NULL, (size_t) len + 1);
	BN_bn2bin(m, buf + 1);
	for (int i = 1; neg && i <= len; i++)
		buf[i] = (unsigned char) ~buf[i];
	/* a sign byte when the top bit does not already say the sign */
	if (len == 0 || ((buf[1] & 0x80) != 0) != neg)
	{
		buf[0] = neg ? 0xFF : 0x00;
		*n = (size_t) len + 1;
	}
	else
	{
		memmove(buf, buf + 1, (size_t) len);
		*n = (size_t) len;
	}
	BN_free(m);
	return buf;
}

/* Append a double as Java's Double.toString writes it. */
static void
put_java_double(trib_strbuf *out, double x)
{
	char		e[40];
	int			prec;
	char		mant[24];
	int			nd = 0;
	int			exp10;
	const char *p;

	if (isnan(x) || isinf(x))
	{
		trib_strbuf_adds(out, isnan(x) ? "\"NaN\"" : x > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		return;
	}
	if (x == 0)
	{
		trib_strbuf_adds(out, signbit(x) ? "-0.0" : "0.0");
		return;
	}
	/* the shortest digits that read back as x */
	for (prec = 0; prec < 17; prec++)
	{
		snprintf(e, sizeof(e), "%.*e", prec, x);
		if (strtod(e, NULL) == x)
			break;
	}
	p = e;
	if (*p == '-')
		trib_strbuf_addc(out, *p++);
	for (; *p != 'e'; p++)
		if (*p != '.')
			mant[nd++] = *p;
	exp10 = atoi(p + 1);
	while (nd > 1 && mant[nd - 1] == '0')
		nd--;
	if (exp10 >= -3 && exp10 < 7)
	{
		/* plain: at least one digit on each side of the point */
		if (exp10 < 0)
		{
			trib_strbuf_adds(out, "0.");
			for (int i = exp10 + 1; i < 0; i++)
				trib_strbuf_addc(out, '0');
			trib_strbuf_add(out, mant, (size_t) nd);
			return;
		}
		for (int i = 0; i <= exp10; i++)
			trib_strbuf_addc(out, i < nd ? mant[i] : '0');
		trib_strbuf_addc(out, '.');
		if (nd > exp10 + 1)
			trib_strbuf_add(out, mant + exp10 + 1, (size_t) (nd - exp10 - 1));
		else
			trib_strbuf_addc(out, '0');
		return;
	}
	trib_strbuf_addc(out, mant[0]);
	trib_strbuf_addc(out, '.');
	if (nd > 1)
		trib_strbuf_add(out, mant + 1, (size_t) (nd - 1));
	else
		trib_strbuf_addc(out, '0');
	trib_strbuf_printf(out, "E%d", exp10);
}

/* A decimal in precise mode: Decimal bytes at `scale`, or (scale < 0)
 * VariableScaleDecimal at the value's own scale. */
static bool
put_precise(trib_strbuf *out, const trib_dec *d, int scale, char *errbuf, size_t errlen)
{
	BIGNUM	   *bn;
	int			s = scale >= 0 ? scale : d->scale;
	unsigned char *bytes;
	unsigned char small[8];
	int64_t		v;
	size_t		n;

	if (scale < 0)
		trib_strbuf_printf(out, "{\"scale\":%d,\"value\":", s);
	/* at most 18 digits: integer arithmetic, no BIGNUM */
	if (trib_dec_to_i64(d, s, &v))
	{
		n = twos_complement_i64(v, small);
		trib_dbz_put_bytes(out, TRIB_DBZ_BINARY_BYTES, small, n);
		if (scale < 0)
			trib_strbuf_addc(out, '}');
		return true;
	}
	if ((bn = BN_new()) == NULL)
		abort();
	if (!trib_dec_to_bn(d, s, bn, errbuf, errlen))
	{
		BN_free(bn);
		return false;
	}
	bytes = twos_complement(bn, &n);
	BN_free(bn);
	trib_dbz_put_bytes(out, TRIB_DBZ_BINARY_BYTES, bytes, n);
	if (scale < 0)
		trib_strbuf_addc(out, '}');
	free(bytes);
	return true;
}

/*
 * The unscaled value at `scale` (< 0: the value's own, its fraction
 * digits as written) of a number text[0..len) (text[len] not a digit)
 * written as -?(0|[1-9][0-9]*)(.[0-9]+)?
 * whose unscaled value has at most 18 digits and needs no rounding: the
 * case trib_dec_to_i64 takes, without building a trib_dec (a malloc and a
 * free per value).  *own: the scale used.  False for anything else (an
 * exponent, more digits, more fraction digits than the scale, a bad
 * text): the caller goes through trib_dec, which writes the same bytes.
 */
static bool
plain_unscaled(const char *text, size_t len, int scale, int64_t *v, int *own)
{
	const char *p = text + (text[0] == '-');
	uint64_t	u = 0;
	int			nd = 0,			/* digits from the first non-zero one */
				f = 0;			/* fraction digits */

	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		for (; *p >= '0' && *p <= '9' && nd <= 18; p++, nd++)
			u = u * 10 + (uint64_t) (*p - '0');
	else
		return false;
	if (*p == '.')
	{
		for (p++; *p >= '0' && *p <= '9' && nd <= 18; p++, f++)
		{
			u = u * 10 + (uint64_t) (*p - '0');
			nd += u != 0;
		}
		if (f == 0)
			return false;
	}
	*own = scale >= 0 ? scale : f;
	/* trib_dec_to_i64's limit: zero is the one digit "0" at exponent 0 */
	if (p != text + len || f > *own || (u == 0 ? 1 + *own : nd + *own - f) > 18)
		return false;
	for (int i = f; i < *own; i++)
		u *= 10;
	*v = text[0] == '-' ? -(int64_t) u : (int64_t) u;
	return true;
}

/* put_precise's output for an unscaled value v at scale s (scale < 0:
 * VariableScaleDecimal). */
static void
put_precise_i64(trib_strbuf *out, int64_t v, int s, int scale)
{
	unsigned char small[8];
	size_t		n;

	if (scale < 0)
		trib_strbuf_printf(out, "{\"scale\":%d,\"value\":", s);
	n = twos_complement_i64(v, small);
	trib_dbz_put_bytes(out, TRIB_DBZ_BINARY_BYTES, small, n);
	if (scale < 0)
		trib_strbuf_addc(out, '}');
}

/* numeric and money: by decimal.handling.mode. */
static bool
put_decimal(const trib_dbz_opts *o, int scale, yajl_val v, trib_strbuf *out,
			char *errbuf, size_t errlen)
{
	const char *text = YAJL_IS_NUMBER(v) ? v->u.number.r : YAJL_GET_STRING(v);
	trib_dec	d;
	bool		ok;
	int64_t		i64;
	int			own;

	if (text == NULL)
		return false;
	if (!YAJL_IS_NUMBER(v))
	{
		/*
		 * NaN, Infinity, -Infinity.  precise: no Decimal form (Debezium
		 * fails the connector on them; null here).  string: the special
		 * value's name, "the string constant NAN" of Debezium's
		 * documentation ("Decimal types"; SpecialValueDecimal.toString()
		 * writes NAN, POSITIVE_INFINITY, NEGATIVE_INFINITY).  double:
		 * Double.NaN and the infinities, which the JsonConverter's Jackson
		 * writes quoted as "NaN", "Infinity", "-Infinity" (the source's
		 * text).
		 */
		if (o->decimal == TRIB_DBZ_DECIMAL_PRECISE)
			trib_strbuf_adds(out, "null");
		else if (o->decimal == TRIB_DBZ_DECIMAL_STRING && strcmp(text, "NaN") == 0)
			trib_strbuf_adds(out, "\"NAN\"");
		else if (o->decimal == TRIB_DBZ_DECIMAL_STRING && strcmp(text, "Infinity") == 0)
			trib_strbuf_adds(out, "\"POSITIVE_INFINITY\"");
		else if (o->decimal == TRIB_DBZ_DECIMAL_STRING && strcmp(text, "-Infinity") == 0)
			trib_strbuf_adds(out, "\"NEGATIVE_INFINITY\"");
		else
			trib_dbz_quote(out, text);
		return true;
	}
	if (o->decimal == TRIB_DBZ_DECIMAL_STRING)
	{
		trib_dbz_quote(out, text);
		return true;
	}
	if (o->decimal == TRIB_DBZ_DECIMAL_DOUBLE)
	{
		put_java_double(out, strtod(text, NULL));
		return true;
	}
	if (plain_unscaled(text, strlen(text), scale, &i64, &own))
	{
		put_precise_i64(out, i64, own, scale);
		return true;
	}
	if (!trib_dec_parse(text, strlen(text), &d))
		return false;
	ok = put_precise(out, &d, scale, errbuf, errlen);
	trib_dec_free(&d);
	return ok;
}

/* MySQL bigint unsigned by bigint.unsigned.handling.mode: long (Java's
 * long: above 2^63 - 1 it wraps, as Debezium's does) or precise (a
 * Decimal of scale 0). */
static bool
put_uint64(const trib_dbz_opts *o, const char *text, trib_strbuf *out, char *errbuf,
		   size_t errlen)
{
	trib_dec	d;
	bool		ok;
	char	   *end;
	unsigned long long u;

	if (o->bigint_unsigned == TRIB_DBZ_BIGINT_LONG)
	{
		errno = 0;
		u = strtoull(text, &end, 10);
		if (errno != 0 || *end != '\0' || text[0] == '-')
			return false;
		trib_dbz_put_i64(out, (int64_t) u);
		return true;
	}
	if (!trib_dec_parse(text, strlen(text), &d))
		return false;
	ok = put_precise(out, &d, 0, errbuf, errlen);
	trib_dec_free(&d);
	return ok;
}

/* bit(n > 1), varbit: io.debezium.data.Bits, little-endian bytes. */
static bool
put_bits(trib_strbuf *out, const char *s)
{
	size_t		n = strlen(s);
	size_t		nbytes = (n + 7) / 8;
	unsigned char *b = trib_xrealloc(NULL, nbytes + 1);

	memset(b, 0, nbytes + 1);
	for (size_t i = 0; i < n; i++)
	{
		size_t		bit = n - 1 - i;	/* s[0] is the most significant */

		if (s[i] != '0' && s[i] != '1')
		{
			free(b);
			return false;
		}
		if (s[i] == '1')
			b[bit / 8] |= (unsigned char) (1u << (bit % 8));
	}
	trib_dbz_put_bytes(out, TRIB_DBZ_BINARY_BYTES, b, nbytes);
	free(b);
	return true;
}

/* bytea, from the source's base64, in binary.handling.mode. */
static bool
put_bytea(const trib_dbz_opts *o, const char *s, trib_strbuf *out)
{
	size_t		n = strlen(s);
	unsigned char *b;
	size_t		len;
	bool		ok;

	if (o->binary == TRIB_DBZ_BINARY_BYTES || o->binary == TRIB_DBZ_BINARY_BASE64)
	{
		trib_dbz_quote(out, s);	/* already standard base64 */
		return true;
	}
	b = trib_xrealloc(NULL, trib_b64_decoded_max(n) + 1);
	ok = trib_b64_decode(s, n, TRIB_B64_STD, TRIB_B64_PAD_OPTIONAL, b, &len);
	if (ok)
		trib_dbz_put_bytes(out, o->binary, b, len);
	free(b);
	return ok;
}

/* One quoted hstore token at *p ("..." with \ escapes); advances *p. */
static bool
hstore_token(const char **p, trib_strbuf *tok, bool *is_null)
{
	const char *s = *p;

	*is_null = false;
	while (*s == ' ')
		s++;
	if (strncmp(s, "NULL", 4) == 0)
	{
		*is_null = true;
		*p = s + 4;
		return true;
	}
	if (*s++ != '"')
		return false;
	for (; *s != '"'; s++)
	{
		if (*s == '\\')
			s++;
		if (*s == '\0')
			return false;
		trib_strbuf_addc(tok, *s);
	}
	*p = s + 1;
	return true;
}

/* hstore text ("a"=>"1", "b"=>NULL) as a JSON object into obj. */
static bool
hstore_object(const char *s, trib_strbuf *obj)
{
	bool		first = true;

	trib_strbuf_addc(obj, '{');
	while (*s == ' ')
		s++;
	while (*s)
	{
		trib_strbuf k = {0},
					v = {0};
		bool		knull,
					vnull;
		bool		ok = hstore_token(&s, &k, &knull) && !knull;

		while (ok && *s == ' ')
			s++;
		ok = ok && strncmp(s, "=>", 2) == 0 && (s += 2, hstore_token(&s, &v, &vnull));
		if (ok)
		{
			if (!first)
				trib_strbuf_addc(obj, ',');
			first = false;
			trib_dbz_quote(obj, k.data ? k.data : "");
			trib_strbuf_addc(obj, ':');
			if (vnull)
				trib_strbuf_adds(obj, "null");
			else
				trib_dbz_quote(obj, v.data ? v.data : "");
		}
		trib_strbuf_free(&k);
		trib_strbuf_free(&v);
		while (ok && (*s == ' ' || *s == ','))
			s++;
		if (!ok)
			return false;
	}
	trib_strbuf_addc(obj, '}');
	return true;
}

/* Append the 8 bytes of x little-endian (WKB with byte order 1). */
static void
wkb_double(unsigned char *p, double x)
{
	uint64_t	u;

	memcpy(&u, &x, sizeof(u));
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char) (u >> (8 * i));
}

/* point "(x,y)": io.debezium.data.geometry.Point {x, y, wkb, srid}. */
static bool
put_point(trib_strbuf *out, const char *s)
{
	double		x,
				y;
	unsigned char wkb[21] = {1, 1, 0, 0, 0};
	char		tail;

	if (sscanf(s, " (%lf ,%lf )%c", &x, &y, &tail) != 2)
		return false;
	wkb_double(wkb + 5, x);
	wkb_double(wkb + 13, y);
	trib_strbuf_adds(out, "{\"x\":");
	put_java_double(out, x);
	trib_strbuf_adds(out, ",\"y\":");
	put_java_double(out, y);
	trib_strbuf_adds(out, ",\"wkb\":");
	trib_dbz_put_bytes(out, TRIB_DBZ_BINARY_BYTES, wkb, sizeof(wkb));
	trib_strbuf_adds(out, ",\"srid\":null}");
	return true;
}

/* See debezium.h. */
void
trib_dbz_quote(trib_strbuf *out, const char *s)
{
	trib_dbz_quote_n(out, s, strlen(s));
}

/* The bytes a JSON string escapes: control characters, '"' and '\\'. */
#define ESC8 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char must_escape[256] = {ESC8, ESC8, ESC8, ESC8, ['"'] = 1, ['\\'] = 1};
#undef ESC8

/* See debezium.h. */
void
trib_dbz_quote_n(trib_strbuf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	const char *end = s + n;

	trib_strbuf_addc(out, '"');
	for (; s < end; s++)
	{
		unsigned char c = (unsigned char) *s;
		char		esc[7];
		size_t		len = 2;

		if (!must_escape[c])
			continue;
		trib_strbuf_add(out, run, (size_t) (s - run));
		esc[0] = '\\';
		esc[1] = (char) c;
		if (c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f')
			esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : c == '\b' ? 'b' : 'f';
		else if (c < 0x20)
		{
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			len = 6;
		}
		trib_strbuf_add(out, esc, len);
		run = s + 1;
	}
	trib_strbuf_add(out, run, (size_t) (end - run));
	trib_strbuf_addc(out, '"');
}

/* See debezium.h. */
void
trib_dbz_put_json(trib_strbuf *out, yajl_val v, bool jsonb_style)
{
	const char *sep = jsonb_style ? ", " : ",";

	if (v == NULL || YAJL_IS_NULL(v))
		trib_strbuf_adds(out, "null");
	else if (YAJL_IS_STRING(v))
		trib_dbz_quote(out, YAJL_GET_STRING(v));
	else if (YAJL_IS_NUMBER(v))
		trib_strbuf_adds(out, v->u.number.r);
	else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		trib_strbuf_adds(out, YAJL_IS_TRUE(v) ? "true" : "false");
	else if (YAJL_IS_ARRAY(v))
	{
		trib_strbuf_addc(out, '[');
		for (size_t i = 0; i < v->u.array.len; i++)
		{
			if (i)
				trib_strbuf_adds(out, sep);
			trib_dbz_put_json(out, v->u.array.values[i], jsonb_style);
		}
		trib_strbuf_addc(out, ']');
	}
	else
	{
		trib_strbuf_addc(out, '{');
		for (size_t i = 0; i < v->u.object.len; i++)
		{
			if (i)
				trib_strbuf_adds(out, sep);
			trib_dbz_quote(out, v->u.object.keys[i]);
			trib_strbuf_adds(out, jsonb_style ? ": " : ":");
			trib_dbz_put_json(out, v->u.object.values[i], jsonb_style);
		}
		trib_strbuf_addc(out, '}');
	}
}

/* trib_dbz_kind names, for messages. */
static const char *const kind_names[] = {
	"untyped", "numeric", "money", "bit(1)", "bit", "bytea", "json", "jsonb",
	"hstore", "point", "date", "time", "timetz", "timestamp", "timestamptz",
	"interval", "bigint unsigned", "MySQL time", "year", "enum", "set", "geometry"
};

/* A string-valued kind: temporal and other text-encoded values. */
static bool
put_text_kind(const trib_dbz_opts *o, const trib_dbz_coltype *t,
			  const char *s, trib_strbuf *out)
{
	trib_strbuf tmp = {0};
	bool		ok = true;

	switch (t->kind)
	{
		case TRIB_DBZ_BIT1:
			if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)
				return false;
			trib_strbuf_adds(out, s[0] == '1' ? "true" : "false");
			return true;
		case TRIB_DBZ_BITS:
			return put_bits(out, s);
		case TRIB_DBZ_BYTEA:
			return put_bytea(o, s, out);
		case TRIB_DBZ_POINT:
			return put_point(out, s);
		case TRIB_DBZ_HSTORE:
			ok = hstore_object(s, &tmp);
			if (ok && o->hstore == TRIB_DBZ_HSTORE_MAP)
				trib_strbuf_add(out, tmp.data, tmp.len);
			else if (ok)
				trib_dbz_quote(out, tmp.data);
			trib_strbuf_free(&tmp);
			return ok;
		case TRIB_DBZ_DATE:
			return trib_dbz_date(s, strlen(s), out);
		case TRIB_DBZ_TIME:
			return trib_dbz_time_value(o, t->precision, s, out);
		case TRIB_DBZ_TIMETZ:
			return trib_dbz_timetz(s, out);
		case TRIB_DBZ_TIMESTAMP:
			return trib_dbz_timestamp(o, t->precision, s, strlen(s), out);
		case TRIB_DBZ_INTERVAL:
			return trib_dbz_interval_value(o, s, out);
		case TRIB_DBZ_TIMESTAMPTZ:
			return trib_dbz_zoned(t->precision, s, strlen(s), out);
		default:
			trib_dbz_quote(out, s);
			return true;
	}
}

/* See debezium.h. */
bool
trib_dbz_value(const trib_dbz_opts *o, const trib_dbz_coltype *t, yajl_val v,
			   trib_strbuf *out, char *errbuf, size_t errlen)
{
	size_t		mark = out->len;
	bool		ok;

	if (v == NULL || YAJL_IS_NULL(v))
	{
		if (t->epoch_for_null && !t->array)
			trib_dbz_my_epoch(t, out);
		else
			trib_strbuf_adds(out, "null");
		return true;
	}
	if (t->array && YAJL_IS_ARRAY(v))
	{
		trib_dbz_coltype elem = *t;

		elem.array = false;
		trib_strbuf_addc(out, '[');
		for (size_t i = 0; i < v->u.array.len; i++)
		{
			if (i)
				trib_strbuf_addc(out, ',');
			/* nested arrays: multi-dimensional, same element type */
			elem.array = YAJL_IS_ARRAY(v->u.array.values[i]);
			if (!trib_dbz_value(o, &elem, v->u.array.values[i], out, errbuf, errlen))
				return false;
		}
		trib_strbuf_addc(out, ']');
		return true;
	}
	switch (t->kind)
	{
		case TRIB_DBZ_ASIS:
			trib_dbz_put_json(out, v, false);
			return true;
		case TRIB_DBZ_JSON:
		case TRIB_DBZ_JSONB:
			{
				trib_strbuf tmp = {0};

				trib_dbz_put_json(&tmp, v, t->kind == TRIB_DBZ_JSONB);
				trib_dbz_quote(out, tmp.data);
				trib_strbuf_free(&tmp);
				return true;
			}
		case TRIB_DBZ_NUMERIC:
		case TRIB_DBZ_MONEY:
			ok = put_decimal(o, t->kind == TRIB_DBZ_MONEY ? o->money_scale : t->scale,
							 v, out, errbuf, errlen);
			break;
		case TRIB_DBZ_MY_UINT64:
			ok = YAJL_IS_NUMBER(v) && put_uint64(o, v->u.number.r, out, errbuf, errlen);
			break;
		case TRIB_DBZ_MY_TIME:
		case TRIB_DBZ_MY_YEAR:
		case TRIB_DBZ_MY_ENUM:
		case TRIB_DBZ_MY_SET:
		case TRIB_DBZ_MY_GEOMETRY:
			ok = trib_dbz_my_value(o, t, v, out);
			break;
		default:
			{
				const char *s = YAJL_GET_STRING(v);

				ok = s != NULL && put_text_kind(o, t, s, out);
				/* infinite dates (Debezium documents no form for them) and
				 * timestamptz (its ZonedTimestamp writes the words) */
				if (!ok && s && (strcmp(s, "infinity") == 0 || strcmp(s, "-infinity") == 0))
				{
					out->len = mark;
					trib_dbz_quote(out, s);
					ok = true;
				}
			}
			break;
	}
	if (!ok)
	{
		char	   *text = trib_jdoc_dump(v);

		out->len = mark;
		if (out->data)
			out->data[mark] = '\0';
		snprintf(errbuf, errlen, "debezium: value %.60s is not a valid %s "
				 "value as the source writes it", text ? text : "?",
				 kind_names[t->kind]);
		free(text);
	}
	return ok;
}

/* See debezium.h (the kinds of most columns of most tables, so their
 * scalars skip the yajl_val, the copy into a C string and the dispatch of
 * trib_dbz_value). */
bool
trib_dbz_text_value(const trib_dbz_opts *o, const trib_dbz_coltype *t,
					bool is_string, const char *s, size_t n, trib_strbuf *out)
{
	size_t		mark = out->len;
	int64_t		i64;
	int			own;
	bool		ok;

	if (t->array)
		return false;
	switch (t->kind)
	{
		case TRIB_DBZ_NUMERIC:
			if (is_string || o->decimal != TRIB_DBZ_DECIMAL_PRECISE ||
				!plain_unscaled(s, n, t->scale, &i64, &own))
				return false;
			put_precise_i64(out, i64, own, t->scale);
			return true;
		case TRIB_DBZ_DATE:
			ok = is_string && trib_dbz_date(s, n, out);
			break;
		case TRIB_DBZ_TIMESTAMP:
			ok = is_string && trib_dbz_timestamp(o, t->precision, s, n, out);
			break;
		case TRIB_DBZ_TIMESTAMPTZ:
			ok = is_string && trib_dbz_zoned(t->precision, s, n, out);
			break;
		default:
			return false;
	}
	if (!ok)
	{
		out->len = mark;
		if (out->data)
			out->data[mark] = '\0';
	}
	return ok;
}

/* See debezium.h. */
void
trib_dbz_opts_init(trib_dbz_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->money_scale = 2;
}
