/*
 * source.c: what sources whose upstream keeps no replica position share.
 *
 * A PostgreSQL slot remembers how far its consumer got, so the PostgreSQL
 * source tells the server.  MySQL's binlog and MongoDB's change streams
 * remember nothing for us: the pipeline's checkpoint is the only record.
 * For them, confirm() only notes the position (to answer confirmed()), and
 * report() has nothing to send; the helpers below are those operations
 * (the note kept in the trib_source), so that each such source does not
 * carry its own copy.
 *
 * Also here: the end of every source's open (its state, lock and
 * backoff) and its own metric series; the source's words for where it starts (ops->origin), with
 * the neutral default the shared messages use when a source has none.
 */
#include "source.h"

#include "errf.h"
#include "metrics.h"

/* See source.h. */
void
trib_source_note_confirmed(trib_position *confirmed, const trib_position *end)
{
	if (trib_position_cmp(end, confirmed) > 0)
	{
		*confirmed = *end;
		confirmed->opaque = NULL;	/* the caller's, not ours to keep */
	}
}

/* See source.h. */
void
trib_source_confirm_noted(trib_source *src, const trib_position *end)
{
	trib_source_note_confirmed(&src->noted, end);
}

/* See source.h. */
void
trib_source_confirmed_noted(const trib_source *src, trib_position *out)
{
	*out = src->noted;
}

/* See source.h. */
bool
trib_source_report_nothing(trib_source *src, bool changed_only, char *errbuf, size_t errlen)
{
	(void) src;
	(void) changed_only;
	(void) errbuf;
	(void) errlen;
	return true;
}

/* See source.h. */
bool
trib_source_not_ours(const trib_source *src, char *errbuf, size_t errlen)
{
	return trib_errf(errbuf, errlen, "source %s: not a %s source", src->name, src->ops->type);
}

/* See source.h. */
void
trib_source_opened(trib_source *src, void *state, const char *lock_dsn,
				   int backoff_initial_ms, int backoff_max_ms)
{
	src->state = state;
	src->lock_dsn = lock_dsn;
	src->backoff_initial_ms = backoff_initial_ms;
	src->backoff_max_ms = backoff_max_ms;
}

/* See source.h. */
trib_metric *
trib_source_metric(const trib_source *src, bool counter, const char *name, const char *help)
{
	trib_metric_family *fam = counter ? trib_metrics_counter(src->metrics, name, help, "source")
		: trib_metrics_gauge(src->metrics, name, help, "source");

	return trib_metric_get(fam, src->name);
}

/* See source.h. */
const char *
trib_source_origin(const trib_source_ops *ops)
{
	return ops->origin ? ops->origin : "the source's own position";
}
