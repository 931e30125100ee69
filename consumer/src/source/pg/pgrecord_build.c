/*
 * pgrecord_build.c: from a parsed record (pgr_pstate, pgrecord_int.h) to a
 * trib_pgrec: the required fields per kind (pgr_check_spec), the tags
 * every record carries (xid, lsn, seq, ts: pgr_fill_tags, which keeps the
 * last xid, ts and commit_lsn parsed, since every record of a transaction
 * repeats them),
 * the event of a change with its key built from the raw members of its
 * image and, after the fast scan, the index of its after and key (where
 * each member's name and value lie, from the members the scan found:
 * event.h's image index, which the rules read instead of scanning the
 * images again) (pgr_build_event), and a relation record's entry in the relation
 * cache (pgr_build_relation).  Values are copied out byte for byte, never
 * re-formatted.  Each builder frees what it allocated on failure and says
 * why in errbuf.
 */
#include "pgrecord.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"
#include "isodate.h"
#include "pgrecord_int.h"
#include "xalloc.h"

/* ---------------------------------------------------------------------- */
/* small helpers */

/* Read exactly `w` digits at s[*i]. */
static bool
digits(const char *s, size_t n, size_t *i, int w, int *out)
{
	int			v = 0,
				k;

	for (k = 0; k < w; k++)
	{
		if (*i >= n || s[*i] < '0' || s[*i] > '9')
			return false;
		v = v * 10 + (s[(*i)++] - '0');
	}
	*out = v;
	return true;
}

/* The start of the plugin's timestamp (parse_ts), up to its minute:
 * "[+-]YYYY[YYY]-MM-DDTHH:MM"; *i past it and *base the seconds since
 * the epoch at that minute. */
static bool
parse_ts_minute(const char *s, size_t n, size_t *i, int64_t *base)
{
	int			neg = 0,
				ydig = 0,
				mo,
				d,
				h,
				mi;
	int64_t		y = 0;

	if (*i < n && (s[*i] == '+' || s[*i] == '-'))
		neg = s[(*i)++] == '-';
	while (*i < n && s[*i] >= '0' && s[*i] <= '9' && ydig < 7)
	{
		y = y * 10 + (s[(*i)++] - '0');
		ydig++;
	}
	if (ydig < 4 || *i >= n || s[(*i)++] != '-' ||
		!digits(s, n, i, 2, &mo) || *i >= n || s[(*i)++] != '-' ||
		!digits(s, n, i, 2, &d) || *i >= n || s[(*i)++] != 'T' ||
		!digits(s, n, i, 2, &h) || *i >= n || s[(*i)++] != ':' ||
		!digits(s, n, i, 2, &mi))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
		return false;
	if (neg)
		y = -y;
	*base = trib_isodate_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
	return true;
}

/* The rest of the plugin's timestamp (parse_ts) from i, after its
 * minute (base seconds since the epoch): ":SS[.f{1,6}]Z". */
static bool
parse_ts_rest(const char *s, size_t n, size_t i, int64_t base, int64_t *ms,
			  int64_t *us)
{
	int			se;
	int64_t		frac_us = 0,
				secs,
				scale = 100000;

	if (i >= n || s[i++] != ':' || !digits(s, n, &i, 2, &se) || se > 60)
		return false;
	if (i < n && s[i] == '.')
	{
		int			fd = 0;

		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++)
		{
			if (fd >= 6)
				return false;
			frac_us += (s[i] - '0') * scale;
			scale /= 10;
		}
		if (fd == 0)
			return false;
	}
	if (i + 1 != n || s[i] != 'Z')
		return false;
	secs = base + se;
	/* microseconds since 1970 must fit in 64 bits: until about the year
	 * 294,000 (the year is read up to 7 digits) */
	if (secs > INT64_MAX / 1000000 - 1 || secs < INT64_MIN / 1000000 + 1)
		return false;
	*ms = secs * 1000 + frac_us / 1000;
	*us = secs * 1000000 + frac_us;
	return true;
}

/* Parse the plugin's "YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z" into ms and us since
 * the epoch (PostgreSQL's commit timestamps have microseconds; *ms is
 * *us rounded down to the millisecond); *mlen is the length of its
 * minute (parse_ts_minute), *base that minute's seconds. */
static bool
parse_ts(const char *s, size_t n, int64_t *ms, int64_t *us, size_t *mlen,
		 int64_t *base)
{
	size_t		i = 0;

	if (!parse_ts_minute(s, n, &i, base))
		return false;
	*mlen = i;
	return parse_ts_rest(s, n, i, *base, ms, us);
}

/* A JSON kind as the errors name it. */
static const char *const jtype_names[] = {
	[TRIB_J_NULL] = "null", [TRIB_J_BOOL] = "a boolean",
	[TRIB_J_NUMBER] = "a number", [TRIB_J_STRING] = "a string",
	[TRIB_J_OBJECT] = "an object", [TRIB_J_ARRAY] = "an array"
};

/* ---------------------------------------------------------------------- */
/* building records */

/* Raw text of a field's value, as a new string. */
static char *
raw_copy(const pgr_pstate *st, int f)
{
	return trib_xstrndup(st->text + st->f[f].start, st->f[f].end - st->f[f].start);
}

/* A field's decoded string (st->f[f].slen bytes, maybe not NUL-ended);
 * it must not contain NUL.  A string the fast scan kept in the record
 * (raw) cannot: the scan hands over at any control byte, and a NUL in
 * the text comes only from a \u0000 escape, which yajl decodes. */
static bool
field_text(const pgr_pstate *st, int f, const char **out, char *errbuf, size_t errlen)
{
	if (!st->f[f].raw && memchr(st->f[f].str, '\0', st->f[f].slen))
		return trib_errf(errbuf, errlen, "field \"%s\" contains a NUL character",
						 pgr_field_names[f]);
	*out = st->f[f].str;
	return true;
}

/* A field's decoded string, NUL-ended (copied into the arena when it
 * points into the record); it must not contain NUL. */
static bool
field_cstr(const pgr_pstate *st, int f, const char **out, char *errbuf, size_t errlen)
{
	if (!field_text(st, f, out, errbuf, errlen))
		return false;
	if (st->f[f].raw)
		*out = trib_arena_strndup(st->arena, st->f[f].str, st->f[f].slen);
	return true;
}

/* A numeric field as an unsigned integer no larger than max. */
static bool
field_uint(const pgr_pstate *st, int f, uint64_t max, uint64_t *out,
		   char *errbuf, size_t errlen)
{
	if (!parse_uint(st->text + st->f[f].start, st->f[f].end - st->f[f].start,
					max, out))
		return trib_errf(errbuf, errlen, "field \"%s\" is not an integer from 0 to %" PRIu64,
						 pgr_field_names[f], max);
	return true;
}

/* An optional count field (seq, changes, next_seq, discard_through_seq):
 * when the record has it as a number, *out (at most INT64_MAX) and *has
 * set; false with errbuf when its value is not such an integer. */
static bool
field_count(const pgr_pstate *st, int f, uint64_t *out, bool *has,
			char *errbuf, size_t errlen)
{
	if (st->f[f].type != TRIB_J_NUMBER)
		return true;
	if (!field_uint(st, f, INT64_MAX, out, errbuf, errlen))
		return false;
	*has = true;
	return true;
}

/* An LSN field. */
static bool
field_lsn(const pgr_pstate *st, int f, uint64_t *out, char *errbuf, size_t errlen)
{
	if (!trib_lsn_parse_n(st->f[f].str, st->f[f].slen, out))
		return trib_errf(errbuf, errlen, "field \"%s\" is not an LSN (X/Y): \"%.*s\"",
						 pgr_field_names[f], PGR_STR40(&st->f[f]));
	return true;
}

/* Check presence and types of fields against the kind's spec: at once
 * on the masks (st->tmask) when all is well, else field by field in the
 * spec's order, which finds the first fault to report. */
bool
pgr_check_spec(const pgr_pstate *st, int kind, char *errbuf, size_t errlen)
{
	int			j;
	uint64_t	set = 0,
				ok = 0;

	for (j = 0; j <= TRIB_J_ARRAY; j++)
	{
		set |= st->tmask[j];
		ok |= st->tmask[j] & pgr_spec_ok[kind][j];
	}
	if ((pgr_spec_req[kind] & ~set) == 0 && (pgr_spec_named[kind] & set & ~ok) == 0)
		return true;

	for (j = 0; j < pgr_spec_nfields[kind]; j++)
	{
		int			k = pgr_spec_fields[kind][j];
		unsigned	req = pgr_specs[kind].f[k];
		int			want = req & ~0x30u;
		int			have = st->f[k].type;

		if (!st->f[k].set)
		{
			if (req & 0x10)
				return trib_errf(errbuf, errlen, "%s record lacks field \"%s\"",
								 pgr_kind_names[kind], pgr_field_names[k]);
			continue;
		}
		if (want == OBJ_OR_NULL ? (have != TRIB_J_OBJECT && have != TRIB_J_NULL) : have != want)
			return trib_errf(errbuf, errlen, "field \"%s\" of a %s record must be %s, not %s",
							 pgr_field_names[k], pgr_kind_names[kind],
							 want == OBJ_OR_NULL ? "an object or null" : jtype_names[want],
							 jtype_names[have]);
	}
	return true;
}

/* Find a member by name in an image; NULL if absent. */
static const pgr_member *
find_member(const pgr_memberlist *ml, const char *name)
{
	size_t		i,
				n = strlen(name);

	for (i = 0; i < ml->n; i++)
		if (ml->m[i].nlen == n && pgr_same_short(ml->m[i].name, name, n))
			return &ml->m[i];
	return NULL;
}

/* The members of image ml that make rel's key, in the key's order, into
 * ms (rel->nkey entries); false when one is missing. */
static bool
key_members(const trib_pgrel *rel, const pgr_memberlist *ml, const pgr_member **ms)
{
	for (size_t i = 0; i < rel->nkey; i++)
		if ((ms[i] = find_member(ml, rel->key[i])) == NULL)
			return false;
	return true;
}

/* {"k1":v1,...} from the raw members ms[0..n) of an image. */
static char *
build_key(const pgr_pstate *st, const pgr_member *const *ms, size_t n)
{
	size_t		i,
				len = 2;
	char	   *out,
			   *p;

	for (i = 0; i < n; i++)
		len += ms[i]->vend - ms[i]->kstart + 1;
	p = out = trib_xmalloc(len + 1);
	*p++ = '{';
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			*p++ = ',';
		memcpy(p, st->text + ms[i]->kstart, ms[i]->vend - ms[i]->kstart);
		p += ms[i]->vend - ms[i]->kstart;
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

/* The key of a change from its image ml: its members into ms (room for
 * rel->nkey), *nms set; NULL when rel has no key or ml lacks a member. */
static char *
event_key(const pgr_pstate *st, const trib_pgrel *rel, const pgr_memberlist *ml,
		  const pgr_member **ms, size_t *nms)
{
	*nms = 0;
	if (!rel || rel->nkey == 0 || ml->n == 0 || !key_members(rel, ml, ms))
		return NULL;
	*nms = rel->nkey;
	return build_key(st, ms, rel->nkey);
}

/* ---------------------------------------------------------------------- */
/* the image index (event.h) */

/* Member m into ix->m[ix->nm++], its raw "name":value (record bytes
 * [kstart, vend)) at offset `at` of the image's text: its name's bytes
 * follow the opening quote, its value the colon and any whitespace (a
 * byte up to ' ': the fast scan took no other below it).  False when its
 * name is not the raw bytes in the record (a decoded copy: escapes). */
static inline bool
index_member(const pgr_pstate *st, trib_image_index *ix, const pgr_member *m, size_t at)
{
	trib_image_member *im = &ix->m[ix->nm++];
	const char *t = st->text;
	size_t		k = m->kstart + m->nlen + 2;	/* past the closing quote */

	if (m->name != t + m->kstart + 1)
		return false;
	while (k < m->vend && t[k] != ':')
		k++;
	for (k++; k < m->vend && (unsigned char) t[k] <= ' '; k++)
		;
	if (k >= m->vend)
		return false;
	im->name = (uint32_t) (at + 1);
	im->name_len = (uint32_t) m->nlen;
	im->value = (uint32_t) (at + k - m->kstart);
	im->value_end = (uint32_t) (at + m->vend - m->kstart);
	return true;
}

/* Close part `which` of ix: the members since `first`, for text (len
 * bytes). */
static void
index_part(trib_image_index *ix, int which, uint32_t first, const char *text,
		   size_t len)
{
	trib_image_part *pt = &ix->part[which];

	pt->first = first;
	pt->n = ix->nm - first;
	pt->len = (uint32_t) len;
	pt->hash = trib_image_hash(text, len);
}

/*
 * The image index of a change whose `after` is image `new` and whose key
 * was built from members kms[0..nk), or NULL.  Only after the fast scan
 * (pgrecord_fast.c; no yajl handle): it took only text that lib/jscan.h
 * accepts (no escapes, no control bytes, valid UTF-8), which is what the
 * index vouches for (event.h), and its member names are the record's
 * bytes.  Offsets are kept in 32 bits: larger images get none.
 */
static trib_image_index *
image_index(const pgr_pstate *st, const trib_event *ev, const pgr_member *const *kms,
			size_t nk)
{
	const pgr_memberlist *ml = &st->img[1];
	size_t		na = ev->after ? ml->n : 0;
	size_t		klen = ev->key ? strlen(ev->key) : 0;
	size_t		alen = ev->after ? st->f[F_NEW].end - st->f[F_NEW].start : 0;
	trib_image_index *ix;
	bool		ok = true;

	if (st->h != NULL || (ev->after == NULL && ev->key == NULL) ||
		alen >= UINT32_MAX || klen >= UINT32_MAX)
		return NULL;
	ix = trib_xmalloc(sizeof(*ix) + (na + nk) * sizeof(trib_image_member));
	ix->nm = 0;
	ix->part[0].len = ix->part[1].len = UINT32_MAX;
	if (ev->after != NULL)
	{
		for (size_t i = 0; ok && i < na; i++)
			ok = index_member(st, ix, &ml->m[i], ml->m[i].kstart - st->f[F_NEW].start);
		if (ok)
			index_part(ix, TRIB_IMAGE_AFTER, 0, ev->after, alen);
	}
	if (ok && ev->key != NULL)
	{
		size_t		at = 1;
		uint32_t	first = ix->nm;

		for (size_t i = 0; ok && i < nk; i++)
		{
			ok = index_member(st, ix, kms[i], at);
			at += kms[i]->vend - kms[i]->kstart + 1;
		}
		if (ok)
			index_part(ix, TRIB_IMAGE_KEY, first, ev->key, klen);
	}
	if (!ok)
	{
		free(ix);
		return NULL;
	}
	return ix;
}

/* The interned copy of a schema (which 0) or table (1) name of n bytes:
 * the last one again when the text is the same, else a lookup. */
static const char *
intern_name(trib_pgrec_parser *p, int which, const char *s, size_t n)
{
	if (p->last_name[which] && p->last_name_len[which] == n &&
		pgr_same_short(p->last_name[which], s, n))
		return p->last_name[which];
	p->last_name[which] = trib_intern_get(p->names, s, n);
	p->last_name_len[which] = n;
	return p->last_name[which];
}

/* The relation entry of an event's interned schema and table, or NULL:
 * the last answer again for the same names (see rel_cached). */
static const trib_pgrel *
event_relation(trib_pgrec_parser *p, const char *schema, const char *table)
{
	if (!p->rel_cached || p->rel_schema != schema || p->rel_table != table)
	{
		p->rel_last = trib_pgrelcache_find(p->rels, schema, table);
		p->rel_schema = schema;
		p->rel_table = table;
		p->rel_cached = true;
	}
	return p->rel_last;
}

/* Is a field's string, up to a NUL in it, w (as strcmp judged the
 * NUL-ended copies)? */
static bool
field_is(const pgr_field *f, const char *w)
{
	size_t		n = strnlen(f->str, f->slen);

	return n == strlen(w) && memcmp(f->str, w, n) == 0;
}

/* Build the event of a change record. */
bool
pgr_build_event(trib_pgrec_parser *p, pgr_pstate *st, trib_pgrec *rec,
			char *errbuf, size_t errlen)
{
	trib_event *ev = rec->ev;	/* zeroed, inside the record's block */
	const char *schema = NULL,
			   *table = NULL;

	/* naming strings are borrowed from the parser (event.h) */
	ev->source = p->source;
	ev->connector = "postgresql";
	ev->db = p->db;
	ev->txid = rec->xid;
	ev->ts_ms = rec->ts_ms;
	ev->ts_us = rec->ts_us;
	ev->pos.commit_lsn = rec->commit_lsn;
	ev->pos.seq = rec->seq;
	ev->pos.lsn = rec->lsn;

	switch (rec->kind)
	{
		case TRIB_PGREC_INSERT:
			ev->op = TRIB_OP_CREATE;
			break;
		case TRIB_PGREC_UPDATE:
			ev->op = TRIB_OP_UPDATE;
			break;
		case TRIB_PGREC_DELETE:
			ev->op = TRIB_OP_DELETE;
			break;
		case TRIB_PGREC_TRUNCATE:
			ev->op = TRIB_OP_TRUNCATE;
			break;
		default:
			ev->op = TRIB_OP_MESSAGE;
			break;
	}

	if (rec->kind == TRIB_PGREC_INSERT || rec->kind == TRIB_PGREC_UPDATE ||
		rec->kind == TRIB_PGREC_DELETE)
	{
		const trib_pgrel *rel;
		const pgr_member *small[16];
		const pgr_member **kms = small;
		size_t		nk = 0;

		if (!field_text(st, F_SCHEMA, &schema, errbuf, errlen) ||
			!field_text(st, F_TABLE, &table, errbuf, errlen))
			return false;
		ev->schema = intern_name(p, 0, schema, st->f[F_SCHEMA].slen);
		ev->table = intern_name(p, 1, table, st->f[F_TABLE].slen);
		if (st->f[F_OLD].type == TRIB_J_OBJECT)
			ev->before = raw_copy(st, F_OLD);
		if (st->f[F_NEW].type == TRIB_J_OBJECT)
			ev->after = raw_copy(st, F_NEW);
		if (st->f[F_UNCHANGED_TOAST].type == TRIB_J_ARRAY)
			ev->unchanged = raw_copy(st, F_UNCHANGED_TOAST);
		if (st->njn[0] > 0 && rec->kind != TRIB_PGREC_DELETE)
			ev->after_json_nulls = raw_copy(st, F_JSON_NULLS);
		if (st->njn[1] > 0 && rec->kind != TRIB_PGREC_INSERT)
			ev->before_json_nulls = raw_copy(st, F_OLD_JSON_NULLS);
		rel = event_relation(p, ev->schema, ev->table);
		ev->rel = rel ? rel->view : NULL;
		if (rel && rel->nkey > sizeof(small) / sizeof(small[0]))
			kms = trib_xmalloc(rel->nkey * sizeof(*kms));
		if (rec->kind == TRIB_PGREC_DELETE)
			ev->key = event_key(st, rel, &st->img[0], kms, &nk);
		else if ((ev->key = event_key(st, rel, &st->img[1], kms, &nk)) == NULL)
			ev->key = event_key(st, rel, &st->img[0], kms, &nk);
		if (p->index_images)
			ev->image_index = image_index(st, ev, kms, nk);
		if (kms != small)
			free(kms);
		return true;
	}
	if (rec->kind == TRIB_PGREC_TRUNCATE)
	{
		/* the elements' schema and table as written, members the
		 * parser does not know left out (pgrecord_scan.c) */
		size_t		n = st->relx.len;
		char	   *x = trib_xmalloc(n + 80);

		snprintf(x, n + 80, "{\"relations\":[%.*s],\"cascade\":%s,\"restart_identity\":%s}",
				 (int) n, n ? st->relx.data : "",
				 st->f[F_CASCADE].b ? "true" : "false",
				 st->f[F_RESTART_IDENTITY].b ? "true" : "false");
		ev->extra = x;
		return true;
	}
	/* message */
	{
		size_t		np = st->f[F_PREFIX].end - st->f[F_PREFIX].start;
		size_t		ne = st->f[F_ENCODING].end - st->f[F_ENCODING].start;
		size_t		nc = st->f[F_CONTENT].end - st->f[F_CONTENT].start;
		size_t		n = np + ne + nc + 80;
		char	   *x;

		if (!field_is(&st->f[F_ENCODING], "utf8") &&
			!field_is(&st->f[F_ENCODING], "base64"))
			return trib_errf(errbuf, errlen, "message encoding must be utf8 or base64");
		x = trib_xmalloc(n);
		snprintf(x, n, "{\"transactional\":%s,\"prefix\":%.*s,\"encoding\":%.*s,\"content\":%.*s}",
				 rec->transactional ? "true" : "false",
				 (int) np, st->text + st->f[F_PREFIX].start,
				 (int) ne, st->text + st->f[F_ENCODING].start,
				 (int) nc, st->text + st->f[F_CONTENT].start);
		ev->extra = x;
		return true;
	}
}

/* Build a relation entry from the parse and install it. */
bool
pgr_build_relation(trib_pgrec_parser *p, pgr_pstate *st, trib_pgrec *rec,
			   char *errbuf, size_t errlen)
{
	trib_pgrel	r;
	const char *schema = NULL,
			   *table = NULL,
			   *ri = NULL;
	uint64_t	relid = 0;
	size_t		i,
				j;

	if (!field_cstr(st, F_SCHEMA, &schema, errbuf, errlen) ||
		!field_cstr(st, F_TABLE, &table, errbuf, errlen) ||
		!field_cstr(st, F_REPLICA_IDENTITY, &ri, errbuf, errlen) ||
		!field_uint(st, F_RELID, UINT32_MAX, &relid, errbuf, errlen))
		return false;
	if (strcmp(ri, "default") && strcmp(ri, "index") && strcmp(ri, "full") &&
		strcmp(ri, "nothing"))
		return trib_errf(errbuf, errlen, "replica_identity must be default, index, full or nothing");
	/* Key columns must be columns of the relation. */
	for (j = 0; j < 2; j++)
		for (i = 0; i < st->names[j].n; i++)
		{
			size_t		c;

			for (c = 0; c < st->ncols; c++)
				if (strcmp(st->cols[c].name, st->names[j].v[i]) == 0)
					break;
			if (c == st->ncols)
				return trib_errf(errbuf, errlen, "%s column \"%.64s\" is not among the columns",
								 j == 0 ? "primary_key" : "identity_key",
								 st->names[j].v[i]);
		}

	memset(&r, 0, sizeof(r));
	r.relid = (uint32_t) relid;
	r.schema = trib_xstrdup(schema);
	r.table = trib_xstrdup(table);
	r.replica_identity = trib_xstrdup(ri);
	r.cols = st->cols;
	r.ncols = st->ncols;
	st->cols = NULL;
	st->ncols = st->capcols = 0;
	r.primary_key = st->names[0].v;
	r.npk = st->names[0].n;
	st->names[0].v = NULL;
	st->names[0].n = 0;
	r.identity_key = st->names[1].v;
	r.nik = st->names[1].n;
	st->names[1].v = NULL;
	st->names[1].n = 0;
	rec->rel = trib_pgrelcache_install(p->rels, &r);
	p->rel_cached = false;		/* entries were replaced or added */
	return true;
}

/* Text equal to a remembered value of len bytes? */
static bool
same_text(const pgr_field *f, const char *mem, size_t len)
{
	return len > 0 && f->slen == len && pgr_same_short(f->str, mem, len);
}

/* The raw text of field f (a number) equal to a remembered one of len
 * bytes? */
static bool
same_span(const pgr_pstate *st, int f, const char *mem, size_t len)
{
	return len > 0 && st->f[f].end - st->f[f].start == len &&
		pgr_same_short(st->text + st->f[f].start, mem, len);
}

/* Remember a parsed text (when it fits) for the next record. */
static void
remember(const pgr_field *f, char *mem, size_t cap, size_t *len)
{
	*len = 0;
	if (f->slen < cap)
	{
		memcpy(mem, f->str, f->slen);
		*len = f->slen;
	}
}

/* Fill the record's tags from the parse. */
bool
pgr_fill_tags(trib_pgrec_parser *p, const pgr_pstate *st, trib_pgrec *rec,
		  char *errbuf, size_t errlen)
{
	uint64_t	v;

	if (same_span(st, F_XID, p->last_xid, p->last_xid_len))
		rec->xid = p->last_xid_val;
	else
	{
		if (!field_uint(st, F_XID, UINT32_MAX, &v, errbuf, errlen))
			return false;
		rec->xid = (uint32_t) v;
		p->last_xid_len = 0;
		if (st->f[F_XID].end - st->f[F_XID].start <= sizeof(p->last_xid))
		{
			p->last_xid_len = st->f[F_XID].end - st->f[F_XID].start;
			memcpy(p->last_xid, st->text + st->f[F_XID].start, p->last_xid_len);
			p->last_xid_val = rec->xid;
		}
	}
	if (st->f[F_SUBXID].type == TRIB_J_NUMBER)
	{
		if (!field_uint(st, F_SUBXID, UINT32_MAX, &v, errbuf, errlen))
			return false;
		rec->subxid = (uint32_t) v;
	}
	if (st->f[F_COMMIT_LSN].type == TRIB_J_STRING)
	{
		if (same_text(&st->f[F_COMMIT_LSN], p->last_clsn, p->last_clsn_len))
			rec->commit_lsn = p->last_clsn_val;
		else
		{
			if (!field_lsn(st, F_COMMIT_LSN, &rec->commit_lsn, errbuf, errlen))
				return false;
			remember(&st->f[F_COMMIT_LSN], p->last_clsn, sizeof(p->last_clsn),
					 &p->last_clsn_len);
			p->last_clsn_val = rec->commit_lsn;
		}
		rec->has_commit_lsn = true;
	}
	if (st->f[F_END_LSN].type == TRIB_J_STRING &&
		!field_lsn(st, F_END_LSN, &rec->end_lsn, errbuf, errlen))
		return false;
	if (st->f[F_LSN].type == TRIB_J_STRING &&
		!field_lsn(st, F_LSN, &rec->lsn, errbuf, errlen))
		return false;
	if (st->f[F_TS].type == TRIB_J_STRING)
	{
		if (same_text(&st->f[F_TS], p->last_ts, p->last_ts_len))
		{
			rec->ts_ms = p->last_ts_ms;
			rec->ts_us = p->last_ts_us;
		}
		else
		{
			const pgr_field *f = &st->f[F_TS];
			size_t		mlen = p->last_ts_mlen;
			int64_t		base = p->last_ts_base;
			bool		ok;

			/* the same minute as the last ts: only the seconds parsed */
			if (mlen > 0 && f->slen > mlen && pgr_same_short(f->str, p->last_ts, mlen))
				ok = parse_ts_rest(f->str, f->slen, mlen, base, &rec->ts_ms, &rec->ts_us);
			else
				ok = parse_ts(f->str, f->slen, &rec->ts_ms, &rec->ts_us, &mlen, &base);
			if (!ok)
				return trib_errf(errbuf, errlen, "field \"ts\" is not an ISO 8601 UTC timestamp: \"%.*s\"",
								 PGR_STR40(f));
			remember(f, p->last_ts, sizeof(p->last_ts), &p->last_ts_len);
			p->last_ts_ms = rec->ts_ms;
			p->last_ts_us = rec->ts_us;
			p->last_ts_mlen = p->last_ts_len > 0 ? mlen : 0;
			p->last_ts_base = base;
		}
		rec->has_ts = true;
	}
	if (!field_count(st, F_SEQ, &rec->seq, &rec->has_seq, errbuf, errlen) ||
		!field_count(st, F_CHANGES, &rec->changes, &rec->has_changes, errbuf, errlen) ||
		!field_count(st, F_NEXT_SEQ, &rec->next_seq, &rec->has_next_seq, errbuf, errlen) ||
		!field_count(st, F_DISCARD_THROUGH_SEQ, &rec->discard_through_seq,
					 &rec->has_discard_through, errbuf, errlen))
		return false;
	rec->first = st->f[F_FIRST].type == TRIB_J_BOOL && st->f[F_FIRST].b;
	rec->discard = st->f[F_DISCARD].type == TRIB_J_BOOL && st->f[F_DISCARD].b;
	rec->transactional = st->f[F_TRANSACTIONAL].type == TRIB_J_BOOL &&
		st->f[F_TRANSACTIONAL].b;
	if (st->f[F_GID].type == TRIB_J_STRING)
	{
		const char *gid = NULL;

		if (!field_cstr(st, F_GID, &gid, errbuf, errlen))
			return false;
		rec->gid = trib_xstrdup(gid);
	}
	if (st->f[F_PREFIX].type == TRIB_J_STRING)
		rec->prefix = trib_xstrndup(st->f[F_PREFIX].str, st->f[F_PREFIX].slen);
	return true;
}

/* Checks that depend on the kind beyond field types. */
bool
pgr_check_kind(const trib_pgrec *rec, char *errbuf, size_t errlen)
{
	bool		change = rec->kind >= TRIB_PGREC_INSERT &&
		rec->kind <= TRIB_PGREC_MESSAGE;

	if (change && rec->kind == TRIB_PGREC_MESSAGE && !rec->transactional &&
		!rec->has_commit_lsn)
		return trib_errf(errbuf, errlen, "non-transactional message lacks commit_lsn");
	if (change && !rec->has_commit_lsn && rec->has_ts)
		return trib_errf(errbuf, errlen, "%s record has ts but no commit_lsn",
						 pgr_kind_names[rec->kind]);
	return true;
}

