/*
 * kafka_checkpoint.c: the Kafka sink's checkpoint topic (transactional
 * mode; see sink_kafka.h for the guarantees).
 *
 * Each commit carries one small JSON record, keyed by the checkpoint key
 * (default: the transactional id), holding the position of the last event
 * of the transaction.  It goes to an explicitly computed murmur2 partition
 * of the compacted topic `__tributary_checkpoints`, so that the reader
 * knows where to look.  The topic is looked for among all topics first
 * (asking for it by name could make a broker with auto-creation create it
 * uncompacted) and created with CreateTopics when missing (the embedded
 * mock through its own API).  At start-up a read_committed consumer reads
 * the partition back, newest window first, widening backwards, and keeps
 * the last record with our key: durable_position().  In Debezium mode a
 * checkpoint inside a source transaction also holds that transaction's
 * counts for the transaction topic, given back to the envelope when the
 * position is read, so a restart does not BEGIN it twice: the envelope
 * writes and reads that part of the record (trib_envelope_tx_checkpoint*,
 * format/debezium_txmeta.c); this file only hands it the document.
 *
 * During a snapshot the record may also carry, in its "snapshot" member,
 * the copy's progress document that counts exactly the rows committed with
 * it (sink.h snapshot_mark; kafka_txn.c decides when it applies):
 *
 *   "snapshot":{"commit_lsn":"0/1A2B3C3","seq":1200,"progress":"{...}"}
 *
 * the progress as the text the checkpoint store keeps
 * (snapshot_progress.h), and the last event it counts.  It is read back
 * with the position and handed out by snapshot_saved(), so that a restart
 * after a kill between the commit and the checkpoint store's save resumes
 * the copy after these rows instead of sending them again.
 *
 * With checkpoint.encryption_key the record's "opaque" and the snapshot's
 * "progress" are sealed (sink_seal.h, bound to the pipeline and the sink)
 * when written, and opened when the last record is read: a resume token
 * or a row key never reaches the topic in clear.  The LSNs, seq and the
 * Debezium transaction's counts stay clear.  A record that does not open
 * stops the sink with an error naming the topic.
 */
#include "sink_kafka_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "clock.h"
#include "sink_seal.h"
#include "xalloc.h"

/* Partition count of a topic from a fresh metadata request; -1 if absent,
 * -2 on error.  With rkt NULL, asks for all topics, which never triggers
 * auto-creation (a request for one topic may). */
static int
topic_partitions(trib_kafka *k, rd_kafka_topic_t *rkt, char *errbuf, size_t errlen)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;
	int			cnt = -1;

	err = rd_kafka_metadata(k->rk, rkt == NULL, rkt, &md, k->t.timeout_ms);
	if (err)
	{
		kfk_err(k, errbuf, errlen, "kafka: metadata for %s: %s", k->ckpt_topic,
			 rd_kafka_err2str(err));
		return -2;
	}
	for (int i = 0; i < md->topic_cnt; i++)
		if (strcmp(md->topics[i].topic, k->ckpt_topic) == 0 &&
			md->topics[i].err == 0 && md->topics[i].partition_cnt > 0)
			cnt = md->topics[i].partition_cnt;
	rd_kafka_metadata_destroy(md);
	return cnt;
}

/* Try to create the checkpoint topic (1 partition, compacted). */
static void
create_checkpoint_topic(trib_kafka *k)
{
	char		err[256];
	rd_kafka_NewTopic_t *nt;
	rd_kafka_queue_t *q;
	rd_kafka_AdminOptions_t *ao;
	rd_kafka_event_t *ev;

	nt = rd_kafka_NewTopic_new(k->ckpt_topic, 1, -1, err, sizeof(err));
	if (nt == NULL)
		return;
	rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
	q = rd_kafka_queue_new(k->rk);
	ao = rd_kafka_AdminOptions_new(k->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_request_timeout(ao, k->t.timeout_ms, err, sizeof(err));
	rd_kafka_CreateTopics(k->rk, &nt, 1, ao, q);
	ev = rd_kafka_queue_poll(q, k->t.timeout_ms + 1000);
	if (ev)
	{
		const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
		size_t		cnt = 0;
		const rd_kafka_topic_result_t **tr =
			res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : NULL;

		if (rd_kafka_event_error(ev))
			kfk_log(k, 4, "kafka: cannot create %s (%s); relying on auto-creation",
				 k->ckpt_topic, rd_kafka_event_error_string(ev));
		else if (cnt == 1 && rd_kafka_topic_result_error(tr[0]) &&
				 rd_kafka_topic_result_error(tr[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
			kfk_log(k, 4, "kafka: cannot create %s (%s); relying on auto-creation",
				 k->ckpt_topic, rd_kafka_topic_result_error_string(tr[0]));
		else
			kfk_log(k, 6, "kafka: created checkpoint topic %s", k->ckpt_topic);
		rd_kafka_event_destroy(ev);
	}
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
}

/*
 * Find (or create) the checkpoint topic and our partition in it.  The
 * topic is looked for among all topics first: asking for it by name could
 * make a broker with auto.create.topics.enable create it uncompacted
 * before CreateTopics gets the chance.
 */
bool
kfk_setup_checkpoint(trib_kafka *k, char *errbuf, size_t errlen)
{
	int			cnt = topic_partitions(k, NULL, errbuf, errlen);

	if (cnt == -2)
		return false;
	if (cnt < 1 && k->mock)
	{
		/* embedded: the mock has no CreateTopics, but an API of its own */
		if (!trib_kafka_mock_create_topic(k->mock, k->ckpt_topic, 1, 1,
										  errbuf, errlen))
			return false;
	}
	else if (cnt < 1)
		create_checkpoint_topic(k);
	k->ckpt_rkt = rd_kafka_topic_new(k->rk, k->ckpt_topic, NULL);
	if (k->ckpt_rkt == NULL)
	{
		kfk_err(k, errbuf, errlen, "kafka: checkpoint topic %s: %s", k->ckpt_topic,
			 rd_kafka_err2str(rd_kafka_last_error()));
		return false;
	}
	/* a new topic takes a moment to show; auto-creation happens here */
	for (int i = 0; i < 50 && cnt < 1; i++)
	{
		cnt = topic_partitions(k, k->ckpt_rkt, errbuf, errlen);
		if (cnt == -2)
			return false;
		if (cnt < 1)
		{
			struct timespec ts = {0, 100 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
	}
	if (cnt < 1)
	{
		kfk_err(k, errbuf, errlen,
			 "kafka: checkpoint topic %s does not exist and cannot be created",
			 k->ckpt_topic);
		return false;
	}
	k->ckpt_part = rd_kafka_msg_partitioner_murmur2(k->ckpt_rkt, k->ckpt_key,
													strlen(k->ckpt_key),
													cnt, NULL, NULL);
	return true;
}

/* Write the "snapshot" member: snap, counting the events up to counted. */
static void
gen_snapshot(yajl_gen g, const char *snap, const trib_position *counted)
{
	char		num[32];

	yajl_gen_string(g, (const unsigned char *) "snapshot", 8);
	yajl_gen_map_open(g);
	trib_lsn_format(counted->commit_lsn, num, sizeof(num));
	yajl_gen_string(g, (const unsigned char *) "commit_lsn", 10);
	yajl_gen_string(g, (const unsigned char *) num, strlen(num));
	snprintf(num, sizeof(num), "%llu", (unsigned long long) counted->seq);
	yajl_gen_string(g, (const unsigned char *) "seq", 3);
	yajl_gen_number(g, num, strlen(num));
	yajl_gen_string(g, (const unsigned char *) "progress", 8);
	yajl_gen_string(g, (const unsigned char *) snap, strlen(snap));
	yajl_gen_map_close(g);
}

/* The store in words for messages. */
static const char *
store_words(const char *topic, char *buf, size_t len)
{
	snprintf(buf, len, "topic %s", topic);
	return buf;
}

/* See sink_kafka_int.h: the position as JSON (with what the envelope
 * keeps in a checkpoint: its open Debezium transaction, and a snapshot's
 * progress when snap is not NULL). */
char *
kfk_checkpoint_value_snap(const trib_sink *sealer, const trib_position *pos,
						  const trib_envelope *env, const char *snap,
						  const trib_position *counted, size_t *len,
						  char *errbuf, size_t errlen)
{
	char		id[TRIB_ENVELOPE_ID_LEN];
	yajl_gen	g;
	const unsigned char *out;
	size_t		outlen;
	char		lsn[32];
	char	   *buf = NULL;
	char	   *sealed_op = NULL,
			   *sealed_snap = NULL;
	const char *opaque = NULL;
	const trib_kafka *k = sealer->state;
	char		w[300];

	store_words(k != NULL && k->ckpt_topic ? k->ckpt_topic : "__tributary_checkpoints",
				w, sizeof(w));
	if (!trib_sink_seal(sealer, w, pos->opaque, &sealed_op, &opaque, errbuf, errlen) ||
		!trib_sink_seal(sealer, w, snap, &sealed_snap, &snap, errbuf, errlen))
	{
		free(sealed_op);
		return NULL;
	}
	g = yajl_gen_alloc(NULL);

	trib_envelope_event_id(pos, id, sizeof(id));
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *) "id", 2);
	yajl_gen_string(g, (const unsigned char *) id, strlen(id));
#define GEN_LSN(key, v) do { \
		trib_lsn_format((v), lsn, sizeof(lsn)); \
		yajl_gen_string(g, (const unsigned char *) key, strlen(key)); \
		yajl_gen_string(g, (const unsigned char *) lsn, strlen(lsn)); \
	} while (0)
	GEN_LSN("commit_lsn", pos->commit_lsn);
	snprintf(lsn, sizeof(lsn), "%llu", (unsigned long long) pos->seq);
	yajl_gen_string(g, (const unsigned char *) "seq", 3);
	yajl_gen_number(g, lsn, strlen(lsn));
	GEN_LSN("end_lsn", pos->end_lsn);
	GEN_LSN("lsn", pos->lsn);
#undef GEN_LSN
	yajl_gen_string(g, (const unsigned char *) "opaque", 6);
	if (opaque)
		yajl_gen_string(g, (const unsigned char *) opaque, strlen(opaque));
	else
		yajl_gen_null(g);
	if (env != NULL)
		trib_envelope_tx_checkpoint(env, g);
	if (snap != NULL)
		gen_snapshot(g, snap, counted);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &out, &outlen) == yajl_gen_status_ok &&
		(buf = malloc(outlen + 1)) != NULL)
	{
		memcpy(buf, out, outlen);
		buf[outlen] = '\0';
		*len = outlen;
	}
	else
		snprintf(errbuf, errlen, "cannot generate the record");
	yajl_gen_free(g);
	free(sealed_op);
	free(sealed_snap);
	return buf;
}

/* The "snapshot" member of a checkpoint record into *snap (malloc'd)
 * and *counted; *snap stays NULL when there is none or it is malformed. */
static void
parse_snapshot(yajl_val root, char **snap, trib_position *counted)
{
	static const char *cpath[] = {"snapshot", "commit_lsn", NULL};
	static const char *spath[] = {"snapshot", "seq", NULL};
	static const char *ppath[] = {"snapshot", "progress", NULL};
	yajl_val	c = yajl_tree_get(root, cpath, yajl_t_string);
	yajl_val	q = yajl_tree_get(root, spath, yajl_t_number);
	yajl_val	t = yajl_tree_get(root, ppath, yajl_t_string);

	*snap = NULL;
	memset(counted, 0, sizeof(*counted));
	if (c && q && t && YAJL_IS_INTEGER(q) && YAJL_GET_INTEGER(q) >= 0 &&
		trib_lsn_parse(YAJL_GET_STRING(c), &counted->commit_lsn))
	{
		counted->seq = (uint64_t) YAJL_GET_INTEGER(q);
		*snap = trib_xstrdup(YAJL_GET_STRING(t));
	}
}

/* See sink_kafka_int.h. */
bool
kfk_checkpoint_parse(const char *text, size_t len, trib_position *out, trib_envelope *env,
					 char **snap, trib_position *counted)
{
	char	   *s = malloc(len + 1);
	yajl_val	root;
	yajl_val	v;
	static const char *cpath[] = {"commit_lsn", NULL};
	static const char *spath[] = {"seq", NULL};
	static const char *epath[] = {"end_lsn", NULL};
	static const char *lpath[] = {"lsn", NULL};
	static const char *opath[] = {"opaque", NULL};
	bool		ok = false;

	if (s == NULL)
		return false;
	memcpy(s, text, len);
	s[len] = '\0';
	root = yajl_tree_parse(s, NULL, 0);
	free(s);
	if (root == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	v = yajl_tree_get(root, cpath, yajl_t_string);
	if (v && trib_lsn_parse(YAJL_GET_STRING(v), &out->commit_lsn))
	{
		v = yajl_tree_get(root, spath, yajl_t_number);
		if (v && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) >= 0)
		{
			out->seq = (uint64_t) YAJL_GET_INTEGER(v);
			ok = true;
		}
	}
	if (ok && (v = yajl_tree_get(root, epath, yajl_t_string)) != NULL)
		ok = trib_lsn_parse(YAJL_GET_STRING(v), &out->end_lsn);
	if (ok && (v = yajl_tree_get(root, lpath, yajl_t_string)) != NULL)
		ok = trib_lsn_parse(YAJL_GET_STRING(v), &out->lsn);
	if (ok && (v = yajl_tree_get(root, opath, yajl_t_string)) != NULL)
		out->opaque = trib_xstrdup(YAJL_GET_STRING(v));
	if (ok)
	{
		trib_envelope_tx_checkpoint_read(env, root);
		parse_snapshot(root, snap, counted);
	}
	yajl_tree_free(root);
	return ok;
}

/* Read [start, end) of our checkpoint partition; keep the last record with
 * our key.  Returns -1 on error, 0 when none, 1 when found. */
static int
read_window(trib_kafka *k, rd_kafka_t *rc, int64_t start, int64_t end,
			trib_position *out, char *errbuf, size_t errlen)
{
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_resp_err_t err;
	int64_t		deadline = trib_clock_mono_ms() + k->t.timeout_ms;
	int			found = 0;
	size_t		klen = strlen(k->ckpt_key);

	rd_kafka_topic_partition_list_add(parts, k->ckpt_topic, k->ckpt_part)->offset = start;
	err = rd_kafka_assign(rc, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	if (err)
	{
		kfk_err(k, errbuf, errlen, "kafka: checkpoint reader: assign: %s",
			 rd_kafka_err2str(err));
		return -1;
	}
	while (trib_clock_mono_ms() < deadline)
	{
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rc, 100);
		bool		stop = false;

		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			stop = true;
		else if (m->err)
		{
			kfk_err(k, errbuf, errlen, "kafka: checkpoint reader: %s",
				 rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			rd_kafka_assign(rc, NULL);
			return -1;
		}
		else
		{
			if (m->offset < end && m->key_len == klen &&
				memcmp(m->key, k->ckpt_key, klen) == 0 && m->payload)
			{
				trib_position p;
				trib_position counted;
				char	   *snap = NULL;

				if (kfk_checkpoint_parse(m->payload, m->len, &p, k->env, &snap, &counted))
				{
					kfk_pos_clear(out);
					*out = p;
					free(k->durable_snap);
					k->durable_snap = snap;
					k->durable_snap_counted = counted;
					found = 1;
				}
				else
					kfk_log(k, 4, "kafka: unreadable checkpoint at %s [%d] offset %lld",
						 k->ckpt_topic, (int) k->ckpt_part, (long long) m->offset);
			}
			if (m->offset >= end - 1)
				stop = true;
		}
		rd_kafka_message_destroy(m);
		if (stop)
		{
			rd_kafka_assign(rc, NULL);
			return found;
		}
	}
	rd_kafka_assign(rc, NULL);
	kfk_err(k, errbuf, errlen, "kafka: checkpoint reader: timed out reading %s [%d]",
		 k->ckpt_topic, (int) k->ckpt_part);
	return -1;
}

/* The last committed checkpoint: -1 error, 0 none, 1 found. */
static int
read_checkpoint(trib_kafka *k, trib_position *out, char *errbuf, size_t errlen)
{
	rd_kafka_conf_t *conf;
	rd_kafka_t *rc;
	char		err[512];
	int64_t		lo;
	int64_t		hi;
	int64_t		window = 16;
	int			rv = 0;
	rd_kafka_resp_err_t qerr;
	const char *bootstrap = k->mock ? trib_kafka_mock_bootstraps(k->mock)
		: k->c->bootstrap_servers;

	if ((conf = kfk_base_conf(k, bootstrap, errbuf, errlen)) == NULL)
		return -1;
	if (!kfk_user_conf(k, conf, errbuf, errlen) ||
		!kfk_conf_set(k, conf, "group.id", "tributary-checkpoint-reader", errbuf, errlen) ||
		!kfk_conf_set(k, conf, "isolation.level", "read_committed", errbuf, errlen) ||
		!kfk_conf_set(k, conf, "enable.auto.commit", "false", errbuf, errlen) ||
		!kfk_conf_set(k, conf, "enable.partition.eof", "true", errbuf, errlen) ||
		!kfk_conf_set(k, conf, "auto.offset.reset", "earliest", errbuf, errlen))
	{
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	rc = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (rc == NULL)
	{
		rd_kafka_conf_destroy(conf);
		kfk_err(k, errbuf, errlen, "kafka: checkpoint reader: %s", err);
		return -1;
	}
	rd_kafka_set_log_queue(rc, NULL);
	rd_kafka_poll_set_consumer(rc);

	qerr = rd_kafka_query_watermark_offsets(rc, k->ckpt_topic, k->ckpt_part,
											&lo, &hi, k->t.timeout_ms);
	if (qerr)
	{
		kfk_err(k, errbuf, errlen, "kafka: checkpoint watermarks of %s [%d]: %s",
			 k->ckpt_topic, (int) k->ckpt_part, rd_kafka_err2str(qerr));
		rv = -1;
	}
	/* newest window first; widen backwards until found or at the start */
	for (int64_t end = hi; rv == 0 && end > lo; window *= 8)
	{
		int64_t		start = end - window > lo ? end - window : lo;

		rv = read_window(k, rc, start, end, out, errbuf, errlen);
		end = start;
	}
	rd_kafka_consumer_close(rc);
	rd_kafka_destroy(rc);
	if (rv == 1)
	{
		char		w[300];

		store_words(k->ckpt_topic, w, sizeof(w));
		if (!trib_sink_unseal(k->sink, w, &out->opaque, errbuf, errlen) ||
			!trib_sink_unseal(k->sink, w, &k->durable_snap, errbuf, errlen))
			rv = -1;
	}
	return rv;
}

/* The last committed checkpoint (transactional mode only). */
bool
kfk_durable_position(trib_sink *sink, trib_position *out,
					   char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;
	int			rv;

	if (errlen)
		errbuf[0] = '\0';
	if (!kfk_is_open(k, errbuf, errlen))
		return false;
	if (!k->c->transactional)
		return false;			/* none: the pipeline's checkpoint store rules */
	if (!k->have_durable)
	{
		rv = read_checkpoint(k, &k->durable, errbuf, errlen);
		if (rv <= 0)
			return false;
		k->have_durable = true;
		/* a restart inside a Debezium-framed transaction continues it */
		if (!trib_envelope_tx_checkpoint_resume(k->env))
			kfk_log(k, 4, "kafka: unreadable Debezium transaction in the checkpoint; "
				 "its BEGIN is written again");
	}
	*out = k->durable;			/* opaque stays ours: valid until next call */
	return true;
}

/* The snapshot progress the last committed checkpoint holds (sink.h
 * snapshot_saved); NULL when it holds none. */
const char *
kfk_snapshot_saved(trib_sink *sink, trib_position *counted)
{
	trib_kafka *k = sink->state;

	if (k == NULL || !k->c->transactional || !k->have_durable || k->durable_snap == NULL)
		return NULL;
	*counted = k->durable_snap_counted;
	return k->durable_snap;
}
