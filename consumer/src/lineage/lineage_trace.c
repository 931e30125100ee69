/*
 * lineage_trace.c: the inputs of Lua rules found at run time (lineage.h).
 *
 * Design.  A Lua expression whose inputs static analysis cannot see
 * (lineage_lua.c: `after[k]`, `pairs(after)`, the table passed to a
 * function) is traced while it runs (transform/lua, trib_lua_expr_trace):
 * each row field it reads reaches trib_lineage_trace_add with the
 * relation of the bound event.  The trace keeps, per (relation, rule),
 * the distinct field names seen, and marks the relation dirty when one is
 * new, so the stage derives the relation's fragment again (lineage_stage.c)
 * and the graph gains those edges, marked "inputs": "runtime".  It only
 * grows: a field read once is an input from then on.
 *
 * Storage is one interned-string set (lib/intern.h): "R\x1fKEY\x1fFIELD"
 * entries deduplicate, "R\x1fKEY" entries hold the list, "\x1dKEY" the
 * dirty mark.  The probe per read is one hash lookup of a short key built
 * on the stack.  Pipeline thread only.
 */
#include "lineage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"
#include "xalloc.h"

#define TRACE_KEY_LEN 1400

typedef struct trace_list
{
	char	  **names;
	size_t		n;
	bool		all;			/* the whole image was read */
} trace_list;

struct trib_lineage_trace
{
	trib_intern *set;
};

/* See lineage.h. */
trib_lineage_trace *
trib_lineage_trace_new(void)
{
	trib_lineage_trace *t = trib_xcalloc(1, sizeof(*t));

	t->set = trib_intern_new();
	return t;
}

/* Free one list (a set value). */
static void
list_free(void *v)
{
	trace_list *l = v;

	if (l == (void *) 1)
		return;					/* a dirty mark */
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l);
}

/* See lineage.h. */
void
trib_lineage_trace_free(trib_lineage_trace *t)
{
	if (t == NULL)
		return;
	trib_intern_each_value(t->set, list_free);
	trib_intern_free(t->set);
	free(t);
}

/* See lineage.h. */
void
trib_lineage_relation_key(const trib_event *ev, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s%s%s%s%s", ev->source ? ev->source : "", ev->db ? ev->db : "",
			 ev->db ? "." : "", ev->schema ? ev->schema : "", ev->schema ? "." : "",
			 ev->table ? ev->table : "");
}

/* See lineage.h. */
int
trib_lineage_trace_add(trib_lineage_trace *t, const char *key, int rule, const char *field,
					   size_t len)
{
	char		k[TRACE_KEY_LEN];
	int			head = snprintf(k, sizeof(k), "%d\x1f%s", rule, key);
	trace_list **l;
	void	  **dirty;

	if (head < 0 || (size_t) head + len + 2 >= sizeof(k) ||
		(field != NULL && memchr(field, '\0', len) != NULL))
		return 0;				/* a name too long (or odd) to key on */
	k[head] = '\x1f';
	if (field != NULL)
		memcpy(k + head + 1, field, len);
	else
		memcpy(k + head + 1, "\x1e", len = 1);	/* the whole image */
	if (trib_intern_find(t->set, k, (size_t) head + 1 + len) != NULL)
		return 0;
	trib_intern_get(t->set, k, (size_t) head + 1 + len);
	l = (trace_list **) trib_intern_value(t->set, k, (size_t) head);
	if (*l == NULL)
		*l = trib_xcalloc(1, sizeof(trace_list));
	if (field == NULL)
		(*l)->all = true;
	else
	{
		(*l)->names = trib_xrealloc((*l)->names, ((*l)->n + 1) * sizeof(char *));
		(*l)->names[(*l)->n++] = trib_xstrndup(field, len);
	}
	snprintf(k, sizeof(k), "\x1d%s", key);
	dirty = trib_intern_value(t->set, k, strlen(k));
	if (*dirty != NULL)
		return 1;
	*dirty = (void *) 1;
	return 2;
}

/* See lineage.h. */
size_t
trib_lineage_trace_fields(const trib_lineage_trace *t, const char *key, int rule,
						  char *const **names, bool *all)
{
	char		k[TRACE_KEY_LEN];
	int			n = snprintf(k, sizeof(k), "%d\x1f%s", rule, key);
	trace_list *l = NULL;

	*names = NULL;
	*all = false;
	if (t == NULL || n < 0 || (size_t) n >= sizeof(k) ||
		trib_intern_find(t->set, k, (size_t) n) == NULL)
		return 0;
	l = *(trace_list **) trib_intern_value(t->set, k, (size_t) n);
	if (l == NULL)
		return 0;
	*names = l->names;
	*all = l->all;
	return l->n;
}

/* See lineage.h. */
bool
trib_lineage_trace_dirty(const trib_lineage_trace *t, const char *key)
{
	char		k[TRACE_KEY_LEN];
	const char *s;

	snprintf(k, sizeof(k), "\x1d%s", key);
	s = trib_intern_find(t->set, k, strlen(k));
	return s != NULL && *trib_intern_value(t->set, k, strlen(k)) != NULL;
}

/* See lineage.h. */
void
trib_lineage_trace_clean(trib_lineage_trace *t, const char *key)
{
	char		k[TRACE_KEY_LEN];

	snprintf(k, sizeof(k), "\x1d%s", key);
	if (trib_intern_find(t->set, k, strlen(k)) != NULL)
		*trib_intern_value(t->set, k, strlen(k)) = NULL;
}
