/*
 * txn.c: sessions and transactions (txn.h).
 */
#include "txn.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "values.h"

static md_map_t sessions;
int md_txn_lifetime_s = 60;

/* lsid_uuid: the 16 bytes of lsid.id. */
static bool lsid_uuid(const bson_t *lsid, const uint8_t **out)
{
    bson_iter_t it;
    bson_subtype_t st;
    uint32_t len;

    if (!bson_iter_init_find(&it, lsid, "id") || !BSON_ITER_HOLDS_BINARY(&it))
        return false;
    bson_iter_binary(&it, &st, &len, out);
    return len == 16;
}

md_session_t *md_session_get(const bson_t *lsid, md_err_t *err)
{
    const uint8_t *uuid;
    md_session_t *s;

    if (!lsid_uuid(lsid, &uuid)) {
        md_seterr(err, MD_BAD_VALUE, "lsid must be {id: <UUID>}");
        return NULL;
    }
    s = md_map_get(&sessions, (const char *)uuid, 16);
    if (!s) {
        s = md_xcalloc(1, sizeof *s);
        memcpy(s->id, uuid, 16);
        s->lsid = bson_copy(lsid);
        s->txn_number = -1;
        s->retry_txn_number = -1;
        md_map_put(&sessions, (const char *)uuid, 16, s);
    }
    return s;
}

/* drop_staged: forget the held entries and the undo log. */
static void drop_staged(md_session_t *s)
{
    for (size_t i = 0; i < s->nstaged; i++)
        md_entry_free(s->staged[i]);
    s->nstaged = 0;
    for (size_t i = 0; i < s->nundo; i++) {
        free(s->undo[i].db);
        free(s->undo[i].coll);
        bson_value_destroy(&s->undo[i].id);
        if (s->undo[i].before)
            bson_destroy(s->undo[i].before);
    }
    s->nundo = 0;
}

/* roll_back: undo the transaction's writes, newest first. */
static void roll_back(md_session_t *s)
{
    for (size_t i = s->nundo; i-- > 0;) {
        md_undo_t *u = &s->undo[i];
        md_coll_t *c = md_store_get(u->db, u->coll);

        if (!c)
            continue;
        if (u->before)
            md_coll_put(c, bson_copy(u->before));
        else
            md_coll_remove(c, &u->id);
    }
    drop_staged(s);
    s->state = MD_TXN_ABORTED;
}

/* free_session: release s (its transaction rolled back). */
static void free_session(void *value, void *arg)
{
    md_session_t *s = value;

    (void)arg;
    if (s->state == MD_TXN_ACTIVE)
        roll_back(s);
    drop_staged(s);
    free(s->staged);
    free(s->undo);
    bson_destroy(s->lsid);
    if (s->retry_reply)
        bson_destroy(s->retry_reply);
    free(s);
}

void md_session_end(const bson_t *lsid)
{
    const uint8_t *uuid;
    md_session_t *s;

    if (lsid_uuid(lsid, &uuid) && (s = md_map_del(&sessions, (const char *)uuid, 16)))
        free_session(s, NULL);
}

bool md_txn_enter(md_session_t *s, int64_t txn_number, bool start, md_err_t *err)
{
    if (start) {
        if (txn_number <= s->txn_number && s->state != MD_TXN_NONE)
            return md_seterr(err, MD_TRANSACTION_TOO_OLD, "Cannot start transaction %lld on "
                             "session because a newer transaction %lld has already started",
                             (long long)txn_number, (long long)s->txn_number);
        if (s->state == MD_TXN_ACTIVE)
            roll_back(s);
        s->txn_number = txn_number;
        s->state = MD_TXN_ACTIVE;
        s->started_ms = md_now_ms();
        return true;
    }
    if (txn_number != s->txn_number || s->state != MD_TXN_ACTIVE)
        return md_seterr(err, MD_NO_SUCH_TRANSACTION, "Transaction with { txnNumber: %lld } has "
                         "been aborted or was never started", (long long)txn_number);
    return true;
}

void md_txn_stage(md_session_t *s, md_entry_t *e)
{
    if (s->nstaged == s->capstaged) {
        s->capstaged = s->capstaged ? s->capstaged * 2 : 8;
        s->staged = md_xrealloc(s->staged, s->capstaged * sizeof *s->staged);
    }
    s->staged[s->nstaged++] = e;
}

void md_txn_undo(md_session_t *s, const md_coll_t *c, const bson_value_t *id,
                 const bson_t *before)
{
    md_undo_t *u;

    if (s->nundo == s->capundo) {
        s->capundo = s->capundo ? s->capundo * 2 : 8;
        s->undo = md_xrealloc(s->undo, s->capundo * sizeof *s->undo);
    }
    u = &s->undo[s->nundo++];
    u->db = md_xstrdup(c->db);
    u->coll = md_xstrdup(c->name);
    bson_value_copy(id, &u->id);
    u->before = before ? bson_copy(before) : NULL;
}

bool md_txn_commit(md_session_t *s, int64_t txn_number, md_err_t *err)
{
    if (txn_number == s->txn_number && s->state == MD_TXN_COMMITTED)
        return true; /* a retried commit */
    if (txn_number != s->txn_number || s->state != MD_TXN_ACTIVE)
        return md_seterr(err, MD_NO_SUCH_TRANSACTION, "Transaction with { txnNumber: %lld } has "
                         "been aborted or was never started", (long long)txn_number);
    if (s->nstaged)
        md_oplog_append_txn(s->staged, s->nstaged, s->lsid, s->txn_number);
    s->nstaged = 0; /* the oplog owns them now */
    drop_staged(s);
    s->state = MD_TXN_COMMITTED;
    return true;
}

bool md_txn_abort(md_session_t *s, int64_t txn_number, md_err_t *err)
{
    if (txn_number != s->txn_number || s->state != MD_TXN_ACTIVE)
        return md_seterr(err, MD_NO_SUCH_TRANSACTION, "Transaction with { txnNumber: %lld } has "
                         "been aborted or was never started", (long long)txn_number);
    roll_back(s);
    return true;
}

typedef struct each_undo {
    const char *db, *coll;
    const md_session_t *self;
    void (*fn)(const md_undo_t *u, void *arg);
    void *arg;
} each_undo_t;

/* session_undo: one session's part of md_txn_each_undo. */
static void session_undo(void *value, void *arg)
{
    const md_session_t *s = value;
    each_undo_t *x = arg;

    if (s == x->self || s->state != MD_TXN_ACTIVE)
        return;
    for (size_t i = s->nundo; i-- > 0;)
        if (!strcmp(s->undo[i].db, x->db) && !strcmp(s->undo[i].coll, x->coll))
            x->fn(&s->undo[i], x->arg);
}

void md_txn_each_undo(const char *db, const char *coll, const md_session_t *self,
                      void (*fn)(const md_undo_t *u, void *arg), void *arg)
{
    each_undo_t x = {db, coll, self, fn, arg};

    md_map_each(&sessions, session_undo, &x);
}

void md_sessions_free(void)
{
    md_map_each(&sessions, free_session, NULL);
    md_map_free(&sessions);
}

typedef struct conflict_scan {
    const md_session_t *self;
    const md_coll_t *c;
    const bson_value_t *id;
    bool found;
} conflict_scan_t;

/* session_holds: does this other open transaction have an undo record of
 * the document? */
static void session_holds(void *value, void *arg)
{
    const md_session_t *s = value;
    conflict_scan_t *x = arg;

    if (s == x->self || s->state != MD_TXN_ACTIVE || x->found)
        return;
    for (size_t i = 0; i < s->nundo && !x->found; i++)
        x->found = !strcmp(s->undo[i].db, x->c->db) && !strcmp(s->undo[i].coll, x->c->name) &&
                   (!x->id || md_value_cmp(&s->undo[i].id, x->id) == 0);
}

bool md_txn_conflict_coll(const md_session_t *txn, const md_coll_t *c, md_err_t *err)
{
    return md_txn_conflict(txn, c, NULL, err);
}

/* (id NULL: any document of c) */
bool md_txn_conflict(const md_session_t *txn, const md_coll_t *c, const bson_value_t *id,
                     md_err_t *err)
{
    conflict_scan_t x = {txn, c, id, false};

    if (!txn || !c)
        return true;
    md_map_each(&sessions, session_holds, &x);
    if (x.found)
        return md_seterr(err, MD_WRITE_CONFLICT, "Caused by :: Write conflict during plan "
                         "execution and yielding is disabled. :: Please retry your operation "
                         "or multi-document transaction.");
    return true;
}

/* expire_one: abort s's transaction when it outlived the limit. */
static void expire_one(void *value, void *arg)
{
    md_session_t *s = value;
    int64_t now = *(const int64_t *)arg;

    if (s->state == MD_TXN_ACTIVE && now - s->started_ms > (int64_t)md_txn_lifetime_s * 1000) {
        md_debug("transaction %lld aborted: open longer than transactionLifetimeLimitSeconds (%d)",
                 (long long)s->txn_number, md_txn_lifetime_s);
        roll_back(s);
    }
}

void md_txn_expire(void)
{
    int64_t now = md_now_ms();

    md_map_each(&sessions, expire_one, &now);
}
