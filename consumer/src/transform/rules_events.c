/*
 * rules_events.c: rules that decide about whole events: sample (keep a
 * deterministic share, by a keyed hash of one field so related tables
 * agree), route (a topic or table from a template, or from a Lua
 * expression: rules_lua.c) and flatten (the Kafka value becomes the row
 * state).
 */
#include "rules_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "rules_lua.h"

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

const rl_ops rl_ops_sample = {RL_SHAPE_KNOWN, init_sample, free_sample, apply_sample, NULL, NULL, NULL, NULL};
const rl_ops rl_ops_route = {0, rl_lua_init, NULL, apply_route, NULL, NULL, NULL, NULL};
const rl_ops rl_ops_flatten = {0, NULL, NULL, apply_flatten, NULL, NULL, NULL, NULL};
