/*
 * rules_mask.h: the rows of operations of redact, partial, substitute,
 * perturb and generalize (rules_mask.c); private to the rule engine.
 */
#ifndef TRIB_RULES_MASK_H
#define TRIB_RULES_MASK_H

#include "rules_common.h"

extern const rl_ops rl_ops_redact;
extern const rl_ops rl_ops_partial;
extern const rl_ops rl_ops_substitute;
extern const rl_ops rl_ops_perturb;
extern const rl_ops rl_ops_generalize;

#endif							/* TRIB_RULES_MASK_H */
