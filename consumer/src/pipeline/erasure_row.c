/*
 * erasure_row.c: key rows read back from the stream (erasure_int.h).
 *
 * A key row is an insert into tributary.erasure_keys: which table, which
 * key.  Only members of tributary_eraser can write one, and the daemon
 * checks it again here, against the table as the source describes it:
 * the key must name exactly the table's key columns, each a non-null
 * scalar, so that it identifies one row.  The event it becomes is built
 * from that description and the configured action alone.  Its key is
 * rewritten in key-column order with yajl, which keeps every number's
 * text, so it matches the key the pipeline sent with the row.  No I/O
 * here.
 */
#include "erasure_int.h"

#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"

void
er_table_free(er_table *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->ncols; i++)
	{
		free(t->cols[i]);
		free(t->types[i]);
	}
	free(t->cols);
	free(t->types);
	free(t->key);
	free(t->schema);
	free(t->table);
	free(t);
}

/* A string member of obj, or NULL. */
static const char *
string_member(yajl_val obj, const char *name)
{
	yajl_val   *v = trib_jdoc_get_slot(obj, name);

	return v && YAJL_IS_STRING(*v) ? (*v)->u.string : NULL;
}

/* Is s one or more decimal digits? */
static bool
all_digits(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

const char *
er_keyrow_read(const char *after, er_keyrow *row)
{
	yajl_val   *id,
			   *key;

	memset(row, 0, sizeof(*row));
	if (after == NULL || (row->doc = trib_jdoc_parse(after, NULL, 0)) == NULL ||
		!YAJL_IS_OBJECT(row->doc))
		return "the key row is not a JSON object";
	id = trib_jdoc_get_slot(row->doc, "request_id");
	key = trib_jdoc_get_slot(row->doc, "key");
	row->schema = string_member(row->doc, "schema_name");
	row->table = string_member(row->doc, "table_name");
	if (id == NULL || !YAJL_IS_NUMBER(*id) || !all_digits((*id)->u.number.r))
		return "the key row has no request_id";
	row->request_id = (*id)->u.number.r;
	if (row->schema == NULL || row->table == NULL)
		return "the key row has no schema_name and table_name";
	if (key == NULL || !YAJL_IS_OBJECT(*key))
		return "the key row's key is not a JSON object";
	row->key = *key;
	return NULL;
}

void
er_keyrow_free(er_keyrow *row)
{
	if (row->doc)
		yajl_tree_free(row->doc);
	memset(row, 0, sizeof(*row));
}

/* The value of member `name` of obj when it is a non-null scalar, or NULL. */
static yajl_val
scalar_member(yajl_val obj, const char *name)
{
	yajl_val   *v = trib_jdoc_get_slot(obj, name);

	if (v == NULL || YAJL_IS_NULL(*v) || YAJL_IS_OBJECT(*v) || YAJL_IS_ARRAY(*v))
		return NULL;
	return *v;
}

/* The key object in t's key order, or NULL when the key does not fit t. */
static yajl_val
checked_key(const er_keyrow *row, const er_table *t)
{
	yajl_val	out;

	if (t->nkey == 0 || row->key->u.object.len != (size_t) t->nkey)
		return NULL;
	out = trib_jdoc_parse("{}", NULL, 0);
	for (int i = 0; i < t->nkey; i++)
	{
		const char *name = t->cols[t->key[i]];
		yajl_val	v = scalar_member(row->key, name);

		if (v == NULL)
		{
			yajl_tree_free(out);
			return NULL;
		}
		trib_jdoc_put(out, name, trib_jdoc_copy(v));
	}
	return out;
}

/* The anonymised row: every column of t, the key's values, nulls elsewhere. */
static char *
anonymised_row(const er_table *t, yajl_val key)
{
	yajl_val	row = trib_jdoc_parse("{}", NULL, 0);
	char	   *text;

	for (int i = 0; i < t->ncols; i++)
	{
		yajl_val   *k = trib_jdoc_get_slot(key, t->cols[i]);

		trib_jdoc_put(row, t->cols[i], k ? trib_jdoc_copy(*k) : trib_jdoc_null());
	}
	text = trib_jdoc_dump(row);
	yajl_tree_free(row);
	return text;
}

const char *
er_keyrow_apply(const er_keyrow *row, const er_table *t, trib_erasure_action action,
				trib_event *ev, const char *schema, const char *table)
{
	yajl_val	key = checked_key(row, t);

	if (t->nkey == 0)
		return "the table has neither a primary key nor a replica identity index";
	if (key == NULL)
		return "the key does not hold exactly the table's key columns, each a non-null scalar";
	free(ev->extra);
	free(ev->key);
	free(ev->before);
	free(ev->after);
	free(ev->unchanged);
	free(ev->after_json_nulls);
	free(ev->before_json_nulls);
	ev->extra = NULL;
	ev->unchanged = NULL;
	ev->after_json_nulls = NULL;
	ev->before_json_nulls = NULL;
	ev->schema = schema;
	ev->table = table;
	ev->rel = NULL;
	ev->key = trib_jdoc_dump(key);
	if (action == TRIB_ERASE_ANONYMIZE)
	{
		ev->op = TRIB_OP_UPDATE;
		ev->before = NULL;
		ev->after = anonymised_row(t, key);
	}
	else
	{
		ev->op = TRIB_OP_DELETE;
		ev->before = trib_xstrdup(ev->key);
		ev->after = NULL;
		ev->flatten = TRIB_FLAT_TOMBSTONE;	/* Kafka: forget the key */
	}
	yajl_tree_free(key);
	return NULL;
}
