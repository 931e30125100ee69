/*
 * sr_avro_compat.c: Avro schema resolution as a checker: every way a
 * reader schema cannot read data written with a writer schema, following
 * the Avro specification's resolution rules and the incompatibility kinds
 * of Avro's Java SchemaCompatibility (which Confluent reports):
 *   TYPE_MISMATCH         kinds that do not resolve; promotions allowed:
 *                         int to long, float, double; long to float,
 *                         double; float to double; string <-> bytes
 *   NAME_MISMATCH         records, enums, fixed whose unqualified names
 *                         differ and no reader alias names the writer
 *   FIXED_SIZE_MISMATCH   fixed of another size
 *   MISSING_ENUM_SYMBOLS  writer symbols the reader lacks, unless the
 *                         reader's enum has a default
 *   READER_FIELD_MISSING_DEFAULT_VALUE  a reader field with no writer field
 *                         (by name or reader alias) and no default
 *   MISSING_UNION_BRANCH  a writer type (or union branch) no reader branch
 *                         can read
 * Decimals, between the specification and Java: the specification says
 * two decimal logical types match only when scales and precisions are
 * equal, Java ignores logical types; here they resolve with the same
 * scale and a reader precision no smaller than the writer's (a widened
 * precision reads every value written; TYPE_MISMATCH otherwise).
 *
 * Paths are Java's: "/fields/1/type", "/items", "/values", "/symbols",
 * "/size", "/name", a writer union branch index.  Recursion: a
 * (reader, writer) pair already being checked higher up counts as
 * compatible; a work budget bounds the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr_avro.h"

#define A_BUDGET 200000

typedef struct apair
{
	const sr_anode *r;
	const sr_anode *w;
	struct apair *up;
} apair;

typedef struct actx
{
	sr_diffs   *out;
	sr_buf		path;
	apair	   *stack;
	long	   *budget;
	bool	   *too_big;
	int			depth;
	const char *reader;			/* "new" / "old" */
	const char *writer;
} actx;

static void check(actx *c, const sr_anode *r, const sr_anode *w);

static const char *
path_of(actx *c)
{
	return c->path.len > 0 ? c->path.data : "/";
}

static size_t
push(actx *c, const char *seg)
{
	size_t		saved = c->path.len;

	sr_buf_addc(&c->path, '/');
	sr_buf_adds(&c->path, seg);
	return saved;
}

static void
pop(actx *c, size_t saved)
{
	if (c->path.data != NULL)
	{
		c->path.len = saved;
		c->path.data[saved] = '\0';
	}
}

/* A type's name for messages: the full name, or the kind. */
static const char *
type_label(const sr_anode *n)
{
	return n->fullname ? n->fullname : sr_akind_name(n->kind);
}

static void
type_mismatch(actx *c, const sr_anode *r, const sr_anode *w)
{
	sr_diffs_add(c->out, path_of(c), "TYPE_MISMATCH",
				 "At '%s' the %s schema's type %s cannot read the %s schema's type %s",
				 path_of(c), c->reader, type_label(r), c->writer, type_label(w));
}

/* Whether reader can read writer, without reporting. */
static bool
can_read(actx *c, const sr_anode *r, const sr_anode *w)
{
	actx		sub = *c;
	sr_diffs	store = {0};
	bool		ok;

	sub.out = &store;
	memset(&sub.path, 0, sizeof(sub.path));
	sr_buf_add(&sub.path, c->path.data ? c->path.data : "", c->path.len);
	check(&sub, r, w);
	ok = store.count == 0 && !store.oom && !sub.path.oom;
	if (store.oom || sub.path.oom)
		c->out->oom = true;
	sr_buf_free(&sub.path);
	sr_diffs_free(&store);
	return ok;
}

/* The promotions the specification allows, writer kind to reader kind. */
static bool
promotes(sr_akind w, sr_akind r)
{
	switch (w)
	{
		case SR_A_INT:
			return r == SR_A_LONG || r == SR_A_FLOAT || r == SR_A_DOUBLE;
		case SR_A_LONG:
			return r == SR_A_FLOAT || r == SR_A_DOUBLE;
		case SR_A_FLOAT:
			return r == SR_A_DOUBLE;
		case SR_A_STRING:
			return r == SR_A_BYTES;
		case SR_A_BYTES:
			return r == SR_A_STRING;
		default:
			return false;
	}
}

static void
check_name(actx *c, const sr_anode *r, const sr_anode *w)
{
	size_t		saved;

	if (strcmp(r->name, w->name) == 0)
		return;
	for (size_t i = 0; i < r->naliases; i++)
		if (strcmp(r->aliases[i], w->fullname) == 0)
			return;
	saved = push(c, "name");
	sr_diffs_add(c->out, path_of(c), "NAME_MISMATCH",
				 "At '%s' the %s schema names the type %s, but the %s schema wrote %s "
				 "(and no alias of the %s schema's type names it)",
				 path_of(c), c->reader, r->fullname, c->writer, w->fullname, c->reader);
	pop(c, saved);
}

static void
check_enum(actx *c, const sr_anode *r, const sr_anode *w)
{
	sr_buf		missing = {0};
	size_t		n = 0,
				saved;

	check_name(c, r, w);
	if (r->enum_default != NULL)
		return;					/* unknown symbols read as the default */
	for (size_t i = 0; i < w->nsymbols; i++)
	{
		bool		found = false;

		for (size_t j = 0; !found && j < r->nsymbols; j++)
			found = strcmp(w->symbols[i], r->symbols[j]) == 0;
		if (found)
			continue;
		sr_buf_adds(&missing, n++ ? ", " : "");
		sr_buf_adds(&missing, w->symbols[i]);
	}
	if (n == 0)
		return;
	saved = push(c, "symbols");
	if (missing.oom)
		c->out->oom = true;
	else
		sr_diffs_add(c->out, path_of(c), "MISSING_ENUM_SYMBOLS",
					 "At '%s' the %s schema's enum %s lacks the symbol%s %s that the %s schema "
					 "may have written, and has no default", path_of(c), c->reader, r->fullname,
					 n > 1 ? "s" : "", missing.data, c->writer);
	sr_buf_free(&missing);
	pop(c, saved);
}

static void
check_fixed(actx *c, const sr_anode *r, const sr_anode *w)
{
	size_t		saved;

	check_name(c, r, w);
	if (r->size == w->size)
		return;
	saved = push(c, "size");
	sr_diffs_add(c->out, path_of(c), "FIXED_SIZE_MISMATCH",
				 "At '%s' the %s schema's fixed %s has %lld bytes, the %s schema wrote %lld",
				 path_of(c), c->reader, r->fullname, (long long) r->size, c->writer,
				 (long long) w->size);
	pop(c, saved);
}

/* The writer field a reader field reads: same name, else a reader alias. */
static const sr_afield *
writer_field(const sr_anode *w, const sr_afield *rf)
{
	for (size_t i = 0; i < w->nfields; i++)
		if (strcmp(w->fields[i].name, rf->name) == 0)
			return &w->fields[i];
	for (size_t a = 0; a < rf->naliases; a++)
		for (size_t i = 0; i < w->nfields; i++)
			if (strcmp(w->fields[i].name, rf->aliases[a]) == 0)
				return &w->fields[i];
	return NULL;
}

static void
check_record(actx *c, const sr_anode *r, const sr_anode *w)
{
	size_t		saved;

	check_name(c, r, w);
	saved = push(c, "fields");
	for (size_t i = 0; i < r->nfields; i++)
	{
		const sr_afield *rf = &r->fields[i];
		const sr_afield *wf = writer_field(w, rf);
		char		idx[24];
		size_t		s2;

		snprintf(idx, sizeof(idx), "%zu", i);
		s2 = push(c, idx);
		if (wf == NULL && rf->def == NULL)
			sr_diffs_add(c->out, path_of(c), "READER_FIELD_MISSING_DEFAULT_VALUE",
						 "The field '%s' at '%s' of record %s in the %s schema has no default "
						 "value and is missing from the %s schema", rf->name, path_of(c),
						 r->fullname, c->reader, c->writer);
		else if (wf != NULL)
		{
			size_t		s3 = push(c, "type");

			check(c, rf->type, wf->type);
			pop(c, s3);
		}
		pop(c, s2);
	}
	pop(c, saved);
}

/* Decimal logical types: same scale, no narrower precision. */
static void
check_decimal(actx *c, const sr_anode *r, const sr_anode *w)
{
	if (!r->decimal || !w->decimal)
		return;
	if (r->scale != w->scale)
		sr_diffs_add(c->out, path_of(c), "TYPE_MISMATCH",
					 "At '%s' the %s schema's decimal has scale %lld, the %s schema wrote scale %lld",
					 path_of(c), c->reader, (long long) r->scale, c->writer, (long long) w->scale);
	else if (r->precision < w->precision)
		sr_diffs_add(c->out, path_of(c), "TYPE_MISMATCH",
					 "At '%s' the %s schema's decimal has precision %lld, less than the %lld "
					 "the %s schema wrote", path_of(c), c->reader, (long long) r->precision,
					 (long long) w->precision, c->writer);
}

/* Writer union: every branch must be readable. */
static void
check_writer_union(actx *c, const sr_anode *r, const sr_anode *w)
{
	for (size_t i = 0; i < w->nbranches; i++)
	{
		char		idx[24];
		size_t		saved;

		snprintf(idx, sizeof(idx), "%zu", i);
		saved = push(c, idx);
		if (r->kind == SR_A_UNION)
		{
			if (!can_read(c, r, w->branches[i]))
				sr_diffs_add(c->out, path_of(c), "MISSING_UNION_BRANCH",
							 "At '%s' no branch of the %s schema's union can read the type %s "
							 "the %s schema's union may hold", path_of(c), c->reader,
							 type_label(w->branches[i]), c->writer);
		}
		else
			check(c, r, w->branches[i]);
		pop(c, saved);
	}
}

/* Reader union, writer not a union: some branch must read it. */
static void
check_reader_union(actx *c, const sr_anode *r, const sr_anode *w)
{
	for (size_t i = 0; i < r->nbranches; i++)
		if (can_read(c, r->branches[i], w))
			return;
	sr_diffs_add(c->out, path_of(c), "MISSING_UNION_BRANCH",
				 "At '%s' no branch of the %s schema's union can read the type %s the %s schema wrote",
				 path_of(c), c->reader, type_label(w), c->writer);
}

static void
check_same_kind(actx *c, const sr_anode *r, const sr_anode *w)
{
	size_t		saved;

	switch (r->kind)
	{
		case SR_A_ARRAY:
		case SR_A_MAP:
			saved = push(c, r->kind == SR_A_ARRAY ? "items" : "values");
			check(c, r->items, w->items);
			pop(c, saved);
			return;
		case SR_A_FIXED:
			check_fixed(c, r, w);
			check_decimal(c, r, w);
			return;
		case SR_A_ENUM:
			check_enum(c, r, w);
			return;
		case SR_A_RECORD:
			check_record(c, r, w);
			return;
		case SR_A_UNION:
			check_writer_union(c, r, w);
			return;
		case SR_A_BYTES:
			check_decimal(c, r, w);
			return;
		default:
			return;
	}
}

static void
check(actx *c, const sr_anode *r, const sr_anode *w)
{
	apair		here = {r, w, c->stack};

	if (*c->too_big)
		return;
	if (--*c->budget < 0 || c->depth > 2 * SR_MAX_DEPTH)
	{
		*c->too_big = true;
		return;
	}
	for (apair *p = c->stack; p != NULL; p = p->up)
		if (p->r == r && p->w == w)
			return;				/* recursion: compatible unless shown otherwise */
	c->stack = &here;
	c->depth++;
	if (r->kind == w->kind)
		check_same_kind(c, r, w);
	else if (w->kind == SR_A_UNION)
		check_writer_union(c, r, w);
	else if (r->kind == SR_A_UNION)
		check_reader_union(c, r, w);
	else if (!promotes(w->kind, r->kind))
		type_mismatch(c, r, w);
	c->depth--;
	c->stack = here.up;
}

void
sr_avro_check(const trib_sr_schema *reader, const trib_sr_schema *writer,
			  bool reader_is_new, sr_diffs *out)
{
	long		budget = A_BUDGET;
	bool		too_big = false;
	actx		c = {.out = out, .budget = &budget, .too_big = &too_big};

	c.reader = reader_is_new ? "new" : "old";
	c.writer = reader_is_new ? "old" : "new";
	check(&c, reader->avro->root, writer->avro->root);
	if (c.path.oom)
		out->oom = true;
	sr_buf_free(&c.path);
	out->too_big |= too_big;
}
