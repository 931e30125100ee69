/*
 * test_pgrecord.c: unit tests of pgrecord.c (record parser and assembler),
 * with records captured from the tributary plugin on PostgreSQL 15
 * (pg_logical_slot_peek_changes), and malformed variants of them.
 * No server is needed.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pgrecord.h"

/* Real records (PostgreSQL 15, tributary 0.2). */
static const char REL_ORDERS[] =
	"{\"kind\":\"relation\",\"xid\":734,\"commit_lsn\":\"0/1556AB8\",\"ts\":\"2026-11-21T23:26:09.413221Z\",\"lsn\":\"0/1556968\",\"relid\":16384,\"schema\":\"public\",\"table\":\"orders\",\"replica_identity\":\"default\",\"columns\":[{\"name\":\"id\",\"type\":\"bigint\",\"type_oid\":20,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},{\"name\":\"amount\",\"type\":\"numeric(12,2)\",\"type_oid\":1700,\"typmod\":786438,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"note\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"doc\",\"type\":\"jsonb\",\"type_oid\":3802,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"big\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}],\"primary_key\":[\"id\"],\"identity_key\":[\"id\"]}";
static const char BEGIN_736[] =
	"{\"kind\":\"begin\",\"xid\":736,\"commit_lsn\":\"0/1556D48\",\"ts\":\"2026-11-21T23:26:09.413656Z\"}";
static const char UPDATE_736[] =
	"{\"kind\":\"update\",\"xid\":736,\"commit_lsn\":\"0/1556D48\",\"ts\":\"2026-11-21T23:26:09.413656Z\",\"lsn\":\"0/1556C40\",\"seq\":0,\"schema\":\"public\",\"table\":\"orders\",\"old\":{\"id\":1},\"new\":{\"id\":2,\"amount\":13.00,\"note\":\"hello \\\"w\\\"\\\\n\",\"doc\":{\"a\": [1, 2.50, 123456789012345678901234567890]}},\"unchanged_toast\":[\"big\"]}";
static const char COMMIT_736[] =
	"{\"kind\":\"commit\",\"xid\":736,\"commit_lsn\":\"0/1556D48\",\"ts\":\"2026-11-21T23:26:09.413656Z\",\"end_lsn\":\"0/1556D78\",\"changes\":1}";
static const char DELETE_737[] =
	"{\"kind\":\"delete\",\"xid\":737,\"commit_lsn\":\"0/1556E68\",\"ts\":\"2026-11-21T23:26:09.413698Z\",\"lsn\":\"0/1556D78\",\"seq\":0,\"schema\":\"public\",\"table\":\"orders\",\"old\":{\"id\":2}}";
static const char REL_COMP[] =
	"{\"kind\":\"relation\",\"xid\":747,\"commit_lsn\":\"0/1557720\",\"ts\":\"2026-11-21T23:26:09.414458Z\",\"lsn\":\"0/1557528\",\"relid\":16414,\"schema\":\"public\",\"table\":\"comp\",\"replica_identity\":\"default\",\"columns\":[{\"name\":\"k1\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},{\"name\":\"k2\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},{\"name\":\"v\",\"type\":\"double precision\",\"type_oid\":701,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}],\"primary_key\":[\"k1\",\"k2\"],\"identity_key\":[\"k1\",\"k2\"]}";
static const char INSERT_COMP[] =
	"{\"kind\":\"insert\",\"xid\":747,\"commit_lsn\":\"0/1557720\",\"ts\":\"2026-11-21T23:26:09.414458Z\",\"lsn\":\"0/1557528\",\"seq\":1,\"schema\":\"public\",\"table\":\"comp\",\"new\":{\"k1\":2, \"k2\" : \"b\",\"v\":\"NaN\"}}";
static const char TRUNCATE_750[] =
	"{\"kind\":\"truncate\",\"xid\":750,\"commit_lsn\":\"0/1558930\",\"ts\":\"2026-11-21T23:26:09.415043Z\",\"lsn\":\"0/1558900\",\"seq\":0,\"relations\":[{\"schema\":\"public\",\"table\":\"full_t\"},{\"schema\":\"public\",\"table\":\"nopk\"}],\"cascade\":true,\"restart_identity\":true}";
static const char MSG_NONTX[] =
	"{\"kind\":\"message\",\"xid\":0,\"commit_lsn\":\"0/1557810\",\"lsn\":\"0/1557810\",\"seq\":0,\"transactional\":false,\"prefix\":\"app.bin\",\"encoding\":\"base64\",\"content\":\"AAEC/w==\"}";
static const char MSG_HEARTBEAT[] =
	"{\"kind\":\"message\",\"xid\":749,\"commit_lsn\":\"0/1557858\",\"ts\":\"2026-11-21T23:26:09.414641Z\",\"lsn\":\"0/1557858\",\"seq\":0,\"transactional\":true,\"prefix\":\"tributary.heartbeat\",\"encoding\":\"utf8\",\"content\":\"p1\"}";

/* JSON null lists (PostgreSQL 15, tributary 0.3): doc is jsonb, tags
 * json[], note json; the table has REPLICA IDENTITY FULL. */
static const char REL_DOCS[] =
	"{\"kind\":\"relation\",\"xid\":726,\"commit_lsn\":\"0/1539BA8\",\"ts\":\"2026-12-03T18:13:38.101792Z\",\"lsn\":\"0/1539A90\",\"relid\":16384,\"schema\":\"public\",\"table\":\"docs\",\"replica_identity\":\"full\",\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":false},{\"name\":\"doc\",\"type\":\"jsonb\",\"type_oid\":3802,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"tags\",\"type\":\"json[]\",\"type_oid\":199,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"note\",\"type\":\"json\",\"type_oid\":114,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}],\"primary_key\":[\"id\"],\"identity_key\":[]}";
static const char INSERT_DOCS[] =
	"{\"kind\":\"insert\",\"xid\":726,\"commit_lsn\":\"0/1539BA8\",\"ts\":\"2026-12-03T18:13:38.101792Z\",\"lsn\":\"0/1539A90\",\"seq\":0,\"schema\":\"public\",\"table\":\"docs\",\"new\":{\"id\":1,\"doc\":null,\"tags\":[null,{\"a\":1},null],\"note\":null},\"json_nulls\":[\"doc\",[\"tags\",2]]}";
static const char UPDATE_DOCS[] =
	"{\"kind\":\"update\",\"xid\":727,\"commit_lsn\":\"0/1539CB8\",\"ts\":\"2026-12-03T18:13:38.102793Z\",\"lsn\":\"0/1539BD8\",\"seq\":0,\"schema\":\"public\",\"table\":\"docs\",\"old\":{\"id\":1,\"doc\":null,\"tags\":[null,{\"a\":1},null],\"note\":null},\"new\":{\"id\":1,\"doc\":{\"a\": 1},\"tags\":[null,{\"a\":1},null],\"note\":null},\"json_nulls\":[[\"tags\",2],\"note\"],\"old_json_nulls\":[\"doc\",[\"tags\",2]]}";
static const char DELETE_DOCS[] =
	"{\"kind\":\"delete\",\"xid\":728,\"commit_lsn\":\"0/1539D78\",\"ts\":\"2026-12-03T18:13:38.102968Z\",\"lsn\":\"0/1539CE8\",\"seq\":0,\"schema\":\"public\",\"table\":\"docs\",\"old\":{\"id\":1,\"doc\":{\"a\": 1},\"tags\":[null,{\"a\":1},null],\"note\":null},\"old_json_nulls\":[[\"tags\",2],\"note\"]}";

/* Domains and enums (PostgreSQL 15, tributary 0.7; test/regress
 * decode_domains_enums): amount is a domain over numeric(10,2), lvl an
 * enum, lvl_dom a domain over it, amounts an array of the domain. */
#define REL_DD_HEAD \
	"{\"kind\":\"relation\",\"xid\":740,\"commit_lsn\":\"0/155A000\",\"ts\":\"2026-12-07T01:14:47.101792Z\",\"lsn\":\"0/1559F00\",\"relid\":16750,\"schema\":\"public\",\"table\":\"dd\",\"replica_identity\":\"default\",\"columns\":[" \
	"{\"name\":\"id\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true}," \
	"{\"name\":\"amount\",\"type\":\"dd_money\",\"type_oid\":16738,\"typmod\":-1,\"base_type\":\"numeric(10,2)\",\"base_type_oid\":1700,\"base_typmod\":655366,\"nullable\":true,\"pk\":false,\"identity\":false}," \
	"{\"name\":\"amounts\",\"type\":\"dd_money[]\",\"type_oid\":16737,\"typmod\":-1,\"base_type\":\"numeric(10,2)[]\",\"base_type_oid\":1231,\"base_typmod\":655366,\"nullable\":true,\"pk\":false,\"identity\":false},"
#define REL_DD_TAIL \
	"],\"primary_key\":[\"id\"],\"identity_key\":[\"id\"]}"
static const char REL_DD[] = REL_DD_HEAD
	"{\"name\":\"lvl\",\"type\":\"dd_level\",\"type_oid\":16732,\"typmod\":-1,\"enum_labels\":[\"low\",\"high\"],\"nullable\":true,\"pk\":false,\"identity\":false},"
	"{\"name\":\"lvl_dom\",\"type\":\"dd_level_dom\",\"type_oid\":16743,\"typmod\":-1,\"base_type\":\"dd_level\",\"base_type_oid\":16732,\"base_typmod\":-1,\"enum_labels\":[\"low\",\"high\"],\"nullable\":true,\"pk\":false,\"identity\":false}"
	REL_DD_TAIL;
/* after ALTER TYPE dd_level ADD VALUE 'medium' BEFORE 'high' */
static const char REL_DD_MEDIUM[] = REL_DD_HEAD
	"{\"name\":\"lvl\",\"type\":\"dd_level\",\"type_oid\":16732,\"typmod\":-1,\"enum_labels\":[\"low\",\"medium\",\"high\"],\"nullable\":true,\"pk\":false,\"identity\":false},"
	"{\"name\":\"lvl_dom\",\"type\":\"dd_level_dom\",\"type_oid\":16743,\"typmod\":-1,\"base_type\":\"dd_level\",\"base_type_oid\":16732,\"base_typmod\":-1,\"enum_labels\":[\"low\",\"medium\",\"high\"],\"nullable\":true,\"pk\":false,\"identity\":false}"
	REL_DD_TAIL;

/* Parse or fail the test. */
static trib_pgrec *
parse_ok(trib_pgrec_parser *p, const char *text)
{
	trib_pgrec *rec = NULL;
	char		err[256] = "";

	if (!trib_pgrec_parser_parse(p, text, strlen(text), &rec, err, sizeof(err)))
		fail_msg("parse failed: %s\nrecord: %.200s", err, text);
	return rec;
}

/* Parse expecting an error containing `want`. */
static void
parse_err(trib_pgrec_parser *p, const char *text, const char *want)
{
	trib_pgrec *rec = (trib_pgrec *) 1;
	char		err[256] = "";

	if (trib_pgrec_parser_parse(p, text, strlen(text), &rec, err, sizeof(err)))
		fail_msg("expected an error containing \"%s\", parse succeeded: %.200s", want, text);
	assert_null(rec);
	if (!strstr(err, want))
		fail_msg("expected an error containing \"%s\", got \"%s\"", want, err);
}

static void
test_update_splices_images_byte_for_byte(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new("src", "db");
	trib_pgrec *rel = parse_ok(p, REL_ORDERS);
	trib_pgrec *rec = parse_ok(p, UPDATE_736);

	(void) state;
	assert_int_equal(rel->kind, TRIB_PGREC_RELATION);
	assert_non_null(rel->rel);
	assert_int_equal(rel->rel->ncols, 5);
	assert_string_equal(rel->rel->cols[1].type, "numeric(12,2)");
	assert_int_equal(rel->rel->cols[1].typmod, 786438);
	assert_int_equal(rel->rel->cols[0].typmod, -1);

	assert_int_equal(rec->kind, TRIB_PGREC_UPDATE);
	assert_int_equal(rec->ev->op, TRIB_OP_UPDATE);
	assert_string_equal(rec->ev->schema, "public");
	assert_string_equal(rec->ev->table, "orders");
	assert_string_equal(rec->ev->before, "{\"id\":1}");
	assert_string_equal(rec->ev->after,
						"{\"id\":2,\"amount\":13.00,\"note\":\"hello \\\"w\\\"\\\\n\",\"doc\":{\"a\": [1, 2.50, 123456789012345678901234567890]}}");
	assert_string_equal(rec->ev->key, "{\"id\":2}");
	assert_string_equal(rec->ev->unchanged, "[\"big\"]");
	assert_string_equal(rec->ev->source, "src");
	assert_string_equal(rec->ev->connector, "postgresql");
	assert_string_equal(rec->ev->db, "db");
	assert_int_equal(rec->ev->txid, 736);
	assert_int_equal(rec->ev->pos.commit_lsn, 0x1556D48);
	assert_int_equal(rec->ev->pos.seq, 0);
	assert_int_equal(rec->lsn, 0x1556C40);
	/* 2026-11-21T23:26:09.413656Z: ms rounded down, and every us */
	assert_int_equal(rec->ev->ts_ms, INT64_C(1795303569413));
	assert_int_equal(rec->ev->ts_us, INT64_C(1795303569413656));
	trib_pgrec_free(rel);
	trib_pgrec_free(rec);
	trib_pgrec_parser_free(p);
}

/*
 * Events borrow their naming strings from the parser (event.h): every
 * event of a table points to the same copies, which outlive the records
 * and a replaced relation entry, and stay intact while the parser's
 * scratch memory is reused by later records.  A record parsed after an
 * error still comes out whole.
 */
static void
test_events_share_the_parsers_names(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new("src", "db");
	trib_pgrec *rel = parse_ok(p, REL_ORDERS);
	trib_pgrec *a = parse_ok(p, UPDATE_736);
	trib_pgrec *b,
			   *c,
			   *d;
	const char *schema = a->ev->schema,
			   *table = a->ev->table;

	(void) state;
	trib_pgrec_free(a);
	b = parse_ok(p, DELETE_737);
	assert_ptr_equal(b->ev->schema, schema);
	assert_ptr_equal(b->ev->table, table);
	/* a new relation record for the table does not move the names */
	trib_pgrec_free(rel);
	rel = parse_ok(p, REL_ORDERS);
	parse_err(p, "{\"kind\":\"insert\",\"xid\":1,\"schema\":\"x\",\"table\":", "bad record");
	c = parse_ok(p, INSERT_COMP);
	d = parse_ok(p, UPDATE_736);
	assert_ptr_equal(d->ev->schema, schema);
	assert_ptr_equal(d->ev->table, table);
	assert_ptr_equal(d->ev->source, b->ev->source);
	assert_ptr_equal(c->ev->schema, schema);	/* both "public" */
	assert_string_equal(c->ev->table, "comp");
	assert_string_equal(b->ev->schema, "public");
	assert_string_equal(b->ev->table, "orders");
	assert_string_equal(b->ev->key, "{\"id\":2}");
	assert_string_equal(d->ev->key, "{\"id\":2}");
	assert_string_equal(c->ev->after, "{\"k1\":2, \"k2\" : \"b\",\"v\":\"NaN\"}");
	/* commit_lsn and ts of consecutive records of different
	 * transactions (the parser remembers the last ones it parsed) */
	assert_int_equal(b->ev->pos.commit_lsn, 0x1556E68);
	assert_int_equal(b->ev->ts_ms, INT64_C(1795303569413));
	assert_int_equal(c->ev->pos.commit_lsn, 0x1557720);
	assert_int_equal(c->ev->ts_ms, INT64_C(1795303569414));
	assert_int_equal(d->ev->pos.commit_lsn, 0x1556D48);
	assert_int_equal(d->ev->ts_ms, INT64_C(1795303569413));
	/* the remembered ts keeps its microseconds too */
	assert_int_equal(d->ev->ts_us, INT64_C(1795303569413656));
	trib_pgrec_free(b);
	trib_pgrec_free(c);
	trib_pgrec_free(d);
	trib_pgrec_free(rel);
	trib_pgrec_parser_free(p);
}

/* A taken event outlives its record (the parser allocates a change record
 * and its event together). */
static void
test_taken_event_outlives_its_record(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new("src", "db");
	trib_pgrec *rel = parse_ok(p, REL_ORDERS);
	trib_pgrec *rec = parse_ok(p, UPDATE_736);
	trib_event *ev = trib_pgrec_take_event(rec);

	(void) state;
	assert_non_null(ev);
	assert_null(rec->ev);
	assert_null(trib_pgrec_take_event(rec));
	trib_pgrec_free(rec);
	assert_int_equal(ev->op, TRIB_OP_UPDATE);
	assert_string_equal(ev->key, "{\"id\":2}");
	assert_string_equal(ev->before, "{\"id\":1}");
	assert_string_equal(ev->table, "orders");
	assert_int_equal(ev->pos.commit_lsn, 0x1556D48);
	trib_event_free(ev);
	trib_pgrec_free(rel);
	trib_pgrec_parser_free(p);
}

static void
test_delete_key_from_old_image(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgrec *rel = parse_ok(p, REL_ORDERS);
	trib_pgrec *rec = parse_ok(p, DELETE_737);

	(void) state;
	assert_int_equal(rec->ev->op, TRIB_OP_DELETE);
	assert_string_equal(rec->ev->before, "{\"id\":2}");
	assert_null(rec->ev->after);
	assert_string_equal(rec->ev->key, "{\"id\":2}");
	trib_pgrec_free(rel);
	trib_pgrec_free(rec);
	trib_pgrec_parser_free(p);
}

static void
test_composite_key_keeps_member_text(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgrec *rel = parse_ok(p, REL_COMP);
	trib_pgrec *rec = parse_ok(p, INSERT_COMP);

	(void) state;
	assert_int_equal(rec->ev->op, TRIB_OP_CREATE);
	/* members copied as written, including the spaces around ':' */
	assert_string_equal(rec->ev->key, "{\"k1\":2,\"k2\" : \"b\"}");
	assert_string_equal(rec->ev->after, "{\"k1\":2, \"k2\" : \"b\",\"v\":\"NaN\"}");
	trib_pgrec_free(rel);
	trib_pgrec_free(rec);
	trib_pgrec_parser_free(p);
}

static void
test_no_relation_record_means_no_key(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgrec *rec = parse_ok(p, DELETE_737);

	(void) state;
	assert_null(rec->ev->key);
	assert_string_equal(rec->ev->before, "{\"id\":2}");
	trib_pgrec_free(rec);
	trib_pgrec_parser_free(p);
}

static void
test_new_relation_record_replaces_metadata(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgrec *r1 = parse_ok(p, REL_ORDERS);
	/* same relid, table renamed, key now (id, note) through an index */
	const char *renamed =
		"{\"kind\":\"relation\",\"xid\":800,\"commit_lsn\":\"0/2000000\",\"lsn\":\"0/1FFFF00\",\"relid\":16384,\"schema\":\"public\",\"table\":\"orders2\",\"replica_identity\":\"index\",\"columns\":[{\"name\":\"id\",\"type\":\"bigint\",\"type_oid\":20,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},{\"name\":\"note\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":false,\"pk\":false,\"identity\":true}],\"primary_key\":[\"id\"],\"identity_key\":[\"id\",\"note\"]}";
	trib_pgrec *r2 = parse_ok(p, renamed);
	const trib_pgrel *rel;

	(void) state;
	assert_null(trib_pgrec_parser_relation(p, "public", "orders"));
	rel = trib_pgrec_parser_relation(p, "public", "orders2");
	assert_non_null(rel);
	assert_int_equal(rel->nkey, 2);
	assert_string_equal(rel->key[1], "note");
	assert_string_equal(rel->replica_identity, "index");
	trib_pgrec_free(r1);
	trib_pgrec_free(r2);
	trib_pgrec_parser_free(p);
}

static void
test_truncate_and_message_extra(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgrec *t = parse_ok(p, TRUNCATE_750);
	trib_pgrec *m = parse_ok(p, MSG_NONTX);

	(void) state;
	assert_int_equal(t->ev->op, TRIB_OP_TRUNCATE);
	assert_string_equal(t->ev->extra,
						"{\"relations\":[{\"schema\":\"public\",\"table\":\"full_t\"},{\"schema\":\"public\",\"table\":\"nopk\"}],\"cascade\":true,\"restart_identity\":true}");
	assert_null(t->ev->schema);
	assert_int_equal(m->ev->op, TRIB_OP_MESSAGE);
	assert_false(m->transactional);
	assert_false(m->has_ts);
	assert_string_equal(m->prefix, "app.bin");
	assert_string_equal(m->ev->extra,
						"{\"transactional\":false,\"prefix\":\"app.bin\",\"encoding\":\"base64\",\"content\":\"AAEC/w==\"}");
	trib_pgrec_free(t);
	trib_pgrec_free(m);
	trib_pgrec_parser_free(p);
}

static void
test_control_records(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgrec *r;

	(void) state;
	r = parse_ok(p, COMMIT_736);
	assert_int_equal(r->kind, TRIB_PGREC_COMMIT);
	assert_int_equal(r->end_lsn, 0x1556D78);
	assert_int_equal(r->changes, 1);
	assert_null(r->ev);
	trib_pgrec_free(r);
	r = parse_ok(p, "{\"kind\":\"stream_abort\",\"xid\":755,\"subxid\":756,\"lsn\":\"0/15BF0D0\",\"next_seq\":2000}");
	assert_int_equal(r->kind, TRIB_PGREC_STREAM_ABORT);
	assert_int_equal(r->subxid, 756);
	assert_true(r->has_next_seq);
	assert_int_equal(r->next_seq, 2000);
	trib_pgrec_free(r);
	r = parse_ok(p, "{\"kind\":\"stream_commit\",\"xid\":725,\"commit_lsn\":\"0/15A8050\",\"ts\":\"2026-11-21T09:15:02.4Z\",\"end_lsn\":\"0/15A8080\",\"changes\":2012,\"discard_through_seq\":7}");
	assert_true(r->has_discard_through);
	assert_int_equal(r->discard_through_seq, 7);
	/* one fractional digit: tenths of a second */
	assert_int_equal(r->ts_ms, INT64_C(1795252502400));
	assert_int_equal(r->ts_us, INT64_C(1795252502400000));
	trib_pgrec_free(r);
	r = parse_ok(p, "{\"kind\":\"commit_prepared\",\"xid\":753,\"commit_lsn\":\"0/15590F0\",\"ts\":\"2026-11-21T23:26:09.415565Z\",\"end_lsn\":\"0/1559128\",\"gid\":\"gid-1\"}");
	assert_int_equal(r->kind, TRIB_PGREC_COMMIT_PREPARED);
	assert_string_equal(r->gid, "gid-1");
	trib_pgrec_free(r);
	r = parse_ok(p, "{\"kind\":\"stream_start\",\"xid\":725,\"first\":true,\"future_field\":[1,{\"x\":null}]}");
	assert_true(r->first);
	trib_pgrec_free(r);
	trib_pgrec_parser_free(p);
}

/* Timestamps in the minute of the last one parsed: the parser reads only
 * their seconds, with the same values and errors as a new parser. */
static void
test_ts_in_the_last_minute(void **state)
{
#define TSREC(ts) "{\"kind\":\"begin\",\"xid\":1,\"commit_lsn\":\"0/1\",\"ts\":\"" ts "\"}"
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgrec *r;

	(void) state;
	r = parse_ok(p, TSREC("2026-12-06T03:23:20.787576Z"));
	assert_int_equal(r->ts_us, INT64_C(1796527400787576));
	trib_pgrec_free(r);
	r = parse_ok(p, TSREC("2026-12-06T03:23:59.5Z"));
	assert_int_equal(r->ts_us, INT64_C(1796527439500000));
	assert_int_equal(r->ts_ms, INT64_C(1796527439500));
	trib_pgrec_free(r);
	parse_err(p, TSREC("2026-12-06T03:23:61Z"), "ISO 8601");
	parse_err(p, TSREC("2026-12-06T03:23:"), "ISO 8601");
	parse_err(p, TSREC("2026-12-06T03:23:00.1234567Z"), "ISO 8601");
	r = parse_ok(p, TSREC("2026-12-06T03:23:60Z"));
	assert_int_equal(r->ts_us, INT64_C(1796527440000000));
	trib_pgrec_free(r);
	r = parse_ok(p, TSREC("2026-12-06T03:24:00Z"));
	assert_int_equal(r->ts_us, INT64_C(1796527440000000));
	trib_pgrec_free(r);
	/* the same bytes, another minute: a sign or a longer year */
	r = parse_ok(p, TSREC("+2026-12-06T03:24:00Z"));
	assert_int_equal(r->ts_us, INT64_C(1796527440000000));
	trib_pgrec_free(r);
	r = parse_ok(p, TSREC("20261-12-06T03:24:00Z"));
	assert_int_equal(r->ts_us, INT64_C(577237548240000000));
	trib_pgrec_free(r);
	trib_pgrec_parser_free(p);
#undef TSREC
}

/*
 * A ts whose microseconds since 1970 do not fit in 64 bits (the year is
 * parsed up to 7 digits) is refused like any other bad timestamp, not
 * computed with a signed overflow (found by fuzz_pgrecord under UBSan);
 * a far year that fits still parses exactly.
 */
static void
test_ts_out_of_range_is_an_error(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgrec *r;

	(void) state;
	parse_err(p, "{\"kind\":\"begin\",\"xid\":1,\"commit_lsn\":\"0/1\",\"ts\":\"9999999-01-01T00:00:00Z\"}", "ISO 8601");
	parse_err(p, "{\"kind\":\"begin\",\"xid\":1,\"commit_lsn\":\"0/1\",\"ts\":\"-9999999-01-01T00:00:00Z\"}", "ISO 8601");
	parse_err(p, "{\"kind\":\"begin\",\"xid\":1,\"commit_lsn\":\"0/1\",\"ts\":\"2022026-11-21T23:26:09.415458Z\"}", "ISO 8601");
	r = parse_ok(p, "{\"kind\":\"begin\",\"xid\":1,\"commit_lsn\":\"0/1\",\"ts\":\"200000-01-01T00:00:00Z\"}");
	assert_int_equal(r->ts_us, INT64_C(6249223180800000000));
	assert_int_equal(r->ts_ms, INT64_C(6249223180800000));
	trib_pgrec_free(r);
	trib_pgrec_parser_free(p);
}

static void
test_malformed_records_are_errors(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgrec *rel = parse_ok(p, REL_ORDERS);

	(void) state;
	parse_err(p, "", "invalid JSON");
	parse_err(p, "{", "invalid JSON");
	parse_err(p, "[1]", "not a JSON object");
	parse_err(p, "{\"kind\":\"begin\"} x", "invalid JSON");
	parse_err(p, "{\"xid\":1}", "no \"kind\"");
	parse_err(p, "{\"kind\":\"bogus\",\"xid\":1}", "unknown kind");
	parse_err(p, "{\"kind\":\"begin\",\"xid\":1}", "lacks field \"commit_lsn\"");
	parse_err(p, "{\"kind\":\"begin\",\"xid\":\"1\",\"commit_lsn\":\"0/1\"}", "must be a number");
	parse_err(p, "{\"kind\":\"begin\",\"xid\":-1,\"commit_lsn\":\"0/1\"}", "not an integer");
	parse_err(p, "{\"kind\":\"begin\",\"xid\":4294967296,\"commit_lsn\":\"0/1\"}", "not an integer");
	parse_err(p, "{\"kind\":\"begin\",\"xid\":1.5,\"commit_lsn\":\"0/1\"}", "not an integer");
	parse_err(p, "{\"kind\":\"begin\",\"xid\":1,\"commit_lsn\":\"01\"}", "not an LSN");
	parse_err(p, "{\"kind\":\"begin\",\"xid\":1,\"commit_lsn\":\"0/123456789\"}", "not an LSN");
	parse_err(p, "{\"kind\":\"begin\",\"xid\":1,\"commit_lsn\":\"0/1\",\"ts\":\"yesterday\"}", "ISO 8601");
	parse_err(p, "{\"kind\":\"begin\",\"kind\":\"begin\",\"xid\":1,\"commit_lsn\":\"0/1\"}", "duplicate field");
	parse_err(p, "{\"kind\":\"insert\",\"xid\":1,\"commit_lsn\":\"0/1\",\"lsn\":\"0/1\",\"seq\":0,\"schema\":\"public\",\"table\":\"orders\",\"new\":[1]}", "must be an object");
	parse_err(p, "{\"kind\":\"delete\",\"xid\":1,\"commit_lsn\":\"0/1\",\"lsn\":\"0/1\",\"seq\":0,\"schema\":\"public\",\"table\":\"orders\"}", "lacks field \"old\"");
	parse_err(p, "{\"kind\":\"insert\",\"xid\":1,\"commit_lsn\":\"0/1\",\"lsn\":\"0/1\",\"seq\":0,\"schema\":\"pub\\u0000lic\",\"table\":\"t\",\"new\":{}}", "NUL");
	parse_err(p, "{\"kind\":\"insert\",\"xid\":1,\"commit_lsn\":\"0/1\",\"lsn\":\"0/1\",\"seq\":0,\"schema\":\"p\",\"table\":\"t\",\"new\":{},\"unchanged_toast\":[1]}", "only strings");
	parse_err(p, "{\"kind\":\"message\",\"xid\":1,\"commit_lsn\":\"0/1\",\"lsn\":\"0/1\",\"seq\":0,\"transactional\":true,\"prefix\":\"p\",\"encoding\":\"rot13\",\"content\":\"x\"}", "utf8 or base64");
	parse_err(p, "{\"kind\":\"relation\",\"xid\":1,\"lsn\":\"0/1\",\"relid\":1,\"schema\":\"s\",\"table\":\"t\",\"replica_identity\":\"default\",\"columns\":[{\"name\":\"a\"}],\"primary_key\":[],\"identity_key\":[]}", "lacks a member");
	parse_err(p, "{\"kind\":\"relation\",\"xid\":1,\"lsn\":\"0/1\",\"relid\":1,\"schema\":\"s\",\"table\":\"t\",\"replica_identity\":\"default\",\"columns\":[],\"primary_key\":[\"id\"],\"identity_key\":[]}", "not among the columns");
	parse_err(p, "{\"kind\":\"relation\",\"xid\":1,\"lsn\":\"0/1\",\"relid\":1,\"schema\":\"s\",\"table\":\"t\",\"replica_identity\":\"sometimes\",\"columns\":[],\"primary_key\":[],\"identity_key\":[]}", "replica_identity");
	parse_err(p, "{\"kind\":\"relation\",\"xid\":1,\"lsn\":\"0/1\",\"relid\":1,\"schema\":\"s\",\"table\":\"t\",\"replica_identity\":\"full\",\"columns\":[{\"name\":[\"a\"]}],\"primary_key\":[],\"identity_key\":[]}", "nesting");
	parse_err(p, "{\"kind\":\"truncate\",\"xid\":1,\"commit_lsn\":\"0/1\",\"lsn\":\"0/1\",\"seq\":0,\"relations\":[{\"schema\":\"s\"}],\"cascade\":true,\"restart_identity\":false}", "lacks schema or table");
	parse_err(p, "{\"kind\":\"update\",\"xid\":1,\"commit_lsn\":\"0/1\",\"lsn\":\"0/1\",\"seq\":0,\"schema\":\"public\",\"table\":\"orders\",\"old\":null,\"new\":{\"id\":\"\xff\"}}", "invalid JSON");
	/* a broken record leaves metadata intact */
	assert_non_null(trib_pgrec_parser_relation(p, "public", "orders"));
	trib_pgrec_free(rel);
	trib_pgrec_parser_free(p);
}

/* json_nulls and old_json_nulls become the event's after_json_nulls and
 * before_json_nulls, byte for byte; absent or empty lists stay NULL. */
static void
test_json_null_lists_reach_the_event(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgrec *rel = parse_ok(p, REL_DOCS);
	trib_pgrec *rec;

	(void) state;
	rec = parse_ok(p, INSERT_DOCS);
	assert_string_equal(rec->ev->after, "{\"id\":1,\"doc\":null,\"tags\":[null,{\"a\":1},null],\"note\":null}");
	assert_string_equal(rec->ev->after_json_nulls, "[\"doc\",[\"tags\",2]]");
	assert_null(rec->ev->before_json_nulls);
	trib_pgrec_free(rec);
	rec = parse_ok(p, UPDATE_DOCS);
	assert_string_equal(rec->ev->after_json_nulls, "[[\"tags\",2],\"note\"]");
	assert_string_equal(rec->ev->before_json_nulls, "[\"doc\",[\"tags\",2]]");
	trib_pgrec_free(rec);
	rec = parse_ok(p, DELETE_DOCS);
	assert_null(rec->ev->after_json_nulls);
	assert_string_equal(rec->ev->before_json_nulls, "[[\"tags\",2],\"note\"]");
	trib_pgrec_free(rec);
	/* an empty list is no list; a list the kind has no image for is ignored */
	rec = parse_ok(p, "{\"kind\":\"insert\",\"xid\":1,\"commit_lsn\":\"0/1\",\"lsn\":\"0/1\",\"seq\":0,\"schema\":\"public\",\"table\":\"docs\",\"new\":{\"id\":2},\"json_nulls\":[],\"old_json_nulls\":[\"doc\"]}");
	assert_null(rec->ev->after_json_nulls);
	assert_null(rec->ev->before_json_nulls);
	trib_pgrec_free(rec);
	trib_pgrec_free(rel);
	trib_pgrec_parser_free(p);
}

/* Malformed JSON null lists are refused with a reason. */
static void
test_malformed_json_null_lists_are_errors(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	static const char head[] = "{\"kind\":\"update\",\"xid\":1,\"commit_lsn\":\"0/1\",\"lsn\":\"0/1\",\"seq\":0,\"schema\":\"p\",\"table\":\"t\",\"old\":null,\"new\":{\"a\":null},";
	static const struct
	{
		const char *tail;
		const char *want;
	}			bad[] = {
		{"\"json_nulls\":{\"a\":1}}", "must be an array"},
		{"\"json_nulls\":[1]}", "column names or [name, positions...]"},
		{"\"json_nulls\":[{\"a\":1}]}", "column names or [name, positions...]"},
		{"\"json_nulls\":[\"a\\u0000b\"]}", "NUL"},
		{"\"old_json_nulls\":[[\"a\"]]}", "needs a column name and positions"},
		{"\"json_nulls\":[[]]}", "needs a column name and positions"},
		{"\"json_nulls\":[[1,2]]}", "must start with a column name"},
		{"\"json_nulls\":[[\"a\",-1]]}", "integers from 0"},
		{"\"json_nulls\":[[\"a\",1.5]]}", "integers from 0"},
		{"\"json_nulls\":[[\"a\",\"1\"]]}", "integers from 0"},
		{"\"json_nulls\":[[\"a\",[1]]]}", "integers from 0"},
		{"\"json_nulls\":[[\"a\",2147483648]]}", "integers from 0"},
	};
	char		rec[512];

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		snprintf(rec, sizeof(rec), "%s%s", head, bad[i].tail);
		parse_err(p, rec, bad[i].want);
	}
	trib_pgrec_parser_free(p);
}

static void
test_eventid_format_and_parse(void **state)
{
	char		buf[TRIB_EVENTID_LEN];
	uint64_t	lsn,
				seq;

	(void) state;
	trib_eventid_format(0x16B3748, 4, buf, sizeof(buf));
	assert_string_equal(buf, "0/16B3748:4");
	trib_eventid_format(UINT64_C(0xA00000001), TRIB_SEQ_ALL, buf, sizeof(buf));
	assert_string_equal(buf, "A/1");
	assert_true(trib_eventid_parse("0/16B3748:4", &lsn, &seq));
	assert_int_equal(lsn, 0x16B3748);
	assert_int_equal(seq, 4);
	assert_true(trib_eventid_parse("A/1", &lsn, &seq));
	assert_int_equal(seq, TRIB_SEQ_ALL);
	assert_false(trib_eventid_parse("0/1:", &lsn, &seq));
	assert_false(trib_eventid_parse("0/1:-1", &lsn, &seq));
	assert_false(trib_eventid_parse("x/1", &lsn, &seq));
	assert_false(trib_eventid_parse("0/1:99999999999999999999", &lsn, &seq));
}

/* Feed records to an assembler; collect what it delivers as a string. */
static void
feed(trib_pgrec_parser *p, trib_pgasm *a, const char *const *recs, char *out, size_t len)
{
	char		err[256];
	trib_pgrec *r;

	out[0] = '\0';
	for (; *recs; recs++)
	{
		r = parse_ok(p, *recs);
		if (!trib_pgasm_push(a, r, err, sizeof(err)))
			fail_msg("push: %s", err);
		while ((r = trib_pgasm_pop(a)))
		{
			char		item[128];

			if (r->ev)
				snprintf(item, sizeof(item), "%c%" PRIu64 "%s ", r->ev->op, r->ev->pos.seq,
						 r->ev->last_in_tx ? "L" : "");
			else
				snprintf(item, sizeof(item), "%s ", trib_pgrec_kind_name(r->kind));
			strncat(out, item, len - strlen(out) - 1);
			trib_pgrec_free(r);
		}
	}
}

static void
test_assembler_marks_last_event_and_drops_heartbeats(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgasm *a = trib_pgasm_new();
	char		got[512];
	const char *const recs[] = {
		BEGIN_736, REL_ORDERS, UPDATE_736, COMMIT_736,
		"{\"kind\":\"begin\",\"xid\":749,\"commit_lsn\":\"0/1557858\"}",
		MSG_HEARTBEAT,
		"{\"kind\":\"commit\",\"xid\":749,\"commit_lsn\":\"0/1557858\",\"end_lsn\":\"0/1557888\",\"changes\":1}",
		MSG_NONTX, NULL
	};

	(void) state;
	feed(p, a, recs, got, sizeof(got));
	assert_string_equal(got, "begin relation u0L commit begin commit m0L ");
	trib_pgasm_free(a);
	trib_pgrec_parser_free(p);
}

static void
test_assembler_streamed_transaction(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgasm *a = trib_pgasm_new();
	char		got[512];
	const char *const recs[] = {
		"{\"kind\":\"stream_start\",\"xid\":725,\"first\":true}",
		"{\"kind\":\"insert\",\"xid\":725,\"lsn\":\"0/10\",\"seq\":0,\"schema\":\"s\",\"table\":\"t\",\"new\":{\"a\":0}}",
		"{\"kind\":\"insert\",\"xid\":725,\"subxid\":726,\"lsn\":\"0/11\",\"seq\":1,\"schema\":\"s\",\"table\":\"t\",\"new\":{\"a\":1}}",
		"{\"kind\":\"stream_stop\",\"xid\":725}",
		MSG_NONTX,
		"{\"kind\":\"stream_abort\",\"xid\":725,\"subxid\":726,\"lsn\":\"0/12\",\"next_seq\":1}",
		"{\"kind\":\"stream_start\",\"xid\":725,\"first\":false}",
		"{\"kind\":\"insert\",\"xid\":725,\"lsn\":\"0/13\",\"seq\":1,\"schema\":\"s\",\"table\":\"t\",\"new\":{\"a\":2}}",
		"{\"kind\":\"insert\",\"xid\":725,\"lsn\":\"0/14\",\"seq\":2,\"schema\":\"s\",\"table\":\"t\",\"new\":{\"a\":3}}",
		"{\"kind\":\"stream_stop\",\"xid\":725}",
		"{\"kind\":\"stream_commit\",\"xid\":725,\"commit_lsn\":\"0/20\",\"ts\":\"2026-11-21T09:15:02Z\",\"end_lsn\":\"0/30\",\"changes\":3,\"discard_through_seq\":0}",
		NULL
	};

	(void) state;
	feed(p, a, recs, got, sizeof(got));
	assert_string_equal(got, "m0L c1 c2L stream_commit ");
	assert_int_equal(trib_pgasm_buffered(a), 0);
	trib_pgasm_free(a);
	trib_pgrec_parser_free(p);
}

static void
test_assembler_rejects_stray_streamed_change(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgasm *a = trib_pgasm_new();
	trib_pgrec *r = parse_ok(p, "{\"kind\":\"insert\",\"xid\":9,\"lsn\":\"0/10\",\"seq\":0,\"schema\":\"s\",\"table\":\"t\",\"new\":{}}");
	char		err[256] = "";

	(void) state;
	assert_false(trib_pgasm_push(a, r, err, sizeof(err)));
	assert_non_null(strstr(err, "outside"));
	trib_pgasm_free(a);
	trib_pgrec_parser_free(p);
}

static void
test_assembler_reset_drops_held_event(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new(NULL, NULL);
	trib_pgasm *a = trib_pgasm_new();
	char		got[256];
	const char *const first[] = {BEGIN_736, UPDATE_736, NULL};
	const char *const again[] = {BEGIN_736, UPDATE_736, COMMIT_736, NULL};

	(void) state;
	feed(p, a, first, got, sizeof(got));
	assert_string_equal(got, "begin ");
	trib_pgasm_reset(a);		/* connection lost: the server resends */
	feed(p, a, again, got, sizeof(got));
	assert_string_equal(got, "begin u0L commit ");
	trib_pgasm_free(a);
	trib_pgrec_parser_free(p);
}

static void
test_next_line_splits_batched_messages(void **state)
{
	const char	msg[] = "{\"a\":1}\n{\"b\":2}\n\n{\"c\":3}";
	size_t		off = 0,
				next,
				n;
	int			count = 0;

	(void) state;
	while (off < sizeof(msg) - 1)
	{
		n = trib_pgrec_next_line(msg + off, sizeof(msg) - 1 - off, &next);
		if (n > 0)
			count++;
		off += next;
	}
	assert_int_equal(count, 3);
}

/*
 * A released change's block is the next change's, and the record parsed
 * into it is the same, field for field (trib_pgrec_digest), as one parsed
 * into fresh memory, whatever the block held before (a message's prefix,
 * an update's two images, a JSON null list).  Non-change records and
 * records whose event was taken are freed, not kept; releasing far more
 * than the parser keeps leaks nothing (check-asan's leak checker).
 */
static void
test_released_block_serves_next_change_unchanged(void **state)
{
	static const char *const seqs[] = {UPDATE_736, MSG_NONTX, INSERT_DOCS, DELETE_737, UPDATE_DOCS, INSERT_COMP};
	trib_pgrec_parser *p = trib_pgrec_parser_new("src", "db");
	trib_pgrec_parser *fresh = trib_pgrec_parser_new("src", "db");
	trib_pgrec *many[600];

	(void) state;
	trib_pgrec_free(parse_ok(p, REL_ORDERS));
	trib_pgrec_free(parse_ok(p, REL_COMP));
	trib_pgrec_free(parse_ok(p, REL_DOCS));
	trib_pgrec_free(parse_ok(fresh, REL_ORDERS));
	trib_pgrec_free(parse_ok(fresh, REL_COMP));
	trib_pgrec_free(parse_ok(fresh, REL_DOCS));
	for (size_t i = 0; i + 1 < sizeof(seqs) / sizeof(seqs[0]); i++)
	{
		trib_pgrec *old = parse_ok(p, seqs[i]);
		trib_pgrec *reused;
		trib_pgrec *want = parse_ok(fresh, seqs[i + 1]);
		char	   *dr;
		char	   *dw;

		trib_pgrec_release(p, old);
		reused = parse_ok(p, seqs[i + 1]);
		assert_ptr_equal(reused, old);
		dr = trib_pgrec_digest(reused);
		dw = trib_pgrec_digest(want);
		assert_string_equal(dr, dw);
		free(dr);
		free(dw);
		trib_pgrec_release(p, reused);
		trib_pgrec_free(want);
	}
	/* a begin has no block to keep; a taken event leaves none either */
	trib_pgrec_release(p, parse_ok(p, BEGIN_736));
	{
		trib_pgrec *r = parse_ok(p, DELETE_737);

		trib_event_free(trib_pgrec_take_event(r));
		trib_pgrec_release(p, r);
	}
	trib_pgrec_release(p, NULL);
	trib_pgrec_release(NULL, parse_ok(p, DELETE_737));
	for (int i = 0; i < 600; i++)
		many[i] = parse_ok(p, UPDATE_736);
	for (int i = 0; i < 600; i++)
		trib_pgrec_release(p, many[i]);
	trib_pgrec_parser_free(p);
	trib_pgrec_parser_free(fresh);
}

/*
 * A partitioned table published via its root, partitions with different
 * replica identities (pi_a DEFAULT, pi_b FULL; records from the plugin on
 * PostgreSQL 15, publish-via-root on): the root's relation record comes
 * again before each change from the other partition.  Each description
 * keeps one view, however often the record alternates, so what keys on
 * the view (schema stage, Debezium encoder, Postgres sink) sees two known
 * relations, not a new one per record; the event key still follows the
 * record (identity key, else primary key).  A different description (a
 * column more) gets a view of its own.
 */
static const char REL_PI_DEFAULT[] =
	"{\"kind\":\"relation\",\"xid\":729,\"commit_lsn\":\"0/16B7478\",\"ts\":\"2026-12-06T22:48:36.871169Z\",\"lsn\":\"0/16B7390\",\"relid\":16743,\"schema\":\"public\",\"table\":\"pi\",\"replica_identity\":\"default\",\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},{\"name\":\"k\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"v\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}],\"primary_key\":[\"id\"],\"identity_key\":[\"id\"]}";
static const char INSERT_PI_A[] =
	"{\"kind\":\"insert\",\"xid\":729,\"commit_lsn\":\"0/16B7478\",\"ts\":\"2026-12-06T22:48:36.871169Z\",\"lsn\":\"0/16B7390\",\"seq\":0,\"schema\":\"public\",\"table\":\"pi\",\"new\":{\"id\":1,\"k\":\"a\",\"v\":1}}";
static const char REL_PI_FULL[] =
	"{\"kind\":\"relation\",\"xid\":730,\"commit_lsn\":\"0/16B7590\",\"ts\":\"2026-12-06T22:48:36.943795Z\",\"lsn\":\"0/16B74A8\",\"relid\":16743,\"schema\":\"public\",\"table\":\"pi\",\"replica_identity\":\"full\",\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":false},{\"name\":\"k\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"v\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}],\"primary_key\":[\"id\"],\"identity_key\":[]}";
static const char INSERT_PI_B[] =
	"{\"kind\":\"insert\",\"xid\":730,\"commit_lsn\":\"0/16B7590\",\"ts\":\"2026-12-06T22:48:36.943795Z\",\"lsn\":\"0/16B74A8\",\"seq\":0,\"schema\":\"public\",\"table\":\"pi\",\"new\":{\"id\":11,\"k\":\"b\",\"v\":11}}";

static void
test_alternating_partition_identities_keep_their_views(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new("src", "db");
	const trib_relation *va = NULL,
			   *vb = NULL;
	const trib_pgrel *rel;
	trib_pgrec *r;
	const char *wider =
		"{\"kind\":\"relation\",\"xid\":731,\"lsn\":\"0/16B7600\",\"relid\":16743,\"schema\":\"public\",\"table\":\"pi\",\"replica_identity\":\"default\",\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},{\"name\":\"k\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"v\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"w\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}],\"primary_key\":[\"id\"],\"identity_key\":[\"id\"]}";

	(void) state;
	for (int i = 0; i < 5; i++)
	{
		trib_pgrec_free(parse_ok(p, REL_PI_DEFAULT));
		rel = trib_pgrec_parser_relation(p, "public", "pi");
		assert_string_equal(rel->replica_identity, "default");
		assert_int_equal(rel->nkey, 1);
		assert_string_equal(rel->key[0], "id");
		r = parse_ok(p, INSERT_PI_A);
		assert_string_equal(r->ev->key, "{\"id\":1}");
		if (va == NULL)
			va = r->ev->rel;
		assert_ptr_equal(r->ev->rel, va);
		trib_pgrec_free(r);

		trib_pgrec_free(parse_ok(p, REL_PI_FULL));
		rel = trib_pgrec_parser_relation(p, "public", "pi");
		assert_string_equal(rel->replica_identity, "full");
		assert_int_equal(rel->nkey, 1);
		assert_string_equal(rel->key[0], "id");
		r = parse_ok(p, INSERT_PI_B);
		assert_string_equal(r->ev->key, "{\"id\":11}");
		if (vb == NULL)
			vb = r->ev->rel;
		assert_ptr_equal(r->ev->rel, vb);
		trib_pgrec_free(r);
	}
	assert_ptr_not_equal(va, vb);
	assert_true(va->columns[0].identity);
	assert_false(vb->columns[0].identity);
	assert_true(va->columns[0].pk && vb->columns[0].pk);
	assert_int_not_equal(va->version, vb->version);

	trib_pgrec_free(parse_ok(p, wider));
	r = parse_ok(p, INSERT_PI_A);
	assert_ptr_not_equal(r->ev->rel, va);
	assert_ptr_not_equal(r->ev->rel, vb);
	assert_int_equal(r->ev->rel->ncolumns, 4);
	trib_pgrec_free(r);
	trib_pgrec_parser_free(p);
}

/*
 * A relation record's optional column members: a domain's base type
 * (base_type, base_type_oid, base_typmod) and an enum's labels
 * (enum_labels) reach the cache entry and the view events point to;
 * other columns have none.  New labels make a new view (its version
 * differs); the same record again maps to the view made for it.
 * Malformed members are errors naming them.
 */
static void
test_relation_domains_and_enum_labels(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new("src", "db");
	trib_pgrec *r = parse_ok(p, REL_DD);
	const trib_pgrel *rel = r->rel;
	const trib_relation *v1 = rel->view;
	const trib_relation *v2;

	(void) state;
	assert_int_equal(rel->ncols, 5);
	assert_null(rel->cols[0].base_type);
	assert_int_equal(rel->cols[0].base_type_oid, 0);
	assert_int_equal(rel->cols[0].base_typmod, -1);
	assert_null(rel->cols[0].enum_labels);
	assert_string_equal(rel->cols[1].type, "dd_money");
	assert_string_equal(rel->cols[1].base_type, "numeric(10,2)");
	assert_int_equal(rel->cols[1].base_type_oid, 1700);
	assert_int_equal(rel->cols[1].base_typmod, 655366);
	assert_string_equal(rel->cols[2].base_type, "numeric(10,2)[]");
	assert_int_equal(rel->cols[2].base_type_oid, 1231);
	assert_null(rel->cols[3].base_type);
	assert_int_equal(rel->cols[3].nenum_labels, 2);
	assert_string_equal(rel->cols[3].enum_labels[0], "low");
	assert_string_equal(rel->cols[3].enum_labels[1], "high");
	assert_string_equal(rel->cols[4].base_type, "dd_level");
	assert_int_equal(rel->cols[4].base_typmod, -1);
	assert_int_equal(rel->cols[4].nenum_labels, 2);
	/* the view */
	assert_null(v1->columns[0].base_type);
	assert_int_equal(v1->columns[0].nenum_labels, 0);
	assert_string_equal(v1->columns[1].base_type, "numeric(10,2)");
	assert_string_equal(v1->columns[2].base_type, "numeric(10,2)[]");
	assert_int_equal(v1->columns[3].nenum_labels, 2);
	assert_string_equal(v1->columns[3].enum_labels[1], "high");
	assert_string_equal(v1->columns[4].base_type, "dd_level");
	assert_int_equal(v1->columns[4].nenum_labels, 2);
	trib_pgrec_free(r);

	r = parse_ok(p, REL_DD_MEDIUM);
	v2 = r->rel->view;
	assert_ptr_not_equal(v2, v1);
	assert_int_not_equal(v2->version, v1->version);
	assert_int_equal(v2->columns[3].nenum_labels, 3);
	assert_string_equal(v2->columns[3].enum_labels[1], "medium");
	trib_pgrec_free(r);
	r = parse_ok(p, REL_DD);
	assert_ptr_equal(r->rel->view, v1);
	trib_pgrec_free(r);

	parse_err(p, REL_DD_HEAD "{\"name\":\"x\",\"type\":\"d\",\"type_oid\":1,\"typmod\":-1,"
			  "\"base_type\":\"integer\",\"nullable\":true,\"pk\":false,\"identity\":false}"
			  REL_DD_TAIL, "base_type, base_type_oid and base_typmod come together");
	parse_err(p, REL_DD_HEAD "{\"name\":\"x\",\"type\":\"d\",\"type_oid\":1,\"typmod\":-1,"
			  "\"base_type\":\"integer\",\"base_type_oid\":-3,\"base_typmod\":-1,"
			  "\"nullable\":true,\"pk\":false,\"identity\":false}"
			  REL_DD_TAIL, "column base_type_oid must be an oid");
	parse_err(p, REL_DD_HEAD "{\"name\":\"x\",\"type\":\"d\",\"type_oid\":1,\"typmod\":-1,"
			  "\"base_type\":\"\",\"base_type_oid\":23,\"base_typmod\":-1,"
			  "\"nullable\":true,\"pk\":false,\"identity\":false}"
			  REL_DD_TAIL, "column base_type must be a non-empty string");
	parse_err(p, REL_DD_HEAD "{\"name\":\"x\",\"type\":\"d\",\"type_oid\":1,\"typmod\":-1,"
			  "\"enum_labels\":[\"a\",1],\"nullable\":true,\"pk\":false,\"identity\":false}"
			  REL_DD_TAIL, "column enum_labels must hold strings");
	parse_err(p, REL_DD_HEAD "{\"name\":\"x\",\"type\":\"d\",\"type_oid\":1,\"typmod\":-1,"
			  "\"enum_labels\":[[\"a\"]],\"nullable\":true,\"pk\":false,\"identity\":false}"
			  REL_DD_TAIL, "column enum_labels must hold strings");
	parse_err(p, REL_DD_HEAD "{\"name\":\"x\",\"type\":\"d\",\"type_oid\":1,\"typmod\":-1,"
			  "\"enum_labels\":\"a,b\",\"nullable\":true,\"pk\":false,\"identity\":false}"
			  REL_DD_TAIL, "column enum_labels must be an array of strings");
	parse_err(p, REL_DD_HEAD "{\"name\":\"x\",\"type\":\"d\",\"type_oid\":1,\"typmod\":-1,"
			  "\"enum_labels\":[],\"enum_labels\":[],\"nullable\":true,\"pk\":false,\"identity\":false}"
			  REL_DD_TAIL, "duplicate column member \"enum_labels\"");
	/* still whole after the errors */
	r = parse_ok(p, REL_DD_MEDIUM);
	assert_ptr_equal(r->rel->view, v2);
	trib_pgrec_free(r);

	/* a deep copy (a transform's), and a retyped column drops them */
	{
		trib_relation *cp = trib_relation_copy(v2);

		assert_string_equal(cp->columns[1].base_type, "numeric(10,2)");
		assert_ptr_not_equal(cp->columns[1].base_type, v2->columns[1].base_type);
		assert_int_equal(cp->columns[4].nenum_labels, 3);
		assert_ptr_not_equal(cp->columns[4].enum_labels, v2->columns[4].enum_labels);
		assert_string_equal(cp->columns[4].enum_labels[2], "high");
		trib_relation_column_untype(&cp->columns[4]);
		assert_null(cp->columns[4].base_type);
		assert_null(cp->columns[4].enum_labels);
		assert_int_equal(cp->columns[4].nenum_labels, 0);
		assert_string_equal(cp->columns[4].type, "dd_level_dom");
		trib_relation_free(cp);
	}
	trib_pgrec_parser_free(p);
}

/*
 * Forward compatibility (docs/PLUGIN.md, Records): a member the parser
 * does not know is skipped whatever its value (a scalar, an object, an
 * array, arrays of objects nested deeper), at the top level of every
 * record kind, inside a relation record's column objects and inside a
 * truncate's relations elements.  Each record parses to the same record
 * as without them (trib_pgrec_digest; for relation records also the
 * cache entry, column by column), on the fast path's parser and on the
 * yajl-only one.  Known members keep their checks.
 */
#define UNK_MEMBERS \
	"\"x_scalar\":\"s\",\"x_obj\":{\"name\":{\"kind\":[1,{\"schema\":null}]},\"b\":true}," \
	"\"x_arr\":[1,\"two\",[3,[4,[]]],{\"table\":\"t\"}]," \
	"\"x_aoo\":[[{\"k\":[{\"kind\":\"begin\"},{}]}],{\"enum_labels\":[[]]}],\"x_empty\":{}"

static const char STREAM_STOP[] = "{\"kind\":\"stream_stop\",\"xid\":725}";
static const char STREAM_PREPARE[] =
	"{\"kind\":\"stream_prepare\",\"xid\":725,\"commit_lsn\":\"0/15A8050\",\"ts\":\"2026-11-21T09:15:02.4Z\",\"end_lsn\":\"0/15A8080\",\"changes\":3,\"gid\":\"g-1\"}";
static const char BEGIN_PREPARE[] =
	"{\"kind\":\"begin_prepare\",\"xid\":750,\"commit_lsn\":\"0/1B00010\",\"ts\":\"2026-11-21T23:26:09.415565Z\",\"gid\":\"order-42\"}";
static const char PREPARE[] =
	"{\"kind\":\"prepare\",\"xid\":750,\"commit_lsn\":\"0/1B00010\",\"ts\":\"2026-11-21T23:26:09.415565Z\",\"end_lsn\":\"0/1B00040\",\"changes\":1,\"gid\":\"order-42\"}";
static const char ROLLBACK_PREPARED[] =
	"{\"kind\":\"rollback_prepared\",\"xid\":750,\"commit_lsn\":\"0/1B00090\",\"ts\":\"2026-11-21T23:26:09.415565Z\",\"end_lsn\":\"0/1B000C0\",\"gid\":\"order-42\"}";

/* s with every `from` replaced by `to` (a malloc'ed copy). */
static char *
replace_all(const char *s, const char *from, const char *to)
{
	size_t		nf = strlen(from),
				nt = strlen(to);
	char	   *out = malloc(strlen(s) * (nt + 1) + 1);
	char	   *o = out;
	const char *q;

	assert_non_null(out);
	while ((q = strstr(s, from)) != NULL)
	{
		memcpy(o, s, (size_t) (q - s));
		o += q - s;
		memcpy(o, to, nt);
		o += nt;
		s = q + nf;
	}
	strcpy(o, s);
	return out;
}

/* rec with the unknown members first and last in its top-level object,
 * and first in each object that begins with `elem` (NULL: none). */
static char *
with_unknown_members(const char *rec, const char *elem)
{
	size_t		n = strlen(rec);
	char	   *body = malloc(n + 1);
	char	   *out;
	size_t		len;

	assert_non_null(body);
	memcpy(body, rec + 1, n - 2);	/* without its braces */
	body[n - 2] = '\0';
	if (elem)
	{
		char		from[64];
		char		to[512];
		char	   *t;

		snprintf(from, sizeof(from), "{%s", elem);
		snprintf(to, sizeof(to), "{" UNK_MEMBERS ",%s", elem);
		t = replace_all(body, from, to);
		free(body);
		body = t;
	}
	len = strlen(body) + 2 * strlen(UNK_MEMBERS) + 8;
	out = malloc(len);
	assert_non_null(out);
	snprintf(out, len, "{" UNK_MEMBERS ",%s," UNK_MEMBERS "}", body);
	free(body);
	return out;
}

/* A relation cache entry as text, for comparing two. */
static char *
rel_text(const trib_pgrel *r)
{
	char	   *b = malloc(8192);
	size_t		o = 0;

	assert_non_null(b);
	o += (size_t) snprintf(b + o, 8192 - o, "%u %s.%s %s;", r->relid, r->schema,
						   r->table, r->replica_identity);
	for (size_t i = 0; i < r->ncols; i++)
	{
		const trib_pgcol *c = &r->cols[i];

		o += (size_t) snprintf(b + o, 8192 - o, "%s %s %u %d %s %u %d %d%d%d [",
							   c->name, c->type, c->type_oid, c->typmod,
							   c->base_type ? c->base_type : "-", c->base_type_oid,
							   c->base_typmod, c->nullable, c->pk, c->identity);
		for (size_t j = 0; j < c->nenum_labels; j++)
			o += (size_t) snprintf(b + o, 8192 - o, "%s,", c->enum_labels[j]);
		o += (size_t) snprintf(b + o, 8192 - o, "];");
	}
	for (size_t i = 0; i < r->npk; i++)
		o += (size_t) snprintf(b + o, 8192 - o, "pk %s;", r->primary_key[i]);
	for (size_t i = 0; i < r->nik; i++)
		o += (size_t) snprintf(b + o, 8192 - o, "ik %s;", r->identity_key[i]);
	for (size_t i = 0; i < r->nkey; i++)
		o += (size_t) snprintf(b + o, 8192 - o, "key %s;", r->key[i]);
	assert_true(o < 8192);
	return b;
}

static void
test_unknown_members_are_skipped(void **state)
{
	static const struct
	{
		const char *rec;
		const char *elem;		/* members start element objects */
	}			cases[] = {
		{REL_ORDERS, "\"name\""}, {REL_COMP, "\"name\""}, {REL_DD, "\"name\""},
		{BEGIN_736, NULL}, {UPDATE_736, NULL}, {COMMIT_736, NULL},
		{DELETE_737, NULL}, {INSERT_COMP, NULL}, {TRUNCATE_750, "\"schema\""},
		{MSG_NONTX, NULL}, {MSG_HEARTBEAT, NULL}, {INSERT_DOCS, NULL},
		{UPDATE_DOCS, NULL}, {DELETE_DOCS, NULL}, {STREAM_STOP, NULL},
		{STREAM_PREPARE, NULL}, {BEGIN_PREPARE, NULL}, {PREPARE, NULL},
		{ROLLBACK_PREPARED, NULL},
		{"{\"kind\":\"stream_start\",\"xid\":725,\"first\":true}", NULL},
		{"{\"kind\":\"stream_abort\",\"xid\":755,\"subxid\":756,\"lsn\":\"0/15BF0D0\",\"next_seq\":2000}", NULL},
		{"{\"kind\":\"stream_commit\",\"xid\":725,\"commit_lsn\":\"0/15A8050\",\"ts\":\"2026-11-21T09:15:02.4Z\",\"end_lsn\":\"0/15A8080\",\"changes\":2012,\"discard_through_seq\":7}", NULL},
		{"{\"kind\":\"commit_prepared\",\"xid\":753,\"commit_lsn\":\"0/15590F0\",\"ts\":\"2026-11-21T23:26:09.415565Z\",\"end_lsn\":\"0/1559128\",\"gid\":\"gid-1\"}", NULL},
	};
	bool		kinds[TRIB_PGREC_ROLLBACK_PREPARED + 1] = {false};

	(void) state;
	for (int fast = 1; fast >= 0; fast--)
	{
		trib_pgrec_parser *p = trib_pgrec_parser_new("src", "db");
		trib_pgrec_parser *q = trib_pgrec_parser_new("src", "db");

		trib_pgrec_parser_set_fast(p, fast);
		trib_pgrec_parser_set_fast(q, fast);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		{
			char	   *ext = with_unknown_members(cases[i].rec, cases[i].elem);
			trib_pgrec *want = parse_ok(p, cases[i].rec);
			trib_pgrec *got = parse_ok(q, ext);
			char	   *dw = trib_pgrec_digest(want);
			char	   *dg = trib_pgrec_digest(got);

			assert_non_null(strstr(ext, "\"x_aoo\""));
			if (cases[i].elem)	/* the members are in the elements too */
				assert_non_null(strstr(ext, "{\"x_scalar\":\"s\",\"x_obj\":{\"name\":{\"kind\":[1,{\"schema\":null}]},\"b\":true},\"x_arr\":[1,\"two\",[3,[4,[]]],{\"table\":\"t\"}],\"x_aoo\":[[{\"k\":[{\"kind\":\"begin\"},{}]}],{\"enum_labels\":[[]]}],\"x_empty\":{}," ));
			assert_string_equal(dg, dw);
			if (want->kind == TRIB_PGREC_RELATION)
			{
				char	   *rw = rel_text(want->rel);
				char	   *rg = rel_text(got->rel);

				assert_string_equal(rg, rw);
				free(rw);
				free(rg);
			}
			kinds[want->kind] = true;
			free(dw);
			free(dg);
			trib_pgrec_free(want);
			trib_pgrec_free(got);
			free(ext);
		}
		trib_pgrec_parser_free(p);
		trib_pgrec_parser_free(q);
	}
	for (int k = 0; k <= TRIB_PGREC_ROLLBACK_PREPARED; k++)
		if (!kinds[k])
			fail_msg("no case of record kind %s", trib_pgrec_kind_name((trib_pgrec_kind) k));
}

/* Known members keep their checks beside unknown ones: types, duplicates,
 * nesting where a scalar is due. */
static void
test_unknown_members_leave_known_checks(void **state)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new("src", "db");

	(void) state;
	parse_err(p, "{\"x\":{\"a\":[1]},\"kind\":\"stream_stop\",\"xid\":{\"n\":725}}",
			  "\"xid\"");
	parse_err(p, "{\"x\":[{}],\"kind\":\"stream_stop\",\"xid\":725,\"x2\":1,\"xid\":725}",
			  "duplicate field \"xid\"");
	parse_err(p, REL_DD_HEAD "{\"name\":\"x\",\"x\":{\"a\":[{}]},\"type\":\"d\",\"type_oid\":1,\"typmod\":-1,"
			  "\"nullable\":true,\"nullable\":true,\"pk\":false,\"identity\":false}"
			  REL_DD_TAIL, "duplicate column member \"nullable\"");
	parse_err(p, REL_DD_HEAD "{\"name\":{\"x\":1},\"x\":[[]],\"type\":\"d\",\"type_oid\":1,\"typmod\":-1,"
			  "\"nullable\":true,\"pk\":false,\"identity\":false}"
			  REL_DD_TAIL, "unexpected nesting in \"columns\"");
	parse_err(p, REL_DD_HEAD "{\"name\":\"x\",\"x\":[[]],\"type\":\"d\",\"type_oid\":1,\"typmod\":-1,"
			  "\"pk\":false,\"identity\":false}"
			  REL_DD_TAIL, "column 4 lacks a member");
	parse_err(p, "{\"kind\":\"truncate\",\"xid\":750,\"lsn\":\"0/1558900\",\"seq\":0,"
			  "\"relations\":[{\"x\":{},\"schema\":[\"public\"],\"table\":\"t\"}],\"cascade\":true,\"restart_identity\":true}",
			  "\"relations\": schema and table must be strings");
	parse_err(p, "{\"kind\":\"truncate\",\"xid\":750,\"lsn\":\"0/1558900\",\"seq\":0,"
			  "\"relations\":[{\"x\":{\"schema\":\"s\"},\"table\":\"t\"}],\"cascade\":true,\"restart_identity\":true}",
			  "\"relations\" element lacks schema or table");
	trib_pgrec_parser_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_splices_images_byte_for_byte),
		cmocka_unit_test(test_events_share_the_parsers_names),
		cmocka_unit_test(test_taken_event_outlives_its_record),
		cmocka_unit_test(test_delete_key_from_old_image),
		cmocka_unit_test(test_composite_key_keeps_member_text),
		cmocka_unit_test(test_no_relation_record_means_no_key),
		cmocka_unit_test(test_new_relation_record_replaces_metadata),
		cmocka_unit_test(test_alternating_partition_identities_keep_their_views),
		cmocka_unit_test(test_relation_domains_and_enum_labels),
		cmocka_unit_test(test_truncate_and_message_extra),
		cmocka_unit_test(test_control_records),
		cmocka_unit_test(test_malformed_records_are_errors),
		cmocka_unit_test(test_ts_out_of_range_is_an_error),
		cmocka_unit_test(test_ts_in_the_last_minute),
		cmocka_unit_test(test_json_null_lists_reach_the_event),
		cmocka_unit_test(test_malformed_json_null_lists_are_errors),
		cmocka_unit_test(test_eventid_format_and_parse),
		cmocka_unit_test(test_assembler_marks_last_event_and_drops_heartbeats),
		cmocka_unit_test(test_assembler_streamed_transaction),
		cmocka_unit_test(test_assembler_rejects_stray_streamed_change),
		cmocka_unit_test(test_assembler_reset_drops_held_event),
		cmocka_unit_test(test_next_line_splits_batched_messages),
		cmocka_unit_test(test_released_block_serves_next_change_unchanged),
		cmocka_unit_test(test_unknown_members_are_skipped),
		cmocka_unit_test(test_unknown_members_leave_known_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
