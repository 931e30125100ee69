/*
 * mongoc_smoke.c: libmongoc (the C driver tributary's MongoDB source and
 * sink will use) against a MongoDB server: mongo_double, the TEST DOUBLE
 * of ../README.md, or a real replica set (run-against-real-mongod.sh).
 *
 * It proves the calls the source depends on work end to end over the wire:
 * a change stream with mongoc_collection_watch, its resume token, an
 * automatic resume after failCommand closes the connection of a getMore and
 * after a resumable error the server labelled (failGetMoreAfterCursorCheckout),
 * resumeAfter with a stored token, no resume on an unlabelled error, and
 * ChangeStreamHistoryLost (286) reported through
 * mongoc_change_stream_error_document for a start point older than the
 * oplog.  The fail points need a server started with enableTestCommands
 * (the double always has them).
 *
 * Usage: mongoc_smoke URI    (e.g. mongodb://127.0.0.1:PORT/?replicaSet=rs0)
 * Output: TAP-like "ok N - name" / "not ok N - name" lines, then
 * "N passed, N failed"; exit status 0 when nothing failed.
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

/* check: report one assertion. */
static bool check(bool ok, const char *name, const char *detail)
{
    if (ok) {
        printf("ok %d - %s\n", passed + failed + 1, name);
        passed++;
    } else {
        printf("not ok %d - %s\n    %s\n", passed + failed + 1, name, detail ? detail : "");
        failed++;
    }
    fflush(stdout);
    return ok;
}

/* next_event: the next event within ~5 s; NULL (and *err filled) when none. */
static const bson_t *next_event(mongoc_change_stream_t *cs, char *err, size_t errlen)
{
    const bson_t *doc = NULL, *reply = NULL;
    bson_error_t error;
    int64_t deadline = bson_get_monotonic_time() + 5 * 1000 * 1000;

    err[0] = '\0';
    while (bson_get_monotonic_time() < deadline) {
        if (mongoc_change_stream_next(cs, &doc))
            return doc;
        if (mongoc_change_stream_error_document(cs, &error, &reply)) {
            snprintf(err, errlen, "error %u: %.400s", error.code, error.message);
            return NULL;
        }
    }
    snprintf(err, errlen, "no event within 5 s");
    return NULL;
}

/* event_id: the documentKey._id (an int32) of an event, or -1. */
static int event_id(const bson_t *ev)
{
    bson_iter_t it;

    if (ev && bson_iter_init(&it, ev) && bson_iter_find_descendant(&it, "documentKey._id", &it) &&
        BSON_ITER_HOLDS_INT32(&it))
        return bson_iter_int32(&it);
    return -1;
}

/* expect_ids: the stream yields inserts of exactly these _ids, in order. */
static bool expect_ids(mongoc_change_stream_t *cs, const int *ids, int n, const char *name)
{
    char err[600], detail[800];

    for (int i = 0; i < n; i++) {
        const bson_t *ev = next_event(cs, err, sizeof err);
        int got = event_id(ev);

        if (got != ids[i]) {
            snprintf(detail, sizeof detail, "event %d: expected _id %d, got %d %s", i, ids[i], got,
                     err);
            return check(false, name, detail);
        }
    }
    return check(true, name, NULL);
}

/* insert_id: insert {_id: id}. */
static bool insert_id(mongoc_collection_t *coll, int id)
{
    bson_t *doc = BCON_NEW("_id", BCON_INT32(id), "v", BCON_UTF8("smoke"));
    bson_error_t error;
    bool ok = mongoc_collection_insert_one(coll, doc, NULL, NULL, &error);

    if (!ok)
        fprintf(stderr, "insert %d: %s\n", id, error.message);
    bson_destroy(doc);
    return ok;
}

/* configure: configureFailPoint name, {times: 1}, with data. */
static bool configure(mongoc_client_t *client, const char *name, bson_t *data)
{
    bson_t *cmd = BCON_NEW("configureFailPoint", BCON_UTF8(name), "mode", "{", "times",
                           BCON_INT32(1), "}", "data", BCON_DOCUMENT(data));
    bson_error_t error;
    bool ok = mongoc_client_command_simple(client, "admin", cmd, NULL, NULL, &error);

    if (!ok)
        fprintf(stderr, "configureFailPoint %s: %s\n", name, error.message);
    bson_destroy(cmd);
    bson_destroy(data);
    return ok;
}

/* watch: a change stream on coll with options opts (may be NULL). */
static mongoc_change_stream_t *watch(mongoc_collection_t *coll, const bson_t *extra)
{
    bson_t pipeline = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    mongoc_change_stream_t *cs;

    BSON_APPEND_INT64(&opts, "maxAwaitTimeMS", 200);
    if (extra)
        bson_concat(&opts, extra);
    cs = mongoc_collection_watch(coll, &pipeline, &opts);
    bson_destroy(&pipeline);
    bson_destroy(&opts);
    return cs;
}

/* unlabelled_error: failCommand's error carries no ResumableChangeStreamError
 * label, so libmongoc must not resume on it, even for code 6. */
static void unlabelled_error(mongoc_client_t *client, mongoc_collection_t *coll)
{
    mongoc_change_stream_t *cs = watch(coll, NULL);
    const bson_t *doc;
    bson_error_t error;
    char err[600];

    mongoc_change_stream_next(cs, &doc); /* the aggregate */
    check(configure(client, "failCommand", BCON_NEW("failCommands", "[", "getMore", "]",
                                                    "errorCode", BCON_INT32(6))) &&
              insert_id(coll, 5),
          "failCommand set to fail the next getMore with HostUnreachable (6), no label", NULL);
    doc = next_event(cs, err, sizeof err);
    check(!doc && mongoc_change_stream_error_document(cs, &error, NULL) && error.code == 6,
          "an error without ResumableChangeStreamError reaches the application", err);
    mongoc_change_stream_destroy(cs);
}

/* history_lost: startAtOperationTime Timestamp(1, 0) is older than any oplog. */
static void history_lost(mongoc_collection_t *coll)
{
    bson_t *opts = BCON_NEW("startAtOperationTime", BCON_TIMESTAMP(1, 0));
    mongoc_change_stream_t *cs = watch(coll, opts);
    const bson_t *doc, *reply = NULL;
    bson_error_t error;
    char detail[600];
    bool got = mongoc_change_stream_next(cs, &doc);
    bool err = mongoc_change_stream_error_document(cs, &error, &reply);
    bson_iter_t it;
    const char *name = reply && bson_iter_init_find(&it, reply, "codeName") ? bson_iter_utf8(&it, NULL) : "";

    snprintf(detail, sizeof detail, "next=%d error=%d code=%u codeName=%s message=%s", got, err,
             error.code, name, err ? error.message : "");
    check(!got && err && error.code == 286 && !strcmp(name, "ChangeStreamHistoryLost"),
          "a start point older than the oplog fails with 286 ChangeStreamHistoryLost", detail);
    mongoc_change_stream_destroy(cs);
    bson_destroy(opts);
}

/* set_v: in session's transaction, $set v on document 1; false with
 * *error and the reply's labels in *transient. */
static bool set_v(mongoc_collection_t *coll, mongoc_client_session_t *session, int v,
                  bson_error_t *error, bool *transient)
{
    bson_t *sel = BCON_NEW("_id", BCON_INT32(1));
    bson_t *upd = BCON_NEW("$set", "{", "v", BCON_INT32(v), "}");
    bson_t opts = BSON_INITIALIZER, reply;
    bool ok = mongoc_client_session_append(session, &opts, error) &&
              mongoc_collection_update_one(coll, sel, upd, &opts, &reply, error);

    *transient = mongoc_error_has_label(&reply, "TransientTransactionError");
    bson_destroy(&reply);
    bson_destroy(&opts);
    bson_destroy(upd);
    bson_destroy(sel);
    return ok;
}

/* write_conflict: two transactions writing one document: the second gets
 * WriteConflict (112) labelled TransientTransactionError, as on MongoDB,
 * and the first commits its value. */
static void write_conflict(mongoc_client_t *client)
{
    mongoc_collection_t *coll = mongoc_client_get_collection(client, "mongoc_smoke", "conflicts");
    mongoc_client_session_t *a = mongoc_client_start_session(client, NULL, NULL);
    mongoc_client_session_t *b = mongoc_client_start_session(client, NULL, NULL);
    bson_t *doc = BCON_NEW("_id", BCON_INT32(1), "v", BCON_INT32(0));
    bson_t *q = BCON_NEW("_id", BCON_INT32(1));
    bson_error_t error = {0};
    bool transient = false;
    mongoc_cursor_t *cur;
    const bson_t *found;
    bson_iter_t it;

    mongoc_collection_drop(coll, NULL);
    check(mongoc_collection_insert_one(coll, doc, NULL, NULL, &error) &&
              mongoc_client_session_start_transaction(a, NULL, &error) &&
              set_v(coll, a, 1, &error, &transient),
          "a transaction writes document 1", error.message);
    check(mongoc_client_session_start_transaction(b, NULL, &error) &&
              !set_v(coll, b, 2, &error, &transient) && error.code == 112 && transient,
          "a second transaction writing document 1 gets WriteConflict (112) labelled "
          "TransientTransactionError", error.message);
    {
        /* a document the first transaction deleted is still there for the
         * second (its snapshot): deleting it conflicts too */
        bson_t *q2 = BCON_NEW("_id", BCON_INT32(2)), *d2 = BCON_NEW("_id", BCON_INT32(2));
        bson_t oa = BSON_INITIALIZER, ob = BSON_INITIALIZER, reply;
        mongoc_client_session_t *c2 = mongoc_client_start_session(client, NULL, NULL);

        check(mongoc_collection_insert_one(coll, d2, NULL, NULL, &error) &&
                  mongoc_client_session_append(a, &oa, &error) &&
                  mongoc_collection_delete_one(coll, q2, &oa, NULL, &error) &&
                  mongoc_client_session_start_transaction(c2, NULL, &error) &&
                  mongoc_client_session_append(c2, &ob, &error) &&
                  !mongoc_collection_delete_one(coll, q2, &ob, &reply, &error) &&
                  error.code == 112 && mongoc_error_has_label(&reply, "TransientTransactionError"),
              "deleting a document another open transaction deleted gets WriteConflict too",
              error.message);
        bson_destroy(&reply);
        mongoc_client_session_destroy(c2);
        bson_destroy(&ob);
        bson_destroy(&oa);
        bson_destroy(d2);
        bson_destroy(q2);
    }
    check(mongoc_client_session_commit_transaction(a, NULL, &error),
          "the first transaction commits", error.message);
    cur = mongoc_collection_find_with_opts(coll, q, NULL, NULL);
    check(mongoc_cursor_next(cur, &found) && bson_iter_init_find(&it, found, "v") &&
              bson_iter_int32(&it) == 1,
          "document 1 holds the first transaction's value", NULL);
    mongoc_cursor_destroy(cur);
    mongoc_client_session_destroy(b);
    mongoc_client_session_destroy(a);
    bson_destroy(q);
    bson_destroy(doc);
    mongoc_collection_destroy(coll);
}

/* run: every case against one client. */
static void run(mongoc_client_t *client)
{
    mongoc_collection_t *coll = mongoc_client_get_collection(client, "mongoc_smoke", "events");
    bson_t *ping = BCON_NEW("ping", BCON_INT32(1)), *opts;
    bson_error_t error;
    mongoc_change_stream_t *cs;
    bson_t token;
    const bson_t *ev;
    char err[512];
    static const int first[] = {1, 2}, third[] = {3}, fourth[] = {4}, after1[] = {2, 3, 4};

    check(mongoc_client_command_simple(client, "admin", ping, NULL, NULL, &error),
          "ping answers", error.message);
    bson_destroy(ping);
    mongoc_collection_drop(coll, NULL);
    cs = watch(coll, NULL);
    check(insert_id(coll, 1) && insert_id(coll, 2), "inserts succeed", NULL);
    ev = next_event(cs, err, sizeof err);
    if (!check(event_id(ev) == 1 && mongoc_change_stream_get_resume_token(cs),
               "the change stream yields the first insert, and a resume token", err)) {
        mongoc_change_stream_destroy(cs);
        mongoc_collection_destroy(coll);
        return;
    }
    bson_copy_to(mongoc_change_stream_get_resume_token(cs), &token);
    expect_ids(cs, first + 1, 1, "then the second");
    check(configure(client, "failCommand", BCON_NEW("failCommands", "[", "getMore", "]",
                                                    "closeConnection", BCON_BOOL(true))) &&
              insert_id(coll, 3),
          "failCommand set to close the connection of the next getMore", NULL);
    expect_ids(cs, third, 1, "after the connection is closed on getMore, libmongoc resumes "
               "and the next event arrives once");
    check(configure(client, "failGetMoreAfterCursorCheckout",
                    BCON_NEW("errorCode", BCON_INT32(10107))) &&
              insert_id(coll, 4),
          "failGetMoreAfterCursorCheckout set to fail the next getMore with NotWritablePrimary "
          "(10107), which the server labels ResumableChangeStreamError", NULL);
    expect_ids(cs, fourth, 1, "after a labelled resumable error, libmongoc resumes without loss");
    mongoc_change_stream_destroy(cs);
    opts = BCON_NEW("resumeAfter", BCON_DOCUMENT(&token));
    cs = watch(coll, opts);
    expect_ids(cs, after1, 3, "resumeAfter the stored token of the first event yields "
               "exactly the later events");
    mongoc_change_stream_destroy(cs);
    bson_destroy(opts);
    bson_destroy(&token);
    unlabelled_error(client, coll);
    history_lost(coll);
    write_conflict(client);
    mongoc_collection_destroy(coll);
}

int main(int argc, char **argv)
{
    mongoc_client_t *client;
    mongoc_uri_t *uri;
    bson_error_t error;

    if (argc != 2) {
        fprintf(stderr, "usage: mongoc_smoke URI\n");
        return 2;
    }
    mongoc_init();
    uri = mongoc_uri_new_with_error(argv[1], &error);
    if (!uri) {
        fprintf(stderr, "mongoc_smoke: %s: %s\n", argv[1], error.message);
        return 2;
    }
    mongoc_uri_set_appname(uri, "mongoc_smoke");
    printf("# libmongoc %s against %s\n", mongoc_get_version(), argv[1]);
    client = mongoc_client_new_from_uri(uri);
    run(client);
    mongoc_client_destroy(client);
    mongoc_uri_destroy(uri);
    mongoc_cleanup();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
