/*
 * test_pgprepared.c: unit tests of pgprepared.c (prepared transactions
 * held until COMMIT PREPARED, spill files, the resume filter), fed with
 * records of the tributary plugin (PostgreSQL 15, two-phase on) through the
 * parser and assembler, as the source feeds them.  No server is needed.
 */
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pgprepared.h"
#include "pgrecord.h"

/*
 * Transaction 726 prepared at 0/1531E70 ('g1': an insert and an update),
 * 728 committed at 0/15321C8 in between, then COMMIT PREPARED 'g1' at
 * 0/15321F8; 727 prepared at 0/1532030 ('g2') and rolled back at
 * 0/1532230.  Captured with pg_logical_slot_peek_changes(..., 'two-phase',
 * 'on'); without two-phase the witness slot gave 726's changes the ids
 * 0/15321F8:0 and 0/15321F8:1.
 */
static const char REL_T[] =
	"{\"kind\":\"relation\",\"xid\":726,\"commit_lsn\":\"0/1531E70\",\"ts\":\"2026-12-03T16:38:26.385598Z\",\"lsn\":\"0/1531DA0\",\"relid\":16384,\"schema\":\"public\",\"table\":\"t\",\"replica_identity\":\"default\",\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},{\"name\":\"v\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}],\"primary_key\":[\"id\"],\"identity_key\":[\"id\"]}";
static const char BEGIN_PREPARE_726[] =
	"{\"kind\":\"begin_prepare\",\"xid\":726,\"commit_lsn\":\"0/1531E70\",\"ts\":\"2026-12-03T16:38:26.385598Z\",\"gid\":\"g1\"}";
static const char INSERT_726[] =
	"{\"kind\":\"insert\",\"xid\":726,\"commit_lsn\":\"0/1531E70\",\"ts\":\"2026-12-03T16:38:26.385598Z\",\"lsn\":\"0/1531DA0\",\"seq\":0,\"schema\":\"public\",\"table\":\"t\",\"new\":{\"id\":2,\"v\":5}}";
static const char UPDATE_726[] =
	"{\"kind\":\"update\",\"xid\":726,\"commit_lsn\":\"0/1531E70\",\"ts\":\"2026-12-03T16:38:26.385598Z\",\"lsn\":\"0/1531E20\",\"seq\":1,\"schema\":\"public\",\"table\":\"t\",\"old\":null,\"new\":{\"id\":1,\"v\":0}}";
static const char PREPARE_726[] =
	"{\"kind\":\"prepare\",\"xid\":726,\"commit_lsn\":\"0/1531E70\",\"ts\":\"2026-12-03T16:38:26.385598Z\",\"end_lsn\":\"0/1531F98\",\"changes\":2,\"gid\":\"g1\"}";
static const char BEGIN_PREPARE_727[] =
	"{\"kind\":\"begin_prepare\",\"xid\":727,\"commit_lsn\":\"0/1532030\",\"ts\":\"2026-12-03T16:38:26.419303Z\",\"gid\":\"g2\"}";
static const char INSERT_727[] =
	"{\"kind\":\"insert\",\"xid\":727,\"commit_lsn\":\"0/1532030\",\"ts\":\"2026-12-03T16:38:26.419303Z\",\"lsn\":\"0/1531F98\",\"seq\":0,\"schema\":\"public\",\"table\":\"t\",\"new\":{\"id\":3,\"v\":5}}";
static const char PREPARE_727[] =
	"{\"kind\":\"prepare\",\"xid\":727,\"commit_lsn\":\"0/1532030\",\"ts\":\"2026-12-03T16:38:26.419303Z\",\"end_lsn\":\"0/1532148\",\"changes\":1,\"gid\":\"g2\"}";
static const char BEGIN_728[] =
	"{\"kind\":\"begin\",\"xid\":728,\"commit_lsn\":\"0/15321C8\",\"ts\":\"2026-12-03T16:38:26.91517Z\"}";
static const char INSERT_728[] =
	"{\"kind\":\"insert\",\"xid\":728,\"commit_lsn\":\"0/15321C8\",\"ts\":\"2026-12-03T16:38:26.91517Z\",\"lsn\":\"0/1532148\",\"seq\":0,\"schema\":\"public\",\"table\":\"t\",\"new\":{\"id\":10,\"v\":10}}";
static const char COMMIT_728[] =
	"{\"kind\":\"commit\",\"xid\":728,\"commit_lsn\":\"0/15321C8\",\"ts\":\"2026-12-03T16:38:26.91517Z\",\"end_lsn\":\"0/15321F8\",\"changes\":1}";
static const char COMMIT_PREPARED_726[] =
	"{\"kind\":\"commit_prepared\",\"xid\":726,\"commit_lsn\":\"0/15321F8\",\"ts\":\"2026-12-03T16:38:27.042733Z\",\"end_lsn\":\"0/1532230\",\"gid\":\"g1\"}";
static const char ROLLBACK_PREPARED_727[] =
	"{\"kind\":\"rollback_prepared\",\"xid\":727,\"commit_lsn\":\"0/1532230\",\"ts\":\"2026-12-03T16:38:27.062829Z\",\"end_lsn\":\"0/1532268\",\"gid\":\"g2\"}";

#define P_726 UINT64_C(0x1531E70)
#define C_726 UINT64_C(0x15321F8)

/* A parser, an assembler and the stage under test, as the source has. */
typedef struct rig
{
	trib_pgrec_parser *p;
	trib_pgasm *a;
	trib_pgprep *h;
	char		dir[64];
	char		err[512];
} rig;

static rig *
rig_new(size_t memory_bytes)
{
	rig		   *r = calloc(1, sizeof(*r));
	trib_pgprep_conf c;

	snprintf(r->dir, sizeof(r->dir), "/tmp/trib_prep_XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	c.spill_dir = r->dir;
	c.spill_prefix = "tributary.p.s.";
	c.memory_bytes = memory_bytes;
	r->p = trib_pgrec_parser_new("s", "db");
	r->a = trib_pgasm_new();
	r->h = trib_pgprep_new(&c);
	return r;
}

/* Files in the rig's directory. */
static int
files_in(const rig *r)
{
	DIR		   *d = opendir(r->dir);
	struct dirent *e;
	int			n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
rig_free(rig *r)
{
	trib_pgprep_free(r->h);
	assert_int_equal(files_in(r), 0);
	rmdir(r->dir);
	trib_pgasm_free(r->a);
	trib_pgrec_parser_free(r->p);
	free(r);
}

/* Parse, assemble and push one record; returns push's verdict. */
static bool
feed(rig *r, const char *text)
{
	trib_pgrec *rec = NULL,
			   *out;
	bool		ok = true;

	if (!trib_pgrec_parser_parse(r->p, text, strlen(text), &rec, r->err, sizeof(r->err)))
		fail_msg("parse failed: %s", r->err);
	if (!trib_pgasm_push(r->a, rec, r->err, sizeof(r->err)))
		fail_msg("assembler: %s", r->err);
	while ((out = trib_pgasm_pop(r->a)) != NULL)
		ok = trib_pgprep_push(r->h, out, r->err, sizeof(r->err)) && ok;
	return ok;
}

static void
feed_all(rig *r, const char *const *texts)
{
	for (; *texts; texts++)
		if (!feed(r, *texts))
			fail_msg("push: %s", r->err);
}

/* Pop everything ready into a line per record: "kind" or
 * "kind commit_lsn:seq end_lsn" for events. */
static char *
drain(rig *r)
{
	static char buf[4096];
	size_t		off = 0;
	trib_pgrec *rec;
	int			rc;

	buf[0] = '\0';
	while ((rc = trib_pgprep_pop(r->h, &rec, r->err, sizeof(r->err))) == 1)
	{
		if (rec->ev)
			off += (size_t) snprintf(buf + off, sizeof(buf) - off, "%s %" PRIX64 ":%" PRIu64
									 " %" PRIX64 "\n", trib_pgrec_kind_name(rec->kind),
									 rec->ev->pos.commit_lsn, rec->ev->pos.seq,
									 rec->ev->pos.end_lsn);
		else
			off += (size_t) snprintf(buf + off, sizeof(buf) - off, "%s %" PRIX64 "\n",
									 trib_pgrec_kind_name(rec->kind), rec->commit_lsn);
		trib_pgrec_free(rec);
	}
	assert_int_equal(rc, 0);
	return buf;
}

static const char *const PREPARED_726[] = {
	BEGIN_PREPARE_726, REL_T, INSERT_726, UPDATE_726, PREPARE_726, NULL
};
static const char *const TX_728[] = {BEGIN_728, INSERT_728, COMMIT_728, NULL};

/* Nothing of a prepared transaction leaves before COMMIT PREPARED; then it
 * leaves with the ids PostgreSQL gives it without two-phase. */
static void
test_commit_prepared_delivers_with_commit_ids(void **state)
{
	rig		   *r = rig_new(1 << 20);
	uint64_t	floor = 0;
	trib_pgrec *rec;

	(void) state;
	feed_all(r, PREPARED_726);
	feed_all(r, TX_728);
	assert_true(trib_pgprep_floor(r->h, &floor));
	assert_int_equal(floor, P_726);
	assert_string_equal(drain(r), "relation 1531E70\nbegin 15321C8\ninsert 15321C8:0 15321F8\n"
						"commit 15321C8\n");
	assert_true(feed(r, COMMIT_PREPARED_726));
	/* the floor stays until its commit_prepared is popped */
	assert_true(trib_pgprep_floor(r->h, &floor));
	assert_int_equal(floor, P_726);
	assert_int_equal(trib_pgprep_pop(r->h, &rec, r->err, sizeof(r->err)), 1);
	assert_int_equal(rec->kind, TRIB_PGREC_BEGIN_PREPARE);
	assert_int_equal(rec->commit_lsn, C_726);
	trib_pgrec_free(rec);
	assert_int_equal(trib_pgprep_pop(r->h, &rec, r->err, sizeof(r->err)), 1);
	assert_int_equal(rec->ev->pos.commit_lsn, C_726);
	assert_int_equal(rec->ev->pos.seq, 0);
	assert_int_equal(rec->ev->ts_ms, rec->ts_ms);
	assert_string_equal(rec->ev->after, "{\"id\":2,\"v\":5}");
	assert_string_equal(rec->ev->key, "{\"id\":2}");
	trib_pgrec_free(rec);
	assert_string_equal(drain(r), "update 15321F8:1 1532230\ncommit_prepared 15321F8\n");
	assert_false(trib_pgprep_floor(r->h, &floor));
	rig_free(r);
}

/* The commit_prepared carries the PREPARE's LSN for the caller's floor. */
static void
test_commit_prepared_carries_prepare_lsn(void **state)
{
	rig		   *r = rig_new(1 << 20);
	trib_pgrec *rec = NULL;

	(void) state;
	feed_all(r, PREPARED_726);
	assert_true(feed(r, COMMIT_PREPARED_726));
	while (trib_pgprep_pop(r->h, &rec, r->err, sizeof(r->err)) == 1 &&
		   rec->kind != TRIB_PGREC_COMMIT_PREPARED)
		trib_pgrec_free(rec);
	assert_int_equal(rec->kind, TRIB_PGREC_COMMIT_PREPARED);
	assert_int_equal(rec->prepare_lsn, P_726);
	assert_int_equal(rec->end_lsn, 0x1532230);
	trib_pgrec_free(rec);
	rig_free(r);
}

/* ROLLBACK PREPARED: none of its changes ever leaves. */
static void
test_rollback_prepared_drops_it(void **state)
{
	rig		   *r = rig_new(1 << 20);
	static const char *const g2[] = {
		BEGIN_PREPARE_727, REL_T, INSERT_727, PREPARE_727, NULL
	};
	trib_pgprep_stats st;
	uint64_t	floor;

	(void) state;
	feed_all(r, g2);
	feed_all(r, TX_728);
	assert_true(feed(r, ROLLBACK_PREPARED_727));
	assert_false(trib_pgprep_floor(r->h, &floor));
	assert_string_equal(drain(r), "relation 1531E70\nbegin 15321C8\ninsert 15321C8:0 15321F8\n"
						"commit 15321C8\nrollback_prepared 1532230\n");
	trib_pgprep_stats_get(r->h, &st);
	assert_int_equal(st.rolled_back, 1);
	assert_int_equal(st.held, 0);
	rig_free(r);
}

/* Past the memory budget events go to a spill file, come back byte for
 * byte with the parser's names and relation, and the file goes away. */
static void
test_spills_past_the_budget(void **state)
{
	rig		   *r = rig_new(1);
	trib_pgprep_stats st;
	trib_pgrec *rec;
	const trib_relation *rel;

	(void) state;
	feed_all(r, PREPARED_726);
	assert_int_equal(files_in(r), 1);
	trib_pgprep_stats_get(r->h, &st);
	assert_int_equal(st.held, 1);
	assert_int_equal(st.memory_bytes, 0);
	assert_true(st.spilled_bytes > 0);
	assert_true(feed(r, COMMIT_PREPARED_726));
	assert_int_equal(trib_pgprep_pop(r->h, &rec, r->err, sizeof(r->err)), 1);	/* relation */
	trib_pgrec_free(rec);
	assert_int_equal(trib_pgprep_pop(r->h, &rec, r->err, sizeof(r->err)), 1);	/* begin */
	trib_pgrec_free(rec);
	assert_int_equal(trib_pgprep_pop(r->h, &rec, r->err, sizeof(r->err)), 1);
	rel = trib_pgrec_parser_relation(r->p, "public", "t")->view;
	assert_ptr_equal(rec->ev->rel, rel);
	assert_string_equal(rec->ev->schema, "public");
	assert_string_equal(rec->ev->source, "s");
	assert_string_equal(rec->ev->db, "db");
	assert_int_equal(rec->ev->op, TRIB_OP_CREATE);
	assert_string_equal(rec->ev->after, "{\"id\":2,\"v\":5}");
	assert_string_equal(rec->ev->key, "{\"id\":2}");
	assert_null(rec->ev->before);
	assert_int_equal(rec->ev->pos.commit_lsn, C_726);
	assert_int_equal(rec->ev->pos.lsn, 0x1531DA0);
	assert_int_equal(rec->xid, 726);
	assert_false(rec->ev->last_in_tx);
	trib_pgrec_free(rec);
	assert_string_equal(drain(r), "update 15321F8:1 1532230\ncommit_prepared 15321F8\n");
	assert_int_equal(files_in(r), 0);
	rig_free(r);
}

/*
 * A prepared transaction on a table with json/jsonb columns: its events
 * carry the plugin's JSON null lists (json_nulls, old_json_nulls), which
 * must come out of the stage as they went in, from memory and from a
 * spill file alike.
 */
static const char *const PREPARED_726_JSON_NULLS[] = {
	BEGIN_PREPARE_726,
	"{\"kind\":\"relation\",\"xid\":726,\"commit_lsn\":\"0/1531E70\",\"ts\":\"2026-12-03T16:38:26.385598Z\",\"lsn\":\"0/1531DA0\",\"relid\":16390,\"schema\":\"public\",\"table\":\"docs\",\"replica_identity\":\"full\",\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"type_oid\":23,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},{\"name\":\"doc\",\"type\":\"jsonb\",\"type_oid\":3802,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":true},{\"name\":\"tags\",\"type\":\"jsonb[]\",\"type_oid\":3807,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":true}],\"primary_key\":[\"id\"],\"identity_key\":[\"id\",\"doc\",\"tags\"]}",
	"{\"kind\":\"insert\",\"xid\":726,\"commit_lsn\":\"0/1531E70\",\"ts\":\"2026-12-03T16:38:26.385598Z\",\"lsn\":\"0/1531DA0\",\"seq\":0,\"schema\":\"public\",\"table\":\"docs\",\"new\":{\"id\":1,\"doc\":null,\"tags\":[null,{\"a\":1},null]},\"json_nulls\":[\"doc\",[\"tags\",2]]}",
	"{\"kind\":\"update\",\"xid\":726,\"commit_lsn\":\"0/1531E70\",\"ts\":\"2026-12-03T16:38:26.385598Z\",\"lsn\":\"0/1531E20\",\"seq\":1,\"schema\":\"public\",\"table\":\"docs\",\"old\":{\"id\":1,\"doc\":null,\"tags\":[null,{\"a\":1},null]},\"new\":{\"id\":1,\"doc\":{\"a\":1},\"tags\":[null]},\"json_nulls\":[[\"tags\",0]],\"old_json_nulls\":[\"doc\",[\"tags\",2]]}",
	PREPARE_726,
	NULL
};

/* Pop the next event of a delivered transaction (skipping the relation
 * and begin_prepare records before it). */
static trib_pgrec *
pop_event(rig *r)
{
	trib_pgrec *rec;

	for (;;)
	{
		assert_int_equal(trib_pgprep_pop(r->h, &rec, r->err, sizeof(r->err)), 1);
		if (rec->ev)
			return rec;
		trib_pgrec_free(rec);
	}
}

static void
test_json_null_lists_survive_holding(void **state)
{
	/* a budget that holds everything, and one that spills every event */
	size_t		budgets[] = {1 << 20, 1};

	(void) state;
	for (size_t i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++)
	{
		rig		   *r = rig_new(budgets[i]);
		trib_pgrec *rec;

		feed_all(r, PREPARED_726_JSON_NULLS);
		assert_int_equal(files_in(r), budgets[i] == 1 ? 1 : 0);
		assert_true(feed(r, COMMIT_PREPARED_726));
		rec = pop_event(r);
		assert_int_equal(rec->ev->op, TRIB_OP_CREATE);
		assert_non_null(rec->ev->after_json_nulls);
		assert_string_equal(rec->ev->after_json_nulls, "[\"doc\",[\"tags\",2]]");
		assert_null(rec->ev->before_json_nulls);
		trib_pgrec_free(rec);
		rec = pop_event(r);
		assert_int_equal(rec->ev->op, TRIB_OP_UPDATE);
		assert_non_null(rec->ev->after_json_nulls);
		assert_non_null(rec->ev->before_json_nulls);
		assert_string_equal(rec->ev->after_json_nulls, "[[\"tags\",0]]");
		assert_string_equal(rec->ev->before_json_nulls, "[\"doc\",[\"tags\",2]]");
		trib_pgrec_free(rec);
		assert_string_equal(drain(r), "commit_prepared 15321F8\n");
		rig_free(r);
	}
}

/* After a restart the server sends again what was delivered: the resume
 * point drops it, in a prepared transaction too, seq by seq. */
static void
test_resume_filter(void **state)
{
	rig		   *r = rig_new(1 << 20);

	(void) state;
	trib_pgprep_set_resume(r->h, C_726, 0);
	feed_all(r, PREPARED_726);
	feed_all(r, TX_728);
	assert_true(feed(r, COMMIT_PREPARED_726));
	assert_string_equal(drain(r), "relation 1531E70\nbegin_prepare 15321F8\n"
						"update 15321F8:1 1532230\ncommit_prepared 15321F8\n");
	rig_free(r);

	r = rig_new(1);
	trib_pgprep_set_resume(r->h, C_726, TRIB_SEQ_ALL);
	feed_all(r, PREPARED_726);
	assert_true(feed(r, COMMIT_PREPARED_726));
	assert_string_equal(drain(r), "relation 1531E70\n");
	rig_free(r);
}

/* A lost connection drops what is held (the server sends it again) but
 * not what is being delivered. */
static void
test_reset_keeps_what_is_being_delivered(void **state)
{
	rig		   *r = rig_new(1 << 20);
	static const char *const g2[] = {BEGIN_PREPARE_727, INSERT_727, PREPARE_727, NULL};
	uint64_t	floor;

	(void) state;
	feed_all(r, PREPARED_726);
	assert_true(feed(r, COMMIT_PREPARED_726));
	feed_all(r, g2);
	trib_pgprep_reset(r->h);
	assert_true(trib_pgprep_floor(r->h, &floor));
	assert_int_equal(floor, P_726);
	/* sent again after the reconnection: held again, then dropped */
	feed_all(r, PREPARED_726);
	assert_true(feed(r, COMMIT_PREPARED_726));
	feed_all(r, g2);
	assert_true(feed(r, ROLLBACK_PREPARED_727));
	assert_string_equal(drain(r), "relation 1531E70\nbegin_prepare 15321F8\n"
						"insert 15321F8:0 0\nupdate 15321F8:1 1532230\ncommit_prepared 15321F8\n"
						"relation 1531E70\nrollback_prepared 1532230\n");
	assert_false(trib_pgprep_floor(r->h, &floor));
	rig_free(r);
}

/* A lost connection keeps what is held, and its floor, until the server
 * sends it again; the copy replaces it. */
static void
test_reset_keeps_the_floor_until_sent_again(void **state)
{
	rig		   *r = rig_new(1 << 20);
	static const char *const g2[] = {BEGIN_PREPARE_727, INSERT_727, PREPARE_727, NULL};
	uint64_t	floor = 0;
	trib_pgprep_stats st;

	(void) state;
	feed_all(r, g2);
	assert_true(feed(r, BEGIN_PREPARE_726));	/* 726: its prepare never comes */
	trib_pgprep_reset(r->h);
	assert_true(trib_pgprep_floor(r->h, &floor));
	assert_int_equal(floor, P_726);
	feed_all(r, PREPARED_726);
	feed_all(r, g2);
	trib_pgprep_stats_get(r->h, &st);
	assert_int_equal(st.held, 2);
	assert_true(feed(r, COMMIT_PREPARED_726));
	assert_true(feed(r, ROLLBACK_PREPARED_727));
	assert_string_equal(drain(r), "relation 1531E70\nbegin_prepare 15321F8\n"
						"insert 15321F8:0 0\nupdate 15321F8:1 1532230\ncommit_prepared 15321F8\n"
						"rollback_prepared 1532230\n");
	assert_false(trib_pgprep_floor(r->h, &floor));
	rig_free(r);
}

/* What warn() was told. */
static char warned[512];

static void
collect_warning(const char *msg, void *arg)
{
	(void) arg;
	snprintf(warned, sizeof(warned), "%s", msg);
}

/*
 * COMMIT PREPARED alone: after a restart, when the slot was kept between
 * its PREPARE and its COMMIT PREPARED by another prepared transaction, for
 * one delivered before (covered by the resume point: dropped silently);
 * otherwise a warning, and it passes as an empty transaction.
 */
static void
test_commit_prepared_alone(void **state)
{
	rig		   *r = rig_new(1 << 20);
	trib_pgprep_conf c = {r->dir, "tributary.p.s.", 1 << 20, collect_warning, NULL};
	trib_pgprep_stats st;

	(void) state;
	trib_pgprep_free(r->h);
	r->h = trib_pgprep_new(&c);
	warned[0] = '\0';
	trib_pgprep_set_resume(r->h, C_726, 1);	/* its last event was durable */
	assert_true(feed(r, COMMIT_PREPARED_726));
	assert_string_equal(drain(r), "");
	assert_string_equal(warned, "");

	trib_pgprep_set_resume(r->h, 0x1531000, TRIB_SEQ_ALL);
	assert_true(feed(r, COMMIT_PREPARED_726));
	assert_string_equal(drain(r), "commit_prepared 15321F8\n");
	assert_non_null(strstr(warned, "COMMIT PREPARED of transaction 726 (gid \"g1\") at "
						   "0/15321F8 came without its changes"));
	trib_pgprep_stats_get(r->h, &st);
	assert_int_equal(st.without_changes, 1);
	rig_free(r);
}

/* A streamed prepared transaction is held like one decoded at PREPARE. */
static void
test_stream_prepare_is_held(void **state)
{
	rig		   *r = rig_new(1 << 20);
	static const char *const streamed[] = {
		"{\"kind\":\"stream_start\",\"xid\":726,\"first\":true}",
		REL_T,
		"{\"kind\":\"insert\",\"xid\":726,\"lsn\":\"0/1531DA0\",\"seq\":0,\"schema\":\"public\",\"table\":\"t\",\"new\":{\"id\":2,\"v\":5}}",
		"{\"kind\":\"update\",\"xid\":726,\"lsn\":\"0/1531E20\",\"seq\":1,\"schema\":\"public\",\"table\":\"t\",\"old\":null,\"new\":{\"id\":1,\"v\":0}}",
		"{\"kind\":\"stream_stop\",\"xid\":726}",
		"{\"kind\":\"stream_prepare\",\"xid\":726,\"commit_lsn\":\"0/1531E70\",\"ts\":\"2026-12-03T16:38:26.385598Z\",\"end_lsn\":\"0/1531F98\",\"changes\":2,\"gid\":\"g1\"}",
		NULL
	};
	uint64_t	floor;

	(void) state;
	feed_all(r, streamed);
	feed_all(r, TX_728);
	assert_true(trib_pgprep_floor(r->h, &floor));
	assert_int_equal(floor, P_726);
	assert_true(feed(r, COMMIT_PREPARED_726));
	assert_string_equal(drain(r), "relation 1531E70\nbegin 15321C8\ninsert 15321C8:0 15321F8\n"
						"commit 15321C8\nbegin_prepare 15321F8\ninsert 15321F8:0 0\n"
						"update 15321F8:1 1532230\ncommit_prepared 15321F8\n");
	rig_free(r);
}

/* clean() removes what a killed process left: our prefix, regular files
 * of this user, nothing else. */
static void
test_clean_removes_leftovers_only(void **state)
{
	rig		   *r = rig_new(1);
	trib_pgprep_conf c = {.spill_dir = r->dir, .spill_prefix = "tributary.p.s."};
	char		path[128];
	FILE	   *f;

	(void) state;
	feed_all(r, PREPARED_726);	/* one spill file of ours */
	snprintf(path, sizeof(path), "%s/tributary.p.other.1", r->dir);
	f = fopen(path, "w");
	fclose(f);
	snprintf(path, sizeof(path), "%s/tributary.p.s.dir", r->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(trib_pgprep_clean(&c, r->err, sizeof(r->err)), 1);
	assert_int_equal(files_in(r), 2);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/tributary.p.other.1", r->dir);
	unlink(path);
	c.spill_dir = "/nonexistent/dir";
	assert_int_equal(trib_pgprep_clean(&c, r->err, sizeof(r->err)), -1);
	assert_non_null(strstr(r->err, "spill directory /nonexistent/dir"));
	rig_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_prepared_delivers_with_commit_ids),
		cmocka_unit_test(test_commit_prepared_carries_prepare_lsn),
		cmocka_unit_test(test_rollback_prepared_drops_it),
		cmocka_unit_test(test_spills_past_the_budget),
		cmocka_unit_test(test_json_null_lists_survive_holding),
		cmocka_unit_test(test_resume_filter),
		cmocka_unit_test(test_reset_keeps_what_is_being_delivered),
		cmocka_unit_test(test_reset_keeps_the_floor_until_sent_again),
		cmocka_unit_test(test_commit_prepared_alone),
		cmocka_unit_test(test_stream_prepare_is_held),
		cmocka_unit_test(test_clean_removes_leftovers_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
