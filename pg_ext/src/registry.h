/*-------------------------------------------------------------------------
 *
 * registry.h
 *		Shared declarations of the schema registry's C SQL functions
 *		(registry.c, registry_table.c), the extension's bridge to libtribsr.
 *		Not used by the output plugin.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TRIB_REGISTRY_H
#define TRIB_REGISTRY_H

#include "postgres.h"

#include "tribsr.h"

/* Size of the error buffers handed to libtribsr. */
#define SR_ERRLEN 512

/* The schema format named by `name`, or an ERROR listing what is accepted. */
extern trib_sr_format trib_registry_format_arg(text *name);

#endif							/* TRIB_REGISTRY_H */
