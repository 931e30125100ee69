/*
 * schema_migrate_stream.c: a plan applied to one row image in one
 * streaming pass (schema_migrate_int.h: trib_migrate_stream), the fast
 * path of schema_migrate_apply.c.
 *
 * Design.  The image is lexed (no tree) by lib/jscan_tokens.h's walk
 * when it is plain JSON (no escapes, no comments: the plugin's usual
 * row), else by yajl's callback parser (lib/yajl_tokens.c), both handing
 * the same tokens to the four handlers here; a walk that meets what jscan
 * does not take starts again from the beginning with yajl.  The walk
 * calls the handlers directly and is told the usual member names ahead
 * (known_name), so they cost one memcmp, not a scan.  It is
 * written as it is lexed, as yajl_gen would write it (compact, no
 * spaces), into the migrator's reused buffer: each top-level member's
 * name has a fate, its name run through the plan's steps (a rename gives
 * its new name, a drop skips the member's tokens, casts are noted and
 * applied to the scalar when it comes), so a member is written once, with
 * its final name.  The fates of the relation's columns are computed with
 * the plan; a member whose name is its position's column's (the usual
 * image) takes that one with one memcmp, any other is computed as it
 * comes.
 *
 * Bytes.  A token's bytes are copied from the image whenever they are
 * what yajl_gen would write: yajl hands a name or string without escapes
 * as a pointer into the image, and its token (quotes included) holds no
 * quote, backslash or control character, the only bytes yajl_gen
 * escapes; numbers keep their text; true, false, null, brackets and the
 * separators are written as yajl_gen writes them.  Only a string that
 * had escapes (decoded by the lexer), a renamed member's name and a
 * cast's result are written anew, and of those only a string holding a
 * byte yajl_gen escapes goes through yajl_gen (the migrator's generator,
 * as a lone string), so no escaping rule is restated here and the pass
 * gives the tree path's bytes (the tree parse and yajl_gen write).  Casts
 * to string and to boolean read only the token's text and run on it; a
 * chain with a cast to a number runs trib_migrate_cast on a node, as the
 * tree path does.
 *
 * Order.  Each member written is a span of the buffer with a rank: its
 * field's index in the target's order (fields the target does not name
 * come after, in their order).  Fields an `add` step creates (absent from
 * the image at that step) are precomputed per plan
 * (trib_migrate_stream_prepare: the default after the later steps, as
 * member text) and placed by rank too.  The spans are sorted by rank
 * unless they come in rank order (the relation's columns already in the
 * target's order) and copied, joined by commas, over the image's own
 * text when the result is no longer than the image (W1's rows: a member
 * dropped, a shorter name, "false" become false), so such an image costs
 * no malloc; a longer result gets a new allocation.  The key image keeps
 * its order (the tree path never reorders it) and gets no added fields.
 *
 * Fallback.  The pass gives up, changing nothing, whenever it would not
 * be byte for byte what the tree path gives: a plan with a `set` step
 * (its Lua reads the whole image so far), a value that a step cannot
 * convert (the tree path then reports it, with its exact message), a cast
 * of a nested value, two members that end with one name or are both
 * dropped (duplicate keys, whose first only the tree path's steps touch,
 * or a rename onto a field that is present), a NUL in a string (the tree
 * path's C strings end there), text that is not a JSON object, or nesting
 * deeper than MAX_DEPTH (yajl_gen refuses 128 levels; the tree path
 * then writes what it writes).  The caller then runs the tree path
 * (schema_migrate_apply.c).
 *
 * Memory: yajl's parser and member names come from the migrator's arena
 * (reset per image), the output buffer, generator and span list are the
 * migrator's and reused.
 */
#include "schema_migrate_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include "yajl_tokens.h"

#include "arena.h"
#include "jscan_tokens.h"
#include "jsondoc.h"
#include "strbuf.h"
#include "xalloc.h"

/* Ranks of members the target does not name, and of added fields. */
#define RANK_EXTRA	((size_t) 1 << 30)
#define RANK_ADDED	((size_t) 1 << 40)

/* The deepest nesting written (a bit per level in mstream.any and arr). */
#define MAX_DEPTH	63

/* The state of one image's pass. */
typedef struct mstream
{
	trib_migrate *m;
	const trib_migrate_plan *p;
	bool		key;			/* the key image: no adds, no reordering */
	trib_strbuf *out;			/* the members' text (the migrator's) */
	int			depth;			/* 1: inside the top-level object */
	uint64_t	any;			/* bit d: level d has an element written */
	uint64_t	arr;			/* bit d: level d is an array */
	bool		closed;			/* the top-level object ended */
	bool		skip;			/* the current member is dropped */
	bool		fallback;		/* give up: the tree path does this image */
	const mig_fate *known;		/* the next name's fate, found by known_name */
	const mig_step *const *casts;	/* the current member's casts, in order */
	size_t		ncasts;
	size_t		nmembers;		/* members met so far */
	size_t		start;			/* where the current member's span began */
	size_t		rank;
	size_t		nextra;			/* members the target does not name */
	const char **extra;			/* their names (duplicates are checked; NULL
								 * until the first) */
	size_t		ndropped;		/* members dropped */
	const char **dropped;		/* their names (duplicates are checked; NULL
								 * until the first) */
	bool	   *seen;			/* per target field: a member has it */
	bool	   *present;		/* per plan step: its field was present */
	trib_arena *arena;
	const char *image;			/* the image's text and length */
	size_t		len;
} mstream;

/* Stop the parse and leave the image to the tree path. */
static int
give_up(mstream *s)
{
	s->fallback = true;
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

/* Append t[0..n) to the output (kept NUL-terminated, as a strbuf). */
static inline void
put(mstream *s, const char *t, size_t n)
{
	trib_strbuf *b = s->out;

	if (b->len + n >= b->cap)
	{
		trib_strbuf_add(b, t, n);
		return;
	}
	memcpy(b->data + b->len, t, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Is t[0..n) a string token of the image, between its quotes there?
 * yajl hands a name or string without escapes so. */
static bool
in_image(const mstream *s, const char *t, size_t n)
{
	return t > s->image && t + n < s->image + s->len && t[-1] == '"' && t[n] == '"';
}

/* Does t[0..n) hold a byte yajl_gen escapes (quote, backslash, control)? */
static bool
needs_escape(const unsigned char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] == '"' || t[i] == '\\' || t[i] < 0x20)
			return true;
	return false;
}

/*
 * String t[0..n) as yajl_gen writes it: a token of the image as it is
 * there (it holds no byte yajl_gen escapes), other text between quotes
 * when it holds none either, else through the migrator's generator.
 * false on a generator error.
 */
static bool
put_string(mstream *s, const char *t, size_t n)
{
	trib_migrate *m = s->m;
	const unsigned char *buf;
	size_t		len;

	if (in_image(s, t, n))
	{
		put(s, t - 1, n + 2);
		return true;
	}
	if (!needs_escape((const unsigned char *) t, n))
	{
		put(s, "\"", 1);
		put(s, t, n);
		put(s, "\"", 1);
		return true;
	}
	if (m->g == NULL && (m->g = yajl_gen_alloc(NULL)) == NULL)
		abort();
	yajl_gen_reset(m->g, NULL);
	yajl_gen_clear(m->g);
	if (yajl_gen_string(m->g, (const unsigned char *) t, n) != yajl_gen_status_ok)
		return false;
	yajl_gen_get_buf(m->g, &buf, &len);
	put(s, (const char *) buf, len);
	return true;
}

/* Before a value: the comma between elements of a nested array. */
static void
sep_value(mstream *s)
{
	uint64_t	bit = (uint64_t) 1 << s->depth;

	if (s->depth < 2 || !(s->arr & bit))
		return;
	if (s->any & bit)
		put(s, ",", 1);
	s->any |= bit;
}

/* ---- members ------------------------------------------------------------ */

/* The rank of final name `name` (NUL-terminated, arena); 0 and a fallback
 * when another member has it already. */
static bool
take_rank(mstream *s, const char *name, size_t *rank)
{
	const trib_migrate_plan *p = s->p;

	for (size_t j = 0; j < p->norder; j++)
		if (strcmp(p->order[j], name) == 0)
		{
			if (s->seen[j])
				return false;
			s->seen[j] = true;
			*rank = j;
			return true;
		}
	for (size_t k = 0; k < s->nextra; k++)
		if (strcmp(s->extra[k], name) == 0)
			return false;
	if (s->extra == NULL)		/* every member could be one */
		s->extra = trib_arena_alloc(s->arena, (s->len / 4 + 2 + p->nsteps) * sizeof(char *));
	s->extra[s->nextra] = name;
	*rank = RANK_EXTRA + s->nextra++;
	return true;
}

/* Note a dropped member's name; false when one of that name was dropped
 * already (duplicate keys: the tree path drops only the first). */
static bool
note_dropped(mstream *s, const char *name)
{
	for (size_t k = 0; k < s->ndropped; k++)
		if (strcmp(s->dropped[k], name) == 0)
			return false;
	if (s->dropped == NULL)		/* every member could be one */
		s->dropped = trib_arena_alloc(s->arena, (s->len / 4 + 2) * sizeof(char *));
	s->dropped[s->ndropped++] = name;
	return true;
}

/* The fate of a member named `name` (NUL-terminated, outliving f): the
 * steps run on its name in order.  f->casts and f->adds point to arrays
 * of p->nsteps the caller gives. */
static void
fate_of(const trib_migrate_plan *p, const char *name, mig_fate *f)
{
	f->in = name;
	f->inlen = strlen(name);
	f->ncasts = f->nadds = 0;
	for (size_t i = 0; i < p->nsteps && name != NULL; i++)
	{
		const mig_step *st = p->steps[i];

		if (strcmp(name, st->field) != 0)
			continue;
		switch (st->c->op)
		{
			case TRIB_MIGRATE_RENAME:
				name = st->c->to;
				break;
			case TRIB_MIGRATE_DROP:
				name = NULL;
				break;
			case TRIB_MIGRATE_CAST:
				f->casts[f->ncasts++] = st;
				break;
			case TRIB_MIGRATE_ADD:
			case TRIB_MIGRATE_SET:
				f->adds[f->nadds++] = i;
				break;
		}
	}
	f->name = name;
	f->rank = -1;
	for (size_t j = 0; name != NULL && j < p->norder; j++)
		if (strcmp(p->order[j], name) == 0)
			f->rank = (long) j;
}

/* The member k[0..n)'s fate: the plan's for the relation's column at this
 * position when the names match (the common case), else computed. */
static const mig_fate *
member_fate(mstream *s, const unsigned char *k, size_t n, mig_fate *tmp)
{
	const trib_migrate_plan *p = s->p;
	size_t		i = s->nmembers++;

	if (i < p->nfates && p->fates[i].inlen == n && memcmp(p->fates[i].in, k, n) == 0)
		return &p->fates[i];
	tmp->casts = trib_arena_alloc(s->arena, (p->nsteps + 1) * sizeof(*tmp->casts));
	tmp->adds = trib_arena_alloc(s->arena, (p->nsteps + 1) * sizeof(*tmp->adds));
	fate_of(p, trib_arena_strndup(s->arena, (const char *) k, n), tmp);
	return tmp;
}

static int	begin_fated(mstream *s, const unsigned char *k, size_t n, const mig_fate *f);

/* A member's name k[0..n): its fate, then its final name written (unless
 * dropped; the image's bytes when it keeps its name) and its span
 * opened. */
static int
begin_member(mstream *s, const unsigned char *k, size_t n)
{
	mig_fate	tmp;

	return begin_fated(s, k, n, member_fate(s, k, n, &tmp));
}

/* begin_member with the member's fate f known. */
static int
begin_fated(mstream *s, const unsigned char *k, size_t n, const mig_fate *f)
{
	for (size_t i = 0; i < f->nadds; i++)
		s->present[f->adds[i]] = true;
	s->skip = f->name == NULL;
	s->casts = f->casts;
	s->ncasts = f->ncasts;
	if (s->skip)
		return note_dropped(s, f->in) ? 1 : give_up(s);
	if (f->rank >= 0)
	{
		if (s->seen[f->rank])
			return give_up(s);
		s->seen[f->rank] = true;
		s->rank = (size_t) f->rank;
	}
	else if (!take_rank(s, f->name, &s->rank))
		return give_up(s);
	if (s->key)
		s->rank = s->m->nspans; /* the key keeps its order */
	s->start = s->out->len;
	if (f->name == f->in && in_image(s, (const char *) k, n))
		put(s, (const char *) k - 1, n + 2);
	else if (!put_string(s, f->name, strlen(f->name)))
		return give_up(s);
	put(s, ":", 1);
	return 1;
}

/* Room for one more span. */
static mig_span *
new_span(trib_migrate *m)
{
	m->spans = trib_xgrow(m->spans, m->nspans, &m->capspans, sizeof(mig_span), 16);
	return &m->spans[m->nspans++];
}

/* The current member's value has ended: close its span. */
static void
end_member(mstream *s)
{
	mig_span   *sp;

	if (s->skip)
	{
		s->skip = false;
		return;
	}
	sp = new_span(s->m);
	sp->rank = s->rank;
	sp->text = NULL;
	sp->off = s->start;
	sp->len = s->out->len - s->start;
}

/* ---- tokens ------------------------------------------------------------- */

/* A scalar token as yajl_gen writes it. */
static bool
put_token(mstream *s, yajl_type type, const char *t, size_t n)
{
	switch (type)
	{
		case yajl_t_string:
			return put_string(s, t, n);
		case yajl_t_number:
			put(s, t, n);
			return true;
		case yajl_t_true:
			put(s, "true", 4);
			return true;
		case yajl_t_false:
			put(s, "false", 5);
			return true;
		default:
			put(s, "null", 4);
			return true;
	}
}

/* A scalar node (a cast's result) as yajl_gen writes it. */
static bool
put_node(mstream *s, yajl_val v)
{
	const char *t = trib_jdoc_scalar_text(v);

	if (YAJL_IS_OBJECT(v) || YAJL_IS_ARRAY(v))
		return false;			/* casts give scalars */
	return put_token(s, v->type, t, t != NULL ? strlen(t) : 0);
}

/* The current member's scalar (at depth 1) through its casts, written;
 * v is the token as a node (on the stack, its text in the arena). */
static bool
put_cast(mstream *s, yajl_val v)
{
	yajl_val	cur = v;
	bool		ok;

	for (size_t i = 0; i < s->ncasts && !YAJL_IS_NULL(v); i++)
	{
		const char *why = NULL;
		yajl_val	nv = trib_migrate_cast(cur, s->casts[i]->c->as, &why);

		if (cur != v)
			yajl_tree_free(cur);
		if ((cur = nv) == NULL)
			return false;
	}
	ok = put_node(s, cur);
	if (cur != v)
		yajl_tree_free(cur);
	return ok;
}

/* A scalar token of a member with casts, as a node for put_cast. */
static bool
cast_nodes(mstream *s, yajl_type type, const char *t, size_t n)
{
	struct yajl_val_s v = {.type = type};

	if (type == yajl_t_number)
		v.u.number.r = trib_arena_strndup(s->arena, t, n);
	else if (type == yajl_t_string)
		v.u.string = trib_arena_strndup(s->arena, t, n);
	return put_cast(s, &v);
}

/* Is t[0..n) the text w? */
static bool
text_is(const char *t, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(t, w, n) == 0;
}

/*
 * The current member's scalar token through its casts, written.  Casts
 * to string and to boolean read only the scalar's text: they run on the
 * token as trib_migrate_cast runs them on a node, with no node; a chain
 * with a cast to a number takes the nodes (put_cast).  false when a cast
 * refuses the value.
 */
static bool
cast_token(mstream *s, yajl_type type, const char *t, size_t n)
{
	yajl_type	ty = type;
	const char *x = t;
	size_t		xn = n;

	for (size_t i = 0; i < s->ncasts && ty != yajl_t_null; i++)
	{
		trib_cast_to as = s->casts[i]->c->as;

		if (ty == yajl_t_true || ty == yajl_t_false)
		{
			x = ty == yajl_t_true ? "true" : "false";
			xn = strlen(x);
		}
		if (as == TRIB_CAST_STRING)
			ty = yajl_t_string;
		else if (as != TRIB_CAST_BOOLEAN)
			return cast_nodes(s, type, t, n);
		else if (text_is(x, xn, "true") || text_is(x, xn, "t") || text_is(x, xn, "1"))
			ty = yajl_t_true;
		else if (text_is(x, xn, "false") || text_is(x, xn, "f") || text_is(x, xn, "0"))
			ty = yajl_t_false;
		else
			return false;
	}
	return put_token(s, ty, x, xn);
}

/* A scalar token: copied, cast, or skipped with its dropped member. */
static int
scalar_token(mstream *s, yajl_type type, const char *t, size_t n)
{
	if (type == yajl_t_string && !in_image(s, t, n) && memchr(t, '\0', n) != NULL)
		return give_up(s);		/* the tree path's C strings end there */
	if (s->depth == 0)
		return give_up(s);		/* not an object */
	if (!s->skip)
	{
		bool		ok;

		sep_value(s);
		ok = s->depth == 1 && s->ncasts > 0 ? cast_token(s, type, t, n)
			: put_token(s, type, t, n);
		if (!ok)
			return give_up(s);
	}
	if (s->depth == 1)
		end_member(s);
	return 1;
}

/* The scalar handler: a member's value without casts is written as it
 * stands in the image (put_token's bytes, without its dispatch; small, so
 * that the walk inlines it), any other goes to scalar_token. */
static inline int
on_scalar(void *ctx, yajl_type type, const char *t, size_t n)
{
	mstream    *s = ctx;

	if (s->depth != 1 || s->ncasts > 0 || (type == yajl_t_string && !in_image(s, t, n)))
		return scalar_token(s, type, t, n);
	if (!s->skip)
		put(s, type == yajl_t_string ? t - 1 : t, type == yajl_t_string ? n + 2 : n);
	end_member(s);
	return 1;
}

/* An object or array opens: the top level, or a nested value. */
static int
open_nested(void *ctx, bool array)
{
	mstream    *s = ctx;
	uint64_t	bit;

	if (s->depth == 0)
	{
		s->depth = 1;
		return array ? give_up(s) : 1;
	}
	if (s->skip)
	{
		s->depth++;
		return 1;
	}
	if ((s->depth == 1 && s->ncasts > 0) || s->depth >= MAX_DEPTH)
		return give_up(s);		/* a cast of a nested value; too deep */
	sep_value(s);
	put(s, array ? "[" : "{", 1);
	bit = (uint64_t) 1 << ++s->depth;
	s->any &= ~bit;
	s->arr = array ? s->arr | bit : s->arr & ~bit;
	return 1;
}

/* An object or array closes. */
static int
close_nested(void *ctx, bool array)
{
	mstream    *s = ctx;

	if (--s->depth == 0)
	{
		s->closed = true;
		return 1;
	}
	if (!s->skip)
		put(s, array ? "]" : "}", 1);
	if (s->depth == 1)
		end_member(s);
	return 1;
}

/* A member's name: a top-level member's begins it, a nested one is
 * written after its separator. */
static int
on_key(void *ctx, const unsigned char *k, size_t n)
{
	mstream    *s = ctx;
	uint64_t	bit;

	if (s->known != NULL)
	{
		const mig_fate *f = s->known;

		s->known = NULL;
		s->nmembers++;
		return begin_fated(s, k, n, f);
	}
	if (!in_image(s, (const char *) k, n) && memchr(k, '\0', n) != NULL)
		return give_up(s);
	if (s->depth == 1)
		return begin_member(s, k, n);
	if (s->skip)
		return 1;				/* a dropped value's depth has no bit */
	bit = (uint64_t) 1 << s->depth;
	if (s->any & bit)
		put(s, ",", 1);
	s->any |= bit;
	if (!put_string(s, (const char *) k, n))
		return give_up(s);
	put(s, ":", 1);
	return 1;
}

static const trib_ytok_ops stream_ops = {on_scalar, on_key, open_nested, close_nested};

/*
 * The walk's KNOWN: a top-level member's name that is the relation's
 * column at its place (the usual image) is recognised by one memcmp,
 * which also checks its text (a plain name is valid JSON as it stands),
 * and its fate kept for on_key; anything else is scanned.
 */
static size_t
known_name(void *ctx, const trib_jscan *sc)
{
	mstream    *s = ctx;
	const mig_fate *f;

	if (s->depth != 1 || s->nmembers >= s->p->nfates)
		return 0;
	f = &s->p->fates[s->nmembers];
	if (!f->plain || f->inlen == 0 || sc->len - sc->i < f->inlen + 2 ||
		sc->s[sc->i + 1 + f->inlen] != '"' || memcmp(sc->s + sc->i + 1, f->in, f->inlen) != 0)
		return 0;
	s->known = f;
	return f->inlen;
}

/* The lexer of plain images: lib/jscan_tokens.h's walk with the handlers
 * above called directly. */
TRIB_JSTOK_WALKER(lex_plain, on_scalar, on_key, open_nested, close_nested, known_name)

/* ---- the image ---------------------------------------------------------- */

/* The fields `add` steps create (those absent at their step) as spans;
 * false when one of them is not streamable. */
static bool
add_fields(mstream *s)
{
	const trib_migrate_plan *p = s->p;

	for (size_t i = 0; i < p->nsteps; i++)
	{
		const mig_added *a = &p->added[i];
		mig_span   *sp;

		if (p->steps[i]->c->op != TRIB_MIGRATE_ADD || s->present[i])
			continue;
		if (a->bad)
			return false;
		for (size_t j = i + 1; j < p->nsteps; j++)
			if (a->name_at[j] != NULL && strcmp(a->name_at[j], p->steps[j]->field) == 0)
				s->present[j] = true;
		if (a->name == NULL)
			continue;			/* dropped by a later step */
		if (!take_rank(s, a->name, &s->rank))
			return false;
		sp = new_span(s->m);
		sp->rank = s->rank < RANK_EXTRA ? s->rank : RANK_ADDED + i;
		sp->text = a->text;
		sp->off = 0;
		sp->len = strlen(a->text);
	}
	return true;
}

/* Order spans by rank (few: insertion sort, stable). */
static void
sort_spans(mig_span *sp, size_t n)
{
	for (size_t i = 1; i < n; i++)
	{
		mig_span	t = sp[i];
		size_t		j = i;

		for (; j > 0 && sp[j - 1].rank > t.rank; j--)
			sp[j] = sp[j - 1];
		sp[j] = t;
	}
}

/* The members in rank order, joined, as the image's new text: written
 * over *text (n bytes and its NUL) when it fits, else in a new
 * allocation that replaces it. */
static void
assemble(trib_migrate *m, char **text, size_t n)
{
	size_t		total = 2 + (m->nspans > 0 ? m->nspans - 1 : 0);
	bool		sorted = true;
	char	   *out,
			   *w;

	for (size_t i = 0; i < m->nspans; i++)
	{
		total += m->spans[i].len;
		sorted = sorted && (i == 0 || m->spans[i - 1].rank < m->spans[i].rank);
	}
	if (!sorted)
		sort_spans(m->spans, m->nspans);
	out = w = total <= n ? *text : trib_xmalloc(total + 1);
	*w++ = '{';
	for (size_t i = 0; i < m->nspans; i++)
	{
		const mig_span *sp = &m->spans[i];

		if (i > 0)
			*w++ = ',';
		memcpy(w, sp->text ? sp->text : m->scratch.data + sp->off, sp->len);
		w += sp->len;
	}
	*w++ = '}';
	*w = '\0';
	if (out != *text)
	{
		free(*text);
		*text = out;
	}
}

/* A fresh pass over `text` (n bytes): the migrator's scratch emptied. */
static void
start_pass(mstream *s, trib_migrate *m, const trib_migrate_plan *p, const char *text,
		   size_t n, bool key)
{
	trib_arena_reset(&m->arena);
	m->nspans = 0;
	m->scratch.len = 0;
	*s = (mstream) {0};
	s->m = m;
	s->p = p;
	s->key = key;
	s->out = &m->scratch;
	s->arena = &m->arena;
	s->image = text;
	s->len = n;
	s->present = trib_arena_alloc(&m->arena, p->nsteps + 1);
	memset(s->present, 0, p->nsteps + 1);
	s->seen = trib_arena_alloc(&m->arena, p->norder + 1);
	memset(s->seen, 0, p->norder + 1);
}

/* The pass with yajl's lexer (text that jscan does not take); true when
 * the whole image was one object and no handler gave up. */
static bool
yajl_pass(mstream *s)
{
	trib_ytok	tok = {&stream_ops, s};
	yajl_alloc_funcs funcs;
	yajl_handle h;
	bool		ok;

	trib_arena_yajl_funcs(s->arena, &funcs);
	if ((h = trib_ytok_alloc(&tok, &funcs)) == NULL)
		abort();
	yajl_config(h, yajl_allow_comments, 1);	/* as yajl_tree_parse */
	ok = yajl_parse(h, (const unsigned char *) s->image, s->len) == yajl_status_ok &&
		yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	return ok;
}

/* See schema_migrate_int.h. */
bool
trib_migrate_stream(trib_migrate *m, const trib_migrate_plan *p, char **text, bool key)
{
	mstream		s;
	trib_jscan	sc;
	size_t		n = strlen(*text);
	bool		ok,
				scanned = false;

	if (p->tree_only && !key)
		return false;
	start_pass(&s, m, p, *text, n, key);
	sc = (trib_jscan) {(const unsigned char *) *text, n, 0};
	switch (lex_plain(&sc, &s))
	{
		case TRIB_JSTOK_OK:
			ok = scanned = true;
			break;
		case TRIB_JSTOK_STOPPED:
			ok = false;
			break;
		default:
			start_pass(&s, m, p, *text, n, key);	/* again, from the start */
			ok = yajl_pass(&s);
			break;
	}
	if (!ok || !s.closed || s.fallback || (!key && !add_fields(&s)))
		return false;
	assemble(m, text, n);
	m->nscanned += scanned;
	return true;
}

/* The field a step names, through the steps after step i (NULL: dropped),
 * into a->name_at[] and a->name; the default's value through their casts
 * into a->text (a->bad when a cast refuses it). */
static void
prepare_added(const trib_migrate_plan *p, size_t i, mig_added *a)
{
	const char *name = p->steps[i]->field;
	yajl_val	v = trib_jdoc_parse(p->steps[i]->c->def, NULL, 0);
	trib_strbuf b = {0};
	char	   *dump;

	a->name_at = trib_xcalloc(p->nsteps + 1, sizeof(char *));
	if (v == NULL)
	{
		a->bad = true;
		return;
	}
	for (size_t j = i + 1; j < p->nsteps && name != NULL; j++)
	{
		const mig_step *st = p->steps[j];
		const char *why;

		a->name_at[j] = name;
		if (strcmp(name, st->field) != 0)
			continue;
		if (st->c->op == TRIB_MIGRATE_RENAME)
			name = st->c->to;
		else if (st->c->op == TRIB_MIGRATE_DROP)
			name = NULL;
		else if (st->c->op == TRIB_MIGRATE_CAST && !YAJL_IS_NULL(v))
		{
			yajl_val	nv = trib_migrate_cast(v, st->c->as, &why);

			yajl_tree_free(v);
			if ((v = nv) == NULL)
			{
				a->bad = true;
				return;
			}
		}
	}
	a->name = name;
	if (name != NULL)
	{
		trib_jdoc_quote(&b, name);
		trib_strbuf_addc(&b, ':');
		dump = trib_jdoc_dump(v);
		trib_strbuf_adds(&b, dump);
		free(dump);
		a->text = trib_strbuf_finish(&b);
	}
	yajl_tree_free(v);
}

/* See schema_migrate_int.h. */
void
trib_migrate_stream_prepare(trib_migrate_plan *p, const trib_relation *rel)
{
	p->fates = trib_xcalloc((size_t) rel->ncolumns + 1, sizeof(mig_fate));
	for (int i = 0; i < rel->ncolumns; i++)
	{
		mig_fate   *f = &p->fates[i];

		f->casts = trib_xcalloc(p->nsteps + 1, sizeof(*f->casts));
		f->adds = trib_xcalloc(p->nsteps + 1, sizeof(*f->adds));
		fate_of(p, trib_xstrdup(rel->columns[i].name), f);
		f->plain = true;
		for (size_t j = 0; j < f->inlen; j++)
		{
			unsigned char c = (unsigned char) f->in[j];

			if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
				f->plain = false;
		}
		p->nfates++;
	}
	p->added = trib_xcalloc(p->nsteps + 1, sizeof(mig_added));
	for (size_t i = 0; i < p->nsteps; i++)
	{
		if (p->steps[i]->c->op == TRIB_MIGRATE_SET)
			p->tree_only = true;
		if (p->steps[i]->c->op == TRIB_MIGRATE_ADD)
			prepare_added(p, i, &p->added[i]);
	}
}

/* See schema_migrate_int.h. */
void
trib_migrate_stream_release(trib_migrate_plan *p)
{
	for (size_t i = 0; p->added != NULL && i < p->nsteps; i++)
	{
		free(p->added[i].name_at);
		free(p->added[i].text);
	}
	free(p->added);
	p->added = NULL;
	for (size_t i = 0; i < p->nfates; i++)
	{
		free((char *) p->fates[i].in);
		free(p->fates[i].casts);
		free(p->fates[i].adds);
	}
	free(p->fates);
	p->fates = NULL;
	p->nfates = 0;
}
