/*
 * envelope.c: the Debezium JSON envelope (see envelope.h, docs/FORMAT.md).
 *
 * Design.  Every record is written with plain appends into one growing
 * buffer that is reused from event to event, so the steady state makes no
 * allocation at all.  Row images and keys are copied (or pointed to) as the
 * source wrote them; strings we produce (names, db, schema, table) go
 * through a table-driven JSON escaper that copies runs of safe bytes with
 * one memcpy and checks that non-ASCII bytes are UTF-8.  Constant parts
 * of the source block (version, prefix) are escaped once, when the
 * envelope is made; what depends on the event's names (its topic, the
 * source block's schema and table) is kept from the last record while
 * the names repeat (name_memo_for, one check of the four names per
 * record that serves both), as the source block's head is, and so are the
 * sequence's first LSN (write_sequence) and the records' ts_ms (eb_now).  Transaction metadata keeps
 * per-table counters in a small open-addressing hash, reset by a
 * generation number per transaction.
 *
 * Records of one event may be several (a delete and its tombstone, one
 * truncate record per table).  While they are written the buffer may move,
 * so records are first kept as offsets and turned into pointers at the end.
 *
 * Topic patterns are compiled once into literal and variable segments; the
 * literal parts must already be legal in a Kafka topic name, variables are
 * sanitised per event ([A-Za-z0-9._-], one '_' per other UTF-8 character).
 *
 * Only the rare events parse JSON: truncate (relations) and message
 * (prefix, content) read ev->extra with yajl_tree.  The `unchanged` array
 * of column names is scanned by hand so its names are copied verbatim.
 *
 * Size.  About 1,730 lines, over the project's 1,000: every part (the
 * buffer and its escaper, topic patterns, the source and transaction
 * blocks, each kind of record) writes into the one buffer through the
 * static eb_* helpers, which the compiler inlines on the per-event path
 * (tools/replay_bench measures it).  Splitting it needs a private header
 * for the buffer and the envelope's state.  Issue 17 put Debezium mode's
 * encoders in debezium_*.c and left only hooks here (image_text,
 * write_key, open_payload, write_tx_record, eb_ts; for MongoDB events,
 * whose records differ, write_mongo_images and the source block's
 * branch, calling debezium_mongo.c); moving topics and
 * record kinds into files of their own is still to do, in a change that
 * no other branch is editing this file alongside.
 */
#include "envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "clock.h"
#include "debezium.h"
#include "intern.h"
#include "jsondoc.h"
#include "opaque_source.h"
#include "u64text.h"
#include "utf8.h"
#include "xalloc.h"

/* A growable byte buffer; aborts on out-of-memory like trib_event_new. */
typedef struct ebuf
{
	char	   *p;
	size_t		len;
	size_t		cap;
} ebuf;

/* One segment of a compiled topic pattern. */
typedef enum seg_kind
{
	SEG_LIT,
	SEG_PREFIX,
	SEG_SOURCE,
	SEG_DB,
	SEG_SCHEMA,
	SEG_TABLE
} seg_kind;

typedef struct seg
{
	seg_kind	kind;
	char	   *lit;			/* SEG_LIT: the literal text */
	size_t		len;
} seg;

typedef struct pattern
{
	seg		   *segs;
	size_t		n;
} pattern;

/* Per-transaction counter of one table (transaction metadata), the value
 * of "schema\0table" in the envelope's map of them. */
typedef struct txcount
{
	uint64_t	count;
	uint64_t	gen;			/* transaction generation of `count` */
} txcount;

/* A record while being written: offsets into the buffer. */
typedef struct recoff
{
	size_t		topic;
	const char *key;			/* points into the event, or NULL */
	size_t		key_len;
	size_t		key_off;		/* when key_in_buf */
	bool		key_in_buf;
	bool		tombstone;
	size_t		value;
	size_t		value_len;
} recoff;

struct trib_envelope
{
	trib_envelope_opts opts;
	char	   *prefix;			/* raw, validated */
	char	   *prefix_json;	/* escaped, with quotes */
	char	   *version_json;
	size_t		prefix_json_len;
	size_t		version_json_len;
	char	   *placeholder_json;	/* NULL: leave unchanged columns out */
	char	   *placeholder;	/* its text (Debezium mode types it) */
	bool		schema_or_db;	/* default pattern: ${schema} falls back to db */
	pattern		topic;
	pattern		message;
	ebuf		buf;
	recoff	   *offs;
	trib_record *recs;
	size_t		nrecs;
	size_t		caprecs;
	int64_t		now_us;			/* this encode's clock reading */
	char		now_text[24];	/* the text of now_ms (eb_now) */
	size_t		now_text_len;	/* 0: nothing cached yet */
	int64_t		now_ms;
	/* transaction metadata */
	uint64_t	tx_gen;
	uint64_t	tx_commit_lsn;
	uint64_t	tx_txid;
	bool		tx_known;
	trib_intern *counts;		/* "schema\0table" -> txcount *, or NULL */
	/* format: debezium (debezium.h); NULL for format: tributary */
	trib_dbz   *dbz;
	trib_strbuf dbz_buf;
	bool		dbz_schemas;	/* schemas.enable: {"schema":..,"payload":..} */
	const char *key_schema;		/* the current record's, or NULL */
	size_t		key_schema_len;
	trib_dbz_tx dbz_tx;			/* Debezium's transaction topic */
	trib_strbuf mongo_vs;		/* a MongoDB record's schemas (rendered */
	trib_strbuf mongo_ks;		/* per record: debezium_mongo.c) */
	yajl_gen	src_gen;		/* the opaque's source members, or NULL */
	/* the source block's members from "version" to "db" as the last event
	 * had them, and what they were rendered from (write_source_head) */
	trib_strbuf src_head;
	char	   *src_connector;
	char	   *src_db;
	int64_t		src_ms;
	int64_t		src_us;
	int			src_snap;		/* 0: nothing cached yet */
	/* ,"sequence":"[ and its first LSN's text with the comma after it, as
	 * the last event had them, for that LSN (write_sequence) */
	char		seq_head[48];
	size_t		seq_head_len;	/* 0: nothing cached yet */
	uint64_t	seq_first;
	/* what the last record's names rendered to (name_memo_for) */
	struct name_memo
	{
		char	   *source,
				   *db,
				   *schema,
				   *table;		/* copies of the names it was made from */
		bool		topic_ok;	/* topic: the table pattern's, with its NUL */
		bool		names_ok;	/* names: ,"schema":S,"table":T */
		trib_strbuf topic;
		trib_strbuf names;
	}			memo;
};

/* ASCII characters that must be escaped in a JSON string: 0 = copy as
 * is.  Bytes from 0x80 are checked to be UTF-8 (eb_jstr). */
static const unsigned char json_esc[256] = {
	['\b'] = 'b',['\t'] = 't',['\n'] = 'n',['\f'] = 'f',['\r'] = 'r',
	['"'] = '"',['\\'] = '\\',
	[0x00] = 'u',[0x01] = 'u',[0x02] = 'u',[0x03] = 'u',[0x04] = 'u',
	[0x05] = 'u',[0x06] = 'u',[0x07] = 'u',[0x0b] = 'u',[0x0e] = 'u',
	[0x0f] = 'u',[0x10] = 'u',[0x11] = 'u',[0x12] = 'u',[0x13] = 'u',
	[0x14] = 'u',[0x15] = 'u',[0x16] = 'u',[0x17] = 'u',[0x18] = 'u',
	[0x19] = 'u',[0x1a] = 'u',[0x1b] = 'u',[0x1c] = 'u',[0x1d] = 'u',
	[0x1e] = 'u',[0x1f] = 'u',
};

/* Characters Kafka allows in a topic name. */
static bool
topic_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Make room for n more bytes. */
static inline void
eb_reserve(ebuf *b, size_t n)
{
	if (b->cap - b->len < n)
	{
		size_t		cap = b->cap ? b->cap : 1024;

		while (cap - b->len < n)
			cap *= 2;
		b->p = trib_xrealloc(b->p, cap);
		b->cap = cap;
	}
}

/* Append n bytes. */
static inline void
eb_put(ebuf *b, const char *s, size_t n)
{
	eb_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Append a string literal (its length is known at compile time). */
#define EB_LIT(b, s) eb_put((b), (s), sizeof(s) - 1)

/* Append one byte. */
static inline void
eb_ch(ebuf *b, char c)
{
	eb_reserve(b, 1);
	b->p[b->len++] = c;
}

/* Append an unsigned decimal number. */
static inline void
eb_u64(ebuf *b, uint64_t v)
{
	char		tmp[TRIB_U64_DIGITS];
	char	   *e = tmp + sizeof(tmp);
	char	   *s = trib_u64_digits(e, v);

	eb_put(b, s, (size_t) (e - s));
}

/* One element of source.sequence, inside its JSON string: the LSN as an
 * escaped quoted decimal (\"123\"), or null when it is 0. */
static void
eb_sequence_lsn(ebuf *b, uint64_t lsn)
{
	if (lsn == 0)
	{
		EB_LIT(b, "null");
		return;
	}
	EB_LIT(b, "\\\"");
	eb_u64(b, lsn);
	EB_LIT(b, "\\\"");
}

/* Append a signed decimal number. */
static inline void
eb_i64(ebuf *b, int64_t v)
{
	if (v < 0)
	{
		eb_ch(b, '-');
		eb_u64(b, (uint64_t) 0 - (uint64_t) v);
	}
	else
		eb_u64(b, (uint64_t) v);
}

/* Append s (n bytes) as a JSON string with its quotes. */
static void
eb_jstr(ebuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t		i = 0;

	/* worst case: every byte becomes \u00XX */
	eb_reserve(b, n * 6 + 2);
	b->p[b->len++] = '"';
	while (i < n)
	{
		size_t		run = i;
		unsigned char c;

		while (run < n && (unsigned char) s[run] < 0x80 &&
			   json_esc[(unsigned char) s[run]] == 0)
			run++;
		memcpy(b->p + b->len, s + i, run - i);
		b->len += run - i;
		if (run == n)
			break;
		c = (unsigned char) s[run];
		if (c >= 0x80)
		{
			size_t		len = trib_utf8_seqlen(s + run, n - run);

			if (len > 0)
			{
				memcpy(b->p + b->len, s + run, len);
				b->len += len;
				i = run + len;
				continue;
			}
			/* not UTF-8: the byte's Latin-1 reading, as the plugin does */
			c = (unsigned char) s[run];
			memcpy(b->p + b->len, "\\u00", 4);
			b->len += 4;
			b->p[b->len++] = hex[c >> 4];
			b->p[b->len++] = hex[c & 15];
			i = run + 1;
			continue;
		}
		b->p[b->len++] = '\\';
		b->p[b->len++] = (char) json_esc[c];
		if (json_esc[c] == 'u')
		{
			b->p[b->len++] = '0';
			b->p[b->len++] = '0';
			b->p[b->len++] = hex[c >> 4];
			b->p[b->len++] = hex[c & 15];
		}
		i = run + 1;
	}
	b->p[b->len++] = '"';
}

/* Append a NUL-terminated string as JSON, "" for NULL. */
static inline void
eb_jcstr(ebuf *b, const char *s)
{
	if (s == NULL)
		EB_LIT(b, "\"\"");
	else
		eb_jstr(b, s, strlen(s));
}

/* Append the base64 encoding of n bytes. */
static void
eb_base64(ebuf *b, const unsigned char *s, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		i;
	char	   *o;

	eb_reserve(b, (n + 2) / 3 * 4);
	o = b->p + b->len;
	for (i = 0; i + 2 < n; i += 3)
	{
		uint32_t	v = (uint32_t) s[i] << 16 | (uint32_t) s[i + 1] << 8 | s[i + 2];

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n)
	{
		uint32_t	v = (uint32_t) s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t) s[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	b->len = (size_t) (o - b->p);
}

/* A heap copy of s escaped as a JSON string. */
static char *
json_quote(const char *s)
{
	ebuf		b = {0};

	eb_jcstr(&b, s);
	eb_ch(&b, '\0');
	return b.p;
}

/* Fill the options with their defaults. */
void
trib_envelope_opts_init(trib_envelope_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->topic_prefix = "tributary";
	opts->unavailable_value = TRIB_ENVELOPE_UNAVAILABLE;
	opts->tombstones = true;
}

/* Free a compiled pattern. */
static void
pattern_free(pattern *pat)
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
static bool
pattern_compile(pattern *pat, const char *what, const char *text,
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
				if (!topic_char_ok((unsigned char) *p))
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

/* Validate the options, compile the patterns, escape the constants. */
trib_envelope *
trib_envelope_new(const trib_envelope_opts *opts, char *errbuf, size_t errlen)
{
	trib_envelope *env;
	const char *prefix = opts->topic_prefix ? opts->topic_prefix : "";

	if (*prefix == '\0')
	{
		snprintf(errbuf, errlen, "envelope: topic prefix is empty");
		return NULL;
	}
	for (const char *p = prefix; *p; p++)
		if (!topic_char_ok((unsigned char) *p))
		{
			snprintf(errbuf, errlen,
					 "envelope: topic prefix \"%s\": character '%c' is not "
					 "allowed in a Kafka topic name (allowed: A-Z a-z 0-9 . _ -)",
					 prefix, *p);
			return NULL;
		}
	if (strlen(prefix) > TRIB_TOPIC_MAX)
	{
		snprintf(errbuf, errlen, "envelope: topic prefix longer than %d",
				 TRIB_TOPIC_MAX);
		return NULL;
	}

	env = trib_xrealloc(NULL, sizeof(*env));
	memset(env, 0, sizeof(*env));
	env->opts = *opts;
	env->prefix = trib_xstrdup(prefix);
	env->prefix_json = json_quote(prefix);
	env->version_json = json_quote(opts->version ? opts->version
								   : TRIB_ENVELOPE_VERSION);
	env->prefix_json_len = strlen(env->prefix_json);
	env->version_json_len = strlen(env->version_json);
	env->placeholder_json = opts->unavailable_value
		? json_quote(opts->unavailable_value) : NULL;
	env->placeholder = opts->unavailable_value ? trib_xstrdup(opts->unavailable_value) : NULL;
	/* the default pattern, also when a sink's config spells it out */
	env->schema_or_db = opts->topic_pattern == NULL ||
		strcmp(opts->topic_pattern, TRIB_ENVELOPE_DEFAULT_PATTERN) == 0;
	/* the copied options must not point at the caller's strings */
	env->opts.topic_prefix = env->prefix;
	env->opts.topic_pattern = NULL;
	env->opts.message_topic = NULL;
	env->opts.version = NULL;
	env->opts.unavailable_value = NULL;
	env->opts.debezium = NULL;
	env->dbz = opts->debezium ? trib_dbz_new(opts->debezium) : NULL;
	env->dbz_schemas = opts->debezium && opts->debezium->schemas_enable;

	if (!pattern_compile(&env->topic, "topic pattern",
						 opts->topic_pattern ? opts->topic_pattern
						 : TRIB_ENVELOPE_DEFAULT_PATTERN, errbuf, errlen) ||
		!pattern_compile(&env->message, "message topic",
						 opts->message_topic ? opts->message_topic
						 : TRIB_ENVELOPE_DEFAULT_MESSAGE_TOPIC, errbuf, errlen))
	{
		trib_envelope_free(env);
		return NULL;
	}
	return env;
}

/* Free an envelope and its buffers. */
void
trib_envelope_free(trib_envelope *env)
{
	if (env == NULL)
		return;
	free(env->prefix);
	free(env->prefix_json);
	free(env->version_json);
	free(env->placeholder_json);
	free(env->placeholder);
	pattern_free(&env->topic);
	pattern_free(&env->message);
	free(env->buf.p);
	free(env->offs);
	free(env->recs);
	trib_intern_each_value(env->counts, free);
	trib_intern_free(env->counts);
	trib_dbz_free(env->dbz);
	trib_strbuf_free(&env->dbz_buf);
	trib_dbz_tx_clear(&env->dbz_tx);
	trib_strbuf_free(&env->mongo_vs);
	trib_strbuf_free(&env->mongo_ks);
	if (env->src_gen)
		yajl_gen_free(env->src_gen);
	trib_strbuf_free(&env->src_head);
	free(env->src_connector);
	free(env->src_db);
	free(env->memo.source);
	free(env->memo.db);
	free(env->memo.schema);
	free(env->memo.table);
	trib_strbuf_free(&env->memo.topic);
	trib_strbuf_free(&env->memo.names);
	free(env);
}

/* Two strings equal, or both NULL. */
static bool
str_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Replace *keep with a copy of s unless it is the same already. */
static void
keep_str(char **keep, const char *s)
{
	if (str_same(*keep, s))
		return;
	free(*keep);
	*keep = s ? trib_xstrdup(s) : NULL;
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
static struct name_memo *
name_memo_for(trib_envelope *env, const char *source, const char *db,
			  const char *schema, const char *table)
{
	struct name_memo *m = &env->memo;

	if (str_same(m->table, table) && str_same(m->schema, schema) &&
		str_same(m->db, db) && str_same(m->source, source))
		return m;
	keep_str(&m->source, source);
	keep_str(&m->db, db);
	keep_str(&m->schema, schema);
	keep_str(&m->table, table);
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
		if (topic_char_ok(*p))
			b->p[b->len++] = (char) *p;
		else if ((*p & 0xC0) != 0x80)	/* one '_' per UTF-8 character */
			b->p[b->len++] = '_';
	}
}

/* Append the NUL-terminated topic for a pattern; false when illegal. */
static bool
topic_write(const trib_envelope *env, const pattern *pat, ebuf *b,
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
static bool
topic_routed(ebuf *b, const char *topic, char *errbuf, size_t errlen)
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

/* Append the table pattern's topic for these names, from the memo m
 * (name_memo_for, taken once for the record) when it has it; false when
 * illegal. */
static bool
topic_memo_write(trib_envelope *env, struct name_memo *m, ebuf *b,
				 const char *source, const char *db, const char *schema,
				 const char *table, char *errbuf, size_t errlen)
{
	size_t		start = b->len;

	if (m->topic_ok)
	{
		eb_put(b, m->topic.data, m->topic.len);
		return true;
	}
	if (!topic_write(env, &env->topic, b, source, db, schema, table, errbuf, errlen))
		return false;
	m->topic.len = 0;
	trib_strbuf_add(&m->topic, b->p + start, b->len - start);
	m->topic_ok = true;
	return true;
}

/* The topic of a table, in a caller's buffer. */
bool
trib_envelope_topic(const trib_envelope *env, const char *source,
					const char *db, const char *schema, const char *table,
					char *out, size_t outlen, char *errbuf, size_t errlen)
{
	ebuf		b = {0};
	bool		ok = topic_write(env, &env->topic, &b, source, db, schema,
								 table, errbuf, errlen);

	if (ok && b.len > outlen)
	{
		snprintf(errbuf, errlen, "envelope: topic buffer too small");
		ok = false;
	}
	if (ok)
		memcpy(out, b.p, b.len);
	free(b.p);
	return ok;
}

/* Is the envelope writing Debezium's transaction topic? */
static bool
dbz_txmeta(const trib_envelope *env)
{
	return env->dbz != NULL && env->opts.transaction_metadata;
}

/* See envelope.h. */
char *
trib_envelope_tx_state(const trib_envelope *env)
{
	trib_strbuf out = {0};

	if (!dbz_txmeta(env) || !trib_dbz_tx_save(&env->dbz_tx, &out))
		return NULL;
	return trib_strbuf_finish(&out);
}

/* See envelope.h. */
bool
trib_envelope_tx_resume(trib_envelope *env, const char *state)
{
	return dbz_txmeta(env) && trib_dbz_tx_load(&env->dbz_tx, state);
}

/* See envelope.h. */
void
trib_envelope_tx_checkpoint(const trib_envelope *env, yajl_gen g)
{
	if (dbz_txmeta(env))
		trib_dbz_tx_checkpoint_gen(&env->dbz_tx, g);
}

/* See envelope.h. */
void
trib_envelope_tx_checkpoint_read(trib_envelope *env, yajl_val doc)
{
	trib_dbz_tx_checkpoint_read(&env->dbz_tx, doc);
}

/* See envelope.h. */
bool
trib_envelope_tx_checkpoint_resume(trib_envelope *env)
{
	if (env->dbz_tx.restored == NULL)
		return true;
	if (dbz_txmeta(env))
		return trib_dbz_tx_checkpoint_resume(&env->dbz_tx);
	free(env->dbz_tx.restored);
	env->dbz_tx.restored = NULL;
	return false;
}

/* The event id "commit_lsn:seq" of a position (position.h). */
size_t
trib_envelope_event_id(const trib_position *pos, char *buf, size_t len)
{
	return trib_eventid_format_seq(pos->commit_lsn, pos->seq, buf, len);
}

/* Start a new record: grow the arrays, return its offsets entry. */
static recoff *
rec_new(trib_envelope *env)
{
	recoff	   *r;

	if (env->nrecs == env->caprecs)
	{
		env->caprecs = env->caprecs ? env->caprecs * 2 : 4;
		env->offs = trib_xrealloc(env->offs, env->caprecs * sizeof(recoff));
		env->recs = trib_xrealloc(env->recs, env->caprecs * sizeof(trib_record));
	}
	r = &env->offs[env->nrecs++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* Position of this table's event in its transaction (1-based). */
static uint64_t
tx_collection_order(trib_envelope *env, const char *schema, const char *table)
{
	size_t		ls = schema ? strlen(schema) : 0;
	size_t		lt = table ? strlen(table) : 0;
	size_t		len = ls + 1 + lt;
	char		stackname[256];
	char	   *name = len <= sizeof(stackname) ? stackname : trib_xrealloc(NULL, len);
	void	  **slot;
	txcount    *c;
	uint64_t	result;

	if (ls)
		memcpy(name, schema, ls);
	name[ls] = '\0';
	if (lt)
		memcpy(name + ls + 1, table, lt);
	if (env->counts == NULL)
		env->counts = trib_intern_new();
	slot = trib_intern_value(env->counts, name, len);
	if (*slot == NULL)
		*slot = trib_xcalloc(1, sizeof(txcount));
	c = *slot;
	if (c->gen != env->tx_gen)
	{
		c->gen = env->tx_gen;
		c->count = 0;
	}
	result = ++c->count;
	if (name != stackname)
		free(name);
	return result;
}

/* Append v * 1000, v's decimal text being the n bytes at b->p + at: that
 * text and "000" (no second division loop; the same bytes), or "0" when v
 * is 0.  The text is the exact product also where it would not fit an
 * int64 (ts_ns after the year 2262): a JSON number has no width, and
 * multiplying would overflow. */
static void
eb_x1000(ebuf *b, size_t at, size_t n, int64_t v)
{
	if (v == 0)
	{
		EB_LIT(b, "0");
		return;
	}
	eb_reserve(b, n + 3);		/* may move b->p: copy after it */
	memcpy(b->p + b->len, b->p + at, n);
	memcpy(b->p + b->len + n, "000", 3);
	b->len += n + 3;
}

/* A ts_ms value; in Debezium mode followed by Debezium 2.6's ts_us and
 * ts_ns: the same instant from us (microseconds, PostgreSQL's commit
 * time), or from ms when us is 0 (our clocks, sources without them). */
static void
eb_ts(trib_envelope *env, int64_t ms, int64_t us)
{
	ebuf	   *b = &env->buf;
	size_t		ms_at = b->len;
	size_t		us_at;
	size_t		n;

	eb_i64(b, ms);
	if (env->dbz == NULL)
		return;
	n = b->len - ms_at;
	EB_LIT(b, ",\"ts_us\":");
	us_at = b->len;
	if (us == 0)
	{
		eb_x1000(b, ms_at, n, ms);
		us = ms;				/* for eb_x1000 below: zero or not as the
								 * product, which may not fit an int64 */
	}
	else
		eb_i64(b, us);
	n = b->len - us_at;
	EB_LIT(b, ",\"ts_ns\":");
	eb_x1000(b, us_at, n, us);
}

/*
 * A record's ts_ms (processing time, now).  Events that follow each other
 * mostly fall in the same millisecond: its text is kept (env->now_text)
 * and copied while it does.  In Debezium mode ts_us and ts_ns follow,
 * which change every microsecond: eb_ts writes them all.
 */
static void
eb_now(trib_envelope *env, int64_t now)
{
	ebuf	   *b = &env->buf;
	size_t		at = b->len;

	if (env->dbz != NULL)
	{
		eb_ts(env, now, env->now_us);
		return;
	}
	if (env->now_text_len != 0 && env->now_ms == now)
	{
		eb_put(b, env->now_text, env->now_text_len);
		return;
	}
	eb_i64(b, now);
	memcpy(env->now_text, b->p + at, b->len - at);	/* at most 20 bytes */
	env->now_text_len = b->len - at;
	env->now_ms = now;
}

/* A row image (or key) in the envelope's format: as is, or in Debezium's
 * encodings (debezium.h), its length in *len (the converter's output holds
 * no NUL: it escapes control characters); the result stays valid until
 * the next call. */
static const char *
image_text(trib_envelope *env, const trib_event *ev, const char *image,
		   const char *json_nulls, size_t *len, char *errbuf, size_t errlen)
{
	if (env->dbz == NULL)
	{
		*len = strlen(image);
		return image;
	}
	env->dbz_buf.len = 0;
	if (!trib_dbz_row(env->dbz, ev->connector, ev->rel, image, json_nulls,
					  &env->dbz_buf, errbuf, errlen))
		return NULL;
	*len = env->dbz_buf.len;
	return env->dbz_buf.data;
}

/* Debezium mode for a MongoDB event: Debezium's MongoDB connector's
 * record (documents as strings, debezium_mongo.c). */
static bool
dbz_mongo(const trib_envelope *env, const trib_event *ev)
{
	return env->dbz != NULL && ev->connector != NULL && strcmp(ev->connector, "mongodb") == 0;
}

/* Append what one of the debezium_mongo.c writers made of text: false
 * (errbuf filled) when it could not. */
static bool
put_mongo(trib_envelope *env, bool (*conv) (const char *, trib_strbuf *, char *, size_t),
		  const char *text, char *errbuf, size_t errlen)
{
	env->dbz_buf.len = 0;
	if (!conv(text, &env->dbz_buf, errbuf, errlen))
		return false;
	eb_put(&env->buf, env->dbz_buf.data, env->dbz_buf.len);
	return true;
}

/* "transaction": null or the block of Debezium's transaction metadata. */
static void
write_transaction(trib_envelope *env, const trib_event *ev,
				  const char *schema, const char *table)
{
	ebuf	   *b = &env->buf;
	const trib_position *pos = trib_event_origin(ev);

	EB_LIT(b, ",\"transaction\":");
	if (!env->opts.transaction_metadata || ev->txid == 0)
	{
		EB_LIT(b, "null");
		return;
	}
	if (!env->tx_known || env->tx_commit_lsn != pos->commit_lsn ||
		env->tx_txid != ev->txid)
	{
		env->tx_known = true;
		env->tx_commit_lsn = pos->commit_lsn;
		env->tx_txid = ev->txid;
		env->tx_gen++;
	}
	EB_LIT(b, "{\"id\":\"");
	eb_u64(b, ev->txid);
	eb_ch(b, ':');
	eb_u64(b, pos->commit_lsn);
	EB_LIT(b, "\",\"total_order\":");
	eb_u64(b, pos->seq + 1);
	EB_LIT(b, ",\"data_collection_order\":");
	eb_u64(b, tx_collection_order(env, schema, table));
	eb_ch(b, '}');
}

/* ,"json_nulls":{"before":[...],"after":[...]}: the images' JSON null
 * lists (event.h), each key only when the event has that list. */
static void
write_json_nulls(ebuf *b, const trib_event *ev)
{
	EB_LIT(b, ",\"json_nulls\":{");
	if (ev->before_json_nulls)
	{
		EB_LIT(b, "\"before\":");
		eb_put(b, ev->before_json_nulls, strlen(ev->before_json_nulls));
	}
	if (ev->after_json_nulls)
	{
		if (ev->before_json_nulls)
			eb_ch(b, ',');
		EB_LIT(b, "\"after\":");
		eb_put(b, ev->after_json_nulls, strlen(ev->after_json_nulls));
	}
	eb_ch(b, '}');
}

/*
 * The source's own members copied as they are when the position says its
 * opaque text starts with them as yajl writes them (its source hint,
 * core/position.h): the bytes the parse below would generate.  False when
 * it does not say so, or the text does not look like it (a stale hint is
 * not trusted: the parse decides).
 */
static bool
copy_source_own(ebuf *b, const trib_position *pos)
{
	static const char head[] = "{\"source\":{";
	size_t		n = trib_position_opaque_source(pos),
				hl = sizeof(head) - 1;

	if (n <= hl || strnlen(pos->opaque, n + 1) <= n ||
		memcmp(pos->opaque, head, hl) != 0 || pos->opaque[n - 1] != '}' ||
		(pos->opaque[n] != ',' && pos->opaque[n] != '}'))
		return false;
	if (n > hl + 1)
	{
		/* "k":v,... after the common members */
		eb_ch(b, ',');
		eb_put(b, pos->opaque + hl, n - hl - 1);
	}
	return true;
}

/*
 * A source's own members of the "source" block: the "source" object of
 * the event's opaque position, when it has one (the MySQL source puts
 * Debezium's server_id, gtid, file, pos, row and thread there), written
 * after the common members.  Source-neutral: any source may add its own.
 * Read by yajl's event parser into the envelope's generator, no tree
 * (opaque_source.h).
 */
static void
write_source_own(trib_envelope *env, const trib_position *pos)
{
	const unsigned char *text;
	size_t		len;

	if (pos->opaque == NULL)
		return;
	if (copy_source_own(&env->buf, pos))
		return;
	if (strstr(pos->opaque, "\"source\"") == NULL)
		return;
	if (env->src_gen == NULL && (env->src_gen = yajl_gen_alloc(NULL)) == NULL)
		return;
	if (trib_opaque_source(pos->opaque, env->src_gen) &&
		yajl_gen_get_buf(env->src_gen, &text, &len) == yajl_gen_status_ok && len > 2)
	{
		/* {"k":v,...} less its braces, after the common members */
		eb_ch(&env->buf, ',');
		eb_put(&env->buf, (const char *) text + 1, len - 2);
	}
	yajl_gen_clear(env->src_gen);
	yajl_gen_reset(env->src_gen, NULL);
}

/*
 * A MongoDB update's updateDescription, kept by the source in ev->extra as
 * {"updateDescription": {...}} (source/mongodb/mongo_event.h), written
 * beside `after` as Debezium's MongoDB connector does.
 */
static void
write_update_description(ebuf *b, const trib_event *ev)
{
	const char *path[] = {"updateDescription", NULL};
	yajl_val	root,
				ud;
	yajl_gen	g;
	const unsigned char *text;
	size_t		len;

	if (ev->op != TRIB_OP_UPDATE || ev->extra == NULL ||
		(root = yajl_tree_parse(ev->extra, NULL, 0)) == NULL)
		return;
	ud = yajl_tree_get(root, path, yajl_t_object);
	g = yajl_gen_alloc(NULL);
	if (ud && trib_jdoc_gen(g, ud) && yajl_gen_get_buf(g, &text, &len) == yajl_gen_status_ok)
	{
		EB_LIT(b, ",\"updateDescription\":");
		eb_put(b, (const char *) text, len);
	}
	yajl_gen_free(g);
	yajl_tree_free(root);
}

/* The source block's members ,"schema":S,"table":T, from the memo m
 * (name_memo_for, taken once for the record) when it has them. */
static void
write_names(struct name_memo *m, ebuf *b, const char *schema, const char *table)
{
	size_t		start = b->len;

	if (m->names_ok)
	{
		eb_put(b, m->names.data, m->names.len);
		return;
	}
	EB_LIT(b, ",\"schema\":");
	eb_jcstr(b, schema);
	EB_LIT(b, ",\"table\":");
	eb_jcstr(b, table);
	m->names.len = 0;
	trib_strbuf_add(&m->names, b->p + start, b->len - start);
	m->names_ok = true;
}

/*
 * The source block's ,"sequence":"[\"first\",\"lsn\"]" and, for "lsn" after
 * it, lsn's digits into digits (TRIB_U64_DIGITS bytes before its end,
 * *n of them; 0 when lsn is 0).  The part up to the first LSN repeats for
 * every event of a transaction: it is kept (env->seq_head) while first
 * does, and only lsn is formatted, once for both members.
 */
static void
write_sequence(trib_envelope *env, uint64_t first, uint64_t lsn,
			   char *digits_end, const char **digits, size_t *n)
{
	ebuf	   *b = &env->buf;

	*digits = trib_u64_digits(digits_end, lsn);
	*n = lsn ? (size_t) (digits_end - *digits) : 0;
	if (env->seq_head_len == 0 || env->seq_first != first)
	{
		size_t		at = b->len;

		EB_LIT(b, ",\"sequence\":\"[");
		eb_sequence_lsn(b, first);
		eb_ch(b, ',');
		if (b->len - at <= sizeof(env->seq_head))
		{
			memcpy(env->seq_head, b->p + at, b->len - at);
			env->seq_head_len = b->len - at;
			env->seq_first = first;
		}
	}
	else
		eb_put(b, env->seq_head, env->seq_head_len);
	if (lsn == 0)
		EB_LIT(b, "null");
	else
	{
		EB_LIT(b, "\\\"");
		eb_put(b, *digits, *n);
		EB_LIT(b, "\\\"");
	}
	EB_LIT(b, "]\"");
}

/* The source block's members after db for PostgreSQL (and, outside
 * Debezium mode, every source): sequence, schema, table, txId, lsn, xmin.
 * sequence's first member is the event's own commit LSN, or with dbz
 * (Debezium mode, PostgreSQL events) as Debezium's PostgreSQL connector
 * has it, the commit LSN of the transaction before (ev->prev_commit_lsn;
 * null when unknown). */
static void
write_source_pg(trib_envelope *env, const trib_event *ev, const trib_position *pos,
				bool dbz, struct name_memo *m, const char *schema,
				const char *table)
{
	ebuf	   *b = &env->buf;
	char		digits[TRIB_U64_DIGITS];
	const char *d = NULL;
	size_t		n = 0;

	if (pos->commit_lsn == 0 && pos->lsn == 0)
		EB_LIT(b, ",\"sequence\":null");
	else
		write_sequence(env, dbz ? ev->prev_commit_lsn : pos->commit_lsn,
					   pos->lsn, digits + sizeof(digits), &d, &n);
	write_names(m, b, schema, table);
	EB_LIT(b, ",\"txId\":");
	if (ev->txid)
		eb_u64(b, ev->txid);
	else
		EB_LIT(b, "null");
	EB_LIT(b, ",\"lsn\":");
	if (n > 0)
		eb_put(b, d, n);		/* lsn's digits, from write_sequence */
	else if (pos->lsn)
		eb_u64(b, pos->lsn);
	else
		EB_LIT(b, "null");
	EB_LIT(b, ",\"xmin\":null");
}

/* The instant of the source block's ts_ms (and Debezium's ts_us, ts_ns):
 * the event's, a MongoDB event's clusterTime, or this encode's clock. */
static void
source_instant(const trib_envelope *env, const trib_event *ev,
			   const trib_position *pos, int64_t *ms, int64_t *us)
{
	*us = 0;
	if (dbz_mongo(env, ev) && pos->commit_lsn != 0)
		*ms = (int64_t) (pos->commit_lsn >> 32) * 1000;	/* clusterTime */
	else if (ev->ts_ms != 0)
	{
		*ms = ev->ts_ms;
		*us = ev->ts_us;
	}
	else
	{
		*ms = env->now_us / 1000;
		*us = env->now_us;
	}
}

/*
 * The source block's opening and its members from "version" to "db":
 * the envelope's version and prefix, and the event's connector, instant,
 * snapshot state and db, which stay the same for every event of a
 * transaction.  Rendered when one of them changes and kept
 * (env->src_head); copied as they are otherwise.
 */
static void
write_source_head(trib_envelope *env, const trib_event *ev, const trib_position *pos)
{
	ebuf	   *b = &env->buf;
	int			snap = !ev->snapshot ? 1 : ev->last_in_tx ? 2 : 3;
	size_t		at = b->len;
	int64_t		ms,
				us;

	source_instant(env, ev, pos, &ms, &us);
	if (env->src_snap == snap && env->src_ms == ms && env->src_us == us &&
		str_same(env->src_connector, ev->connector) && str_same(env->src_db, ev->db))
	{
		eb_put(b, env->src_head.data, env->src_head.len);
		return;
	}
	EB_LIT(b, ",\"source\":{\"version\":");
	eb_put(b, env->version_json, env->version_json_len);
	EB_LIT(b, ",\"connector\":");
	if (ev->connector)
		eb_jcstr(b, ev->connector);
	else
		EB_LIT(b, "\"postgresql\"");
	EB_LIT(b, ",\"name\":");
	eb_put(b, env->prefix_json, env->prefix_json_len);
	EB_LIT(b, ",\"ts_ms\":");
	eb_ts(env, ms, us);
	if (snap == 1)
		EB_LIT(b, ",\"snapshot\":\"false\"");
	else if (snap == 2)
		EB_LIT(b, ",\"snapshot\":\"last\"");
	else
		EB_LIT(b, ",\"snapshot\":\"true\"");
	EB_LIT(b, ",\"db\":");
	eb_jcstr(b, ev->db);
	env->src_head.len = 0;
	trib_strbuf_add(&env->src_head, b->p + at, b->len - at);
	keep_str(&env->src_connector, ev->connector);
	keep_str(&env->src_db, ev->db);
	env->src_ms = ms;
	env->src_us = us;
	env->src_snap = snap;
}

/* The "source" block (with its key); m is the memo of the record's
 * names (name_memo_for). */
static void
write_source(trib_envelope *env, const trib_event *ev, struct name_memo *m,
			 const char *schema, const char *table)
{
	ebuf	   *b = &env->buf;
	const trib_position *pos = trib_event_origin(ev);

	write_source_head(env, ev, pos);
	if (dbz_mongo(env, ev))
	{
		/* Debezium's MongoDB connector: collection, ord, lsid,
		 * txnNumber and wallTime */
		EB_LIT(b, ",\"sequence\":null");
		env->dbz_buf.len = 0;
		trib_dbz_mongo_source(pos->opaque, table, ev->snapshot ? 0 : ev->ts_ms,
							  &env->dbz_buf);
		eb_put(b, env->dbz_buf.data, env->dbz_buf.len);
		eb_ch(b, '}');
		return;
	}
	if (env->dbz && ev->connector && strcmp(ev->connector, "mysql") == 0)
	{
		/* Debezium's MySQL connector: no schema, txId, lsn or xmin; its
		 * binlog coordinates are the source's own members below */
		EB_LIT(b, ",\"sequence\":null,\"table\":");
		eb_jcstr(b, table);
	}
	else
		write_source_pg(env, ev, pos, env->dbz != NULL &&
						(ev->connector == NULL || strcmp(ev->connector, "postgresql") == 0),
						m, schema, table);
	write_source_own(env, pos);
	if (ev->before_json_nulls || ev->after_json_nulls)
		write_json_nulls(b, ev);
	eb_ch(b, '}');
}

/* Skip JSON whitespace. */
static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/*
 * The placeholder of an unchanged TOAST column whose name is the JSON
 * string name[0..len): as a string, or in Debezium mode as Debezium writes
 * it for the column's type (debezium.h; a name with escapes is looked up
 * no further).
 */
static void
put_placeholder(trib_envelope *env, const trib_event *ev, const char *name, size_t len)
{
	char		col[256];

	if (env->dbz == NULL || len < 2 || len - 2 >= sizeof(col) ||
		memchr(name, '\\', len) != NULL)
	{
		eb_put(&env->buf, env->placeholder_json, strlen(env->placeholder_json));
		return;
	}
	memcpy(col, name + 1, len - 2);
	col[len - 2] = '\0';
	env->dbz_buf.len = 0;
	trib_dbz_placeholder(env->dbz, ev->connector, ev->rel, col, env->placeholder,
						 &env->dbz_buf);
	eb_put(&env->buf, env->dbz_buf.data, env->dbz_buf.len);
}

/*
 * Append `after` with every name of the `unchanged` array added as
 * "name":placeholder.  Names are copied verbatim (already JSON strings).
 */
static bool
write_after_with_unchanged(trib_envelope *env, const trib_event *ev, const char *after,
						   const char *unchanged, char *errbuf, size_t errlen)
{
	ebuf	   *b = &env->buf;
	size_t		alen = strlen(after);
	size_t		end = alen;
	const char *p;
	bool		need_comma;
	size_t		mark = b->len;

	while (end > 0 && (after[end - 1] == ' ' || after[end - 1] == '\n' ||
					   after[end - 1] == '\t' || after[end - 1] == '\r'))
		end--;
	p = skip_ws(after);
	if (*p != '{' || end == 0 || after[end - 1] != '}')
	{
		snprintf(errbuf, errlen, "envelope: row image is not a JSON object");
		return false;
	}
	need_comma = skip_ws(p + 1) != after + end - 1;
	eb_put(b, after, end - 1);

	p = skip_ws(unchanged);
	if (*p != '[')
		goto bad;
	p = skip_ws(p + 1);
	if (*p != ']')
	{
		for (;;)
		{
			const char *start = p;

			if (*p != '"')
				goto bad;
			for (p++; *p != '"'; p++)
			{
				if (*p == '\0')
					goto bad;
				if (*p == '\\' && *++p == '\0')
					goto bad;
			}
			p++;
			if (need_comma)
				eb_ch(b, ',');
			need_comma = true;
			eb_put(b, start, (size_t) (p - start));
			eb_ch(b, ':');
			put_placeholder(env, ev, start, (size_t) (p - start));
			p = skip_ws(p);
			if (*p == ',')
			{
				p = skip_ws(p + 1);
				continue;
			}
			if (*p == ']')
				break;
			goto bad;
		}
	}
	if (*skip_ws(p + 1) != '\0')
		goto bad;
	eb_ch(b, '}');
	return true;

bad:
	b->len = mark;
	snprintf(errbuf, errlen,
			 "envelope: \"unchanged\" is not a JSON array of column names");
	return false;
}

/* ev->after as the record's row image: with the placeholder in place of
 * each unchanged TOAST column when the envelope writes one, else as is. */
static bool
write_after(trib_envelope *env, const trib_event *ev, char *errbuf, size_t errlen)
{
	size_t		len;
	const char *after = image_text(env, ev, ev->after, ev->after_json_nulls,
								   &len, errbuf, errlen);

	if (after == NULL)
		return false;
	if (ev->unchanged && env->placeholder_json)
		return write_after_with_unchanged(env, ev, after, ev->unchanged, errbuf, errlen);
	eb_put(&env->buf, after, len);
	return true;
}

/* What transform rules added: quality tags and a dead-letter reason. */
static void
write_rule_fields(ebuf *b, const trib_event *ev)
{
	if (ev->tags)
	{
		EB_LIT(b, ",\"tags\":");
		eb_put(b, ev->tags, strlen(ev->tags));
	}
	if (ev->error)
	{
		EB_LIT(b, ",\"error\":");
		eb_jcstr(b, ev->error);
	}
}

/* The record's key: the event's (pointed to), or in Debezium mode its
 * converted copy after the value in the buffer. */
static bool
write_key(trib_envelope *env, const trib_event *ev, recoff *r,
		  char *errbuf, size_t errlen)
{
	const char *key;
	size_t		key_len;
	size_t		len;
	size_t		at;

	if (env->dbz == NULL)
	{
		r->key = ev->key;
		r->key_len = strlen(ev->key);
		return true;
	}
	if (dbz_mongo(env, ev))
	{
		env->dbz_buf.len = 0;
		if (!trib_dbz_mongo_key(ev->key, &env->dbz_buf, errbuf, errlen))
			return false;
		key = env->dbz_buf.data;
		key_len = strlen(key);
	}
	else if ((key = image_text(env, ev, ev->key, NULL, &key_len, errbuf, errlen)) == NULL)
		return false;
	at = env->buf.len;
	if (env->dbz_schemas && ev->flatten == TRIB_FLAT_NONE)
	{
		EB_LIT(&env->buf, "{\"schema\":");
		if (env->key_schema)
			eb_put(&env->buf, env->key_schema, env->key_schema_len);
		else
			EB_LIT(&env->buf, "null");
		EB_LIT(&env->buf, ",\"payload\":");
	}
	eb_put(&env->buf, key, key_len);
	if (env->dbz_schemas && ev->flatten == TRIB_FLAT_NONE)
		eb_ch(&env->buf, '}');
	len = env->buf.len - at;
	eb_ch(&env->buf, '\0');
	r->key_in_buf = true;
	r->key_off = at;
	r->key_len = len;
	return true;
}

/*
 * A flattened row event (the flatten rule, Debezium's "new record
 * state"): the value is the row itself, or null for a tombstone.
 */
static bool
write_flat_record(trib_envelope *env, const trib_event *ev, size_t topic,
				  size_t value, char *errbuf, size_t errlen)
{
	ebuf	   *b = &env->buf;
	recoff	   *r;

	if (ev->flatten == TRIB_FLAT_ROW && ev->after)
	{
		if (!write_after(env, ev, errbuf, errlen))
			return false;
	}
	r = rec_new(env);
	r->topic = topic;
	r->value = value;
	r->value_len = b->len - value;
	r->tombstone = ev->flatten == TRIB_FLAT_TOMBSTONE || ev->after == NULL;
	eb_ch(b, '\0');
	return ev->key == NULL || write_key(env, ev, r, errbuf, errlen);
}

/*
 * schemas.enable: start the value {"schema":S,"payload": with the
 * relation's cached Envelope schema (null when the event has no relation,
 * e.g. a truncate of several tables) and note its Key schema.
 */
static bool
open_payload(trib_envelope *env, const trib_event *ev, bool row,
			 char *errbuf, size_t errlen)
{
	const char *vs = NULL;
	size_t		vs_len = 0;

	env->key_schema = NULL;
	env->key_schema_len = 0;
	if (dbz_mongo(env, ev))
	{
		env->mongo_vs.len = env->mongo_ks.len = 0;
		trib_dbz_mongo_render_schemas(env->prefix, ev->db, ev->table, &env->mongo_vs,
									  &env->mongo_ks);
		vs = env->mongo_vs.data;
		vs_len = strlen(vs);
		env->key_schema = row ? env->mongo_ks.data : NULL;
		env->key_schema_len = row ? strlen(env->mongo_ks.data) : 0;
	}
	else if (ev->rel && !trib_dbz_schemas(env->dbz, env->prefix, ev->connector, ev->rel,
									 row ? ev->key : NULL, &vs, &env->key_schema,
									 &vs_len, &env->key_schema_len, errbuf, errlen))
		return false;
	EB_LIT(&env->buf, "{\"schema\":");
	if (vs)
		eb_put(&env->buf, vs, vs_len);
	else
		EB_LIT(&env->buf, "null");
	EB_LIT(&env->buf, ",\"payload\":");
	return true;
}

/* before, after and (for a MongoDB update) updateDescription: the
 * images as the source wrote them or in Debezium's encodings. */
static bool
write_images(trib_envelope *env, const trib_event *ev, bool row, char *errbuf,
			 size_t errlen)
{
	ebuf	   *b = &env->buf;

	EB_LIT(b, "{\"before\":");
	if (row && ev->before)
	{
		size_t		len;
		const char *before = image_text(env, ev, ev->before,
										ev->before_json_nulls, &len, errbuf, errlen);

		if (before == NULL)
			return false;
		eb_put(b, before, len);
	}
	else
		EB_LIT(b, "null");
	EB_LIT(b, ",\"after\":");
	if (row && ev->after)
	{
		if (!write_after(env, ev, errbuf, errlen))
			return false;
	}
	else
		EB_LIT(b, "null");
	write_update_description(b, ev);
	return true;
}

/* A MongoDB document image in Debezium mode: its string, or null. */
static bool
put_mongo_doc(trib_envelope *env, const trib_event *ev, const char *doc, const char *image,
			  char *errbuf, size_t errlen)
{
	if (doc == NULL)
	{
		EB_LIT(&env->buf, "null");
		return true;
	}
	env->dbz_buf.len = 0;
	if (!trib_dbz_mongo_doc(doc, ev->extra, image, &env->dbz_buf, errbuf, errlen))
		return false;
	eb_put(&env->buf, env->dbz_buf.data, env->dbz_buf.len);
	return true;
}

/* A MongoDB event's before, after and updateDescription in Debezium
 * mode: the documents as strings, updateDescription always (null but
 * for updates). */
static bool
write_mongo_images(trib_envelope *env, const trib_event *ev, char *errbuf, size_t errlen)
{
	ebuf	   *b = &env->buf;

	EB_LIT(b, "{\"before\":");
	if (!put_mongo_doc(env, ev, ev->before, "before", errbuf, errlen))
		return false;
	EB_LIT(b, ",\"after\":");
	if (!put_mongo_doc(env, ev, ev->after, "after", errbuf, errlen))
		return false;
	EB_LIT(b, ",\"updateDescription\":");
	return put_mongo(env, trib_dbz_mongo_update,
					 ev->op == TRIB_OP_UPDATE ? ev->extra : NULL, errbuf, errlen);
}

/* One row-change record (c, u, d, r) or one truncate record (t). */
static bool
write_row_record(trib_envelope *env, const trib_event *ev,
				 const char *schema, const char *table, int64_t now,
				 char *errbuf, size_t errlen)
{
	ebuf	   *b = &env->buf;
	recoff	   *r;
	size_t		topic = b->len;
	size_t		value;
	bool		row = ev->op != TRIB_OP_TRUNCATE;

	/* one check of the four names per record serves the topic and the
	 * source block's schema and table */
	struct name_memo *m = name_memo_for(env, ev->source, ev->db, schema, table);

	/* routed: the router's choice wins over the pattern */
	if (ev->topic && table == ev->table
		? !topic_routed(b, ev->topic, errbuf, errlen)
		: !topic_memo_write(env, m, b, ev->source, ev->db, schema, table,
							errbuf, errlen))
		return false;

	value = b->len;
	if (row && ev->flatten != TRIB_FLAT_NONE)
		return write_flat_record(env, ev, topic, value, errbuf, errlen);
	if (env->dbz_schemas && !open_payload(env, ev, row, errbuf, errlen))
		return false;
	if (row && dbz_mongo(env, ev))
	{
		if (!write_mongo_images(env, ev, errbuf, errlen))
			return false;
	}
	else if (!write_images(env, ev, row, errbuf, errlen))
		return false;
	write_source(env, ev, m, schema, table);
	EB_LIT(b, ",\"op\":\"");
	eb_ch(b, (char) ev->op);
	EB_LIT(b, "\",\"ts_ms\":");
	eb_now(env, now);
	write_transaction(env, ev, schema, table);
	write_rule_fields(b, ev);
	eb_ch(b, '}');
	if (env->dbz_schemas)
		eb_ch(b, '}');			/* the payload's wrapper */

	r = rec_new(env);
	r->topic = topic;
	r->value = value;
	r->value_len = b->len - value;
	eb_ch(b, '\0');			/* not counted: a convenience for readers */
	if (row && ev->key && !write_key(env, ev, r, errbuf, errlen))
		return false;

	if (ev->op == TRIB_OP_DELETE && env->opts.tombstones &&
		(r->key || r->key_in_buf))
	{
		recoff	   *t;
		recoff		copy = *r;

		t = rec_new(env);		/* may move env->offs */
		*t = copy;
		t->tombstone = true;
		t->value_len = 0;
	}
	return true;
}

/* A truncate: one record per table. */
static bool
write_truncate(trib_envelope *env, const trib_event *ev, int64_t now,
			   char *errbuf, size_t errlen)
{
	char		perr[128];
	yajl_val	root;
	yajl_val	rels;
	static const char *relpath[] = {"relations", NULL};
	static const char *spath[] = {"schema", NULL};
	static const char *tpath[] = {"table", NULL};
	bool		ok = true;

	if (ev->table)
		return write_row_record(env, ev, ev->schema, ev->table, now,
								errbuf, errlen);
	if (ev->extra == NULL ||
		(root = yajl_tree_parse(ev->extra, perr, sizeof(perr))) == NULL)
	{
		snprintf(errbuf, errlen,
				 "envelope: truncate without a table or \"relations\"");
		return false;
	}
	rels = yajl_tree_get(root, relpath, yajl_t_array);
	if (rels == NULL)
	{
		snprintf(errbuf, errlen,
				 "envelope: truncate: \"relations\" is not an array");
		ok = false;
	}
	for (size_t i = 0; ok && i < YAJL_GET_ARRAY(rels)->len; i++)
	{
		yajl_val	rel = YAJL_GET_ARRAY(rels)->values[i];
		yajl_val	s = yajl_tree_get(rel, spath, yajl_t_string);
		yajl_val	t = yajl_tree_get(rel, tpath, yajl_t_string);

		if (t == NULL)
		{
			snprintf(errbuf, errlen,
					 "envelope: truncate: relation %zu has no \"table\"", i);
			ok = false;
			break;
		}
		ok = write_row_record(env, ev, s ? YAJL_GET_STRING(s) : NULL,
							  YAJL_GET_STRING(t), now, errbuf, errlen);
	}
	yajl_tree_free(root);
	return ok;
}

/* A logical decoding message: Debezium's "m" record. */
static bool
write_message(trib_envelope *env, const trib_event *ev, int64_t now,
			  char *errbuf, size_t errlen)
{
	ebuf	   *b = &env->buf;
	char		perr[128];
	yajl_val	root;
	yajl_val	prefix;
	yajl_val	content;
	yajl_val	encoding;
	static const char *ppath[] = {"prefix", NULL};
	static const char *cpath[] = {"content", NULL};
	static const char *epath[] = {"encoding", NULL};
	size_t		topic = b->len;
	size_t		key;
	size_t		value;
	recoff	   *r;
	const char *pfx;
	const char *enc;

	if (ev->extra == NULL ||
		(root = yajl_tree_parse(ev->extra, perr, sizeof(perr))) == NULL)
	{
		snprintf(errbuf, errlen, "envelope: message without valid \"extra\"");
		return false;
	}
	prefix = yajl_tree_get(root, ppath, yajl_t_string);
	content = yajl_tree_get(root, cpath, yajl_t_string);
	encoding = yajl_tree_get(root, epath, yajl_t_string);
	if (prefix == NULL || content == NULL)
	{
		yajl_tree_free(root);
		snprintf(errbuf, errlen,
				 "envelope: message: \"prefix\" and \"content\" must be strings");
		return false;
	}
	if (ev->topic ? !topic_routed(b, ev->topic, errbuf, errlen)
		: !topic_write(env, &env->message, b, ev->source, ev->db, NULL,
					   NULL, errbuf, errlen))
	{
		yajl_tree_free(root);
		return false;
	}
	pfx = YAJL_GET_STRING(prefix);

	key = b->len;
	EB_LIT(b, "{\"prefix\":");
	eb_jcstr(b, pfx);
	eb_ch(b, '}');
	eb_ch(b, '\0');

	value = b->len;
	EB_LIT(b, "{\"op\":\"m\",\"ts_ms\":");
	eb_i64(b, now);
	/* write_source starts with a comma: splice "source" after ts_ms */
	write_source(env, ev, name_memo_for(env, ev->source, ev->db, NULL, NULL),
				 NULL, NULL);
	write_transaction(env, ev, "", "message");
	EB_LIT(b, ",\"message\":{\"prefix\":");
	eb_jcstr(b, pfx);
	EB_LIT(b, ",\"content\":\"");
	enc = encoding ? YAJL_GET_STRING(encoding) : NULL;
	if (enc != NULL && strcmp(enc, "base64") == 0)
	{
		/* the plugin's base64 is already what Debezium writes */
		const char *c = YAJL_GET_STRING(content);

		eb_put(b, c, strlen(c));
	}
	else
	{
		/* utf8: the JSON string's bytes (yajl unescaped them) */
		const char *c = YAJL_GET_STRING(content);

		eb_base64(b, (const unsigned char *) c, strlen(c));
	}
	EB_LIT(b, "\"}}");
	yajl_tree_free(root);

	r = rec_new(env);
	r->topic = topic;
	r->key_in_buf = true;
	r->key_off = key;
	r->key_len = value - key - 1;
	r->value = value;
	r->value_len = b->len - value;
	eb_ch(b, '\0');
	return true;
}

/* A BEGIN or END record on Debezium's "<prefix>.transaction" topic
 * (debezium_txmeta.c). */
static void
write_tx_record(trib_envelope *env, bool end, int64_t ts_ms)
{
	trib_strbuf key = {0},
				value = {0};
	recoff	   *r;
	size_t		topic = env->buf.len;

	trib_dbz_tx_record(&env->dbz_tx, end, ts_ms, env->dbz_schemas, &key, &value);
	eb_put(&env->buf, env->prefix, strlen(env->prefix));
	EB_LIT(&env->buf, ".transaction");
	eb_ch(&env->buf, '\0');
	r = rec_new(env);
	r->topic = topic;
	r->key_in_buf = true;
	r->key_off = env->buf.len;
	r->key_len = key.len;
	eb_put(&env->buf, key.data, key.len);
	eb_ch(&env->buf, '\0');
	r->value = env->buf.len;
	r->value_len = value.len;
	eb_put(&env->buf, value.data, value.len);
	eb_ch(&env->buf, '\0');
	trib_strbuf_free(&key);
	trib_strbuf_free(&value);
}

/* The records of one event, written into the envelope's buffer. */
const trib_record *
trib_envelope_encode(trib_envelope *env, const trib_event *ev, size_t *n,
					 char *errbuf, size_t errlen)
{
	int64_t		now;
	bool		ok;
	/* format: debezium with transaction metadata: BEGIN/END records */
	bool		txmeta = env->dbz && env->opts.transaction_metadata && ev->txid != 0 &&
		!ev->snapshot && ev->op != TRIB_OP_MESSAGE;

	/* the records' ts_ms (processing time), and ts_us in Debezium mode:
	 * one reading of the wall clock in microseconds, or the test clock */
	if (env->opts.clock_ms)
		env->now_us = (now = env->opts.clock_ms()) * 1000;
	else
		now = (env->now_us = trib_clock_wall_us()) / 1000;

	env->buf.len = 0;
	env->nrecs = 0;
	*n = 0;
	/* one allocation-free pass in the steady state */
	eb_reserve(&env->buf, 512 + (ev->before ? strlen(ev->before) : 0) +
			   (ev->after ? strlen(ev->after) : 0));

	if (txmeta && trib_dbz_tx_event(&env->dbz_tx, ev->txid, ev->pos.commit_lsn,
									ev->schema, ev->table))
		write_tx_record(env, false, ev->ts_ms);
	switch (ev->op)
	{
		case TRIB_OP_CREATE:
		case TRIB_OP_UPDATE:
		case TRIB_OP_DELETE:
		case TRIB_OP_READ:
			ok = write_row_record(env, ev, ev->schema, ev->table, now,
								  errbuf, errlen);
			break;
		case TRIB_OP_TRUNCATE:
			ok = write_truncate(env, ev, now, errbuf, errlen);
			break;
		case TRIB_OP_MESSAGE:
			ok = write_message(env, ev, now, errbuf, errlen);
			break;
		default:
			snprintf(errbuf, errlen, "envelope: unknown op '%c' (%d)",
					 ev->op >= 32 && ev->op < 127 ? (char) ev->op : '?',
					 (int) ev->op);
			ok = false;
			break;
	}
	if (!ok)
		return NULL;
	if (txmeta && ev->last_in_tx)
		write_tx_record(env, true, ev->ts_ms);
	if (env->nrecs == 0)
	{
		snprintf(errbuf, errlen, "envelope: truncate without relations");
		return NULL;
	}

	/* the buffer has stopped moving: offsets become pointers */
	for (size_t i = 0; i < env->nrecs; i++)
	{
		const recoff *o = &env->offs[i];
		trib_record *r = &env->recs[i];

		r->topic = env->buf.p + o->topic;
		r->key = o->key_in_buf ? env->buf.p + o->key_off : o->key;
		r->key_len = r->key ? o->key_len : 0;
		r->value = o->tombstone ? NULL : env->buf.p + o->value;
		r->value_len = o->tombstone ? 0 : o->value_len;
	}
	*n = env->nrecs;
	return env->recs;
}
