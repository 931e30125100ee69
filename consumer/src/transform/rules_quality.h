/*
 * rules_quality.h: the row of operations of quality rules
 * (rules_quality.c); private to the rule engine.
 */
#ifndef TRIB_RULES_QUALITY_H
#define TRIB_RULES_QUALITY_H

#include "rules_common.h"

extern const rl_ops rl_ops_quality;

/* The end of a batch: unique checks forget what they saw. */
void		rl_quality_batch_end(rl_rule *r);

/* Quality rule r's verdicts on `row` (x's image after), one fn call per
 * value checked, without metrics or actions (rules.h,
 * trib_rules_quality_check). */
void		rl_quality_verdicts(rl_evctx *x, rl_rule *r, yajl_val row,
								trib_quality_verdict_fn fn, void *arg);

#endif							/* TRIB_RULES_QUALITY_H */
