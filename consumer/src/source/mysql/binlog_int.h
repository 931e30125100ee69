/*
 * binlog_int.h: the decoder's internals, shared by the binlog_*.c files of
 * source/mysql/ (mysql_binlog.h is the public side).
 *
 *   binlog_decode.c    the decoder, event headers, control events
 *   binlog_tablemap.c  TABLE_MAP and its optional metadata -> shapes
 *   binlog_rows.c      ROWS events -> row images
 *   binlog_value.c     one column value -> one JSON value
 *   binlog_temporal.c  DATE, TIME, DATETIME, TIMESTAMP, YEAR
 *   binlog_decimal.c   DECIMAL's binary format
 *   binlog_json.c      MySQL's binary JSON
 *
 * Not for use outside this folder.
 */
#ifndef TRIB_BINLOG_INT_H
#define TRIB_BINLOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>

#include "mysql_binlog.h"
#include "mysql_charset.h"
#include "mysql_int.h"
#include "strbuf.h"

/* Size of the common event header (binlog format v4). */
#define TRIB_MY_HEADER_LEN 19

/* A cached shape: the TABLE_MAP bytes after the table id it was built
 * from, and the schema version it was merged with. */
typedef struct trib_my_shape_entry
{
	struct trib_my_shape_entry *next;	/* hash chain */
	uint64_t	hash;
	const trib_my_tableinfo *info;
	size_t		len;
	uint8_t    *bytes;
	trib_my_shape *shape;
} trib_my_shape_entry;

/* A table id mapped in the current statement. */
typedef struct trib_my_active
{
	uint64_t	table_id;
	trib_my_shape *shape;
} trib_my_active;

struct trib_my_decoder
{
	const trib_my_schema *schema;
	char	   *zero_date;		/* NULL: null */
	trib_my_flavor flavor;
	bool		checksums;		/* events end with a CRC32 */
	bool		have_format;
	uint8_t		post_header[256];	/* per event type */
	char		file[TRIB_MY_FILE_MAX];
	trib_my_gtid *gtid_list;
	int			ngtid_list;
	trib_my_charsets *charsets;

	/* shapes, never freed before the decoder */
	trib_my_shape_entry **buckets;
	size_t		nbuckets;
	size_t		nshapes;
	/* table ids of the current statement */
	trib_my_active *active;
	int			nactive;
	size_t		cap_active;

	yajl_gen	gen;			/* row images */
	trib_strbuf text;			/* scratch for converted values */
	trib_strbuf text2;
};

/* binlog_tablemap.c; *errnum as trib_my_decode() gives it */
bool		trib_my_tablemap(trib_my_decoder *d, trib_my_cur *c,
							 bool short_id, const trib_my_pos *at,
							 trib_my_event *ev, unsigned *errnum,
							 char *errbuf, size_t errlen);
trib_my_shape *trib_my_active_find(trib_my_decoder *d, uint64_t table_id);
void		trib_my_shapes_free(trib_my_decoder *d);

/* binlog_rows.c */
/* (binlog_decode.c) Refuse an event the decoder does not read (compressed events and
 * transactions, partial JSON updates), naming the server setting to
 * change; always false. */
bool		trib_my_refuse_event(uint8_t type, char *errbuf, size_t errlen);

bool		trib_my_rows(trib_my_decoder *d, trib_my_cur *c, uint8_t type,
						 size_t post_header_len, trib_my_event *ev,
						 char *errbuf, size_t errlen);

/* binlog_value.c: read one value of column col from c and write it to g */
bool		trib_my_value(trib_my_decoder *d, const trib_my_column *col,
						  trib_my_cur *c, yajl_gen g,
						  char *errbuf, size_t errlen);
/* Write the shortest text of a double (or of a float, single) that reads
 * back as the same value; digits into buf (at least 32 bytes). */
void		trib_my_format_double(double v, bool single, char *buf, size_t len);
/* Write a JSON string, or a number's text verbatim. */
void		trib_my_gen_str(yajl_gen g, const char *s, size_t len);
void		trib_my_gen_num(yajl_gen g, const char *s, size_t len);
/* JSON text t[0..len) (UTF-8; compacted in place): embedded when it parses,
 * without the whitespace between tokens, else a string (binlog_value.c). */
void		trib_my_gen_json_text(yajl_gen g, char *t, size_t len);

/* binlog_temporal.c: each writes the value to g (JSON string, or null /
 * the zero-date text for zero dates) */
bool		trib_my_temporal(trib_my_decoder *d, const trib_my_column *col,
							 trib_my_cur *c, yajl_gen g);
/* Packed temporal values inside MySQL's binary JSON: the 8-byte
 * "longlong packed" form of TIME, DATE, DATETIME and TIMESTAMP, written as
 * MySQL prints them in JSON ("2015-01-15 23:24:25.000000"). */
void		trib_my_json_temporal(uint8_t field_type, int64_t packed,
								  trib_strbuf *out);

/* binlog_decimal.c: the decimal's exact text into out; its byte size is
 * trib_my_decimal_size(precision, scale).  False when the bytes are not a
 * decimal of that precision and scale. */
size_t		trib_my_decimal_size(int precision, int scale);
bool		trib_my_decimal_text(const uint8_t *b, int precision, int scale,
								 trib_strbuf *out);

/* binlog_json.c: MySQL binary JSON (b[0..len)) to g; false and a message
 * when it is not well-formed. */
bool		trib_my_json_binary(trib_my_decoder *d, const uint8_t *b, size_t len,
								yajl_gen g, char *errbuf, size_t errlen);

#endif							/* TRIB_BINLOG_INT_H */
