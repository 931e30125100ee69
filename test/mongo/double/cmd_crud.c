/*
 * cmd_crud.c: find, count, insert, update, delete and findAndModify of
 * mongo_double (a TEST DOUBLE, see ../README.md), as the CRUD and
 * find/getMore/killCursors specifications have drivers send them: the
 * documents, updates and deletes arrays come either inline or as OP_MSG
 * document sequences (wire.c merges both into the command).
 *
 * Writes follow MongoDB's reply shapes: {n, nModified, upserted,
 * writeErrors: [{index, code, errmsg}]}; ordered batches stop at the first
 * error, unordered ones go on.  A write error inside a transaction aborts
 * the transaction, as on the server.  Write concerns are accepted and
 * ignored (everything is "durable" at once, in memory).
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "match.h"
#include "project.h"
#include "query.h"
#include "update.h"
#include "values.h"
#include "view.h"
#include "writes.h"

/* optional_doc: a document argument or NULL; *failed on a wrong type. */
static const bson_t *optional_doc(md_ctx_t *ctx, const char *name, bson_t *storage, bool *failed)
{
    bool bad;

    if (md_arg_doc(ctx, name, storage, &bad))
        return storage;
    *failed = *failed || bad;
    return NULL;
}

/* ns_of: "db.coll". */
static void ns_of(const md_ctx_t *ctx, const char *coll, char *ns, size_t len)
{
    snprintf(ns, len, "%s.%s", ctx->db, coll);
}

/* read_docs: the visible documents of coll matching filter, per readConcern. */
static bool read_docs(md_ctx_t *ctx, const char *coll, const bson_t *filter, bson_t ***docs,
                      size_t *n, md_ts_t *at, bool *snapshot)
{
    md_view_t *v = md_open_view(ctx, coll, at, snapshot);
    bool ok;

    if (!v)
        return false;
    ok = md_read(v, filter, docs, n, &ctx->err);
    md_view_free(v);
    return ok;
}

/* window: keep docs[skip..skip+limit) (limit 0: all), projected; the count. */
static size_t window(bson_t **docs, size_t n, int64_t skip, int64_t limit, const bson_t *proj)
{
    size_t kept = 0;

    for (size_t i = 0; i < n; i++) {
        if ((int64_t)i < skip || (limit != 0 && (int64_t)kept >= limit)) {
            bson_destroy(docs[i]);
            continue;
        }
        if (proj) {
            bson_t *p = md_project(docs[i], proj);

            bson_destroy(docs[i]);
            docs[i] = p;
        }
        docs[kept++] = docs[i];
    }
    return kept;
}

md_status_t md_cmd_find(md_ctx_t *ctx, bson_t *reply)
{
    const char *coll = md_arg_coll(ctx);
    bson_t fs, ss, ps;
    bool failed = false, snapshot;
    const bson_t *filter = optional_doc(ctx, "filter", &fs, &failed);
    const bson_t *sort = optional_doc(ctx, "sort", &ss, &failed);
    const bson_t *proj = optional_doc(ctx, "projection", &ps, &failed);
    int64_t skip = md_arg_int(ctx, "skip", 0), limit = md_arg_int(ctx, "limit", 0);
    int64_t batch = md_arg_int(ctx, "batchSize", 101);
    size_t n, kept;
    bson_t **docs;
    char ns[400];
    md_ts_t at;

    if (!coll || failed)
        return MD_ERROR;
    if ((sort && !md_sort_check(sort, &ctx->err)) || (proj && !md_project_check(proj, false, &ctx->err)))
        return MD_ERROR;
    if (!read_docs(ctx, coll, filter, &docs, &n, &at, &snapshot))
        return MD_ERROR;
    md_sort(docs, n, sort);
    if (limit < 0) {
        limit = -limit;
        batch = limit;
    }
    kept = window(docs, n, skip, limit, proj);
    if (md_arg_bool(ctx, "singleBatch", false)) {
        for (size_t i = batch > 0 && batch < (int64_t)kept ? (size_t)batch : kept; i < kept; i++)
            bson_destroy(docs[i]);
        if (batch > 0 && batch < (int64_t)kept)
            kept = (size_t)batch;
        batch = -1;
    }
    ns_of(ctx, coll, ns, sizeof ns);
    md_return_docs(reply, ns, docs, kept, batch, snapshot ? &at : NULL);
    return MD_OK;
}

md_status_t md_cmd_count(md_ctx_t *ctx, bson_t *reply)
{
    const char *coll = md_arg_coll(ctx);
    bson_t qs;
    bool failed = false, snapshot;
    const bson_t *filter = optional_doc(ctx, "query", &qs, &failed);
    int64_t skip = md_arg_int(ctx, "skip", 0), limit = md_arg_int(ctx, "limit", 0);
    bson_t **docs;
    size_t n;
    int64_t count;
    md_ts_t at;

    if (!coll || failed || !read_docs(ctx, coll, filter, &docs, &n, &at, &snapshot))
        return MD_ERROR;
    for (size_t i = 0; i < n; i++)
        bson_destroy(docs[i]);
    free(docs);
    count = (int64_t)n - skip;
    if (count < 0)
        count = 0;
    if (limit > 0 && count > limit)
        count = limit;
    bson_append_int32(reply, "n", 1, (int32_t)count);
    return MD_OK;
}

/* write_errors: the writeErrors array being built and its count. */
typedef struct {
    bson_t arr;
    uint32_t n;
} errors_t;

/* add_write_error: {index, code, [keyPattern, keyValue,] errmsg}; dup_id:
 * the _id of a DuplicateKey error, or NULL. */
static void add_write_error(errors_t *we, size_t index, const md_err_t *err,
                            const bson_value_t *dup_id)
{
    bson_t e, sub;
    char key[16];

    snprintf(key, sizeof key, "%u", we->n++);
    bson_append_document_begin(&we->arr, key, -1, &e);
    bson_append_int32(&e, "index", 5, (int32_t)index);
    bson_append_int32(&e, "code", 4, err->code);
    if (dup_id && err->code == MD_DUPLICATE_KEY) {
        bson_append_document_begin(&e, "keyPattern", 10, &sub);
        bson_append_int32(&sub, "_id", 3, 1);
        bson_append_document_end(&e, &sub);
        bson_append_document_begin(&e, "keyValue", 8, &sub);
        bson_append_value(&sub, "_id", 3, dup_id);
        bson_append_document_end(&e, &sub);
    }
    bson_append_utf8(&e, "errmsg", 6, err->msg, -1);
    bson_append_document_end(&we->arr, &e);
}

/* finish_writes: writeErrors into the reply; a failed transaction aborts. */
static void finish_writes(md_ctx_t *ctx, errors_t *we, bson_t *reply)
{
    if (we->n) {
        bson_append_array(reply, "writeErrors", 11, &we->arr);
        if (ctx->txn) {
            md_err_t ignored;

            md_txn_abort(ctx->txn, ctx->txn->txn_number, &ignored);
        }
    }
    bson_destroy(&we->arr);
}

/* array_arg: the named array argument (inline or a document sequence). */
static bool array_arg(md_ctx_t *ctx, const char *name, bson_iter_t *items)
{
    bson_iter_t it;

    if (!md_arg(ctx, name, &it) || !BSON_ITER_HOLDS_ARRAY(&it)) {
        md_fail(ctx, MD_FAILED_TO_PARSE, "BSON field '%s.%s' is missing or not an array",
                ctx->name, name);
        return false;
    }
    bson_iter_recurse(&it, items);
    return true;
}

/* one_fn: one entry of a write batch; *dup_id: a DuplicateKey's _id. */
typedef bool (*one_fn)(md_ctx_t *ctx, md_coll_t *c, const bson_t *spec, size_t index, void *acc,
                       bson_value_t *dup_id, md_err_t *err);

/*
 * run_batch: the entries of the array argument through fn, as the server
 * runs a write batch: a bad entry or a failed write is a write error, and
 * an ordered batch stops at the first.  create: make the collection if
 * missing.  The write errors are left in *we (finish_writes takes them).
 */
static bool run_batch(md_ctx_t *ctx, const char *array, bool create, one_fn fn, void *acc,
                      errors_t *we)
{
    const char *coll = md_arg_coll(ctx);
    bool ordered = md_arg_bool(ctx, "ordered", true);
    bson_iter_t items;
    md_coll_t *c;

    if (!coll || !array_arg(ctx, array, &items))
        return false;
    c = create ? md_write_coll(ctx->db, coll) : md_store_get(ctx->db, coll);
    bson_init(&we->arr);
    we->n = 0;
    for (size_t i = 0; bson_iter_next(&items); i++) {
        bson_t spec;
        md_err_t err = {0};
        bson_value_t dup = {.value_type = BSON_TYPE_NULL};

        bool ok = BSON_ITER_HOLDS_DOCUMENT(&items) &&
                  md_value_doc(bson_iter_value(&items), &spec) &&
                  fn(ctx, c, &spec, i, acc, &dup, &err);

        if (!ok && err.code == MD_WRITE_CONFLICT && ctx->txn) {
            /* a command error, not a write error; the transaction aborts */
            md_err_t ignored;

            ctx->err = err;
            bson_value_destroy(&dup);
            bson_destroy(&we->arr);
            md_txn_abort(ctx->txn, ctx->txn->txn_number, &ignored);
            return false;
        }
        if (!ok) {
            if (!err.code)
                md_seterr(&err, MD_TYPE_MISMATCH, "%s[%zu] is not a document", array, i);
            add_write_error(we, i, &err, &dup);
        }
        bson_value_destroy(&dup);
        if (!ok && ordered)
            break;
    }
    return true;
}

/* one_insert: one document of insert.documents; acc counts them. */
static bool one_insert(md_ctx_t *ctx, md_coll_t *c, const bson_t *doc, size_t index, void *acc,
                       bson_value_t *dup_id, md_err_t *err)
{
    bson_t *stored = md_with_id(doc);
    bson_iter_t it;

    (void)index;
    bson_value_copy(md_doc_id(stored, &it), dup_id);
    if (!md_write_insert(ctx->txn, c, stored, err))
        return false;
    (*(int32_t *)acc)++;
    return true;
}

/* counted_batch: a batch whose reply is {n[, writeErrors]}. */
static md_status_t counted_batch(md_ctx_t *ctx, bson_t *reply, const char *array, bool create,
                                 one_fn fn)
{
    errors_t we;
    int32_t n = 0;

    if (!run_batch(ctx, array, create, fn, &n, &we))
        return MD_ERROR;
    bson_append_int32(reply, "n", 1, n);
    finish_writes(ctx, &we, reply);
    return MD_OK;
}

md_status_t md_cmd_insert(md_ctx_t *ctx, bson_t *reply)
{
    return counted_batch(ctx, reply, "documents", true, one_insert);
}

/* update counters. */
typedef struct {
    int32_t matched;
    int32_t modified;
    bson_t upserted;
    uint32_t nupserted;
} upd_result_t;

/* new_version: the document after update u (replacement or operators). */
static bool new_version(const bson_t *doc, const bson_t *u, bool replace, bool inserting,
                        bson_t **out, md_err_t *err)
{
    bson_iter_t it;

    if (replace)
        return md_update_replace(u, md_doc_id(doc, &it), out, err);
    return md_update_apply(doc, u, inserting, out, err);
}

/* do_upsert: insert the document an unmatched upsert makes. */
static bool do_upsert(md_ctx_t *ctx, md_coll_t *c, const bson_t *q, const bson_t *u, bool replace,
                      size_t index, upd_result_t *r, bson_value_t *id_out, md_err_t *err)
{
    bson_t *seed = md_upsert_seed(q), *doc, *with_id;
    bson_iter_t it;
    bool ok;

    if (replace) {
        bson_value_t qid;

        ok = md_update_replace(u, md_filter_id(q, &qid) ? &qid : NULL, &doc, err);
    } else {
        ok = md_update_apply(seed, u, true, &doc, err);
    }
    bson_destroy(seed);
    if (!ok)
        return false;
    with_id = md_with_id(doc);
    bson_destroy(doc);
    bson_value_copy(md_doc_id(with_id, &it), id_out);
    if (!md_write_insert(ctx->txn, c, with_id, err)) {
        bson_value_destroy(id_out);
        return false;
    }
    {
        bson_t up;
        char key[16];

        snprintf(key, sizeof key, "%u", r->nupserted++);
        bson_append_document_begin(&r->upserted, key, -1, &up);
        bson_append_int32(&up, "index", 5, (int32_t)index);
        bson_append_value(&up, "_id", 3, id_out);
        bson_append_document_end(&r->upserted, &up);
    }
    return true;
}

/* update_matches: apply u to each id; counts into r. */
static bool update_matches(md_ctx_t *ctx, md_coll_t *c, const bson_value_t *ids, size_t n,
                           const bson_t *u, bool replace, upd_result_t *r, md_err_t *err)
{
    for (size_t k = 0; k < n; k++) {
        const bson_t *doc = md_coll_get(c, &ids[k]);
        bson_t *after;

        if (!doc)
            continue;
        if (!new_version(doc, u, replace, false, &after, err))
            return false;
        r->matched++;
        if (after->len == doc->len && !memcmp(bson_get_data(after), bson_get_data(doc), doc->len)) {
            bson_destroy(after);
            continue;
        }
        if (!md_write_update(ctx->txn, c, doc, after, replace, err))
            return false;
        r->modified++;
    }
    return true;
}

/*
 * selection_conflict: in a transaction, WriteConflict when the documents
 * filter q selects may be ones another open transaction wrote: the pinned
 * _id's, else any of the collection's.  Checked before the selection,
 * since the stored data shows the other transaction's writes (a document
 * it deleted, a value it set) where the writer's snapshot would not.
 */
static bool selection_conflict(md_ctx_t *ctx, md_coll_t *c, const bson_t *q, md_err_t *err)
{
    bson_value_t id;

    if (!ctx->txn)
        return true;
    if (md_filter_id(q, &id))
        return md_txn_conflict(ctx->txn, c, &id, err);
    return md_txn_conflict_coll(ctx->txn, c, err);
}

/* one_update: one entry of updates: {q, u, upsert, multi}. */
static bool one_update(md_ctx_t *ctx, md_coll_t *c, const bson_t *spec, size_t index, void *acc,
                       bson_value_t *dup_id, md_err_t *err)
{
    upd_result_t *r = acc;
    bson_iter_t it;
    bson_t q, u;
    bool multi = bson_iter_init_find(&it, spec, "multi") && bson_iter_as_bool(&it);
    bool upsert = bson_iter_init_find(&it, spec, "upsert") && bson_iter_as_bool(&it);
    bool replace, ok;
    bson_value_t *ids;
    size_t n;

    (void)dup_id; /* an upsert's DuplicateKey goes without keyValue */
    if (!bson_iter_init_find(&it, spec, "q") || !md_value_doc(bson_iter_value(&it), &q) ||
        !BSON_ITER_HOLDS_DOCUMENT(&it))
        return md_seterr(err, MD_FAILED_TO_PARSE, "updates[%zu].q must be a document", index);
    if (!bson_iter_init_find(&it, spec, "u") || BSON_ITER_HOLDS_ARRAY(&it) ||
        !BSON_ITER_HOLDS_DOCUMENT(&it) || !md_value_doc(bson_iter_value(&it), &u))
        return md_seterr(err, MD_FAILED_TO_PARSE, "updates[%zu].u must be a document (pipeline "
                         "updates are not supported by the test double)", index);
    if (bson_iter_init_find(&it, spec, "arrayFilters"))
        return md_seterr(err, MD_FAILED_TO_PARSE, "arrayFilters are not supported by the test "
                         "double");
    replace = md_update_is_replacement(&u);
    if (replace && multi)
        return md_seterr(err, MD_FAILED_TO_PARSE, "multi update is not supported for "
                         "replacement-style update");
    if (!selection_conflict(ctx, c, &q, err) || !md_query(c, &q, &ids, &n, err))
        return false;
    if (!multi && n > 1)
        n = 1;
    if (n == 0 && upsert) {
        bson_value_t id;

        ok = do_upsert(ctx, c, &q, &u, replace, index, r, &id, err);
        if (ok)
            bson_value_destroy(&id);
    } else {
        ok = update_matches(ctx, c, ids, n, &u, replace, r, err);
    }
    md_ids_free(ids, n);
    return ok;
}

md_status_t md_cmd_update(md_ctx_t *ctx, bson_t *reply)
{
    errors_t we;
    upd_result_t r = {0, 0, BSON_INITIALIZER, 0};

    if (!run_batch(ctx, "updates", true, one_update, &r, &we)) {
        bson_destroy(&r.upserted);
        return MD_ERROR;
    }
    bson_append_int32(reply, "n", 1, r.matched + (int32_t)r.nupserted);
    bson_append_int32(reply, "nModified", 9, r.modified);
    if (r.nupserted)
        bson_append_array(reply, "upserted", 8, &r.upserted);
    bson_destroy(&r.upserted);
    finish_writes(ctx, &we, reply);
    return MD_OK;
}

/* one_delete: {q, limit}: the number deleted in *n. */
static bool one_delete(md_ctx_t *ctx, md_coll_t *c, const bson_t *spec, size_t index, void *acc,
                       bson_value_t *dup_id, md_err_t *err)
{
    int32_t *deleted = acc;
    bson_iter_t it;
    bson_t q;
    int64_t limit = bson_iter_init_find(&it, spec, "limit") ? bson_iter_as_int64(&it) : 0;
    bson_value_t *ids;
    size_t n;

    (void)dup_id;
    if (!bson_iter_init_find(&it, spec, "q") || !BSON_ITER_HOLDS_DOCUMENT(&it) ||
        !md_value_doc(bson_iter_value(&it), &q))
        return md_seterr(err, MD_FAILED_TO_PARSE, "deletes[%zu].q must be a document", index);
    if (!selection_conflict(ctx, c, &q, err) || !md_query(c, &q, &ids, &n, err))
        return false;
    for (size_t k = 0; k < n && (limit == 0 || (int64_t)k < limit); k++) {
        const bson_t *doc = md_coll_get(c, &ids[k]);

        if (doc && !md_write_delete(ctx->txn, c, doc, err)) {
            md_ids_free(ids, n);
            return false;
        }
        if (doc)
            (*deleted)++;
    }
    md_ids_free(ids, n);
    return true;
}

md_status_t md_cmd_delete(md_ctx_t *ctx, bson_t *reply)
{
    return counted_batch(ctx, reply, "deletes", false, one_delete);
}

/* fam_target: the id of the first document matching query under sort. */
static bool fam_target(md_coll_t *c, const bson_t *query, const bson_t *sort, bson_value_t *id,
                       bool *found, md_err_t *err)
{
    bson_value_t *ids;
    size_t n;

    *found = false;
    if ((sort && !md_sort_check(sort, err)) || !md_query(c, query, &ids, &n, err))
        return false;
    md_sort_ids(c, ids, n, sort);
    if (n) {
        bson_value_copy(&ids[0], id);
        *found = true;
    }
    md_ids_free(ids, n);
    return true;
}

/* fam_result: lastErrorObject and value. */
static void fam_result(bson_t *reply, int32_t n, bool updated, const bson_value_t *upserted,
                       const bson_t *value)
{
    bson_t leo;

    bson_append_document_begin(reply, "lastErrorObject", 15, &leo);
    bson_append_int32(&leo, "n", 1, n);
    bson_append_bool(&leo, "updatedExisting", 15, updated);
    if (upserted)
        bson_append_value(&leo, "upserted", 8, upserted);
    bson_append_document_end(reply, &leo);
    if (value)
        bson_append_document(reply, "value", 5, value);
    else
        bson_append_null(reply, "value", 5);
}

md_status_t md_cmd_find_and_modify(md_ctx_t *ctx, bson_t *reply)
{
    const char *coll = md_arg_coll(ctx);
    bson_t qs, ss, us, empty = BSON_INITIALIZER;
    bool failed = false, found, remove = md_arg_bool(ctx, "remove", false);
    bool want_new = md_arg_bool(ctx, "new", false), upsert = md_arg_bool(ctx, "upsert", false);
    const bson_t *query = optional_doc(ctx, "query", &qs, &failed);
    const bson_t *sort = optional_doc(ctx, "sort", &ss, &failed);
    const bson_t *u = optional_doc(ctx, "update", &us, &failed);
    md_coll_t *c;
    bson_value_t id;
    upd_result_t r = {0, 0, BSON_INITIALIZER, 0};
    md_status_t st = MD_OK;

    if (!coll || failed)
        return MD_ERROR;
    if (remove == (u != NULL))
        return md_fail(ctx, MD_FAILED_TO_PARSE, "findAndModify needs exactly one of remove: "
                       "true and update (pipeline updates are not supported by the test double)");
    c = md_write_coll(ctx->db, coll);
    if (!selection_conflict(ctx, c, query ? query : &empty, &ctx->err)) {
        md_err_t ignored;

        md_txn_abort(ctx->txn, ctx->txn->txn_number, &ignored);
        return MD_ERROR;
    }
    if (!fam_target(c, query ? query : &empty, sort, &id, &found, &ctx->err))
        return MD_ERROR;
    if (!found && (remove || !upsert)) {
        fam_result(reply, 0, false, NULL, NULL);
    } else if (!found) {
        bson_value_t new_id;

        if (!do_upsert(ctx, c, query ? query : &empty, u, md_update_is_replacement(u), 0, &r,
                       &new_id, &ctx->err)) {
            st = MD_ERROR;
        } else {
            fam_result(reply, 1, false, &new_id, want_new ? md_coll_get(c, &new_id) : NULL);
            bson_value_destroy(&new_id);
        }
    } else {
        bson_t *before = bson_copy(md_coll_get(c, &id));

        if (remove) {
            if (!md_write_delete(ctx->txn, c, md_coll_get(c, &id), &ctx->err))
                st = MD_ERROR;
        } else if (!update_matches(ctx, c, &id, 1, u, md_update_is_replacement(u), &r,
                                   &ctx->err)) {
            st = MD_ERROR;
        }
        if (st == MD_OK)
            fam_result(reply, 1, !remove, NULL, want_new && !remove ? md_coll_get(c, &id) : before);
        bson_destroy(before);
        bson_value_destroy(&id);
    }
    if (st == MD_ERROR && ctx->err.code == MD_WRITE_CONFLICT && ctx->txn) {
        md_err_t ignored;

        md_txn_abort(ctx->txn, ctx->txn->txn_number, &ignored);
    }
    bson_destroy(&r.upserted);
    return st;
}
