/*
 * sink_postgres.c: the PostgreSQL sink (see sink_postgres.h for what it
 * does; this comment says how).
 *
 * Layers, top down:
 *   sink ops      write() copies the event into the queue; the queue is
 *                 applied when full, when its oldest event is batch_ms old,
 *                 and at flush/close.
 *   apply         one attempt after another until the batch is committed
 *                 or the retry budget is spent: (re)connect, re-read the
 *                 stored position after anything went wrong, drop queued
 *                 events it covers, make sure every table is known (create
 *                 or alter it), build the statements, execute.
 *   build         events -> statements: row images are scanned (a small
 *                 bounds-checked JSON scanner: the row images are JSON
 *                 objects written by the source and already validated
 *                 there; values keep their exact text, nested json stays
 *                 byte for byte), each value converted to input text in
 *                 one arena, consecutive rows merged into multi-row
 *                 statements.
 *   execute       BEGIN, the guarded position upsert, the statements, in
 *                 libpq pipeline mode with a Sync every PIPE_CHUNK
 *                 statements (so the server's replies never pile up
 *                 against our sends), then COMMIT once the guard said the
 *                 batch is new.  Two round trips per batch.
 *
 * Why multi-row statements in a pipeline, and not COPY into a temporary
 * table and a merge: measured with test/tools/pgsink_bench (100,000
 * changes, 6 columns incl. numeric, jsonb, text[] and timestamptz; 70%
 * inserts, 30% updates; batch 1000; PostgreSQL 15 on the same host):
 *
 *   one statement per row, one round trip each      ~  9,800 rows/s
 *   one statement per row, pipelined                ~ 26,000 rows/s
 *   multi-row INSERT ... ON CONFLICT, pipelined     ~ 62,000 rows/s
 *   COPY to a temp table + INSERT ... SELECT merge  ~ 58,000 rows/s
 *
 * (docs/BENCHMARKS.md and the bench's output have the exact figures of a
 * run.)  COPY is not faster at these batch sizes (the temp table, its
 * catalog entries and the merge cost what the parsing saves), and it
 * cannot express what a change stream needs per row -- columns left
 * untouched (unchanged TOAST), deletes and key moves interleaved with
 * upserts in order -- without a mask column and a multi-pass merge.  The
 * pipeline removes the per-statement round trip that dominates across a
 * network.
 */
#include "sink_postgres.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "log.h"
#include "strbuf.h"

#define OID_INT8 20
#define OID_TEXT 25
#define OID_PG_LSN 3220

#define PIPE_CHUNK 256			/* statements between Syncs */
#define MAX_PARAMS 65535		/* the protocol's limit per statement */
#define ABSENT SIZE_MAX			/* column not in the row */
#define NULLVAL (SIZE_MAX - 1)	/* SQL NULL */
#define MAX_ARRAY_DEPTH 32

/* ---- JSON scanning ----------------------------------------------------- */

/* A JSON value in its text: start, length and type:
 * 's' string, 'n' number, 't' true, 'f' false, 'z' null, 'o' object,
 * 'a' array. */
typedef struct jspan
{
	const char *p;
	size_t		n;
	char		type;
} jspan;

/* Skip JSON white space. */
static const char *
jws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at '"': the byte after the closing quote, or NULL. */
static const char *
jskip_string(const char *p, const char *e)
{
	for (p++; p < e; p++)
	{
		if (*p == '\\')
		{
			if (++p >= e)
				return NULL;
		}
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* The type letter of the value starting with c. */
static char
jtype(char c)
{
	switch (c)
	{
		case '"':
			return 's';
		case '{':
			return 'o';
		case '[':
			return 'a';
		case 't':
			return 't';
		case 'f':
			return 'f';
		case 'n':
			return 'z';
		default:
			return 'n';
	}
}

/* Skip one value (any nesting, no recursion); NULL when malformed. */
static const char *
jskip_value(const char *p, const char *e, char *type)
{
	size_t		depth = 0;

	p = jws(p, e);
	if (p >= e)
		return NULL;
	*type = jtype(*p);
	do
	{
		p = jws(p, e);
		if (p >= e)
			return NULL;
		switch (*p)
		{
			case '"':
				if (!(p = jskip_string(p, e)))
					return NULL;
				break;
			case '{':
			case '[':
				depth++;
				p++;
				break;
			case '}':
			case ']':
				if (depth == 0)
					return NULL;
				depth--;
				p++;
				break;
			case ',':
			case ':':
				if (depth == 0)
					return NULL;
				p++;
				break;
			default:
				{
					const char *q = p;

					while (q < e && ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
									 (*q >= 'A' && *q <= 'Z') || *q == '+' || *q == '-' ||
									 *q == '.'))
						q++;
					if (q == p)
						return NULL;
					p = q;
				}
				break;
		}
	} while (depth > 0);
	return p;
}

/* An iterator over the members of an object or the elements of an array. */
typedef struct jiter
{
	const char *p;
	const char *e;
	char		close;			/* '}' or ']' */
	bool		first;
}			jiter;

/* Start iterating a container of kind open ('{' or '['); false if not one. */
static bool
jiter_begin(jiter *it, const char *s, size_t n, char open)
{
	const char *e = s + n;
	const char *p = jws(s, e);

	if (p >= e || *p != open)
		return false;
	it->p = p + 1;
	it->e = e;
	it->close = open == '{' ? '}' : ']';
	it->first = true;
	return true;
}

/* Next member (key set for objects): 1, 0 at the end, -1 when malformed. */
static int
jiter_next(jiter *it, jspan *key, jspan *val)
{
	const char *p = jws(it->p, it->e);
	const char *q;

	if (p >= it->e)
		return -1;
	if (*p == it->close)
	{
		it->p = p + 1;
		return 0;
	}
	if (!it->first)
	{
		if (*p != ',')
			return -1;
		p = jws(p + 1, it->e);
	}
	it->first = false;
	if (it->close == '}')
	{
		if (p >= it->e || *p != '"' || !(q = jskip_string(p, it->e)))
			return -1;
		key->p = p;
		key->n = (size_t) (q - p);
		key->type = 's';
		p = jws(q, it->e);
		if (p >= it->e || *p != ':')
			return -1;
		p++;
	}
	p = jws(p, it->e);
	if (!(q = jskip_value(p, it->e, &val->type)))
		return -1;
	val->p = p;
	val->n = (size_t) (q - p);
	it->p = q;
	return 1;
}

/* Four hex digits; -1 when not. */
static long
hex4(const char *p, const char *e)
{
	long		v = 0;
	int			i;

	if (e - p < 4)
		return -1;
	for (i = 0; i < 4; i++)
	{
		char		c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Append code point cp as UTF-8. */
static void
add_utf8(trib_strbuf *out, unsigned long cp)
{
	char		b[4];
	size_t		n;

	if (cp < 0x80)
	{
		b[0] = (char) cp;
		n = 1;
	}
	else if (cp < 0x800)
	{
		b[0] = (char) (0xC0 | (cp >> 6));
		b[1] = (char) (0x80 | (cp & 0x3F));
		n = 2;
	}
	else if (cp < 0x10000)
	{
		b[0] = (char) (0xE0 | (cp >> 12));
		b[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char) (0x80 | (cp & 0x3F));
		n = 3;
	}
	else
	{
		b[0] = (char) (0xF0 | (cp >> 18));
		b[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char) (0x80 | (cp & 0x3F));
		n = 4;
	}
	trib_strbuf_add(out, b, n);
}

/* Append the decoded text of a JSON string span (with its quotes). */
static bool
junescape(const jspan *s, trib_strbuf *out, char *errbuf, size_t errlen)
{
	const char *p = s->p + 1;
	const char *e = s->p + s->n - 1;

	while (p < e)
	{
		const char *q = p;
		long		cp;

		while (q < e && *q != '\\')
			q++;
		trib_strbuf_add(out, p, (size_t) (q - p));
		if (q >= e)
			break;
		p = q + 1;
		if (p >= e)
			goto bad;
		switch (*p++)
		{
			case '"':
				trib_strbuf_addc(out, '"');
				break;
			case '\\':
				trib_strbuf_addc(out, '\\');
				break;
			case '/':
				trib_strbuf_addc(out, '/');
				break;
			case 'b':
				trib_strbuf_addc(out, '\b');
				break;
			case 'f':
				trib_strbuf_addc(out, '\f');
				break;
			case 'n':
				trib_strbuf_addc(out, '\n');
				break;
			case 'r':
				trib_strbuf_addc(out, '\r');
				break;
			case 't':
				trib_strbuf_addc(out, '\t');
				break;
			case 'u':
				if ((cp = hex4(p, e)) < 0)
					goto bad;
				p += 4;
				if (cp >= 0xD800 && cp <= 0xDBFF)
				{
					long		lo;

					if (e - p < 6 || p[0] != '\\' || p[1] != 'u' ||
						(lo = hex4(p + 2, e)) < 0xDC00 || lo > 0xDFFF)
						goto bad;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					p += 6;
				}
				else if (cp >= 0xDC00 && cp <= 0xDFFF)
					goto bad;
				if (cp == 0)
				{
					snprintf(errbuf, errlen, "a string contains \\u0000, which "
							 "PostgreSQL text cannot hold");
					return false;
				}
				add_utf8(out, (unsigned long) cp);
				break;
			default:
				goto bad;
		}
	}
	return true;
bad:
	snprintf(errbuf, errlen, "malformed JSON string escape");
	return false;
}

/* ---- value conversion -------------------------------------------------- */

/* Append bytea input text ("\x" + hex) for base64 (or hex) text s[0..n). */
static bool
bytea_text(const char *s, size_t n, bool hex, trib_strbuf *out,
		   char *errbuf, size_t errlen)
{
	static const char digits[] = "0123456789abcdef";
	unsigned	acc = 0;
	int			bits = 0;
	size_t		i;

	trib_strbuf_adds(out, "\\x");
	if (hex)
	{
		for (i = 0; i < n; i++)
		{
			char		c = s[i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
				goto bad;
		}
		if (n % 2)
			goto bad;
		trib_strbuf_add(out, s, n);
		return true;
	}
	for (i = 0; i < n; i++)
	{
		char		c = s[i];
		int			v;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=')
			break;
		else
			goto bad;
		acc = (acc << 6) | (unsigned) v;
		bits += 6;
		if (bits >= 8)
		{
			unsigned char b = (unsigned char) (acc >> (bits - 8));

			bits -= 8;
			trib_strbuf_addc(out, digits[b >> 4]);
			trib_strbuf_addc(out, digits[b & 15]);
		}
	}
	for (; i < n; i++)
		if (s[i] != '=')
			goto bad;
	return true;
bad:
	snprintf(errbuf, errlen, "bytea value is not valid %s", hex ? "hex" : "base64");
	return false;
}

/*
 * Append a date/timestamp in PostgreSQL's input form.  The plugin writes
 * ISO 8601 expanded years with astronomical numbering (-0043 is 44 BC,
 * 0000 is 1 BC, +10000 is 10000 AD); PostgreSQL wants "0044-... BC".
 */
static void
datetime_text(const char *s, size_t n, trib_strbuf *out)
{
	size_t		i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
	size_t		d = i;
	unsigned long long year = 0;

	while (d < n && s[d] >= '0' && s[d] <= '9' && d - i < 12)
		year = year * 10 + (unsigned long long) (s[d++] - '0');
	if (d - i < 4 || d >= n || s[d] != '-')
	{
		trib_strbuf_add(out, s, n);	/* infinity, or not a date */
		return;
	}
	if (s[0] == '-' || (i == 0 && year == 0))
	{
		/* astronomical year Y <= 0 is 1 - Y BC */
		trib_strbuf_printf(out, "%04llu", year + 1);
		trib_strbuf_add(out, s + d, n - d);
		trib_strbuf_adds(out, " BC");
		return;
	}
	trib_strbuf_add(out, s + i, n - i);
}

/* Append s[0..n) as a double-quoted array element. */
static void
array_quote(trib_strbuf *out, const char *s, size_t n)
{
	size_t		i;

	trib_strbuf_addc(out, '"');
	for (i = 0; i < n; i++)
	{
		if (s[i] == '"' || s[i] == '\\')
			trib_strbuf_addc(out, '\\');
		trib_strbuf_addc(out, s[i]);
	}
	trib_strbuf_addc(out, '"');
}

/* Convert a scalar string according to kind into out. */
static bool
string_text(const jspan *v, char kind, bool hex, trib_strbuf *out,
			char *errbuf, size_t errlen)
{
	trib_strbuf tmp = {0};
	bool		ok;

	if (kind != 'b' && kind != 'd')
		return junescape(v, out, errbuf, errlen);
	ok = junescape(v, &tmp, errbuf, errlen);
	if (ok && kind == 'b')
		ok = bytea_text(tmp.data ? tmp.data : "", tmp.len, hex, out, errbuf, errlen);
	else if (ok)
		datetime_text(tmp.data ? tmp.data : "", tmp.len, out);
	trib_strbuf_free(&tmp);
	return ok;
}

/* Append an array literal for a JSON array (elements of kind ek). */
static bool
array_text(const jspan *v, char ek, bool hex, trib_strbuf *out, int depth,
		   char *errbuf, size_t errlen)
{
	jiter		it;
	jspan		k,
				e;
	int			rc,
				n = 0;
	trib_strbuf tmp = {0};

	if (depth > MAX_ARRAY_DEPTH || !jiter_begin(&it, v->p, v->n, '['))
	{
		snprintf(errbuf, errlen, "malformed or too deeply nested array");
		return false;
	}
	trib_strbuf_addc(out, '{');
	while ((rc = jiter_next(&it, &k, &e)) > 0)
	{
		if (n++ > 0)
			trib_strbuf_addc(out, ',');
		switch (e.type)
		{
			case 'a':
				if (!array_text(&e, ek, hex, out, depth + 1, errbuf, errlen))
					goto fail;
				break;
			case 'z':
				trib_strbuf_adds(out, "NULL");
				break;
			case 's':
				tmp.len = 0;
				if (!string_text(&e, ek, hex, &tmp, errbuf, errlen))
					goto fail;
				array_quote(out, tmp.data ? tmp.data : "", tmp.len);
				break;
			case 'o':
				array_quote(out, e.p, e.n);
				break;
			default:			/* numbers, true, false: their text */
				trib_strbuf_add(out, e.p, e.n);
				break;
		}
	}
	if (rc < 0)
	{
		snprintf(errbuf, errlen, "malformed JSON array");
		goto fail;
	}
	trib_strbuf_addc(out, '}');
	trib_strbuf_free(&tmp);
	return true;
fail:
	trib_strbuf_free(&tmp);
	return false;
}

/* Append the input text of one JSON value for a column of kind/ek. */
static bool
value_text(const jspan *v, char kind, char ek, bool hex, trib_strbuf *out,
		   bool *is_null, char *errbuf, size_t errlen)
{
	*is_null = false;
	if (v->type == 'z')
	{
		*is_null = true;
		return true;
	}
	if (kind == 'j')
	{
		trib_strbuf_add(out, v->p, v->n);	/* JSON text as it is */
		return true;
	}
	switch (v->type)
	{
		case 's':
			return string_text(v, kind, hex, out, errbuf, errlen);
		case 'a':
			if (kind == 'a')
				return array_text(v, ek, hex, out, 0, errbuf, errlen);
			/* FALLTHROUGH */
		default:
			trib_strbuf_add(out, v->p, v->n);
			return true;
	}
}

/* Exposed for tests: convert one JSON value. */
bool
trib_pgsink_value_text(const char *json, size_t len, char kind, char elem_kind,
					   bool bytea_hex, trib_strbuf *out, bool *is_null,
					   char *errbuf, size_t errlen)
{
	jspan		v;
	const char *end;
	const char *p = jws(json, json + len);

	if (!(end = jskip_value(p, json + len, &v.type)) || jws(end, json + len) != json + len)
	{
		snprintf(errbuf, errlen, "malformed JSON value");
		return false;
	}
	v.p = p;
	v.n = (size_t) (end - p);
	if (!value_text(&v, kind, elem_kind, bytea_hex, out, is_null, errbuf, errlen))
		return false;
	trib_strbuf_add(out, "", 0);
	return true;
}

/* ---- state ------------------------------------------------------------- */

/* A column of a target table. */
typedef struct tcol
{
	char	   *name;
	char	   *qname;			/* quoted identifier */
	Oid			type;			/* pg_type OID, for the parameter */
	char		kind;			/* t b j d a (see trib_pgsink_value_text) */
	char		ekind;			/* arrays: the elements' kind */
	bool		generated;		/* GENERATED ALWAYS AS (...) STORED: skipped */
	bool		identity_always;	/* not updatable */
	int			pkpos;			/* 1-based position in the key, 0 if none */
} tcol;

/* A target table as its catalog describes it. */
typedef struct tinfo
{
	char	   *schema;
	char	   *table;
	char	   *qname;			/* "schema"."table" */
	bool		loaded;
	bool		exists;
	tcol	   *cols;
	int			ncols;
	int		   *pk;				/* column indexes in key order */
	int			npk;
	int		   *hash;			/* name -> index + 1, open addressing */
	int			hcap;
	size_t	   *slot;			/* per row: value offset per column */
	bool	   *skip;			/* per row: unchanged columns */
	const trib_relation *rel;	/* last relation version applied */
	uint32_t	rel_version;
	struct tinfo *next;
} tinfo;

/* A queued event (the parts the sink needs, copied). */
typedef struct bentry
{
	trib_op		op;
	char	   *schema;			/* target schema */
	char	   *table;
	char	   *before;
	char	   *after;
	char	   *key;
	char	   *unchanged;
	char	   *extra;
	const trib_relation *rel;
	trib_position pos;
} bentry;

/* One statement of a batch. */
typedef struct stmt
{
	char		what;			/* 'u' upsert, 'd' delete, 'm' move, 't' truncate */
	tinfo	   *t;
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
}			stmt;

typedef struct pgsink
{
	char	   *dsn;
	char	   *schema;
	char	   *pipeline;
	char	   *sink_name;
	bool		create_tables;
	int			batch_size;
	int			batch_ms;
	bool		bytea_hex;
	int			retry_ms;
	int			max_rows;
	trib_pgsink_mode mode;
	bool		use_pipeline;

	PGconn	   *conn;
	bool		reload_position;
	tinfo	   *tables;

	bentry	   *q;
	size_t		nq;
	size_t		qcap;
	long long	first_ms;

	bool		has_durable;
	trib_position durable;

	bool		failed;
	char		failmsg[1024];
	bool		single_row;		/* this batch: one row per statement */

	trib_strbuf arena;			/* converted values */
	trib_strbuf scratch;
	stmt	   *stmts;
	int			nstmts;
	int			stcap;
	int			open_stmt;		/* index of the statement rows join, -1 */
	trib_pgsink_stats stats;
} pgsink;

/* Outcomes of one attempt at a batch. */
typedef enum attempt_rc
{
	A_OK,
	A_COVERED,					/* everything was already stored */
	A_STALE,					/* the guard found a newer position */
	A_RETRY,					/* connection lost, serialization, deadlock */
	A_SINGLE,					/* a statement hit the same row twice */
	A_SCHEMA,					/* the target's tables changed under us */
	A_FAIL
} attempt_rc;

static bool pg_open(trib_sink *sink, const struct trib_sink_conf *conf,
					char *errbuf, size_t errlen);
static bool pg_durable_position(trib_sink *sink, trib_position *out,
								char *errbuf, size_t errlen);
static bool pg_write(trib_sink *sink, const trib_event *ev,
					 char *errbuf, size_t errlen);
static bool pg_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen);
static void pg_poll(trib_sink *sink, int timeout_ms);
static void pg_close(trib_sink *sink);

const trib_sink_ops trib_sink_postgres_ops = {
	.type = "postgres",
	.open = pg_open,
	.durable_position = pg_durable_position,
	.write = pg_write,
	.flush = pg_flush,
	.poll = pg_poll,
	.close = pg_close,
};

/* Milliseconds of a monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Event id order. */
static bool
pos_le(const trib_position *a, const trib_position *b)
{
	if (a->commit_lsn != b->commit_lsn)
		return a->commit_lsn < b->commit_lsn;
	return a->seq <= b->seq;
}

/* strdup keeping NULL. */
static char *
dup0(const char *s)
{
	return s ? trib_xstrdup(s) : NULL;
}

/* FNV-1a over bytes, continuing from h. */
static uint64_t
fnv(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n--)
	{
		h ^= *p++;
		h *= 1099511628211ULL;
	}
	return h;
}

/* A quoted identifier (malloc'd); NULL if libpq refuses (bad encoding). */
static char *
qident(PGconn *conn, const char *name)
{
	char	   *q = PQescapeIdentifier(conn, name, strlen(name));
	char	   *r;

	if (!q)
		return NULL;
	r = trib_xstrdup(q);
	PQfreemem(q);
	return r;
}

/* Fill errbuf from a failed result, adding context. */
static void
result_error(const PGresult *res, PGconn *conn, const char *what,
			 char *errbuf, size_t errlen)
{
	const char *msg = res ? PQresultErrorMessage(res) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	size_t		n;

	if (!msg || !*msg)
		msg = PQerrorMessage(conn);
	snprintf(errbuf, errlen, "%s: %s%s%s%s", what, state ? "SQLSTATE " : "",
			 state ? state : "", state ? ": " : "", msg);
	n = strlen(errbuf);
	while (n > 0 && (errbuf[n - 1] == '\n' || errbuf[n - 1] == ' '))
		errbuf[--n] = '\0';
}

/* Run one parameterised statement outside a batch; the result or NULL. */
static PGresult *
run(pgsink *s, const char *sql, int n, const char *const *values,
	const Oid *types, const char *what, char *errbuf, size_t errlen)
{
	PGresult   *res = PQexecParams(s->conn, sql, n, types, values, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	result_error(res, s->conn, what, errbuf, errlen);
	PQclear(res);
	return NULL;
}

/* ---- tables ------------------------------------------------------------ */

/* Free the catalog part of a table entry. */
static void
tinfo_clear(tinfo *t)
{
	int			i;

	for (i = 0; i < t->ncols; i++)
	{
		free(t->cols[i].name);
		free(t->cols[i].qname);
	}
	free(t->cols);
	free(t->pk);
	free(t->hash);
	free(t->slot);
	free(t->skip);
	t->cols = NULL;
	t->pk = NULL;
	t->hash = NULL;
	t->slot = NULL;
	t->skip = NULL;
	t->ncols = t->npk = t->hcap = 0;
	t->loaded = t->exists = false;
}

/* Forget every table's catalog (after DDL we did not expect). */
static void
tables_invalidate(pgsink *s)
{
	tinfo	   *t;

	for (t = s->tables; t; t = t->next)
	{
		tinfo_clear(t);
		t->rel = NULL;
	}
}

/* Hash of a column name. */
static uint64_t
name_hash(const char *s, size_t n)
{
	return fnv(14695981039346656037ULL, s, n);
}

/* Column index by name (n bytes), -1 when absent. */
static int
tinfo_find(const tinfo *t, const char *name, size_t n)
{
	size_t		h;

	if (t->hcap == 0)
		return -1;
	h = (size_t) (name_hash(name, n) % (uint64_t) t->hcap);
	while (t->hash[h])
	{
		const tcol *c = &t->cols[t->hash[h] - 1];

		if (strlen(c->name) == n && memcmp(c->name, name, n) == 0)
			return t->hash[h] - 1;
		h = (h + 1) % (size_t) t->hcap;
	}
	return -1;
}

/* The catalog query of a table: columns, kinds, key. */
static const char *const table_sql =
"SELECT a.attname, a.atttypid::pg_catalog.int8, a.attgenerated <> '', "
"       a.attidentity = 'a', "
"       COALESCE((SELECT k.n FROM pg_catalog.unnest(i.indkey) WITH ORDINALITY "
"                 AS k(att, n) WHERE k.att = a.attnum), 0), "
"       CASE WHEN b.oid = 17 THEN 'b' WHEN b.oid IN (114, 3802) THEN 'j' "
"            WHEN b.oid IN (1082, 1114, 1184) THEN 'd' "
"            WHEN bt.typcategory = 'A' THEN 'a' ELSE 't' END, "
"       CASE WHEN eb.oid = 17 THEN 'b' WHEN eb.oid IN (114, 3802) THEN 'j' "
"            WHEN eb.oid IN (1082, 1114, 1184) THEN 'd' ELSE 't' END "
"FROM pg_catalog.pg_class c "
"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
"     AND NOT a.attisdropped "
"LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisprimary "
"CROSS JOIN LATERAL (WITH RECURSIVE d(oid, base) AS ("
"       SELECT a.atttypid, (SELECT typbasetype FROM pg_catalog.pg_type WHERE oid = a.atttypid) "
"       UNION ALL "
"       SELECT d.base, x.typbasetype FROM d JOIN pg_catalog.pg_type x ON x.oid = d.base) "
"     SELECT oid FROM d WHERE base = 0) b "
"JOIN pg_catalog.pg_type bt ON bt.oid = b.oid "
"LEFT JOIN LATERAL (WITH RECURSIVE d(oid, base) AS ("
"       SELECT bt.typelem, (SELECT typbasetype FROM pg_catalog.pg_type WHERE oid = bt.typelem) "
"       UNION ALL "
"       SELECT d.base, x.typbasetype FROM d JOIN pg_catalog.pg_type x ON x.oid = d.base) "
"     SELECT oid FROM d WHERE base = 0) eb ON bt.typcategory = 'A' "
"WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') "
"ORDER BY a.attnum";

/* Read a table's columns and key from the target's catalog. */
static bool
tinfo_load(pgsink *s, tinfo *t, char *errbuf, size_t errlen)
{
	const char *params[2] = {t->schema, t->table};
	PGresult   *res;
	int			i,
				n;

	tinfo_clear(t);
	res = run(s, table_sql, 2, params, NULL, "reading the catalog", errbuf, errlen);
	if (!res)
		return false;
	n = PQntuples(res);
	t->loaded = true;
	t->exists = n > 0;
	t->ncols = n;
	t->cols = trib_xcalloc((size_t) n + 1, sizeof(tcol));
	t->pk = trib_xcalloc((size_t) n + 1, sizeof(int));
	t->slot = trib_xcalloc((size_t) n + 1, sizeof(size_t));
	t->skip = trib_xcalloc((size_t) n + 1, sizeof(bool));
	t->hcap = 2 * n + 1;
	t->hash = trib_xcalloc((size_t) t->hcap, sizeof(int));
	for (i = 0; i < n; i++)
	{
		tcol	   *c = &t->cols[i];
		size_t		h;

		c->name = trib_xstrdup(PQgetvalue(res, i, 0));
		c->qname = qident(s->conn, c->name);
		c->type = (Oid) strtoul(PQgetvalue(res, i, 1), NULL, 10);
		c->generated = PQgetvalue(res, i, 2)[0] == 't';
		c->identity_always = PQgetvalue(res, i, 3)[0] == 't';
		c->pkpos = atoi(PQgetvalue(res, i, 4));
		c->kind = PQgetvalue(res, i, 5)[0];
		c->ekind = PQgetvalue(res, i, 6)[0];
		if (!c->qname)
		{
			snprintf(errbuf, errlen, "cannot quote column name of %s", t->qname);
			PQclear(res);
			return false;
		}
		h = (size_t) (name_hash(c->name, strlen(c->name)) % (uint64_t) t->hcap);
		while (t->hash[h])
			h = (h + 1) % (size_t) t->hcap;
		t->hash[h] = i + 1;
	}
	PQclear(res);
	for (i = 0; i < n; i++)
		if (t->cols[i].pkpos > 0 && t->cols[i].pkpos <= n)
			t->npk++;
	for (i = 0; i < n; i++)
		if (t->cols[i].pkpos > 0 && t->cols[i].pkpos <= t->npk)
			t->pk[t->cols[i].pkpos - 1] = i;
	return true;
}

/* The entry of schema.table (created, not loaded, when new). */
static tinfo *
tinfo_get(pgsink *s, const char *schema, const char *table, char *errbuf,
		  size_t errlen)
{
	tinfo	   *t;
	char	   *qs,
			   *qt;
	trib_strbuf b = {0};

	for (t = s->tables; t; t = t->next)
		if (strcmp(t->schema, schema) == 0 && strcmp(t->table, table) == 0)
			return t;
	qs = qident(s->conn, schema);
	qt = qident(s->conn, table);
	if (!qs || !qt)
	{
		snprintf(errbuf, errlen, "cannot quote the name of %s.%s", schema, table);
		free(qs);
		free(qt);
		return NULL;
	}
	t = trib_xcalloc(1, sizeof(*t));
	t->schema = trib_xstrdup(schema);
	t->table = trib_xstrdup(table);
	trib_strbuf_printf(&b, "%s.%s", qs, qt);
	t->qname = trib_strbuf_finish(&b);
	free(qs);
	free(qt);
	t->next = s->tables;
	s->tables = t;
	return t;
}

/* True when a source type name may be spliced into DDL as written. */
static bool
plain_type_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == ' ' || c == '.' ||
			  c == ',' || c == '(' || c == ')' || c == '[' || c == ']' ||
			  c == '"' || c >= 0x80))
			return false;
	}
	return true;
}

/*
 * The DDL text of each named type, checked by the target: the source's
 * text when the target resolves it and it is plain, else the target's own
 * rendering.  types[i] are set to malloc'd strings; false on an unknown
 * type.
 */
static bool
resolve_types(pgsink *s, const trib_relation *rel, const int *which, int n,
			  char **types, char *errbuf, size_t errlen)
{
	trib_strbuf arr = {0};
	const char *params[1];
	PGresult   *res;
	int			i;
	char		e[512];

	trib_strbuf_addc(&arr, '{');
	for (i = 0; i < n; i++)
	{
		const char *ty = rel->columns[which[i]].type ? rel->columns[which[i]].type : "";

		if (i > 0)
			trib_strbuf_addc(&arr, ',');
		array_quote(&arr, ty, strlen(ty));
	}
	trib_strbuf_addc(&arr, '}');
	params[0] = arr.data;
	res = run(s, "SELECT pg_catalog.to_regtype(t)::pg_catalog.text "
			  "FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS u(t, o) "
			  "ORDER BY o", 1, params, NULL, "resolving column types", e, sizeof(e));
	trib_strbuf_free(&arr);
	if (!res)
	{
		snprintf(errbuf, errlen, "%s.%s: %s", rel->schema, rel->table, e);
		return false;
	}
	for (i = 0; i < n; i++)
	{
		const trib_column *c = &rel->columns[which[i]];

		if (PQgetisnull(res, i, 0))
		{
			snprintf(errbuf, errlen, "%s.%s: type \"%s\" of column \"%s\" does not "
					 "exist in the target database", rel->schema, rel->table,
					 c->type ? c->type : "", c->name);
			while (--i >= 0)
				free(types[i]);
			PQclear(res);
			return false;
		}
		if (c->type && plain_type_name(c->type))
			types[i] = trib_xstrdup(c->type);
		else
		{
			types[i] = trib_xstrdup(PQgetvalue(res, i, 0));
			tlog_warn("sink.postgres", "%s.%s: column %s: type \"%s\" used as \"%s\"",
					  rel->schema, rel->table, c->name, c->type ? c->type : "", types[i]);
		}
	}
	PQclear(res);
	return true;
}

/* CREATE SCHEMA when the namespace is missing. */
static bool
ensure_schema(pgsink *s, const char *schema, char *errbuf, size_t errlen)
{
	const char *params[1] = {schema};
	PGresult   *res = run(s, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
						  1, params, NULL, "reading the catalog", errbuf, errlen);
	char	   *q;
	trib_strbuf sql = {0};
	bool		ok;

	if (!res)
		return false;
	ok = PQntuples(res) > 0;
	PQclear(res);
	if (ok)
		return true;
	if (!(q = qident(s->conn, schema)))
	{
		snprintf(errbuf, errlen, "cannot quote schema name %s", schema);
		return false;
	}
	trib_strbuf_printf(&sql, "CREATE SCHEMA IF NOT EXISTS %s", q);
	res = run(s, sql.data, 0, NULL, NULL, "creating a schema", errbuf, errlen);
	ok = res != NULL;
	PQclear(res);
	free(q);
	trib_strbuf_free(&sql);
	return ok;
}

/* CREATE TABLE from a relation, or ADD COLUMN for what the table lacks. */
static bool
create_or_alter(pgsink *s, tinfo *t, const trib_relation *rel,
				char *errbuf, size_t errlen)
{
	int		   *which = trib_xcalloc((size_t) rel->ncolumns + 1, sizeof(int));
	char	  **types = trib_xcalloc((size_t) rel->ncolumns + 1, sizeof(char *));
	int			n = 0,
				i,
				npk = 0;
	bool		ok = false,
				create = !t->exists,
				any_pk = false;
	trib_strbuf sql = {0};
	PGresult   *res;

	for (i = 0; i < rel->ncolumns; i++)
	{
		const char *name = rel->columns[i].name;

		if (name && (create || tinfo_find(t, name, strlen(name)) < 0))
			which[n++] = i;
		if (rel->columns[i].pk)
			any_pk = true;
	}
	if (n == 0)
	{
		free(which);
		free(types);
		return true;
	}
	if (create && !ensure_schema(s, t->schema, errbuf, errlen))
		goto out;
	if (!resolve_types(s, rel, which, n, types, errbuf, errlen))
		goto out;
	if (create)
		trib_strbuf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s (", t->qname);
	else
		trib_strbuf_printf(&sql, "ALTER TABLE %s ", t->qname);
	for (i = 0; i < n; i++)
	{
		const trib_column *c = &rel->columns[which[i]];
		char	   *q = qident(s->conn, c->name);
		bool		key = any_pk ? c->pk : c->identity;

		if (!q)
		{
			snprintf(errbuf, errlen, "cannot quote column name %s", c->name);
			goto out;
		}
		trib_strbuf_printf(&sql, "%s%s%s %s%s", i ? ", " : "",
						   create ? "" : "ADD COLUMN IF NOT EXISTS ", q, types[i],
						   create && key ? " NOT NULL" : "");
		free(q);
	}
	if (create)
	{
		for (i = 0; i < n; i++)
		{
			const trib_column *c = &rel->columns[which[i]];

			if (any_pk ? c->pk : c->identity)
			{
				char	   *q = qident(s->conn, c->name);

				trib_strbuf_printf(&sql, "%s%s", npk++ ? ", " : ", PRIMARY KEY (", q);
				free(q);
			}
		}
		trib_strbuf_adds(&sql, npk ? "))" : ")");
	}
	res = run(s, sql.data, 0, NULL, NULL, create ? "creating a table" : "adding columns",
			  errbuf, errlen);
	if (res)
	{
		ok = true;
		PQclear(res);
		if (create)
			s->stats.tables_created++;
		else
			s->stats.columns_added += (uint64_t) n;
		tlog_info("sink.postgres", "%s %s%s", create ? "created table" : "added columns to",
				  t->qname, create ? " from the source's definition" : "");
	}
	else
	{
		size_t		l = strlen(errbuf);

		snprintf(errbuf + l, errlen - l, " (%s)", t->qname);
	}
out:
	for (i = 0; i < n; i++)
		free(types[i]);
	free(types);
	free(which);
	trib_strbuf_free(&sql);
	return ok;
}

/* Make sure the table of a queued event is known (and exists). */
static bool
prepare_table(pgsink *s, const bentry *b, char *errbuf, size_t errlen)
{
	tinfo	   *t = tinfo_get(s, b->schema, b->table, errbuf, errlen);

	if (!t)
		return false;
	if (!t->loaded && !tinfo_load(s, t, errbuf, errlen))
		return false;
	if (s->create_tables && b->rel && b->rel->ncolumns > 0 &&
		(t->rel != b->rel || t->rel_version != b->rel->version || !t->exists))
	{
		if (!create_or_alter(s, t, b->rel, errbuf, errlen) ||
			!tinfo_load(s, t, errbuf, errlen))
			return false;
		t->rel = b->rel;
		t->rel_version = b->rel->version;
	}
	if (!t->exists)
	{
		snprintf(errbuf, errlen, "target table %s does not exist%s", t->qname,
				 s->create_tables ? " and the event carries no table definition"
				 : " (create_tables is off)");
		return false;
	}
	if (t->npk == 0)
	{
		snprintf(errbuf, errlen, "target table %s has no primary key", t->qname);
		return false;
	}
	return true;
}

/* ---- statements -------------------------------------------------------- */

/* A new (reset) statement at the end of the list. */
static stmt *
stmt_new(pgsink *s, char what, tinfo *t)
{
	stmt	   *st;

	if (s->nstmts == s->stcap)
	{
		int			ncap = s->stcap ? s->stcap * 2 : 16;

		s->stmts = trib_xrealloc(s->stmts, sizeof(stmt) * (size_t) ncap);
		memset(s->stmts + s->stcap, 0, sizeof(stmt) * (size_t) (ncap - s->stcap));
		s->stcap = ncap;
	}
	st = &s->stmts[s->nstmts++];
	st->what = what;
	st->t = t;
	st->sql.len = 0;
	trib_strbuf_add(&st->sql, "", 0);
	st->nparams = 0;
	st->rows = 0;
	st->ncols = 0;
	if (st->keys)
		memset(st->keys, 0, sizeof(uint64_t) * (size_t) st->kcap);
	return st;
}

/* Add a parameter ($n) of type `type` with value at arena offset off. */
static int
stmt_param(stmt *st, size_t off, Oid type)
{
	if (st->nparams == st->pcap)
	{
		st->pcap = st->pcap ? st->pcap * 2 : 64;
		st->voff = trib_xrealloc(st->voff, sizeof(size_t) * (size_t) st->pcap);
		st->types = trib_xrealloc(st->types, sizeof(Oid) * (size_t) st->pcap);
	}
	st->voff[st->nparams] = off;
	st->types[st->nparams] = type;
	return ++st->nparams;
}

/* Remember the column list of a mergeable statement. */
static void
stmt_set_cols(stmt *st, const int *cols, int n)
{
	st->cols = trib_xrealloc(st->cols, sizeof(int) * (size_t) (n + 1));
	memcpy(st->cols, cols, sizeof(int) * (size_t) n);
	st->ncols = n;
}

/* Add a key hash to a statement's set; false when it was there. */
static bool
stmt_key_add(stmt *st, int max_rows, uint64_t h)
{
	size_t		i;

	if (h == 0)
		h = 1;
	if (st->kcap < 2 * max_rows + 1)
	{
		free(st->keys);
		st->kcap = 2 * max_rows + 1;
		st->keys = trib_xcalloc((size_t) st->kcap, sizeof(uint64_t));
	}
	i = (size_t) (h % (uint64_t) st->kcap);
	while (st->keys[i])
	{
		if (st->keys[i] == h)
			return false;
		i = (i + 1) % (size_t) st->kcap;
	}
	st->keys[i] = h;
	return true;
}

/* Finish the open statement (its tail: ON CONFLICT, the join). */
static void
stmt_close(pgsink *s)
{
	stmt	   *st;
	tinfo	   *t;
	int			i,
				n = 0;

	if (s->open_stmt < 0)
		return;
	st = &s->stmts[s->open_stmt];
	t = st->t;
	s->open_stmt = -1;
	if (st->what == 'd')
	{
		trib_strbuf_adds(&st->sql, ") AS v (");
		for (i = 0; i < t->npk; i++)
			trib_strbuf_printf(&st->sql, "%s%s", i ? ", " : "", t->cols[t->pk[i]].qname);
		trib_strbuf_adds(&st->sql, ") WHERE ");
		for (i = 0; i < t->npk; i++)
			trib_strbuf_printf(&st->sql, "%sx.%s = v.%s", i ? " AND " : "",
							   t->cols[t->pk[i]].qname, t->cols[t->pk[i]].qname);
		return;
	}
	/* upsert */
	trib_strbuf_adds(&st->sql, " ON CONFLICT (");
	for (i = 0; i < t->npk; i++)
		trib_strbuf_printf(&st->sql, "%s%s", i ? ", " : "", t->cols[t->pk[i]].qname);
	trib_strbuf_adds(&st->sql, ") DO ");
	for (i = 0; i < st->ncols; i++)
	{
		const tcol *c = &t->cols[st->cols[i]];

		if (c->pkpos > 0 || c->identity_always)
			continue;
		trib_strbuf_printf(&st->sql, "%s%s = EXCLUDED.%s", n++ ? ", " : "UPDATE SET ",
						   c->qname, c->qname);
	}
	if (n == 0)
		trib_strbuf_adds(&st->sql, "NOTHING");
}

/* Parse a row image into t->slot (arena offsets); false on bad input. */
static bool
row_values(pgsink *s, tinfo *t, const char *image, bool check_unknown,
		   char *errbuf, size_t errlen)
{
	jiter		it;
	jspan		k,
				v;
	int			rc,
				i;

	for (i = 0; i < t->ncols; i++)
		t->slot[i] = ABSENT;
	if (!image || !jiter_begin(&it, image, strlen(image), '{'))
	{
		snprintf(errbuf, errlen, "%s: row image is not a JSON object", t->qname);
		return false;
	}
	while ((rc = jiter_next(&it, &k, &v)) > 0)
	{
		bool		is_null;
		size_t		off;
		int			col;

		s->scratch.len = 0;
		if (!junescape(&k, &s->scratch, errbuf, errlen))
			return false;
		trib_strbuf_add(&s->scratch, "", 0);
		col = tinfo_find(t, s->scratch.data, s->scratch.len);
		if (col < 0)
		{
			if (!check_unknown)
				continue;
			snprintf(errbuf, errlen, "column \"%s\" is not in target table %s%s",
					 s->scratch.data, t->qname,
					 s->create_tables ? "" : " (create_tables is off)");
			return false;
		}
		if (t->cols[col].generated || t->skip[col])
			continue;
		off = s->arena.len;
		if (!value_text(&v, t->cols[col].kind, t->cols[col].ekind, s->bytea_hex,
						&s->arena, &is_null, errbuf, errlen))
		{
			size_t		l = strlen(errbuf);

			snprintf(errbuf + l, errlen - l, " (column %s of %s)", t->cols[col].qname,
					 t->qname);
			return false;
		}
		if (is_null)
			t->slot[col] = NULLVAL;
		else
		{
			trib_strbuf_add(&s->arena, "", 0);
			s->arena.len++;		/* keep the NUL between values */
			t->slot[col] = off;
		}
	}
	if (rc < 0)
	{
		snprintf(errbuf, errlen, "%s: malformed row image", t->qname);
		return false;
	}
	return true;
}

/* Mark the columns listed in ev->unchanged (a JSON array of names). */
static bool
mark_unchanged(pgsink *s, tinfo *t, const char *unchanged, char *errbuf, size_t errlen)
{
	jiter		it;
	jspan		k,
				v;
	int			rc,
				i;

	for (i = 0; i < t->ncols; i++)
		t->skip[i] = false;
	if (!unchanged)
		return true;
	if (!jiter_begin(&it, unchanged, strlen(unchanged), '['))
	{
		snprintf(errbuf, errlen, "unchanged columns are not a JSON array");
		return false;
	}
	while ((rc = jiter_next(&it, &k, &v)) > 0)
	{
		int			col;

		if (v.type != 's')
			continue;
		s->scratch.len = 0;
		if (!junescape(&v, &s->scratch, errbuf, errlen))
			return false;
		trib_strbuf_add(&s->scratch, "", 0);
		col = tinfo_find(t, s->scratch.data, s->scratch.len);
		if (col >= 0)
			t->skip[col] = true;
	}
	if (rc < 0)
		snprintf(errbuf, errlen, "unchanged columns are not a JSON array");
	return rc == 0;
}

/* The hash of the key values in slot (every key column present). */
static bool
row_key(pgsink *s, const tinfo *t, uint64_t *h)
{
	int			i;

	*h = 14695981039346656037ULL;
	for (i = 0; i < t->npk; i++)
	{
		size_t		off = t->slot[t->pk[i]];

		if (off == ABSENT || off == NULLVAL)
			return false;
		*h = fnv(*h, s->arena.data + off, strlen(s->arena.data + off) + 1);
	}
	return true;
}

/* VALUES row "($a, $b, ...)" of the given columns from slot. */
static void
add_row(stmt *st, const tinfo *t, const int *cols, int n)
{
	int			i;

	trib_strbuf_adds(&st->sql, st->rows++ ? ", (" : "(");
	for (i = 0; i < n; i++)
		trib_strbuf_printf(&st->sql, "%s$%d", i ? ", " : "",
						   stmt_param(st, t->slot[cols[i]], t->cols[cols[i]].type));
	trib_strbuf_addc(&st->sql, ')');
}

/* True when the open statement can take one more row of this shape. */
static bool
can_merge(pgsink *s, char what, const tinfo *t, const int *cols, int n)
{
	const stmt *st;

	if (s->open_stmt < 0 || s->single_row || s->mode == TRIB_PGSINK_ROW)
		return false;
	st = &s->stmts[s->open_stmt];
	return st->what == what && st->t == t && st->ncols == n &&
		st->rows < s->max_rows && st->nparams + n <= MAX_PARAMS &&
		memcmp(st->cols, cols, sizeof(int) * (size_t) n) == 0;
}

/* "a = $1 AND b = $2" for the key columns, parameters from `first`
 * (consecutive) or, when map is set, $map[j]. */
static void
key_match(stmt *st, const tinfo *t, const char *prefix, int first, const int *map)
{
	int			j;

	for (j = 0; j < t->npk; j++)
		trib_strbuf_printf(&st->sql, "%s%s%s = $%d", j ? " AND " : "", prefix,
						   t->cols[t->pk[j]].qname, map ? map[j] : first + j);
}

/*
 * A key move (an update whose old image has another key): one statement
 * that moves the row when the new key is free (untouched columns keep
 * their values), else deletes the old row, and upserts the new key when
 * the old row was not there.  t->slot has the new values, oldslot the old
 * key; replaying it converges on the same rows.
 */
static void
build_move(pgsink *s, tinfo *t, const int *cols, int n, const size_t *oldslot)
{
	int		   *newp = trib_xcalloc((size_t) t->npk + 1, sizeof(int));
	stmt	   *st;
	int			i,
				j,
				oldp;

	stmt_close(s);
	st = stmt_new(s, 'm', t);
	st->rows = 1;
	for (i = 0; i < n; i++)
	{
		stmt_param(st, t->slot[cols[i]], t->cols[cols[i]].type);
		for (j = 0; j < t->npk; j++)
			if (t->pk[j] == cols[i])
				newp[j] = i + 1;
	}
	oldp = st->nparams + 1;
	for (j = 0; j < t->npk; j++)
		stmt_param(st, oldslot[t->pk[j]], t->cols[t->pk[j]].type);
	trib_strbuf_printf(&st->sql, "WITH x AS (SELECT EXISTS (SELECT 1 FROM %s WHERE ", t->qname);
	key_match(st, t, "", 0, newp);
	trib_strbuf_printf(&st->sql, ") AS e), u AS (UPDATE %s SET ", t->qname);
	for (i = 0; i < n; i++)
		trib_strbuf_printf(&st->sql, "%s%s = $%d", i ? ", " : "", t->cols[cols[i]].qname, i + 1);
	trib_strbuf_adds(&st->sql, " WHERE ");
	key_match(st, t, "", oldp, NULL);
	trib_strbuf_printf(&st->sql, " AND NOT (SELECT e FROM x) RETURNING 1), "
					   "d AS (DELETE FROM %s WHERE ", t->qname);
	key_match(st, t, "", oldp, NULL);
	trib_strbuf_printf(&st->sql, " AND (SELECT e FROM x)) INSERT INTO %s (", t->qname);
	for (i = 0; i < n; i++)
		trib_strbuf_printf(&st->sql, "%s%s", i ? ", " : "", t->cols[cols[i]].qname);
	trib_strbuf_adds(&st->sql, ") OVERRIDING SYSTEM VALUE SELECT ");
	for (i = 0; i < n; i++)
		trib_strbuf_printf(&st->sql, "%s$%d", i ? ", " : "", i + 1);
	trib_strbuf_adds(&st->sql, " WHERE NOT EXISTS (SELECT FROM u)");
	stmt_set_cols(st, cols, n);
	s->open_stmt = (int) (st - s->stmts);
	stmt_close(s);				/* ON CONFLICT (key) DO UPDATE ... */
	s->stats.rows_upserted++;
	free(newp);
}

/* An upsert (or a key move when the old key differs). */
static bool
build_upsert(pgsink *s, tinfo *t, const bentry *b, char *errbuf, size_t errlen)
{
	int		   *cols = trib_xmalloc(sizeof(int) * (size_t) (t->ncols + 1));
	size_t	   *newslot = NULL;
	int			n = 0,
				i;
	uint64_t	h;
	bool		ok = false;
	stmt	   *st;

	if (!mark_unchanged(s, t, b->unchanged, errbuf, errlen) ||
		!row_values(s, t, b->after, true, errbuf, errlen))
		goto out;
	for (i = 0; i < t->ncols; i++)
		if (t->slot[i] != ABSENT)
			cols[n++] = i;
	if (!row_key(s, t, &h))
	{
		snprintf(errbuf, errlen, "%s: the row lacks a primary key column", t->qname);
		goto out;
	}
	if (b->op == TRIB_OP_UPDATE && b->before)
	{
		/* the old image: a key move when its key differs */
		bool		moved = false;

		newslot = trib_xmalloc(sizeof(size_t) * (size_t) (t->ncols + 1));
		memcpy(newslot, t->slot, sizeof(size_t) * (size_t) t->ncols);
		for (i = 0; i < t->ncols; i++)
			t->skip[i] = false;
		if (!row_values(s, t, b->before, false, errbuf, errlen))
			goto out;
		for (i = 0; i < t->npk; i++)
		{
			size_t		o = t->slot[t->pk[i]],
						nw = newslot[t->pk[i]];

			if (o == ABSENT)
			{
				moved = false;
				break;
			}
			if (o == NULLVAL || strcmp(s->arena.data + o, s->arena.data + nw) != 0)
				moved = true;
		}
		if (moved)
		{
			size_t	   *oldslot = t->slot;

			t->slot = newslot;
			build_move(s, t, cols, n, oldslot);
			t->slot = oldslot;
			ok = true;
			goto out;
		}
		memcpy(t->slot, newslot, sizeof(size_t) * (size_t) t->ncols);
	}
	if (can_merge(s, 'u', t, cols, n) && stmt_key_add(&s->stmts[s->open_stmt], s->max_rows, h))
		st = &s->stmts[s->open_stmt];
	else
	{
		stmt_close(s);
		st = stmt_new(s, 'u', t);
		trib_strbuf_printf(&st->sql, "INSERT INTO %s (", t->qname);
		for (i = 0; i < n; i++)
			trib_strbuf_printf(&st->sql, "%s%s", i ? ", " : "", t->cols[cols[i]].qname);
		trib_strbuf_adds(&st->sql, ") OVERRIDING SYSTEM VALUE VALUES ");
		stmt_set_cols(st, cols, n);
		stmt_key_add(st, s->max_rows, h);
		s->open_stmt = (int) (st - s->stmts);
	}
	add_row(st, t, cols, n);
	s->stats.rows_upserted++;
	ok = true;
out:
	free(newslot);
	free(cols);
	return ok;
}

/* A delete by key (old image, else the event's key object). */
static bool
build_delete(pgsink *s, tinfo *t, const bentry *b, char *errbuf, size_t errlen)
{
	uint64_t	h;
	stmt	   *st;
	int			i;

	for (i = 0; i < t->ncols; i++)
		t->skip[i] = false;
	if (!row_values(s, t, b->before ? b->before : b->key, false, errbuf, errlen))
		return false;
	if (!row_key(s, t, &h) && b->before && b->key)
	{
		if (!row_values(s, t, b->key, false, errbuf, errlen))
			return false;
	}
	if (!row_key(s, t, &h))
	{
		snprintf(errbuf, errlen, "%s: delete without the primary key columns "
				 "(replica identity of the source table?)", t->qname);
		return false;
	}
	if (can_merge(s, 'd', t, t->pk, t->npk))
		st = &s->stmts[s->open_stmt];
	else
	{
		stmt_close(s);
		st = stmt_new(s, 'd', t);
		trib_strbuf_printf(&st->sql, "DELETE FROM %s AS x USING (VALUES ", t->qname);
		stmt_set_cols(st, t->pk, t->npk);
		s->open_stmt = (int) (st - s->stmts);
	}
	add_row(st, t, t->pk, t->npk);
	s->stats.rows_deleted++;
	return true;
}

/* TRUNCATE of the event's tables that exist in the target. */
static bool
build_truncate(pgsink *s, const bentry *b, char *errbuf, size_t errlen)
{
	jiter		it,
				mit;
	jspan		k,
				v,
				mk,
				mv;
	int			rc,
				n = 0;
	bool		restart = false;
	stmt	   *st;

	stmt_close(s);
	st = stmt_new(s, 't', NULL);
	trib_strbuf_adds(&st->sql, "TRUNCATE ");
	if (b->table)
	{
		tinfo	   *t = tinfo_get(s, b->schema, b->table, errbuf, errlen);

		if (!t || (!t->loaded && !tinfo_load(s, t, errbuf, errlen)))
			return false;
		if (t->exists)
			trib_strbuf_printf(&st->sql, "%s%s", n++ ? ", " : "", t->qname);
	}
	if (b->extra && jiter_begin(&it, b->extra, strlen(b->extra), '{'))
	{
		while ((rc = jiter_next(&it, &k, &v)) > 0)
		{
			s->scratch.len = 0;
			junescape(&k, &s->scratch, errbuf, errlen);
			trib_strbuf_add(&s->scratch, "", 0);
			if (strcmp(s->scratch.data, "restart_identity") == 0)
				restart = v.type == 't';
			if (strcmp(s->scratch.data, "relations") != 0 || v.type != 'a' || b->table)
				continue;
			if (!jiter_begin(&mit, v.p, v.n, '['))
				continue;
			while (jiter_next(&mit, &mk, &mv) > 0)
			{
				jiter		rit;
				jspan		rk,
							rv;
				char	   *schema = NULL,
						   *table = NULL;
				tinfo	   *t;

				if (!jiter_begin(&rit, mv.p, mv.n, '{'))
					continue;
				while (jiter_next(&rit, &rk, &rv) > 0)
				{
					trib_strbuf name = {0},
								val = {0};

					if (rv.type == 's' && junescape(&rk, &name, errbuf, errlen) &&
						junescape(&rv, &val, errbuf, errlen))
					{
						trib_strbuf_add(&name, "", 0);
						trib_strbuf_add(&val, "", 0);
						if (strcmp(name.data, "schema") == 0)
						{
							free(schema);
							schema = trib_strbuf_finish(&val);
						}
						else if (strcmp(name.data, "table") == 0)
						{
							free(table);
							table = trib_strbuf_finish(&val);
						}
					}
					trib_strbuf_free(&name);
					trib_strbuf_free(&val);
				}
				if (table)
				{
					const char *ts = s->schema ? s->schema : (schema ? schema : "public");

					t = tinfo_get(s, ts, table, errbuf, errlen);
					if (!t || (!t->loaded && !tinfo_load(s, t, errbuf, errlen)))
					{
						free(schema);
						free(table);
						return false;
					}
					if (t->exists)
						trib_strbuf_printf(&st->sql, "%s%s", n++ ? ", " : "", t->qname);
					else
						tlog_debug("sink.postgres", "truncate: %s is not in the target", t->qname);
				}
				free(schema);
				free(table);
			}
		}
	}
	if (n == 0)
	{
		s->nstmts--;			/* nothing to truncate here */
		return true;
	}
	if (restart)
		trib_strbuf_adds(&st->sql, " RESTART IDENTITY");
	s->stats.truncates++;
	return true;
}

/* Turn the queue into statements. */
static bool
build_batch(pgsink *s, char *errbuf, size_t errlen)
{
	size_t		i;

	s->nstmts = 0;
	s->open_stmt = -1;
	s->arena.len = 0;
	trib_strbuf_add(&s->arena, "", 0);
	for (i = 0; i < s->nq; i++)
	{
		const bentry *b = &s->q[i];
		tinfo	   *t;
		bool		ok = true;

		switch (b->op)
		{
			case TRIB_OP_CREATE:
			case TRIB_OP_UPDATE:
			case TRIB_OP_READ:
			case TRIB_OP_DELETE:
				t = tinfo_get(s, b->schema, b->table, errbuf, errlen);
				if (!t)
					return false;
				ok = b->op == TRIB_OP_DELETE ? build_delete(s, t, b, errbuf, errlen)
					: build_upsert(s, t, b, errbuf, errlen);
				break;
			case TRIB_OP_TRUNCATE:
				ok = build_truncate(s, b, errbuf, errlen);
				break;
			default:
				break;			/* messages change no table */
		}
		if (!ok)
			return false;
	}
	stmt_close(s);
	return true;
}

/* ---- connection and positions ------------------------------------------ */

/* NOTICEs (e.g. "already exists, skipping") go to the debug log. */
static void
notice_processor(void *arg, const char *message)
{
	(void) arg;
	tlog_debug("sink.postgres", "%s", message);
}

static const char *const positions_ddl =
"CREATE SCHEMA IF NOT EXISTS tributary_sink; "
"CREATE TABLE IF NOT EXISTS tributary_sink.positions ("
" pipeline text NOT NULL,"
" sink text NOT NULL,"
" commit_lsn pg_catalog.pg_lsn NOT NULL,"
" seq bigint NOT NULL,"
" end_lsn pg_catalog.pg_lsn,"
" lsn pg_catalog.pg_lsn,"
" opaque text,"
" updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
" PRIMARY KEY (pipeline, sink))";

/* Create tributary_sink.positions when it is missing. */
static bool
ensure_positions(pgsink *s, char *errbuf, size_t errlen)
{
	int			attempt;

	for (attempt = 0; attempt < 2; attempt++)
	{
		PGresult   *res = run(s, "SELECT pg_catalog.to_regclass('tributary_sink.positions') IS NOT NULL",
							  0, NULL, NULL, "reading the catalog", errbuf, errlen);
		bool		there;

		if (!res)
			return false;
		there = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
		if (there)
			return true;
		res = PQexec(s->conn, positions_ddl);
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
		{
			PQclear(res);
			tlog_info("sink.postgres", "created " TRIB_PGSINK_POSITIONS);
			return true;
		}
		result_error(res, s->conn, "creating " TRIB_PGSINK_POSITIONS, errbuf, errlen);
		PQclear(res);			/* a concurrent creation: look again */
	}
	return false;
}

/* Read the stored position of (pipeline, sink). */
static bool
read_position(pgsink *s, char *errbuf, size_t errlen)
{
	const char *params[2] = {s->pipeline, s->sink_name};
	PGresult   *res = run(s, "SELECT commit_lsn::text, seq, end_lsn::text, lsn::text, opaque "
						  "FROM tributary_sink.positions WHERE pipeline = $1 AND sink = $2",
						  2, params, NULL, "reading the position", errbuf, errlen);

	if (!res)
		return false;
	free(s->durable.opaque);
	memset(&s->durable, 0, sizeof(s->durable));
	s->has_durable = PQntuples(res) == 1;
	if (s->has_durable)
	{
		trib_lsn_parse(PQgetvalue(res, 0, 0), &s->durable.commit_lsn);
		s->durable.seq = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
		if (!PQgetisnull(res, 0, 2))
			trib_lsn_parse(PQgetvalue(res, 0, 2), &s->durable.end_lsn);
		if (!PQgetisnull(res, 0, 3))
			trib_lsn_parse(PQgetvalue(res, 0, 3), &s->durable.lsn);
		if (!PQgetisnull(res, 0, 4))
			s->durable.opaque = trib_xstrdup(PQgetvalue(res, 0, 4));
	}
	PQclear(res);
	s->reload_position = false;
	return true;
}

/* Connect and prepare the session; the position is read again. */
static bool
connect_db(pgsink *s, char *errbuf, size_t errlen)
{
	const char *kw[] = {"fallback_application_name", "connect_timeout", "dbname",
	"client_encoding", NULL};
	const char *val[] = {"tributary", "10", s->dsn, "UTF8", NULL};

	if (s->conn)
		PQfinish(s->conn);
	s->conn = PQconnectdbParams(kw, val, 1);
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK)
	{
		char	   *msg = trib_xstrdup(s->conn ? PQerrorMessage(s->conn) : "out of memory");
		size_t		n = strlen(msg);

		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = '\0';
		snprintf(errbuf, errlen, "cannot connect to the target database: %s", msg);
		free(msg);
		PQfinish(s->conn);
		s->conn = NULL;
		return false;
	}
	PQsetNoticeProcessor(s->conn, notice_processor, NULL);
	if (!ensure_positions(s, errbuf, errlen) || !read_position(s, errbuf, errlen))
		return false;
	return true;
}

/* ---- execution --------------------------------------------------------- */

/* The outcome of an error result (by SQLSTATE and connection state). */
static attempt_rc
classify(pgsink *s, const PGresult *res)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(s->conn) != CONNECTION_OK || !st)
		return A_RETRY;
	if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
		strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0)
		return A_RETRY;
	if (strcmp(st, "21000") == 0)
		return A_SINGLE;
	if (strcmp(st, "42703") == 0 || strcmp(st, "42P01") == 0 ||
		strcmp(st, "42804") == 0 || strcmp(st, "42P10") == 0)
		return A_SCHEMA;
	return A_FAIL;
}

/* What a statement is, for messages. */
static void
stmt_what(const stmt *st, char *buf, size_t len)
{
	static const char *const names[] = {"upsert", "delete", "key move", "truncate"};
	const char *w = st->what == 'u' ? names[0] : st->what == 'd' ? names[1] :
		st->what == 'm' ? names[2] : names[3];

	snprintf(buf, len, "%s of %d row%s%s%s", w, st->rows, st->rows == 1 ? "" : "s",
			 st->t ? " in " : "", st->t ? st->t->qname : "");
}

/* Parameter values of a statement (pointers into the arena). */
static const char **
stmt_values(pgsink *s, const stmt *st)
{
	const char **v = trib_xmalloc(sizeof(char *) * (size_t) (st->nparams + 1));
	int			i;

	for (i = 0; i < st->nparams; i++)
		v[i] = st->voff[i] == NULLVAL ? NULL : s->arena.data + st->voff[i];
	return v;
}

/* The position statement and its parameters. */
static const char *const position_sql =
"INSERT INTO tributary_sink.positions AS p "
"(pipeline, sink, commit_lsn, seq, end_lsn, lsn, opaque, updated_at) "
"VALUES ($1, $2, $3, $4, $5, $6, $7, pg_catalog.now()) "
"ON CONFLICT (pipeline, sink) DO UPDATE SET commit_lsn = EXCLUDED.commit_lsn, "
"seq = EXCLUDED.seq, end_lsn = EXCLUDED.end_lsn, lsn = EXCLUDED.lsn, "
"opaque = EXCLUDED.opaque, updated_at = EXCLUDED.updated_at "
"WHERE (p.commit_lsn, p.seq) < (EXCLUDED.commit_lsn, EXCLUDED.seq) "
"RETURNING 1";

static const Oid position_types[7] = {
	OID_TEXT, OID_TEXT, OID_PG_LSN, OID_INT8, OID_PG_LSN, OID_PG_LSN, OID_TEXT
};

/* Item j of a batch's sequence: BEGIN, the position, the statements. */
static int
item_index(int j)
{
	return j == 0 ? -1 : j == 1 ? -2 : j - 2;
}

/* Send item i (-1: BEGIN, -2: the position, else a statement). */
static bool
send_one(pgsink *s, int i, const trib_position *last, char bufs[4][32])
{
	const char **v;
	const stmt *st;
	int			ok;

	if (i == -1)
		return PQsendQueryParams(s->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
	if (i == -2)
	{
		const char *pv[7] = {s->pipeline, s->sink_name, bufs[0], bufs[1], bufs[2],
		bufs[3], last->opaque};

		return PQsendQueryParams(s->conn, position_sql, 7, position_types, pv,
								 NULL, NULL, 0);
	}
	st = &s->stmts[i];
	v = stmt_values(s, st);
	ok = PQsendQueryParams(s->conn, st->sql.data, st->nparams, st->types, v,
						   NULL, NULL, 0);
	free(v);
	return ok;
}

/* Check one result; the first error fills errbuf and sets *rc. */
static void
check_result(pgsink *s, PGresult *res, int i, bool *stale, attempt_rc *rc,
			 char *errbuf, size_t errlen)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	char		what[512];

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
	{
		if (i == -2 && PQntuples(res) == 0)
			*stale = true;
		return;
	}
	if (st == PGRES_PIPELINE_ABORTED || *rc != A_OK)
		return;
	*rc = classify(s, res);
	if (i >= 0)
		stmt_what(&s->stmts[i], what, sizeof(what));
	else
		snprintf(what, sizeof(what), "%s", i == -1 ? "BEGIN" : "storing the position");
	result_error(res, s->conn, what, errbuf, errlen);
}

/* Read the result of one item and the NULL after it; false when the
 * connection broke (rc set). */
static bool
read_one(pgsink *s, int i, bool *stale, attempt_rc *rc, char *errbuf, size_t errlen)
{
	PGresult   *res = PQgetResult(s->conn);

	if (!res || PQresultStatus(res) == PGRES_PIPELINE_SYNC)
	{
		PQclear(res);
		if (*rc == A_OK)
		{
			*rc = A_RETRY;
			snprintf(errbuf, errlen, "connection lost: %s", PQerrorMessage(s->conn));
		}
		return false;
	}
	check_result(s, res, i, stale, rc, errbuf, errlen);
	PQclear(res);
	while ((res = PQgetResult(s->conn)) != NULL)
	{
		bool		sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;

		PQclear(res);
		if (sync)
		{
			if (*rc == A_OK)
			{
				*rc = A_RETRY;
				snprintf(errbuf, errlen, "pipeline out of step");
			}
			return false;
		}
	}
	return true;
}

/* Pipeline mode: send the items in chunks, a Sync after each chunk. */
static attempt_rc
exec_pipelined(pgsink *s, const trib_position *last, char bufs[4][32],
			   bool *stale, char *errbuf, size_t errlen)
{
	int			total = s->nstmts + 2,
				first,
				j;
	attempt_rc	rc = A_OK;
	PGresult   *res;

	if (!PQenterPipelineMode(s->conn))
	{
		snprintf(errbuf, errlen, "cannot enter pipeline mode: %s", PQerrorMessage(s->conn));
		return A_RETRY;
	}
	for (first = 0; first < total && rc == A_OK && !*stale; first += PIPE_CHUNK)
	{
		int			end = first + PIPE_CHUNK < total ? first + PIPE_CHUNK : total;

		for (j = first; j < end; j++)
			if (!send_one(s, item_index(j), last, bufs))
				break;
		if (j < end || !PQpipelineSync(s->conn))
		{
			snprintf(errbuf, errlen, "sending: %s", PQerrorMessage(s->conn));
			rc = A_RETRY;
			break;
		}
		for (j = first; j < end; j++)
			if (!read_one(s, item_index(j), stale, &rc, errbuf, errlen))
				goto out;
		res = PQgetResult(s->conn);
		if (!res || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		{
			if (rc == A_OK)
			{
				rc = A_RETRY;
				snprintf(errbuf, errlen, "pipeline out of step: %s", PQerrorMessage(s->conn));
			}
			PQclear(res);
			goto out;
		}
		PQclear(res);
	}
out:
	if (!PQexitPipelineMode(s->conn))
	{
		/* results still pending: the connection's state is unknown */
		PQfinish(s->conn);
		s->conn = NULL;
		return rc == A_OK ? A_RETRY : rc;
	}
	return rc;
}

/* Run BEGIN, the guarded position upsert and the statements.  A_OK with
 * *stale false leaves the transaction open for COMMIT. */
static attempt_rc
exec_statements(pgsink *s, const trib_position *last, bool *stale,
				char *errbuf, size_t errlen)
{
	char		bufs[4][32];
	attempt_rc	rc = A_OK;
	int			j;

	trib_lsn_format(last->commit_lsn, bufs[0], sizeof(bufs[0]));
	snprintf(bufs[1], sizeof(bufs[1]), "%" PRIu64,
			 last->seq > (uint64_t) INT64_MAX ? (uint64_t) INT64_MAX : last->seq);
	trib_lsn_format(last->end_lsn, bufs[2], sizeof(bufs[2]));
	trib_lsn_format(last->lsn, bufs[3], sizeof(bufs[3]));
	*stale = false;
	if (s->use_pipeline)
		return exec_pipelined(s, last, bufs, stale, errbuf, errlen);
	for (j = 0; j < s->nstmts + 2 && rc == A_OK && !*stale; j++)
	{
		if (!send_one(s, item_index(j), last, bufs))
		{
			snprintf(errbuf, errlen, "sending: %s", PQerrorMessage(s->conn));
			return A_RETRY;
		}
		if (!read_one(s, item_index(j), stale, &rc, errbuf, errlen))
			break;
	}
	return rc;
}

/* Roll back an open or failed transaction (best effort). */
static void
rollback(pgsink *s)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK &&
		PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		PQclear(PQexec(s->conn, "ROLLBACK"));
}

/* Free what a queued event owns. */
static void
entry_free(bentry *b)
{
	free(b->schema);
	free(b->table);
	free(b->before);
	free(b->after);
	free(b->key);
	free(b->unchanged);
	free(b->extra);
	free(b->pos.opaque);
}

/* Free every queued event. */
static void
queue_clear(pgsink *s)
{
	size_t		i;

	for (i = 0; i < s->nq; i++)
		entry_free(&s->q[i]);
	s->nq = 0;
}

/* Drop queued events at or before the stored position. */
static void
drop_covered(pgsink *s)
{
	size_t		i,
				keep = 0;

	if (!s->has_durable)
		return;
	for (i = 0; i < s->nq; i++)
	{
		if (pos_le(&s->q[i].pos, &s->durable))
		{
			entry_free(&s->q[i]);
			s->stats.skipped++;
			continue;
		}
		s->q[keep++] = s->q[i];
	}
	s->nq = keep;
}

/* One attempt at applying the queue. */
static attempt_rc
attempt(pgsink *s, char *errbuf, size_t errlen)
{
	size_t		i;
	bool		stale;
	attempt_rc	rc;
	PGresult   *res;

	if ((!s->conn || PQstatus(s->conn) != CONNECTION_OK) && !connect_db(s, errbuf, errlen))
		return A_RETRY;
	if (s->reload_position && !read_position(s, errbuf, errlen))
		return A_RETRY;
	drop_covered(s);
	if (s->nq == 0)
		return A_COVERED;
	for (i = 0; i < s->nq; i++)
	{
		const bentry *b = &s->q[i];

		if (b->op != TRIB_OP_TRUNCATE && b->op != TRIB_OP_MESSAGE &&
			!prepare_table(s, b, errbuf, errlen))
			return PQstatus(s->conn) == CONNECTION_OK ? A_FAIL : A_RETRY;
	}
	if (!build_batch(s, errbuf, errlen))
		return PQstatus(s->conn) == CONNECTION_OK ? A_FAIL : A_RETRY;
	rc = exec_statements(s, &s->q[s->nq - 1].pos, &stale, errbuf, errlen);
	if (rc != A_OK || stale)
	{
		rollback(s);
		s->reload_position = true;
		return rc != A_OK ? rc : A_STALE;
	}
	res = PQexec(s->conn, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		rc = classify(s, res);
		result_error(res, s->conn, "COMMIT", errbuf, errlen);
		PQclear(res);
		rollback(s);
		s->reload_position = true;
		return rc;
	}
	PQclear(res);
	s->stats.statements += (uint64_t) s->nstmts;
	return A_OK;
}

/* Apply the queue until committed or out of budget; acks on success. */
static bool
apply(trib_sink *sink, pgsink *s, char *errbuf, size_t errlen)
{
	long long	deadline = s->retry_ms < 0 ? -1 : now_ms() + s->retry_ms;
	int			backoff = 100;
	bool		schema_retried = false;
	trib_position last;

	if (s->failed)
	{
		snprintf(errbuf, errlen, "%s", s->failmsg);
		return false;
	}
	if (s->nq == 0)
		return true;
	last = s->q[s->nq - 1].pos;
	last.opaque = dup0(last.opaque);
	s->single_row = false;
	for (;;)
	{
		attempt_rc	rc = attempt(s, errbuf, errlen);

		if (rc == A_OK)
		{
			s->stats.batches++;
			queue_clear(s);
			free(s->durable.opaque);
			s->durable = last;	/* takes over last.opaque */
			s->has_durable = true;
			if (sink->ack)
				sink->ack(sink, &s->durable, sink->ack_arg);
			return true;
		}
		if (rc == A_COVERED)
		{
			/* the stored position (re-read) already covers the batch */
			if (sink->ack)
				sink->ack(sink, &last, sink->ack_arg);
			free(last.opaque);
			return true;
		}
		if (rc == A_SINGLE && !s->single_row)
		{
			s->single_row = true;
			continue;
		}
		if (rc == A_SCHEMA && !schema_retried)
		{
			schema_retried = true;
			tables_invalidate(s);
			continue;
		}
		if (rc == A_STALE)
		{
			s->stats.retries++;
			if (deadline < 0 || now_ms() < deadline)
				continue;
			snprintf(errbuf, errlen, "the stored position keeps moving past this batch "
					 "(another writer for pipeline %s, sink %s?)", s->pipeline, s->sink_name);
		}
		if (rc == A_RETRY && (deadline < 0 || now_ms() < deadline))
		{
			s->stats.retries++;
			tlog_warn("sink.postgres", "%s: %s; retrying in %d ms", s->sink_name, errbuf, backoff);
			usleep((useconds_t) backoff * 1000);
			backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
			if (!s->conn || PQstatus(s->conn) != CONNECTION_OK)
				s->stats.reconnects++;
			continue;
		}
		free(last.opaque);
		s->failed = true;
		snprintf(s->failmsg, sizeof(s->failmsg), "%s", errbuf);
		return false;
	}
}

/* ---- sink operations --------------------------------------------------- */

/* Defaults. */
void
trib_pgsink_opts_init(trib_pgsink_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->batch_size = 1000;
	opts->batch_ms = 100;
}

/* Free the state. */
static void
state_free(pgsink *s)
{
	tinfo	   *t;
	int			i;

	if (!s)
		return;
	queue_clear(s);
	free(s->q);
	free(s->durable.opaque);
	while ((t = s->tables) != NULL)
	{
		s->tables = t->next;
		tinfo_clear(t);
		free(t->schema);
		free(t->table);
		free(t->qname);
		free(t);
	}
	for (i = 0; i < s->stcap; i++)
	{
		trib_strbuf_free(&s->stmts[i].sql);
		free(s->stmts[i].voff);
		free(s->stmts[i].types);
		free(s->stmts[i].cols);
		free(s->stmts[i].keys);
	}
	free(s->stmts);
	trib_strbuf_free(&s->arena);
	trib_strbuf_free(&s->scratch);
	if (s->conn)
		PQfinish(s->conn);
	free(s->dsn);
	free(s->schema);
	free(s->pipeline);
	free(s->sink_name);
	free(s);
}

/* Connect and read the position. */
bool
trib_pgsink_open_opts(trib_sink *sink, const trib_pgsink_opts *opts,
					  char *errbuf, size_t errlen)
{
	pgsink	   *s;

	if (!opts || !opts->dsn)
	{
		snprintf(errbuf, errlen, "postgres sink: no dsn");
		return false;
	}
	s = trib_xcalloc(1, sizeof(*s));
	s->dsn = trib_xstrdup(opts->dsn);
	s->schema = opts->schema && opts->schema[0] ? trib_xstrdup(opts->schema) : NULL;
	s->pipeline = trib_xstrdup(opts->pipeline ? opts->pipeline : "default");
	s->sink_name = trib_xstrdup(opts->sink_name ? opts->sink_name :
								sink->name ? sink->name : "postgres");
	s->create_tables = opts->create_tables;
	s->batch_size = opts->batch_size > 0 ? opts->batch_size : 1000;
	s->batch_ms = opts->batch_ms >= 0 ? opts->batch_ms : 100;
	s->bytea_hex = opts->bytea_hex;
	s->retry_ms = opts->retry_ms == 0 ? 30000 : opts->retry_ms;
	s->max_rows = opts->max_rows > 0 ? opts->max_rows : 1000;
	s->mode = opts->mode;
	s->use_pipeline = !opts->no_pipeline;
	s->open_stmt = -1;
	if (!connect_db(s, errbuf, errlen))
	{
		state_free(s);
		return false;
	}
	sink->ops = &trib_sink_postgres_ops;
	sink->state = s;
	return true;
}

/* open() from a config section; the pipeline name is not known here
 * (sinks.c calls trib_pgsink_open_opts with it). */
static bool
pg_open(trib_sink *sink, const struct trib_sink_conf *conf,
		char *errbuf, size_t errlen)
{
	trib_pgsink_opts o;

	if (!conf)
	{
		snprintf(errbuf, errlen, "postgres sink: no configuration");
		return false;
	}
	trib_pgsink_opts_init(&o);
	o.dsn = conf->postgres.dsn;
	o.schema = conf->postgres.schema;
	o.create_tables = conf->postgres.create_tables;
	o.batch_size = conf->postgres.batch_size;
	o.batch_ms = conf->postgres.batch_ms;
	o.sink_name = conf->name;
	return trib_pgsink_open_opts(sink, &o, errbuf, errlen);
}

/* The stored position. */
static bool
pg_durable_position(trib_sink *sink, trib_position *out,
					char *errbuf, size_t errlen)
{
	pgsink	   *s = sink->state;

	(void) errbuf;
	(void) errlen;
	if (!s || !s->has_durable)
		return false;
	*out = s->durable;
	out->opaque = NULL;			/* the sink keeps it */
	return true;
}

/* Queue one event; apply when the batch is full or old. */
static bool
pg_write(trib_sink *sink, const trib_event *ev, char *errbuf, size_t errlen)
{
	pgsink	   *s = sink->state;
	bentry	   *b;
	long long	now;

	if (!s)
	{
		snprintf(errbuf, errlen, "postgres sink not open");
		return false;
	}
	if (s->failed)
	{
		snprintf(errbuf, errlen, "%s", s->failmsg);
		return false;
	}
	if (s->has_durable && pos_le(&ev->pos, &s->durable))
	{
		s->stats.skipped++;
		return true;
	}
	if ((ev->op == TRIB_OP_CREATE || ev->op == TRIB_OP_UPDATE || ev->op == TRIB_OP_READ ||
		 ev->op == TRIB_OP_DELETE) && !ev->table)
	{
		snprintf(errbuf, errlen, "postgres sink: a row change without a table");
		return false;
	}
	if (s->nq == s->qcap)
	{
		s->qcap = s->qcap ? s->qcap * 2 : 64;
		s->q = trib_xrealloc(s->q, sizeof(bentry) * s->qcap);
	}
	b = &s->q[s->nq++];
	memset(b, 0, sizeof(*b));
	b->op = ev->op;
	b->schema = trib_xstrdup(s->schema ? s->schema : ev->schema ? ev->schema : "public");
	b->table = dup0(ev->table);
	b->before = dup0(ev->before);
	b->after = dup0(ev->after);
	b->key = dup0(ev->key);
	b->unchanged = dup0(ev->unchanged);
	b->extra = dup0(ev->extra);
	b->rel = ev->rel;
	b->pos = ev->pos;
	b->pos.opaque = dup0(ev->pos.opaque);
	s->stats.events++;
	now = now_ms();
	if (s->nq == 1)
		s->first_ms = now;
	if ((int) s->nq >= s->batch_size || now - s->first_ms >= s->batch_ms)
		return apply(sink, s, errbuf, errlen);
	return true;
}

/* Apply everything queued. */
static bool
pg_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	pgsink	   *s = sink->state;

	(void) timeout_ms;
	if (!s)
	{
		snprintf(errbuf, errlen, "postgres sink not open");
		return false;
	}
	return apply(sink, s, errbuf, errlen);
}

/* Apply a batch whose oldest event waited batch_ms. */
static void
pg_poll(trib_sink *sink, int timeout_ms)
{
	pgsink	   *s = sink->state;
	char		e[1024];

	(void) timeout_ms;
	if (!s || s->failed || s->nq == 0 || now_ms() - s->first_ms < s->batch_ms)
		return;
	if (!apply(sink, s, e, sizeof(e)))
		tlog_error("sink.postgres", "%s: %s", s->sink_name, e);
}

/* Apply what is queued (best effort) and release everything. */
static void
pg_close(trib_sink *sink)
{
	pgsink	   *s = sink->state;
	char		e[1024];

	if (!s)
		return;
	if (!s->failed && s->nq > 0 && !apply(sink, s, e, sizeof(e)))
		tlog_error("sink.postgres", "%s: %s", s->sink_name, e);
	state_free(s);
	sink->state = NULL;
}

/* Counters. */
void
trib_pgsink_get_stats(const trib_sink *sink, trib_pgsink_stats *out)
{
	const pgsink *s = sink->state;

	memset(out, 0, sizeof(*out));
	if (s)
		*out = s->stats;
}
