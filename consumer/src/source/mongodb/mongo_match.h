/*
 * mongo_match.h: the stream's `pipeline` as a filter on documents, so that
 * the snapshot copies only the documents the stream's filter would pass.
 *
 * Design.  A change event of a copied document would be an insert whose
 * fullDocument is the document and whose documentKey is {_id}.  So a
 * `$match` on `fullDocument.F...` tests the document's field `F...`, and
 * one on `documentKey._id...` its `_id...`: those keys are rewritten and
 * everything else (operators, values) is kept as written, inside `$and`,
 * `$or` and `$nor` too.  Several `$match` stages become one `$and`.
 * Anything else cannot apply to a document, and is refused with the key
 * that says why: another stage (`$project`, ...), a key of the event
 * itself (`operationType`, `ns`, `updateDescription`, `clusterTime`,
 * ...), the whole `fullDocument` or `documentKey`, or an operator at the
 * top of the filter other than those three (`$expr`, `$where`, ...).
 */
#ifndef TRIB_MONGO_MATCH_H
#define TRIB_MONGO_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <bson/bson.h>

/*
 * The filter on documents of `pipeline` (a JSON array of stages) into
 * *out (initialised here; the caller destroys it; empty when pipeline is
 * NULL or has no stage): true, or false with the offending key (the
 * stage's index and the key, e.g. "pipeline[0].$match.operationType") in
 * errbuf with what is accepted.
 */
bool		trib_mongo_match_filter(const char *pipeline, bson_t *out, char *errbuf,
									size_t errlen);

#endif							/* TRIB_MONGO_MATCH_H */
