/*
 * pgrecord.h: the tributary output plugin's records, parsed into events.
 *
 * Design.  Three parts, all free of any connection so that unit tests and
 * the fuzzer drive them with plain text; this header is the public face of
 * all three:
 *
 *   trib_pgrec_parser (pgrecord.c) parses one record (one JSON line,
 *                  docs/PLUGIN.md) into a trib_pgrec: either a change,
 *                  carrying a trib_event, or a control record (begin,
 *                  commit, relation, stream_*, two-phase records).  Row
 *                  images are spliced out of the record byte for byte.
 *   relation cache (pgrelcache.c, pgrelcache.h) keeps per-relation
 *                  metadata (columns, types, key columns) from relation
 *                  records, in a hash by schema.table, from which the
 *                  parser builds each event's `key`.
 *   trib_pgasm     (pgasm.c) assembles parsed records into what a pipeline consumes:
 *                  it marks the last event of each transaction (last_in_tx,
 *                  pos.end_lsn), buffers streamed transactions until
 *                  stream_commit (ids become (commit_lsn, seq) only then),
 *                  applies stream_abort and discard, and drops heartbeats.
 *
 * Parsing is strict: a record that is not valid JSON, misses a field its
 * kind requires, or has a field of the wrong type is an error with a clear
 * message, never a crash.  Unknown top-level fields are ignored, so a newer
 * plugin can add fields.  Parsing uses a fast scan of the usual
 * records (pgrecord_fast.c; recursion bounded at 32 levels inside a row
 * image) and yajl's streaming parser for the rest (no recursion, no
 * tree), so nesting depth costs little stack.
 *
 * Names: everything pgrecord*.c exports here is trib_pgrec_* (types
 * trib_pgrec, trib_pgrec_kind, trib_pgrec_parser; kinds TRIB_PGREC_*);
 * what its four files share among themselves (pgrecord_int.h) is pgr_*.
 *
 * Ownership: a trib_pgrec owns its event and strings; trib_pgrec_free()
 * releases them.  Take the event with trib_pgrec_take_event() (the record
 * then no longer owns it).  Relation metadata belongs to the parser, and
 * so do the naming strings every event borrows (source, connector, db,
 * schema, table; event.h): free the parser after its events.
 */
#ifndef TRIB_PGRECORD_H
#define TRIB_PGRECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "pgrelcache.h"

/* The prefix of the consumer's heartbeat messages (source_pg.c). */
#define TRIB_HEARTBEAT_PREFIX "tributary.heartbeat"

typedef enum trib_pgrec_kind
{
	TRIB_PGREC_BEGIN,
	TRIB_PGREC_COMMIT,
	TRIB_PGREC_RELATION,
	TRIB_PGREC_INSERT,
	TRIB_PGREC_UPDATE,
	TRIB_PGREC_DELETE,
	TRIB_PGREC_TRUNCATE,
	TRIB_PGREC_MESSAGE,
	TRIB_PGREC_STREAM_START,
	TRIB_PGREC_STREAM_STOP,
	TRIB_PGREC_STREAM_ABORT,
	TRIB_PGREC_STREAM_COMMIT,
	TRIB_PGREC_STREAM_PREPARE,
	TRIB_PGREC_BEGIN_PREPARE,
	TRIB_PGREC_PREPARE,
	TRIB_PGREC_COMMIT_PREPARED,
	TRIB_PGREC_ROLLBACK_PREPARED
} trib_pgrec_kind;

/* One parsed record.  Fields a kind does not carry are zero / false. */
typedef struct trib_pgrec
{
	trib_pgrec_kind kind;
	trib_event *ev;				/* changes: the event; NULL otherwise */
	uint32_t	xid;
	uint32_t	subxid;			/* 0 when absent */
	bool		has_commit_lsn; /* false for streamed changes */
	uint64_t	commit_lsn;
	uint64_t	end_lsn;		/* commit, prepare, stream_commit, ... */
	uint64_t	lsn;			/* changes, relation, stream_abort */
	bool		has_ts;
	int64_t		ts_ms;
	int64_t		ts_us;			/* the same instant in microseconds */
	bool		has_seq;
	uint64_t	seq;
	bool		has_changes;
	uint64_t	changes;
	bool		first;			/* stream_start */
	bool		has_next_seq;	/* stream_abort */
	uint64_t	next_seq;
	bool		discard;		/* stream_commit/prepare: all processed */
	bool		has_discard_through;
	uint64_t	discard_through_seq;
	bool		transactional;	/* message */
	char	   *prefix;			/* message prefix (decoded) */
	char	   *gid;			/* two-phase records */
	uint64_t	prepare_lsn;	/* commit_prepared of a transaction held
								 * since its PREPARE (pgprepared.c): that
								 * PREPARE's LSN; 0 otherwise */
	const trib_pgrel *rel;		/* relation: the parser's entry */
	struct trib_pgrec *next;	/* list link for queues; NULL */
	bool		ev_inline;		/* internal: ev shares the record's
								 * allocation (one malloc per change) */
} trib_pgrec;

typedef struct trib_pgrec_parser trib_pgrec_parser;

/* Name of a record kind as the plugin writes it ("insert", ...). */
const char *trib_pgrec_kind_name(trib_pgrec_kind kind);

/* A new parser; `source` and `db` are copied once, and every event points
 * to those copies (NULL ok). */
trib_pgrec_parser *trib_pgrec_parser_new(const char *source, const char *db);

/* Free a parser and its relation metadata; NULL is allowed. */
void		trib_pgrec_parser_free(trib_pgrec_parser *p);

/*
 * Parse one record of `len` bytes (no NUL needed; no newline).  On success
 * *out is a new record the caller frees with trib_pgrec_free().  On error
 * returns false, *out is NULL and errbuf says what is wrong.
 */
bool		trib_pgrec_parser_parse(trib_pgrec_parser *p, const char *text, size_t len,
								trib_pgrec **out, char *errbuf, size_t errlen);

/*
 * Whether parses try the fast scan of the plugin's usual records first
 * (pgrecord_fast.c; on by default).  Off, every record goes through
 * yajl's parse alone; the results are the same, which tests and the
 * fuzzer check by comparing the two, and replay_bench times.
 */
void		trib_pgrec_parser_set_fast(trib_pgrec_parser *p, bool on);

/*
 * Whether the fast scan replays the runs of top-level fields that a record
 * repeats from one it kept (on by default; pgrecord_fast.c, "Replay"); the
 * results are the same, which the tests and the fuzzer check.
 */
void		trib_pgrec_parser_set_replay(trib_pgrec_parser *p, bool on);

/*
 * Whether change events carry the index of their images (event.h's image
 * index; off by default).  Building it costs every parsed change (about
 * 900 instructions of a W1 row) and only the transform rules read it, so
 * the source asks for it only when its pipeline has rules
 * (TRIB_NEED_IMAGE_INDEX).
 */
void		trib_pgrec_parser_set_image_index(trib_pgrec_parser *p, bool on);

/* The metadata of schema.table, or NULL when no relation record came. */
const trib_pgrel *trib_pgrec_parser_relation(const trib_pgrec_parser *p,
										 const char *schema, const char *table);

/* Every field of a record and its event as one text, for tests and the
 * fuzzer that compare two parses (the caller frees it). */
char	   *trib_pgrec_digest(const trib_pgrec *r);

/* Free a record and what it owns; NULL is allowed. */
void		trib_pgrec_free(trib_pgrec *rec);

/* Free a list of records linked through `next`; NULL is allowed. */
void		trib_pgrec_free_list(trib_pgrec *r);

/* Free a record as trib_pgrec_free() does, except that a change's memory
 * is kept for the next change `p` parses (a bounded number of them); `p`
 * is the parser that made the record, or NULL (then: trib_pgrec_free). */
void		trib_pgrec_release(trib_pgrec_parser *p, trib_pgrec *rec);

/* Append rec to the list *head .. *tail (both NULL when it is empty). */
void		trib_pgrec_append(trib_pgrec **head, trib_pgrec **tail, trib_pgrec *rec);

/* Rough memory of a record and its event, for buffer budgets. */
size_t		trib_pgrec_bytes(const trib_pgrec *rec);

/* Take the event out of a record; the caller then owns it. */
trib_event *trib_pgrec_take_event(trib_pgrec *rec);

/*
 * The assembler.  Feed it every parsed record in stream order; take the
 * records to deliver with trib_pgasm_pop().  Delivered events of a
 * transaction carry pos.commit_lsn, pos.seq and ts; the last one of each
 * transaction has last_in_tx = true and pos.end_lsn = the commit's end_lsn
 * (other events of the transaction have end_lsn 0), and the commit (or
 * prepare, stream_commit, stream_prepare) record follows it.  A streamed
 * transaction that ends in stream_prepare comes out like one decoded at
 * PREPARE: a begin_prepare record (made here), its events, stream_prepare.  A
 * non-transactional message is its own transaction: last_in_tx, end_lsn =
 * its lsn.  Heartbeat messages (TRIB_HEARTBEAT_PREFIX) are dropped; their
 * transaction's begin/commit are still delivered so its end_lsn can be
 * confirmed.  stream_start/stream_stop/stream_abort are consumed.
 */
typedef struct trib_pgasm trib_pgasm;

trib_pgasm *trib_pgasm_new(void);
void		trib_pgasm_free(trib_pgasm *a);

/* Take ownership of rec and queue what it makes deliverable.  Returns
 * false (errbuf filled) when the sequence of records is inconsistent. */
bool		trib_pgasm_push(trib_pgasm *a, trib_pgrec *rec,
							char *errbuf, size_t errlen);

/* The next deliverable record (caller frees), or NULL. */
trib_pgrec *trib_pgasm_pop(trib_pgasm *a);

/* Forget everything not yet deliverable: held event, streamed buffers.
 * Used when the connection drops; the server resends them. */
void		trib_pgasm_reset(trib_pgasm *a);

/* Bytes of events buffered for streamed transactions (a rough figure). */
size_t		trib_pgasm_buffered(const trib_pgasm *a);

/*
 * Split a replication message into records: returns the length of the
 * record starting at text (up to the next '\n' or the end) and sets *next
 * to the offset after it.  Empty lines are skipped by the caller.
 */
size_t		trib_pgrec_next_line(const char *text, size_t len, size_t *next);

#endif							/* TRIB_PGRECORD_H */
