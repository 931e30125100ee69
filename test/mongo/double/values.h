/*
 * values.h: ordering, equality and hashing of BSON values for mongo_double
 * (a TEST DOUBLE, see ../README.md), after MongoDB's documented comparison
 * order of BSON types:
 *
 *   MinKey < null < numbers < strings (and symbols) < documents < arrays
 *   < binary < ObjectId < booleans < dates < timestamps < regexes < MaxKey
 *
 * Limits: numbers compare as int64 when both are integers, otherwise as
 * doubles (decimal128 through its decimal string), so integers beyond
 * 2^53 against doubles may compare slightly off; strings compare by bytes
 * (no collation); JavaScript code, DBPointer and undefined sort among
 * their neighbours.
 */
#ifndef MD_VALUES_H
#define MD_VALUES_H

#include <bson.h>

#include "util.h"

/* md_type_rank: the canonical order rank of a BSON type. */
int md_type_rank(bson_type_t t);

/* md_value_cmp: <0, 0, >0 in MongoDB's order. */
int md_value_cmp(const bson_value_t *a, const bson_value_t *b);

/* md_doc_cmp: two documents (or arrays), element by element. */
int md_doc_cmp(const bson_t *a, const bson_t *b);

/* md_value_key: a byte string equal for equal _id values (1 == 1.0). */
void md_value_key(const bson_value_t *v, md_buf_t *out);

/* md_value_doc: a document or array value as a static bson_t. */
bool md_value_doc(const bson_value_t *v, bson_t *out);

/* md_value_is_number: int32, int64, double or decimal128. */
bool md_value_is_number(const bson_value_t *v);

/* md_value_to_double: a number as a double. */
double md_value_to_double(const bson_value_t *v);

#endif
