/*
 * fuzz_image_index.c: libFuzzer target for the image index the PostgreSQL
 * record parse leaves on an event (event.h, source/pg/pgrecord_build.c)
 * and the rules' text path that reads it (transform/rules_splice.c).
 *
 * The input is split into lines, each parsed as a plugin record by one
 * parser that lives across inputs (it starts knowing public.t, keyed by
 * id and k2; relation records in the input add tables).  Every change
 * event goes through the same masking rules twice, once as parsed (with
 * its index) and once with the index taken away (the rules scan the
 * images): verdict, error, after, key, before and dead-letter reason must
 * be the same byte for byte, or the target aborts.  The parse and the
 * rules must never crash, report a sanitizer error or leak.
 *
 * Build and run: make -C consumer fuzz (clang), corpus in
 * fuzz/corpus/image_index/.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "pgrecord.h"
#include "rules.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define K "key: \"00112233445566778899aabbccddeeff\""

static const char yaml[] =
	"pipeline: f\n"
	"sources:\n  pg: {type: postgres, dsn: \"dbname=x\", snapshot: never}\n"
	"sinks:\n  out: {type: stdout}\n"
	"transforms:\n"
	"  - {type: substitute, fields: [name], kind: full_name, " K "}\n"
	"  - {type: hash, fields: [email, k2], context: email, " K "}\n"
	"  - {type: perturb, fields: [amount], percent: 5, " K "}\n"
	"  - {type: partial, fields: [meta.k, note], keep_last: 2}\n"
	"  - {type: tokenize, fields: [id], alphabet: digits, " K "}\n"
	"  - {type: redact, fields: [meta.j, doc]}\n";

static const char relation[] =
	"{\"kind\":\"relation\",\"xid\":700,\"commit_lsn\":\"0/1000000\",\"ts\":\"2026-11-22T10:00:00Z\","
	"\"lsn\":\"0/1000000\",\"relid\":16384,\"schema\":\"public\",\"table\":\"t\","
	"\"replica_identity\":\"default\",\"columns\":["
	"{\"name\":\"id\",\"type\":\"bigint\",\"type_oid\":20,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},"
	"{\"name\":\"k2\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true}],"
	"\"primary_key\":[\"id\",\"k2\"],\"identity_key\":[\"id\",\"k2\"]}";

static trib_pgrec_parser *parser;
static trib_config *cfg;
static trib_rules *rules;

typedef struct outcome
{
	trib_verdict v;
	char		err[512];
	char	   *s[4];			/* after, key, before, error */
} outcome;

/* ev (consumed) through the rules. */
static void
run(trib_event *ev, outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->v = trib_rules_apply(rules, ev, o->err, sizeof(o->err));
	o->s[0] = ev->after ? strdup(ev->after) : NULL;
	o->s[1] = ev->key ? strdup(ev->key) : NULL;
	o->s[2] = ev->before ? strdup(ev->before) : NULL;
	o->s[3] = ev->error ? strdup(ev->error) : NULL;
	trib_event_free(ev);
}

/* The event with and without its index: the same outcome, or abort. */
static void
check(trib_event *ev)
{
	trib_event *plain = trib_event_new();
	outcome		a,
				b;

	trib_event_copy(ev, plain);
	free(plain->image_index);
	plain->image_index = NULL;
	run(ev, &a);
	run(plain, &b);
	if (a.v != b.v || strcmp(a.err, b.err) != 0)
	{
		fprintf(stderr, "indexed and scanned differ: %d \"%s\" against %d \"%s\"\n",
				a.v, a.err, b.v, b.err);
		abort();
	}
	for (int i = 0; i < 4; i++)
	{
		if ((a.s[i] == NULL) != (b.s[i] == NULL) || (a.s[i] && strcmp(a.s[i], b.s[i]) != 0))
		{
			fprintf(stderr, "indexed and scanned differ (%d):\n  %s\n  %s\n", i,
					a.s[i] ? a.s[i] : "(null)", b.s[i] ? b.s[i] : "(null)");
			abort();
		}
		free(a.s[i]);
		free(b.s[i]);
	}
}

static void
init(void)
{
	char		err[512];
	trib_pgrec *r = NULL;

	parser = trib_pgrec_parser_new("pg", "db");
	trib_pgrec_parser_set_image_index(parser, true);
	if (!trib_pgrec_parser_parse(parser, relation, strlen(relation), &r, err, sizeof(err)))
		abort();
	trib_pgrec_free(r);
	if (!trib_config_load_buffer("f.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)) ||
		(rules = trib_rules_new(cfg, NULL, err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "%s\n", err);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *) data;
	size_t		pos = 0;

	if (parser == NULL)
		init();
	while (pos < size)
	{
		size_t		next;
		size_t		n = trib_pgrec_next_line(text + pos, size - pos, &next);
		trib_pgrec *r = NULL;
		char		err[256];

		if (n > 0 && trib_pgrec_parser_parse(parser, text + pos, n, &r, err, sizeof(err)) && r)
		{
			trib_event *ev = trib_pgrec_take_event(r);

			if (ev != NULL && ev->image_index != NULL)
				check(ev);
			else
				trib_event_free(ev);
		}
		trib_pgrec_free(r);
		if (next == 0)
			break;
		pos += next;
	}
	return 0;
}
