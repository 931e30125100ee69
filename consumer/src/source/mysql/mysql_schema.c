/*
 * mysql_schema.c: the schema history, an in-memory schema source
 * (mysql_schema.h).
 *
 * Each table (db, name) has a list of versions ordered by the position
 * they are valid from; a version may be a tombstone (the table did not
 * exist).  The history also keeps the position of every DDL statement it
 * was told about.  lookup(at) takes the newest version valid at `at`; when
 * there is none, or a DDL lies between that version's start and `at`, it
 * asks the loader for the table as it is now and records that as a new
 * version valid from the DDL (or from the start when no DDL came before).
 * So events before a DDL keep the old shape, also when read again after a
 * restart, and events after it get the new one.
 *
 * A DDL statement is first given to the parser (mysql_ddl.c): when it
 * derives the new versions for certain, from the versions just before
 * the statement, they are recorded valid from the statement's position
 * and no reload is needed.  When it cannot (or the previous version is
 * not known: an unparsed DDL lies between), the position is remembered as
 * above, and the log says which statement and why.  A statement read
 * again after a restart (a version starts at its position, or the
 * position is a known DDL) is not applied twice.
 *
 * Tables are kept in a chained hash on "db\0table".  With a store
 * (trib_my_history_set_store), every loaded or derived version and every
 * new DDL position is recorded before it is used.
 */
#include "mysql_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mysql_ddl.h"
#include "mysql_int.h"
#include "strbuf.h"

typedef struct version
{
	bool		from_start;
	trib_my_pos from;
	trib_my_tableinfo *info;	/* NULL: the table did not exist */
} version;

typedef struct table_entry
{
	struct table_entry *next;
	char	   *db;
	char	   *table;
	version    *versions;		/* ordered by from */
	int			nversions;
} table_entry;

struct trib_my_history
{
	trib_my_loader_fn load;
	void	   *load_arg;
	table_entry *buckets[256];
	trib_my_pos *ddls;			/* in the order they were read */
	int			nddls;
	size_t		nversions;
	trib_my_history_store store;	/* all NULL: in memory only */
	char	   *store_error;	/* a DDL the store could not record */
	trib_my_history_log_fn log;	/* NULL: silent */
	void	   *log_arg;
};

trib_my_history *
trib_my_history_new(trib_my_loader_fn load, void *load_arg)
{
	trib_my_history *h = trib_xcalloc(1, sizeof(*h));

	h->load = load;
	h->load_arg = load_arg;
	return h;
}

void
trib_my_history_free(trib_my_history *h)
{
	if (h == NULL)
		return;
	for (int b = 0; b < 256; b++)
		for (table_entry *e = h->buckets[b], *next; e; e = next)
		{
			next = e->next;
			for (int i = 0; i < e->nversions; i++)
				trib_my_tableinfo_free(e->versions[i].info);
			free(e->versions);
			free(e->db);
			free(e->table);
			free(e);
		}
	free(h->ddls);
	if (h->store.free)
		h->store.free(h->store.arg);
	free(h->store_error);
	free(h);
}

void
trib_my_history_set_store(trib_my_history *h, const trib_my_history_store *store)
{
	h->store = *store;
}

void
trib_my_history_set_log(trib_my_history *h, trib_my_history_log_fn log, void *arg)
{
	h->log = log;
	h->log_arg = arg;
}

/* A line through the log hook, if any. */
#define hlog(h, level, ...) \
	trib_log_hookf((h)->log, (h)->log_arg, (level), __VA_ARGS__)

const char *
trib_my_history_error(const trib_my_history *h)
{
	return h->store_error;
}

/* Bucket of a table name. */
static unsigned
bucket_of(const char *db, const char *table)
{
	unsigned	h = 2166136261u;

	for (const char *p = db; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	h = (h ^ 0) * 16777619u;
	for (const char *p = table; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	return h % 256;
}

/* The table's entry, created when `create`. */
static table_entry *
entry_of(trib_my_history *h, const char *db, const char *table, bool create)
{
	unsigned	b = bucket_of(db, table);
	table_entry *e;

	for (e = h->buckets[b]; e; e = e->next)
		if (strcmp(e->db, db) == 0 && strcmp(e->table, table) == 0)
			return e;
	if (!create)
		return NULL;
	e = trib_xcalloc(1, sizeof(*e));
	e->db = trib_xstrdup(db);
	e->table = trib_xstrdup(table);
	e->next = h->buckets[b];
	h->buckets[b] = e;
	return e;
}

/* a before b, where NULL / from_start is before everything. */
static int
cmp_from(const version *v, const trib_my_pos *p)
{
	if (v->from_start)
		return p ? -1 : 0;
	if (p == NULL)
		return 1;
	return trib_my_pos_cmp(&v->from, p);
}

/* Insert a version at its place in the order. */
static void
insert_version(trib_my_history *h, table_entry *e, const trib_my_pos *from,
			   trib_my_tableinfo *t)
{
	version		v = {0};
	int			at = e->nversions;

	v.from_start = from == NULL;
	if (from)
		v.from = *from;
	v.info = t;
	while (at > 0 && cmp_from(&e->versions[at - 1], from) > 0)
		at--;
	e->versions = trib_xrealloc(e->versions, sizeof(version) * (size_t) (e->nversions + 1));
	memmove(&e->versions[at + 1], &e->versions[at],
			sizeof(version) * (size_t) (e->nversions - at));
	e->versions[at] = v;
	e->nversions++;
	h->nversions++;
}

void
trib_my_history_add(trib_my_history *h, const trib_my_pos *from,
					trib_my_tableinfo *t)
{
	insert_version(h, entry_of(h, t->db, t->table, true), from, t);
}

void
trib_my_history_put(trib_my_history *h, const char *db, const char *table,
					const trib_my_pos *from, trib_my_tableinfo *t)
{
	insert_version(h, entry_of(h, db, table, true), from, t);
}

/* See mysql_schema.h. */
bool
trib_my_history_record(trib_my_history *h, const trib_my_pos *from, trib_my_tableinfo *t,
					   char *errbuf, size_t errlen)
{
	if (h->store.version &&
		!h->store.version(h->store.arg, t->db, t->table, from, t, errbuf, errlen))
	{
		trib_my_tableinfo_free(t);
		return false;
	}
	trib_my_history_add(h, from, t);
	return true;
}

/* The newest version valid at `at` (NULL: the newest of all), or NULL. */
static const version *
version_at(const table_entry *e, const trib_my_pos *at)
{
	for (int i = e->nversions - 1; i >= 0; i--)
		if (at == NULL || cmp_from(&e->versions[i], at) <= 0)
			return &e->versions[i];
	return NULL;
}

/* The latest DDL after v's start and at or before `at`, or NULL. */
static const trib_my_pos *
ddl_between(const trib_my_history *h, const version *v, const trib_my_pos *at)
{
	const trib_my_pos *best = NULL;

	for (int i = 0; i < h->nddls; i++)
	{
		const trib_my_pos *d = &h->ddls[i];

		if (v && cmp_from(v, d) >= 0)
			continue;
		if (at && trib_my_pos_cmp(d, at) > 0)
			continue;
		if (best == NULL || trib_my_pos_cmp(d, best) > 0)
			best = d;
	}
	return best;
}

/* lookup op: the version at `at`, loading a new one when needed. */
static bool
history_lookup(void *ctx, const char *db, const char *table, const trib_my_pos *at,
			   const trib_my_tableinfo **out, unsigned *errnum,
			   char *errbuf, size_t errlen)
{
	trib_my_history *h = ctx;
	table_entry *e = entry_of(h, db, table, false);
	const version *v = e ? version_at(e, at) : NULL;
	const trib_my_pos *ddl = ddl_between(h, v, at);
	trib_my_tableinfo *t = NULL;
	trib_my_pos from;

	*out = NULL;
	*errnum = 0;
	if (h->store_error)
		return trib_my_fail(errbuf, errlen, "%s", h->store_error);
	if (v && ddl == NULL)
	{
		*out = v->info;
		return true;
	}
	if (h->load == NULL)
		return true;
	if (!h->load(h->load_arg, db, table, &t, errnum, errbuf, errlen))
		return false;
	if (ddl)
		from = *ddl;
	if (h->store.version &&
		!h->store.version(h->store.arg, db, table, ddl ? &from : NULL, t,
						  errbuf, errlen))
	{
		trib_my_tableinfo_free(t);
		return false;
	}
	e = entry_of(h, db, table, true);
	insert_version(h, e, ddl ? &from : NULL, t);
	*out = t;
	return true;
}

/* Remember a DDL position; false when it was known already. */
static bool
add_ddl(trib_my_history *h, const trib_my_pos *at)
{
	for (int i = 0; i < h->nddls; i++)
		if (trib_my_pos_cmp(&h->ddls[i], at) == 0)
			return false;		/* read again after a restart */
	h->ddls = trib_xrealloc(h->ddls, sizeof(trib_my_pos) * (size_t) (h->nddls + 1));
	h->ddls[h->nddls++] = *at;
	return true;
}

void
trib_my_history_put_ddl(trib_my_history *h, const trib_my_pos *at)
{
	(void) add_ddl(h, at);
}

/* The newest version that starts before `at`, or NULL. */
static const version *
version_before(const table_entry *e, const trib_my_pos *at)
{
	for (int i = e->nversions - 1; i >= 0; i--)
		if (cmp_from(&e->versions[i], at) < 0)
			return &e->versions[i];
	return NULL;
}

/* What the DDL parser asks: the version of a table just before the
 * statement, known only when no unparsed DDL lies between. */
typedef struct prev_ctx
{
	trib_my_history *h;
	const trib_my_pos *at;
} prev_ctx;

static bool
prev_version(void *arg, const char *db, const char *table, const trib_my_tableinfo **out)
{
	prev_ctx   *p = arg;
	table_entry *e = entry_of(p->h, db, table, false);
	const version *v = e ? version_before(e, p->at) : NULL;

	*out = NULL;
	if (v == NULL || ddl_between(p->h, v, p->at))
		return false;
	*out = v->info;
	return true;
}

/* Whether a statement at `at` was applied already (read again after a
 * restart): a version starts there, or it is a known DDL position. */
static bool
applied_at(const trib_my_history *h, const trib_my_pos *at)
{
	for (int i = 0; i < h->nddls; i++)
		if (trib_my_pos_cmp(&h->ddls[i], at) == 0)
			return true;
	for (int b = 0; b < 256; b++)
		for (const table_entry *e = h->buckets[b]; e; e = e->next)
			for (int i = 0; i < e->nversions; i++)
				if (!e->versions[i].from_start &&
					trib_my_pos_cmp(&e->versions[i].from, at) == 0)
					return true;
	return false;
}

/* See mysql_schema.h. */
bool
trib_my_history_each_at(const trib_my_history *h, const trib_my_pos *at,
						trib_my_history_each_fn fn, void *arg)
{
	for (int b = 0; b < 256; b++)
		for (const table_entry *e = h->buckets[b]; e; e = e->next)
			for (int i = 0; i < e->nversions; i++)
				if (!e->versions[i].from_start &&
					trib_my_pos_cmp(&e->versions[i].from, at) == 0 &&
					!fn(arg, e->db, e->table, e->versions[i].info))
					return false;
	return true;
}

/* Record the versions a parsed DDL derived, valid from `at`. */
static void
apply_changes(trib_my_history *h, trib_my_ddl_result *r, const trib_my_pos *at)
{
	char		err[512];

	for (int i = 0; i < r->nchanges; i++)
	{
		trib_my_ddl_change *ch = &r->changes[i];

		if (h->store_error == NULL && h->store.version &&
			!h->store.version(h->store.arg, ch->db, ch->table, at, ch->info,
							  err, sizeof(err)))
			h->store_error = trib_xstrdup(err);
		if (h->store_error)
			return;				/* the rest is freed with r */
		insert_version(h, entry_of(h, ch->db, ch->table, true), at, ch->info);
		ch->info = NULL;
	}
}

/* Today's way for a DDL not parsed: every table's next version is read
 * from information_schema when next needed. */
static void
mark_ddl(trib_my_history *h, const trib_my_pos *at)
{
	char		err[512];

	if (!add_ddl(h, at) || h->store.ddl == NULL || h->store_error)
		return;
	if (!h->store.ddl(h->store.arg, at, err, sizeof(err)))
		h->store_error = trib_xstrdup(err);
}

/* Which server wrote the binlog, by its GTIDs (MariaDB writes one for
 * every group; MySQL only with gtid_mode ON). */
static trib_my_flavour
flavour_at(const trib_my_pos *at)
{
	return at->gtid.kind == TRIB_MY_GTID_MARIADB ? TRIB_MY_FLAVOUR_MARIADB :
		at->gtid.kind == TRIB_MY_GTID_MYSQL ? TRIB_MY_FLAVOUR_MYSQL : TRIB_MY_FLAVOUR_UNKNOWN;
}

/*
 * ddl op: derive the new versions of the tables a statement changes, valid
 * from its position; when that is uncertain, say so and fall back to
 * reading information_schema when next needed.
 */
static void
history_ddl(void *ctx, const char *db, const char *statement, const trib_my_pos *at)
{
	trib_my_history *h = ctx;
	prev_ctx	p = {h, at};
	trib_my_ddl_result r;
	char		pos[TRIB_MY_POS_BUFLEN];

	if (at == NULL || h->store_error || applied_at(h, at))
		return;
	trib_my_ddl_parse(db, statement, flavour_at(at), prev_version, &p, &r);
	trib_my_pos_format(at, pos, sizeof(pos));
	if (r.outcome == TRIB_MY_DDL_CERTAIN)
	{
		hlog(h, 3, "schema history: DDL at %s: %d table version(s) derived",
			 pos, r.nchanges);
		apply_changes(h, &r, at);
	}
	else
	{
		if (r.outcome == TRIB_MY_DDL_UNCERTAIN)
			hlog(h, 2, "schema history: DDL at %s not derived (%s): %s; "
				 "the next version of each table is read from information_schema",
				 pos, r.why, r.excerpt);
		mark_ddl(h, at);
	}
	trib_my_ddl_result_free(&r);
}

static const trib_my_schema_ops history_ops = {
	.lookup = history_lookup,
	.ddl = history_ddl,
};

trib_my_schema
trib_my_history_schema(trib_my_history *h)
{
	trib_my_schema s = {&history_ops, h};

	return s;
}

size_t
trib_my_history_versions(const trib_my_history *h)
{
	return h->nversions;
}
