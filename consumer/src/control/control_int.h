/*
 * control_int.h: between the control API's request handling (control.c),
 * its documents (control_docs.c) and its endpoints in files of their own
 * (control_pause.c, control_lineage.c, control_quality.c); private to
 * control/.
 */
#ifndef TRIB_CONTROL_INT_H
#define TRIB_CONTROL_INT_H

#include <yajl/yajl_gen.h>

#include "config.h"
#include "control.h"
#include "strbuf.h"

struct MHD_Connection;

/* What endpoints in their own files reach of the API (trib_control's
 * `ext`). */
typedef struct ctl_ext
{
	trib_control_pause_fn pause;	/* NULL: pause answers 503 */
	void	   *pause_arg;
	trib_control_quality_fn quality;	/* NULL: quality/check answers 503 */
	void	   *quality_arg;
} ctl_ext;

/* An answer being built: status and document, and the request it answers
 * (set before an endpoint runs). */
typedef struct ctl_resp
{
	unsigned	status;
	yajl_gen	g;
	const trib_config *cfg;
	const ctl_ext *ext;
	struct MHD_Connection *conn;
	const char *rest;			/* the path after /api/v1/ */
	const char *body;			/* the request's body (NUL-terminated), or
								 * NULL: only for ctl_takes_body() */
	size_t		body_len;
} ctl_resp;

typedef void (*ctl_endpoint_fn) (trib_control *api, ctl_resp *r);

/* Make r the error {"error": msg, "status": status}. */
void		ctl_resp_error(ctl_resp *r, unsigned status, const char *msg);

/* Does `path` fit `pattern`: '*' stands for one segment (no '/'), '**'
 * for one or more characters, '/' included (a lineage asset's URL)? */
bool		ctl_path_match(const char *pattern, const char *path);

/* The name in `rest` (a path after /api/v1/ that an endpoint's pattern
 * matched) from byte `from` up to its last segment, with the %2F and %25
 * the server kept decoded, into out (its previous text replaced). */
void		ctl_path_name(const char *rest, size_t from, trib_strbuf *out);

/* Endpoints with files of their own. */
void		ctl_serve_pause(trib_control *api, ctl_resp *r);	/* control_pause.c */
void		ctl_serve_lineage(trib_control *api, ctl_resp *r);	/* control_lineage.c */
void		ctl_serve_lineage_flow(trib_control *api, ctl_resp *r);
void		ctl_serve_quality(trib_control *api, ctl_resp *r);	/* control_quality.c */

/* Write the /api/v1/pipeline document; `status` is the /status text or
 * NULL.  False when status is not valid JSON. */
bool		ctl_doc_pipeline(yajl_gen g, const trib_config *cfg, const char *status);

/* Write the /api/v1/rules document. */
void		ctl_doc_rules(yajl_gen g, const trib_config *cfg);

/* Make a reload request through fn (NULL: this run cannot reload) and
 * write its answer; returns the HTTP status (control_reload.c). */
unsigned	ctl_doc_reload(yajl_gen g, trib_control_reload_fn fn, void *arg);

/* yajl_gen helpers. */
void		ctl_gen_str(yajl_gen g, const char *s);
void		ctl_gen_kv(yajl_gen g, const char *k, const char *v);	/* v NULL: null */

#endif							/* TRIB_CONTROL_INT_H */
