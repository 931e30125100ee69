/*
 * registry.h: what a source or sink type registers, and the lists of them.
 *
 * Design.  A plugin (a type of source or sink) owns everything about
 * itself in its own folder: its operations (sink.h), its settings struct
 * and the key table that validates, defaults and documents them
 * (config_keys.h), and its part of `tributary check` (the optional `check`
 * operation).  It describes itself to the rest of the daemon with one
 * trib_plugin, defined in its folder and declared in its public header.
 * The registry, cli/registry.c, lists them: one line per type, and the
 * only place in the tree that names every plugin.  The config loader
 * (family sections `sources:` and `sinks:`), the reference
 * (docs/CONFIG.md), the sink factory (sinks.c) and `check` only ever go
 * through these lists, so adding a type is a new folder plus one line
 * there.
 *
 * The lists are declared here, below the layers that use them, and
 * defined at the top (cli/registry.c), as PostgreSQL declares its
 * resource-manager table in a header and fills it in one list file: the
 * config loader needs the registered tables without including any plugin.
 *
 * A member of `sources:` or `sinks:` in a loaded config (config.h) points
 * at its trib_plugin and holds its settings as an opaque block of
 * `conf_size` bytes that the config owns and frees: the plugin's own
 * struct, read only by the plugin.
 */
#ifndef TRIB_REGISTRY_H
#define TRIB_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

struct ck_section;				/* config_keys.h: a key table */
struct ck_ctx;					/* config_keys.h: the loader's state */
struct trib_yaml_node;			/* yaml_tree.h */
struct trib_sink_ops;			/* sink.h */
struct trib_source_ops;			/* source.h */

/*
 * What the pipeline's own sections (config_pipeline.c: checkpoint,
 * erasure) ask of a source's settings while the config loads, answered
 * by the source for its own type.  `conf` is the source's settings
 * struct.  Every member is optional.
 */
typedef struct trib_source_conf_ops
{
	/* The conninfo of the PostgreSQL database the source reads, where the
	 * extension's catalog can be: the default of checkpoint.dsn (`store:
	 * catalog`) and of erasure.dsn; NULL when it has none. */
	const char *(*catalog_dsn) (const void *conf);
	/* Erasure: does the source capture schema.table? */
	bool		(*captures) (const void *conf, const char *schema, const char *table);
	/* Erasure: report (ck_error at `at`, under `path`, the erasure
	 * section's) whatever in the source's settings keeps erasure requests
	 * from arriving. */
	void		(*check_erasure) (struct ck_ctx *c, const struct trib_yaml_node *at,
								  const char *path, const void *conf);
} trib_source_conf_ops;

typedef struct trib_plugin
{
	const char *type;			/* the value of `type:`, e.g. "kafka" */
	const struct trib_sink_ops *sink_ops;	/* a sink's operations; NULL for a
											 * source */
	const struct trib_source_ops *source_ops;	/* a source's operations;
												 * NULL for a sink */
	const struct ck_section *section;	/* its key table: title, rows, finish */
	size_t		conf_size;		/* its settings struct, allocated zeroed by
								 * the loader; 0: it has no settings (the
								 * loader still allocates a byte) */
	void		(*conf_free) (void *conf);	/* frees what the rows do not (they
											 * free their own values); NULL:
											 * nothing */
	const trib_source_conf_ops *conf_ops;	/* a source's answers to the
											 * pipeline's sections; NULL
											 * for a sink, or none */
} trib_plugin;

/* The registered types, in the order of messages and of the reference;
 * NULL-terminated (cli/registry.c). */
extern const trib_plugin *const trib_registry_sources[];
extern const trib_plugin *const trib_registry_sinks[];

/* The plugin of `type` in a list, or NULL. */
const trib_plugin *trib_registry_find(const trib_plugin *const *list, const char *type);

/* The settings of a member of `sources:` or `sinks:` (config.h) when its
 * type is `plugin`, else NULL: what each plugin's typed accessor returns. */
struct trib_plugin_conf;
void	   *trib_registry_conf(const struct trib_plugin_conf *member, const trib_plugin *plugin);

/* Defines a plugin's typed accessor of its settings, declared in its
 * header as `const conf_type *fn(const trib_sink_conf *)` (or
 * trib_source_conf): trib_registry_conf for `plugin`, NULL for a member
 * of another type.  One line beside the plugin's registration. */
#define TRIB_PLUGIN_CONF_ACCESSOR(fn, conf_type, plugin) \
	const conf_type * \
	fn(const struct trib_plugin_conf *member) \
	{ \
		return trib_registry_conf(member, &(plugin)); \
	}

#endif							/* TRIB_REGISTRY_H */
