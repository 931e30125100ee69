/*
 * test_merge.c: unit tests of merged positions (pipeline/merge.c), the
 * positions the sinks see in a pipeline with several sources: group
 * numbers and event numbers, the per-source positions in their opaque
 * text, and a sink's floors after a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "merge.h"

/* Two test sources whose positions are (commit_lsn, seq)-ordered, like
 * PostgreSQL's and MySQL's: core's event-id forms. */
static const trib_source_ops t_ops = {
	.type = "test",
	.compare = trib_position_cmp,
	.parse_id = trib_position_parse_id,
	.store_form = trib_position_store_form,
};

static const char *const names[] = {"pg", "my\"sql"};
static const trib_source_ops *const ops[] = {&t_ops, &t_ops};

/* A position (commit_lsn, seq). */
static trib_position
at(uint64_t lsn, uint64_t seq)
{
	trib_position p = {.commit_lsn = lsn, .seq = seq, .end_lsn = lsn};

	return p;
}

/* Source `name`'s position in a merged opaque text, which must name it. */
static trib_position
source_pos(const char *opaque, const char *name)
{
	trib_position p;
	char		err[256];

	if (trib_merge_source_pos(opaque, name, &t_ops, &p, err, sizeof(err)) != 1)
		fail_msg("%s: no position of %s (%s)", opaque, name, err);
	return p;
}

/* A transaction of each source, then events outside one: group numbers
 * increase, event numbers restart per group, END closes it. */
static void
test_groups_order_the_merged_stream(void **state)
{
	trib_merge *m = trib_merge_new(2, names, ops);
	trib_position e1,
				e2,
				end,
				e3,
				e4;
	trib_position p = at(0x100, 0);

	(void) state;
	trib_merge_set_next(m, 7);
	assert_int_equal(trib_merge_open_source(m), -1);
	trib_merge_begin(m, 1);
	assert_int_equal(trib_merge_open_source(m), 1);
	trib_merge_event(m, 1, &p, &e1);
	p.seq = 1;
	trib_merge_event(m, 1, &p, &e2);
	p.seq = TRIB_SEQ_ALL;
	trib_merge_end(m, 1, &p, &end);
	assert_int_equal(trib_merge_open_source(m), -1);
	assert_int_equal(e1.commit_lsn, 7);
	assert_int_equal(e1.seq, 0);
	assert_int_equal(e2.commit_lsn, 7);
	assert_int_equal(e2.seq, 1);
	assert_int_equal(end.commit_lsn, 7);
	assert_true(end.seq == TRIB_SEQ_ALL);
	assert_null(end.opaque);
	assert_true(trib_merge_pos_ops.compare(&e1, &e2) < 0);
	assert_true(trib_merge_pos_ops.compare(&e2, &end) < 0);

	/* an event outside a transaction opens a group of its own source */
	p = at(0x50, 0);
	trib_merge_event(m, 0, &p, &e3);
	assert_int_equal(trib_merge_open_source(m), 0);
	assert_int_equal(e3.commit_lsn, 8);
	assert_int_equal(e3.seq, 0);
	trib_merge_begin(m, 0);		/* its transaction follows: a new group */
	p = at(0x60, 0);
	trib_merge_event(m, 0, &p, &e4);
	assert_int_equal(e4.commit_lsn, 9);
	assert_true(trib_merge_pos_ops.compare(&e3, &e4) < 0);
	free(e1.opaque);
	free(e2.opaque);
	free(e3.opaque);
	free(e4.opaque);
	trib_merge_free(m);
}

/* A source silent inside its transaction gives up the floor: the group
 * closes without an END, the other source's transaction takes the next
 * group, and the rest of the suspended transaction follows in a later
 * group; merged positions still increase in the order handed out, and
 * each event's opaque text names both sources' positions. */
static void
test_suspended_group_continues_later(void **state)
{
	trib_merge *m = trib_merge_new(2, names, ops);
	trib_position my1,
				pg1,
				pgend,
				my2,
				myend;
	trib_position p;

	(void) state;
	trib_merge_suspend(m);		/* nothing open: no effect */
	assert_int_equal(trib_merge_open_source(m), -1);
	trib_merge_begin(m, 1);
	p = at(0x900, 0);
	trib_merge_event(m, 1, &p, &my1);
	trib_merge_suspend(m);
	assert_int_equal(trib_merge_open_source(m), -1);

	trib_merge_begin(m, 0);
	p = at(0x100, 0);
	trib_merge_event(m, 0, &p, &pg1);
	p.seq = TRIB_SEQ_ALL;
	trib_merge_end(m, 0, &p, &pgend);
	assert_int_equal(trib_merge_open_source(m), -1);

	/* the source is back: its next event, with no BEGIN, opens a group */
	p = at(0x900, 1);
	trib_merge_event(m, 1, &p, &my2);
	assert_int_equal(trib_merge_open_source(m), 1);
	p.seq = TRIB_SEQ_ALL;
	trib_merge_end(m, 1, &p, &myend);
	assert_int_equal(trib_merge_open_source(m), -1);

	assert_int_equal(my1.commit_lsn, 1);
	assert_int_equal(pg1.commit_lsn, 2);
	assert_int_equal(my2.commit_lsn, 3);
	assert_int_equal(my2.seq, 0);
	assert_int_equal(myend.commit_lsn, 3);
	assert_true(trib_merge_pos_ops.compare(&my1, &pg1) < 0);
	assert_true(trib_merge_pos_ops.compare(&pgend, &my2) < 0);
	assert_true(trib_merge_pos_ops.compare(&my2, &myend) < 0);
	/* the PostgreSQL event's text keeps MySQL's position mid-transaction,
	 * the later event's both */
	p = source_pos(pg1.opaque, "my\"sql");
	assert_int_equal(p.commit_lsn, 0x900);
	assert_int_equal(p.seq, 0);
	p = source_pos(my2.opaque, "pg");
	assert_int_equal(p.commit_lsn, 0x100);
	assert_true(p.seq == TRIB_SEQ_ALL);
	p = source_pos(my2.opaque, "my\"sql");
	assert_int_equal(p.seq, 1);
	free(my1.opaque);
	free(pg1.opaque);
	free(my2.opaque);
	trib_merge_free(m);
}

/* The opaque text names each source's last position, read back with its
 * operations; a source it does not name, and a text of a pipeline with
 * one source, are told apart. */
static void
test_opaque_names_every_source_position(void **state)
{
	trib_merge *m = trib_merge_new(2, names, ops);
	trib_position seed = at(0x10, TRIB_SEQ_ALL);
	trib_position p = at(0x2000, 3),
				e,
				q;
	char		err[256];

	(void) state;
	trib_merge_seed(m, 0, &seed);
	trib_merge_event(m, 1, &p, &e);
	q = source_pos(e.opaque, "pg");
	assert_int_equal(q.commit_lsn, 0x10);
	assert_true(q.seq == TRIB_SEQ_ALL);
	q = source_pos(e.opaque, "my\"sql");
	assert_int_equal(q.commit_lsn, 0x2000);
	assert_int_equal(q.seq, 3);
	assert_int_equal(trib_merge_source_pos(e.opaque, "other", &t_ops, &q, err, sizeof(err)), 0);
	assert_int_equal(trib_merge_source_pos("{\"file\":\"x\"}", "pg", &t_ops, &q, err,
										   sizeof(err)), -1);
	assert_non_null(strstr(err, "one source"));
	assert_int_equal(trib_merge_source_pos(NULL, "pg", &t_ops, &q, err, sizeof(err)), -1);
	free(e.opaque);

	/* the END of a transaction moves its source's entry to the END */
	p.seq = TRIB_SEQ_ALL;
	trib_merge_end(m, 1, &p, &q);
	p = at(0x30, 0);
	trib_merge_event(m, 0, &p, &e);
	q = source_pos(e.opaque, "my\"sql");
	assert_true(q.seq == TRIB_SEQ_ALL);
	free(e.opaque);
	trib_merge_free(m);
}

/* A sink that has more of a source than where it resumes keeps its own
 * entry until the source passes it. */
static void
test_floor_until_the_source_passes_it(void **state)
{
	trib_merge *m = trib_merge_new(2, names, ops);
	bool		has_floor[2] = {false, true};
	trib_position floor[2] = {at(0, 0), at(0x500, 2)};
	trib_position p = at(0x400, 0),
				e,
				q;
	char	   *text;

	(void) state;
	trib_merge_event(m, 1, &p, &e);
	text = trib_merge_vector(m, has_floor, floor);
	q = source_pos(text, "my\"sql");
	assert_int_equal(q.commit_lsn, 0x500);	/* the floor, not 0x400 */
	assert_int_equal(q.seq, 2);
	q = source_pos(e.opaque, "my\"sql");
	assert_int_equal(q.commit_lsn, 0x400);	/* the plain text */
	free(text);
	free(e.opaque);
	p = at(0x600, 0);
	trib_merge_event(m, 1, &p, &e);
	text = trib_merge_vector(m, has_floor, floor);
	q = source_pos(text, "my\"sql");
	assert_int_equal(q.commit_lsn, 0x600);	/* passed */
	assert_int_equal(trib_merge_source_pos(text, "pg", &t_ops, &q, NULL, 0), 0);
	free(text);
	free(e.opaque);
	trib_merge_free(m);
}

/* A source that resumes by its opaque position (MongoDB's token) has
 * that text beside its entry, the floor's while the floor stands, and
 * gets it back; the others get none. */
static void
test_resume_opaque_source_keeps_its_text(void **state)
{
	static const trib_source_ops tok_ops = {
		.type = "tok",
		.resume_opaque = true,
		.compare = trib_position_cmp,
		.parse_id = trib_position_parse_id,
		.store_form = trib_position_store_form,
	};
	static const char *const tnames[] = {"pg", "mongo"};
	static const trib_source_ops *const tops[] = {&t_ops, &tok_ops};
	trib_merge *m = trib_merge_new(2, tnames, tops);
	bool		has_floor[2] = {false, true};
	trib_position floor[2] = {at(0, 0), at(0x500, 2)};
	trib_position p = at(0x400, 1),
				e,
				q;
	char		err[256];
	char	   *text;

	(void) state;
	floor[1].opaque = "{\"token\":{\"_data\":\"F\"}}";
	p.opaque = "{\"token\":{\"_data\":\"A\"},\"source\":{\"rs\":\"rs0\"}}";
	trib_merge_event(m, 1, &p, &e);
	p = at(0x300, TRIB_SEQ_ALL);
	trib_merge_end(m, 0, &p, &q);
	assert_int_equal(trib_merge_source_pos(e.opaque, "mongo", &tok_ops, &q, err, sizeof(err)),
					 1);
	assert_int_equal(q.commit_lsn, 0x400);
	assert_int_equal(q.seq, 1);
	assert_string_equal(q.opaque, "{\"token\":{\"_data\":\"A\"},\"source\":{\"rs\":\"rs0\"}}");
	free(q.opaque);
	assert_int_equal(trib_merge_source_pos(e.opaque, "pg", &t_ops, &q, err, sizeof(err)), 0);
	text = trib_merge_vector(m, has_floor, floor);
	assert_int_equal(trib_merge_source_pos(text, "mongo", &tok_ops, &q, err, sizeof(err)), 1);
	assert_int_equal(q.commit_lsn, 0x500);	/* the floor's, with its text */
	assert_string_equal(q.opaque, "{\"token\":{\"_data\":\"F\"}}");
	free(q.opaque);
	assert_int_equal(trib_merge_source_pos(text, "pg", &t_ops, &q, err, sizeof(err)), 1);
	assert_null(q.opaque);
	free(text);
	free(e.opaque);
	trib_merge_free(m);
}

/* A merged position's text is told from a source's own opaque position
 * (MySQL's has a "source" member, not "sources"). */
static void
test_merged_text_is_recognised(void **state)
{
	(void) state;
	assert_true(trib_merge_is_merged("{\"sources\":{\"pg\":\"0/10:1\"}}"));
	assert_true(trib_merge_is_merged("{\"sources\":{}}"));
	assert_false(trib_merge_is_merged(NULL));
	assert_false(trib_merge_is_merged("{\"id\":\"x\",\"source\":{\"server_id\":1}}"));
	assert_false(trib_merge_is_merged("{\"sources\":\"x\"}"));
	assert_false(trib_merge_is_merged("\"sources\""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_order_the_merged_stream),
		cmocka_unit_test(test_suspended_group_continues_later),
		cmocka_unit_test(test_opaque_names_every_source_position),
		cmocka_unit_test(test_floor_until_the_source_passes_it),
		cmocka_unit_test(test_merged_text_is_recognised),
		cmocka_unit_test(test_resume_opaque_source_keeps_its_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
