/*
 * mysql_ddl_int.h: what the DDL parser's files share (mysql_ddl.c parses
 * statements, mysql_ddl_col.c column definitions and types): a cursor over
 * the tokens (mysql_ddl_lex.h) that remembers why a statement is
 * uncertain.  Internal to source/mysql.
 */
#ifndef TRIB_MYSQL_DDL_INT_H
#define TRIB_MYSQL_DDL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mysql_ddl.h"
#include "mysql_ddl_lex.h"
#include "xalloc.h"

typedef struct trib_my_ddl_cur
{
	const trib_my_toks *tk;
	int			i;				/* the next token */
	trib_my_flavour flavour;
	char	   *why;			/* where uncertain() writes */
	size_t		whylen;
} trib_my_ddl_cur;

/* Say why the statement is uncertain; returns false. */
bool		trib_my_ddl_uncertain(trib_my_ddl_cur *c, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* The token `ahead` places on, or NULL past the end. */
const trib_my_tok *trib_my_ddl_peek(const trib_my_ddl_cur *c, int ahead);

/* Whether the next token is the keyword kw (a bare word, any case). */
bool		trib_my_ddl_is(const trib_my_ddl_cur *c, const char *kw);

/* Whether the next token is one of the keywords in the NULL-terminated
 * list (bare words, any case). */
bool		trib_my_ddl_is_one_of(const trib_my_ddl_cur *c, const char *const *kws);

/* Take the keyword kw if it is next. */
bool		trib_my_ddl_accept(trib_my_ddl_cur *c, const char *kw);

/* Take the keywords kw1 kw2 if both are next (nothing otherwise). */
bool		trib_my_ddl_accept2(trib_my_ddl_cur *c, const char *kw1, const char *kw2);

/* Whether the next token is the punctuation ch; take it with accept. */
bool		trib_my_ddl_is_punct(const trib_my_ddl_cur *c, char ch);
bool		trib_my_ddl_accept_punct(trib_my_ddl_cur *c, char ch);

/* An identifier (bare or backquoted) into a new string; false (why) when
 * the next token is not one. */
bool		trib_my_ddl_name(trib_my_ddl_cur *c, char **out);

/* Skip one token, or a whole parenthesised group when it starts one. */
void		trib_my_ddl_skip(trib_my_ddl_cur *c);

/* Whether the cursor is at the end of a list item: the end, or ',' / ')'
 * (or ';'). */
bool		trib_my_ddl_item_end(const trib_my_ddl_cur *c);

/* The collation id of a collation name / a character set's default
 * collation (the same on MariaDB 10.11 and MySQL 8), or 0 when unknown. */
uint32_t	trib_my_ddl_collation(const char *name);
uint32_t	trib_my_ddl_charset_default(const char *charset);

/*
 * One column definition at the cursor (name, type, attributes) into *col,
 * up to the end of the item or a FIRST / AFTER.  table_coll: the
 * collation of character columns that name none (0: unknown, which makes
 * such a column uncertain).  *inline_pk: it said PRIMARY KEY.  False
 * (why) when uncertain; *col is then cleared.
 */
bool		trib_my_ddl_column(trib_my_ddl_cur *c, uint32_t table_coll,
							   trib_my_colinfo *col, bool *inline_pk);

/* Whether a CHECK group at the cursor is exactly json_valid(`name`), the
 * constraint that makes a MariaDB column JSON; the group is taken. */
bool		trib_my_ddl_json_check(trib_my_ddl_cur *c, char **name);

#endif							/* TRIB_MYSQL_DDL_INT_H */
