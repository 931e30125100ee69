/*
 * registry_api_misc.c: /compatibility, /config and /schemas.
 *
 *   POST /compatibility/subjects/{s}/versions       against the versions the
 *                                                   subject's level checks
 *   POST /compatibility/subjects/{s}/versions/{v}   against that one version
 *        {"is_compatible": bool}, with ?verbose=true also "messages"
 *   GET|PUT|DELETE /config[/{s}]                    compatibility levels
 *   GET /schemas/ids/{id}[/schema|/versions|/subjects], GET /schemas/types
 *
 * The check against all versions is tributary.check_compatibility(); the
 * check against one version passes that version alone to
 * tributary.schema_violations() under the subject's level, which is what
 * Confluent does (a transitive level then means the same as the plain
 * one).  Each message reads like register_schema's DETAIL lines:
 * "version N (BACKWARD) KIND path: message".
 */
#include "registry_api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

static const char check_all_sql[] =
	"SELECT c.previous_version, c.direction, c.kind, c.path, c.message"
	"  FROM tributary.check_compatibility($1, $2::jsonb, NULL, $3) AS c";

static const char check_one_sql[] =
	"SELECT $5::integer, x.direction, x.kind, x.path, x.message"
	"  FROM tributary.schema_violations($1, $2::jsonb, ARRAY[$3::text], ARRAY[$4::text],"
	"                                   tributary.compatibility_level($6)) AS x";

static const char level_sql[] = "SELECT tributary.compatibility_level($1)";

static const char own_level_sql[] =
	"SELECT c.level FROM tributary.compatibility_config AS c WHERE c.subject = $1";

static const char global_level_sql[] =
	"SELECT c.level FROM tributary.compatibility_config AS c WHERE c.subject IS NULL";

static const char set_level_sql[] = "SELECT tributary.set_compatibility($1, $2)";

static const char schema_by_id_sql[] =
	"SELECT s.schema_type, s.canonical FROM tributary.registry_schemas AS s"
	" WHERE s.id = $1::bigint";

static const char versions_by_id_sql[] =
	"SELECT v.subject, v.version FROM %s AS v WHERE v.id = $1::bigint"
	"   AND (NOT v.deleted OR $2::boolean) ORDER BY 1, 2";

/* 405 (with the methods a known path takes, `allow`) or 404 (allow NULL:
 * no such path). */
static void
no_route(regapi_resp *r, const char *allow)
{
	if (allow != NULL)
		regapi_not_allowed(r, allow);
	else
		regapi_error(r, REGAPI_E_NOT_FOUND, "HTTP 404 Not Found");
}

/* {"is_compatible": ..., "messages": [...]} from violation rows
 * (version, direction, kind, path, message). */
static void
reply_violations(const regapi_req *q, regapi_resp *r, PGresult *res)
{
	yajl_gen	g = regapi_gen();
	char		line[2048];

	yajl_gen_map_open(g);
	regapi_gen_str(g, "is_compatible");
	yajl_gen_bool(g, PQntuples(res) == 0);
	if (q->verbose)
	{
		regapi_gen_str(g, "messages");
		yajl_gen_array_open(g);
		for (int i = 0; i < PQntuples(res); i++)
		{
			snprintf(line, sizeof(line), "version %s (%s) %s %s: %s",
					 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
					 PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
			regapi_gen_str(g, line);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
	regapi_ok(r, g);
}

/* Check against one version ("latest" included). */
static PGresult *
check_one(const regapi_req *q, regapi_resp *r, const char *subject, const char *schema,
		  const char *type)
{
	PGresult   *ver = regapi_find_version(q, r, subject, q->seg[4], false);
	PGresult   *res;
	const char *p[6];

	if (ver == NULL)
		return NULL;
	p[0] = type;
	p[1] = schema;
	p[2] = PQgetvalue(ver, 0, 2);
	p[3] = PQgetvalue(ver, 0, 3);
	p[4] = PQgetvalue(ver, 0, 0);
	p[5] = subject;
	res = regapi_exec(q->store, check_one_sql, 6, p, true);
	if (res == NULL)
		regapi_store_error(r, q->store, REGAPI_E_INVALID_SCHEMA);
	PQclear(ver);
	return res;
}

/* POST /compatibility/subjects/{s}/versions[/{v}]. */
void
regapi_compatibility(const regapi_req *q, regapi_resp *r)
{
	bool		path_ok = (q->nseg == 4 || q->nseg == 5) &&
		strcmp(q->seg[1], "subjects") == 0 && strcmp(q->seg[3], "versions") == 0;
	const char *schema,
			   *type;
	PGresult   *res;

	if (!path_ok || strcmp(q->method, "POST") != 0)
	{
		no_route(r, path_ok ? "POST" : NULL);
		return;
	}
	if (!regapi_body_schema(q, r, &schema, &type))
		return;
	if (q->nseg == 5)
		res = check_one(q, r, q->seg[2], schema, type);
	else
	{
		const char *p[] = {q->seg[2], schema, type};

		res = regapi_exec(q->store, check_all_sql, 3, p, true);
		if (res == NULL)
			regapi_store_error(r, q->store, REGAPI_E_INVALID_SCHEMA);
	}
	if (res == NULL)
		return;
	reply_violations(q, r, res);
	PQclear(res);
}

/* {"key": level} from the first cell of res. */
static void
reply_level(regapi_resp *r, const char *key, const char *level)
{
	yajl_gen	g = regapi_gen();

	yajl_gen_map_open(g);
	regapi_gen_key_str(g, key, level);
	yajl_gen_map_close(g);
	regapi_ok(r, g);
}

/* The level set for `subject` (NULL: global) in *out (malloc'd; NULL when
 * none is set, or the default BACKWARD for the global one); false with the
 * answer filled when the query fails. */
static bool
own_level(const regapi_req *q, regapi_resp *r, const char *subject, char **out)
{
	const char *p[] = {subject};
	PGresult   *res = subject ? regapi_exec(q->store, own_level_sql, 1, p, true)
		: regapi_exec(q->store, level_sql, 1, p, true);

	*out = NULL;
	if (res == NULL)
	{
		regapi_store_error(r, q->store, REGAPI_E_STORE);
		return false;
	}
	if (PQntuples(res) > 0)
		*out = trib_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/* 40408: the subject has no level of its own. */
static void
no_config(regapi_resp *r, const char *subject)
{
	regapi_error(r, REGAPI_E_SUBJECT_NO_CONFIG, "Subject '%s' does not have "
				 "subject-level compatibility configured", subject);
}

/* GET /config[/{s}]. */
static void
get_config(const regapi_req *q, regapi_resp *r, const char *subject)
{
	char	   *level = NULL;

	if (subject != NULL && q->default_to_global)
	{
		const char *p[] = {subject};
		PGresult   *res = regapi_exec(q->store, level_sql, 1, p, true);

		if (res == NULL)
			regapi_store_error(r, q->store, REGAPI_E_STORE);
		else
			reply_level(r, "compatibilityLevel", PQgetvalue(res, 0, 0));
		PQclear(res);
		return;
	}
	if (!own_level(q, r, subject, &level))
		return;
	if (level == NULL)
		no_config(r, subject);
	else
		reply_level(r, "compatibilityLevel", level);
	free(level);
}

/* PUT /config[/{s}]: {"compatibility": LEVEL}. */
static void
put_config(const regapi_req *q, regapi_resp *r, const char *subject)
{
	const char *level = regapi_body_str(q, "compatibility");
	const char *p[] = {subject, level};
	PGresult   *res;

	if (q->body == NULL || !YAJL_IS_OBJECT(q->body))
	{
		regapi_error(r, REGAPI_E_BAD_REQUEST, "The request body must be a JSON object "
					 "with a \"compatibility\" string");
		return;
	}
	if (level == NULL)
	{
		regapi_error(r, REGAPI_E_INVALID_LEVEL, "Invalid compatibility level: the body "
					 "needs \"compatibility\": one of NONE, BACKWARD, BACKWARD_TRANSITIVE, "
					 "FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE");
		return;
	}
	res = regapi_exec(q->store, set_level_sql, 2, p, true);
	if (res == NULL)
	{
		regapi_store_error(r, q->store, REGAPI_E_INVALID_LEVEL);
		return;
	}
	tlog_info("registry", "compatibility of %s%s%s set to %s", subject ? "subject \"" : "",
			  subject ? subject : "the registry", subject ? "\"" : "", PQgetvalue(res, 0, 0));
	reply_level(r, "compatibility", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* DELETE /config[/{s}]: remove the level; answers the one it had. */
static void
delete_config(const regapi_req *q, regapi_resp *r, const char *subject)
{
	const char *p[] = {subject, NULL};
	char	   *level = NULL;
	PGresult   *res;

	if (subject == NULL)
	{
		PGresult   *g = regapi_exec(q->store, global_level_sql, 0, NULL, true);

		if (g == NULL)
		{
			regapi_store_error(r, q->store, REGAPI_E_STORE);
			return;
		}
		level = trib_xstrdup(PQntuples(g) > 0 ? PQgetvalue(g, 0, 0) : "BACKWARD");
		PQclear(g);
	}
	else if (!own_level(q, r, subject, &level))
		return;
	if (level == NULL)
	{
		no_config(r, subject);
		return;
	}
	res = regapi_exec(q->store, set_level_sql, 2, p, true);
	if (res == NULL)
		regapi_store_error(r, q->store, REGAPI_E_STORE);
	else
		reply_level(r, "compatibilityLevel", level);
	PQclear(res);
	free(level);
}

/* /config[/{s}]. */
void
regapi_config(const regapi_req *q, regapi_resp *r)
{
	const char *subject = q->nseg == 2 ? q->seg[1] : NULL;

	if (q->nseg > 2)
		no_route(r, NULL);
	else if (strcmp(q->method, "GET") == 0)
		get_config(q, r, subject);
	else if (strcmp(q->method, "PUT") == 0)
		put_config(q, r, subject);
	else if (strcmp(q->method, "DELETE") == 0)
		delete_config(q, r, subject);
	else
		no_route(r, "GET, HEAD, PUT, DELETE");
}

/* The type and schema of an id, from the cache or the catalog; false
 * with 40403 (or the store's error) answered. */
static bool
schema_by_id(const regapi_req *q, regapi_resp *r, const char *id, const char **type,
			 const char **schema)
{
	const char *p[] = {id};
	char	   *end;
	long long	n;
	PGresult   *res;

	errno = 0;
	n = strtoll(id, &end, 10);
	/* past bigint, the catalog would refuse the text: a 500 */
	if (id[0] < '0' || id[0] > '9' || *end != '\0' || n < 1 || errno == ERANGE)
	{
		regapi_error(r, REGAPI_E_SCHEMA_NOT_FOUND, "Schema %s not found", id);
		return false;
	}
	if (regapi_cache_get(q->cache, n, type, schema))
		return true;
	res = regapi_exec(q->store, schema_by_id_sql, 1, p, true);
	if (res == NULL)
	{
		regapi_store_error(r, q->store, REGAPI_E_STORE);
		return false;
	}
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		regapi_error(r, REGAPI_E_SCHEMA_NOT_FOUND, "Schema %s not found", id);
		return false;
	}
	regapi_cache_put(q->cache, n, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	return regapi_cache_get(q->cache, n, type, schema);
}

/* GET /schemas/ids/{id}[/schema]; the full answer is rendered once per
 * cached id. */
static void
get_schema(const regapi_req *q, regapi_resp *r, const char *id, bool schema_only)
{
	const char *type,
			   *schema,
			   *answer;
	char	   *end;
	int64_t		n = strtoll(id, &end, 10);
	size_t		len;
	yajl_gen	g;

	if (*end != '\0' || id[0] < '0' || id[0] > '9')
		n = 0;					/* schema_by_id() refuses it */
	if (!schema_only && (answer = regapi_cache_answer(q->cache, n, &len)) != NULL)
	{
		trib_strbuf_free(&r->body);
		trib_strbuf_add(&r->body, answer, len);
		r->status = 200;
		return;
	}
	if (!schema_by_id(q, r, id, &type, &schema))
		return;
	if (schema_only)
	{
		trib_strbuf_free(&r->body);
		trib_strbuf_adds(&r->body, schema);
		r->status = 200;
		return;
	}
	g = regapi_gen();
	yajl_gen_map_open(g);
	if (strcmp(type, "AVRO") != 0)
		regapi_gen_key_str(g, "schemaType", type);
	regapi_gen_key_str(g, "schema", schema);
	yajl_gen_map_close(g);
	regapi_ok(r, g);
	if (r->status == 200)
		regapi_cache_set_answer(q->cache, n, r->body.data, r->body.len);
}

/* GET /schemas/ids/{id}/versions or /subjects. */
static void
id_versions(const regapi_req *q, regapi_resp *r, const char *id, bool subjects_only)
{
	const char *p[] = {id, q->deleted ? "true" : "false"};
	const char *type,
			   *schema;
	PGresult   *res;
	yajl_gen	g;

	if (!schema_by_id(q, r, id, &type, &schema))
		return;
	res = regapi_exec_versions(q->store, versions_by_id_sql, 2, p, true);
	if (res == NULL)
	{
		regapi_store_error(r, q->store, REGAPI_E_STORE);
		return;
	}
	g = regapi_gen();
	yajl_gen_array_open(g);
	for (int i = 0; i < PQntuples(res); i++)
	{
		if (subjects_only)
		{
			/* rows are sorted by subject: one entry each */
			if (i == 0 || strcmp(PQgetvalue(res, i, 0), PQgetvalue(res, i - 1, 0)) != 0)
				regapi_gen_str(g, PQgetvalue(res, i, 0));
			continue;
		}
		yajl_gen_map_open(g);
		regapi_gen_key_str(g, "subject", PQgetvalue(res, i, 0));
		regapi_gen_key_int(g, "version", atoll(PQgetvalue(res, i, 1)));
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	regapi_ok(r, g);
	PQclear(res);
}

/* GET /schemas/types. */
static void
schema_types(regapi_resp *r)
{
	yajl_gen	g = regapi_gen();

	yajl_gen_array_open(g);
	regapi_gen_str(g, "JSON");
	regapi_gen_str(g, "AVRO");
	yajl_gen_array_close(g);
	regapi_ok(r, g);
}

/* /schemas/... */
void
regapi_schemas(const regapi_req *q, regapi_resp *r)
{
	const char *tail = q->nseg == 4 ? q->seg[3] : "";
	bool		ids = q->nseg >= 3 && q->nseg <= 4 && strcmp(q->seg[1], "ids") == 0;
	bool		types = q->nseg == 2 && strcmp(q->seg[1], "types") == 0;
	bool		known = types || (ids && (q->nseg == 3 || strcmp(tail, "schema") == 0 ||
										  strcmp(tail, "versions") == 0 ||
										  strcmp(tail, "subjects") == 0));

	if (!known || strcmp(q->method, "GET") != 0)
		no_route(r, known ? "GET, HEAD" : NULL);
	else if (types)
		schema_types(r);
	else if (q->nseg == 3 || strcmp(tail, "schema") == 0)
		get_schema(q, r, q->seg[2], q->nseg == 4);
	else
		id_versions(q, r, q->seg[2], strcmp(tail, "subjects") == 0);
}
