/*
 * mysql_ddl_lex.c: the statement scanner of the DDL parser
 * (mysql_ddl_lex.h).
 */
#include "mysql_ddl_lex.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"
#include "mysql_int.h"
#include "strbuf.h"
#include "xalloc.h"

/* Append a token. */
static void
push(trib_my_toks *tk, trib_my_tok_kind kind, char *text)
{
	tk->t = trib_xrealloc(tk->t, sizeof(trib_my_tok) * (size_t) (tk->n + 1));
	tk->t[tk->n].kind = kind;
	tk->t[tk->n].text = text;
	tk->n++;
}

/* A character that continues a bare word (bytes of UTF-8 included). */
static bool
word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* A quoted run from *p (at the quote q) into a new string; false at its
 * end without the closing quote or at a backslash in a literal. */
static bool
quoted(const char **p, char q, char **out, char *why, size_t whylen)
{
	trib_strbuf b = {0};
	const char *s = *p + 1;

	for (;; s++)
	{
		if (*s == '\0')
		{
			trib_strbuf_free(&b);
			return trib_errf(why, whylen, "an unterminated %s",
							q == '`' ? "identifier" : "string literal");
		}
		if (*s == '\\' && q != '`')
		{
			trib_strbuf_free(&b);
			return trib_errf(why, whylen, "a backslash in a string literal "
							"(its meaning depends on sql_mode)");
		}
		if (*s == q && s[1] == q)
			s++;
		else if (*s == q)
			break;
		trib_strbuf_addc(&b, *s);
	}
	*p = s + 1;
	*out = b.data ? trib_strbuf_finish(&b) : trib_xstrdup("");
	return true;
}

/* Skip a comment at *p, if any; *in_exec tracks executable comments.
 * Returns 1 when one was skipped, 0 when none is here, -1 (why) when the
 * statement is uncertain. */
static int
skip_comment(const char **p, bool *in_exec, char *why, size_t whylen)
{
	const char *s = *p;

	if (*s == '#' || (s[0] == '-' && s[1] == '-' && (s[2] == '\0' || isspace((unsigned char) s[2]))))
	{
		while (*s && *s != '\n')
			s++;
		*p = s;
		return 1;
	}
	if (*in_exec && s[0] == '*' && s[1] == '/')
	{
		*in_exec = false;
		*p = s + 2;
		return 1;
	}
	if (s[0] != '/' || s[1] != '*')
		return 0;
	if (s[2] == '!' || (s[2] == 'M' && s[3] == '!'))
	{
		s += s[2] == '!' ? 3 : 4;
		if (isdigit((unsigned char) *s))
		{
			trib_errf(why, whylen, "a versioned executable comment "
					 "(whether the server ran it depends on its version)");
			return -1;
		}
		if (*in_exec)
		{
			trib_errf(why, whylen, "nested executable comments");
			return -1;
		}
		*in_exec = true;
		*p = s;
		return 1;
	}
	s = strstr(s + 2, "*/");
	if (s == NULL)
	{
		trib_errf(why, whylen, "an unterminated comment");
		return -1;
	}
	*p = s + 2;
	return 1;
}

/* One token from *p (not a space nor a comment). */
static bool
one_token(const char **p, trib_my_toks *tk, char *why, size_t whylen)
{
	const char *s = *p;
	char	   *text = NULL;

	if (*s == '`' || *s == '\'' || *s == '"')
	{
		if (!quoted(p, *s, &text, why, whylen))
			return false;
		push(tk, *s == '`' ? TRIB_MY_TOK_IDENT : TRIB_MY_TOK_STRING, text);
		return true;
	}
	if (isdigit((unsigned char) *s) || (*s == '.' && isdigit((unsigned char) s[1])))
	{
		while (word_char((unsigned char) *s) || *s == '.')
			s++;
		push(tk, TRIB_MY_TOK_NUMBER, trib_xstrndup(*p, (size_t) (s - *p)));
	}
	else if (word_char((unsigned char) *s))
	{
		while (word_char((unsigned char) *s))
			s++;
		push(tk, TRIB_MY_TOK_WORD, trib_xstrndup(*p, (size_t) (s - *p)));
	}
	else
		push(tk, TRIB_MY_TOK_PUNCT, trib_xstrndup(s++, 1));
	*p = s;
	return true;
}

bool
trib_my_ddl_lex(const char *sql, trib_my_toks *out, char *why, size_t whylen)
{
	const char *p = sql;
	bool		in_exec = false;

	out->t = NULL;
	out->n = 0;
	while (*p)
	{
		int			c;

		if (isspace((unsigned char) *p))
		{
			p++;
			continue;
		}
		c = skip_comment(&p, &in_exec, why, whylen);
		if (c < 0)
			return false;
		if (c == 0 && !one_token(&p, out, why, whylen))
			return false;
	}
	if (in_exec)
		return trib_errf(why, whylen, "an unterminated executable comment");
	return true;
}

void
trib_my_toks_free(trib_my_toks *tk)
{
	for (int i = 0; i < tk->n; i++)
		free(tk->t[i].text);
	free(tk->t);
	tk->t = NULL;
	tk->n = 0;
}

/* Whether a space goes between tokens a and b in an excerpt. */
static bool
spaced(const trib_my_tok *a, const trib_my_tok *b)
{
	if (a->kind == TRIB_MY_TOK_PUNCT && strchr("(.", a->text[0]))
		return false;
	if (b->kind == TRIB_MY_TOK_PUNCT && strchr("(),.;", b->text[0]))
		return false;
	return true;
}

/* Append one token as an excerpt writes it. */
static void
add_token(trib_strbuf *b, const trib_my_tok *t)
{
	if (t->kind == TRIB_MY_TOK_STRING)
		trib_strbuf_adds(b, "'?'");
	else if (t->kind == TRIB_MY_TOK_IDENT)
		trib_my_quote_ident(b, t->text);
	else
		trib_strbuf_adds(b, t->text);
}

char *
trib_my_ddl_excerpt(const trib_my_toks *tk, size_t max, bool *cut)
{
	trib_strbuf b = {0};

	if (cut)
		*cut = false;
	for (int i = 0; i < tk->n; i++)
	{
		if (i > 0 && spaced(&tk->t[i - 1], &tk->t[i]))
			trib_strbuf_addc(&b, ' ');
		add_token(&b, &tk->t[i]);
		if (b.len > max)
		{
			b.len = max;
			while (b.len > 0 && ((unsigned char) b.data[b.len] & 0xC0) == 0x80)
				b.len--;		/* not inside a UTF-8 character */
			b.data[b.len] = '\0';
			trib_strbuf_adds(&b, " ...");
			if (cut)
				*cut = true;
			break;
		}
	}
	return b.data ? trib_strbuf_finish(&b) : trib_xstrdup("");
}

char *
trib_my_ddl_log_text(const char *sql, size_t max, bool *cut)
{
	trib_my_toks tk;
	char		why[128];
	bool		whole = trib_my_ddl_lex(sql, &tk, why, sizeof(why));
	bool		too_long;
	char	   *text = trib_my_ddl_excerpt(&tk, max, &too_long);

	trib_my_toks_free(&tk);
	if (!whole && !too_long)
	{
		/* the scanner stopped: what it did not read is cut too */
		trib_strbuf b = {0};

		trib_strbuf_adds(&b, text);
		trib_strbuf_adds(&b, " ...");
		free(text);
		text = trib_strbuf_finish(&b);
	}
	if (cut)
		*cut = too_long || !whole;
	return text;
}
