/*
 * control_lineage.c: the lineage read endpoints (docs/API.md, "Lineage"):
 *   GET /api/v1/lineage/{asset}/upstream|downstream|impact[?depth=N]
 *   GET /api/v1/lineage/flow[?format=json|dot][&depth=N]
 * mirroring the SQL API of docs/LINEAGE.md (tributary.upstream,
 * downstream, impact, lineage_dot) through the `lineage:` section's dsn
 * (else the catalog checkpoint's), as `tributary lineage` does.
 *
 * Design.  One short connection per request (connect_timeout 5 s) on the
 * HTTP thread: the endpoint is for people and scripts, not for probes.
 * Its statements time out after LINEAGE_STATEMENT_TIMEOUT_MS, so a deep
 * walk or a locked table holds /health for at most that long (503).
 * The SQL texts are fixed; the asset and the depth are bound parameters;
 * the rows come back as one JSON array built by the server (jsonb_agg)
 * and are put into the answer as they are.  The asset is the path between
 * "lineage/" and the question, percent-decoded by libmicrohttpd (so
 * postgres%3A%2F%2Fdb%3A5432%2Fshop.public.customers%23email).
 * An unknown asset is 404 (a bad depth 400) with the server's message and
 * hint.  Any other failure is 503 with a fixed message, its detail logged:
 * libpq's messages name the catalog's host, port or socket path, and these
 * reads may be open to anyone on loopback.  The dsn is never part of an
 * answer.
 */
#include "control_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <microhttpd.h>

#include "log.h"
#include "pgconn.h"
#include "strbuf.h"

#define LINEAGE_DEFAULT_DEPTH "10"
#define LINEAGE_STATEMENT_TIMEOUT_MS "5000"

/* The rows of one question, as a JSON array built by the server. */
static const char *const question_sql[][2] = {
	{"upstream", "SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.depth, r.node), '[]')::text "
	"FROM tributary.upstream($1, $2::int) AS r"},
	{"downstream", "SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.depth, r.node), '[]')::text "
	"FROM tributary.downstream($1, $2::int) AS r"},
	{"impact", "SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.depth, r.node), '[]')::text "
	"FROM tributary.impact($1, $2::int) AS r"},
	{NULL, NULL}
};

/* A query argument, or NULL. */
static const char *
arg(const ctl_resp *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* The depth argument (digits, 0 to 999999), or NULL after answering 400. */
static const char *
depth_arg(ctl_resp *r)
{
	const char *d = arg(r, "depth");

	if (d == NULL)
		return LINEAGE_DEFAULT_DEPTH;
	if (d[0] == '\0' || strlen(d) > 6 || strspn(d, "0123456789") != strlen(d))
	{
		ctl_resp_error(r, 400, "depth must be a number of edges from 0 to 999999");
		return NULL;
	}
	return d;
}

/* A connection to the lineage catalog, or NULL after answering. */
static PGconn *
connect_catalog(ctl_resp *r)
{
	const trib_config *cfg = r->cfg;
	const char *dsn = trib_config_dsn_or_checkpoint(cfg, cfg->lineage.dsn);
	const char *const kw[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *const val[] = {dsn, "5", "tributary-control-api", NULL};
	trib_pq_error e;
	PGconn	   *c;

	if (!cfg->lineage.enabled || dsn == NULL)
	{
		ctl_resp_error(r, 404, "lineage is not configured: the pipeline records none "
					   "(add a lineage: section with enabled: true, docs/LINEAGE.md)");
		return NULL;
	}
	c = trib_pq_connect(kw, val, 1, &e);
	if (c == NULL)
	{
		tlog_warn("control", "cannot connect to the lineage catalog: %s", e.message);
		ctl_resp_error(r, 503, "the lineage catalog is unavailable");
		return NULL;
	}
	PQclear(PQexec(c, "SET statement_timeout = " LINEAGE_STATEMENT_TIMEOUT_MS));
	return c;
}

/* The 503 answer's fixed text for a failed question (never the server's
 * or libpq's own). */
static const char *
failure_text(PGconn *c, const char *state)
{
	if (PQstatus(c) != CONNECTION_OK)
		return "the lineage catalog is unavailable";
	if (state != NULL && strcmp(state, "57014") == 0)
		return "the lineage question was cancelled by the statement timeout ("
			LINEAGE_STATEMENT_TIMEOUT_MS " ms)";
	return "the lineage query failed";
}

/* Run sql with params: the first value (malloc'd), or NULL after
 * answering: 404 (an unknown asset) and 400 with the server's message,
 * else 503 with a fixed one and the detail logged. */
static char *
ask(ctl_resp *r, PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult   *res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	char	   *out = NULL;
	char		msg[1200];

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		out = strdup(PQgetvalue(res, 0, 0));
	else
	{
		unsigned	status = state && strcmp(state, "42704") == 0 ? 404
			: state && strcmp(state, "22023") == 0 ? 400 : 503;

		snprintf(msg, sizeof(msg), "%s%s%s",
				 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?: PQerrorMessage(c),
				 hint ? "; hint: " : "", hint ? hint : "");
		if (status == 503)
		{
			tlog_warn("control", "a lineage query failed (SQLSTATE %s): %s",
					  state ? state : "none", msg);
			snprintf(msg, sizeof(msg), "%s", failure_text(c, state));
		}
		ctl_resp_error(r, status, msg);
	}
	PQclear(res);
	return out;
}

/* "key": raw JSON text. */
static void
gen_raw(yajl_gen g, const char *key, const char *json)
{
	ctl_gen_str(g, key);
	yajl_gen_number(g, json, strlen(json));	/* verbatim: the server's JSON */
}

/* See control_int.h: GET lineage/{asset}/upstream|downstream|impact. */
void
ctl_serve_lineage(trib_control *api, ctl_resp *r)
{
	const char *q = strrchr(r->rest, '/') + 1;
	const char *depth = depth_arg(r);
	trib_strbuf asset = {0};
	PGconn	   *c;
	char	   *rows = NULL;
	int			k;

	(void) api;
	for (k = 0; strcmp(question_sql[k][0], q) != 0; k++)
		;
	if (depth == NULL || (c = connect_catalog(r)) == NULL)
		return;
	ctl_path_name(r->rest, strlen("lineage/"), &asset);
	{
		const char *params[] = {asset.data, depth};

		rows = ask(r, c, question_sql[k][1], 2, params);
	}
	PQfinish(c);
	if (rows != NULL)
	{
		yajl_gen_map_open(r->g);
		ctl_gen_kv(r->g, "asset", asset.data);
		ctl_gen_kv(r->g, "question", q);
		gen_raw(r->g, "depth", depth);
		gen_raw(r->g, "nodes", rows);
		yajl_gen_map_close(r->g);
	}
	free(rows);
	trib_strbuf_free(&asset);
}

/* See control_int.h: GET lineage/flow, the pipeline's job both ways. */
void
ctl_serve_lineage_flow(trib_control *api, ctl_resp *r)
{
	const trib_lineage_conf *lc = &r->cfg->lineage;
	const char *format = arg(r, "format") ?: "json";
	const char *depth = depth_arg(r);
	bool		dot = strcmp(format, "dot") == 0;
	trib_strbuf job = {0};
	PGconn	   *c;
	char	   *a = NULL,
			   *b = NULL;

	(void) api;
	if (depth == NULL)
		return;
	if (!dot && strcmp(format, "json") != 0)
		return ctl_resp_error(r, 400, "format must be json or dot");
	if ((c = connect_catalog(r)) == NULL)
		return;
	trib_strbuf_printf(&job, "job:%s/%s", lc->job_namespace ? lc->job_namespace : "tributary",
					   lc->job ? lc->job : r->cfg->pipeline);
	if (dot)
	{
		const char *params[] = {job.data, "both", depth};

		a = ask(r, c, "SELECT tributary.lineage_dot($1, $2, $3::int)", 3, params);
	}
	else
	{
		const char *params[] = {job.data, depth};

		if ((a = ask(r, c, question_sql[0][1], 2, params)) != NULL)
			b = ask(r, c, question_sql[1][1], 2, params);
	}
	PQfinish(c);
	if (a != NULL && (dot || b != NULL))
	{
		yajl_gen_map_open(r->g);
		ctl_gen_kv(r->g, "job", job.data);
		ctl_gen_kv(r->g, "format", format);
		if (dot)
			ctl_gen_kv(r->g, "dot", a);
		else
		{
			gen_raw(r->g, "upstream", a);
			gen_raw(r->g, "downstream", b);
		}
		yajl_gen_map_close(r->g);
	}
	free(a);
	free(b);
	trib_strbuf_free(&job);
}
