/*
 * bench_rules.c: per-event cost of transform rules (rules.c), without I/O.
 *
 *   build/tools/bench_rules [EVENTS]
 *
 * Builds W1-shaped events (public.bench_events: id, name, email, amount,
 * created, active, meta) and times trib_rules_apply for each of the five
 * masking rules of bench/transforms.sh alone, all five together, and the Lua
 * filter; prints ns/event (best of 3).  A development tool for finding
 * where the end-to-end cost of the rules goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "event.h"
#include "rules.h"

#define HEAD "pipeline: b\nsources:\n  pg: {type: postgres, dsn: \"dbname=x\", snapshot: never}\n" \
	"sinks:\n  out: {type: stdout}\ntransforms:\n"

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void
bench(const char *label, const char *rules, int n)
{
	char		yaml[4096];
	char		err[1024];
	trib_config *cfg;
	trib_rules *rs;
	double		best = 1e18;

	snprintf(yaml, sizeof(yaml), "%s%s", HEAD, rules);
	if (!trib_config_load_buffer("b.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
	{
		fprintf(stderr, "%s: %s\n", label, err);
		exit(1);
	}
	rs = trib_rules_new(cfg, NULL, err, sizeof(err));
	if (rs == NULL)
	{
		fprintf(stderr, "%s: %s\n", label, err);
		exit(1);
	}
	for (int round = 0; round < 3; round++)
	{
		double		t = 0;

		for (int i = 1; i <= n; i++)
		{
			trib_event *ev = trib_event_new();
			char		after[256];
			char		key[32];
			double		t0;

			snprintf(after, sizeof(after), "{\"id\":%d,\"name\":\"name%d\",\"email\":\"user%d@example.com\","
					 "\"amount\":%d.50,\"created\":\"2026-11-22 10:00:00.123456+00\",\"active\":%s,"
					 "\"meta\":{\"k\":%d}}", i, i, i, i, i % 2 ? "false" : "true", i);
			snprintf(key, sizeof(key), "{\"id\":%d}", i);
			ev->op = TRIB_OP_CREATE;
			ev->source = "pg";
			ev->schema = "public";
			ev->table = "bench_events";
			ev->after = strdup(after);
			ev->key = strdup(key);
			t0 = now_ns();
			(void) trib_rules_apply(rs, ev, err, sizeof(err));
			t += now_ns() - t0;
			trib_event_free(ev);
		}
		if (t / n < best)
			best = t / n;
	}
	printf("%-24s %8.0f ns/event\n", label, best);
	trib_rules_free(rs);
	trib_config_free(cfg);
}

int
main(int argc, char **argv)
{
	int			n = argc > 1 ? atoi(argv[1]) : 100000;
	const char *k = "key: \"00112233445566778899aabbccddeeff\"";
	char		r[5][256];
	char		all[1400] = "";

	snprintf(r[0], sizeof(r[0]), "  - {type: substitute, fields: [name], kind: full_name, %s}\n", k);
	snprintf(r[1], sizeof(r[1]), "  - {type: hash, fields: [email], context: email, %s}\n", k);
	snprintf(r[2], sizeof(r[2]), "  - {type: perturb, fields: [amount], percent: 5, %s}\n", k);
	snprintf(r[3], sizeof(r[3]), "  - {type: partial, fields: [meta.k], keep_last: 2}\n");
	snprintf(r[4], sizeof(r[4]), "  - {type: tokenize, fields: [id], alphabet: digits, %s}\n", k);
	bench("none", "  []\n", n);
	bench("substitute name", r[0], n);
	bench("hash email", r[1], n);
	bench("perturb amount", r[2], n);
	bench("partial meta.k", r[3], n);
	bench("tokenize id", r[4], n);
	for (int i = 0; i < 5; i++)
		strcat(all, r[i]);
	bench("all five", all, n);
	bench("lua filter", "  - {type: filter, lua: \"after.amount > 100 and op ~= 'd'\"}\n", n);
	return 0;
}
