/*
 * bench_format.c: nanoseconds per event of the Kafka envelope in each
 * record format (envelope.c, format/debezium*.c): `format: tributary`,
 * `format: debezium`, and `format: debezium` with `schemas.enable`.
 *
 * The events are a realistic 10-column order row (~260 bytes: integer,
 * numeric(12,2), text, timestamptz, timestamp(6), date, jsonb) as the
 * PostgreSQL source writes them, with its relation, 256 distinct rows in
 * turn; best of 5 rounds of thread CPU time (robust on a shared machine).  No database, no Kafka: this is the encoding
 * cost the format adds per event, to be set against the end-to-end cost
 * per event of `make bench-e2e` (docs/BENCHMARKS.md).
 *
 * Usage: build/tools/bench_format [EVENTS [FORMAT]]   (default 1000000 per
 * round, every format).  FORMAT (tributary, debezium or schemas) runs that
 * format alone, one round, for a profiler (valgrind --tool=callgrind,
 * docs/BENCHMARKS.md).  bench/format.sh runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "envelope.h"
#include "event.h"

#define NEVENTS 256
#define ROUNDS 5

static int rounds = ROUNDS;

static trib_column cols[] = {
	{.name = "id", .type = "bigint", .pk = true, .identity = true},
	{.name = "customer_id", .type = "integer", .nullable = true},
	{.name = "status", .type = "text", .nullable = true},
	{.name = "amount", .type = "numeric(12,2)", .nullable = true},
	{.name = "currency", .type = "character(3)", .nullable = true},
	{.name = "email", .type = "character varying(200)", .nullable = true},
	{.name = "created_at", .type = "timestamp with time zone", .nullable = true},
	{.name = "updated_at", .type = "timestamp without time zone", .nullable = true},
	{.name = "shipped_on", .type = "date", .nullable = true},
	{.name = "doc", .type = "jsonb", .nullable = true},
};
static trib_relation rel = {.schema = "public", .table = "orders", .ncolumns = 10,
.columns = cols, .version = 1};

/* CPU nanoseconds of this thread (the machine may be shared). */
static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* One order row event; values vary with i. */
static trib_event *
make_event(int i)
{
	trib_event *ev = trib_event_new();
	char		buf[512];

	snprintf(buf, sizeof(buf),
			 "{\"id\":%d,\"customer_id\":%d,\"status\":\"paid\","
			 "\"amount\":%d.%02d,\"currency\":\"EUR\","
			 "\"email\":\"jane.doe%d@example.com\","
			 "\"created_at\":\"2024-06-01T10:00:00Z\","
			 "\"updated_at\":\"2024-06-01T10:05:00.%06d\","
			 "\"shipped_on\":\"2024-06-%02d\",\"doc\":{\"items\":%d,\"gift\":false}}",
			 1048576 + i, 73421 + i * 7, (i * 37) % 200, i % 100, i, i * 3,
			 i % 28 + 1, i % 9 + 1);
	ev->op = TRIB_OP_CREATE;
	ev->source = "pg1";
	ev->connector = "postgresql";
	ev->db = "shop";
	ev->schema = "public";
	ev->table = "orders";
	ev->rel = &rel;
	ev->after = strdup(buf);
	snprintf(buf, sizeof(buf), "{\"id\":%d}", 1048576 + i);
	ev->key = strdup(buf);
	ev->txid = 741;
	ev->ts_ms = 1700000000123LL;
	ev->pos.commit_lsn = 0x1A4F2C8;
	ev->pos.lsn = 0x1A4F1B0 + (uint64_t) i;
	return ev;
}

/* Best ns/event of ROUNDS rounds of n events through one envelope. */
static double
bench(trib_event **evs, long n, const trib_dbz_opts *dbz, size_t *bytes)
{
	trib_envelope_opts eo;
	trib_envelope *env;
	char		err[256];
	double		best = 1e18;

	trib_envelope_opts_init(&eo);
	eo.topic_prefix = "shop";
	eo.debezium = dbz;
	if ((env = trib_envelope_new(&eo, err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "bench_format: %s\n", err);
		exit(1);
	}
	for (int round = 0; round < rounds; round++)
	{
		double		t0 = now_ns();

		for (long i = 0; i < n; i++)
		{
			size_t		nrec;
			const trib_record *r = trib_envelope_encode(env, evs[i % NEVENTS], &nrec,
														err, sizeof(err));

			if (r == NULL)
			{
				fprintf(stderr, "bench_format: %s\n", err);
				exit(1);
			}
			*bytes = r[0].value_len + r[0].key_len;
		}
		if ((now_ns() - t0) / (double) n < best)
			best = (now_ns() - t0) / (double) n;
	}
	trib_envelope_free(env);
	return best;
}

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 1000000;
	trib_event *evs[NEVENTS];
	trib_dbz_opts dbz,
				dbzs;
	const char *only = argc > 2 ? argv[2] : NULL;
	size_t		b0 = 0,
				b1 = 0,
				b2 = 0;
	double		t0 = 0,
				t1 = 0,
				t2 = 0;

	for (int i = 0; i < NEVENTS; i++)
		evs[i] = make_event(i);
	trib_dbz_opts_init(&dbz);
	dbzs = dbz;
	dbzs.schemas_enable = true;
	if (only && strcmp(only, "tributary") != 0 && strcmp(only, "debezium") != 0 &&
		strcmp(only, "schemas") != 0)
	{
		fprintf(stderr, "bench_format: unknown format \"%s\" (accepted: tributary, "
				"debezium, schemas)\n", only);
		return 1;
	}
	if (only)
		rounds = 1;
	if (only == NULL || strcmp(only, "tributary") == 0)
		t0 = bench(evs, n, NULL, &b0);
	if (only == NULL || strcmp(only, "debezium") == 0)
		t1 = bench(evs, n, &dbz, &b1);
	if (only == NULL || strcmp(only, "schemas") == 0)
		t2 = bench(evs, n, &dbzs, &b2);
	printf("| format | ns/event | bytes/record (key + value) |\n| --- | ---: | ---: |\n");
	printf("| tributary | %.0f | %zu |\n", t0, b0);
	printf("| debezium | %.0f | %zu |\n", t1, b1);
	printf("| debezium + schemas.enable | %.0f | %zu |\n", t2, b2);
	for (int i = 0; i < NEVENTS; i++)
		trib_event_free(evs[i]);
	return 0;
}
