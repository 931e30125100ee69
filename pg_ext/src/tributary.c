/*-------------------------------------------------------------------------
 *
 * tributary.c
 *		Callbacks of the tributary logical decoding output plugin.
 *
 * This file owns the order of events in a decoding session: which record is
 * written when, the sequence number of every change, and resume-after
 * suppression.  The shape of records lives in records.c, values in values.c.
 *
 * Sessions.  startup parses the options (options.c), creates the plugin
 * state with one memory context that is reset after every change, and the
 * relation cache.  shutdown deletes both.
 *
 * Transactions.  Per-transaction state (TribTxn) hangs off
 * txn->output_plugin_private; it holds the rendered position tags, the next
 * sequence number and the suppression verdict.  The state of the last
 * transaction is kept for the next one rather than freed (txn_new and
 * txn_free), since transactions mostly come one after the other.  Sequence
 * numbers count every change PostgreSQL hands us for the transaction,
 * whether or not a filter drops it, so an event id (commit_lsn, seq) does
 * not depend on the options a client passed and stays valid for the life
 * of the slot.
 *
 * Deduplication.  resume-after=L[:S] suppresses, inside the walsender,
 * every change whose id is <= (L, S): whole transactions committed before L,
 * and the first S+1 changes of the transaction committed at L (all of it
 * when S is omitted).  A consumer that passes its own durable checkpoint
 * therefore receives no duplicate even when the slot's confirmed position
 * lags behind it, e.g. after a crash.
 *
 * Streaming (stream=true) writes changes of large in-progress transactions
 * between stream_start and stream_stop records, before their commit.  Their
 * "seq" follows the same numbering as a non-streamed transaction: changes of
 * an aborted subtransaction are always the most recent ones when its
 * stream_abort arrives, so the counter is wound back by their number.
 * Ids become final at stream_commit, which also says which changes a
 * resume-after point covers ("discard", "discard_through_seq").  Each block
 * after the first starts with a reset of the catalog caches, so that it
 * sees its transaction's own catalog changes even when another transaction
 * was decoded in between (trib_stream_start).
 *
 * The DDL log.  Rows of the extension's tributary.ddl_events (ddl.c) are
 * not changes: they take no sequence number, are never written as row
 * changes or in a truncate record, and with include-ddl each inserted row
 * becomes a "ddl" record at its position, carrying the seq of the next
 * change.  Like a relation record it describes what follows; a
 * resume-after point suppresses it only once the change after it is
 * covered, so a consumer may see a DDL record twice, never miss one.
 *
 * Two-phase (two-phase=true) decodes a prepared transaction at PREPARE:
 * begin_prepare, changes, prepare, and later commit_prepared or
 * rollback_prepared.  Its changes' "commit_lsn" is the PREPARE's LSN, which
 * is just as unique and ordered.
 *
 *-------------------------------------------------------------------------
 */
#include "tributary.h"

#include "access/xact.h"
#include "replication/origin.h"
#include "utils/inval.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

extern void _PG_init(void);
extern PGDLLEXPORT void _PG_output_plugin_init(OutputPluginCallbacks *cb);

/* Report progress to the walsender at least every this many skipped changes. */
#define PROGRESS_EVERY 100

/* Plugin state of one decoding session. */
typedef struct TribState
{
	TribOptions opts;
	MemoryContext change_cxt;	/* reset after every change */
	int			skipped;		/* changes since the last progress report */
	bool		batch_open;		/* ctx->out holds records not yet written */
	int			batch_start;	/* where those records start in ctx->out */
	StringInfoData carry;		/* batch_retag()'s second output buffer */
	struct TribTxn *spare_txn;	/* a freed transaction state, for the next */
} TribState;

/* Number of changes a subtransaction contributed while streaming. */
typedef struct TribSubxCount
{
	TransactionId xid;
	int64		count;
} TribSubxCount;

/* Per-transaction state, in txn->output_plugin_private. */
typedef struct TribTxn
{
	TribTxnHeader hdr;
	int64		next_seq;		/* seq of the next change */
	int64		suppress_through;	/* changes with seq <= this are dropped */
	bool		suppress_all;	/* the whole transaction is covered */
	bool		begin_written;
	bool		streamed;		/* seen in stream_start */
	/* streaming only: per-subtransaction change counts */
	TribSubxCount *subx;
	int			nsubx;
	int			maxsubx;
} TribTxn;

void
_PG_init(void)
{
	/* Nothing to set up: the plugin is entered via _PG_output_plugin_init. */
}

/* ---- helpers ---- */

/* Is event (lsn, seq) at or before the client's resume-after point? */
static inline bool
covered(const TribOptions *o, XLogRecPtr lsn, int64 seq)
{
	if (XLogRecPtrIsInvalid(o->resume_lsn))
		return false;
	return lsn < o->resume_lsn ||
		(lsn == o->resume_lsn && seq <= o->resume_seq);
}

/*
 * Create the state of txn, zeroed: the spare one left by txn_free when
 * there is one (transactions mostly come one after the other), or a new
 * one in the decoding context.
 */
static TribTxn *
txn_new(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t = st->spare_txn;

	if (t != NULL)
	{
		st->spare_txn = NULL;
		memset(t, 0, sizeof(TribTxn));
	}
	else
		t = MemoryContextAllocZero(ctx->context, sizeof(TribTxn));
	t->suppress_through = -1;
	txn->output_plugin_private = t;
	return t;
}

/* Free the state of txn, if any: keep it as the spare if there is none. */
static void
txn_free(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t = txn->output_plugin_private;

	if (t == NULL)
		return;
	if (t->subx)
		pfree(t->subx);
	if (st->spare_txn == NULL)
		st->spare_txn = t;
	else
		pfree(t);
	txn->output_plugin_private = NULL;
}

/* Decide what resume-after suppresses of the transaction at txn_lsn. */
static void
txn_set_suppression(TribTxn *t, const TribOptions *o, XLogRecPtr txn_lsn)
{
	if (XLogRecPtrIsInvalid(o->resume_lsn) || txn_lsn > o->resume_lsn)
		return;
	if (txn_lsn < o->resume_lsn || o->resume_seq == PG_INT64_MAX)
		t->suppress_all = true;
	else
		t->suppress_through = o->resume_seq;
}

/* Keep the walsender's keepalives and feedback flowing while we skip. */
static void
note_skipped(LogicalDecodingContext *ctx, TribState *st)
{
	if (++st->skipped >= PROGRESS_EVERY)
	{
		st->skipped = 0;
		OutputPluginUpdateProgress(ctx, false);
	}
}

/*
 * Records and messages.  Every record is appended to ctx->out between
 * rec_open() and rec_close().  With batch-bytes > 0 (the default in a
 * walsender) several complete records share one CopyData message, one per
 * line, until the message reaches batch-bytes or the callback sequence ends
 * (commit, prepare, stream stop/commit/abort, a non-transactional message):
 * batch_flush() then sends it.  This saves a send() per change, the largest
 * cost of a walsender after decoding itself, and changes no byte of what
 * pg_recvlogical writes.  Record positions are in the records; the
 * XLogData header carries the position of the first record of a message,
 * or of the record that closes it (batch_retag()).
 */
static void
rec_open(LogicalDecodingContext *ctx)
{
	TribState  *st = ctx->output_plugin_private;

	if (st->batch_open)
		appendStringInfoCharMacro(ctx->out, '\n');
	else
	{
		OutputPluginPrepareWrite(ctx, true);
		st->batch_open = true;
		st->batch_start = ctx->out->len;
	}
}

/*
 * Move the pending records into a message prepared anew, so that it takes
 * the position of the record about to close it (ctx->write_location, e.g.
 * a commit's end).  OutputPluginPrepareWrite() resets ctx->out and writes
 * the new header (in a walsender, where the position is written at once),
 * so ctx->out first trades buffers with st->carry (both are allocated in
 * ctx->context) and the records are copied back once.  At most about
 * batch-bytes copied per closing record, instead of a message (a send()) of
 * its own: for a single-row transaction that halves the messages.
 */
static void
batch_retag(LogicalDecodingContext *ctx)
{
	TribState  *st = ctx->output_plugin_private;
	StringInfoData pending = *ctx->out;

	*ctx->out = st->carry;
	st->carry = pending;
	OutputPluginPrepareWrite(ctx, true);
	trib_append(ctx->out, pending.data + st->batch_start,
				pending.len - st->batch_start);
	st->batch_start = ctx->out->len - (pending.len - st->batch_start);
}

/* Send the pending message, if any. */
static void
batch_flush(LogicalDecodingContext *ctx)
{
	TribState  *st = ctx->output_plugin_private;

	if (!st->batch_open)
		return;
	st->batch_open = false;
	OutputPluginWrite(ctx, true);
}

/* End a record; send the message once it is big enough. */
static void
rec_close(LogicalDecodingContext *ctx)
{
	TribState  *st = ctx->output_plugin_private;

	if (ctx->out->len >= st->opts.batch_bytes)
		batch_flush(ctx);
}

/*
 * Open a small control record: {"kind":"<kind>",<tags>; the caller appends
 * its fields to ctx->out and ends it with simple_close().  Begin and commit
 * records are written once per transaction, so they avoid format strings.
 */
static void
simple_open(LogicalDecodingContext *ctx, const char *kind,
			const TribTxnHeader *h)
{
	rec_open(ctx);
	TRIB_APPEND_LIT(ctx->out, "{\"kind\":\"");
	trib_append(ctx->out, kind, strlen(kind));
	TRIB_APPEND_LIT(ctx->out, "\",");
	trib_append(ctx->out, h->buf, h->len);
}

/* End a record opened by simple_open(). */
static void
simple_close(LogicalDecodingContext *ctx)
{
	appendStringInfoCharMacro(ctx->out, '}');
	rec_close(ctx);
}

/* Write a small control record: kind, tags and preformatted extra fields. */
static void
write_simple(LogicalDecodingContext *ctx, const char *kind,
			 const TribTxnHeader *h, const char *extra)
{
	simple_open(ctx, kind, h);
	if (extra)
		appendStringInfoString(ctx->out, extra);
	simple_close(ctx);
}

/*
 * Open a record that closes a callback sequence (commit, prepare, stream
 * stop/commit/abort, commit/rollback prepared) as the last record of a
 * message.  The message is tagged with this record's position (for a
 * commit, the end of the commit record), so pg_recvlogical's -E and its
 * feedback see the same positions as with one record per message: the
 * records before it that are still pending (the same sequence's: begin,
 * relation, changes) are retagged and travel with it, in one message, one
 * send.  closing_close() ends the record and sends the message.
 */
static void
closing_open(LogicalDecodingContext *ctx, const char *kind,
			 const TribTxnHeader *h)
{
	TribState  *st = ctx->output_plugin_private;

	if (st->batch_open)
		batch_retag(ctx);
	simple_open(ctx, kind, h);
}

/* End a record opened by closing_open() and send its message. */
static void
closing_close(LogicalDecodingContext *ctx)
{
	simple_close(ctx);
	batch_flush(ctx);
}

/* A closing record with preformatted extra fields (see closing_open). */
static void
write_closing(LogicalDecodingContext *ctx, const char *kind,
			  const TribTxnHeader *h, const char *extra)
{
	closing_open(ctx, kind, h);
	if (extra)
		appendStringInfoString(ctx->out, extra);
	closing_close(ctx);
}

/* ,"gid":"..." for two-phase records, into buf. */
static void
append_gid(StringInfo buf, const char *gid)
{
	appendStringInfoString(buf, ",\"gid\":");
	trib_json_string(buf, gid, strlen(gid));
}

/* Write the begin (or begin_prepare) record unless already written. */
static void
ensure_begin(LogicalDecodingContext *ctx, TribState *st, ReorderBufferTXN *txn,
			 TribTxn *t)
{
	if (t->begin_written || t->streamed)
		return;
	t->begin_written = true;
	if (!st->opts.include_transaction)
		return;
	if (rbtxn_prepared(txn))
	{
		simple_open(ctx, "begin_prepare", &t->hdr);
		append_gid(ctx->out, txn->gid);
		simple_close(ctx);
	}
	else
		write_simple(ctx, "begin", &t->hdr, NULL);
}

/* Write a relation record first if the client has not seen this schema. */
static void
ensure_relation(LogicalDecodingContext *ctx, TribRelEntry *e,
				const TribTxnHeader *h, XLogRecPtr lsn)
{
	if (!trib_relcache_take_unsent(e))
		return;
	rec_open(ctx);
	trib_write_relation(ctx->out, e, h, lsn);
	rec_close(ctx);
}

/* Streaming: count a change against its subtransaction. */
static void
subx_count(TribTxn *t, TransactionId xid)
{
	int			i;

	for (i = t->nsubx - 1; i >= 0; i--)
		if (t->subx[i].xid == xid)
		{
			t->subx[i].count++;
			return;
		}
	if (t->nsubx == t->maxsubx)
	{
		t->maxsubx = t->maxsubx ? t->maxsubx * 2 : 8;
		t->subx = t->subx ?
			repalloc(t->subx, t->maxsubx * sizeof(TribSubxCount)) :
			MemoryContextAlloc(GetMemoryChunkContext(t),
							   t->maxsubx * sizeof(TribSubxCount));
	}
	t->subx[t->nsubx].xid = xid;
	t->subx[t->nsubx].count = 1;
	t->nsubx++;
}

/* ---- startup and shutdown ---- */

static void
trib_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
			 bool is_init)
{
	TribState  *st = MemoryContextAllocZero(ctx->context, sizeof(TribState));
	MemoryContext old = MemoryContextSwitchTo(ctx->context);

	trib_options_parse(&st->opts, ctx->output_plugin_options);
	MemoryContextSwitchTo(old);

	old = MemoryContextSwitchTo(ctx->context);
	initStringInfo(&st->carry);
	MemoryContextSwitchTo(old);
	st->change_cxt = AllocSetContextCreate(ctx->context,
										   "tributary change",
										   ALLOCSET_DEFAULT_SIZES);
	ctx->output_plugin_private = st;
	opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;

	/* Each feature is used only when both the client and the slot allow it. */
	ctx->streaming &= st->opts.stream;
	ctx->twophase &= st->opts.two_phase;
	/* Like pgoutput's two_phase: asking for it enables it on the slot. */
	if (st->opts.two_phase)
		ctx->twophase_opt_given = true;

	trib_jsonout_init();
	trib_relcache_init(ctx->context);
}

static void
trib_shutdown(LogicalDecodingContext *ctx)
{
	TribState  *st = ctx->output_plugin_private;

	trib_relcache_destroy();
	if (st)
		MemoryContextDelete(st->change_cxt);
}

/* ---- transactions ---- */

static void
trib_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t = txn_new(ctx, txn);

	trib_txn_header_set(&t->hdr, txn->xid, txn->final_lsn,
						TRIB_TXN_COMMIT_TIME(txn));
	txn_set_suppression(t, &st->opts, txn->final_lsn);
	if (!st->opts.skip_empty_xacts && !t->suppress_all)
		ensure_begin(ctx, st, txn, t);
}

/* Append the extra fields of a commit or prepare record. */
static void
append_end_fields(StringInfo out, ReorderBufferTXN *txn, int64 changes)
{
	TRIB_APPEND_LIT(out, ",\"end_lsn\":");
	trib_json_lsn(out, txn->end_lsn);
	TRIB_APPEND_LIT(out, ",\"changes\":");
	trib_json_int64(out, changes);
	if (txn->gid)
		append_gid(out, txn->gid);
}

/* Common end of commit and prepare: write `kind` if begin was written. */
static void
finish_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
		   const char *kind)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t = txn->output_plugin_private;

	bool		skipped = !t->begin_written;

	if (t->begin_written && st->opts.include_transaction)
	{
		closing_open(ctx, kind, &t->hdr);
		append_end_fields(ctx->out, txn, t->next_seq);
		closing_close(ctx);
	}
	batch_flush(ctx);
	OutputPluginUpdateProgress(ctx, skipped);
	txn_free(ctx, txn);
}

static void
trib_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			XLogRecPtr commit_lsn)
{
	finish_txn(ctx, txn, "commit");
}

/* ---- changes ---- */

/* Map a change action to its TRIB_ACT_* bit. */
static int
action_bit(ReorderBufferChangeType a)
{
	switch (a)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
			return TRIB_ACT_INSERT;
		case REORDER_BUFFER_CHANGE_UPDATE:
			return TRIB_ACT_UPDATE;
		case REORDER_BUFFER_CHANGE_DELETE:
			return TRIB_ACT_DELETE;
		default:
			return 0;
	}
}

/*
 * Take the next sequence number of the transaction and decide whether the
 * change is suppressed by resume-after.  Streamed changes are never
 * suppressed here: their commit is not known yet (see stream_commit).
 */
static bool
next_seq(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
		 ReorderBufferChange *change, TribTxn **tp, int64 *seq)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t = txn->output_plugin_private;

	*tp = t;
	*seq = t->next_seq++;
	if (t->streamed)
	{
		subx_count(t, change ? change->txn->xid : txn->xid);
		return true;
	}
	if (t->suppress_all || *seq <= t->suppress_through)
	{
		note_skipped(ctx, st);
		return false;
	}
	return true;
}

/* Refresh the streamed tags for the subtransaction of this change. */
static void
set_stream_tags(ReorderBufferTXN *txn, TribTxn *t, ReorderBufferChange *change)
{
	if (t->streamed)
		trib_txn_header_set_streamed(&t->hdr, txn->xid, change->txn->xid);
}

/*
 * A change of the DDL log: with include-ddl, an insert becomes a "ddl"
 * record; nothing else is written and no seq is taken (see the top).
 */
static void
ddl_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
		   TribRelEntry *e, ReorderBufferChange *change)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t = txn->output_plugin_private;
	MemoryContext old;

	if (!st->opts.include_ddl ||
		change->action != REORDER_BUFFER_CHANGE_INSERT ||
		change->data.tp.newtuple == NULL ||
		(!t->streamed &&
		 (t->suppress_all || t->next_seq <= t->suppress_through)))
	{
		note_skipped(ctx, st);
		return;
	}
	old = MemoryContextSwitchTo(st->change_cxt);
	ensure_begin(ctx, st, txn, t);
	set_stream_tags(txn, t, change);
	rec_open(ctx);
	trib_write_ddl(ctx->out, e, &t->hdr, change->lsn, t->next_seq,
				   TRIB_CHANGE_TUPLE(change->data.tp.newtuple), &st->opts);
	rec_close(ctx);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->change_cxt);
}

static void
trib_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			Relation rel, ReorderBufferChange *change)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t;
	int64		seq;
	TribRelEntry *e;
	MemoryContext old;
	HeapTuple	oldtup = NULL;
	HeapTuple	newtup = NULL;

	/* The entry says once per relation whether it is the DDL log. */
	old = MemoryContextSwitchTo(st->change_cxt);
	e = trib_relcache_get(rel, &st->opts);
	MemoryContextSwitchTo(old);
	if (e->ddl_log)
	{
		ddl_change(ctx, txn, e, change);
		return;
	}
	if (!next_seq(ctx, txn, change, &t, &seq))
		return;
	if (!(st->opts.actions & action_bit(change->action)) || !e->selected)
	{
		MemoryContextReset(st->change_cxt);
		note_skipped(ctx, st);
		return;
	}

	old = MemoryContextSwitchTo(st->change_cxt);

	if (change->data.tp.oldtuple)
		oldtup = TRIB_CHANGE_TUPLE(change->data.tp.oldtuple);
	if (change->data.tp.newtuple)
		newtup = TRIB_CHANGE_TUPLE(change->data.tp.newtuple);

	ensure_begin(ctx, st, txn, t);
	set_stream_tags(txn, t, change);
	ensure_relation(ctx, e, &t->hdr, change->lsn);

	rec_open(ctx);
	trib_write_row_change(ctx->out, e, &t->hdr, change, seq, oldtup, newtup,
						  &st->opts);
	rec_close(ctx);

	MemoryContextSwitchTo(old);
	MemoryContextReset(st->change_cxt);
}

static void
trib_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			  int nrelations, Relation relations[],
			  ReorderBufferChange *change)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t;
	int64		seq;
	List	   *entries = NIL;
	MemoryContext old;
	int			i;
	int			nddl = 0;

	/* The DDL log is not a captured table: alone, it is no change at all. */
	for (i = 0; i < nrelations; i++)
		if (trib_is_ddl_log(relations[i]))
			nddl++;
	if (nddl == nrelations)
		return;
	if (!next_seq(ctx, txn, change, &t, &seq))
		return;
	if (!(st->opts.actions & TRIB_ACT_TRUNCATE))
	{
		note_skipped(ctx, st);
		return;
	}

	old = MemoryContextSwitchTo(st->change_cxt);
	for (i = 0; i < nrelations; i++)
	{
		TribRelEntry *e;
		ListCell   *lc;
		bool		dup = false;

		if (nddl > 0 && trib_is_ddl_log(relations[i]))
			continue;
		e = trib_relcache_get(relations[i], &st->opts);
		if (!e->selected)
			continue;
		/* Several partitions published via one root appear once. */
		foreach(lc, entries)
			if (((TribRelEntry *) lfirst(lc))->pub_relid == e->pub_relid)
				dup = true;
		if (!dup)
			entries = lappend(entries, e);
	}
	if (entries != NIL)
	{
		ensure_begin(ctx, st, txn, t);
		set_stream_tags(txn, t, change);
		rec_open(ctx);
		trib_write_truncate(ctx->out, &t->hdr, change->lsn, seq, entries,
							change->data.truncate.cascade,
							change->data.truncate.restart_seqs);
		rec_close(ctx);
	}
	else
		note_skipped(ctx, st);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->change_cxt);
}

/*
 * Logical messages.  A transactional message is a change of its
 * transaction.  A non-transactional one stands alone: its event id is
 * (its LSN - 1, 0) (see below), and it has no "ts".
 */
static void
trib_message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			 XLogRecPtr lsn, bool transactional, const char *prefix,
			 Size sz, const char *message)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t = NULL;
	TribTxnHeader solo;
	const TribTxnHeader *h;
	int64		seq = 0;
	MemoryContext old;

	if (transactional)
	{
		if (!next_seq(ctx, txn, NULL, &t, &seq))
			return;
		h = &t->hdr;
	}
	else
	{
		/*
		 * PostgreSQL reports the end of the message's WAL record as its LSN,
		 * which is where the next record starts: possibly the commit of a
		 * transaction, whose id (commit_lsn, 0) it would then share.  The
		 * message's id uses the last byte of its own record instead; no
		 * record can start there, so the id is unique, and it still sorts
		 * before everything decoded after the message.
		 */
		XLogRecPtr	id_lsn = lsn - 1;

		if (covered(&st->opts, id_lsn, 0))
			return;
		trib_txn_header_set(&solo, txn ? txn->xid : InvalidTransactionId,
							id_lsn, 0);
		h = &solo;
	}
	if (!(st->opts.actions & TRIB_ACT_MESSAGE) ||
		!trib_prefix_selected(&st->opts, prefix))
	{
		note_skipped(ctx, st);
		return;
	}

	old = MemoryContextSwitchTo(st->change_cxt);
	if (transactional)
	{
		ensure_begin(ctx, st, txn, t);
		if (t->streamed)
			trib_txn_header_set_streamed(&t->hdr, txn->xid, txn->xid);
	}
	rec_open(ctx);
	trib_write_message(ctx->out, h, lsn, seq, transactional, prefix,
					   message, sz);
	rec_close(ctx);
	/* A non-transactional message ends its own callback sequence. */
	if (!transactional)
		batch_flush(ctx);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->change_cxt);
}

/* origin=none drops changes that a replication origin replayed. */
static bool
trib_filter_by_origin(LogicalDecodingContext *ctx, RepOriginId origin_id)
{
	TribState  *st = ctx->output_plugin_private;

	return st->opts.origin_none && origin_id != InvalidRepOriginId;
}

/* ---- two-phase ---- */

/* Decode every prepared transaction at PREPARE time. */
static bool
trib_filter_prepare(LogicalDecodingContext *ctx, TransactionId xid,
					const char *gid)
{
	return false;
}

static void
trib_begin_prepare(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t = txn_new(ctx, txn);

	trib_txn_header_set(&t->hdr, txn->xid, txn->final_lsn,
						TRIB_TXN_PREPARE_TIME(txn));
	txn_set_suppression(t, &st->opts, txn->final_lsn);
	if (!st->opts.skip_empty_xacts && !t->suppress_all)
		ensure_begin(ctx, st, txn, t);
}

static void
trib_prepare(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			 XLogRecPtr prepare_lsn)
{
	finish_txn(ctx, txn, "prepare");
}

/* commit_prepared / rollback_prepared: one record, id (own LSN, 0). */
static void
write_prepared_end(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				   const char *kind, TimestampTz ts)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxnHeader h;
	StringInfoData extra;

	if (st->opts.include_transaction && !covered(&st->opts, txn->final_lsn, 0))
	{
		trib_txn_header_set(&h, txn->xid, txn->final_lsn, ts);
		initStringInfo(&extra);
		appendStringInfoString(&extra, ",\"end_lsn\":");
		trib_json_lsn(&extra, txn->end_lsn);
		append_gid(&extra, txn->gid);
		write_closing(ctx, kind, &h, extra.data);
		pfree(extra.data);
	}
	batch_flush(ctx);
	OutputPluginUpdateProgress(ctx, false);
}

static void
trib_commit_prepared(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					 XLogRecPtr commit_lsn)
{
	write_prepared_end(ctx, txn, "commit_prepared",
					   TRIB_TXN_COMMIT_TIME(txn));
	txn_free(ctx, txn);
}

static void
trib_rollback_prepared(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					   XLogRecPtr prepare_end_lsn, TimestampTz prepare_time)
{
	write_prepared_end(ctx, txn, "rollback_prepared",
					   TRIB_TXN_COMMIT_TIME(txn));
	txn_free(ctx, txn);
}

/* ---- streaming ---- */

/*
 * A block of a streamed transaction starts.  For every block after the
 * first, the catalog caches (PostgreSQL's and ours, through their
 * callbacks) are reset first: PostgreSQL applies the transaction's own
 * catalog changes (a renamed schema, an enum label) as it replays them,
 * then discards them from the caches at the end of each block, and a
 * transaction decoded between two blocks fills the caches again with the
 * committed catalogs; without the reset, the next block's changes would be
 * written with those names and labels instead of their transaction's.  It
 * costs one cache reload per block (logical_decoding_work_mem of changes).
 */
static void
trib_stream_start(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	TribTxn    *t = txn->output_plugin_private;
	TribTxnHeader h;
	bool		first = (t == NULL);

	if (first)
	{
		t = txn_new(ctx, txn);
		t->streamed = true;
	}
	else
		InvalidateSystemCaches();
	trib_txn_header_set_streamed(&h, txn->xid, InvalidTransactionId);
	write_simple(ctx, "stream_start", &h,
				 first ? ",\"first\":true" : ",\"first\":false");
}

static void
trib_stream_stop(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	TribTxnHeader h;

	trib_txn_header_set_streamed(&h, txn->xid, InvalidTransactionId);
	write_closing(ctx, "stream_stop", &h, NULL);
}

/*
 * A streamed (sub)transaction aborted.  For a subtransaction, its changes
 * are the most recent ones of the top-level transaction, so the sequence
 * counter goes back by their number and the next change reuses the ids,
 * exactly as if they had never been decoded.
 */
static void
trib_stream_abort(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				  XLogRecPtr abort_lsn)
{
	ReorderBufferTXN *top = TRIB_TOPTXN(txn);
	TribTxn    *t = top->output_plugin_private;
	TribTxnHeader h;
	StringInfoData extra;
	int			i;

	trib_txn_header_set_streamed(&h, top->xid, txn->xid);
	if (t && txn != top)
		for (i = 0; i < t->nsubx; i++)
			if (t->subx[i].xid == txn->xid)
			{
				t->next_seq -= t->subx[i].count;
				t->subx[i].count = 0;
			}
	initStringInfo(&extra);
	appendStringInfoString(&extra, ",\"lsn\":");
	trib_json_lsn(&extra, abort_lsn);
	if (t)
		appendStringInfo(&extra, ",\"next_seq\":" INT64_FORMAT, t->next_seq);
	write_closing(ctx, "stream_abort", &h, extra.data);
	pfree(extra.data);
	if (txn == top)
		txn_free(ctx, top);
}

/*
 * End of a streamed transaction (commit or prepare): the ids of its changes
 * are now (commit_lsn, seq).  A resume-after point that covers some of them
 * is reported, since they were sent before the commit was known.
 */
static void
finish_streamed(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				const char *kind, TimestampTz ts)
{
	TribState  *st = ctx->output_plugin_private;
	TribTxn    *t = txn->output_plugin_private;
	TribTxnHeader h;
	const TribOptions *o = &st->opts;

	trib_txn_header_set(&h, txn->xid, txn->final_lsn, ts);
	closing_open(ctx, kind, &h);
	append_end_fields(ctx->out, txn, t ? t->next_seq : 0);
	if (covered(o, txn->final_lsn, PG_INT64_MAX))
		TRIB_APPEND_LIT(ctx->out, ",\"discard\":true");
	else if (txn->final_lsn == o->resume_lsn)
	{
		TRIB_APPEND_LIT(ctx->out, ",\"discard_through_seq\":");
		trib_json_int64(ctx->out, o->resume_seq);
	}
	closing_close(ctx);
	OutputPluginUpdateProgress(ctx, false);
	txn_free(ctx, txn);
}

static void
trib_stream_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				   XLogRecPtr commit_lsn)
{
	finish_streamed(ctx, txn, "stream_commit", TRIB_TXN_COMMIT_TIME(txn));
}

static void
trib_stream_prepare(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					XLogRecPtr prepare_lsn)
{
	finish_streamed(ctx, txn, "stream_prepare", TRIB_TXN_PREPARE_TIME(txn));
}

/* ---- registration ---- */

void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	cb->startup_cb = trib_startup;
	cb->begin_cb = trib_begin;
	cb->change_cb = trib_change;
	cb->truncate_cb = trib_truncate;
	cb->commit_cb = trib_commit;
	cb->message_cb = trib_message;
	cb->filter_by_origin_cb = trib_filter_by_origin;
	cb->shutdown_cb = trib_shutdown;

	cb->filter_prepare_cb = trib_filter_prepare;
	cb->begin_prepare_cb = trib_begin_prepare;
	cb->prepare_cb = trib_prepare;
	cb->commit_prepared_cb = trib_commit_prepared;
	cb->rollback_prepared_cb = trib_rollback_prepared;

	cb->stream_start_cb = trib_stream_start;
	cb->stream_stop_cb = trib_stream_stop;
	cb->stream_abort_cb = trib_stream_abort;
	cb->stream_prepare_cb = trib_stream_prepare;
	cb->stream_commit_cb = trib_stream_commit;
	cb->stream_change_cb = trib_change;
	cb->stream_message_cb = trib_message;
	cb->stream_truncate_cb = trib_truncate;
}
