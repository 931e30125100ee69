/*
 * test_kafka.c: the Kafka sink against librdkafka's in-process mock
 * cluster (kafka_mock.c); no external broker.
 *
 * What is proved: N events give exactly N records, in order per key, each
 * with its id header; acks follow write order even when delivery reports
 * do not (a slow broker delivers the first event last); a broker going
 * down and up, retriable produce errors, and responses lost after the
 * broker appended lose nothing; a permanent error fails the sink without
 * acking past the failed event; transactions commit atomically with their
 * checkpoint, which a restarted sink reads back (also from behind another
 * pipeline's checkpoints); a transaction with a failed record is aborted
 * without a checkpoint; explicit aborts ack nothing; secrets never reach
 * the log or an error.
 *
 * Limits of the mock (librdkafka 2.0.2), and how the tests live with them:
 *   - it keeps only recent message sets: totals come from high
 *     watermarks, and records are read back where content matters;
 *   - it checks producer sequence numbers only for transactional
 *     producers, so "no duplicate after a resend" is asserted in
 *     transactional mode; the at-least-once runs assert "nothing lost"
 *     and report the copies a real broker would have dropped;
 *   - it has no read_committed filtering before librdkafka 2.15: the
 *     check that aborted records are invisible is skipped there, saying so;
 *   - it picks partition leaders at random: tests that need a broker to
 *     lead something set the leaders.
 *
 * TEST_FILTER=pattern runs a subset (cmocka_set_test_filter).
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <yajl/yajl_tree.h>

#include "ack_tracker.h"
#include "envelope.h"
#include "event.h"
#include "kafka_mock.h"
#include "keys.h"
#include "sink.h"
#include "sink_kafka.h"

#define TOPIC "tributary.public.orders"
#define API_PRODUCE 0			/* Kafka protocol ApiKey of Produce */

/* What the ack callback saw. */
typedef struct acks
{
	uint64_t	calls;
	trib_position last;
	bool		out_of_order;	/* an ack not after the previous one */
} acks;

/* Record an ack and check it moves forward. */
static void
on_ack(trib_sink *sink, const trib_position *pos, void *arg)
{
	acks	   *a = arg;

	(void) sink;
	if (a->calls > 0 &&
		(pos->commit_lsn < a->last.commit_lsn ||
		 (pos->commit_lsn == a->last.commit_lsn && pos->seq <= a->last.seq)))
		a->out_of_order = true;
	a->calls++;
	a->last.commit_lsn = pos->commit_lsn;
	a->last.seq = pos->seq;
}

/* Start a mock cluster or fail the test. */
static trib_kafka_mock *
mock_start(int brokers)
{
	char		err[256];
	trib_kafka_mock *m = trib_kafka_mock_start(brokers, err, sizeof(err));

	if (m == NULL)
		fail_msg("%s", err);
	return m;
}

/* Create a topic on the mock or fail. */
static void
mock_topic(trib_kafka_mock *m, const char *topic, int partitions, int replication)
{
	char		err[256];

	if (!trib_kafka_mock_create_topic(m, topic, partitions, replication,
									  err, sizeof(err)))
		fail_msg("%s", err);
}

/* Timeouts of every sink in these tests. */
static const trib_kafka_tuning TUNING = {.timeout_ms = 10000, .close_timeout_ms = 5000};

/* Settings for a sink on this cluster. */
static void
opts_for(trib_kafka_conf *o, const char *bootstrap)
{
	trib_kafka_conf_init(o);
	o->bootstrap_servers = (char *) bootstrap;
}

/* Open a sink with these tunings or fail. */
static void
sink_open_tuned(trib_sink *sink, acks *a, const trib_kafka_conf *o,
				const trib_kafka_tuning *t)
{
	char		err[512];

	memset(sink, 0, sizeof(*sink));
	sink->name = "kafka-test";
	sink->ack = on_ack;
	sink->ack_arg = a;
	if (!trib_kafka_open(sink, o, t, err, sizeof(err)))
		fail_msg("open: %s", err);
}

/* Open a sink or fail. */
static void
sink_open(trib_sink *sink, acks *a, const trib_kafka_conf *o)
{
	sink_open_tuned(sink, a, o, &TUNING);
}

/* ---- one test's cluster and sink -------------------------------------- */

/* What nearly every test below starts from: a mock cluster, the settings
 * of a sink on it, the sink, what it acked, and an error buffer. */
typedef struct fixture
{
	trib_kafka_mock *m;
	rd_kafka_mock_cluster_t *mc;	/* for fault injection */
	const char *bs;				/* the cluster's bootstrap servers */
	trib_kafka_conf o;
	trib_sink	sink;
	acks		a;
	char		err[512];
} fixture;

/* A cluster of `brokers` with TOPIC (partitions, replication) and, when
 * ckpt_replication > 0, the checkpoint topic (one partition); fx->o is set
 * for a sink on it.  Fails the test if the cluster does not start. */
static void
fx_start(fixture *fx, int brokers, int partitions, int replication,
		 int ckpt_replication)
{
	memset(fx, 0, sizeof(*fx));
	fx->m = mock_start(brokers);
	fx->mc = trib_kafka_mock_cluster(fx->m);
	fx->bs = trib_kafka_mock_bootstraps(fx->m);
	mock_topic(fx->m, TOPIC, partitions, replication);
	if (ckpt_replication > 0)
		mock_topic(fx->m, TRIB_KAFKA_CHECKPOINT_TOPIC, 1, ckpt_replication);
	opts_for(&fx->o, fx->bs);
}

/* Make the fixture's sink transactional with this transactional.id. */
static void
fx_transactional(fixture *fx, const char *id)
{
	fx->o.transactional = true;
	fx->o.transactional_id = (char *) id;
}

/* Open the fixture's sink (settings fx->o, acks into fx->a) or fail. */
static void
fx_open(fixture *fx)
{
	sink_open(&fx->sink, &fx->a, &fx->o);
}

/* Event i: key {"id":key}, its own transaction at commit_lsn 0x1000+i. */
static trib_event *
mkev(uint64_t i, int key)
{
	trib_event *ev = trib_event_new();
	char		buf[128];

	ev->op = TRIB_OP_CREATE;
	ev->source = "pg1";
	ev->connector = "postgresql";
	ev->db = "shop";
	ev->schema = "public";
	ev->table = "orders";
	snprintf(buf, sizeof(buf), "{\"id\":%d}", key);
	ev->key = strdup(buf);
	snprintf(buf, sizeof(buf), "{\"id\":%d,\"v\":%llu}", key, (unsigned long long) i);
	ev->after = strdup(buf);
	ev->txid = 1000 + (uint64_t) i;
	ev->ts_ms = 1700000000000LL;
	ev->pos.commit_lsn = 0x1000 + i;
	ev->pos.lsn = 0x1000 + i;
	ev->pos.seq = 0;
	return ev;
}

/* Write event i or fail. */
static void
write_ev(trib_sink *sink, uint64_t i, int key)
{
	char		err[512];
	trib_event *ev = mkev(i, key);

	if (!sink->ops->write(sink, ev, err, sizeof(err)))
		fail_msg("write %llu: %s", (unsigned long long) i, err);
	trib_event_free(ev);
}

/* A consumer on the cluster (read_committed or not). */
static rd_kafka_t *
consumer_new(const char *bootstrap, bool committed)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char		err[256];
	rd_kafka_t *rk;

	rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
	rd_kafka_conf_set(conf, "group.id", "test-reader", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
	rd_kafka_conf_set(conf, "isolation.level",
					  committed ? "read_committed" : "read_uncommitted",
					  err, sizeof(err));
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (rk == NULL)
		fail_msg("consumer: %s", err);
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

/* Partition count of a topic. */
static int
partitions_of(rd_kafka_t *rk, const char *topic)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md;
	int			cnt = -1;

	if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == 0)
	{
		if (md->topic_cnt == 1 && md->topics[0].err == 0)
			cnt = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	if (cnt < 1)
		fail_msg("no partitions for %s", topic);
	return cnt;
}

/* Records in a topic, by offsets: the sum of the high watermarks. */
static int64_t
count_by_offsets(const char *bootstrap, const char *topic)
{
	rd_kafka_t *rk = consumer_new(bootstrap, false);
	int			np = partitions_of(rk, topic);
	int64_t		total = 0;

	for (int p = 0; p < np; p++)
	{
		int64_t		lo;
		int64_t		hi;
		rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);

		if (err)
			fail_msg("watermarks %s [%d]: %s", topic, p, rd_kafka_err2str(err));
		total += hi;
	}
	rd_kafka_destroy(rk);
	return total;
}

/* What reading a topic back found. */
typedef struct readback
{
	int64_t		records;
	int64_t		tombstones;
	int			nkeys;
	int64_t		last_v[64];		/* per key: the last "v" seen, -1 none */
	bool		order_broken;	/* a key's v went backwards */
	bool		duplicate;		/* an id seen twice */
	bool		missing_header;
	char	  **ids;			/* every tributary.id seen */
	size_t		nids;
} readback;

/* Remember an id; flag duplicates (linear: tests are small). */
static void
rb_id(readback *rb, const char *id, size_t len)
{
	for (size_t i = 0; i < rb->nids; i++)
		if (strlen(rb->ids[i]) == len && memcmp(rb->ids[i], id, len) == 0)
		{
			rb->duplicate = true;
			return;
		}
	rb->ids = realloc(rb->ids, (rb->nids + 1) * sizeof(char *));
	rb->ids[rb->nids] = strndup(id, len);
	rb->nids++;
}

/* Check one consumed record: header, key order. */
static void
rb_record(readback *rb, const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *hdrs = NULL;
	const void *val;
	size_t		vlen;

	rb->records++;
	if (rd_kafka_message_headers(m, &hdrs) != 0 ||
		rd_kafka_header_get_last(hdrs, TRIB_KAFKA_ID_HEADER, &val, &vlen) != 0)
		rb->missing_header = true;
	else if (m->payload != NULL)
		rb_id(rb, val, vlen);
	if (m->payload == NULL)
	{
		rb->tombstones++;
		return;
	}
	{
		char	   *s = strndup(m->payload, m->len);
		yajl_val	root = yajl_tree_parse(s, NULL, 0);
		static const char *idp[] = {"after", "id", NULL};
		static const char *vp[] = {"after", "v", NULL};
		yajl_val	id = root ? yajl_tree_get(root, idp, yajl_t_number) : NULL;
		yajl_val	v = root ? yajl_tree_get(root, vp, yajl_t_number) : NULL;

		if (id && v && YAJL_GET_INTEGER(id) < 64)
		{
			int			k = (int) YAJL_GET_INTEGER(id);

			if (YAJL_GET_INTEGER(v) <= rb->last_v[k])
				rb->order_broken = true;
			rb->last_v[k] = YAJL_GET_INTEGER(v);
		}
		if (root)
			yajl_tree_free(root);
		free(s);
	}
}

/* Read every partition of a topic from the start to its end. */
static void
read_back(const char *bootstrap, const char *topic, bool committed, readback *rb)
{
	rd_kafka_t *rk = consumer_new(bootstrap, committed);
	int			np = partitions_of(rk, topic);
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(np);
	int			eofs = 0;
	time_t		deadline = time(NULL) + 20;

	memset(rb, 0, sizeof(*rb));
	for (int k = 0; k < 64; k++)
		rb->last_v[k] = -1;
	for (int p = 0; p < np; p++)
		rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	while (eofs < np && time(NULL) < deadline)
	{
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			eofs++;
		else if (m->err)
			fail_msg("read %s: %s", topic, rd_kafka_message_errstr(m));
		else
			rb_record(rb, m);
		rd_kafka_message_destroy(m);
	}
	if (eofs < np)
		fail_msg("read %s: timed out (%d of %d partitions at the end)", topic, eofs, np);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
}

/* Free what read_back kept. */
static void
rb_free(readback *rb)
{
	for (size_t i = 0; i < rb->nids; i++)
		free(rb->ids[i]);
	free(rb->ids);
}

/* The N events were drained: flush (30 s) succeeds and the last ack is
 * event N - 1. */
static void
drained(trib_sink *sink, const acks *a, int n)
{
	char		err[512];

	if (!sink->ops->flush(sink, 30000, err, sizeof(err)))
		fail_msg("flush: %s", err);
	assert_int_equal(a->last.commit_lsn, 0x1000 + n - 1);
}

/* What was read back of TOPIC holds each of the N events once, in order
 * per key, and the partitions' offsets count N records. */
static void
exactly_n(const readback *rb, const char *bootstrap, int n)
{
	assert_false(rb->duplicate);
	assert_false(rb->order_broken);
	assert_int_equal(count_by_offsets(bootstrap, TOPIC), n);
}

/* Copies the mock wrote for a non-transactional producer (it does not
 * check their sequences), said but not counted as a failure. */
static void
note_copies(const readback *rb, int n)
{
	print_message("    (the mock does not check sequences of non-transactional "
				  "producers: %lld records for %d events)\n",
				  (long long) rb->records, n);
}

/* A key that murmur2 puts in partition p of n. */
static int
key_for_partition(int p, int n)
{
	for (int k = 0; k < 1000; k++)
	{
		char		buf[32];
		int			len = snprintf(buf, sizeof(buf), "{\"id\":%d}", k);

		if (rd_kafka_msg_partitioner_murmur2_random(NULL, buf, (size_t) len, n,
													NULL, NULL) == p)
			return k;
	}
	fail_msg("no key for partition %d", p);
	return -1;
}

/* Sleep while serving the sink. */
static void
serve(trib_sink *sink, int ms)
{
	char		err[512];

	for (int t = 0; t < ms; t += 50)
		if (!sink->ops->poll(sink, 50, err, sizeof(err)))
			fail_msg("poll: %s", err);
}

/* ---- the tracker, without Kafka ---------------------------------------- */

/* Acks follow write order whatever order deliveries complete in. */
static void
test_tracker_low_watermark(void **state)
{
	trib_ack_tracker *t = trib_ack_tracker_new(4);
	const trib_position *out;
	uint64_t	n[5];

	(void) state;
	for (int i = 0; i < 5; i++)
	{
		trib_position p = {.commit_lsn = 100 + (uint64_t) i};

		n[i] = trib_ack_tracker_push(t, &p);
		trib_ack_tracker_add(t, n[i]);
		trib_ack_tracker_seal(t, n[i]);
	}
	trib_ack_tracker_done(t, n[2]);
	assert_false(trib_ack_tracker_advance(t, &out));
	trib_ack_tracker_done(t, n[0]);
	assert_true(trib_ack_tracker_advance(t, &out));
	assert_int_equal(out->commit_lsn, 100);
	trib_ack_tracker_done(t, n[1]);
	assert_true(trib_ack_tracker_advance(t, &out));
	assert_int_equal(out->commit_lsn, 102);
	trib_ack_tracker_done(t, n[4]);
	assert_false(trib_ack_tracker_advance(t, &out));
	assert_int_equal(trib_ack_tracker_in_flight(t), 2);
	trib_ack_tracker_done(t, n[3]);
	assert_true(trib_ack_tracker_advance(t, &out));
	assert_int_equal(out->commit_lsn, 104);
	assert_int_equal(trib_ack_tracker_in_flight(t), 0);
	trib_ack_tracker_free(t);
}

/* An event with two records (delete + tombstone) is complete only when
 * both are delivered and it is sealed. */
static void
test_tracker_multi_record_and_seal(void **state)
{
	trib_ack_tracker *t = trib_ack_tracker_new(1);
	const trib_position *out;
	trib_position p = {.commit_lsn = 7, .opaque = "{\"gtid\":\"x:1\"}"};
	uint64_t	n = trib_ack_tracker_push(t, &p);

	(void) state;
	trib_ack_tracker_add(t, n);
	trib_ack_tracker_done(t, n);	/* delete delivered before the tombstone
									 * is even enqueued */
	assert_false(trib_ack_tracker_advance(t, &out));
	trib_ack_tracker_add(t, n);
	trib_ack_tracker_seal(t, n);
	assert_false(trib_ack_tracker_advance(t, &out));
	trib_ack_tracker_done(t, n);
	assert_true(trib_ack_tracker_advance(t, &out));
	assert_string_equal(out->opaque, "{\"gtid\":\"x:1\"}");
	trib_ack_tracker_free(t);
}

/* 100000 events completed in a scrambled order while the ring grows:
 * acks only ever move forward and end at the last event. */
static void
test_tracker_scrambled_growth(void **state)
{
	enum
	{
	N = 100000};
	trib_ack_tracker *t = trib_ack_tracker_new(2);
	uint64_t   *order = malloc(N * sizeof(uint64_t));
	uint64_t	last = 0;
	uint64_t	nacks = 0;
	uint64_t	seed = 42;

	(void) state;
	for (uint64_t i = 0; i < N; i++)
	{
		trib_position p = {.commit_lsn = i + 1};
		uint64_t	n = trib_ack_tracker_push(t, &p);

		trib_ack_tracker_add(t, n);
		trib_ack_tracker_seal(t, n);
		order[i] = n;
	}
	for (uint64_t i = N - 1; i > 0; i--)
	{
		uint64_t	j;
		uint64_t	tmp;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (seed >> 33) % (i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (uint64_t i = 0; i < N; i++)
	{
		const trib_position *out;

		trib_ack_tracker_done(t, order[i]);
		if (trib_ack_tracker_advance(t, &out))
		{
			assert_true(out->commit_lsn > last);
			last = out->commit_lsn;
			nacks++;
		}
	}
	assert_int_equal(last, N);
	assert_true(nacks >= 1);
	assert_int_equal(trib_ack_tracker_in_flight(t), 0);
	free(order);
	trib_ack_tracker_free(t);
}

/* Secret-looking property names. */
static void
test_secret_property_names(void **state)
{
	(void) state;
	assert_true(trib_kafka_secret_property("sasl.password"));
	assert_true(trib_kafka_secret_property("ssl.key.password"));
	assert_true(trib_kafka_secret_property("ssl.key.pem"));
	assert_true(trib_kafka_secret_property("sasl.oauthbearer.client.secret"));
	assert_true(trib_kafka_secret_property("sasl.oauthbearer.config"));
	assert_true(trib_kafka_secret_property("ssl.keystore.password"));
	assert_false(trib_kafka_secret_property("sasl.username"));
	assert_false(trib_kafka_secret_property("linger.ms"));
	assert_false(trib_kafka_secret_property("compression.type"));
}

/* ---- the sink on the mock cluster -------------------------------------- */

/* N events: exactly N records, in order per key, every one with its id;
 * the last ack is the last event. */
static void
test_produce_exactly_n_in_order(void **state)
{
	enum
	{
	N = 2000};
	fixture		fx;
	trib_kafka_stats st;
	readback	rb;

	(void) state;
	fx_start(&fx, 3, 4, 3, 0);
	fx_open(&fx);
	for (int i = 0; i < N; i++)
		write_ev(&fx.sink, (uint64_t) i, i % 50);
	if (!fx.sink.ops->flush(&fx.sink, 20000, fx.err, sizeof(fx.err)))
		fail_msg("flush: %s", fx.err);
	trib_kafka_get_stats(&fx.sink, &st);
	assert_int_equal(st.events, N);
	assert_int_equal(st.delivered, N);
	assert_int_equal(st.in_flight, 0);
	assert_false(fx.a.out_of_order);
	assert_int_equal(fx.a.last.commit_lsn, 0x1000 + N - 1);
	fx.sink.ops->close(&fx.sink);

	assert_int_equal(count_by_offsets(fx.bs, TOPIC), N);
	read_back(fx.bs, TOPIC, false, &rb);
	assert_int_equal(rb.records, N);
	assert_int_equal(rb.nids, N);
	assert_false(rb.duplicate);
	assert_false(rb.order_broken);
	assert_false(rb.missing_header);
	rb_free(&rb);
	trib_kafka_mock_stop(fx.m);
}

/* The tributary.id header of each record is trib_envelope_event_id's
 * text of its event, also while events share a commit LSN (the sink
 * keeps that part's text) and when the commit LSN changes or seq grows
 * to 20 digits. */
static void
test_event_id_header_text(void **state)
{
	static const struct
	{
		uint64_t	commit_lsn;
		uint64_t	seq;
	}			pos[] = {
		{0x16B3748, 0}, {0x16B3748, 1}, {0x16B3748, 9}, {0x16B3748, 10},
		{0x16B3748, 12345}, {0x200000000ULL, 3}, {0x200000000ULL, UINT64_MAX},
		{0x16B3748, 4}, {0, 7}, {0, 100},
	};
	enum
	{
	N = sizeof(pos) / sizeof(pos[0])};
	fixture		fx;
	readback	rb;

	(void) state;
	fx_start(&fx, 1, 1, 1, 0);
	fx_open(&fx);
	for (int i = 0; i < N; i++)
	{
		trib_event *ev = mkev((uint64_t) i, i);

		ev->pos.commit_lsn = pos[i].commit_lsn;
		ev->pos.seq = pos[i].seq;
		if (!fx.sink.ops->write(&fx.sink, ev, fx.err, sizeof(fx.err)))
			fail_msg("write %d: %s", i, fx.err);
		trib_event_free(ev);
	}
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	fx.sink.ops->close(&fx.sink);
	read_back(fx.bs, TOPIC, false, &rb);
	assert_int_equal(rb.nids, N);
	for (int i = 0; i < N; i++)
	{
		trib_position p = {.commit_lsn = pos[i].commit_lsn, .seq = pos[i].seq};
		char		want[TRIB_ENVELOPE_ID_LEN];

		trib_envelope_event_id(&p, want, sizeof(want));
		assert_string_equal(rb.ids[i], want);
	}
	rb_free(&rb);
	trib_kafka_mock_stop(fx.m);
}

/* While an ack is owed, the sink's wake_fd becomes readable before it is
 * handed out, so a caller that sleeps on the descriptor (the pipeline,
 * with its source) never sleeps through one; a transactional sink, which
 * acks at a commit, has none. */
static void
test_wake_fd_signals_every_ack(void **state)
{
	fixture		fx;
	int			fd;

	(void) state;
	fx_start(&fx, 1, 1, 1, 1);
	fx_open(&fx);
	fd = fx.sink.ops->wake_fd(&fx.sink);
	assert_true(fd > 0);
	for (int i = 0; i < 3; i++)
	{
		int			waits = 0;

		if (!fx.sink.ops->poll(&fx.sink, 0, fx.err, sizeof(fx.err)))
			fail_msg("poll: %s", fx.err);
		write_ev(&fx.sink, (uint64_t) i, i);
		while (fx.a.calls == 0 || fx.a.last.commit_lsn != 0x1000 + (uint64_t) i)
		{
			struct pollfd pfd = {.fd = fd, .events = POLLIN};

			if (poll(&pfd, 1, 10000) != 1)
				fail_msg("event %d: no wake-up within 10 s while its ack is owed", i);
			if (!fx.sink.ops->poll(&fx.sink, 0, fx.err, sizeof(fx.err)))
				fail_msg("poll: %s", fx.err);
			assert_true(++waits < 100);
		}
	}
	assert_false(fx.a.out_of_order);
	fx.sink.ops->close(&fx.sink);

	fx_transactional(&fx, "wake-test");
	fx_open(&fx);
	assert_true(fx.sink.ops->wake_fd(&fx.sink) <= 0);
	fx.sink.ops->close(&fx.sink);
	trib_kafka_mock_stop(fx.m);
}

/* Deletes bring their tombstones; both count in the topic. */
static void
test_delete_tombstones_produced(void **state)
{
	fixture		fx;
	readback	rb;
	trib_event *ev;

	(void) state;
	fx_start(&fx, 1, 2, 1, 0);
	fx_open(&fx);
	write_ev(&fx.sink, 0, 1);
	ev = mkev(1, 1);
	ev->op = TRIB_OP_DELETE;
	ev->before = ev->after;
	ev->after = NULL;
	if (!fx.sink.ops->write(&fx.sink, ev, fx.err, sizeof(fx.err)))
		fail_msg("write: %s", fx.err);
	trib_event_free(ev);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.last.commit_lsn, 0x1001);
	fx.sink.ops->close(&fx.sink);
	read_back(fx.bs, TOPIC, false, &rb);
	assert_int_equal(rb.records, 3);
	assert_int_equal(rb.tombstones, 1);
	rb_free(&rb);
	trib_kafka_mock_stop(fx.m);
}

/* Event A goes to a slow broker, B to a fast one: B is delivered first,
 * but nothing is acked until A is, and then one ack covers both. */
static void
test_acks_in_order_when_deliveries_are_not(void **state)
{
	fixture		fx;
	trib_kafka_stats st;
	int			k0 = key_for_partition(0, 2);
	int			k1 = key_for_partition(1, 2);
	time_t		deadline;

	(void) state;
	fx_start(&fx, 2, 2, 1, 0);
	rd_kafka_mock_partition_set_leader(fx.mc, TOPIC, 0, 1);
	rd_kafka_mock_partition_set_leader(fx.mc, TOPIC, 1, 2);
	fx_open(&fx);
	/* warm up: metadata and producer id before the delay */
	write_ev(&fx.sink, 0, k0);
	write_ev(&fx.sink, 1, k1);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.last.commit_lsn, 0x1001);
	fx.a.calls = 0;

	rd_kafka_mock_broker_set_rtt(fx.mc, 1, 1500);
	write_ev(&fx.sink, 2, k0);		/* A: partition 0, broker 1, slow */
	write_ev(&fx.sink, 3, k1);		/* B: partition 1, broker 2, fast */
	deadline = time(NULL) + 10;
	do
	{
		assert_true(fx.sink.ops->poll(&fx.sink, 20, fx.err, sizeof(fx.err)));
		trib_kafka_get_stats(&fx.sink, &st);
	} while (st.delivered < 3 && time(NULL) < deadline);
	assert_int_equal(st.delivered, 3);	/* B, not A */
	assert_int_equal(fx.a.calls, 0);
	assert_int_equal(st.in_flight, 2);

	rd_kafka_mock_broker_set_rtt(fx.mc, 1, 0);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.calls, 1);
	assert_int_equal(fx.a.last.commit_lsn, 0x1003);
	assert_false(fx.a.out_of_order);
	fx.sink.ops->close(&fx.sink);
	trib_kafka_mock_stop(fx.m);
}

/*
 * A broker goes down in the middle of the stream and comes back.  Nothing
 * is lost and, in order per key, every id arrives.  Requests the broker
 * had appended when its connections dropped are sent again; with the
 * transactional producer (the mock checks sequences there) the copies are
 * dropped and the topic holds exactly N; at-least-once mode must not lose
 * anything (a real broker also drops the copies of an idempotent
 * producer; the mock does not, and the test reports any it wrote).
 */
static void
broker_down_then_up(bool transactional)
{
	enum
	{
	N = 3000};
	fixture		fx;
	readback	rb;
	trib_kv		props[] = {
		{"reconnect.backoff.ms", "20"},
		{"reconnect.backoff.max.ms", "200"},
	};

	fx_start(&fx, 3, 6, 3, 3);
	/* the mock picks leaders at random: make broker 2 lead two partitions */
	for (int p = 0; p < 6; p++)
		rd_kafka_mock_partition_set_leader(fx.mc, TOPIC, p, p % 3 + 1);
	rd_kafka_mock_partition_set_leader(fx.mc, TRIB_KAFKA_CHECKPOINT_TOPIC, 0, 1);
	rd_kafka_mock_coordinator_set(fx.mc, "transaction", "tributary-test-down", 1);
	fx.o.properties.items = props;
	fx.o.properties.count = 2;
	fx.o.transactional = transactional;
	fx.o.transactional_id = "tributary-test-down";
	fx_open(&fx);
	for (int i = 0; i < N / 2; i++)
		write_ev(&fx.sink, (uint64_t) i, i % 60);
	rd_kafka_mock_broker_set_down(fx.mc, 2);
	for (int i = N / 2; i < N; i++)
		write_ev(&fx.sink, (uint64_t) i, i % 60);
	serve(&fx.sink, 1500);
	/* acks are stuck behind broker 2's partitions (or the commit) */
	if (fx.a.calls > 0 && fx.a.last.commit_lsn >= 0x1000 + N - 1)
	{
		trib_kafka_stats st;

		trib_kafka_get_stats(&fx.sink, &st);
		fail_msg("acked up to event %llu with broker 2 down (delivered %llu)",
				 (unsigned long long) (fx.a.last.commit_lsn - 0x1000),
				 (unsigned long long) st.delivered);
	}
	rd_kafka_mock_broker_set_up(fx.mc, 2);
	drained(&fx.sink, &fx.a, N);
	assert_false(fx.a.out_of_order);
	fx.sink.ops->close(&fx.sink);

	read_back(fx.bs, TOPIC, false, &rb);
	assert_int_equal(rb.nids, N);	/* nothing lost */
	if (transactional || !rb.duplicate)
		exactly_n(&rb, fx.bs, N);
	else
		note_copies(&rb, N);
	rb_free(&rb);
	trib_kafka_mock_stop(fx.m);
}

static void
test_broker_down_then_up_transactional_exactly_n(void **state)
{
	(void) state;
	broker_down_then_up(true);
}

static void
test_broker_down_then_up_idempotent_nothing_lost(void **state)
{
	(void) state;
	broker_down_then_up(false);
}

/* A flush that times out while the broker is down is not a failure: it
 * returns true without acking, and the acks come once the broker is back. */
static void
test_flush_timeout_while_down_is_not_a_failure(void **state)
{
	fixture		fx;
	trib_kafka_stats st;

	(void) state;
	fx_start(&fx, 1, 1, 1, 0);
	fx_open(&fx);
	write_ev(&fx.sink, 0, 1);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.last.commit_lsn, 0x1000);

	rd_kafka_mock_broker_set_down(fx.mc, 1);
	write_ev(&fx.sink, 1, 1);
	write_ev(&fx.sink, 2, 1);
	if (!fx.sink.ops->flush(&fx.sink, 500, fx.err, sizeof(fx.err)))
		fail_msg("flush while down: %s", fx.err);
	assert_int_equal(fx.a.last.commit_lsn, 0x1000);	/* nothing more acked */
	trib_kafka_get_stats(&fx.sink, &st);
	assert_int_equal(st.in_flight, 2);
	assert_false(trib_kafka_error(&fx.sink, fx.err, sizeof(fx.err)));

	rd_kafka_mock_broker_set_up(fx.mc, 1);
	if (!fx.sink.ops->flush(&fx.sink, 20000, fx.err, sizeof(fx.err)))
		fail_msg("flush after up: %s", fx.err);
	assert_int_equal(fx.a.last.commit_lsn, 0x1002);
	assert_false(fx.a.out_of_order);
	fx.sink.ops->close(&fx.sink);
	trib_kafka_mock_stop(fx.m);
}

/* The pipeline's periodic flush gives timeout 0, "do not wait": without
 * transactions the sink returns while records are in flight (the broker
 * is down here, so nothing can be delivered) and their acks come through
 * poll once it is back; a transactional sink still commits, since its
 * events are durable only then. */
static void
test_flush_without_waiting(void **state)
{
	fixture		fx;
	trib_kafka_stats st;
	trib_position pos;

	(void) state;
	fx_start(&fx, 1, 1, 1, 1);
	fx_open(&fx);
	write_ev(&fx.sink, 0, 1);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	rd_kafka_mock_broker_set_down(fx.mc, 1);
	write_ev(&fx.sink, 1, 1);
	assert_true(fx.sink.ops->flush(&fx.sink, 0, fx.err, sizeof(fx.err)));
	trib_kafka_get_stats(&fx.sink, &st);
	assert_int_equal(st.in_flight, 1);
	assert_int_equal(fx.a.last.commit_lsn, 0x1000);
	rd_kafka_mock_broker_set_up(fx.mc, 1);
	for (int i = 0; i < 2000 && fx.a.last.commit_lsn != 0x1001; i++)
		assert_true(fx.sink.ops->poll(&fx.sink, 10, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.last.commit_lsn, 0x1001);
	fx.sink.ops->close(&fx.sink);

	memset(&fx.a, 0, sizeof(fx.a));
	opts_for(&fx.o, fx.bs);
	fx_transactional(&fx, "tributary-test-flush0");
	fx_open(&fx);
	write_ev(&fx.sink, 2, 1);
	if (!fx.sink.ops->flush(&fx.sink, 0, fx.err, sizeof(fx.err)))
		fail_msg("transactional flush with timeout 0: %s", fx.err);
	assert_int_equal(fx.a.last.commit_lsn, 0x1002);
	assert_true(fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)));
	assert_int_equal(pos.commit_lsn, 0x1002);
	fx.sink.ops->close(&fx.sink);
	trib_kafka_mock_stop(fx.m);
}

/* Brings broker 1 of the cluster back up after 300 ms (a thread). */
static void *
broker_up_later(void *arg)
{
	usleep(300 * 1000);
	rd_kafka_mock_broker_set_up((rd_kafka_mock_cluster_t *) arg, 1);
	return NULL;
}

/* A pipeline that lost its lock sets sink->discard before close (sink.h):
 * what the producer still queues is purged, not flushed, so a standby that
 * took over is the only writer.  The broker is down while two records
 * queue and comes back while close runs: a close that flushed (as without
 * discard, checked first) delivers them. */
static void
test_close_with_discard_purges_the_queue(void **state)
{
	fixture		fx;
	pthread_t	th;

	(void) state;
	for (int discard = 0; discard <= 1; discard++)
	{
		fx_start(&fx, 1, 1, 1, 0);
		fx_open(&fx);
		write_ev(&fx.sink, 0, 1);
		assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
		rd_kafka_mock_broker_set_down(fx.mc, 1);
		write_ev(&fx.sink, 1, 1);
		write_ev(&fx.sink, 2, 1);
		fx.sink.discard = discard;
		assert_int_equal(pthread_create(&th, NULL, broker_up_later, fx.mc), 0);
		fx.sink.ops->close(&fx.sink);
		pthread_join(th, NULL);
		usleep(500 * 1000);		/* anything still on its way lands */
		assert_int_equal(count_by_offsets(fx.bs, TOPIC), discard ? 1 : 3);
		trib_kafka_mock_stop(fx.m);
	}
}

/* Retriable errors on Produce (leader moved, request timed out): the
 * producer retries and the topic still holds exactly N. */
static void
test_retriable_errors_exactly_n(void **state)
{
	enum
	{
	N = 1000};
	fixture		fx;
	readback	rb;
	trib_kv		props[] = {{"retry.backoff.ms", "10"}};

	(void) state;
	fx_start(&fx, 3, 3, 3, 0);
	fx.o.properties.items = props;
	fx.o.properties.count = 1;
	fx_open(&fx);
	write_ev(&fx.sink, 0, 0);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	rd_kafka_mock_push_request_errors(fx.mc, API_PRODUCE, 8,
									  RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
									  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
									  RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
									  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
									  RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
									  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
									  RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
									  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
	for (int i = 1; i < N; i++)
		write_ev(&fx.sink, (uint64_t) i, i % 40);
	drained(&fx.sink, &fx.a, N);
	fx.sink.ops->close(&fx.sink);

	assert_int_equal(count_by_offsets(fx.bs, TOPIC), N);
	read_back(fx.bs, TOPIC, false, &rb);
	assert_int_equal(rb.nids, N);
	assert_false(rb.duplicate);
	assert_false(rb.order_broken);
	rb_free(&rb);
	trib_kafka_mock_stop(fx.m);
}

/*
 * Responses lost after the broker appended: the client times the request
 * out and sends the batch again with the same producer id and sequence.
 * A broker that checks sequences acks the copy without writing it.  The
 * mock checks sequences only for transactional producers (librdkafka
 * 2.0.2 up to at least 2.15), so the transactional run proves exactly N
 * and order, and the at-least-once run proves that nothing is lost (the
 * mock writes the copies a real broker drops, and reports how many).
 */
static void
lost_responses(bool transactional)
{
	enum
	{
	N = 300};
	fixture		fx;
	readback	rb;
	trib_kv		props[] = {
		{"socket.timeout.ms", "500"},
		{"request.timeout.ms", "500"},
		{"retry.backoff.ms", "10"},
	};

	fx_start(&fx, 1, 2, 1, 1);
	fx.o.properties.items = props;
	fx.o.properties.count = 3;
	fx.o.transactional = transactional;
	fx.o.transactional_id = "tributary-test-lost";
	fx_open(&fx);
	write_ev(&fx.sink, 0, 0);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	/* every response now arrives after the client gave up on it */
	rd_kafka_mock_broker_set_rtt(fx.mc, 1, 2500);
	for (int i = 1; i < N; i++)
		write_ev(&fx.sink, (uint64_t) i, i % 20);
	serve(&fx.sink, 3000);
	rd_kafka_mock_broker_set_rtt(fx.mc, 1, 0);
	drained(&fx.sink, &fx.a, N);
	fx.sink.ops->close(&fx.sink);

	read_back(fx.bs, TOPIC, false, &rb);
	assert_int_equal(rb.nids, N);	/* every event at least once */
	if (transactional)
		exactly_n(&rb, fx.bs, N);
	else if (rb.duplicate)
		note_copies(&rb, N);
	rb_free(&rb);
	trib_kafka_mock_stop(fx.m);
}

static void
test_lost_responses_transactional_exactly_n(void **state)
{
	(void) state;
	lost_responses(true);
}

static void
test_lost_responses_idempotent_nothing_lost(void **state)
{
	(void) state;
	lost_responses(false);
}

/* A permanent error: flush and later writes fail, nothing past the last
 * delivered event is acked. */
static void
test_permanent_error_fails_without_ack(void **state)
{
	fixture		fx;
	trib_event *ev;

	(void) state;
	fx_start(&fx, 1, 1, 1, 0);
	fx_open(&fx);
	write_ev(&fx.sink, 0, 1);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.last.commit_lsn, 0x1000);

	rd_kafka_mock_push_request_errors(fx.mc, API_PRODUCE, 1,
									  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	write_ev(&fx.sink, 1, 1);
	assert_false(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	if (strstr(fx.err, "uthoriz") == NULL)
		fail_msg("expected an authorization error, got: %s", fx.err);
	assert_true(trib_kafka_error(&fx.sink, fx.err, sizeof(fx.err)));
	assert_non_null(strstr(fx.err, "uthoriz"));
	assert_int_equal(fx.a.last.commit_lsn, 0x1000);
	ev = mkev(2, 1);
	assert_false(fx.sink.ops->write(&fx.sink, ev, fx.err, sizeof(fx.err)));
	trib_event_free(ev);
	fx.sink.ops->close(&fx.sink);
	assert_int_equal(fx.a.last.commit_lsn, 0x1000);
	trib_kafka_mock_stop(fx.m);
}

/* A permanent error seen while idle: poll reports it (no write or flush
 * needed), and nothing past the last delivered event is acked. */
static void
test_poll_reports_failure_while_idle(void **state)
{
	fixture		fx;
	bool		ok = true;
	time_t		deadline;

	(void) state;
	fx_start(&fx, 1, 1, 1, 0);
	fx_open(&fx);
	write_ev(&fx.sink, 0, 1);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_true(fx.sink.ops->poll(&fx.sink, 0, fx.err, sizeof(fx.err)));

	rd_kafka_mock_push_request_errors(fx.mc, API_PRODUCE, 1,
									  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	write_ev(&fx.sink, 1, 1);
	/* from here on only poll, as an idle pipeline does */
	deadline = time(NULL) + 15;
	while (ok && time(NULL) < deadline)
		ok = fx.sink.ops->poll(&fx.sink, 50, fx.err, sizeof(fx.err));
	assert_false(ok);
	if (strstr(fx.err, "uthoriz") == NULL)
		fail_msg("expected an authorization error from poll, got: %s", fx.err);
	assert_false(fx.sink.ops->poll(&fx.sink, 0, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.last.commit_lsn, 0x1000);
	fx.sink.ops->close(&fx.sink);
	assert_int_equal(fx.a.last.commit_lsn, 0x1000);
	trib_kafka_mock_stop(fx.m);
}

/* bootstrap_servers "embedded" starts its own cluster. */
static void
test_embedded_cluster(void **state)
{
	trib_kafka_conf o;
	trib_sink	sink;
	acks		a = {0};
	char		err[512];

	(void) state;
	opts_for(&o, "embedded");
	sink_open(&sink, &a, &o);
	for (int i = 0; i < 10; i++)
		write_ev(&sink, (uint64_t) i, i);
	assert_true(sink.ops->flush(&sink, 10000, err, sizeof(err)));
	assert_int_equal(a.last.commit_lsn, 0x1009);
	sink.ops->close(&sink);
	assert_null(sink.state);
}

/* Transactional on a cluster without the checkpoint topic: the sink
 * creates it (here by auto-creation: the mock has no CreateTopics). */
static void
test_checkpoint_topic_created(void **state)
{
	trib_kafka_conf o;
	trib_sink	sink;
	acks		a = {0};
	char		err[512];
	trib_position pos;

	(void) state;
	opts_for(&o, "embedded");
	o.transactional = true;
	o.transactional_id = "tributary-test-create";
	sink_open(&sink, &a, &o);
	write_ev(&sink, 0, 1);
	assert_true(sink.ops->flush(&sink, 10000, err, sizeof(err)));
	assert_true(sink.ops->durable_position(&sink, &pos, err, sizeof(err)));
	assert_int_equal(pos.commit_lsn, 0x1000);
	sink.ops->close(&sink);
}

/* Transactional: commit makes the records visible to read_committed
 * consumers with the checkpoint; a new sink reads the checkpoint back. */
static void
test_transaction_commit_and_checkpoint(void **state)
{
	fixture		fx;
	readback	rb;
	trib_position pos;
	trib_kafka_stats st;

	(void) state;
	fx_start(&fx, 1, 2, 1, 1);
	fx_transactional(&fx, "tributary-test-1");
	fx_open(&fx);
	fx.err[0] = 'x';
	assert_false(fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)));
	assert_string_equal(fx.err, "");	/* none, not an error */

	assert_true(trib_kafka_begin(&fx.sink, fx.err, sizeof(fx.err)));
	for (int i = 0; i < 10; i++)
		write_ev(&fx.sink, (uint64_t) i, i);
	serve(&fx.sink, 100);
	assert_int_equal(fx.a.calls, 0);	/* delivered is not committed */
	trib_kafka_get_stats(&fx.sink, &st);
	assert_int_equal(st.in_flight, 10);
	if (!trib_kafka_commit(&fx.sink, 10000, fx.err, sizeof(fx.err)))
		fail_msg("commit: %s", fx.err);
	assert_int_equal(fx.a.calls, 1);
	assert_int_equal(fx.a.last.commit_lsn, 0x1009);

	read_back(fx.bs, TOPIC, true, &rb);
	assert_int_equal(rb.records, 10);
	rb_free(&rb);

	/* a second transaction through the generic interface: write, flush */
	for (int i = 10; i < 15; i++)
		write_ev(&fx.sink, (uint64_t) i, i);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.last.commit_lsn, 0x100e);
	assert_true(fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)));
	assert_int_equal(pos.commit_lsn, 0x100e);
	trib_kafka_get_stats(&fx.sink, &st);
	assert_int_equal(st.commits, 2);
	fx.sink.ops->close(&fx.sink);

	/* a restarted pipeline: the checkpoint comes back from Kafka */
	fx_open(&fx);
	if (!fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)))
		fail_msg("durable_position: %s", fx.err[0] ? fx.err : "none");
	assert_int_equal(pos.commit_lsn, 0x100e);
	assert_int_equal(pos.seq, 0);
	assert_int_equal(pos.lsn, 0x100e);
	fx.sink.ops->close(&fx.sink);

	assert_int_equal(count_by_offsets(fx.bs, TRIB_KAFKA_CHECKPOINT_TOPIC), 2);
	assert_int_equal(count_by_offsets(fx.bs, TOPIC), 15);
	trib_kafka_mock_stop(fx.m);
}

/* A source's native position (a long GTID set, say) survives the
 * checkpoint round trip byte for byte. */
static void
test_checkpoint_keeps_opaque_position(void **state)
{
	fixture		fx;
	trib_position pos;
	trib_event *ev = mkev(5, 1);
	char	   *gtid = malloc(4096);
	size_t		n = 0;

	(void) state;
	n += (size_t) snprintf(gtid, 4096, "{\"gtid\":\"");
	for (int i = 0; i < 60; i++)
		n += (size_t) snprintf(gtid + n, 4096 - n,
							   "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-%d,", 1000 + i);
	snprintf(gtid + n, 4096 - n, "\",\"file\":\"bin.000042\",\"pos\":4711}");
	ev->pos.opaque = strdup(gtid);
	ev->pos.end_lsn = 0x2000;
	ev->pos.seq = 9;

	fx_start(&fx, 1, 1, 1, 1);
	fx_transactional(&fx, "tributary-test-opaque");
	fx_open(&fx);
	if (!fx.sink.ops->write(&fx.sink, ev, fx.err, sizeof(fx.err)))
		fail_msg("write: %s", fx.err);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	fx.sink.ops->close(&fx.sink);

	/* a new sink has no cached position: it reads the record back */
	fx_open(&fx);
	if (!fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)))
		fail_msg("durable_position: %s", fx.err[0] ? fx.err : "none");
	assert_int_equal(pos.commit_lsn, 0x1005);
	assert_int_equal(pos.seq, 9);
	assert_int_equal(pos.end_lsn, 0x2000);
	assert_int_equal(pos.lsn, 0x1005);
	assert_non_null(pos.opaque);
	assert_string_equal(pos.opaque, gtid);
	fx.sink.ops->close(&fx.sink);
	trib_event_free(ev);
	free(gtid);
	trib_kafka_mock_stop(fx.m);
}

/* Write snapshot event (0x1005, seq) or fail. */
static void
write_snap(trib_sink *sink, uint64_t seq)
{
	char		err[512];
	trib_event *ev = mkev(5, (int) seq);

	ev->pos.seq = seq;
	if (!sink->ops->write(sink, ev, err, sizeof(err)))
		fail_msg("write %llu: %s", (unsigned long long) seq, err);
	trib_event_free(ev);
}

/*
 * A snapshot's progress handed in before a flush (snapshot_mark) commits
 * in the checkpoint record when it covers the transaction's last event,
 * and a new sink reads it back (snapshot_saved); a transaction it does not
 * cover gets none, and then the durable checkpoint holds none.  A sink
 * that is not transactional keeps none.
 */
static void
test_checkpoint_keeps_snapshot_progress(void **state)
{
	fixture		fx;
	trib_position pos,
				at = {0},
				counted = {0},
				got;
	const char *doc = "{\"snapshot\":{\"state\":\"running\",\"mode\":\"initial\"}}";
	const char *saved;

	(void) state;
	fx_start(&fx, 1, 1, 1, 1);
	fx_transactional(&fx, "tributary-test-snap");
	fx_open(&fx);
	assert_true(fx.sink.ops->snapshot_mark(&fx.sink, NULL, NULL, NULL));
	for (uint64_t i = 1; i <= 3; i++)
		write_snap(&fx.sink, i);
	at.commit_lsn = counted.commit_lsn = 0x1005;
	at.seq = 3;
	counted.seq = 2;
	assert_true(fx.sink.ops->snapshot_mark(&fx.sink, &at, &counted, doc));
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	saved = fx.sink.ops->snapshot_saved(&fx.sink, &got);
	assert_non_null(saved);
	assert_string_equal(saved, doc);
	fx.sink.ops->close(&fx.sink);

	/* a restarted sink reads it back with the position */
	fx_open(&fx);
	if (!fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)))
		fail_msg("durable_position: %s", fx.err[0] ? fx.err : "none");
	assert_int_equal(pos.seq, 3);
	saved = fx.sink.ops->snapshot_saved(&fx.sink, &got);
	assert_non_null(saved);
	assert_string_equal(saved, doc);
	assert_int_equal(got.commit_lsn, 0x1005);
	assert_int_equal(got.seq, 2);

	/* event 4 comes after the last mark: its commit holds no progress */
	write_snap(&fx.sink, 4);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_null(fx.sink.ops->snapshot_saved(&fx.sink, &got));
	fx.sink.ops->close(&fx.sink);
	fx_open(&fx);
	assert_true(fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)));
	assert_int_equal(pos.seq, 4);
	assert_null(fx.sink.ops->snapshot_saved(&fx.sink, &got));
	fx.sink.ops->close(&fx.sink);

	/* not transactional: keeps none */
	fx.o.transactional = false;
	fx.o.transactional_id = NULL;
	fx_open(&fx);
	assert_false(fx.sink.ops->snapshot_mark(&fx.sink, NULL, NULL, NULL));
	assert_null(fx.sink.ops->snapshot_saved(&fx.sink, &got));
	fx.sink.ops->close(&fx.sink);
	trib_kafka_mock_stop(fx.m);
}

/* ---- sealed checkpoint records (checkpoint.encryption_key) ------------ */

#define SEAL_KEY_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define SEAL_KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

/* A sealing key from hex text, or NULL for hex NULL. */
static trib_key *
seal_key(const char *hex)
{
	char		err[256];
	trib_key   *k;

	if (hex == NULL)
		return NULL;
	k = trib_key_parse(hex, strlen(hex), TRIB_KEY_HEX, "test key", err, sizeof(err));
	assert_non_null(k);
	return k;
}

/* Open the fixture's sink with this sealing key (the pipeline sets it
 * before open) or fail. */
static void
fx_open_keyed(fixture *fx, trib_key *key)
{
	memset(&fx->sink, 0, sizeof(fx->sink));
	fx->sink.name = "kafka-test";
	fx->sink.pipeline = "p1";
	fx->sink.ack = on_ack;
	fx->sink.ack_arg = &fx->a;
	fx->sink.seal_key = key;
	if (!trib_kafka_open(&fx->sink, &fx->o, &TUNING, fx->err, sizeof(fx->err)))
		fail_msg("open: %s", fx->err);
}

/* Every committed record of the checkpoint topic, concatenated. */
static char *
checkpoint_records(const char *bootstrap)
{
	rd_kafka_t *rk = consumer_new(bootstrap, true);
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
	size_t		n = 0;
	char	   *all = calloc(1, 1);
	time_t		deadline = time(NULL) + 20;
	bool		eof = false;

	rd_kafka_topic_partition_list_add(parts, TRIB_KAFKA_CHECKPOINT_TOPIC, 0)->offset =
		RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	while (!eof && time(NULL) < deadline)
	{
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			eof = true;
		else if (!m->err && m->payload != NULL)
		{
			all = realloc(all, n + m->len + 2);
			memcpy(all + n, m->payload, m->len);
			n += m->len;
			all[n++] = '\n';
			all[n] = '\0';
		}
		rd_kafka_message_destroy(m);
	}
	assert_true(eof);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return all;
}

/*
 * With a sealing key the checkpoint record's opaque position and snapshot
 * progress are sealed: the topic never holds the clear resume token or row
 * key, a restart with the key reads both back, one with another key or
 * none stops with an error naming the topic.  A clear record written
 * before the key was set is read, and the next commit seals it.
 */
static void
test_checkpoint_sealed_with_a_key(void **state)
{
	fixture		fx;
	trib_key   *ka = seal_key(SEAL_KEY_A),
			   *kb = seal_key(SEAL_KEY_B);
	trib_position pos,
				at = {0},
				counted = {0},
				got;
	const char *token = "{\"_data\":\"8265F0\",\"_id\":\"alice@example.com\"}";
	const char *doc = "{\"snapshot\":{\"last_key\":\"bob@example.com\"}}";
	trib_event *ev = mkev(5, 1);
	char	   *raw;
	const char *saved;

	(void) state;
	ev->pos.opaque = strdup(token);
	ev->pos.seq = 3;
	fx_start(&fx, 1, 1, 1, 1);
	fx_transactional(&fx, "tributary-test-sealed");
	fx_open_keyed(&fx, ka);
	assert_true(fx.sink.ops->snapshot_mark(&fx.sink, NULL, NULL, NULL));
	if (!fx.sink.ops->write(&fx.sink, ev, fx.err, sizeof(fx.err)))
		fail_msg("write: %s", fx.err);
	at.commit_lsn = counted.commit_lsn = 0x1005;
	at.seq = counted.seq = 3;
	assert_true(fx.sink.ops->snapshot_mark(&fx.sink, &at, &counted, doc));
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	fx.sink.ops->close(&fx.sink);

	raw = checkpoint_records(fx.bs);
	assert_null(strstr(raw, "alice"));
	assert_null(strstr(raw, "bob"));
	assert_null(strstr(raw, "8265F0"));
	assert_non_null(strstr(raw, "tributary_sealed"));
	free(raw);

	/* the same key reads both back */
	fx_open_keyed(&fx, ka);
	if (!fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)))
		fail_msg("durable_position: %s", fx.err[0] ? fx.err : "none");
	assert_int_equal(pos.seq, 3);
	assert_string_equal(pos.opaque, token);
	saved = fx.sink.ops->snapshot_saved(&fx.sink, &got);
	assert_non_null(saved);
	assert_string_equal(saved, doc);
	fx.sink.ops->close(&fx.sink);

	/* another key, or none: an error naming pipeline, sink and topic */
	fx_open_keyed(&fx, kb);
	assert_false(fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)));
	assert_non_null(strstr(fx.err, "pipeline p1, sink kafka-test (topic "
						   TRIB_KAFKA_CHECKPOINT_TOPIC ")"));
	assert_non_null(strstr(fx.err, "cannot be read"));
	fx.sink.ops->close(&fx.sink);
	fx_open_keyed(&fx, NULL);
	assert_false(fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)));
	assert_non_null(strstr(fx.err, "set checkpoint.encryption_key"));
	fx.sink.ops->close(&fx.sink);

	/* a clear record (no key then) is read with a key and sealed next */
	fx_transactional(&fx, "tributary-test-clear-first");
	fx_open_keyed(&fx, NULL);
	trib_event_free(ev);
	ev = mkev(7, 1);
	ev->pos.opaque = strdup(token);
	if (!fx.sink.ops->write(&fx.sink, ev, fx.err, sizeof(fx.err)))
		fail_msg("write: %s", fx.err);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	fx.sink.ops->close(&fx.sink);
	fx_open_keyed(&fx, ka);
	if (!fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)))
		fail_msg("durable_position of a clear record: %s", fx.err[0] ? fx.err : "none");
	assert_int_equal(pos.commit_lsn, 0x1007);
	assert_string_equal(pos.opaque, token);
	assert_true(fx.sink.seal_warned);
	trib_event_free(ev);
	ev = mkev(8, 1);
	ev->pos.opaque = strdup(token);
	if (!fx.sink.ops->write(&fx.sink, ev, fx.err, sizeof(fx.err)))
		fail_msg("write: %s", fx.err);
	assert_true(fx.sink.ops->flush(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	fx.sink.ops->close(&fx.sink);
	fx_open_keyed(&fx, NULL);
	assert_false(fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)));
	assert_non_null(strstr(fx.err, "set checkpoint.encryption_key"));
	fx.sink.ops->close(&fx.sink);

	trib_event_free(ev);
	trib_key_free(ka);
	trib_key_free(kb);
	trib_kafka_mock_stop(fx.m);
}

/* The checkpoint reader looks back past a long tail of other keys. */
static void
test_checkpoint_found_behind_other_keys(void **state)
{
	fixture		fx;
	trib_kafka_conf o2;
	trib_sink	other;
	acks		b = {0};
	trib_position pos;

	(void) state;
	fx_start(&fx, 1, 1, 1, 1);
	fx_transactional(&fx, "pipeline-a");
	fx_open(&fx);
	write_ev(&fx.sink, 7, 1);
	assert_true(trib_kafka_commit(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	fx.sink.ops->close(&fx.sink);

	/* another pipeline commits 200 times into the same partition */
	opts_for(&o2, fx.bs);
	o2.transactional = true;
	o2.transactional_id = "pipeline-b";
	sink_open(&other, &b, &o2);
	for (int i = 100; i < 300; i++)
	{
		write_ev(&other, (uint64_t) i, 2);
		assert_true(trib_kafka_commit(&other, 10000, fx.err, sizeof(fx.err)));
	}
	other.ops->close(&other);

	fx_open(&fx);
	if (!fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)))
		fail_msg("durable_position: %s", fx.err[0] ? fx.err : "none");
	assert_int_equal(pos.commit_lsn, 0x1007);
	fx.sink.ops->close(&fx.sink);
	trib_kafka_mock_stop(fx.m);
}

/* Abort: nothing acked, the durable position stays, the sink stays
 * usable; the aborted records are invisible to read_committed readers
 * (checked where the mock supports it). */
static void
test_transaction_abort(void **state)
{
	fixture		fx;
	readback	rb;
	trib_position pos;

	(void) state;
	fx_start(&fx, 1, 1, 1, 1);
	fx_transactional(&fx, "tributary-test-abort");
	fx_open(&fx);
	write_ev(&fx.sink, 0, 1);
	assert_true(trib_kafka_commit(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.calls, 1);

	for (int i = 1; i < 4; i++)
		write_ev(&fx.sink, (uint64_t) i, 1);
	assert_true(trib_kafka_abort(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.calls, 1);
	assert_true(fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)));
	assert_int_equal(pos.commit_lsn, 0x1000);

	/* the pipeline rewinds and writes the same events again */
	for (int i = 1; i < 4; i++)
		write_ev(&fx.sink, (uint64_t) i, 1);
	assert_true(trib_kafka_commit(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.last.commit_lsn, 0x1003);
	fx.sink.ops->close(&fx.sink);

	if (rd_kafka_version() >= 0x020f0000)
	{
		read_back(fx.bs, TOPIC, true, &rb);
		assert_int_equal(rb.records, 4);	/* 1 + 3, the aborted 3 hidden */
		assert_false(rb.duplicate);
		rb_free(&rb);
	}
	else
		print_message("    (librdkafka %s: its mock cluster has no read_committed "
					  "filtering; visibility of aborted records not checked)\n",
					  rd_kafka_version_str());
	trib_kafka_mock_stop(fx.m);
}

/* A record of the transaction fails for good: the commit fails, the
 * transaction is aborted, nothing is acked, the sink fails, and the
 * durable position is still the previous commit's. */
static void
test_transaction_commit_failure_aborts(void **state)
{
	fixture		fx;
	trib_position pos;
	trib_kafka_stats st;

	(void) state;
	fx_start(&fx, 1, 1, 1, 1);
	fx_transactional(&fx, "tributary-test-commit-fails");
	fx_open(&fx);
	write_ev(&fx.sink, 0, 1);
	assert_true(trib_kafka_commit(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	assert_int_equal(fx.a.calls, 1);

	rd_kafka_mock_push_request_errors(fx.mc, API_PRODUCE, 1,
									  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	for (int i = 1; i < 4; i++)
		write_ev(&fx.sink, (uint64_t) i, 1);
	assert_false(trib_kafka_commit(&fx.sink, 10000, fx.err, sizeof(fx.err)));
	if (strstr(fx.err, "aborted") == NULL)
		fail_msg("expected the transaction to be aborted, got: %s", fx.err);
	assert_int_equal(fx.a.calls, 1);
	assert_int_equal(fx.a.last.commit_lsn, 0x1000);
	assert_true(trib_kafka_error(&fx.sink, fx.err, sizeof(fx.err)));
	trib_kafka_get_stats(&fx.sink, &st);
	assert_int_equal(st.aborts, 1);
	assert_false(fx.sink.ops->write(&fx.sink, NULL, fx.err, sizeof(fx.err)));	/* failed */
	assert_true(fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)));
	assert_int_equal(pos.commit_lsn, 0x1000);
	fx.sink.ops->close(&fx.sink);

	/* the restarted sink resumes after the last commit */
	fx_open(&fx);
	assert_true(fx.sink.ops->durable_position(&fx.sink, &pos, fx.err, sizeof(fx.err)));
	assert_int_equal(pos.commit_lsn, 0x1000);
	fx.sink.ops->close(&fx.sink);
	trib_kafka_mock_stop(fx.m);
}

/* Options are checked before anything connects. */
static void
test_bad_options(void **state)
{
	trib_kafka_conf o;
	trib_sink	sink = {0};
	char		err[512];

	(void) state;
	trib_kafka_conf_init(&o);
	assert_false(trib_kafka_open(&sink, &o, &TUNING, err, sizeof(err)));
	assert_non_null(strstr(err, "bootstrap_servers"));

	o.bootstrap_servers = "embedded";
	o.transactional = true;
	assert_false(trib_kafka_open(&sink, &o, &TUNING, err, sizeof(err)));
	assert_non_null(strstr(err, "transactional_id"));

	/* a failed open leaves nothing behind */
	o.transactional = false;
	o.topic_pattern = "${prefix}/${table}";
	assert_false(trib_kafka_open(&sink, &o, &TUNING, err, sizeof(err)));
	assert_non_null(strstr(err, "not allowed"));
	assert_null(sink.state);

	o.topic_pattern = NULL;
	o.bootstrap_servers = "embedded:99";
	assert_false(trib_kafka_open(&sink, &o, &TUNING, err, sizeof(err)));
	assert_non_null(strstr(err, "1 to 16 brokers"));
	assert_null(sink.state);

	/* ops->open without a configuration */
	assert_false(trib_sink_kafka_ops.open(&sink, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "no configuration"));
}

/* Captured log lines. */
typedef struct logcap
{
	int			lines;
	bool		leaked;
} logcap;

static const char *const SECRET = "hunter2-s3cr3t-value";

static void
on_log(void *arg, int level, const char *msg)
{
	logcap	   *c = arg;

	(void) level;
	c->lines++;
	if (strstr(msg, SECRET))
		c->leaked = true;
}

/* Secret values appear neither in logs (even with debug on) nor in
 * errors. */
static void
test_secrets_never_logged(void **state)
{
	trib_kafka_conf o;
	trib_sink	sink;
	acks		a = {0};
	logcap		cap = {0};
	char		err[512];
	trib_kv		props[] = {
		{"sasl.username", "alice"},
		{"sasl.password", (char *) SECRET},
		{"debug", "conf,generic,broker"},
	};
	trib_kv		bad[] = {{"my.secret.thing", (char *) SECRET}};
	trib_kafka_tuning tuning = TUNING;

	(void) state;
	opts_for(&o, "embedded");
	o.properties.items = props;
	o.properties.count = 3;
	tuning.log = on_log;
	tuning.log_arg = &cap;
	sink_open_tuned(&sink, &a, &o, &tuning);
	write_ev(&sink, 0, 1);
	assert_true(sink.ops->flush(&sink, 10000, err, sizeof(err)));
	sink.ops->close(&sink);
	assert_true(cap.lines > 0);
	assert_false(cap.leaked);

	o.properties.items = bad;
	o.properties.count = 1;
	memset(&sink, 0, sizeof(sink));
	assert_false(trib_kafka_open(&sink, &o, &TUNING, err, sizeof(err)));
	assert_null(strstr(err, SECRET));
	assert_non_null(strstr(err, "my.secret.thing"));
	assert_false(cap.leaked);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tracker_low_watermark),
		cmocka_unit_test(test_wake_fd_signals_every_ack),
		cmocka_unit_test(test_tracker_multi_record_and_seal),
		cmocka_unit_test(test_tracker_scrambled_growth),
		cmocka_unit_test(test_secret_property_names),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_produce_exactly_n_in_order),
		cmocka_unit_test(test_event_id_header_text),
		cmocka_unit_test(test_delete_tombstones_produced),
		cmocka_unit_test(test_acks_in_order_when_deliveries_are_not),
		cmocka_unit_test(test_broker_down_then_up_transactional_exactly_n),
		cmocka_unit_test(test_broker_down_then_up_idempotent_nothing_lost),
		cmocka_unit_test(test_flush_timeout_while_down_is_not_a_failure),
		cmocka_unit_test(test_retriable_errors_exactly_n),
		cmocka_unit_test(test_lost_responses_transactional_exactly_n),
		cmocka_unit_test(test_lost_responses_idempotent_nothing_lost),
		cmocka_unit_test(test_permanent_error_fails_without_ack),
		cmocka_unit_test(test_poll_reports_failure_while_idle),
		cmocka_unit_test(test_embedded_cluster),
		cmocka_unit_test(test_checkpoint_topic_created),
		cmocka_unit_test(test_transaction_commit_and_checkpoint),
		cmocka_unit_test(test_checkpoint_found_behind_other_keys),
		cmocka_unit_test(test_checkpoint_keeps_opaque_position),
		cmocka_unit_test(test_checkpoint_keeps_snapshot_progress),
		cmocka_unit_test(test_checkpoint_sealed_with_a_key),
		cmocka_unit_test(test_transaction_abort),
		cmocka_unit_test(test_flush_without_waiting),
		cmocka_unit_test(test_close_with_discard_purges_the_queue),
		cmocka_unit_test(test_transaction_commit_failure_aborts),
		cmocka_unit_test(test_secrets_never_logged),
	};

	/* TEST_FILTER=pattern runs some tests only (cmocka's * and ? work) */
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
