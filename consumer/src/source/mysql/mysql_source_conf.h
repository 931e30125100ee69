/*
 * mysql_source_conf.h: the settings of a `type: mysql` source, owned by
 * the MySQL/MariaDB source.
 *
 * Design.  As for every plugin, the key table in mysql_source_conf.c is
 * the single source of truth: the loader validates and defaults
 * `sources.<name>` against it and docs/CONFIG.md prints it.  The source
 * registers it through trib_source_mysql_plugin (registry.h); a loaded member's
 * `conf` is a trib_mysql_source_conf, reached with
 * trib_mysql_source_conf_of().  The operations (mysql_source_ops.c) turn
 * it into the facade's trib_source_mysql_conf.
 *
 * Ownership: the config owns the struct and every string in it.
 */
#ifndef TRIB_MYSQL_SOURCE_CONF_H
#define TRIB_MYSQL_SOURCE_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "registry.h"

/* snapshot: when to copy the tables (docs/MYSQL.md, Initial snapshot) */
typedef enum trib_my_snapshot_mode
{
	TRIB_MY_SNAPSHOT_INITIAL = 0,	/* copy on the first start, then stream */
	TRIB_MY_SNAPSHOT_NEVER = 1,
	TRIB_MY_SNAPSHOT_ONLY = 2	/* copy, then stop */
} trib_my_snapshot_mode;

/* snapshot_locking: how the copy meets the binlog position */
typedef enum trib_my_snapshot_locking
{
	TRIB_MY_SNAPSHOT_LOCK_AUTO = 0, /* MariaDB: no lock when it can */
	TRIB_MY_SNAPSHOT_LOCK_FLUSH = 1 /* FLUSH TABLES WITH READ LOCK */
} trib_my_snapshot_locking;

typedef struct trib_mysql_source_conf
{
	char	   *host;
	int			port;
	char	   *socket;			/* a Unix socket instead of host:port */
	char	   *user;
	char	   *password;		/* from password or password_file */
	int64_t		server_id;		/* our replica id */
	char	   *report_host;
	char	   *start_file;		/* without a checkpoint: start here */
	int64_t		start_pos;
	char	   *start_gtid;		/* ... or after this GTID state */
	char	   *zero_date;		/* NULL: zero dates are null */
	char	   *schema_history; /* the schema history file, or NULL */
	int			heartbeat_ms;
	bool		include_query;	/* the source block's "query" */
	int			queue_mb;
	trib_backoff_conf reconnect_backoff_ms;
	char	   *lock_dsn;		/* PostgreSQL conninfo of the pipeline lock;
								 * NULL: GET_LOCK on the server */
	trib_my_snapshot_mode snapshot;
	trib_strlist snapshot_tables;	/* "db.table"; empty: every base table */
	int			snapshot_workers;
	int			snapshot_chunk_rows;
	int			snapshot_buffer_mb;
	trib_my_snapshot_locking snapshot_locking;
} trib_mysql_source_conf;

/* The MySQL source's registration (cli/registry.c lists it), and its
 * operations (source.h; mysql_source_ops.c). */
extern const trib_plugin trib_source_mysql_plugin;
struct trib_source_ops;
extern const struct trib_source_ops trib_mysql_source_ops;

/* The settings of a member of `sources:` when it is a mysql source, else
 * NULL. */
const trib_mysql_source_conf *trib_mysql_source_conf_of(const trib_source_conf *sc);

#endif							/* TRIB_MYSQL_SOURCE_CONF_H */
