/*
 * kafka_txn.c: the Kafka sink's transactions (see sink_kafka.h for the
 * guarantees).
 *
 * librdkafka's transactional API does the protocol; this file decides
 * when.  A transaction begins with trib_kafka_begin() or the first write.
 * trib_kafka_commit() waits until every record of it is delivered, then
 * produces the checkpoint record (kafka_checkpoint.c) inside the same
 * transaction and commits: records and checkpoint become visible to
 * read_committed consumers together or not at all.  A transaction with a
 * failed record is aborted before it gets a checkpoint.  Only a
 * successful commit acks (the last position of the transaction);
 * delivery reports carry the transaction's number, so the records an
 * abort purges do not count against the next one.  A failed commit fails
 * the sink; trib_kafka_abort() aborts on purpose and leaves it usable.
 *
 * A snapshot's progress.  Before each flush of a snapshot the copy hands
 * in the progress that counts what it delivered (sink.h snapshot_mark:
 * kfk_snapshot_mark); the commit puts it in the checkpoint record when it
 * covers the transaction's last event (every event written is then one
 * the progress was computed after), so the progress and the rows it
 * counts commit together.  A transaction it does not cover gets none,
 * and the durable checkpoint then holds none either.
 */
#include "sink_kafka_int.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "xalloc.h"

/* How long a commit may take when the caller gave no timeout (the
 * pipeline's periodic flush): what the pipeline gave it before. */
#define KFK_TXN_COMMIT_MS 10000

/* The open transactional sink `what` (begin, abort) works on, or NULL
 * with errbuf filled. */
static trib_kafka *
txn_sink(trib_sink *sink, const char *what, char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;

	if (!kfk_is_open(k, errbuf, errlen))
		return NULL;
	if (!k->c->transactional)
	{
		kfk_err(k, errbuf, errlen, "kafka: %s: the sink is not transactional", what);
		return NULL;
	}
	return k;
}

/* Begin a Kafka transaction unless one is open. */
bool
trib_kafka_begin(trib_sink *sink, char *errbuf, size_t errlen)
{
	trib_kafka *k = txn_sink(sink, "begin", errbuf, errlen);
	rd_kafka_error_t *error;

	if (k == NULL)
		return false;
	if (k->failed)
		return kfk_failed_out(k, errbuf, errlen);
	if (k->in_txn)
		return true;
	error = rd_kafka_begin_transaction(k->rk);
	if (error)
	{
		kfk_error_out(k, error, "begin_transaction", errbuf, errlen);
		return false;
	}
	k->in_txn = true;
	k->txn_has_events = false;
	k->txn_gen++;
	k->txn_failed = false;
	return true;
}

/* Does the last snapshot progress handed in cover the open transaction
 * (its last event at or before the progress's `at`)? */
static bool
mark_covers(const trib_kafka *k)
{
	return k->mark_json != NULL && k->txn_last.commit_lsn == k->mark_at.commit_lsn &&
		k->txn_last.seq <= k->mark_at.seq;
}

/* The sink's snapshot_mark() (sink.h): keep the progress for the next
 * commit; whether the sink keeps such documents (transactional only). */
bool
kfk_snapshot_mark(trib_sink *sink, const trib_position *at, const trib_position *counted,
				  const char *json)
{
	trib_kafka *k = sink->state;

	if (k == NULL || !k->c->transactional)
		return false;
	if (json == NULL)
		return true;
	free(k->mark_json);
	k->mark_json = trib_xstrdup(json);
	memset(&k->mark_at, 0, sizeof(k->mark_at));
	k->mark_at.commit_lsn = at->commit_lsn;
	k->mark_at.seq = at->seq;
	memset(&k->mark_counted, 0, sizeof(k->mark_counted));
	k->mark_counted.commit_lsn = counted->commit_lsn;
	k->mark_counted.seq = counted->seq;
	return true;
}

/* Write the checkpoint record and commit the transaction. */
bool
trib_kafka_commit(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;
	rd_kafka_error_t *error;
	int64_t		deadline;

	/* a transaction is durable only once committed: the pipeline's
	 * "do not wait" (0, its periodic flush) still commits */
	if (timeout_ms <= 0 && k->c->transactional)
		timeout_ms = KFK_TXN_COMMIT_MS;
	deadline = trib_clock_mono_ms() + timeout_ms;

	if (!kfk_is_open(k, errbuf, errlen))
		return false;
	if (!k->c->transactional)
		return kfk_flush(sink, timeout_ms, errbuf, errlen);
	if (k->failed)
		return kfk_failed_out(k, errbuf, errlen);
	if (!k->in_txn)
		return true;

	if (k->txn_has_events)
	{
		size_t		vlen = 0;
		const char *snap = mark_covers(k) ? k->mark_json : NULL;
		char		verr[512] = "";
		char	   *val = kfk_checkpoint_value_snap(k->sink, &k->txn_last, k->env, snap,
													&k->mark_counted, &vlen, verr,
													sizeof(verr));
		char		id[TRIB_ENVELOPE_ID_LEN];
		size_t		id_len = trib_envelope_event_id(&k->txn_last, id, sizeof(id));

		int64_t		left = deadline - trib_clock_mono_ms();

		/*
		 * Records first, checkpoint last: a transaction with a failed
		 * record is aborted before it gets a checkpoint, so no reader,
		 * however it reads, finds a checkpoint for lost records.
		 */
		rd_kafka_flush(k->rk, left > 0 ? (int) left : 0);
		kfk_maybe_ack(k);
		if (k->txn_failed)
			kfk_fail(k, "kafka: transaction aborted, %s; restart from the "
				 "durable position", k->txn_err);
		else if (val == NULL)
			kfk_fail(k, "kafka: cannot write the checkpoint value: %s", verr);
		else
			kfk_produce(k, k->ckpt_rkt, k->ckpt_part, k->ckpt_key,
					strlen(k->ckpt_key), val, vlen, id, id_len, k->txn_gen);
		free(val);
		free(k->txn_snap);
		k->txn_snap = snap ? trib_xstrdup(snap) : NULL;
		k->txn_snap_counted = k->mark_counted;
		if (k->failed)
		{
			rd_kafka_error_t *ae = rd_kafka_abort_transaction(k->rk, timeout_ms);

			if (ae)
				rd_kafka_error_destroy(ae);
			k->in_txn = false;
			k->txn_events = 0;
			k->st.aborts++;
			return kfk_failed_out(k, errbuf, errlen);
		}
	}

	for (;;)
	{
		int64_t		left = deadline - trib_clock_mono_ms();

		error = rd_kafka_commit_transaction(k->rk, left > 0 ? (int) left : 0);
		rd_kafka_poll(k->rk, 0);
		if (error == NULL)
			break;
		if (rd_kafka_error_is_retriable(error) && deadline - trib_clock_mono_ms() > 0)
		{
			kfk_log(k, 4, "kafka: commit_transaction: %s; retrying",
				 rd_kafka_error_string(error));
			rd_kafka_error_destroy(error);
			continue;
		}
		if (rd_kafka_error_txn_requires_abort(error))
		{
			rd_kafka_error_t *ae = rd_kafka_abort_transaction(k->rk, timeout_ms);

			kfk_fail(k, "kafka: commit failed, transaction aborted: %s (%s); "
				 "restart from the durable position",
				 rd_kafka_error_string(error), rd_kafka_error_name(error));
			if (ae)
				rd_kafka_error_destroy(ae);
			k->st.aborts++;
		}
		else
			kfk_fail(k, "kafka: commit_transaction: %s (%s)%s",
				 rd_kafka_error_string(error), rd_kafka_error_name(error),
				 rd_kafka_error_is_fatal(error) ? ", fatal" : "");
		rd_kafka_error_destroy(error);
		k->in_txn = false;
		k->txn_events = 0;
		return kfk_failed_out(k, errbuf, errlen);
	}

	k->in_txn = false;
	k->txn_events = 0;
	k->st.commits++;
	if (k->txn_has_events)
	{
		kfk_pos_clear(&k->durable);
		k->durable = k->txn_last;	/* opaque moves */
		memset(&k->txn_last, 0, sizeof(k->txn_last));
		k->have_durable = true;
		free(k->durable_snap);
		k->durable_snap = k->txn_snap;	/* moves */
		k->durable_snap_counted = k->txn_snap_counted;
		k->txn_snap = NULL;
		k->txn_has_events = false;
		k->st.acks++;
		if (sink->ack)
			sink->ack(sink, &k->durable, sink->ack_arg);
	}
	return true;
}

/* Abort the open transaction on the caller's request. */
bool
trib_kafka_abort(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	trib_kafka *k = txn_sink(sink, "abort", errbuf, errlen);
	rd_kafka_error_t *error;

	if (k == NULL)
		return false;
	if (!k->in_txn)
		return true;
	error = rd_kafka_abort_transaction(k->rk, timeout_ms);
	rd_kafka_poll(k->rk, 0);
	k->in_txn = false;
	k->txn_has_events = false;
	k->txn_events = 0;
	kfk_pos_clear(&k->txn_last);
	if (error)
	{
		kfk_fail(k, "kafka: abort_transaction: %s (%s)",
			 rd_kafka_error_string(error), rd_kafka_error_name(error));
		rd_kafka_error_destroy(error);
		return kfk_failed_out(k, errbuf, errlen);
	}
	k->st.aborts++;
	return true;
}
