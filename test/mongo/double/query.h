/*
 * query.h: selecting and sorting a collection's documents for mongo_double
 * (a TEST DOUBLE, see ../README.md).
 *
 * A filter that pins _id by equality is answered from the _id index; any
 * other filter scans the collection.  Sorts take any number of (dotted)
 * fields with 1 or -1; a missing field sorts as null; an array sorts by
 * its BSON value as a whole (not by its smallest or largest element, as
 * MongoDB does: a documented limit).
 */
#ifndef MD_QUERY_H
#define MD_QUERY_H

#include <bson.h>

#include "errors.h"
#include "store.h"
#include "view.h"

/* md_query: for a write: the ids of the stored documents of c (NULL: none)
 * matching filter (NULL: all), copied into a malloc'd array (*ids, *n;
 * free with md_ids_free). */
bool md_query(const md_coll_t *c, const bson_t *filter, bson_value_t **ids, size_t *n,
              md_err_t *err);
void md_ids_free(bson_value_t *ids, size_t n);

/* md_read: for a read: copies of the documents visible in v matching
 * filter (NULL: all), in a malloc'd array (*docs, *n). */
bool md_read(const md_view_t *v, const bson_t *filter, bson_t ***docs, size_t *n, md_err_t *err);

/* md_sort_check: sort is {path: 1|-1, ...}. */
bool md_sort_check(const bson_t *sort, md_err_t *err);

/* md_sort: sort docs in place by sort (checked). */
void md_sort(bson_t **docs, size_t n, const bson_t *sort);

/* md_sort_ids: order the ids of c's documents by sort (NULL: leave). */
void md_sort_ids(const md_coll_t *c, bson_value_t *ids, size_t n, const bson_t *sort);

#endif
