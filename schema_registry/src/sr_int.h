/*
 * sr_int.h: what the files of the schema registry library share and the
 * public header does not show.  Nothing outside schema_registry/src/
 * includes it.
 *
 * Design.  Three small tools carry the whole library:
 *   - sr_buf, a growable string with a sticky out-of-memory flag, so that
 *     a writer appends without checking every call and tests the flag
 *     once at the end (the library must never abort inside a PostgreSQL
 *     backend);
 *   - the JSON helpers over yajl's tree (sr_json.c): a guarded parse, key
 *     lookup, structural equality and the canonical writer;
 *   - sr_diffs, the list of differences a checker collects (path, kind,
 *     message), turned into the public violation list by sr_compat.c.
 * The schema object itself is defined here because the parser, both
 * checkers and the table generator look inside it.
 */
#ifndef SR_INT_H
#define SR_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "tribsr.h"

/* Nesting deeper than this is refused when parsing (yajl_tree_free and the
 * checkers recurse). */
#define SR_MAX_DEPTH 200

/* ---- errors ---- */

/* Format a message into errbuf (when errlen > 0); returns false, so a
 * caller can `return sr_err(...)`. */
bool		sr_err(char *errbuf, size_t errlen, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* ---- sr_buf: a growable NUL-terminated string ---- */

typedef struct sr_buf
{
	char	   *data;			/* NUL-terminated when not NULL; owned */
	size_t		len;
	size_t		cap;
	bool		oom;			/* an append failed: the content is cut */
} sr_buf;

void		sr_buf_add(sr_buf *b, const char *s, size_t n);
void		sr_buf_adds(sr_buf *b, const char *s);
void		sr_buf_addc(sr_buf *b, char c);
void		sr_buf_printf(sr_buf *b, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
/* A JSON string literal of s[0..n), quoted, escaping only what JSON
 * requires (", \, control characters); UTF-8 passes through. */
void		sr_buf_json_str(sr_buf *b, const char *s, size_t n);
/* Hand the string over (caller frees), or NULL when an append failed;
 * the buffer is reset either way. */
char	   *sr_buf_finish(sr_buf *b);
void		sr_buf_free(sr_buf *b);

/* ---- JSON over yajl's tree (sr_json.c) ---- */

/* Parse len bytes: NULL with errbuf set on a syntax error, nesting deeper
 * than SR_MAX_DEPTH, a string holding \u0000, or a duplicate object key.
 * Free the tree with yajl_tree_free(). */
yajl_val	sr_json_parse(const char *text, size_t len, char *errbuf, size_t errlen);

/* The member `key` of an object, or NULL (also when v is not an object). */
yajl_val	sr_json_get(yajl_val v, const char *key);

/* A string member, or NULL. */
const char *sr_json_get_str(yajl_val v, const char *key);

/* Structural equality: object members compared by key whatever their
 * order, numbers by value when both are plain integers or doubles, else
 * by text. */
bool		sr_json_equal(yajl_val a, yajl_val b);

/* Append the canonical form of v: keys sorted by bytes, no whitespace,
 * numbers as written. */
void		sr_json_canon(sr_buf *b, yajl_val v);

/* Compare two JSON numbers given as text exactly; returns <0, 0, >0.
 * Numbers outside what long double holds exactly compare approximately. */
int			sr_num_cmp(const char *a, const char *b);

/* Whether number a is an integer multiple of number b (both positive),
 * decided exactly on their decimal text; false when unsure. */
bool		sr_num_is_multiple(const char *a, const char *b);

/* ---- fingerprints (sr_fingerprint.c) ---- */

bool		sr_sha256(const void *data, size_t len, unsigned char out[TRIB_SR_SHA256_LEN]);

/* ---- the schema object ---- */

typedef struct sr_avro sr_avro;	/* sr_avro.h */

struct trib_sr_schema
{
	trib_sr_format fmt;
	yajl_val	root;			/* the parsed document; owned */
	char	   *canon;			/* canonical form; owned */
	size_t		canon_len;
	unsigned char sha256[TRIB_SR_SHA256_LEN];
	uint64_t	hash;
	/* Avro only */
	sr_avro    *avro;			/* the resolved model; owned */
	char	   *pcf;			/* Parsing Canonical Form; owned */
	size_t		pcf_len;
	uint64_t	crc64;
};

/* ---- differences collected by a checker ---- */

typedef struct sr_diff
{
	char	   *path;			/* owned */
	const char *kind;			/* static */
	char	   *message;		/* owned; NULL for a bare difference */
} sr_diff;

typedef struct sr_diffs
{
	sr_diff    *items;
	size_t		count;
	size_t		cap;
	bool		oom;			/* an add failed */
	bool		too_big;		/* the work limit was reached */
	long		budget;			/* comparisons left before too_big */
} sr_diffs;

/* Append a difference (copies path and the formatted message). */
void		sr_diffs_add(sr_diffs *d, const char *path, const char *kind,
						 const char *fmt,...) __attribute__((format(printf, 4, 5)));
/* The same without a message (message NULL): for differences that can
 * never become violations, which need no sentence. */
void		sr_diffs_add_bare(sr_diffs *d, const char *path, const char *kind);
/* Move src's differences to the end of dst (src is left empty, its oom
 * flag carried over). */
void		sr_diffs_move(sr_diffs *dst, sr_diffs *src);
void		sr_diffs_free(sr_diffs *d);

/* The checkers: every way `reader` cannot read data written with `writer`,
 * appended to out.  `reader_is_new` only words the messages ("the new
 * schema" / "the old schema"). */
void		sr_json_check(const trib_sr_schema *reader, const trib_sr_schema *writer,
						  bool reader_is_new, sr_diffs *out);
void		sr_avro_check(const trib_sr_schema *reader, const trib_sr_schema *writer,
						  bool reader_is_new, sr_diffs *out);

/* JSON Schema validation beyond syntax: every $ref is local and resolves
 * (sr_jsch_model.c). */
bool		sr_jsch_validate(yajl_val root, char *errbuf, size_t errlen);

#endif							/* SR_INT_H */
