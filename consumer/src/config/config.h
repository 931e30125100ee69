/*
 * config.h: the pipeline configuration (pipeline.yaml) as C structs.
 *
 * Design.  Like pgbouncer's config, every key of every section is one row
 * of a table (config_keys.h: the pipeline's own sections in
 * config_pipeline.c, each plugin's in its folder): name, type, default,
 * flags (required, secret), range or accepted words, and a one-line
 * description.  The same rows drive validation, defaults and the reference
 * docs/CONFIG.md (trib_config_write_doc), so the three cannot disagree.
 *
 * Sources and sinks are maps of name -> section whose `type` picks a
 * registered plugin (registry.h) for the rest of the section: each source
 * and sink type keeps its settings struct and key table in its own folder,
 * so adding a MySQL source or a MongoDB sink touches nothing here.
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

#include "jvalue.h"
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
const char *trib_config_kvlist_get(const trib_kvlist *list, const char *key);

/* A NULL-terminated array of a strlist's strings (not copied: the caller
 * frees the array only, while the list lives). */
const char **trib_config_strlist_view(const trib_strlist *list);

/* ---- sources and sinks ------------------------------------------------- */

/*
 * One member of `sources:` or `sinks:`.  Its `type` picks a registered
 * plugin (registry.h), whose key table validated the rest of the section
 * into the plugin's own settings struct: `conf`, owned by the config and
 * read only by the plugin (each plugin's header has a typed accessor).
 * Nothing outside the plugin's folder knows that struct.
 */
typedef struct trib_plugin_conf
{
	char	   *name;			/* key under sources: / sinks: */
	const struct trib_plugin *plugin;	/* its registered type */
	const char *type_name;		/* plugin->type ("postgres", "kafka", ...) */
	int			line;			/* where the section starts in the file */
	int			column;
	void	   *conf;			/* the plugin's settings (plugin->conf_size
								 * bytes, zeroed, then filled by its table);
								 * never NULL */
} trib_plugin_conf;

typedef struct trib_plugin_conf trib_source_conf;
typedef struct trib_plugin_conf trib_sink_conf;

/* ---- transforms --------------------------------------------------------- */

/*
 * One rule of `transforms:` (rules.c applies them in order).  One flat
 * struct for every rule type: each type's key table (rules_conf.c) names
 * the fields it uses, and the others stay zero.
 */
typedef enum trib_rule_type
{
	TRIB_RULE_REDACT = 0,
	TRIB_RULE_PARTIAL,
	TRIB_RULE_HASH,
	TRIB_RULE_DROP,
	TRIB_RULE_KEEP,
	TRIB_RULE_RENAME,
	TRIB_RULE_CAST,
	TRIB_RULE_SAMPLE,
	TRIB_RULE_ROUTE,
	TRIB_RULE_FLATTEN,
	TRIB_RULE_QUALITY,
	TRIB_RULE_ALLOW,
	TRIB_RULE_OUTBOX,
	TRIB_RULE_AGGREGATE,
	TRIB_RULE_LOOKUP,
	TRIB_RULE_TOKENIZE,
	TRIB_RULE_ENCRYPT,
	TRIB_RULE_DECRYPT,
	TRIB_RULE_SUBSTITUTE,
	TRIB_RULE_PERTURB,
	TRIB_RULE_GENERALIZE,
	TRIB_RULE_FILTER,
	TRIB_RULE_COMPUTE,
	TRIB_RULE_MAP
} trib_rule_type;

typedef enum trib_gen_mode
{
	TRIB_GENMODE_RANGE = 0,
	TRIB_GENMODE_LOWER = 1,
	TRIB_GENMODE_MONTH = 2,
	TRIB_GENMODE_YEAR = 3
} trib_gen_mode;

typedef enum trib_rule_key_format
{
	TRIB_RKEY_AUTO = 0,			/* hex if only hex digits, else base64 */
	TRIB_RKEY_HEX = 1,
	TRIB_RKEY_BASE64 = 2,
	TRIB_RKEY_RAW = 3			/* the text's bytes */
} trib_rule_key_format;

typedef enum trib_alphabet
{
	TRIB_ALPHABET_DIGITS = 0,
	TRIB_ALPHABET_ALNUM_LOWER = 1,
	TRIB_ALPHABET_ALNUM_UPPER = 2,
	TRIB_ALPHABET_ALNUM = 3
} trib_alphabet;

typedef enum trib_cipher
{
	TRIB_CIPHER_AES_GCM = 0,
	TRIB_CIPHER_FERNET = 1
} trib_cipher;

typedef enum trib_too_short
{
	TRIB_SHORT_REDACT = 0,
	TRIB_SHORT_DEAD_LETTER = 1
} trib_too_short;

typedef enum trib_agg_fn
{
	TRIB_AGG_SUM = 0,
	TRIB_AGG_AVG = 1,
	TRIB_AGG_MIN = 2,
	TRIB_AGG_MAX = 3,
	TRIB_AGG_COUNT = 4
} trib_agg_fn;

typedef enum trib_redact_with
{
	TRIB_RWITH_MASK = 0,		/* mask characters, same length */
	TRIB_RWITH_NULL = 1,
	TRIB_RWITH_VALUE = 2		/* a fixed value */
} trib_redact_with;

typedef enum trib_encoding
{
	TRIB_ENC_HEX = 0,
	TRIB_ENC_BASE64 = 1,
	TRIB_ENC_BASE64URL = 2
} trib_encoding;

typedef enum trib_cast_to
{
	TRIB_CAST_STRING = 0,
	TRIB_CAST_INTEGER = 1,
	TRIB_CAST_NUMBER = 2,
	TRIB_CAST_BOOLEAN = 3
} trib_cast_to;

typedef enum trib_flatten_deletes
{
	TRIB_FLATTEN_DROP = 0,		/* deletes disappear */
	TRIB_FLATTEN_TOMBSTONE = 1, /* a null value (Kafka tombstone) */
	TRIB_FLATTEN_REWRITE = 2	/* the old row with __deleted: true */
} trib_flatten_deletes;

typedef enum trib_check_kind
{
	TRIB_CHECK_NOT_NULL = 0,
	TRIB_CHECK_TYPE = 1,
	TRIB_CHECK_RANGE = 2,
	TRIB_CHECK_ALLOWED = 3,
	TRIB_CHECK_UNIQUE = 4,
	TRIB_CHECK_REGEX = 5,
	TRIB_CHECK_LUA = 6
} trib_check_kind;

typedef enum trib_rule_action
{
	TRIB_ACTION_DEAD_LETTER = 0,
	TRIB_ACTION_DROP = 1,
	TRIB_ACTION_TAG = 2,
	TRIB_ACTION_FAIL = 3
} trib_rule_action;

typedef enum trib_dlq_images
{
	TRIB_DLQ_IMAGES_NONE = 0,	/* reason, position, table; no row data */
	TRIB_DLQ_IMAGES_ORIGINAL = 1	/* the event as the source sent it */
} trib_dlq_images;

typedef struct trib_rule_conf
{
	char	   *name;			/* `name`, or "transforms[N]" */
	char	   *label;			/* the `name` key as written, or NULL */
	trib_rule_type type;
	const char *type_name;		/* static */
	int			line;
	int			column;
	/* selection (every type) */
	trib_strlist sources;		/* globs over source names; empty: all */
	trib_strlist tables;		/* globs over schema.table (or table); empty: all */
	trib_strlist fields;		/* field paths (jsondoc.h) */
	/* parameters, by type */
	trib_redact_with with;		/* redact */
	char	   *value;			/* redact with: value */
	char	   *mask_char;		/* redact, partial */
	int			keep_first;		/* partial */
	int			keep_last;		/* partial */
	bool		keep_email_domain;	/* partial */
	char	   *key;			/* hash, sample: secret */
	char	   *context;		/* hash: domain separation */
	trib_encoding encoding;		/* hash */
	int			length;			/* hash: truncate output; redact: mask length */
	trib_kvlist renames;		/* rename: old -> new */
	trib_cast_to to;			/* cast */
	char	   *percent;		/* sample: 0..100, decimal text */
	char	   *by;				/* sample: field to hash; NULL: the key */
	char	   *topic;			/* route: template */
	trib_flatten_deletes deletes;	/* flatten */
	trib_check_kind check;		/* quality */
	trib_jtype	expect;			/* quality check: type (jvalue.h: the first six) */
	char	   *min;			/* quality check: range (number text) */
	char	   *max;
	trib_strlist values;		/* quality check: allowed */
	trib_rule_action action;	/* quality */
	char	   *field;			/* aggregate: the field written */
	trib_agg_fn function;		/* aggregate */
	char	   *id_field;		/* outbox: column names */
	char	   *aggregate_type_field;
	char	   *aggregate_id_field;
	char	   *payload_field;
	char	   *type_field;
	bool		payload_only;	/* outbox: the value is the payload alone */
	char	   *dsn;			/* lookup: secret */
	char	   *query;			/* lookup: SQL with $1.. */
	trib_strlist params;		/* lookup: field paths bound to $1.. */
	char	   *into;			/* lookup: the jsonb field written */
	int			cache_size;		/* lookup: LRU entries */
	trib_rule_key_format key_format;	/* hash, sample, tokenize, en/decrypt */
	trib_alphabet alphabet;		/* tokenize */
	char	   *tweak;			/* tokenize; NULL: the context */
	bool		strict_alphabet;	/* tokenize: other characters are errors */
	trib_too_short too_short;	/* tokenize */
	trib_cipher cipher;			/* encrypt, decrypt */
	bool		url;			/* encrypt (aes-gcm): base64url */
	int			ttl;			/* decrypt (fernet): seconds; 0: none */
	bool		keep_separators;	/* partial */
	char	   *kind;			/* substitute: what to invent */
	char	   *iban_country;	/* substitute iban */
	char	   *dictionaries;	/* substitute: directory; NULL: built in */
	char	   *absolute;		/* perturb: +- this much (decimal text) */
	int			days;			/* perturb: dates +- up to this many days */
	trib_gen_mode mode;			/* generalize */
	int64_t		width;			/* generalize: bucket width */
	char	   *lua;			/* filter, compute, map, route, quality lua */
	char	   *pattern;		/* quality regex (PCRE2) */
	bool		caseless;		/* quality regex */
	char	   *column_type;	/* compute: the new column's SQL type */
} trib_rule_conf;

/* Erasure requests (the right to be forgotten); erasure.c. */
typedef enum trib_erasure_action
{
	TRIB_ERASE_DELETE = 0,		/* delete the rows; tombstones in Kafka */
	TRIB_ERASE_ANONYMIZE = 1	/* keep the rows with every non-key column null */
} trib_erasure_action;

typedef struct trib_erasure_conf
{
	trib_strlist targets;		/* "schema.table.column" holding the subject;
								 * empty: erasure is off */
	trib_erasure_action action;
	char	   *audit_log;		/* path of the JSON Lines audit log */
	char	   *audit_log_mode; /* its octal permissions, "0600" */
	char	   *subject_key;	/* HMAC key of the subject in the audit log */
	trib_rule_key_format subject_key_format;
	char	   *dsn;			/* default: the source's dsn */
} trib_erasure_conf;

/* ---- the other sections ------------------------------------------------ */

/* A source's reconnect_backoff_ms: {initial, max}, each source with its
 * own default initial (config_keys.h: CK_BACKOFF_ROWS). */
typedef struct trib_backoff_conf
{
	int			initial;		/* ms */
	int			max;			/* ms */
} trib_backoff_conf;

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
	char	   *encryption_key; /* seals stored positions (seal.h), or NULL */
	trib_rule_key_format encryption_key_format;
} trib_checkpoint_conf;

typedef struct trib_http_conf
{
	bool		enabled;
	char	   *listen;			/* as written, e.g. "127.0.0.1:8080" */
	char	   *host;			/* "127.0.0.1", "::1", "0.0.0.0", a name */
	int			port;			/* 0: any free port */
	char	   *token;			/* the control API's bearer token, or NULL */
	bool		open_reads;		/* control API reads need no token on loopback */
	int			max_body_bytes; /* control API request bodies */
	char	   *tls_cert_file;	/* both set: HTTPS */
	char	   *tls_key_file;
} trib_http_conf;

typedef struct trib_schema_registry_conf
{
	bool		enabled;
	char	   *dsn;			/* NULL: the checkpoint's dsn */
	char	   *token;			/* writes need it; NULL: read-only */
	bool		open_reads;		/* reads need no token on loopback */
	int			max_body_bytes;
} trib_schema_registry_conf;

/* The consumer's schema stage (schema/schema_conf.c has the key table). */
typedef enum trib_schemas_policy
{
	TRIB_SCHEMAS_FAIL = 0,		/* stop before the first incompatible event */
	TRIB_SCHEMAS_WARN,			/* register anyway, log, count, publish */
	TRIB_SCHEMAS_QUARANTINE		/* register, send to the quarantine sink
								 * until `tributary schema accept` */
} trib_schemas_policy;

/* One step of a schema migration (schema/schema_migrate_conf.c). */
typedef enum trib_migrate_op
{
	TRIB_MIGRATE_RENAME = 0,	/* rename: field, to: name */
	TRIB_MIGRATE_ADD,			/* add: field, default: JSON */
	TRIB_MIGRATE_DROP,			/* drop: field */
	TRIB_MIGRATE_CAST,			/* cast: field, as: string|integer|number|boolean */
	TRIB_MIGRATE_SET			/* set: field, lua: expression */
} trib_migrate_op;

typedef struct trib_migrate_step_conf
{
	trib_migrate_op op;
	int			line;
	char	   *rename;			/* the field each op names (one of them set) */
	char	   *add;
	char	   *drop;
	char	   *cast;
	char	   *set;
	char	   *to;				/* rename: the new name */
	char	   *def;			/* add: the default, JSON text */
	trib_cast_to as;			/* cast */
	char	   *lua;			/* set: the expression */
	char	   *type;			/* add, set, cast: the column's SQL type */
	trib_strlist versions;		/* only events of these versions; empty: all */
} trib_migrate_step_conf;

/* The migration of one subject: its events are upcast to `target`. */
typedef struct trib_migration_conf
{
	char	   *subject;
	char	   *target;			/* "latest" or a version number (text) */
	int			line;
	trib_migrate_step_conf *steps;
	size_t		nsteps;
} trib_migration_conf;

typedef struct trib_schemas_conf
{
	bool		enabled;
	char	   *dsn;			/* NULL: the checkpoint's dsn */
	char	   *subject;		/* pattern: ${source}, ${db}, ${schema}, ${table} */
	int			format;			/* index in ck_schemas_format_words: 0 json, 1 avro */
	bool		keys;			/* also register key schemas, "<subject>-key" */
	trib_schemas_policy on_incompatible;
	char	   *quarantine;		/* the quarantine sink's name */
	trib_migration_conf *migrations;	/* schema/schema_migrate_conf.c */
	size_t		nmigrations;
} trib_schemas_conf;

/* The lineage recording stage (lineage/lineage_conf.c has the key table). */
typedef struct trib_lineage_conf
{
	bool		enabled;
	char	   *dsn;			/* NULL: the checkpoint's dsn */
	char	   *job_namespace;	/* OpenLineage job namespace */
	char	   *job;			/* NULL: the pipeline's name */
	char	   *export_url;		/* OpenLineage HTTP endpoint, or NULL */
	char	   *export_file;	/* JSON Lines file of RunEvents, or NULL */
	char	   *export_state;	/* the export's sent-marker file */
	int			export_max_backoff_ms;
} trib_lineage_conf;

typedef struct trib_log_conf
{
	trib_log_level level;
	trib_log_format format;
	char	   *file;			/* NULL: stderr */
} trib_log_conf;

typedef struct trib_config
{
	char	   *path;			/* the file it was read from */
	char	   *text;			/* its bytes as read (NUL-terminated): what a
								 * reload compares and fingerprints
								 * (config_diff.h) */
	size_t		text_len;
	char	   *pipeline;		/* [a-z0-9_-]+ */
	trib_source_conf *sources;	/* in file order */
	size_t		nsources;
	trib_sink_conf *sinks;		/* in file order */
	size_t		nsinks;
	trib_rule_conf *rules;		/* transforms, in file order */
	size_t		nrules;
	char	   *dead_letter;	/* sink for events rules reject, or NULL */
	trib_dlq_images dead_letter_images;
	bool		strict;			/* every captured column needs a rule */
	int64_t		lua_max_instructions;	/* per evaluation */
	int			lua_max_memory_mb;	/* the Lua state's memory */
	int			transform_workers;	/* threads masking a batch (rules_pool.h) */
	int			pause_buffer_mb;	/* what a paused sink may hold (MiB) */
	trib_erasure_conf erasure;
	trib_checkpoint_conf checkpoint;
	trib_http_conf http;
	trib_schema_registry_conf schema_registry;
	trib_schemas_conf schemas;
	trib_lineage_conf lineage;
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
 * The catalog dsn of a section that may name its own (schemas, lineage,
 * schema_registry): own when it is set, else the checkpoint's dsn (set for
 * a catalog checkpoint store); NULL when neither is.
 */
const char *trib_config_dsn_or_checkpoint(const trib_config *cfg, const char *own);

/*
 * The checkpoint's sealing key (cp->encryption_key, which must be set) in
 * its format, checked to be TRIB_SEAL_KEY_LEN bytes: a key the caller
 * frees with trib_key_free(), or NULL with errbuf naming the key
 * (checkpoint.encryption_key), never its value.
 */
struct trib_key;
struct trib_key *trib_checkpoint_conf_key(const trib_checkpoint_conf *cp, char *errbuf,
										  size_t errlen);

/*
 * Expand a Kafka topic_pattern: ${prefix}, ${source}, ${db}, ${schema},
 * ${table} are replaced (NULL counts as empty) and $$ becomes $.  Returns a
 * malloc'd string the caller frees.
 */
char	   *trib_config_topic_expand(const char *pattern, const char *prefix,
									 const char *source, const char *db,
									 const char *schema, const char *table);

/* The defaults of the Kafka sink's topic_pattern and of schemas.subject. */
#define TRIB_TOPIC_DEFAULT_PATTERN "${prefix}.${schema}.${table}"
#define TRIB_SUBJECT_DEFAULT_PATTERN "${source}.${schema}.${table}"
#define TRIB_COLLECTION_DEFAULT_PATTERN "${schema}_${table}"

/*
 * trib_config_topic_expand() of a name whose default pattern is `def`.
 * With the default, a source without schemas (MySQL: schema NULL) puts its
 * database in ${schema}, so that default names read prefix.database.table,
 * as Debezium's MySQL connector names its topics, never prefix..table.  A
 * pattern the user wrote gets ${schema} as it is.  The caller frees.
 */
char	   *trib_name_expand(const char *pattern, const char *def, const char *prefix,
							 const char *source, const char *db, const char *schema,
							 const char *table);

/*
 * trib_name_expand() for a caller that decided once whether its pattern
 * (not NULL) is the default (e.g. a sink at open), so that a name costs
 * no comparison of patterns.  The caller frees.
 */
char	   *trib_name_expand_known(const char *pattern, bool is_default, const char *prefix,
								   const char *source, const char *db, const char *schema,
								   const char *table);

/* Write the configuration reference (docs/CONFIG.md) to `out`. */
void		trib_config_write_doc(FILE *out);

#endif							/* TRIB_CONFIG_H */
