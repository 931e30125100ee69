/*
 * sr_avro_model.c: builds the resolved Avro model (sr_avro.h) from a
 * schema document that libavro has already accepted, and enforces the
 * rules of the Avro specification that libavro leaves out: unique field
 * names, enum symbols and union branches, no union directly inside a
 * union, a non-negative fixed size, an enum default among the symbols,
 * and field defaults that match their type.
 *
 * Names follow the specification: a name with a dot is a full name;
 * otherwise the "namespace" attribute, else the namespace of the nearest
 * enclosing named type, qualifies it.  A reference without a dot is looked
 * up in the enclosing namespace first, then as a bare name.  A named type
 * is registered before its fields are built, so a record may refer to
 * itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr_avro.h"

typedef struct build_ctx
{
	sr_avro    *a;
	char	   *errbuf;
	size_t		errlen;
	bool		failed;
} build_ctx;

static sr_anode *build(build_ctx *c, yajl_val v, const char *ns, int depth);

static const char *const kind_names[] = {
	"null", "boolean", "int", "long", "float", "double", "bytes", "string",
	"record", "enum", "array", "map", "union", "fixed"
};

const char *
sr_akind_name(sr_akind k)
{
	return kind_names[k];
}

/* Record an error (the first one wins); returns NULL for convenience. */
static sr_anode *
fail(build_ctx *c, const char *fmt, const char *a1, const char *a2)
{
	if (!c->failed)
		snprintf(c->errbuf, c->errlen, fmt, a1, a2);
	c->failed = true;
	return NULL;
}

/* Record running out of memory; returns NULL. */
static sr_anode *
oom(build_ctx *c)
{
	return fail(c, "out of memory (%s%s)", "Avro", " model");
}

static sr_anode *
new_node(build_ctx *c, sr_akind kind)
{
	sr_anode   *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return oom(c);
	n->kind = kind;
	n->next = c->a->all;
	c->a->all = n;
	return n;
}

/* The primitive kind a type name denotes, or -1. */
static int
primitive_kind(const char *s)
{
	for (int k = SR_A_NULL; k <= SR_A_STRING; k++)
		if (strcmp(s, kind_names[k]) == 0)
			return k;
	return -1;
}

/* "ns.name", or name when it has a dot or ns is empty; malloc'd. */
static char *
qualify(const char *name, const char *ns)
{
	char	   *s;

	if (strchr(name, '.') != NULL || ns == NULL || ns[0] == '\0')
		return strdup(name);
	if (asprintf(&s, "%s.%s", ns, name) < 0)
		return NULL;
	return s;
}

static sr_anode *
find_named(const sr_avro *a, const char *fullname)
{
	for (size_t i = 0; i < a->nnamed; i++)
		if (strcmp(a->named[i]->fullname, fullname) == 0)
			return a->named[i];
	return NULL;
}

/* Resolve a reference to a named type. */
static sr_anode *
lookup(build_ctx *c, const char *ref, const char *ns)
{
	char	   *full = qualify(ref, ns);
	sr_anode   *n;

	if (full == NULL)
		return oom(c);
	n = find_named(c->a, full);
	free(full);
	if (n == NULL)
		n = find_named(c->a, ref);
	if (n == NULL)
		return fail(c, "unknown Avro type \"%s\"%s", ref, "");
	return n;
}

/* Give a named node its full name and register it. */
static bool
name_node(build_ctx *c, sr_anode *n, yajl_val v, const char *ns)
{
	const char *name = sr_json_get_str(v, "name");
	const char *space = sr_json_get_str(v, "namespace");
	const char *dot;
	sr_avro    *a = c->a;

	if (name == NULL)
		return fail(c, "a named Avro type has no \"name\"%s%s", "", ""), false;
	if (strchr(name, '.') == NULL && space != NULL)
		ns = space;
	n->fullname = qualify(name, ns);
	if (n->fullname == NULL)
		return oom(c), false;
	dot = strrchr(n->fullname, '.');
	n->name = dot ? dot + 1 : n->fullname;
	if (find_named(a, n->fullname) != NULL)
		return fail(c, "the Avro type \"%s\" is defined twice%s", n->fullname, ""), false;
	if (a->nnamed == a->capnamed)
	{
		size_t		cap = a->capnamed ? a->capnamed * 2 : 8;
		sr_anode  **p = realloc(a->named, cap * sizeof(*p));

		if (p == NULL)
			return oom(c), false;
		a->named = p;
		a->capnamed = cap;
	}
	a->named[a->nnamed++] = n;
	return true;
}

/* Copy an "aliases" array, qualifying each with ns; false on OOM. */
static bool
copy_aliases(build_ctx *c, yajl_val v, const char *ns, char ***out, size_t *nout)
{
	yajl_val	al = sr_json_get(v, "aliases");

	*out = NULL;
	*nout = 0;
	if (!YAJL_IS_ARRAY(al) || al->u.array.len == 0)
		return true;
	*out = calloc(al->u.array.len, sizeof(char *));
	if (*out == NULL)
		return oom(c), false;
	for (size_t i = 0; i < al->u.array.len; i++)
	{
		const char *s = YAJL_GET_STRING(al->u.array.values[i]);

		if (s == NULL)
			continue;
		(*out)[*nout] = qualify(s, ns);
		if ((*out)[*nout] == NULL)
			return oom(c), false;
		(*nout)++;
	}
	return true;
}

static void free_aliases(char **al, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(al[i]);
	free(al);
}

static bool default_ok(const sr_anode *t, yajl_val d, int depth);

/* Whether every value (array items, map values) fits the type. */
static bool
all_ok(const sr_anode *t, const yajl_val *values, size_t n, int depth)
{
	for (size_t i = 0; i < n; i++)
		if (!default_ok(t, values[i], depth))
			return false;
	return true;
}

/* Whether a JSON default value fits the type (the specification's table). */
static bool
default_ok(const sr_anode *t, yajl_val d, int depth)
{
	if (depth > SR_MAX_DEPTH)
		return false;
	switch (t->kind)
	{
		case SR_A_NULL:
			return YAJL_IS_NULL(d);
		case SR_A_BOOLEAN:
			return YAJL_IS_TRUE(d) || YAJL_IS_FALSE(d);
		case SR_A_INT:
			return YAJL_IS_INTEGER(d) && d->u.number.i >= INT32_MIN && d->u.number.i <= INT32_MAX;
		case SR_A_LONG:
			return YAJL_IS_INTEGER(d);
		case SR_A_FLOAT:
		case SR_A_DOUBLE:
			return YAJL_IS_NUMBER(d);
		case SR_A_BYTES:
		case SR_A_STRING:
		case SR_A_FIXED:
			return YAJL_IS_STRING(d);
		case SR_A_ENUM:
			if (!YAJL_IS_STRING(d))
				return false;
			for (size_t i = 0; i < t->nsymbols; i++)
				if (strcmp(t->symbols[i], d->u.string) == 0)
					return true;
			return false;
		case SR_A_ARRAY:
			return YAJL_IS_ARRAY(d) &&
				all_ok(t->items, d->u.array.values, d->u.array.len, depth + 1);
		case SR_A_MAP:
			return YAJL_IS_OBJECT(d) &&
				all_ok(t->items, d->u.object.values, d->u.object.len, depth + 1);
		case SR_A_RECORD:
			if (!YAJL_IS_OBJECT(d))
				return false;
			for (size_t i = 0; i < t->nfields; i++)
			{
				yajl_val	fv = sr_json_get(d, t->fields[i].name);

				if (fv == NULL ? t->fields[i].def == NULL
					: !default_ok(t->fields[i].type, fv, depth + 1))
					return false;
			}
			return true;
		case SR_A_UNION:
			/* any branch (the specification says the first; the Java
			 * and Confluent parsers accept any, and so do we) */
			for (size_t i = 0; i < t->nbranches; i++)
				if (default_ok(t->branches[i], d, depth + 1))
					return true;
			return false;
	}
	return false;
}

/* The fields of a record. */
static bool
build_fields(build_ctx *c, sr_anode *n, yajl_val v, const char *ns, int depth)
{
	yajl_val	fs = sr_json_get(v, "fields");
	size_t		nf = YAJL_IS_ARRAY(fs) ? fs->u.array.len : 0;

	n->fields = calloc(nf ? nf : 1, sizeof(*n->fields));
	if (n->fields == NULL)
		return oom(c), false;
	for (size_t i = 0; i < nf; i++)
	{
		yajl_val	f = fs->u.array.values[i];
		sr_afield  *af = &n->fields[n->nfields];

		af->name = sr_json_get_str(f, "name");
		if (af->name == NULL)
			return fail(c, "a field of record \"%s\" has no name%s", n->fullname, ""), false;
		for (size_t j = 0; j < n->nfields; j++)
			if (strcmp(n->fields[j].name, af->name) == 0)
				return fail(c, "record \"%s\" has two fields named \"%s\"", n->fullname,
							af->name), false;
		n->nfields++;
		if (!copy_aliases(c, f, NULL, &af->aliases, &af->naliases))
			return false;
		af->type = build(c, sr_json_get(f, "type"), ns, depth + 1);
		if (af->type == NULL)
			return false;
		af->def = sr_json_get(f, "default");
	}
	return true;
}

/* Check every field default once all types are built (a default may use a
 * type defined later in the document). */
static bool
check_defaults(build_ctx *c)
{
	for (sr_anode *n = c->a->all; n != NULL; n = n->next)
		for (size_t i = 0; n->kind == SR_A_RECORD && i < n->nfields; i++)
			if (n->fields[i].def != NULL &&
				!default_ok(n->fields[i].type, n->fields[i].def, 0))
				return fail(c, "the default of field \"%s\" of record \"%s\" does not match its type",
							n->fields[i].name, n->fullname), false;
	return true;
}

static bool
build_enum(build_ctx *c, sr_anode *n, yajl_val v)
{
	yajl_val	syms = sr_json_get(v, "symbols");
	size_t		ns = YAJL_IS_ARRAY(syms) ? syms->u.array.len : 0;

	n->symbols = calloc(ns ? ns : 1, sizeof(*n->symbols));
	if (n->symbols == NULL)
		return oom(c), false;
	for (size_t i = 0; i < ns; i++)
	{
		const char *s = YAJL_GET_STRING(syms->u.array.values[i]);

		if (s == NULL)
			return fail(c, "a symbol of enum \"%s\" is not a string%s", n->fullname, ""), false;
		for (size_t j = 0; j < n->nsymbols; j++)
			if (strcmp(n->symbols[j], s) == 0)
				return fail(c, "enum \"%s\" lists the symbol \"%s\" twice", n->fullname, s), false;
		n->symbols[n->nsymbols++] = s;
	}
	n->enum_default = sr_json_get_str(v, "default");
	if (n->enum_default != NULL)
	{
		for (size_t i = 0; i < n->nsymbols; i++)
			if (strcmp(n->symbols[i], n->enum_default) == 0)
				return true;
		return fail(c, "the default \"%s\" of enum \"%s\" is not one of its symbols",
					n->enum_default, n->fullname), false;
	}
	return true;
}

/* Whether two union branches would be ambiguous (same unnamed kind, or
 * the same named type). */
static bool
same_branch(const sr_anode *x, const sr_anode *y)
{
	if (x->kind != y->kind)
		return false;
	if (x->fullname != NULL && y->fullname != NULL)
		return strcmp(x->fullname, y->fullname) == 0;
	return true;
}

static sr_anode *
build_union(build_ctx *c, yajl_val v, const char *ns, int depth)
{
	sr_anode   *n = new_node(c, SR_A_UNION);
	size_t		nb = v->u.array.len;

	if (n == NULL)
		return NULL;
	n->branches = calloc(nb ? nb : 1, sizeof(*n->branches));
	if (n->branches == NULL)
		return oom(c);
	for (size_t i = 0; i < nb; i++)
	{
		sr_anode   *b = build(c, v->u.array.values[i], ns, depth + 1);

		if (b == NULL)
			return NULL;
		if (b->kind == SR_A_UNION)
			return fail(c, "a union may not hold another union directly%s%s", "", "");
		for (size_t j = 0; j < n->nbranches; j++)
			if (same_branch(n->branches[j], b))
				return fail(c, "a union holds the type \"%s\" twice%s",
							b->fullname ? b->fullname : sr_akind_name(b->kind), "");
		n->branches[n->nbranches++] = b;
	}
	return n;
}

/* The decimal logical type of a bytes or fixed node. */
static void
read_decimal(sr_anode *n, yajl_val v)
{
	const char *lt = sr_json_get_str(v, "logicalType");
	yajl_val	p = sr_json_get(v, "precision"),
				s = sr_json_get(v, "scale");

	if (lt == NULL || strcmp(lt, "decimal") != 0 || !YAJL_IS_INTEGER(p) || p->u.number.i <= 0)
		return;					/* an invalid logical type is ignored, as the
								 * specification says */
	n->decimal = true;
	n->precision = p->u.number.i;
	n->scale = YAJL_IS_INTEGER(s) ? s->u.number.i : 0;
	if (n->scale < 0 || n->scale > n->precision)
		n->decimal = false;
}

/* A named type (record, error, enum, fixed) given as an object. */
static sr_anode *
build_named(build_ctx *c, yajl_val v, const char *type, const char *ns, int depth)
{
	sr_akind	k = strcmp(type, "enum") == 0 ? SR_A_ENUM
		: strcmp(type, "fixed") == 0 ? SR_A_FIXED : SR_A_RECORD;
	sr_anode   *n = new_node(c, k);
	char	   *inner = NULL;
	bool		ok;

	if (n == NULL || !name_node(c, n, v, ns))
		return NULL;
	/* what is nested takes the namespace of this type's full name */
	if (n->name != n->fullname)
	{
		inner = strndup(n->fullname, (size_t) (n->name - 1 - n->fullname));
		if (inner == NULL)
			return oom(c);
	}
	ok = copy_aliases(c, v, inner, &n->aliases, &n->naliases);
	if (ok && k == SR_A_RECORD)
		ok = build_fields(c, n, v, inner ? inner : "", depth);
	else if (ok && k == SR_A_ENUM)
		ok = build_enum(c, n, v);
	else if (ok)
	{
		yajl_val	sz = sr_json_get(v, "size");

		n->size = YAJL_IS_INTEGER(sz) ? sz->u.number.i : -1;
		if (n->size < 0)
		{
			fail(c, "fixed \"%s\" needs a size of 0 or more%s", n->fullname, "");
			ok = false;
		}
		read_decimal(n, v);
	}
	free(inner);
	return ok ? n : NULL;
}

/* Build the node of any schema value. */
static sr_anode *
build(build_ctx *c, yajl_val v, const char *ns, int depth)
{
	const char *type;
	int			pk;
	sr_anode   *n;

	if (c->failed)
		return NULL;
	if (depth > SR_MAX_DEPTH)
		return fail(c, "the Avro schema nests too deeply%s%s", "", "");
	if (YAJL_IS_STRING(v))
	{
		pk = primitive_kind(v->u.string);
		return pk >= 0 ? new_node(c, (sr_akind) pk) : lookup(c, v->u.string, ns);
	}
	if (YAJL_IS_ARRAY(v))
		return build_union(c, v, ns, depth);
	if (!YAJL_IS_OBJECT(v))
		return fail(c, "an Avro schema is a string, an array or an object%s%s", "", "");
	yajl_val	tv = sr_json_get(v, "type");

	if (!YAJL_IS_STRING(tv))
		return build(c, tv, ns, depth + 1);
	type = tv->u.string;
	if ((pk = primitive_kind(type)) >= 0)
	{
		n = new_node(c, (sr_akind) pk);
		if (n != NULL && pk == SR_A_BYTES)
			read_decimal(n, v);
		return n;
	}
	if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0)
	{
		bool		arr = type[0] == 'a';

		n = new_node(c, arr ? SR_A_ARRAY : SR_A_MAP);
		if (n != NULL)
			n->items = build(c, sr_json_get(v, arr ? "items" : "values"), ns, depth + 1);
		return n && n->items ? n : NULL;
	}
	if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0 ||
		strcmp(type, "enum") == 0 || strcmp(type, "fixed") == 0)
		return build_named(c, v, type, ns, depth);
	return lookup(c, type, ns);
}

sr_avro *
sr_avro_build(yajl_val root, char *errbuf, size_t errlen)
{
	build_ctx	c = {.errbuf = errbuf, .errlen = errlen};

	c.a = calloc(1, sizeof(*c.a));
	if (c.a == NULL)
		return sr_err(errbuf, errlen, "out of memory"), NULL;
	if (errlen == 0)
		c.errbuf = NULL;
	c.a->root = build(&c, root, "", 0);
	if (c.a->root != NULL)
		check_defaults(&c);
	if (c.failed || c.a->root == NULL)
	{
		if (!c.failed)
			sr_err(errbuf, errlen, "invalid Avro schema");
		sr_avro_free(c.a);
		return NULL;
	}
	return c.a;
}

void
sr_avro_free(sr_avro *a)
{
	sr_anode   *n,
			   *next;

	if (a == NULL)
		return;
	for (n = a->all; n != NULL; n = next)
	{
		next = n->next;
		for (size_t i = 0; i < n->nfields; i++)
			free_aliases(n->fields[i].aliases, n->fields[i].naliases);
		free(n->fields);
		free(n->symbols);
		free(n->branches);
		free_aliases(n->aliases, n->naliases);
		free(n->fullname);
		free(n);
	}
	free(a->named);
	free(a);
}
