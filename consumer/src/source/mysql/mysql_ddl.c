/*
 * mysql_ddl.c: table DDL statements into new table versions
 * (mysql_ddl.h).
 *
 * The statement is scanned (mysql_ddl_lex.c), its first words pick the
 * form, and each form works on copies of the versions the statement
 * starts from: the tables it already changed (the result's changes, so
 * that RENAME TABLE a TO t, b TO a, t TO b works), else the history's
 * previous version through the callback.  Any step that cannot derive a
 * fact says why and the whole statement becomes uncertain, with no
 * changes.  Column definitions are parsed in mysql_ddl_col.c.
 */
#include "mysql_ddl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mysql_ddl_int.h"

typedef struct ddl_state
{
	trib_my_ddl_cur c;
	const char *db;				/* the default database, or NULL */
	trib_my_ddl_prev_fn prev;
	void	   *prev_arg;
	trib_my_ddl_result *r;
} ddl_state;

/* A qualified name at the cursor: [db .] table. */
static bool
table_name(ddl_state *st, char **db, char **table)
{
	char	   *first;

	*db = *table = NULL;
	if (!trib_my_ddl_name(&st->c, &first))
		return false;
	if (trib_my_ddl_accept_punct(&st->c, '.'))
	{
		*db = first;
		if (trib_my_ddl_name(&st->c, table))
			return true;
		free(*db);
		*db = NULL;
		return false;
	}
	if (st->db == NULL || st->db[0] == '\0')
	{
		free(first);
		return trib_my_ddl_uncertain(&st->c, "a table name without a database, and no default database");
	}
	*db = trib_xstrdup(st->db);
	*table = first;
	return true;
}

/* Skip MariaDB's WAIT n / NOWAIT after a table name. */
static void
skip_wait(ddl_state *st)
{
	if (trib_my_ddl_accept(&st->c, "WAIT"))
		st->c.i++;
	else
		(void) trib_my_ddl_accept(&st->c, "NOWAIT");
}

/* The version of db.table as of this point of the statement: true with
 * *out (NULL: absent); false (why) when not known. */
static bool
current(ddl_state *st, const char *db, const char *table, const trib_my_tableinfo **out)
{
	for (int i = st->r->nchanges - 1; i >= 0; i--)
		if (strcmp(st->r->changes[i].db, db) == 0 && strcmp(st->r->changes[i].table, table) == 0)
		{
			*out = st->r->changes[i].info;
			return true;
		}
	if (st->prev && st->prev(st->prev_arg, db, table, out))
		return true;
	return trib_my_ddl_uncertain(&st->c, "the version of %s.%s before the statement is not known",
								 db, table);
}

/* Record a new version of db.table (info NULL: absent; taken over). */
static void
change(ddl_state *st, const char *db, const char *table, trib_my_tableinfo *info)
{
	trib_my_ddl_change *ch;

	st->r->changes = trib_xrealloc(st->r->changes,
								   sizeof(trib_my_ddl_change) * (size_t) (st->r->nchanges + 1));
	ch = &st->r->changes[st->r->nchanges++];
	ch->db = trib_xstrdup(db);
	ch->table = trib_xstrdup(table);
	ch->info = info;
	if (info)
	{
		free(info->db);
		free(info->table);
		info->db = trib_xstrdup(db);
		info->table = trib_xstrdup(table);
	}
}

/* The index of a column by name (without case), or -1. */
static int
column_index(const trib_my_tableinfo *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcasecmp(t->cols[i].name, name) == 0)
			return i;
	return -1;
}

/* Insert col (taken over) at place `at` of t. */
static void
insert_column(trib_my_tableinfo *t, int at, trib_my_colinfo *col)
{
	t->cols = trib_xrealloc(t->cols, sizeof(trib_my_colinfo) * (size_t) (t->ncols + 1));
	memmove(&t->cols[at + 1], &t->cols[at], sizeof(trib_my_colinfo) * (size_t) (t->ncols - at));
	t->cols[at] = *col;
	t->ncols++;
	memset(col, 0, sizeof(*col));
}

/* Remove column `at` of t into *col (NULL: freed). */
static void
remove_column(trib_my_tableinfo *t, int at, trib_my_colinfo *col)
{
	if (col)
		*col = t->cols[at];
	else
		trib_my_colinfo_clear(&t->cols[at]);
	memmove(&t->cols[at], &t->cols[at + 1], sizeof(trib_my_colinfo) * (size_t) (t->ncols - at - 1));
	t->ncols--;
}

/* Whether t has a primary key. */
static bool
has_pk(const trib_my_tableinfo *t)
{
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].pk_pos > 0)
			return true;
	return false;
}

/* (a, b(10) DESC, ...): the key's columns become the primary key. */
static bool
key_columns(ddl_state *st, trib_my_tableinfo *t)
{
	int			pos = 0;

	if (has_pk(t))
		return trib_my_ddl_uncertain(&st->c, "a second primary key");
	while (!trib_my_ddl_is_punct(&st->c, '(') && !trib_my_ddl_item_end(&st->c))
		st->c.i++;				/* [name] [USING BTREE] */
	if (!trib_my_ddl_accept_punct(&st->c, '('))
		return trib_my_ddl_uncertain(&st->c, "PRIMARY KEY without its columns");
	do
	{
		char	   *name;
		int			i;

		if (!trib_my_ddl_name(&st->c, &name))
			return false;
		i = column_index(t, name);
		free(name);
		if (i < 0)
			return trib_my_ddl_uncertain(&st->c, "PRIMARY KEY names an unknown column");
		t->cols[i].pk_pos = ++pos;
		t->cols[i].nullable = false;
		if (trib_my_ddl_is_punct(&st->c, '('))
			trib_my_ddl_skip(&st->c);	/* a prefix length */
		if (!trib_my_ddl_accept(&st->c, "ASC"))
			(void) trib_my_ddl_accept(&st->c, "DESC");
	} while (trib_my_ddl_accept_punct(&st->c, ','));
	if (!trib_my_ddl_accept_punct(&st->c, ')'))
		return trib_my_ddl_uncertain(&st->c, "PRIMARY KEY's column list");
	return true;
}

/* Skip to the end of the current list item. */
static void
skip_item(ddl_state *st)
{
	while (!trib_my_ddl_item_end(&st->c))
		trib_my_ddl_skip(&st->c);
}

/* Whether a key or constraint definition starts here. */
static bool
at_constraint(const ddl_state *st)
{
	static const char *const words[] = {
		"PRIMARY", "KEY", "INDEX", "UNIQUE", "FULLTEXT", "SPATIAL", "FOREIGN",
		"CONSTRAINT", "CHECK", NULL
	};

	return trib_my_ddl_is_one_of(&st->c, words);
}

/* A key or constraint: PRIMARY KEY and the JSON check change t. */
static bool
constraint(ddl_state *st, trib_my_tableinfo *t)
{
	char	   *name;

	if (trib_my_ddl_accept(&st->c, "CONSTRAINT") && !trib_my_ddl_is(&st->c, "PRIMARY") &&
		!trib_my_ddl_is(&st->c, "CHECK") && !trib_my_ddl_is(&st->c, "UNIQUE") &&
		!trib_my_ddl_is(&st->c, "FOREIGN"))
		st->c.i++;				/* its name */
	if (trib_my_ddl_accept(&st->c, "PRIMARY"))
		return (trib_my_ddl_accept(&st->c, "KEY") ||
				trib_my_ddl_uncertain(&st->c, "PRIMARY without KEY")) && key_columns(st, t);
	if (trib_my_ddl_accept(&st->c, "CHECK"))
	{
		if (!trib_my_ddl_is_punct(&st->c, '('))
			return trib_my_ddl_uncertain(&st->c, "CHECK without (...)");
		if (trib_my_ddl_json_check(&st->c, &name))
		{
			int			i = column_index(t, name);

			free(name);
			if (i < 0)
				return trib_my_ddl_uncertain(&st->c, "a json_valid() check on an unknown column");
			t->cols[i].is_json = true;
			free(t->cols[i].column_type);
			t->cols[i].column_type = trib_xstrdup("json");
		}
	}
	skip_item(st);
	return true;
}

/* CREATE TABLE's options after the column list: the default collation of
 * its character columns (0: not said); false for LIKE / SELECT. */
static bool
table_options(ddl_state *st, int from, uint32_t *coll)
{
	trib_my_ddl_cur c = st->c;
	uint32_t	charset_coll = 0,
				collate_coll = 0;

	c.i = from;
	while (c.i < c.tk->n)
	{
		const trib_my_tok *t = trib_my_ddl_peek(&c, 0);

		if (trib_my_ddl_is(&c, "SELECT") || trib_my_ddl_is(&c, "AS") ||
			trib_my_ddl_is(&c, "LIKE") || trib_my_ddl_is(&c, "IGNORE") ||
			trib_my_ddl_is(&c, "REPLACE"))
			return trib_my_ddl_uncertain(&st->c, "CREATE TABLE ... %s", t->text);
		if (trib_my_ddl_is(&c, "WITH") && trib_my_ddl_peek(&c, 1) &&
			strcasecmp(trib_my_ddl_peek(&c, 1)->text, "SYSTEM") == 0)
			return trib_my_ddl_uncertain(&st->c, "CREATE TABLE ... WITH SYSTEM VERSIONING "
										 "(hidden row_start and row_end columns)");
		if (trib_my_ddl_accept(&c, "CHARSET") || trib_my_ddl_accept2(&c, "CHARACTER", "SET") ||
			trib_my_ddl_accept(&c, "COLLATE"))
		{
			bool		collate = strcasecmp(c.tk->t[c.i - 1].text, "COLLATE") == 0;

			(void) trib_my_ddl_accept_punct(&c, '=');
			if ((t = trib_my_ddl_peek(&c, 0)) == NULL)
				break;
			if (collate)
				collate_coll = trib_my_ddl_collation(t->text);
			else
				charset_coll = trib_my_ddl_charset_default(t->text);
		}
		trib_my_ddl_skip(&c);
	}
	*coll = collate_coll ? collate_coll : charset_coll;
	return true;
}

/* The column and key definitions of CREATE TABLE, into t. */
static bool
create_defs(ddl_state *st, uint32_t coll, trib_my_tableinfo *t)
{
	do
	{
		trib_my_colinfo col;
		bool		pk;

		if (at_constraint(st))
		{
			if (!constraint(st, t))
				return false;
			continue;
		}
		if (!trib_my_ddl_column(&st->c, coll, &col, &pk))
			return false;
		if (column_index(t, col.name) >= 0)
		{
			trib_my_colinfo_clear(&col);
			return trib_my_ddl_uncertain(&st->c, "a column defined twice");
		}
		if (pk && has_pk(t))
		{
			trib_my_colinfo_clear(&col);
			return trib_my_ddl_uncertain(&st->c, "a second primary key");
		}
		col.pk_pos = pk ? 1 : 0;
		insert_column(t, t->ncols, &col);
		if (!trib_my_ddl_item_end(&st->c))
			return trib_my_ddl_uncertain(&st->c, "FIRST / AFTER in CREATE TABLE");
	} while (trib_my_ddl_accept_punct(&st->c, ','));
	if (!trib_my_ddl_accept_punct(&st->c, ')'))
		return trib_my_ddl_uncertain(&st->c, "the end of the column list");
	return true;
}

/* The token index after the group that starts at the cursor. */
static int
group_end(const ddl_state *st)
{
	trib_my_ddl_cur c = st->c;

	trib_my_ddl_skip(&c);
	return c.i;
}

/* CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS] t (...) ... */
static bool
create_table(ddl_state *st, bool temporary)
{
	char	   *db,
			   *table;
	bool		if_not_exists = false;
	const trib_my_tableinfo *old = NULL;
	trib_my_tableinfo *t;
	uint32_t	coll = 0;
	int			end;

	if (temporary)
		return true;			/* its rows are not in a row-based binlog */
	if (trib_my_ddl_accept(&st->c, "IF"))
		if_not_exists = trib_my_ddl_accept(&st->c, "NOT") && trib_my_ddl_accept(&st->c, "EXISTS");
	if (!table_name(st, &db, &table))
		return false;
	if (!trib_my_ddl_is_punct(&st->c, '(') ||
		(trib_my_ddl_peek(&st->c, 1) && trib_my_ddl_peek(&st->c, 1)->kind == TRIB_MY_TOK_WORD &&
		 strcasecmp(trib_my_ddl_peek(&st->c, 1)->text, "LIKE") == 0))
	{
		free(db);
		free(table);
		return trib_my_ddl_uncertain(&st->c, "CREATE TABLE without a column list (LIKE or SELECT)");
	}
	end = group_end(st);
	if (!table_options(st, end, &coll) || (if_not_exists && !current(st, db, table, &old)))
	{
		free(db);
		free(table);
		return false;
	}
	st->c.i++;					/* ( */
	t = trib_xcalloc(1, sizeof(*t));
	if (old == NULL && !create_defs(st, coll, t))
	{
		trib_my_tableinfo_free(t);
		free(db);
		free(table);
		return false;
	}
	st->c.i = st->c.tk->n;		/* the options were read */
	if (old == NULL)
		change(st, db, table, t);
	else
		trib_my_tableinfo_free(t);	/* IF NOT EXISTS, and it did */
	free(db);
	free(table);
	return true;
}

/* DROP [TEMPORARY] TABLE [IF EXISTS] a, b ... [RESTRICT | CASCADE] */
static bool
drop_table(ddl_state *st, bool temporary)
{
	if (trib_my_ddl_accept(&st->c, "IF") && !trib_my_ddl_accept(&st->c, "EXISTS"))
		return trib_my_ddl_uncertain(&st->c, "DROP TABLE IF without EXISTS");
	do
	{
		char	   *db,
				   *table;

		if (!table_name(st, &db, &table))
			return false;
		if (!temporary)
			change(st, db, table, NULL);
		free(db);
		free(table);
	} while (trib_my_ddl_accept_punct(&st->c, ','));
	skip_wait(st);
	if (!trib_my_ddl_accept(&st->c, "RESTRICT"))
		(void) trib_my_ddl_accept(&st->c, "CASCADE");
	return true;
}

/* db.table's version now, which must exist; a copy into *out. */
static bool
existing_copy(ddl_state *st, const char *db, const char *table, trib_my_tableinfo **out)
{
	const trib_my_tableinfo *t;

	*out = NULL;
	if (!current(st, db, table, &t))
		return false;
	if (t == NULL)
		return trib_my_ddl_uncertain(&st->c, "%s.%s does not exist in the schema history", db, table);
	*out = trib_my_tableinfo_copy(t);
	return true;
}

/* Move a table: the copy goes under its new name, the old one is gone. */
static void
move_table(ddl_state *st, const char *db, const char *table, trib_my_tableinfo *t,
		   const char *ndb, const char *ntable)
{
	change(st, db, table, NULL);
	change(st, ndb, ntable, t);
}

/* RENAME TABLE a TO b [, c TO d ...] */
static bool
rename_table(ddl_state *st)
{
	do
	{
		char	   *db,
				   *table,
				   *ndb = NULL,
				   *ntable = NULL;
		trib_my_tableinfo *t = NULL;
		bool		ok;

		ok = table_name(st, &db, &table);
		if (ok)
			skip_wait(st);
		ok = ok && (trib_my_ddl_accept(&st->c, "TO") ||
					trib_my_ddl_uncertain(&st->c, "RENAME TABLE without TO")) &&
			table_name(st, &ndb, &ntable) && existing_copy(st, db, table, &t);
		if (ok)
			move_table(st, db, table, t, ndb, ntable);
		free(db);
		free(table);
		free(ndb);
		free(ntable);
		if (!ok)
			return false;
	} while (trib_my_ddl_accept_punct(&st->c, ','));
	return true;
}

/* FIRST or AFTER col at the cursor: the place for a column in t (ncols
 * when neither). */
static bool
position(ddl_state *st, const trib_my_tableinfo *t, int *at)
{
	char	   *name;

	*at = t->ncols;
	if (trib_my_ddl_accept(&st->c, "FIRST"))
		*at = 0;
	else if (trib_my_ddl_accept(&st->c, "AFTER"))
	{
		if (!trib_my_ddl_name(&st->c, &name))
			return false;
		*at = column_index(t, name);
		free(name);
		if ((*at)++ < 0)
			return trib_my_ddl_uncertain(&st->c, "AFTER an unknown column");
	}
	return true;
}

/* [IF NOT EXISTS] / [IF EXISTS] after ADD / DROP / MODIFY / CHANGE. */
static bool
if_clause(ddl_state *st, bool not_exists)
{
	if (!trib_my_ddl_is(&st->c, "IF"))
		return false;
	st->c.i++;
	if (not_exists)
		(void) trib_my_ddl_accept(&st->c, "NOT");
	(void) trib_my_ddl_accept(&st->c, "EXISTS");
	return true;
}

/* One column of ADD [COLUMN], with its place. */
static bool
add_one(ddl_state *st, trib_my_tableinfo *t, bool if_not_exists)
{
	trib_my_colinfo col;
	bool		pk;
	int			at;

	if (!trib_my_ddl_column(&st->c, 0, &col, &pk))
		return false;
	if (!position(st, t, &at))
	{
		trib_my_colinfo_clear(&col);
		return false;
	}
	if (column_index(t, col.name) >= 0)
	{
		trib_my_colinfo_clear(&col);
		return if_not_exists || trib_my_ddl_uncertain(&st->c, "ADD of a column that exists");
	}
	if (pk && has_pk(t))
	{
		trib_my_colinfo_clear(&col);
		return trib_my_ddl_uncertain(&st->c, "a second primary key");
	}
	col.pk_pos = pk ? 1 : 0;
	insert_column(t, at, &col);
	return true;
}

/* ADD [COLUMN] [IF NOT EXISTS] col | (col, ...) | a key or constraint */
static bool
alter_add(ddl_state *st, trib_my_tableinfo *t)
{
	bool		ine;

	if (at_constraint(st))
		return constraint(st, t);
	if (trib_my_ddl_is(&st->c, "PARTITION") || trib_my_ddl_is(&st->c, "PERIOD") ||
		trib_my_ddl_is(&st->c, "SYSTEM"))
		return trib_my_ddl_uncertain(&st->c, "ADD %s", trib_my_ddl_peek(&st->c, 0)->text);
	(void) trib_my_ddl_accept(&st->c, "COLUMN");
	ine = if_clause(st, true);
	if (!trib_my_ddl_accept_punct(&st->c, '('))
		return add_one(st, t, ine);
	do
		if (!add_one(st, t, ine))
			return false;
	while (trib_my_ddl_accept_punct(&st->c, ','));
	return trib_my_ddl_accept_punct(&st->c, ')') ||
		trib_my_ddl_uncertain(&st->c, "the end of ADD's column list");
}

/* Whether t has a column that is JSON by a check constraint. */
static bool
has_json(const trib_my_tableinfo *t)
{
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].is_json)
			return true;
	return false;
}

/* DROP [COLUMN] [IF EXISTS] col | PRIMARY KEY | a key or constraint */
static bool
alter_drop(ddl_state *st, trib_my_tableinfo *t)
{
	char	   *name;
	bool		ie;
	int			i;

	if (trib_my_ddl_accept(&st->c, "PRIMARY"))
	{
		for (i = 0; i < t->ncols; i++)
			t->cols[i].pk_pos = 0;
		return trib_my_ddl_accept(&st->c, "KEY") ||
			trib_my_ddl_uncertain(&st->c, "DROP PRIMARY without KEY");
	}
	if (trib_my_ddl_is(&st->c, "CONSTRAINT") || trib_my_ddl_is(&st->c, "CHECK"))
	{
		if (has_json(t))
			return trib_my_ddl_uncertain(&st->c, "DROP CONSTRAINT may drop a json_valid() check");
		skip_item(st);
		return true;
	}
	if (trib_my_ddl_is(&st->c, "INDEX") || trib_my_ddl_is(&st->c, "KEY") ||
		trib_my_ddl_is(&st->c, "FOREIGN"))
	{
		skip_item(st);
		return true;
	}
	if (trib_my_ddl_is(&st->c, "PARTITION") || trib_my_ddl_is(&st->c, "PERIOD") ||
		trib_my_ddl_is(&st->c, "SYSTEM"))
		return trib_my_ddl_uncertain(&st->c, "DROP %s", trib_my_ddl_peek(&st->c, 0)->text);
	(void) trib_my_ddl_accept(&st->c, "COLUMN");
	ie = if_clause(st, false);
	if (!trib_my_ddl_name(&st->c, &name))
		return false;
	i = column_index(t, name);
	free(name);
	if (!trib_my_ddl_accept(&st->c, "RESTRICT"))
		(void) trib_my_ddl_accept(&st->c, "CASCADE");
	if (i < 0)
		return ie || trib_my_ddl_uncertain(&st->c, "DROP of an unknown column");
	if (t->cols[i].pk_pos > 0)
		return trib_my_ddl_uncertain(&st->c, "DROP of a primary key column");
	remove_column(t, i, NULL);
	return true;
}

/* MODIFY / CHANGE: column `i` of t becomes the definition at the cursor. */
static bool
redefine(ddl_state *st, trib_my_tableinfo *t, int i)
{
	trib_my_colinfo col,
				old;
	bool		pk;
	int			at;

	if (!trib_my_ddl_column(&st->c, 0, &col, &pk))
		return false;
	if (pk && has_pk(t))
	{
		trib_my_colinfo_clear(&col);
		return trib_my_ddl_uncertain(&st->c, "a second primary key");
	}
	remove_column(t, i, &old);
	col.pk_pos = pk ? 1 : old.pk_pos;
	if (col.pk_pos > 0)
		col.nullable = false;
	trib_my_colinfo_clear(&old);
	if (column_index(t, col.name) >= 0)
	{
		trib_my_colinfo_clear(&col);
		return trib_my_ddl_uncertain(&st->c, "a column renamed onto another");
	}
	at = i;						/* where it was, unless FIRST / AFTER */
	if (trib_my_ddl_is(&st->c, "FIRST") || trib_my_ddl_is(&st->c, "AFTER"))
		if (!position(st, t, &at))
		{
			trib_my_colinfo_clear(&col);
			return false;
		}
	insert_column(t, at, &col);
	return true;
}

/* MODIFY [COLUMN] [IF EXISTS] col ... / CHANGE [COLUMN] [IF EXISTS] old col ... */
static bool
alter_modify(ddl_state *st, trib_my_tableinfo *t, bool change_clause)
{
	bool		ie;
	int			i;
	const trib_my_tok *name;

	(void) trib_my_ddl_accept(&st->c, "COLUMN");
	ie = if_clause(st, false);
	name = trib_my_ddl_peek(&st->c, 0);
	if (name == NULL || (name->kind != TRIB_MY_TOK_WORD && name->kind != TRIB_MY_TOK_IDENT))
		return trib_my_ddl_uncertain(&st->c, "MODIFY / CHANGE without a column");
	i = column_index(t, name->text);
	if (change_clause)
		st->c.i++;
	if (i < 0 && ie)
	{
		skip_item(st);
		return true;
	}
	if (i < 0)
		return trib_my_ddl_uncertain(&st->c, "MODIFY / CHANGE of an unknown column");
	if (t->cols[i].is_json)
		return trib_my_ddl_uncertain(&st->c, "MODIFY / CHANGE of a JSON column (its json_valid() "
									 "check may stay or go)");
	return redefine(st, t, i);
}

/* RENAME COLUMN a TO b | RENAME {INDEX|KEY} a TO b | RENAME [TO|AS] t */
static bool
alter_rename(ddl_state *st, trib_my_tableinfo *t, char **ndb, char **ntable)
{
	char	   *from,
			   *to;
	int			i;

	if (trib_my_ddl_is(&st->c, "INDEX") || trib_my_ddl_is(&st->c, "KEY"))
	{
		skip_item(st);
		return true;
	}
	if (!trib_my_ddl_accept(&st->c, "COLUMN"))
	{
		if (!trib_my_ddl_accept(&st->c, "TO"))
			(void) trib_my_ddl_accept(&st->c, "AS");
		free(*ndb);
		free(*ntable);
		return table_name(st, ndb, ntable);
	}
	if (!trib_my_ddl_name(&st->c, &from))
		return false;
	i = column_index(t, from);
	free(from);
	if (!trib_my_ddl_accept(&st->c, "TO") || !trib_my_ddl_name(&st->c, &to))
		return trib_my_ddl_uncertain(&st->c, "RENAME COLUMN without TO");
	if (i < 0 || (column_index(t, to) >= 0 && column_index(t, to) != i) || t->cols[i].is_json)
	{
		free(to);
		return trib_my_ddl_uncertain(&st->c, "RENAME COLUMN of an unknown or JSON column, "
									 "or onto another");
	}
	free(t->cols[i].name);
	t->cols[i].name = to;
	return true;
}

/* ALTER TABLE clauses that change no column (the item is skipped). */
static bool
no_change_clause(ddl_state *st)
{
	static const char *const words[] = {
		"ENGINE", "AUTO_INCREMENT", "COMMENT", "ROW_FORMAT", "KEY_BLOCK_SIZE",
		"STATS_PERSISTENT", "STATS_AUTO_RECALC", "STATS_SAMPLE_PAGES",
		"PACK_KEYS", "CHECKSUM", "ALGORITHM", "LOCK", "FORCE", "MAX_ROWS",
		"MIN_ROWS", "AVG_ROW_LENGTH", "DELAY_KEY_WRITE", "PAGE_CHECKSUM",
		"TRANSACTIONAL", "ORDER", "ENABLE", "DISABLE", "ALTER", NULL
	};

	if (!trib_my_ddl_is_one_of(&st->c, words))
		return false;
	skip_item(st);
	return true;
}

/* One ALTER TABLE clause. */
static bool
alter_clause(ddl_state *st, trib_my_tableinfo *t, char **ndb, char **ntable)
{
	if (trib_my_ddl_accept(&st->c, "ADD"))
		return alter_add(st, t);
	if (trib_my_ddl_accept(&st->c, "DROP"))
		return alter_drop(st, t);
	if (trib_my_ddl_accept(&st->c, "MODIFY"))
		return alter_modify(st, t, false);
	if (trib_my_ddl_accept(&st->c, "CHANGE"))
		return alter_modify(st, t, true);
	if (trib_my_ddl_accept(&st->c, "RENAME"))
		return alter_rename(st, t, ndb, ntable);
	if (no_change_clause(st))
		return true;
	return trib_my_ddl_uncertain(&st->c, "ALTER TABLE clause %s is not one the parser knows",
								 trib_my_ddl_peek(&st->c, 0) ?
								 trib_my_ddl_peek(&st->c, 0)->text : "(none)");
}

/* Has t the hidden row_start and row_end of a table WITH SYSTEM VERSIONING
 * (mysql_infoschema.c adds them after the others)?  Columns added by ALTER
 * go before them, which the derivation does not know. */
static bool
implicit_period(const trib_my_tableinfo *t)
{
	return t && t->ncols >= 2 &&
		t->cols[t->ncols - 2].generated && t->cols[t->ncols - 1].generated &&
		strcmp(t->cols[t->ncols - 2].name, "row_start") == 0 &&
		strcmp(t->cols[t->ncols - 1].name, "row_end") == 0;
}

/* ALTER [ONLINE] [IGNORE] TABLE [IF EXISTS] t clause, ... */
static bool
alter_table(ddl_state *st)
{
	char	   *db,
			   *table,
			   *ndb = NULL,
			   *ntable = NULL;
	trib_my_tableinfo *t = NULL;
	const trib_my_tableinfo *old;
	bool		ie = if_clause(st, false),
				ok;

	if (!table_name(st, &db, &table))
		return false;
	skip_wait(st);
	ok = current(st, db, table, &old);
	if (ok && implicit_period(old))
		ok = trib_my_ddl_uncertain(&st->c, "ALTER of a table WITH SYSTEM VERSIONING "
								   "(hidden row_start and row_end columns)");
	if (ok && old == NULL && ie)
		st->c.i = st->c.tk->n;	/* nothing to alter */
	else if (ok && existing_copy(st, db, table, &t))
		do
			ok = alter_clause(st, t, &ndb, &ntable);
		while (ok && trib_my_ddl_accept_punct(&st->c, ','));
	else
		ok = false;
	if (ok && t && ntable)
		move_table(st, db, table, t, ndb, ntable);
	else if (ok && t)
		change(st, db, table, t);
	else
		trib_my_tableinfo_free(t);
	free(db);
	free(table);
	free(ndb);
	free(ntable);
	return ok;
}

/* CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX ... ON t / DROP INDEX i ON t:
 * no column changes, unless the index is the primary key. */
static bool
index_statement(ddl_state *st)
{
	for (int i = st->c.i; i < st->c.tk->n; i++)
		if (strcasecmp(st->c.tk->t[i].text, "PRIMARY") == 0)
			return trib_my_ddl_uncertain(&st->c, "an index statement on PRIMARY");
	st->c.i = st->c.tk->n;
	return true;
}

/* The statement's form by its first words, and its parse: true when
 * certain; *table_ddl false for statements that are not table DDL. */
static bool
statement(ddl_state *st, bool *table_ddl)
{
	trib_my_ddl_cur *c = &st->c;
	bool		temporary;

	*table_ddl = true;
	if (trib_my_ddl_accept(c, "CREATE"))
	{
		if (trib_my_ddl_accept(c, "OR") && !trib_my_ddl_accept(c, "REPLACE"))
			return trib_my_ddl_uncertain(c, "CREATE OR without REPLACE");
		temporary = trib_my_ddl_accept(c, "TEMPORARY");
		if (trib_my_ddl_accept(c, "TABLE"))
			return create_table(st, temporary);
		if (!temporary && !trib_my_ddl_accept(c, "UNIQUE") && !trib_my_ddl_accept(c, "FULLTEXT"))
			(void) trib_my_ddl_accept(c, "SPATIAL");
		if (!temporary && trib_my_ddl_accept(c, "INDEX"))
			return index_statement(st);
	}
	else if (trib_my_ddl_accept(c, "ALTER"))
	{
		(void) trib_my_ddl_accept(c, "ONLINE");
		(void) trib_my_ddl_accept(c, "IGNORE");
		if (trib_my_ddl_accept(c, "TABLE"))
			return alter_table(st);
	}
	else if (trib_my_ddl_accept(c, "DROP"))
	{
		temporary = trib_my_ddl_accept(c, "TEMPORARY");
		if (trib_my_ddl_accept(c, "TABLE"))
			return drop_table(st, temporary);
		if (!temporary && trib_my_ddl_accept(c, "INDEX"))
			return index_statement(st);
	}
	else if (trib_my_ddl_accept(c, "RENAME"))
	{
		if (trib_my_ddl_accept(c, "TABLE"))
			return rename_table(st);
	}
	else if (trib_my_ddl_accept(c, "TRUNCATE"))
	{
		c->i = c->tk->n;		/* the rows go, the shape stays */
		return true;
	}
	*table_ddl = false;
	return false;
}

/* Clear the changes of a statement found uncertain. */
static void
drop_changes(trib_my_ddl_result *r)
{
	for (int i = 0; i < r->nchanges; i++)
	{
		free(r->changes[i].db);
		free(r->changes[i].table);
		trib_my_tableinfo_free(r->changes[i].info);
	}
	free(r->changes);
	r->changes = NULL;
	r->nchanges = 0;
}

void
trib_my_ddl_parse(const char *db, const char *statement_text, trib_my_flavour flavour,
				  trib_my_ddl_prev_fn prev, void *prev_arg, trib_my_ddl_result *out)
{
	trib_my_toks tk;
	ddl_state	st;
	bool		lexed,
				ok,
				table_ddl;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	lexed = trib_my_ddl_lex(statement_text ? statement_text : "", &tk, out->why, sizeof(out->why));
	st.c.tk = &tk;
	st.c.flavour = flavour;
	st.c.why = out->why;
	st.c.whylen = sizeof(out->why);
	st.db = db;
	st.prev = prev;
	st.prev_arg = prev_arg;
	st.r = out;
	if (!lexed)
	{
		char		why[sizeof(out->why)];

		/* the reason is kept, the form decides whether it is table DDL */
		memcpy(why, out->why, sizeof(why));
		out->why[0] = '\0';
		(void) statement(&st, &table_ddl);
		drop_changes(out);
		memcpy(out->why, why, sizeof(why));
		ok = false;
	}
	else
	{
		ok = statement(&st, &table_ddl);
		(void) trib_my_ddl_accept_punct(&st.c, ';');
		if (ok && st.c.i < tk.n)
			ok = trib_my_ddl_uncertain(&st.c, "unexpected %s", tk.t[st.c.i].text);
	}
	if (!ok && out->why[0] == '\0')
		snprintf(out->why, sizeof(out->why), "a form the parser does not know");
	if (!table_ddl)
		out->outcome = TRIB_MY_DDL_OTHER;
	else if (ok)
		out->outcome = TRIB_MY_DDL_CERTAIN;
	else
	{
		out->outcome = TRIB_MY_DDL_UNCERTAIN;
		out->excerpt = trib_my_ddl_excerpt(&tk, 120, NULL);
		drop_changes(out);
	}
	trib_my_toks_free(&tk);
}

void
trib_my_ddl_result_free(trib_my_ddl_result *r)
{
	drop_changes(r);
	free(r->excerpt);
	r->excerpt = NULL;
}
