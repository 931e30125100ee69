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
 * Scalars are expanded before they are interpreted: ${VAR}, ${VAR:-default}
 * (default when VAR is unset or empty, like the shell) and $$ for "$".  A
 * key flagged CK_SECRET may instead be given as KEY_file, naming a regular
 * file (at most 64 KiB) whose content, minus one trailing newline, is the
 * value.  Secret values are registered with trib_log_add_secret(), are
 * never quoted in messages, and are wiped before they are freed.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_keys.h"
#include "log.h"
#include "registry.h"
#include "strbuf.h"
#include "yaml_tree.h"

#define MAX_CONFIG_BYTES (1024 * 1024)
#define MAX_SECRET_BYTES (64 * 1024)
#define ENTRY_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"

/* A finish function to run after the walk. */
typedef struct ck_pending
{
	const ck_section *sec;
	const yt_node *map;
	const yt_node *at;
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

/* ---- services for the key tables --------------------------------------- */

/* Record one problem; see config_keys.h.  Beyond the array's capacity
 * problems are only counted. */
void
ck_error(ck_ctx *c, const yt_node *at, const char *path, const char *fmt,...)
{
	trib_strbuf b = {0};
	ck_errline *e;
	va_list		ap;

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
	va_start(ap, fmt);
	trib_strbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	e->text = trib_strbuf_finish(&b);
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

/* ---- scalars ---------------------------------------------------------- */

/* The placeholders a topic_pattern may use (CK_TEMPLATE keys keep them
 * for the sink to fill in per event). */
const char *const ck_topic_vars[] = {"prefix", "source", "db", "schema", "table", NULL};

/* True when name[0..len) is one of the topic_pattern placeholders. */
static bool
is_template_var(const char *name, size_t len)
{
	static const char *const field_refs[] = {"after.", "before.", "key.", NULL};

	for (int i = 0; ck_topic_vars[i] != NULL; i++)
		if (strlen(ck_topic_vars[i]) == len && strncmp(ck_topic_vars[i], name, len) == 0)
			return true;
	/* route rules' field references (config_rules.c) */
	for (int i = 0; field_refs[i] != NULL; i++)
		if (len > strlen(field_refs[i]) &&
			strncmp(name, field_refs[i], strlen(field_refs[i])) == 0)
			return true;
	return false;
}

/*
 * Expand the reference ${NAME} or ${NAME:-default} that starts at `p`,
 * appending the result to `b`.  Returns the text after it, or NULL after
 * reporting a problem.  With `keep_templates` the topic placeholders are
 * copied unchanged.
 */
static const char *
expand_reference(ck_ctx *c, const yt_node *at, const char *path, const char *p,
				 bool keep_templates, trib_strbuf *b)
{
	const char *name = p + 2;
	const char *close = strchr(name, '}');
	/* templates may name fields: ${after.region} (route rules) */
	size_t		nlen = strspn(name, keep_templates ?
							  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_." :
							  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	const char *after = name + nlen;
	const char *def = NULL;
	const char *val;
	char	   *vname;

	if (close == NULL || nlen == 0 || isdigit((unsigned char) name[0]) ||
		(after != close && strncmp(after, ":-", 2) != 0))
	{
		ck_error(c, at, path, "%s reference to an environment variable "
				 "(accepted: ${NAME}, ${NAME:-default}, and $$ for a literal $)",
				 close == NULL ? "unterminated" : "invalid");
		return NULL;
	}
	if (after != close)
		def = after + 2;
	if (keep_templates && def == NULL && is_template_var(name, nlen))
	{
		trib_strbuf_add(b, p, (size_t) (close + 1 - p));
		return close + 1;
	}
	vname = trib_xstrndup(name, nlen);
	val = getenv(vname);
	if (val != NULL && !(def != NULL && val[0] == '\0'))
		trib_strbuf_adds(b, val);
	else if (def != NULL)
		trib_strbuf_add(b, def, (size_t) (close - def));
	else if (keep_templates)
		ck_error(c, at, path, "${%s} is neither a placeholder (accepted: ${prefix}, "
				 "${source}, ${db}, ${schema}, ${table}; in route rules also "
				 "${after.FIELD}, ${before.FIELD}, ${key.FIELD}) nor a set environment "
				 "variable", vname);
	else
		ck_error(c, at, path, "environment variable %s is not set "
				 "(write ${%s:-default} to give a default)", vname, vname);
	free(vname);
	return val != NULL || def != NULL ? close + 1 : NULL;
}

/*
 * Expand ${VAR}, ${VAR:-default} and $$ in `in` (malloc'd result), or
 * report and return NULL.  With `keep_templates` the topic placeholders and
 * $$ are left for the sink to expand per event.
 */
static char *
expand_env(ck_ctx *c, const yt_node *at, const char *path, const char *in,
		   bool keep_templates)
{
	trib_strbuf b = {0};
	const char *p = in;

	while (p != NULL && *p)
	{
		if (p[0] == '$' && p[1] == '{')
			p = expand_reference(c, at, path, p, keep_templates, &b);
		else if (p[0] == '$' && p[1] == '$')
		{
			trib_strbuf_adds(&b, keep_templates ? "$$" : "$");
			p += 2;
		}
		else
			trib_strbuf_addc(&b, *p++);
	}
	if (p == NULL)
	{
		trib_strbuf_free(&b);
		return NULL;
	}
	return trib_strbuf_finish(&b);
}

/* The expanded text of a scalar value, or NULL after reporting. */
static char *
scalar_text(ck_ctx *c, const yt_node *v, const char *path, const char *expected,
			unsigned flags)
{
	char		desc[YT_DESCRIBE_LEN];

	if (v->kind != YT_SCALAR)
	{
		ck_error(c, v, path, "expected %s, got %s", expected,
				 yt_describe(v, desc, sizeof(desc)));
		return NULL;
	}
	return expand_env(c, v, path, v->text, (flags & CK_TEMPLATE) != 0);
}

/* Free a secret string after wiping it. */
static void
free_secret(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

/*
 * Read a whole regular file of at most `max` bytes into a malloc'd,
 * NUL-terminated buffer.  NULL and a message (without the file name) on
 * failure.  O_NONBLOCK: a FIFO or device given by mistake cannot hang us.
 */
static char *
read_small_file(const char *file, size_t max, size_t *len, char *msg, size_t msglen)
{
	struct stat st;
	char	   *buf;
	ssize_t		n = 0;
	int			fd;

	*len = 0;
	fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
	{
		snprintf(msg, msglen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		snprintf(msg, msglen, "not a regular file");
		close(fd);
		return NULL;
	}
	buf = trib_xmalloc(max + 2);
	while (*len <= max &&
		   ((n = read(fd, buf + *len, max + 1 - *len)) > 0 || (n < 0 && errno == EINTR)))
		*len += n > 0 ? (size_t) n : 0;
	if (n < 0)
		snprintf(msg, msglen, "cannot read: %s", strerror(errno));
	else if (*len > max)
		snprintf(msg, msglen, "larger than %zu KiB", max / 1024);
	close(fd);
	if (n < 0 || *len > max)
	{
		explicit_bzero(buf, max + 2);
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

/* Read a secret from a file: malloc'd, one trailing newline dropped;
 * NULL after reporting. */
static char *
read_secret_file(ck_ctx *c, const yt_node *at, const char *path, const char *file)
{
	char		msg[256];
	size_t		len;
	char	   *buf = read_small_file(file, MAX_SECRET_BYTES, &len, msg, sizeof(msg));

	if (buf == NULL)
	{
		ck_error(c, at, path, "%s: %s", file, msg);
		return NULL;
	}
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\0', len) != NULL)
	{
		ck_error(c, at, path, "%s: the file %s", file,
				 len ? "contains a NUL byte" : "is empty");
		explicit_bzero(buf, len);
		free(buf);
		return NULL;
	}
	return buf;
}

/* Strict decimal integer; 1: not a number, 2: out of int64 range. */
static int
parse_int64(const char *s, int64_t *out)
{
	char	   *end;
	long long	v;

	if (!(isdigit((unsigned char) s[0]) ||
		  ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char) s[1]))))
		return 1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return 1;
	if (errno == ERANGE)
		return 2;
	*out = v;
	return 0;
}

/* YAML 1.1 booleans, any case. */
static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};

	for (int i = 0; i < 3; i++)
	{
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0)
		{
			*out = strcasecmp(s, yes[i]) == 0;
			return true;
		}
	}
	return false;
}

/* "a, b, c" from a NULL-terminated word list (malloc'd). */
static char *
join_words(const char *const *words)
{
	trib_strbuf b = {0};

	for (int i = 0; words[i] != NULL; i++)
	{
		if (i > 0)
			trib_strbuf_adds(&b, ", ");
		trib_strbuf_adds(&b, words[i]);
	}
	return trib_strbuf_finish(&b);
}

/* What a key's value should be, for "expected X, got Y". */
static const char *
expected_of(const ck_key *k)
{
	switch (k->type)
	{
		case CK_INT:
		case CK_INT64:
			return "an integer";
		case CK_BOOL:
			return "a boolean";
		case CK_STRLIST:
			return "a list";
		case CK_KVLIST:
		case CK_SECTION:
			return "a map";
		default:
			return "a string";
	}
}

/* A string value: not empty (unless allowed), checked, secrets
 * registered. */
static bool
store_string(const ck_key *k, const char *text, char **field, char *msg, size_t msglen)
{
	if (k->flags & CK_SECRET)
		trib_log_add_secret(text);
	if (text[0] == '\0' && !(k->flags & CK_EMPTY_OK))
	{
		snprintf(msg, msglen, "must not be empty");
		return false;
	}
	if (k->check != NULL && !k->check(text, msg, msglen))
		return false;
	free(*field);
	*field = trib_xstrdup(text);
	return true;
}

/* An integer value within the key's range. */
static bool
store_int(const ck_key *k, const char *text, void *field, char *msg, size_t msglen)
{
	int64_t		v = 0;
	int			rc = parse_int64(text, &v);

	if (rc == 1)
	{
		snprintf(msg, msglen, "expected an integer, got \"%s\"", text);
		return false;
	}
	if (rc == 2 || v < k->min || v > k->max)
	{
		snprintf(msg, msglen, "%s is out of range (accepted: %lld to %lld)",
				 text, (long long) k->min, (long long) k->max);
		return false;
	}
	if (k->type == CK_INT)
		*(int *) field = (int) v;
	else
		*(int64_t *) field = v;
	return true;
}

/* One of the key's words; the enum value is its index. */
static bool
store_enum(const ck_key *k, const char *text, int *field, char *msg, size_t msglen)
{
	char	   *list;

	for (int i = 0; k->words[i] != NULL; i++)
	{
		if (strcmp(text, k->words[i]) == 0)
		{
			*field = i;
			return true;
		}
	}
	list = join_words(k->words);
	snprintf(msg, msglen, "invalid value \"%s\" (accepted: %s)", text, list);
	free(list);
	return false;
}

/*
 * Interpret `text` for a scalar key and store it in `base`; false with a
 * message when it is invalid.  Used for values and defaults alike.
 */
static bool
store_value(const ck_key *k, const char *text, void *base, char *msg, size_t msglen)
{
	void	   *field = (char *) base + k->offset;

	switch (k->type)
	{
		case CK_STRING:
			return store_string(k, text, field, msg, msglen);
		case CK_INT:
		case CK_INT64:
			return store_int(k, text, field, msg, msglen);
		case CK_BOOL:
			if (parse_bool(text, field))
				return true;
			snprintf(msg, msglen, "expected a boolean, got \"%s\" (accepted: true, false)",
					 text);
			return false;
		case CK_ENUM:
			return store_enum(k, text, field, msg, msglen);
		default:
			snprintf(msg, msglen, "internal error: %s is not a scalar key", k->name);
			return false;
	}
}

/* ---- lists and maps of strings ---------------------------------------- */

/* The first key node before index i in `map` with the same text, or NULL. */
static const yt_node *
earlier_duplicate(const yt_node *map, size_t i)
{
	for (size_t j = 0; j < i; j += 2)
		if (strcmp(map->child[j]->text, map->child[i]->text) == 0)
			return map->child[j];
	return NULL;
}

/* A list of strings. */
static void
parse_strlist(ck_ctx *c, const ck_key *k, const yt_node *v, const char *path,
			  trib_strlist *list)
{
	char		desc[YT_DESCRIBE_LEN];
	char		msg[512];

	if (v->kind != YT_SEQ)
	{
		ck_error(c, v, path, "expected a list, got %s", yt_describe(v, desc, sizeof(desc)));
		return;
	}
	list->items = trib_xcalloc(v->nchild, sizeof(char *));
	for (size_t i = 0; i < v->nchild; i++)
	{
		const yt_node *item = v->child[i];
		trib_strbuf ip = {0};
		char	   *ipath;
		char	   *text;

		trib_strbuf_printf(&ip, "%s[%zu]", path, i);
		ipath = trib_strbuf_finish(&ip);
		text = scalar_text(c, item, ipath, "a string", k->flags);
		if (text != NULL && text[0] == '\0')
			ck_error(c, item, ipath, "must not be empty");
		else if (text != NULL && k->check != NULL && !k->check(text, msg, sizeof(msg)))
			ck_error(c, item, ipath, "%s", msg);
		else if (text != NULL)
		{
			list->items[list->count++] = text;
			text = NULL;
		}
		free(text);
		free(ipath);
	}
}

/* True when `key` is one of the key's secret names. */
static bool
is_secret_name(const ck_key *k, const char *key, size_t len)
{
	for (int i = 0; k->words != NULL && k->words[i] != NULL; i++)
		if (strlen(k->words[i]) == len && strncmp(k->words[i], key, len) == 0)
			return true;
	return false;
}

/* Append name = *value to a kvlist (taking both), unless name is there
 * already (KEY and KEY_file both given). */
static void
add_kv(ck_ctx *c, trib_kvlist *list, const yt_node *kn, const char *kpath,
	   char *name, char **value, bool secret)
{
	if (secret)
		trib_log_add_secret(*value);
	if (trib_kvlist_get(list, name) != NULL)
	{
		ck_error(c, kn, kpath, "%s and %s_file are mutually exclusive", name, name);
		free(name);
		return;
	}
	list->items[list->count].key = name;
	list->items[list->count].value = *value;
	list->count++;
	*value = NULL;
}

/* A map of strings passed through (librdkafka properties, plugin options);
 * secret names may be given as NAME_file. */
static void
parse_kvlist(ck_ctx *c, const ck_key *k, const yt_node *v, const char *path,
			 trib_kvlist *list)
{
	char		desc[YT_DESCRIBE_LEN];

	if (v->kind != YT_MAP)
	{
		ck_error(c, v, path, "expected a map, got %s", yt_describe(v, desc, sizeof(desc)));
		return;
	}
	list->items = trib_xcalloc(v->nchild / 2, sizeof(trib_kv));
	for (size_t i = 0; i + 1 < v->nchild; i += 2)
	{
		const yt_node *kn = v->child[i];
		const yt_node *vn = v->child[i + 1];
		const yt_node *dup = earlier_duplicate(v, i);
		char	   *kpath = ck_path(path, kn->text);
		size_t		klen = kn->len;
		bool		from_file = false;
		bool		secret;
		char	   *text = NULL;

		if (klen > 5 && strcmp(kn->text + klen - 5, "_file") == 0 &&
			is_secret_name(k, kn->text, klen - 5))
		{
			from_file = true;
			klen -= 5;
		}
		secret = is_secret_name(k, kn->text, klen);
		if (dup != NULL)
			ck_error(c, kn, kpath, "duplicate key (first at line %d, column %d)",
					 dup->line, dup->column);
		else if (kn->len == 0)
			ck_error(c, kn, kpath, "empty key");
		else if (yt_is_null(vn))
			ck_error(c, vn, kpath, "needs a value");
		else
			text = scalar_text(c, vn, kpath, from_file ? "a file name" : "a string", 0);
		if (text != NULL && from_file)
		{
			char	   *file = text;

			text = read_secret_file(c, vn, kpath, file);
			free(file);
		}
		if (text != NULL)
			add_kv(c, list, kn, kpath, trib_xstrndup(kn->text, klen), &text, secret);
		if (secret)
			free_secret(text);
		else
			free(text);
		free(kpath);
	}
}

/* ---- sections --------------------------------------------------------- */

/* Row index of `key` in a section (KEY_file for secret rows), or -1. */
static int
find_row(const ck_section *sec, const char *key, bool *from_file)
{
	size_t		len = strlen(key);

	*from_file = false;
	for (int i = 0; sec->keys[i].name != NULL; i++)
	{
		const ck_key *k = &sec->keys[i];

		if (strcmp(k->name, key) == 0)
			return i;
		if ((k->flags & CK_SECRET) && len == strlen(k->name) + 5 &&
			strncmp(key, k->name, strlen(k->name)) == 0 &&
			strcmp(key + strlen(k->name), "_file") == 0)
		{
			*from_file = true;
			return i;
		}
	}
	return -1;
}

/* "type, dsn, dsn_file, slot, ...": every key a section accepts. */
static char *
accepted_keys(const ck_section *sec)
{
	trib_strbuf b = {0};

	for (int i = 0; sec->keys[i].name != NULL; i++)
	{
		if (i > 0)
			trib_strbuf_adds(&b, ", ");
		trib_strbuf_adds(&b, sec->keys[i].name);
		if (sec->keys[i].flags & CK_SECRET)
			trib_strbuf_printf(&b, ", %s_file", sec->keys[i].name);
	}
	return trib_strbuf_finish(&b);
}

/* Parse one present key's value. */
static void
apply_key(ck_ctx *c, const ck_key *k, bool from_file, const yt_node *key,
		  const yt_node *v, const char *path, void *base)
{
	void	   *field = (char *) base + k->offset;
	char		msg[512];
	char	   *text;

	switch (k->type)
	{
		case CK_STRING:
		case CK_INT:
		case CK_INT64:
		case CK_BOOL:
		case CK_ENUM:
			text = scalar_text(c, v, path, from_file ? "a file name" : expected_of(k), k->flags);
			if (text != NULL && from_file)
			{
				char	   *secret = read_secret_file(c, v, path, text);

				free(text);
				text = secret;
			}
			if (text != NULL && !store_value(k, text, base, msg, sizeof(msg)))
				ck_error(c, v, path, "%s", msg);
			if (k->flags & CK_SECRET)
				free_secret(text);
			else
				free(text);
			break;
		case CK_STRLIST:
			parse_strlist(c, k, v, path, field);
			break;
		case CK_KVLIST:
			parse_kvlist(c, k, v, path, field);
			break;
		case CK_SECTION:
			ck_walk_section(c, v, key, path, k->section, field, NULL);
			break;
		case CK_CUSTOM:
			k->custom(c, key, v, path, base);
			break;
		case CK_TYPE:
			break;				/* read by the family */
	}
}

/* Remember a finish function for after the walk. */
static void
queue_finish(ck_ctx *c, const ck_section *sec, const yt_node *map, const yt_node *at,
			 const char *path, void *base, const char *name)
{
	ck_pending *p;

	if (c->npending == c->cappending)
	{
		c->cappending = c->cappending ? c->cappending * 2 : 16;
		c->pending = trib_xrealloc(c->pending, c->cappending * sizeof(ck_pending));
	}
	p = &c->pending[c->npending++];
	p->sec = sec;
	p->map = map;
	p->at = at;
	p->path = trib_xstrdup(path);
	p->base = base;
	p->name = name;
}

/* A key absent (or null): its default, or an error when required. */
static void
apply_absent(ck_ctx *c, const ck_key *k, const yt_node *where, bool was_null,
			 const char *path, void *base)
{
	char		msg[512];

	if (k->flags & CK_REQUIRED)
	{
		ck_error(c, where, path, was_null ? "required key has no value"
				 : "required key is missing");
		return;
	}
	if (k->type == CK_SECTION)
		ck_walk_section(c, NULL, where, path, k->section, (char *) base + k->offset, NULL);
	else if (k->def != NULL && !store_value(k, k->def, base, msg, sizeof(msg)))
		ck_error(c, NULL, path, "internal error: bad default \"%s\": %s", k->def, msg);
}

/* Which rows of a section a map gave: the key node of each (NULL when
 * absent) and whether it had a non-null value. */
typedef struct ck_seen
{
	const yt_node **key;
	bool	   *had_value;
} ck_seen;

/* Check and apply every key present in `map`. */
static void
walk_present(ck_ctx *c, const yt_node *map, const char *path, const ck_section *sec,
			 void *base, ck_seen *seen)
{
	for (size_t i = 0; i + 1 < map->nchild; i += 2)
	{
		const yt_node *kn = map->child[i];
		const yt_node *vn = map->child[i + 1];
		const yt_node *dup = earlier_duplicate(map, i);
		char	   *kpath = ck_path(path, kn->text);
		bool		from_file;
		int			row = find_row(sec, kn->text, &from_file);

		if (dup != NULL)
			ck_error(c, kn, kpath, "duplicate key (first at line %d, column %d)",
					 dup->line, dup->column);
		else if (row < 0)
		{
			char	   *list = accepted_keys(sec);

			ck_error(c, kn, kpath, "unknown key%s%s (accepted: %s)",
					 sec->what ? " for " : "", sec->what ? sec->what : "", list);
			free(list);
		}
		else if (seen->key[row] != NULL)
			ck_error(c, kn, kpath, "%s and %s_file are mutually exclusive",
					 sec->keys[row].name, sec->keys[row].name);
		else
		{
			const ck_key *k = &sec->keys[row];

			seen->key[row] = kn;
			seen->had_value[row] = !yt_is_null(vn) || k->type == CK_CUSTOM ||
				k->type == CK_TYPE;
			if (seen->had_value[row])
				apply_key(c, k, from_file, kn, vn, kpath, base);
		}
		free(kpath);
	}
}

/* Defaults for absent keys, errors for absent required ones. */
static void
walk_absent(ck_ctx *c, const yt_node *where, const char *path, const ck_section *sec,
			void *base, const ck_seen *seen)
{
	for (size_t r = 0; sec->keys[r].name != NULL; r++)
	{
		const ck_key *k = &sec->keys[r];
		char	   *kpath;

		if (seen->had_value[r] || k->type == CK_TYPE)
			continue;
		kpath = ck_path(path, k->name);
		if (k->type != CK_CUSTOM)
			apply_absent(c, k, seen->key[r] ? seen->key[r] : where, seen->key[r] != NULL,
						 kpath, base);
		else if (k->flags & CK_REQUIRED)
			ck_error(c, where, kpath, "required key is missing");
		free(kpath);
	}
}

/* Walk a YAML map against a section's table; see config_keys.h. */
void
ck_walk_section(ck_ctx *c, const yt_node *map, const yt_node *at, const char *path,
				const ck_section *sec, void *base, const char *name)
{
	char		desc[YT_DESCRIBE_LEN];
	size_t		nrows = 0;
	ck_seen		seen;

	while (sec->keys[nrows].name != NULL)
		nrows++;
	seen.key = trib_xcalloc(nrows, sizeof(*seen.key));
	seen.had_value = trib_xcalloc(nrows, sizeof(*seen.had_value));
	if (map != NULL && yt_is_null(map))
		map = NULL;
	if (map != NULL && map->kind != YT_MAP)
	{
		ck_error(c, map, path, "expected a map, got %s",
				 yt_describe(map, desc, sizeof(desc)));
		map = NULL;
	}
	if (map != NULL)
		walk_present(c, map, path, sec, base, &seen);
	walk_absent(c, at ? at : map, path, sec, base, &seen);
	if (sec->finish != NULL)
		queue_finish(c, sec, map, at, path, base, name);
	free(seen.key);
	free(seen.had_value);
}

/* Free what a section's rows own. */
void
ck_free_section(const ck_section *sec, void *base)
{
	for (int i = 0; sec->keys[i].name != NULL; i++)
	{
		const ck_key *k = &sec->keys[i];
		void	   *field = (char *) base + k->offset;

		switch (k->type)
		{
			case CK_STRING:
				if (k->flags & CK_SECRET)
					free_secret(*(char **) field);
				else
					free(*(char **) field);
				break;
			case CK_STRLIST:
				{
					trib_strlist *l = field;

					for (size_t j = 0; j < l->count; j++)
						free(l->items[j]);
					free(l->items);
					break;
				}
			case CK_KVLIST:
				{
					trib_kvlist *l = field;

					for (size_t j = 0; j < l->count; j++)
					{
						bool		secret = is_secret_name(k, l->items[j].key,
															strlen(l->items[j].key));

						if (secret)
							free_secret(l->items[j].value);
						else
							free(l->items[j].value);
						free(l->items[j].key);
					}
					free(l->items);
					break;
				}
			case CK_SECTION:
				ck_free_section(k->section, field);
				break;
			case CK_CUSTOM:
				if (k->custom_free != NULL)
					k->custom_free(base);
				break;
			default:
				break;
		}
	}
}

/* ---- families: sources, sinks (plugins) and transforms (variants) ----- */

#define FIELD(base, off, type) (*(type *) ((char *) (base) + (off)))

/* The variant of a family for a type name, or NULL. */
static const ck_variant *
find_variant(const ck_family *fam, const char *type)
{
	for (const ck_variant *v = fam->variants; v->type != NULL; v++)
		if (strcmp(v->type, type) == 0)
			return v;
	return NULL;
}

/* "redact, partial, ...": a family's type names (malloc'd). */
static char *
variant_list(const ck_family *fam)
{
	const char *words[64];
	int			n = 0;

	for (const ck_variant *v = fam->variants; v->type != NULL && n < 63; v++)
		words[n++] = v->type;
	words[n] = NULL;
	return join_words(words);
}

/* "kafka, postgres, file, stdout": the registered types (malloc'd). */
static char *
plugin_list(const trib_plugin *const *plugins)
{
	const char *words[64];
	int			n = 0;

	for (; *plugins != NULL && n < 63; plugins++)
		words[n++] = (*plugins)->type;
	words[n] = NULL;
	return join_words(words);
}

/*
 * The `type` of one entry (malloc'd), or NULL after reporting that it is
 * missing or not a string.  `accepted` lists the types, for messages.
 */
static char *
entry_type(ck_ctx *c, const yt_node *kn, const yt_node *vn, const char *epath,
		   const char *accepted)
{
	const yt_node *tn = yt_map_get(vn, "type");
	char	   *tpath = ck_path(epath, "type");
	char	   *text = NULL;

	if (yt_is_null(tn))
		ck_error(c, tn ? tn : kn, tpath, "required key %s (accepted: %s)",
				 tn ? "has no value" : "is missing", accepted);
	else
		text = scalar_text(c, tn, tpath, "a string", 0);
	free(tpath);
	return text;
}

/* Report an unknown `type` of an entry. */
static void
unknown_type(ck_ctx *c, const yt_node *vn, const char *epath, const char *what,
			 const char *text, const char *accepted)
{
	char	   *tpath = ck_path(epath, "type");

	ck_error(c, yt_map_get(vn, "type"), tpath, "unknown %s type \"%s\" (accepted: %s)",
			 what, text, accepted);
	free(tpath);
}

/* The variant an entry's `type` names, or NULL (reported). */
static const ck_variant *
entry_variant(ck_ctx *c, const yt_node *kn, const yt_node *vn, const char *epath,
			  const ck_family *fam)
{
	char	   *list = variant_list(fam);
	char	   *text = entry_type(c, kn, vn, epath, list);
	const ck_variant *var = NULL;

	if (text != NULL && (var = find_variant(fam, text)) == NULL)
		unknown_type(c, vn, epath, fam->what, text, list);
	free(text);
	free(list);
	return var;
}

/*
 * The registered type `tn` would name if it were not YAML's bare null
 * (`type: null` for the null sink: YAML reads it as no value), or NULL.
 */
static const trib_plugin *
bare_null_type(const yt_node *tn, const trib_plugin *const *plugins)
{
	if (tn == NULL || !yt_is_null(tn) || tn->len == 0)
		return NULL;
	for (; *plugins != NULL; plugins++)
		if (strcasecmp((*plugins)->type, tn->text) == 0)
			return *plugins;
	return NULL;
}

/* The registered plugin an entry's `type` names, or NULL (reported). */
static const trib_plugin *
entry_plugin(ck_ctx *c, const yt_node *kn, const yt_node *vn, const char *epath,
			 const char *what, const trib_plugin *const *plugins)
{
	const yt_node *tn = yt_map_get(vn, "type");
	char	   *list = plugin_list(plugins);
	char	   *text = NULL;
	const trib_plugin *plugin = NULL;
	const trib_plugin *meant = bare_null_type(tn, plugins);

	if (meant != NULL)
	{
		char	   *tpath = ck_path(epath, "type");

		ck_error(c, tn, tpath, "a bare %s is YAML's null, not the %s type \"%s\": "
				 "write type: \"%s\" (accepted: %s)", tn->text, what, meant->type,
				 meant->type, list);
		free(tpath);
	}
	else if ((text = entry_type(c, kn, vn, epath, list)) != NULL &&
			 (plugin = trib_registry_find(plugins, text)) == NULL)
		unknown_type(c, vn, epath, what, text, list);
	free(text);
	free(list);
	return plugin;
}

/* One entry of a plugin family: its settings, walked against the
 * plugin's table. */
static void
plugin_entry(ck_ctx *c, const yt_node *kn, const yt_node *vn, const char *epath,
			 const trib_plugin *plugin, trib_plugin_conf *e)
{
	e->name = trib_xstrdup(kn->text);
	e->plugin = plugin;
	e->type_name = plugin->type;
	e->line = kn->line;
	e->column = kn->column;
	e->conf = plugin->conf_size ? trib_xcalloc(1, plugin->conf_size) : NULL;
	ck_walk_section(c, vn, kn, epath, plugin->section, e->conf, e->name);
}

/* A map of name -> section whose type picks a registered plugin. */
void
ck_parse_plugins(ck_ctx *c, const yt_node *key, const yt_node *map, const char *path,
				 const char *what, const trib_plugin *const *plugins,
				 trib_plugin_conf **array, size_t *count)
{
	char		desc[YT_DESCRIBE_LEN];

	if (yt_is_null(map) || (map->kind == YT_MAP && map->nchild == 0))
	{
		ck_error(c, yt_is_null(map) ? key : map, path, "at least one %s is required", what);
		return;
	}
	if (map->kind != YT_MAP)
	{
		ck_error(c, map, path, "expected a map of %s names to settings, got %s",
				 what, yt_describe(map, desc, sizeof(desc)));
		return;
	}
	*array = trib_xcalloc(map->nchild / 2, sizeof(trib_plugin_conf));
	for (size_t i = 0; i + 1 < map->nchild; i += 2)
	{
		const yt_node *kn = map->child[i];
		const yt_node *vn = map->child[i + 1];
		const yt_node *dup = earlier_duplicate(map, i);
		char	   *epath = ck_path(path, kn->text);
		const trib_plugin *plugin = NULL;
		size_t		nlen = kn->len;

		if (dup != NULL)
			ck_error(c, kn, epath, "duplicate %s name (first at line %d, column %d)",
					 what, dup->line, dup->column);
		else if (nlen == 0 || nlen > 63 || strspn(kn->text, ENTRY_NAME_CHARS) != nlen)
			ck_error(c, kn, epath, "invalid %s name \"%s\" (accepted: a-z, 0-9, _ and -, "
					 "1 to 63 characters)", what, kn->text);
		else if (vn->kind != YT_MAP)
			ck_error(c, yt_is_null(vn) ? kn : vn, epath, "expected a map with the %s's "
					 "settings, got %s", what, yt_describe(vn, desc, sizeof(desc)));
		else
			plugin = entry_plugin(c, kn, vn, epath, what, plugins);
		if (plugin != NULL)
			plugin_entry(c, kn, vn, epath, plugin, &(*array)[(*count)++]);
		free(epath);
	}
}

/* Free a plugin family's entries and their settings. */
void
ck_free_plugins(trib_plugin_conf *array, size_t count)
{
	for (size_t i = 0; i < count; i++)
	{
		const trib_plugin *plugin = array[i].plugin;

		if (array[i].conf != NULL)
		{
			ck_free_section(plugin->section, array[i].conf);
			if (plugin->conf_free != NULL)
				plugin->conf_free(array[i].conf);
			free(array[i].conf);
		}
		free(array[i].name);
	}
	free(array);
}

/*
 * A list of maps whose `type` picks the variant (transforms).  An entry's
 * name is its `name` key when the section has one, else "KEY[N]".
 */
void
ck_parse_list_family(ck_ctx *c, const yt_node *key, const yt_node *seq, const char *path,
					 const ck_family *fam)
{
	char		desc[YT_DESCRIBE_LEN];
	char	   *array;
	size_t	   *count = &FIELD(c->cfg, fam->off_count, size_t);

	(void) key;
	if (yt_is_null(seq))
		return;
	if (seq->kind != YT_SEQ)
	{
		ck_error(c, seq, path, "expected a list of %ss, got %s", fam->what,
				 yt_describe(seq, desc, sizeof(desc)));
		return;
	}
	array = trib_xcalloc(seq->nchild + 1, fam->entry_size);
	FIELD(c->cfg, fam->off_array, char *) = array;
	for (size_t i = 0; i < seq->nchild; i++)
	{
		const yt_node *vn = seq->child[i];
		char		ipath[64];
		char	   *epath;
		const ck_variant *var = NULL;

		snprintf(ipath, sizeof(ipath), "[%zu]", i);
		epath = trib_xmalloc(strlen(path) + strlen(ipath) + 1);
		strcpy(epath, path);
		strcat(epath, ipath);
		if (vn->kind != YT_MAP)
			ck_error(c, vn, epath, "expected a map with the %s's settings, got %s",
					 fam->what, yt_describe(vn, desc, sizeof(desc)));
		else
			var = entry_variant(c, vn, vn, epath, fam);
		if (var != NULL)
		{
			char	   *entry = array + (*count)++ * fam->entry_size;

			FIELD(entry, fam->off_type, int) = var->id;
			FIELD(entry, fam->off_type_name, const char *) = var->type;
			FIELD(entry, fam->off_line, int) = vn->line;
			FIELD(entry, fam->off_column, int) = vn->column;
			ck_walk_section(c, vn, vn, epath, var->section, entry + var->offset, NULL);
			if (FIELD(entry, fam->off_name, char *) == NULL)
				FIELD(entry, fam->off_name, char *) = trib_xstrdup(epath);
		}
		free(epath);
	}
}

/* Free a family's entries. */
void
ck_free_family(const ck_family *fam, trib_config *cfg)
{
	char	   *array = FIELD(cfg, fam->off_array, char *);
	size_t		count = FIELD(cfg, fam->off_count, size_t);

	for (size_t i = 0; i < count; i++)
	{
		char	   *entry = array + i * fam->entry_size;
		int			id = FIELD(entry, fam->off_type, int);

		for (const ck_variant *v = fam->variants; v->type != NULL; v++)
			if (v->id == id)
				ck_free_section(v->section, entry + v->offset);
		free(FIELD(entry, fam->off_name, char *));
	}
	free(array);
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

/* Copy the error lines, sorted and redacted, to the caller's buffer, and
 * free them. */
static void
report(ck_ctx *c, char *errbuf, size_t errlen)
{
	int			n = c->nerr < TRIB_CONFIG_MAX_ERRORS ? c->nerr : TRIB_CONFIG_MAX_ERRORS;
	trib_strbuf b = {0};
	char	   *text;
	char	   *clean;

	qsort(c->errs, (size_t) n, sizeof(ck_errline), cmp_errline);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			trib_strbuf_addc(&b, '\n');
		trib_strbuf_adds(&b, c->errs[i].text);
		free(c->errs[i].text);
	}
	if (c->nerr > TRIB_CONFIG_MAX_ERRORS)
		trib_strbuf_printf(&b, "\n%s: too many errors; only the first %d are shown",
						   c->file, TRIB_CONFIG_MAX_ERRORS);
	text = trib_strbuf_finish(&b);
	if (errbuf != NULL && errlen > 0)
	{
		clean = trib_log_redact(text);
		snprintf(errbuf, errlen, "%s", clean);
		free(clean);
	}
	free(text);
}

/* Load from memory; see config.h. */
bool
trib_config_load_buffer(const char *name, const char *buf, size_t len,
						trib_config **out, char *errbuf, size_t errlen)
{
	char		desc[YT_DESCRIBE_LEN];
	ck_ctx		c = {0};
	yt_node    *root = NULL;
	int			line;
	int			column;
	char		msg[512];

	*out = NULL;
	c.file = name;
	c.cfg = trib_xcalloc(1, sizeof(trib_config));
	c.cfg->path = trib_xstrdup(name);

	if (!yt_parse(buf, len, &root, &line, &column, msg, sizeof(msg)))
	{
		yt_node		pos = {.line = line, .column = column};

		ck_error(&c, &pos, NULL, "%s", msg);
	}
	else if (yt_is_null(root))
		ck_error(&c, NULL, NULL, "the file is empty (expected a map with pipeline, "
				 "sources and sinks)");
	else if (root->kind != YT_MAP)
		ck_error(&c, root, NULL, "expected a map at the top level, got %s",
				 yt_describe(root, desc, sizeof(desc)));
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
	yt_free(root);

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
	char	   *buf = read_small_file(path, MAX_CONFIG_BYTES, &len, msg, sizeof(msg));
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
trib_kvlist_get(const trib_kvlist *list, const char *key)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].key, key) == 0)
			return list->items[i].value;
	return NULL;
}

const trib_source_conf *
trib_config_find_source(const trib_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	return NULL;
}

const trib_sink_conf *
trib_config_find_sink(const trib_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsinks; i++)
		if (strcmp(cfg->sinks[i].name, name) == 0)
			return &cfg->sinks[i];
	return NULL;
}

/* Expand a topic_pattern for one event; see config.h. */
char *
trib_topic_expand(const char *pattern, const char *prefix, const char *source,
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
			for (int i = 0; ck_topic_vars[i] != NULL; i++)
			{
				if (strlen(ck_topic_vars[i]) == (size_t) (close - p - 2) &&
					strncmp(p + 2, ck_topic_vars[i], (size_t) (close - p - 2)) == 0)
				{
					trib_strbuf_adds(&b, values[i] ? values[i] : "");
					p = close + 1;
					done = true;
					break;
				}
			}
		}
		if (!done)
			trib_strbuf_addc(&b, *p++);
	}
	return trib_strbuf_finish(&b);
}
