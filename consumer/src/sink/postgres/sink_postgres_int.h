/*
 * sink_postgres_int.h: what the files of the PostgreSQL sink share
 * (sink_postgres*.c); not for other modules.
 *
 * The sink's state (pgs_sink) holds the connection, the queue of events
 * (pgs_bentry), the cache of target tables (pgs_tinfo, one per schema.table, with
 * their columns as the target's catalog describes them) and the
 * statements of the batch being built (pgs_stmt), whose parameter values live
 * in one arena (offsets, so the arena may grow while a batch is built).
 */
#ifndef TRIB_SINK_POSTGRES_INT_H
#define TRIB_SINK_POSTGRES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <yajl/yajl_parse.h>

#include "event.h"
#include "jvalue.h"
#include "sink_postgres.h"
#include "strbuf.h"

#define OID_INT8 20
#define OID_TEXT 25
#define OID_JSON 114
#define OID_NUMERIC 1700
#define OID_NUMERIC_ARRAY 1231
#define OID_PG_LSN 3220

#define PIPE_CHUNK 256			/* statements between Syncs */
#define MAX_PARAMS 65535		/* the protocol's limit per statement */
#define ABSENT SIZE_MAX			/* column not in the row */
#define NULLVAL (SIZE_MAX - 1)	/* SQL NULL */
#define MAX_ARRAY_DEPTH 32

/* ---- JSON (sink_postgres_json.c) ---------------------------------------- */

/* One value of an indexed JSON text (see sink_postgres_json.c). */
typedef struct pgs_jnode
{
	size_t		off;			/* its text: offset and length */
	size_t		len;
	size_t		koff;			/* an object member's key text, quotes */
	size_t		klen;			/* included */
	size_t		soff;			/* strings: the decoded text's place */
	size_t		slen;
	size_t		ksoff;			/* members: the decoded key's place */
	size_t		kslen;
	size_t		end;			/* the index just past its subtree */
	trib_jkind	kind;
} pgs_jnode;

/* A JSON text indexed by yajl: nodes in document order (node 0 the
 * value); borrows the text, owns the rest (pgs_jdoc_free). */
typedef struct pgs_jdoc
{
	const char *text;
	size_t		len;
	pgs_jnode  *nodes;
	size_t		nn;
	size_t		cap;
	trib_strbuf arena;			/* strings yajl decoded */
	yajl_handle h;				/* kept for the next text */
	/* while parsing */
	size_t	   *stack;			/* open containers' nodes */
	size_t		depth;
	size_t		scap;
	size_t		prev;			/* offset past the previous token */
	bool		has_key;
	pgs_jnode	key;			/* the pending key (k* fields) */
} pgs_jdoc;

/* A JSON value: its text (start, length), kind (jvalue.h), node, and for
 * strings (and keys) the decoded text s[0..sn) (escapes unchecked: read
 * it through pgs_junescape). */
typedef struct pgs_jspan
{
	const char *p;
	size_t		n;
	trib_jkind	kind;
	const pgs_jdoc *doc;
	size_t		i;
	const char *s;
	size_t		sn;
} pgs_jspan;

/* An iterator over the members of an object or the elements of an array. */
typedef struct pgs_jiter
{
	const pgs_jdoc *d;
	size_t		i;
	size_t		end;
} pgs_jiter;

/* Index JSON text s[0..n) (one value); false with `what` (or "malformed
 * JSON string escape") in errbuf when it is not JSON. */
bool		pgs_jdoc_parse(pgs_jdoc *d, const char *s, size_t n, const char *what,
						   char *errbuf, size_t errlen);

/* Release what a doc owns (it may be parsed again after). */
void		pgs_jdoc_free(pgs_jdoc *d);

/* The value a parsed doc holds. */
void		pgs_jdoc_root(const pgs_jdoc *d, pgs_jspan *v);

/* Start iterating container v of kind open ('{' or '['); false if not one. */
bool		pgs_jiter_begin(pgs_jiter *it, const pgs_jspan *v, char open);

/* Next member or element (key set for objects' members); false at the end. */
bool		pgs_jiter_next(pgs_jiter *it, pgs_jspan *key, pgs_jspan *val);

/* Append the decoded text of JSON string span s (\u0000 and unpaired
 * surrogate escapes refused). */
bool		pgs_junescape(const pgs_jspan *s, trib_strbuf *out, char *errbuf, size_t errlen);

/* ---- values (sink_postgres_values.c) ------------------------------------ */

/* Append s[0..n) as a double-quoted array element. */
void		pgs_array_quote(trib_strbuf *out, const char *s, size_t n);

/* Find column name's entry in a JSON null list (event.h): entry is its
 * span, a string (the column's null is JSON null) or an array
 * (["name", positions...] of JSON null elements).  False when absent. */
bool		pgs_json_nulls_find(const pgs_jspan *list, const char *name, pgs_jspan *entry);

/* Append the input text of one JSON value for a column of kind/ek; jn:
 * the column's entry in the image's JSON null list, or NULL. */
bool		pgs_value_text(const pgs_jspan *v, char kind, char ek, const pgs_jspan *jn, bool hex,
						   trib_strbuf *out, bool *is_null, char *errbuf, size_t errlen);

/* A field of a composite type of the target. */
typedef struct pgs_cfield
{
	char	   *name;
	char		kind;			/* as pgs_tcol.kind */
	char		ekind;
	Oid			sub;			/* kind 'c': the composite type */
	bool		money;			/* money or money[] (through domains) */
} pgs_cfield;

/*
 * A composite type of the target, as far as its values need rewriting
 * before json_populate_record reads them: fix is set when a bytea,
 * date/time or money field sits at any depth (their JSON text is not
 * PostgreSQL's input text); other values pass unchanged.
 */
typedef struct pgs_ctype
{
	Oid			oid;
	pgs_cfield	   *f;
	int			nf;
	bool		fix;
	struct pgs_ctype *next;
} pgs_ctype;

/* The composite type oid in a list, or NULL. */
const pgs_ctype *pgs_ctype_find(const pgs_ctype *list, Oid oid);

/*
 * Append the value of a composite (or array of composites) column of type
 * oid as the JSON object {jname: value} that json_populate_record reads
 * (jname: the column's name as a JSON string), bytea, date/time and money
 * fields rewritten at any depth (mpoint: the target's money decimal point).
 */
bool		pgs_composite_text(const pgs_ctype *list, Oid oid, const char *jname,
							   const pgs_jspan *v, bool hex, char mpoint, trib_strbuf *out,
							   char *errbuf, size_t errlen);

/* ---- state -------------------------------------------------------------- */

/* A column of a target table. */
typedef struct pgs_tcol
{
	char	   *name;
	char	   *qname;			/* quoted identifier */
	Oid			type;			/* pg_type OID, for the parameter */
	char	   *tname;			/* the type as format_type names it */
	char		kind;			/* t b j d a (see trib_pgsink_value_text), or
								 * c: composite or array of composites,
								 * built by json_populate_record */
	char		ekind;			/* arrays: the elements' kind */
	Oid			pgs_ctype;			/* kind c: the composite type */
	char	   *jname;			/* kind c: the name as a JSON string */
	bool		eq;				/* compares with =, else as text */
	bool		money;			/* money or money[] (through domains): sent
								 * as numeric and cast, not read by money's
								 * input, which follows lc_monetary */
	bool		notnull;		/* NOT NULL: a JSON null is JSON, not NULL */
	bool		generated;		/* GENERATED ALWAYS AS (...) STORED: skipped */
	bool		identity_always;	/* not updatable */
	int			pkpos;			/* 1-based position in the key, 0 if none */
} pgs_tcol;

/* A target table as its catalog describes it. */
typedef struct pgs_tinfo
{
	char	   *schema;
	char	   *table;
	char	   *qname;			/* "schema"."table" */
	bool		loaded;
	bool		exists;
	pgs_tcol	   *cols;
	int			ncols;
	int		   *pk;				/* column indexes in key order */
	int			npk;
	int		   *hash;			/* name -> index + 1, open addressing */
	int			hcap;
	size_t	   *slot;			/* per row: value offset per column */
	bool	   *skip;			/* per row: unchanged columns */
	const trib_relation *rel;	/* last relation version applied */
	uint32_t	rel_version;
	trib_relation *def;			/* a copy of what was applied (columns),
								 * or NULL: another relation describing
								 * the same is not checked again */
	int			skipped[2];		/* this batch: changes skipped, by SKIP_* */
	struct pgs_tinfo *next;
} pgs_tinfo;

/* Why a change could not be applied (pgs_tinfo.skipped, the metric's label). */
#define SKIP_NO_KEY 0			/* a delete without the target's key */
#define SKIP_NO_OLD_ROW 1		/* keyless table: no old row image */

/* A queued event (the parts the sink needs, copied). */
typedef struct pgs_bentry
{
	trib_op		op;
	char	   *schema;			/* target schema */
	char	   *table;
	char	   *before;
	char	   *after;
	char	   *key;
	char	   *unchanged;
	char	   *after_json_nulls;
	char	   *before_json_nulls;
	char	   *extra;
	const trib_relation *rel;
	trib_position pos;
} pgs_bentry;

/* One statement of a batch. */
typedef struct pgs_stmt
{
	char		what;			/* 'u' upsert, 'd' delete, 'm' move, 't'
								 * truncate; keyless tables: 'i' insert, 'U'
								 * update and 'D' delete of a row found by its
								 * old image */
	pgs_tinfo	   *t;
	trib_strbuf sql;
	size_t	   *voff;			/* arena offsets (or NULLVAL) */
	Oid		   *types;
	int			nparams;
	int			pcap;
	int			rows;
	int		   *cols;			/* the columns of each row (u, d) */
	int			ncols;
	uint64_t   *keys;			/* hash set of row keys (u) */
	int			kcap;
	int			nkeys;
} pgs_stmt;

typedef struct pgs_sink
{
	char	   *dsn;
	char	   *schema;
	char	   *pipeline;
	char	   *sink_name;
	trib_sink  *owner;			/* the sink: its seal_key (sink_seal.h) */
	const char *pos_text;		/* the opaque position the batch stores:
								 * sealed when owner has a key */
	bool		pos_unreadable; /* the stored position does not open */
	bool		create_tables;
	bool		unknown_as_text;	/* create_tables: unknown types as text */
	bool		redact;			/* row values out of logged server errors */
	bool		table_from_route;	/* ev->topic names the table */
	bool		conn_lost;		/* a query failed because the connection went */
	int			batch_size;
	int			batch_ms;
	bool		bytea_hex;
	char		money_point;	/* the decimal point money's input reads
								 * in this session (lc_monetary) */
	int			retry_ms;
	int			max_rows;
	trib_pgsink_mode mode;
	bool		use_pipeline;

	PGconn	   *conn;
	bool		reload_position;
	pgs_tinfo	   *tables;
	pgs_ctype	   *ctypes;			/* composite types of the tables' columns */
	struct trib_metric *m_skipped[2];	/* by SKIP_*; NULL: no metrics */

	pgs_bentry	   *q;
	size_t		nq;
	size_t		qcap;
	long long	first_ms;

	bool		has_durable;
	trib_position durable;

	trib_sink_fault fault;		/* a batch it could not apply */
	bool		single_row;		/* this batch: one row per statement */

	trib_strbuf arena;			/* converted values */
	trib_strbuf scratch;
	pgs_jdoc	jtext;			/* the row image or TRUNCATE details read */
	pgs_jdoc	jnulls;			/* its JSON null list */
	pgs_stmt	   *stmts;
	int			nstmts;
	size_t		stcap;
	int			open_stmt;		/* index of the statement rows join, -1 */
	trib_pgsink_stats stats;
} pgs_sink;

/* Outcomes of one attempt at a batch. */
typedef enum pgs_attempt_rc
{
	A_OK,
	A_COVERED,					/* everything was already stored */
	A_STALE,					/* the guard found a newer position */
	A_RETRY,					/* connection lost, serialization, deadlock */
	A_SINGLE,					/* a statement hit the same row twice */
	A_SCHEMA,					/* the target's tables changed under us */
	A_FAIL
} pgs_attempt_rc;

/* ---- sink_postgres_errors.c --------------------------------------------- */

/* Fill errbuf from a failed result, adding context; redact: without the
 * row values the message may carry. */
void		pgs_result_error(const PGresult *res, PGconn *conn, const char *what,
							 bool redact, char *errbuf, size_t errlen);

/* ---- sink_postgres_sql.c ------------------------------------------------ */

/* A quoted identifier (malloc'd); NULL if libpq refuses (bad encoding). */
char	   *pgs_qident(PGconn *conn, const char *name);

/* Run one parameterised statement outside a batch; the result or NULL. */
PGresult   *pgs_run(pgs_sink *s, const char *sql, int n, const char *const *values,
					const Oid *types, const char *what, char *errbuf, size_t errlen);

/* ---- sink_postgres_tables.c --------------------------------------------- */

/* The entry of schema.table (created, not loaded, when new). */
pgs_tinfo	   *pgs_tinfo_get(pgs_sink *s, const char *schema, const char *table,
						  char *errbuf, size_t errlen);

/* Read a table's columns and key from the target's catalog. */
bool		pgs_tinfo_load(pgs_sink *s, pgs_tinfo *t, char *errbuf, size_t errlen);

/* Column index by name (n bytes), -1 when absent. */
int			pgs_tinfo_find(const pgs_tinfo *t, const char *name, size_t n);

/* Free the catalog part of a table entry / forget every table's (and
 * every composite type's) / forget the composite types. */
void		pgs_tinfo_clear(pgs_tinfo *t);
void		pgs_tables_invalidate(pgs_sink *s);
void		pgs_ctypes_free(pgs_sink *s);

/* Make sure schema.table is known and, with create_tables and a relation
 * that has columns, exists with them (created or widened). */
bool		pgs_prepare_target(pgs_sink *s, const char *schema, const char *table,
							   const trib_relation *rel, char *errbuf, size_t errlen);

/* Make sure the table of a queued event is known (and exists). */
bool		pgs_prepare_table(pgs_sink *s, const pgs_bentry *b, char *errbuf, size_t errlen);

/* After a data error in a statement on t: append to errbuf the columns
 * whose type in the target differs from the source's (by the relation of
 * t's last queued event from a PostgreSQL source) and what to do; nothing
 * when none differs. */
void		pgs_type_change_hint(const pgs_sink *s, const pgs_tinfo *t, char *errbuf,
								 size_t errlen);

/* ---- sink_postgres_sql.c (statements) ------------------------------------ */

/* Turn the queue into statements (s->stmts, values in s->arena). */
bool		pgs_build_batch(pgs_sink *s, char *errbuf, size_t errlen);

/* ---- sink_postgres_check.c ---------------------------------------------- */

struct trib_plugin_conf;
struct trib_check_report;

/* The sink's check(): the target and what `run` does per table (sink.h). */
void		pgs_check(const struct trib_plugin_conf *conf, struct trib_check_report *c);

#endif							/* TRIB_SINK_POSTGRES_INT_H */
