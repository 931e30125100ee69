/*
 * fuzz_dbz_row.c: libFuzzer target for the Debezium row converter
 * (format/debezium_lex.c), differential: the plain-text walk
 * (lib/jscan_tokens.c) against yajl's lexing.
 *
 * The input's first byte picks the handling options; the rest is a row
 * image of a relation with one column of each kind the converter treats
 * apart (as is, numeric, temporal, json/jsonb, bytea, arrays, hstore,
 * bits, uuid, interval, point, money).  Whatever the bytes, converting must
 * not crash or touch memory it does not own (ASan/UBSan), and the walk
 * must give what yajl gives: the same success, the same error text, the
 * same bytes.  A difference aborts.
 *
 *   make -C consumer fuzz FUZZERS=fuzz/fuzz_dbz_row.c FUZZ_SECONDS=60
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debezium.h"
#include "debezium_int.h"
#include "event.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static trib_column cols[] = {
	{.name = "a", .type = "integer"}, {.name = "b", .type = "text"},
	{.name = "c", .type = "numeric(12,2)"}, {.name = "d", .type = "numeric"},
	{.name = "e", .type = "timestamp with time zone"},
	{.name = "f", .type = "timestamp(3) without time zone"},
	{.name = "g", .type = "date"}, {.name = "h", .type = "time without time zone"},
	{.name = "i", .type = "jsonb"}, {.name = "j", .type = "json"},
	{.name = "k", .type = "bytea"}, {.name = "l", .type = "integer[]"},
	{.name = "m", .type = "date[]"}, {.name = "n", .type = "hstore"},
	{.name = "o", .type = "bit(3)"}, {.name = "p", .type = "uuid"},
	{.name = "q", .type = "interval"}, {.name = "r", .type = "point"},
	{.name = "s", .type = "money"}, {.name = "t", .type = "boolean"},
};

/* The options byte: decimal, time, binary, hstore and interval modes. */
static void
opts_of(uint8_t x, trib_dbz_opts *o)
{
	trib_dbz_opts_init(o);
	o->decimal = (trib_dbz_decimal) (x % 3);
	o->time = (trib_dbz_time) ((x / 3) % 3);
	o->binary = (trib_dbz_binary) ((x / 9) % 4);
	o->hstore = (x & 0x40) ? TRIB_DBZ_HSTORE_MAP : TRIB_DBZ_HSTORE_JSON;
	o->interval = (x & 0x80) ? TRIB_DBZ_INTERVAL_STRING : TRIB_DBZ_INTERVAL_NUMERIC;
	o->money_scale = 2;
}

/* One conversion; *ok and err filled. */
static char *
convert(trib_dbz *d, const trib_relation *rel, const char *image, bool *ok,
		char *err, size_t errlen)
{
	trib_strbuf out = {0};

	*ok = trib_dbz_row(d, "postgresql", rel, image, "[\"i\"]", &out, err, errlen);
	return trib_strbuf_finish(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	trib_relation rel = {.schema = "public", .table = "t",
	.ncolumns = sizeof(cols) / sizeof(cols[0]), .columns = cols, .version = 1};
	trib_dbz_opts o;
	trib_dbz   *walk,
			   *yajl;
	char	   *image,
			   *a,
			   *b;
	char		ea[512],
				eb[512];
	bool		oka,
				okb;

	if (size == 0)
		return 0;
	opts_of(data[0], &o);
	image = malloc(size);
	if (image == NULL)
		return 0;
	memcpy(image, data + 1, size - 1);
	image[size - 1] = '\0';		/* a NUL inside cuts it, as strlen does */
	walk = trib_dbz_new(&o);
	yajl = trib_dbz_new(&o);
	yajl->yajl_only = true;
	a = convert(walk, &rel, image, &oka, ea, sizeof(ea));
	b = convert(yajl, &rel, image, &okb, eb, sizeof(eb));
	if (oka != okb || strcmp(ea, eb) != 0 || (oka && strcmp(a, b) != 0))
	{
		fprintf(stderr, "walk and yajl differ on %s:\n  walk %d %s %s\n  yajl %d %s %s\n",
				image, oka, ea, a, okb, eb, b);
		abort();
	}
	free(a);
	free(b);
	trib_dbz_free(walk);
	trib_dbz_free(yajl);
	free(image);
	return 0;
}
