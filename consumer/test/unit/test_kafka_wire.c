/*
 * test_kafka_wire.c: the Kafka sink's framed value formats (kafka_wire.c,
 * kafka_avro.c), without a broker.
 *
 * What is proved: the Confluent header is a 0 byte and the schema id in 4
 * bytes big endian; json_sr is exactly that header and the JSON record;
 * avro writes a row that avro-c reads back, with the registered schema (the
 * one libtribsr builds for the relation), into the same values: ints,
 * longs, doubles with NaN, booleans, strings, numeric(p,s) as decimal
 * bytes (negative ones in two's complement), dates as days, timestamps as
 * microseconds, bytea from base64, json as its text, arrays and nulls; a
 * delete is one null value; truncates, messages and unstamped events keep
 * their JSON; a value that does not fit its field is an error naming the
 * column; a row whose relation a rule reshaped after the stage is refused;
 * `tributary check` refuses json_sr or avro without the schema
 * stage, or with a stage that registers the other schema type, naming the
 * key.  Keys (key_format): json_sr puts the key schema's id before the
 * JSON key, avro writes the key columns only, which avro-c reads back with
 * the key schema libtribsr builds; an event without a key schema id keeps
 * its JSON key; key_format json_sr or avro needs schemas.keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <avro.h>

#include "config.h"
#include "event.h"
#include "sink_kafka_int.h"
#include "tribsr.h"

static trib_column COLS[] = {
	{"id", "integer", 23, NULL, false, true, false, NULL, NULL, NULL, NULL, 0},
	{"big", "bigint", 20, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"price", "numeric(10,2)", 1700, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"ratio", "double precision", 701, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"ok", "boolean", 16, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"name", "text", 25, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"day", "date", 1082, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"at", "timestamp with time zone", 1184, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"blob", "bytea", 17, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"doc", "jsonb", 3802, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"tags", "integer[]", 1007, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
};

static trib_relation REL = {"public", "t", 11, COLS, 1};

/* An event of op on REL with `after` and a schema id. */
static trib_event
row_event(trib_op op, const char *after, int64_t id)
{
	trib_event	ev = {0};

	ev.op = op;
	ev.schema = "public";
	ev.table = "t";
	ev.after = (char *) after;
	ev.key = "{\"id\":1}";
	ev.rel = &REL;
	ev.schema_id = id;
	ev.schema_version = 1;
	return ev;
}

/* What kfk_wire_value() gives for one record. */
typedef struct wire_out
{
	const void *v;
	size_t		len;
	bool		skip;
	char		err[256];
} wire_out;

static bool
value_of(kfk_wire *w, const trib_event *ev, const trib_record *rec, size_t i, wire_out *o)
{
	return kfk_wire_value(w, ev, rec, i, &o->v, &o->len, &o->skip, o->err, sizeof(o->err));
}

/* The encoder of a value_format and a key_format. */
static kfk_wire *
formats_wire(trib_data_format value, trib_data_format key)
{
	trib_kafka_conf c;

	trib_kafka_conf_init(&c);
	c.value_format = value;
	c.key_format = key;
	return kfk_wire_new(&c, NULL);
}

/* The encoder of a value_format (keys json). */
static kfk_wire *
wire_of(trib_data_format f)
{
	return formats_wire(f, TRIB_FORMAT_JSON);
}

/* The registered Avro schema of REL's rows or key, parsed by avro-c. */
static avro_schema_t
part_schema(trib_sr_table_part part)
{
	trib_sr_field f[11];
	trib_sr_table t = {"public", "t", f, 11};
	char		e[256];
	trib_sr_schema *s;
	avro_schema_t as;
	size_t		len;
	const char *doc;

	memset(f, 0, sizeof(f));
	for (int i = 0; i < 11; i++)
	{
		assert_true(trib_sr_pg_type(COLS[i].type, -1, 0, &f[i].type, e, sizeof(e)));
		f[i].name = COLS[i].name;
		f[i].nullable = COLS[i].nullable;
		f[i].key = COLS[i].pk;
	}
	s = trib_sr_table_schema(&t, TRIB_SR_AVRO, part, e, sizeof(e));
	assert_non_null(s);
	doc = trib_sr_schema_canonical(s, &len);
	assert_int_equal(avro_schema_from_json_length(doc, len, &as), 0);
	trib_sr_schema_free(s);
	return as;
}

/* The registered Avro schema of REL's rows. */
static avro_schema_t
rel_schema(void)
{
	return part_schema(TRIB_SR_VALUE);
}

static void
test_header_is_zero_and_big_endian_id(void **state)
{
	unsigned char h[KFK_WIRE_HEADER];

	(void) state;
	kfk_wire_header(h, 0x01020304);
	assert_memory_equal(h, "\x00\x01\x02\x03\x04", 5);
	kfk_wire_header(h, 7);
	assert_memory_equal(h, "\x00\x00\x00\x00\x07", 5);
}

static void
test_json_sr_frames_the_json_record(void **state)
{
	kfk_wire   *w;
	trib_event	ev = row_event(TRIB_OP_CREATE, "{\"id\":1}", 258);
	trib_record rec = {"p.public.t", "{\"id\":1}", 8, "{\"after\":{\"id\":1}}", 18};
	wire_out	o;

	(void) state;
	assert_null(wire_of(TRIB_FORMAT_JSON));	/* json: no encoder at all */
	w = wire_of(TRIB_FORMAT_JSON_SR);
	assert_true(value_of(w, &ev, &rec, 0, &o));
	assert_false(o.skip);
	assert_int_equal(o.len, 18 + 5);
	assert_memory_equal(o.v, "\x00\x00\x00\x01\x02{\"after\":{\"id\":1}}", 23);
	/* a tombstone stays null; an unstamped event and a message stay JSON */
	rec.value = NULL;
	rec.value_len = 0;
	assert_true(value_of(w, &ev, &rec, 1, &o));
	assert_null(o.v);
	rec.value = "{\"op\":\"m\"}";
	rec.value_len = 10;
	ev.op = TRIB_OP_MESSAGE;
	assert_true(value_of(w, &ev, &rec, 0, &o));
	assert_ptr_equal(o.v, rec.value);
	ev.op = TRIB_OP_CREATE;
	ev.schema_id = 0;
	assert_true(value_of(w, &ev, &rec, 0, &o));
	assert_ptr_equal(o.v, rec.value);
	kfk_wire_free(w);
}

/* Read the Avro binary (after the header) back with avro-c. */
static void
read_back(const void *v, size_t len, avro_value_t *out, avro_value_iface_t **iface,
		  avro_schema_t *schema)
{
	avro_reader_t r;

	*schema = rel_schema();
	*iface = avro_generic_class_from_schema(*schema);
	assert_int_equal(avro_generic_value_new(*iface, out), 0);
	r = avro_reader_memory((const char *) v + KFK_WIRE_HEADER, (int64_t) (len - KFK_WIRE_HEADER));
	assert_int_equal(avro_value_read(r, out), 0);
	avro_reader_free(r);
}

/* The non-null branch of a nullable field. */
static avro_value_t
field(avro_value_t *rec, const char *name)
{
	avro_value_t f,
				b;
	int			disc;

	assert_int_equal(avro_value_get_by_name(rec, name, &f, NULL), 0);
	if (avro_value_get_type(&f) != AVRO_UNION)
		return f;
	assert_int_equal(avro_value_get_discriminant(&f, &disc), 0);
	assert_int_equal(disc, 1);
	assert_int_equal(avro_value_get_current_branch(&f, &b), 0);
	return b;
}

static void
test_avro_row_reads_back_with_the_registered_schema(void **state)
{
	kfk_wire   *w;
	trib_event	ev = row_event(TRIB_OP_UPDATE,
							   "{\"id\":7,\"big\":9007199254740993,\"price\":-12.5,"
							   "\"ratio\":\"NaN\",\"ok\":true,\"name\":\"h\\u00e9\","
							   "\"day\":\"1969-12-31\",\"at\":\"2024-06-01T10:00:00.25Z\","
							   "\"blob\":\"AAEC\",\"doc\":\"s\",\"tags\":[1,null,3]}",
							   300);
	trib_record rec = {"p.public.t", "{\"id\":7}", 8, "{}", 2};
	wire_out	o;
	size_t		n;
	avro_value_t out,
				f,
				el;
	avro_value_iface_t *iface;
	avro_schema_t schema;
	int32_t		i32;
	int64_t		i64;
	double		d;
	int			b;
	const char *s;
	const void *bytes;

	(void) state;
	w = wire_of(TRIB_FORMAT_AVRO);
	assert_true(value_of(w, &ev, &rec, 0, &o));
	assert_memory_equal(o.v, "\x00\x00\x00\x01\x2c", 5);
	read_back(o.v, o.len, &out, &iface, &schema);
	f = field(&out, "id");
	assert_int_equal(avro_value_get_int(&f, &i32), 0);
	assert_int_equal(i32, 7);
	f = field(&out, "big");
	assert_int_equal(avro_value_get_long(&f, &i64), 0);
	assert_true(i64 == INT64_C(9007199254740993));
	f = field(&out, "price");		/* -1250 at scale 2: 0xfb1e */
	assert_int_equal(avro_value_get_bytes(&f, &bytes, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(bytes, "\xfb\x1e", 2);
	f = field(&out, "ratio");
	assert_int_equal(avro_value_get_double(&f, &d), 0);
	assert_true(isnan(d));
	f = field(&out, "ok");
	assert_int_equal(avro_value_get_boolean(&f, &b), 0);
	assert_true(b);
	f = field(&out, "name");
	assert_int_equal(avro_value_get_string(&f, &s, &n), 0);
	assert_string_equal(s, "h\xc3\xa9");
	f = field(&out, "day");
	assert_int_equal(avro_value_get_int(&f, &i32), 0);
	assert_int_equal(i32, -1);
	f = field(&out, "at");
	assert_int_equal(avro_value_get_long(&f, &i64), 0);
	assert_true(i64 == INT64_C(1717236000250000));
	f = field(&out, "blob");
	assert_int_equal(avro_value_get_bytes(&f, &bytes, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(bytes, "\x00\x01\x02", 3);
	f = field(&out, "doc");
	assert_int_equal(avro_value_get_string(&f, &s, &n), 0);
	assert_string_equal(s, "\"s\"");	/* a jsonb string keeps its quotes */
	f = field(&out, "tags");
	assert_int_equal(avro_value_get_size(&f, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(avro_value_get_by_index(&f, 1, &el, NULL), 0);
	assert_int_equal(avro_value_get_discriminant(&el, &b), 0);
	assert_int_equal(b, 0);		/* the null element */
	avro_value_decref(&out);
	avro_value_iface_decref(iface);
	avro_schema_decref(schema);
	kfk_wire_free(w);
}

static void
test_avro_delete_is_one_null_value(void **state)
{
	kfk_wire   *w;
	trib_event	ev = row_event(TRIB_OP_DELETE, NULL, 300);
	trib_record rec = {"p.public.t", "{\"id\":7}", 8, "{\"op\":\"d\"}", 10};
	wire_out	o;

	(void) state;
	w = wire_of(TRIB_FORMAT_AVRO);
	assert_true(value_of(w, &ev, &rec, 0, &o));
	assert_false(o.skip);
	assert_null(o.v);
	/* the envelope's tombstone after it is not sent twice */
	assert_true(value_of(w, &ev, &rec, 1, &o));
	assert_true(o.skip);
	kfk_wire_free(w);
}

/* Rows with every column, one of them not fitting its field. */
#define ROW_NULLS "\"ratio\":null,\"ok\":null,\"name\":null,\"day\":null," \
	"\"blob\":null,\"doc\":null,\"tags\":null,\"big\":null"
#define ROW_PRICE "{\"id\":1,\"price\":1.234,\"at\":null," ROW_NULLS "}"
#define ROW_AT "{\"id\":1,\"price\":null,\"at\":\"infinity\"," ROW_NULLS "}"

static void
test_avro_value_that_does_not_fit_names_the_column(void **state)
{
	kfk_wire   *w;
	trib_event	ev = row_event(TRIB_OP_CREATE, ROW_PRICE, 300);
	trib_record rec = {"p.public.t", "{\"id\":1}", 8, "{}", 2};
	wire_out	o;

	(void) state;
	w = wire_of(TRIB_FORMAT_AVRO);
	/* three fraction digits do not fit numeric(10,2) */
	assert_false(value_of(w, &ev, &rec, 0, &o));
	assert_non_null(strstr(o.err, "column price"));
	/* a timestamp that Avro cannot hold (infinity) */
	ev.after = ROW_AT;
	assert_false(value_of(w, &ev, &rec, 0, &o));
	assert_non_null(strstr(o.err, "column at"));
	/* a column left out of the row (unchanged TOAST) and not nullable */
	ev.after = "{\"big\":1}";
	assert_false(value_of(w, &ev, &rec, 0, &o));
	assert_non_null(strstr(o.err, "column id is not in the row"));
	kfk_wire_free(w);
}

/* The encoder of a key_format (values json). */
static kfk_wire *
key_wire_of(trib_data_format f)
{
	return formats_wire(TRIB_FORMAT_JSON, f);
}

static void
test_keys_are_framed_with_the_key_schema_id(void **state)
{
	kfk_wire   *w = key_wire_of(TRIB_FORMAT_JSON_SR);
	trib_event	ev = row_event(TRIB_OP_CREATE, "{\"id\":1}", 258);
	trib_record rec = {"p.public.t", "{\"id\":1}", 8, "{\"after\":{\"id\":1}}", 18};
	wire_out	o;
	const void *k;
	size_t		klen;

	(void) state;
	assert_non_null(w);
	ev.key_schema_id = 0x0A0B;
	/* the value stays the JSON record */
	assert_true(value_of(w, &ev, &rec, 0, &o));
	assert_ptr_equal(o.v, rec.value);
	assert_true(kfk_wire_key(w, &ev, &rec, &k, &klen, o.err, sizeof(o.err)));
	assert_int_equal(klen, 8 + 5);
	assert_memory_equal(k, "\x00\x00\x00\x0A\x0B{\"id\":1}", 13);
	/* no key schema id (schemas.keys off, a table without a key): JSON */
	ev.key_schema_id = 0;
	assert_true(kfk_wire_key(w, &ev, &rec, &k, &klen, o.err, sizeof(o.err)));
	assert_ptr_equal(k, rec.key);
	assert_int_equal(klen, 8);
	kfk_wire_free(w);
}

static void
test_avro_key_reads_back_with_the_key_schema(void **state)
{
	kfk_wire   *w = key_wire_of(TRIB_FORMAT_AVRO);
	trib_event	ev = row_event(TRIB_OP_DELETE, NULL, 300);
	trib_record rec = {"p.public.t", "{\"id\":-7}", 9, NULL, 0};
	avro_schema_t as;
	avro_value_iface_t *iface;
	avro_value_t v,
				id;
	avro_reader_t r;
	const void *k;
	size_t		klen,
				n;
	int32_t		got;
	char		e[256];

	(void) state;
	ev.key = "{\"id\":-7}";
	ev.key_schema_id = 301;
	assert_true(kfk_wire_key(w, &ev, &rec, &k, &klen, e, sizeof(e)));
	assert_memory_equal(k, "\x00\x00\x00\x01\x2D", 5);
	as = part_schema(TRIB_SR_KEY);
	iface = avro_generic_class_from_schema(as);
	assert_int_equal(avro_generic_value_new(iface, &v), 0);
	assert_int_equal(avro_value_get_size(&v, &n), 0);
	assert_int_equal(n, 1);		/* the key column only */
	r = avro_reader_memory((const char *) k + KFK_WIRE_HEADER, (int64_t) (klen - KFK_WIRE_HEADER));
	assert_int_equal(avro_value_read(r, &v), 0);
	avro_reader_free(r);
	assert_int_equal(avro_value_get_by_name(&v, "id", &id, NULL), 0);
	assert_int_equal(avro_value_get_int(&id, &got), 0);
	assert_int_equal(got, -7);
	/* the table's next shape (ADD COLUMN, in front) keeps its key schema */
	{
		trib_column wider[12];
		trib_relation next = REL;

		wider[0] = (trib_column) {"extra", "text", 25, NULL, true, false, false, NULL, NULL, NULL, NULL, 0};
		memcpy(wider + 1, COLS, sizeof(COLS));
		next.columns = wider;
		next.ncolumns = 12;
		ev.rel = &next;
		if (!kfk_wire_key(w, &ev, &rec, &k, &klen, e, sizeof(e)))
			fail_msg("the key of the next shape: %s", e);
		r = avro_reader_memory((const char *) k + KFK_WIRE_HEADER,
							   (int64_t) (klen - KFK_WIRE_HEADER));
		assert_int_equal(avro_value_read(r, &v), 0);
		avro_reader_free(r);
		assert_int_equal(avro_value_get_by_name(&v, "id", &id, NULL), 0);
		assert_int_equal(avro_value_get_int(&id, &got), 0);
		assert_int_equal(got, -7);
	}
	avro_value_decref(&v);
	avro_value_iface_decref(iface);
	avro_schema_decref(as);
	kfk_wire_free(w);
}

static void
test_avro_refuses_a_row_reshaped_after_the_stage(void **state)
{
	kfk_wire   *w = wire_of(TRIB_FORMAT_AVRO);
	trib_column cols[11],
				rcols[11];
	trib_relation same = REL,
				renamed = REL;
	trib_event	ev = row_event(TRIB_OP_CREATE, "{\"id\":1,\"price\":null,\"at\":null,"
							   ROW_NULLS "}", 300);
	trib_record rec = {"p.public.t", "{\"id\":1}", 8, "{}", 2};
	wire_out	o;

	(void) state;
	memcpy(cols, COLS, sizeof(cols));
	memcpy(rcols, COLS, sizeof(rcols));
	rcols[5].name = "full_name";	/* as a rename rule would */
	same.columns = cols;
	renamed.columns = rcols;
	assert_true(value_of(w, &ev, &rec, 0, &o));
	/* another relation of the same shape (a source's new copy) is fine */
	ev.rel = &same;
	assert_true(value_of(w, &ev, &rec, 0, &o));
	/* a column renamed after the stage: not the registered schema */
	ev.rel = &renamed;
	assert_false(value_of(w, &ev, &rec, 0, &o));
	assert_non_null(strstr(o.err, "not those of schema id 300"));
	kfk_wire_free(w);
}

/* A pipeline with a kafka sink of this value_format and schemas section. */
#define PIPELINE(fmt, schemas) \
	"pipeline: shop\nsources:\n  main:\n    type: postgres\n    dsn: host=db dbname=shop\n" \
	"sinks:\n  k:\n    type: kafka\n    bootstrap_servers: embedded\n" \
	"    value_format: " fmt "\n" schemas

/* Load must fail with an error containing `want`. */
static void
config_refused(const char *yaml, const char *want)
{
	trib_config *cfg = NULL;
	char		err[2048];

	assert_false(trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)));
	if (strstr(err, want) == NULL)
		fail_msg("wrong error\n  got:      %s\n  expected: %s", err, want);
}

static void
test_framed_formats_need_the_matching_schema_stage(void **state)
{
	trib_config *cfg = NULL;
	char		err[2048];
	const char *ok = PIPELINE("avro", "schemas:\n  enabled: true\n  format: avro\n");

	(void) state;
	config_refused(PIPELINE("json_sr", ""),
				   "sinks.k.value_format: json_sr frames each value with its schema id, which "
				   "needs the schema stage (accepted: json, or schemas: {enabled: true, "
				   "format: json})");
	config_refused(PIPELINE("avro", "schemas:\n  enabled: true\n"),
				   "sinks.k.value_format: avro needs the schema stage to register Avro schemas "
				   "(accepted: schemas.format: avro, or value_format: json_sr)");
	config_refused(PIPELINE("protobuf", ""), "value_format");
	config_refused(PIPELINE("json\n    key_format: json_sr", "schemas:\n  enabled: true\n"),
				   "sinks.k.key_format: json_sr needs the schema stage to register key schemas "
				   "(accepted: schemas.keys: true, or key_format: json)");
	config_refused(PIPELINE("json\n    key_format: avro", "schemas:\n  enabled: true\n"
							"  keys: true\n"),
				   "sinks.k.key_format: avro needs the schema stage to register Avro schemas "
				   "(accepted: schemas.format: avro, or key_format: json_sr)");
	config_refused(PIPELINE("json\n    key_format: json_sr", ""),
				   "sinks.k.key_format: json_sr frames each key with its schema id, which "
				   "needs the schema stage (accepted: json, or schemas: {enabled: true, "
				   "format: json, keys: true})");
	if (!trib_config_load_buffer("t.yaml", ok, strlen(ok), &cfg, err, sizeof(err)))
		fail_msg("expected the config to load, got: %s", err);
	assert_int_equal(trib_kafka_conf_of(trib_config_find_sink(cfg, "k"))->value_format,
					 TRIB_FORMAT_AVRO);
	trib_config_free(cfg);
}

/* A table whose registered version (id 400) is not the shape its events
 * have now: big is an int that is never null, day a date, while the
 * relation has a nullable bigint and a text column. */
static trib_column SHIFT_COLS[] = {
	{"id", "integer", 23, NULL, false, true, false, NULL, NULL, NULL, NULL, 0},
	{"big", "bigint", 20, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	{"day", "text", 25, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
};

static trib_relation SHIFT_REL = {"public", "t", 3, SHIFT_COLS, 1};

#define SHIFT_DOC(third) \
	"{\"type\":\"record\",\"name\":\"t\",\"namespace\":\"public\",\"fields\":[" \
	"{\"name\":\"id\",\"type\":\"int\"},{\"name\":\"big\",\"type\":\"int\"}," third "]}"

static void
test_avro_writes_with_the_schema_registered_under_the_id(void **state)
{
	kfk_wire   *w = wire_of(TRIB_FORMAT_AVRO);
	trib_event	ev = row_event(TRIB_OP_CREATE, "{\"id\":7,\"big\":5,\"day\":\"1970-01-02\"}",
							   400);
	trib_record rec = {"p.public.t", "{\"id\":7}", 8, "{}", 2};
	wire_out	o;

	(void) state;
	ev.rel = &SHIFT_REL;
	ev.schema_version = 2;
	ev.schema_doc = SHIFT_DOC("{\"name\":\"day\",\"type\":{\"type\":\"int\","
							  "\"logicalType\":\"date\"}}");
	assert_true(value_of(w, &ev, &rec, 0, &o));
	/* id 7, big 5 as a plain int (no union branch), day 1 (days) */
	assert_int_equal(o.len, 8);
	assert_memory_equal(o.v, "\x00\x00\x00\x01\x90\x0e\x0a\x02", 8);
	/* a value the registered int cannot hold: refused, never a long */
	ev.after = "{\"id\":7,\"big\":9007199254740993,\"day\":null}";
	assert_false(value_of(w, &ev, &rec, 0, &o));
	if (strstr(o.err, "table public.t: column big: value 9007199254740993 does not fit "
			   "field big of schema id 400 (version 2), Avro type {\"type\":\"int\"}") == NULL)
		fail_msg("unexpected error: %s", o.err);
	/* null where the registered field has no null branch */
	ev.after = "{\"id\":7,\"big\":null,\"day\":\"1970-01-02\"}";
	assert_false(value_of(w, &ev, &rec, 0, &o));
	assert_non_null(strstr(o.err, "column big: value null does not fit"));
	kfk_wire_free(w);
	/* a registered field the relation has no column for */
	w = wire_of(TRIB_FORMAT_AVRO);
	ev.after = "{\"id\":7,\"big\":5,\"day\":\"x\"}";
	ev.schema_doc = SHIFT_DOC("{\"name\":\"gone\",\"type\":\"string\"}");
	assert_false(value_of(w, &ev, &rec, 0, &o));
	if (strstr(o.err, "not those of schema id 400 (version 2) (field gone is not a column)") ==
		NULL)
		fail_msg("unexpected error: %s", o.err);
	kfk_wire_free(w);
}

/*
 * A relation freed and another built at the same address (or one refilled
 * in place, as a MySQL table map is), under the same schema id: the
 * encoder must match the fields again, not reuse the old relation's
 * column indexes (which would write big's value into field id, or read
 * past the new relation's columns).
 */
static void
test_avro_rematches_a_relation_rebuilt_at_the_same_address(void **state)
{
	static trib_column reordered[] = {
		{"big", "bigint", 20, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
		{"id", "integer", 23, NULL, false, true, false, NULL, NULL, NULL, NULL, 0},
		{"day", "text", 25, NULL, true, false, false, NULL, NULL, NULL, NULL, 0},
	};
	trib_relation rel = SHIFT_REL;	/* one address for both relations */
	kfk_wire   *w = wire_of(TRIB_FORMAT_AVRO);
	trib_event	ev = row_event(TRIB_OP_CREATE, "{\"id\":7,\"big\":5,\"day\":\"1970-01-02\"}",
							   400);
	trib_record rec = {"p.public.t", "{\"id\":7}", 8, "{}", 2};
	wire_out	o;

	(void) state;
	ev.rel = &rel;
	ev.schema_version = 2;
	ev.schema_doc = SHIFT_DOC("{\"name\":\"day\",\"type\":{\"type\":\"int\","
							  "\"logicalType\":\"date\"}}");
	assert_true(value_of(w, &ev, &rec, 0, &o));
	assert_int_equal(o.len, 8);
	assert_memory_equal(o.v, "\x00\x00\x00\x01\x90\x0e\x0a\x02", 8);
	/* the same address, even the same version, now another column order */
	rel.columns = reordered;
	assert_true(value_of(w, &ev, &rec, 0, &o));
	assert_int_equal(o.len, 8);
	/* id 7, big 5: not big's 5 in field id */
	assert_memory_equal(o.v, "\x00\x00\x00\x01\x90\x0e\x0a\x02", 8);
	/* and now fewer columns than fields: refused, not read past the end */
	rel.ncolumns = 2;
	ev.after = "{\"big\":5,\"id\":7}";
	assert_false(value_of(w, &ev, &rec, 0, &o));
	if (strstr(o.err, "(field day is not a column)") == NULL)
		fail_msg("unexpected error: %s", o.err);
	kfk_wire_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_is_zero_and_big_endian_id),
		cmocka_unit_test(test_json_sr_frames_the_json_record),
		cmocka_unit_test(test_avro_row_reads_back_with_the_registered_schema),
		cmocka_unit_test(test_keys_are_framed_with_the_key_schema_id),
		cmocka_unit_test(test_avro_key_reads_back_with_the_key_schema),
		cmocka_unit_test(test_avro_delete_is_one_null_value),
		cmocka_unit_test(test_avro_value_that_does_not_fit_names_the_column),
		cmocka_unit_test(test_avro_refuses_a_row_reshaped_after_the_stage),
		cmocka_unit_test(test_framed_formats_need_the_matching_schema_stage),
		cmocka_unit_test(test_avro_writes_with_the_schema_registered_under_the_id),
		cmocka_unit_test(test_avro_rematches_a_relation_rebuilt_at_the_same_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
