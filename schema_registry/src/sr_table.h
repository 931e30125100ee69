/*
 * sr_table.h: the two writers of table schemas (sr_table_json.c,
 * sr_table_avro.c) behind trib_sr_table_schema() (sr_table.c).
 *
 * Each writer appends the document of the table's value or key to a
 * buffer; sr_table.c then parses it like any registered schema, so the
 * result is validated (by libavro too) and carries its canonical form and
 * fingerprints.  The mapping of each kind is documented once, in
 * docs/SCHEMA_REGISTRY.md.
 */
#ifndef SR_TABLE_H
#define SR_TABLE_H

#include "sr_int.h"

/* Whether a field belongs to the part asked for. */
bool		sr_table_wants(const trib_sr_field *f, trib_sr_table_part part);

bool		sr_table_json(sr_buf *b, const trib_sr_table *t, trib_sr_table_part part,
						  char *errbuf, size_t errlen);
bool		sr_table_avro(sr_buf *b, const trib_sr_table *t, trib_sr_table_part part,
						  char *errbuf, size_t errlen);

#endif							/* SR_TABLE_H */
