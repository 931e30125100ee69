/*
 * schema_int.h: the schema stage's parts, shared inside schema/ only:
 * the table schema of a relation (schema_table.c) and the catalog's SQL
 * API (schema_store.c), and check's view of a migration
 * (schema_check_migrate.c), the key's included.  schema_stage.c ties
 * them together.
 */
#ifndef TRIB_SCHEMA_INT_H
#define TRIB_SCHEMA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "tribsr.h"

/*
 * The schema of a relation's rows (TRIB_SR_VALUE) in format fmt, through
 * libtribsr: each column's type read by the mapping of the source type
 * `connector` (the event's: "postgresql" or NULL, "mysql", "mongodb";
 * trib_sr_source_type), a column of the primary or replica identity key
 * marked as key.  NULL with errbuf on a malformed type or clashing Avro
 * names.
 */
trib_sr_schema *trib_schema_of_relation(const trib_relation *rel, const char *connector,
										trib_sr_format fmt, char *errbuf, size_t errlen);

/* The schema of a relation's key (TRIB_SR_KEY: the key columns only),
 * as trib_schema_of_relation() marks them. */
trib_sr_schema *trib_schema_of_key(const trib_relation *rel, const char *connector,
								   trib_sr_format fmt, char *errbuf, size_t errlen);

/* Has the relation a key (primary key or replica identity columns)? */
bool		trib_schema_has_key(const trib_relation *rel);

/* The key subject of a subject: "<subject>-key" (malloc'd). */
char	   *trib_schema_key_subject(const char *subject);

/*
 * Does rel's schema in format fmt (as trib_schema_of_relation builds it)
 * give each field exactly the schema the document `target` (a registered
 * version's text, same format) gives it: the same type, nullability,
 * bounds and default?  What a migration's relation must do to be stamped
 * with the target's id (the Avro encoder encodes with the relation's).
 * 1 yes; 0 no, with errbuf naming the first field that differs and both
 * of its schemas ("field qty is A but B in <target_name>"); -1 with errbuf
 * when a schema cannot be built or read.
 */
int			trib_schema_same_fields(const trib_relation *rel, const char *connector,
									trib_sr_format fmt, const char *target,
									const char *target_name, char *errbuf, size_t errlen);

/* One connection to the registry's catalog (schema_store.c). */
typedef struct trib_schema_store trib_schema_store;

trib_schema_store *trib_schema_store_new(const char *dsn);
void		trib_schema_store_free(trib_schema_store *s);

/* Did the last call fail because the catalog could not be reached (down,
 * restarting, the connection lost), which trying again may mend? */
bool		trib_schema_store_lost(const trib_schema_store *s);

/* The subject's version with this fingerprint: 1 found, 0 none, -1 error. */
int			trib_schema_store_find(trib_schema_store *s, const char *subject,
								   const char *schema_type, const char *fingerprint,
								   int64_t *id, int32_t *version,
								   char *errbuf, size_t errlen);

/* The subject's version `version` of this type (0: its latest): 1 found
 * with its id, version and canonical schema text (*doc, malloc'd), 0
 * none, -1 error. */
int			trib_schema_store_version(trib_schema_store *s, const char *subject,
									  const char *schema_type, int32_t version,
									  int64_t *id, int32_t *out_version, char **doc,
									  char *errbuf, size_t errlen);

/* Accept a quarantined version (tributary.accept_schema): 1 accepted now,
 * 0 accepted before, -1 error (not quarantined, the catalog). */
int			trib_schema_store_accept(trib_schema_store *s, const char *subject,
									 int32_t version, char *errbuf, size_t errlen);

/* Is the subject's version quarantined and not accepted?  1 yes, 0 no (not
 * quarantined, or accepted), -1 error. */
int			trib_schema_store_pending(trib_schema_store *s, const char *subject,
									  int32_t version, char *errbuf, size_t errlen);

/* One violation check_compatibility() returned, with the level in
 * effect for the subject (tributary.compatibility_level). */
typedef void (*trib_schema_violation_fn) (void *arg, const char *previous_version,
										  const char *path, const char *kind,
										  const char *message, const char *level);

/* Check schema (JSON text) against the subject's versions under its
 * level; each violation goes to fn.  Returns how many, or -1. */
int			trib_schema_store_check(trib_schema_store *s, const char *subject,
									const char *schema, const char *schema_type,
									trib_schema_violation_fn fn, void *arg,
									char *errbuf, size_t errlen);

/*
 * Register schema under subject with source_position {"event_id": id}.
 * unchecked: in one transaction, set the subject's level to NONE, register
 * and put its own level back (the `warn` and `quarantine` policies);
 * quarantine (with unchecked): in the same transaction, record the version
 * as quarantined (tributary.quarantine_schema, extension 0.6).
 */
bool		trib_schema_store_register(trib_schema_store *s, const char *subject,
									   const char *schema, const char *schema_type,
									   const char *event_id, bool unchecked, bool quarantine,
									   int64_t *id, int32_t *version,
									   char *errbuf, size_t errlen);

/*
 * What `run` plans a table's shape with, as `tributary check` finds it in
 * the registry's catalog (schema_check_migrate.c): the shape's version,
 * the target and the target's schema text (doc, malloc'd: the caller
 * frees it).
 */
typedef struct trib_check_plan_inputs
{
	int32_t		from;
	int32_t		to;
	bool		is_new_shape;	/* not registered yet: `from` is the next */
	char	   *doc;
} trib_check_plan_inputs;

/*
 * `tributary check` under the subject's migration mg
 * (schema_check_migrate.c): plan the table's current shape (schema text
 * of type `type`) to the migration's target as `run` would, and say the
 * steps that apply, or the refusal, counted as a problem; then, planned
 * from the table schema.table's own columns (read through src), a field
 * whose schema is not the target's (trib_schema_same_fields), the other
 * refusal of `run`, also counted.  True when the catalog gave the plan's
 * inputs, filled into *in (for the key, below); in->doc is NULL otherwise.
 */
struct trib_check_report;
struct trib_migrate_subject;
struct pg_conn;
bool		trib_schema_check_migration(const struct trib_migrate_subject *mg,
										struct trib_check_report *rep,
										struct pg_conn *catalog, struct pg_conn *src,
										const char *schema, const char *table,
										const char *subject, const char *shape,
										const char *type, trib_check_plan_inputs *in);

/*
 * With `schemas.keys`: the key schema `run` registers in the key subject
 * under migration mg (canonical text in format fmt, malloc'd), the key of
 * the plan's relation for the table schema.table of the source src, with
 * the plan's inputs `in` that trib_schema_check_migration found for the
 * table's own shape.  NULL when `run` registers none (no key) or stops
 * before it (a refused plan, said by trib_schema_check_migration), or,
 * said and counted as a problem, when the key's schema cannot be built.
 */
char	   *trib_schema_check_migrated_key(const struct trib_migrate_subject *mg,
										   struct trib_check_report *rep,
										   struct pg_conn *src, const char *schema,
										   const char *table, const char *subject,
										   const trib_check_plan_inputs *in,
										   trib_sr_format fmt);

#endif							/* TRIB_SCHEMA_INT_H */
