/*
 * mongo_source_conf.h: the settings of a `type: mongodb` source, owned by
 * the MongoDB change-stream source.
 *
 * Design.  As for every plugin, the key table in mongo_source_conf.c is
 * the single source of truth: the loader validates and defaults
 * `sources.<name>` against it and docs/CONFIG.md prints it.  The source
 * registers it through trib_source_mongodb_plugin (registry.h); a loaded
 * member's `conf` is a trib_mongo_source_conf, reached with
 * trib_mongo_source_conf_of().
 *
 * Ownership: the config owns the struct and every string in it.
 */
#ifndef TRIB_MONGO_SOURCE_CONF_H
#define TRIB_MONGO_SOURCE_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "registry.h"

/* full_document: the change stream's `fullDocument` (index in its words) */
typedef enum trib_mongo_fulldoc
{
	TRIB_MONGO_FD_UPDATE_LOOKUP,
	TRIB_MONGO_FD_WHEN_AVAILABLE,
	TRIB_MONGO_FD_REQUIRED,
	TRIB_MONGO_FD_DEFAULT
} trib_mongo_fulldoc;

/* full_document_before_change: `fullDocumentBeforeChange` */
typedef enum trib_mongo_predoc
{
	TRIB_MONGO_PRE_OFF,
	TRIB_MONGO_PRE_WHEN_AVAILABLE,
	TRIB_MONGO_PRE_REQUIRED
} trib_mongo_predoc;

typedef struct trib_mongo_source_conf
{
	char	   *uri;			/* mongodb://... (secret) */
	char	   *database;		/* NULL: the whole deployment */
	char	   *collection;		/* NULL: the whole database */
	char	   *pipeline;		/* JSON array of stages after $changeStream */
	int			full_document;	/* trib_mongo_fulldoc */
	int			full_document_before_change;	/* trib_mongo_predoc */
	char	   *start_at_operation_time;	/* "T.I": the first start, or NULL */
	int			max_await_ms;	/* getMore's maxAwaitTimeMS */
	int			batch_size;
	trib_backoff_conf reconnect_backoff_ms;
	char	   *lock_dsn;		/* PostgreSQL conninfo of the pipeline lock */
	int			snapshot;		/* trib_mongo_snapmode */
	int			snapshot_workers;	/* _id ranges read in parallel */
	int			snapshot_chunk_rows;	/* documents per query */
	int			snapshot_buffer_mb; /* read, not yet written to the sinks */
	bool		infer_schema;	/* relations from the documents (mongo_infer.h) */
} trib_mongo_source_conf;

/* snapshot: the words' order (as the PostgreSQL source's) */
typedef enum trib_mongo_snapmode
{
	TRIB_MONGO_SNAP_INITIAL,
	TRIB_MONGO_SNAP_NEVER,
	TRIB_MONGO_SNAP_ONLY
} trib_mongo_snapmode;

extern const trib_plugin trib_source_mongodb_plugin;
struct trib_source_ops;
extern const struct trib_source_ops trib_mongo_source_ops;

/* The settings of a loaded `sources:` member, or NULL when it is not a
 * mongodb source. */
const trib_mongo_source_conf *trib_mongo_source_conf_of(const trib_source_conf *sc);

/* "T.I" (a Timestamp's seconds and increment) as seconds << 32 | I;
 * false when it is not one. */
bool		trib_mongo_parse_time(const char *s, uint64_t *out);

/* The words of full_document and full_document_before_change, as the
 * server spells them (NULL-terminated; index = the enum). */
extern const char *const trib_mongo_fulldoc_words[];
extern const char *const trib_mongo_predoc_words[];

#endif							/* TRIB_MONGO_SOURCE_CONF_H */
