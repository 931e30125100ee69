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
 * again and counting starts over (as data_collection_order does).
 */
#include "debezium.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The Connect schemas of the transaction topic's key and value. */
static const char key_schema[] =
"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
"\"field\":\"id\"}],\"optional\":false,"
"\"name\":\"io.debezium.connector.common.TransactionMetadataKey\"}";
static const char value_schema[] =
"{\"type\":\"struct\",\"fields\":["
"{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},"
"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
"{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
"{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
"{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
"{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
"\"optional\":false},\"optional\":true,\"field\":\"data_collections\"},"
"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,"
"\"name\":\"io.debezium.connector.common.TransactionMetadataValue\"}";

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
	if (tx->n == tx->cap)
	{
		tx->cap = tx->cap ? 2 * tx->cap : 8;
		tx->names = trib_xrealloc(tx->names, tx->cap * sizeof(*tx->names));
		tx->counts = trib_xrealloc(tx->counts, tx->cap * sizeof(*tx->counts));
	}
	tx->names[tx->n] = trib_strbuf_finish(&name);
	tx->counts[tx->n] = 0;
	return &tx->counts[tx->n++];
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
	free(tx->names);
	free(tx->counts);
	memset(tx, 0, sizeof(*tx));
}
