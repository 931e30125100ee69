/*
 * config_keys.h: the schema engine of pipeline.yaml, for the config code
 * and for every plugin that declares its own settings.
 *
 * Design.  A section (a YAML map) is described by a table of ck_key rows,
 * pgbouncer-style: name, type, where the value goes (offset into the
 * section's struct), default, flags, range or accepted words, and one line
 * of description.  config.c walks a YAML map against such a table
 * (validation, defaults); config_doc.c prints the same tables as
 * docs/CONFIG.md.  Semantic checks that involve several keys, and defaults
 * computed from other values (the slot name from the pipeline name), are
 * a section's `finish` function, run after the whole file has been read.
 *
 * Who owns which table.  The pipeline's own sections (the top level,
 * erasure, checkpoint, log) are in config_pipeline.c; `http` is the
 * server's (pipeline/http_conf.c) and the transform rules' are in their
 * own folder (transform/rules_conf.c), both declared here so that the
 * loader reaches them without including pipeline/ or transform/.  Sources
 * and sinks are "plugin families": a map of name -> section whose `type`
 * picks a registered plugin (registry.h), and each plugin keeps its settings struct, its table and
 * its finish function in its own folder (e.g. sink/kafka/kafka_conf.c).
 * A row that names a file the daemon writes says so (`written`), so the
 * check that no two keys name one file (config_paths.c) covers every
 * plugin without knowing it.
 *
 * The walker's services that finish functions use (errors, the config
 * being built) are declared here and implemented in config.c.  This
 * header does not include config.h (config.c includes both): a table
 * that stores into trib_config's own structs includes config.h itself.
 */
#ifndef TRIB_CONFIG_KEYS_H
#define TRIB_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"
#include "yaml_tree.h"

struct trib_config;				/* config.h: what the loader builds */
struct trib_backoff_conf;		/* config.h: reconnect_backoff_ms */

typedef struct ck_ctx ck_ctx;	/* the loader's state (config.c) */
typedef struct ck_section ck_section;

typedef enum ck_type
{
	CK_STRING,					/* char * */
	CK_INT,						/* int, within [min, max] */
	CK_INT64,					/* int64_t, within [min, max] */
	CK_BOOL,					/* bool */
	CK_ENUM,					/* an enum (int-sized); value = index in words */
	CK_STRLIST,					/* trib_strlist */
	CK_KVLIST,					/* trib_kvlist; words = secret keys */
	CK_SECTION,					/* a nested struct described by `section` */
	CK_TYPE,					/* a variant's `type` (read by the family) */
	CK_CUSTOM					/* parsed and freed by the key's functions */
} ck_type;

/* flags */
#define CK_REQUIRED 0x01		/* an error when absent */
#define CK_SECRET	0x02		/* never shown; KEY_file reads it from a file */
#define CK_TEMPLATE 0x04		/* ${prefix} etc. are kept for the sink */
#define CK_EMPTY_OK 0x08		/* "" is a valid value */

/* Validate one string value; false and a message (that must not repeat a
 * secret value) when it is bad. */
typedef bool (*ck_check_fn) (const char *value, char *msg, size_t msglen);

/* Parse (or free) a CK_CUSTOM value; `base` is the section's struct. */
typedef void (*ck_custom_fn) (ck_ctx *c, const trib_yaml_node *key,
							  const trib_yaml_node *value, const char *path, void *base);
typedef void (*ck_custom_free_fn) (void *base);

/*
 * Cross-key checks and computed defaults of a section, after the whole
 * file was read.  `map` is the section's YAML map (NULL when absent),
 * `at` where to report problems of a missing section, `name` the entry's
 * name for family members (NULL otherwise).
 */
typedef void (*ck_finish_fn) (ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							  const char *path, void *base, const char *name);

/* A name the daemon derives from a written file's path: what it appends,
 * and what the file is ("position sidecar"; NULL: the file itself).  A
 * list ends with suffix == NULL. */
typedef struct ck_derived
{
	const char *suffix;
	const char *role;
} ck_derived;

/* What a CK_STRING row that names a file the daemon writes derives from
 * it (config_paths.c compares them all). */
typedef struct ck_written
{
	const ck_derived *names;	/* the file itself first ("" suffix) */
	bool		segments;		/* also PATH.1, PATH.2, ... (rotation) */
} ck_written;

typedef struct ck_key
{
	const char *name;
	ck_type		type;
	size_t		offset;			/* of the value in the section's struct */
	unsigned	flags;
	const char *def;			/* default as YAML text; NULL: none */
	const char *doc_default;	/* shown instead (computed defaults) */
	int64_t		min;			/* CK_INT, CK_INT64 */
	int64_t		max;
	const char *const *words;	/* CK_ENUM: accepted; CK_KVLIST: secrets */
	const ck_section *section;	/* CK_SECTION */
	ck_check_fn check;			/* CK_STRING, and CK_STRLIST items */
	ck_custom_fn custom;		/* CK_CUSTOM */
	ck_custom_free_fn custom_free;
	const ck_written *written;	/* CK_STRING: a file the daemon writes */
	const char *doc_type;		/* the docs' type column, when not derived */
	const char *desc;			/* one line for the docs */
} ck_key;

struct ck_section
{
	const char *doc_title;		/* Markdown, e.g. "`sinks.<name>` with `type: kafka`" */
	const char *what;			/* e.g. "a kafka sink", for messages; or NULL */
	const ck_key *keys;			/* ends with a row whose name is NULL */
	ck_finish_fn finish;		/* or NULL */
	const char *doc_intro;		/* paragraph under the title */
};

/* One type of a list family (transforms: redact, hash, ...). */
typedef struct ck_variant
{
	const char *type;
	int			id;				/* the enum value in the entry struct */
	size_t		offset;			/* of the per-type struct in the entry */
	const ck_section *section;
} ck_variant;

/* Where list-family entries keep their common fields; see config.h. */
typedef struct ck_family
{
	const char *key;			/* "transforms" */
	const char *what;			/* "rule" */
	const ck_variant *variants; /* ends with type == NULL */
	size_t		entry_size;
	size_t		off_name;
	size_t		off_type;
	size_t		off_type_name;
	size_t		off_line;
	size_t		off_column;
	size_t		off_array;		/* in trib_config */
	size_t		off_count;		/* in trib_config */
} ck_family;

/* Rows of a table: the name comes from the field, so key and struct
 * cannot drift. */
#define CK_ROW(st, field, ktype, kflags, ...) \
	{ .name = #field, .type = (ktype), .offset = offsetof(st, field), \
	  .flags = (kflags), __VA_ARGS__ }
/* The `type` row every plugin's table starts with. */
#define CK_TYPE_ROW(words_, desc_) \
	{ .name = "type", .type = CK_TYPE, .flags = CK_REQUIRED, \
	  .doc_type = (words_), .desc = (desc_) }
#define CK_END_ROW { .name = NULL }
/* The rows of a reconnect_backoff_ms section (trib_backoff_conf, config.h):
 * the sources differ only in the first delay's default. */
#define CK_BACKOFF_ROWS(initial_def) \
	CK_ROW(trib_backoff_conf, initial, CK_INT, 0, .def = (initial_def), .min = 1, \
		   .max = 3600000, .desc = "first delay, in milliseconds"), \
	CK_ROW(trib_backoff_conf, max, CK_INT, 0, .def = "30000", .min = 1, .max = 3600000, \
		   .desc = "longest delay, in milliseconds; must not be less than initial")

/* The pipeline's own schema (config_pipeline.c), and the rules' tables
 * (defined in transform/rules_conf.c, which is above config/). */
extern const ck_section ck_top_section;
extern const ck_family ck_rules_family;
extern const ck_section *const ck_rule_sections[];	/* for the docs */

/* The monitoring endpoint's section, owned by the server
 * (pipeline/http_conf.c, above config/ like the rules' tables). */
extern const ck_section ck_http_section;

/* The pipeline's sections other than the top level, in the order the
 * reference documents them after the sources and sinks. */
extern const ck_section *const ck_pipeline_sections[];
extern const ck_section ck_schema_registry_section;	/* config_schema_registry.c */
extern const ck_section ck_schemas_section;	/* schema/schema_conf.c */
/* schemas.migrations (schema/schema_migrate_conf.c) */
extern const ck_section ck_schema_migration_section;
extern const ck_section ck_schema_migration_step_section;
void		ck_parse_schema_migrations(ck_ctx *c, const trib_yaml_node *key,
									   const trib_yaml_node *value, const char *path, void *base);
void		ck_free_schema_migrations(void *base);
extern const ck_section ck_lineage_section;	/* lineage/lineage_conf.c */

/* The formats of a key given as text (keys.h), NULL-terminated; the
 * index is a trib_rule_key_format. */
extern const char *const ck_key_format_words[];

/* The placeholders a topic_pattern may use, NULL-terminated (config.c). */
extern const char *const ck_topic_vars[];

/* True when name[0..len) is one of ck_topic_vars. */
bool		ck_is_topic_var(const char *name, size_t len);

/*
 * The first problem of a template (config_scalars.c): a `${name}` that is
 * not closed or that known() refuses (the pointer is at its `$`), or a
 * character outside `chars` (NULL: any) that is no part of a placeholder
 * (`$$` is a literal `$`); NULL when there is none.
 */
const char *ck_template_problem(const char *tmpl, bool (*known) (const char *name, size_t len),
								const char *chars);

/* True when name[0..len) is a field reference of a template: `after.`,
 * `before.` or `key.` and a path (config_scalars.c; the route rule's
 * templates and `${...}` kept for it by the loader). */
bool		ck_is_field_ref(const char *name, size_t len);

/* ---- services of the walker (config.c) for finish functions ---------- */

/* Report a problem at `at` (a node, or NULL for the file) under `path`. */
void		ck_error(ck_ctx *c, const trib_yaml_node *at, const char *path,
					 const char *fmt,...) __attribute__((format(printf, 4, 5)));

/* The same under path.key ("key" when path is empty): the cross-key
 * checks of a finish function report at one key of their section. */
void		ck_key_error(ck_ctx *c, const trib_yaml_node *at, const char *path,
						 const char *key, const char *fmt,...)
			__attribute__((format(printf, 5, 6)));

/* The same at `key`'s node in `map` (the key itself), or at `at` when the
 * section has no such key: a finish function's cross-key checks. */
void		ck_key_error_in(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							const char *path, const char *key, const char *fmt,...)
			__attribute__((format(printf, 6, 7)));

/* A source's reconnect_backoff_ms (key `key` of its section): false,
 * reported at that key as "initial is more than max", when initial > max. */
bool		ck_check_backoff(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							 const char *path, const char *key,
							 const struct trib_backoff_conf *b);

/* The value node of `key` in `map` (NULL allowed), else `fallback`: where
 * a cross-key problem about that key is reported. */
const trib_yaml_node *ck_value_or(const trib_yaml_node *map, const char *key,
								  const trib_yaml_node *fallback);

/* The config being built (pipeline, sources, sinks so far). */
struct trib_config *ck_config(ck_ctx *c);

/* "parent.key" (or "key"), malloc'd. */
char	   *ck_path(const char *parent, const char *key);

/* The walker's generic parts, shared by the family and custom parsers. */
void		ck_walk_section(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							const char *path, const ck_section *sec, void *base,
							const char *name);
void		ck_free_section(const ck_section *sec, void *base);

/*
 * A YAML list of maps, each walked through sec into an array of `size`-byte
 * entries (allocated at the list's length plus one zeroed entry); *count
 * is the number walked.  NULL, after reporting, when seq is not a list.
 * ck_free_section_list frees the entries and the array.
 */
void	   *ck_parse_section_list(ck_ctx *c, const trib_yaml_node *seq, const char *path,
								  const ck_section *sec, size_t size, size_t *count);
void		ck_free_section_list(const ck_section *sec, void *array, size_t size,
								 size_t count);
void		ck_parse_plugins(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *map,
							 const char *path, const char *what,
							 const trib_plugin *const *plugins,
							 struct trib_plugin_conf **array, size_t *count);
void		ck_free_plugins(struct trib_plugin_conf *array, size_t count);
void		ck_parse_list_family(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *seq,
								 const char *path, const ck_family *fam);
void		ck_free_family(const ck_family *fam, struct trib_config *cfg);

/* Report every two keys that name one file the daemon writes (the log,
 * every plugin row marked `written`: file sinks with their sidecars and
 * segments, the checkpoint file, the erasure audit log); config_paths.c.
 * `top` is the file's top map. */
void		ck_check_written_paths(ck_ctx *c, const trib_yaml_node *top);

/* Value checks several tables share (config_values.c): a libpq
 * connection string (its passwords become log secrets), a file mode, a
 * bearer token (at least 16 bytes). */
bool		ck_check_conninfo(const char *value, char *msg, size_t msglen);
bool		ck_check_file_mode(const char *value, char *msg, size_t msglen);
bool		ck_check_token(const char *value, char *msg, size_t msglen);

/* True when every byte of s is in `allowed` and 1 <= length <= maxlen
 * (names: pipelines, slots, topics). */
#define CK_LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
bool		ck_only_chars(const char *s, const char *allowed, size_t maxlen);

/* A name's value check: ck_only_chars, else false with msg `invalid
 * <what> "<value>" (accepted: <accepted>, 1 to <maxlen> characters)`,
 * where `accepted` says `allowed` in words. */
bool		ck_check_name(const char *value, const char *what, const char *allowed,
						  size_t maxlen, const char *accepted, char *msg, size_t msglen);

#endif							/* TRIB_CONFIG_KEYS_H */
