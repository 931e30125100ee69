/*
 * replay_bench: the consumer's per-event CPU cost on recorded plugin output,
 * without PostgreSQL in the measurement (bench/e2e.sh measures end to end).
 *
 * Reads a file of tributary plugin records, one per line, as
 * `pg_recvlogical -P tributary -f FILE` writes them, and runs every record
 * through what the pipeline does with it: the parser, the assembler, and
 * either the Kafka sink (idempotent producer, acks=all, the sink's own
 * settings) when BOOTSTRAP is given, or the envelope alone.  Delivery
 * reports are served after every batch of 512 records, as the pipeline does.
 * Prints the events, the main thread's CPU time per event (the thread that
 * parses, encodes and produces; librdkafka's own threads are reported
 * apart), and the wall time.  A profiler attached to this process sees the
 * consumer's hot path and nothing else.
 *
 *   replay_bench FILE [BOOTSTRAP|-] [REPEAT] [librdkafka.property=value ...]
 *
 * With TRIB_REPLAY_YAJL=1 in the environment every record goes through
 * yajl's parse alone, without the parser's fast scan (pgrecord_fast.c),
 * to compare the two in one binary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "envelope.h"
#include "pgrecord.h"
#include "sink.h"
#include "sink_kafka.h"

#define BATCH 512

/* Seconds of a clock. */
static double
seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The whole file in memory; exits on error. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
		fseek(f, 0, SEEK_SET) != 0)
	{
		perror(path);
		exit(1);
	}
	buf = malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		perror(path);
		exit(1);
	}
	fclose(f);
	*len = (size_t) n;
	return buf;
}

/* Hand one delivered record to the sink (or the envelope alone). */
static void
consume(trib_pgrec *r, trib_sink *sink, trib_envelope *env, uint64_t *events)
{
	char		err[512];
	size_t		n;

	if (r->ev == NULL)
		return;
	(*events)++;
	if (sink != NULL ? !sink->ops->write(sink, r->ev, err, sizeof(err))
		: trib_envelope_encode(env, r->ev, &n, err, sizeof(err)) == NULL)
	{
		fprintf(stderr, "replay_bench: %s\n", err);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	size_t		len;
	char	   *text;
	int			repeat = argc > 3 ? atoi(argv[3]) : 1;
	trib_sink	sink = {0};
	trib_kafka_conf kc;			/* outlives the sink */
	trib_kv		props[16];
	trib_sink  *k = NULL;
	trib_envelope *env = NULL;
	char		err[512];
	uint64_t	events = 0,
				records = 0;
	double		cpu0,
				wall0,
				pcpu0;

	if (argc < 2)
	{
		fprintf(stderr, "usage: replay_bench FILE [BOOTSTRAP|-] [REPEAT] [property=value ...]\n");
		return 2;
	}
	text = slurp(argv[1], &len);
	if (argc > 2 && strcmp(argv[2], "-") != 0)
	{
		size_t		np = 0;

		trib_kafka_conf_init(&kc);
		kc.bootstrap_servers = argv[2];
		kc.topic_prefix = "replay";
		for (int i = 4; i < argc && np < 16; i++)
		{
			char	   *eq = strchr(argv[i], '=');

			if (eq == NULL)
				continue;
			*eq = '\0';
			props[np].key = argv[i];
			props[np++].value = eq + 1;
		}
		kc.properties.items = props;
		kc.properties.count = np;
		sink.name = "k";
		if (!trib_kafka_open(&sink, &kc, NULL, err, sizeof(err)))
		{
			fprintf(stderr, "replay_bench: %s\n", err);
			return 1;
		}
		k = &sink;
	}
	else
	{
		trib_envelope_opts eo;

		trib_envelope_opts_init(&eo);
		env = trib_envelope_new(&eo, err, sizeof(err));
	}
	cpu0 = seconds(CLOCK_THREAD_CPUTIME_ID);
	pcpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	wall0 = seconds(CLOCK_MONOTONIC);
	for (int rep = 0; rep < repeat; rep++)
	{
		trib_pgrec_parser *p = trib_pgrec_parser_new("main", "postgres");
		trib_pgasm *a = trib_pgasm_new();
		size_t		off = 0;

		if (getenv("TRIB_REPLAY_YAJL") && strcmp(getenv("TRIB_REPLAY_YAJL"), "1") == 0)
			trib_pgrec_parser_set_fast(p, false);

		while (off < len)
		{
			size_t		next;
			size_t		n = trib_pgrec_next_line(text + off, len - off, &next);
			trib_pgrec *r;

			if (n > 0)
			{
				if (!trib_pgrec_parser_parse(p, text + off, n, &r, err, sizeof(err)) ||
					!trib_pgasm_push(a, r, err, sizeof(err)))
				{
					fprintf(stderr, "replay_bench: record %llu: %s\n",
							(unsigned long long) records, err);
					return 1;
				}
				while ((r = trib_pgasm_pop(a)) != NULL)
				{
					consume(r, k, env, &events);
					trib_pgrec_free(r);
				}
				if (++records % BATCH == 0 && k)
				{
					char		pe[256];

					(void) k->ops->poll(k, 0, pe, sizeof(pe));
				}
			}
			off += next;
		}
		trib_pgasm_free(a);
		trib_pgrec_parser_free(p);
	}
	if (k && !k->ops->flush(k, 60000, err, sizeof(err)))
	{
		fprintf(stderr, "replay_bench: flush: %s\n", err);
		return 1;
	}
	{
		double		cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
		double		pcpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - pcpu0;
		double		wall = seconds(CLOCK_MONOTONIC) - wall0;

		printf("%llu records, %llu events: main thread %.3f s CPU (%.0f ns/event), "
			   "other threads %.3f s CPU, wall %.3f s\n",
			   (unsigned long long) records, (unsigned long long) events, cpu,
			   events ? cpu * 1e9 / (double) events : 0.0, pcpu - cpu, wall);
	}
	if (k)
		k->ops->close(k);
	trib_envelope_free(env);
	free(text);
	return 0;
}
