/*
 * debezium_lex.c: a row image in Debezium's encodings, converted while
 * it is lexed (trib_dbz_row; see debezium.h).
 *
 * Design.  A row image is converted while it is lexed, with no tree: its
 * tokens go to the four handlers here, from the plain-text walk
 * (lib/jscan_tokens.h) when the image is plain JSON, as the PostgreSQL
 * source writes it, else from yajl's callback parser (lib/yajl_tokens.c).
 * The walk is tried first; when it stops (an escape, a bad value, not
 * JSON) what it wrote is cut back and yajl converts the image, so the
 * bytes and the errors are yajl's either way (the unit test and
 * fuzz_dbz_row compare the two).
 *
 * Each top-level member's name is written as it comes, its column looked
 * up, and its value written in Debezium's encoding at once.  Values that
 * pass as is (integers, text) are copied as lexed (the walk's strings
 * have nothing to escape, so they are not scanned again); under the walk,
 * numerics, dates and timestamps are encoded straight from the image's
 * text (trib_dbz_text_value); other scalars
 * go through trib_dbz_value as a yajl_val on the stack whose text sits in
 * the converter's scratch buffer (kept from one image to the next).
 * Nested values of columns passed as is, and json/jsonb values, are
 * written while lexed too (json/jsonb as the contents of a JSON string:
 * straight into the output by the plain-text walk, whose strings need
 * only their quotes escaped; into the scratch buffer, then quoted, under
 * yajl); other nested values (arrays of dates, numerics, ...) are
 * parsed into a tree from their byte range in the image (the offset just
 * past the current token: the walk's position, or yajl_get_bytes_consumed
 * inside a callback).  yajl's own memory comes from an arena in the
 * converter, reset for each image.
 *
 * Members are matched to columns by position first, by name when that
 * misses (the relation cache, debezium_row.c).  The walk calls the
 * handlers directly (jscan_tokens.h's TRIB_JSTOK_WALKER), and a member
 * whose name is the plain name of the column at its position is
 * recognised there by one memcmp, without scanning it as a string.  The
 * top level of a plain image is walked by a member loop driven by the
 * relation's column plan (walk_planned): the next column's `"name":`
 * matched in one memcmp and written as rendered, its scalar copied or
 * encoded by the plan without the handlers' depth and kind tests; any
 * other step takes the generic walk's own functions, so tokens and
 * bytes are the same.
 *
 * json/jsonb columns whose null is the JSON literal null (the image's
 * JSON null list) become the string "null", as Debezium writes them; SQL
 * NULL stays null.
 */
#include "debezium_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan_tokens.h"
#include "yajl_tokens.h"

/* True when `name` is a column entry (a string) of a JSON null list. */
static bool
is_json_null(yajl_val list, const char *name)
{
	for (size_t i = 0; list && YAJL_IS_ARRAY(list) && i < list->u.array.len; i++)
	{
		const char *s = YAJL_GET_STRING(list->u.array.values[i]);

		if (s && strcmp(s, name) == 0)
			return true;
	}
	return false;
}

/*
 * The state of one image's conversion while yajl lexes it: the member
 * being written (its column, or its name in d->name when it has none; its
 * coltype), the depth, and where a nested value began in the image.
 */
typedef struct rowconv
{
	trib_dbz   *d;
	const trib_relation *rel;
	const relentry *entry;		/* rel's cache entry */
	const trib_dbz_coltype *types;
	const char *image;
	const char *json_nulls;
	yajl_val	nulls;			/* json_nulls parsed, on first need */
	bool		nulls_parsed;
	yajl_handle h;				/* the yajl lexer, or NULL: */
	const trib_jscan *sc;		/* the plain-text walk (lib/jscan_tokens.h) */
	trib_strbuf *out;
	int			depth;
	size_t		member;			/* members written so far */
	const trib_dbz_coltype *t;	/* the current member's coltype */
	int			col;			/* its column, or -1 (its name in d->name) */
	int			known;			/* the column known_name matched, or -1 */
	size_t		nest_start;		/* image offset of a nested value */
	trib_strbuf *nest;			/* a nested value written while lexed: out
								 * (as is, or with nest_esc a json value as
								 * a string's contents) or d->val (json,
								 * quoted at its end); NULL: parsed into a
								 * tree */
	bool		nest_esc;		/* nest's quotes written as \" */
	const char *sep;			/* its separators: "," ":" or ", " ": " */
	const char *colon;
	size_t		sep_len;
	size_t		colon_len;
	bool		nest_first;		/* nothing written yet in its container */
	bool		nest_after_key; /* a member name was just written */
	bool		bad_value;		/* a callback stopped on a value */
	bool		closed;			/* the top-level object ended */
	char	   *errbuf;
	size_t		errlen;
} rowconv;

/* The current member's name: its column's, else the copy in d->name. */
static const char *
member_name(const rowconv *c)
{
	if (c->col >= 0)
		return c->rel->columns[c->col].name;
	return c->d->name.data ? c->d->name.data : "";
}

/* Append errbuf's " (column s.t.name)" for the current member. */
static void
name_column(rowconv *c)
{
	size_t		l = strlen(c->errbuf);

	snprintf(c->errbuf + l, c->errlen > l ? c->errlen - l : 0, " (column %s.%s.%s)",
			 c->rel->schema ? c->rel->schema : "", c->rel->table ? c->rel->table : "",
			 member_name(c));
}

/* A string token of the image, quoted: as it is when the plain-text walk
 * lexed it (lib/jscan.h: it has nothing trib_dbz_quote_n would escape),
 * else through trib_dbz_quote_n. */
static void
quote_token(const rowconv *c, trib_strbuf *b, const char *s, size_t n)
{
	if (c->sc == NULL)
	{
		trib_dbz_quote_n(b, s, n);
		return;
	}
	trib_strbuf_addc(b, '"');
	trib_strbuf_add(b, s, n);
	trib_strbuf_addc(b, '"');
}

/* A string token of a nested value written while lexed: quoted, or with
 * nest_esc (only under the plain-text walk, whose strings have nothing
 * else to escape) between escaped quotes. */
static void
nest_string(rowconv *c, const char *s, size_t n)
{
	if (!c->nest_esc)
	{
		quote_token(c, c->nest, s, n);
		return;
	}
	trib_strbuf_add(c->nest, "\\\"", 2);
	trib_strbuf_add(c->nest, s, n);
	trib_strbuf_add(c->nest, "\\\"", 2);
}

/* Write value v of the current member through its coltype. */
static int
put_member_value(rowconv *c, yajl_val v)
{
	const trib_dbz_coltype *t = c->t;

	if (YAJL_IS_NULL(v) && (t->kind == TRIB_DBZ_JSON || t->kind == TRIB_DBZ_JSONB) &&
		!t->array && c->json_nulls)
	{
		if (!c->nulls_parsed)
			c->nulls = yajl_tree_parse(c->json_nulls, NULL, 0);
		c->nulls_parsed = true;
		if (is_json_null(c->nulls, member_name(c)))
		{
			trib_strbuf_adds(c->out, "\"null\"");
			return 1;
		}
	}
	if (trib_dbz_value(&c->d->opts, t, v, c->out, c->errbuf, c->errlen))
		return 1;
	name_column(c);
	c->bad_value = true;
	return 0;
}

/* Before a token of a nested value written while lexed: its separator
 * from the previous one (none after a member name). */
static void
nest_token(rowconv *c)
{
	if (!c->nest_after_key && !c->nest_first)
		trib_strbuf_add(c->nest, c->sep, c->sep_len);
	c->nest_first = false;
	c->nest_after_key = false;
}

/* Whether a nested value of coltype t is written while lexed: values
 * passed as is, and json/jsonb (a string of the value's JSON text). */
static void
nest_begin(rowconv *c)
{
	const trib_dbz_coltype *t = c->t;
	bool		jsonb = t->kind == TRIB_DBZ_JSONB;

	c->nest = NULL;
	c->nest_esc = false;
	if (t->kind == TRIB_DBZ_ASIS)
		c->nest = c->out;
	else if ((t->kind == TRIB_DBZ_JSON || jsonb) && !t->array && c->sc)
	{
		c->nest = c->out;
		c->nest_esc = true;
		trib_strbuf_addc(c->out, '"');
	}
	else if ((t->kind == TRIB_DBZ_JSON || jsonb) && !t->array)
	{
		c->nest = &c->d->val;
		c->nest->len = 0;
	}
	c->sep = jsonb ? ", " : ",";
	c->colon = jsonb ? ": " : ":";
	c->sep_len = jsonb ? 2 : 1;
	c->colon_len = jsonb ? 2 : 1;
	c->nest_first = true;
	c->nest_after_key = false;
}

/* A top-level scalar of text s[0..n) written through trib_dbz_value (as
 * a yajl_val whose text sits in the scratch buffer). */
static int
scalar_value(rowconv *c, yajl_type type, const char *s, size_t n)
{
	struct yajl_val_s v = {.type = type};

	c->d->val.len = 0;
	trib_strbuf_add(&c->d->val, s, n);
	if (type == yajl_t_string)
		v.u.string = c->d->val.data;
	else if (type == yajl_t_number)
		v.u.number.r = c->d->val.data;
	return put_member_value(c, &v);
}

/* A scalar of text s[0..n) at depth 1 (deeper ones belong to a nested
 * value, written when it closes).  ASIS values are copied as lexed. */
static int
scalar(void *ctx, yajl_type type, const char *s, size_t n)
{
	rowconv    *c = ctx;

	if (c->depth != 1)
	{
		if (c->depth > 1 && c->nest)
		{
			nest_token(c);
			if (type == yajl_t_string)
				nest_string(c, s, n);
			else
				trib_strbuf_add(c->nest, s, n);
		}
		return c->depth > 1;
	}
	if (c->t->kind == TRIB_DBZ_ASIS)
	{
		/* the walk's string between its quotes in the image, as one copy */
		if (type == yajl_t_string && c->sc)
			trib_strbuf_add(c->out, s - 1, n + 2);
		else if (type == yajl_t_string)
			quote_token(c, c->out, s, n);
		else
			trib_strbuf_add(c->out, s, n);
		return 1;
	}
	/* the walk's token is followed by its closing quote or a delimiter */
	if (c->sc && type != yajl_t_null &&
		trib_dbz_text_value(&c->d->opts, c->t, type == yajl_t_string, s, n, c->out))
		return 1;
	return scalar_value(c, type, s, n);
}

/* The column of member s[0..n): the one at the member's position when
 * its name (length cached in the relation entry, then bytes) matches,
 * else looked up by name. */
static int
member_column(const rowconv *c, const unsigned char *s, size_t n)
{
	size_t		h = c->member;

	if (h < (size_t) c->rel->ncolumns && c->entry->name_len[h] == n &&
		memcmp(c->rel->columns[h].name, s, n) == 0)
		return (int) h;
	return trib_dbz_column_of(c->rel, (const char *) s, n, h);
}

/* A member's name: its column looked up, the name written at once (the
 * column's rendered ",\"name\":" when the name is exactly the column's). */
static int
on_key(void *ctx, const unsigned char *s, size_t n)
{
	static const trib_dbz_coltype asis = {.kind = TRIB_DBZ_ASIS, .precision = -1, .scale = -1};
	rowconv    *c = ctx;
	const relentry *e = c->entry;
	int			col;
	size_t		first;

	if (c->depth != 1)
	{
		if (c->nest)
		{
			nest_token(c);
			nest_string(c, (const char *) s, n);
			trib_strbuf_add(c->nest, c->colon, c->colon_len);
			c->nest_after_key = true;
		}
		return 1;
	}
	col = c->known >= 0 ? c->known : member_column(c, s, n);
	c->known = -1;
	c->t = col >= 0 ? &c->types[col] : &asis;
	first = c->member++ == 0;
	if (col >= 0 && e->name_len[col] == n)
	{
		c->col = col;
		trib_strbuf_add(c->out, e->members + e->member_off[col] + first,
						e->member_off[col + 1] - e->member_off[col] - first);
		return 1;
	}
	c->col = -1;
	c->d->name.len = 0;
	trib_strbuf_add(&c->d->name, (const char *) s, n);
	if (!first)
		trib_strbuf_addc(c->out, ',');
	quote_token(c, c->out, (const char *) s, n);
	trib_strbuf_addc(c->out, ':');
	return 1;
}

/* Image offset just past the current token (the image is one chunk). */
static size_t
here(const rowconv *c)
{
	return c->h ? yajl_get_bytes_consumed(c->h) : c->sc->i;
}

static int
open_nested(void *ctx, bool array)
{
	rowconv    *c = ctx;

	if (c->depth == 0)
	{
		if (array)
			return 0;
		trib_strbuf_addc(c->out, '{');
	}
	else if (c->depth == 1)
	{
		c->nest_start = here(c) - 1;
		nest_begin(c);
	}
	if (c->depth >= 1 && c->nest)
	{
		nest_token(c);
		trib_strbuf_addc(c->nest, array ? '[' : '{');
		c->nest_first = true;
	}
	c->depth++;
	return 1;
}

/* A nested value closed: finished when written while lexed; at depth 1
 * otherwise parsed from its text and written through its coltype. */
static int
close_nested(void *ctx, bool array)
{
	rowconv    *c = ctx;
	trib_strbuf *buf = &c->d->val;
	yajl_val	v;
	int			ok;

	if (--c->depth == 0)
	{
		trib_strbuf_addc(c->out, '}');
		c->closed = true;
		return 1;
	}
	if (c->nest)
	{
		trib_strbuf_addc(c->nest, array ? ']' : '}');
		c->nest_first = false;
		if (c->depth == 1 && c->nest_esc)
			trib_strbuf_addc(c->out, '"');
		else if (c->depth == 1 && c->nest != c->out)
			trib_dbz_quote_n(c->out, c->nest->data, c->nest->len);
		return 1;
	}
	if (c->depth > 1)
		return 1;
	buf->len = 0;
	trib_strbuf_add(buf, c->image + c->nest_start, here(c) - c->nest_start);
	if ((v = yajl_tree_parse(buf->data, NULL, 0)) == NULL)
		return 0;
	ok = put_member_value(c, v);
	yajl_tree_free(v);
	return ok;
}

static const trib_ytok_ops row_ops = {scalar, on_key, open_nested, close_nested};

/* The walk's hook before a member name at sc->i: the length of the
 * column's name at the member's position when the image has it there
 * between quotes and it is plain (so the walk need not scan it), else 0. */
static size_t
known_name(void *ctx, const trib_jscan *sc)
{
	rowconv    *c = ctx;
	size_t		h = c->member;
	size_t		n;

	if (c->depth != 1 || h >= (size_t) c->rel->ncolumns || !c->entry->plain[h])
		return 0;
	n = c->entry->name_len[h];
	/* the image's "name" against the rendered ,"name": (one compare) */
	if (n == 0 || sc->len - sc->i < n + 2 ||
		memcmp(sc->s + sc->i, c->entry->members + c->entry->member_off[h] + 1, n + 2) != 0)
		return 0;
	c->known = (int) h;
	return n;
}

/* The plain-text walk of an image with the handlers above. */
TRIB_JSTOK_WALKER(walk_image, scalar, on_key, open_nested, close_nested, known_name)

/* The member loop's name step: the name of the plan's next column, when
 * the image has it there as `"name":` (plain, so one memcmp against the
 * rendered `,"name":`), written and its column set; else false. */
static bool
planned_name(rowconv *c, trib_jscan *sc)
{
	const relentry *e = c->entry;
	size_t		h = c->member;
	size_t		n,
				first;
	const char *m;

	if (h >= (size_t) c->rel->ncolumns || !e->plain[h])
		return false;
	n = e->name_len[h];
	m = e->members + e->member_off[h];
	if (sc->len - sc->i < n + 3 || memcmp(sc->s + sc->i, m + 1, n + 3) != 0)
		return false;
	sc->i += n + 3;
	c->col = (int) h;
	c->t = &c->types[h];
	first = c->member++ == 0;
	trib_strbuf_add(c->out, m + first, e->member_off[h + 1] - e->member_off[h] - first);
	return true;
}

/* The member loop's scalar step, by the column's plan: ASIS copies the
 * token's bytes (a string with its quotes), TEXT encodes it from the
 * image's text; anything else, or a text the encoder refuses, goes to
 * scalar_value, as the scalar handler would. */
static trib_jstok_result
planned_scalar(rowconv *c, trib_jscan *sc)
{
	const char *t = (const char *) sc->s;
	size_t		start = sc->i,
				n;
	int			kind;
	int			plan = c->col >= 0 ? c->entry->plan[c->col] : TRIB_DBZ_PLAN_OTHER;

	if (plan == TRIB_DBZ_PLAN_OTHER)
		return walk_image_scalar(sc, c);
	if (!trib_jscan_scalar(sc, &kind))
		return TRIB_JSTOK_NOT_PLAIN;
	n = sc->i - start;
	if (plan == TRIB_DBZ_PLAN_ASIS)
	{
		trib_strbuf_add(c->out, t + start, n);
		return TRIB_JSTOK_OK;
	}
	if (kind == TRIB_JS_STRING)
		start++, n -= 2;
	if (kind != TRIB_JS_NULL &&
		trib_dbz_text_value(&c->d->opts, c->t, kind == TRIB_JS_STRING, t + start, n, c->out))
		return TRIB_JSTOK_OK;
	return walk_image_rc(scalar_value(c, kind == TRIB_JS_STRING ? yajl_t_string :
									  kind == TRIB_JS_NUMBER ? yajl_t_number :
									  kind == TRIB_JS_TRUE ? yajl_t_true :
									  kind == TRIB_JS_FALSE ? yajl_t_false : yajl_t_null,
									  t + start, n));
}

/*
 * The plain-text walk of an image driven by the relation's column plan:
 * the top-level members in order, each name matched against the next
 * column's (planned_name) and each scalar converted by its column's plan
 * (planned_scalar), with the handlers' state kept as the generic walk
 * keeps it.  Anything else (a name elsewhere, escaped, spaced or not a
 * column, a nested value) takes that step through the generic walk's own
 * functions, so the tokens, bytes and results are walk_image's.
 */
static trib_jstok_result
walk_planned(trib_jscan *sc, rowconv *c)
{
	trib_jstok_result r;
	int			ch;

	if (trib_jscan_peek(sc) != '{')
		return walk_image(sc, c);
	sc->i++;
	open_nested(c, false);
	if (trib_jscan_peek(sc) != '}')
		for (;;)
		{
			if (!planned_name(c, sc) && (r = walk_image_key(sc, c)) != TRIB_JSTOK_OK)
				return r;
			ch = trib_jscan_peek(sc);
			if (ch == '{' || ch == '[')
				r = walk_image_container(sc, c, 1);
			else if (ch < 0)
				return TRIB_JSTOK_NOT_PLAIN;
			else
				r = planned_scalar(c, sc);
			if (r != TRIB_JSTOK_OK)
				return r;
			if (trib_jscan_peek(sc) != ',')
				break;
			sc->i++;
		}
	if (trib_jscan_peek(sc) != '}')
		return TRIB_JSTOK_NOT_PLAIN;
	sc->i++;
	close_nested(c, false);
	return trib_jscan_peek(sc) >= 0 ? TRIB_JSTOK_NOT_PLAIN : TRIB_JSTOK_OK;
}

/*
 * yajl's allocations for one image (its handle, lexer, buffer and stack,
 * ~3 KB) come from the converter's arena, reset for each image, so the
 * steady state calls no malloc; a block that does not fit goes to the
 * heap.  Each block is preceded by its size (for realloc).
 */
#define DBZ_ARENA 16384
#define DBZ_HDR 16

static bool
in_arena(const trib_dbz *d, const void *p)
{
	const unsigned char *b = p;

	return d->arena && b >= d->arena && b < d->arena + DBZ_ARENA;
}

static void *
arena_malloc(void *ctx, size_t sz)
{
	trib_dbz   *d = ctx;
	size_t		need = DBZ_HDR + ((sz + 15) & ~(size_t) 15);
	unsigned char *p;

	if (d->arena == NULL)
		d->arena = trib_xrealloc(NULL, DBZ_ARENA);
	if (d->alen + need > DBZ_ARENA)
		return trib_xrealloc(NULL, sz ? sz : 1);
	p = d->arena + d->alen;
	memcpy(p, &sz, sizeof(sz));
	d->alen += need;
	return p + DBZ_HDR;
}

static void
arena_free(void *ctx, void *ptr)
{
	if (ptr && !in_arena(ctx, ptr))
		free(ptr);
}

static void *
arena_realloc(void *ctx, void *ptr, size_t sz)
{
	size_t		old;
	void	   *n;

	if (ptr == NULL)
		return arena_malloc(ctx, sz);
	if (!in_arena(ctx, ptr))
		return trib_xrealloc(ptr, sz ? sz : 1);
	memcpy(&old, (unsigned char *) ptr - DBZ_HDR, sizeof(old));
	n = arena_malloc(ctx, sz);
	memcpy(n, ptr, old < sz ? old : sz);
	return n;
}

/* The state of a conversion of image into out, before any token. */
static void
rowconv_init(rowconv *c, trib_dbz *d, const trib_relation *rel,
			 const relentry *entry, const char *image, const char *json_nulls,
			 trib_strbuf *out, char *errbuf, size_t errlen)
{
	*c = (rowconv) {0};
	c->d = d;
	c->rel = rel;
	c->entry = entry;
	c->types = entry->types;
	c->image = image;
	c->json_nulls = json_nulls;
	c->out = out;
	c->errbuf = errbuf;
	c->errlen = errlen;
	c->known = -1;
	errbuf[0] = '\0';
}

/* The image converted while yajl lexes it (any JSON text). */
static bool
lex_with_yajl(rowconv *c, size_t len)
{
	trib_ytok	tok = {&row_ops, c};
	yajl_alloc_funcs funcs = {arena_malloc, arena_realloc, arena_free, c->d};
	bool		ok;

	c->d->alen = 0;
	c->h = trib_ytok_alloc(&tok, &funcs);
	if (c->h == NULL)
		abort();
	ok = yajl_parse(c->h, (const unsigned char *) c->image, len) == yajl_status_ok &&
		yajl_complete_parse(c->h) == yajl_status_ok && c->closed;
	yajl_free(c->h);
	return ok;
}

/*
 * The image converted by the plain-text walk, the same tokens to the same
 * handlers without yajl: true when it took the whole image and every
 * value converted.  Otherwise (escapes, a bad value, not JSON) nothing of
 * it is kept: out is cut back and the caller asks yajl, which writes the
 * same bytes or the same error.
 */
static bool
lex_plain(rowconv *c, size_t len)
{
	trib_jscan	sc = {(const unsigned char *) c->image, len, 0};
	size_t		out_len = c->out->len;

	c->sc = &sc;
	if (walk_planned(&sc, c) == TRIB_JSTOK_OK && c->closed)
		return true;
	c->out->len = out_len;
	if (c->out->data)
		c->out->data[out_len] = '\0';
	yajl_tree_free(c->nulls);
	return false;
}

/* See debezium.h. */
bool
trib_dbz_row(trib_dbz *d, const char *connector, const trib_relation *rel,
			 const char *image, const char *json_nulls, trib_strbuf *out,
			 char *errbuf, size_t errlen)
{
	trib_dbz_mapper map = trib_dbz_mapper_for(connector);
	const relentry *entry;
	rowconv		c;
	size_t		len;
	bool		ok;

	if (rel == NULL || map == NULL)
	{
		trib_strbuf_adds(out, image);
		return true;
	}
	entry = trib_dbz_rel_entry(d, map, rel);
	len = strlen(image);
	rowconv_init(&c, d, rel, entry, image, json_nulls, out, errbuf, errlen);
	ok = !d->yajl_only && lex_plain(&c, len);
	if (!ok)
	{
		rowconv_init(&c, d, rel, entry, image, json_nulls, out, errbuf, errlen);
		ok = lex_with_yajl(&c, len);
	}
	yajl_tree_free(c.nulls);
	if (!ok && !c.bad_value)
		snprintf(errbuf, errlen, "debezium: row image of %s.%s is not a JSON object",
				 rel->schema ? rel->schema : "", rel->table ? rel->table : "");
	return ok;
}
