/*
 * envelope_record.c: the envelope's records by kind of event (see
 * envelope_int.h, docs/FORMAT.md): row changes (c, u, d, r) with their
 * keys, images and tombstones; truncates (one record per table); logical
 * decoding messages.
 *
 * Design.  A record is appended to the envelope's buffer as offsets
 * (env_rec_new); its topic (envelope_topic.c), source block
 * (envelope_source.c) and transaction block (envelope.c) are written by
 * their own files.  Row images and keys are copied as the source wrote
 * them, or converted by Debezium mode's encoders (debezium.h); the
 * `unchanged` array of column names is scanned by hand so its names are
 * copied verbatim, with the TOAST placeholder put in their place.  Only the
 * rare events parse JSON: truncate (relations) and message (prefix,
 * content) read ev->extra with yajl_tree.
 */
#include "envelope_int.h"

#include <stdio.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "jsondoc.h"

/* Append the base64 encoding of n bytes. */
static void
eb_base64(ebuf *b, const unsigned char *s, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		i;
	char	   *o;

	eb_reserve(b, (n + 2) / 3 * 4);
	o = b->p + b->len;
	for (i = 0; i + 2 < n; i += 3)
	{
		uint32_t	v = (uint32_t) s[i] << 16 | (uint32_t) s[i + 1] << 8 | s[i + 2];

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n)
	{
		uint32_t	v = (uint32_t) s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t) s[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	b->len = (size_t) (o - b->p);
}

/* A row image (or key) in the envelope's format: as is, or in Debezium's
 * encodings (debezium.h), its length in *len (the converter's output holds
 * no NUL: it escapes control characters); the result stays valid until
 * the next call. */
static const char *
image_text(trib_envelope *env, const trib_event *ev, const char *image,
		   const char *json_nulls, size_t *len, char *errbuf, size_t errlen)
{
	if (env->dbz == NULL)
	{
		*len = strlen(image);
		return image;
	}
	env->dbz_buf.len = 0;
	if (!trib_dbz_row(env->dbz, ev->connector, ev->rel, image, json_nulls,
					  &env->dbz_buf, errbuf, errlen))
		return NULL;
	*len = env->dbz_buf.len;
	return env->dbz_buf.data;
}

/* Append what one of the debezium_mongo.c writers made of text: false
 * (errbuf filled) when it could not. */
static bool
put_mongo(trib_envelope *env, bool (*conv) (const char *, trib_strbuf *, char *, size_t),
		  const char *text, char *errbuf, size_t errlen)
{
	env->dbz_buf.len = 0;
	if (!conv(text, &env->dbz_buf, errbuf, errlen))
		return false;
	eb_put(&env->buf, env->dbz_buf.data, env->dbz_buf.len);
	return true;
}

/*
 * A MongoDB update's updateDescription, kept by the source in ev->extra as
 * {"updateDescription": {...}} (source/mongodb/mongo_event.h), written
 * beside `after` as Debezium's MongoDB connector does.
 */
static void
write_update_description(ebuf *b, const trib_event *ev)
{
	const char *path[] = {"updateDescription", NULL};
	yajl_val	root,
				ud;
	yajl_gen	g;
	const unsigned char *text;
	size_t		len;

	if (ev->op != TRIB_OP_UPDATE || ev->extra == NULL ||
		(root = yajl_tree_parse(ev->extra, NULL, 0)) == NULL)
		return;
	ud = yajl_tree_get(root, path, yajl_t_object);
	g = yajl_gen_alloc(NULL);
	if (ud && trib_jdoc_gen(g, ud) && yajl_gen_get_buf(g, &text, &len) == yajl_gen_status_ok)
	{
		EB_LIT(b, ",\"updateDescription\":");
		eb_put(b, (const char *) text, len);
	}
	yajl_gen_free(g);
	yajl_tree_free(root);
}

/* Skip JSON whitespace. */
static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/*
 * The placeholder of an unchanged TOAST column whose name is the JSON
 * string name[0..len): as a string, or in Debezium mode as Debezium writes
 * it for the column's type (debezium.h; a name with escapes is looked up
 * no further).
 */
static void
put_placeholder(trib_envelope *env, const trib_event *ev, const char *name, size_t len)
{
	char		col[256];

	if (env->dbz == NULL || len < 2 || len - 2 >= sizeof(col) ||
		memchr(name, '\\', len) != NULL)
	{
		eb_put(&env->buf, env->placeholder_json, strlen(env->placeholder_json));
		return;
	}
	memcpy(col, name + 1, len - 2);
	col[len - 2] = '\0';
	env->dbz_buf.len = 0;
	trib_dbz_placeholder(env->dbz, ev->connector, ev->rel, col, env->placeholder,
						 &env->dbz_buf);
	eb_put(&env->buf, env->dbz_buf.data, env->dbz_buf.len);
}

/*
 * Append `after` with every name of the `unchanged` array added as
 * "name":placeholder.  Names are copied verbatim (already JSON strings).
 */
static bool
write_after_with_unchanged(trib_envelope *env, const trib_event *ev, const char *after,
						   const char *unchanged, char *errbuf, size_t errlen)
{
	ebuf	   *b = &env->buf;
	size_t		alen = strlen(after);
	size_t		end = alen;
	const char *p;
	bool		need_comma;
	size_t		mark = b->len;

	while (end > 0 && (after[end - 1] == ' ' || after[end - 1] == '\n' ||
					   after[end - 1] == '\t' || after[end - 1] == '\r'))
		end--;
	p = skip_ws(after);
	if (*p != '{' || end == 0 || after[end - 1] != '}')
	{
		snprintf(errbuf, errlen, "envelope: row image is not a JSON object");
		return false;
	}
	need_comma = skip_ws(p + 1) != after + end - 1;
	eb_put(b, after, end - 1);

	p = skip_ws(unchanged);
	if (*p != '[')
		goto bad;
	p = skip_ws(p + 1);
	if (*p != ']')
	{
		for (;;)
		{
			const char *start = p;

			if (*p != '"')
				goto bad;
			for (p++; *p != '"'; p++)
			{
				if (*p == '\0')
					goto bad;
				if (*p == '\\' && *++p == '\0')
					goto bad;
			}
			p++;
			if (need_comma)
				eb_ch(b, ',');
			need_comma = true;
			eb_put(b, start, (size_t) (p - start));
			eb_ch(b, ':');
			put_placeholder(env, ev, start, (size_t) (p - start));
			p = skip_ws(p);
			if (*p == ',')
			{
				p = skip_ws(p + 1);
				continue;
			}
			if (*p == ']')
				break;
			goto bad;
		}
	}
	if (*skip_ws(p + 1) != '\0')
		goto bad;
	eb_ch(b, '}');
	return true;

bad:
	b->len = mark;
	snprintf(errbuf, errlen,
			 "envelope: \"unchanged\" is not a JSON array of column names");
	return false;
}

/* ev->after as the record's row image: with the placeholder in place of
 * each unchanged TOAST column when the envelope writes one, else as is. */
static bool
write_after(trib_envelope *env, const trib_event *ev, char *errbuf, size_t errlen)
{
	size_t		len;
	const char *after = image_text(env, ev, ev->after, ev->after_json_nulls,
								   &len, errbuf, errlen);

	if (after == NULL)
		return false;
	if (ev->unchanged && env->placeholder_json)
		return write_after_with_unchanged(env, ev, after, ev->unchanged, errbuf, errlen);
	eb_put(&env->buf, after, len);
	return true;
}

/* What transform rules added: quality tags and a dead-letter reason. */
static void
write_rule_fields(ebuf *b, const trib_event *ev)
{
	if (ev->tags)
	{
		EB_LIT(b, ",\"tags\":");
		eb_put(b, ev->tags, strlen(ev->tags));
	}
	if (ev->error)
	{
		EB_LIT(b, ",\"error\":");
		eb_jcstr(b, ev->error);
	}
}

/* The record's key: the event's (pointed to), or in Debezium mode its
 * converted copy after the value in the buffer. */
static bool
write_key(trib_envelope *env, const trib_event *ev, recoff *r,
		  char *errbuf, size_t errlen)
{
	const char *key;
	size_t		key_len;
	size_t		len;
	size_t		at;

	if (env->dbz == NULL)
	{
		r->key = ev->key;
		r->key_len = strlen(ev->key);
		return true;
	}
	if (env_dbz_mongo(env, ev))
	{
		env->dbz_buf.len = 0;
		if (!trib_dbz_mongo_key(ev->key, &env->dbz_buf, errbuf, errlen))
			return false;
		key = env->dbz_buf.data;
		key_len = strlen(key);
	}
	else if ((key = image_text(env, ev, ev->key, NULL, &key_len, errbuf, errlen)) == NULL)
		return false;
	at = env->buf.len;
	if (env->dbz_schemas && ev->flatten == TRIB_FLAT_NONE)
	{
		EB_LIT(&env->buf, "{\"schema\":");
		if (env->key_schema)
			eb_put(&env->buf, env->key_schema, env->key_schema_len);
		else
			EB_LIT(&env->buf, "null");
		EB_LIT(&env->buf, ",\"payload\":");
	}
	eb_put(&env->buf, key, key_len);
	if (env->dbz_schemas && ev->flatten == TRIB_FLAT_NONE)
		eb_ch(&env->buf, '}');
	len = env->buf.len - at;
	eb_ch(&env->buf, '\0');
	r->key_in_buf = true;
	r->key_off = at;
	r->key_len = len;
	return true;
}

/*
 * A flattened row event (the flatten rule, Debezium's "new record
 * state"): the value is the row itself, or null for a tombstone.
 */
static bool
write_flat_record(trib_envelope *env, const trib_event *ev, size_t topic,
				  size_t value, char *errbuf, size_t errlen)
{
	ebuf	   *b = &env->buf;
	recoff	   *r;

	if (ev->flatten == TRIB_FLAT_ROW && ev->after)
	{
		if (!write_after(env, ev, errbuf, errlen))
			return false;
	}
	r = env_rec_new(env);
	r->topic = topic;
	r->value = value;
	r->value_len = b->len - value;
	r->tombstone = ev->flatten == TRIB_FLAT_TOMBSTONE || ev->after == NULL;
	eb_ch(b, '\0');
	return ev->key == NULL || write_key(env, ev, r, errbuf, errlen);
}

/*
 * schemas.enable: start the value {"schema":S,"payload": with the
 * relation's cached Envelope schema (null when the event has no relation,
 * e.g. a truncate of several tables) and note its Key schema.
 */
static bool
open_payload(trib_envelope *env, const trib_event *ev, bool row,
			 char *errbuf, size_t errlen)
{
	const char *vs = NULL;
	size_t		vs_len = 0;

	env->key_schema = NULL;
	env->key_schema_len = 0;
	if (env_dbz_mongo(env, ev))
	{
		env->mongo_vs.len = env->mongo_ks.len = 0;
		trib_dbz_mongo_render_schemas(env->prefix, ev->db, ev->table, &env->mongo_vs,
									  &env->mongo_ks);
		vs = env->mongo_vs.data;
		vs_len = strlen(vs);
		env->key_schema = row ? env->mongo_ks.data : NULL;
		env->key_schema_len = row ? strlen(env->mongo_ks.data) : 0;
	}
	else if (ev->rel && !trib_dbz_schemas(env->dbz, env->prefix, ev->connector, ev->rel,
									 row ? ev->key : NULL, &vs, &env->key_schema,
									 &vs_len, &env->key_schema_len, errbuf, errlen))
		return false;
	EB_LIT(&env->buf, "{\"schema\":");
	if (vs)
		eb_put(&env->buf, vs, vs_len);
	else
		EB_LIT(&env->buf, "null");
	EB_LIT(&env->buf, ",\"payload\":");
	return true;
}

/* before, after and (for a MongoDB update) updateDescription: the
 * images as the source wrote them or in Debezium's encodings. */
static bool
write_images(trib_envelope *env, const trib_event *ev, bool row, char *errbuf,
			 size_t errlen)
{
	ebuf	   *b = &env->buf;

	if (row && ev->before)
	{
		size_t		len;
		const char *before = image_text(env, ev, ev->before,
										ev->before_json_nulls, &len, errbuf, errlen);

		if (before == NULL)
			return false;
		EB_LIT(b, "{\"before\":");
		eb_put(b, before, len);
		EB_LIT(b, ",\"after\":");
	}
	else
		EB_LIT(b, "{\"before\":null,\"after\":");	/* one append */
	if (row && ev->after)
	{
		if (!write_after(env, ev, errbuf, errlen))
			return false;
	}
	else
		EB_LIT(b, "null");
	write_update_description(b, ev);
	return true;
}

/* A MongoDB document image in Debezium mode: its string, or null. */
static bool
put_mongo_doc(trib_envelope *env, const trib_event *ev, const char *doc, const char *image,
			  char *errbuf, size_t errlen)
{
	if (doc == NULL)
	{
		EB_LIT(&env->buf, "null");
		return true;
	}
	env->dbz_buf.len = 0;
	if (!trib_dbz_mongo_doc(doc, ev->extra, image, &env->dbz_buf, errbuf, errlen))
		return false;
	eb_put(&env->buf, env->dbz_buf.data, env->dbz_buf.len);
	return true;
}

/* A MongoDB event's before, after and updateDescription in Debezium
 * mode: the documents as strings, updateDescription always (null but
 * for updates). */
static bool
write_mongo_images(trib_envelope *env, const trib_event *ev, char *errbuf, size_t errlen)
{
	ebuf	   *b = &env->buf;

	EB_LIT(b, "{\"before\":");
	if (!put_mongo_doc(env, ev, ev->before, "before", errbuf, errlen))
		return false;
	EB_LIT(b, ",\"after\":");
	if (!put_mongo_doc(env, ev, ev->after, "after", errbuf, errlen))
		return false;
	EB_LIT(b, ",\"updateDescription\":");
	return put_mongo(env, trib_dbz_mongo_update,
					 ev->op == TRIB_OP_UPDATE ? ev->extra : NULL, errbuf, errlen);
}

/*
 * A record's ts_ms (processing time, now).  Events that follow each other
 * mostly fall in the same millisecond: its text is kept (env->now_text)
 * and copied while it does.  In Debezium mode ts_us and ts_ns follow,
 * which change every microsecond: eb_ts writes them all.
 */
static void
eb_now(trib_envelope *env, int64_t now)
{
	ebuf	   *b = &env->buf;
	size_t		at = b->len;

	if (env->dbz != NULL)
	{
		eb_ts(env, now, env->now_us);
		return;
	}
	if (env->now_text_len != 0 && env->now_ms == now)
	{
		eb_put(b, env->now_text, env->now_text_len);
		return;
	}
	eb_i64(b, now);
	memcpy(env->now_text, b->p + at, b->len - at);	/* at most 20 bytes */
	env->now_text_len = b->len - at;
	env->now_ms = now;
}

/* One row-change record (c, u, d, r) or one truncate record (t). */
bool
env_write_row_record(trib_envelope *env, const trib_event *ev,
					 const char *schema, const char *table, int64_t now,
					 char *errbuf, size_t errlen)
{
	ebuf	   *b = &env->buf;
	recoff	   *r;
	size_t		topic = b->len;
	size_t		value;
	bool		row = ev->op != TRIB_OP_TRUNCATE;

	/* one check of the four names per record serves the topic and the
	 * source block's schema and table */
	struct name_memo *m = env_name_memo_for(env, ev->source, ev->db, schema, table);

	/* routed: the router's choice wins over the pattern */
	if (ev->topic && table == ev->table
		? !env_topic_routed(b, ev->topic, errbuf, errlen)
		: !env_topic_memo_write(env, m, b, ev->source, ev->db, schema, table,
								errbuf, errlen))
		return false;

	value = b->len;
	if (row && ev->flatten != TRIB_FLAT_NONE)
		return write_flat_record(env, ev, topic, value, errbuf, errlen);
	if (env->dbz_schemas && !open_payload(env, ev, row, errbuf, errlen))
		return false;
	if (row && env_dbz_mongo(env, ev))
	{
		if (!write_mongo_images(env, ev, errbuf, errlen))
			return false;
	}
	else if (!write_images(env, ev, row, errbuf, errlen))
		return false;
	env_write_source(env, ev, m, schema, table);
	{
		/* ,"op":"c","ts_ms": in one append, the op's letter set in place */
		char		op[] = ",\"op\":\"?\",\"ts_ms\":";

		op[7] = (char) ev->op;
		eb_put(b, op, sizeof(op) - 1);
	}
	eb_now(env, now);
	if (env->opts.transaction_metadata && ev->txid != 0)
		env_write_transaction(env, ev, schema, table);
	else
		EB_LIT(b, ",\"transaction\":null");	/* its null case, one append */
	write_rule_fields(b, ev);
	eb_ch(b, '}');
	if (env->dbz_schemas)
		eb_ch(b, '}');			/* the payload's wrapper */

	r = env_rec_new(env);
	r->topic = topic;
	r->value = value;
	r->value_len = b->len - value;
	eb_ch(b, '\0');			/* not counted: a convenience for readers */
	if (row && ev->key && env->dbz == NULL)
	{
		r->key = ev->key;		/* write_key's first case, without the call */
		r->key_len = strlen(ev->key);
	}
	else if (row && ev->key && !write_key(env, ev, r, errbuf, errlen))
		return false;

	if (ev->op == TRIB_OP_DELETE && env->opts.tombstones &&
		(r->key || r->key_in_buf))
	{
		recoff	   *t;
		recoff		copy = *r;

		t = env_rec_new(env);		/* may move env->offs */
		*t = copy;
		t->tombstone = true;
		t->value_len = 0;
	}
	return true;
}

/* A truncate: one record per table. */
bool
env_write_truncate(trib_envelope *env, const trib_event *ev, int64_t now,
				   char *errbuf, size_t errlen)
{
	char		perr[128];
	yajl_val	root;
	yajl_val	rels;
	static const char *relpath[] = {"relations", NULL};
	static const char *spath[] = {"schema", NULL};
	static const char *tpath[] = {"table", NULL};
	bool		ok = true;

	if (ev->table)
		return env_write_row_record(env, ev, ev->schema, ev->table, now,
									errbuf, errlen);
	if (ev->extra == NULL ||
		(root = yajl_tree_parse(ev->extra, perr, sizeof(perr))) == NULL)
	{
		snprintf(errbuf, errlen,
				 "envelope: truncate without a table or \"relations\"");
		return false;
	}
	rels = yajl_tree_get(root, relpath, yajl_t_array);
	if (rels == NULL)
	{
		snprintf(errbuf, errlen,
				 "envelope: truncate: \"relations\" is not an array");
		ok = false;
	}
	for (size_t i = 0; ok && i < YAJL_GET_ARRAY(rels)->len; i++)
	{
		yajl_val	rel = YAJL_GET_ARRAY(rels)->values[i];
		yajl_val	s = yajl_tree_get(rel, spath, yajl_t_string);
		yajl_val	t = yajl_tree_get(rel, tpath, yajl_t_string);

		if (t == NULL)
		{
			snprintf(errbuf, errlen,
					 "envelope: truncate: relation %zu has no \"table\"", i);
			ok = false;
			break;
		}
		ok = env_write_row_record(env, ev, s ? YAJL_GET_STRING(s) : NULL,
								  YAJL_GET_STRING(t), now, errbuf, errlen);
	}
	yajl_tree_free(root);
	return ok;
}

/* Is s (not NULL) made of base64's characters alone (standard alphabet,
 * padding)? */
static bool
all_base64(const char *s)
{
	return s != NULL &&
		s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")] == '\0';
}

/* A logical decoding message: Debezium's "m" record. */
bool
env_write_message(trib_envelope *env, const trib_event *ev, int64_t now,
				  char *errbuf, size_t errlen)
{
	ebuf	   *b = &env->buf;
	char		perr[128];
	yajl_val	root;
	yajl_val	prefix;
	yajl_val	content;
	yajl_val	encoding;
	static const char *ppath[] = {"prefix", NULL};
	static const char *cpath[] = {"content", NULL};
	static const char *epath[] = {"encoding", NULL};
	size_t		topic = b->len;
	size_t		key;
	size_t		value;
	recoff	   *r;
	const char *pfx;
	const char *enc;

	if (ev->extra == NULL ||
		(root = yajl_tree_parse(ev->extra, perr, sizeof(perr))) == NULL)
	{
		snprintf(errbuf, errlen, "envelope: message without valid \"extra\"");
		return false;
	}
	prefix = yajl_tree_get(root, ppath, yajl_t_string);
	content = yajl_tree_get(root, cpath, yajl_t_string);
	encoding = yajl_tree_get(root, epath, yajl_t_string);
	if (prefix == NULL || content == NULL)
	{
		yajl_tree_free(root);
		snprintf(errbuf, errlen,
				 "envelope: message: \"prefix\" and \"content\" must be strings");
		return false;
	}
	enc = encoding ? YAJL_GET_STRING(encoding) : NULL;
	if (enc != NULL && strcmp(enc, "base64") == 0 &&
		!all_base64(YAJL_GET_STRING(content)))
	{
		/* written as is below: a quote or backslash would end the JSON
		 * string early and let the content write members of its own */
		yajl_tree_free(root);
		snprintf(errbuf, errlen,
				 "envelope: message: \"content\" is not base64 although \"encoding\" says so");
		return false;
	}
	if (ev->topic ? !env_topic_routed(b, ev->topic, errbuf, errlen)
		: !env_topic_write(env, &env->message, b, ev->source, ev->db, NULL,
						   NULL, errbuf, errlen))
	{
		yajl_tree_free(root);
		return false;
	}
	pfx = YAJL_GET_STRING(prefix);

	key = b->len;
	EB_LIT(b, "{\"prefix\":");
	eb_jcstr(b, pfx);
	eb_ch(b, '}');
	eb_ch(b, '\0');

	value = b->len;
	EB_LIT(b, "{\"op\":\"m\",\"ts_ms\":");
	eb_i64(b, now);
	/* env_write_source starts with a comma: splice "source" after ts_ms */
	env_write_source(env, ev, env_name_memo_for(env, ev->source, ev->db, NULL, NULL),
					 NULL, NULL);
	env_write_transaction(env, ev, "", "message");
	EB_LIT(b, ",\"message\":{\"prefix\":");
	eb_jcstr(b, pfx);
	EB_LIT(b, ",\"content\":\"");
	if (enc != NULL && strcmp(enc, "base64") == 0)
	{
		/* the plugin's base64 is already what Debezium writes */
		const char *c = YAJL_GET_STRING(content);

		eb_put(b, c, strlen(c));
	}
	else
	{
		/* utf8: the JSON string's bytes (yajl unescaped them) */
		const char *c = YAJL_GET_STRING(content);

		eb_base64(b, (const unsigned char *) c, strlen(c));
	}
	EB_LIT(b, "\"}}");
	yajl_tree_free(root);

	r = env_rec_new(env);
	r->topic = topic;
	r->key_in_buf = true;
	r->key_off = key;
	r->key_len = value - key - 1;
	r->value = value;
	r->value_len = b->len - value;
	eb_ch(b, '\0');
	return true;
}
