/*
 * registry_api_subjects.c: /subjects, the subjects and their versions.
 *
 *   GET    /subjects                          names, sorted
 *   GET    /subjects/{s}/versions             version numbers
 *   GET    /subjects/{s}/versions/{v|latest}  subject, version, id, schema(Type)
 *   GET    /subjects/{s}/versions/{v}/schema  the schema document itself
 *   POST   /subjects/{s}/versions             register: {"id": N}
 *   POST   /subjects/{s}                      look a schema up in the subject
 *   DELETE /subjects/{s}[/versions/{v}]       soft, or ?permanent=true
 *
 * `?deleted=true` includes soft-deleted versions in the reads.  Every
 * answer comes from tributary.schema_versions_with_deleted (or its 0.4
 * stand-in, registry_api_store.c) and the SQL functions; an empty result is told
 * apart (40401 no such subject, 40402 no such version) by a second query.
 * Deleting needs tributary.delete_subject()/delete_schema_version()
 * (extension 0.5); the states Confluent reports (40404 already soft
 * deleted, 40405 not soft deleted before a permanent delete, 40406/40407
 * the same for a version) are read before calling them.
 */
#include "registry_api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The columns every version query reads: version, id, type, schema,
 * deleted. */
#define VERSION_COLS "v.version, v.id, v.schema_type, v.schema, v.deleted"

static const char list_subjects_sql[] =
	"SELECT DISTINCT v.subject FROM %s AS v WHERE NOT v.deleted OR $1::boolean ORDER BY 1";

static const char list_versions_sql[] =
	"SELECT v.version FROM %s AS v WHERE v.subject = $1 AND (NOT v.deleted OR $2::boolean)"
	" ORDER BY 1";

static const char get_version_sql[] =
	"SELECT " VERSION_COLS " FROM %s AS v"
	" WHERE v.subject = $1 AND ($2::integer IS NULL OR v.version = $2::integer)"
	"   AND (NOT v.deleted OR $3::boolean)"
	" ORDER BY v.version DESC LIMIT 1";

static const char subject_exists_sql[] =
	"SELECT count(*) FILTER (WHERE NOT v.deleted), count(*) FROM %s AS v WHERE v.subject = $1";

static const char register_sql[] =
	"SELECT r.id, r.version FROM tributary.register_schema($1, $2::jsonb, $3) AS r";

static const char lookup_sql[] =
	"SELECT " VERSION_COLS " FROM %s AS v, tributary.schema_canonical($2, $3::jsonb) AS c"
	" WHERE v.subject = $1 AND (NOT v.deleted OR $4::boolean)"
	"   AND v.schema_type = c.schema_type AND v.fingerprint = c.fingerprint"
	" ORDER BY v.version LIMIT 1";

static const char delete_subject_sql[] =
	"SELECT d FROM tributary.delete_subject($1, $2::boolean) AS d ORDER BY 1";

static const char delete_version_sql[] =
	"SELECT tributary.delete_schema_version($1, $2::integer, $3::boolean)";

/* "true" / "false" for a boolean parameter. */
static const char *
b(bool v)
{
	return v ? "true" : "false";
}

/* How many versions the subject has: live ones, and all (soft-deleted
 * included); false with the answer filled when the query fails. */
static bool
count_versions(const regapi_req *q, regapi_resp *r, const char *subject, long *live, long *all)
{
	const char *p[] = {subject};
	PGresult   *res = regapi_exec_versions(q->store, subject_exists_sql, 1, p, true);

	if (res == NULL)
	{
		regapi_store_error(r, q->store, REGAPI_E_STORE);
		return false;
	}
	*live = atol(PQgetvalue(res, 0, 0));
	*all = atol(PQgetvalue(res, 0, 1));
	PQclear(res);
	return true;
}

/* 40401, or 40402 when the subject exists (with deleted versions too when
 * `deleted`). */
static void
not_found(const regapi_req *q, regapi_resp *r, const char *subject, const char *version,
		  bool deleted)
{
	long		live,
				all;

	if (!count_versions(q, r, subject, &live, &all))
		return;
	if ((deleted ? all : live) == 0)
		regapi_error(r, REGAPI_E_SUBJECT_NOT_FOUND, "Subject '%s' not found.", subject);
	else
		regapi_error(r, REGAPI_E_VERSION_NOT_FOUND, "Version %s not found.", version);
}

/* A list of the first column of res: strings or integers. */
static void
reply_column(regapi_resp *r, PGresult *res, bool integers)
{
	yajl_gen	g = regapi_gen();

	yajl_gen_array_open(g);
	for (int i = 0; i < PQntuples(res); i++)
	{
		if (integers)
			yajl_gen_integer(g, atoll(PQgetvalue(res, i, 0)));
		else
			regapi_gen_str(g, PQgetvalue(res, i, 0));
	}
	yajl_gen_array_close(g);
	regapi_ok(r, g);
}

/* One integer. */
static void
reply_integer(regapi_resp *r, const char *text)
{
	yajl_gen	g = regapi_gen();

	yajl_gen_integer(g, atoll(text));
	regapi_ok(r, g);
}

/* A version row (VERSION_COLS) as Confluent's schema document. */
static void
reply_version(regapi_resp *r, const char *subject, PGresult *res)
{
	yajl_gen	g = regapi_gen();
	const char *type = PQgetvalue(res, 0, 2);

	yajl_gen_map_open(g);
	regapi_gen_key_str(g, "subject", subject);
	regapi_gen_key_int(g, "version", atoll(PQgetvalue(res, 0, 0)));
	regapi_gen_key_int(g, "id", atoll(PQgetvalue(res, 0, 1)));
	if (strcmp(type, "AVRO") != 0)	/* Confluent leaves out its default */
		regapi_gen_key_str(g, "schemaType", type);
	regapi_gen_key_str(g, "schema", PQgetvalue(res, 0, 3));
	if (strcmp(PQgetvalue(res, 0, 4), "t") == 0)
	{
		regapi_gen_str(g, "deleted");
		yajl_gen_bool(g, 1);
	}
	yajl_gen_map_close(g);
	regapi_ok(r, g);
}

/* GET /subjects. */
static void
list_subjects(const regapi_req *q, regapi_resp *r)
{
	const char *p[] = {b(q->deleted)};
	PGresult   *res = regapi_exec_versions(q->store, list_subjects_sql, 1, p, true);

	if (res == NULL)
	{
		regapi_store_error(r, q->store, REGAPI_E_STORE);
		return;
	}
	reply_column(r, res, false);
	PQclear(res);
}

/* GET /subjects/{s}/versions. */
static void
list_versions(const regapi_req *q, regapi_resp *r, const char *subject)
{
	const char *p[] = {subject, b(q->deleted)};
	PGresult   *res = regapi_exec_versions(q->store, list_versions_sql, 2, p, true);

	if (res == NULL)
	{
		regapi_store_error(r, q->store, REGAPI_E_STORE);
		return;
	}
	if (PQntuples(res) == 0)
		regapi_error(r, REGAPI_E_SUBJECT_NOT_FOUND, "Subject '%s' not found.", subject);
	else
		reply_column(r, res, true);
	PQclear(res);
}

/* A version's row; see registry_api_int.h. */
PGresult *
regapi_find_version(const regapi_req *q, regapi_resp *r, const char *subject, const char *version,
			 bool deleted)
{
	int64_t		v = regapi_parse_version(version, r);
	char		num[24];
	const char *p[] = {subject, num, b(deleted)};
	PGresult   *res;

	if (v < 0)
		return NULL;
	snprintf(num, sizeof(num), "%lld", (long long) v);
	if (v == 0)
		p[1] = NULL;
	res = regapi_exec_versions(q->store, get_version_sql, 3, p, true);
	if (res == NULL)
		regapi_store_error(r, q->store, REGAPI_E_STORE);
	else if (PQntuples(res) == 0)
	{
		PQclear(res);
		res = NULL;
		not_found(q, r, subject, version, deleted);
	}
	return res;
}

/* GET /subjects/{s}/versions/{v}[/schema]. */
static void
get_version(const regapi_req *q, regapi_resp *r, const char *subject, const char *version,
			bool schema_only)
{
	PGresult   *res = regapi_find_version(q, r, subject, version, q->deleted);

	if (res == NULL)
		return;
	if (schema_only)
	{
		trib_strbuf_free(&r->body);
		trib_strbuf_adds(&r->body, PQgetvalue(res, 0, 3));
		r->status = 200;
	}
	else
		reply_version(r, subject, res);
	PQclear(res);
}

/* POST /subjects/{s}/versions: register. */
static void
register_version(const regapi_req *q, regapi_resp *r, const char *subject)
{
	const char *schema,
			   *type,
			   *p[3];
	PGresult   *res;
	yajl_gen	g;

	if (!regapi_body_schema(q, r, &schema, &type))
		return;
	p[0] = subject;
	p[1] = schema;
	p[2] = type;
	res = regapi_exec(q->store, register_sql, 3, p, true);
	if (res == NULL)
	{
		regapi_store_error(r, q->store, REGAPI_E_INVALID_SCHEMA);
		return;
	}
	tlog_info("registry", "subject \"%s\": schema id %s is version %s", subject,
			  PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	g = regapi_gen();
	yajl_gen_map_open(g);
	regapi_gen_key_int(g, "id", atoll(PQgetvalue(res, 0, 0)));
	yajl_gen_map_close(g);
	regapi_ok(r, g);
	PQclear(res);
}

/* POST /subjects/{s}: is this schema registered under the subject? */
static void
lookup(const regapi_req *q, regapi_resp *r, const char *subject)
{
	const char *schema,
			   *type,
			   *p[4];
	long		live,
				all;
	PGresult   *res;

	if (!regapi_body_schema(q, r, &schema, &type))
		return;
	if (!count_versions(q, r, subject, &live, &all))
		return;
	if ((q->deleted ? all : live) == 0)
	{
		regapi_error(r, REGAPI_E_SUBJECT_NOT_FOUND, "Subject '%s' not found.", subject);
		return;
	}
	p[0] = subject;
	p[1] = type;
	p[2] = schema;
	p[3] = b(q->deleted);
	res = regapi_exec_versions(q->store, lookup_sql, 4, p, true);
	if (res == NULL)
	{
		regapi_store_error(r, q->store, REGAPI_E_INVALID_SCHEMA);
		return;
	}
	if (PQntuples(res) == 0)
		regapi_error(r, REGAPI_E_SCHEMA_NOT_FOUND, "Schema not found");
	else
		reply_version(r, subject, res);
	PQclear(res);
}

/* Soft delete and permanent delete need extension 0.5. */
static bool
deletes_supported(const regapi_req *q, regapi_resp *r)
{
	if (!regapi_store_connect(q->store))
	{
		regapi_store_error(r, q->store, REGAPI_E_STORE);
		return false;
	}
	if (q->store->has_delete_fns)
		return true;
	regapi_error(r, REGAPI_E_UNSUPPORTED, "Deleting needs the tributary extension 0.5 "
				 "(tributary.delete_subject); ALTER EXTENSION tributary UPDATE");
	return false;
}

/* DELETE /subjects/{s}. */
static void
delete_subject(const regapi_req *q, regapi_resp *r, const char *subject)
{
	const char *p[] = {subject, b(q->permanent)};
	long		live,
				all;
	PGresult   *res;

	if (!deletes_supported(q, r) || !count_versions(q, r, subject, &live, &all))
		return;
	if (all == 0)
	{
		regapi_error(r, REGAPI_E_SUBJECT_NOT_FOUND, "Subject '%s' not found.", subject);
		return;
	}
	if (!q->permanent && live == 0)
	{
		regapi_error(r, REGAPI_E_SUBJECT_SOFT_DELETED, "Subject '%s' was soft "
					 "deleted. Set permanent=true to delete permanently", subject);
		return;
	}
	if (q->permanent && live > 0)
	{
		regapi_error(r, REGAPI_E_SUBJECT_NOT_SOFT_DELETED, "Subject '%s' was not "
					 "deleted first before being permanently deleted", subject);
		return;
	}
	res = regapi_exec(q->store, delete_subject_sql, 2, p, false);
	if (res == NULL)
	{
		regapi_store_error(r, q->store, REGAPI_E_STORE);
		return;
	}
	tlog_info("registry", "subject \"%s\": %s deleted", subject,
			  q->permanent ? "permanently" : "soft");
	reply_column(r, res, true);
	PQclear(res);
}

/* DELETE /subjects/{s}/versions/{v}. */
static void
delete_version(const regapi_req *q, regapi_resp *r, const char *subject, const char *version)
{
	PGresult   *res;
	bool		was_deleted;
	const char *p[3];

	if (!deletes_supported(q, r))
		return;
	/* latest: the latest live version (soft), or the latest at all */
	res = regapi_find_version(q, r, subject, version,
					   strcmp(version, "latest") != 0 && strcmp(version, "-1") != 0
					   ? true : q->permanent);
	if (res == NULL)
		return;
	was_deleted = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	if (!q->permanent && was_deleted)
		regapi_error(r, REGAPI_E_VERSION_SOFT_DELETED, "Subject '%s' Version %s was soft "
					 "deleted. Set permanent=true to delete permanently", subject,
					 PQgetvalue(res, 0, 0));
	else if (q->permanent && !was_deleted)
		regapi_error(r, REGAPI_E_VERSION_NOT_SOFT_DELETED, "Subject '%s' Version %s was not "
					 "deleted first before being permanently deleted", subject,
					 PQgetvalue(res, 0, 0));
	else
	{
		PGresult   *del;

		p[0] = subject;
		p[1] = PQgetvalue(res, 0, 0);
		p[2] = b(q->permanent);
		del = regapi_exec(q->store, delete_version_sql, 3, p, false);
		if (del == NULL)
			regapi_store_error(r, q->store, REGAPI_E_STORE);
		else
		{
			tlog_info("registry", "subject \"%s\": version %s %s deleted", subject, p[1],
					  q->permanent ? "permanently" : "soft");
			reply_integer(r, PQgetvalue(del, 0, 0));
			PQclear(del);
		}
	}
	PQclear(res);
}

/* Route /subjects/... */
void
regapi_subjects(const regapi_req *q, regapi_resp *r)
{
	const char *m = q->method;
	const char *s = q->nseg > 1 ? q->seg[1] : NULL;
	bool		get = strcmp(m, "GET") == 0,
				post = strcmp(m, "POST") == 0,
				del = strcmp(m, "DELETE") == 0;
	bool		versions = q->nseg > 2 && strcmp(q->seg[2], "versions") == 0;

	if (q->nseg == 1 && get)
		list_subjects(q, r);
	else if (q->nseg == 2 && (post || del))
		post ? lookup(q, r, s) : delete_subject(q, r, s);
	else if (q->nseg == 3 && versions && (get || post))
		get ? list_versions(q, r, s) : register_version(q, r, s);
	else if (q->nseg == 4 && versions && (get || del))
		get ? get_version(q, r, s, q->seg[3], false) : delete_version(q, r, s, q->seg[3]);
	else if (q->nseg == 5 && versions && get && strcmp(q->seg[4], "schema") == 0)
		get_version(q, r, s, q->seg[3], true);
	else if (q->nseg == 1)
		regapi_not_allowed(r, "GET, HEAD");
	else if (q->nseg == 2)
		regapi_not_allowed(r, "POST, DELETE");
	else if (q->nseg == 3 && versions)
		regapi_not_allowed(r, "GET, HEAD, POST");
	else if (q->nseg == 4 && versions)
		regapi_not_allowed(r, "GET, HEAD, DELETE");
	else if (q->nseg == 5 && versions && strcmp(q->seg[4], "schema") == 0)
		regapi_not_allowed(r, "GET, HEAD");
	else
		regapi_error(r, REGAPI_E_NOT_FOUND, "HTTP 404 Not Found");
}
