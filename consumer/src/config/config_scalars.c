/*
 * config_scalars.c: the values of pipeline.yaml (see config_int.h).
 *
 * Scalars are expanded before they are interpreted: ${VAR},
 * ${VAR:-default} (default when VAR is unset or empty, like the shell)
 * and $$ for "$"; a CK_TEMPLATE key keeps the topic placeholders
 * (${prefix}, ...) for the sink.  A key flagged CK_SECRET may instead be
 * given as KEY_file, naming a regular file (at most 64 KiB) whose
 * content, minus one trailing newline, is the value; secret values are
 * registered with trib_log_add_secret(), never quoted in messages, and
 * wiped before they are freed.  Integers are strict decimals within the
 * row's range, booleans YAML 1.1's words, enums one of the row's words.
 */
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "strbuf.h"
#include "words.h"

/* ---- scalars ---------------------------------------------------------- */

/* The placeholders a topic_pattern may use (CK_TEMPLATE keys keep them
 * for the sink to fill in per event). */
const char *const ck_topic_vars[] = {"prefix", "source", "db", "schema", "table", NULL};

/* See config_keys.h. */
bool
ck_is_field_ref(const char *name, size_t len)
{
	static const char *const field_refs[] = {"after.", "before.", "key.", NULL};

	for (int i = 0; field_refs[i] != NULL; i++)
		if (len > strlen(field_refs[i]) &&
			strncmp(name, field_refs[i], strlen(field_refs[i])) == 0)
			return true;
	return false;
}

/* See config_keys.h. */
bool
ck_is_topic_var(const char *name, size_t len)
{
	return trib_words_find_span(ck_topic_vars, name, len) >= 0;
}

/* True when name[0..len) is one of the topic_pattern placeholders, or a
 * route rule's field reference (rules_conf.c). */
static bool
is_template_var(const char *name, size_t len)
{
	return ck_is_topic_var(name, len) || ck_is_field_ref(name, len);
}

/* See config_keys.h. */
const char *
ck_template_problem(const char *tmpl, bool (*known) (const char *name, size_t len),
					const char *chars)
{
	for (const char *p = tmpl; *p;)
	{
		if (p[0] == '$' && p[1] == '$')
			p += 2;
		else if (p[0] == '$' && p[1] == '{')
		{
			const char *end = strchr(p, '}');

			if (end == NULL || !known(p + 2, (size_t) (end - p - 2)))
				return p;
			p = end + 1;
		}
		else if (chars == NULL || strchr(chars, *p) != NULL)
			p++;
		else
			return p;
	}
	return NULL;
}

/*
 * Expand the reference ${NAME} or ${NAME:-default} that starts at `p`,
 * appending the result to `b`.  Returns the text after it, or NULL after
 * reporting a problem.  With `keep_templates` the topic placeholders are
 * copied unchanged.
 */
static const char *
expand_reference(ck_ctx *c, const trib_yaml_node *at, const char *path, const char *p,
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
expand_env(ck_ctx *c, const trib_yaml_node *at, const char *path, const char *in,
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
char *
ck_scalar_text(ck_ctx *c, const trib_yaml_node *v, const char *path, const char *expected,
			unsigned flags)
{
	char		desc[TRIB_YAML_DESCRIBE_LEN];

	if (v->kind != TRIB_YAML_SCALAR)
	{
		ck_error(c, v, path, "expected %s, got %s", expected,
				 trib_yaml_describe(v, desc, sizeof(desc)));
		return NULL;
	}
	return expand_env(c, v, path, v->text, (flags & CK_TEMPLATE) != 0);
}

/* Free a secret string after wiping it. */
void
ck_free_secret(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* Read a secret from a file: malloc'd, one trailing newline dropped;
 * NULL after reporting. */
char *
ck_read_secret_file(ck_ctx *c, const trib_yaml_node *at, const char *path, const char *file)
{
	char		msg[256];
	size_t		len;
	char	   *buf = trib_fileio_read_small(file, MAX_SECRET_BYTES, &len, msg, sizeof(msg));

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
char *
ck_join_words(const char *const *words)
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
const char *
ck_expected_of(const ck_key *k)
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
		snprintf(msg, msglen, "expected an integer, got \"%s\" (accepted: decimal digits, "
				 "%lld to %lld; no units, 0x, _ or fractions)", text, (long long) k->min,
				 (long long) k->max);
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
	list = ck_join_words(k->words);
	snprintf(msg, msglen, "invalid value \"%s\" (accepted: %s)", text, list);
	free(list);
	return false;
}

/*
 * Interpret `text` for a scalar key and store it in `base`; false with a
 * message when it is invalid.  Used for values and defaults alike.
 */
bool
ck_store_value(const ck_key *k, const char *text, void *base, char *msg, size_t msglen)
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
const trib_yaml_node *
ck_earlier_duplicate(const trib_yaml_node *map, size_t i)
{
	for (size_t j = 0; j < i; j += 2)
		if (strcmp(map->child[j]->text, map->child[i]->text) == 0)
			return map->child[j];
	return NULL;
}

/* A list of strings. */
void
ck_parse_strlist(ck_ctx *c, const ck_key *k, const trib_yaml_node *v, const char *path,
			  trib_strlist *list)
{
	char		desc[TRIB_YAML_DESCRIBE_LEN];
	char		msg[512];

	if (v->kind != TRIB_YAML_SEQ)
	{
		ck_error(c, v, path, "expected a list, got %s", trib_yaml_describe(v, desc, sizeof(desc)));
		return;
	}
	list->items = trib_xcalloc(v->nchild, sizeof(char *));
	for (size_t i = 0; i < v->nchild; i++)
	{
		const trib_yaml_node *item = v->child[i];
		trib_strbuf ip = {0};
		char	   *ipath;
		char	   *text;

		trib_strbuf_printf(&ip, "%s[%zu]", path, i);
		ipath = trib_strbuf_finish(&ip);
		text = ck_scalar_text(c, item, ipath, "a string", k->flags);
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
bool
ck_is_secret_name(const ck_key *k, const char *key, size_t len)
{
	return trib_words_find_span(k->words, key, len) >= 0;
}

/* Append name = *value to a kvlist (taking both), unless name is there
 * already (KEY and KEY_file both given). */
static void
add_kv(ck_ctx *c, trib_kvlist *list, const trib_yaml_node *kn, const char *kpath,
	   char *name, char **value, bool secret)
{
	if (secret)
		trib_log_add_secret(*value);
	if (trib_config_kvlist_get(list, name) != NULL)
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
void
ck_parse_kvlist(ck_ctx *c, const ck_key *k, const trib_yaml_node *v, const char *path,
			 trib_kvlist *list)
{
	char		desc[TRIB_YAML_DESCRIBE_LEN];

	if (v->kind != TRIB_YAML_MAP)
	{
		ck_error(c, v, path, "expected a map, got %s", trib_yaml_describe(v, desc, sizeof(desc)));
		return;
	}
	list->items = trib_xcalloc(v->nchild / 2, sizeof(trib_kv));
	for (size_t i = 0; i + 1 < v->nchild; i += 2)
	{
		const trib_yaml_node *kn = v->child[i];
		const trib_yaml_node *vn = v->child[i + 1];
		const trib_yaml_node *dup = ck_earlier_duplicate(v, i);
		char	   *kpath = ck_path(path, kn->text);
		size_t		klen = kn->len;
		bool		from_file = false;
		bool		secret;
		char	   *text = NULL;

		if (klen > 5 && strcmp(kn->text + klen - 5, "_file") == 0 &&
			ck_is_secret_name(k, kn->text, klen - 5))
		{
			from_file = true;
			klen -= 5;
		}
		secret = ck_is_secret_name(k, kn->text, klen);
		if (dup != NULL)
			ck_error(c, kn, kpath, "duplicate key (first at line %d, column %d)",
					 dup->line, dup->column);
		else if (kn->len == 0)
			ck_error(c, kn, kpath, "empty key");
		else if (trib_yaml_is_null(vn))
			ck_error(c, vn, kpath, "needs a value");
		else
			text = ck_scalar_text(c, vn, kpath, from_file ? "a file name" : "a string", 0);
		if (text != NULL && from_file)
		{
			char	   *file = text;

			text = ck_read_secret_file(c, vn, kpath, file);
			free(file);
		}
		if (text != NULL)
			add_kv(c, list, kn, kpath, trib_xstrndup(kn->text, klen), &text, secret);
		if (secret)
			ck_free_secret(text);
		else
			free(text);
		free(kpath);
	}
}
