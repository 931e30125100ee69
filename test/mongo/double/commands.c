/*
 * commands.c: dispatch of one request through the command table, and the
 * parts every command shares (commands.h).
 *
 * Order of work for a request: find the command; apply failCommand (block,
 * close, or fail); check $db and admin-only commands; resolve the session,
 * the transaction and retried writes; run the handler; wrap its reply with
 * ok, the error fields and labels, $clusterTime and operationTime; send it
 * as OP_MSG (with a checksum when the request had one, with moreToCome in
 * an exhaust stream) or, to an OP_QUERY handshake, as OP_REPLY.
 */
#include "commands.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cursors.h"
#include "failpoint.h"
#include "values.h"
#include "view.h"

md_server_info_t md_server;

enum {
    F_HANDSHAKE = 1 << 0,    /* allowed over OP_QUERY */
    F_ADMIN = 1 << 1,        /* admin database only */
    F_TXN_OK = 1 << 2,       /* may run inside a transaction */
    F_WRITE = 1 << 3,        /* a retryable write */
    F_TXN_END = 1 << 4,      /* commitTransaction, abortTransaction */
    F_NO_FAILPOINT = 1 << 5, /* never failed by failCommand */
};

static const struct command {
    const char *name;
    md_handler_t fn;
    unsigned flags;
} commands[] = {
    {"hello", md_cmd_hello, F_HANDSHAKE},
    {"isMaster", md_cmd_hello, F_HANDSHAKE},
    {"ismaster", md_cmd_hello, F_HANDSHAKE},
    {"ping", md_cmd_ping, 0},
    {"buildInfo", md_cmd_build_info, 0},
    {"buildinfo", md_cmd_build_info, 0},
    {"getParameter", md_cmd_get_parameter, F_ADMIN},
    {"setParameter", md_cmd_set_parameter, F_ADMIN},
    {"serverStatus", md_cmd_server_status, 0},
    {"replSetGetStatus", md_cmd_repl_set_get_status, F_ADMIN},
    {"connectionStatus", md_cmd_connection_status, 0},
    {"endSessions", md_cmd_end_sessions, 0},
    {"doubleSetOplogSize", md_cmd_set_oplog_size, F_ADMIN},
    {"doubleSetAuthInfo", md_cmd_set_auth_info, F_ADMIN},
    {"find", md_cmd_find, F_TXN_OK},
    {"count", md_cmd_count, F_TXN_OK},
    {"insert", md_cmd_insert, F_TXN_OK | F_WRITE},
    {"update", md_cmd_update, F_TXN_OK | F_WRITE},
    {"delete", md_cmd_delete, F_TXN_OK | F_WRITE},
    {"findAndModify", md_cmd_find_and_modify, F_TXN_OK | F_WRITE},
    {"getMore", md_cmd_get_more, F_TXN_OK},
    {"killCursors", md_cmd_kill_cursors, F_TXN_OK},
    {"aggregate", md_cmd_aggregate, F_TXN_OK},
    {"create", md_cmd_create, 0},
    {"drop", md_cmd_drop, 0},
    {"dropDatabase", md_cmd_drop_database, 0},
    {"renameCollection", md_cmd_rename_collection, F_ADMIN},
    {"listCollections", md_cmd_list_collections, 0},
    {"listDatabases", md_cmd_list_databases, F_ADMIN},
    {"createIndexes", md_cmd_create_indexes, 0},
    {"listIndexes", md_cmd_list_indexes, 0},
    {"dropIndexes", md_cmd_drop_indexes, 0},
    {"collMod", md_cmd_coll_mod, 0},
    {"commitTransaction", md_cmd_commit_transaction, F_ADMIN | F_TXN_END},
    {"abortTransaction", md_cmd_abort_transaction, F_ADMIN | F_TXN_END},
    {"configureFailPoint", md_cmd_configure_fail_point, F_ADMIN | F_NO_FAILPOINT},
};

md_status_t md_fail(md_ctx_t *ctx, int code, const char *fmt, ...)
{
    va_list ap;

    ctx->err.code = code;
    va_start(ap, fmt);
    vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
    va_end(ap);
    return MD_ERROR;
}

md_status_t md_park(md_ctx_t *ctx, int64_t deadline_ms, bool on_oplog)
{
    ctx->park_deadline_ms = deadline_ms;
    ctx->park_on_oplog = on_oplog;
    return MD_PARKED;
}

bool md_arg(const md_ctx_t *ctx, const char *name, bson_iter_t *it)
{
    return bson_iter_init_find(it, ctx->cmd, name);
}

bool md_arg_doc(md_ctx_t *ctx, const char *name, bson_t *out, bool *bad)
{
    bson_iter_t it;

    *bad = false;
    if (!md_arg(ctx, name, &it) || BSON_ITER_HOLDS_NULL(&it))
        return false;
    if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !md_value_doc(bson_iter_value(&it), out)) {
        *bad = true;
        md_fail(ctx, MD_TYPE_MISMATCH, "BSON field '%s.%s' is the wrong type '%d', expected "
                "type 'object'", ctx->name, name, bson_iter_type(&it));
        return false;
    }
    return true;
}

int64_t md_arg_int(const md_ctx_t *ctx, const char *name, int64_t dflt)
{
    bson_iter_t it;

    return md_arg(ctx, name, &it) && BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : dflt;
}

bool md_arg_bool(const md_ctx_t *ctx, const char *name, bool dflt)
{
    bson_iter_t it;

    return md_arg(ctx, name, &it) ? bson_iter_as_bool(&it) : dflt;
}

const char *md_arg_coll(md_ctx_t *ctx)
{
    const char *name;

    if (!BSON_ITER_HOLDS_UTF8(&ctx->arg) || !*(name = bson_iter_utf8(&ctx->arg, NULL))) {
        md_fail(ctx, MD_INVALID_NAMESPACE, "collection name has invalid type or is empty "
                "(command %s)", ctx->name);
        return NULL;
    }
    if (strchr(name, '$') || strlen(name) > 200) {
        md_fail(ctx, MD_INVALID_NAMESPACE, "Invalid collection name: %s", name);
        return NULL;
    }
    return name;
}

void md_append_cursor(bson_t *reply, bool first, const bson_t *batch, int64_t id, const char *ns,
                      const md_pos_t *pbrt, const md_ts_t *at)
{
    bson_t cur;

    bson_append_document_begin(reply, "cursor", 6, &cur);
    bson_append_array(&cur, first ? "firstBatch" : "nextBatch", -1, batch);
    if (pbrt)
        md_token_append(&cur, "postBatchResumeToken", *pbrt);
    bson_append_int64(&cur, "id", 2, id);
    bson_append_utf8(&cur, "ns", 2, ns, -1);
    if (at)
        bson_append_timestamp(&cur, "atClusterTime", 13, at->t, at->i);
    bson_append_document_end(reply, &cur);
}

void md_return_docs(bson_t *reply, const char *ns, bson_t **docs, size_t n, int64_t batch_size,
                    const md_ts_t *at)
{
    bson_t batch = BSON_INITIALIZER;
    size_t i, bytes = 0;
    int64_t id = 0;

    for (i = 0; i < n && (batch_size < 0 || (int64_t)i < batch_size) &&
                bytes < MD_MAX_BSON_BYTES / 2;
         i++) {
        char key[24];

        snprintf(key, sizeof key, "%zu", i);
        bson_append_document(&batch, key, -1, docs[i]);
        bytes += docs[i]->len;
        bson_destroy(docs[i]);
        docs[i] = NULL;
    }
    if (i < n)
        id = md_cursor_new(ns, docs, n, i, NULL)->id;
    else
        free(docs);
    md_append_cursor(reply, true, &batch, id, ns, NULL, at);
    bson_destroy(&batch);
}

md_view_t *md_open_view(md_ctx_t *ctx, const char *coll, md_ts_t *at, bool *snapshot)
{
    bson_t rc;
    bool bad;
    bson_iter_t it;
    md_view_t *v;

    *snapshot = false;
    if (!ctx->txn && md_arg_doc(ctx, "readConcern", &rc, &bad) &&
        bson_iter_init_find(&it, &rc, "level") && BSON_ITER_HOLDS_UTF8(&it) &&
        !strcmp(bson_iter_utf8(&it, NULL), "snapshot")) {
        *snapshot = true;
        *at = md_clock_now();
        if (bson_iter_init_find(&it, &rc, "atClusterTime")) {
            if (!BSON_ITER_HOLDS_TIMESTAMP(&it)) {
                md_fail(ctx, MD_TYPE_MISMATCH, "readConcern.atClusterTime must be a Timestamp");
                return NULL;
            }
            bson_iter_timestamp(&it, &at->t, &at->i);
        }
    } else if (ctx->err.code) {
        return NULL;
    }
    v = md_view_open(ctx->db, coll, ctx->session, *snapshot ? at : NULL, &ctx->err);
    return v;
}

/* find_command: the table entry for name, or NULL. */
static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

/* add_label: one more error label (kept once). */
static void add_label(md_ctx_t *ctx, const char *label)
{
    for (int i = 0; i < ctx->nlabels; i++)
        if (!strcmp(ctx->labels[i], label))
            return;
    if (ctx->nlabels < 4)
        ctx->labels[ctx->nlabels++] = label;
}

/* on_change_stream: the command is a change stream's aggregate or getMore. */
static bool on_change_stream(const md_ctx_t *ctx)
{
    bson_iter_t it, stage;

    if (!strcmp(ctx->name, "getMore")) {
        md_cursor_t *c = BSON_ITER_HOLDS_INT(&ctx->arg)
                             ? md_cursor_get(bson_iter_as_int64((bson_iter_t *)&ctx->arg))
                             : NULL;

        return c && c->cs;
    }
    return !strcmp(ctx->name, "aggregate") && md_arg(ctx, "pipeline", &it) &&
           BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &stage) &&
           bson_iter_next(&stage) && BSON_ITER_HOLDS_DOCUMENT(&stage) &&
           bson_iter_recurse(&stage, &it) && bson_iter_next(&it) &&
           !strcmp(bson_iter_key(&it), "$changeStream");
}

/* default_labels: the labels the server adds to an error with this code;
 * injected: by failCommand, before a getMore checks out its cursor. */
static void default_labels(md_ctx_t *ctx, unsigned flags, bool injected)
{
    int code = ctx->err.code;
    bool resumable = md_code_resumable(code);
    bson_iter_t it;
    bool in_txn = ctx->txn || (md_arg(ctx, "autocommit", &it) && !bson_iter_as_bool(&it));

    if (resumable && !injected && on_change_stream(ctx))
        add_label(ctx, "ResumableChangeStreamError");
    if (in_txn && !(flags & F_TXN_END) &&
        (code == MD_NO_SUCH_TRANSACTION || resumable || code == MD_WRITE_CONFLICT))
        add_label(ctx, "TransientTransactionError");
    if ((flags & F_TXN_END) && resumable)
        add_label(ctx, "RetryableWriteError");
    if ((flags & F_TXN_END) && code == MD_NO_SUCH_TRANSACTION)
        add_label(ctx, "TransientTransactionError");
    if ((flags & F_WRITE) && !in_txn && resumable && md_arg(ctx, "txnNumber", &it))
        add_label(ctx, "RetryableWriteError");
}

/* wce_labels: the label the server adds to a retryable write's reply whose
 * writeConcernError has a retryable code. */
static void wce_labels(md_ctx_t *ctx, unsigned flags, const bson_t *wce)
{
    bson_iter_t it;

    if ((flags & F_WRITE) && !ctx->txn && md_arg(ctx, "txnNumber", &it) &&
        bson_iter_init_find(&it, wce, "code") && BSON_ITER_HOLDS_NUMBER(&it) &&
        md_code_resumable((int)bson_iter_as_int64(&it)))
        add_label(ctx, "RetryableWriteError");
}

/* append_labels: errorLabels, when there are any. */
static void append_labels(const md_ctx_t *ctx, bson_t *body)
{
    bson_t labels;

    if (!ctx->nlabels)
        return;
    bson_append_array_begin(body, "errorLabels", 11, &labels);
    for (int i = 0; i < ctx->nlabels; i++) {
        char k[16];

        snprintf(k, sizeof k, "%d", i);
        bson_append_utf8(&labels, k, -1, ctx->labels[i], -1);
    }
    bson_append_array_end(body, &labels);
}

/* append_times: $clusterTime and operationTime. */
static void append_times(bson_t *body)
{
    md_ts_t now = md_clock_now();
    uint8_t zero[20] = {0};
    bson_t ct, sig;

    bson_append_document_begin(body, "$clusterTime", 12, &ct);
    bson_append_timestamp(&ct, "clusterTime", 11, now.t, now.i);
    bson_append_document_begin(&ct, "signature", 9, &sig);
    bson_append_binary(&sig, "hash", 4, BSON_SUBTYPE_BINARY, zero, sizeof zero);
    bson_append_int64(&sig, "keyId", 5, 0);
    bson_append_document_end(&ct, &sig);
    bson_append_document_end(body, &ct);
    bson_append_timestamp(body, "operationTime", 13, now.t, now.i);
}

/* error_body: {ok: 0, errmsg, code, codeName, errorLabels, ...}. */
static void error_body(const md_ctx_t *ctx, bson_t *body)
{
    bson_append_double(body, "ok", 2, 0.0);
    bson_append_utf8(body, "errmsg", 6, ctx->err.msg, -1);
    bson_append_int32(body, "code", 4, ctx->err.code);
    bson_append_utf8(body, "codeName", 8, md_code_name(ctx->err.code), -1);
    append_labels(ctx, body);
    append_times(body);
}

/* send_body: the reply to req on c; exhaust: with moreToCome. */
static void send_body(md_conn_t *c, md_request_t *req, const bson_t *body, bool exhaust)
{
    md_buf_t out = {0};
    int32_t id = md_next_request_id();

    if (req->op_code == MD_OP_QUERY) {
        md_wire_reply(&out, id, req->respond_to, body);
    } else if (req->flags & MD_MSG_MORE_TO_COME) {
        return; /* the client asked for no reply (w: 0) */
    } else {
        uint32_t flags = (req->flags & MD_MSG_CHECKSUM_PRESENT) |
                         (exhaust ? MD_MSG_MORE_TO_COME : 0);

        md_wire_msg(&out, id, req->respond_to, flags, body);
    }
    req->respond_to = id;
    md_conn_send(c, &out);
    md_buf_free(&out);
}

/* send_error: the error reply for ctx. */
static void send_error(md_ctx_t *ctx)
{
    bson_t body = BSON_INITIALIZER;

    md_debug("connection %lld: %s failed: %d %s", (long long)ctx->conn->id, ctx->name,
             ctx->err.code, ctx->err.msg);
    error_body(ctx, &body);
    send_body(ctx->conn, ctx->req, &body, false);
    bson_destroy(&body);
}

/* explicit_labels: the errorLabels of failCommand data, if given. */
static bool explicit_labels(md_ctx_t *ctx, const bson_t *data)
{
    bson_iter_t it, e;
    static char store[4][64];

    if (!bson_iter_init_find(&it, data, "errorLabels") || !BSON_ITER_HOLDS_ARRAY(&it))
        return false;
    bson_iter_recurse(&it, &e);
    while (bson_iter_next(&e) && ctx->nlabels < 4) {
        if (!BSON_ITER_HOLDS_UTF8(&e))
            continue;
        snprintf(store[ctx->nlabels], sizeof store[0], "%s", bson_iter_utf8(&e, NULL));
        ctx->labels[ctx->nlabels] = store[ctx->nlabels];
        ctx->nlabels++;
    }
    return true;
}

typedef enum { FP_PASS, FP_DONE } fp_result_t;

/* free_request: release a request that is finished. */
static void free_request(md_request_t *req)
{
    md_wire_request_free(req);
    free(req);
}

/*
 * apply_failpoint: failCommand data (taken) for this request: block
 * (park, unless after_block), close, or fail, and then FP_DONE: the
 * request is parked or finished.  Otherwise FP_PASS, with *wce set to
 * data.writeConcernError, if any, for the reply of the command that runs.
 */
static fp_result_t apply_failpoint(md_ctx_t *ctx, bson_t *data, bool after_block,
                                   unsigned flags, bson_t **wce)
{
    bson_iter_t it;

    if (!after_block && bson_iter_init_find(&it, data, "blockConnection") &&
        bson_iter_as_bool(&it)) {
        int64_t ms = bson_iter_init_find(&it, data, "blockTimeMS") ? bson_iter_as_int64(&it) : 0;

        ctx->req->failpoint = data;
        md_conn_park(ctx->conn, ctx->req, md_now_ms() + ms, false);
        return FP_DONE;
    }
    if (bson_iter_init_find(&it, data, "closeConnection") && bson_iter_as_bool(&it)) {
        md_log("failCommand: closing connection %lld on %s", (long long)ctx->conn->id, ctx->name);
        md_conn_close(ctx->conn);
        bson_destroy(data);
        free_request(ctx->req);
        return FP_DONE;
    }
    if (bson_iter_init_find(&it, data, "errorCode") && BSON_ITER_HOLDS_NUMBER(&it)) {
        md_fail(ctx, (int)bson_iter_as_int64(&it), "Failing command via 'failCommand' failpoint");
        if (!explicit_labels(ctx, data))
            default_labels(ctx, flags, true);
        md_log("failCommand: %s fails with %d", ctx->name, ctx->err.code);
        send_error(ctx);
        bson_destroy(data);
        free_request(ctx->req);
        return FP_DONE;
    }
    if (bson_iter_init_find(&it, data, "writeConcernError") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        bson_t doc;

        md_value_doc(bson_iter_value(&it), &doc);
        *wce = bson_copy(&doc);
        if (!explicit_labels(ctx, data))
            wce_labels(ctx, flags, *wce);
    }
    bson_destroy(data);
    return FP_PASS;
}

/* resolve_session: lsid, transaction, and a retried write's old reply. */
static bool resolve_session(md_ctx_t *ctx, unsigned flags, const bson_t **retried)
{
    bson_t lsid;
    bool bad;
    bson_iter_t it;
    int64_t txn = md_arg_int(ctx, "txnNumber", -1);

    *retried = NULL;
    if (!md_arg_doc(ctx, "lsid", &lsid, &bad))
        return !bad;
    if (!(ctx->session = md_session_get(&lsid, &ctx->err)))
        return false;
    if (md_arg(ctx, "autocommit", &it) && !bson_iter_as_bool(&it)) {
        if (txn < 0)
            return md_seterr(&ctx->err, MD_BAD_VALUE, "autocommit: false needs a txnNumber");
        if (flags & F_TXN_END)
            return true;
        if (!(flags & F_TXN_OK))
            return md_seterr(&ctx->err, MD_OPERATION_NOT_SUPPORTED_IN_TRANSACTION, "Cannot run "
                             "'%s' in a multi-document transaction (the test double)", ctx->name);
        ctx->txn = ctx->session;
        if (!md_txn_enter(ctx->session, txn, md_arg_bool(ctx, "startTransaction", false),
                          &ctx->err)) {
            if (ctx->err.code == MD_NO_SUCH_TRANSACTION)
                add_label(ctx, "TransientTransactionError");
            return false;
        }
        return true;
    }
    if ((flags & F_WRITE) && txn >= 0 && ctx->session->retry_txn_number == txn &&
        ctx->session->retry_reply)
        *retried = ctx->session->retry_reply;
    return true;
}

/* remember_write: keep a retryable write's reply in its session. */
static void remember_write(md_ctx_t *ctx, unsigned flags, const bson_t *reply)
{
    int64_t txn = md_arg_int(ctx, "txnNumber", -1);

    if (!(flags & F_WRITE) || txn < 0 || !ctx->session || ctx->txn)
        return;
    if (ctx->session->retry_reply)
        bson_destroy(ctx->session->retry_reply);
    ctx->session->retry_reply = bson_copy(reply);
    ctx->session->retry_txn_number = txn;
}

/* send_ok: the handler's reply wrapped as a success. */
static void send_ok(md_ctx_t *ctx, const bson_t *reply, const bson_t *wce)
{
    bson_t body = BSON_INITIALIZER;

    bson_concat(&body, reply);
    bson_append_double(&body, "ok", 2, 1.0);
    if (wce) {
        bson_append_document(&body, "writeConcernError", 17, wce);
        append_labels(ctx, &body);
    }
    append_times(&body);
    send_body(ctx->conn, ctx->req, &body, ctx->exhaust_more);
    bson_destroy(&body);
}

/* finish: after the handler: reply, re-park for exhaust, or free. */
static void finish(md_ctx_t *ctx, md_status_t st, const bson_t *reply, const bson_t *wce,
                   unsigned flags)
{
    if (st == MD_PARKED) {
        md_conn_park(ctx->conn, ctx->req, ctx->park_deadline_ms, ctx->park_on_oplog);
        return;
    }
    if (st == MD_ERROR) {
        default_labels(ctx, flags, false);
        send_error(ctx);
    } else {
        remember_write(ctx, flags, reply);
        send_ok(ctx, reply, wce);
        if (ctx->exhaust_more) {
            md_conn_park(ctx->conn, ctx->req, ctx->park_deadline_ms, false);
            return;
        }
    }
    free_request(ctx->req);
}

/* prepare: ctx from a request; false (error sent, req freed) when unusable. */
static const struct command *prepare(md_ctx_t *ctx)
{
    const struct command *cmd;

    if (!bson_iter_init(&ctx->arg, ctx->cmd) || !bson_iter_next(&ctx->arg)) {
        ctx->name = "";
        md_fail(ctx, MD_FAILED_TO_PARSE, "empty command");
        return NULL;
    }
    ctx->name = bson_iter_key(&ctx->arg);
    cmd = find_command(ctx->name);
    if (ctx->req->op_code == MD_OP_QUERY && (!cmd || !(cmd->flags & F_HANDSHAKE))) {
        md_fail(ctx, MD_UNSUPPORTED_OP_QUERY_COMMAND, "Unsupported OP_QUERY command: %s. The "
                "client driver may require an upgrade.", ctx->name);
        return NULL;
    }
    if (!cmd) {
        md_fail(ctx, MD_COMMAND_NOT_FOUND, "no such command: '%s' (or not modelled by the "
                "test double)", ctx->name);
        return NULL;
    }
    return cmd;
}

void md_dispatch(md_conn_t *c, md_request_t *req, bool resumed)
{
    md_ctx_t ctx = {.conn = c, .req = req, .cmd = req->cmd, .db = req->db, .resumed = resumed,
                    .parked_deadline_ms = c->park_deadline_ms};
    const struct command *cmd = prepare(&ctx);
    bson_t reply = BSON_INITIALIZER, *data = NULL, *wce = NULL;
    const bson_t *retried = NULL;
    bool after_block = req->failpoint != NULL;
    md_status_t st;

    if (!cmd)
        goto error;
    md_txn_expire(); /* what MongoDB's periodic reaper would have done by now */
    md_debug("connection %lld: %s%s", (long long)c->id, ctx.name, resumed ? " (again)" : "");
    if (after_block) {
        data = req->failpoint;
        req->failpoint = NULL;
        ctx.resumed = false;
    } else if (!resumed && !(cmd->flags & F_NO_FAILPOINT)) {
        md_failpoint_take(ctx.name, c->app_name, &data);
    }
    if (data && apply_failpoint(&ctx, data, after_block, cmd->flags, &wce) == FP_DONE) {
        bson_destroy(&reply);
        return;
    }
    if (!*req->db) {
        md_fail(&ctx, MD_NO_DB, "OP_MSG requests require a $db argument");
        goto error;
    }
    if ((cmd->flags & F_ADMIN) && strcmp(req->db, "admin")) {
        md_fail(&ctx, 13, "%s may only be run against the admin database.", ctx.name);
        goto error;
    }
    if (!resolve_session(&ctx, cmd->flags, &retried))
        goto error;
    st = retried ? (bson_concat(&reply, retried), MD_OK) : cmd->fn(&ctx, &reply);
    finish(&ctx, st, &reply, wce, cmd->flags);
    if (wce)
        bson_destroy(wce);
    bson_destroy(&reply);
    return;
error:
    send_error(&ctx);
    free_request(req);
    if (wce)
        bson_destroy(wce);
    bson_destroy(&reply);
}
