/*
 * test_pgrecord_fast.c: the record parser's fast scan (pgrecord_fast.c)
 * against yajl's parse (pgrecord_scan.c), record by record.
 *
 * Every record here is parsed by two parsers, one with the fast scan (the
 * default) and one without (trib_pgrec_parser_set_fast(p, false)); the two
 * must agree on success or failure, the error message and every field of
 * the record and its event (trib_pgrec_digest), byte for byte.  The
 * records are the plugin's usual shapes (as W1 writes them, jsonb with
 * its spaces, updates and deletes with old images, UTF-8 text), the
 * shapes the scan hands to yajl (escapes, unknown fields, relation
 * records, JSON null lists, deep nesting) and malformed variants.  A few
 * checks call pgr_fast_scan() directly, to show it takes the usual
 * records and refuses the others, so the comparison covers both paths.
 * The replay of repeated runs (pgrecord_fast.c, "Replay") is checked by
 * parsing records after others and comparing with a new parser's result:
 * every byte of the W1 record's top-level fields changed in turn, and
 * sequences of other kinds, key orders and values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pgrecord.h"
#include "pgrecord_int.h"

static const char REL_W1[] =
	"{\"kind\":\"relation\",\"xid\":725,\"commit_lsn\":\"0/E86E408\",\"ts\":\"2026-12-06T03:23:20.787576Z\",\"lsn\":\"0/153C218\",\"relid\":16385,\"schema\":\"public\",\"table\":\"bench_events\",\"replica_identity\":\"default\",\"columns\":[{\"name\":\"id\",\"type\":\"bigint\",\"type_oid\":20,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},{\"name\":\"name\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"email\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"amount\",\"type\":\"numeric(12,2)\",\"type_oid\":1700,\"typmod\":786438,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"created\",\"type\":\"timestamp with time zone\",\"type_oid\":1184,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"active\",\"type\":\"boolean\",\"type_oid\":16,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false},{\"name\":\"meta\",\"type\":\"jsonb\",\"type_oid\":3802,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}],\"primary_key\":[\"id\"],\"identity_key\":[\"id\"]}";

#define HEAD(kind) "{\"kind\":\"" kind "\",\"xid\":725,\"commit_lsn\":\"0/E86E408\",\"ts\":\"2026-12-06T03:23:20.787576Z\""
#define CHG(kind) HEAD(kind) ",\"lsn\":\"0/153C218\",\"seq\":7,\"schema\":\"public\",\"table\":\"bench_events\""
#define ROW "{\"id\":1,\"name\":\"name1\",\"email\":\"user1@example.com\",\"amount\":1.50,\"created\":\"2026-12-06T03:23:18.235674Z\",\"active\":false,\"meta\":{\"k\": 1}}"

/* Records the fast scan takes: the plugin's usual output. */
static const char *const taken[] = {
	HEAD("begin") "}",
	HEAD("commit") ",\"end_lsn\":\"0/E86E438\",\"changes\":1000000}",
	CHG("insert") ",\"new\":" ROW "}",
	CHG("update") ",\"old\":{\"id\":1},\"new\":" ROW "}",
	CHG("update") ",\"old\":null,\"new\":" ROW "}",
	CHG("delete") ",\"old\":{\"id\":1}}",
	CHG("insert") ",\"new\":{}}",
	CHG("insert") ",\"new\":{\"id\":2,\"name\":\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80\",\"meta\":{\"a\": [1, 2.50, -0.5e+3, 1E9, true, null, {}, []], \"b\": {\"c\": \"d\"}}}}",
	CHG("insert") ",\"new\":{\"id\":-0,\"name\":null,\"amount\":123456789012345678901234567890.000001,\"active\":true}}",
	" { \"kind\" : \"insert\" ,\t\"xid\":725,\"commit_lsn\":\"0/E86E408\",\"ts\":\"2026-12-06T03:23:20.787576Z\",\"lsn\":\"0/153C218\",\"seq\":7,\"schema\":\"public\",\"table\":\"bench_events\",\r\n\"new\" : { \"id\" : 3 , \"name\" : \"x\" } } \n",
	HEAD("message") ",\"lsn\":\"0/153C218\",\"seq\":0,\"transactional\":true,\"prefix\":\"app\",\"encoding\":\"utf8\",\"content\":\"p1\"}",
};

/* Records the fast scan takes and the checks after it refuse (a field
 * of the wrong type, a missing field, an unknown kind): the same error
 * either way. */
static const char *const checked[] = {
	CHG("insert") ",\"new\":\"row\"}",
	CHG("insert") "}",
	"{}",
	"{\"kind\":1}",
	"{\"kind\":\"bogus\",\"xid\":1}",
};

/* Records the fast scan hands to yajl; the results must still agree. */
static const char *const handed[] = {
	REL_W1,
	CHG("insert") ",\"new\":{\"id\":4,\"name\":\"a \\\"q\\\" \\\\ \\n \\u00e9\"}}",
	CHG("insert") ",\"new\":{\"i\\u0064\":5}}",
	CHG("insert") ",\"new\":{\"id\":6},\"future_field\":{\"x\":1}}",
	CHG("insert") ",\"new\":{\"id\":7,\"meta\":null},\"json_nulls\":[\"meta\"]}",
	CHG("update") ",\"old\":{\"id\":1},\"new\":{\"id\":1},\"unchanged_toast\":[\"name\"]}",
	CHG("insert") ",\"new\":{\"id\":8,\"meta\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
	CHG("insert") ",\"new\":{\"id\":9,\"name\":\"\xc3\x28\"}}",
	CHG("insert") ",\"new\":{\"id\":10,\"name\":\"\xe2\x82\"}}",
	CHG("insert") ",\"new\":{\"id\":11,\"name\":\"tab\there\"}}",
	CHG("insert") ",\"kind\":\"delete\",\"new\":{\"id\":12}}",
	CHG("insert") ",\"new\":{\"id\":13}}x",
	CHG("insert") ",\"new\":{\"id\":14}}\v",
	CHG("insert") ",\"new\":{\"id\":015}}",
	CHG("insert") ",\"new\":{\"id\":1.}}",
	CHG("insert") ",\"new\":{\"id\":1e}}",
	CHG("insert") ",\"new\":{\"id\":-}}",
	CHG("insert") ",\"new\":{\"id\":1,}}",
	CHG("insert") ",\"new\":{\"id\" 1}}",
	CHG("insert") ",\"new\":{\"id\":1 2}}",
	CHG("insert") ",\"new\":{\"id\":tru}}",
	CHG("insert") ",\"new\":{\"id\":nul}}",
	CHG("insert") ",\"new\":{\"id\":1,\"m\":{\"a\":1,}}}",
	CHG("insert") ",\"new\":{\"id\":1,\"m\":[1 2]}}",
	CHG("insert") ",\"new\":{\"id\":1,\"m\":{\"a\"}}}",
	CHG("insert") ",\"new\":{\"id\":1",
	CHG("insert") ",\"new\":[1,2]}",
	CHG("insert") ",\"new\":{\"id\":1},\"seq\":\"x\"}",
	"[1,2]",
	"",
	"{\"kind\":\"insert\"",
};

/* Parse text with both parsers and compare everything. */
static void
compare(trib_pgrec_parser *fast, trib_pgrec_parser *slow, const char *text)
{
	trib_pgrec *a = NULL,
			   *b = NULL;
	char		ea[256] = "",
				eb[256] = "";
	size_t		n = strlen(text);
	bool		oka = trib_pgrec_parser_parse(fast, text, n, &a, ea, sizeof(ea));
	bool		okb = trib_pgrec_parser_parse(slow, text, n, &b, eb, sizeof(eb));

	if (oka != okb)
		fail_msg("%s\nfast %s (%s), yajl %s (%s)", text, oka ? "ok" : "failed", ea,
				 okb ? "ok" : "failed", eb);
	if (!oka)
		assert_string_equal(ea, eb);
	else
	{
		char	   *da = trib_pgrec_digest(a);
		char	   *db = trib_pgrec_digest(b);

		assert_string_equal(da, db);
		free(da);
		free(db);
	}
	trib_pgrec_free(a);
	trib_pgrec_free(b);
}

/* Does pgr_fast_scan take this record? */
static bool
scan_takes(const char *text)
{
	pgr_pstate	st;
	trib_arena	arena;
	bool		ok;

	memset(&st, 0, sizeof(st));
	trib_arena_init(&arena, 0);
	st.arena = &arena;
	st.text = text;
	st.len = strlen(text);
	ok = pgr_fast_scan(&st);
	free(st.img[0].m);
	free(st.img[1].m);
	trib_arena_free(&arena);
	return ok;
}

/* Both parsers, with the W1 relation known to each. */
static void
parsers(trib_pgrec_parser **fast, trib_pgrec_parser **slow)
{
	*fast = trib_pgrec_parser_new("t", "db");
	*slow = trib_pgrec_parser_new("t", "db");
	trib_pgrec_parser_set_fast(*slow, false);
	compare(*fast, *slow, REL_W1);
}

#define NREC(list) (sizeof(list) / sizeof((list)[0]))

/* Each record of list: the scan takes it or not, as `takes` says, and
 * both parsers agree on it. */
static void
check_list(const char *const *list, size_t n, bool takes)
{
	trib_pgrec_parser *fast,
			   *slow;

	parsers(&fast, &slow);
	for (size_t i = 0; i < n; i++)
	{
		if (scan_takes(list[i]) != takes)
			fail_msg("the fast scan %s: %s", takes ? "refused a record it takes"
					 : "took a record it must hand over", list[i]);
		compare(fast, slow, list[i]);
	}
	trib_pgrec_parser_free(fast);
	trib_pgrec_parser_free(slow);
}

/* The usual records: the scan takes them, and both paths agree. */
static void
test_fast_usual_records_match_yajl(void **state)
{
	(void) state;
	check_list(taken, NREC(taken), true);
}

/* The rest: the scan hands them over (or takes them, and the checks
 * refuse them), and both paths agree, errors included. */
static void
test_fast_other_records_match_yajl(void **state)
{
	(void) state;
	check_list(handed, NREC(handed), false);
	check_list(checked, NREC(checked), true);
}

/* Every prefix of a usual record (truncated input): both agree. */
static void
test_fast_truncated_records_match_yajl(void **state)
{
	trib_pgrec_parser *fast,
			   *slow;
	char		buf[1024];

	(void) state;
	parsers(&fast, &slow);
	for (size_t i = 0; i < NREC(taken); i++)
		for (size_t n = 0; n < strlen(taken[i]) && n < sizeof(buf); n++)
		{
			memcpy(buf, taken[i], n);
			buf[n] = '\0';
			compare(fast, slow, buf);
		}
	trib_pgrec_parser_free(fast);
	trib_pgrec_parser_free(slow);
}

/* The fast scan tries first the key that followed the previous one in
 * the last record (pstate.follow): records in the usual order, in
 * another order, and keys that look like the guess but are not it (a
 * byte shorter or longer, cut off, repeated) give what yajl gives. */
static void
test_fast_key_guesses_match_yajl(void **state)
{
	static const char *const seq[] = {
		CHG("insert") ",\"new\":" ROW "}",
		CHG("insert") ",\"new\":" ROW "}",
		"{\"xid\":725,\"kind\":\"insert\",\"ts\":\"2026-12-06T03:23:20.787576Z\",\"commit_lsn\":\"0/E86E408\",\"seq\":7,\"lsn\":\"0/153C218\",\"table\":\"bench_events\",\"schema\":\"public\",\"new\":{\"id\":2}}",
		CHG("insert") ",\"new\":" ROW "}",
		"{\"kind\":\"insert\",\"xi\":725}",
		"{\"kind\":\"insert\",\"xidd\":725}",
		"{\"kind\":\"insert\",\"xid\":725,\"kind\":\"insert\"}",
		"{\"kind\":\"insert\",\"xid",
		"{\"kind\":\"insert\",\"xid\"",
		"{\"kind\":\"insert\",\"x\"",
		HEAD("begin") "}",
		HEAD("commit") ",\"end_lsn\":\"0/E86E438\",\"changes\":1}",
		CHG("delete") ",\"old\":{\"id\":1}}",
		CHG("delete") ",\"old\":{\"id\":1}}",
	};
	trib_pgrec_parser *fast,
			   *slow;

	(void) state;
	parsers(&fast, &slow);
	for (size_t i = 0; i < NREC(seq); i++)
		compare(fast, slow, seq[i]);
	trib_pgrec_parser_free(fast);
	trib_pgrec_parser_free(slow);
}

/* A parse leaves nothing behind in the parser's state (pstate, cleared
 * field by field after each record): every record parsed right after
 * each other record gives what a new parser gives. */
static void
test_parse_after_any_record_matches_new_parser(void **state)
{
	const char *all[NREC(taken) + NREC(checked) + NREC(handed)];
	size_t		n = 0;

	(void) state;
	for (size_t i = 0; i < NREC(taken); i++)
		all[n++] = taken[i];
	for (size_t i = 0; i < NREC(checked); i++)
		all[n++] = checked[i];
	for (size_t i = 0; i < NREC(handed); i++)
		all[n++] = handed[i];
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
		{
			trib_pgrec_parser *used,
					   *fresh,
					   *slow;
			trib_pgrec *r = NULL;
			char		err[256];

			parsers(&used, &slow);
			trib_pgrec_parser_free(slow);
			parsers(&fresh, &slow);
			trib_pgrec_parser_free(slow);
			(void) trib_pgrec_parser_parse(used, all[i], strlen(all[i]), &r, err, sizeof(err));
			trib_pgrec_free(r);
			compare(used, fresh, all[j]);
			trib_pgrec_parser_free(used);
			trib_pgrec_parser_free(fresh);
		}
}

/* ---------------------------------------------------------------------- */
/* replay: runs of the last record's top-level fields (pgrecord_fast.c) */

/* A new parser that knows the W1 relation. */
static trib_pgrec_parser *
w1_parser(void)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new("t", "db");
	trib_pgrec *r = NULL;
	char		err[256];

	if (!trib_pgrec_parser_parse(p, REL_W1, strlen(REL_W1), &r, err, sizeof(err)))
		fail_msg("the W1 relation record: %s", err);
	trib_pgrec_free(r);
	return p;
}

/* Parse text with `used` (which parsed the records before it) and with a
 * new parser (no last record: the full scan); both must agree on success,
 * the error and every field (trib_pgrec_digest).  Returns the segments
 * `used` replayed. */
static uint64_t
compare_with_new(trib_pgrec_parser *used, const char *text, size_t n)
{
	trib_pgrec_parser *fresh = w1_parser();
	trib_pgrec *a = NULL,
			   *b = NULL;
	char		ea[256] = "",
				eb[256] = "";
	uint64_t	before = used->replay->replayed;
	bool		oka = trib_pgrec_parser_parse(used, text, n, &a, ea, sizeof(ea));
	bool		okb = trib_pgrec_parser_parse(fresh, text, n, &b, eb, sizeof(eb));

	if (oka != okb)
		fail_msg("%.*s\nafter the last record %s (%s), new parser %s (%s)", (int) n, text,
				 oka ? "ok" : "failed", ea, okb ? "ok" : "failed", eb);
	if (!oka)
		assert_string_equal(ea, eb);
	else
	{
		char	   *da = trib_pgrec_digest(a);
		char	   *db = trib_pgrec_digest(b);

		if (strcmp(da, db) != 0)
			fail_msg("%.*s\nafter the last record: %s\nnew parser:           %s",
					 (int) n, text, da, db);
		free(da);
		free(db);
	}
	trib_pgrec_free(a);
	trib_pgrec_free(b);
	trib_pgrec_parser_free(fresh);
	return used->replay->replayed - before;
}

#define W1_HEAD "{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\""
#define W1_REC W1_HEAD ",\"new\":" ROW "}"

/* A W1 record after itself: its top-level fields up to the row image
 * are replayed, not scanned (the shortcut is taken), with the same
 * record as the full scan's. */
static void
test_replay_takes_repeated_w1_fields(void **state)
{
	trib_pgrec_parser *p = w1_parser();

	(void) state;
	assert_int_equal(compare_with_new(p, W1_REC, strlen(W1_REC)), 0);
	/* kind, xid, commit_lsn, ts, lsn, seq, schema, table */
	assert_int_equal(compare_with_new(p, W1_REC, strlen(W1_REC)), 8);
	trib_pgrec_parser_free(p);
}

/* As in a transaction: after its begin record, the first insert is kept
 * (its kind is not the kept begin's), so the next inserts, whose lsn and
 * seq differ, replay kind, xid, commit_lsn, ts, schema and table. */
static void
test_replay_keeps_the_first_change_after_begin(void **state)
{
	static const char *const recs[] = {
		"{\"kind\":\"begin\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\"}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F100\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":1}}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F1C8\",\"seq\":1,\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":2}}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F290\",\"seq\":2,\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":3}}",
	};
	trib_pgrec_parser *p = w1_parser();

	(void) state;
	compare_with_new(p, recs[0], strlen(recs[0]));
	compare_with_new(p, recs[1], strlen(recs[1]));
	assert_int_equal(compare_with_new(p, recs[2], strlen(recs[2])), 6);
	assert_int_equal(compare_with_new(p, recs[3], strlen(recs[3])), 6);
	trib_pgrec_parser_free(p);
}

/*
 * Each byte of the W1 record's top-level fields (all before the row
 * image), changed to each of a few bytes (another digit or letter, a
 * quote, a comma, a space, a backslash, a NUL, a byte above 0x7f),
 * between records that are otherwise the W1 record: the record after the
 * W1 record, the W1 record after it, and each twice, give what a new
 * parser gives, errors included.
 */
static void
test_replay_any_changed_byte_matches_new_parser(void **state)
{
	static const char subst[] = {'1', '9', 'a', 'K', '"', ',', ' ', '\\', ':', '}', '\0', (char) 0xc3};
	const char *base = W1_REC;
	size_t		n = strlen(base),
				head = strlen(W1_HEAD) + 1;	/* and the comma before "new" */
	char		buf[512];
	uint64_t	replayed = 0;

	(void) state;
	assert_true(n < sizeof(buf));
	for (size_t d = 0; d < head; d++)
		for (size_t k = 0; k < sizeof(subst); k++)
		{
			trib_pgrec_parser *p;

			if (base[d] == subst[k])
				continue;
			p = w1_parser();
			memcpy(buf, base, n);
			buf[d] = subst[k];
			replayed += compare_with_new(p, base, n);
			replayed += compare_with_new(p, buf, n);
			replayed += compare_with_new(p, buf, n);
			replayed += compare_with_new(p, base, n);
			replayed += compare_with_new(p, base, n);
			trib_pgrec_parser_free(p);
		}
	assert_true(replayed > 0);
}

/* Records in other key orders, other kinds, with whitespace, with a field
 * repeated that a run would set again, with a different xid, commit_lsn,
 * ts, schema or table, one after the other in every pair: what a new
 * parser gives. */
static void
test_replay_sequences_match_new_parser(void **state)
{
	static const char *const recs[] = {
		W1_REC,
		"{\"kind\":\"insert\",\"xid\":742,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":2}}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C9\",\"ts\":\"2026-12-07T08:00:00.123457Z\",\"lsn\":\"0/1A4F2D0\",\"seq\":1,\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":3}}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"other\",\"table\":\"bench_events\",\"new\":{\"id\":4}}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_event\",\"new\":{\"id\":5}}",
		"{\"kind\":\"update\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\",\"old\":null,\"new\":{\"id\":6}}",
		"{\"kind\":\"delete\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\",\"old\":{\"id\":7}}",
		"{\"xid\":741,\"kind\":\"insert\",\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"table\":\"bench_events\",\"schema\":\"public\",\"new\":{\"id\":8}}",
		"{\"table\":\"bench_events\",\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":9}}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"kind\":\"insert\",\"xid\":741,\"new\":{\"id\":10}}",
		"{\"kind\":\"insert\", \"xid\":741,\"commit_lsn\":\"0/1A4F2C8\" ,\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":11}}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":12},\"json_nulls\":[]}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\"}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\",",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00",
		"{\"kind\":\"message\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"transactional\":true,\"prefix\":\"app\",\"encoding\":\"utf8\",\"content\":\"p1\"}",
		"{\"kind\":\"message\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"transactional\":false,\"prefix\":\"app\",\"encoding\":\"utf8\",\"content\":\"p1\"}",
		"{\"kind\":\"begin\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\"}",
		"{\"kind\":\"commit\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"end_lsn\":\"0/1A4F2F8\",\"changes\":2}",
		"{\"kind\":\"insert\",\"xid\":4294967296,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-12-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":13}}",
		"{\"kind\":\"insert\",\"xid\":741,\"commit_lsn\":\"0/1A4F2C8\",\"ts\":\"2026-13-07T08:00:00.123456Z\",\"lsn\":\"0/1A4F2C8\",\"seq\":0,\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":14}}",
		CHG("insert") ",\"new\":" ROW "}",
		REL_W1,
	};

	(void) state;
	for (size_t i = 0; i < NREC(recs); i++)
		for (size_t j = 0; j < NREC(recs); j++)
		{
			trib_pgrec_parser *p = w1_parser();

			compare_with_new(p, recs[i], strlen(recs[i]));
			compare_with_new(p, recs[j], strlen(recs[j]));
			compare_with_new(p, recs[j], strlen(recs[j]));
			compare_with_new(p, recs[i], strlen(recs[i]));
			trib_pgrec_parser_free(p);
		}
}

/* pgr_same_short (pgrecord_int.h) says what memcmp says, for every
 * length up to 40 and one differing byte at each position. */
static void
test_same_short_matches_memcmp(void **state)
{
	char		a[48],
				b[48];

	(void) state;
	for (size_t n = 0; n <= 40; n++)
	{
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (char) ('a' + i % 26);
		if (!pgr_same_short(a, b, n))
			fail_msg("length %zu: equal bytes judged different", n);
		for (size_t d = 0; d < n; d++)
		{
			b[d] ^= 0x20;
			if (pgr_same_short(a, b, n) != (memcmp(a, b, n) == 0))
				fail_msg("length %zu, byte %zu differs: expected %d, got %d", n, d,
						 memcmp(a, b, n) == 0, pgr_same_short(a, b, n));
			b[d] ^= 0x20;
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_usual_records_match_yajl),
		cmocka_unit_test(test_fast_other_records_match_yajl),
		cmocka_unit_test(test_fast_truncated_records_match_yajl),
		cmocka_unit_test(test_fast_key_guesses_match_yajl),
		cmocka_unit_test(test_parse_after_any_record_matches_new_parser),
		cmocka_unit_test(test_replay_takes_repeated_w1_fields),
		cmocka_unit_test(test_replay_keeps_the_first_change_after_begin),
		cmocka_unit_test(test_replay_any_changed_byte_matches_new_parser),
		cmocka_unit_test(test_replay_sequences_match_new_parser),
		cmocka_unit_test(test_same_short_matches_memcmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
