/*
 * lineage_cli.h: `tributary lineage`, the lineage catalog's questions on
 * the command line (docs/LINEAGE.md, section 9).
 *
 *   tributary lineage upstream|downstream|impact|unmasked ASSET
 *                     [--format tree|dot|json] [--depth N]
 *                     [-c FILE | --dsn DSN]
 *   tributary lineage dot --all [--depth N] [-c FILE | --dsn DSN]
 *
 * Each calls the extension's SQL API (tributary.upstream, downstream,
 * impact, unmasked_paths, lineage_dot) with bound parameters, on the
 * database of the config's `lineage` section (its dsn, else the
 * checkpoint's) or --dsn.  Exit 0 on success, 1 when the database
 * refuses (an unknown asset: its message and hint), 2 on bad usage.
 */
#ifndef TRIB_LINEAGE_CLI_H
#define TRIB_LINEAGE_CLI_H

#include <stdio.h>

/* argv[0] is "lineage". */
int			trib_lineage_cli(int argc, char **argv, FILE *out, FILE *err);

#endif							/* TRIB_LINEAGE_CLI_H */
