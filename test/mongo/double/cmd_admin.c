/*
 * cmd_admin.c: the handshake and server commands of mongo_double (a TEST
 * DOUBLE, see ../README.md): hello (and legacy isMaster), ping, buildInfo,
 * getParameter, serverStatus, replSetGetStatus, connectionStatus,
 * endSessions, setParameter (transactionLifetimeLimitSeconds), and the
 * double's own doubleSetOplogSize and
 * doubleSetAuthInfo.
 *
 * hello answers as the primary of a one-member replica set presenting
 * MongoDB 6.0 (maxWireVersion 17): setName, hosts, me, primary,
 * topologyVersion, electionId, lastWrite, logicalSessionTimeoutMinutes,
 * connectionId; helloOk when the client offered it.  With --standalone it
 * leaves the replica set's members out, as a standalone mongod does (only
 * hello changes: the other commands still act as the primary's).  An awaitable hello
 * (topologyVersion + maxAwaitTimeMS, the streaming monitor of the server
 * monitoring specification) waits maxAwaitTimeMS, since the topology never
 * changes, and with exhaustAllowed keeps answering every maxAwaitTimeMS
 * with moreToCome set.
 */
#include <string.h>

#include "commands.h"
#include "cursors.h"
#include "oplog.h"
#include "txn.h"
#include "values.h"

#define MAX_WIRE_VERSION 17
#define SERVER_VERSION "6.0.0"

/* append_topology_version: {processId, counter: 0}. */
static void append_topology_version(bson_t *reply)
{
    bson_t tv;

    bson_append_document_begin(reply, "topologyVersion", 15, &tv);
    bson_append_oid(&tv, "processId", 9, &md_server.process_id);
    bson_append_int64(&tv, "counter", 7, 0);
    bson_append_document_end(reply, &tv);
}

/* same_topology: the client's topologyVersion is ours (so it may wait). */
static bool same_topology(md_ctx_t *ctx)
{
    bson_t tv;
    bson_iter_t it;
    bool bad;

    if (!md_arg_doc(ctx, "topologyVersion", &tv, &bad))
        return false;
    return bson_iter_init_find(&it, &tv, "processId") && BSON_ITER_HOLDS_OID(&it) &&
           bson_oid_equal(bson_iter_oid(&it), &md_server.process_id) &&
           bson_iter_init_find(&it, &tv, "counter") && bson_iter_as_int64(&it) == 0;
}

/* remember_client: the appName of the handshake, for failCommand's appName. */
static void remember_client(md_ctx_t *ctx)
{
    bson_iter_t it, app;

    if (ctx->conn->handshake_done)
        return;
    ctx->conn->handshake_done = true;
    if (md_arg(ctx, "client", &it) && BSON_ITER_HOLDS_DOCUMENT(&it) &&
        bson_iter_recurse(&it, &app) && bson_iter_find_descendant(&app, "application.name", &it) &&
        BSON_ITER_HOLDS_UTF8(&it))
        snprintf(ctx->conn->app_name, sizeof ctx->conn->app_name, "%s", bson_iter_utf8(&it, NULL));
}

/* append_last_write: lastWrite {opTime, lastWriteDate, majority...}. */
static void append_last_write(bson_t *reply)
{
    md_ts_t now = md_clock_now();
    bson_t lw, op;

    bson_append_document_begin(reply, "lastWrite", 9, &lw);
    bson_append_document_begin(&lw, "opTime", 6, &op);
    bson_append_timestamp(&op, "ts", 2, now.t, now.i);
    bson_append_int64(&op, "t", 1, 1);
    bson_append_document_end(&lw, &op);
    bson_append_date_time(&lw, "lastWriteDate", 13, (int64_t)now.t * 1000);
    bson_append_document_begin(&lw, "majorityOpTime", 14, &op);
    bson_append_timestamp(&op, "ts", 2, now.t, now.i);
    bson_append_int64(&op, "t", 1, 1);
    bson_append_document_end(&lw, &op);
    bson_append_date_time(&lw, "majorityWriteDate", 17, (int64_t)now.t * 1000);
    bson_append_document_end(reply, &lw);
}

md_status_t md_cmd_hello(md_ctx_t *ctx, bson_t *reply)
{
    bson_iter_t it;
    int64_t max_await = md_arg_int(ctx, "maxAwaitTimeMS", -1);
    bool awaitable = max_await >= 0 && md_arg(ctx, "topologyVersion", &it);
    bson_oid_t election;
    bson_t hosts;

    remember_client(ctx);
    if (awaitable && !ctx->resumed && same_topology(ctx))
        return md_park(ctx, md_now_ms() + max_await, false);
    if (md_arg_bool(ctx, "helloOk", false))
        bson_append_bool(reply, "helloOk", 7, true);
    bson_append_bool(reply, strcmp(ctx->name, "hello") ? "ismaster" : "isWritablePrimary", -1,
                     true);
    append_topology_version(reply);
    if (!md_server.standalone) {
        bson_append_array_begin(reply, "hosts", 5, &hosts);
        bson_append_utf8(&hosts, "0", 1, md_server.host, -1);
        bson_append_array_end(reply, &hosts);
        bson_append_utf8(reply, "setName", 7, md_server.set_name, -1);
        bson_append_int32(reply, "setVersion", 10, 1);
        bson_append_bool(reply, "secondary", 9, false);
        bson_append_utf8(reply, "primary", 7, md_server.host, -1);
        bson_append_utf8(reply, "me", 2, md_server.host, -1);
        bson_oid_init_from_string(&election, "7fffffff0000000000000001");
        bson_append_oid(reply, "electionId", 10, &election);
        append_last_write(reply);
    }
    bson_append_int32(reply, "maxBsonObjectSize", 17, MD_MAX_BSON_BYTES);
    bson_append_int32(reply, "maxMessageSizeBytes", 19, MD_MAX_MESSAGE_BYTES);
    bson_append_int32(reply, "maxWriteBatchSize", 17, 100000);
    bson_append_date_time(reply, "localTime", 9, md_wall_ms());
    bson_append_int32(reply, "logicalSessionTimeoutMinutes", 28, 30);
    bson_append_int64(reply, "connectionId", 12, ctx->conn->id);
    bson_append_int32(reply, "minWireVersion", 14, 0);
    bson_append_int32(reply, "maxWireVersion", 14, MAX_WIRE_VERSION);
    bson_append_bool(reply, "readOnly", 8, false);
    if (awaitable && (ctx->req->flags & MD_MSG_EXHAUST_ALLOWED)) {
        ctx->exhaust_more = true;
        ctx->park_deadline_ms = md_now_ms() + max_await;
    }
    return MD_OK;
}

md_status_t md_cmd_ping(md_ctx_t *ctx, bson_t *reply)
{
    (void)ctx;
    (void)reply;
    return MD_OK;
}

md_status_t md_cmd_build_info(md_ctx_t *ctx, bson_t *reply)
{
    bson_t arr;

    (void)ctx;
    bson_append_utf8(reply, "version", 7, SERVER_VERSION, -1);
    bson_append_utf8(reply, "gitVersion", 10, "mongo_double-test-double", -1);
    bson_append_array_begin(reply, "versionArray", 12, &arr);
    bson_append_int32(&arr, "0", 1, 6);
    bson_append_int32(&arr, "1", 1, 0);
    bson_append_int32(&arr, "2", 1, 0);
    bson_append_int32(&arr, "3", 1, 0);
    bson_append_array_end(reply, &arr);
    bson_append_int32(reply, "bits", 4, 64);
    bson_append_int32(reply, "maxBsonObjectSize", 17, MD_MAX_BSON_BYTES);
    bson_append_utf8(reply, "testDouble", 10, "mongo_double: a MongoDB wire-protocol test double, "
                     "not a database", -1);
    return MD_OK;
}

md_status_t md_cmd_get_parameter(md_ctx_t *ctx, bson_t *reply)
{
    bson_iter_t it;
    int found = 0;

    if (md_arg(ctx, "featureCompatibilityVersion", &it)) {
        bson_t fcv;

        bson_append_document_begin(reply, "featureCompatibilityVersion", -1, &fcv);
        bson_append_utf8(&fcv, "version", 7, "6.0", 3);
        bson_append_document_end(reply, &fcv);
        found++;
    }
    if (md_arg(ctx, "enableTestCommands", &it)) {
        bson_append_bool(reply, "enableTestCommands", -1, true);
        found++;
    }
    if (!found)
        return md_fail(ctx, 72, "no option found to get (the test double knows "
                       "featureCompatibilityVersion and enableTestCommands)");
    return MD_OK;
}

/* setParameter: transactionLifetimeLimitSeconds only (mongod's runtime
 * form of --setParameter); replies with the old value as `was`. */
md_status_t md_cmd_set_parameter(md_ctx_t *ctx, bson_t *reply)
{
    bson_iter_t it;
    int64_t n;

    if (!md_arg(ctx, "transactionLifetimeLimitSeconds", &it))
        return md_fail(ctx, MD_BAD_VALUE, "the test double's setParameter knows only "
                       "transactionLifetimeLimitSeconds");
    n = BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : 0;
    if (n < 1 || n > 86400)
        return md_fail(ctx, MD_BAD_VALUE, "transactionLifetimeLimitSeconds: a number of "
                       "seconds from 1 to 86400");
    bson_append_int32(reply, "was", 3, md_txn_lifetime_s);
    md_txn_lifetime_s = (int)n;
    md_log("transactionLifetimeLimitSeconds now %d", md_txn_lifetime_s);
    return MD_OK;
}

md_status_t md_cmd_server_status(md_ctx_t *ctx, bson_t *reply)
{
    (void)ctx;
    bson_append_utf8(reply, "host", 4, md_server.host, -1);
    bson_append_utf8(reply, "version", 7, SERVER_VERSION, -1);
    bson_append_utf8(reply, "process", 7, "mongo_double", -1);
    bson_append_int64(reply, "uptimeMillis", 12, md_now_ms() - md_server.started_ms);
    bson_append_date_time(reply, "localTime", 9, md_wall_ms());
    return MD_OK;
}

md_status_t md_cmd_repl_set_get_status(md_ctx_t *ctx, bson_t *reply)
{
    bson_t members, m;

    (void)ctx;
    bson_append_utf8(reply, "set", 3, md_server.set_name, -1);
    bson_append_date_time(reply, "date", 4, md_wall_ms());
    bson_append_int32(reply, "myState", 7, 1);
    bson_append_array_begin(reply, "members", 7, &members);
    bson_append_document_begin(&members, "0", 1, &m);
    bson_append_int32(&m, "_id", 3, 0);
    bson_append_utf8(&m, "name", 4, md_server.host, -1);
    bson_append_double(&m, "health", 6, 1.0);
    bson_append_int32(&m, "state", 5, 1);
    bson_append_utf8(&m, "stateStr", 8, "PRIMARY", -1);
    bson_append_bool(&m, "self", 4, true);
    bson_append_document_end(&members, &m);
    bson_append_array_end(reply, &members);
    return MD_OK;
}

/* The authInfo connectionStatus reports (doubleSetAuthInfo); NULL: no
 * authenticated user, as a server without access control answers. */
static bson_t *auth_info;

/* append_auth_array: authInfo's array `name`, from auth_info or empty. */
static void append_auth_array(bson_t *info, const char *name)
{
    bson_iter_t it;
    bson_t empty;

    if (auth_info && bson_iter_init_find(&it, auth_info, name) && BSON_ITER_HOLDS_ARRAY(&it)) {
        bson_append_value(info, name, -1, bson_iter_value(&it));
        return;
    }
    bson_append_array_begin(info, name, -1, &empty);
    bson_append_array_end(info, &empty);
}

md_status_t md_cmd_connection_status(md_ctx_t *ctx, bson_t *reply)
{
    bson_t info;

    bson_append_document_begin(reply, "authInfo", 8, &info);
    append_auth_array(&info, "authenticatedUsers");
    append_auth_array(&info, "authenticatedUserRoles");
    if (md_arg_bool(ctx, "showPrivileges", false))
        append_auth_array(&info, "authenticatedUserPrivileges");
    bson_append_document_end(reply, &info);
    return MD_OK;
}

/* doubleSetAuthInfo: {authenticatedUsers, authenticatedUserRoles,
 * authenticatedUserPrivileges} (arrays, each optional) that every later
 * connectionStatus reports, as for a user authenticated on a server with
 * access control; {} goes back to none.  Only the answer changes: the
 * double checks no credentials and grants every command. */
md_status_t md_cmd_set_auth_info(md_ctx_t *ctx, bson_t *reply)
{
    bson_t doc;

    if (!BSON_ITER_HOLDS_DOCUMENT(&ctx->arg) || !md_value_doc(bson_iter_value(&ctx->arg), &doc))
        return md_fail(ctx, MD_TYPE_MISMATCH, "doubleSetAuthInfo takes a document "
                       "{authenticatedUsers, authenticatedUserRoles, authenticatedUserPrivileges}");
    md_auth_info_free();
    if (!bson_empty(&doc))
        auth_info = bson_copy(&doc);
    md_log("connectionStatus now reports %s", auth_info ? "an authenticated user" : "no user");
    (void)reply;
    return MD_OK;
}

void md_auth_info_free(void)
{
    if (auth_info)
        bson_destroy(auth_info);
    auth_info = NULL;
}

md_status_t md_cmd_end_sessions(md_ctx_t *ctx, bson_t *reply)
{
    bson_iter_t it;

    (void)reply;
    if (!BSON_ITER_HOLDS_ARRAY(&ctx->arg))
        return md_fail(ctx, MD_TYPE_MISMATCH, "endSessions takes an array of lsids");
    bson_iter_recurse(&ctx->arg, &it);
    while (bson_iter_next(&it)) {
        bson_t lsid;

        if (BSON_ITER_HOLDS_DOCUMENT(&it) && md_value_doc(bson_iter_value(&it), &lsid))
            md_session_end(&lsid);
    }
    /* The command's own lsid (if any) was resolved before; it no longer exists. */
    ctx->session = NULL;
    return MD_OK;
}

md_status_t md_cmd_set_oplog_size(md_ctx_t *ctx, bson_t *reply)
{
    int64_t n = BSON_ITER_HOLDS_NUMBER(&ctx->arg) ? bson_iter_as_int64(&ctx->arg) : 0;

    if (n < 1)
        return md_fail(ctx, MD_BAD_VALUE, "doubleSetOplogSize takes a number of entries >= 1");
    md_oplog_set_capacity((size_t)n);
    md_log("oplog now keeps %lld entries", (long long)n);
    bson_append_int64(reply, "oplogSize", 9, n);
    return MD_OK;
}
