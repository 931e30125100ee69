/*
 * sr_jsch_model.c: the normalized view of a JSON Schema node (see
 * sr_jsch.h for the model), local "$ref" resolution, and the validation a
 * JSON Schema document gets when it is parsed (every "$ref" local and
 * resolvable).
 *
 * Keywords that imply a type when "type" is absent, as everit reads them:
 * object (properties, required, additionalProperties, patternProperties,
 * minProperties, maxProperties, dependencies, dependentRequired,
 * dependentSchemas, propertyNames), array (items, prefixItems,
 * additionalItems, minItems, maxItems, uniqueItems, contains), string
 * (minLength, maxLength, pattern, format) and number (minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum, multipleOf).
 */
#include <stdlib.h>
#include <string.h>

#include "sr_jsch.h"

static const char *const object_kws[] = {
	"properties", "required", "additionalProperties", "patternProperties",
	"minProperties", "maxProperties", "dependencies", "dependentRequired",
	"dependentSchemas", "propertyNames", NULL
};
static const char *const array_kws[] = {
	"items", "prefixItems", "additionalItems", "minItems", "maxItems",
	"uniqueItems", "contains", NULL
};
static const char *const string_kws[] = {"minLength", "maxLength", "pattern", "format", NULL};
static const char *const number_kws[] = {
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", NULL
};

/* The type names in "type" order, with their facets. */
static const struct
{
	const char *name;
	jfacet		facet;
}			type_names[] = {
	{"string", F_TYPE_STRING}, {"number", F_TYPE_NUMBER}, {"integer", F_TYPE_INTEGER},
	{"boolean", F_TYPE_BOOLEAN}, {"null", F_TYPE_NULL}, {"object", F_TYPE_OBJECT},
	{"array", F_TYPE_ARRAY},
};

static bool
has_any(yajl_val v, const char *const *kws)
{
	for (; *kws != NULL; kws++)
		if (sr_json_get(v, *kws) != NULL)
			return true;
	return false;
}

static jfacet
type_facet(const char *name)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(type_names[i].name, name) == 0)
			return type_names[i].facet;
	return F_WHOLE;				/* unknown type name: no constraint */
}

/* Decode one JSON pointer token (~1 is "/", ~0 is "~") into out. */
static void
unescape_token(const char *s, size_t n, char *out)
{
	size_t		j = 0;

	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1'))
		{
			out[j++] = s[i + 1] == '1' ? '/' : '~';
			i++;
		}
		else
			out[j++] = s[i];
	}
	out[j] = '\0';
}

/* The value a local reference ("#", "#/a/b") points to, or NULL. */
yajl_val
sr_jsch_deref(yajl_val root, const char *ref)
{
	yajl_val	v = root;
	const char *p;
	char		tok[256];

	if (ref[0] != '#' || (ref[1] != '\0' && ref[1] != '/'))
		return NULL;
	for (p = ref + 1; *p == '/' && v != NULL;)
	{
		const char *end = strchr(p + 1, '/');
		size_t		n = end ? (size_t) (end - p - 1) : strlen(p + 1);

		if (n >= sizeof(tok))
			return NULL;
		unescape_token(p + 1, n, tok);
		if (YAJL_IS_OBJECT(v))
			v = sr_json_get(v, tok);
		else if (YAJL_IS_ARRAY(v))
		{
			char	   *e;
			unsigned long i = strtoul(tok, &e, 10);

			v = (*e == '\0' && tok[0] != '\0' && i < v->u.array.len) ? v->u.array.values[i] : NULL;
		}
		else
			v = NULL;
		p += n + 1;
	}
	return v;
}

/* Follow "$ref" chains; NULL when one does not resolve or they loop. */
static yajl_val
follow_refs(yajl_val root, yajl_val v)
{
	for (int hops = 0; YAJL_IS_OBJECT(v); hops++)
	{
		const char *ref = sr_json_get_str(v, "$ref");

		if (ref == NULL)
			return v;
		if (hops > 32)
			return NULL;
		v = sr_jsch_deref(root, ref);
	}
	return v;
}

/* The type part of v: its facets (one per type), how many. */
static size_t
type_facets(yajl_val v, jfacet *out)
{
	yajl_val	t = sr_json_get(v, "type");
	size_t		n = 0;

	if (YAJL_IS_STRING(t))
	{
		out[0] = type_facet(t->u.string);
		return out[0] == F_WHOLE ? 0 : 1;
	}
	if (YAJL_IS_ARRAY(t))
	{
		for (size_t i = 0; i < t->u.array.len && n < J_MAX_SUB; i++)
		{
			const char *s = YAJL_GET_STRING(t->u.array.values[i]);
			jfacet		f = s ? type_facet(s) : F_WHOLE;

			if (f != F_WHOLE)
				out[n++] = f;
		}
		return n;
	}
	if (t != NULL)
		return 0;
	if (has_any(v, object_kws))
		out[n++] = F_TYPE_OBJECT;
	if (has_any(v, array_kws))
		out[n++] = F_TYPE_ARRAY;
	if (has_any(v, string_kws))
		out[n++] = F_TYPE_STRING;
	if (has_any(v, number_kws))
		out[n++] = F_TYPE_NUMBER;
	return n;
}

/* The parts of a whole value: type part, enum, const, not, combinators. */
static size_t
parts_of(yajl_val v, jfacet *out)
{
	jfacet		tf[J_MAX_SUB];
	size_t		n = 0;

	if (type_facets(v, tf) > 0)
		out[n++] = F_TYPES;
	if (sr_json_get(v, "enum") != NULL)
		out[n++] = F_ENUM;
	if (sr_json_get(v, "const") != NULL)
		out[n++] = F_CONST;
	if (sr_json_get(v, "not") != NULL)
		out[n++] = F_NOT;
	if (YAJL_IS_ARRAY(sr_json_get(v, "allOf")))
		out[n++] = F_ALLOF;
	if (YAJL_IS_ARRAY(sr_json_get(v, "anyOf")))
		out[n++] = F_ANYOF;
	if (YAJL_IS_ARRAY(sr_json_get(v, "oneOf")))
		out[n++] = F_ONEOF;
	return n;
}

/* A combined node over synthetic parts of the same value. */
static void
synthetic(jnode *out, jcrit crit, const jfacet *facets, size_t n)
{
	out->kind = J_COMBINED;
	out->crit = crit;
	out->synthetic = true;
	out->nsub = n;
	for (size_t i = 0; i < n; i++)
	{
		out->sub[i] = out->ref;
		out->sub[i].facet = facets[i];
	}
}

/* Classify a single-type facet. */
static void
typed(jnode *out, jfacet f)
{
	static const jkind kinds[] = {
		[F_TYPE_STRING] = J_STRING, [F_TYPE_NUMBER] = J_NUMBER, [F_TYPE_INTEGER] = J_NUMBER,
		[F_TYPE_BOOLEAN] = J_BOOLEAN, [F_TYPE_NULL] = J_NULL, [F_TYPE_OBJECT] = J_OBJECT,
		[F_TYPE_ARRAY] = J_ARRAY,
	};

	out->kind = kinds[f];
	out->integer = f == F_TYPE_INTEGER;
}

bool
sr_jnode_of(jref r, jnode *out)
{
	jfacet		fs[J_MAX_SUB];
	size_t		n;

	memset(out, 0, sizeof(*out));
	if (r.facet == F_WHOLE)
	{
		r.v = follow_refs(r.root, r.v);
		if (r.v == NULL)		/* a $ref loop: it constrains nothing */
			return (out->kind = J_EMPTY, true);
	}
	out->ref = r;
	if (YAJL_IS_FALSE(r.v))
		return (out->kind = J_FALSE, true);
	if (!YAJL_IS_OBJECT(r.v))
		return (out->kind = J_EMPTY, true);
	switch (r.facet)
	{
		case F_WHOLE:
			n = parts_of(r.v, fs);
			if (n == 0)
				out->kind = J_EMPTY;
			else if (n > 1)
				synthetic(out, C_ALL, fs, n);
			else
			{
				r.facet = fs[0];
				return sr_jnode_of(r, out);
			}
			return true;
		case F_TYPES:
			n = type_facets(r.v, fs);
			if (n == 1)
				typed(out, fs[0]);
			else
				synthetic(out, C_ANY, fs, n);
			return true;
		case F_ENUM:
			return (out->kind = J_ENUM, true);
		case F_CONST:
			return (out->kind = J_CONST, true);
		case F_NOT:
			return (out->kind = J_NOT, true);
		case F_ALLOF:
		case F_ANYOF:
		case F_ONEOF:
			out->kind = J_COMBINED;
			out->crit = r.facet == F_ALLOF ? C_ALL : r.facet == F_ANYOF ? C_ANY : C_ONE;
			out->nsub = sr_json_get(r.v, r.facet == F_ALLOF ? "allOf"
									: r.facet == F_ANYOF ? "anyOf" : "oneOf")->u.array.len;
			return true;
		default:
			typed(out, r.facet);
			return true;
	}
}

jref
sr_jnode_sub(const jnode *n, size_t i)
{
	jref		r = n->ref;

	if (n->synthetic)
		return n->sub[i];
	r.v = sr_json_get(n->ref.v, n->crit == C_ALL ? "allOf" : n->crit == C_ANY ? "anyOf" : "oneOf")
		->u.array.values[i];
	r.facet = F_WHOLE;
	return r;
}

yajl_val
sr_jnode_kw(const jnode *n, const char *key)
{
	return sr_json_get(n->ref.v, key);
}

/* Every "$ref" in the document is local and resolves. */
static bool
refs_ok(yajl_val root, yajl_val v, int depth, char *errbuf, size_t errlen)
{
	if (YAJL_IS_ARRAY(v))
	{
		for (size_t i = 0; i < v->u.array.len; i++)
			if (!refs_ok(root, v->u.array.values[i], depth + 1, errbuf, errlen))
				return false;
		return true;
	}
	if (!YAJL_IS_OBJECT(v))
		return true;
	for (size_t i = 0; i < v->u.object.len; i++)
	{
		yajl_val	x = v->u.object.values[i];

		if (strcmp(v->u.object.keys[i], "$ref") == 0 && YAJL_IS_STRING(x))
		{
			if (x->u.string[0] != '#')
				return sr_err(errbuf, errlen, "\"$ref\": \"%s\": only local references "
							  "(\"#/definitions/...\", \"#/$defs/...\") are supported", x->u.string);
			if (sr_jsch_deref(root, x->u.string) == NULL)
				return sr_err(errbuf, errlen, "\"$ref\": \"%s\" points to nothing in the document",
							  x->u.string);
		}
		else if (!refs_ok(root, x, depth + 1, errbuf, errlen))
			return false;
	}
	return true;
}

bool
sr_jsch_validate(yajl_val root, char *errbuf, size_t errlen)
{
	return refs_ok(root, root, 0, errbuf, errlen);
}
