/*
 * reload.c: reload requests and the pending config; see reload.h.
 *
 * The state is small: the file, the running config (borrowed), the
 * accepted config waiting for the pipeline, a flag set by the SIGHUP
 * handler and the port the HTTP server had.  One mutex guards it; the
 * flags the pipeline's thread tests between items are atomics, so the hot
 * path takes no lock.
 */
#include "reload.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strbuf.h"
#include "xalloc.h"

struct trib_reload
{
	pthread_mutex_t mu;
	char	   *path;
	const trib_config *current;
	trib_config *pending;		/* accepted, not applied yet */
	int			has_pending;	/* atomic: pending != NULL */
	volatile sig_atomic_t hup;	/* a SIGHUP came */
	int			port;			/* the last server's port */
};

/* See reload.h. */
trib_reload *
trib_reload_new(const char *path)
{
	trib_reload *r = trib_xcalloc(1, sizeof(*r));

	pthread_mutex_init(&r->mu, NULL);
	r->path = trib_xstrdup(path);
	return r;
}

/* See reload.h. */
void
trib_reload_free(trib_reload *r)
{
	if (r == NULL)
		return;
	trib_config_free(r->pending);
	pthread_mutex_destroy(&r->mu);
	free(r->path);
	free(r);
}

/* See reload.h. */
void
trib_reload_set_current(trib_reload *r, const trib_config *cfg)
{
	pthread_mutex_lock(&r->mu);
	r->current = cfg;
	pthread_mutex_unlock(&r->mu);
}

/* See reload.h. */
void
trib_reload_signal(trib_reload *r)
{
	r->hup = 1;
}

/* See reload.h. */
void
trib_reload_result_free(trib_reload_result *res)
{
	trib_config_diff_free(&res->diff);
}

/* The audit line of a request: outcome, fingerprints, and the changes or
 * the error (its lines joined). */
static void
audit(const trib_reload *r, const trib_reload_result *res)
{
	trib_strbuf what = {0};

	for (size_t i = 0; i < res->diff.changes.count; i++)
		trib_strbuf_printf(&what, "%s%s", i ? "; " : "", res->diff.changes.items[i]);
	for (const char *s = res->error; *s; s++)
		trib_strbuf_addc(&what, *s == '\n' ? ';' : *s);
	if (res->outcome == TRIB_RELOAD_ACCEPTED || res->outcome == TRIB_RELOAD_UNCHANGED)
		tlog_info("audit", "config reload of %s %s: fingerprint %s (running %s)%s%s",
				  r->path, trib_reload_outcome_name(res->outcome), res->fingerprint,
				  res->running, what.len ? ": " : "", what.len ? what.data : "");
	else
		tlog_warn("audit", "config reload of %s %s: fingerprint %s (running %s): %s",
				  r->path, trib_reload_outcome_name(res->outcome),
				  res->fingerprint[0] ? res->fingerprint : "none", res->running,
				  what.len ? what.data : "");
	trib_strbuf_free(&what);
}

/* Load, validate and compare; the mutex is held. */
static void
request_locked(trib_reload *r, trib_reload_result *res)
{
	trib_config *cfg = NULL;

	trib_config_fingerprint(r->current, res->running);
	if (__atomic_load_n(&r->has_pending, __ATOMIC_ACQUIRE))
	{
		res->outcome = TRIB_RELOAD_BUSY;
		snprintf(res->error, sizeof(res->error), "a reload is being applied; ask again "
				 "once the pipeline streams");
		return;
	}
	if (!trib_config_load(r->path, &cfg, res->error, sizeof(res->error)))
	{
		res->outcome = TRIB_RELOAD_INVALID;
		return;
	}
	trib_config_fingerprint(cfg, res->fingerprint);
	trib_config_diff_make(r->current, cfg, &res->diff);
	if (res->diff.refused != NULL)
	{
		res->outcome = TRIB_RELOAD_REFUSED;
		snprintf(res->error, sizeof(res->error), "%s", res->diff.refused);
	}
	else if (res->diff.changes.count == 0)
		res->outcome = TRIB_RELOAD_UNCHANGED;
	else
	{
		res->outcome = TRIB_RELOAD_ACCEPTED;
		r->pending = cfg;
		cfg = NULL;
		__atomic_store_n(&r->has_pending, 1, __ATOMIC_RELEASE);
	}
	trib_config_free(cfg);
}

/* See reload.h. */
void
trib_reload_request(trib_reload *r, trib_reload_result *res)
{
	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&r->mu);
	if (r->current == NULL)
	{
		res->outcome = TRIB_RELOAD_BUSY;
		snprintf(res->error, sizeof(res->error), "the pipeline is starting; ask again "
				 "once it streams");
	}
	else
		request_locked(r, res);
	audit(r, res);
	pthread_mutex_unlock(&r->mu);
}

/* See reload.h. */
bool
trib_reload_due(trib_reload *r)
{
	if (r->hup)
	{
		trib_reload_result res;

		r->hup = 0;
		tlog_info("reload", "SIGHUP: reloading %s", r->path);
		trib_reload_request(r, &res);
		trib_reload_result_free(&res);
	}
	return __atomic_load_n(&r->has_pending, __ATOMIC_ACQUIRE) != 0;
}

/* See reload.h. */
trib_config *
trib_reload_take(trib_reload *r)
{
	trib_config *cfg;

	pthread_mutex_lock(&r->mu);
	cfg = r->pending;
	r->pending = NULL;
	r->current = NULL;			/* until the next pipeline runs */
	__atomic_store_n(&r->has_pending, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&r->mu);
	return cfg;
}

/* See reload.h. */
int
trib_reload_port(trib_reload *r, int configured)
{
	int			port;

	if (configured != 0 || r == NULL)
		return configured;
	pthread_mutex_lock(&r->mu);
	port = r->port;
	pthread_mutex_unlock(&r->mu);
	return port;
}

/* See reload.h. */
void
trib_reload_note_port(trib_reload *r, int port)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->port = port;
	pthread_mutex_unlock(&r->mu);
}
