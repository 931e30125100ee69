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

#endif							/* TRIB_RULES_QUALITY_H */
