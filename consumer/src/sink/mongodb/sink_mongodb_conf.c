/*
 * sink_mongodb_conf.c: the key table of a `type: mongodb` sink (see
 * sink_mongodb_conf.h), and the checks of its values: the URI is parsed
 * by libmongoc (lib/mongouri.h, shared with the mongodb source: its
 * password is registered as a secret, kept out of logs), the collection
 * template may name only ${source}, ${db}, ${schema} and ${table}
 * (CK_TEMPLATE: the loader keeps them), the write concern is `majority`
 * or a positive number.
 *
 * Adding a key: a field in trib_mongosink_conf and one row below; run
 * `make -C consumer doc`.
 */
#include "sink_mongodb_conf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_keys.h"
#include "mongouri.h"

/* A template whose placeholders are ${source}, ${db}, ${schema} and
 * ${table} ($$ is a literal $). */
static bool
check_template(const char *value, char *msg, size_t msglen)
{
	static const char *const vars[] = {"${source}", "${db}", "${schema}", "${table}", "$$", NULL};
	const char *p = value;

	if (*value == '\0')
	{
		snprintf(msg, msglen, "empty; accepted: text with ${source}, ${db}, ${schema}, ${table}");
		return false;
	}
	while ((p = strchr(p, '$')) != NULL)
	{
		int			i;

		for (i = 0; vars[i] != NULL; i++)
			if (strncmp(p, vars[i], strlen(vars[i])) == 0)
				break;
		if (vars[i] == NULL)
		{
			snprintf(msg, msglen, "unknown placeholder at \"%.20s\"; accepted: ${source}, "
					 "${db}, ${schema}, ${table}, $$", p);
			return false;
		}
		p += strlen(vars[i]);
	}
	return true;
}

/* `majority` or a number of members from 1 to 50. */
static bool
check_write_concern(const char *value, char *msg, size_t msglen)
{
	char	   *end;
	long		n;

	if (strcmp(value, "majority") == 0)
		return true;
	n = strtol(value, &end, 10);
	if (*value != '\0' && *end == '\0' && n >= 1 && n <= 50)
		return true;
	snprintf(msg, msglen, "accepted: majority, or a number of members from 1 to 50 "
			 "(0, unacknowledged, cannot be exactly once)");
	return false;
}

static const char *const bytea_words[] = {"base64", "hex", NULL};

static const ck_key mongo_sink_keys[] = {
	CK_TYPE_ROW("`mongodb`", "the kind of sink"),
	CK_ROW(trib_mongosink_conf, uri, CK_STRING, CK_REQUIRED | CK_SECRET,
		.check = trib_mongo_uri_check, .doc_type = "URI",
		.desc = "MongoDB connection string of the target (`mongodb://host:port/?replicaSet=rs0`); "
		"a replica set or sharded cluster for `transactions`"),
	CK_ROW(trib_mongosink_conf, database, CK_STRING, CK_REQUIRED,
		.desc = "target database: the collections and the stored position"),
	CK_ROW(trib_mongosink_conf, collection, CK_STRING, CK_TEMPLATE, .def = TRIB_COLLECTION_DEFAULT_PATTERN,
		.check = check_template, .doc_type = "template",
		.desc = "collection of a table's documents: `${source}`, `${db}`, `${schema}` (empty "
		"where the source has none; under the default, MySQL's database) and `${table}` are "
		"filled in per event (not taken from the environment)"),
	CK_ROW(trib_mongosink_conf, positions_collection, CK_STRING, 0,
		.def = "tributary_positions",
		.desc = "collection holding the sink's stored position, one document per pipeline and sink"),
	CK_ROW(trib_mongosink_conf, batch_size, CK_INT, 0, .def = "1000", .min = 1, .max = 100000,
		.desc = "most changes applied in one batch (ordered bulk writes, one transaction); "
		"write() blocks while a full batch is applied"),
	CK_ROW(trib_mongosink_conf, batch_ms, CK_INT, 0, .def = "100", .min = 0, .max = 60000,
		.desc = "longest a change waits, in milliseconds, before its batch is applied"),
	CK_ROW(trib_mongosink_conf, write_concern, CK_STRING, 0, .def = "majority",
		.check = check_write_concern, .doc_type = "string",
		.desc = "the write concern `w` of every write and commit: `majority` or a number of members"),
	CK_ROW(trib_mongosink_conf, transactions, CK_BOOL, 0, .def = "true",
		.desc = "apply each batch and store its position in one multi-document transaction; "
		"false: ordered bulk writes, then the position (idempotent on replay: replaces by "
		"`_id`, deletes of missing documents change nothing)"),
	CK_ROW(trib_mongosink_conf, bytea_encoding, CK_ENUM, 0, .def = "base64", .words = bytea_words,
		.desc = "how the source writes bytea (the plugin's `bytea-encoding`), decoded to BSON binary"),
	CK_END_ROW
};

const ck_section trib_mongosink_conf_section = {
	.doc_title = "`sinks.<name>` with `type: mongodb`",
	.what = "a mongodb sink",
	.keys = mongo_sink_keys,
	.doc_intro = "Writes rows as documents: inserts and updates replace the document by `_id` "
	"(upsert), deletes remove it, in ordered bulk writes, exactly once. Collections, `_id`, "
	"the type mapping and the stored position: [MONGODB.md](MONGODB.md).",
};
