/*
 * binlog_rows.c: WRITE/UPDATE/DELETE_ROWS events (v1: MariaDB and MySQL
 * 5.x, v2: MySQL 8) to row images.
 *
 * Format (MariaDB KB "ROWS_EVENT_V1/V2", MySQL rows_event.h): post-header
 * table id (6 bytes) and flags (2; STMT_END_F = 1 ends the statement and
 * its table maps); v2 adds a 2-byte length (counting itself) of extra
 * data, which is skipped.  Body: the column count (packed), a bitmap of
 * the columns present in the (before) image, for UPDATE a second bitmap
 * for the after image, then rows until the end: each image is a NULL
 * bitmap over its present columns followed by the values of the present,
 * non-NULL columns; an UPDATE row is a before and an after image.
 *
 * With binlog_row_image=FULL every column is present.  MINIMAL logs the
 * key columns in the before image and only the changed (UPDATE) or given
 * (WRITE) columns in the after image; NOBLOB leaves out unchanged BLOB and
 * TEXT columns.  Absent columns are left out of the JSON object, and those
 * absent from the after image are listed in the row's `unchanged`.  The
 * key is built from the after image, falling back to the before image for
 * key columns the after image lacks, in primary key order.
 *
 * PARTIAL_UPDATE_ROWS (MySQL, binlog_row_value_options=PARTIAL_JSON) and
 * MariaDB's compressed rows events are refused with the variable to set.
 */
#include <stdlib.h>
#include <string.h>

#include "binlog_int.h"
#include "jsondoc.h"
#include "xalloc.h"

/* Where one column's value starts in an image, if it has one. */
typedef enum
{
	V_ABSENT = 0,
	V_NULL,
	V_VALUE
} vstate;

typedef struct image_index
{
	vstate	   *state;
	const uint8_t **start;
} image_index;

static bool
bit(const uint8_t *bm, size_t i)
{
	return (bm[i / 8] >> (i % 8)) & 1;
}

/*
 * Write one image (columns of `present` among the first width) as a JSON
 * object into *out, and note where each value starts in idx.
 */
static bool
image(trib_my_decoder *d, const trib_my_shape *s, trib_my_cur *c,
	  const uint8_t *present, size_t width, image_index *idx, char **out,
	  char *errbuf, size_t errlen)
{
	size_t		npresent = 0,
				k = 0;
	const uint8_t *nulls;
	yajl_gen	g = d->gen;

	for (size_t i = 0; i < width; i++)
		npresent += bit(present, i);
	nulls = trib_my_cur_take(c, (npresent + 7) / 8);
	if (nulls == NULL)
		return trib_my_fail(errbuf, errlen, "row of %s.%s: truncated", s->db, s->table);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < width; i++)
	{
		const trib_my_column *col = &s->cols[i];

		idx->state[i] = V_ABSENT;
		if (!bit(present, i))
			continue;
		trib_my_gen_str(g, col->name, strlen(col->name));
		if (bit(nulls, k++))
		{
			idx->state[i] = V_NULL;
			yajl_gen_null(g);
			continue;
		}
		idx->state[i] = V_VALUE;
		idx->start[i] = c->p;
		if (!trib_my_value(d, col, c, g, errbuf, errlen))
		{
			yajl_gen_clear(g);
			yajl_gen_reset(g, NULL);
			return trib_my_fail_prefix(errbuf, errlen, "row of %s.%s", s->db, s->table);
		}
	}
	yajl_gen_map_close(g);
	*out = trib_jdoc_gen_take(g);
	return true;
}

/* The primary key object from the images' value positions (after first). */
static bool
key_of(trib_my_decoder *d, const trib_my_shape *s, const image_index *first,
	   const image_index *second, const uint8_t *end, char **out,
	   char *errbuf, size_t errlen)
{
	yajl_gen	g = d->gen;

	*out = NULL;
	if (s->npk == 0)
		return true;
	for (int k = 0; k < s->npk; k++)
		if (first->state[s->pk[k]] == V_ABSENT &&
			(second == NULL || second->state[s->pk[k]] == V_ABSENT))
			return true;		/* a key column in neither image */
	yajl_gen_map_open(g);
	for (int k = 0; k < s->npk; k++)
	{
		int			i = s->pk[k];
		const image_index *ix = first->state[i] != V_ABSENT ? first : second;
		const trib_my_column *col = &s->cols[i];

		trib_my_gen_str(g, col->name, strlen(col->name));
		if (ix->state[i] == V_NULL)
			yajl_gen_null(g);
		else
		{
			trib_my_cur c = trib_my_cur_make(ix->start[i], (size_t) (end - ix->start[i]));

			if (!trib_my_value(d, col, &c, g, errbuf, errlen))
			{
				yajl_gen_clear(g);
				yajl_gen_reset(g, NULL);
				return false;
			}
		}
	}
	yajl_gen_map_close(g);
	*out = trib_jdoc_gen_take(g);
	return true;
}

/* JSON array of the names of the columns absent from the after image. */
static char *
unchanged_of(trib_my_decoder *d, const trib_my_shape *s, const image_index *after)
{
	yajl_gen	g = d->gen;
	bool		any = false;

	for (int i = 0; i < s->ncols; i++)
		if (after->state[i] == V_ABSENT)
			any = true;
	if (!any)
		return NULL;
	yajl_gen_array_open(g);
	for (int i = 0; i < s->ncols; i++)
		if (after->state[i] == V_ABSENT)
			trib_my_gen_str(g, s->cols[i].name, strlen(s->cols[i].name));
	yajl_gen_array_close(g);
	return trib_jdoc_gen_take(g);
}

/* What kind of rows event: 'c', 'u', 'd', or 0 when not one. */
static char
rows_op(uint8_t type)
{
	switch (type)
	{
		case TRIB_MY_WRITE_ROWS_EVENT_V1:
		case TRIB_MY_WRITE_ROWS_EVENT:
			return 'c';
		case TRIB_MY_UPDATE_ROWS_EVENT_V1:
		case TRIB_MY_UPDATE_ROWS_EVENT:
			return 'u';
		case TRIB_MY_DELETE_ROWS_EVENT_V1:
		case TRIB_MY_DELETE_ROWS_EVENT:
			return 'd';
		default:
			return 0;
	}
}

/* Decode one row (one or two images) into r. */
static bool
one_row(trib_my_decoder *d, const trib_my_shape *s, trib_my_cur *c, char op,
		const uint8_t *bm1, const uint8_t *bm2, size_t width,
		image_index *ix1, image_index *ix2, trib_my_row *r,
		char *errbuf, size_t errlen)
{
	r->op = op;
	if (op == 'c')
	{
		if (!image(d, s, c, bm1, width, ix1, &r->after, errbuf, errlen) ||
			!key_of(d, s, ix1, NULL, c->p, &r->key, errbuf, errlen))
			return false;
		r->unchanged = unchanged_of(d, s, ix1);
		return true;
	}
	if (!image(d, s, c, bm1, width, ix1, &r->before, errbuf, errlen))
		return false;
	if (op == 'd')
		return key_of(d, s, ix1, NULL, c->p, &r->key, errbuf, errlen);
	if (!image(d, s, c, bm2, width, ix2, &r->after, errbuf, errlen) ||
		!key_of(d, s, ix2, ix1, c->p, &r->key, errbuf, errlen))
		return false;
	r->unchanged = unchanged_of(d, s, ix2);
	return true;
}

bool
trib_my_rows(trib_my_decoder *d, trib_my_cur *c, uint8_t type,
			 size_t post_header_len, trib_my_event *ev,
			 char *errbuf, size_t errlen)
{
	char		op = rows_op(type);
	uint64_t	table_id = trib_my_cur_le(c, post_header_len == 6 ? 4 : 6);
	uint16_t	flags = (uint16_t) trib_my_cur_le(c, 2);
	const trib_my_shape *s;
	uint64_t	width;
	const uint8_t *bm1,
			   *bm2 = NULL;
	image_index ix1,
				ix2;
	bool		ok = true;
	size_t		cap = 0;

	if (op == 0)
		return trib_my_refuse_event(type, errbuf, errlen);
	if (post_header_len >= 10)
	{
		uint64_t	extra = trib_my_cur_le(c, 2);

		trib_my_cur_take(c, extra >= 2 ? extra - 2 : 0);
	}
	width = trib_my_cur_packed(c);
	bm1 = trib_my_cur_take(c, (width + 7) / 8);
	if (op == 'u')
		bm2 = trib_my_cur_take(c, (width + 7) / 8);
	if (c->bad)
		return trib_my_fail(errbuf, errlen, "rows event: truncated header");
	s = trib_my_active_find(d, table_id);
	if (s == NULL)
		return trib_my_fail(errbuf, errlen,
							"rows event for table id %llu, which no TABLE_MAP of this statement maps",
							(unsigned long long) table_id);
	if (width == 0 || width > (uint64_t) s->ncols)
		return trib_my_fail(errbuf, errlen,
							"rows event for %s.%s has %llu columns, its TABLE_MAP %d",
							s->db, s->table, (unsigned long long) width, s->ncols);
	ev->shape = s;
	ev->stmt_end = flags & 1;
	ix1.state = trib_xcalloc((size_t) s->ncols, sizeof(vstate));
	ix1.start = trib_xcalloc((size_t) s->ncols, sizeof(uint8_t *));
	ix2.state = trib_xcalloc((size_t) s->ncols, sizeof(vstate));
	ix2.start = trib_xcalloc((size_t) s->ncols, sizeof(uint8_t *));
	while (ok && trib_my_cur_left(c) > 0)
	{
		const uint8_t *start = c->p;

		/* the test in line, not through trib_xgrow: its store back of an
		 * unchanged pointer costs an instruction per row */
		if ((size_t) ev->nrows == cap)
			ev->rows = trib_xgrow_full(ev->rows, cap, &cap, sizeof(trib_my_row), 8);
		memset(&ev->rows[ev->nrows], 0, sizeof(trib_my_row));
		ok = one_row(d, s, c, op, bm1, bm2, (size_t) width, &ix1, &ix2,
					 &ev->rows[ev->nrows], errbuf, errlen);
		ev->nrows++;
		if (ok && c->p == start)
			ok = trib_my_fail(errbuf, errlen,
							  "rows event for %s.%s: a row image without any column",
							  s->db, s->table);
	}
	free(ix1.state);
	free(ix1.start);
	free(ix2.state);
	free(ix2.start);
	return ok;
}
