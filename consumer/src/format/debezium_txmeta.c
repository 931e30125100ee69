/*
 * debezium_txmeta.c: the BEGIN and END records of Debezium's transaction
 * topic (provide.transaction.metadata; see debezium.h).
 *
 * Design.  The envelope calls trib_dbz_tx_event for every row record of
 * a transaction, in stream order: the first one of a new transaction id
 * asks for a BEGIN record, and the transaction's counts (in total and per
 * data collection, "schema.table") grow by one.  On the transaction's
 * last event (trib_event.last_in_tx) the envelope writes the END record
 * with those counts.  Counts are of the records this sink wrote for the
 * transaction: changes the plugin or the rules dropped are not in them,
 * and after a restart in the middle of a transaction the BEGIN is written
 * again and counting starts over (as data_collection_order does) -- unless
 * the sink stores the open transaction's counts with its checkpoint
 * (trib_dbz_tx_save) and gives them back at start-up (trib_dbz_tx_load),
 * as the transactional Kafka sink does: then the transaction continues
 * without a second BEGIN and its END counts all of it.
 *
 * The member that carries those counts in a sink's checkpoint document
 * ("dbz_tx") is written, read back and resumed here too
 * (trib_dbz_tx_checkpoint_*, reached through envelope.h), so a sink stores
 * and gives back the transaction without knowing what is in it.
 */
#include "debezium.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

/* The Connect schemas of the transaction topic's key and value, as
 * Debezium's SchemaFactory builds them (transactionKeySchema,
 * transactionValueSchema, transactionEventCountPerDataCollectionSchema):
 * named structs at version 1, each data collection's counts the optional
 * struct "event.collection". */
static const char key_schema[] =
"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
"\"field\":\"id\"}],\"optional\":false,"
"\"name\":\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1}";
static const char value_schema[] =
"{\"type\":\"struct\",\"fields\":["
"{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},"
"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
"{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
"{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
"{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
"{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
"\"optional\":true,\"name\":\"event.collection\",\"version\":1},"
"\"optional\":true,\"field\":\"data_collections\"},"
"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,"
"\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1}";

/* Add a counter for data collection `name` (taken over), at 0. */
static uint64_t *
add_collection(trib_dbz_tx *tx, char *name)
{
	if (tx->n == tx->cap)
	{
		tx->cap = tx->cap ? 2 * tx->cap : 8;
		tx->names = trib_xrealloc(tx->names, tx->cap * sizeof(*tx->names));
		tx->counts = trib_xrealloc(tx->counts, tx->cap * sizeof(*tx->counts));
	}
	tx->names[tx->n] = name;
	tx->counts[tx->n] = 0;
	return &tx->counts[tx->n++];
}

/* Find or add the counter of one data collection. */
static uint64_t *
collection_count(trib_dbz_tx *tx, const char *schema, const char *table)
{
	trib_strbuf name = {0};

	trib_strbuf_printf(&name, "%s.%s", schema ? schema : "", table ? table : "");
	for (size_t i = 0; i < tx->n; i++)
		if (strcmp(tx->names[i], name.data) == 0)
		{
			trib_strbuf_free(&name);
			return &tx->counts[i];
		}
	return add_collection(tx, trib_strbuf_finish(&name));
}

/* Forget the current transaction. */
static void
tx_reset(trib_dbz_tx *tx)
{
	for (size_t i = 0; i < tx->n; i++)
		free(tx->names[i]);
	tx->n = 0;
	tx->total = 0;
	tx->active = false;
}

/* See debezium.h. */
bool
trib_dbz_tx_event(trib_dbz_tx *tx, uint64_t txid, uint64_t commit_lsn,
				  const char *schema, const char *table)
{
	bool		begin = !tx->active || tx->txid != txid || tx->commit_lsn != commit_lsn;

	if (begin)
	{
		tx_reset(tx);
		tx->active = true;
		tx->txid = txid;
		tx->commit_lsn = commit_lsn;
	}
	tx->total++;
	(*collection_count(tx, schema, table))++;
	return begin;
}

/* {"schema":S,"payload": when schemas are on. */
static void
open_wrap(trib_strbuf *o, bool schemas, const char *schema)
{
	if (!schemas)
		return;
	trib_strbuf_adds(o, "{\"schema\":");
	trib_strbuf_adds(o, schema);
	trib_strbuf_adds(o, ",\"payload\":");
}

/* See debezium.h. */
void
trib_dbz_tx_record(trib_dbz_tx *tx, bool end, int64_t ts_ms, bool schemas,
				   trib_strbuf *key, trib_strbuf *value)
{
	char		id[48];

	snprintf(id, sizeof(id), "%" PRIu64 ":%" PRIu64, tx->txid, tx->commit_lsn);
	open_wrap(key, schemas, key_schema);
	trib_strbuf_printf(key, "{\"id\":\"%s\"}%s", id, schemas ? "}" : "");
	open_wrap(value, schemas, value_schema);
	trib_strbuf_printf(value, "{\"status\":\"%s\",\"id\":\"%s\",", end ? "END" : "BEGIN", id);
	if (!end)
		trib_strbuf_adds(value, "\"event_count\":null,\"data_collections\":null");
	else
	{
		trib_strbuf_printf(value, "\"event_count\":%" PRIu64 ",\"data_collections\":[",
						   tx->total);
		for (size_t i = 0; i < tx->n; i++)
		{
			trib_strbuf_adds(value, i ? ",{\"data_collection\":" : "{\"data_collection\":");
			trib_dbz_quote(value, tx->names[i]);
			trib_strbuf_printf(value, ",\"event_count\":%" PRIu64 "}", tx->counts[i]);
		}
		trib_strbuf_addc(value, ']');
	}
	trib_strbuf_printf(value, ",\"ts_ms\":%" PRId64 "}%s", ts_ms, schemas ? "}" : "");
	if (end)
		tx_reset(tx);
}

/* See debezium.h. */
void
trib_dbz_tx_clear(trib_dbz_tx *tx)
{
	tx_reset(tx);
	free(tx->restored);
	free(tx->names);
	free(tx->counts);
	memset(tx, 0, sizeof(*tx));
}

/* See debezium.h. */
bool
trib_dbz_tx_save(const trib_dbz_tx *tx, trib_strbuf *out)
{
	if (!tx->active)
		return false;
	trib_strbuf_printf(out, "{\"txid\":%" PRIu64 ",\"commit_lsn\":%" PRIu64
					   ",\"total\":%" PRIu64 ",\"collections\":[",
					   tx->txid, tx->commit_lsn, tx->total);
	for (size_t i = 0; i < tx->n; i++)
	{
		trib_strbuf_adds(out, i ? ",[" : "[");
		trib_dbz_quote(out, tx->names[i]);
		trib_strbuf_printf(out, ",%" PRIu64 "]", tx->counts[i]);
	}
	trib_strbuf_adds(out, "]}");
	return true;
}

/* An unsigned 64-bit integer from a number's text: digits only, within
 * 2^64 (beyond 2^63 too, which yajl does not take as an integer, so that
 * every count trib_dbz_tx_save writes reads back). */
static bool
u64_of(yajl_val v, uint64_t *out)
{
	const char *r = v != NULL && YAJL_IS_NUMBER(v) ? v->u.number.r : NULL;
	char	   *end;

	if (r == NULL || r[0] < '0' || r[0] > '9' || r[strspn(r, "0123456789")] != '\0')
		return false;
	errno = 0;
	*out = strtoull(r, &end, 10);
	return errno == 0 && *end == '\0';
}

/* The unsigned integer of a member (u64_of). */
static bool
get_u64(yajl_val obj, const char *key, uint64_t *out)
{
	const char *path[] = {key, NULL};

	return u64_of(yajl_tree_get(obj, path, yajl_t_number), out);
}

/* See debezium.h. */
bool
trib_dbz_tx_load(trib_dbz_tx *tx, const char *text)
{
	static const char *cpath[] = {"collections", NULL};
	yajl_val	root = yajl_tree_parse(text, NULL, 0);
	yajl_val	cols = root ? yajl_tree_get(root, cpath, yajl_t_array) : NULL;
	bool		ok = cols != NULL;

	tx_reset(tx);
	ok = ok && get_u64(root, "txid", &tx->txid) &&
		get_u64(root, "commit_lsn", &tx->commit_lsn) && get_u64(root, "total", &tx->total);
	for (size_t i = 0; ok && i < cols->u.array.len; i++)
	{
		yajl_val	c = cols->u.array.values[i];
		const char *name;
		uint64_t	count;

		/* a count as the totals: a negative one (strtoull would wrap it)
		 * or a fraction is not one */
		ok = YAJL_IS_ARRAY(c) && c->u.array.len == 2 &&
			(name = YAJL_GET_STRING(c->u.array.values[0])) != NULL &&
			u64_of(c->u.array.values[1], &count);
		if (ok)
			*add_collection(tx, trib_xstrdup(name)) = count;
	}
	yajl_tree_free(root);
	if (!ok)
		tx_reset(tx);
	tx->active = ok;
	return ok;
}

/* The checkpoint document's member of the open transaction. */
#define CHECKPOINT_MEMBER "dbz_tx"

/* See debezium.h. */
void
trib_dbz_tx_checkpoint_gen(const trib_dbz_tx *tx, yajl_gen g)
{
	trib_strbuf text = {0};

	if (!trib_dbz_tx_save(tx, &text))
		return;
	yajl_gen_string(g, (const unsigned char *) CHECKPOINT_MEMBER, strlen(CHECKPOINT_MEMBER));
	yajl_gen_string(g, (const unsigned char *) text.data, text.len);
	trib_strbuf_free(&text);
}

/* See debezium.h. */
void
trib_dbz_tx_checkpoint_read(trib_dbz_tx *tx, yajl_val doc)
{
	static const char *path[] = {CHECKPOINT_MEMBER, NULL};
	yajl_val	v = yajl_tree_get(doc, path, yajl_t_string);

	free(tx->restored);
	tx->restored = v != NULL ? trib_xstrdup(YAJL_GET_STRING(v)) : NULL;
}

/* See debezium.h. */
bool
trib_dbz_tx_checkpoint_resume(trib_dbz_tx *tx)
{
	char	   *text = tx->restored;
	bool		ok;

	if (text == NULL)
		return true;
	tx->restored = NULL;
	ok = trib_dbz_tx_load(tx, text);
	free(text);
	return ok;
}
