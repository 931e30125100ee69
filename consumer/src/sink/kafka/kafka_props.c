/*
 * kafka_props.c: the Kafka sink's librdkafka properties (see
 * kafka_props.h): secret names, redaction, the producer's own settings,
 * and the offline check of the user's properties.
 *
 * A property is secret when its name contains one of a few marks
 * (password, secret, token...), which covers the key table's secret
 * list (kafka_conf.c) and names librdkafka may add.  Redaction replaces
 * each secret value wherever it appears in a text, since librdkafka may
 * quote a value in its messages.
 *
 * The offline check is run by the loader (kafka_conf.c's finish
 * function), so `check --offline`, `check` and `run` refuse a bad
 * property alike, with one message.  It sets what the producer sets, in
 * the same order, on a scratch configuration, then creates a client
 * with no brokers (nothing to connect to; a few milliseconds, its logs
 * dropped) so that librdkafka's checks across properties run too: acks
 * with our idempotence, TLS files, SASL mechanisms.
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

/* See kafka_props.h. */
void
kfk_props_quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void) rk;
	(void) level;
	(void) fac;
	(void) buf;
}

/* Report librdkafka's text e about prop (NULL: the whole), redacted. */
static void
problem(const trib_kvlist *props, kfk_props_problem_fn report, void *arg,
		const char *prop, char *e)
{
	kfk_props_redact(props, e);
	report(arg, prop, e);
}

/* See kafka_props.h. */
int
kfk_props_check(const trib_kvlist *props, const char *transactional_id,
				kfk_props_problem_fn report, void *arg)
{
	rd_kafka_conf_t *kc = rd_kafka_conf_new();
	rd_kafka_t *rk;
	char		e[512];
	int			problems = 0;

	rd_kafka_conf_set_log_cb(kc, kfk_props_quiet_log);
	for (const kfk_setting *s = kfk_producer_settings; s->name; s++)
		if (rd_kafka_conf_set(kc, s->name, s->value, e, sizeof(e)) != RD_KAFKA_CONF_OK)
		{
			problem(props, report, arg, NULL, e);
			problems++;
		}
	if (transactional_id != NULL &&
		rd_kafka_conf_set(kc, "transactional.id", transactional_id, e,
						  sizeof(e)) != RD_KAFKA_CONF_OK)
	{
		problem(props, report, arg, NULL, e);
		problems++;
	}
	for (size_t i = 0; i < props->count; i++)
	{
		const trib_kv *p = &props->items[i];

		if (p->key != NULL && p->value != NULL &&
			rd_kafka_conf_set(kc, p->key, p->value, e, sizeof(e)) != RD_KAFKA_CONF_OK)
		{
			problem(props, report, arg, p->key, e);
			problems++;
		}
	}
	/* no brokers, whatever the properties said: nothing is reached */
	if (problems == 0 &&
		rd_kafka_conf_set(kc, "bootstrap.servers", "", e, sizeof(e)) == RD_KAFKA_CONF_OK)
	{
		if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, e, sizeof(e))) != NULL)
		{
			rd_kafka_destroy(rk);
			return 0;
		}
		problem(props, report, arg, NULL, e);
		problems++;
	}
	rd_kafka_conf_destroy(kc);
	return problems;
}
