/*
 * mongo_infer.h: a schema per collection, inferred from the documents the
 * MongoDB source sees (`infer_schema: true`), as the relation its events
 * point to (event.h), which the schema stage registers (`schemas:`).
 *
 * Design.  A collection's relation has a column per top-level field seen
 * so far, in the order of first appearance, `_id` first (the key, not
 * nullable; the others nullable: a document may lack them).  A field's
 * type comes from its relaxed Extended JSON value: string `text`,
 * integer `bigint`, other number `double precision`, boolean `boolean`,
 * `{"$numberLong"}` `bigint`, `{"$numberDecimal"}` `numeric`,
 * `{"$numberDouble"}` `double precision`, anything else (subdocuments,
 * arrays, ObjectId, dates, binaries) `jsonb`; null says nothing (a field
 * seen only as null is no column yet).  A field seen with two types becomes
 * `double precision` for bigint and double precision, else `jsonb`.  A
 * `jsonb` field that has held only subdocuments keeps their properties,
 * by the same rules and to any depth (event.h trib_column `fields`); one
 * that has held only arrays keeps their items' type (`items`, with
 * `fields` for arrays of subdocuments; an array in an array is plain
 * jsonb); a mix of kinds forgets the shape.  A new field or a new type,
 * at any depth, makes a new version of the relation (version + 1); older versions are kept until the set is freed, since events in
 * flight point to them.  Events without a document (deletes, updates
 * without fullDocument) point to the collection's current relation, or to
 * none before its first document.  Used from one thread.
 *
 * After a restart.  With a host (trib_mongo_infer_seed_from), a
 * collection seen for the first time starts from the relation of its
 * subject's latest registered version (source.h `registered`), when that
 * reads back as exactly the same schema, and is widened from there: a
 * document of a known shape registers nothing, a new field one version.
 * Without one (no schema stage, another format, a schema that does not
 * read back, the catalog unreadable: logged, the last once) it starts
 * from nothing as before.
 */
#ifndef TRIB_MONGO_INFER_H
#define TRIB_MONGO_INFER_H

#include <stdbool.h>

#include "event.h"
#include "source.h"

typedef struct trib_mongo_infer trib_mongo_infer;

trib_mongo_infer *trib_mongo_infer_new(void);

/* Point ev->rel at its collection's relation, widened by ev->after (or
 * ev->before when there is no after) first. */
void		trib_mongo_infer_event(trib_mongo_infer *inf, trib_event *ev);

/* Seed collections seen from now on from host's `registered` (the host
 * outlives inf; NULL or a host without it: no seeding). */
void		trib_mongo_infer_seed_from(trib_mongo_infer *inf, const trib_source_host *host);

void		trib_mongo_infer_free(trib_mongo_infer *inf);

#endif							/* TRIB_MONGO_INFER_H */
