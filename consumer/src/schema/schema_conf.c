/*
 * schema_conf.c: the `schemas` section of pipeline.yaml, owned by the
 * schema stage (schema_stage.h): its key table and the finish function
 * that checks keys against each other; the `migrations` list is
 * schema_migrate_conf.c's.
 *
 * Design.  As pipeline/http_conf.c does for the HTTP server, the stage
 * keeps its settings' table next to its code; the loader (config/) cannot
 * include schema/, so the section is declared in config_keys.h and the
 * settings struct, trib_schemas_conf, is part of trib_config (config.h).
 *
 * Adding a key: a field in trib_schemas_conf and one row below; run
 * `make -C consumer doc`.
 */
#include "config.h"
#include "config_keys.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "yaml_tree.h"

static const char *const format_words[] = {"json", "avro", NULL};
static const char *const policy_words[] = {"fail", "warn", "quarantine", NULL};

static void finish_schemas(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
						   const char *path, void *base, const char *name);

static const ck_key schemas_keys[] = {
	CK_ROW(trib_schemas_conf, enabled, CK_BOOL, 0, .def = "false",
		.desc = "register the schema of every captured table in the catalog's registry "
		"and stamp each event with its subject's schema id and version"),
	CK_ROW(trib_schemas_conf, dsn, CK_STRING, CK_SECRET, .check = ck_check_conninfo,
		.doc_type = "conninfo", .doc_default = "the checkpoint's dsn",
		.desc = "database holding the registry (the tributary extension, 0.4 or later); "
		"its role needs `tributary_writer`"),
	CK_ROW(trib_schemas_conf, subject, CK_STRING, CK_TEMPLATE,
		.def = TRIB_SUBJECT_DEFAULT_PATTERN,
		.desc = "a table's subject name; `${source}`, `${db}`, `${schema}` and `${table}` "
		"are replaced (with this default, a MySQL table's database fills `${schema}`)"),
	CK_ROW(trib_schemas_conf, format, CK_ENUM, 0, .def = "json", .words = format_words,
		.desc = "schema type registered: `json` (JSON Schema) or `avro`"),
	CK_ROW(trib_schemas_conf, keys, CK_BOOL, 0, .def = "false",
		.desc = "also register each table's key schema (its primary key's columns, else its "
		"replica identity key's) under the subject `<subject>-key` and stamp each event with "
		"its id, which the Kafka sink's `key_format: json_sr` and `avro` frame"),
	CK_ROW(trib_schemas_conf, on_incompatible, CK_ENUM, 0, .def = "fail",
		.words = policy_words,
		.desc = "a new shape the subject's compatibility level refuses: `fail` stops before "
		"its first event (the position is kept); `warn` registers it anyway, logs the "
		"violations, counts them in `tributary_schema_incompatible_total` and publishes; "
		"`quarantine` registers it and sends its events to the `quarantine` sink only, "
		"until `tributary schema accept SUBJECT VERSION`"),
	CK_ROW(trib_schemas_conf, quarantine, CK_STRING, 0, .doc_type = "sink name",
		.desc = "with `on_incompatible: quarantine`: the sink (one of `sinks:`) that "
		"receives the events of versions not accepted yet, and nothing else"),
	{.name = "migrations", .type = CK_CUSTOM, .custom = ck_parse_schema_migrations,
		.custom_free = ck_free_schema_migrations, .doc_type = "list",
		.desc = "per-subject upcasts of in-flight events to a target version (see "
	"`schemas.migrations[]` below)"},
	CK_END_ROW
};

/* See config_keys.h. */
const ck_section ck_schemas_section = {
	.doc_title = "`schemas`",
	.what = "the schemas section",
	.keys = schemas_keys,
	.finish = finish_schemas,
	.doc_intro = "The schema stage (docs/SCHEMA_REGISTRY.md, section 7). When a table's "
	"shape changes, the new schema is registered at the position of the first event "
	"with that shape, before the event reaches any sink.",
};

/* Migrations need the stage, and one subject has one migration. */
static void
finish_migrations(ck_ctx *c, const trib_yaml_node *map, const char *path,
				  const trib_schemas_conf *s)
{
	const trib_yaml_node *list = map ? trib_yaml_map_get(map, "migrations") : NULL;
	char	   *key = ck_path(path, "migrations");

	if (s->nmigrations > 0 && !s->enabled)
		ck_error(c, list, key, "migrations need the schema stage (enabled: true)");
	for (size_t i = 0; i < s->nmigrations; i++)
		for (size_t j = 0; j < i; j++)
			if (s->migrations[i].subject && s->migrations[j].subject &&
				strcmp(s->migrations[i].subject, s->migrations[j].subject) == 0)
				ck_error(c, list && i < list->nchild ? list->child[i] : list, key,
						 "subject %s has two migrations (items %zu and %zu; accepted: one "
						 "per subject)", s->migrations[i].subject, j, i);
	free(key);
}

/* quarantine needs its sink, which must be another sink than the ones
 * events go to; the sink is for that policy only. */
static void
finish_quarantine(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
				  const char *path, const trib_schemas_conf *s)
{
	const trib_config *cfg = ck_config(c);
	const trib_yaml_node *v = map ? trib_yaml_map_get(map, "quarantine") : NULL;
	char	   *key = ck_path(path, "quarantine");

	if (s->on_incompatible == TRIB_SCHEMAS_QUARANTINE && s->quarantine == NULL)
		ck_error(c, ck_value_or(map, "on_incompatible", map ? map : at), key,
				 "on_incompatible: quarantine needs quarantine "
				 "(the name of the sink that receives those events)");
	else if (s->on_incompatible != TRIB_SCHEMAS_QUARANTINE && s->quarantine != NULL)
		ck_error(c, v, key, "quarantine is only used with on_incompatible: quarantine");
	else if (s->quarantine != NULL && trib_config_find_sink(cfg, s->quarantine) == NULL)
		ck_error(c, v, key, "no sink named \"%s\" (accepted: the name of one of sinks:)",
				 s->quarantine);
	else if (s->quarantine != NULL && cfg->dead_letter != NULL &&
			 strcmp(cfg->dead_letter, s->quarantine) == 0)
		ck_error(c, v, key, "sink %s is the dead_letter sink (accepted: another sink)",
				 s->quarantine);
	else if (s->quarantine != NULL && cfg->nsinks < 2)
		ck_error(c, v, key, "the quarantine sink would be the only sink (accepted: another "
				 "sink than the one events go to)");
	free(key);
}

static void
finish_schemas(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
			   const char *path, void *base, const char *name)
{
	const trib_schemas_conf *s = base;

	(void) name;
	finish_migrations(c, map, path, s);
	finish_quarantine(c, map, at, path, s);
}
