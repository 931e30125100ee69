/*
 * rules_pool.c: the rules on a batch of events on several threads
 * (rules_pool.h for the design and the order it keeps).
 *
 * Threads.  Each worker sleeps on the pool's condition variable until the
 * batch generation moves on, applies the rules to its slice with its own
 * trib_rules, and counts itself done; the caller does slice 0 meanwhile,
 * then waits for the count.  Slices are contiguous and fixed by the batch
 * size, so which thread masks an event never changes its bytes: the rules
 * allowed here are pure functions of the event (and of keys loaded once).
 *
 * What may run in parallel (trib_rules_pool_parallel()): redact, partial,
 * hash, tokenize, substitute, perturb, generalize, drop, keep, rename,
 * cast, sample, and route by template.  Everything else keeps state across
 * events or shares a handle: quality (unique), aggregate, lookup (its
 * cache and connection), encrypt/decrypt (random nonces, shared cipher
 * state), Lua in any rule (one state for every rule: filter, compute, map,
 * route with lua), flatten, outbox and allow (left as they are), and strict
 * mode (its coverage cache).  One of these in the set and the pipeline
 * applies every rule on its own thread, as before.
 */
#include "rules_pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_common.h"
#include "xalloc.h"

/* One event's result. */
typedef struct pool_result
{
	trib_verdict v;
	bool		reshaped;
	const trib_relation *source_rel;
	char	   *err;			/* FAIL: the message (malloc'd) */
} pool_result;

typedef struct pool_worker
{
	trib_rules_pool *pl;
	int			slot;			/* 1.. (0 is the caller) */
	trib_rules *rs;				/* its own, compiled from the config */
	pthread_t	th;
	bool		started;
} pool_worker;

struct trib_rules_pool
{
	trib_rules *rs;				/* the pipeline's (borrowed) */
	int			participants;
	pool_worker *w;				/* participants - 1 */
	pthread_mutex_t mu;
	pthread_cond_t go;			/* a new batch, or stop */
	pthread_cond_t done;		/* a worker finished its slice */
	unsigned long gen;			/* batch generation */
	int			pending;		/* workers still on this batch */
	bool		stop;
	/* the batch */
	trib_event *const *evs;
	size_t		n;
	pool_result *res;
	size_t		rescap;
	size_t		next;			/* trib_rules_pool_take()'s cursor */
};

/* May rule c run on any thread, in any order (see the file comment)? */
static bool
pure_rule(const trib_rule_conf *c)
{
	switch (c->type)
	{
		case TRIB_RULE_REDACT:
		case TRIB_RULE_PARTIAL:
		case TRIB_RULE_HASH:
		case TRIB_RULE_TOKENIZE:
		case TRIB_RULE_SUBSTITUTE:
		case TRIB_RULE_PERTURB:
		case TRIB_RULE_GENERALIZE:
		case TRIB_RULE_DROP:
		case TRIB_RULE_KEEP:
		case TRIB_RULE_RENAME:
		case TRIB_RULE_CAST:
		case TRIB_RULE_SAMPLE:
			return c->lua == NULL;
		case TRIB_RULE_ROUTE:
			return c->lua == NULL;	/* by template */
		default:
			return false;
	}
}

bool
trib_rules_pool_parallel(const trib_rules *rs, const trib_config *cfg)
{
	if (trib_rules_empty(rs) || cfg->strict || cfg->nrules == 0)
		return false;
	for (size_t i = 0; i < cfg->nrules; i++)
		if (!pure_rule(&cfg->rules[i]))
			return false;
	return true;
}

/* Slice `slot` of n events among `parts`: [*lo, *hi). */
static void
slice_of(size_t n, int parts, int slot, size_t *lo, size_t *hi)
{
	*lo = n * (size_t) slot / (size_t) parts;
	*hi = n * (size_t) (slot + 1) / (size_t) parts;
}

/* Apply rs to the events of one slice; their results. */
static void
run_slice(trib_rules_pool *pl, trib_rules *rs, int slot, int parts)
{
	size_t		lo,
				hi;

	slice_of(pl->n, parts, slot, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
	{
		pool_result *r = &pl->res[i];
		char		e[512] = "";

		r->source_rel = pl->evs[i]->rel;
		r->v = rl_apply(rs, pl->evs[i], &r->reshaped, e, sizeof(e));
		r->err = r->v == TRIB_VERDICT_FAIL ? trib_xstrdup(e) : NULL;
	}
}

/* A worker: wait for a batch, do its slice, report; until stop. */
static void *
worker_main(void *arg)
{
	pool_worker *w = arg;
	trib_rules_pool *pl = w->pl;
	unsigned long seen = 0;

	pthread_mutex_lock(&pl->mu);
	for (;;)
	{
		while (!pl->stop && pl->gen == seen)
			pthread_cond_wait(&pl->go, &pl->mu);
		if (pl->stop)
			break;
		seen = pl->gen;
		pthread_mutex_unlock(&pl->mu);
		run_slice(pl, w->rs, w->slot, pl->participants);
		pthread_mutex_lock(&pl->mu);
		if (--pl->pending == 0)
			pthread_cond_signal(&pl->done);
	}
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

trib_rules_pool *
trib_rules_pool_new(trib_rules *rs, const trib_config *cfg, trib_metrics *metrics,
					int participants, char *errbuf, size_t errlen)
{
	trib_rules_pool *pl;

	if (errlen > 0)
		errbuf[0] = '\0';
	if (participants < 2 || !trib_rules_pool_parallel(rs, cfg))
		return NULL;
	pl = trib_xcalloc(1, sizeof(*pl));
	pl->rs = rs;
	pl->participants = participants;
	pl->w = trib_xcalloc((size_t) participants - 1, sizeof(pool_worker));
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->go, NULL);
	pthread_cond_init(&pl->done, NULL);
	for (int i = 0; i < participants - 1; i++)
	{
		pool_worker *w = &pl->w[i];

		w->pl = pl;
		w->slot = i + 1;
		if ((w->rs = trib_rules_new(cfg, metrics, errbuf, errlen)) == NULL)
			break;
		if (pthread_create(&w->th, NULL, worker_main, w) != 0)
		{
			snprintf(errbuf, errlen, "transforms: cannot start a rules worker thread");
			break;
		}
		w->started = true;
	}
	if (!pl->w[participants - 2].started)
	{
		trib_rules_pool_free(pl);
		return NULL;
	}
	return pl;
}

/* Forget the previous batch's results. */
static void
clear_results(trib_rules_pool *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->res[i].err);
	pl->n = 0;
	pl->next = 0;
}

void
trib_rules_pool_run(trib_rules_pool *pl, trib_event *const *evs, size_t n)
{
	int			parts = n < TRIB_RULES_POOL_MIN_BATCH ? 1 : pl->participants;

	clear_results(pl);
	if (n > pl->rescap)
	{
		pl->rescap = n;
		pl->res = trib_xrealloc(pl->res, n * sizeof(pool_result));
	}
	pl->evs = evs;
	pl->n = n;
	if (parts > 1)
	{
		pthread_mutex_lock(&pl->mu);
		pl->pending = parts - 1;
		pl->gen++;
		pthread_cond_broadcast(&pl->go);
		pthread_mutex_unlock(&pl->mu);
	}
	run_slice(pl, pl->rs, 0, parts);
	if (parts > 1)
	{
		pthread_mutex_lock(&pl->mu);
		while (pl->pending > 0)
			pthread_cond_wait(&pl->done, &pl->mu);
		pthread_mutex_unlock(&pl->mu);
	}
	/* derived relations: the pipeline's rules, one thread, in order */
	for (size_t i = 0; i < n; i++)
		if (pl->res[i].reshaped)
			evs[i]->rel = rl_derive(pl->rs, evs[i]);
}

void
trib_rules_pool_forget(trib_rules_pool *pl)
{
	if (pl != NULL)
		clear_results(pl);
}

bool
trib_rules_pool_take(trib_rules_pool *pl, const trib_event *ev, trib_verdict *v,
					 const trib_relation **source_rel, char *errbuf, size_t errlen)
{
	const pool_result *r;

	if (pl == NULL || pl->next >= pl->n || pl->evs[pl->next] != ev)
		return false;
	r = &pl->res[pl->next++];
	*v = r->v;
	*source_rel = r->source_rel;
	if (r->err != NULL)
		snprintf(errbuf, errlen, "%s", r->err);
	return true;
}

void
trib_rules_pool_free(trib_rules_pool *pl)
{
	if (pl == NULL)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->stop = true;
	pthread_cond_broadcast(&pl->go);
	pthread_mutex_unlock(&pl->mu);
	for (int i = 0; i < pl->participants - 1; i++)
	{
		if (pl->w[i].started)
			pthread_join(pl->w[i].th, NULL);
		trib_rules_free(pl->w[i].rs);
	}
	clear_results(pl);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->go);
	pthread_cond_destroy(&pl->done);
	free(pl->res);
	free(pl->w);
	free(pl);
}
