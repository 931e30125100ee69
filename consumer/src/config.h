/*
 * config.h: the pipeline configuration (pipeline.yaml) as C structs.
 *
 * Design.  Like pgbouncer's config, every key of every section is one row
 * of a table (config_keys.c): name, type, default, flags (required,
 * secret), range or accepted words, and a one-line description.  The same
 * rows drive validation, defaults and the reference docs/CONFIG.md
 * (trib_config_write_doc), so the three cannot disagree.
 *
 * Sources and sinks are maps of name -> section whose `type` picks the
 * table for the rest of the section (a "variant"): adding a MySQL source or
 * a MongoDB sink is one struct below, one table and one registry line in
 * config_keys.c.
 *
 * Loading reports every problem it finds (up to 20) rather than the first,
 * one per line, as "FILE:LINE:COLUMN: KEY.PATH: message", with the accepted
 * keys or values where that helps.  Every scalar may use ${VAR},
 * ${VAR:-default} and $$; secret keys may be read from files (KEY_file) and
 * are registered with trib_log_add_secret() as they are read.
 *
 * Ownership: trib_config owns every string and array reachable from it;
 * trib_config_free() releases all of it.  Callers never free parts.
 */
#ifndef TRIB_CONFIG_H
#define TRIB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

/* Errors beyond this many are not reported (one line says so). */
#define TRIB_CONFIG_MAX_ERRORS 20

/* A list of strings (e.g. include_tables). */
typedef struct trib_strlist
{
	char	  **items;
	size_t		count;
} trib_strlist;

/* Ordered string pairs passed through untouched (librdkafka properties,
 * plugin options). */
typedef struct trib_kv
{
	char	   *key;
	char	   *value;
} trib_kv;

typedef struct trib_kvlist
{
	trib_kv    *items;
	size_t		count;
} trib_kvlist;

/* The value of `key` in a kvlist, or NULL. */
const char *trib_kvlist_get(const trib_kvlist *list, const char *key);

/* ---- sources ---------------------------------------------------------- */

typedef enum trib_source_type
{
	TRIB_SOURCE_POSTGRES = 0
	/* TRIB_SOURCE_MYSQL, TRIB_SOURCE_MONGODB: later issues */
} trib_source_type;

typedef enum trib_snapshot_mode
{
	TRIB_SNAPSHOT_INITIAL = 0,	/* snapshot when the slot is new, then stream */
	TRIB_SNAPSHOT_NEVER = 1,	/* stream only */
	TRIB_SNAPSHOT_ONLY = 2		/* snapshot, then stop */
} trib_snapshot_mode;

typedef struct trib_backoff_conf
{
	int			initial;		/* ms */
	int			max;			/* ms */
} trib_backoff_conf;

typedef struct trib_pg_source_conf
{
	char	   *dsn;			/* conninfo or URI (from dsn or dsn_file) */
	char	   *slot;			/* default tributary_<pipeline> */
	bool		create_slot;
	bool		create_extension;
	trib_strlist include_tables;	/* plugin include-tables */
	trib_strlist exclude_tables;	/* plugin exclude-tables */
	trib_snapshot_mode snapshot;
	int			heartbeat_interval_ms;	/* 0: no heartbeats */
	int			status_interval_ms;
	trib_backoff_conf reconnect_backoff_ms;
	trib_kvlist plugin_options; /* extra -o options, untouched */
} trib_pg_source_conf;

typedef struct trib_source_conf
{
	char	   *name;			/* key under sources: */
	trib_source_type type;
	const char *type_name;		/* "postgres" (static) */
	int			line;			/* where the section starts in the file */
	int			column;
	union
	{
		trib_pg_source_conf pg;
	};
} trib_source_conf;

/* ---- sinks ------------------------------------------------------------ */

typedef enum trib_sink_type
{
	TRIB_SINK_KAFKA = 0,
	TRIB_SINK_POSTGRES = 1,
	TRIB_SINK_FILE = 2,
	TRIB_SINK_STDOUT = 3
} trib_sink_type;

/* unchanged_toast: what `after` holds for an unchanged TOAST column. */
typedef enum trib_unchanged_toast
{
	TRIB_TOAST_PLACEHOLDER = 0, /* the unavailable_value string */
	TRIB_TOAST_OMIT = 1			/* the column is left out */
} trib_unchanged_toast;

/* key_format / value_format: reserved, json is the only one for now. */
typedef enum trib_data_format
{
	TRIB_FORMAT_JSON = 0
} trib_data_format;

typedef struct trib_kafka_sink_conf
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
	bool		transactional;
	char	   *transactional_id;	/* set iff transactional */
	trib_kvlist properties;		/* librdkafka rd_kafka_conf_set pairs */
	trib_data_format key_format;
	trib_data_format value_format;
} trib_kafka_sink_conf;

typedef struct trib_pg_sink_conf
{
	char	   *dsn;
	char	   *schema;
	bool		create_tables;
	int			batch_size;
	int			batch_ms;
} trib_pg_sink_conf;

typedef struct trib_file_sink_conf
{
	char	   *path;
	int64_t		rotate_bytes;	/* 0: never rotate */
	bool		fsync;
} trib_file_sink_conf;

struct trib_sink_conf
{
	char	   *name;			/* key under sinks: */
	trib_sink_type type;
	const char *type_name;		/* "kafka", ... (static) */
	int			line;
	int			column;
	union
	{
		trib_kafka_sink_conf kafka;
		trib_pg_sink_conf postgres;
		trib_file_sink_conf file;
		/* stdout has no settings */
	};
};
typedef struct trib_sink_conf trib_sink_conf;

/* ---- the other sections ------------------------------------------------ */

typedef enum trib_checkpoint_store
{
	TRIB_CHECKPOINT_CATALOG = 0,	/* tributary.source_checkpoints */
	TRIB_CHECKPOINT_FILE = 1
} trib_checkpoint_store;

typedef struct trib_checkpoint_conf
{
	trib_checkpoint_store store;
	char	   *path;			/* store: file */
	char	   *dsn;			/* store: catalog; default: first postgres source */
	char	   *dsn_source;		/* name of the source dsn came from, or NULL */
} trib_checkpoint_conf;

typedef struct trib_http_conf
{
	bool		enabled;
	char	   *listen;			/* as written, e.g. "127.0.0.1:8080" */
	char	   *host;			/* "127.0.0.1", "::1", "0.0.0.0", a name */
	int			port;			/* 0: any free port */
} trib_http_conf;

typedef struct trib_log_conf
{
	trib_log_level level;
	trib_log_format format;
	char	   *file;			/* NULL: stderr */
} trib_log_conf;

typedef struct trib_config
{
	char	   *path;			/* the file it was read from */
	char	   *pipeline;		/* [a-z0-9_-]+ */
	trib_source_conf *sources;	/* in file order */
	size_t		nsources;
	trib_sink_conf *sinks;		/* in file order */
	size_t		nsinks;
	trib_checkpoint_conf checkpoint;
	trib_http_conf http;
	trib_log_conf log;
} trib_config;

/*
 * Read and validate a pipeline file.  On success *out is a new config the
 * caller frees with trib_config_free().  On failure returns false, *out is
 * NULL, and errbuf holds one line per problem (truncated to errlen).
 */
bool		trib_config_load(const char *path, trib_config **out,
							 char *errbuf, size_t errlen);

/* The same from memory; `name` is used in messages (and as cfg->path). */
bool		trib_config_load_buffer(const char *name, const char *buf, size_t len,
									trib_config **out, char *errbuf, size_t errlen);

/* Free a config; NULL is allowed. */
void		trib_config_free(trib_config *cfg);

/* Look a source or sink up by name; NULL when there is none. */
const trib_source_conf *trib_config_find_source(const trib_config *cfg, const char *name);
const trib_sink_conf *trib_config_find_sink(const trib_config *cfg, const char *name);

/*
 * Expand a Kafka topic_pattern: ${prefix}, ${source}, ${db}, ${schema},
 * ${table} are replaced (NULL counts as empty) and $$ becomes $.  Returns a
 * malloc'd string the caller frees.
 */
char	   *trib_topic_expand(const char *pattern, const char *prefix,
							  const char *source, const char *db,
							  const char *schema, const char *table);

/* Write the configuration reference (docs/CONFIG.md) to `out`. */
void		trib_config_write_doc(FILE *out);

#endif							/* TRIB_CONFIG_H */
