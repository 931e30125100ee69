/*
 * sr_avro.h: the resolved model of an Avro schema, built from the JSON
 * document after libavro has accepted it (sr_avro_model.c), and read by the
 * Parsing Canonical Form writer (sr_avro_canon.c) and the resolution
 * checker (sr_avro_compat.c).
 *
 * Why a model of our own: avro-c's avro_schema_t keeps neither field
 * defaults, nor aliases, nor an enum's default, nor logical types, and
 * its avro_schema_match() answers yes or no for the first problem only.
 * Schema resolution needs all of those, and the registry must report every
 * violation, so the library validates with libavro and then walks the
 * document itself.
 *
 * Ownership: one sr_avro owns every node (chained through `next`) and the
 * full names and aliases it built; field names, symbols, defaults and
 * other strings point into the schema's yajl tree, which the owning
 * trib_sr_schema keeps alive.  A reference to a named type is the defining
 * node itself, so recursive types are cycles in the graph.
 */
#ifndef SR_AVRO_H
#define SR_AVRO_H

#include "sr_int.h"

typedef enum sr_akind
{
	SR_A_NULL,
	SR_A_BOOLEAN,
	SR_A_INT,
	SR_A_LONG,
	SR_A_FLOAT,
	SR_A_DOUBLE,
	SR_A_BYTES,
	SR_A_STRING,
	SR_A_RECORD,
	SR_A_ENUM,
	SR_A_ARRAY,
	SR_A_MAP,
	SR_A_UNION,
	SR_A_FIXED
} sr_akind;

typedef struct sr_anode sr_anode;

typedef struct sr_afield
{
	const char *name;
	sr_anode   *type;
	yajl_val	def;			/* the default, or NULL */
	char	  **aliases;		/* owned strings */
	size_t		naliases;
} sr_afield;

struct sr_anode
{
	sr_akind	kind;
	char	   *fullname;		/* named types; owned */
	const char *name;			/* the unqualified part of fullname */
	char	  **aliases;		/* full names; owned */
	size_t		naliases;
	sr_afield  *fields;			/* RECORD; owned array */
	size_t		nfields;
	const char **symbols;		/* ENUM; owned array of tree strings */
	size_t		nsymbols;
	const char *enum_default;	/* ENUM; or NULL */
	sr_anode   *items;			/* ARRAY items, MAP values */
	sr_anode  **branches;		/* UNION; owned array */
	size_t		nbranches;
	int64_t		size;			/* FIXED */
	bool		decimal;		/* logicalType decimal on BYTES/FIXED */
	int64_t		precision;
	int64_t		scale;
	sr_anode   *next;			/* allocation chain */
};

struct sr_avro
{
	sr_anode   *root;
	sr_anode   *all;			/* every node, for freeing */
	sr_anode  **named;			/* the named types, for references */
	size_t		nnamed;
	size_t		capnamed;
};

/* Build the model of a document libavro accepted; NULL with errbuf set
 * when a rule libavro does not check is broken. */
sr_avro    *sr_avro_build(yajl_val root, char *errbuf, size_t errlen);
void		sr_avro_free(sr_avro *a);

/* The Parsing Canonical Form of the model (malloc'd), NULL on OOM. */
char	   *sr_avro_pcf(const sr_avro *a, size_t *len);

/* "int", "record", ... */
const char *sr_akind_name(sr_akind k);

#endif							/* SR_AVRO_H */
