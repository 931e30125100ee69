/*
 * test_checkpoint.c: the file checkpoint store keeps a PostgreSQL
 * position in the bytes it always had, although it sees positions only
 * through the source's operations (store_form, parse_id): the event id
 * (commit LSN text and seq), the whole transaction's seq, an opaque
 * position alone, and what is refused.  And the PostgreSQL source's
 * position operations agree with eventid.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "pg_source_conf.h"
#include "source.h"

static const trib_source_ops *ops = &trib_pg_source_ops;

/* A fresh file path in a new temporary directory (malloc'd). */
static char *
temp_path(void)
{
	char		dir[] = "/tmp/tribckptXXXXXX";
	char	   *path;

	assert_non_null(mkdtemp(dir));
	path = malloc(strlen(dir) + 16);
	assert_non_null(path);
	sprintf(path, "%s/ckpt.json", dir);
	return path;
}

/* The file's whole text (malloc'd). */
static char *
slurp(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = calloc(1, 4096);

	assert_non_null(f);
	assert_non_null(buf);
	assert_true(fread(buf, 1, 4095, f) > 0);
	fclose(f);
	return buf;
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

/* Save pos, compare the file with `expected`, load it back into *out. */
static void
round_trip(const trib_position *pos, const char *expected, trib_position *out)
{
	char	   *path = temp_path();
	char		err[256] = "";
	trib_checkpoint *ck = trib_checkpoint_open(TRIB_CKPT_FILE, path, "p", "s", ops,
											   err, sizeof(err));
	char	   *text;

	assert_non_null(ck);
	assert_true(trib_checkpoint_save(ck, pos, err, sizeof(err)));
	text = slurp(path);
	assert_string_equal(text, expected);
	free(text);
	assert_int_equal(trib_checkpoint_load(ck, out, err, sizeof(err)), 1);
	trib_checkpoint_close(ck);
	cleanup(path);
}

static void
an_event_id_is_stored_as_lsn_text_and_seq(void **state)
{
	trib_position pos = {.commit_lsn = 0x16B3748, .seq = 4, .end_lsn = 0x16B3800};
	trib_position back;

	(void) state;
	round_trip(&pos, "{\"pipeline\":\"p\",\"source\":\"s\",\"commit_lsn\":\"0/16B3748\","
			   "\"seq\":4,\"position\":null}\n", &back);
	assert_int_equal(ops->compare(&pos, &back), 0);
	assert_null(back.opaque);
}

static void
a_whole_transaction_keeps_its_seq(void **state)
{
	trib_position pos = {.commit_lsn = 0x100000002ULL, .seq = TRIB_SEQ_ALL};
	trib_position back;

	(void) state;
	round_trip(&pos, "{\"pipeline\":\"p\",\"source\":\"s\",\"commit_lsn\":\"1/2\","
			   "\"seq\":9223372036854775807,\"position\":null}\n", &back);
	assert_int_equal(ops->compare(&pos, &back), 0);
}

static void
an_opaque_position_alone_has_no_lsn(void **state)
{
	trib_position pos = {.opaque = "{\"table\":\"public.t\",\"rows\":10}"};
	trib_position back;

	(void) state;
	round_trip(&pos, "{\"pipeline\":\"p\",\"source\":\"s\",\"position\":"
			   "{\"table\":\"public.t\",\"rows\":10}}\n", &back);
	assert_int_equal(back.commit_lsn, 0);
	assert_string_equal(back.opaque, "{\"table\":\"public.t\",\"rows\":10}");
	free(back.opaque);
}

static void
no_position_is_refused(void **state)
{
	char	   *path = temp_path();
	char		err[256] = "";
	trib_checkpoint *ck = trib_checkpoint_open(TRIB_CKPT_FILE, path, "p", "s", ops,
											   err, sizeof(err));
	trib_position none = {0};

	(void) state;
	assert_false(trib_checkpoint_save(ck, &none, err, sizeof(err)));
	assert_string_equal(err, "checkpoint: nothing to save (no commit_lsn, no position)");
	assert_int_equal(access(path, F_OK), -1);
	trib_checkpoint_close(ck);
	cleanup(path);
}

static void
pg_position_ops_agree_with_event_ids(void **state)
{
	trib_position pos = {.commit_lsn = 0xABCDEF0123ULL, .seq = 17};
	trib_position back;
	char		id[TRIB_EVENTID_LEN];
	char		key[TRIB_LSN_BUFLEN];
	char		words[128];
	uint64_t	seq;

	(void) state;
	ops->format_id(&pos, id, sizeof(id));
	assert_string_equal(id, "AB/CDEF0123:17");
	assert_true(ops->parse_id(id, &back));
	assert_int_equal(ops->compare(&pos, &back), 0);
	ops->store_form(&pos, key, sizeof(key), &seq);
	assert_string_equal(key, "AB/CDEF0123");
	assert_int_equal(seq, 17);
	assert_true(ops->gauge(&pos) == (double) 0xABCDEF0123ULL);
	ops->describe(&pos, words, sizeof(words));
	assert_string_equal(words, "event AB/CDEF0123:17");
	pos.seq = TRIB_SEQ_ALL;
	ops->describe(&pos, words, sizeof(words));
	assert_string_equal(words, "the transaction committed at AB/CDEF0123");
	assert_true(ops->parse_id("AB/CDEF0123", &back));
	assert_int_equal(back.seq, TRIB_SEQ_ALL);
	assert_false(ops->parse_id("nope", &back));
	pos.commit_lsn = 0;
	ops->store_form(&pos, key, sizeof(key), &seq);
	assert_string_equal(key, "");
}

/*
 * Someone who can write to the checkpoint's directory puts a symbolic link
 * (to a file of the daemon's user) or a FIFO at the temporary file's name:
 * the save neither overwrites the link's target nor waits on the FIFO, and
 * the checkpoint is saved.  (Runs under alarm(): a hang fails.)
 */
static void
a_link_or_fifo_at_the_temporary_name_is_replaced(void **state)
{
	char	   *path = temp_path();
	char		err[256] = "",
				tmp[300],
				victim[300];
	trib_checkpoint *ck = trib_checkpoint_open(TRIB_CKPT_FILE, path, "p", "s", ops,
											   err, sizeof(err));
	trib_position pos = {.commit_lsn = 0x16B3748, .seq = 4},
				back;
	FILE	   *f;
	char	   *text;
	struct stat st;

	(void) state;
	alarm(20);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s.victim", path);
	f = fopen(victim, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	assert_int_equal(chmod(victim, 0644), 0);
	assert_int_equal(symlink(victim, tmp), 0);
	assert_true(trib_checkpoint_save(ck, &pos, err, sizeof(err)));
	text = slurp(victim);
	assert_string_equal(text, "precious\n");
	free(text);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(mkfifo(tmp, 0600), 0);
	pos.seq = 5;
	assert_true(trib_checkpoint_save(ck, &pos, err, sizeof(err)));
	assert_int_equal(trib_checkpoint_load(ck, &back, err, sizeof(err)), 1);
	assert_int_equal(back.seq, 5);
	alarm(0);
	trib_checkpoint_close(ck);
	unlink(victim);
	cleanup(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_event_id_is_stored_as_lsn_text_and_seq),
		cmocka_unit_test(a_whole_transaction_keeps_its_seq),
		cmocka_unit_test(an_opaque_position_alone_has_no_lsn),
		cmocka_unit_test(no_position_is_refused),
		cmocka_unit_test(a_link_or_fifo_at_the_temporary_name_is_replaced),
		cmocka_unit_test(pg_position_ops_agree_with_event_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
