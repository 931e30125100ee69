/*
 * sink_mongodb_conf.h: the settings of a `type: mongodb` sink, owned by
 * the MongoDB sink.
 *
 * Design.  The key table in sink_mongodb_conf.c is the single source of
 * truth for these settings (validation, defaults, docs/CONFIG.md); the
 * sink's open() reads this struct (sink_mongodb.c), reached from a loaded
 * member of `sinks:` with trib_mongosink_conf_of().
 *
 * Ownership: the config owns the struct and its strings.
 */
#ifndef TRIB_SINK_MONGODB_CONF_H
#define TRIB_SINK_MONGODB_CONF_H

#include <stdbool.h>

#include "config.h"
#include "registry.h"

typedef struct trib_mongosink_conf
{
	char	   *uri;			/* mongodb:// URI (secret) */
	char	   *database;
	char	   *collection;		/* template: ${source} ${db} ${schema} ${table} */
	char	   *positions_collection;
	int			batch_size;
	int			batch_ms;
	char	   *write_concern;	/* "majority" or a number of members */
	bool		transactions;	/* position in the batch's transaction */
	int			bytea_encoding; /* 0 base64, 1 hex (the plugin's option) */
} trib_mongosink_conf;

/* The key table (sink_mongodb_conf.c). */
extern const struct ck_section trib_mongosink_conf_section;

/* The MongoDB sink's registration (cli/registry.c lists it), defined in
 * sink_mongodb.c beside the sink's operations. */
extern const trib_plugin trib_sink_mongodb;

/* The settings of a member of `sinks:` when it is a mongodb sink, else
 * NULL. */
const trib_mongosink_conf *trib_mongosink_conf_of(const trib_sink_conf *sc);

#endif							/* TRIB_SINK_MONGODB_CONF_H */
