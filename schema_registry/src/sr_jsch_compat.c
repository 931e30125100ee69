/*
 * sr_jsch_compat.c: the JSON Schema compatibility checker's core: the
 * comparison of two schema nodes, strings, numbers, enums, const, not and
 * the combinators, and the entry point sr_json_check().
 *
 * Design.  It follows Confluent's SchemaDiff: compare the original (the
 * writer's schema) with the update (the reader's), record every
 * difference with its kind, and call the change compatible when every
 * difference is of a compatible kind (sr_jsch_kinds.c).  Where a decision
 * needs "would this part be compatible", a sub-context collects into a
 * list of its own that is kept or dropped.  Combined schemas (allOf,
 * anyOf, oneOf) match original and updated subschemas by a maximum
 * bipartite matching over the compatible pairs, as Confluent does.
 *
 * Refinements over Confluent.  if/then/else are compared
 * (cmp_conditional).  A (sub)schema that two alternatives of the
 * update's oneOf both read is ONE_OF_ALTERNATIVES_OVERLAP: its values
 * match twice, and oneOf rejects them (Confluent: SUM_TYPE_EXTENDED).
 * And: a schema whose keywords make an implicit
 * allOf (for example {"type":"string","enum":[...]}) compared with a plain
 * one is treated as an allOf of one, so adding "enum" to a string is
 * PRODUCT_TYPE_EXTENDED (incompatible) and removing it
 * PRODUCT_TYPE_NARROWED (compatible), where Confluent reports
 * TYPE_CHANGED both ways.
 *
 * Recursion: a pair of nodes already being compared higher up is taken as
 * compatible (recursive "$ref"s), and a work budget turns pathological
 * inputs into an error instead of exponential time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr_jsch.h"

/* Comparisons allowed for one pair of documents. */
#define J_BUDGET 200000

size_t
sr_jpath_push(jctx *c, const char *seg)
{
	size_t		saved = c->path.len;

	sr_buf_addc(&c->path, '/');
	sr_buf_adds(&c->path, seg);
	return saved;
}

size_t
sr_jpath_push_key(jctx *c, const char *key)
{
	size_t		saved = c->path.len;

	sr_buf_addc(&c->path, '/');
	for (; *key != '\0'; key++)
	{
		if (*key == '~')
			sr_buf_adds(&c->path, "~0");
		else if (*key == '/')
			sr_buf_adds(&c->path, "~1");
		else
			sr_buf_addc(&c->path, *key);
	}
	return saved;
}

void
sr_jpath_pop(jctx *c, size_t saved)
{
	if (c->path.data != NULL && saved <= c->path.len)
	{
		c->path.len = saved;
		c->path.data[saved] = '\0';
	}
}

void
sr_jctx_sub(jctx *c, jctx *sub, sr_diffs *store)
{
	*sub = *c;
	sub->probe_failed = false;
	memset(store, 0, sizeof(*store));
	sub->out = store;
	memset(&sub->path, 0, sizeof(sub->path));
	sr_buf_add(&sub->path, c->path.data ? c->path.data : "", c->path.len);
	if (sub->path.oom)
		c->out->oom = true;
}

bool
sr_jctx_compatible(const sr_diffs *d)
{
	for (size_t i = 0; i < d->count; i++)
		if (!sr_jkind_compatible(d->items[i].kind))
			return false;
	return !d->oom;
}

/* Move every difference of `from` into c's list; `from` is emptied. */
void
sr_jctx_take(jctx *c, sr_diffs *from)
{
	sr_diffs_move(c->out, from);
}

void
sr_jctx_done(jctx *sub)
{
	if (sub->path.oom)
		sub->out->oom = true;
	sr_buf_free(&sub->path);
}

/* Compare a with b in a sub-context; true (and the diffs in store) when
 * the result is compatible, else store is freed. */
static bool
try_cmp(jctx *c, jref a, jref b, sr_diffs *store)
{
	jctx		sub;
	bool		ok;

	sr_jctx_sub(c, &sub, store);
	sub.probe = true;
	sub.probe_failed = false;
	sr_jcmp(&sub, a, b);
	sr_jctx_done(&sub);
	ok = sr_jctx_compatible(store);
	if (!ok)
		sr_diffs_free(store);
	return ok;
}

void
sr_jcmp_limit(jctx *c, yajl_val o, yajl_val u, const char *attr, const char *prefix)
{
	char		kind[64];
	const char *suffix;

	if (!YAJL_IS_NUMBER(o))
		o = NULL;
	if (!YAJL_IS_NUMBER(u))
		u = NULL;
	if (o == NULL && u == NULL)
		return;
	if (o == NULL)
		suffix = "ADDED";
	else if (u == NULL)
		suffix = "REMOVED";
	else
	{
		int			cmp = sr_num_cmp(o->u.number.r, u->u.number.r);

		if (cmp == 0)
			return;
		suffix = cmp < 0 ? "INCREASED" : "DECREASED";
	}
	snprintf(kind, sizeof(kind), "%s_%s", prefix, suffix);
	sr_jdiff(c, kind, attr);
}

static void
cmp_string(jctx *c, const jnode *o, const jnode *u)
{
	const char *po = YAJL_GET_STRING(sr_jnode_kw(o, "pattern"));
	const char *pu = YAJL_GET_STRING(sr_jnode_kw(u, "pattern"));

	sr_jcmp_limit(c, sr_jnode_kw(o, "maxLength"), sr_jnode_kw(u, "maxLength"), "maxLength", "MAX_LENGTH");
	sr_jcmp_limit(c, sr_jnode_kw(o, "minLength"), sr_jnode_kw(u, "minLength"), "minLength", "MIN_LENGTH");
	if (po == NULL && pu != NULL)
		sr_jdiff(c, "PATTERN_ADDED", "pattern");
	else if (po != NULL && pu == NULL)
		sr_jdiff(c, "PATTERN_REMOVED", "pattern");
	else if (po != NULL && strcmp(po, pu) != 0)
		sr_jdiff(c, "PATTERN_CHANGED", "pattern");
}

/* A bound of a number schema, reading draft-4's boolean exclusive forms:
 * "maximum": m with "exclusiveMaximum": true is an exclusive bound m. */
static yajl_val
bound(const jnode *n, const char *incl, const char *excl, bool want_exclusive)
{
	yajl_val	x = sr_jnode_kw(n, excl);

	if (YAJL_IS_TRUE(x) || YAJL_IS_FALSE(x))
	{
		bool		draft4_excl = YAJL_IS_TRUE(x);

		return draft4_excl == want_exclusive ? sr_jnode_kw(n, incl) : NULL;
	}
	return sr_jnode_kw(n, want_exclusive ? excl : incl);
}

static void
cmp_number(jctx *c, const jnode *o, const jnode *u)
{
	yajl_val	mo = sr_jnode_kw(o, "multipleOf"),
				mu = sr_jnode_kw(u, "multipleOf");

	sr_jcmp_limit(c, bound(o, "maximum", "exclusiveMaximum", false),
			   bound(u, "maximum", "exclusiveMaximum", false), "maximum", "MAXIMUM");
	sr_jcmp_limit(c, bound(o, "minimum", "exclusiveMinimum", false),
			   bound(u, "minimum", "exclusiveMinimum", false), "minimum", "MINIMUM");
	sr_jcmp_limit(c, bound(o, "maximum", "exclusiveMaximum", true),
			   bound(u, "maximum", "exclusiveMaximum", true), "exclusiveMaximum", "EXCLUSIVE_MAXIMUM");
	sr_jcmp_limit(c, bound(o, "minimum", "exclusiveMinimum", true),
			   bound(u, "minimum", "exclusiveMinimum", true), "exclusiveMinimum", "EXCLUSIVE_MINIMUM");
	mo = YAJL_IS_NUMBER(mo) ? mo : NULL;
	mu = YAJL_IS_NUMBER(mu) ? mu : NULL;
	if (mo == NULL && mu != NULL)
		sr_jdiff(c, "MULTIPLE_OF_ADDED", "multipleOf");
	else if (mo != NULL && mu == NULL)
		sr_jdiff(c, "MULTIPLE_OF_REMOVED", "multipleOf");
	else if (mo != NULL && sr_num_cmp(mo->u.number.r, mu->u.number.r) != 0)
	{
		if (sr_num_is_multiple(mu->u.number.r, mo->u.number.r))
			sr_jdiff(c, "MULTIPLE_OF_EXPANDED", "multipleOf");
		else if (sr_num_is_multiple(mo->u.number.r, mu->u.number.r))
			sr_jdiff(c, "MULTIPLE_OF_REDUCED", "multipleOf");
		else
			sr_jdiff(c, "MULTIPLE_OF_CHANGED", "multipleOf");
	}
	if (o->integer && !u->integer)
		sr_jdiff(c, "TYPE_EXTENDED", NULL);
	else if (!o->integer && u->integer)
		sr_jdiff(c, "TYPE_NARROWED", NULL);
}

/* Whether every value of array a is in array b. */
bool
sr_jvalues_within(yajl_val a, yajl_val b)
{
	for (size_t i = 0; YAJL_IS_ARRAY(a) && i < a->u.array.len; i++)
	{
		bool		found = false;

		for (size_t j = 0; !found && YAJL_IS_ARRAY(b) && j < b->u.array.len; j++)
			found = sr_json_equal(a->u.array.values[i], b->u.array.values[j]);
		if (!found)
			return false;
	}
	return true;
}

static void
cmp_enum(jctx *c, const jnode *o, const jnode *u)
{
	yajl_val	eo = sr_jnode_kw(o, "enum"),
				eu = sr_jnode_kw(u, "enum");
	bool		o_in_u = sr_jvalues_within(eo, eu),
				u_in_o = sr_jvalues_within(eu, eo);

	if (o_in_u && u_in_o)
		return;
	sr_jdiff(c, o_in_u ? "ENUM_ARRAY_EXTENDED" : u_in_o ? "ENUM_ARRAY_NARROWED" : "ENUM_ARRAY_CHANGED",
		  "enum");
}

static void
cmp_not(jctx *c, const jnode *o, const jnode *u)
{
	jref		no = {o->ref.root, sr_jnode_kw(o, "not"), F_WHOLE};
	jref		nu = {u->ref.root, sr_jnode_kw(u, "not"), F_WHOLE};
	sr_diffs	store;
	size_t		saved = sr_jpath_push(c, "not");

	/* what the update excludes must have been excluded before: compare
	 * the excluded schemas the other way round */
	if (try_cmp(c, nu, no, &store))
	{
		sr_diffs_free(&store);
		sr_jdiff(c, "NOT_TYPE_NARROWED", NULL);
	}
	else
		sr_jdiff(c, "NOT_TYPE_EXTENDED", NULL);
	sr_jpath_pop(c, saved);
}

/* The subschemas of a combined node without structural duplicates. */
static size_t
distinct_subs(const jnode *n, jref *out, size_t max)
{
	size_t		k = 0;

	for (size_t i = 0; i < n->nsub && k < max; i++)
	{
		jref		r = sr_jnode_sub(n, i);
		bool		dup = false;

		for (size_t j = 0; !dup && j < k; j++)
			dup = out[j].facet == r.facet && sr_json_equal(out[j].v, r.v) &&
				(r.facet == F_WHOLE || out[j].v == r.v);
		if (!dup)
			out[k++] = r;
	}
	return k;
}

static const char *const crit_names[] = {"allOf", "anyOf", "oneOf"};

/* Confluent's rules for a change of combinator; NULL when none. */
static const char *
criteria_change(const jnode *o, const jnode *u)
{
	if (o->crit == u->crit)
		return NULL;
	if (u->crit == C_ANY)
		return "COMBINED_TYPE_EXTENDED";
	if (u->crit == C_ONE)
		return o->nsub == 1 ? "COMBINED_TYPE_EXTENDED" : "COMBINED_TYPE_CHANGED";
	return o->nsub == 1 && u->nsub == 1 ? "COMBINED_TYPE_EXTENDED" : "COMBINED_TYPE_CHANGED";
}

/* Kuhn's augmenting path for the bipartite matching of subschemas. */
static bool
augment(size_t i, size_t nu, const bool *edge, bool *visited, long *match_u)
{
	for (size_t j = 0; j < nu; j++)
	{
		if (!edge[i * nu + j] || visited[j])
			continue;
		visited[j] = true;
		if (match_u[j] < 0 || augment((size_t) match_u[j], nu, edge, visited, match_u))
		{
			match_u[j] = (long) i;
			return true;
		}
	}
	return false;
}

#define J_MAX_COMBINED 64		/* subschemas compared per combinator */

/* An original subschema with no compatible counterpart: if an unmatched
 * update subschema of the same kind exists, record what differs between
 * the two, so the violation says why (Confluent reports only
 * COMBINED_TYPE_SUBSCHEMAS_CHANGED). */
static void
explain_unmatched(jctx *c, const jnode *o, const jref *so, size_t no, const jref *su, size_t nu,
				  long *match_u)
{
	for (size_t i = 0; i < no; i++)
	{
		bool		matched = false;
		jnode		a,
					b;

		for (size_t j = 0; !matched && j < nu; j++)
			matched = match_u[j] == (long) i;
		if (matched)
			continue;
		sr_jnode_of(so[i], &a);
		for (size_t j = 0; j < nu; j++)
		{
			char		seg[32];
			size_t		saved = c->path.len;

			if (match_u[j] != -1)
				continue;
			sr_jnode_of(su[j], &b);
			if (a.kind != b.kind)
				continue;
			match_u[j] = -2;	/* explained; not used again */
			if (!o->synthetic)
			{
				snprintf(seg, sizeof(seg), "%s/%zu", crit_names[o->crit], i);
				sr_jpath_push(c, seg);
			}
			sr_jcmp(c, so[i], su[j]);
			sr_jpath_pop(c, saved);
			break;
		}
	}
}

/*
 * Whether original subschema so[i] is read by some other subschema of its
 * own oneOf: then oneOf never accepted its values, so that the update
 * reading them twice changes nothing.
 */
static bool
dead_in_one_of(jctx *c, const jnode *o, const jref *so, size_t no, size_t i)
{
	sr_diffs	store;

	for (size_t k = 0; o->crit == C_ONE && k < no; k++)
		if (k != i && try_cmp(c, so[i], so[k], &store))
		{
			sr_diffs_free(&store);
			return true;
		}
	return false;
}

/*
 * An original (sub)schema two alternatives of the update's oneOf both read
 * is read by neither: every value it allows matches twice, and oneOf
 * wants exactly one.  Confluent counts this as SUM_TYPE_EXTENDED.
 */
static void
one_of_overlap(jctx *c, jref orig, size_t hits)
{
	jnode		n;

	sr_jnode_of(orig, &n);
	if (hits > 1 && n.kind != J_FALSE)
		sr_jdiff(c, "ONE_OF_ALTERNATIVES_OVERLAP", NULL);
}

/* The working arrays of one matching. */
typedef struct matching
{
	sr_diffs   *store;			/* [i * nu + j]: diffs of a compatible pair */
	bool	   *edge;			/* [i * nu + j]: the pair is compatible */
	bool	   *visited;
	long	   *match_u;		/* per update subschema: its original, or -1 */
} matching;

/* Compare every (original, update) pair of subschemas, match them, and
 * keep the differences of the matched pairs; false on OOM. */
static bool
match_subs(jctx *c, const jnode *o, const jnode *u, const jref *so, size_t no, const jref *su,
		   size_t nu)
{
	matching	m;
	size_t		matched = 0;
	bool		ok;

	m.store = calloc(no * nu + 1, sizeof(*m.store));
	m.edge = calloc(no * nu + 1, sizeof(*m.edge));
	m.visited = calloc(nu + 1, sizeof(*m.visited));
	m.match_u = malloc((nu + 1) * sizeof(*m.match_u));
	ok = m.store && m.edge && m.visited && m.match_u;
	for (size_t i = 0; ok && i < no; i++)
	{
		char		seg[32];
		size_t		saved = c->path.len;

		if (!o->synthetic)
		{
			snprintf(seg, sizeof(seg), "%s/%zu", crit_names[o->crit], i);
			sr_jpath_push(c, seg);
		}
		size_t		hits = 0;

		for (size_t j = 0; j < nu; j++)
			hits += m.edge[i * nu + j] = try_cmp(c, so[i], su[j], &m.store[i * nu + j]);
		if (u->crit == C_ONE && hits > 1 && !dead_in_one_of(c, o, so, no, i))
			one_of_overlap(c, so[i], hits);
		sr_jpath_pop(c, saved);
	}
	for (size_t j = 0; ok && j < nu; j++)
		m.match_u[j] = -1;
	for (size_t i = 0; ok && i < no; i++)
	{
		memset(m.visited, 0, nu * sizeof(*m.visited));
		matched += augment(i, nu, m.edge, m.visited, m.match_u);
	}
	for (size_t j = 0; ok && j < nu; j++)
		if (m.match_u[j] >= 0)
			sr_jctx_take(c, &m.store[(size_t) m.match_u[j] * nu + j]);
	if (ok && matched < (no < nu ? no : nu))
	{
		sr_jdiff(c, "COMBINED_TYPE_SUBSCHEMAS_CHANGED", NULL);
		explain_unmatched(c, o, so, no, su, nu, m.match_u);
	}
	for (size_t k = 0; m.store != NULL && k < no * nu; k++)
		sr_diffs_free(&m.store[k]);
	free(m.store);
	free(m.edge);
	free(m.visited);
	free(m.match_u);
	return ok;
}

/* Compare two combined nodes (either may be a plain node wrapped as an
 * allOf of one, see the file comment). */
static void
cmp_combined(jctx *c, const jnode *o, const jnode *u)
{
	jref	   *so = malloc(J_MAX_COMBINED * sizeof(*so)),
			   *su = malloc(J_MAX_COMBINED * sizeof(*su));
	size_t		no,
				nu;
	const char *change = criteria_change(o, u);

	if (change != NULL)
		sr_jdiff(c, change, NULL);
	if (so == NULL || su == NULL)
		c->out->oom = true;
	else if (change == NULL || strcmp(change, "COMBINED_TYPE_CHANGED") != 0)
	{
		no = distinct_subs(o, so, J_MAX_COMBINED);
		nu = distinct_subs(u, su, J_MAX_COMBINED);
		if (no != nu)
			sr_jdiff(c, u->crit == C_ALL ? (no < nu ? "PRODUCT_TYPE_EXTENDED" : "PRODUCT_TYPE_NARROWED")
				  : (no < nu ? "SUM_TYPE_EXTENDED" : "SUM_TYPE_NARROWED"), NULL);
		if (!match_subs(c, o, u, so, no, su, nu))
			c->out->oom = true;
	}
	free(so);
	free(su);
}

/* A plain node seen as a combined node of one subschema. */
static void
as_singleton(const jnode *n, jcrit crit, jnode *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = J_COMBINED;
	out->ref = n->ref;
	out->crit = crit;
	out->synthetic = true;
	out->nsub = 1;
	out->sub[0] = n->ref;
}

/* Plain original, combined update; true when handled. */
static bool
into_combined(jctx *c, const jnode *o, const jnode *u)
{
	sr_diffs	store;
	jnode		one;

	if (u->nsub == 1)
	{
		if (!try_cmp(c, o->ref, sr_jnode_sub(u, 0), &store))
			return false;
		sr_jctx_take(c, &store);
		return true;
	}
	if (u->crit != C_ALL)
	{
		size_t		hits = 0;

		/* anyOf: the first alternative that reads it; oneOf: count them */
		for (size_t i = 0; i < u->nsub && (hits == 0 || u->crit == C_ONE); i++)
			if (try_cmp(c, o->ref, sr_jnode_sub(u, i), &store))
			{
				if (hits++ == 0)
					sr_jctx_take(c, &store);
				sr_diffs_free(&store);
			}
		if (hits == 0)
			return false;
		sr_jdiff(c, "SUM_TYPE_EXTENDED", NULL);
		if (u->crit == C_ONE)
			one_of_overlap(c, o->ref, hits);
		return true;
	}
	if (!u->synthetic)
		return false;
	as_singleton(o, C_ALL, &one);
	cmp_combined(c, &one, u);
	return true;
}

/* Combined original, plain update; true when handled. */
static bool
from_combined(jctx *c, const jnode *o, const jnode *u)
{
	sr_diffs	store;
	jnode		one;

	if (o->nsub == 1)
	{
		if (!try_cmp(c, sr_jnode_sub(o, 0), u->ref, &store))
			return false;
		sr_jctx_take(c, &store);
		return true;
	}
	if (o->crit != C_ALL || !o->synthetic)
		return false;
	as_singleton(u, C_ALL, &one);
	cmp_combined(c, o, &one);
	return true;
}

/* Same-kind comparison, with the pair on the recursion stack. */
static void
cmp_same(jctx *c, const jnode *o, const jnode *u)
{
	jpair		here = {o->ref.v, u->ref.v, o->ref.facet, u->ref.facet, c->stack};

	for (jpair *p = c->stack; p != NULL; p = p->up)
		if (p->o == here.o && p->u == here.u && p->fo == here.fo && p->fu == here.fu)
			return;				/* a cycle: compatible unless shown otherwise */
	c->stack = &here;
	switch (o->kind)
	{
		case J_STRING:
			cmp_string(c, o, u);
			break;
		case J_NUMBER:
			cmp_number(c, o, u);
			break;
		case J_ENUM:
			cmp_enum(c, o, u);
			break;
		case J_CONST:
			if (!sr_json_equal(sr_jnode_kw(o, "const"), sr_jnode_kw(u, "const")))
				sr_jdiff(c, "ENUM_ARRAY_CHANGED", "const");
			break;
		case J_NOT:
			cmp_not(c, o, u);
			break;
		case J_COMBINED:
			cmp_combined(c, o, u);
			break;
		case J_OBJECT:
			sr_jcmp_object(c, o, u);
			break;
		case J_ARRAY:
			sr_jcmp_array(c, o, u);
			break;
		default:
			break;
	}
	c->stack = here.up;
}

/*
 * if/then/else, which Confluent does not read.  With the same "if" (or
 * "if" on one side only, taken as the same condition with no branches on
 * the other), "then" and "else" compare as subschemas: a branch added is
 * SCHEMA_ADDED, dropped SCHEMA_REMOVED.  Two different conditions are
 * CONDITION_CHANGED (which values they select is not compared).
 */
static void
cmp_conditional(jctx *c, const jnode *o, const jnode *u)
{
	static const char *const branches[] = {"then", "else"};
	yajl_val	io = sr_json_get(o->ref.v, "if"),
				iu = sr_json_get(u->ref.v, "if");

	jpair		here = {o->ref.v, u->ref.v, -1, -1, c->stack};

	if (io == NULL && iu == NULL)
		return;
	if (io != NULL && iu != NULL && !sr_json_equal(io, iu))
	{
		sr_jdiff(c, "CONDITION_CHANGED", "if");
		return;
	}
	for (jpair *p = c->stack; p != NULL; p = p->up)
		if (p->o == here.o && p->u == here.u && p->fo == -1 && p->fu == -1)
			return;				/* a "then" that refers back: compared above */
	c->stack = &here;
	for (int i = 0; i < 2; i++)
	{
		jref		bo = {o->ref.root, io ? sr_json_get(o->ref.v, branches[i]) : NULL, F_WHOLE};
		jref		bu = {u->ref.root, iu ? sr_json_get(u->ref.v, branches[i]) : NULL, F_WHOLE};
		size_t		saved = sr_jpath_push(c, branches[i]);

		sr_jcmp(c, bo, bu);
		sr_jpath_pop(c, saved);
	}
	c->stack = here.up;
}

void
sr_jcmp(jctx *c, jref orig, jref upd)
{
	jnode		o,
				u;

	if (*c->too_big || c->probe_failed)
		return;
	if (--*c->budget < 0 || c->depth > 2 * SR_MAX_DEPTH)
	{
		*c->too_big = true;
		return;
	}
	if (orig.v == NULL && upd.v == NULL)
		return;
	if (orig.v == NULL || upd.v == NULL)
	{
		sr_jdiff(c, orig.v == NULL ? "SCHEMA_ADDED" : "SCHEMA_REMOVED", NULL);
		return;
	}
	sr_jnode_of(orig, &o);
	sr_jnode_of(upd, &u);
	c->depth++;
	if (orig.facet == F_WHOLE && upd.facet == F_WHOLE)
		cmp_conditional(c, &o, &u);
	if (o.kind != J_COMBINED && u.kind == J_COMBINED && into_combined(c, &o, &u))
		;
	else if (o.kind == J_COMBINED && u.kind != J_COMBINED && from_combined(c, &o, &u))
		;
	else if (o.kind != u.kind)
	{
		if (o.kind != J_FALSE && u.kind != J_EMPTY)
			sr_jdiff(c, "TYPE_CHANGED", NULL);
	}
	else
		cmp_same(c, &o, &u);
	c->depth--;
}

void
sr_json_check(const trib_sr_schema *reader, const trib_sr_schema *writer,
			  bool reader_is_new, sr_diffs *out)
{
	sr_diffs	all = {0};
	long		budget = J_BUDGET;
	bool		too_big = false;
	jctx		c = {0};
	jref		w = {writer->root, writer->root, F_WHOLE};
	jref		r = {reader->root, reader->root, F_WHOLE};

	c.out = &all;
	c.budget = &budget;
	c.too_big = &too_big;
	c.reader = reader_is_new ? "new" : "old";
	c.writer = reader_is_new ? "old" : "new";
	sr_buf_adds(&c.path, "#");
	sr_jcmp(&c, w, r);
	if (c.path.oom)
		all.oom = true;
	sr_buf_free(&c.path);
	/* keep the violations, drop the compatible differences (a probe's
	 * differences only get here when all are compatible) */
	for (size_t i = 0, k = 0; i < all.count; i++)
	{
		if (!sr_jkind_compatible(all.items[i].kind) && all.items[i].message != NULL)
			all.items[k++] = all.items[i];
		else
			free(all.items[i].path);
		if (i + 1 == all.count)
			all.count = k;
	}
	sr_diffs_move(out, &all);
	out->too_big |= too_big;
	sr_diffs_free(&all);
}
