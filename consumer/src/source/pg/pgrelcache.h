/*
 * pgrelcache.h: the PostgreSQL source's relation cache: what the plugin's
 * relation records say about each captured table.
 *
 * Design.  The record parser (pgrecord.c) installs an entry from every
 * relation record and looks one up for every change, to build the event's
 * key and to point the event at the table's schema (event.h's
 * trib_relation).  Entries live in a hash by schema.table; a relation
 * record for a known relid (a renamed table) or a known name replaces the
 * old entry.  The schema views handed to events are never freed before
 * the cache, because an event may outlive the entry it was parsed with (a
 * newer relation record replaces the entry while the event waits in a
 * sink's batch); there is one view per distinct description of a table
 * (a relation record equal to an earlier one of the same table gets that
 * record's view back), a few per table and connection, however often
 * publish-via-root partitions with different replica identities make the
 * record alternate.
 *
 * Ownership: the cache owns its entries and views; lookups return
 * borrowed pointers, valid until the entry is replaced (entries) or the
 * cache is freed (views).
 */
#ifndef TRIB_PGRELCACHE_H
#define TRIB_PGRELCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* One column of a relation record. */
typedef struct trib_pgcol
{
	char	   *name;
	char	   *type;			/* format_type text, e.g. "numeric(12,2)" */
	uint32_t	type_oid;
	int32_t		typmod;
	/* A domain (or an array of one): its final base type (docs/PLUGIN.md,
	 * base_type, base_type_oid, base_typmod); NULL, 0, -1 otherwise. */
	char	   *base_type;
	uint32_t	base_type_oid;
	int32_t		base_typmod;
	/* An enum (or a domain over one, or an array of either): its labels
	 * in sort order (enum_labels); NULL and 0 otherwise. */
	char	  **enum_labels;
	size_t		nenum_labels;
	bool		nullable;
	bool		pk;
	bool		identity;
} trib_pgcol;

/* Per-relation metadata, from the latest relation record of the table. */
typedef struct trib_pgrel
{
	uint32_t	relid;
	char	   *schema;
	char	   *table;
	char	   *replica_identity;	/* default, index, full, nothing */
	trib_pgcol *cols;
	size_t		ncols;
	char	  **primary_key;
	size_t		npk;
	char	  **identity_key;
	size_t		nik;
	char	  **key;			/* identity_key, or primary_key when empty */
	size_t		nkey;
	const trib_relation *view;	/* the same as event.h's trib_relation;
								 * owned by the cache until it is freed */
} trib_pgrel;

typedef struct trib_pgrelcache trib_pgrelcache;

/* A new, empty cache; never NULL (aborts on out-of-memory). */
trib_pgrelcache *trib_pgrelcache_new(void);

/* Free the cache, its entries and views; NULL is allowed. */
void		trib_pgrelcache_free(trib_pgrelcache *c);

/* The entry of schema.table, or NULL (also for NULL arguments). */
const trib_pgrel *trib_pgrelcache_find(const trib_pgrelcache *c,
									   const char *schema, const char *table);

/* Install *r as the entry of its table, taking what it owns (*r is
 * zeroed), and make its view; returns the installed entry. */
const trib_pgrel *trib_pgrelcache_install(trib_pgrelcache *c, trib_pgrel *r);

/* Free an array of n strings (a key column list); NULL is allowed. */
void		trib_pgrelcache_free_strv(char **v, size_t n);

/* Free what a column owns (name, type, base_type, enum_labels), not the
 * column. */
void		trib_pgrelcache_col_clear(trib_pgcol *c);

#endif							/* TRIB_PGRELCACHE_H */
