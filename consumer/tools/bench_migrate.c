/*
 * bench_migrate.c: per-image cost of a schema migration
 * (schema_migrate_stream.c, schema_migrate_apply.c), without I/O.
 *
 *   build/tools/bench_migrate [IMAGES [stream|tree]]
 *
 * Builds IMAGES (default 200,000) row images of bench/schema_migrate.sh's
 * version 2 shape (public.bench_events with name renamed to full_name,
 * extra added, active retyped to text), as the plugin writes them, and
 * migrates them with that script's three steps (rename full_name to name,
 * drop extra, cast active to a boolean) to version 1's JSON Schema field
 * order, once by the streaming pass and once by the tree path.  Prints
 * ns/image of each (process CPU time, best of 3 rounds), and checks that
 * the two give the same bytes.  A development tool: it shows the stage's
 * own cost apart from the noise of an end-to-end run on a shared machine.
 * A second argument times only that way (for perf).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "event.h"
#include "schema_migrate_int.h"

static const char yaml[] =
	"pipeline: b\n"
	"sources:\n  pg: {type: postgres, dsn: \"dbname=x\", snapshot: never}\n"
	"sinks:\n  out: {type: stdout}\n"
	"schemas:\n  enabled: true\n  migrations:\n"
	"    - subject: s\n      target: 1\n      steps:\n"
	"        - {rename: full_name, to: name}\n"
	"        - {drop: extra}\n"
	"        - {cast: active, as: boolean, type: boolean}\n";

static trib_column cols[] = {
	{.name = "id", .type = "bigint", .pk = true},
	{.name = "full_name", .type = "text", .nullable = true},
	{.name = "email", .type = "text", .nullable = true},
	{.name = "amount", .type = "numeric(12,2)", .nullable = true},
	{.name = "created", .type = "timestamp with time zone", .nullable = true},
	{.name = "active", .type = "text", .nullable = true},
	{.name = "meta", .type = "jsonb", .nullable = true},
	{.name = "extra", .type = "integer", .nullable = true},
};
static trib_relation rel = {.schema = "public", .table = "bench_events", .columns = cols,
.ncolumns = 8, .version = 2};

/* Version 1's fields in JSON Schema's canonical (sorted) order. */
static char *fields[] = {"active", "amount", "created", "email", "id", "meta", "name"};

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	int			n = argc > 1 ? atoi(argv[1]) : 200000;
	const char *only = argc > 2 ? argv[2] : NULL;
	trib_config *cfg = NULL;
	trib_migrate *m = NULL;
	trib_migrate_plan *p;
	char		err[512];
	char	  **imgs;
	double		best[2] = {1e9, 1e9};
	trib_event	ev = {.op = TRIB_OP_CREATE};

	if (n <= 0)
		n = 200000;
	if (!trib_config_load_buffer("b.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)) ||
		!trib_migrate_new(&cfg->schemas, &m, err, sizeof(err)) ||
		(p = trib_migrate_plan_new(trib_migrate_find(m, "s"), &rel, 2, 1, fields, 7, err,
								   sizeof(err))) == NULL)
	{
		fprintf(stderr, "bench_migrate: %s\n", err);
		return 1;
	}
	imgs = calloc((size_t) n, sizeof(char *));
	for (int i = 0; i < n; i++)
	{
		char		b[512];

		snprintf(b, sizeof(b), "{\"id\":%d,\"full_name\":\"name%d\",\"email\":\"user%d@example.com\","
				 "\"amount\":%d.%s,\"created\":\"2026-12-04T08:14:00.123456Z\",\"active\":\"%s\","
				 "\"meta\":{\"k\":%d},\"extra\":%d}", i + 1, i + 1, i + 1, (i + 1) * 3 / 2,
				 (i + 1) % 2 ? "50" : "00", (i + 1) % 2 ? "false" : "true", i + 1, i + 1);
		imgs[i] = strdup(b);
	}
	for (int round = 0; round < 3; round++)
		for (int way = 0; way < 2; way++)
		{
			double		t0 = cpu_now(),
						t;

			if (only != NULL && strcmp(only, way == 0 ? "stream" : "tree") != 0)
				continue;

			for (int i = 0; i < n; i++)
			{
				char	   *t1 = strdup(imgs[i]);
				bool		ok = way == 0 ? trib_migrate_stream(m, p, &t1, false)
					: trib_migrate_image_tree(m, p, &ev, &t1, false, err, sizeof(err));

				if (!ok)
				{
					fprintf(stderr, "bench_migrate: image %d not migrated\n", i);
					return 1;
				}
				free(t1);
			}
			t = cpu_now() - t0;
			if (t < best[way])
				best[way] = t;
		}
	for (int i = 0; i < n; i++)
	{
		char	   *a = strdup(imgs[i]),
				   *b = strdup(imgs[i]);

		if (!trib_migrate_stream(m, p, &a, false) ||
			!trib_migrate_image_tree(m, p, &ev, &b, false, err, sizeof(err)) || strcmp(a, b) != 0)
		{
			fprintf(stderr, "bench_migrate: the two ways differ on image %d\n", i);
			return 1;
		}
		if (i == 0)
			printf("image:  %s\nresult: %s\n", imgs[i], a);
		free(a);
		free(b);
		free(imgs[i]);
	}
	printf("%d images, best of 3 (process CPU time)\n", n);
	printf("streaming pass: %.0f ns/image\n", best[0] / n * 1e9);
	printf("tree path:      %.0f ns/image\n", best[1] / n * 1e9);
	free(imgs);
	trib_migrate_plan_free(p);
	trib_migrate_free(m);
	trib_config_free(cfg);
	return 0;
}
