/*
 * fuzz_schema_migrate.c: libFuzzer target for the migrations' streaming
 * pass (schema_migrate_stream.c) against their tree path
 * (schema_migrate_apply.c).
 *
 * The input is a row image as a source would deliver it (any bytes).  A
 * fixed plan with every streamable step kind (renames, a drop, each cast,
 * added fields renamed and cast by later steps) migrates it both ways, as
 * a value image and as a key image.  Nothing may crash, leak or read out
 * of bounds, and whenever the streaming pass takes an image the tree path
 * must take it too and give the same bytes.
 *
 * `make -C consumer fuzz` runs it on fuzz/corpus/schema_migrate; `make
 * check` replays the corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "schema_migrate_int.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static trib_config *C;
static trib_migrate *M;
static trib_migrate_plan *P;

static trib_column cols[] = {
	{.name = "id", .type = "integer", .pk = true},
	{.name = "full_name", .type = "text", .nullable = true},
	{.name = "extra", .type = "integer", .nullable = true},
	{.name = "active", .type = "text", .nullable = true},
	{.name = "amount", .type = "text", .nullable = true},
	{.name = "n", .type = "text", .nullable = true},
};
static trib_relation rel = {.schema = "public", .table = "t", .columns = cols, .ncolumns = 6};
static char *fields[] = {"active", "amount", "count", "id", "name", "since", "tag"};

static const char yaml[] =
	"pipeline: fz\n"
	"sources:\n  main: {type: postgres, dsn: \"dbname=x\"}\n"
	"sinks:\n  out: {type: stdout}\n"
	"schemas:\n  enabled: true\n  migrations:\n"
	"    - subject: s\n      target: 1\n      steps:\n"
	"        - {rename: full_name, to: name}\n"
	"        - {drop: extra}\n"
	"        - {cast: active, as: boolean}\n"
	"        - {cast: amount, as: number}\n"
	"        - {rename: n, to: count}\n"
	"        - {cast: count, as: integer}\n"
	"        - {cast: id, as: string}\n"
	"        - {add: since, default: '\"2020-01-01\"'}\n"
	"        - {add: t, default: '7'}\n"
	"        - {rename: t, to: tag}\n"
	"        - {cast: tag, as: string}\n";

static void
init(void)
{
	char		err[512];

	if (!trib_config_load_buffer("fz.yaml", yaml, strlen(yaml), &C, err, sizeof(err)) ||
		!trib_migrate_new(&C->schemas, &M, err, sizeof(err)))
		abort();
	P = trib_migrate_plan_new(trib_migrate_find(M, "s"), &rel, 2, 1, fields, 7, err, sizeof(err));
	if (P == NULL)
		abort();
}

/* Both ways; the streaming pass's result, when it gives one, must be the
 * tree path's. */
static void
compare(const char *image, bool key)
{
	trib_event	ev = {.op = TRIB_OP_CREATE};
	char		err[512];
	char	   *s = strdup(image);
	char	   *t = strdup(image);
	bool		streamed = trib_migrate_stream(M, P, &s, key);
	bool		treed = trib_migrate_image_tree(M, P, &ev, &t, key, err, sizeof(err));

	if (streamed && (!treed || strcmp(s, t) != 0))
		abort();
	if (!streamed && strcmp(s, image) != 0)
		abort();
	free(s);
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *image;

	if (P == NULL)
		init();
	image = malloc(size + 1);
	memcpy(image, data, size);
	image[size] = '\0';
	compare(image, false);
	compare(image, true);
	free(image);
	return 0;
}
