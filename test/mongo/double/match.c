/*
 * match.c: the filter matcher of match.h.
 *
 * A path is resolved into the list of values it reaches, the way MongoDB
 * does: through documents by name, through arrays by index or, for a name,
 * into every element that is a document; a leaf array contributes itself
 * and each of its elements.  Operators then test that list: equality holds
 * when any value is equal, comparisons when any value of the same type
 * rank compares as asked, $exists when the list is not empty.
 */
#include "match.h"

#include <stdlib.h>
#include <string.h>

#include "values.h"

#define MAX_VALS 256

typedef struct vals {
    bson_value_t v[MAX_VALS];
    size_t n;
} vals_t;

/* add: append a value (silently capped at MAX_VALS). */
static void add(vals_t *vals, const bson_value_t *v)
{
    if (vals->n < MAX_VALS)
        vals->v[vals->n++] = *v;
}

/* is_index: a path component made of digits. */
static bool is_index(const char *s, size_t n)
{
    if (n == 0 || n > 9)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static void collect(const bson_t *container, bool is_array, const char *path, vals_t *vals);

/* collect_leaf_or_descend: the element found for the head of the path. */
static void descend(const bson_iter_t *it, const char *rest, vals_t *vals)
{
    const bson_value_t *v = bson_iter_value((bson_iter_t *)it);
    bson_t sub;

    if (!rest) {
        add(vals, v);
        if (v->value_type == BSON_TYPE_ARRAY && md_value_doc(v, &sub)) {
            bson_iter_t e;

            bson_iter_init(&e, &sub);
            while (bson_iter_next(&e))
                add(vals, bson_iter_value(&e));
        }
        return;
    }
    if (md_value_doc(v, &sub))
        collect(&sub, v->value_type == BSON_TYPE_ARRAY, rest, vals);
}

/* collect: the values path reaches inside container. */
static void collect(const bson_t *container, bool is_array, const char *path, vals_t *vals)
{
    const char *dot = strchr(path, '.');
    size_t hlen = dot ? (size_t)(dot - path) : strlen(path);
    const char *rest = dot ? dot + 1 : NULL;
    bson_iter_t it;

    if (!bson_iter_init(&it, container))
        return;
    if (is_array && !is_index(path, hlen)) {
        while (bson_iter_next(&it)) {
            bson_t sub;

            if (BSON_ITER_HOLDS_DOCUMENT(&it) && md_value_doc(bson_iter_value(&it), &sub))
                collect(&sub, false, path, vals);
        }
        return;
    }
    while (bson_iter_next(&it)) {
        if (strlen(bson_iter_key(&it)) == hlen && memcmp(bson_iter_key(&it), path, hlen) == 0) {
            descend(&it, rest, vals);
            return;
        }
    }
}

bool md_path_find(const bson_t *doc, const char *path, bson_iter_t *out)
{
    bson_iter_t it;

    if (!bson_iter_init(&it, doc))
        return false;
    if (strchr(path, '.'))
        return bson_iter_find_descendant(&it, path, out);
    if (!bson_iter_find(&it, path))
        return false;
    *out = it;
    return true;
}

/* val_eq: a reached value equals the operand. */
static bool val_eq(const bson_value_t *a, const bson_value_t *b)
{
    return md_type_rank(a->value_type) == md_type_rank(b->value_type) && md_value_cmp(a, b) == 0;
}

/* any_eq: equality semantics, null matching missing. */
static bool any_eq(const vals_t *vals, const bson_value_t *operand)
{
    if (operand->value_type == BSON_TYPE_NULL && vals->n == 0)
        return true;
    for (size_t i = 0; i < vals->n; i++)
        if (val_eq(&vals->v[i], operand))
            return true;
    return false;
}

/* any_cmp: some value of the operand's type rank compares as op asks. */
static bool any_cmp(const vals_t *vals, const bson_value_t *operand, const char *op)
{
    for (size_t i = 0; i < vals->n; i++) {
        int r;

        if (md_type_rank(vals->v[i].value_type) != md_type_rank(operand->value_type))
            continue;
        r = md_value_cmp(&vals->v[i], operand);
        if ((!strcmp(op, "$gt") && r > 0) || (!strcmp(op, "$gte") && r >= 0) ||
            (!strcmp(op, "$lt") && r < 0) || (!strcmp(op, "$lte") && r <= 0))
            return true;
    }
    /* {$gte: null} and {$lte: null} also match a missing field. */
    return operand->value_type == BSON_TYPE_NULL && vals->n == 0 &&
           (!strcmp(op, "$gte") || !strcmp(op, "$lte"));
}

/* any_in: $in over an array operand. */
static int any_in(const vals_t *vals, const bson_value_t *operand, char *errbuf, size_t errlen)
{
    bson_t arr;
    bson_iter_t it;

    if (operand->value_type != BSON_TYPE_ARRAY || !md_value_doc(operand, &arr)) {
        snprintf(errbuf, errlen, "$in/$nin needs an array");
        return -1;
    }
    bson_iter_init(&it, &arr);
    while (bson_iter_next(&it))
        if (any_eq(vals, bson_iter_value(&it)))
            return 1;
    return 0;
}

static int match_ops(const vals_t *vals, const bson_t *ops, char *errbuf, size_t errlen);

/* match_op: one operator against the reached values. */
static int match_op(const vals_t *vals, const char *op, const bson_value_t *operand,
                    char *errbuf, size_t errlen)
{
    bson_t sub;
    int r;

    if (!strcmp(op, "$eq"))
        return any_eq(vals, operand);
    if (!strcmp(op, "$ne"))
        return !any_eq(vals, operand);
    if (!strcmp(op, "$gt") || !strcmp(op, "$gte") || !strcmp(op, "$lt") || !strcmp(op, "$lte"))
        return any_cmp(vals, operand, op);
    if (!strcmp(op, "$in"))
        return any_in(vals, operand, errbuf, errlen);
    if (!strcmp(op, "$nin"))
        return (r = any_in(vals, operand, errbuf, errlen)) < 0 ? -1 : !r;
    if (!strcmp(op, "$exists")) {
        bool want = operand->value_type == BSON_TYPE_BOOL ? operand->value.v_bool
                    : md_value_is_number(operand) ? md_value_to_double(operand) != 0
                                                  : true;
        return (vals->n > 0) == want;
    }
    if (!strcmp(op, "$not")) {
        if (operand->value_type != BSON_TYPE_DOCUMENT || !md_value_doc(operand, &sub)) {
            snprintf(errbuf, errlen, "$not needs a document of operators");
            return -1;
        }
        return (r = match_ops(vals, &sub, errbuf, errlen)) < 0 ? -1 : !r;
    }
    snprintf(errbuf, errlen, "unknown or unsupported operator: %s (the test double supports "
             "$eq $ne $gt $gte $lt $lte $in $nin $exists $not $and $or $nor)", op);
    return -1;
}

/* match_ops: every operator of {$op: v, ...} holds. */
static int match_ops(const vals_t *vals, const bson_t *ops, char *errbuf, size_t errlen)
{
    bson_iter_t it;

    bson_iter_init(&it, ops);
    while (bson_iter_next(&it)) {
        int r = match_op(vals, bson_iter_key(&it), bson_iter_value(&it), errbuf, errlen);

        if (r <= 0)
            return r;
    }
    return 1;
}

/* is_operator_doc: a value like {$gt: 1}: a document whose first key starts with $. */
static bool is_operator_doc(const bson_value_t *v, bson_t *sub)
{
    bson_iter_t it;

    return v->value_type == BSON_TYPE_DOCUMENT && md_value_doc(v, sub) &&
           bson_iter_init(&it, sub) && bson_iter_next(&it) && bson_iter_key(&it)[0] == '$';
}

/* match_logical: $and, $or, $nor over an array of filters. */
static int match_logical(const bson_t *doc, const char *op, const bson_value_t *v, char *errbuf,
                         size_t errlen)
{
    bson_t arr, sub;
    bson_iter_t it;
    bool and = !strcmp(op, "$and"), or = !strcmp(op, "$or"), seen = false;

    if (!and && !or && strcmp(op, "$nor")) {
        snprintf(errbuf, errlen, "unknown or unsupported top level operator: %s (the test double "
                 "supports $and $or $nor)", op);
        return -1;
    }
    if (v->value_type != BSON_TYPE_ARRAY || !md_value_doc(v, &arr)) {
        snprintf(errbuf, errlen, "%s must be an array", op);
        return -1;
    }
    bson_iter_init(&it, &arr);
    while (bson_iter_next(&it)) {
        int r;

        if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !md_value_doc(bson_iter_value(&it), &sub)) {
            snprintf(errbuf, errlen, "%s entries must be documents", op);
            return -1;
        }
        seen = true;
        r = md_match(doc, &sub, errbuf, errlen);
        if (r < 0)
            return -1;
        if (and && !r)
            return 0;
        if (or && r)
            return 1;
        if (!and && !or && r)
            return 0;
    }
    if (!seen) {
        snprintf(errbuf, errlen, "%s must be a nonempty array", op);
        return -1;
    }
    return and || !or;
}

int md_match(const bson_t *doc, const bson_t *filter, char *errbuf, size_t errlen)
{
    bson_iter_t it;

    if (!filter)
        return 1;
    bson_iter_init(&it, filter);
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        const bson_value_t *v = bson_iter_value(&it);
        vals_t *vals;
        bson_t ops;
        int r;

        if (key[0] == '$') {
            r = match_logical(doc, key, v, errbuf, errlen);
        } else {
            vals = md_xmalloc(sizeof *vals);
            vals->n = 0;
            collect(doc, false, key, vals);
            r = is_operator_doc(v, &ops) ? match_ops(vals, &ops, errbuf, errlen)
                                         : any_eq(vals, v);
            free(vals);
        }
        if (r <= 0)
            return r;
    }
    return 1;
}

/* check_ops: every operator of an operator document is supported. */
static bool check_ops(const bson_t *ops, char *errbuf, size_t errlen)
{
    static const char *known[] = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte",
                                  "$in", "$nin", "$exists", "$not"};
    bson_iter_t it;

    bson_iter_init(&it, ops);
    while (bson_iter_next(&it)) {
        const char *op = bson_iter_key(&it);
        bool ok = false;
        bson_t sub;

        for (size_t i = 0; i < sizeof known / sizeof *known; i++)
            ok = ok || !strcmp(op, known[i]);
        if (!ok || BSON_ITER_HOLDS_REGEX(&it)) {
            snprintf(errbuf, errlen, "unknown or unsupported operator: %s (the test double "
                     "supports $eq $ne $gt $gte $lt $lte $in $nin $exists $not $and $or $nor)", op);
            return false;
        }
        if ((!strcmp(op, "$in") || !strcmp(op, "$nin")) && !BSON_ITER_HOLDS_ARRAY(&it)) {
            snprintf(errbuf, errlen, "%s needs an array", op);
            return false;
        }
        if (!strcmp(op, "$not") &&
            (!BSON_ITER_HOLDS_DOCUMENT(&it) || !md_value_doc(bson_iter_value(&it), &sub) ||
             !check_ops(&sub, errbuf, errlen))) {
            if (!BSON_ITER_HOLDS_DOCUMENT(&it))
                snprintf(errbuf, errlen, "$not needs a document of operators");
            return false;
        }
    }
    return true;
}

bool md_match_check(const bson_t *filter, char *errbuf, size_t errlen)
{
    bson_iter_t it;

    bson_iter_init(&it, filter);
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        const bson_value_t *v = bson_iter_value(&it);
        bson_t sub;

        if (key[0] == '$') {
            bson_t arr;
            bson_iter_t e;

            if (strcmp(key, "$and") && strcmp(key, "$or") && strcmp(key, "$nor")) {
                snprintf(errbuf, errlen, "unknown or unsupported top level operator: %s (the "
                         "test double supports $and $or $nor)", key);
                return false;
            }
            if (v->value_type != BSON_TYPE_ARRAY || !md_value_doc(v, &arr) || bson_empty(&arr)) {
                snprintf(errbuf, errlen, "%s must be a nonempty array", key);
                return false;
            }
            bson_iter_init(&e, &arr);
            while (bson_iter_next(&e)) {
                if (!BSON_ITER_HOLDS_DOCUMENT(&e)) {
                    snprintf(errbuf, errlen, "%s entries must be documents", key);
                    return false;
                }
                md_value_doc(bson_iter_value(&e), &sub);
                if (!md_match_check(&sub, errbuf, errlen))
                    return false;
            }
        } else if (v->value_type == BSON_TYPE_REGEX) {
            snprintf(errbuf, errlen, "regular expressions are not supported by the test double "
                     "(field %s)", key);
            return false;
        } else if (is_operator_doc(v, &sub) && !check_ops(&sub, errbuf, errlen)) {
            return false;
        }
    }
    return true;
}

bool md_filter_id(const bson_t *filter, bson_value_t *out)
{
    bson_iter_t it;
    bson_t ops;

    if (!filter || !bson_iter_init_find(&it, filter, "_id"))
        return false;
    *out = *bson_iter_value(&it);
    if (!is_operator_doc(out, &ops))
        return true;
    if (bson_iter_init(&it, &ops) && bson_iter_next(&it) && !strcmp(bson_iter_key(&it), "$eq")) {
        *out = *bson_iter_value(&it);
        return !bson_iter_next(&it);
    }
    return false;
}
