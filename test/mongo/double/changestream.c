/*
 * changestream.c: opening change streams and turning oplog entries into
 * change events (changestream.h).
 *
 * A stream remembers the next oplog sequence to read and the position up
 * to which it has scanned; a batch reads entries in order, skips those out
 * of scope or not past the start, builds each event, runs the following
 * stages on it and appends what passes.  The postBatchResumeToken is the
 * scanned position, or, when the stream has read everything, a high-water
 * mark at the current cluster time (no later write can take a time at or
 * before it).
 */
#include "changestream.h"

#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "project.h"
#include "store.h"
#include "util.h"
#include "values.h"
#include "view.h"

#define MAX_BATCH_BYTES (16 * 1024 * 1024)

enum { MD_ONLY_ONE_RESUME_OPTION = 40674, MD_UNKNOWN_FIELD = 40415 };

typedef enum { FD_DEFAULT, FD_UPDATE_LOOKUP, FD_WHEN_AVAILABLE, FD_REQUIRED } full_t;
typedef enum { FB_OFF, FB_WHEN_AVAILABLE, FB_REQUIRED } before_t;

struct md_cs {
    char *db;               /* NULL: the deployment */
    char *coll;             /* NULL: the whole database */
    full_t full;
    before_t before;
    bson_t *stages;         /* the stages after $changeStream (array), or NULL */
    uint64_t next;          /* the next oplog sequence to read */
    md_pos_t pos;           /* scanned up to here */
    bool invalidate_pending;
    md_pos_t inval_pos;
    int64_t inval_wall_ms;
};

/* SHA-256 of the empty string: the lsid uid of an unauthenticated user. */
static const uint8_t EMPTY_USER_UID[32] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};

md_pos_t md_cs_position(const md_cs_t *cs)
{
    return cs->pos;
}

void md_cs_free(md_cs_t *cs)
{
    if (!cs)
        return;
    free(cs->db);
    free(cs->coll);
    if (cs->stages)
        bson_destroy(cs->stages);
    free(cs);
}

/* in_scope: the entry belongs to the stream's namespace. */
static bool in_scope(const md_cs_t *cs, const md_entry_t *e)
{
    if (!cs->db)
        return strcmp(e->db, "admin") && strcmp(e->db, "config") && strcmp(e->db, "local");
    if (strcmp(e->db, cs->db))
        return false;
    if (!cs->coll)
        return true;
    return e->coll && !strcmp(e->coll, cs->coll) && e->kind != MD_OP_DROPDB;
}

/* invalidates: the entry ends the stream. */
static bool invalidates(const md_cs_t *cs, const md_entry_t *e)
{
    if (cs->coll)
        return e->kind == MD_OP_DROP || e->kind == MD_OP_RENAME;
    return cs->db && e->kind == MD_OP_DROPDB;
}

/* parse_mode: a string option among the allowed names; its index. */
static bool parse_mode(const bson_iter_t *it, const char *opt, const char *const *names, int n,
                       int *out, md_err_t *err)
{
    if (BSON_ITER_HOLDS_UTF8(it)) {
        const char *s = bson_iter_utf8(it, NULL);

        for (int i = 0; i < n; i++) {
            if (!strcmp(s, names[i])) {
                *out = i;
                return true;
            }
        }
    }
    return md_seterr(err, MD_BAD_VALUE, "$changeStream.%s: unsupported value (accepted: %s, %s%s%s)",
                     opt, names[0], names[1], n > 2 ? ", " : "", n > 2 ? names[2] : "");
}

/* check_stages: every stage after $changeStream is $match or $project. */
static bool check_stages(const bson_t *rest, md_err_t *err)
{
    bson_iter_t it;

    bson_iter_init(&it, rest);
    while (bson_iter_next(&it)) {
        bson_t stage, arg;
        bson_iter_t s;
        const char *name;

        if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !md_value_doc(bson_iter_value(&it), &stage) ||
            !bson_iter_init(&s, &stage) || !bson_iter_next(&s))
            return md_seterr(err, MD_BAD_VALUE, "each pipeline stage must be a document");
        name = bson_iter_key(&s);
        if (!strcmp(name, "$changeStream"))
            return md_seterr(err, MD_CHANGE_STREAM_NOT_FIRST, "$changeStream is only valid as "
                             "the first stage in a pipeline");
        if (strcmp(name, "$match") && strcmp(name, "$project"))
            return md_seterr(err, MD_UNRECOGNIZED_STAGE, "Unrecognized pipeline stage name: "
                             "'%s' (the test double supports $match and $project after "
                             "$changeStream)", name);
        if (!BSON_ITER_HOLDS_DOCUMENT(&s) || !md_value_doc(bson_iter_value(&s), &arg))
            return md_seterr(err, MD_BAD_VALUE, "%s needs a document", name);
        if (!strcmp(name, "$match")) {
            char buf[512];

            if (!md_match_check(&arg, buf, sizeof buf))
                return md_seterr(err, MD_BAD_VALUE, "%s", buf);
        } else if (!md_project_check(&arg, true, err)) {
            return false;
        }
    }
    return true;
}

/* resume_from_token: position the stream after a resumeAfter/startAfter token. */
static bool resume_from_token(md_cs_t *cs, md_pos_t tok, bool start_after, md_err_t *err)
{
    uint64_t seq;

    if (tok.kind == MD_POS_INVALIDATE && !start_after)
        return md_seterr(err, MD_INVALID_RESUME_TOKEN, "Attempting to resume a change stream "
                         "using 'resumeAfter' is not allowed from an invalidate notification");
    if (tok.kind == MD_POS_EVENT) {
        if (!md_oplog_find_event(tok, &seq)) {
            if (md_oplog_lost_after(md_pos_hwm(md_ts_pred(tok.ts))))
                return md_seterr(err, MD_CHANGE_STREAM_HISTORY_LOST, "Resume of change stream "
                                 "was not possible, as the resume point may no longer be in the "
                                 "oplog.");
            return md_seterr(err, MD_CHANGE_STREAM_FATAL_ERROR, "cannot resume stream; the "
                             "resume token was not found");
        }
        cs->next = seq + 1;
        cs->pos = tok;
        if (invalidates(cs, md_oplog_at(seq)) && in_scope(cs, md_oplog_at(seq))) {
            cs->invalidate_pending = true;
            cs->inval_pos = (md_pos_t){tok.ts, tok.idx, MD_POS_INVALIDATE};
            cs->inval_wall_ms = md_oplog_at(seq)->wall_ms;
        }
        return true;
    }
    if (md_oplog_lost_after(tok))
        return md_seterr(err, MD_CHANGE_STREAM_HISTORY_LOST, "Resume of change stream was not "
                         "possible, as the resume point may no longer be in the oplog.");
    cs->next = md_oplog_seek_after(tok);
    cs->pos = tok;
    return true;
}

/* set_scope: db/coll/allChangesForCluster into the stream. */
static bool set_scope(md_cs_t *cs, const char *db, const char *coll, bool all, md_err_t *err)
{
    if (!strcmp(db, "admin") && !coll) {
        if (!all)
            return md_seterr(err, MD_INVALID_NAMESPACE, "$changeStream may not be opened on the "
                             "internal admin database (use allChangesForCluster: true)");
        return true;
    }
    if (all)
        return md_seterr(err, MD_INVALID_NAMESPACE, "A $changeStream with "
                         "'allChangesForCluster:true' may only be opened on the 'admin' "
                         "database, and with no collection name");
    if (!strcmp(db, "admin") || !strcmp(db, "config") || !strcmp(db, "local"))
        return md_seterr(err, MD_INVALID_NAMESPACE, "$changeStream may not be opened on the "
                         "internal %s database", db);
    cs->db = md_xstrdup(db);
    cs->coll = coll ? md_xstrdup(coll) : NULL;
    return true;
}

/* parse_spec: the $changeStream stage's options; the start point in *start. */
static bool parse_spec(md_cs_t *cs, const bson_t *spec, bool *all, bson_value_t *start,
                       const char **start_name, md_err_t *err)
{
    static const char *const full_names[] = {"default", "updateLookup", "whenAvailable",
                                             "required"};
    static const char *const before_names[] = {"off", "whenAvailable", "required"};
    bson_iter_t it;
    int mode = 0;

    bson_iter_init(&it, spec);
    while (bson_iter_next(&it)) {
        const char *k = bson_iter_key(&it);

        if (!strcmp(k, "fullDocument")) {
            if (!parse_mode(&it, k, full_names, 4, &mode, err))
                return false;
            cs->full = (full_t)mode;
        } else if (!strcmp(k, "fullDocumentBeforeChange")) {
            if (!parse_mode(&it, k, before_names, 3, &mode, err))
                return false;
            cs->before = (before_t)mode;
        } else if (!strcmp(k, "resumeAfter") || !strcmp(k, "startAfter") ||
                   !strcmp(k, "startAtOperationTime")) {
            if (*start_name)
                return md_seterr(err, MD_ONLY_ONE_RESUME_OPTION, "Only one type of resume "
                                 "option is allowed, but multiple were found.");
            *start = *bson_iter_value(&it); /* points into spec, which outlives it */
            *start_name = k;
        } else if (!strcmp(k, "allChangesForCluster")) {
            *all = bson_iter_as_bool(&it);
        } else if (strcmp(k, "showExpandedEvents")) {
            return md_seterr(err, MD_UNKNOWN_FIELD, "BSON field '$changeStream.%s' is an unknown "
                             "field.", k);
        }
    }
    return true;
}

/* log_start: with --verbose, the start option as the client sent it
 * ("change stream start: resumeAfter {"_data": "..."}"), so that tests can
 * check where a client resumed from. */
static void log_start(const bson_value_t *start, const char *name)
{
    char *text = NULL;

    if (!md_verbose)
        return;
    if (start && start->value_type == BSON_TYPE_DOCUMENT) {
        bson_t doc;

        if (bson_init_static(&doc, start->value.v_doc.data, start->value.v_doc.data_len))
            text = bson_as_relaxed_extended_json(&doc, NULL);
    } else if (start && start->value_type == BSON_TYPE_TIMESTAMP) {
        text = bson_strdup_printf("Timestamp(%u, %u)", start->value.v_timestamp.timestamp,
                                  start->value.v_timestamp.increment);
    }
    md_log("change stream start: %s %s", start ? name : "now", text ? text : "");
    bson_free(text);
}

/* set_start: position the stream from its start option (or now). */
static bool set_start(md_cs_t *cs, const bson_value_t *start, const char *name, md_err_t *err)
{
    md_pos_t tok;

    log_start(start, name);
    if (!start) {
        cs->pos = md_pos_hwm(md_clock_now());
        cs->next = md_oplog_end();
        return true;
    }
    if (!strcmp(name, "startAtOperationTime")) {
        md_ts_t ts;

        if (start->value_type != BSON_TYPE_TIMESTAMP)
            return md_seterr(err, MD_TYPE_MISMATCH, "startAtOperationTime must be a Timestamp");
        ts = (md_ts_t){start->value.v_timestamp.timestamp, start->value.v_timestamp.increment};
        tok = md_pos_hwm(md_ts_pred(ts));
        if (md_oplog_lost_after(tok))
            return md_seterr(err, MD_CHANGE_STREAM_HISTORY_LOST, "Resume of change stream was "
                             "not possible, as the resume point may no longer be in the oplog.");
        cs->next = md_oplog_seek_after(tok);
        cs->pos = tok;
        return true;
    }
    return md_token_parse(start, &tok, err) &&
           resume_from_token(cs, tok, !strcmp(name, "startAfter"), err);
}

md_cs_t *md_cs_open(const char *db, const char *coll, const bson_t *spec, const bson_t *rest,
                    md_err_t *err)
{
    md_cs_t *cs = md_xcalloc(1, sizeof *cs);
    bson_value_t start;
    const char *start_name = NULL;
    bool all = false;

    if (!parse_spec(cs, spec, &all, &start, &start_name, err) ||
        !set_scope(cs, db, coll, all, err) || (rest && !check_stages(rest, err)) ||
        !set_start(cs, start_name ? &start : NULL, start_name, err)) {
        md_cs_free(cs);
        return NULL;
    }
    if (rest && !bson_empty(rest))
        cs->stages = bson_copy(rest);
    return cs;
}

/* append_ns: ns {db, coll} (coll NULL: {db}). */
static void append_ns(bson_t *ev, const char *key, const char *db, const char *coll)
{
    bson_t ns;

    bson_append_document_begin(ev, key, -1, &ns);
    bson_append_utf8(&ns, "db", 2, db, -1);
    if (coll)
        bson_append_utf8(&ns, "coll", 4, coll, -1);
    bson_append_document_end(ev, &ns);
}

/* append_lsid: {id: <the client's UUID>, uid: <SHA-256 of the user>}. */
static void append_lsid(bson_t *ev, const bson_t *lsid)
{
    bson_t out;
    bson_iter_t it;

    bson_append_document_begin(ev, "lsid", 4, &out);
    if (bson_iter_init_find(&it, lsid, "id"))
        bson_append_value(&out, "id", 2, bson_iter_value(&it));
    bson_append_binary(&out, "uid", 3, BSON_SUBTYPE_BINARY, EMPTY_USER_UID, 32);
    bson_append_document_end(ev, &out);
}

/* append_lookup: fullDocument of an update with updateLookup: the document
 * as committed now (null when gone). */
static void append_lookup(const md_entry_t *e, bson_t *ev)
{
    md_err_t err = {0};
    md_view_t *v = md_view_open(e->db, e->coll, NULL, NULL, &err);
    const bson_t *doc = NULL;
    bson_iter_t it;

    if (v && bson_iter_init_find(&it, e->key, "_id"))
        doc = md_view_get(v, bson_iter_value(&it));
    if (doc)
        bson_append_document(ev, "fullDocument", 12, doc);
    else
        bson_append_null(ev, "fullDocument", 12);
    if (v)
        md_view_free(v);
}

/* append_full_document: fullDocument for the entry, per the stream's mode. */
static bool append_full_document(const md_cs_t *cs, const md_entry_t *e, bson_t *ev,
                                 md_err_t *err)
{
    const bson_t *doc = NULL;

    if (e->kind == MD_OP_INSERT || e->kind == MD_OP_REPLACE) {
        doc = e->post;
    } else if (e->kind != MD_OP_UPDATE || cs->full == FD_DEFAULT) {
        return true;
    } else if (cs->full == FD_UPDATE_LOOKUP) {
        append_lookup(e, ev);
        return true;
    } else {
        doc = e->images ? e->post : NULL;
        if (!doc && cs->full == FD_REQUIRED)
            return md_seterr(err, MD_NO_MATCHING_DOCUMENT, "Change stream was configured to "
                             "require a post-image for all update, delete and replace events, "
                             "but the post-image was not found for event");
    }
    if (doc)
        bson_append_document(ev, "fullDocument", 12, doc);
    else
        bson_append_null(ev, "fullDocument", 12);
    return true;
}

/* append_before: fullDocumentBeforeChange, per the stream's mode. */
static bool append_before(const md_cs_t *cs, const md_entry_t *e, bson_t *ev, md_err_t *err)
{
    if (cs->before == FB_OFF ||
        (e->kind != MD_OP_UPDATE && e->kind != MD_OP_REPLACE && e->kind != MD_OP_DELETE))
        return true;
    if (e->images && e->pre) {
        bson_append_document(ev, "fullDocumentBeforeChange", 24, e->pre);
        return true;
    }
    if (cs->before == FB_REQUIRED)
        return md_seterr(err, MD_NO_MATCHING_DOCUMENT, "Change stream was configured to require "
                         "a pre-image for all update, delete and replace events, but the "
                         "pre-image was not found for event");
    bson_append_null(ev, "fullDocumentBeforeChange", 24);
    return true;
}

/* build_event: the change event of entry e. */
static bool build_event(const md_cs_t *cs, const md_entry_t *e, bson_t *ev, md_err_t *err)
{
    md_token_append(ev, "_id", e->pos);
    bson_append_utf8(ev, "operationType", 13, md_opkind_name(e->kind), -1);
    bson_append_timestamp(ev, "clusterTime", 11, e->pos.ts.t, e->pos.ts.i);
    bson_append_date_time(ev, "wallTime", 8, e->wall_ms);
    if (e->lsid) {
        bson_append_int64(ev, "txnNumber", 9, e->txn_number);
        append_lsid(ev, e->lsid);
    }
    if (!append_full_document(cs, e, ev, err))
        return false;
    append_ns(ev, "ns", e->db, e->coll);
    if (e->kind == MD_OP_RENAME)
        append_ns(ev, "to", e->to_db, e->to_coll);
    if (e->key)
        bson_append_document(ev, "documentKey", 11, e->key);
    if (e->desc)
        bson_append_document(ev, "updateDescription", 17, e->desc);
    return append_before(cs, e, ev, err);
}

/* build_invalidate: the invalidate event after the entry at cs->inval_pos. */
static void build_invalidate(const md_cs_t *cs, bson_t *ev)
{
    md_token_append(ev, "_id", cs->inval_pos);
    bson_append_utf8(ev, "operationType", 13, "invalidate", 10);
    bson_append_timestamp(ev, "clusterTime", 11, cs->inval_pos.ts.t, cs->inval_pos.ts.i);
    bson_append_date_time(ev, "wallTime", 8, cs->inval_wall_ms);
}

/* same_id: the _id of ev is still the token at pos. */
static bool same_id(const bson_t *ev, md_pos_t pos)
{
    bson_t want = BSON_INITIALIZER;
    bson_iter_t a, b;
    bool same;

    md_token_append(&want, "_id", pos);
    same = bson_iter_init_find(&a, ev, "_id") && bson_iter_init_find(&b, &want, "_id") &&
           bson_iter_type(&a) == bson_iter_type(&b) &&
           md_value_cmp(bson_iter_value(&a), bson_iter_value(&b)) == 0;
    bson_destroy(&want);
    return same;
}

/* run_stages: the following stages on *ev (event at pos); *keep: it passed. */
static bool run_stages(const md_cs_t *cs, md_pos_t pos, bson_t **ev, bool *keep, md_err_t *err)
{
    bson_iter_t it, s;
    char buf[512];

    *keep = true;
    if (!cs->stages)
        return true;
    bson_iter_init(&it, cs->stages);
    while (*keep && bson_iter_next(&it)) {
        bson_t stage, arg;

        md_value_doc(bson_iter_value(&it), &stage);
        bson_iter_init(&s, &stage);
        bson_iter_next(&s);
        md_value_doc(bson_iter_value(&s), &arg);
        if (!strcmp(bson_iter_key(&s), "$match")) {
            *keep = md_match(*ev, &arg, buf, sizeof buf) == 1;
        } else {
            bson_t *p = md_project(*ev, &arg);

            bson_destroy(*ev);
            *ev = p;
        }
    }
    if (*keep && !same_id(*ev, pos))
        return md_seterr(err, MD_CHANGE_STREAM_FATAL_ERROR, "Encountered an event whose _id "
                         "field, which contains the resume token, was modified by the "
                         "pipeline. Modifying the _id field of an event makes it impossible "
                         "to resume the stream from that point.");
    return true;
}

/* emit: run the stages on ev and append what passes to arr (takes ev). */
static bool emit(const md_cs_t *cs, md_pos_t pos, bson_t *ev, bson_t *arr, int *n,
                 size_t *bytes, md_err_t *err)
{
    bool keep;
    char key[16];

    if (!run_stages(cs, pos, &ev, &keep, err)) {
        bson_destroy(ev);
        return false;
    }
    if (keep) {
        snprintf(key, sizeof key, "%d", *n);
        bson_append_document(arr, key, -1, ev);
        (*n)++;
        *bytes += ev->len;
    }
    bson_destroy(ev);
    return true;
}

/* emit_invalidate: the pending invalidate ends the stream. */
static bool emit_invalidate(md_cs_t *cs, bson_t *arr, int *n, size_t *bytes, md_pos_t *pbrt,
                            bool *closed, md_err_t *err)
{
    bson_t *ev = bson_new();

    build_invalidate(cs, ev);
    cs->pos = cs->inval_pos;
    cs->invalidate_pending = false;
    *pbrt = cs->pos;
    *closed = true;
    return emit(cs, cs->pos, ev, arr, n, bytes, err);
}

bool md_cs_batch(md_cs_t *cs, int max, bson_t *arr, int *n, md_pos_t *pbrt, bool *closed,
                 md_err_t *err)
{
    size_t bytes = 0;
    uint64_t end = md_oplog_end();

    *n = 0;
    *closed = false;
    if (cs->invalidate_pending)
        return emit_invalidate(cs, arr, n, &bytes, pbrt, closed, err);
    if (cs->next < md_oplog_begin())
        return md_seterr(err, MD_CAPPED_POSITION_LOST, "CollectionScan died due to position in "
                         "capped collection being deleted (the change stream fell off the "
                         "double's oplog; see --oplog-size)");
    while (cs->next < end && (max <= 0 || *n < max) && bytes < MAX_BATCH_BYTES) {
        const md_entry_t *e = md_oplog_at(cs->next);
        bson_t *ev;

        if (md_pos_cmp(e->pos, cs->pos) <= 0 || !in_scope(cs, e)) {
            if (md_pos_cmp(e->pos, cs->pos) > 0)
                cs->pos = e->pos;
            cs->next++;
            continue;
        }
        ev = bson_new();
        if (!build_event(cs, e, ev, err)) {
            bson_destroy(ev);
            return false;
        }
        if (!emit(cs, e->pos, ev, arr, n, &bytes, err))
            return false;
        cs->next++;
        cs->pos = e->pos;
        if (invalidates(cs, e)) {
            cs->invalidate_pending = true;
            cs->inval_pos = (md_pos_t){e->pos.ts, e->pos.idx, MD_POS_INVALIDATE};
            cs->inval_wall_ms = e->wall_ms;
            if (max <= 0 || *n < max)
                return emit_invalidate(cs, arr, n, &bytes, pbrt, closed, err);
            break;
        }
    }
    *pbrt = cs->pos;
    if (cs->next == end && !cs->invalidate_pending) {
        md_pos_t hwm = md_pos_hwm(md_clock_now());

        if (md_pos_cmp(hwm, cs->pos) > 0)
            *pbrt = hwm;
    }
    return true;
}
