/*
 * mongo_event.c: a change event document as the common event (see
 * mongo_event.h for the mapping).
 *
 * Values are turned into JSON by libbson (relaxed Extended JSON), never by
 * hand, through mongo_json.h, which mends two faults of libbson's text
 * (dates after 9999, documents cut at its depth limit); the small JSON
 * objects we build ourselves (opaque, extra) quote every string with
 * trib_jdoc_quote.
 */
#include "mongo_event.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"
#include "jsondoc.h"
#include "mongo_int64.h"
#include "mongo_json.h"
#include "strbuf.h"
#include "xalloc.h"

/* A libbson string as ours (malloc'd), then released. */
static char *
own(char *bs)
{
	char	   *s = bs ? trib_xstrdup(bs) : NULL;

	bson_free(bs);
	return s;
}

char *
trib_mongo_value_json(const bson_iter_t *it)
{
	bson_t		tmp;
	const uint8_t *data;
	uint32_t	len;
	char	   *j;
	size_t		n;
	const char *pre = "{ \"v\" : ";

	if (BSON_ITER_HOLDS_DOCUMENT(it))
	{
		bson_iter_document(it, &len, &data);
		if (!bson_init_static(&tmp, data, len))
			return NULL;
		return trib_mongo_json(&tmp);
	}
	/* an array or a scalar: {"v": x} written by libbson, then x cut out
	 * (libbson 1.23 has no bson_array_as_relaxed_extended_json) */
	bson_init(&tmp);
	bson_append_value(&tmp, "v", 1, bson_iter_value((bson_iter_t *) it));
	j = trib_mongo_json(&tmp);
	bson_destroy(&tmp);
	if (j == NULL || strncmp(j, pre, strlen(pre)) != 0 || (n = strlen(j)) < strlen(pre) + 2)
	{
		free(j);
		return NULL;
	}
	memmove(j, j + strlen(pre), n - strlen(pre) - 1);
	j[n - strlen(pre) - 2] = '\0';	/* drop " }" */
	return j;
}

/* The member `key` of doc as relaxed JSON in *out, NULL when absent or
 * null; false when it is there but libbson cannot write it (a string that
 * is not UTF-8, an array whose keys are not 0, 1, ...). */
static bool
member_json(const bson_t *doc, const char *key, char **out)
{
	bson_iter_t it;

	*out = NULL;
	if (!bson_iter_init_find(&it, doc, key) || BSON_ITER_HOLDS_NULL(&it))
		return true;
	return (*out = trib_mongo_value_json(&it)) != NULL;
}

/* The error for a member libbson cannot write as JSON. */
static bool
not_json(char *errbuf, size_t errlen, const char *type, const char *what)
{
	return trib_errf(errbuf, errlen, "%s event whose %s cannot be written as JSON "
					 "(a string in it is not UTF-8, its BSON is malformed, or it is nested "
					 "deeper than libbson writes, about 200 levels)", type, what);
}

/* The string at a dotted path in *s, NULL when there is none; false when
 * it is not UTF-8 or holds a NUL (no name can). */
static bool
str_at(const bson_t *doc, const char *path, const char **s, uint32_t *len)
{
	bson_iter_t it;

	*s = NULL;
	if (!bson_iter_init(&it, doc) || !bson_iter_find_descendant(&it, path, &it) ||
		!BSON_ITER_HOLDS_UTF8(&it))
		return true;
	*s = bson_iter_utf8(&it, len);
	return bson_utf8_validate(*s, *len, false);
}

/* The operation types and their ops; 'm' for the ones that are messages. */
static const struct
{
	const char *type;
	trib_op		op;
}			op_map[] = {
	{"insert", TRIB_OP_CREATE},
	{"update", TRIB_OP_UPDATE},
	{"replace", TRIB_OP_UPDATE},
	{"delete", TRIB_OP_DELETE},
	{"drop", TRIB_OP_MESSAGE},
	{"rename", TRIB_OP_MESSAGE},
	{"dropDatabase", TRIB_OP_MESSAGE},
	{"invalidate", TRIB_OP_MESSAGE},
};

/* The message's extra: prefix mongodb.<type>, content {operationType, ns, to}. */
static char *
message_extra(const bson_t *doc, const char *type)
{
	bson_t		c = BSON_INITIALIZER;
	bson_iter_t it;
	char	   *content;
	trib_strbuf b = {0};

	BSON_APPEND_UTF8(&c, "operationType", type);
	if (bson_iter_init_find(&it, doc, "ns"))
		bson_append_iter(&c, "ns", 2, &it);
	if (bson_iter_init_find(&it, doc, "to"))
		bson_append_iter(&c, "to", 2, &it);
	content = own(bson_as_relaxed_extended_json(&c, NULL));
	bson_destroy(&c);
	if (content == NULL)
		return NULL;			/* ns or to is not UTF-8 */
	trib_strbuf_adds(&b, "{\"prefix\":");
	trib_strbuf_printf(&b, "\"mongodb.%s\"", type);
	trib_strbuf_adds(&b, ",\"content\":");
	trib_jdoc_quote(&b, content);
	trib_strbuf_addc(&b, '}');
	free(content);
	return trib_strbuf_finish(&b);
}

/* The resume members: "{"token": ..." and ","invalidate":true" for an
 * invalidate's token (the object is left open). */
static void
add_resume(trib_strbuf *b, const char *token, bool invalidate)
{
	trib_strbuf_adds(b, "{\"token\":");
	trib_strbuf_adds(b, token);
	if (invalidate)
		trib_strbuf_adds(b, ",\"invalidate\":true");
}

/* See mongo_event.h. */
char *
trib_mongo_resume_opaque(const char *token, bool invalidate)
{
	trib_strbuf b = {0};

	add_resume(&b, token, invalidate);
	trib_strbuf_addc(&b, '}');
	return trib_strbuf_finish(&b);
}

/* opaque: {"token": ..., "source": {rs, collection, ord, lsid, txnNumber}}. */
static char *
opaque_of(const trib_mongo_map_ctx *ctx, const trib_mongo_change *c, const char *coll,
		  uint32_t ord)
{
	trib_strbuf b = {0};

	add_resume(&b, c->token, c->invalidate);
	trib_strbuf_adds(&b, ",\"source\":{\"rs\":");
	if (ctx->rs)
		trib_jdoc_quote(&b, ctx->rs);
	else
		trib_strbuf_adds(&b, "null");
	trib_strbuf_adds(&b, ",\"collection\":");
	if (coll)
		trib_jdoc_quote(&b, coll);
	else
		trib_strbuf_adds(&b, "null");
	trib_strbuf_printf(&b, ",\"ord\":%" PRIu32 ",\"lsid\":%s,\"txnNumber\":", ord,
					   c->lsid ? c->lsid : "null");
	if (c->in_txn)
		trib_strbuf_printf(&b, "%" PRId64, c->txn_number);
	else
		trib_strbuf_adds(&b, "null");
	trib_strbuf_adds(&b, "}}");
	return trib_strbuf_finish(&b);
}

/* The session and transaction number of a transaction's write; false
 * when lsid.id cannot be written as JSON. */
static bool
txn_of(const bson_t *doc, trib_mongo_change *c)
{
	bson_iter_t it;

	c->lsid = NULL;
	if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "lsid.id", &it) &&
		(c->lsid = trib_mongo_value_json(&it)) == NULL)
		return false;
	if (bson_iter_init_find(&it, doc, "txnNumber") && BSON_ITER_HOLDS_NUMBER(&it))
	{
		c->in_txn = c->lsid != NULL;
		c->txn_number = bson_iter_as_int64(&it);
	}
	return true;
}

/* The names, times and op of the event (the parts every type has). */
static bool
map_head(const bson_t *doc, const trib_mongo_map_ctx *ctx, trib_mongo_change *out,
		 const char **type, uint32_t *ord, char *errbuf, size_t errlen)
{
	bson_iter_t it;
	uint32_t	t = 0,
				inc = 0,
				len = 0;
	const char *s;
	trib_event *ev = out->ev;

	if (!bson_iter_init_find(&it, doc, "operationType") || !BSON_ITER_HOLDS_UTF8(&it))
		return trib_errf(errbuf, errlen, "change event without a string operationType");
	*type = bson_iter_utf8(&it, NULL);
	if (!bson_iter_init_find(&it, doc, "clusterTime") || !BSON_ITER_HOLDS_TIMESTAMP(&it))
		return trib_errf(errbuf, errlen, "%s event without a timestamp clusterTime", *type);
	bson_iter_timestamp(&it, &t, &inc);
	out->cluster_time = (uint64_t) t << 32 | inc;
	*ord = inc;
	if (out->cluster_time == 0)
		return trib_errf(errbuf, errlen, "%s event at cluster time 0", *type);
	if (!member_json(doc, "_id", &out->token))
		return not_json(errbuf, errlen, *type, "resume token (_id)");
	if (out->token == NULL)
		return trib_errf(errbuf, errlen, "%s event without a resume token (_id)", *type);
	ev->ts_ms = (int64_t) t * 1000;
	if (bson_iter_init_find(&it, doc, "wallTime") && BSON_ITER_HOLDS_DATE_TIME(&it))
		ev->ts_ms = bson_iter_date_time(&it);
	if (!str_at(doc, "ns.db", &s, &len))
		return trib_errf(errbuf, errlen, "%s event whose ns.db is not UTF-8 or holds a NUL",
						 *type);
	if (s != NULL)
		ev->db = ev->schema = trib_intern_get(ctx->names, s, len);
	if (!str_at(doc, "ns.coll", &s, &len))
		return trib_errf(errbuf, errlen, "%s event whose ns.coll is not UTF-8 or holds a NUL",
						 *type);
	if (s != NULL)
		ev->table = trib_intern_get(ctx->names, s, len);
	ev->source = ctx->source;
	ev->connector = "mongodb";
	return true;
}

/* update's updateDescription, kept in *extra as {"updateDescription": ...}
 * (NULL when it has none); false when it cannot be written as JSON. */
static bool
update_extra(const bson_t *doc, char **extra)
{
	char	   *ud;
	trib_strbuf b = {0};

	*extra = NULL;
	if (!member_json(doc, "updateDescription", &ud))
		return false;
	if (ud == NULL)
		return true;
	trib_strbuf_adds(&b, "{\"updateDescription\":");
	trib_strbuf_adds(&b, ud);
	trib_strbuf_addc(&b, '}');
	free(ud);
	*extra = trib_strbuf_finish(&b);
	return true;
}

/* The member `key` of doc as a document in *sub (static over doc's
 * bytes); false when it is absent or not a document. */
static bool
member_doc(const bson_t *doc, const char *key, bson_t *sub)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t	len;

	if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_DOCUMENT(&it))
		return false;
	bson_iter_document(&it, &len, &data);
	return bson_init_static(sub, data, len);
}

/* The int64 paths (mongo_int64.h) of the images and of updatedFields
 * into ev->extra: a second walk over them, so done only when a sink needs
 * them (ctx->int64_paths). */
static void
images_int64(const bson_t *doc, trib_event *ev)
{
	bson_t		after,
				before,
				ud,
				updated;
	bool		ha = member_doc(doc, "fullDocument", &after),
				hb = member_doc(doc, "fullDocumentBeforeChange", &before),
				hu = member_doc(doc, "updateDescription", &ud) &&
		member_doc(&ud, "updatedFields", &updated);

	if (ha || hb || hu)
		trib_mongo_int64_extra(ha ? &after : NULL, hb ? &before : NULL, hu ? &updated : NULL,
							   &ev->extra);
}

bool
trib_mongo_change_map(const bson_t *doc, const trib_mongo_map_ctx *ctx,
					  trib_mongo_change *out, char *errbuf, size_t errlen)
{
	const char *type = NULL;
	uint32_t	ord = 0;
	size_t		i;
	trib_event *ev;

	memset(out, 0, sizeof(*out));
	ev = out->ev = trib_event_new();
	if (!map_head(doc, ctx, out, &type, &ord, errbuf, errlen))
		return false;
	out->invalidate = strcmp(type, "invalidate") == 0;
	for (i = 0; i < sizeof(op_map) / sizeof(op_map[0]); i++)
		if (strcmp(op_map[i].type, type) == 0)
			break;
	if (i == sizeof(op_map) / sizeof(op_map[0]))
		return trib_errf(errbuf, errlen, "change event of an unknown operationType \"%s\" "
						 "(known: insert, update, replace, delete, drop, rename, "
						 "dropDatabase, invalidate)", type);
	ev->op = op_map[i].op;
	if (!txn_of(doc, out))
		return not_json(errbuf, errlen, type, "lsid.id");
	if (out->in_txn)
		ev->txid = (uint64_t) out->txn_number;
	if (ev->op == TRIB_OP_MESSAGE)
	{
		if ((ev->extra = message_extra(doc, type)) == NULL)
			return not_json(errbuf, errlen, type, "ns or to");
	}
	else
	{
		if (!member_json(doc, "documentKey", &ev->key))
			return not_json(errbuf, errlen, type, "documentKey");
		if (ev->key == NULL)
			return trib_errf(errbuf, errlen, "%s event without documentKey", type);
		if (ev->op != TRIB_OP_DELETE && !member_json(doc, "fullDocument", &ev->after))
			return not_json(errbuf, errlen, type, "fullDocument");
		if (!member_json(doc, "fullDocumentBeforeChange", &ev->before))
			return not_json(errbuf, errlen, type, "fullDocumentBeforeChange");
		if (strcmp(type, "update") == 0 && !update_extra(doc, &ev->extra))
			return not_json(errbuf, errlen, type, "updateDescription");
		if (ctx->int64_paths)
			images_int64(doc, ev);
	}
	ev->pos.commit_lsn = ev->pos.lsn = out->cluster_time;
	ev->pos.opaque = opaque_of(ctx, out, ev->table, ord);
	return true;
}

void
trib_mongo_change_clear(trib_mongo_change *c)
{
	trib_event_free(c->ev);
	free(c->lsid);
	free(c->token);
	memset(c, 0, sizeof(*c));
}
