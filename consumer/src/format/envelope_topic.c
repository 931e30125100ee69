/*
 * envelope_topic.c: the envelope's topics (see envelope_int.h).
 *
 * Design.  Topic patterns (topic.pattern, the message topic) are compiled
 * once, when the envelope is made, into literal and variable segments; the
 * literal parts must already be legal in a Kafka topic name, variables are
 * sanitised per event ([A-Za-z0-9._-], one '_' per other UTF-8 character).
 * A topic chosen by a router (ev->topic) is sanitised the same way.
 *
 * What a record's names render to (its topic, and the source block's
 * ,"schema":S,"table":T that envelope_source.c writes) is kept in the
 * envelope's name memo while the next records name the same source, db,
 * schema and table: one check of the four names per record serves both.
 */
#include "envelope_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Characters Kafka allows in a topic name. */
bool
env_topic_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Free a compiled pattern. */
void
env_pattern_free(pattern *pat)
{
	for (size_t i = 0; i < pat->n; i++)
		free(pat->segs[i].lit);
	free(pat->segs);
	pat->segs = NULL;
	pat->n = 0;
}

/* Add one segment to a pattern. */
static void
pattern_add(pattern *pat, seg_kind kind, const char *lit, size_t len)
{
	seg		   *s;

	pat->segs = trib_xrealloc(pat->segs, (pat->n + 1) * sizeof(seg));
	s = &pat->segs[pat->n++];
	s->kind = kind;
	s->lit = NULL;
	s->len = len;
	if (kind == SEG_LIT)
	{
		s->lit = trib_xrealloc(NULL, len + 1);
		memcpy(s->lit, lit, len);
		s->lit[len] = '\0';
	}
}

/* Compile "${prefix}.${schema}.${table}"-style text; false on bad input. */
bool
env_pattern_compile(pattern *pat, const char *what, const char *text,
					char *errbuf, size_t errlen)
{
	static const struct
	{
		const char *name;
		seg_kind	kind;
	}			vars[] = {
		{"prefix", SEG_PREFIX}, {"source", SEG_SOURCE}, {"db", SEG_DB},
		{"schema", SEG_SCHEMA}, {"table", SEG_TABLE}
	};
	const char *p = text;

	if (*p == '\0')
	{
		snprintf(errbuf, errlen, "envelope: %s is empty", what);
		return false;
	}
	while (*p)
	{
		if (p[0] == '$' && p[1] == '{')
		{
			const char *end = strchr(p + 2, '}');
			size_t		n;
			size_t		i;

			if (end == NULL)
			{
				snprintf(errbuf, errlen, "envelope: %s \"%s\": unterminated ${",
						 what, text);
				return false;
			}
			n = (size_t) (end - (p + 2));
			for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
				if (strlen(vars[i].name) == n && memcmp(vars[i].name, p + 2, n) == 0)
					break;
			if (i == sizeof(vars) / sizeof(vars[0]))
			{
				snprintf(errbuf, errlen,
						 "envelope: %s \"%s\": unknown variable \"${%.*s}\" "
						 "(known: ${prefix}, ${source}, ${db}, ${schema}, ${table})",
						 what, text, (int) n, p + 2);
				return false;
			}
			pattern_add(pat, vars[i].kind, NULL, 0);
			p = end + 1;
		}
		else
		{
			const char *start = p;

			while (*p && !(p[0] == '$' && p[1] == '{'))
			{
				if (!env_topic_char_ok((unsigned char) *p))
				{
					snprintf(errbuf, errlen,
							 "envelope: %s \"%s\": character '%c' is not allowed "
							 "in a Kafka topic name (allowed: A-Z a-z 0-9 . _ -)",
							 what, text, *p);
					return false;
				}
				p++;
			}
			pattern_add(pat, SEG_LIT, start, (size_t) (p - start));
		}
	}
	return true;
}

/*
 * The memo of the names a record is written for: the source's name, db,
 * schema and table of the last record, and what they rendered to (its
 * topic, the source block's schema and table members), reused while the
 * next records name the same ones (every row of a transaction on one
 * table does).  Anything else they depend on (prefix, pattern) is fixed
 * for the envelope's life.  Returns the memo, cleared when a name
 * changed.
 */
struct name_memo *
env_name_memo_for(trib_envelope *env, const char *source, const char *db,
				  const char *schema, const char *table)
{
	struct name_memo *m = &env->memo;

	if (env_str_same(m->table, table) && env_str_same(m->schema, schema) &&
		env_str_same(m->db, db) && env_str_same(m->source, source))
		return m;
	env_keep_str(&m->source, source);
	env_keep_str(&m->db, db);
	env_keep_str(&m->schema, schema);
	env_keep_str(&m->table, table);
	m->topic_ok = false;
	m->names_ok = false;
	return m;
}

/* Append a variable's value to a topic, replacing illegal characters. */
static void
topic_put_value(ebuf *b, const char *v)
{
	if (v == NULL)
		return;
	eb_reserve(b, strlen(v));
	for (const unsigned char *p = (const unsigned char *) v; *p; p++)
	{
		if (env_topic_char_ok(*p))
			b->p[b->len++] = (char) *p;
		else if ((*p & 0xC0) != 0x80)	/* one '_' per UTF-8 character */
			b->p[b->len++] = '_';
	}
}

/* Append the NUL-terminated topic for a pattern; false when illegal. */
bool
env_topic_write(const trib_envelope *env, const pattern *pat, ebuf *b,
				const char *source, const char *db, const char *schema,
				const char *table, char *errbuf, size_t errlen)
{
	size_t		start = b->len;
	size_t		n;

	for (size_t i = 0; i < pat->n; i++)
	{
		const seg  *s = &pat->segs[i];

		switch (s->kind)
		{
			case SEG_LIT:
				eb_put(b, s->lit, s->len);
				break;
			case SEG_PREFIX:
				eb_put(b, env->prefix, strlen(env->prefix));
				break;
			case SEG_SOURCE:
				topic_put_value(b, source);
				break;
			case SEG_DB:
				topic_put_value(b, db);
				break;
			case SEG_SCHEMA:
				/* schema-less sources (MySQL): prefix.db.table, as Debezium */
				topic_put_value(b, schema == NULL && env->schema_or_db
								? db : schema);
				break;
			case SEG_TABLE:
				topic_put_value(b, table);
				break;
		}
	}
	n = b->len - start;
	if (n == 0 || n > TRIB_TOPIC_MAX ||
		(n == 1 && b->p[start] == '.') ||
		(n == 2 && b->p[start] == '.' && b->p[start + 1] == '.'))
	{
		snprintf(errbuf, errlen,
				 "envelope: topic %s for %.64s.%.64s (Kafka allows 1 to %d "
				 "characters, not \".\" or \"..\")",
				 n > TRIB_TOPIC_MAX ? "too long" : "not a legal name",
				 schema ? schema : "", table ? table : "", TRIB_TOPIC_MAX);
		b->len = start;
		return false;
	}
	eb_ch(b, '\0');
	return true;
}

/* Append a topic chosen by a router (ev->topic), sanitised like values. */
bool
env_topic_routed(ebuf *b, const char *topic, char *errbuf, size_t errlen)
{
	size_t		start = b->len;
	size_t		n;

	topic_put_value(b, topic);
	n = b->len - start;
	if (n == 0 || n > TRIB_TOPIC_MAX ||
		(n == 1 && b->p[start] == '.') ||
		(n == 2 && b->p[start] == '.' && b->p[start + 1] == '.'))
	{
		snprintf(errbuf, errlen, "envelope: routed topic \"%.64s\" is not a "
				 "legal Kafka topic name", topic);
		b->len = start;
		return false;
	}
	eb_ch(b, '\0');
	return true;
}

/* The table pattern's topic for these names when the memo m does not have
 * it yet (env_topic_memo_write): rendered, appended and kept in m; false
 * when illegal. */
bool
env_topic_memo_fill(trib_envelope *env, struct name_memo *m, ebuf *b,
					const char *source, const char *db, const char *schema,
					const char *table, char *errbuf, size_t errlen)
{
	size_t		start = b->len;

	if (!env_topic_write(env, &env->topic, b, source, db, schema, table, errbuf, errlen))
		return false;
	m->topic.len = 0;
	trib_strbuf_add(&m->topic, b->p + start, b->len - start);
	m->topic_ok = true;
	return true;
}
