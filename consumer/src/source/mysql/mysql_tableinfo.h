/*
 * mysql_tableinfo.h: a version of a table as information_schema describes
 * it (its columns' names, types, keys, collations), shared by the schema
 * history (mysql_schema.h), its loader (mysql_infoschema.h), its file and
 * the DDL parser (mysql_ddl.h), with its copy and free, and its relation
 * for the pipeline (the snapshot's, and a DDL's for the schema registry).
 *
 * Ownership: a trib_my_tableinfo owns its strings and columns; a copy is
 * deep.
 */
#ifndef TRIB_MYSQL_TABLEINFO_H
#define TRIB_MYSQL_TABLEINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"

/* One column as information_schema describes it. */
typedef struct trib_my_colinfo
{
	char	   *name;
	char	   *data_type;		/* DATA_TYPE, lower case: "int", "enum",
								 * "longtext", "json" (MySQL), ... */
	char	   *column_type;	/* COLUMN_TYPE: "decimal(12,2) unsigned",
								 * "datetime(3)", "enum('a','b')"; "json"
								 * for MariaDB's JSON alias; NULL when a
								 * history file from before it was kept */
	bool		is_unsigned;
	bool		is_json;		/* MySQL json, or MariaDB's JSON alias (a
								 * LONGTEXT with CHECK (json_valid(col))) */
	bool		generated;		/* VIRTUAL or STORED generated column */
	int			pk_pos;			/* 1-based place in the primary key, 0 */
	bool		nullable;
	uint32_t	collation;		/* collation id; 0 when not character data */
	int			nvalues;		/* ENUM/SET members, in definition order */
	char	  **values;
} trib_my_colinfo;

/* One version of a table. */
typedef struct trib_my_tableinfo
{
	char	   *db;
	char	   *table;
	int			ncols;			/* in ordinal order */
	trib_my_colinfo *cols;
} trib_my_tableinfo;

/* Free a table description made by a loader (and everything in it). */
void		trib_my_tableinfo_free(trib_my_tableinfo *t);

/* A deep copy of a version (a new version derived from it). */
trib_my_tableinfo *trib_my_tableinfo_copy(const trib_my_tableinfo *t);

/* Free what a column holds and zero it. */
void		trib_my_colinfo_clear(trib_my_colinfo *col);

/* A deep copy of a column into *dst. */
void		trib_my_colinfo_copy(trib_my_colinfo *dst, const trib_my_colinfo *src);

/*
 * The pipeline's relation of version t (event.h): schema and table are t's
 * db and table, each column's name, type (DATA_TYPE), declaration
 * (COLUMN_TYPE), nullability and key are t's, borrowed; a fresh version.
 * rel->columns is the caller's to free; t must outlive rel.
 */
void		trib_my_tableinfo_relation(const trib_my_tableinfo *t, trib_relation *rel);

#endif							/* TRIB_MYSQL_TABLEINFO_H */
