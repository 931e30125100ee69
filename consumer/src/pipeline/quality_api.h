/*
 * quality_api.h: the quality rules for POST /api/v1/quality/check
 * (docs/API.md, "Quality check"): a row in, the verdicts out, without
 * touching the stream.
 *
 * Design.  The pipeline's rules run on its own thread, keep counters and
 * a Lua state, so the check has its own compiled copy of the config's
 * rules (no metrics), used on the HTTP thread under a mutex; only the
 * quality rules run (transform/rules.h, trib_rules_quality_check).  The
 * verdicts say rule, field, pass, the reason (never the value) and what
 * the stream would do: no row data is answered.
 */
#ifndef TRIB_QUALITY_API_H
#define TRIB_QUALITY_API_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef struct trib_quality_api trib_quality_api;

/* The rules of cfg (borrowed), compiled; NULL with errbuf filled. */
trib_quality_api *trib_quality_api_new(const trib_config *cfg, char *errbuf, size_t errlen);

/*
 * trib_control_quality_fn (control.h): the verdicts on `row` (a JSON
 * object's text) of source `source` (NULL: the first) and table
 * schema.table, as a JSON array (malloc'd), or NULL with *status and msg
 * (400 for a row the rules cannot read, 404 for an unknown source).
 */
char	   *trib_quality_api_check(void *qa, const char *source, const char *schema,
								   const char *table, const char *row, unsigned *status,
								   char *msg, size_t msglen);

void		trib_quality_api_free(trib_quality_api *qa);

#endif							/* TRIB_QUALITY_API_H */
