/*
 * control_pause.c: POST /api/v1/sources/{name}/pause|resume and
 * POST /api/v1/sinks/{name}/pause|resume (docs/API.md, "Pause and
 * resume").
 *
 * The endpoint reads the kind, the name and the verb from the path and
 * hands them to the pipeline's hook (pipeline/pause.h), which answers once
 * the state is kept with the checkpoint.  The answer:
 *   {"kind":"source","name":"main","paused":true,"changed":true}
 * An unknown name is 404 with the accepted names.
 */
#include "control_int.h"

#include <stdio.h>
#include <string.h>

/* See control_int.h. */
void
ctl_serve_pause(trib_control *api, ctl_resp *r)
{
	bool		sink = strncmp(r->rest, "sinks/", 6) == 0;
	const char *name = r->rest + (sink ? 6 : 8);
	const char *verb = strrchr(r->rest, '/') + 1;
	bool		pause = strcmp(verb, "pause") == 0;
	char		nm[256],
				msg[600];
	size_t		len = (size_t) (verb - 1 - name);
	bool		was = false;
	unsigned	status;

	(void) api;
	snprintf(nm, sizeof(nm), "%.*s", (int) (len < sizeof(nm) ? len : sizeof(nm) - 1), name);
	if (r->ext->pause == NULL)
	{
		ctl_resp_error(r, 503, "pause and resume need a running pipeline");
		return;
	}
	status = r->ext->pause(r->ext->pause_arg, sink, nm, pause, &was, msg, sizeof(msg));
	if (status != 200)
	{
		ctl_resp_error(r, status, msg);
		return;
	}
	yajl_gen_map_open(r->g);
	ctl_gen_kv(r->g, "kind", sink ? "sink" : "source");
	ctl_gen_kv(r->g, "name", nm);
	ctl_gen_str(r->g, "paused");
	yajl_gen_bool(r->g, pause);
	ctl_gen_str(r->g, "changed");
	yajl_gen_bool(r->g, was != pause);
	yajl_gen_map_close(r->g);
}
