/*
 * bench_pgsink_values.c: the Postgres sink's JSON-to-input-text cost.
 *
 *   bench_pgsink_values [ITERATIONS]
 *
 * Converts a fixed mix of column values, the kinds a row image carries
 * (numbers, escaped strings, bytea, dates with expanded years, json
 * objects, text and json arrays, nested arrays, a value under a JSON null
 * list), ITERATIONS times (default 20000) through
 * trib_pgsink_value_text/trib_pgsink_column_text, and prints ns/value.
 * Meant for callgrind (valgrind --tool=callgrind) as well: the work is
 * deterministic, so instruction counts compare two builds exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sink_postgres.h"
#include "strbuf.h"

/* One value: its JSON text and the target column's kind/element kind. */
typedef struct bench_value
{
	const char *json;
	char		kind;
	char		ek;
} bench_value;

static const bench_value values[] = {
	{"1234567", 't', 't'},
	{"123456789012345678901234567890.123456789", 't', 't'},
	{"\"a plain text value of some forty bytes..\"", 't', 't'},
	{"\"it's \\\"quoted\\\" \\u00e9\\u2603 \\ud83d\\ude00 tab\\t\"", 't', 't'},
	{"\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"", 'b', 't'},
	{"\"2024-06-01T10:00:00.123456Z\"", 'd', 't'},
	{"\"-0043-03-15\"", 'd', 't'},
	{"{\"id\": 7, \"name\": \"x\", \"tags\": [\"a\", \"b\"], \"n\": {\"k\": 1.50}}", 'j', 't'},
	{"[\"alpha\",\"beta\",\"gam\\\"ma\",null,\"\"]", 'a', 't'},
	{"[[1,2,3],[4,5,6]]", 'a', 't'},
	{"[{\"k\":\"v\"},\"s\",null,3]", 'a', 'j'},
	{"true", 't', 't'},
	{"null", 't', 't'},
};

/* Convert every value once; false (and a message) on error. */
static bool
round_once(trib_strbuf *out)
{
	static const char nulls[] = "[\"doc\",[\"tags\",0,2]]";
	static const char column[] = "[null,\"s\",null]";
	char		err[256];
	bool		is_null;
	size_t		i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
	{
		out->len = 0;
		if (!trib_pgsink_value_text(values[i].json, strlen(values[i].json), values[i].kind,
									values[i].ek, false, out, &is_null, err, sizeof(err)))
		{
			fprintf(stderr, "bench_pgsink_values: %s: %s\n", values[i].json, err);
			return false;
		}
	}
	out->len = 0;
	if (!trib_pgsink_column_text("tags", nulls, column, strlen(column), 'a', 'j', out, &is_null,
								 err, sizeof(err)))
	{
		fprintf(stderr, "bench_pgsink_values: column: %s\n", err);
		return false;
	}
	return true;
}

int
main(int argc, char **argv)
{
	long		iters = argc > 1 ? atol(argv[1]) : 20000;
	size_t		per = sizeof(values) / sizeof(values[0]) + 1;
	trib_strbuf out = {0};
	struct timespec t0,
				t1;
	long		i;
	double		ns;

	if (iters <= 0)
	{
		fprintf(stderr, "usage: bench_pgsink_values [ITERATIONS > 0]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < iters; i++)
		if (!round_once(&out))
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec);
	printf("%ld x %zu values: %.1f ns/value\n", iters, per, ns / (double) (iters * per));
	trib_strbuf_free(&out);
	return 0;
}
