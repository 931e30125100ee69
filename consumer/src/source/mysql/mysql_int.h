/*
 * mysql_int.h: helpers shared inside source/mysql/ only: the bounded byte
 * cursor every binlog parser reads with, and error formatting.
 *
 * Design.  Binlog events come from the network and from fuzzers, so no
 * parser may read a byte it has not checked.  Every read goes through a
 * trib_my_cur, which never moves past `end`: a read that does not fit
 * returns 0 (or NULL) and sets `bad`, and the parser checks `bad` once
 * after a group of reads.  Integers are little-endian except where the
 * format says big-endian (the *_be readers: temporal and decimal values).
 *
 * Not for use outside this folder.
 */
#ifndef TRIB_MYSQL_INT_H
#define TRIB_MYSQL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errf.h"
#include "strbuf.h"

/* printf-style message into errbuf; always returns false: the one errbuf
 * formatter, lib/errf.h. */
#define trib_my_fail trib_errf

/* Put "PREFIX: " (printf-style) before the message already in errbuf;
 * always returns false. */
bool		trib_my_fail_prefix(char *errbuf, size_t errlen, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Append `name` quoted as an identifier (backquotes doubled). */
void		trib_my_quote_ident(trib_strbuf *b, const char *name);

typedef struct trib_my_cur
{
	const uint8_t *p;
	const uint8_t *end;
	bool		bad;			/* a read did not fit */
} trib_my_cur;

/* A cursor over buf[0..len). */
static inline trib_my_cur
trib_my_cur_make(const void *buf, size_t len)
{
	trib_my_cur c = {(const uint8_t *) buf, (const uint8_t *) buf, false};

	if (buf)
		c.end += len;
	return c;
}

static inline size_t
trib_my_cur_left(const trib_my_cur *c)
{
	return (size_t) (c->end - c->p);
}

/* The next n bytes (advancing past them), or NULL and bad. */
static inline const uint8_t *
trib_my_cur_take(trib_my_cur *c, size_t n)
{
	const uint8_t *r = c->p;

	if (c->bad || n > trib_my_cur_left(c))
	{
		c->bad = true;
		return NULL;
	}
	c->p += n;
	return r;
}

/* n-byte unsigned integer (n <= 8), little- or big-endian. */
static inline uint64_t
trib_my_cur_uint(trib_my_cur *c, size_t n, bool big_endian)
{
	const uint8_t *b = trib_my_cur_take(c, n);
	uint64_t	v = 0;

	if (b == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | b[big_endian ? i : n - 1 - i];
	return v;
}

/* n-byte unsigned little-endian integer (n <= 8). */
static inline uint64_t
trib_my_cur_le(trib_my_cur *c, size_t n)
{
	return trib_my_cur_uint(c, n, false);
}

/* n-byte unsigned big-endian integer (n <= 8). */
static inline uint64_t
trib_my_cur_be(trib_my_cur *c, size_t n)
{
	return trib_my_cur_uint(c, n, true);
}

static inline uint8_t
trib_my_cur_u8(trib_my_cur *c)
{
	return (uint8_t) trib_my_cur_le(c, 1);
}

/*
 * A packed ("length-encoded") integer: < 251 in one byte; 252, 253, 254
 * announce 2, 3 or 8 bytes.  251 (SQL NULL in result sets) and 255 are
 * not valid here and set bad.
 */
static inline uint64_t
trib_my_cur_packed(trib_my_cur *c)
{
	uint8_t		b = trib_my_cur_u8(c);

	if (b < 251)
		return b;
	if (b == 252)
		return trib_my_cur_le(c, 2);
	if (b == 253)
		return trib_my_cur_le(c, 3);
	if (b == 254)
		return trib_my_cur_le(c, 8);
	c->bad = true;
	return 0;
}

/* Sign-extend the low `bits` bits of v. */
static inline int64_t
trib_my_sext(uint64_t v, unsigned bits)
{
	uint64_t	m = (uint64_t) 1 << (bits - 1);

	v &= bits == 64 ? UINT64_MAX : ((uint64_t) 1 << bits) - 1;
	return (int64_t) ((v ^ m) - m);
}

#endif							/* TRIB_MYSQL_INT_H */
