/*
 * kafka_mock.c: librdkafka's mock cluster on a dedicated handle (see
 * kafka_mock.h).
 *
 * Design.  rd_kafka_mock_cluster_new() needs an rd_kafka_t for its
 * bookkeeping; a quiet producer handle that never produces serves.  The
 * cluster runs its own thread, so nothing here needs polling.
 */
#include "kafka_mock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct trib_kafka_mock
{
	rd_kafka_t *rk;				/* owns the cluster's bookkeeping */
	rd_kafka_mock_cluster_t *mcluster;
	int			brokers;
};

/* Start a cluster on its own handle. */
trib_kafka_mock *
trib_kafka_mock_start(int brokers, char *errbuf, size_t errlen)
{
	trib_kafka_mock *m;
	rd_kafka_conf_t *conf;
	char		err[256];

	if (brokers < 1)
	{
		snprintf(errbuf, errlen, "kafka mock: need at least one broker");
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
	{
		snprintf(errbuf, errlen, "kafka mock: out of memory");
		return NULL;
	}
	conf = rd_kafka_conf_new();
	/* the handle is only a host for the cluster: keep it silent */
	if (rd_kafka_conf_set(conf, "log_level", "3", err,
						  sizeof(err)) != RD_KAFKA_CONF_OK ||
		rd_kafka_conf_set(conf, "client.id", "tributary-mock", err,
						  sizeof(err)) != RD_KAFKA_CONF_OK)
	{
		rd_kafka_conf_destroy(conf);
		free(m);
		snprintf(errbuf, errlen, "kafka mock: %s", err);
		return NULL;
	}
	m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (m->rk == NULL)
	{
		rd_kafka_conf_destroy(conf);
		free(m);
		snprintf(errbuf, errlen, "kafka mock: %s", err);
		return NULL;
	}
	/* conf now belongs to rk */
	m->mcluster = rd_kafka_mock_cluster_new(m->rk, brokers);
	if (m->mcluster == NULL)
	{
		rd_kafka_destroy(m->rk);
		free(m);
		snprintf(errbuf, errlen, "kafka mock: cannot create a cluster of %d brokers",
				 brokers);
		return NULL;
	}
	m->brokers = brokers;
	return m;
}

/* The cluster's bootstrap servers. */
const char *
trib_kafka_mock_bootstraps(const trib_kafka_mock *m)
{
	return rd_kafka_mock_cluster_bootstraps(m->mcluster);
}

/* The cluster, for fault injection. */
rd_kafka_mock_cluster_t *
trib_kafka_mock_cluster(trib_kafka_mock *m)
{
	return m->mcluster;
}

/* Number of brokers. */
int
trib_kafka_mock_brokers(const trib_kafka_mock *m)
{
	return m->brokers;
}

/* Create a topic with explicit partitions and replication. */
bool
trib_kafka_mock_create_topic(trib_kafka_mock *m, const char *topic,
							 int partitions, int replication,
							 char *errbuf, size_t errlen)
{
	rd_kafka_resp_err_t err;

	if (replication > m->brokers)
		replication = m->brokers;
	if (replication < 1)
		replication = 1;
	err = rd_kafka_mock_topic_create(m->mcluster, topic, partitions, replication);
	if (err)
	{
		snprintf(errbuf, errlen, "kafka mock: create topic %s: %s", topic,
				 rd_kafka_err2str(err));
		return false;
	}
	return true;
}

/* Destroy the cluster, then its handle. */
void
trib_kafka_mock_stop(trib_kafka_mock *m)
{
	if (m == NULL)
		return;
	rd_kafka_mock_cluster_destroy(m->mcluster);
	rd_kafka_destroy(m->rk);
	free(m);
}
