/*
 * pgrelcache.c: the relation cache of the PostgreSQL source (see
 * pgrelcache.h): a hash of trib_pgrel by schema.table, filled from the
 * plugin's relation records by the parser (pgrecord.c), and the schema
 * views events point to.
 *
 * Design.  REL_BUCKETS chains hashed with FNV-1a; a table has one entry
 * at a time, and a lookup per change is one hash and a few string
 * compares.  Installing drops any entry with the same relid (a renamed
 * table) or the same name, then adds a new view (version = how many
 * views came before, plus one) that stays until the cache is freed.
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

struct trib_pgrelcache
{
	relnode    *buckets[REL_BUCKETS];
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

/* Free what a relation entry owns (not the entry). */
static void
rel_clear(trib_pgrel *r)
{
	size_t		i;

	free(r->schema);
	free(r->table);
	free(r->replica_identity);
	for (i = 0; i < r->ncols; i++)
	{
		free(r->cols[i].name);
		free(r->cols[i].type);
	}
	free(r->cols);
	trib_pgrelcache_free_strv(r->primary_key, r->npk);
	trib_pgrelcache_free_strv(r->identity_key, r->nik);
	memset(r, 0, sizeof(*r));
}


/* See pgrelcache.h. */
trib_pgrelcache *
trib_pgrelcache_new(void)
{
	trib_pgrelcache *c = trib_xmalloc(sizeof(*c));

	memset(c, 0, sizeof(*c));
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
	{
		trib_relation *v = trib_xmalloc(sizeof(*v));
		size_t		i;

		memset(v, 0, sizeof(*v));
		v->schema = trib_xstrdup(n->rel.schema);
		v->table = trib_xstrdup(n->rel.table);
		v->ncolumns = (int) n->rel.ncols;
		v->columns = trib_xcalloc(n->rel.ncols ? n->rel.ncols : 1, sizeof(trib_column));
		for (i = 0; i < n->rel.ncols; i++)
		{
			trib_column *c = &v->columns[i];

			c->name = trib_xstrdup(n->rel.cols[i].name);
			c->type = trib_xstrdup(n->rel.cols[i].type);
			c->type_oid = n->rel.cols[i].type_oid;
			c->nullable = n->rel.cols[i].nullable;
			c->pk = n->rel.cols[i].pk;
			c->identity = n->rel.cols[i].identity;
			c->decl = NULL;		/* format_type text says everything */
		}
		v->version = (uint32_t) p->nviews + 1;
		if (p->nviews == p->capviews)
		{
			p->capviews = p->capviews ? p->capviews * 2 : 16;
			p->views = trib_xrealloc(p->views, p->capviews * sizeof(*p->views));
		}
		p->views[p->nviews++] = v;
		n->rel.view = v;
	}
	b = rel_hash(n->rel.schema, n->rel.table);
	n->next = p->buckets[b];
	p->buckets[b] = n;
	return &n->rel;
}
