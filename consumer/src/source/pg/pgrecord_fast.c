/*
 * pgrecord_fast.c: a hand-written scanner for the records as our own
 * plugin writes them, which fills the same parse state (pstate) as the
 * yajl parse of pgrecord_scan.c, about ten times faster.
 *
 * Design.  The record parse was the consumer's largest cost per event
 * (yajl's lexer and its callbacks: two thirds of the main thread's
 * instructions in W1, docs/BENCHMARKS.md).  Yet a change record has a
 * fixed, simple shape: one object of known top-level fields whose values
 * are scalars, and the row images `old` and `new`, objects whose members
 * are copied out byte for byte.  Nothing needs tokens: only each field's
 * span and each image member's bounds (kstart, vend, name), which is what
 * pgrecord_build.c reads.  This scanner finds them in one pass, checking
 * the JSON grammar as it goes.
 *
 * It takes only what it can judge alone, and says "not mine" (returns
 * false) for everything else, after which the caller runs the yajl parse
 * from scratch, so every error message, every rarely used field and every
 * corner of the grammar stays yajl's:
 *   - a string with an escape, a control character or a byte that yajl's
 *     UTF-8 check would refuse; whitespace other than space, tab, CR, LF;
 *   - an unknown or repeated top-level field, or one whose value is an
 *     object or array other than the `old` and `new` objects (relation
 *     records' columns, name lists, JSON null lists, truncate relations);
 *   - nesting deeper than SCAN_MAX_DEPTH inside an image value;
 *   - anything after the record's closing brace but whitespace;
 *   - any grammar error (the yajl parse then reports it).
 * What it accepts, yajl accepts too and reports with the same spans: a
 * string's span runs from its opening to past its closing quote, a
 * number's from its first to past its last character, a container's from
 * its opening to past its closing bracket.  test_pgrecord compares the
 * two paths record by record, and fuzz_pgrecord does so on every input.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "pgrecord_int.h"
#include "xalloc.h"

/* How deep an image value may nest before the scanner hands over. */
#define SCAN_MAX_DEPTH 32

/* A scan position in the record. */
typedef struct scan
{
	const unsigned char *s;
	size_t		len;
	size_t		i;
} scan;

/* Bytes that end a run of plain string bytes: '"', '\\', control
 * characters and every byte of 0x80 and above. */
static const unsigned char stop_byte[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
	[0x80 ... 0xff] = 1
};

/* Skip JSON whitespace. */
static inline void
sc_ws(scan *sc)
{
	while (sc->i < sc->len && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\n' ||
							   sc->s[sc->i] == '\t' || sc->s[sc->i] == '\r'))
		sc->i++;
}

/* The byte at the position after whitespace, or -1 at the end. */
static inline int
sc_peek(scan *sc)
{
	sc_ws(sc);
	return sc->i < sc->len ? sc->s[sc->i] : -1;
}

/* Length of the UTF-8 sequence at i that yajl's check accepts (a lead
 * byte and its continuation bytes), or 0. */
static size_t
utf8_len(const scan *sc, size_t i)
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
static bool
sc_string(scan *sc, size_t *cs, size_t *ce)
{
	size_t		i = sc->i + 1;

	*cs = i;
	for (;;)
	{
		while (i < sc->len && !stop_byte[sc->s[i]])
			i++;
		if (i >= sc->len)
			return false;
		if (sc->s[i] == '"')
			break;
		if (sc->s[i] < 0x80)
			return false;		/* an escape or a control character */
		{
			size_t		n = utf8_len(sc, i);

			if (n == 0)
				return false;
			i += n;
		}
	}
	*ce = i;
	sc->i = i + 1;
	return true;
}

/* Skip digits; returns how many. */
static inline size_t
sc_digits(scan *sc)
{
	size_t		start = sc->i;

	while (sc->i < sc->len && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')
		sc->i++;
	return sc->i - start;
}

/* A JSON number at the position: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
sc_number(scan *sc)
{
	if (sc->i < sc->len && sc->s[sc->i] == '-')
		sc->i++;
	if (sc->i < sc->len && sc->s[sc->i] == '0')
		sc->i++;
	else if (sc_digits(sc) == 0)
		return false;
	if (sc->i < sc->len && sc->s[sc->i] == '.')
	{
		sc->i++;
		if (sc_digits(sc) == 0)
			return false;
	}
	if (sc->i < sc->len && (sc->s[sc->i] == 'e' || sc->s[sc->i] == 'E'))
	{
		sc->i++;
		if (sc->i < sc->len && (sc->s[sc->i] == '+' || sc->s[sc->i] == '-'))
			sc->i++;
		if (sc_digits(sc) == 0)
			return false;
	}
	/* yajl reads a number to its end: a letter or a digit right after it
	 * is an error there, so leave that to yajl */
	return sc->i >= sc->len ||
		!((sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9') ||
		  (sc->s[sc->i] | 0x20) == 'e' || sc->s[sc->i] == '.' ||
		  sc->s[sc->i] == '-' || sc->s[sc->i] == '+');
}

/* The literal word of n bytes at the position. */
static inline bool
sc_word(scan *sc, const char *w, size_t n)
{
	if (sc->len - sc->i < n || memcmp(sc->s + sc->i, w, n) != 0)
		return false;
	sc->i += n;
	return true;
}

/* A scalar at the position (after whitespace): sets *type (J_*) and *b. */
static bool
sc_scalar(scan *sc, int *type, bool *b)
{
	size_t		cs,
				ce;

	*b = false;
	switch (sc->s[sc->i])
	{
		case '"':
			*type = J_STRING;
			return sc_string(sc, &cs, &ce);
		case 't':
			*type = J_BOOL;
			*b = true;
			return sc_word(sc, "true", 4);
		case 'f':
			*type = J_BOOL;
			return sc_word(sc, "false", 5);
		case 'n':
			*type = J_NULL;
			return sc_word(sc, "null", 4);
		default:
			*type = J_NUMBER;
			return sc_number(sc);
	}
}

static bool sc_value(scan *sc, int depth);

/* The rest of an object or array whose opening bracket is at the
 * position; moves past its closing bracket. */
static bool
sc_container(scan *sc, int depth)
{
	bool		object = sc->s[sc->i] == '{';
	int			close = object ? '}' : ']';
	size_t		cs,
				ce;

	if (depth > SCAN_MAX_DEPTH)
		return false;
	sc->i++;
	if (sc_peek(sc) == close)
	{
		sc->i++;
		return true;
	}
	for (;;)
	{
		if (object)
		{
			if (sc_peek(sc) != '"' || !sc_string(sc, &cs, &ce) || sc_peek(sc) != ':')
				return false;
			sc->i++;
		}
		if (!sc_value(sc, depth + 1))
			return false;
		switch (sc_peek(sc))
		{
			case ',':
				sc->i++;
				continue;
			default:
				if (sc_peek(sc) != close)
					return false;
				sc->i++;
				return true;
		}
	}
}

/* Any value at the position (after whitespace), checked and skipped. */
static bool
sc_value(scan *sc, int depth)
{
	int			c = sc_peek(sc);
	int			type;
	bool		b;

	if (c == '{' || c == '[')
		return sc_container(sc, depth);
	return c >= 0 && sc_scalar(sc, &type, &b);
}

/* Make room for one more member in ml. */
static member *
ml_push(memberlist *ml)
{
	if (ml->n == ml->cap)
	{
		ml->cap = ml->cap ? ml->cap * 2 : 16;
		ml->m = trib_xrealloc(ml->m, ml->cap * sizeof(member));
	}
	return &ml->m[ml->n++];
}

/* A row image, the object at the position: every member's raw span and
 * name into ml; sets the field's span. */
static bool
sc_image(scan *sc, field *f, memberlist *ml)
{
	size_t		cs,
				ce;

	f->type = J_OBJECT;
	f->start = sc->i++;
	if (sc_peek(sc) != '}')
		for (;;)
		{
			member	   *m;

			if (sc_peek(sc) != '"')
				return false;
			m = ml_push(ml);
			m->kstart = sc->i;
			if (!sc_string(sc, &cs, &ce) || sc_peek(sc) != ':')
				return false;
			m->name = (const char *) sc->s + cs;
			m->nlen = ce - cs;
			sc->i++;
			if (!sc_value(sc, 1))
				return false;
			m->vend = sc->i;
			if (sc_peek(sc) != ',')
				break;
			sc->i++;
		}
	if (sc_peek(sc) != '}')
		return false;
	f->end = ++sc->i;
	return true;
}

/* The top-level field named by [cs, ce), or -1 when unknown. */
static int
field_index(const scan *sc, size_t cs, size_t ce)
{
	size_t		n = ce - cs;
	const char *k = (const char *) sc->s + cs;

	for (int i = 0; i < NFIELDS; i++)
		if (pgr_field_len[i] == n && pgr_field_names[i][0] == k[0] &&
			memcmp(pgr_field_names[i], k, n) == 0)
			return i;
	return -1;
}

/* One top-level member's value, of field fi, at the position. */
static bool
sc_field(scan *sc, pstate *st, int fi)
{
	field	   *f = &st->f[fi];
	int			c = sc_peek(sc);

	if (c < 0)
		return false;
	if (c == '{' || c == '[')
	{
		if (c != '{' || (fi != F_OLD && fi != F_NEW))
			return false;
		return sc_image(sc, f, &st->img[fi == F_NEW]);
	}
	f->start = sc->i;
	if (!sc_scalar(sc, &f->type, &f->b))
		return false;
	f->end = sc->i;
	if (f->type == J_STRING)
	{
		f->slen = f->end - f->start - 2;
		f->str = trib_arena_strndup(st->arena, st->text + f->start + 1, f->slen);
	}
	return true;
}

/*
 * Scan st->text into st (f[] and img[]), which must be zeroed but for
 * arena, text, len and the image arrays (empty).  False when the record
 * is not one the scanner takes (see the file comment); st then holds
 * partial results the caller discards.
 */
bool
pgr_fast_scan(pstate *st)
{
	scan		sc = {(const unsigned char *) st->text, st->len, 0};
	size_t		cs,
				ce;

	if (sc_peek(&sc) != '{')
		return false;
	sc.i++;
	if (sc_peek(&sc) != '}')
		for (;;)
		{
			int			fi;

			if (sc_peek(&sc) != '"' || !sc_string(&sc, &cs, &ce) ||
				(fi = field_index(&sc, cs, ce)) < 0 || st->f[fi].type != J_NONE ||
				sc_peek(&sc) != ':')
				return false;
			sc.i++;
			if (!sc_field(&sc, st, fi))
				return false;
			if (sc_peek(&sc) != ',')
				break;
			sc.i++;
		}
	if (sc_peek(&sc) != '}')
		return false;
	sc.i++;
	return sc_peek(&sc) < 0;
}
