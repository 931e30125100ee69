/*
 * debezium_heartbeat.c: the records of Debezium's heartbeat topic
 * (heartbeat.interval.ms; see debezium.h).
 *
 * Design.  Debezium writes, every heartbeat interval, a record keyed
 * {"serverName":"<topic prefix>"} with the value {"ts_ms":<now>} to
 * "__debezium-heartbeat.<topic prefix>", so that consumers and monitors
 * see the connector alive while the captured tables are quiet.  This file
 * only renders the record; the Kafka sink decides when (its poll) and
 * produces it outside the acknowledgement of events.  The Connect schemas
 * are those of Debezium's SchemaFactory (heartbeatKeySchema,
 * heartbeatValueSchema): named structs at version 1.
 */
#include "debezium.h"

static const char key_schema[] =
"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
"\"field\":\"serverName\"}],\"optional\":false,"
"\"name\":\"io.debezium.connector.common.ServerNameKey\",\"version\":1}";
static const char value_schema[] =
"{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,"
"\"field\":\"ts_ms\"}],\"optional\":false,"
"\"name\":\"io.debezium.connector.common.Heartbeat\",\"version\":1}";

/* See debezium.h. */
void
trib_dbz_heartbeat(const char *prefix, int64_t ts_ms, bool schemas,
				   trib_strbuf *topic, trib_strbuf *key, trib_strbuf *value)
{
	trib_strbuf_adds(topic, "__debezium-heartbeat.");
	trib_strbuf_adds(topic, prefix);
	if (schemas)
	{
		trib_strbuf_adds(key, "{\"schema\":");
		trib_strbuf_adds(key, key_schema);
		trib_strbuf_adds(key, ",\"payload\":");
		trib_strbuf_adds(value, "{\"schema\":");
		trib_strbuf_adds(value, value_schema);
		trib_strbuf_adds(value, ",\"payload\":");
	}
	trib_strbuf_adds(key, "{\"serverName\":");
	trib_dbz_quote(key, prefix);
	trib_strbuf_addc(key, '}');
	trib_strbuf_adds(value, "{\"ts_ms\":");
	trib_dbz_put_i64(value, ts_ms);
	trib_strbuf_addc(value, '}');
	if (schemas)
	{
		trib_strbuf_addc(key, '}');
		trib_strbuf_addc(value, '}');
	}
}
