/*
 * sinks.h: from a configured member of `sinks:` to an open sink.
 *
 * Design.  Each sink type registers its operations, key table and
 * settings struct (registry.h) from its own folder; a loaded member of
 * `sinks:` points at its registration.  Opening one is therefore the same
 * for every type: name the sink, give it the pipeline's name, and call the
 * registered open(), which reads the type's own settings.  Adding a sink
 * type changes nothing here.
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
