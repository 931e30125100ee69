/*
 * fuzz_snapshot_format.c: libFuzzer target for the snapshot's readers of
 * outside text: type output text to JSON (snapshot_format.c: array and
 * record literals, dates, timestamps, bytea) and the progress record read
 * back from the checkpoint store (snapshot_progress.c).
 *
 * The first byte picks what the rest is parsed as: one of a fixed set of
 * type trees (scalars, nested arrays with ',' and ';' delimiters, a
 * composite holding an array and a composite), or a progress record.  Any
 * crash, sanitizer report or leak is a bug: malformed text must only ever
 * produce an error.  When a value is accepted, the output must be valid
 * JSON text as yajl sees it.  Every value also goes through the JSON null
 * check (trib_snapfmt_column), which collects positions in jsonb[].
 *
 * Build and run: make -C consumer fuzz (clang), corpus in
 * fuzz/corpus/snapshot_format/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_tree.h>

#include "snapshot_format.h"
#include "snapshot_progress.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NTYPES 12
static trib_snapfmt_type *types[NTYPES];

/* An array of elem. */
static trib_snapfmt_type *
array_of(trib_snapfmt_type *elem, char delim)
{
	trib_snapfmt_type *t = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_ARRAY, 0);

	t->elem = elem;
	t->delim = delim;
	return t;
}

/* A composite of n attributes a0.. of the given types. */
static trib_snapfmt_type *
composite_of(int n, trib_snapfmt_type **attrs)
{
	trib_snapfmt_type *t = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_COMPOSITE, 0);
	int			i;

	t->nattrs = n;
	t->attr_names = calloc((size_t) n, sizeof(char *));
	t->attrs = calloc((size_t) n, sizeof(trib_snapfmt_type *));
	for (i = 0; i < n; i++)
	{
		t->attr_names[i] = strdup(i == 0 ? "a" : i == 1 ? "b" : "c");
		t->attrs[i] = attrs[i];
	}
	return t;
}

static void
init_types(void)
{
	trib_snapfmt_type *inner[3],
			   *outer[3];

	types[0] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_INT, 23);
	types[1] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_FLOAT, 701);
	types[2] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_DATE, 1082);
	types[3] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_TIMESTAMPTZ, 1184);
	types[4] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_TIMETZ, 1266);
	types[5] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_BYTEA, 17);
	types[6] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_STRING, 25);
	types[7] = array_of(trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_INT, 23), ',');
	types[8] = array_of(trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_STRING, 603), ';');
	inner[0] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_STRING, 25);
	inner[1] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_NUMERIC, 1700);
	inner[2] = array_of(trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_TIMESTAMP, 1114), ',');
	outer[0] = composite_of(3, inner);
	outer[1] = array_of(trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_BYTEA, 17), ',');
	outer[2] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_BOOL, 16);
	types[9] = composite_of(3, outer);
	types[10] = array_of(trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_JSON, 3802), ',');
	inner[0] = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_INT, 23);
	types[11] = array_of(composite_of(1, inner), ',');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const trib_snapfmt_opts opts[3] = {
		{TRIB_SNAPFMT_ENC_UTF8, false},
		{TRIB_SNAPFMT_ENC_SQL_ASCII, true},
		{TRIB_SNAPFMT_ENC_OTHER, false}
	};
	char		err[256];

	if (types[0] == NULL)
		init_types();
	if (size < 1)
		return 0;
	if (data[0] == 0xFF)
	{
		char	   *text = strndup((const char *) data + 1, size - 1);
		trib_snapprog p;

		if (trib_snapprog_from_json(text, &p, err, sizeof(err)) == 1)
		{
			char	   *again = trib_snapprog_to_json(&p);

			free(again);
			trib_snapprog_clear(&p);
		}
		free(text);
		return 0;
	}
	{
		trib_strbuf out = {0};
		const trib_snapfmt_type *t = types[data[0] % NTYPES];
		const trib_snapfmt_opts *o = &opts[(data[0] / NTYPES) % 3];

		if (trib_snapfmt_value(&out, (const char *) data + 1, size - 1, t, o, err, sizeof(err)) &&
			o->encoding == TRIB_SNAPFMT_ENC_OTHER && t != types[10])
		{
			/*
			 * Without json values, and with every non-ASCII byte escaped
			 * (so the input's UTF-8 validity does not matter), the output
			 * must be valid JSON.
			 */
			char		e[128];
			yajl_val	v = yajl_tree_parse(out.data, e, sizeof(e));

			if (v == NULL)
				abort();
			yajl_tree_free(v);
		}
		/* the same input through the JSON null check (jsonb[]: positions) */
		{
			trib_strbuf jn = {0};
			bool		json_null;

			out.len = 0;
			(void) trib_snapfmt_column(&out, (const char *) data + 1, size - 1, t, o, &jn,
									   &json_null, err, sizeof(err));
			trib_strbuf_free(&jn);
		}
		trib_strbuf_free(&out);
	}
	return 0;
}
