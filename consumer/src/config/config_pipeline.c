/*
 * config_pipeline.c: the pipeline's own sections of pipeline.yaml: the top
 * level, erasure, checkpoint and log, with their value checks and finish
 * functions (checks across keys, defaults computed from other values).
 *
 * Everything else is declared by its owner: each source and sink type's
 * table in its own folder, reached through the registry (registry.h);
 * the `http` section by the server (pipeline/http_conf.c) and the
 * transform rules' tables in rules_conf.c, both declared in
 * config_keys.h.  The top level's `sources` and `sinks` keys hand their
 * maps to the loader's plugin family walker with the registered lists.
 *
 * The checkpoint and erasure sections depend on the source: the catalog
 * defaults to its database, erasure targets must be tables it captures,
 * and its settings must let the erasure requests through.  They ask the
 * first source through its trib_source_conf_ops (registry.h), so this
 * file knows no source type.
 *
 * Adding a key: one row here and a field in config.h; run
 * `make -C consumer doc`.
 */
#include "config.h"
#include "config_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "hmac.h"
#include "keys.h"
#include "log.h"
#include "registry.h"
#include "seal.h"
#include "strbuf.h"

/* Enums are stored through int pointers. */
_Static_assert(sizeof(trib_checkpoint_store) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_dlq_images) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_erasure_action) == sizeof(int), "enum size");
/* A subject_key_format (trib_rule_key_format) is read as a trib_key_format. */
_Static_assert((int) TRIB_RKEY_RAW == (int) TRIB_KEY_RAW && (int) TRIB_RKEY_HEX == (int) TRIB_KEY_HEX &&
			   (int) TRIB_RKEY_BASE64 == (int) TRIB_KEY_BASE64, "key formats");

static const char *const store_words[] = {"catalog", "file", NULL};
static const char *const level_words[] = {"error", "warn", "info", "debug", NULL};
static const char *const log_format_words[] = {"text", "json", NULL};
static const char *const dlq_images_words[] = {"none", "original", NULL};
static const char *const erasure_action_words[] = {"delete", "anonymize", NULL};

static bool check_pipeline_name(const char *value, char *msg, size_t msglen);
static void finish_top(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
					   const char *path, void *base, const char *name);
static void finish_checkpoint(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							  const char *path, void *base, const char *name);
static void finish_erasure(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
						   const char *path, void *base, const char *name);
static void parse_sources(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value,
						  const char *path, void *base);
static void parse_sinks(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value,
						const char *path, void *base);
static void parse_transforms(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value,
							 const char *path, void *base);
static void free_sources(void *base);
static void free_transforms(void *base);
static void free_sinks(void *base);

/* ---- checkpoint, erasure, log ----------------------------------------- */

static const ck_key checkpoint_keys[] = {
	CK_ROW(trib_checkpoint_conf, store, CK_ENUM, 0, .def = "catalog", .words = store_words,
		.desc = "`catalog`: table `tributary.source_checkpoints` (needs the extension); "
		"`file`: a local file"),
	CK_ROW(trib_checkpoint_conf, path, CK_STRING, 0, .doc_type = "path",
		.desc = "the checkpoint file; required with `store: file`, not allowed otherwise; "
		"a pipeline with several sources keeps one file per source, PATH.NAME"),
	CK_ROW(trib_checkpoint_conf, dsn, CK_STRING, CK_SECRET,
		.check = ck_check_conninfo, .doc_type = "conninfo",
		.doc_default = "the first postgres source's dsn",
		.desc = "database holding the catalog (`store: catalog` only)"),
	CK_ROW(trib_checkpoint_conf, encryption_key, CK_STRING, CK_SECRET, .doc_type = "secret",
		.desc = "AES-256 key, 32 bytes: the opaque part of every position written to the "
		"store (a MongoDB resume token, a snapshot's progress: both hold row keys; the pause "
		"state) is sealed with AES-256-GCM; LSNs, cluster times and binlog offsets stay "
		"clear (`${ENV}` or `encryption_key_file`; docs/OPERATIONS.md, Sealed checkpoints)"),
	CK_ROW(trib_checkpoint_conf, encryption_key_format, CK_ENUM, 0, .def = "auto",
		.words = ck_key_format_words,
		.desc = "how `encryption_key` is written: `hex`, `base64`, `raw` (its bytes), or "
		"`auto` (hex when only hex digits, else base64)"),
	CK_END_ROW
};

static const ck_section checkpoint_section = {
	.doc_title = "`checkpoint`",
	.what = "the checkpoint section",
	.keys = checkpoint_keys,
	.finish = finish_checkpoint,
	.doc_intro = "Where the position of the last change every sink made durable is kept.",
};

static const ck_key erasure_keys[] = {
	CK_ROW(trib_erasure_conf, targets, CK_STRLIST, 0, .doc_type = "list",
		.desc = "`schema.table.column` entries: where the subject's rows are found; each "
		"table must be captured by the source (required)"),
	CK_ROW(trib_erasure_conf, action, CK_ENUM, 0, .def = "delete", .words = erasure_action_words,
		.desc = "`delete` the subject's rows (Kafka: tombstones), or `anonymize`: keep "
		"them with every column outside the key null"),
	CK_ROW(trib_erasure_conf, audit_log, CK_STRING, 0, .doc_type = "path",
		.desc = "JSON Lines file recording every request, accepted or refused (required)"),
	CK_ROW(trib_erasure_conf, audit_log_mode, CK_STRING, 0, .def = "0600", .check = ck_check_file_mode,
		.doc_type = "octal", .desc = "permissions of the audit log (an existing file is "
		"narrowed to them)"),
	CK_ROW(trib_erasure_conf, subject_key, CK_STRING, CK_SECRET, .doc_type = "secret",
		.desc = "HMAC key, 16 to 1024 bytes: the audit log records HMAC-SHA256 of the "
		"subject, never the subject (required; `${ENV}` or `subject_key_file`)"),
	CK_ROW(trib_erasure_conf, subject_key_format, CK_ENUM, 0, .def = "auto",
		.words = ck_key_format_words,
		.desc = "how `subject_key` is written: `hex`, `base64`, `raw` (its bytes), or "
		"`auto` (hex when only hex digits, else base64)"),
	CK_ROW(trib_erasure_conf, dsn, CK_STRING, CK_SECRET, .check = ck_check_conninfo,
		.doc_type = "conninfo", .doc_default = "the source's dsn",
		.desc = "the source database, where the subject's rows are looked up and their keys "
		"written (its role needs `tributary_eraser`)"),
	CK_END_ROW
};

static const ck_section erasure_section = {
	.doc_title = "`erasure`",
	.what = "the erasure section",
	.keys = erasure_keys,
	.finish = finish_erasure,
	.doc_intro = "Erasure requests (the right to be forgotten): a row inserted into "
	"`tributary.erasure_requests` (by a member of `tributary_eraser`) names a subject; "
	"tributary finds the subject's rows in `targets` and deletes (or anonymises) them in "
	"every sink. Logical messages carry no authority and are refused. See "
	"docs/TRANSFORMS.md.",
};

static const ck_key log_keys[] = {
	CK_ROW(trib_log_conf, level, CK_ENUM, 0, .def = "info", .words = level_words,
		.desc = "least severe level written"),
	CK_ROW(trib_log_conf, format, CK_ENUM, 0, .def = "text", .words = log_format_words,
		.desc = "`text` lines, or `json`: one object per line"),
	CK_ROW(trib_log_conf, file, CK_STRING, 0, .doc_type = "path", .doc_default = "standard error",
		.desc = "append to this file instead; reopened on SIGHUP (log rotation)"),
	CK_END_ROW
};

static const ck_section log_section = {
	.doc_title = "`log`",
	.what = "the log section",
	.keys = log_keys,
	.doc_intro = "Secrets (every `dsn`, anything read from a `*_file` key, secret Kafka "
	"properties) are replaced by `***` in every log line.",
};

/* ---- the top level ---------------------------------------------------- */

static const ck_key top_keys[] = {
	CK_ROW(trib_config, pipeline, CK_STRING, CK_REQUIRED, .check = check_pipeline_name,
		.doc_type = "name",
		.desc = "name of the pipeline: a-z, 0-9, `_` and `-`, at most 53 characters; "
		"the default slot name and topic prefix derive from it"),
	{.name = "sources", .type = CK_CUSTOM, .flags = CK_REQUIRED,
		.custom = parse_sources, .custom_free = free_sources, .doc_type = "map",
		.desc = "at least one source: `name: {type: ..., ...}` (names: a-z, 0-9, `_`, `-`)"},
	{.name = "transforms", .type = CK_CUSTOM,
		.custom = parse_transforms, .custom_free = free_transforms, .doc_type = "list",
		.desc = "rules applied in order to every event (see `transforms[]` below and "
		"docs/TRANSFORMS.md)"},
	{.name = "sinks", .type = CK_CUSTOM, .flags = CK_REQUIRED,
		.custom = parse_sinks, .custom_free = free_sinks, .doc_type = "map",
	.desc = "at least one sink: `name: {type: ..., ...}`; every event goes to every sink"},
	CK_ROW(trib_config, dead_letter, CK_STRING, 0, .doc_type = "sink name",
		.desc = "the sink that receives events a rule rejects or fails on, with the reason; "
		"it receives nothing else"),
	CK_ROW(trib_config, dead_letter_images, CK_ENUM, 0, .def = "none", .words = dlq_images_words,
		.desc = "`none`: dead-letter records carry the reason, table and position but no "
		"row data (safe for PII); `original`: also the event as the source sent it"),
	CK_ROW(trib_config, strict, CK_BOOL, 0, .def = "false",
		.desc = "every column of every captured table needs a rule (`allow` to pass it); "
		"a column without one is replaced by null, and `tributary check` lists them"),
	CK_ROW(trib_config, lua_max_instructions, CK_INT64, 0, .def = "1000000", .min = 1000,
		.max = INT64_MAX, .desc = "Lua rules: VM instructions one evaluation may run"),
	CK_ROW(trib_config, lua_max_memory_mb, CK_INT, 0, .def = "32", .min = 1, .max = 65536,
		.desc = "Lua rules: memory of the Lua state, in MiB"),
	CK_ROW(trib_config, transform_workers, CK_INT, 0, .def = "2", .min = 1, .max = 64,
		.desc = "threads (the pipeline's own counted) that apply the rules to a batch of "
		"events when every rule is a pure function of its event (masking strategies, "
		"drop, keep, rename, cast, sample, route by template: docs/TRANSFORMS.md); the "
		"events reach the sinks in their order either way; 1: the pipeline's thread alone"),
	CK_ROW(trib_config, pause_buffer_mb, CK_INT, 0, .def = "64", .min = 0, .max = 65536,
		.desc = "per paused sink: MiB of its events held in memory while the other sinks "
		"go on; when one sink's buffer reaches it, no source is read until that sink is "
		"resumed and drains (0: no source is read while any sink is paused)"),
	CK_ROW(trib_config, erasure, CK_SECTION, 0, .section = &erasure_section,
		.doc_type = "map", .desc = "erasure requests (see below)"),
	CK_ROW(trib_config, checkpoint, CK_SECTION, 0, .section = &checkpoint_section,
		.doc_type = "map", .desc = "where positions are stored (see below)"),
	CK_ROW(trib_config, http, CK_SECTION, 0, .section = &ck_http_section,
		.doc_type = "map", .desc = "monitoring endpoint (see below)"),
	CK_ROW(trib_config, schema_registry, CK_SECTION, 0, .section = &ck_schema_registry_section,
		.doc_type = "map", .desc = "Confluent-compatible schema registry API (see below)"),
	CK_ROW(trib_config, schemas, CK_SECTION, 0, .section = &ck_schemas_section,
		.doc_type = "map", .desc = "the schema stage: register each table's schema (see below)"),
	CK_ROW(trib_config, lineage, CK_SECTION, 0, .section = &ck_lineage_section,
		.doc_type = "map", .desc = "record the column-level lineage (see below)"),
	CK_ROW(trib_config, log, CK_SECTION, 0, .section = &log_section,
		.doc_type = "map", .desc = "logging (see below)"),
	CK_END_ROW
};

const ck_section ck_top_section = {
	.doc_title = "Top level",
	.what = "the top level",
	.keys = top_keys,
	.finish = finish_top,
	.doc_intro = "A pipeline file is a YAML map with these keys.",
};

const ck_section *const ck_pipeline_sections[] = {
	&erasure_section,
	&checkpoint_section,
	&ck_http_section,
	&ck_schema_registry_section,
	&ck_schemas_section,
	&ck_schema_migration_section,
	&ck_schema_migration_step_section,
	&ck_lineage_section,
	&log_section,
	NULL
};

/* ---- value checks ----------------------------------------------------- */

static bool
check_pipeline_name(const char *value, char *msg, size_t msglen)
{
	return ck_check_name(value, "pipeline name", CK_LOWER_DIGITS "_-", 53,
						 "a-z, 0-9, _ and -", msg, msglen);
}

/* ---- finish functions ------------------------------------------------- */

/* The dead-letter sink exists; no two keys name one written file. */
static void
finish_top(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
		   void *base, const char *name)
{
	trib_config *cfg = base;

	(void) at;
	(void) path;
	(void) name;
	if (cfg->dead_letter != NULL && trib_config_find_sink(cfg, cfg->dead_letter) == NULL)
	{
		trib_strbuf names = {0};

		for (size_t i = 0; i < cfg->nsinks; i++)
			trib_strbuf_printf(&names, "%s%s", i ? ", " : "", cfg->sinks[i].name);
		ck_error(c, trib_yaml_map_get(map, "dead_letter"), "dead_letter",
				 "no sink named \"%s\" (accepted: %s)", cfg->dead_letter,
				 names.len ? names.data : "the name of a sink");
		trib_strbuf_free(&names);
	}
	else if (cfg->dead_letter != NULL && cfg->nsinks == 1)
		ck_error(c, trib_yaml_map_get(map, "dead_letter"), "dead_letter",
				 "the dead_letter sink would be the only sink (accepted: another sink "
				 "than the one events go to)");
	ck_check_written_paths(c, map);
}

/* What a member of `sources:` answers the pipeline's sections (registry.h);
 * every answer is optional. */
static const trib_source_conf_ops *
source_conf_ops(const trib_source_conf *sc)
{
	static const trib_source_conf_ops none = {0};

	return sc->plugin->conf_ops != NULL ? sc->plugin->conf_ops : &none;
}

/* The catalog conninfo a source gives, or NULL. */
static const char *
source_catalog_dsn(const trib_source_conf *sc)
{
	const trib_source_conf_ops *ops = source_conf_ops(sc);

	return ops->catalog_dsn != NULL ? ops->catalog_dsn(sc->conf) : NULL;
}

/* See config.h. */
trib_key *
trib_checkpoint_conf_key(const trib_checkpoint_conf *cp, char *errbuf, size_t errlen)
{
	static const size_t lens[] = {TRIB_SEAL_KEY_LEN};
	trib_key   *k = trib_key_parse(cp->encryption_key, strlen(cp->encryption_key),
								   (trib_key_format) cp->encryption_key_format,
								   "checkpoint.encryption_key", errbuf, errlen);

	if (k != NULL && !trib_key_require_lens(k, lens, 1, "sealing checkpoints (AES-256-GCM)",
											errbuf, errlen))
	{
		trib_key_free(k);
		return NULL;
	}
	return k;
}

/* The checkpoint's encryption key: parsed now, so a bad one is reported
 * with its line (the message names the key, never its value). */
static void
check_encryption_key(ck_ctx *c, const trib_yaml_node *map, const char *path,
					 const trib_checkpoint_conf *cp)
{
	const trib_yaml_node *at = ck_value_or(map, "encryption_key",
										   ck_value_or(map, "encryption_key_file", map));
	char		msg[256];
	trib_key   *k = trib_checkpoint_conf_key(cp, msg, sizeof(msg));

	if (k == NULL)
		ck_error(c, at, path, "%s", msg);
	trib_key_free(k);
}

/* store decides which of path and dsn apply; dsn defaults to a source's. */
static void
finish_checkpoint(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
				  void *base, const char *name)
{
	trib_checkpoint_conf *cp = base;
	const trib_config *cfg = ck_config(c);
	const trib_yaml_node *where = map ? map : at;
	char	   *p_path = ck_path(path, "path");
	char	   *p_dsn = ck_path(path, "dsn");

	(void) name;
	if (cp->store == TRIB_CHECKPOINT_FILE)
	{
		if (cp->path == NULL)
			ck_error(c, where, p_path, "required key is missing (with store: file)");
		if (cp->dsn != NULL)
			ck_error(c, trib_yaml_map_key(map, "dsn") ? trib_yaml_map_key(map, "dsn") : trib_yaml_map_key(map, "dsn_file"),
					 p_dsn, "is only used with store: catalog");
	}
	else
	{
		if (cp->path != NULL)
			ck_key_error_in(c, map, where, path, "path", "is only used with store: file");
		for (size_t i = 0; cp->dsn == NULL && i < cfg->nsources; i++)
		{
			const char *dsn = source_catalog_dsn(&cfg->sources[i]);

			if (dsn != NULL)
			{
				cp->dsn = trib_xstrdup(dsn);
				cp->dsn_source = trib_xstrdup(cfg->sources[i].name);
			}
		}
		if (cp->dsn == NULL && cfg->nsources > 0)
		{
			bool		any_pg = false;

			for (size_t i = 0; i < cfg->nsources; i++)
				any_pg |= source_conf_ops(&cfg->sources[i])->catalog_dsn != NULL;
			if (!any_pg)
				ck_error(c, where, p_dsn, "required with store: catalog when no "
						 "postgres source gives a dsn");
		}
	}
	if (cp->encryption_key != NULL)
		check_encryption_key(c, map, path, cp);
	free(p_path);
	free(p_dsn);
}

/* ---- custom keys ------------------------------------------------------ */

/* sources: a map of name -> section whose type is a registered source. */
static void
parse_sources(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value, const char *path,
			  void *base)
{
	trib_config *cfg = base;

	ck_parse_plugins(c, key, value, path, "source", trib_registry_sources,
					 &cfg->sources, &cfg->nsources);
}

/* sinks: a map of name -> section whose type is a registered sink. */
static void
parse_sinks(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value, const char *path,
			void *base)
{
	trib_config *cfg = base;

	ck_parse_plugins(c, key, value, path, "sink", trib_registry_sinks,
					 &cfg->sinks, &cfg->nsinks);
}

static void
free_sources(void *base)
{
	trib_config *cfg = base;

	ck_free_plugins(cfg->sources, cfg->nsources);
}

static void
free_sinks(void *base)
{
	trib_config *cfg = base;

	ck_free_plugins(cfg->sinks, cfg->nsinks);
}

/* transforms: a list of rules (rules_conf.c). */
static void
parse_transforms(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value,
				 const char *path, void *base)
{
	(void) base;
	ck_parse_list_family(c, key, value, path, &ck_rules_family);
}

static void
free_transforms(void *base)
{
	ck_free_family(&ck_rules_family, base);
}

/* One erasure target: schema.table.column, a table the source captures. */
static void
check_erasure_target(ck_ctx *c, const trib_yaml_node *at, const char *path, const char *t,
					 const trib_source_conf *src)
{
	const char *d1 = strchr(t, '.');
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	char	   *schema,
			   *table;

	if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '.') || d1 == t || d2 == d1 + 1 || d2[1] == '\0')
	{
		ck_error(c, at, path, "target \"%s\" is not schema.table.column (accepted: e.g. "
				 "public.orders.customer_id)", t);
		return;
	}
	schema = trib_xstrndup(t, (size_t) (d1 - t));
	table = trib_xstrndup(d1 + 1, (size_t) (d2 - d1 - 1));
	if (strcmp(schema, TRIB_CATALOG_SCHEMA) == 0)
		ck_error(c, at, path, "target \"%s\" is in tributary's own catalog", t);
	else if (src != NULL && source_conf_ops(src)->captures != NULL &&
			 !source_conf_ops(src)->captures(src->conf, schema, table))
		ck_error(c, at, path, "target \"%s\": table %s.%s is not captured by the source "
				 "(include_tables / exclude_tables); an erasure only reaches rows the "
				 "pipeline itself wrote", t, schema, table);
	free(schema);
	free(table);
}

/* The subject key: parsed now, so a bad one is reported with its line. */
static void
check_subject_key(ck_ctx *c, const trib_yaml_node *map, const char *path, const trib_erasure_conf *e)
{
	const trib_yaml_node *at = ck_value_or(map, "subject_key",
										   ck_value_or(map, "subject_key_file", map));
	char		msg[256];
	trib_key   *k = trib_key_parse(e->subject_key, strlen(e->subject_key),
								   (trib_key_format) e->subject_key_format,
								   "the erasure subject_key", msg, sizeof(msg));

	if (k == NULL ||
		!trib_key_require_range(k, TRIB_HMAC_KEY_MIN, TRIB_HMAC_KEY_MAX,
								"the audit log's subject HMAC", msg, sizeof(msg)))
		ck_error(c, at, path, "%s", msg);
	trib_key_free(k);
}

/*
 * erasure: all or nothing.  Targets name a table the source captures and a
 * column; the source must deliver the erasure tables (no exclude pattern
 * matching them, inserts sent).
 */
static void
finish_erasure(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
			   void *base, const char *name)
{
	trib_erasure_conf *e = base;
	trib_config *cfg = ck_config(c);
	const trib_source_conf *src = cfg->nsources > 0 ? &cfg->sources[0] : NULL;
	const char *dsn = src != NULL ? source_catalog_dsn(src) : NULL;

	(void) name;
	(void) at;
	if (map == NULL)
		return;
	if (e->targets.count == 0 || e->audit_log == NULL || e->subject_key == NULL)
		ck_error(c, map, path, "erasure needs targets, audit_log and subject_key "
				 "(requests come from tributary.erasure_requests; see docs/TRANSFORMS.md)");
	for (size_t i = 0; i < e->targets.count; i++)
		check_erasure_target(c, trib_yaml_map_get(map, "targets"), path, e->targets.items[i], src);
	if (e->subject_key != NULL)
		check_subject_key(c, map, path, e);
	if (src != NULL && source_conf_ops(src)->check_erasure != NULL)
		source_conf_ops(src)->check_erasure(c, map, path, src->conf);
	if (e->dsn == NULL && dsn != NULL)
		e->dsn = trib_xstrdup(dsn);
}
