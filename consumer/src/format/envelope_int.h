/*
 * envelope_int.h: what the envelope's files share (internal to src/format):
 * the output buffer and its inline appenders, the compiled topic patterns,
 * and the envelope's state (struct trib_envelope).
 *
 * Design.  A record is written with plain appends into one growing buffer
 * (ebuf) that is reused from event to event.  The appenders used on the
 * per-event path (eb_reserve, eb_put, EB_LIT, eb_ch, eb_u64, eb_i64,
 * eb_jcstr), and the small steps every record takes (env_str_same,
 * env_rec_new, the memo's hit in env_topic_memo_write), are static inline
 * here so that every file of the envelope inlines them as envelope.c did
 * when it was one file (tools/replay_bench measures it); the larger ones
 * (eb_jstr, the escaper) are functions.  The files:
 *
 *   envelope.c         the public entry points (envelope.h): options, make
 *                      and free, encode, a topic's name, transaction
 *                      metadata's state, checkpoint and BEGIN/END records;
 *                      the escaper and the "transaction" block
 *   envelope_topic.c   topic patterns (compiled once) and the memo of what
 *                      the last record's names rendered to
 *   envelope_source.c  the "source" block, and ts_ms (with Debezium's
 *                      ts_us and ts_ns)
 *   envelope_record.c  the records of each kind of event: row changes
 *                      (with their keys, images and tombstones), truncates
 *                      and logical messages
 *
 * Internal functions shared between these files are prefixed env_ (eb_
 * for those that append to the buffer).  Not to be included from outside
 * src/format.
 */
#ifndef TRIB_ENVELOPE_INT_H
#define TRIB_ENVELOPE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "debezium.h"
#include "envelope.h"
#include "intern.h"
#include "strbuf.h"
#include "u64text.h"
#include "xalloc.h"

/* A growable byte buffer; aborts on out-of-memory like trib_event_new. */
typedef struct ebuf
{
	char	   *p;
	size_t		len;
	size_t		cap;
} ebuf;

/* One segment of a compiled topic pattern. */
typedef enum seg_kind
{
	SEG_LIT,
	SEG_PREFIX,
	SEG_SOURCE,
	SEG_DB,
	SEG_SCHEMA,
	SEG_TABLE
} seg_kind;

typedef struct seg
{
	seg_kind	kind;
	char	   *lit;			/* SEG_LIT: the literal text */
	size_t		len;
} seg;

typedef struct pattern
{
	seg		   *segs;
	size_t		n;
} pattern;

/* Per-transaction counter of one table (transaction metadata), the value
 * of "schema\0table" in the envelope's map of them. */
typedef struct txcount
{
	uint64_t	count;
	uint64_t	gen;			/* transaction generation of `count` */
} txcount;

/* A record while being written: offsets into the buffer. */
typedef struct recoff
{
	size_t		topic;
	const char *key;			/* points into the event, or NULL */
	size_t		key_len;
	size_t		key_off;		/* when key_in_buf */
	bool		key_in_buf;
	bool		tombstone;
	size_t		value;
	size_t		value_len;
} recoff;

struct trib_envelope
{
	trib_envelope_opts opts;
	char	   *prefix;			/* raw, validated */
	char	   *prefix_json;	/* escaped, with quotes */
	char	   *version_json;
	size_t		prefix_json_len;
	size_t		version_json_len;
	char	   *placeholder_json;	/* NULL: leave unchanged columns out */
	char	   *placeholder;	/* its text (Debezium mode types it) */
	bool		schema_or_db;	/* default pattern: ${schema} falls back to db */
	pattern		topic;
	pattern		message;
	ebuf		buf;
	recoff	   *offs;
	trib_record *recs;
	size_t		nrecs;
	size_t		caprecs;
	int64_t		now_us;			/* this encode's clock reading */
	char		now_text[24];	/* the text of now_ms (eb_now) */
	size_t		now_text_len;	/* 0: nothing cached yet */
	int64_t		now_ms;
	/* transaction metadata */
	uint64_t	tx_gen;
	uint64_t	tx_commit_lsn;
	uint64_t	tx_txid;
	bool		tx_known;
	trib_intern *counts;		/* "schema\0table" -> txcount *, or NULL */
	/* format: debezium (debezium.h); NULL for format: tributary */
	trib_dbz   *dbz;
	trib_strbuf dbz_buf;
	bool		dbz_schemas;	/* schemas.enable: {"schema":..,"payload":..} */
	const char *key_schema;		/* the current record's, or NULL */
	size_t		key_schema_len;
	trib_dbz_tx dbz_tx;			/* Debezium's transaction topic */
	trib_strbuf mongo_vs;		/* a MongoDB record's schemas (rendered */
	trib_strbuf mongo_ks;		/* per record: debezium_mongo.c) */
	yajl_gen	src_gen;		/* the opaque's source members, or NULL */
	/* the source block's members from "version" to "db" as the last event
	 * had them, and what they were rendered from (write_source_head) */
	trib_strbuf src_head;
	char	   *src_connector;
	char	   *src_db;
	int64_t		src_ms;
	int64_t		src_us;
	int			src_snap;		/* 0: nothing cached yet */
	/* ,"sequence":"[ and its first LSN's text with the comma after it, as
	 * the last event had them, for that LSN (write_sequence) */
	char		seq_head[48];
	size_t		seq_head_len;	/* 0: nothing cached yet */
	uint64_t	seq_first;
	/* what the last record's names rendered to (env_name_memo_for) */
	struct name_memo
	{
		char	   *source,
				   *db,
				   *schema,
				   *table;		/* copies of the names it was made from */
		bool		topic_ok;	/* topic: the table pattern's, with its NUL */
		bool		names_ok;	/* names: ,"schema":S,"table":T (names_len
								 * bytes), then ,"txId":X,"lsn": for txid */
		size_t		names_len;
		uint64_t	txid;
		trib_strbuf topic;
		trib_strbuf names;
	}			memo;
};

/* Make room for n more bytes. */
static inline void
eb_reserve(ebuf *b, size_t n)
{
	if (b->cap - b->len < n)
	{
		size_t		cap = b->cap ? b->cap : 1024;

		while (cap - b->len < n)
			cap *= 2;
		b->p = trib_xrealloc(b->p, cap);
		b->cap = cap;
	}
}

/* Append n bytes. */
static inline void
eb_put(ebuf *b, const char *s, size_t n)
{
	eb_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Append a string literal (its length is known at compile time). */
#define EB_LIT(b, s) eb_put((b), (s), sizeof(s) - 1)

/* Append one byte. */
static inline void
eb_ch(ebuf *b, char c)
{
	eb_reserve(b, 1);
	b->p[b->len++] = c;
}

/* Append an unsigned decimal number. */
static inline void
eb_u64(ebuf *b, uint64_t v)
{
	char		tmp[TRIB_U64_DIGITS];
	char	   *e = tmp + sizeof(tmp);
	char	   *s = trib_u64_digits(e, v);

	eb_put(b, s, (size_t) (e - s));
}

/* Append a signed decimal number. */
static inline void
eb_i64(ebuf *b, int64_t v)
{
	if (v < 0)
	{
		eb_ch(b, '-');
		eb_u64(b, (uint64_t) 0 - (uint64_t) v);
	}
	else
		eb_u64(b, (uint64_t) v);
}

/* Append s (n bytes) as a JSON string with its quotes (envelope.c). */
void		eb_jstr(ebuf *b, const char *s, size_t n);

/* Append a NUL-terminated string as JSON, "" for NULL. */
static inline void
eb_jcstr(ebuf *b, const char *s)
{
	if (s == NULL)
		EB_LIT(b, "\"\"");
	else
		eb_jstr(b, s, strlen(s));
}

/* Debezium mode for a MongoDB event: Debezium's MongoDB connector's
 * record (documents as strings, debezium_mongo.c). */
static inline bool
env_dbz_mongo(const trib_envelope *env, const trib_event *ev)
{
	return env->dbz != NULL && ev->connector != NULL && strcmp(ev->connector, "mongodb") == 0;
}

/* Two strings equal, or both NULL. */
static inline bool
env_str_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Start a new record: grow the arrays, return its offsets entry. */
static inline recoff *
env_rec_new(trib_envelope *env)
{
	recoff	   *r;

	if (env->nrecs == env->caprecs)
	{
		env->caprecs = env->caprecs ? env->caprecs * 2 : 4;
		env->offs = trib_xrealloc(env->offs, env->caprecs * sizeof(recoff));
		env->recs = trib_xrealloc(env->recs, env->caprecs * sizeof(trib_record));
	}
	r = &env->offs[env->nrecs++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* envelope.c */

/* Replace *keep with a copy of s unless it is the same already. */
void		env_keep_str(char **keep, const char *s);

/* "transaction": null or the block of Debezium's transaction metadata. */
void		env_write_transaction(trib_envelope *env, const trib_event *ev,
								  const char *schema, const char *table);

/* envelope_topic.c */

/* Characters Kafka allows in a topic name. */
bool		env_topic_char_ok(unsigned char c);

/* Free a compiled pattern. */
void		env_pattern_free(pattern *pat);

/* Compile a topic pattern (what names the option in errors). */
bool		env_pattern_compile(pattern *pat, const char *what, const char *text,
								char *errbuf, size_t errlen);

/* The memo of the names a record is written for, reused while the next
 * records name the same ones; cleared when a name changed. */
struct name_memo *env_name_memo_for(trib_envelope *env, const char *source,
									const char *db, const char *schema,
									const char *table);

/* Append the NUL-terminated topic for a pattern; false when illegal. */
bool		env_topic_write(const trib_envelope *env, const pattern *pat, ebuf *b,
							const char *source, const char *db,
							const char *schema, const char *table,
							char *errbuf, size_t errlen);

/* Append a topic chosen by a router (ev->topic), sanitised like values. */
bool		env_topic_routed(ebuf *b, const char *topic, char *errbuf,
							 size_t errlen);

/* Render the table pattern's topic into b and the memo m (the miss of
 * env_topic_memo_write); false when illegal. */
bool		env_topic_memo_fill(trib_envelope *env, struct name_memo *m, ebuf *b,
								const char *source, const char *db,
								const char *schema, const char *table,
								char *errbuf, size_t errlen);

/* Append the table pattern's topic for these names, from the memo m
 * (env_name_memo_for, taken once for the record) when it has it; false when
 * illegal.  Inline: the hit is the per-event path. */
static inline bool
env_topic_memo_write(trib_envelope *env, struct name_memo *m, ebuf *b,
					 const char *source, const char *db, const char *schema,
					 const char *table, char *errbuf, size_t errlen)
{
	if (m->topic_ok)
	{
		eb_put(b, m->topic.data, m->topic.len);
		return true;
	}
	return env_topic_memo_fill(env, m, b, source, db, schema, table, errbuf,
							   errlen);
}

/* envelope_source.c */

/* A ts_ms value; in Debezium mode followed by ts_us and ts_ns. */
void		eb_ts(trib_envelope *env, int64_t ms, int64_t us);

/* The "source" block (with its key); m is the memo of the record's
 * names (env_name_memo_for). */
void		env_write_source(trib_envelope *env, const trib_event *ev,
							 struct name_memo *m, const char *schema,
							 const char *table);

/* envelope_record.c */

/* One row-change record (c, u, d, r) or one truncate record (t). */
bool		env_write_row_record(trib_envelope *env, const trib_event *ev,
								 const char *schema, const char *table,
								 int64_t now, char *errbuf, size_t errlen);

/* A truncate: one record per table. */
bool		env_write_truncate(trib_envelope *env, const trib_event *ev,
							   int64_t now, char *errbuf, size_t errlen);

/* A logical decoding message: Debezium's "m" record. */
bool		env_write_message(trib_envelope *env, const trib_event *ev,
							  int64_t now, char *errbuf, size_t errlen);

#endif							/* TRIB_ENVELOPE_INT_H */
