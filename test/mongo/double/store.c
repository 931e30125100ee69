/*
 * store.c: collections and documents (store.h).
 *
 * Collections live in one array searched linearly (a test has a handful);
 * documents are found by _id through the collection's map, whose values
 * are indexes into the document array plus one (so that NULL means absent).
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "values.h"

static md_coll_t **colls;
static size_t ncolls, capcolls;

md_coll_t *md_store_get(const char *db, const char *name)
{
    for (size_t i = 0; i < ncolls; i++)
        if (!strcmp(colls[i]->db, db) && !strcmp(colls[i]->name, name))
            return colls[i];
    return NULL;
}

/* new_uuid: 16 random bytes marked as a version 4 UUID. */
static void new_uuid(uint8_t uuid[16])
{
    bson_oid_t a, b;

    bson_oid_init(&a, NULL);
    bson_oid_init(&b, NULL);
    memcpy(uuid, a.bytes, 12);
    memcpy(uuid + 12, b.bytes + 8, 4);
    for (int i = 0; i < 16; i++)
        uuid[i] ^= (uint8_t)rand();
    uuid[6] = (uuid[6] & 0x0f) | 0x40;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;
}

md_coll_t *md_store_create(const char *db, const char *name, const bson_t *options)
{
    md_coll_t *c = md_xcalloc(1, sizeof *c);

    c->db = md_xstrdup(db);
    c->name = md_xstrdup(name);
    new_uuid(c->uuid);
    c->options = options ? bson_copy(options) : bson_new();
    if (ncolls == capcolls) {
        capcolls = capcolls ? capcolls * 2 : 16;
        colls = md_xrealloc(colls, capcolls * sizeof *colls);
    }
    colls[ncolls++] = c;
    return c;
}

/* free_coll: release c and everything it holds. */
static void free_coll(md_coll_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        bson_destroy(c->docs[i]);
    for (size_t i = 0; i < c->nindexes; i++)
        bson_destroy(c->indexes[i]);
    free(c->indexes);
    free(c->docs);
    md_map_free(&c->by_id);
    bson_destroy(c->options);
    free(c->db);
    free(c->name);
    free(c);
}

void md_store_drop(md_coll_t *c)
{
    for (size_t i = 0; i < ncolls; i++) {
        if (colls[i] == c) {
            memmove(colls + i, colls + i + 1, (ncolls - i - 1) * sizeof *colls);
            ncolls--;
            break;
        }
    }
    free_coll(c);
}

void md_store_rename(md_coll_t *c, const char *db, const char *name)
{
    free(c->db);
    free(c->name);
    c->db = md_xstrdup(db);
    c->name = md_xstrdup(name);
}

size_t md_store_colls(const char *db, md_coll_t ***out)
{
    size_t n = 0;

    *out = md_xcalloc(ncolls + 1, sizeof **out);
    for (size_t i = 0; i < ncolls; i++)
        if (!db || !strcmp(colls[i]->db, db))
            (*out)[n++] = colls[i];
    return n;
}

size_t md_store_dbs(const char ***out)
{
    size_t n = 0;

    *out = md_xcalloc(ncolls + 1, sizeof **out);
    for (size_t i = 0; i < ncolls; i++) {
        bool seen = false;

        for (size_t j = 0; j < n && !seen; j++)
            seen = !strcmp((*out)[j], colls[i]->db);
        if (!seen)
            (*out)[n++] = colls[i]->db;
    }
    return n;
}

const bson_value_t *md_doc_id(const bson_t *doc, bson_iter_t *scratch)
{
    return bson_iter_init_find(scratch, doc, "_id") ? bson_iter_value(scratch) : NULL;
}

/* id_key: the map key of an _id value (in buf, which the caller frees). */
static void id_key(const bson_value_t *id, md_buf_t *buf)
{
    memset(buf, 0, sizeof *buf);
    md_value_key(id, buf);
}

const bson_t *md_coll_get(const md_coll_t *c, const bson_value_t *id)
{
    md_buf_t key;
    size_t slot;

    id_key(id, &key);
    slot = (size_t)md_map_get(&c->by_id, (const char *)key.data, key.len);
    md_buf_free(&key);
    return slot ? c->docs[slot - 1] : NULL;
}

void md_coll_put(md_coll_t *c, bson_t *doc)
{
    bson_iter_t it;
    md_buf_t key;
    size_t slot;

    id_key(md_doc_id(doc, &it), &key);
    slot = (size_t)md_map_get(&c->by_id, (const char *)key.data, key.len);
    if (slot) {
        bson_destroy(c->docs[slot - 1]);
        c->docs[slot - 1] = doc;
    } else {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 64;
            c->docs = md_xrealloc(c->docs, c->cap * sizeof *c->docs);
        }
        c->docs[c->n++] = doc;
        md_map_put(&c->by_id, (const char *)key.data, key.len, (void *)c->n);
    }
    md_buf_free(&key);
}

bool md_coll_remove(md_coll_t *c, const bson_value_t *id)
{
    md_buf_t key, lastkey;
    size_t slot;
    bson_iter_t it;

    id_key(id, &key);
    slot = (size_t)md_map_del(&c->by_id, (const char *)key.data, key.len);
    md_buf_free(&key);
    if (!slot)
        return false;
    bson_destroy(c->docs[slot - 1]);
    if (slot != c->n) {
        c->docs[slot - 1] = c->docs[c->n - 1];
        id_key(md_doc_id(c->docs[slot - 1], &it), &lastkey);
        md_map_put(&c->by_id, (const char *)lastkey.data, lastkey.len, (void *)slot);
        md_buf_free(&lastkey);
    }
    c->n--;
    return true;
}

void md_store_reset(void)
{
    for (size_t i = 0; i < ncolls; i++)
        free_coll(colls[i]);
    free(colls);
    colls = NULL;
    ncolls = capcolls = 0;
}
