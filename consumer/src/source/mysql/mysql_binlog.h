/*
 * mysql_binlog.h: the MySQL/MariaDB binlog decoder: event bytes in, decoded
 * events with row images as JSON text out.  No connection, no I/O: the
 * reader (mysql_reader.c) feeds it what the server sends, and unit tests
 * and the fuzzer (fuzz/fuzz_binlog.c) feed it bytes.
 *
 * Design.  One trib_my_decoder per binlog stream.  It keeps what a stream
 * carries across events: the checksum setting and post-header lengths of
 * the last FORMAT_DESCRIPTION, the current file (ROTATE), the flavour of
 * server that wrote it (MariaDB or MySQL, from the server version), and
 * the tables mapped by TABLE_MAP events.  trib_my_decode() takes one event
 * (the 19-byte header, body, and checksum if any; without the network
 * packet's leading OK byte) and fills a trib_my_event.
 *
 * Formats follow the MariaDB Knowledge Base (replication protocol) and the
 * MySQL source documentation (libbinlogevents, json_binary.h); everything
 * is decoded here, not by Connector/C, because the library leaves out
 * what the source needs: optional TABLE_MAP metadata for names and
 * charsets, MINIMAL row images, v2 rows events (MySQL 8) and MySQL's
 * binary JSON.
 *
 * Table shapes.  A TABLE_MAP becomes a trib_my_shape: for each column its
 * binlog type and metadata, merged with what the schema source
 * (mysql_schema.h) knows, so that names, signedness, charsets, ENUM/SET
 * members, JSON-ness and the primary key are all present.  Shapes are
 * cached by the TABLE_MAP's bytes (without the table id, which the server
 * changes whenever it reopens a table) and the schema version they were
 * merged with, so a stream of small transactions does not rebuild them.
 * A shape stays valid until the decoder is freed (events point at its
 * trib_relation).
 *
 * Row images.  ROWS events (WRITE/UPDATE/DELETE, v1 and v2) become
 * trib_my_rows with `before`, `after` and `key` as JSON object text, in
 * the project's event format (core/event.h, docs/MYSQL.md): numbers
 * lossless (DECIMAL exact, unsigned BIGINT exact, FLOAT/DOUBLE in shortest
 * round-trip form), temporal values in ISO 8601 (TIMESTAMP in UTC with
 * "Z"), text converted to UTF-8, binary as base64, BIT as a string of
 * binary digits, ENUM/SET by name, JSON embedded, GEOMETRY as WKB hex.
 * Columns a MINIMAL image leaves out are absent from the object, and for
 * the after image listed in `unchanged`.
 *
 * Errors.  A malformed event, or one that cannot be decoded (a rows event
 * for a table id no TABLE_MAP announced, an unsupported type or event),
 * fails with a message naming the event type, its position and what is
 * wrong; the decoder stays usable.  It never reads outside the bytes it
 * was given.
 *
 * Ownership: decoded rows and the query text belong to the trib_my_event
 * until trib_my_event_clear(); a caller may take a row's strings (set the
 * pointers to NULL).  Names, files and shapes the event points to belong to
 * the decoder.  Single-threaded.
 */
#ifndef TRIB_MYSQL_BINLOG_H
#define TRIB_MYSQL_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "mysql_position.h"
#include "mysql_schema.h"

/* Binlog event types the decoder handles (MySQL's numbering; MariaDB's
 * own from 160). */
enum trib_my_event_type
{
	TRIB_MY_QUERY_EVENT = 2,
	TRIB_MY_STOP_EVENT = 3,
	TRIB_MY_ROTATE_EVENT = 4,
	TRIB_MY_FORMAT_DESCRIPTION_EVENT = 15,
	TRIB_MY_XID_EVENT = 16,
	TRIB_MY_TABLE_MAP_EVENT = 19,
	TRIB_MY_WRITE_ROWS_EVENT_V1 = 23,
	TRIB_MY_UPDATE_ROWS_EVENT_V1 = 24,
	TRIB_MY_DELETE_ROWS_EVENT_V1 = 25,
	TRIB_MY_HEARTBEAT_EVENT = 27,
	TRIB_MY_ROWS_QUERY_LOG_EVENT = 29,	/* MySQL, binlog_rows_query_log_events */
	TRIB_MY_WRITE_ROWS_EVENT = 30,
	TRIB_MY_UPDATE_ROWS_EVENT = 31,
	TRIB_MY_DELETE_ROWS_EVENT = 32,
	TRIB_MY_GTID_LOG_EVENT = 33,	/* MySQL */
	TRIB_MY_ANONYMOUS_GTID_LOG_EVENT = 34,	/* MySQL, gtid_mode=OFF */
	TRIB_MY_XA_PREPARE_LOG_EVENT = 38,
	TRIB_MY_PARTIAL_UPDATE_ROWS_EVENT = 39, /* MySQL, PARTIAL_JSON */
	TRIB_MY_TRANSACTION_PAYLOAD_EVENT = 40, /* MySQL, compressed */
	TRIB_MY_HEARTBEAT_LOG_EVENT_V2 = 41,
	TRIB_MY_ANNOTATE_ROWS_EVENT = 160,
	TRIB_MY_GTID_EVENT = 162,	/* MariaDB */
	TRIB_MY_GTID_LIST_EVENT = 163,
	TRIB_MY_START_ENCRYPTION_EVENT = 164,
	TRIB_MY_QUERY_COMPRESSED_EVENT = 165,
	TRIB_MY_WRITE_ROWS_COMPRESSED_EVENT_V1 = 166,
	TRIB_MY_DELETE_ROWS_COMPRESSED_EVENT = 171
};

/* Column types as the binlog writes them (enum_field_types). */
enum trib_my_type
{
	TRIB_MYT_DECIMAL = 0,
	TRIB_MYT_TINY = 1,
	TRIB_MYT_SHORT = 2,
	TRIB_MYT_LONG = 3,
	TRIB_MYT_FLOAT = 4,
	TRIB_MYT_DOUBLE = 5,
	TRIB_MYT_NULL = 6,
	TRIB_MYT_TIMESTAMP = 7,
	TRIB_MYT_LONGLONG = 8,
	TRIB_MYT_INT24 = 9,
	TRIB_MYT_DATE = 10,
	TRIB_MYT_TIME = 11,
	TRIB_MYT_DATETIME = 12,
	TRIB_MYT_YEAR = 13,
	TRIB_MYT_NEWDATE = 14,
	TRIB_MYT_VARCHAR = 15,
	TRIB_MYT_BIT = 16,
	TRIB_MYT_TIMESTAMP2 = 17,
	TRIB_MYT_DATETIME2 = 18,
	TRIB_MYT_TIME2 = 19,
	TRIB_MYT_JSON = 245,
	TRIB_MYT_NEWDECIMAL = 246,
	TRIB_MYT_ENUM = 247,
	TRIB_MYT_SET = 248,
	TRIB_MYT_TINY_BLOB = 249,
	TRIB_MYT_MEDIUM_BLOB = 250,
	TRIB_MYT_LONG_BLOB = 251,
	TRIB_MYT_BLOB = 252,
	TRIB_MYT_VAR_STRING = 253,
	TRIB_MYT_STRING = 254,
	TRIB_MYT_GEOMETRY = 255
};

typedef enum trib_my_flavor
{
	TRIB_MY_MARIADB = 0,
	TRIB_MY_MYSQL = 1
} trib_my_flavor;

/* How a column's value is written (decided once per shape). */
typedef enum trib_my_kind
{
	TRIB_MYK_INT,				/* TINY..LONGLONG, signed or not */
	TRIB_MYK_YEAR,
	TRIB_MYK_FLOAT,
	TRIB_MYK_DOUBLE,
	TRIB_MYK_DECIMAL,
	TRIB_MYK_DATE,
	TRIB_MYK_TIME,				/* old TIME (3 bytes HHMMSS) */
	TRIB_MYK_TIME2,
	TRIB_MYK_DATETIME,			/* old DATETIME (8 bytes) */
	TRIB_MYK_DATETIME2,
	TRIB_MYK_TIMESTAMP,			/* old TIMESTAMP (4 bytes) */
	TRIB_MYK_TIMESTAMP2,
	TRIB_MYK_TEXT,				/* CHAR, VARCHAR, TEXT: converted to UTF-8 */
	TRIB_MYK_BINARY,			/* BINARY, VARBINARY, BLOB: base64 */
	TRIB_MYK_JSON_TEXT,			/* MariaDB JSON: text embedded as JSON */
	TRIB_MYK_JSON_BINARY,		/* MySQL JSON: binary JSON decoded */
	TRIB_MYK_ENUM,
	TRIB_MYK_SET,
	TRIB_MYK_BIT,
	TRIB_MYK_GEOMETRY,			/* WKB in hex */
	TRIB_MYK_NULL
} trib_my_kind;

/* One column of a table shape. */
typedef struct trib_my_column
{
	uint8_t		type;			/* trib_my_type after resolving STRING's real
								 * type (ENUM, SET) */
	trib_my_kind kind;
	uint16_t	meta;			/* raw TABLE_MAP metadata */
	uint32_t	length;			/* CHAR/VARCHAR/BINARY: max bytes; BLOB,
								 * JSON, GEOMETRY: length-prefix bytes;
								 * ENUM/SET: storage bytes; BIT: bits */
	uint8_t		precision;		/* DECIMAL */
	uint8_t		scale;			/* DECIMAL scale; temporal: fractional
								 * digits */
	bool		is_unsigned;
	bool		nullable;
	bool		is_char;		/* CHAR: trailing spaces are padding */
	bool		pk;
	uint32_t	collation;		/* 0 unknown */
	char	   *name;
	int			nvalues;		/* ENUM/SET member names (UTF-8) */
	char	  **values;
} trib_my_column;

/* A table as one TABLE_MAP (and the schema source) describes it. */
typedef struct trib_my_shape
{
	char	   *db;
	char	   *table;
	int			ncols;
	trib_my_column *cols;
	int			npk;			/* primary key columns, in key order */
	int		   *pk;
	bool		names_from_binlog;	/* binlog_row_metadata=FULL */
	trib_relation rel;			/* for trib_event.rel */
} trib_my_shape;

typedef enum trib_my_evkind
{
	TRIB_MY_EV_OTHER = 0,		/* nothing the source acts on */
	TRIB_MY_EV_FORMAT,			/* FORMAT_DESCRIPTION */
	TRIB_MY_EV_ROTATE,			/* .file / .rotate_pos: the next file */
	TRIB_MY_EV_GTID,			/* a transaction starts: .gtid */
	TRIB_MY_EV_GTID_LIST,		/* MariaDB: GTID state at a file's start */
	TRIB_MY_EV_QUERY,			/* .query, .db, .statement */
	TRIB_MY_EV_XID,				/* commit of a transactional group */
	TRIB_MY_EV_TABLE_MAP,		/* .shape */
	TRIB_MY_EV_ROWS,			/* .shape, .rows */
	TRIB_MY_EV_HEARTBEAT,
	TRIB_MY_EV_STOP,			/* the server stopped; a ROTATE follows */
	TRIB_MY_EV_ROWS_QUERY		/* .statement: the SQL of the rows events
								 * that follow (MariaDB's ANNOTATE_ROWS,
								 * MySQL's ROWS_QUERY) */
} trib_my_evkind;

/* What a QUERY event's statement is. */
typedef enum trib_my_qkind
{
	TRIB_MY_Q_BEGIN,
	TRIB_MY_Q_COMMIT,
	TRIB_MY_Q_ROLLBACK,
	TRIB_MY_Q_XA,				/* XA START/END/PREPARE/COMMIT/ROLLBACK */
	TRIB_MY_Q_SAVEPOINT,		/* SAVEPOINT, RELEASE SAVEPOINT: no change */
	TRIB_MY_Q_ROLLBACK_TO,		/* ROLLBACK TO [SAVEPOINT]: undoes some of
								 * the transaction's changes (refused) */
	TRIB_MY_Q_ACCOUNT,			/* CREATE/ALTER/DROP/RENAME USER or ROLE,
								 * GRANT, REVOKE, SET PASSWORD: may carry a
								 * password, never surfaced */
	TRIB_MY_Q_DDL,				/* anything else: DDL and the like */
	TRIB_MY_Q_OTHER				/* empty */
} trib_my_qkind;

/* One row image pair of a ROWS event. */
typedef struct trib_my_row
{
	char		op;				/* 'c', 'u', 'd' (trib_op) */
	char	   *before;			/* JSON object text or NULL */
	char	   *after;
	char	   *key;			/* primary key columns, or NULL */
	char	   *unchanged;		/* JSON array of columns missing from after */
} trib_my_row;

typedef struct trib_my_event
{
	trib_my_evkind kind;
	uint8_t		type;			/* binlog event type */
	uint16_t	flags;
	uint32_t	timestamp;		/* seconds since the epoch */
	uint32_t	server_id;
	uint32_t	length;
	uint32_t	next_pos;		/* header log_pos; 0 for artificial events */
	uint64_t	pos;			/* offset of the event in .file; 0 when not
								 * known (artificial events) */
	const char *file;			/* the current binlog file (decoder's) */

	/* ROTATE */
	uint64_t	rotate_pos;
	/* GTID: the transaction's GTID; standalone: no COMMIT/XID follows */
	trib_my_gtid gtid;
	bool		standalone;
	/* GTID_LIST: MariaDB's state at a file's start (decoder's) */
	int			ngtids;
	const trib_my_gtid *gtids;
	/* QUERY */
	trib_my_qkind query;
	uint32_t	thread_id;
	char	   *db;				/* owned; "" when none */
	char	   *statement;		/* owned, UTF-8 */
	/* XID */
	uint64_t	xid;
	/* TABLE_MAP and ROWS */
	const trib_my_shape *shape;
	/* ROWS */
	int			nrows;
	trib_my_row *rows;			/* owned */
	bool		stmt_end;		/* last rows event of its statement */
} trib_my_event;

typedef struct trib_my_decoder_conf
{
	/* Where names and types come from when the binlog leaves them out;
	 * NULL: binlog metadata only (columns without names are "@1", "@2",
	 * ... as mariadb-binlog prints them). */
	const trib_my_schema *schema;
	/* Zero and partly zero dates ('0000-00-00', '2024-00-10', and the zero
	 * DATETIME and TIMESTAMP): NULL writes JSON null, else this text as a
	 * JSON string. */
	const char *zero_date;
	/* Do events carry a CRC32 before the first FORMAT_DESCRIPTION says?
	 * (The fake ROTATE a dump starts with: true when the reader asked the
	 * server for checksums.) */
	bool		checksums;
} trib_my_decoder_conf;

typedef struct trib_my_decoder trib_my_decoder;

/* A decoder; conf is copied (the schema source must outlive it). */
trib_my_decoder *trib_my_decoder_new(const trib_my_decoder_conf *conf);
void		trib_my_decoder_free(trib_my_decoder *d);

/*
 * Decode one event (buf[0..len): header, body, checksum).  Fills *ev
 * (cleared first).  `at`, when not NULL, is the position of the
 * transaction the event belongs to, for schema lookups; NULL: the newest
 * shape.  False with errbuf on an event that cannot be decoded, and
 * *errnum (may be NULL) the error number of the schema lookup that
 * failed (the server's or client's: trib_my_error_retryable() tells a
 * lost connection, which a reconnect may fix), 0 for every other error.
 */
bool		trib_my_decode(trib_my_decoder *d, const uint8_t *buf, size_t len,
						   const trib_my_pos *at, trib_my_event *ev, unsigned *errnum,
						   char *errbuf, size_t errlen);

/* Release what an event owns and zero it. */
void		trib_my_event_clear(trib_my_event *ev);

/* The current binlog file ("" before the first ROTATE) and flavour. */
const char *trib_my_decoder_file(const trib_my_decoder *d);
trib_my_flavor trib_my_decoder_flavor(const trib_my_decoder *d);

/* Set the current file (a resume that starts inside a file). */
void		trib_my_decoder_set_file(trib_my_decoder *d, const char *file);

/* Register a collation id the server knows (information_schema) but the
 * built-in table does not. */
bool		trib_my_decoder_add_collation(trib_my_decoder *d, uint32_t id,
										  const char *charset);

/* Forget the table maps of the current statement (done automatically at
 * a statement's end; a reader calls it when it restarts a stream). */
void		trib_my_decoder_reset_tables(trib_my_decoder *d);

#endif							/* TRIB_MYSQL_BINLOG_H */
