/*-------------------------------------------------------------------------
 *
 * jsonout.c
 *		Low-level JSON writing for the tributary output plugin.
 *
 * Everything here appends to a StringInfo that is usually ctx->out, the
 * walsender's reusable output buffer, so a record is formatted exactly once
 * and never copied.
 *
 * Strings.  JSON text must be UTF-8.  What arrives depends on the database
 * encoding, decided once per session by trib_jsonout_init():
 *	- UTF8: PostgreSQL has already validated every value; we only escape
 *	  quotes, backslashes and control characters.  The scan copies runs of
 *	  safe bytes with one memcpy, which is the hot path for text columns.
 *	- SQL_ASCII: anything can be stored.  Valid UTF-8 sequences pass through;
 *	  each byte that is not part of one is written as \u00XX (its Latin-1
 *	  reading), so the output is always valid JSON and no byte is dropped.
 *	- any other encoding: the value is converted to UTF-8 and every
 *	  non-ASCII character is written as a \u escape (surrogate pairs above
 *	  the BMP), so the output is pure ASCII and survives any client encoding.
 *
 * Timestamps are formatted here rather than with the type output functions,
 * because those follow the session's DateStyle and TimeZone; ours are always
 * ISO 8601 and timestamptz is always in UTC with a "Z".
 *
 *-------------------------------------------------------------------------
 */
#include "tributary.h"

#include "common/base64.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

typedef enum TribEncodingMode
{
	TRIB_ENC_UTF8,
	TRIB_ENC_SQL_ASCII,
	TRIB_ENC_OTHER
} TribEncodingMode;

static TribEncodingMode encoding_mode = TRIB_ENC_UTF8;

/* Nonzero for bytes that cannot appear raw inside a JSON string. */
static unsigned char json_escape_needed[256];

static const char hexdigits[] = "0123456789abcdef";

/* Decide the string strategy for this database; call once per session. */
void
trib_jsonout_init(void)
{
	int			enc = GetDatabaseEncoding();
	int			i;

	if (enc == PG_UTF8)
		encoding_mode = TRIB_ENC_UTF8;
	else if (enc == PG_SQL_ASCII)
		encoding_mode = TRIB_ENC_SQL_ASCII;
	else
		encoding_mode = TRIB_ENC_OTHER;

	for (i = 0; i < 256; i++)
		json_escape_needed[i] = (i < 0x20 || i == '"' || i == '\\');
	/* Non-UTF8 modes inspect every high byte too. */
	if (encoding_mode != TRIB_ENC_UTF8)
		for (i = 0x80; i < 256; i++)
			json_escape_needed[i] = 1;
}

/* Append \uXXXX for one UTF-16 code unit. */
static inline void
append_u_escape(StringInfo out, unsigned int cu)
{
	char		b[6];

	b[0] = '\\';
	b[1] = 'u';
	b[2] = hexdigits[(cu >> 12) & 0xF];
	b[3] = hexdigits[(cu >> 8) & 0xF];
	b[4] = hexdigits[(cu >> 4) & 0xF];
	b[5] = hexdigits[cu & 0xF];
	trib_append(out, b, 6);
}

/* Append the escape of an ASCII byte that needs one. */
static inline void
append_ascii_escape(StringInfo out, unsigned char c)
{
	switch (c)
	{
		case '"':
			trib_append(out, "\\\"", 2);
			break;
		case '\\':
			trib_append(out, "\\\\", 2);
			break;
		case '\n':
			trib_append(out, "\\n", 2);
			break;
		case '\r':
			trib_append(out, "\\r", 2);
			break;
		case '\t':
			trib_append(out, "\\t", 2);
			break;
		case '\b':
			trib_append(out, "\\b", 2);
			break;
		case '\f':
			trib_append(out, "\\f", 2);
			break;
		default:
			append_u_escape(out, c);
			break;
	}
}

/* Decode one valid UTF-8 sequence of length n to a code point. */
static unsigned int
utf8_decode(const unsigned char *p, int n)
{
	switch (n)
	{
		case 2:
			return ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
		case 3:
			return ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
		default:
			return ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) |
				((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
	}
}

/*
 * Which of the 8 bytes at p need a look in escape_body(): bit 7 of byte i
 * of the result is set when byte i is < 0x20, '"' or '\\', or (check_high)
 * >= 0x80; the same set as json_escape_needed[].  The subtractions borrow
 * only upward, past a byte that matches, so the lowest set bit is always a
 * true match (bits above it may not be).  Little-endian byte order.
 */
static inline uint64
escape_mask8(const unsigned char *p, bool check_high)
{
	const uint64 ones = UINT64CONST(0x0101010101010101);
	uint64		w;
	uint64		q;
	uint64		b;
	uint64		m;

	memcpy(&w, p, sizeof(w));
	q = w ^ (ones * '"');
	b = w ^ (ones * '\\');
	m = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b);
	if (check_high)
		m |= w;
	return m & (ones * 0x80);
}

/*
 * Escape the body of a string (no quotes).  ascii_only: write every
 * non-ASCII character as \u escapes.  The input must be valid UTF-8 except
 * in SQL_ASCII mode, where invalid bytes become \u00XX.
 */
static void
escape_body(StringInfo out, const char *s, int len, bool ascii_only)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	const unsigned char *run = p;
	bool		check_high = encoding_mode != TRIB_ENC_UTF8;

	enlargeStringInfo(out, len + 2);
	while (p < end)
	{
		unsigned char c;
		int			n;

#ifndef WORDS_BIGENDIAN
		/* Skip safe bytes eight at a time, up to the first that is not. */
		if (end - p >= 8)
		{
			uint64		m = escape_mask8(p, check_high);

			if (m == 0)
			{
				p += 8;
				continue;
			}
			p += pg_rightmost_one_pos64(m) / 8;
		}
#endif
		c = *p;
		if (likely(!json_escape_needed[c]))
		{
			p++;
			continue;
		}
		if (p > run)
			trib_append(out, (const char *) run, p - run);
		if (c < 0x80)
		{
			append_ascii_escape(out, c);
			p++;
		}
		else if ((n = pg_utf_mblen(p)) <= end - p && n > 1 &&
				 pg_utf8_islegal(p, n))
		{
			if (ascii_only)
			{
				unsigned int cp = utf8_decode(p, n);

				if (cp >= 0x10000)
				{
					cp -= 0x10000;
					append_u_escape(out, 0xD800 | (cp >> 10));
					append_u_escape(out, 0xDC00 | (cp & 0x3FF));
				}
				else
					append_u_escape(out, cp);
			}
			else
				trib_append(out, (const char *) p, n);
			p += n;
		}
		else
		{
			/* Not UTF-8 (SQL_ASCII only): keep the byte as U+00XX. */
			append_u_escape(out, c);
			p++;
		}
		run = p;
	}
	if (p > run)
		trib_append(out, (const char *) run, p - run);
}

/* Append s (len bytes, server encoding) as a quoted JSON string. */
void
trib_json_string(StringInfo out, const char *s, int len)
{
	appendStringInfoCharMacro(out, '"');
	if (encoding_mode == TRIB_ENC_OTHER)
	{
		char	   *u = pg_server_to_any(s, len, PG_UTF8);

		escape_body(out, u, strlen(u), true);
		if (u != s)
			pfree(u);
	}
	else
		escape_body(out, s, len, false);
	appendStringInfoCharMacro(out, '"');
}

/*
 * Append bytes known to be valid UTF-8 (whatever the database encoding) as
 * a quoted JSON string.
 */
void
trib_json_utf8_string(StringInfo out, const char *s, int len)
{
	appendStringInfoCharMacro(out, '"');
	escape_body(out, s, len, encoding_mode == TRIB_ENC_OTHER);
	appendStringInfoCharMacro(out, '"');
}

/*
 * Append text that is already valid JSON (json type values).  Only the
 * encoding needs care: string literals are the only place non-ASCII bytes
 * can appear in JSON, so escaping them there keeps the document valid.
 */
void
trib_json_raw_text(StringInfo out, const char *s, int len)
{
	const unsigned char *p = (const unsigned char *) s;
	int			i;

	if (encoding_mode == TRIB_ENC_UTF8)
	{
		trib_append(out, s, len);
		return;
	}
	for (i = 0; i < len; i++)
		if (p[i] >= 0x80)
			break;
	if (i == len)
	{
		trib_append(out, s, len);
		return;
	}
	/* Copy, escaping non-ASCII bytes; structural characters stay as is. */
	{
		const char *src = s;
		char	   *u = NULL;
		int			ulen = len;

		if (encoding_mode == TRIB_ENC_OTHER)
		{
			u = pg_server_to_any(s, len, PG_UTF8);
			src = u;
			ulen = strlen(u);
		}
		p = (const unsigned char *) src;
		i = 0;
		while (i < ulen)
		{
			int			j = i;

			while (j < ulen && p[j] < 0x80)
				j++;
			trib_append(out, src + i, j - i);
			i = j;
			while (j < ulen && p[j] >= 0x80)
				j++;
			if (j > i)
				escape_body(out, src + i, j - i,
							encoding_mode == TRIB_ENC_OTHER);
			i = j;
		}
		if (u && u != s)
			pfree(u);
	}
}

/* "00" to "FF": two upper-case hex digits per table lookup. */
static const char hex_pairs[513] =
"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
"202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F"
"404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F"
"606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F"
"808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9F"
"A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF"
"C0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
"E0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF";

/* Write v in upper-case hex without leading zeros; returns its length. */
static inline int
put_hex32(char *p, uint32 v)
{
	int			n = v ? pg_leftmost_one_pos32(v) / 4 + 1 : 1;
	int			i = n;

	while (i >= 2)
	{
		i -= 2;
		memcpy(p + i, hex_pairs + 2 * (v & 0xFF), 2);
		v >>= 8;
	}
	if (i)
		p[0] = hex_pairs[2 * (v & 0xF) + 1];
	return n;
}

/* Format an LSN as X/X (upper-case hex, as PostgreSQL prints it). */
int
trib_format_lsn(char *buf, XLogRecPtr lsn)
{
	int			len = put_hex32(buf, (uint32) (lsn >> 32));

	buf[len++] = '/';
	len += put_hex32(buf + len, (uint32) lsn);
	buf[len] = '\0';
	return len;
}

/* Append an LSN as a JSON string. */
void
trib_json_lsn(StringInfo out, XLogRecPtr lsn)
{
	char		buf[24];
	int			n;

	buf[0] = '"';
	n = trib_format_lsn(buf + 1, lsn) + 1;
	buf[n++] = '"';
	trib_append(out, buf, n);
}

/* Append a signed integer as a JSON number. */
void
trib_json_int64(StringInfo out, int64 v)
{
	char		buf[MAXINT8LEN + 1];
	int			n = pg_lltoa(v, buf);

	trib_append(out, buf, n);
}

/* "00" to "99": two digits per table lookup. */
static const char digit_pairs[201] =
"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
"8081828384858687888990919293949596979899";

/* Write 0 <= n <= 99 as exactly two decimal digits. */
static inline int
put2(char *p, int n)
{
	memcpy(p, digit_pairs + 2 * n, 2);
	return 2;
}

/*
 * Write an ISO 8601 year from an astronomical year (as j2date gives it:
 * 0 is 1 BC, -1 is 2 BC): four digits for 0..9999, else signed.
 */
static int
put_year(char *p, int astro)
{
	char		tmp[16];
	int			n;

	if (astro >= 0 && astro <= 9999)
	{
		put2(p, astro / 100);
		return put2(p + 2, astro % 100) + 2;
	}
	n = snprintf(tmp, sizeof(tmp), "%+05d", astro);
	memcpy(p, tmp, n);
	return n;
}

/* Write HH:MM:SS[.ffffff] with trailing zeros of the fraction trimmed. */
static int
put_hms(char *p, int h, int m, int s, int usec)
{
	int			n = 0;

	n += put2(p + n, h);
	p[n++] = ':';
	n += put2(p + n, m);
	p[n++] = ':';
	n += put2(p + n, s);
	if (usec > 0)
	{
		int			width = 6;

		p[n++] = '.';
		put2(p + n, usec / 10000);
		put2(p + n + 2, usec / 100 % 100);
		put2(p + n + 4, usec % 100);
		/* usec > 0: some digit is not 0 */
		while (p[n + width - 1] == '0')
			width--;
		n += width;
	}
	return n;
}

/*
 * The date part ("YYYY-MM-DDT") of the day trib_format_timestamp last
 * formatted, and that day (days since 2000-01-01, floored).  Timestamps come
 * in runs of the same day (a transaction's commit time, one column's values
 * in a load), and the calendar arithmetic of timestamp2tm is most of the cost
 * of a timestamp: the time of day is plain division.
 */
static int64 cached_day = PG_INT64_MIN;
static char cached_date[24];
static int	cached_date_len;

/*
 * Format a timestamp (microseconds since 2000-01-01, taken as UTC) into
 * buf as ISO 8601; with_z appends "Z".  Infinite values are "infinity" and
 * "-infinity".  Returns the length; buf needs 40 bytes.  The bytes are
 * those of timestamp2tm's fields (the pg_regress test decode_timestamps
 * compares them with PostgreSQL's own output for many values).
 */
int
trib_format_timestamp(char *buf, Timestamp ts, bool with_z)
{
	int64		day;
	int64		tod;
	int			h;
	int			m;
	int			s;
	int			n;

	if (TIMESTAMP_IS_NOBEGIN(ts))
		return sprintf(buf, "-infinity");
	if (TIMESTAMP_IS_NOEND(ts))
		return sprintf(buf, "infinity");
	/* floored division, as timestamp2tm splits it */
	day = ts / USECS_PER_DAY;
	tod = ts % USECS_PER_DAY;
	if (tod < 0)
	{
		tod += USECS_PER_DAY;
		day--;
	}
	if (day != cached_day)
	{
		struct pg_tm tm;
		fsec_t		fsec;

		if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		n = put_year(cached_date, tm.tm_year);
		cached_date[n++] = '-';
		n += put2(cached_date + n, tm.tm_mon);
		cached_date[n++] = '-';
		n += put2(cached_date + n, tm.tm_mday);
		cached_date[n++] = 'T';
		cached_date_len = n;
		cached_day = day;
	}
	memcpy(buf, cached_date, cached_date_len);
	n = cached_date_len;
	h = (int) (tod / USECS_PER_HOUR);
	tod -= (int64) h * USECS_PER_HOUR;
	m = (int) (tod / USECS_PER_MINUTE);
	tod -= (int64) m * USECS_PER_MINUTE;
	s = (int) (tod / USECS_PER_SEC);
	tod -= (int64) s * USECS_PER_SEC;
	n += put_hms(buf + n, h, m, s, (int) tod);
	if (with_z)
		buf[n++] = 'Z';
	buf[n] = '\0';
	return n;
}

/* Append a timestamp as a JSON string; utc adds the "Z" of timestamptz. */
void
trib_json_timestamptz(StringInfo out, TimestampTz ts, bool utc)
{
	char		buf[48];
	int			n;

	buf[0] = '"';
	n = trib_format_timestamp(buf + 1, ts, utc) + 1;
	buf[n++] = '"';
	trib_append(out, buf, n);
}

/* Append a date as "YYYY-MM-DD" (or "infinity"/"-infinity"). */
void
trib_json_date(StringInfo out, DateADT d)
{
	char		buf[32];
	int			n = 0;
	int			y,
				m,
				dd;

	if (DATE_IS_NOBEGIN(d))
	{
		appendStringInfoString(out, "\"-infinity\"");
		return;
	}
	if (DATE_IS_NOEND(d))
	{
		appendStringInfoString(out, "\"infinity\"");
		return;
	}
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
	buf[n++] = '"';
	n += put_year(buf + n, y);
	buf[n++] = '-';
	n += put2(buf + n, m);
	buf[n++] = '-';
	n += put2(buf + n, dd);
	buf[n++] = '"';
	trib_append(out, buf, n);
}

/* Append a time of day as "HH:MM:SS[.ffffff]". */
void
trib_json_time(StringInfo out, TimeADT t)
{
	char		buf[32];
	int			n = 0;
	int64		usec = t;
	int			h,
				m,
				s;

	h = usec / USECS_PER_HOUR;
	usec -= (int64) h * USECS_PER_HOUR;
	m = usec / USECS_PER_MINUTE;
	usec -= (int64) m * USECS_PER_MINUTE;
	s = usec / USECS_PER_SEC;
	usec -= (int64) s * USECS_PER_SEC;
	buf[n++] = '"';
	n += put_hms(buf + n, h, m, s, (int) usec);
	buf[n++] = '"';
	trib_append(out, buf, n);
}

/* Append bytes as a base64 JSON string. */
void
trib_json_base64(StringInfo out, const char *data, int len)
{
	int			enclen = pg_b64_enc_len(len);
	int			n;

	enlargeStringInfo(out, enclen + 2);
	out->data[out->len++] = '"';
	n = pg_b64_encode(data, len, out->data + out->len, enclen);
	if (n < 0)
		elog(ERROR, "tributary: base64 encoding failed");
	out->len += n;
	out->data[out->len++] = '"';
	out->data[out->len] = '\0';
}

/* Append bytes as a lower-case hex JSON string (no "\x" prefix). */
void
trib_json_hex(StringInfo out, const char *data, int len)
{
	const unsigned char *p = (const unsigned char *) data;
	char	   *dst;
	int			i;

	enlargeStringInfo(out, 2 * len + 2);
	dst = out->data + out->len;
	*dst++ = '"';
	for (i = 0; i < len; i++)
	{
		*dst++ = hexdigits[p[i] >> 4];
		*dst++ = hexdigits[p[i] & 0xF];
	}
	*dst++ = '"';
	out->len = dst - out->data;
	out->data[out->len] = '\0';
}

/* Append bytes in the encoding the options ask for. */
void
trib_json_bytes(StringInfo out, const char *data, int len,
				TribBinaryEncoding enc)
{
	if (enc == TRIB_BYTEA_HEX)
		trib_json_hex(out, data, len);
	else
		trib_json_base64(out, data, len);
}
