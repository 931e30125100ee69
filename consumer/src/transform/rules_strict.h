/*
 * rules_strict.h: strict mode (rules_strict.c): the pass that nulls
 * columns without a decision, and the row of operations of `allow`;
 * private to the rule engine.
 */
#ifndef TRIB_RULES_STRICT_H
#define TRIB_RULES_STRICT_H

#include "rules_common.h"

extern const rl_ops rl_ops_allow;

/* Before the rules: null every column of before and after no rule decides
 * about; DEAD_LETTER (x->why) when such a column is a key column, FAIL
 * when an image is not JSON. */
trib_verdict rl_strict_pass(trib_rules *rs, rl_evctx *x, char *errbuf, size_t errlen);

/* Does some rule decide about this column of where's table (source,
 * schema, table)?  Not cached. */
bool		rl_strict_covers(const trib_rules *rs, const trib_event *where, const char *column);

/* Free the per-column decisions. */
void		rl_strict_free(trib_rules *rs);

#endif							/* TRIB_RULES_STRICT_H */
