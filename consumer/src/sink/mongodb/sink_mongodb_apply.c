/*
 * sink_mongodb_apply.c: how the MongoDB sink applies a batch (see
 * sink_mongodb.h): the queue is cut into runs of one collection, one
 * ordered bulk write each; with transactions, inside
 * mongoc_client_session_with_transaction together with the guarded
 * position, else the bulks and then the position.  A failure fails the
 * sink with the collection, the code and the server's message.
 */
#include "sink_mongodb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "xalloc.h"

typedef struct txn_ctx
{
	mgs_sink *s;
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
bulk_add(mongoc_bulk_operation_t *bulk, const mgs_op *m, bson_error_t *err)
{
	bson_t		up = BSON_INITIALIZER;
	bool		ok = true;

	BSON_APPEND_BOOL(&up, "upsert", true);
	if (m->kind == MGS_OP_REPLACE)
		ok = mongoc_bulk_operation_replace_one_with_opts(bulk, m->sel, m->doc, &up, err);
	else if (m->kind == MGS_OP_SET)
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, m->sel, m->doc, &up, err);
	else if (m->kind == MGS_OP_UPDATE)
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, m->sel, m->doc, NULL, err);
	else if (m->kind == MGS_OP_DELETE)
		ok = mongoc_bulk_operation_remove_one_with_opts(bulk, m->sel, NULL, err);
	else if (m->kind == MGS_OP_CLEAR)
		ok = mongoc_bulk_operation_remove_many_with_opts(bulk, m->sel, NULL, err);
	bson_destroy(&up);
	return ok;
}

/* Operations [i, end) of one collection as one ordered bulk write. */
static bool
run_bulk(txn_ctx *t, mongoc_client_session_t *session, size_t i, size_t end, bson_error_t *err)
{
	mgs_sink *s = t->s;
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
		if (t->s->q[i].kind == MGS_OP_NONE)
		{
			i++;
			continue;
		}
		for (end = i + 1; end < t->n; end++)
			if (t->s->q[end].kind != MGS_OP_NONE && strcmp(t->s->q[end].coll, t->s->q[i].coll) != 0)
				break;
		while (end > i + 1 && t->s->q[end - 1].kind == MGS_OP_NONE)
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
	rc = mgs_position_read(t->s, session, &t->stored, err, &t->err_reply);
	if (rc == 1 && mgs_pos_le(&t->s->q[t->n - 1].pos, &t->stored))
	{
		t->covered = true;
		return true;
	}
	ok = rc >= 0 && run_writes(t, session, err) &&
		mgs_position_write(t->s, session, &t->s->q[t->n - 1].pos, err, &t->err_reply);
	/* the reply's labels (TransientTransactionError) make
	 * with_transaction retry; it frees what it is given */
	if (!ok && t->err_reply)
	{
		*reply = t->err_reply;
		t->err_reply = NULL;
	}
	return ok;
}

/* See sink_mongodb.h. */
void
trib_mongosink_server_msg(uint32_t code, const char *msg, char *out, size_t outlen)
{
	const char *dup = strstr(msg, " dup key:");
	bool		dupkey = code == 11000 || code == 11001 || code == 12582;

	if (dupkey && dup != NULL)
		snprintf(out, outlen, "%.*s (the duplicate key's value left out)", (int) (dup - msg),
				 msg);
	else
		snprintf(out, outlen, "%s", msg);
}

/* Fail the sink with the server's message (never values). */
static bool
fail(mgs_sink *s, const txn_ctx *t, const bson_error_t *err, char *errbuf, size_t errlen)
{
	char		msg[sizeof(err->message) + 64];

	s->failed = true;
	s->conn_lost = err->domain == MONGOC_ERROR_STREAM ||
		err->domain == MONGOC_ERROR_SERVER_SELECTION;
	/* the message: libmongoc's and the server's, no row values (a
	 * duplicate key error's "dup key: { email: ... }" cut off) */
	trib_mongosink_server_msg(err->code, err->message, msg, sizeof(msg));
	snprintf(s->failmsg, sizeof(s->failmsg), "mongodb sink %s: %s%s%scode %u: %s",
			 s->sink_name, t->coll[0] ? "collection " : "", t->coll[0] ? t->coll : "",
			 t->coll[0] ? ": " : "", err->code, msg);
	snprintf(errbuf, errlen, "%s", s->failmsg);
	return false;
}

/* Apply the queued operations of the first batch_size events; ack. */
static bool
apply_once(trib_sink *sink, mgs_sink *s, char *errbuf, size_t errlen)
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
		ok = run_writes(&t, NULL, &err) && mgs_position_write(s, NULL, &s->q[t.n - 1].pos, &err, NULL);
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

		mgs_count(s, MGS_REPLAYS);
		mgs_set_durable(s, &t.stored);
		while (keep < s->nq && mgs_pos_le(&s->q[keep].pos, &s->durable))
			keep++;
		mgs_queue_drop(s, keep);
	}
	else
	{
		trib_position last = s->q[t.n - 1].pos;

		last.opaque = trib_xstrdup(last.opaque);
		mgs_set_durable(s, &last);
		mgs_queue_drop(s, t.n);
		mgs_count(s, MGS_BATCHES);
	}
	free(t.stored.opaque);
	if (sink->ack)
		sink->ack(sink, &s->durable, sink->ack_arg);
	return true;
}

/* See sink_mongodb_int.h. */
bool
mgs_apply(trib_sink *sink, mgs_sink *s, char *errbuf, size_t errlen)
{
	if (s->failed)
	{
		snprintf(errbuf, errlen, "%s", s->failmsg);
		return false;
	}
	while (s->nq > 0)
	{
		int64_t		t0 = trib_clock_mono_ms();

		if (!apply_once(sink, s, errbuf, errlen))
			return false;
		mgs_observe_batch(s, (double) (trib_clock_mono_ms() - t0) / 1000.0);
	}
	s->nevents = 0;
	return true;
}

