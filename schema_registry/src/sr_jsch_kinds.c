/*
 * sr_jsch_kinds.c: the JSON Schema difference kinds: Confluent's names,
 * whether Confluent counts each as a compatible change (a reader with the
 * update still accepts everything the original accepted), and the English
 * sentence a violation carries.
 *
 * Each sentence takes three strings in this order: the path, then which
 * schema reads ("new"/"old"), then which one wrote.  Compatible kinds are
 * recorded without their sentence (they never reach a caller); theirs
 * document the table.  Only the kinds the
 * checker can produce are listed; docs/SCHEMA_REGISTRY.md mirrors this
 * table.
 */
#include <string.h>

#include "sr_jsch.h"

typedef struct jkind_info
{
	const char *name;
	bool		compatible;
	const char *text;
} jkind_info;

#define OK true
#define NO false

static const jkind_info kinds[] = {
	{"TYPE_CHANGED", NO, "At '%s' the %s schema expects another type than the %s schema wrote"},
	{"TYPE_EXTENDED", OK, "At '%s' the %s schema widens the type (integer to number) of the %s schema"},
	{"TYPE_NARROWED", NO, "At '%s' the %s schema narrows number to integer, but the %s schema may have written fractions"},
	{"SCHEMA_ADDED", NO, "At '%s' the %s schema adds a subschema the %s schema did not have"},
	{"SCHEMA_REMOVED", OK, "At '%s' the %s schema drops a subschema of the %s schema"},
	{"MAX_LENGTH_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so longer strings it allowed are rejected"},
	{"MAX_LENGTH_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"MAX_LENGTH_INCREASED", OK, "'%s' is higher in the %s schema than in the %s schema"},
	{"MAX_LENGTH_DECREASED", NO, "'%s' is lower in the %s schema than in the %s schema, so longer strings it allowed are rejected"},
	{"MIN_LENGTH_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so shorter strings it allowed are rejected"},
	{"MIN_LENGTH_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"MIN_LENGTH_INCREASED", NO, "'%s' is higher in the %s schema than in the %s schema, so shorter strings it allowed are rejected"},
	{"MIN_LENGTH_DECREASED", OK, "'%s' is lower in the %s schema than in the %s schema"},
	{"PATTERN_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so strings it allowed may not match"},
	{"PATTERN_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"PATTERN_CHANGED", NO, "'%s' differs between the %s schema and the %s schema, so strings it allowed may not match"},
	{"MAXIMUM_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so larger numbers it allowed are rejected"},
	{"MAXIMUM_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"MAXIMUM_INCREASED", OK, "'%s' is higher in the %s schema than in the %s schema"},
	{"MAXIMUM_DECREASED", NO, "'%s' is lower in the %s schema than in the %s schema, so larger numbers it allowed are rejected"},
	{"MINIMUM_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so smaller numbers it allowed are rejected"},
	{"MINIMUM_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"MINIMUM_INCREASED", NO, "'%s' is higher in the %s schema than in the %s schema, so smaller numbers it allowed are rejected"},
	{"MINIMUM_DECREASED", OK, "'%s' is lower in the %s schema than in the %s schema"},
	{"EXCLUSIVE_MAXIMUM_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so larger numbers it allowed are rejected"},
	{"EXCLUSIVE_MAXIMUM_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"EXCLUSIVE_MAXIMUM_INCREASED", OK, "'%s' is higher in the %s schema than in the %s schema"},
	{"EXCLUSIVE_MAXIMUM_DECREASED", NO, "'%s' is lower in the %s schema than in the %s schema, so larger numbers it allowed are rejected"},
	{"EXCLUSIVE_MINIMUM_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so smaller numbers it allowed are rejected"},
	{"EXCLUSIVE_MINIMUM_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"EXCLUSIVE_MINIMUM_INCREASED", NO, "'%s' is higher in the %s schema than in the %s schema, so smaller numbers it allowed are rejected"},
	{"EXCLUSIVE_MINIMUM_DECREASED", OK, "'%s' is lower in the %s schema than in the %s schema"},
	{"MULTIPLE_OF_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so numbers it allowed may not be multiples"},
	{"MULTIPLE_OF_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"MULTIPLE_OF_EXPANDED", NO, "'%s' in the %s schema is a multiple of the one in the %s schema, so numbers it allowed may not be multiples"},
	{"MULTIPLE_OF_REDUCED", OK, "'%s' in the %s schema divides the one in the %s schema"},
	{"MULTIPLE_OF_CHANGED", NO, "'%s' differs between the %s schema and the %s schema and neither divides the other"},
	{"REQUIRED_ATTRIBUTE_ADDED", NO, "The property at '%s' is required by the %s schema but optional in the %s schema, which may have left it out"},
	{"REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED", OK, "The property at '%s' is required by the %s schema, with a default, and optional in the %s schema"},
	{"REQUIRED_ATTRIBUTE_REMOVED", OK, "The property at '%s' is optional in the %s schema and was required in the %s schema"},
	{"MAX_PROPERTIES_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so larger objects it allowed are rejected"},
	{"MAX_PROPERTIES_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"MAX_PROPERTIES_INCREASED", OK, "'%s' is higher in the %s schema than in the %s schema"},
	{"MAX_PROPERTIES_DECREASED", NO, "'%s' is lower in the %s schema than in the %s schema, so larger objects it allowed are rejected"},
	{"MIN_PROPERTIES_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so smaller objects it allowed are rejected"},
	{"MIN_PROPERTIES_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"MIN_PROPERTIES_INCREASED", NO, "'%s' is higher in the %s schema than in the %s schema, so smaller objects it allowed are rejected"},
	{"MIN_PROPERTIES_DECREASED", OK, "'%s' is lower in the %s schema than in the %s schema"},
	{"ADDITIONAL_PROPERTIES_ADDED", OK, "At '%s' the %s schema allows additional properties the %s schema forbade"},
	{"ADDITIONAL_PROPERTIES_REMOVED", NO, "At '%s' the %s schema forbids additional properties the %s schema allowed"},
	{"ADDITIONAL_PROPERTIES_EXTENDED", OK, "At '%s' the %s schema accepts any additional property, the %s schema only some"},
	{"ADDITIONAL_PROPERTIES_NARROWED", NO, "At '%s' the %s schema constrains additional properties the %s schema accepted freely"},
	{"DEPENDENCY_ARRAY_ADDED", NO, "The dependency at '%s' is new in the %s schema; data of the %s schema may not satisfy it"},
	{"DEPENDENCY_ARRAY_REMOVED", OK, "The dependency at '%s' is dropped by the %s schema (was in the %s schema)"},
	{"DEPENDENCY_ARRAY_EXTENDED", NO, "The dependency at '%s' in the %s schema requires more properties than in the %s schema"},
	{"DEPENDENCY_ARRAY_NARROWED", OK, "The dependency at '%s' in the %s schema requires fewer properties than in the %s schema"},
	{"DEPENDENCY_ARRAY_CHANGED", NO, "The dependency at '%s' differs between the %s schema and the %s schema"},
	{"DEPENDENCY_SCHEMA_ADDED", NO, "The schema dependency at '%s' is new in the %s schema; data of the %s schema may not satisfy it"},
	{"DEPENDENCY_SCHEMA_REMOVED", OK, "The schema dependency at '%s' is dropped by the %s schema (was in the %s schema)"},
	{"REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", NO, "The property at '%s' is new and required in the %s schema, while the %s schema had an open content model and may have written anything under that name, or nothing"},
	{"REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL", NO, "The property at '%s' is new in the %s schema, while the %s schema had an open content model and may have written anything under that name"},
	{"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", NO, "The property at '%s' is new in the %s schema, while the %s schema had an open content model and may have written anything under that name"},
	{"PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", OK, "The property at '%s' is new in the %s schema and accepts anything, as the open content model of the %s schema did"},
	{"REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", NO, "The property at '%s' is new and required, without a default, in the %s schema; data of the %s schema never has it"},
	{"REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL", OK, "The property at '%s' is new and required, with a default, in the %s schema; the %s schema had a closed content model"},
	{"OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", OK, "The property at '%s' is new and optional in the %s schema; the %s schema had a closed content model"},
	{"PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", OK, "The property at '%s' is gone from the %s schema, whose open content model still accepts what the %s schema wrote there"},
	{"PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", OK, "The forbidden property at '%s' is gone from the %s schema (the %s schema never wrote it)"},
	{"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", NO, "The property at '%s' is gone from the %s schema, whose closed content model rejects it, and the %s schema wrote it"},
	{"PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", OK, "The property at '%s' is gone from the %s schema, but its additional or pattern properties still accept what the %s schema wrote there"},
	{"PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", NO, "The property at '%s' is gone from the %s schema, and its additional or pattern properties do not accept what the %s schema wrote there"},
	{"PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", OK, "The property at '%s' is new in the %s schema and accepts what the additional or pattern properties of the %s schema allowed there"},
	{"PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", NO, "The property at '%s' is new in the %s schema and rejects some of what the additional or pattern properties of the %s schema allowed there"},
	{"PATTERN_PROPERTY_ADDED_IS_COVERED", OK, "The pattern property at '%s' is new in the %s schema and accepts what the %s schema allowed under the names it matches"},
	{"PATTERN_PROPERTY_ADDED_NOT_COVERED", NO, "The pattern property at '%s' is new in the %s schema and rejects some of what the %s schema allowed under the names it matches"},
	{"PATTERN_PROPERTY_REMOVED_IS_COVERED", OK, "The pattern property at '%s' is gone from the %s schema, whose additional properties accept what the %s schema allowed under the names it matched"},
	{"PATTERN_PROPERTY_REMOVED_NOT_COVERED", NO, "The pattern property at '%s' is gone from the %s schema, whose additional properties reject some of what the %s schema allowed under the names it matched"},
	{"MAX_ITEMS_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so longer arrays it allowed are rejected"},
	{"MAX_ITEMS_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"MAX_ITEMS_INCREASED", OK, "'%s' is higher in the %s schema than in the %s schema"},
	{"MAX_ITEMS_DECREASED", NO, "'%s' is lower in the %s schema than in the %s schema, so longer arrays it allowed are rejected"},
	{"MIN_ITEMS_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so shorter arrays it allowed are rejected"},
	{"MIN_ITEMS_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"MIN_ITEMS_INCREASED", NO, "'%s' is higher in the %s schema than in the %s schema, so shorter arrays it allowed are rejected"},
	{"MIN_ITEMS_DECREASED", OK, "'%s' is lower in the %s schema than in the %s schema"},
	{"UNIQUE_ITEMS_ADDED", NO, "'%s' is set in the %s schema but not in the %s schema, so arrays with repeated items it allowed are rejected"},
	{"UNIQUE_ITEMS_REMOVED", OK, "'%s' is dropped by the %s schema (was set in the %s schema)"},
	{"ADDITIONAL_ITEMS_ADDED", OK, "At '%s' the %s schema allows additional items the %s schema forbade"},
	{"ADDITIONAL_ITEMS_REMOVED", NO, "At '%s' the %s schema forbids additional items the %s schema allowed"},
	{"ADDITIONAL_ITEMS_EXTENDED", OK, "At '%s' the %s schema accepts any additional item, the %s schema only some"},
	{"ADDITIONAL_ITEMS_NARROWED", NO, "At '%s' the %s schema constrains additional items the %s schema accepted freely"},
	{"ITEM_ADDED_TO_OPEN_CONTENT_MODEL", NO, "The tuple item at '%s' is new in the %s schema, while the %s schema accepted any item in that position"},
	{"ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", OK, "The tuple item at '%s' is new in the %s schema and accepts anything, as the %s schema did"},
	{"ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", OK, "The tuple item at '%s' is new in the %s schema; the %s schema allowed no item there"},
	{"ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL", OK, "The tuple item at '%s' is gone from the %s schema, which accepts any item there, as written by the %s schema"},
	{"ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", OK, "The forbidden tuple item at '%s' is gone from the %s schema (the %s schema never wrote it)"},
	{"ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", NO, "The tuple item at '%s' is gone from the %s schema, which rejects items there, and the %s schema wrote one"},
	{"ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", OK, "The tuple item at '%s' is gone from the %s schema, but its additional items accept what the %s schema wrote"},
	{"ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", NO, "The tuple item at '%s' is gone from the %s schema, and its additional items do not accept what the %s schema wrote"},
	{"ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", OK, "The tuple item at '%s' is new in the %s schema and accepts what the additional items of the %s schema allowed"},
	{"ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", NO, "The tuple item at '%s' is new in the %s schema and rejects some of what the additional items of the %s schema allowed"},
	{"ENUM_ARRAY_EXTENDED", OK, "'%s' in the %s schema lists every value of the %s schema, and more"},
	{"ENUM_ARRAY_NARROWED", NO, "'%s' in the %s schema lacks values the %s schema allowed"},
	{"ENUM_ARRAY_CHANGED", NO, "'%s' differs between the %s schema and the %s schema, so values it allowed may be rejected"},
	{"COMBINED_TYPE_EXTENDED", OK, "At '%s' the %s schema combines its subschemas more loosely than the %s schema"},
	{"COMBINED_TYPE_CHANGED", NO, "At '%s' the %s schema combines its subschemas differently (allOf/anyOf/oneOf) from the %s schema"},
	{"PRODUCT_TYPE_EXTENDED", NO, "At '%s' the %s schema adds an allOf condition the %s schema did not check"},
	{"PRODUCT_TYPE_NARROWED", OK, "At '%s' the %s schema drops an allOf condition of the %s schema"},
	{"SUM_TYPE_EXTENDED", OK, "At '%s' the %s schema accepts more alternatives than the %s schema"},
	{"SUM_TYPE_NARROWED", NO, "At '%s' the %s schema has fewer alternatives (anyOf/oneOf) than the %s schema wrote"},
	{"CONDITION_CHANGED", NO, "'%s' differs between the %s schema and the %s schema, so other values get its then/else constraints"},
	{"ONE_OF_ALTERNATIVES_OVERLAP", NO, "At '%s' several oneOf alternatives of the %s schema accept what the %s schema wrote, so oneOf, which wants exactly one, rejects it"},
	{"COMBINED_TYPE_SUBSCHEMAS_CHANGED", NO, "At '%s' some subschema of the %s schema has no compatible counterpart in the %s schema"},
	{"NOT_TYPE_EXTENDED", NO, "At '%s' the %s schema excludes more than the %s schema did"},
	{"NOT_TYPE_NARROWED", OK, "At '%s' the %s schema excludes less than the %s schema did"},
};

static const jkind_info *
find(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

bool
sr_jkind_compatible(const char *name)
{
	const jkind_info *k = find(name);

	return k != NULL && k->compatible;
}

/* Record a difference at the current path (+ "/attr"). */
void
sr_jdiff(jctx *c, const char *kind, const char *attr)
{
	const jkind_info *k = find(kind);
	size_t		saved = c->path.len;
	const char *path;

	if (k == NULL)
		return;
	if (attr != NULL)
		sr_jpath_push(c, attr);
	path = c->path.len > 1 ? c->path.data : "#/";
	if (k->compatible || c->probe)
		sr_diffs_add_bare(c->out, path, k->name);
	else
		sr_diffs_add(c->out, path, k->name, k->text, path, c->reader, c->writer);
	if (!k->compatible && c->probe)
		c->probe_failed = true;	/* the probe's answer is known */
	sr_jpath_pop(c, saved);
}
