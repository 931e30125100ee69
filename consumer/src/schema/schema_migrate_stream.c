/*
 * schema_migrate_stream.c: a plan applied to one row image in one
 * streaming pass (schema_migrate_int.h: trib_migrate_stream), the fast
 * path of schema_migrate_apply.c.
 *
 * Design.  The image is lexed by yajl's callback parser (no tree;
 * lib/yajl_tokens.c hands its tokens to the four handlers here) and
 * written by one yajl_gen as it is lexed: each top-level member's name
 * has a fate, its name run through the plan's steps (a rename gives its
 * new name, a drop skips the member's tokens, casts are noted and applied
 * to the scalar when it comes), so a member is written once, with its
 * final name, and its value's tokens are copied through the generator.
 * The fates of the relation's columns are computed with the plan; a
 * member whose name is its position's column's (the usual image) takes
 * that one with one memcmp, any other is computed as it comes.  Strings
 * with escapes are decoded by the lexer and encoded again by the
 * generator, strings without are copied as they are (the same bytes), and
 * numbers keep their text, exactly as the tree parse and yajl_gen write
 * of the tree path do, so the two paths give the same bytes.
 *
 * Order.  Each member written is a span of the generator's buffer with a
 * rank: its field's index in the target's order (fields the target does
 * not name come after, in their order).  When the spans come in rank
 * order, which is the case when the relation's columns are already in the
 * target's order, the buffer is the image; otherwise the spans are copied
 * into the target's order (memcpy, no re-encoding).  Fields an `add` step
 * creates (absent from the image at that step) are precomputed per plan
 * (trib_migrate_stream_prepare: the default after the later steps, as
 * member text) and placed by rank too.  The key image keeps its order
 * (the tree path never reorders it) and gets no added fields.
 *
 * Fallback.  The pass gives up, changing nothing, whenever it would not
 * be byte for byte what the tree path gives: a plan with a `set` step
 * (its Lua reads the whole image so far), a value that a step cannot
 * convert (the tree path then reports it, with its exact message), a cast
 * of a nested value, two members that end with one name or are both
 * dropped (duplicate keys, whose first only the tree path's steps touch,
 * or a rename onto a field that is present), a NUL in a string (the tree
 * path's C strings end there), text that is not a JSON object, or a
 * generator error (nesting deeper than yajl_gen allows).
 * The caller then runs the tree path (schema_migrate_apply.c).
 *
 * Memory: yajl's parser and member names come from the migrator's arena
 * (reset per image), the generator and span list are the migrator's and
 * reused; the one allocation per image is the image's new text.
 */
#include "schema_migrate_int.h"

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include "yajl_tokens.h"

#include "arena.h"
#include "jsondoc.h"
#include "strbuf.h"
#include "xalloc.h"

/* Ranks of members the target does not name, and of added fields. */
#define RANK_EXTRA	((size_t) 1 << 30)
#define RANK_ADDED	((size_t) 1 << 40)

/* The state of one image's pass. */
typedef struct mstream
{
	trib_migrator *m;
	const trib_migrate_plan *p;
	bool		key;			/* the key image: no adds, no reordering */
	yajl_gen	g;
	int			depth;			/* 1: inside the top-level object */
	bool		closed;			/* the top-level object ended */
	bool		skip;			/* the current member is dropped */
	bool		fallback;		/* give up: the tree path does this image */
	const mig_step *const *casts;	/* the current member's casts, in order */
	size_t		ncasts;
	size_t		nmembers;		/* members met so far */
	size_t		start;			/* where the current member's span began */
	size_t		rank;
	size_t		nextra;			/* members the target does not name */
	const char **extra;			/* their names (duplicates are checked) */
	size_t		ndropped;		/* members dropped */
	const char **dropped;		/* their names (duplicates are checked) */
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

/* A generator status: 1 to go on, 0 (falling back) on an error. */
static int
gen_ok(mstream *s, yajl_gen_status st)
{
	return st == yajl_gen_status_ok ? 1 : give_up(s);
}

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

/* A member's name k[0..n): its fate, then its final name written (unless
 * dropped) and its span opened. */
static int
begin_member(mstream *s, const unsigned char *k, size_t n)
{
	mig_fate	tmp;
	const mig_fate *f = member_fate(s, k, n, &tmp);
	const unsigned char *buf;
	size_t		len;

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
	yajl_gen_get_buf(s->g, &buf, &s->start);
	if (!gen_ok(s, yajl_gen_string(s->g, (const unsigned char *) f->name, strlen(f->name))))
		return 0;
	yajl_gen_get_buf(s->g, &buf, &len);
	if (buf[s->start] == ',')
		s->start++;
	return 1;
}

/* The current member's value has ended: close its span. */
static void
end_member(mstream *s)
{
	const unsigned char *buf;
	size_t		len;
	mig_span   *sp;

	if (s->skip)
	{
		s->skip = false;
		return;
	}
	yajl_gen_get_buf(s->g, &buf, &len);
	if (s->m->nspans == s->m->capspans)
	{
		s->m->capspans = s->m->capspans ? s->m->capspans * 2 : 16;
		s->m->spans = trib_xrealloc(s->m->spans, s->m->capspans * sizeof(mig_span));
	}
	sp = &s->m->spans[s->m->nspans++];
	sp->rank = s->rank;
	sp->text = NULL;
	sp->off = s->start;
	sp->len = len - s->start;
}

/* A scalar of the current member at depth 1 with casts: v through them. */
static int
cast_scalar(mstream *s, yajl_val v)
{
	yajl_val	cur = v;
	int			ok;

	for (size_t i = 0; i < s->ncasts && !YAJL_IS_NULL(v); i++)
	{
		const char *why = NULL;
		yajl_val	nv = trib_migrate_cast(cur, s->casts[i]->c->as, &why);

		if (cur != v)
			yajl_tree_free(cur);
		if ((cur = nv) == NULL)
			return give_up(s);
	}
	ok = trib_jdoc_gen(s->g, cur) ? 1 : give_up(s);
	if (cur != v)
		yajl_tree_free(cur);
	return ok;
}

/* Before a scalar: 1 to write it, 0 to stop, -1 when it was handled
 * (dropped, or cast: *v built by the caller's `make` only then). */
static int
scalar_begin(mstream *s)
{
	if (s->depth == 0)
		return give_up(s);		/* not an object */
	if (s->skip)
	{
		if (s->depth == 1)
			end_member(s);
		return -1;
	}
	return 1;
}

/* After a scalar was written (ok: the generator's status). */
static int
scalar_end(mstream *s, int ok)
{
	if (ok && s->depth == 1)
		end_member(s);
	return ok;
}

/* A scalar v (on the stack, its text in the arena). */
static int
scalar(mstream *s, yajl_val v)
{
	int			r = scalar_begin(s);

	if (r <= 0)
		return r < 0;
	if (s->depth == 1 && s->ncasts > 0)
		return scalar_end(s, cast_scalar(s, v));
	return scalar_end(s, trib_jdoc_gen(s->g, v) ? 1 : give_up(s));
}

/* Is the current scalar one a cast must see (as a yajl_val)? */
static bool
casting(const mstream *s)
{
	return s->depth == 1 && s->ncasts > 0 && !s->skip;
}

/* A number, its text t[0..n). */
static int
put_number(mstream *s, const char *t, size_t n)
{
	struct yajl_val_s v = {.type = yajl_t_number};
	int			r;

	if (casting(s))
	{
		v.u.number.r = trib_arena_strndup(s->arena, t, n);
		return scalar(s, &v);
	}
	if ((r = scalar_begin(s)) <= 0)
		return r < 0;
	return scalar_end(s, gen_ok(s, yajl_gen_number(s->g, t, n)));
}

/*
 * A string value t[0..n).  yajl hands a string without escapes as a
 * pointer into the image; its token (quotes included) is then exactly what
 * yajl_gen_string would write (an unescaped string holds no quote,
 * backslash or control character, and yajl_gen escapes nothing else), so
 * it is copied as is, through yajl_gen_number, which writes any token
 * text with the separators.  A decoded string is encoded again.
 */
static yajl_gen_status
put_string(mstream *s, const unsigned char *t, size_t n)
{
	const char *p = (const char *) t;

	if (p > s->image && p + n < s->image + s->len && p[-1] == '"' && p[n] == '"')
		return yajl_gen_number(s->g, p - 1, n + 2);
	return yajl_gen_string(s->g, t, n);
}

/* A string value t[0..n). */
static int
on_string(mstream *s, const unsigned char *t, size_t n)
{
	struct yajl_val_s v = {.type = yajl_t_string};
	int			r;

	if (memchr(t, '\0', n) != NULL)
		return give_up(s);		/* the tree path's C strings end there */
	if (casting(s))
	{
		v.u.string = trib_arena_strndup(s->arena, (const char *) t, n);
		return scalar(s, &v);
	}
	if ((r = scalar_begin(s)) <= 0)
		return r < 0;
	return scalar_end(s, gen_ok(s, put_string(s, t, n)));
}

/* A scalar token: null, true and false are written (or cast) from
 * their type, numbers and strings from their text. */
static int
on_scalar(void *ctx, yajl_type type, const char *t, size_t n)
{
	struct yajl_val_s v = {.type = type};

	if (type == yajl_t_number)
		return put_number(ctx, t, n);
	if (type == yajl_t_string)
		return on_string(ctx, (const unsigned char *) t, n);
	return scalar(ctx, &v);
}

/* An object or array opens: the top level, or a nested value. */
static int
open_nested(void *ctx, bool array)
{
	mstream    *s = ctx;
	bool		map = !array;

	if (s->depth == 0)
	{
		s->depth = 1;
		return map ? gen_ok(s, yajl_gen_map_open(s->g)) : give_up(s);
	}
	if (s->depth++ == 1 && s->ncasts > 0 && !s->skip)
		return give_up(s);		/* a cast of a nested value */
	if (s->skip)
		return 1;
	return gen_ok(s, map ? yajl_gen_map_open(s->g) : yajl_gen_array_open(s->g));
}

/* An object or array closes. */
static int
close_nested(void *ctx, bool array)
{
	mstream    *s = ctx;
	bool		map = !array;

	if (--s->depth == 0)
	{
		s->closed = true;
		return 1;
	}
	if (!s->skip &&
		!gen_ok(s, map ? yajl_gen_map_close(s->g) : yajl_gen_array_close(s->g)))
		return 0;
	if (s->depth == 1)
		end_member(s);
	return 1;
}

static int
on_key(void *ctx, const unsigned char *k, size_t n)
{
	mstream    *s = ctx;

	if (memchr(k, '\0', n) != NULL)
		return give_up(s);
	if (s->depth == 1)
		return begin_member(s, k, n);
	return s->skip ? 1 : gen_ok(s, yajl_gen_string(s->g, k, n));
}

static const trib_ytok_ops stream_ops = {on_scalar, on_key, open_nested, close_nested};

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
		if (s->m->nspans == s->m->capspans)
		{
			s->m->capspans = s->m->capspans ? s->m->capspans * 2 : 16;
			s->m->spans = trib_xrealloc(s->m->spans, s->m->capspans * sizeof(mig_span));
		}
		if (!take_rank(s, a->name, &s->rank))
			return false;
		sp = &s->m->spans[s->m->nspans++];
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

/* The image's text from the generator's buffer and the spans (malloc'd). */
static char *
assemble(trib_migrator *m)
{
	const unsigned char *buf;
	size_t		len;
	bool		sorted = true;

	yajl_gen_get_buf(m->g, &buf, &len);
	for (size_t i = 0; i < m->nspans; i++)
		sorted = sorted && m->spans[i].text == NULL && (i == 0 || m->spans[i - 1].rank < m->spans[i].rank);
	if (sorted)
	{
		char	   *out = trib_xmalloc(len + 2);

		memcpy(out, buf, len);
		out[len] = '}';
		out[len + 1] = '\0';
		return out;
	}
	sort_spans(m->spans, m->nspans);
	m->scratch.len = 0;
	trib_strbuf_addc(&m->scratch, '{');
	for (size_t i = 0; i < m->nspans; i++)
	{
		const mig_span *sp = &m->spans[i];

		if (i > 0)
			trib_strbuf_addc(&m->scratch, ',');
		trib_strbuf_add(&m->scratch, sp->text ? sp->text : (const char *) buf + sp->off, sp->len);
	}
	trib_strbuf_addc(&m->scratch, '}');
	return trib_xstrndup(m->scratch.data, m->scratch.len);
}

/* See schema_migrate_int.h. */
bool
trib_migrate_stream(trib_migrator *m, const trib_migrate_plan *p, char **text, bool key)
{
	mstream		s = {0};
	trib_ytok	tok = {&stream_ops, &s};
	yajl_alloc_funcs funcs;
	yajl_handle h;
	size_t		n = strlen(*text);
	bool		ok;

	if (p->tree_only && !key)
		return false;
	if (m->g == NULL && (m->g = yajl_gen_alloc(NULL)) == NULL)
		abort();
	yajl_gen_reset(m->g, NULL);
	yajl_gen_clear(m->g);
	trib_arena_reset(&m->arena);
	m->nspans = 0;
	s.m = m;
	s.p = p;
	s.key = key;
	s.g = m->g;
	s.arena = &m->arena;
	s.image = *text;
	s.len = n;
	s.present = trib_arena_alloc(&m->arena, p->nsteps + 1);
	memset(s.present, 0, p->nsteps + 1);
	s.seen = trib_arena_alloc(&m->arena, p->norder + 1);
	memset(s.seen, 0, p->norder + 1);
	/* every member could be one the target does not name */
	s.extra = trib_arena_alloc(&m->arena, (n / 4 + 2 + p->nsteps) * sizeof(char *));
	s.dropped = trib_arena_alloc(&m->arena, (n / 4 + 2) * sizeof(char *));
	trib_arena_yajl_funcs(&m->arena, &funcs);
	if ((h = trib_ytok_alloc(&tok, &funcs)) == NULL)
		abort();
	yajl_config(h, yajl_allow_comments, 1);	/* as yajl_tree_parse */
	ok = yajl_parse(h, (const unsigned char *) *text, n) == yajl_status_ok &&
		yajl_complete_parse(h) == yajl_status_ok && s.closed && !s.fallback;
	yajl_free(h);
	if (!ok || (!key && !add_fields(&s)))
		return false;
	free(*text);
	*text = assemble(m);
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
