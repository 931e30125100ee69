/*
 * sinks.h: the sink registry: from a sink's config section to an open sink.
 *
 * Adding a sink type: implement sink.h's operations in sink_<type>.c, add
 * its options to config (config_keys.c) and one case to trib_sinks_open().
 */
#ifndef TRIB_SINKS_H
#define TRIB_SINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "sink.h"

/* Set up and open `sink` as `conf` describes; errbuf names the sink. */
bool		trib_sinks_open(trib_sink *sink, const trib_sink_conf *conf,
							const trib_config *cfg, char *errbuf, size_t errlen);

#endif							/* TRIB_SINKS_H */
