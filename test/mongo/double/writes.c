/*
 * writes.c: data changes and their oplog entries (writes.h).
 */
#include "writes.h"

#include <stdlib.h>
#include <string.h>

#include "update.h"

md_coll_t *md_write_coll(const char *db, const char *name)
{
    md_coll_t *c = md_store_get(db, name);

    return c ? c : md_store_create(db, name, NULL);
}

/* doc_key: {_id: id} of a document. */
static bson_t *doc_key(const bson_t *doc)
{
    bson_t *key = bson_new();
    bson_iter_t it;

    if (bson_iter_init_find(&it, doc, "_id"))
        bson_append_value(key, "_id", 3, bson_iter_value(&it));
    return key;
}

/* record: commit e, or hold it in the transaction. */
static void record(md_session_t *txn, md_entry_t *e)
{
    if (txn)
        md_txn_stage(txn, e);
    else
        md_oplog_append(e);
}

void md_dup_key_message(const md_coll_t *c, const bson_value_t *id, md_err_t *err)
{
    bson_t wrap = BSON_INITIALIZER;
    char *json;

    bson_append_value(&wrap, "_id", 3, id);
    json = bson_as_relaxed_extended_json(&wrap, NULL);
    md_seterr(err, MD_DUPLICATE_KEY, "E11000 duplicate key error collection: %s.%s index: _id_ "
              "dup key: %s", c->db, c->name, json);
    bson_free(json);
    bson_destroy(&wrap);
}

bool md_write_insert(md_session_t *txn, md_coll_t *c, bson_t *doc, md_err_t *err)
{
    bson_iter_t it;
    const bson_value_t *id = md_doc_id(doc, &it);
    md_entry_t *e;

    if (!md_txn_conflict(txn, c, id, err)) {
        bson_destroy(doc);
        return false;
    }
    if (md_coll_get(c, id)) {
        md_dup_key_message(c, id, err);
        bson_destroy(doc);
        return false;
    }
    e = md_entry_new(MD_OP_INSERT, c->db, c->name);
    e->key = doc_key(doc);
    e->post = bson_copy(doc);
    e->images = c->pre_post_images;
    if (txn)
        md_txn_undo(txn, c, id, NULL);
    md_coll_put(c, doc);
    record(txn, e);
    return true;
}

bool md_write_update(md_session_t *txn, md_coll_t *c, const bson_t *before, bson_t *after,
                     bool replace, md_err_t *err)
{
    md_entry_t *e;
    bson_iter_t it;

    if (!md_txn_conflict(txn, c, md_doc_id(before, &it), err)) {
        bson_destroy(after);
        return false;
    }
    e = md_entry_new(replace ? MD_OP_REPLACE : MD_OP_UPDATE, c->db, c->name);
    e->key = doc_key(before);
    e->images = c->pre_post_images;
    e->pre = bson_copy(before); /* for snapshot reads; events show it only with images */
    if (replace || c->pre_post_images)
        e->post = bson_copy(after);
    if (!replace) {
        e->desc = bson_new();
        md_update_description(before, after, e->desc);
    }
    if (txn)
        md_txn_undo(txn, c, md_doc_id(before, &it), before);
    md_coll_put(c, after); /* frees before: use it no more */
    record(txn, e);
    return true;
}

bool md_write_delete(md_session_t *txn, md_coll_t *c, const bson_t *doc, md_err_t *err)
{
    md_entry_t *e;
    bson_iter_t it;
    bson_value_t id;

    if (!md_txn_conflict(txn, c, md_doc_id(doc, &it), err))
        return false;
    e = md_entry_new(MD_OP_DELETE, c->db, c->name);
    e->key = doc_key(doc);
    e->images = c->pre_post_images;
    e->pre = bson_copy(doc);
    bson_value_copy(md_doc_id(doc, &it), &id);
    if (txn)
        md_txn_undo(txn, c, &id, doc);
    md_coll_remove(c, &id);
    bson_value_destroy(&id);
    record(txn, e);
    return true;
}

void md_write_drop(md_coll_t *c)
{
    md_oplog_append(md_entry_new(MD_OP_DROP, c->db, c->name));
    md_store_drop(c);
}

void md_write_rename(md_coll_t *c, const char *to_db, const char *to_name)
{
    md_entry_t *e = md_entry_new(MD_OP_RENAME, c->db, c->name);
    md_coll_t *target = md_store_get(to_db, to_name);

    if (target)
        md_store_drop(target);
    e->to_db = md_xstrdup(to_db);
    e->to_coll = md_xstrdup(to_name);
    md_store_rename(c, to_db, to_name);
    md_oplog_append(e);
}

void md_write_drop_database(const char *db)
{
    md_coll_t **cs;
    size_t n = md_store_colls(db, &cs);

    for (size_t i = 0; i < n; i++)
        md_write_drop(cs[i]);
    free(cs);
    md_oplog_append(md_entry_new(MD_OP_DROPDB, db, NULL));
}
