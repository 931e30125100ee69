/*
 * envelope.c: the Debezium JSON envelope (see envelope.h, docs/FORMAT.md):
 * its public entry points, and what the per-record writers of the other
 * envelope_*.c files share (envelope_int.h).
 *
 * Design.  Every record is written with plain appends into one growing
 * buffer that is reused from event to event, so the steady state makes no
 * allocation at all.  Row images and keys are copied (or pointed to) as the
 * source wrote them; strings we produce (names, db, schema, table) go
 * through a table-driven JSON escaper (eb_jstr, here) that copies runs of
 * safe bytes with one memcpy and checks that non-ASCII bytes are UTF-8.
 * Constant parts of the source block (version, prefix) are escaped once,
 * when the envelope is made (trib_envelope_new); what depends on the
 * event's names is kept from the last record while the names repeat
 * (envelope_topic.c), as the source block's head and the sequence's first
 * LSN are (envelope_source.c), and so are the records' ts_ms (eb_now,
 * envelope_record.c).
 * Transaction metadata keeps per-table counters in a small open-addressing
 * hash, reset by a generation number per transaction.
 *
 * Records of one event may be several (a delete and its tombstone, one
 * truncate record per table: envelope_record.c).  While they are written
 * the buffer may move, so records are first kept as offsets (env_rec_new)
 * and turned into pointers at the end (trib_envelope_encode).
 *
 * Files.  The envelope was one file of 2,000 lines; it is split by concern
 * over envelope.c (this file: options, make and free, encode, a topic's
 * name, transaction metadata's state and its BEGIN/END records, the
 * escaper and the "transaction" block), envelope_topic.c (topic patterns
 * and the names memo), envelope_source.c (the source block, and ts_ms with
 * Debezium's ts_us and ts_ns) and envelope_record.c (each kind of record),
 * which share the buffer's inline appenders and the envelope's state
 * through envelope_int.h.  Issue 17 put Debezium mode's encoders in
 * debezium_*.c and left only hooks in these files (envelope_record.c's
 * image_text, write_key and open_payload, write_tx_record here, eb_ts in
 * envelope_source.c; for MongoDB events, whose records differ,
 * write_mongo_images and the source block's branch, calling
 * debezium_mongo.c).
 */
#include "envelope_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "utf8.h"

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

/* Append s (n bytes) as a JSON string with its quotes. */
void
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
		if (!env_topic_char_ok((unsigned char) *p))
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

	if (!env_pattern_compile(&env->topic, "topic pattern",
							 opts->topic_pattern ? opts->topic_pattern
							 : TRIB_ENVELOPE_DEFAULT_PATTERN, errbuf, errlen) ||
		!env_pattern_compile(&env->message, "message topic",
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
	env_pattern_free(&env->topic);
	env_pattern_free(&env->message);
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

/* The topic of a table, in a caller's buffer. */
bool
trib_envelope_topic(const trib_envelope *env, const char *source,
					const char *db, const char *schema, const char *table,
					char *out, size_t outlen, char *errbuf, size_t errlen)
{
	ebuf		b = {0};
	bool		ok = env_topic_write(env, &env->topic, &b, source, db, schema,
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
/* Replace *keep with a copy of s unless it is the same already. */
void
env_keep_str(char **keep, const char *s)
{
	if (env_str_same(*keep, s))
		return;
	free(*keep);
	*keep = s ? trib_xstrdup(s) : NULL;
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

/* "transaction": null or the block of Debezium's transaction metadata. */
void
env_write_transaction(trib_envelope *env, const trib_event *ev,
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
	r = env_rec_new(env);
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
	/* no reserve up front: every append reserves its own bytes, and the
	 * buffer kept from event to event has the room in the steady state
	 * (sizing it here scanned both images once more, strlen each) */

	if (txmeta && trib_dbz_tx_event(&env->dbz_tx, ev->txid, ev->pos.commit_lsn,
									ev->schema, ev->table))
		write_tx_record(env, false, ev->ts_ms);
	switch (ev->op)
	{
		case TRIB_OP_CREATE:
		case TRIB_OP_UPDATE:
		case TRIB_OP_DELETE:
		case TRIB_OP_READ:
			ok = env_write_row_record(env, ev, ev->schema, ev->table, now,
									  errbuf, errlen);
			break;
		case TRIB_OP_TRUNCATE:
			ok = env_write_truncate(env, ev, now, errbuf, errlen);
			break;
		case TRIB_OP_MESSAGE:
			ok = env_write_message(env, ev, now, errbuf, errlen);
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
