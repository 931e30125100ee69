/*
 * cmd_cursor.c: aggregate, getMore and killCursors of mongo_double (a TEST
 * DOUBLE, see ../README.md).
 *
 * aggregate with a leading $changeStream opens a change stream cursor
 * (changestream.h).  Any other pipeline runs over the collection's
 * documents with the stages $match, $sort, $skip, $limit, $project, $count
 * and a counting $group ({_id: <constant>, <name>: {$sum: 1}}, which the
 * drivers' countDocuments sends); other stages fail with 40324.
 *
 * getMore on a change stream with nothing to return waits (awaitData) up
 * to maxTimeMS (1000 ms when not given, as the server's default), waking
 * as soon as a write commits, and then returns an empty batch with a fresh
 * postBatchResumeToken.  The batch that carries an invalidate closes the
 * cursor (id 0).
 */
#include <stdlib.h>
#include <string.h>

#include "changestream.h"
#include "commands.h"
#include "cursors.h"
#include "failpoint.h"
#include "match.h"
#include "project.h"
#include "query.h"
#include "store.h"
#include "values.h"
#include "view.h"

#define DEFAULT_AWAIT_MS 1000

/* cs_first_batch: the first batch of a new change stream cursor. */
static md_status_t cs_first_batch(md_ctx_t *ctx, md_cs_t *cs, const char *ns, int64_t batch,
                                  bson_t *reply)
{
    bson_t arr = BSON_INITIALIZER;
    md_pos_t pbrt = md_cs_position(cs);
    bool closed = false;
    int n = 0;
    int64_t id;

    if (batch != 0 && !md_cs_batch(cs, batch < 0 ? 101 : (int)batch, &arr, &n, &pbrt, &closed,
                                   &ctx->err)) {
        bson_destroy(&arr);
        md_cs_free(cs);
        return MD_ERROR;
    }
    if (closed) {
        md_cs_free(cs);
        id = 0;
    } else {
        id = md_cursor_new(ns, NULL, 0, 0, cs)->id;
    }
    md_append_cursor(reply, true, &arr, id, ns, &pbrt, NULL);
    bson_destroy(&arr);
    return MD_OK;
}

/* open_change_stream: aggregate [{$changeStream: spec}, rest...]. */
static md_status_t open_change_stream(md_ctx_t *ctx, const char *coll, const bson_t *spec,
                                      const bson_t *rest, int64_t batch, bson_t *reply)
{
    md_cs_t *cs;
    char ns[400];

    if (ctx->txn)
        return md_fail(ctx, MD_OPERATION_NOT_SUPPORTED_IN_TRANSACTION, "Operation not permitted "
                       "in transaction :: caused by :: $changeStream");
    cs = md_cs_open(ctx->db, coll, spec, rest, &ctx->err);
    if (!cs)
        return MD_ERROR;
    if (coll)
        snprintf(ns, sizeof ns, "%s.%s", ctx->db, coll);
    else
        snprintf(ns, sizeof ns, "%s.$cmd.aggregate", ctx->db);
    return cs_first_batch(ctx, cs, ns, batch, reply);
}

/* stage_count: $count: name -> [{name: n}]. */
static size_t stage_count(bson_t **docs, size_t n, const char *name)
{
    bson_t *out = bson_new();

    bson_append_int32(out, name, -1, (int32_t)n);
    for (size_t i = 0; i < n; i++)
        bson_destroy(docs[i]);
    docs[0] = out;
    return 1;
}

/* group_shape: a counting $group: {_id: <not a $path>, f: {$sum: 1}}. */
static bool group_shape(const bson_t *spec, const char **field, bson_value_t *idv, bool *has_id)
{
    bson_iter_t it, sum;
    int fields = 0;

    *field = NULL;
    bson_iter_init(&it, spec);
    while (bson_iter_next(&it)) {
        if (!strcmp(bson_iter_key(&it), "_id")) {
            *idv = *bson_iter_value(&it); /* points into spec */
            *has_id = true;
            if (BSON_ITER_HOLDS_UTF8(&it) && bson_iter_utf8(&it, NULL)[0] == '$')
                return false;
            continue;
        }
        fields++;
        *field = bson_iter_key(&it);
        if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &sum) ||
            !bson_iter_find(&sum, "$sum") || !BSON_ITER_HOLDS_NUMBER(&sum) ||
            bson_iter_as_int64(&sum) != 1)
            return false;
    }
    return fields == 1;
}

/* stage_window: $skip or $limit. */
static bool stage_window(const char *name, const bson_value_t *v, bson_t **docs, size_t *n,
                         md_err_t *err)
{
    int64_t x = md_value_is_number(v) ? (int64_t)md_value_to_double(v) : -1;
    bool skip = !strcmp(name, "$skip");
    size_t k = 0;

    if (x < 0)
        return md_seterr(err, MD_BAD_VALUE, "%s needs a non-negative number", name);
    for (size_t i = 0; i < *n; i++) {
        if (skip ? (int64_t)i < x : (int64_t)i >= x)
            bson_destroy(docs[i]);
        else
            docs[k++] = docs[i];
    }
    *n = k;
    return true;
}

/* stage_match: $match. */
static bool stage_match(const bson_t *filter, bson_t **docs, size_t *n, md_err_t *err)
{
    char buf[512];
    size_t k = 0;

    if (!md_match_check(filter, buf, sizeof buf))
        return md_seterr(err, MD_BAD_VALUE, "%s", buf);
    for (size_t i = 0; i < *n; i++) {
        if (md_match(docs[i], filter, buf, sizeof buf) == 1)
            docs[k++] = docs[i];
        else
            bson_destroy(docs[i]);
    }
    *n = k;
    return true;
}

/* stage_project: $project. */
static bool stage_project(const bson_t *spec, bson_t **docs, size_t n, md_err_t *err)
{
    if (!md_project_check(spec, true, err))
        return false;
    for (size_t i = 0; i < n; i++) {
        bson_t *p = md_project(docs[i], spec);

        bson_destroy(docs[i]);
        docs[i] = p;
    }
    return true;
}

/* stage_group: a counting $group: one document {_id, field: n}. */
static bool stage_group(const bson_t *spec, bson_t **docs, size_t *n, md_err_t *err)
{
    const char *field;
    bson_value_t idv;
    bool has_id = false;
    bson_t *out;

    if (!group_shape(spec, &field, &idv, &has_id) || !has_id)
        return md_seterr(err, MD_UNRECOGNIZED_STAGE, "the test double supports $group only as "
                         "{_id: <constant>, <field>: {$sum: 1}}");
    if (*n == 0)
        return true;
    out = bson_new();
    bson_append_value(out, "_id", 3, &idv);
    bson_append_int32(out, field, -1, (int32_t)*n);
    for (size_t i = 0; i < *n; i++)
        bson_destroy(docs[i]);
    docs[0] = out;
    *n = 1;
    return true;
}

/* run_stage: one stage of a plain pipeline over docs[0..*n). */
static bool run_stage(const char *name, const bson_value_t *v, bson_t **docs, size_t *n,
                      md_err_t *err)
{
    bson_t arg;

    if (!strcmp(name, "$skip") || !strcmp(name, "$limit"))
        return stage_window(name, v, docs, n, err);
    if (!strcmp(name, "$count")) {
        if (v->value_type != BSON_TYPE_UTF8)
            return md_seterr(err, MD_BAD_VALUE, "$count needs a field name");
        if (*n)
            *n = stage_count(docs, *n, v->value.v_utf8.str);
        return true;
    }
    if (v->value_type != BSON_TYPE_DOCUMENT || !md_value_doc(v, &arg))
        return md_seterr(err, MD_BAD_VALUE, "%s needs a document", name);
    if (!strcmp(name, "$match"))
        return stage_match(&arg, docs, n, err);
    if (!strcmp(name, "$sort"))
        return md_sort_check(&arg, err) && (md_sort(docs, *n, &arg), true);
    if (!strcmp(name, "$project"))
        return stage_project(&arg, docs, *n, err);
    if (!strcmp(name, "$group"))
        return stage_group(&arg, docs, n, err);
    return md_seterr(err, MD_UNRECOGNIZED_STAGE, "Unrecognized pipeline stage name: '%s' (or not "
                     "modelled by the test double)", name);
}

/* plain_aggregate: a pipeline without $changeStream over a collection. */
static md_status_t plain_aggregate(md_ctx_t *ctx, const char *coll, const bson_t *pipeline,
                                   int64_t batch, bson_t *reply)
{
    md_view_t *v;
    bson_t **docs;
    size_t n;
    bson_iter_t it;
    char ns[400];
    md_ts_t at;
    bool snapshot;

    if (!coll)
        return md_fail(ctx, MD_UNRECOGNIZED_STAGE, "database-level aggregate is modelled only "
                       "for $changeStream by the test double");
    if (!(v = md_open_view(ctx, coll, &at, &snapshot)))
        return MD_ERROR;
    n = md_view_docs(v, &docs);
    md_view_free(v);
    bson_iter_init(&it, pipeline);
    while (bson_iter_next(&it)) {
        bson_iter_t s;

        if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &s) || !bson_iter_next(&s) ||
            !run_stage(bson_iter_key(&s), bson_iter_value(&s), docs, &n, &ctx->err)) {
            if (!ctx->err.code)
                md_fail(ctx, MD_BAD_VALUE, "each pipeline stage must be a one-field document");
            for (size_t i = 0; i < n; i++)
                bson_destroy(docs[i]);
            free(docs);
            return MD_ERROR;
        }
    }
    snprintf(ns, sizeof ns, "%s.%s", ctx->db, coll);
    md_return_docs(reply, ns, docs, n, batch, snapshot ? &at : NULL);
    return MD_OK;
}

md_status_t md_cmd_aggregate(md_ctx_t *ctx, bson_t *reply)
{
    const char *coll = NULL;
    bson_iter_t it, first, stage;
    bson_t pipeline, cursor, rest = BSON_INITIALIZER, spec;
    bool bad;
    int64_t batch = -1;
    md_status_t st;

    if (BSON_ITER_HOLDS_UTF8(&ctx->arg) && !(coll = md_arg_coll(ctx)))
        return MD_ERROR;
    if (!coll && !(BSON_ITER_HOLDS_NUMBER(&ctx->arg) && bson_iter_as_int64(&ctx->arg) == 1))
        return md_fail(ctx, MD_FAILED_TO_PARSE, "aggregate takes a collection name or 1");
    if (!md_arg(ctx, "pipeline", &it) || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !md_value_doc(bson_iter_value(&it), &pipeline))
        return md_fail(ctx, MD_TYPE_MISMATCH, "aggregate needs a pipeline array");
    if (md_arg_doc(ctx, "cursor", &cursor, &bad)) {
        if (bson_iter_init_find(&it, &cursor, "batchSize"))
            batch = bson_iter_as_int64(&it);
    } else if (bad) {
        return MD_ERROR;
    }
    if (!bson_iter_init(&first, &pipeline) || !bson_iter_next(&first) ||
        !BSON_ITER_HOLDS_DOCUMENT(&first) || !bson_iter_recurse(&first, &stage) ||
        !bson_iter_next(&stage) || strcmp(bson_iter_key(&stage), "$changeStream"))
        return plain_aggregate(ctx, coll, &pipeline, batch, reply);
    if (!BSON_ITER_HOLDS_DOCUMENT(&stage) || !md_value_doc(bson_iter_value(&stage), &spec))
        return md_fail(ctx, MD_TYPE_MISMATCH, "$changeStream needs a document");
    for (uint32_t i = 0; bson_iter_next(&first); i++) {
        char key[16];

        snprintf(key, sizeof key, "%u", i);
        bson_append_value(&rest, key, -1, bson_iter_value(&first));
    }
    st = open_change_stream(ctx, coll, &spec, &rest, batch, reply);
    bson_destroy(&rest);
    return st;
}

/* more_docs: the next batch of a document cursor. */
static void more_docs(md_cursor_t *c, int64_t batch, bson_t *reply)
{
    bson_t arr = BSON_INITIALIZER;
    size_t k = 0, bytes = 0;
    int64_t id = c->id;
    char *ns = md_xstrdup(c->ns);

    while (c->pos < c->n && (batch <= 0 || (int64_t)k < batch) && bytes < MD_MAX_BSON_BYTES / 2) {
        char key[24];

        snprintf(key, sizeof key, "%zu", k++);
        bson_append_document(&arr, key, -1, c->docs[c->pos]);
        bytes += c->docs[c->pos]->len;
        bson_destroy(c->docs[c->pos]);
        c->docs[c->pos++] = NULL;
    }
    if (c->pos == c->n) {
        md_cursor_kill(c->id);
        id = 0;
    }
    md_append_cursor(reply, false, &arr, id, ns, NULL, NULL);
    free(ns);
    bson_destroy(&arr);
}

/* more_events: the next batch of a change stream cursor, waiting if empty. */
static md_status_t more_events(md_ctx_t *ctx, md_cursor_t *c, int64_t batch, bson_t *reply)
{
    bson_t arr = BSON_INITIALIZER;
    md_pos_t pbrt;
    bool closed;
    int n;
    int64_t wait = md_arg_int(ctx, "maxTimeMS", DEFAULT_AWAIT_MS);
    int64_t deadline = ctx->resumed ? ctx->parked_deadline_ms : md_now_ms() + wait;
    int64_t id = c->id;
    char *ns;

    if (!md_cs_batch(c->cs, (int)batch, &arr, &n, &pbrt, &closed, &ctx->err)) {
        bson_destroy(&arr);
        md_cursor_kill(c->id);
        return MD_ERROR;
    }
    if (n == 0 && !closed && md_now_ms() < deadline) {
        bson_destroy(&arr);
        return md_park(ctx, deadline, true);
    }
    ns = md_xstrdup(c->ns);
    if (closed) {
        md_cursor_kill(c->id);
        id = 0;
    }
    md_append_cursor(reply, false, &arr, id, ns, &pbrt, NULL);
    free(ns);
    bson_destroy(&arr);
    return MD_OK;
}

md_status_t md_cmd_get_more(md_ctx_t *ctx, bson_t *reply)
{
    int64_t id = BSON_ITER_HOLDS_INT(&ctx->arg) ? bson_iter_as_int64(&ctx->arg) : 0;
    int64_t batch = md_arg_int(ctx, "batchSize", 0);
    md_cursor_t *c = md_cursor_get(id);
    bson_iter_t it;
    char ns[400];
    int code;

    if (!c && ctx->resumed)
        return md_fail(ctx, MD_CURSOR_KILLED, "cursor id %lld was killed while waiting",
                       (long long)id);
    if (!c)
        return md_fail(ctx, MD_CURSOR_NOT_FOUND, "cursor id %lld not found", (long long)id);
    if (!ctx->resumed && md_failpoint_after_checkout(&code))
        return md_fail(ctx, code, "Failing command via 'failGetMoreAfterCursorCheckout' failpoint");
    if (!md_arg(ctx, "collection", &it) || !BSON_ITER_HOLDS_UTF8(&it))
        return md_fail(ctx, MD_FAILED_TO_PARSE, "getMore needs a collection name");
    snprintf(ns, sizeof ns, "%s.%s", ctx->db, bson_iter_utf8(&it, NULL));
    if (strcmp(ns, c->ns))
        return md_fail(ctx, 13, "Requested getMore on namespace '%s', but cursor belongs to a "
                       "different namespace %s", ns, c->ns);
    if (c->cs)
        return more_events(ctx, c, batch, reply);
    more_docs(c, batch, reply);
    return MD_OK;
}

md_status_t md_cmd_kill_cursors(md_ctx_t *ctx, bson_t *reply)
{
    bson_iter_t it, e;
    bson_t killed = BSON_INITIALIZER, missing = BSON_INITIALIZER, empty = BSON_INITIALIZER;
    uint32_t nk = 0, nm = 0;

    if (!md_arg(ctx, "cursors", &it) || !BSON_ITER_HOLDS_ARRAY(&it))
        return md_fail(ctx, MD_FAILED_TO_PARSE, "killCursors needs a cursors array");
    bson_iter_recurse(&it, &e);
    while (bson_iter_next(&e)) {
        int64_t id = BSON_ITER_HOLDS_INT(&e) ? bson_iter_as_int64(&e) : 0;
        char key[16];

        if (md_cursor_kill(id)) {
            snprintf(key, sizeof key, "%u", nk++);
            bson_append_int64(&killed, key, -1, id);
        } else {
            snprintf(key, sizeof key, "%u", nm++);
            bson_append_int64(&missing, key, -1, id);
        }
    }
    bson_append_array(reply, "cursorsKilled", 13, &killed);
    bson_append_array(reply, "cursorsNotFound", 15, &missing);
    bson_append_array(reply, "cursorsAlive", 12, &empty);
    bson_append_array(reply, "cursorsUnknown", 14, &empty);
    bson_destroy(&killed);
    bson_destroy(&missing);
    bson_destroy(&empty);
    if (nk)
        md_net_oplog_grew(); /* wake a getMore waiting on a killed cursor */
    return MD_OK;
}
