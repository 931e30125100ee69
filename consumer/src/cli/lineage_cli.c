/*
 * lineage_cli.c: `tributary lineage` (lineage_cli.h).
 *
 * Design.  The answers come from the SQL API as they are: JSON is built
 * by the server (jsonb_agg over the function's rows), DOT by
 * tributary.lineage_dot; this file only lays rows out as a tree for a
 * terminal.  `dot --all` draws every job: the DOT of each job (both
 * directions) and of each dataset a job reads (downstream: a dataset
 * stands for its fields, so the field-level edges come too), merged, node
 * and edge lines kept once (node ids are the catalog's, so the same node
 * is the same line).  Parameters are always
 * bound; the dsn is never printed.
 */
#include "lineage_cli.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conninfo.h"
#include "intern.h"
#include "pgconn.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

typedef struct cli_args
{
	const char *question;		/* upstream, downstream, impact, unmasked, dot */
	const char *asset;
	const char *format;
	const char *depth;
	const char *config;
	const char *dsn;
	bool		all;
} cli_args;

static const char usage_line[] =
	"usage: tributary lineage upstream|downstream|impact|unmasked ASSET "
	"[--format tree|dot|json] [--depth N] [-c FILE | --dsn DSN]\n"
	"       tributary lineage dot --all [--depth N] [-c FILE | --dsn DSN]\n";

/* Parse the arguments; false with a message on err. */
static bool
parse_args(int argc, char **argv, cli_args *a, FILE *err)
{
	static const char *const questions[] = {"upstream", "downstream", "impact", "unmasked",
	"dot", NULL};
	int			i;

	memset(a, 0, sizeof(*a));
	a->format = "tree";
	a->depth = "10";
	for (i = 1; i < argc; i++)
	{
		const char **slot = strcmp(argv[i], "--format") == 0 ? &a->format
			: strcmp(argv[i], "--depth") == 0 ? &a->depth
			: strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0 ? &a->config
			: strcmp(argv[i], "--dsn") == 0 ? &a->dsn : NULL;

		if (slot != NULL && i + 1 < argc)
			*slot = argv[++i];
		else if (slot != NULL)
			return fprintf(err, "tributary lineage: %s needs a value\n%s", argv[i], usage_line), false;
		else if (strcmp(argv[i], "--all") == 0)
			a->all = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return fprintf(err, "tributary lineage: unknown option \"%s\"\n%s", argv[i], usage_line), false;
		else if (a->question == NULL)
			a->question = argv[i];
		else if (a->asset == NULL)
			a->asset = argv[i];
		else
			return fprintf(err, "tributary lineage: unexpected argument \"%s\"\n%s", argv[i], usage_line), false;
	}
	for (i = 0; questions[i] && (a->question == NULL || strcmp(questions[i], a->question) != 0); i++)
		;
	if (questions[i] == NULL)
		return fprintf(err, "tributary lineage: %s%s%s (accepted: upstream, downstream, impact, "
					   "unmasked, dot)\n%s", a->question ? "unknown question \"" : "missing the question",
					   a->question ? a->question : "", a->question ? "\"" : "", usage_line), false;
	if (strcmp(a->question, "dot") == 0 ? !a->all || a->asset != NULL : a->asset == NULL || a->all)
		return fprintf(err, "tributary lineage: %s\n%s", strcmp(a->question, "dot") == 0
					   ? "dot takes --all and no ASSET (a single asset: --format dot)"
					   : "missing ASSET (e.g. postgres://db:5432/shop.public.customers#email)",
					   usage_line), false;
	if (strcmp(a->format, "tree") != 0 && strcmp(a->format, "dot") != 0 &&
		strcmp(a->format, "json") != 0)
		return fprintf(err, "tributary lineage: unknown --format \"%s\" (accepted: tree, dot, json)\n",
					   a->format), false;
	if (strspn(a->depth, "0123456789") != strlen(a->depth) || a->depth[0] == '\0' ||
		strlen(a->depth) > 6)
		return fprintf(err, "tributary lineage: --depth \"%s\" is not a number of edges "
					   "(accepted: 0 to 999999)\n", a->depth), false;
	if ((a->config == NULL) == (a->dsn == NULL))
		return fprintf(err, "tributary lineage: give -c FILE (its lineage section's dsn) "
					   "or --dsn DSN\n%s", usage_line), false;
	return true;
}

/* The dsn to use: --dsn, else the config's lineage.dsn or checkpoint.dsn
 * (malloc'd); NULL with a message on err. */
static char *
resolve_dsn(const cli_args *a, FILE *err)
{
	trib_config *cfg = NULL;
	const char *found;
	char		e[4096];
	char	   *dsn = NULL;

	if (a->dsn != NULL)
	{
		char	   *perr = NULL;
		PQconninfoOption *opts = PQconninfoParse(a->dsn, &perr);

		/* libpq's own message at connect would quote the string, password
		 * pieces included: refuse it here, masked */
		if (opts == NULL)
		{
			trib_conninfo_error_masked(perr ? perr : "out of memory", e, sizeof(e));
			fprintf(err, "tributary lineage: --dsn is not a valid libpq connection string "
					"or URI: %s\n", e);
			PQfreemem(perr);
			return NULL;
		}
		PQconninfoFree(opts);
		return strdup(a->dsn);
	}
	if (!trib_config_load(a->config, &cfg, e, sizeof(e)))
	{
		fprintf(err, "%s\n", e);
		return NULL;
	}
	found = trib_config_dsn_or_checkpoint(cfg, cfg->lineage.dsn);
	if (found != NULL)
		dsn = strdup(found);
	else
		fprintf(err, "%s: no lineage.dsn and no catalog checkpoint dsn; give --dsn\n", a->config);
	trib_config_free(cfg);
	return dsn;
}

/* Run sql with params; the result, or NULL after printing the server's
 * message and hint on err. */
static PGresult *
run(PGconn *c, const char *sql, int n, const char *const *params, FILE *err)
{
	PGresult   *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	const char *hint;

	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		return r;
	fprintf(err, "tributary lineage: %s\n",
			PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) ?: "the query failed");
	if ((hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT)) != NULL)
		fprintf(err, "hint: %s\n", hint);
	PQclear(r);
	return NULL;
}

/* The SQL function behind a question. */
static const char *
function_of(const char *q)
{
	return strcmp(q, "unmasked") == 0 ? "unmasked_paths" : q;
}

/* JSON: the rows as one array, built by the server. */
static int
answer_json(PGconn *c, const cli_args *a, FILE *out, FILE *err)
{
	static const char *const sql[] = {
		"SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.depth, r.node), '[]')::text "
		"FROM tributary.upstream($1, $2::int) AS r",
		"SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.depth, r.node), '[]')::text "
		"FROM tributary.downstream($1, $2::int) AS r",
		"SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.depth, r.node), '[]')::text "
		"FROM tributary.impact($1, $2::int) AS r",
		"SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.source, r.sink, r.depth, r.path), "
		"'[]')::text FROM tributary.unmasked_paths($1, $2::int) AS r"};
	const char *params[] = {a->asset, a->depth};
	int			k = strcmp(a->question, "upstream") == 0 ? 0
		: strcmp(a->question, "downstream") == 0 ? 1
		: strcmp(a->question, "impact") == 0 ? 2 : 3;
	PGresult   *r = run(c, sql[k], 2, params, err);

	if (r == NULL)
		return EXIT_FAIL;
	fprintf(out, "%s\n", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/* DOT of one asset. */
static int
answer_dot(PGconn *c, const cli_args *a, FILE *out, FILE *err)
{
	const char *params[] = {a->asset, strcmp(a->question, "upstream") == 0 ? "upstream"
	: "downstream", a->depth};
	PGresult   *r = run(c, "SELECT tributary.lineage_dot($1, $2, $3::int)", 3, params, err);

	if (r == NULL)
		return EXIT_FAIL;
	fputs(PQgetvalue(r, 0, 0), out);
	PQclear(r);
	return 0;
}

/* A tree: each node under the one before it on its path. */
static int
answer_tree(PGconn *c, const cli_args *a, FILE *out, FILE *err)
{
	char		sql[512];
	const char *params[] = {a->asset, a->depth};
	bool		unmasked = strcmp(a->question, "unmasked") == 0;
	PGresult   *r;
	int			n;

	if (unmasked)
		snprintf(sql, sizeof(sql), "SELECT r.source, r.sink, r.depth, "
				 "array_to_string(r.path, ' -> '), coalesce(array_to_string(r.rules, ', '), '') "
				 "FROM tributary.unmasked_paths($1, $2::int) AS r ORDER BY 1, 2, 3, 4");
	else
		snprintf(sql, sizeof(sql), "SELECT r.node, r.kind, r.depth, r.masked "
				 "FROM tributary.%s($1, $2::int) AS r ORDER BY r.path", function_of(a->question));
	if ((r = run(c, sql, 2, params, err)) == NULL)
		return EXIT_FAIL;
	n = PQntuples(r);
	if (!unmasked)
		fprintf(out, "%s\n", a->asset);
	for (int i = 0; i < n; i++)
		if (unmasked)
			fprintf(out, "%s -> %s (depth %s, unmasked)\n  %s%s%s\n", PQgetvalue(r, i, 0),
					PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
					PQgetvalue(r, i, 4)[0] ? "\n  rules: " : "", PQgetvalue(r, i, 4));
		else if (strcmp(PQgetvalue(r, i, 2), "0") != 0)
			fprintf(out, "%*s%s [%s]%s\n", 2 * atoi(PQgetvalue(r, i, 2)), "",
					PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
					strcmp(PQgetvalue(r, i, 3), "t") == 0 ? " (masked)" : "");
	if (unmasked && n == 0)
		fprintf(out, "%s: every path to a sink is masked\n", a->asset);
	PQclear(r);
	return 0;
}

/* Every job's DOT, merged. */
static int
answer_all(PGconn *c, const cli_args *a, FILE *out, FILE *err)
{
	const char *params[] = {a->depth};
	PGresult   *r = run(c, "SELECT tributary.lineage_dot(x.asset, x.dir, $1::int) FROM ("
						"SELECT n.asset, 'both' AS dir FROM tributary.lineage_nodes AS n "
						" WHERE n.kind = 'job' "
						"UNION SELECT l.from_asset, 'downstream' FROM tributary.lineage_edge_list AS l "
						" WHERE l.kind = 'read' AND l.current) AS x ORDER BY x.asset",
						1, params, err);
	trib_intern *seen;

	if (r == NULL)
		return EXIT_FAIL;
	seen = trib_intern_new();
	fputs("digraph lineage {\n", out);
	for (int i = 0; i < PQntuples(r); i++)
	{
		char	   *dot = strdup(PQgetvalue(r, i, 0));
		char	   *save = NULL;

		for (char *line = strtok_r(dot, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		{
			if (strncmp(line, "digraph", 7) == 0 || strcmp(line, "}") == 0)
				continue;
			if (*trib_intern_value(seen, line, strlen(line)) != NULL)
				continue;
			*trib_intern_value(seen, line, strlen(line)) = seen;
			fprintf(out, "%s\n", line);
		}
		free(dot);
	}
	fputs("}\n", out);
	trib_intern_free(seen);
	PQclear(r);
	return 0;
}

/* See lineage_cli.h. */
int
trib_lineage_cli(int argc, char **argv, FILE *out, FILE *err)
{
	cli_args	a;
	char	   *dsn;
	PGconn	   *c;
	trib_pq_error e;
	int			rc;

	if (!parse_args(argc, argv, &a, err))
		return EXIT_USAGE;
	if ((dsn = resolve_dsn(&a, err)) == NULL)
		return EXIT_USAGE;
	{
		const char *const kw[] = {"dbname", "connect_timeout", "application_name", NULL};
		const char *const val[] = {dsn, "10", "tributary-lineage-cli", NULL};

		c = trib_pq_connect(kw, val, 1, &e);
	}
	free(dsn);
	if (c == NULL)
	{
		fprintf(err, "tributary lineage: cannot connect: %s\n", e.message);
		return EXIT_FAIL;
	}
	if (a.all)
		rc = answer_all(c, &a, out, err);
	else if (strcmp(a.format, "json") == 0)
		rc = answer_json(c, &a, out, err);
	else if (strcmp(a.format, "dot") == 0)
		rc = answer_dot(c, &a, out, err);
	else
		rc = answer_tree(c, &a, out, err);
	PQfinish(c);
	return rc;
}
