/*
 * sink_postgres_json.c: JSON texts of the PostgreSQL sink (row images,
 * JSON null lists, unchanged-column lists, TRUNCATE details, single
 * values) parsed with yajl into a flat index of spans.
 *
 * Design.  The sink reads values out of a JSON text but must pass some of
 * them on exactly as written: a number as its text, a json or jsonb value
 * byte for byte.  yajl's tree parser keeps neither white space nor a
 * container's text, so one streaming parse (TRIB_YTOK_CALLBACKS of
 * lib/yajl_tokens.h) records every value as a node: its kind, the offset
 * and length of its text, its member key, its decoded string, and the
 * index just past its subtree (children follow their parent, so walking
 * a container is a jump from sibling to sibling; nothing recurses).  The
 * text is given to yajl in one chunk, so yajl_get_bytes_consumed() in a
 * callback is the offset just past the current token (a brace, a string
 * or a key).  A scalar starts at the first byte after the previous token
 * that is neither white space nor a ',' or ':' (yajl has checked the
 * grammar, so nothing else can sit there); a number's length is the
 * length of the text yajl's number callback gives, a literal's is its
 * word's.
 *
 * Strings are decoded by yajl.  yajl 2.1's decoder turns an unpaired
 * UTF-16 surrogate escape into '?' or a wrong code point and \u0000 into
 * a NUL byte, which the sink refuses ("malformed JSON string escape",
 * "\u0000 ... PostgreSQL text cannot hold"), as before; so a string whose
 * text has escapes has them checked (escape_check) when it is decoded
 * for use, not when parsed: a json column passes such a string on as
 * written.  yajl's lexical error for a bad escape is reported as
 * "malformed JSON string escape" too.  UTF-8 is not validated here
 * (yajl_dont_validate_strings): the target checks its encoding.
 *
 * Ownership: a pgs_jdoc borrows the text it indexes (which must outlive
 * its spans) and owns its nodes and arena; pgs_jdoc_free releases them,
 * and a doc can be parsed again, reusing its memory.
 */
#include "sink_postgres_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "xalloc.h"
#include "yajl_tokens.h"

/* A decoded string's place: in the indexed text, or in the arena. */
#define IN_ARENA ((size_t) 1 << (sizeof(size_t) * 8 - 1))

/* Is c white space between yajl's tokens?  JSON's four, and \v and \f,
 * which yajl's lexer skips too: with JSON's alone a value after \f, or
 * \v after a value, was refused while yajl had taken it (fuzz_pgsink_values). */
static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The offset of the token after the previous one (see the header). */
static size_t
token_start(const pgs_jdoc *d)
{
	size_t		p = d->prev;

	while (p < d->len && (is_ws(d->text[p]) || d->text[p] == ',' || d->text[p] == ':'))
		p++;
	return p;
}

/* Is there only white space after the value?  (A handle that allows
 * several values ends a parse on a token it has only begun, such as an
 * unclosed string, without an error.) */
static bool
rest_is_ws(const pgs_jdoc *d)
{
	size_t		p = d->nodes[0].off + d->nodes[0].len;

	while (p < d->len && is_ws(d->text[p]))
		p++;
	return p == d->len;
}

/* Where decoded string s[0..n) lives: its offset in the text, or (with
 * IN_ARENA) in the arena, where it is copied when yajl decoded it. */
static size_t
string_place(pgs_jdoc *d, const char *s, size_t n)
{
	uintptr_t	at = (uintptr_t) s,
				text = (uintptr_t) d->text;
	size_t		off;

	if (at >= text && at + n <= text + d->len)
		return (size_t) (at - text);
	off = d->arena.len;
	trib_strbuf_add(&d->arena, s, n);
	return off | IN_ARENA;
}

/* A new node at the current depth, taking the pending key; NULL for a
 * second value at the top (the handle allows several, see pgs_jdoc_parse). */
static pgs_jnode *
node_add(pgs_jdoc *d, trib_jkind kind, size_t off)
{
	pgs_jnode  *nd;

	if (d->depth == 0 && d->nn > 0)
		return NULL;
	d->nodes = trib_xgrow(d->nodes, d->nn, &d->cap, sizeof(*d->nodes), 64);
	nd = &d->nodes[d->nn++];
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	nd->off = off;
	nd->end = d->nn;
	if (d->has_key)
	{
		nd->koff = d->key.koff;
		nd->klen = d->key.klen;
		nd->ksoff = d->key.ksoff;
		nd->kslen = d->key.kslen;
		d->has_key = false;
	}
	return nd;
}

/* yajl: a null, boolean, number or string. */
static int
on_scalar(void *ctx, yajl_type type, const char *s, size_t n)
{
	pgs_jdoc   *d = ctx;
	size_t		start = token_start(d);
	pgs_jnode  *nd = node_add(d, trib_jkind_of_scalar(type), start);

	if (!nd)
		return 0;
	if (type == yajl_t_string)
	{
		nd->len = yajl_get_bytes_consumed(d->h) - start;
		nd->soff = string_place(d, s, n);
		nd->slen = n;
	}
	else
		nd->len = n;			/* a number's text as written, or the word */
	d->prev = start + nd->len;
	return 1;
}

/* yajl: an object member's key (its node comes with the value). */
static int
on_key(void *ctx, const unsigned char *s, size_t n)
{
	pgs_jdoc   *d = ctx;
	size_t		start = token_start(d);

	d->prev = yajl_get_bytes_consumed(d->h);
	d->key.koff = start;
	d->key.klen = d->prev - start;
	d->key.ksoff = string_place(d, (const char *) s, n);
	d->key.kslen = n;
	d->has_key = true;
	return 1;
}

/* yajl: '{' or '['. */
static int
on_open(void *ctx, bool array)
{
	pgs_jdoc   *d = ctx;
	size_t		at = yajl_get_bytes_consumed(d->h) - 1;

	if (!node_add(d, array ? TRIB_J_ARRAY : TRIB_J_OBJECT, at))
		return 0;
	d->stack = trib_xgrow(d->stack, d->depth, &d->scap, sizeof(*d->stack), 16);
	d->stack[d->depth++] = d->nn - 1;
	d->prev = at + 1;
	return 1;
}

/* yajl: '}' or ']': the container's text and subtree end. */
static int
on_close(void *ctx, bool array)
{
	pgs_jdoc   *d = ctx;
	pgs_jnode  *nd = &d->nodes[d->stack[--d->depth]];

	(void) array;
	d->prev = yajl_get_bytes_consumed(d->h);
	nd->len = d->prev - nd->off;
	nd->end = d->nn;
	return 1;
}

TRIB_YTOK_CALLBACKS(jdoc_callbacks, on_scalar, on_key, on_open, on_close);

/* Put yajl's error for a failed parse in errbuf: a bad escape is
 * "malformed JSON string escape" (yajl 2.1 names the backslash in those
 * two lexical errors, and in no other), anything else what. */
static void
parse_error(yajl_handle h, const char *what, char *errbuf, size_t errlen)
{
	unsigned char *msg = yajl_get_error(h, 0, NULL, 0);

	if (msg && strchr((const char *) msg, '\\'))
		snprintf(errbuf, errlen, "malformed JSON string escape");
	else
		snprintf(errbuf, errlen, "%s", what);
	if (msg)
		yajl_free_error(h, msg);
}

/*
 * Index JSON text s[0..n) (one value, white space around it allowed);
 * false with "what" (or the escape error) in errbuf when malformed.
 *
 * The yajl handle is kept for the doc's next text: yajl 2.1 cannot reset
 * a handle, but one that allows multiple values starts over after a
 * complete one, which saves its allocation per row image.  A second
 * value in one text is then refused by node_add.  A handle that failed
 * is freed, and the next parse allocates a new one.
 */
bool
pgs_jdoc_parse(pgs_jdoc *d, const char *s, size_t n, const char *what,
			   char *errbuf, size_t errlen)
{
	yajl_status st;

	d->text = s;
	d->len = n;
	d->nn = 0;
	d->depth = 0;
	d->prev = 0;
	d->has_key = false;
	d->arena.len = 0;
	if (!d->h && (d->h = yajl_alloc(&jdoc_callbacks, NULL, d)) != NULL)
	{
		yajl_config(d->h, yajl_dont_validate_strings, 1);
		yajl_config(d->h, yajl_allow_multiple_values, 1);
	}
	if (!d->h)
	{
		snprintf(errbuf, errlen, "out of memory");
		return false;
	}
	st = yajl_parse(d->h, (const unsigned char *) s, n);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(d->h);
	if (st == yajl_status_ok && d->nn > 0 && rest_is_ws(d))
		return true;
	if (st == yajl_status_ok)	/* only white space, or a token begun */
		snprintf(errbuf, errlen, "%s", what);
	else
		parse_error(d->h, what, errbuf, errlen);
	yajl_free(d->h);
	d->h = NULL;
	return false;
}

/* Release what a doc owns (it may be parsed again after). */
void
pgs_jdoc_free(pgs_jdoc *d)
{
	if (d->h)
		yajl_free(d->h);
	free(d->nodes);
	free(d->stack);
	trib_strbuf_free(&d->arena);
	memset(d, 0, sizeof(*d));
}

/* The text at a place string_place returned. */
static const char *
place_text(const pgs_jdoc *d, size_t place)
{
	if (place & IN_ARENA)
		return d->arena.data + (place & ~IN_ARENA);
	return d->text + place;
}

/* Fill v with node i of d. */
static void
span_of(const pgs_jdoc *d, size_t i, pgs_jspan *v)
{
	const pgs_jnode *nd = &d->nodes[i];

	v->doc = d;
	v->i = i;
	v->p = d->text + nd->off;
	v->n = nd->len;
	v->kind = nd->kind;
	v->s = nd->kind == TRIB_J_STRING ? place_text(d, nd->soff) : NULL;
	v->sn = nd->slen;
}

/* The value a parsed doc holds. */
void
pgs_jdoc_root(const pgs_jdoc *d, pgs_jspan *v)
{
	span_of(d, 0, v);
}

/* Start iterating container v of kind open ('{' or '['); false if not one. */
bool
pgs_jiter_begin(pgs_jiter *it, const pgs_jspan *v, char open)
{
	if (!v || !v->doc || v->kind != (open == '{' ? TRIB_J_OBJECT : TRIB_J_ARRAY))
		return false;
	it->d = v->doc;
	it->i = v->i + 1;
	it->end = v->doc->nodes[v->i].end;
	return true;
}

/* Next member or element (key set for objects' members); false at the end. */
bool
pgs_jiter_next(pgs_jiter *it, pgs_jspan *key, pgs_jspan *val)
{
	const pgs_jnode *nd;

	if (it->i >= it->end)
		return false;
	nd = &it->d->nodes[it->i];
	span_of(it->d, it->i, val);
	key->doc = it->d;
	key->i = it->i;
	key->p = it->d->text + nd->koff;
	key->n = nd->klen;
	key->kind = TRIB_J_STRING;
	key->s = place_text(it->d, nd->ksoff);
	key->sn = nd->kslen;
	it->i = nd->end;
	return true;
}

/* The code unit of a \u escape's four hex digits at p (yajl checked them). */
static long
escape_unit(const char *p)
{
	unsigned char b[2];
	size_t		n = sizeof(b);

	if (!trib_hex_decode(p, 4, b, &n))
		return -1;
	return (long) b[0] << 8 | b[1];
}

/*
 * Check the escapes of JSON string text p[0..n) (with its quotes, as
 * yajl's lexer accepted it) for what yajl's decoder lets through: a
 * \u0000, or a UTF-16 surrogate escape that is not a high one followed
 * at once by a low one.  The first such escape in the text gives the
 * error.
 */
static bool
escape_check(const char *p, size_t n, char *errbuf, size_t errlen)
{
	const char *e = p + n;
	const char *q;
	bool		want_low = false;	/* the escape before was a high surrogate */

	while ((q = memchr(p, '\\', (size_t) (e - p))) != NULL)
	{
		long		cp = q[1] == 'u' ? escape_unit(q + 2) : -1;

		if ((want_low && q != p) || want_low != (cp >= 0xDC00 && cp <= 0xDFFF))
			goto bad;
		if (cp == 0)
		{
			snprintf(errbuf, errlen, "a string contains \\u0000, which "
					 "PostgreSQL text cannot hold");
			return false;
		}
		want_low = cp >= 0xD800 && cp <= 0xDBFF;
		p = q + (q[1] == 'u' ? 6 : 2);
	}
	if (!want_low)
		return true;
bad:
	snprintf(errbuf, errlen, "malformed JSON string escape");
	return false;
}

/* Append the decoded text of JSON string span s. */
bool
pgs_junescape(const pgs_jspan *s, trib_strbuf *out, char *errbuf, size_t errlen)
{
	if (s->kind != TRIB_J_STRING || !s->s)
	{
		snprintf(errbuf, errlen, "malformed JSON string escape");
		return false;
	}
	if (s->sn != s->n - 2 && !escape_check(s->p, s->n, errbuf, errlen))
		return false;
	trib_strbuf_add(out, s->s, s->sn);
	return true;
}
