/*
 * test_mysql_source_ops.c: the MySQL source behind the source interface
 * (mysql_source_ops.c, mysql_source_conf.c) without a server: how
 * positions pack into trib_position and order, their ids, and the
 * `type: mysql` settings (defaults, required keys, cross-key checks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "leader.h"
#include "mysql_leader.h"
#include "mysql_source_conf.h"
#include "source.h"

/* A position: file number, transaction offset, row. */
static trib_position
at(uint32_t file, uint32_t offset, uint64_t row)
{
	trib_position p = {0};

	p.commit_lsn = (uint64_t) file << 32 | offset;
	p.seq = row;
	return p;
}

/* Positions order by file number, then offset, then row, as 64-bit numbers. */
static void
test_order(void **state)
{
	const trib_source_ops *ops = &trib_mysql_source_ops;
	trib_position a = at(2, 900000, 7),
				b = at(3, 4, 0),
				c = at(3, 4, 1),
				whole = at(3, 4, TRIB_SEQ_ALL);

	(void) state;
	assert_true(ops->compare(&a, &b) < 0);	/* a later file wins over a larger offset */
	assert_true(ops->compare(&b, &a) > 0);
	assert_true(ops->compare(&b, &c) < 0);
	assert_true(ops->compare(&c, &whole) < 0);	/* the whole transaction is after its rows */
	assert_int_equal(ops->compare(&c, &c), 0);
}

/* Ids: native from the opaque position, the file number without one. */
static void
test_format_id(void **state)
{
	const trib_source_ops *ops = &trib_mysql_source_ops;
	trib_position p = at(3, 928, 3);
	char		buf[400];

	(void) state;
	p.opaque = "{\"id\":\"x\",\"file\":\"mariadb-bin.000003\",\"pos\":928,\"row\":3,"
		"\"gtid\":\"0-1-42\",\"server_id\":1,\"event_pos\":1000}";
	ops->format_id(&p, buf, sizeof(buf));
	assert_string_equal(buf, "0-1-42/mariadb-bin.000003:928/3");
	p.opaque = NULL;
	ops->format_id(&p, buf, sizeof(buf));
	assert_string_equal(buf, "/000003:928/3");
	p.seq = TRIB_SEQ_ALL;
	ops->format_id(&p, buf, sizeof(buf));
	assert_string_equal(buf, "/000003:928");
}

/* Load a pipeline whose source is `source` (YAML lines under it). */
static bool
load(const char *source, trib_config **cfg, char *err, size_t errlen)
{
	char		text[2048];

	snprintf(text, sizeof(text),
			 "pipeline: p\nsources:\n  m:\n    type: mysql\n%s"
			 "sinks:\n  o:\n    type: stdout\n"
			 "checkpoint:\n  store: file\n  path: /tmp/p.ckpt\n", source);
	return trib_config_load_buffer("t.yaml", text, strlen(text), cfg, err, errlen);
}

/* Defaults and the registration. */
static void
test_settings(void **state)
{
	trib_config *cfg = NULL;
	char		err[2048] = "";
	const trib_mysql_source_conf *m;

	(void) state;
	assert_true(load("    user: repl\n    server_id: 4343\n    lock_dsn: \"dbname=x\"\n",
					 &cfg, err, sizeof(err)));
	m = trib_mysql_source_conf_of(&cfg->sources[0]);
	assert_non_null(m);
	assert_ptr_equal(cfg->sources[0].plugin->source_ops, &trib_mysql_source_ops);
	assert_string_equal(m->host, "127.0.0.1");
	assert_int_equal(m->port, 3306);
	assert_int_equal(m->server_id, 4343);
	assert_int_equal(m->heartbeat_ms, 1000);
	assert_int_equal(m->reconnect_backoff_ms.initial, 100);
	assert_int_equal(m->reconnect_backoff_ms.max, 30000);
	assert_null(m->start_file);
	trib_config_free(cfg);
}

/* Required keys and cross-key checks name the key. */
static void
test_settings_refused(void **state)
{
	trib_config *cfg = NULL;
	char		err[2048] = "";

	(void) state;
	assert_false(load("    user: repl\n    lock_dsn: \"dbname=x\"\n", &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "server_id"));
	err[0] = '\0';
	assert_false(load("    user: repl\n    server_id: 0\n    lock_dsn: \"dbname=x\"\n",
					  &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "server_id"));
	err[0] = '\0';
	assert_false(load("    user: repl\n    server_id: 5\n    lock_dsn: \"dbname=x\"\n"
					  "    start_pos: 400\n", &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "start_pos: is only used with start_file"));
	err[0] = '\0';
	assert_false(load("    user: repl\n    server_id: 5\n    lock_dsn: \"dbname=x\"\n"
					  "    start_file: b.000001\n    start_gtid: 0-1-5\n", &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "give start_file or start_gtid, not both"));
	err[0] = '\0';
	assert_false(load("    user: repl\n    server_id: 5\n    lock_dsn: \"bad=\"\n", &cfg, err,
					  sizeof(err)));
	assert_non_null(strstr(err, "lock_dsn"));
}

/* Without lock_dsn the pipeline lock is GET_LOCK on the server: the source
 * offers its own leader; with one, it leaves the lock to PostgreSQL. */
static void
test_lock_in_mysql(void **state)
{
	trib_config *cfg = NULL;
	char		err[2048] = "";
	trib_leader *l;

	(void) state;
	assert_true(load("    user: repl\n    server_id: 5\n", &cfg, err, sizeof(err)));
	assert_null(trib_mysql_source_conf_of(&cfg->sources[0])->lock_dsn);
	l = trib_mysql_source_ops.leader(&cfg->sources[0], "orders");
	assert_non_null(l);
	assert_string_equal(trib_leader_kind(l), "MySQL GET_LOCK");
	trib_leader_free(l);			/* never connected */
	trib_config_free(cfg);
	cfg = NULL;
	assert_true(load("    user: repl\n    server_id: 5\n    lock_dsn: \"dbname=x\"\n",
					 &cfg, err, sizeof(err)));
	assert_null(trib_mysql_source_ops.leader(&cfg->sources[0], "orders"));
	trib_config_free(cfg);
}

/* The lock's name: the pipeline's up to MySQL's 64 characters, hashed
 * (SHA-256, 45 hex digits) beyond. */
static void
test_lock_name(void **state)
{
	char		name[TRIB_MY_LOCK_NAME_MAX + 1];
	char		p45[46],
				p46[47];

	(void) state;
	trib_my_lock_name("orders", name);
	assert_string_equal(name, "tributary.pipeline:orders");
	memset(p45, 'p', 45);
	p45[45] = '\0';
	memset(p46, 'p', 46);
	p46[46] = '\0';
	trib_my_lock_name(p45, name);	/* 19 + 45 = 64: as it is */
	assert_int_equal(strlen(name), 64);
	assert_string_equal(name + 19, p45);
	trib_my_lock_name(p46, name);	/* 65: hashed */
	assert_string_equal(name, "tributary.pipeline#68886bf90353cfebc0220c0ce24d921e3ee08c2f238e8");
	assert_int_equal(strlen(name), 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_format_id),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_settings_refused),
		cmocka_unit_test(test_lock_in_mysql),
		cmocka_unit_test(test_lock_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
