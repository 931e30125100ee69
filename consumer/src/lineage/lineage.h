/*
 * lineage.h: the consumer's lineage recording stage (docs/LINEAGE.md,
 * section 7): the column-level graph of the pipeline, recorded in the
 * extension's lineage catalog, with activity counts and runs.
 *
 * Design.  Columns are known only when a relation arrives, so the graph
 * is derived per source relation (lineage_graph.c) from the compiled
 * pipeline: the source's dataset and columns, the rules that select the
 * relation (cfg->rules, trib_rules_selects) and every sink's dataset
 * named the OpenLineage way (lineage_names.c).  Each relation's part of
 * the graph is a *fragment*; the job's graph is the rules plus every
 * fragment seen, in key order.  A relation seen for the first time, or
 * again with another shape, replaces its fragment; at the next
 * checkpoint the whole graph is recorded (tributary.lineage_record),
 * which stores a new version only when the document or the config's
 * fingerprint changed.  Counts per relation are added per kept event (an
 * array increment, no lookup beyond a pointer hash) and handed over at
 * most once per checkpoint; the worker turns them into counts per edge
 * (tributary.lineage_count).
 *
 * Threads.  The pipeline's thread never talks to the database for
 * lineage: it queues work (graphs, counts, run start and stop) to one
 * worker thread (lineage_worker.c) that owns the connection, so a slow or
 * unreachable catalog never blocks the stream.  Failures are logged,
 * counted in tributary_lineage_errors_total and retried with capped
 * backoff; they never stop the pipeline.
 *
 * Off by default (`lineage: enabled: false`): then trib_lineage_new()
 * gives NULL, every call below accepts NULL and does nothing, and the
 * output is byte-identical.
 *
 * This room may use lib/, core/, config/ and transform/ (to ask which
 * rules select a table); the pipeline calls it, cli/ uses its dataset
 * naming and SQL for `tributary lineage`.
 *
 * Ownership: trib_lineage borrows cfg and rules (they outlive it, or are
 * replaced through trib_lineage_reconfigure); it owns its fragments, its
 * queue and its thread until trib_lineage_free().
 */
#ifndef TRIB_LINEAGE_H
#define TRIB_LINEAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "metrics.h"
#include "rules.h"

typedef struct trib_lineage trib_lineage;

/* ---- the stage (lineage_stage.c) ------------------------------------- */

/*
 * Set the stage up from cfg->lineage; connects nothing (the worker does,
 * later).  *out is NULL when the section is disabled.  false with errbuf
 * when it cannot run (no dsn).
 */
bool		trib_lineage_new(const trib_config *cfg, trib_rules *rules,
							 trib_metrics *metrics, trib_lineage **out,
							 char *errbuf, size_t errlen);

/* The run starts (OpenLineage START; the worker starts). */
void		trib_lineage_run_start(trib_lineage *lg);

/*
 * A kept event (the rules let it through to the sinks): its relation as
 * the source described it (before the rules reshaped it) is noted, and
 * its fragment derived when it is new; the event counts for its edges.
 * Events without a relation (messages) are ignored.
 */
void		trib_lineage_event(trib_lineage *lg, const trib_event *ev,
							   const trib_relation *source_rel);

/*
 * A checkpoint was saved at `position` (the source's event id text, or
 * NULL): new fragments and the counts since the last call go to the
 * worker.  Cheap when nothing changed.
 */
void		trib_lineage_checkpoint(trib_lineage *lg, const char *position);

/*
 * The config changed (the future reload): derive every known relation's
 * fragment again from the new config and rules, and record the graph
 * with the new config's fingerprint at the next checkpoint.
 */
void		trib_lineage_reconfigure(trib_lineage *lg, const trib_config *cfg,
									 trib_rules *rules);

/* The run ends: COMPLETE when ok, else FAIL; waits (a few seconds at
 * most) for the worker to record what is queued. */
void		trib_lineage_run_stop(trib_lineage *lg, bool ok);

/* NULL is allowed. */
void		trib_lineage_free(trib_lineage *lg);

/* ---- graph derivation (lineage_graph.c) ----------------------------- */

/*
 * One relation's part of the graph: `key` ("source/db.schema.table"),
 * and its datasets and edges as comma-separated JSON objects (the items
 * of graph.datasets and graph.edges, without brackets).  malloc'd.
 */
typedef struct trib_lineage_fragment
{
	char	   *key;
	char	   *datasets;
	char	   *edges;
} trib_lineage_fragment;

/*
 * Derive the fragment of the relation `rel` of ev's table (ev names the
 * source, db, schema and table) under cfg's rules and sinks.  `rules`
 * decides which rules select the table (NULL: every rule does).
 */
void		trib_lineage_derive(const trib_config *cfg, const trib_rules *rules,
								const trib_event *ev, const trib_relation *rel,
								trib_lineage_fragment *out);

/* ---- run-time Lua inputs (lineage_trace.c) ---------------------------- */

typedef struct trib_lineage_trace trib_lineage_trace;

/* An empty trace; never NULL. */
trib_lineage_trace *trib_lineage_trace_new(void);
void		trib_lineage_trace_free(trib_lineage_trace *t);

/* The relation key of ev's table ("source/db.schema.table") into buf. */
void		trib_lineage_relation_key(const trib_event *ev, char *buf, size_t len);

/* Rule `rule` read `field` (len bytes; NULL: the whole image) of the
 * relation `key` at run time: 0 when that was known, else the relation is
 * "dirty" until trib_lineage_trace_clean: 2 when this made it so, 1 when
 * it was already. */
int			trib_lineage_trace_add(trib_lineage_trace *t, const char *key, int rule,
								   const char *field, size_t len);

/* The fields traced for (key, rule): *names (owned by t) and their count;
 * *all when the whole image was read. */
size_t		trib_lineage_trace_fields(const trib_lineage_trace *t, const char *key, int rule,
									  char *const **names, bool *all);

/* Is relation key dirty?  Clean it. */
bool		trib_lineage_trace_dirty(const trib_lineage_trace *t, const char *key);
void		trib_lineage_trace_clean(trib_lineage_trace *t, const char *key);

/* trib_lineage_derive, with the inputs traced so far for the Lua rules
 * whose inputs are dynamic (t may be NULL): their edges from those fields
 * carry "inputs": "runtime". */
void		trib_lineage_derive_traced(const trib_config *cfg, const trib_rules *rules,
									   const trib_event *ev, const trib_relation *rel,
									   const trib_lineage_trace *t,
									   trib_lineage_fragment *out);

/* graph.rules for cfg: every rule with its kind and masking flag, as
 * comma-separated JSON objects; malloc'd. */
char	   *trib_lineage_rules_json(const trib_config *cfg);

/* The whole document lineage_record takes; malloc'd. */
char	   *trib_lineage_document(const char *rules_json,
								  const trib_lineage_fragment *frags, size_t n);

void		trib_lineage_fragment_clear(trib_lineage_fragment *f);

/*
 * The fields a Lua expression reads from after/before/key, found
 * statically (`after.x`, `after["x"]`): appended to *names (malloc'd
 * strings, *n updated).  false when it also reads them in a way that
 * cannot be seen without running it (`after[k]`, `pairs(after)`, the
 * table passed to a function): its inputs are then marked dynamic.
 */
bool		trib_lineage_lua_inputs(const char *lua, char ***names, size_t *n);

/* ---- names (lineage_names.c) ------------------------------------------ */

/*
 * The OpenLineage dataset a source or sink member reads or writes for
 * ev's table: its namespace (postgres://host:port, mysql://host:port,
 * mongodb://host:port, kafka://bootstrap, file:///dir) into ns, its name
 * (db.schema.table, db.table, db.collection, the topic, the file) into
 * name, its type ("table", "topic", ...) in *type.  `route` is the topic
 * (or table) a route or outbox rule chose, with its ${after...} parts
 * left as written; NULL when none did.  false when the member writes no
 * dataset (null sink).  No credential is ever part of a name.
 */
bool		trib_lineage_dataset(const trib_plugin_conf *member, const trib_event *ev,
								 const char *route, char *ns, size_t nslen,
								 char *name, size_t namelen, const char **type);

/* SHA-256 (hex) of the config file's bytes: the config fingerprint;
 * false with errbuf when the file cannot be read. */
bool		trib_lineage_config_fingerprint(const char *path, char out[65],
											char *errbuf, size_t errlen);

#endif							/* TRIB_LINEAGE_H */
