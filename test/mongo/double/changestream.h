/*
 * changestream.h: change streams of mongo_double (a TEST DOUBLE, see
 * ../README.md): an aggregate whose first stage is $changeStream, and the
 * events its cursor returns, written from the change streams specification
 * (mongodb/specifications, source/change-streams/change-streams.md) and
 * MongoDB 6.0's documented event format.
 *
 * Scope: a collection, a database (aggregate: 1), or the deployment
 * (aggregate: 1 on admin with allChangesForCluster: true; admin, config
 * and local are left out).  Options of the stage: fullDocument (default,
 * updateLookup, whenAvailable, required), fullDocumentBeforeChange (off,
 * whenAvailable, required), resumeAfter, startAfter, startAtOperationTime
 * (at most one of the three), showExpandedEvents (accepted; no expanded
 * events are produced).  Following stages: $match and $project (see
 * match.h and project.h); others fail with code 40324.
 *
 * Events: insert, update, replace, delete, drop, rename, dropDatabase and
 * invalidate, with _id (resume token), operationType, clusterTime,
 * wallTime, ns, documentKey, fullDocument, fullDocumentBeforeChange, to,
 * updateDescription, and lsid {id, uid} and txnNumber for writes of a
 * transaction.  A collection stream is invalidated by the drop or rename
 * of its collection (also through dropDatabase), a database stream by
 * dropDatabase; the invalidate event closes the cursor.
 *
 * Errors: a resume point older than the oplog keeps -> 286
 * ChangeStreamHistoryLost; a resumeAfter token whose event is not in the
 * oplog -> 280 ChangeStreamFatalError; resumeAfter an invalidate -> 260
 * InvalidResumeToken; an open cursor that fell off the oplog -> 136
 * CappedPositionLost; a missing required image -> 47 NoMatchingDocument;
 * a pipeline that changes _id -> 280.
 */
#ifndef MD_CHANGESTREAM_H
#define MD_CHANGESTREAM_H

#include <bson.h>

#include "errors.h"
#include "oplog.h"

typedef struct md_cs md_cs_t;

/*
 * md_cs_open: a stream over db (NULL: the deployment) and coll (NULL: the
 * whole database), from the $changeStream stage's spec and the rest of the
 * pipeline (an array; may be NULL).  NULL with err on a bad request.
 */
md_cs_t *md_cs_open(const char *db, const char *coll, const bson_t *spec, const bson_t *rest,
                    md_err_t *err);

/*
 * md_cs_batch: append up to max events (max <= 0: as many as fit in 16
 * MiB) to the array arr, their count in *n; *pbrt is the batch's
 * postBatchResumeToken; *closed when the stream was invalidated (the
 * cursor is done).  false with err on an error.
 */
bool md_cs_batch(md_cs_t *cs, int max, bson_t *arr, int *n, md_pos_t *pbrt, bool *closed,
                 md_err_t *err);

/* md_cs_position: the position scanned so far (the token of an empty first batch). */
md_pos_t md_cs_position(const md_cs_t *cs);

void md_cs_free(md_cs_t *cs);

#endif
