/*
 * sink_mongodb.c: the MongoDB sink's operations, its stored position and
 * its registration (see sink_mongodb.h for what each change becomes and
 * how exactly-once works).
 *
 * Design.  write() converts an event at once into the BSON operations it
 * stands for (sink_mongodb_doc.c), each tagged with the event's position,
 * and queues them; a batch is applied when it is full (write blocks: the
 * backpressure), old (poll) or flushed.  apply() cuts the queue into runs
 * of one collection, one ordered bulk write each, inside one transaction
 * with the position (mongoc_client_session_with_transaction), or without
 * transactions the bulks and then the position.  An event that needs no
 * write (a message, a change without a key) still queues an operation of
 * kind OP_NONE so that its position is stored and acknowledged.
 */
#include "sink_mongodb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>
#include <yajl/yajl_tree.h>

#include "check_report.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "sink_mongodb_conf.h"
#include "strbuf.h"
#include "xalloc.h"

/* One queued write. */
typedef enum mop_kind
{
	OP_NONE,					/* nothing to write; the position advances */
	OP_REPLACE,					/* replace by _id, upsert */
	OP_SET,						/* $set the columns present, upsert */
	OP_DELETE,					/* delete by _id */
	OP_CLEAR					/* delete every document (truncate) */
} mop_kind;

typedef struct mop
{
	mop_kind	kind;
	char	   *coll;
	bson_t	   *sel;			/* {_id: ...} or {} */
	bson_t	   *doc;			/* OP_REPLACE, OP_SET: the row */
	trib_position pos;			/* owns opaque */
} mop;

typedef struct mongo_sink
{
	mongoc_client_t *client;
	mongoc_database_t *db;
	char	   *dbname;
	char	   *tmpl;
	char	   *poscoll;
	char	   *pipeline;
	char	   *sink_name;
	int			batch_size;
	int			batch_ms;
	bool		txn;
	bool		hex;
	mop		   *q;
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
} mongo_sink;

static bool mg_open(trib_sink *sink, const struct trib_plugin_conf *conf,
					char *errbuf, size_t errlen);
static bool mg_durable_position(trib_sink *sink, trib_position *out,
								char *errbuf, size_t errlen);
static bool mg_write(trib_sink *sink, const trib_event *ev, char *errbuf, size_t errlen);
static bool mg_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen);
static bool mg_poll(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen);
static void mg_close(trib_sink *sink);
static bool mg_lost_connection(trib_sink *sink);
static void mg_check(const struct trib_plugin_conf *conf, trib_check_report *rep);

const trib_sink_ops trib_sink_mongodb_ops = {
	.type = "mongodb",
	.open = mg_open,
	.durable_position = mg_durable_position,
	.write = mg_write,
	.flush = mg_flush,
	.poll = mg_poll,
	.close = mg_close,
	.lost_connection = mg_lost_connection,
	.check = mg_check,
};

const trib_plugin trib_sink_mongodb = {
	.type = "mongodb",
	.sink_ops = &trib_sink_mongodb_ops,
	.section = &trib_mongosink_conf_section,
	.conf_size = sizeof(trib_mongosink_conf),
};

/* See sink_mongodb_conf.h. */
const trib_mongosink_conf *
trib_mongosink_conf_of(const trib_sink_conf *sc)
{
	return trib_registry_conf(sc, &trib_sink_mongodb);
}

/* a at or before b (the order of event ids). */
static bool
pos_le(const trib_position *a, const trib_position *b)
{
	if (a->commit_lsn != b->commit_lsn)
		return a->commit_lsn < b->commit_lsn;
	return a->seq <= b->seq;
}

/* libmongoc initialises once per process. */
static void
mongoc_once(void)
{
	static bool done;

	if (!done)
	{
		mongoc_init();
		done = true;
	}
}

/* ---- stored position ------------------------------------------------------ */

/* {_id: {pipeline, sink}} */
static void
position_selector(const mongo_sink *s, bson_t *sel)
{
	bson_t		id;

	bson_init(sel);
	bson_append_document_begin(sel, "_id", 3, &id);
	BSON_APPEND_UTF8(&id, "pipeline", s->pipeline);
	BSON_APPEND_UTF8(&id, "sink", s->sink_name);
	bson_append_document_end(sel, &id);
}

/* The position document's fields for pos. */
static void
position_doc(const mongo_sink *s, const trib_position *pos, bson_t *doc)
{
	char		buf[32];
	bson_t		sel;

	position_selector(s, &sel);
	bson_init(doc);
	bson_concat(doc, &sel);
	bson_destroy(&sel);
	trib_lsn_format(pos->commit_lsn, buf, sizeof(buf));
	BSON_APPEND_UTF8(doc, "commit_lsn", buf);
	BSON_APPEND_INT64(doc, "seq", (int64_t) pos->seq);
	trib_lsn_format(pos->end_lsn, buf, sizeof(buf));
	BSON_APPEND_UTF8(doc, "end_lsn", buf);
	trib_lsn_format(pos->lsn, buf, sizeof(buf));
	BSON_APPEND_UTF8(doc, "lsn", buf);
	if (pos->opaque)
		BSON_APPEND_UTF8(doc, "opaque", pos->opaque);
	else
		BSON_APPEND_NULL(doc, "opaque");
	BSON_APPEND_DATE_TIME(doc, "updated_at", (int64_t) trib_clock_wall_ms());
}

/* A position from its document; false when a field is missing. */
static bool
position_from(const bson_t *doc, trib_position *pos)
{
	bson_iter_t it;

	memset(pos, 0, sizeof(*pos));
	if (!bson_iter_init_find(&it, doc, "commit_lsn") || !BSON_ITER_HOLDS_UTF8(&it) ||
		!trib_lsn_parse(bson_iter_utf8(&it, NULL), &pos->commit_lsn))
		return false;
	if (!bson_iter_init_find(&it, doc, "seq") || !BSON_ITER_HOLDS_INT64(&it))
		return false;
	pos->seq = (uint64_t) bson_iter_int64(&it);
	if (bson_iter_init_find(&it, doc, "end_lsn") && BSON_ITER_HOLDS_UTF8(&it))
		trib_lsn_parse(bson_iter_utf8(&it, NULL), &pos->end_lsn);
	if (bson_iter_init_find(&it, doc, "lsn") && BSON_ITER_HOLDS_UTF8(&it))
		trib_lsn_parse(bson_iter_utf8(&it, NULL), &pos->lsn);
	if (bson_iter_init_find(&it, doc, "opaque") && BSON_ITER_HOLDS_UTF8(&it))
		pos->opaque = trib_xstrdup(bson_iter_utf8(&it, NULL));
	return true;
}

/* Read the stored position (in session's transaction when not NULL):
 * 1 found, 0 none, -1 error (*reply: the error's reply, or NULL). */
static int
position_read(mongo_sink *s, mongoc_client_session_t *session, trib_position *pos,
			  bson_error_t *err, bson_t **reply)
{
	mongoc_collection_t *c = mongoc_database_get_collection(s->db, s->poscoll);
	bson_t		sel,
				opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	int			rc = 0;

	position_selector(s, &sel);
	BSON_APPEND_INT64(&opts, "limit", 1);
	if (session && !mongoc_client_session_append(session, &opts, err))
		rc = -1;
	if (rc == 0)
	{
		cur = mongoc_collection_find_with_opts(c, &sel, &opts, NULL);
		if (mongoc_cursor_next(cur, &doc))
			rc = position_from(doc, pos) ? 1 : 0;
		if (mongoc_cursor_error_document(cur, err, &doc))
		{
			rc = -1;
			if (reply)
				*reply = doc ? bson_copy(doc) : NULL;
		}
		mongoc_cursor_destroy(cur);
	}
	bson_destroy(&opts);
	bson_destroy(&sel);
	mongoc_collection_destroy(c);
	return rc;
}

/* Store pos (in session's transaction when not NULL); *reply: the
 * error's reply. */
static bool
position_write(mongo_sink *s, mongoc_client_session_t *session, const trib_position *pos,
			   bson_error_t *err, bson_t **reply)
{
	mongoc_collection_t *c = mongoc_database_get_collection(s->db, s->poscoll);
	bson_t		sel,
				doc,
				r,
				opts = BSON_INITIALIZER;
	bool		ok = true;

	position_selector(s, &sel);
	position_doc(s, pos, &doc);
	BSON_APPEND_BOOL(&opts, "upsert", true);
	if (session)
		ok = mongoc_client_session_append(session, &opts, err);
	if (ok)
	{
		ok = mongoc_collection_replace_one(c, &sel, &doc, &opts, &r, err);
		if (!ok && reply)
			*reply = bson_copy(&r);
		bson_destroy(&r);
	}
	bson_destroy(&opts);
	bson_destroy(&doc);
	bson_destroy(&sel);
	mongoc_collection_destroy(c);
	return ok;
}

/* Take pos as the durable position (pos->opaque moves). */
static void
set_durable(mongo_sink *s, trib_position *pos)
{
	free(s->durable.opaque);
	s->durable = *pos;
	pos->opaque = NULL;
	s->has_durable = true;
}

/* ---- queue ------------------------------------------------------------ */

static void
mop_free(mop *m)
{
	free(m->coll);
	if (m->sel)
		bson_destroy(m->sel);
	if (m->doc)
		bson_destroy(m->doc);
	free(m->pos.opaque);
}

/* A new queued operation of kind k on coll (NULL: none) at ev's position. */
static mop *
queue_push(mongo_sink *s, mop_kind k, const char *coll, const trib_event *ev)
{
	mop		   *m;

	if (s->nq == s->qcap)
	{
		s->qcap = s->qcap ? s->qcap * 2 : 64;
		s->q = trib_xrealloc(s->q, sizeof(mop) * s->qcap);
	}
	m = &s->q[s->nq++];
	memset(m, 0, sizeof(*m));
	m->kind = k;
	m->coll = coll ? trib_xstrdup(coll) : NULL;
	m->pos = ev->pos;
	m->pos.opaque = trib_xstrdup(ev->pos.opaque);
	return m;
}

/* Drop the first n operations. */
static void
queue_drop(mongo_sink *s, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		mop_free(&s->q[i]);
	memmove(s->q, s->q + n, sizeof(mop) * (s->nq - n));
	s->nq -= n;
	if (s->nq == 0)
		s->nevents = 0;
}

/* The collection of an event's table by the template (config.h). */
static char *
collection_name(const mongo_sink *s, const trib_event *ev, const char *schema,
				const char *table)
{
	return trib_topic_expand(s->tmpl, NULL, ev->source, ev->db, schema, table);
}

/* Queue a truncate: every listed table's collection is cleared. */
static bool
queue_truncate(mongo_sink *s, const trib_event *ev, char *errbuf, size_t errlen)
{
	const char *rp[] = {"relations", NULL};
	char		perr[128];
	yajl_val	x = ev->extra ? yajl_tree_parse(ev->extra, perr, sizeof(perr)) : NULL;
	yajl_val	rels = x ? yajl_tree_get(x, rp, yajl_t_array) : NULL;
	size_t		i;

	if (rels == NULL)
	{
		yajl_tree_free(x);
		snprintf(errbuf, errlen, "mongodb sink: a truncate without its relations");
		return false;
	}
	for (i = 0; i < rels->u.array.len; i++)
	{
		const char *sp[] = {"schema", NULL},
				   *tp[] = {"table", NULL};
		yajl_val	sc = yajl_tree_get(rels->u.array.values[i], sp, yajl_t_string);
		yajl_val	tb = yajl_tree_get(rels->u.array.values[i], tp, yajl_t_string);
		char	   *coll;
		mop		   *m;

		if (tb == NULL)
			continue;
		coll = collection_name(s, ev, sc ? sc->u.string : NULL, tb->u.string);
		m = queue_push(s, OP_CLEAR, coll, ev);
		m->sel = bson_new();
		free(coll);
	}
	queue_push(s, OP_NONE, NULL, ev);
	yajl_tree_free(x);
	return true;
}

/* Queue a row change: an upsert (replace, or $set with unchanged
 * columns), a delete, and for a key move the delete of the old _id. */
static bool
queue_row(mongo_sink *s, const trib_event *ev, char *errbuf, size_t errlen)
{
	char	   *coll = collection_name(s, ev, ev->schema, ev->table);
	bson_t	   *id = bson_new();
	bson_t	   *old = NULL;
	bool		ok;
	mop		   *m;

	ok = trib_mongosink_id(ev->key, NULL, ev->rel, s->hex, id, errbuf, errlen);
	if (ok && ev->op == TRIB_OP_UPDATE && ev->before != NULL)
	{
		old = bson_new();
		if (!trib_mongosink_id(ev->key, ev->before, ev->rel, s->hex, old, errbuf, errlen) ||
			bson_equal(old, id))
		{
			bson_destroy(old);
			old = NULL;
		}
	}
	if (ok && old)
	{
		m = queue_push(s, OP_DELETE, coll, ev);
		m->sel = old;
	}
	if (ok && ev->op == TRIB_OP_DELETE)
	{
		m = queue_push(s, OP_DELETE, coll, ev);
		m->sel = id;
		id = NULL;
	}
	else if (ok)
	{
		bool		set = ev->unchanged != NULL && strcmp(ev->unchanged, "[]") != 0;
		bson_t	   *row = bson_new();

		bson_concat(row, id);
		ok = trib_mongosink_row(ev->after, ev->rel, s->hex, row, errbuf, errlen);
		m = queue_push(s, set ? OP_SET : OP_REPLACE, coll, ev);
		m->sel = id;
		id = NULL;
		if (set)
		{
			m->doc = bson_new();
			BSON_APPEND_DOCUMENT(m->doc, "$set", row);
			bson_destroy(row);
		}
		else
			m->doc = row;
	}
	if (id)
		bson_destroy(id);
	free(coll);
	return ok;
}

/* ---- applying a batch -------------------------------------------------- */

typedef struct txn_ctx
{
	mongo_sink *s;
	size_t		n;				/* operations of the batch */
	bool		covered;		/* the stored position covers the batch */
	trib_position stored;
	char		coll[256];		/* where a bulk failed */
	bson_t	   *err_reply;		/* the failed command's reply: its error
								 * labels tell with_transaction to retry */
} txn_ctx;

/* Keep the reply of a failed command (NULL: none). */
static void
keep_reply(txn_ctx *t, const bson_t *reply)
{
	if (t->err_reply)
		bson_destroy(t->err_reply);
	t->err_reply = reply ? bson_copy(reply) : NULL;
}

/* Add operation m to bulk. */
static bool
bulk_add(mongoc_bulk_operation_t *bulk, const mop *m, bson_error_t *err)
{
	bson_t		up = BSON_INITIALIZER;
	bool		ok = true;

	BSON_APPEND_BOOL(&up, "upsert", true);
	if (m->kind == OP_REPLACE)
		ok = mongoc_bulk_operation_replace_one_with_opts(bulk, m->sel, m->doc, &up, err);
	else if (m->kind == OP_SET)
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, m->sel, m->doc, &up, err);
	else if (m->kind == OP_DELETE)
		ok = mongoc_bulk_operation_remove_one_with_opts(bulk, m->sel, NULL, err);
	else if (m->kind == OP_CLEAR)
		ok = mongoc_bulk_operation_remove_many_with_opts(bulk, m->sel, NULL, err);
	bson_destroy(&up);
	return ok;
}

/* Operations [i, end) of one collection as one ordered bulk write. */
static bool
run_bulk(txn_ctx *t, mongoc_client_session_t *session, size_t i, size_t end, bson_error_t *err)
{
	mongo_sink *s = t->s;
	mongoc_collection_t *c = mongoc_database_get_collection(s->db, s->q[i].coll);
	bson_t		opts = BSON_INITIALIZER,
				reply;
	mongoc_bulk_operation_t *bulk;
	bool		ok = true;
	size_t		j;

	BSON_APPEND_BOOL(&opts, "ordered", true);
	if (session)
		ok = mongoc_client_session_append(session, &opts, err);
	bulk = mongoc_collection_create_bulk_operation_with_opts(c, &opts);
	for (j = i; ok && j < end; j++)
		ok = bulk_add(bulk, &s->q[j], err);
	if (ok)
	{
		ok = mongoc_bulk_operation_execute(bulk, &reply, err) != 0;
		if (!ok)
			keep_reply(t, &reply);
		bson_destroy(&reply);
	}
	if (!ok)
		snprintf(t->coll, sizeof(t->coll), "%s", s->q[i].coll);
	mongoc_bulk_operation_destroy(bulk);
	bson_destroy(&opts);
	mongoc_collection_destroy(c);
	return ok;
}

/* The batch's writes, in order: one bulk per run of one collection. */
static bool
run_writes(txn_ctx *t, mongoc_client_session_t *session, bson_error_t *err)
{
	size_t		i = 0,
				end;

	while (i < t->n)
	{
		if (t->s->q[i].kind == OP_NONE)
		{
			i++;
			continue;
		}
		for (end = i + 1; end < t->n; end++)
			if (t->s->q[end].kind != OP_NONE && strcmp(t->s->q[end].coll, t->s->q[i].coll) != 0)
				break;
		while (end > i + 1 && t->s->q[end - 1].kind == OP_NONE)
			end--;
		if (!run_bulk(t, session, i, end, err))
			return false;
		i = end;
	}
	return true;
}

/* The transaction's body: read the stored position; unless it covers
 * the batch, the writes and the new position. */
static bool
txn_body(mongoc_client_session_t *session, void *ctx, bson_t **reply, bson_error_t *err)
{
	txn_ctx    *t = ctx;
	int			rc;
	bool		ok;

	free(t->stored.opaque);
	memset(&t->stored, 0, sizeof(t->stored));
	t->covered = false;
	t->coll[0] = '\0';
	keep_reply(t, NULL);
	rc = position_read(t->s, session, &t->stored, err, &t->err_reply);
	if (rc == 1 && pos_le(&t->s->q[t->n - 1].pos, &t->stored))
	{
		t->covered = true;
		return true;
	}
	ok = rc >= 0 && run_writes(t, session, err) &&
		position_write(t->s, session, &t->s->q[t->n - 1].pos, err, &t->err_reply);
	/* the reply's labels (TransientTransactionError) make
	 * with_transaction retry; it frees what it is given */
	if (!ok && t->err_reply)
	{
		*reply = t->err_reply;
		t->err_reply = NULL;
	}
	return ok;
}

/* Fail the sink with the server's message (never values). */
static bool
fail(mongo_sink *s, const txn_ctx *t, const bson_error_t *err, char *errbuf, size_t errlen)
{
	s->failed = true;
	s->conn_lost = err->domain == MONGOC_ERROR_STREAM ||
		err->domain == MONGOC_ERROR_SERVER_SELECTION;
	/* the message: libmongoc's and the server's, no row values */
	snprintf(s->failmsg, sizeof(s->failmsg), "mongodb sink %s: %s%s%scode %u: %s",
			 s->sink_name, t->coll[0] ? "collection " : "", t->coll[0] ? t->coll : "",
			 t->coll[0] ? ": " : "", err->code, err->message);
	snprintf(errbuf, errlen, "%s", s->failmsg);
	return false;
}

/* Apply the queued operations of the first batch_size events; ack. */
static bool
apply_once(trib_sink *sink, mongo_sink *s, char *errbuf, size_t errlen)
{
	txn_ctx		t;
	bson_error_t err;
	bool		ok;

	memset(&t, 0, sizeof(t));
	memset(&err, 0, sizeof(err));
	t.s = s;
	t.n = s->nq;
	if (s->txn)
	{
		mongoc_client_session_t *session = mongoc_client_start_session(s->client, NULL, &err);

		ok = session != NULL &&
			mongoc_client_session_with_transaction(session, txn_body, NULL, &t, NULL, &err);
		if (session)
			mongoc_client_session_destroy(session);
	}
	else
		ok = run_writes(&t, NULL, &err) && position_write(s, NULL, &s->q[t.n - 1].pos, &err, NULL);
	keep_reply(&t, NULL);
	if (!ok)
	{
		free(t.stored.opaque);
		return fail(s, &t, &err, errbuf, errlen);
	}
	if (t.covered)
	{
		/* another writer or an earlier run got there: drop what it covers */
		size_t		keep = 0;

		s->stats.replays++;
		set_durable(s, &t.stored);
		while (keep < s->nq && pos_le(&s->q[keep].pos, &s->durable))
			keep++;
		queue_drop(s, keep);
	}
	else
	{
		trib_position last = s->q[t.n - 1].pos;

		last.opaque = trib_xstrdup(last.opaque);
		set_durable(s, &last);
		queue_drop(s, t.n);
		s->stats.batches++;
	}
	free(t.stored.opaque);
	if (sink->ack)
		sink->ack(sink, &s->durable, sink->ack_arg);
	return true;
}

/* Apply everything queued. */
static bool
apply(trib_sink *sink, mongo_sink *s, char *errbuf, size_t errlen)
{
	if (s->failed)
	{
		snprintf(errbuf, errlen, "%s", s->failmsg);
		return false;
	}
	while (s->nq > 0)
		if (!apply_once(sink, s, errbuf, errlen))
			return false;
	s->nevents = 0;
	return true;
}

/* ---- operations ------------------------------------------------------- */

static void
state_free(mongo_sink *s)
{
	queue_drop(s, s->nq);
	free(s->q);
	if (s->db)
		mongoc_database_destroy(s->db);
	if (s->client)
		mongoc_client_destroy(s->client);
	free(s->durable.opaque);
	free(s->dbname);
	free(s->tmpl);
	free(s->poscoll);
	free(s->pipeline);
	free(s->sink_name);
	free(s);
}

/* A client for conf's URI with its write concern; NULL with errbuf. */
static mongoc_client_t *
client_new(const trib_mongosink_conf *mc, char *errbuf, size_t errlen)
{
	bson_error_t err;
	mongoc_uri_t *uri = mongoc_uri_new_with_error(mc->uri, &err);
	mongoc_client_t *client;
	mongoc_write_concern_t *wc;

	if (uri == NULL)
	{
		snprintf(errbuf, errlen, "mongodb sink: uri: %s", err.message);
		return NULL;
	}
	client = mongoc_client_new_from_uri_with_error(uri, &err);
	mongoc_uri_destroy(uri);
	if (client == NULL)
	{
		snprintf(errbuf, errlen, "mongodb sink: %s", err.message);
		return NULL;
	}
	mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
	mongoc_client_set_appname(client, "tributary");
	wc = mongoc_write_concern_new();
	if (strcmp(mc->write_concern, "majority") == 0)
		mongoc_write_concern_set_wmajority(wc, 0);
	else
		mongoc_write_concern_set_w(wc, atoi(mc->write_concern));
	mongoc_client_set_write_concern(client, wc);
	mongoc_write_concern_destroy(wc);
	return client;
}

/* Connect (a ping), read the stored position. */
static bool
mg_open(trib_sink *sink, const struct trib_plugin_conf *conf, char *errbuf, size_t errlen)
{
	const trib_mongosink_conf *mc = trib_mongosink_conf_of(conf);
	mongo_sink *s;
	bson_t		ping = BSON_INITIALIZER;
	bson_error_t err;
	trib_position pos;
	int			rc;

	if (mc == NULL)
	{
		snprintf(errbuf, errlen, "mongodb sink: no configuration");
		return false;
	}
	mongoc_once();
	s = trib_xcalloc(1, sizeof(*s));
	s->client = client_new(mc, errbuf, errlen);
	if (s->client == NULL)
	{
		state_free(s);
		return false;
	}
	s->dbname = trib_xstrdup(mc->database);
	s->db = mongoc_client_get_database(s->client, mc->database);
	s->tmpl = trib_xstrdup(mc->collection);
	s->poscoll = trib_xstrdup(mc->positions_collection);
	s->pipeline = trib_xstrdup(sink->pipeline ? sink->pipeline : "default");
	s->sink_name = trib_xstrdup(conf->name ? conf->name : "mongodb");
	s->batch_size = mc->batch_size;
	s->batch_ms = mc->batch_ms;
	s->txn = mc->transactions;
	s->hex = mc->bytea_encoding == 1;
	BSON_APPEND_INT32(&ping, "ping", 1);
	rc = mongoc_database_command_simple(s->db, &ping, NULL, NULL, &err) ?
		position_read(s, NULL, &pos, &err, NULL) : -1;
	bson_destroy(&ping);
	if (rc < 0)
	{
		snprintf(errbuf, errlen, "mongodb sink %s: database %s: %s", s->sink_name,
				 s->dbname, err.message);
		state_free(s);
		return false;
	}
	if (rc == 1)
		set_durable(s, &pos);
	sink->ops = &trib_sink_mongodb_ops;
	sink->state = s;
	return true;
}

/* The stored position (the sink keeps its opaque). */
static bool
mg_durable_position(trib_sink *sink, trib_position *out, char *errbuf, size_t errlen)
{
	mongo_sink *s = sink->state;

	(void) errbuf;
	(void) errlen;
	if (!s || !s->has_durable)
		return false;
	*out = s->durable;
	out->opaque = NULL;
	return true;
}

/* Queue one event's operations; apply when the batch is full or old. */
static bool
mg_write(trib_sink *sink, const trib_event *ev, char *errbuf, size_t errlen)
{
	mongo_sink *s = sink->state;
	bool		ok = true;
	bool		row = ev->op == TRIB_OP_CREATE || ev->op == TRIB_OP_UPDATE ||
		ev->op == TRIB_OP_READ || ev->op == TRIB_OP_DELETE;
	long long	now;

	if (s == NULL || s->failed)
	{
		snprintf(errbuf, errlen, "%s", s ? s->failmsg : "mongodb sink not open");
		return false;
	}
	if (s->has_durable && pos_le(&ev->pos, &s->durable))
	{
		s->stats.skipped++;
		return true;
	}
	if (row && ev->key == NULL)
	{
		s->stats.skipped_no_key++;
		tlog_warn("sink.mongodb", "%s: a change of %s.%s without a key skipped "
				  "(a document is addressed by _id: give the table a primary key)",
				  s->sink_name, ev->schema ? ev->schema : "", ev->table ? ev->table : "");
		queue_push(s, OP_NONE, NULL, ev);
	}
	else if (row)
		ok = queue_row(s, ev, errbuf, errlen);
	else if (ev->op == TRIB_OP_TRUNCATE)
		ok = queue_truncate(s, ev, errbuf, errlen);
	else
		queue_push(s, OP_NONE, NULL, ev);
	if (!ok)
	{
		s->failed = true;
		snprintf(s->failmsg, sizeof(s->failmsg), "%s", errbuf);
		return false;
	}
	s->stats.events++;
	now = trib_clock_mono_ms();
	if (s->nevents++ == 0)
		s->first_ms = now;
	if ((int) s->nevents >= s->batch_size || now - s->first_ms >= s->batch_ms)
		return apply(sink, s, errbuf, errlen);
	return true;
}

/* Apply everything queued. */
static bool
mg_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	mongo_sink *s = sink->state;

	(void) timeout_ms;
	if (s == NULL)
	{
		snprintf(errbuf, errlen, "mongodb sink not open");
		return false;
	}
	return apply(sink, s, errbuf, errlen);
}

/* Apply a batch whose oldest event waited batch_ms; false once failed. */
static bool
mg_poll(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	mongo_sink *s = sink->state;

	(void) timeout_ms;
	if (s == NULL || s->failed)
	{
		snprintf(errbuf, errlen, "%s", s ? s->failmsg : "mongodb sink not open");
		return false;
	}
	if (s->nq == 0 || trib_clock_mono_ms() - s->first_ms < s->batch_ms)
		return true;
	return apply(sink, s, errbuf, errlen);
}

/* Apply what is queued (best effort) and release everything. */
static void
mg_close(trib_sink *sink)
{
	mongo_sink *s = sink->state;
	char		e[1024];

	if (s == NULL)
		return;
	if (!s->failed && s->nq > 0 && !apply(sink, s, e, sizeof(e)))
		tlog_error("sink.mongodb", "%s", e);
	state_free(s);
	sink->state = NULL;
}

/* After a failure: was the server lost (rather than a refusal)? */
static bool
mg_lost_connection(trib_sink *sink)
{
	mongo_sink *s = sink->state;

	return s != NULL && s->conn_lost;
}

/* See sink_mongodb.h. */
void
trib_mongosink_get_stats(const trib_sink *sink, trib_mongosink_stats *out)
{
	const mongo_sink *s = sink->state;

	memset(out, 0, sizeof(*out));
	if (s)
		*out = s->stats;
}

/* `tributary check`: the server answers a ping within 5 s; the stored
 * position, read-only. */
static void
mg_check(const struct trib_plugin_conf *conf, trib_check_report *rep)
{
	const trib_mongosink_conf *mc = trib_mongosink_conf_of(conf);
	char		e[512];
	mongoc_client_t *client;
	bson_t		ping = BSON_INITIALIZER;
	bson_error_t err;

	if (mc == NULL)
		return;
	mongoc_once();
	client = client_new(mc, e, sizeof(e));
	if (client == NULL)
	{
		trib_check_report_say(rep, "  problem: %s", e);
		rep->problems++;
		return;
	}
	BSON_APPEND_INT32(&ping, "ping", 1);
	if (mongoc_client_command_simple(client, mc->database, &ping, NULL, NULL, &err))
		trib_check_report_say(rep, "  reachable: database %s, collections %s, position in %s",
							  mc->database, mc->collection, mc->positions_collection);
	else
	{
		trib_check_report_say(rep, "  problem: database %s: %s", mc->database, err.message);
		rep->problems++;
	}
	bson_destroy(&ping);
	mongoc_client_destroy(client);
}
