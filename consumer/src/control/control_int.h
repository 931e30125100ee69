/*
 * control_int.h: between the control API's request handling (control.c)
 * and its documents (control_docs.c); private to control/.
 */
#ifndef TRIB_CONTROL_INT_H
#define TRIB_CONTROL_INT_H

#include <yajl/yajl_gen.h>

#include "config.h"
#include "control.h"

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
