/*
 * rules_enrich.h: the rows of operations of outbox, aggregate and lookup
 * (rules_enrich.c); private to the rule engine.
 */
#ifndef TRIB_RULES_ENRICH_H
#define TRIB_RULES_ENRICH_H

#include "rules_common.h"

extern const rl_ops rl_ops_outbox;
extern const rl_ops rl_ops_aggregate;
extern const rl_ops rl_ops_lookup;

#endif							/* TRIB_RULES_ENRICH_H */
