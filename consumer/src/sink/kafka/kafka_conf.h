/*
 * kafka_conf.h: the settings of a `type: kafka` sink, owned by the Kafka
 * sink.
 *
 * Design.  The key table in kafka_conf.c is the single source of truth for
 * these settings: the loader validates and defaults `sinks.<name>`
 * against it, the reference (docs/CONFIG.md) prints it, and its finish
 * function computes the defaults that depend on the pipeline (topic
 * prefix, transactional id).  The sink reads this struct itself
 * (sink_kafka.c); nothing copies it into other option structs.  A loaded
 * member's `conf` is a trib_kafka_conf, reached with trib_kafka_conf_of().
 *
 * Ownership: a loaded config owns the struct and its strings.  A struct
 * filled by hand (tests, tools: trib_kafka_conf_init()) belongs to its
 * caller, who keeps it alive while a sink opened from it is open.
 */
#ifndef TRIB_KAFKA_CONF_H
#define TRIB_KAFKA_CONF_H

#include <stdbool.h>

#include "config.h"
#include "debezium.h"
#include "registry.h"

/* unchanged_toast: what `after` holds for an unchanged TOAST column. */
typedef enum trib_unchanged_toast
{
	TRIB_TOAST_PLACEHOLDER = 0, /* the unavailable_value string */
	TRIB_TOAST_OMIT = 1			/* the column is left out */
} trib_unchanged_toast;

/* key_format / value_format: how a record's key or value is written
 * (docs/FORMAT.md, "Wire formats"). */
typedef enum trib_data_format
{
	TRIB_FORMAT_JSON = 0,		/* the JSON record, unframed (the default) */
	TRIB_FORMAT_JSON_SR = 1,	/* Confluent framing: 0, schema id, JSON */
	TRIB_FORMAT_AVRO = 2		/* Confluent framing: 0, schema id, Avro binary */
} trib_data_format;

/* format: the values' encodings (docs/FORMAT.md). */
typedef enum trib_record_format
{
	TRIB_RECORD_TRIBUTARY = 0,	/* tributary's value types (the default) */
	TRIB_RECORD_DEBEZIUM = 1	/* Debezium's, by the dbz options */
} trib_record_format;

typedef struct trib_kafka_conf
{
	char	   *bootstrap_servers;
	bool		embedded;		/* bootstrap_servers was "embedded" */
	char	   *topic_prefix;	/* default: the pipeline name */
	char	   *topic_pattern;	/* ${prefix} ${source} ${db} ${schema} ${table} */
	char	   *message_topic;	/* logical messages (op m); ${prefix} only */
	bool		tombstones;
	trib_unchanged_toast unchanged_toast;
	char	   *unavailable_value;	/* the placeholder (unchanged_toast: placeholder) */
	bool		transaction_metadata;	/* the envelope's "transaction" block */
	bool		schema_headers; /* tributary.schema_id/_version headers */
	bool		transactional;
	char	   *transactional_id;	/* set iff transactional */
	trib_kvlist properties;		/* librdkafka rd_kafka_conf_set pairs */
	trib_data_format key_format;
	trib_data_format value_format;
	/* format: debezium and its options (Debezium's names and defaults) */
	trib_record_format format;
	trib_dbz_opts dbz;
} trib_kafka_conf;

/* Settings for a sink opened by hand (tests, tools): tombstones on,
 * everything else zero or NULL, which the sink reads as the defaults:
 * prefix "tributary", the default topic patterns, Debezium's
 * placeholder, at-least-once. */
void		trib_kafka_conf_init(trib_kafka_conf *conf);

/* The key table (kafka_conf.c). */
extern const struct ck_section trib_kafka_conf_section;

/* The Kafka sink's registration (cli/registry.c lists it), defined
 * in sink_kafka.c beside the sink's operations. */
extern const trib_plugin trib_sink_kafka;

/* The settings of a member of `sinks:` when it is a kafka sink, else
 * NULL. */
const trib_kafka_conf *trib_kafka_conf_of(const trib_sink_conf *sc);

#endif							/* TRIB_KAFKA_CONF_H */
