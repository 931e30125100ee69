/*
 * test_ckpt_writer.c: the checkpoint saved on the writer thread
 * (pipeline/ckpt_writer.c) into a real file store: a save is reported
 * once and only once it is on disk, a second offer waits for the first
 * result, a failed save reports the store's message, and freeing the
 * writer finishes the save in flight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "ckpt_writer.h"
#include "pg_source_conf.h"
#include "source.h"

static const trib_source_ops *ops = &trib_pg_source_ops;

/* A fresh directory and the checkpoint path in it (caller frees). */
static char *
temp_path(void)
{
	char		dir[] = "/tmp/trib_ckw_XXXXXX";
	char	   *path = malloc(64);

	assert_non_null(mkdtemp(dir));
	snprintf(path, 64, "%s/ckpt.json", dir);
	return path;
}

/* Remove the file and its directory. */
static void
cleanup(char *path)
{
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	free(path);
}

/* Wait for the writer's result (at most 10 s). */
static int
result(trib_ckpt_writer *w, trib_position *saved, char *err, size_t errlen)
{
	int			r = 0;

	for (int i = 0; i < 10000 && r == 0; i++)
	{
		trib_ckpt_writer_wait(w);
		r = trib_ckpt_writer_done(w, saved, err, errlen);
	}
	return r;
}

/* Offered, saved on the thread, reported once, loadable from the store. */
static void
a_save_is_reported_once_and_on_disk(void **state)
{
	char	   *path = temp_path();
	char		err[256] = "";
	trib_checkpoint *ck = trib_checkpoint_open(TRIB_CKPT_FILE, path, "p", "s", ops,
											   err, sizeof(err));
	trib_ckpt_writer *w;
	trib_position pos = {.commit_lsn = 0x16B3748, .seq = 4, .opaque = "{\"a\":1}"};
	trib_position saved = {0},
				back = {0};

	(void) state;
	assert_non_null(ck);
	w = trib_ckpt_writer_new(ck, err, sizeof(err));
	assert_non_null(w);
	assert_false(trib_ckpt_writer_busy(w));
	assert_int_equal(trib_ckpt_writer_done(w, &saved, err, sizeof(err)), 0);
	assert_true(trib_ckpt_writer_offer(w, &pos));
	assert_true(trib_ckpt_writer_busy(w));
	/* one at a time: the next offer waits for the first result */
	pos.seq = 5;
	assert_false(trib_ckpt_writer_offer(w, &pos));
	assert_int_equal(result(w, &saved, err, sizeof(err)), 1);
	assert_int_equal(saved.seq, 4);
	assert_string_equal(saved.opaque, "{\"a\":1}");
	assert_ptr_not_equal(saved.opaque, pos.opaque);	/* the writer's copy */
	assert_int_equal(trib_ckpt_writer_done(w, &back, err, sizeof(err)), 0);
	assert_false(trib_ckpt_writer_busy(w));
	assert_int_equal(trib_checkpoint_load(ck, &back, err, sizeof(err)), 1);
	assert_int_equal(ops->compare(&back, &saved), 0);
	free(back.opaque);
	/* the next one goes, and freeing the writer lets it finish */
	assert_true(trib_ckpt_writer_offer(w, &pos));
	trib_ckpt_writer_free(w);
	assert_int_equal(trib_checkpoint_load(ck, &back, err, sizeof(err)), 1);
	assert_int_equal(back.seq, 5);
	free(back.opaque);
	trib_checkpoint_close(ck);
	cleanup(path);
}

/* A store that cannot write: the result is the store's message. */
static void
a_failed_save_reports_its_message(void **state)
{
	char	   *path = temp_path();
	char		err[256] = "";
	trib_checkpoint *ck;
	trib_ckpt_writer *w;
	trib_position pos = {.commit_lsn = 0x10, .seq = 1};
	trib_position saved = {0};

	(void) state;
	ck = trib_checkpoint_open(TRIB_CKPT_FILE, path, "p", "s", ops, err, sizeof(err));
	assert_non_null(ck);
	/* the directory disappears under the store */
	*strrchr(path, '/') = '\0';
	assert_int_equal(rmdir(path), 0);
	w = trib_ckpt_writer_new(ck, err, sizeof(err));
	assert_non_null(w);
	assert_true(trib_ckpt_writer_offer(w, &pos));
	assert_int_equal(result(w, &saved, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ckpt.json"));
	trib_ckpt_writer_free(w);
	trib_checkpoint_close(ck);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_save_is_reported_once_and_on_disk),
		cmocka_unit_test(a_failed_save_reports_its_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
