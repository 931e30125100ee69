/*
 * relation_fields.h: a captured relation's columns as libtribsr fields,
 * the one walk from trib_relation to trib_sr_field that the schema stage
 * (schema/schema_table.c) and the Kafka sink's Avro encoder
 * (sink/kafka/kafka_avro.c) both build a table schema from, so that the
 * document the sink encodes against is the one the stage registered.
 *
 * Each column's type is its source type read by the connector's mapping
 * (trib_sr_source_type: PostgreSQL's format_type() text, MySQL's DATA_TYPE
 * with its COLUMN_TYPE).  Key fields are the primary key's columns, else
 * the replica identity's.  With `shapes`, a jsonb column of an inferred
 * schema (MongoDB's, relation.h fields and items) is described by its shape:
 * an object of its properties (a composite named by its path from the top,
 * "addr", "addr_geo", so that Avro's record names stay apart), or an array
 * of its items' type; without, it is jsonb like any other.
 *
 * Ownership: the fields are the caller's (trib_relation_fields_free); their
 * names point into rel, which must outlive them.
 */
#ifndef TRIB_RELATION_FIELDS_H
#define TRIB_RELATION_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "relation.h"
#include "tribsr.h"

/* The fields of rel's columns (one per column, in order) into *out; false
 * with "column NAME: why" in errbuf. */
bool		trib_relation_fields(const trib_relation *rel, const char *connector,
								 bool shapes, trib_sr_field **out,
								 char *errbuf, size_t errlen);

/* Free n fields built by trib_relation_fields (nested ones included). */
void		trib_relation_fields_free(trib_sr_field *fields, size_t n);

#endif							/* TRIB_RELATION_FIELDS_H */
