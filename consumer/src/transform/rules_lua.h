/*
 * rules_lua.h: the rules written in Lua (rules_lua.c): the rows of
 * operations of filter, compute and map, and what route and the quality
 * checks use of them (the pipeline's Lua state, binding an event);
 * private to the rule engine.
 */
#ifndef TRIB_RULES_LUA_H
#define TRIB_RULES_LUA_H

#include "rules_common.h"

extern const rl_ops rl_ops_filter;
extern const rl_ops rl_ops_compute;
extern const rl_ops rl_ops_map;

/* The pipeline's one Lua state, made on first use; NULL and errbuf when
 * Lua cannot start. */
struct trib_lua *rl_lua_state(trib_rules *rs, char *errbuf, size_t errlen);

/* Compile r's `lua` expression (when it has one) into the state. */
bool		rl_lua_init(trib_rules *rs, rl_rule *r, char *errbuf, size_t errlen);

/* Write the changed images back into the event and bind it to T. */
void		rl_lua_bind(rl_evctx *x, struct trib_lua *T);

/* Run r's expression on the event (filter, compute, map, route). */
trib_verdict rl_apply_lua(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen);

#endif							/* TRIB_RULES_LUA_H */
