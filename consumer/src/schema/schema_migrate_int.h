/*
 * schema_migrate_int.h: what the two halves of the migrations share:
 * schema_migrate.c (compiling the config, planning per relation) and
 * schema_migrate_apply.c (rewriting an event's images).  Private to
 * schema/.
 */
#ifndef TRIB_SCHEMA_MIGRATE_INT_H
#define TRIB_SCHEMA_MIGRATE_INT_H

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "arena.h"
#include "schema_migrate.h"
#include "strbuf.h"

struct trib_lua;
struct trib_lua_expr;

/* One compiled step. */
typedef struct mig_step
{
	const trib_migrate_step_conf *c;
	const char *field;			/* the field its operation names */
	struct trib_lua_expr *expr; /* set */
} mig_step;

struct trib_migrate_subject
{
	const trib_migration_conf *c;
	int32_t		target;			/* 0: latest */
	mig_step   *steps;
	size_t		nsteps;
};

/* A member of a row image written by the streaming pass: bytes of the
 * migrator's scratch (text NULL) or an added field's text. */
typedef struct mig_span
{
	size_t		rank;			/* its place in the output */
	const char *text;
	size_t		off;
	size_t		len;
} mig_span;

/* A field an `add` step creates when it is absent: its name at each later
 * step (NULL once dropped), its final name, and `"name":value` text. */
typedef struct mig_added
{
	const char **name_at;
	const char *name;
	char	   *text;
	bool		bad;			/* a later cast refuses the default */
} mig_added;

/* What the steps do to a member of a given name: its final name (NULL:
 * dropped), its index in the target's order (-1: not there), its casts in
 * order, and the add/set steps that find it present. */
typedef struct mig_fate
{
	const char *in;
	size_t		inlen;
	const char *name;
	long		rank;
	const struct mig_step **casts;
	size_t		ncasts;
	size_t	   *adds;
	size_t		nadds;
	bool		plain;			/* `in` is printable ASCII but quote and
								 * backslash: its JSON text is "in" */
} mig_fate;

struct trib_migrate
{
	trib_migrate_subject *m;
	size_t		n;
	struct trib_lua *lua;		/* NULL when no step is `set` */
	/* the streaming pass's scratch, reused from image to image */
	trib_arena	arena;
	yajl_gen	g;				/* strings with bytes yajl_gen escapes */
	mig_span   *spans;
	size_t		nspans;
	size_t		capspans;
	trib_strbuf scratch;		/* the members' text */
	uint64_t	nscanned;		/* images streamed with jscan's lexing (tests) */
};

struct trib_migrate_plan
{
	const trib_migrate_subject *mg;
	int32_t		from;
	int32_t		to;
	const mig_step **steps;		/* the steps that select `from` */
	size_t		nsteps;
	char	  **order;			/* the target's fields, in its order */
	size_t		norder;
	bool		identity;		/* nothing to do: at the target, in order */
	bool		key_steps;		/* a rename, drop or cast of a key column:
								 * the key image is migrated too */
	bool		tree_only;		/* a `set` step: row images take the tree
								 * path (its Lua reads the whole image) */
	mig_added  *added;			/* per step: the field an `add` creates */
	mig_fate   *fates;			/* per column of the relation planned */
	size_t		nfates;
	trib_relation rel;			/* the migrated rows' relation */
};

/* A scalar as another JSON type (a new node); NULL and *why when it
 * cannot be (schema_migrate_apply.c). */
yajl_val	trib_migrate_cast(yajl_val v, trib_cast_to as, const char **why);

/* The tree path: image *text (not NULL) parsed, migrated and written back;
 * false with errbuf naming the subject, step and field
 * (schema_migrate_apply.c). */
bool		trib_migrate_image_tree(trib_migrate *m, const trib_migrate_plan *p,
									const trib_event *ev, char **text, bool key,
									char *errbuf, size_t errlen);

/* The streaming pass (schema_migrate_stream.c): true when *text was
 * migrated (and replaced); false, *text untouched, when the image must
 * take the tree path (see the file's comment). */
bool		trib_migrate_stream(trib_migrate *m, const trib_migrate_plan *p, char **text,
								bool key);

/* Precompute a plan's member fates (for rel's columns) and added fields
 * (at plan time); release them. */
void		trib_migrate_stream_prepare(trib_migrate_plan *p, const trib_relation *rel);
void		trib_migrate_stream_release(trib_migrate_plan *p);

#endif							/* TRIB_SCHEMA_MIGRATE_INT_H */
