/*
 * rules_conf.c: the keys of `transforms:`, one table per rule type.
 *
 * `transforms` is a list; each item is a map whose `type` picks its table
 * (a list "family", config.c's ck_parse_list_family).  Every type shares
 * the selection keys (name, sources, tables, fields) and adds its own
 * parameters.  All types store into one flat struct, trib_rule_conf
 * (config.h), so a table row is just a field name.  Like every key table
 * (config_keys.h), these rows drive validation, defaults and
 * docs/CONFIG.md.
 *
 * Adding a rule type: an enum value and any new fields in config.h, a
 * table and a variant line here, and its behaviour in rules.c.
 */
#include "config.h"
#include "config_keys.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "jpath.h"
#include "lua_expr.h"
#include "keys.h"
#include "mask_fake.h"
#include "strbuf.h"
#include "words.h"

_Static_assert(sizeof(trib_redact_with) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_encoding) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_cast_to) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_flatten_deletes) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_check_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_jtype) == sizeof(int), "enum size");
_Static_assert(TRIB_JT_STRING == 0 && TRIB_JT_NUMBER == 1 && TRIB_JT_INTEGER_TEXT == 2 &&
			   TRIB_JT_BOOLEAN == 3 && TRIB_JT_OBJECT == 4 && TRIB_JT_ARRAY == 5,
			   "expect's words are trib_jtype's first six");
_Static_assert(sizeof(trib_rule_action) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_agg_fn) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_rule_key_format) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_alphabet) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_cipher) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_too_short) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_gen_mode) == sizeof(int), "enum size");

#define ROW(field, ktype, kflags, ...) \
	{ .name = #field, .type = (ktype), .offset = offsetof(trib_rule_conf, field), \
	  .flags = (kflags), __VA_ARGS__ }
#define END_ROW { .name = NULL }

static const char *const with_words[] = {"mask", "null", "value", NULL};
static const char *const encoding_words[] = {"hex", "base64", "base64url", NULL};
static const char *const cast_words[] = {"string", "integer", "number", "boolean", NULL};
static const char *const deletes_words[] = {"drop", "tombstone", "rewrite", NULL};
static const char *const check_words[] = {"not_null", "type", "range", "allowed", "unique",
"regex", "lua", NULL};
static const char *const json_kind_words[] = {"string", "number", "integer", "boolean",
"object", "array", NULL};
static const char *const action_words[] = {"dead_letter", "drop", "tag", "fail", NULL};
static const char *const agg_words[] = {"sum", "avg", "min", "max", "count", NULL};
static const char *const alphabet_words[] = {"digits", "alnum-lower", "alnum-upper", "alnum", NULL};
static const char *const cipher_words[] = {"aes-256-gcm", "fernet", NULL};
static const char *const too_short_words[] = {"redact", "dead_letter", NULL};
static const char *const gen_words[] = {"range", "lower", "month", "year", NULL};

static bool check_field_path(const char *value, char *msg, size_t msglen);
static bool check_table_glob(const char *value, char *msg, size_t msglen);
static bool check_percent(const char *value, char *msg, size_t msglen);
static bool check_number(const char *value, char *msg, size_t msglen);
static bool check_mask_char(const char *value, char *msg, size_t msglen);
static bool check_route_topic(const char *value, char *msg, size_t msglen);
static void finish_rule(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
						const char *path, void *base, const char *name);

/* The selection keys every rule has; fields required or not. */
#define SELECT_ROWS \
	{ .name = "type", .type = CK_TYPE, .flags = CK_REQUIRED, .doc_type = "rule type", \
	  .desc = "which rule (see the sections below)" }, \
	{ .name = "name", .type = CK_STRING, .offset = offsetof(trib_rule_conf, label), \
	  .desc = "a name for messages and metrics", .doc_default = "`transforms[N]`" }, \
	ROW(sources, CK_STRLIST, 0, .doc_default = "all", \
		.desc = "source names (globs) the rule applies to"), \
	ROW(tables, CK_STRLIST, 0, .check = check_table_glob, .doc_default = "all", \
		.desc = "`schema.table` or `table` globs (`public.*`, `*.customers`)")
#define FIELDS_ROW(req) \
	ROW(fields, CK_STRLIST, (req), .check = check_field_path, \
		.desc = "field paths: `column`, `column.key` inside json/jsonb, globs per segment")
#define KEY_FORMAT_ROW \
	ROW(key_format, CK_ENUM, 0, .def = "auto", .words = ck_key_format_words, \
		.desc = "how `key` is written: `hex`, `base64`, `raw` (its bytes), or `auto` " \
		"(hex when only hex digits, else base64)")
#define MASK_CHAR_ROW \
	ROW(mask_char, CK_STRING, 0, .def = "*", .check = check_mask_char, \
		.desc = "the mask character (one character)")

static const ck_key redact_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(with, CK_ENUM, 0, .def = "mask", .words = with_words,
		.desc = "`mask`: mask characters; `null`; `value`: the fixed `value`"),
	ROW(value, CK_STRING, CK_EMPTY_OK, .desc = "the replacement for `with: value`"),
	MASK_CHAR_ROW,
	ROW(length, CK_INT, 0, .def = "0", .min = 0, .max = 1024,
		.desc = "`with: mask`: this many mask characters; 0 keeps the value's length"),
	END_ROW
};

static const ck_key partial_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(keep_first, CK_INT, 0, .def = "0", .min = 0, .max = 1024,
		.desc = "characters kept at the start"),
	ROW(keep_last, CK_INT, 0, .def = "0", .min = 0, .max = 1024,
		.desc = "characters kept at the end (e.g. 4 for a card number)"),
	ROW(keep_email_domain, CK_BOOL, 0, .def = "false",
		.desc = "mask an email's local part and keep `@domain`"),
	ROW(keep_separators, CK_BOOL, 0, .def = "false",
		.desc = "punctuation and spaces stay in place and do not count"),
	MASK_CHAR_ROW,
	END_ROW
};

static const ck_key hash_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(key, CK_STRING, CK_REQUIRED | CK_SECRET, .doc_type = "secret",
		.desc = "HMAC key, 16 to 1024 bytes (32 random bytes recommended): `${ENV}` or `key_file`"),
	KEY_FORMAT_ROW,
	ROW(context, CK_STRING, 0, .doc_default = "the field path",
		.desc = "domain separation: equal contexts give equal outputs (use one per "
		"kind of value, e.g. `email`, so joins across tables match)"),
	ROW(encoding, CK_ENUM, 0, .def = "hex", .words = encoding_words,
		.desc = "output alphabet"),
	ROW(length, CK_INT, 0, .def = "0", .min = 0, .max = 1024,
		.desc = "truncate the output to this many characters; 0: whole"),
	END_ROW
};

static const ck_key drop_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	END_ROW
};

static const ck_key rename_keys[] = {
	SELECT_ROWS,
	ROW(renames, CK_KVLIST, CK_REQUIRED, .doc_type = "map",
		.desc = "`old: new` pairs of top-level field names"),
	END_ROW
};

static const ck_key cast_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(to, CK_ENUM, CK_REQUIRED, .words = cast_words, .desc = "the JSON type wanted"),
	END_ROW
};

static const ck_key sample_keys[] = {
	SELECT_ROWS,
	ROW(percent, CK_STRING, CK_REQUIRED, .check = check_percent, .doc_type = "number",
		.desc = "share of rows kept, 0 to 100 (decimals allowed)"),
	ROW(by, CK_STRING, 0, .check = check_field_path, .doc_default = "the primary key",
		.desc = "the field whose value decides: sample `customers` by `id` and "
		"`orders` by `customer_id` to keep whole customers"),
	ROW(key, CK_STRING, CK_SECRET, .doc_type = "secret",
		.desc = "optional HMAC key (16 bytes or more), so the sample cannot be predicted"),
	KEY_FORMAT_ROW,
	END_ROW
};

#define LUA_ROW(req, what) \
	ROW(lua, CK_STRING, (req), .doc_type = "Lua", .desc = (what))

static const ck_key route_keys[] = {
	SELECT_ROWS,
	ROW(topic, CK_STRING, CK_TEMPLATE, .check = check_route_topic,
		.desc = "topic template: ${source}, ${db}, ${schema}, "
		"${table}, ${after.FIELD}, ${before.FIELD}, ${key.FIELD}"),
	LUA_ROW(0, "instead of topic: an expression returning the topic (nil: unchanged)"),
	END_ROW
};

static const ck_key filter_keys[] = {
	SELECT_ROWS,
	LUA_ROW(CK_REQUIRED, "keep the event when this is true (`after.amount > 100 and op ~= 'd'`)"),
	END_ROW
};

static const ck_key compute_keys[] = {
	SELECT_ROWS,
	ROW(field, CK_STRING, CK_REQUIRED, .desc = "the top-level field written"),
	LUA_ROW(CK_REQUIRED, "the value (`after.qty * after.price`); nil writes null"),
	ROW(column_type, CK_STRING, 0, .def = "jsonb",
		.desc = "the new column's SQL type, for sinks that create tables"),
	END_ROW
};

static const ck_key map_keys[] = {
	SELECT_ROWS,
	LUA_ROW(CK_REQUIRED, "returns a table of fields to set in `after` (`null` for JSON null), "
			"or nil for no change"),
	END_ROW
};

static const ck_key flatten_keys[] = {
	SELECT_ROWS,
	ROW(deletes, CK_ENUM, 0, .def = "drop", .words = deletes_words,
		.desc = "what a delete becomes: dropped, a tombstone, or the old row with "
		"`__deleted: true`"),
	END_ROW
};

static const ck_key quality_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(check, CK_ENUM, CK_REQUIRED, .words = check_words, .desc = "the test"),
	ROW(expect, CK_ENUM, 0, .words = json_kind_words,
		.desc = "`check: type`: the JSON type required"),
	ROW(min, CK_STRING, 0, .check = check_number, .doc_type = "number",
		.desc = "`check: range`: smallest allowed"),
	ROW(max, CK_STRING, 0, .check = check_number, .doc_type = "number",
		.desc = "`check: range`: largest allowed"),
	ROW(values, CK_STRLIST, CK_EMPTY_OK, .desc = "`check: allowed`: the allowed values"),
	ROW(pattern, CK_STRING, 0, .desc = "`check: regex`: a PCRE2 pattern (anchor with ^...$)"),
	ROW(caseless, CK_BOOL, 0, .def = "false", .desc = "`check: regex`: ignore case"),
	LUA_ROW(0, "`check: lua`: true passes; may return false, 'reason'; sees `value`, `column`"),
	ROW(action, CK_ENUM, 0, .def = "dead_letter", .words = action_words,
		.desc = "on failure: to the `dead_letter` sink, `drop`, `tag` the event, or "
		"`fail` the pipeline"),
	END_ROW
};

static const ck_key allow_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	END_ROW
};

static const ck_key outbox_keys[] = {
	SELECT_ROWS,
	ROW(id_field, CK_STRING, 0, .def = "id", .desc = "column with the event id"),
	ROW(aggregate_type_field, CK_STRING, 0, .def = "aggregatetype",
		.desc = "column naming the aggregate type (used by the default topic)"),
	ROW(aggregate_id_field, CK_STRING, 0, .def = "aggregateid",
		.desc = "column whose value becomes the Kafka key"),
	ROW(payload_field, CK_STRING, 0, .def = "payload", .desc = "column with the event payload"),
	ROW(type_field, CK_STRING, 0, .def = "type", .desc = "column with the event type"),
	ROW(topic, CK_STRING, CK_TEMPLATE, .def = "outbox.event.${after.aggregatetype}",
		.check = check_route_topic, .desc = "topic template (as for route)"),
	ROW(payload_only, CK_BOOL, 0, .def = "true",
		.desc = "the value is the payload; false: {id, type, aggregate_type, aggregate_id, payload}"),
	END_ROW
};

static const ck_key aggregate_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(function, CK_ENUM, CK_REQUIRED, .words = agg_words,
		.desc = "computed over the non-null numeric values of `fields`"),
	ROW(field, CK_STRING, CK_REQUIRED, .desc = "the top-level field written with the result"),
	END_ROW
};

static const ck_key lookup_keys[] = {
	SELECT_ROWS,
	ROW(dsn, CK_STRING, CK_REQUIRED | CK_SECRET, .check = ck_check_conninfo,
		.doc_type = "conninfo", .desc = "database to query (`dsn_file` for a file)"),
	ROW(query, CK_STRING, CK_REQUIRED,
		.desc = "SQL returning at most one row; `$1`, `$2`... are bound to `params`"),
	ROW(params, CK_STRLIST, 0, .check = check_field_path,
		.desc = "field paths whose values are bound, in order"),
	ROW(into, CK_STRING, CK_REQUIRED,
		.desc = "top-level field that receives the row as a JSON object (null when no row)"),
	ROW(cache_size, CK_INT, 0, .def = "10000", .min = 0, .max = 10000000,
		.desc = "results kept in an LRU cache; 0: no cache"),
	END_ROW
};

static const ck_key tokenize_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(key, CK_STRING, CK_REQUIRED | CK_SECRET, .doc_type = "secret",
		.desc = "AES key for FF1: 16, 24 or 32 bytes"),
	KEY_FORMAT_ROW,
	ROW(alphabet, CK_ENUM, 0, .def = "digits", .words = alphabet_words,
		.desc = "the characters encrypted; others (separators) stay in place"),
	ROW(tweak, CK_STRING, 0, .doc_default = "the field name",
		.desc = "FF1 tweak: equal tweaks give equal tokens across columns"),
	ROW(strict_alphabet, CK_BOOL, 0, .def = "false",
		.desc = "a character outside the alphabet is an error instead of kept"),
	ROW(too_short, CK_ENUM, 0, .def = "redact", .words = too_short_words,
		.desc = "a value with too few alphabet characters for FF1 (6 digits, 4 alnum), "
		"or too many (over 4096): masked, or sent to the dead-letter sink"),
	END_ROW
};

static const ck_key crypt_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(key, CK_STRING, CK_REQUIRED | CK_SECRET, .doc_type = "secret",
		.desc = "32 bytes: AES-256 for aes-256-gcm; Fernet's signing+encryption key"),
	KEY_FORMAT_ROW,
	ROW(cipher, CK_ENUM, 0, .def = "aes-256-gcm", .words = cipher_words,
		.desc = "`aes-256-gcm` (format in docs/MASKING.md) or `fernet` (Python cryptography's Fernet)"),
	ROW(context, CK_STRING, 0, .doc_default = "the field name",
		.desc = "aes-256-gcm: authenticated with the value; decrypt needs the same"),
	ROW(url, CK_BOOL, 0, .def = "false", .desc = "aes-256-gcm: base64url without padding"),
	ROW(ttl, CK_INT, 0, .def = "0", .min = 0, .max = 2000000000,
		.desc = "decrypt, fernet: refuse tokens older than this many seconds; 0: no limit"),
	END_ROW
};

static bool check_fake_kind(const char *value, char *msg, size_t msglen);

static const ck_key substitute_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(kind, CK_STRING, CK_REQUIRED, .check = check_fake_kind, .doc_type = "word",
		.desc = "first_name, last_name, full_name, email, safe_email, phone, address, "
		"street_address, city, postcode, country, company, job, username, ssn, iban, "
		"credit_card, date_of_birth, ipv4, url, uuid4; Faker's names name, user_name, "
		"phone_number, credit_card_number too (docs/MASKING.md)"),
	ROW(key, CK_STRING, CK_SECRET, .doc_type = "secret",
		.desc = "HMAC key choosing the fakes; without one anyone can test guesses"),
	KEY_FORMAT_ROW,
	ROW(iban_country, CK_STRING, 0, .def = "DE",
		.desc = "kind iban: the country when the value is not an IBAN of a supported one"),
	ROW(dictionaries, CK_STRING, 0, .doc_type = "path", .doc_default = "the installed data/fake",
		.desc = "directory with the dictionaries (first_names.txt, ...)"),
	END_ROW
};

static const ck_key perturb_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(percent, CK_STRING, 0, .check = check_percent, .doc_type = "number",
		.desc = "numbers: +- up to this percent of the value"),
	ROW(absolute, CK_STRING, 0, .check = check_number, .doc_type = "number",
		.desc = "numbers: +- up to this much"),
	ROW(days, CK_INT, 0, .def = "0", .min = 0, .max = 36500,
		.desc = "dates and timestamps: +- 1 to this many days"),
	ROW(key, CK_STRING, CK_SECRET, .doc_type = "secret",
		.desc = "HMAC key deriving the noise from the row's key and column"),
	KEY_FORMAT_ROW,
	END_ROW
};

static const ck_key generalize_keys[] = {
	SELECT_ROWS, FIELDS_ROW(CK_REQUIRED),
	ROW(mode, CK_ENUM, 0, .def = "range", .words = gen_words,
		.desc = "numbers: `range` (\"30-39\") or `lower` (30); dates: `month` or `year`"),
	ROW(width, CK_INT64, 0, .def = "10", .min = 1, .max = INT64_MAX,
		.desc = "range, lower: the bucket width"),
	END_ROW
};

#define RULE_SECTION(var, title, keys_, intro) \
	static const ck_section var = { .doc_title = "`transforms[]` with `type: " title "`", \
		.what = "a " title " rule", .keys = keys_, .finish = finish_rule, \
		.doc_intro = intro }

RULE_SECTION(redact_section, "redact", redact_keys,
			 "Replaces each selected value: mask characters of the same length "
			 "(counted in characters, not bytes), null, or a fixed value.");
RULE_SECTION(partial_section, "partial", partial_keys,
			 "Masks a value except its first/last characters, or an email except its domain.");
RULE_SECTION(hash_section, "hash", hash_keys,
			 "HMAC-SHA256 of the value under a secret key and a context. Deterministic, so "
			 "joins still match; without the key a dictionary attack is impossible.");
RULE_SECTION(drop_section, "drop", drop_keys, "Removes the selected fields.");
RULE_SECTION(keep_section, "keep", drop_keys,
			 "Removes every top-level field except the selected ones (minimisation).");
RULE_SECTION(rename_section, "rename", rename_keys, "Renames top-level fields.");
RULE_SECTION(cast_section, "cast", cast_keys,
			 "Converts values to another JSON type; a value that does not convert "
			 "sends the event to the dead-letter sink.");
RULE_SECTION(sample_section, "sample", sample_keys,
			 "Keeps a deterministic share of rows, decided by a hash of one field.");
RULE_SECTION(route_section, "route", route_keys,
			 "Sends the event to another topic (Kafka) or table (Postgres sink).");
RULE_SECTION(flatten_section, "flatten", flatten_keys,
			 "Unwraps the envelope: the Kafka value becomes the new row state.");
RULE_SECTION(quality_section, "quality", quality_keys,
			 "A data-quality test on each selected field; `action` says what happens "
			 "to an event that fails it. Each rule counts passes and failures in /metrics.");

RULE_SECTION(allow_section, "allow", allow_keys,
			 "Lets the selected fields through unchanged: an explicit decision for `strict` mode.");
RULE_SECTION(outbox_section, "outbox", outbox_keys,
			 "The outbox pattern (Debezium's event router): each insert into an outbox table "
			 "becomes one event on the aggregate's topic, keyed by the aggregate id; updates "
			 "and deletes of the outbox table are dropped.");
RULE_SECTION(aggregate_section, "aggregate", aggregate_keys,
			 "Computes sum, avg, min, max or count across fields of one row into a new field.");
RULE_SECTION(lookup_section, "lookup", lookup_keys,
			 "Enriches the row from a SQL query (bound parameters), with an LRU cache.");

RULE_SECTION(tokenize_section, "tokenize", tokenize_keys,
			 "Format-preserving encryption (FF1, NIST SP 800-38G): a card number stays 16 "
			 "digits in the same layout. Reversible with the key: `tributary detokenize`.");
RULE_SECTION(encrypt_section, "encrypt", crypt_keys,
			 "Replaces each value by an AES-256-GCM ciphertext or a Fernet token.");
RULE_SECTION(decrypt_section, "decrypt", crypt_keys,
			 "Turns values encrypted by `encrypt` (or by Python's Fernet) back into text.");

RULE_SECTION(substitute_section, "substitute", substitute_keys,
			 "Replaces each value with a realistic fake chosen by a keyed hash of the value: "
			 "the same input always gives the same fake, so joins and repeated runs agree.");
RULE_SECTION(perturb_section, "perturb", perturb_keys,
			 "Adds noise to numbers (percent or absolute) or shifts dates, derived from the "
			 "row's key: every update of a row gets the same noise, so it cannot be averaged away.");
RULE_SECTION(generalize_section, "generalize", generalize_keys,
			 "Coarsens values: numbers to ranges, dates to the month or the year.");

RULE_SECTION(filter_section, "filter", filter_keys,
			 "Drops events for which a Lua expression is not true.");
RULE_SECTION(compute_section, "compute", compute_keys,
			 "Writes a computed field from a Lua expression.");
RULE_SECTION(map_section, "map", map_keys,
			 "Rewrites fields of `after` with the table a Lua expression returns.");

static const ck_variant rule_variants[] = {
	{"redact", TRIB_RULE_REDACT, 0, &redact_section},
	{"partial", TRIB_RULE_PARTIAL, 0, &partial_section},
	{"hash", TRIB_RULE_HASH, 0, &hash_section},
	{"drop", TRIB_RULE_DROP, 0, &drop_section},
	{"keep", TRIB_RULE_KEEP, 0, &keep_section},
	{"rename", TRIB_RULE_RENAME, 0, &rename_section},
	{"cast", TRIB_RULE_CAST, 0, &cast_section},
	{"sample", TRIB_RULE_SAMPLE, 0, &sample_section},
	{"route", TRIB_RULE_ROUTE, 0, &route_section},
	{"flatten", TRIB_RULE_FLATTEN, 0, &flatten_section},
	{"quality", TRIB_RULE_QUALITY, 0, &quality_section},
	{"allow", TRIB_RULE_ALLOW, 0, &allow_section},
	{"outbox", TRIB_RULE_OUTBOX, 0, &outbox_section},
	{"aggregate", TRIB_RULE_AGGREGATE, 0, &aggregate_section},
	{"lookup", TRIB_RULE_LOOKUP, 0, &lookup_section},
	{"tokenize", TRIB_RULE_TOKENIZE, 0, &tokenize_section},
	{"encrypt", TRIB_RULE_ENCRYPT, 0, &encrypt_section},
	{"decrypt", TRIB_RULE_DECRYPT, 0, &decrypt_section},
	{"substitute", TRIB_RULE_SUBSTITUTE, 0, &substitute_section},
	{"perturb", TRIB_RULE_PERTURB, 0, &perturb_section},
	{"generalize", TRIB_RULE_GENERALIZE, 0, &generalize_section},
	{"filter", TRIB_RULE_FILTER, 0, &filter_section},
	{"compute", TRIB_RULE_COMPUTE, 0, &compute_section},
	{"map", TRIB_RULE_MAP, 0, &map_section},
	{NULL, 0, 0, NULL}
};

const ck_section *const ck_rule_sections[] = {
	&redact_section, &partial_section, &hash_section, &drop_section, &keep_section,
	&rename_section, &cast_section, &sample_section, &route_section, &flatten_section,
	&quality_section, &allow_section, &outbox_section, &aggregate_section, &lookup_section, &tokenize_section, &encrypt_section, &decrypt_section, &substitute_section,
	&perturb_section, &generalize_section, &filter_section, &compute_section, &map_section, NULL
};

const ck_family ck_rules_family = {
	.key = "transforms",
	.what = "rule",
	.variants = rule_variants,
	.entry_size = sizeof(trib_rule_conf),
	.off_name = offsetof(trib_rule_conf, name),
	.off_type = offsetof(trib_rule_conf, type),
	.off_type_name = offsetof(trib_rule_conf, type_name),
	.off_line = offsetof(trib_rule_conf, line),
	.off_column = offsetof(trib_rule_conf, column),
	.off_array = offsetof(trib_config, rules),
	.off_count = offsetof(trib_config, nrules),
};

/* ---- value checks ----------------------------------------------------- */

static bool
check_field_path(const char *value, char *msg, size_t msglen)
{
	trib_jpath	p;

	if (!trib_jpath_parse(value, &p, msg, msglen))
		return false;
	trib_jpath_free(&p);
	return true;
}

static bool
check_table_glob(const char *value, char *msg, size_t msglen)
{
	if (value[0] == '\0' || strchr(value, '.') != strrchr(value, '.'))
	{
		snprintf(msg, msglen, "\"%s\" is not a table selector (accepted: table, "
				 "schema.table, with * and ? globs)", value);
		return false;
	}
	return true;
}

/* A plain decimal number: -?digits[.digits]. */
static bool
is_decimal(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	while (isdigit((unsigned char) *p))
		p++;
	if (*p == '.')
	{
		p++;
		if (!isdigit((unsigned char) *p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	return *p == '\0';
}

static bool
check_fake_kind(const char *value, char *msg, size_t msglen)
{
	trib_strbuf b = {0};
	trib_fake_kind k;

	if (trib_fake_kind_parse(value, &k))
		return true;
	trib_fake_kind_list(&b);
	snprintf(msg, msglen, "unknown kind \"%s\" (accepted: %s)", value, b.data);
	trib_strbuf_free(&b);
	return false;
}

static bool
check_number(const char *value, char *msg, size_t msglen)
{
	if (is_decimal(value))
		return true;
	snprintf(msg, msglen, "\"%s\" is not a number (accepted: e.g. 10, -2.5)", value);
	return false;
}

static bool
check_percent(const char *value, char *msg, size_t msglen)
{
	if (is_decimal(value) && value[0] != '-' && strtod(value, NULL) <= 100.0)
		return true;
	snprintf(msg, msglen, "\"%s\" is not a percentage (accepted: 0 to 100, e.g. 10 or 2.5)",
			 value);
	return false;
}

static bool
check_mask_char(const char *value, char *msg, size_t msglen)
{
	size_t		n = strlen(value);

	/* one UTF-8 character: a lead byte and its continuation bytes */
	if (n >= 1 && n <= 4)
	{
		size_t		i = 1;

		while (i < n && ((unsigned char) value[i] & 0xC0) == 0x80)
			i++;
		if (i == n)
			return true;
	}
	snprintf(msg, msglen, "\"%s\" is not one character (accepted: a single character "
			 "such as * or X)", value);
	return false;
}

/* Placeholders of a route template; see rules.c for their expansion. */
static bool
route_var_ok(const char *name, size_t len)
{
	static const char *const plain[] = {"source", "db", "schema", "table", NULL};

	return trib_words_find_span(plain, name, len) >= 0 || ck_is_field_ref(name, len);
}

static bool
check_route_topic(const char *value, char *msg, size_t msglen)
{
	if (ck_template_problem(value, route_var_ok, NULL) == NULL)
		return true;
	snprintf(msg, msglen, "unknown placeholder in \"%s\" (accepted: ${source}, "
			 "${db}, ${schema}, ${table}, ${after.FIELD}, ${before.FIELD}, "
			 "${key.FIELD})", value);
	return false;
}

/* ---- cross-key checks --------------------------------------------------- */

static bool
has_key(const trib_yaml_node *map, const char *k)
{
	return map != NULL && trib_yaml_map_get(map, k) != NULL;
}

/* True when both texts are numbers and a > b, compared exactly. */
static bool
dec_text_above(const char *a, const char *b)
{
	trib_dec	da,
				db;
	bool		above = false;

	if (!trib_dec_parse(a, strlen(a), &da))
		return false;
	if (trib_dec_parse(b, strlen(b), &db))
	{
		above = trib_dec_cmp(&da, &db) > 0;
		trib_dec_free(&db);
	}
	trib_dec_free(&da);
	return above;
}

static void
finish_quality(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
			   trib_rule_conf *r)
{
	const trib_yaml_node *where = map ? map : at;

	if (r->check == TRIB_CHECK_TYPE && !has_key(map, "expect"))
		ck_error(c, where, path, "check: type needs expect (accepted: string, number, "
				 "integer, boolean, object, array)");
	if (r->check == TRIB_CHECK_RANGE && r->min == NULL && r->max == NULL)
		ck_error(c, where, path, "check: range needs min, max or both");
	if (r->check == TRIB_CHECK_RANGE && r->min && r->max && dec_text_above(r->min, r->max))
		ck_error(c, trib_yaml_map_get(map, "min"), path, "min %s is more than max %s", r->min, r->max);
	if (r->check == TRIB_CHECK_ALLOWED && !has_key(map, "values"))
		ck_error(c, where, path, "check: allowed needs values (a list)");
	if (r->check == TRIB_CHECK_REGEX && r->pattern == NULL)
		ck_error(c, where, path, "check: regex needs pattern");
	if (r->check == TRIB_CHECK_LUA && r->lua == NULL)
		ck_error(c, where, path, "check: lua needs lua (an expression)");
	if (r->action == TRIB_ACTION_DEAD_LETTER && ck_config(c)->dead_letter == NULL)
		ck_error(c, where, path, "action: dead_letter needs a top-level dead_letter "
				 "sink (accepted: dead_letter: <sink name>, or another action: drop, tag, fail)");
}

/* The key lengths a rule type accepts: [min, max]. */
static void
key_lens(const trib_rule_conf *r, size_t *min, size_t *max, const char **purpose)
{
	*min = 16;
	*max = 1024;
	*purpose = r->type_name;
	if (r->type == TRIB_RULE_TOKENIZE)
		*max = 32, *purpose = "tokenize (FF1-AES: 16, 24 or 32 bytes)";
	else if (r->type == TRIB_RULE_ENCRYPT || r->type == TRIB_RULE_DECRYPT)
		*min = *max = 32, *purpose = r->cipher == TRIB_CIPHER_FERNET ? "fernet" : "aes-256-gcm";
}

/* Parse the rule's key now, so a bad one is reported with its line. */
static void
check_rule_key(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *where, const char *path,
			   const trib_rule_conf *r)
{
	static const trib_key_format fmts[] = {TRIB_KEY_AUTO, TRIB_KEY_HEX, TRIB_KEY_BASE64, TRIB_KEY_RAW};
	const trib_yaml_node *at = ck_value_or(map, "key", ck_value_or(map, "key_file", where));
	char		e[256];
	trib_key   *k;
	size_t		min,
				max;
	const char *purpose;

	if (r->key == NULL)
		return;
	k = trib_key_parse(r->key, strlen(r->key), fmts[r->key_format], "the rule's key", e, sizeof(e));
	key_lens(r, &min, &max, &purpose);
	if (k == NULL)
		ck_error(c, at, path, "%s", e);
	else if (r->type == TRIB_RULE_TOKENIZE && k->len != 16 && k->len != 24 && k->len != 32)
		ck_error(c, at, path, "the key is %zu bytes; %s", k->len, purpose);
	else if ((k->len < min || k->len > max) && min == max)
		ck_error(c, at, path, "the key is %zu bytes; %s needs %zu bytes", k->len, purpose, min);
	else if (k->len < min || k->len > max)
		ck_error(c, at, path, "the key is %zu bytes; %s needs %zu to %zu bytes", k->len,
				 purpose, min, max);
	trib_key_free(k);
}

/* The highest $N in a query (outside quotes is not checked: $N in a
 * string literal is unusual and PostgreSQL would report it anyway). */
static int
max_param(const char *q)
{
	int			max = 0;

	for (const char *p = q; *p; p++)
		if (*p == '$' && isdigit((unsigned char) p[1]))
		{
			int			n = atoi(p + 1);

			if (n > max)
				max = n;
		}
	return max;
}

static void
finish_lookup(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
			  trib_rule_conf *r)
{
	int			n = r->query ? max_param(r->query) : 0;

	if (r->query && (size_t) n != r->params.count)
		ck_error(c, ck_value_or(map, "query", map ? map : at), path, "query uses $1..$%d but params has %zu field(s) (accepted: one "
				 "field per parameter)", n, r->params.count);
}

/* Compile the rule's Lua once now, so a syntax error is reported with the
 * line of the `lua` key (and the expression's own line). */
static void
check_lua(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *where, const char *path,
		  const trib_rule_conf *r)
{
	static const trib_lua_mode modes[] = {TRIB_LUA_FILTER, TRIB_LUA_VALUE, TRIB_LUA_MAP,
	TRIB_LUA_ROUTE};
	trib_lua_mode mode = modes[0];
	trib_lua_limits lim;
	trib_lua   *T;
	trib_lua_expr *e;
	char		err[512];

	if (r->lua == NULL)
		return;
	if (r->type == TRIB_RULE_COMPUTE)
		mode = modes[1];
	else if (r->type == TRIB_RULE_MAP)
		mode = modes[2];
	else if (r->type == TRIB_RULE_ROUTE)
		mode = modes[3];
	trib_lua_limits_init(&lim);
	if ((T = trib_lua_new(&lim, err, sizeof(err))) == NULL)
		return;
	e = trib_lua_compile(T, r->label ? r->label : r->type_name, r->lua, mode, err, sizeof(err));
	if (e == NULL)
		ck_error(c, ck_value_or(map, "lua", where), path, "%s", err);
	trib_lua_free(T);
}

static void
finish_rule(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
			void *base, const char *name)
{
	trib_rule_conf *r = base;
	const trib_yaml_node *where = map ? map : at;

	(void) name;
	if (r->label != NULL)
	{
		free(r->name);
		r->name = trib_xstrdup(r->label);
	}
	check_lua(c, map, where, path, r);
	switch (r->type)
	{
		case TRIB_RULE_ROUTE:
			if (has_key(map, "topic") == has_key(map, "lua"))
				ck_error(c, where, path, "route needs topic or lua (one of them)");
			break;
		case TRIB_RULE_REDACT:
			if (r->with == TRIB_RWITH_VALUE && r->value == NULL)
				ck_error(c, where, path, "with: value needs value (the replacement)");
			if (r->with != TRIB_RWITH_VALUE && r->value != NULL)
				ck_error(c, trib_yaml_map_get(map, "value"), path,
						 "value is only used with with: value");
			break;
		case TRIB_RULE_PARTIAL:
			if (r->keep_first == 0 && r->keep_last == 0 && !r->keep_email_domain)
				ck_error(c, where, path, "partial keeps nothing (accepted: keep_first, "
						 "keep_last, keep_email_domain; or use redact)");
			break;
		case TRIB_RULE_HASH:
		case TRIB_RULE_SAMPLE:
		case TRIB_RULE_TOKENIZE:
		case TRIB_RULE_ENCRYPT:
		case TRIB_RULE_DECRYPT:
		case TRIB_RULE_SUBSTITUTE:
			check_rule_key(c, map, where, path, r);
			break;
		case TRIB_RULE_PERTURB:
			check_rule_key(c, map, where, path, r);
			if ((r->percent != NULL) + (r->absolute != NULL) + (r->days > 0) != 1)
				ck_error(c, where, path, "perturb needs exactly one of percent, absolute, days");
			break;
		case TRIB_RULE_QUALITY:
			finish_quality(c, map, at, path, r);
			break;
		case TRIB_RULE_LOOKUP:
			finish_lookup(c, map, at, path, r);
			break;
		default:
			break;
	}
}
