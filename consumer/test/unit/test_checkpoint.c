/*
 * test_checkpoint.c: the file checkpoint store keeps a PostgreSQL
 * position in the bytes it always had, although it sees positions only
 * through the source's operations (store_form, parse_id): the event id
 * (commit LSN text and seq), the whole transaction's seq, an opaque
 * position alone, and what is refused.  And the PostgreSQL source's
 * position operations agree with eventid.h.  With a key, the opaque
 * position is sealed (seal.h): the file no longer holds it in clear, it
 * loads back the same, and a wrong key, no key, an altered file or a file
 * copied to another pipeline are errors naming the pipeline and the store;
 * a clear file written before the key was set still loads.  The config's
 * key is checked when the file loads, and a masking rule on a MongoDB
 * source's _id without a key is reported (trib_checkpoint_key_exposed).
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

#include "check_report.h"
#include "checkpoint.h"
#include "config.h"
#include "keys.h"
#include "merge.h"
#include "pause.h"
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

#define SECRET_OPAQUE "{\"token\":{\"_data\":\"8200\"},\"id\":\"alice@example.com\"}"

/* A 32-byte key from a repeated hex byte. */
static trib_key *
key_of(const char *byte)
{
	char		hex[65],
				err[256];
	trib_key   *k;

	for (int i = 0; i < 32; i++)
		memcpy(hex + 2 * i, byte, 2);
	hex[64] = '\0';
	k = trib_key_parse(hex, 64, TRIB_KEY_HEX, "test key", err, sizeof(err));
	assert_non_null(k);
	return k;
}

/* A file store for pipeline/source at path, sealing with key (or not). */
static trib_checkpoint *
open_with(const char *path, const char *pipeline, const trib_key *key)
{
	char		err[256] = "";
	trib_checkpoint *ck = trib_checkpoint_open(TRIB_CKPT_FILE, path, pipeline, "s", ops,
											   err, sizeof(err));

	assert_non_null(ck);
	trib_checkpoint_set_key(ck, key);
	return ck;
}

/* Save SECRET_OPAQUE at 0/10:3 through a store sealing with key. */
static void
save_secret(const char *path, const trib_key *key)
{
	trib_position pos = {.commit_lsn = 0x10, .seq = 3, .opaque = SECRET_OPAQUE};
	char		err[256] = "";
	trib_checkpoint *ck = open_with(path, "p", key);

	assert_true(trib_checkpoint_save(ck, &pos, err, sizeof(err)));
	trib_checkpoint_close(ck);
}

/* Load through a store for pipeline with key: its return, *err the
 * message, *opaque the position (malloc'd) or NULL. */
static int
load_with(const char *path, const char *pipeline, const trib_key *key, char *err, size_t errlen,
		  char **opaque)
{
	trib_checkpoint *ck = open_with(path, pipeline, key);
	trib_position back = {0};
	int			r = trib_checkpoint_load(ck, &back, err, errlen);

	trib_checkpoint_close(ck);
	*opaque = back.opaque;
	return r;
}

static void
a_sealed_position_hides_the_opaque_and_loads_back(void **state)
{
	char	   *path = temp_path();
	trib_key   *k = key_of("5a");
	char		err[512] = "";
	char	   *text,
			   *opaque = NULL;

	(void) state;
	save_secret(path, k);
	text = slurp(path);
	assert_null(strstr(text, "alice"));
	assert_null(strstr(text, "_data"));
	assert_non_null(strstr(text, "\"commit_lsn\":\"0/10\",\"seq\":3,"));	/* clear */
	assert_non_null(strstr(text, "\"position\":{\"tributary_sealed\":1,"));
	free(text);
	assert_int_equal(load_with(path, "p", k, err, sizeof(err), &opaque), 1);
	assert_string_equal(opaque, SECRET_OPAQUE);
	free(opaque);
	trib_key_free(k);
	cleanup(path);
}

static void
a_wrong_key_no_key_or_another_pipeline_is_an_error(void **state)
{
	char	   *path = temp_path();
	trib_key   *k = key_of("5a"),
			   *other = key_of("a5");
	char		err[512] = "";
	char	   *opaque = NULL;

	(void) state;
	save_secret(path, k);
	assert_int_equal(load_with(path, "p", other, err, sizeof(err), &opaque), TRIB_CHECKPOINT_UNREADABLE);
	assert_null(opaque);
	assert_non_null(strstr(err, "checkpoint of pipeline p, source s (file "));
	assert_non_null(strstr(err, "does not open with the key given"));
	assert_non_null(strstr(err, "not starting over"));
	assert_null(strstr(err, "a5a5"));
	assert_int_equal(load_with(path, "p", NULL, err, sizeof(err), &opaque), TRIB_CHECKPOINT_UNREADABLE);
	assert_non_null(strstr(err, "set checkpoint.encryption_key"));
	/* the same bytes under another pipeline's name: the file check says so
	 * first; the sealed data is bound to the names as well */
	assert_int_equal(load_with(path, "q", k, err, sizeof(err), &opaque), -1);
	trib_key_free(k);
	trib_key_free(other);
	cleanup(path);
}

/* The "position" member of the file store at path, as its text (malloc'd;
 * the catalog's column holds the same object). */
static char *
position_text(const char *path)
{
	char	   *text = slurp(path),
			   *p = strstr(text, "\"position\":"),
			   *end;
	char	   *out;

	assert_non_null(p);
	p += strlen("\"position\":");
	end = strchr(p, '}');
	assert_non_null(end);
	out = strndup(p, (size_t) (end - p + 1));
	free(text);
	return out;
}

/*
 * `check` on a catalog store reads each row's position as text: it must
 * tell, as `run` would, whether the configured key opens it, so that a
 * wrong key or none fails the check, not the next start.
 */
static void
check_opens_a_catalog_position_as_run_would(void **state)
{
	char	   *path = temp_path();
	trib_key   *k = key_of("5a");
	char		hex5a[65],
				hexa5[65],
				err[1024] = "";
	trib_checkpoint_conf cc = {0};
	char	   *text,
			   *plain = NULL;

	(void) state;
	memset(hex5a, '5', 64);
	memset(hexa5, 'a', 64);
	for (int i = 1; i < 64; i += 2)
	{
		hex5a[i] = 'a';
		hexa5[i] = '5';
	}
	hex5a[64] = hexa5[64] = '\0';
	save_secret(path, k);
	text = position_text(path);
	assert_non_null(strstr(text, "tributary_sealed"));
	cc.encryption_key = hex5a;
	assert_true(trib_checkpoint_text_opens("p", "s", &cc, text, &plain, err, sizeof(err)));
	assert_string_equal(plain, SECRET_OPAQUE);
	free(plain);
	/* another source's (or pipeline's) row: bound to the names */
	assert_false(trib_checkpoint_text_opens("p", "t", &cc, text, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "checkpoint of pipeline p, source t (catalog table "
						   "tributary.source_checkpoints): the stored position cannot be read"));
	/* the wrong key, never named by its value */
	cc.encryption_key = hexa5;
	assert_false(trib_checkpoint_text_opens("p", "s", &cc, text, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "does not open with the key given"));
	assert_null(strstr(err, "a5a5"));
	/* no key */
	cc.encryption_key = NULL;
	assert_false(trib_checkpoint_text_opens("p", "s", &cc, text, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "set checkpoint.encryption_key"));
	/* a clear position opens with a key or without */
	assert_true(trib_checkpoint_text_opens("p", "s", &cc, SECRET_OPAQUE, NULL, err, sizeof(err)));
	cc.encryption_key = hex5a;
	assert_true(trib_checkpoint_text_opens("p", "s", &cc, SECRET_OPAQUE, NULL, err, sizeof(err)));
	free(text);
	trib_key_free(k);
	cleanup(path);
}

/*
 * Sealing makes a position a third longer (base64): the largest text seal
 * takes (1 MiB) must still load back from the file store, or a pipeline
 * saves a checkpoint it cannot restart from.
 */
static void
a_large_sealed_position_loads_back(void **state)
{
	char	   *path = temp_path();
	trib_key   *k = key_of("5a");
	size_t		n = 1000 * 1000;
	char	   *big = malloc(n + 16),
			   *opaque = NULL,
				err[512] = "";
	trib_position pos = {.commit_lsn = 0x10, .seq = 3};
	trib_checkpoint *ck;

	(void) state;
	strcpy(big, "{\"q\":\"");
	memset(big + 6, 'x', n - 8);
	strcpy(big + n - 2, "\"}");
	pos.opaque = big;
	ck = open_with(path, "p", k);
	assert_true(trib_checkpoint_save(ck, &pos, err, sizeof(err)));
	trib_checkpoint_close(ck);
	if (load_with(path, "p", k, err, sizeof(err), &opaque) != 1)
		fail_msg("a sealed position of %zu bytes does not load back: %s", n, err);
	assert_string_equal(opaque, big);
	free(opaque);
	free(big);
	trib_key_free(k);
	cleanup(path);
}

static void
an_altered_sealed_position_is_an_error(void **state)
{
	char	   *path = temp_path();
	trib_key   *k = key_of("5a");
	char		err[512] = "";
	char	   *text,
			   *opaque = NULL,
			   *d;
	FILE	   *f;

	(void) state;
	save_secret(path, k);
	text = slurp(path);
	d = strstr(text, "\"data\":\"") + 8 + 20;	/* a ciphertext character */
	*d = *d == 'A' ? 'B' : 'A';
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(text);
	assert_int_equal(load_with(path, "p", k, err, sizeof(err), &opaque), TRIB_CHECKPOINT_UNREADABLE);
	assert_null(opaque);
	assert_non_null(strstr(err, "the stored position cannot be read"));
	trib_key_free(k);
	cleanup(path);
}

static void
a_clear_position_from_before_the_key_still_loads(void **state)
{
	char	   *path = temp_path();
	trib_key   *k = key_of("5a");
	char		err[512] = "";
	char	   *opaque = NULL,
			   *text;
	trib_checkpoint *ck;
	trib_position back = {0};

	(void) state;
	save_secret(path, NULL);
	text = slurp(path);
	assert_non_null(strstr(text, "alice"));	/* written without a key */
	free(text);
	assert_int_equal(load_with(path, "p", k, err, sizeof(err), &opaque), 1);
	assert_string_equal(opaque, SECRET_OPAQUE);
	free(opaque);
	/* the next save seals it */
	ck = open_with(path, "p", k);
	assert_int_equal(trib_checkpoint_load(ck, &back, err, sizeof(err)), 1);
	assert_true(trib_checkpoint_save(ck, &back, err, sizeof(err)));
	free(back.opaque);
	trib_checkpoint_close(ck);
	text = slurp(path);
	assert_null(strstr(text, "alice"));
	free(text);
	trib_key_free(k);
	cleanup(path);
}

#define MONGO_YAML(rules, ckpt) \
	"pipeline: m\n" \
	"sources:\n" \
	"  shop:\n" \
	"    type: mongodb\n" \
	"    uri: \"mongodb://127.0.0.1:27017/?replicaSet=rs0\"\n" \
	"    lock_dsn: \"dbname=shop\"\n" \
	"sinks:\n" \
	"  out: {type: stdout}\n" \
	"checkpoint: {store: file, path: /tmp/m.ckpt" ckpt "}\n" \
	"transforms:\n" rules

/* Load yaml; NULL and err filled when it does not load. */
static trib_config *
load(const char *yaml, char *err, size_t errlen)
{
	trib_config *cfg = NULL;

	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, errlen))
		return NULL;
	return cfg;
}

static void
a_masked_mongodb_id_without_a_key_is_reported(void **state)
{
	char		err[4096] = "",
				msg[512] = "";
	trib_config *cfg;

	(void) state;
	cfg = load(MONGO_YAML("  - {type: redact, fields: [_id.email]}\n", ""), err, sizeof(err));
	assert_non_null(cfg);
	assert_true(trib_checkpoint_key_exposed(cfg, msg, sizeof(msg)));
	assert_string_equal(msg, "rule transforms[0] (redact) masks _id.email of source shop, whose "
						"stored positions (resume tokens) hold the clear _id: without "
						"checkpoint.encryption_key the checkpoint store keeps it readable");
	trib_config_free(cfg);
	/* with a key: sealed, nothing to report */
	cfg = load(MONGO_YAML("  - {type: redact, fields: [_id]}\n",
						  ", encryption_key: \"" "0123456789abcdef0123456789abcdef"
						  "0123456789abcdef0123456789abcdef\""), err, sizeof(err));
	assert_non_null(cfg);
	assert_false(trib_checkpoint_key_exposed(cfg, msg, sizeof(msg)));
	trib_config_free(cfg);
	/* a rule on another field, or one for another source, is not the key */
	cfg = load(MONGO_YAML("  - {type: redact, fields: [_idx, email]}\n"
						  "  - {type: redact, sources: [other], fields: [_id]}\n", ""),
			   err, sizeof(err));
	assert_non_null(cfg);
	assert_false(trib_checkpoint_key_exposed(cfg, msg, sizeof(msg)));
	trib_config_free(cfg);
}

/*
 * A rule's fields are paths whose segments may be globs (jpath.h): a rule
 * on every field (`*`), on `_*`, or on `*.email` masks _id (or a member
 * of it) as surely as one that names it, and the warning must say so; a
 * literal dot (`_id\\.x`, one top-level field) or `_id?` is not _id.
 */
static void
a_glob_that_reaches_the_mongodb_id_is_reported(void **state)
{
	static const char *const reach[] = {"[\"*\"]", "[\"_*\"]", "[\"*.email\"]", "[\"_i?\"]",
	"[\"[_]id\"]", "[\"*_id\"]"};
	char		err[4096] = "",
				msg[512] = "",
				yaml[2048];
	trib_config *cfg;

	(void) state;
	for (size_t i = 0; i < sizeof(reach) / sizeof(reach[0]); i++)
	{
		char		rule[128];

		snprintf(rule, sizeof(rule), "  - {type: redact, fields: %s}\n", reach[i]);
		snprintf(yaml, sizeof(yaml), MONGO_YAML("%s", ""), rule);
		cfg = load(yaml, err, sizeof(err));
		if (cfg == NULL)
			fail_msg("%s: %s", reach[i], err);
		msg[0] = '\0';
		if (!trib_checkpoint_key_exposed(cfg, msg, sizeof(msg)))
			fail_msg("fields %s reach _id but no warning", reach[i]);
		assert_non_null(strstr(msg, "of source shop"));
		trib_config_free(cfg);
	}
	/* globs and escapes that do not reach _id */
	cfg = load(MONGO_YAML("  - {type: redact, fields: [\"_id\\\\.x\", \"e*\", \"_id?\"]}\n", ""),
			   err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_false(trib_checkpoint_key_exposed(cfg, msg, sizeof(msg)));
	trib_config_free(cfg);
}

/* `check`'s checkpoint part for yaml into *out (malloc'd); its problems. */
static int
check_part(const char *yaml, char **out)
{
	char		err[4096] = "";
	trib_config *cfg = load(yaml, err, sizeof(err));
	trib_check_report rep = {0};
	size_t		len = 0;
	int			problems;

	if (cfg == NULL)
		fail_msg("%s", err);
	rep.out = open_memstream(out, &len);
	assert_non_null(rep.out);
	trib_checkpoint_check(cfg, &rep);
	fclose(rep.out);
	problems = rep.problems;
	trib_check_report_free(&rep);
	trib_config_free(cfg);
	return problems;
}

/*
 * The file store's pause state (PATH.paused) is sealed like the positions;
 * `check` reads it as `run` would, so a wrong key or none is a problem
 * there too, named, without key material.
 */
static void
check_reads_a_sealed_pause_file_as_run_would(void **state)
{
	char	   *path = temp_path(),
			   *paused = malloc(strlen(path) + 8),
			   *out = NULL,
				yaml[2048],
				err[256] = "";
	trib_key   *k = key_of("5a");
	trib_position pos = {.opaque = "{\"sources\":[\"shop\"],\"sinks\":[]}"};
	trib_checkpoint *ck;
	const char *fmt = "pipeline: m\n"
		"sources:\n  shop: {type: postgres, dsn: \"dbname=x\", slot: s}\n"
		"sinks:\n  out: {type: stdout}\n"
		"checkpoint: {store: file, path: \"%s\"%s}\n";

	(void) state;
	sprintf(paused, "%s.paused", path);
	ck = trib_checkpoint_open(TRIB_CKPT_FILE, paused, "m", TRIB_PAUSE_KEY, &trib_merge_pos_ops,
							  err, sizeof(err));
	assert_non_null(ck);
	trib_checkpoint_set_key(ck, k);
	assert_true(trib_checkpoint_save(ck, &pos, err, sizeof(err)));
	trib_checkpoint_close(ck);
	/* the right key: read, no problem */
	snprintf(yaml, sizeof(yaml), fmt, path, ", encryption_key: \""
			 "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\"");
	assert_int_equal(check_part(yaml, &out), 0);
	assert_non_null(strstr(out, "pause state kept in"));
	free(out);
	/* a wrong key */
	snprintf(yaml, sizeof(yaml), fmt, path, ", encryption_key: \""
			 "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\"");
	assert_int_equal(check_part(yaml, &out), 1);
	if (strstr(out, "cannot read the pause state: checkpoint of pipeline m, source ~paused "
			   "(file ") == NULL || strstr(out, "does not open with the key given") == NULL)
		fail_msg("unexpected check output:\n%s", out);
	assert_null(strstr(out, "a5a5"));
	free(out);
	/* no key */
	snprintf(yaml, sizeof(yaml), fmt, path, "");
	assert_int_equal(check_part(yaml, &out), 1);
	assert_non_null(strstr(out, "set checkpoint.encryption_key"));
	free(out);
	unlink(paused);
	free(paused);
	trib_key_free(k);
	cleanup(path);
}

static void
a_checkpoint_key_of_the_wrong_length_does_not_load(void **state)
{
	char		err[4096] = "";

	(void) state;
	assert_null(load(MONGO_YAML("  - {type: redact, fields: [_id]}\n",
								", encryption_key: \"00112233445566778899aabbccddeeff\""),
					 err, sizeof(err)));
	assert_non_null(strstr(err, "checkpoint.encryption_key is 16 bytes"));
	assert_non_null(strstr(err, "32 bytes"));
	assert_null(strstr(err, "00112233"));
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
		cmocka_unit_test(a_sealed_position_hides_the_opaque_and_loads_back),
		cmocka_unit_test(a_wrong_key_no_key_or_another_pipeline_is_an_error),
		cmocka_unit_test(an_altered_sealed_position_is_an_error),
		cmocka_unit_test(a_clear_position_from_before_the_key_still_loads),
		cmocka_unit_test(a_masked_mongodb_id_without_a_key_is_reported),
		cmocka_unit_test(a_checkpoint_key_of_the_wrong_length_does_not_load),
		cmocka_unit_test(a_glob_that_reaches_the_mongodb_id_is_reported),
		cmocka_unit_test(check_opens_a_catalog_position_as_run_would),
		cmocka_unit_test(check_reads_a_sealed_pause_file_as_run_would),
		cmocka_unit_test(a_large_sealed_position_loads_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
