/*
 * writes.h: every change to the data of mongo_double (a TEST DOUBLE, see
 * ../README.md) goes through here, so that each one leaves its oplog
 * entry: committed at once, or held by the transaction it belongs to (txn
 * non-NULL), which also records how to undo it.
 *
 * Every entry keeps the document before the write (snapshot reads undo
 * writes with it, view.h); change events show it, and an update's
 * post-image, only when the collection had changeStreamPreAndPostImages
 * enabled at the time of the write, as on MongoDB 6.0.
 */
#ifndef MD_WRITES_H
#define MD_WRITES_H

#include "store.h"
#include "txn.h"

/* md_write_coll: db.name, created (implicitly, as MongoDB does) if absent. */
md_coll_t *md_write_coll(const char *db, const char *name);

/* md_write_insert: insert doc (taken; must have an _id); DuplicateKey when
 * taken.  This and the next two fail with WriteConflict when txn writes a
 * document another open transaction wrote (txn.h). */
bool md_write_insert(md_session_t *txn, md_coll_t *c, bson_t *doc, md_err_t *err);

/* md_write_update: before (stored) becomes after (taken): an update or a replace. */
bool md_write_update(md_session_t *txn, md_coll_t *c, const bson_t *before, bson_t *after,
                     bool replace, md_err_t *err);

/* md_write_delete: remove the stored document doc. */
bool md_write_delete(md_session_t *txn, md_coll_t *c, const bson_t *doc, md_err_t *err);

/* DDL: not allowed inside transactions (the commands check). */
void md_write_drop(md_coll_t *c);
void md_write_rename(md_coll_t *c, const char *to_db, const char *to_name);
void md_write_drop_database(const char *db);

/* md_dup_key_message: the server's E11000 message for an _id. */
void md_dup_key_message(const md_coll_t *c, const bson_value_t *id, md_err_t *err);

#endif
