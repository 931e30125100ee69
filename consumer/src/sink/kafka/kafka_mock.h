/*
 * kafka_mock.h: an in-process Kafka cluster (librdkafka's mock cluster) for
 * tests, demos and `bootstrap_servers: embedded`.
 *
 * Design.  librdkafka ships a mock cluster that speaks enough of the Kafka
 * protocol for producers (idempotent and transactional) and consumers.  It
 * lives inside an rd_kafka_t handle; we give it a dedicated one so that the
 * cluster outlives, and is independent of, the clients that connect to it
 * through its bootstrap servers string (real localhost listeners).
 *
 * Tests inject faults on the cluster itself: trib_kafka_mock_cluster()
 * returns the rd_kafka_mock_cluster_t for rd_kafka_mock_broker_set_down/up,
 * rd_kafka_mock_push_request_errors, rd_kafka_mock_topic_set_error,
 * rd_kafka_mock_broker_set_rtt, rd_kafka_mock_partition_set_leader.
 *
 * Limits of the mock (librdkafka 2.0.2, the Debian 12 version):
 *   - each partition keeps only recent message sets (100000 sets or 5 MB);
 *     count with offsets (high watermarks), not by reading everything back;
 *   - CreateTopics is not implemented: create topics here, or rely on
 *     auto-creation (4 partitions by default);
 *   - transactions are accepted, but EndTxn writes no control records and
 *     Fetch reports no aborted transactions, so read_committed consumers
 *     also see uncommitted and aborted messages.  librdkafka 2.15 adds
 *     both; tests that need them check rd_kafka_version().
 *
 * Ownership: trib_kafka_mock_stop() destroys the cluster and its handle;
 * clients must be destroyed first.
 */
#ifndef TRIB_KAFKA_MOCK_H
#define TRIB_KAFKA_MOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

typedef struct trib_kafka_mock trib_kafka_mock;

/* Start a cluster of `brokers` brokers (ids 1..brokers).  NULL with errbuf
 * filled on failure. */
trib_kafka_mock *trib_kafka_mock_start(int brokers, char *errbuf, size_t errlen);

/* "127.0.0.1:port,..." for bootstrap.servers; owned by the mock. */
const char *trib_kafka_mock_bootstraps(const trib_kafka_mock *m);

/* The cluster, for fault injection. */
rd_kafka_mock_cluster_t *trib_kafka_mock_cluster(trib_kafka_mock *m);

/* Number of brokers. */
int			trib_kafka_mock_brokers(const trib_kafka_mock *m);

/* Create a topic (replication is capped at the number of brokers). */
bool		trib_kafka_mock_create_topic(trib_kafka_mock *m, const char *topic,
										 int partitions, int replication,
										 char *errbuf, size_t errlen);

/* Stop the cluster; NULL is allowed. */
void		trib_kafka_mock_stop(trib_kafka_mock *m);

#endif							/* TRIB_KAFKA_MOCK_H */
