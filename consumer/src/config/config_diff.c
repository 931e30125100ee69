/*
 * config_diff.c: the difference between two loaded configs, and whether
 * it can be applied live; see config_diff.h for the rules.
 *
 * The comparison is of YAML trees (yaml_tree.h): maps by key whatever
 * their order, lists item by item, scalars by text and style.  Both files
 * were valid when loaded, so both parse again; were one not to, the
 * difference is refused rather than guessed.
 */
#include "config_diff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hex.h"
#include "strbuf.h"
#include "xalloc.h"
#include "yaml_tree.h"

/* Top-level keys whose change a reload applies (the others are refused). */
static const char *const live_keys[] = {
	"transforms", "dead_letter", "dead_letter_images", "strict", "lua_max_instructions",
	"lua_max_memory_mb", "transform_workers", "pause_buffer_mb", "erasure", "schemas", "lineage", "log", NULL
};

/* Why a top-level key cannot change live. */
static const char *const refused_keys[][2] = {
	{"pipeline", "the pipeline's name names its slot, its lock and its checkpoint"},
	{"checkpoint", "the stored positions are read from it"},
	{"http", "the endpoint serves this very request; restart the daemon to change it"},
	{"schema_registry", "the registry API is part of the endpoint; restart the daemon"},
	{NULL, NULL}
};

/* Is `s` in the NULL-terminated list? */
static bool
in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* Are two trees equal (NULL: absent)? */
static bool
node_equal(const trib_yaml_node *a, const trib_yaml_node *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->kind != b->kind)
		return false;
	if (a->kind == TRIB_YAML_SCALAR)
		return a->plain == b->plain && strcmp(a->text, b->text) == 0;
	if (a->nchild != b->nchild)
		return false;
	if (a->kind == TRIB_YAML_SEQ)
	{
		for (size_t i = 0; i < a->nchild; i++)
			if (!node_equal(a->child[i], b->child[i]))
				return false;
		return true;
	}
	for (size_t i = 0; i < a->nchild; i += 2)
		if (!node_equal(a->child[i + 1], trib_yaml_map_get(b, a->child[i]->text)))
			return false;
	return true;
}

/*
 * The first place where two unequal trees differ: its key path appended to
 * `path` and the node there (in `b`, else in `a` when b lacks it).
 */
static const trib_yaml_node *
first_difference(const trib_yaml_node *a, const trib_yaml_node *b, trib_strbuf *path)
{
	const trib_yaml_node *maps[2] = {a, b};
	const trib_yaml_node *only = a == NULL ? b : b == NULL ? a : NULL;

	/* a section on one side only: its first key */
	if (only != NULL && only->kind == TRIB_YAML_MAP && only->nchild > 0)
	{
		trib_strbuf_printf(path, ".%s", only->child[0]->text);
		return first_difference(a ? a->child[1] : NULL, b ? b->child[1] : NULL, path);
	}
	if (a == NULL || b == NULL || a->kind != b->kind || a->kind == TRIB_YAML_SCALAR ||
		(a->kind == TRIB_YAML_SEQ && a->nchild != b->nchild))
		return b != NULL ? b : a;
	if (a->kind == TRIB_YAML_SEQ)
		for (size_t i = 0; i < a->nchild; i++)
			if (!node_equal(a->child[i], b->child[i]))
			{
				trib_strbuf_printf(path, "[%zu]", i);
				return first_difference(a->child[i], b->child[i], path);
			}
	for (int m = 0; m < 2 && a->kind == TRIB_YAML_MAP; m++)
		for (size_t i = 0; i < maps[m]->nchild; i += 2)
		{
			const char *k = maps[m]->child[i]->text;
			const trib_yaml_node *va = trib_yaml_map_get(a, k),
					   *vb = trib_yaml_map_get(b, k);

			if (!node_equal(va, vb))
			{
				trib_strbuf_printf(path, ".%s", k);
				return vb != NULL || va != NULL ? first_difference(va, vb, path)
					: maps[m]->child[i];
			}
		}
	return b;
}

/* A change, in words. */
__attribute__((format(printf, 2, 3)))
static void
add_change(trib_config_diff *d, const char *fmt,...)
{
	trib_strbuf b = {0};
	va_list		ap;

	va_start(ap, fmt);
	trib_strbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	d->changes.items = trib_xrealloc(d->changes.items,
									 (d->changes.count + 1) * sizeof(char *));
	d->changes.items[d->changes.count++] = trib_strbuf_finish(&b);
}

/* Refuse (the first reason wins): FILE:LINE:COLUMN: KEY: why. */
static void
refuse(trib_config_diff *d, const trib_config *to, const trib_yaml_node *at,
	   const char *key, const char *why)
{
	trib_strbuf b = {0};

	if (d->refused != NULL)
		return;
	trib_strbuf_printf(&b, "%s:%d:%d: %s: %s", to->path, at ? at->line : 1,
					   at ? at->column : 1, key, why);
	d->refused = trib_strbuf_finish(&b);
}

/* Refuse a changed subtree, naming where it differs first. */
static void
refuse_changed(trib_config_diff *d, const trib_config *to, const char *key,
			   const trib_yaml_node *a, const trib_yaml_node *b, const char *why)
{
	trib_strbuf path = {0};
	trib_strbuf msg = {0};
	const trib_yaml_node *at;

	trib_strbuf_adds(&path, key);
	at = first_difference(a, b, &path);
	trib_strbuf_printf(&msg, "changed, which a running pipeline cannot apply: %s", why);
	refuse(d, to, at, path.data, msg.data);
	trib_strbuf_free(&path);
	trib_strbuf_free(&msg);
}

/* sources: or sinks:: members added, removed, or (refused) changed. */
static void
diff_members(trib_config_diff *d, const trib_config *to, const char *family,
			 const char *what, const trib_yaml_node *a, const trib_yaml_node *b)
{
	const trib_yaml_node *maps[2] = {a, b};
	char		key[300];

	for (int m = 0; m < 2; m++)
		for (size_t i = 0; maps[m] != NULL && maps[m]->kind == TRIB_YAML_MAP &&
			 i < maps[m]->nchild; i += 2)
		{
			const char *name = maps[m]->child[i]->text;
			const trib_yaml_node *va = a ? trib_yaml_map_get(a, name) : NULL,
					   *vb = b ? trib_yaml_map_get(b, name) : NULL;

			snprintf(key, sizeof(key), "%s.%s", family, name);
			if (va == NULL && m == 1)
				add_change(d, "%s %s added", what, name);
			else if (vb == NULL && m == 0)
				add_change(d, "%s %s removed", what, name);
			else if (m == 0 && !node_equal(va, vb))
				refuse_changed(d, to, key, va, vb,
							   "its slot, its stored position and where it writes depend "
							   "on its settings; add it under a new name instead");
		}
}

/* The name of rule i of a transforms list: its `name`, else its index. */
static void
rule_name(const trib_yaml_node *rule, size_t i, char *buf, size_t len)
{
	const trib_yaml_node *n = rule->kind == TRIB_YAML_MAP ? trib_yaml_map_get(rule, "name")
		: NULL;

	if (n != NULL && n->kind == TRIB_YAML_SCALAR)
		snprintf(buf, len, "%s", n->text);
	else
		snprintf(buf, len, "transforms[%zu]", i);
}

/* The rule named `name` in a transforms list, or NULL. */
static const trib_yaml_node *
find_rule(const trib_yaml_node *list, const char *name)
{
	char		n[256];

	for (size_t i = 0; list != NULL && list->kind == TRIB_YAML_SEQ && i < list->nchild; i++)
	{
		rule_name(list->child[i], i, n, sizeof(n));
		if (strcmp(n, name) == 0)
			return list->child[i];
	}
	return NULL;
}

/* transforms: rules added, removed, changed (by name), or reordered. */
static void
diff_rules(trib_config_diff *d, const trib_yaml_node *a, const trib_yaml_node *b)
{
	const trib_yaml_node *lists[2] = {a, b};
	size_t		before = d->changes.count;
	char		n[256];

	for (int l = 0; l < 2; l++)
		for (size_t i = 0; lists[l] != NULL && lists[l]->kind == TRIB_YAML_SEQ &&
			 i < lists[l]->nchild; i++)
		{
			const trib_yaml_node *other;

			rule_name(lists[l]->child[i], i, n, sizeof(n));
			other = find_rule(lists[1 - l], n);
			if (other == NULL)
				add_change(d, "rule %s %s", n, l == 0 ? "removed" : "added");
			else if (l == 0 && !node_equal(lists[l]->child[i], other))
				add_change(d, "rule %s changed", n);
		}
	if (d->changes.count == before && !node_equal(a, b))
		add_change(d, "rules reordered");
}

/* Sources going from one to several or back: refused. */
static void
check_source_count(trib_config_diff *d, const trib_config *from, const trib_config *to,
				   const trib_yaml_node *at)
{
	char		why[300];

	if ((from->nsources == 1) == (to->nsources == 1))
		return;
	snprintf(why, sizeof(why), "%zu source(s) where there were %zu: the positions of a "
			 "pipeline with one source and of one with several have other forms; restart "
			 "the daemon", to->nsources, from->nsources);
	refuse(d, to, at, "sources", why);
}

/* One top-level key present in either file. */
static void
diff_top_key(trib_config_diff *d, const trib_config *from, const trib_config *to,
			 const char *k, const trib_yaml_node *a, const trib_yaml_node *b)
{
	const trib_yaml_node *va = trib_yaml_map_get(a, k),
			   *vb = trib_yaml_map_get(b, k);

	if (node_equal(va, vb))
		return;
	if (strcmp(k, "sources") == 0 || strcmp(k, "sinks") == 0)
	{
		diff_members(d, to, k, k[1] == 'o' ? "source" : "sink", va, vb);
		if (k[1] == 'o')
			check_source_count(d, from, to, vb);
	}
	else if (strcmp(k, "transforms") == 0)
		diff_rules(d, va, vb);
	else if (in_list(live_keys, k))
		add_change(d, "%s changed", k);
	else
	{
		const char *why = "restart the daemon to change it";

		for (size_t i = 0; refused_keys[i][0] != NULL; i++)
			if (strcmp(refused_keys[i][0], k) == 0)
				why = refused_keys[i][1];
		refuse_changed(d, to, k, va, vb, why);
	}
}

/* See config_diff.h. */
void
trib_config_diff_make(const trib_config *from, const trib_config *to, trib_config_diff *d)
{
	trib_yaml_node *a = NULL,
			   *b = NULL;
	int			line,
				col;
	char		msg[256];
	const trib_yaml_node *maps[2];

	memset(d, 0, sizeof(*d));
	if (!trib_yaml_parse(from->text, from->text_len, &a, &line, &col, msg, sizeof(msg)) ||
		!trib_yaml_parse(to->text, to->text_len, &b, &line, &col, msg, sizeof(msg)) ||
		a == NULL || b == NULL || a->kind != TRIB_YAML_MAP || b->kind != TRIB_YAML_MAP)
	{
		refuse(d, to, NULL, "(file)", "cannot compare the two files");
		trib_yaml_free(a);
		trib_yaml_free(b);
		return;
	}
	maps[0] = a;
	maps[1] = b;
	for (int m = 0; m < 2; m++)
		for (size_t i = 0; i < maps[m]->nchild; i += 2)
		{
			const char *k = maps[m]->child[i]->text;

			/* a key in both files is compared once, from the old one */
			if (m == 1 && trib_yaml_map_get(a, k) != NULL)
				continue;
			diff_top_key(d, from, to, k, a, b);
		}
	trib_yaml_free(a);
	trib_yaml_free(b);
}

/* See config_diff.h. */
void
trib_config_diff_free(trib_config_diff *d)
{
	for (size_t i = 0; i < d->changes.count; i++)
		free(d->changes.items[i]);
	free(d->changes.items);
	free(d->refused);
	memset(d, 0, sizeof(*d));
}

/* See config_diff.h. */
void
trib_config_fingerprint(const trib_config *cfg, char out[TRIB_CONFIG_FINGERPRINT_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!EVP_Digest(cfg->text, cfg->text_len, md, &len, EVP_sha256(), NULL) || len != 32)
		abort();
	trib_hex_encode(md, len, out);
}

/* See config_diff.h. */
const char *
trib_reload_outcome_name(trib_reload_outcome o)
{
	static const char *const names[] = {"accepted", "unchanged", "invalid", "refused", "busy"};

	return (unsigned) o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}
