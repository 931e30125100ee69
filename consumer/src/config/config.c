/*
 * config.c: load pipeline.yaml: YAML tree -> validated trib_config.
 *
 * The file is read whole (at most 1 MiB), folded into a positioned tree
 * (yaml_tree.c), and walked against the key tables (config_keys.h: the
 * pipeline's own sections, the registered plugins' tables, the rules'):
 * every map is checked for duplicate and unknown keys, every value for its
 * type and range, absent keys get their defaults, and each section's
 * finish function is queued.  After the walk (so the pipeline name and all
 * sources are known, whatever their order in the file) the queued finish
 * functions run: cross-key checks and computed defaults.
 *
 * Errors do not stop the walk: each becomes one line
 * "FILE:LINE:COLUMN: KEY.PATH: message" (up to TRIB_CONFIG_MAX_ERRORS, then
 * only counted), the lines are sorted by position, and the load fails at
 * the end if there was any.  Only YAML syntax errors stop early, since
 * there is no tree to walk.
 *
 * Values (${VAR} substitution, secrets from files) are config_scalars.c's,
 * the walk of sections and families config_walk.c's (config_int.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "fileio.h"
#include "log.h"
#include "strbuf.h"
#include "words.h"
#include "xalloc.h"
#include "yaml_tree.h"

#define MAX_CONFIG_BYTES (1024 * 1024)

/* ---- services for the key tables --------------------------------------- */

/* Record one problem (ck_error, ck_key_error).  Beyond the array's
 * capacity problems are only counted. */
static void __attribute__((format(printf, 4, 0)))
ck_verror(ck_ctx *c, const trib_yaml_node *at, const char *path, const char *fmt, va_list ap)
{
	trib_strbuf b = {0};
	ck_errline *e;

	if (c->nerr++ >= TRIB_CONFIG_MAX_ERRORS)
		return;
	e = &c->errs[c->nerr - 1];
	e->line = at ? at->line : 0;
	e->column = at ? at->column : 0;
	e->seq = c->nerr;
	if (at != NULL)
		trib_strbuf_printf(&b, "%s:%d:%d: ", c->file, at->line, at->column);
	else
		trib_strbuf_printf(&b, "%s: ", c->file);
	if (path != NULL && path[0] != '\0')
		trib_strbuf_printf(&b, "%s: ", path);
	trib_strbuf_vprintf(&b, fmt, ap);
	e->text = trib_strbuf_finish(&b);
}

/* See config_keys.h. */
void
ck_error(ck_ctx *c, const trib_yaml_node *at, const char *path, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	ck_verror(c, at, path, fmt, ap);
	va_end(ap);
}

/* See config_keys.h. */
void
ck_key_error(ck_ctx *c, const trib_yaml_node *at, const char *path, const char *key,
			 const char *fmt,...)
{
	char	   *p = ck_path(path, key);
	va_list		ap;

	va_start(ap, fmt);
	ck_verror(c, at, p, fmt, ap);
	va_end(ap);
	free(p);
}

/* See config_keys.h. */
void
ck_key_error_in(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
				const char *path, const char *key, const char *fmt,...)
{
	const trib_yaml_node *n = trib_yaml_map_key(map, key);
	char	   *p = ck_path(path, key);
	va_list		ap;

	va_start(ap, fmt);
	ck_verror(c, n ? n : at, p, fmt, ap);
	va_end(ap);
	free(p);
}

/* See config_keys.h. */
const trib_yaml_node *
ck_value_or(const trib_yaml_node *map, const char *key, const trib_yaml_node *fallback)
{
	const trib_yaml_node *v = trib_yaml_map_get(map, key);

	return v != NULL ? v : fallback;
}

/* See config_keys.h. */
bool
ck_check_backoff(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
				 const char *path, const char *key, const trib_backoff_conf *b)
{
	if (b->initial <= b->max)
		return true;
	ck_key_error_in(c, map, at, path, key, "initial is more than max");
	return false;
}

trib_config *
ck_config(ck_ctx *c)
{
	return c->cfg;
}

/* "parent.key", or "key" at the top. */
char *
ck_path(const char *parent, const char *key)
{
	trib_strbuf b = {0};

	if (parent != NULL && parent[0] != '\0')
		trib_strbuf_printf(&b, "%s.%s", parent, key);
	else
		trib_strbuf_adds(&b, key);
	return trib_strbuf_finish(&b);
}

/* ---- loading ---------------------------------------------------------- */

/* Free a config; see config.h. */
void
trib_config_free(trib_config *cfg)
{
	if (cfg == NULL)
		return;
	ck_free_section(&ck_top_section, cfg);
	free(cfg->checkpoint.dsn_source);
	free(cfg->http.host);
	free(cfg->path);
	free(cfg->text);
	free(cfg);
}

/* Order of error lines: by position (file-level ones first), then as
 * reported. */
static int
cmp_errline(const void *a, const void *b)
{
	const ck_errline *x = a;
	const ck_errline *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Add `s` with its control characters as \xNN: a value quoted in a
 * message ("a\nb", "\e[2J") can neither split its line nor drive the
 * terminal that shows it. */
static void
add_escaped(trib_strbuf *b, const char *s)
{
	for (; *s; s++)
	{
		unsigned char ch = (unsigned char) *s;

		if (ch < 0x20 || ch == 0x7f)
			trib_strbuf_printf(b, "\\x%02X", ch);
		else
			trib_strbuf_addc(b, (char) ch);
	}
}

/* Copy the error lines, sorted and redacted (each line whole, then its
 * control characters escaped), to the caller's buffer, and free them. */
static void
report(ck_ctx *c, char *errbuf, size_t errlen)
{
	int			n = c->nerr < TRIB_CONFIG_MAX_ERRORS ? c->nerr : TRIB_CONFIG_MAX_ERRORS;
	trib_strbuf b = {0};
	char	   *text;

	qsort(c->errs, (size_t) n, sizeof(ck_errline), cmp_errline);
	for (int i = 0; i < n; i++)
	{
		char	   *clean = trib_log_redact(c->errs[i].text);

		if (i > 0)
			trib_strbuf_addc(&b, '\n');
		add_escaped(&b, clean);
		free(clean);
		free(c->errs[i].text);
	}
	if (c->nerr > TRIB_CONFIG_MAX_ERRORS)
		trib_strbuf_printf(&b, "\n%s: too many errors; only the first %d are shown",
						   c->file, TRIB_CONFIG_MAX_ERRORS);
	text = trib_strbuf_finish(&b);
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", text);
	free(text);
}

/* Load from memory; see config.h. */
bool
trib_config_load_buffer(const char *name, const char *buf, size_t len,
						trib_config **out, char *errbuf, size_t errlen)
{
	char		desc[TRIB_YAML_DESCRIBE_LEN];
	ck_ctx		c = {0};
	trib_yaml_node *root = NULL;
	int			line;
	int			column;
	char		msg[512];

	*out = NULL;
	c.file = name;
	c.cfg = trib_xcalloc(1, sizeof(trib_config));
	c.cfg->path = trib_xstrdup(name);
	c.cfg->text = trib_xstrndup(buf, len);
	c.cfg->text_len = len;

	if (!trib_yaml_parse(buf, len, &root, &line, &column, msg, sizeof(msg)))
	{
		trib_yaml_node pos = {.line = line, .column = column};

		ck_error(&c, &pos, NULL, "%s", msg);
	}
	else if (trib_yaml_is_null(root))
		ck_error(&c, NULL, NULL, "the file is empty (expected a map with pipeline, "
				 "sources and sinks)");
	else if (root->kind != TRIB_YAML_MAP)
		ck_error(&c, root, NULL, "expected a map at the top level, got %s",
				 trib_yaml_describe(root, desc, sizeof(desc)));
	else
	{
		ck_walk_section(&c, root, root, "", &ck_top_section, c.cfg, NULL);
		for (size_t i = 0; i < c.npending; i++)
		{
			ck_pending *p = &c.pending[i];

			p->sec->finish(&c, p->map, p->at, p->path, p->base, p->name);
		}
	}
	for (size_t i = 0; i < c.npending; i++)
		free(c.pending[i].path);
	free(c.pending);
	trib_yaml_free(root);

	if (c.nerr > 0)
	{
		report(&c, errbuf, errlen);
		trib_config_free(c.cfg);
		return false;
	}
	*out = c.cfg;
	return true;
}

/* Load a file; see config.h. */
bool
trib_config_load(const char *path, trib_config **out, char *errbuf, size_t errlen)
{
	char		msg[256];
	size_t		len;
	char	   *buf = trib_fileio_read_small(path, MAX_CONFIG_BYTES, &len, msg, sizeof(msg));
	bool		ok;

	*out = NULL;
	if (buf == NULL)
	{
		snprintf(errbuf, errlen, "%s: %s", path, msg);
		return false;
	}
	ok = trib_config_load_buffer(path, buf, len, out, errbuf, errlen);
	free(buf);
	return ok;
}

/* ---- lookups ---------------------------------------------------------- */

const char *
trib_config_kvlist_get(const trib_kvlist *list, const char *key)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].key, key) == 0)
			return list->items[i].value;
	return NULL;
}

/* See config.h. */
const char **
trib_config_strlist_view(const trib_strlist *list)
{
	const char **v = trib_xcalloc(list->count + 1, sizeof(char *));

	for (size_t i = 0; i < list->count; i++)
		v[i] = list->items[i];
	return v;
}

/* The member of a `sources:` or `sinks:` array named `name`, or NULL. */
static const trib_plugin_conf *
find_plugin(const trib_plugin_conf *array, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(array[i].name, name) == 0)
			return &array[i];
	return NULL;
}

const trib_source_conf *
trib_config_find_source(const trib_config *cfg, const char *name)
{
	return find_plugin(cfg->sources, cfg->nsources, name);
}

const trib_sink_conf *
trib_config_find_sink(const trib_config *cfg, const char *name)
{
	return find_plugin(cfg->sinks, cfg->nsinks, name);
}

/* A section's catalog dsn; see config.h. */
const char *
trib_config_dsn_or_checkpoint(const trib_config *cfg, const char *own)
{
	return own ? own : cfg->checkpoint.dsn;
}

/* Expand a topic_pattern for one event; see config.h. */
char *
trib_config_topic_expand(const char *pattern, const char *prefix, const char *source,
						 const char *db, const char *schema, const char *table)
{
	const char *values[] = {prefix, source, db, schema, table};
	trib_strbuf b = {0};

	for (const char *p = pattern; *p;)
	{
		const char *close;
		bool		done = false;

		if (p[0] == '$' && p[1] == '$')
		{
			trib_strbuf_addc(&b, '$');
			p += 2;
			continue;
		}
		if (p[0] == '$' && p[1] == '{' && (close = strchr(p, '}')) != NULL)
		{
			int			i = trib_words_find_span(ck_topic_vars, p + 2,
												 (size_t) (close - p - 2));

			if (i >= 0)
			{
				trib_strbuf_adds(&b, values[i] ? values[i] : "");
				p = close + 1;
				done = true;
			}
		}
		if (!done)
			trib_strbuf_addc(&b, *p++);
	}
	return trib_strbuf_finish(&b);
}

/* A name by `pattern`, or `def`, with MySQL's database as ${schema} under
 * the default; see config.h. */
char *
trib_name_expand(const char *pattern, const char *def, const char *prefix,
				 const char *source, const char *db, const char *schema, const char *table)
{
	if (pattern == NULL)
		pattern = def;
	return trib_name_expand_known(pattern, strcmp(pattern, def) == 0, prefix, source, db,
								  schema, table);
}

/* trib_name_expand() once the caller knows whether pattern is the default;
 * see config.h. */
char *
trib_name_expand_known(const char *pattern, bool is_default, const char *prefix,
					   const char *source, const char *db, const char *schema,
					   const char *table)
{
	if (schema == NULL && is_default)
		schema = db;
	return trib_config_topic_expand(pattern, prefix, source, db, schema, table);
}
