/*
 * mongo_stream.c: the change stream through libmongoc (see
 * mongo_stream.h).  libmongoc resumes once by itself on a resumable error
 * (the change streams specification); what reaches us is sorted here.
 *
 * The wait.  libmongoc fixes a change stream's maxAwaitTimeMS (the
 * getMore's maxTimeMS) when it is opened: there is no per-call timeout.
 * So the stream is opened with the smaller of max_await_ms and
 * TRIB_MONGO_AWAIT_SLICE_MS: an idle getMore ends within a slice, which
 * tells the reader that a transaction ended, and lets a stop end the
 * feed's thread that soon (mongo_stream.h, mongo_feed.h).
 */
#include "mongo_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"
#include "mongouri.h"
#include "xalloc.h"

struct trib_mongo_stream
{
	mongoc_change_stream_t *cs;
	mongoc_database_t *db;
	mongoc_collection_t *coll;
};

/* Cap the URI's timeout option `name` at cap_ms (unset or 0: the cap). */
static void
cap_option(mongoc_uri_t *uri, const char *name, int32_t cap_ms)
{
	int32_t		v = mongoc_uri_get_option_as_int32(uri, name, 0);

	if (v <= 0 || v > cap_ms)
		mongoc_uri_set_option_as_int32(uri, name, cap_ms);
}

mongoc_client_t *
trib_mongo_client_new_capped(const trib_mongo_source_conf *c, int cap_ms, char *errbuf,
							 size_t errlen)
{
	bson_error_t err;
	mongoc_uri_t *uri;

	mongoc_init();
	uri = mongoc_uri_new_with_error(c->uri, &err);
	if (uri == NULL)
	{
		trib_errf(errbuf, errlen, "uri: not a valid MongoDB URI: %s", err.message);
		return NULL;
	}
	if (cap_ms > 0)
	{
		cap_option(uri, MONGOC_URI_SOCKETTIMEOUTMS, cap_ms);
		cap_option(uri, MONGOC_URI_CONNECTTIMEOUTMS, cap_ms);
		cap_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, cap_ms);
	}
	return trib_mongo_client_from_uri(uri, "tributary-source", "uri: ", errbuf, errlen);
}

mongoc_client_t *
trib_mongo_client_new(const trib_mongo_source_conf *c, char *errbuf, size_t errlen)
{
	return trib_mongo_client_new_capped(c, 0, errbuf, errlen);
}

/* The codes the change streams specification resumes on. */
static bool
resumable_code(uint32_t code)
{
	static const uint32_t codes[] = {
		6, 7, 43, 63, 89, 91, 133, 150, 189, 234, 262, 9001, 10107, 11600, 11602,
		13388, 13435, 13436
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == code)
			return true;
	return false;
}

/* Does the reply carry errorLabel `label`? */
static bool
has_label(const bson_t *reply, const char *label)
{
	bson_iter_t it,
				a;

	if (reply == NULL || !bson_iter_init_find(&it, reply, "errorLabels") ||
		!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &a))
		return false;
	while (bson_iter_next(&a))
		if (BSON_ITER_HOLDS_UTF8(&a) && strcmp(bson_iter_utf8(&a, NULL), label) == 0)
			return true;
	return false;
}

trib_mongo_next_rc
trib_mongo_classify(const bson_error_t *err, const bson_t *reply)
{
	if (err->domain == MONGOC_ERROR_STREAM || err->domain == MONGOC_ERROR_SERVER_SELECTION)
		return TRIB_MONGO_RETRY;
	if (err->code == 286 || err->code == 280)
		return TRIB_MONGO_FATAL;
	if (has_label(reply, "ResumableChangeStreamError") || resumable_code(err->code))
		return TRIB_MONGO_RETRY;
	return TRIB_MONGO_FATAL;
}

/* The error message, with the recovery of the ones the docs explain. */
static void
describe(const bson_error_t *err, trib_mongo_next_rc rc, char *errbuf, size_t errlen)
{
	if (err->code == 286)
		trib_errf(errbuf, errlen, "ChangeStreamHistoryLost (286): the oplog no longer holds "
				  "the stored position, so changes after it are lost; recovery: stop, "
				  "remove the checkpoint and the sinks' stored positions, re-copy the "
				  "collections and start again (docs/MONGODB.md, \"Recovery\"); server: %s",
				  err->message);
	else if (err->code == 136)
		trib_errf(errbuf, errlen, "CappedPositionLost (136): the oplog moved past the "
				  "stream while it read; changes are lost; recovery as for 286 "
				  "(docs/MONGODB.md, \"Recovery\"); server: %s", err->message);
	else if (err->code == 280)
		trib_errf(errbuf, errlen, "ChangeStreamFatalError (280): the server cannot resume "
				  "from the stored token; recovery as for 286 (docs/MONGODB.md, "
				  "\"Recovery\"); server: %s", err->message);
	else
		trib_errf(errbuf, errlen, "%s error %u: %s", rc == TRIB_MONGO_RETRY ? "resumable" :
				  "non-resumable", (unsigned) err->code, err->message);
}

/* The getMore's maxAwaitTimeMS for the settings c: the smaller of
 * max_await_ms and TRIB_MONGO_AWAIT_SLICE_MS. */
static int
await_ms(const trib_mongo_source_conf *c)
{
	return c->max_await_ms < TRIB_MONGO_AWAIT_SLICE_MS ? c->max_await_ms
		: TRIB_MONGO_AWAIT_SLICE_MS;
}

/* The watch options of the settings and the start point. */
static bool
watch_opts(const trib_mongo_source_conf *c, const trib_mongo_start *at, bson_t *opts,
		   char *errbuf, size_t errlen)
{
	bson_error_t err;

	if (c->full_document != TRIB_MONGO_FD_DEFAULT)
		BSON_APPEND_UTF8(opts, "fullDocument", trib_mongo_fulldoc_words[c->full_document]);
	if (c->full_document_before_change != TRIB_MONGO_PRE_OFF)
		BSON_APPEND_UTF8(opts, "fullDocumentBeforeChange",
						 trib_mongo_predoc_words[c->full_document_before_change]);
	BSON_APPEND_INT64(opts, "maxAwaitTimeMS", await_ms(c));
	BSON_APPEND_INT32(opts, "batchSize", c->batch_size);
	if (at->kind == TRIB_MONGO_RESUME_AFTER || at->kind == TRIB_MONGO_START_AFTER)
	{
		bson_t	   *tok = bson_new_from_json((const uint8_t *) at->token, -1, &err);

		if (tok == NULL)
			return trib_errf(errbuf, errlen, "the stored resume token is not JSON: %s",
							 err.message);
		BSON_APPEND_DOCUMENT(opts, at->kind == TRIB_MONGO_RESUME_AFTER ? "resumeAfter"
							 : "startAfter", tok);
		bson_destroy(tok);
	}
	else if (at->kind == TRIB_MONGO_AT_TIME)
		BSON_APPEND_TIMESTAMP(opts, "startAtOperationTime", (uint32_t) (at->time >> 32),
							  (uint32_t) at->time);
	return true;
}

/* The `pipeline` setting as {"pipeline": [...]} (empty when none). */
static bson_t *
pipeline_of(const trib_mongo_source_conf *c, char *errbuf, size_t errlen)
{
	bson_error_t err;
	char	   *w;
	size_t		n;
	bson_t	   *b;

	if (c->pipeline == NULL)
		return bson_new();
	n = strlen(c->pipeline) + 16;
	w = trib_xmalloc(n);
	snprintf(w, n, "{\"pipeline\":%s}", c->pipeline);
	b = bson_new_from_json((const uint8_t *) w, -1, &err);
	free(w);
	if (b == NULL)
		trib_errf(errbuf, errlen, "pipeline: not a JSON array of stages: %s", err.message);
	return b;
}

trib_mongo_stream *
trib_mongo_stream_open(mongoc_client_t *cl, const trib_mongo_source_conf *c,
					   const trib_mongo_start *at, trib_mongo_next_rc *rc,
					   char *errbuf, size_t errlen)
{
	bson_t		opts = BSON_INITIALIZER;
	bson_t	   *pipe = pipeline_of(c, errbuf, errlen);
	trib_mongo_stream *s;
	bson_error_t err;
	const bson_t *reply = NULL;

	*rc = TRIB_MONGO_FATAL;
	if (pipe == NULL || !watch_opts(c, at, &opts, errbuf, errlen))
	{
		if (pipe)
			bson_destroy(pipe);
		bson_destroy(&opts);
		return NULL;
	}
	s = trib_xcalloc(1, sizeof(*s));
	if (c->database == NULL)
		s->cs = mongoc_client_watch(cl, pipe, &opts);
	else if (c->collection == NULL)
	{
		s->db = mongoc_client_get_database(cl, c->database);
		s->cs = mongoc_database_watch(s->db, pipe, &opts);
	}
	else
	{
		s->coll = mongoc_client_get_collection(cl, c->database, c->collection);
		s->cs = mongoc_collection_watch(s->coll, pipe, &opts);
	}
	bson_destroy(pipe);
	bson_destroy(&opts);
	if (mongoc_change_stream_error_document(s->cs, &err, &reply))
	{
		*rc = trib_mongo_classify(&err, reply);
		describe(&err, *rc, errbuf, errlen);
		trib_mongo_stream_free(s);
		return NULL;
	}
	return s;
}

trib_mongo_next_rc
trib_mongo_next(trib_mongo_stream *s, const bson_t **doc, char *errbuf, size_t errlen)
{
	bson_error_t err;
	const bson_t *reply = NULL;
	trib_mongo_next_rc rc;

	if (mongoc_change_stream_next(s->cs, doc))
		return TRIB_MONGO_DOC;
	if (!mongoc_change_stream_error_document(s->cs, &err, &reply))
		return TRIB_MONGO_IDLE;
	rc = trib_mongo_classify(&err, reply);
	describe(&err, rc, errbuf, errlen);
	return rc;
}

char *
trib_mongo_stream_token(trib_mongo_stream *s)
{
	const bson_t *t = mongoc_change_stream_get_resume_token(s->cs);
	char	   *j,
			   *out;

	if (t == NULL || bson_empty(t))
		return NULL;
	j = bson_as_relaxed_extended_json(t, NULL);
	out = j ? strdup(j) : NULL;
	bson_free(j);
	return out;
}

void
trib_mongo_stream_free(trib_mongo_stream *s)
{
	if (s == NULL)
		return;
	mongoc_change_stream_destroy(s->cs);
	if (s->coll)
		mongoc_collection_destroy(s->coll);
	if (s->db)
		mongoc_database_destroy(s->db);
	free(s);
}

trib_mongo_next_rc
trib_mongo_set_name(mongoc_client_t *cl, char *buf, size_t len, char *errbuf, size_t errlen)
{
	bson_t		cmd = BSON_INITIALIZER;
	bson_t		reply;
	bson_error_t err;
	bson_iter_t it;
	trib_mongo_next_rc rc = TRIB_MONGO_DOC;

	BSON_APPEND_INT32(&cmd, "hello", 1);
	if (!mongoc_client_command_simple(cl, "admin", &cmd, NULL, &reply, &err))
	{
		rc = trib_mongo_classify(&err, &reply);
		trib_errf(errbuf, errlen, "hello: %s", err.message);
	}
	else if (bson_iter_init_find(&it, &reply, "setName") && BSON_ITER_HOLDS_UTF8(&it))
		snprintf(buf, len, "%s", bson_iter_utf8(&it, NULL));
	else if (bson_iter_init_find(&it, &reply, "msg") && BSON_ITER_HOLDS_UTF8(&it) &&
			 strcmp(bson_iter_utf8(&it, NULL), "isdbgrid") == 0)
		snprintf(buf, len, "%s", "");	/* mongos: a sharded cluster */
	else
	{
		rc = TRIB_MONGO_FATAL;
		trib_errf(errbuf, errlen, "the server is neither a replica-set member nor a "
				  "mongos (hello has no setName): change streams need a replica set or "
				  "a sharded cluster");
	}
	bson_destroy(&cmd);
	bson_destroy(&reply);
	return rc;
}
