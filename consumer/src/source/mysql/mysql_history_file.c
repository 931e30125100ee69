/*
 * mysql_history_file.c: the schema history's append-only file
 * (mysql_history_file.h): replay on open, one fdatasync'ed JSON line per
 * record after.  Records are written with yajl_gen and read back with
 * yajl's tree parser.
 */
#include "mysql_history_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "fileio.h"
#include "mysql_int.h"
#include "strbuf.h"

typedef struct hfile
{
	int			fd;
	char	   *path;
} hfile;

/* ---- writing ---- */

static void
gen_str(yajl_gen g, const char *s)
{
	if (s == NULL)
		yajl_gen_null(g);
	else
		yajl_gen_string(g, (const unsigned char *) s, strlen(s));
}

static void
gen_pos(yajl_gen g, const trib_my_pos *p)
{
	char		buf[TRIB_MY_POS_BUFLEN];

	if (p == NULL)
	{
		yajl_gen_null(g);
		return;
	}
	trib_my_pos_format(p, buf, sizeof(buf));
	gen_str(g, buf);
}

/* "key": a string (or null), a boolean, an integer. */
static void
key_str(yajl_gen g, const char *key, const char *s)
{
	gen_str(g, key);
	gen_str(g, s);
}

static void
key_bool(yajl_gen g, const char *key, bool v)
{
	gen_str(g, key);
	yajl_gen_bool(g, v);
}

static void
key_int(yajl_gen g, const char *key, long long v)
{
	gen_str(g, key);
	yajl_gen_integer(g, v);
}

static void
gen_col(yajl_gen g, const trib_my_colinfo *c)
{
	yajl_gen_map_open(g);
	key_str(g, "name", c->name);
	key_str(g, "type", c->data_type);
	if (c->column_type)
		key_str(g, "column_type", c->column_type);
	key_bool(g, "unsigned", c->is_unsigned);
	key_bool(g, "json", c->is_json);
	key_bool(g, "generated", c->generated);
	key_int(g, "pk", c->pk_pos);
	key_bool(g, "nullable", c->nullable);
	key_int(g, "collation", c->collation);
	gen_str(g, "values");
	yajl_gen_array_open(g);
	for (int k = 0; k < c->nvalues; k++)
		gen_str(g, c->values[k]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

/* Append g's text and a newline, durably. */
static bool
append(hfile *f, yajl_gen g, char *errbuf, size_t errlen)
{
	const unsigned char *text;
	size_t		len;
	trib_strbuf line = {0};
	off_t		size = lseek(f->fd, 0, SEEK_END);
	bool		ok;
	int			err;

	yajl_gen_get_buf(g, &text, &len);
	trib_strbuf_add(&line, (const char *) text, len);
	trib_strbuf_addc(&line, '\n');
	ok = size >= 0 && trib_fileio_write_all(f->fd, line.data, line.len) && fdatasync(f->fd) == 0;
	err = errno;
	trib_strbuf_free(&line);
	yajl_gen_free(g);
	if (ok)
		return true;
	/* no half record for the next one to follow */
	if (size >= 0 && ftruncate(f->fd, size) != 0)
		size = -1;
	return trib_my_fail(errbuf, errlen, "schema history %s: cannot append: %s",
						f->path, strerror(err));
}

static bool
store_version(void *arg, const char *db, const char *table, const trib_my_pos *from,
			  const trib_my_tableinfo *t, char *errbuf, size_t errlen)
{
	yajl_gen	g = yajl_gen_alloc(NULL);

	yajl_gen_map_open(g);
	gen_str(g, "version");
	yajl_gen_map_open(g);
	key_str(g, "db", db);
	key_str(g, "table", table);
	gen_str(g, "from");
	gen_pos(g, from);
	key_bool(g, "exists", t != NULL);
	gen_str(g, "cols");
	yajl_gen_array_open(g);
	for (int i = 0; t && i < t->ncols; i++)
		gen_col(g, &t->cols[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	return append(arg, g, errbuf, errlen);
}

static bool
store_ddl(void *arg, const trib_my_pos *at, char *errbuf, size_t errlen)
{
	yajl_gen	g = yajl_gen_alloc(NULL);

	yajl_gen_map_open(g);
	gen_str(g, "ddl");
	gen_pos(g, at);
	yajl_gen_map_close(g);
	return append(arg, g, errbuf, errlen);
}

static void
store_free(void *arg)
{
	hfile	   *f = arg;

	close(f->fd);
	free(f->path);
	free(f);
}

/* ---- reading ---- */

/* A member of object o of the given type, or NULL. */
static yajl_val
member(yajl_val o, const char *key, yajl_type type)
{
	const char *path[] = {key, NULL};

	return yajl_tree_get(o, path, type);
}

/* A string member, or NULL (JSON null or missing). */
static const char *
str_member(yajl_val o, const char *key)
{
	yajl_val	v = member(o, key, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

static bool
bool_member(yajl_val o, const char *key)
{
	return member(o, key, yajl_t_true) != NULL;
}

static long long
int_member(yajl_val o, const char *key, bool *bad)
{
	yajl_val	v = member(o, key, yajl_t_number);

	if (v == NULL || !YAJL_IS_INTEGER(v))
	{
		*bad = true;
		return 0;
	}
	return YAJL_GET_INTEGER(v);
}

/* A column object; false when it lacks a name or type. */
static bool
read_col(yajl_val o, trib_my_colinfo *c)
{
	const char *name = str_member(o, "name"),
			   *type = str_member(o, "type");
	yajl_val	values = member(o, "values", yajl_t_array);
	bool		bad = false;

	if (!YAJL_IS_OBJECT(o) || name == NULL || type == NULL || values == NULL)
		return false;
	c->name = trib_xstrdup(name);
	c->data_type = trib_xstrdup(type);
	if (str_member(o, "column_type"))
		c->column_type = trib_xstrdup(str_member(o, "column_type"));
	c->is_unsigned = bool_member(o, "unsigned");
	c->is_json = bool_member(o, "json");
	c->generated = bool_member(o, "generated");
	c->nullable = bool_member(o, "nullable");
	c->pk_pos = (int) int_member(o, "pk", &bad);
	c->collation = (uint32_t) int_member(o, "collation", &bad);
	c->values = trib_xcalloc(values->u.array.len + 1, sizeof(char *));
	for (size_t k = 0; k < values->u.array.len; k++)
	{
		if (!YAJL_IS_STRING(values->u.array.values[k]))
			return false;
		c->values[c->nvalues++] = trib_xstrdup(YAJL_GET_STRING(values->u.array.values[k]));
	}
	return !bad;
}

/* A position member (null: *has false); false when it does not parse. */
static bool
pos_member(yajl_val o, const char *key, trib_my_pos *out, bool *has,
		   char *errbuf, size_t errlen)
{
	yajl_val	v = member(o, key, yajl_t_any);

	*has = v && YAJL_IS_STRING(v);
	if (v == NULL || !(*has || YAJL_IS_NULL(v)))
		return trib_my_fail(errbuf, errlen, "\"%s\": an event id or null expected", key);
	return !*has || trib_my_pos_parse(YAJL_GET_STRING(v), out, errbuf, errlen);
}

/* A "version" record into h. */
static bool
replay_version(trib_my_history *h, yajl_val v, char *errbuf, size_t errlen)
{
	const char *db = str_member(v, "db"),
			   *table = str_member(v, "table");
	yajl_val	cols = member(v, "cols", yajl_t_array);
	trib_my_pos from;
	bool		has_from;
	trib_my_tableinfo *t = NULL;

	if (db == NULL || table == NULL || cols == NULL)
		return trib_my_fail(errbuf, errlen, "a version needs \"db\", \"table\" and \"cols\"");
	if (!pos_member(v, "from", &from, &has_from, errbuf, errlen))
		return false;
	if (bool_member(v, "exists"))
	{
		t = trib_xcalloc(1, sizeof(*t));
		t->db = trib_xstrdup(db);
		t->table = trib_xstrdup(table);
		t->cols = trib_xcalloc(cols->u.array.len + 1, sizeof(trib_my_colinfo));
		for (size_t i = 0; i < cols->u.array.len; i++)
		{
			t->ncols++;
			if (!read_col(cols->u.array.values[i], &t->cols[i]))
			{
				trib_my_tableinfo_free(t);
				return trib_my_fail(errbuf, errlen, "column %zu: a malformed column", i + 1);
			}
		}
	}
	trib_my_history_put(h, db, table, has_from ? &from : NULL, t);
	return true;
}

/* One line (NUL-terminated) into h. */
static bool
replay_line(trib_my_history *h, const char *line, char *errbuf, size_t errlen)
{
	char		perr[256];
	yajl_val	doc = yajl_tree_parse(line, perr, sizeof(perr));
	yajl_val	v;
	bool		ok;

	if (doc == NULL || !YAJL_IS_OBJECT(doc))
	{
		yajl_tree_free(doc);
		return trib_my_fail(errbuf, errlen, "not a JSON object");
	}
	if ((v = member(doc, "version", yajl_t_object)) != NULL)
		ok = replay_version(h, v, errbuf, errlen);
	else if (member(doc, "ddl", yajl_t_string) != NULL)
	{
		trib_my_pos at;
		bool		has;

		ok = pos_member(doc, "ddl", &at, &has, errbuf, errlen);
		if (ok)
			trib_my_history_put_ddl(h, &at);
	}
	else
		ok = trib_my_fail(errbuf, errlen, "neither a \"version\" nor a \"ddl\" record");
	yajl_tree_free(doc);
	return ok;
}

/* Read all of fd. */
static bool
read_all(int fd, trib_strbuf *out)
{
	char		buf[65536];
	ssize_t		n;

	while ((n = read(fd, buf, sizeof(buf))) != 0)
	{
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		trib_strbuf_add(out, buf, (size_t) n);
	}
	return true;
}

/* Replay text's complete lines; *complete gets the length they span. */
static bool
replay_text(trib_my_history *h, const char *path, char *text, size_t len,
			size_t *complete, size_t *nrecords, char *errbuf, size_t errlen)
{
	size_t		off = 0;
	int			lineno = 0;

	*nrecords = 0;
	while (off < len)
	{
		char	   *nl = memchr(text + off, '\n', len - off);

		if (nl == NULL)
			break;				/* cut short by a crash: dropped */
		*nl = '\0';
		lineno++;
		if (!replay_line(h, text + off, errbuf, errlen))
			return trib_my_fail_prefix(errbuf, errlen, "schema history %s:%d", path, lineno);
		(*nrecords)++;
		off = (size_t) (nl - text) + 1;
	}
	*complete = off;
	return true;
}

bool
trib_my_history_file_open(trib_my_history *h, const char *path, size_t *replayed,
						  char *errbuf, size_t errlen)
{
	int			fd = trib_fileio_open_private(path, O_RDWR | O_APPEND, TRIB_FILE_MODE_DEFAULT);
	trib_strbuf text = {0};
	size_t		complete = 0,
				n = 0;
	hfile	   *f;
	trib_my_history_store store = {store_version, store_ddl, store_free, NULL};

	struct stat st;

	if (fd < 0)
		return trib_my_fail(errbuf, errlen, "schema history %s: cannot open: %s",
							path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		trib_my_fail(errbuf, errlen, "schema history %s: not a regular file", path);
		goto fail;
	}
	if (!read_all(fd, &text))
	{
		trib_my_fail(errbuf, errlen, "schema history %s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	if (!replay_text(h, path, text.data, text.len, &complete, &n, errbuf, errlen))
		goto fail;
	if (complete < text.len && ftruncate(fd, (off_t) complete) != 0)
	{
		trib_my_fail(errbuf, errlen, "schema history %s: cannot cut off its incomplete last line: %s",
					 path, strerror(errno));
		goto fail;
	}
	if (!trib_fileio_fsync_parent(path))
	{
		trib_my_fail(errbuf, errlen, "schema history %s: cannot sync its directory: %s",
					 path, strerror(errno));
		goto fail;
	}
	trib_strbuf_free(&text);
	f = trib_xcalloc(1, sizeof(*f));
	f->fd = fd;
	f->path = trib_xstrdup(path);
	store.arg = f;
	trib_my_history_set_store(h, &store);
	if (replayed)
		*replayed = n;
	return true;
fail:
	trib_strbuf_free(&text);
	close(fd);
	return false;
}
