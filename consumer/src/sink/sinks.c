/*
 * sinks.c: open a configured sink through its registered operations (see
 * sinks.h).
 */
#include "sinks.h"

#include <stdio.h>

#include "keys.h"
#include "registry.h"

/* See sinks.h. */
bool
trib_sinks_open(trib_sink *sink, const trib_sink_conf *conf,
				const trib_config *cfg, char *errbuf, size_t errlen)
{
	char		e[1024] = "";

	sink->name = conf->name;
	sink->pipeline = cfg->pipeline;
	trib_key_free(sink->seal_key);
	sink->seal_key = NULL;
	if (cfg->checkpoint.encryption_key != NULL &&
		(sink->seal_key = trib_checkpoint_conf_key(&cfg->checkpoint, e, sizeof(e))) == NULL)
	{
		snprintf(errbuf, errlen, "%s:%d: sinks.%s: %s", cfg->path, conf->line, conf->name, e);
		return false;
	}
	if (conf->plugin->sink_ops->open(sink, conf, e, sizeof(e)))
		return true;
	snprintf(errbuf, errlen, "%s:%d: sinks.%s: %s", cfg->path, conf->line, conf->name, e);
	return false;
}
