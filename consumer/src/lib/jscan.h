/*
 * jscan.h: a validating scanner for plain JSON texts, for hot paths that
 * need spans, not tokens (the PostgreSQL record parser's fast scan,
 * source/pg/pgrecord_fast.c, and the rules' text index,
 * transform/rules_splice.c), or tokens without yajl (lib/jscan_tokens.h).
 *
 * Design.  yajl's parse costs about 40 instructions a byte with its
 * callbacks (these functions about 10: a string's plain bytes are
 * skipped eight at a time, trib_jscan_plain8); most texts on
 * the hot paths are our own plugin's output and need only their bounds.
 * These functions walk a text once, checking the JSON grammar, and move a
 * position (trib_jscan.i) past each value.  They take only "plain" JSON:
 * strings without escapes or control characters, UTF-8 as yajl's check
 * accepts it, whitespace of space, tab, CR and LF, nesting up to
 * TRIB_JSCAN_MAX_DEPTH.  Anything else, and any grammar error, makes them
 * return false, and the caller hands the text to yajl, which judges it and
 * reports the error: what they accept, yajl accepts too, with the same
 * spans (a string from its opening to past its closing quote, a number
 * from its first to past its last character, a container from its
 * opening to past its closing bracket).
 *
 * Static inline, so that each caller's loop compiles into one function
 * (this is per byte of every event).  No allocation; the caller owns the
 * text.
 */
#ifndef TRIB_JSCAN_H
#define TRIB_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Scalar kinds trib_jscan_scalar reports. */
enum
{
	TRIB_JS_STRING, TRIB_JS_NUMBER, TRIB_JS_TRUE, TRIB_JS_FALSE, TRIB_JS_NULL
};

/* How deep a value may nest before the scanner hands over. */
#define TRIB_JSCAN_MAX_DEPTH 32

/* A position in a text. */
typedef struct trib_jscan
{
	const unsigned char *s;
	size_t		len;
	size_t		i;
} trib_jscan;

/* Bytes that end a run of plain string bytes: '"', '\\', control
 * characters and every byte of 0x80 and above. */
static const unsigned char trib_jscan_stop[256] __attribute__((unused)) = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
	[0x80 ... 0xff] = 1
};

/*
 * How many of the 8 bytes at p come before the first byte that
 * trib_jscan_stop[] marks (8: none), tested a word at a time (SWAR).  A
 * byte's top bit ends up set when it equals '"' or '\\' (x - 1 wraps
 * where x, the byte xor that character, is 0), is below 0x20 (x - 0x20
 * wraps), or is 0x80 or above (its own top bit, which the xors keep); a
 * borrow can only set bits above a byte that is truly marked, so the
 * lowest flag is exact.  Little-endian only: elsewhere it answers 0, and
 * the byte loop decides.
 */
static inline unsigned
trib_jscan_plain8(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t	w,
				m;

	memcpy(&w, p, 8);
	m = ((w ^ (ones * '"')) - ones) | ((w ^ (ones * '\\')) - ones) |
		(w - ones * 0x20) | w;
	m &= ones * 0x80;
	return m ? (unsigned) __builtin_ctzll(m) / 8 : 8;
#else
	(void) p;
	return 0;
#endif
}

/* Skip JSON whitespace. */
static inline void
trib_jscan_ws(trib_jscan *sc)
{
	while (sc->i < sc->len)
	{
		unsigned char c = sc->s[sc->i];

		if (c > ' ' || (c != ' ' && c != '\n' && c != '\t' && c != '\r'))
			return;
		sc->i++;
	}
}

/* The byte at the position after whitespace, or -1 at the end.  Compact
 * texts (our plugin's) have no whitespace: a byte above ' ' returns at
 * once, without the whitespace loop. */
static inline int
trib_jscan_peek(trib_jscan *sc)
{
	if (__builtin_expect(sc->i < sc->len && sc->s[sc->i] > ' ', 1))
		return sc->s[sc->i];
	trib_jscan_ws(sc);
	return sc->i < sc->len ? sc->s[sc->i] : -1;
}

/* Length of the UTF-8 sequence at i that yajl's check accepts (a lead
 * byte and its continuation bytes), or 0. */
static inline size_t
trib_jscan_utf8_len(const trib_jscan *sc, size_t i)
{
	unsigned	c = sc->s[i];
	size_t		n = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;

	if (n == 0 || i + n > sc->len)
		return 0;
	for (size_t k = 1; k < n; k++)
		if ((sc->s[i + k] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A string at the position (its opening quote): false for anything but
 * plain text (see the file comment); sets [*cs, *ce) to its contents and
 * moves past the closing quote. */
static inline __attribute__((always_inline)) bool
trib_jscan_string(trib_jscan *sc, size_t *cs, size_t *ce)
{
	size_t		i = sc->i + 1;

	*cs = i;
	for (;;)
	{
		unsigned	k = 8;

		while (i + 8 <= sc->len && (k = trib_jscan_plain8(sc->s + i)) == 8)
			i += 8;
		if (k < 8)
			i += k;				/* at the byte that ends the run */
		else
			while (i < sc->len && !trib_jscan_stop[sc->s[i]])
				i++;
		if (i >= sc->len)
			return false;
		if (sc->s[i] == '"')
			break;
		if (sc->s[i] < 0x80)
			return false;		/* an escape or a control character */
		{
			size_t		n = trib_jscan_utf8_len(sc, i);

			if (n == 0)
				return false;
			i += n;
		}
	}
	*ce = i;
	sc->i = i + 1;
	return true;
}

/* Skip the digits from i (up to n); returns the index past them.  On
 * locals, not through the scanner, so the loop stays in registers. */
static inline size_t
trib_jscan_digits(const unsigned char *s, size_t i, size_t n)
{
	while (i < n && (unsigned) (s[i] - '0') < 10)
		i++;
	return i;
}

/* A JSON number at the position: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static inline __attribute__((always_inline)) bool
trib_jscan_number(trib_jscan *sc)
{
	const unsigned char *s = sc->s;
	size_t		n = sc->len,
				i = sc->i,
				d;

	if (i < n && s[i] == '-')
		i++;
	d = i;
	if (i < n && s[i] == '0')
		i++;
	else if ((i = trib_jscan_digits(s, i, n)) == d)
		goto fail;
	if (i < n && s[i] == '.')
	{
		d = ++i;
		if ((i = trib_jscan_digits(s, i, n)) == d)
			goto fail;
	}
	if (i < n && (s[i] | 0x20) == 'e')
	{
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		if ((i = trib_jscan_digits(s, i, n)) == d)
			goto fail;
	}
	sc->i = i;
	/* yajl reads a number to its end: a letter or a digit right after it
	 * is an error there, so leave that to yajl */
	return i >= n ||
		!((unsigned) (s[i] - '0') < 10 || (s[i] | 0x20) == 'e' ||
		  s[i] == '.' || s[i] == '-' || s[i] == '+');
fail:
	sc->i = i;
	return false;
}

/* The literal word of n bytes at the position. */
static inline bool
trib_jscan_word(trib_jscan *sc, const char *w, size_t n)
{
	if (sc->len - sc->i < n || memcmp(sc->s + sc->i, w, n) != 0)
		return false;
	sc->i += n;
	return true;
}

/* A scalar at the position (after whitespace): sets *kind (TRIB_JS_*)
 * and moves past it. */
static inline __attribute__((always_inline)) bool
trib_jscan_scalar(trib_jscan *sc, int *kind)
{
	size_t		cs,
				ce;

	switch (sc->s[sc->i])
	{
		case '"':
			*kind = TRIB_JS_STRING;
			return trib_jscan_string(sc, &cs, &ce);
		case 't':
			*kind = TRIB_JS_TRUE;
			return trib_jscan_word(sc, "true", 4);
		case 'f':
			*kind = TRIB_JS_FALSE;
			return trib_jscan_word(sc, "false", 5);
		case 'n':
			*kind = TRIB_JS_NULL;
			return trib_jscan_word(sc, "null", 4);
		default:
			*kind = TRIB_JS_NUMBER;
			return trib_jscan_number(sc);
	}
}

static inline __attribute__((always_inline)) bool trib_jscan_value(trib_jscan *sc, int depth);

/* The rest of an object or array whose opening bracket is at the
 * position; moves past its closing bracket. */
static inline bool
trib_jscan_container(trib_jscan *sc, int depth)
{
	bool		object = sc->s[sc->i] == '{';
	int			close = object ? '}' : ']';
	size_t		cs,
				ce;

	if (depth > TRIB_JSCAN_MAX_DEPTH)
		return false;
	sc->i++;
	if (trib_jscan_peek(sc) == close)
	{
		sc->i++;
		return true;
	}
	for (;;)
	{
		if (object)
		{
			if (trib_jscan_peek(sc) != '"' || !trib_jscan_string(sc, &cs, &ce) || trib_jscan_peek(sc) != ':')
				return false;
			sc->i++;
		}
		if (!trib_jscan_value(sc, depth + 1))
			return false;
		switch (trib_jscan_peek(sc))
		{
			case ',':
				sc->i++;
				continue;
			default:
				if (trib_jscan_peek(sc) != close)
					return false;
				sc->i++;
				return true;
		}
	}
}

/* Any value at the position (after whitespace), checked and skipped.
 * Inline in its callers (the recursion goes through
 * trib_jscan_container), so a scalar member costs no call. */
static inline __attribute__((always_inline)) bool
trib_jscan_value(trib_jscan *sc, int depth)
{
	int			c = trib_jscan_peek(sc);
	int			kind;

	if (c == '{' || c == '[')
		return trib_jscan_container(sc, depth);
	return c >= 0 && trib_jscan_scalar(sc, &kind);
}

#endif							/* TRIB_JSCAN_H */
