/*
 * query.c: selection and sorting (query.h).
 */
#include "query.h"

#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "util.h"
#include "values.h"

/* push_id: append a copy of id. */
static void push_id(bson_value_t **ids, size_t *n, size_t *cap, const bson_value_t *id)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *ids = md_xrealloc(*ids, *cap * sizeof **ids);
    }
    bson_value_copy(id, &(*ids)[(*n)++]);
}

bool md_query(const md_coll_t *c, const bson_t *filter, bson_value_t **ids, size_t *n,
              md_err_t *err)
{
    char buf[512];
    bson_value_t pinned;
    size_t cap = 0;

    *ids = NULL;
    *n = 0;
    if (filter && !md_match_check(filter, buf, sizeof buf))
        return md_seterr(err, MD_BAD_VALUE, "%s", buf);
    if (!c)
        return true;
    if (filter && md_filter_id(filter, &pinned)) {
        const bson_t *doc = md_coll_get(c, &pinned);
        bson_iter_t it;

        if (doc && md_match(doc, filter, buf, sizeof buf) == 1)
            push_id(ids, n, &cap, md_doc_id(doc, &it));
        return true;
    }
    for (size_t i = 0; i < c->n; i++) {
        bson_iter_t it;

        if (md_match(c->docs[i], filter, buf, sizeof buf) == 1)
            push_id(ids, n, &cap, md_doc_id(c->docs[i], &it));
    }
    return true;
}

bool md_read(const md_view_t *v, const bson_t *filter, bson_t ***docs, size_t *n, md_err_t *err)
{
    char buf[512];
    bson_value_t pinned;
    size_t k = 0;

    *docs = NULL;
    *n = 0;
    if (filter && !md_match_check(filter, buf, sizeof buf))
        return md_seterr(err, MD_BAD_VALUE, "%s", buf);
    if (filter && md_filter_id(filter, &pinned)) {
        const bson_t *doc = md_view_get(v, &pinned);

        *docs = md_xcalloc(2, sizeof **docs);
        if (doc && md_match(doc, filter, buf, sizeof buf) == 1)
            (*docs)[(*n)++] = bson_copy(doc);
        return true;
    }
    *n = md_view_docs(v, docs);
    for (size_t i = 0; i < *n; i++) {
        if (md_match((*docs)[i], filter, buf, sizeof buf) == 1)
            (*docs)[k++] = (*docs)[i];
        else
            bson_destroy((*docs)[i]);
    }
    *n = k;
    return true;
}

void md_ids_free(bson_value_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bson_value_destroy(&ids[i]);
    free(ids);
}

bool md_sort_check(const bson_t *sort, md_err_t *err)
{
    bson_iter_t it;

    bson_iter_init(&it, sort);
    while (bson_iter_next(&it)) {
        int64_t d = BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : 0;

        if (d != 1 && d != -1)
            return md_seterr(err, MD_BAD_VALUE, "sort field '%s': the test double accepts 1 or "
                             "-1 only", bson_iter_key(&it));
    }
    return true;
}

/* cmp_docs: order two documents by the sort spec (qsort_r comparator). */
static int cmp_docs(const void *pa, const void *pb, void *arg)
{
    const bson_t *a = *(bson_t *const *)pa, *b = *(bson_t *const *)pb, *sort = arg;
    bson_iter_t it;
    bson_value_t null = {.value_type = BSON_TYPE_NULL};

    bson_iter_init(&it, sort);
    while (bson_iter_next(&it)) {
        bson_iter_t fa, fb;
        const bson_value_t *va = md_path_find(a, bson_iter_key(&it), &fa) ? bson_iter_value(&fa) : &null;
        const bson_value_t *vb = md_path_find(b, bson_iter_key(&it), &fb) ? bson_iter_value(&fb) : &null;
        int r = md_value_cmp(va, vb);

        if (r)
            return bson_iter_as_int64(&it) < 0 ? -r : r;
    }
    return 0;
}

void md_sort(bson_t **docs, size_t n, const bson_t *sort)
{
    if (sort && !bson_empty(sort) && n > 1)
        qsort_r(docs, n, sizeof *docs, cmp_docs, (void *)sort);
}

/* cmp_ids_ctx: sort ids through the documents they name. */
typedef struct {
    const md_coll_t *c;
    const bson_t *sort;
} ids_ctx_t;

static int cmp_ids(const void *pa, const void *pb, void *arg)
{
    const ids_ctx_t *x = arg;
    const bson_t *a = md_coll_get(x->c, pa), *b = md_coll_get(x->c, pb);

    return cmp_docs(&a, &b, (void *)x->sort);
}

void md_sort_ids(const md_coll_t *c, bson_value_t *ids, size_t n, const bson_t *sort)
{
    ids_ctx_t x = {c, sort};

    if (sort && !bson_empty(sort) && n > 1)
        qsort_r(ids, n, sizeof *ids, cmp_ids, &x);
}
