/*
 * project.h: projections for mongo_double (a TEST DOUBLE, see
 * ../README.md): find's projection and the $project stage.
 *
 * Supported: top-level fields, included (1, true) or excluded (0, false),
 * _id kept unless excluded; in $project also "$field.path" references and
 * string literals (strings not starting with $).
 * Dotted keys, expressions ($concat, $literal...) and $slice/$elemMatch
 * projections are refused with a clear error.
 */
#ifndef MD_PROJECT_H
#define MD_PROJECT_H

#include <bson.h>

#include "errors.h"

/* md_project_check: whether spec is supported (aggregation: $project rules). */
bool md_project_check(const bson_t *spec, bool aggregation, md_err_t *err);

/* md_project: doc through a checked spec, as a new document. */
bson_t *md_project(const bson_t *doc, const bson_t *spec);

#endif
