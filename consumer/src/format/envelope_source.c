/*
 * envelope_source.c: the "source" block of the envelope's records (see
 * envelope_int.h, docs/FORMAT.md).
 *
 * Design.  The block's members from "version" to "db" repeat from event to
 * event: they are rendered once and kept with what they were rendered from
 * (write_source_head), as is the sequence's first LSN with its text
 * (write_sequence); the schema and table members come from the envelope's
 * name memo (envelope_topic.c), kept there with the txId member after them
 * while it repeats (write_names_txid).  A PostgreSQL event's own members
 * (lsn, txId, xmin) are written here; another source's are read from its
 * opaque position (opaque_source.c) or copied as they are when the source
 * wrote them as yajl does.  MongoDB events in Debezium mode take their members
 * from debezium_mongo.c.  eb_ts writes a ts_ms (the source's instant, and
 * the records' processing time through envelope_record.c's eb_now), with
 * Debezium mode's ts_us and ts_ns after it.
 */
#include "envelope_int.h"

#include <string.h>

#include "opaque_source.h"

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

/* The source block's members ,"schema":S,"table":T,"txId":X,"lsn": (the
 * lsn's value follows), from the memo m (env_name_memo_for, taken once for
 * the record) when it has them: the names part while the names repeat,
 * all of it while txid repeats too (every event of a transaction). */
static void
write_names_txid(struct name_memo *m, ebuf *b, const char *schema,
				 const char *table, uint64_t txid)
{
	size_t		start = b->len;

	if (m->names_ok && m->txid == txid)
	{
		eb_put(b, m->names.data, m->names.len);
		return;
	}
	if (m->names_ok)
		eb_put(b, m->names.data, m->names_len);
	else
	{
		EB_LIT(b, ",\"schema\":");
		eb_jcstr(b, schema);
		EB_LIT(b, ",\"table\":");
		eb_jcstr(b, table);
	}
	m->names_len = b->len - start;
	EB_LIT(b, ",\"txId\":");
	if (txid)
		eb_u64(b, txid);
	else
		EB_LIT(b, "null");
	EB_LIT(b, ",\"lsn\":");
	m->names.len = 0;
	trib_strbuf_add(&m->names, b->p + start, b->len - start);
	m->names_ok = true;
	m->txid = txid;
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
	write_names_txid(m, b, schema, table, ev->txid);
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
	if (env_dbz_mongo(env, ev) && pos->commit_lsn != 0)
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
		env_str_same(env->src_connector, ev->connector) && env_str_same(env->src_db, ev->db))
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
	env_keep_str(&env->src_connector, ev->connector);
	env_keep_str(&env->src_db, ev->db);
	env->src_ms = ms;
	env->src_us = us;
	env->src_snap = snap;
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
void
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

/* The "source" block (with its key); m is the memo of the record's
 * names (env_name_memo_for). */
void
env_write_source(trib_envelope *env, const trib_event *ev, struct name_memo *m,
				 const char *schema, const char *table)
{
	ebuf	   *b = &env->buf;
	const trib_position *pos = trib_event_origin(ev);

	write_source_head(env, ev, pos);
	if (env_dbz_mongo(env, ev))
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
