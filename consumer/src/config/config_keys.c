/*
 * config_keys.c: every key of pipeline.yaml, one table per section.
 *
 * This file is the single source of truth for the configuration: the
 * loader (config.c) validates against these rows and applies their
 * defaults, and the reference (config_doc.c -> docs/CONFIG.md) is printed
 * from them.  A row says: name, type, where the value is stored, flags
 * (required, secret), default, range or accepted words, one line of
 * description.  After the rows come the value checks (names, connection
 * strings, topics, listen addresses) and each section's finish function
 * (checks across keys, defaults computed from other values).
 *
 * Adding a key: one row here and a field in config.h; run
 * `make -C consumer doc`.  Adding a source or sink type: a struct in
 * config.h, a table and a variant line below.
 */
#include "config_keys.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "catalog.h"
#include "envelope.h"
#include "fileio.h"
#include "keys.h"
#include "http.h"
#include "log.h"
#include "mask_hash.h"
#include "snapshot_tables.h"
#include "source_pg.h"
#include "strbuf.h"

/* Enums are stored through int pointers. */
_Static_assert(sizeof(trib_snapshot_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_data_format) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_checkpoint_store) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_dlq_images) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_erasure_action) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_unchanged_toast) == sizeof(int), "enum size");
/* A subject_key_format (trib_rule_key_format) is read as a trib_key_format. */
_Static_assert((int) TRIB_RKEY_RAW == (int) TRIB_KEY_RAW && (int) TRIB_RKEY_HEX == (int) TRIB_KEY_HEX &&
			   (int) TRIB_RKEY_BASE64 == (int) TRIB_KEY_BASE64, "key formats");

/* One row: name from the field, so key and struct cannot drift. */
#define ROW(st, field, ktype, kflags, ...) \
	{ .name = #field, .type = (ktype), .offset = offsetof(st, field), \
	  .flags = (kflags), __VA_ARGS__ }
#define TYPE_ROW(words_, desc_) \
	{ .name = "type", .type = CK_TYPE, .flags = CK_REQUIRED, \
	  .doc_type = (words_), .desc = (desc_) }
#define END_ROW { .name = NULL }

/* The placeholders a topic_pattern may use (CK_TEMPLATE). */
const char *const ck_topic_vars[] = {"prefix", "source", "db", "schema", "table", NULL};

static const char *const snapshot_words[] = {"initial", "never", "only", NULL};
static const char *const data_format_words[] = {"json", NULL};
static const char *const store_words[] = {"catalog", "file", NULL};
static const char *const level_words[] = {"error", "warn", "info", "debug", NULL};
static const char *const log_format_words[] = {"text", "json", NULL};
static const char *const dlq_images_words[] = {"none", "original", NULL};
static const char *const erasure_action_words[] = {"delete", "anonymize", NULL};
const char *const ck_key_format_words[] = {"auto", "hex", "base64", "raw", NULL};
static const char *const toast_words[] = {"placeholder", "omit", NULL};
static const char *const unknown_types_words[] = {"fail", "text", NULL};

/* librdkafka properties whose values are secrets: masked in logs, and
 * readable from a file as NAME_file. */
static const char *const kafka_secret_properties[] = {
	"sasl.password",
	"sasl.oauthbearer.client.secret",
	"ssl.key.password",
	"ssl.key.pem",
	"ssl.keystore.password",
	NULL
};

static bool check_pipeline_name(const char *value, char *msg, size_t msglen);
static bool check_slot_name(const char *value, char *msg, size_t msglen);
static bool check_table_pattern(const char *value, char *msg, size_t msglen);
static bool check_topic_name(const char *value, char *msg, size_t msglen);
static bool check_topic_pattern(const char *value, char *msg, size_t msglen);
static bool check_listen(const char *value, char *msg, size_t msglen);
static bool check_file_mode(const char *value, char *msg, size_t msglen);
static void finish_top(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
					   const char *path, void *base, const char *name);
static void finish_pg_source(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							 const char *path, void *base, const char *name);
static void finish_backoff(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
						   const char *path, void *base, const char *name);
static void finish_kafka_sink(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							  const char *path, void *base, const char *name);
static void finish_checkpoint(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							  const char *path, void *base, const char *name);
static void finish_http(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
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

/* ---- sources ---------------------------------------------------------- */

static const ck_key backoff_keys[] = {
	ROW(trib_backoff_conf, initial, CK_INT, 0, .def = "500", .min = 1, .max = 3600000,
		.desc = "first delay, in milliseconds"),
	ROW(trib_backoff_conf, max, CK_INT, 0, .def = "30000", .min = 1, .max = 3600000,
		.desc = "longest delay, in milliseconds; must not be less than initial"),
	END_ROW
};

static const ck_section backoff_section = {
	.doc_title = "`sources.<name>.reconnect_backoff_ms`",
	.keys = backoff_keys,
	.finish = finish_backoff,
	.doc_intro = "After a lost connection the source waits `initial` ms before reconnecting, "
	"then twice as long after each further failure, up to `max`.",
};

static const ck_key pg_source_keys[] = {
	TYPE_ROW("`postgres`", "the kind of source (later also `mysql`, `mongodb`)"),
	ROW(trib_pg_source_conf, dsn, CK_STRING, CK_REQUIRED | CK_SECRET,
		.check = ck_check_conninfo, .doc_type = "conninfo",
		.desc = "libpq connection string or `postgres://` URI of the database to capture"),
	ROW(trib_pg_source_conf, slot, CK_STRING, 0,
		.check = check_slot_name, .doc_default = "`tributary_<pipeline>`",
		.desc = "logical replication slot (a-z, 0-9, _; at most 63 characters); "
		"`-` in the pipeline name becomes `_` in the default"),
	ROW(trib_pg_source_conf, create_slot, CK_BOOL, 0, .def = "true",
		.desc = "create the slot with the tributary plugin when it does not exist"),
	ROW(trib_pg_source_conf, create_extension, CK_BOOL, 0, .def = "false",
		.desc = "run `CREATE EXTENSION IF NOT EXISTS tributary` (the catalog) at start-up"),
	ROW(trib_pg_source_conf, include_tables, CK_STRLIST, 0,
		.doc_type = "list of patterns",
		.desc = "capture only tables matching these `schema.table` patterns "
		"(plugin option `include-tables`; `*` and `?` are wildcards); default all"),
	ROW(trib_pg_source_conf, exclude_tables, CK_STRLIST, 0,
		.doc_type = "list of patterns",
		.desc = "leave out tables matching these patterns (plugin option `exclude-tables`)"),
	ROW(trib_pg_source_conf, snapshot, CK_ENUM, 0, .def = "initial", .words = snapshot_words,
		.desc = "`initial`: copy existing rows when the slot is created, then stream; "
		"`never`: stream only; `only`: copy, then stop (docs/SNAPSHOT.md)"),
	ROW(trib_pg_source_conf, snapshot_tables, CK_STRLIST, 0,
		.check = check_table_pattern, .doc_type = "list of patterns",
		.doc_default = "the captured tables",
		.desc = "copy only the captured tables that also match these `schema.table` patterns"),
	ROW(trib_pg_source_conf, snapshot_workers, CK_INT, 0, .def = "2", .min = 1, .max = 64,
		.desc = "tables copied in parallel, each worker on its own connection"),
	ROW(trib_pg_source_conf, snapshot_chunk_rows, CK_INT, 0, .def = "10000",
		.min = 1, .max = 10000000,
		.desc = "rows per query (keyset chunk by primary key); progress is saved per chunk"),
	ROW(trib_pg_source_conf, snapshot_buffer_mb, CK_INT, 0, .def = "64", .min = 1, .max = 65536,
		.desc = "memory bound of the rows read but not yet written to the sinks, in MiB "
		"(plus one chunk per worker)"),
	ROW(trib_pg_source_conf, heartbeat_interval_ms, CK_INT, 0, .def = "10000",
		.min = 0, .max = 3600000,
		.desc = "interval of heartbeat messages that let the slot advance while the "
		"captured tables are idle; 0 turns them off"),
	ROW(trib_pg_source_conf, status_interval_ms, CK_INT, 0, .def = "1000",
		.min = 1, .max = 3600000,
		.desc = "interval of standby status updates (confirmed position) to the server"),
	ROW(trib_pg_source_conf, reconnect_backoff_ms, CK_SECTION, 0, .section = &backoff_section,
		.doc_type = "map",
		.desc = "reconnection delays: `{initial: 500, max: 30000}` (see below)"),
	ROW(trib_pg_source_conf, plugin_options, CK_KVLIST, 0,
		.desc = "further output plugin options, `name: value`, passed untouched as "
		"`-o name=value` (docs/PLUGIN.md), e.g. `skip-empty-xacts: true`; with "
		"`two-phase: on` prepared transactions are decoded at PREPARE and held until "
		"COMMIT PREPARED (see above)"),
	ROW(trib_pg_source_conf, prepared_buffer_mb, CK_INT, 0, .def = "64", .min = 1, .max = 65536,
		.desc = "two-phase: memory for the events of prepared transactions held until "
		"COMMIT PREPARED, in MiB, all of them together; events past it go to spill files"),
	ROW(trib_pg_source_conf, prepared_spill_dir, CK_STRING, 0, .doc_type = "path",
		.doc_default = "`$TMPDIR`, else `/var/tmp`",
		.desc = "two-phase: directory of the spill files (`tributary.<pipeline>.<source>.*`, "
		"mode 0600); they are deleted when their transaction commits or rolls back, and at "
		"start-up"),
	END_ROW
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

static const ck_variant source_variants[] = {
	{"postgres", TRIB_SOURCE_POSTGRES, offsetof(trib_source_conf, pg), &pg_source_section},
	{NULL, 0, 0, NULL}
};

const ck_family ck_sources_family = {
	.key = "sources",
	.what = "source",
	.variants = source_variants,
	.entry_size = sizeof(trib_source_conf),
	.off_name = offsetof(trib_source_conf, name),
	.off_type = offsetof(trib_source_conf, type),
	.off_type_name = offsetof(trib_source_conf, type_name),
	.off_line = offsetof(trib_source_conf, line),
	.off_column = offsetof(trib_source_conf, column),
	.off_array = offsetof(trib_config, sources),
	.off_count = offsetof(trib_config, nsources),
};

/* ---- sinks ------------------------------------------------------------ */

static const ck_key kafka_sink_keys[] = {
	TYPE_ROW("`kafka`", "the kind of sink"),
	ROW(trib_kafka_sink_conf, bootstrap_servers, CK_STRING, CK_REQUIRED,
		.desc = "brokers as `host:port,...`, or `embedded` for an in-process mock "
		"cluster (tests and demos)"),
	ROW(trib_kafka_sink_conf, topic_prefix, CK_STRING, 0,
		.check = check_topic_name, .doc_default = "the pipeline name",
		.desc = "value of `${prefix}` in topic_pattern"),
	ROW(trib_kafka_sink_conf, topic_pattern, CK_STRING, CK_TEMPLATE,
		.def = "${prefix}.${schema}.${table}", .check = check_topic_pattern,
		.desc = "topic of each event; `${prefix}`, `${source}`, `${db}`, `${schema}`, "
		"`${table}` are filled in per event (not taken from the environment)"),
	ROW(trib_kafka_sink_conf, message_topic, CK_STRING, CK_TEMPLATE,
		.def = "${prefix}.message", .check = check_topic_pattern,
		.desc = "topic of logical decoding messages (`pg_logical_emit_message`, op `m`); "
		"`${prefix}`, `${source}` and `${db}` are filled in, `${schema}` and `${table}` "
		"are empty"),
	ROW(trib_kafka_sink_conf, tombstones, CK_BOOL, 0, .def = "true",
		.desc = "follow each delete with a tombstone (same key, null value) for log compaction"),
	ROW(trib_kafka_sink_conf, unchanged_toast, CK_ENUM, 0, .def = "placeholder",
		.words = toast_words,
		.desc = "an unchanged TOAST column of an update (its value is not in the WAL): "
		"`placeholder` puts unavailable_value in `after`, as Debezium does; `omit` "
		"leaves the column out of `after`"),
	ROW(trib_kafka_sink_conf, unavailable_value, CK_STRING, 0,
		.def = TRIB_ENVELOPE_UNAVAILABLE,
		.desc = "the placeholder string for unchanged TOAST columns (Debezium's "
		"`unavailable.value.placeholder`); only with `unchanged_toast: placeholder`"),
	ROW(trib_kafka_sink_conf, transaction_metadata, CK_BOOL, 0, .def = "false",
		.desc = "fill the envelope's `transaction` block `{id, total_order, "
		"data_collection_order}` (Debezium's `provide.transaction.metadata`); "
		"else it is null"),
	ROW(trib_kafka_sink_conf, transactional, CK_BOOL, 0, .def = "false",
		.desc = "produce in Kafka transactions (exactly once for `read_committed` consumers)"),
	ROW(trib_kafka_sink_conf, transactional_id, CK_STRING, 0,
		.doc_default = "`tributary.<pipeline>.<sink>`",
		.desc = "`transactional.id` of the producer; stable across restarts, unique per "
		"producer; only with `transactional: true`"),
	ROW(trib_kafka_sink_conf, properties, CK_KVLIST, 0, .words = kafka_secret_properties,
		.desc = "librdkafka settings passed untouched to `rd_kafka_conf_set`, e.g. "
		"`compression.type: zstd`; secret ones may be read from a file, e.g. "
		"`sasl.password_file: /run/secrets/kafka`"),
	ROW(trib_kafka_sink_conf, key_format, CK_ENUM, 0, .def = "json", .words = data_format_words,
		.desc = "reserved: encoding of message keys; only `json` for now"),
	ROW(trib_kafka_sink_conf, value_format, CK_ENUM, 0, .def = "json", .words = data_format_words,
		.desc = "reserved: encoding of message values; only `json` for now"),
	END_ROW
};

static const ck_section kafka_sink_section = {
	.doc_title = "`sinks.<name>` with `type: kafka`",
	.what = "a kafka sink",
	.keys = kafka_sink_keys,
	.finish = finish_kafka_sink,
	.doc_intro = "Produces one message per row change (Debezium-style envelope), keyed "
	"by the primary key.",
};

static const ck_key pg_sink_keys[] = {
	TYPE_ROW("`postgres`", "the kind of sink"),
	ROW(trib_pg_sink_conf, dsn, CK_STRING, CK_REQUIRED | CK_SECRET,
		.check = ck_check_conninfo, .doc_type = "conninfo",
		.desc = "libpq connection string or `postgres://` URI of the target database"),
	ROW(trib_pg_sink_conf, schema, CK_STRING, 0, .def = "public",
		.desc = "schema of the target tables"),
	ROW(trib_pg_sink_conf, create_tables, CK_BOOL, 0, .def = "true",
		.desc = "create missing target tables from the source's table definitions"),
	ROW(trib_pg_sink_conf, batch_size, CK_INT, 0, .def = "1000", .min = 1, .max = 1000000,
		.desc = "most rows applied in one transaction"),
	ROW(trib_pg_sink_conf, batch_ms, CK_INT, 0, .def = "100", .min = 0, .max = 60000,
		.desc = "longest a row waits, in milliseconds, before its batch is applied"),
	ROW(trib_pg_sink_conf, table_from_route, CK_BOOL, 0, .def = "false",
		.desc = "a `route` rule's result (`table` or `schema.table`) names the target table"),
	ROW(trib_pg_sink_conf, unknown_types, CK_ENUM, 0, .def = "fail", .words = unknown_types_words,
		.desc = "with `create_tables`, a source column whose type the target database lacks "
		"(an enum or composite type created only in the source): `fail` stops the sink "
		"with an error naming the column and the type; `text` creates the column as "
		"`text` (`text[]` for an array) and stores the value's text"),
	ROW(trib_pg_sink_conf, log_row_values, CK_BOOL, 0, .def = "false",
		.desc = "log the target's error messages as they are; off, the row values they "
		"carry (`Failing row contains (...)`, `Key (id)=(...)`, a rejected input value) "
		"are replaced by `***`"),
	END_ROW
};

static const ck_section pg_sink_section = {
	.doc_title = "`sinks.<name>` with `type: postgres`",
	.what = "a postgres sink",
	.keys = pg_sink_keys,
	.doc_intro = "Applies changes as batched upserts and deletes, storing the source "
	"position in the same transaction. What each change becomes, tables without a "
	"primary key, deletes without a key, composite values, JSON null and the redaction "
	"of row values in errors: [POSTGRES_SINK.md](POSTGRES_SINK.md).",
};

static const ck_key file_sink_keys[] = {
	TYPE_ROW("`file`", "the kind of sink"),
	ROW(trib_file_sink_conf, path, CK_STRING, CK_REQUIRED, .doc_type = "path",
		.desc = "file the events are appended to, one JSON object per line"),
	ROW(trib_file_sink_conf, rotate_bytes, CK_INT64, 0, .def = "104857600",
		.min = 0, .max = INT64_C(1) << 50,
		.desc = "start a new file after this many bytes; 0 never rotates"),
	ROW(trib_file_sink_conf, fsync, CK_BOOL, 0, .def = "false",
		.desc = "fsync before acknowledging events (survives power loss; slower)"),
	ROW(trib_file_sink_conf, mode, CK_STRING, 0, .def = "0600", .check = check_file_mode,
		.doc_type = "octal", .desc = "permissions of the files it creates (and of an existing "
		"file, narrowed to them); e.g. `0640` for a log shipper's group"),
	END_ROW
};

static const ck_section file_sink_section = {
	.doc_title = "`sinks.<name>` with `type: file`",
	.what = "a file sink",
	.keys = file_sink_keys,
	.doc_intro = "Writes events as JSON Lines to a file.",
};

static const ck_key stdout_sink_keys[] = {
	TYPE_ROW("`stdout`", "the kind of sink"),
	END_ROW
};

static const ck_section stdout_sink_section = {
	.doc_title = "`sinks.<name>` with `type: stdout`",
	.what = "a stdout sink",
	.keys = stdout_sink_keys,
	.doc_intro = "Writes events as JSON Lines to standard output; it has no other settings.",
};

static const ck_variant sink_variants[] = {
	{"kafka", TRIB_SINK_KAFKA, offsetof(trib_sink_conf, kafka), &kafka_sink_section},
	{"postgres", TRIB_SINK_POSTGRES, offsetof(trib_sink_conf, postgres), &pg_sink_section},
	{"file", TRIB_SINK_FILE, offsetof(trib_sink_conf, file), &file_sink_section},
	{"stdout", TRIB_SINK_STDOUT, 0, &stdout_sink_section},
	{NULL, 0, 0, NULL}
};

const ck_family ck_sinks_family = {
	.key = "sinks",
	.what = "sink",
	.variants = sink_variants,
	.entry_size = sizeof(trib_sink_conf),
	.off_name = offsetof(trib_sink_conf, name),
	.off_type = offsetof(trib_sink_conf, type),
	.off_type_name = offsetof(trib_sink_conf, type_name),
	.off_line = offsetof(trib_sink_conf, line),
	.off_column = offsetof(trib_sink_conf, column),
	.off_array = offsetof(trib_config, sinks),
	.off_count = offsetof(trib_config, nsinks),
};

/* ---- checkpoint, http, log -------------------------------------------- */

static const ck_key checkpoint_keys[] = {
	ROW(trib_checkpoint_conf, store, CK_ENUM, 0, .def = "catalog", .words = store_words,
		.desc = "`catalog`: table `tributary.source_checkpoints` (needs the extension); "
		"`file`: a local file"),
	ROW(trib_checkpoint_conf, path, CK_STRING, 0, .doc_type = "path",
		.desc = "the checkpoint file; required with `store: file`, not allowed otherwise"),
	ROW(trib_checkpoint_conf, dsn, CK_STRING, CK_SECRET,
		.check = ck_check_conninfo, .doc_type = "conninfo",
		.doc_default = "the first postgres source's dsn",
		.desc = "database holding the catalog (`store: catalog` only)"),
	END_ROW
};

static const ck_section checkpoint_section = {
	.doc_title = "`checkpoint`",
	.what = "the checkpoint section",
	.keys = checkpoint_keys,
	.finish = finish_checkpoint,
	.doc_intro = "Where the position of the last change every sink made durable is kept.",
};

static void finish_erasure(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
						   const char *path, void *base, const char *name);

static const ck_key erasure_keys[] = {
	ROW(trib_erasure_conf, targets, CK_STRLIST, 0, .doc_type = "list",
		.desc = "`schema.table.column` entries: where the subject's rows are found; each "
		"table must be captured by the source (required)"),
	ROW(trib_erasure_conf, action, CK_ENUM, 0, .def = "delete", .words = erasure_action_words,
		.desc = "`delete` the subject's rows (Kafka: tombstones), or `anonymize`: keep "
		"them with every column outside the key null"),
	ROW(trib_erasure_conf, audit_log, CK_STRING, 0, .doc_type = "path",
		.desc = "JSON Lines file recording every request, accepted or refused (required)"),
	ROW(trib_erasure_conf, audit_log_mode, CK_STRING, 0, .def = "0600", .check = check_file_mode,
		.doc_type = "octal", .desc = "permissions of the audit log (an existing file is "
		"narrowed to them)"),
	ROW(trib_erasure_conf, subject_key, CK_STRING, CK_SECRET, .doc_type = "secret",
		.desc = "HMAC key, 16 to 1024 bytes: the audit log records HMAC-SHA256 of the "
		"subject, never the subject (required; `${ENV}` or `subject_key_file`)"),
	ROW(trib_erasure_conf, subject_key_format, CK_ENUM, 0, .def = "auto",
		.words = ck_key_format_words,
		.desc = "how `subject_key` is written: `hex`, `base64`, `raw` (its bytes), or "
		"`auto` (hex when only hex digits, else base64)"),
	ROW(trib_erasure_conf, dsn, CK_STRING, CK_SECRET, .check = ck_check_conninfo,
		.doc_type = "conninfo", .doc_default = "the source's dsn",
		.desc = "the source database, where the subject's rows are looked up and their keys "
		"written (its role needs `tributary_eraser`)"),
	END_ROW
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

/* A macro's value as a string literal, for the docs. */
#define CK_STR_(x) #x
#define CK_STR(x) CK_STR_(x)

static const ck_key http_keys[] = {
	ROW(trib_http_conf, enabled, CK_BOOL, 0, .def = "true",
		.desc = "serve `/health` and `/metrics`"),
	ROW(trib_http_conf, listen, CK_STRING, 0, .def = "127.0.0.1:8080",
		.check = check_listen, .doc_type = "address:port",
		.desc = "where to listen: `host:port`, `[ipv6]:port`, or a port alone for "
		"127.0.0.1; `0.0.0.0:8080` listens on every interface; port 0 picks a free one"),
	END_ROW
};

static const ck_section http_section = {
	.doc_title = "`http`",
	.what = "the http section",
	.keys = http_keys,
	.finish = finish_http,
	.doc_intro = "The monitoring endpoint. It listens on the loopback interface only "
	"unless told otherwise. It keeps up to " CK_STR(TRIB_HTTP_MAX_CONNECTIONS)
	" connections; one that sends nothing for " CK_STR(TRIB_HTTP_IDLE_TIMEOUT_S)
	" s is closed, and " CK_STR(TRIB_HTTP_RESERVED) " slots are kept free by closing the "
	"connection idle longest, so idle or half-sent requests cannot keep `/health` "
	"from answering.",
};

static const ck_key log_keys[] = {
	ROW(trib_log_conf, level, CK_ENUM, 0, .def = "info", .words = level_words,
		.desc = "least severe level written"),
	ROW(trib_log_conf, format, CK_ENUM, 0, .def = "text", .words = log_format_words,
		.desc = "`text` lines, or `json`: one object per line"),
	ROW(trib_log_conf, file, CK_STRING, 0, .doc_type = "path", .doc_default = "standard error",
		.desc = "append to this file instead; reopened on SIGHUP (log rotation)"),
	END_ROW
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
	ROW(trib_config, pipeline, CK_STRING, CK_REQUIRED, .check = check_pipeline_name,
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
	ROW(trib_config, dead_letter, CK_STRING, 0, .doc_type = "sink name",
		.desc = "the sink that receives events a rule rejects or fails on, with the reason; "
		"it receives nothing else"),
	ROW(trib_config, dead_letter_images, CK_ENUM, 0, .def = "none", .words = dlq_images_words,
		.desc = "`none`: dead-letter records carry the reason, table and position but no "
		"row data (safe for PII); `original`: also the event as the source sent it"),
	ROW(trib_config, strict, CK_BOOL, 0, .def = "false",
		.desc = "every column of every captured table needs a rule (`allow` to pass it); "
		"a column without one is replaced by null, and `tributary check` lists them"),
	ROW(trib_config, lua_max_instructions, CK_INT64, 0, .def = "1000000", .min = 1000,
		.max = INT64_MAX, .desc = "Lua rules: VM instructions one evaluation may run"),
	ROW(trib_config, lua_max_memory_mb, CK_INT, 0, .def = "32", .min = 1, .max = 65536,
		.desc = "Lua rules: memory of the Lua state, in MiB"),
	ROW(trib_config, erasure, CK_SECTION, 0, .section = &erasure_section,
		.doc_type = "map", .desc = "erasure requests (see below)"),
	ROW(trib_config, checkpoint, CK_SECTION, 0, .section = &checkpoint_section,
		.doc_type = "map", .desc = "where positions are stored (see below)"),
	ROW(trib_config, http, CK_SECTION, 0, .section = &http_section,
		.doc_type = "map", .desc = "monitoring endpoint (see below)"),
	ROW(trib_config, log, CK_SECTION, 0, .section = &log_section,
		.doc_type = "map", .desc = "logging (see below)"),
	END_ROW
};

const ck_section ck_top_section = {
	.doc_title = "Top level",
	.what = "the top level",
	.keys = top_keys,
	.finish = finish_top,
	.doc_intro = "A pipeline file is a YAML map with these keys.",
};

const ck_section *const ck_doc_order[] = {
	&ck_top_section,
	&pg_source_section,
	&backoff_section,
	&kafka_sink_section,
	&pg_sink_section,
	&file_sink_section,
	&stdout_sink_section,
	&erasure_section,
	&checkpoint_section,
	&http_section,
	&log_section,
	NULL
};

/* ---- value checks ----------------------------------------------------- */

/* True when every byte of s is in `allowed` and 1 <= len <= maxlen. */
static bool
only_chars(const char *s, const char *allowed, size_t maxlen)
{
	size_t		n = strlen(s);

	return n >= 1 && n <= maxlen && strspn(s, allowed) == n;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"

static bool
check_pipeline_name(const char *value, char *msg, size_t msglen)
{
	if (only_chars(value, LOWER_DIGITS "_-", 53))
		return true;
	snprintf(msg, msglen, "invalid pipeline name \"%s\" (accepted: a-z, 0-9, _ and -, "
			 "1 to 53 characters)", value);
	return false;
}

static bool
check_slot_name(const char *value, char *msg, size_t msglen)
{
	if (only_chars(value, LOWER_DIGITS "_", 63))
		return true;
	snprintf(msg, msglen, "invalid replication slot name \"%s\" (accepted: a-z, 0-9 and _, "
			 "1 to 63 characters)", value);
	return false;
}

#define TOPIC_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* A table pattern as the plugin accepts it: schema.table, quoted parts. */
static bool
check_table_pattern(const char *value, char *msg, size_t msglen)
{
	bool		bad = false;

	(void) trib_snap_pattern_match(value, "", "", &bad);
	if (bad)
		snprintf(msg, msglen, "\"%s\" is not a schema.table pattern (e.g. public.orders, "
				 "public.*, \"My.Schema\".\"T\"; '*' and '?' are wildcards outside quotes)", value);
	return !bad;
}

static bool
check_topic_name(const char *value, char *msg, size_t msglen)
{
	if (only_chars(value, TOPIC_CHARS, 249))
		return true;
	snprintf(msg, msglen, "invalid topic prefix \"%s\" (accepted: letters, digits, '.', "
			 "'_' and '-', 1 to 249 characters)", value);
	return false;
}

/* A topic_pattern: topic characters, $$ and the known ${...} placeholders. */
static bool
check_topic_pattern(const char *value, char *msg, size_t msglen)
{
	for (const char *p = value; *p;)
	{
		if (p[0] == '$' && p[1] == '$')
			p += 2;
		else if (p[0] == '$' && p[1] == '{')
		{
			const char *end = strchr(p, '}');
			bool		known = false;

			for (int i = 0; end && ck_topic_vars[i]; i++)
				if (strlen(ck_topic_vars[i]) == (size_t) (end - p - 2) &&
					strncmp(p + 2, ck_topic_vars[i], (size_t) (end - p - 2)) == 0)
					known = true;
			if (!known)
			{
				snprintf(msg, msglen, "unknown placeholder in topic pattern \"%s\" "
						 "(accepted: ${prefix}, ${source}, ${db}, ${schema}, ${table})", value);
				return false;
			}
			p = end + 1;
		}
		else if (*p != '\0' && strchr(TOPIC_CHARS, *p) != NULL)
			p++;
		else
		{
			snprintf(msg, msglen, "topic pattern \"%s\" contains '%c', which Kafka does not "
					 "allow in topic names (accepted: letters, digits, '.', '_', '-' and "
					 "placeholders)", value, *p);
			return false;
		}
	}
	return true;
}

/*
 * Parse "host:port", "[v6]:port", ":port" or "port" (host 127.0.0.1).
 * *host is malloc'd (when host is not NULL).
 */
bool
ck_parse_listen(const char *value, char **host, int *port, char *msg, size_t msglen)
{
	const char *colon = strrchr(value, ':');
	const char *h = value;
	size_t		hlen;
	const char *ps = colon ? colon + 1 : value;
	long		pv = 0;

	if (value[0] == '[')
	{
		const char *close = strchr(value, ']');

		if (close == NULL || close[1] != ':' || close == value + 1)
		{
			snprintf(msg, msglen, "invalid listen address \"%s\" (accepted: host:port, "
					 "[ipv6]:port or a port)", value);
			return false;
		}
		h = value + 1;
		hlen = (size_t) (close - h);
		ps = close + 2;
	}
	else if (colon == NULL)
		hlen = 0;
	else
	{
		hlen = (size_t) (colon - value);
		if (memchr(value, ':', hlen) != NULL)
		{
			snprintf(msg, msglen, "invalid listen address \"%s\": write an IPv6 address "
					 "in brackets, as in [::1]:8080", value);
			return false;
		}
	}
	if (*ps == '\0' || strlen(ps) > 5 || strspn(ps, "0123456789") != strlen(ps) ||
		(pv = strtol(ps, NULL, 10)) > 65535)
	{
		snprintf(msg, msglen, "invalid port in listen address \"%s\" (accepted: 0 to 65535)",
				 value);
		return false;
	}
	for (size_t i = 0; i < hlen; i++)
	{
		if (isspace((unsigned char) h[i]) || h[i] == '/' || h[i] == '[' || h[i] == ']')
		{
			snprintf(msg, msglen, "invalid host in listen address \"%s\"", value);
			return false;
		}
	}
	if (host != NULL)
		*host = hlen ? trib_xstrndup(h, hlen) : trib_xstrdup("127.0.0.1");
	if (port != NULL)
		*port = (int) pv;
	return true;
}

static bool
check_listen(const char *value, char *msg, size_t msglen)
{
	return ck_parse_listen(value, NULL, NULL, msg, msglen);
}

static bool
check_file_mode(const char *value, char *msg, size_t msglen)
{
	mode_t		m;

	if (trib_fileio_mode_parse(value, &m))
		return true;
	snprintf(msg, msglen, "\"%s\" is not a file mode (accepted: three octal digits, "
			 "optionally after a 0, e.g. 0600 or 0640)", value);
	return false;
}

/*
 * libpq's parse error, with quoted fragments masked: they may be pieces of
 * the connection string, password included.  An unknown option's name is
 * kept, it is the useful part and never a secret.
 */
static void
sanitize_libpq_error(const char *err, char *out, size_t outlen)
{
	trib_strbuf b = {0};
	bool		keep = strncmp(err, "invalid connection option", 25) == 0;
	char	   *s;

	for (const char *p = err; *p; p++)
	{
		const char *close;

		if (*p == '"' && !keep && (close = strchr(p + 1, '"')) != NULL && close - p > 2)
		{
			trib_strbuf_adds(&b, "\"***\"");
			p = close;
		}
		else if (*p != '\n')
			trib_strbuf_addc(&b, *p);
	}
	s = trib_strbuf_finish(&b);
	snprintf(out, outlen, "%s", s);
	free(s);
}

/* A libpq conninfo or URI; registers its passwords as log secrets. */
bool
ck_check_conninfo(const char *value, char *msg, size_t msglen)
{
	char	   *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(value, &err);
	char		clean[256];

	if (opts == NULL)
	{
		sanitize_libpq_error(err ? err : "out of memory", clean, sizeof(clean));
		snprintf(msg, msglen, "not a valid libpq connection string or URI: %s", clean);
		PQfreemem(err);
		return false;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
	{
		if ((strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "sslpassword") == 0) &&
			o->val != NULL)
			trib_log_add_secret(o->val);
	}
	PQconninfoFree(opts);
	return true;
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

/* Default slot; plugin options tributary manages itself. */
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
			char	   *pp = ck_path(p, k);

			ck_error(c, trib_yaml_map_get(opts, k), pp,
					 "expected on or off (true/false, yes/no, 1/0), got \"%s\"",
					 pg->plugin_options.items[i].value);
			free(pp);
			free(p);
		}
		for (size_t m = 0; m < sizeof(managed) / sizeof(managed[0]); m++)
		{
			if (strcmp(pg->plugin_options.items[i].key, managed[m][0]) == 0)
			{
				char	   *p = ck_path(path, "plugin_options");
				char	   *pp = ck_path(p, managed[m][0]);

				ck_error(c, trib_yaml_map_key(opts, managed[m][0]), pp, "%s", managed[m][1]);
				free(pp);
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
	{
		char	   *p = ck_path(path, "initial");

		ck_error(c, trib_yaml_map_get(map, "initial") ? trib_yaml_map_get(map, "initial") : at, p,
				 "%d is more than max (%d)", b->initial, b->max);
		free(p);
	}
}

/* embedded, default prefix, transactional id. */
static void
finish_kafka_sink(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
				  void *base, const char *name)
{
	trib_kafka_sink_conf *k = base;
	const trib_config *cfg = ck_config(c);

	(void) at;
	k->embedded = k->bootstrap_servers != NULL &&
		strcmp(k->bootstrap_servers, "embedded") == 0;
	if (k->topic_prefix == NULL && cfg->pipeline != NULL)
		k->topic_prefix = trib_xstrdup(cfg->pipeline);
	if (k->transactional && k->transactional_id == NULL && cfg->pipeline != NULL)
	{
		trib_strbuf b = {0};

		trib_strbuf_printf(&b, "tributary.%s.%s", cfg->pipeline, name);
		k->transactional_id = trib_strbuf_finish(&b);
	}
	else if (!k->transactional && k->transactional_id != NULL)
	{
		char	   *p = ck_path(path, "transactional_id");

		ck_error(c, trib_yaml_map_key(map, "transactional_id"), p,
				 "is set but transactional is false");
		free(p);
	}
	if (k->unchanged_toast == TRIB_TOAST_OMIT && trib_yaml_map_key(map, "unavailable_value"))
	{
		char	   *p = ck_path(path, "unavailable_value");

		ck_error(c, trib_yaml_map_key(map, "unavailable_value"), p,
				 "is set but unchanged_toast is omit (accepted: remove it, or "
				 "unchanged_toast: placeholder)");
		free(p);
	}
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
			ck_error(c, trib_yaml_map_key(map, "path"), p_path, "is only used with store: file");
		for (size_t i = 0; cp->dsn == NULL && i < cfg->nsources; i++)
		{
			if (cfg->sources[i].type == TRIB_SOURCE_POSTGRES && cfg->sources[i].pg.dsn)
			{
				cp->dsn = trib_xstrdup(cfg->sources[i].pg.dsn);
				cp->dsn_source = trib_xstrdup(cfg->sources[i].name);
			}
		}
		if (cp->dsn == NULL && cfg->nsources > 0)
		{
			bool		any_pg = false;

			for (size_t i = 0; i < cfg->nsources; i++)
				any_pg |= cfg->sources[i].type == TRIB_SOURCE_POSTGRES;
			if (!any_pg)
				ck_error(c, where, p_dsn, "required with store: catalog when no "
						 "postgres source gives a dsn");
		}
	}
	free(p_path);
	free(p_dsn);
}

/* Split listen into host and port (validated by check_listen). */
static void
finish_http(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
			void *base, const char *name)
{
	trib_http_conf *h = base;
	char		msg[256];

	(void) c;
	(void) map;
	(void) at;
	(void) path;
	(void) name;
	if (h->listen != NULL)
		ck_parse_listen(h->listen, &h->host, &h->port, msg, sizeof(msg));
}

/* ---- custom keys ------------------------------------------------------ */

static void
parse_sources(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value, const char *path,
			  void *base)
{
	(void) base;
	ck_parse_family(c, key, value, path, &ck_sources_family);
}

static void
parse_sinks(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value, const char *path,
			void *base)
{
	(void) base;
	ck_parse_family(c, key, value, path, &ck_sinks_family);
}

static void
free_sources(void *base)
{
	ck_free_family(&ck_sources_family, base);
}

static void
free_sinks(void *base)
{
	ck_free_family(&ck_sinks_family, base);
}

/* transforms: a list of rules (config_rules.c). */
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

/* Does the source capture schema.table under its include and exclude lists? */
static bool
source_captures(const trib_pg_source_conf *pg, const char *schema, const char *table)
{
	bool		bad = false;
	bool		in = pg->include_tables.count == 0;

	for (size_t i = 0; !in && i < pg->include_tables.count; i++)
		in = trib_snap_pattern_match(pg->include_tables.items[i], schema, table, &bad);
	for (size_t i = 0; in && i < pg->exclude_tables.count; i++)
		in = !trib_snap_pattern_match(pg->exclude_tables.items[i], schema, table, &bad);
	return in;
}

/* Does the plugin send inserts under the source's `actions` option? */
static bool
source_sends_inserts(const trib_pg_source_conf *pg)
{
	const char *a = trib_kvlist_get(&pg->plugin_options, "actions");

	for (const char *p = a; p != NULL; p = strchr(p, ','), p = p ? p + 1 : NULL)
	{
		while (*p == ' ')
			p++;
		if (strncmp(p, "insert", 6) == 0 && (p[6] == ',' || p[6] == ' ' || p[6] == '\0'))
			return true;
	}
	return a == NULL;
}

/* One erasure target: schema.table.column, a table the source captures. */
static void
check_erasure_target(ck_ctx *c, const trib_yaml_node *at, const char *path, const char *t,
					 const trib_pg_source_conf *pg)
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
	else if (pg != NULL && !source_captures(pg, schema, table))
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
	const trib_yaml_node *at = trib_yaml_map_get(map, "subject_key") ? trib_yaml_map_get(map, "subject_key")
		: trib_yaml_map_get(map, "subject_key_file");
	char		msg[256];
	trib_key   *k = trib_key_parse(e->subject_key, strlen(e->subject_key),
								   (trib_key_format) e->subject_key_format,
								   "the erasure subject_key", msg, sizeof(msg));

	if (k == NULL ||
		!trib_key_require_range(k, TRIB_HASH_KEY_MIN, TRIB_HASH_KEY_MAX,
								"the audit log's subject HMAC", msg, sizeof(msg)))
		ck_error(c, at ? at : map, path, "%s", msg);
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
	static const char *const tables[] = {TRIB_ERASURE_REQUESTS, TRIB_ERASURE_KEYS};
	trib_erasure_conf *e = base;
	trib_config *cfg = ck_config(c);
	const trib_pg_source_conf *pg = cfg->nsources > 0 ? &cfg->sources[0].pg : NULL;

	(void) name;
	(void) at;
	if (map == NULL)
		return;
	if (e->targets.count == 0 || e->audit_log == NULL || e->subject_key == NULL)
		ck_error(c, map, path, "erasure needs targets, audit_log and subject_key "
				 "(requests come from tributary.erasure_requests; see docs/TRANSFORMS.md)");
	for (size_t i = 0; i < e->targets.count; i++)
		check_erasure_target(c, trib_yaml_map_get(map, "targets"), path, e->targets.items[i], pg);
	if (e->subject_key != NULL)
		check_subject_key(c, map, path, e);
	for (size_t i = 0; pg != NULL && i < pg->exclude_tables.count; i++)
		for (size_t t = 0; t < 2; t++)
		{
			bool		bad = false;

			if (trib_snap_pattern_match(pg->exclude_tables.items[i], TRIB_CATALOG_SCHEMA,
										tables[t], &bad))
				ck_error(c, map, path, "the source's exclude_tables pattern \"%s\" matches "
						 "%s.%s, where erasure requests come from",
						 pg->exclude_tables.items[i], TRIB_CATALOG_SCHEMA, tables[t]);
		}
	if (pg != NULL && !source_sends_inserts(pg))
		ck_error(c, map, path, "the source's plugin option actions leaves out insert: "
				 "erasure requests are inserts");
	if (e->dsn == NULL && pg != NULL && pg->dsn != NULL)
		e->dsn = trib_xstrdup(pg->dsn);
}
