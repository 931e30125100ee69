/*
 * control_reload.c: the answer of POST /api/v1/reload (docs/API.md,
 * "Reload"): the outcome of the request, the new file's fingerprint and
 * the running one's, the changes, and the error.
 *
 *   200  accepted (applied at the next transaction boundary) or unchanged
 *   422  invalid: the loader's lines, FILE:LINE:COLUMN: KEY: message
 *   409  refused (what cannot change live, and why), or busy (a reload
 *        being applied; a run that cannot reload)
 *
 * Nothing in the answer comes from row data; the loader's messages never
 * repeat a secret value (config.h).
 */
#include "control_int.h"

#include <stdio.h>

#include <microhttpd.h>

/* The HTTP status of an outcome. */
static unsigned
status_of(trib_reload_outcome o)
{
	switch (o)
	{
		case TRIB_RELOAD_ACCEPTED:
		case TRIB_RELOAD_UNCHANGED:
			return MHD_HTTP_OK;
		case TRIB_RELOAD_INVALID:
			return MHD_HTTP_UNPROCESSABLE_CONTENT;
		default:
			return MHD_HTTP_CONFLICT;
	}
}

/* See control_int.h. */
unsigned
ctl_doc_reload(yajl_gen g, trib_control_reload_fn fn, void *arg)
{
	trib_reload_result res = {.outcome = TRIB_RELOAD_BUSY};
	unsigned	status;

	if (fn != NULL)
		fn(arg, &res);
	else
		snprintf(res.error, sizeof(res.error), "this run cannot reload (tributary snapshot, "
				 "or a copy-and-sanitize file)");
	status = status_of(res.outcome);
	yajl_gen_map_open(g);
	ctl_gen_kv(g, "result", trib_reload_outcome_name(res.outcome));
	ctl_gen_kv(g, "fingerprint", res.fingerprint[0] ? res.fingerprint : NULL);
	ctl_gen_kv(g, "running_fingerprint", res.running[0] ? res.running : NULL);
	ctl_gen_str(g, "changes");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < res.diff.changes.count; i++)
		ctl_gen_str(g, res.diff.changes.items[i]);
	yajl_gen_array_close(g);
	ctl_gen_kv(g, "error", res.error[0] ? res.error : NULL);
	ctl_gen_str(g, "status");
	yajl_gen_integer(g, status);
	yajl_gen_map_close(g);
	trib_config_diff_free(&res.diff);
	return status;
}
