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
		cmocka_unit_test(test_same_short_matches_memcmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
