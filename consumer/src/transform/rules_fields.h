/*
 * rules_fields.h: the rows of operations of cast, drop, keep and rename
 * (rules_fields.c); private to the rule engine.
 */
#ifndef TRIB_RULES_FIELDS_H
#define TRIB_RULES_FIELDS_H

#include "rules_common.h"

extern const rl_ops rl_ops_cast;
extern const rl_ops rl_ops_drop;
extern const rl_ops rl_ops_keep;
extern const rl_ops rl_ops_rename;

#endif							/* TRIB_RULES_FIELDS_H */
