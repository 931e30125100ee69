/*
 * lineage_graph.c: one relation's column-level lineage, derived from the
 * compiled pipeline (lineage.h), as the JSON lineage_record takes.
 *
 * Design.  The rules that select the relation are replayed in file order
 * over a model of its columns, not over data: each column keeps the name
 * it has now (rename), whether it is gone (drop, keep), and the rules
 * that changed its values (the first masking one, else the last value
 * rule: one edge per pair of fields, so a masked path stays masked when a
 * cast follows the hash).  Rules that add a field (compute, aggregate,
 * lookup) add one with its inputs; rules that decide about whole rows
 * (filter, sample, quality with drop or dead_letter, route, outbox, map)
 * add INDIRECT edges from the fields they read to the target datasets.
 * A Lua expression's inputs are found statically (lineage_lua.c); when
 * they cannot all be, the edge comes from the whole source dataset and
 * carries "inputs": "dynamic", and the columns the rule was seen reading
 * at run time (lineage_trace.c) get edges marked "inputs": "runtime".
 *
 * Then every sink but the dead-letter one gets the surviving fields:
 *   read   source dataset -> job;  write  job -> each target dataset;
 *   derive source field -> target field (IDENTITY, or TRANSFORMATION
 *          with its rule), and the rows' INDIRECT edges.
 * The dead-letter sink is a dataset too: written by the job, fed
 * INDIRECT/CONDITIONAL by the source dataset (the rows rules reject), and,
 * when its records carry the original images, by every source field
 * DIRECT/IDENTITY (unmasked).
 * Every dataset and edge carries "relation": the fragment's key, so a
 * stored document can be told apart by relation.
 *
 * JSON is written with trib_jdoc_quote (lib/jsondoc.c); no value comes
 * from row data, only from names in the config and the relation.
 */
#include "lineage.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "strbuf.h"
#include "xalloc.h"

#define NAME_LEN 1024

/* A column of the relation as the rules leave it. */
typedef struct col_model
{
	const char *src;			/* the source's name */
	const char *type;			/* the source's type */
	char	   *out;			/* its name now; NULL once dropped */
	const char *out_type;
	bool		pk;
	int			mask_rule;		/* first masking rule, or -1 */
	int			value_rule;		/* last value-changing rule, or -1 */
	int			rename_rule;	/* last rename, or -1 */
} col_model;

/* An edge from inputs (source columns; none and dynamic: the dataset) to
 * a new field (`field`) or to the target datasets (field NULL). */
typedef struct flow
{
	const char *field;			/* a new field's name, or NULL: rows */
	const char *field_type;
	char	  **inputs;			/* source column names */
	size_t		ninputs;
	bool		dynamic;
	char	  **traced;			/* dynamic Lua: columns seen read at run time */
	size_t		ntraced;
	int			rule;
	const char *type;			/* DIRECT / INDIRECT */
	const char *subtype;
} flow;

typedef struct model
{
	const trib_config *cfg;
	col_model  *cols;
	int			ncols;
	flow	   *flows;
	size_t		nflows;
	char	   *route;			/* a route or outbox topic, or NULL */
	bool		outbox;			/* the rows become outbox events */
	const trib_lineage_trace *trace;	/* run-time Lua inputs, or NULL */
	const char *key;			/* the relation's key */
} model;

/* The first segment of a field path (up to an unescaped dot), malloc'd. */
static char *
first_segment(const char *path)
{
	trib_strbuf b = {0};

	for (const char *p = path; *p && *p != '.'; p++)
	{
		if (*p == '\\' && p[1] != '\0')
			p++;
		trib_strbuf_addc(&b, *p);
	}
	return trib_strbuf_finish(&b);
}

/* Does the rule's `fields` list reach column name `name`? */
static bool
fields_match(const trib_strlist *fields, const char *name)
{
	for (size_t i = 0; i < fields->count; i++)
	{
		char	   *seg = first_segment(fields->items[i]);
		bool		hit = fnmatch(seg, name, 0) == 0;

		free(seg);
		if (hit)
			return true;
	}
	return false;
}

/* The source column now named `name`, or NULL. */
static col_model *
col_now(model *m, const char *name)
{
	for (int i = 0; i < m->ncols; i++)
		if (m->cols[i].out != NULL && strcmp(m->cols[i].out, name) == 0)
			return &m->cols[i];
	return NULL;
}

/* A new flow of rule i. */
static flow *
add_flow(model *m, int rule, const char *type, const char *subtype)
{
	flow	   *f;

	m->flows = trib_xadd_zeroed(m->flows, m->nflows, sizeof(flow));
	f = &m->flows[m->nflows++];
	f->rule = rule;
	f->type = type;
	f->subtype = subtype;
	return f;
}

/* Add the source column now called `name` to the list (once). */
static void
add_column(model *m, char ***list, size_t *n, const char *name)
{
	col_model  *c = col_now(m, name);

	if (c == NULL)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*list)[i], c->src) == 0)
			return;
	*list = trib_xrealloc(*list, (*n + 1) * sizeof(char *));
	(*list)[(*n)++] = trib_xstrdup(c->src);
}

/* Add the source column now called `name` to f's inputs (once). */
static void
flow_input(model *m, flow *f, const char *name)
{
	add_column(m, &f->inputs, &f->ninputs, name);
}

/* A dynamic Lua flow: the columns its rule was seen reading at run time
 * (every column when it read a whole image). */
static void
flow_traced(model *m, flow *f)
{
	char	   *const *names;
	bool		all;
	size_t		n = trib_lineage_trace_fields(m->trace, m->key, f->rule, &names, &all);

	for (size_t i = 0; i < n; i++)
		add_column(m, &f->traced, &f->ntraced, names[i]);
	for (int i = 0; all && i < m->ncols; i++)
		if (m->cols[i].out != NULL)
			add_column(m, &f->traced, &f->ntraced, m->cols[i].out);
}

/* Every column the rule's `fields` reach, as inputs of f. */
static void
flow_fields(model *m, flow *f, const trib_strlist *fields)
{
	for (int i = 0; i < m->ncols; i++)
		if (m->cols[i].out != NULL && fields_match(fields, m->cols[i].out))
			flow_input(m, f, m->cols[i].out);
}

/* A Lua expression's inputs into f (dynamic when not all are static). */
static void
flow_lua(model *m, flow *f, const char *lua)
{
	char	  **names = NULL;
	size_t		n = 0;

	f->dynamic = !trib_lineage_lua_inputs(lua, &names, &n);
	for (size_t i = 0; i < n; i++)
	{
		flow_input(m, f, names[i]);
		free(names[i]);
	}
	free(names);
	if (f->dynamic)
		flow_traced(m, f);
}

/* The ${after.X}, ${before.X} and ${key.X} fields of a template. */
static void
flow_template(model *m, flow *f, const char *tpl)
{
	static const char *const img[] = {"${after.", "${before.", "${key.", NULL};

	for (const char *p = tpl; p && (p = strstr(p, "${")) != NULL; p += 2)
		for (int k = 0; img[k]; k++)
			if (strncmp(p, img[k], strlen(img[k])) == 0)
			{
				const char *s = p + strlen(img[k]);
				char	   *name = trib_xstrndup(s, strcspn(s, ".}"));

				flow_input(m, f, name);
				free(name);
			}
}

/* A template with ${source}, ${db}, ${schema} and ${table} replaced and
 * the row's placeholders kept as written; malloc'd. */
static char *
expand_static(const char *tpl, const trib_event *ev)
{
	static const char *const vars[] = {"${source}", "${db}", "${schema}", "${table}", NULL};
	trib_strbuf b = {0};

	for (const char *p = tpl; *p;)
	{
		int			k;

		for (k = 0; vars[k] && strncmp(p, vars[k], strlen(vars[k])) != 0; k++)
			;
		if (vars[k] == NULL)
		{
			trib_strbuf_addc(&b, *p++);
			continue;
		}
		trib_strbuf_adds(&b, (k == 0 ? ev->source : k == 1 ? ev->db
							  : k == 2 ? ev->schema : ev->table) ?: "");
		p += strlen(vars[k]);
	}
	return trib_strbuf_finish(&b);
}

/* A rule that changes values (or types) of the fields it reaches. */
static void
apply_value_rule(model *m, int i, const trib_rule_conf *rc)
{
	for (int k = 0; k < m->ncols; k++)
	{
		col_model  *c = &m->cols[k];

		if (c->out == NULL || !fields_match(&rc->fields, c->out))
			continue;
		if (trib_rule_masks(rc->type) && c->mask_rule < 0)
			c->mask_rule = i;
		c->value_rule = i;
		if (rc->type == TRIB_RULE_CAST)
			c->out_type = (const char *const[]) {"text", "bigint", "numeric", "boolean"}[rc->to];
		else if (trib_rule_masks(rc->type))
			c->out_type = "text";
	}
}

/* A rule that adds field `name` of type `type` from its inputs. */
static flow *
new_field(model *m, int i, const char *name, const char *type, const char *t, const char *st)
{
	flow	   *f = add_flow(m, i, t, st);

	f->field = name;
	f->field_type = type;
	return f;
}

/* Replay rule i on the model. */
static void
apply_rule(model *m, int i, const trib_rule_conf *rc, const trib_event *ev)
{
	flow	   *f;

	switch (rc->type)
	{
		case TRIB_RULE_DROP:
		case TRIB_RULE_KEEP:
			for (int k = 0; k < m->ncols; k++)
				if (m->cols[k].out != NULL &&
					fields_match(&rc->fields, m->cols[k].out) == (rc->type == TRIB_RULE_DROP) &&
					!(rc->type == TRIB_RULE_KEEP && m->cols[k].pk))
				{
					free(m->cols[k].out);
					m->cols[k].out = NULL;
				}
			for (size_t k = 0; k < m->nflows; k++)
				if (rc->type == TRIB_RULE_DROP && m->flows[k].field != NULL &&
					fields_match(&rc->fields, m->flows[k].field))
					m->flows[k].field = "";
			break;
		case TRIB_RULE_RENAME:
			for (int k = 0; k < m->ncols; k++)
			{
				const char *to = m->cols[k].out ? trib_config_kvlist_get(&rc->renames, m->cols[k].out) : NULL;

				if (to == NULL)
					continue;
				free(m->cols[k].out);
				m->cols[k].out = trib_xstrdup(to);
				m->cols[k].rename_rule = i;
			}
			break;
		case TRIB_RULE_SAMPLE:
			f = add_flow(m, i, "INDIRECT", "FILTER");
			if (rc->by != NULL)
				flow_input(m, f, rc->by);
			else
				for (int k = 0; k < m->ncols; k++)
					if (m->cols[k].pk && m->cols[k].out)
						flow_input(m, f, m->cols[k].out);
			break;
		case TRIB_RULE_FILTER:
			flow_lua(m, add_flow(m, i, "INDIRECT", "FILTER"), rc->lua);
			break;
		case TRIB_RULE_QUALITY:
			if (rc->action != TRIB_ACTION_DROP && rc->action != TRIB_ACTION_DEAD_LETTER)
				break;
			f = add_flow(m, i, "INDIRECT", "FILTER");
			flow_fields(m, f, &rc->fields);
			if (rc->check == TRIB_CHECK_LUA && rc->lua)
				flow_lua(m, f, rc->lua);
			break;
		case TRIB_RULE_ROUTE:
			f = add_flow(m, i, "INDIRECT", "CONDITIONAL");
			free(m->route);
			if (rc->lua != NULL)
			{
				flow_lua(m, f, rc->lua);
				m->route = trib_xstrdup("${lua}");
			}
			else
			{
				flow_template(m, f, rc->topic);
				m->route = expand_static(rc->topic, ev);
			}
			break;
		case TRIB_RULE_OUTBOX:
			f = add_flow(m, i, "INDIRECT", "CONDITIONAL");
			flow_input(m, f, rc->aggregate_type_field ? rc->aggregate_type_field : "aggregatetype");
			flow_template(m, f, rc->topic);
			f = add_flow(m, i, "DIRECT", "IDENTITY");
			flow_input(m, f, rc->payload_field ? rc->payload_field : "payload");
			flow_input(m, f, rc->aggregate_id_field ? rc->aggregate_id_field : "aggregateid");
			free(m->route);
			m->route = expand_static(rc->topic ? rc->topic : "outbox.event.${after.aggregatetype}", ev);
			m->outbox = true;
			break;
		case TRIB_RULE_AGGREGATE:
			flow_fields(m, new_field(m, i, rc->field, "numeric", "DIRECT", "AGGREGATION"),
						&rc->fields);
			break;
		case TRIB_RULE_LOOKUP:
			f = new_field(m, i, rc->into, "jsonb", "INDIRECT", "JOIN");
			for (size_t k = 0; k < rc->params.count; k++)
			{
				char	   *seg = first_segment(rc->params.items[k]);

				flow_input(m, f, seg);
				free(seg);
			}
			break;
		case TRIB_RULE_COMPUTE:
			flow_lua(m, new_field(m, i, rc->field, rc->column_type ? rc->column_type : "text",
								  "DIRECT", "TRANSFORMATION"), rc->lua);
			break;
		case TRIB_RULE_MAP:
			flow_lua(m, add_flow(m, i, "DIRECT", "TRANSFORMATION"), rc->lua);
			if (!m->flows[m->nflows - 1].dynamic)
				flow_traced(m, &m->flows[m->nflows - 1]);
			m->flows[m->nflows - 1].dynamic = true;
			break;
		case TRIB_RULE_FLATTEN:
		case TRIB_RULE_ALLOW:
			break;
		default:
			apply_value_rule(m, i, rc);
			break;
	}
}

/* {"namespace": ns, "name": name[, "field": field]} into b. */
static void
add_ref(trib_strbuf *b, const char *ns, const char *name, const char *field)
{
	trib_strbuf_adds(b, "{\"namespace\":");
	trib_jdoc_quote(b, ns);
	trib_strbuf_adds(b, ",\"name\":");
	trib_jdoc_quote(b, name);
	if (field != NULL)
	{
		trib_strbuf_adds(b, ",\"field\":");
		trib_jdoc_quote(b, field);
	}
	trib_strbuf_addc(b, '}');
}

/* Begin one more item of a comma-separated list. */
static void
item(trib_strbuf *b)
{
	if (b->len > 0)
		trib_strbuf_addc(b, ',');
}

/* The tail every element carries: the relation's key, then '}'. */
static void
close_item(trib_strbuf *b, const char *key)
{
	trib_strbuf_adds(b, ",\"relation\":");
	trib_jdoc_quote(b, key);
	trib_strbuf_addc(b, '}');
}

/* One derive edge; rule < 0: none; inputs: "dynamic", "runtime" or NULL. */
static void
add_derive(trib_strbuf *b, const model *m, const char *key,
		   const char *fns, const char *fname, const char *ffield,
		   const char *tns, const char *tname, const char *tfield,
		   const char *type, const char *subtype, int rule, const char *inputs)
{
	item(b);
	trib_strbuf_adds(b, "{\"kind\":\"derive\",\"from\":");
	add_ref(b, fns, fname, ffield);
	trib_strbuf_adds(b, ",\"to\":");
	add_ref(b, tns, tname, tfield);
	trib_strbuf_printf(b, ",\"type\":\"%s\",\"subtype\":\"%s\"", type, subtype);
	if (rule >= 0)
	{
		trib_strbuf_adds(b, ",\"rule\":");
		trib_jdoc_quote(b, m->cfg->rules[rule].name);
	}
	if (inputs != NULL)
		trib_strbuf_printf(b, ",\"inputs\":\"%s\"", inputs);
	close_item(b, key);
}

/* Which fields a dataset lists: the source's, the targets' (as the rules
 * leave them), or none (a dead-letter sink without row images). */
typedef enum ds_fields
{
	DS_TARGET = 0,
	DS_SOURCE = 1,
	DS_NONE = 2
} ds_fields;

/* A dataset with its fields (fields: only when the shape is known). */
static void
add_dataset(trib_strbuf *b, const model *m, const char *key, const char *ns,
			const char *name, const char *type, ds_fields which)
{
	bool		first = true;
	bool		source = which == DS_SOURCE;
	int			ncols = which == DS_NONE ? 0 : m->ncols;
	size_t		nflows = which == DS_NONE ? 0 : m->nflows;

	item(b);
	trib_strbuf_adds(b, "{\"namespace\":");
	trib_jdoc_quote(b, ns);
	trib_strbuf_adds(b, ",\"name\":");
	trib_jdoc_quote(b, name);
	trib_strbuf_printf(b, ",\"type\":\"%s\",\"fields\":[", type);
	for (int k = 0; k < ncols && (source || !m->outbox); k++)
	{
		const col_model *c = &m->cols[k];

		if (!source && c->out == NULL)
			continue;
		trib_strbuf_adds(b, first ? "{\"name\":" : ",{\"name\":");
		trib_jdoc_quote(b, source ? c->src : c->out);
		trib_strbuf_adds(b, ",\"type\":");
		trib_jdoc_quote(b, source ? c->type : c->out_type);
		trib_strbuf_addc(b, '}');
		first = false;
	}
	for (size_t k = 0; k < nflows && !source && !m->outbox; k++)
		if (m->flows[k].field != NULL && m->flows[k].field[0] != '\0')
		{
			trib_strbuf_adds(b, first ? "{\"name\":" : ",{\"name\":");
			trib_jdoc_quote(b, m->flows[k].field);
			trib_strbuf_adds(b, ",\"type\":");
			trib_jdoc_quote(b, m->flows[k].field_type);
			trib_strbuf_addc(b, '}');
			first = false;
		}
	trib_strbuf_addc(b, ']');
	close_item(b, key);
}

/* The field edges from the source (sns, sname) into one target. */
static void
target_edges(trib_strbuf *e, const model *m, const char *key, const char *sns,
			 const char *sname, const char *tns, const char *tname)
{
	for (int k = 0; k < m->ncols && !m->outbox; k++)
	{
		const col_model *c = &m->cols[k];
		int			rule = c->mask_rule >= 0 ? c->mask_rule
			: c->value_rule >= 0 ? c->value_rule : c->rename_rule;
		bool		changed = c->mask_rule >= 0 || c->value_rule >= 0;

		if (c->out != NULL)
			add_derive(e, m, key, sns, sname, c->src, tns, tname, c->out, "DIRECT",
					   changed ? "TRANSFORMATION" : "IDENTITY", rule, NULL);
	}
	for (size_t k = 0; k < m->nflows; k++)
	{
		const flow *f = &m->flows[k];
		const char *tf = f->field;

		if (tf != NULL && (tf[0] == '\0' || m->outbox))
			continue;			/* dropped again, or no fields */
		if (f->dynamic || f->ninputs == 0)
			add_derive(e, m, key, sns, sname, NULL, tns, tname, tf, f->type, f->subtype,
					   f->rule, f->dynamic ? "dynamic" : NULL);
		for (size_t j = 0; j < f->ninputs; j++)
			add_derive(e, m, key, sns, sname, f->inputs[j], tns, tname, tf, f->type,
					   f->subtype, f->rule, NULL);
		for (size_t j = 0; j < f->ntraced; j++)
			add_derive(e, m, key, sns, sname, f->traced[j], tns, tname, tf, f->type,
					   f->subtype, f->rule, "runtime");
	}
}

/*
 * The dead-letter sink, a dataset of its own: the job writes it, and the
 * rows a rule rejects go there (INDIRECT/CONDITIONAL from the source
 * dataset: their reason, table and position).  With dead_letter_images
 * `original` the record carries the event as the source sent it, so every
 * source field reaches it DIRECT/IDENTITY, unmasked: the path
 * unmasked_paths() must show.
 */
static void
dead_letter_edges(trib_strbuf *d, trib_strbuf *e, const model *m, const trib_event *ev,
				  const char *key, const char *sns, const char *sname)
{
	const trib_config *cfg = m->cfg;
	const trib_plugin_conf *dlq = NULL;
	char		dns[NAME_LEN],
				dname[NAME_LEN];
	const char *type = NULL;
	bool		images = cfg->dead_letter_images == TRIB_DLQ_IMAGES_ORIGINAL;

	for (size_t s = 0; cfg->dead_letter && s < cfg->nsinks && dlq == NULL; s++)
		if (strcmp(cfg->dead_letter, cfg->sinks[s].name) == 0)
			dlq = &cfg->sinks[s];
	if (dlq == NULL ||
		!trib_lineage_dataset(dlq, ev, NULL, dns, sizeof(dns), dname, sizeof(dname), &type))
		return;
	add_dataset(d, m, key, dns, dname, type, images ? DS_SOURCE : DS_NONE);
	item(e);
	trib_strbuf_adds(e, "{\"kind\":\"write\",\"to\":");
	add_ref(e, dns, dname, NULL);
	close_item(e, key);
	add_derive(e, m, key, sns, sname, NULL, dns, dname, NULL, "INDIRECT", "CONDITIONAL", -1,
			   NULL);
	for (int k = 0; images && k < m->ncols; k++)
		add_derive(e, m, key, sns, sname, m->cols[k].src, dns, dname, m->cols[k].src, "DIRECT",
				   "IDENTITY", -1, NULL);
}

/* Write the model's datasets and edges into out. */
static void
emit(const model *m, const trib_event *ev, trib_lineage_fragment *out)
{
	const trib_config *cfg = m->cfg;
	const trib_plugin_conf *src = trib_config_find_source(cfg, ev->source);
	char		sns[NAME_LEN],
				sname[NAME_LEN],
				tns[NAME_LEN],
				tname[NAME_LEN];
	const char *type = NULL;
	trib_strbuf d = {0},
				e = {0};

	if (src == NULL)
		src = &cfg->sources[0];
	trib_lineage_dataset(src, ev, NULL, sns, sizeof(sns), sname, sizeof(sname), &type);
	add_dataset(&d, m, out->key, sns, sname, type, DS_SOURCE);
	item(&e);
	trib_strbuf_adds(&e, "{\"kind\":\"read\",\"from\":");
	add_ref(&e, sns, sname, NULL);
	close_item(&e, out->key);
	for (size_t s = 0; s < cfg->nsinks; s++)
	{
		if (cfg->dead_letter && strcmp(cfg->dead_letter, cfg->sinks[s].name) == 0)
			continue;
		if (!trib_lineage_dataset(&cfg->sinks[s], ev, m->route, tns, sizeof(tns), tname,
								  sizeof(tname), &type))
			continue;
		add_dataset(&d, m, out->key, tns, tname, type, DS_TARGET);
		item(&e);
		trib_strbuf_adds(&e, "{\"kind\":\"write\",\"to\":");
		add_ref(&e, tns, tname, NULL);
		close_item(&e, out->key);
		target_edges(&e, m, out->key, sns, sname, tns, tname);
	}
	dead_letter_edges(&d, &e, m, ev, out->key, sns, sname);
	out->datasets = trib_strbuf_finish(&d);
	out->edges = trib_strbuf_finish(&e);
}

/* Release the model. */
static void
model_free(model *m)
{
	for (int k = 0; k < m->ncols; k++)
		free(m->cols[k].out);
	free(m->cols);
	for (size_t k = 0; k < m->nflows; k++)
	{
		for (size_t j = 0; j < m->flows[k].ninputs; j++)
			free(m->flows[k].inputs[j]);
		free(m->flows[k].inputs);
		for (size_t j = 0; j < m->flows[k].ntraced; j++)
			free(m->flows[k].traced[j]);
		free(m->flows[k].traced);
	}
	free(m->flows);
	free(m->route);
}

/* See lineage.h. */
void
trib_lineage_derive(const trib_config *cfg, const trib_rules *rules,
					const trib_event *ev, const trib_relation *rel,
					trib_lineage_fragment *out)
{
	trib_lineage_derive_traced(cfg, rules, ev, rel, NULL, out);
}

/* See lineage.h. */
void
trib_lineage_derive_traced(const trib_config *cfg, const trib_rules *rules,
						   const trib_event *ev, const trib_relation *rel,
						   const trib_lineage_trace *t, trib_lineage_fragment *out)
{
	model		m = {.cfg = cfg, .trace = t};
	char		key[NAME_LEN];

	trib_lineage_relation_key(ev, key, sizeof(key));
	out->key = trib_xstrdup(key);
	m.key = out->key;
	m.ncols = rel ? rel->ncolumns : 0;
	m.cols = trib_xcalloc((size_t) m.ncols + 1, sizeof(col_model));
	for (int k = 0; k < m.ncols; k++)
	{
		m.cols[k].src = rel->columns[k].name;
		m.cols[k].type = rel->columns[k].type ? rel->columns[k].type : "unknown";
		m.cols[k].out = trib_xstrdup(rel->columns[k].name);
		m.cols[k].out_type = m.cols[k].type;
		m.cols[k].pk = rel->columns[k].pk;
		m.cols[k].mask_rule = m.cols[k].value_rule = m.cols[k].rename_rule = -1;
	}
	for (size_t i = 0; i < cfg->nrules; i++)
		if (rules == NULL || trib_rules_selects(rules, i, ev->source, ev->schema, ev->table))
			apply_rule(&m, (int) i, &cfg->rules[i], ev);
	emit(&m, ev, out);
	model_free(&m);
}

/* See lineage.h. */
char *
trib_lineage_rules_json(const trib_config *cfg)
{
	trib_strbuf b = {0};

	for (size_t i = 0; i < cfg->nrules; i++)
	{
		item(&b);
		trib_strbuf_adds(&b, "{\"name\":");
		trib_jdoc_quote(&b, cfg->rules[i].name);
		trib_strbuf_adds(&b, ",\"kind\":");
		trib_jdoc_quote(&b, cfg->rules[i].type_name);
		trib_strbuf_printf(&b, ",\"masking\":%s}",
						   trib_rule_masks(cfg->rules[i].type) ? "true" : "false");
	}
	return trib_strbuf_finish(&b);
}

/* Append items to a JSON array being written (comma when needed). */
static void
append_items(trib_strbuf *b, bool *first, const char *items)
{
	if (items == NULL || items[0] == '\0')
		return;
	if (!*first)
		trib_strbuf_addc(b, ',');
	trib_strbuf_adds(b, items);
	*first = false;
}

/* See lineage.h. */
char *
trib_lineage_document(const char *rules_json, const trib_lineage_fragment *frags, size_t n)
{
	trib_strbuf b = {0};
	bool		first = true;

	trib_strbuf_adds(&b, "{\"rules\":[");
	append_items(&b, &first, rules_json);
	trib_strbuf_adds(&b, "],\"datasets\":[");
	first = true;
	for (size_t i = 0; i < n; i++)
		append_items(&b, &first, frags[i].datasets);
	trib_strbuf_adds(&b, "],\"edges\":[");
	first = true;
	for (size_t i = 0; i < n; i++)
		append_items(&b, &first, frags[i].edges);
	trib_strbuf_adds(&b, "]}");
	return trib_strbuf_finish(&b);
}

/* See lineage.h. */
void
trib_lineage_fragment_clear(trib_lineage_fragment *f)
{
	free(f->key);
	free(f->datasets);
	free(f->edges);
	memset(f, 0, sizeof(*f));
}
