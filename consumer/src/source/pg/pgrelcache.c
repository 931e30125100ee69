/*
 * pgrelcache.c: the relation cache of the PostgreSQL source (see
 * pgrelcache.h): a hash of trib_pgrel by schema.table, filled from the
 * plugin's relation records by the parser (pgrecord.c), and the schema
 * views events point to.
 *
 * Design.  REL_BUCKETS chains hashed with FNV-1a; a table has one entry
 * at a time, and a lookup per change is one hash and a few string
 * compares.  Installing drops any entry with the same relid (a renamed
 * table) or the same name, then points the entry at its view: the view
 * made before for the same name and the same columns (names, types,
 * a domain's base type, an enum's labels, nullability, primary key and
 * identity flags), else a new one (version =
 * how many views came before, plus one) that stays until the cache is
 * freed.  Reuse matters under publish-via-root, where partitions of one
 * root with different replica identities make the plugin send the root's
 * relation record again whenever the partition changes: the record
 * alternates between a few signatures, and each must map to one view, so
 * that the cache does not grow per record and what keys on the view (the
 * schema stage, the Debezium encoder, the Postgres sink's table check)
 * sees a known relation, not a new one.  Views are found through a second
 * hash by name (viewnode chains).
 */
#include "pgrelcache.h"

#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "xalloc.h"

#define REL_BUCKETS 1024

/* A hash chain's link. */
typedef struct relnode
{
	trib_pgrel	rel;
	struct relnode *next;
} relnode;

/* A view's link in the hash by name (trib_pgrelcache.vbuckets). */
typedef struct viewnode
{
	trib_relation *view;
	struct viewnode *next;
} viewnode;

struct trib_pgrelcache
{
	relnode    *buckets[REL_BUCKETS];
	viewnode   *vbuckets[REL_BUCKETS];	/* every view, by schema.table */
	/*
	 * Every trib_relation handed out through events, until the cache is
	 * freed (pgrelcache.h).
	 */
	trib_relation **views;
	size_t		nviews;
	size_t		capviews;
};

/* FNV-1a over schema, a zero byte, and table. */
static unsigned
rel_hash(const char *schema, const char *table)
{
	uint32_t	h = 2166136261u;
	const unsigned char *p;

	for (p = (const unsigned char *) schema; *p; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ 0) * 16777619u;
	for (p = (const unsigned char *) table; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % REL_BUCKETS;
}

/* See pgrelcache.h. */
void
trib_pgrelcache_free_strv(char **v, size_t n)
{
	size_t		i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* See pgrelcache.h. */
void
trib_pgrelcache_col_clear(trib_pgcol *c)
{
	free(c->name);
	free(c->type);
	free(c->base_type);
	trib_pgrelcache_free_strv(c->enum_labels, c->nenum_labels);
}

/* Free what a relation entry owns (not the entry). */
static void
rel_clear(trib_pgrel *r)
{
	size_t		i;

	free(r->schema);
	free(r->table);
	free(r->replica_identity);
	for (i = 0; i < r->ncols; i++)
		trib_pgrelcache_col_clear(&r->cols[i]);
	free(r->cols);
	trib_pgrelcache_free_strv(r->primary_key, r->npk);
	trib_pgrelcache_free_strv(r->identity_key, r->nik);
	memset(r, 0, sizeof(*r));
}


/* See pgrelcache.h. */
trib_pgrelcache *
trib_pgrelcache_new(void)
{
	trib_pgrelcache *c = trib_xcalloc(1, sizeof(*c));

	return c;
}

/* See pgrelcache.h. */
void
trib_pgrelcache_free(trib_pgrelcache *c)
{
	int			i;

	if (!c)
		return;
	for (i = 0; i < REL_BUCKETS; i++)
	{
		relnode    *n = c->buckets[i];

		while (n)
		{
			relnode    *next = n->next;

			rel_clear(&n->rel);
			free(n);
			n = next;
		}
	}
	for (i = 0; i < REL_BUCKETS; i++)
	{
		viewnode   *n = c->vbuckets[i];

		while (n)
		{
			viewnode   *next = n->next;

			free(n);
			n = next;
		}
	}
	for (i = 0; i < (int) c->nviews; i++)
		trib_relation_free(c->views[i]);
	free(c->views);
	free(c);
}

/* The entry of schema.table, or NULL. */
const trib_pgrel *
trib_pgrelcache_find(const trib_pgrelcache *p, const char *schema,
					 const char *table)
{
	relnode    *n;

	if (!p || !schema || !table)
		return NULL;
	for (n = p->buckets[rel_hash(schema, table)]; n; n = n->next)
		if (strcmp(n->rel.schema, schema) == 0 && strcmp(n->rel.table, table) == 0)
			return &n->rel;
	return NULL;
}

/* Unlink and free every entry matching relid or schema.table. */
static void
rel_remove(trib_pgrelcache *p, uint32_t relid, const char *schema,
		   const char *table)
{
	int			i;

	for (i = 0; i < REL_BUCKETS; i++)
	{
		relnode   **pp = &p->buckets[i];

		while (*pp)
		{
			relnode    *n = *pp;

			if (n->rel.relid == relid ||
				(strcmp(n->rel.schema, schema) == 0 &&
				 strcmp(n->rel.table, table) == 0))
			{
				*pp = n->next;
				rel_clear(&n->rel);
				free(n);
			}
			else
				pp = &n->next;
		}
	}
}

/* Is a view column's optional string equal to a record column's? */
static bool
same_opt(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The same enum labels, in the same order? */
static bool
same_labels(const trib_column *c, const trib_pgcol *rc)
{
	if (c->nenum_labels != (int) rc->nenum_labels)
		return false;
	for (size_t i = 0; i < rc->nenum_labels; i++)
		if (strcmp(c->enum_labels[i], rc->enum_labels[i]) != 0)
			return false;
	return true;
}

/* Does view v describe r's table and columns exactly? */
static bool
view_matches(const trib_relation *v, const trib_pgrel *r)
{
	size_t		i;

	if (strcmp(v->schema, r->schema) != 0 || strcmp(v->table, r->table) != 0 ||
		v->ncolumns != (int) r->ncols)
		return false;
	for (i = 0; i < r->ncols; i++)
	{
		const trib_column *c = &v->columns[i];
		const trib_pgcol *rc = &r->cols[i];

		if (strcmp(c->name, rc->name) != 0 || strcmp(c->type, rc->type) != 0 ||
			c->type_oid != rc->type_oid || c->nullable != rc->nullable ||
			c->pk != rc->pk || c->identity != rc->identity ||
			!same_opt(c->base_type, rc->base_type) || !same_labels(c, rc))
			return false;
	}
	return true;
}

/* A new view of r, kept until the cache is freed. */
static trib_relation *
view_new(trib_pgrelcache *p, const trib_pgrel *r)
{
	trib_relation *v = trib_xmalloc(sizeof(*v));
	size_t		i;

	memset(v, 0, sizeof(*v));
	v->schema = trib_xstrdup(r->schema);
	v->table = trib_xstrdup(r->table);
	v->ncolumns = (int) r->ncols;
	v->columns = trib_xcalloc(r->ncols ? r->ncols : 1, sizeof(trib_column));
	for (i = 0; i < r->ncols; i++)
	{
		trib_column *c = &v->columns[i];

		c->name = trib_xstrdup(r->cols[i].name);
		c->type = trib_xstrdup(r->cols[i].type);
		c->type_oid = r->cols[i].type_oid;
		c->nullable = r->cols[i].nullable;
		c->pk = r->cols[i].pk;
		c->identity = r->cols[i].identity;
		c->decl = NULL;			/* format_type text says everything */
		c->base_type = r->cols[i].base_type ? trib_xstrdup(r->cols[i].base_type) : NULL;
		c->nenum_labels = (int) r->cols[i].nenum_labels;
		if (c->nenum_labels > 0)
		{
			c->enum_labels = trib_xcalloc(r->cols[i].nenum_labels, sizeof(char *));
			for (size_t j = 0; j < r->cols[i].nenum_labels; j++)
				c->enum_labels[j] = trib_xstrdup(r->cols[i].enum_labels[j]);
		}
	}
	v->version = (uint32_t) p->nviews + 1;
	p->views = trib_xgrow(p->views, p->nviews, &p->capviews, sizeof(*p->views), 16);
	p->views[p->nviews++] = v;
	return v;
}

/* r's view: the one made before for the same description, else a new one
 * (see the header comment). */
static const trib_relation *
view_of(trib_pgrelcache *p, const trib_pgrel *r)
{
	unsigned	b = rel_hash(r->schema, r->table);
	viewnode   *vn;

	for (vn = p->vbuckets[b]; vn; vn = vn->next)
		if (view_matches(vn->view, r))
			return vn->view;
	vn = trib_xmalloc(sizeof(*vn));
	vn->view = view_new(p, r);
	vn->next = p->vbuckets[b];
	p->vbuckets[b] = vn;
	return vn->view;
}

/* Install r (taking its contents) as the entry of its table. */
const trib_pgrel *
trib_pgrelcache_install(trib_pgrelcache *p, trib_pgrel *r)
{
	relnode    *n = trib_xmalloc(sizeof(*n));
	unsigned	b;

	/* A renamed table keeps its relid: drop the entry under the old name. */
	rel_remove(p, r->relid, r->schema, r->table);
	n->rel = *r;
	memset(r, 0, sizeof(*r));
	if (n->rel.nik > 0)
	{
		n->rel.key = n->rel.identity_key;
		n->rel.nkey = n->rel.nik;
	}
	else
	{
		n->rel.key = n->rel.primary_key;
		n->rel.nkey = n->rel.npk;
	}
	n->rel.view = view_of(p, &n->rel);
	b = rel_hash(n->rel.schema, n->rel.table);
	n->next = p->buckets[b];
	p->buckets[b] = n;
	return &n->rel;
}
