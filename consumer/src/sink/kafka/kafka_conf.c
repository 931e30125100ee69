/*
 * kafka_conf.c: the key table of a `type: kafka` sink (see kafka_conf.h),
 * its value checks (topic names and patterns) and its finish function
 * (embedded mode, the default topic prefix and transactional id, and
 * librdkafka's check of the properties, kafka_props.c, reported at
 * sinks.<name>.properties.<property>).
 *
 * Adding a key: a field in trib_kafka_conf and one row below; run
 * `make -C consumer doc`.
 */
#include "kafka_conf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_keys.h"
#include "envelope.h"
#include "kafka_props.h"
#include "strbuf.h"

/* Enums are stored through int pointers. */
_Static_assert(sizeof(trib_data_format) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_unchanged_toast) == sizeof(int), "enum size");

static const char *const data_format_words[] = {"json", "json_sr", "avro", NULL};

/* format: debezium and its options, in the order of the enums of
 * kafka_conf.h and debezium.h. */
_Static_assert(sizeof(trib_record_format) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_dbz_decimal) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_dbz_time) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_dbz_binary) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_dbz_interval) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_dbz_hstore) == sizeof(int), "enum size");
static const char *const record_format_words[] = {"tributary", "debezium", NULL};
static const char *const dbz_decimal_words[] = {"precise", "string", "double", NULL};
static const char *const dbz_time_words[] = {"adaptive", "adaptive_time_microseconds",
"connect", NULL};
static const char *const dbz_binary_words[] = {"bytes", "base64", "base64-url-safe", "hex",
NULL};
static const char *const dbz_interval_words[] = {"numeric", "string", NULL};
static const char *const dbz_hstore_words[] = {"json", "map", NULL};
static const char *const dbz_bigint_words[] = {"long", "precise", NULL};

/* A Debezium option: its dotted name, stored in trib_kafka_conf.dbz. */
#define DBZ_ROW(name_, field, words_, def_, desc_) \
	{ .name = (name_), .type = CK_ENUM, \
	  .offset = offsetof(trib_kafka_conf, dbz) + offsetof(trib_dbz_opts, field), \
	  .def = (def_), .words = (words_), .desc = (desc_) }
static const char *const toast_words[] = {"placeholder", "omit", NULL};

/* librdkafka properties whose values are secrets: masked in logs, and
 * readable from a file as NAME_file. */
static const char *const kafka_secret_properties[] = {
	"sasl.password",
	"sasl.oauthbearer.client.secret",
	"sasl.oauthbearer.config",
	"ssl.key.password",
	"ssl.key.pem",
	"ssl.keystore.password",
	NULL
};

static bool check_topic_name(const char *value, char *msg, size_t msglen);
static bool check_topic_pattern(const char *value, char *msg, size_t msglen);
static void finish_kafka_sink(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							  const char *path, void *base, const char *name);

static const ck_key kafka_sink_keys[] = {
	CK_TYPE_ROW("`kafka`", "the kind of sink"),
	CK_ROW(trib_kafka_conf, bootstrap_servers, CK_STRING, CK_REQUIRED,
		.desc = "brokers as `host:port,...`, or `embedded` for an in-process mock "
		"cluster (tests and demos)"),
	CK_ROW(trib_kafka_conf, topic_prefix, CK_STRING, 0,
		.check = check_topic_name, .doc_default = "the pipeline name",
		.desc = "value of `${prefix}` in topic_pattern"),
	CK_ROW(trib_kafka_conf, topic_pattern, CK_STRING, CK_TEMPLATE,
		.def = "${prefix}.${schema}.${table}", .check = check_topic_pattern,
		.desc = "topic of each event; `${prefix}`, `${source}`, `${db}`, `${schema}`, "
		"`${table}` are filled in per event (not taken from the environment)"),
	CK_ROW(trib_kafka_conf, message_topic, CK_STRING, CK_TEMPLATE,
		.def = "${prefix}.message", .check = check_topic_pattern,
		.desc = "topic of logical decoding messages (`pg_logical_emit_message`, op `m`); "
		"`${prefix}`, `${source}` and `${db}` are filled in, `${schema}` and `${table}` "
		"are empty"),
	CK_ROW(trib_kafka_conf, tombstones, CK_BOOL, 0, .def = "true",
		.desc = "follow each delete with a tombstone (same key, null value) for log compaction"),
	CK_ROW(trib_kafka_conf, unchanged_toast, CK_ENUM, 0, .def = "placeholder",
		.words = toast_words,
		.desc = "an unchanged TOAST column of an update (its value is not in the WAL): "
		"`placeholder` puts unavailable_value in `after`, as Debezium does; `omit` "
		"leaves the column out of `after`"),
	CK_ROW(trib_kafka_conf, unavailable_value, CK_STRING, 0,
		.def = TRIB_ENVELOPE_UNAVAILABLE,
		.desc = "the placeholder string for unchanged TOAST columns (Debezium's "
		"`unavailable.value.placeholder`); only with `unchanged_toast: placeholder`"),
	CK_ROW(trib_kafka_conf, transaction_metadata, CK_BOOL, 0, .def = "false",
		.desc = "fill the envelope's `transaction` block `{id, total_order, "
		"data_collection_order}` (Debezium's `provide.transaction.metadata`); "
		"else it is null; with `format: debezium` also the BEGIN/END records of "
		"`<prefix>.transaction`"),
	CK_ROW(trib_kafka_conf, schema_headers, CK_BOOL, 0, .def = "false",
		.desc = "add the headers `tributary.schema_id` and `tributary.schema_version` "
		"(decimal text) to each record of an event the schema stage stamped (`schemas:`)"),
	CK_ROW(trib_kafka_conf, transactional, CK_BOOL, 0, .def = "false",
		.desc = "produce in Kafka transactions (exactly once for `read_committed` consumers)"),
	CK_ROW(trib_kafka_conf, transactional_id, CK_STRING, 0,
		.doc_default = "`tributary.<pipeline>.<sink>`",
		.desc = "`transactional.id` of the producer; stable across restarts, unique per "
		"producer; only with `transactional: true`"),
	CK_ROW(trib_kafka_conf, properties, CK_KVLIST, 0, .words = kafka_secret_properties,
		.desc = "librdkafka settings passed untouched to `rd_kafka_conf_set`, e.g. "
		"`compression.type: zstd`, after the sink's own (`enable.idempotence: true`, "
		"`acks: all`...); librdkafka checks them when the file is loaded, without a "
		"network (`check --offline` too): a name or value it rejects is named with its "
		"message; secret ones may be read from a file, e.g. "
		"`sasl.password_file: /run/secrets/kafka`, and their values are never shown"),
	CK_ROW(trib_kafka_conf, key_format, CK_ENUM, 0, .def = "json", .words = data_format_words,
		.desc = "encoding of message keys: `json` (unframed); `json_sr` and `avro` as for "
		"`value_format`, against the table's key schema, which needs `schemas.keys: true`"),
	CK_ROW(trib_kafka_conf, value_format, CK_ENUM, 0, .def = "json", .words = data_format_words,
		.desc = "encoding of message values: `json` (unframed); `json_sr`: Confluent's wire "
		"format, a 0 byte, the 4-byte big-endian schema id, then the JSON; `avro`: the same "
		"framing, then the row in Avro binary; both need `schemas:` on (`json_sr` with "
		"`format: json`, `avro` with `format: avro`); docs/FORMAT.md, \"Wire formats\""),
	/* format: debezium (issue 17): keep these rows together */
	CK_ROW(trib_kafka_conf, format, CK_ENUM, 0, .def = "tributary",
		.words = record_format_words,
		.desc = "value encodings: `tributary` (numeric as JSON numbers, ISO 8601 times, "
		"embedded json) or `debezium` (the Debezium PostgreSQL connector's, by the "
		"options below; docs/FORMAT.md, \"Debezium mode\")"),
	DBZ_ROW("decimal.handling.mode", decimal, dbz_decimal_words, "precise",
		"`format: debezium`: numeric and money as `precise` (base64 of the unscaled "
		"two's complement, Connect Decimal), `string` or `double`"),
	DBZ_ROW("time.precision.mode", time, dbz_time_words, "adaptive",
		"`format: debezium`: time and timestamp units: `adaptive` (millis up to "
		"precision 3, else micros), `adaptive_time_microseconds`, `connect` (millis)"),
	DBZ_ROW("binary.handling.mode", binary, dbz_binary_words, "bytes",
		"`format: debezium`: bytea as `bytes` (base64), `base64`, `base64-url-safe` "
		"or `hex`"),
	DBZ_ROW("interval.handling.mode", interval, dbz_interval_words, "numeric",
		"`format: debezium`: interval as `numeric` (MicroDuration) or `string` "
		"(ISO 8601 `P1Y2M3DT4H5M6.5S`)"),
	DBZ_ROW("hstore.handling.mode", hstore, dbz_hstore_words, "json",
		"`format: debezium`: hstore as `json` (a JSON object in a string) or `map` "
		"(a JSON object)"),
	DBZ_ROW("bigint.unsigned.handling.mode", bigint_unsigned, dbz_bigint_words, "long",
		"`format: debezium`, MySQL tables: BIGINT UNSIGNED as `long` (INT64; values "
		"above 2^63 - 1 wrap, as in Debezium) or `precise` (Connect Decimal, scale 0)"),
	{.name = "money.fraction.digits", .type = CK_INT,
		.offset = offsetof(trib_kafka_conf, dbz) + offsetof(trib_dbz_opts, money_scale),
		.def = "2", .min = 0, .max = 1000,
	.desc = "`format: debezium`: the scale of money values in `precise` mode"},
	{.name = "heartbeat.interval.ms", .type = CK_INT,
		.offset = offsetof(trib_kafka_conf, dbz) + offsetof(trib_dbz_opts, heartbeat_ms),
		.def = "0", .min = 0, .max = 86400000,
		.desc = "`format: debezium`: write a heartbeat `{\"ts_ms\":N}` keyed "
		"`{\"serverName\":prefix}` to `__debezium-heartbeat.<prefix>` this often; "
		"0: never; not with `transactional: true`"},
	{.name = "schemas.enable", .type = CK_BOOL,
		.offset = offsetof(trib_kafka_conf, dbz) + offsetof(trib_dbz_opts, schemas_enable),
		.def = "false",
		.desc = "`format: debezium`: keys and values as `{\"schema\":S,\"payload\":P}` "
		"with the Kafka Connect schema (the JsonConverter's `schemas.enable`)"},
	CK_END_ROW
};

const ck_section trib_kafka_conf_section = {
	.doc_title = "`sinks.<name>` with `type: kafka`",
	.what = "a kafka sink",
	.keys = kafka_sink_keys,
	.finish = finish_kafka_sink,
	.doc_intro = "Produces one message per row change (Debezium-style envelope), keyed "
	"by the primary key.",
};

/* See kafka_conf.h. */
void
trib_kafka_conf_init(trib_kafka_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->tombstones = true;
	trib_dbz_opts_init(&conf->dbz);
}

/* ---- value checks ----------------------------------------------------- */

#define TOPIC_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

static bool
check_topic_name(const char *value, char *msg, size_t msglen)
{
	return ck_check_name(value, "topic prefix", TOPIC_CHARS, 249,
						 "letters, digits, '.', '_' and '-'", msg, msglen);
}

/* A topic_pattern: topic characters, $$ and the known ${...} placeholders. */
static bool
check_topic_pattern(const char *value, char *msg, size_t msglen)
{
	const char *p = ck_template_problem(value, ck_is_topic_var, TOPIC_CHARS);

	if (p == NULL)
		return true;
	if (p[0] == '$' && p[1] == '{')
		snprintf(msg, msglen, "unknown placeholder in topic pattern \"%s\" "
				 "(accepted: ${prefix}, ${source}, ${db}, ${schema}, ${table})", value);
	else
		snprintf(msg, msglen, "topic pattern \"%s\" contains '%c', which Kafka does not "
				 "allow in topic names (accepted: letters, digits, '.', '_', '-' and "
				 "placeholders)", value, *p);
	return false;
}

/* ---- finish ----------------------------------------------------------- */

/* key_format / value_format json_sr and avro frame the schema id the
 * schema stage stamps: the stage must run, registering schemas of the
 * matching type (keys: with schemas.keys). */
static void
check_format(ck_ctx *c, const trib_yaml_node *map, const char *path, const char *name,
			 trib_data_format fmt)
{
	const trib_config *cfg = ck_config(c);
	int			want = fmt == TRIB_FORMAT_AVRO ? 1 : 0;
	bool		key = strcmp(name, "key_format") == 0;
	const char *what = key ? "key" : "value";
	const trib_yaml_node *at = trib_yaml_map_key(map, name);
	char	   *p;

	if (fmt == TRIB_FORMAT_JSON ||
		(cfg->schemas.enabled && cfg->schemas.format == want && (!key || cfg->schemas.keys)))
		return;
	p = ck_path(path, name);
	if (!cfg->schemas.enabled)
		ck_error(c, at, p, "%s frames each %s with its schema id, which needs the schema stage "
				 "(accepted: json, or schemas: {enabled: true, format: %s%s})",
				 data_format_words[fmt], what, want ? "avro" : "json", key ? ", keys: true" : "");
	else if (cfg->schemas.format != want)
		ck_error(c, at, p, "%s needs the schema stage to register %s schemas (accepted: "
				 "schemas.format: %s, or %s: %s)", data_format_words[fmt],
				 want ? "Avro" : "JSON", want ? "avro" : "json", name,
				 want ? "json_sr" : "avro");
	else
		ck_error(c, at, p, "%s needs the schema stage to register key schemas (accepted: "
				 "schemas.keys: true, or key_format: json)", data_format_words[fmt]);
	free(p);
}

/* Where kfk_props_check's problems are reported. */
typedef struct property_report
{
	ck_ctx	   *c;
	const trib_yaml_node *map;	/* the sink's section */
	const trib_yaml_node *at;
	const char *path;			/* "sinks.<name>" */
} property_report;

/* One problem: at the property's key (NAME or NAME_file), under
 * sinks.<name>.properties.<prop>; a refusal of the whole configuration
 * at `properties`. */
static void
report_property(void *arg, const char *prop, const char *msg)
{
	const property_report *r = arg;
	const trib_yaml_node *props = trib_yaml_map_get(r->map, "properties");
	const trib_yaml_node *at;
	char	   *ppath;

	if (prop == NULL)
	{
		ck_key_error_in(r->c, r->map, r->at, r->path, "properties", "librdkafka refuses "
						"the producer's configuration: %s", msg);
		return;
	}
	ppath = ck_path(r->path, "properties");
	if ((at = trib_yaml_map_key(props, prop)) == NULL)
	{
		trib_strbuf b = {0};
		char	   *file;

		trib_strbuf_printf(&b, "%s_file", prop);
		file = trib_strbuf_finish(&b);
		at = trib_yaml_map_key(props, file);
		free(file);
	}
	ck_key_error(r->c, at ? at : r->at, ppath, prop, "rejected by librdkafka: %s "
				 "(accepted: the properties of librdkafka's CONFIGURATION.md, "
				 "with their values)", msg);
	free(ppath);
}

/* embedded, default prefix, transactional id, value format, properties. */
static void
finish_kafka_sink(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
				  void *base, const char *name)
{
	trib_kafka_conf *k = base;
	const trib_config *cfg = ck_config(c);

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
		ck_key_error_in(c, map, at, path, "transactional_id",
						"is set but transactional is false");
	check_format(c, map, path, "key_format", k->key_format);
	check_format(c, map, path, "value_format", k->value_format);
	if (k->format != TRIB_RECORD_DEBEZIUM)
		for (const ck_key *key = kafka_sink_keys; key->name; key++)
			if (strchr(key->name, '.') && trib_yaml_map_key(map, key->name))
				ck_key_error_in(c, map, at, path, key->name,
								"is a `format: debezium` option but format is tributary "
								"(accepted: remove it, or format: debezium)");
	if (k->transactional && k->dbz.heartbeat_ms > 0)
		ck_key_error_in(c, map, at, path, "heartbeat.interval.ms", "heartbeats are not "
						"written in transactional mode (accepted: 0, or transactional: false)");
	if (k->format == TRIB_RECORD_DEBEZIUM &&
		(k->value_format != TRIB_FORMAT_JSON || k->key_format != TRIB_FORMAT_JSON))
	{
		const char *name = k->value_format != TRIB_FORMAT_JSON ? "value_format" : "key_format";

		ck_key_error_in(c, map, at, path, name,
						"frames records with the schema stage's schema id, which describes "
						"tributary's values, not Debezium's (accepted: json with format: "
						"debezium, or format: tributary)");
	}
	if (k->unchanged_toast == TRIB_TOAST_OMIT && trib_yaml_map_key(map, "unavailable_value"))
		ck_key_error_in(c, map, at, path, "unavailable_value",
						"is set but unchanged_toast is omit (accepted: remove it, or "
						"unchanged_toast: placeholder)");
	/* librdkafka's word on the properties, without a network, so that
	 * `check --offline` refuses what `run` would */
	kfk_props_check(&k->properties, k->transactional ? k->transactional_id : NULL,
					report_property,
					&(property_report) {.c = c, .map = map, .at = at, .path = path});
}
