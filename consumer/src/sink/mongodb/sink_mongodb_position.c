/*
 * sink_mongodb_position.c: the MongoDB sink's stored position (see
 * sink_mongodb.h): one document per pipeline and sink in the positions
 * collection of the target database, {_id: {pipeline, sink}, commit_lsn,
 * seq, end_lsn, lsn, opaque, updated_at}, read and written inside the
 * batch's transaction when there is one.  With checkpoint.encryption_key
 * the opaque part is sealed where it is written and opened where it is read
 * (sink_seal.h); one that does not open is an error, never "no position".
 */
#include "sink_mongodb_int.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sink_seal.h"
#include "xalloc.h"

/* See sink_mongodb_int.h. */
bool
mgs_pos_le(const trib_position *a, const trib_position *b)
{
	if (a->commit_lsn != b->commit_lsn)
		return a->commit_lsn < b->commit_lsn;
	return a->seq <= b->seq;
}


/* {_id: {pipeline, sink}} */
static void
position_selector(const mgs_sink *s, bson_t *sel)
{
	bson_t		id;

	bson_init(sel);
	bson_append_document_begin(sel, "_id", 3, &id);
	BSON_APPEND_UTF8(&id, "pipeline", s->pipeline);
	BSON_APPEND_UTF8(&id, "sink", s->sink_name);
	bson_append_document_end(sel, &id);
}

/* The store in words for messages. */
static const char *
store_words(const mgs_sink *s, char *buf, size_t len)
{
	snprintf(buf, len, "collection %s.%s", s->dbname, s->poscoll);
	return buf;
}

/* The position document's fields for pos, its opaque part as `opaque`. */
static void
position_doc(const mgs_sink *s, const trib_position *pos, const char *opaque, bson_t *doc)
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
	if (opaque)
		BSON_APPEND_UTF8(doc, "opaque", opaque);
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
int
mgs_position_read(mgs_sink *s, mongoc_client_session_t *session, trib_position *pos,
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
		if (rc == 1)
		{
			char		w[512],
						e[sizeof(err->message)];

			if (!trib_sink_unseal(s->owner, store_words(s, w, sizeof(w)), &pos->opaque,
								  e, sizeof(e)))
			{
				bson_set_error(err, 0, 0, "%s", e);
				rc = -1;
			}
		}
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
bool
mgs_position_write(mgs_sink *s, mongoc_client_session_t *session, const trib_position *pos,
			   bson_error_t *err, bson_t **reply)
{
	mongoc_collection_t *c = mongoc_database_get_collection(s->db, s->poscoll);
	bson_t		sel,
				doc,
				r,
				opts = BSON_INITIALIZER;
	bool		ok = true;
	char	   *sealed;
	const char *opaque;
	char		w[512],
				e[sizeof(err->message)];

	if (!trib_sink_seal(s->owner, store_words(s, w, sizeof(w)), pos->opaque, &sealed, &opaque,
						e, sizeof(e)))
	{
		bson_set_error(err, 0, 0, "%s", e);
		mongoc_collection_destroy(c);
		return false;
	}
	position_selector(s, &sel);
	position_doc(s, pos, opaque, &doc);
	free(sealed);
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
void
mgs_set_durable(mgs_sink *s, trib_position *pos)
{
	free(s->durable.opaque);
	s->durable = *pos;
	pos->opaque = NULL;
	s->has_durable = true;
}

