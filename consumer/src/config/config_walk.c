/*
 * config_walk.c: sections and families of pipeline.yaml against their key
 * tables (see config_int.h, config_keys.h).
 *
 * A section's map is checked for duplicate and unknown keys (the message
 * lists the accepted ones), each present key is parsed by its row's type,
 * absent keys get their defaults (or an error when required), and the
 * section's finish function is queued for after the walk.  A plugin
 * family (`sources:`, `sinks:`) is a map of name -> section whose `type`
 * picks a registered plugin (registry.h): the entry gets the plugin and a
 * zeroed block of its settings struct, which its table fills.  The rules'
 * list family works the same way over a flat struct.  A plain list of
 * maps of one section (schemas.migrations and their steps) is walked by
 * ck_parse_section_list; both lists name an item "PATH[i]".
 */
#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry.h"
#include "strbuf.h"

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
apply_key(ck_ctx *c, const ck_key *k, bool from_file, const trib_yaml_node *key,
		  const trib_yaml_node *v, const char *path, void *base)
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
			text = ck_scalar_text(c, v, path, from_file ? "a file name" : ck_expected_of(k), k->flags);
			if (text != NULL && from_file)
			{
				char	   *secret = ck_read_secret_file(c, v, path, text);

				free(text);
				text = secret;
			}
			if (text != NULL && !ck_store_value(k, text, base, msg, sizeof(msg)))
				ck_error(c, v, path, "%s", msg);
			if (k->flags & CK_SECRET)
				ck_free_secret(text);
			else
				free(text);
			break;
		case CK_STRLIST:
			ck_parse_strlist(c, k, v, path, field);
			break;
		case CK_KVLIST:
			ck_parse_kvlist(c, k, v, path, field);
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
queue_finish(ck_ctx *c, const ck_section *sec, const trib_yaml_node *map, const trib_yaml_node *at,
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
apply_absent(ck_ctx *c, const ck_key *k, const trib_yaml_node *where, bool was_null,
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
	else if (k->def != NULL && !ck_store_value(k, k->def, base, msg, sizeof(msg)))
		ck_error(c, NULL, path, "internal error: bad default \"%s\": %s", k->def, msg);
}

/* Which rows of a section a map gave: the key node of each (NULL when
 * absent) and whether it had a non-null value. */
typedef struct ck_seen
{
	const trib_yaml_node **key;
	bool	   *had_value;
} ck_seen;

/* Check and apply every key present in `map`. */
static void
walk_present(ck_ctx *c, const trib_yaml_node *map, const char *path, const ck_section *sec,
			 void *base, ck_seen *seen)
{
	for (size_t i = 0; i + 1 < map->nchild; i += 2)
	{
		const trib_yaml_node *kn = map->child[i];
		const trib_yaml_node *vn = map->child[i + 1];
		const trib_yaml_node *dup = ck_earlier_duplicate(map, i);
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
			seen->had_value[row] = !trib_yaml_is_null(vn) || k->type == CK_CUSTOM ||
				k->type == CK_TYPE;
			if (seen->had_value[row])
				apply_key(c, k, from_file, kn, vn, kpath, base);
		}
		free(kpath);
	}
}

/* Defaults for absent keys, errors for absent required ones. */
static void
walk_absent(ck_ctx *c, const trib_yaml_node *where, const char *path, const ck_section *sec,
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
ck_walk_section(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
				const ck_section *sec, void *base, const char *name)
{
	char		desc[TRIB_YAML_DESCRIBE_LEN];
	size_t		nrows = 0;
	ck_seen		seen;

	while (sec->keys[nrows].name != NULL)
		nrows++;
	seen.key = trib_xcalloc(nrows, sizeof(*seen.key));
	seen.had_value = trib_xcalloc(nrows, sizeof(*seen.had_value));
	if (map != NULL && trib_yaml_is_null(map))
		map = NULL;
	if (map != NULL && map->kind != TRIB_YAML_MAP)
	{
		ck_error(c, map, path, "expected a map, got %s",
				 trib_yaml_describe(map, desc, sizeof(desc)));
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
					ck_free_secret(*(char **) field);
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
						bool		secret = ck_is_secret_name(k, l->items[j].key,
															strlen(l->items[j].key));

						if (secret)
							ck_free_secret(l->items[j].value);
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
	return ck_join_words(words);
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
	return ck_join_words(words);
}

/*
 * The `type` of one entry (malloc'd), or NULL after reporting that it is
 * missing or not a string.  `accepted` lists the types, for messages.
 */
static char *
entry_type(ck_ctx *c, const trib_yaml_node *kn, const trib_yaml_node *vn, const char *epath,
		   const char *accepted)
{
	const trib_yaml_node *tn = trib_yaml_map_get(vn, "type");
	char	   *tpath = ck_path(epath, "type");
	char	   *text = NULL;

	if (trib_yaml_is_null(tn))
		ck_error(c, tn ? tn : kn, tpath, "required key %s (accepted: %s)",
				 tn ? "has no value" : "is missing", accepted);
	else
		text = ck_scalar_text(c, tn, tpath, "a string", 0);
	free(tpath);
	return text;
}

/* Report an unknown `type` of an entry. */
static void
unknown_type(ck_ctx *c, const trib_yaml_node *vn, const char *epath, const char *what,
			 const char *text, const char *accepted)
{
	char	   *tpath = ck_path(epath, "type");

	ck_error(c, trib_yaml_map_get(vn, "type"), tpath, "unknown %s type \"%s\" (accepted: %s)",
			 what, text, accepted);
	free(tpath);
}

/* The variant an entry's `type` names, or NULL (reported). */
static const ck_variant *
entry_variant(ck_ctx *c, const trib_yaml_node *kn, const trib_yaml_node *vn, const char *epath,
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
bare_null_type(const trib_yaml_node *tn, const trib_plugin *const *plugins)
{
	if (tn == NULL || !trib_yaml_is_null(tn) || tn->len == 0)
		return NULL;
	for (; *plugins != NULL; plugins++)
		if (strcasecmp((*plugins)->type, tn->text) == 0)
			return *plugins;
	return NULL;
}

/* The registered plugin an entry's `type` names, or NULL (reported). */
static const trib_plugin *
entry_plugin(ck_ctx *c, const trib_yaml_node *kn, const trib_yaml_node *vn, const char *epath,
			 const char *what, const trib_plugin *const *plugins)
{
	const trib_yaml_node *tn = trib_yaml_map_get(vn, "type");
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
plugin_entry(ck_ctx *c, const trib_yaml_node *kn, const trib_yaml_node *vn, const char *epath,
			 const trib_plugin *plugin, trib_plugin_conf *e)
{
	e->name = trib_xstrdup(kn->text);
	e->plugin = plugin;
	e->type_name = plugin->type;
	e->line = kn->line;
	e->column = kn->column;
	/* never NULL, so that the walk's base + offset is always defined */
	e->conf = trib_xcalloc(1, plugin->conf_size ? plugin->conf_size : 1);
	ck_walk_section(c, vn, kn, epath, plugin->section, e->conf, e->name);
}

/* A map of name -> section whose type picks a registered plugin. */
void
ck_parse_plugins(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *map, const char *path,
				 const char *what, const trib_plugin *const *plugins,
				 trib_plugin_conf **array, size_t *count)
{
	char		desc[TRIB_YAML_DESCRIBE_LEN];

	if (trib_yaml_is_null(map) || (map->kind == TRIB_YAML_MAP && map->nchild == 0))
	{
		ck_error(c, trib_yaml_is_null(map) ? key : map, path, "at least one %s is required", what);
		return;
	}
	if (map->kind != TRIB_YAML_MAP)
	{
		ck_error(c, map, path, "expected a map of %s names to settings, got %s",
				 what, trib_yaml_describe(map, desc, sizeof(desc)));
		return;
	}
	*array = trib_xcalloc(map->nchild / 2, sizeof(trib_plugin_conf));
	for (size_t i = 0; i + 1 < map->nchild; i += 2)
	{
		const trib_yaml_node *kn = map->child[i];
		const trib_yaml_node *vn = map->child[i + 1];
		const trib_yaml_node *dup = ck_earlier_duplicate(map, i);
		char	   *epath = ck_path(path, kn->text);
		const trib_plugin *plugin = NULL;
		size_t		nlen = kn->len;

		if (dup != NULL)
			ck_error(c, kn, epath, "duplicate %s name (first at line %d, column %d)",
					 what, dup->line, dup->column);
		else if (nlen == 0 || nlen > 63 || strspn(kn->text, ENTRY_NAME_CHARS) != nlen)
			ck_error(c, kn, epath, "invalid %s name \"%s\" (accepted: a-z, 0-9, _ and -, "
					 "1 to 63 characters)", what, kn->text);
		else if (vn->kind != TRIB_YAML_MAP)
			ck_error(c, trib_yaml_is_null(vn) ? kn : vn, epath, "expected a map with the %s's "
					 "settings, got %s", what, trib_yaml_describe(vn, desc, sizeof(desc)));
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

		ck_free_section(plugin->section, array[i].conf);
		if (plugin->conf_free != NULL)
			plugin->conf_free(array[i].conf);
		free(array[i].conf);
		free(array[i].name);
	}
	free(array);
}

/* ---- lists of maps ------------------------------------------------------ */

/* "PATH[i]" (malloc'd): where item i of the list at path is reported. */
static char *
item_path(const char *path, size_t i)
{
	size_t		n = strlen(path) + 24;
	char	   *p = trib_xmalloc(n);

	snprintf(p, n, "%s[%zu]", path, i);
	return p;
}

/* Is seq a list?  Else report "expected a list of WHATs". */
static bool
is_list(ck_ctx *c, const trib_yaml_node *seq, const char *path, const char *what)
{
	char		desc[TRIB_YAML_DESCRIBE_LEN];

	if (seq->kind == TRIB_YAML_SEQ)
		return true;
	ck_error(c, seq, path, "expected a list of %ss, got %s", what,
			 trib_yaml_describe(seq, desc, sizeof(desc)));
	return false;
}

/* See config_keys.h. */
void *
ck_parse_section_list(ck_ctx *c, const trib_yaml_node *seq, const char *path,
					  const ck_section *sec, size_t size, size_t *count)
{
	char		desc[TRIB_YAML_DESCRIBE_LEN];
	char	   *array;

	*count = 0;
	if (!is_list(c, seq, path, sec->what))
		return NULL;
	array = trib_xcalloc(seq->nchild + 1, size);
	for (size_t i = 0; i < seq->nchild; i++)
	{
		const trib_yaml_node *vn = seq->child[i];
		char	   *epath = item_path(path, i);

		if (vn->kind != TRIB_YAML_MAP)
			ck_error(c, vn, epath, "expected a map with %s's settings, got %s", sec->what,
					 trib_yaml_describe(vn, desc, sizeof(desc)));
		else
			ck_walk_section(c, vn, vn, epath, sec, array + (*count)++ * size, NULL);
		free(epath);
	}
	return array;
}

/* See config_keys.h. */
void
ck_free_section_list(const ck_section *sec, void *array, size_t size, size_t count)
{
	for (size_t i = 0; i < count; i++)
		ck_free_section(sec, (char *) array + i * size);
	free(array);
}

/*
 * A list of maps whose `type` picks the variant (transforms).  An entry's
 * name is its `name` key when the section has one, else "KEY[N]".
 */
void
ck_parse_list_family(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *seq, const char *path,
					 const ck_family *fam)
{
	char		desc[TRIB_YAML_DESCRIBE_LEN];
	char	   *array;
	size_t	   *count = &FIELD(c->cfg, fam->off_count, size_t);

	(void) key;
	if (trib_yaml_is_null(seq) || !is_list(c, seq, path, fam->what))
		return;
	array = trib_xcalloc(seq->nchild + 1, fam->entry_size);
	FIELD(c->cfg, fam->off_array, char *) = array;
	for (size_t i = 0; i < seq->nchild; i++)
	{
		const trib_yaml_node *vn = seq->child[i];
		char	   *epath = item_path(path, i);
		const ck_variant *var = NULL;

		if (vn->kind != TRIB_YAML_MAP)
			ck_error(c, vn, epath, "expected a map with the %s's settings, got %s",
					 fam->what, trib_yaml_describe(vn, desc, sizeof(desc)));
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
