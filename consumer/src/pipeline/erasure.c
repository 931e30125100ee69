/*
 * erasure.c: the guard against forged erasures, and erasure requests; see
 * erasure.h for the design.
 *
 * SQL: identifiers (schema, table, columns) come from the config and the
 * catalog and are quoted with PQescapeIdentifier; column names used as
 * JSON keys are quoted with PQescapeLiteral; the subject, the request id
 * and the table names are bound parameters, the subject cast to the target
 * column's type (format_type from the catalog) so an index on it is used.
 * Every catalog object is schema-qualified.
 */
#include "erasure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "catalog.h"
#include "envelope.h"
#include "erasure_int.h"
#include "intern.h"
#include "jsondoc.h"
#include "log.h"
#include "strbuf.h"

/* One configured target: schema.table.column split into its parts. */
typedef struct target
{
	char	   *schema;
	char	   *table;
	char	   *column;
	const char *text;			/* as configured */
} target;

struct trib_erasure
{
	const trib_erasure_conf *c;	/* NULL: no erasure section (guard only) */
	target	   *targets;
	size_t		ntargets;
	er_audit   *audit;
	PGconn	   *conn;
	er_table  **tables;			/* descriptions, per target (NULL: not read) */
	trib_intern *names;			/* schema and table names of rewritten events */
	trib_metric *refused[3];	/* tributary_erasure_refused_total{kind} */
	trib_metric *accepted[2];	/* tributary_erasure_accepted_total{kind} */
};

/* Kinds of what the audit log and the metrics count. */
enum
{
	K_REQUEST, K_KEY, K_MESSAGE
};
static const char *const kind_names[] = {"request", "key", "message"};

static void
register_metrics(trib_erasure *er, trib_metrics *reg)
{
	trib_metric_family *r, *a;

	if (reg == NULL)
		return;
	r = trib_metrics_counter(reg, "tributary_erasure_refused_total",
							 "Erasures refused: forged messages, key rows that do not fit, "
							 "requests without a subject.", "kind");
	a = trib_metrics_counter(reg, "tributary_erasure_accepted_total",
							 "Erasure requests handled and key rows applied.", "kind");
	for (int k = 0; k < 3; k++)
		er->refused[k] = trib_metric_get(r, kind_names[k]);
	for (int k = 0; k < 2; k++)
		er->accepted[k] = trib_metric_get(a, kind_names[k]);
}

/* Split "schema.table.column" (validated by the config) into t. */
static void
target_parse(const char *s, target *t)
{
	const char *d1 = strchr(s, '.');
	const char *d2 = strchr(d1 + 1, '.');

	t->schema = trib_xstrndup(s, (size_t) (d1 - s));
	t->table = trib_xstrndup(d1 + 1, (size_t) (d2 - d1 - 1));
	t->column = trib_xstrdup(d2 + 1);
	t->text = s;
}

trib_erasure *
trib_erasure_new(const trib_config *cfg, trib_metrics *metrics, char *errbuf, size_t errlen)
{
	trib_erasure *er = trib_xcalloc(1, sizeof(*er));

	er->names = trib_intern_new();
	register_metrics(er, metrics);
	if (cfg->erasure.targets.count == 0)
		return er;
	er->c = &cfg->erasure;
	if ((er->audit = er_audit_new(er->c, errbuf, errlen)) == NULL)
	{
		trib_erasure_free(er);
		return NULL;
	}
	er->ntargets = er->c->targets.count;
	er->targets = trib_xcalloc(er->ntargets, sizeof(target));
	er->tables = trib_xcalloc(er->ntargets, sizeof(er_table *));
	for (size_t i = 0; i < er->ntargets; i++)
		target_parse(er->c->targets.items[i], &er->targets[i]);
	return er;
}

/* Forget every table description (a new request reads them again). */
static void
forget_tables(trib_erasure *er)
{
	for (size_t i = 0; i < er->ntargets; i++)
	{
		er_table_free(er->tables[i]);
		er->tables[i] = NULL;
	}
}

void
trib_erasure_free(trib_erasure *er)
{
	if (er == NULL)
		return;
	if (er->conn)
		PQfinish(er->conn);
	forget_tables(er);
	for (size_t i = 0; i < er->ntargets; i++)
	{
		free(er->targets[i].schema);
		free(er->targets[i].table);
		free(er->targets[i].column);
	}
	free(er->targets);
	free(er->tables);
	er_audit_free(er->audit);
	trib_intern_free(er->names);
	free(er);
}

bool
trib_erasure_enabled(const trib_erasure *er)
{
	return er != NULL && er->c != NULL;
}

/* "delete" or "anonymize", for the audit log. */
static const char *
action_name(const trib_erasure *er)
{
	return er->c->action == TRIB_ERASE_DELETE ? "delete" : "anonymize";
}

/* ---- refusals ------------------------------------------------------------- */

/*
 * Refuse: finish the audit line with the reason, write it (no fsync: a
 * flood of forged messages must not slow the pipeline to the disk's
 * pace), count and log it.  Without an erasure section there is no audit
 * log; the warning and the count remain.
 */
static trib_erasure_result
refuse(trib_erasure *er, int kind, trib_strbuf *line, const char *reason, char *errbuf,
	   size_t errlen)
{
	bool		ok = true;

	trib_strbuf_adds(line, ",\"result\":\"refused\",\"reason\":");
	trib_jdoc_quote(line, reason);
	trib_metric_inc(er->refused[kind]);
	tlog_warn("erasure", "%s refused: %s", kind_names[kind], reason);
	if (er->audit)
		ok = er_audit_write(er->audit, line, false, errbuf, errlen);
	trib_strbuf_free(line);
	return ok ? TRIB_ERASURE_CONSUMED : TRIB_ERASURE_FAILED;
}

/* A `tributary.erasure` logical message: refused, whatever it says. */
static trib_erasure_result
refuse_message(trib_erasure *er, const trib_event *ev, bool transactional, char *errbuf,
			   size_t errlen)
{
	trib_strbuf line = {0};

	er_audit_begin(&line, kind_names[K_MESSAGE], &ev->pos);
	trib_strbuf_printf(&line, ",\"prefix\":\"%s\",\"transactional\":%s",
					   TRIB_ERASURE_MESSAGE_PREFIX, transactional ? "true" : "false");
	return refuse(er, K_MESSAGE, &line,
				  "a logical message carries no authority (any role can emit one); "
				  "erasure requests come from tributary.erasure_requests", errbuf, errlen);
}

/* Is ev a logical message with our old erasure prefix?  *tx: transactional. */
static bool
is_erasure_message(const trib_event *ev, bool *tx)
{
	yajl_val	x;
	yajl_val   *prefix,
			   *t;
	bool		ours;

	if (ev->op != TRIB_OP_MESSAGE || ev->extra == NULL ||
		strstr(ev->extra, TRIB_ERASURE_MESSAGE_PREFIX) == NULL ||
		(x = trib_jdoc_parse(ev->extra, NULL, 0)) == NULL)
		return false;
	prefix = trib_jdoc_get_slot(x, "prefix");
	t = trib_jdoc_get_slot(x, "transactional");
	ours = prefix && YAJL_IS_STRING(*prefix) &&
		strcmp((*prefix)->u.string, TRIB_ERASURE_MESSAGE_PREFIX) == 0;
	*tx = t == NULL || !YAJL_IS_FALSE(*t);
	yajl_tree_free(x);
	return ours;
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

/* Is res `want`?  Else errbuf names the step and the SQLSTATE (no values). */
static bool
exec_ok(PGresult *res, ExecStatusType want, const char *what, char *errbuf, size_t errlen)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (PQresultStatus(res) == want)
		return true;
	snprintf(errbuf, errlen, "erasure: %s failed (SQLSTATE %s)%s", what, state ? state : "none",
			 state && strcmp(state, "42501") == 0
			 ? ": the erasure dsn's role needs tributary_eraser and SELECT on the targets" : "");
	return false;
}

/*
 * A table's columns, types and key as the source's catalog has them: the
 * replica identity index when the table uses one, else the primary key
 * (the columns of the events' keys, pgrecord.c).  *out is NULL when the
 * table does not exist.
 */
static bool
describe_table(PGconn *conn, const char *schema, const char *table, er_table **out,
			   char *errbuf, size_t errlen)
{
	const char *p[2] = {schema, table};
	PGresult   *res;
	er_table   *t;
	int			n;

	res = PQexecParams(conn,
					   "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
					   "  (SELECT u.o FROM pg_catalog.unnest(k.indkey::pg_catalog.int2[]) "
					   "     WITH ORDINALITY u(n, o) WHERE u.n = a.attnum) "
					   "FROM pg_catalog.pg_class c "
					   "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid "
					   "  AND a.attnum > 0 AND NOT a.attisdropped "
					   "LEFT JOIN pg_catalog.pg_index k ON k.indrelid = c.oid AND "
					   "  CASE WHEN c.relreplident = 'i' THEN k.indisreplident ELSE k.indisprimary END "
					   "WHERE c.oid = pg_catalog.to_regclass(pg_catalog.quote_ident($1) "
					   "  OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident($2)) "
					   "ORDER BY a.attnum",
					   2, NULL, p, NULL, NULL, 0);
	*out = NULL;
	if (!exec_ok(res, PGRES_TUPLES_OK, "reading a target's columns", errbuf, errlen))
	{
		PQclear(res);
		return false;
	}
	if ((n = PQntuples(res)) > 0)
	{
		t = trib_xcalloc(1, sizeof(*t));
		t->schema = trib_xstrdup(schema);
		t->table = trib_xstrdup(table);
		t->ncols = n;
		t->cols = trib_xcalloc((size_t) n, sizeof(char *));
		t->types = trib_xcalloc((size_t) n, sizeof(char *));
		t->key = trib_xcalloc((size_t) n, sizeof(int));
		for (int i = 0; i < n; i++)
		{
			t->cols[i] = trib_xstrdup(PQgetvalue(res, i, 0));
			t->types[i] = trib_xstrdup(PQgetvalue(res, i, 1));
			if (!PQgetisnull(res, i, 2))
			{
				int			pos = atoi(PQgetvalue(res, i, 2));

				if (pos >= 1 && pos <= n)
				{
					t->key[pos - 1] = i;
					t->nkey = pos > t->nkey ? pos : t->nkey;
				}
			}
		}
		*out = t;
	}
	PQclear(res);
	return true;
}

/* The description of target i, read once per request. */
static bool
target_table(trib_erasure *er, size_t i, const er_table **out, char *errbuf, size_t errlen)
{
	if (er->tables[i] == NULL)
	{
		for (size_t j = 0; j < i; j++)
			if (er->tables[j] && strcmp(er->targets[j].schema, er->targets[i].schema) == 0 &&
				strcmp(er->targets[j].table, er->targets[i].table) == 0)
			{
				*out = er->tables[j];
				return true;
			}
		if (!connect_source(er, errbuf, errlen) ||
			!describe_table(er->conn, er->targets[i].schema, er->targets[i].table,
							&er->tables[i], errbuf, errlen))
			return false;
	}
	*out = er->tables[i];
	return true;
}

/* The index of column name in t, or -1. */
static int
column_index(const er_table *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i], name) == 0)
			return i;
	return -1;
}

/*
 * The SQL that inserts the key rows of one target: from the subject's rows
 * (found: true), or the subject's own key when its row is gone.
 */
static char *
key_rows_sql(PGconn *conn, const target *tg, const er_table *t, int col, bool found)
{
	trib_strbuf q = {0};

	trib_strbuf_adds(&q, "INSERT INTO tributary.erasure_keys (request_id, schema_name, "
					 "table_name, key) SELECT $1::pg_catalog.int8, $2, $3, "
					 "pg_catalog.json_build_object(");
	for (int i = 0; i < t->nkey; i++)
	{
		const char *name = t->cols[t->key[i]];
		char	   *lit = PQescapeLiteral(conn, name, strlen(name));
		char	   *id = PQescapeIdentifier(conn, name, strlen(name));

		if (found)
			trib_strbuf_printf(&q, "%s%s, t.%s", i ? ", " : "", lit, id);
		else
			trib_strbuf_printf(&q, "%s, $4::%s", lit, t->types[col]);
		PQfreemem(lit);
		PQfreemem(id);
	}
	trib_strbuf_adds(&q, ")");
	if (found)
	{
		char	   *sch = PQescapeIdentifier(conn, tg->schema, strlen(tg->schema));
		char	   *tab = PQescapeIdentifier(conn, tg->table, strlen(tg->table));
		char	   *c = PQescapeIdentifier(conn, tg->column, strlen(tg->column));

		trib_strbuf_printf(&q, " FROM %s.%s t WHERE t.%s = $4::%s", sch, tab, c, t->types[col]);
		PQfreemem(sch);
		PQfreemem(tab);
		PQfreemem(c);
	}
	return trib_strbuf_finish(&q);
}

/* Run one key-row insert; *rows gets how many it wrote. */
static bool
insert_keys(PGconn *conn, const char *sql, const char *const p[4], long *rows, char *errbuf,
			size_t errlen)
{
	PGresult   *res = PQexecParams(conn, sql, 4, NULL, p, NULL, NULL, 0);
	bool		ok = exec_ok(res, PGRES_COMMAND_OK, "writing the keys into tributary.erasure_keys",
							 errbuf, errlen);

	*rows = ok ? atol(PQcmdTuples(res)) : 0;
	PQclear(res);
	return ok;
}

/*
 * The key rows of one target, and its entry in the audit line.  A target
 * that cannot be erased (gone, no key, no such column) is noted there and
 * skipped; a database error fails the request.
 */
static bool
erase_target(trib_erasure *er, size_t i, const char *subject, const char *request_id,
			 trib_strbuf *line, char *errbuf, size_t errlen)
{
	const target *tg = &er->targets[i];
	const char *p[4] = {request_id, tg->schema, tg->table, subject};
	const er_table *t;
	const char *skip = NULL;
	long		rows = 0;
	int			col;
	bool		ok = target_table(er, i, &t, errbuf, errlen);

	if (!ok)
		return false;
	if (t == NULL)
		skip = "the table does not exist in the source";
	else if ((col = column_index(t, tg->column)) < 0)
		skip = "the table has no such column";
	else if (t->nkey == 0)
		skip = "the table has neither a primary key nor a replica identity index";
	else
	{
		char	   *sql = key_rows_sql(er->conn, tg, t, col, true);

		ok = insert_keys(er->conn, sql, p, &rows, errbuf, errlen);
		free(sql);
		/* the row is gone already: forget its key downstream anyway */
		if (ok && rows == 0 && t->nkey == 1 && t->key[0] == col &&
			er->c->action == TRIB_ERASE_DELETE)
		{
			long		one;

			sql = key_rows_sql(er->conn, tg, t, col, false);
			ok = insert_keys(er->conn, sql, p, &one, errbuf, errlen);
			free(sql);
		}
	}
	trib_strbuf_printf(line, "%s{\"target\":", i ? "," : "");
	trib_jdoc_quote(line, tg->text);
	trib_strbuf_printf(line, ",\"rows\":%ld", rows);
	if (skip)
	{
		trib_strbuf_adds(line, ",\"skipped\":");
		trib_jdoc_quote(line, skip);
		tlog_warn("erasure", "target %s skipped: %s", tg->text, skip);
	}
	trib_strbuf_addc(line, '}');
	return ok;
}

/* Find and record the subject's rows in every target, in one transaction. */
static bool
erase_subject(trib_erasure *er, const char *subject, const char *request_id,
			  trib_strbuf *line, char *errbuf, size_t errlen)
{
	PGresult   *res;
	bool		ok = connect_source(er, errbuf, errlen);

	if (ok)
	{
		res = PQexec(er->conn, "BEGIN");
		ok = exec_ok(res, PGRES_COMMAND_OK, "BEGIN", errbuf, errlen);
		PQclear(res);
	}
	trib_strbuf_adds(line, ",\"targets\":[");
	for (size_t i = 0; ok && i < er->ntargets; i++)
		ok = erase_target(er, i, subject, request_id, line, errbuf, errlen);
	trib_strbuf_addc(line, ']');
	if (ok)
	{
		res = PQexec(er->conn, "COMMIT");
		ok = exec_ok(res, PGRES_COMMAND_OK, "COMMIT", errbuf, errlen);
		PQclear(res);
	}
	else if (er->conn && PQstatus(er->conn) == CONNECTION_OK)
		PQclear(PQexec(er->conn, "ROLLBACK"));
	return ok;
}

/* A request (an insert into tributary.erasure_requests). */
static trib_erasure_result
handle_request(trib_erasure *er, const trib_event *ev, char *errbuf, size_t errlen)
{
	yajl_val	row = ev->after ? trib_jdoc_parse(ev->after, NULL, 0) : NULL;
	yajl_val   *id = row ? trib_jdoc_get_slot(row, "id") : NULL;
	yajl_val   *s = row ? trib_jdoc_get_slot(row, "subject") : NULL;
	const char *request_id = id && YAJL_IS_NUMBER(*id) ? (*id)->u.number.r : NULL;
	const char *subject = s ? trib_jdoc_scalar_text(*s) : NULL;
	trib_strbuf line = {0};
	bool		ok;

	er_audit_begin(&line, kind_names[K_REQUEST], &ev->pos);
	if (request_id)
		trib_strbuf_printf(&line, ",\"request_id\":%s", request_id);
	if (request_id == NULL || subject == NULL || *subject == '\0')
	{
		if (row)
			yajl_tree_free(row);
		return refuse(er, K_REQUEST, &line, "the request has no id or no subject", errbuf, errlen);
	}
	forget_tables(er);
	ok = er_audit_subject(er->audit, &line, subject, errbuf, errlen);
	trib_strbuf_printf(&line, ",\"action\":\"%s\",\"result\":\"accepted\"", action_name(er));
	ok = ok && erase_subject(er, subject, request_id, &line, errbuf, errlen) &&
		er_audit_write(er->audit, &line, true, errbuf, errlen);
	if (ok)
	{
		trib_metric_inc(er->accepted[K_REQUEST]);
		tlog_info("erasure", "request %s: %s queued for every sink", request_id,
				  er->c->action == TRIB_ERASE_DELETE ? "deletes" : "anonymising updates");
	}
	trib_strbuf_free(&line);
	yajl_tree_free(row);
	return ok ? TRIB_ERASURE_CONSUMED : TRIB_ERASURE_FAILED;
}

/* ---- the stream side --------------------------------------------------------- */

/* The target whose table is schema.table, or -1. */
static int
target_of(const trib_erasure *er, const char *schema, const char *table)
{
	for (size_t i = 0; i < er->ntargets; i++)
		if (strcmp(er->targets[i].schema, schema) == 0 &&
			strcmp(er->targets[i].table, table) == 0)
			return (int) i;
	return -1;
}

/* The audit line of a key row, up to its result. */
static void
key_line(trib_strbuf *line, const trib_event *ev, const er_keyrow *row)
{
	er_audit_begin(line, kind_names[K_KEY], &ev->pos);
	if (row->request_id)
		trib_strbuf_printf(line, ",\"request_id\":%s", row->request_id);
	if (row->schema && row->table)
	{
		trib_strbuf qn = {0};

		trib_strbuf_printf(&qn, "%s.%s", row->schema, row->table);
		trib_strbuf_adds(line, ",\"table\":");
		trib_jdoc_quote(line, qn.data);
		trib_strbuf_free(&qn);
	}
}

/*
 * Check a key row against its target and rewrite ev into the erasure it
 * stands for.  NULL when done, else the reason it is refused; *failed (and
 * errbuf) when the source could not be asked.
 */
static const char *
apply_key_row(trib_erasure *er, const er_keyrow *row, trib_event *ev, bool *failed,
			  char *errbuf, size_t errlen)
{
	int			i = target_of(er, row->schema, row->table);
	const er_table *t;

	if (i < 0)
		return "the table is not an erasure target of this pipeline";
	if (!target_table(er, (size_t) i, &t, errbuf, errlen))
	{
		*failed = true;
		return NULL;
	}
	if (t == NULL)
		return "the table does not exist in the source";
	return er_keyrow_apply(row, t, er->c->action, ev,
						   trib_intern_get(er->names, row->schema, strlen(row->schema)),
						   trib_intern_get(er->names, row->table, strlen(row->table)));
}

/* A key row (an insert into tributary.erasure_keys): applied or refused. */
static trib_erasure_result
take_key_row(trib_erasure *er, trib_event *ev, char *errbuf, size_t errlen)
{
	er_keyrow	row;
	const char *why = er_keyrow_read(ev->after, &row);
	trib_strbuf line = {0};
	bool		failed = false;
	trib_erasure_result rc = TRIB_ERASURE_FAILED;

	key_line(&line, ev, &row);
	if (why == NULL)
		why = apply_key_row(er, &row, ev, &failed, errbuf, errlen);
	if (failed)
		trib_strbuf_free(&line);
	else if (why != NULL)
		rc = refuse(er, K_KEY, &line, why, errbuf, errlen);
	else
	{
		trib_strbuf_printf(&line, ",\"action\":\"%s\",\"result\":\"applied\"",
						   action_name(er));
		trib_metric_inc(er->accepted[K_KEY]);
		if (er_audit_write(er->audit, &line, false, errbuf, errlen))
			rc = TRIB_ERASURE_REWRITTEN;
		trib_strbuf_free(&line);
	}
	er_keyrow_free(&row);
	return rc;
}

/* Is ev a row or message of the catalog schema? */
static bool
in_catalog(const trib_event *ev)
{
	return ev->schema != NULL && strcmp(ev->schema, TRIB_CATALOG_SCHEMA) == 0;
}

bool
trib_erasure_data_row(const trib_event *ev)
{
	return ev->op != TRIB_OP_MESSAGE && !in_catalog(ev);
}

trib_erasure_result
trib_erasure_take(trib_erasure *er, trib_event *ev, char *errbuf, size_t errlen)
{
	bool		tx;

	if (trib_erasure_data_row(ev))
		return TRIB_ERASURE_NOT_OURS;	/* what the rules pool relies on */
	if (is_erasure_message(ev, &tx))
		return refuse_message(er, ev, tx, errbuf, errlen);
	if (!in_catalog(ev))
		return TRIB_ERASURE_NOT_OURS;
	/* the catalog is never data; only stream inserts may be requests */
	if (er->c == NULL || ev->op != TRIB_OP_CREATE || ev->table == NULL)
		return TRIB_ERASURE_CONSUMED;
	if (strcmp(ev->table, TRIB_ERASURE_REQUESTS) == 0)
		return handle_request(er, ev, errbuf, errlen);
	if (strcmp(ev->table, TRIB_ERASURE_KEYS) == 0)
		return take_key_row(er, ev, errbuf, errlen);
	return TRIB_ERASURE_CONSUMED;
}
