/*
 * mysql_snapshot_tables.c: the MySQL snapshot engine's tables
 * (mysql_snapshot_int.h): the list to copy (all base tables outside the
 * system schemas, largest first, or the listed ones), and each one's
 * description: columns and their kinds, the key of its events, the key
 * its chunks are read by (the primary key, else a unique NOT NULL
 * index's), BIT widths.
 */
#include <stdlib.h>
#include <string.h>

#include "mysql_infoschema.h"
#include "mysql_int.h"
#include "mysql_snapshot_int.h"
#include "xalloc.h"

/* The tables to copy: (db, table, rows estimate) rows. */
static bool
list_tables(trib_my_snap *s, trib_my_rows *out, char *errbuf, size_t errlen)
{
	static const char *const all =
		"SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES "
		"WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND TABLE_SCHEMA NOT IN "
		"('mysql', 'information_schema', 'performance_schema', 'sys') "
		"ORDER BY TABLE_ROWS DESC, TABLE_SCHEMA, TABLE_NAME";
	static const char *const one =
		"SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES "
		"WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND TABLE_SCHEMA = ? "
		"AND TABLE_NAME = ?";
	trib_my_rows r;

	if (s->conf.tables == NULL)
		return trib_my_select(s->w[0].m, all, NULL, 0, out, errbuf, errlen);
	memset(out, 0, sizeof(*out));
	out->ncols = 3;
	for (int i = 0; s->conf.tables[i]; i++)
	{
		const char *name = s->conf.tables[i],
				   *dot = strchr(name, '.');
		char	   *db;
		const char *p[2];
		bool		ok;

		if (dot == NULL || dot == name || dot[1] == '\0')
			return trib_my_fail(errbuf, errlen, "snapshot_tables: \"%s\" is not DB.TABLE", name);
		db = trib_xstrndup(name, (size_t) (dot - name));
		p[0] = db;
		p[1] = dot + 1;
		ok = trib_my_select(s->w[0].m, one, p, 2, &r, errbuf, errlen);
		free(db);
		if (!ok)
			return false;
		if (r.nrows != 1)
		{
			trib_my_rows_free(&r);
			return trib_my_fail(errbuf, errlen, "snapshot_tables: no base table %s on the server",
								name);
		}
		out->cells = trib_xrealloc(out->cells, sizeof(char *) * 3 * (size_t) (out->nrows + 1));
		for (int k = 0; k < 3; k++)
		{
			out->cells[3 * out->nrows + k] = r.cells[k];
			r.cells[k] = NULL;
		}
		out->nrows++;
		trib_my_rows_free(&r);
	}
	return true;
}

/* BIT(n) widths of a table's columns. */
static bool
bit_widths(MYSQL *m, trib_my_snap_table *t, char *errbuf, size_t errlen)
{
	const char *p[2] = {t->db, t->table};
	trib_my_rows r;

	if (!trib_my_select(m, "SELECT COLUMN_NAME, NUMERIC_PRECISION FROM "
						"information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
						"AND DATA_TYPE = 'bit'", p, 2, &r, errbuf, errlen))
		return false;
	for (int i = 0; i < r.nrows; i++)
		for (int c = 0; c < t->info->ncols; c++)
			if (strcmp(t->info->cols[c].name, trib_my_cell(&r, i, 0)) == 0)
				t->bits[c] = atoi(trib_my_cell(&r, i, 1));
	trib_my_rows_free(&r);
	return true;
}

/* Can a key column of this kind be compared as text for chunks? */
static bool
chunkable(trib_my_snaprow_kind k)
{
	return k == TRIB_MY_SNAPROW_NUMBER || k == TRIB_MY_SNAPROW_DATE ||
		k == TRIB_MY_SNAPROW_TIME || k == TRIB_MY_SNAPROW_DATETIME ||
		k == TRIB_MY_SNAPROW_TIMESTAMP || k == TRIB_MY_SNAPROW_TEXT ||
		k == TRIB_MY_SNAPROW_BINARY;
}

/* Index of the column named `name` in t, or -1. */
static int
column_index(const trib_my_snap_table *t, const char *name)
{
	for (int c = 0; c < t->info->ncols; c++)
		if (strcmp(t->info->cols[c].name, name) == 0)
			return c;
	return -1;
}

/*
 * A table without a usable primary key: chunk it by a unique index whose
 * columns are all NOT NULL and chunkable instead (the fewest columns,
 * then the first by name), so that its copy resumes after a crash too.
 * Such an index orders and identifies every row as a primary key does;
 * the events' key stays empty (it is not the table's identity).  None:
 * t->npk stays 0 and the table is read in one pass.
 */
static bool
unique_chunk_key(MYSQL *m, trib_my_snap_table *t, char *errbuf, size_t errlen)
{
	const char *p[2] = {t->db, t->table};
	trib_my_rows r;
	int		   *cols = trib_xcalloc((size_t) t->info->ncols + 1, sizeof(int));

	if (!trib_my_select(m, "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
						"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 "
						"ORDER BY INDEX_NAME, SEQ_IN_INDEX", p, 2, &r, errbuf, errlen))
	{
		free(cols);
		return false;
	}
	for (int i = 0; i < r.nrows;)
	{
		const char *name = trib_my_cell(&r, i, 0);
		int			n = 0;
		bool		usable = true;

		for (; i < r.nrows && strcmp(trib_my_cell(&r, i, 0), name) == 0; i++)
		{
			int			c = column_index(t, trib_my_cell(&r, i, 1));

			if (c < 0 || n >= t->info->ncols || t->info->cols[c].nullable ||
				!chunkable(t->kinds[c]))
				usable = false;
			else
				cols[n++] = c;
		}
		if (usable && n > 0 && (t->npk == 0 || n < t->npk))
		{
			memcpy(t->pk, cols, sizeof(int) * (size_t) n);
			t->npk = n;
		}
	}
	trib_my_rows_free(&r);
	free(cols);
	return true;
}

/* Describe one table (m: a connection for the catalog queries). */
bool
msnap_describe(MYSQL *m, trib_my_infoschema *is, trib_my_snap_table *t,
			   char *errbuf, size_t errlen)
{
	int			n;

	if (!trib_my_infoschema_load(is, t->db, t->table, &t->info, NULL, errbuf, errlen))
		return false;
	if (t->info == NULL)
		return trib_my_fail(errbuf, errlen, "snapshot: table %s.%s has no columns", t->db,
							t->table);
	n = t->info->ncols;
	t->kinds = trib_xcalloc((size_t) n, sizeof(*t->kinds));
	t->bits = trib_xcalloc((size_t) n, sizeof(int));
	t->pk = trib_xcalloc((size_t) n, sizeof(int));
	t->key = trib_xcalloc((size_t) n, sizeof(int));
	trib_my_tableinfo_relation(t->info, &t->rel);	/* freed before close */
	t->rel.schema = t->db;
	t->rel.table = t->table;
	for (int c = 0; c < n; c++)
	{
		const trib_my_colinfo *ci = &t->info->cols[c];

		t->kinds[c] = trib_my_snaprow_kind_of(ci);
		if (ci->pk_pos > 0 && ci->pk_pos <= n)
		{
			t->key[ci->pk_pos - 1] = c;
			t->nkey++;
		}
	}
	t->npk = t->nkey;
	for (int k = 0; k < t->nkey; k++)
	{
		t->pk[k] = t->key[k];
		if (!chunkable(t->kinds[t->key[k]]))
			t->npk = 0;
	}
	if (t->npk == 0 && !unique_chunk_key(m, t, errbuf, errlen))
		return false;
	return bit_widths(m, t, errbuf, errlen);
}

/* Free a table's description (what msnap_describe() filled). */
void
msnap_table_clear(trib_my_snap_table *t)
{
	trib_my_tableinfo_free(t->info);
	free(t->kinds);
	free(t->bits);
	free(t->pk);
	free(t->key);
	free(t->rel.columns);
	t->info = NULL;
	t->kinds = NULL;
	t->bits = t->pk = t->key = NULL;
	t->rel.columns = NULL;
	t->nkey = t->npk = 0;
}

/* List and describe the tables. */
bool
msnap_load_tables(trib_my_snap *s, char *errbuf, size_t errlen)
{
	trib_my_rows r;
	trib_my_infoschema *is;
	bool		ok = true;

	if (!list_tables(s, &r, errbuf, errlen))
		return false;
	s->nt = r.nrows;
	s->t = trib_xcalloc((size_t) r.nrows + 1, sizeof(trib_my_snap_table));
	is = trib_my_infoschema_new(&s->conf.conn);
	for (int i = 0; i < r.nrows && ok; i++)
	{
		s->t[i].db = trib_xstrdup(trib_my_cell(&r, i, 0));
		s->t[i].table = trib_xstrdup(trib_my_cell(&r, i, 1));
		s->t[i].estimate = strtod(trib_my_cell(&r, i, 2), NULL);
		ok = msnap_describe(s->w[0].m, is, &s->t[i], errbuf, errlen);
	}
	trib_my_infoschema_free(is);
	trib_my_rows_free(&r);
	return ok;
}
