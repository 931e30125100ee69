/*
 * mysql_ddl_lex.h: the tokens of a MySQL/MariaDB statement, for the DDL
 * parser (mysql_ddl.h).
 *
 * Design.  A hand-written scanner, small on purpose: words (keywords and
 * bare identifiers; compared without case), backquoted identifiers (``
 * inside is one backquote), string literals ('...' or "..."; a doubled
 * quote is one quote), numbers and single punctuation characters.
 * Comments are dropped: / * ... * /, "-- " and "#" to the end of the line.
 * Executable comments, / *! ... * / and MariaDB's / *M! ... * /, are SQL
 * the server ran, so their content is scanned as part of the statement;
 * with a version number (/ *!50100 ...) whether the server ran it depends
 * on its version, which the scanner does not know, so the statement is
 * uncertain.  A backslash in a string literal is uncertain too (it is an
 * escape unless sql_mode has NO_BACKSLASH_ESCAPES, which the binlog does
 * not say for sure).  Uncertain means: the scanner stops and says why.
 *
 * The excerpt (trib_my_ddl_excerpt) is the statement for a log line: its
 * tokens again, cut short, with every string literal written '?', since
 * a literal may hold a secret (a FEDERATED table's CONNECTION string).
 */
#ifndef TRIB_MYSQL_DDL_LEX_H
#define TRIB_MYSQL_DDL_LEX_H

#include <stdbool.h>
#include <stddef.h>

typedef enum trib_my_tok_kind
{
	TRIB_MY_TOK_WORD,			/* keyword or bare identifier */
	TRIB_MY_TOK_IDENT,			/* `backquoted` identifier */
	TRIB_MY_TOK_STRING,			/* 'literal' or "literal" */
	TRIB_MY_TOK_NUMBER,
	TRIB_MY_TOK_PUNCT			/* one character: ( ) , . ; = ... */
} trib_my_tok_kind;

typedef struct trib_my_tok
{
	trib_my_tok_kind kind;
	char	   *text;			/* unquoted: the identifier, the literal's
								 * value, the character */
} trib_my_tok;

typedef struct trib_my_toks
{
	trib_my_tok *t;
	int			n;
} trib_my_toks;

/* Scan `sql` into *out (freed with trib_my_toks_free, also on failure).
 * False with why (a reason for a log line) when the text is uncertain. */
bool		trib_my_ddl_lex(const char *sql, trib_my_toks *out,
							char *why, size_t whylen);
void		trib_my_toks_free(trib_my_toks *tk);

/* The statement for a log line: at most about `max` characters, string
 * literals as '?'; a new string.  When the tokens did not fit, the text
 * ends with " ..." and *cut (may be NULL) is set true. */
char	   *trib_my_ddl_excerpt(const trib_my_toks *tk, size_t max, bool *cut);

/* Any statement of the binlog for a log line, as trib_my_ddl_excerpt
 * writes it: scanned here, and where the scanner stops (a backslash in a
 * literal, say) cut there with " ...", so no literal is ever shown; a new
 * string.  *cut (may be NULL) says whether anything of the statement was
 * left out (too long, or the scanner stopped); the " ..." is written
 * once either way. */
char	   *trib_my_ddl_log_text(const char *sql, size_t max, bool *cut);

#endif							/* TRIB_MYSQL_DDL_LEX_H */
