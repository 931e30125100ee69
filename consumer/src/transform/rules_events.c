/*
 * rules_events.c: rules that decide about whole events: sample (keep a
 * deterministic share, by a keyed hash of one field so related tables
 * agree), route (a topic or table from a template, or from a Lua
 * expression: rules_lua.c) and flatten (the Kafka value becomes the row
 * state).
 *
 * A route template that reads a field a later masking rule masks is
 * refused when the rules are compiled (rl_route_check_order): the clear
 * value would name the topic.  Table and source globs are compared with
 * each other, so two selections that may meet count as one; a Lua route
 * is not checked (what it reads is known only at run time).
 */
#include "rules_events.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "rules_lua.h"
#include "xalloc.h"

/* The key `sample` uses without a configured one: public, so anyone can
 * recompute the sample; set a key to make it unpredictable. */
#define SAMPLE_DEFAULT_KEY "tributary-sample-v1"

/* The text sample decides on: `by`, or the key's only value, or the key. */
static const char *
sample_input(rl_evctx *x, const rl_rule *r, char **tofree, char *errbuf, size_t errlen)
{
	yajl_val	k;

	*tofree = NULL;
	if (r->has_by)
		return rl_row_value(x, &r->by, errbuf, errlen);
	if (!rl_img_all(x, errbuf, errlen))
		return NULL;
	k = x->img[IMG_KEY];
	if (k != NULL && YAJL_IS_OBJECT(k) && k->u.object.len == 1 &&
		trib_jdoc_scalar_text(k->u.object.values[0]) != NULL)
		return trib_jdoc_scalar_text(k->u.object.values[0]);
	if (k != NULL)
		return *tofree = trib_jdoc_dump(k);
	if (x->ev->after || x->ev->before)
		return x->ev->after ? x->ev->after : x->ev->before;
	return NULL;
}

/*
 * The sample's MAC of in: HMAC-SHA256(key, BE32(6) || "sample" || in),
 * under the rule's key or SAMPLE_DEFAULT_KEY (docs/MASKING.md).
 */
static void
sample_mac(const trib_hmac *base, const char *in, unsigned char d[TRIB_HMAC_LEN])
{
	static const char ctx[] = "sample";
	trib_hmac_ctx *h = trib_hmac_start(base);

	if (h == NULL || !trib_hmac_update_be32(h, sizeof(ctx) - 1) ||
		!trib_hmac_update(h, ctx, sizeof(ctx) - 1) || !trib_hmac_update(h, in, strlen(in)) ||
		!trib_hmac_final(h, d))
		abort();
}

/* The MAC keyed once, and the threshold of the percentage. */
static bool
init_sample(trib_rules *rs, rl_rule *r, char *errbuf, size_t errlen)
{
	long double pct = strtold(r->c->percent, NULL);

	(void) rs;
	if (!rl_rule_key(r, errbuf, errlen))
		return false;
	r->mac = r->key ? trib_hmac_new(r->key->bytes, r->key->len)
		: trib_hmac_new(SAMPLE_DEFAULT_KEY, strlen(SAMPLE_DEFAULT_KEY));
	if (r->mac == NULL)
		abort();
	r->keep_all = pct >= 100.0L;
	r->threshold = (uint64_t) (pct / 100.0L * 18446744073709551616.0L);
	return true;
}

static void
free_sample(rl_rule *r)
{
	trib_hmac_free(r->mac);
	r->mac = NULL;
}

static trib_verdict
apply_sample(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	char	   *tofree;
	const char *in;
	unsigned char d[TRIB_HMAC_LEN];
	uint64_t	h = 0;

	if (r->keep_all || (x->ev->op == TRIB_OP_MESSAGE || x->ev->op == TRIB_OP_TRUNCATE))
		return TRIB_VERDICT_KEEP;
	in = sample_input(x, r, &tofree, errbuf, errlen);
	if (in == NULL)
	{
		free(tofree);
		/*
		 * No value to decide on.  A delete usually carries only the key
		 * (REPLICA IDENTITY DEFAULT): let it through, since deleting a row
		 * the sample never copied changes nothing.  Anything else is not
		 * in the sample.
		 */
		return x->ev->op == TRIB_OP_DELETE ? TRIB_VERDICT_KEEP : TRIB_VERDICT_DROP;
	}
	sample_mac(r->mac, in, d);
	free(tofree);
	for (int i = 0; i < 8; i++)
		h = (h << 8) | d[i];
	return h < r->threshold ? TRIB_VERDICT_KEEP : TRIB_VERDICT_DROP;
}

/* route: the topic from a template, or from a Lua expression. */
static trib_verdict
apply_route(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	char	   *topic;

	if (r->expr != NULL)
		return rl_apply_lua(x, r, errbuf, errlen);
	if (!rl_expand_template(x, r->c->topic, &topic, errbuf, errlen))
		return x->why ? TRIB_VERDICT_DEAD_LETTER : TRIB_VERDICT_FAIL;
	free(x->ev->topic);
	x->ev->topic = topic;
	return TRIB_VERDICT_KEEP;
}

static trib_verdict
apply_flatten(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	trib_event *ev = x->ev;

	if (ev->op == TRIB_OP_MESSAGE || ev->op == TRIB_OP_TRUNCATE)
		return TRIB_VERDICT_KEEP;
	if (ev->op == TRIB_OP_DELETE)
	{
		if (r->c->deletes == TRIB_FLATTEN_DROP)
			return TRIB_VERDICT_DROP;
		if (r->c->deletes == TRIB_FLATTEN_TOMBSTONE)
		{
			ev->flatten = TRIB_FLAT_TOMBSTONE;
			return TRIB_VERDICT_KEEP;
		}
		if (!rl_img_all(x, errbuf, errlen))
			return TRIB_VERDICT_FAIL;
		if (x->img[IMG_AFTER])
			yajl_tree_free(x->img[IMG_AFTER]);
		x->img[IMG_AFTER] = x->img[IMG_BEFORE] ? trib_jdoc_copy(x->img[IMG_BEFORE])
			: x->img[IMG_KEY] ? trib_jdoc_copy(x->img[IMG_KEY]) : NULL;
		if (x->img[IMG_AFTER] == NULL)
			return TRIB_VERDICT_DROP;	/* nothing known of the row */
		trib_jdoc_put(x->img[IMG_AFTER], "__deleted", trib_jdoc_string("true"));
		x->dirty[IMG_AFTER] = true;
	}
	else if (r->c->deletes == TRIB_FLATTEN_REWRITE)
	{
		if (!rl_img_all(x, errbuf, errlen))
			return TRIB_VERDICT_FAIL;
		if (x->img[IMG_AFTER])
		{
			trib_jdoc_put(x->img[IMG_AFTER], "__deleted", trib_jdoc_string("false"));
			x->dirty[IMG_AFTER] = true;
		}
	}
	ev->flatten = TRIB_FLAT_ROW;
	return TRIB_VERDICT_KEEP;
}

/* Do two globs (or names) meet: does either match the other? */
static bool
globs_meet(const char *a, const char *b)
{
	return strcmp(a, b) == 0 || fnmatch(a, b, 0) == 0 || fnmatch(b, a, 0) == 0;
}

/* The part of a table glob after its schema (the glob itself without one). */
static const char *
bare_table(const char *g)
{
	const char *dot = strrchr(g, '.');

	return dot ? dot + 1 : g;
}

/* May two selections' lists (sources, or tables: tables) pick one name?
 * An empty list picks every name; a bare table glob meets a qualified one
 * by its table part. */
static bool
lists_meet(const trib_strlist *a, const trib_strlist *b, bool tables)
{
	if (a->count == 0 || b->count == 0)
		return true;
	for (size_t i = 0; i < a->count; i++)
		for (size_t j = 0; j < b->count; j++)
		{
			const char *x = a->items[i],
					   *y = b->items[j];
			bool		bare = tables && (strchr(x, '.') == NULL || strchr(y, '.') == NULL);

			if (globs_meet(x, y) || (bare && globs_meet(bare_table(x), bare_table(y))))
				return true;
		}
	return false;
}

/* Does one of the paths reach into the other (a common prefix of
 * segments, globs matched either way)? */
static bool
paths_meet(const trib_jpath *a, const trib_jpath *b)
{
	int			n = a->nseg < b->nseg ? a->nseg : b->nseg;

	for (int k = 0; k < n; k++)
		if (!globs_meet(a->seg[k], b->seg[k]))
			return false;
	return true;
}

/* The later masking rule of rs that masks what path p (read by rule i)
 * reaches, or NULL. */
static const rl_rule *
masked_later(const trib_rules *rs, int i, const trib_jpath *p)
{
	const trib_rule_conf *c = rs->r[i].c;

	for (int j = i + 1; j < rs->n; j++)
	{
		const rl_rule *m = &rs->r[j];

		if (!(m->ops->flags & RL_MASKS) || !lists_meet(&c->sources, &m->c->sources, false) ||
			!lists_meet(&c->tables, &m->c->tables, true))
			continue;
		for (int k = 0; k < m->npaths; k++)
			if (paths_meet(p, &m->paths[k]))
				return m;
	}
	return NULL;
}

/* The next ${ of template t, stepping over $$ (a literal $), or NULL. */
static const char *
next_placeholder(const char *t)
{
	while (*t != '\0' && !(t[0] == '$' && t[1] == '{'))
		t += t[0] == '$' && t[1] == '$' ? 2 : 1;
	return *t != '\0' ? t : NULL;
}

bool
rl_route_check_order(const trib_rules *rs, int i, char *errbuf, size_t errlen)
{
	static const char *const images[] = {"after.", "before.", "key."};
	const char *t = rs->r[i].c->topic;
	bool		ok = true;

	while (ok && t != NULL && (t = next_placeholder(t)) != NULL)
	{
		const char *end = strchr(t, '}');
		char	   *var;

		if (end == NULL)
			break;
		var = trib_xstrndup(t + 2, (size_t) (end - t - 2));
		for (size_t k = 0; k < sizeof(images) / sizeof(images[0]); k++)
		{
			size_t		n = strlen(images[k]);
			trib_jpath	p;
			char		e[128];
			const rl_rule *m;

			if (strncmp(var, images[k], n) != 0 || !trib_jpath_parse(var + n, &p, e, sizeof(e)))
				continue;
			if ((m = masked_later(rs, i, &p)) != NULL)
			{
				snprintf(errbuf, errlen, "transform %s: the topic template reads ${%s}, which "
						 "the %s rule %s masks after it: the topic would carry the clear "
						 "value; put the route after the masking rule", rs->r[i].c->name, var,
						 m->c->type_name, m->c->name);
				ok = false;
			}
			trib_jpath_free(&p);
		}
		free(var);
		t = end + 1;
	}
	return ok;
}

const rl_ops rl_ops_sample = {RL_SHAPE_KNOWN, init_sample, free_sample, apply_sample, NULL, NULL, NULL, NULL};
const rl_ops rl_ops_route = {0, rl_lua_init, NULL, apply_route, NULL, NULL, NULL, NULL};
const rl_ops rl_ops_flatten = {0, NULL, NULL, apply_flatten, NULL, NULL, NULL, NULL};
