/*
 * rowindex.c: lazy field lookup in a row image (see rowindex.h).
 *
 * The scanner (fast_next) takes one member per step: its name, its value
 * (checked, nested values skipped whole) and the ',' or '}' after it; the
 * member is recorded only then, and the last one only once nothing but
 * whitespace follows the object.  yajl reports a member no later than it
 * reads the token after it, so every member the scanner records (plain
 * JSON, which yajl accepts with the same text) yajl records too; when the
 * scanner gives up, the fields so far are dropped and yajl starts over,
 * so an image the scanner does not take is indexed and judged exactly as
 * before.
 *
 * yajl's callbacks report every token (lib/yajl_tokens.c funnels them
 * into the four handlers below); the index keeps those at depth 1
 * (the fields of the top-level object) and notes where nested values
 * begin and end using yajl_get_bytes_consumed(), which inside a callback
 * is the offset just past the current token in the chunk being parsed.
 * Braces and brackets are single bytes, so they never straddle chunks.
 */
#include "rowindex.h"

#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "strbuf.h"
#include "xalloc.h"

/* Bytes handed to yajl per step of a lookup. */
#define ROWIDX_CHUNK 32

/* Append n bytes to the arena; return their offset. */
static size_t
arena_add(trib_rowidx *r, const void *p, size_t n)
{
	size_t		off = r->alen;

	if (r->alen + n + 1 > r->acap)
	{
		r->acap = (r->alen + n + 1) * 2 + 256;
		r->arena = trib_xrealloc(r->arena, r->acap);
	}
	memcpy(r->arena + off, p, n);
	r->arena[off + n] = '\0';
	r->alen += n + 1;
	return off;
}

/* Record a field for the pending key. */
static void
add_field(trib_rowidx *r, trib_jkind kind, size_t off, size_t len)
{
	trib_rowfield *f;

	/* the test in line, not through trib_xgrow: its store back of an
	 * unchanged pointer cost an instruction per field (callgrind) */
	if (r->nfields == r->cap)
		r->fields = trib_xgrow_full(r->fields, r->nfields, &r->cap, sizeof(*r->fields), 32);
	f = &r->fields[r->nfields++];
	f->key_off = r->pend_off;
	f->key_len = r->pend_len;
	f->kind = kind;
	f->val_off = off;
	f->val_len = len;
	r->in_key = false;
}

/* A scalar: a field at depth 1, an error at depth 0, ignored deeper. */
static int
scalar(void *ctx, yajl_type type, const char *s, size_t n)
{
	trib_rowidx *r = ctx;

	if (r->depth == 0)
	{
		r->failed = true;
		return 0;
	}
	if (r->depth == 1)
		add_field(r, trib_jkind_of_scalar(type), arena_add(r, s, n), n);
	return 1;
}

static int
on_key(void *ctx, const unsigned char *s, size_t n)
{
	trib_rowidx *r = ctx;

	if (r->depth == 1)
	{
		r->pend_off = arena_add(r, s, n);
		r->pend_len = n;
		r->in_key = true;
	}
	return 1;
}

/* Offset in the image just past the current token. */
static size_t
here(const trib_rowidx *r)
{
	return r->chunk_base + yajl_get_bytes_consumed(r->h);
}

static int
open_nested(void *ctx, bool array)
{
	trib_rowidx *r = ctx;

	if (r->depth == 0 && array)
	{
		r->failed = true;
		return 0;
	}
	if (r->depth == 1)
		r->nest_start = here(r) - 1;
	r->depth++;
	return 1;
}

static int
close_nested(void *ctx, bool array)
{
	trib_rowidx *r = ctx;

	r->depth--;
	if (r->depth == 1)
		add_field(r, array ? TRIB_J_ARRAY : TRIB_J_OBJECT, r->nest_start,
				  here(r) - r->nest_start);
	return 1;
}

static const trib_ytok_ops row_ops = {scalar, on_key, open_nested, close_nested};

bool		trib_rowidx_fast = true;

void
trib_rowidx_reset(trib_rowidx *r, const char *text, size_t len)
{
	if (r->h)
		yajl_free(r->h);
	r->h = NULL;
	r->text = text;
	r->len = text ? len : 0;
	r->fed = 0;
	r->slow = !trib_rowidx_fast;
	r->done = text == NULL;
	r->failed = false;
	r->depth = 0;
	r->in_key = false;
	r->nfields = 0;
	r->alen = 0;
}

void
trib_rowidx_free(trib_rowidx *r)
{
	if (r->h)
		yajl_free(r->h);
	free(r->fields);
	free(r->arena);
	memset(r, 0, sizeof(*r));
}

/* Hand the next chunk to yajl; false once done or failed. */
static bool
feed(trib_rowidx *r)
{
	size_t		n;

	if (r->done || r->failed)
		return false;
	if (r->h == NULL)
	{
		r->tok = (trib_ytok) {&row_ops, r};
		r->h = trib_ytok_alloc(&r->tok, NULL);
		if (r->h == NULL)
			abort();
	}
	n = r->len - r->fed < ROWIDX_CHUNK ? r->len - r->fed : ROWIDX_CHUNK;
	r->chunk_base = r->fed;
	if (yajl_parse(r->h, (const unsigned char *) r->text + r->fed, n) != yajl_status_ok)
		r->failed = true;
	r->fed += n;
	if (!r->failed && r->fed == r->len)
	{
		/* yajl 2 accepts an unterminated string after a complete value;
		 * the top-level object must also have closed */
		if (yajl_complete_parse(r->h) != yajl_status_ok || r->depth != 0)
			r->failed = true;
		r->done = true;
	}
	return !r->failed;
}

/* Search fields[from..) for key. */
static const trib_rowfield *
scan(const trib_rowidx *r, size_t from, const char *key, size_t klen)
{
	for (size_t i = from; i < r->nfields; i++)
		if (r->fields[i].key_len == klen &&
			memcmp(r->arena + r->fields[i].key_off, key, klen) == 0)
			return &r->fields[i];
	return NULL;
}

/* ---- the scanner ---------------------------------------------------------- */

/* Record the member whose name is text[cs, ce) and whose value is
 * text[vs, ve), of scanner kind `kind` (-1: an object or array). */
static void
fast_record(trib_rowidx *r, size_t cs, size_t ce, int kind, size_t vs, size_t ve)
{
	static const yajl_type types[] = {
		[TRIB_JS_STRING] = yajl_t_string, [TRIB_JS_NUMBER] = yajl_t_number,
		[TRIB_JS_TRUE] = yajl_t_true, [TRIB_JS_FALSE] = yajl_t_false,
		[TRIB_JS_NULL] = yajl_t_null
	};

	r->pend_off = arena_add(r, r->text + cs, ce - cs);
	r->pend_len = ce - cs;
	if (kind < 0)
		add_field(r, r->text[vs] == '{' ? TRIB_J_OBJECT : TRIB_J_ARRAY, vs, ve - vs);
	else if (kind == TRIB_JS_STRING)
		add_field(r, TRIB_J_STRING, arena_add(r, r->text + vs + 1, ve - vs - 2), ve - vs - 2);
	else
		add_field(r, trib_jkind_of_scalar(types[kind]), arena_add(r, r->text + vs, ve - vs),
				  ve - vs);
}

/* The opening brace, at the start; false if it is not there.  An empty
 * object is done here. */
static bool
fast_open(trib_rowidx *r, trib_jscan *sc)
{
	if (trib_jscan_peek(sc) != '{')
		return false;
	sc->i++;
	if (trib_jscan_peek(sc) == '}')
	{
		sc->i++;
		if (trib_jscan_peek(sc) >= 0)
			return false;
		r->done = true;
	}
	r->fed = sc->i;
	return true;
}

/* Index the next member with the scanner; false when it gives up (see
 * the file comment). */
static bool
fast_next(trib_rowidx *r)
{
	trib_jscan	sc = {(const unsigned char *) r->text, r->len, r->fed};
	size_t		cs,
				ce,
				vs,
				ve;
	int			kind = -1;
	int			c;

	if (r->fed == 0 && (!fast_open(r, &sc) || r->done))
		return r->done;
	if (trib_jscan_peek(&sc) != '"' || !trib_jscan_string(&sc, &cs, &ce) ||
		trib_jscan_peek(&sc) != ':')
		return false;
	sc.i++;
	c = trib_jscan_peek(&sc);
	vs = sc.i;
	if (c == '{' || c == '[' ? !trib_jscan_container(&sc, 2)
		: c < 0 || !trib_jscan_scalar(&sc, &kind))
		return false;
	ve = sc.i;
	c = trib_jscan_peek(&sc);
	if (c != ',' && c != '}')
		return false;
	fast_record(r, cs, ce, kind, vs, ve);
	sc.i++;
	if (c == '}' && trib_jscan_peek(&sc) >= 0)
		return false;
	r->done = c == '}';
	r->fed = sc.i;
	return true;
}

/* The scanner gave up: drop what it recorded, for yajl to start over. */
static void
to_slow(trib_rowidx *r)
{
	r->slow = true;
	r->fed = 0;
	r->done = false;
	r->nfields = 0;
	r->alen = 0;
}

/* Index a little more: a member with the scanner, else a chunk with yajl;
 * the fields from *from on are new. */
static void
advance(trib_rowidx *r, size_t *from)
{
	*from = r->nfields;
	if (!r->slow)
	{
		if (fast_next(r))
			return;
		to_slow(r);
		*from = 0;
	}
	feed(r);
}

int
trib_rowidx_find(trib_rowidx *r, const char *key, size_t klen,
				 const trib_rowfield **f)
{
	size_t		from = 0;

	*f = scan(r, 0, key, klen);
	if (*f)
		return 1;
	while (!r->done && !r->failed)
	{
		advance(r, &from);
		*f = scan(r, from, key, klen);
		if (*f)
			return 1;
	}
	return r->failed ? -1 : 0;
}

bool
trib_rowidx_complete(trib_rowidx *r)
{
	size_t		from;

	while (!r->done && !r->failed)
		advance(r, &from);
	return !r->failed && (r->text == NULL || r->depth == 0);
}
