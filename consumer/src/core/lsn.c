/*
 * lsn.c: LSNs as text (see lsn.h).
 */
#include "lsn.h"

#include <string.h>

#include "hex.h"

/* One to eight hex digits at s[*i] (up to n) into *out; advances *i.
 * A ninth digit fails.  The position is kept in a local, not through
 * the pointer, so the loop stays in registers (every change record
 * carries an LSN or two). */
static inline bool
parse_half(const char *s, size_t n, size_t *i, uint32_t *out)
{
	size_t		start = *i,
				j = start,
				end = n - start > 9 ? start + 9 : n;
	uint32_t	v = 0;
	int			d;

	while (j < end && (d = trib_hex_digit((unsigned char) s[j])) >= 0)
	{
		v = (v << 4) | (uint32_t) d;
		j++;
	}
	if (j - start > 8)
		return false;
	*i = j;
	*out = v;
	return j > start;
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
	/* the top digit that is not 0 (the digit 0 for 0), without a loop */
	int			shift = v == 0 ? 0 : (31 - __builtin_clz(v)) & ~3;

	for (; shift >= 0; shift -= 4)
		*p++ = hex[(v >> shift) & 0xf];
	return p;
}

char *
trib_lsn_put(char *p, uint64_t lsn)
{
	p = put_hex32(p, (uint32_t) (lsn >> 32));
	*p++ = '/';
	return put_hex32(p, (uint32_t) lsn);
}

void
trib_lsn_format(uint64_t lsn, char *buf, size_t len)
{
	char		tmp[TRIB_LSN_BUFLEN];
	size_t		n = (size_t) (trib_lsn_put(tmp, lsn) - tmp);

	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
}
