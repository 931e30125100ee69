/*
 * update.c: update operators, replacements and update descriptions
 * (update.h).
 *
 * libbson documents are append-only, so every operator rebuilds the
 * document: modify() copies it element by element and, on the path's
 * element, either recurses into the subdocument or array or calls the
 * operator's leaf function, which appends the new value (or nothing, to
 * remove the field; null, to unset an array element).  Missing
 * intermediate documents are created, arrays are padded with null up to a
 * new index, and a path through a scalar is PathNotViable (28).
 */
#include "update.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "util.h"
#include "values.h"

#define MAX_PARTS 32
#define MAX_PATH 1100

/* path_fmt: a field path into buf (silently cut at MAX_PATH). */
static void path_fmt(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_fmt(char *buf, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, MAX_PATH, fmt, ap);
    va_end(ap);
}

typedef struct op {
    const char *name;          /* "$set", ... */
    const bson_value_t *arg;   /* the operand */
    bool inserting;            /* $setOnInsert applies */
} op_t;

/* append_num: a + b (add) or a * b (!add) with MongoDB's type promotion. */
static void append_num(bson_t *dst, const char *key, const bson_value_t *a, const bson_value_t *b,
                       bool add)
{
    bson_type_t ta = a->value_type, tb = b->value_type;

    if (ta == BSON_TYPE_DOUBLE || tb == BSON_TYPE_DOUBLE || ta == BSON_TYPE_DECIMAL128 ||
        tb == BSON_TYPE_DECIMAL128) {
        double x = md_value_to_double(a), y = md_value_to_double(b);

        bson_append_double(dst, key, -1, add ? x + y : x * y);
    } else {
        int64_t x = ta == BSON_TYPE_INT32 ? a->value.v_int32 : a->value.v_int64;
        int64_t y = tb == BSON_TYPE_INT32 ? b->value.v_int32 : b->value.v_int64;
        int64_t r;
        bool overflow = add ? __builtin_add_overflow(x, y, &r) : __builtin_mul_overflow(x, y, &r);

        if (overflow)
            bson_append_double(dst, key, -1, add ? (double)x + (double)y : (double)x * (double)y);
        else if (ta == BSON_TYPE_INT32 && tb == BSON_TYPE_INT32 && r >= INT32_MIN && r <= INT32_MAX)
            bson_append_int32(dst, key, -1, (int32_t)r);
        else
            bson_append_int64(dst, key, -1, r);
    }
}

/* each_items: the values $push/$addToSet add: the $each array or the operand. */
static bool each_items(const bson_value_t *arg, bson_t *items, md_err_t *err)
{
    bson_t sub;
    bson_iter_t it;

    bson_init(items);
    if (arg->value_type == BSON_TYPE_DOCUMENT && md_value_doc(arg, &sub) &&
        bson_iter_init(&it, &sub) && bson_iter_next(&it) && bson_iter_key(&it)[0] == '$') {
        bson_t each;

        if (strcmp(bson_iter_key(&it), "$each") || !BSON_ITER_HOLDS_ARRAY(&it) ||
            bson_iter_next(&it)) {
            bson_destroy(items);
            return md_seterr(err, MD_BAD_VALUE, "the test double supports $push/$addToSet with "
                             "a value or {$each: [...]} only (no $position, $slice, $sort)");
        }
        md_value_doc(bson_iter_value(&it), &each);
        bson_iter_init(&it, &each);
        while (bson_iter_next(&it)) {
            char key[16];

            snprintf(key, sizeof key, "%u", bson_count_keys(items));
            bson_append_value(items, key, -1, bson_iter_value(&it));
        }
        return true;
    }
    bson_append_value(items, "0", 1, arg);
    return true;
}

/* array_has: arr has an element equal to v. */
static bool array_has(const bson_t *arr, const bson_value_t *v)
{
    bson_iter_t it;

    bson_iter_init(&it, arr);
    while (bson_iter_next(&it))
        if (bson_iter_type(&it) == v->value_type && md_value_cmp(bson_iter_value(&it), v) == 0)
            return true;
    return false;
}

/* pull_matches: whether a $pull operand selects element e. */
static bool pull_matches(const bson_value_t *arg, const bson_value_t *e)
{
    bson_t cond, wrap = BSON_INITIALIZER, filter = BSON_INITIALIZER;
    char errbuf[256];
    bool hit;

    if (arg->value_type == BSON_TYPE_DOCUMENT && md_value_doc(arg, &cond)) {
        bson_iter_t it;
        bson_t edoc;

        if (bson_iter_init(&it, &cond) && bson_iter_next(&it) && bson_iter_key(&it)[0] != '$' &&
            md_value_doc(e, &edoc) && e->value_type == BSON_TYPE_DOCUMENT)
            return md_match(&edoc, &cond, errbuf, sizeof errbuf) == 1;
    }
    bson_append_value(&wrap, "v", 1, e);
    bson_append_value(&filter, "v", 1, arg);
    hit = md_match(&wrap, &filter, errbuf, sizeof errbuf) == 1;
    bson_destroy(&wrap);
    bson_destroy(&filter);
    return hit;
}

/* array_op: $push, $addToSet, $pop, $pull on the current value cur. */
static bool array_op(const op_t *op, const bson_value_t *cur, bson_t *dst, const char *key,
                     md_err_t *err)
{
    bson_t arr, out, items;
    bson_iter_t it;
    uint32_t n = 0, len;
    bool push = !strcmp(op->name, "$push"), add = !strcmp(op->name, "$addToSet");

    if (!cur) {
        if (!push && !add)
            return true;
        bson_init(&arr);
    } else if (cur->value_type != BSON_TYPE_ARRAY || !md_value_doc(cur, &arr)) {
        return md_seterr(err, MD_BAD_VALUE, "%s: field '%s' is not an array", op->name, key);
    }
    len = bson_count_keys(&arr);
    bson_append_array_begin(dst, key, -1, &out);
    bson_iter_init(&it, &arr);
    for (uint32_t i = 0; bson_iter_next(&it); i++) {
        char k[16];

        if (!strcmp(op->name, "$pop") &&
            ((md_value_to_double(op->arg) >= 1 && i == len - 1) ||
             (md_value_to_double(op->arg) <= -1 && i == 0)))
            continue;
        if (!strcmp(op->name, "$pull") && pull_matches(op->arg, bson_iter_value(&it)))
            continue;
        snprintf(k, sizeof k, "%u", n++);
        bson_append_value(&out, k, -1, bson_iter_value(&it));
    }
    if ((push || add) && each_items(op->arg, &items, err)) {
        bson_iter_init(&it, &items);
        while (bson_iter_next(&it)) {
            char k[16];

            if (add && (array_has(&arr, bson_iter_value(&it)) || array_has(&out, bson_iter_value(&it))))
                continue;
            snprintf(k, sizeof k, "%u", n++);
            bson_append_value(&out, k, -1, bson_iter_value(&it));
        }
        bson_destroy(&items);
    }
    bson_append_array_end(dst, &out);
    if (!cur)
        bson_destroy(&arr);
    return err->code == 0;
}

/* leaf: append key's new value to dst given its current value (NULL: absent). */
static bool leaf(const op_t *op, const bson_value_t *cur, bool in_array, bson_t *dst,
                 const char *key, md_err_t *err)
{
    const char *n = op->name;

    if (!strcmp(n, "$set") || (!strcmp(n, "$setOnInsert") && op->inserting)) {
        bson_append_value(dst, key, -1, op->arg);
    } else if (!strcmp(n, "$unset")) {
        if (in_array && cur)
            bson_append_null(dst, key, -1);
    } else if (!strcmp(n, "$inc") || !strcmp(n, "$mul")) {
        bson_value_t zero = {.value_type = BSON_TYPE_INT32};

        if (!md_value_is_number(op->arg))
            return md_seterr(err, MD_TYPE_MISMATCH, "Cannot %s with non-numeric argument: {%s: ...}",
                             n + 1, key);
        if (cur && !md_value_is_number(cur))
            return md_seterr(err, MD_TYPE_MISMATCH, "Cannot apply %s to a value of non-numeric "
                             "type (field '%s')", n, key);
        append_num(dst, key, cur ? cur : &zero, op->arg, !strcmp(n, "$inc"));
    } else if (!strcmp(n, "$min") || !strcmp(n, "$max")) {
        int r = cur ? md_value_cmp(op->arg, cur) : 0;

        bson_append_value(dst, key, -1,
                          !cur || (n[2] == 'i' ? r < 0 : r > 0) ? op->arg : cur);
    } else if (!strcmp(n, "$currentDate")) {
        bson_t spec;
        bson_iter_t t;

        if (md_value_doc(op->arg, &spec) && bson_iter_init_find(&t, &spec, "$type") &&
            BSON_ITER_HOLDS_UTF8(&t) && !strcmp(bson_iter_utf8(&t, NULL), "timestamp"))
            bson_append_timestamp(dst, key, -1, (uint32_t)(md_wall_ms() / 1000), 1);
        else
            bson_append_date_time(dst, key, -1, md_wall_ms());
    } else if (!strcmp(n, "$setOnInsert")) {
        if (cur)
            bson_append_value(dst, key, -1, cur);
    } else {
        return array_op(op, cur, dst, key, err);
    }
    return true;
}

/* removes_only: operators that do nothing on an absent path. */
static bool removes_only(const op_t *op)
{
    return !strcmp(op->name, "$unset") || !strcmp(op->name, "$pop") ||
           !strcmp(op->name, "$pull") || (!strcmp(op->name, "$setOnInsert") && !op->inserting);
}

static bool modify(const bson_t *src, bool is_array, char **parts, int n, const op_t *op,
                   bson_t *dst, md_err_t *err);

/* descend: the path continues inside value v under key. */
static bool descend(const bson_value_t *v, const char *key, char **parts, int n, const op_t *op,
                    bson_t *dst, md_err_t *err)
{
    bson_t sub, child;
    bool ok;

    if (!md_value_doc(v, &sub)) {
        if (removes_only(op)) {
            bson_append_value(dst, key, -1, v);
            return true;
        }
        return md_seterr(err, MD_PATH_NOT_VIABLE, "Cannot create field '%s' in element {%s: ...} "
                         "(a scalar)", parts[0], key);
    }
    if (v->value_type == BSON_TYPE_ARRAY)
        bson_append_array_begin(dst, key, -1, &child);
    else
        bson_append_document_begin(dst, key, -1, &child);
    ok = modify(&sub, v->value_type == BSON_TYPE_ARRAY, parts, n, op, &child, err);
    if (v->value_type == BSON_TYPE_ARRAY)
        bson_append_array_end(dst, &child);
    else
        bson_append_document_end(dst, &child);
    return ok;
}

/* create_missing: the path's head is absent from src (count elements so far). */
static bool create_missing(bool is_array, uint32_t count, char **parts, int n, const op_t *op,
                           bson_t *dst, md_err_t *err)
{
    bson_t child;
    bool ok;

    if (removes_only(op))
        return true;
    if (is_array) {
        char *end;
        long idx = strtol(parts[0], &end, 10);

        if (*end || idx < 0 || idx > 1000000)
            return md_seterr(err, MD_PATH_NOT_VIABLE, "Cannot create field '%s' in an array",
                             parts[0]);
        for (uint32_t i = count; i < (uint32_t)idx; i++) {
            char k[16];

            snprintf(k, sizeof k, "%u", i);
            bson_append_null(dst, k, -1);
        }
    }
    if (n == 1)
        return leaf(op, NULL, is_array, dst, parts[0], err);
    bson_append_document_begin(dst, parts[0], -1, &child);
    ok = modify(NULL, false, parts + 1, n - 1, op, &child, err);
    bson_append_document_end(dst, &child);
    return ok;
}

/* modify: copy src (NULL: empty) into dst with the path parts[0..n) changed. */
static bool modify(const bson_t *src, bool is_array, char **parts, int n, const op_t *op,
                   bson_t *dst, md_err_t *err)
{
    bson_iter_t it;
    bool found = false;
    uint32_t count = 0;

    if (src && bson_iter_init(&it, src)) {
        while (bson_iter_next(&it)) {
            const char *key = bson_iter_key(&it);
            bool ok = true;

            count++;
            if (found || strcmp(key, parts[0])) {
                bson_append_value(dst, key, -1, bson_iter_value(&it));
                continue;
            }
            found = true;
            if (n == 1)
                ok = leaf(op, bson_iter_value(&it), is_array, dst, key, err);
            else
                ok = descend(bson_iter_value(&it), key, parts + 1, n - 1, op, dst, err);
            if (!ok)
                return false;
        }
    }
    return found || create_missing(is_array, count, parts, n, op, dst, err);
}

/* split_path: "a.b.c" into parts (in buf); false for an empty component. */
static int split_path(const char *path, char *buf, size_t buflen, char **parts)
{
    int n = 0;

    if (strlen(path) >= buflen)
        return -1;
    strcpy(buf, path);
    for (char *p = buf;; ) {
        char *dot = strchr(p, '.');

        if (n == MAX_PARTS)
            return -1;
        parts[n++] = p;
        if (dot)
            *dot = '\0';
        if (!*p)
            return -1;
        if (!dot)
            return n;
        p = dot + 1;
    }
}

/* apply_path: *doc with one operator applied at path (replaces *doc). */
static bool apply_path(bson_t **doc, const char *path, const op_t *op, md_err_t *err)
{
    char buf[1024], *parts[MAX_PARTS];
    int n = split_path(path, buf, sizeof buf, parts);
    bson_t *next;

    if (n < 0)
        return md_seterr(err, MD_BAD_VALUE, "%s: bad field path '%s'", op->name, path);
    if (strchr(path, '$'))
        return md_seterr(err, MD_BAD_VALUE, "%s '%s': positional operators ($, $[], $[id]) are "
                         "not supported by the test double", op->name, path);
    next = bson_new();
    if (!modify(*doc, false, parts, n, op, next, err)) {
        bson_destroy(next);
        return false;
    }
    bson_destroy(*doc);
    *doc = next;
    return true;
}

/* apply_rename: $rename {from: "to"}. */
static bool apply_rename(bson_t **doc, const char *from, const bson_value_t *to, md_err_t *err)
{
    bson_iter_t it;
    bson_value_t v;
    op_t unset = {"$unset", NULL, false}, set = {"$set", &v, false};
    bool ok;

    if (to->value_type != BSON_TYPE_UTF8)
        return md_seterr(err, MD_BAD_VALUE, "$rename: the new name of '%s' must be a string", from);
    if (!md_path_find(*doc, from, &it))
        return true;
    bson_value_copy(bson_iter_value(&it), &v);
    ok = apply_path(doc, from, &unset, err) && apply_path(doc, to->value.v_utf8.str, &set, err);
    bson_value_destroy(&v);
    return ok;
}

/* known_operator: the operators this file implements. */
static bool known_operator(const char *name)
{
    static const char *ops[] = {"$set",         "$unset", "$inc",  "$mul",      "$min",
                                "$max",         "$rename", "$setOnInsert", "$currentDate",
                                "$push",        "$addToSet", "$pop", "$pull"};

    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(name, ops[i]))
            return true;
    return false;
}

bool md_update_is_replacement(const bson_t *u)
{
    bson_iter_t it;

    return !bson_iter_init(&it, u) || !bson_iter_next(&it) || bson_iter_key(&it)[0] != '$';
}

/* same_id: doc's _id equals id. */
static bool same_id(const bson_t *doc, const bson_value_t *id)
{
    bson_iter_t it;

    return bson_iter_init_find(&it, doc, "_id") && bson_iter_type(&it) == id->value_type &&
           md_value_cmp(bson_iter_value(&it), id) == 0;
}

bool md_update_apply(const bson_t *doc, const bson_t *u, bool inserting, bson_t **out,
                     md_err_t *err)
{
    bson_iter_t it, f, idit;
    bson_t *cur = bson_copy(doc);
    bson_value_t id = {0};
    bool have_id = bson_iter_init_find(&idit, doc, "_id");

    if (have_id)
        bson_value_copy(bson_iter_value(&idit), &id);
    bson_iter_init(&it, u);
    while (bson_iter_next(&it)) {
        const char *name = bson_iter_key(&it);
        bson_t fields;

        if (!known_operator(name)) {
            md_seterr(err, MD_FAILED_TO_PARSE, "Unknown modifier: %s (or not supported by the "
                      "test double)", name);
            goto fail;
        }
        if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !md_value_doc(bson_iter_value(&it), &fields)) {
            md_seterr(err, MD_FAILED_TO_PARSE, "Modifiers operate on fields but we found a "
                      "non-document for %s", name);
            goto fail;
        }
        bson_iter_init(&f, &fields);
        while (bson_iter_next(&f)) {
            op_t op = {name, bson_iter_value(&f), inserting};
            bool ok = !strcmp(name, "$rename")
                          ? apply_rename(&cur, bson_iter_key(&f), bson_iter_value(&f), err)
                          : apply_path(&cur, bson_iter_key(&f), &op, err);

            if (!ok)
                goto fail;
        }
    }
    if (have_id && !same_id(cur, &id)) {
        md_seterr(err, MD_IMMUTABLE_FIELD, "Performing an update on the path '_id' would modify "
                  "the immutable field '_id'");
        goto fail;
    }
    if (have_id)
        bson_value_destroy(&id);
    *out = cur;
    return true;
fail:
    if (have_id)
        bson_value_destroy(&id);
    bson_destroy(cur);
    return false;
}

bson_t *md_with_id(const bson_t *doc)
{
    bson_t *out = bson_new();
    bson_iter_t it;

    if (bson_iter_init_find(&it, doc, "_id")) {
        bson_append_value(out, "_id", 3, bson_iter_value(&it));
    } else {
        bson_oid_t oid;

        bson_oid_init(&oid, NULL);
        bson_append_oid(out, "_id", 3, &oid);
    }
    bson_iter_init(&it, doc);
    while (bson_iter_next(&it))
        if (strcmp(bson_iter_key(&it), "_id"))
            bson_append_value(out, bson_iter_key(&it), -1, bson_iter_value(&it));
    return out;
}

bool md_update_replace(const bson_t *replacement, const bson_value_t *id, bson_t **out,
                       md_err_t *err)
{
    bson_iter_t it;
    bson_t *seeded;

    if (id && bson_iter_init_find(&it, replacement, "_id") &&
        (bson_iter_type(&it) != id->value_type || md_value_cmp(bson_iter_value(&it), id) != 0))
        return md_seterr(err, MD_IMMUTABLE_FIELD, "After applying the update, the (immutable) "
                         "field '_id' was found to have been altered");
    if (!id) {
        *out = md_with_id(replacement);
        return true;
    }
    seeded = bson_new();
    bson_append_value(seeded, "_id", 3, id);
    bson_iter_init(&it, replacement);
    while (bson_iter_next(&it))
        if (strcmp(bson_iter_key(&it), "_id"))
            bson_append_value(seeded, bson_iter_key(&it), -1, bson_iter_value(&it));
    *out = seeded;
    return true;
}

bson_t *md_upsert_seed(const bson_t *filter)
{
    bson_t *seed = bson_new();
    bson_iter_t it;
    md_err_t err = {0};

    bson_iter_init(&it, filter);
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        bson_value_t v = *bson_iter_value(&it);
        bson_t sub;
        bson_iter_t e;

        if (key[0] == '$')
            continue;
        if (v.value_type == BSON_TYPE_DOCUMENT && md_value_doc(&v, &sub) &&
            bson_iter_init(&e, &sub) && bson_iter_next(&e) && bson_iter_key(&e)[0] == '$') {
            if (strcmp(bson_iter_key(&e), "$eq"))
                continue;
            v = *bson_iter_value(&e);
        }
        {
            op_t set = {"$set", &v, true};

            apply_path(&seed, key, &set, &err);
        }
    }
    return seed;
}

/* values_equal: same type and same value. */
static bool values_equal(const bson_value_t *a, const bson_value_t *b)
{
    return a->value_type == b->value_type && md_value_cmp(a, b) == 0;
}

static void diff_docs(const bson_t *a, const bson_t *b, const char *prefix, bson_t *updated,
                      bson_t *removed, bson_t *truncated);

/* diff_arrays: the changes from array a to array b at path. */
static void diff_arrays(const bson_t *a, const bson_t *b, const char *path, bson_t *updated,
                        bson_t *removed, bson_t *truncated)
{
    uint32_t la = bson_count_keys(a), lb = bson_count_keys(b);
    bson_iter_t ia, ib;
    char sub[MAX_PATH];

    bson_iter_init(&ia, a);
    bson_iter_init(&ib, b);
    for (uint32_t i = 0; bson_iter_next(&ib); i++) {
        const bson_value_t *vb = bson_iter_value(&ib);
        const bson_value_t *va = i < la && bson_iter_next(&ia) ? bson_iter_value(&ia) : NULL;
        bson_t da, db;

        path_fmt(sub, "%s.%u", path, i);
        if (va && va->value_type == BSON_TYPE_DOCUMENT && vb->value_type == BSON_TYPE_DOCUMENT &&
            md_value_doc(va, &da) && md_value_doc(vb, &db)) {
            char prefix[MAX_PATH];

            path_fmt(prefix, "%s.", sub);
            diff_docs(&da, &db, prefix, updated, removed, truncated);
        } else if (!va || !values_equal(va, vb)) {
            bson_append_value(updated, sub, -1, vb);
        }
    }
    if (lb < la) {
        bson_t t;
        char k[16];

        snprintf(k, sizeof k, "%u", bson_count_keys(truncated));
        bson_append_document_begin(truncated, k, -1, &t);
        bson_append_utf8(&t, "field", 5, path, -1);
        bson_append_int32(&t, "newSize", 7, (int32_t)lb);
        bson_append_document_end(truncated, &t);
    }
}

/* diff_docs: the changes from document a to document b, paths under prefix. */
static void diff_docs(const bson_t *a, const bson_t *b, const char *prefix, bson_t *updated,
                      bson_t *removed, bson_t *truncated)
{
    bson_iter_t ib, ia;
    char path[MAX_PATH];

    bson_iter_init(&ib, b);
    while (bson_iter_next(&ib)) {
        const bson_value_t *vb = bson_iter_value(&ib);
        bson_t da, db;

        path_fmt(path, "%s%s", prefix, bson_iter_key(&ib));
        if (!bson_iter_init_find(&ia, a, bson_iter_key(&ib))) {
            bson_append_value(updated, path, -1, vb);
            continue;
        }
        if (bson_iter_type(&ia) == bson_iter_type(&ib) && md_value_doc(vb, &db) &&
            md_value_doc(bson_iter_value(&ia), &da)) {
            if (vb->value_type == BSON_TYPE_ARRAY) {
                diff_arrays(&da, &db, path, updated, removed, truncated);
            } else {
                char sub[MAX_PATH];

                path_fmt(sub, "%s.", path);
                diff_docs(&da, &db, sub, updated, removed, truncated);
            }
        } else if (!values_equal(bson_iter_value(&ia), vb)) {
            bson_append_value(updated, path, -1, vb);
        }
    }
    bson_iter_init(&ia, a);
    while (bson_iter_next(&ia)) {
        bson_iter_t ib2;

        if (!bson_iter_init_find(&ib2, b, bson_iter_key(&ia))) {
            char k[16];

            path_fmt(path, "%s%s", prefix, bson_iter_key(&ia));
            snprintf(k, sizeof k, "%u", bson_count_keys(removed));
            bson_append_utf8(removed, k, -1, path, -1);
        }
    }
}

void md_update_description(const bson_t *before, const bson_t *after, bson_t *out)
{
    bson_t updated = BSON_INITIALIZER, removed = BSON_INITIALIZER, truncated = BSON_INITIALIZER;

    diff_docs(before, after, "", &updated, &removed, &truncated);
    bson_append_document(out, "updatedFields", -1, &updated);
    bson_append_array(out, "removedFields", -1, &removed);
    bson_append_array(out, "truncatedArrays", -1, &truncated);
    bson_destroy(&updated);
    bson_destroy(&removed);
    bson_destroy(&truncated);
}
