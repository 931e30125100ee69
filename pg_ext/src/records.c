/*-------------------------------------------------------------------------
 *
 * records.c
 *		The shape of every record the tributary plugin writes.
 *
 * Each function appends exactly one JSON object to `out` (ctx->out between
 * OutputPluginPrepareWrite and OutputPluginWrite).  Field order is fixed:
 * "kind" first, then the position tags, then the payload, so that a reader
 * can dispatch on the first key and a human can scan a stream.
 *
 * Position tags of a row change, docs/PLUGIN.md has the full table:
 *	"xid"		 top-level transaction id
 *	"commit_lsn" LSN of the transaction's commit (PREPARE with two-phase)
 *	"ts"		 commit (or prepare) timestamp, ISO 8601 UTC
 *	"lsn"		 the change's own LSN
 *	"seq"		 0-based number of the change within its transaction
 * The event id is (commit_lsn, seq).
 *
 * The per-transaction part of the tags is rendered once, at begin, by
 * trib_txn_header_set(), and copied into every change of the transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "tributary.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

/* Copy a string literal to p and step past it. */
#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

/*
 * Render the position tags shared by all records of a transaction.
 * Written byte by byte rather than with sprintf: this runs once per
 * transaction, and for single-row transactions formatting was a visible
 * share of the walsender's work.
 */
void
trib_txn_header_set(TribTxnHeader *h, TransactionId xid,
					XLogRecPtr commit_lsn, TimestampTz ts)
{
	char	   *p = h->buf;

	PUT_LIT(p, "\"xid\":");
	p += pg_ultoa_n(xid, p);
	PUT_LIT(p, ",\"commit_lsn\":\"");
	p += trib_format_lsn(p, commit_lsn);
	*p++ = '"';
	if (ts != 0)
	{
		PUT_LIT(p, ",\"ts\":\"");
		p += trib_format_timestamp(p, ts, true);
		*p++ = '"';
	}
	*p = '\0';
	h->len = p - h->buf;
}

/*
 * Tags of a change streamed before its commit: only the transaction ids
 * are known; the commit LSN arrives with stream_commit.
 */
void
trib_txn_header_set_streamed(TribTxnHeader *h, TransactionId xid,
							 TransactionId subxid)
{
	char	   *p = h->buf;

	PUT_LIT(p, "\"xid\":");
	p += pg_ultoa_n(xid, p);
	if (TransactionIdIsValid(subxid) && subxid != xid)
	{
		PUT_LIT(p, ",\"subxid\":");
		p += pg_ultoa_n(subxid, p);
	}
	*p = '\0';
	h->len = p - h->buf;
}

/* Append {"kind":"<kind>",<tags> */
static inline void
open_record(StringInfo out, const char *kind_json, int kind_len,
			const TribTxnHeader *h)
{
	trib_append(out, kind_json, kind_len);
	trib_append(out, h->buf, h->len);
}

/* Append ,"lsn":"X/Y","seq":N */
static inline void
append_lsn_seq(StringInfo out, XLogRecPtr lsn, int64 seq)
{
	trib_append(out, ",\"lsn\":", 7);
	trib_json_lsn(out, lsn);
	trib_append(out, ",\"seq\":", 7);
	trib_json_int64(out, seq);
}

#define KIND(s) s, sizeof(s) - 1

/* The relation (schema) record; see render_relation_body(). */
void
trib_write_relation(StringInfo out, TribRelEntry *e, const TribTxnHeader *h,
					XLogRecPtr lsn)
{
	open_record(out, KIND("{\"kind\":\"relation\","), h);
	trib_append(out, ",\"lsn\":", 7);
	trib_json_lsn(out, lsn);
	trib_append(out, e->rel_record, e->rel_record_len);
}

/*
 * Add column c to the JSON null list jn (a JSON array being built; data
 * NULL until its first entry): its name, or for an array column
 * ["name",i,...] where elems holds ",i,..." (the elements' positions).
 */
static void
note_json_null(StringInfo jn, const TribColumn *c, StringInfo elems)
{
	if (jn->data == NULL)
	{
		initStringInfo(jn);
		appendStringInfoCharMacro(jn, '[');
	}
	else
		appendStringInfoCharMacro(jn, ',');
	if (elems)
		appendStringInfoCharMacro(jn, '[');
	trib_json_string(jn, c->name, strlen(c->name));
	if (elems)
	{
		trib_append(jn, elems->data, elems->len);
		appendStringInfoCharMacro(jn, ']');
	}
}

/*
 * Append the non-null value of a json, jsonb or json-array column and note
 * in jn whether it is (or, for an array, which elements are) JSON null.
 */
static void
append_json_column(StringInfo out, const TribColumn *c, Datum value,
				   StringInfo jn, const TribOptions *opts)
{
	int			start = out->len;
	StringInfoData elems;

	if (c->json_kind == TRIB_JSON_SCALAR)
	{
		trib_value_append(out, value, c->type, opts);
		if (trib_json_text_is_null(out->data + start, out->len - start))
			note_json_null(jn, c, NULL);
		return;
	}
	initStringInfo(&elems);
	trib_json_array_append(out, value, c->type, opts, &elems);
	if (elems.len > 0)
		note_json_null(jn, c, &elems);
	pfree(elems.data);
}

/*
 * Append the columns of a deformed tuple as a JSON object.  only_identity
 * restricts it to replica identity columns (the old key of DEFAULT/INDEX).
 * Unchanged TOAST values (still on disk, not in WAL) are left out of the
 * object and their names collected into *toast (a JSON array being built).
 * json/jsonb values that are JSON null are listed in *jn (note_json_null).
 */
static void
append_tuple(StringInfo out, TribRelEntry *e, HeapTuple tup,
			 bool only_identity, StringInfo toast, StringInfo jn,
			 const TribOptions *opts)
{
	int			i;
	bool		first = true;

	if (e->map)
		tup = execute_attr_map_tuple(tup, e->map);
	heap_deform_tuple(tup, e->pub_desc, e->values, e->nulls);

	appendStringInfoCharMacro(out, '{');
	for (i = 0; i < e->ncols; i++)
	{
		TribColumn *c = &e->cols[i];
		int			k = c->attnum - 1;

		if (only_identity && !c->is_identity)
			continue;
		if (!e->nulls[k] && c->type->typlen == -1 &&
			VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(e->values[k])))
		{
			if (toast)
			{
				if (toast->len > 1)
					appendStringInfoCharMacro(toast, ',');
				trib_json_string(toast, c->name, strlen(c->name));
			}
			continue;
		}
		if (!first)
			appendStringInfoCharMacro(out, ',');
		first = false;
		trib_append(out, c->json_key, c->json_key_len);
		if (e->nulls[k])
			trib_append(out, "null", 4);
		else if (c->json_kind == TRIB_JSON_NONE)
			trib_value_append(out, e->values[k], c->type, opts);
		else
			append_json_column(out, c, e->values[k], jn, opts);
	}
	appendStringInfoCharMacro(out, '}');
}

/* Append ,"<key>":[...] when the JSON null list jn has entries. */
static void
append_json_nulls(StringInfo out, const char *key, int keylen, StringInfo jn)
{
	if (jn->data == NULL)
		return;
	appendStringInfoCharMacro(jn, ']');
	trib_append(out, key, keylen);
	trib_append(out, jn->data, jn->len);
}

/*
 * An insert, update or delete record.  After the images come the lists
 * that qualify them, each only when it has entries: unchanged_toast, and
 * json_nulls / old_json_nulls (the columns of "new" / "old" whose null is
 * the JSON literal null, not SQL NULL; docs/PLUGIN.md).
 */
void
trib_write_row_change(StringInfo out, TribRelEntry *e, const TribTxnHeader *h,
					  ReorderBufferChange *change, int64 seq,
					  HeapTuple oldtup, HeapTuple newtup,
					  const TribOptions *opts)
{
	StringInfoData toast;
	StringInfoData old_jn = {0};
	StringInfoData new_jn = {0};

	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
			open_record(out, KIND("{\"kind\":\"insert\","), h);
			break;
		case REORDER_BUFFER_CHANGE_UPDATE:
			open_record(out, KIND("{\"kind\":\"update\","), h);
			break;
		case REORDER_BUFFER_CHANGE_DELETE:
			open_record(out, KIND("{\"kind\":\"delete\","), h);
			break;
		default:
			elog(ERROR, "tributary: unexpected change action %d",
				 (int) change->action);
	}
	append_lsn_seq(out, change->lsn, seq);
	appendStringInfoCharMacro(out, ',');
	trib_append(out, e->rel_json, e->rel_json_len);

	if (change->action != REORDER_BUFFER_CHANGE_INSERT)
	{
		trib_append(out, ",\"old\":", 7);
		if (oldtup)
			append_tuple(out, e, oldtup,
						 e->replident != REPLICA_IDENTITY_FULL, NULL, &old_jn,
						 opts);
		else
			trib_append(out, "null", 4);
	}
	if (newtup)
	{
		initStringInfo(&toast);
		appendStringInfoCharMacro(&toast, '[');
		trib_append(out, ",\"new\":", 7);
		append_tuple(out, e, newtup, false, &toast, &new_jn, opts);
		if (toast.len > 1)
		{
			appendStringInfoCharMacro(&toast, ']');
			trib_append(out, ",\"unchanged_toast\":", 19);
			trib_append(out, toast.data, toast.len);
		}
	}
	append_json_nulls(out, KIND(",\"json_nulls\":"), &new_jn);
	append_json_nulls(out, KIND(",\"old_json_nulls\":"), &old_jn);
	appendStringInfoCharMacro(out, '}');
}

/* A truncate record; relentries are the selected TribRelEntry pointers. */
void
trib_write_truncate(StringInfo out, const TribTxnHeader *h, XLogRecPtr lsn,
					int64 seq, List *relentries, bool cascade,
					bool restart_seqs)
{
	ListCell   *lc;
	bool		first = true;

	open_record(out, KIND("{\"kind\":\"truncate\","), h);
	append_lsn_seq(out, lsn, seq);
	appendStringInfoString(out, ",\"relations\":[");
	foreach(lc, relentries)
	{
		TribRelEntry *e = lfirst(lc);

		if (!first)
			appendStringInfoCharMacro(out, ',');
		first = false;
		appendStringInfoCharMacro(out, '{');
		trib_append(out, e->rel_json, e->rel_json_len);
		appendStringInfoCharMacro(out, '}');
	}
	appendStringInfo(out, "],\"cascade\":%s,\"restart_identity\":%s}",
					 cascade ? "true" : "false",
					 restart_seqs ? "true" : "false");
}

/*
 * A DDL record: one row of the extension's DDL log (ddl.c), with the
 * position of the command and the seq the next change of the transaction
 * will take (the record itself takes none):
 * {"kind":"ddl",<tags>,"lsn":..,"next_seq":N,"ddl":{<the row's columns>}}
 */
void
trib_write_ddl(StringInfo out, TribRelEntry *e, const TribTxnHeader *h,
			   XLogRecPtr lsn, int64 next_seq, HeapTuple tup,
			   const TribOptions *opts)
{
	StringInfoData jn = {0};

	open_record(out, KIND("{\"kind\":\"ddl\","), h);
	trib_append(out, ",\"lsn\":", 7);
	trib_json_lsn(out, lsn);
	trib_append(out, ",\"next_seq\":", 12);
	trib_json_int64(out, next_seq);
	trib_append(out, ",\"ddl\":", 7);
	append_tuple(out, e, tup, false, NULL, &jn, opts);
	appendStringInfoCharMacro(out, '}');
}

/*
 * A logical message.  Content that is valid UTF-8 without NUL bytes is a
 * JSON string ("encoding":"utf8"); anything else is base64
 * ("encoding":"base64"), so binary payloads arrive byte for byte.
 */
void
trib_write_message(StringInfo out, const TribTxnHeader *h, XLogRecPtr lsn,
				   int64 seq, bool transactional, const char *prefix,
				   const char *content, Size size)
{
	bool		is_text;

	open_record(out, KIND("{\"kind\":\"message\","), h);
	append_lsn_seq(out, lsn, seq);
	appendStringInfo(out, ",\"transactional\":%s,\"prefix\":",
					 transactional ? "true" : "false");
	trib_json_string(out, prefix, strlen(prefix));
	is_text = pg_verify_mbstr(PG_UTF8, content, (int) size, true);
	if (is_text)
	{
		appendStringInfoString(out, ",\"encoding\":\"utf8\",\"content\":");
		trib_json_utf8_string(out, content, (int) size);
	}
	else
	{
		appendStringInfoString(out, ",\"encoding\":\"base64\",\"content\":");
		trib_json_base64(out, content, (int) size);
	}
	appendStringInfoCharMacro(out, '}');
}
