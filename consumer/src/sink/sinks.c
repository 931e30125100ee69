/*
 * sinks.c: the sink registry (see sinks.h): the glue from each sink type's
 * config section to its implementation's options.
 */
#include "sinks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "envelope.h"
#include "sink_file.h"
#include "sink_kafka.h"
#include "sink_postgres.h"

/* librdkafka's syslog levels to ours. */
static void
kafka_log(void *arg, int level, const char *msg)
{
	const char *name = arg;

	if (level <= 3)
		tlog_error("kafka", "%s: %s", name, msg);
	else if (level == 4)
		tlog_warn("kafka", "%s: %s", name, msg);
	else if (level <= 6)
		tlog_info("kafka", "%s: %s", name, msg);
	else
		tlog_debug("kafka", "%s: %s", name, msg);
}

static bool
open_kafka(trib_sink *sink, const trib_sink_conf *conf, const trib_config *cfg,
		   char *errbuf, size_t errlen)
{
	const trib_kafka_sink_conf *k = &conf->kafka;
	trib_kafka_opts o;
	trib_kafka_prop *props;
	size_t		i;
	bool		ok;

	trib_kafka_opts_init(&o);
	o.bootstrap_servers = k->bootstrap_servers;
	o.topic_prefix = k->topic_prefix ? k->topic_prefix : cfg->pipeline;
	o.topic_pattern = k->topic_pattern;
	o.message_topic = k->message_topic;
	o.tombstones = k->tombstones;
	o.unavailable_value = k->unchanged_toast == TRIB_TOAST_OMIT ? NULL : k->unavailable_value;
	o.transaction_metadata = k->transaction_metadata;
	o.transactional = k->transactional;
	o.transactional_id = k->transactional_id;
	props = calloc(k->properties.count ? k->properties.count : 1, sizeof(*props));
	if (props == NULL)
		abort();
	for (i = 0; i < k->properties.count; i++)
	{
		props[i].name = k->properties.items[i].key;
		props[i].value = k->properties.items[i].value;
		if (trib_kafka_secret_property(props[i].name))
			trib_log_add_secret(props[i].value);
	}
	o.properties = props;
	o.nproperties = k->properties.count;
	o.log = kafka_log;
	o.log_arg = conf->name;
	ok = trib_kafka_open(sink, &o, errbuf, errlen);
	free(props);
	return ok;
}

/* file and stdout: JSON Lines of {"topic","key","value"}. */
static bool
open_file(trib_sink *sink, const trib_sink_conf *conf, const trib_config *cfg,
		  char *errbuf, size_t errlen)
{
	trib_filesink_opts o;
	trib_envelope_opts env;

	trib_filesink_opts_init(&o);
	trib_envelope_opts_init(&env);
	env.topic_prefix = cfg->pipeline;
	o.envelope = &env;
	if (conf->type == TRIB_SINK_STDOUT)
		return trib_stdoutsink_open_opts(sink, &o, errbuf, errlen);
	o.path = conf->file.path;
	o.rotate_bytes = conf->file.rotate_bytes;
	o.fsync = conf->file.fsync;
	return trib_filesink_open_opts(sink, &o, errbuf, errlen);
}

static bool
open_postgres(trib_sink *sink, const trib_sink_conf *conf, const trib_config *cfg,
			  char *errbuf, size_t errlen)
{
	trib_pgsink_opts o;

	trib_pgsink_opts_init(&o);
	o.dsn = conf->postgres.dsn;
	o.schema = conf->postgres.schema;
	o.create_tables = conf->postgres.create_tables;
	o.table_from_route = conf->postgres.table_from_route;
	o.batch_size = conf->postgres.batch_size;
	o.batch_ms = conf->postgres.batch_ms;
	o.unknown_as_text = conf->postgres.unknown_types == TRIB_UNKNOWN_TYPES_TEXT;
	o.log_row_values = conf->postgres.log_row_values;
	o.metrics = sink->metrics;
	o.pipeline = cfg->pipeline;
	o.sink_name = conf->name;
	return trib_pgsink_open_opts(sink, &o, errbuf, errlen);
}

bool
trib_sinks_open(trib_sink *sink, const trib_sink_conf *conf,
				const trib_config *cfg, char *errbuf, size_t errlen)
{
	char		e[1024] = "";
	bool		ok = false;

	sink->name = conf->name;
	switch (conf->type)
	{
		case TRIB_SINK_KAFKA:
			ok = open_kafka(sink, conf, cfg, e, sizeof(e));
			break;
		case TRIB_SINK_FILE:
		case TRIB_SINK_STDOUT:
			ok = open_file(sink, conf, cfg, e, sizeof(e));
			break;
		case TRIB_SINK_POSTGRES:
			ok = open_postgres(sink, conf, cfg, e, sizeof(e));
			break;
	}
	if (!ok)
		snprintf(errbuf, errlen, "%s:%d: sinks.%s: %s", cfg->path, conf->line,
				 conf->name, e);
	return ok;
}
