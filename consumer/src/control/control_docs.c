/*
 * control_docs.c: the documents of the control API's read endpoints,
 * written with yajl's generator from the loaded config and the
 * pipeline's /status document.
 *
 * What is shown: names, types, positions, counts and the rules'
 * selection.  What never is: row data, connection strings, secrets
 * (tokens, keys: a rule says only that it uses one), since every answer
 * may reach a dashboard or a log.
 */
#include "control_int.h"

#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "utf8.h"

/* A string; ill-formed UTF-8 (a name or path a client sent, quoted in an
 * error) is written with U+FFFD, so that every answer is JSON. */
void
ctl_gen_str(yajl_gen g, const char *s)
{
	size_t		len = strlen(s);
	char	   *clean;

	if (trib_utf8_valid(s, len))
	{
		yajl_gen_string(g, (const unsigned char *) s, len);
		return;
	}
	clean = trib_utf8_scrub(s, len);
	yajl_gen_string(g, (const unsigned char *) clean, strlen(clean));
	free(clean);
}

/* "k": "v" (null when v is NULL). */
void
ctl_gen_kv(yajl_gen g, const char *k, const char *v)
{
	ctl_gen_str(g, k);
	if (v == NULL)
		yajl_gen_null(g);
	else
		ctl_gen_str(g, v);
}

/* "k": [items...]. */
static void
gen_list(yajl_gen g, const char *k, const trib_strlist *l)
{
	ctl_gen_str(g, k);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < l->count; i++)
		ctl_gen_str(g, l->items[i]);
	yajl_gen_array_close(g);
}

/* "k": the status member k as it is (null when missing). */
static void
gen_status_member(yajl_gen g, yajl_val status, const char *k)
{
	yajl_val   *v = status != NULL ? trib_jdoc_get_slot(status, k) : NULL;

	ctl_gen_str(g, k);
	if (v == NULL)
		yajl_gen_null(g);
	else
		trib_jdoc_gen(g, *v);
}

/* The status's entry for `name` in its list `list` ("sinks", "sources"),
 * or NULL. */
static yajl_val
status_entry(yajl_val status, const char *list, const char *name)
{
	yajl_val   *sinks = status != NULL ? trib_jdoc_get_slot(status, list) : NULL;

	if (sinks == NULL || !YAJL_IS_ARRAY(*sinks))
		return NULL;
	for (size_t i = 0; i < (*sinks)->u.array.len; i++)
	{
		yajl_val	s = (*sinks)->u.array.values[i];
		yajl_val   *n = YAJL_IS_OBJECT(s) ? trib_jdoc_get_slot(s, "name") : NULL;

		if (n != NULL && YAJL_IS_STRING(*n) && strcmp((*n)->u.string, name) == 0)
			return s;
	}
	return NULL;
}

/* The status members of each source and each sink (the /status
 * snapshot's), after its name and type. */
static const char *const source_members[] = {"paused", "paused_since", NULL};
static const char *const sink_members[] = {"written", "acked", "paused", "paused_since",
	"buffered_events", "buffered_bytes", NULL};

/* `key`: [{name, type, then each of members from the status}...] for the
 * n plugin sections (the sources, or the sinks). */
static void
gen_plugins(yajl_gen g, const char *key, const trib_plugin_conf *plugins, size_t n,
			const char *const *members, yajl_val status)
{
	ctl_gen_str(g, key);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
	{
		yajl_val	s = status_entry(status, key, plugins[i].name);

		yajl_gen_map_open(g);
		ctl_gen_kv(g, "name", plugins[i].name);
		ctl_gen_kv(g, "type", plugins[i].type_name);
		for (const char *const *m = members; *m; m++)
			gen_status_member(g, s, *m);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

/* See control_int.h. */
bool
ctl_doc_pipeline(yajl_gen g, const trib_config *cfg, const char *status_text)
{
	char		err[128];
	yajl_val	status = NULL;

	if (status_text != NULL &&
		((status = trib_jdoc_parse(status_text, err, sizeof(err))) == NULL ||
		 !YAJL_IS_OBJECT(status)))
	{
		yajl_tree_free(status);
		return false;
	}
	yajl_gen_map_open(g);
	ctl_gen_kv(g, "pipeline", cfg->pipeline);
	gen_status_member(g, status, "state");
	gen_status_member(g, status, "events_in");
	gen_status_member(g, status, "checkpoint");
	gen_status_member(g, status, "confirmed_lsn");
	gen_status_member(g, status, "backpressure");
	gen_plugins(g, "sources", cfg->sources, cfg->nsources, source_members, status);
	gen_plugins(g, "sinks", cfg->sinks, cfg->nsinks, sink_members, status);
	ctl_gen_str(g, "rules");
	yajl_gen_integer(g, (long long) cfg->nrules);
	yajl_gen_map_close(g);
	yajl_tree_free(status);
	return true;
}

/* Does the rule use a secret (a key, a lookup dsn)?  Only that is told. */
static bool
uses_secret(const trib_rule_conf *r)
{
	return r->key != NULL || r->dsn != NULL;
}

/* One rule in words. */
static void
gen_rule(yajl_gen g, const trib_rule_conf *r)
{
	yajl_gen_map_open(g);
	ctl_gen_kv(g, "name", r->name);
	ctl_gen_kv(g, "type", r->type_name);
	ctl_gen_str(g, "line");
	yajl_gen_integer(g, r->line);
	gen_list(g, "sources", &r->sources);
	gen_list(g, "tables", &r->tables);
	gen_list(g, "fields", &r->fields);
	ctl_gen_str(g, "uses_secret");
	yajl_gen_bool(g, uses_secret(r));
	yajl_gen_map_close(g);
}

/* See control_int.h. */
void
ctl_doc_rules(yajl_gen g, const trib_config *cfg)
{
	yajl_gen_map_open(g);
	ctl_gen_kv(g, "pipeline", cfg->pipeline);
	ctl_gen_str(g, "rules");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < cfg->nrules; i++)
		gen_rule(g, &cfg->rules[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}
