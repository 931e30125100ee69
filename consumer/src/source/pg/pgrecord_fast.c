/*
 * pgrecord_fast.c: a hand-written scanner for the records as our own
 * plugin writes them, which fills the same parse state (pgr_pstate) as the
 * yajl parse of pgrecord_scan.c in about a third of its instructions
 * (W1: 5,100 a record against 13,300 in yajl_parse and its callbacks;
 * about 3,700 since strings are skipped a word at a time and kept as
 * pointers into the record, not copied; about 3,100 since jscan's
 * scalars are inline and its peek skips no whitespace loop; about 2,950
 * since it tries the last record's key order first).
 *
 * Design.  The record parse was the consumer's largest cost per event
 * (yajl's lexer and its callbacks: two thirds of the main thread's
 * instructions in W1, docs/BENCHMARKS.md).  Yet a change record has a
 * fixed, simple shape: one object of known top-level fields whose values
 * are scalars, and the row images `old` and `new`, objects whose members
 * are copied out byte for byte.  Nothing needs tokens: only each field's
 * span and each image member's bounds (kstart, vend, name), which is what
 * pgrecord_build.c reads.  This scanner finds them in one pass, checking
 * the JSON grammar as it goes (lib/jscan.h, shared with the rules' text
 * index).
 *
 * It takes only what it can judge alone, and says "not mine" (returns
 * false) for everything else, after which the caller runs the yajl parse
 * from scratch, so every error message, every rarely used field and every
 * corner of the grammar stays yajl's:
 *   - a string with an escape, a control character or a byte that yajl's
 *     UTF-8 check would refuse; whitespace other than space, tab, CR, LF;
 *   - an unknown or repeated top-level field, or one whose value is an
 *     object or array other than the `old` and `new` objects (relation
 *     records' columns, name lists, JSON null lists, truncate relations);
 *   - nesting deeper than TRIB_JSCAN_MAX_DEPTH inside an image value;
 *   - anything after the record's closing brace but whitespace;
 *   - any grammar error (the yajl parse then reports it).
 * Top-level keys: the plugin writes a kind's fields in one order, so the
 * key that followed the previous field in the last record is tried first
 * (pgr_pstate.follow, kept in the parser): its name compared in place, and
 * only when that fails the key scanned as a string and looked up.  Each
 * field also sets its bit in pgr_pstate.tmask, by JSON kind, for the check
 * per kind (pgr_check_spec: masks instead of a loop over its fields).
 * What it accepts, yajl accepts too and reports with the same spans: a
 * string's span runs from its opening to past its closing quote, a
 * number's from its first to past its last character, a container's from
 * its opening to past its closing bracket.  test_pgrecord compares the
 * two paths record by record, and fuzz_pgrecord does so on every input.
 *
 * Replay.  Within a transaction the plugin's records repeat most of their
 * top-level fields byte for byte: kind, xid, commit_lsn, ts, then after
 * lsn and seq, schema and table.  The parser keeps one record the scan
 * took (pgr_replay, pgrecord_int.h): a copy of its first bytes and, per
 * top-level scalar field that a comma follows at once, its segment (key's
 * opening quote to past that comma) with the field as the scan set it.
 * At a key, the kept record's field that followed the same previous field
 * starts a run of segments that follow each other byte for byte; the
 * bytes here are compared with the run's a word at a time, and every
 * segment that is wholly the same is set as the scan would set it (its
 * spans moved by the difference in offsets, its string re-pointed into
 * this record), without scanning.  That is exact because what the scan
 * makes of a segment depends on its bytes only (a key, a colon, a scalar
 * and the comma that ends it; the scalar's end is found before the
 * comma), and on whether this record has already set the field, which
 * stops the run (the scan then hands over, as it would).  The run ends
 * where the bytes differ (lsn, seq); the scan goes on from there the
 * usual way and tries a run again at the next key.  A record is kept when
 * its first field was not replayed (another kind) or it replayed fewer
 * fields than the record before (another transaction or table), so a run
 * of alike records copies nothing.  test_pgrecord_fast compares records
 * parsed after others with a new parser's, field by field, for any
 * changed byte of the repeated fields, and fuzz_pgrecord does so for
 * consecutive records.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jscan.h"
#include "pgrecord_int.h"
#include "xalloc.h"

/* Make room for one more member in ml. */
static pgr_member *
ml_push(pgr_memberlist *ml)
{
	ml->m = trib_xgrow(ml->m, ml->n, &ml->cap, sizeof(pgr_member), 16);
	return &ml->m[ml->n++];
}

/* A row image, the object at the position: every member's raw span and
 * name into ml; sets the field's span. */
static bool
sc_image(trib_jscan *sc, pgr_pstate *st, int fi)
{
	pgr_field  *f = &st->f[fi];
	pgr_memberlist *ml = &st->img[fi == F_NEW];
	size_t		cs,
				ce;

	f->type = TRIB_J_OBJECT;
	f->set = true;
	f->start = sc->i++;
	st->tmask[TRIB_J_OBJECT] |= (uint64_t) 1 << fi;
	if (trib_jscan_peek(sc) != '}')
		for (;;)
		{
			pgr_member *m;

			if (trib_jscan_peek(sc) != '"')
				return false;
			m = ml_push(ml);
			m->kstart = sc->i;
			if (!trib_jscan_string(sc, &cs, &ce) || trib_jscan_peek(sc) != ':')
				return false;
			m->name = (const char *) sc->s + cs;
			m->nlen = ce - cs;
			sc->i++;
			if (!trib_jscan_value(sc, 1))
				return false;
			m->vend = sc->i;
			if (trib_jscan_peek(sc) != ',')
				break;
			sc->i++;
		}
	if (trib_jscan_peek(sc) != '}')
		return false;
	f->end = ++sc->i;
	return true;
}

/* The top-level field named by [cs, ce), or -1 when unknown. */
static int
field_index(const trib_jscan *sc, size_t cs, size_t ce)
{
	return pgr_field_lookup((const char *) sc->s + cs, ce - cs);
}

/* The key at the position (its opening quote), when it is the field
 * that followed field prev in the last record (st->follow): its F_*, and
 * the position past its closing quote; else -1, the position unmoved.
 * Field names are plain text, so the key is the string the general path
 * (trib_jscan_string, field_index) would read, with the same result. */
static int
guess_key(trib_jscan *sc, const pgr_pstate *st, int prev)
{
	int			g = st->follow ? st->follow[prev] - 1 : -1;
	size_t		n;

	if (g < 0)
		return -1;
	n = pgr_field_len[g];
	if (sc->len - sc->i < n + 2 || sc->s[sc->i + n + 1] != '"' ||
		!pgr_same_short((const char *) sc->s + sc->i + 1, pgr_field_names[g], n))
		return -1;
	sc->i += n + 2;
	return g;
}

/* One top-level member's value, of field fi, at the position. */
static bool
sc_field(trib_jscan *sc, pgr_pstate *st, int fi)
{
	/* jscan's scalar classes are its tokens (true and false apart, as a
	 * lexer reports them), not value kinds: mapped to the one trib_jkind */
	static const trib_jkind js_types[] = {
		[TRIB_JS_STRING] = TRIB_J_STRING, [TRIB_JS_NUMBER] = TRIB_J_NUMBER,
		[TRIB_JS_TRUE] = TRIB_J_BOOL, [TRIB_JS_FALSE] = TRIB_J_BOOL, [TRIB_JS_NULL] = TRIB_J_NULL
	};
	pgr_field  *f = &st->f[fi];
	int			c = trib_jscan_peek(sc);
	int			kind;

	if (c < 0)
		return false;
	if (c == '{' || c == '[')
	{
		if (c != '{' || (fi != F_OLD && fi != F_NEW))
			return false;
		return sc_image(sc, st, fi);
	}
	f->start = sc->i;
	if (!trib_jscan_scalar(sc, &kind))
		return false;
	f->type = js_types[kind];
	f->set = true;
	st->tmask[f->type] |= (uint64_t) 1 << fi;
	f->b = kind == TRIB_JS_TRUE;
	f->end = sc->i;
	if (f->type == TRIB_J_STRING)
	{
		/* no escapes here (jscan.h): the string is its bytes; no copy */
		f->slen = f->end - f->start - 2;
		f->str = st->text + f->start + 1;
		f->raw = true;
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* replay (see the file comment) */

/* How many of the first n bytes at a and b are the same: a word at a
 * time, the first differing byte found in the word (little-endian; else
 * byte by byte from that word). */
static inline size_t
same_prefix(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t		i = 0;

	for (; i + 8 <= n; i += 8)
	{
		uint64_t	x,
					y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
		{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + (size_t) __builtin_ctzll(x ^ y) / 8;
#else
			break;
#endif
		}
	}
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* Note top-level field fi, its key at `at`, in the record's order. */
static inline void
note_field(pgr_replay *rp, int fi, size_t at)
{
	rp->order[rp->norder] = (unsigned char) fi;
	rp->keyat[rp->norder++] = at;
}

/*
 * At a top-level key (its opening quote) after field *prev: when the kept
 * record's field that followed *prev starts a run of segments whose bytes
 * are here too, set those fields as the scan would (their spans moved to
 * this record) and move past them, *prev the last one.  Stops before a
 * field this record has already set (the scan then hands over).  True when
 * at least one segment was replayed.
 */
static bool
replay(trib_jscan *sc, pgr_pstate *st, int *prev)
{
	pgr_replay *rp = st->replay;
	const pgr_seg *g0,
			   *g,
			   *gend = rp->seg + rp->nseg;
	size_t		base = sc->i,
				room = sc->len - base,
				want,
				lim;
	int			j,
				n;

	if ((j = rp->next[*prev]) == 0)
		return false;
	g0 = &rp->seg[j - 1];
	want = (size_t) (g0->run - g0->at);
	/* the end of what is the same, in the kept record's offsets */
	lim = g0->at + same_prefix(sc->s + base,
							   (const unsigned char *) rp->text + g0->at,
							   room < want ? room : want);
	for (g = g0; g < gend && g->end <= lim; g++)
	{
		pgr_field  *f = &st->f[g->fi];
		size_t		at = base + g->at - g0->at;

		if (f->set)
			break;
		*f = g->f;
		f->start += at;
		f->end += at;
		if (f->raw)
			f->str = st->text + f->start + 1;
		st->tmask[f->type] |= (uint64_t) 1 << g->fi;
		note_field(rp, g->fi, at);
	}
	if ((n = (int) (g - g0)) == 0)
		return false;
	rp->head |= *prev == NFIELDS;
	*prev = g[-1].fi;
	sc->i = base + g[-1].end - g0->at;
	rp->restored += n;
	rp->replayed += (uint64_t) n;
	return true;
}

/* Keep the record the scan took (st) for the next records' replay: its
 * top-level scalar fields that a comma follows at once, within the first
 * PGR_REPLAY_TEXT bytes, as segments, and those bytes. */
static void
keep_record(pgr_replay *rp, const pgr_pstate *st)
{
	int			n = 0,
				prev = NFIELDS;
	size_t		len = 0;

	memset(rp->next, 0, sizeof(rp->next));
	for (int k = 0; k < rp->norder; prev = rp->order[k++])
	{
		int			fi = rp->order[k];
		const pgr_field *f = &st->f[fi];
		size_t		at = rp->keyat[k];
		pgr_seg    *g = &rp->seg[n];

		if (f->type == TRIB_J_OBJECT || f->end + 1 > PGR_REPLAY_TEXT ||
			f->end >= st->len || st->text[f->end] != ',')
			continue;
		g->f = *f;
		g->f.start -= at;
		g->f.end -= at;
		g->f.str = NULL;
		g->at = (uint16_t) at;
		g->end = (uint16_t) (f->end + 1);
		g->fi = (unsigned char) fi;
		rp->next[prev] = (unsigned char) (n + 1);
		len = f->end + 1;
		n++;
	}
	rp->nseg = n;
	memcpy(rp->text, st->text, len);
	for (int j = n - 1; j >= 0; j--)
		rp->seg[j].run = (j + 1 < n && rp->seg[j + 1].at == rp->seg[j].end) ?
			rp->seg[j + 1].run : rp->seg[j].end;
}

/*
 * Scan st->text into st (f[] and img[]), which must be zeroed but for
 * arena, text, len, follow, replay and the image arrays (empty).  False
 * when the record is not one the scanner takes (see the file comment); st
 * then holds partial results the caller discards.
 */
bool
pgr_fast_scan(pgr_pstate *st)
{
	trib_jscan	sc = {(const unsigned char *) st->text, st->len, 0};
	pgr_replay *rp = st->replay;
	size_t		cs,
				ce;
	int			prev = NFIELDS;	/* the record's start, for follow[] */
	bool		replayed = false;

	if (rp)
	{
		rp->norder = rp->restored = 0;
		rp->head = false;
	}
	if (trib_jscan_peek(&sc) != '{')
		return false;
	sc.i++;
	if (trib_jscan_peek(&sc) != '}')
		for (;;)
		{
			int			fi;

			if (trib_jscan_peek(&sc) != '"')
				return false;
			/* a run of the kept record's fields (not right after one:
			 * it ended where the bytes differ) */
			if (rp && !replayed && replay(&sc, st, &prev))
			{
				replayed = true;
				continue;
			}
			replayed = false;
			if (rp)
				note_field(rp, 0, sc.i);	/* its F_* below */
			if ((fi = guess_key(&sc, st, prev)) < 0)
			{
				if (!trib_jscan_string(&sc, &cs, &ce) ||
					(fi = field_index(&sc, cs, ce)) < 0)
					return false;
				if (st->follow)
					st->follow[prev] = (unsigned char) (fi + 1);
			}
			if (rp)
				rp->order[rp->norder - 1] = (unsigned char) fi;
			if (st->f[fi].set || trib_jscan_peek(&sc) != ':')
				return false;
			sc.i++;
			if (!sc_field(&sc, st, fi))
				return false;
			prev = fi;
			if (trib_jscan_peek(&sc) != ',')
				break;
			sc.i++;
		}
	if (trib_jscan_peek(&sc) != '}')
		return false;
	sc.i++;
	if (trib_jscan_peek(&sc) >= 0)
		return false;
	/* keep this record when its first field was not replayed (another
	 * kind than the kept record's, say) or it replayed fewer fields than
	 * the record before (another transaction or table): a transaction's
	 * records of one kind keep its first */
	if (rp)
	{
		if (!rp->head || rp->restored < rp->last_restored)
			keep_record(rp, st);
		rp->last_restored = rp->restored;
	}
	return true;
}
