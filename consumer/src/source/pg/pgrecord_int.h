/*
 * pgrecord_int.h: what the record parser's files share: the field and
 * kind tables' indexes, the parse state (pgr_pstate) and the parser
 * (struct trib_pgrec_parser); private to source/pg/.  The files:
 *   pgrecord.c        the kind and field tables, the requirements per
 *                     kind, the parser's life, and trib_pgrec's
 *   pgrecord_fast.c   the fast scan of the plugin's usual records, tried
 *                     first (fills a pgr_pstate without yajl)
 *   pgrecord_scan.c   the streaming parse of one record (yajl's callbacks),
 *                     for what the fast scan hands over, and
 *                     trib_pgrec_parser_parse()
 *   pgrecord_build.c  the checks after the parse and the records built
 *                     from it (events, relations)
 */
#ifndef TRIB_PGRECORD_INT_H
#define TRIB_PGRECORD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <yajl_parse.h>

#include "arena.h"
#include "intern.h"
#include "jvalue.h"
#include "pgrecord.h"
#include "pgrelcache.h"
#include "strbuf.h"

#define NKINDS ((int) TRIB_PGREC_ROLLBACK_PREPARED + 1)

/* The top-level fields the parser knows. */
enum
{
	F_KIND, F_XID, F_SUBXID, F_COMMIT_LSN, F_TS, F_LSN, F_SEQ, F_RELID,
	F_SCHEMA, F_TABLE, F_REPLICA_IDENTITY, F_COLUMNS, F_PRIMARY_KEY,
	F_IDENTITY_KEY, F_OLD, F_NEW, F_UNCHANGED_TOAST, F_RELATIONS, F_CASCADE,
	F_RESTART_IDENTITY, F_TRANSACTIONAL, F_PREFIX, F_ENCODING, F_CONTENT,
	F_END_LSN, F_CHANGES, F_GID, F_FIRST, F_NEXT_SEQ, F_DISCARD,
	F_DISCARD_THROUGH_SEQ, F_JSON_NULLS, F_OLD_JSON_NULLS, NFIELDS,
	F_UNKNOWN = NFIELDS
};

/* Type requirements per kind: R = required, O = optional, with a JSON
 * kind (trib_jkind, jvalue.h: 0..5, so the flags above it stay free). */
#define R(t) (0x10 | (t))
#define O(t) (0x20 | (t))
#define OBJ_OR_NULL 0x40		/* old: object or null */

typedef struct pgr_kind_spec
{
	unsigned char f[NFIELDS];
} pgr_kind_spec;

/* A member of a row image: raw "name":value is text[kstart, vend). */
typedef struct pgr_member
{
	size_t		kstart;
	size_t		vend;
	const char *name;			/* nlen bytes, in the record or the arena */
	size_t		nlen;
} pgr_member;

typedef struct pgr_memberlist
{
	pgr_member *m;
	size_t		n;
	size_t		cap;
} pgr_memberlist;

/* A change record and its event, allocated together (trib_pgrec.ev_inline). */
typedef struct pgr_recblock
{
	trib_pgrec	rec;
	trib_event	ev;
} pgr_recblock;

/* Change blocks the parser keeps for reuse at most (trib_pgrec_release):
 * one poll's worth (the pipeline's POLL_BATCH). */
#define PGR_SPARE_MAX 512

struct trib_pgrec_parser
{
	char	   *source;
	char	   *db;
	trib_pgrelcache *rels;		/* from relation records (pgrelcache.h) */
	/*
	 * Reused by every parse: yajl's memory, decoded strings and member
	 * names come from `scratch`, reset after each record, and the member
	 * arrays of the two row images keep their capacity.
	 */
	trib_arena	scratch;
	yajl_alloc_funcs yaf;
	/* schema and table names that events point to (event.h), and the
	 * last of each interned: the records of a run repeat them */
	trib_intern *names;
	const char *last_name[2];	/* 0 schema, 1 table; in `names` */
	size_t		last_name_len[2];
	/* the last relation looked up, by its interned names (pointers
	 * compare); forgotten when a relation record installs an entry */
	bool		rel_cached;
	const char *rel_schema;
	const char *rel_table;
	const trib_pgrel *rel_last;	/* NULL: no entry */
	/* the last xid, ts and commit_lsn parsed: every record of a
	 * transaction repeats them */
	char		last_xid[10];	/* the raw digits (up to UINT32_MAX's 10) */
	size_t		last_xid_len;
	uint32_t	last_xid_val;
	char		last_ts[40];
	size_t		last_ts_len;
	int64_t		last_ts_ms;
	int64_t		last_ts_us;
	size_t		last_ts_mlen;	/* its minute's length (0: none), and */
	int64_t		last_ts_base;	/* that minute's seconds since the epoch */
	char		last_clsn[TRIB_LSN_BUFLEN];
	size_t		last_clsn_len;
	uint64_t	last_clsn_val;
	pgr_memberlist img[2];
	/* released change blocks, linked through rec.next (trib_pgrec_release) */
	pgr_recblock *spare;
	int			nspare;
	struct pgr_pstate *st;			/* the parse state, zeroed between parses */
	bool		fast;			/* try pgrecord_fast.c first (default) */
	bool		index_images;	/* leave the image index on change events
								 * (event.h; off by default) */
	/* the order of the last records' top-level fields, for the fast
	 * scan's guess of the next key (pgr_pstate.follow) */
	unsigned char follow[NFIELDS + 1];
	struct pgr_replay *replay;	/* the kept record's runs (pgr_replay) */
	bool		replay_on;		/* use them (default) */
};

typedef struct pgr_strlist
{
	char	  **v;
	size_t		n;
	size_t		cap;
} pgr_strlist;

/* A field's value as seen during the parse. */
typedef struct pgr_field
{
	trib_jkind	type;			/* its JSON kind, when `set` */
	bool		set;			/* the record has this field (zeroed: no) */
	bool		b;				/* (set, b and raw next to type: 40 bytes,
								 * not 48, to clear per record) */
	bool		raw;			/* str points into the record (the fast
								 * scan: no escapes, so the bytes are the
								 * decoded string) and is not NUL-ended;
								 * else it is the yajl parse's NUL-ended
								 * copy in the arena */
	size_t		start;			/* span of the value in the input */
	size_t		end;
	const char *str;			/* strings: the decoded slen bytes */
	size_t		slen;
} pgr_field;

/* printf arguments for "%.*s": at most the first 40 bytes of a field's
 * string, as "%.40s" printed the NUL-ended copies */
#define PGR_STR40(f) (int) ((f)->slen < 40 ? (f)->slen : 40), (f)->str

/*
 * The replay of runs that repeat (pgrecord_fast.c, "Replay"): the top-level
 * scalar fields of a record the fast scan took (the kept record), each as
 * a segment of its bytes, from its key's opening quote to past the comma
 * right after its value, with the field as the scan set it.  Offsets are
 * into pgr_replay.text, a copy of the kept record's first PGR_REPLAY_TEXT
 * bytes at most, so they fit in 16 bits.
 */
#define PGR_REPLAY_TEXT 512

typedef struct pgr_seg
{
	pgr_field	f;				/* the field; start and end from at */
	uint16_t	at;				/* the key's opening quote */
	uint16_t	end;			/* past the comma */
	uint16_t	run;			/* the end of the run of segments that
								 * follow each other byte for byte from
								 * this one (its own end at least) */
	unsigned char fi;			/* F_* */
} pgr_seg;

typedef struct pgr_replay
{
	char		text[PGR_REPLAY_TEXT];
	pgr_seg		seg[NFIELDS];
	int			nseg;
	/* per F_* (NFIELDS: the record's start) the index + 1 of the segment
	 * of the field that followed it (0: none) */
	unsigned char next[NFIELDS + 1];
	/* the record being scanned: its top-level fields in order, with
	 * their keys' offsets, how many were replayed and whether its first
	 * was; kept (replacing seg[]) when its first was not or it replayed
	 * fewer than the record before, so that a run of records like it
	 * keeps one copy */
	unsigned char order[NFIELDS + 1];	/* + 1: a repeated or unknown key
										 * is noted before the scan hands
										 * over */
	size_t		keyat[NFIELDS + 1];
	int			norder;
	int			restored;
	int			last_restored;
	bool		head;
	uint64_t	replayed;		/* segments replayed so far (tests) */
} pgr_replay;

/* Column-object members (depth 3 under "columns"). */
enum
{
	C_NAME, C_TYPE, C_TYPE_OID, C_TYPMOD, C_NULLABLE, C_PK, C_IDENTITY,
	NCOLF,						/* the members every column has */
	/* optional: a domain's three (all or none), an enum's labels */
	C_BASE_TYPE = NCOLF, C_BASE_TYPE_OID, C_BASE_TYPMOD, C_ENUM_LABELS,
	NCOLF_ALL, C_UNKNOWN = NCOLF_ALL
};

/*
 * The parse state of one record.  It lives in the parser (p->st) and is
 * all zero between parses: a parse sets arena, text, len, topkey, follow
 * and img, and pstate_clear() (pgrecord_scan.c) zeroes what came before
 * tmask whole, and of f[] only the fields that tmask says were set,
 * instead of 1.3 KB per record (the relations members after err: their
 * comment).
 */
typedef struct pgr_pstate
{
	trib_arena *arena;			/* strings and names of this parse */
	const char *text;
	size_t		len;
	yajl_handle h;
	int			depth;
	int			topkey;			/* F_* of the current top-level member */
	size_t		after_key;		/* offset after the last top-level key */
	/* NULL, or per F_* (NFIELDS: the record's start) the F_* + 1 of the
	 * top-level field that followed it in the last record the fast scan
	 * read (0: none yet); it tries that key first (pgrecord_fast.c) and
	 * writes what it found.  The parser's (follow), kept across records. */
	unsigned char *follow;
	/* NULL, or the parser's replay (pgr_replay): the fast scan reuses the
	 * runs of top-level fields that repeat the last record's, and keeps
	 * this record's for the next */
	pgr_replay *replay;
	/* depth 2 */
	size_t		prev_end;		/* end of the last depth-2 token of an image */
	pgr_memberlist img[2];			/* 0 old, 1 new */
	pgr_strlist	names[3];		/* primary_key, identity_key, unchanged_toast */
	size_t		nelems;			/* elements of columns/relations seen */
	size_t		njn[2];			/* entries of json_nulls, old_json_nulls */
	size_t		jn_elems;		/* elements of the current ["col", i...] */
	/* depth 3 (columns / relations elements) */
	int			subkey;
	unsigned	seen;			/* bitmask of members seen in the element */
	trib_pgcol *cols;
	size_t		ncols;
	size_t		capcols;
	/* bit F_* set in tmask[t]: the field is set with JSON kind t (filled
	 * as the fast scan goes, or from f[] after yajl's parse), for the
	 * per-kind check (pgr_check_spec) and for clearing f[] after a parse:
	 * only the fields set (pgrecord_scan.c, pstate_clear) */
	uint64_t	tmask[TRIB_J_ARRAY + 1];
	pgr_field	f[NFIELDS];
	char		err[256];
	/*
	 * A truncate's relations elements (pgrecord_scan.c, relations_add),
	 * after f[] so that the clear of every record does not grow: relx is
	 * freed and zeroed when it was used, and after_subkey and relval are
	 * written before they are read (each depth-3 key; each element's
	 * schema and table, which on_close requires).
	 */
	size_t		after_subkey;	/* offset after the last depth-3 key */
	size_t		relval[2][2];	/* the element's schema and table values:
								 * spans in text */
	trib_strbuf relx;			/* the elements, schema and table only,
								 * comma-separated */
} pgr_pstate;


/* pgrecord.c's tables */
extern const char *const pgr_kind_names[NKINDS];
extern const char *const pgr_field_names[NFIELDS];
extern size_t pgr_field_len[NFIELDS];	/* filled by init_specs() */
extern pgr_kind_spec pgr_specs[NKINDS];

/* The top-level fields by name: an open-addressing table of F_* + 1 (0:
 * empty) indexed by pgr_field_hash(), filled by init_specs(); and per
 * kind, the fields its spec names, so checks visit only those. */
#define PGR_FIELD_SLOTS 128
_Static_assert(NFIELDS <= 64, "a bit per field in a uint64_t");
extern unsigned char pgr_field_slot[PGR_FIELD_SLOTS];
extern unsigned char pgr_spec_fields[NKINDS][NFIELDS];
extern unsigned char pgr_spec_nfields[NKINDS];
/* Per kind, as bits F_*: the fields its spec requires, those it names,
 * and per JSON kind t those for which t is the right kind. */
extern uint64_t pgr_spec_req[NKINDS];
extern uint64_t pgr_spec_named[NKINDS];
extern uint64_t pgr_spec_ok[NKINDS][TRIB_J_ARRAY + 1];
extern size_t pgr_kind_len[NKINDS];

/* The hash of a field name of n > 0 bytes, for pgr_field_slot[]. */
static inline unsigned
pgr_field_hash(const char *k, size_t n)
{
	return ((unsigned) n * 5u + (unsigned char) k[0] +
			(unsigned char) k[n - 1] * 3u) & (PGR_FIELD_SLOTS - 1);
}

/* Are the w bytes (8, 4 or 2, a constant where it is inlined) at a + i
 * and b + i, and those at a + j and b + j, the same?  Each read into a
 * zeroed word, so its unused bytes compare equal. */
static inline bool
pgr_same_words(const char *a, const char *b, size_t i, size_t j, size_t w)
{
	uint64_t	x = 0,
				y = 0,
				u = 0,
				v = 0;

	memcpy(&x, a + i, w);
	memcpy(&y, b + i, w);
	memcpy(&u, a + j, w);
	memcpy(&v, b + j, w);
	return ((x ^ y) | (u ^ v)) == 0;
}

/* Are the n bytes at a and b the same?  For short names: words that
 * overlap (the first and the last 8, 4 or 2 bytes; up to 32 bytes, also
 * the second and the last but one 8), read within [0, n) of each,
 * instead of a call to memcmp or a loop per byte; memcmp above 32. */
static inline bool
pgr_same_short(const char *a, const char *b, size_t n)
{
	if (n > 32)
		return memcmp(a, b, n) == 0;
	if (n >= 8)
		return pgr_same_words(a, b, 0, n - 8, 8) &&
			(n <= 16 || pgr_same_words(a, b, 8, n - 16, 8));
	if (n >= 4)
		return pgr_same_words(a, b, 0, n - 4, 4);
	if (n >= 2)
		return pgr_same_words(a, b, 0, n - 2, 2);
	return n == 0 || a[0] == b[0];
}

/* The F_* of the top-level field named k (n bytes), or -1 when unknown. */
static inline int
pgr_field_lookup(const char *k, size_t n)
{
	unsigned	h;

	if (n == 0)
		return -1;
	for (h = pgr_field_hash(k, n); pgr_field_slot[h]; h = (h + 1) & (PGR_FIELD_SLOTS - 1))
	{
		int			i = pgr_field_slot[h] - 1;

		if (pgr_field_len[i] != n)
			continue;
		if (pgr_same_short(pgr_field_names[i], k, n))
			return i;
	}
	return -1;
}

/* Parse a non-negative decimal integer of n bytes, at most max. */
static inline bool
parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (n == 0 || n > 20)
		return false;
	for (i = 0; i < n; i++)
	{
		unsigned	c = (unsigned char) s[i] - '0';

		/* below 20 digits no overflow of 64 bits is possible: the bound
		 * is checked once, at the end (v only grows), not with a division
		 * per digit */
		if (c > 9 || (n == 20 && v > (max - c) / 10))
			return false;
		v = v * 10 + c;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* pgrecord.c: a zeroed change block, a spare one when there is one */
pgr_recblock *pgr_block_new(trib_pgrec_parser *p);

/* pgrecord_build.c: the checks and builders trib_pgrec_parser_parse() calls */
bool		pgr_check_spec(const pgr_pstate *st, int kind, char *errbuf, size_t errlen);
bool		pgr_fill_tags(trib_pgrec_parser *p, const pgr_pstate *st, trib_pgrec *rec, char *errbuf, size_t errlen);
bool		pgr_check_kind(const trib_pgrec *rec, char *errbuf, size_t errlen);
bool		pgr_build_event(trib_pgrec_parser *p, pgr_pstate *st, trib_pgrec *rec, char *errbuf, size_t errlen);
/* pgrecord_fast.c: scan a usual record into st without yajl; false when
 * the record is not one it takes (yajl's parse must then run) */
bool		pgr_fast_scan(pgr_pstate *st);
bool		pgr_build_relation(trib_pgrec_parser *p, pgr_pstate *st, trib_pgrec *rec, char *errbuf, size_t errlen);

#endif							/* TRIB_PGRECORD_INT_H */
