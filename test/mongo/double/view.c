/*
 * view.c: read views (view.h).
 *
 * A view is the collection plus overrides: for each _id some hidden write
 * touched, the document as it was before the oldest such write (NULL when
 * it did not exist).  Overrides are applied newest first, open
 * transactions' undo logs (newer than anything committed) and then the
 * oplog from its end back to T, so the last one written for an _id is the
 * oldest state.  A view without overrides costs nothing beyond the copies
 * the caller asks for.
 */
#include "view.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "values.h"

typedef struct override {
    bson_value_t id;
    bson_t *doc;    /* NULL: absent in the view */
} override_t;

struct md_view {
    const md_coll_t *c;     /* NULL: the collection does not exist now */
    md_map_t map;           /* _id key -> override_t */
    override_t **list;
    size_t n, cap;
};

/* set_override: the view shows doc (NULL: nothing) for id. */
static void set_override(md_view_t *v, const bson_value_t *id, const bson_t *doc)
{
    md_buf_t key = {0};
    override_t *o;

    md_value_key(id, &key);
    o = md_map_get(&v->map, (const char *)key.data, key.len);
    if (!o) {
        o = md_xcalloc(1, sizeof *o);
        bson_value_copy(id, &o->id);
        md_map_put(&v->map, (const char *)key.data, key.len, o);
        if (v->n == v->cap) {
            v->cap = v->cap ? v->cap * 2 : 16;
            v->list = md_xrealloc(v->list, v->cap * sizeof *v->list);
        }
        v->list[v->n++] = o;
    } else if (o->doc) {
        bson_destroy(o->doc);
    }
    o->doc = doc ? bson_copy(doc) : NULL;
    md_buf_free(&key);
}

/* undo_txn: one undo record of an open transaction. */
static void undo_txn(const md_undo_t *u, void *arg)
{
    set_override(arg, &u->id, u->before);
}

/* entry_id: the _id of an entry's document key. */
static const bson_value_t *entry_id(const md_entry_t *e, bson_iter_t *it)
{
    return e->key && bson_iter_init_find(it, e->key, "_id") ? bson_iter_value(it) : NULL;
}

/* touches: a DDL entry that changes the collection db.coll. */
static bool touches(const md_entry_t *e, const char *db, const char *coll)
{
    if (strcmp(e->db, db) && !(e->to_db && !strcmp(e->to_db, db)))
        return false;
    return e->kind == MD_OP_DROPDB ||
           ((e->kind == MD_OP_DROP || e->kind == MD_OP_RENAME) && !strcmp(e->coll, coll)) ||
           (e->kind == MD_OP_RENAME && !strcmp(e->to_coll, coll));
}

/* undo_since: undo the committed writes to db.coll after at. */
static bool undo_since(md_view_t *v, const char *db, const char *coll, md_ts_t at, md_err_t *err)
{
    md_ts_t now = md_clock_now();

    if (at.t > now.t || (at.t == now.t && at.i > now.i))
        return md_seterr(err, MD_INVALID_OPTIONS, "readConcern atClusterTime value must not be "
                         "greater than the current clusterTime");
    if (md_oplog_lost_after(md_pos_hwm(at)))
        return md_seterr(err, 239, "Read timestamp Timestamp(%u, %u) is older than the oldest "
                         "available timestamp (the double's oplog; see --oplog-size)", at.t, at.i);
    for (uint64_t s = md_oplog_end(); s-- > md_oplog_begin();) {
        const md_entry_t *e = md_oplog_at(s);
        bson_iter_t it;

        if (md_pos_cmp(e->pos, md_pos_hwm(at)) <= 0)
            break;
        if (touches(e, db, coll))
            return md_seterr(err, 246, "Unable to read from a snapshot due to pending collection "
                             "catalog changes; please retry the operation.");
        if (strcmp(e->db, db) || !e->coll || strcmp(e->coll, coll) || !entry_id(e, &it))
            continue;
        set_override(v, entry_id(e, &it), e->kind == MD_OP_INSERT ? NULL : e->pre);
    }
    return true;
}

md_view_t *md_view_open(const char *db, const char *coll, const md_session_t *self,
                        const md_ts_t *at, md_err_t *err)
{
    md_view_t *v = md_xcalloc(1, sizeof *v);

    v->c = md_store_get(db, coll);
    md_txn_each_undo(db, coll, self, undo_txn, v);
    if (at && !undo_since(v, db, coll, *at, err)) {
        md_view_free(v);
        return NULL;
    }
    return v;
}

const bson_t *md_view_get(const md_view_t *v, const bson_value_t *id)
{
    md_buf_t key = {0};
    override_t *o = NULL;

    if (v->n) {
        md_value_key(id, &key);
        o = md_map_get(&v->map, (const char *)key.data, key.len);
        md_buf_free(&key);
    }
    if (o)
        return o->doc;
    return v->c ? md_coll_get(v->c, id) : NULL;
}

size_t md_view_docs(const md_view_t *v, bson_t ***out)
{
    size_t stored = v->c ? v->c->n : 0, n = 0;

    *out = md_xcalloc(stored + v->n + 1, sizeof **out);
    for (size_t i = 0; i < stored; i++) {
        bson_iter_t it;
        const bson_t *doc = md_view_get(v, md_doc_id(v->c->docs[i], &it));

        if (doc)
            (*out)[n++] = bson_copy(doc);
    }
    for (size_t i = 0; i < v->n; i++) /* in the view, gone since */
        if (v->list[i]->doc && !(v->c && md_coll_get(v->c, &v->list[i]->id)))
            (*out)[n++] = bson_copy(v->list[i]->doc);
    return n;
}

void md_view_free(md_view_t *v)
{
    for (size_t i = 0; i < v->n; i++) {
        bson_value_destroy(&v->list[i]->id);
        if (v->list[i]->doc)
            bson_destroy(v->list[i]->doc);
        free(v->list[i]);
    }
    free(v->list);
    md_map_free(&v->map);
    free(v);
}
