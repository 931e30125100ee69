/*
 * pg_check.h: the PostgreSQL source's part of `tributary check` (its
 * `check` operation, source.h; pg_check.c).
 */
#ifndef TRIB_PG_CHECK_H
#define TRIB_PG_CHECK_H

#include <stdbool.h>

struct trib_plugin_conf;
struct trib_check_report;

/*
 * Report on `rep` the database of a `type: postgres` member of
 * `sources:`: wal_level and the extension, the slot, two-phase's spill
 * directory, and every table the filters capture (recorded in the report
 * for the sinks' checks and the rules' column check).  Read-only; what
 * would stop `run` counts as a problem.
 */
void		trib_pg_source_check(const struct trib_plugin_conf *conf, bool erasure,
								 struct trib_check_report *rep);

#endif							/* TRIB_PG_CHECK_H */
