/*
 * sink_postgres_sql.c: statements for the PostgreSQL sink (the tables they
 * change are read and created in sink_postgres_tables.c).
 *
 * Queued events become, in order: multi-row INSERT ... ON CONFLICT DO
 * UPDATE for consecutive upserts of one table with the same columns (a
 * row whose key is already in the statement starts a new one, so no
 * statement touches a row twice), DELETE ... USING (VALUES ...) for
 * consecutive deletes, one statement per key move, and TRUNCATE.  A table
 * without a primary key gets multi-row INSERTs, and one UPDATE or DELETE
 * per change of the row found by its old image:
 *
 *   ... WHERE (tableoid, ctid) = (SELECT tableoid, ctid FROM t
 *         WHERE (a = $1 OR (a IS NULL AND $1 IS NULL)) AND
 *               a::text IS NOT DISTINCT FROM ($1)::text AND
 *               j::text IS NOT DISTINCT FROM ($2)::text ... LIMIT 1)
 *
 * (a TID scan; the = form lets the planner use an index on a, the text
 * form tells apart rows that are equal but not the same, such as 1.0 and
 * 1.00, and serves types without an equality operator).  Changes that cannot
 * be applied -- a delete without the target's key, a keyless table's
 * update without an old image -- are counted per table for the batch
 * (pgs_tinfo.skipped) and reported after its commit.
 *
 * Every value is a parameter typed with its column's type OID; only
 * identifiers (PQescapeIdentifier) and the target's own type names reach
 * the SQL text.  A composite column's parameter is JSON, turned into the
 * value by (json_populate_record(NULL::table, $n)).column; a money
 * column's is numeric, cast ($n::money), since money's input follows the
 * target's lc_monetary.
 */
#include "sink_postgres_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "log.h"

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

/* Run one parameterised statement outside a batch; the result or NULL. */
PGresult *
pgs_run(pgs_sink *s, const char *sql, int n, const char *const *values,
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
	pgs_result_error(res, s->conn, what, false, errbuf, errlen);
	PQclear(res);
	return NULL;
}

/* ---- statements -------------------------------------------------------- */

/* A new (reset) statement at the end of the list. */
static pgs_stmt *
stmt_new(pgs_sink *s, char what, pgs_tinfo *t)
{
	pgs_stmt	   *st;

	if ((size_t) s->nstmts == s->stcap)
	{
		size_t		old = s->stcap;

		s->stmts = trib_xgrow(s->stmts, (size_t) s->nstmts, &s->stcap, sizeof(pgs_stmt), 16);
		memset(s->stmts + old, 0, sizeof(pgs_stmt) * (s->stcap - old));
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
stmt_param(pgs_stmt *st, size_t off, Oid type)
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

/* The parameter type of a column's values: composites travel as JSON,
 * money as numeric (see col_value_sql). */
static Oid
col_param_type(const pgs_tcol *c)
{
	if (c->money)
		return c->kind == 'a' ? OID_NUMERIC_ARRAY : OID_NUMERIC;
	return c->kind == 'c' ? OID_JSON : c->type;
}

/* Append the SQL of column col's value in parameter $n: the parameter; for
 * a composite column the record the target builds from its JSON; for
 * money the numeric the plugin wrote, cast: money's input reads "12.34"
 * by the target's lc_monetary (1234 where the decimal point is a comma),
 * the cast from numeric does not. */
static void
col_value_sql(trib_strbuf *sql, const pgs_tinfo *t, int col, int n)
{
	const pgs_tcol *c = &t->cols[col];

	if (c->kind == 'c')
		trib_strbuf_printf(sql, "(pg_catalog.json_populate_record(NULL::%s, $%d)).%s",
						   t->qname, n, c->qname);
	else if (c->money)
		trib_strbuf_printf(sql, "($%d::pg_catalog.money%s)", n, c->kind == 'a' ? "[]" : "");
	else
		trib_strbuf_printf(sql, "$%d", n);
}

/* Add column col's value at arena offset off as the next parameter and
 * append its SQL. */
static void
add_value(pgs_stmt *st, const pgs_tinfo *t, int col, size_t off)
{
	col_value_sql(&st->sql, t, col, stmt_param(st, off, col_param_type(&t->cols[col])));
}

/* Remember the column list of a mergeable statement. */
static void
stmt_set_cols(pgs_stmt *st, const int *cols, int n)
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
stmt_key_add(pgs_stmt *st, uint64_t h)
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
stmt_close(pgs_sink *s)
{
	pgs_stmt	   *st;
	pgs_tinfo	   *t;
	int			i,
				n = 0;

	if (s->open_stmt < 0)
		return;
	st = &s->stmts[s->open_stmt];
	t = st->t;
	s->open_stmt = -1;
	if (st->what == 'i')
		return;					/* an append has no tail */
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
		const pgs_tcol *c = &t->cols[st->cols[i]];

		if (c->pkpos > 0 || c->identity_always)
			continue;
		trib_strbuf_printf(&st->sql, "%s%s = EXCLUDED.%s", n++ ? ", " : "UPDATE SET ",
						   c->qname, c->qname);
	}
	if (n == 0)
		trib_strbuf_adds(&st->sql, "NOTHING");
}

/*
 * Is a JSON null in json/jsonb column col the JSON value null rather than
 * SQL NULL, without a JSON null list to say so (a stream from a plugin
 * that writes none)?  It can only be the JSON value when the target column
 * or the source column (rel) is NOT NULL.
 */
static bool
json_null_is_value(const pgs_tinfo *t, int col, const trib_relation *rel)
{
	int			i;

	if (t->cols[col].notnull)
		return true;
	for (i = 0; rel && i < rel->ncolumns; i++)
		if (rel->columns[i].name && strcmp(rel->columns[i].name, t->cols[col].name) == 0)
			return !rel->columns[i].nullable;
	return false;
}

/* Append the input text of value v of column col to the arena; jnulls:
 * the image's JSON null list (event.h), or NULL. */
static bool
col_value_text(pgs_sink *s, const pgs_tinfo *t, int col, const pgs_jspan *v, const trib_relation *rel,
			   const pgs_jspan *jnulls, bool *is_null, char *errbuf, size_t errlen)
{
	const pgs_tcol *c = &t->cols[col];
	pgs_jspan		jn;
	bool		listed = false;

	*is_null = v->kind == TRIB_J_NULL;
	if (jnulls && (c->kind == 'j' ? *is_null : c->kind == 'a' && c->ekind == 'j'))
		listed = pgs_json_nulls_find(jnulls, c->name, &jn);
	if (*is_null && c->kind == 'j' && !listed && json_null_is_value(t, col, rel))
	{
		*is_null = false;
		trib_strbuf_adds(&s->arena, "null");
		return true;
	}
	if (c->kind == 'c')
		return *is_null || pgs_composite_text(s->ctypes, c->pgs_ctype, c->jname, v, s->bytea_hex,
											  s->money_point, &s->arena, errbuf, errlen);
	return pgs_value_text(v, c->kind, c->ekind, listed ? &jn : NULL, s->bytea_hex,
						  &s->arena, is_null, errbuf, errlen);
}

/* The error of a row's column the target table lacks: with the source's
 * type (rel) when known, and what to do. */
static void
unknown_column(const pgs_sink *s, const pgs_tinfo *t, const trib_relation *rel,
			   const char *name, char *errbuf, size_t errlen)
{
	const char *type = NULL;
	int			i;

	for (i = 0; rel && i < rel->ncolumns && !type; i++)
		if (rel->columns[i].name && strcmp(rel->columns[i].name, name) == 0)
			type = rel->columns[i].type;
	if (s->create_tables)
	{
		snprintf(errbuf, errlen, "column \"%s\" is not in target table %s", name, t->qname);
		return;
	}
	snprintf(errbuf, errlen,
			 "column \"%s\"%s%s%s is not in target table %s (create_tables is off): add it "
			 "there or leave it out with a `drop` transform rule, then restart: nothing of "
			 "this batch was applied, and every change is applied once then",
			 name, type ? " (" : "", type ? type : "", type ? " at the source)" : "",
			 t->qname);
}

/* Parse a row image into t->slot (arena offsets); false on bad input.
 * For JSON nulls: rel, the source's relation (NULL if unknown), and
 * jnulls, the image's JSON null list (NULL if none). */
static bool
row_values(pgs_sink *s, pgs_tinfo *t, const char *image, const trib_relation *rel,
		   const char *jnulls, bool check_unknown, char *errbuf, size_t errlen)
{
	pgs_jiter		it;
	pgs_jspan		k,
				v,
				root,
				nulls;
	int			i;
	char		e[128];

	for (i = 0; i < t->ncols; i++)
		t->slot[i] = ABSENT;
	if (image && !pgs_jdoc_parse(&s->jtext, image, strlen(image), "malformed row image", e,
								 sizeof(e)))
	{
		snprintf(errbuf, errlen, "%s: %s", t->qname, e);
		return false;
	}
	if (image)
		pgs_jdoc_root(&s->jtext, &root);
	if (!image || !pgs_jiter_begin(&it, &root, '{'))
	{
		snprintf(errbuf, errlen, "%s: row image is not a JSON object", t->qname);
		return false;
	}
	/* a list that is not JSON lists nothing */
	if (jnulls && pgs_jdoc_parse(&s->jnulls, jnulls, strlen(jnulls), "", e, sizeof(e)))
		pgs_jdoc_root(&s->jnulls, &nulls);
	else
		jnulls = NULL;
	while (pgs_jiter_next(&it, &k, &v))
	{
		bool		is_null;
		size_t		off;
		int			col;

		s->scratch.len = 0;
		if (!pgs_junescape(&k, &s->scratch, errbuf, errlen))
			return false;
		trib_strbuf_add(&s->scratch, "", 0);
		col = pgs_tinfo_find(t, s->scratch.data, s->scratch.len);
		if (col < 0)
		{
			if (!check_unknown)
				continue;
			unknown_column(s, t, rel, s->scratch.data, errbuf, errlen);
			return false;
		}
		if (t->cols[col].generated || t->skip[col])
			continue;
		off = s->arena.len;
		if (!col_value_text(s, t, col, &v, rel, jnulls ? &nulls : NULL, &is_null, errbuf, errlen))
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
	return true;
}

/* Mark the columns listed in ev->unchanged (a JSON array of names). */
static bool
mark_unchanged(pgs_sink *s, pgs_tinfo *t, const char *unchanged, char *errbuf, size_t errlen)
{
	pgs_jdoc	doc = {0};
	pgs_jiter		it;
	pgs_jspan		k,
				v,
				root;
	int			i;
	bool		ok = true;

	for (i = 0; i < t->ncols; i++)
		t->skip[i] = false;
	if (!unchanged)
		return true;
	if (!pgs_jdoc_parse(&doc, unchanged, strlen(unchanged),
						"unchanged columns are not a JSON array", errbuf, errlen))
		ok = false;
	else
		pgs_jdoc_root(&doc, &root);
	if (ok && !pgs_jiter_begin(&it, &root, '['))
	{
		snprintf(errbuf, errlen, "unchanged columns are not a JSON array");
		ok = false;
	}
	while (ok && pgs_jiter_next(&it, &k, &v))
	{
		int			col;

		if (v.kind != TRIB_J_STRING)
			continue;
		s->scratch.len = 0;
		if (!(ok = pgs_junescape(&v, &s->scratch, errbuf, errlen)))
			break;
		trib_strbuf_add(&s->scratch, "", 0);
		col = pgs_tinfo_find(t, s->scratch.data, s->scratch.len);
		if (col >= 0)
			t->skip[col] = true;
	}
	pgs_jdoc_free(&doc);
	return ok;
}

/* The hash of the key values in slot (every key column present). */
static bool
row_key(pgs_sink *s, const pgs_tinfo *t, uint64_t *h)
{
	int			i;

	*h = TRIB_FNV1A_BASIS;
	for (i = 0; i < t->npk; i++)
	{
		size_t		off = t->slot[t->pk[i]];

		if (off == ABSENT || off == NULLVAL)
			return false;
		*h = trib_fnv1a_more(*h, s->arena.data + off, strlen(s->arena.data + off) + 1);
	}
	return true;
}

/* VALUES row "($a, $b, ...)" of the given columns from slot. */
static void
add_row(pgs_stmt *st, const pgs_tinfo *t, const int *cols, int n)
{
	int			i;

	trib_strbuf_adds(&st->sql, st->rows++ ? ", (" : "(");
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			trib_strbuf_adds(&st->sql, ", ");
		add_value(st, t, cols[i], t->slot[cols[i]]);
	}
	trib_strbuf_addc(&st->sql, ')');
}

/* True when the open statement can take one more row of this shape. */
static bool
can_merge(pgs_sink *s, char what, const pgs_tinfo *t, const int *cols, int n)
{
	const pgs_stmt *st;

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
key_match(pgs_stmt *st, const pgs_tinfo *t, const char *prefix, int first, const int *map)
{
	int			j;

	for (j = 0; j < t->npk; j++)
	{
		trib_strbuf_printf(&st->sql, "%s%s%s = ", j ? " AND " : "", prefix,
						   t->cols[t->pk[j]].qname);
		col_value_sql(&st->sql, t, t->pk[j], map ? map[j] : first + j);
	}
}

/*
 * A key move (an update whose old image has another key): one statement
 * that moves the row when the new key is free of other rows (untouched
 * columns keep their values), else deletes the old row, and upserts the
 * new key when the old row was not there.  t->slot has the new values, oldslot the old
 * key; replaying it converges on the same rows.
 */
static void
build_move(pgs_sink *s, pgs_tinfo *t, const int *cols, int n, const size_t *oldslot)
{
	int		   *newp = trib_xcalloc((size_t) t->npk + 1, sizeof(int));
	pgs_stmt	   *st;
	int			i,
				j,
				oldp;

	stmt_close(s);
	st = stmt_new(s, 'm', t);
	st->rows = 1;
	for (i = 0; i < n; i++)
	{
		stmt_param(st, t->slot[cols[i]], col_param_type(&t->cols[cols[i]]));
		for (j = 0; j < t->npk; j++)
			if (t->pk[j] == cols[i])
				newp[j] = i + 1;
	}
	oldp = st->nparams + 1;
	for (j = 0; j < t->npk; j++)
		stmt_param(st, oldslot[t->pk[j]], col_param_type(&t->cols[t->pk[j]]));
	trib_strbuf_printf(&st->sql, "WITH x AS (SELECT EXISTS (SELECT 1 FROM %s WHERE ", t->qname);
	key_match(st, t, "", 0, newp);
	/* not the row itself: a key equal to the old one but not the same
	 * (1.0 to 1.00, 0 to -0) moves the row by the UPDATE, which writes
	 * the new key's text */
	trib_strbuf_adds(&st->sql, " AND NOT (");
	key_match(st, t, "", oldp, NULL);
	trib_strbuf_printf(&st->sql, ")) AS e), u AS (UPDATE %s SET ", t->qname);
	for (i = 0; i < n; i++)
	{
		trib_strbuf_printf(&st->sql, "%s%s = ", i ? ", " : "", t->cols[cols[i]].qname);
		col_value_sql(&st->sql, t, cols[i], i + 1);
	}
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
	{
		if (i > 0)
			trib_strbuf_adds(&st->sql, ", ");
		col_value_sql(&st->sql, t, cols[i], i + 1);
	}
	trib_strbuf_adds(&st->sql, " WHERE NOT EXISTS (SELECT FROM u)");
	stmt_set_cols(st, cols, n);
	s->open_stmt = (int) (st - s->stmts);
	stmt_close(s);				/* ON CONFLICT (key) DO UPDATE ... */
	s->stats.rows_upserted++;
	free(newp);
}

/* Parse the new row image into t->slot (columns in ev->unchanged left
 * out) and list the columns it has in cols; false on bad input. */
static bool
new_row(pgs_sink *s, pgs_tinfo *t, const pgs_bentry *b, int *cols, int *n, char *errbuf, size_t errlen)
{
	int			i;

	*n = 0;
	if (!mark_unchanged(s, t, b->unchanged, errbuf, errlen) ||
		!row_values(s, t, b->after, b->rel, b->after_json_nulls, true, errbuf, errlen))
		return false;
	for (i = 0; i < t->ncols; i++)
		if (t->slot[i] != ABSENT)
			cols[(*n)++] = i;
	return true;
}

/* Start a statement "INSERT INTO t (cols) ... VALUES " that rows join. */
static pgs_stmt *
insert_start(pgs_sink *s, char what, pgs_tinfo *t, const int *cols, int n)
{
	pgs_stmt	   *st;
	int			i;

	stmt_close(s);
	st = stmt_new(s, what, t);
	trib_strbuf_printf(&st->sql, "INSERT INTO %s (", t->qname);
	for (i = 0; i < n; i++)
		trib_strbuf_printf(&st->sql, "%s%s", i ? ", " : "", t->cols[cols[i]].qname);
	trib_strbuf_adds(&st->sql, ") OVERRIDING SYSTEM VALUE VALUES ");
	stmt_set_cols(st, cols, n);
	s->open_stmt = (int) (st - s->stmts);
	return st;
}

/* An upsert (or a key move when the old key differs). */
static bool
build_upsert(pgs_sink *s, pgs_tinfo *t, const pgs_bentry *b, char *errbuf, size_t errlen)
{
	int		   *cols = trib_xmalloc(sizeof(int) * (size_t) (t->ncols + 1));
	size_t	   *newslot = NULL;
	int			n = 0,
				i;
	uint64_t	h;
	bool		ok = false;
	pgs_stmt	   *st;

	if (!new_row(s, t, b, cols, &n, errbuf, errlen))
		goto out;
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
		if (!row_values(s, t, b->before, b->rel, b->before_json_nulls, false, errbuf, errlen))
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
		st = insert_start(s, 'u', t, cols, n);
		if (s->mode == TRIB_PGSINK_MULTIROW && !s->single_row)
			stmt_key_add(st, h);
	}
	add_row(st, t, cols, n);
	s->stats.rows_upserted++;
	ok = true;
out:
	free(newslot);
	free(cols);
	return ok;
}

/* A delete by key (old image, else the event's key object); one that
 * carries no key (replica identity NOTHING) is skipped and counted. */
static bool
build_delete(pgs_sink *s, pgs_tinfo *t, const pgs_bentry *b, char *errbuf, size_t errlen)
{
	uint64_t	h;
	pgs_stmt	   *st;
	int			i;

	for (i = 0; i < t->ncols; i++)
		t->skip[i] = false;
	if (!b->before && !b->key)
	{
		t->skipped[SKIP_NO_KEY]++;
		return true;
	}
	if (!row_values(s, t, b->before ? b->before : b->key, b->rel, b->before_json_nulls,
					false, errbuf, errlen))
		return false;
	if (!row_key(s, t, &h) && b->before && b->key)
	{
		if (!row_values(s, t, b->key, b->rel, NULL, false, errbuf, errlen))
			return false;
	}
	if (!row_key(s, t, &h))
	{
		t->skipped[SKIP_NO_KEY]++;
		return true;
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

/* ---- tables without a primary key -------------------------------------- */

/* Keyless table: an insert appends the row (there is no key to conflict
 * on); consecutive ones share a statement. */
static bool
build_insert(pgs_sink *s, pgs_tinfo *t, const pgs_bentry *b, char *errbuf, size_t errlen)
{
	int		   *cols = trib_xmalloc(sizeof(int) * (size_t) (t->ncols + 1));
	int			n;
	bool		ok = false;
	pgs_stmt	   *st;

	if (!new_row(s, t, b, cols, &n, errbuf, errlen))
		goto out;
	if (n == 0)
	{
		/* a row with no column we can set */
		stmt_close(s);
		st = stmt_new(s, 'i', t);
		trib_strbuf_printf(&st->sql, "INSERT INTO %s DEFAULT VALUES", t->qname);
		st->rows = 1;
		ok = true;
		goto out;
	}
	st = can_merge(s, 'i', t, cols, n) ? &s->stmts[s->open_stmt] :
		insert_start(s, 'i', t, cols, n);
	add_row(st, t, cols, n);
	s->stats.rows_upserted++;
	ok = true;
out:
	free(cols);
	return ok;
}

/*
 * " AND " between conditions, then: column col equals parameter value
 * off, NULL matching NULL.  Equality is not identity: 1.0 = 1.00, 0 = -0,
 * '1 day' = '24 hours', '{"a": 1}'::jsonb = '{"a": 1.0}', 12:00+01 =
 * 11:00+00; of two such rows the one with the old row's own text must
 * change, so the text is compared too (after the = form, which lets the
 * planner use an index on the column).  Types without = compare as text.
 */
static void
image_cond(pgs_stmt *st, const pgs_tinfo *t, int col, size_t off, bool first)
{
	const pgs_tcol *c = &t->cols[col];
	int			n = stmt_param(st, off, col_param_type(c));

	if (!first)
		trib_strbuf_adds(&st->sql, " AND ");
	if (c->eq)
	{
		trib_strbuf_printf(&st->sql, "(%s = ", c->qname);
		col_value_sql(&st->sql, t, col, n);
		trib_strbuf_printf(&st->sql, " OR (%s IS NULL AND $%d IS NULL)) AND ", c->qname, n);
	}
	trib_strbuf_printf(&st->sql, "%s::pg_catalog.text IS NOT DISTINCT FROM (", c->qname);
	col_value_sql(&st->sql, t, col, n);
	trib_strbuf_adds(&st->sql, ")::pg_catalog.text");
}

/*
 * Keyless table: an update or a delete changes one row that equals the
 * old image (else the event's key) in every column the image has, found
 * by (tableoid, ctid), so that of two equal rows only one changes, as in
 * the source.  Without an image (replica identity other than FULL on a
 * table without a key) it is skipped and counted.  set/nset: the columns
 * an update sets, from newslot.
 */
static void
image_stmt(pgs_sink *s, pgs_tinfo *t, bool del, const int *set, int nset, const size_t *newslot)
{
	pgs_stmt	   *st;
	int			i;
	bool		first = true;

	stmt_close(s);
	st = stmt_new(s, del ? 'D' : 'U', t);
	st->rows = 1;
	if (del)
		trib_strbuf_printf(&st->sql, "DELETE FROM %s WHERE ", t->qname);
	else
	{
		trib_strbuf_printf(&st->sql, "UPDATE %s SET ", t->qname);
		for (i = 0; i < nset; i++)
		{
			trib_strbuf_printf(&st->sql, "%s%s = ", i ? ", " : "", t->cols[set[i]].qname);
			add_value(st, t, set[i], newslot[set[i]]);
		}
		trib_strbuf_adds(&st->sql, " WHERE ");
	}
	trib_strbuf_printf(&st->sql, "(tableoid, ctid) = (SELECT tableoid, ctid FROM %s WHERE ",
					   t->qname);
	for (i = 0; i < t->ncols; i++)
		if (t->slot[i] != ABSENT)
		{
			image_cond(st, t, i, t->slot[i], first);
			first = false;
		}
	trib_strbuf_adds(&st->sql, " LIMIT 1)");
}

/* Keyless table: an update or delete by its old image (see image_stmt). */
static bool
build_by_image(pgs_sink *s, pgs_tinfo *t, const pgs_bentry *b, char *errbuf, size_t errlen)
{
	bool		del = b->op == TRIB_OP_DELETE;
	const char *image = b->before ? b->before : b->key;
	int		   *set = trib_xmalloc(sizeof(int) * (size_t) (t->ncols + 1));
	size_t	   *newslot = trib_xmalloc(sizeof(size_t) * (size_t) (t->ncols + 1));
	int			nset = 0,
				nmatch = 0,
				i,
				k;
	bool		ok = false;

	if (!del && !new_row(s, t, b, set, &nset, errbuf, errlen))
		goto out;
	for (i = 0, k = 0; i < nset; i++)
		if (!t->cols[set[i]].identity_always)
			set[k++] = set[i];	/* GENERATED ALWAYS identities stay */
	nset = k;
	memcpy(newslot, t->slot, sizeof(size_t) * (size_t) t->ncols);
	for (i = 0; i < t->ncols; i++)
		t->skip[i] = false;
	if (image && !row_values(s, t, image, b->rel, b->before_json_nulls, false, errbuf, errlen))
		goto out;
	for (i = 0; image && i < t->ncols; i++)
		nmatch += t->slot[i] != ABSENT;
	ok = true;
	if (nmatch == 0)
		t->skipped[SKIP_NO_OLD_ROW]++;
	else if (del || nset > 0)
	{
		image_stmt(s, t, del, set, nset, newslot);
		if (del)
			s->stats.rows_deleted++;
		else
			s->stats.rows_upserted++;
	}
out:
	free(set);
	free(newslot);
	return ok;
}

/* TRUNCATE of the event's tables that exist in the target. */
static bool
build_truncate(pgs_sink *s, const pgs_bentry *b, char *errbuf, size_t errlen)
{
	pgs_jiter		it,
				mit;
	pgs_jspan		k,
				v,
				mk,
				mv,
				root;
	int			n = 0;
	bool		restart = false;
	pgs_stmt	   *st;
	char		e[128];

	stmt_close(s);
	st = stmt_new(s, 't', NULL);
	trib_strbuf_adds(&st->sql, "TRUNCATE ");
	if (b->table)
	{
		pgs_tinfo	   *t = pgs_tinfo_get(s, b->schema, b->table, errbuf, errlen);

		if (!t || (!t->loaded && !pgs_tinfo_load(s, t, errbuf, errlen)))
			return false;
		if (t->exists)
			trib_strbuf_printf(&st->sql, "%s%s", n++ ? ", " : "", t->qname);
	}
	/* details that are not JSON tell nothing */
	if (b->extra && pgs_jdoc_parse(&s->jtext, b->extra, strlen(b->extra), "", e, sizeof(e)))
		pgs_jdoc_root(&s->jtext, &root);
	else
		root.doc = NULL;
	if (pgs_jiter_begin(&it, &root, '{'))
	{
		while (pgs_jiter_next(&it, &k, &v))
		{
			s->scratch.len = 0;
			pgs_junescape(&k, &s->scratch, errbuf, errlen);
			trib_strbuf_add(&s->scratch, "", 0);
			if (strcmp(s->scratch.data, "restart_identity") == 0)
				restart = v.kind == TRIB_J_BOOL && v.p[0] == 't';
			if (strcmp(s->scratch.data, "relations") != 0 || v.kind != TRIB_J_ARRAY || b->table)
				continue;
			if (!pgs_jiter_begin(&mit, &v, '['))
				continue;
			while (pgs_jiter_next(&mit, &mk, &mv))
			{
				pgs_jiter		rit;
				pgs_jspan		rk,
							rv;
				char	   *schema = NULL,
						   *table = NULL;
				pgs_tinfo	   *t;

				if (!pgs_jiter_begin(&rit, &mv, '{'))
					continue;
				while (pgs_jiter_next(&rit, &rk, &rv))
				{
					trib_strbuf name = {0},
								val = {0};

					if (rv.kind == TRIB_J_STRING && pgs_junescape(&rk, &name, errbuf, errlen) &&
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

					t = pgs_tinfo_get(s, ts, table, errbuf, errlen);
					if (!t || (!t->loaded && !pgs_tinfo_load(s, t, errbuf, errlen)))
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
pgs_build_batch(pgs_sink *s, char *errbuf, size_t errlen)
{
	size_t		i;
	pgs_tinfo	   *t;

	s->nstmts = 0;
	s->open_stmt = -1;
	s->arena.len = 0;
	trib_strbuf_add(&s->arena, "", 0);
	for (t = s->tables; t; t = t->next)
		t->skipped[SKIP_NO_KEY] = t->skipped[SKIP_NO_OLD_ROW] = 0;
	for (i = 0; i < s->nq; i++)
	{
		const pgs_bentry *b = &s->q[i];
		bool		ok = true;

		switch (b->op)
		{
			case TRIB_OP_CREATE:
			case TRIB_OP_UPDATE:
			case TRIB_OP_READ:
			case TRIB_OP_DELETE:
				t = pgs_tinfo_get(s, b->schema, b->table, errbuf, errlen);
				if (!t)
					return false;
				if (t->npk == 0)
					ok = b->op == TRIB_OP_CREATE || b->op == TRIB_OP_READ ?
						build_insert(s, t, b, errbuf, errlen) :
						build_by_image(s, t, b, errbuf, errlen);
				else
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

