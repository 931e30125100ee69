/*
 * pipeline_open.c: the pipeline's start: the pipeline lock, the checkpoint
 * store and the sinks, where each source resumes, and starting them.
 *
 * Leadership.  Standbys of one pipeline share a lock (the first source's
 * own when it has one, as MySQL's GET_LOCK; else a PostgreSQL advisory
 * lock, leader_pg.h).  A standby retries every LEADER_RETRY_MS; one that
 * takes the lock over waits LEADER_TAKEOVER_MS before it opens its sinks,
 * by when the old leader has seen its loss and stopped, even with a
 * fenced source (PostgreSQL's slot fences the source, not the sinks: the
 * old leader could still flush a batch into a file the new one had
 * already opened).  So does any acquisition, even of a free lock, by a
 * process that once saw the lock held by another or lost it (the
 * consumer that took it from us may have lost it a moment ago and still
 * write), except right after this process released that same lock
 * cleanly itself (a reload: the pipeline is built again in the same
 * process, under the same name, which a reload cannot change; the old
 * session may still show the lock held for a moment, which is retried
 * rather than waited on as a standby).  That history is the process's
 * (pl_lock_history), the decisions pure functions (test_leader_history).
 * A consumer that lost the lock is built again after LEADER_YIELD_MS at
 * the soonest (trib_pipeline_restart_backoff), so that a standby takes
 * it.  pl_still_leader() is the leader's check, at least
 * every LEADER_CHECK_MS and before a batch read after a longer wait is
 * delivered (pl_poll_one); without the lock, the sinks drop what they
 * buffer at close (trib_sink.discard).
 *
 * Resume point.  After the checkpoint store and the sinks are open, each
 * sink's own stored position (durable_position()) or else the checkpoint
 * says what that sink already has (its skip); the source resumes after the
 * oldest of them, and the pipeline skips per sink what it already has
 * (pipeline.c's file comment, "Start-up and exactly-once").  With several
 * sources the same is done per source, on the merged positions (merge.h).
 */
#include "pipeline_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "leader_pg.h"
#include "log.h"
#include "sinks.h"

/* See pipeline_int.h. */
pl_lock_history *
pl_process_lock_history(void)
{
	static pl_lock_history history;

	return &history;
}

/* See pipeline_int.h. */
void
pl_lock_saw_held(pl_lock_history *h)
{
	h->contended = true;
}

/* See pipeline_int.h. */
void
pl_lock_lost(pl_lock_history *h)
{
	h->contended = true;
	h->released_at = 0;
}

/* See pipeline_int.h. */
void
pl_lock_released(pl_lock_history *h, const char *pipeline, long long now)
{
	h->released_at = now;
	snprintf(h->released, sizeof(h->released), "%s", pipeline);
}

/* See pipeline_int.h. */
void
pl_lock_for(pl_lock_history *h, const char *pipeline)
{
	if (strcmp(h->released, pipeline) != 0)
		h->released_at = 0;
}

/* See pipeline_int.h. */
bool
pl_lock_just_released(const pl_lock_history *h, long long now)
{
	return h->released_at > 0 && now - h->released_at < LEADER_REBUILT_MS;
}

/* See pipeline_int.h. */
bool
pl_lock_takeover_waits(const pl_lock_history *h, bool held_by_other, long long now)
{
	if (held_by_other)
		return true;
	/* we held it until released_at: whoever took it since saw it held and
	 * waits LEADER_TAKEOVER_MS (> LEADER_REBUILT_MS) before writing */
	return h->contended && !pl_lock_just_released(h, now);
}

/* Sleep ms milliseconds, in steps, until *stop. */
static void
pause_ms(int ms, volatile sig_atomic_t *stop)
{
	struct timespec step = {0, 50 * 1000000L};

	for (int t = 0; t < ms && !*stop; t += 50)
		nanosleep(&step, NULL);
}

/* The pipeline lock: the first source's own (MySQL's GET_LOCK) when it
 * offers one, else the PostgreSQL advisory lock in its lock_dsn. */
static trib_leader *
pipeline_lock(trib_pipeline *p)
{
	const pl_src_slot *ss = &p->srcs[0];
	trib_leader *l = NULL;

	if (ss->src.ops->leader != NULL)
		l = ss->src.ops->leader(ss->conf, p->cfg->pipeline);
	p->login_hint = l ? ss->src.ops->login_hint : NULL;
	return l ? l : trib_leader_pg_new(ss->src.lock_dsn, p->cfg->pipeline);
}

/*
 * Take the pipeline lock.  While another consumer holds it, wait as a
 * standby, trying every LEADER_RETRY_MS.  While the lock's server cannot
 * be reached (down, restarting, a wrong host or port), say why each time
 * and try again after the source's reconnect backoff.  When it refuses the
 * connection for good (role, password, database: pgconn.h), fail at once
 * with p->refused set.  A standby that took the lock over waits
 * LEADER_TAKEOVER_MS, fenced sources (source.h) or not: the old leader may
 * not have noticed its loss yet; so does a contended process
 * (pl_lock_takeover_waits).  Just after this process released the lock
 * (a reload), a lock that shows held is tried again every
 * LEADER_REBUILT_RETRY_MS: our old session may not have ended yet.  false
 * with errbuf empty when stopped.
 */
static bool
become_leader(trib_pipeline *p, volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	const trib_source *src = &p->srcs[0].src;	/* the first source's lock */
	pl_lock_history *h = pl_process_lock_history();
	int			delay = src->backoff_initial_ms;
	bool		standby = false;
	bool		held_by_other = false;	/* since we started trying */

	p->fenced = true;
	for (size_t i = 0; i < p->nsrcs; i++)
		p->fenced = p->fenced && p->srcs[i].src.fenced;
	p->leader = pipeline_lock(p);
	pl_lock_for(h, p->cfg->pipeline);
	while (!*stop)
	{
		int			rc = trib_leader_try(p->leader, errbuf, errlen);

		if (rc == 1)
		{
			p->last_leader_check = trib_clock_mono_ms();
			/* fenced or not: the slot keeps the old leader's source
			 * from ours, not its sinks from ours (it may still flush or
			 * close a batch, and our sinks read their positions now) */
			if (!pl_lock_takeover_waits(h, held_by_other, p->last_leader_check))
				return (p->led = true);
			tlog_info("pipeline", "took the pipeline lock (%s) over; waiting %d ms for the "
					  "previous consumer to stop writing", trib_leader_kind(p->leader),
					  LEADER_TAKEOVER_MS);
			pause_ms(LEADER_TAKEOVER_MS, stop);
			if (*stop)
				break;
			/* still ours after the wait? */
			if (!trib_leader_check(p->leader, errbuf, errlen))
			{
				pl_lock_lost(h);
				p->lock_lost = p->retriable = true;	/* yield (restart_backoff) */
				return false;
			}
			/* led only now: stopped during the wait, the lock was never
			 * ours to release cleanly (trib_pipeline_free) */
			return (p->led = true);
		}
		if (rc == -2)
		{
			p->refused = true;
			return false;
		}
		if (rc == 0 && !standby && pl_lock_just_released(h, trib_clock_mono_ms()))
		{
			/* most likely our own old session, not ended yet */
			pause_ms(LEADER_REBUILT_RETRY_MS, stop);
			continue;
		}
		if (rc == 0)
		{
			pl_lock_saw_held(h);
			if (!standby)
				tlog_info("pipeline", "another consumer runs pipeline %s (%s); waiting as standby",
						  p->cfg->pipeline, trib_leader_kind(p->leader));
			standby = held_by_other = true;
			snprintf(p->state, sizeof(p->state), "standby");
			delay = src->backoff_initial_ms;
			pause_ms(LEADER_RETRY_MS, stop);
			continue;
		}
		standby = false;
		snprintf(p->state, sizeof(p->state), "connecting");
		tlog_warn("pipeline", "source %s: %s; trying again in %d ms", src->name,
				  errbuf, delay);
		pause_ms(delay, stop);
		delay = delay > src->backoff_max_ms / 2 ? src->backoff_max_ms : delay * 2;
	}
	errbuf[0] = '\0';
	return false;
}

/*
 * Do we still hold the pipeline lock?  The server is asked `now`, else
 * once LEADER_CHECK_MS have passed since the last time.  Callers ask now
 * before anything is committed when the upstream is not fenced, so that
 * no other consumer's writes interleave with ours.  false (errbuf filled,
 * p->lock_lost set) when lost.
 */
bool
pl_still_leader(trib_pipeline *p, bool now, char *errbuf, size_t errlen)
{
	if (!now && trib_clock_mono_ms() - p->last_leader_check < LEADER_CHECK_MS)
		return true;
	p->last_leader_check = trib_clock_mono_ms();
	if (trib_leader_check(p->leader, errbuf, errlen))
		return true;
	tlog_error("pipeline", "lost the pipeline lock; stopping without writing more: %s", errbuf);
	pl_lock_lost(pl_process_lock_history());
	p->lock_lost = true;
	p->retriable = true;
	return false;
}

/*
 * Open each source's checkpoint store: keyed by pipeline and source in the
 * catalog; in the file store, the configured path, or with several
 * sources path.NAME for each.
 */
static bool
open_checkpoints(trib_pipeline *p, char *errbuf, size_t errlen)
{
	const trib_checkpoint_conf *cc = &p->cfg->checkpoint;
	char		exposed[512];

	for (size_t i = 0; i < p->nsrcs; i++)
	{
		pl_src_slot *ss = &p->srcs[i];
		char	   *path = NULL;

		if (cc->store == TRIB_CHECKPOINT_FILE && p->merge != NULL)
		{
			path = trib_xmalloc(strlen(cc->path) + strlen(ss->src.name) + 2);
			sprintf(path, "%s.%s", cc->path, ss->src.name);
		}
		ss->ckpt = trib_checkpoint_open(cc->store == TRIB_CHECKPOINT_FILE ? TRIB_CKPT_FILE : TRIB_CKPT_CATALOG,
										cc->store == TRIB_CHECKPOINT_FILE ?
										(path ? path : cc->path) : cc->dsn,
										p->cfg->pipeline, ss->src.name, ss->src.ops,
										errbuf, errlen);
		free(path);
		if (ss->ckpt == NULL)
		{
			/* the catalog's database is down or restarting: try again later */
			p->retriable = cc->store == TRIB_CHECKPOINT_CATALOG;
			return false;
		}
		if (!trib_checkpoint_key_from_conf(ss->ckpt, cc, errbuf, errlen))
			return false;
	}
	p->ckpt = p->srcs[0].ckpt;
	if (trib_checkpoint_key_exposed(p->cfg, exposed, sizeof(exposed)))
		tlog_warn("pipeline", "%s (docs/OPERATIONS.md, Sealed checkpoints)", exposed);
	return true;
}

/*
 * Several sources: what the sink already has of each, from the merged
 * position it stored (its opaque names every source's, merge.h).
 */
static bool
sink_source_skips(trib_pipeline *p, pl_sink_slot *s, const char *opaque,
				  char *errbuf, size_t errlen)
{
	char		e[512];

	s->has_cskip = trib_xcalloc(p->nsrcs, sizeof(bool));
	s->cskip = trib_xcalloc(p->nsrcs, sizeof(trib_position));
	for (size_t c = 0; c < p->nsrcs; c++)
	{
		int			r = trib_merge_source_pos(opaque, p->srcs[c].src.name, p->srcs[c].src.ops,
											  &s->cskip[c], e, sizeof(e));

		if (r < 0)
		{
			snprintf(errbuf, errlen, "sink %s: %s", s->sink.name, e);
			return false;
		}
		s->has_cskip[c] = r > 0;
	}
	return true;
}

/* Take the lock, then open the checkpoint store and the sinks. */
static bool
open_all(trib_pipeline *p, volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	size_t		i;

	if (!become_leader(p, stop, errbuf, errlen))
		return false;
	tlog_info("pipeline", "pipeline %s is active", p->cfg->pipeline);

	if (!open_checkpoints(p, errbuf, errlen))
		return false;

	for (i = 0; i < p->nsinks; i++)
	{
		pl_sink_slot *s = &p->sinks[i];

		if (!trib_sinks_open(&s->sink, &p->cfg->sinks[i], p->cfg, errbuf, errlen))
		{
			pl_note_sink_failure(p, s);
			return false;
		}
		s->opened = true;
		if (s->sink.ops->durable_position)
		{
			char		e[512] = "";

			if (s->sink.ops->durable_position(&s->sink, &s->skip, e, sizeof(e)))
			{
				s->has_skip = true;
				if (p->merge != NULL &&
					!sink_source_skips(p, s, s->skip.opaque, errbuf, errlen))
					return false;
				if (p->merge == NULL && trib_merge_is_merged(s->skip.opaque))
				{
					snprintf(errbuf, errlen, "sink %s: its stored position was written by a "
							 "pipeline with several sources, which does not say where "
							 "source %s alone is: run it as a new pipeline into new sink "
							 "targets (or remove the sink's stored position and its data)",
							 s->sink.name, p->srcs[0].src.name);
					return false;
				}
				free(s->skip_opaque);
				s->skip_opaque = p->merge == NULL ? kept_opaque(p, 0, s->skip.opaque) : NULL;
				s->skip.opaque = NULL;	/* the sink's */
			}
			else if (e[0])
			{
				snprintf(errbuf, errlen, "sink %s: %s", s->sink.name, e);
				pl_note_sink_failure(p, s);
				return false;
			}
		}
	}
	return true;
}

/*
 * Where to resume: the oldest position any sink still needs.  A sink with
 * its own durable position needs what follows it; the others need what
 * follows the checkpoint.  Unknown for one: resume from the slot.
 */
static bool
resume_point(trib_pipeline *p, bool *has, trib_position *out, char *errbuf, size_t errlen)
{
	trib_position ck;
	int			r = trib_checkpoint_load(p->ckpt, &ck, errbuf, errlen);
	bool		have = false;
	size_t		i;
	char	   *ck_opaque = NULL;
	const char *out_opaque = NULL;

	if (r < 0)
		return false;
	if (r > 0)
	{
		/* snapshot progress (the source's snapshot reads it), or what a
		 * resume_opaque source resumes by */
		ck_opaque = kept_opaque(p, 0, ck.opaque);
		free(ck.opaque);
		ck.opaque = NULL;
		p->saved = ck;
		p->has_saved = true;
	}
	for (i = 0; i < p->nsinks; i++)
	{
		pl_sink_slot *s = &p->sinks[i];
		const trib_position *need;

		if (!s->has_skip && r > 0)
		{
			/* the checkpoint speaks for this sink */
			s->skip = ck;
			free(s->skip_opaque);
			s->skip_opaque = ck_opaque ? trib_xstrdup(ck_opaque) : NULL;
			s->has_skip = true;
		}
		if (!s->has_skip)
		{
			free(ck_opaque);
			return (*has = false, true);
		}
		need = &s->skip;
		if (!have || pos_cmp(p, need, out) < 0)
		{
			*out = *need;
			out_opaque = s->skip_opaque;
			have = true;
		}
	}
	out->opaque = out_opaque ? trib_xstrdup(out_opaque) : NULL;
	free(ck_opaque);
	*has = have;
	return true;
}

/* Several sources: sink s's per-source positions, allocated. */
static void
sink_cskip_alloc(const trib_pipeline *p, pl_sink_slot *s)
{
	if (s->has_cskip != NULL)
		return;
	s->has_cskip = trib_xcalloc(p->nsrcs, sizeof(bool));
	s->cskip = trib_xcalloc(p->nsrcs, sizeof(trib_position));
}

/*
 * Several sources: where each resumes, by the rule of resume_point applied
 * to each: the oldest position of that source any sink still needs.  A
 * sink that stored a merged position needs what follows that source's
 * position in it (everything, when it names none); for the others the
 * source's checkpoint stands in.  Groups are then numbered above every
 * merged position a sink stored.
 */
static bool
resume_sources(trib_pipeline *p, char *errbuf, size_t errlen)
{
	uint64_t	next = 1;
	size_t		i;

	for (i = 0; i < p->nsinks; i++)
		if (p->sinks[i].has_skip && p->sinks[i].skip.commit_lsn >= next)
			next = p->sinks[i].skip.commit_lsn + 1;
	trib_merge_set_next(p->merge, next);
	for (size_t c = 0; c < p->nsrcs; c++)
	{
		pl_src_slot *ss = &p->srcs[c];
		trib_position ck;
		int			r = trib_checkpoint_load(ss->ckpt, &ck, errbuf, errlen);
		bool		unknown = false;

		if (r < 0)
			return false;
		if (r > 0)
		{
			/* what a resume_opaque source resumes by */
			char	   *o = kept_opaque(p, c, ck.opaque);

			free(ck.opaque);
			ck.opaque = o;
			ss->saved = ck;
			ss->saved.opaque = NULL;
			ss->has_saved = true;
		}
		for (i = 0; i < p->nsinks; i++)
		{
			pl_sink_slot *s = &p->sinks[i];

			sink_cskip_alloc(p, s);
			if (!s->has_skip && r > 0)
			{
				/* the checkpoint speaks for this sink */
				free(s->cskip[c].opaque);
				s->cskip[c] = ck;
				s->cskip[c].opaque = ck.opaque ? trib_xstrdup(ck.opaque) : NULL;
				s->has_cskip[c] = true;
			}
			if (!s->has_cskip[c])
			{
				unknown = true;
				continue;
			}
			if (!ss->has_resume || ss->src.ops->compare(&s->cskip[c], &ss->resume) < 0)
			{
				free(ss->resume.opaque);
				ss->resume = s->cskip[c];
				ss->resume.opaque = s->cskip[c].opaque ? trib_xstrdup(s->cskip[c].opaque)
					: NULL;
			}
			ss->has_resume = true;
		}
		if (r > 0)
			free(ck.opaque);
		if (unknown)
			ss->has_resume = false;
		if (ss->has_resume)
			trib_merge_seed(p->merge, c, &ss->resume);
		/* the sinks that have more of it than where it resumes */
		for (i = 0; i < p->nsinks; i++)
			if (p->sinks[i].has_cskip[c] &&
				(!ss->has_resume ||
				 ss->src.ops->compare(&p->sinks[i].cskip[c], &ss->resume) > 0))
				p->sinks[i].ncskip++;
			else
				p->sinks[i].has_cskip[c] = false;
	}
	return true;
}

/* Several sources: say where each resumes. */
static void
log_resume_sources(const trib_pipeline *p)
{
	char		where[TRIB_EVENTID_LEN + 64];

	for (size_t c = 0; c < p->nsrcs; c++)
	{
		const pl_src_slot *ss = &p->srcs[c];

		if (!ss->has_resume)
		{
			tlog_info("pipeline", "source %s: starting from %s", ss->src.name,
					  trib_source_origin(ss->src.ops));
			continue;
		}
		pl_describe_pos(ss->src.ops, &ss->resume, where, sizeof(where));
		tlog_info("pipeline", "source %s: resuming after %s", ss->src.name, where);
	}
}

/* See pipeline.h. */
int
trib_pipeline_open(trib_pipeline *p, volatile sig_atomic_t *stop,
				   char *errbuf, size_t errlen)
{
	char		where[TRIB_EVENTID_LEN + 64];

	errbuf[0] = '\0';
	if (!pl_start_http(p, errbuf, errlen))
		return -1;
	if (!open_all(p, stop, errbuf, errlen))
		return *stop && errbuf[0] == '\0' ? 0 : -1;
	if (!trib_pause_open(p->pause, errbuf, errlen))
		return (p->retriable = p->cfg->checkpoint.store == TRIB_CHECKPOINT_CATALOG &&
				!trib_pause_unreadable(p->pause), -1);
	trib_lineage_run_start(p->lineage);	/* the leader's run, not a standby's */
	if (p->merge != NULL)
		return resume_sources(p, errbuf, errlen) ? (log_resume_sources(p), 1) : -1;
	if (!resume_point(p, &p->has_resume, &p->resume, errbuf, errlen))
		return -1;
	if (p->has_resume)
	{
		pl_describe_pos(p->pops, &p->resume, where, sizeof(where));
		tlog_info("pipeline", "resuming after %s", where);
	}
	else
		tlog_info("pipeline", "starting from %s", trib_source_origin(p->pops));
	return 1;
}

/* Start every source after its resume point. */
bool
pl_start_sources(trib_pipeline *p, char *errbuf, size_t errlen)
{
	char		e[2048];

	if (p->merge == NULL)
		return p->srcs[0].src.ops->start(&p->srcs[0].src, p->has_resume ? &p->resume : NULL,
										 errbuf, errlen);
	for (size_t c = 0; c < p->nsrcs; c++)
	{
		pl_src_slot *ss = &p->srcs[c];

		if (!ss->src.ops->start(&ss->src, ss->has_resume ? &ss->resume : NULL, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "source %s: %s", ss->src.name, e);
			return false;
		}
	}
	return true;
}
