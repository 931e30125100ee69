/*
 * bench_avro.c: the Kafka sink's Avro value encoding of W1 events
 * (kfk_wire_value under value_format avro: kafka_wire.c, kafka_avro.c),
 * without I/O.
 *
 *   build/tools/bench_avro [EVENTS]
 *
 * Encodes EVENTS (default 10,000) insert events of bench_events' shape
 * (/work/shared/bench/workload.sql: bigint, text, text, numeric(12,2),
 * timestamptz, bool, jsonb), each row the text the PostgreSQL source
 * sends, under one schema id, and prints the bytes written and an FNV-1a
 * hash of them (two builds that print the same hash wrote the same
 * bytes).  A development tool: run it under callgrind at two sizes and
 * divide the difference by the difference in events for instructions per
 * event (docs/BENCHMARKS.md, "Avro writer schema from the registry").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "sink_kafka_int.h"

static trib_column COLS[] = {
	{"id", "bigint", 20, NULL, false, true, false, NULL, NULL, NULL, NULL, 0},
	{"name", "text", 25, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"email", "text", 25, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"amount", "numeric(12,2)", 1700, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"created", "timestamp with time zone", 1184, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"active", "boolean", 16, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"meta", "jsonb", 3802, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
};
static trib_relation REL = {"public", "bench_events", 7, COLS, 1};

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 10000;
	trib_kafka_conf c;
	kfk_wire   *w;
	char		row[512], err[512];
	size_t		total = 0;
	unsigned long long h = 1469598103934665603ULL;

	trib_kafka_conf_init(&c);
	c.value_format = TRIB_FORMAT_AVRO;
	w = kfk_wire_new(&c, NULL);
	for (long g = 1; g <= n; g++)
	{
		trib_event	ev = {0};
		trib_record rec = {"t", "{}", 2, "{}", 2};
		const void *v;
		size_t		len;
		bool		skip;

		snprintf(row, sizeof(row), "{\"id\":%ld,\"name\":\"name%ld\",\"email\":\"user%ld@example.com\","
				 "\"amount\":%ld.%s,\"created\":\"2026-12-07T05:00:00.123456Z\",\"active\":%s,"
				 "\"meta\":{\"k\":%ld}}", g, g, g, g * 3 / 2, g % 2 ? "50" : "00",
				 g % 2 == 0 ? "true" : "false", g);
		ev.op = TRIB_OP_CREATE;
		ev.connector = "postgresql";
		ev.schema = "public";
		ev.table = "bench_events";
		ev.after = row;
		ev.rel = &REL;
		ev.schema_id = 1;
		ev.schema_version = 1;
		if (!kfk_wire_value(w, &ev, &rec, 0, &v, &len, &skip, err, sizeof(err)))
		{
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		total += len;
		for (size_t i = 0; i < len; i++)
			h = (h ^ ((const unsigned char *) v)[i]) * 1099511628211ULL;
	}
	printf("%ld events, %zu bytes, fnv %llx\n", n, total, h);
	kfk_wire_free(w);
	return 0;
}
