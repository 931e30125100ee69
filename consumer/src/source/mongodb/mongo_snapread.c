/*
 * mongo_snapread.c: the snapshot's queries (see mongo_snapread.h).
 */
#include "mongo_snapread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"
#include "mongo_int64.h"
#include "mongo_json.h"
#include "xalloc.h"

/* readConcern {level: snapshot, atClusterTime: time} into cmd. */
static void
add_read_concern(bson_t *cmd, uint64_t time)
{
	bson_t		rc;

	BSON_APPEND_DOCUMENT_BEGIN(cmd, "readConcern", &rc);
	BSON_APPEND_UTF8(&rc, "level", "snapshot");
	BSON_APPEND_TIMESTAMP(&rc, "atClusterTime", (uint32_t) (time >> 32), (uint32_t) time);
	bson_append_document_end(cmd, &rc);
}

/* See mongo_snapread.h. */
bool
trib_mongo_snap_time(mongoc_client_t *cl, uint64_t *time, char *errbuf, size_t errlen)
{
	bson_t		cmd = BSON_INITIALIZER;
	bson_t		reply;
	bson_error_t err;
	bson_iter_t it;
	uint32_t	t = 0,
				i = 0;
	bool		ok;

	BSON_APPEND_INT32(&cmd, "ping", 1);
	ok = mongoc_client_command_simple(cl, "admin", &cmd, NULL, &reply, &err);
	if (!ok)
		trib_errf(errbuf, errlen, "snapshot: ping: %s", err.message);
	else if (bson_iter_init_find(&it, &reply, "operationTime") && BSON_ITER_HOLDS_TIMESTAMP(&it))
		bson_iter_timestamp(&it, &t, &i);
	else if (bson_iter_init(&it, &reply) &&
			 bson_iter_find_descendant(&it, "$clusterTime.clusterTime", &it) &&
			 BSON_ITER_HOLDS_TIMESTAMP(&it))
		bson_iter_timestamp(&it, &t, &i);
	if (ok && t == 0 && i == 0)
		ok = trib_errf(errbuf, errlen, "snapshot: the server reports no cluster time "
					   "(operationTime): snapshots need a replica set or a sharded cluster");
	*time = (uint64_t) t << 32 | i;
	bson_destroy(&cmd);
	bson_destroy(&reply);
	return ok;
}

/* Run a read command on db and return its cursor (the reply is taken). */
static mongoc_cursor_t *
run_cursor(mongoc_client_t *cl, const char *db, const char *what, const bson_t *cmd,
		   char *errbuf, size_t errlen)
{
	bson_t		reply;
	bson_error_t err;
	mongoc_cursor_t *cur;

	if (!mongoc_client_command_simple(cl, db, cmd, NULL, &reply, &err))
	{
		trib_errf(errbuf, errlen, "snapshot: %s on %s: %s", what, db, err.message);
		bson_destroy(&reply);
		return NULL;
	}
	cur = mongoc_cursor_new_from_command_reply_with_opts(cl, &reply, NULL);
	if (mongoc_cursor_error(cur, &err))
	{
		trib_errf(errbuf, errlen, "snapshot: cursor on %s: %s", db, err.message);
		mongoc_cursor_destroy(cur);
		return NULL;
	}
	return cur;
}

/*
 * One document of coll at `time`: the first in `_id` order (dir 1) or the
 * last (-1), after skipping `skip`; its _id as {"v": _id} canonical text
 * in *out (NULL when there is none).  With type: the _id's BSON type.
 */
static bool
id_at(mongoc_client_t *cl, const char *db, const char *coll, uint64_t time, int dir,
	  int64_t skip, char **out, bson_type_t *type, char *errbuf, size_t errlen)
{
	bson_t		cmd = BSON_INITIALIZER;
	bson_t		sub;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t err;
	bson_iter_t it;

	*out = NULL;
	BSON_APPEND_UTF8(&cmd, "find", coll);
	BSON_APPEND_DOCUMENT_BEGIN(&cmd, "sort", &sub);
	BSON_APPEND_INT32(&sub, "_id", dir);
	bson_append_document_end(&cmd, &sub);
	BSON_APPEND_DOCUMENT_BEGIN(&cmd, "projection", &sub);
	BSON_APPEND_INT32(&sub, "_id", 1);
	bson_append_document_end(&cmd, &sub);
	if (skip > 0)
		BSON_APPEND_INT64(&cmd, "skip", skip);
	BSON_APPEND_INT32(&cmd, "limit", 1);
	BSON_APPEND_BOOL(&cmd, "singleBatch", true);
	add_read_concern(&cmd, time);
	cur = run_cursor(cl, db, "find", &cmd, errbuf, errlen);
	bson_destroy(&cmd);
	if (cur == NULL)
		return false;
	if (mongoc_cursor_next(cur, &doc))
	{
		*out = trib_mongo_snap_id_text(doc);
		if (type && bson_iter_init_find(&it, doc, "_id"))
			*type = bson_iter_type(&it);
	}
	if (mongoc_cursor_error(cur, &err))
	{
		free(*out);
		*out = NULL;
		mongoc_cursor_destroy(cur);
		return trib_errf(errbuf, errlen, "snapshot: find on %s.%s: %s", db, coll, err.message);
	}
	mongoc_cursor_destroy(cur);
	return true;
}

/* How many documents coll has at `time`; -1 and a message. */
static int64_t
count_at(mongoc_client_t *cl, const char *db, const char *coll, uint64_t time, char *errbuf,
		 size_t errlen)
{
	bson_t		cmd = BSON_INITIALIZER;
	bson_t		pipe,
				stage,
				cursor;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t err;
	bson_iter_t it;
	int64_t		n = 0;

	BSON_APPEND_UTF8(&cmd, "aggregate", coll);
	BSON_APPEND_ARRAY_BEGIN(&cmd, "pipeline", &pipe);
	BSON_APPEND_DOCUMENT_BEGIN(&pipe, "0", &stage);
	BSON_APPEND_UTF8(&stage, "$count", "n");
	bson_append_document_end(&pipe, &stage);
	bson_append_array_end(&cmd, &pipe);
	BSON_APPEND_DOCUMENT_BEGIN(&cmd, "cursor", &cursor);
	bson_append_document_end(&cmd, &cursor);
	add_read_concern(&cmd, time);
	cur = run_cursor(cl, db, "aggregate", &cmd, errbuf, errlen);
	bson_destroy(&cmd);
	if (cur == NULL)
		return -1;
	if (mongoc_cursor_next(cur, &doc) && bson_iter_init_find(&it, doc, "n") &&
		BSON_ITER_HOLDS_NUMBER(&it))
		n = bson_iter_as_int64(&it);
	if (mongoc_cursor_error(cur, &err))
		n = -1, trib_errf(errbuf, errlen, "snapshot: counting %s.%s: %s", db, coll, err.message);
	mongoc_cursor_destroy(cur);
	return n;
}

/* Split db.coll into ranges (see trib_mongo_snap_plan). */
static bool
plan_collection(mongoc_client_t *cl, const char *db, const char *coll, uint64_t time,
				int workers, int chunk, trib_mongo_snapprog *p, char *errbuf, size_t errlen)
{
	char	   *first = NULL,
			   *last = NULL,
			   *prev = NULL;
	bson_type_t t1 = BSON_TYPE_EOD,
				t2 = BSON_TYPE_EOD;
	int64_t		n = count_at(cl, db, coll, time, errbuf, errlen);
	int64_t		parts;
	bool		ok = n >= 0;

	ok = ok && id_at(cl, db, coll, time, 1, 0, &first, &t1, errbuf, errlen) &&
		id_at(cl, db, coll, time, -1, 0, &last, &t2, errbuf, errlen);
	if (!ok || t1 != t2 || first == NULL)
	{
		/* several _id types ($gt compares within one type), or empty */
		if (ok)
			trib_mongo_snapprog_add(p, db, coll, first == NULL, NULL, NULL);
		free(first);
		free(last);
		return ok;
	}
	parts = (n + chunk - 1) / chunk;
	if (parts > workers)
		parts = workers;
	if (parts < 1)
		parts = 1;
	for (int64_t k = 1; ok && k <= parts; k++)
	{
		char	   *bound = NULL;

		if (k < parts &&
			!(ok = id_at(cl, db, coll, time, 1, k * (n / parts), &bound, NULL, errbuf, errlen)))
			break;
		trib_mongo_snapprog_add(p, db, coll, true, prev, bound);
		free(prev);
		prev = bound;
	}
	free(prev);
	free(first);
	free(last);
	return ok;
}

/* A string list's entries that are real collections (no system.*). */
static bool
plan_database(mongoc_client_t *cl, const char *dbname, uint64_t time, int workers, int chunk,
			  trib_mongo_snapprog *p, char *errbuf, size_t errlen)
{
	mongoc_database_t *db = mongoc_client_get_database(cl, dbname);
	bson_t		opts = BSON_INITIALIZER;
	bson_t		filter;
	bson_error_t err;
	char	  **names;
	bool		ok = true;

	BSON_APPEND_DOCUMENT_BEGIN(&opts, "filter", &filter);
	BSON_APPEND_UTF8(&filter, "type", "collection");
	bson_append_document_end(&opts, &filter);
	names = mongoc_database_get_collection_names_with_opts(db, &opts, &err);
	if (names == NULL)
		ok = trib_errf(errbuf, errlen, "snapshot: listCollections on %s: %s", dbname,
					   err.message);
	for (size_t i = 0; ok && names[i]; i++)
		if (strncmp(names[i], "system.", 7) != 0)
			ok = plan_collection(cl, dbname, names[i], time, workers, chunk, p, errbuf, errlen);
	bson_strfreev(names);
	bson_destroy(&opts);
	mongoc_database_destroy(db);
	return ok;
}

/* See mongo_snapread.h. */
bool
trib_mongo_snap_plan(mongoc_client_t *cl, const trib_mongo_source_conf *c, uint64_t time,
					 int workers, int chunk, trib_mongo_snapprog *p, char *errbuf, size_t errlen)
{
	bson_error_t err;
	char	  **dbs;
	bool		ok = true;

	if (c->collection)
		return plan_collection(cl, c->database, c->collection, time, workers, chunk, p,
							   errbuf, errlen);
	if (c->database)
		return plan_database(cl, c->database, time, workers, chunk, p, errbuf, errlen);
	dbs = mongoc_client_get_database_names_with_opts(cl, NULL, &err);
	if (dbs == NULL)
		return trib_errf(errbuf, errlen, "snapshot: listDatabases: %s", err.message);
	for (size_t i = 0; ok && dbs[i]; i++)
		if (strcmp(dbs[i], "admin") && strcmp(dbs[i], "config") && strcmp(dbs[i], "local"))
			ok = plan_database(cl, dbs[i], time, workers, chunk, p, errbuf, errlen);
	bson_strfreev(dbs);
	return ok;
}

/* Append {"$op": value} to sub, value from a {"v": value} text. */
static bool
add_bound(bson_t *sub, const char *op, const char *text)
{
	bson_error_t err;
	bson_t	   *v = bson_new_from_json((const uint8_t *) text, -1, &err);
	bson_iter_t it;
	bool		ok = v != NULL && bson_iter_init_find(&it, v, "v");

	if (ok)
		bson_append_value(sub, op, -1, bson_iter_value(&it));
	bson_destroy(v);
	return ok;
}

/* See mongo_snapread.h. */
mongoc_cursor_t *
trib_mongo_snap_open(mongoc_client_t *cl, const trib_mongo_range *r, const bson_t *match,
					 uint64_t time, int batch, char *errbuf, size_t errlen)
{
	bson_t		cmd = BSON_INITIALIZER;
	bson_t		filter,
				id,
				sort;
	mongoc_cursor_t *cur = NULL;
	bool		ok = true;

	BSON_APPEND_UTF8(&cmd, "find", r->coll);
	BSON_APPEND_DOCUMENT_BEGIN(&cmd, "filter", &filter);
	if (r->keyset && (r->after || r->min || r->max))
	{
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &id);
		if (r->after)
			ok = add_bound(&id, "$gt", r->after);
		else if (r->min)
			ok = add_bound(&id, "$gte", r->min);
		if (ok && r->max)
			ok = add_bound(&id, "$lt", r->max);
		bson_append_document_end(&filter, &id);
	}
	if (match != NULL && !bson_empty(match))
		bson_concat(&filter, match);	/* {"$and": [the $match stages]} */
	bson_append_document_end(&cmd, &filter);
	BSON_APPEND_DOCUMENT_BEGIN(&cmd, "sort", &sort);
	BSON_APPEND_INT32(&sort, "_id", 1);
	bson_append_document_end(&cmd, &sort);
	BSON_APPEND_INT32(&cmd, "batchSize", batch);
	add_read_concern(&cmd, time);
	if (!ok)
		trib_errf(errbuf, errlen, "snapshot: %s.%s: a stored _id bound is not valid "
				  "Extended JSON (remove the checkpoint to copy again)", r->db, r->coll);
	else
		cur = run_cursor(cl, r->db, "find", &cmd, errbuf, errlen);
	bson_destroy(&cmd);
	return cur;
}

/* See mongo_snapread.h. */
char *
trib_mongo_snap_id_text(const bson_t *doc)
{
	bson_iter_t it;
	bson_t		v = BSON_INITIALIZER;
	char	   *json,
			   *out;

	if (bson_iter_init_find(&it, doc, "_id"))
		bson_append_value(&v, "v", 1, bson_iter_value(&it));
	json = bson_as_canonical_extended_json(&v, NULL);
	out = trib_xstrdup(json);
	bson_free(json);
	bson_destroy(&v);
	return out;
}

/* See mongo_snapread.h. */
trib_event *
trib_mongo_snap_event(const bson_t *doc, const char *db, const char *coll,
					  bool int64_paths, char *errbuf, size_t errlen)
{
	trib_event *ev;
	bson_t		key = BSON_INITIALIZER;
	bson_iter_t it;
	char	   *kj,
			   *dj;

	if (bson_iter_init_find(&it, doc, "_id"))
		bson_append_value(&key, "_id", 3, bson_iter_value(&it));
	kj = trib_mongo_json(&key);
	dj = kj ? trib_mongo_json(doc) : NULL;
	bson_destroy(&key);
	if (dj == NULL)
	{
		trib_errf(errbuf, errlen, "snapshot: reading %s.%s: the document %s%s cannot be "
				  "written as JSON (a string in it is not UTF-8, its BSON is malformed, "
				  "or it is nested deeper than libbson writes, about 200 levels)",
				  db, coll, kj ? "with " : "", kj ? kj : "(its _id neither)");
		free(kj);
		return NULL;
	}
	ev = trib_event_new();
	ev->op = TRIB_OP_READ;
	ev->connector = "mongodb";
	ev->key = kj;
	ev->after = dj;
	ev->snapshot = true;
	if (int64_paths)
		trib_mongo_int64_extra(doc, NULL, NULL, &ev->extra);
	return ev;
}
