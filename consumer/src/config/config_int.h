/*
 * config_int.h: what the loader's files share, private to config/.
 *
 * The loader is one walk over the YAML tree with one state (ck_ctx), split
 * by concern:
 *   config.c          loading: the file, the walk of the top level, the
 *                     finish functions afterwards, the sorted error report;
 *                     the services the key tables use (ck_error, ...);
 *                     lookups
 *   config_scalars.c  values: ${VAR} substitution, secrets from files,
 *                     integers, booleans, words, lists and maps of strings
 *   config_walk.c     sections against their key tables (unknown,
 *                     duplicate, missing keys, defaults) and families:
 *                     `sources:` and `sinks:` through the registry, the
 *                     rules' list
 * Nothing outside config/ includes this header.
 */
#ifndef TRIB_CONFIG_INT_H
#define TRIB_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "config_keys.h"

#define MAX_SECRET_BYTES (64 * 1024)
#define ENTRY_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"

/* A finish function to run after the walk. */
typedef struct ck_pending
{
	const ck_section *sec;
	const trib_yaml_node *map;
	const trib_yaml_node *at;
	char	   *path;
	void	   *base;
	const char *name;
} ck_pending;

/* One reported problem; sorted by position before it is shown. */
typedef struct ck_errline
{
	int			line;			/* 0 when the problem has no position */
	int			column;
	int			seq;			/* report order, for a stable sort */
	char	   *text;
} ck_errline;

struct ck_ctx
{
	const char *file;
	trib_config *cfg;
	ck_errline	errs[TRIB_CONFIG_MAX_ERRORS];
	int			nerr;			/* reported, may exceed the array */
	ck_pending *pending;
	size_t		npending;
	size_t		cappending;
};

/* ---- config_scalars.c --------------------------------------------------- */

/* The expanded text of a scalar value (malloc'd), or NULL after
 * reporting; CK_TEMPLATE in flags keeps the topic placeholders. */
char	   *ck_scalar_text(ck_ctx *c, const trib_yaml_node *v, const char *path,
						   const char *expected, unsigned flags);

/* Free a secret string after wiping it. */
void		ck_free_secret(char *s);

/* A secret read from a file (one trailing newline dropped), or NULL after
 * reporting. */
char	   *ck_read_secret_file(ck_ctx *c, const trib_yaml_node *at, const char *path,
								const char *file);

/* Interpret `text` for a scalar key and store it in `base`; false with a
 * message when it is invalid (values and defaults alike). */
bool		ck_store_value(const ck_key *k, const char *text, void *base,
						   char *msg, size_t msglen);

/* What a key's value should be, for "expected X, got Y". */
const char *ck_expected_of(const ck_key *k);

/* "a, b, c" from a NULL-terminated word list (malloc'd). */
char	   *ck_join_words(const char *const *words);

/* The first key node before index i in `map` with the same text, or NULL. */
const trib_yaml_node *ck_earlier_duplicate(const trib_yaml_node *map, size_t i);

/* A list of strings; a map of strings (secret names may be NAME_file). */
void		ck_parse_strlist(ck_ctx *c, const ck_key *k, const trib_yaml_node *v,
							 const char *path, trib_strlist *list);
void		ck_parse_kvlist(ck_ctx *c, const ck_key *k, const trib_yaml_node *v,
							const char *path, trib_kvlist *list);

/* True when `key` (len bytes) is one of a CK_KVLIST key's secret names. */
bool		ck_is_secret_name(const ck_key *k, const char *key, size_t len);

#endif							/* TRIB_CONFIG_INT_H */
