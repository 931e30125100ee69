/*
 * mysql_schema.h: where column names, types and ENUM/SET members come from
 * when the binlog does not say: the schema-source interface, and the
 * in-memory schema history that implements it.
 *
 * Design.  A TABLE_MAP event carries each column's binlog type and length
 * metadata, and, with binlog_row_metadata=FULL, names, signedness,
 * charsets, ENUM/SET members and the primary key.  With MINIMAL it keeps
 * signedness and charsets only; with NO_LOG (MariaDB's default) nothing.
 * Some facts no binlog carries at all: that a MariaDB LONGTEXT column is
 * JSON (a json_valid() check constraint), or that a column is generated.
 * So the decoder asks a schema source, an ops table like the source and
 * sink interfaces, for the table as it was at the event's position:
 *
 *   lookup(db, table, at)  the table's version at `at`, or NULL if unknown
 *   ddl(db, stmt, at)      a DDL statement was read at `at` (optional)
 *
 * A version, once returned, never changes and lives as long as the schema
 * source, so its address identifies it: the decoder caches the shapes it
 * built per (TABLE_MAP bytes, version).
 *
 * The binlog wins wherever it speaks (it is exact for that event); the
 * schema source fills what it leaves out.
 *
 * The schema history (trib_my_history) is the implementation: versions of
 * each table, each valid from a position on, so that an event is decoded
 * with the shape its table had when the event was written, also after a
 * restart that re-reads old events after a DDL.  Versions come from a
 * loader (mysql_infoschema.c reads information_schema) the first time a
 * table is needed, and from DDL statements: ddl() gives the statement to
 * the DDL parser (mysql_ddl.h), which derives the new versions of the
 * tables it changes from their previous versions, valid from the
 * statement's exact position.  Where that is uncertain (a form or a fact
 * the parser does not know), ddl() logs so and marks every table of the
 * history as needing a new version from that position on, read from
 * information_schema when the table is next needed, that is as the server
 * has it then; reading far behind the server across such a DDL can
 * therefore decode old events with a newer shape, which the decoder
 * detects when the column count or a type disagrees with the TABLE_MAP
 * (and then reports, rather than guessing).  The history lives in memory; a store
 * (mysql_history_file.c: an append-only file) makes it durable, so that a
 * restart after a DDL decodes the events before it with the shape they
 * were written with.  The versions a DDL derived are also told to the
 * pipeline's schema registry at the DDL's position (each_at(), used by
 * mysql_source_ops.c), so the registry has them even when no row follows.
 *
 * Ownership: the history owns every version it ever held until it is
 * freed, so a trib_my_tableinfo pointer it returned stays valid as long as
 * the history (events may point at shapes built from it).
 */
#ifndef TRIB_MYSQL_SCHEMA_H
#define TRIB_MYSQL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mysql_position.h"
#include "mysql_tableinfo.h"

typedef struct trib_my_schema_ops
{
	/*
	 * The table as of position `at` (NULL: the newest).  *out is NULL when
	 * the table is unknown (dropped, or never existed); borrowed, valid
	 * while the schema source lives.  False with errbuf when the answer
	 * could not be had; then *errnum is the server's or client's error
	 * number when a query failed (trib_my_error_retryable() tells a lost
	 * connection), 0 for any other failure.
	 */
	bool		(*lookup) (void *ctx, const char *db, const char *table,
						   const trib_my_pos *at,
						   const trib_my_tableinfo **out, unsigned *errnum,
						   char *errbuf, size_t errlen);
	/* A DDL statement was read at `at`; NULL when not interested. */
	void		(*ddl) (void *ctx, const char *db, const char *statement,
						const trib_my_pos *at);
} trib_my_schema_ops;

typedef struct trib_my_schema
{
	const trib_my_schema_ops *ops;
	void	   *ctx;
} trib_my_schema;

/*
 * Where the history gets a table's current shape: fill *out (a new
 * tableinfo the history takes over), or set it NULL when the table does
 * not exist.  False with errbuf when it could not be read, and *errnum
 * the query's error number (0: not a server or client error), which the
 * history's lookup passes on.
 */
typedef bool (*trib_my_loader_fn) (void *arg, const char *db, const char *table,
								   trib_my_tableinfo **out, unsigned *errnum,
								   char *errbuf, size_t errlen);

typedef struct trib_my_history trib_my_history;

/* An empty history that loads missing tables through `load` (may be NULL:
 * only what trib_my_history_add() put in is known). */
trib_my_history *trib_my_history_new(trib_my_loader_fn load, void *load_arg);
void		trib_my_history_free(trib_my_history *h);

/* Add a version of a table, valid from `from` on (NULL: from the start);
 * the history takes over `t`. */
void		trib_my_history_add(trib_my_history *h, const trib_my_pos *from,
								trib_my_tableinfo *t);

/*
 * Add a version of a table valid from `from` (NULL: the start) that the
 * history did not load itself (the snapshot's description of a table
 * altered during the copy), recording it through the store first like a
 * loaded one; the history takes over `t` (freed on error).  False with
 * errbuf when the store could not record it.
 */
bool		trib_my_history_record(trib_my_history *h, const trib_my_pos *from,
								   trib_my_tableinfo *t, char *errbuf, size_t errlen);

/*
 * Where a durable history records what it learns: each version it loads
 * (t NULL: the table did not exist), each DDL position it is told of.
 * Called before the version is used, so the record is durable before any
 * event decoded with it can be checkpointed.  False with errbuf when the
 * record could not be written.
 */
typedef struct trib_my_history_store
{
	bool		(*version) (void *arg, const char *db, const char *table,
							const trib_my_pos *from, const trib_my_tableinfo *t,
							char *errbuf, size_t errlen);
	bool		(*ddl) (void *arg, const trib_my_pos *at, char *errbuf, size_t errlen);
	void		(*free) (void *arg);
	void	   *arg;
} trib_my_history_store;

/* Record new versions and DDLs through `store` from now on; the history
 * frees store->arg with store->free. */
void		trib_my_history_set_store(trib_my_history *h,
									  const trib_my_history_store *store);

/* Put back what a store recorded (no store call): a version of db.table
 * valid from `from` (NULL: the start; t NULL: absent; taken over), and a
 * DDL position. */
void		trib_my_history_put(trib_my_history *h, const char *db, const char *table,
								const trib_my_pos *from, trib_my_tableinfo *t);
void		trib_my_history_put_ddl(trib_my_history *h, const trib_my_pos *at);

/*
 * The versions that start exactly at `at` (those a DDL statement read
 * there derived, also when it was applied before a restart): fn(arg, t)
 * for each, t NULL for a table the statement dropped or renamed away
 * (then db and table name it).  Stops at the first false fn returns, and
 * returns it; true when there is none.
 */
typedef bool (*trib_my_history_each_fn) (void *arg, const char *db, const char *table,
										 const trib_my_tableinfo *t);
bool		trib_my_history_each_at(const trib_my_history *h, const trib_my_pos *at,
									trib_my_history_each_fn fn, void *arg);

/* Where the history says what it does with DDL statements: level 2
 * (info) for a statement it could not derive, 3 (debug) for one it did
 * (levels as trib_source_mysql_conf's log); NULL (the default): silent. */
typedef void (*trib_my_history_log_fn) (int level, const char *msg, void *arg);
void		trib_my_history_set_log(trib_my_history *h, trib_my_history_log_fn log,
									void *arg);

/* The error that stopped the store (a DDL could not be recorded), or
 * NULL; once set, every lookup fails with it. */
const char *trib_my_history_error(const trib_my_history *h);

/* The history as a schema source (valid while h lives). */
trib_my_schema trib_my_history_schema(trib_my_history *h);

/* Number of versions held (for tests and /metrics). */
size_t		trib_my_history_versions(const trib_my_history *h);

#endif							/* TRIB_MYSQL_SCHEMA_H */
