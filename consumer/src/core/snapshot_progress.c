/*
 * snapshot_progress.c: snapshot progress <-> checkpoint JSON, and the
 * progress display.  See snapshot_progress.h.
 *
 * JSON is written with yajl_gen (names escaped correctly whatever they
 * are) and read with yajl_tree; the catalog store keeps it as jsonb, which
 * may reorder members, so nothing here depends on member order.
 */
#include "snapshot_progress.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_gen.h>
#include <yajl_tree.h>

#include "event.h"
#include "jsondoc.h"
#include "strbuf.h"

/* ---- JSON --------------------------------------------------------------- */

/* A NUL-terminated string through yajl_gen. */
static void
gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *) s, strlen(s));
}

/* A map member whose value is a string. */
static void
gen_str_member(yajl_gen g, const char *key, const char *value)
{
	gen_str(g, key);
	gen_str(g, value);
}

/* One table object. */
static void
gen_table(yajl_gen g, const trib_snapprog_table *t)
{
	char		num[32];
	int			i;

	yajl_gen_map_open(g);
	gen_str_member(g, "schema", t->schema);
	gen_str_member(g, "table", t->table);
	gen_str(g, "done");
	yajl_gen_bool(g, t->done);
	gen_str(g, "rows");
	snprintf(num, sizeof(num), "%" PRIu64, t->rows);
	yajl_gen_number(g, num, strlen(num));
	if (t->after)
	{
		gen_str(g, "after");
		yajl_gen_array_open(g);
		for (i = 0; i < t->nafter; i++)
			gen_str(g, t->after[i]);
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}

char *
trib_snapprog_to_json(const trib_snapprog *p)
{
	yajl_gen	g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t		len,
				i;
	char		lsn[TRIB_LSN_BUFLEN + 1];
	char	   *out;

	if (g == NULL)
		abort();
	trib_lsn_format(p->lsn, lsn, sizeof(lsn));
	yajl_gen_map_open(g);
	gen_str(g, "snapshot");
	yajl_gen_map_open(g);
	gen_str_member(g, "state", p->state);
	gen_str_member(g, "mode", p->mode);
	gen_str_member(g, "lsn", lsn);
	gen_str(g, "tables");
	yajl_gen_array_open(g);
	for (i = 0; i < p->ntables; i++)
		gen_table(g, &p->tables[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	out = trib_xstrndup((const char *) buf, len);
	yajl_gen_free(g);
	return out;
}

/* Copy a short word member into dst; false when absent or too long. */
static bool
member_word(yajl_val obj, const char *name, char *dst, size_t len)
{
	const char *s = trib_jdoc_member_str(obj, name);

	if (s == NULL || strlen(s) >= len)
		return false;
	strcpy(dst, s);
	return true;
}

/* One table object into a new entry of p. */
static bool
parse_table(yajl_val t, trib_snapprog *p, char *errbuf, size_t errlen)
{
	const char *schema = trib_jdoc_member_str(t, "schema");
	const char *table = trib_jdoc_member_str(t, "table");
	const char *pd[] = {"done", NULL};
	const char *pr[] = {"rows", NULL};
	const char *pa[] = {"after", NULL};
	yajl_val	done = yajl_tree_get(t, pd, yajl_t_any);
	yajl_val	rows = yajl_tree_get(t, pr, yajl_t_number);
	yajl_val	after = yajl_tree_get(t, pa, yajl_t_array);
	trib_snapprog_table *e;
	size_t		i;

	if (!schema || !table || !done || !(YAJL_IS_TRUE(done) || YAJL_IS_FALSE(done)) ||
		!rows || !YAJL_IS_INTEGER(rows) || YAJL_GET_INTEGER(rows) < 0)
	{
		snprintf(errbuf, errlen, "snapshot progress: a table entry lacks schema, table, done or rows");
		return false;
	}
	e = trib_snapprog_add(p, schema, table);
	e->done = YAJL_IS_TRUE(done);
	e->rows = (uint64_t) YAJL_GET_INTEGER(rows);
	if (after == NULL)
		return true;
	e->nafter = (int) after->u.array.len;
	e->after = trib_xcalloc(e->nafter ? (size_t) e->nafter : 1, sizeof(char *));
	for (i = 0; i < after->u.array.len; i++)
	{
		if (!YAJL_IS_STRING(after->u.array.values[i]))
		{
			snprintf(errbuf, errlen, "snapshot progress: %s.%s: after must hold strings",
					 schema, table);
			return false;
		}
		e->after[i] = trib_xstrdup(YAJL_GET_STRING(after->u.array.values[i]));
	}
	return true;
}

int
trib_snapprog_from_json(const char *json, trib_snapprog *out,
						char *errbuf, size_t errlen)
{
	char		perr[256];
	yajl_val	root,
				snap,
				tables;
	const char *ps[] = {"snapshot", NULL};
	const char *pt[] = {"tables", NULL};
	const char *lsn;
	size_t		i;
	int			rc = 1;

	memset(out, 0, sizeof(*out));
	if (json == NULL)
		return 0;
	root = yajl_tree_parse(json, perr, sizeof(perr));
	if (root == NULL)
	{
		snprintf(errbuf, errlen, "snapshot progress: not valid JSON: %s", perr);
		return -1;
	}
	snap = yajl_tree_get(root, ps, yajl_t_object);
	if (snap == NULL)
	{
		yajl_tree_free(root);
		return 0;
	}
	tables = yajl_tree_get(snap, pt, yajl_t_array);
	lsn = trib_jdoc_member_str(snap, "lsn");
	if (!member_word(snap, "state", out->state, sizeof(out->state)) ||
		!member_word(snap, "mode", out->mode, sizeof(out->mode)) ||
		!lsn || !trib_lsn_parse(lsn, &out->lsn) || !tables)
	{
		snprintf(errbuf, errlen, "snapshot progress: state, mode, lsn or tables missing or malformed");
		rc = -1;
	}
	for (i = 0; rc == 1 && i < tables->u.array.len; i++)
		if (!parse_table(tables->u.array.values[i], out, errbuf, errlen))
			rc = -1;
	yajl_tree_free(root);
	if (rc < 0)
		trib_snapprog_clear(out);
	return rc;
}

trib_snapprog_table *
trib_snapprog_find(trib_snapprog *p, const char *schema, const char *table)
{
	size_t		i;

	for (i = 0; i < p->ntables; i++)
		if (strcmp(p->tables[i].schema, schema) == 0 &&
			strcmp(p->tables[i].table, table) == 0)
			return &p->tables[i];
	return NULL;
}

trib_snapprog_table *
trib_snapprog_add(trib_snapprog *p, const char *schema, const char *table)
{
	trib_snapprog_table *t;

	p->tables = trib_xadd_zeroed(p->tables, p->ntables, sizeof(*p->tables));
	t = &p->tables[p->ntables++];
	t->schema = trib_xstrdup(schema);
	t->table = trib_xstrdup(table);
	t->estimate = -1;
	return t;
}

/* Free a table's key. */
static void
free_after(trib_snapprog_table *t)
{
	int			i;

	for (i = 0; t->after && i < t->nafter; i++)
		free(t->after[i]);
	free(t->after);
	t->after = NULL;
	t->nafter = 0;
}

void
trib_snapprog_set_after(trib_snapprog_table *t, char *const *keys, int n)
{
	int			i;

	free_after(t);
	if (keys == NULL)
		return;
	t->after = trib_xcalloc(n ? (size_t) n : 1, sizeof(char *));
	t->nafter = n;
	for (i = 0; i < n; i++)
		t->after[i] = trib_xstrdup(keys[i]);
}

void
trib_snapprog_clear(trib_snapprog *p)
{
	size_t		i;

	for (i = 0; i < p->ntables; i++)
	{
		free(p->tables[i].schema);
		free(p->tables[i].table);
		free_after(&p->tables[i]);
	}
	free(p->tables);
	memset(p, 0, sizeof(*p));
}

/* ---- display ------------------------------------------------------------ */

void
trib_snapprog_eta(const trib_snapprog_table *t, int64_t now_ms,
				  double *rate, double *eta_s)
{
	int64_t		end = t->finished_ms ? t->finished_ms : now_ms;
	double		secs = t->started_ms ? (double) (end - t->started_ms) / 1000.0 : 0;
	double		left;

	*rate = secs > 0.05 ? (double) t->written / secs : 0;
	*eta_s = -1;
	if (t->done || t->finished_ms)
	{
		*eta_s = 0;
		return;
	}
	if (*rate <= 0 || t->estimate < 0)
		return;
	left = t->estimate - (double) (t->rows > t->written ? t->rows : t->written);
	*eta_s = left > 0 ? left / *rate : 0;
}

/* "1h02m03s" / "2m03s" / "3s", or "?" when unknown. */
static void
fmt_secs(char *buf, size_t len, double s)
{
	long		v = (long) (s + 0.5);

	if (s < 0)
		snprintf(buf, len, "?");
	else if (v >= 3600)
		snprintf(buf, len, "%ldh%02ldm%02lds", v / 3600, v / 60 % 60, v % 60);
	else if (v >= 60)
		snprintf(buf, len, "%ldm%02lds", v / 60, v % 60);
	else
		snprintf(buf, len, "%lds", v);
}

/* One table's line (no newline). */
static void
table_line(FILE *f, const trib_snapprog_table *t, int64_t now_ms)
{
	double		rate,
				eta;
	char		e[32];
	uint64_t	rows = t->rows > t->written ? t->rows : t->written;

	trib_snapprog_eta(t, now_ms, &rate, &eta);
	fmt_secs(e, sizeof(e), eta);
	if (t->estimate > 0 && !t->finished_ms)
		fprintf(f, "  %s.%s: %" PRIu64 " of ~%.0f rows (%.0f%%), %.0f rows/s, ETA %s",
				t->schema, t->table, rows, t->estimate,
				100.0 * (double) rows / (t->estimate > (double) rows ? t->estimate : (double) rows),
				rate, e);
	else if (!t->finished_ms)
		fprintf(f, "  %s.%s: %" PRIu64 " rows, %.0f rows/s", t->schema, t->table, rows, rate);
	else
	{
		fmt_secs(e, sizeof(e), (double) (t->finished_ms - t->started_ms) / 1000.0);
		fprintf(f, "  %s.%s: done, %" PRIu64 " rows in %s (%.0f rows/s)",
				t->schema, t->table, rows, e, rate);
	}
}

void
trib_snapprog_render(trib_snapprog *p, FILE *f, bool tty, int64_t now_ms,
					 int64_t started_ms, int *lines)
{
	size_t		i;
	uint64_t	total = 0,
				done = 0;
	char		el[32];

	if (tty && *lines > 0)
		fprintf(f, "\033[%dA\033[J", *lines);
	*lines = 0;
	for (i = 0; i < p->ntables; i++)
	{
		trib_snapprog_table *t = &p->tables[i];

		total += t->written;
		if (t->finished_ms && !t->reported)
		{
			table_line(f, t, now_ms);
			fputc('\n', f);
			t->reported = true;
		}
		if (t->done)
			done++;
	}
	if (!tty)
	{
		fflush(f);
		return;
	}
	for (i = 0; i < p->ntables; i++)
	{
		trib_snapprog_table *t = &p->tables[i];

		if (t->started_ms && !t->finished_ms)
		{
			table_line(f, t, now_ms);
			fputs("\033[K\n", f);
			(*lines)++;
		}
	}
	fmt_secs(el, sizeof(el), (double) (now_ms - started_ms) / 1000.0);
	fprintf(f, "snapshot: %" PRIu64 " of %zu tables done, %" PRIu64 " rows in %s (%.0f rows/s)\033[K\n",
			done, p->ntables, total, el,
			now_ms > started_ms ? (double) total * 1000.0 / (double) (now_ms - started_ms) : 0.0);
	(*lines)++;
	fflush(f);
}
