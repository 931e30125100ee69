/*
 * sr_jsch_object.c: the JSON Schema checker for objects and arrays, where
 * the content models live.
 *
 * An object's content model is open when it has no patternProperties and
 * "additionalProperties" is absent or true; closed when it is false;
 * partially open otherwise (a schema for additional properties, or
 * pattern properties).  As in Confluent's rules, a property may be added
 * only where the original's model was not open (an open original may
 * have written anything under the new name), and removed only where the
 * update's model still accepts what was written there.  Arrays with
 * tuple items ("items" as an array, or "prefixItems") follow the same
 * rules with "additionalItems" (or "items" after "prefixItems").
 *
 * propertyNames and contains are compared as subschemas (a name, or the
 * item that must be there, has to be read as before), and
 * patternProperties themselves too (Confluent compares none of them):
 * pattern by pattern, an added or dropped one judged against the other
 * version's additional properties, as a property is.
 *
 * Pattern properties are matched with PCRE2 (ECMA-262 patterns are close
 * to PCRE); a pattern PCRE2 cannot compile matches nothing.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "sr_jsch.h"

static jref
sub_ref(const jnode *n, yajl_val v)
{
	jref		r = {n->ref.root, v, F_WHOLE};

	return r;
}

/* Whether the regular expression finds a match in s. */
static bool
regex_finds(const char *pattern, const char *s)
{
	int			err;
	PCRE2_SIZE	off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
								   &err, &off, NULL);
	pcre2_match_data *md;
	int			rc = -1;

	if (re == NULL)
		return false;
	md = pcre2_match_data_create_from_pattern(re, NULL);
	if (md != NULL)
		rc = pcre2_match(re, (PCRE2_SPTR) s, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc >= 0;
}

/* "additionalProperties" as a schema (NULL when absent, true or false). */
static yajl_val
additional_schema(yajl_val ap)
{
	return YAJL_IS_OBJECT(ap) ? ap : NULL;
}

static bool
object_open(const jnode *n)
{
	yajl_val	pp = sr_jnode_kw(n, "patternProperties");
	yajl_val	ap = sr_jnode_kw(n, "additionalProperties");

	return (!YAJL_IS_OBJECT(pp) || pp->u.object.len == 0) && !YAJL_IS_FALSE(ap) &&
		additional_schema(ap) == NULL;
}

/* The schemas `true` and `false`, for what a model gives other names. */
static struct yajl_val_s any_value = {.type = yajl_t_true};
static struct yajl_val_s no_value = {.type = yajl_t_false};

/* The schema a partially open model gives an undeclared property: the
 * first pattern that matches it, else additionalProperties; NULL when that
 * is false.  With additionalProperties absent or true the name may hold
 * anything (`true`); Confluent takes the model as closed for it. */
static yajl_val
partial_schema(const jnode *n, const char *key)
{
	yajl_val	pp = sr_jnode_kw(n, "patternProperties");
	yajl_val	ap = sr_jnode_kw(n, "additionalProperties");

	for (size_t i = 0; YAJL_IS_OBJECT(pp) && i < pp->u.object.len; i++)
		if (regex_finds(pp->u.object.keys[i], key))
			return pp->u.object.values[i];
	if (YAJL_IS_FALSE(ap))
		return NULL;
	return additional_schema(ap) ? ap : &any_value;
}

static bool
is_required(const jnode *n, const char *key)
{
	yajl_val	req = sr_jnode_kw(n, "required");

	for (size_t i = 0; YAJL_IS_ARRAY(req) && i < req->u.array.len; i++)
	{
		const char *s = YAJL_GET_STRING(req->u.array.values[i]);

		if (s != NULL && strcmp(s, key) == 0)
			return true;
	}
	return false;
}

/* Whether a property schema has a "default" (through a $ref too). */
static bool
has_default(const jnode *n, yajl_val prop)
{
	jnode		p;

	if (sr_json_get(prop, "default") != NULL)
		return true;
	sr_jnode_of(sub_ref(n, prop), &p);
	return sr_json_get(p.ref.v, "default") != NULL;
}

/*
 * Keys the update newly requires that it does not declare, although the
 * original may have left them out (declared there and dropped, or never
 * declared): REQUIRED_ATTRIBUTE_ADDED.  Confluent compares "required" only
 * for properties both versions declare, and calls these compatible; the
 * keys the update declares are judged by cmp_required() and
 * property_added().
 */
static void
required_added_elsewhere(jctx *c, const jnode *o, const jnode *u, yajl_val pu)
{
	yajl_val	req = sr_jnode_kw(u, "required");

	for (size_t i = 0; YAJL_IS_ARRAY(req) && i < req->u.array.len; i++)
	{
		const char *k = YAJL_GET_STRING(req->u.array.values[i]);
		bool		dup = false;
		size_t		s2;

		if (k == NULL || sr_json_get(pu, k) != NULL || is_required(o, k))
			continue;
		for (size_t j = 0; !dup && j < i; j++)
			dup = sr_json_equal(req->u.array.values[j], req->u.array.values[i]);
		if (dup)
			continue;
		s2 = sr_jpath_push_key(c, k);
		sr_jdiff(c, "REQUIRED_ATTRIBUTE_ADDED", NULL);
		sr_jpath_pop(c, s2);
	}
}

static void
cmp_required(jctx *c, const jnode *o, const jnode *u)
{
	yajl_val	po = sr_jnode_kw(o, "properties"),
				pu = sr_jnode_kw(u, "properties");
	size_t		saved = sr_jpath_push(c, "required");

	for (size_t i = 0; YAJL_IS_OBJECT(po) && i < po->u.object.len; i++)
	{
		const char *k = po->u.object.keys[i];
		yajl_val	up = sr_json_get(pu, k);
		bool		ro = is_required(o, k),
					ru = is_required(u, k);
		size_t		s2;

		if (up == NULL || ro == ru)
			continue;
		s2 = sr_jpath_push_key(c, k);
		if (ro)
			sr_jdiff(c, "REQUIRED_ATTRIBUTE_REMOVED", NULL);
		else
			sr_jdiff(c, has_default(u, up) ? "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
				  : "REQUIRED_ATTRIBUTE_ADDED", NULL);
		sr_jpath_pop(c, s2);
	}
	required_added_elsewhere(c, o, u, pu);
	sr_jpath_pop(c, saved);
}

/* Record whether a schema covering an added/removed member is compatible. */
static void
covered(jctx *c, jref a, jref b, const char *yes, const char *no)
{
	jctx		sub;
	sr_diffs	store;
	bool		ok;

	sr_jctx_sub(c, &sub, &store);
	sr_jcmp(&sub, a, b);
	sr_jctx_done(&sub);
	ok = sr_jctx_compatible(&store);
	sr_jctx_take(c, &store);
	sr_jdiff(c, ok ? yes : no, NULL);
}

/* A property the update no longer declares. */
static void
property_removed(jctx *c, const jnode *o, const jnode *u, const char *k, yajl_val op)
{
	yajl_val	partial;

	if (object_open(u))
		sr_jdiff(c, "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", NULL);
	else if ((partial = partial_schema(u, k)) != NULL)
		covered(c, sub_ref(o, op), sub_ref(u, partial),
				"PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
				"PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL");
	else
		sr_jdiff(c, YAJL_IS_FALSE(op) ? "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
			  : "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", NULL);
}

/* A property the original did not declare. */
static void
property_added(jctx *c, const jnode *o, const jnode *u, const char *k, yajl_val up)
{
	yajl_val	partial;
	jnode		p;

	if (object_open(o))
	{
		sr_jnode_of(sub_ref(u, up), &p);
		if (p.kind == J_EMPTY && !is_required(u, k))
			sr_jdiff(c, "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", NULL);
		else if (!is_required(u, k))
			sr_jdiff(c, "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", NULL);
		else
			sr_jdiff(c, has_default(u, up) ? "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"
				  : "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", NULL);
		return;
	}
	if ((partial = partial_schema(o, k)) != NULL)
		covered(c, sub_ref(o, partial), sub_ref(u, up),
				"PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
				"PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL");
	if (!is_required(u, k))
		sr_jdiff(c, "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", NULL);
	else
		sr_jdiff(c, has_default(u, up) ? "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
			  : "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", NULL);
}

/* What to do with a key of a keyword's object (properties,
 * patternProperties) that both versions have, only the original has, or
 * only the update has. */
typedef struct keyed_ops
{
	void		(*both) (jctx *c, const jnode *o, const jnode *u, yajl_val ov, yajl_val uv);
	void		(*removed) (jctx *c, const jnode *o, const jnode *u, const char *k, yajl_val ov);
	void		(*added) (jctx *c, const jnode *o, const jnode *u, const char *k, yajl_val uv);
} keyed_ops;

/* A key in both: compare its two schemas. */
static void
both_compare(jctx *c, const jnode *o, const jnode *u, yajl_val ov, yajl_val uv)
{
	sr_jcmp(c, sub_ref(o, ov), sub_ref(u, uv));
}

/* Walk the keys of keyword kw on both sides, at path kw/key. */
static void
cmp_keyed(jctx *c, const jnode *o, const jnode *u, const char *kw, const keyed_ops *ops)
{
	yajl_val	po = sr_jnode_kw(o, kw),
				pu = sr_jnode_kw(u, kw);
	size_t		saved = sr_jpath_push(c, kw);

	po = YAJL_IS_OBJECT(po) ? po : NULL;
	pu = YAJL_IS_OBJECT(pu) ? pu : NULL;
	for (size_t i = 0; po != NULL && i < po->u.object.len; i++)
	{
		const char *k = po->u.object.keys[i];
		yajl_val	up = sr_json_get(pu, k);
		size_t		s2 = sr_jpath_push_key(c, k);

		if (up == NULL)
			ops->removed(c, o, u, k, po->u.object.values[i]);
		else
			ops->both(c, o, u, po->u.object.values[i], up);
		sr_jpath_pop(c, s2);
	}
	for (size_t i = 0; pu != NULL && i < pu->u.object.len; i++)
	{
		const char *k = pu->u.object.keys[i];
		size_t		s2;

		if (sr_json_get(po, k) != NULL)
			continue;
		s2 = sr_jpath_push_key(c, k);
		ops->added(c, o, u, k, pu->u.object.values[i]);
		sr_jpath_pop(c, s2);
	}
	sr_jpath_pop(c, saved);
}

static void
cmp_properties(jctx *c, const jnode *o, const jnode *u)
{
	static const keyed_ops ops = {both_compare, property_removed, property_added};

	cmp_keyed(c, o, u, "properties", &ops);
}

/* What a model gives a name no pattern of the other version names: its
 * additionalProperties schema, or `true` (open) or `false` (closed). */
static jref
rest_model(const jnode *n)
{
	yajl_val	ap = sr_jnode_kw(n, "additionalProperties");
	jref		r = {n->ref.root, &any_value, F_WHOLE};

	if (additional_schema(ap) != NULL)
		r.v = ap;
	else if (YAJL_IS_FALSE(ap))
		r.v = &no_value;
	return r;
}

/* A pattern the update drops: what the update now gives those names must
 * read what the pattern allowed. */
static void
pattern_removed(jctx *c, const jnode *o, const jnode *u, const char *pattern, yajl_val sch)
{
	(void) pattern;
	covered(c, sub_ref(o, sch), rest_model(u), "PATTERN_PROPERTY_REMOVED_IS_COVERED",
			"PATTERN_PROPERTY_REMOVED_NOT_COVERED");
}

/* A pattern of the update the original lacks: the names it matches were
 * governed by the original's additional properties, and its declared
 * properties that match now have to satisfy the pattern's schema too. */
static void
pattern_added(jctx *c, const jnode *o, const jnode *u, const char *pattern, yajl_val sch)
{
	yajl_val	po = sr_jnode_kw(o, "properties");

	covered(c, rest_model(o), sub_ref(u, sch), "PATTERN_PROPERTY_ADDED_IS_COVERED",
			"PATTERN_PROPERTY_ADDED_NOT_COVERED");
	for (size_t i = 0; YAJL_IS_OBJECT(po) && i < po->u.object.len; i++)
		if (regex_finds(pattern, po->u.object.keys[i]))
			covered(c, sub_ref(o, po->u.object.values[i]), sub_ref(u, sch),
					"PATTERN_PROPERTY_ADDED_IS_COVERED", "PATTERN_PROPERTY_ADDED_NOT_COVERED");
}

/*
 * patternProperties, pattern by pattern (patterns compare as strings):
 * one in both compares its schemas; one the update drops must be covered
 * by what the update gives other names (additionalProperties); one it adds
 * must cover what the original gave those names.  Confluent leaves
 * patternProperties out, so narrowing one passed unseen.
 */
static void
cmp_patterns(jctx *c, const jnode *o, const jnode *u)
{
	static const keyed_ops ops = {both_compare, pattern_removed, pattern_added};

	cmp_keyed(c, o, u, "patternProperties", &ops);
}

/* Property dependencies (arrays) and schema dependencies, from
 * "dependencies" or the 2019-09 split keywords. */
static yajl_val
dependency(const jnode *n, const char *key, bool want_array)
{
	yajl_val	d = sr_json_get(sr_jnode_kw(n, "dependencies"), key);

	if (d == NULL)
		d = sr_json_get(sr_jnode_kw(n, want_array ? "dependentRequired" : "dependentSchemas"), key);
	if (d == NULL || YAJL_IS_ARRAY(d) != want_array)
		return NULL;
	return d;
}

static void
cmp_dependency(jctx *c, const jnode *o, const jnode *u, const char *k)
{
	yajl_val	ao = dependency(o, k, true),
				au = dependency(u, k, true);
	yajl_val	so = dependency(o, k, false),
				su = dependency(u, k, false);
	size_t		saved = sr_jpath_push_key(c, k);

	if (ao != NULL || au != NULL)
	{
		if (au == NULL)
			sr_jdiff(c, "DEPENDENCY_ARRAY_REMOVED", NULL);
		else if (ao == NULL)
			sr_jdiff(c, "DEPENDENCY_ARRAY_ADDED", NULL);
		else if (!sr_jvalues_within(ao, au) || !sr_jvalues_within(au, ao))
			sr_jdiff(c, sr_jvalues_within(ao, au) ? "DEPENDENCY_ARRAY_EXTENDED"
				  : sr_jvalues_within(au, ao) ? "DEPENDENCY_ARRAY_NARROWED"
				  : "DEPENDENCY_ARRAY_CHANGED", NULL);
	}
	if (so != NULL || su != NULL)
	{
		if (su == NULL)
			sr_jdiff(c, "DEPENDENCY_SCHEMA_REMOVED", NULL);
		else if (so == NULL)
			sr_jdiff(c, "DEPENDENCY_SCHEMA_ADDED", NULL);
		else
			sr_jcmp(c, sub_ref(o, so), sub_ref(u, su));
	}
	sr_jpath_pop(c, saved);
}

/* Every dependency key of either side, compared once. */
static void
cmp_dependencies(jctx *c, const jnode *o, const jnode *u)
{
	static const char *const kws[] = {"dependencies", "dependentRequired", "dependentSchemas"};
	const jnode *side[2] = {o, u};
	size_t		saved = sr_jpath_push(c, "dependencies");

	for (int s = 0; s < 2; s++)
		for (int w = 0; w < 3; w++)
		{
			yajl_val	d = sr_jnode_kw(side[s], kws[w]);

			for (size_t i = 0; YAJL_IS_OBJECT(d) && i < d->u.object.len; i++)
			{
				const char *k = d->u.object.keys[i];
				bool		before = false;

				/* skip keys an earlier side or keyword already covered */
				for (int s2 = 0; !before && s2 <= s; s2++)
					for (int w2 = 0; !before && w2 < (s2 < s ? 3 : w); w2++)
						before = sr_json_get(sr_jnode_kw(side[s2], kws[w2]), k) != NULL;
				if (!before)
					cmp_dependency(c, o, u, k);
			}
		}
	sr_jpath_pop(c, saved);
}

/* additionalProperties / additionalItems: false, absent/true, or a
 * schema. */
static void
cmp_additional(jctx *c, const jnode *o, const jnode *u, yajl_val ao, yajl_val au,
			   const char *attr, const char *prefix)
{
	size_t		saved = sr_jpath_push(c, attr);
	bool		po = !YAJL_IS_FALSE(ao),
				pu = !YAJL_IS_FALSE(au);
	yajl_val	so = additional_schema(ao),
				su = additional_schema(au);
	char		kind[64];

	if (po != pu)
		snprintf(kind, sizeof(kind), "%s_%s", prefix, pu ? "ADDED" : "REMOVED");
	else if (so == NULL && su != NULL)
		snprintf(kind, sizeof(kind), "%s_NARROWED", prefix);
	else if (so != NULL && su == NULL)
		snprintf(kind, sizeof(kind), "%s_EXTENDED", prefix);
	else
		kind[0] = '\0';
	if (kind[0] != '\0')
		sr_jdiff(c, kind, NULL);
	else if (so != NULL)
		sr_jcmp(c, sub_ref(o, so), sub_ref(u, su));
	sr_jpath_pop(c, saved);
}

/* A keyword holding one subschema that must read what the original's
 * did (propertyNames, contains): compared as a subschema, so adding it is
 * SCHEMA_ADDED and dropping it SCHEMA_REMOVED.  Confluent compares
 * neither. */
static void
cmp_sub_keyword(jctx *c, const jnode *o, const jnode *u, const char *kw)
{
	size_t		saved = sr_jpath_push(c, kw);

	sr_jcmp(c, sub_ref(o, sr_jnode_kw(o, kw)), sub_ref(u, sr_jnode_kw(u, kw)));
	sr_jpath_pop(c, saved);
}

void
sr_jcmp_object(jctx *c, const jnode *o, const jnode *u)
{
	cmp_required(c, o, u);
	cmp_properties(c, o, u);
	cmp_patterns(c, o, u);
	cmp_sub_keyword(c, o, u, "propertyNames");
	cmp_dependencies(c, o, u);
	cmp_additional(c, o, u, sr_jnode_kw(o, "additionalProperties"),
				   sr_jnode_kw(u, "additionalProperties"), "additionalProperties",
				   "ADDITIONAL_PROPERTIES");
	sr_jcmp_limit(c, sr_jnode_kw(o, "maxProperties"), sr_jnode_kw(u, "maxProperties"), "maxProperties",
			   "MAX_PROPERTIES");
	sr_jcmp_limit(c, sr_jnode_kw(o, "minProperties"), sr_jnode_kw(u, "minProperties"), "minProperties",
			   "MIN_PROPERTIES");
}

/* An array schema's shape: a schema for all items, or tuple items plus a
 * schema or verdict for the rest. */
typedef struct ashape
{
	yajl_val	all;			/* "items" as one schema */
	yajl_val	tuple;			/* the tuple's array, or NULL */
	yajl_val	rest;			/* additionalItems (or items after
								 * prefixItems): false, true, a schema or
								 * NULL */
} ashape;

static ashape
shape_of(const jnode *n)
{
	ashape		s = {0};
	yajl_val	items = sr_jnode_kw(n, "items"),
				prefix = sr_jnode_kw(n, "prefixItems");

	if (YAJL_IS_ARRAY(prefix))
	{
		s.tuple = prefix;
		s.rest = items;
	}
	else if (YAJL_IS_ARRAY(items))
	{
		s.tuple = items;
		s.rest = sr_jnode_kw(n, "additionalItems");
	}
	else
		s.all = items;
	return s;
}

static bool
rest_open(const ashape *s)
{
	return !YAJL_IS_FALSE(s->rest) && additional_schema(s->rest) == NULL;
}

/* One tuple position present on one side only. */
static void
item_only_in(jctx *c, const jnode *o, const jnode *u, const ashape *so, const ashape *su,
			 yajl_val item, bool removed)
{
	const ashape *model = removed ? su : so;
	yajl_val	partial = additional_schema(model->rest);
	jnode		p;

	if (rest_open(model))
	{
		if (removed)
			sr_jdiff(c, "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL", NULL);
		else
		{
			sr_jnode_of(sub_ref(u, item), &p);
			sr_jdiff(c, p.kind == J_EMPTY ? "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
				  : "ITEM_ADDED_TO_OPEN_CONTENT_MODEL", NULL);
		}
	}
	else if (partial != NULL && removed)
		covered(c, sub_ref(o, item), sub_ref(u, partial),
				"ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
				"ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL");
	else if (partial != NULL)
		covered(c, sub_ref(o, partial), sub_ref(u, item),
				"ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
				"ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL");
	else if (removed)
		sr_jdiff(c, YAJL_IS_FALSE(item) ? "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
			  : "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", NULL);
	else
		sr_jdiff(c, "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", NULL);
}

static void
cmp_tuple(jctx *c, const jnode *o, const jnode *u, const ashape *so, const ashape *su)
{
	size_t		no = so->tuple ? so->tuple->u.array.len : 0,
				nu = su->tuple ? su->tuple->u.array.len : 0;

	for (size_t i = 0; i < (no > nu ? no : nu); i++)
	{
		char		seg[32];
		size_t		saved;

		snprintf(seg, sizeof(seg), "items/%zu", i);
		saved = sr_jpath_push(c, seg);
		if (i < no && i < nu)
			sr_jcmp(c, sub_ref(o, so->tuple->u.array.values[i]), sub_ref(u, su->tuple->u.array.values[i]));
		else if (i < no)
			item_only_in(c, o, u, so, su, so->tuple->u.array.values[i], true);
		else
			item_only_in(c, o, u, so, su, su->tuple->u.array.values[i], false);
		sr_jpath_pop(c, saved);
	}
}

void
sr_jcmp_array(jctx *c, const jnode *o, const jnode *u)
{
	ashape		so = shape_of(o),
				su = shape_of(u);
	yajl_val	uo = sr_jnode_kw(o, "uniqueItems"),
				uu = sr_jnode_kw(u, "uniqueItems");
	size_t		saved = sr_jpath_push(c, "items");

	sr_jcmp(c, sub_ref(o, so.all), sub_ref(u, su.all));
	sr_jpath_pop(c, saved);
	cmp_tuple(c, o, u, &so, &su);
	cmp_sub_keyword(c, o, u, "contains");
	cmp_additional(c, o, u, so.tuple ? so.rest : NULL, su.tuple ? su.rest : NULL,
				   "additionalItems", "ADDITIONAL_ITEMS");
	sr_jcmp_limit(c, sr_jnode_kw(o, "maxItems"), sr_jnode_kw(u, "maxItems"), "maxItems", "MAX_ITEMS");
	sr_jcmp_limit(c, sr_jnode_kw(o, "minItems"), sr_jnode_kw(u, "minItems"), "minItems", "MIN_ITEMS");
	if (YAJL_IS_TRUE(uo) != YAJL_IS_TRUE(uu))
		sr_jdiff(c, YAJL_IS_TRUE(uo) ? "UNIQUE_ITEMS_REMOVED" : "UNIQUE_ITEMS_ADDED", "uniqueItems");
}
