/*
 * kafka_dump: read every message of the topics whose names start with a
 * prefix, from the first offset to the end, and print one line per message:
 *
 *   <tributary.id header or ->\t<topic>\t<partition>\t<offset>\t<key or ->\t<value or ->
 *
 * Used by tests to check what reached Kafka (by offsets, so nothing is
 * missed however fast messages arrive).  Stops when every partition is at
 * its end.  Exit 1 on errors.  Each HEADER named after the prefix adds
 * one more field at the end of the line: that header's value, or -.
 *
 *   kafka_dump BOOTSTRAP TOPIC_PREFIX [HEADER...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

/* Print a payload on one line: tabs and newlines escaped. */
static void
put_field(const void *p, size_t len)
{
	const char *s = p;
	size_t		i;

	if (p == NULL)
	{
		fputc('-', stdout);
		return;
	}
	for (i = 0; i < len; i++)
	{
		if (s[i] == '\t')
			fputs("\\t", stdout);
		else if (s[i] == '\n')
			fputs("\\n", stdout);
		else
			fputc(s[i], stdout);
	}
}

int
main(int argc, char **argv)
{
	char		err[512];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_partition_list_t *parts;
	int			i,
				j,
				open_parts = 0;

	if (argc < 3)
	{
		fprintf(stderr, "usage: kafka_dump BOOTSTRAP TOPIC_PREFIX [HEADER...]\n");
		return 2;
	}
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err)) != RD_KAFKA_CONF_OK ||
		rd_kafka_conf_set(conf, "group.id", "kafka_dump", err, sizeof(err)) != RD_KAFKA_CONF_OK ||
		rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err)) != RD_KAFKA_CONF_OK ||
		rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof(err)) != RD_KAFKA_CONF_OK ||
		rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)) != RD_KAFKA_CONF_OK)
	{
		fprintf(stderr, "kafka_dump: %s\n", err);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (rk == NULL)
	{
		fprintf(stderr, "kafka_dump: %s\n", err);
		return 1;
	}
	if (rd_kafka_metadata(rk, 1, NULL, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		fprintf(stderr, "kafka_dump: no metadata from %s\n", argv[1]);
		return 1;
	}
	parts = rd_kafka_topic_partition_list_new(16);
	for (i = 0; i < md->topic_cnt; i++)
	{
		if (strncmp(md->topics[i].topic, argv[2], strlen(argv[2])) != 0)
			continue;
		for (j = 0; j < md->topics[i].partition_cnt; j++)
		{
			rd_kafka_topic_partition_list_add(parts, md->topics[i].topic,
										 md->topics[i].partitions[j].id)->offset =
				RD_KAFKA_OFFSET_BEGINNING;
			open_parts++;
		}
	}
	rd_kafka_metadata_destroy(md);
	if (open_parts == 0)
	{
		rd_kafka_topic_partition_list_destroy(parts);
		rd_kafka_destroy(rk);
		return 0;
	}
	rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	while (open_parts > 0)
	{
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 10000);
		rd_kafka_headers_t *hdrs = NULL;
		const void *idv = NULL;
		size_t		idlen = 0;

		if (m == NULL)
		{
			fprintf(stderr, "kafka_dump: timed out with %d partition(s) open\n", open_parts);
			rd_kafka_destroy(rk);
			return 1;
		}
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		{
			open_parts--;
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->err)
		{
			fprintf(stderr, "kafka_dump: %s\n", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			rd_kafka_destroy(rk);
			return 1;
		}
		if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
			rd_kafka_header_get_last(hdrs, "tributary.id", &idv, &idlen);
		put_field(idv, idlen);
		printf("\t%s\t%d\t%lld\t", rd_kafka_topic_name(m->rkt), (int) m->partition,
			   (long long) m->offset);
		put_field(m->key, m->key_len);
		fputc('\t', stdout);
		put_field(m->payload, m->len);
		for (int a = 3; a < argc; a++)
		{
			const void *hv = NULL;
			size_t		hlen = 0;

			if (hdrs == NULL || rd_kafka_header_get_last(hdrs, argv[a], &hv, &hlen) != RD_KAFKA_RESP_ERR_NO_ERROR)
				hv = NULL;
			fputc('\t', stdout);
			put_field(hv, hlen);
		}
		fputc('\n', stdout);
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return 0;
}
