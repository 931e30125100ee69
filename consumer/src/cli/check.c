/*
 * check.c: the connected part of `tributary check` (see check.h).
 *
 * Design.  This file knows no source or sink type.  Each source reports
 * through its own optional check() operation (source.h) under a heading
 * printed here, and records in the report the tables it would capture;
 * the PostgreSQL source's is source/pg/pg_check.c.  Strict mode's lines
 * under each table come from here, through the report's on_table hook,
 * since the rules are the transforms' (rules.h).  Then the rules are
 * checked against the recorded columns; the pipeline lock, when the first
 * source keeps it in its own server (leader.h), says whether it is free
 * or who holds it; the checkpoint store and the
 * erasure section (the pipeline's own) and the schema stage report
 * through their modules (pipeline/checkpoint_check.c, erasure_check.c,
 * schema/schema_check.c), and each sink reports
 * through its own optional check() operation (sink.h), in its folder,
 * found through its registered type;
 * the Postgres sink's check looks for the recorded tables in its target
 * schema.  Every error text goes through trib_log_redact(), which masks
 * what the config registered as secret (passwords of every dsn, secret
 * Kafka properties); connection strings themselves are never printed,
 * only host, port and database of an established connection.
 */
#include "check.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check_report.h"
#include "checkpoint.h"
#include "erasure.h"
#include "jpath.h"
#include "leader.h"
#include "log.h"
#include "registry.h"
#include "rules.h"
#include "schema_stage.h"
#include "sink.h"
#include "snapshot_tables.h"
#include "source.h"
#include "strbuf.h"

typedef struct check_ctx
{
	trib_check_report rep;		/* lines, problems, captured tables */
	const trib_config *cfg;
	trib_rules *rules;			/* strict mode: which columns have a rule */
	int			bad_rules;		/* rules naming columns no table has */
} check_ctx;

/* One line of the report, redacted. */
__attribute__((format(printf, 2, 3)))
static void
say(check_ctx *c, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	trib_check_report_vsay(&c->rep, fmt, ap);
	va_end(ap);
}

/* ---- sources ------------------------------------------------------------ */

/* See check.h: the PostgreSQL source's pattern rules (snapshot_tables.h). */
bool
trib_check_pattern_match(const char *pattern, const char *schema, const char *table)
{
	bool		bad = false;

	return trib_snaptab_pattern_match(pattern, schema, table, &bad);
}

/* Strict mode, under each captured table a source lists (the report's
 * on_table hook): the columns no rule decides about. */
static void
strict_report(trib_check_report *rep, void *arg, const char *source, const char *schema,
			  const char *table, const char *names)
{
	check_ctx  *c = arg;
	trib_strbuf missing = {0};
	char	   *copy;
	int			n = 0;

	if (c->rules == NULL || !c->cfg->strict)
		return;
	copy = trib_xstrdup(names);
	for (char *save = NULL, *col = strtok_r(copy, "\x1f", &save); col;
		 col = strtok_r(NULL, "\x1f", &save))
		if (!trib_rules_covers(c->rules, source, schema, table, col))
		{
			trib_strbuf_printf(&missing, "%s%s", n++ ? ", " : "", col);
		}
	if (n > 0)
	{
		say(c, "      strict: no rule decides about %d column(s): %s (they would be "
			"replaced by null; add allow, drop or a strategy)", n, missing.data);
		rep->problems++;
	}
	else
		say(c, "      strict: every column has a rule");
	trib_strbuf_free(&missing);
	free(copy);
}

/* A source's heading, then whatever its own check() reports (source.h). */
static void
check_source(check_ctx *c, const trib_source_conf *s)
{
	say(c, "source %s (%s)", s->name, s->type_name);
	if (s->plugin->source_ops->check != NULL)
		s->plugin->source_ops->check(s, c->cfg->erasure.targets.count > 0, &c->rep);
}

/* The pipeline lock, when the first source keeps it in its own server
 * (source.h leader(); MySQL's GET_LOCK): free, or held by whom.  Held is
 * no problem (run would wait as standby); unreachable is. */
static void
check_lock(check_ctx *c)
{
	const trib_source_conf *s = &c->cfg->sources[0];
	trib_leader *l;
	char		buf[768];
	int			rc;

	if (s->plugin->source_ops->leader == NULL ||
		(l = s->plugin->source_ops->leader(s, c->cfg->pipeline)) == NULL)
		return;
	rc = trib_leader_probe(l, buf, sizeof(buf));
	say(c, "pipeline lock (%s): %s%s", trib_leader_kind(l), rc < 0 ? "cannot be read: " : "",
		buf);
	if (rc < 0)
		c->rep.problems++;
	trib_leader_free(l);
}

/* ---- sinks ------------------------------------------------------------- */

/* A sink's heading, then whatever its own check() reports (sink.h). */
static void
check_sink(check_ctx *c, const trib_sink_conf *s)
{
	say(c, "sink %s (%s)", s->name, s->type_name);
	if (s->plugin->sink_ops->check != NULL)
		s->plugin->sink_ops->check(s, &c->rep);
}

/* Does some captured table the rule selects have a column matching the
 * path's first segment? */
static bool
column_exists(check_ctx *c, size_t rule, const char *path)
{
	trib_jpath	p;
	char		e[256];
	bool		found = false;

	if (!trib_jpath_parse(path, &p, e, sizeof(e)))
		return true;			/* the loader reported it */
	for (size_t t = 0; t < c->rep.ntables && !found; t++)
	{
		char	   *cols;

		if (!trib_rules_selects(c->rules, rule, c->rep.tables[t].source, c->rep.tables[t].schema,
								c->rep.tables[t].table))
			continue;
		cols = trib_xstrdup(c->rep.tables[t].columns);
		for (char *save = NULL, *col = strtok_r(cols, "\x1f", &save); col && !found;
			 col = strtok_r(NULL, "\x1f", &save))
			found = trib_jpath_first_matches(&p, col);
		free(cols);
	}
	trib_jpath_free(&p);
	return found;
}

/*
 * Rules naming a column that no captured table they select has: a typo
 * that would silently do nothing (or leak, for a masking rule).  These are
 * configuration errors: `check` exits 2.
 */
static void
check_rule_columns(check_ctx *c)
{
	const trib_config *cfg = c->cfg;

	if (c->rules == NULL || !c->rep.tables_known || cfg->nrules == 0)
		return;
	for (size_t i = 0; i < cfg->nrules; i++)
	{
		const trib_rule_conf *r = &cfg->rules[i];
		const char *one[1] = {r->by};
		const trib_strlist *lists[2] = {&r->fields, &r->params};

		if (r->type == TRIB_RULE_OUTBOX || r->type == TRIB_RULE_KEEP)
			continue;
		for (int l = 0; l < 2; l++)
			for (size_t j = 0; j < lists[l]->count; j++)
				if (!column_exists(c, i, lists[l]->items[j]))
				{
					fprintf(c->rep.out, "%s:%d:%d: transforms[%zu].%s: no captured table the rule "
							"selects has a column \"%s\" (the rule would do nothing)\n",
							cfg->path, r->line, r->column, i, l == 0 ? "fields" : "params",
							lists[l]->items[j]);
					c->bad_rules++;
				}
		if (one[0] && !column_exists(c, i, one[0]))
		{
			fprintf(c->rep.out, "%s:%d:%d: transforms[%zu].by: no captured table the rule selects "
					"has a column \"%s\"\n", cfg->path, r->line, r->column, i, one[0]);
			c->bad_rules++;
		}
	}
}

int
trib_check_connected(const trib_config *cfg, FILE *out, int *bad_rules)
{
	check_ctx	c = {.rep = {.out = out, .on_table = strict_report}, .cfg = cfg};
	char		e[512];

	c.rep.on_table_arg = &c;

	if (cfg->strict || cfg->nrules > 0)
		c.rules = trib_rules_new(cfg, NULL, e, sizeof(e));
	for (size_t i = 0; i < cfg->nsources; i++)
		check_source(&c, &cfg->sources[i]);
	if (cfg->nsources > 0)
		check_lock(&c);
	check_rule_columns(&c);
	if (bad_rules)
		*bad_rules = c.bad_rules;
	trib_checkpoint_check(cfg, &c.rep);
	trib_schema_check(cfg, &c.rep);
	for (size_t i = 0; i < cfg->nsinks; i++)
		check_sink(&c, &cfg->sinks[i]);
	trib_erasure_check(&cfg->erasure, &c.rep);
	trib_check_report_free(&c.rep);
	trib_rules_free(c.rules);
	return c.rep.problems;
}
