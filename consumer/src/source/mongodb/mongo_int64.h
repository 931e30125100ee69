/*
 * mongo_int64.h: where a document holds an int64 that fits in 32 bits.
 *
 * The source writes documents as libbson's relaxed Extended JSON, which
 * writes such an int64 as a plain number, as it writes an int32: the
 * relaxed text alone cannot tell them apart, and `format: debezium`
 * writes them differently (STRICT mode: {"$numberLong": "42"} against
 * 42).  So the event keeps, beside its images, the paths of those values
 * in ev->extra's member "int64" (docs/FORMAT.md, "MongoDB"):
 *
 *   "int64": {"after": [PATH, ...], "before": [PATH, ...],
 *             "updatedFields": [PATH, ...]}
 *
 * a PATH being a JSON array of the member names (strings) and array
 * indexes (numbers) from the document's root down to the value; a member
 * is left out when its image has none, and "int64" when neither has.
 * An int64 outside 32 bits needs no path: its value tells its type.
 * The member is read by format/debezium_mongo.c (after, before) and the
 * MongoDB sink (sink/mongodb/sink_mongodb_ejson.c: after, and
 * updatedFields for an update without its document, so that a copy keeps
 * its int64 values); every other consumer of `extra` ignores it, so the
 * default format's output is unchanged.
 *
 * Only when asked.  Finding the paths is a second walk over every image,
 * work for nobody unless a sink writes Debezium's records, so the source
 * does it only when its pipeline's sinks need it: the pipeline hands the
 * source the union of its sinks' needs (sink.h needs(), source.h
 * trib_source.needs, TRIB_NEED_INT64_TYPES of event.h), and the event
 * mapping and the snapshot call these functions only under that flag
 * (trib_mongo_map_ctx.int64_paths, trib_mongo_snap_event).  A flag that
 * the pipeline sets keeps the source from reading any sink's settings and
 * serves any future source whose JSON loses a type.  The other way, one
 * walk that writes the JSON and finds the paths together, would mean our
 * own Extended JSON writer in place of libbson's
 * bson_as_relaxed_extended_json, which has no hook for it: more code, and
 * a second writer of every BSON type to keep right, to save a walk that a
 * pipeline without a Debezium sink no longer makes at all.
 */
#ifndef TRIB_MONGO_INT64_H
#define TRIB_MONGO_INT64_H

#include <bson/bson.h>

#include "strbuf.h"

/* Append to b the member `"name":[PATH,...]` (preceded by a comma when
 * b is not empty) for the int64 values of doc that fit in 32 bits; b is
 * left as it was when doc is NULL or holds none. */
void		trib_mongo_int64_paths(const bson_t *doc, const char *name, trib_strbuf *b);

/* The member text `"int64":{...}` for the images after and before and
 * an update's updateDescription.updatedFields (each may be NULL; its
 * paths start with the updated field's dotted name), appended to b
 * (preceded by a comma when b is not empty); b is left as it was when
 * none holds such a value. */
void		trib_mongo_int64_member(const bson_t *after, const bson_t *before,
									const bson_t *updated, trib_strbuf *b);

/* Add that member for after, before and updated (each may be NULL) to
 * the JSON object text *extra (malloc'd, or NULL: then a new object);
 * *extra is left as it was when none holds such a value. */
void		trib_mongo_int64_extra(const bson_t *after, const bson_t *before,
								   const bson_t *updated, char **extra);

#endif							/* TRIB_MONGO_INT64_H */
