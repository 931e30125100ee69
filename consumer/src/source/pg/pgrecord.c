/*
 * pgrecord.c: the record parser: one tributary plugin record -> a
 * trib_pgrec (and trib_event).
 *
 * Design.  A record is parsed in one pass with yajl's streaming parser
 * (TRIB_YTOK_CALLBACKS of lib/yajl_tokens.h turns yajl's nine callbacks
 * into the four handlers here, on_scalar, on_key, on_open and on_end,
 * called directly: this is every PostgreSQL event's hot path).  The
 * handlers know only four levels: the record object (depth 1), the value
 * of one of its fields (depth 2: members of a row image, elements of
 * "columns", "relations" and name lists), and the members of a column or
 * relation object (depth 3).  Deeper values (inside a jsonb column, say)
 * are skipped but still validated by yajl.  For each field the parser
 * records the byte span of its value in the input, using
 * yajl_get_bytes_consumed(): yajl reports, inside a callback, the offset just
 * past the token it is reporting.  Row images, unchanged_toast, the JSON
 * null lists (json_nulls, old_json_nulls: validated as the plugin writes
 * them, column names and [name, positions...]), message content and
 * truncate relations are then copied out byte for byte, and the
 * event key is built from the raw members ("name":value) of the image, so
 * no value is ever re-formatted.
 *
 * After the parse, a table of required fields per kind checks the record
 * (presence and JSON type), and the record is built.  Every failure path
 * frees what was allocated and reports the reason in errbuf.
 *
 * Relation records go to the relation cache (pgrelcache.c), which every
 * change consults for its key columns; the records then go through the
 * transaction assembler (pgasm.c).
 */
#include "pgrecord.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_parse.h>

#include "arena.h"
#include "errf.h"
#include "intern.h"
#include "isodate.h"
#include "pgrelcache.h"
#include "xalloc.h"
#include "yajl_tokens.h"

/* ---------------------------------------------------------------------- */
/* small helpers */

/* Parse a non-negative decimal integer of n bytes, at most max. */
static bool
parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (n == 0 || n > 20)
		return false;
	for (i = 0; i < n; i++)
	{
		unsigned	c = (unsigned char) s[i] - '0';

		if (c > 9 || v > (max - c) / 10)
			return false;
		v = v * 10 + c;
	}
	*out = v;
	return true;
}

/* Read exactly `w` digits at s[*i]. */
static bool
digits(const char *s, size_t n, size_t *i, int w, int *out)
{
	int			v = 0,
				k;

	for (k = 0; k < w; k++)
	{
		if (*i >= n || s[*i] < '0' || s[*i] > '9')
			return false;
		v = v * 10 + (s[(*i)++] - '0');
	}
	*out = v;
	return true;
}

/* Parse the plugin's "YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z" into ms and us since
 * the epoch (PostgreSQL's commit timestamps have microseconds; *ms is
 * *us rounded down to the millisecond). */
static bool
parse_ts(const char *s, size_t n, int64_t *ms, int64_t *us)
{
	size_t		i = 0;
	int			neg = 0,
				ydig = 0,
				mo,
				d,
				h,
				mi,
				se;
	int64_t		y = 0,
				frac_us = 0,
				secs,
				scale = 100000;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	while (i < n && s[i] >= '0' && s[i] <= '9' && ydig < 7)
	{
		y = y * 10 + (s[i++] - '0');
		ydig++;
	}
	if (ydig < 4 || i >= n || s[i++] != '-' ||
		!digits(s, n, &i, 2, &mo) || i >= n || s[i++] != '-' ||
		!digits(s, n, &i, 2, &d) || i >= n || s[i++] != 'T' ||
		!digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' ||
		!digits(s, n, &i, 2, &mi) || i >= n || s[i++] != ':' ||
		!digits(s, n, &i, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	if (i < n && s[i] == '.')
	{
		int			fd = 0;

		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++)
		{
			if (fd >= 6)
				return false;
			frac_us += (s[i] - '0') * scale;
			scale /= 10;
		}
		if (fd == 0)
			return false;
	}
	if (i + 1 != n || s[i] != 'Z')
		return false;
	if (neg)
		y = -y;
	secs = trib_isodate_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	*ms = secs * 1000 + frac_us / 1000;
	*us = secs * 1000000 + frac_us;
	return true;
}

/* ---------------------------------------------------------------------- */
/* record kinds and fields */

static const char *const kind_names[] = {
	"begin", "commit", "relation", "insert", "update", "delete", "truncate",
	"message", "stream_start", "stream_stop", "stream_abort", "stream_commit",
	"stream_prepare", "begin_prepare", "prepare", "commit_prepared",
	"rollback_prepared"
};

#define NKINDS ((int) TRIB_PGREC_ROLLBACK_PREPARED + 1)
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == NKINDS,
			   "a name per record kind");

/* Name of a record kind. */
const char *
trib_pgrec_kind_name(trib_pgrec_kind kind)
{
	return ((int) kind >= 0 && (int) kind < NKINDS) ? kind_names[kind] : "?";
}

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

static const char *const field_names[NFIELDS] = {
	"kind", "xid", "subxid", "commit_lsn", "ts", "lsn", "seq", "relid",
	"schema", "table", "replica_identity", "columns", "primary_key",
	"identity_key", "old", "new", "unchanged_toast", "relations", "cascade",
	"restart_identity", "transactional", "prefix", "encoding", "content",
	"end_lsn", "changes", "gid", "first", "next_seq", "discard",
	"discard_through_seq", "json_nulls", "old_json_nulls"
};

/* strlen of each field name, filled once by init_specs(). */
static size_t field_len[NFIELDS];

/* JSON types; a field's value has one. */
enum
{
	J_NONE, J_NULL, J_BOOL, J_NUMBER, J_STRING, J_OBJECT, J_ARRAY
};

static const char *const jtype_names[] = {
	"missing", "null", "a boolean", "a number", "a string", "an object",
	"an array"
};

/* Type requirements per kind: R = required, O = optional, with a type. */
#define R(t) (0x10 | (t))
#define O(t) (0x20 | (t))
#define OBJ_OR_NULL 0x40		/* old: object or null */

typedef struct kind_spec
{
	unsigned char f[NFIELDS];
} kind_spec;

/* Fill the requirement table once. */
static kind_spec specs[NKINDS];
static bool specs_ready;

/* Build specs[]: which fields each kind requires or allows, and types. */
static void
init_specs(void)
{
	int			k;

	if (specs_ready)
		return;
	for (k = 0; k < NFIELDS; k++)
		field_len[k] = strlen(field_names[k]);
	memset(specs, 0, sizeof(specs));
	for (k = 0; k < NKINDS; k++)
	{
		specs[k].f[F_KIND] = R(J_STRING);
		specs[k].f[F_XID] = R(J_NUMBER);
		specs[k].f[F_TS] = O(J_STRING);
		specs[k].f[F_GID] = O(J_STRING);
	}
#define S(kind, field, req) specs[TRIB_PGREC_##kind].f[F_##field] = (req)
	S(BEGIN, COMMIT_LSN, R(J_STRING));
	S(COMMIT, COMMIT_LSN, R(J_STRING));
	S(COMMIT, END_LSN, R(J_STRING));
	S(COMMIT, CHANGES, R(J_NUMBER));
	S(RELATION, COMMIT_LSN, O(J_STRING));
	S(RELATION, LSN, R(J_STRING));
	S(RELATION, RELID, R(J_NUMBER));
	S(RELATION, SCHEMA, R(J_STRING));
	S(RELATION, TABLE, R(J_STRING));
	S(RELATION, REPLICA_IDENTITY, R(J_STRING));
	S(RELATION, COLUMNS, R(J_ARRAY));
	S(RELATION, PRIMARY_KEY, R(J_ARRAY));
	S(RELATION, IDENTITY_KEY, R(J_ARRAY));
	for (k = TRIB_PGREC_INSERT; k <= TRIB_PGREC_MESSAGE; k++)
	{
		specs[k].f[F_SUBXID] = O(J_NUMBER);
		specs[k].f[F_COMMIT_LSN] = O(J_STRING);
		specs[k].f[F_LSN] = R(J_STRING);
		specs[k].f[F_SEQ] = R(J_NUMBER);
		if (k != TRIB_PGREC_TRUNCATE && k != TRIB_PGREC_MESSAGE)
		{
			specs[k].f[F_SCHEMA] = R(J_STRING);
			specs[k].f[F_TABLE] = R(J_STRING);
		}
	}
	S(INSERT, NEW, R(J_OBJECT));
	S(UPDATE, OLD, R(OBJ_OR_NULL));
	S(UPDATE, NEW, R(J_OBJECT));
	S(DELETE, OLD, R(OBJ_OR_NULL));
	S(INSERT, UNCHANGED_TOAST, O(J_ARRAY));
	S(UPDATE, UNCHANGED_TOAST, O(J_ARRAY));
	S(INSERT, JSON_NULLS, O(J_ARRAY));
	S(UPDATE, JSON_NULLS, O(J_ARRAY));
	S(UPDATE, OLD_JSON_NULLS, O(J_ARRAY));
	S(DELETE, OLD_JSON_NULLS, O(J_ARRAY));
	S(TRUNCATE, RELATIONS, R(J_ARRAY));
	S(TRUNCATE, CASCADE, R(J_BOOL));
	S(TRUNCATE, RESTART_IDENTITY, R(J_BOOL));
	S(MESSAGE, TRANSACTIONAL, R(J_BOOL));
	S(MESSAGE, PREFIX, R(J_STRING));
	S(MESSAGE, ENCODING, R(J_STRING));
	S(MESSAGE, CONTENT, R(J_STRING));
	S(STREAM_START, FIRST, R(J_BOOL));
	S(STREAM_ABORT, SUBXID, O(J_NUMBER));
	S(STREAM_ABORT, LSN, R(J_STRING));
	S(STREAM_ABORT, NEXT_SEQ, O(J_NUMBER));
	for (k = TRIB_PGREC_STREAM_COMMIT; k <= TRIB_PGREC_STREAM_PREPARE; k++)
	{
		specs[k].f[F_COMMIT_LSN] = R(J_STRING);
		specs[k].f[F_END_LSN] = R(J_STRING);
		specs[k].f[F_CHANGES] = R(J_NUMBER);
		specs[k].f[F_DISCARD] = O(J_BOOL);
		specs[k].f[F_DISCARD_THROUGH_SEQ] = O(J_NUMBER);
	}
	S(STREAM_PREPARE, GID, R(J_STRING));
	S(BEGIN_PREPARE, COMMIT_LSN, R(J_STRING));
	S(BEGIN_PREPARE, GID, R(J_STRING));
	S(PREPARE, COMMIT_LSN, R(J_STRING));
	S(PREPARE, END_LSN, R(J_STRING));
	S(PREPARE, CHANGES, R(J_NUMBER));
	S(PREPARE, GID, R(J_STRING));
	for (k = TRIB_PGREC_COMMIT_PREPARED; k <= TRIB_PGREC_ROLLBACK_PREPARED; k++)
	{
		specs[k].f[F_COMMIT_LSN] = R(J_STRING);
		specs[k].f[F_END_LSN] = R(J_STRING);
		specs[k].f[F_GID] = R(J_STRING);
	}
#undef S
	specs_ready = true;
}

/* ---------------------------------------------------------------------- */
/* the parser and its relation cache */

/* A member of a row image: raw "name":value is text[kstart, vend). */
typedef struct member
{
	size_t		kstart;
	size_t		vend;
	const char *name;			/* nlen bytes, in the record or the arena */
	size_t		nlen;
} member;

typedef struct memberlist
{
	member	   *m;
	size_t		n;
	size_t		cap;
} memberlist;

struct trib_pgparser
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
	/* schema and table names that events point to (event.h) */
	trib_intern *names;
	/* the last ts and commit_lsn parsed: every record of a transaction
	 * repeats them */
	char		last_ts[40];
	size_t		last_ts_len;
	int64_t		last_ts_ms;
	int64_t		last_ts_us;
	char		last_clsn[TRIB_LSN_BUFLEN];
	size_t		last_clsn_len;
	uint64_t	last_clsn_val;
	memberlist	img[2];
};

/* A new parser. */
trib_pgparser *
trib_pgparser_new(const char *source, const char *db)
{
	trib_pgparser *p = trib_xmalloc(sizeof(*p));

	memset(p, 0, sizeof(*p));
	p->source = trib_xstrdup(source);
	p->db = trib_xstrdup(db);
	p->rels = trib_pgrelcache_new();
	trib_arena_init(&p->scratch, 0);
	p->names = trib_intern_new();
	trib_arena_yajl_funcs(&p->scratch, &p->yaf);
	init_specs();
	return p;
}

/* Free the parser and its relation cache. */
void
trib_pgparser_free(trib_pgparser *p)
{
	if (!p)
		return;
	trib_pgrelcache_free(p->rels);
	free(p->img[0].m);
	free(p->img[1].m);
	trib_arena_free(&p->scratch);
	trib_intern_free(p->names);
	free(p->source);
	free(p->db);
	free(p);
}

/* The entry of schema.table, or NULL. */
const trib_pgrel *
trib_pgparser_relation(const trib_pgparser *p, const char *schema,
					   const char *table)
{
	return p ? trib_pgrelcache_find(p->rels, schema, table) : NULL;
}

/* ---------------------------------------------------------------------- */
/* the streaming parse */

typedef struct strlist
{
	char	  **v;
	size_t		n;
	size_t		cap;
} strlist;

/* A field's value as seen during the parse. */
typedef struct field
{
	int			type;			/* J_* */
	size_t		start;			/* span of the value in the input */
	size_t		end;
	char	   *str;			/* strings: decoded copy */
	size_t		slen;
	bool		b;
} field;

/* Column-object members (depth 3 under "columns"). */
enum
{
	C_NAME, C_TYPE, C_TYPE_OID, C_TYPMOD, C_NULLABLE, C_PK, C_IDENTITY,
	NCOLF, C_UNKNOWN = NCOLF
};
static const char *const colf_names[NCOLF] = {
	"name", "type", "type_oid", "typmod", "nullable", "pk", "identity"
};

typedef struct pstate
{
	trib_arena *arena;			/* strings and names of this parse */
	const char *text;
	size_t		len;
	yajl_handle h;
	int			depth;
	int			topkey;			/* F_* of the current top-level member */
	size_t		after_key;		/* offset after the last top-level key */
	field		f[NFIELDS];
	/* depth 2 */
	size_t		prev_end;		/* end of the last depth-2 token of an image */
	memberlist	img[2];			/* 0 old, 1 new */
	strlist		names[3];		/* primary_key, identity_key, unchanged_toast */
	size_t		nelems;			/* elements of columns/relations seen */
	size_t		njn[2];			/* entries of json_nulls, old_json_nulls */
	size_t		jn_elems;		/* elements of the current ["col", i...] */
	/* depth 3 (columns / relations elements) */
	int			subkey;
	unsigned	seen;			/* bitmask of members seen in the element */
	trib_pgcol *cols;
	size_t		ncols;
	size_t		capcols;
	char		err[256];
} pstate;

/* Record a parse error (the first one wins) and stop yajl. */
static int
perr(pstate *st, const char *fmt,...)
{
	va_list		ap;

	if (!st->err[0])
	{
		va_start(ap, fmt);
		vsnprintf(st->err, sizeof(st->err), fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* Offset just past the token yajl is reporting. */
static size_t
here(pstate *st)
{
	return yajl_get_bytes_consumed(st->h);
}

/* Skip JSON whitespace from i. */
static size_t
skip_ws(const pstate *st, size_t i)
{
	while (i < st->len && (st->text[i] == ' ' || st->text[i] == '\t' ||
						   st->text[i] == '\n' || st->text[i] == '\r'))
		i++;
	return i;
}

/* Start of a scalar value that follows a key ending at k ("key" : value). */
static size_t
value_start(const pstate *st, size_t k)
{
	size_t		i = skip_ws(st, k);

	if (i < st->len && st->text[i] == ':')
		i++;
	return skip_ws(st, i);
}

/* Is the current top-level member a row image?  Returns 0/1, or -1. */
static int
image_index(int topkey)
{
	return topkey == F_OLD ? 0 : topkey == F_NEW ? 1 : -1;
}

/* Is the current top-level member a JSON null list?  Returns 0 for
 * json_nulls (the new image), 1 for old_json_nulls, or -1. */
static int
json_nulls_index(const pstate *st)
{
	int			jn = st->topkey == F_JSON_NULLS ? 0 :
		st->topkey == F_OLD_JSON_NULLS ? 1 : -1;

	return jn >= 0 && st->f[st->topkey].type == J_ARRAY ? jn : -1;
}

/*
 * A value inside a JSON null list (docs/PLUGIN.md): at depth 2 an entry,
 * a column name or ["column", i, ...]; at depth 3 an element of such an
 * entry, the name and then positions (non-negative integers).
 */
static int
on_json_nulls_value(pstate *st, int jn, int type, const char *s, size_t n)
{
	uint64_t	v;

	if (st->depth == 2)
	{
		if (type != J_STRING && type != J_ARRAY)
			return perr(st, "\"%s\" entries must be column names or [name, positions...]",
						field_names[st->topkey]);
		if (type == J_STRING && memchr(s, '\0', n))
			return perr(st, "\"%s\" holds a name with a NUL character",
						field_names[st->topkey]);
		st->njn[jn]++;
		st->jn_elems = 0;
		return 1;
	}
	if (st->jn_elems++ == 0)
		return type == J_STRING && !memchr(s, '\0', n) ? 1 :
			perr(st, "a \"%s\" array entry must start with a column name",
				 field_names[st->topkey]);
	if (type != J_NUMBER || !parse_uint(s, n, INT32_MAX, &v))
		return perr(st, "\"%s\": element positions must be integers from 0 to %d",
					field_names[st->topkey], INT32_MAX);
	return 1;
}

/* The name list of the current top-level member, or NULL. */
static strlist *
name_list(pstate *st)
{
	switch (st->topkey)
	{
		case F_PRIMARY_KEY:
			return &st->names[0];
		case F_IDENTITY_KEY:
			return &st->names[1];
		case F_UNCHANGED_TOAST:
			return &st->names[2];
		default:
			return NULL;
	}
}

/*
 * A member value of a "columns" or "relations" element (depth 3).  Numbers
 * arrive as their text in s/n.
 */
static int
on_element_member(pstate *st, int type, const char *s, size_t n, bool b)
{
	trib_pgcol *c;
	uint64_t	v;

	if (type == J_OBJECT || type == J_ARRAY)
		return perr(st, "unexpected nesting in \"%s\"", field_names[st->topkey]);
	if (st->topkey == F_RELATIONS)
	{
		/* subkey 0 schema, 1 table */
		if (st->subkey <= 1)
		{
			if (type != J_STRING)
				return perr(st, "\"relations\": schema and table must be strings");
			st->seen |= 1u << st->subkey;
		}
		return 1;
	}
	if (st->subkey == C_UNKNOWN)
		return 1;
	c = &st->cols[st->ncols - 1];
	st->seen |= 1u << st->subkey;
	switch (st->subkey)
	{
		case C_NAME:
		case C_TYPE:
			if (type != J_STRING || memchr(s, '\0', n))
				return perr(st, "column %s must be a string without NUL",
							colf_names[st->subkey]);
			if (st->subkey == C_NAME)
				c->name = trib_xstrndup(s, n);
			else
				c->type = trib_xstrndup(s, n);
			return 1;
		case C_TYPE_OID:
			if (type != J_NUMBER || !parse_uint(s, n, UINT32_MAX, &v))
				return perr(st, "column type_oid must be an oid");
			c->type_oid = (uint32_t) v;
			return 1;
		case C_TYPMOD:
			{
				bool		neg = type == J_NUMBER && n > 0 && s[0] == '-';

				if (type != J_NUMBER ||
					!parse_uint(s + neg, n - neg, neg ? 2147483648u : INT32_MAX, &v))
					return perr(st, "column typmod must be a 32-bit integer");
				c->typmod = neg ? (int32_t) (-(int64_t) v) : (int32_t) v;
				return 1;
			}
		default:
			if (type != J_BOOL)
				return perr(st, "column %s must be a boolean", colf_names[st->subkey]);
			if (st->subkey == C_NULLABLE)
				c->nullable = b;
			else if (st->subkey == C_PK)
				c->pk = b;
			else
				c->identity = b;
			return 1;
	}
}

/*
 * A value begins (scalar, or the opening of a container) at the current
 * depth.  `type` is its J_* type; for strings s/n is the decoded text.
 * Returns 0 to stop the parse.
 */
static int
on_value(pstate *st, int type, const char *s, size_t n, bool b)
{
	bool		container = (type == J_OBJECT || type == J_ARRAY);
	size_t		end = here(st);

	if (st->depth == 0)
		return type == J_OBJECT ? 1 : perr(st, "record is not a JSON object");

	if (st->depth == 1)
	{
		field	   *f;

		if (st->topkey == F_UNKNOWN)
			return 1;
		f = &st->f[st->topkey];
		f->type = type;
		f->start = container ? end - 1 : value_start(st, st->after_key);
		f->end = end;
		f->b = b;
		if (type == J_STRING)
		{
			f->str = trib_arena_strndup(st->arena, s, n);
			f->slen = n;
		}
		if (image_index(st->topkey) >= 0 && type == J_OBJECT)
			st->prev_end = end;
		return 1;
	}

	if (st->depth == 2)
	{
		int			img = image_index(st->topkey);
		strlist    *nl = name_list(st);
		int			jn = json_nulls_index(st);

		if (jn >= 0)
			return on_json_nulls_value(st, jn, type, s, n);
		if (img >= 0 && st->f[st->topkey].type == J_OBJECT)
		{
			/* A member value of a row image; containers end in on_close. */
			if (!container)
			{
				memberlist *ml = &st->img[img];

				ml->m[ml->n - 1].vend = end;
				st->prev_end = end;
			}
			return 1;
		}
		if (nl && st->f[st->topkey].type == J_ARRAY)
		{
			if (type != J_STRING)
				return perr(st, "\"%s\" must hold only strings",
							field_names[st->topkey]);
			if (nl->n == nl->cap)
			{
				nl->cap = nl->cap ? nl->cap * 2 : 8;
				nl->v = trib_xrealloc(nl->v, nl->cap * sizeof(char *));
			}
			if (memchr(s, '\0', n))
				return perr(st, "\"%s\" holds a name with a NUL character",
							field_names[st->topkey]);
			nl->v[nl->n++] = trib_xstrndup(s, n);
			return 1;
		}
		if ((st->topkey == F_COLUMNS || st->topkey == F_RELATIONS) &&
			st->f[st->topkey].type == J_ARRAY)
		{
			if (type != J_OBJECT)
				return perr(st, "\"%s\" must hold only objects",
							field_names[st->topkey]);
			st->nelems++;
			st->seen = 0;
			st->subkey = C_UNKNOWN;
			if (st->topkey == F_COLUMNS)
			{
				if (st->ncols == st->capcols)
				{
					st->capcols = st->capcols ? st->capcols * 2 : 16;
					st->cols = trib_xrealloc(st->cols, st->capcols * sizeof(trib_pgcol));
				}
				memset(&st->cols[st->ncols++], 0, sizeof(trib_pgcol));
			}
			return 1;
		}
		return 1;
	}

	if (st->depth == 3 &&
		(st->topkey == F_COLUMNS || st->topkey == F_RELATIONS) &&
		st->f[st->topkey].type == J_ARRAY)
		return on_element_member(st, type, s, n, b);
	if (st->depth == 3 && json_nulls_index(st) >= 0)
		return on_json_nulls_value(st, json_nulls_index(st), type, s, n);
	return 1;
}

/* A container closes; depth is already decremented. */
static int
on_close(pstate *st)
{
	size_t		end = here(st);

	if (st->depth == 1 && st->topkey != F_UNKNOWN)
		st->f[st->topkey].end = end;
	else if (st->depth == 2)
	{
		int			img = image_index(st->topkey);

		if (img >= 0 && st->f[st->topkey].type == J_OBJECT)
		{
			memberlist *ml = &st->img[img];

			ml->m[ml->n - 1].vend = end;
			st->prev_end = end;
		}
		else if (st->topkey == F_COLUMNS && st->f[F_COLUMNS].type == J_ARRAY)
		{
			if ((st->seen & ((1u << NCOLF) - 1)) != (1u << NCOLF) - 1)
				return perr(st, "column %zu lacks a member (name, type, type_oid, typmod, nullable, pk, identity)",
							st->ncols);
		}
		else if (st->topkey == F_RELATIONS && st->f[F_RELATIONS].type == J_ARRAY)
		{
			if (st->seen != 3)
				return perr(st, "\"relations\" element lacks schema or table");
		}
		else if (json_nulls_index(st) >= 0 && st->jn_elems < 2)
			return perr(st, "a \"%s\" array entry needs a column name and positions",
						field_names[st->topkey]);
	}
	return 1;
}

/* A scalar token (lib/yajl_tokens.c) as a value of the parser's J_*
 * type; null and booleans carry no text here, as on_value expects. */
static int
on_scalar(void *ctx, yajl_type type, const char *s, size_t n)
{
	switch (type)
	{
		case yajl_t_string:
			return on_value(ctx, J_STRING, s, n, false);
		case yajl_t_number:
			return on_value(ctx, J_NUMBER, s, n, false);
		case yajl_t_true:
		case yajl_t_false:
			return on_value(ctx, J_BOOL, NULL, 0, type == yajl_t_true);
		default:
			return on_value(ctx, J_NULL, NULL, 0, false);
	}
}

/* An object or array opens: a value at this depth, then one level down. */
static int
on_open(void *ctx, bool array)
{
	pstate	   *st = ctx;

	if (!on_value(st, array ? J_ARRAY : J_OBJECT, NULL, 0, false))
		return 0;
	st->depth++;
	return 1;
}

/* An object or array closes: one level up, then on_close. */
static int
on_end(void *ctx, bool array)
{
	pstate	   *st = ctx;

	(void) array;
	st->depth--;
	return on_close(st);
}

/* A key at some depth. */
static int
on_key(void *ctx, const unsigned char *key, size_t n)
{
	pstate	   *st = ctx;
	int			i;

	if (st->depth == 1)
	{
		st->topkey = F_UNKNOWN;
		for (i = 0; i < NFIELDS; i++)
			if (field_len[i] == n && field_names[i][0] == (char) key[0] &&
				memcmp(field_names[i], key, n) == 0)
			{
				if (st->f[i].type != J_NONE)
					return perr(st, "duplicate field \"%s\"", field_names[i]);
				st->topkey = i;
				break;
			}
		st->after_key = here(st);
		return 1;
	}
	if (st->depth == 2)
	{
		int			img = image_index(st->topkey);

		if (img >= 0 && st->f[st->topkey].type == J_OBJECT)
		{
			memberlist *ml = &st->img[img];
			size_t		k = skip_ws(st, st->prev_end);

			if (k < st->len && st->text[k] == ',')
				k = skip_ws(st, k + 1);
			if (k >= st->len || st->text[k] != '"')
				return perr(st, "internal: cannot locate a member of \"%s\"",
							field_names[st->topkey]);
			if (ml->n == ml->cap)
			{
				ml->cap = ml->cap ? ml->cap * 2 : 16;
				ml->m = trib_xrealloc(ml->m, ml->cap * sizeof(member));
			}
			ml->m[ml->n].kstart = k;
			ml->m[ml->n].vend = 0;
			/* the name as written when it has no escapes (not
			 * NUL-terminated: nlen counts), else a decoded copy */
			/* (yajl hands an unescaped key as a pointer into the input:
			 * then no comparison is needed) */
			if (k + n + 2 <= st->len && st->text[k + 1 + n] == '"' &&
				((const char *) key == st->text + k + 1 ||
				 memcmp(st->text + k + 1, key, n) == 0))
				ml->m[ml->n].name = st->text + k + 1;
			else
				ml->m[ml->n].name = trib_arena_strndup(st->arena, (const char *) key, n);
			ml->m[ml->n].nlen = n;
			ml->n++;
		}
		return 1;
	}
	if (st->depth == 3)
	{
		st->subkey = C_UNKNOWN;
		if (st->topkey == F_RELATIONS)
		{
			if (n == 6 && memcmp(key, "schema", 6) == 0)
				st->subkey = 0;
			else if (n == 5 && memcmp(key, "table", 5) == 0)
				st->subkey = 1;
			if (st->subkey <= 1 && (st->seen & (1u << st->subkey)))
				return perr(st, "duplicate member in \"relations\"");
		}
		else if (st->topkey == F_COLUMNS)
		{
			for (i = 0; i < NCOLF; i++)
				if (strlen(colf_names[i]) == n && memcmp(colf_names[i], key, n) == 0)
				{
					if (st->seen & (1u << i))
						return perr(st, "duplicate column member \"%s\"",
									colf_names[i]);
					st->subkey = i;
					break;
				}
		}
	}
	return 1;
}

/* yajl's callbacks, calling the four handlers directly (hot path). */
TRIB_YTOK_CALLBACKS(record_callbacks, on_scalar, on_key, on_open, on_end);

/*
 * Free everything the parse state owns.  Field strings and member names
 * are in the arena (reset by the caller); the member arrays go back to
 * the parser for the next record.
 */
static void
pstate_clear(trib_pgparser *p, pstate *st)
{
	size_t		i;
	int			k;

	for (k = 0; k < 2; k++)
	{
		p->img[k] = st->img[k];
		p->img[k].n = 0;
	}
	for (k = 0; k < 3; k++)
		trib_pgrelcache_free_strv(st->names[k].v, st->names[k].n);
	for (i = 0; i < st->ncols; i++)
	{
		free(st->cols[i].name);
		free(st->cols[i].type);
	}
	free(st->cols);
}

/* ---------------------------------------------------------------------- */
/* building records */

/* A change record and its event, allocated together (trib_pgrec.ev_inline). */
typedef struct recblock
{
	trib_pgrec	rec;
	trib_event	ev;
} recblock;

/* Raw text of a field's value, as a new string. */
static char *
raw_copy(const pstate *st, int f)
{
	return trib_xstrndup(st->text + st->f[f].start, st->f[f].end - st->f[f].start);
}

/* A field's decoded string; it must not contain NUL. */
static bool
field_cstr(const pstate *st, int f, const char **out, char *errbuf, size_t errlen)
{
	if (memchr(st->f[f].str, '\0', st->f[f].slen))
		return trib_errf(errbuf, errlen, "field \"%s\" contains a NUL character",
						 field_names[f]);
	*out = st->f[f].str;
	return true;
}

/* A numeric field as an unsigned integer no larger than max. */
static bool
field_uint(const pstate *st, int f, uint64_t max, uint64_t *out,
		   char *errbuf, size_t errlen)
{
	if (!parse_uint(st->text + st->f[f].start, st->f[f].end - st->f[f].start,
					max, out))
		return trib_errf(errbuf, errlen, "field \"%s\" is not an integer from 0 to %" PRIu64,
						 field_names[f], max);
	return true;
}

/* An LSN field. */
static bool
field_lsn(const pstate *st, int f, uint64_t *out, char *errbuf, size_t errlen)
{
	if (!trib_lsn_parse_n(st->f[f].str, st->f[f].slen, out))
		return trib_errf(errbuf, errlen, "field \"%s\" is not an LSN (X/Y): \"%.40s\"",
						 field_names[f], st->f[f].str);
	return true;
}

/* Check presence and types of fields against the kind's spec. */
static bool
check_spec(const pstate *st, int kind, char *errbuf, size_t errlen)
{
	int			k;

	for (k = 0; k < NFIELDS; k++)
	{
		unsigned	req = specs[kind].f[k];
		int			want = req & ~0x30u;
		int			have = st->f[k].type;

		if (!req)
			continue;
		if (have == J_NONE)
		{
			if (req & 0x10)
				return trib_errf(errbuf, errlen, "%s record lacks field \"%s\"",
								 kind_names[kind], field_names[k]);
			continue;
		}
		if (want == OBJ_OR_NULL ? (have != J_OBJECT && have != J_NULL) : have != want)
			return trib_errf(errbuf, errlen, "field \"%s\" of a %s record must be %s, not %s",
							 field_names[k], kind_names[kind],
							 want == OBJ_OR_NULL ? "an object or null" : jtype_names[want],
							 jtype_names[have]);
	}
	return true;
}

/* Find a member by name in an image; NULL if absent. */
static const member *
find_member(const memberlist *ml, const char *name)
{
	size_t		i,
				n = strlen(name);

	for (i = 0; i < ml->n; i++)
		if (ml->m[i].nlen == n && memcmp(ml->m[i].name, name, n) == 0)
			return &ml->m[i];
	return NULL;
}

/* {"k1":v1,...} from the raw members of an image, or NULL if one is missing. */
static char *
build_key(const pstate *st, const trib_pgrel *rel, const memberlist *ml)
{
	size_t		i,
				len = 2;
	char	   *out,
			   *p;
	const member *small[16];
	const member **ms = small;

	if (!rel || rel->nkey == 0 || ml->n == 0)
		return NULL;
	if (rel->nkey > sizeof(small) / sizeof(small[0]))
		ms = trib_xmalloc(rel->nkey * sizeof(*ms));
	for (i = 0; i < rel->nkey; i++)
	{
		ms[i] = find_member(ml, rel->key[i]);
		if (!ms[i])
		{
			if (ms != small)
				free(ms);
			return NULL;
		}
		len += ms[i]->vend - ms[i]->kstart + 1;
	}
	p = out = trib_xmalloc(len + 1);
	*p++ = '{';
	for (i = 0; i < rel->nkey; i++)
	{
		if (i > 0)
			*p++ = ',';
		memcpy(p, st->text + ms[i]->kstart, ms[i]->vend - ms[i]->kstart);
		p += ms[i]->vend - ms[i]->kstart;
	}
	*p++ = '}';
	*p = '\0';
	if (ms != small)
		free(ms);
	return out;
}

/* Build the event of a change record. */
static bool
build_event(trib_pgparser *p, pstate *st, trib_pgrec *rec,
			char *errbuf, size_t errlen)
{
	trib_event *ev = rec->ev;	/* zeroed, inside the record's block */
	const char *schema = NULL,
			   *table = NULL;

	/* naming strings are borrowed from the parser (event.h) */
	ev->source = p->source;
	ev->connector = "postgresql";
	ev->db = p->db;
	ev->txid = rec->xid;
	ev->ts_ms = rec->ts_ms;
	ev->ts_us = rec->ts_us;
	ev->pos.commit_lsn = rec->commit_lsn;
	ev->pos.seq = rec->seq;
	ev->pos.lsn = rec->lsn;

	switch (rec->kind)
	{
		case TRIB_PGREC_INSERT:
			ev->op = TRIB_OP_CREATE;
			break;
		case TRIB_PGREC_UPDATE:
			ev->op = TRIB_OP_UPDATE;
			break;
		case TRIB_PGREC_DELETE:
			ev->op = TRIB_OP_DELETE;
			break;
		case TRIB_PGREC_TRUNCATE:
			ev->op = TRIB_OP_TRUNCATE;
			break;
		default:
			ev->op = TRIB_OP_MESSAGE;
			break;
	}

	if (rec->kind == TRIB_PGREC_INSERT || rec->kind == TRIB_PGREC_UPDATE ||
		rec->kind == TRIB_PGREC_DELETE)
	{
		const trib_pgrel *rel;

		if (!field_cstr(st, F_SCHEMA, &schema, errbuf, errlen) ||
			!field_cstr(st, F_TABLE, &table, errbuf, errlen))
			return false;
		ev->schema = trib_intern_get(p->names, schema, st->f[F_SCHEMA].slen);
		ev->table = trib_intern_get(p->names, table, st->f[F_TABLE].slen);
		if (st->f[F_OLD].type == J_OBJECT)
			ev->before = raw_copy(st, F_OLD);
		if (st->f[F_NEW].type == J_OBJECT)
			ev->after = raw_copy(st, F_NEW);
		if (st->f[F_UNCHANGED_TOAST].type == J_ARRAY)
			ev->unchanged = raw_copy(st, F_UNCHANGED_TOAST);
		if (st->njn[0] > 0 && rec->kind != TRIB_PGREC_DELETE)
			ev->after_json_nulls = raw_copy(st, F_JSON_NULLS);
		if (st->njn[1] > 0 && rec->kind != TRIB_PGREC_INSERT)
			ev->before_json_nulls = raw_copy(st, F_OLD_JSON_NULLS);
		rel = trib_pgparser_relation(p, schema, table);
		ev->rel = rel ? rel->view : NULL;
		if (rec->kind == TRIB_PGREC_DELETE)
			ev->key = build_key(st, rel, &st->img[0]);
		else
		{
			ev->key = build_key(st, rel, &st->img[1]);
			if (!ev->key)
				ev->key = build_key(st, rel, &st->img[0]);
		}
		return true;
	}
	if (rec->kind == TRIB_PGREC_TRUNCATE)
	{
		size_t		n = st->f[F_RELATIONS].end - st->f[F_RELATIONS].start;
		char	   *x = trib_xmalloc(n + 80);

		snprintf(x, n + 80, "{\"relations\":%.*s,\"cascade\":%s,\"restart_identity\":%s}",
				 (int) n, st->text + st->f[F_RELATIONS].start,
				 st->f[F_CASCADE].b ? "true" : "false",
				 st->f[F_RESTART_IDENTITY].b ? "true" : "false");
		ev->extra = x;
		return true;
	}
	/* message */
	{
		size_t		np = st->f[F_PREFIX].end - st->f[F_PREFIX].start;
		size_t		ne = st->f[F_ENCODING].end - st->f[F_ENCODING].start;
		size_t		nc = st->f[F_CONTENT].end - st->f[F_CONTENT].start;
		size_t		n = np + ne + nc + 80;
		char	   *x;

		if (strcmp(st->f[F_ENCODING].str, "utf8") != 0 &&
			strcmp(st->f[F_ENCODING].str, "base64") != 0)
			return trib_errf(errbuf, errlen, "message encoding must be utf8 or base64");
		x = trib_xmalloc(n);
		snprintf(x, n, "{\"transactional\":%s,\"prefix\":%.*s,\"encoding\":%.*s,\"content\":%.*s}",
				 rec->transactional ? "true" : "false",
				 (int) np, st->text + st->f[F_PREFIX].start,
				 (int) ne, st->text + st->f[F_ENCODING].start,
				 (int) nc, st->text + st->f[F_CONTENT].start);
		ev->extra = x;
		return true;
	}
}

/* Build a relation entry from the parse and install it. */
static bool
build_relation(trib_pgparser *p, pstate *st, trib_pgrec *rec,
			   char *errbuf, size_t errlen)
{
	trib_pgrel	r;
	const char *schema = NULL,
			   *table = NULL,
			   *ri = NULL;
	uint64_t	relid = 0;
	size_t		i,
				j;

	if (!field_cstr(st, F_SCHEMA, &schema, errbuf, errlen) ||
		!field_cstr(st, F_TABLE, &table, errbuf, errlen) ||
		!field_cstr(st, F_REPLICA_IDENTITY, &ri, errbuf, errlen) ||
		!field_uint(st, F_RELID, UINT32_MAX, &relid, errbuf, errlen))
		return false;
	if (strcmp(ri, "default") && strcmp(ri, "index") && strcmp(ri, "full") &&
		strcmp(ri, "nothing"))
		return trib_errf(errbuf, errlen, "replica_identity must be default, index, full or nothing");
	/* Key columns must be columns of the relation. */
	for (j = 0; j < 2; j++)
		for (i = 0; i < st->names[j].n; i++)
		{
			size_t		c;

			for (c = 0; c < st->ncols; c++)
				if (strcmp(st->cols[c].name, st->names[j].v[i]) == 0)
					break;
			if (c == st->ncols)
				return trib_errf(errbuf, errlen, "%s column \"%.64s\" is not among the columns",
								 j == 0 ? "primary_key" : "identity_key",
								 st->names[j].v[i]);
		}

	memset(&r, 0, sizeof(r));
	r.relid = (uint32_t) relid;
	r.schema = trib_xstrdup(schema);
	r.table = trib_xstrdup(table);
	r.replica_identity = trib_xstrdup(ri);
	r.cols = st->cols;
	r.ncols = st->ncols;
	st->cols = NULL;
	st->ncols = st->capcols = 0;
	r.primary_key = st->names[0].v;
	r.npk = st->names[0].n;
	st->names[0].v = NULL;
	st->names[0].n = 0;
	r.identity_key = st->names[1].v;
	r.nik = st->names[1].n;
	st->names[1].v = NULL;
	st->names[1].n = 0;
	rec->rel = trib_pgrelcache_install(p->rels, &r);
	return true;
}

/* Text equal to a remembered value of len bytes? */
static bool
same_text(const field *f, const char *mem, size_t len)
{
	return len > 0 && f->slen == len && memcmp(f->str, mem, len) == 0;
}

/* Remember a parsed text (when it fits) for the next record. */
static void
remember(const field *f, char *mem, size_t cap, size_t *len)
{
	*len = 0;
	if (f->slen < cap)
	{
		memcpy(mem, f->str, f->slen);
		*len = f->slen;
	}
}

/* Fill the record's tags from the parse. */
static bool
fill_tags(trib_pgparser *p, const pstate *st, trib_pgrec *rec,
		  char *errbuf, size_t errlen)
{
	uint64_t	v;

	if (!field_uint(st, F_XID, UINT32_MAX, &v, errbuf, errlen))
		return false;
	rec->xid = (uint32_t) v;
	if (st->f[F_SUBXID].type == J_NUMBER)
	{
		if (!field_uint(st, F_SUBXID, UINT32_MAX, &v, errbuf, errlen))
			return false;
		rec->subxid = (uint32_t) v;
	}
	if (st->f[F_COMMIT_LSN].type == J_STRING)
	{
		if (same_text(&st->f[F_COMMIT_LSN], p->last_clsn, p->last_clsn_len))
			rec->commit_lsn = p->last_clsn_val;
		else
		{
			if (!field_lsn(st, F_COMMIT_LSN, &rec->commit_lsn, errbuf, errlen))
				return false;
			remember(&st->f[F_COMMIT_LSN], p->last_clsn, sizeof(p->last_clsn),
					 &p->last_clsn_len);
			p->last_clsn_val = rec->commit_lsn;
		}
		rec->has_commit_lsn = true;
	}
	if (st->f[F_END_LSN].type == J_STRING &&
		!field_lsn(st, F_END_LSN, &rec->end_lsn, errbuf, errlen))
		return false;
	if (st->f[F_LSN].type == J_STRING &&
		!field_lsn(st, F_LSN, &rec->lsn, errbuf, errlen))
		return false;
	if (st->f[F_TS].type == J_STRING)
	{
		if (same_text(&st->f[F_TS], p->last_ts, p->last_ts_len))
		{
			rec->ts_ms = p->last_ts_ms;
			rec->ts_us = p->last_ts_us;
		}
		else
		{
			if (!parse_ts(st->f[F_TS].str, st->f[F_TS].slen, &rec->ts_ms,
						  &rec->ts_us))
				return trib_errf(errbuf, errlen, "field \"ts\" is not an ISO 8601 UTC timestamp: \"%.40s\"",
								 st->f[F_TS].str);
			remember(&st->f[F_TS], p->last_ts, sizeof(p->last_ts), &p->last_ts_len);
			p->last_ts_ms = rec->ts_ms;
			p->last_ts_us = rec->ts_us;
		}
		rec->has_ts = true;
	}
	if (st->f[F_SEQ].type == J_NUMBER)
	{
		if (!field_uint(st, F_SEQ, INT64_MAX, &rec->seq, errbuf, errlen))
			return false;
		rec->has_seq = true;
	}
	if (st->f[F_CHANGES].type == J_NUMBER)
	{
		if (!field_uint(st, F_CHANGES, INT64_MAX, &rec->changes, errbuf, errlen))
			return false;
		rec->has_changes = true;
	}
	if (st->f[F_NEXT_SEQ].type == J_NUMBER)
	{
		if (!field_uint(st, F_NEXT_SEQ, INT64_MAX, &rec->next_seq, errbuf, errlen))
			return false;
		rec->has_next_seq = true;
	}
	if (st->f[F_DISCARD_THROUGH_SEQ].type == J_NUMBER)
	{
		if (!field_uint(st, F_DISCARD_THROUGH_SEQ, INT64_MAX,
						&rec->discard_through_seq, errbuf, errlen))
			return false;
		rec->has_discard_through = true;
	}
	rec->first = st->f[F_FIRST].type == J_BOOL && st->f[F_FIRST].b;
	rec->discard = st->f[F_DISCARD].type == J_BOOL && st->f[F_DISCARD].b;
	rec->transactional = st->f[F_TRANSACTIONAL].type == J_BOOL &&
		st->f[F_TRANSACTIONAL].b;
	if (st->f[F_GID].type == J_STRING)
	{
		const char *gid = NULL;

		if (!field_cstr(st, F_GID, &gid, errbuf, errlen))
			return false;
		rec->gid = trib_xstrdup(gid);
	}
	if (st->f[F_PREFIX].type == J_STRING)
		rec->prefix = trib_xstrndup(st->f[F_PREFIX].str, st->f[F_PREFIX].slen);
	return true;
}

/* Checks that depend on the kind beyond field types. */
static bool
check_kind(const trib_pgrec *rec, char *errbuf, size_t errlen)
{
	bool		change = rec->kind >= TRIB_PGREC_INSERT &&
		rec->kind <= TRIB_PGREC_MESSAGE;

	if (change && rec->kind == TRIB_PGREC_MESSAGE && !rec->transactional &&
		!rec->has_commit_lsn)
		return trib_errf(errbuf, errlen, "non-transactional message lacks commit_lsn");
	if (change && !rec->has_commit_lsn && rec->has_ts)
		return trib_errf(errbuf, errlen, "%s record has ts but no commit_lsn",
						 kind_names[rec->kind]);
	return true;
}

/* Parse one record. */
bool
trib_pgparser_parse(trib_pgparser *p, const char *text, size_t len,
					trib_pgrec **out, char *errbuf, size_t errlen)
{
	pstate		st;
	yajl_status ys;
	trib_pgrec *rec = NULL;
	int			kind;
	bool		ok = false;

	*out = NULL;
	memset(&st, 0, sizeof(st));
	st.arena = &p->scratch;
	st.img[0] = p->img[0];
	st.img[1] = p->img[1];
	st.text = text;
	st.len = len;
	st.topkey = F_UNKNOWN;
	st.h = yajl_alloc(&record_callbacks, &p->yaf, &st);
	if (!st.h)
		return trib_errf(errbuf, errlen, "out of memory");

	ys = yajl_parse(st.h, (const unsigned char *) text, len);
	if (ys == yajl_status_ok)
		ys = yajl_complete_parse(st.h);
	if (ys != yajl_status_ok)
	{
		if (st.err[0])
			trib_errf(errbuf, errlen, "bad record: %s", st.err);
		else
		{
			unsigned char *m = yajl_get_error(st.h, 0, NULL, 0);

			trib_errf(errbuf, errlen, "bad record: invalid JSON at byte %zu: %s",
					  yajl_get_bytes_consumed(st.h), m ? (char *) m : "?");
			if (m)
				yajl_free_error(st.h, m);
		}
		goto done;
	}
	if (st.f[F_KIND].type != J_STRING)
	{
		trib_errf(errbuf, errlen, "bad record: no \"kind\" string");
		goto done;
	}
	for (kind = 0; kind < NKINDS; kind++)
		if (strlen(kind_names[kind]) == st.f[F_KIND].slen &&
			memcmp(kind_names[kind], st.f[F_KIND].str, st.f[F_KIND].slen) == 0)
			break;
	if (kind == NKINDS)
	{
		trib_errf(errbuf, errlen, "bad record: unknown kind \"%.40s\"", st.f[F_KIND].str);
		goto done;
	}
	if (!check_spec(&st, kind, errbuf, errlen))
		goto done;

	if (kind >= TRIB_PGREC_INSERT && kind <= TRIB_PGREC_MESSAGE)
	{
		/* a change: the record and its event in one allocation */
		recblock   *b = trib_xmalloc(sizeof(*b));

		memset(b, 0, sizeof(*b));
		rec = &b->rec;
		rec->ev = &b->ev;
		rec->ev_inline = true;
	}
	else
	{
		rec = trib_xmalloc(sizeof(*rec));
		memset(rec, 0, sizeof(*rec));
	}
	rec->kind = (trib_pgrec_kind) kind;
	if (!fill_tags(p, &st, rec, errbuf, errlen) || !check_kind(rec, errbuf, errlen))
		goto done;
	if (rec->kind == TRIB_PGREC_RELATION)
		ok = build_relation(p, &st, rec, errbuf, errlen);
	else if (rec->kind >= TRIB_PGREC_INSERT && rec->kind <= TRIB_PGREC_MESSAGE)
		ok = build_event(p, &st, rec, errbuf, errlen);
	else
		ok = true;

done:
	if (ok)
		*out = rec;
	else
		trib_pgrec_free(rec);
	pstate_clear(p, &st);
	yajl_free(st.h);
	trib_arena_reset(&p->scratch);
	return ok;
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
trib_pgrecord_next_line(const char *text, size_t len, size_t *next)
{
	const char *nl = memchr(text, '\n', len);
	size_t		n = nl ? (size_t) (nl - text) : len;

	*next = nl ? n + 1 : len;
	return n;
}
