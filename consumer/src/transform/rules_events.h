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

/* false (errbuf filled) when route rule i's topic template reads a field
 * (${after.F}, ${before.F}, ${key.F}) that a later masking rule of
 * tables it may share masks: the topic would carry the clear value into
 * topic names, metrics labels and every record. */
bool		rl_route_check_order(const trib_rules *rs, int i, char *errbuf, size_t errlen);

#endif							/* TRIB_RULES_EVENTS_H */
