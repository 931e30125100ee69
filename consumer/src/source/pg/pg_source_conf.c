/*
 * pg_source_conf.c: the key table of a `type: postgres` source (see
 * pg_source_conf.h), its value checks and its finish functions: the
 * default slot name, the plugin option two-phase (on or off), the plugin
 * options tributary manages itself, and reconnect_backoff_ms's initial <=
 * max.
 *
 * Adding a key: a field in trib_pg_source_conf and one row below; run
 * `make -C consumer doc`.
 */
#include "pg_source_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config_keys.h"
#include "snapshot_tables.h"
#include "source_pg.h"
#include "strbuf.h"

/* Enums are stored through int pointers. */
_Static_assert(sizeof(trib_snapshot_mode) == sizeof(int), "enum size");

static const char *const snapshot_words[] = {"initial", "never", "only", NULL};

static bool check_slot_name(const char *value, char *msg, size_t msglen);
static bool check_table_pattern(const char *value, char *msg, size_t msglen);
static void finish_pg_source(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							 const char *path, void *base, const char *name);
static void finish_backoff(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
						   const char *path, void *base, const char *name);

static const ck_key backoff_keys[] = {
	CK_BACKOFF_ROWS("500"),
	CK_END_ROW
};

static const ck_section backoff_section = {
	.doc_title = "`sources.<name>.reconnect_backoff_ms`",
	.keys = backoff_keys,
	.finish = finish_backoff,
	.doc_intro = "After a lost connection the source waits `initial` ms before reconnecting, "
	"then twice as long after each further failure, up to `max`.",
};

static const ck_key pg_source_keys[] = {
	CK_TYPE_ROW("`postgres`", "the kind of source (later also `mysql`, `mongodb`)"),
	CK_ROW(trib_pg_source_conf, dsn, CK_STRING, CK_REQUIRED | CK_SECRET,
		.check = ck_check_conninfo, .doc_type = "conninfo",
		.desc = "libpq connection string or `postgres://` URI of the database to capture"),
	CK_ROW(trib_pg_source_conf, slot, CK_STRING, 0,
		.check = check_slot_name, .doc_default = "`tributary_<pipeline>`",
		.desc = "logical replication slot (a-z, 0-9, _; at most 63 characters); "
		"`-` in the pipeline name becomes `_` in the default"),
	CK_ROW(trib_pg_source_conf, create_slot, CK_BOOL, 0, .def = "true",
		.desc = "create the slot with the tributary plugin when it does not exist"),
	CK_ROW(trib_pg_source_conf, create_extension, CK_BOOL, 0, .def = "false",
		.desc = "run `CREATE EXTENSION IF NOT EXISTS tributary` (the catalog) at start-up"),
	CK_ROW(trib_pg_source_conf, include_tables, CK_STRLIST, 0,
		.doc_type = "list of patterns",
		.desc = "capture only tables matching these `schema.table` patterns "
		"(plugin option `include-tables`; `*` and `?` are wildcards); default all"),
	CK_ROW(trib_pg_source_conf, exclude_tables, CK_STRLIST, 0,
		.doc_type = "list of patterns",
		.desc = "leave out tables matching these patterns (plugin option `exclude-tables`)"),
	CK_ROW(trib_pg_source_conf, snapshot, CK_ENUM, 0, .def = "initial", .words = snapshot_words,
		.desc = "`initial`: copy existing rows when the slot is created, then stream; "
		"`never`: stream only; `only`: copy, then stop (docs/SNAPSHOT.md)"),
	CK_ROW(trib_pg_source_conf, snapshot_tables, CK_STRLIST, 0,
		.check = check_table_pattern, .doc_type = "list of patterns",
		.doc_default = "the captured tables",
		.desc = "copy only the captured tables that also match these `schema.table` patterns"),
	CK_ROW(trib_pg_source_conf, snapshot_workers, CK_INT, 0, .def = "2", .min = 1, .max = 64,
		.desc = "tables copied in parallel, each worker on its own connection"),
	CK_ROW(trib_pg_source_conf, snapshot_chunk_rows, CK_INT, 0, .def = "10000",
		.min = 1, .max = 10000000,
		.desc = "rows per query (keyset chunk by primary key); progress is saved per chunk"),
	CK_ROW(trib_pg_source_conf, snapshot_buffer_mb, CK_INT, 0, .def = "64", .min = 1, .max = 65536,
		.desc = "memory bound of the rows read but not yet written to the sinks, in MiB "
		"(plus one chunk per worker)"),
	CK_ROW(trib_pg_source_conf, heartbeat_interval_ms, CK_INT, 0, .def = "10000",
		.min = 0, .max = 3600000,
		.desc = "interval of heartbeat messages that let the slot advance while the "
		"captured tables are idle; 0 turns them off"),
	CK_ROW(trib_pg_source_conf, status_interval_ms, CK_INT, 0, .def = "1000",
		.min = 1, .max = 3600000,
		.desc = "interval of standby status updates (confirmed position) to the server"),
	CK_ROW(trib_pg_source_conf, reconnect_backoff_ms, CK_SECTION, 0, .section = &backoff_section,
		.doc_type = "map",
		.desc = "reconnection delays: `{initial: 500, max: 30000}` (see below)"),
	CK_ROW(trib_pg_source_conf, plugin_options, CK_KVLIST, 0,
		.desc = "further output plugin options, `name: value`, passed untouched as "
		"`-o name=value` (docs/PLUGIN.md), e.g. `skip-empty-xacts: true`; with "
		"`two-phase: on` prepared transactions are decoded at PREPARE and held until "
		"COMMIT PREPARED (see above)"),
	CK_ROW(trib_pg_source_conf, prepared_buffer_mb, CK_INT, 0, .def = "64", .min = 1, .max = 65536,
		.desc = "two-phase: memory for the events of prepared transactions held until "
		"COMMIT PREPARED, in MiB, all of them together; events past it go to spill files"),
	CK_ROW(trib_pg_source_conf, prepared_spill_dir, CK_STRING, 0, .doc_type = "path",
		.doc_default = "`$TMPDIR`, else `/var/tmp`",
		.desc = "two-phase: directory of the spill files (`tributary.<pipeline>.<source>.*`, "
		"mode 0600); they are deleted when their transaction commits or rolls back, and at "
		"start-up"),
	CK_END_ROW
};

static const ck_section pg_source_section = {
	.doc_title = "`sources.<name>` with `type: postgres`",
	.what = "a postgres source",
	.keys = pg_source_keys,
	.finish = finish_pg_source,
	.doc_intro = "Captures changes from a PostgreSQL database through a logical "
	"replication slot and the tributary output plugin. `resume-after` is managed by "
	"tributary and cannot be given in `plugin_options`.\n\n"
	"With `plugin_options: {two-phase: on}` PostgreSQL decodes a prepared transaction at "
	"PREPARE TRANSACTION. tributary holds it (in memory up to `prepared_buffer_mb`, then "
	"in `prepared_spill_dir`) and writes it to the sinks only at COMMIT PREPARED, as a "
	"transaction committed there, with the event ids it has without two-phase; ROLLBACK "
	"PREPARED drops it. The slot is not confirmed past the PREPARE of a transaction still "
	"held, so that PostgreSQL sends it again after a restart. Once a slot has run with "
	"two-phase, keep it on: PostgreSQL 15 cannot turn it off for the slot, and a "
	"transaction prepared while tributary ran without it, and committed after it is "
	"turned on again, arrives without its changes (tributary logs a warning).",
};

static const char *pg_catalog_dsn(const void *conf);
static bool pg_captures(const void *conf, const char *schema, const char *table);
static void pg_check_erasure(ck_ctx *c, const trib_yaml_node *at, const char *path,
							 const void *conf);

static const trib_source_conf_ops pg_conf_ops = {
	.catalog_dsn = pg_catalog_dsn,
	.captures = pg_captures,
	.check_erasure = pg_check_erasure,
};

const trib_plugin trib_source_postgres = {
	.type = "postgres",
	.source_ops = &trib_pg_source_ops,
	.section = &pg_source_section,
	.conf_size = sizeof(trib_pg_source_conf),
	.conf_ops = &pg_conf_ops,
};

/* See pg_source_conf.h. */
TRIB_PLUGIN_CONF_ACCESSOR(trib_pg_source_conf_of, trib_pg_source_conf, trib_source_postgres)

/* ---- value checks ----------------------------------------------------- */

static bool
check_slot_name(const char *value, char *msg, size_t msglen)
{
	return ck_check_name(value, "replication slot name", CK_LOWER_DIGITS "_", 63,
						 "a-z, 0-9 and _", msg, msglen);
}

/* A table pattern as the plugin accepts it: schema.table, quoted parts. */
static bool
check_table_pattern(const char *value, char *msg, size_t msglen)
{
	bool		bad = false;

	(void) trib_snaptab_pattern_match(value, "", "", &bad);
	if (bad)
		snprintf(msg, msglen, "\"%s\" is not a schema.table pattern (e.g. public.orders, "
				 "public.*, \"My.Schema\".\"T\"; '*' and '?' are wildcards outside quotes)", value);
	return !bad;
}

/* ---- finish functions ------------------------------------------------- */

/* Default slot; the plugin option two-phase; plugin options tributary
 * manages itself. */
static void
finish_pg_source(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
				 void *base, const char *name)
{
	static const char *const managed[][2] = {
		{"resume-after", "is managed by tributary (from the checkpoint)"},
		{"include-tables", "has its own key: use include_tables"},
		{"exclude-tables", "has its own key: use exclude_tables"},
	};
	trib_pg_source_conf *pg = base;
	const trib_config *cfg = ck_config(c);
	const trib_yaml_node *opts = trib_yaml_map_get(map, "plugin_options");

	(void) at;
	(void) name;
	if (pg->slot == NULL && cfg->pipeline != NULL)
	{
		trib_strbuf b = {0};

		trib_strbuf_printf(&b, "tributary_%s", cfg->pipeline);
		for (char *p = b.data; *p; p++)
			if (*p == '-')
				*p = '_';
		pg->slot = trib_strbuf_finish(&b);
	}
	for (size_t i = 0; i < pg->plugin_options.count; i++)
	{
		const char *k = pg->plugin_options.items[i].key;

		if (strcmp(k, "two-phase") == 0 &&
			!trib_pg_option_bool(pg->plugin_options.items[i].value, &pg->two_phase))
		{
			char	   *p = ck_path(path, "plugin_options");

			ck_key_error(c, trib_yaml_map_get(opts, k), p, k,
						 "expected on or off (true/false, yes/no, 1/0), got \"%s\"",
						 pg->plugin_options.items[i].value);
			free(p);
		}
		for (size_t m = 0; m < sizeof(managed) / sizeof(managed[0]); m++)
		{
			if (strcmp(pg->plugin_options.items[i].key, managed[m][0]) == 0)
			{
				char	   *p = ck_path(path, "plugin_options");

				ck_key_error(c, trib_yaml_map_key(opts, managed[m][0]), p, managed[m][0], "%s",
							 managed[m][1]);
				free(p);
			}
		}
	}
}

/* initial <= max. */
static void
finish_backoff(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
			   void *base, const char *name)
{
	trib_backoff_conf *b = base;

	(void) name;
	if (b->initial > b->max)
		ck_key_error(c, ck_value_or(map, "initial", at), path, "initial",
					 "%d is more than max (%d)", b->initial, b->max);
}

/* ---- what the pipeline's sections ask (registry.h) --------------------- */

/* The source's own database: the default catalog of checkpoints and of
 * erasure requests. */
static const char *
pg_catalog_dsn(const void *conf)
{
	const trib_pg_source_conf *pg = conf;

	return pg->dsn;
}

/* See pg_source_conf.h. */
bool
trib_pg_source_captures(const trib_pg_source_conf *pg, const char *schema, const char *table)
{
	bool		bad = false;
	bool		in = pg->include_tables.count == 0;

	for (size_t i = 0; !in && i < pg->include_tables.count; i++)
		in = trib_snaptab_pattern_match(pg->include_tables.items[i], schema, table, &bad);
	for (size_t i = 0; in && i < pg->exclude_tables.count; i++)
		in = !trib_snaptab_pattern_match(pg->exclude_tables.items[i], schema, table, &bad);
	return in;
}

static bool
pg_captures(const void *conf, const char *schema, const char *table)
{
	return trib_pg_source_captures(conf, schema, table);
}

/* Does the plugin send inserts under the source's `actions` option? */
static bool
sends_inserts(const trib_pg_source_conf *pg)
{
	const char *a = trib_config_kvlist_get(&pg->plugin_options, "actions");

	for (const char *p = a; p != NULL; p = strchr(p, ','), p = p ? p + 1 : NULL)
	{
		while (*p == ' ')
			p++;
		if (strncmp(p, "insert", 6) == 0 && (p[6] == ',' || p[6] == ' ' || p[6] == '\0'))
			return true;
	}
	return a == NULL;
}

/* Erasure requests arrive as inserts into the catalog's erasure tables:
 * no exclude pattern may match them, and the plugin must send inserts. */
static void
pg_check_erasure(ck_ctx *c, const trib_yaml_node *at, const char *path, const void *conf)
{
	static const char *const tables[] = {TRIB_ERASURE_REQUESTS, TRIB_ERASURE_KEYS};
	const trib_pg_source_conf *pg = conf;

	for (size_t i = 0; i < pg->exclude_tables.count; i++)
		for (size_t t = 0; t < 2; t++)
		{
			bool		bad = false;

			if (trib_snaptab_pattern_match(pg->exclude_tables.items[i], TRIB_CATALOG_SCHEMA,
										tables[t], &bad))
				ck_error(c, at, path, "the source's exclude_tables pattern \"%s\" matches "
						 "%s.%s, where erasure requests come from",
						 pg->exclude_tables.items[i], TRIB_CATALOG_SCHEMA, tables[t]);
		}
	if (!sends_inserts(pg))
		ck_error(c, at, path, "the source's plugin option actions leaves out insert: "
				 "erasure requests are inserts");
}
