/*
 * mongo_source_conf.c: the key table of a `type: mongodb` source (see
 * mongo_source_conf.h) and its checks: the URI parses with libmongoc
 * (lib/mongouri.h, shared with the mongodb sink; its password becomes a
 * secret of the log), `pipeline` is a JSON array of
 * stages, `collection` needs `database`, reconnect_backoff_ms's initial
 * is at most its max, and with a snapshot the pipeline must be a filter
 * the snapshot can apply to documents (mongo_match.h).
 *
 * Adding a key: a field in trib_mongo_source_conf and one row below; run
 * `make -C consumer doc`.
 */
#include "mongo_source_conf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "config_keys.h"
#include "mongo_match.h"
#include "mongouri.h"

const char *const trib_mongo_fulldoc_words[] = {
	"updateLookup", "whenAvailable", "required", "default", NULL
};
const char *const trib_mongo_predoc_words[] = {"off", "whenAvailable", "required", NULL};
static const char *const snapshot_words[] = {"initial", "never", "only", NULL};

/* A JSON (Extended JSON) array of aggregation stages. */
static bool
check_pipeline(const char *value, char *msg, size_t msglen)
{
	bson_error_t err;
	bson_t	   *b;
	const char *p = value;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p != '[')
	{
		snprintf(msg, msglen, "not a JSON array of stages; accepted: '[{\"$match\": {...}}]'");
		return false;
	}
	/* libbson reads a top-level array as a document with keys "0", "1" */
	b = bson_new_from_json((const uint8_t *) value, -1, &err);
	if (b == NULL)
	{
		snprintf(msg, msglen, "not valid (Extended) JSON: %s", err.message);
		return false;
	}
	bson_destroy(b);
	return true;
}

bool
trib_mongo_parse_time(const char *s, uint64_t *out)
{
	char	   *end;
	unsigned long long t,
				i;

	if (*s < '0' || *s > '9')
		return false;
	t = strtoull(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return false;
	i = strtoull(end + 1, &end, 10);
	if (*end != '\0' || t > UINT32_MAX || i > UINT32_MAX || (t == 0 && i == 0))
		return false;
	*out = (uint64_t) t << 32 | i;
	return true;
}

/* A cluster time "T.I". */
static bool
check_time(const char *value, char *msg, size_t msglen)
{
	uint64_t	t;

	if (trib_mongo_parse_time(value, &t))
		return true;
	snprintf(msg, msglen, "not a cluster time; accepted: SECONDS.INCREMENT, e.g. "
			 "\"1700000000.1\" (a Timestamp's t and i)");
	return false;
}

static const ck_key backoff_keys[] = {
	CK_BACKOFF_ROWS("100"),
	CK_END_ROW
};

static const ck_section backoff_section = {
	.doc_title = "`sources.<name>.reconnect_backoff_ms` of a mongodb source",
	.keys = backoff_keys,
	.doc_intro = "After a resumable error or a lost connection the source waits `initial` ms, "
	"then twice as long after each further failure, up to `max`, and resumes after the last "
	"change it read (its resume token).",
};

static void finish_mongo_source(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
								const char *path, void *base, const char *name);

static const ck_key mongo_source_keys[] = {
	CK_TYPE_ROW("`mongodb`", "the kind of source"),
	CK_ROW(trib_mongo_source_conf, uri, CK_STRING, CK_REQUIRED | CK_SECRET,
		.check = trib_mongo_uri_check, .doc_type = "URI",
		.desc = "MongoDB connection string of a replica set or sharded cluster "
		"(`mongodb://host:port/?replicaSet=rs0`)"),
	CK_ROW(trib_mongo_source_conf, database, CK_STRING, 0,
		.desc = "watch this database; default: the whole deployment"),
	CK_ROW(trib_mongo_source_conf, collection, CK_STRING, 0,
		.desc = "watch only this collection of `database`"),
	CK_ROW(trib_mongo_source_conf, pipeline, CK_STRING, 0, .check = check_pipeline,
		.doc_type = "JSON",
		.desc = "stages after `$changeStream`, a JSON array: `'[{\"$match\": "
		"{\"operationType\": {\"$ne\": \"delete\"}}}]'`; with a `snapshot`, only "
		"`$match` stages on `fullDocument.<field>` and `documentKey._id` (under `$and`, "
		"`$or`, `$nor`), which the copy applies to the documents too"),
	CK_ROW(trib_mongo_source_conf, full_document, CK_ENUM, 0, .def = "updateLookup",
		.words = trib_mongo_fulldoc_words,
		.desc = "`after` of updates: the document now (`updateLookup`), the post-image "
		"(`whenAvailable`, `required`), or none (`default`)"),
	CK_ROW(trib_mongo_source_conf, full_document_before_change, CK_ENUM, 0, .def = "off",
		.words = trib_mongo_predoc_words,
		.desc = "`before` of updates, replaces and deletes, from the pre-images of "
		"collections with `changeStreamPreAndPostImages` enabled"),
	CK_ROW(trib_mongo_source_conf, start_at_operation_time, CK_STRING, 0, .check = check_time,
		.doc_type = "T.I",
		.desc = "without a stored position: start at this cluster time (`startAtOperationTime`, "
		"a Timestamp's seconds and increment: `\"1700000000.1\"`); default: now"),
	CK_ROW(trib_mongo_source_conf, max_await_ms, CK_INT, 0, .def = "500", .min = 1,
		.max = 60000, .desc = "how long the server holds a getMore that has nothing to return; at most "
		"100 ms are asked for, so that an idle getMore soon tells the source a "
		"transaction ended (docs/MONGODB.md, \"Waiting while idle\")"),
	CK_ROW(trib_mongo_source_conf, batch_size, CK_INT, 0, .def = "1000", .min = 1,
		.max = 100000, .desc = "change events per batch (the cursor's batchSize)"),
	CK_ROW(trib_mongo_source_conf, reconnect_backoff_ms, CK_SECTION, 0,
		.section = &backoff_section, .doc_type = "map",
		.desc = "retry delays: `{initial: 100, max: 30000}`"),
	CK_ROW(trib_mongo_source_conf, snapshot, CK_ENUM, 0, .def = "never", .words = snapshot_words,
		.desc = "`initial`: on a first start (no stored position, no "
		"`start_at_operation_time`) copy the collections of the scope as of one cluster time, "
		"then stream from just after it; `never`: stream only; `only`: copy, then stop "
		"(docs/MONGODB.md)"),
	CK_ROW(trib_mongo_source_conf, snapshot_workers, CK_INT, 0, .def = "2", .min = 1, .max = 64,
		.desc = "`_id` ranges copied in parallel, each worker on its own connection"),
	CK_ROW(trib_mongo_source_conf, snapshot_chunk_rows, CK_INT, 0, .def = "10000",
		.min = 1, .max = 10000000,
		.desc = "documents per query (keyset chunk by `_id`); progress is saved per chunk"),
	CK_ROW(trib_mongo_source_conf, snapshot_buffer_mb, CK_INT, 0, .def = "64", .min = 1,
		.max = 65536,
		.desc = "memory bound of the documents read but not yet written to the sinks, in MiB "
		"(plus one chunk per worker)"),
	CK_ROW(trib_mongo_source_conf, infer_schema, CK_BOOL, 0, .def = "false",
		.desc = "infer a schema per collection from the documents seen (a new version when a "
		"new field or a new type appears), for the schema stage (`schemas:`) and the sinks "
		"(docs/MONGODB.md)"),
	CK_ROW(trib_mongo_source_conf, lock_dsn, CK_STRING, CK_REQUIRED | CK_SECRET,
		.check = ck_check_conninfo, .doc_type = "conninfo",
		.desc = "PostgreSQL database that holds the pipeline lock (one active consumer "
		"per pipeline)"),
	CK_END_ROW
};

static const ck_section mongo_source_section = {
	.doc_title = "`sources.<name>` with `type: mongodb`",
	.what = "a mongodb source",
	.keys = mongo_source_keys,
	.finish = finish_mongo_source,
	.doc_intro = "Captures the changes of a MongoDB replica set or sharded cluster through a "
	"change stream on the deployment, a database or a collection (docs/MONGODB.md). "
	"Positions are the events' cluster times; a restart resumes after the last durable "
	"change. Give `checkpoint: {store: file}` or a `checkpoint.dsn`.",
};

const trib_plugin trib_source_mongodb_plugin = {
	.type = "mongodb",
	.source_ops = &trib_mongo_source_ops,
	.section = &mongo_source_section,
	.conf_size = sizeof(trib_mongo_source_conf),
};

/* See mongo_source_conf.h. */
TRIB_PLUGIN_CONF_ACCESSOR(trib_mongo_source_conf_of, trib_mongo_source_conf,
						  trib_source_mongodb_plugin)

/* Cross-key checks; the first problem is reported at its key.  The match
 * filter is built only when it is checked, and then always destroyed. */
static void
finish_mongo_source(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
					const char *path, void *base, const char *name)
{
	const trib_mongo_source_conf *m = base;
	char		e[768];
	bson_t		match;

	(void) name;
	if (!ck_check_backoff(c, map, at, path, "reconnect_backoff_ms", &m->reconnect_backoff_ms))
		return;
	if (m->collection && !m->database)
	{
		ck_key_error_in(c, map, at, path, "collection",
						"needs `database` (the collection's database)");
		return;
	}
	if (m->snapshot == TRIB_MONGO_SNAP_NEVER || m->pipeline == NULL)
		return;
	/* the snapshot copies only what the stream's filter passes */
	if (!trib_mongo_match_filter(m->pipeline, &match, e, sizeof(e)))
		ck_key_error_in(c, map, at, path, "pipeline", "with `snapshot: %s` the snapshot "
						"copies only the documents this filter passes, and %s",
						snapshot_words[m->snapshot], e);
	bson_destroy(&match);
}
