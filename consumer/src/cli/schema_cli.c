/*
 * schema_cli.c: `tributary schema accept SUBJECT VERSION -c FILE`
 * (schema_cli.h).  Parses the arguments, loads the pipeline file for its
 * catalog and hands the acceptance to the schema stage's API; messages go
 * to stderr, the result to stdout.  A catalog that does not answer is given
 * SCHEMA_CLI_CONNECT_TIMEOUT_S seconds (libpq's PGCONNECT_TIMEOUT, unless
 * the environment or the dsn's connect_timeout says otherwise), not forever.
 */
#include "schema_cli.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "schema_stage.h"

#define SCHEMA_CLI_CONNECT_TIMEOUT_S "10"
#define USAGE "usage: tributary schema accept SUBJECT VERSION -c FILE"

/* The arguments: subject, version and the config's path; false with a
 * message on stderr. */
static bool
parse_args(int argc, char **argv, const char **subject, int32_t *version, const char **path)
{
	const char *pos[2] = {NULL, NULL};
	int			npos = 0;

	*path = NULL;
	if (argc < 2 || strcmp(argv[1], "accept") != 0)
	{
		fprintf(stderr, "tributary schema: unknown or missing subcommand (accepted: accept; "
				USAGE ")\n");
		return false;
	}
	for (int i = 2; i < argc; i++)
	{
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			*path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			*path = argv[i] + 9;
		else if (npos < 2 && argv[i][0] != '-')
			pos[npos++] = argv[i];
		else
		{
			fprintf(stderr, "tributary schema accept: unexpected argument \"%s\" (" USAGE ")\n",
					argv[i]);
			return false;
		}
	}
	if (npos < 2 || *path == NULL)
	{
		fprintf(stderr, "tributary schema accept: missing %s (" USAGE ")\n",
				npos < 2 ? "SUBJECT VERSION" : "-c FILE");
		return false;
	}
	{
		char	   *end;
		long long	v = strtoll(pos[1], &end, 10);

		if (*end != '\0' || v < 1 || v > INT32_MAX)
		{
			fprintf(stderr, "tributary schema accept: VERSION \"%s\" is not a version "
					"(accepted: 1 to %d)\n", pos[1], INT32_MAX);
			return false;
		}
		*version = (int32_t) v;
	}
	*subject = pos[0];
	return true;
}

int
trib_schema_cli(int argc, char **argv)
{
	const char *subject,
			   *path;
	int32_t		version = 0;
	trib_config *cfg = NULL;
	char		errbuf[4096];
	bool		now = false;
	int			rc;

	if (!parse_args(argc, argv, &subject, &version, &path))
		return 2;
	if (!trib_config_load(path, &cfg, errbuf, sizeof(errbuf)))
	{
		fprintf(stderr, "%s\n", errbuf);
		return 2;
	}
	setenv("PGCONNECT_TIMEOUT", SCHEMA_CLI_CONNECT_TIMEOUT_S, 0);
	if (!trib_schema_accept(cfg, subject, version, &now, errbuf, sizeof(errbuf)))
	{
		fprintf(stderr, "tributary schema accept: %s\n", errbuf);
		rc = 1;
	}
	else
	{
		printf("subject %s: version %d %s; a running pipeline sends its events to the sinks "
			   "from its next transaction\n", subject, (int) version,
			   now ? "accepted" : "was accepted already");
		rc = 0;
	}
	trib_config_free(cfg);
	return rc;
}
