/*
 * sink_postgres_sql.c: target tables and statements for the PostgreSQL
 * sink.
 *
 * Tables.  The target's catalog is the schema of record: one query per
 * table reads its columns, their types through domains (the kind of
 * conversion each needs), generated and identity columns, and the primary
 * key; the result is cached until DDL we did not expect invalidates it.
 * Tables and columns are created from the source's relation (ev->rel) when
 * create_tables is on; type names are checked by the target first.
 *
 * Statements.  Queued events become, in order: multi-row INSERT ... ON
 * CONFLICT DO UPDATE for consecutive upserts of one table with the same
 * columns (a row whose key is already in the statement starts a new one,
 * so no statement touches a row twice), DELETE ... USING (VALUES ...) for
 * consecutive deletes, one statement per key move, and TRUNCATE.  Every
 * value is a parameter typed with its column's type OID; only identifiers
 * (PQescapeIdentifier) and the target's own type names reach the SQL text.
 */
#include "sink_postgres_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* FNV-1a over bytes, continuing from h. */
uint64_t
pgs_fnv(uint64_t h, const void *data, size_t n)
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
char *
pgs_qident(PGconn *conn, const char *name)
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
void
pgs_result_error(const PGresult *res, PGconn *conn, const char *what,
			 char *errbuf, size_t errlen)
{
	const char *msg = res ? PQresultErrorMessage(res) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	size_t		n;

	if (!msg || !*msg)
		msg = PQerrorMessage(conn);
	snprintf(errbuf, errlen, "%s: %s%s%s%s", what, state ? "SQLSTATE " : "",
			 state ? state : "", state ? ": " : "", msg);
	for (n = 0; errbuf[n]; n++)
		if (errbuf[n] == '\n' || errbuf[n] == '\t')
			errbuf[n] = ' ';
	while (n > 0 && errbuf[n - 1] == ' ')
		errbuf[--n] = '\0';
}

/* Run one parameterised statement outside a batch; the result or NULL. */
PGresult *
pgs_run(pgsink *s, const char *sql, int n, const char *const *values,
	const Oid *types, const char *what, char *errbuf, size_t errlen)
{
	PGresult   *res = PQexecParams(s->conn, sql, n, types, values, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	{
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

		/* no SQLSTATE (the socket closed), connection exceptions, or a
		 * server shutting down: the connection is gone */
		if (PQstatus(s->conn) != CONNECTION_OK || state == NULL ||
			strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
			s->conn_lost = true;
	}
	pgs_result_error(res, s->conn, what, errbuf, errlen);
	PQclear(res);
	return NULL;
}

/* ---- tables ------------------------------------------------------------ */

/* Free the catalog part of a table entry. */
void
pgs_tinfo_clear(tinfo *t)
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
void
pgs_tables_invalidate(pgsink *s)
{
	tinfo	   *t;

	for (t = s->tables; t; t = t->next)
	{
		pgs_tinfo_clear(t);
		t->rel = NULL;
	}
}

/* Hash of a column name. */
static uint64_t
name_hash(const char *s, size_t n)
{
	return pgs_fnv(14695981039346656037ULL, s, n);
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

	pgs_tinfo_clear(t);
	res = pgs_run(s, table_sql, 2, params, NULL, "reading the catalog", errbuf, errlen);
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
		c->qname = pgs_qident(s->conn, c->name);
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
	qs = pgs_qident(s->conn, schema);
	qt = pgs_qident(s->conn, table);
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
		pgs_array_quote(&arr, ty, strlen(ty));
	}
	trib_strbuf_addc(&arr, '}');
	params[0] = arr.data;
	res = pgs_run(s, "SELECT pg_catalog.to_regtype(t)::pg_catalog.text "
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
	PGresult   *res = pgs_run(s, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
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
	if (!(q = pgs_qident(s->conn, schema)))
	{
		snprintf(errbuf, errlen, "cannot quote schema name %s", schema);
		return false;
	}
	trib_strbuf_printf(&sql, "CREATE SCHEMA IF NOT EXISTS %s", q);
	res = pgs_run(s, sql.data, 0, NULL, NULL, "creating a schema", errbuf, errlen);
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
		char	   *q = pgs_qident(s->conn, c->name);
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
				char	   *q = pgs_qident(s->conn, c->name);

				trib_strbuf_printf(&sql, "%s%s", npk++ ? ", " : ", PRIMARY KEY (", q);
				free(q);
			}
		}
		trib_strbuf_adds(&sql, npk ? "))" : ")");
	}
	res = pgs_run(s, sql.data, 0, NULL, NULL, create ? "creating a table" : "adding columns",
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
bool
pgs_prepare_table(pgsink *s, const bentry *b, char *errbuf, size_t errlen)
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
	if (st->nkeys > 0)
		memset(st->keys, 0, sizeof(uint64_t) * (size_t) st->kcap);
	st->nkeys = 0;
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

/* Insert h into an open-addressing set of cap slots (0 = empty);
 * false when it was there. */
static bool
keyset_put(uint64_t *keys, int cap, uint64_t h)
{
	size_t		i = (size_t) (h % (uint64_t) cap);

	while (keys[i])
	{
		if (keys[i] == h)
			return false;
		i = (i + 1) % (size_t) cap;
	}
	keys[i] = h;
	return true;
}

/* Add a key hash to a statement's set (grown to stay half empty); false
 * when it was there. */
static bool
stmt_key_add(stmt *st, uint64_t h)
{
	if (h == 0)
		h = 1;
	if (2 * (st->nkeys + 1) > st->kcap)
	{
		int			ncap = st->kcap ? st->kcap * 2 : 64;
		uint64_t   *nk = trib_xcalloc((size_t) ncap, sizeof(uint64_t));
		int			i;

		for (i = 0; i < st->kcap; i++)
			if (st->keys[i])
				keyset_put(nk, ncap, st->keys[i]);
		free(st->keys);
		st->keys = nk;
		st->kcap = ncap;
	}
	if (!keyset_put(st->keys, st->kcap, h))
		return false;
	st->nkeys++;
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
	if (!image || !pgs_jiter_begin(&it, image, strlen(image), '{'))
	{
		snprintf(errbuf, errlen, "%s: row image is not a JSON object", t->qname);
		return false;
	}
	while ((rc = pgs_jiter_next(&it, &k, &v)) > 0)
	{
		bool		is_null;
		size_t		off;
		int			col;

		s->scratch.len = 0;
		if (!pgs_junescape(&k, &s->scratch, errbuf, errlen))
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
		if (!pgs_value_text(&v, t->cols[col].kind, t->cols[col].ekind, s->bytea_hex,
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
	if (!pgs_jiter_begin(&it, unchanged, strlen(unchanged), '['))
	{
		snprintf(errbuf, errlen, "unchanged columns are not a JSON array");
		return false;
	}
	while ((rc = pgs_jiter_next(&it, &k, &v)) > 0)
	{
		int			col;

		if (v.type != 's')
			continue;
		s->scratch.len = 0;
		if (!pgs_junescape(&v, &s->scratch, errbuf, errlen))
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
		*h = pgs_fnv(*h, s->arena.data + off, strlen(s->arena.data + off) + 1);
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
	if (can_merge(s, 'u', t, cols, n) && stmt_key_add(&s->stmts[s->open_stmt], h))
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
		if (s->mode == TRIB_PGSINK_MULTIROW && !s->single_row)
			stmt_key_add(st, h);
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
	if (b->extra && pgs_jiter_begin(&it, b->extra, strlen(b->extra), '{'))
	{
		while ((rc = pgs_jiter_next(&it, &k, &v)) > 0)
		{
			s->scratch.len = 0;
			pgs_junescape(&k, &s->scratch, errbuf, errlen);
			trib_strbuf_add(&s->scratch, "", 0);
			if (strcmp(s->scratch.data, "restart_identity") == 0)
				restart = v.type == 't';
			if (strcmp(s->scratch.data, "relations") != 0 || v.type != 'a' || b->table)
				continue;
			if (!pgs_jiter_begin(&mit, v.p, v.n, '['))
				continue;
			while (pgs_jiter_next(&mit, &mk, &mv) > 0)
			{
				jiter		rit;
				jspan		rk,
							rv;
				char	   *schema = NULL,
						   *table = NULL;
				tinfo	   *t;

				if (!pgs_jiter_begin(&rit, mv.p, mv.n, '{'))
					continue;
				while (pgs_jiter_next(&rit, &rk, &rv) > 0)
				{
					trib_strbuf name = {0},
								val = {0};

					if (rv.type == 's' && pgs_junescape(&rk, &name, errbuf, errlen) &&
						pgs_junescape(&rv, &val, errbuf, errlen))
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
bool
pgs_build_batch(pgsink *s, char *errbuf, size_t errlen)
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

