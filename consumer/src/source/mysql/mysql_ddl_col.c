/*
 * mysql_ddl_col.c: column definitions of the DDL parser (mysql_ddl.h),
 * the cursor over tokens, and the collation names it knows.
 *
 * A column definition is a name, a type with optional arguments, and
 * attributes up to the end of the list item.  The type gives DATA_TYPE and
 * COLUMN_TYPE the way MariaDB 10.11's information_schema writes them:
 * integers get their display width ("int(11)", "int(10) unsigned"),
 * DECIMAL its (precision,scale), CHAR and BINARY a length of 1, BOOLEAN is
 * tinyint(1), JSON is LONGTEXT in utf8mb4_bin with the json_valid() check
 * (mysql_infoschema.c records it as column_type "json").  Attributes
 * give nullability, signedness, the collation, the primary key, a
 * generated column and the JSON check (AUTO_INCREMENT makes a column NOT
 * NULL, as the server does); DEFAULT, COMMENT, ON UPDATE and the like are
 * skipped.  Anything else is uncertain.
 */
#include "mysql_ddl_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errf.h"
#include "mysql_charset.h"
#include "strbuf.h"
#include "words.h"

bool
trib_my_ddl_uncertain(trib_my_ddl_cur *c, const char *fmt,...)
{
	va_list		ap;

	if (c->why[0] == '\0')		/* the first reason is the real one */
	{
		va_start(ap, fmt);
		trib_verrf(c->why, c->whylen, fmt, ap);
		va_end(ap);
	}
	return false;
}

const trib_my_tok *
trib_my_ddl_peek(const trib_my_ddl_cur *c, int ahead)
{
	return c->i + ahead < c->tk->n ? &c->tk->t[c->i + ahead] : NULL;
}

bool
trib_my_ddl_is(const trib_my_ddl_cur *c, const char *kw)
{
	const trib_my_tok *t = trib_my_ddl_peek(c, 0);

	return t && t->kind == TRIB_MY_TOK_WORD && strcasecmp(t->text, kw) == 0;
}

bool
trib_my_ddl_is_one_of(const trib_my_ddl_cur *c, const char *const *kws)
{
	const trib_my_tok *t = trib_my_ddl_peek(c, 0);

	return t && t->kind == TRIB_MY_TOK_WORD &&
		trib_words_find_span_ci(kws, t->text, strlen(t->text)) >= 0;
}

bool
trib_my_ddl_accept(trib_my_ddl_cur *c, const char *kw)
{
	if (!trib_my_ddl_is(c, kw))
		return false;
	c->i++;
	return true;
}

bool
trib_my_ddl_accept2(trib_my_ddl_cur *c, const char *kw1, const char *kw2)
{
	const trib_my_tok *t = trib_my_ddl_peek(c, 1);

	if (!trib_my_ddl_is(c, kw1) || t == NULL || t->kind != TRIB_MY_TOK_WORD ||
		strcasecmp(t->text, kw2) != 0)
		return false;
	c->i += 2;
	return true;
}

bool
trib_my_ddl_is_punct(const trib_my_ddl_cur *c, char ch)
{
	const trib_my_tok *t = trib_my_ddl_peek(c, 0);

	return t && t->kind == TRIB_MY_TOK_PUNCT && t->text[0] == ch;
}

bool
trib_my_ddl_accept_punct(trib_my_ddl_cur *c, char ch)
{
	if (!trib_my_ddl_is_punct(c, ch))
		return false;
	c->i++;
	return true;
}

bool
trib_my_ddl_name(trib_my_ddl_cur *c, char **out)
{
	const trib_my_tok *t = trib_my_ddl_peek(c, 0);

	*out = NULL;
	if (t == NULL || (t->kind != TRIB_MY_TOK_WORD && t->kind != TRIB_MY_TOK_IDENT))
		return trib_my_ddl_uncertain(c, "expected a name, found %s",
									 t ? t->text : "the end");
	*out = trib_xstrdup(t->text);
	c->i++;
	return true;
}

void
trib_my_ddl_skip(trib_my_ddl_cur *c)
{
	int			depth = 0;

	do
	{
		if (trib_my_ddl_is_punct(c, '('))
			depth++;
		else if (trib_my_ddl_is_punct(c, ')'))
			depth--;
		c->i++;
	} while (depth > 0 && c->i < c->tk->n);
}

bool
trib_my_ddl_item_end(const trib_my_ddl_cur *c)
{
	return c->i >= c->tk->n || trib_my_ddl_is_punct(c, ',') ||
		trib_my_ddl_is_punct(c, ')') || trib_my_ddl_is_punct(c, ';');
}

/* Collations whose ids MariaDB 10.11 and MySQL 8 share. */
static const struct
{
	const char *name;
	uint32_t	id;
}			collations[] = {
	{"latin1_swedish_ci", 8}, {"latin1_bin", 47}, {"latin1_general_ci", 48},
	{"ascii_general_ci", 11}, {"ascii_bin", 65},
	{"utf8mb3_general_ci", 33}, {"utf8_general_ci", 33},
	{"utf8mb3_bin", 83}, {"utf8_bin", 83},
	{"utf8mb3_unicode_ci", 192}, {"utf8_unicode_ci", 192},
	{"utf8mb4_general_ci", 45}, {"utf8mb4_bin", 46},
	{"utf8mb4_unicode_ci", 224}, {"utf8mb4_unicode_520_ci", 246},
	{"binary", TRIB_MY_COLLATION_BINARY},
};

/* Character sets whose default collation is the same on both (utf8mb4's
 * is not: utf8mb4_general_ci on MariaDB 10.11, utf8mb4_0900_ai_ci on
 * MySQL 8, uca1400 on MariaDB 11). */
static const struct
{
	const char *name;
	uint32_t	id;
}			charsets[] = {
	{"latin1", 8}, {"ascii", 11}, {"utf8mb3", 33}, {"utf8", 33},
};

uint32_t
trib_my_ddl_collation(const char *name)
{
	for (size_t i = 0; i < sizeof(collations) / sizeof(collations[0]); i++)
		if (strcasecmp(collations[i].name, name) == 0)
			return collations[i].id;
	return 0;
}

uint32_t
trib_my_ddl_charset_default(const char *charset)
{
	for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++)
		if (strcasecmp(charsets[i].name, charset) == 0)
			return charsets[i].id;
	return 0;
}

/* What a type is, for COLUMN_TYPE and the collation. */
typedef enum tkind
{
	T_INT, T_BOOL, T_DECIMAL, T_FLOAT, T_BIT, T_YEAR, T_FSP, T_PLAIN,
	T_CHAR, T_VARCHAR, T_BINARY, T_VARBINARY, T_TEXT, T_BLOB, T_ENUM,
	T_JSON, T_GEOM
} tkind;

static const struct
{
	const char *word;
	const char *data_type;
	tkind		kind;
	int			width;			/* integers: display width signed */
}			types[] = {
	{"tinyint", "tinyint", T_INT, 4}, {"int1", "tinyint", T_INT, 4},
	{"smallint", "smallint", T_INT, 6}, {"int2", "smallint", T_INT, 6},
	{"mediumint", "mediumint", T_INT, 9}, {"int3", "mediumint", T_INT, 9},
	{"middleint", "mediumint", T_INT, 9},
	{"int", "int", T_INT, 11}, {"integer", "int", T_INT, 11}, {"int4", "int", T_INT, 11},
	{"bigint", "bigint", T_INT, 20}, {"int8", "bigint", T_INT, 20},
	{"bool", "tinyint", T_BOOL, 1}, {"boolean", "tinyint", T_BOOL, 1},
	{"decimal", "decimal", T_DECIMAL, 0}, {"dec", "decimal", T_DECIMAL, 0},
	{"numeric", "decimal", T_DECIMAL, 0}, {"fixed", "decimal", T_DECIMAL, 0},
	{"float", "float", T_FLOAT, 0}, {"double", "double", T_FLOAT, 0},
	{"bit", "bit", T_BIT, 0}, {"year", "year", T_YEAR, 0},
	{"time", "time", T_FSP, 0}, {"datetime", "datetime", T_FSP, 0},
	{"timestamp", "timestamp", T_FSP, 0}, {"date", "date", T_PLAIN, 0},
	{"char", "char", T_CHAR, 0}, {"character", "char", T_CHAR, 0},
	{"varchar", "varchar", T_VARCHAR, 0},
	{"binary", "binary", T_BINARY, 0}, {"varbinary", "varbinary", T_VARBINARY, 0},
	{"tinytext", "tinytext", T_TEXT, 0}, {"text", "text", T_TEXT, 0},
	{"mediumtext", "mediumtext", T_TEXT, 0}, {"longtext", "longtext", T_TEXT, 0},
	{"tinyblob", "tinyblob", T_BLOB, 0}, {"blob", "blob", T_BLOB, 0},
	{"mediumblob", "mediumblob", T_BLOB, 0}, {"longblob", "longblob", T_BLOB, 0},
	{"enum", "enum", T_ENUM, 0}, {"set", "set", T_ENUM, 0},
	{"json", "longtext", T_JSON, 0},
	{"geometry", "geometry", T_GEOM, 0}, {"point", "point", T_GEOM, 0},
	{"linestring", "linestring", T_GEOM, 0}, {"polygon", "polygon", T_GEOM, 0},
	{"multipoint", "multipoint", T_GEOM, 0},
	{"multilinestring", "multilinestring", T_GEOM, 0},
	{"multipolygon", "multipolygon", T_GEOM, 0},
	{"geometrycollection", "geometrycollection", T_GEOM, 0},
};

/* A column's type and what its attributes said, before COLUMN_TYPE. */
typedef struct coldef
{
	int			type;			/* index in types[] */
	int			nargs;
	char	   *args[64];		/* numbers, or ENUM/SET members */
	bool		is_unsigned,
				zerofill,
				null_said,
				auto_increment;
	char	   *charset,
			   *collate;
} coldef;

static void
coldef_free(coldef *d)
{
	for (int i = 0; i < d->nargs; i++)
		free(d->args[i]);
	free(d->charset);
	free(d->collate);
}

/* The type name and its (arguments). */
static bool
parse_type(trib_my_ddl_cur *c, coldef *d)
{
	const trib_my_tok *t = trib_my_ddl_peek(c, 0);

	d->type = -1;
	if (t && t->kind == TRIB_MY_TOK_WORD)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(types[i].word, t->text) == 0)
				d->type = (int) i;
	if (d->type < 0)
		return trib_my_ddl_uncertain(c, "type %s is not one the parser knows",
									 t ? t->text : "(none)");
	c->i++;
	if (types[d->type].kind == T_FLOAT && strcmp(types[d->type].word, "double") == 0)
		(void) trib_my_ddl_accept(c, "precision");
	if (!trib_my_ddl_accept_punct(c, '('))
		return true;
	while (!trib_my_ddl_accept_punct(c, ')'))
	{
		t = trib_my_ddl_peek(c, 0);
		if (t == NULL || (t->kind != TRIB_MY_TOK_NUMBER && t->kind != TRIB_MY_TOK_STRING) ||
			d->nargs == 64)
			return trib_my_ddl_uncertain(c, "type arguments of %s", types[d->type].word);
		d->args[d->nargs++] = trib_xstrdup(t->text);
		c->i++;
		(void) trib_my_ddl_accept_punct(c, ',');
	}
	return true;
}

/* Whether args are the kind the type takes: members for ENUM/SET, at
 * most `max` numbers otherwise. */
static bool
args_fit(trib_my_ddl_cur *c, const coldef *d, int max)
{
	const char *w = types[d->type].word;

	if (d->nargs > max)
		return trib_my_ddl_uncertain(c, "%d arguments to %s", d->nargs, w);
	for (int i = 0; i < d->nargs; i++)
		if (strspn(d->args[i], "0123456789") != strlen(d->args[i]) || d->args[i][0] == '\0')
			return trib_my_ddl_uncertain(c, "argument %s to %s", d->args[i], w);
	return true;
}

/* COLUMN_TYPE of an integer type (MariaDB keeps display widths). */
static bool
int_type(trib_my_ddl_cur *c, const coldef *d, trib_strbuf *b)
{
	int			width = types[d->type].width;

	if (c->flavour != TRIB_MY_FLAVOUR_MARIADB)
		return trib_my_ddl_uncertain(c, "integer display widths differ between MySQL versions");
	if (!args_fit(c, d, 1))
		return false;
	if (d->nargs == 1)
		width = atoi(d->args[0]);
	else if ((d->is_unsigned || d->zerofill) && strcmp(types[d->type].data_type, "bigint") != 0)
		width--;
	trib_strbuf_printf(b, "%s(%d)", types[d->type].data_type, width);
	return true;
}

/* ENUM/SET members into col and "enum('a','b''c')" into b, escaped as the
 * server's COLUMN_TYPE is (a quote doubled, \\ \n \r after a backslash:
 * lib/sqlmembers.h reads it back). */
static bool
enum_type(trib_my_ddl_cur *c, const coldef *d, trib_my_colinfo *col, trib_strbuf *b)
{
	if (d->nargs == 0)
		return trib_my_ddl_uncertain(c, "%s without members", types[d->type].word);
	trib_strbuf_printf(b, "%s(", types[d->type].data_type);
	col->values = trib_xcalloc((size_t) d->nargs, sizeof(char *));
	for (int i = 0; i < d->nargs; i++)
	{
		trib_strbuf_adds(b, i ? ",'" : "'");
		for (const char *s = d->args[i]; *s; s++)
		{
			if (*s == '\'')
				trib_strbuf_addc(b, '\'');
			else if (*s == '\\' || *s == '\n' || *s == '\r')
				trib_strbuf_addc(b, '\\');
			trib_strbuf_addc(b, *s == '\n' ? 'n' : *s == '\r' ? 'r' : *s);
		}
		trib_strbuf_addc(b, '\'');
		col->values[i] = trib_xstrdup(d->args[i]);
	}
	col->nvalues = d->nargs;
	trib_strbuf_addc(b, ')');
	return true;
}

/* The collation of a character column. */
static bool
char_collation(trib_my_ddl_cur *c, const coldef *d, uint32_t table_coll,
			   trib_my_colinfo *col)
{
	if (d->collate)
		col->collation = trib_my_ddl_collation(d->collate);
	else if (d->charset)
		col->collation = trib_my_ddl_charset_default(d->charset);
	else
		col->collation = table_coll;
	if (col->collation == TRIB_MY_COLLATION_BINARY)
		return trib_my_ddl_uncertain(c, "column %s: character set binary turns it into "
									 "a binary type", col->name);
	if (col->collation == 0)
		return trib_my_ddl_uncertain(c, "column %s: its collation (%s) is not known here",
									 col->name, d->collate ? d->collate : d->charset ?
									 d->charset : "the table's default");
	return true;
}

/* COLUMN_TYPE with its arguments, for the kinds that take numbers. */
static bool
sized_type(trib_my_ddl_cur *c, const coldef *d, trib_strbuf *b)
{
	const char *dt = types[d->type].data_type;

	switch (types[d->type].kind)
	{
		case T_DECIMAL:
			if (!args_fit(c, d, 2))
				return false;
			trib_strbuf_printf(b, "decimal(%s,%s)", d->nargs ? d->args[0] : "10",
							   d->nargs > 1 ? d->args[1] : "0");
			return true;
		case T_FLOAT:
			if (!args_fit(c, d, 2))
				return false;
			if (d->nargs == 1)
				return trib_my_ddl_uncertain(c, "%s(p) picks FLOAT or DOUBLE", dt);
			trib_strbuf_adds(b, dt);
			if (d->nargs == 2)
				trib_strbuf_printf(b, "(%s,%s)", d->args[0], d->args[1]);
			return true;
		case T_BIT:
		case T_CHAR:
		case T_BINARY:
			if (!args_fit(c, d, 1))
				return false;
			trib_strbuf_printf(b, "%s(%s)", dt, d->nargs ? d->args[0] : "1");
			return true;
		case T_VARCHAR:
		case T_VARBINARY:
			if (!args_fit(c, d, 1) || d->nargs != 1)
				return trib_my_ddl_uncertain(c, "%s without a length", dt);
			trib_strbuf_printf(b, "%s(%s)", dt, d->args[0]);
			return true;
		case T_FSP:
			if (!args_fit(c, d, 1))
				return false;
			trib_strbuf_adds(b, dt);
			if (d->nargs && atoi(d->args[0]) > 0)
				trib_strbuf_printf(b, "(%d)", atoi(d->args[0]));
			return true;
		case T_YEAR:
			if (c->flavour != TRIB_MY_FLAVOUR_MARIADB)
				return trib_my_ddl_uncertain(c, "YEAR's display width differs between MySQL versions");
			if (!args_fit(c, d, 1))
				return false;
			trib_strbuf_adds(b, "year(4)");
			return true;
		default:
			if (d->nargs)
				return trib_my_ddl_uncertain(c, "%s with arguments", types[d->type].word);
			trib_strbuf_adds(b, dt);
			return true;
	}
}

/* DATA_TYPE, COLUMN_TYPE, members and collation from the parsed type. */
static bool
finish_type(trib_my_ddl_cur *c, const coldef *d, uint32_t table_coll,
			trib_my_colinfo *col)
{
	tkind		k = types[d->type].kind;
	trib_strbuf b = {0};
	bool		ok;

	col->data_type = trib_xstrdup(types[d->type].data_type);
	if (k == T_JSON && c->flavour != TRIB_MY_FLAVOUR_MARIADB)
		return trib_my_ddl_uncertain(c, "JSON differs between MySQL and MariaDB");
	if (k == T_INT)
		ok = int_type(c, d, &b);
	else if (k == T_BOOL)
		ok = args_fit(c, d, 0) && (trib_strbuf_adds(&b, "tinyint(1)"), true);
	else if (k == T_ENUM)
		ok = enum_type(c, d, col, &b);
	else
		ok = sized_type(c, d, &b);
	if (ok && (d->is_unsigned || d->zerofill))
	{
		if (k != T_INT && k != T_BOOL && k != T_DECIMAL && k != T_FLOAT)
			ok = trib_my_ddl_uncertain(c, "UNSIGNED on %s", types[d->type].word);
		col->is_unsigned = true;
		trib_strbuf_adds(&b, d->zerofill ? " unsigned zerofill" : " unsigned");
	}
	col->column_type = b.data ? trib_strbuf_finish(&b) : trib_xstrdup("");
	if (!ok)
		return false;
	if (k == T_CHAR || k == T_VARCHAR || k == T_TEXT || k == T_ENUM)
		return char_collation(c, d, table_coll, col);
	if (d->charset || d->collate)
		return trib_my_ddl_uncertain(c, "column %s: a character set on %s",
									 col->name, types[d->type].word);
	if (k == T_BINARY || k == T_VARBINARY || k == T_BLOB || k == T_GEOM)
		col->collation = TRIB_MY_COLLATION_BINARY;
	if (k == T_JSON)
	{
		col->collation = trib_my_ddl_collation("utf8mb4_bin");
		col->is_json = true;
	}
	return true;
}

bool
trib_my_ddl_json_check(trib_my_ddl_cur *c, char **name)
{
	int			start = c->i;
	const trib_my_tok *t[5];

	*name = NULL;
	for (int k = 0; k < 5; k++)
		t[k] = trib_my_ddl_peek(c, k + 1);
	trib_my_ddl_skip(c);
	for (int k = 0; k < 5; k++)
		if (t[k] == NULL)
			return false;
	if (t[0]->kind != TRIB_MY_TOK_WORD || strcasecmp(t[0]->text, "json_valid") != 0 ||
		t[1]->kind != TRIB_MY_TOK_PUNCT || t[1]->text[0] != '(' ||
		(t[2]->kind != TRIB_MY_TOK_WORD && t[2]->kind != TRIB_MY_TOK_IDENT) ||
		t[3]->kind != TRIB_MY_TOK_PUNCT || t[3]->text[0] != ')' ||
		t[4]->kind != TRIB_MY_TOK_PUNCT || t[4]->text[0] != ')' || c->i != start + 6)
		return false;
	*name = trib_xstrdup(t[2]->text);
	return true;
}

/* Skip a DEFAULT / ON UPDATE value: a literal, a signed number, a name
 * with its (arguments), or a (group). */
static void
skip_value(trib_my_ddl_cur *c)
{
	if (trib_my_ddl_is_punct(c, '-') || trib_my_ddl_is_punct(c, '+'))
		c->i++;
	trib_my_ddl_skip(c);
	if (trib_my_ddl_is_punct(c, '('))
		trib_my_ddl_skip(c);
	else if (trib_my_ddl_peek(c, 0) && trib_my_ddl_peek(c, 0)->kind == TRIB_MY_TOK_STRING &&
			 c->tk->t[c->i - 1].kind == TRIB_MY_TOK_WORD)
		c->i++;					/* an introducer: _utf8mb4'x', b'1' */
}

/* The name that follows CHARACTER SET / CHARSET / COLLATE (with an
 * optional =), replacing *into. */
static bool
option_name(trib_my_ddl_cur *c, char **into)
{
	const trib_my_tok *t;

	(void) trib_my_ddl_accept_punct(c, '=');
	t = trib_my_ddl_peek(c, 0);
	free(*into);
	*into = NULL;
	if (t == NULL || t->kind == TRIB_MY_TOK_PUNCT)
		return trib_my_ddl_uncertain(c, "a character set or collation without a name");
	*into = trib_xstrdup(t->text);
	c->i++;
	return true;
}

/* Attributes skipped with no effect on the version, and how many tokens
 * of value follow the word. */
static const struct
{
	const char *word;
	int			value;			/* 0: none, 1: one token, 2: a value */
}			skipped[] = {
	{"UNIQUE", 0}, {"KEY", 0}, {"VISIBLE", 0},
	{"INVISIBLE", 0}, {"VIRTUAL", 0}, {"STORED", 0}, {"PERSISTENT", 0},
	{"COMMENT", 1}, {"COLUMN_FORMAT", 1}, {"STORAGE", 1}, {"DEFAULT", 2},
};

/* One attribute that changes nothing: true when it was one (taken). */
static bool
skip_attribute(trib_my_ddl_cur *c)
{
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		if (trib_my_ddl_accept(c, skipped[i].word))
		{
			if (skipped[i].value == 1)
				c->i++;
			else if (skipped[i].value == 2)
				skip_value(c);
			return true;
		}
	if (trib_my_ddl_accept2(c, "ON", "UPDATE"))
	{
		skip_value(c);
		return true;
	}
	return false;
}

/* An attribute that sets a fact of the column. */
static bool
fact_attribute(trib_my_ddl_cur *c, coldef *d, trib_my_colinfo *col, bool *pk, bool *done)
{
	char	   *checked;

	*done = true;
	if (trib_my_ddl_accept(c, "NOT"))
	{
		if (!trib_my_ddl_accept(c, "NULL"))
			return trib_my_ddl_uncertain(c, "NOT without NULL in column %s", col->name);
		col->nullable = false;
		d->null_said = true;
	}
	else if (trib_my_ddl_accept(c, "NULL"))
		col->nullable = d->null_said = true;
	else if (trib_my_ddl_accept(c, "UNSIGNED"))
		d->is_unsigned = true;
	else if (trib_my_ddl_accept(c, "SIGNED"))
		d->is_unsigned = false;
	else if (trib_my_ddl_accept(c, "ZEROFILL"))
		d->zerofill = true;
	else if (trib_my_ddl_accept(c, "AUTO_INCREMENT"))
		d->auto_increment = true;
	else if (trib_my_ddl_accept(c, "PRIMARY"))
	{
		(void) trib_my_ddl_accept(c, "KEY");
		*pk = true;
	}
	else if (trib_my_ddl_accept(c, "CHARSET") || trib_my_ddl_accept2(c, "CHARACTER", "SET"))
		return option_name(c, &d->charset);
	else if (trib_my_ddl_accept(c, "COLLATE"))
		return option_name(c, &d->collate);
	else if (trib_my_ddl_accept(c, "GENERATED") || trib_my_ddl_is(c, "AS"))
	{
		(void) trib_my_ddl_accept(c, "ALWAYS");
		if (!trib_my_ddl_accept(c, "AS") || !trib_my_ddl_is_punct(c, '('))
			return trib_my_ddl_uncertain(c, "column %s: GENERATED without AS (...)", col->name);
		trib_my_ddl_skip(c);
		col->generated = true;
	}
	else if (trib_my_ddl_accept(c, "CHECK"))
	{
		if (!trib_my_ddl_is_punct(c, '('))
			return trib_my_ddl_uncertain(c, "CHECK without (...)");
		if (trib_my_ddl_json_check(c, &checked))
		{
			if (strcasecmp(checked, col->name) == 0)
				col->is_json = true;
			free(checked);
		}
	}
	else
		*done = false;
	return true;
}

/* The attributes after the type, up to the item's end or FIRST / AFTER. */
static bool
parse_attributes(trib_my_ddl_cur *c, coldef *d, trib_my_colinfo *col, bool *pk)
{
	while (!trib_my_ddl_item_end(c) && !trib_my_ddl_is(c, "FIRST") && !trib_my_ddl_is(c, "AFTER"))
	{
		bool		done;

		if (!fact_attribute(c, d, col, pk, &done))
			return false;
		if (!done && !skip_attribute(c))
			return trib_my_ddl_uncertain(c, "column %s: attribute %s is not one the parser knows",
										 col->name, trib_my_ddl_peek(c, 0) ?
										 trib_my_ddl_peek(c, 0)->text : "(none)");
	}
	return true;
}

bool
trib_my_ddl_column(trib_my_ddl_cur *c, uint32_t table_coll, trib_my_colinfo *col,
				   bool *inline_pk)
{
	coldef		d = {0};
	bool		ok;

	memset(col, 0, sizeof(*col));
	*inline_pk = false;
	col->nullable = true;
	ok = trib_my_ddl_name(c, &col->name) && parse_type(c, &d) &&
		parse_attributes(c, &d, col, inline_pk) &&
		finish_type(c, &d, table_coll, col);
	if (ok && strcmp(col->data_type, "timestamp") == 0 && !d.null_said && !*inline_pk)
		ok = trib_my_ddl_uncertain(c, "column %s: a TIMESTAMP's nullability depends on "
								   "explicit_defaults_for_timestamp", col->name);
	if (ok && d.auto_increment && d.null_said && col->nullable)
		ok = trib_my_ddl_uncertain(c, "column %s: AUTO_INCREMENT and NULL", col->name);
	if (d.auto_increment)
		col->nullable = false;	/* the server makes it NOT NULL */
	if (ok && col->is_json)
	{
		free(col->column_type);
		col->column_type = trib_xstrdup("json");
	}
	if (*inline_pk)
		col->nullable = false;
	coldef_free(&d);
	if (!ok)
		trib_my_colinfo_clear(col);
	return ok;
}
