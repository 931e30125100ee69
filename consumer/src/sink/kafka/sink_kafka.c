/*
 * sink_kafka.c: the Kafka sink's producer (see sink_kafka.h for the
 * guarantees, sink_kafka_int.h for the other files of the sink).
 *
 * Design.  One librdkafka producer per sink.  The hot path of write() is:
 * encode the event (envelope.c, into a reused buffer; value_format json_sr
 * and avro then frame or re-encode the value, kafka_wire.c), look the topic up in
 * a small hash of rd_kafka_topic_t handles (the last one found is compared
 * first), producev() each record with RD_KAFKA_MSG_F_COPY and the event id
 * header (its commit LSN's text kept while it repeats), and every 64 writes poll(0)
 * to serve delivery reports and ack when the low watermark moved (the
 * pipeline polls after each batch too).  F_COPY costs one allocation per
 * message, key and value inside it; handing librdkafka a buffer of ours
 * with F_FREE would cost the same allocation plus librdkafka's own.
 *
 * Acks, at-least-once mode.  Each written event is pushed on an ack
 * tracker (core/ack_tracker.h) with one pending record per message it
 * makes, and sealed once all are enqueued; a delivery report carries the
 * write number (+1) as its opaque and marks its record done
 * (kafka_client.c); the tracker's low watermark is what the sink acks.
 * The first failed delivery report fails the sink: nothing is acked after
 * it, and every later call returns the error.  In transactional mode
 * writes go into the open transaction instead (kafka_txn.c) and only a
 * commit acks.
 *
 * Waking the pipeline.  In at-least-once mode the sink gives the pipeline
 * a descriptor (wake_fd), a pipe written when librdkafka's main queue,
 * where delivery reports go, becomes non-empty (its event callback,
 * rd_kafka_queue_cb_event_enable, writes one byte unless one is pending,
 * so that poll() reads the pipe only when it holds something): the
 * pipeline watches it in its waits
 * while it waits for this sink's acks (pipeline/pipeline_wake.c) instead
 * of waking every millisecond (W3: the loop's timer wake-ups were most
 * of the daemon's CPU per transaction).  poll() drains it before it
 * serves the queue, so a report that comes after the drain writes
 * again.  Transactional mode acks at a commit, inside flush, which
 * the loop calls on its own clock: there is no event to wait for between
 * flushes, so no descriptor (the pipeline polls such a sink as before).
 *
 * Settings.  The sink reads its trib_kafka_conf (kafka_conf.h) where it
 * stands, borrowed for the sink's life, and builds the envelope's own
 * options from it once at open.
 */
#include "sink_kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "eventid.h"
#include "intern.h"
#include "sink_kafka_int.h"
#include "log.h"
#include "strbuf.h"
#include "u64text.h"
#include "xalloc.h"

/* Copy a position, duplicating its opaque text. */
void
kfk_pos_copy(trib_position *dst, const trib_position *src)
{
	*dst = *src;
	dst->opaque = trib_xstrdup(src->opaque);
}

/* Release what a position owns. */
void
kfk_pos_clear(trib_position *p)
{
	free(p->opaque);
	memset(p, 0, sizeof(*p));
}

static bool kafka_open(trib_sink *sink, const struct trib_plugin_conf *conf,
					   char *errbuf, size_t errlen);
static bool kafka_write(trib_sink *sink, const trib_event *ev,
						char *errbuf, size_t errlen);
static bool kafka_poll(trib_sink *sink, int timeout_ms,
					   char *errbuf, size_t errlen);
static void kafka_close(trib_sink *sink);
static int	kafka_wake_fd(trib_sink *sink);
static unsigned kafka_needs(const struct trib_plugin_conf *conf);

const trib_sink_ops trib_sink_kafka_ops = {
	.type = "kafka",
	.open = kafka_open,
	.durable_position = kfk_durable_position,
	.snapshot_mark = kfk_snapshot_mark,
	.snapshot_saved = kfk_snapshot_saved,
	.write = kafka_write,
	.flush = kfk_flush,
	.poll = kafka_poll,
	.wake_fd = kafka_wake_fd,
	.close = kafka_close,
	.check = kfk_check,
	.needs = kafka_needs,
};

/* The registration (declared in kafka_conf.h, beside the settings). */
const trib_plugin trib_sink_kafka = {
	.type = "kafka",
	.sink_ops = &trib_sink_kafka_ops,
	.section = &trib_kafka_conf_section,
	.conf_size = sizeof(trib_kafka_conf),
};

/* See kafka_conf.h. */
TRIB_PLUGIN_CONF_ACCESSOR(trib_kafka_conf_of, trib_kafka_conf, trib_sink_kafka)

/* sink.h: needs.  Debezium's MongoDB records tell an int64 from an int32
 * (format/debezium_mongo.c), which the relaxed JSON of the images cannot. */
static unsigned
kafka_needs(const struct trib_plugin_conf *conf)
{
	const trib_kafka_conf *kc = trib_kafka_conf_of(conf);

	return kc != NULL && kc->format == TRIB_RECORD_DEBEZIUM ? TRIB_NEED_INT64_TYPES : 0;
}

/* ------------------------------------------------------------------------
 * Start-up
 * ------------------------------------------------------------------------ */

/* librdkafka's syslog levels to the daemon's log; `arg` is the sink's
 * name. */
static void
kafka_tlog(void *arg, int level, const char *msg)
{
	const char *name = arg;

	if (level <= 3)
		tlog_error("kafka", "%s: %s", name, msg);
	else if (level == 4)
		tlog_warn("kafka", "%s: %s", name, msg);
	else if (level <= 6)
		tlog_info("kafka", "%s: %s", name, msg);
	else
		tlog_debug("kafka", "%s: %s", name, msg);
}

/* Check the settings and make the sink's state; nothing connects yet. */
static trib_kafka *
state_new(trib_sink *sink, const trib_kafka_conf *conf, const trib_kafka_tuning *tuning,
		  char *errbuf, size_t errlen)
{
	trib_kafka *k;

	if (conf->bootstrap_servers == NULL || *conf->bootstrap_servers == '\0')
	{
		kfk_err(NULL, errbuf, errlen, "kafka: bootstrap_servers is required");
		return NULL;
	}
	if (conf->transactional &&
		(conf->transactional_id == NULL || *conf->transactional_id == '\0'))
	{
		kfk_err(NULL, errbuf, errlen,
			 "kafka: transactional mode needs a transactional_id");
		return NULL;
	}
	k = trib_xcalloc(1, sizeof(*k));
	k->sink = sink;
	k->c = conf;
	if (tuning != NULL)
		k->t = *tuning;
	if (k->t.timeout_ms <= 0)
		k->t.timeout_ms = 30000;
	if (k->t.close_timeout_ms == 0)
		k->t.close_timeout_ms = 10000;
	else if (k->t.close_timeout_ms < 0)
		k->t.close_timeout_ms = 0;
	k->ckpt_topic = k->t.checkpoint_topic ? k->t.checkpoint_topic
		: TRIB_KAFKA_CHECKPOINT_TOPIC;
	k->ckpt_key = k->t.checkpoint_key ? k->t.checkpoint_key : conf->transactional_id;
	k->ckpt_part = -1;
	k->wake[0] = k->wake[1] = -1;
	return k;
}

/* Free everything k owns (the handles must be gone). */
static void
state_free(trib_kafka *k)
{
	kfk_pos_clear(&k->txn_last);
	kfk_pos_clear(&k->durable);
	free(k->mark_json);
	free(k->txn_snap);
	free(k->durable_snap);
	free(k);
}

/* "embedded" or "embedded:N": start the in-process cluster. */
static const char *
resolve_bootstrap(trib_kafka *k, char *errbuf, size_t errlen)
{
	const char *b = k->c->bootstrap_servers;
	int			brokers = 1;

	if (strncmp(b, "embedded", 8) != 0 || (b[8] != '\0' && b[8] != ':'))
		return b;
	if (b[8] == ':')
	{
		char	   *end;
		long		n = strtol(b + 9, &end, 10);

		if (*end != '\0' || n < 1 || n > 16)
		{
			kfk_err(k, errbuf, errlen,
				 "kafka: \"%s\": embedded takes 1 to 16 brokers", b);
			return NULL;
		}
		brokers = (int) n;
	}
	k->mock = trib_kafka_mock_start(brokers, errbuf, errlen);
	if (k->mock == NULL)
		return NULL;
	kfk_log(k, 6, "kafka: embedded cluster of %d broker(s) at %s", brokers,
		 trib_kafka_mock_bootstraps(k->mock));
	return trib_kafka_mock_bootstraps(k->mock);
}

/* A topic handle of the cache (trib_intern_each_value). */
static void
destroy_topic(void *rkt)
{
	rd_kafka_topic_destroy(rkt);
}

/* Destroy the handles and what hangs off them; the options stay. */
static void
release_handles(trib_kafka *k)
{
	trib_intern_each_value(k->topics, destroy_topic);
	trib_intern_free(k->topics);
	k->topics = NULL;
	k->last_rkt = NULL;
	if (k->ckpt_rkt)
		rd_kafka_topic_destroy(k->ckpt_rkt);
	k->ckpt_rkt = NULL;
	if (k->rk)
		rd_kafka_destroy(k->rk);
	k->rk = NULL;
	for (int i = 0; i < 2; i++)
		if (k->wake[i] >= 0)
			close(k->wake[i]);
	k->wake[0] = k->wake[1] = -1;
	trib_kafka_mock_stop(k->mock);
	k->mock = NULL;
	trib_envelope_free(k->env);
	k->env = NULL;
	kfk_wire_free(k->wire);
	k->wire = NULL;
	trib_ack_tracker_free(k->trk);
	k->trk = NULL;
}

/* The envelope's options, from the sink's settings. */
static void
envelope_opts(const trib_kafka_conf *c, trib_envelope_opts *eo)
{
	trib_envelope_opts_init(eo);
	if (c->topic_prefix != NULL)
		eo->topic_prefix = c->topic_prefix;
	eo->topic_pattern = c->topic_pattern;
	eo->message_topic = c->message_topic;
	if (c->unchanged_toast == TRIB_TOAST_OMIT)
		eo->unavailable_value = NULL;
	else if (c->unavailable_value != NULL)
		eo->unavailable_value = c->unavailable_value;
	eo->tombstones = c->tombstones;
	eo->transaction_metadata = c->transaction_metadata;
	if (c->format == TRIB_RECORD_DEBEZIUM)
		eo->debezium = &c->dbz;
}

/*
 * librdkafka's thread: its main queue became non-empty.  The pipe is
 * written only when no byte of ours is pending in it, so that the drain
 * can tell from wake_pending whether there is anything to read, without
 * a read(2) that fails on an empty pipe at every poll (W2).
 */
static void
wake_event(rd_kafka_t *rk, void *opaque)
{
	trib_kafka *k = opaque;

	(void) rk;
	if (!atomic_exchange(&k->wake_pending, true))
	{
		ssize_t		w = write(k->wake[1], "w", 1);

		(void) w;				/* a full pipe is a written one */
	}
}

/* Have librdkafka call wake_event when its main queue becomes non-empty;
 * without the pipe (out of descriptors) the pipeline polls as before. */
static void
wake_start(trib_kafka *k)
{
	rd_kafka_queue_t *q;

	if (pipe2(k->wake, O_NONBLOCK | O_CLOEXEC) != 0)
	{
		tlog_warn("kafka", "no wake-up pipe (%s): the pipeline polls for acks",
				  strerror(errno));
		k->wake[0] = k->wake[1] = -1;
		return;
	}
	atomic_store(&k->wake_pending, false);
	q = rd_kafka_queue_get_main(k->rk);
	rd_kafka_queue_cb_event_enable(q, wake_event, k);
	rd_kafka_queue_destroy(q);	/* the handle; the queue is rk's */
}

/*
 * Empty the wake-up pipe (before the queue is served), only when a byte
 * is pending: one read takes it.  wake_pending is cleared once the byte
 * was read, not before: a read that comes before wake_event's write lands
 * (EAGAIN) leaves it set, so the next drain reads again and the byte
 * cannot stay in the pipe unseen (a wait on it would then return at once,
 * turn after turn).  A queue that becomes non-empty between the read and
 * the clear finds the flag still set and writes nothing, but the poll
 * that follows the drain serves it.
 */
static void
wake_drain(trib_kafka *k)
{
	char		buf[64];

	if (k->wake[0] >= 0 && atomic_load(&k->wake_pending) &&
		read(k->wake[0], buf, sizeof(buf)) > 0)
		atomic_store(&k->wake_pending, false);
}

/* sink.h: wake_fd. */
static int
kafka_wake_fd(trib_sink *sink)
{
	const trib_kafka *k = sink->state;

	return k && !k->failed ? k->wake[0] : -1;
}

/* Create the producer; in transactional mode init transactions and find
 * the checkpoint partition.  On failure nothing but the state is left. */
static bool
start(trib_kafka *k, char *errbuf, size_t errlen)
{
	rd_kafka_conf_t *kc;
	const char *bootstrap;
	trib_envelope_opts eo;
	char		err[512];

	envelope_opts(k->c, &eo);
	k->wire = kfk_wire_new(k->c, eo.unavailable_value);
	if ((k->env = trib_envelope_new(&eo, errbuf, errlen)) == NULL ||
		(bootstrap = resolve_bootstrap(k, errbuf, errlen)) == NULL ||
		(kc = kfk_producer_conf(k, bootstrap, errbuf, errlen)) == NULL)
		goto fail;
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
	if (k->rk == NULL)
	{
		rd_kafka_conf_destroy(kc);
		kfk_err(k, errbuf, errlen, "kafka: cannot create producer: %s", err);
		goto fail;
	}
	/* kc belongs to rk now; its logs come through poll on our thread */
	rd_kafka_set_log_queue(k->rk, NULL);

	if (!k->c->transactional)
	{
		k->trk = trib_ack_tracker_new(1024);
		wake_start(k);
		return true;
	}
	{
		rd_kafka_error_t *error = rd_kafka_init_transactions(k->rk, k->t.timeout_ms);

		rd_kafka_poll(k->rk, 0);
		if (error)
		{
			kfk_error_out(k, error, "init_transactions", errbuf, errlen);
			goto fail;
		}
	}
	if (kfk_setup_checkpoint(k, errbuf, errlen))
		return true;

fail:
	release_handles(k);
	return false;
}

/* See sink_kafka.h. */
bool
trib_kafka_open(trib_sink *sink, const trib_kafka_conf *conf,
				const trib_kafka_tuning *tuning, char *errbuf, size_t errlen)
{
	trib_kafka *k;

	if (sink->state != NULL)
	{
		kfk_err(NULL, errbuf, errlen, "kafka: sink already open");
		return false;
	}
	if ((k = state_new(sink, conf, tuning, errbuf, errlen)) == NULL)
		return false;
	if (!start(k, errbuf, errlen))
	{
		state_free(k);
		return false;
	}
	sink->ops = &trib_sink_kafka_ops;
	sink->state = k;
	return true;
}

/* open() of a member of `sinks:` with type kafka: librdkafka's lines go
 * to the daemon's log under the sink's name, and the values of secret
 * properties become log secrets. */
static bool
kafka_open(trib_sink *sink, const struct trib_plugin_conf *conf,
		   char *errbuf, size_t errlen)
{
	const trib_kafka_conf *kc = trib_kafka_conf_of(conf);
	trib_kafka_tuning t = {.log = kafka_tlog};

	if (kc == NULL)
		return trib_sink_no_conf("kafka", errbuf, errlen);
	t.log_arg = conf->name;
	for (size_t i = 0; i < kc->properties.count; i++)
		if (trib_kafka_secret_property(kc->properties.items[i].key))
			trib_log_add_secret(kc->properties.items[i].value);
	return trib_kafka_open(sink, kc, &t, errbuf, errlen);
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------ */

/* The topic handle for a name, from the cache; the last one found is
 * kept beside it, since consecutive records mostly share their topic
 * (compared in one pass: its length is needed only on a miss). */
static rd_kafka_topic_t *
topic_get(trib_kafka *k, const char *name)
{
	size_t		len;
	void	  **rkt;

	if (k->last_rkt != NULL && strcmp(name, k->last_topic) == 0)
		return k->last_rkt;
	len = strlen(name);
	if (k->topics == NULL)
		k->topics = trib_intern_new();
	rkt = trib_intern_value(k->topics, name, len);
	if (*rkt == NULL)
		*rkt = rd_kafka_topic_new(k->rk, name, NULL);
	if (*rkt != NULL && len < sizeof(k->last_topic))
	{
		memcpy(k->last_topic, name, len + 1);
		k->last_rkt = *rkt;
	}
	return *rkt;
}

/*
 * Hand one message to librdkafka: with the event id header only, or, when
 * hdrs is not NULL, with those headers (librdkafka takes them on success).
 * One rd_kafka_produceva call for both: the header element is the only
 * difference, and librdkafka builds the id-only list itself as before.
 */
static rd_kafka_resp_err_t
producev(trib_kafka *k, rd_kafka_topic_t *rkt, int32_t partition,
		 const void *key, size_t key_len, const void *value, size_t value_len,
		 const char *id, size_t id_len, uint64_t tag, rd_kafka_headers_t *hdrs)
{
	rd_kafka_vu_t vu[7];
	rd_kafka_error_t *error;
	rd_kafka_resp_err_t err;

	vu[0].vtype = RD_KAFKA_VTYPE_RKT;
	vu[0].u.rkt = rkt;
	vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
	vu[1].u.i32 = partition;
	vu[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
	vu[2].u.i = RD_KAFKA_MSG_F_COPY;
	vu[3].vtype = RD_KAFKA_VTYPE_KEY;
	vu[3].u.mem.ptr = (void *) key;
	vu[3].u.mem.size = key_len;
	vu[4].vtype = RD_KAFKA_VTYPE_VALUE;
	vu[4].u.mem.ptr = (void *) value;
	vu[4].u.mem.size = value_len;
	vu[5].vtype = RD_KAFKA_VTYPE_OPAQUE;
	vu[5].u.ptr = (void *) (uintptr_t) tag;
	if (hdrs != NULL)
	{
		vu[6].vtype = RD_KAFKA_VTYPE_HEADERS;
		vu[6].u.headers = hdrs;
	}
	else
	{
		vu[6].vtype = RD_KAFKA_VTYPE_HEADER;
		vu[6].u.header.name = TRIB_KAFKA_ID_HEADER;
		vu[6].u.header.val = id;
		vu[6].u.header.size = (ssize_t) id_len;
	}
	error = rd_kafka_produceva(k->rk, vu, 7);
	if (error == NULL)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	err = rd_kafka_error_code(error);
	rd_kafka_error_destroy(error);
	return err;
}

/* The event id and schema headers of one message. */
static rd_kafka_headers_t *
schema_headers(const char *id, size_t id_len, int64_t schema_id, int32_t schema_version)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(3);
	char		sid[24],
				sver[16];

	snprintf(sid, sizeof(sid), "%lld", (long long) schema_id);
	snprintf(sver, sizeof(sver), "%d", (int) schema_version);
	rd_kafka_header_add(h, TRIB_KAFKA_ID_HEADER, -1, id, (ssize_t) id_len);
	rd_kafka_header_add(h, TRIB_KAFKA_SCHEMA_ID_HEADER, -1, sid, -1);
	rd_kafka_header_add(h, TRIB_KAFKA_SCHEMA_VERSION_HEADER, -1, sver, -1);
	return h;
}

/* Enqueue one message, waiting for queue space; false fails the sink. */
bool
kfk_produce_schema(trib_kafka *k, rd_kafka_topic_t *rkt, int32_t partition,
				   const void *key, size_t key_len, const void *value, size_t value_len,
				   const char *id, size_t id_len, uint64_t tag,
				   int64_t schema_id, int32_t schema_version)
{
	for (;;)
	{
		rd_kafka_headers_t *hdrs = schema_id != 0
			? schema_headers(id, id_len, schema_id, schema_version) : NULL;
		rd_kafka_resp_err_t err = producev(k, rkt, partition, key, key_len, value,
										   value_len, id, id_len, tag, hdrs);

		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			k->st.records++;
			return true;
		}
		if (hdrs != NULL)
			rd_kafka_headers_destroy(hdrs);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
		{
			kfk_fail(k, "kafka: cannot produce to %s: %s (%s)",
				 rd_kafka_topic_name(rkt), rd_kafka_err2str(err),
				 rd_kafka_err2name(err));
			return false;
		}
		/* queue full: serve delivery reports until there is room */
		rd_kafka_poll(k->rk, 50);
		kfk_maybe_ack(k);
		if (k->failed)
			return false;
	}
}

bool
kfk_produce(trib_kafka *k, rd_kafka_topic_t *rkt, int32_t partition,
			const void *key, size_t key_len, const void *value, size_t value_len,
			const char *id, size_t id_len, uint64_t tag)
{
	return kfk_produce_schema(k, rkt, partition, key, key_len, value, value_len, id, id_len,
							  tag, 0, 0);
}

/*
 * The event id of pos, the text of trib_envelope_event_id,
 * "commit_lsn:seq", kept in k->id_text until the next call; its length in
 * *len.  The commit LSN's part (trib_eventid_put_head) is written once and
 * stays in place while it repeats, as it does for every event of a
 * transaction: only seq's digits are written after it per event.
 */
static const char *
event_id(trib_kafka *k, const trib_position *pos, size_t *len)
{
	char		digits[TRIB_U64_DIGITS];
	const char *d;
	size_t		n;

	if (k->id_head_len == 0 || k->id_lsn != pos->commit_lsn)
	{
		k->id_head_len = (size_t) (trib_eventid_put_head(k->id_text, pos->commit_lsn) -
								   k->id_text);
		k->id_lsn = pos->commit_lsn;
	}
	d = trib_u64_digits(digits + sizeof(digits), pos->seq);
	n = (size_t) (digits + sizeof(digits) - d);
	memcpy(k->id_text + k->id_head_len, d, n);
	k->id_text[k->id_head_len + n] = '\0';
	*len = k->id_head_len + n;
	return k->id_text;
}

/* Writes between two polls of delivery reports inside write(). */
#define WRITE_POLL_EVERY 64

/* Encode one event and enqueue its records. */
static bool
kafka_write(trib_sink *sink, const trib_event *ev, char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;
	const trib_record *recs;
	size_t		n;
	const char *id;
	size_t		id_len;
	uint64_t	wn = 0;

	if (!kfk_is_open(k, errbuf, errlen))
		return false;
	if (k->failed)
		return kfk_failed_out(k, errbuf, errlen);
	if (k->c->transactional && !k->in_txn && !trib_kafka_begin(sink, errbuf, errlen))
		return false;

	recs = trib_envelope_encode(k->env, ev, &n, errbuf, errlen);
	if (recs == NULL)
		return false;
	id = event_id(k, trib_event_origin(ev), &id_len);

	if (!k->c->transactional)
		wn = trib_ack_tracker_push(k->trk, &ev->pos);
	for (size_t i = 0; i < n; i++)
	{
		rd_kafka_topic_t *rkt;
		const void *value = recs[i].value;
		size_t		value_len = recs[i].value_len;
		const void *key = recs[i].key;
		size_t		key_len = recs[i].key_len;
		bool		skip = false;

		if (k->wire != NULL &&
			(!kfk_wire_value(k->wire, ev, &recs[i], i, &value, &value_len, &skip,
							 errbuf, errlen) ||
			 (!skip && !kfk_wire_key(k->wire, ev, &recs[i], &key, &key_len, errbuf, errlen))))
		{
			kfk_fail(k, "%s", errbuf);
			return kfk_failed_out(k, errbuf, errlen);
		}
		if (skip)
			continue;
		rkt = topic_get(k, recs[i].topic);
		if (rkt == NULL)
		{
			kfk_fail(k, "kafka: topic %s: %s", recs[i].topic,
				 rd_kafka_err2str(rd_kafka_last_error()));
			return kfk_failed_out(k, errbuf, errlen);
		}
		if (!k->c->transactional)
			trib_ack_tracker_add(k->trk, wn);
		if (!kfk_produce_schema(k, rkt, RD_KAFKA_PARTITION_UA, key,
								key_len, value, value_len, id,
								id_len, k->c->transactional ? k->txn_gen : wn + 1,
								k->c->schema_headers ? ev->schema_id : 0,
								ev->schema_version))
			return kfk_failed_out(k, errbuf, errlen);
	}
	if (k->st.events++ == 0)
		tlog_debug("kafka", "first event produced");
	if (k->c->transactional)
	{
		kfk_pos_clear(&k->txn_last);
		kfk_pos_copy(&k->txn_last, &ev->pos);
		k->txn_has_events = true;
		k->txn_events++;
	}
	else
		trib_ack_tracker_seal(k->trk, wn);
	/* serve delivery reports every WRITE_POLL_EVERY writes; the pipeline
	 * polls after every batch anyway (poll() per write cost ~4% of W1) */
	if (k->st.events % WRITE_POLL_EVERY == 0)
	{
		rd_kafka_poll(k->rk, 0);
		kfk_maybe_ack(k);
	}
	return true;
}

/*
 * Wait for every delivery (or commit, in transactional mode).  Without
 * transactions, timeout_ms 0 (the pipeline's periodic flush) sends what
 * lingers at once and returns: the delivery reports come through poll,
 * and librdkafka's flush of even one message in flight took about 40 ms
 * against the mock cluster, which held the pipeline's loop (W3).  A
 * transaction is committed whatever the timeout (kafka_txn.c).
 */
bool
kfk_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;
	rd_kafka_resp_err_t err;

	if (!kfk_is_open(k, errbuf, errlen))
		return false;
	if (k->c->transactional)
		return trib_kafka_commit(sink, timeout_ms, errbuf, errlen);
	err = rd_kafka_flush(k->rk, timeout_ms);
	kfk_maybe_ack(k);
	if (k->failed)
		return kfk_failed_out(k, errbuf, errlen);
	if (err == RD_KAFKA_RESP_ERR__TIMED_OUT && timeout_ms == 0)
		return true;			/* asked not to wait */
	if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
	{
		/* not a failure: librdkafka keeps retrying (a broker is down or
		 * slow) until message.timeout.ms, and acks follow delivery; a
		 * permanent failure shows in a delivery report */
		kfk_log(k, 4, "kafka: flush: %d message(s) still in flight after %d ms; "
			 "they are acknowledged when delivered", rd_kafka_outq_len(k->rk),
			 timeout_ms);
		return true;
	}
	if (err)
	{
		kfk_err(k, errbuf, errlen, "kafka: flush: %s with %d message(s) in flight",
			 rd_kafka_err2str(err), rd_kafka_outq_len(k->rk));
		return false;
	}
	return true;
}

/* format: debezium with heartbeat.interval.ms: Debezium's heartbeat
 * record when the interval has passed (debezium_heartbeat.c); produced
 * with tag 0, outside the acknowledgement of events. */
static void
kfk_heartbeat(trib_kafka *k)
{
	int64_t		now;
	trib_strbuf topic = {0},
				key = {0},
				value = {0};
	rd_kafka_topic_t *rkt;

	/* the clock only when heartbeats are on (this runs on every poll) */
	if (k->c->format != TRIB_RECORD_DEBEZIUM || k->c->dbz.heartbeat_ms <= 0 ||
		k->c->transactional)
		return;
	now = trib_clock_wall_ms();
	if (now - k->heartbeat_ms < k->c->dbz.heartbeat_ms)
		return;
	k->heartbeat_ms = now;
	trib_dbz_heartbeat(k->c->topic_prefix ? k->c->topic_prefix : "tributary", now,
					   k->c->dbz.schemas_enable, &topic, &key, &value);
	if ((rkt = topic_get(k, topic.data)) != NULL)
		(void) kfk_produce(k, rkt, RD_KAFKA_PARTITION_UA, key.data, key.len, value.data,
						   value.len, "", 0, 0);
	trib_strbuf_free(&topic);
	trib_strbuf_free(&key);
	trib_strbuf_free(&value);
}

/* Serve delivery reports and logs; ack what became durable.  False once
 * the sink has failed (a delivery report with a permanent error, a fatal
 * producer error), so an idle pipeline stops too. */
static bool
kafka_poll(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;

	if (!kfk_is_open(k, errbuf, errlen))
		return false;
	kfk_heartbeat(k);
	wake_drain(k);
	rd_kafka_poll(k->rk, timeout_ms);
	kfk_maybe_ack(k);
	if (k->failed)
		return kfk_failed_out(k, errbuf, errlen);
	return true;
}

/* ------------------------------------------------------------------------
 * Counters, errors, closing
 * ------------------------------------------------------------------------ */

/* Copy the counters. */
void
trib_kafka_get_stats(const trib_sink *sink, trib_kafka_stats *out)
{
	const trib_kafka *k = sink->state;

	memset(out, 0, sizeof(*out));
	if (k == NULL)
		return;
	*out = k->st;
	out->in_flight = k->trk ? trib_ack_tracker_in_flight(k->trk)
		: k->txn_events;
}

/* The sticky error, if the sink has failed. */
bool
trib_kafka_error(const trib_sink *sink, char *errbuf, size_t errlen)
{
	const trib_kafka *k = sink->state;

	if (k == NULL || !k->failed)
		return false;
	if (errlen)
		snprintf(errbuf, errlen, "%s", k->err);
	return true;
}

/* Flush or abort, then release everything. */
static void
kafka_close(trib_sink *sink)
{
	trib_kafka *k = sink->state;

	if (k == NULL)
		return;
	if (k->rk)
	{
		if (k->in_txn)
		{
			/* uncommitted work is dropped; the durable position stands */
			rd_kafka_error_t *error = rd_kafka_abort_transaction(k->rk,
																 k->t.close_timeout_ms);

			if (error)
				rd_kafka_error_destroy(error);
			k->in_txn = false;
		}
		else if (!k->c->transactional && sink->discard)
		{
			/* the pipeline lost its lock (sink.h): a standby may write
			 * now, so what is still queued is dropped, not sent; a record
			 * already on the wire may still land (docs/OPERATIONS.md) */
			rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_NON_BLOCKING);
		}
		else if (!k->c->transactional)
		{
			rd_kafka_flush(k->rk, k->t.close_timeout_ms);
			kfk_maybe_ack(k);
		}
		rd_kafka_poll(k->rk, 0);
	}
	release_handles(k);
	state_free(k);
	sink->state = NULL;
}
