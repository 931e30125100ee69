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
	appendBinaryStringInfo(out, b, 6);
}

/* Append the escape of an ASCII byte that needs one. */
static inline void
append_ascii_escape(StringInfo out, unsigned char c)
{
	switch (c)
	{
		case '"':
			appendBinaryStringInfo(out, "\\\"", 2);
			break;
		case '\\':
			appendBinaryStringInfo(out, "\\\\", 2);
			break;
		case '\n':
			appendBinaryStringInfo(out, "\\n", 2);
			break;
		case '\r':
			appendBinaryStringInfo(out, "\\r", 2);
			break;
		case '\t':
			appendBinaryStringInfo(out, "\\t", 2);
			break;
		case '\b':
			appendBinaryStringInfo(out, "\\b", 2);
			break;
		case '\f':
			appendBinaryStringInfo(out, "\\f", 2);
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

	enlargeStringInfo(out, len + 2);
	while (p < end)
	{
		unsigned char c = *p;
		int			n;

		if (likely(!json_escape_needed[c]))
		{
			p++;
			continue;
		}
		if (p > run)
			appendBinaryStringInfo(out, (const char *) run, p - run);
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
				appendBinaryStringInfo(out, (const char *) p, n);
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
		appendBinaryStringInfo(out, (const char *) run, p - run);
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
		appendBinaryStringInfo(out, s, len);
		return;
	}
	for (i = 0; i < len; i++)
		if (p[i] >= 0x80)
			break;
	if (i == len)
	{
		appendBinaryStringInfo(out, s, len);
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
			appendBinaryStringInfo(out, src + i, j - i);
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

/* Format an LSN as X/X (upper-case hex, as PostgreSQL prints it). */
int
trib_format_lsn(char *buf, XLogRecPtr lsn)
{
	static const char HEX[] = "0123456789ABCDEF";
	char		tmp[8];
	uint32		parts[2];
	int			len = 0;
	int			k;

	parts[0] = (uint32) (lsn >> 32);
	parts[1] = (uint32) lsn;
	for (k = 0; k < 2; k++)
	{
		uint32		v = parts[k];
		int			n = 0;

		do
		{
			tmp[n++] = HEX[v & 0xF];
			v >>= 4;
		} while (v);
		while (n > 0)
			buf[len++] = tmp[--n];
		if (k == 0)
			buf[len++] = '/';
	}
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
	appendBinaryStringInfo(out, buf, n);
}

/* Append a signed integer as a JSON number. */
void
trib_json_int64(StringInfo out, int64 v)
{
	char		buf[MAXINT8LEN + 1];
	int			n = pg_lltoa(v, buf);

	appendBinaryStringInfo(out, buf, n);
}

/* Write n as exactly `width` decimal digits; returns chars written. */
static inline int
put_digits(char *p, int n, int width)
{
	int			i;

	for (i = width - 1; i >= 0; i--)
	{
		p[i] = '0' + n % 10;
		n /= 10;
	}
	return width;
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
		return put_digits(p, astro, 4);
	n = snprintf(tmp, sizeof(tmp), "%+05d", astro);
	memcpy(p, tmp, n);
	return n;
}

/* Write HH:MM:SS[.ffffff] with trailing zeros of the fraction trimmed. */
static int
put_hms(char *p, int h, int m, int s, int usec)
{
	int			n = 0;

	n += put_digits(p + n, h, 2);
	p[n++] = ':';
	n += put_digits(p + n, m, 2);
	p[n++] = ':';
	n += put_digits(p + n, s, 2);
	if (usec > 0)
	{
		int			width = 6;

		while (usec % 10 == 0)
		{
			usec /= 10;
			width--;
		}
		p[n++] = '.';
		n += put_digits(p + n, usec, width);
	}
	return n;
}

/*
 * Format a timestamp (microseconds since 2000-01-01, taken as UTC) into
 * buf as ISO 8601; with_z appends "Z".  Infinite values are "infinity" and
 * "-infinity".  Returns the length; buf needs 40 bytes.
 */
int
trib_format_timestamp(char *buf, Timestamp ts, bool with_z)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			n = 0;

	if (TIMESTAMP_IS_NOBEGIN(ts))
		return sprintf(buf, "-infinity");
	if (TIMESTAMP_IS_NOEND(ts))
		return sprintf(buf, "infinity");
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	n += put_year(buf + n, tm.tm_year);
	buf[n++] = '-';
	n += put_digits(buf + n, tm.tm_mon, 2);
	buf[n++] = '-';
	n += put_digits(buf + n, tm.tm_mday, 2);
	buf[n++] = 'T';
	n += put_hms(buf + n, tm.tm_hour, tm.tm_min, tm.tm_sec, fsec);
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
	appendBinaryStringInfo(out, buf, n);
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
	n += put_digits(buf + n, m, 2);
	buf[n++] = '-';
	n += put_digits(buf + n, dd, 2);
	buf[n++] = '"';
	appendBinaryStringInfo(out, buf, n);
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
	appendBinaryStringInfo(out, buf, n);
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
