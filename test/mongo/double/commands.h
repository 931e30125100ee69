/*
 * commands.h: the command layer of mongo_double (a TEST DOUBLE, see
 * ../README.md): the context every command handler gets, the handlers of
 * the cmd_*.c files, and helpers they share.
 *
 * A handler appends its reply's own fields to `reply` and returns MD_OK;
 * or fails with md_fail() (MD_ERROR), or parks with md_park() (MD_PARKED).
 * commands.c adds ok, errmsg/code/codeName/errorLabels, $clusterTime and
 * operationTime, applies failCommand, resolves sessions and transactions,
 * and answers retried writes from the session.
 */
#ifndef MD_COMMANDS_H
#define MD_COMMANDS_H

#include <bson.h>

#include "errors.h"
#include "net.h"
#include "oplog.h"
#include "txn.h"

typedef enum { MD_OK, MD_ERROR, MD_PARKED } md_status_t;

typedef struct md_ctx {
    md_conn_t *conn;
    md_request_t *req;
    const bson_t *cmd;
    const char *name;          /* the command name (first key) */
    const char *db;
    bson_iter_t arg;           /* the first element (the command's argument) */
    bool resumed;              /* dispatched again after md_park() */
    int64_t parked_deadline_ms;/* when resumed: the deadline it was parked with */
    md_session_t *session;     /* from lsid; NULL without one */
    md_session_t *txn;         /* the session, when inside a transaction */
    md_err_t err;
    const char *labels[4];     /* error labels the handler adds */
    int nlabels;
    bool exhaust_more;         /* hello: reply with moreToCome, then again */
    int64_t park_deadline_ms;  /* set by md_park() */
    bool park_on_oplog;
} md_ctx_t;

typedef md_status_t (*md_handler_t)(md_ctx_t *ctx, bson_t *reply);

/* md_fail: set the command's error; returns MD_ERROR. */
md_status_t md_fail(md_ctx_t *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* md_park: wait until deadline (or, with on_oplog, until the oplog grows). */
md_status_t md_park(md_ctx_t *ctx, int64_t deadline_ms, bool on_oplog);

/* Argument helpers: an optional field of the command. */
bool md_arg(const md_ctx_t *ctx, const char *name, bson_iter_t *it);
/* md_arg_doc: a document field; false when absent; wrong type is an error. */
bool md_arg_doc(md_ctx_t *ctx, const char *name, bson_t *out, bool *bad);
int64_t md_arg_int(const md_ctx_t *ctx, const char *name, int64_t dflt);
bool md_arg_bool(const md_ctx_t *ctx, const char *name, bool dflt);
/* md_arg_coll: the command's argument as a collection name; NULL (failed) if not. */
const char *md_arg_coll(md_ctx_t *ctx);

/* md_append_cursor: cursor {firstBatch|nextBatch, id, ns[, postBatchResumeToken]
 * [, atClusterTime]}. */
void md_append_cursor(bson_t *reply, bool first, const bson_t *batch, int64_t id, const char *ns,
                      const md_pos_t *pbrt, const md_ts_t *at);

/* md_return_docs: reply with a cursor over docs (taken), a first batch of
 * batch_size documents (-1: all that fit in a reply); at: a snapshot read's
 * atClusterTime, or NULL. */
void md_return_docs(bson_t *reply, const char *ns, bson_t **docs, size_t n, int64_t batch_size,
                    const md_ts_t *at);

/* md_open_view: the read view of db.coll for this command (view.h), with
 * its readConcern: a snapshot read's cluster time in *at and *snapshot. */
struct md_view *md_open_view(md_ctx_t *ctx, const char *coll, md_ts_t *at, bool *snapshot);

/* Handlers. */
/* cmd_admin.c */
md_status_t md_cmd_hello(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_ping(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_build_info(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_get_parameter(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_server_status(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_repl_set_get_status(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_connection_status(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_end_sessions(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_set_oplog_size(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_set_auth_info(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_set_parameter(md_ctx_t *ctx, bson_t *reply);
void md_auth_info_free(void); /* at exit: what doubleSetAuthInfo kept */
/* cmd_crud.c */
md_status_t md_cmd_find(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_count(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_insert(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_update(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_delete(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_find_and_modify(md_ctx_t *ctx, bson_t *reply);
/* cmd_cursor.c */
md_status_t md_cmd_get_more(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_kill_cursors(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_aggregate(md_ctx_t *ctx, bson_t *reply);
/* cmd_ddl.c */
md_status_t md_cmd_create(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_drop(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_drop_database(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_rename_collection(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_list_collections(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_list_databases(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_create_indexes(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_list_indexes(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_drop_indexes(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_coll_mod(md_ctx_t *ctx, bson_t *reply);
/* cmd_txn.c */
md_status_t md_cmd_commit_transaction(md_ctx_t *ctx, bson_t *reply);
md_status_t md_cmd_abort_transaction(md_ctx_t *ctx, bson_t *reply);
/* failpoint.c */
md_status_t md_cmd_configure_fail_point(md_ctx_t *ctx, bson_t *reply);

/* Server identity, set by main.c. */
typedef struct md_server_info {
    char host[300];            /* "127.0.0.1:PORT" as advertised in hello */
    char set_name[128];
    bson_oid_t process_id;     /* topologyVersion.processId */
    int64_t started_ms;
    bool standalone;           /* --standalone: hello without the replica set */
} md_server_info_t;

extern md_server_info_t md_server;

#endif
