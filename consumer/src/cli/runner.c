/*
 * runner.c: the phases of one pipeline run (runner.h): open the pipeline,
 * let its source copy its tables through the pipeline's services, then
 * stream.
 *
 * Design.  Each phase's failure goes to trib_pipeline_finish(), which
 * checkpoints what the sinks acknowledged, so a failure during the
 * snapshot is handled exactly as one while streaming.  A source without a
 * snapshot operation has nothing to copy; `tributary snapshot` then
 * refuses it.
 */
#include "runner.h"

#include <stdio.h>

#include "source.h"

/* Source i's snapshot phase: TRIB_SNAPSHOT_*. */
static int
source_snapshot(trib_pipeline *p, size_t i, bool only, volatile sig_atomic_t *stop,
				char *errbuf, size_t errlen)
{
	trib_source *src = trib_pipeline_source(p, i);

	if (src->ops->snapshot == NULL)
	{
		if (!only)
			return TRIB_SNAPSHOT_DONE;
		snprintf(errbuf, errlen, "source %s (type %s) cannot make a snapshot",
				 src->name, src->ops->type);
		return TRIB_SNAPSHOT_FAILED;
	}
	return src->ops->snapshot(src, trib_pipeline_host(p, i), only, stop, errbuf, errlen);
}

/* The sources' snapshot phase, in config order (`tributary snapshot`
 * copies a pipeline of one source): TRIB_SNAPSHOT_*. */
static int
snapshot_phase(trib_pipeline *p, bool only, volatile sig_atomic_t *stop,
			   char *errbuf, size_t errlen)
{
	size_t		n = trib_pipeline_nsources(p);
	int			rc = TRIB_SNAPSHOT_DONE;

	if (only && n > 1)
	{
		snprintf(errbuf, errlen, "tributary snapshot copies the tables of a pipeline with "
				 "one source; this one has %zu", n);
		return TRIB_SNAPSHOT_FAILED;
	}
	for (size_t i = 0; i < n && rc == TRIB_SNAPSHOT_DONE; i++)
		rc = source_snapshot(p, i, only, stop, errbuf, errlen);
	return rc;
}

/* See runner.h. */
bool
trib_runner_run(trib_pipeline *p, bool only, bool *snapshot_complete,
				volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	int			rc = trib_pipeline_open(p, stop, errbuf, errlen);

	*snapshot_complete = false;
	if (rc <= 0)
		return trib_pipeline_finish(p, rc == 0);
	switch (snapshot_phase(p, only, stop, errbuf, errlen))
	{
		case TRIB_SNAPSHOT_FAILED:
			return trib_pipeline_finish(p, false);
		case TRIB_SNAPSHOT_STOPPED:
			return trib_pipeline_finish(p, true);	/* progress saved */
		case TRIB_SNAPSHOT_DONE_STOP:
			*snapshot_complete = true;
			trib_pipeline_set_state(p, "stopped");
			return trib_pipeline_finish(p, true);
		default:
			*snapshot_complete = true;
			break;
	}
	return trib_pipeline_finish(p, trib_pipeline_stream(p, stop, errbuf, errlen));
}
