/*
 * pause.c: the pause state of a pipeline's sources and sinks, and where it
 * is kept; see pause.h.
 *
 * State: per source and per sink an atomic "paused since" wall-clock
 * time (0: running), so the pipeline's thread reads it without a lock.
 * A request takes the mutex, saves the would-be state through its own
 * checkpoint store (its own connection in the catalog, never the
 * pipeline's) and only then sets the flag, so an answer 200 means the
 * state survives a restart.  The saved record is written with yajl_gen
 * and read back with yajl_tree.  A failed save is logged with the store's
 * message; the answer only says that the store failed (libpq's message
 * names the catalog's host, port or socket path).
 */
#include "pause.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "checkpoint.h"
#include "clock.h"
#include "log.h"
#include "merge.h"
#include "metrics.h"
#include "strbuf.h"
#include "xalloc.h"

struct trib_pause
{
	const trib_config *cfg;
	long long  *src_since;		/* per source: paused since (ms), or 0 */
	long long  *sink_since;		/* per sink: the same */
	pthread_mutex_t lock;		/* the store, and the flags' writers */
	trib_checkpoint *store;		/* NULL until trib_pause_open */
	bool		unreadable;		/* trib_pause_open failed: the stored state
								 * does not open (no retry helps) */
	trib_metric_family *m_src;	/* tributary_source_paused */
	trib_metric_family *m_sink; /* tributary_sink_paused */
};

/* See pause.h. */
trib_pause *
trib_pause_new(const trib_config *cfg, trib_metrics *metrics)
{
	trib_pause *ps = trib_xcalloc(1, sizeof(*ps));

	ps->cfg = cfg;
	ps->m_src = trib_metrics_gauge(metrics, "tributary_source_paused",
								   "1 while the source is paused (not read).", "source");
	ps->m_sink = trib_metrics_gauge(metrics, "tributary_sink_paused",
									"1 while the sink is paused (its events are held).", "sink");
	ps->src_since = trib_xcalloc(cfg->nsources + 1, sizeof(long long));
	ps->sink_since = trib_xcalloc(cfg->nsinks + 1, sizeof(long long));
	pthread_mutex_init(&ps->lock, NULL);
	return ps;
}

/* See pause.h. */
void
trib_pause_free(trib_pause *ps)
{
	if (ps == NULL)
		return;
	trib_checkpoint_close(ps->store);
	pthread_mutex_destroy(&ps->lock);
	free(ps->src_since);
	free(ps->sink_since);
	free(ps);
}

/* Source (sink false) or sink i's name. */
static const char *
name_of(const trib_pause *ps, bool sink, size_t i)
{
	return sink ? ps->cfg->sinks[i].name : ps->cfg->sources[i].name;
}

/* How many sources or sinks. */
static size_t
count_of(const trib_pause *ps, bool sink)
{
	return sink ? ps->cfg->nsinks : ps->cfg->nsources;
}

/* The flags' array of sources or sinks. */
static long long *
since_of(const trib_pause *ps, bool sink)
{
	return sink ? ps->sink_since : ps->src_since;
}

/* The index of `name`, or -1. */
static long
find(const trib_pause *ps, bool sink, const char *name)
{
	for (size_t i = 0; i < count_of(ps, sink); i++)
		if (strcmp(name_of(ps, sink, i), name) == 0)
			return (long) i;
	return -1;
}

/* One list of the record: the names paused, with `flip` (index or -1)
 * taken as `flip_to`. */
static void
gen_list(yajl_gen g, const trib_pause *ps, bool sink, long flip, bool flip_to)
{
	const char *key = sink ? "paused_sinks" : "paused_sources";

	yajl_gen_string(g, (const unsigned char *) key, strlen(key));
	yajl_gen_array_open(g);
	for (size_t i = 0; i < count_of(ps, sink); i++)
	{
		bool		on = (long) i == flip ? flip_to :
			__atomic_load_n(&since_of(ps, sink)[i], __ATOMIC_ACQUIRE) != 0;

		if (on)
			yajl_gen_string(g, (const unsigned char *) name_of(ps, sink, i),
							strlen(name_of(ps, sink, i)));
	}
	yajl_gen_array_close(g);
}

/* Save the state with source or sink `idx` set to `paused`. */
static bool
save(trib_pause *ps, bool sink, long idx, bool paused, char *errbuf, size_t errlen)
{
	yajl_gen	g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t		len;
	trib_position pos;
	bool		ok;

	yajl_gen_map_open(g);
	gen_list(g, ps, false, sink ? -1 : idx, paused);
	gen_list(g, ps, true, sink ? idx : -1, paused);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	memset(&pos, 0, sizeof(pos));
	pos.opaque = trib_xmalloc(len + 1);
	memcpy(pos.opaque, buf, len);
	pos.opaque[len] = '\0';
	yajl_gen_free(g);
	ok = trib_checkpoint_save(ps->store, &pos, errbuf, errlen);
	free(pos.opaque);
	return ok;
}

/* Set the flags of the names listed under `key` of the loaded record. */
static void
load_list(trib_pause *ps, yajl_val root, bool sink)
{
	const char *path[] = {sink ? "paused_sinks" : "paused_sources", NULL};
	yajl_val	a = yajl_tree_get(root, path, yajl_t_array);
	long long	now = trib_clock_wall_ms();

	for (size_t j = 0; a != NULL && j < a->u.array.len; j++)
	{
		const char *name = YAJL_GET_STRING(a->u.array.values[j]);
		long		i = name != NULL ? find(ps, sink, name) : -1;

		if (i < 0)
		{
			tlog_warn("pause", "the kept pause state names %s %s, which the config no "
					  "longer has: ignored", sink ? "sink" : "source", name ? name : "?");
			continue;
		}
		__atomic_store_n(&since_of(ps, sink)[i], now, __ATOMIC_RELEASE);
		tlog_info("pause", "%s %s stays paused (kept with the checkpoint)",
				  sink ? "sink" : "source", name);
	}
}

/* The store's target: CHECKPOINT.paused, or the catalog's dsn. */
static char *
store_target(const trib_config *cfg)
{
	trib_strbuf b = {0};

	if (cfg->checkpoint.store != TRIB_CHECKPOINT_FILE)
		return trib_xstrdup(cfg->checkpoint.dsn);
	trib_strbuf_printf(&b, "%s.paused", cfg->checkpoint.path);
	return trib_strbuf_finish(&b);
}

/* See pause.h. */
bool
trib_pause_open(trib_pause *ps, char *errbuf, size_t errlen)
{
	const trib_config *cfg = ps->cfg;
	char	   *target;
	trib_checkpoint *store;
	trib_position pos;
	int			r;

	if (ps->store != NULL)
		return true;			/* opened and loaded already */
	target = store_target(cfg);
	store = trib_checkpoint_open(cfg->checkpoint.store == TRIB_CHECKPOINT_FILE ?
								 TRIB_CKPT_FILE : TRIB_CKPT_CATALOG, target, cfg->pipeline,
								 TRIB_PAUSE_KEY, &trib_merge_pos_ops, errbuf, errlen);
	free(target);
	if (store == NULL)
		return false;
	if (!trib_checkpoint_key_from_conf(store, &cfg->checkpoint, errbuf, errlen))
	{
		trib_checkpoint_close(store);
		return false;
	}
	r = trib_checkpoint_load(store, &pos, errbuf, errlen);
	ps->unreadable = r == TRIB_CHECKPOINT_UNREADABLE;
	if (r < 0)
	{
		trib_checkpoint_close(store);
		return false;
	}
	if (r > 0 && pos.opaque != NULL)
	{
		yajl_val	root = yajl_tree_parse(pos.opaque, NULL, 0);

		load_list(ps, root, false);
		load_list(ps, root, true);
		yajl_tree_free(root);
	}
	if (r > 0)
		free(pos.opaque);
	pthread_mutex_lock(&ps->lock);
	ps->store = store;
	pthread_mutex_unlock(&ps->lock);
	return true;
}

/* See pause.h. */
bool
trib_pause_unreadable(const trib_pause *ps)
{
	return ps->unreadable;
}

/* "a, b, c": the accepted names, into msg. */
static void
accepted(const trib_pause *ps, bool sink, const char *name, char *msg, size_t msglen)
{
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "no %s named \"%.100s\" (accepted: ", sink ? "sink" : "source", name);
	for (size_t i = 0; i < count_of(ps, sink); i++)
		trib_strbuf_printf(&b, "%s%s", i ? ", " : "", name_of(ps, sink, i));
	trib_strbuf_adds(&b, ")");
	snprintf(msg, msglen, "%s", b.data);
	trib_strbuf_free(&b);
}

/* See pause.h. */
unsigned
trib_pause_request(void *arg, bool sink, const char *name, bool paused, bool *was,
				   char *msg, size_t msglen)
{
	trib_pause *ps = arg;
	long		i = find(ps, sink, name);
	long long  *since;
	char		e[512];
	unsigned	status = 200;

	if (i < 0)
		return accepted(ps, sink, name, msg, msglen), 404;
	since = &since_of(ps, sink)[i];
	pthread_mutex_lock(&ps->lock);
	*was = __atomic_load_n(since, __ATOMIC_ACQUIRE) != 0;
	if (ps->store == NULL)
	{
		snprintf(msg, msglen, "the pipeline is not active yet (starting, or a standby): "
				 "try again once it streams");
		status = 503;
	}
	else if (*was != paused && !save(ps, sink, i, paused, e, sizeof(e)))
	{
		/* the store's message (libpq's, a file's path) is for the log only */
		tlog_warn("pause", "cannot save the pause state of %s %s: %s",
				  sink ? "sink" : "source", name, e);
		snprintf(msg, msglen, "the pause state could not be saved, nothing changed (the "
				 "checkpoint store failed; the daemon's log says why)");
		status = 503;
	}
	else if (*was != paused)
	{
		__atomic_store_n(since, paused ? trib_clock_wall_ms() : 0, __ATOMIC_RELEASE);
		tlog_info("pause", "%s %s %s", sink ? "sink" : "source", name,
				  paused ? "paused" : "resumed");
	}
	pthread_mutex_unlock(&ps->lock);
	return status;
}

/* See pause.h. */
bool
trib_pause_source(const trib_pause *ps, size_t i)
{
	return __atomic_load_n(&ps->src_since[i], __ATOMIC_ACQUIRE) != 0;
}

/* See pause.h. */
bool
trib_pause_sink(const trib_pause *ps, size_t i)
{
	return __atomic_load_n(&ps->sink_since[i], __ATOMIC_ACQUIRE) != 0;
}

/* See pause.h. */
long long
trib_pause_since(const trib_pause *ps, bool sink, size_t i)
{
	return __atomic_load_n(&since_of(ps, sink)[i], __ATOMIC_ACQUIRE);
}

/* See pause.h. */
void
trib_pause_update_gauges(trib_pause *ps)
{
	for (size_t i = 0; i < ps->cfg->nsources; i++)
		trib_metric_set(trib_metric_get(ps->m_src, name_of(ps, false, i)),
						trib_pause_source(ps, i) ? 1 : 0);
	for (size_t i = 0; i < ps->cfg->nsinks; i++)
		trib_metric_set(trib_metric_get(ps->m_sink, name_of(ps, true, i)),
						trib_pause_sink(ps, i) ? 1 : 0);
}
