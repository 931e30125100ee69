/*
 * values.c: BSON value order, equality keys (values.h).
 *
 * md_value_key() canonicalises numbers so that an _id of 1 (int32), 1
 * (int64) and 1.0 (double) find the same document, as in MongoDB; every
 * other value keys on its type rank and its bytes.
 */
#include "values.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int md_type_rank(bson_type_t t)
{
    switch (t) {
    case BSON_TYPE_MINKEY: return 1;
    case BSON_TYPE_UNDEFINED:
    case BSON_TYPE_NULL: return 2;
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DECIMAL128: return 3;
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL: return 4;
    case BSON_TYPE_DOCUMENT: return 5;
    case BSON_TYPE_ARRAY: return 6;
    case BSON_TYPE_BINARY: return 7;
    case BSON_TYPE_OID: return 8;
    case BSON_TYPE_BOOL: return 9;
    case BSON_TYPE_DATE_TIME: return 10;
    case BSON_TYPE_TIMESTAMP: return 11;
    case BSON_TYPE_REGEX: return 12;
    case BSON_TYPE_DBPOINTER: return 13;
    case BSON_TYPE_CODE: return 14;
    case BSON_TYPE_CODEWSCOPE: return 15;
    case BSON_TYPE_MAXKEY: return 100;
    default: return 50;
    }
}

bool md_value_is_number(const bson_value_t *v)
{
    return md_type_rank(v->value_type) == 3;
}

/* as_int64: the number as an exact int64, if it is one. */
static bool as_int64(const bson_value_t *v, int64_t *out)
{
    switch (v->value_type) {
    case BSON_TYPE_INT32: *out = v->value.v_int32; return true;
    case BSON_TYPE_INT64: *out = v->value.v_int64; return true;
    case BSON_TYPE_DOUBLE: {
        double d = v->value.v_double;

        if (d == floor(d) && d >= -9.2e18 && d <= 9.2e18) {
            *out = (int64_t)d;
            return true;
        }
        return false;
    }
    default: return false;
    }
}

double md_value_to_double(const bson_value_t *v)
{
    char s[BSON_DECIMAL128_STRING];

    switch (v->value_type) {
    case BSON_TYPE_INT32: return v->value.v_int32;
    case BSON_TYPE_INT64: return (double)v->value.v_int64;
    case BSON_TYPE_DOUBLE: return v->value.v_double;
    case BSON_TYPE_DECIMAL128:
        bson_decimal128_to_string(&v->value.v_decimal128, s);
        return strtod(s, NULL);
    default: return 0;
    }
}

/* num_cmp: two numbers. */
static int num_cmp(const bson_value_t *a, const bson_value_t *b)
{
    int64_t x, y;
    double p, q;

    if (a->value_type != BSON_TYPE_DOUBLE && b->value_type != BSON_TYPE_DOUBLE &&
        as_int64(a, &x) && as_int64(b, &y))
        return x < y ? -1 : x > y;
    p = md_value_to_double(a);
    q = md_value_to_double(b);
    if (isnan(p) || isnan(q)) /* NaN sorts below every other number */
        return isnan(p) ? (isnan(q) ? 0 : -1) : 1;
    return p < q ? -1 : p > q;
}

/* bytes_cmp: lexicographic, then by length. */
static int bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);

    if (r)
        return r < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

bool md_value_doc(const bson_value_t *v, bson_t *out)
{
    if (v->value_type == BSON_TYPE_DOCUMENT)
        return bson_init_static(out, v->value.v_doc.data, v->value.v_doc.data_len);
    if (v->value_type == BSON_TYPE_ARRAY)
        return bson_init_static(out, v->value.v_doc.data, v->value.v_doc.data_len);
    return false;
}

int md_doc_cmp(const bson_t *a, const bson_t *b)
{
    bson_iter_t ia, ib;
    bool ma, mb;

    bson_iter_init(&ia, a);
    bson_iter_init(&ib, b);
    for (;;) {
        int r;

        ma = bson_iter_next(&ia);
        mb = bson_iter_next(&ib);
        if (!ma || !mb)
            return ma == mb ? 0 : (ma ? 1 : -1);
        r = md_type_rank(bson_iter_type(&ia)) - md_type_rank(bson_iter_type(&ib));
        if (r)
            return r < 0 ? -1 : 1;
        r = strcmp(bson_iter_key(&ia), bson_iter_key(&ib));
        if (r)
            return r < 0 ? -1 : 1;
        r = md_value_cmp(bson_iter_value(&ia), bson_iter_value(&ib));
        if (r)
            return r;
    }
}

/* same_rank_cmp: two values of the same rank. */
static int same_rank_cmp(const bson_value_t *a, const bson_value_t *b)
{
    bson_t da, db;

    switch (md_type_rank(a->value_type)) {
    case 3: return num_cmp(a, b);
    case 4: {
        const char *s = a->value_type == BSON_TYPE_UTF8 ? a->value.v_utf8.str : a->value.v_symbol.symbol;
        const char *t = b->value_type == BSON_TYPE_UTF8 ? b->value.v_utf8.str : b->value.v_symbol.symbol;
        size_t sl = a->value_type == BSON_TYPE_UTF8 ? a->value.v_utf8.len : a->value.v_symbol.len;
        size_t tl = b->value_type == BSON_TYPE_UTF8 ? b->value.v_utf8.len : b->value.v_symbol.len;

        return bytes_cmp(s, sl, t, tl);
    }
    case 5:
    case 6:
        md_value_doc(a, &da);
        md_value_doc(b, &db);
        return md_doc_cmp(&da, &db);
    case 7:
        if (a->value.v_binary.data_len != b->value.v_binary.data_len)
            return a->value.v_binary.data_len < b->value.v_binary.data_len ? -1 : 1;
        if (a->value.v_binary.subtype != b->value.v_binary.subtype)
            return a->value.v_binary.subtype < b->value.v_binary.subtype ? -1 : 1;
        return bytes_cmp(a->value.v_binary.data, a->value.v_binary.data_len,
                         b->value.v_binary.data, b->value.v_binary.data_len);
    case 8: return bytes_cmp(a->value.v_oid.bytes, 12, b->value.v_oid.bytes, 12);
    case 9: return (int)a->value.v_bool - (int)b->value.v_bool;
    case 10:
        return a->value.v_datetime < b->value.v_datetime ? -1
                                                           : a->value.v_datetime > b->value.v_datetime;
    case 11:
        if (a->value.v_timestamp.timestamp != b->value.v_timestamp.timestamp)
            return a->value.v_timestamp.timestamp < b->value.v_timestamp.timestamp ? -1 : 1;
        return a->value.v_timestamp.increment < b->value.v_timestamp.increment
                   ? -1
                   : a->value.v_timestamp.increment > b->value.v_timestamp.increment;
    case 12: {
        int r = strcmp(a->value.v_regex.regex, b->value.v_regex.regex);

        if (r)
            return r < 0 ? -1 : 1;
        r = strcmp(a->value.v_regex.options, b->value.v_regex.options);
        return r < 0 ? -1 : r > 0;
    }
    case 14:
        return bytes_cmp(a->value.v_code.code, a->value.v_code.code_len, b->value.v_code.code,
                         b->value.v_code.code_len);
    default: return 0;
    }
}

int md_value_cmp(const bson_value_t *a, const bson_value_t *b)
{
    int ra = md_type_rank(a->value_type), rb = md_type_rank(b->value_type);

    if (ra != rb)
        return ra < rb ? -1 : 1;
    return same_rank_cmp(a, b);
}

void md_value_key(const bson_value_t *v, md_buf_t *out)
{
    char tmp[64];
    uint8_t rank = (uint8_t)md_type_rank(v->value_type);
    int64_t i;
    bson_t wrap = BSON_INITIALIZER;

    md_buf_append(out, &rank, 1);
    if (rank == 3) {
        if (as_int64(v, &i))
            snprintf(tmp, sizeof tmp, "i%lld", (long long)i);
        else
            snprintf(tmp, sizeof tmp, "d%.17g", md_value_to_double(v));
        md_buf_append(out, tmp, strlen(tmp));
        return;
    }
    /* Anything else: the value's BSON encoding under an empty key. */
    bson_append_value(&wrap, "", 0, v);
    md_buf_append(out, bson_get_data(&wrap), wrap.len);
    bson_destroy(&wrap);
}
