/*
 * schema_cli.h: `tributary schema`, the command line of the schema stage
 * (schema/schema_stage.h):
 *
 *   tributary schema accept SUBJECT VERSION -c FILE
 *
 * accepts a version that the pipeline FILE quarantined (`schemas:
 * on_incompatible: quarantine`), in the registry's catalog (schemas.dsn,
 * else the checkpoint's); a running pipeline sends that version's events
 * to its ordinary sinks from its next transaction on.  Exit 0 accepted
 * (now or before), 1 refused (not quarantined, catalog unreachable), 2
 * usage or config error.
 */
#ifndef TRIB_SCHEMA_CLI_H
#define TRIB_SCHEMA_CLI_H

/* argv[0] is "schema". */
int			trib_schema_cli(int argc, char **argv);

#endif							/* TRIB_SCHEMA_CLI_H */
