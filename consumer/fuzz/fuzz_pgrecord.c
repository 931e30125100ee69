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
 * The fast scan replays runs of top-level fields that a record repeats
 * from a record it kept (pgrecord_fast.c, "Replay"), so a record's scan
 * depends on the records before it.  Each line is therefore also parsed
 * by a third parser with the replay off (trib_pgrec_parser_set_replay),
 * fed the same lines, which must agree in the same way; and each line's
 * fast scan (pgr_fast_scan) is run on a replay state that lives across
 * lines and inputs and on a new one with none, and the two must agree on
 * whether they take the line and, when they do, on every field (type,
 * span, string, boolean), the fields' kind masks and every image member.
 * Inputs of several lines that differ in a few bytes (the fuzzer's
 * mutations of the seed corpus's transactions) exercise the replay.
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
#include "pgrecord_int.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static trib_pgrec_parser *parser;
static trib_pgrec_parser *slow;		/* yajl's parse alone */
static trib_pgrec_parser *noreplay;	/* the fast scan without replay */
static pgr_replay *scan_replay;		/* compare_scans(): lives across lines */
static unsigned runs;

/* Parse one line with parser `other` too; abort if the two disagree. */
static void
compare_paths(trib_pgrec_parser *other, const char *text, size_t n, bool ok,
			  const trib_pgrec *r, const char *err)
{
	trib_pgrec *s = NULL;
	char		serr[256] = "";
	bool		sok = trib_pgrec_parser_parse(other, text, n, &s, serr, sizeof(serr));

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

/* A fast scan of text into a zeroed *st, with replay state rp (or none). */
static bool
scan_line(pgr_pstate *st, trib_arena *arena, pgr_replay *rp, const char *text,
		  size_t n)
{
	memset(st, 0, sizeof(*st));
	st->arena = arena;
	st->text = text;
	st->len = n;
	st->replay = rp;
	return pgr_fast_scan(st);
}

/* Abort unless the two scans set the same fields and image members. */
static void
same_scans(const pgr_pstate *a, const pgr_pstate *b)
{
	if (memcmp(a->tmask, b->tmask, sizeof(a->tmask)) != 0)
		goto differ;
	for (int k = 0; k < NFIELDS; k++)
	{
		const pgr_field *x = &a->f[k],
				   *y = &b->f[k];

		if (x->set != y->set || x->type != y->type || x->b != y->b ||
			x->raw != y->raw || x->start != y->start || x->end != y->end ||
			x->slen != y->slen || (x->str == NULL) != (y->str == NULL) ||
			(x->str && x->str != y->str))
			goto differ;
	}
	for (int i = 0; i < 2; i++)
	{
		if (a->img[i].n != b->img[i].n)
			goto differ;
		for (size_t j = 0; j < a->img[i].n; j++)
			if (a->img[i].m[j].kstart != b->img[i].m[j].kstart ||
				a->img[i].m[j].vend != b->img[i].m[j].vend ||
				a->img[i].m[j].name != b->img[i].m[j].name ||
				a->img[i].m[j].nlen != b->img[i].m[j].nlen)
				goto differ;
	}
	return;
differ:
	fprintf(stderr, "the scan after the records before and a new scan differ\n");
	abort();
}

/* Scan one line with the replay state kept across lines and with none;
 * abort if the two disagree. */
static void
compare_scans(const char *text, size_t n)
{
	static pgr_pstate a,
				b;
	trib_arena	arena;
	bool		oka,
				okb;

	trib_arena_init(&arena, 0);
	oka = scan_line(&a, &arena, scan_replay, text, n);
	okb = scan_line(&b, &arena, NULL, text, n);
	if (oka != okb)
	{
		fprintf(stderr, "the scan after the records before %s, a new scan %s\n",
				oka ? "took the line" : "handed it over", okb ? "took it" : "handed it over");
		abort();
	}
	if (oka)
		same_scans(&a, &b);
	free(a.img[0].m);
	free(a.img[1].m);
	free(b.img[0].m);
	free(b.img[1].m);
	trib_arena_free(&arena);
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
		trib_pgrec_parser_free(noreplay);
		parser = NULL;
	}
	if (!parser)
	{
		parser = trib_pgrec_parser_new("fuzz", "db");
		slow = trib_pgrec_parser_new("fuzz", "db");
		trib_pgrec_parser_set_fast(slow, false);
		noreplay = trib_pgrec_parser_new("fuzz", "db");
		trib_pgrec_parser_set_replay(noreplay, false);
	}
	if (!scan_replay)
		scan_replay = calloc(1, sizeof(*scan_replay));
	while (off < size)
	{
		size_t		next;
		size_t		n = trib_pgrec_next_line(text + off, size - off, &next);

		bool		ok = n > 0 && trib_pgrec_parser_parse(parser, text + off, n, &r, err, sizeof(err));

		if (n > 0)
		{
			compare_paths(slow, text + off, n, ok, ok ? r : NULL, err);
			compare_paths(noreplay, text + off, n, ok, ok ? r : NULL, err);
			compare_scans(text + off, n);
		}
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
