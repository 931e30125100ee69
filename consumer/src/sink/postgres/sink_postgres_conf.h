/*
 * sink_postgres_conf.h: the settings of a `type: postgres` sink, owned by
 * the PostgreSQL sink.
 *
 * Design.  The key table in sink_postgres_conf.c is the single source of
 * truth for these settings (validation, defaults, docs/CONFIG.md).  The
 * sink's open() reads this struct (sink_postgres.c); a loaded member's
 * `conf` is a trib_pgsink_conf, reached with trib_pgsink_conf_of().
 *
 * Ownership: the config owns the struct and its strings.
 */
#ifndef TRIB_SINK_POSTGRES_CONF_H
#define TRIB_SINK_POSTGRES_CONF_H

#include <stdbool.h>

#include "config.h"
#include "registry.h"

/* unknown_types: a source type the target lacks. */
typedef enum trib_unknown_types
{
	TRIB_UNKNOWN_TYPES_FAIL = 0,	/* the sink stops with an error */
	TRIB_UNKNOWN_TYPES_TEXT = 1		/* the column is created as text */
} trib_unknown_types;

typedef struct trib_pgsink_conf
{
	char	   *dsn;
	char	   *schema;
	bool		create_tables;
	int			batch_size;
	int			batch_ms;
	bool		table_from_route;	/* a route rule's result names the table */
	trib_unknown_types unknown_types;	/* create_tables: a type the target lacks */
	bool		log_row_values; /* server errors logged with their row values */
} trib_pgsink_conf;

/* The key table (sink_postgres_conf.c). */
extern const struct ck_section trib_pgsink_conf_section;

/* The PostgreSQL sink's registration (cli/registry.c lists it),
 * defined in sink_postgres.c beside the sink's operations. */
extern const trib_plugin trib_sink_postgres;

/* The settings of a member of `sinks:` when it is a postgres sink, else
 * NULL. */
const trib_pgsink_conf *trib_pgsink_conf_of(const trib_sink_conf *sc);

#endif							/* TRIB_SINK_POSTGRES_CONF_H */
