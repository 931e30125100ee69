/*
 * relation.h: a captured table's schema as every source describes it and
 * every stage and sink reads it: trib_relation, its columns (trib_column),
 * and their life cycle (deep copy, clear, free, fresh versions).
 *
 * Design.  A relation is plain data: names, an array of columns, and a
 * version that a source increases when it sees the table change, so
 * that a stage caches per relation by (address, version).  An event only
 * points to the relation current when it was read (event.h's ev->rel),
 * and event.h includes this header, so its users need nothing more.  A
 * column of an inferred schema (MongoDB) describes its nested objects
 * with a relation of their own (trib_column.fields): copy and free walk
 * that tree.
 *
 * Ownership: a relation owns its names and columns, and each column its
 * strings and nested relation; trib_relation_free() releases all of them.
 * Whoever built a relation frees it (the source, or a transform that
 * reshapes rows), never the events that borrow it.
 */
#ifndef TRIB_RELATION_H
#define TRIB_RELATION_H

#include <stdbool.h>
#include <stdint.h>

/* One column of a captured table, as the source described it. */
typedef struct trib_column
{
	char	   *name;
	char	   *type;			/* SQL type with modifier, e.g. "numeric(12,2)" */
	uint32_t	type_oid;		/* Postgres type OID; 0 for other sources */
	/* The full declaration where `type` is only the type's name: MySQL's
	 * COLUMN_TYPE ("decimal(12,2) unsigned", "datetime(3)", "bit(5)",
	 * "enum('a','b')"; "json" for MariaDB's JSON alias).  NULL for the
	 * sources whose `type` says everything (PostgreSQL) and where unknown. */
	char	   *decl;
	bool		nullable;
	bool		pk;				/* part of the primary key */
	bool		identity;		/* part of the replica identity key */
	/* A jsonb column of an inferred schema (MongoDB, infer_schema):
	 * `items` set: it holds arrays, of items of that type (as `type`; ""
	 * while unknown), objects ("jsonb") with `fields` as their
	 * properties; `items` NULL and `fields` set: it holds objects with
	 * these properties.  Both NULL otherwise.  Owned like name and type
	 * (trib_relation_column_copy, trib_relation_column_clear). */
	struct trib_relation *fields;
	char	   *items;
	/* (last, so that positional initializers of the members above still
	 * hold) */
	/* PostgreSQL: a domain column's final base type with modifier
	 * ("numeric(10,2)"; an array of a domain: "numeric(10,2)[]"), what its
	 * values are written as; NULL for other columns and sources.  Owned. */
	char	   *base_type;
	/* PostgreSQL: an enum column's (or a domain over one, or an array of
	 * either) labels in sort order; NULL and 0 for other columns.  The
	 * array and each label are owned. */
	char	  **enum_labels;
	int			nenum_labels;
} trib_column;

/*
 * A captured table's schema (from the plugin's relation records, a binlog
 * table map, ...).  Owned by the source that built it; an event points to
 * the version current when the event was read, and a source never frees a
 * version while events referring to it may still be in flight (it keeps old
 * versions until close).  Stages cache per relation by (address, version);
 * a relation freed before close (a snapshot's, freed when its phase ends,
 * after its events were acknowledged) takes its version from
 * trib_relation_fresh_version(), so that a later relation at the same
 * address never matches what was cached for it.
 */
typedef struct trib_relation
{
	char	   *schema;
	char	   *table;
	int			ncolumns;
	trib_column *columns;
	uint32_t	version;		/* increases when the source sees a change */
} trib_relation;

/* Release what a relation owns (schema, table, columns with all they
 * own) and zero it, but not the struct itself. */
void		trib_relation_clear(trib_relation *rel);

/* A deep copy of rel (on the heap; trib_relation_free), version kept. */
trib_relation *trib_relation_copy(const trib_relation *rel);

/* *dst = a deep copy of *src (name, type, decl, base_type, enum_labels,
 * fields, items). */
void		trib_relation_column_copy(trib_column *dst, const trib_column *src);

/* Free what a column owns (name, type, decl, base_type, enum_labels,
 * fields, items) and zero it. */
void		trib_relation_column_clear(trib_column *c);

/* The column's type changed (a transform's cast): drop what described
 * the old one (decl, base_type, enum_labels; type_oid is left). */
void		trib_relation_column_untype(trib_column *c);
/* A relation version no relation of this process had before (from 2^31
 * up, above the small numbers the streams count from); thread-safe. */
uint32_t	trib_relation_fresh_version(void);

/* trib_relation_clear, then free the struct; NULL is allowed.  For the
 * source (or a transform) that built the relation, never for an event's
 * borrowed `rel`. */
void		trib_relation_free(trib_relation *rel);

#endif							/* TRIB_RELATION_H */
