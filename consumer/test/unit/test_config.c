/*
 * test_config.c: loading pipeline.yaml (the config/ folder, the plugins' key tables,
 * yaml_tree.c) and the generated reference (config_doc.c).
 *
 * Inline YAML covers defaults, each section, substitution and secrets;
 * test/configs/bad is a corpus of broken files, each with the exact
 * message it must produce (*.expected); every .yaml file in examples/ must load;
 * docs/CONFIG.md must equal trib_config_write_doc()'s output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_keys.h"
#include "kafka_conf.h"
#include "pg_source_conf.h"
#include "sink_file_conf.h"
#include "sink_postgres_conf.h"
#include "log.h"
#include "strbuf.h"
#include "yaml_tree.h"

#ifndef TRIB_TOP_SRCDIR
#error "TRIB_TOP_SRCDIR must name the top of the repository"
#endif

static char tmpdir[] = "/tmp/trib-test-config.XXXXXX";
static char errbuf[16384];
static trib_config *discard;	/* stays NULL: loads that must fail */

/* A minimal valid file, for tests that vary one section. */
#define BASE \
	"pipeline: shop\n" \
	"sources:\n" \
	"  main:\n" \
	"    type: postgres\n" \
	"    dsn: host=db dbname=shop\n"
#define STDOUT_SINK \
	"sinks:\n" \
	"  out:\n" \
	"    type: stdout\n"

/* Load YAML that must be valid. */
static trib_config *
load_ok(const char *yaml)
{
	trib_config *cfg = NULL;

	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, errbuf, sizeof(errbuf)))
		fail_msg("expected the config to load, got:\n%s\n--- config:\n%s", errbuf, yaml);
	assert_non_null(cfg);
	return cfg;
}

/* Load YAML that must fail with exactly `expected`. */
static void
load_err(const char *yaml, const char *expected)
{
	trib_config *cfg = (trib_config *) 1;

	if (trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, errbuf, sizeof(errbuf)))
		fail_msg("expected an error, the config loaded:\n%s", yaml);
	assert_null(cfg);
	if (strcmp(errbuf, expected) != 0)
		fail_msg("wrong error\n  got:      %s\n  expected: %s", errbuf, expected);
}

/* Write `content` to tmpdir/name; returns the path (static buffer). */
static const char *
write_tmp(const char *name, const char *content)
{
	static char path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	return path;
}

static int
group_setup(void **state)
{
	(void) state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	char		cmd[600];

	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

static int
teardown(void **state)
{
	(void) state;
	trib_log_clear_secrets();
	return 0;
}

/* ---- defaults and sections --------------------------------------------- */

static void
minimal_file_gets_every_default(void **state)
{
	trib_config *cfg = load_ok(BASE STDOUT_SINK);
	const trib_source_conf *s;
	const trib_pg_source_conf *pg;

	(void) state;
	assert_string_equal(cfg->path, "t.yaml");
	assert_string_equal(cfg->pipeline, "shop");
	assert_int_equal(cfg->nsources, 1);
	s = &cfg->sources[0];
	assert_string_equal(s->name, "main");
	assert_ptr_equal(s->plugin, &trib_source_postgres);
	assert_string_equal(s->type_name, "postgres");
	pg = trib_pg_source_conf_of(s);
	assert_int_equal(s->line, 3);
	assert_int_equal(s->column, 3);
	assert_string_equal(pg->dsn, "host=db dbname=shop");
	assert_string_equal(pg->slot, "tributary_shop");
	assert_true(pg->create_slot);
	assert_false(pg->create_extension);
	assert_int_equal(pg->include_tables.count, 0);
	assert_int_equal(pg->exclude_tables.count, 0);
	assert_int_equal(pg->snapshot, TRIB_SNAPSHOT_INITIAL);
	assert_int_equal(pg->heartbeat_interval_ms, 10000);
	assert_int_equal(pg->status_interval_ms, 1000);
	assert_int_equal(pg->reconnect_backoff_ms.initial, 500);
	assert_int_equal(pg->reconnect_backoff_ms.max, 30000);
	assert_int_equal(pg->plugin_options.count, 0);

	assert_int_equal(cfg->nsinks, 1);
	assert_string_equal(cfg->sinks[0].name, "out");
	assert_ptr_equal(cfg->sinks[0].plugin, &trib_sink_stdout);
	assert_string_equal(cfg->sinks[0].type_name, "stdout");

	assert_int_equal(cfg->checkpoint.store, TRIB_CHECKPOINT_CATALOG);
	assert_null(cfg->checkpoint.path);
	assert_string_equal(cfg->checkpoint.dsn, "host=db dbname=shop");
	assert_string_equal(cfg->checkpoint.dsn_source, "main");

	assert_true(cfg->http.enabled);
	assert_string_equal(cfg->http.listen, "127.0.0.1:8080");
	assert_string_equal(cfg->http.host, "127.0.0.1");
	assert_int_equal(cfg->http.port, 8080);

	assert_int_equal(cfg->log.level, TRIB_LOG_INFO);
	assert_int_equal(cfg->log.format, TRIB_LOG_TEXT);
	assert_null(cfg->log.file);
	trib_config_free(cfg);
}

static void
postgres_source_reads_every_key(void **state)
{
	trib_config *cfg = load_ok(
		"pipeline: shop\n"
		"sources:\n"
		"  main:\n"
		"    type: postgres\n"
		"    dsn: postgresql://u@db/shop\n"
		"    slot: my_slot\n"
		"    create_slot: no\n"
		"    create_extension: yes\n"
		"    include_tables: [public.*, '\"Sales\".\"Orders\"']\n"
		"    exclude_tables:\n"
		"      - public.audit_*\n"
		"    snapshot: never\n"
		"    heartbeat_interval_ms: 0\n"
		"    status_interval_ms: 250\n"
		"    reconnect_backoff_ms: {initial: 100, max: 100}\n"
		"    plugin_options:\n"
		"      skip-empty-xacts: true\n"
		"      batch-bytes: 0\n"
		STDOUT_SINK);
	const trib_pg_source_conf *pg = trib_pg_source_conf_of(&cfg->sources[0]);

	(void) state;
	assert_string_equal(pg->dsn, "postgresql://u@db/shop");
	assert_string_equal(pg->slot, "my_slot");
	assert_false(pg->create_slot);
	assert_true(pg->create_extension);
	assert_int_equal(pg->include_tables.count, 2);
	assert_string_equal(pg->include_tables.items[0], "public.*");
	assert_string_equal(pg->include_tables.items[1], "\"Sales\".\"Orders\"");
	assert_int_equal(pg->exclude_tables.count, 1);
	assert_string_equal(pg->exclude_tables.items[0], "public.audit_*");
	assert_int_equal(pg->snapshot, TRIB_SNAPSHOT_NEVER);
	assert_int_equal(pg->heartbeat_interval_ms, 0);
	assert_int_equal(pg->status_interval_ms, 250);
	assert_int_equal(pg->reconnect_backoff_ms.initial, 100);
	assert_int_equal(pg->reconnect_backoff_ms.max, 100);
	assert_int_equal(pg->plugin_options.count, 2);
	assert_string_equal(pg->plugin_options.items[0].key, "skip-empty-xacts");
	assert_string_equal(pg->plugin_options.items[0].value, "true");
	assert_string_equal(trib_config_kvlist_get(&pg->plugin_options, "batch-bytes"), "0");
	assert_null(trib_config_kvlist_get(&pg->plugin_options, "stream"));
	trib_config_free(cfg);
}

static void
default_slot_turns_dashes_of_the_pipeline_name_into_underscores(void **state)
{
	trib_config *cfg = load_ok(
		"pipeline: shop-to-staging_2\n"
		"sources: {main: {type: postgres, dsn: \"dbname=x\"}}\n"
		"sinks: {out: {type: stdout}}\n");

	(void) state;
	assert_string_equal(trib_pg_source_conf_of(&cfg->sources[0])->slot, "tributary_shop_to_staging_2");
	trib_config_free(cfg);
}

static void
sources_and_sinks_keep_file_order_and_can_be_found_by_name(void **state)
{
	trib_config *cfg = load_ok(
		"pipeline: p\n"
		"sinks:\n"
		"  zeta: {type: stdout}\n"
		"  alpha: {type: file, path: /tmp/a.jsonl}\n"
		"sources:\n"
		"  b: {type: postgres, dsn: dbname=b}\n"
		"  a: {type: postgres, dsn: dbname=a}\n");

	(void) state;
	assert_string_equal(cfg->sources[0].name, "b");
	assert_string_equal(cfg->sources[1].name, "a");
	assert_string_equal(cfg->sinks[0].name, "zeta");
	assert_string_equal(cfg->sinks[1].name, "alpha");
	assert_ptr_equal(trib_config_find_source(cfg, "a"), &cfg->sources[1]);
	assert_ptr_equal(trib_config_find_sink(cfg, "alpha"), &cfg->sinks[1]);
	assert_null(trib_config_find_sink(cfg, "nope"));
	/* the checkpoint uses the first postgres source in file order */
	assert_string_equal(cfg->checkpoint.dsn, "dbname=b");
	assert_string_equal(cfg->checkpoint.dsn_source, "b");
	trib_config_free(cfg);
}

static void
kafka_sink_defaults_and_properties_pass_through_as_strings(void **state)
{
	trib_config *cfg = load_ok(BASE
		"sinks:\n"
		"  events:\n"
		"    type: kafka\n"
		"    bootstrap_servers: embedded\n"
		"    properties:\n"
		"      linger.ms: 5\n"
		"      enable.idempotence: true\n"
		"      compression.type: zstd\n"
		"      client.rack: \"kept as is\"\n");
	const trib_kafka_conf *k = trib_kafka_conf_of(&cfg->sinks[0]);

	(void) state;
	assert_ptr_equal(cfg->sinks[0].plugin, &trib_sink_kafka);
	assert_string_equal(k->bootstrap_servers, "embedded");
	assert_true(k->embedded);
	assert_string_equal(k->topic_prefix, "shop");
	assert_string_equal(k->topic_pattern, "${prefix}.${schema}.${table}");
	assert_true(k->tombstones);
	assert_string_equal(k->message_topic, "${prefix}.message");
	assert_int_equal(k->unchanged_toast, TRIB_TOAST_PLACEHOLDER);
	assert_string_equal(k->unavailable_value, "__debezium_unavailable_value");
	assert_false(k->transaction_metadata);
	assert_false(k->transactional);
	assert_null(k->transactional_id);
	assert_int_equal(k->key_format, TRIB_FORMAT_JSON);
	assert_int_equal(k->value_format, TRIB_FORMAT_JSON);
	assert_int_equal(k->properties.count, 4);
	assert_string_equal(k->properties.items[0].key, "linger.ms");
	assert_string_equal(k->properties.items[0].value, "5");
	assert_string_equal(k->properties.items[1].value, "true");
	assert_string_equal(k->properties.items[2].value, "zstd");
	assert_string_equal(k->properties.items[3].key, "client.rack");
	assert_string_equal(k->properties.items[3].value, "kept as is");
	trib_config_free(cfg);
}

/* A property librdkafka refuses (an unknown name, a bad value) fails the
 * load at its key, with librdkafka's message: `check --offline` and
 * `run` refuse it alike, without a network. */
static void
kafka_properties_librdkafka_refuses_fail_the_load_at_their_key(void **state)
{
	(void) state;
	load_err(BASE
			 "sinks:\n"
			 "  events:\n"
			 "    type: kafka\n"
			 "    bootstrap_servers: embedded\n"
			 "    properties:\n"
			 "      linger.ms: 5\n"
			 "      sasl.pasword: hunter2\n"
			 "      acks: maybe\n",
			 "t.yaml:12:7: sinks.events.properties.sasl.pasword: rejected by librdkafka: "
			 "No such configuration property: \"sasl.pasword\" (accepted: the properties "
			 "of librdkafka's CONFIGURATION.md, with their values)\n"
			 "t.yaml:13:7: sinks.events.properties.acks: rejected by librdkafka: Invalid "
			 "value for configuration property \"request.required.acks\" (accepted: the "
			 "properties of librdkafka's CONFIGURATION.md, with their values)");
	/* brokers named: still no network, and librdkafka's checks across
	 * properties run on our settings too (idempotence needs acks all) */
	load_err(BASE
			 "sinks:\n"
			 "  events:\n"
			 "    type: kafka\n"
			 "    bootstrap_servers: \"k1:9092\"\n"
			 "    properties: {acks: 1}\n",
			 "t.yaml:10:5: sinks.events.properties: librdkafka refuses the producer's "
			 "configuration: `acks` must be set to `all` when `enable.idempotence` is true");
}

/* A secret property's value (the sink's secret list, here read from a
 * file) never appears in the message, even where librdkafka quotes it. */
static void
kafka_property_errors_never_show_a_secret_value(void **state)
{
	char		yaml[1024];
	const char *pw = write_tmp("kafka-pw", "zstd-hunter2\n");

	(void) state;
	snprintf(yaml, sizeof(yaml), BASE
			 "sinks:\n"
			 "  events:\n"
			 "    type: kafka\n"
			 "    bootstrap_servers: \"k1:9092\"\n"
			 "    properties:\n"
			 "      sasl.password_file: %s\n"
			 "      ssl.key.password: \"gzip-s3cret\"\n"
			 "      compression.type: zstd-hunter2\n"
			 "      compression.codec: gzip-s3cret\n", pw);
	load_err(yaml,
			 "t.yaml:13:7: sinks.events.properties.compression.type: rejected by librdkafka: "
			 "Invalid value \"***\" for configuration property \"compression.codec\" "
			 "(accepted: the properties of librdkafka's CONFIGURATION.md, with their values)\n"
			 "t.yaml:14:7: sinks.events.properties.compression.codec: rejected by librdkafka: "
			 "Invalid value \"***\" for configuration property \"compression.codec\" "
			 "(accepted: the properties of librdkafka's CONFIGURATION.md, with their values)");
	assert_null(strstr(errbuf, "hunter2"));
	assert_null(strstr(errbuf, "s3cret"));
}

/* A good set passes: real brokers (none reached), transactional, TLS and
 * SASL settings, secrets. */
static void
kafka_good_properties_pass_without_a_network(void **state)
{
	trib_config *cfg = load_ok(BASE
		"sinks:\n"
		"  events:\n"
		"    type: kafka\n"
		"    bootstrap_servers: \"k1.invalid:9092,k2.invalid:9092\"\n"
		"    transactional: true\n"
		"    properties:\n"
		"      compression.type: zstd\n"
		"      linger.ms: 20\n"
		"      security.protocol: sasl_plaintext\n"
		"      sasl.mechanisms: SCRAM-SHA-512\n"
		"      sasl.username: alice\n"
		"      sasl.password: \"not shown\"\n");

	(void) state;
	assert_int_equal(trib_kafka_conf_of(&cfg->sinks[0])->properties.count, 6);
	trib_config_free(cfg);
	/* acks 1 with idempotence off: accepted (the sink logs a warning) */
	cfg = load_ok(BASE
		"sinks:\n"
		"  events:\n"
		"    type: kafka\n"
		"    bootstrap_servers: \"k1.invalid:9092\"\n"
		"    properties: {enable.idempotence: false, acks: 1}\n");
	trib_config_free(cfg);
}

static void
kafka_sink_reads_every_key(void **state)
{
	trib_config *cfg = load_ok(BASE
		"sinks:\n"
		"  events:\n"
		"    type: kafka\n"
		"    bootstrap_servers: k1:9092,k2:9092\n"
		"    topic_prefix: Shop.v1\n"
		"    topic_pattern: \"${prefix}-${source}.${db}.${schema}.${table}\"\n"
		"    tombstones: false\n"
		"    message_topic: \"${prefix}.${db}.messages\"\n"
		"    unavailable_value: \"~unchanged~\"\n"
		"    transaction_metadata: true\n"
		"    transactional: true\n"
		"    transactional_id: shop-tx-1\n"
		"    key_format: json\n"
		"    value_format: json\n");
	const trib_kafka_conf *k = trib_kafka_conf_of(&cfg->sinks[0]);

	(void) state;
	assert_false(k->embedded);
	assert_string_equal(k->bootstrap_servers, "k1:9092,k2:9092");
	assert_string_equal(k->topic_prefix, "Shop.v1");
	assert_string_equal(k->topic_pattern, "${prefix}-${source}.${db}.${schema}.${table}");
	assert_false(k->tombstones);
	assert_string_equal(k->message_topic, "${prefix}.${db}.messages");
	assert_int_equal(k->unchanged_toast, TRIB_TOAST_PLACEHOLDER);
	assert_string_equal(k->unavailable_value, "~unchanged~");
	assert_true(k->transaction_metadata);
	assert_true(k->transactional);
	assert_string_equal(k->transactional_id, "shop-tx-1");
	trib_config_free(cfg);
}

static void
kafka_sink_can_omit_unchanged_toast_columns(void **state)
{
	trib_config *cfg = load_ok(BASE
		"sinks:\n"
		"  events: {type: kafka, bootstrap_servers: embedded, unchanged_toast: omit}\n");

	(void) state;
	assert_int_equal(trib_kafka_conf_of(&cfg->sinks[0])->unchanged_toast, TRIB_TOAST_OMIT);
	trib_config_free(cfg);
}

static void
transactional_kafka_sink_gets_a_stable_default_id(void **state)
{
	trib_config *cfg = load_ok(BASE
		"sinks:\n"
		"  events: {type: kafka, bootstrap_servers: embedded, transactional: true}\n");

	(void) state;
	assert_string_equal(trib_kafka_conf_of(&cfg->sinks[0])->transactional_id, "tributary.shop.events");
	trib_config_free(cfg);
}

static void
postgres_sink_defaults_and_values(void **state)
{
	trib_config *cfg = load_ok(BASE
		"sinks:\n"
		"  a: {type: postgres, dsn: \"dbname=target\"}\n"
		"  b:\n"
		"    type: postgres\n"
		"    dsn: \"dbname=target2\"\n"
		"    schema: staging\n"
		"    create_tables: false\n"
		"    batch_size: 50\n"
		"    batch_ms: 0\n");
	const trib_pgsink_conf *a = trib_pgsink_conf_of(&cfg->sinks[0]);
	const trib_pgsink_conf *b = trib_pgsink_conf_of(&cfg->sinks[1]);

	(void) state;
	assert_ptr_equal(cfg->sinks[0].plugin, &trib_sink_postgres);
	assert_string_equal(a->dsn, "dbname=target");
	assert_string_equal(a->schema, "public");
	assert_true(a->create_tables);
	assert_int_equal(a->batch_size, 1000);
	assert_int_equal(a->batch_ms, 100);
	assert_string_equal(b->schema, "staging");
	assert_false(b->create_tables);
	assert_int_equal(b->batch_size, 50);
	assert_int_equal(b->batch_ms, 0);
	trib_config_free(cfg);
}

static void
file_sink_defaults_and_large_rotate_bytes(void **state)
{
	trib_config *cfg = load_ok(BASE
		"sinks:\n"
		"  a: {type: file, path: /tmp/a.jsonl}\n"
		"  b: {type: file, path: /tmp/b.jsonl, rotate_bytes: 1099511627776, fsync: on}\n"
		"  c: {type: file, path: /tmp/c.jsonl, rotate_bytes: 0}\n");

	(void) state;
	assert_ptr_equal(cfg->sinks[0].plugin, &trib_sink_file);
	assert_string_equal(trib_filesink_conf_of(&cfg->sinks[0])->path, "/tmp/a.jsonl");
	assert_int_equal(trib_filesink_conf_of(&cfg->sinks[0])->rotate_bytes, 104857600);
	assert_false(trib_filesink_conf_of(&cfg->sinks[0])->fsync);
	assert_int_equal(trib_filesink_conf_of(&cfg->sinks[1])->rotate_bytes, INT64_C(1099511627776));
	assert_true(trib_filesink_conf_of(&cfg->sinks[1])->fsync);
	assert_int_equal(trib_filesink_conf_of(&cfg->sinks[2])->rotate_bytes, 0);
	trib_config_free(cfg);
}

static void
checkpoint_file_store_and_explicit_catalog_dsn(void **state)
{
	trib_config *cfg = load_ok(BASE STDOUT_SINK
		"checkpoint: {store: file, path: /var/lib/t/cp}\n");

	(void) state;
	assert_int_equal(cfg->checkpoint.store, TRIB_CHECKPOINT_FILE);
	assert_string_equal(cfg->checkpoint.path, "/var/lib/t/cp");
	assert_null(cfg->checkpoint.dsn);
	assert_null(cfg->checkpoint.dsn_source);
	trib_config_free(cfg);

	cfg = load_ok(BASE STDOUT_SINK "checkpoint:\n  dsn: dbname=catalog\n");
	assert_int_equal(cfg->checkpoint.store, TRIB_CHECKPOINT_CATALOG);
	assert_string_equal(cfg->checkpoint.dsn, "dbname=catalog");
	assert_null(cfg->checkpoint.dsn_source);
	trib_config_free(cfg);
}

/* Load with http.listen = `listen`; check host and port. */
static void
expect_listen(const char *listen, const char *host, int port)
{
	char		yaml[512];
	trib_config *cfg;

	snprintf(yaml, sizeof(yaml), BASE STDOUT_SINK "http:\n  listen: \"%s\"\n", listen);
	cfg = load_ok(yaml);
	assert_string_equal(cfg->http.listen, listen);
	assert_string_equal(cfg->http.host, host);
	assert_int_equal(cfg->http.port, port);
	trib_config_free(cfg);
}

static void
http_listen_forms_and_loopback_default_host(void **state)
{
	trib_config *cfg;

	(void) state;
	expect_listen("0.0.0.0:9090", "0.0.0.0", 9090);
	expect_listen("[::1]:8080", "::1", 8080);
	expect_listen("9000", "127.0.0.1", 9000);
	expect_listen(":0", "127.0.0.1", 0);
	expect_listen("metrics.local:65535", "metrics.local", 65535);
	cfg = load_ok(BASE STDOUT_SINK "http: {enabled: false}\n");
	assert_false(cfg->http.enabled);
	assert_string_equal(cfg->http.host, "127.0.0.1");
	trib_config_free(cfg);
}

static void
log_section_values(void **state)
{
	trib_config *cfg = load_ok(BASE STDOUT_SINK
		"log: {level: debug, format: json, file: /var/log/tributary.log}\n");

	(void) state;
	assert_int_equal(cfg->log.level, TRIB_LOG_DEBUG);
	assert_int_equal(cfg->log.format, TRIB_LOG_JSON);
	assert_string_equal(cfg->log.file, "/var/log/tributary.log");
	trib_config_free(cfg);
}

static void
transforms_may_be_absent_null_or_empty(void **state)
{
	trib_config *cfg;

	(void) state;
	cfg = load_ok(BASE STDOUT_SINK "transforms: []\n");
	trib_config_free(cfg);
	cfg = load_ok(BASE STDOUT_SINK "transforms:\n");
	trib_config_free(cfg);
	load_err(BASE STDOUT_SINK "transforms:\n  - mask: email\n",
			 "t.yaml:10:5: transforms[0].type: required key is missing (accepted: redact, "
			 "partial, hash, drop, keep, rename, cast, sample, route, flatten, quality, "
			 "allow, outbox, aggregate, lookup, tokenize, encrypt, decrypt, substitute, perturb, "
			 "generalize, filter, compute, map)");
}

static void
null_values_mean_the_default(void **state)
{
	trib_config *cfg = load_ok(BASE STDOUT_SINK "http:\n  listen: ~\nlog:\n  level:\n");

	(void) state;
	assert_string_equal(cfg->http.listen, "127.0.0.1:8080");
	assert_int_equal(cfg->log.level, TRIB_LOG_INFO);
	trib_config_free(cfg);
}

static void
yaml_anchors_and_aliases_are_expanded(void **state)
{
	trib_config *cfg = load_ok(BASE
		"sinks:\n"
		"  a: {type: kafka, bootstrap_servers: embedded, properties: &props {acks: all, linger.ms: 5}}\n"
		"  b: {type: kafka, bootstrap_servers: embedded, topic_prefix: b, properties: *props}\n");

	(void) state;
	assert_int_equal(trib_kafka_conf_of(&cfg->sinks[1])->properties.count, 2);
	assert_string_equal(trib_config_kvlist_get(&trib_kafka_conf_of(&cfg->sinks[1])->properties, "acks"), "all");
	trib_config_free(cfg);
}

/*
 * 49,000 anchors, then as many aliases of the first one (inside the node
 * limit): the anchors are looked up by hash.  A list searched from the
 * newest took 49,000 string comparisons per alias, about 20 s in all; the
 * alarm fails the test long before.
 */
static void
many_anchors_and_aliases_parse_in_linear_time(void **state)
{
	enum {N = 49000};
	trib_strbuf b = {0};
	trib_yaml_node *root = NULL;
	int			line = 0,
				column = 0;
	char		msg[256] = "";

	(void) state;
	trib_strbuf_adds(&b, "x: [");
	for (int i = 0; i < N; i++)
		trib_strbuf_printf(&b, "%s&a%d 1", i ? "," : "", i);
	trib_strbuf_adds(&b, "]\ny: [");
	for (int i = 0; i < N; i++)
		trib_strbuf_printf(&b, "%s*a0", i ? "," : "");
	trib_strbuf_adds(&b, "]\n");
	alarm(10);
	if (!trib_yaml_parse(b.data, b.len, &root, &line, &column, msg, sizeof(msg)))
		fail_msg("%d:%d: %s", line, column, msg);
	alarm(0);
	assert_int_equal(root->nchild, 4);
	assert_int_equal(root->child[3]->nchild, N);
	assert_string_equal(root->child[3]->child[N - 1]->text, "1");
	trib_yaml_free(root);
	trib_strbuf_free(&b);
}

/* ---- substitution ------------------------------------------------------ */

static void
environment_variables_are_substituted_in_every_value(void **state)
{
	trib_config *cfg;

	(void) state;
	setenv("TRIB_T_HOST", "db.internal", 1);
	setenv("TRIB_T_EMPTY", "", 1);
	setenv("TRIB_T_LEVEL", "debug", 1);
	setenv("TRIB_T_SINK", "stdout", 1);
	unsetenv("TRIB_T_UNSET");
	cfg = load_ok(
		"pipeline: shop\n"
		"sources:\n"
		"  main:\n"
		"    type: postgres\n"
		"    dsn: \"host=${TRIB_T_HOST} dbname=${TRIB_T_UNSET:-shop} user=${TRIB_T_EMPTY:-u}\"\n"
		"    include_tables: [\"${TRIB_T_UNSET:-public}.*\"]\n"
		"    plugin_options: {origin: \"${TRIB_T_UNSET:-none}\"}\n"
		"    status_interval_ms: ${TRIB_T_UNSET:-500}\n"
		"sinks:\n"
		"  out: {type: \"${TRIB_T_SINK}\"}\n"
		"log:\n"
		"  level: ${TRIB_T_LEVEL}\n"
		"  file: \"/var/log/$$HOME/${TRIB_T_EMPTY}x$y\"\n");
	assert_string_equal(trib_pg_source_conf_of(&cfg->sources[0])->dsn, "host=db.internal dbname=shop user=u");
	assert_string_equal(trib_pg_source_conf_of(&cfg->sources[0])->include_tables.items[0], "public.*");
	assert_string_equal(trib_config_kvlist_get(&trib_pg_source_conf_of(&cfg->sources[0])->plugin_options, "origin"), "none");
	assert_int_equal(trib_pg_source_conf_of(&cfg->sources[0])->status_interval_ms, 500);
	assert_ptr_equal(cfg->sinks[0].plugin, &trib_sink_stdout);
	assert_int_equal(cfg->log.level, TRIB_LOG_DEBUG);
	assert_string_equal(cfg->log.file, "/var/log/$HOME/x$y");
	trib_config_free(cfg);
}

static void
unset_variable_without_default_names_variable_file_line_and_column(void **state)
{
	(void) state;
	unsetenv("TRIB_T_UNSET");
	load_err(BASE STDOUT_SINK "log:\n  file: \"/logs/${TRIB_T_UNSET}/t.log\"\n",
			 "t.yaml:10:9: log.file: environment variable TRIB_T_UNSET is not set "
			 "(write ${TRIB_T_UNSET:-default} to give a default)");
}

static void
topic_pattern_keeps_its_placeholders_but_takes_other_variables(void **state)
{
	trib_config *cfg;
	char	   *topic;

	(void) state;
	setenv("table", "NOT-USED", 1);
	setenv("TRIB_T_ENV", "prod", 1);
	cfg = load_ok(BASE
		"sinks:\n"
		"  k:\n"
		"    type: kafka\n"
		"    bootstrap_servers: embedded\n"
		"    topic_pattern: \"${TRIB_T_ENV}.${prefix}.${schema}.${table}.cost$$\"\n");
	assert_string_equal(trib_kafka_conf_of(&cfg->sinks[0])->topic_pattern,
						"prod.${prefix}.${schema}.${table}.cost$$");
	topic = trib_config_topic_expand(trib_kafka_conf_of(&cfg->sinks[0])->topic_pattern, "shop",
									 "main", "shopdb", "public", "orders");
	assert_string_equal(topic, "prod.shop.public.orders.cost$");
	free(topic);
	trib_config_free(cfg);
	unsetenv("table");
}

static void
topic_expand_fills_every_placeholder_and_treats_null_as_empty(void **state)
{
	char	   *t;

	(void) state;
	t = trib_config_topic_expand("${prefix}|${source}|${db}|${schema}|${table}|${other}|$${x}",
								 "p", "s", "d", NULL, "t");
	assert_string_equal(t, "p|s|d||t|${other}|${x}");
	free(t);
}

/* The default subject and topic patterns: a schema-less source's (MySQL's)
 * database fills ${schema}; a pattern the user wrote is left as it is. */
static void
a_default_name_puts_a_schemaless_sources_database_in_the_schema_slot(void **state)
{
	char	   *t;

	(void) state;
	t = trib_name_expand(NULL, TRIB_SUBJECT_DEFAULT_PATTERN, NULL, "my", "shop", NULL, "orders");
	assert_string_equal(t, "my.shop.orders");
	free(t);
	t = trib_name_expand("${prefix}.${schema}.${table}", TRIB_TOPIC_DEFAULT_PATTERN, "p", "my",
						 "shop", NULL, "orders");
	assert_string_equal(t, "p.shop.orders");
	free(t);
	t = trib_name_expand(NULL, TRIB_SUBJECT_DEFAULT_PATTERN, NULL, "main", "shopdb", "public",
						 "orders");
	assert_string_equal(t, "main.public.orders");
	free(t);
	t = trib_name_expand("${schema}-${table}", TRIB_SUBJECT_DEFAULT_PATTERN, NULL, "my", "shop",
						 NULL, "orders");
	assert_string_equal(t, "-orders");
	free(t);
}

/* ---- secrets ----------------------------------------------------------- */

static void
dsn_file_reads_the_secret_and_registers_it_for_redaction(void **state)
{
	char		yaml[1024];
	const char *path = write_tmp("dsn", "host=db password=Sup3rSecret dbname=x\n");
	trib_config *cfg;
	char	   *r;

	(void) state;
	snprintf(yaml, sizeof(yaml),
			 "pipeline: shop\n"
			 "sources:\n"
			 "  main: {type: postgres, dsn_file: \"%s\"}\n"
			 STDOUT_SINK, path);
	cfg = load_ok(yaml);
	assert_string_equal(trib_pg_source_conf_of(&cfg->sources[0])->dsn, "host=db password=Sup3rSecret dbname=x");
	assert_string_equal(cfg->checkpoint.dsn, trib_pg_source_conf_of(&cfg->sources[0])->dsn);
	r = trib_log_redact("connecting with host=db password=Sup3rSecret dbname=x; pw Sup3rSecret");
	assert_string_equal(r, "connecting with ***; pw ***");
	free(r);
	trib_config_free(cfg);
}

static void
passwords_inside_an_inline_dsn_are_registered_as_secrets(void **state)
{
	trib_config *cfg = load_ok(
		"pipeline: shop\n"
		"sources:\n"
		"  a: {type: postgres, dsn: \"postgresql://u:p%40ss-word@db/shop\"}\n"
		"sinks:\n"
		"  b: {type: postgres, dsn: \"host=x password='two words'\"}\n");
	char	   *r = trib_log_redact("p@ss-word and two words");

	(void) state;
	assert_string_equal(r, "*** and ***");
	free(r);
	trib_config_free(cfg);
}

static void
secret_file_trailing_crlf_is_removed_once(void **state)
{
	char		yaml[1024];
	const char *path = write_tmp("pw", "line1\nline2\r\n");
	trib_config *cfg;

	(void) state;
	snprintf(yaml, sizeof(yaml), BASE
			 "sinks:\n"
			 "  k:\n"
			 "    type: kafka\n"
			 "    bootstrap_servers: embedded\n"
			 "    properties:\n"
			 "      sasl.username: svc\n"
			 "      sasl.password_file: %s\n", path);
	cfg = load_ok(yaml);
	assert_string_equal(trib_config_kvlist_get(&trib_kafka_conf_of(&cfg->sinks[0])->properties, "sasl.password"),
						"line1\nline2");
	assert_null(trib_config_kvlist_get(&trib_kafka_conf_of(&cfg->sinks[0])->properties, "sasl.password_file"));
	trib_config_free(cfg);
}

/* sasl.oauthbearer.config holds credentials (a client secret among its
 * key=value pairs): it can come from a file too, and is redacted. */
static void
oauthbearer_config_reads_from_a_file(void **state)
{
	char		yaml[1024];
	const char *path = write_tmp("ob", "principal=svc clientSecret=obSecret77\n");
	trib_config *cfg;
	char	   *r;

	(void) state;
	snprintf(yaml, sizeof(yaml), BASE
			 "sinks:\n"
			 "  k:\n"
			 "    type: kafka\n"
			 "    bootstrap_servers: embedded\n"
			 "    properties:\n"
			 "      sasl.oauthbearer.config_file: %s\n", path);
	cfg = load_ok(yaml);
	assert_string_equal(trib_config_kvlist_get(&trib_kafka_conf_of(&cfg->sinks[0])->properties,
											   "sasl.oauthbearer.config"),
						"principal=svc clientSecret=obSecret77");
	assert_null(trib_config_kvlist_get(&trib_kafka_conf_of(&cfg->sinks[0])->properties,
									   "sasl.oauthbearer.config_file"));
	r = trib_log_redact("x principal=svc clientSecret=obSecret77 y");
	assert_string_equal(r, "x *** y");
	free(r);
	trib_config_free(cfg);
}

static void
inline_secret_kafka_properties_are_registered(void **state)
{
	trib_config *cfg = load_ok(BASE
		"sinks:\n"
		"  k: {type: kafka, bootstrap_servers: embedded, "
		"properties: {sasl.password: kafkaPW1, sasl.username: bob}}\n");
	char	   *r = trib_log_redact("kafkaPW1 bob");

	(void) state;
	assert_string_equal(r, "*** bob");
	free(r);
	trib_config_free(cfg);
}

static void
secret_file_must_be_a_non_empty_regular_file(void **state)
{
	char		yaml[1024];
	char		expected[1024];
	const char *empty = write_tmp("empty", "\n");

	(void) state;
	snprintf(yaml, sizeof(yaml), BASE "sinks:\n  p: {type: postgres, dsn_file: %s}\n", empty);
	snprintf(expected, sizeof(expected),
			 "t.yaml:7:33: sinks.p.dsn_file: %s: the file is empty", empty);
	load_err(yaml, expected);

	snprintf(yaml, sizeof(yaml), BASE "sinks:\n  p: {type: postgres, dsn_file: %s}\n", tmpdir);
	snprintf(expected, sizeof(expected),
			 "t.yaml:7:33: sinks.p.dsn_file: %s: not a regular file", tmpdir);
	load_err(yaml, expected);
}

static void
an_invalid_dsn_error_never_shows_the_password(void **state)
{
	const char *yaml = BASE "sinks:\n  p: {type: postgres, dsn: \"password=topsecret x\"}\n";
	trib_config *cfg = NULL;

	(void) state;
	assert_false(trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg,
										 errbuf, sizeof(errbuf)));
	assert_null(strstr(errbuf, "topsecret"));
	assert_non_null(strstr(errbuf, "sinks.p.dsn: not a valid libpq connection string or URI"));
}

/* ---- errors ------------------------------------------------------------ */

static void
every_error_is_reported_not_just_the_first(void **state)
{
	(void) state;
	load_err(
		"pipeline: Shop\n"
		"sources:\n"
		"  main: {type: postgres, dsn: dbname=x, snapshot: sometimes}\n"
		"sinks:\n"
		"  out: {type: file, path: /x, fsync: maybe, rotate_byte: 5}\n"
		"htp: {}\n",
		"t.yaml:1:11: pipeline: invalid pipeline name \"Shop\" (accepted: a-z, 0-9, _ and -, "
		"1 to 53 characters)\n"
		"t.yaml:3:51: sources.main.snapshot: invalid value \"sometimes\" (accepted: initial, "
		"never, only)\n"
		"t.yaml:5:38: sinks.out.fsync: expected a boolean, got \"maybe\" (accepted: true, false)\n"
		"t.yaml:5:45: sinks.out.rotate_byte: unknown key for a file sink (accepted: type, "
		"path, rotate_bytes, fsync, mode)\n"
		"t.yaml:6:1: htp: unknown key for the top level (accepted: pipeline, sources, "
		"transforms, sinks, dead_letter, dead_letter_images, strict, lua_max_instructions, "
		"lua_max_memory_mb, transform_workers, pause_buffer_mb, erasure, checkpoint, http, schema_registry, schemas, lineage, log)");
}

static void
errors_stop_after_twenty(void **state)
{
	char		yaml[4096];
	size_t		len;
	int			lines = 1;

	(void) state;
	len = (size_t) snprintf(yaml, sizeof(yaml), BASE STDOUT_SINK);
	for (int i = 0; i < 30; i++)
		len += (size_t) snprintf(yaml + len, sizeof(yaml) - len, "bad%d: 1\n", i);
	assert_false(trib_config_load_buffer("t.yaml", yaml, len, &discard,
										 errbuf, sizeof(errbuf)));
	for (const char *p = errbuf; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, TRIB_CONFIG_MAX_ERRORS + 1);
	assert_non_null(strstr(errbuf, "t.yaml:28:1: bad19: unknown key"));
	assert_null(strstr(errbuf, "bad20"));
	assert_non_null(strstr(errbuf, "\nt.yaml: too many errors; only the first 20 are shown"));
}

static void
aliases_cannot_blow_up_memory(void **state)
{
	char		yaml[2048];
	size_t		len = 0;

	(void) state;
	len += (size_t) snprintf(yaml + len, sizeof(yaml) - len, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 9; i++)
		len += (size_t) snprintf(yaml + len, sizeof(yaml) - len,
								 "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
								 i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	assert_false(trib_config_load_buffer("t.yaml", yaml, len, &discard,
										 errbuf, sizeof(errbuf)));
	assert_non_null(strstr(errbuf, "the document has more than 100000 nodes (aliases expanded)"));
}

static void
deep_nesting_is_an_error_not_a_stack_overflow(void **state)
{
	char		yaml[20000];

	(void) state;
	memset(yaml, '[', 10000);
	memset(yaml + 10000, ']', 10000);
	assert_false(trib_config_load_buffer("t.yaml", yaml, sizeof(yaml), &discard,
										 errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "t.yaml:1:65: the document nests deeper than 64 levels");
}

static void
a_map_with_too_many_keys_is_rejected(void **state)
{
	size_t		cap = 20 * 10002;
	char	   *yaml = malloc(cap);
	size_t		len = 0;

	(void) state;
	assert_non_null(yaml);
	for (int i = 0; i <= 10000; i++)
		len += (size_t) snprintf(yaml + len, cap - len, "k%d: 1\n", i);
	assert_false(trib_config_load_buffer("t.yaml", yaml, len, &discard, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "t.yaml:10001:1: a map has more than 10000 keys");
	free(yaml);
}

static void
load_from_a_file_and_a_missing_file(void **state)
{
	const char *path = write_tmp("p.yaml", BASE STDOUT_SINK);
	trib_config *cfg = NULL;
	char		expected[1024];

	(void) state;
	assert_true(trib_config_load(path, &cfg, errbuf, sizeof(errbuf)));
	assert_string_equal(cfg->path, path);
	trib_config_free(cfg);

	assert_false(trib_config_load("/nonexistent/p.yaml", &cfg, errbuf, sizeof(errbuf)));
	assert_null(cfg);
	assert_string_equal(errbuf, "/nonexistent/p.yaml: cannot open: No such file or directory");

	assert_false(trib_config_load(tmpdir, &cfg, errbuf, sizeof(errbuf)));
	snprintf(expected, sizeof(expected), "%s: not a regular file", tmpdir);
	assert_string_equal(errbuf, expected);
}

/*
 * A written file that exists as a FIFO or a directory is refused when the
 * file is loaded: a FIFO as checkpoint.path made `check` and `run` wait
 * forever for a reader.  log.file may be one (a log collector's FIFO).
 */
static void
written_paths_that_are_not_regular_files_are_refused(void **state)
{
	char		fifo[256];
	char		yaml[1536];
	char		expected[1024];

	(void) state;
	snprintf(fifo, sizeof(fifo), "%s/ckpt-fifo", tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(yaml, sizeof(yaml), BASE STDOUT_SINK "checkpoint:\n  store: file\n  path: %s\n",
			 fifo);
	snprintf(expected, sizeof(expected), "t.yaml:11:9: checkpoint.path: \"%s\" exists and is "
			 "not a regular file (a FIFO); tributary writes and replaces regular files there",
			 fifo);
	load_err(yaml, expected);
	snprintf(yaml, sizeof(yaml), BASE "sinks:\n  f: {type: file, path: %s}\n", tmpdir);
	snprintf(expected, sizeof(expected), "t.yaml:7:25: sinks.f.path: \"%s\" exists and is not "
			 "a regular file (a directory); tributary writes and replaces regular files there",
			 tmpdir);
	load_err(yaml, expected);
	snprintf(yaml, sizeof(yaml), BASE STDOUT_SINK "log:\n  file: %s\n", fifo);
	trib_config_free(load_ok(yaml));
	unlink(fifo);
}

static void
a_short_error_buffer_is_truncated_safely(void **state)
{
	char		small[16];
	trib_config *cfg = NULL;

	(void) state;
	memset(small, 'x', sizeof(small));
	assert_false(trib_config_load_buffer("t.yaml", "x: 1", 4, &cfg, small, 10));
	assert_string_equal(small, "t.yaml:1:");
	assert_int_equal(small[10], 'x');
}

/* ---- corpora ----------------------------------------------------------- */

/* Read a file into a malloc'd string, trailing newlines removed (the
 * whole file, however long: docs/CONFIG.md is past 64 KiB). */
static char *
read_text(const char *path)
{
	FILE	   *f = fopen(path, "r");
	size_t		cap = 65536,
				n = 0,
				got;
	char	   *buf = malloc(cap);

	assert_non_null(buf);
	if (f == NULL)
		fail_msg("cannot open %s", path);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0)
	{
		n += got;
		if (cap - n - 1 == 0)
		{
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	fclose(f);
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return buf;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorted names in `dir` ending with `suffix`; returns the count. */
static size_t
list_dir(const char *dir, const char *suffix, char **names, size_t max)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	size_t		n = 0;

	if (d == NULL)
		fail_msg("cannot open directory %s", dir);
	while ((e = readdir(d)) != NULL && n < max)
	{
		size_t		len = strlen(e->d_name);

		if (len > strlen(suffix) && strcmp(e->d_name + len - strlen(suffix), suffix) == 0)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_names);
	return n;
}

/* ---- files the daemon writes (config_paths.c) -------------------------- */

/* BASE with a file sink at `sink` and the log at `log`, loaded; the error
 * text (empty when it loaded). */
static const char *
load_sink_and_log(const char *sink, const char *log)
{
	char		yaml[2048];
	trib_config *cfg = NULL;

	snprintf(yaml, sizeof(yaml), BASE "sinks:\n  archive: {type: file, path: \"%s\"}\n"
			 "log: {file: \"%s\"}\n", sink, log);
	if (trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, errbuf, sizeof(errbuf)))
	{
		trib_config_free(cfg);
		errbuf[0] = '\0';
	}
	return errbuf;
}

/* tmpdir/name, in a static buffer per slot (two at a time). */
static const char *
tmp_path(int slot, const char *name)
{
	static char paths[2][600];

	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", tmpdir, name);
	return paths[slot];
}

static void
log_and_sink_through_a_linked_directory_are_one_file(void **state)
{
	const char *err;

	(void) state;
	assert_int_equal(mkdir(tmp_path(0, "data"), 0700), 0);
	assert_int_equal(symlink("data", tmp_path(0, "current")), 0);
	err = load_sink_and_log(tmp_path(0, "data/events.jsonl"), tmp_path(1, "current/events.jsonl"));
	if (strstr(err, "t.yaml:8:13: log.file: \"") != err ||
		strstr(err, "current/events.jsonl\" is the same file as sinks.archive.path \"") == NULL ||
		strstr(err, "data/events.jsonl\" (t.yaml:7:31)") == NULL)
		fail_msg("expected the linked directory to be seen through, got: [%s]", err);
	/* the sidecar through the link, an existing file this time */
	write_tmp("data/events.jsonl.pos", "{}");
	err = load_sink_and_log(tmp_path(0, "data/events.jsonl"), tmp_path(1, "current/events.jsonl.pos"));
	assert_non_null(strstr(err, "is the same file as the position sidecar \""));
}

static void
a_link_to_a_sink_file_or_a_hard_link_is_the_same_file(void **state)
{
	const char *err;

	(void) state;
	write_tmp("real.jsonl", "");
	assert_int_equal(symlink(tmp_path(0, "real.jsonl"), tmp_path(1, "soft.log")), 0);
	err = load_sink_and_log(tmp_path(0, "real.jsonl"), tmp_path(1, "soft.log"));
	assert_non_null(strstr(err, "soft.log\" is the same file as sinks.archive.path"));
	assert_int_equal(link(tmp_path(0, "real.jsonl"), tmp_path(1, "hard.log")), 0);
	err = load_sink_and_log(tmp_path(0, "real.jsonl"), tmp_path(1, "hard.log"));
	assert_non_null(strstr(err, "hard.log\" is the same file as sinks.archive.path"));
	/* a dangling link: the log would be created at its target */
	assert_int_equal(symlink("later.jsonl", tmp_path(1, "dangling.log")), 0);
	err = load_sink_and_log(tmp_path(0, "later.jsonl"), tmp_path(1, "dangling.log"));
	assert_non_null(strstr(err, "dangling.log\" is the same file as sinks.archive.path"));
}

static void
files_that_only_look_alike_are_accepted(void **state)
{
	(void) state;
	/* not segments: a leading 0, a non-digit; other names in the directory */
	assert_string_equal(load_sink_and_log(tmp_path(0, "e.jsonl"), tmp_path(1, "e.jsonl.0")), "");
	assert_string_equal(load_sink_and_log(tmp_path(0, "e.jsonl"), tmp_path(1, "e.jsonl.01")), "");
	assert_string_equal(load_sink_and_log(tmp_path(0, "e.jsonl"), tmp_path(1, "e.jsonl.1x")), "");
	assert_string_equal(load_sink_and_log(tmp_path(0, "e.jsonl"), tmp_path(1, "e.jsonl.log")), "");
	assert_string_equal(load_sink_and_log(tmp_path(0, "e.jsonl"), tmp_path(1, "e.log")), "");
	/* a directory that does not exist yet still resolves by its parts */
	assert_non_null(strstr(load_sink_and_log(tmp_path(0, "new/e.jsonl"),
											 tmp_path(1, "new/x/../e.jsonl")),
						   "is the same file as sinks.archive.path"));
}

/* The one walk of `$$` and `${name}` the topic and route checks share:
 * where its first problem is, or NULL. */
static void
template_problem_points_at_the_first_bad_placeholder_or_character(void **state)
{
	const char *t;

	(void) state;
	assert_null(ck_template_problem("${prefix}.$$.${table}", ck_is_topic_var, "abc.$"));
	assert_null(ck_template_problem("", ck_is_topic_var, "a"));
	t = "a.${after.id}.${tabel}";
	assert_ptr_equal(ck_template_problem(t, ck_is_topic_var, NULL), t + 2);
	assert_ptr_equal(ck_template_problem(t, ck_is_field_ref, NULL), t + 14);
	t = "x${table";				/* not closed */
	assert_ptr_equal(ck_template_problem(t, ck_is_topic_var, NULL), t + 1);
	t = "ab/${db}";				/* a character outside chars */
	assert_ptr_equal(ck_template_problem(t, ck_is_topic_var, "ab"), t + 2);
	t = "a$b";					/* a lone $ is a character like another */
	assert_null(ck_template_problem(t, ck_is_topic_var, NULL));
	assert_ptr_equal(ck_template_problem(t, ck_is_topic_var, "ab"), t + 1);
}

static void
every_bad_config_fails_with_its_expected_message(void **state)
{
	char		dir[] = TRIB_TOP_SRCDIR "/consumer/test/configs/bad";
	char		cwd[4096];
	char	   *names[256];
	size_t		n;
	int			failures = 0;

	(void) state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	setenv("TRIB_TEST_SET", "set", 1);
	unsetenv("TRIB_TEST_UNSET");
	n = list_dir(".", ".yaml", names, 256);
	assert_true(n >= 30);
	for (size_t i = 0; i < n; i++)
	{
		char		expected_path[512];
		char	   *expected;
		trib_config *cfg = NULL;

		snprintf(expected_path, sizeof(expected_path), "%.*s.expected",
				 (int) (strlen(names[i]) - 5), names[i]);
		expected = read_text(expected_path);
		if (trib_config_load(names[i], &cfg, errbuf, sizeof(errbuf)))
		{
			print_error("%s: loaded, expected:\n%s\n", names[i], expected);
			trib_config_free(cfg);
			failures++;
		}
		else if (strcmp(errbuf, expected) != 0)
		{
			print_error("%s:\n  got:      %s\n  expected: %s\n", names[i], errbuf, expected);
			failures++;
		}
		free(expected);
		free(names[i]);
		trib_log_clear_secrets();
	}
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(failures, 0);
}

static void
every_example_pipeline_loads(void **state)
{
	char		dir[] = TRIB_TOP_SRCDIR "/examples";
	char	   *names[64];
	size_t		n = list_dir(dir, ".yaml", names, 64);
	int			failures = 0;

	(void) state;
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++)
	{
		char		path[1024];
		trib_config *cfg = NULL;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!trib_config_load(path, &cfg, errbuf, sizeof(errbuf)))
		{
			print_error("%s does not load:\n%s\n", path, errbuf);
			failures++;
		}
		trib_config_free(cfg);
		free(names[i]);
	}
	assert_int_equal(failures, 0);
}

static void
committed_config_reference_equals_the_generated_one(void **state)
{
	char	   *generated = NULL;
	size_t		len = 0;
	FILE	   *mem = open_memstream(&generated, &len);
	char	   *committed;
	int			line = 1;

	(void) state;
	assert_non_null(mem);
	trib_config_write_doc(mem);
	fclose(mem);
	committed = read_text(TRIB_TOP_SRCDIR "/docs/CONFIG.md");
	while (len > 0 && generated[len - 1] == '\n')
		generated[--len] = '\0';
	for (size_t i = 0; generated[i] && generated[i] == committed[i]; i++)
		line += generated[i] == '\n';
	if (strcmp(generated, committed) != 0)
		fail_msg("docs/CONFIG.md differs from the key tables from line %d on; "
				 "run `make -C consumer doc`", line);
	/* a key whose documented type is "secret" is not marked secret twice */
	if (strstr(generated, "secret, secret") != NULL)
		fail_msg("the reference says \"secret, secret\" at:\n%.120s",
				 strstr(generated, "secret, secret") - 40);
	free(generated);
	free(committed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(minimal_file_gets_every_default, teardown),
		cmocka_unit_test_teardown(kafka_sink_can_omit_unchanged_toast_columns, teardown),
		cmocka_unit_test_teardown(postgres_source_reads_every_key, teardown),
		cmocka_unit_test_teardown(default_slot_turns_dashes_of_the_pipeline_name_into_underscores, teardown),
		cmocka_unit_test_teardown(sources_and_sinks_keep_file_order_and_can_be_found_by_name, teardown),
		cmocka_unit_test_teardown(kafka_sink_defaults_and_properties_pass_through_as_strings, teardown),
		cmocka_unit_test(kafka_properties_librdkafka_refuses_fail_the_load_at_their_key),
		cmocka_unit_test(kafka_property_errors_never_show_a_secret_value),
		cmocka_unit_test(kafka_good_properties_pass_without_a_network),
		cmocka_unit_test_teardown(kafka_sink_reads_every_key, teardown),
		cmocka_unit_test_teardown(transactional_kafka_sink_gets_a_stable_default_id, teardown),
		cmocka_unit_test_teardown(postgres_sink_defaults_and_values, teardown),
		cmocka_unit_test_teardown(file_sink_defaults_and_large_rotate_bytes, teardown),
		cmocka_unit_test_teardown(checkpoint_file_store_and_explicit_catalog_dsn, teardown),
		cmocka_unit_test_teardown(http_listen_forms_and_loopback_default_host, teardown),
		cmocka_unit_test_teardown(log_section_values, teardown),
		cmocka_unit_test_teardown(transforms_may_be_absent_null_or_empty, teardown),
		cmocka_unit_test_teardown(null_values_mean_the_default, teardown),
		cmocka_unit_test_teardown(yaml_anchors_and_aliases_are_expanded, teardown),
		cmocka_unit_test_teardown(many_anchors_and_aliases_parse_in_linear_time, teardown),
		cmocka_unit_test_teardown(environment_variables_are_substituted_in_every_value, teardown),
		cmocka_unit_test_teardown(unset_variable_without_default_names_variable_file_line_and_column, teardown),
		cmocka_unit_test_teardown(topic_pattern_keeps_its_placeholders_but_takes_other_variables, teardown),
		cmocka_unit_test_teardown(topic_expand_fills_every_placeholder_and_treats_null_as_empty, teardown),
		cmocka_unit_test_teardown(a_default_name_puts_a_schemaless_sources_database_in_the_schema_slot,
								  teardown),
		cmocka_unit_test_teardown(dsn_file_reads_the_secret_and_registers_it_for_redaction, teardown),
		cmocka_unit_test_teardown(passwords_inside_an_inline_dsn_are_registered_as_secrets, teardown),
		cmocka_unit_test_teardown(secret_file_trailing_crlf_is_removed_once, teardown),
		cmocka_unit_test_teardown(oauthbearer_config_reads_from_a_file, teardown),
		cmocka_unit_test_teardown(inline_secret_kafka_properties_are_registered, teardown),
		cmocka_unit_test_teardown(secret_file_must_be_a_non_empty_regular_file, teardown),
		cmocka_unit_test_teardown(an_invalid_dsn_error_never_shows_the_password, teardown),
		cmocka_unit_test_teardown(every_error_is_reported_not_just_the_first, teardown),
		cmocka_unit_test_teardown(errors_stop_after_twenty, teardown),
		cmocka_unit_test_teardown(aliases_cannot_blow_up_memory, teardown),
		cmocka_unit_test_teardown(deep_nesting_is_an_error_not_a_stack_overflow, teardown),
		cmocka_unit_test_teardown(a_map_with_too_many_keys_is_rejected, teardown),
		cmocka_unit_test_teardown(load_from_a_file_and_a_missing_file, teardown),
		cmocka_unit_test_teardown(written_paths_that_are_not_regular_files_are_refused, teardown),
		cmocka_unit_test_teardown(a_short_error_buffer_is_truncated_safely, teardown),
		cmocka_unit_test_teardown(log_and_sink_through_a_linked_directory_are_one_file, teardown),
		cmocka_unit_test_teardown(a_link_to_a_sink_file_or_a_hard_link_is_the_same_file, teardown),
		cmocka_unit_test_teardown(files_that_only_look_alike_are_accepted, teardown),
		cmocka_unit_test(template_problem_points_at_the_first_bad_placeholder_or_character),
		cmocka_unit_test_teardown(every_bad_config_fails_with_its_expected_message, teardown),
		cmocka_unit_test_teardown(every_example_pipeline_loads, teardown),
		cmocka_unit_test_teardown(committed_config_reference_equals_the_generated_one, teardown),
	};

	return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
