/*
 * rules_events.h: the rows of operations of sample, route and flatten
 * (rules_events.c); private to the rule engine.
 */
#ifndef TRIB_RULES_EVENTS_H
#define TRIB_RULES_EVENTS_H

#include "rules_common.h"

extern const rl_ops rl_ops_sample;
extern const rl_ops rl_ops_route;
extern const rl_ops rl_ops_flatten;

#endif							/* TRIB_RULES_EVENTS_H */
