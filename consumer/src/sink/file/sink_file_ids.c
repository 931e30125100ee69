/*
 * sink_file_ids.c: the file sink's map from a snapshot's ids to the bytes
 * of its lines (sink_file_ids.h).  Records are written with the strbuf,
 * appended with one write(2) (fsync'd when the sink fsyncs), rewritten
 * atomically when records are dropped, and read with yajl_tree.
 */
#include "sink_file_ids.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "fileio.h"
#include "lsn.h"
#include "strbuf.h"
#include "xalloc.h"

/* Release one record's runs. */
static void
rec_free(trib_fsids_rec *r)
{
	free(r->runs);
	memset(r, 0, sizeof(*r));
}

/* Forget every record (the file is left alone). */
static void
drop_all(trib_fsids *x)
{
	for (size_t i = 0; i < x->nrecs; i++)
		rec_free(&x->recs[i]);
	free(x->recs);
	x->recs = NULL;
	x->nrecs = 0;
	rec_free(&x->pending);
	x->has_pending = false;
}

void
trib_fsids_clear(trib_fsids *x)
{
	drop_all(x);
	free(x->path);
	memset(x, 0, sizeof(*x));
}

/* Append a run to a record. */
static void
rec_add_run(trib_fsids_rec *r, uint64_t first, uint64_t last, uint32_t lines)
{
	r->runs = trib_xrealloc(r->runs, (r->nruns + 1) * sizeof(*r->runs));
	r->runs[r->nruns].first = first;
	r->runs[r->nruns].last = last;
	r->runs[r->nruns].lines = lines;
	r->nruns++;
}

/* One record as a line of the file. */
static void
rec_text(const trib_fsids *x, const trib_fsids_rec *r, trib_strbuf *b)
{
	char		l[TRIB_LSN_BUFLEN];

	trib_lsn_format(x->base, l, sizeof(l));
	trib_strbuf_printf(b, "{\"base\":\"%s\",\"segment\":%" PRIu64 ",\"offset\":%" PRId64
					   ",\"runs\":[", l, r->segment, r->offset);
	for (size_t i = 0; i < r->nruns; i++)
		trib_strbuf_printf(b, "%s[%" PRIu64 ",%" PRIu64 ",%" PRIu32 "]", i ? "," : "",
						   r->runs[i].first, r->runs[i].last, r->runs[i].lines);
	trib_strbuf_adds(b, "]}\n");
}

/* Replace the file with the durable records (none: an empty file). */
static bool
rewrite(trib_fsids *x, char *errbuf, size_t errlen)
{
	trib_strbuf b = {0};
	bool		ok;

	trib_strbuf_add(&b, "", 0);
	for (size_t i = 0; i < x->nrecs; i++)
		rec_text(x, &x->recs[i], &b);
	ok = trib_fileio_write_atomic(x->path, b.data, b.len, x->mode, x->fsync, NULL);
	if (!ok)
		snprintf(errbuf, errlen, "cannot write %s: %s", x->path, strerror(errno));
	trib_strbuf_free(&b);
	return ok;
}

/* See sink_file_ids.h. */
bool
trib_fsids_json_u64(yajl_val v, uint64_t *out)
{
	char	   *end;

	if (!v || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0)
		return false;
	errno = 0;
	*out = strtoull(YAJL_GET_NUMBER(v), &end, 10);
	return errno == 0 && *end == '\0';
}

/* A member of an object by name. */
static yajl_val
member(yajl_val obj, const char *name, yajl_type t)
{
	const char *path[] = {name, NULL};

	return yajl_tree_get(obj, path, t);
}

/* Parse one run [first, last, lines] into r. */
static bool
parse_run(yajl_val a, trib_fsids_rec *r)
{
	uint64_t	v[3];

	if (!YAJL_IS_ARRAY(a) || a->u.array.len != 3)
		return false;
	for (int k = 0; k < 3; k++)
		if (!trib_fsids_json_u64(a->u.array.values[k], &v[k]))
			return false;
	if (v[0] > v[1] || v[2] > UINT32_MAX)
		return false;
	rec_add_run(r, v[0], v[1], (uint32_t) v[2]);
	return true;
}

/* Parse one line into r (its base into *base). */
static bool
parse_rec(const char *line, uint64_t *base, trib_fsids_rec *r)
{
	yajl_val	root = yajl_tree_parse(line, NULL, 0);
	yajl_val	b = root ? member(root, "base", yajl_t_string) : NULL;
	yajl_val	runs = root ? member(root, "runs", yajl_t_array) : NULL;
	uint64_t	off;
	bool		ok = b && runs && trib_lsn_parse(YAJL_GET_STRING(b), base) &&
		trib_fsids_json_u64(member(root, "segment", yajl_t_number), &r->segment) &&
		trib_fsids_json_u64(member(root, "offset", yajl_t_number), &off) && off <= INT64_MAX;

	r->offset = ok ? (int64_t) off : 0;
	for (size_t i = 0; ok && i < runs->u.array.len; i++)
		ok = parse_run(runs->u.array.values[i], r);
	yajl_tree_free(root);
	return ok;
}

/* Keep the runs of r with ids up to seq; false when none is left. */
static bool
rec_keep_upto(trib_fsids_rec *r, uint64_t seq)
{
	size_t		n = 0;

	while (n < r->nruns && r->runs[n].first <= seq)
	{
		if (r->runs[n].last > seq)
			r->runs[n].last = seq;
		n++;
	}
	r->nruns = n;
	return n > 0;
}

/* Keep the durable records of ids up to seq; true when any was cut. */
static bool
keep_upto(trib_fsids *x, uint64_t seq)
{
	size_t		n = 0;
	bool		cut = false;

	for (size_t i = 0; i < x->nrecs; i++)
	{
		size_t		before = x->recs[i].nruns;
		uint64_t	last = before ? x->recs[i].runs[before - 1].last : 0;

		if (n == i && rec_keep_upto(&x->recs[i], seq))
		{
			cut = cut || x->recs[i].nruns != before || x->recs[i].runs[before - 1].last != last;
			n++;
			continue;
		}
		rec_free(&x->recs[i]);
		cut = true;
	}
	x->nrecs = n;
	return cut;
}

/* Read the file's records; *bad when a line is not one, *torn when the
 * last line has no newline (an append cut short by a crash: dropped). */
static bool
read_recs(trib_fsids *x, bool *bad, bool *torn, char *errbuf, size_t errlen)
{
	char		msg[256];
	FILE	   *fp = trib_fileio_fopen_read(x->path, msg, sizeof(msg));
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;

	*bad = *torn = false;
	if (!fp)
	{
		if (errno == ENOENT)
			return true;
		snprintf(errbuf, errlen, "cannot read the ids sidecar %s: %s", x->path, msg);
		return false;
	}
	while (!*bad && (len = getline(&line, &cap, fp)) > 0)
	{
		trib_fsids_rec r = {0};
		uint64_t	base = 0;

		if (line[len - 1] != '\n')
		{
			*torn = true;
			break;
		}
		*bad = !parse_rec(line, &base, &r) || (x->has_base && base != x->base);
		x->base = base;
		x->has_base = true;
		x->recs = trib_xrealloc(x->recs, (x->nrecs + 1) * sizeof(*x->recs));
		x->recs[x->nrecs++] = r;
	}
	free(line);
	fclose(fp);
	return true;
}

bool
trib_fsids_load(trib_fsids *x, const char *ids_path, mode_t mode, bool fsync, bool has,
				uint64_t base, uint64_t seq, char *errbuf, size_t errlen)
{
	bool		bad,
				torn;
	bool		changed;

	memset(x, 0, sizeof(*x));
	x->path = trib_xstrdup(ids_path);
	x->mode = mode;
	x->fsync = fsync;
	if (!read_recs(x, &bad, &torn, errbuf, errlen))
		return false;
	if (bad)
	{
		snprintf(errbuf, errlen, "%s is not an id map of this sink (delete it: a resumed "
				 "snapshot then keeps the rows the sink holds beyond its checkpoint)", x->path);
		return false;
	}
	if (!has || !x->has_base || x->base != base)
	{
		changed = x->nrecs > 0;
		drop_all(x);
		x->has_base = false;
	}
	else
		changed = keep_upto(x, seq);
	return !(changed || torn) || rewrite(x, errbuf, errlen);
}

void
trib_fsids_note(trib_fsids *x, bool snapshot, uint64_t commit_lsn, uint64_t seq,
				uint32_t lines, uint64_t segment, int64_t offset)
{
	trib_fsids_rec *p = &x->pending;
	trib_fsids_run *last;

	if (!snapshot || (x->has_base && x->base != commit_lsn))
	{
		x->reset = x->reset || x->has_base;
		drop_all(x);
		x->has_base = false;
		if (!snapshot)
			return;
	}
	x->has_base = true;
	x->base = commit_lsn;
	if (!x->has_pending)
	{
		x->has_pending = true;
		p->segment = segment;
		p->offset = offset;
	}
	last = p->nruns ? &p->runs[p->nruns - 1] : NULL;
	if (last && last->last + 1 == seq && last->lines == lines)
		last->last = seq;
	else
		rec_add_run(p, seq, seq, lines);
}

/* Append one record to the file. */
static bool
append(trib_fsids *x, const trib_fsids_rec *r, char *errbuf, size_t errlen)
{
	trib_strbuf b = {0};
	int			fd = trib_fileio_open_private(x->path, O_WRONLY | O_APPEND | O_NOFOLLOW,
											 x->mode);
	bool		ok = fd >= 0;

	rec_text(x, r, &b);
	ok = ok && trib_fileio_write_all(fd, b.data, b.len) && (!x->fsync || fdatasync(fd) == 0);
	if (!ok)
		snprintf(errbuf, errlen, "cannot write %s: %s", x->path, strerror(errno));
	if (fd >= 0)
		close(fd);
	trib_strbuf_free(&b);
	return ok;
}

bool
trib_fsids_commit(trib_fsids *x, char *errbuf, size_t errlen)
{
	/* after a reset the records were dropped already: an empty file */
	if (x->reset && !rewrite(x, errbuf, errlen))
		return false;
	x->reset = false;
	if (!x->has_pending)
		return true;
	if (!append(x, &x->pending, errbuf, errlen))
		return false;
	x->recs = trib_xrealloc(x->recs, (x->nrecs + 1) * sizeof(*x->recs));
	x->recs[x->nrecs++] = x->pending;
	memset(&x->pending, 0, sizeof(x->pending));
	x->has_pending = false;
	return true;
}

/* Lines of r's ids up to seq; *after: r holds an id after seq. */
static uint64_t
lines_upto(const trib_fsids_rec *r, uint64_t seq, bool *after)
{
	uint64_t	n = 0;

	*after = false;
	for (size_t i = 0; i < r->nruns; i++)
	{
		const trib_fsids_run *u = &r->runs[i];

		if (u->last > seq)
			*after = true;
		if (u->first <= seq)
			n += ((u->last <= seq ? u->last : seq) - u->first + 1) * u->lines;
	}
	return n;
}

bool
trib_fsids_find(const trib_fsids *x, uint64_t base, uint64_t seq, uint64_t *segment,
				int64_t *offset, uint64_t *skip_lines)
{
	if (!x->has_base || x->base != base)
		return false;
	for (size_t i = 0; i < x->nrecs; i++)
	{
		bool		after;
		uint64_t	n = lines_upto(&x->recs[i], seq, &after);

		if (after)
		{
			*segment = x->recs[i].segment;
			*offset = x->recs[i].offset;
			*skip_lines = n;
			return true;
		}
	}
	return false;
}

bool
trib_fsids_cut(trib_fsids *x, uint64_t seq, char *errbuf, size_t errlen)
{
	rec_free(&x->pending);
	x->has_pending = false;
	if (!keep_upto(x, seq))
		return true;
	return rewrite(x, errbuf, errlen);
}
