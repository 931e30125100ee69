/*
 * rules_splice.c: value rules on the row text (see rules_splice.h).
 *
 * Index.  One pass over an image: the fast index (lib/jscan.h, a
 * validating scanner for plain JSON, which compact() guarantees but for
 * UTF-8 and nesting), or, for what it does not take, yajl's callback
 * parser (its nine
 * callbacks made by lib/yajl_tokens.h's TRIB_YTOK_CALLBACKS, which call
 * the four handlers here directly) records, for every member of an object
 * reached through objects only, its parent, its name and decoded scalar
 * text (in `names`), its kind and the byte range of its value in the
 * generated text.  Members inside arrays are not recorded;
 * an array on a path sends the rule to the tree path.  Strings and keys
 * are generated up to their first NUL, as the tree (C strings) would.
 *
 * The source's index.  An event may carry an index of its `after` and
 * `key` (event.h: the PostgreSQL record parse leaves one).  When its part
 * for an image still describes the image's text (length and hash), the
 * index is built from it (from_source): the compact text is written
 * member by member, scalars recorded from their first byte without a
 * scan, objects and arrays compacted and walked as above.  Otherwise, or
 * when a span does not fit, the image is indexed as above.
 *
 * Names.  Once an image is indexed, its members are hashed by (object,
 * name) into an open-addressing table (names_table), which also marks
 * duplicate keys; a path is then looked up by one probe per segment (a
 * match by length, then bytes: the test of the strcmp jpath.c does for
 * plain segments), not by a scan of the members per segment and rule.
 *
 * Values.  The value op
 * gets a node built as yajl_tree would build it, or the node a previous
 * rule's op left there (kept, so a later rule sees what it would see in a
 * tree).  The op's result is generated on
 * its own and spliced over the old range; the ranges after it, and of the
 * members containing it, move by the difference.  A result that is not a
 * scalar ends the index of that image: later rules take the tree path,
 * which parses the spliced text.
 *
 * Text ops.  A value rule whose ops have value_text (masking, crypto) gets
 * a scalar member as a trib_jvalue straight from the index and returns a
 * trib_jvalue_buf (one per rl_splice, its buffer reused from value to
 * value); its result is written as the yajl_gen calls trib_jdoc_gen would
 * make for trib_jvalue_buf_node(result) write it: a number as its text
 * (yajl_gen_number copies it), true, false, null, and a string quoted
 * here when yajl would copy it unescaped, by yajl_gen_string otherwise.
 * The member keeps the result's decoded text and kind, no node.  So a
 * masked value costs no yajl node, copy or strtod.  Objects and arrays, a
 * refusal, and a member an earlier node op left a node on take the node
 * path above.
 *
 * Ownership: an rl_splice owns its indexes, texts and the nodes value ops
 * left; rl_splice_reset forgets them between events (keeping the
 * buffers), rl_splice_destroy frees everything.  A node handed to the
 * value op is owned here again when it returns.
 */
#include "rules_splice.h"

#include "arena.h"
#include "jscan.h"
#include "jsondoc.h"
#include "jvalue.h"
#include "strbuf.h"
#include "yajl_tokens.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#define SP_MAX_DEPTH 128		/* yajl_gen's own limit */

/* One object member. */
typedef struct sp_node
{
	int			parent;			/* member index of its object, -1: the root */
	size_t		name_off;		/* in names, NUL-terminated */
	size_t		name_len;		/* up to its first NUL (what strcmp sees) */
	size_t		text_off;		/* scalar's decoded text in names */
	yajl_type	kind;
	size_t		start;			/* its value in text: [start, end) */
	size_t		end;
	yajl_val	v;				/* the node a value op left, or NULL */
	bool		dup;			/* another member of its object has its name */
} sp_node;

/* The index of one image. */
typedef struct sp_img
{
	bool		built;
	bool		usable;			/* the index may be used */
	bool		spliced;		/* text differs from the event's */
	char	   *text;			/* what the tree path's dump would write */
	size_t		len;
	size_t		cap;
	sp_node    *n;
	size_t		nn;
	size_t		ncap;
	trib_strbuf names;
	int		   *ht;				/* (parent, name) -> member + 1, 0: free */
	size_t		htcap;			/* 1 << htbits, at least 2 * nn */
	int			htbits;
} sp_img;

struct rl_splice
{
	sp_img		img[RL_SPLICE_NIMG];
	yajl_gen	g;				/* writes the values ops return */
	trib_arena	arena;			/* yajl's memory while indexing one image */
	yajl_alloc_funcs af;
	trib_strbuf lit;			/* a plain string result, quoted (put_scalar) */
	trib_jvalue_buf out;		/* a text op's result, its buffer reused */
};

/* The parse: where the callbacks are. */
typedef struct sp_build
{
	sp_img	   *im;
	yajl_handle h;
	int			depth;
	int			owner[SP_MAX_DEPTH];	/* member whose value opened it, -1 */
	bool		reach[SP_MAX_DEPTH];	/* an object reached through objects */
	int			pending;		/* the member whose value comes next */
} sp_build;

/* ---- the index ------------------------------------------------------------ */

/* What compact() does with a byte. */
enum
{
	CH_PLAIN,					/* part of a token: kept */
	CH_QUOTE,
	CH_ESCAPE,					/* a backslash */
	CH_SLASH,					/* a comment outside strings */
	CH_WS,						/* yajl's whitespace (yajl_lex.c) */
	CH_DELIM					/* ends a token on its own, as a quote does */
};

static const unsigned char ch_class[256] = {
	['"'] = CH_QUOTE, ['\\'] = CH_ESCAPE, ['/'] = CH_SLASH,
	[' '] = CH_WS, ['\t'] = CH_WS, ['\n'] = CH_WS, ['\v'] = CH_WS, ['\f'] = CH_WS, ['\r'] = CH_WS,
	['{'] = CH_DELIM, ['}'] = CH_DELIM, ['['] = CH_DELIM, [']'] = CH_DELIM,
	[':'] = CH_DELIM, [','] = CH_DELIM,
};

/* The first quote or backslash in text[k, len), or len: where a string
 * whose contents start at k ends, or its escape.  Eight bytes at a time
 * (trib_jscan_plain8 stops at a quote, a backslash, a control byte or a
 * byte >= 0x80; only the first two end the scan); the byte loop cost ~6
 * instructions a byte. */
static size_t
string_end(const char *text, size_t len, size_t k)
{
	const unsigned char *p = (const unsigned char *) text;

	while (k + 8 <= len)
	{
		unsigned	r = trib_jscan_plain8(p + k);

		k += r;
		if (r == 8)
			continue;
		if (p[k] == '"' || p[k] == '\\')
			return k;
		k++;
	}
	while (k < len && text[k] != '"' && text[k] != '\\')
		k++;
	return k;
}

/*
 * Write into out (len + 1 bytes) what yajl_gen (default options, as
 * trib_jdoc_dump) writes for `text`, and set *outlen; false when that is
 * not sure.  yajl_gen writes no whitespace, no comments, and escapes only
 * in strings; a text without a backslash and without '/' outside its
 * strings is written back as itself minus the whitespace between its
 * tokens (numbers as written, strings unchanged: a string without escapes
 * holds no quote, backslash or control character).  Whitespace between
 * two characters that do not end a token (`1 2`, `tru e`, `- 1`) is
 * refused: dropping it would join two tokens, and an invalid text could
 * become valid.  This only rules texts out; yajl still judges whether the
 * result is JSON, which it is exactly when `text` is.  Texts with escapes
 * or comments take the tree path.  A string is copied whole, from its
 * opening quote through its closing one (string_end finds it).
 */
static bool
compact(const char *text, size_t len, char *out, size_t *outlen)
{
	bool		gap = false;	/* whitespace since the last byte kept */
	size_t		n = 0;
	size_t		k = 0;

	while (k < len)
	{
		char		c = text[k];
		int			t = ch_class[(unsigned char) c];

		if (t == CH_ESCAPE || t == CH_SLASH)
			return false;
		if (t == CH_WS)
		{
			gap = true;
			k++;
			continue;
		}
		if (gap && n > 0 && t == CH_PLAIN && ch_class[(unsigned char) out[n - 1]] == CH_PLAIN)
			return false;
		gap = false;
		if (t == CH_QUOTE)
		{
			size_t		e = string_end(text, len, k + 1);

			if (e < len && text[e] == '\\')
				return false;
			e = e < len ? e + 1 : len;	/* through its closing quote */
			memcpy(out + n, text + k, e - k);
			n += e - k;
			k = e;
			continue;
		}
		out[n++] = c;
		k++;
	}
	out[n] = '\0';
	*outlen = n;
	return true;
}

/* Where the token yajl just reported ends in the text. */
static size_t
tok_end(const sp_build *b)
{
	return yajl_get_bytes_consumed(b->h);
}

static size_t
add_name(sp_img *im, const char *s, size_t n)
{
	size_t		off = im->names.len;

	trib_strbuf_add(&im->names, s, n);
	trib_strbuf_addc(&im->names, '\0');
	return off;
}

/* A scalar of raw length rawlen ends here; record it if a member awaits it. */
static int
scalar_done(sp_build *b, size_t rawlen, yajl_type kind, const char *s, size_t n)
{
	if (b->pending >= 0)
	{
		sp_node    *m = &b->im->n[b->pending];

		m->end = tok_end(b);
		m->start = m->end - rawlen;
		m->kind = kind;
		m->text_off = add_name(b->im, s, n);
		b->pending = -1;
	}
	return b->depth > 0;		/* a scalar image is not an object */
}

/* A scalar token (lib/yajl_tokens.h): its raw length in the text is its
 * text's, but for strings, unescaped here (compact), whose raw
 * form is quote, s, quote.  Null and booleans keep no text. */
static int
on_scalar(void *ctx, yajl_type type, const char *s, size_t n)
{
	switch (type)
	{
		case yajl_t_string:
			return scalar_done(ctx, n + 2, type, s, n);
		case yajl_t_number:
			return scalar_done(ctx, n, type, s, n);
		default:
			return scalar_done(ctx, n, type, "", 0);
	}
}

static int
on_key(void *ctx, const unsigned char *s, size_t n)
{
	sp_build   *b = ctx;
	sp_img	   *im = b->im;

	b->pending = -1;
	if (!b->reach[b->depth - 1])
		return 1;
	if (im->nn == im->ncap)
	{
		im->ncap = im->ncap ? 2 * im->ncap : 16;
		im->n = trib_xrealloc(im->n, im->ncap * sizeof(*im->n));
	}
	memset(&im->n[im->nn], 0, sizeof(*im->n));
	im->n[im->nn].parent = b->owner[b->depth - 1];
	im->n[im->nn].name_off = add_name(im, (const char *) s, n);
	im->n[im->nn].name_len = strnlen((const char *) s, n);
	b->pending = (int) im->nn++;
	return 1;
}

/* An object or array opens (its bracket just read): push it. */
static int
open_container(sp_build *b, bool object)
{
	if (b->depth == SP_MAX_DEPTH || (b->depth == 0 && !object))
		return 0;
	b->owner[b->depth] = b->pending;
	b->reach[b->depth] = object && (b->depth == 0 || b->pending >= 0);
	if (b->pending >= 0)
	{
		b->im->n[b->pending].start = tok_end(b) - 1;
		b->im->n[b->pending].kind = object ? yajl_t_object : yajl_t_array;
	}
	b->pending = -1;
	b->depth++;
	return 1;
}

static int
close_container(sp_build *b)
{
	int			owner = b->owner[--b->depth];

	if (owner >= 0)
		b->im->n[owner].end = tok_end(b);
	return 1;
}

static int
on_open(void *ctx, bool array)
{
	return open_container(ctx, !array);
}

static int
on_close(void *ctx, bool array)
{
	(void) array;
	return close_container(ctx);
}

TRIB_YTOK_CALLBACKS(sp_callbacks, on_scalar, on_key, on_open, on_close);

/* ---- the fast index (lib/jscan.h) ------------------------------------------ */

/* A new member of object `parent` (-1: the image), zeroed but for it
 * (stores, not a call to memset per member). */
static inline int
new_member(sp_img *im, int parent)
{
	if (im->nn == im->ncap)
	{
		im->ncap = im->ncap ? 2 * im->ncap : 16;
		im->n = trib_xrealloc(im->n, im->ncap * sizeof(*im->n));
	}
	im->n[im->nn] = (sp_node) {.parent = parent};
	return (int) im->nn++;
}

/* A new member of an object reached through objects: its name is
 * text[cs, ce), without escapes (nor NUL: jscan refuses control
 * characters). */
static int
fx_member(sp_img *im, int parent, size_t cs, size_t ce)
{
	int			mi = new_member(im, parent);

	im->n[mi].name_off = add_name(im, im->text + cs, ce - cs);
	im->n[mi].name_len = ce - cs;
	return mi;
}

/* A member's value at the position: its kind, range and scalar text, and
 * for an object its members. */
static bool fx_object(trib_jscan *sc, sp_img *im, int owner, int depth);

static bool
fx_value(trib_jscan *sc, sp_img *im, int mi, int depth)
{
	static const yajl_type kinds[] = {
		[TRIB_JS_STRING] = yajl_t_string, [TRIB_JS_NUMBER] = yajl_t_number,
		[TRIB_JS_TRUE] = yajl_t_true, [TRIB_JS_FALSE] = yajl_t_false,
		[TRIB_JS_NULL] = yajl_t_null
	};
	int			c = trib_jscan_peek(sc);
	size_t		start = sc->i;
	int			kind;

	im->n[mi].start = start;
	if (c == '{')
	{
		im->n[mi].kind = yajl_t_object;
		if (!fx_object(sc, im, mi, depth + 1))
			return false;
	}
	else if (c == '[')
	{
		im->n[mi].kind = yajl_t_array;
		if (!trib_jscan_container(sc, depth + 1))
			return false;
	}
	else if (c < 0 || !trib_jscan_scalar(sc, &kind))
		return false;
	else
	{
		size_t		off = kind == TRIB_JS_STRING ? add_name(im, im->text + start + 1, sc->i - start - 2)
			: kind == TRIB_JS_NUMBER ? add_name(im, im->text + start, sc->i - start)
			: add_name(im, "", 0);

		im->n[mi].kind = kinds[kind];
		im->n[mi].text_off = off;
	}
	im->n[mi].end = sc->i;
	return true;
}

/* The object at the position, reached through objects (owner: the member
 * whose value it is, -1 for the image): its members into the index. */
static bool
fx_object(trib_jscan *sc, sp_img *im, int owner, int depth)
{
	size_t		cs,
				ce;

	if (depth > TRIB_JSCAN_MAX_DEPTH)
		return false;
	sc->i++;
	if (trib_jscan_peek(sc) == '}')
	{
		sc->i++;
		return true;
	}
	for (;;)
	{
		int			mi;

		if (trib_jscan_peek(sc) != '"' || !trib_jscan_string(sc, &cs, &ce) ||
			trib_jscan_peek(sc) != ':')
			return false;
		sc->i++;
		mi = fx_member(im, owner, cs, ce);
		if (!fx_value(sc, im, mi, depth))
			return false;
		if (trib_jscan_peek(sc) != ',')
			break;
		sc->i++;
	}
	if (trib_jscan_peek(sc) != '}')
		return false;
	sc->i++;
	return true;
}

/* Index im->text without yajl; false hands it to the yajl index (which
 * starts over), for anything jscan does not take: what this accepts,
 * yajl accepts with the same index (test_rules_splice compares). */
static bool
fast_index(sp_img *im)
{
	trib_jscan	sc = {(const unsigned char *) im->text, im->len, 0};

	if (!rl_splice_fast_index || trib_jscan_peek(&sc) != '{' ||
		!fx_object(&sc, im, -1, 1))
		return false;
	return trib_jscan_peek(&sc) < 0;
}

/* ---- the names' table ------------------------------------------------------- */

/* A name's hash: its length and three of its bytes, no loop (a collision
 * costs a probe; names are compared whole). */
static uint32_t
name_key(const char *s, size_t n)
{
	uint32_t	h = (uint32_t) n * 0x9E3779B1u;

	if (n > 0)
		h ^= (uint32_t) (unsigned char) s[0] | (uint32_t) (unsigned char) s[n - 1] << 8 |
			(uint32_t) (unsigned char) s[n / 2] << 16;
	return h;
}

/* Where a member of object `parent` whose name_key is h starts its probe. */
static size_t
slot_of(const sp_img *im, uint32_t h, int parent)
{
	return ((h ^ (uint32_t) parent * 0x85EBCA6Bu) * 0xC2B2AE35u) >> (32 - im->htbits);
}

/* Does member k have the name s[0..n) in object `parent`? */
static bool
same_name(const sp_img *im, size_t k, int parent, const char *s, size_t n)
{
	const sp_node *m = &im->n[k];

	return m->parent == parent && m->name_len == n &&
		memcmp(im->names.data + m->name_off, s, n) == 0;
}

/* Hash every member of im by (parent, name) once per image, so a lookup
 * costs a probe per segment, not a scan of the members; a second member
 * with a name its object already has marks the first one dup. */
static void
names_table(sp_img *im)
{
	int			bits = 4;
	size_t		mask;

	while (((size_t) 1 << bits) < 2 * im->nn)
		bits++;
	if (((size_t) 1 << bits) > im->htcap)
	{
		im->htcap = (size_t) 1 << bits;
		im->ht = trib_xrealloc(im->ht, im->htcap * sizeof(*im->ht));
	}
	im->htbits = bits;
	mask = ((size_t) 1 << bits) - 1;
	memset(im->ht, 0, (mask + 1) * sizeof(*im->ht));
	for (size_t k = 0; k < im->nn; k++)
	{
		const sp_node *m = &im->n[k];
		const char *nm = im->names.data + m->name_off;
		size_t		h = slot_of(im, name_key(nm, m->name_len), m->parent);

		while (im->ht[h] != 0 && !same_name(im, (size_t) im->ht[h] - 1, m->parent, nm, m->name_len))
			h = (h + 1) & mask;
		if (im->ht[h] != 0)
			im->n[im->ht[h] - 1].dup = true;
		else
			im->ht[h] = (int) k + 1;
	}
}

/* ---- the source's index (event.h) -------------------------------------------- */

/*
 * Index im from the source's index of `text` (len bytes; part pt of ix,
 * which trib_image_index_part found to describe it): im->text is written
 * as compact() would write it, member by member ("name":value, the value
 * copied, or compacted when it is an object or array), and each member
 * recorded as fx_value records it, without scanning the scalars: the
 * source vouches that the text is what jscan accepts (event.h), so
 * compact() takes it, a scalar is a string exactly when it starts with a
 * quote, and a string holds no escape.  Objects and arrays in it are
 * walked by fx_value (their members, for paths into them).  The top-level
 * names and scalar texts are not copied one by one: `names` starts with
 * a copy of the whole compact text (its first len + 1 bytes kept for it)
 * in which the byte after each of them (a closing quote, a comma or the
 * closing brace) becomes a NUL.  False when a span is out of bounds or a
 * value does not scan: the full index then.
 */
static bool
from_source(sp_img *im, const char *text, size_t len,
			const trib_image_index *ix, const trib_image_part *pt)
{
	char	   *out = im->text;
	size_t		n = 0;
	size_t		top = im->nn;	/* the first top-level member */

	if (len < 2)
		return false;
	if (im->names.cap - im->names.len <= len + 1)
		trib_strbuf_grow(&im->names, len + 1);
	im->names.len = len + 1;	/* the copy of out, below */
	out[n++] = '{';
	for (uint32_t k = 0; k < pt->n; k++)
	{
		const trib_image_member *s = &ix->m[pt->first + k];
		size_t		vlen = s->value_end - s->value;
		int			mi;
		sp_node    *m;
		int			c;

		if (s->name + s->name_len >= s->value || s->value >= s->value_end ||
			s->value_end > len || n + (k > 0) + s->name_len + vlen + 4 > len)
			return false;
		if (k > 0)
			out[n++] = ',';
		out[n++] = '"';
		memcpy(out + n, text + s->name, s->name_len);
		mi = new_member(im, -1);
		m = &im->n[mi];
		m->name_off = n;
		m->name_len = s->name_len;
		m->text_off = n + s->name_len;	/* a NUL: true, false, null */
		n += s->name_len;
		out[n++] = '"';
		out[n++] = ':';
		m->start = n;
		c = (unsigned char) text[s->value];
		if (c == '{' || c == '[')
		{
			trib_jscan	sc = {(const unsigned char *) out, 0, n};
			size_t		cl;

			if (!compact(text + s->value, vlen, out + n, &cl))
				return false;
			sc.len = n + cl;
			if (!fx_value(&sc, im, mi, 1) || sc.i != sc.len)
				return false;
			n += cl;
			continue;
		}
		memcpy(out + n, text + s->value, vlen);
		m->end = n + vlen;
		m->kind = c == '"' ? yajl_t_string : c == 't' ? yajl_t_true
			: c == 'f' ? yajl_t_false : c == 'n' ? yajl_t_null : yajl_t_number;
		if (c == '"')
			m->text_off = n + 1;
		else if (m->kind == yajl_t_number)
			m->text_off = n;
		n += vlen;
	}
	out[n++] = '}';
	out[n] = '\0';
	im->len = n;
	memcpy(im->names.data, out, n + 1);
	for (size_t k = top; k < im->nn; k++)
	{
		const sp_node *m = &im->n[k];

		if (m->parent != -1)
			continue;
		im->names.data[m->name_off + m->name_len] = '\0';
		if (m->kind == yajl_t_string)
			im->names.data[m->end - 1] = '\0';
		else if (m->kind == yajl_t_number)
			im->names.data[m->end] = '\0';
	}
	return true;
}

/* Index `text` into im, as compact() writes it (im->text); usable when
 * compact() could, yajl_tree_parse would accept it (same options: comments
 * allowed) and it is an object.  The fast index (jscan) first; yajl's
 * callback parse for what it does not take. */
static void
img_build(rl_splice *sp, sp_img *im, const char *text, size_t len,
		  const trib_image_index *ix, const trib_image_part *pt)
{
	sp_build	b;
	bool		ok;

	im->built = true;
	im->usable = false;
	im->spliced = false;
	im->nn = 0;
	im->names.len = 0;
	if (len + 1 > im->cap)
	{
		im->cap = len + 64;
		im->text = trib_xrealloc(im->text, im->cap);
	}
	if (pt != NULL && rl_splice_source_index)
	{
		if (from_source(im, text, len, ix, pt))
		{
			rl_splice_source_hits++;
			im->usable = true;
			names_table(im);
			return;
		}
		im->nn = 0;
		im->names.len = 0;
	}
	if (!compact(text, len, im->text, &im->len))
		return;
	if (fast_index(im))
	{
		im->usable = true;
		names_table(im);
		return;
	}
	im->nn = 0;
	im->names.len = 0;
	memset(&b, 0, sizeof(b));	/* here only: the fast index needs none of it */
	b.im = im;
	b.pending = -1;
	trib_arena_reset(&sp->arena);
	if ((b.h = yajl_alloc(&sp_callbacks, &sp->af, &b)) == NULL)
		abort();
	yajl_config(b.h, yajl_allow_comments, 1);
	ok = yajl_parse(b.h, (const unsigned char *) im->text, im->len) == yajl_status_ok &&
		yajl_complete_parse(b.h) == yajl_status_ok;
	yajl_free(b.h);
	im->usable = ok;
	if (ok)
		names_table(im);
}

/* ---- lookups --------------------------------------------------------------- */


/* The member of object `parent` (-1: the image) named seg[0..len), whose
 * name_key is key, by the names' table: its index, RL_SP_ABSENT, or RL_SP_NOTEXT for
 * duplicate keys. */
static int
member(const sp_img *im, int parent, const char *seg, size_t len, uint32_t key)
{
	size_t		mask = ((size_t) 1 << im->htbits) - 1;

	for (size_t h = slot_of(im, key, parent);; h = (h + 1) & mask)
	{
		int			k = im->ht[h] - 1;

		if (k < 0)
			return RL_SP_ABSENT;
		if (same_name(im, (size_t) k, parent, seg, len))
			return im->n[k].dup ? RL_SP_NOTEXT : k;
	}
}

/* The member the plain path p reaches: its index, RL_SP_ABSENT or RL_SP_NOTEXT. */
static int
lookup(const sp_img *im, const rl_sp_path *p)
{
	int			cur = -1;

	for (int s = 0; s < p->p->nseg; s++)
	{
		if (cur >= 0 && im->n[cur].kind != yajl_t_object)
			return im->n[cur].kind == yajl_t_array ? RL_SP_NOTEXT : RL_SP_ABSENT;
		cur = member(im, cur, p->p->seg[s], p->len[s], p->key[s]);
		if (cur < 0)
			return cur;
	}
	return im->n[cur].kind == yajl_t_object || im->n[cur].kind == yajl_t_array
		? RL_SP_NOTEXT : cur;
}

/* A number node as yajl_tree builds it (yajl_parse_integer's saturation). */
static yajl_val
number_node(const char *raw)
{
	yajl_val	v = trib_jdoc_number(raw);

	if (!(v->u.number.flags & YAJL_NUMBER_INT_VALID))
		v->u.number.i = raw[0] == '-' ? LLONG_MIN : LLONG_MAX;
	return v;
}

/* The node of scalar member m (built on first use). */
static yajl_val
node_of(sp_img *im, sp_node *m)
{
	const char *t = im->names.data + m->text_off;

	if (m->v != NULL)
		return m->v;
	switch (m->kind)
	{
		case yajl_t_string:
			return trib_jdoc_string(t);
		case yajl_t_number:
			return number_node(t);
		case yajl_t_true:
		case yajl_t_false:
			return trib_jdoc_bool(m->kind == yajl_t_true);
		default:
			return trib_jdoc_null();
	}
}

/* Replace [m->start, m->end) of the text by s[0..n); move the ranges.
 * Members are indexed in the order of the text (each object's members
 * after the member whose value it is), and a member spliced is a scalar
 * (rl_splice_find answers no other): the members after it lie after it,
 * and of those before it only the objects containing it end after it. */
static void
splice(sp_img *im, size_t mi, const char *s, size_t n)
{
	sp_node    *m = &im->n[mi];
	size_t		start = m->start;
	size_t		end = m->end;
	size_t		newlen = im->len - (end - start) + n;
	size_t		d = n - (end - start);	/* modulo 2^N: a shrink adds back */

	if (newlen + 1 > im->cap)
	{
		im->cap = newlen + 64;
		im->text = trib_xrealloc(im->text, im->cap);
	}
	memmove(im->text + start + n, im->text + end, im->len - end + 1);
	memcpy(im->text + start, s, n);
	im->len = newlen;
	im->spliced = true;
	for (size_t k = mi + 1; k < im->nn; k++)
	{
		im->n[k].start += d;
		im->n[k].end += d;
	}
	for (int p = m->parent; p >= 0; p = im->n[p].parent)
		im->n[p].end += d;
	m->end = start + n;
}

/* ---- the text path ------------------------------------------------------------ */

bool		rl_splice_enabled = true;
bool		rl_splice_fast_index = true;
bool		rl_splice_source_index = true;
unsigned long rl_splice_source_hits;

rl_splice *
rl_splice_new(void)
{
	rl_splice  *sp = trib_xcalloc(1, sizeof(*sp));

	if ((sp->g = yajl_gen_alloc(NULL)) == NULL)
		abort();
	trib_arena_init(&sp->arena, 0);
	trib_arena_yajl_funcs(&sp->arena, &sp->af);
	return sp;
}

bool
rl_splice_index(rl_splice *sp, int i, const char *text, const trib_event *ev, int which)
{
	if (!sp->img[i].built)
	{
		size_t		len = strlen(text);
		const trib_image_part *pt = which >= 0 && ev != NULL
			? trib_image_index_part(ev, which, text, len) : NULL;

		img_build(sp, &sp->img[i], text, len, ev != NULL ? ev->image_index : NULL, pt);
	}
	return sp->img[i].usable;
}

void
rl_sp_path_init(rl_sp_path *sp, const trib_jpath *p)
{
	sp->p = p;
	sp->plain = true;
	sp->len = trib_xcalloc((size_t) p->nseg + 1, sizeof(*sp->len));
	sp->key = trib_xcalloc((size_t) p->nseg + 1, sizeof(*sp->key));
	for (int s = 0; s < p->nseg; s++)
	{
		sp->plain = sp->plain && !p->glob[s];
		sp->len[s] = strlen(p->seg[s]);
		sp->key[s] = name_key(p->seg[s], sp->len[s]);
	}
}

void
rl_sp_path_free(rl_sp_path *sp)
{
	free(sp->len);
	free(sp->key);
	sp->len = NULL;
	sp->key = NULL;
}

int
rl_splice_find(const rl_splice *sp, int i, const rl_sp_path *p)
{
	if (!p->plain || !sp->img[i].usable)
		return RL_SP_NOTEXT;
	return lookup(&sp->img[i], p);
}

/* Generate node v (now member mi's value) and splice it over mi's range;
 * mi keeps v for the rules after. */
static void
put_node(rl_splice *sp, sp_img *im, int mi, yajl_val v)
{
	const unsigned char *out;
	size_t		outlen;
	sp_node    *m;

	yajl_gen_clear(sp->g);
	yajl_gen_reset(sp->g, NULL);
	(void) trib_jdoc_gen(sp->g, v);
	yajl_gen_get_buf(sp->g, &out, &outlen);
	splice(im, (size_t) mi, (const char *) out, outlen);
	m = &im->n[mi];
	m->v = v;
	m->kind = v ? v->type : yajl_t_null;
	if (m->kind == yajl_t_object || m->kind == yajl_t_array)
		im->usable = false;		/* its members are not indexed */
}

/* Does yajl_gen_string (no escaped solidus, as sp->g) write s[0..n) as is
 * between its quotes?  It escapes '"', '\\' and bytes below 0x20 only.
 * Eight bytes at a time (trib_jscan_plain8 also stops at bytes >= 0x80,
 * which yajl writes as they are), then byte by byte. */
static bool
plain_string(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		k = 0;

	while (k + 8 <= n)
	{
		unsigned	r = trib_jscan_plain8(p + k);

		k += r;
		if (r == 8)
			continue;
		if (p[k] < 0x80)
			return false;		/* a quote, a backslash or a control byte */
		k++;
	}
	for (; k < n; k++)
	{
		unsigned char c = (unsigned char) s[k];

		if (c < 0x20 || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* String t[0..n) as yajl_gen_string writes it, *outlen bytes: quoted
 * here when it needs no escape, else by yajl. */
static const char *
quote(rl_splice *sp, const char *t, size_t n, size_t *outlen)
{
	const unsigned char *out;

	if (plain_string(t, n))
	{
		sp->lit.len = 0;
		trib_strbuf_addc(&sp->lit, '"');
		trib_strbuf_add(&sp->lit, t, n);
		trib_strbuf_addc(&sp->lit, '"');
		*outlen = sp->lit.len;
		return sp->lit.data;
	}
	yajl_gen_clear(sp->g);
	yajl_gen_reset(sp->g, NULL);
	(void) yajl_gen_string(sp->g, (const unsigned char *) t, n);
	yajl_gen_get_buf(sp->g, &out, outlen);
	return (const char *) out;
}

/* Write scalar o as trib_jdoc_gen would generate trib_jvalue_buf_node(o)
 * and splice it over mi's range; mi keeps o's decoded text (up to its first
 * NUL, as the node's C string) and kind, no node. */
static void
put_scalar(rl_splice *sp, sp_img *im, int mi, const trib_jvalue_buf *o)
{
	const char *t = o->text.data ? o->text.data : "";
	size_t		n = strlen(t);
	const char *out = t;
	size_t		outlen = n;
	sp_node    *m;
	yajl_type	kind;

	switch (o->kind)
	{
		case TRIB_J_STRING:
			kind = yajl_t_string;
			out = quote(sp, t, n, &outlen);
			break;
		case TRIB_J_NUMBER:
			kind = yajl_t_number;	/* yajl_gen_number writes it as is */
			break;
		case TRIB_J_BOOL:
			kind = strcmp(t, "true") == 0 ? yajl_t_true : yajl_t_false;
			out = kind == yajl_t_true ? "true" : "false";
			outlen = strlen(out);
			break;
		default:
			kind = yajl_t_null;
			out = "null";
			outlen = 4;
			break;
	}
	splice(im, (size_t) mi, out, outlen);
	m = &im->n[mi];
	m->v = NULL;
	m->kind = kind;
	m->text_off = add_name(im, t, n);
}

/* Member m's scalar value as the text op gets it (trib_jvalue_from_yajl of
 * node_of(m), without the node). */
static void
scalar_of(const sp_img *im, const sp_node *m, trib_jvalue *in)
{
	in->sqltype = NULL;
	switch (m->kind)
	{
		case yajl_t_string:
		case yajl_t_number:
			in->kind = m->kind == yajl_t_string ? TRIB_J_STRING : TRIB_J_NUMBER;
			in->text = im->names.data + m->text_off;
			break;
		case yajl_t_true:
		case yajl_t_false:
			in->kind = TRIB_J_BOOL;
			in->text = m->kind == yajl_t_true ? "true" : "false";
			break;
		default:
			in->kind = TRIB_J_NULL;
			in->text = "null";
			break;
	}
	in->len = strlen(in->text);
}

/* The text op on member mi: RL_SP_TREE when it declines (the node op runs
 * then), else how it went, its result spliced in. */
static rl_sp_result
apply_text(rl_splice *sp, sp_img *im, int mi, rl_sp_text_fn tfn, void *arg)
{
	sp_node    *m = &im->n[mi];
	trib_jvalue in;
	trib_jvalue_buf *out = &sp->out;
	rl_sp_text_res res;

	if (m->v != NULL)
		return RL_SP_TREE;		/* a node an earlier op left: the node op */
	scalar_of(im, m, &in);
	out->kind = TRIB_J_NULL;	/* as zeroed, but the buffer kept */
	out->text.len = 0;
	if (out->text.data != NULL)
		out->text.data[0] = '\0';
	res = tfn(&in, im->names.data + m->name_off, arg, out);
	if (res == RL_SPT_OUT && (out->kind == TRIB_J_OBJECT || out->kind == TRIB_J_ARRAY))
		put_node(sp, im, mi, trib_jvalue_buf_node(out));
	else if (res == RL_SPT_OUT)
		put_scalar(sp, im, mi, out);
	else if (res == RL_SPT_FAIL)
		put_node(sp, im, mi, node_of(im, m));	/* unchanged, as the node op */
	return res == RL_SPT_NODE ? RL_SP_TREE : res == RL_SPT_OUT ? RL_SP_CHANGED : RL_SP_STOP;
}

rl_sp_result
rl_splice_apply_at(rl_splice *sp, int i, int mi, trib_jpath_fn fn,
				   rl_sp_text_fn tfn, void *arg)
{
	sp_img	   *im = &sp->img[i];
	yajl_val	v;
	bool		ok;
	rl_sp_result r;

	if (!im->usable || mi == RL_SP_NOTEXT)
		return RL_SP_TREE;
	if (mi == RL_SP_ABSENT)
		return RL_SP_NONE;
	if (tfn != NULL && (r = apply_text(sp, im, mi, tfn, arg)) != RL_SP_TREE)
		return r;
	v = node_of(im, &im->n[mi]);
	im->n[mi].v = NULL;
	ok = fn(&v, im->names.data + im->n[mi].name_off, arg);
	put_node(sp, im, mi, v);
	return ok ? RL_SP_CHANGED : RL_SP_STOP;
}

const char *
rl_splice_text(const rl_splice *sp, int i)
{
	return sp != NULL && sp->img[i].spliced ? sp->img[i].text : NULL;
}

/* Forget image im's index and the nodes value ops left in it. */
static void
img_forget(sp_img *im)
{
	for (size_t k = 0; k < im->nn; k++)
		if (im->n[k].v)
			yajl_tree_free(im->n[k].v);
	im->nn = 0;
	im->built = im->usable = im->spliced = false;
}

void
rl_splice_reset(rl_splice *sp)
{
	if (sp == NULL)
		return;
	for (int i = 0; i < RL_SPLICE_NIMG; i++)
		img_forget(&sp->img[i]);
}

void
rl_splice_destroy(rl_splice *sp)
{
	if (sp == NULL)
		return;
	rl_splice_reset(sp);
	for (int i = 0; i < RL_SPLICE_NIMG; i++)
	{
		free(sp->img[i].text);
		free(sp->img[i].n);
		free(sp->img[i].ht);
		trib_strbuf_free(&sp->img[i].names);
	}
	yajl_gen_free(sp->g);
	trib_strbuf_free(&sp->lit);
	trib_jvalue_buf_free(&sp->out);
	trib_arena_free(&sp->arena);
	free(sp);
}
