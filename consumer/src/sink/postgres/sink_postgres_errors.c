/*
 * sink_postgres_errors.c: the target's error messages as the PostgreSQL
 * sink logs them, without the row values they carry.
 *
 * A failed statement's error is logged, returned to the pipeline and
 * shown in /status.  PostgreSQL puts row values into several parts of it:
 * the DETAIL of a constraint violation ("Failing row contains (...)",
 * "Key (id)=(...) already exists"), the primary message of a data
 * exception (`invalid input syntax for type integer: "..."`, `value "..."
 * is out of range`), the CONTEXT ("JSON data, line 1: ...", a statement
 * of a trigger), and anything a function or trigger of the target raises
 * itself.  Unless the sink is told to log values (log_row_values), the
 * message is rebuilt from the result's fields:
 *
 *   primary   kept for the classes whose messages name only objects
 *             (integrity constraints, undefined or mismatched objects,
 *             transactions, connections, resources); withheld when a
 *             function raised it (P0, 38, 39, or a CONTEXT "at RAISE");
 *             otherwise everything from its first to its last double
 *             quote becomes "***" (PostgreSQL quotes a value it rejects,
 *             and does not escape quotes inside it, so the span is cut
 *             from the outermost quotes).
 *   DETAIL    "Failing row contains (***)."; "Key (columns)=(***)"; other
 *             details with their quoted spans cut as above, dropped when
 *             a '(' or '=' is left (a value list); withheld when raised.
 *   HINT      like a DETAIL.
 *   CONTEXT   dropped.
 *
 * A message that lost something says so, and how to see it all.  Errors
 * of catalog queries and DDL, which carry no row values, are not rebuilt.
 */
#include "sink_postgres_int.h"

#include <stdio.h>
#include <string.h>

#define REDACTED "***"

/* SQLSTATE classes whose primary messages name objects, never values. */
static const char *const object_classes[] = {
	"08", "0A", "23", "25", "40", "42", "53", "54", "55", "57", "58", NULL
};

/* True when the error was raised by code running in the target. */
static bool
raised_by_function(const trib_pgsink_errfields *f)
{
	const char *st = f->sqlstate ? f->sqlstate : "";

	return strncmp(st, "P0", 2) == 0 || strncmp(st, "38", 2) == 0 ||
		strncmp(st, "39", 2) == 0 || (f->context && strstr(f->context, " at RAISE"));
}

/* True when the class of sqlstate names objects only. */
static bool
object_class(const char *sqlstate)
{
	int			i;

	if (!sqlstate)
		return false;
	for (i = 0; object_classes[i]; i++)
		if (strncmp(sqlstate, object_classes[i], 2) == 0)
			return true;
	return false;
}

/* Append s with its first-to-last double-quoted span replaced; *cut set
 * when something was replaced. */
static void
add_cut_quotes(trib_strbuf *out, const char *s, bool *cut)
{
	const char *first = strchr(s, '"');
	const char *last = strrchr(s, '"');

	if (!first || last == first)
	{
		trib_strbuf_adds(out, s);
		return;
	}
	trib_strbuf_add(out, s, (size_t) (first - s));
	trib_strbuf_adds(out, "\"" REDACTED "\"");
	trib_strbuf_adds(out, last + 1);
	*cut = true;
}

/* Append a DETAIL or HINT without row values; *cut set when something
 * was left out. */
static void
add_safe_detail(trib_strbuf *out, const char *label, const char *d, bool *cut)
{
	const char *eq;
	trib_strbuf tmp = {0};

	trib_strbuf_printf(out, " %s:  ", label);
	if (strncmp(d, "Failing row contains", 20) == 0)
	{
		trib_strbuf_adds(out, "Failing row contains (" REDACTED ").");
		*cut = true;
		return;
	}
	if (strncmp(d, "Key (", 5) == 0 && (eq = strstr(d, ")=(")) != NULL)
	{
		trib_strbuf_add(out, d, (size_t) (eq - d));
		trib_strbuf_adds(out, ")=(" REDACTED ")");
		*cut = true;
		return;
	}
	add_cut_quotes(&tmp, d, cut);
	trib_strbuf_add(&tmp, "", 0);
	if (strpbrk(tmp.data, "(=") != NULL)
	{
		trib_strbuf_adds(out, "(withheld)");
		*cut = true;
	}
	else
		trib_strbuf_adds(out, tmp.data);
	trib_strbuf_free(&tmp);
}

/* The text of an error without row values (see the header comment). */
void
trib_pgsink_error_text(const trib_pgsink_errfields *f, trib_strbuf *out)
{
	bool		raised = raised_by_function(f);
	bool		cut = false;

	trib_strbuf_printf(out, "%s:  ", f->severity ? f->severity : "ERROR");
	if (raised)
	{
		trib_strbuf_adds(out, "(message withheld: raised by a function or trigger of the "
						 "target)");
		cut = true;
	}
	else if (object_class(f->sqlstate))
		trib_strbuf_adds(out, f->primary ? f->primary : "");
	else
		add_cut_quotes(out, f->primary ? f->primary : "", &cut);
	if (f->detail && *f->detail && raised)
		trib_strbuf_adds(out, " DETAIL:  (withheld)");
	else if (f->detail && *f->detail)
		add_safe_detail(out, "DETAIL", f->detail, &cut);
	if (f->hint && *f->hint && !raised)
		add_safe_detail(out, "HINT", f->hint, &cut);
	if (f->context && *f->context)
		cut = true;
	if (cut)
		trib_strbuf_adds(out, " (row values left out; `log_row_values: true` logs them)");
	trib_strbuf_add(out, "", 0);
}

/* Fill errbuf from a failed result, adding context; redact: without the
 * row values the message may carry. */
void
pgs_result_error(const PGresult *res, PGconn *conn, const char *what, bool redact,
				 char *errbuf, size_t errlen)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	trib_strbuf msg = {0};
	size_t		n;

	if (redact && primary)
	{
		trib_pgsink_errfields f = {
			.severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED),
			.sqlstate = state,
			.primary = primary,
			.detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
			.hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT),
			.context = PQresultErrorField(res, PG_DIAG_CONTEXT),
		};

		trib_pgsink_error_text(&f, &msg);
	}
	else
	{
		const char *m = res ? PQresultErrorMessage(res) : NULL;

		trib_strbuf_adds(&msg, m && *m ? m : PQerrorMessage(conn));
		trib_strbuf_add(&msg, "", 0);
	}
	snprintf(errbuf, errlen, "%s: %s%s%s%s", what, state ? "SQLSTATE " : "",
			 state ? state : "", state ? ": " : "", msg.data);
	trib_strbuf_free(&msg);
	for (n = 0; errbuf[n]; n++)
		if (errbuf[n] == '\n' || errbuf[n] == '\t')
			errbuf[n] = ' ';
	while (n > 0 && errbuf[n - 1] == ' ')
		errbuf[--n] = '\0';
}
