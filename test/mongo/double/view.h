/*
 * view.h: what a read sees in mongo_double (a TEST DOUBLE, see
 * ../README.md).
 *
 * Writes change the stored documents at once, transactions included, so a
 * read is answered from a view: the stored documents with the writes it
 * must not see undone.  Those are the writes of transactions still open in
 * other sessions (a read sees committed data, and its own transaction's
 * writes), and, for a snapshot read at a cluster time T (readConcern
 * {level: "snapshot", atClusterTime: T}, or T = now), every write committed
 * after T, undone from the oplog's pre-images.  A snapshot older than the
 * oplog keeps fails with SnapshotTooOld (239); one across a drop or rename
 * of the collection with SnapshotUnavailable (246); one in the future with
 * InvalidOptions (72), as on the server.
 */
#ifndef MD_VIEW_H
#define MD_VIEW_H

#include <bson.h>

#include "errors.h"
#include "oplog.h"
#include "store.h"
#include "txn.h"

typedef struct md_view md_view_t;

/* md_view_open: the view of db.coll for a reader in session self (may be
 * NULL), at cluster time *at (NULL: now, no snapshot).  NULL with err. */
md_view_t *md_view_open(const char *db, const char *coll, const md_session_t *self,
                        const md_ts_t *at, md_err_t *err);

/* md_view_get: the visible document with this _id, or NULL. */
const bson_t *md_view_get(const md_view_t *v, const bson_value_t *id);

/* md_view_docs: copies of every visible document (a malloc'd array the
 * caller frees, with the documents). */
size_t md_view_docs(const md_view_t *v, bson_t ***out);

void md_view_free(md_view_t *v);

#endif
