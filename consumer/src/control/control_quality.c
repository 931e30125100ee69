/*
 * control_quality.c: POST /api/v1/quality/check (docs/API.md, "Quality
 * check"): a row in, the verdicts of the configured quality rules out,
 * without touching the stream.
 *
 * The body is {"relation": "schema.table" (or "table"), "columns": {...},
 * "source": "NAME" (optional: the first source)}, read with yajl_tree
 * (nested at most TRIB_JDOC_MAX_DEPTH deep, jsondoc.h);
 * the columns go to the pipeline's hook (pipeline/quality_api.h) as JSON
 * text.  The answer names the relation and source and lists one verdict
 * per value checked: rule, field, pass, reason (never the value) and what
 * the stream would do; "pass" is true when every verdict passed.  No
 * column value is ever answered.
 */
#include "control_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "jsondoc.h"

/* The string member `key` of the body, or NULL (absent or not a string). */
static const char *
member(yajl_val body, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val	v = yajl_tree_get(body, path, yajl_t_string);

	return v != NULL ? YAJL_GET_STRING(v) : NULL;
}

/* The answer around the verdicts (a JSON array's text). */
static void
answer(ctl_resp *r, const char *relation, const char *source, const char *verdicts)
{
	yajl_val	v = yajl_tree_parse(verdicts, NULL, 0);
	bool		pass = true;

	for (size_t i = 0; v != NULL && YAJL_IS_ARRAY(v) && i < v->u.array.len; i++)
	{
		const char *path[] = {"pass", NULL};

		pass = pass && YAJL_IS_TRUE(yajl_tree_get(v->u.array.values[i], path, yajl_t_true));
	}
	yajl_tree_free(v);
	yajl_gen_map_open(r->g);
	ctl_gen_kv(r->g, "relation", relation);
	ctl_gen_kv(r->g, "source", source);
	ctl_gen_str(r->g, "pass");
	yajl_gen_bool(r->g, pass);
	ctl_gen_str(r->g, "verdicts");
	yajl_gen_number(r->g, verdicts, strlen(verdicts));	/* verbatim: built with yajl_gen */
	yajl_gen_map_close(r->g);
}

/* See control_int.h. */
void
ctl_serve_quality(trib_control *api, ctl_resp *r)
{
	char		e[256],
				msg[700];
	yajl_val	body = r->body != NULL ? trib_jdoc_parse_bounded(r->body, e, sizeof(e)) : NULL;
	const char *path[] = {"columns", NULL};
	yajl_val	cols = body != NULL ? yajl_tree_get(body, path, yajl_t_object) : NULL;
	const char *relation = body != NULL ? member(body, "relation") : NULL;
	const char *source = body != NULL ? member(body, "source") : NULL;
	char	   *row = NULL,
			   *schema = NULL,
			   *verdicts = NULL;
	const char *dot;
	unsigned	status = 500;

	(void) api;
	if (body == NULL || !YAJL_IS_OBJECT(body) || cols == NULL || relation == NULL ||
		relation[0] == '\0')
	{
		snprintf(msg, sizeof(msg), "%s%s%s%s: the body is {\"relation\": \"schema.table\", "
				 "\"columns\": {...}, \"source\": \"NAME\" (optional)}",
				 body == NULL ? "not JSON" : "not a row", body == NULL ? " (" : "",
				 body == NULL ? (r->body == NULL ? "no body" : e) : "",
				 body == NULL ? ")" : "");
		ctl_resp_error(r, 400, msg);
	}
	else if (r->ext->quality == NULL)
		ctl_resp_error(r, 503, "the quality check needs a running pipeline");
	else
	{
		dot = strchr(relation, '.');
		if (dot != NULL)
			schema = strndup(relation, (size_t) (dot - relation));
		row = trib_jdoc_dump(cols);
		verdicts = r->ext->quality(r->ext->quality_arg, source, schema,
								   dot != NULL ? dot + 1 : relation, row, &status,
								   msg, sizeof(msg));
		if (verdicts == NULL)
			ctl_resp_error(r, status, msg);
		else
			answer(r, relation, source != NULL ? source : r->cfg->sources[0].name, verdicts);
	}
	free(verdicts);
	free(row);
	free(schema);
	yajl_tree_free(body);
}
