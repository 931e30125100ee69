/*
 * oplog.h: the cluster clock, the bounded oplog and resume tokens of
 * mongo_double (a TEST DOUBLE, see ../README.md).
 *
 * Clock.  Cluster times are BSON Timestamps (seconds, increment).  The
 * clock follows the wall clock (as a real primary's periodic no-op writes
 * make it do) and every write takes the next increment, so times only grow
 * and each write outside a transaction has a time of its own.  A committed
 * transaction takes one time for all its writes.
 *
 * Oplog.  Every committed write is an entry: its position, wall time, kind,
 * namespace, document key, images and, in a transaction, lsid and
 * txnNumber.  The oplog keeps the newest N entries (--oplog-size, or the
 * doubleSetOplogSize command); older ones are evicted, and a change stream
 * asked to start before what is kept fails with ChangeStreamHistoryLost
 * (286), as a real server whose oplog rolled over.  History before the
 * double started counts as lost too.
 *
 * Positions and resume tokens.  An event's position is (cluster time,
 * index in its transaction); an invalidate sorts just after the event that
 * caused it; a high-water mark (a postBatchResumeToken with no event)
 * sorts after every event of its cluster time.  A resume token is
 * {_data: "<hex>"}: a version byte and the position, big-endian, so tokens
 * compare as strings in stream order, as the server's do.  Tokens are
 * opaque to drivers and are only read back by this double.
 */
#ifndef MD_OPLOG_H
#define MD_OPLOG_H

#include <bson.h>

#include "errors.h"

typedef struct md_ts {
    uint32_t t;
    uint32_t i;
} md_ts_t;

enum { MD_POS_EVENT = 0, MD_POS_INVALIDATE = 1, MD_POS_HWM = 2 };

typedef struct md_pos {
    md_ts_t ts;
    uint32_t idx;   /* index in the transaction; UINT32_MAX in a high-water mark */
    uint8_t kind;   /* MD_POS_* */
} md_pos_t;

typedef enum md_opkind {
    MD_OP_INSERT,
    MD_OP_UPDATE,
    MD_OP_REPLACE,
    MD_OP_DELETE,
    MD_OP_DROP,
    MD_OP_RENAME,
    MD_OP_DROPDB,
} md_opkind_t;

typedef struct md_entry {
    md_pos_t pos;
    int64_t wall_ms;
    md_opkind_t kind;
    char *db;
    char *coll;          /* NULL for dropDatabase */
    char *to_db;         /* rename */
    char *to_coll;
    bson_t *key;         /* documentKey {_id: ...} */
    bson_t *post;        /* the document after (insert, replace, update) */
    bson_t *pre;         /* the document before (update, replace, delete) */
    bson_t *desc;        /* updateDescription (update) */
    bool images;         /* changeStreamPreAndPostImages was enabled */
    bson_t *lsid;        /* set for writes of a transaction */
    int64_t txn_number;
} md_entry_t;

/* md_entry_new: an entry of kind for db.coll (coll may be NULL). */
md_entry_t *md_entry_new(md_opkind_t kind, const char *db, const char *coll);
void md_entry_free(md_entry_t *e);
const char *md_opkind_name(md_opkind_t k);

/* Clock. */
md_ts_t md_clock_now(void);
md_ts_t md_clock_tick(void);
md_ts_t md_ts_pred(md_ts_t ts);

/* md_oplog_init: empty oplog keeping capacity entries; history starts now. */
void md_oplog_init(size_t capacity);
void md_oplog_set_capacity(size_t capacity);
void md_oplog_free(void);
/* md_oplog_set_listener: fn runs after each new entry (wakes waiting getMores). */
void md_oplog_set_listener(void (*fn)(void));

/* md_oplog_append: commit one entry (takes it) at a new cluster time. */
void md_oplog_append(md_entry_t *e);
/* md_oplog_append_txn: commit a transaction's entries (takes them) at one time. */
md_ts_t md_oplog_append_txn(md_entry_t **es, size_t n, const bson_t *lsid, int64_t txn_number);

/* Entries are numbered by a sequence; [begin, end) are kept. */
uint64_t md_oplog_begin(void);
uint64_t md_oplog_end(void);
const md_entry_t *md_oplog_at(uint64_t seq);
/* md_oplog_seek_after: the first sequence whose position is > p. */
uint64_t md_oplog_seek_after(md_pos_t p);
/* md_oplog_find_event: the sequence of the event at exactly p's time and index. */
bool md_oplog_find_event(md_pos_t p, uint64_t *seq);
/* md_oplog_lost_after: some history after p was evicted (or predates start). */
bool md_oplog_lost_after(md_pos_t p);

/* Positions and tokens. */
int md_pos_cmp(md_pos_t a, md_pos_t b);
md_pos_t md_pos_hwm(md_ts_t ts);
void md_token_append(bson_t *doc, const char *key, md_pos_t p);
bool md_token_parse(const bson_value_t *v, md_pos_t *p, md_err_t *err);

#endif
