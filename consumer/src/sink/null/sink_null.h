/*
 * sink_null.h: the null sink: discards every event and acknowledges it at
 * once.
 *
 * Design.  A sink with nothing behind it: write() acks the event's
 * position before it returns, flush() and poll() have nothing to do, and
 * there is no stored position (the checkpoint store speaks for it).  It
 * measures what the source and the transforms cost without any sink's
 * (benchmarks), and it is the smallest complete example of a plugin: its
 * folder holds its operations, its key table (only `type`) and its
 * registration, and one line in cli/registry.c makes `type: "null"`
 * valid (quoted: a bare null is YAML's null), documented in
 * docs/CONFIG.md and known to `run` and `check`.
 */
#ifndef TRIB_SINK_NULL_H
#define TRIB_SINK_NULL_H

#include "registry.h"
#include "sink.h"

extern const trib_sink_ops trib_sink_null_ops;

/* The null sink's registration (cli/registry.c lists it). */
extern const trib_plugin trib_sink_null;

#endif							/* TRIB_SINK_NULL_H */
