/*
 * sr_jsch.h: the JSON Schema side of the library, shared by its files:
 * the normalized view of a schema node (sr_jsch_model.c), the comparison
 * context and the comparers (sr_jsch_compat.c for the core, strings,
 * numbers, enums and combinators; sr_jsch_object.c for objects and
 * arrays), and the table of difference kinds (sr_jsch_kinds.c).
 *
 * The model follows how Confluent's registry reads a schema (through the
 * everit library): `true`/`{}` accept anything, `false` nothing; a "$ref"
 * stands for its target; otherwise each of "type" (or the keywords that
 * imply one), "enum", "const", "not", "allOf", "anyOf", "oneOf" present
 * is one part, one part is the schema itself and several are an implicit
 * ("synthetic") allOf; a "type" array is an implicit anyOf of one schema
 * per type.  A node is a (document, value, facet) triple: the facet
 * selects which part of the value's keywords the node stands for, so no
 * copy of the document is ever made.
 */
#ifndef SR_JSCH_H
#define SR_JSCH_H

#include "sr_int.h"

typedef enum jkind
{
	J_EMPTY,					/* accepts everything */
	J_FALSE,					/* accepts nothing */
	J_COMBINED,
	J_NOT,
	J_ENUM,
	J_CONST,
	J_STRING,
	J_NUMBER,
	J_BOOLEAN,
	J_NULL,
	J_OBJECT,
	J_ARRAY
} jkind;

typedef enum jcrit
{
	C_ALL,
	C_ANY,
	C_ONE
} jcrit;

/* Which keywords of a value a node stands for. */
typedef enum jfacet
{
	F_WHOLE = 0,				/* the value as written */
	F_TYPES,					/* the type part: all its types */
	F_ENUM,
	F_CONST,
	F_NOT,
	F_ALLOF,
	F_ANYOF,
	F_ONEOF,
	F_TYPE_STRING,				/* the type part for one type */
	F_TYPE_NUMBER,
	F_TYPE_INTEGER,
	F_TYPE_BOOLEAN,
	F_TYPE_NULL,
	F_TYPE_OBJECT,
	F_TYPE_ARRAY
} jfacet;

typedef struct jref
{
	yajl_val	root;			/* the document, for "$ref" */
	yajl_val	v;				/* NULL: no schema at all */
	jfacet		facet;
} jref;

#define J_MAX_SUB 8				/* parts of one value (synthetic subs) */

typedef struct jnode
{
	jkind		kind;
	jref		ref;			/* resolved: what the keywords are read from */
	bool		integer;		/* J_NUMBER: "integer" */
	jcrit		crit;			/* J_COMBINED */
	bool		synthetic;		/* J_COMBINED made from parts or a type array */
	size_t		nsub;
	jref		sub[J_MAX_SUB];	/* synthetic subs; real ones come from sub_of */
} jnode;

/* Resolve "$ref"s and classify; false when a $ref does not resolve (or
 * loops). */
bool		sr_jnode_of(jref r, jnode *out);
/* The i-th subschema of a combined node. */
jref		sr_jnode_sub(const jnode *n, size_t i);
/* A keyword of the node's value (NULL when absent or not applicable). */
yajl_val	sr_jnode_kw(const jnode *n, const char *key);
/* The value a local "$ref" points to, or NULL. */
yajl_val	sr_jsch_deref(yajl_val root, const char *ref);

/* The comparison context. */
typedef struct jpair
{
	const void *o;
	const void *u;
	int			fo;
	int			fu;
	struct jpair *up;
} jpair;

typedef struct jctx
{
	sr_diffs   *out;
	sr_buf		path;			/* "#/properties/a" */
	jpair	   *stack;			/* pairs being compared (cycles) */
	long	   *budget;
	bool	   *too_big;
	int			depth;
	const char *reader;			/* "new" / "old" */
	const char *writer;
	/* A probe only asks "compatible?": its differences are recorded
	 * without sentences, and it stops at the first incompatible one. */
	bool		probe;
	bool		probe_failed;
} jctx;

/* Compare original (the writer) with update (the reader). */
void		sr_jcmp(jctx *c, jref orig, jref upd);

/* A sub-context with the same path, budget and stack, collecting into
 * its own list; sr_jctx_done() frees it (sr_jctx_take() moves its diffs first). */
void		sr_jctx_sub(jctx *c, jctx *sub, sr_diffs *store);
bool		sr_jctx_compatible(const sr_diffs *d);
void		sr_jctx_take(jctx *c, sr_diffs *from);
void		sr_jctx_done(jctx *sub);

/* Path handling: push a keyword segment as is ("items/0"), or a property
 * name escaped as a JSON pointer token; pop back to a saved length. */
size_t		sr_jpath_push(jctx *c, const char *seg);
size_t		sr_jpath_push_key(jctx *c, const char *key);
void		sr_jpath_pop(jctx *c, size_t saved);

/* Record a difference of the named kind at the current path, or at
 * path + "/" + attr when attr is not NULL. */
void		sr_jdiff(jctx *c, const char *kind, const char *attr);

/* Compatible per Confluent's rules? (sr_jsch_kinds.c) */
bool		sr_jkind_compatible(const char *kind);

/* The per-type comparers. */
void		sr_jcmp_object(jctx *c, const jnode *o, const jnode *u);
void		sr_jcmp_array(jctx *c, const jnode *o, const jnode *u);

/* Compare two numeric keywords (either may be absent) and record
 * name_ADDED/_REMOVED/_INCREASED/_DECREASED under attr. */
void		sr_jcmp_limit(jctx *c, yajl_val o, yajl_val u, const char *attr, const char *prefix);

/* Whether every value of JSON array a is also in array b. */
bool		sr_jvalues_within(yajl_val a, yajl_val b);

#endif							/* SR_JSCH_H */
