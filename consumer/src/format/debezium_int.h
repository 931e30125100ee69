/*
 * debezium_int.h: what debezium_row.c and debezium_lex.c share (internal
 * to src/format): the converter's struct and its relation cache.
 *
 * Design.  A trib_dbz keeps the coltypes (and rendered Connect schemas) of
 * each relation version it has seen, and the scratch memory of the row
 * conversion (debezium_lex.c), so that converting an image allocates
 * nothing in the steady state.
 */
#ifndef TRIB_DEBEZIUM_INT_H
#define TRIB_DEBEZIUM_INT_H

#include "debezium.h"

/* How the plain-text walk's member loop (debezium_lex.c) converts a
 * top-level scalar of a column, decided once per relation version and
 * option set (the converter's options are fixed). */
typedef enum trib_dbz_plan
{
	TRIB_DBZ_PLAN_ASIS,			/* passed as is: the token's bytes copied */
	TRIB_DBZ_PLAN_TEXT,			/* encoded from its text (trib_dbz_text_value) */
	TRIB_DBZ_PLAN_OTHER			/* the scalar handler decides */
} trib_dbz_plan;

/* The coltypes of one relation version. */
typedef struct relentry
{
	const trib_relation *rel;
	uint32_t	version;
	trib_dbz_coltype *types;
	/* each column's member name as the lexer writes it, ",\"name\":"
	 * (quoted by trib_dbz_quote), at members + member_off[i] (ncolumns + 1
	 * offsets), and the length of its unquoted name in name_len[i];
	 * plain[i]: the name is printable ASCII without '"' or '\', so an
	 * image writes it as it is (the lexer matches it without a scan) */
	char	   *members;
	size_t	   *member_off;
	size_t	   *name_len;
	bool	   *plain;
	/* the column plan: plan[i] is column i's trib_dbz_plan (a byte) */
	unsigned char *plan;
	/* schemas.enable: the rendered schemas, or NULL until asked for */
	char	   *value_schema;
	char	   *key_schema;
	size_t		value_schema_len;
	size_t		key_schema_len;
} relentry;

struct trib_dbz
{
	trib_dbz_opts opts;
	relentry   *rels;
	size_t		nrels;
	size_t		cap;
	trib_strbuf name;			/* scratch: the member being converted */
	trib_strbuf val;			/* scratch: its value text */
	/* yajl's memory for one image, reused from image to image */
	unsigned char *arena;
	size_t		alen;
	/* tests: convert every image with yajl, not the plain-text walk first
	 * (debezium_lex.c), to compare the two */
	bool		yajl_only;
};

/* The cache entry of rel, its coltypes worked out on first use and again
 * when the relation's version changes (which drops its schemas). */
relentry   *trib_dbz_rel_entry(trib_dbz *d, trib_dbz_mapper map,
							   const trib_relation *rel);

/* The column index of member name[0..n) (tried at `hint` first), or -1. */
int			trib_dbz_column_of(const trib_relation *rel, const char *name,
							   size_t n, size_t hint);

#endif							/* TRIB_DEBEZIUM_INT_H */
