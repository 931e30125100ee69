/*
 * fuzz_pgrecord.c: libFuzzer target for the plugin record parser, the
 * assembler (source/pg/pgrecord.c) and the stage that holds prepared
 * transactions (source/pg/pgprepared.c).
 *
 * The input is treated like one XLogData payload: split into lines, each
 * line parsed and, when it parses, pushed through the assembler and on
 * into pgprep (with a small memory budget, so larger inputs spill to
 * files in $TMPDIR); then everything deliverable is popped and freed.
 * One parser lives across inputs, so relation metadata from earlier
 * inputs meets later changes, as in a real session.  Any crash, sanitizer
 * report or leak is a bug: a malformed record must only ever produce an
 * error.
 *
 * Each line is also parsed by a second parser with the fast scan off
 * (yajl's parse alone, trib_pgrec_parser_set_fast): both must agree on
 * success or failure, the error message and every field of the record
 * (trib_pgrec_digest), or the target aborts.  Delivered records go back
 * to the first parser (trib_pgrec_release, as the daemon's source does),
 * so its changes are parsed into reused blocks and the second parser's
 * into fresh memory: a field left over from a block's earlier record
 * shows as a difference.
 *
 * Build and run: make -C consumer fuzz (clang), corpus in
 * fuzz/corpus/pgrecord/.  The seed corpus holds real records captured
 * from the plugin.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "pgprepared.h"
#include "pgrecord.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static trib_pgrec_parser *parser;
static trib_pgrec_parser *slow;		/* yajl's parse alone */
static unsigned runs;

/* Parse one line with the slow parser too; abort if the two disagree. */
static void
compare_paths(const char *text, size_t n, bool ok, const trib_pgrec *r,
			  const char *err)
{
	trib_pgrec *s = NULL;
	char		serr[256] = "";
	bool		sok = trib_pgrec_parser_parse(slow, text, n, &s, serr, sizeof(serr));

	if (sok != ok || (!ok && strcmp(err, serr) != 0))
	{
		fprintf(stderr, "fast and yajl parses differ: %d \"%s\" against %d \"%s\"\n",
				ok, ok ? "" : err, sok, sok ? "" : serr);
		abort();
	}
	if (ok)
	{
		char	   *a = trib_pgrec_digest(r);
		char	   *b = trib_pgrec_digest(s);

		if (strcmp(a, b) != 0)
		{
			fprintf(stderr, "fast and yajl records differ:\n%s\n%s\n", a, b);
			abort();
		}
		free(a);
		free(b);
	}
	trib_pgrec_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	trib_pgasm *a = trib_pgasm_new();
	trib_pgprep_conf pc = {.spill_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		.spill_prefix = "tributary.fuzz.", .memory_bytes = 4096};
	trib_pgprep *h = trib_pgprep_new(&pc);
	const char *text = (const char *) data;
	size_t		off = 0;
	char		err[256];
	trib_pgrec *r;

	/* Start over now and then, so invented tables do not pile up. */
	if (parser && ++runs % 10000 == 0)
	{
		trib_pgrec_parser_free(parser);
		trib_pgrec_parser_free(slow);
		parser = NULL;
	}
	if (!parser)
	{
		parser = trib_pgrec_parser_new("fuzz", "db");
		slow = trib_pgrec_parser_new("fuzz", "db");
		trib_pgrec_parser_set_fast(slow, false);
	}
	while (off < size)
	{
		size_t		next;
		size_t		n = trib_pgrec_next_line(text + off, size - off, &next);

		bool		ok = n > 0 && trib_pgrec_parser_parse(parser, text + off, n, &r, err, sizeof(err));

		if (n > 0)
			compare_paths(text + off, n, ok, ok ? r : NULL, err);
		if (ok)
		{
			if (r->ev && r->ev->after)
				(void) strlen(r->ev->after);
			(void) trib_pgasm_push(a, r, err, sizeof(err));
		}
		off += next;
		while ((r = trib_pgasm_pop(a)))
			(void) trib_pgprep_push(h, r, err, sizeof(err));
		while (trib_pgprep_pop(h, &r, err, sizeof(err)) == 1)
			trib_pgrec_release(parser, r);	/* its block serves a later change */
	}
	trib_pgprep_free(h);			/* before the parser: held events use it */
	trib_pgasm_free(a);
	return 0;
}
