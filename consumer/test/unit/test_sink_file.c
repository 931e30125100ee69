/*
 * test_sink_file.c: the file and stdout sinks: JSON Lines, rotation, the
 * position sidecar, and exactly-once across restarts and crashes.
 *
 * Crashes are real: a forked child writes through the sink and leaves with
 * _exit() without flushing or closing, so whatever reached the file after
 * the last flush is exactly what a killed process leaves behind.  The
 * parent then reopens the sink and checks that the file holds every
 * durable event once and nothing else.
 *
 * rewind (a resumed snapshot, sink.h): the file is cut back to the end of
 * the last line of the ids a checkpoint counts, across rotated segments,
 * from the id map `path.ids`, also after a crash in the middle of a cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "check_report.h"
#include "config.h"
#include "envelope.h"
#include "event.h"
#include "keys.h"
#include "log.h"
#include "sink.h"
#include "sink_file.h"
#include "sinks.h"
#include "strbuf.h"

static char dir[256];

/* What acks the sink gave. */
typedef struct acks
{
	int			n;
	trib_position last;
} acks;

static void
on_ack(trib_sink *sink, const trib_position *pos, void *arg)
{
	acks	   *a = arg;

	(void) sink;
	a->n++;
	a->last = *pos;
}

/* Event i: an insert into public.t at commit 0/(1000 + i * 100), seq i % 3. */
static trib_event *
mkev(int i)
{
	trib_event *ev = trib_event_new();
	char		buf[128];

	ev->op = TRIB_OP_CREATE;
	ev->source = "pg1";
	ev->connector = "postgresql";
	ev->db = "shop";
	ev->schema = "public";
	ev->table = "t";
	snprintf(buf, sizeof(buf), "{\"id\":%d,\"v\":\"value %d\"}", i, i);
	ev->after = strdup(buf);
	snprintf(buf, sizeof(buf), "{\"id\":%d}", i);
	ev->key = strdup(buf);
	ev->txid = 700 + (uint64_t) i;
	ev->ts_ms = 1700000000000LL + i;
	ev->pos.commit_lsn = 0x1000 + (uint64_t) i * 0x100;
	ev->pos.seq = (uint64_t) (i % 3);
	ev->pos.lsn = ev->pos.commit_lsn - 0x10;
	ev->last_in_tx = true;
	return ev;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return remove(path);
}

static int
setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/test_sink_file.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void) state;
	return nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/name */
static char *
path_of(const char *name)
{
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "%s/%s", dir, name);
	return trib_strbuf_finish(&b);
}

/* Whole file as a string ("" when missing). */
static char *
slurp(const char *path)
{
	FILE	   *f = fopen(path, "r");
	trib_strbuf b = {0};
	char		buf[4096];
	size_t		n;

	trib_strbuf_add(&b, "", 0);
	if (!f)
		return trib_strbuf_finish(&b);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		trib_strbuf_add(&b, buf, n);
	fclose(f);
	return trib_strbuf_finish(&b);
}

static int
count_lines(const char *s)
{
	int			n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Open a file sink on dir/name. */
static void
open_file(trib_sink *sink, acks *a, const char *name, int64_t rotate, size_t buffer)
{
	trib_filesink_opts o;
	char		err[512];
	char	   *p = path_of(name);

	memset(sink, 0, sizeof(*sink));
	sink->name = "file";
	sink->ack = on_ack;
	sink->ack_arg = a;
	trib_filesink_opts_init(&o);
	o.path = p;
	o.rotate_bytes = rotate;
	o.buffer_bytes = buffer;
	if (!trib_filesink_open_opts(sink, &o, err, sizeof(err)))
	{
		print_message("open: %s\n", err);
		fail();
	}
	free(p);
}

/* Write events first..last (inclusive). */
static void
write_range(trib_sink *sink, int first, int last)
{
	char		err[512];
	int			i;

	for (i = first; i <= last; i++)
	{
		trib_event *ev = mkev(i);

		if (!sink->ops->write(sink, ev, err, sizeof(err)))
		{
			print_message("write %d: %s\n", i, err);
			fail();
		}
		trib_event_free(ev);
	}
}

static void
flush(trib_sink *sink)
{
	char		err[512];

	assert_true(sink->ops->flush(sink, 1000, err, sizeof(err)));
}

/* The "id" values of the after images of the lines in text, as "1,2,3". */
static char *
ids_of(const char *text)
{
	trib_strbuf out = {0};
	const char *line = text;

	trib_strbuf_add(&out, "", 0);
	while (*line)
	{
		const char *nl = strchr(line, '\n');
		char	   *copy = strndup(line, (size_t) (nl - line));
		char		yerr[128];
		yajl_val	root = yajl_tree_parse(copy, yerr, sizeof(yerr));
		const char *p[] = {"value", "after", "id", NULL};
		const char *tp[] = {"topic", NULL};
		yajl_val	id;

		assert_non_null(nl);
		if (!root)
		{
			print_message("not JSON: %s (%s)\n", copy, yerr);
			fail();
		}
		assert_non_null(yajl_tree_get(root, tp, yajl_t_string));
		id = yajl_tree_get(root, p, yajl_t_number);
		assert_non_null(id);
		trib_strbuf_printf(&out, "%s%lld", out.len ? "," : "", YAJL_GET_INTEGER(id));
		yajl_tree_free(root);
		free(copy);
		line = nl + 1;
	}
	return trib_strbuf_finish(&out);
}

/* "1,2,...,n" */
static char *
seq_ids(int first, int last)
{
	trib_strbuf out = {0};
	int			i;

	trib_strbuf_add(&out, "", 0);
	for (i = first; i <= last; i++)
		trib_strbuf_printf(&out, "%s%d", i > first ? "," : "", i);
	return trib_strbuf_finish(&out);
}

/* Assert that the ids in the text are exactly first..last. */
static void
assert_ids(const char *text, int first, int last)
{
	char	   *got = ids_of(text);
	char	   *want = seq_ids(first, last);

	if (strcmp(got, want) != 0)
	{
		print_message("expected ids [%s], got [%s]\n", want, got);
		fail();
	}
	free(got);
	free(want);
}

static void
test_lines_are_json_records(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	char	   *p = path_of("out.jsonl"),
			   *text;
	trib_position pos;
	char		err[256];

	(void) state;
	open_file(&sink, &a, "out.jsonl", 0, 0);
	assert_false(sink.ops->durable_position(&sink, &pos, err, sizeof(err)));
	write_range(&sink, 1, 3);
	assert_int_equal(a.n, 0);
	flush(&sink);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.last.commit_lsn, 0x1000 + 3 * 0x100);
	assert_int_equal(a.last.seq, 0);
	text = slurp(p);
	assert_int_equal(count_lines(text), 3);
	assert_ids(text, 1, 3);
	assert_true(strncmp(text, "{\"topic\":\"tributary.public.t\",\"key\":{\"id\":1},\"value\":{", 50) == 0);
	assert_non_null(strstr(text, "\"op\":\"c\""));
	/* a flush with nothing new acks nothing */
	flush(&sink);
	assert_int_equal(a.n, 1);
	sink.ops->close(&sink);
	free(text);
	free(p);
}

static void
test_sidecar_and_restart_skip(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	char	   *p = path_of("r.jsonl"),
			   *pp = trib_filesink_pos_path(p),
			   *text;
	trib_position pos;
	trib_filesink_stats st;
	char		err[256];
	struct stat sb;

	(void) state;
	open_file(&sink, &a, "r.jsonl", 0, 0);
	write_range(&sink, 1, 5);
	sink.ops->close(&sink);		/* close flushes */
	assert_int_equal(a.n, 1);
	text = slurp(pp);
	assert_int_equal(stat(p, &sb), 0);
	{
		char		expect[256];

		snprintf(expect, sizeof(expect), "{\"segment\":1,\"offset\":%lld,\"commit_lsn\":\"0/1500\","
				 "\"seq\":2,\"end_lsn\":\"0/0\",\"lsn\":\"0/14F0\"}\n", (long long) sb.st_size);
		assert_string_equal(text, expect);
	}
	free(text);

	/* restart: the stored position comes back, the same events are skipped */
	open_file(&sink, &a, "r.jsonl", 0, 0);
	assert_true(sink.ops->durable_position(&sink, &pos, err, sizeof(err)));
	assert_int_equal(pos.commit_lsn, 0x1500);
	assert_int_equal(pos.seq, 2);
	write_range(&sink, 1, 8);
	flush(&sink);
	trib_filesink_get_stats(&sink, &st);
	assert_int_equal(st.skipped, 5);
	assert_int_equal(st.events, 3);
	sink.ops->close(&sink);
	text = slurp(p);
	assert_ids(text, 1, 8);
	free(text);
	free(pp);
	free(p);
}

/* ---- a sealed sidecar (checkpoint.encryption_key) ---------------------- */

#define SEAL_KEY_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define SEAL_KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define SEAL_TOKEN "{\"_data\":\"8265F0\",\"_id\":\"alice@example.com\"}"

/* A sealing key from hex text, NULL for NULL. */
static trib_key *
seal_key(const char *hex)
{
	char		err[256];
	trib_key   *k;

	if (hex == NULL)
		return NULL;
	k = trib_key_parse(hex, strlen(hex), TRIB_KEY_HEX, "test key", err, sizeof(err));
	assert_non_null(k);
	return k;
}

/* Open a file sink of pipeline p1 on dir/name with this sealing key:
 * true, or false with err. */
static bool
open_keyed(trib_sink *sink, acks *a, const char *name, trib_key *key, char *err, size_t errlen)
{
	trib_filesink_opts o;
	char	   *p = path_of(name);
	bool		ok;

	memset(sink, 0, sizeof(*sink));
	sink->name = "out";
	sink->pipeline = "p1";
	sink->ack = on_ack;
	sink->ack_arg = a;
	sink->seal_key = key;
	trib_filesink_opts_init(&o);
	o.path = p;
	ok = trib_filesink_open_opts(sink, &o, err, errlen);
	free(p);
	return ok;
}

/* Write event i with the opaque position SEAL_TOKEN, flush. */
static void
write_tokened(trib_sink *sink, int i)
{
	char		err[512];
	trib_event *ev = mkev(i);

	ev->pos.opaque = strdup(SEAL_TOKEN);
	if (!sink->ops->write(sink, ev, err, sizeof(err)))
		fail_msg("write %d: %s", i, err);
	trib_event_free(ev);
	flush(sink);
}

/*
 * With a key the sidecar's opaque is sealed (no token, no _id in clear)
 * and opens with the same key; another key or none fails open() naming
 * pipeline, sink and file, leaving the sidecar as it was; a clear sidecar
 * from before the key is read and sealed at the next write.
 */
static void
test_sealed_sidecar(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	trib_key   *ka = seal_key(SEAL_KEY_A),
			   *kb = seal_key(SEAL_KEY_B);
	char	   *p = path_of("s.jsonl"),
			   *pp = trib_filesink_pos_path(p),
			   *text,
			   *before;
	char		err[1024] = "";
	trib_position pos;

	(void) state;
	assert_true(open_keyed(&sink, &a, "s.jsonl", ka, err, sizeof(err)));
	write_tokened(&sink, 1);
	sink.ops->close(&sink);
	text = slurp(pp);
	assert_null(strstr(text, "alice"));
	assert_null(strstr(text, "_data"));
	assert_non_null(strstr(text, "tributary_sealed"));
	free(text);

	assert_true(open_keyed(&sink, &a, "s.jsonl", ka, err, sizeof(err)));
	assert_true(sink.ops->durable_position(&sink, &pos, err, sizeof(err)));
	assert_int_equal(pos.commit_lsn, 0x1100);
	assert_string_equal(pos.opaque, SEAL_TOKEN);
	sink.ops->close(&sink);

	before = slurp(pp);
	assert_false(open_keyed(&sink, &a, "s.jsonl", kb, err, sizeof(err)));
	assert_non_null(strstr(err, "pipeline p1, sink out (file "));
	assert_non_null(strstr(err, "cannot be read"));
	assert_false(open_keyed(&sink, &a, "s.jsonl", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "set checkpoint.encryption_key"));
	text = slurp(pp);
	assert_string_equal(text, before);
	free(text);
	free(before);

	/* a clear sidecar (no key then) is used with a key, then sealed */
	assert_true(open_keyed(&sink, &a, "c.jsonl", NULL, err, sizeof(err)));
	write_tokened(&sink, 1);
	sink.ops->close(&sink);
	free(pp);
	free(p);
	p = path_of("c.jsonl");
	pp = trib_filesink_pos_path(p);
	text = slurp(pp);
	assert_non_null(strstr(text, "alice"));
	free(text);
	assert_true(open_keyed(&sink, &a, "c.jsonl", ka, err, sizeof(err)));
	assert_true(sink.ops->durable_position(&sink, &pos, err, sizeof(err)));
	assert_string_equal(pos.opaque, SEAL_TOKEN);
	assert_true(sink.seal_warned);
	write_tokened(&sink, 2);
	sink.ops->close(&sink);
	text = slurp(pp);
	assert_null(strstr(text, "alice"));
	assert_non_null(strstr(text, "tributary_sealed"));
	free(text);
	free(pp);
	free(p);
	trib_key_free(ka);
	trib_key_free(kb);
}

/* A pipeline that lost its lock sets discard before close: what the sink
 * still buffers is dropped, not written (another consumer may be writing
 * the same file already), and nothing more is acknowledged. */
static void
test_close_with_discard_writes_nothing_more(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	char	   *p = path_of("d.jsonl"),
			   *text;
	trib_position pos;
	char		err[256];

	(void) state;
	open_file(&sink, &a, "d.jsonl", 0, 0);
	write_range(&sink, 1, 3);
	flush(&sink);
	assert_int_equal(a.n, 1);
	write_range(&sink, 4, 6);
	sink.discard = true;
	sink.ops->close(&sink);
	assert_int_equal(a.n, 1);
	text = slurp(p);
	assert_ids(text, 1, 3);
	free(text);

	/* the stored position is still the flushed one */
	open_file(&sink, &a, "d.jsonl", 0, 0);
	assert_true(sink.ops->durable_position(&sink, &pos, err, sizeof(err)));
	assert_int_equal(pos.commit_lsn, 0x1300);
	sink.ops->close(&sink);
	free(p);
}

static void
test_crash_after_flush_keeps_exactly_once(void **state)
{
	char	   *p = path_of("c.jsonl"),
			   *text;
	trib_sink	sink;
	acks		a = {0};
	trib_filesink_stats st;
	trib_position pos;
	char		err[256];
	pid_t		pid;
	int			status;

	(void) state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
	{
		/* buffer of 1 byte: every line reaches the file at once */
		open_file(&sink, &a, "c.jsonl", 0, 1);
		write_range(&sink, 1, 4);
		flush(&sink);
		write_range(&sink, 5, 9);
		_exit(0);				/* killed: no flush, no close */
	}
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	text = slurp(p);
	assert_ids(text, 1, 9);		/* the dead process left 5..9 behind */
	free(text);

	open_file(&sink, &a, "c.jsonl", 0, 0);
	trib_filesink_get_stats(&sink, &st);
	assert_true(st.truncated_bytes > 0);
	assert_true(sink.ops->durable_position(&sink, &pos, err, sizeof(err)));
	assert_int_equal(pos.commit_lsn, 0x1400);
	/* the pipeline resumes after 4 and sends 5.. again (and older ones) */
	write_range(&sink, 3, 12);
	sink.ops->close(&sink);
	text = slurp(p);
	assert_ids(text, 1, 12);
	free(text);
	free(p);
}

/* Snapshot row i: op r of public.t at base 0x5000, id (0x5000, i). */
static trib_event *
mksnap(int i)
{
	trib_event *ev = mkev(i);

	ev->op = TRIB_OP_READ;
	ev->snapshot = true;
	ev->pos.commit_lsn = 0x5000;
	ev->pos.seq = (uint64_t) i;
	ev->pos.lsn = 0;
	ev->last_in_tx = false;
	return ev;
}

/* Write snapshot rows first..last, flushing after every `every` rows. */
static void
write_snaps(trib_sink *sink, int first, int last, int every)
{
	char		err[512];

	for (int i = first; i <= last; i++)
	{
		trib_event *ev = mksnap(i);

		assert_true(sink->ops->write(sink, ev, err, sizeof(err)));
		trib_event_free(ev);
		if ((i - first + 1) % every == 0)
			flush(sink);
	}
}

/* rewind(sink) to snapshot id (0x5000, seq). */
static void
rewind_to(trib_sink *sink, uint64_t seq)
{
	trib_position to = {0};
	char		err[512];

	to.commit_lsn = 0x5000;
	to.seq = seq;
	if (!sink->ops->rewind(sink, &to, err, sizeof(err)))
	{
		print_message("rewind: %s\n", err);
		fail();
	}
}

/* Concatenate dir/name.1 .. name.n and name. */
static char *
all_segments(const char *name, int *nseg, int64_t limit, bool *within)
{
	trib_strbuf all = {0};
	int			i;

	*within = true;
	trib_strbuf_add(&all, "", 0);
	for (i = 1;; i++)
	{
		char		seg[64];
		char	   *p,
				   *text;
		struct stat sb;

		snprintf(seg, sizeof(seg), "%s.%d", name, i);
		p = path_of(seg);
		if (stat(p, &sb) != 0)
		{
			free(p);
			break;
		}
		if (sb.st_size > limit)
			*within = false;
		text = slurp(p);
		assert_true(text[0] == '\0' || text[strlen(text) - 1] == '\n');
		trib_strbuf_adds(&all, text);
		free(text);
		free(p);
	}
	*nseg = i - 1;
	{
		char	   *p = path_of(name);
		char	   *text = slurp(p);

		trib_strbuf_adds(&all, text);
		free(text);
		free(p);
	}
	return trib_strbuf_finish(&all);
}

static void
test_rotation_by_size(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	trib_filesink_stats st;
	char	   *text;
	int			nseg;
	bool		within;

	(void) state;
	open_file(&sink, &a, "rot.jsonl", 1200, 0);
	write_range(&sink, 1, 30);
	flush(&sink);
	trib_filesink_get_stats(&sink, &st);
	sink.ops->close(&sink);
	text = all_segments("rot.jsonl", &nseg, 1200, &within);
	assert_true(nseg >= 3);
	assert_int_equal((uint64_t) nseg, st.rotations);
	assert_true(within);
	assert_ids(text, 1, 30);
	free(text);

	/* reopening continues with the next segment number, nothing repeated */
	open_file(&sink, &a, "rot.jsonl", 1200, 0);
	write_range(&sink, 1, 40);
	sink.ops->close(&sink);
	text = all_segments("rot.jsonl", &nseg, 1200, &within);
	assert_ids(text, 1, 40);
	assert_true(within);
	free(text);
}

/* The ids in every segment of dir/name are exactly first..last. */
static void
assert_all_ids(const char *name, int first, int last, int *nseg)
{
	bool		within;
	char	   *text = all_segments(name, nseg, INT64_MAX, &within);

	assert_ids(text, first, last);
	free(text);
}

/*
 * Rows 1..100 of a snapshot, flushed every 7 rows, in segments of 1200
 * bytes.  A resumed snapshot whose checkpoint counts ids up to 37 (the
 * file holds up to 98, the last flush) cuts the files back to row 37:
 * the later segments are removed, the durable position is (base, 37), and
 * what is written next follows row 37.  A cut inside the active file, and
 * one to an id the file is not past, behave the same way (the latter does
 * nothing).
 */
static void
test_rewind_cuts_back_to_the_checkpoint(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	trib_position d;
	trib_filesink_stats st;
	char		err[256];
	int			nseg,
				nseg_before;

	(void) state;
	open_file(&sink, &a, "snap.jsonl", 1200, 0);
	write_snaps(&sink, 1, 100, 7);
	sink.ops->close(&sink);		/* flushes 99 and 100 too */
	assert_all_ids("snap.jsonl", 1, 100, &nseg_before);
	assert_true(nseg_before >= 5);

	open_file(&sink, &a, "snap.jsonl", 1200, 0);
	rewind_to(&sink, 37);
	assert_true(sink.ops->durable_position(&sink, &d, err, sizeof(err)));
	assert_int_equal(d.commit_lsn, 0x5000);
	assert_int_equal(d.seq, 37);
	trib_filesink_get_stats(&sink, &st);
	assert_int_equal(st.rewinds, 1);
	assert_all_ids("snap.jsonl", 1, 37, &nseg);
	assert_true(nseg < nseg_before);
	write_snaps(&sink, 38, 60, 5);
	sink.ops->close(&sink);
	assert_all_ids("snap.jsonl", 1, 60, &nseg);

	/* a cut in the active file; then nothing to cut */
	open_file(&sink, &a, "snap.jsonl", 0, 0);
	rewind_to(&sink, 58);
	assert_all_ids("snap.jsonl", 1, 58, &nseg);
	rewind_to(&sink, 58);
	rewind_to(&sink, 70);
	trib_filesink_get_stats(&sink, &st);
	assert_int_equal(st.rewinds, 1);
	assert_all_ids("snap.jsonl", 1, 58, &nseg);
	sink.ops->close(&sink);

	/* reopened: the id map still knows where 1..58 end */
	open_file(&sink, &a, "snap.jsonl", 0, 0);
	rewind_to(&sink, 10);
	sink.ops->close(&sink);
	assert_all_ids("snap.jsonl", 1, 10, &nseg);
}

/*
 * A crash in the middle of a cut into a rotated segment: the sidecar says
 * segment 2 up to byte B, with drop_upto (segments 3.. and the active file
 * to go), nothing else done yet.  The next open finishes the cut.
 */
static void
test_rewind_interrupted_is_finished_at_open(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	char	   *pos = path_of("cut.jsonl.pos");
	char	   *seg1 = path_of("cut.jsonl.1");
	char	   *text;
	char		side[256];
	FILE	   *fp;
	int			nseg;
	struct stat sb;

	(void) state;
	open_file(&sink, &a, "cut.jsonl", 1200, 0);
	write_snaps(&sink, 1, 60, 60);
	sink.ops->close(&sink);
	assert_int_equal(stat(seg1, &sb), 0);
	text = slurp(seg1);
	assert_true(count_lines(text) >= 2);
	/* keep the first segment's first line only: the cut after it */
	snprintf(side, sizeof(side), "{\"segment\":1,\"offset\":%d,\"commit_lsn\":\"0/5000\","
			 "\"seq\":1,\"end_lsn\":\"0/0\",\"lsn\":\"0/0\",\"drop_upto\":99}\n",
			 (int) (strchr(text, '\n') - text + 1));
	free(text);
	fp = fopen(pos, "w");
	assert_non_null(fp);
	fputs(side, fp);
	fclose(fp);
	open_file(&sink, &a, "cut.jsonl", 1200, 0);
	assert_all_ids("cut.jsonl", 1, 1, &nseg);
	assert_int_equal(nseg, 0);
	write_snaps(&sink, 2, 3, 1);
	sink.ops->close(&sink);
	assert_all_ids("cut.jsonl", 1, 3, &nseg);
	text = slurp(pos);
	assert_null(strstr(text, "drop_upto"));
	free(text);
	free(pos);
	free(seg1);
}

/* A crash in the middle of an append to the id map leaves a last line
 * without its newline: the next open drops it, and a cut still works. */
static void
test_torn_id_map_line_is_dropped(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	char	   *ids = path_of("torn.jsonl.ids");
	char	   *text;
	FILE	   *fp;
	int			nseg;

	(void) state;
	open_file(&sink, &a, "torn.jsonl", 0, 0);
	write_snaps(&sink, 1, 30, 10);
	sink.ops->close(&sink);
	fp = fopen(ids, "a");
	assert_non_null(fp);
	fputs("{\"base\":\"0/5000\",\"segm", fp);
	fclose(fp);
	open_file(&sink, &a, "torn.jsonl", 0, 0);
	text = slurp(ids);
	assert_int_equal(count_lines(text), 3);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	rewind_to(&sink, 12);
	sink.ops->close(&sink);
	assert_all_ids("torn.jsonl", 1, 12, &nseg);
	free(ids);
}

/* A streamed event after the snapshot empties the id map: nothing of the
 * snapshot can be cut any more. */
static void
test_stream_ends_the_id_map(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	char	   *ids = path_of("st.jsonl.ids");
	char	   *text;
	char		err[256];
	trib_event *ev = mkev(900);

	(void) state;
	open_file(&sink, &a, "st.jsonl", 0, 0);
	write_snaps(&sink, 1, 20, 10);
	text = slurp(ids);
	assert_int_equal(count_lines(text), 2);
	free(text);
	ev->pos.commit_lsn = 0x9000;
	assert_true(sink.ops->write(&sink, ev, err, sizeof(err)));
	trib_event_free(ev);
	flush(&sink);
	text = slurp(ids);
	assert_string_equal(text, "");
	free(text);
	rewind_to(&sink, 5);
	sink.ops->close(&sink);
	free(ids);
	ids = path_of("st.jsonl");
	text = slurp(ids);
	assert_int_equal(count_lines(text), 21);
	free(text);
	free(ids);
}

/* The mode of dir/name, or -1. */
static int
mode_of(const char *name)
{
	char	   *p = path_of(name);
	struct stat st;
	int			m = stat(p, &st) == 0 ? (int) (st.st_mode & 07777) : -1;

	free(p);
	return m;
}

/*
 * Files, sidecars and rotated segments are created 0600 (whatever the
 * umask allows), or with the configured mode; a file an older version
 * left 0644 is narrowed when the sink opens it.
 */
static void
test_files_are_private(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	trib_filesink_opts o;
	char		err[512];
	char	   *p;
	mode_t		old = umask(022);
	int			fd;

	(void) state;
	open_file(&sink, &a, "priv.jsonl", 600, 0);
	write_range(&sink, 1, 12);	/* rotates */
	flush(&sink);
	sink.ops->close(&sink);
	assert_int_equal(mode_of("priv.jsonl"), 0600);
	assert_int_equal(mode_of("priv.jsonl.pos"), 0600);
	assert_int_equal(mode_of("priv.jsonl.1"), 0600);

	/* left world-readable by an older version: narrowed at open */
	p = path_of("old.jsonl");
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mode_of("old.jsonl"), 0644);
	open_file(&sink, &a, "old.jsonl", 0, 0);
	sink.ops->close(&sink);
	assert_int_equal(mode_of("old.jsonl"), 0600);
	free(p);

	/* a configured mode: 0640 for a log shipper's group */
	p = path_of("group.jsonl");
	memset(&sink, 0, sizeof(sink));
	sink.name = "file";
	trib_filesink_opts_init(&o);
	o.path = p;
	o.mode = 0640;
	assert_true(trib_filesink_open_opts(&sink, &o, err, sizeof(err)));
	sink.ops->close(&sink);
	assert_int_equal(mode_of("group.jsonl"), 0640);
	assert_int_equal(mode_of("group.jsonl.pos"), 0640);
	free(p);
	umask(old);
}

/* A sink opened from pipeline.yaml, as `run` opens it, creates its files
 * with the configured mode. */
static void
test_configured_mode_applies(void **state)
{
	trib_sink	sink = {0};
	acks		a = {0};
	trib_config *cfg = NULL;
	trib_strbuf yaml = {0};
	char		err[1024];
	mode_t		old = umask(022);

	(void) state;
	trib_strbuf_printf(&yaml, "pipeline: p\n"
					   "sources:\n  main: {type: postgres, dsn: \"dbname=x\"}\n"
					   "sinks:\n  out: {type: file, path: \"%s/cfg.jsonl\", mode: \"0640\"}\n"
					   "checkpoint: {store: file, path: \"%s/ck\"}\n", dir, dir);
	if (!trib_config_load_buffer("t.yaml", yaml.data, yaml.len, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	sink.ack = on_ack;
	sink.ack_arg = &a;
	if (!trib_sinks_open(&sink, &cfg->sinks[0], cfg, err, sizeof(err)))
		fail_msg("%s", err);
	write_range(&sink, 1, 2);
	flush(&sink);
	sink.ops->close(&sink);
	assert_int_equal(mode_of("cfg.jsonl"), 0640);
	assert_int_equal(mode_of("cfg.jsonl.pos"), 0640);
	trib_config_free(cfg);
	trib_strbuf_free(&yaml);
	umask(old);
}

static void
test_crash_right_after_rotation(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	trib_filesink_stats st;
	char	   *text;
	int			nseg,
				status;
	bool		within;
	pid_t		pid;

	(void) state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
	{
		open_file(&sink, &a, "cr.jsonl", 1000, 1);
		write_range(&sink, 1, 25);	/* rotates on the way; no final flush */
		_exit(0);
	}
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	open_file(&sink, &a, "cr.jsonl", 1000, 0);
	trib_filesink_get_stats(&sink, &st);
	/* the rotated segments are complete; the active file lost its tail */
	assert_true(st.segment >= 2);
	write_range(&sink, 1, 30);
	sink.ops->close(&sink);
	text = all_segments("cr.jsonl", &nseg, 1000, &within);
	assert_ids(text, 1, 30);
	free(text);
}

static void
test_lost_data_is_an_error(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	trib_filesink_opts o;
	char	   *p = path_of("lost.jsonl");
	char		err[512];

	(void) state;
	open_file(&sink, &a, "lost.jsonl", 0, 0);
	write_range(&sink, 1, 3);
	sink.ops->close(&sink);
	assert_int_equal(truncate(p, 10), 0);	/* the OS lost the tail */
	memset(&sink, 0, sizeof(sink));
	trib_filesink_opts_init(&o);
	o.path = p;
	assert_false(trib_filesink_open_opts(&sink, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "data was lost"));
	/* a sidecar that is not ours */
	{
		char	   *pp = trib_filesink_pos_path(p);
		FILE	   *f = fopen(pp, "w");

		fputs("garbage", f);
		fclose(f);
		assert_false(trib_filesink_open_opts(&sink, &o, err, sizeof(err)));
		assert_non_null(strstr(err, "not a position file"));
		free(pp);
	}
	o.path = NULL;
	assert_false(trib_filesink_open_opts(&sink, &o, err, sizeof(err)));
	free(p);
}

static void
test_fsync_mode_flushes_and_records(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	trib_filesink_opts o;
	char	   *p = path_of("sync.jsonl"),
			   *pp = trib_filesink_pos_path(p),
			   *text;
	char		err[256];

	(void) state;
	memset(&sink, 0, sizeof(sink));
	sink.ack = on_ack;
	sink.ack_arg = &a;
	trib_filesink_opts_init(&o);
	o.path = p;
	o.fsync = true;
	o.rotate_bytes = 600;
	assert_true(trib_filesink_open_opts(&sink, &o, err, sizeof(err)));
	write_range(&sink, 1, 6);
	flush(&sink);
	assert_int_equal(a.last.commit_lsn, 0x1600);
	sink.ops->close(&sink);
	text = slurp(pp);
	assert_non_null(strstr(text, "\"commit_lsn\":\"0/1600\""));
	free(text);
	free(pp);
	free(p);
}

static void
test_stdout_sink_on_a_pipe(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	trib_filesink_opts o;
	trib_position pos;
	char		err[256],
				buf[8192];
	int			fds[2];
	ssize_t		n;

	(void) state;
	assert_int_equal(pipe(fds), 0);
	memset(&sink, 0, sizeof(sink));
	sink.ack = on_ack;
	sink.ack_arg = &a;
	trib_filesink_opts_init(&o);
	o.fd = fds[1];
	assert_true(trib_stdoutsink_open_opts(&sink, &o, err, sizeof(err)));
	assert_string_equal(sink.ops->type, "stdout");
	write_range(&sink, 1, 2);
	flush(&sink);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.last.commit_lsn, 0x1200);
	assert_false(sink.ops->durable_position(&sink, &pos, err, sizeof(err)));
	sink.ops->close(&sink);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	close(fds[0]);
	assert_ids(buf, 1, 2);
}

/* A failed write(2) (a full disk) fails flush, and poll keeps reporting
 * it, so a pipeline that only polls while idle stops too. */
static void
test_poll_reports_a_failed_write(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	trib_filesink_opts o;
	char		err[256];
	int			fd = open("/dev/full", O_WRONLY);

	(void) state;
	if (fd < 0)
		skip();
	memset(&sink, 0, sizeof(sink));
	sink.ack = on_ack;
	sink.ack_arg = &a;
	trib_filesink_opts_init(&o);
	o.fd = fd;
	assert_true(trib_stdoutsink_open_opts(&sink, &o, err, sizeof(err)));
	assert_true(sink.ops->poll(&sink, 0, err, sizeof(err)));
	write_range(&sink, 1, 2);
	assert_false(sink.ops->flush(&sink, 1000, err, sizeof(err)));
	err[0] = '\0';
	assert_false(sink.ops->poll(&sink, 0, err, sizeof(err)));
	if (strstr(err, "No space left") == NULL)
		fail_msg("expected ENOSPC from poll, got: \"%s\"", err);
	assert_int_equal(a.n, 0);
	sink.ops->close(&sink);
	close(fd);
}

static void
test_delete_truncate_and_tombstones(void **state)
{
	trib_sink	sink;
	trib_filesink_opts o;
	trib_envelope_opts eo;
	trib_event *ev;
	char	   *p = path_of("ops.jsonl"),
			   *text;
	char		err[512];

	(void) state;
	memset(&sink, 0, sizeof(sink));
	trib_envelope_opts_init(&eo);	/* tombstones on */
	eo.topic_prefix = "shop";
	trib_filesink_opts_init(&o);
	o.path = p;
	o.envelope = &eo;
	assert_true(trib_filesink_open_opts(&sink, &o, err, sizeof(err)));
	ev = mkev(1);
	ev->op = TRIB_OP_DELETE;
	ev->before = ev->after;
	ev->after = NULL;
	assert_true(sink.ops->write(&sink, ev, err, sizeof(err)));
	trib_event_free(ev);
	ev = mkev(2);
	ev->op = TRIB_OP_TRUNCATE;
	free(ev->after);
	free(ev->key);
	ev->after = ev->key = NULL;
	ev->table = NULL;
	ev->extra = strdup("{\"relations\":[{\"schema\":\"public\",\"table\":\"a\"},"
					   "{\"schema\":\"public\",\"table\":\"b\"}],\"cascade\":false,"
					   "\"restart_identity\":false}");
	assert_true(sink.ops->write(&sink, ev, err, sizeof(err)));
	trib_event_free(ev);
	sink.ops->close(&sink);
	text = slurp(p);
	/* delete + tombstone, then one record per truncated table */
	assert_int_equal(count_lines(text), 4);
	assert_non_null(strstr(text, "{\"topic\":\"shop.public.t\",\"key\":{\"id\":1},\"value\":null}\n"));
	assert_non_null(strstr(text, "{\"topic\":\"shop.public.a\",\"key\":null,\"value\":{"));
	assert_non_null(strstr(text, "{\"topic\":\"shop.public.b\",\"key\":null,\"value\":{"));
	free(text);
	free(p);
}

/* A crash before the first flush: the next open cuts the dead process's
 * lines, and keeps what the file held before the sink first opened it. */
static void
test_crash_before_first_flush(void **state)
{
	char	   *p = path_of("f.jsonl"),
			   *text;
	trib_sink	sink;
	acks		a = {0};
	trib_position pos;
	char		err[256] = "";
	pid_t		pid;
	int			status;
	FILE	   *fp;

	(void) state;
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("not ours\n", fp);
	fclose(fp);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
	{
		open_file(&sink, &a, "f.jsonl", 0, 1);
		write_range(&sink, 1, 6);
		_exit(0);				/* killed before any flush */
	}
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	text = slurp(p);
	assert_int_equal(count_lines(text), 7);	/* the dead process wrote 6 */
	free(text);

	open_file(&sink, &a, "f.jsonl", 0, 0);
	assert_false(sink.ops->durable_position(&sink, &pos, err, sizeof(err)));
	assert_string_equal(err, "");
	write_range(&sink, 1, 6);	/* the pipeline sends them again */
	sink.ops->close(&sink);
	text = slurp(p);
	assert_int_equal(count_lines(text), 7);
	assert_true(strncmp(text, "not ours\n", 9) == 0);
	free(text);
	free(p);
}

/* Open a file sink on dir/name and expect it to fail; the message. */
static void
open_fails(const char *name, char *err, size_t errlen)
{
	trib_sink	sink;
	trib_filesink_opts o;
	char	   *p = path_of(name);

	memset(&sink, 0, sizeof(sink));
	sink.name = "file";
	trib_filesink_opts_init(&o);
	o.path = p;
	assert_false(trib_filesink_open_opts(&sink, &o, err, errlen));
	assert_null(sink.state);
	free(p);
}

/* A file the attacker wants overwritten: dir/victim holding "precious\n". */
static char *
make_victim(void)
{
	char	   *v = path_of("victim");
	FILE	   *f = fopen(v, "w");

	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	assert_int_equal(chmod(v, 0644), 0);
	return v;
}

static void
assert_victim_intact(const char *v)
{
	char	   *text = slurp(v);
	struct stat st;

	assert_string_equal(text, "precious\n");
	assert_int_equal(stat(v, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(text);
}

/*
 * Someone who can write to the directory plants symbolic links where the
 * sink writes: at the sidecar's temporary file, the id map, and `path`
 * itself.  None is written through: the link's target keeps its bytes and
 * its mode, and a link at `path` is refused with a message saying so.
 */
static void
test_symlinks_are_not_followed(void **state)
{
	char	   *v = make_victim(),
			   *tmp = path_of("s.jsonl.pos.tmp"),
			   *ids = path_of("s.jsonl.ids"),
			   *p = path_of("s.jsonl"),
			   *text;
	trib_sink	sink;
	acks		a = {0};
	char		err[512];
	struct stat st;
	int			i;

	(void) state;
	assert_int_equal(symlink(v, tmp), 0);
	open_file(&sink, &a, "s.jsonl", 0, 0);
	write_range(&sink, 1, 3);
	flush(&sink);
	unlink(ids);
	assert_int_equal(symlink(v, ids), 0);
	for (i = 1; i <= 3; i++)
	{
		trib_event *ev = mksnap(i);

		assert_true(sink.ops->write(&sink, ev, err, sizeof(err)));
		trib_event_free(ev);
	}
	/* the id map's link is refused, not followed */
	assert_false(sink.ops->flush(&sink, 1000, err, sizeof(err)));
	sink.ops->close(&sink);
	assert_victim_intact(v);
	assert_int_equal(lstat(tmp, &st) == 0 ? 1 : 0, 0);	/* replaced, then renamed */
	text = slurp(p);
	assert_int_equal(count_lines(text), 6);	/* lines 4..6 not durable: cut at open */
	free(text);

	/* a link at path itself: refused at open, the target untouched */
	assert_int_equal(unlink(ids), 0);
	assert_int_equal(rename(p, ids), 0);
	assert_int_equal(symlink(v, p), 0);
	open_fails("s.jsonl", err, sizeof(err));
	assert_non_null(strstr(err, "symbolic link"));
	assert_victim_intact(v);
	free(v);
	free(tmp);
	free(ids);
	free(p);
}

/* A hard link or a FIFO at `path` is refused at open, without blocking. */
static void
test_hard_link_and_fifo_are_refused(void **state)
{
	char	   *v = make_victim(),
			   *h = path_of("h.jsonl"),
			   *q = path_of("q.jsonl");
	char		err[512];

	(void) state;
	assert_int_equal(link(v, h), 0);
	open_fails("h.jsonl", err, sizeof(err));
	assert_non_null(strstr(err, "hard link"));
	assert_victim_intact(v);
	assert_int_equal(mkfifo(q, 0600), 0);
	open_fails("q.jsonl", err, sizeof(err));
	assert_non_null(strstr(err, "not a regular file"));
	free(v);
	free(h);
	free(q);
}

/*
 * Two pipelines on one path (a copied config) while both run: the second
 * is refused by the sidecar's pipeline name before it writes anything,
 * also after the first rotated.  Two sinks of one pipeline are not
 * refused: the pipeline lock fences them, and a standby taking over from
 * a frozen leader must open the file the old leader still has open.
 */
static void
test_second_sink_on_a_path_is_refused(void **state)
{
	trib_sink	one,
				two;
	trib_filesink_opts o;
	char		err[512];
	char	   *p = path_of("two.jsonl"),
			   *text;

	(void) state;
	trib_filesink_opts_init(&o);
	o.path = p;
	o.rotate_bytes = 600;
	memset(&one, 0, sizeof(one));
	one.pipeline = "orders";
	assert_true(trib_filesink_open_opts(&one, &o, err, sizeof(err)));
	write_range(&one, 1, 3);
	flush(&one);
	memset(&two, 0, sizeof(two));
	two.pipeline = "billing";
	assert_false(trib_filesink_open_opts(&two, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "belongs to pipeline \"orders\""));
	write_range(&one, 4, 12);	/* rotates */
	flush(&one);
	assert_false(trib_filesink_open_opts(&two, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "belongs to pipeline \"orders\""));

	/* the same pipeline's takeover: opens, cuts back to the sidecar */
	write_range(&one, 13, 14);	/* not flushed: the new leader cuts them */
	two.pipeline = "orders";
	assert_true(trib_filesink_open_opts(&two, &o, err, sizeof(err)));
	one.discard = true;			/* the old leader, fenced, writes nothing more */
	one.ops->close(&one);
	write_range(&two, 13, 16);
	two.ops->close(&two);
	text = slurp(p);
	assert_true(count_lines(text) > 0);
	assert_non_null(strstr(text, "\"id\":16"));
	free(text);
	free(p);
}

/* A long opaque position (a MySQL GTID set of many servers) survives the
 * sidecar: the sink reopens and reports it. */
static void
test_long_opaque_reopens(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	char		err[512];
	trib_strbuf op = {0};
	trib_event *ev = mkev(1);
	trib_position pos;
	int			i;

	(void) state;
	trib_strbuf_adds(&op, "{\"gtid_set\":\"");
	for (i = 0; i < 200; i++)
		trib_strbuf_printf(&op, "%s3e11fa47-71ca-11e1-9e33-c80aa9%06d:1-%d", i ? "," : "",
						   i, 100000 + i);
	trib_strbuf_adds(&op, "\"}");
	ev->pos.opaque = trib_strbuf_finish(&op);
	assert_true(strlen(ev->pos.opaque) > 8192);
	open_file(&sink, &a, "gtid.jsonl", 0, 0);
	assert_true(sink.ops->write(&sink, ev, err, sizeof(err)));
	flush(&sink);
	sink.ops->close(&sink);
	open_file(&sink, &a, "gtid.jsonl", 0, 0);
	assert_true(sink.ops->durable_position(&sink, &pos, err, sizeof(err)));
	assert_string_equal(pos.opaque, ev->pos.opaque);
	sink.ops->close(&sink);
	trib_event_free(ev);
}

/*
 * Another process removes or truncates the active file while the sink
 * writes it: the next flush fails instead of acking lines that are not in
 * the file, and a restart says what happened.
 */
static void
test_file_changed_underneath_fails_the_flush(void **state)
{
	trib_sink	sink;
	acks		a = {0};
	char		err[512];
	char	   *p = path_of("u.jsonl");
	int			acked;

	(void) state;
	open_file(&sink, &a, "u.jsonl", 0, 0);
	write_range(&sink, 1, 3);
	flush(&sink);
	acked = a.n;
	assert_int_equal(truncate(p, 0), 0);
	write_range(&sink, 4, 5);
	assert_false(sink.ops->flush(&sink, 1000, err, sizeof(err)));
	assert_non_null(strstr(err, "truncated"));
	assert_int_equal(a.n, acked);
	sink.ops->close(&sink);
	open_fails("u.jsonl", err, sizeof(err));
	assert_non_null(strstr(err, "another process"));

	/* removed: the sink goes on writing a file nobody can read */
	open_file(&sink, &a, "r.jsonl", 0, 0);
	write_range(&sink, 1, 3);
	flush(&sink);
	acked = a.n;
	free(p);
	p = path_of("r.jsonl");
	assert_int_equal(unlink(p), 0);
	write_range(&sink, 4, 5);
	assert_false(sink.ops->flush(&sink, 1000, err, sizeof(err)));
	assert_non_null(strstr(err, "removed or replaced"));
	assert_int_equal(a.n, acked);
	sink.ops->close(&sink);
	free(p);
}

/*
 * The disk fills in the middle of a line (EFBIG from RLIMIT_FSIZE here;
 * ENOSPC takes the same path): the write fails, the sink stays failed,
 * nothing after the last flush is acked, and the next start (with room
 * again) cuts the partial line off: every event once.
 */
static void
test_full_disk_mid_line_then_restart(void **state)
{
	char	   *p = path_of("full.jsonl"),
			   *text;
	trib_sink	sink;
	acks		a = {0};
	pid_t		pid;
	int			status;

	(void) state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
	{
		struct rlimit rl = {.rlim_cur = 3000, .rlim_max = 3000};
		char		err[512];
		int			i;

		signal(SIGXFSZ, SIG_IGN);
		open_file(&sink, &a, "full.jsonl", 0, 1);
		write_range(&sink, 1, 4);
		flush(&sink);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(2);
		for (i = 5; i < 1000; i++)
		{
			trib_event *ev = mkev(i);
			bool		ok = sink.ops->write(&sink, ev, err, sizeof(err));

			trib_event_free(ev);
			if (!ok)
				break;
			if (i % 3 == 0 && !sink.ops->flush(&sink, 1000, err, sizeof(err)))
				break;
		}
		/* failed for good, nothing acked after the failure */
		if (i == 1000 || strstr(err, "full.jsonl") == NULL ||
			sink.ops->flush(&sink, 1000, err, sizeof(err)) ||
			sink.ops->poll(&sink, 0, err, sizeof(err)))
			_exit(3);
		_exit(a.last.commit_lsn == 0 ? 4 : 0);
	}
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	text = slurp(p);
	assert_true(strlen(text) <= 3000);
	assert_true(text[0] != '\0' && text[strlen(text) - 1] != '\n');	/* a torn line */
	free(text);
	open_file(&sink, &a, "full.jsonl", 0, 0);
	write_range(&sink, 1, 40);
	sink.ops->close(&sink);
	text = slurp(p);
	assert_ids(text, 1, 40);
	free(text);
	free(p);
}

/*
 * The sidecar names the pipeline: a pipeline given the path another one
 * wrote (a copied config, one renamed) is refused at open instead of
 * taking the other's position as its own and dropping its events at or
 * before it.  A sidecar without the name (an older version) is accepted.
 */
static void
test_sidecar_of_another_pipeline_is_refused(void **state)
{
	trib_sink	sink;
	trib_filesink_opts o;
	char		err[512];
	char	   *p = path_of("pl.jsonl"),
			   *pp = trib_filesink_pos_path(p),
			   *text;

	(void) state;
	trib_filesink_opts_init(&o);
	o.path = p;
	memset(&sink, 0, sizeof(sink));
	sink.pipeline = "orders";
	assert_true(trib_filesink_open_opts(&sink, &o, err, sizeof(err)));
	write_range(&sink, 1, 3);
	sink.ops->close(&sink);
	text = slurp(pp);
	assert_non_null(strstr(text, "\"pipeline\":\"orders\""));
	free(text);

	memset(&sink, 0, sizeof(sink));
	sink.pipeline = "billing";
	assert_false(trib_filesink_open_opts(&sink, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "belongs to pipeline \"orders\""));

	memset(&sink, 0, sizeof(sink));
	sink.pipeline = "orders";
	assert_true(trib_filesink_open_opts(&sink, &o, err, sizeof(err)));
	write_range(&sink, 1, 5);
	sink.ops->close(&sink);
	text = slurp(p);
	assert_ids(text, 1, 5);
	free(text);
	free(pp);
	free(p);
}

/* `tributary check` of a file sink reports what `run` would refuse: a
 * symbolic link or a hard link at path. */
static void
test_check_names_a_link_at_path(void **state)
{
	trib_config *cfg = NULL;
	trib_strbuf yaml = {0};
	char		err[1024],
			   *out = NULL;
	size_t		outlen = 0;
	char	   *v = make_victim(),
			   *p = path_of("chk.jsonl");
	trib_check_report rep = {0};

	(void) state;
	trib_strbuf_printf(&yaml, "pipeline: p\n"
					   "sources:\n  main: {type: postgres, dsn: \"dbname=x\"}\n"
					   "sinks:\n  out: {type: file, path: \"%s\"}\n"
					   "checkpoint: {store: file, path: \"%s/ck\"}\n", p, dir);
	if (!trib_config_load_buffer("t.yaml", yaml.data, yaml.len, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(symlink(v, p), 0);
	rep.out = open_memstream(&out, &outlen);
	trib_sink_file_ops.check(&cfg->sinks[0], &rep);
	fclose(rep.out);
	assert_int_equal(rep.problems, 1);
	assert_non_null(strstr(out, "a symbolic link; `run` refuses it"));
	free(out);

	assert_int_equal(unlink(p), 0);
	assert_int_equal(link(v, p), 0);
	rep.problems = 0;
	rep.out = open_memstream(&out, &outlen);
	trib_sink_file_ops.check(&cfg->sinks[0], &rep);
	fclose(rep.out);
	assert_int_equal(rep.problems, 1);
	assert_non_null(strstr(out, "has other hard links"));
	free(out);
	trib_check_report_free(&rep);
	trib_config_free(cfg);
	trib_strbuf_free(&yaml);
	free(v);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_are_json_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sidecar_and_restart_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sealed_sidecar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_with_discard_writes_nothing_more, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_flush_keeps_exactly_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_first_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_by_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewind_cuts_back_to_the_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewind_interrupted_is_finished_at_open, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_stream_ends_the_id_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_id_map_line_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_right_after_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_data_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsync_mode_flushes_and_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout_sink_on_a_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_reports_a_failed_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_truncate_and_tombstones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_are_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configured_mode_applies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_are_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_link_and_fifo_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_sink_on_a_path_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_opaque_reopens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_mid_line_then_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sidecar_of_another_pipeline_is_refused, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_check_names_a_link_at_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_changed_underneath_fails_the_flush, setup,
										teardown),
	};

	trib_log_set_level(TRIB_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
