/*
 * lineage_stage.c: the lineage stage on the pipeline's thread (lineage.h):
 * fragments per relation, counts per kept event, and the handover to the
 * worker at checkpoints.
 *
 * Design.  Per event the stage does one pointer-hash probe on the
 * source's relation (a relation version is a stable pointer, source.h;
 * the table is lib/ptrmap.h's) and one increment.  A probe that misses derives the relation's
 * fragment (lineage_graph.c): a new key adds it, a known key with another
 * shape replaces it, the same shape only adds the pointer.  The graph
 * is "changed" then; the next checkpoint hands the whole document to the
 * worker, which records a new version only if the catalog's latest one
 * differs (lineage_record compares the document's and the config's
 * fingerprints).  Counts go to the worker at each checkpoint, added up
 * by relation key.
 *
 * Lua rules whose inputs static analysis cannot see are traced while they
 * run (lineage_trace.c): a field read for the first time makes its
 * relation dirty, and that relation's next kept event derives its
 * fragment again, with those inputs marked "runtime".
 */
#include "lineage.h"
#include "lineage_int.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ptrmap.h"
#include "xalloc.h"

typedef struct frag_entry
{
	trib_lineage_fragment f;
	uint64_t	count;			/* kept events since the last checkpoint */
} frag_entry;

/* What a traced Lua rule's reads report to (trace_read). */
typedef struct trace_hook
{
	struct trib_lineage *lg;
	int			rule;
} trace_hook;

typedef struct rel_slot
{
	const trib_relation *rel;	/* the key: first (lib/ptrmap.h) */
	size_t		frag;
} rel_slot;

struct trib_lineage
{
	const trib_config *cfg;
	trib_rules *rules;
	char		fingerprint[65];
	char	   *rules_json;
	frag_entry *frags;
	size_t		nfrags;
	trib_ptrmap rels;			/* rel_slot by source relation */
	bool		changed;
	lw_worker  *worker;
	lx_export  *export;			/* or NULL */
	char		run_id[37];
	trib_lineage_trace *trace;	/* run-time Lua inputs */
	trace_hook *hooks;			/* one per rule */
	size_t		ndirty;			/* relations whose trace grew */
};

/* A new random (version 4) uuid as text. */
static void
new_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		abort();
	b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			 b[12], b[13], b[14], b[15]);
}

/* A traced Lua rule read a field (lua_expr.h, trib_lua_trace_fn). */
static void
trace_read(void *arg, const trib_event *ev, const char *image, const char *field, size_t len)
{
	trace_hook *h = arg;
	char		key[1024];

	(void) image;
	trib_lineage_relation_key(ev, key, sizeof(key));
	if (trib_lineage_trace_add(h->lg->trace, key, h->rule, field, len) == 2)
		h->lg->ndirty++;
}

/* Trace the Lua rules whose inputs are not all static (map: always). */
static void
install_traces(trib_lineage *lg)
{
	const trib_config *cfg = lg->cfg;

	free(lg->hooks);
	lg->hooks = trib_xcalloc(cfg->nrules + 1, sizeof(trace_hook));
	for (size_t i = 0; i < cfg->nrules; i++)
	{
		char	  **names = NULL;
		size_t		n = 0;
		bool		dynamic = cfg->rules[i].lua != NULL &&
			(!trib_lineage_lua_inputs(cfg->rules[i].lua, &names, &n) ||
			 cfg->rules[i].type == TRIB_RULE_MAP);

		for (size_t k = 0; k < n; k++)
			free(names[k]);
		free(names);
		lg->hooks[i].lg = lg;
		lg->hooks[i].rule = (int) i;
		if (dynamic)
			trib_rules_trace_lua(lg->rules, i, trace_read, &lg->hooks[i]);
	}
}

/* See lineage.h. */
bool
trib_lineage_new(const trib_config *cfg, trib_rules *rules, trib_metrics *metrics,
				 trib_lineage **out, char *errbuf, size_t errlen)
{
	const trib_lineage_conf *c = &cfg->lineage;
	const char *dsn = trib_config_dsn_or_checkpoint(cfg, c->dsn);
	trib_lineage *lg;

	*out = NULL;
	if (!c->enabled)
		return true;
	if (dsn == NULL)
	{
		snprintf(errbuf, errlen, "%s: lineage: no dsn (set lineage.dsn, or use a "
				 "checkpoint store in the catalog)", cfg->path);
		return false;
	}
	lg = trib_xcalloc(1, sizeof(*lg));
	if (!trib_lineage_config_fingerprint(cfg->path, lg->fingerprint, errbuf, errlen))
	{
		free(lg);
		return false;
	}
	lg->cfg = cfg;
	lg->rules = rules;
	lg->rules_json = trib_lineage_rules_json(cfg);
	trib_ptrmap_init(&lg->rels, sizeof(rel_slot), 64);
	lg->trace = trib_lineage_trace_new();
	install_traces(lg);
	new_uuid(lg->run_id);
	lg->worker = lw_start(dsn, c->job_namespace ? c->job_namespace : "tributary",
						  c->job ? c->job : cfg->pipeline, lg->run_id, lg->fingerprint,
						  metrics);
	if (c->export_url != NULL || c->export_file != NULL)
	{
		char	   *state = c->export_state ? trib_xstrdup(c->export_state) : NULL;

		if (state == NULL)
		{
			const char *base = c->export_file ? c->export_file : cfg->path;

			state = trib_xmalloc(strlen(base) + sizeof(".lineage-sent"));
			sprintf(state, "%s.lineage-sent", base);
		}
		lg->export = lx_start(c, dsn, lg->run_id, state, metrics);
		free(state);
	}
	*out = lg;
	return true;
}

/* See lineage.h. */
void
trib_lineage_run_start(trib_lineage *lg)
{
	if (lg == NULL)
		return;
	tlog_info("lineage", "run %s: recording the lineage of job %s",
			  lg->run_id, lg->cfg->lineage.job ? lg->cfg->lineage.job : lg->cfg->pipeline);
	lw_run_start(lg->worker);
}

/* Derive rel's fragment and keep it; the index of its entry. */
static size_t
learn(trib_lineage *lg, const trib_event *ev, const trib_relation *rel)
{
	trib_lineage_fragment f = {0};
	size_t		i;

	trib_lineage_derive_traced(lg->cfg, lg->rules, ev, rel, lg->trace, &f);
	for (i = 0; i < lg->nfrags; i++)
		if (strcmp(lg->frags[i].f.key, f.key) == 0)
			break;
	if (i == lg->nfrags)
	{
		lg->frags = trib_xadd_zeroed(lg->frags, lg->nfrags, sizeof(frag_entry));
		lg->nfrags++;
	}
	else if (strcmp(lg->frags[i].f.datasets, f.datasets) == 0 &&
			 strcmp(lg->frags[i].f.edges, f.edges) == 0)
	{
		trib_lineage_fragment_clear(&f);
		return i;
	}
	trib_lineage_fragment_clear(&lg->frags[i].f);
	lg->frags[i].f = f;
	lg->changed = true;
	tlog_debug("lineage", "%s: new shape; the graph is recorded at the next checkpoint", f.key);
	return i;
}

/* A traced Lua rule read new fields of s's relation: derive it again. */
static void
relearn_traced(trib_lineage *lg, const trib_event *ev, rel_slot *s)
{
	char		key[1024];

	trib_lineage_relation_key(ev, key, sizeof(key));
	if (!trib_lineage_trace_dirty(lg->trace, key))
		return;
	trib_lineage_trace_clean(lg->trace, key);
	lg->ndirty--;
	s->frag = learn(lg, ev, s->rel);
}

/* See lineage.h. */
void
trib_lineage_event(trib_lineage *lg, const trib_event *ev, const trib_relation *source_rel)
{
	rel_slot   *s;

	if (lg == NULL || source_rel == NULL)
		return;
	s = trib_ptrmap_get(&lg->rels, source_rel);
	if (s == NULL)
	{
		size_t		i = learn(lg, ev, source_rel);

		s = trib_ptrmap_put(&lg->rels, source_rel, NULL);
		s->frag = i;
	}
	else if (lg->ndirty > 0)
		relearn_traced(lg, ev, s);
	lg->frags[s->frag].count++;
}

/* Fragments in key order, for a stable document. */
static int
by_key(const void *a, const void *b)
{
	return strcmp(((const trib_lineage_fragment *) a)->key,
				  ((const trib_lineage_fragment *) b)->key);
}

/* See lineage.h. */
void
trib_lineage_checkpoint(trib_lineage *lg, const char *position)
{
	bool		any = false;

	if (lg == NULL)
		return;
	if (lg->changed)
	{
		trib_lineage_fragment *sorted = trib_xcalloc(lg->nfrags + 1, sizeof(*sorted));

		for (size_t i = 0; i < lg->nfrags; i++)
			sorted[i] = lg->frags[i].f;
		qsort(sorted, lg->nfrags, sizeof(*sorted), by_key);
		lw_record(lg->worker, trib_lineage_document(lg->rules_json, sorted, lg->nfrags),
				  lg->fingerprint);
		free(sorted);
		lg->changed = false;
	}
	for (size_t i = 0; i < lg->nfrags; i++)
		if (lg->frags[i].count > 0)
		{
			lw_count(lg->worker, lg->frags[i].f.key, lg->frags[i].count, position);
			lg->frags[i].count = 0;
			any = true;
		}
	if (any)
		lw_kick(lg->worker);
	if (lg->export != NULL)
		lx_kick(lg->export);
}

/* See lineage.h. */
void
trib_lineage_reconfigure(trib_lineage *lg, const trib_config *cfg, trib_rules *rules)
{
	char		e[256];

	if (lg == NULL)
		return;
	lg->cfg = cfg;
	lg->rules = rules;
	if (!trib_lineage_config_fingerprint(cfg->path, lg->fingerprint, e, sizeof(e)))
		tlog_warn("lineage", "%s", e);
	free(lg->rules_json);
	lg->rules_json = trib_lineage_rules_json(cfg);
	/* the rules' numbers change meaning: trace the new ones afresh */
	trib_lineage_trace_free(lg->trace);
	lg->trace = trib_lineage_trace_new();
	lg->ndirty = 0;
	install_traces(lg);
	/* hand over the counts under the old graph, then start again: each
	 * relation is derived anew when its next event comes */
	trib_lineage_checkpoint(lg, NULL);
	for (size_t i = 0; i < lg->nfrags; i++)
		trib_lineage_fragment_clear(&lg->frags[i].f);
	lg->nfrags = 0;
	trib_ptrmap_clear(&lg->rels);
}

/* See lineage.h. */
void
trib_lineage_run_stop(trib_lineage *lg, bool ok)
{
	lw_end		end;

	if (lg == NULL || lg->worker == NULL)
		return;
	trib_lineage_checkpoint(lg, NULL);
	end = lw_stop(lg->worker, ok, 10000);
	lg->worker = NULL;
	if (lg->export != NULL)
		lx_stop(lg->export, 5000, end != LW_END_UNKNOWN);
	lg->export = NULL;
}

/* See lineage.h. */
void
trib_lineage_free(trib_lineage *lg)
{
	lw_end		end = LW_END_UNKNOWN;

	if (lg == NULL)
		return;
	if (lg->worker != NULL)
		end = lw_stop(lg->worker, false, 10000);
	if (lg->export != NULL)
		lx_stop(lg->export, 0, end != LW_END_UNKNOWN);
	for (size_t i = 0; i < lg->nfrags; i++)
		trib_lineage_fragment_clear(&lg->frags[i].f);
	free(lg->frags);
	trib_ptrmap_free(&lg->rels);
	free(lg->rules_json);
	trib_lineage_trace_free(lg->trace);
	free(lg->hooks);
	free(lg);
}
