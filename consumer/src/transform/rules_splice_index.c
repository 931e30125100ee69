/*
 * rules_splice_index.c: the index of a row image for the rules' text path
 * (rules_splice.c; what the two files share: rules_splice_int.h).
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
 * A small image (SP_SCAN_MAX members) is scanned instead: building the
 * table cost more than the scans of a few rules' lookups.
 */
#include "rules_splice_int.h"

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

/* Hash every member of im by (parent, name) once per image, so a lookup
 * costs a probe per segment, not a scan of the members; a second member
 * with a name its object already has marks the first one dup.  An image
 * of up to SP_SCAN_MAX members gets no table (htbits 0): a scan of its
 * members per segment costs less than building it (W1's row: 8). */
static void
names_table(sp_img *im)
{
	int			bits = 4;
	size_t		mask;

	if (im->nn <= SP_SCAN_MAX)
	{
		im->htbits = 0;
		return;
	}
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

/* See rules_splice_int.h.  (yajl's parse takes yajl_tree_parse's
 * options: comments allowed.) */
void
sp_img_build(rl_splice *sp, sp_img *im, const char *text, size_t len,
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
