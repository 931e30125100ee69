/*
 * txn.h: logical sessions, multi-document transactions and retryable-write
 * replies of mongo_double (a TEST DOUBLE, see ../README.md).
 *
 * A session is keyed by its lsid's id (a UUID); it is created on first use
 * and forgotten at endSessions.  A transaction starts with a command that
 * carries startTransaction: true, autocommit: false and a txnNumber higher
 * than the session's; later commands of it repeat the txnNumber with
 * autocommit: false.  Its writes change the data at once (the double has
 * no isolation: other clients see them before the commit, documented) but
 * their oplog entries are held back; commitTransaction appends them all at
 * one cluster time, with the lsid and txnNumber, so change streams see the
 * transaction atomically at its commit.  abortTransaction undoes the
 * writes from an undo log and drops the entries.
 *
 * Write conflicts and the lifetime limit, as MongoDB has them: a write in
 * a transaction to a document that another open transaction wrote fails
 * with WriteConflict (112, labelled TransientTransactionError) and aborts
 * its own transaction, so that two transactions never interleave on one
 * document (an abort restores its before-images; update, delete and
 * findAndModify check their filter's _id, or the whole collection, before
 * selecting, cmd_crud.c); a transaction open
 * longer than transactionLifetimeLimitSeconds (60 by default; mongod's
 * --setParameter) is aborted, which is how a transaction orphaned by a
 * client killed mid-way ends.  Writes outside transactions are not
 * checked (a real server makes them wait for the transaction: a limit).
 *
 * Retryable writes: the reply to a write with a txnNumber outside a
 * transaction is remembered per session, and a retry with the same
 * txnNumber gets that reply again without writing twice.
 */
#ifndef MD_TXN_H
#define MD_TXN_H

#include <bson.h>

#include "errors.h"
#include "oplog.h"
#include "store.h"

typedef enum { MD_TXN_NONE, MD_TXN_ACTIVE, MD_TXN_COMMITTED, MD_TXN_ABORTED } md_txn_state_t;

typedef struct md_undo {
    char *db;
    char *coll;
    bson_value_t id;
    bson_t *before;     /* NULL: the document did not exist */
} md_undo_t;

typedef struct md_session {
    uint8_t id[16];
    bson_t *lsid;               /* {id: UUID} as the client sent it */
    int64_t txn_number;         /* the highest seen */
    md_txn_state_t state;
    md_entry_t **staged;
    size_t nstaged, capstaged;
    md_undo_t *undo;
    size_t nundo, capundo;
    int64_t started_ms;         /* when the open transaction started */
    int64_t retry_txn_number;   /* the last retryable write's */
    bson_t *retry_reply;
} md_session_t;

/* md_session_get: the session of an lsid document, created on first use. */
md_session_t *md_session_get(const bson_t *lsid, md_err_t *err);

/* md_session_end: forget a session (aborting its open transaction). */
void md_session_end(const bson_t *lsid);

/* md_txn_enter: a command with autocommit: false; starts or continues. */
bool md_txn_enter(md_session_t *s, int64_t txn_number, bool start, md_err_t *err);

/* md_txn_stage: hold an entry of the active transaction (takes it). */
void md_txn_stage(md_session_t *s, md_entry_t *e);

/* md_txn_undo: remember a document's state before the transaction wrote it. */
void md_txn_undo(md_session_t *s, const md_coll_t *c, const bson_value_t *id,
                 const bson_t *before);

bool md_txn_commit(md_session_t *s, int64_t txn_number, md_err_t *err);
bool md_txn_abort(md_session_t *s, int64_t txn_number, md_err_t *err);

/* md_txn_each_undo: fn for each undo record touching db.coll of the
 * transactions open in sessions other than self, newest first. */
void md_txn_each_undo(const char *db, const char *coll, const md_session_t *self,
                      void (*fn)(const md_undo_t *u, void *arg), void *arg);

/* md_txn_conflict: false with WriteConflict when a transaction open in a
 * session other than txn has written document id of c (txn: the writing
 * transaction; NULL outside one, never a conflict). */
bool md_txn_conflict(const md_session_t *txn, const md_coll_t *c, const bson_value_t *id,
                     md_err_t *err);

/* md_txn_conflict_coll: the same for a write whose filter does not pin
 * _id: a conflict when another open transaction wrote any document of c
 * (conservative: a real server conflicts only on the documents the
 * filter selects in the writer's snapshot). */
bool md_txn_conflict_coll(const md_session_t *txn, const md_coll_t *c, md_err_t *err);

/* md_txn_expire: abort the transactions open longer than the limit. */
void md_txn_expire(void);

/* transactionLifetimeLimitSeconds (>= 1; default 60, as on MongoDB). */
extern int md_txn_lifetime_s;

/* md_sessions_free: drop every session (end of process). */
void md_sessions_free(void);

#endif
