/*
 * update.h: update documents and change descriptions for mongo_double (a
 * TEST DOUBLE, see ../README.md).
 *
 * Supported update operators, on dotted paths through documents and array
 * indexes: $set $unset $inc $mul $min $max $rename $setOnInsert
 * $currentDate $push (with $each) $addToSet (with $each) $pop $pull (by
 * equality).  A document without operators is a replacement.  Pipeline
 * updates (an array) and the positional operators ($, $[], $[id]) are
 * refused with a clear error.  _id cannot change (ImmutableField, 66).
 *
 * md_update_description() derives a change event's updateDescription from
 * the document before and after, the way the server's delta does: changed
 * or added fields in updatedFields (descending into subdocuments and into
 * arrays of equal prefix, "a.2.b"), removed fields in removedFields, and an
 * array that only got shorter in truncatedArrays {field, newSize}.
 */
#ifndef MD_UPDATE_H
#define MD_UPDATE_H

#include <bson.h>

#include "errors.h"

/* md_update_is_replacement: u has no $-operator (first key). */
bool md_update_is_replacement(const bson_t *u);

/*
 * md_update_apply: *out = doc with the operators of u applied (a new
 * document, the caller's).  inserting: the document is being created by an
 * upsert ($setOnInsert applies).
 */
bool md_update_apply(const bson_t *doc, const bson_t *u, bool inserting, bson_t **out,
                     md_err_t *err);

/*
 * md_update_replace: *out = replacement with _id first: id (the old
 * document's _id, or NULL to keep or generate the replacement's own).  A
 * replacement whose _id differs from id is ImmutableField.
 */
bool md_update_replace(const bson_t *replacement, const bson_value_t *id, bson_t **out,
                       md_err_t *err);

/* md_upsert_seed: the document an upsert starts from: the equality fields
 * of the filter (top-level, and dotted paths as nested documents). */
bson_t *md_upsert_seed(const bson_t *filter);

/* md_with_id: doc with an _id first (doc's own, or a new ObjectId). */
bson_t *md_with_id(const bson_t *doc);

/* md_update_description: {updatedFields, removedFields, truncatedArrays}
 * from before to after, appended to out. */
void md_update_description(const bson_t *before, const bson_t *after, bson_t *out);

#endif
