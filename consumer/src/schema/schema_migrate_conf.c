/*
 * schema_migrate_conf.c: the `schemas.migrations` list of pipeline.yaml,
 * owned by the migration step of the schema stage (schema_migrate.h): its
 * key tables and the checks across keys (the lists are walked by
 * config/'s ck_parse_section_list).
 *
 * Design.  A migration names a subject and its target version; its steps
 * are maps with exactly one operation key (rename, add, drop, cast, set)
 * and that operation's parameters.  Both are ordinary key tables
 * (config_keys.h), so an unknown key, a bad value or a missing parameter
 * is reported with the file's line and the key's path, and
 * docs/CONFIG.md lists them (`make -C consumer doc`).  The lists are
 * allocated once at their final size before they are walked
 * (ck_parse_section_list), since the loader keeps pointers to every entry
 * for the finish functions.
 *
 * A `set` step's Lua is compiled here once, in a throw-away sandbox, so
 * that a syntax error is reported at load time with its line.  A key
 * written with no value (`drop:`, `default: ~`, `target: null`) or an
 * empty `versions: []` is an error at its line, never a default or a
 * step that silently does nothing (or everything).
 */
#include "config.h"
#include "config_keys.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "lua_expr.h"
#include "xalloc.h"
#include "yaml_tree.h"

static const char *const as_words[] = {"string", "integer", "number", "boolean", NULL};

static bool check_version(const char *value, char *msg, size_t msglen);
static bool check_target(const char *value, char *msg, size_t msglen);
static void parse_steps(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value,
						const char *path, void *base);
static void free_steps(void *base);
static void finish_step(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
						const char *path, void *base, const char *name);
static void finish_migration(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
							 const char *path, void *base, const char *name);

#define STEP_ROW(field, ktype, ...) CK_ROW(trib_migrate_step_conf, field, ktype, 0, __VA_ARGS__)

static const ck_key step_keys[] = {
	STEP_ROW(rename, CK_STRING, .doc_type = "field",
		.desc = "rename this field of the event's version to `to`"),
	STEP_ROW(to, CK_STRING, .doc_type = "field", .desc = "rename: the field's name in the target"),
	STEP_ROW(add, CK_STRING, .doc_type = "field",
		.desc = "add this field, with `default`, to rows that do not have it"),
	{.name = "default", .type = CK_STRING, .offset = offsetof(trib_migrate_step_conf, def),
		.flags = CK_EMPTY_OK, .doc_type = "JSON",
	.desc = "add: the value, as JSON text (`0`, `'\"n/a\"'`, `null`)"},
	STEP_ROW(drop, CK_STRING, .doc_type = "field", .desc = "remove this field"),
	STEP_ROW(cast, CK_STRING, .doc_type = "field",
		.desc = "convert this field's value to the JSON type `as`; null stays null"),
	STEP_ROW(as, CK_ENUM, .words = as_words, .def = "string",
		.desc = "cast: `string`, `integer`, `number` or `boolean` (true/false, t/f, 1/0)"),
	STEP_ROW(set, CK_STRING, .doc_type = "field",
		.desc = "set this field to the value of `lua` (split or merge fields)"),
	STEP_ROW(lua, CK_STRING, .doc_type = "Lua",
		.desc = "set: an expression of the sandbox (docs/TRANSFORMS.md) that reads the row "
		"being migrated as `after`"),
	STEP_ROW(type, CK_STRING, .doc_type = "SQL type", .doc_default = "text; cast: from `as`",
		.desc = "add, set, cast: the column's SQL type in the migrated relation (what a "
		"Postgres sink creates)"),
	STEP_ROW(versions, CK_STRLIST, .check = check_version, .doc_type = "list of versions",
		.doc_default = "every version but the target",
		.desc = "only events of these schema versions"),
	CK_END_ROW
};

static const ck_key migration_keys[] = {
	CK_ROW(trib_migration_conf, subject, CK_STRING, CK_REQUIRED, .doc_type = "subject",
		.desc = "the subject whose events are migrated (as `schemas.subject` names it)"),
	CK_ROW(trib_migration_conf, target, CK_STRING, 0, .def = "latest", .check = check_target,
		.doc_type = "version",
		.desc = "the version every event is upcast to: a number, or `latest` (the newest "
		"version when a table shape is first seen)"),
	{.name = "steps", .type = CK_CUSTOM, .flags = CK_REQUIRED, .custom = parse_steps,
		.custom_free = free_steps, .doc_type = "list",
	.desc = "the steps, in order (see `schemas.migrations[].steps[]` below)"},
	CK_END_ROW
};

/* See config_keys.h. */
const ck_section ck_schema_migration_section = {
	.doc_title = "`schemas.migrations[]`",
	.what = "a migration",
	.keys = migration_keys,
	.finish = finish_migration,
	.doc_intro = "Declarative upcasts: every event of the subject reaches the sinks in the "
	"shape of the target version, its fields in the target's order, stamped with the "
	"target's schema id and version.",
};

/* See config_keys.h (the docs list both tables). */
const ck_section ck_schema_migration_step_section = {
	.doc_title = "`schemas.migrations[].steps[]`",
	.what = "a migration step",
	.keys = step_keys,
	.finish = finish_step,
	.doc_intro = "One operation per step, run in order on every row image (before and "
	"after) of an event whose version is not the target; exactly one of `rename`, `add`, "
	"`drop`, `cast`, `set` (docs/SCHEMA_REGISTRY.md, section 8).",
};

/* A schema version: 1 .. INT32_MAX. */
static bool
check_version(const char *value, char *msg, size_t msglen)
{
	char	   *end;
	long long	v = strtoll(value, &end, 10);

	if (*value >= '1' && *value <= '9' && *end == '\0' && v <= INT32_MAX)
		return true;
	snprintf(msg, msglen, "\"%s\" is not a schema version (accepted: 1 to %d)", value,
			 INT32_MAX);
	return false;
}

static bool
check_target(const char *value, char *msg, size_t msglen)
{
	if (strcmp(value, "latest") == 0 || check_version(value, msg, msglen))
		return true;
	snprintf(msg, msglen, "\"%s\" is not a target (accepted: latest, or a version 1 to %d)",
			 value, INT32_MAX);
	return false;
}

static void
parse_steps(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value, const char *path,
			void *base)
{
	trib_migration_conf *m = base;

	m->line = key->line;
	if (!trib_yaml_is_null(value))
		m->steps = ck_parse_section_list(c, value, path, &ck_schema_migration_step_section,
										 sizeof(trib_migrate_step_conf), &m->nsteps);
	if (trib_yaml_is_null(value) || (value->kind == TRIB_YAML_SEQ && value->nchild == 0))
		ck_error(c, value, path, "a migration needs at least one step");
}

static void
free_steps(void *base)
{
	trib_migration_conf *m = base;

	ck_free_section_list(&ck_schema_migration_step_section, m->steps,
						 sizeof(trib_migrate_step_conf), m->nsteps);
	m->steps = NULL;
	m->nsteps = 0;
}

/* The `migrations` key of `schemas` (schema_conf.c). */
void
ck_parse_schema_migrations(ck_ctx *c, const trib_yaml_node *key, const trib_yaml_node *value,
						   const char *path, void *base)
{
	trib_schemas_conf *s = base;

	(void) key;
	if (!trib_yaml_is_null(value))
		s->migrations = ck_parse_section_list(c, value, path, &ck_schema_migration_section,
											  sizeof(trib_migration_conf), &s->nmigrations);
}

void
ck_free_schema_migrations(void *base)
{
	trib_schemas_conf *s = base;

	ck_free_section_list(&ck_schema_migration_section, s->migrations,
						 sizeof(trib_migration_conf), s->nmigrations);
	s->migrations = NULL;
	s->nmigrations = 0;
}

/* Compile a set step's Lua now, so that a syntax error names its line. */
static void
check_step_lua(ck_ctx *c, const trib_yaml_node *at, const char *path, const char *src)
{
	trib_lua_limits lim;
	trib_lua   *T;
	char		err[512];

	trib_lua_limits_init(&lim);
	if ((T = trib_lua_new(&lim, err, sizeof(err))) == NULL)
		return;
	if (trib_lua_compile(T, path, src, TRIB_LUA_VALUE, err, sizeof(err)) == NULL)
		ck_error(c, at, path, "%s", err);
	trib_lua_free(T);
}

/* A parameter given to an operation that does not use it. */
static void
refuse_param(ck_ctx *c, const trib_yaml_node *map, const char *path, const char *param,
			 bool used, const char *op)
{
	const trib_yaml_node *k = trib_yaml_map_key(map, param);

	if (k != NULL && !used)
		ck_key_error(c, k, path, param, "%s is not a parameter of %s", param, op);
}

/*
 * Report every key of map written with no value (YAML null: `k:`, `k: ~`,
 * `k: null`) or, for versions, an empty list; returns how many.  The
 * loader would otherwise read such a key as not given.
 */
static int
refuse_empty(ck_ctx *c, const trib_yaml_node *map, const char *path)
{
	int			n = 0;

	for (size_t i = 0; map != NULL && i + 1 < map->nchild; i += 2)
	{
		const trib_yaml_node *k = map->child[i],
				   *v = map->child[i + 1];
		bool		versions = strcmp(k->text, "versions") == 0;
		char	   *kpath;

		if (!trib_yaml_is_null(v) && !(versions && v->kind == TRIB_YAML_SEQ && v->nchild == 0))
			continue;
		kpath = ck_path(path, k->text);
		if (versions)
			ck_error(c, k, kpath, "no versions (accepted: a list of one or more versions; "
					 "leave versions out for every version but the target)");
		else if (strcmp(k->text, "default") == 0)
			ck_error(c, k, kpath, "has no value (YAML null); a JSON null is written "
					 "default: 'null'");
		else
			ck_error(c, k, kpath, "has no value (null or empty; accepted: %s)",
					 strcmp(k->text, "target") == 0 ? "latest, or a version" :
					 strcmp(k->text, "lua") == 0 ? "an expression" : "a field name");
		free(kpath);
		n++;
	}
	return n;
}

/* A migration's keys with no value. */
static void
finish_migration(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
				 const char *path, void *base, const char *name)
{
	const trib_yaml_node *target = map ? trib_yaml_map_get(map, "target") : NULL;

	(void) at;
	(void) base;
	(void) name;
	if (target != NULL && trib_yaml_is_null(target))
		ck_key_error(c, target, path, "target", "has no value (null or empty; accepted: "
					 "latest, or a version)");
}

/* Exactly one operation, and the parameters it needs and no other. */
static void
finish_step(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
			void *base, const char *name)
{
	static const char *const ops[] = {"rename", "add", "drop", "cast", "set"};
	trib_migrate_step_conf *s = base;
	const trib_yaml_node *where = map ? map : at;
	char	   *fields[5];
	int			nops = 0;
	char		err[256];
	yajl_val	v = NULL;

	(void) name;
	fields[0] = s->rename;
	fields[1] = s->add;
	fields[2] = s->drop;
	fields[3] = s->cast;
	fields[4] = s->set;
	s->line = where->line;
	if (refuse_empty(c, map, path) > 0)
		return;
	for (int i = 0; i < 5; i++)
		if (fields[i] != NULL)
			s->op = (trib_migrate_op) i, nops++;
	if (nops != 1)
	{
		ck_error(c, where, path, "a step needs exactly one operation (accepted: rename, add, "
				 "drop, cast, set), got %d", nops);
		return;
	}
	if (s->op == TRIB_MIGRATE_RENAME && s->to == NULL)
		ck_error(c, where, path, "rename needs to (the field's name in the target)");
	if (s->op == TRIB_MIGRATE_ADD && s->def == NULL)
		ck_error(c, where, path, "add needs default (a JSON value)");
	if (s->op == TRIB_MIGRATE_SET && s->lua == NULL)
		ck_error(c, where, path, "set needs lua (an expression)");
	refuse_param(c, map, path, "to", s->op == TRIB_MIGRATE_RENAME, ops[s->op]);
	refuse_param(c, map, path, "default", s->op == TRIB_MIGRATE_ADD, ops[s->op]);
	refuse_param(c, map, path, "as", s->op == TRIB_MIGRATE_CAST, ops[s->op]);
	refuse_param(c, map, path, "lua", s->op == TRIB_MIGRATE_SET, ops[s->op]);
	refuse_param(c, map, path, "type", s->op == TRIB_MIGRATE_ADD || s->op == TRIB_MIGRATE_SET ||
				 s->op == TRIB_MIGRATE_CAST, ops[s->op]);
	if (s->def != NULL)
		v = trib_jdoc_parse(s->def, err, sizeof(err));
	if (s->def != NULL && v == NULL)
		ck_key_error(c, trib_yaml_map_get(map, "default"), path, "default", "not JSON (%s); "
					 "a string needs its quotes: default: '\"text\"'", err);
	if (v != NULL)
		yajl_tree_free(v);
	if (s->op == TRIB_MIGRATE_SET && s->lua != NULL)
	{
		char	   *kpath = ck_path(path, "lua");

		check_step_lua(c, trib_yaml_map_get(map, "lua"), kpath, s->lua);
		free(kpath);
	}
}
