/*
 * check.h: `tributary check`'s connected part: what a valid pipeline would
 * capture and where it would write, asked of the systems themselves.
 *
 * Design.  The config is validated first (config.c, no connection); this
 * module then connects, read-only and with short timeouts, to whatever the
 * config names and prints a readable report: for the source, the server,
 * the extension, the slot (plugin, confirmed position, lag) and every table
 * the include/exclude filters match (columns, primary key, replica
 * identity); for the checkpoint store, the saved position; for each sink,
 * what the sink's own check() operation reports (sink.h), typically
 * whether it is reachable (Kafka: a metadata request; Postgres: a
 * connection, whether each target table exists or would be created, and
 * per table what `run` will do; files: the directory).  Nothing is
 * created or changed.
 *
 * An unreachable system is reported ("not reachable: why"), not treated as
 * a failure: the report is informational, and the caller's exit code
 * depends only on the config being valid.  Connection strings and secret
 * properties are never printed; error texts pass through the log's secret
 * redaction.
 */
#ifndef TRIB_CHECK_H
#define TRIB_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "check_report.h"
#include "config.h"

/*
 * Print the report for a valid config to `out`.  Returns the number of
 * problems found (unreachable systems, a missing slot that would not be
 * created, a target table that would not be created, ...), which the
 * caller may show; the report itself says what each one is.
 */
/*
 * *bad_rules gets the number of transform rules that name a column no
 * captured table they select has (printed as FILE:LINE:COL errors): a
 * configuration error the caller reports with exit 2.
 */
int			trib_check_connected(const trib_config *cfg, FILE *out, int *bad_rules);

/* Does a table pattern (as in include_tables: "schema.table", '*' and '?'
 * wildcards, double-quoted parts literal) match schema.table?  Exposed for
 * unit tests. */
bool		trib_check_pattern_match(const char *pattern, const char *schema,
									 const char *table);

#endif							/* TRIB_CHECK_H */
