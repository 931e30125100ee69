/*
 * sink_mongodb_int.h: what the files of the MongoDB sink share
 * (sink_mongodb*.c); not for other modules.
 *
 * The sink's state (mgs_sink) holds the client, the settings, the queue
 * of BSON operations (mgs_op, one or more per event, each with its event's
 * position) and the stored position.  sink_mongodb.c has the operations
 * and the queue, sink_mongodb_position.c the stored position,
 * sink_mongodb_apply.c the application of a batch.
 */
#ifndef TRIB_SINK_MONGODB_INT_H
#define TRIB_SINK_MONGODB_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <mongoc/mongoc.h>

#include "sink_mongodb.h"
#include "strbuf.h"

struct trib_intern;
struct trib_metric;
struct trib_metrics;

/* One queued write. */
typedef enum mgs_op_kind
{
	MGS_OP_NONE,				/* nothing to write; the position advances */
	MGS_OP_REPLACE,				/* replace by _id, upsert */
	MGS_OP_SET,					/* $set the columns present, upsert */
	MGS_OP_UPDATE,				/* an update document by _id, no upsert */
	MGS_OP_DELETE,				/* delete by _id */
	MGS_OP_CLEAR				/* delete every document (truncate) */
} mgs_op_kind;

typedef struct mgs_op
{
	mgs_op_kind	kind;
	char	   *coll;
	bson_t	   *sel;			/* {_id: ...} or {} */
	bson_t	   *doc;			/* MGS_OP_REPLACE, MGS_OP_SET: the row;
								 * MGS_OP_UPDATE: the update document */
	trib_position pos;			/* owns opaque */
} mgs_op;

typedef struct mgs_sink
{
	mongoc_client_t *client;
	mongoc_database_t *db;
	char	   *dbname;
	char	   *tmpl;			/* the collection template */
	bool		tmpl_default;	/* tmpl is TRIB_COLLECTION_DEFAULT_PATTERN */
	struct trib_intern *colls;	/* (source, db, schema, table) -> name */
	trib_strbuf collkey;		/* the key being looked up (reused) */
	char	   *poscoll;
	char	   *pipeline;
	char	   *sink_name;
	trib_sink  *owner;			/* the sink: its seal_key (sink_seal.h) */
	int			batch_size;
	int			batch_ms;
	bool		txn;
	bool		hex;
	mgs_op	   *q;
	size_t		nq,
				qcap;
	size_t		nevents;		/* events in the queue */
	long long	first_ms;
	bool		has_durable;
	trib_position durable;		/* owns opaque */
	bool		failed;
	bool		conn_lost;
	char		failmsg[1024];
	trib_mongosink_stats stats;
	struct trib_metric *m[5];	/* the counters' series (mgs_counter) */
	struct trib_metric *m_batch_seconds;
} mgs_sink;

/* The sink's counters: stats (tests) and /metrics (sink_mongodb_metrics.c). */
typedef enum mgs_counter
{
	MGS_EVENTS,					/* changes accepted by write() */
	MGS_SKIPPED,				/* at or before the stored position */
	MGS_NO_KEY,					/* changes without a key */
	MGS_BATCHES,				/* batches applied */
	MGS_REPLAYS					/* batches the stored position covered */
} mgs_counter;

/* Register the sink's series in reg (NULL: none). */
void		mgs_metrics_init(mgs_sink *s, struct trib_metrics *reg);

/* Count one: in stats and, when registered, in /metrics. */
void		mgs_count(mgs_sink *s, mgs_counter c);

/* A batch took `seconds` to apply (with its position). */
void		mgs_observe_batch(mgs_sink *s, double seconds);

/* a at or before b (the order of event ids). */
bool		mgs_pos_le(const trib_position *a, const trib_position *b);

/* The stored position (in session's transaction when not NULL): read, 1
 * found, 0 none, -1 error; written, false on error.  *reply (when not
 * NULL): the failed command's reply, for its error labels. */
int			mgs_position_read(mgs_sink *s, mongoc_client_session_t *session,
							  trib_position *pos, bson_error_t *err, bson_t **reply);
bool		mgs_position_write(mgs_sink *s, mongoc_client_session_t *session,
							   const trib_position *pos, bson_error_t *err, bson_t **reply);

/* Take pos as the durable position (pos->opaque moves). */
void		mgs_set_durable(mgs_sink *s, trib_position *pos);

/* Drop the first n queued operations. */
void		mgs_queue_drop(mgs_sink *s, size_t n);

/* Apply everything queued, batch by batch, acking each; false (and the
 * sink failed) when a batch could not be applied. */
bool		mgs_apply(trib_sink *sink, mgs_sink *s, char *errbuf, size_t errlen);

#endif							/* TRIB_SINK_MONGODB_INT_H */
