/*
 * sink_postgres_tables.c: the target tables of the PostgreSQL sink.
 *
 * The target's catalog is the schema of record: one query per table reads
 * its columns, the kind of conversion each needs (through domains: bytea,
 * json, dates, composites, arrays and their elements), whether it has an
 * equality operator, generated and identity columns, NOT NULL, and the
 * primary key; the result is cached until DDL we did not expect
 * invalidates it.  Tables and columns are created from the source's
 * relation (ev->rel) when create_tables is on; type names are checked by
 * the target first, and a type it lacks is an error that names the column
 * and the ways out (or, with unknown_types: text, a text column).  A table
 * is checked again when an event brings another relation, unless that
 * relation describes the same columns and key as the copy of the last one
 * applied (pgs_tinfo.def): a source may alternate between descriptions
 * that differ in nothing the target has (PostgreSQL partitions with
 * different replica identities under publish-via-root).  A type changed at
 * the source is not applied to the target: when a statement then fails
 * with a data error, pgs_type_change_hint names the columns whose target
 * type differs from the source's relation, and what to do.
 */
#include "sink_postgres_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "jsondoc.h"
#include "log.h"

/* ---- tables ------------------------------------------------------------ */

/* Free the catalog part of a table entry. */
void
pgs_tinfo_clear(pgs_tinfo *t)
{
	int			i;

	for (i = 0; i < t->ncols; i++)
	{
		free(t->cols[i].name);
		free(t->cols[i].qname);
		free(t->cols[i].jname);
		free(t->cols[i].tname);
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

/* Forget the composite types read so far. */
void
pgs_ctypes_free(pgs_sink *s)
{
	pgs_ctype	   *ct;
	int			i;

	while ((ct = s->ctypes) != NULL)
	{
		s->ctypes = ct->next;
		for (i = 0; i < ct->nf; i++)
			free(ct->f[i].name);
		free(ct->f);
		free(ct);
	}
}

/* Forget every table's catalog (after DDL we did not expect). */
void
pgs_tables_invalidate(pgs_sink *s)
{
	pgs_tinfo	   *t;

	for (t = s->tables; t; t = t->next)
	{
		pgs_tinfo_clear(t);
		t->rel = NULL;
		trib_relation_free(t->def);
		t->def = NULL;
	}
	pgs_ctypes_free(s);
}

/* Hash of a column name. */
static uint64_t
name_hash(const char *s, size_t n)
{
	return trib_fnv1a_more(TRIB_FNV1A_BASIS, s, n);
}

/* Column index by name (n bytes), -1 when absent. */
int
pgs_tinfo_find(const pgs_tinfo *t, const char *name, size_t n)
{
	size_t		h;

	if (t->hcap == 0)
		return -1;
	h = (size_t) (name_hash(name, n) % (uint64_t) t->hcap);
	while (t->hash[h])
	{
		const pgs_tcol *c = &t->cols[t->hash[h] - 1];

		if (strlen(c->name) == n && memcmp(c->name, name, n) == 0)
			return t->hash[h] - 1;
		h = (h + 1) % (size_t) t->hcap;
	}
	return -1;
}

/*
 * Lateral joins that give, for the type OID expression T, its base type
 * through domains (bt) and, for an array, its element's base type (et).
 */
#define TYPE_JOINS(T) \
"CROSS JOIN LATERAL (WITH RECURSIVE d(oid, base) AS (" \
"       SELECT " T ", (SELECT typbasetype FROM pg_catalog.pg_type WHERE oid = " T ") " \
"       UNION ALL " \
"       SELECT d.base, x.typbasetype FROM d JOIN pg_catalog.pg_type x ON x.oid = d.base) " \
"     SELECT oid FROM d WHERE base = 0) b " \
"JOIN pg_catalog.pg_type bt ON bt.oid = b.oid " \
"LEFT JOIN LATERAL (WITH RECURSIVE d(oid, base) AS (" \
"       SELECT bt.typelem, (SELECT typbasetype FROM pg_catalog.pg_type WHERE oid = bt.typelem) " \
"       UNION ALL " \
"       SELECT d.base, x.typbasetype FROM d JOIN pg_catalog.pg_type x ON x.oid = d.base) " \
"     SELECT oid FROM d WHERE base = 0) eb ON bt.typcategory = 'A' " \
"LEFT JOIN pg_catalog.pg_type et ON et.oid = eb.oid "

/*
 * Four columns from TYPE_JOINS: the kind (pgs_tcol.kind: 'c' for a composite
 * or an array of composites), the elements' kind, the composite type's
 * OID (0 for others), and whether values compare with a default btree
 * equality (arrays: of their elements; composites never).
 */
#define TYPE_KINDS \
"CASE WHEN bt.oid = 17 THEN 'b' WHEN bt.oid IN (114, 3802) THEN 'j' " \
"     WHEN bt.oid IN (1082, 1114, 1184) THEN 'd' " \
"     WHEN bt.typtype = 'c' OR et.typtype = 'c' THEN 'c' " \
"     WHEN bt.typcategory = 'A' THEN 'a' ELSE 't' END, " \
"CASE WHEN et.oid = 17 THEN 'b' WHEN et.oid IN (114, 3802) THEN 'j' " \
"     WHEN et.oid IN (1082, 1114, 1184) THEN 'd' ELSE 't' END, " \
"CASE WHEN bt.typtype = 'c' THEN bt.oid WHEN et.typtype = 'c' THEN et.oid " \
"     ELSE 0 END::pg_catalog.int8, " \
"COALESCE(et.typtype, bt.typtype) IN ('e', 'r', 'm') OR EXISTS (SELECT 1 " \
"     FROM pg_catalog.pg_opclass o JOIN pg_catalog.pg_am m ON m.oid = o.opcmethod " \
"     WHERE m.amname = 'btree' AND o.opcdefault " \
"     AND o.opcintype = COALESCE(et.oid, bt.oid)) "

/* The catalog query of a table: columns, kinds, key. */
static const char *const table_sql =
"SELECT a.attname, a.atttypid::pg_catalog.int8, a.attgenerated <> '', "
"       a.attidentity = 'a', "
"       COALESCE((SELECT k.n FROM pg_catalog.unnest(i.indkey) WITH ORDINALITY "
"                 AS k(att, n) WHERE k.att = a.attnum), 0), "
"       a.attnotnull, " TYPE_KINDS
",      COALESCE(et.oid, bt.oid) = 790, "
"       pg_catalog.format_type(a.atttypid, a.atttypmod) "
"FROM pg_catalog.pg_class c "
"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
"     AND NOT a.attisdropped "
"LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisprimary "
TYPE_JOINS("a.atttypid")
"WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') "
"ORDER BY a.attnum";

/* The attributes of composite types (an array of OIDs), with their kinds
 * and whether they are money. */
static const char *const composite_sql =
"SELECT ct.oid::pg_catalog.int8, a.attname, " TYPE_KINDS
",      COALESCE(et.oid, bt.oid) = 790 "
"FROM pg_catalog.pg_type ct "
"JOIN pg_catalog.pg_attribute a ON a.attrelid = ct.typrelid AND a.attnum > 0 "
"     AND NOT a.attisdropped "
TYPE_JOINS("a.atttypid")
"WHERE ct.oid = ANY ($1::pg_catalog.oid[]) "
"ORDER BY 1, a.attnum";

/* Add oid to the array literal of types to read unless it is known. */
static void
want_ctype(pgs_sink *s, Oid oid, trib_strbuf *want)
{
	if (oid == 0 || pgs_ctype_find(s->ctypes, oid))
		return;
	trib_strbuf_printf(want, "%s%u", want->len > 1 ? "," : "", (unsigned) oid);
}

/* Read the composite types in `want` ("{oid,...}") into the cache. */
static bool
ctypes_read(pgs_sink *s, trib_strbuf *want, char *errbuf, size_t errlen)
{
	const char *params[1];
	PGresult   *res;
	int			i,
				n;
	pgs_ctype	   *ct = NULL;
	char	   *save = NULL;

	trib_strbuf_addc(want, '}');
	params[0] = want->data;
	res = pgs_run(s, composite_sql, 1, params, NULL, "reading composite types", errbuf, errlen);
	if (!res)
		return false;
	/* every type asked for gets an entry, also one without attributes */
	for (char *tok = strtok_r(want->data + 1, ",}", &save); tok; tok = strtok_r(NULL, ",}", &save))
	{
		Oid			oid = (Oid) strtoul(tok, NULL, 10);

		if (pgs_ctype_find(s->ctypes, oid))
			continue;			/* named twice */
		ct = trib_xcalloc(1, sizeof(*ct));
		ct->oid = oid;
		ct->next = s->ctypes;
		s->ctypes = ct;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++)
	{
		pgs_cfield	   *f;

		ct = (pgs_ctype *) pgs_ctype_find(s->ctypes, (Oid) strtoul(PQgetvalue(res, i, 0), NULL, 10));
		if (!ct)
			continue;
		ct->f = trib_xrealloc(ct->f, sizeof(pgs_cfield) * (size_t) (ct->nf + 1));
		f = &ct->f[ct->nf++];
		f->name = trib_xstrdup(PQgetvalue(res, i, 1));
		f->kind = PQgetvalue(res, i, 2)[0];
		f->ekind = PQgetvalue(res, i, 3)[0];
		f->sub = (Oid) strtoul(PQgetvalue(res, i, 4), NULL, 10);
		f->money = PQgetvalue(res, i, 6)[0] == 't';
	}
	PQclear(res);
	return true;
}

/* Does a value of this field need rewriting (a bytea, date/time or money
 * at any depth, as far as known so far)? */
static bool
field_fix(const pgs_sink *s, const pgs_cfield *f)
{
	const pgs_ctype *sub;

	if (f->money || f->kind == 'b' || f->kind == 'd' ||
		(f->kind == 'a' && (f->ekind == 'b' || f->ekind == 'd')))
		return true;
	return f->kind == 'c' && (sub = pgs_ctype_find(s->ctypes, f->sub)) != NULL && sub->fix;
}

/* Read the composite types of t's columns, and theirs, into the cache;
 * then mark the ones whose values need rewriting. */
static bool
ctypes_load(pgs_sink *s, const pgs_tinfo *t, char *errbuf, size_t errlen)
{
	bool		changed = true;
	pgs_ctype	   *ct;
	int			i;

	for (;;)
	{
		trib_strbuf want = {0};

		trib_strbuf_addc(&want, '{');
		for (i = 0; i < t->ncols; i++)
			want_ctype(s, t->cols[i].pgs_ctype, &want);
		for (ct = s->ctypes; ct; ct = ct->next)
			for (i = 0; i < ct->nf; i++)
				want_ctype(s, ct->f[i].sub, &want);
		if (want.len == 1)
		{
			trib_strbuf_free(&want);
			break;
		}
		if (!ctypes_read(s, &want, errbuf, errlen))
		{
			trib_strbuf_free(&want);
			return false;
		}
		trib_strbuf_free(&want);
	}
	while (changed)
	{
		changed = false;
		for (ct = s->ctypes; ct; ct = ct->next)
			for (i = 0; i < ct->nf && !ct->fix; i++)
				if (field_fix(s, &ct->f[i]))
					ct->fix = changed = true;
	}
	return true;
}

/* Read a table's columns and key from the target's catalog. */
bool
pgs_tinfo_load(pgs_sink *s, pgs_tinfo *t, char *errbuf, size_t errlen)
{
	const char *params[2] = {t->schema, t->table};
	PGresult   *res;
	int			i,
				n;

	pgs_tinfo_clear(t);
	s->stats.catalog_reads++;
	res = pgs_run(s, table_sql, 2, params, NULL, "reading the catalog", errbuf, errlen);
	if (!res)
		return false;
	n = PQntuples(res);
	t->loaded = true;
	t->exists = n > 0;
	t->ncols = n;
	t->cols = trib_xcalloc((size_t) n + 1, sizeof(pgs_tcol));
	t->pk = trib_xcalloc((size_t) n + 1, sizeof(int));
	t->slot = trib_xcalloc((size_t) n + 1, sizeof(size_t));
	t->skip = trib_xcalloc((size_t) n + 1, sizeof(bool));
	t->hcap = 2 * n + 1;
	t->hash = trib_xcalloc((size_t) t->hcap, sizeof(int));
	for (i = 0; i < n; i++)
	{
		pgs_tcol	   *c = &t->cols[i];
		size_t		h;

		c->name = trib_xstrdup(PQgetvalue(res, i, 0));
		c->qname = pgs_qident(s->conn, c->name);
		c->type = (Oid) strtoul(PQgetvalue(res, i, 1), NULL, 10);
		c->generated = PQgetvalue(res, i, 2)[0] == 't';
		c->identity_always = PQgetvalue(res, i, 3)[0] == 't';
		c->pkpos = atoi(PQgetvalue(res, i, 4));
		c->notnull = PQgetvalue(res, i, 5)[0] == 't';
		c->kind = PQgetvalue(res, i, 6)[0];
		c->ekind = PQgetvalue(res, i, 7)[0];
		c->pgs_ctype = (Oid) strtoul(PQgetvalue(res, i, 8), NULL, 10);
		c->eq = PQgetvalue(res, i, 9)[0] == 't';
		c->money = PQgetvalue(res, i, 10)[0] == 't';
		c->tname = trib_xstrdup(PQgetvalue(res, i, 11));
		if (!c->qname)
		{
			snprintf(errbuf, errlen, "cannot quote column name of %s", t->qname);
			PQclear(res);
			return false;
		}
		if (c->kind == 'c')
		{
			trib_strbuf j = {0};

			trib_jdoc_quote(&j, c->name);
			c->jname = trib_strbuf_finish(&j);
		}
		h = (size_t) (name_hash(c->name, strlen(c->name)) % (uint64_t) t->hcap);
		while (t->hash[h])
			h = (h + 1) % (size_t) t->hcap;
		t->hash[h] = i + 1;
	}
	PQclear(res);
	if (!ctypes_load(s, t, errbuf, errlen))
		return false;
	for (i = 0; i < n; i++)
		if (t->cols[i].pkpos > 0 && t->cols[i].pkpos <= n)
			t->npk++;
	for (i = 0; i < n; i++)
		if (t->cols[i].pkpos > 0 && t->cols[i].pkpos <= t->npk)
			t->pk[t->cols[i].pkpos - 1] = i;
	return true;
}

/* The entry of schema.table (created, not loaded, when new). */
pgs_tinfo *
pgs_tinfo_get(pgs_sink *s, const char *schema, const char *table, char *errbuf,
		  size_t errlen)
{
	pgs_tinfo	   *t;
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

/* True when a source type name names an array ("...[]"). */
static bool
is_array_name(const char *type)
{
	size_t		n = type ? strlen(type) : 0;

	return n > 2 && strcmp(type + n - 2, "[]") == 0;
}

/*
 * The DDL text of each named type, checked by the target: the source's
 * text when the target resolves it and it is plain, else the target's own
 * rendering; a type the target does not have is an error naming the column
 * and the ways out, or, with unknown_types: text, text (text[] for an
 * array).  types[0..n) must be NULL on entry; they are set to malloc'd
 * strings, which the caller frees (also after a failure).
 */
static bool
resolve_types(pgs_sink *s, const trib_relation *rel, const int *which, int n,
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

		if (PQgetisnull(res, i, 0) && s->unknown_as_text)
		{
			types[i] = trib_xstrdup(is_array_name(c->type) ? "text[]" : "text");
			tlog_warn("sink.postgres", "%s.%s: column %s: type \"%s\" does not exist in "
					  "the target database; created as %s (unknown_types: text)",
					  rel->schema, rel->table, c->name, c->type ? c->type : "", types[i]);
			continue;
		}
		if (PQgetisnull(res, i, 0))
		{
			snprintf(errbuf, errlen, "%s.%s: column \"%s\" has type \"%s\", which does not "
					 "exist in the target database: create the type there, set "
					 "`unknown_types: text` on the sink to create the column as text, or "
					 "leave the column out with a `drop` transform rule", rel->schema,
					 rel->table, c->name, c->type ? c->type : "");
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
ensure_schema(pgs_sink *s, const char *schema, char *errbuf, size_t errlen)
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
create_or_alter(pgs_sink *s, pgs_tinfo *t, const trib_relation *rel,
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

		if (name && (create || pgs_tinfo_find(t, name, strlen(name)) < 0))
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

/* Do a and b describe the same columns for create_or_alter(): names,
 * types, nullability and the key (the primary key, else the replica
 * identity; which columns are in the identity does not matter when there
 * is a primary key, as for publish-via-root partitions that differ only
 * in their REPLICA IDENTITY)? */
static bool
same_columns(const trib_relation *a, const trib_relation *b)
{
	bool		any_pk = false;

	if (a->ncolumns != b->ncolumns)
		return false;
	for (int i = 0; i < a->ncolumns; i++)
		any_pk = any_pk || a->columns[i].pk;
	for (int i = 0; i < a->ncolumns; i++)
	{
		const trib_column *x = &a->columns[i];
		const trib_column *y = &b->columns[i];

		if ((x->name == NULL) != (y->name == NULL) || (x->type == NULL) != (y->type == NULL) ||
			(x->name && strcmp(x->name, y->name) != 0) ||
			(x->type && strcmp(x->type, y->type) != 0) ||
			x->type_oid != y->type_oid || x->nullable != y->nullable || x->pk != y->pk ||
			(!any_pk && x->identity != y->identity))
			return false;
	}
	return true;
}

/* Make sure schema.table is known and, with create_tables and a relation
 * that has columns, exists with them (created or widened).  A relation
 * that describes the same columns as the last one applied (a source's
 * record that alternates, e.g. PostgreSQL partitions with different
 * replica identities under publish-via-root) is taken without a check. */
bool
pgs_prepare_target(pgs_sink *s, const char *schema, const char *table,
				   const trib_relation *rel, char *errbuf, size_t errlen)
{
	pgs_tinfo	   *t = pgs_tinfo_get(s, schema, table, errbuf, errlen);

	if (!t)
		return false;
	if (!t->loaded && !pgs_tinfo_load(s, t, errbuf, errlen))
		return false;
	if (s->create_tables && rel && rel->ncolumns > 0 &&
		(t->rel != rel || t->rel_version != rel->version || !t->exists))
	{
		if (!t->exists || t->def == NULL || !same_columns(t->def, rel))
		{
			trib_relation_free(t->def);
			t->def = NULL;
			if (!create_or_alter(s, t, rel, errbuf, errlen) ||
				!pgs_tinfo_load(s, t, errbuf, errlen))
				return false;
			t->def = trib_relation_copy(rel);
		}
		t->rel = rel;
		t->rel_version = rel->version;
	}
	if (!t->exists)
	{
		snprintf(errbuf, errlen, "target table %s does not exist%s", t->qname,
				 s->create_tables ? " and the event carries no table definition"
				 : " (create_tables is off)");
		return false;
	}
	return true;
}

/* Make sure the table of a queued event is known (and exists). */
bool
pgs_prepare_table(pgs_sink *s, const pgs_bentry *b, char *errbuf, size_t errlen)
{
	return pgs_prepare_target(s, b->schema, b->table, b->rel, errbuf, errlen);
}

/* The source's relation of the last queued event for t, or NULL. */
static const trib_relation *
queued_relation(const pgs_sink *s, const pgs_tinfo *t)
{
	size_t		i;

	for (i = s->nq; i-- > 0;)
		if (s->q[i].rel && strcmp(s->q[i].schema, t->schema) == 0 &&
			strcmp(s->q[i].table, t->table) == 0)
			return s->q[i].rel;
	return NULL;
}

/* Append the columns of t whose type differs from the source's, and what
 * to do (see the header). */
void
pgs_type_change_hint(const pgs_sink *s, const pgs_tinfo *t, char *errbuf, size_t errlen)
{
	const trib_relation *rel = queued_relation(s, t);
	trib_strbuf msg = {0};
	int			i,
				j,
				n = 0;

	for (i = 0; rel && i < rel->ncolumns; i++)
	{
		const trib_column *rc = &rel->columns[i];

		/* only a PostgreSQL source names types as the target does */
		if (!rc->name || !rc->type || rc->type_oid == 0 ||
			(j = pgs_tinfo_find(t, rc->name, strlen(rc->name))) < 0 ||
			strcmp(rc->type, t->cols[j].tname) == 0)
			continue;
		trib_strbuf_printf(&msg, "%scolumn %s is %s at the source, %s in the target",
						   n++ ? "; " : "", t->cols[j].qname, rc->type, t->cols[j].tname);
	}
	if (n > 0)
	{
		size_t		l = strlen(errbuf);

		/* short: the whole message fits the pipeline's 512 bytes */
		trib_strbuf_add(&msg, "", 0);
		snprintf(errbuf + l, errlen - l,
				 " -- in target table %s, %s: change the target's column to the source's "
				 "type (ALTER TABLE ... ALTER COLUMN ... TYPE) and restart; nothing of this "
				 "batch was applied (docs/POSTGRES_SINK.md)", t->qname, msg.data);
	}
	trib_strbuf_free(&msg);
}
