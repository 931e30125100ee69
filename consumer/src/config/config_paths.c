/*
 * config_paths.c: no two files the daemon writes may be one file.
 *
 * Why.  Two writers of one file corrupt each other without a word: log
 * lines appended to a file sink's data shift it, so after a crash the
 * sink cuts its file at an offset that falls inside an event and loses
 * it; a log file named like a sink's rotated segment makes the sink
 * believe a rotation completed.  The loader refuses such a configuration,
 * so `check` (with --offline too) and `run` at start say so, naming both
 * keys and where they are.
 *
 * What is written.  Every key whose value is a path the daemon writes,
 * with the names derived from it:
 *   log.file               the file
 *   sources/sinks rows     what the row's `written` says (ck_written): for
 *                          a file sink's `path` (the dead-letter sink too)
 *                          the file, its position sidecar PATH.pos, the
 *                          sidecar's temporary file PATH.pos.tmp, and its
 *                          rotated segments PATH.1, PATH.2, ... (looked for
 *                          at every start, whether rotation is on or not)
 *   checkpoint.path        the file and its temporary file PATH.tmp; with
 *                          several sources the file store keeps one per
 *                          source, PATH.NAME and PATH.NAME.tmp
 *   erasure.audit_log      the file
 * Files that are only read (dsn_file, key files, dictionaries) are not
 * listed.  A plugin's key that names a written file says so in its row
 * (`written`); a new key of the pipeline's own is one line in
 * collect_written().
 *
 * One file.  Names are compared as trib_fileio_path_resolve() resolves
 * them, the way open(2) would find them: "./x", "x", "d/../x", a path
 * through a symbolic link to a directory and a link to x itself are all x.
 * Files that exist are also compared by device and inode (hard links).  A
 * name is one of a sink's segments when it is the sink's resolved path, a
 * dot, and digits that do not start with 0.
 *
 * Regular files.  A name that exists as a FIFO, a directory or a device is
 * an error too (check_regular), except log.file.
 */
#include "config.h"
#include "config_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "registry.h"
#include "strbuf.h"

/* The names the pipeline's own written files derive (ck_derived). */
static const ck_derived plain_file[] = {{"", NULL}, {NULL, NULL}};
static const ck_derived atomic_file[] = {
	{"", NULL},
	{TRIB_ATOMIC_TMP_SUFFIX, "temporary file"},
	{NULL, NULL}
};

#define MAX_NAMES 5			/* a file sink: path, sidecar, id map, two temporaries */

/* One name, as written (plus its suffix) and resolved. */
typedef struct wname
{
	char	   *written;
	const char *role;
	char	   *resolved;
	bool		exists;
	dev_t		dev;
	ino_t		ino;
	mode_t		mode;
} wname;

/* One key that names a written file. */
typedef struct wfile
{
	char	   *key;			/* "sinks.out.path" */
	const trib_yaml_node *at;			/* its value in the file, or NULL */
	wname		names[MAX_NAMES];
	int			nnames;
	char	   *segments;		/* resolved path of PATH.N names, or NULL */
	const char *path;			/* as written (the config's string) */
} wfile;

typedef struct wlist
{
	wfile	   *files;
	size_t		n;
	size_t		cap;
} wlist;

/* Add `key` = `path` with its derived names; nothing when path is NULL. */
static void
add_file(wlist *l, char *key, const trib_yaml_node *at, const char *path, const ck_derived *d,
		 bool segments)
{
	wfile	   *f;

	if (path == NULL)
	{
		free(key);
		return;
	}
	if (l->n == l->cap)
	{
		l->cap = l->cap ? 2 * l->cap : 8;
		l->files = trib_xrealloc(l->files, l->cap * sizeof(wfile));
	}
	f = &l->files[l->n++];
	memset(f, 0, sizeof(*f));
	f->key = key;
	f->at = at;
	f->path = path;
	for (; d->suffix != NULL && f->nnames < MAX_NAMES; d++)
	{
		wname	   *w = &f->names[f->nnames++];
		trib_strbuf b = {0};
		struct stat st;

		trib_strbuf_printf(&b, "%s%s", path, d->suffix);
		w->written = trib_strbuf_finish(&b);
		w->role = d->role;
		w->resolved = trib_fileio_path_resolve(w->written);
		w->exists = stat(w->resolved, &st) == 0;
		w->dev = st.st_dev;
		w->ino = st.st_ino;
		w->mode = w->exists ? st.st_mode : 0;
	}
	if (segments)
		f->segments = trib_xstrdup(f->names[0].resolved);
}

/* The rows of members of `family` (sources or sinks) that name files
 * the daemon writes: "KEY.NAME.ROW". */
static void
collect_plugins(const char *family, const trib_plugin_conf *members, size_t n,
				const trib_yaml_node *map, wlist *l)
{
	for (size_t i = 0; i < n; i++)
	{
		const trib_plugin_conf *m = &members[i];
		const ck_key *k = m->plugin->section->keys;

		for (; k->name != NULL; k++)
		{
			trib_strbuf key = {0};

			if (k->written == NULL)
				continue;
			trib_strbuf_printf(&key, "%s.%s.%s", family, m->name, k->name);
			add_file(l, trib_strbuf_finish(&key),
					 trib_yaml_map_get(trib_yaml_map_get(map, m->name), k->name),
					 *(char **) ((char *) m->conf + k->offset), k->written->names,
					 k->written->segments);
		}
	}
}

/* Several sources, the file store: each source's checkpoint PATH.NAME
 * and its temporary file (pipeline_open.c names them so). */
static void
add_source_checkpoints(const trib_config *cfg, const trib_yaml_node *at, wlist *l)
{
	for (size_t i = 0; cfg->nsources > 1 && i < cfg->nsources; i++)
	{
		trib_strbuf own = {0},
					tmp = {0},
					key = {0};
		ck_derived	d[3] = {
			{NULL, "per-source checkpoint"},
			{NULL, "per-source checkpoint's temporary file"},
			{NULL, NULL}
		};

		trib_strbuf_printf(&own, ".%s", cfg->sources[i].name);
		trib_strbuf_printf(&tmp, ".%s%s", cfg->sources[i].name, TRIB_ATOMIC_TMP_SUFFIX);
		trib_strbuf_printf(&key, "checkpoint.path (source %s)", cfg->sources[i].name);
		d[0].suffix = own.data;
		d[1].suffix = tmp.data;
		add_file(l, trib_strbuf_finish(&key), at, cfg->checkpoint.path, d, false);
		trib_strbuf_free(&own);
		trib_strbuf_free(&tmp);
	}
}

/* The keys of `cfg` that name files the daemon writes. */
static void
collect_written(const trib_config *cfg, const trib_yaml_node *top, wlist *l)
{
	add_file(l, trib_xstrdup("log.file"), trib_yaml_map_get(trib_yaml_map_get(top, "log"), "file"),
			 cfg->log.file, plain_file, false);
	collect_plugins("sources", cfg->sources, cfg->nsources, trib_yaml_map_get(top, "sources"), l);
	collect_plugins("sinks", cfg->sinks, cfg->nsinks, trib_yaml_map_get(top, "sinks"), l);
	if (cfg->checkpoint.store == TRIB_CHECKPOINT_FILE)
	{
		const trib_yaml_node *at = trib_yaml_map_get(trib_yaml_map_get(top, "checkpoint"), "path");

		add_file(l, trib_xstrdup("checkpoint.path"), at, cfg->checkpoint.path, atomic_file, false);
		add_source_checkpoints(cfg, at, l);
	}
	add_file(l, trib_xstrdup("erasure.audit_log"),
			 trib_yaml_map_get(trib_yaml_map_get(top, "erasure"), "audit_log"), cfg->erasure.audit_log,
			 plain_file, false);
	add_file(l, trib_xstrdup("lineage.export_file"),
			 trib_yaml_map_get(trib_yaml_map_get(top, "lineage"), "export_file"),
			 cfg->lineage.export_file, plain_file, false);
	add_file(l, trib_xstrdup("lineage.export_state"),
			 trib_yaml_map_get(trib_yaml_map_get(top, "lineage"), "export_state"),
			 cfg->lineage.export_state, atomic_file, false);
}

/* Do two names reach one file? */
static bool
same_file(const wname *a, const wname *b)
{
	return strcmp(a->resolved, b->resolved) == 0 ||
		(a->exists && b->exists && a->dev == b->dev && a->ino == b->ino);
}

/* Is `w` one of the segments PREFIX.N?  Then *seg is that segment's name
 * as the sink writes it (malloc'd). */
static bool
is_segment(const wfile *f, const wname *w, wname *seg)
{
	size_t		plen;
	const char *n;
	trib_strbuf b = {0};

	if (f->segments == NULL)
		return false;
	plen = strlen(f->segments);
	n = w->resolved + plen;
	if (strncmp(w->resolved, f->segments, plen) != 0 || n[0] != '.' ||
		n[1] < '1' || n[1] > '9' || strspn(n + 1, "0123456789") != strlen(n + 1))
		return false;
	memset(seg, 0, sizeof(*seg));
	seg->role = "rotated segment";
	trib_strbuf_printf(&b, "%s%s", f->path, n);
	seg->written = trib_strbuf_finish(&b);
	return true;
}

/* Does `later` come after `f` in the file? */
static bool
comes_after(const wfile *later, const wfile *f)
{
	int			la = later->at ? later->at->line : 0;
	int			lf = f->at ? f->at->line : 0;

	if (la != lf)
		return la > lf;
	return (later->at ? later->at->column : 0) >= (f->at ? f->at->column : 0);
}

/* Report that x's name nx is y's name ny, at whichever key comes later. */
static void
report(ck_ctx *c, const wfile *x, const wname *nx, const wfile *y, const wname *ny)
{
	trib_strbuf subject = {0};
	trib_strbuf object = {0};
	trib_strbuf where = {0};

	if (!comes_after(x, y))
	{
		const wfile *tf = x;
		const wname *tn = nx;

		x = y;
		nx = ny;
		y = tf;
		ny = tn;
	}
	if (nx->role)
		trib_strbuf_printf(&subject, "its %s \"%s\"", nx->role, nx->written);
	else
		trib_strbuf_printf(&subject, "\"%s\"", nx->written);
	if (ny->role)
		trib_strbuf_printf(&object, "the %s \"%s\" of %s", ny->role, ny->written, y->key);
	else
		trib_strbuf_printf(&object, "%s \"%s\"", y->key, ny->written);
	if (y->at)
		trib_strbuf_printf(&where, " (%s:%d:%d)", ck_config(c)->path, y->at->line,
						   y->at->column);
	ck_error(c, x->at, x->key, "%s is the same file as %s%s; each file tributary writes "
			 "needs its own path", subject.data, object.data, where.len ? where.data : "");
	trib_strbuf_free(&subject);
	trib_strbuf_free(&object);
	trib_strbuf_free(&where);
}

/* Report the first name of a that is a name (or a segment) of b, or the
 * other way round. */
static void
check_pair(ck_ctx *c, const wfile *a, const wfile *b)
{
	wname		seg;

	for (int i = 0; i < a->nnames; i++)
		for (int j = 0; j < b->nnames; j++)
			if (same_file(&a->names[i], &b->names[j]))
			{
				report(c, a, &a->names[i], b, &b->names[j]);
				return;
			}
	for (int i = 0; i < a->nnames; i++)
		if (is_segment(b, &a->names[i], &seg))
		{
			report(c, a, &a->names[i], b, &seg);
			free(seg.written);
			return;
		}
	for (int j = 0; j < b->nnames; j++)
		if (is_segment(a, &b->names[j], &seg))
		{
			report(c, a, &seg, b, &b->names[j]);
			free(seg.written);
			return;
		}
}

/*
 * A data, position or checkpoint file that exists as something else than a
 * regular file (a FIFO, a directory, a device) cannot be written, cut back
 * or replaced by rename: opening a FIFO waits for a reader, so `check` and
 * `run` would hang on it.  log.file is exempt: /dev/stderr or a FIFO read
 * by a log collector are fine places for log lines.
 */
static void
check_regular(ck_ctx *c, const wfile *f)
{
	if (strcmp(f->key, "log.file") == 0)
		return;
	for (int k = 0; k < f->nnames; k++)
	{
		const wname *w = &f->names[k];

		if (w->exists && !S_ISREG(w->mode))
		{
			ck_error(c, f->at, f->key, "\"%s\"%s%s exists and is not a regular file (%s); "
					 "tributary writes and replaces regular files there", w->written,
					 w->role ? ", its " : "", w->role ? w->role : "",
					 S_ISDIR(w->mode) ? "a directory" : S_ISFIFO(w->mode) ? "a FIFO"
					 : "a device or socket");
			return;
		}
	}
}

/* See config_keys.h. */
void
ck_check_written_paths(ck_ctx *c, const trib_yaml_node *top)
{
	wlist		l = {0};

	collect_written(ck_config(c), top, &l);
	for (size_t i = 0; i < l.n; i++)
		check_regular(c, &l.files[i]);
	for (size_t i = 0; i < l.n; i++)
		for (size_t j = i + 1; j < l.n; j++)
			check_pair(c, &l.files[i], &l.files[j]);
	for (size_t i = 0; i < l.n; i++)
	{
		for (int k = 0; k < l.files[i].nnames; k++)
		{
			free(l.files[i].names[k].written);
			free(l.files[i].names[k].resolved);
		}
		free(l.files[i].segments);
		free(l.files[i].key);
	}
	free(l.files);
}
