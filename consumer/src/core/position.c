/*
 * position.c: the text forms of LSNs and event ids (see position.h).
 */
#include "position.h"

#include <string.h>

#include "textcodec.h"

/* One to eight hex digits at s[*i] (up to n) into *out; advances *i. */
static bool
parse_half(const char *s, size_t n, size_t *i, uint32_t *out)
{
	uint32_t	v = 0;
	size_t		start = *i;
	int			d;

	for (; *i < n && (d = trib_hex_digit((unsigned char) s[*i])) >= 0; (*i)++)
	{
		if (*i - start == 8)
			return false;
		v = (v << 4) | (uint32_t) d;
	}
	*out = v;
	return *i > start;
}

bool
trib_lsn_parse_n(const char *s, size_t n, uint64_t *out)
{
	size_t		i = 0;
	uint32_t	hi;
	uint32_t	lo;

	if (s == NULL || !parse_half(s, n, &i, &hi) || i >= n || s[i++] != '/' ||
		!parse_half(s, n, &i, &lo) || i != n)
		return false;
	*out = ((uint64_t) hi << 32) | lo;
	return true;
}

bool
trib_lsn_parse(const char *s, uint64_t *out)
{
	return s != NULL && trib_lsn_parse_n(s, strlen(s), out);
}

/* Append 32 bits as upper-case hex without leading zeros ("%X"). */
static char *
put_hex32(char *p, uint32_t v)
{
	static const char hex[] = "0123456789ABCDEF";
	int			shift = 28;

	while (shift > 0 && (v >> shift) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = hex[(v >> shift) & 0xf];
	return p;
}

/* Append v in decimal. */
static char *
put_dec(char *p, uint64_t v)
{
	char		dec[24];
	char	   *d = dec + sizeof(dec);

	do
	{
		*--d = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	memcpy(p, d, (size_t) (dec + sizeof(dec) - d));
	return p + (dec + sizeof(dec) - d);
}

/* tmp[0..n) into buf as snprintf would (truncated, NUL-terminated). */
static size_t
put_out(const char *tmp, size_t n, char *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return n;
}

/* "L" or "L:S" into buf. */
static size_t
format_id(uint64_t lsn, uint64_t seq, bool with_seq, char *buf, size_t len)
{
	char		tmp[TRIB_EVENTID_LEN];
	char	   *p = tmp;

	p = put_hex32(p, (uint32_t) (lsn >> 32));
	*p++ = '/';
	p = put_hex32(p, (uint32_t) lsn);
	if (with_seq)
	{
		*p++ = ':';
		p = put_dec(p, seq);
	}
	return put_out(tmp, (size_t) (p - tmp), buf, len);
}

void
trib_lsn_format(uint64_t lsn, char *buf, size_t len)
{
	(void) format_id(lsn, 0, false, buf, len);
}

size_t
trib_eventid_format(uint64_t lsn, uint64_t seq, char *buf, size_t len)
{
	return format_id(lsn, seq, seq != TRIB_SEQ_ALL, buf, len);
}

size_t
trib_eventid_format_seq(uint64_t lsn, uint64_t seq, char *buf, size_t len)
{
	return format_id(lsn, seq, true, buf, len);
}

bool
trib_eventid_parse(const char *s, uint64_t *lsn, uint64_t *seq)
{
	const char *colon;
	uint64_t	v = 0;
	size_t		n;

	if (s == NULL)
		return false;
	colon = strchr(s, ':');
	if (!trib_lsn_parse_n(s, colon ? (size_t) (colon - s) : strlen(s), lsn))
		return false;
	if (colon == NULL)
	{
		*seq = TRIB_SEQ_ALL;
		return true;
	}
	n = strlen(colon + 1);
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		unsigned	c = (unsigned char) colon[1 + i] - '0';

		if (c > 9 || v > ((uint64_t) INT64_MAX - c) / 10)
			return false;
		v = v * 10 + c;
	}
	*seq = v;
	return true;
}
