/*
 * schema_seed.h: a relation from a registered JSON Schema, for a source
 * that infers its relations (MongoDB, infer_schema) to start from the
 * subject's latest version after a restart instead of from nothing.
 *
 * Design.  The reverse of what schema_table.c and libtribsr make of an
 * inferred relation (relation.h trib_column `fields` and `items`): each
 * property a column, in the order the schema lists them (the canonical
 * JSON Schema sorts them by name), `required` ones the key (not nullable),
 * the others nullable; a value's type from its JSON Schema type: integer
 * `bigint`, number `double precision` (with the "Infinity" strings beside
 * it, else `numeric`), string `text`, boolean `boolean`, an object `jsonb`
 * with `fields` (none without properties), an array `jsonb` with `items`,
 * no type `jsonb`.  `numeric` and `double precision` have the same JSON
 * Schema (a number, or the "NaN"/"Infinity" strings): it reads back as
 * `double precision`, so a Decimal128 field, after a restart, becomes any
 * JSON (a new version) at its next Decimal128 value.  Likewise the items
 * of arrays seen only empty read back as any JSON, never narrowed again.  Only these shapes are read; anything else is refused with the
 * property's path.  The result is a guess that the caller confirms: the
 * relation's own schema must have the registered one's fingerprint
 * (schema_stage.c trib_schema_stage_registered), so a schema that does
 * not map back exactly is never adopted.
 */
#ifndef TRIB_SCHEMA_SEED_H
#define TRIB_SCHEMA_SEED_H

#include <stddef.h>

#include "event.h"

/* The relation (schema, table) the JSON Schema text doc describes, NULL
 * with errbuf ("at /properties/x: ...") when it is not of the shapes
 * above. */
trib_relation *trib_schema_seed_relation(const char *doc, const char *schema,
										 const char *table, char *errbuf, size_t errlen);

#endif							/* TRIB_SCHEMA_SEED_H */
