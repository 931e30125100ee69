/*
 * store.h: the in-memory databases of mongo_double (a TEST DOUBLE, see
 * ../README.md).
 *
 * A database exists while it has a collection, as in MongoDB.  A
 * collection keeps its documents in an array with an _id index (md_map of
 * values.h keys), its creation options, its UUID, its secondary index
 * specifications (recorded for listIndexes, never enforced, unique ones
 * included) and whether changeStreamPreAndPostImages is enabled.  Document
 * order without a sort is unspecified (removal swaps the last document in).
 *
 * Ownership: the store owns every collection and document; md_coll_put()
 * takes the document it is given.
 */
#ifndef MD_STORE_H
#define MD_STORE_H

#include <bson.h>

#include "util.h"

typedef struct md_coll {
    char *db;
    char *name;
    uint8_t uuid[16];
    bool pre_post_images;
    bson_t *options;    /* the create options, for listCollections; owned */
    bson_t **docs;
    size_t n, cap;
    md_map_t by_id;     /* _id key -> (index + 1) */
    bson_t **indexes;   /* index specifications besides _id_; owned */
    size_t nindexes;
} md_coll_t;

/* md_store_get: the collection db.name, or NULL. */
md_coll_t *md_store_get(const char *db, const char *name);

/* md_store_create: a new empty collection (must not exist); options may be NULL. */
md_coll_t *md_store_create(const char *db, const char *name, const bson_t *options);

/* md_store_drop: remove and free c. */
void md_store_drop(md_coll_t *c);

/* md_store_rename: move c to db.name (which must not exist). */
void md_store_rename(md_coll_t *c, const char *db, const char *name);

/* md_store_colls: the collections of db (NULL: all), in creation order;
 * *out is a malloc'd array the caller frees. */
size_t md_store_colls(const char *db, md_coll_t ***out);

/* md_store_dbs: the names of the databases that exist (malloc'd array of
 * pointers into the collections; valid until the next change). */
size_t md_store_dbs(const char ***out);

/* md_coll_get: the document with this _id, or NULL. */
const bson_t *md_coll_get(const md_coll_t *c, const bson_value_t *id);

/* md_coll_put: insert doc, or replace the document with its _id; takes doc. */
void md_coll_put(md_coll_t *c, bson_t *doc);

/* md_coll_remove: delete the document with this _id; false if none. */
bool md_coll_remove(md_coll_t *c, const bson_value_t *id);

/* md_doc_id: the _id of a stored document. */
const bson_value_t *md_doc_id(const bson_t *doc, bson_iter_t *scratch);

/* md_store_reset: drop everything (end of process). */
void md_store_reset(void);

#endif
