/*
 * kafka_check.c: the Kafka sink's part of `tributary check`: are the
 * brokers reachable, and how many topics carry the sink's prefix.
 *
 * A throwaway producer with the sink's bootstrap servers and properties
 * (so TLS and SASL settings are tried too) asks for the cluster's
 * metadata with the check's timeout; librdkafka logs nothing meanwhile.
 * The embedded mock cluster exists only inside `run`, so there is nothing
 * to reach.  Error texts go through the report's redaction; a property
 * librdkafka rejects is named, its value never shown (the loader has
 * refused those already, without a network: kafka_props.c, so `check`
 * and `check --offline` report them alike).
 */
#include "sink_kafka_int.h"

#include <stdio.h>
#include <string.h>

#include "check_report.h"

/* The brokers' metadata: reachable, brokers, topics under the prefix. */
static void
report_metadata(trib_check_report *rep, const trib_kafka_conf *k, rd_kafka_t *rk)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, TRIB_CHECK_TIMEOUT_S * 1000);
	size_t		plen = strlen(k->topic_prefix);
	int			ours = 0;

	if (err)
	{
		trib_check_report_say(rep, "  brokers %s: not reachable: %s", k->bootstrap_servers,
							  rd_kafka_err2str(err));
		rep->problems++;
		return;
	}
	for (int i = 0; i < md->topic_cnt; i++)
		ours += strncmp(md->topics[i].topic, k->topic_prefix, plen) == 0 &&
			md->topics[i].topic[plen] == '.';
	trib_check_report_say(rep, "  brokers %s: reachable, %d broker(s), %d topic(s), %d with "
						  "prefix \"%s.\"", k->bootstrap_servers, md->broker_cnt,
						  md->topic_cnt, ours, k->topic_prefix);
	rd_kafka_metadata_destroy(md);
}

/* See sink_kafka_int.h. */
void
kfk_check(const struct trib_plugin_conf *conf, struct trib_check_report *rep)
{
	const trib_kafka_conf *k = trib_kafka_conf_of(conf);
	rd_kafka_conf_t *kc;
	rd_kafka_t *rk;
	char		e[512];

	if (k->embedded)
	{
		trib_check_report_say(rep, "  embedded mock cluster: started inside `run`, "
							  "nothing to reach");
		return;
	}
	kc = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(kc, kfk_props_quiet_log);	/* nothing logged */
	if (rd_kafka_conf_set(kc, "bootstrap.servers", k->bootstrap_servers, e, sizeof(e)))
		goto conf_fail;
	for (size_t i = 0; i < k->properties.count; i++)
		if (rd_kafka_conf_set(kc, k->properties.items[i].key,
							  k->properties.items[i].value, e, sizeof(e)))
		{
			snprintf(e, sizeof(e), "property \"%s\" rejected by librdkafka",
					 k->properties.items[i].key);
			goto conf_fail;
		}
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, e, sizeof(e))) == NULL)
		goto conf_fail;
	report_metadata(rep, k, rk);
	rd_kafka_destroy(rk);
	return;
conf_fail:
	rd_kafka_conf_destroy(kc);
	trib_check_report_say(rep, "  cannot build a client: %s", e);
	rep->problems++;
}
