/*
 * kafka_props.c: the Kafka sink's librdkafka properties (see
 * kafka_props.h): secret names, redaction, and the producer's own
 * settings.
 *
 * A property is secret when its name contains one of a few marks
 * (password, secret, token...), which covers the key table's secret
 * list (kafka_conf.c) and names librdkafka may add.  Redaction replaces
 * each secret value wherever it appears in a text, since librdkafka may
 * quote a value in its messages.
 */
#include "kafka_props.h"

#include <string.h>

/* See kafka_props.h. */
bool
trib_kafka_secret_property(const char *name)
{
	static const char *const marks[] = {
		"password", "secret", "jaas", "token", "credential", "private",
		"oauthbearer.config", "ssl.key", "keystore"
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strcasestr(name, marks[i]) != NULL)
			return true;
	return false;
}

/* See kafka_props.h. */
void
kfk_props_redact(const trib_kvlist *props, char *s)
{
	for (size_t i = 0; i < props->count; i++)
	{
		const trib_kv *p = &props->items[i];
		size_t		vlen;
		char	   *hit;

		if (p->key == NULL || !trib_kafka_secret_property(p->key) || p->value == NULL ||
			(vlen = strlen(p->value)) == 0)
			continue;
		while ((hit = strstr(s, p->value)) != NULL)
		{
			size_t		tail = strlen(hit + vlen);

			if (vlen >= 3)
			{
				memcpy(hit, "***", 3);
				memmove(hit + 3, hit + vlen, tail + 1);
			}
			else
				memset(hit, '*', vlen);
		}
	}
}

/* See kafka_props.h. */
const kfk_setting kfk_producer_settings[] = {
	{"enable.idempotence", "true"},
	{"acks", "all"},
	{"partitioner", "murmur2_random"},
	/* 1 ms: half the commit-to-ack latency of 5 ms at 1,000 commits/s,
	 * and no cost at full rate, where batches fill by size first
	 * (docs/BENCHMARKS.md, W1 and W3) */
	{"linger.ms", "1"},
	/* 20,000 queued messages (librdkafka's default is 100,000): the
	 * producer's memory is then the same for any transaction size, since
	 * a large one fills the queue early (W4) */
	{"queue.buffering.max.messages", "20000"},
	{NULL, NULL}
};

