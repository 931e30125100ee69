/*
 * erasure.c: erasure requests; see erasure.h for the design.
 *
 * SQL: identifiers (schema, table, columns) come from the config and the
 * catalog and are quoted with PQescapeIdentifier; column names used as
 * JSON keys are quoted with PQescapeLiteral; the subject is always a bound
 * parameter, cast to the target column's type (format_type from the
 * catalog) so an index on it is used.
 */
#include "erasure.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "envelope.h"
#include "fileio.h"
#include "intern.h"
#include "jsondoc.h"
#include "log.h"
#include "strbuf.h"

struct trib_erasure
{
	const trib_erasure_conf *c;
	char	   *req_schema;
	char	   *req_table;
	PGconn	   *conn;
	trib_intern *names;			/* schema and table names of rewritten events */
};

trib_erasure *
trib_erasure_new(const trib_config *cfg)
{
	trib_erasure *er;
	const char *dot;

	if (cfg->erasure.table == NULL)
		return NULL;
	er = trib_xcalloc(1, sizeof(*er));
	er->c = &cfg->erasure;
	dot = strchr(er->c->table, '.');
	er->req_schema = trib_xstrndup(er->c->table, (size_t) (dot - er->c->table));
	er->req_table = trib_xstrdup(dot + 1);
	er->names = trib_intern_new();
	return er;
}

void
trib_erasure_free(trib_erasure *er)
{
	if (er == NULL)
		return;
	if (er->conn)
		PQfinish(er->conn);
	free(er->req_schema);
	free(er->req_table);
	trib_intern_free(er->names);
	free(er);
}

bool
trib_erasure_is_request(const trib_erasure *er, const trib_event *ev)
{
	return er != NULL && (ev->op == TRIB_OP_CREATE || ev->op == TRIB_OP_READ) &&
		ev->schema && ev->table && strcmp(ev->schema, er->req_schema) == 0 &&
		strcmp(ev->table, er->req_table) == 0;
}

/* ---- the source side ------------------------------------------------------ */

static bool
connect_source(trib_erasure *er, char *errbuf, size_t errlen)
{
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[] = {er->c->dsn, "10", "tributary-erasure", NULL};

	if (er->conn && PQstatus(er->conn) == CONNECTION_OK)
		return true;
	if (er->conn)
		PQfinish(er->conn);
	er->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(er->conn) != CONNECTION_OK)
	{
		char	   *m = trib_log_redact(PQerrorMessage(er->conn));

		snprintf(errbuf, errlen, "erasure: cannot connect to the source: %s", m);
		free(m);
		return false;
	}
	return true;
}

static bool
exec_ok(PGresult *res, ExecStatusType want, const char *what, char *errbuf, size_t errlen)
{
	if (PQresultStatus(res) == want)
		return true;
	snprintf(errbuf, errlen, "erasure: %s failed (SQLSTATE %s)", what,
			 PQresultErrorField(res, PG_DIAG_SQLSTATE) ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "none");
	return false;
}

/* One target split into its parts (malloc'd). */
typedef struct target
{
	char	   *schema;
	char	   *table;
	char	   *column;
} target;

static void
target_parse(const char *s, target *t)
{
	const char *d1 = strchr(s, '.');
	const char *d2 = strchr(d1 + 1, '.');

	t->schema = trib_xstrndup(s, (size_t) (d1 - s));
	t->table = trib_xstrndup(d1 + 1, (size_t) (d2 - d1 - 1));
	t->column = trib_xstrdup(d2 + 1);
}

static void
target_free(target *t)
{
	free(t->schema);
	free(t->table);
	free(t->column);
}

/*
 * The SQL pieces of a target from the catalog: the JSON key expression
 * (json_build_object('a', t."a", ...)), the list of key names as a SQL
 * array literal, the column's type, and whether the column is the whole
 * primary key.
 */
typedef struct target_sql
{
	trib_strbuf keyexpr;
	trib_strbuf keynames;
	char	   *coltype;
	char	   *coltype_pk;		/* the one-column key's type, or NULL */
	bool		col_is_pk;
} target_sql;

static bool
describe_target(PGconn *conn, const target *t, target_sql *ts, char *errbuf, size_t errlen)
{
	const char *p[3] = {t->schema, t->table, t->column};
	PGresult   *res;
	int			n;

	res = PQexecParams(conn,
					   "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
					   "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
					   "  ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
					   "WHERE i.indisprimary AND i.indrelid = "
					   "  (pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2))::pg_catalog.regclass "
					   "ORDER BY pg_catalog.array_position(i.indkey::int2[], a.attnum)",
					   2, NULL, p, NULL, NULL, 0);
	if (!exec_ok(res, PGRES_TUPLES_OK, "reading a target's primary key", errbuf, errlen))
	{
		PQclear(res);
		return false;
	}
	if ((n = PQntuples(res)) == 0)
	{
		snprintf(errbuf, errlen, "erasure: target %s.%s has no primary key", t->schema, t->table);
		PQclear(res);
		return false;
	}
	trib_strbuf_adds(&ts->keyexpr, "pg_catalog.json_build_object(");
	trib_strbuf_adds(&ts->keynames, "ARRAY[");
	for (int i = 0; i < n; i++)
	{
		const char *name = PQgetvalue(res, i, 0);
		char	   *lit = PQescapeLiteral(conn, name, strlen(name));
		char	   *id = PQescapeIdentifier(conn, name, strlen(name));

		trib_strbuf_printf(&ts->keyexpr, "%s%s, t.%s", i ? ", " : "", lit, id);
		trib_strbuf_printf(&ts->keynames, "%s%s", i ? ", " : "", lit);
		PQfreemem(lit);
		PQfreemem(id);
	}
	trib_strbuf_adds(&ts->keyexpr, ")");
	trib_strbuf_adds(&ts->keynames, "]::text[]");
	ts->col_is_pk = n == 1 && strcmp(PQgetvalue(res, 0, 0), t->column) == 0;
	if (ts->col_is_pk)
		ts->coltype_pk = trib_xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);

	res = PQexecParams(conn,
					   "SELECT format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute "
					   "WHERE attrelid = (pg_catalog.quote_ident($1) || '.' || "
					   "  pg_catalog.quote_ident($2))::pg_catalog.regclass "
					   "AND attname = $3 AND NOT attisdropped",
					   3, NULL, p, NULL, NULL, 0);
	if (!exec_ok(res, PGRES_TUPLES_OK, "reading a target column", errbuf, errlen))
	{
		PQclear(res);
		return false;
	}
	if (PQntuples(res) != 1)
	{
		snprintf(errbuf, errlen, "erasure: target %s.%s has no column %s", t->schema,
				 t->table, t->column);
		PQclear(res);
		return false;
	}
	ts->coltype = trib_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/* Emit the messages of one target; *rows gets the rows found. */
static bool
erase_target(trib_erasure *er, const target *t, const char *subject, const char *request,
			 long *rows, char *errbuf, size_t errlen)
{
	PGconn	   *conn = er->conn;
	target_sql	ts = {0};
	trib_strbuf q = {0};
	char	   *sch = PQescapeIdentifier(conn, t->schema, strlen(t->schema));
	char	   *tab = PQescapeIdentifier(conn, t->table, strlen(t->table));
	char	   *col = PQescapeIdentifier(conn, t->column, strlen(t->column));
	const char *p[4] = {subject, t->schema, t->table, request};
	PGresult   *res = NULL;
	bool		ok = describe_target(conn, t, &ts, errbuf, errlen);

	if (ok)
	{
		trib_strbuf_printf(&q, "SELECT count(pg_catalog.pg_logical_emit_message(true, '%s', "
						   "pg_catalog.json_build_object('schema', $2::text, 'table', $3::text, "
						   "'request', $4::text, 'key', %s",
						   TRIB_ERASURE_PREFIX, ts.keyexpr.data);
		if (er->c->action == TRIB_ERASE_ANONYMIZE)
			trib_strbuf_printf(&q, ", 'after', (SELECT pg_catalog.json_object_agg(e.k, "
							   "CASE WHEN e.k = ANY (%s) THEN e.v END) "
							   "FROM pg_catalog.json_each(pg_catalog.row_to_json(t)) e(k, v))",
							   ts.keynames.data);
		trib_strbuf_printf(&q, ")::text)) FROM %s.%s t WHERE t.%s = $1::%s", sch, tab, col,
						   ts.coltype);
		res = PQexecParams(conn, q.data, 4, NULL, p, NULL, NULL, 0);
		ok = exec_ok(res, PGRES_TUPLES_OK, "finding the subject's rows", errbuf, errlen);
		*rows = ok ? atol(PQgetvalue(res, 0, 0)) : 0;
		PQclear(res);
	}
	if (ok && *rows == 0 && ts.col_is_pk && er->c->action == TRIB_ERASE_DELETE)
	{
		/* the row is gone already: forget its key downstream anyway */
		char	   *lit = PQescapeLiteral(conn, t->column, strlen(t->column));

		trib_strbuf_free(&q);
		trib_strbuf_printf(&q, "SELECT pg_catalog.pg_logical_emit_message(true, '%s', "
						   "pg_catalog.json_build_object('schema', $2::text, 'table', $3::text, "
						   "'request', $4::text, 'key', pg_catalog.json_build_object(%s, $1::%s))::text)",
						   TRIB_ERASURE_PREFIX, lit, ts.coltype_pk);
		PQfreemem(lit);
		res = PQexecParams(conn, q.data, 4, NULL, p, NULL, NULL, 0);
		ok = exec_ok(res, PGRES_TUPLES_OK, "forgetting the subject's key", errbuf, errlen);
		PQclear(res);
	}
	trib_strbuf_free(&q);
	trib_strbuf_free(&ts.keyexpr);
	trib_strbuf_free(&ts.keynames);
	free(ts.coltype);
	free(ts.coltype_pk);
	PQfreemem(sch);
	PQfreemem(tab);
	PQfreemem(col);
	return ok;
}

/* The subject's text from the request's row, or NULL. */
static char *
subject_of(const trib_erasure *er, const trib_event *ev)
{
	char		e[128];
	yajl_val	row = ev->after ? trib_jdoc_parse(ev->after, e, sizeof(e)) : NULL;
	yajl_val   *v = row ? trib_jdoc_get_slot(row, er->c->subject) : NULL;
	const char *t = v ? trib_jdoc_scalar_text(*v) : NULL;
	char	   *out = t ? trib_xstrdup(t) : NULL;

	if (row)
		yajl_tree_free(row);
	return out;
}

static bool
audit(const trib_erasure *er, trib_strbuf *line, char *errbuf, size_t errlen)
{
	int			fd = open(er->c->audit_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	bool		ok;

	if (fd < 0)
	{
		snprintf(errbuf, errlen, "erasure: cannot open the audit log %s: %m", er->c->audit_log);
		return false;
	}
	trib_strbuf_addc(line, '\n');
	ok = trib_fileio_write_all(fd, line->data, line->len) && fsync(fd) == 0;
	if (!ok)
		snprintf(errbuf, errlen, "erasure: cannot write the audit log %s: %m", er->c->audit_log);
	close(fd);
	return ok;
}

bool
trib_erasure_handle(trib_erasure *er, const trib_event *ev, char *errbuf, size_t errlen)
{
	char		request[64];
	char	   *subject = subject_of(er, ev);
	trib_strbuf line = {0};
	PGresult   *res;
	bool		ok = true;
	char		ts[32];
	time_t		now = time(NULL);

	trib_envelope_event_id(&ev->pos, request, sizeof(request));
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	trib_strbuf_printf(&line, "{\"ts\":\"%s\",\"request\":\"%s\",\"table\":", ts, request);
	trib_jdoc_quote(&line, er->c->table);
	trib_strbuf_adds(&line, ",\"subject\":");
	if (subject == NULL)
	{
		trib_strbuf_adds(&line, "null,\"error\":\"the request has no subject\"}");
		tlog_warn("erasure", "request %s has no %s: nothing erased", request, er->c->subject);
		ok = audit(er, &line, errbuf, errlen);
		trib_strbuf_free(&line);
		return ok;
	}
	trib_jdoc_quote(&line, subject);
	trib_strbuf_printf(&line, ",\"action\":\"%s\",\"targets\":[",
					   er->c->action == TRIB_ERASE_DELETE ? "delete" : "anonymize");
	if (!connect_source(er, errbuf, errlen))
		ok = false;
	else
	{
		res = PQexec(er->conn, "BEGIN");
		ok = exec_ok(res, PGRES_COMMAND_OK, "BEGIN", errbuf, errlen);
		PQclear(res);
	}
	for (size_t i = 0; ok && i < er->c->targets.count; i++)
	{
		target		t;
		long		rows = 0;

		target_parse(er->c->targets.items[i], &t);
		ok = erase_target(er, &t, subject, request, &rows, errbuf, errlen);
		trib_strbuf_printf(&line, "%s{\"target\":", i ? "," : "");
		trib_jdoc_quote(&line, er->c->targets.items[i]);
		trib_strbuf_printf(&line, ",\"rows\":%ld}", rows);
		target_free(&t);
	}
	if (ok)
	{
		res = PQexec(er->conn, "COMMIT");
		ok = exec_ok(res, PGRES_COMMAND_OK, "COMMIT", errbuf, errlen);
		PQclear(res);
	}
	else if (er->conn && PQstatus(er->conn) == CONNECTION_OK)
		PQclear(PQexec(er->conn, "ROLLBACK"));
	trib_strbuf_adds(&line, "]}");
	if (ok)
	{
		ok = audit(er, &line, errbuf, errlen);
		tlog_info("erasure", "request %s: %s queued for every sink", request,
				  er->c->action == TRIB_ERASE_DELETE ? "deletes" : "anonymising updates");
	}
	trib_strbuf_free(&line);
	free(subject);
	return ok;
}

/* ---- the stream side --------------------------------------------------------- */

int
trib_erasure_rewrite(trib_erasure *er, trib_event *ev, char *errbuf, size_t errlen)
{
	static const char *pp[] = {"prefix", NULL};
	static const char *cp[] = {"content", NULL};
	char		e[128];
	yajl_val	x;
	yajl_val	prefix;
	yajl_val	content;
	yajl_val	msg = NULL;
	yajl_val   *schema, *table, *key, *after;
	int			rc = -1;

	if (ev->op != TRIB_OP_MESSAGE || ev->extra == NULL ||
		strstr(ev->extra, TRIB_ERASURE_PREFIX) == NULL)
		return 0;
	if ((x = trib_jdoc_parse(ev->extra, e, sizeof(e))) == NULL)
		return 0;
	prefix = yajl_tree_get(x, pp, yajl_t_string);
	if (prefix == NULL || strcmp(prefix->u.string, TRIB_ERASURE_PREFIX) != 0)
	{
		yajl_tree_free(x);
		return 0;
	}
	content = yajl_tree_get(x, cp, yajl_t_string);
	if (content)
		msg = trib_jdoc_parse(content->u.string, e, sizeof(e));
	schema = trib_jdoc_get_slot(msg, "schema");
	table = trib_jdoc_get_slot(msg, "table");
	key = trib_jdoc_get_slot(msg, "key");
	after = trib_jdoc_get_slot(msg, "after");
	if (msg == NULL || !schema || !YAJL_IS_STRING(*schema) || !table || !YAJL_IS_STRING(*table) ||
		!key || !YAJL_IS_OBJECT(*key))
		snprintf(errbuf, errlen, "erasure: a %s message without schema, table and key "
				 "(written by something else?)", TRIB_ERASURE_PREFIX);
	else
	{
		free(ev->extra);
		free(ev->key);
		free(ev->before);
		free(ev->after);
		ev->extra = NULL;
		/* events borrow their names (event.h): the set keeps them */
		ev->schema = trib_intern_get(er->names, (*schema)->u.string, strlen((*schema)->u.string));
		ev->table = trib_intern_get(er->names, (*table)->u.string, strlen((*table)->u.string));
		ev->key = trib_jdoc_dump(*key);
		ev->rel = NULL;
		if (after && YAJL_IS_OBJECT(*after))
		{
			ev->op = TRIB_OP_UPDATE;
			ev->before = NULL;
			ev->after = trib_jdoc_dump(*after);
		}
		else
		{
			ev->op = TRIB_OP_DELETE;
			ev->before = trib_xstrdup(ev->key);
			ev->after = NULL;
			ev->flatten = TRIB_FLAT_TOMBSTONE;	/* Kafka: forget the key */
		}
		rc = 1;
	}
	if (msg)
		yajl_tree_free(msg);
	yajl_tree_free(x);
	return rc;
}
