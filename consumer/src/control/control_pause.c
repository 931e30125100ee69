/*
 * control_pause.c: POST /api/v1/sources/{name}/pause|resume and
 * POST /api/v1/sinks/{name}/pause|resume (docs/API.md, "Pause and
 * resume").
 *
 * The endpoint reads the kind, the name and the verb from the path and
 * hands them to the pipeline's hook (pipeline/pause.h), which answers once
 * the state is kept with the checkpoint.  The answer:
 *   {"kind":"source","name":"main","paused":true,"changed":true}
 * An unknown name is 404 with the accepted names.  The name is the path
 * segment percent-decoded (ctl_path_name), so that any configured name,
 * one with a '/' or a '%' too, can be paused: `a%2Fb` names `a/b`.
 */
#include "control_int.h"

#include <string.h>

#include "strbuf.h"

/* See control_int.h. */
void
ctl_serve_pause(trib_control *api, ctl_resp *r)
{
	bool		sink = strncmp(r->rest, "sinks/", 6) == 0;
	bool		pause = strcmp(strrchr(r->rest, '/') + 1, "pause") == 0;
	trib_strbuf nm = {0};
	char		msg[600];
	bool		was = false;
	unsigned	status;

	(void) api;
	if (r->ext->pause == NULL)
	{
		ctl_resp_error(r, 503, "pause and resume need a running pipeline");
		return;
	}
	ctl_path_name(r->rest, sink ? 6 : 8, &nm);
	status = r->ext->pause(r->ext->pause_arg, sink, nm.data, pause, &was, msg, sizeof(msg));
	if (status != 200)
		ctl_resp_error(r, status, msg);
	else
	{
		yajl_gen_map_open(r->g);
		ctl_gen_kv(r->g, "kind", sink ? "sink" : "source");
		ctl_gen_kv(r->g, "name", nm.data);
		ctl_gen_str(r->g, "paused");
		yajl_gen_bool(r->g, pause);
		ctl_gen_str(r->g, "changed");
		yajl_gen_bool(r->g, was != pause);
		yajl_gen_map_close(r->g);
	}
	trib_strbuf_free(&nm);
}
