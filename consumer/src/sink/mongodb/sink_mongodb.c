/*
 * sink_mongodb.c: the MongoDB sink's operations, its queue and its
 * registration (see sink_mongodb.h for what each change becomes and how
 * exactly-once works).
 *
 * Design.  write() converts an event at once into the BSON operations it
 * stands for (sink_mongodb_doc.c), each tagged with the event's position,
 * and queues them; a batch is applied when it is full (write blocks: the
 * backpressure), old (poll) or flushed; sink_mongodb_apply.c applies it
 * (ordered bulk writes per collection, with the position stored by
 * sink_mongodb_position.c in the same transaction, or after them).  An
 * event that needs no write (a message, a change without a key) still
 * queues an operation of kind MGS_OP_NONE so that its position is stored and
 * acknowledged.  The collection of a table is expanded from the template
 * once, on the table's first event, and then found in a map keyed by the
 * event's (source, db, schema, table).
 */
#include "sink_mongodb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "check_report.h"
#include "clock.h"
#include "config.h"
#include "intern.h"
#include "log.h"
#include "mongouri.h"
#include "sink_mongodb_conf.h"
#include "xalloc.h"

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
static unsigned mg_needs(const struct trib_plugin_conf *conf);

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
	.needs = mg_needs,
};

const trib_plugin trib_sink_mongodb = {
	.type = "mongodb",
	.sink_ops = &trib_sink_mongodb_ops,
	.section = &trib_mongosink_conf_section,
	.conf_size = sizeof(trib_mongosink_conf),
};

/* See sink_mongodb_conf.h. */
TRIB_PLUGIN_CONF_ACCESSOR(trib_mongosink_conf_of, trib_mongosink_conf, trib_sink_mongodb)

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

/* sink.h: needs.  A MongoDB source's int64 values that fit in 32 bits
 * stay int64 in the copy only through their marks (sink_mongodb_ejson.c),
 * which the source makes only when asked. */
static unsigned
mg_needs(const struct trib_plugin_conf *conf)
{
	(void) conf;
	return TRIB_NEED_INT64_TYPES;
}

/* ---- queue ------------------------------------------------------------ */

static void
op_free(mgs_op *m)
{
	free(m->coll);
	if (m->sel)
		bson_destroy(m->sel);
	if (m->doc)
		bson_destroy(m->doc);
	free(m->pos.opaque);
}

/* A new queued operation of kind k on coll (NULL: none) at ev's position. */
static mgs_op *
queue_push(mgs_sink *s, mgs_op_kind k, const char *coll, const trib_event *ev)
{
	mgs_op	   *m;

	s->q = trib_xgrow(s->q, s->nq, &s->qcap, sizeof(mgs_op), 64);
	m = &s->q[s->nq++];
	memset(m, 0, sizeof(*m));
	m->kind = k;
	m->coll = coll ? trib_xstrdup(coll) : NULL;
	m->pos = ev->pos;
	m->pos.opaque = trib_xstrdup(ev->pos.opaque);
	return m;
}

/* Drop the first n operations. */
void
mgs_queue_drop(mgs_sink *s, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		op_free(&s->q[i]);
	memmove(s->q, s->q + n, sizeof(mgs_op) * (s->nq - n));
	s->nq -= n;
	if (s->nq == 0)
		s->nevents = 0;
}

/* Append one part of a collection's key: a byte that tells NULL from "",
 * then the string and its NUL. */
static void
coll_key_add(trib_strbuf *b, const char *part)
{
	trib_strbuf_addc(b, part ? 'v' : '-');
	trib_strbuf_adds(b, part ? part : "");
	trib_strbuf_addc(b, '\0');
}

/* The collection of an event's table by the template (under the default a
 * MySQL table's database stands for its schema, config.h), expanded on the
 * table's first event and looked up after that.  The sink owns the name. */
static const char *
collection_name(mgs_sink *s, const trib_event *ev, const char *schema, const char *table)
{
	void	  **slot;

	s->collkey.len = 0;
	coll_key_add(&s->collkey, ev->source);
	coll_key_add(&s->collkey, ev->db);
	coll_key_add(&s->collkey, schema);
	coll_key_add(&s->collkey, table);
	slot = trib_intern_value(s->colls, s->collkey.data, s->collkey.len);
	if (*slot == NULL)
		*slot = trib_name_expand_known(s->tmpl, s->tmpl_default, NULL, ev->source, ev->db,
									   schema, table);
	return *slot;
}

/* Queue a truncate: every listed table's collection is cleared. */
static bool
queue_truncate(mgs_sink *s, const trib_event *ev, char *errbuf, size_t errlen)
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
		mgs_op	   *m;

		if (tb == NULL)
			continue;
		m = queue_push(s, MGS_OP_CLEAR, collection_name(s, ev, sc ? sc->u.string : NULL,
													tb->u.string), ev);
		m->sel = bson_new();
	}
	queue_push(s, MGS_OP_NONE, NULL, ev);
	yajl_tree_free(x);
	return true;
}

/* Queue a MongoDB source's update that came without its document
 * (fullDocument null: `full_document: default`, or updateLookup of a
 * document deleted since): its updateDescription as updates of the
 * document with _id *id (taken), truncations first; without one, nothing
 * but the position, with a warning. */
static bool
queue_described(mgs_sink *s, const trib_event *ev, const char *coll, bson_t **id,
				char *errbuf, size_t errlen)
{
	bson_t	   *trunc = bson_new(),
			   *upd = bson_new();
	bool		has = false;
	mgs_op	   *m;

	if (!trib_mongosink_update_desc(ev->extra, trunc, upd, &has, errbuf, errlen))
	{
		bson_destroy(trunc);
		bson_destroy(upd);
		return false;
	}
	if (!has)
		tlog_warn("sink.mongodb", "%s: an update of %s.%s without its document nor an "
				  "updateDescription skipped", s->sink_name, ev->schema ? ev->schema : "",
				  ev->table ? ev->table : "");
	if (bson_empty(trunc) && bson_empty(upd))
		queue_push(s, MGS_OP_NONE, NULL, ev);
	if (!bson_empty(trunc))
	{
		m = queue_push(s, MGS_OP_UPDATE, coll, ev);
		m->sel = bson_copy(*id);
		m->doc = trunc;
		trunc = NULL;
	}
	if (!bson_empty(upd))
	{
		m = queue_push(s, MGS_OP_UPDATE, coll, ev);
		m->sel = *id;
		*id = NULL;
		m->doc = upd;
		upd = NULL;
	}
	if (trunc)
		bson_destroy(trunc);
	if (upd)
		bson_destroy(upd);
	return true;
}

/* Queue a row change: an upsert (replace, or $set with unchanged
 * columns), a delete, and for a key move the delete of the old _id. */
static bool
queue_row(mgs_sink *s, const trib_event *ev, char *errbuf, size_t errlen)
{
	const char *coll = collection_name(s, ev, ev->schema, ev->table);
	bson_t	   *id = bson_new();
	bson_t	   *old = NULL;
	bool		ok;
	mgs_op	   *m;

	/* a MongoDB source's documents are Extended JSON: their own types */
	bool		ejson = ev->connector != NULL && strcmp(ev->connector, "mongodb") == 0;

	ok = ejson ? trib_mongosink_ejson(ev->key, "the documentKey", true, ev->extra, id, errbuf,
									  errlen)
		: trib_mongosink_id(ev->key, NULL, ev->rel, s->hex, id, errbuf, errlen);
	if (ok && !ejson && ev->op == TRIB_OP_UPDATE && ev->before != NULL)
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
		m = queue_push(s, MGS_OP_DELETE, coll, ev);
		m->sel = old;
	}
	if (ok && ev->op == TRIB_OP_DELETE)
	{
		m = queue_push(s, MGS_OP_DELETE, coll, ev);
		m->sel = id;
		id = NULL;
	}
	else if (ok && ejson && ev->op == TRIB_OP_UPDATE && ev->after == NULL)
		ok = queue_described(s, ev, coll, &id, errbuf, errlen);
	else if (ok)
	{
		bool		set = ev->unchanged != NULL && strcmp(ev->unchanged, "[]") != 0;
		bson_t	   *row = bson_new();

		bson_concat(row, id);
		ok = ejson ? trib_mongosink_ejson(ev->after, "the document", false, ev->extra, row,
										  errbuf, errlen)
			: trib_mongosink_row(ev->after, ev->rel, s->hex, row, errbuf, errlen);
		m = queue_push(s, set ? MGS_OP_SET : MGS_OP_REPLACE, coll, ev);
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
	return ok;
}

/* ---- operations ------------------------------------------------------- */

static void
state_free(mgs_sink *s)
{
	mgs_queue_drop(s, s->nq);
	free(s->q);
	if (s->db)
		mongoc_database_destroy(s->db);
	if (s->client)
		mongoc_client_destroy(s->client);
	free(s->durable.opaque);
	free(s->dbname);
	free(s->tmpl);
	trib_intern_each_value(s->colls, free);
	trib_intern_free(s->colls);
	trib_strbuf_free(&s->collkey);
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
	client = trib_mongo_client_from_uri(uri, "tributary", "mongodb sink: ", errbuf, errlen);
	if (client == NULL)
		return NULL;
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
	mgs_sink *s;
	bson_t		ping = BSON_INITIALIZER;
	bson_error_t err;
	trib_position pos;
	int			rc;

	if (mc == NULL)
		return trib_sink_no_conf("mongodb", errbuf, errlen);
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
	s->tmpl = trib_xstrdup(mc->collection ? mc->collection : TRIB_COLLECTION_DEFAULT_PATTERN);
	s->tmpl_default = strcmp(s->tmpl, TRIB_COLLECTION_DEFAULT_PATTERN) == 0;
	s->colls = trib_intern_new();
	s->poscoll = trib_xstrdup(mc->positions_collection);
	s->pipeline = trib_xstrdup(sink->pipeline ? sink->pipeline : "default");
	s->sink_name = trib_xstrdup(conf->name ? conf->name : "mongodb");
	s->owner = sink;
	s->batch_size = mc->batch_size;
	s->batch_ms = mc->batch_ms;
	s->txn = mc->transactions;
	s->hex = mc->bytea_encoding == 1;
	mgs_metrics_init(s, sink->metrics);
	BSON_APPEND_INT32(&ping, "ping", 1);
	rc = mongoc_database_command_simple(s->db, &ping, NULL, NULL, &err) ?
		mgs_position_read(s, NULL, &pos, &err, NULL) : -1;
	bson_destroy(&ping);
	if (rc < 0)
	{
		snprintf(errbuf, errlen, "mongodb sink %s: database %s: %s", s->sink_name,
				 s->dbname, err.message);
		state_free(s);
		return false;
	}
	if (rc == 1)
		mgs_set_durable(s, &pos);
	sink->ops = &trib_sink_mongodb_ops;
	sink->state = s;
	return true;
}

/* The stored position (the sink keeps its opaque). */
static bool
mg_durable_position(trib_sink *sink, trib_position *out, char *errbuf, size_t errlen)
{
	mgs_sink *s = sink->state;

	(void) errbuf;
	(void) errlen;
	if (!s || !s->has_durable)
		return false;
	*out = s->durable;			/* opaque borrowed: ours */
	return true;
}

/* Queue one event's operations; apply when the batch is full or old. */
static bool
mg_write(trib_sink *sink, const trib_event *ev, char *errbuf, size_t errlen)
{
	mgs_sink *s = sink->state;
	bool		ok = true;
	bool		row = ev->op == TRIB_OP_CREATE || ev->op == TRIB_OP_UPDATE ||
		ev->op == TRIB_OP_READ || ev->op == TRIB_OP_DELETE;
	long long	now;

	if (s == NULL || s->failed)
	{
		snprintf(errbuf, errlen, "%s", s ? s->failmsg : "mongodb sink not open");
		return false;
	}
	if (s->has_durable && mgs_pos_le(&ev->pos, &s->durable))
	{
		mgs_count(s, MGS_SKIPPED);
		return true;
	}
	if (row && ev->key == NULL)
	{
		mgs_count(s, MGS_NO_KEY);
		tlog_warn("sink.mongodb", "%s: a change of %s.%s without a key skipped "
				  "(a document is addressed by _id: give the table a primary key)",
				  s->sink_name, ev->schema ? ev->schema : "", ev->table ? ev->table : "");
		queue_push(s, MGS_OP_NONE, NULL, ev);
	}
	else if (row)
		ok = queue_row(s, ev, errbuf, errlen);
	else if (ev->op == TRIB_OP_TRUNCATE)
		ok = queue_truncate(s, ev, errbuf, errlen);
	else
		queue_push(s, MGS_OP_NONE, NULL, ev);
	if (!ok)
	{
		s->failed = true;
		snprintf(s->failmsg, sizeof(s->failmsg), "%s", errbuf);
		return false;
	}
	mgs_count(s, MGS_EVENTS);
	now = trib_clock_mono_ms();
	if (s->nevents++ == 0)
		s->first_ms = now;
	if ((int) s->nevents >= s->batch_size || now - s->first_ms >= s->batch_ms)
		return mgs_apply(sink, s, errbuf, errlen);
	return true;
}

/* Apply everything queued. */
static bool
mg_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	mgs_sink *s = sink->state;

	(void) timeout_ms;
	if (s == NULL)
	{
		snprintf(errbuf, errlen, "mongodb sink not open");
		return false;
	}
	return mgs_apply(sink, s, errbuf, errlen);
}

/* Apply a batch whose oldest event waited batch_ms; false once failed. */
static bool
mg_poll(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	mgs_sink *s = sink->state;

	(void) timeout_ms;
	if (s == NULL || s->failed)
	{
		snprintf(errbuf, errlen, "%s", s ? s->failmsg : "mongodb sink not open");
		return false;
	}
	if (s->nq == 0 || trib_clock_mono_ms() - s->first_ms < s->batch_ms)
		return true;
	return mgs_apply(sink, s, errbuf, errlen);
}

/* Apply what is queued (best effort) and release everything. */
static void
mg_close(trib_sink *sink)
{
	mgs_sink *s = sink->state;
	char		e[1024];

	if (s == NULL)
		return;
	if (!s->failed && !sink->discard && s->nq > 0 && !mgs_apply(sink, s, e, sizeof(e)))
		tlog_error("sink.mongodb", "%s", e);
	state_free(s);
	sink->state = NULL;
}

/* After a failure: was the server lost (rather than a refusal)? */
static bool
mg_lost_connection(trib_sink *sink)
{
	mgs_sink *s = sink->state;

	return s != NULL && s->conn_lost;
}

/* See sink_mongodb.h. */
void
trib_mongosink_get_stats(const trib_sink *sink, trib_mongosink_stats *out)
{
	const mgs_sink *s = sink->state;

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
