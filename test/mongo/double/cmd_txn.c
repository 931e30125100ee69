/*
 * cmd_txn.c: commitTransaction and abortTransaction of mongo_double (a
 * TEST DOUBLE, see ../README.md); see txn.h for what a transaction is here.
 * Both run on admin with the session's lsid, txnNumber and autocommit:
 * false, as the transactions specification has drivers send them; a
 * retried commit of a committed transaction succeeds again.
 */
#include "commands.h"

/* txn_session: the session and txnNumber the command names. */
static bool txn_session(md_ctx_t *ctx, int64_t *txn)
{
    *txn = md_arg_int(ctx, "txnNumber", -1);
    if (!ctx->session || *txn < 0) {
        md_fail(ctx, MD_BAD_VALUE, "%s needs lsid and txnNumber", ctx->name);
        return false;
    }
    return true;
}

md_status_t md_cmd_commit_transaction(md_ctx_t *ctx, bson_t *reply)
{
    int64_t txn;

    (void)reply;
    if (!txn_session(ctx, &txn))
        return MD_ERROR;
    return md_txn_commit(ctx->session, txn, &ctx->err) ? MD_OK : MD_ERROR;
}

md_status_t md_cmd_abort_transaction(md_ctx_t *ctx, bson_t *reply)
{
    int64_t txn;

    (void)reply;
    if (!txn_session(ctx, &txn))
        return MD_ERROR;
    return md_txn_abort(ctx->session, txn, &ctx->err) ? MD_OK : MD_ERROR;
}
