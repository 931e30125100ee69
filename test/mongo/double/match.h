/*
 * match.h: query filters for mongo_double (a TEST DOUBLE, see ../README.md).
 *
 * Supported: equality on any dotted path (arrays match by element or as a
 * whole, missing fields equal null), $eq $ne $gt $gte $lt $lte $in $nin
 * $exists $not, and $and $or $nor at any level.  Anything else ($regex,
 * $elemMatch, $type, $expr, $text...) is refused with BadValue (code 2),
 * naming the operator, rather than silently mismatching.  The same matcher
 * serves find, update, delete, count, listCollections and a change
 * stream's $match.
 */
#ifndef MD_MATCH_H
#define MD_MATCH_H

#include <bson.h>

/* md_match: 1 when doc matches filter, 0 when not, -1 (errbuf) when the
 * filter is not supported. */
int md_match(const bson_t *doc, const bson_t *filter, char *errbuf, size_t errlen);

/* md_match_check: whether filter is supported (errbuf when not). */
bool md_match_check(const bson_t *filter, char *errbuf, size_t errlen);

/* md_filter_id: if filter pins _id by equality ({_id: v} or {_id: {$eq: v}}),
 * the value (pointing into filter). */
bool md_filter_id(const bson_t *filter, bson_value_t *out);

/* md_path_find: the element at a dotted path through documents and array
 * indexes (no array expansion); false when absent. */
bool md_path_find(const bson_t *doc, const char *path, bson_iter_t *out);

#endif
