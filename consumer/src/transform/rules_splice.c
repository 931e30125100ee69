/*
 * rules_splice.c: value rules on the row text (see rules_splice.h).
 *
 * Index and names.  An image is first indexed (rules_splice_index.c: its
 * members, their names and the ranges of their values in the compact
 * text, and a hash of (object, name)); a path is then looked up by one
 * probe per segment.  rules_splice_int.h holds what the two files share.
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
 * Equal values.  Under a caller's token (one rule's path, whose text op
 * is a function of the value), the text op's last scalar result and
 * where its input lies in names are kept (sp->same*): a value met again in the
 * next image (the key's column, or an update's unchanged before) is
 * spliced from it without a second call.  FF1 on `id` in W1 ran twice an
 * event, once for `after` and once for the key.  Forgotten per event.
 *
 * Ownership: an rl_splice owns its indexes, texts and the nodes value ops
 * left; rl_splice_reset forgets them between events (keeping the
 * buffers), rl_splice_destroy frees everything.  A node handed to the
 * value op is owned here again when it returns.
 */
#include "rules_splice_int.h"

/* ---- lookups --------------------------------------------------------------- */


/* The member of object `parent` (-1: the image) named seg[0..len), whose
 * name_key is key, by the names' table (or a scan when the image has
 * none): its index, RL_SP_ABSENT, or RL_SP_NOTEXT for duplicate keys. */
static int
member(const sp_img *im, int parent, const char *seg, size_t len, uint32_t key)
{
	size_t		mask = ((size_t) 1 << im->htbits) - 1;

	if (im->htbits == 0)
	{
		int			found = RL_SP_ABSENT;

		for (size_t k = 0; k < im->nn; k++)
			if (im->n[k].name_len == len && (len == 0 || im->names.data[im->n[k].name_off] == seg[0]) &&
				same_name(im, k, parent, seg, len))
			{
				if (found >= 0)
					return RL_SP_NOTEXT;	/* duplicate keys */
				found = (int) k;
			}
		return found;
	}

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

		sp_img_build(sp, &sp->img[i], text, len, ev != NULL ? ev->image_index : NULL, pt);
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

/* Is scalar `in` of member m the one sp->out was made of under token
 * same (rl_splice_apply_at)? */
static bool
same_input(const rl_splice *sp, const sp_node *m, const trib_jvalue *in, const void *same)
{
	if (same == NULL || sp->same != same || sp->same_kind != m->kind)
		return false;
	if (m->kind != yajl_t_string && m->kind != yajl_t_number)
		return true;			/* true, false, null: the kind says it all */
	return sp->same_len == in->len &&
		memcmp(sp->img[sp->same_img].names.data + sp->same_off, in->text, in->len) == 0;
}

/* The text op on member mi: RL_SP_TREE when it declines (the node op runs
 * then), else how it went, its result spliced in.  A scalar result is
 * remembered under token same (when not NULL) for the next member. */
static rl_sp_result
apply_text(rl_splice *sp, sp_img *im, int mi, rl_sp_text_fn tfn, const void *same, void *arg)
{
	sp_node    *m = &im->n[mi];
	trib_jvalue in;
	trib_jvalue_buf *out = &sp->out;
	rl_sp_text_res res;

	if (m->v != NULL)
		return RL_SP_TREE;		/* a node an earlier op left: the node op */
	scalar_of(im, m, &in);
	if (same_input(sp, m, &in, same))
	{
		put_scalar(sp, im, mi, out);	/* what tfn made of it already */
		return RL_SP_CHANGED;
	}
	sp->same = NULL;			/* out is about to change */
	out->kind = TRIB_J_NULL;	/* as zeroed, but the buffer kept */
	out->text.len = 0;
	if (out->text.data != NULL)
		out->text.data[0] = '\0';
	res = tfn(&in, im->names.data + m->name_off, arg, out);
	if (res == RL_SPT_OUT && (out->kind == TRIB_J_OBJECT || out->kind == TRIB_J_ARRAY))
		put_node(sp, im, mi, trib_jvalue_buf_node(out));
	else if (res == RL_SPT_OUT)
	{
		if (same != NULL)
		{
			/* the input's text stays where it is in names (put_scalar
			 * appends the result's); true, false and null have none */
			sp->same = same;
			sp->same_kind = m->kind;
			sp->same_img = (int) (im - sp->img);
			sp->same_off = m->text_off;
			sp->same_len = in.len;
		}
		put_scalar(sp, im, mi, out);
	}
	else if (res == RL_SPT_FAIL)
		put_node(sp, im, mi, node_of(im, m));	/* unchanged, as the node op */
	return res == RL_SPT_NODE ? RL_SP_TREE : res == RL_SPT_OUT ? RL_SP_CHANGED : RL_SP_STOP;
}

rl_sp_result
rl_splice_apply_at(rl_splice *sp, int i, int mi, trib_jpath_fn fn,
				   rl_sp_text_fn tfn, const void *same, void *arg)
{
	sp_img	   *im = &sp->img[i];
	yajl_val	v;
	bool		ok;
	rl_sp_result r;

	if (!im->usable || mi == RL_SP_NOTEXT)
		return RL_SP_TREE;
	if (mi == RL_SP_ABSENT)
		return RL_SP_NONE;
	if (tfn != NULL && (r = apply_text(sp, im, mi, tfn, same, arg)) != RL_SP_TREE)
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
	sp->same = NULL;			/* a result holds within one event */
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
