/*
 * schema_migrate_int.h: what the two halves of the migrations share:
 * schema_migrate.c (compiling the config, planning per relation) and
 * schema_migrate_apply.c (rewriting an event's images).  Private to
 * schema/.
 */
#ifndef TRIB_SCHEMA_MIGRATE_INT_H
#define TRIB_SCHEMA_MIGRATE_INT_H

#include "schema_migrate.h"

struct trib_lua;
struct trib_lua_expr;

/* One compiled step. */
typedef struct mig_step
{
	const trib_migrate_step_conf *c;
	const char *field;			/* the field its operation names */
	struct trib_lua_expr *expr; /* set */
} mig_step;

struct trib_migration
{
	const trib_migration_conf *c;
	int32_t		target;			/* 0: latest */
	mig_step   *steps;
	size_t		nsteps;
};

struct trib_migrator
{
	trib_migration *m;
	size_t		n;
	struct trib_lua *lua;		/* NULL when no step is `set` */
};

struct trib_migrate_plan
{
	const trib_migration *mg;
	int32_t		from;
	int32_t		to;
	const mig_step **steps;		/* the steps that select `from` */
	size_t		nsteps;
	char	  **order;			/* the target's fields, in its order */
	size_t		norder;
	bool		identity;		/* nothing to do: at the target, in order */
	bool		key_steps;		/* a rename, drop or cast of a key column:
								 * the key image is migrated too */
	trib_relation rel;			/* the migrated rows' relation */
};

#endif							/* TRIB_SCHEMA_MIGRATE_INT_H */
