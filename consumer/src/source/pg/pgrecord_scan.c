/*
 * pgrecord_scan.c: one record's streaming parse (pgrecord.c's file comment,
 * "Design").
 *
 * yajl calls the four handlers on_scalar, on_key, on_open and on_end
 * through TRIB_YTOK_CALLBACKS (lib/yajl_tokens.h); they and every helper
 * they call are static in this file, so the compiler inlines them into
 * the callbacks.  The handlers fill a pgr_pstate (pgrecord_int.h): each known
 * top-level field's type and value span, the members of the two row
 * images, the name lists and the column objects of a relation record.
 * trib_pgrec_parser_parse() tries the fast scan first (pgrecord_fast.c, which
 * fills the same pgr_pstate for the plugin's usual records: most events never
 * reach yajl), runs this parse for what it hands over, and then the checks
 * and builders of pgrecord_build.c, once per record.
 */
#include "pgrecord.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_parse.h>

#include "errf.h"
#include "pgrecord_int.h"
#include "strbuf.h"
#include "xalloc.h"
#include "yajl_tokens.h"

/* ---------------------------------------------------------------------- */
/* the streaming parse */

static const char *const colf_names[NCOLF_ALL] = {
	"name", "type", "type_oid", "typmod", "nullable", "pk", "identity",
	"base_type", "base_type_oid", "base_typmod", "enum_labels"
};

/* The bits of the optional base type members (all or none). */
#define BASE_BITS ((1u << C_BASE_TYPE) | (1u << C_BASE_TYPE_OID) | \
				   (1u << C_BASE_TYPMOD))

/* Record a parse error (the first one wins) and stop yajl. */
static int
perr(pgr_pstate *st, const char *fmt,...)
{
	va_list		ap;

	if (!st->err[0])
	{
		va_start(ap, fmt);
		vsnprintf(st->err, sizeof(st->err), fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* Offset just past the token yajl is reporting. */
static size_t
here(pgr_pstate *st)
{
	return yajl_get_bytes_consumed(st->h);
}

/* Skip JSON whitespace from i. */
static size_t
skip_ws(const pgr_pstate *st, size_t i)
{
	while (i < st->len && (st->text[i] == ' ' || st->text[i] == '\t' ||
						   st->text[i] == '\n' || st->text[i] == '\r'))
		i++;
	return i;
}

/* Start of a scalar value that follows a key ending at k ("key" : value). */
static size_t
value_start(const pgr_pstate *st, size_t k)
{
	size_t		i = skip_ws(st, k);

	if (i < st->len && st->text[i] == ':')
		i++;
	return skip_ws(st, i);
}

/* Is the current top-level member a row image?  Returns 0/1, or -1. */
static int
image_index(int topkey)
{
	return topkey == F_OLD ? 0 : topkey == F_NEW ? 1 : -1;
}

/* Is the current top-level member a JSON null list?  Returns 0 for
 * json_nulls (the new image), 1 for old_json_nulls, or -1. */
static int
json_nulls_index(const pgr_pstate *st)
{
	int			jn = st->topkey == F_JSON_NULLS ? 0 :
		st->topkey == F_OLD_JSON_NULLS ? 1 : -1;

	return jn >= 0 && st->f[st->topkey].type == TRIB_J_ARRAY ? jn : -1;
}

/*
 * A value inside a JSON null list (docs/PLUGIN.md): at depth 2 an entry,
 * a column name or ["column", i, ...]; at depth 3 an element of such an
 * entry, the name and then positions (non-negative integers).
 */
static int
on_json_nulls_value(pgr_pstate *st, int jn, trib_jkind type, const char *s, size_t n)
{
	uint64_t	v;

	if (st->depth == 2)
	{
		if (type != TRIB_J_STRING && type != TRIB_J_ARRAY)
			return perr(st, "\"%s\" entries must be column names or [name, positions...]",
						pgr_field_names[st->topkey]);
		if (type == TRIB_J_STRING && memchr(s, '\0', n))
			return perr(st, "\"%s\" holds a name with a NUL character",
						pgr_field_names[st->topkey]);
		st->njn[jn]++;
		st->jn_elems = 0;
		return 1;
	}
	if (st->jn_elems++ == 0)
		return type == TRIB_J_STRING && !memchr(s, '\0', n) ? 1 :
			perr(st, "a \"%s\" array entry must start with a column name",
				 pgr_field_names[st->topkey]);
	if (type != TRIB_J_NUMBER || !parse_uint(s, n, INT32_MAX, &v))
		return perr(st, "\"%s\": element positions must be integers from 0 to %d",
					pgr_field_names[st->topkey], INT32_MAX);
	return 1;
}

/* The name list of the current top-level member, or NULL. */
static pgr_strlist *
name_list(pgr_pstate *st)
{
	switch (st->topkey)
	{
		case F_PRIMARY_KEY:
			return &st->names[0];
		case F_IDENTITY_KEY:
			return &st->names[1];
		case F_UNCHANGED_TOAST:
			return &st->names[2];
		default:
			return NULL;
	}
}

/* A 32-bit integer member (typmod, base_typmod) from its text. */
static bool
parse_int32(trib_jkind type, const char *s, size_t n, int32_t *out)
{
	bool		neg = type == TRIB_J_NUMBER && n > 0 && s[0] == '-';
	uint64_t	v;

	if (type != TRIB_J_NUMBER ||
		!parse_uint(s + neg, n - neg, neg ? 2147483648u : INT32_MAX, &v))
		return false;
	*out = neg ? (int32_t) (-(int64_t) v) : (int32_t) v;
	return true;
}

/* An element of a column's enum_labels (depth 4): a string. */
static int
on_enum_label(pgr_pstate *st, trib_jkind type, const char *s, size_t n)
{
	trib_pgcol *c = &st->cols[st->ncols - 1];

	if (type != TRIB_J_STRING || memchr(s, '\0', n))
		return perr(st, "column enum_labels must hold strings without NUL");
	/* grown one at a time: enums have few labels, and relation records
	 * are rare */
	c->enum_labels = trib_xrealloc(c->enum_labels,
								   (c->nenum_labels + 1) * sizeof(char *));
	c->enum_labels[c->nenum_labels++] = trib_xstrndup(s, n);
	return 1;
}


/*
 * A member value of a "columns" or "relations" element (depth 3).  Numbers
 * arrive as their text in s/n.
 */
static int
on_element_member(pgr_pstate *st, trib_jkind type, const char *s, size_t n, bool b)
{
	trib_pgcol *c;
	uint64_t	v;

	/*
	 * A member the parser does not know is skipped whatever its value
	 * (forward compatibility, docs/PLUGIN.md): a container's insides are
	 * deeper than on_value looks for this element (depth 4 is read only
	 * under enum_labels), and yajl still checks their grammar.
	 */
	if (st->topkey == F_RELATIONS)
	{
		/* subkey 0 schema, 1 table: their values' raw text, for the
		 * event's extra (on_close) */
		if (st->subkey > 1)
			return 1;
		if (type != TRIB_J_STRING)
			return perr(st, "\"relations\": schema and table must be strings");
		st->seen |= 1u << st->subkey;
		st->relval[st->subkey][0] = value_start(st, st->after_subkey);
		st->relval[st->subkey][1] = here(st);
		return 1;
	}
	if (st->subkey == C_UNKNOWN)
		return 1;
	if (type == TRIB_J_ARRAY && st->subkey == C_ENUM_LABELS)
	{
		st->seen |= 1u << C_ENUM_LABELS;
		return 1;				/* the labels: on_enum_label */
	}
	if (type == TRIB_J_OBJECT || type == TRIB_J_ARRAY)
		return perr(st, "unexpected nesting in \"%s\"", pgr_field_names[st->topkey]);
	c = &st->cols[st->ncols - 1];
	st->seen |= 1u << st->subkey;
	switch (st->subkey)
	{
		case C_NAME:
		case C_TYPE:
			if (type != TRIB_J_STRING || memchr(s, '\0', n))
				return perr(st, "column %s must be a string without NUL",
							colf_names[st->subkey]);
			if (st->subkey == C_NAME)
				c->name = trib_xstrndup(s, n);
			else
				c->type = trib_xstrndup(s, n);
			return 1;
		case C_TYPE_OID:
		case C_BASE_TYPE_OID:
			if (type != TRIB_J_NUMBER || !parse_uint(s, n, UINT32_MAX, &v))
				return perr(st, "column %s must be an oid", colf_names[st->subkey]);
			*(st->subkey == C_TYPE_OID ? &c->type_oid : &c->base_type_oid) = (uint32_t) v;
			return 1;
		case C_TYPMOD:
		case C_BASE_TYPMOD:
			if (!parse_int32(type, s, n, st->subkey == C_TYPMOD ? &c->typmod : &c->base_typmod))
				return perr(st, "column %s must be a 32-bit integer", colf_names[st->subkey]);
			return 1;
		case C_BASE_TYPE:
			if (type != TRIB_J_STRING || n == 0 || memchr(s, '\0', n))
				return perr(st, "column base_type must be a non-empty string without NUL");
			c->base_type = trib_xstrndup(s, n);
			return 1;
		case C_ENUM_LABELS:
			return perr(st, "column enum_labels must be an array of strings");
		default:
			if (type != TRIB_J_BOOL)
				return perr(st, "column %s must be a boolean", colf_names[st->subkey]);
			if (st->subkey == C_NULLABLE)
				c->nullable = b;
			else if (st->subkey == C_PK)
				c->pk = b;
			else
				c->identity = b;
			return 1;
	}
}

/*
 * A value begins (scalar, or the opening of a container) at the current
 * depth.  `type` is its JSON kind (trib_jkind); for strings s/n is the decoded text.
 * Returns 0 to stop the parse.
 */
static int
on_value(pgr_pstate *st, trib_jkind type, const char *s, size_t n, bool b)
{
	bool		container = (type == TRIB_J_OBJECT || type == TRIB_J_ARRAY);
	size_t		end = here(st);

	if (st->depth == 0)
		return type == TRIB_J_OBJECT ? 1 : perr(st, "record is not a JSON object");

	if (st->depth == 1)
	{
		pgr_field  *f;

		if (st->topkey == F_UNKNOWN)
			return 1;
		f = &st->f[st->topkey];
		f->type = type;
		f->set = true;
		f->start = container ? end - 1 : value_start(st, st->after_key);
		f->end = end;
		f->b = b;
		if (type == TRIB_J_STRING)
		{
			f->str = trib_arena_strndup(st->arena, s, n);
			f->slen = n;
		}
		if (image_index(st->topkey) >= 0 && type == TRIB_J_OBJECT)
			st->prev_end = end;
		return 1;
	}

	if (st->depth == 2)
	{
		int			img = image_index(st->topkey);
		pgr_strlist *nl = name_list(st);
		int			jn = json_nulls_index(st);

		if (jn >= 0)
			return on_json_nulls_value(st, jn, type, s, n);
		if (img >= 0 && st->f[st->topkey].type == TRIB_J_OBJECT)
		{
			/* A member value of a row image; containers end in on_close. */
			if (!container)
			{
				pgr_memberlist *ml = &st->img[img];

				ml->m[ml->n - 1].vend = end;
				st->prev_end = end;
			}
			return 1;
		}
		if (nl && st->f[st->topkey].type == TRIB_J_ARRAY)
		{
			if (type != TRIB_J_STRING)
				return perr(st, "\"%s\" must hold only strings",
							pgr_field_names[st->topkey]);
			nl->v = trib_xgrow(nl->v, nl->n, &nl->cap, sizeof(char *), 8);
			if (memchr(s, '\0', n))
				return perr(st, "\"%s\" holds a name with a NUL character",
							pgr_field_names[st->topkey]);
			nl->v[nl->n++] = trib_xstrndup(s, n);
			return 1;
		}
		if ((st->topkey == F_COLUMNS || st->topkey == F_RELATIONS) &&
			st->f[st->topkey].type == TRIB_J_ARRAY)
		{
			if (type != TRIB_J_OBJECT)
				return perr(st, "\"%s\" must hold only objects",
							pgr_field_names[st->topkey]);
			st->nelems++;
			st->seen = 0;
			st->subkey = C_UNKNOWN;
			if (st->topkey == F_COLUMNS)
			{
				st->cols = trib_xgrow(st->cols, st->ncols, &st->capcols, sizeof(trib_pgcol), 16);
				memset(&st->cols[st->ncols], 0, sizeof(trib_pgcol));
				st->cols[st->ncols++].base_typmod = -1;
			}
			return 1;
		}
		return 1;
	}

	if (st->depth == 3 &&
		(st->topkey == F_COLUMNS || st->topkey == F_RELATIONS) &&
		st->f[st->topkey].type == TRIB_J_ARRAY)
		return on_element_member(st, type, s, n, b);
	if (st->depth == 3 && json_nulls_index(st) >= 0)
		return on_json_nulls_value(st, json_nulls_index(st), type, s, n);
	if (st->depth == 4 && st->topkey == F_COLUMNS && st->subkey == C_ENUM_LABELS &&
		st->f[F_COLUMNS].type == TRIB_J_ARRAY)
		return on_enum_label(st, type, s, n);
	return 1;
}

/*
 * A truncate's relations element is complete: its schema and table, as
 * written, to st->relx, the elements without their other members
 * (pgrecord_build.c puts them in the event's extra).  The plugin writes
 * exactly these two members, so the text is the element's own.
 */
static void
relations_add(pgr_pstate *st)
{
	static const char *const pre[2] = {"{\"schema\":", ",\"table\":"};

	if (st->relx.len > 0)
		trib_strbuf_addc(&st->relx, ',');
	for (int k = 0; k < 2; k++)
	{
		trib_strbuf_adds(&st->relx, pre[k]);
		trib_strbuf_add(&st->relx, st->text + st->relval[k][0],
						st->relval[k][1] - st->relval[k][0]);
	}
	trib_strbuf_addc(&st->relx, '}');
}

/* A container closes; depth is already decremented. */
static int
on_close(pgr_pstate *st)
{
	size_t		end = here(st);

	if (st->depth == 1 && st->topkey != F_UNKNOWN)
		st->f[st->topkey].end = end;
	else if (st->depth == 2)
	{
		int			img = image_index(st->topkey);

		if (img >= 0 && st->f[st->topkey].type == TRIB_J_OBJECT)
		{
			pgr_memberlist *ml = &st->img[img];

			ml->m[ml->n - 1].vend = end;
			st->prev_end = end;
		}
		else if (st->topkey == F_COLUMNS && st->f[F_COLUMNS].type == TRIB_J_ARRAY)
		{
			if ((st->seen & ((1u << NCOLF) - 1)) != (1u << NCOLF) - 1)
				return perr(st, "column %zu lacks a member (name, type, type_oid, typmod, nullable, pk, identity)",
							st->ncols);
			if ((st->seen & BASE_BITS) != 0 && (st->seen & BASE_BITS) != BASE_BITS)
				return perr(st, "column %zu: base_type, base_type_oid and base_typmod come together",
							st->ncols);
		}
		else if (st->topkey == F_RELATIONS && st->f[F_RELATIONS].type == TRIB_J_ARRAY)
		{
			if (st->seen != 3)
				return perr(st, "\"relations\" element lacks schema or table");
			relations_add(st);
		}
		else if (json_nulls_index(st) >= 0 && st->jn_elems < 2)
			return perr(st, "a \"%s\" array entry needs a column name and positions",
						pgr_field_names[st->topkey]);
	}
	return 1;
}

/* A scalar token (lib/yajl_tokens.c) as a value of the parser's trib_jkind
 * type; null and booleans carry no text here, as on_value expects. */
static int
on_scalar(void *ctx, yajl_type type, const char *s, size_t n)
{
	switch (type)
	{
		case yajl_t_string:
			return on_value(ctx, TRIB_J_STRING, s, n, false);
		case yajl_t_number:
			return on_value(ctx, TRIB_J_NUMBER, s, n, false);
		case yajl_t_true:
		case yajl_t_false:
			return on_value(ctx, TRIB_J_BOOL, NULL, 0, type == yajl_t_true);
		default:
			return on_value(ctx, TRIB_J_NULL, NULL, 0, false);
	}
}

/* An object or array opens: a value at this depth, then one level down. */
static int
on_open(void *ctx, bool array)
{
	pgr_pstate *st = ctx;

	if (!on_value(st, array ? TRIB_J_ARRAY : TRIB_J_OBJECT, NULL, 0, false))
		return 0;
	st->depth++;
	return 1;
}

/* An object or array closes: one level up, then on_close. */
static int
on_end(void *ctx, bool array)
{
	pgr_pstate *st = ctx;

	(void) array;
	st->depth--;
	return on_close(st);
}

/* A key at some depth. */
static int
on_key(void *ctx, const unsigned char *key, size_t n)
{
	pgr_pstate *st = ctx;
	int			i;

	if (st->depth == 1)
	{
		st->topkey = F_UNKNOWN;
		i = pgr_field_lookup((const char *) key, n);
		if (i >= 0)
		{
			if (st->f[i].set)
				return perr(st, "duplicate field \"%s\"", pgr_field_names[i]);
			st->topkey = i;
		}
		st->after_key = here(st);
		return 1;
	}
	if (st->depth == 2)
	{
		int			img = image_index(st->topkey);

		if (img >= 0 && st->f[st->topkey].type == TRIB_J_OBJECT)
		{
			pgr_memberlist *ml = &st->img[img];
			size_t		k = skip_ws(st, st->prev_end);

			if (k < st->len && st->text[k] == ',')
				k = skip_ws(st, k + 1);
			if (k >= st->len || st->text[k] != '"')
				return perr(st, "internal: cannot locate a member of \"%s\"",
							pgr_field_names[st->topkey]);
			ml->m = trib_xgrow(ml->m, ml->n, &ml->cap, sizeof(pgr_member), 16);
			ml->m[ml->n].kstart = k;
			ml->m[ml->n].vend = 0;
			/* the name as written when it has no escapes (not
			 * NUL-terminated: nlen counts), else a decoded copy */
			/* (yajl hands an unescaped key as a pointer into the input:
			 * then no comparison is needed) */
			if (k + n + 2 <= st->len && st->text[k + 1 + n] == '"' &&
				((const char *) key == st->text + k + 1 ||
				 memcmp(st->text + k + 1, key, n) == 0))
				ml->m[ml->n].name = st->text + k + 1;
			else
				ml->m[ml->n].name = trib_arena_strndup(st->arena, (const char *) key, n);
			ml->m[ml->n].nlen = n;
			ml->n++;
		}
		return 1;
	}
	if (st->depth == 3)
	{
		st->subkey = C_UNKNOWN;
		st->after_subkey = here(st);
		if (st->topkey == F_RELATIONS)
		{
			if (n == 6 && memcmp(key, "schema", 6) == 0)
				st->subkey = 0;
			else if (n == 5 && memcmp(key, "table", 5) == 0)
				st->subkey = 1;
			if (st->subkey <= 1 && (st->seen & (1u << st->subkey)))
				return perr(st, "duplicate member in \"relations\"");
		}
		else if (st->topkey == F_COLUMNS)
		{
			for (i = 0; i < NCOLF_ALL; i++)
				if (strlen(colf_names[i]) == n && memcmp(colf_names[i], key, n) == 0)
				{
					if (st->seen & (1u << i))
						return perr(st, "duplicate column member \"%s\"",
									colf_names[i]);
					st->subkey = i;
					break;
				}
		}
	}
	return 1;
}

/* yajl's callbacks, calling the four handlers directly. */
TRIB_YTOK_CALLBACKS(record_callbacks, on_scalar, on_key, on_open, on_end);

/*
 * Free everything the parse state owns, and zero it for the next parse
 * (pgr_pstate, pgrecord_int.h): all before tmask, and the fields tmask says
 * were set.  Field strings and member names are in the arena (reset by
 * the caller); the member arrays go back to the parser for the next
 * record.
 */
static void
pstate_clear(trib_pgrec_parser *p, pgr_pstate *st)
{
	size_t		i;
	int			k;
	uint64_t	set = 0;

	for (k = 0; k < 2; k++)
	{
		p->img[k] = st->img[k];
		p->img[k].n = 0;
	}
	/* only relation and some change records have lists: the usual
	 * record skips the calls */
	for (k = 0; k < 3; k++)
		if (st->names[k].v)
			trib_pgrelcache_free_strv(st->names[k].v, st->names[k].n);
	/* columns and relations elements: relation and truncate records
	 * only (one test for the usual record) */
	if (st->nelems > 0)
	{
		trib_strbuf_free(&st->relx);
		for (i = 0; i < st->ncols; i++)
			trib_pgrelcache_col_clear(&st->cols[i]);
		free(st->cols);
	}
	for (k = 0; k <= TRIB_J_ARRAY; k++)
		set |= st->tmask[k];
	for (; set; set &= set - 1)
		memset(&st->f[__builtin_ctzll(set)], 0, sizeof(pgr_field));
	memset(st, 0, offsetof(pgr_pstate, f));
	st->err[0] = '\0';
}

/* Undo what a fast scan that handed over left in st (pgrecord_fast.c):
 * its fields and image members; its strings stay in the arena until the
 * record is done. */
static void
yajl_restart(pgr_pstate *st)
{
	memset(st->f, 0, sizeof(st->f));
	memset(st->tmask, 0, sizeof(st->tmask));
	st->img[0].n = 0;
	st->img[1].n = 0;
}

/* st->tmask from st->f, after yajl's parse (the fast scan fills it as
 * it goes). */
static void
fill_tmask(pgr_pstate *st)
{
	for (int k = 0; k < NFIELDS; k++)
		if (st->f[k].set)
			st->tmask[st->f[k].type] |= (uint64_t) 1 << k;
}

/* Parse one record: the fast scan of our plugin's usual records, and
 * yajl's parse for whatever the scan does not take. */
bool
trib_pgrec_parser_parse(trib_pgrec_parser *p, const char *text, size_t len,
					trib_pgrec **out, char *errbuf, size_t errlen)
{
	pgr_pstate *st = p->st;		/* zero (pstate_clear) */
	yajl_status ys;
	trib_pgrec *rec = NULL;
	int			kind;
	bool		ok = false;

	*out = NULL;
	st->arena = &p->scratch;
	st->img[0] = p->img[0];
	st->img[1] = p->img[1];
	st->text = text;
	st->len = len;
	st->topkey = F_UNKNOWN;
	st->follow = p->follow;
	st->replay = p->replay_on ? p->replay : NULL;
	if (!p->fast || !pgr_fast_scan(st))
	{
		yajl_restart(st);
		st->h = yajl_alloc(&record_callbacks, &p->yaf, st);
		if (!st->h)
		{
			pstate_clear(p, st);
			return trib_errf(errbuf, errlen, "out of memory");
		}
		ys = yajl_parse(st->h, (const unsigned char *) text, len);
		if (ys == yajl_status_ok)
			ys = yajl_complete_parse(st->h);
		fill_tmask(st);
	}
	else
		ys = yajl_status_ok;
	if (ys != yajl_status_ok)
	{
		if (st->err[0])
			trib_errf(errbuf, errlen, "bad record: %s", st->err);
		else
		{
			unsigned char *m = yajl_get_error(st->h, 0, NULL, 0);

			trib_errf(errbuf, errlen, "bad record: invalid JSON at byte %zu: %s",
					  yajl_get_bytes_consumed(st->h), m ? (char *) m : "?");
			if (m)
				yajl_free_error(st->h, m);
		}
		goto done;
	}
	if (st->f[F_KIND].type != TRIB_J_STRING)
	{
		trib_errf(errbuf, errlen, "bad record: no \"kind\" string");
		goto done;
	}
	for (kind = 0; kind < NKINDS; kind++)
		if (pgr_kind_len[kind] == st->f[F_KIND].slen &&
			pgr_same_short(pgr_kind_names[kind], st->f[F_KIND].str, st->f[F_KIND].slen))
			break;
	if (kind == NKINDS)
	{
		trib_errf(errbuf, errlen, "bad record: unknown kind \"%.*s\"", PGR_STR40(&st->f[F_KIND]));
		goto done;
	}
	if (!pgr_check_spec(st, kind, errbuf, errlen))
		goto done;

	if (kind >= TRIB_PGREC_INSERT && kind <= TRIB_PGREC_MESSAGE)
	{
		/* a change: the record and its event in one allocation */
		pgr_recblock *b = pgr_block_new(p);

		rec = &b->rec;
		rec->ev = &b->ev;
		rec->ev_inline = true;
	}
	else
	{
		/* not trib_xcalloc: glibc's calloc bypasses the per-thread
		 * cache, which this (every begin and commit) needs */
		rec = trib_xmalloc(sizeof(*rec));
		memset(rec, 0, sizeof(*rec));
	}
	rec->kind = (trib_pgrec_kind) kind;
	if (!pgr_fill_tags(p, st, rec, errbuf, errlen) || !pgr_check_kind(rec, errbuf, errlen))
		goto done;
	if (rec->kind == TRIB_PGREC_RELATION)
		ok = pgr_build_relation(p, st, rec, errbuf, errlen);
	else if (rec->kind >= TRIB_PGREC_INSERT && rec->kind <= TRIB_PGREC_MESSAGE)
		ok = pgr_build_event(p, st, rec, errbuf, errlen);
	else
		ok = true;

done:
	if (ok)
		*out = rec;
	else
		trib_pgrec_free(rec);
	if (st->h)
		yajl_free(st->h);
	pstate_clear(p, st);		/* zeroes st->h too */
	trib_arena_reset(&p->scratch);
	return ok;
}

