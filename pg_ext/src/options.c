/*-------------------------------------------------------------------------
 *
 * options.c
 *		Options of the tributary output plugin.
 *
 * Options arrive once, at startup, as a list of DefElem (pg_recvlogical -o,
 * START_REPLICATION (...) or the variadic arguments of the SQL functions).
 * All of them are parsed and validated here, before any change is decoded,
 * so that a typo is an ERROR naming the option and what it accepts rather
 * than a silently different stream.  A bare option means true.
 *
 * The table below is the single list of option names; the error hint for an
 * unknown option is built from it, and docs/PLUGIN.md documents each row.
 *
 * Table patterns are "schema.table" globs: '*' matches any run of
 * characters and '?' one character.  A part written in double quotes is
 * literal (use "" for a quote), so names containing dots, commas or
 * wildcard characters can still be selected exactly.
 *
 *-------------------------------------------------------------------------
 */
#include "tributary.h"

#include "access/xlogdefs.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "replication/walsender.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"

typedef struct TribOptDef
{
	const char *name;
	const char *accepted;		/* for error messages */
} TribOptDef;

static const TribOptDef option_table[] = {
	{"include-transaction", "a boolean"},
	{"skip-empty-xacts", "a boolean"},
	{"publish-via-root", "a boolean"},
	{"stream", "a boolean"},
	{"two-phase", "a boolean"},
	{"bytea-encoding", "base64 or hex"},
	{"actions", "a comma-separated list of insert, update, delete, truncate, message"},
	{"include-tables", "a comma-separated list of schema.table patterns"},
	{"exclude-tables", "a comma-separated list of schema.table patterns"},
	{"message-prefixes", "a comma-separated list of prefix patterns"},
	{"origin", "any or none"},
	{"resume-after", "an event id <commit lsn>[:<seq>], e.g. 0/16B3748:4"},
	{"batch-bytes", "an integer from 0 to 16777216 (0 sends one record per message)"},
	{"include-ddl", "a boolean"},
	{NULL, NULL}
};

/* Comma-joined list of every option name, for the unknown-option hint. */
static char *
option_names(void)
{
	StringInfoData buf;
	const TribOptDef *d;

	initStringInfo(&buf);
	for (d = option_table; d->name; d++)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", d->name);
	return buf.data;
}

/* Report a bad value for option `name`. */
static void pg_attribute_noreturn()
bad_value(const char *name, const char *value, const char *accepted)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("tributary: invalid value \"%s\" for option \"%s\"",
					value ? value : "", name),
			 errhint("Option \"%s\" accepts %s.", name, accepted)));
}

/* The accepted-values text of a known option. */
static const char *
accepted_for(const char *name)
{
	const TribOptDef *d;

	for (d = option_table; d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d->accepted;
	return "";
}

/* Value of a DefElem as a string; NULL for a bare option. */
static char *
def_string(DefElem *elem)
{
	if (elem->arg == NULL)
		return NULL;
	return strVal(elem->arg);
}

/* Parse a boolean option; bare means true. */
static bool
parse_bool_opt(DefElem *elem)
{
	char	   *v = def_string(elem);
	bool		result;

	if (v == NULL)
		return true;
	if (!parse_bool(v, &result))
		bad_value(elem->defname, v, accepted_for(elem->defname));
	return result;
}

/*
 * Split a comma-separated list, honouring double quotes (a comma inside
 * quotes does not split).  Items are trimmed; empty items are an error.
 */
static List *
split_list(const char *optname, const char *value)
{
	List	   *result = NIL;
	StringInfoData item;
	const char *p = value;
	bool		inquote = false;

	initStringInfo(&item);
	for (;; p++)
	{
		if (*p == '"')
			inquote = !inquote;
		if (*p == '\0' || (*p == ',' && !inquote))
		{
			char	   *s = item.data;
			int			len = item.len;

			while (len > 0 && isspace((unsigned char) s[len - 1]))
				len--;
			while (len > 0 && isspace((unsigned char) *s))
			{
				s++;
				len--;
			}
			if (len == 0)
				bad_value(optname, value, accepted_for(optname));
			result = lappend(result, pnstrdup(s, len));
			resetStringInfo(&item);
			if (*p == '\0')
				break;
			continue;
		}
		appendStringInfoChar(&item, *p);
	}
	if (inquote)
		bad_value(optname, value, accepted_for(optname));
	return result;
}

/*
 * Parse one part of a table pattern starting at *pp, up to an unquoted dot
 * or the end.  A fully quoted part is literal.
 */
static char *
parse_pattern_part(const char **pp, bool *literal, bool *ok)
{
	const char *p = *pp;
	StringInfoData buf;

	initStringInfo(&buf);
	*literal = false;
	*ok = true;
	if (*p == '"')
	{
		*literal = true;
		p++;
		for (;;)
		{
			if (*p == '\0')
			{
				*ok = false;
				break;
			}
			if (*p == '"')
			{
				if (p[1] == '"')
				{
					appendStringInfoChar(&buf, '"');
					p += 2;
					continue;
				}
				p++;
				break;
			}
			appendStringInfoChar(&buf, *p++);
		}
		if (*p != '\0' && *p != '.')
			*ok = false;
	}
	else
	{
		while (*p && *p != '.')
		{
			if (*p == '"')
				*ok = false;
			appendStringInfoChar(&buf, *p++);
		}
	}
	if (buf.len == 0)
		*ok = false;
	*pp = p;
	return buf.data;
}

/* Parse include-tables / exclude-tables into TribTablePattern items. */
static List *
parse_table_patterns(const char *optname, const char *value)
{
	List	   *items = split_list(optname, value);
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, items)
	{
		const char *item = lfirst(lc);
		const char *p = item;
		TribTablePattern *pat = palloc0(sizeof(TribTablePattern));
		bool		ok1,
					ok2;

		pat->schema = parse_pattern_part(&p, &pat->schema_literal, &ok1);
		if (*p != '.')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tributary: invalid table pattern \"%s\" in option \"%s\"",
							item, optname),
					 errhint("Write each pattern as schema.table, e.g. public.orders, public.*, \"My.Schema\".\"T\"; '*' and '?' are wildcards outside quotes.")));
		p++;
		pat->table = parse_pattern_part(&p, &pat->table_literal, &ok2);
		if (!ok1 || !ok2 || *p != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tributary: invalid table pattern \"%s\" in option \"%s\"",
							item, optname),
					 errhint("Write each pattern as schema.table, e.g. public.orders, public.*, \"My.Schema\".\"T\"; '*' and '?' are wildcards outside quotes.")));
		result = lappend(result, pat);
	}
	return result;
}

/* Parse actions=insert,update,... into TRIB_ACT_* bits. */
static int
parse_actions(const char *value)
{
	List	   *items = split_list("actions", value);
	ListCell   *lc;
	int			bits = 0;

	foreach(lc, items)
	{
		const char *a = lfirst(lc);

		if (pg_strcasecmp(a, "insert") == 0)
			bits |= TRIB_ACT_INSERT;
		else if (pg_strcasecmp(a, "update") == 0)
			bits |= TRIB_ACT_UPDATE;
		else if (pg_strcasecmp(a, "delete") == 0)
			bits |= TRIB_ACT_DELETE;
		else if (pg_strcasecmp(a, "truncate") == 0)
			bits |= TRIB_ACT_TRUNCATE;
		else if (pg_strcasecmp(a, "message") == 0)
			bits |= TRIB_ACT_MESSAGE;
		else
			bad_value("actions", a, accepted_for("actions"));
	}
	return bits;
}

/*
 * Parse resume-after=<lsn>[:<seq>].  A bare LSN means the whole transaction
 * committed at that LSN was processed.
 */
static void
parse_resume_after(TribOptions *opts, const char *value)
{
	const char *colon = strchr(value, ':');
	char	   *lsnstr = colon ? pnstrdup(value, colon - value) : pstrdup(value);
	bool		have_error = false;
	XLogRecPtr	lsn;

	lsn = pg_lsn_in_internal(lsnstr, &have_error);
	if (have_error || lsn == InvalidXLogRecPtr)
		bad_value("resume-after", value, accepted_for("resume-after"));
	opts->resume_lsn = lsn;
	opts->resume_seq = PG_INT64_MAX;
	if (colon)
	{
		const char *s = colon + 1;
		char	   *end;
		long long	seq;

		if (*s == '\0' || !isdigit((unsigned char) *s))
			bad_value("resume-after", value, accepted_for("resume-after"));
		errno = 0;
		seq = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0' || seq < 0)
			bad_value("resume-after", value, accepted_for("resume-after"));
		opts->resume_seq = seq;
	}
}

/* Fill *opts from the client's options, with defaults for the rest. */
void
trib_options_parse(TribOptions *opts, List *defels)
{
	ListCell   *lc;

	memset(opts, 0, sizeof(*opts));
	opts->include_transaction = true;
	opts->bytea_encoding = TRIB_BYTEA_BASE64;
	opts->actions = TRIB_ACT_ALL;
	opts->resume_lsn = InvalidXLogRecPtr;
	opts->resume_seq = PG_INT64_MAX;
	/* Batch in a walsender; one record per row for the SQL functions. */
	opts->batch_bytes = am_walsender ? TRIB_DEFAULT_BATCH_BYTES : 0;

	foreach(lc, defels)
	{
		DefElem    *elem = lfirst(lc);
		const char *name = elem->defname;
		char	   *v = def_string(elem);

		Assert(elem->arg == NULL || IsA(elem->arg, String));

		if (strcmp(name, "include-transaction") == 0)
			opts->include_transaction = parse_bool_opt(elem);
		else if (strcmp(name, "skip-empty-xacts") == 0)
			opts->skip_empty_xacts = parse_bool_opt(elem);
		else if (strcmp(name, "publish-via-root") == 0)
			opts->publish_via_root = parse_bool_opt(elem);
		else if (strcmp(name, "stream") == 0)
			opts->stream = parse_bool_opt(elem);
		else if (strcmp(name, "two-phase") == 0)
			opts->two_phase = parse_bool_opt(elem);
		else if (strcmp(name, "include-ddl") == 0)
			opts->include_ddl = parse_bool_opt(elem);
		else if (strcmp(name, "bytea-encoding") == 0)
		{
			if (v && pg_strcasecmp(v, "base64") == 0)
				opts->bytea_encoding = TRIB_BYTEA_BASE64;
			else if (v && pg_strcasecmp(v, "hex") == 0)
				opts->bytea_encoding = TRIB_BYTEA_HEX;
			else
				bad_value(name, v, accepted_for(name));
		}
		else if (strcmp(name, "origin") == 0)
		{
			if (v && pg_strcasecmp(v, "any") == 0)
				opts->origin_none = false;
			else if (v && pg_strcasecmp(v, "none") == 0)
				opts->origin_none = true;
			else
				bad_value(name, v, accepted_for(name));
		}
		else if (v == NULL &&
				 (strcmp(name, "actions") == 0 ||
				  strcmp(name, "include-tables") == 0 ||
				  strcmp(name, "exclude-tables") == 0 ||
				  strcmp(name, "message-prefixes") == 0 ||
				  strcmp(name, "batch-bytes") == 0 ||
				  strcmp(name, "resume-after") == 0))
			bad_value(name, v, accepted_for(name));
		else if (strcmp(name, "actions") == 0)
			opts->actions = parse_actions(v);
		else if (strcmp(name, "include-tables") == 0)
			opts->include_tables = parse_table_patterns(name, v);
		else if (strcmp(name, "exclude-tables") == 0)
			opts->exclude_tables = parse_table_patterns(name, v);
		else if (strcmp(name, "message-prefixes") == 0)
			opts->message_prefixes = split_list(name, v);
		else if (strcmp(name, "resume-after") == 0)
			parse_resume_after(opts, v);
		else if (strcmp(name, "batch-bytes") == 0)
		{
			char	   *end;
			long		n;

			errno = 0;
			n = strtol(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0' || n < 0 || n > 16777216)
				bad_value(name, v, accepted_for(name));
			opts->batch_bytes = (int) n;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tributary: unrecognized option \"%s\"", name),
					 errhint("Accepted options: %s.", option_names())));
	}
}

/*
 * Glob match: '*' any run, '?' one character; literal disables wildcards.
 * Iterative with single-star backtracking, so it is linear in practice.
 */
bool
trib_glob_match(const char *pattern, const char *s, bool literal)
{
	const char *star = NULL;
	const char *resume = NULL;

	if (literal)
		return strcmp(pattern, s) == 0;
	while (*s)
	{
		if (*pattern == '*')
		{
			star = pattern++;
			resume = s;
		}
		else if (*pattern == '?' || *pattern == *s)
		{
			pattern++;
			s++;
		}
		else if (star)
		{
			pattern = star + 1;
			s = ++resume;
		}
		else
			return false;
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

/* Does any pattern of the list match schema.table? */
static bool
patterns_match(List *patterns, const char *schema, const char *table)
{
	ListCell   *lc;

	foreach(lc, patterns)
	{
		TribTablePattern *p = lfirst(lc);

		if (trib_glob_match(p->schema, schema, p->schema_literal) &&
			trib_glob_match(p->table, table, p->table_literal))
			return true;
	}
	return false;
}

/* Is the table published under include-tables and exclude-tables? */
bool
trib_table_selected(const TribOptions *opts, const char *schema,
					const char *table)
{
	if (opts->include_tables != NIL &&
		!patterns_match(opts->include_tables, schema, table))
		return false;
	if (opts->exclude_tables != NIL &&
		patterns_match(opts->exclude_tables, schema, table))
		return false;
	return true;
}

/* Is a logical message with this prefix selected by message-prefixes? */
bool
trib_prefix_selected(const TribOptions *opts, const char *prefix)
{
	ListCell   *lc;

	if (opts->message_prefixes == NIL)
		return true;
	foreach(lc, opts->message_prefixes)
		if (trib_glob_match(lfirst(lc), prefix, false))
			return true;
	return false;
}
