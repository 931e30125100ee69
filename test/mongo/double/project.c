/*
 * project.c: projections (project.h).
 *
 * A spec is an inclusion (some field 1/true, or a reference or literal)
 * or an exclusion (fields 0/false); only _id may be excluded from an
 * inclusion.  Included fields keep the document's order; computed fields
 * (references, literals) follow in the spec's order.
 */
#include "project.h"

#include <string.h>

#include "match.h"
#include "values.h"

/* flag_value: the value is an include/exclude flag; *on tells which. */
static bool flag_value(const bson_iter_t *it, bool *on)
{
    const bson_value_t *v = bson_iter_value((bson_iter_t *)it);

    if (v->value_type == BSON_TYPE_BOOL) {
        *on = v->value.v_bool;
        return true;
    }
    if (md_value_is_number(v)) {
        *on = md_value_to_double(v) != 0;
        return true;
    }
    return false;
}

bool md_project_check(const bson_t *spec, bool aggregation, md_err_t *err)
{
    bson_iter_t it;
    int includes = 0, excludes = 0;

    bson_iter_init(&it, spec);
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        bool on;

        if (strchr(key, '.') || key[0] == '$')
            return md_seterr(err, MD_BAD_VALUE, "projection field '%s': dotted paths and "
                             "operators are not supported by the test double", key);
        if (flag_value(&it, &on)) {
            if (strcmp(key, "_id"))
                on ? includes++ : excludes++;
        } else if (aggregation && BSON_ITER_HOLDS_UTF8(&it)) {
            includes++;
        } else {
            return md_seterr(err, MD_BAD_VALUE, "projection field '%s': only 0/1/true/false%s "
                             "are supported by the test double", key,
                             aggregation ? ", \"$path\" references and string literals" : "");
        }
    }
    if (includes && excludes)
        return md_seterr(err, 31254, "Cannot do exclusion on a field in inclusion projection");
    return true;
}

/* spec_entry: how spec treats key: 1 include, 0 exclude, -1 not named. */
static int spec_entry(const bson_t *spec, const char *key)
{
    bson_iter_t it;
    bool on;

    if (!bson_iter_init_find(&it, spec, key))
        return -1;
    if (flag_value(&it, &on))
        return on;
    return 2; /* computed */
}

bson_t *md_project(const bson_t *doc, const bson_t *spec)
{
    bson_t *out = bson_new();
    bson_iter_t it;
    bool inclusion = false;

    bson_iter_init(&it, spec);
    while (bson_iter_next(&it)) {
        bool on;

        if (strcmp(bson_iter_key(&it), "_id") && (!flag_value(&it, &on) || on))
            inclusion = true;
    }
    bson_iter_init(&it, doc);
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        int e = spec_entry(spec, key);
        bool keep = !strcmp(key, "_id") ? e != 0 : inclusion ? e == 1 : e != 0;

        if (keep && e != 2)
            bson_append_value(out, key, -1, bson_iter_value(&it));
    }
    bson_iter_init(&it, spec);
    while (bson_iter_next(&it)) {
        const char *s;
        bson_iter_t ref;

        if (!BSON_ITER_HOLDS_UTF8(&it))
            continue;
        s = bson_iter_utf8(&it, NULL);
        if (s[0] != '$')
            bson_append_utf8(out, bson_iter_key(&it), -1, s, -1);
        else if (md_path_find(doc, s + 1, &ref))
            bson_append_value(out, bson_iter_key(&it), -1, bson_iter_value(&ref));
    }
    return out;
}
