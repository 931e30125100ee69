/*
 * rules.c: compiling and applying transform rules; see rules.h.
 *
 * Layout: compilation (paths, keys, thresholds, metrics), the per-event
 * context (lazily parsed images), one function per rule type, derived
 * relations for shape rules, and the driver trib_rules_apply().
 *
 * Determinism.  Every rule that invents a value (hash, sample) derives it
 * from HMAC-SHA256 under the rule's key, so the same input gives the same
 * output in every run, table and process.
 */
#include "rules.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jsondoc.h"
#include "strbuf.h"

#define IMG_BEFORE 0
#define IMG_AFTER 1
#define IMG_KEY 2
#define NIMG 3

/* The key `sample` uses without a configured one: public, so anyone can
 * recompute the sample; set a key to make it unpredictable. */
#define SAMPLE_DEFAULT_KEY "tributary-sample-v1"

typedef struct rule
{
	const trib_rule_conf *c;
	trib_jpath *paths;
	int			npaths;
	trib_jpath	by;
	bool		has_by;
	uint64_t	threshold;		/* sample: keep when hash < threshold */
	bool		keep_all;		/* sample: 100% */
	EVP_MAC_CTX *mac;			/* hash, sample: keyed once */
	trib_metric *m_selected;	/* events the rule applied to */
	trib_metric *m_pass;		/* quality */
	trib_metric *m_fail;
	/* quality check: unique, the values seen in this batch */
	char	  **seen;
	size_t		seen_cap;
	size_t		seen_n;
} rule;

/* A relation reshaped by the shape rules that select its table. */
typedef struct derived
{
	const trib_relation *src;
	uint32_t	version;
	trib_relation *rel;			/* NULL: no shape rule applies */
} derived;

struct trib_rules
{
	rule	   *r;
	int			n;
	derived    *d;
	size_t		nd;
	size_t		dcap;
	trib_metric_family *f_dead;
	bool		dlq_images;		/* dead-letter events keep their row images */
};

/* One event while the rules run. */
typedef struct evctx
{
	trib_event *ev;
	yajl_val	img[NIMG];
	bool		parsed[NIMG];
	bool		dirty[NIMG];
	bool		reshaped;
	const rule *cur;
	const char *why;			/* dead-letter reason (static text) */
	const char *why_field;
	char		reason[256];	/* why points here for quality failures */
	trib_strbuf tags;
} evctx;

static EVP_MAC_CTX *hmac_new(const char *key);

/* ---- compilation -------------------------------------------------------- */

static bool
compile_rule(rule *r, const trib_rule_conf *c, trib_metrics *m, char *errbuf, size_t errlen)
{
	r->c = c;
	r->npaths = (int) c->fields.count;
	r->paths = trib_xcalloc(c->fields.count + 1, sizeof(trib_jpath));
	for (size_t i = 0; i < c->fields.count; i++)
		if (!trib_jpath_parse(c->fields.items[i], &r->paths[i], errbuf, errlen))
			return false;
	if (c->by != NULL)
	{
		if (!trib_jpath_parse(c->by, &r->by, errbuf, errlen))
			return false;
		r->has_by = true;
	}
	if (c->type == TRIB_RULE_HASH || c->type == TRIB_RULE_SAMPLE)
		r->mac = hmac_new(c->key ? c->key : SAMPLE_DEFAULT_KEY);
	if (c->type == TRIB_RULE_SAMPLE)
	{
		long double pct = strtold(c->percent, NULL);

		r->keep_all = pct >= 100.0L;
		r->threshold = (uint64_t) (pct / 100.0L * 18446744073709551616.0L);
	}
	if (m != NULL)
	{
		trib_metric_family *f = trib_metrics_counter(m, "tributary_rule_events_total",
													 "Events a transform rule applied to.", "rule,type");

		r->m_selected = trib_metric_get(f, c->name, c->type_name);
		if (c->type == TRIB_RULE_QUALITY)
		{
			f = trib_metrics_counter(m, "tributary_quality_checks_total",
									 "Values a data-quality rule tested, by result.",
									 "rule,result");
			r->m_pass = trib_metric_get(f, c->name, "pass");
			r->m_fail = trib_metric_get(f, c->name, "fail");
		}
	}
	return true;
}

trib_rules *
trib_rules_new(const trib_config *cfg, trib_metrics *metrics, char *errbuf, size_t errlen)
{
	trib_rules *rs = trib_xcalloc(1, sizeof(*rs));

	rs->r = trib_xcalloc(cfg->nrules + 1, sizeof(rule));
	rs->dlq_images = cfg->dead_letter_images == TRIB_DLQ_IMAGES_ORIGINAL;
	for (size_t i = 0; i < cfg->nrules; i++)
	{
		char		e[256];

		rs->n++;
		if (!compile_rule(&rs->r[i], &cfg->rules[i], metrics, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "transform %s: %s", cfg->rules[i].name, e);
			trib_rules_free(rs);
			return NULL;
		}
	}
	if (metrics != NULL)
		rs->f_dead = trib_metrics_counter(metrics, "tributary_dead_letter_events_total",
										  "Events sent to the dead-letter sink, by rule.", "rule");
	return rs;
}

bool
trib_rules_empty(const trib_rules *rs)
{
	return rs == NULL || rs->n == 0;
}

static void
seen_clear(rule *r)
{
	for (size_t i = 0; i < r->seen_cap; i++)
	{
		free(r->seen[i]);
		r->seen[i] = NULL;
	}
	r->seen_n = 0;
}

void
trib_rules_batch_end(trib_rules *rs)
{
	if (rs == NULL)
		return;
	for (int i = 0; i < rs->n; i++)
		if (rs->r[i].seen_n > 0)
			seen_clear(&rs->r[i]);
}

static void
free_relation(trib_relation *rel)
{
	if (rel == NULL)
		return;
	for (int i = 0; i < rel->ncolumns; i++)
	{
		free(rel->columns[i].name);
		free(rel->columns[i].type);
	}
	free(rel->columns);
	free(rel->schema);
	free(rel->table);
	free(rel);
}

void
trib_rules_free(trib_rules *rs)
{
	if (rs == NULL)
		return;
	for (int i = 0; i < rs->n; i++)
	{
		rule	   *r = &rs->r[i];

		for (int j = 0; j < r->npaths; j++)
			trib_jpath_free(&r->paths[j]);
		free(r->paths);
		if (r->has_by)
			trib_jpath_free(&r->by);
		seen_clear(r);
		free(r->seen);
		EVP_MAC_CTX_free(r->mac);
	}
	for (size_t i = 0; i < rs->nd; i++)
		free_relation(rs->d[i].rel);
	free(rs->d);
	free(rs->r);
	free(rs);
}

/* ---- selection ------------------------------------------------------------ */

static bool
glob_any(const trib_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (fnmatch(l->items[i], s ? s : "", 0) == 0)
			return true;
	return false;
}

static bool
table_selected(const trib_strlist *l, const char *schema, const char *table)
{
	char		qual[512];

	if (l->count == 0)
		return true;
	snprintf(qual, sizeof(qual), "%s.%s", schema ? schema : "", table ? table : "");
	for (size_t i = 0; i < l->count; i++)
	{
		const char *g = l->items[i];

		if (fnmatch(g, strchr(g, '.') ? qual : (table ? table : ""), 0) == 0)
			return true;
	}
	return false;
}

static bool
selected(const trib_rule_conf *c, const trib_event *ev)
{
	if (c->sources.count > 0 && !glob_any(&c->sources, ev->source))
		return false;
	return table_selected(&c->tables, ev->schema, ev->table);
}

/* ---- images ----------------------------------------------------------------- */

static char **
img_text(trib_event *ev, int i)
{
	return i == IMG_BEFORE ? &ev->before : i == IMG_AFTER ? &ev->after : &ev->key;
}

/* The parsed image i, or NULL when the event has none. */
static yajl_val
img_get(evctx *x, int i, char *errbuf, size_t errlen)
{
	char	  **t = img_text(x->ev, i);

	if (!x->parsed[i])
	{
		x->parsed[i] = true;
		if (*t != NULL && (x->img[i] = trib_jdoc_parse(*t, errbuf, errlen)) == NULL)
			return NULL;
	}
	return x->img[i];
}

/* Parse the three images; false when one is not JSON. */
static bool
img_all(evctx *x, char *errbuf, size_t errlen)
{
	for (int i = 0; i < NIMG; i++)
		if (img_get(x, i, errbuf, errlen) == NULL && *img_text(x->ev, i) != NULL)
			return false;
	return true;
}

/* Write the changed images back into the event. */
static void
img_finish(evctx *x)
{
	for (int i = 0; i < NIMG; i++)
	{
		if (x->dirty[i])
		{
			char	  **t = img_text(x->ev, i);

			free(*t);
			*t = x->img[i] ? trib_jdoc_dump(x->img[i]) : NULL;
		}
		if (x->img[i])
			yajl_tree_free(x->img[i]);
	}
}

/* ---- value helpers ---------------------------------------------------------- */

/* Number of UTF-8 characters in s. */
static size_t
utf8_len(const char *s)
{
	size_t		n = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Byte offset of character number `ch` in s. */
static size_t
utf8_offset(const char *s, size_t ch)
{
	size_t		n = 0;
	size_t		i = 0;

	for (; s[i]; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
		{
			if (n == ch)
				return i;
			n++;
		}
	return i;
}

static void
add_mask(trib_strbuf *b, const char *mask_char, size_t n)
{
	for (size_t i = 0; i < n; i++)
		trib_strbuf_adds(b, mask_char);
}

static void
replace(yajl_val *slot, yajl_val v)
{
	yajl_tree_free(*slot);
	*slot = v;
}

/* A keyed HMAC-SHA256 context, initialised once per rule; each use
 * works on a copy (EVP_MAC_CTX_dup is much cheaper than a new init). */
static EVP_MAC_CTX *
hmac_new(const char *key)
{
	EVP_MAC    *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *mc = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM	params[2];

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (mc == NULL || !EVP_MAC_init(mc, (const unsigned char *) key, strlen(key), params))
		abort();
	EVP_MAC_free(mac);			/* the context keeps its own reference */
	return mc;
}

/* HMAC(len(ctx) as 4 bytes big-endian || ctx || msg) into out[32]. */
static void
keyed_hash(EVP_MAC_CTX *base, const char *ctx, const char *msg, size_t msglen,
		   unsigned char out[32])
{
	EVP_MAC_CTX *mc = EVP_MAC_CTX_dup(base);
	unsigned char lenbuf[4];
	size_t		clen = ctx ? strlen(ctx) : 0;
	size_t		outl = 0;

	if (mc == NULL)
		abort();
	lenbuf[0] = (unsigned char) (clen >> 24);
	lenbuf[1] = (unsigned char) (clen >> 16);
	lenbuf[2] = (unsigned char) (clen >> 8);
	lenbuf[3] = (unsigned char) clen;
	EVP_MAC_update(mc, lenbuf, 4);
	if (clen)
		EVP_MAC_update(mc, (const unsigned char *) ctx, clen);
	EVP_MAC_update(mc, (const unsigned char *) msg, msglen);
	EVP_MAC_final(mc, out, &outl, 32);
	EVP_MAC_CTX_free(mc);
}

static void
encode_digest(trib_strbuf *b, const unsigned char *d, size_t n, trib_encoding enc)
{
	static const char hex[] = "0123456789abcdef";

	if (enc == TRIB_ENC_HEX)
	{
		for (size_t i = 0; i < n; i++)
		{
			trib_strbuf_addc(b, hex[d[i] >> 4]);
			trib_strbuf_addc(b, hex[d[i] & 15]);
		}
		return;
	}
	else
	{
		unsigned char out[64];
		int			len = EVP_EncodeBlock(out, d, (int) n);

		for (int i = 0; i < len; i++)
		{
			char		ch = (char) out[i];

			if (enc == TRIB_ENC_BASE64URL)
			{
				if (ch == '=')
					break;
				ch = ch == '+' ? '-' : ch == '/' ? '_' : ch;
			}
			trib_strbuf_addc(b, ch);
		}
	}
}

/* ---- value rules ------------------------------------------------------------ */

typedef struct value_arg
{
	evctx	   *x;
	const rule *r;
	bool		changed;
} value_arg;

/* Mask every scalar leaf of v (objects and arrays keep their shape). */
static void
redact_mask(yajl_val *slot, const trib_rule_conf *c)
{
	yajl_val	v = *slot;
	const char *text;

	if (v == NULL || YAJL_IS_NULL(v))
		return;
	if (YAJL_IS_OBJECT(v))
	{
		for (size_t i = 0; i < v->u.object.len; i++)
			redact_mask(&v->u.object.values[i], c);
		return;
	}
	if (YAJL_IS_ARRAY(v))
	{
		for (size_t i = 0; i < v->u.array.len; i++)
			redact_mask(&v->u.array.values[i], c);
		return;
	}
	text = trib_jdoc_scalar_text(v);
	{
		trib_strbuf b = {0};
		char	   *s;

		add_mask(&b, c->mask_char, c->length > 0 ? (size_t) c->length : utf8_len(text));
		s = trib_strbuf_finish(&b);
		replace(slot, trib_jdoc_string(s ? s : ""));
		free(s);
	}
}

static bool
do_redact(yajl_val *slot, value_arg *a)
{
	const trib_rule_conf *c = a->r->c;

	if (c->with == TRIB_REDACT_NULL)
		replace(slot, trib_jdoc_null());
	else if (c->with == TRIB_REDACT_VALUE)
		replace(slot, trib_jdoc_string(c->value));
	else
		redact_mask(slot, c);
	return true;
}

static bool
do_partial(yajl_val *slot, const char *name, value_arg *a)
{
	const trib_rule_conf *c = a->r->c;
	const char *text = trib_jdoc_scalar_text(*slot);
	trib_strbuf b = {0};
	size_t		n;
	char	   *out;

	if (*slot == NULL || YAJL_IS_NULL(*slot))
		return true;
	if (text == NULL)
	{
		a->x->why = "partial needs a string or number, not an object or array";
		a->x->why_field = name;
		return false;
	}
	n = utf8_len(text);
	if (c->keep_email_domain && strchr(text, '@') != NULL)
	{
		const char *at = strrchr(text, '@');
		size_t		local = utf8_len(text) - utf8_len(at);

		add_mask(&b, c->mask_char, local);
		trib_strbuf_adds(&b, at);
	}
	else if ((size_t) c->keep_first + (size_t) c->keep_last >= n)
		add_mask(&b, c->mask_char, n);	/* too short to hide anything: all */
	else
	{
		size_t		first = utf8_offset(text, (size_t) c->keep_first);
		size_t		last = utf8_offset(text, n - (size_t) c->keep_last);

		trib_strbuf_add(&b, text, first);
		add_mask(&b, c->mask_char, n - (size_t) c->keep_first - (size_t) c->keep_last);
		trib_strbuf_adds(&b, text + last);
	}
	out = trib_strbuf_finish(&b);
	replace(slot, trib_jdoc_string(out ? out : ""));
	free(out);
	return true;
}

static bool
do_hash(yajl_val *slot, const char *name, value_arg *a)
{
	const trib_rule_conf *c = a->r->c;
	unsigned char d[32];
	trib_strbuf b = {0};
	char	   *dump = NULL;
	const char *text;
	char	   *out;

	if (*slot == NULL || YAJL_IS_NULL(*slot))
		return true;
	text = trib_jdoc_scalar_text(*slot);
	if (text == NULL)
		text = dump = trib_jdoc_dump(*slot);
	keyed_hash(a->r->mac, c->context ? c->context : name, text, strlen(text), d);
	free(dump);
	encode_digest(&b, d, sizeof(d), c->encoding);
	out = trib_strbuf_finish(&b);
	if (c->length > 0 && strlen(out) > (size_t) c->length)
		out[c->length] = '\0';
	replace(slot, trib_jdoc_string(out));
	free(out);
	return true;
}

static bool
is_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.')
	{
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static bool
is_json_integer(const char *s)
{
	return is_json_number(s) && strpbrk(s, ".eE") == NULL;
}

static bool
do_cast(yajl_val *slot, const char *name, value_arg *a)
{
	const char *text;

	if (*slot == NULL || YAJL_IS_NULL(*slot))
		return true;
	text = trib_jdoc_scalar_text(*slot);
	a->x->why_field = name;
	switch (a->r->c->to)
	{
		case TRIB_CAST_STRING:
			if (text == NULL)
			{
				char	   *d = trib_jdoc_dump(*slot);

				replace(slot, trib_jdoc_string(d));
				free(d);
			}
			else if (!YAJL_IS_STRING(*slot))
				replace(slot, trib_jdoc_string(text));
			return true;
		case TRIB_CAST_INTEGER:
			if (text == NULL || !is_json_integer(text))
			{
				a->x->why = "cast: the value is not an integer";
				return false;
			}
			replace(slot, trib_jdoc_number(text));
			return true;
		case TRIB_CAST_NUMBER:
			if (text == NULL || !is_json_number(text))
			{
				a->x->why = "cast: the value is not a number";
				return false;
			}
			replace(slot, trib_jdoc_number(text));
			return true;
		case TRIB_CAST_BOOLEAN:
			if (text && (strcmp(text, "true") == 0 || strcmp(text, "t") == 0 ||
						 strcmp(text, "1") == 0))
				replace(slot, trib_jdoc_bool(true));
			else if (text && (strcmp(text, "false") == 0 || strcmp(text, "f") == 0 ||
							  strcmp(text, "0") == 0))
				replace(slot, trib_jdoc_bool(false));
			else
			{
				a->x->why = "cast: the value is not a boolean (accepted: true, false, t, f, 1, 0)";
				return false;
			}
			return true;
	}
	return true;
}

static bool
value_cb(yajl_val *slot, const char *name, void *arg)
{
	value_arg  *a = arg;
	bool		ok;

	switch (a->r->c->type)
	{
		case TRIB_RULE_REDACT:
			ok = do_redact(slot, a);
			break;
		case TRIB_RULE_PARTIAL:
			ok = do_partial(slot, name, a);
			break;
		case TRIB_RULE_HASH:
			ok = do_hash(slot, name, a);
			break;
		case TRIB_RULE_CAST:
			ok = do_cast(slot, name, a);
			break;
		default:
			ok = true;
	}
	a->changed = true;
	return ok;
}

/* A value rule on every image; the key only for top-level columns. */
static bool
apply_value_rule(evctx *x, const rule *r, char *errbuf, size_t errlen)
{
	value_arg	a = {x, r, false};

	if (!img_all(x, errbuf, errlen))
		return false;
	for (int p = 0; p < r->npaths; p++)
		for (int i = 0; i < NIMG; i++)
		{
			if (x->img[i] == NULL || (i == IMG_KEY && r->paths[p].nseg > 1) ||
				(i == IMG_KEY && r->c->type == TRIB_RULE_CAST))
				continue;
			a.changed = false;
			if (!trib_jpath_each(x->img[i], &r->paths[p], value_cb, &a))
				return false;
			if (a.changed)
				x->dirty[i] = true;
		}
	return true;
}

/* ---- shape rules ------------------------------------------------------------ */

static bool
any_path_first(const rule *r, const char *column)
{
	for (int p = 0; p < r->npaths; p++)
		if (r->paths[p].nseg == 1 && trib_jpath_first_matches(&r->paths[p], column))
			return true;
	return false;
}

/* keep: remove top-level keys no path names; nested paths keep their
 * column whole. */
static void
keep_only(yajl_val obj, const rule *r)
{
	for (size_t i = 0; obj && i < obj->u.object.len;)
	{
		bool		keep = false;

		for (int p = 0; p < r->npaths && !keep; p++)
			keep = trib_jpath_first_matches(&r->paths[p], obj->u.object.keys[i]);
		if (keep)
			i++;
		else
			trib_jdoc_remove(obj, obj->u.object.keys[i]);
	}
}

static void
rename_keys(yajl_val obj, const trib_kvlist *renames)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return;
	for (size_t i = 0; i < obj->u.object.len; i++)
	{
		const char *to = trib_kvlist_get(renames, obj->u.object.keys[i]);

		if (to != NULL)
		{
			free((char *) obj->u.object.keys[i]);
			obj->u.object.keys[i] = trib_xstrdup(to);
		}
	}
}

static bool
apply_shape_rule(evctx *x, const rule *r, char *errbuf, size_t errlen)
{
	if (!img_all(x, errbuf, errlen))
		return false;
	for (int i = IMG_BEFORE; i <= IMG_AFTER; i++)
	{
		if (x->img[i] == NULL)
			continue;
		if (r->c->type == TRIB_RULE_DROP)
			for (int p = 0; p < r->npaths; p++)
				trib_jpath_delete(x->img[i], &r->paths[p]);
		else if (r->c->type == TRIB_RULE_KEEP)
			keep_only(x->img[i], r);
		else if (r->c->type == TRIB_RULE_RENAME)
			rename_keys(x->img[i], &r->c->renames);
		x->dirty[i] = true;
	}
	if (r->c->type == TRIB_RULE_RENAME && x->img[IMG_KEY] != NULL)
	{
		rename_keys(x->img[IMG_KEY], &r->c->renames);
		x->dirty[IMG_KEY] = true;
	}
	x->reshaped = true;
	return true;
}

/* ---- sample, route, flatten ------------------------------------------------- */

typedef struct first_arg
{
	const char *text;
	bool		found;
	bool		is_null;
} first_arg;

static bool
first_cb(yajl_val *slot, const char *name, void *arg)
{
	first_arg  *f = arg;

	(void) name;
	f->found = true;
	f->is_null = *slot == NULL || YAJL_IS_NULL(*slot);
	f->text = trib_jdoc_scalar_text(*slot);
	return false;				/* the first match is enough */
}

/* The text of the first value `path` reaches in the row (after, else
 * before); NULL when missing, null, or not a scalar. */
static const char *
row_value(evctx *x, const trib_jpath *path, char *errbuf, size_t errlen)
{
	first_arg	f = {0};
	yajl_val	row;

	if (!img_all(x, errbuf, errlen))
		return NULL;
	row = x->img[IMG_AFTER] ? x->img[IMG_AFTER] : x->img[IMG_BEFORE];
	trib_jpath_each(row, path, first_cb, &f);
	return f.found && !f.is_null ? f.text : NULL;
}

/* The text sample decides on: `by`, or the key's only value, or the key. */
static const char *
sample_input(evctx *x, const rule *r, char **tofree, char *errbuf, size_t errlen)
{
	yajl_val	k;

	*tofree = NULL;
	if (r->has_by)
		return row_value(x, &r->by, errbuf, errlen);
	if (!img_all(x, errbuf, errlen))
		return NULL;
	k = x->img[IMG_KEY];
	if (k != NULL && YAJL_IS_OBJECT(k) && k->u.object.len == 1 &&
		trib_jdoc_scalar_text(k->u.object.values[0]) != NULL)
		return trib_jdoc_scalar_text(k->u.object.values[0]);
	if (k != NULL)
		return *tofree = trib_jdoc_dump(k);
	if (x->ev->after || x->ev->before)
		return x->ev->after ? x->ev->after : x->ev->before;
	return NULL;
}

static trib_verdict
apply_sample(evctx *x, const rule *r, char *errbuf, size_t errlen)
{
	char	   *tofree;
	const char *in;
	unsigned char d[32];
	uint64_t	h = 0;

	if (r->keep_all || (x->ev->op == TRIB_OP_MESSAGE || x->ev->op == TRIB_OP_TRUNCATE))
		return TRIB_VERDICT_KEEP;
	in = sample_input(x, r, &tofree, errbuf, errlen);
	if (in == NULL)
	{
		free(tofree);
		/*
		 * No value to decide on.  A delete usually carries only the key
		 * (REPLICA IDENTITY DEFAULT): let it through, since deleting a row
		 * the sample never copied changes nothing.  Anything else is not
		 * in the sample.
		 */
		return x->ev->op == TRIB_OP_DELETE ? TRIB_VERDICT_KEEP : TRIB_VERDICT_DROP;
	}
	keyed_hash(r->mac, "sample", in, strlen(in), d);
	free(tofree);
	for (int i = 0; i < 8; i++)
		h = (h << 8) | d[i];
	return h < r->threshold ? TRIB_VERDICT_KEEP : TRIB_VERDICT_DROP;
}

static bool
apply_route(evctx *x, const rule *r, char *errbuf, size_t errlen)
{
	const char *t = r->c->topic;
	trib_strbuf b = {0};

	while (*t)
	{
		const char *end;

		if (t[0] == '$' && t[1] == '$')
		{
			trib_strbuf_addc(&b, '$');
			t += 2;
			continue;
		}
		if (t[0] != '$' || t[1] != '{' || (end = strchr(t, '}')) == NULL)
		{
			trib_strbuf_addc(&b, *t++);
			continue;
		}
		{
			char	   *var = trib_xstrndup(t + 2, (size_t) (end - t - 2));
			const char *val = NULL;
			int			img = -1;
			const char *rest = NULL;

			if (strcmp(var, "source") == 0)
				val = x->ev->source;
			else if (strcmp(var, "db") == 0)
				val = x->ev->db;
			else if (strcmp(var, "schema") == 0)
				val = x->ev->schema;
			else if (strcmp(var, "table") == 0)
				val = x->ev->table;
			else if (strncmp(var, "after.", 6) == 0)
				img = IMG_AFTER, rest = var + 6;
			else if (strncmp(var, "before.", 7) == 0)
				img = IMG_BEFORE, rest = var + 7;
			else if (strncmp(var, "key.", 4) == 0)
				img = IMG_KEY, rest = var + 4;
			if (img >= 0)
			{
				trib_jpath p;
				first_arg	f = {0};

				if (!img_all(x, errbuf, errlen) ||
					!trib_jpath_parse(rest, &p, errbuf, errlen))
				{
					free(var);
					trib_strbuf_free(&b);
					return false;
				}
				trib_jpath_each(x->img[img], &p, first_cb, &f);
				trib_jpath_free(&p);
				val = f.found && !f.is_null ? f.text : NULL;
				if (val == NULL)
				{
					x->why = "route: a field of the topic template is missing, null or "
						"not a scalar";
					x->why_field = r->c->topic;
					free(var);
					trib_strbuf_free(&b);
					return false;
				}
			}
			if (val)
				trib_strbuf_adds(&b, val);
			free(var);
			t = end + 1;
		}
	}
	free(x->ev->topic);
	x->ev->topic = trib_strbuf_finish(&b);
	if (x->ev->topic == NULL)
		x->ev->topic = trib_xstrdup("");
	return true;
}

static trib_verdict
apply_flatten(evctx *x, const rule *r, char *errbuf, size_t errlen)
{
	trib_event *ev = x->ev;

	if (ev->op == TRIB_OP_MESSAGE || ev->op == TRIB_OP_TRUNCATE)
		return TRIB_VERDICT_KEEP;
	if (ev->op == TRIB_OP_DELETE)
	{
		if (r->c->deletes == TRIB_FLATTEN_DROP)
			return TRIB_VERDICT_DROP;
		if (r->c->deletes == TRIB_FLATTEN_TOMBSTONE)
		{
			ev->flatten = TRIB_FLAT_TOMBSTONE;
			return TRIB_VERDICT_KEEP;
		}
		if (!img_all(x, errbuf, errlen))
			return TRIB_VERDICT_FAIL;
		if (x->img[IMG_AFTER])
			yajl_tree_free(x->img[IMG_AFTER]);
		x->img[IMG_AFTER] = x->img[IMG_BEFORE] ? trib_jdoc_copy(x->img[IMG_BEFORE])
			: x->img[IMG_KEY] ? trib_jdoc_copy(x->img[IMG_KEY]) : NULL;
		if (x->img[IMG_AFTER] == NULL)
			return TRIB_VERDICT_DROP;	/* nothing known of the row */
		trib_jdoc_put(x->img[IMG_AFTER], "__deleted", trib_jdoc_string("true"));
		x->dirty[IMG_AFTER] = true;
	}
	else if (r->c->deletes == TRIB_FLATTEN_REWRITE)
	{
		if (!img_all(x, errbuf, errlen))
			return TRIB_VERDICT_FAIL;
		if (x->img[IMG_AFTER])
		{
			trib_jdoc_put(x->img[IMG_AFTER], "__deleted", trib_jdoc_string("false"));
			x->dirty[IMG_AFTER] = true;
		}
	}
	ev->flatten = TRIB_FLAT_ROW;
	return TRIB_VERDICT_KEEP;
}

/* ---- quality ------------------------------------------------------------------ */

static uint64_t
str_hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h;
}

/* Add s to the rule's batch set; false when it was there already. */
static bool
seen_add(rule *r, const char *s)
{
	size_t		i;

	if (r->seen_n * 2 >= r->seen_cap)
	{
		char	  **old = r->seen;
		size_t		oldcap = r->seen_cap;

		r->seen_cap = oldcap ? oldcap * 2 : 64;
		r->seen = trib_xcalloc(r->seen_cap, sizeof(char *));
		for (size_t j = 0; j < oldcap; j++)
			if (old[j])
			{
				for (i = str_hash(old[j]) & (r->seen_cap - 1); r->seen[i];
					 i = (i + 1) & (r->seen_cap - 1))
					;
				r->seen[i] = old[j];
			}
		free(old);
	}
	for (i = str_hash(s) & (r->seen_cap - 1); r->seen[i]; i = (i + 1) & (r->seen_cap - 1))
		if (strcmp(r->seen[i], s) == 0)
			return false;
	r->seen[i] = trib_xstrdup(s);
	r->seen_n++;
	return true;
}

static bool
kind_matches(yajl_val v, trib_json_kind k)
{
	switch (k)
	{
		case TRIB_JSON_STRING:
			return YAJL_IS_STRING(v);
		case TRIB_JSON_NUMBER:
			return YAJL_IS_NUMBER(v);
		case TRIB_JSON_INTEGER:
			return YAJL_IS_NUMBER(v) && is_json_integer(v->u.number.r);
		case TRIB_JSON_BOOLEAN:
			return YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v);
		case TRIB_JSON_OBJECT:
			return YAJL_IS_OBJECT(v);
		case TRIB_JSON_ARRAY:
			return YAJL_IS_ARRAY(v);
	}
	return false;
}

typedef struct check_arg
{
	rule	   *r;
	bool		failed;
	const char *field;
	const char *why;
} check_arg;

/* One value: true when it passes.  Nulls pass every check but not_null. */
static bool
check_value(rule *r, yajl_val v, const char **why)
{
	const trib_rule_conf *c = r->c;
	const char *text;

	if (v == NULL || YAJL_IS_NULL(v))
	{
		*why = "is null";
		return c->check != TRIB_CHECK_NOT_NULL;
	}
	text = trib_jdoc_scalar_text(v);
	switch (c->check)
	{
		case TRIB_CHECK_NOT_NULL:
			return true;
		case TRIB_CHECK_TYPE:
			*why = "has the wrong type";
			return kind_matches(v, c->expect);
		case TRIB_CHECK_RANGE:
			{
				long double x;

				*why = "is out of range";
				if (text == NULL || !is_json_number(text))
				{
					*why = "is not a number";
					return false;
				}
				x = strtold(text, NULL);
				return !(c->min && x < strtold(c->min, NULL)) &&
					!(c->max && x > strtold(c->max, NULL));
			}
		case TRIB_CHECK_ALLOWED:
			*why = "is not an allowed value";
			for (size_t i = 0; text && i < c->values.count; i++)
				if (strcmp(c->values.items[i], text) == 0)
					return true;
			return false;
		case TRIB_CHECK_UNIQUE:
			{
				char	   *d = text ? NULL : trib_jdoc_dump(v);
				bool		fresh = seen_add(r, text ? text : d);

				free(d);
				*why = "repeats a value seen earlier in the batch";
				return fresh;
			}
	}
	return true;
}

static bool
check_cb(yajl_val *slot, const char *name, void *arg)
{
	check_arg  *a = arg;
	const char *why = NULL;
	bool		ok = check_value(a->r, *slot, &why);

	trib_metric_inc(ok ? a->r->m_pass : a->r->m_fail);
	if (!ok && !a->failed)
	{
		a->failed = true;
		a->field = name;
		a->why = why;
	}
	return true;
}

static trib_verdict
apply_quality(evctx *x, rule *r, char *errbuf, size_t errlen)
{
	check_arg	a = {r, false, NULL, NULL};
	yajl_val	row;
	char	   *reason = x->reason;

	if (x->ev->op == TRIB_OP_DELETE || x->ev->op == TRIB_OP_MESSAGE ||
		x->ev->op == TRIB_OP_TRUNCATE)
		return TRIB_VERDICT_KEEP;	/* only new row states are tested */
	if (!img_all(x, errbuf, errlen))
		return TRIB_VERDICT_FAIL;
	row = x->img[IMG_AFTER];
	for (int p = 0; p < r->npaths; p++)
	{
		first_arg	f = {0};

		trib_jpath_each(row, &r->paths[p], first_cb, &f);
		if (!f.found)
		{
			/* a missing field is a null one */
			const char *why = NULL;
			bool		ok = check_value(r, NULL, &why);

			trib_metric_inc(ok ? r->m_pass : r->m_fail);
			if (!ok && !a.failed)
			{
				a.failed = true;
				a.field = r->paths[p].text;
				a.why = "is missing";
			}
			continue;
		}
		trib_jpath_each(row, &r->paths[p], check_cb, &a);
	}
	if (!a.failed)
		return TRIB_VERDICT_KEEP;
	snprintf(reason, sizeof(x->reason), "quality rule %s: field %s %s", r->c->name,
			 a.field, a.why);
	switch (r->c->action)
	{
		case TRIB_ACTION_DROP:
			return TRIB_VERDICT_DROP;
		case TRIB_ACTION_TAG:
			trib_strbuf_adds(&x->tags, x->tags.len ? "," : "[");
			{
				yajl_val	s = trib_jdoc_string(r->c->name);
				char	   *j = trib_jdoc_dump(s);

				trib_strbuf_adds(&x->tags, j);
				free(j);
				yajl_tree_free(s);
			}
			return TRIB_VERDICT_KEEP;
		case TRIB_ACTION_FAIL:
			snprintf(errbuf, errlen, "%.200s (action: fail)", reason);
			return TRIB_VERDICT_FAIL;
		case TRIB_ACTION_DEAD_LETTER:
			x->why = reason;
			x->why_field = NULL;
			return TRIB_VERDICT_DEAD_LETTER;
	}
	return TRIB_VERDICT_KEEP;
}

/* ---- derived relations -------------------------------------------------------- */

static bool
is_shape_rule(const trib_rule_conf *c)
{
	switch (c->type)
	{
		case TRIB_RULE_DROP:
		case TRIB_RULE_KEEP:
		case TRIB_RULE_RENAME:
		case TRIB_RULE_CAST:
			return true;
		case TRIB_RULE_HASH:
		case TRIB_RULE_PARTIAL:
			return true;		/* the column becomes text */
		case TRIB_RULE_REDACT:
			return c->with != TRIB_REDACT_NULL;
		default:
			return false;
	}
}

static bool
is_text_type(const char *t)
{
	return strncmp(t, "text", 4) == 0 || strncmp(t, "character", 9) == 0 ||
		strncmp(t, "varchar", 7) == 0 || strncmp(t, "citext", 6) == 0;
}

static void
remove_column(trib_relation *rel, int i)
{
	free(rel->columns[i].name);
	free(rel->columns[i].type);
	memmove(&rel->columns[i], &rel->columns[i + 1],
			sizeof(trib_column) * (size_t) (rel->ncolumns - i - 1));
	rel->ncolumns--;
}

static void
set_type(trib_column *col, const char *type)
{
	free(col->type);
	col->type = trib_xstrdup(type);
	col->type_oid = 0;
}

static void
reshape(trib_relation *rel, const rule *r)
{
	static const char *const cast_types[] = {"text", "bigint", "numeric", "boolean"};

	for (int i = 0; i < rel->ncolumns;)
	{
		trib_column *col = &rel->columns[i];
		bool		named = any_path_first(r, col->name);
		const char *to;

		switch (r->c->type)
		{
			case TRIB_RULE_DROP:
				if (named && !col->pk)
				{
					remove_column(rel, i);
					continue;
				}
				break;
			case TRIB_RULE_KEEP:
				{
					bool		keep = col->pk;

					for (int p = 0; p < r->npaths && !keep; p++)
						keep = trib_jpath_first_matches(&r->paths[p], col->name);
					if (!keep)
					{
						remove_column(rel, i);
						continue;
					}
					break;
				}
			case TRIB_RULE_RENAME:
				if ((to = trib_kvlist_get(&r->c->renames, col->name)) != NULL)
				{
					free(col->name);
					col->name = trib_xstrdup(to);
				}
				break;
			case TRIB_RULE_CAST:
				if (named)
					set_type(col, cast_types[r->c->to]);
				break;
			default:
				/* value rules that write strings: a text column */
				if (named && !is_text_type(col->type))
					set_type(col, "text");
				break;
		}
		i++;
	}
}

static trib_relation *
copy_relation(const trib_relation *src)
{
	trib_relation *rel = trib_xcalloc(1, sizeof(*rel));

	rel->schema = src->schema ? trib_xstrdup(src->schema) : NULL;
	rel->table = src->table ? trib_xstrdup(src->table) : NULL;
	rel->version = src->version;
	rel->ncolumns = src->ncolumns;
	rel->columns = trib_xcalloc((size_t) src->ncolumns + 1, sizeof(trib_column));
	for (int i = 0; i < src->ncolumns; i++)
	{
		rel->columns[i] = src->columns[i];
		rel->columns[i].name = trib_xstrdup(src->columns[i].name);
		rel->columns[i].type = trib_xstrdup(src->columns[i].type);
	}
	return rel;
}

/* The relation the rules make of ev->rel (cached per version). */
static const trib_relation *
derive(trib_rules *rs, const trib_event *ev)
{
	const trib_relation *src = ev->rel;
	trib_relation *rel = NULL;

	for (size_t i = 0; i < rs->nd; i++)
		if (rs->d[i].src == src && rs->d[i].version == src->version)
			return rs->d[i].rel ? rs->d[i].rel : src;
	for (int i = 0; i < rs->n; i++)
	{
		if (!is_shape_rule(rs->r[i].c) || !selected(rs->r[i].c, ev))
			continue;
		if (rel == NULL)
			rel = copy_relation(src);
		reshape(rel, &rs->r[i]);
	}
	if (rs->nd == rs->dcap)
	{
		rs->dcap = rs->dcap ? rs->dcap * 2 : 16;
		rs->d = trib_xrealloc(rs->d, rs->dcap * sizeof(derived));
	}
	rs->d[rs->nd].src = src;
	rs->d[rs->nd].version = src->version;
	rs->d[rs->nd].rel = rel;
	rs->nd++;
	return rel ? rel : src;
}

/* ---- the driver ----------------------------------------------------------------- */

static bool
is_row_event(const trib_event *ev)
{
	return ev->op == TRIB_OP_CREATE || ev->op == TRIB_OP_UPDATE ||
		ev->op == TRIB_OP_DELETE || ev->op == TRIB_OP_READ;
}

/* Run rule r; KEEP to go on. */
static trib_verdict
run_rule(trib_rules *rs, rule *r, evctx *x, char *errbuf, size_t errlen)
{
	(void) rs;
	switch (r->c->type)
	{
		case TRIB_RULE_REDACT:
		case TRIB_RULE_PARTIAL:
		case TRIB_RULE_HASH:
		case TRIB_RULE_CAST:
			if (!is_row_event(x->ev))
				return TRIB_VERDICT_KEEP;
			if (!apply_value_rule(x, r, errbuf, errlen))
				return x->why ? TRIB_VERDICT_DEAD_LETTER : TRIB_VERDICT_FAIL;
			if (r->c->type == TRIB_RULE_CAST)
				x->reshaped = true;
			else if (r->c->type != TRIB_RULE_REDACT || r->c->with != TRIB_REDACT_NULL)
				x->reshaped = true;
			return TRIB_VERDICT_KEEP;
		case TRIB_RULE_DROP:
		case TRIB_RULE_KEEP:
		case TRIB_RULE_RENAME:
			if (!is_row_event(x->ev))
				return TRIB_VERDICT_KEEP;
			return apply_shape_rule(x, r, errbuf, errlen) ? TRIB_VERDICT_KEEP
				: TRIB_VERDICT_FAIL;
		case TRIB_RULE_SAMPLE:
			return apply_sample(x, r, errbuf, errlen);
		case TRIB_RULE_ROUTE:
			if (!apply_route(x, r, errbuf, errlen))
				return x->why ? TRIB_VERDICT_DEAD_LETTER : TRIB_VERDICT_FAIL;
			return TRIB_VERDICT_KEEP;
		case TRIB_RULE_FLATTEN:
			return apply_flatten(x, r, errbuf, errlen);
		case TRIB_RULE_QUALITY:
			return apply_quality(x, r, errbuf, errlen);
	}
	return TRIB_VERDICT_KEEP;
}

/* Give a dead-letter event its reason; the images stay as they came. */
static void
to_dead_letter(trib_rules *rs, evctx *x, const rule *r)
{
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "%s", x->why);
	if (x->why_field != NULL && strstr(x->why, "quality rule") == NULL)
		trib_strbuf_printf(&b, " (transform %s, field %s)", r->c->name, x->why_field);
	else if (strstr(x->why, "quality rule") == NULL)
		trib_strbuf_printf(&b, " (transform %s)", r->c->name);
	free(x->ev->error);
	x->ev->error = trib_strbuf_finish(&b);
	if (!rs->dlq_images)
	{
		/* by default no row data leaves through the dead-letter sink: the
		 * images may hold values the later rules would have masked */
		for (int i = 0; i < NIMG; i++)
		{
			char	  **t = img_text(x->ev, i);

			free(*t);
			*t = NULL;
		}
		free(x->ev->unchanged);
		x->ev->unchanged = NULL;
	}
	if (rs->f_dead)
		trib_metric_inc(trib_metric_get(rs->f_dead, r->c->name));
}

trib_verdict
trib_rules_apply(trib_rules *rs, trib_event *ev, char *errbuf, size_t errlen)
{
	evctx		x;
	trib_verdict v = TRIB_VERDICT_KEEP;
	char		e[512] = "";

	if (trib_rules_empty(rs))
		return TRIB_VERDICT_KEEP;
	memset(&x, 0, sizeof(x));
	x.ev = ev;
	for (int i = 0; i < rs->n && v == TRIB_VERDICT_KEEP; i++)
	{
		rule	   *r = &rs->r[i];

		if (!selected(r->c, ev))
			continue;
		trib_metric_inc(r->m_selected);
		v = run_rule(rs, r, &x, e, sizeof(e));
		if (v == TRIB_VERDICT_FAIL && x.why == NULL && e[0] != '\0' &&
			strstr(e, "action: fail") == NULL)
		{
			/* bad data (an image that is not JSON): dead-letter, not a stop */
			x.why = "the row image is not valid JSON";
			x.why_field = NULL;
			v = TRIB_VERDICT_DEAD_LETTER;
		}
		if (v == TRIB_VERDICT_DEAD_LETTER)
		{
			for (int k = 0; k < NIMG; k++)
				x.dirty[k] = false;	/* the dead-letter sink gets the original */
			to_dead_letter(rs, &x, r);
		}
		else if (v == TRIB_VERDICT_FAIL)
			snprintf(errbuf, errlen, "transform %s: %s", r->c->name, e);
	}
	img_finish(&x);
	if (v == TRIB_VERDICT_KEEP && x.tags.len > 0)
	{
		trib_strbuf_addc(&x.tags, ']');
		free(ev->tags);
		ev->tags = trib_strbuf_finish(&x.tags);
	}
	trib_strbuf_free(&x.tags);
	if (v == TRIB_VERDICT_KEEP && x.reshaped && ev->rel != NULL)
		ev->rel = derive(rs, ev);
	return v;
}
