/*
 * pg_source_conf.h: the settings of a `type: postgres` source, owned by
 * the PostgreSQL source.
 *
 * Design.  The key table in pg_source_conf.c is the single source of
 * truth for these settings: the loader validates and defaults
 * `sources.<name>` against it, the reference (docs/CONFIG.md) prints it,
 * and its finish function computes the default slot name, reads the
 * plugin option two-phase and refuses plugin options tributary manages
 * itself.  The source registers it
 * through trib_source_postgres (registry.h); a loaded member's `conf` is a
 * trib_pg_source_conf, reached with trib_pg_source_conf_of().
 *
 * Ownership: the config owns the struct and every string in it.
 */
#ifndef TRIB_PG_SOURCE_CONF_H
#define TRIB_PG_SOURCE_CONF_H

#include <stdbool.h>

#include "config.h"
#include "registry.h"

typedef enum trib_snapshot_mode
{
	TRIB_SNAPSHOT_INITIAL = 0,	/* snapshot when the slot is new, then stream */
	TRIB_SNAPSHOT_NEVER = 1,	/* stream only */
	TRIB_SNAPSHOT_ONLY = 2		/* snapshot, then stop */
} trib_snapshot_mode;

typedef struct trib_pg_source_conf
{
	char	   *dsn;			/* conninfo or URI (from dsn or dsn_file) */
	char	   *slot;			/* default tributary_<pipeline> */
	bool		create_slot;
	bool		create_extension;
	trib_strlist include_tables;	/* plugin include-tables */
	trib_strlist exclude_tables;	/* plugin exclude-tables */
	trib_snapshot_mode snapshot;
	trib_strlist snapshot_tables;	/* further filter; empty: all captured */
	int			snapshot_workers;
	int			snapshot_chunk_rows;
	int			snapshot_buffer_mb;
	int			heartbeat_interval_ms;	/* 0: no heartbeats */
	int			status_interval_ms;
	trib_backoff_conf reconnect_backoff_ms;
	trib_kvlist plugin_options; /* extra -o options, untouched */
	int			prepared_buffer_mb; /* held prepared transactions in memory */
	char	   *prepared_spill_dir; /* NULL: source_pg.c's default */
	bool		two_phase;		/* plugin_options two-phase is on (computed) */
} trib_pg_source_conf;

/* The PostgreSQL source's registration (cli/registry.c lists it), and
 * its operations (source.h; pg_source_ops.c). */
extern const trib_plugin trib_source_postgres;
struct trib_source_ops;
extern const struct trib_source_ops trib_pg_source_ops;

/* The settings of a member of `sources:` when it is a postgres source,
 * else NULL. */
const trib_pg_source_conf *trib_pg_source_conf_of(const trib_source_conf *sc);

/* Does the source capture schema.table under its include_tables and
 * exclude_tables (the plugin's pattern rules, snapshot_tables.h)? */
bool		trib_pg_source_captures(const trib_pg_source_conf *pg, const char *schema,
									const char *table);

#endif							/* TRIB_PG_SOURCE_CONF_H */
