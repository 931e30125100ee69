/*
 * cmd_ddl.c: collections, databases and indexes in mongo_double (a TEST
 * DOUBLE, see ../README.md): create, drop, dropDatabase, renameCollection,
 * listCollections, listDatabases, createIndexes, listIndexes, dropIndexes
 * and collMod.
 *
 * Like MongoDB 6.0: drop of a missing collection is NamespaceNotFound
 * (26); create of an existing one NamespaceExists (48); renameCollection
 * runs on admin with full namespaces and dropTarget.  The only collection
 * option with an effect is changeStreamPreAndPostImages: {enabled}; others
 * are kept for listCollections.  Index specifications are recorded, never
 * enforced (unique indexes included).  admin, config and local appear in
 * listDatabases as MongoDB lists them, empty.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "cursors.h"
#include "match.h"
#include "values.h"
#include "writes.h"

/* images_option: changeStreamPreAndPostImages {enabled: bool} in the command. */
static bool images_option(md_ctx_t *ctx, bool *present, bool *enabled)
{
    bson_t spec;
    bool bad;
    bson_iter_t it;

    *present = md_arg_doc(ctx, "changeStreamPreAndPostImages", &spec, &bad);
    if (bad)
        return false;
    if (!*present)
        return true;
    if (!bson_iter_init_find(&it, &spec, "enabled") || !BSON_ITER_HOLDS_BOOL(&it)) {
        md_fail(ctx, MD_FAILED_TO_PARSE, "changeStreamPreAndPostImages needs {enabled: <bool>}");
        return false;
    }
    *enabled = bson_iter_bool(&it);
    return true;
}

/* no_ddl_in_txn: DDL is refused inside a transaction (a double's limit). */
static bool no_ddl_in_txn(md_ctx_t *ctx)
{
    if (!ctx->txn)
        return true;
    md_fail(ctx, MD_OPERATION_NOT_SUPPORTED_IN_TRANSACTION, "Cannot run '%s' in a multi-document "
            "transaction (the test double)", ctx->name);
    return false;
}

md_status_t md_cmd_create(md_ctx_t *ctx, bson_t *reply)
{
    const char *name = md_arg_coll(ctx);
    bool present, enabled = false;
    bson_t options = BSON_INITIALIZER;
    bson_iter_t it;
    md_coll_t *c;

    (void)reply;
    if (!name || !images_option(ctx, &present, &enabled))
        return MD_ERROR;
    if (md_store_get(ctx->db, name))
        return md_fail(ctx, MD_NAMESPACE_EXISTS, "Collection %s.%s already exists.", ctx->db, name);
    bson_iter_init(&it, ctx->cmd);
    bson_iter_next(&it);
    while (bson_iter_next(&it)) {
        const char *k = bson_iter_key(&it);

        if (k[0] != '$' && strcmp(k, "lsid") && strcmp(k, "txnNumber") &&
            strcmp(k, "writeConcern") && strcmp(k, "autocommit") && strcmp(k, "startTransaction"))
            bson_append_value(&options, k, -1, bson_iter_value(&it));
    }
    c = md_store_create(ctx->db, name, &options);
    c->pre_post_images = present && enabled;
    bson_destroy(&options);
    return MD_OK;
}

md_status_t md_cmd_drop(md_ctx_t *ctx, bson_t *reply)
{
    const char *name = md_arg_coll(ctx);
    md_coll_t *c;
    char ns[400];

    if (!name || !no_ddl_in_txn(ctx))
        return MD_ERROR;
    if (!(c = md_store_get(ctx->db, name)))
        return md_fail(ctx, MD_NAMESPACE_NOT_FOUND, "ns not found");
    snprintf(ns, sizeof ns, "%s.%s", ctx->db, name);
    bson_append_int32(reply, "nIndexesWas", 11, 1 + (int32_t)c->nindexes);
    bson_append_utf8(reply, "ns", 2, ns, -1);
    md_write_drop(c);
    return MD_OK;
}

md_status_t md_cmd_drop_database(md_ctx_t *ctx, bson_t *reply)
{
    if (!no_ddl_in_txn(ctx))
        return MD_ERROR;
    if (!strcmp(ctx->db, "admin") || !strcmp(ctx->db, "config") || !strcmp(ctx->db, "local"))
        return md_fail(ctx, MD_ILLEGAL_OPERATION, "Cannot drop '%s' database", ctx->db);
    md_write_drop_database(ctx->db);
    bson_append_utf8(reply, "dropped", 7, ctx->db, -1);
    return MD_OK;
}

/* split_ns: "db.coll" into its parts (in buf). */
static bool split_ns(const char *ns, char *buf, size_t len, const char **db, const char **coll)
{
    char *dot;

    if (strlen(ns) >= len || !(dot = strchr(strcpy(buf, ns), '.')) || dot == buf || !dot[1])
        return false;
    *dot = '\0';
    *db = buf;
    *coll = dot + 1;
    return true;
}

md_status_t md_cmd_rename_collection(md_ctx_t *ctx, bson_t *reply)
{
    char from_buf[400], to_buf[400];
    const char *from_db, *from_coll, *to_db, *to_coll;
    bson_iter_t it;
    md_coll_t *c;

    (void)reply;
    if (!no_ddl_in_txn(ctx))
        return MD_ERROR;
    if (!BSON_ITER_HOLDS_UTF8(&ctx->arg) ||
        !split_ns(bson_iter_utf8(&ctx->arg, NULL), from_buf, sizeof from_buf, &from_db, &from_coll) ||
        !md_arg(ctx, "to", &it) || !BSON_ITER_HOLDS_UTF8(&it) ||
        !split_ns(bson_iter_utf8(&it, NULL), to_buf, sizeof to_buf, &to_db, &to_coll))
        return md_fail(ctx, MD_INVALID_NAMESPACE, "renameCollection needs full namespaces: "
                       "{renameCollection: \"db.a\", to: \"db.b\"}");
    if (!(c = md_store_get(from_db, from_coll)))
        return md_fail(ctx, MD_NAMESPACE_NOT_FOUND, "Source collection %s.%s does not exist",
                       from_db, from_coll);
    if (md_store_get(to_db, to_coll) && !md_arg_bool(ctx, "dropTarget", false))
        return md_fail(ctx, MD_NAMESPACE_EXISTS, "target namespace exists");
    md_write_rename(c, to_db, to_coll);
    return MD_OK;
}

/* collection_info: one listCollections entry. */
static bson_t *collection_info(const md_coll_t *c, bool name_only)
{
    bson_t *d = bson_new(), sub, key;

    bson_append_utf8(d, "name", 4, c->name, -1);
    bson_append_utf8(d, "type", 4, "collection", -1);
    if (name_only)
        return d;
    bson_append_document_begin(d, "options", 7, &sub);
    bson_copy_to_excluding_noinit(c->options, &sub, "changeStreamPreAndPostImages", NULL);
    if (c->pre_post_images) {
        bson_t cs;

        bson_append_document_begin(&sub, "changeStreamPreAndPostImages", -1, &cs);
        bson_append_bool(&cs, "enabled", 7, true);
        bson_append_document_end(&sub, &cs);
    }
    bson_append_document_end(d, &sub);
    bson_append_document_begin(d, "info", 4, &sub);
    bson_append_bool(&sub, "readOnly", 8, false);
    bson_append_binary(&sub, "uuid", 4, BSON_SUBTYPE_UUID, c->uuid, 16);
    bson_append_document_end(d, &sub);
    bson_append_document_begin(d, "idIndex", 7, &sub);
    bson_append_int32(&sub, "v", 1, 2);
    bson_append_document_begin(&sub, "key", 3, &key);
    bson_append_int32(&key, "_id", 3, 1);
    bson_append_document_end(&sub, &key);
    bson_append_utf8(&sub, "name", 4, "_id_", 4);
    bson_append_document_end(d, &sub);
    return d;
}

md_status_t md_cmd_list_collections(md_ctx_t *ctx, bson_t *reply)
{
    md_coll_t **cs;
    size_t n = md_store_colls(ctx->db, &cs), k = 0;
    bson_t fs, cursor;
    bool bad, name_only = md_arg_bool(ctx, "nameOnly", false);
    bool has_filter = md_arg_doc(ctx, "filter", &fs, &bad);
    bson_t **docs = md_xcalloc(n + 1, sizeof *docs);
    char buf[512], ns[400];
    int64_t batch = -1;

    if (bad || (has_filter && !md_match_check(&fs, buf, sizeof buf))) {
        free(cs);
        free(docs);
        return bad ? MD_ERROR : md_fail(ctx, MD_BAD_VALUE, "%s", buf);
    }
    for (size_t i = 0; i < n; i++) {
        bson_t *d = collection_info(cs[i], false);

        if (has_filter && md_match(d, &fs, buf, sizeof buf) != 1) {
            bson_destroy(d);
            continue;
        }
        if (name_only) {
            bson_destroy(d);
            d = collection_info(cs[i], true);
        }
        docs[k++] = d;
    }
    free(cs);
    if (md_arg_doc(ctx, "cursor", &cursor, &bad)) {
        bson_iter_t it;

        if (bson_iter_init_find(&it, &cursor, "batchSize") && BSON_ITER_HOLDS_NUMBER(&it))
            batch = bson_iter_as_int64(&it);
    }
    snprintf(ns, sizeof ns, "%s.$cmd.listCollections", ctx->db);
    md_return_docs(reply, ns, docs, k, batch, NULL);
    return MD_OK;
}

/* db_entry: one listDatabases entry. */
static void db_entry(bson_t *arr, uint32_t i, const char *name, int64_t size, bool name_only)
{
    bson_t d;
    char key[16];

    snprintf(key, sizeof key, "%u", i);
    bson_append_document_begin(arr, key, -1, &d);
    bson_append_utf8(&d, "name", 4, name, -1);
    if (!name_only) {
        bson_append_int64(&d, "sizeOnDisk", 10, size);
        bson_append_bool(&d, "empty", 5, size == 0);
    }
    bson_append_document_end(arr, &d);
}

md_status_t md_cmd_list_databases(md_ctx_t *ctx, bson_t *reply)
{
    static const char *internal[] = {"admin", "config", "local"};
    const char **dbs;
    size_t n = md_store_dbs(&dbs);
    bool name_only = md_arg_bool(ctx, "nameOnly", false);
    bson_t arr = BSON_INITIALIZER;
    uint32_t k = 0;
    int64_t total = 0;

    for (size_t i = 0; i < 3; i++) {
        bool has = false;

        for (size_t j = 0; j < n; j++)
            has = has || !strcmp(dbs[j], internal[i]);
        if (!has)
            db_entry(&arr, k++, internal[i], 0, name_only);
    }
    for (size_t j = 0; j < n; j++) {
        md_coll_t **cs;
        size_t nc = md_store_colls(dbs[j], &cs);
        int64_t size = 0;

        for (size_t i = 0; i < nc; i++)
            for (size_t d = 0; d < cs[i]->n; d++)
                size += cs[i]->docs[d]->len;
        free(cs);
        total += size;
        db_entry(&arr, k++, dbs[j], size ? size : 4096, name_only);
    }
    free(dbs);
    bson_append_array(reply, "databases", 9, &arr);
    if (!name_only)
        bson_append_int64(reply, "totalSize", 9, total);
    bson_destroy(&arr);
    return MD_OK;
}

md_status_t md_cmd_create_indexes(md_ctx_t *ctx, bson_t *reply)
{
    const char *name = md_arg_coll(ctx);
    bson_iter_t it, e;
    md_coll_t *c;
    bool created = false;
    int32_t before;

    if (!name || !no_ddl_in_txn(ctx))
        return MD_ERROR;
    if (!md_arg(ctx, "indexes", &it) || !BSON_ITER_HOLDS_ARRAY(&it))
        return md_fail(ctx, MD_FAILED_TO_PARSE, "createIndexes needs an indexes array");
    if (!(c = md_store_get(ctx->db, name))) {
        c = md_store_create(ctx->db, name, NULL);
        created = true;
    }
    before = 1 + (int32_t)c->nindexes;
    bson_iter_recurse(&it, &e);
    while (bson_iter_next(&e)) {
        bson_t spec;

        if (!BSON_ITER_HOLDS_DOCUMENT(&e) || !md_value_doc(bson_iter_value(&e), &spec))
            continue;
        c->indexes = md_xrealloc(c->indexes, (c->nindexes + 1) * sizeof *c->indexes);
        c->indexes[c->nindexes++] = bson_copy(&spec);
    }
    bson_append_bool(reply, "createdCollectionAutomatically", -1, created);
    bson_append_int32(reply, "numIndexesBefore", -1, before);
    bson_append_int32(reply, "numIndexesAfter", -1, 1 + (int32_t)c->nindexes);
    return MD_OK;
}

md_status_t md_cmd_list_indexes(md_ctx_t *ctx, bson_t *reply)
{
    const char *name = md_arg_coll(ctx);
    md_coll_t *c;
    bson_t **docs, key;
    char ns[400];

    if (!name)
        return MD_ERROR;
    if (!(c = md_store_get(ctx->db, name)))
        return md_fail(ctx, MD_NAMESPACE_NOT_FOUND, "ns does not exist: %s.%s", ctx->db, name);
    docs = md_xcalloc(c->nindexes + 2, sizeof *docs);
    docs[0] = bson_new();
    bson_append_int32(docs[0], "v", 1, 2);
    bson_append_document_begin(docs[0], "key", 3, &key);
    bson_append_int32(&key, "_id", 3, 1);
    bson_append_document_end(docs[0], &key);
    bson_append_utf8(docs[0], "name", 4, "_id_", 4);
    for (size_t i = 0; i < c->nindexes; i++)
        docs[i + 1] = bson_copy(c->indexes[i]);
    snprintf(ns, sizeof ns, "%s.%s", ctx->db, name);
    md_return_docs(reply, ns, docs, c->nindexes + 1, -1, NULL);
    return MD_OK;
}

md_status_t md_cmd_drop_indexes(md_ctx_t *ctx, bson_t *reply)
{
    const char *name = md_arg_coll(ctx);
    md_coll_t *c;

    if (!name || !no_ddl_in_txn(ctx))
        return MD_ERROR;
    if (!(c = md_store_get(ctx->db, name)))
        return md_fail(ctx, MD_NAMESPACE_NOT_FOUND, "ns not found %s.%s", ctx->db, name);
    bson_append_int32(reply, "nIndexesWas", -1, 1 + (int32_t)c->nindexes);
    for (size_t i = 0; i < c->nindexes; i++)
        bson_destroy(c->indexes[i]);
    c->nindexes = 0;
    return MD_OK;
}

md_status_t md_cmd_coll_mod(md_ctx_t *ctx, bson_t *reply)
{
    const char *name = md_arg_coll(ctx);
    bool present, enabled = false;
    md_coll_t *c;

    (void)reply;
    if (!name || !no_ddl_in_txn(ctx) || !images_option(ctx, &present, &enabled))
        return MD_ERROR;
    if (!(c = md_store_get(ctx->db, name)))
        return md_fail(ctx, MD_NAMESPACE_NOT_FOUND, "ns does not exist");
    if (present)
        c->pre_post_images = enabled;
    return MD_OK;
}
