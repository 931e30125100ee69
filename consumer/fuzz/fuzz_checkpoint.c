/*
 * fuzz_checkpoint.c: libFuzzer target for the readers of stored positions:
 * the texts a restart reads back from outside the process, which another
 * version, a person or a broken disk may have written.
 *
 * The first byte picks what the rest of the input is:
 *   0  an event id as the checkpoint store's columns give it ("KEY:SEQ",
 *      "L:S", "L"), read by the parse_id of the PostgreSQL, MySQL, MongoDB
 *      and merged sources (bits 3-4 pick one);
 *   1  a MySQL event id ("GTID/FILE:TX_POS[/ROW]", mysql_position.c) and
 *      the same text as a GTID;
 *   2  the file checkpoint store's file (pipeline/checkpoint.c), for
 *      pipeline "p", source "s", with one of the four sources' operations;
 *   3  a record of the Kafka sink's checkpoint topic
 *      (sink/kafka/kafka_checkpoint.c), read with a Debezium envelope with
 *      transaction metadata, whose saved transaction is then resumed
 *      (format/debezium_txmeta.c);
 *   4  the Debezium envelope's saved transaction text
 *      (trib_envelope_tx_resume).
 * Whatever the bytes, reading must end in a position or a refusal, never a
 * crash, sanitizer report or leak.  What is read must also survive its
 * writer: written again (format_id, store_form, the store's save, the
 * record's value, tx_state) and read back it must give the same position
 * (opaque text, snapshot progress and transaction state included), or the
 * target aborts: a restart must resume where the checkpoint says.
 *
 * The file store works in a folder made at start-up under /dev/shm (or
 * $TMPDIR), so its fsyncs cost nothing; it is removed at exit.
 *
 *   make -C consumer fuzz FUZZERS=fuzz/fuzz_checkpoint.c
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "debezium.h"
#include "envelope.h"
#include "merge.h"
#include "mongo_source_conf.h"
#include "mysql_position.h"
#include "mysql_source_conf.h"
#include "pg_source_conf.h"
#include "position.h"
#include "sink_kafka_int.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256];
static char path1[300];
static char path2[300];
static trib_envelope *env;
static trib_envelope *env2;
static trib_dbz_opts dbz;

static const trib_source_ops *const all_ops[4] = {
	&trib_pg_source_ops, &trib_mysql_source_ops, &trib_mongo_source_ops, &trib_merge_pos_ops,
};

/* Remove the store's files and folder at exit. */
static void
cleanup(void)
{
	unlink(path1);
	unlink(path2);
	rmdir(dir);
}

/* The folder and the envelope, once. */
static void
setup(void)
{
	trib_envelope_opts eo;
	char		err[256];
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/fuzz_checkpoint.XXXXXX", base ? base : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path1, sizeof(path1), "%s/a.json", dir);
	snprintf(path2, sizeof(path2), "%s/b.json", dir);
	atexit(cleanup);
	trib_dbz_opts_init(&dbz);
	trib_envelope_opts_init(&eo);
	eo.debezium = &dbz;
	eo.transaction_metadata = true;
	env = trib_envelope_new(&eo, err, sizeof(err));
	env2 = trib_envelope_new(&eo, err, sizeof(err));
	if (env == NULL || env2 == NULL)
		abort();
}

/* Both NULL or the same text. */
static bool
same_text(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* All the numbers of a position and its opaque text. */
static bool
same_pos(const trib_position *a, const trib_position *b)
{
	return a->commit_lsn == b->commit_lsn && a->seq == b->seq && a->end_lsn == b->end_lsn &&
		a->lsn == b->lsn && same_text(a->opaque, b->opaque);
}

/* 0: an id read by a source's parse_id; store_form (what the stores
 * write) must give the same position back, and so must format_id where
 * it writes core's id form (MySQL's writes its native id, for people). */
static void
position_id(const trib_source_ops *ops, const char *text)
{
	trib_position p,
				q;
	char		buf[256];
	char		key[TRIB_LSN_BUFLEN];
	uint64_t	seq;

	memset(&p, 0, sizeof(p));
	if (!ops->parse_id(text, &p))
		return;
	if (ops->format_id == trib_position_format_id)
	{
		ops->format_id(&p, buf, sizeof(buf));
		memset(&q, 0, sizeof(q));
		if (!ops->parse_id(buf, &q) || ops->compare(&p, &q) != 0)
			abort();
	}
	ops->store_form(&p, key, sizeof(key), &seq);
	if (key[0] != '\0')
	{
		snprintf(buf, sizeof(buf), "%s:%llu", key, (unsigned long long) seq);
		memset(&q, 0, sizeof(q));
		if (!ops->parse_id(buf, &q) || ops->compare(&p, &q) != 0)
			abort();
	}
}

/* 1: a MySQL event id and a GTID, each written again and read back. */
static void
mysql_id(const char *text, size_t len)
{
	trib_my_pos p,
				q;
	trib_my_gtid g,
				h;
	char		buf[1024];
	char		err[256];

	err[0] = '\0';
	if (trib_my_pos_parse(text, &p, err, sizeof(err)))
	{
		trib_my_pos_format(&p, buf, sizeof(buf));
		if (!trib_my_pos_parse(buf, &q, err, sizeof(err)) || trib_my_pos_cmp(&p, &q) != 0 ||
			!trib_my_gtid_equal(&p.gtid, &q.gtid))
			abort();
	}
	else if (err[0] == '\0')
		abort();				/* a refusal says why */
	if (trib_my_gtid_parse(text, len, &g))
	{
		size_t		n = trib_my_gtid_format(&g, buf, sizeof(buf));

		if (!trib_my_gtid_parse(buf, n, &h) || !trib_my_gtid_equal(&g, &h))
			abort();
	}
}

/* 2: the file store's file; a position it gives is saved to a second
 * file and read back. */
static void
file_store(const trib_source_ops *ops, const uint8_t *data, size_t size)
{
	FILE	   *f = fopen(path1, "wb");
	trib_checkpoint *a,
			   *b;
	trib_position p,
				q;
	char		err[512];
	int			rc;

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	a = trib_checkpoint_open(TRIB_CKPT_FILE, path1, "p", "s", ops, err, sizeof(err));
	b = trib_checkpoint_open(TRIB_CKPT_FILE, path2, "p", "s", ops, err, sizeof(err));
	if (a == NULL || b == NULL)
		abort();
	err[0] = '\0';
	rc = trib_checkpoint_load(a, &p, err, sizeof(err));
	if (rc < 0 && err[0] == '\0')
		abort();				/* a refusal says why */
	if (rc == 1)
	{
		if (!trib_checkpoint_save(b, &p, err, sizeof(err)) ||
			trib_checkpoint_load(b, &q, err, sizeof(err)) != 1)
			abort();
		if (ops->compare(&p, &q) != 0 || !same_text(p.opaque, q.opaque))
			abort();
		free(q.opaque);
		unlink(path2);
	}
	if (rc >= 0)
		free(p.opaque);
	trib_checkpoint_close(a);
	trib_checkpoint_close(b);
	unlink(path1);
}

/* 3: a Kafka checkpoint record, read as the sink reads it at start-up
 * (position, snapshot progress, then the envelope resumes the saved
 * transaction); written as a record again, with the envelope's state,
 * and read by a second envelope, it must give all of it back. */
static void
kafka_record(const char *text, size_t len)
{
	trib_position p,
				q,
				pc,
				qc;
	char	   *snap = NULL,
			   *snap2 = NULL;
	char	   *value,
			   *state,
			   *state2;
	size_t		vlen = 0;
	trib_sink	nokey;
	char		err[256];

	memset(&nokey, 0, sizeof(nokey));
	memset(&p, 0, sizeof(p));
	if (!kfk_checkpoint_parse(text, len, &p, env, &snap, &pc))
		return;
	(void) trib_envelope_tx_checkpoint_resume(env);
	state = trib_envelope_tx_state(env);
	/* no key: the sink writes the position as is (sealing has its own
	 * tests); a zeroed sink has no state, so the store is named by default */
	value = kfk_checkpoint_value_snap(&nokey, &p, env, snap, &pc, &vlen, err, sizeof(err));
	if (value == NULL)
		abort();
	memset(&q, 0, sizeof(q));
	if (!kfk_checkpoint_parse(value, vlen, &q, env2, &snap2, &qc) || !same_pos(&p, &q) ||
		!same_text(snap, snap2) ||
		(snap != NULL && (pc.commit_lsn != qc.commit_lsn || pc.seq != qc.seq)))
		abort();
	if (!trib_envelope_tx_checkpoint_resume(env2))
		abort();
	state2 = trib_envelope_tx_state(env2);
	if (!same_text(state, state2))
		abort();
	free(state2);
	free(state);
	free(value);
	free(q.opaque);
	free(snap2);
	free(snap);
	free(p.opaque);
}

/* 4: the envelope's saved transaction: read, written, read back. */
static void
tx_state(const char *text)
{
	char	   *state,
			   *again;

	if (!trib_envelope_tx_resume(env, text))
		return;
	state = trib_envelope_tx_state(env);
	if (state == NULL || !trib_envelope_tx_resume(env, state) ||
		(again = trib_envelope_tx_state(env)) == NULL || strcmp(state, again) != 0)
		abort();
	free(again);
	free(state);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	uint8_t		sel;

	if (size < 1 || size > 65536)
		return 0;
	if (env == NULL)
		setup();
	sel = data[0];
	data++;
	size--;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	switch (sel % 5)
	{
		case 0:
			position_id(all_ops[(sel >> 3) & 3], text);
			break;
		case 1:
			mysql_id(text, strlen(text));
			break;
		case 2:
			file_store(all_ops[(sel >> 3) & 3], data, size);
			break;
		case 3:
			kafka_record(text, size);
			break;
		default:
			tx_state(text);
			break;
	}
	/* a transaction resumed by this input must not meet the next one */
	trib_envelope_tx_resume(env, "");
	trib_envelope_tx_resume(env2, "");
	free(text);
	return 0;
}
