/*
 * pipeline_host.c: the services the pipeline gives a source's snapshot
 * (trib_source_host, source.h): transform and write one event, a table is
 * copied, flush and poll the sinks, their durable position, the highest
 * position any sink stores, the sinks' rewind for a resumed snapshot,
 * load and save the checkpoint (load takes a sink's snapshot progress when
 * it is ahead: host_load), hand a snapshot's progress to the sinks that
 * keep it with their data (host_mark), the state for /status, the registered
 * relation of an event, and the leader check.
 *
 * With one source they are the pipeline's own (pl_init_host()).  With several,
 * each source gets services of its own around them (init_src_hosts()),
 * which translate between its positions and the merged ones (merge.h);
 * they have no rewind (a sink holds merged positions there), so a resumed
 * snapshot of one of several sources leaves the sinks' extra rows in place.
 */
#include "pipeline_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* ---- services to the source's snapshot (source.h) ---------------------- */

/* The key of schema.table in snap_reached (buf: at least 2 bytes). */
static size_t
table_key(const char *schema, const char *table, char *buf, size_t len)
{
	int			n = snprintf(buf, len, "%s%c%s", schema ? schema : "", '\0', table ? table : "");

	return n < 0 ? 0 : (size_t) n < len ? (size_t) n : len - 1;
}

/* Transform and write one snapshot event of source c (at merged position
 * mp with several sources, else NULL); remember its table when it reached
 * the sinks. */
static bool
snapshot_deliver(trib_pipeline *p, size_t c, trib_event *ev, const trib_position *mp,
				 char *errbuf, size_t errlen)
{
	const char *schema = ev->schema,
			   *table = ev->table;
	trib_position pos = mp ? *mp : ev->pos;
	char		key[512];

	if (!pl_deliver(p, ev, c, mp, errbuf, errlen))
		return false;
	if (p->has_written && pos_cmp(p, &p->written, &pos) == 0)
	{
		if (p->snap_reached == NULL)
			p->snap_reached = trib_intern_new();
		*trib_intern_value(p->snap_reached, key, table_key(schema, table, key, sizeof(key))) = p;
	}
	return true;
}

/* trib_source_host: transform and write one event. */
static bool
host_deliver(void *arg, trib_event *ev, char *errbuf, size_t errlen)
{
	return snapshot_deliver(arg, 0, ev, NULL, errbuf, errlen);
}

/* A table of source c is copied: have the sinks create its target when
 * the rules let its shape be known without a row. */
static bool
table_copied(trib_pipeline *p, size_t c, const trib_relation *rel, char *errbuf, size_t errlen)
{
	const trib_relation *target = trib_rules_target(p->rules, p->srcs[c].src.name, rel);
	char		key[512],
				e[512];
	size_t		i;

	if (target == NULL)
	{
		size_t		n = table_key(rel->schema, rel->table, key, sizeof(key));

		if (p->snap_reached == NULL || trib_intern_find(p->snap_reached, key, n) == NULL)
			tlog_info("snapshot", "table %s.%s: no row of it reached the sinks, and a transform "
					  "rule that selects it (route, flatten, outbox or map) makes its shape "
					  "depend on the rows: its target table was not created",
					  rel->schema ? rel->schema : "", rel->table ? rel->table : "");
		return true;
	}
	for (i = 0; i < p->nsinks; i++)
	{
		pl_sink_slot *s = &p->sinks[i];

		if (s->dead_letter || s->quarantine || s->sink.ops->prepare_table == NULL)
			continue;
		if (!s->sink.ops->prepare_table(&s->sink, target, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "sink %s: %s", s->sink.name, e);
			pl_note_sink_failure(p, s);
			return false;
		}
	}
	return true;
}

/* trib_source_host: a table is copied (table_copied). */
static bool
host_table_copied(void *arg, const trib_relation *rel, char *errbuf, size_t errlen)
{
	return table_copied(arg, 0, rel, errbuf, errlen);
}

/* trib_source_host: a batch of events ends. */
static void
host_batch_end(void *arg)
{
	trib_pipeline *p = arg;

	trib_rules_batch_end(p->rules);
}

/* trib_source_host: flush the sinks, then serve their callbacks. */
static bool
host_flush(void *arg, int timeout_ms, char *errbuf, size_t errlen)
{
	if (!pl_flush_sinks(arg, timeout_ms, errbuf, errlen))
		return false;
	return pl_poll_sinks(arg, 0, errbuf, errlen);
}

/* trib_source_host: serve the sinks' callbacks. */
static bool
host_poll(void *arg, int timeout_ms, char *errbuf, size_t errlen)
{
	return pl_poll_sinks(arg, timeout_ms, errbuf, errlen);
}

/* trib_source_host: the minimum over the sinks of their durable position. */
static bool
host_durable(void *arg, trib_position *out)
{
	return pl_durable_position(arg, out);
}

/* trib_source_host: the highest position any sink stores or the
 * checkpoint holds. */
static bool
host_stored_max(void *arg, trib_position *out)
{
	trib_pipeline *p = arg;
	bool		have = false;
	size_t		i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->nsinks; i++)
		if (p->sinks[i].has_skip && (!have || pos_cmp(p, &p->sinks[i].skip, out) > 0))
		{
			*out = p->sinks[i].skip;
			have = true;
		}
	if (p->has_saved && (!have || pos_cmp(p, &p->saved, out) > 0))
	{
		*out = p->saved;
		have = true;
	}
	out->opaque = NULL;
	return have;
}

/* Lower a position the pipeline keeps of a sink to `to` when it is after
 * it at the same commit_lsn. */
static void
lower_to(trib_pipeline *p, bool have, trib_position *kept, const trib_position *to)
{
	if (have && kept->commit_lsn == to->commit_lsn && pos_cmp(p, kept, to) > 0)
		kept->seq = to->seq;
}

/* trib_source_host: a resumed snapshot's checkpoint counts the events up
 * to `to`: the sinks that can drop what they hold after it do so, and the
 * pipeline's view of what they hold follows. */
static bool
host_rewind(void *arg, const trib_position *to, char *errbuf, size_t errlen)
{
	trib_pipeline *p = arg;
	char		e[512];

	for (size_t i = 0; i < p->nsinks; i++)
	{
		pl_sink_slot *s = &p->sinks[i];

		if (s->sink.ops->rewind == NULL)
			continue;
		if (!s->sink.ops->rewind(&s->sink, to, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "sink %s: %s", s->sink.name, e);
			pl_note_sink_failure(p, s);
			return false;
		}
		lower_to(p, s->has_skip, &s->skip, to);
		lower_to(p, s->has_acked, &s->acked, to);
	}
	return true;
}

/*
 * The snapshot progress sink `from` stored with its data (sink.h
 * snapshot_saved), when every sink holds the events it counts (a sink
 * without a stored position of its own holds what the checkpoint says,
 * which is then behind it): its text and the last event it counts, else
 * NULL.
 */
static const char *
sink_progress(trib_pipeline *p, pl_sink_slot *from, trib_position *counted)
{
	const char *json;

	if (from->sink.ops->snapshot_saved == NULL ||
		(json = from->sink.ops->snapshot_saved(&from->sink, counted)) == NULL)
		return NULL;
	for (size_t i = 0; i < p->nsinks; i++)
		if (!p->sinks[i].has_skip || pos_cmp(p, &p->sinks[i].skip, counted) < 0)
			return NULL;
	return json;
}

/*
 * trib_source_host: load the checkpoint, or the snapshot progress a sink
 * stored with its data past it.  A transactional Kafka sink commits a
 * snapshot's rows with the progress that counts them (sink.h
 * snapshot_mark); a kill between that commit and the checkpoint's save
 * leaves the sink ahead, and resuming from the checkpoint would send those
 * rows to it again.  The sink's progress is taken only when every sink
 * holds what it counts, so that a sink that can rewind is cut back to it
 * (trib_snapfeed_rewind) and none misses a row.
 */
static int
host_load(void *arg, trib_position *out, char *errbuf, size_t errlen)
{
	trib_pipeline *p = arg;
	int			r = trib_checkpoint_load(p->ckpt, out, errbuf, errlen);

	for (size_t i = 0; r > 0 && i < p->nsinks; i++)
	{
		trib_position counted;
		const char *json = sink_progress(p, &p->sinks[i], &counted);
		char		a[TRIB_EVENTID_LEN],
					b[TRIB_EVENTID_LEN];

		if (json == NULL || pos_cmp(p, &counted, out) <= 0)
			continue;
		p->pops->format_id(&counted, a, sizeof(a));
		p->pops->format_id(out, b, sizeof(b));
		tlog_info("snapshot", "sink %s committed the progress of the copy up to %s with its rows, "
				  "after the checkpoint's %s: resuming from it", p->sinks[i].sink.name, a, b);
		free(out->opaque);
		*out = counted;
		out->opaque = trib_xstrdup(json);
	}
	return r;
}

/* trib_source_host: hand a snapshot's progress to the sinks that keep it
 * with their data (sink.h snapshot_mark); whether any does. */
static bool
host_mark(void *arg, const trib_position *at, const trib_position *counted, const char *json)
{
	trib_pipeline *p = arg;
	bool		kept = false;

	for (size_t i = 0; i < p->nsinks; i++)
	{
		pl_sink_slot *s = &p->sinks[i];

		if (s->sink.ops->snapshot_mark != NULL &&
			s->sink.ops->snapshot_mark(&s->sink, at, counted, json))
			kept = true;
	}
	return kept;
}

/* trib_source_host: save the checkpoint and count it as saved. */
static bool
host_save(void *arg, const trib_position *pos, char *errbuf, size_t errlen)
{
	trib_pipeline *p = arg;

	if (!pl_collect_saved(p, true, errbuf, errlen) ||	/* the writer idle */
		!trib_checkpoint_save(p->ckpt, pos, errbuf, errlen))
		return false;
	p->saved = *pos;
	p->saved.opaque = NULL;
	p->has_saved = true;
	p->last_ckpt_ms = trib_clock_mono_ms();
	return true;
}

/* trib_source_host: the state /status reports. */
static void
host_set_state(void *arg, const char *state)
{
	trib_pipeline_set_state(arg, state);
}

/* trib_source_host: the relation of ev's subject's latest version. */
static int
host_registered(void *arg, const trib_event *ev, trib_relation **out, char *errbuf,
				size_t errlen)
{
	trib_pipeline *p = arg;

	*out = NULL;
	errbuf[0] = '\0';
	return p->schemas ? trib_schema_stage_registered(p->schemas, ev, out, errbuf, errlen) : 0;
}

static int
src_host_registered(void *arg, const trib_event *ev, trib_relation **out, char *errbuf,
					size_t errlen)
{
	return host_registered(((pl_src_host *) arg)->p, ev, out, errbuf, errlen);
}

/* trib_source_host: a new shape at a source's position (source.h). */
static bool
host_declare(void *arg, const trib_event *ev, char *errbuf, size_t errlen)
{
	return trib_schema_stage_declare(((trib_pipeline *) arg)->schemas, ev, errbuf, errlen);
}

static bool
src_host_declare(void *arg, const trib_event *ev, char *errbuf, size_t errlen)
{
	return host_declare(((pl_src_host *) arg)->p, ev, errbuf, errlen);
}

/* trib_source_host: do we still hold the pipeline lock? */
static bool
host_leader_ok(void *arg, char *errbuf, size_t errlen)
{
	trib_pipeline *p = arg;

	return pl_still_leader(p, true, errbuf, errlen);
}

/*
 * Several sources: each source's snapshot services (merge.h).  Its events
 * get merged positions, one group each, so that no group stays open into
 * streaming; while it copies, no other source delivers, so its n-th event
 * after the first delivered has group m0 + n and its own position's seq
 * first.seq + n, which is how durable() answers in the source's positions.
 * load and save are the source's own checkpoint; stored_max is the
 * highest position of that source a sink or its checkpoint holds.
 */
/* trib_source_host (several sources): write one event under a group of
 * its own. */
static bool
src_host_deliver(void *arg, trib_event *ev, char *errbuf, size_t errlen)
{
	pl_src_host *h = arg;
	trib_position mp,
				end,
				own = ev->pos;
	bool		ok;

	trib_merge_event(h->p->merge, h->c, &own, &mp);
	if (!h->started)
	{
		h->started = true;
		h->m0 = mp.commit_lsn;
		h->first = own;
		h->first.opaque = NULL;
	}
	ok = snapshot_deliver(h->p, h->c, ev, &mp, errbuf, errlen);
	free(mp.opaque);
	trib_merge_end(h->p->merge, h->c, &own, &end);
	return ok;
}

/* trib_source_host (several sources): the sinks' durable position as the
 * source's (see above). */
static bool
src_host_durable(void *arg, trib_position *out)
{
	pl_src_host *h = arg;
	trib_position d;

	if (!h->started || !pl_durable_position(h->p, &d) || d.commit_lsn < h->m0)
		return false;
	*out = h->first;
	out->seq = h->first.seq + (d.commit_lsn - h->m0);
	return true;
}

/* trib_source_host (several sources): see above. */
static bool
src_host_stored_max(void *arg, trib_position *out)
{
	pl_src_host *h = arg;
	pl_src_slot *ss = &h->p->srcs[h->c];
	const trib_source_ops *ops = ss->src.ops;
	bool		have = false;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < h->p->nsinks; i++)
	{
		pl_sink_slot *s = &h->p->sinks[i];

		if (s->has_cskip && s->has_cskip[h->c] &&
			(!have || ops->compare(&s->cskip[h->c], out) > 0))
			*out = s->cskip[h->c], have = true;
	}
	if (ss->has_resume && (!have || ops->compare(&ss->resume, out) > 0))
		*out = ss->resume, have = true;
	if (ss->has_saved && (!have || ops->compare(&ss->saved, out) > 0))
		*out = ss->saved, have = true;
	out->opaque = NULL;
	return have;
}

/* trib_source_host (several sources): the source's checkpoint. */
static int
src_host_load(void *arg, trib_position *out, char *errbuf, size_t errlen)
{
	pl_src_host *h = arg;

	return trib_checkpoint_load(h->p->srcs[h->c].ckpt, out, errbuf, errlen);
}

/* trib_source_host (several sources): save the source's checkpoint. */
static bool
src_host_save(void *arg, const trib_position *pos, char *errbuf, size_t errlen)
{
	pl_src_host *h = arg;
	pl_src_slot *ss = &h->p->srcs[h->c];

	if (!trib_checkpoint_save(ss->ckpt, pos, errbuf, errlen))
		return false;
	ss->saved = *pos;
	ss->saved.opaque = NULL;
	ss->has_saved = true;
	return true;
}

/* trib_source_host (several sources): a table of this source is copied. */
static bool
src_host_table_copied(void *arg, const trib_relation *rel, char *errbuf, size_t errlen)
{
	pl_src_host *h = arg;

	return table_copied(h->p, h->c, rel, errbuf, errlen);
}

/* trib_source_host (several sources): the pipeline's own services. */
static void
src_host_batch_end(void *arg)
{
	host_batch_end(((pl_src_host *) arg)->p);
}

static bool
src_host_flush(void *arg, int timeout_ms, char *errbuf, size_t errlen)
{
	return host_flush(((pl_src_host *) arg)->p, timeout_ms, errbuf, errlen);
}

static bool
src_host_poll(void *arg, int timeout_ms, char *errbuf, size_t errlen)
{
	return host_poll(((pl_src_host *) arg)->p, timeout_ms, errbuf, errlen);
}

static void
src_host_set_state(void *arg, const char *state)
{
	host_set_state(((pl_src_host *) arg)->p, state);
}

static bool
src_host_leader_ok(void *arg, char *errbuf, size_t errlen)
{
	return host_leader_ok(((pl_src_host *) arg)->p, errbuf, errlen);
}

/* Several sources: each source's services, around the pipeline's. */
static void
init_src_hosts(trib_pipeline *p)
{
	p->shosts = trib_xcalloc(p->nsrcs, sizeof(pl_src_host));
	for (size_t c = 0; c < p->nsrcs; c++)
	{
		pl_src_host *h = &p->shosts[c];

		h->p = p;
		h->c = c;
		h->host.arg = h;
		h->host.pipeline = p->cfg->pipeline;
		h->host.batch_end = src_host_batch_end;
		h->host.flush = src_host_flush;
		h->host.poll = src_host_poll;
		h->host.set_state = src_host_set_state;
		h->host.leader_ok = src_host_leader_ok;
		h->host.deliver = src_host_deliver;
		h->host.registered = src_host_registered;
		h->host.declare = src_host_declare;
		h->host.durable = src_host_durable;
		h->host.stored_max = src_host_stored_max;
		h->host.load = src_host_load;
		h->host.save = src_host_save;
		h->host.table_copied = src_host_table_copied;
	}
}

/* Fill p->host. */
void
pl_init_host(trib_pipeline *p)
{
	p->host.arg = p;
	p->host.pipeline = p->cfg->pipeline;
	p->host.deliver = host_deliver;
	p->host.batch_end = host_batch_end;
	p->host.flush = host_flush;
	p->host.poll = host_poll;
	p->host.durable = host_durable;
	p->host.stored_max = host_stored_max;
	p->host.rewind = host_rewind;
	p->host.load = host_load;
	p->host.save = host_save;
	p->host.mark = host_mark;
	p->host.table_copied = host_table_copied;
	p->host.set_state = host_set_state;
	p->host.leader_ok = host_leader_ok;
	p->host.registered = host_registered;
	p->host.declare = host_declare;
	if (p->merge != NULL)
		init_src_hosts(p);
}
