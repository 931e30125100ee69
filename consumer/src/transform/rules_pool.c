/*
 * rules_pool.c: the rules on a batch of events on several threads,
 * pipelined with the delivery (rules_pool.h for the design and the order
 * it keeps).
 *
 * Chunks.  A batch is cut into chunks of POOL_CHUNK events, claimed in
 * order from one cursor (`claim`) by whoever is free: the workers, woken
 * when the batch is handed over, and the calling thread itself when the
 * event it must deliver next is in a chunk nobody claimed yet.  A chunk is
 * masked by one thread with that thread's own trib_rules; the rules
 * allowed here are pure functions of the event (and of keys loaded once),
 * so which thread masks an event never changes its bytes.
 *
 * No join.  The calling thread does not wait for the batch: it takes each
 * result as it delivers the event (trib_rules_pool_take()), and only when
 * that event's chunk is still being masked by a worker does it wait, after
 * first masking every chunk still unclaimed.  So while a worker masks
 * chunk k+1 the calling thread encodes and produces chunk k, and a worker
 * that is descheduled holds up at most the chunk it holds.  The time the
 * calling thread spends waiting, and how many chunks it and the workers
 * masked, are counted and logged when the pool is freed ("rules pool:
 * ..."), the figures docs/BENCHMARKS.md quotes; the workers are named
 * trib:rulesN for per-thread accounting.  Measured there ("the rules
 * pool, thread by thread"): on two busy cores a worker reaches a core
 * most of a millisecond after a hand-over, so the calling thread masks
 * 40% or more of the chunks, and when it waits the worker is mostly
 * descheduled, not running (a short spin, and workers claiming from the
 * batch's end, were tried and did not help).
 *
 * Quiescence.  Events are borrowed from the source until its next poll,
 * so no worker may touch a batch after trib_rules_pool_forget(): forget
 * cancels the chunks nobody claimed and waits until no worker is inside
 * the batch (`busy`); run and free begin with it.  A reload mid-batch and
 * a stop (SIGTERM) both leave pl_poll_one() through forget.
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
 *
 * For tests only: with TRIBUTARY_TEST_RULES_POOL_DELAY set in the
 * environment, a worker sleeps a random 0 to 2 ms before each chunk it
 * claims, so chunks finish out of order and the calling thread both waits
 * and helps (e2e 107 checks the order the sinks see).
 */
#include "rules_pool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "rules_common.h"
#include "xalloc.h"

/* Events a thread claims at a time: small enough that a descheduled worker
 * holds up little, large enough that the lock is taken rarely (a chunk is
 * about 70 us of the five masking rules of W1). */
#define POOL_CHUNK 16

#define TEST_DELAY_ENV "TRIBUTARY_TEST_RULES_POOL_DELAY"

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
	trib_rules *rs;				/* its own, compiled from the config */
	unsigned int seed;			/* the test delay's */
	pthread_t	th;
	bool		started;
} pool_worker;

struct trib_rules_pool
{
	trib_rules *rs;				/* the pipeline's (borrowed) */
	int			participants;
	pool_worker *w;				/* participants - 1 */
	bool		test_delay;
	pthread_mutex_t mu;			/* guards everything below but res[] */
	pthread_cond_t go;			/* a new batch, or stop */
	pthread_cond_t done;		/* a chunk was masked, or a worker left */
	unsigned long gen;			/* batch generation */
	int			busy;			/* workers inside the batch */
	bool		stop;
	/* the batch */
	trib_event *const *evs;
	size_t		n;
	size_t		nchunks;
	size_t		claim;			/* the next chunk nobody claimed */
	bool	   *chunk_done;
	size_t		ready;			/* chunks [0, ready) known done (caller's) */
	pool_result *res;			/* written by a chunk's thread, read after */
	size_t		rescap;
	size_t		next;			/* trib_rules_pool_take()'s cursor */
	/* what the calling thread waited for (logged at free) */
	unsigned long batches;
	unsigned long waits;
	int64_t		wait_ns;
	unsigned long chunks_own;	/* chunks the calling thread masked */
	unsigned long chunks_workers;	/* chunks the workers masked */
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

/* Apply rs to the events of chunk k; their results.  No lock held. */
static void
run_chunk(trib_rules_pool *pl, trib_rules *rs, size_t k)
{
	size_t		lo = k * POOL_CHUNK;
	size_t		hi = lo + POOL_CHUNK < pl->n ? lo + POOL_CHUNK : pl->n;

	for (size_t i = lo; i < hi; i++)
	{
		pool_result *r = &pl->res[i];
		char		e[512];

		e[0] = '\0';			/* not the whole buffer: it is rarely written */
		r->source_rel = pl->evs[i]->rel;
		r->v = rl_apply(rs, pl->evs[i], &r->reshaped, e, sizeof(e));
		r->err = r->v == TRIB_VERDICT_FAIL ? trib_xstrdup(e) : NULL;
	}
}

/* Claim the next chunk, mask it with rs and mark it done; false when
 * every chunk is claimed.  Called and returns with the lock held. */
static bool
claim_and_run(trib_rules_pool *pl, trib_rules *rs, pool_worker *w)
{
	size_t		k;

	if (pl->claim >= pl->nchunks)
		return false;
	k = pl->claim++;
	pthread_mutex_unlock(&pl->mu);
	if (w != NULL && pl->test_delay)
	{
		struct timespec d = {0, (long) (rand_r(&w->seed) % 2000) * 1000};

		nanosleep(&d, NULL);
	}
	run_chunk(pl, rs, k);
	pthread_mutex_lock(&pl->mu);
	pl->chunk_done[k] = true;
	if (w != NULL)
		pl->chunks_workers++;
	else
		pl->chunks_own++;
	pthread_cond_signal(&pl->done);
	return true;
}

/* A worker: wait for a batch, mask chunks while any is left; until stop. */
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
		pl->busy++;
		while (!pl->stop && claim_and_run(pl, w->rs, w))
			;
		if (--pl->busy == 0)
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
	pl->test_delay = getenv(TEST_DELAY_ENV) != NULL;
	pl->w = trib_xcalloc((size_t) participants - 1, sizeof(pool_worker));
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->go, NULL);
	pthread_cond_init(&pl->done, NULL);
	for (int i = 0; i < participants - 1; i++)
	{
		pool_worker *w = &pl->w[i];

		w->pl = pl;
		w->seed = (unsigned int) (trib_clock_mono_ns() ^ (i + 1));
		if ((w->rs = trib_rules_new(cfg, metrics, errbuf, errlen)) == NULL)
			break;
		if (pthread_create(&w->th, NULL, worker_main, w) != 0)
		{
			snprintf(errbuf, errlen, "transforms: cannot start a rules worker thread");
			break;
		}
		w->started = true;
		/* named so per-thread accounting (/proc/PID/task) tells it apart */
		{
			char		name[16];

			snprintf(name, sizeof(name), "trib:rules%d", (i + 1) % 100);
			pthread_setname_np(w->th, name);
		}
	}
	if (!pl->w[participants - 2].started)
	{
		trib_rules_pool_free(pl);
		return NULL;
	}
	return pl;
}

/* Cancel the chunks nobody claimed, wait until no worker is inside the
 * batch, and forget its results.  Takes the lock. */
static void
quiesce(trib_rules_pool *pl)
{
	pthread_mutex_lock(&pl->mu);
	pl->claim = pl->nchunks;
	while (pl->busy > 0)
		pthread_cond_wait(&pl->done, &pl->mu);
	for (size_t i = 0; i < pl->n; i++)
		if (i < pl->nchunks * POOL_CHUNK && pl->chunk_done[i / POOL_CHUNK])
			free(pl->res[i].err);
	pl->n = 0;
	pl->nchunks = 0;
	pl->claim = 0;
	pl->next = 0;
	pl->ready = 0;
	pthread_mutex_unlock(&pl->mu);
}

/* Room for n results and their chunks. */
static void
reserve(trib_rules_pool *pl, size_t n)
{
	if (n <= pl->rescap)
		return;
	pl->rescap = n;
	pl->res = trib_xrealloc(pl->res, n * sizeof(pool_result));
	pl->chunk_done = trib_xrealloc(pl->chunk_done,
								   (n + POOL_CHUNK - 1) / POOL_CHUNK * sizeof(bool));
}

void
trib_rules_pool_run(trib_rules_pool *pl, trib_event *const *evs, size_t n)
{
	quiesce(pl);
	reserve(pl, n);
	pthread_mutex_lock(&pl->mu);
	pl->evs = evs;
	pl->n = n;
	pl->nchunks = (n + POOL_CHUNK - 1) / POOL_CHUNK;
	memset(pl->chunk_done, 0, pl->nchunks * sizeof(bool));
	if (n >= TRIB_RULES_POOL_MIN_BATCH)
	{
		/* else the calling thread masks each chunk as it gets there */
		pl->gen++;
		pl->batches++;
		pthread_cond_broadcast(&pl->go);
	}
	pthread_mutex_unlock(&pl->mu);
}

void
trib_rules_pool_forget(trib_rules_pool *pl)
{
	if (pl != NULL)
		quiesce(pl);
}

/* Make sure chunk k is masked: mask unclaimed chunks on this thread
 * while it is not, then wait for the worker that holds it. */
static void
await_chunk(trib_rules_pool *pl, size_t k)
{
	pthread_mutex_lock(&pl->mu);
	while (!pl->chunk_done[k])
	{
		int64_t		t0;

		if (claim_and_run(pl, pl->rs, NULL))
			continue;
		t0 = trib_clock_mono_ns();
		pl->waits++;
		while (!pl->chunk_done[k])
			pthread_cond_wait(&pl->done, &pl->mu);
		pl->wait_ns += trib_clock_mono_ns() - t0;
	}
	while (pl->ready < pl->nchunks && pl->chunk_done[pl->ready])
		pl->ready++;
	pthread_mutex_unlock(&pl->mu);
}

bool
trib_rules_pool_take(trib_rules_pool *pl, trib_event *ev, trib_verdict *v,
					 const trib_relation **source_rel, char *errbuf, size_t errlen)
{
	const pool_result *r;

	if (pl == NULL || pl->next >= pl->n || pl->evs[pl->next] != ev)
		return false;
	if (pl->next / POOL_CHUNK >= pl->ready)
		await_chunk(pl, pl->next / POOL_CHUNK);
	r = &pl->res[pl->next++];
	/* derived relations: the pipeline's rules, this thread, in order */
	if (r->reshaped)
		ev->rel = rl_derive(pl->rs, ev);
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
	quiesce(pl);
	if (pl->batches > 0)
		tlog_info("transforms", "rules pool: %lu batches, waited %lu times for %.1f ms (%.1f us a batch); chunks masked: %lu by the pipeline thread, %lu by the workers",
				  pl->batches, pl->waits, (double) pl->wait_ns / 1e6,
				  (double) pl->wait_ns / 1e3 / (double) pl->batches,
				  pl->chunks_own, pl->chunks_workers);
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
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->go);
	pthread_cond_destroy(&pl->done);
	free(pl->res);
	free(pl->chunk_done);
	free(pl->w);
	free(pl);
}
