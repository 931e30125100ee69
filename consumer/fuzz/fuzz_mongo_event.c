/*
 * fuzz_mongo_event.c: libFuzzer target for the MongoDB source's reading of
 * the documents a server sends (source/mongodb/): the mapping of a change
 * stream document to an event (mongo_event.c), the schema inference over
 * its row images (mongo_infer.c), the snapshot's text of a document's
 * `_id` (mongo_snapread.c) and the envelope the events end in.
 *
 * The input is one BSON document.  Bytes that are not well-formed BSON
 * are rejected before anything of ours runs: that is libbson's job, and a
 * server never sends them.  bson_validate (libbson 1.23) passes a nested
 * document without its terminating NUL, whose elements end before its
 * length says, or that holds an element of an unknown type (bson_as_json
 * then writes half a value), so every nested document, array and scope is
 * checked too; deeper than 100 levels (the server's limit) is rejected as
 * well.  A document that passes goes the way the stream's do
 * (mongo_reader.c): trib_mongo_change_map; on success the inference, then
 * the envelope.  It also goes the snapshot's way (mongo_snapshot.c's
 * doc_event): its `_id` text and the whole document as a row image, op r,
 * through the same inference.  Both ways mark the int64 values (as with a
 * Debezium sink), so that walk (mongo_int64.c) is fuzzed too.  Every JSON text we hand on (key, row
 * images, extra, opaque, the `_id` text) must parse as JSON: the envelope
 * trusts them.  The snapshot's row image must also read back through the
 * MongoDB sink (trib_mongosink_ejson) unless a member name starting with
 * '$' makes its Extended JSON ambiguous: a date after 9999, which
 * libbson wrote as text no reader takes, stopped that sink.  Any crash, sanitizer report or leak is a bug: a strange
 * document must only ever produce an error.
 *
 * Build and run: make -C consumer fuzz (clang), corpus in
 * fuzz/corpus/mongo_event/ (.bson files: change documents of every
 * operationType, in and out of transactions, and documents holding every
 * BSON type libbson knows), dictionary fuzz/fuzz_mongo_event.dict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>
#include <yajl/yajl_tree.h>

#include "envelope.h"
#include "event.h"
#include "intern.h"
#include "mongo_event.h"
#include "mongo_infer.h"
#include "mongo_snapread.h"
#include "sink_mongodb.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The document at data[0..len) and every document, array and scope in
 * it end with their terminator and iterate to the end their length gives. */
static bool
well_formed(const uint8_t *data, uint32_t len, int depth)
{
	bson_t		b;
	bson_iter_t it;
	const uint8_t *sub;
	uint32_t	sub_len,
				code_len;

	if (depth > 100 || !bson_init_static(&b, data, len) || !bson_iter_init(&it, &b))
		return false;
	while (bson_iter_next(&it))
	{
		if (BSON_ITER_HOLDS_DOCUMENT(&it))
			bson_iter_document(&it, &sub_len, &sub);
		else if (BSON_ITER_HOLDS_ARRAY(&it))
			bson_iter_array(&it, &sub_len, &sub);
		else if (BSON_ITER_HOLDS_CODEWSCOPE(&it))
			(void) bson_iter_codewscope(&it, &code_len, &sub_len, &sub);
		else
			continue;
		if (!well_formed(sub, sub_len, depth + 1))
			return false;
	}
	/* at the end, not at an element of a type libbson does not know */
	return it.err_off == 0 && it.off + 1 == len;
}

/* s (NULL: nothing to check) must be JSON; abort so libFuzzer keeps it. */
static void
must_be_json(const char *what, const char *s)
{
	yajl_val	v;

	if (s == NULL)
		return;
	v = yajl_tree_parse(s, NULL, 0);
	if (v == NULL)
	{
		fprintf(stderr, "fuzz_mongo_event: %s is not JSON: %s\n", what, s);
		abort();
	}
	yajl_tree_free(v);
}

static void
check_event(const trib_event *ev)
{
	must_be_json("key", ev->key);
	must_be_json("after", ev->after);
	must_be_json("before", ev->before);
	must_be_json("extra", ev->extra);
	must_be_json("opaque", ev->pos.opaque);
}

/* The fixed clock keeps runs reproducible. */
static int64_t
clock0(void)
{
	return 1;
}

/* Encode ev as the Kafka sink would (an error is a fine answer). */
static void
encode(const trib_event *ev)
{
	static trib_envelope *env;
	char		err[256];
	size_t		n;

	if (env == NULL)
	{
		trib_envelope_opts o;

		trib_envelope_opts_init(&o);
		o.clock_ms = clock0;
		env = trib_envelope_new(&o, err, sizeof(err));
		if (env == NULL)
			abort();
	}
	(void) trib_envelope_encode(env, ev, &n, err, sizeof(err));
}

/* The stream's way: map, infer, encode. */
static void
as_change(const bson_t *doc, trib_intern *names, trib_mongo_infer *inf)
{
	trib_mongo_map_ctx ctx = {.names = names, .source = "fuzz", .rs = "rs0",
		.int64_paths = true};
	trib_mongo_change ch;
	char		err[512];

	if (trib_mongo_change_map(doc, &ctx, &ch, err, sizeof(err)))
	{
		check_event(ch.ev);
		must_be_json("token", ch.token);
		must_be_json("lsid", ch.lsid);
		trib_mongo_infer_event(inf, ch.ev);
		encode(ch.ev);
	}
	trib_mongo_change_clear(&ch);
}

/* True when a member name anywhere in the document at it starts with
 * '$' (an Extended JSON keyword, as a user may name a field since
 * MongoDB 5.0: its relaxed JSON is ambiguous, docs/MONGODB.md). */
static bool
has_dollar_name(bson_iter_t *it)
{
	bson_iter_t child;

	while (bson_iter_next(it))
		if (bson_iter_key(it)[0] == '$' ||
			((BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) &&
			 bson_iter_recurse(it, &child) && has_dollar_name(&child)))
			return true;
	return false;
}

/* The MongoDB sink's way back (sink/mongodb/sink_mongodb_ejson.c): an
 * image the source hands on must read back as Extended JSON unless a
 * member name makes it ambiguous; the update an extra stands for is
 * built (an error is a fine answer). */
static void
to_sink(const bson_t *doc, const trib_event *ev)
{
	bson_t		b = BSON_INITIALIZER,
				t = BSON_INITIALIZER,
				u = BSON_INITIALIZER;
	bson_iter_t it;
	bool		has;
	char		err[256];

	if (!trib_mongosink_ejson(ev->after, "the document", false, ev->extra, &b, err,
							  sizeof(err)) &&
		bson_iter_init(&it, doc) && !has_dollar_name(&it))
	{
		fprintf(stderr, "fuzz_mongo_event: the sink cannot read the image back: %s\n",
				ev->after);
		abort();
	}
	(void) trib_mongosink_update_desc(ev->extra, &t, &u, &has, err, sizeof(err));
	bson_destroy(&b);
	bson_destroy(&t);
	bson_destroy(&u);
}

/* The snapshot's way: the `_id` text, the document as an op r event
 * (mongo_snapread.c's trib_mongo_snap_event, as the snapshot makes it). */
static void
as_snapshot_row(const bson_t *doc, trib_mongo_infer *inf)
{
	char	   *id = trib_mongo_snap_id_text(doc);
	char		err[512];
	trib_event *ev;

	must_be_json("_id text", id);
	free(id);
	ev = trib_mongo_snap_event(doc, "db", "snap", true, err, sizeof(err));
	if (ev == NULL)
		return;					/* refused with a message: not UTF-8 */
	ev->source = "fuzz";
	ev->db = ev->schema = "db";
	ev->table = "snap";
	ev->pos.opaque = strdup("{}");
	if (ev->pos.opaque == NULL)
		abort();
	check_event(ev);
	to_sink(doc, ev);
	trib_mongo_infer_event(inf, ev);
	encode(ev);
	trib_event_free(ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bson_t	   *doc = bson_new_from_data(data, size);
	trib_intern *names;
	trib_mongo_infer *inf;

	if (doc == NULL)
		return 0;
	if (!bson_validate(doc, BSON_VALIDATE_NONE, NULL) ||
		!well_formed(bson_get_data(doc), doc->len, 0))
	{
		bson_destroy(doc);
		return 0;
	}
	names = trib_intern_new();
	inf = trib_mongo_infer_new();
	as_change(doc, names, inf);
	as_snapshot_row(doc, inf);
	trib_mongo_infer_free(inf);
	trib_intern_free(names);
	bson_destroy(doc);
	return 0;
}
