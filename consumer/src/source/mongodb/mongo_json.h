/*
 * mongo_json.h: a BSON document as relaxed Extended JSON, libbson's text
 * with its two faults mended.
 *
 * The source writes every document as libbson 1.23's relaxed Extended
 * JSON (bson_as_relaxed_extended_json), never by hand.  That writer has
 * two faults that reach the sinks:
 *
 *   - a date after 9999-12-31 is written as ISO text with a year of five
 *     or more digits ({"$date": "10000-01-01T00:00:00Z"}), where the
 *     Extended JSON specification wants {"$date": {"$numberLong": ...}}
 *     (relaxed mode uses ISO text for years 1970 to 9999 only); no
 *     reader takes it, libbson's own neither, so the MongoDB sink and
 *     `format: debezium` refused the whole document.  Such dates are
 *     rewritten to the $numberLong form.
 *   - a document nested deeper than the writer's recursion limit (about
 *     200 levels) is cut there to the text `{ ... }`, which is not JSON;
 *     the writer still returns it as if all were well.  Such a document
 *     is refused (NULL) instead, so that no sink gets a broken image.
 *
 * The usual document pays two substring scans of the text; the BSON is
 * walked only when the text has a date of a five-digit year or a `{ ... }`
 * outside its strings.
 */
#ifndef TRIB_MONGO_JSON_H
#define TRIB_MONGO_JSON_H

#include <bson/bson.h>

/* doc as relaxed Extended JSON (a new malloc'd string), or NULL when it
 * cannot be written whole: a string in it is not UTF-8, its BSON is
 * malformed, or it is nested deeper than libbson writes. */
char	   *trib_mongo_json(const bson_t *doc);

#endif							/* TRIB_MONGO_JSON_H */
