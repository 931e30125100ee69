/*
 * schema_migrate.c: compiling `schemas.migrations` and planning the
 * migration of one relation (schema_migrate.h).
 *
 * A plan is the steps run on names rather than rows: the relation's
 * columns (name, type, nullability, key) go through every step that
 * selects the relation's version, in order; rename renames in place, add
 * and set append a column when it is missing (nullable, except an add
 * whose default is not null: every row has it), drop removes one, cast
 * retypes one.  The result must hold exactly the target's fields; the
 * plan's relation is that result in the target's order.  Per-event work
 * is schema_migrate_apply.c's.
 */
#include "schema_migrate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "lua_expr.h"
#include "xalloc.h"

/* The field a step's operation names. */
static const char *
step_field(const trib_migrate_step_conf *c)
{
	switch (c->op)
	{
		case TRIB_MIGRATE_RENAME:
			return c->rename;
		case TRIB_MIGRATE_ADD:
			return c->add;
		case TRIB_MIGRATE_DROP:
			return c->drop;
		case TRIB_MIGRATE_CAST:
			return c->cast;
		default:
			return c->set;
	}
}

/* Compile one migration's steps (Lua into m->lua). */
static bool
compile(trib_migrate *m, trib_migrate_subject *mg, const trib_migration_conf *c,
		char *errbuf, size_t errlen)
{
	mg->c = c;
	mg->target = strcmp(c->target, "latest") == 0 ? 0 : (int32_t) strtol(c->target, NULL, 10);
	mg->steps = trib_xcalloc(c->nsteps + 1, sizeof(mig_step));
	mg->nsteps = c->nsteps;
	for (size_t i = 0; i < c->nsteps; i++)
	{
		mig_step   *s = &mg->steps[i];
		char		name[96];

		s->c = &c->steps[i];
		s->field = step_field(s->c);
		if (s->c->op != TRIB_MIGRATE_SET)
			continue;
		if (m->lua == NULL)
		{
			trib_lua_limits lim;

			trib_lua_limits_init(&lim);
			if ((m->lua = trib_lua_new(&lim, errbuf, errlen)) == NULL)
				return false;
		}
		snprintf(name, sizeof(name), "migration %.60s, line %d", c->subject, s->c->line);
		s->expr = trib_lua_compile(m->lua, name, s->c->lua, TRIB_LUA_VALUE, errbuf, errlen);
		if (s->expr == NULL)
			return false;
	}
	return true;
}

bool
trib_migrate_new(const trib_schemas_conf *conf, trib_migrate **out, char *errbuf,
				 size_t errlen)
{
	trib_migrate *m;

	*out = NULL;
	if (conf->nmigrations == 0)
		return true;
	m = trib_xcalloc(1, sizeof(*m));
	trib_arena_init(&m->arena, 0);
	m->m = trib_xcalloc(conf->nmigrations, sizeof(trib_migrate_subject));
	for (size_t i = 0; i < conf->nmigrations; i++)
	{
		if (!compile(m, &m->m[i], &conf->migrations[i], errbuf, errlen))
		{
			m->n = i + 1;
			trib_migrate_free(m);
			return false;
		}
	}
	m->n = conf->nmigrations;
	*out = m;
	return true;
}

void
trib_migrate_free(trib_migrate *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->m[i].steps);
	free(m->m);
	trib_lua_free(m->lua);		/* frees the expressions too */
	trib_arena_free(&m->arena);
	if (m->g != NULL)
		yajl_gen_free(m->g);
	free(m->spans);
	trib_strbuf_free(&m->scratch);
	free(m);
}

const trib_migrate_subject *
trib_migrate_find(const trib_migrate *m, const char *subject)
{
	for (size_t i = 0; m != NULL && i < m->n; i++)
		if (strcmp(m->m[i].c->subject, subject) == 0)
			return &m->m[i];
	return NULL;
}

int32_t
trib_migrate_target(const trib_migrate_subject *mg)
{
	return mg->target;
}

/* Does step s select events of version v? */
static bool
selects(const mig_step *s, int32_t v)
{
	if (s->c->versions.count == 0)
		return true;
	for (size_t i = 0; i < s->c->versions.count; i++)
		if (strtol(s->c->versions.items[i], NULL, 10) == v)
			return true;
	return false;
}

/* The index of column `name` in rel, or -1 (columns already moved out
 * have no name). */
static int
column_of(const trib_relation *rel, const char *name)
{
	for (int i = 0; i < rel->ncolumns; i++)
		if (rel->columns[i].name != NULL && strcmp(rel->columns[i].name, name) == 0)
			return i;
	return -1;
}

/* Is a default's JSON text null? */
static bool
null_default(const char *def)
{
	size_t		n;

	def += strspn(def, " \t\r\n");
	n = strcspn(def, " \t\r\n");
	return n == 4 && strncmp(def, "null", 4) == 0 && def[n + strspn(def + n, " \t\r\n")] == '\0';
}

/* Append a nullable column (name and type copied). */
static void
append_column(trib_relation *rel, const char *name, const char *type)
{
	trib_column *c;

	rel->columns = trib_xadd_zeroed(rel->columns, (size_t) rel->ncolumns, sizeof(trib_column));
	c = &rel->columns[rel->ncolumns++];
	c->name = trib_xstrdup(name);
	c->type = trib_xstrdup(type);
	c->nullable = true;
}

/* The SQL type a cast gives when the step names none. */
/* Give a column a new type; the source's declaration no longer holds. */
static void
retype(trib_column *c, const char *type)
{
	free(c->type);
	trib_relation_column_untype(c);
	c->type = trib_xstrdup(type);
}

static const char *
cast_type(const trib_migrate_step_conf *c)
{
	static const char *const types[] = {"text", "bigint", "numeric", "boolean"};

	return c->type ? c->type : types[c->as];
}

/* Run one step on the working relation's names; false with errbuf.  A
 * rename, drop or cast of a key column sets p->key_steps. */
static bool
plan_step(trib_migrate_plan *p, const mig_step *s, trib_relation *w, char *errbuf,
		  size_t errlen)
{
	const trib_migrate_subject *mg = p->mg;
	int32_t		from = p->from;
	const trib_migrate_step_conf *c = s->c;
	int			i = column_of(w, s->field);

	if (i >= 0 && (w->columns[i].pk || w->columns[i].identity) &&
		c->op != TRIB_MIGRATE_ADD && c->op != TRIB_MIGRATE_SET)
		p->key_steps = true;

	switch (c->op)
	{
		case TRIB_MIGRATE_RENAME:
			if (i >= 0 && column_of(w, c->to) >= 0)
			{
				snprintf(errbuf, errlen, "migration of subject %s, step at line %d: rename %s "
						 "to %s, but version %d has a field %s already", mg->c->subject,
						 c->line, c->rename, c->to, (int) from, c->to);
				return false;
			}
			if (i >= 0)
			{
				free(w->columns[i].name);
				w->columns[i].name = trib_xstrdup(c->to);
			}
			break;
		case TRIB_MIGRATE_ADD:
		case TRIB_MIGRATE_SET:
			if (i < 0)
			{
				append_column(w, s->field, c->type ? c->type : "text");
				/* every row gets the default: NOT NULL unless it is null
				 * (a later cast keeps null and refuses what it cannot
				 * convert) */
				if (c->op == TRIB_MIGRATE_ADD && c->def != NULL && !null_default(c->def))
					w->columns[w->ncolumns - 1].nullable = false;
			}
			else if (c->type != NULL)
				retype(&w->columns[i], c->type);
			break;
		case TRIB_MIGRATE_DROP:
			if (i >= 0)
			{
				trib_relation_column_clear(&w->columns[i]);
				memmove(&w->columns[i], &w->columns[i + 1],
						(size_t) (w->ncolumns - i - 1) * sizeof(trib_column));
				w->ncolumns--;
			}
			break;
		case TRIB_MIGRATE_CAST:
			if (i >= 0)
				retype(&w->columns[i], cast_type(c));
			break;
	}
	return true;
}

/* A deep copy of rel's columns into w (schema and table too). */
static void
copy_relation(trib_relation *w, const trib_relation *rel)
{
	memset(w, 0, sizeof(*w));
	w->schema = trib_xstrdup(rel->schema ? rel->schema : "");
	w->table = trib_xstrdup(rel->table ? rel->table : "");
	w->version = rel->version;
	w->columns = trib_xcalloc((size_t) rel->ncolumns + 1, sizeof(trib_column));
	for (int i = 0; i < rel->ncolumns; i++)
	{
		trib_relation_column_copy(&w->columns[i], &rel->columns[i]);
		if (w->columns[i].type == NULL)
			w->columns[i].type = trib_xstrdup("text");
	}
	w->ncolumns = rel->ncolumns;
}

/*
 * Put w's columns in the order of fields into p->rel; false with errbuf
 * naming the first field missing or extra.
 */
static bool
match_target(trib_migrate_plan *p, trib_relation *w, char *const *fields, size_t n,
			 char *errbuf, size_t errlen)
{
	const char *subject = p->mg->c->subject;

	for (int i = 0; i < w->ncolumns; i++)
	{
		size_t		j = 0;

		while (j < n && strcmp(fields[j], w->columns[i].name) != 0)
			j++;
		if (j == n)
		{
			snprintf(errbuf, errlen, "migration of subject %s from version %d to %d: field %s "
					 "is not in version %d (accepted: a step that drops or renames it)",
					 subject, (int) p->from, (int) p->to, w->columns[i].name, (int) p->to);
			return false;
		}
	}
	p->rel = *w;
	p->rel.columns = trib_xcalloc(n + 1, sizeof(trib_column));
	p->rel.ncolumns = (int) n;
	for (size_t j = 0; j < n; j++)
	{
		int			i = column_of(w, fields[j]);

		if (i < 0)
		{
			snprintf(errbuf, errlen, "migration of subject %s from version %d to %d: field %s "
					 "of version %d is missing (accepted: a step that adds, sets or renames "
					 "it)", subject, (int) p->from, (int) p->to, fields[j], (int) p->to);
			p->rel.ncolumns = (int) j;
			return false;
		}
		p->rel.columns[j] = w->columns[i];
		w->columns[i].name = w->columns[i].type = w->columns[i].decl = NULL;
		w->columns[i].base_type = NULL;
		w->columns[i].enum_labels = NULL;
		w->columns[i].nenum_labels = 0;
		w->columns[i].items = NULL;
		w->columns[i].fields = NULL;
	}
	return true;
}

/* Is rel already in the target's order, at the target? */
static bool
is_identity(const trib_migrate_plan *p, const trib_relation *rel)
{
	if (p->from != p->to || (size_t) rel->ncolumns != p->norder)
		return false;
	for (size_t j = 0; j < p->norder; j++)
		if (strcmp(rel->columns[j].name, p->order[j]) != 0)
			return false;
	return true;
}

trib_migrate_plan *
trib_migrate_plan_new(const trib_migrate_subject *mg, const trib_relation *rel, int32_t from,
					  int32_t to, char *const *fields, size_t nfields, char *errbuf,
					  size_t errlen)
{
	trib_migrate_plan *p = trib_xcalloc(1, sizeof(*p));
	trib_relation w;
	bool		ok = true;

	p->mg = mg;
	p->from = from;
	p->to = to;
	p->steps = trib_xcalloc(mg->nsteps + 1, sizeof(*p->steps));
	p->order = trib_xcalloc(nfields + 1, sizeof(char *));
	for (size_t j = 0; j < nfields; j++)
		p->order[p->norder++] = trib_xstrdup(fields[j]);
	copy_relation(&w, rel);
	for (size_t i = 0; from != to && i < mg->nsteps; i++)
		if (selects(&mg->steps[i], from))
		{
			p->steps[p->nsteps++] = &mg->steps[i];
			ok = ok && plan_step(p, &mg->steps[i], &w, errbuf, errlen);
		}
	ok = ok && match_target(p, &w, fields, nfields, errbuf, errlen);
	if (ok)
	{
		/* w's schema and table moved into p->rel; its emptied columns go */
		for (int i = 0; i < w.ncolumns; i++)
			trib_relation_column_clear(&w.columns[i]);
		free(w.columns);
		p->identity = is_identity(p, rel);
		trib_migrate_stream_prepare(p, rel);
		return p;
	}
	if (p->rel.columns != NULL)
	{
		for (int i = 0; i < p->rel.ncolumns; i++)
			trib_relation_column_clear(&p->rel.columns[i]);
		free(p->rel.columns);
		memset(&p->rel, 0, sizeof(p->rel));
	}
	trib_relation_clear(&w);
	trib_migrate_plan_free(p);
	return NULL;
}

const trib_relation *
trib_migrate_plan_relation(const trib_migrate_plan *p)
{
	return &p->rel;
}

void
trib_migrate_plan_free(trib_migrate_plan *p)
{
	if (p == NULL)
		return;
	trib_migrate_stream_release(p);
	trib_relation_clear(&p->rel);
	trib_migrate_fields_free(p->order, p->norder);
	free(p->steps);
	free(p);
}

/* The names of an Avro record's fields, in order. */
static bool
avro_fields(yajl_val doc, char ***out, size_t *n)
{
	const char *fpath[] = {"fields", NULL};
	yajl_val	f = yajl_tree_get(doc, fpath, yajl_t_array);

	if (f == NULL)
		return false;
	*out = trib_xcalloc(f->u.array.len + 1, sizeof(char *));
	for (size_t i = 0; i < f->u.array.len; i++)
	{
		const char *npath[] = {"name", NULL};
		yajl_val	nm = yajl_tree_get(f->u.array.values[i], npath, yajl_t_string);

		if (nm != NULL)
			(*out)[(*n)++] = trib_xstrdup(nm->u.string);
	}
	return true;
}

bool
trib_migrate_fields(const char *doc, char ***out, size_t *n, char *errbuf, size_t errlen)
{
	const char *ppath[] = {"properties", NULL};
	yajl_val	v = trib_jdoc_parse(doc, errbuf, errlen);
	yajl_val	props;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return false;
	props = yajl_tree_get(v, ppath, yajl_t_object);
	if (props != NULL)
	{
		*out = trib_xcalloc(props->u.object.len + 1, sizeof(char *));
		for (size_t i = 0; i < props->u.object.len; i++)
			(*out)[(*n)++] = trib_xstrdup(props->u.object.keys[i]);
	}
	else if (!avro_fields(v, out, n))
		snprintf(errbuf, errlen, "the target schema has neither properties (JSON Schema) nor "
				 "fields (Avro)");
	yajl_tree_free(v);
	return *out != NULL;
}

void
trib_migrate_fields_free(char **fields, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(fields[i]);
	free(fields);
}

/* See schema_migrate.h. */
void
trib_migrate_plan_describe(const trib_migrate_plan *p, char *buf, size_t len)
{
	static const char *const ops[] = {"rename", "add", "drop", "cast", "set"};
	size_t		used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->nsteps && used < len; i++)
	{
		const trib_migrate_step_conf *c = p->steps[i]->c;
		int			k;

		if (c->op == TRIB_MIGRATE_RENAME)
			k = snprintf(buf + used, len - used, "%s%s %s -> %s", i ? ", " : "", ops[c->op],
						 c->rename, c->to);
		else
			k = snprintf(buf + used, len - used, "%s%s %s", i ? ", " : "", ops[c->op],
						 p->steps[i]->field);
		used += k > 0 ? (size_t) k : 0;
	}
}
