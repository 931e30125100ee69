/*
 * rules.h: transform rules applied to every event between source and sinks.
 *
 * Design.  The pipeline's `transforms:` list (rules_conf.c) is compiled
 * once into a trib_rules: field paths parsed, table globs kept, keys and
 * thresholds prepared, metric series looked up.  For each event the rules
 * run in file order; each one that selects the event (sources, tables)
 * rewrites it in place.  Row images are parsed lazily, only when a rule
 * touches a field, into yajl trees (jsondoc.h) that every later rule
 * shares; they are written back once at the end, so an event no rule
 * touched is not re-serialised at all.
 *
 * Value rules (redact, partial, hash, ...) change a field in `before`,
 * `after` and the key alike, so a masked primary key still matches its
 * row.  Shape rules (drop, keep, rename, cast) change `before` and
 * `after` and give the event a derived relation (columns removed,
 * renamed, retyped), built once per source relation version and owned
 * here, so a Postgres sink creates the target table with the new shape.
 *
 * Verdicts.  A rule may keep the event (possibly rewritten), drop it
 * (sample, a quality rule with action drop, flatten of a delete), send it
 * to the dead-letter sink with a reason (a quality failure, a value a rule
 * cannot handle), or fail the pipeline (a quality rule with action fail).
 * A rule never aborts the process on bad data.
 *
 * Reasons never contain field values (they may be PII): they name the
 * rule, the field and what was wrong.
 *
 * Ownership: trib_rules borrows the config (it must outlive the rules) and
 * owns everything else, including derived relations, until
 * trib_rules_free().  Not thread-safe: one pipeline thread.
 */
#ifndef TRIB_RULES_H
#define TRIB_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "event.h"
#include "metrics.h"
#include "lua_expr.h"
#include "verdict.h"

typedef struct trib_rules trib_rules;

/*
 * Compile the config's rules.  `metrics` may be NULL (no counters).
 * Returns NULL and a message when a rule cannot be prepared.  A config
 * without rules gives a valid, empty trib_rules.
 */
trib_rules *trib_rules_new(const trib_config *cfg, trib_metrics *metrics,
						   char *errbuf, size_t errlen);

/* Are there any rules? */
bool		trib_rules_empty(const trib_rules *rs);

/* Apply every rule to ev (in place). */
trib_verdict trib_rules_apply(trib_rules *rs, trib_event *ev,
							  char *errbuf, size_t errlen);

/*
 * Strict mode: does some rule decide about this column (a strategy, drop,
 * allow, or a keep rule on its table)?  `tributary check` lists the
 * columns for which this is false.
 */
bool		trib_rules_covers(const trib_rules *rs, const char *source,
							  const char *schema, const char *table,
							  const char *column);

/* Does rule type t mask the values it touches (redact, partial, hash,
 * tokenize, encrypt, substitute, perturb, generalize: RL_MASKS in their
 * rows of operations)? */
bool		trib_rule_masks(trib_rule_type t);

/* Does rule number i (in file order) select events of this table? */
bool		trib_rules_selects(const trib_rules *rs, size_t i, const char *source,
							   const char *schema, const char *table);

/* Trace the row fields rule i's Lua expression reads at run time
 * (lua_expr.h, trib_lua_expr_trace); false when it has none. */
bool		trib_rules_trace_lua(trib_rules *rs, size_t i, trib_lua_trace_fn fn, void *arg);

/*
 * The relation a table's rows have once the rules ran, known before any
 * row: `rel` itself when no rule changes its shape, the relation the
 * shape and value rules derive from it (columns dropped, renamed,
 * retyped, added; owned by rs), or NULL when a rule that selects the
 * table makes its shape depend on the rows (route, flatten, outbox, map).
 * A sink that creates targets can create the table from it even when no
 * row reaches the sink.
 */
const trib_relation *trib_rules_target(trib_rules *rs, const char *source,
									   const trib_relation *rel);

/* The end of a batch of events: uniqueness checks start again. */
void		trib_rules_batch_end(trib_rules *rs);

/*
 * Run the quality rules that select source/schema.table (schema may be
 * NULL) on `row`, a JSON object of the new row's columns, as the stream
 * would test an insert, but without metrics, actions or any other rule;
 * fn for each value checked, in rule order.  A unique check sees the row
 * alone.  False with errbuf filled when the row is not a JSON object or a
 * check could not be evaluated.  Use rs on one thread.
 */
bool		trib_rules_quality_check(trib_rules *rs, const char *source, const char *schema,
									 const char *table, const char *row,
									 trib_quality_verdict_fn fn, void *arg,
									 char *errbuf, size_t errlen);

void		trib_rules_free(trib_rules *rs);

#endif							/* TRIB_RULES_H */
