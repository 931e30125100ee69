/*
 * test_mysql_tx.c: unit tests of the MySQL/MariaDB transaction assembler
 * (source/mysql/mysql_tx.c), fed decoded events built by hand: event
 * groups of both servers, DDL, positions on events, resume after a
 * position inside and after a transaction, and the refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mysql_tx.h"
#include "strbuf.h"

static trib_my_shape shape = {.db = "d1", .table = "t"};

static trib_my_event
gtid(uint64_t seq, uint64_t pos, bool standalone)
{
	trib_my_event ev = {.kind = TRIB_MY_EV_GTID, .pos = pos, .next_pos = (uint32_t) pos + 42,
	.file = "mariadb-bin.000002", .timestamp = 1700000000, .server_id = 1,
	.standalone = standalone};

	ev.gtid.kind = TRIB_MY_GTID_MARIADB;
	ev.gtid.server = 1;
	ev.gtid.seq = seq;
	return ev;
}

/* A MySQL GTID_LOG event (uuid 11..11). */
static trib_my_event
gtid_mysql(uint64_t gno, uint64_t pos)
{
	trib_my_event ev = {.kind = TRIB_MY_EV_GTID, .pos = pos, .file = "binlog.000001",
	.timestamp = 1700000000, .server_id = 8};

	ev.gtid.kind = TRIB_MY_GTID_MYSQL;
	memset(ev.gtid.uuid, 0x11, 16);
	ev.gtid.seq = gno;
	return ev;
}

/* A rows event with n inserts of ids first, first+1, ... */
static trib_my_event
rows(int n, int first, uint64_t pos, const char *file)
{
	trib_my_event ev = {.kind = TRIB_MY_EV_ROWS, .pos = pos, .file = file,
	.timestamp = 1700000001, .server_id = 1, .shape = &shape, .nrows = n};

	ev.rows = trib_xcalloc((size_t) n, sizeof(trib_my_row));
	for (int i = 0; i < n; i++)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), "{\"id\":%d}", first + i);
		ev.rows[i].op = 'c';
		ev.rows[i].after = trib_xstrdup(buf);
		ev.rows[i].key = trib_xstrdup(buf);
	}
	return ev;
}

static trib_my_event
xid(uint32_t next_pos)
{
	trib_my_event ev = {.kind = TRIB_MY_EV_XID, .next_pos = next_pos,
	.file = "mariadb-bin.000002"};

	return ev;
}

static trib_my_event
query(trib_my_qkind kind, const char *sql, uint64_t pos, const char *file)
{
	trib_my_event ev = {.kind = TRIB_MY_EV_QUERY, .query = kind, .pos = pos,
	.next_pos = (uint32_t) pos + 100, .file = file, .timestamp = 1700000002};

	ev.db = trib_xstrdup("d1");
	ev.statement = trib_xstrdup(sql);
	return ev;
}

/* Feed an event (then clear it) or fail. */
static void
feed(trib_my_tx *tx, trib_my_event ev)
{
	char		err[512];

	if (!trib_my_tx_feed(tx, &ev, err, sizeof(err)))
		fail_msg("feed: %s", err);
	trib_my_event_clear(&ev);
}

/* Feed expecting an error containing want. */
static void
feed_err(trib_my_tx *tx, trib_my_event ev, const char *want)
{
	char		err[512] = "";

	if (trib_my_tx_feed(tx, &ev, err, sizeof(err)))
		fail_msg("expected an error containing \"%s\"", want);
	if (!strstr(err, want))
		fail_msg("expected \"%s\" in \"%s\"", want, err);
	trib_my_event_clear(&ev);
}

/* The ready items as "kind:id" joined by spaces; events add "!" when last. */
static char *
drain(trib_my_tx *tx)
{
	static const char *const kinds[] = {"begin", "event", "end", "ddl"};
	trib_strbuf out = {0};
	trib_my_item it;

	trib_strbuf_add(&out, "", 0);
	while (trib_my_tx_next(tx, &it))
	{
		char		id[TRIB_MY_POS_BUFLEN];

		trib_my_pos_format(&it.pos, id, sizeof(id));
		trib_strbuf_printf(&out, "%s%s:%s%s", out.len ? " " : "", kinds[it.kind], id,
						   it.event && it.event->last_in_tx ? "!" : "");
		trib_my_item_clear(&it);
	}
	return trib_strbuf_finish(&out);
}

static void
expect_items(trib_my_tx *tx, const char *want)
{
	char	   *got = drain(tx);

	if (strcmp(got, want) != 0)
		fail_msg("items:\n  expected %s\n  got      %s", want, got);
	free(got);
}

static trib_my_tx *
new_tx(const trib_my_pos *resume, const char *state, const trib_my_schema *schema)
{
	trib_my_tx_conf conf = {.source_name = "src", .resume_after = resume,
	.gtid_state = state, .schema = schema};
	char		err[256];
	trib_my_tx *tx = trib_my_tx_new(&conf, err, sizeof(err));

	if (tx == NULL)
		fail_msg("trib_my_tx_new: %s", err);
	return tx;
}

static void
test_mariadb_group_items_and_positions(void **state)
{
	trib_my_tx *tx = new_tx(NULL, "0-1-5,7-2-3", NULL);
	trib_my_item it;

	(void) state;
	feed(tx, gtid(6, 1000, false));
	feed(tx, rows(2, 1, 1100, "mariadb-bin.000002"));
	/* the second row is held back until the group ends */
	assert_true(trib_my_tx_next(tx, &it));
	assert_int_equal(it.kind, TRIB_MY_ITEM_BEGIN);
	trib_my_item_clear(&it);
	assert_true(trib_my_tx_next(tx, &it));
	assert_int_equal(it.kind, TRIB_MY_ITEM_EVENT);
	assert_false(it.event->last_in_tx);
	assert_int_equal(it.event->pos.commit_lsn, ((uint64_t) 2 << 32) | 1000);
	assert_int_equal(it.event->pos.seq, 0);
	assert_int_equal(it.event->pos.lsn, ((uint64_t) 2 << 32) | 1100);
	assert_int_equal(it.event->op, TRIB_OP_CREATE);
	assert_string_equal(it.event->connector, "mysql");
	assert_string_equal(it.event->source, "src");
	assert_string_equal(it.event->table, "t");
	assert_int_equal(it.event->txid, 6);
	assert_int_equal(it.event->ts_ms, 1700000001000);
	assert_string_equal(it.event->pos.opaque,
						"{\"source\":{\"server_id\":1,\"gtid\":\"0-1-6\",\"file\":\"mariadb-bin.000002\","
						"\"pos\":1100,\"row\":0,\"thread\":null},"
						"\"id\":\"0-1-6/mariadb-bin.000002:1000/0\",\"file\":\"mariadb-bin.000002\","
						"\"pos\":1000,\"row\":0,\"gtid\":\"0-1-6\",\"server_id\":1,\"event_pos\":1100}");
	trib_my_item_clear(&it);
	assert_false(trib_my_tx_next(tx, &it));
	feed(tx, rows(1, 3, 1200, "mariadb-bin.000002"));
	feed(tx, xid(1300));
	expect_items(tx, "event:0-1-6/mariadb-bin.000002:1000/1 event:0-1-6/mariadb-bin.000002:1000/2! "
				 "end:0-1-6/mariadb-bin.000002:1000");
	{
		/* again, looking at the last event and the END */
		trib_my_tx *t2 = new_tx(NULL, "0-1-5,7-2-3", NULL);

		feed(t2, gtid(6, 1000, false));
		feed(t2, rows(3, 1, 1100, "mariadb-bin.000002"));
		feed(t2, xid(1300));
		for (int i = 0; i < 3; i++)
		{
			assert_true(trib_my_tx_next(t2, &it));
			trib_my_item_clear(&it);
		}
		assert_true(trib_my_tx_next(t2, &it));
		assert_true(it.event->last_in_tx);
		assert_int_equal(it.event->pos.end_lsn, ((uint64_t) 2 << 32) | 1300);
		assert_non_null(strstr(it.event->pos.opaque, "\"end_pos\":1300,\"gtid_state\":\"0-1-6,7-2-3\"}"));
		trib_my_item_clear(&it);
		assert_true(trib_my_tx_next(t2, &it));
		assert_int_equal(it.kind, TRIB_MY_ITEM_END);
		assert_int_equal(it.end_pos, 1300);
		assert_int_equal(it.nchanges, 3);
		assert_string_equal(it.gtid_state, "0-1-6,7-2-3");
		trib_my_item_clear(&it);
		trib_my_tx_free(t2);
	}
	trib_my_tx_free(tx);
}

/* The first event of the group fed so far (after its BEGIN). */
static trib_my_item
first_event(trib_my_tx *tx)
{
	trib_my_item it;

	assert_true(trib_my_tx_next(tx, &it));
	assert_int_equal(it.kind, TRIB_MY_ITEM_BEGIN);
	trib_my_item_clear(&it);
	assert_true(trib_my_tx_next(tx, &it));
	assert_int_equal(it.kind, TRIB_MY_ITEM_EVENT);
	return it;
}

/* Packed positions (file number << 32 | offset) come from each file's own
 * number: the group's, parsed when it opens, and a rows event's from its
 * name when that differs; 0 where a name has no number. */
static void
test_packed_positions_come_from_each_files_number(void **state)
{
	trib_my_tx *tx = new_tx(NULL, "0-1-5", NULL);
	trib_my_event g;
	trib_my_item it;

	(void) state;
	feed(tx, gtid(6, 1000, false));
	feed(tx, rows(2, 1, 1100, "mariadb-bin.000003"));
	it = first_event(tx);
	assert_int_equal(it.event->pos.commit_lsn, ((uint64_t) 2 << 32) | 1000);
	assert_int_equal(it.event->pos.lsn, ((uint64_t) 3 << 32) | 1100);
	trib_my_item_clear(&it);
	trib_my_tx_free(tx);

	tx = new_tx(NULL, "0-1-5", NULL);
	g = gtid(7, 2000, false);
	g.file = "binlog";
	feed(tx, g);
	feed(tx, rows(2, 1, 2100, "binlog"));
	it = first_event(tx);
	assert_int_equal(it.event->pos.commit_lsn, 0);
	assert_int_equal(it.event->pos.lsn, 0);
	trib_my_item_clear(&it);
	trib_my_tx_free(tx);
}

static void
test_item_sequence_with_last_marks(void **state)
{
	trib_my_tx *tx = new_tx(NULL, NULL, NULL);

	(void) state;
	feed(tx, gtid(1, 100, false));
	feed(tx, rows(2, 1, 150, "mariadb-bin.000002"));
	feed(tx, rows(1, 3, 250, "mariadb-bin.000002"));
	feed(tx, xid(300));
	feed(tx, gtid(2, 300, false));
	feed(tx, rows(1, 9, 350, "mariadb-bin.000002"));
	feed(tx, query(TRIB_MY_Q_COMMIT, "COMMIT", 400, "mariadb-bin.000002"));
	expect_items(tx, "begin:0-1-1/mariadb-bin.000002:100/0 event:0-1-1/mariadb-bin.000002:100/0 "
				 "event:0-1-1/mariadb-bin.000002:100/1 event:0-1-1/mariadb-bin.000002:100/2! "
				 "end:0-1-1/mariadb-bin.000002:100 begin:0-1-2/mariadb-bin.000002:300/0 "
				 "event:0-1-2/mariadb-bin.000002:300/0! end:0-1-2/mariadb-bin.000002:300");
	trib_my_tx_free(tx);
}

static void
test_resume_inside_and_after_a_transaction(void **state)
{
	trib_my_pos mid = {.file = "mariadb-bin.000002", .tx_pos = 300, .row = 1};
	trib_my_pos whole = {.file = "mariadb-bin.000002", .tx_pos = 300, .row = TRIB_MY_ROW_ALL};
	trib_my_tx *tx;

	(void) state;
	mid.gtid.kind = TRIB_MY_GTID_MARIADB;
	mid.gtid.server = 1;
	mid.gtid.seq = 2;
	tx = new_tx(&mid, NULL, NULL);
	/* a transaction before the resume point: nothing of it */
	feed(tx, gtid(1, 100, false));
	feed(tx, rows(2, 1, 150, "mariadb-bin.000002"));
	feed(tx, xid(300));
	/* the resume transaction: rows 0 and 1 are done, 2 and 3 come */
	feed(tx, gtid(2, 300, false));
	feed(tx, rows(4, 10, 350, "mariadb-bin.000002"));
	feed(tx, xid(500));
	expect_items(tx, "begin:0-1-2/mariadb-bin.000002:300/0 event:0-1-2/mariadb-bin.000002:300/2 "
				 "event:0-1-2/mariadb-bin.000002:300/3! end:0-1-2/mariadb-bin.000002:300");
	trib_my_tx_free(tx);
	tx = new_tx(&whole, NULL, NULL);
	feed(tx, gtid(2, 300, false));
	feed(tx, rows(4, 10, 350, "mariadb-bin.000002"));
	feed(tx, xid(500));
	feed(tx, gtid(3, 500, false));
	feed(tx, rows(1, 20, 550, "mariadb-bin.000002"));
	feed(tx, xid(600));
	expect_items(tx, "begin:0-1-3/mariadb-bin.000002:500/0 event:0-1-3/mariadb-bin.000002:500/0! "
				 "end:0-1-3/mariadb-bin.000002:500");
	trib_my_tx_free(tx);
}

static void
test_resume_with_another_gtid_is_refused(void **state)
{
	trib_my_pos p = {.file = "mariadb-bin.000002", .tx_pos = 300, .row = 1};
	trib_my_tx *tx;

	(void) state;
	p.gtid.kind = TRIB_MY_GTID_MARIADB;
	p.gtid.server = 1;
	p.gtid.seq = 99;
	tx = new_tx(&p, NULL, NULL);
	feed_err(tx, gtid(2, 300, false),
			 "binlog mariadb-bin.000002:300 holds transaction 0-1-2, but the checkpoint recorded 0-1-99 "
			 "there: the server's binlog was replaced; take a new snapshot");
	trib_my_tx_free(tx);
}

/* A schema source that records the DDL it is told about. */
static char ddl_seen[1024];

static void
record_ddl(void *ctx, const char *db, const char *statement, const trib_my_pos *at)
{
	char		id[TRIB_MY_POS_BUFLEN];

	(void) ctx;
	trib_my_pos_format(at, id, sizeof(id));
	snprintf(ddl_seen, sizeof(ddl_seen), "%s %s %s", db, statement, id);
}

static const trib_my_schema_ops record_ops = {.ddl = record_ddl};

static void
test_ddl_groups(void **state)
{
	trib_my_schema schema = {&record_ops, NULL};
	trib_my_tx *tx = new_tx(NULL, NULL, &schema);
	trib_my_item it;

	(void) state;
	feed(tx, gtid(4, 700, true));
	feed(tx, query(TRIB_MY_Q_DDL, "ALTER TABLE t ADD c INT", 742, "mariadb-bin.000002"));
	assert_true(trib_my_tx_next(tx, &it));
	assert_int_equal(it.kind, TRIB_MY_ITEM_DDL);
	assert_string_equal(it.db, "d1");
	assert_string_equal(it.statement, "ALTER TABLE t ADD c INT");
	assert_int_equal(it.end_pos, 842);
	trib_my_item_clear(&it);
	assert_false(trib_my_tx_open(tx, NULL));
	assert_string_equal(ddl_seen, "d1 ALTER TABLE t ADD c INT 0-1-4/mariadb-bin.000002:700");
	/* CREATE ... SELECT: a DDL statement inside a group with rows */
	feed(tx, gtid(5, 900, false));
	feed(tx, query(TRIB_MY_Q_DDL, "CREATE TABLE u SELECT 1", 942, "mariadb-bin.000002"));
	feed(tx, rows(1, 1, 1000, "mariadb-bin.000002"));
	feed(tx, xid(1100));
	expect_items(tx, "begin:0-1-5/mariadb-bin.000002:900/0 ddl:0-1-5/mariadb-bin.000002:900/0 "
				 "event:0-1-5/mariadb-bin.000002:900/1! end:0-1-5/mariadb-bin.000002:900");
	/* an account statement: nothing surfaces, the stream goes on */
	feed(tx, gtid(6, 1100, true));
	feed(tx, query(TRIB_MY_Q_ACCOUNT, "", 1142, "mariadb-bin.000002"));
	expect_items(tx, "");
	assert_false(trib_my_tx_open(tx, NULL));
	trib_my_tx_free(tx);
}

/* SAVEPOINT in a transaction changes nothing: no DDL item, nothing for the
 * schema history, and the change before it stays the last one (MariaDB
 * logs the SAVEPOINT and drops the events a ROLLBACK TO it undid). */
static void
test_savepoint_is_no_ddl(void **state)
{
	trib_my_schema schema = {&record_ops, NULL};
	trib_my_tx *tx = new_tx(NULL, NULL, &schema);

	(void) state;
	ddl_seen[0] = '\0';
	feed(tx, gtid(7, 1200, false));
	feed(tx, rows(1, 1, 1250, "mariadb-bin.000002"));
	feed(tx, query(TRIB_MY_Q_SAVEPOINT, "SAVEPOINT `s`", 1300, "mariadb-bin.000002"));
	feed(tx, xid(1400));
	expect_items(tx, "begin:0-1-7/mariadb-bin.000002:1200/0 "
				 "event:0-1-7/mariadb-bin.000002:1200/0! end:0-1-7/mariadb-bin.000002:1200");
	assert_string_equal(ddl_seen, "");
	trib_my_tx_free(tx);
}

static void
test_mysql_groups(void **state)
{
	trib_my_tx *tx = new_tx(NULL, NULL, NULL);

	(void) state;
	/* DML: GTID_LOG, BEGIN, rows, XID; BEGIN comes with the QUERY */
	feed(tx, gtid_mysql(23, 4));
	expect_items(tx, "");
	feed(tx, query(TRIB_MY_Q_BEGIN, "BEGIN", 80, "binlog.000001"));
	feed(tx, rows(1, 1, 150, "binlog.000001"));
	feed(tx, xid(250));
	expect_items(tx, "begin:11111111-1111-1111-1111-111111111111:23/binlog.000001:4/0 "
				 "event:11111111-1111-1111-1111-111111111111:23/binlog.000001:4/0! "
				 "end:11111111-1111-1111-1111-111111111111:23/binlog.000001:4");
	/* DDL: GTID_LOG then the statement, no BEGIN: a group of its own */
	feed(tx, gtid_mysql(24, 250));
	feed(tx, query(TRIB_MY_Q_DDL, "DROP TABLE x", 320, "binlog.000001"));
	expect_items(tx, "ddl:11111111-1111-1111-1111-111111111111:24/binlog.000001:250");
	assert_false(trib_my_tx_open(tx, NULL));
	trib_my_tx_free(tx);
}

static void
test_refusals(void **state)
{
	trib_my_tx *tx = new_tx(NULL, NULL, NULL);
	char		err[256];

	(void) state;
	feed_err(tx, rows(1, 1, 100, "mariadb-bin.000002"), "a rows event outside a transaction");
	feed(tx, gtid(1, 100, false));
	feed_err(tx, query(TRIB_MY_Q_XA, "XA END 'x'", 150, "mariadb-bin.000002"),
			 "XA transactions are not supported yet");
	feed_err(tx, gtid(2, 200, false), "a new event group starts before the one at 100 ended");
	trib_my_tx_free(tx);
	/* ROLLBACK TO in the binlog (a non-transactional change after the
	 * savepoint): which changes it undid is not known, so it stops,
	 * saying why, instead of ending the transaction there */
	tx = new_tx(NULL, NULL, NULL);
	feed(tx, gtid(3, 300, false));
	feed(tx, rows(1, 1, 350, "mariadb-bin.000002"));
	feed_err(tx, query(TRIB_MY_Q_ROLLBACK_TO, "ROLLBACK TO `s`", 400, "mariadb-bin.000002"),
			 "ROLLBACK TO `s` in a transaction that changed a non-transactional table");
	trib_my_tx_free(tx);
	{
		trib_my_tx_conf conf = {.gtid_state = "0-1-x"};

		assert_null(trib_my_tx_new(&conf, err, sizeof(err)));
		assert_non_null(strstr(err, "GTID state \"0-1-x\""));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mariadb_group_items_and_positions),
		cmocka_unit_test(test_packed_positions_come_from_each_files_number),
		cmocka_unit_test(test_item_sequence_with_last_marks),
		cmocka_unit_test(test_resume_inside_and_after_a_transaction),
		cmocka_unit_test(test_resume_with_another_gtid_is_refused),
		cmocka_unit_test(test_ddl_groups),
		cmocka_unit_test(test_savepoint_is_no_ddl),
		cmocka_unit_test(test_mysql_groups),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
