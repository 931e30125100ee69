/*
 * schema_migrate.h: the schema stage's migrations (`schemas.migrations`):
 * declarative upcasts of in-flight events from their schema version to a
 * subject's target version, so that sinks see one shape across ALTER
 * TABLE.  Private to schema/ (schema_stage.c uses it).
 *
 * Design.  The config's migrations are compiled once (trib_migrate): one
 * per subject, each step with its Lua compiled into one sandboxed state.
 * The first time the stage meets a relation of a migrated subject it asks
 * for a plan: the steps are run on the relation's column names, and the
 * result must be exactly the target version's fields (from the catalog's
 * schema of that version), or the plan is refused with the field that is
 * missing or extra, before any event of that shape is published.  The
 * plan keeps the target's field order and the relation the migrated rows
 * have (what a Postgres sink creates), and is then applied to every event
 * of that relation: each row image is rewritten in one streaming pass
 * (yajl's callback parser; tokens copied from the image as yajl_gen would
 * write them, each member renamed, dropped or cast as it is lexed, members
 * put in the target's order only when they do not come in it, the result
 * written over the image's text when it fits), or, where that pass
 * gives up (a `set` step's Lua, a value a step refuses, odd images), by
 * the tree path, which gives the same bytes.  The key image gets the
 * renames, drops and casts.  An event already at the target version only
 * has its fields put in order (nothing at all when they are).
 *
 * Errors: false or NULL with errbuf, naming the subject, the step's line
 * and the field; never a value.  A value a step cannot convert stops the
 * pipeline (the stage's caller), as a refused shape does.
 *
 * Ownership: the migrator borrows the config; a plan borrows its
 * migration and owns its relation.  One pipeline thread.
 */
#ifndef TRIB_SCHEMA_MIGRATE_H
#define TRIB_SCHEMA_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"

typedef struct trib_migrate trib_migrate;
typedef struct trib_migrate_subject trib_migrate_subject;
typedef struct trib_migrate_plan trib_migrate_plan;

/* Compile conf's migrations; *out is NULL when there are none.  false
 * with errbuf when a Lua expression does not compile. */
bool		trib_migrate_new(const trib_schemas_conf *conf, trib_migrate **out,
							 char *errbuf, size_t errlen);

/* NULL is allowed. */
void		trib_migrate_free(trib_migrate *m);

/* The subject's migration, or NULL (also for a NULL migrator). */
const trib_migrate_subject *trib_migrate_find(const trib_migrate *m, const char *subject);

/* The migration's pinned target version, or 0 for `latest`. */
int32_t		trib_migrate_target(const trib_migrate_subject *mg);

/*
 * Plan the migration of rel's rows, at version `from`, to version `to`,
 * whose fields are fields[0..nfields) in the target schema's order.  NULL
 * with errbuf when the steps do not give exactly those fields.
 */
trib_migrate_plan *trib_migrate_plan_new(const trib_migrate_subject *mg, const trib_relation *rel,
										 int32_t from, int32_t to,
										 char *const *fields, size_t nfields,
										 char *errbuf, size_t errlen);

/* The relation of the migrated rows (owned by the plan). */
const trib_relation *trib_migrate_plan_relation(const trib_migrate_plan *p);

/* Rewrite ev's images in place; false with errbuf when a value cannot be
 * converted or a Lua step fails. */
bool		trib_migrate_plan_apply(trib_migrate *m, const trib_migrate_plan *p,
									trib_event *ev, char *errbuf, size_t errlen);

/* NULL is allowed. */
void		trib_migrate_plan_free(trib_migrate_plan *p);

/* The steps the plan runs, in file order, for `tributary check`'s
 * report: "rename memo -> note, drop extra" ("" when none; truncated to
 * len). */
void		trib_migrate_plan_describe(const trib_migrate_plan *p, char *buf, size_t len);

/*
 * The field names of a registered schema's canonical text: the
 * properties of a JSON Schema (in canonical, sorted order) or the fields
 * of an Avro record (in order).  *out (malloc'd strings) and *n; false
 * with errbuf when the document is neither.
 */
bool		trib_migrate_fields(const char *doc, char ***out, size_t *n,
								char *errbuf, size_t errlen);

void		trib_migrate_fields_free(char **fields, size_t n);

#endif							/* TRIB_SCHEMA_MIGRATE_H */
