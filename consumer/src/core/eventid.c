/*
 * eventid.c: event ids as text (see eventid.h).
 */
#include "eventid.h"

#include <string.h>

#include "lsn.h"


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

char *
trib_eventid_put_head(char *p, uint64_t lsn)
{
	p = trib_lsn_put(p, lsn);
	*p++ = ':';
	return p;
}

/* "L" or "L:S" into buf. */
static size_t
format_id(uint64_t lsn, uint64_t seq, bool with_seq, char *buf, size_t len)
{
	char		tmp[TRIB_EVENTID_LEN];
	char	   *p = tmp;

	if (with_seq)
		p = put_dec(trib_eventid_put_head(p, lsn), seq);
	else
		p = trib_lsn_put(p, lsn);
	return put_out(tmp, (size_t) (p - tmp), buf, len);
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
