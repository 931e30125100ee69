/*-------------------------------------------------------------------------
 *
 * relcache.c
 *		Per-relation output cache of the tributary plugin.
 *
 * For every relation that produces a change, the cache keeps what the per
 * row path needs so that it does no catalog access: the published columns
 * with their type output info (values.c), each column's JSON key already
 * escaped, the "schema"/"table" JSON fragment, the include/exclude verdict,
 * deform buffers, and, with publish-via-root, the root's descriptor and the
 * leaf-to-root conversion map.
 *
 * The body of the relation record is rendered when the entry is built; its
 * hash is the schema signature.  A domain column's entry also names its
 * final base type (what its values are written as) and an enum column's
 * its labels in sort order (resolve_base), so both are in the signature.  A relation record is written the first
 * time a relation is used in the session and again only when a rebuilt
 * entry describes a different schema, so a spurious relcache invalidation
 * (ANALYZE, a new index) does not repeat it.
 *
 * Invalidation: a relcache callback marks matching entries invalid (the
 * leaf and any leaf published through an invalidated root); syscache
 * callbacks on pg_type and pg_enum mark all entries invalid, since a
 * domain or enum change is rare.  The pg_enum one is needed because a
 * column's record carries its enum's labels (below), and ALTER TYPE ...
 * ADD VALUE / RENAME VALUE change only pg_enum rows: without it the
 * entry, and the labels in its signature, would stay as they were.  The schema name, the filter verdict that depends on it
 * and the DDL-log verdict are cached too, but ALTER SCHEMA ... RENAME
 * changes only pg_namespace and sends no relcache invalidation for the
 * relations in the schema; so a syscache callback on pg_namespace marks
 * every entry invalid, as the pg_type one does (schema changes are rare).
 * Renaming a table or moving it (SET SCHEMA) changes its pg_class row,
 * which the relcache callback covers.  Decoding replays a transaction's
 * invalidations in stream order (the DDL's own invalidation record, each
 * later command id) and at its end, so a change made before a rename keeps
 * the old names and one made after it, even in the same transaction, gets
 * the new.  Entries are rebuilt lazily on next use, never inside the
 * callback.  Callbacks cannot be unregistered, so the hash is reached
 * through a static pointer that a memory context reset callback clears when
 * the decoding context goes away, including on error.
 *
 * With publish-via-root, names, columns and the primary key are the root's,
 * but the replica identity (its setting and key columns, which decide which
 * columns "old" has) is the decoded partition's: the WAL holds what the
 * partition's own setting logs, and PostgreSQL does not pass REPLICA
 * IDENTITY on from a partitioned table.  Partitions of one root whose
 * identities differ thus have different signatures, and a relation record
 * comes whenever the next change's differs from the last one sent.
 *
 * Ownership: every entry owns a memory context holding all its pointers;
 * a rebuild deletes it and starts over.
 *
 * Lookups.  Most transactions touch one relation, so the entry returned
 * last is tried before the hash, and each entry keeps a pointer to its
 * published relation's sent-signature entry once looked up.  Both are
 * safe because dynahash never moves or frees an entry we do not remove,
 * and we remove none; validity is still checked on every use.
 *
 *-------------------------------------------------------------------------
 */
#include "tributary.h"

#include "access/htup_details.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "nodes/bitmapset.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

static HTAB *RelHash = NULL;
static HTAB *SentHash = NULL;	/* published relid -> signature sent */
static TribRelEntry *LastEntry = NULL;	/* the entry trib_relcache_get gave last */
static MemoryContext RelCacheCxt = NULL;
static bool callbacks_registered = false;

/*
 * What the client was last told about a published relation.  Keyed by the
 * published relid, not the decoded one, so that with publish-via-root the
 * partitions of one root share a single relation record.
 */
typedef struct TribSentEntry
{
	Oid			pub_relid;
	uint32		signature;
} TribSentEntry;

/* Mark entries stale when relid (or every relation) changes. */
static void
relcache_inval_cb(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	TribRelEntry *e;

	if (RelHash == NULL)
		return;
	hash_seq_init(&status, RelHash);
	while ((e = hash_seq_search(&status)) != NULL)
		if (relid == InvalidOid || e->relid == relid || e->pub_relid == relid)
			e->valid = false;
}

/*
 * A type (enum value, domain) or a schema (renamed, owner, ACL) changed:
 * rebuild everything lazily; both are rare, and a rebuilt entry whose
 * names and columns did not change sends no new relation record (its
 * signature is the same).
 */
static void
syscache_inval_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	relcache_inval_cb(arg, InvalidOid);
}

/* The cache context is going away: forget the hash. */
static void
relcache_reset_cb(void *arg)
{
	RelHash = NULL;
	SentHash = NULL;
	LastEntry = NULL;
	RelCacheCxt = NULL;
}

/* Create the cache for one decoding session, under parent. */
void
trib_relcache_init(MemoryContext parent)
{
	HASHCTL		hctl;
	MemoryContextCallback *cb;

	RelCacheCxt = AllocSetContextCreate(parent, "tributary relation cache",
										ALLOCSET_DEFAULT_SIZES);
	cb = MemoryContextAlloc(RelCacheCxt, sizeof(MemoryContextCallback));
	cb->func = relcache_reset_cb;
	cb->arg = NULL;
	MemoryContextRegisterResetCallback(RelCacheCxt, cb);

	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = sizeof(Oid);
	hctl.entrysize = sizeof(TribRelEntry);
	hctl.hcxt = RelCacheCxt;
	RelHash = hash_create("tributary relations", 64, &hctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	hctl.entrysize = sizeof(TribSentEntry);
	SentHash = hash_create("tributary relations sent", 64, &hctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(relcache_inval_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(TYPEOID, syscache_inval_cb, (Datum) 0);
		/* ADD VALUE and RENAME VALUE change only pg_enum */
		CacheRegisterSyscacheCallback(ENUMOID, syscache_inval_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, syscache_inval_cb,
									  (Datum) 0);
		callbacks_registered = true;
	}
}

/* Drop the cache (shutdown). */
void
trib_relcache_destroy(void)
{
	if (RelCacheCxt)
		MemoryContextDelete(RelCacheCxt);
}

/* The replica identity setting as a word. */
static const char *
replident_name(char r)
{
	switch (r)
	{
		case REPLICA_IDENTITY_DEFAULT:
			return "default";
		case REPLICA_IDENTITY_NOTHING:
			return "nothing";
		case REPLICA_IDENTITY_FULL:
			return "full";
		case REPLICA_IDENTITY_INDEX:
			return "index";
	}
	return "unknown";
}

/* Append a JSON array of the names of columns with a flag set. */
static void
append_name_list(StringInfo buf, TribRelEntry *e, bool want_pk)
{
	int			i;
	bool		first = true;

	appendStringInfoChar(buf, '[');
	for (i = 0; i < e->ncols; i++)
	{
		TribColumn *c = &e->cols[i];

		if (want_pk ? !c->is_pk : !c->is_identity)
			continue;
		if (!first)
			appendStringInfoChar(buf, ',');
		first = false;
		trib_json_string(buf, c->name, strlen(c->name));
	}
	appendStringInfoChar(buf, ']');
}

/*
 * Render the relation record body (everything after the position tags)
 * into e->rel_record; its hash is the schema signature.
 */
static void
render_relation_body(TribRelEntry *e, StringInfo buf)
{
	int			i;

	appendStringInfo(buf, ",\"relid\":%u,", e->pub_relid);
	appendBinaryStringInfo(buf, e->rel_json, e->rel_json_len);
	appendStringInfo(buf, ",\"replica_identity\":\"%s\",\"columns\":[",
					 replident_name(e->replident));
	for (i = 0; i < e->ncols; i++)
	{
		TribColumn *c = &e->cols[i];
		char	   *tname = format_type_with_typemod(c->typid, c->typmod);

		if (i > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoString(buf, "{\"name\":");
		trib_json_string(buf, c->name, strlen(c->name));
		appendStringInfoString(buf, ",\"type\":");
		trib_json_string(buf, tname, strlen(tname));
		appendStringInfo(buf, ",\"type_oid\":%u,\"typmod\":%d",
						 c->typid, c->typmod);
		if (OidIsValid(c->base_typid))
		{
			char	   *bname = format_type_with_typemod(c->base_typid,
														 c->base_typmod);

			appendStringInfoString(buf, ",\"base_type\":");
			trib_json_string(buf, bname, strlen(bname));
			appendStringInfo(buf, ",\"base_type_oid\":%u,\"base_typmod\":%d",
							 c->base_typid, c->base_typmod);
		}
		if (c->enum_labels)
			appendStringInfo(buf, ",\"enum_labels\":%s", c->enum_labels);
		appendStringInfo(buf, ",\"nullable\":%s,\"pk\":%s,\"identity\":%s}",
						 c->notnull ? "false" : "true",
						 c->is_pk ? "true" : "false",
						 c->is_identity ? "true" : "false");
	}
	appendStringInfoString(buf, "],\"primary_key\":");
	append_name_list(buf, e, true);
	appendStringInfoString(buf, ",\"identity_key\":");
	append_name_list(buf, e, false);
	appendStringInfoChar(buf, '}');
}

/* TRIB_JSON_* of a column type: may its values be JSON null? */
static uint8
json_kind_of(const TribTypeInfo *ti)
{
	if (ti->kind == TV_JSON || ti->kind == TV_JSONB)
		return TRIB_JSON_SCALAR;
	if (ti->kind == TV_ARRAY &&
		(ti->elem->kind == TV_JSON || ti->elem->kind == TV_JSONB))
		return TRIB_JSON_ARRAY;
	return TRIB_JSON_NONE;
}

/* An enum's labels in enumsortorder, as a JSON array of strings. */
static char *
enum_labels_json(Oid enumtypid)
{
	CatCList   *list = SearchSysCacheList1(ENUMTYPOIDNAME,
										   ObjectIdGetDatum(enumtypid));
	int			n = list->n_members;
	HeapTuple  *tups = palloc(Max(n, 1) * sizeof(HeapTuple));
	StringInfoData buf;
	int			i;

	for (i = 0; i < n; i++)
		tups[i] = &list->members[i]->tuple;
	/* insertion sort: an enum has few labels */
	for (i = 1; i < n; i++)
	{
		HeapTuple	t = tups[i];
		float4		o = ((Form_pg_enum) GETSTRUCT(t))->enumsortorder;
		int			j = i;

		for (; j > 0 && ((Form_pg_enum) GETSTRUCT(tups[j - 1]))->enumsortorder > o; j--)
			tups[j] = tups[j - 1];
		tups[j] = t;
	}
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < n; i++)
	{
		const char *label = NameStr(((Form_pg_enum) GETSTRUCT(tups[i]))->enumlabel);

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		trib_json_string(&buf, label, strlen(label));
	}
	appendStringInfoChar(&buf, ']');
	ReleaseSysCacheList(list);
	pfree(tups);
	return buf.data;
}

/*
 * A column's base type and enum labels (TribColumn): a domain resolves to
 * its final base type (nested domains too), an array of a domain to the
 * array of the element's final base; an enum at the end of that, itself
 * or as the element, gets its labels.
 */
static void
resolve_base(TribColumn *c)
{
	Oid			elem = get_element_type(c->typid);
	Oid			final = OidIsValid(elem) ? elem : c->typid;

	c->base_typid = InvalidOid;
	c->base_typmod = -1;
	c->enum_labels = NULL;
	if (get_typtype(final) == TYPTYPE_DOMAIN)
	{
		int32		typmod = OidIsValid(elem) ? -1 : c->typmod;
		Oid			base = getBaseTypeAndTypmod(final, &typmod);
		Oid			out = OidIsValid(elem) ? get_array_type(base) : base;

		final = base;
		if (OidIsValid(out))
		{
			c->base_typid = out;
			c->base_typmod = typmod;
		}
	}
	if (type_is_enum(final))
		c->enum_labels = enum_labels_json(final);
}

/*
 * Fill the column array from the published relation.  The primary key is
 * the published relation's; the replica identity key is the decoded
 * relation's (rel), whose setting decides what the WAL holds of an old row,
 * with its columns found in the published relation through e->map.
 */
static void
build_columns(TribRelEntry *e, Relation pubrel, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(pubrel);
	Bitmapset  *pk = RelationGetIndexAttrBitmap(pubrel,
											   INDEX_ATTR_BITMAP_PRIMARY_KEY);
	Bitmapset  *ident = RelationGetIndexAttrBitmap(rel,
												  INDEX_ATTR_BITMAP_IDENTITY_KEY);
	int			i;

	e->cols = palloc0(desc->natts * sizeof(TribColumn));
	e->ncols = 0;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		TribColumn *c;
		int			off = att->attnum - FirstLowInvalidHeapAttributeNumber;
		AttrNumber	relatt = att->attnum;
		StringInfoData key;

		if (att->attisdropped)
			continue;
		/* The same column in the decoded relation (0: it has none). */
		if (e->map)
			relatt = e->map->attrMap->attnums[i];
		c = &e->cols[e->ncols++];
		c->attnum = att->attnum;
		c->name = pstrdup(NameStr(att->attname));
		c->typid = att->atttypid;
		c->typmod = att->atttypmod;
		c->notnull = att->attnotnull;
		c->is_pk = bms_is_member(off, pk);
		c->is_identity = relatt > 0 &&
			bms_is_member(relatt - FirstLowInvalidHeapAttributeNumber, ident);
		resolve_base(c);
		c->type = trib_typeinfo_build(att->atttypid, CurrentMemoryContext);
		c->json_kind = json_kind_of(c->type);
		initStringInfo(&key);
		trib_json_string(&key, c->name, strlen(c->name));
		appendStringInfoChar(&key, ':');
		c->json_key = key.data;
		c->json_key_len = key.len;
	}
}

/* (Re)build an entry from rel; allocations go to a fresh entry context. */
static void
build_entry(TribRelEntry *e, Relation rel, const TribOptions *opts)
{
	Relation	pubrel = rel;
	MemoryContext old;
	StringInfoData buf;

	if (e->cxt)
		MemoryContextDelete(e->cxt);
	e->cxt = AllocSetContextCreate(RelCacheCxt, "tributary relation entry",
								   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(e->cxt);

	/*
	 * Valid from the start: an invalidation that arrives while we read the
	 * catalogs below clears it again and the next use rebuilds.  An error
	 * here ends the decoding session, which frees the whole cache.
	 */
	e->valid = true;
	e->sent = NULL;				/* pub_relid may change below */

	if (opts->publish_via_root && rel->rd_rel->relispartition)
	{
		List	   *ancestors = get_partition_ancestors(RelationGetRelid(rel));

		pubrel = RelationIdGetRelation(llast_oid(ancestors));
		if (!RelationIsValid(pubrel))
			elog(ERROR, "tributary: could not open partition root %u of relation %u",
				 llast_oid(ancestors), RelationGetRelid(rel));
	}
	e->pub_relid = RelationGetRelid(pubrel);
	e->schema = get_namespace_name(RelationGetNamespace(pubrel));
	e->table = pstrdup(RelationGetRelationName(pubrel));
	e->selected = trib_table_selected(opts, e->schema, e->table);
	/* The decoded relation itself: the DDL log is never a partition. */
	e->ddl_log = trib_is_ddl_log(rel);
	/* What the WAL holds of an old row: the decoded relation's setting. */
	e->replident = rel->rd_rel->relreplident;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "\"schema\":");
	trib_json_string(&buf, e->schema, strlen(e->schema));
	appendStringInfoString(&buf, ",\"table\":");
	trib_json_string(&buf, e->table, strlen(e->table));
	e->rel_json = buf.data;
	e->rel_json_len = buf.len;

	/* Keep attmissingval: tuples older than ADD COLUMN rely on it. */
	e->pub_desc = CreateTupleDescCopyConstr(RelationGetDescr(pubrel));
	e->natts = e->pub_desc->natts;
	e->values = palloc(e->natts * sizeof(Datum));
	e->nulls = palloc(e->natts * sizeof(bool));
	e->map = NULL;
	if (pubrel != rel)
		e->map = convert_tuples_by_name(CreateTupleDescCopyConstr(RelationGetDescr(rel)),
										e->pub_desc);

	build_columns(e, pubrel, rel);

	initStringInfo(&buf);
	render_relation_body(e, &buf);
	e->rel_record = buf.data;
	e->rel_record_len = buf.len;
	e->signature = hash_bytes((const unsigned char *) buf.data, buf.len);

	if (pubrel != rel)
		RelationClose(pubrel);
	MemoryContextSwitchTo(old);
}

/*
 * The cache entry for a decoded relation, built or rebuilt as needed.
 * Temporary allocations of a rebuild land in the caller's context.
 */
TribRelEntry *
trib_relcache_get(Relation rel, const TribOptions *opts)
{
	Oid			relid = RelationGetRelid(rel);
	bool		found;
	TribRelEntry *e = LastEntry;

	if (e == NULL || e->relid != relid)
	{
		e = hash_search(RelHash, &relid, HASH_ENTER, &found);
		if (!found)
		{
			memset(((char *) e) + sizeof(Oid), 0, sizeof(TribRelEntry) - sizeof(Oid));
			e->valid = false;
		}
		LastEntry = e;
	}
	if (!e->valid)
		build_entry(e, rel, opts);
	return e;
}

/*
 * Does the client need a relation record for e: is this the first use of
 * its published relation in the session, or has the schema changed since?
 * Remembers the answer as sent.
 */
bool
trib_relcache_take_unsent(TribRelEntry *e)
{
	bool		found = true;
	TribSentEntry *s = e->sent;

	if (s == NULL)
	{
		s = hash_search(SentHash, &e->pub_relid, HASH_ENTER, &found);
		e->sent = s;
	}
	if (found && s->signature == e->signature)
		return false;
	s->signature = e->signature;
	return true;
}
