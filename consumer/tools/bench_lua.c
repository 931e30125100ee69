/*
 * bench_lua.c: nanoseconds per event of a Lua filter (lua_expr.c).
 *
 * Measures the whole per-event cost the rule engine pays: binding the
 * event, parsing its `after` row image (a realistic 10-column order row,
 * ~260 bytes), and running the filter
 *
 *     after.amount > 100 and op ~= 'd'
 *
 * over 256 distinct events in turn (amounts and ops vary, so about half
 * pass).  For comparison it also times the yajl_tree_parse of the row
 * image alone, which is the floor for any design that parses the image.
 *
 * Usage: build/tools/bench_lua [EVENTS] [EXPRESSION]   (default 1000000
 * per round, best of 5 rounds)
 * bench/lua.sh runs it and prints the figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "event.h"
#include "lua_expr.h"

#define NEVENTS 256
#define ROUNDS 5

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* A realistic order row; amount varies with i. */
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
			 "\"updated_at\":\"2024-06-01T10:05:00.123456Z\","
			 "\"note\":null,\"items\":%d}",
			 1048576 + i, 73421 + i * 7, (i * 37) % 200, i % 100, i, i % 9 + 1);
	ev->op = i % 10 == 0 ? TRIB_OP_DELETE : (i % 3 ? TRIB_OP_UPDATE : TRIB_OP_CREATE);
	ev->source = "pg1";
	ev->connector = "postgresql";
	ev->db = "shop";
	ev->schema = "public";
	ev->table = "orders";
	/* deletes keep the filter's shape valid: the old row is in `after`
	 * here so that every event runs the same expression */
	ev->after = strdup(buf);
	snprintf(buf, sizeof(buf), "{\"id\":%d}", 1048576 + i);
	ev->key = strdup(buf);
	ev->txid = 741;
	ev->ts_ms = 1700000000123LL;
	return ev;
}

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *src = argc > 2 ? argv[2] : "after.amount > 100 and op ~= 'd'";
	trib_lua_limits lim;
	trib_lua   *T;
	trib_lua_expr *e;
	trib_event *evs[NEVENTS];
	char		err[512];
	long		kept = 0;
	double		t0,
				t1,
				t2,
				best,
				best_tree;

	trib_lua_limits_init(&lim);
	T = trib_lua_new(&lim, err, sizeof(err));
	if (T == NULL)
	{
		fprintf(stderr, "bench_lua: %s\n", err);
		return 1;
	}
	e = trib_lua_compile(T, "bench", src, TRIB_LUA_FILTER, err, sizeof(err));
	if (e == NULL)
	{
		fprintf(stderr, "bench_lua: %s\n", err);
		return 1;
	}
	for (int i = 0; i < NEVENTS; i++)
		evs[i] = make_event(i);

	/* warm up */
	for (long i = 0; i < 10000; i++)
	{
		bool		keep;

		trib_lua_bind(T, evs[i % NEVENTS]);
		if (!trib_lua_filter(e, &keep, err, sizeof(err)))
		{
			fprintf(stderr, "bench_lua: %s\n", err);
			return 1;
		}
	}

	/* The machine may be shared: take the best of ROUNDS rounds. */
	best = best_tree = 1e300;
	for (int round = 0; round < ROUNDS; round++)
	{
		kept = 0;
		t0 = now_ns();
		for (long i = 0; i < n; i++)
		{
			bool		keep;

			trib_lua_bind(T, evs[i % NEVENTS]);
			if (!trib_lua_filter(e, &keep, err, sizeof(err)))
			{
				fprintf(stderr, "bench_lua: %s\n", err);
				return 1;
			}
			kept += keep;
		}
		t1 = now_ns();
		for (long i = 0; i < n / 4; i++)
		{
			yajl_val	v = yajl_tree_parse(evs[i % NEVENTS]->after, err, sizeof(err));

			yajl_tree_free(v);
		}
		t2 = now_ns();
		if ((t1 - t0) / (double) n < best)
			best = (t1 - t0) / (double) n;
		if ((t2 - t1) / (double) (n / 4) < best_tree)
			best_tree = (t2 - t1) / (double) (n / 4);
	}

	printf("expression: %s\n", src);
	printf("events: %ld, kept: %ld\n", n, kept);
	printf("filter (bind + parse + evaluate): %.0f ns/event (best of %d rounds)\n",
		   best, ROUNDS);
	printf("for comparison, yajl_tree_parse of the whole row image: %.0f ns\n",
		   best_tree);
	printf("lua state memory: %zu bytes\n", trib_lua_memory(T));
	trib_lua_unbind(T);
	trib_lua_free(T);
	for (int i = 0; i < NEVENTS; i++)
		trib_event_free(evs[i]);
	return 0;
}
