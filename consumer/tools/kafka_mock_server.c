/*
 * kafka_mock_server: librdkafka's mock Kafka cluster as a process of its own.
 *
 * Tests and benchmarks that kill or restart the consumer need a broker that
 * outlives it; no real Kafka can be installed here, so this keeps the mock
 * cluster (kafka_mock.c) running until SIGTERM/SIGINT.  It prints the
 * bootstrap servers as its only line on stdout, then waits.
 *
 *   kafka_mock_server [BROKERS]       (default 1)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kafka_mock.h"

static volatile sig_atomic_t done = 0;

static void
on_signal(int sig)
{
	(void) sig;
	done = 1;
}

int
main(int argc, char **argv)
{
	char		err[512];
	int			brokers = argc > 1 ? atoi(argv[1]) : 1;
	trib_kafka_mock *m;

	if (brokers < 1 || brokers > 16)
	{
		fprintf(stderr, "kafka_mock_server: BROKERS must be 1..16\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	m = trib_kafka_mock_start(brokers, err, sizeof(err));
	if (m == NULL)
	{
		fprintf(stderr, "kafka_mock_server: %s\n", err);
		return 1;
	}
	printf("%s\n", trib_kafka_mock_bootstraps(m));
	fflush(stdout);
	while (!done)
		pause();
	trib_kafka_mock_stop(m);
	return 0;
}
