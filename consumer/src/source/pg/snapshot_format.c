/*
 * snapshot_format.c: PostgreSQL text output -> the plugin's JSON values.
 * See snapshot_format.h for the mapping and why it exists.
 *
 * Every parser here walks the text once with a cursor (`cur`) and never
 * reads past `end`; an unexpected character is an error naming the type.
 * Arrays and composite values recurse through trib_snapfmt_value(), one
 * level per nesting level of the type (types cannot contain themselves, so
 * the depth is bounded by the type tree).
 */
#include "snapshot_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "errf.h"
#include "isodate.h"
#include "utf8.h"

/* Type OIDs of the built-in types with a fast path in the plugin. */
enum
{
	OID_BOOL = 16, OID_BYTEA = 17, OID_NAME = 19, OID_INT8 = 20, OID_INT2 = 21,
	OID_INT4 = 23, OID_TEXT = 25, OID_OID = 26, OID_JSON = 114, OID_FLOAT4 = 700,
	OID_FLOAT8 = 701, OID_MONEY = 790, OID_BPCHAR = 1042, OID_VARCHAR = 1043,
	OID_DATE = 1082, OID_TIME = 1083, OID_TIMESTAMP = 1114, OID_TIMESTAMPTZ = 1184,
	OID_INTERVAL = 1186, OID_TIMETZ = 1266, OID_NUMERIC = 1700, OID_JSONB = 3802
};

static const char hexdigits[] = "0123456789abcdef";

/* A cursor over one value's text. */
typedef struct cur
{
	const char *p;
	const char *end;
} cur;

trib_snapfmt_kind
trib_snapfmt_kind_of_oid(uint32_t oid)
{
	switch (oid)
	{
		case OID_INT2:
		case OID_INT4:
		case OID_INT8:
		case OID_OID:
			return TRIB_SNAPFMT_KIND_INT;
		case OID_FLOAT4:
		case OID_FLOAT8:
			return TRIB_SNAPFMT_KIND_FLOAT;
		case OID_NUMERIC:
		case OID_MONEY:
			return TRIB_SNAPFMT_KIND_NUMERIC;
		case OID_BOOL:
			return TRIB_SNAPFMT_KIND_BOOL;
		case OID_JSON:
		case OID_JSONB:
			return TRIB_SNAPFMT_KIND_JSON;
		case OID_BYTEA:
			return TRIB_SNAPFMT_KIND_BYTEA;
		case OID_DATE:
			return TRIB_SNAPFMT_KIND_DATE;
		case OID_TIMESTAMP:
			return TRIB_SNAPFMT_KIND_TIMESTAMP;
		case OID_TIMESTAMPTZ:
			return TRIB_SNAPFMT_KIND_TIMESTAMPTZ;
		case OID_TIMETZ:
			return TRIB_SNAPFMT_KIND_TIMETZ;
		default:
			/* text, varchar, bpchar, name, time, interval and the rest */
			return TRIB_SNAPFMT_KIND_STRING;
	}
}

trib_snapfmt_type *
trib_snapfmt_type_new(trib_snapfmt_kind kind, uint32_t base_oid)
{
	trib_snapfmt_type *t = trib_xcalloc(1, sizeof(*t));

	t->kind = kind;
	t->base_oid = base_oid;
	t->money = base_oid == OID_MONEY;
	t->delim = ',';
	return t;
}

void
trib_snapfmt_type_free(trib_snapfmt_type *t)
{
	int			i;

	if (t == NULL)
		return;
	trib_snapfmt_type_free(t->elem);
	for (i = 0; i < t->nattrs; i++)
	{
		free(t->attr_names[i]);
		trib_snapfmt_type_free(t->attrs[i]);
	}
	free(t->attr_names);
	free(t->attrs);
	free(t);
}

/* ---- strings ------------------------------------------------------------ */

/* \uXXXX for one UTF-16 code unit. */
static void
put_u(trib_strbuf *out, unsigned cu)
{
	char		b[6] = {'\\', 'u', hexdigits[(cu >> 12) & 15], hexdigits[(cu >> 8) & 15],
	hexdigits[(cu >> 4) & 15], hexdigits[cu & 15]};

	trib_strbuf_add(out, b, 6);
}

/* The two-character escapes JSON has (\n, \" ...); 0: none, \u00XX. */
static const char short_escape[128] = {
	['"'] = '"',['\\'] = '\\',['\n'] = 'n',['\r'] = 'r',['\t'] = 't',
	['\b'] = 'b',['\f'] = 'f',
};

/* The escape of an ASCII byte that JSON does not allow raw. */
static void
put_ascii_escape(trib_strbuf *out, unsigned char c)
{
	if (c < sizeof(short_escape) && short_escape[c] != 0)
	{
		char		b[2] = {'\\', short_escape[c]};

		trib_strbuf_add(out, b, 2);
	}
	else
		put_u(out, c);
}

/*
 * The body of a JSON string (no quotes), as the plugin's escape_body():
 * ASCII specials escaped; non-ASCII kept (UTF8, valid sequences under
 * SQL_ASCII) or written as \u escapes (OTHER); invalid bytes as \u00XX.
 */
static void
string_body(trib_strbuf *out, const char *s, size_t len, trib_snapfmt_enc enc)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	const unsigned char *run = p;

	while (p < end)
	{
		unsigned char c = *p;
		int			n;

		if (c >= 0x20 && c != '"' && c != '\\' && (c < 0x80 || enc == TRIB_SNAPFMT_ENC_UTF8))
		{
			p++;
			continue;
		}
		if (p > run)
			trib_strbuf_add(out, (const char *) run, (size_t) (p - run));
		if (c < 0x80)
		{
			put_ascii_escape(out, c);
			p++;
		}
		else if ((n = (int) trib_utf8_seqlen((const char *) p, (size_t) (end - p))) > 1)
		{
			if (enc == TRIB_SNAPFMT_ENC_OTHER)
			{
				uint32_t	cp;

				(void) trib_utf8_next((const char *) p, (size_t) (end - p), 0, &cp);

				if (cp >= 0x10000)
				{
					cp -= 0x10000;
					put_u(out, 0xD800 | (cp >> 10));
					put_u(out, 0xDC00 | (cp & 0x3FF));
				}
				else
					put_u(out, cp);
			}
			else
				trib_strbuf_add(out, (const char *) p, (size_t) n);
			p += n;
		}
		else
		{
			put_u(out, c);
			p++;
		}
		run = p;
	}
	if (p > run)
		trib_strbuf_add(out, (const char *) run, (size_t) (p - run));
}

void
trib_snapfmt_string(trib_strbuf *out, const char *s, size_t len, trib_snapfmt_enc enc)
{
	trib_strbuf_addc(out, '"');
	string_body(out, s, len, enc);
	trib_strbuf_addc(out, '"');
}

/* json/jsonb text: as is, non-ASCII runs escaped outside UTF8 databases. */
static void
raw_json(trib_strbuf *out, const char *s, size_t len, trib_snapfmt_enc enc)
{
	size_t		i = 0,
				j;

	if (enc == TRIB_SNAPFMT_ENC_UTF8)
	{
		trib_strbuf_add(out, s, len);
		return;
	}
	while (i < len)
	{
		for (j = i; j < len && (unsigned char) s[j] < 0x80; j++)
			;
		trib_strbuf_add(out, s + i, j - i);
		for (i = j; j < len && (unsigned char) s[j] >= 0x80; j++)
			;
		if (j > i)
			string_body(out, s + i, j - i, enc);
		i = j;
	}
}

/* ---- numbers, booleans, bytea --------------------------------------------- */

/* Digits from *i; returns how many. */
static size_t
skip_digits(const char *s, size_t len, size_t *i)
{
	size_t		start = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i - start;
}

/* Is s exactly one JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
json_number(const char *s, size_t len)
{
	size_t		i = s[0] == '-';
	size_t		int_start = i;

	if (skip_digits(s, len, &i) == 0 || (s[int_start] == '0' && i - int_start > 1))
		return false;
	if (i < len && s[i] == '.')
	{
		i++;
		if (skip_digits(s, len, &i) == 0)
			return false;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (skip_digits(s, len, &i) == 0)
			return false;
	}
	return i == len;
}

/* A number's text as the plugin writes it; non-numbers become strings. */
static bool
number(trib_strbuf *out, const char *s, size_t len, const trib_snapfmt_type *t,
	   char *errbuf, size_t errlen)
{
	if (len == 0)
		return trib_errf(errbuf, errlen, "empty number");
	if ((s[0] >= '0' && s[0] <= '9') ||
		(s[0] == '-' && len > 1 && s[1] >= '0' && s[1] <= '9'))
	{
		if (!json_number(s, len))
			return trib_errf(errbuf, errlen, "not a number in JSON's syntax");
		trib_strbuf_add(out, s, len);
		return true;
	}
	if (t->kind == TRIB_SNAPFMT_KIND_INT)
		return trib_errf(errbuf, errlen, "not an integer");
	if ((len == 3 && memcmp(s, "NaN", 3) == 0) || (len == 8 && memcmp(s, "Infinity", 8) == 0) ||
		(len == 9 && memcmp(s, "-Infinity", 9) == 0))
	{
		trib_snapfmt_string(out, s, len, TRIB_SNAPFMT_ENC_UTF8);
		return true;
	}
	return trib_errf(errbuf, errlen, "not a number, NaN or an infinity");
}

/* "\x0001ff" -> base64 or plain hex. */
static bool
bytea(trib_strbuf *out, const char *s, size_t len, bool hex,
	  char *errbuf, size_t errlen)
{
	size_t		n,
				i;
	unsigned char *raw;
	char	   *b64;

	if (len < 2 || s[0] != '\\' || s[1] != 'x' || (len - 2) % 2 != 0)
		return trib_errf(errbuf, errlen, "bytea is not in hex output format");
	n = (len - 2) / 2;
	for (i = 2; i < len; i++)
		if (!strchr(hexdigits, s[i]))
			return trib_errf(errbuf, errlen, "bytea has a non-hex digit");
	if (hex)
	{
		trib_strbuf_addc(out, '"');
		trib_strbuf_add(out, s + 2, len - 2);
		trib_strbuf_addc(out, '"');
		return true;
	}
	raw = trib_xmalloc(n ? n : 1);
	for (i = 0; i < n; i++)
		raw[i] = (unsigned char) (((strchr(hexdigits, s[2 + 2 * i]) - hexdigits) << 4) |
								  (strchr(hexdigits, s[3 + 2 * i]) - hexdigits));
	b64 = trib_xmalloc(4 * ((n + 2) / 3) + 1);
	i = (size_t) EVP_EncodeBlock((unsigned char *) b64, raw, (int) n);
	trib_strbuf_addc(out, '"');
	trib_strbuf_add(out, b64, i);
	trib_strbuf_addc(out, '"');
	free(raw);
	free(b64);
	return true;
}

/* ---- dates and times ---------------------------------------------------- */

/* Read at least min_w digits (at most 9) as an integer. */
static bool
read_int(cur *c, int min_w, int64_t *v)
{
	int			n = 0;

	*v = 0;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && n < 9)
	{
		*v = *v * 10 + (*c->p - '0');
		c->p++;
		n++;
	}
	return n >= min_w;
}

/* Consume one expected character. */
static bool
expect(cur *c, char ch)
{
	if (c->p < c->end && *c->p == ch)
	{
		c->p++;
		return true;
	}
	return false;
}

/* A broken-down date and time; usec keeps the fraction. */
typedef struct dt
{
	int64_t		year;			/* astronomical */
	int			mon,
				day,
				hour,
				min,
				sec;
	int			usec;
} dt;

/* "YYYY-MM-DD" with a year of 4 or more digits. */
static bool
read_date(cur *c, dt *v)
{
	int64_t		y,
				m,
				d;

	if (!read_int(c, 4, &y) || !expect(c, '-') || !read_int(c, 2, &m) ||
		!expect(c, '-') || !read_int(c, 2, &d) || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	v->year = y;
	v->mon = (int) m;
	v->day = (int) d;
	return true;
}

/* "HH:MM:SS[.ffffff]". */
static bool
read_time(cur *c, dt *v)
{
	int64_t		h,
				mi,
				s,
				f = 0;
	int			digits = 0;

	if (!read_int(c, 2, &h) || !expect(c, ':') || !read_int(c, 2, &mi) ||
		!expect(c, ':') || !read_int(c, 2, &s))
		return false;
	if (expect(c, '.'))
	{
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && digits < 6)
		{
			f = f * 10 + (*c->p++ - '0');
			digits++;
		}
		if (digits == 0)
			return false;
		while (digits++ < 6)
			f *= 10;
	}
	v->hour = (int) h;
	v->min = (int) mi;
	v->sec = (int) s;
	v->usec = (int) f;
	return h <= 24 && mi < 60 && s <= 60;
}

/* "+HH[:MM[:SS]]" -> seconds east of UTC. */
static bool
read_offset(cur *c, int *secs)
{
	int			sign;
	int64_t		h,
				m = 0,
				s = 0;

	if (c->p >= c->end || (*c->p != '+' && *c->p != '-'))
		return false;
	sign = *c->p++ == '-' ? -1 : 1;
	if (!read_int(c, 2, &h))
		return false;
	if (expect(c, ':') && !read_int(c, 2, &m))
		return false;
	if (expect(c, ':') && !read_int(c, 2, &s))
		return false;
	*secs = sign * (int) (h * 3600 + m * 60 + s);
	return true;
}

/* An optional " BC": the year becomes astronomical (1 BC is year 0). */
static void
read_era(cur *c, dt *v)
{
	if (c->end - c->p >= 3 && memcmp(c->p, " BC", 3) == 0)
	{
		c->p += 3;
		v->year = 1 - v->year;
	}
}

/* Append v as exactly `width` decimal digits (v >= 0). */
static void
put_digits(trib_strbuf *out, int64_t v, int width)
{
	char		b[24];
	int			i;

	for (i = width - 1; i >= 0; i--)
	{
		b[i] = (char) ('0' + v % 10);
		v /= 10;
	}
	trib_strbuf_add(out, b, (size_t) width);
}

/* An ISO 8601 year as the plugin writes it: 4 digits, else signed. */
static void
put_year(trib_strbuf *out, int64_t y)
{
	if (y >= 0 && y <= 9999)
		put_digits(out, y, 4);
	else
		trib_strbuf_printf(out, "%+05lld", (long long) y);
}

/* HH:MM:SS and the fraction without trailing zeros. */
static void
put_hms(trib_strbuf *out, const dt *v)
{
	int			usec = v->usec,
				width = 6;

	put_digits(out, v->hour, 2);
	trib_strbuf_addc(out, ':');
	put_digits(out, v->min, 2);
	trib_strbuf_addc(out, ':');
	put_digits(out, v->sec, 2);
	if (usec > 0)
	{
		while (usec % 10 == 0)
		{
			usec /= 10;
			width--;
		}
		trib_strbuf_addc(out, '.');
		put_digits(out, usec, width);
	}
}

/* Is the text one of the infinities of dates and timestamps? */
static bool
infinity(trib_strbuf *out, const char *s, size_t len)
{
	if ((len == 8 && memcmp(s, "infinity", 8) == 0) ||
		(len == 9 && memcmp(s, "-infinity", 9) == 0))
	{
		trib_snapfmt_string(out, s, len, TRIB_SNAPFMT_ENC_UTF8);
		return true;
	}
	return false;
}

/* date, timestamp and timestamptz. */
static bool
datetime(trib_strbuf *out, const char *s, size_t len, trib_snapfmt_kind kind,
		 char *errbuf, size_t errlen)
{
	cur			c = {s, s + len};
	dt			v = {0};
	int			off = 0;

	if (infinity(out, s, len))
		return true;
	if (!read_date(&c, &v))
		return trib_errf(errbuf, errlen, "unexpected date text");
	if (kind != TRIB_SNAPFMT_KIND_DATE &&
		(!expect(&c, ' ') || !read_time(&c, &v) ||
		 (kind == TRIB_SNAPFMT_KIND_TIMESTAMPTZ && !read_offset(&c, &off))))
		return trib_errf(errbuf, errlen, "unexpected timestamp text");
	read_era(&c, &v);
	if (c.p != c.end)
		return trib_errf(errbuf, errlen, "unexpected text after a date or timestamp");
	if (off != 0)
	{
		int64_t		secs = trib_isodate_days_from_civil(v.year, v.mon, v.day) * 86400 +
			v.hour * 3600 + v.min * 60 + v.sec - off;
		int64_t		days = (secs >= 0 ? secs : secs - 86399) / 86400;
		int64_t		rest = secs - days * 86400;

		trib_isodate_civil_from_days(days, &v.year, &v.mon, &v.day);
		v.hour = (int) (rest / 3600);
		v.min = (int) (rest / 60 % 60);
		v.sec = (int) (rest % 60);
	}
	trib_strbuf_addc(out, '"');
	put_year(out, v.year);
	trib_strbuf_addc(out, '-');
	put_digits(out, v.mon, 2);
	trib_strbuf_addc(out, '-');
	put_digits(out, v.day, 2);
	if (kind != TRIB_SNAPFMT_KIND_DATE)
	{
		trib_strbuf_addc(out, 'T');
		put_hms(out, &v);
		if (kind == TRIB_SNAPFMT_KIND_TIMESTAMPTZ)
			trib_strbuf_addc(out, 'Z');
	}
	trib_strbuf_addc(out, '"');
	return true;
}

/* timetz: the time as is, the offset as +HH:MM[:SS]. */
static bool
timetz(trib_strbuf *out, const char *s, size_t len, char *errbuf, size_t errlen)
{
	cur			c = {s, s + len};
	dt			v = {0};
	int			off,
				a;

	if (!read_time(&c, &v) || !read_offset(&c, &off) || c.p != c.end)
		return trib_errf(errbuf, errlen, "unexpected time with time zone text");
	a = off < 0 ? -off : off;
	trib_strbuf_addc(out, '"');
	put_hms(out, &v);
	trib_strbuf_printf(out, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
	if (a % 60)
		trib_strbuf_printf(out, ":%02d", a % 60);
	trib_strbuf_addc(out, '"');
	return true;
}

/* ---- arrays and composite values --------------------------------------- */

/*
 * The rest of a quoted element or field, after its opening quote, up to
 * and past the closing one: a backslash takes the next byte as it is, and
 * with `doubled` (record literals) so does "" for one quote.  The
 * unescaped text goes to tmp; false when the literal ends first.
 */
static bool
quoted_rest(cur *c, bool doubled, trib_strbuf *tmp)
{
	for (;;)
	{
		if (c->p >= c->end)
			return false;
		if (*c->p == '"')
		{
			if (doubled && c->p + 1 < c->end && c->p[1] == '"')
			{
				trib_strbuf_addc(tmp, '"');
				c->p += 2;
				continue;
			}
			c->p++;
			return true;
		}
		if (*c->p == '\\' && ++c->p >= c->end)
			return false;
		trib_strbuf_addc(tmp, *c->p++);
	}
}

/*
 * One element of an array literal at c: quoted ("..." with backslash
 * escapes) or bare up to the delimiter or '}'.  Sets *is_null for a bare
 * NULL.  The unescaped text goes to tmp.
 */
static bool
array_element(cur *c, char delim, trib_strbuf *tmp, bool *is_null)
{
	tmp->len = 0;
	*is_null = false;
	if (expect(c, '"'))
		return quoted_rest(c, false, tmp);
	while (c->p < c->end && *c->p != delim && *c->p != '}' && *c->p != '{' &&
		   *c->p != '"')
		trib_strbuf_addc(tmp, *c->p++);
	if (tmp->len == 0)
		return false;
	*is_null = tmp->len == 4 && strncasecmp(tmp->data, "NULL", 4) == 0;
	return true;
}

/* JSON white space? */
static bool
is_jws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Is a json or jsonb text output the JSON literal null (white space
 * around it allowed, as json keeps it)? */
bool
trib_snapfmt_json_is_null(const char *s, size_t len)
{
	while (len > 0 && is_jws(s[len - 1]))
		len--;
	while (len > 4 && is_jws(*s))
	{
		s++;
		len--;
	}
	return len == 4 && memcmp(s, "null", 4) == 0;
}

/* Where an array's JSON null elements are collected (jn, NULL: not
 * collected) and how many elements came before (leaf, row-major). */
typedef struct elemnulls
{
	trib_strbuf *jn;
	size_t		leaf;
} elemnulls;

/* One level of braces: a JSON array of elements or of nested levels;
 * en as above. */
static bool
array_level(trib_strbuf *out, cur *c, const trib_snapfmt_type *t,
			const trib_snapfmt_opts *o, int depth, elemnulls *en,
			char *errbuf, size_t errlen)
{
	trib_strbuf tmp = {0};
	bool		ok = true;
	bool		first = true;

	if (depth > 6 || !expect(c, '{'))
		return trib_errf(errbuf, errlen, "malformed array literal");
	trib_strbuf_addc(out, '[');
	if (expect(c, '}'))
	{
		trib_strbuf_addc(out, ']');
		return true;
	}
	while (ok)
	{
		bool		is_null;

		if (!first)
			trib_strbuf_addc(out, ',');
		first = false;
		if (c->p < c->end && *c->p == '{')
			ok = array_level(out, c, t, o, depth + 1, en, errbuf, errlen);
		else if (!array_element(c, t->delim, &tmp, &is_null))
			ok = trib_errf(errbuf, errlen, "malformed array element");
		else
		{
			if (is_null)
				trib_strbuf_add(out, "null", 4);
			else
				ok = trib_snapfmt_value(out, tmp.data ? tmp.data : "", tmp.len, t->elem, o,
										errbuf, errlen);
			if (ok && en && !is_null && trib_snapfmt_json_is_null(tmp.data, tmp.len))
				trib_strbuf_printf(en->jn, ",%zu", en->leaf);
			if (en)
				en->leaf++;
		}
		if (!ok || expect(c, t->delim))
			continue;
		if (!expect(c, '}'))
			ok = trib_errf(errbuf, errlen, "malformed array literal");
		break;
	}
	trib_strbuf_free(&tmp);
	if (ok)
		trib_strbuf_addc(out, ']');
	return ok;
}

/* An array literal, with or without "[lo:hi]..." bounds before '='; en
 * as in array_level. */
static bool
array(trib_strbuf *out, const char *s, size_t len, const trib_snapfmt_type *t,
	  const trib_snapfmt_opts *o, elemnulls *en, char *errbuf, size_t errlen)
{
	cur			c = {s, s + len};

	if (c.p < c.end && *c.p == '[')
	{
		while (c.p < c.end && *c.p != '=')
			if (!strchr("[]:-0123456789", *c.p++))
				return trib_errf(errbuf, errlen, "malformed array bounds");
		if (!expect(&c, '='))
			return trib_errf(errbuf, errlen, "malformed array bounds");
	}
	if (!array_level(out, &c, t, o, 0, en, errbuf, errlen))
		return false;
	if (c.p != c.end)
		return trib_errf(errbuf, errlen, "unexpected text after an array");
	return true;
}

/*
 * One field of a record literal: empty (NULL), quoted ("" and backslash
 * escapes) or bare up to ',' or ')'.
 */
static bool
record_field(cur *c, trib_strbuf *tmp, bool *is_null)
{
	tmp->len = 0;
	*is_null = false;
	if (c->p < c->end && (*c->p == ',' || *c->p == ')'))
	{
		*is_null = true;
		return true;
	}
	if (expect(c, '"'))
		return quoted_rest(c, true, tmp);
	while (c->p < c->end && *c->p != ',' && *c->p != ')' && *c->p != '"')
		trib_strbuf_addc(tmp, *c->p++);
	return true;
}

/* A record literal as a JSON object of the type's attributes. */
static bool
composite(trib_strbuf *out, const char *s, size_t len, const trib_snapfmt_type *t,
		  const trib_snapfmt_opts *o, char *errbuf, size_t errlen)
{
	cur			c = {s, s + len};
	trib_strbuf tmp = {0};
	bool		ok = expect(&c, '(');
	int			i;

	trib_strbuf_addc(out, '{');
	for (i = 0; ok && i < t->nattrs; i++)
	{
		bool		is_null;

		if (i > 0)
			trib_strbuf_addc(out, ',');
		trib_snapfmt_string(out, t->attr_names[i], strlen(t->attr_names[i]), o->encoding);
		trib_strbuf_addc(out, ':');
		if (!record_field(&c, &tmp, &is_null))
			ok = false;
		else if (is_null)
			trib_strbuf_add(out, "null", 4);
		else
			ok = trib_snapfmt_value(out, tmp.data ? tmp.data : "", tmp.len,
									t->attrs[i], o, errbuf, errlen);
		if (ok && i + 1 < t->nattrs && !expect(&c, ','))
			ok = false;
	}
	trib_strbuf_free(&tmp);
	if (!ok || !expect(&c, ')') || c.p != c.end)
	{
		if (ok || !errbuf || errlen == 0 || errbuf[0] == '\0')
			trib_errf(errbuf, errlen, "malformed composite value (expected %d attributes)",
					  t->nattrs);
		return false;
	}
	trib_strbuf_addc(out, '}');
	return true;
}

/* ---- dispatch ----------------------------------------------------------- */

bool
trib_snapfmt_value(trib_strbuf *out, const char *text, size_t len,
				   const trib_snapfmt_type *t, const trib_snapfmt_opts *o,
				   char *errbuf, size_t errlen)
{
	if (errbuf && errlen)
		errbuf[0] = '\0';
	switch (t->kind)
	{
		case TRIB_SNAPFMT_KIND_INT:
		case TRIB_SNAPFMT_KIND_FLOAT:
		case TRIB_SNAPFMT_KIND_NUMERIC:
			return number(out, text, len, t, errbuf, errlen);
		case TRIB_SNAPFMT_KIND_BOOL:
			if (len == 1 && (text[0] == 't' || text[0] == 'f'))
			{
				trib_strbuf_adds(out, text[0] == 't' ? "true" : "false");
				return true;
			}
			return trib_errf(errbuf, errlen, "unexpected boolean text");
		case TRIB_SNAPFMT_KIND_JSON:
			if (len == 0)
				return trib_errf(errbuf, errlen, "empty json value");
			raw_json(out, text, len, o->encoding);
			return true;
		case TRIB_SNAPFMT_KIND_BYTEA:
			return bytea(out, text, len, o->bytea_hex, errbuf, errlen);
		case TRIB_SNAPFMT_KIND_DATE:
		case TRIB_SNAPFMT_KIND_TIMESTAMP:
		case TRIB_SNAPFMT_KIND_TIMESTAMPTZ:
			return datetime(out, text, len, t->kind, errbuf, errlen);
		case TRIB_SNAPFMT_KIND_TIMETZ:
			return timetz(out, text, len, errbuf, errlen);
		case TRIB_SNAPFMT_KIND_ARRAY:
			if (t->elem == NULL)
				return trib_errf(errbuf, errlen, "array type without element type");
			return array(out, text, len, t, o, NULL, errbuf, errlen);
		case TRIB_SNAPFMT_KIND_COMPOSITE:
			return composite(out, text, len, t, o, errbuf, errlen);
		case TRIB_SNAPFMT_KIND_STRING:
			break;
	}
	trib_snapfmt_string(out, text, len, o->encoding);
	return true;
}

/* A column's value, with its JSON nulls (see the header). */
bool
trib_snapfmt_column(trib_strbuf *out, const char *text, size_t len,
					const trib_snapfmt_type *t, const trib_snapfmt_opts *o,
					trib_strbuf *json_nulls, bool *json_null,
					char *errbuf, size_t errlen)
{
	elemnulls	en = {json_nulls, 0};

	*json_null = false;
	if (t->kind == TRIB_SNAPFMT_KIND_ARRAY && t->elem && t->elem->kind == TRIB_SNAPFMT_KIND_JSON)
	{
		if (errbuf && errlen)
			errbuf[0] = '\0';
		return array(out, text, len, t, o, &en, errbuf, errlen);
	}
	if (!trib_snapfmt_value(out, text, len, t, o, errbuf, errlen))
		return false;
	*json_null = t->kind == TRIB_SNAPFMT_KIND_JSON && trib_snapfmt_json_is_null(text, len);
	return true;
}
