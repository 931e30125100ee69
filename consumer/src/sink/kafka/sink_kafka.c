/*
 * sink_kafka.c: the Kafka sink (see sink_kafka.h for the guarantees).
 *
 * Design.  One librdkafka producer per sink.  The hot path of write() is:
 * encode the event (envelope.c, into a reused buffer), look the topic up in
 * a small hash of rd_kafka_topic_t handles, producev() each record with
 * RD_KAFKA_MSG_F_COPY and the event id header, and every 64 writes poll(0)
 * to serve delivery reports and ack when the low watermark moved (the
 * pipeline polls after each batch too).  F_COPY costs one allocation per
 * message, key and value inside it; handing librdkafka a buffer of ours
 * with F_FREE would cost the same allocation plus librdkafka's own.
 *
 * Acks, at-least-once mode.  Each written event is pushed on an ack
 * tracker (core/ack_tracker.h) with one pending record per message it
 * makes, and sealed once all are enqueued; a delivery report carries the
 * write number (+1) as its opaque and marks its record done; the
 * tracker's low watermark is what the sink acks.  The first failed
 * delivery report fails the sink: nothing is acked after it, and every
 * later call returns the error.
 *
 * Transactions.  librdkafka's transactional API does the protocol; this
 * file adds the checkpoint record (one small JSON value per commit, keyed
 * by the checkpoint key, to an explicitly computed murmur2 partition of the
 * checkpoint topic so that the reader knows where to look) and reads it
 * back at start-up with a read_committed consumer, newest window first.
 * The checkpoint is produced only once every record of the transaction is
 * delivered, so a transaction with a failed record never carries one.
 * Delivery reports do not drive acks in this mode: only a successful
 * commit_transaction() does.  Reports carry the transaction's number, so
 * the records an abort purges (errors by design) do not count against the
 * next transaction.
 *
 * Logs from librdkafka are routed through the main queue (log.queue), so
 * the log callback runs on the caller's thread, inside poll, and every
 * line goes through redact() first.
 */
#include "sink_kafka.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "ack_tracker.h"
#include "envelope.h"
#include "kafka_conf.h"
#include "kafka_mock.h"
#include "log.h"

/* strdup that tolerates NULL and aborts on out-of-memory. */
static char *
xstrdup(const char *s)
{
	char	   *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
	{
		fputs("tributary: out of memory in kafka sink\n", stderr);
		abort();
	}
	return d;
}

/* calloc or abort. */
static void *
xcalloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
	{
		fputs("tributary: out of memory in kafka sink\n", stderr);
		abort();
	}
	return p;
}

/* Copy a position, duplicating its opaque text. */
static void
pos_copy(trib_position *dst, const trib_position *src)
{
	*dst = *src;
	dst->opaque = xstrdup(src->opaque);
}

/* Release what a position owns. */
static void
pos_clear(trib_position *p)
{
	free(p->opaque);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------------------
 * The sink's state
 * ------------------------------------------------------------------------ */

typedef struct topic_ent
{
	char	   *name;
	uint64_t	hash;
	rd_kafka_topic_t *rkt;
} topic_ent;

typedef struct trib_kafka
{
	trib_sink  *sink;
	const trib_kafka_conf *c;	/* borrowed: outlives the sink */
	trib_kafka_tuning t;		/* defaults filled in */

	trib_kafka_mock *mock;		/* embedded mode */
	rd_kafka_t *rk;
	trib_envelope *env;
	topic_ent  *topics;
	size_t		ntopics;
	size_t		captopics;
	trib_ack_tracker *trk;
	trib_kafka_stats st;

	bool		failed;			/* sticky: every call returns err */
	char		err[512];

	/* transactional mode */
	bool		in_txn;
	bool		txn_has_events;
	uint64_t	txn_events;		/* written in the open transaction */
	uint64_t	txn_gen;		/* number of the open transaction (tags) */
	bool		txn_failed;		/* a record of it failed for good */
	char		txn_err[256];
	trib_position txn_last;		/* owns opaque */
	bool		have_durable;
	trib_position durable;		/* owns opaque */
	const char *ckpt_topic;
	const char *ckpt_key;
	rd_kafka_topic_t *ckpt_rkt;
	int32_t		ckpt_part;
} trib_kafka;

static bool kafka_open(trib_sink *sink, const struct trib_plugin_conf *conf,
					   char *errbuf, size_t errlen);
static bool kafka_durable_position(trib_sink *sink, trib_position *out,
								   char *errbuf, size_t errlen);
static bool kafka_write(trib_sink *sink, const trib_event *ev,
						char *errbuf, size_t errlen);
static bool kafka_flush(trib_sink *sink, int timeout_ms,
						char *errbuf, size_t errlen);
static bool kafka_poll(trib_sink *sink, int timeout_ms,
					   char *errbuf, size_t errlen);
static void kafka_close(trib_sink *sink);

const trib_sink_ops trib_sink_kafka_ops = {
	.type = "kafka",
	.open = kafka_open,
	.durable_position = kafka_durable_position,
	.write = kafka_write,
	.flush = kafka_flush,
	.poll = kafka_poll,
	.close = kafka_close,
};

/* Does this property name look like it holds a secret? */
bool
trib_kafka_secret_property(const char *name)
{
	static const char *const marks[] = {
		"password", "secret", "jaas", "token", "credential", "private",
		"oauthbearer.config", "ssl.key", "keystore"
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strcasestr(name, marks[i]) != NULL)
			return true;
	return false;
}

/* Replace every occurrence of a secret property's value in s by "***". */
static void
redact(const trib_kafka *k, char *s)
{
	for (size_t i = 0; i < k->c->properties.count; i++)
	{
		const trib_kv *p = &k->c->properties.items[i];
		size_t		vlen;
		char	   *hit;

		if (!trib_kafka_secret_property(p->key) || p->value == NULL ||
			(vlen = strlen(p->value)) == 0)
			continue;
		while ((hit = strstr(s, p->value)) != NULL)
		{
			size_t		tail = strlen(hit + vlen);

			if (vlen >= 3)
			{
				memcpy(hit, "***", 3);
				memmove(hit + 3, hit + vlen, tail + 1);
			}
			else
				memset(hit, '*', vlen);
		}
	}
}

/* Log through the caller's function, redacted. */
__attribute__((format(printf, 3, 4)))
static void
klog(trib_kafka *k, int level, const char *fmt,...)
{
	char		msg[1024];
	va_list		ap;

	if (k->t.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	redact(k, msg);
	k->t.log(k->t.log_arg, level, msg);
}

/* Fill errbuf (redacted). */
__attribute__((format(printf, 4, 5)))
static void
kerr(trib_kafka *k, char *errbuf, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	if (k)
		redact(k, errbuf);
}

/* Make the sink fail for good with this message (first one wins). */
__attribute__((format(printf, 2, 3)))
static void
fail(trib_kafka *k, const char *fmt,...)
{
	va_list		ap;

	if (k->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(k->err, sizeof(k->err), fmt, ap);
	va_end(ap);
	redact(k, k->err);
	k->failed = true;
	klog(k, 3, "%s", k->err);
}

/* Copy the sticky error out. */
static bool
failed_out(trib_kafka *k, char *errbuf, size_t errlen)
{
	if (errlen)
		snprintf(errbuf, errlen, "%s", k->err);
	return false;
}

/* An rd_kafka_error_t to errbuf; destroys it. */
static void
kerror_out(trib_kafka *k, rd_kafka_error_t *error, const char *what,
		   char *errbuf, size_t errlen)
{
	kerr(k, errbuf, errlen, "kafka: %s: %s (%s)", what,
		 rd_kafka_error_string(error), rd_kafka_error_name(error));
	rd_kafka_error_destroy(error);
}

/* ------------------------------------------------------------------------
 * librdkafka callbacks
 * ------------------------------------------------------------------------ */

/* Delivery report: count it, and in at-least-once mode feed the tracker. */
static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	trib_kafka *k = opaque;
	uint64_t	tag = (uint64_t) (uintptr_t) m->_private;

	(void) rk;
	if (m->err)
	{
		k->st.failed++;
		if (k->c->transactional)
		{
			/* only the open transaction's failures count: an abort
			 * purges the records of its transaction on purpose */
			klog(k, 7, "kafka: delivery to %s [%d] in a transaction: %s",
				 rd_kafka_topic_name(m->rkt), (int) m->partition,
				 rd_kafka_err2str(m->err));
			if (tag == k->txn_gen && k->in_txn && !k->txn_failed)
			{
				k->txn_failed = true;
				snprintf(k->txn_err, sizeof(k->txn_err), "delivery to %s [%d]: %s",
						 rd_kafka_topic_name(m->rkt), (int) m->partition,
						 rd_kafka_err2str(m->err));
			}
			return;
		}
		fail(k, "kafka: delivery to %s [%d] failed: %s (%s)",
			 rd_kafka_topic_name(m->rkt), (int) m->partition,
			 rd_kafka_err2str(m->err), rd_kafka_err2name(m->err));
		return;
	}
	k->st.delivered++;
	if (tag != 0 && k->trk)
		trib_ack_tracker_done(k->trk, tag - 1);
}

/* Client errors: fatal ones fail the sink, the rest are logged (librdkafka
 * retries them by itself). */
static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	trib_kafka *k = opaque;

	if (err == RD_KAFKA_RESP_ERR__FATAL)
	{
		char		fatal[512];
		rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));

		fail(k, "kafka: fatal error: %s (%s)", fatal, rd_kafka_err2name(orig));
		return;
	}
	klog(k, 4, "kafka: %s (%s)", reason,
		 rd_kafka_err2name((rd_kafka_resp_err_t) err));
}

/* librdkafka's own log lines (served by poll, on our thread). */
static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	trib_kafka *k = rd_kafka_opaque(rk);

	if (k)
		klog(k, level, "kafka: %s: %s", fac, buf);
}

/* Ack when the watermark moved (at-least-once mode). */
static void
maybe_ack(trib_kafka *k)
{
	const trib_position *pos;

	if (k->trk == NULL || !trib_ack_tracker_advance(k->trk, &pos))
		return;
	k->st.acks++;
	if (k->sink->ack)
		k->sink->ack(k->sink, pos, k->sink->ack_arg);
}

/* ------------------------------------------------------------------------
 * Options and start-up
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
		kerr(NULL, errbuf, errlen, "kafka: bootstrap_servers is required");
		return NULL;
	}
	if (conf->transactional &&
		(conf->transactional_id == NULL || *conf->transactional_id == '\0'))
	{
		kerr(NULL, errbuf, errlen,
			 "kafka: transactional mode needs a transactional_id");
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
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
	return k;
}

/* Free everything k owns (the handles must be gone). */
static void
state_free(trib_kafka *k)
{
	pos_clear(&k->txn_last);
	pos_clear(&k->durable);
	free(k);
}

/* Set one property; errors never show a secret value. */
static bool
conf_set(trib_kafka *k, rd_kafka_conf_t *conf, const char *name,
		 const char *value, char *errbuf, size_t errlen)
{
	char		err[512];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) == RD_KAFKA_CONF_OK)
		return true;
	if (trib_kafka_secret_property(name))
		kerr(k, errbuf, errlen,
			 "kafka: property \"%s\": rejected by librdkafka (value not shown)",
			 name);
	else
		kerr(k, errbuf, errlen, "kafka: property \"%s\": %s", name, err);
	return false;
}

/* The configuration shared by producer and checkpoint reader. */
static rd_kafka_conf_t *
base_conf(trib_kafka *k, const char *bootstrap, char *errbuf, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (!conf_set(k, conf, "bootstrap.servers", bootstrap, errbuf, errlen) ||
		!conf_set(k, conf, "client.id", "tributary", errbuf, errlen) ||
		!conf_set(k, conf, "log.queue", "true", errbuf, errlen))
	{
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	return conf;
}

/* Apply the user's properties, after ours, so that they win. */
static bool
user_conf(trib_kafka *k, rd_kafka_conf_t *conf, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < k->c->properties.count; i++)
	{
		const trib_kv *p = &k->c->properties.items[i];

		if (p->key == NULL || p->value == NULL)
		{
			kerr(k, errbuf, errlen, "kafka: property %zu has no name or value", i);
			return false;
		}
		if (!conf_set(k, conf, p->key, p->value, errbuf, errlen))
			return false;
		if ((strcmp(p->key, "enable.idempotence") == 0 &&
			 strcmp(p->value, "true") != 0) ||
			(strcmp(p->key, "acks") == 0 && strcmp(p->value, "all") != 0 &&
			 strcmp(p->value, "-1") != 0))
			klog(k, 4, "kafka: %s=%s weakens the sink's guarantees "
				 "(retries may duplicate or reorder records, acked records "
				 "may be lost)", p->key, p->value);
	}
	return true;
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
			kerr(k, errbuf, errlen,
				 "kafka: \"%s\": embedded takes 1 to 16 brokers", b);
			return NULL;
		}
		brokers = (int) n;
	}
	k->mock = trib_kafka_mock_start(brokers, errbuf, errlen);
	if (k->mock == NULL)
		return NULL;
	klog(k, 6, "kafka: embedded cluster of %d broker(s) at %s", brokers,
		 trib_kafka_mock_bootstraps(k->mock));
	return trib_kafka_mock_bootstraps(k->mock);
}

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
		kerr(k, errbuf, errlen, "kafka: metadata for %s: %s", k->ckpt_topic,
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
			klog(k, 4, "kafka: cannot create %s (%s); relying on auto-creation",
				 k->ckpt_topic, rd_kafka_event_error_string(ev));
		else if (cnt == 1 && rd_kafka_topic_result_error(tr[0]) &&
				 rd_kafka_topic_result_error(tr[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
			klog(k, 4, "kafka: cannot create %s (%s); relying on auto-creation",
				 k->ckpt_topic, rd_kafka_topic_result_error_string(tr[0]));
		else
			klog(k, 6, "kafka: created checkpoint topic %s", k->ckpt_topic);
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
static bool
setup_checkpoint(trib_kafka *k, char *errbuf, size_t errlen)
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
		kerr(k, errbuf, errlen, "kafka: checkpoint topic %s: %s", k->ckpt_topic,
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
		kerr(k, errbuf, errlen,
			 "kafka: checkpoint topic %s does not exist and cannot be created",
			 k->ckpt_topic);
		return false;
	}
	k->ckpt_part = rd_kafka_msg_partitioner_murmur2(k->ckpt_rkt, k->ckpt_key,
													strlen(k->ckpt_key),
													cnt, NULL, NULL);
	return true;
}

/* Destroy the handles and what hangs off them; the options stay. */
static void
release_handles(trib_kafka *k)
{
	for (size_t i = 0; i < k->captopics; i++)
	{
		if (k->topics[i].name == NULL)
			continue;
		rd_kafka_topic_destroy(k->topics[i].rkt);
		free(k->topics[i].name);
	}
	free(k->topics);
	k->topics = NULL;
	k->ntopics = k->captopics = 0;
	if (k->ckpt_rkt)
		rd_kafka_topic_destroy(k->ckpt_rkt);
	k->ckpt_rkt = NULL;
	if (k->rk)
		rd_kafka_destroy(k->rk);
	k->rk = NULL;
	trib_kafka_mock_stop(k->mock);
	k->mock = NULL;
	trib_envelope_free(k->env);
	k->env = NULL;
	trib_ack_tracker_free(k->trk);
	k->trk = NULL;
}

/* The producer's configuration: our settings, then the user's. */
static rd_kafka_conf_t *
producer_conf(trib_kafka *k, const char *bootstrap, char *errbuf, size_t errlen)
{
	rd_kafka_conf_t *kc = base_conf(k, bootstrap, errbuf, errlen);

	if (kc == NULL)
		return NULL;
	if (!conf_set(k, kc, "enable.idempotence", "true", errbuf, errlen) ||
		!conf_set(k, kc, "acks", "all", errbuf, errlen) ||
		!conf_set(k, kc, "partitioner", "murmur2_random", errbuf, errlen) ||
		/* 1 ms: half the commit-to-ack latency of 5 ms at 1,000
		 * commits/s, and no cost at full rate, where batches fill by
		 * size first (docs/BENCHMARKS.md, W1 and W3) */
		!conf_set(k, kc, "linger.ms", "1", errbuf, errlen) ||
		/* 20,000 queued messages (librdkafka's default is 100,000): the
		 * producer's memory is then the same for any transaction size,
		 * since a large one fills the queue early (W4) */
		!conf_set(k, kc, "queue.buffering.max.messages", "20000", errbuf, errlen) ||
		(k->c->transactional &&
		 !conf_set(k, kc, "transactional.id", k->c->transactional_id,
				   errbuf, errlen)) ||
		!user_conf(k, kc, errbuf, errlen))
	{
		rd_kafka_conf_destroy(kc);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
	return kc;
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
	if ((k->env = trib_envelope_new(&eo, errbuf, errlen)) == NULL ||
		(bootstrap = resolve_bootstrap(k, errbuf, errlen)) == NULL ||
		(kc = producer_conf(k, bootstrap, errbuf, errlen)) == NULL)
		goto fail;
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
	if (k->rk == NULL)
	{
		rd_kafka_conf_destroy(kc);
		kerr(k, errbuf, errlen, "kafka: cannot create producer: %s", err);
		goto fail;
	}
	/* kc belongs to rk now; its logs come through poll on our thread */
	rd_kafka_set_log_queue(k->rk, NULL);

	if (!k->c->transactional)
	{
		k->trk = trib_ack_tracker_new(1024);
		return true;
	}
	{
		rd_kafka_error_t *error = rd_kafka_init_transactions(k->rk, k->t.timeout_ms);

		rd_kafka_poll(k->rk, 0);
		if (error)
		{
			kerror_out(k, error, "init_transactions", errbuf, errlen);
			goto fail;
		}
	}
	if (setup_checkpoint(k, errbuf, errlen))
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
		kerr(NULL, errbuf, errlen, "kafka: sink already open");
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
	{
		kerr(NULL, errbuf, errlen, "kafka sink: no configuration");
		return false;
	}
	t.log_arg = conf->name;
	for (size_t i = 0; i < kc->properties.count; i++)
		if (trib_kafka_secret_property(kc->properties.items[i].key))
			trib_log_add_secret(kc->properties.items[i].value);
	return trib_kafka_open(sink, kc, &t, errbuf, errlen);
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------ */

/* FNV-1a of a NUL-terminated string. */
static uint64_t
hash_str(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s; s++)
	{
		h ^= (unsigned char) *s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The topic handle for a name, from the cache. */
static rd_kafka_topic_t *
topic_get(trib_kafka *k, const char *name)
{
	uint64_t	h = hash_str(name);
	size_t		i;

	if (k->ntopics * 2 >= k->captopics)
	{
		size_t		ncap = k->captopics ? k->captopics * 2 : 64;
		topic_ent  *nt = xcalloc(ncap, sizeof(topic_ent));

		for (i = 0; i < k->captopics; i++)
		{
			size_t		j;

			if (k->topics[i].name == NULL)
				continue;
			for (j = k->topics[i].hash & (ncap - 1); nt[j].name; j = (j + 1) & (ncap - 1))
				;
			nt[j] = k->topics[i];
		}
		free(k->topics);
		k->topics = nt;
		k->captopics = ncap;
	}
	for (i = h & (k->captopics - 1);; i = (i + 1) & (k->captopics - 1))
	{
		topic_ent  *t = &k->topics[i];

		if (t->name == NULL)
		{
			rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->rk, name, NULL);

			if (rkt == NULL)
				return NULL;
			t->name = xstrdup(name);
			t->hash = h;
			t->rkt = rkt;
			k->ntopics++;
			return rkt;
		}
		if (t->hash == h && strcmp(t->name, name) == 0)
			return t->rkt;
	}
}

/* Enqueue one message, waiting for queue space; false fails the sink. */
static bool
produce(trib_kafka *k, rd_kafka_topic_t *rkt, int32_t partition,
		const void *key, size_t key_len, const void *value, size_t value_len,
		const char *id, size_t id_len, uint64_t tag)
{
	for (;;)
	{
		rd_kafka_resp_err_t err;

		err = rd_kafka_producev(k->rk,
								RD_KAFKA_V_RKT(rkt),
								RD_KAFKA_V_PARTITION(partition),
								RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
								RD_KAFKA_V_KEY(key, key_len),
								RD_KAFKA_V_VALUE((void *) value, value_len),
								RD_KAFKA_V_HEADER(TRIB_KAFKA_ID_HEADER, id,
												  (ssize_t) id_len),
								RD_KAFKA_V_OPAQUE((void *) (uintptr_t) tag),
								RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			k->st.records++;
			return true;
		}
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
		{
			fail(k, "kafka: cannot produce to %s: %s (%s)",
				 rd_kafka_topic_name(rkt), rd_kafka_err2str(err),
				 rd_kafka_err2name(err));
			return false;
		}
		/* queue full: serve delivery reports until there is room */
		rd_kafka_poll(k->rk, 50);
		maybe_ack(k);
		if (k->failed)
			return false;
	}
}

/* Begin a Kafka transaction unless one is open. */
bool
trib_kafka_begin(trib_sink *sink, char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;
	rd_kafka_error_t *error;

	if (k == NULL || k->rk == NULL)
	{
		kerr(k, errbuf, errlen, "kafka: sink not open");
		return false;
	}
	if (!k->c->transactional)
	{
		kerr(k, errbuf, errlen, "kafka: begin: the sink is not transactional");
		return false;
	}
	if (k->failed)
		return failed_out(k, errbuf, errlen);
	if (k->in_txn)
		return true;
	error = rd_kafka_begin_transaction(k->rk);
	if (error)
	{
		kerror_out(k, error, "begin_transaction", errbuf, errlen);
		return false;
	}
	k->in_txn = true;
	k->txn_has_events = false;
	k->txn_gen++;
	k->txn_failed = false;
	return true;
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
	char		id[TRIB_ENVELOPE_ID_LEN];
	size_t		id_len;
	uint64_t	wn = 0;

	if (k == NULL || k->rk == NULL)
	{
		kerr(k, errbuf, errlen, "kafka: sink not open");
		return false;
	}
	if (k->failed)
		return failed_out(k, errbuf, errlen);
	if (k->c->transactional && !k->in_txn && !trib_kafka_begin(sink, errbuf, errlen))
		return false;

	recs = trib_envelope_encode(k->env, ev, &n, errbuf, errlen);
	if (recs == NULL)
		return false;
	id_len = trib_envelope_event_id(&ev->pos, id, sizeof(id));

	if (!k->c->transactional)
		wn = trib_ack_tracker_push(k->trk, &ev->pos);
	for (size_t i = 0; i < n; i++)
	{
		rd_kafka_topic_t *rkt = topic_get(k, recs[i].topic);

		if (rkt == NULL)
		{
			fail(k, "kafka: topic %s: %s", recs[i].topic,
				 rd_kafka_err2str(rd_kafka_last_error()));
			return failed_out(k, errbuf, errlen);
		}
		if (!k->c->transactional)
			trib_ack_tracker_add(k->trk, wn);
		if (!produce(k, rkt, RD_KAFKA_PARTITION_UA, recs[i].key, recs[i].key_len,
					 recs[i].value, recs[i].value_len, id, id_len,
					 k->c->transactional ? k->txn_gen : wn + 1))
			return failed_out(k, errbuf, errlen);
	}
	k->st.events++;
	if (k->c->transactional)
	{
		pos_clear(&k->txn_last);
		pos_copy(&k->txn_last, &ev->pos);
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
		maybe_ack(k);
	}
	return true;
}

/* The checkpoint record's value: the position as JSON, in a malloc'd
 * buffer the caller frees; NULL if yajl fails. */
static char *
checkpoint_value(const trib_position *pos, size_t *len)
{
	char		id[TRIB_ENVELOPE_ID_LEN];
	yajl_gen	g = yajl_gen_alloc(NULL);
	const unsigned char *out;
	size_t		outlen;
	char		lsn[32];
	char	   *buf = NULL;

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
	if (pos->opaque)
		yajl_gen_string(g, (const unsigned char *) pos->opaque, strlen(pos->opaque));
	else
		yajl_gen_null(g);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &out, &outlen) == yajl_gen_status_ok &&
		(buf = malloc(outlen + 1)) != NULL)
	{
		memcpy(buf, out, outlen);
		buf[outlen] = '\0';
		*len = outlen;
	}
	yajl_gen_free(g);
	return buf;
}

/* A checkpoint record's value back into a position. */
static bool
checkpoint_parse(const char *text, size_t len, trib_position *out)
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
		out->opaque = xstrdup(YAJL_GET_STRING(v));
	yajl_tree_free(root);
	return ok;
}

/* Milliseconds on the monotonic clock. */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write the checkpoint record and commit the transaction. */
bool
trib_kafka_commit(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;
	rd_kafka_error_t *error;
	int64_t		deadline = mono_ms() + timeout_ms;

	if (k == NULL || k->rk == NULL)
	{
		kerr(k, errbuf, errlen, "kafka: sink not open");
		return false;
	}
	if (!k->c->transactional)
		return kafka_flush(sink, timeout_ms, errbuf, errlen);
	if (k->failed)
		return failed_out(k, errbuf, errlen);
	if (!k->in_txn)
		return true;

	if (k->txn_has_events)
	{
		size_t		vlen = 0;
		char	   *val = checkpoint_value(&k->txn_last, &vlen);
		char		id[TRIB_ENVELOPE_ID_LEN];
		size_t		id_len = trib_envelope_event_id(&k->txn_last, id, sizeof(id));

		int64_t		left = deadline - mono_ms();

		/*
		 * Records first, checkpoint last: a transaction with a failed
		 * record is aborted before it gets a checkpoint, so no reader,
		 * however it reads, finds a checkpoint for lost records.
		 */
		rd_kafka_flush(k->rk, left > 0 ? (int) left : 0);
		maybe_ack(k);
		if (k->txn_failed)
			fail(k, "kafka: transaction aborted, %s; restart from the "
				 "durable position", k->txn_err);
		else if (val == NULL)
			fail(k, "kafka: cannot write the checkpoint value");
		else
			produce(k, k->ckpt_rkt, k->ckpt_part, k->ckpt_key,
					strlen(k->ckpt_key), val, vlen, id, id_len, k->txn_gen);
		free(val);
		if (k->failed)
		{
			rd_kafka_error_t *ae = rd_kafka_abort_transaction(k->rk, timeout_ms);

			if (ae)
				rd_kafka_error_destroy(ae);
			k->in_txn = false;
			k->txn_events = 0;
			k->st.aborts++;
			return failed_out(k, errbuf, errlen);
		}
	}

	for (;;)
	{
		int64_t		left = deadline - mono_ms();

		error = rd_kafka_commit_transaction(k->rk, left > 0 ? (int) left : 0);
		rd_kafka_poll(k->rk, 0);
		if (error == NULL)
			break;
		if (rd_kafka_error_is_retriable(error) && deadline - mono_ms() > 0)
		{
			klog(k, 4, "kafka: commit_transaction: %s; retrying",
				 rd_kafka_error_string(error));
			rd_kafka_error_destroy(error);
			continue;
		}
		if (rd_kafka_error_txn_requires_abort(error))
		{
			rd_kafka_error_t *ae = rd_kafka_abort_transaction(k->rk, timeout_ms);

			fail(k, "kafka: commit failed, transaction aborted: %s (%s); "
				 "restart from the durable position",
				 rd_kafka_error_string(error), rd_kafka_error_name(error));
			if (ae)
				rd_kafka_error_destroy(ae);
			k->st.aborts++;
		}
		else
			fail(k, "kafka: commit_transaction: %s (%s)%s",
				 rd_kafka_error_string(error), rd_kafka_error_name(error),
				 rd_kafka_error_is_fatal(error) ? ", fatal" : "");
		rd_kafka_error_destroy(error);
		k->in_txn = false;
		k->txn_events = 0;
		return failed_out(k, errbuf, errlen);
	}

	k->in_txn = false;
	k->txn_events = 0;
	k->st.commits++;
	if (k->txn_has_events)
	{
		pos_clear(&k->durable);
		k->durable = k->txn_last;	/* opaque moves */
		memset(&k->txn_last, 0, sizeof(k->txn_last));
		k->have_durable = true;
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
	trib_kafka *k = sink->state;
	rd_kafka_error_t *error;

	if (k == NULL || k->rk == NULL)
	{
		kerr(k, errbuf, errlen, "kafka: sink not open");
		return false;
	}
	if (!k->c->transactional)
	{
		kerr(k, errbuf, errlen, "kafka: abort: the sink is not transactional");
		return false;
	}
	if (!k->in_txn)
		return true;
	error = rd_kafka_abort_transaction(k->rk, timeout_ms);
	rd_kafka_poll(k->rk, 0);
	k->in_txn = false;
	k->txn_has_events = false;
	k->txn_events = 0;
	pos_clear(&k->txn_last);
	if (error)
	{
		fail(k, "kafka: abort_transaction: %s (%s)",
			 rd_kafka_error_string(error), rd_kafka_error_name(error));
		rd_kafka_error_destroy(error);
		return failed_out(k, errbuf, errlen);
	}
	k->st.aborts++;
	return true;
}

/* Wait for every delivery (or commit, in transactional mode). */
static bool
kafka_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;
	rd_kafka_resp_err_t err;

	if (k == NULL || k->rk == NULL)
	{
		kerr(k, errbuf, errlen, "kafka: sink not open");
		return false;
	}
	if (k->c->transactional)
		return trib_kafka_commit(sink, timeout_ms, errbuf, errlen);
	err = rd_kafka_flush(k->rk, timeout_ms);
	maybe_ack(k);
	if (k->failed)
		return failed_out(k, errbuf, errlen);
	if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
	{
		/* not a failure: librdkafka keeps retrying (a broker is down or
		 * slow) until message.timeout.ms, and acks follow delivery; a
		 * permanent failure shows in a delivery report */
		klog(k, 4, "kafka: flush: %d message(s) still in flight after %d ms; "
			 "they are acknowledged when delivered", rd_kafka_outq_len(k->rk),
			 timeout_ms);
		return true;
	}
	if (err)
	{
		kerr(k, errbuf, errlen, "kafka: flush: %s with %d message(s) in flight",
			 rd_kafka_err2str(err), rd_kafka_outq_len(k->rk));
		return false;
	}
	return true;
}

/* Serve delivery reports and logs; ack what became durable.  False once
 * the sink has failed (a delivery report with a permanent error, a fatal
 * producer error), so an idle pipeline stops too. */
static bool
kafka_poll(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;

	if (k == NULL || k->rk == NULL)
	{
		kerr(k, errbuf, errlen, "kafka: sink not open");
		return false;
	}
	rd_kafka_poll(k->rk, timeout_ms);
	maybe_ack(k);
	if (k->failed)
		return failed_out(k, errbuf, errlen);
	return true;
}

/* ------------------------------------------------------------------------
 * The durable position (transactional mode)
 * ------------------------------------------------------------------------ */

/* Read [start, end) of our checkpoint partition; keep the last record with
 * our key.  Returns -1 on error, 0 when none, 1 when found. */
static int
read_window(trib_kafka *k, rd_kafka_t *rc, int64_t start, int64_t end,
			trib_position *out, char *errbuf, size_t errlen)
{
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_resp_err_t err;
	int64_t		deadline = mono_ms() + k->t.timeout_ms;
	int			found = 0;
	size_t		klen = strlen(k->ckpt_key);

	rd_kafka_topic_partition_list_add(parts, k->ckpt_topic, k->ckpt_part)->offset = start;
	err = rd_kafka_assign(rc, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	if (err)
	{
		kerr(k, errbuf, errlen, "kafka: checkpoint reader: assign: %s",
			 rd_kafka_err2str(err));
		return -1;
	}
	while (mono_ms() < deadline)
	{
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rc, 100);
		bool		stop = false;

		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			stop = true;
		else if (m->err)
		{
			kerr(k, errbuf, errlen, "kafka: checkpoint reader: %s",
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

				if (checkpoint_parse(m->payload, m->len, &p))
				{
					pos_clear(out);
					*out = p;
					found = 1;
				}
				else
					klog(k, 4, "kafka: unreadable checkpoint at %s [%d] offset %lld",
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
	kerr(k, errbuf, errlen, "kafka: checkpoint reader: timed out reading %s [%d]",
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

	if ((conf = base_conf(k, bootstrap, errbuf, errlen)) == NULL)
		return -1;
	if (!user_conf(k, conf, errbuf, errlen) ||
		!conf_set(k, conf, "group.id", "tributary-checkpoint-reader", errbuf, errlen) ||
		!conf_set(k, conf, "isolation.level", "read_committed", errbuf, errlen) ||
		!conf_set(k, conf, "enable.auto.commit", "false", errbuf, errlen) ||
		!conf_set(k, conf, "enable.partition.eof", "true", errbuf, errlen) ||
		!conf_set(k, conf, "auto.offset.reset", "earliest", errbuf, errlen))
	{
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	rc = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (rc == NULL)
	{
		rd_kafka_conf_destroy(conf);
		kerr(k, errbuf, errlen, "kafka: checkpoint reader: %s", err);
		return -1;
	}
	rd_kafka_set_log_queue(rc, NULL);
	rd_kafka_poll_set_consumer(rc);

	qerr = rd_kafka_query_watermark_offsets(rc, k->ckpt_topic, k->ckpt_part,
											&lo, &hi, k->t.timeout_ms);
	if (qerr)
	{
		kerr(k, errbuf, errlen, "kafka: checkpoint watermarks of %s [%d]: %s",
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
	return rv;
}

/* The last committed checkpoint (transactional mode only). */
static bool
kafka_durable_position(trib_sink *sink, trib_position *out,
					   char *errbuf, size_t errlen)
{
	trib_kafka *k = sink->state;
	int			rv;

	if (errlen)
		errbuf[0] = '\0';
	if (k == NULL || k->rk == NULL)
	{
		kerr(k, errbuf, errlen, "kafka: sink not open");
		return false;
	}
	if (!k->c->transactional)
		return false;			/* none: the pipeline's checkpoint store rules */
	if (!k->have_durable)
	{
		rv = read_checkpoint(k, &k->durable, errbuf, errlen);
		if (rv <= 0)
			return false;
		k->have_durable = true;
	}
	*out = k->durable;			/* opaque stays ours: valid until next call */
	return true;
}

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
		else if (!k->c->transactional)
		{
			rd_kafka_flush(k->rk, k->t.close_timeout_ms);
			maybe_ack(k);
		}
		rd_kafka_poll(k->rk, 0);
	}
	release_handles(k);
	state_free(k);
	sink->state = NULL;
}
