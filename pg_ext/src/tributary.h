/*-------------------------------------------------------------------------
 *
 * tributary.h
 *		Shared declarations of the tributary logical decoding output plugin.
 *
 * The plugin is split by concern:
 *
 *	tributary.c  the callbacks PostgreSQL calls, transaction state, positions
 *				 and resume-after suppression; the only file that knows the
 *				 order of events in a decoding session.
 *	options.c	 parsing and validating the options a client passes.
 *	relcache.c	 per-relation cache: column list, type output info, JSON key
 *				 prefixes, filter verdict, schema signature; invalidated by
 *				 relcache, pg_type and pg_namespace callbacks.
 *	values.c	 one Datum to one JSON value, with fast paths for the common
 *				 types and type output functions for the rest.
 *	jsonout.c	 low-level JSON writing: string escaping for every server
 *				 encoding, LSNs, timestamps, base64 and hex.
 *	records.c	 the shape of each record (begin, commit, change, truncate,
 *				 message, relation, ddl, stream and two-phase records).
 *	ddl.c		 which relation is the extension's DDL log, whose rows
 *				 become "ddl" records instead of row changes.
 *	registry.c	 the schema registry's C SQL functions (libtribsr); not
 *				 part of the output plugin.
 *
 * Every record is written straight into ctx->out, one JSON document per
 * OutputPluginWrite; nothing is collected per transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TRIBUTARY_H
#define TRIBUTARY_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "access/tupconvert.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "replication/logical.h"
#include "replication/reorderbuffer.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/rel.h"

#include "compat.h"

/* ---- options (options.c) ---- */

typedef enum TribBinaryEncoding
{
	TRIB_BYTEA_BASE64,
	TRIB_BYTEA_HEX
} TribBinaryEncoding;

/* Bits of TribOptions.actions */
#define TRIB_ACT_INSERT		0x01
#define TRIB_ACT_UPDATE		0x02
#define TRIB_ACT_DELETE		0x04
#define TRIB_ACT_TRUNCATE	0x08
#define TRIB_ACT_MESSAGE	0x10
#define TRIB_ACT_ALL		0x1F

/* Default batch-bytes of a walsender session (see rec_open). */
#define TRIB_DEFAULT_BATCH_BYTES 65536

/* One "schema.table" glob pattern of include-tables / exclude-tables. */
typedef struct TribTablePattern
{
	char	   *schema;			/* glob; quoted parts arrive unescaped */
	char	   *table;
	bool		schema_literal; /* quoted: no wildcards */
	bool		table_literal;
} TribTablePattern;

typedef struct TribOptions
{
	bool		include_transaction;	/* begin and commit records */
	bool		skip_empty_xacts;
	bool		publish_via_root;
	bool		stream;
	bool		two_phase;
	bool		origin_none;	/* only changes without a replication origin */
	bool		include_ddl;	/* rows of the DDL log as "ddl" records */
	TribBinaryEncoding bytea_encoding;
	int			actions;		/* TRIB_ACT_* bits */
	List	   *include_tables; /* of TribTablePattern *; NIL = all */
	List	   *exclude_tables;
	List	   *message_prefixes;	/* of char * globs; NIL = all */

	int			batch_bytes;	/* 0: one record per message */

	/* resume-after=<lsn>[:<seq>]; resume_lsn invalid when not given */
	XLogRecPtr	resume_lsn;
	int64		resume_seq;		/* PG_INT64_MAX: the whole transaction */
} TribOptions;

extern void trib_options_parse(TribOptions *opts, List *defels);
extern bool trib_glob_match(const char *pattern, const char *s, bool literal);
extern bool trib_table_selected(const TribOptions *opts,
								const char *schema, const char *table);
extern bool trib_prefix_selected(const TribOptions *opts, const char *prefix);

/* ---- type output (values.c) ---- */

typedef enum TribValueKind
{
	TV_OUTPUT,					/* type output function, as a JSON string */
	TV_INT2,
	TV_INT4,
	TV_INT8,
	TV_OID,
	TV_FLOAT4,
	TV_FLOAT8,
	TV_NUMERIC,
	TV_MONEY,
	TV_BOOL,
	TV_TEXT,					/* text, varchar, bpchar */
	TV_NAME,
	TV_JSON,
	TV_JSONB,
	TV_BYTEA,
	TV_DATE,
	TV_TIME,
	TV_TIMETZ,
	TV_TIMESTAMP,
	TV_TIMESTAMPTZ,
	TV_INTERVAL,
	TV_ARRAY,
	TV_COMPOSITE
} TribValueKind;

/*
 * How to turn a Datum of one type into JSON.  Built once per column (or
 * array element type) and kept in the relation cache entry's memory context.
 */
typedef struct TribTypeInfo
{
	Oid			typid;			/* the column's declared type */
	Oid			basetypid;		/* after stripping domains */
	TribValueKind kind;
	int16		typlen;
	bool		typbyval;
	FmgrInfo	outfunc;		/* TV_OUTPUT only */
	/* TV_ARRAY: the element type */
	struct TribTypeInfo *elem;
	char		elmalign;
} TribTypeInfo;

extern TribTypeInfo *trib_typeinfo_build(Oid typid, MemoryContext cxt);
extern void trib_value_append(StringInfo out, Datum value,
							  const TribTypeInfo *ti,
							  const TribOptions *opts);
extern void trib_json_array_append(StringInfo out, Datum value,
								   const TribTypeInfo *ti,
								   const TribOptions *opts,
								   StringInfo json_nulls);
extern bool trib_json_text_is_null(const char *s, int len);

/* ---- relation cache (relcache.c) ---- */

typedef struct TribColumn
{
	AttrNumber	attnum;			/* in the published (root) tuple descriptor */
	char	   *json_key;		/* "name": already escaped, quoted, colon */
	int			json_key_len;
	char	   *name;			/* for relation records and toast lists */
	Oid			typid;
	int32		typmod;
	bool		notnull;
	bool		is_pk;
	bool		is_identity;	/* part of the replica identity key */
	/*
	 * A domain (or an array of a domain): the final base type (an array
	 * of the element's final base) and its typmod, which the values are
	 * written as; InvalidOid for other columns.  enum_labels: an enum
	 * (or a domain over one, or an array of either): its labels in sort
	 * order as a rendered JSON array; NULL for other columns.  Both go
	 * into the relation record (relcache.c).
	 */
	Oid			base_typid;
	int32		base_typmod;
	char	   *enum_labels;
	uint8		json_kind;		/* TRIB_JSON_*: which values may be JSON null */
	TribTypeInfo *type;
} TribColumn;

/*
 * TribColumn.json_kind: json and jsonb values (domains over them too) may
 * be the JSON literal null, which looks like SQL NULL in a row image; such
 * columns are checked and listed in "json_nulls" (records.c).
 */
#define TRIB_JSON_NONE		0
#define TRIB_JSON_SCALAR	1	/* json or jsonb */
#define TRIB_JSON_ARRAY		2	/* an array of json or jsonb */

typedef struct TribRelEntry
{
	Oid			relid;			/* hash key: the relation as decoded */
	bool		valid;
	bool		selected;		/* passes include/exclude-tables */
	bool		ddl_log;		/* the extension's DDL log (ddl.c) */
	Oid			pub_relid;		/* published relation (root or itself) */
	char	   *schema;
	char	   *table;
	char	   *rel_json;		/* "schema":"s","table":"t" */
	int			rel_json_len;
	char		replident;		/* REPLICA_IDENTITY_* of the decoded relation:
								 * what its WAL holds of an old row */
	int			ncols;
	TribColumn *cols;
	int			natts;			/* of the decoded relation's descriptor */
	Datum	   *values;			/* deform buffers sized natts of pub rel */
	bool	   *nulls;
	TupleDesc	pub_desc;		/* published relation's descriptor (copy) */
	TupleConversionMap *map;	/* leaf to root; NULL when not needed */
	char	   *rel_record;		/* relation record body, after the tags */
	int			rel_record_len;
	uint32		signature;		/* hash of rel_record */
	struct TribSentEntry *sent; /* pub_relid's entry in the sent hash, once
								 * looked up (relcache.c) */
	MemoryContext cxt;			/* owns everything above but the entry */
} TribRelEntry;

extern void trib_relcache_init(MemoryContext parent);
extern void trib_relcache_destroy(void);
extern TribRelEntry *trib_relcache_get(Relation rel, const TribOptions *opts);
extern bool trib_relcache_take_unsent(TribRelEntry *e);

/* ---- the DDL log (ddl.c) ---- */

#define TRIB_DDL_LOG_SCHEMA "tributary"
#define TRIB_DDL_LOG_TABLE	"ddl_events"

extern bool trib_is_ddl_log(Relation rel);

/* ---- JSON writing (jsonout.c) ---- */

/*
 * Append n bytes to out, like appendBinaryStringInfo but inline: for the
 * short pieces of every record (keys, punctuation, tags) the call and its
 * checks cost more than the copy, and with a constant n the compiler turns
 * memcpy into a few moves.  Keeps out->data NUL-terminated.
 */
static inline void
trib_append(StringInfo out, const char *s, int n)
{
	if (unlikely(out->len + n >= out->maxlen))
		enlargeStringInfo(out, n);
	memcpy(out->data + out->len, s, n);
	out->len += n;
	out->data[out->len] = '\0';
}

/* trib_append of a string literal. */
#define TRIB_APPEND_LIT(out, lit) trib_append((out), (lit), sizeof(lit) - 1)

extern void trib_jsonout_init(void);
extern void trib_json_string(StringInfo out, const char *s, int len);
extern void trib_json_utf8_string(StringInfo out, const char *s, int len);
extern void trib_json_raw_text(StringInfo out, const char *s, int len);
extern void trib_json_lsn(StringInfo out, XLogRecPtr lsn);
extern int	trib_format_lsn(char *buf, XLogRecPtr lsn);
extern void trib_json_int64(StringInfo out, int64 v);
extern void trib_json_timestamptz(StringInfo out, TimestampTz ts, bool utc);
extern int	trib_format_timestamp(char *buf, Timestamp ts, bool with_z);
extern void trib_json_date(StringInfo out, DateADT d);
extern void trib_json_time(StringInfo out, TimeADT t);
extern void trib_json_base64(StringInfo out, const char *data, int len);
extern void trib_json_hex(StringInfo out, const char *data, int len);
extern void trib_json_bytes(StringInfo out, const char *data, int len,
							TribBinaryEncoding enc);

/* ---- jsonb text (jsonbout.c) ---- */

extern bool trib_jsonb_append(StringInfo out, const Jsonb *jb);

/* ---- records (records.c) ---- */

/*
 * Position of the transaction being written, preformatted once per
 * transaction: "xid":N,"commit_lsn":"X/Y","ts":"..."
 */
typedef struct TribTxnHeader
{
	char		buf[160];
	int			len;
} TribTxnHeader;

extern void trib_txn_header_set(TribTxnHeader *h, TransactionId xid,
								XLogRecPtr commit_lsn, TimestampTz ts);
extern void trib_txn_header_set_streamed(TribTxnHeader *h, TransactionId xid,
										 TransactionId subxid);

extern void trib_write_relation(StringInfo out, TribRelEntry *e,
								const TribTxnHeader *h, XLogRecPtr lsn);
extern void trib_write_row_change(StringInfo out, TribRelEntry *e,
								  const TribTxnHeader *h,
								  ReorderBufferChange *change, int64 seq,
								  HeapTuple oldtup, HeapTuple newtup,
								  const TribOptions *opts);
extern void trib_write_truncate(StringInfo out, const TribTxnHeader *h,
								XLogRecPtr lsn, int64 seq,
								List *relentries, bool cascade,
								bool restart_seqs);
extern void trib_write_ddl(StringInfo out, TribRelEntry *e,
						   const TribTxnHeader *h, XLogRecPtr lsn,
						   int64 next_seq, HeapTuple tup,
						   const TribOptions *opts);
extern void trib_write_message(StringInfo out, const TribTxnHeader *h,
							   XLogRecPtr lsn, int64 seq, bool transactional,
							   const char *prefix, const char *content,
							   Size size);

#endif							/* TRIBUTARY_H */
