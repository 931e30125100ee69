/*
 * rules_pool.h: the transform rules on a batch of events, on several
 * threads, with the results handed back in the batch's order.
 *
 * Design.  A rule set whose every rule is a pure function of the event
 * (the masking strategies, drop/keep/rename/cast, sample; the list is
 * trib_rules_pool_parallel() in rules_pool.c and docs/TRANSFORMS.md) may
 * run on events in any order and on any thread: it reads nothing another
 * event wrote.  trib_rules_pool_run() hands a batch to the pool's worker
 * threads and returns at once; each worker masks chunks of the batch with
 * a trib_rules of its own, compiled from the same config (its own FF1 and
 * tokenizer contexts, selection cache and splice buffers; HMAC contexts
 * are per thread in hmac.c).
 *
 * Pipelined, not fork-join.  The pipeline then takes the results event by
 * event, in order (trib_rules_pool_take()), where it would have called
 * trib_rules_apply(), and delivers each (encode, produce) while the
 * workers mask the chunks after it.  When the next event's chunk is not
 * masked yet, the calling thread masks the chunks nobody has claimed
 * with the pipeline's own trib_rules, and waits only for a chunk a worker
 * holds.  Each reshaped event gets its derived relation from the
 * pipeline's trib_rules as it is taken, so derived relations are built
 * once, on one thread, in order, and are the same pointers as without the
 * pool.  Nothing downstream (sinks, acks, checkpoints) sees an event
 * earlier or in another order than without the pool.  An event the batch
 * did not hold is not taken: the caller applies the rules itself, as
 * before.
 *
 * The events are the source's, borrowed until its next poll:
 * trib_rules_pool_forget() (and run, and free) returns only once no
 * worker touches the batch any more.
 *
 * Ownership: the pool borrows the pipeline's trib_rules and the config
 * (both must outlive it) and owns its threads, their trib_rules and the
 * batch's results until the next run, forget or trib_rules_pool_free().
 * One thread calls run, take and forget.
 */
#ifndef TRIB_RULES_POOL_H
#define TRIB_RULES_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "event.h"
#include "metrics.h"
#include "rules.h"

typedef struct trib_rules_pool trib_rules_pool;

/* Participants (the caller and its workers) when the config says nothing:
 * the machines measured have 2 cores (docs/BENCHMARKS.md). */
#define TRIB_RULES_POOL_DEFAULT 2

/* Fewer events than this in a batch are done on the calling thread alone
 * (waking a worker costs more than it saves). */
#define TRIB_RULES_POOL_MIN_BATCH 16

/* May rs's rules run in parallel (all of them pure, no strict mode)? */
bool		trib_rules_pool_parallel(const trib_rules *rs, const trib_config *cfg);

/*
 * A pool of `participants` threads (the caller counts as one) for rs,
 * compiled from cfg.  NULL with an empty errbuf when the rules may not run
 * in parallel or participants < 2; NULL with a message when a worker's
 * rules cannot be compiled or a thread not started.
 */
trib_rules_pool *trib_rules_pool_new(trib_rules *rs, const trib_config *cfg,
									 trib_metrics *metrics, int participants,
									 char *errbuf, size_t errlen);

/* Hand evs[0..n) to the workers, which apply the rules in place; returns
 * at once, the results come with trib_rules_pool_take().  Forgets the
 * previous batch first (trib_rules_pool_forget()). */
void		trib_rules_pool_run(trib_rules_pool *pl, trib_event *const *evs, size_t n);

/*
 * If ev is the batch's next event: waits until it is masked (masking on
 * this thread what no worker took yet), gives it its derived relation if
 * the rules reshaped it; its verdict in *v, the relation it had
 * before the rules in *source_rel, a FAIL's message in errbuf; true.
 * false (nothing set) when ev is not the next one run: apply the rules.
 */
bool		trib_rules_pool_take(trib_rules_pool *pl, trib_event *ev,
								 trib_verdict *v, const trib_relation **source_rel,
								 char *errbuf, size_t errlen);

/* Forget the batch: the chunks nobody claimed are not masked, and no
 * worker touches its events once this returns; NULL is fine. */
void		trib_rules_pool_forget(trib_rules_pool *pl);

/* Stop the workers and free everything (NULL is fine). */
void		trib_rules_pool_free(trib_rules_pool *pl);

#endif							/* TRIB_RULES_POOL_H */
