/*
 * pgrecord.c: the record parser: one tributary plugin record -> a
 * trib_pgrec (and trib_event).
 *
 * Design.  A record is parsed in one pass with yajl's streaming parser
 * (TRIB_YTOK_CALLBACKS of lib/yajl_tokens.h turns yajl's nine callbacks
 * into the four handlers of pgrecord_scan.c, on_scalar, on_key, on_open
 * and on_end, called directly), unless the fast scan below takes it.  The
 * handlers know only four levels: the record object (depth 1), the value
 * of one of its fields (depth 2: members of a row image, elements of
 * "columns", "relations" and name lists), and the members of a column or
 * relation object (depth 3).  Deeper values (inside a jsonb column, say)
 * are skipped but still validated by yajl, and so is a member the parser
 * does not know, whatever its value, at the top level or in a column or
 * relations element (a newer plugin's: docs/PLUGIN.md).  For each field
 * the parser records the byte span of its value in the input, using
 * yajl_get_bytes_consumed(): yajl reports, inside a callback, the offset just
 * past the token it is reporting.  Row images, unchanged_toast, the JSON
 * null lists (json_nulls, old_json_nulls: validated as the plugin writes
 * them, column names and [name, positions...]) and message content are
 * then copied out byte for byte, truncate relations as their elements'
 * schema and table values, and the
 * event key is built from the raw members ("name":value) of the image, so
 * no value is ever re-formatted.
 *
 * Most records never reach yajl: a hand-written scan of the plugin's
 * usual records (pgrecord_fast.c: scalar fields and the two row images,
 * the grammar checked, no tokens) fills the same parse state in about a
 * third of yajl's instructions, and hands anything else (escapes,
 * relation records, name lists, unknown fields, errors) to the yajl parse
 * above, which then runs from the start.  Both paths give the same records, byte for byte
 * (test_pgrecord_fast, fuzz_pgrecord).  The fast scan also replays, without
 * scanning them, the runs of top-level fields a record repeats byte for
 * byte from a record it kept (pgrecord_fast.c, "Replay").
 *
 * After the parse, a table of required fields per kind checks the record
 * (presence and JSON type), and the record is built.  Every failure path
 * frees what was allocated and reports the reason in errbuf.
 *
 * Relation records go to the relation cache (pgrelcache.c), which every
 * change consults for its key columns; the records then go through the
 * transaction assembler (pgasm.c).
 *
 * Files.  This file holds the kind and field tables, the requirements per
 * kind, and the parser's and trib_pgrec's life; the fast scan is in
 * pgrecord_fast.c, the streaming parse and
 * trib_pgrec_parser_parse() in pgrecord_scan.c, the checks and builders
 * run after it in pgrecord_build.c, sharing pgrecord_int.h.
 */
#include "pgrecord.h"

#include <stdlib.h>
#include <string.h>

#include "pgrecord_int.h"
#include "strbuf.h"
#include "xalloc.h"

/* ---------------------------------------------------------------------- */
/* record kinds and fields */

const char *const pgr_kind_names[] = {
	"begin", "commit", "relation", "insert", "update", "delete", "truncate",
	"message", "stream_start", "stream_stop", "stream_abort", "stream_commit",
	"stream_prepare", "begin_prepare", "prepare", "commit_prepared",
	"rollback_prepared"
};

_Static_assert(sizeof(pgr_kind_names) / sizeof(pgr_kind_names[0]) == NKINDS,
			   "a name per record kind");

/* Name of a record kind. */
const char *
trib_pgrec_kind_name(trib_pgrec_kind kind)
{
	return ((int) kind >= 0 && (int) kind < NKINDS) ? pgr_kind_names[kind] : "?";
}

const char *const pgr_field_names[NFIELDS] = {
	"kind", "xid", "subxid", "commit_lsn", "ts", "lsn", "seq", "relid",
	"schema", "table", "replica_identity", "columns", "primary_key",
	"identity_key", "old", "new", "unchanged_toast", "relations", "cascade",
	"restart_identity", "transactional", "prefix", "encoding", "content",
	"end_lsn", "changes", "gid", "first", "next_seq", "discard",
	"discard_through_seq", "json_nulls", "old_json_nulls"
};

/* strlen of each field name, filled once by init_specs(). */
size_t		pgr_field_len[NFIELDS];
unsigned char pgr_field_slot[PGR_FIELD_SLOTS];
unsigned char pgr_spec_fields[NKINDS][NFIELDS];
unsigned char pgr_spec_nfields[NKINDS];
uint64_t	pgr_spec_req[NKINDS];
uint64_t	pgr_spec_named[NKINDS];
uint64_t	pgr_spec_ok[NKINDS][TRIB_J_ARRAY + 1];
size_t		pgr_kind_len[NKINDS];

/* Fill pgr_field_slot[] (names to F_*) and the lengths of names. */
static void
init_names(void)
{
	int			k;

	for (k = 0; k < NFIELDS; k++)
	{
		unsigned	h;

		pgr_field_len[k] = strlen(pgr_field_names[k]);
		h = pgr_field_hash(pgr_field_names[k], pgr_field_len[k]);
		while (pgr_field_slot[h])
			h = (h + 1) & (PGR_FIELD_SLOTS - 1);
		pgr_field_slot[h] = (unsigned char) (k + 1);
	}
	for (k = 0; k < NKINDS; k++)
		pgr_kind_len[k] = strlen(pgr_kind_names[k]);
}

/* List, per kind, the fields its spec names (pgr_spec_fields), and the
 * same as bits (pgr_spec_req, pgr_spec_named, pgr_spec_ok). */
static void
init_spec_lists(void)
{
	int			k,
				f,
				t;

	for (k = 0; k < NKINDS; k++)
	{
		pgr_spec_nfields[k] = 0;
		for (f = 0; f < NFIELDS; f++)
		{
			unsigned	req = pgr_specs[k].f[f];
			int			want = req & ~0x30u;
			uint64_t	bit = (uint64_t) 1 << f;

			if (!req)
				continue;
			pgr_spec_fields[k][pgr_spec_nfields[k]++] = (unsigned char) f;
			pgr_spec_named[k] |= bit;
			if (req & 0x10)
				pgr_spec_req[k] |= bit;
			for (t = 0; t <= TRIB_J_ARRAY; t++)
				if (want == OBJ_OR_NULL ? (t == TRIB_J_OBJECT || t == TRIB_J_NULL) : t == want)
					pgr_spec_ok[k][t] |= bit;
		}
	}
}

/* Fill the requirement table once. */
pgr_kind_spec pgr_specs[NKINDS];
static bool specs_ready;

/* Build pgr_specs[]: which fields each kind requires or allows, and types. */
static void
init_specs(void)
{
	int			k;

	if (specs_ready)
		return;
	init_names();
	memset(pgr_specs, 0, sizeof(pgr_specs));
	for (k = 0; k < NKINDS; k++)
	{
		pgr_specs[k].f[F_KIND] = R(TRIB_J_STRING);
		pgr_specs[k].f[F_XID] = R(TRIB_J_NUMBER);
		pgr_specs[k].f[F_TS] = O(TRIB_J_STRING);
		pgr_specs[k].f[F_GID] = O(TRIB_J_STRING);
	}
#define S(kind, field, req) pgr_specs[TRIB_PGREC_##kind].f[F_##field] = (req)
	S(BEGIN, COMMIT_LSN, R(TRIB_J_STRING));
	S(COMMIT, COMMIT_LSN, R(TRIB_J_STRING));
	S(COMMIT, END_LSN, R(TRIB_J_STRING));
	S(COMMIT, CHANGES, R(TRIB_J_NUMBER));
	S(RELATION, COMMIT_LSN, O(TRIB_J_STRING));
	S(RELATION, LSN, R(TRIB_J_STRING));
	S(RELATION, RELID, R(TRIB_J_NUMBER));
	S(RELATION, SCHEMA, R(TRIB_J_STRING));
	S(RELATION, TABLE, R(TRIB_J_STRING));
	S(RELATION, REPLICA_IDENTITY, R(TRIB_J_STRING));
	S(RELATION, COLUMNS, R(TRIB_J_ARRAY));
	S(RELATION, PRIMARY_KEY, R(TRIB_J_ARRAY));
	S(RELATION, IDENTITY_KEY, R(TRIB_J_ARRAY));
	for (k = TRIB_PGREC_INSERT; k <= TRIB_PGREC_MESSAGE; k++)
	{
		pgr_specs[k].f[F_SUBXID] = O(TRIB_J_NUMBER);
		pgr_specs[k].f[F_COMMIT_LSN] = O(TRIB_J_STRING);
		pgr_specs[k].f[F_LSN] = R(TRIB_J_STRING);
		pgr_specs[k].f[F_SEQ] = R(TRIB_J_NUMBER);
		if (k != TRIB_PGREC_TRUNCATE && k != TRIB_PGREC_MESSAGE)
		{
			pgr_specs[k].f[F_SCHEMA] = R(TRIB_J_STRING);
			pgr_specs[k].f[F_TABLE] = R(TRIB_J_STRING);
		}
	}
	S(INSERT, NEW, R(TRIB_J_OBJECT));
	S(UPDATE, OLD, R(OBJ_OR_NULL));
	S(UPDATE, NEW, R(TRIB_J_OBJECT));
	S(DELETE, OLD, R(OBJ_OR_NULL));
	S(INSERT, UNCHANGED_TOAST, O(TRIB_J_ARRAY));
	S(UPDATE, UNCHANGED_TOAST, O(TRIB_J_ARRAY));
	S(INSERT, JSON_NULLS, O(TRIB_J_ARRAY));
	S(UPDATE, JSON_NULLS, O(TRIB_J_ARRAY));
	S(UPDATE, OLD_JSON_NULLS, O(TRIB_J_ARRAY));
	S(DELETE, OLD_JSON_NULLS, O(TRIB_J_ARRAY));
	S(TRUNCATE, RELATIONS, R(TRIB_J_ARRAY));
	S(TRUNCATE, CASCADE, R(TRIB_J_BOOL));
	S(TRUNCATE, RESTART_IDENTITY, R(TRIB_J_BOOL));
	S(MESSAGE, TRANSACTIONAL, R(TRIB_J_BOOL));
	S(MESSAGE, PREFIX, R(TRIB_J_STRING));
	S(MESSAGE, ENCODING, R(TRIB_J_STRING));
	S(MESSAGE, CONTENT, R(TRIB_J_STRING));
	S(STREAM_START, FIRST, R(TRIB_J_BOOL));
	S(STREAM_ABORT, SUBXID, O(TRIB_J_NUMBER));
	S(STREAM_ABORT, LSN, R(TRIB_J_STRING));
	S(STREAM_ABORT, NEXT_SEQ, O(TRIB_J_NUMBER));
	for (k = TRIB_PGREC_STREAM_COMMIT; k <= TRIB_PGREC_STREAM_PREPARE; k++)
	{
		pgr_specs[k].f[F_COMMIT_LSN] = R(TRIB_J_STRING);
		pgr_specs[k].f[F_END_LSN] = R(TRIB_J_STRING);
		pgr_specs[k].f[F_CHANGES] = R(TRIB_J_NUMBER);
		pgr_specs[k].f[F_DISCARD] = O(TRIB_J_BOOL);
		pgr_specs[k].f[F_DISCARD_THROUGH_SEQ] = O(TRIB_J_NUMBER);
	}
	S(STREAM_PREPARE, GID, R(TRIB_J_STRING));
	S(BEGIN_PREPARE, COMMIT_LSN, R(TRIB_J_STRING));
	S(BEGIN_PREPARE, GID, R(TRIB_J_STRING));
	S(PREPARE, COMMIT_LSN, R(TRIB_J_STRING));
	S(PREPARE, END_LSN, R(TRIB_J_STRING));
	S(PREPARE, CHANGES, R(TRIB_J_NUMBER));
	S(PREPARE, GID, R(TRIB_J_STRING));
	for (k = TRIB_PGREC_COMMIT_PREPARED; k <= TRIB_PGREC_ROLLBACK_PREPARED; k++)
	{
		pgr_specs[k].f[F_COMMIT_LSN] = R(TRIB_J_STRING);
		pgr_specs[k].f[F_END_LSN] = R(TRIB_J_STRING);
		pgr_specs[k].f[F_GID] = R(TRIB_J_STRING);
	}
#undef S
	init_spec_lists();
	specs_ready = true;
}

/* ---------------------------------------------------------------------- */
/* the parser and its relation cache */


/* A new parser. */
trib_pgrec_parser *
trib_pgrec_parser_new(const char *source, const char *db)
{
	trib_pgrec_parser *p = trib_xcalloc(1, sizeof(*p));

	p->source = trib_xstrdup(source);
	p->db = trib_xstrdup(db);
	p->rels = trib_pgrelcache_new();
	trib_arena_init(&p->scratch, 0);
	p->names = trib_intern_new();
	trib_arena_yajl_funcs(&p->scratch, &p->yaf);
	p->st = trib_xmalloc(sizeof(*p->st));
	memset(p->st, 0, sizeof(*p->st));
	p->replay = trib_xcalloc(1, sizeof(*p->replay));
	p->fast = true;
	p->replay_on = true;
	init_specs();
	return p;
}

/* Whether parses try the fast scan first (tests and benchmarks compare). */
void
trib_pgrec_parser_set_fast(trib_pgrec_parser *p, bool on)
{
	p->fast = on;
}

/* Whether the fast scan replays repeated runs (pgrecord.h). */
void
trib_pgrec_parser_set_replay(trib_pgrec_parser *p, bool on)
{
	p->replay_on = on;
}

/* Whether change events carry the image index (pgrecord.h). */
void
trib_pgrec_parser_set_image_index(trib_pgrec_parser *p, bool on)
{
	p->index_images = on;
}

/* Free the parser and its relation cache. */
void
trib_pgrec_parser_free(trib_pgrec_parser *p)
{
	if (!p)
		return;
	trib_pgrelcache_free(p->rels);
	free(p->img[0].m);
	free(p->img[1].m);
	while (p->spare)
	{
		pgr_recblock *b = p->spare;

		p->spare = (pgr_recblock *) b->rec.next;
		free(b);
	}
	free(p->st);
	free(p->replay);
	trib_arena_free(&p->scratch);
	trib_intern_free(p->names);
	free(p->source);
	free(p->db);
	free(p);
}

/* The entry of schema.table, or NULL. */
const trib_pgrel *
trib_pgrec_parser_relation(const trib_pgrec_parser *p, const char *schema,
					   const char *table)
{
	return p ? trib_pgrelcache_find(p->rels, schema, table) : NULL;
}

/* Free a record. */
void
trib_pgrec_free(trib_pgrec *rec)
{
	if (!rec)
		return;
	if (rec->ev_inline)
		trib_event_clear(rec->ev);
	else
		trib_event_free(rec->ev);
	free(rec->prefix);
	free(rec->gid);
	free(rec);
}

/* A zeroed block for a change record and its event: a released one
 * (trib_pgrec_release) or a new one. */
pgr_recblock *
pgr_block_new(trib_pgrec_parser *p)
{
	pgr_recblock *b = p->spare;

	if (b)
	{
		p->spare = (pgr_recblock *) b->rec.next;
		p->nspare--;
	}
	else
		b = trib_xmalloc(sizeof(*b));
	memset(b, 0, sizeof(*b));
	return b;
}

/*
 * Free a record; a change's block (the record and its event, rec being the
 * block's first member while ev_inline) goes to the parser's spares instead
 * of free(), up to PGR_SPARE_MAX.  Why: the source frees each poll's
 * records together, hundreds of blocks of one size at once, more than
 * glibc's per-thread cache holds, so both those frees and the next poll's
 * mallocs took malloc's slow paths (docs/BENCHMARKS.md, the real daemon
 * per W1 event).
 */
void
trib_pgrec_release(trib_pgrec_parser *p, trib_pgrec *rec)
{
	if (!rec)
		return;
	if (!p || !rec->ev_inline || p->nspare >= PGR_SPARE_MAX)
	{
		trib_pgrec_free(rec);
		return;
	}
	trib_event_clear(rec->ev);
	free(rec->prefix);
	free(rec->gid);
	rec->next = (trib_pgrec *) p->spare;
	p->spare = (pgr_recblock *) rec;
	p->nspare++;
}

/* Free a list of records (linked through next). */
void
trib_pgrec_free_list(trib_pgrec *r)
{
	while (r)
	{
		trib_pgrec *next = r->next;

		trib_pgrec_free(r);
		r = next;
	}
}

/* See pgrecord.h. */
void
trib_pgrec_append(trib_pgrec **head, trib_pgrec **tail, trib_pgrec *rec)
{
	rec->next = NULL;
	if (*tail)
		(*tail)->next = rec;
	else
		*head = rec;
	*tail = rec;
}

/* Rough memory of a record and its event. */
size_t
trib_pgrec_bytes(const trib_pgrec *r)
{
	const trib_event *e = r->ev;

	return sizeof(*r) + (e ? sizeof(*e) + (e->before ? strlen(e->before) : 0) +
						 (e->after ? strlen(e->after) : 0) +
						 (e->key ? strlen(e->key) : 0) +
						 (e->extra ? strlen(e->extra) : 0) : 0);
}

/* Take the event out of a record; an event inside the record's block
 * moves to an allocation of its own. */
trib_event *
trib_pgrec_take_event(trib_pgrec *rec)
{
	trib_event *ev = rec ? rec->ev : NULL;

	if (ev && rec->ev_inline)
	{
		ev = trib_event_new();
		*ev = *rec->ev;
		memset(rec->ev, 0, sizeof(*rec->ev));
		rec->ev_inline = false;
	}
	if (rec)
		rec->ev = NULL;
	return ev;
}

/* Length of the record at text, up to '\n'; *next is past the newline. */
size_t
trib_pgrec_next_line(const char *text, size_t len, size_t *next)
{
	const char *nl = memchr(text, '\n', len);
	size_t		n = nl ? (size_t) (nl - text) : len;

	*next = nl ? n + 1 : len;
	return n;
}

/* Add "name=value;" for a string that may be NULL. */
static void
digest_str(trib_strbuf *b, const char *name, const char *v)
{
	trib_strbuf_printf(b, "%s=%s;", name, v ? v : "(null)");
}

/* Everything a record and its event say, as one text (see pgrecord.h). */
char *
trib_pgrec_digest(const trib_pgrec *r)
{
	trib_strbuf b = {0};
	const trib_event *e = r->ev;

	trib_strbuf_printf(&b, "kind=%d;xid=%u;subxid=%u;clsn=%d/%llu;end=%llu;lsn=%llu;"
					   "ts=%d/%lld/%lld;seq=%d/%llu;changes=%d/%llu;first=%d;"
					   "next=%d/%llu;discard=%d;through=%d/%llu;tx=%d;",
					   (int) r->kind, r->xid, r->subxid, r->has_commit_lsn,
					   (unsigned long long) r->commit_lsn, (unsigned long long) r->end_lsn,
					   (unsigned long long) r->lsn, r->has_ts, (long long) r->ts_ms,
					   (long long) r->ts_us, r->has_seq, (unsigned long long) r->seq,
					   r->has_changes, (unsigned long long) r->changes, r->first,
					   r->has_next_seq, (unsigned long long) r->next_seq, r->discard,
					   r->has_discard_through, (unsigned long long) r->discard_through_seq,
					   r->transactional);
	digest_str(&b, "prefix", r->prefix);
	digest_str(&b, "gid", r->gid);
	trib_strbuf_printf(&b, "rel=%s;", r->rel ? "yes" : "no");
	if (e)
	{
		trib_strbuf_printf(&b, "op=%c;txid=%llu;ts=%lld/%lld;pos=%llu/%llu/%llu/%llu;",
						   (char) e->op, (unsigned long long) e->txid,
						   (long long) e->ts_ms, (long long) e->ts_us,
						   (unsigned long long) e->pos.commit_lsn,
						   (unsigned long long) e->pos.seq,
						   (unsigned long long) e->pos.end_lsn,
						   (unsigned long long) e->pos.lsn);
		digest_str(&b, "schema", e->schema);
		digest_str(&b, "table", e->table);
		digest_str(&b, "before", e->before);
		digest_str(&b, "after", e->after);
		digest_str(&b, "key", e->key);
		digest_str(&b, "unchanged", e->unchanged);
		digest_str(&b, "jn", e->after_json_nulls);
		digest_str(&b, "ojn", e->before_json_nulls);
		digest_str(&b, "extra", e->extra);
		digest_str(&b, "opaque", e->pos.opaque);
	}
	return trib_strbuf_finish(&b);
}
