/*
 * rules_enrich.c: rules that add to an event: outbox (Debezium's event
 * router), aggregate (a value computed across fields of one row) and
 * lookup (a row fetched from a database, cached).
 *
 * Lookup.  One libpq connection per rule, opened at first use with a
 * connect timeout and a statement timeout, so a slow lookup database
 * cannot stall the pipeline for long; the query always runs with bound
 * parameters (PQexecParams).  Results are kept in an LRU cache keyed by
 * the parameter values (lib/lru.c, whose hash is keyed so that crafted
 * field values cannot pile up in one bucket).  A failed query sends the event to the dead-letter sink with
 * the SQLSTATE only: server messages may quote the parameter, a field
 * value.
 *
 * Aggregate.  Integers are summed exactly in 64 bits while they fit; min
 * and max return the winning value's original text; anything else is
 * computed in long double and written with 18 significant digits.
 */
#include "rules_enrich.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "lru.h"

/* ---- outbox --------------------------------------------------------------- */

/* The slot of top-level column `name` in the after image, or NULL. */
static yajl_val *
after_field(rl_evctx *x, const char *name)
{
	return trib_jdoc_get_slot(x->img[IMG_AFTER], name);
}

static trib_verdict
apply_outbox(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	const trib_rule_conf *c = r->c;
	yajl_val   *agg_id;
	yajl_val   *payload;
	char	   *topic;
	yajl_val	value;

	if (x->ev->op != TRIB_OP_CREATE && x->ev->op != TRIB_OP_READ)
		return TRIB_VERDICT_DROP;	/* the outbox table's updates and deletes */
	if (!rl_img_all(x, errbuf, errlen))
		return TRIB_VERDICT_FAIL;
	agg_id = after_field(x, c->aggregate_id_field);
	payload = after_field(x, c->payload_field);
	if (agg_id == NULL || *agg_id == NULL || YAJL_IS_NULL(*agg_id) || payload == NULL)
	{
		x->why = "outbox: the aggregate id column is missing or null, or the payload "
			"column is missing";
		x->why_field = agg_id == NULL || YAJL_IS_NULL(*agg_id) ? c->aggregate_id_field
			: c->payload_field;
		return TRIB_VERDICT_DEAD_LETTER;
	}
	if (!rl_expand_template(x, c->topic, &topic, errbuf, errlen))
		return x->why ? TRIB_VERDICT_DEAD_LETTER : TRIB_VERDICT_FAIL;
	free(x->ev->topic);
	x->ev->topic = topic;

	/* key: the aggregate id as a string, as Debezium's router writes it */
	if (x->img[IMG_KEY])
		yajl_tree_free(x->img[IMG_KEY]);
	x->img[IMG_KEY] = YAJL_IS_STRING(*agg_id) ? trib_jdoc_copy(*agg_id)
		: trib_jdoc_string(trib_jdoc_scalar_text(*agg_id) ? trib_jdoc_scalar_text(*agg_id) : "");
	x->dirty[IMG_KEY] = true;

	if (c->payload_only)
		value = trib_jdoc_copy(*payload);
	else
	{
		static const char *const keep[][2] = {
			{"id", NULL}, {"type", NULL}, {"aggregate_type", NULL},
			{"aggregate_id", NULL}, {"payload", NULL}
		};
		const char *cols[5] = {c->id_field, c->type_field, c->aggregate_type_field,
		c->aggregate_id_field, c->payload_field};

		value = trib_jdoc_parse("{}", errbuf, errlen);
		for (int i = 0; i < 5; i++)
		{
			yajl_val   *v = after_field(x, cols[i]);

			trib_jdoc_put(value, keep[i][0], v && *v ? trib_jdoc_copy(*v) : trib_jdoc_null());
		}
	}
	yajl_tree_free(x->img[IMG_AFTER]);
	x->img[IMG_AFTER] = value;
	x->dirty[IMG_AFTER] = true;
	if (x->img[IMG_BEFORE])
	{
		yajl_tree_free(x->img[IMG_BEFORE]);
		x->img[IMG_BEFORE] = NULL;
		x->dirty[IMG_BEFORE] = true;
	}
	x->ev->flatten = TRIB_FLAT_ROW;
	x->ev->rel = NULL;			/* no longer the outbox table's row */
	return TRIB_VERDICT_KEEP;
}

/* ---- aggregate ------------------------------------------------------------- */

typedef struct agg_state
{
	trib_agg_fn fn;
	size_t		n;				/* non-null values */
	size_t		nnum;			/* numeric values */
	bool		exact;			/* every number so far an int64, sum exact */
	int64_t		isum;
	long double sum;
	long double best;
	const char *best_text;		/* min/max: the winner's original text */
	bool		bad;			/* a non-numeric, non-null value */
} agg_state;

static bool
agg_cb(yajl_val *slot, const char *name, void *arg)
{
	agg_state  *a = arg;
	const char *t;
	long double v;

	(void) name;
	if (*slot == NULL || YAJL_IS_NULL(*slot))
		return true;
	a->n++;
	if (a->fn == TRIB_AGG_COUNT)
		return true;
	t = YAJL_IS_NUMBER(*slot) ? (*slot)->u.number.r : NULL;
	if (t == NULL)
	{
		a->bad = true;
		return true;
	}
	v = strtold(t, NULL);
	if (a->exact && rl_is_json_integer(t))
	{
		char	   *end;
		long long	i;

		errno = 0;
		i = strtoll(t, &end, 10);
		if (errno != 0 || __builtin_add_overflow(a->isum, (int64_t) i, &a->isum))
			a->exact = false;
	}
	else
		a->exact = false;
	a->sum += v;
	if (a->nnum == 0 || (a->fn == TRIB_AGG_MIN ? v < a->best : v > a->best))
	{
		a->best = v;
		a->best_text = t;
	}
	a->nnum++;
	return true;
}

/* long double as JSON number text. */
static void
fmt_ld(long double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.18Lg", v);
	if (strchr(buf, 'n') || strchr(buf, 'N') || strchr(buf, 'i'))
		snprintf(buf, len, "null");	/* inf, nan: no JSON number */
}

/* The aggregate of one image into its field `c->field`. */
static void
aggregate_image(yajl_val img, const rl_rule *r)
{
	agg_state	a = {.fn = r->c->function, .exact = true};
	char		buf[64];
	yajl_val	out;

	for (int p = 0; p < r->npaths; p++)
		trib_jpath_each(img, &r->paths[p], agg_cb, &a);
	if (a.fn == TRIB_AGG_COUNT)
	{
		snprintf(buf, sizeof(buf), "%zu", a.n);
		out = trib_jdoc_number(buf);
	}
	else if (a.nnum == 0 || a.bad)
		out = trib_jdoc_null();
	else if (a.fn == TRIB_AGG_MIN || a.fn == TRIB_AGG_MAX)
		out = trib_jdoc_number(a.best_text);
	else if (a.fn == TRIB_AGG_SUM && a.exact)
	{
		snprintf(buf, sizeof(buf), "%lld", (long long) a.isum);
		out = trib_jdoc_number(buf);
	}
	else
	{
		fmt_ld(a.fn == TRIB_AGG_AVG ? a.sum / (long double) a.nnum : a.sum, buf, sizeof(buf));
		out = strcmp(buf, "null") == 0 ? trib_jdoc_null() : trib_jdoc_number(buf);
	}
	trib_jdoc_put(img, r->c->field, out);
}

static trib_verdict
apply_aggregate(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	if (!rl_img_all(x, errbuf, errlen))
		return TRIB_VERDICT_FAIL;
	for (int i = IMG_BEFORE; i <= IMG_AFTER; i++)
		if (x->img[i] && YAJL_IS_OBJECT(x->img[i]))
		{
			aggregate_image(x->img[i], r);
			x->dirty[i] = true;
		}
	x->reshaped = true;
	return TRIB_VERDICT_KEEP;
}

/* ---- lookup ------------------------------------------------------------------ */

typedef struct rl_lookup
{
	PGconn	   *conn;
	trib_lru   *cache;			/* fetched rows (yajl_val, NULL: no row) by
								 * parameter values, \x1e-separated; NULL
								 * until the first lookup, or cache_size 0 */
} rl_lookup;

static void
row_free(void *row)
{
	yajl_tree_free(row);
}

static void
free_lookup(rl_rule *r)
{
	rl_lookup *L = r->lookup;

	if (L == NULL)
		return;
	trib_lru_free(L->cache);
	if (L->conn)
		PQfinish(L->conn);
	free(L);
	r->lookup = NULL;
}

/* Connect, with timeouts; false and x->why on failure. */
static bool
lk_connect(rl_lookup *L, const rl_rule *r, rl_evctx *x)
{
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[] = {r->c->dsn, "5", "tributary-lookup", NULL};
	PGresult   *res;

	if (L->conn && PQstatus(L->conn) == CONNECTION_OK)
		return true;
	if (L->conn)
		PQfinish(L->conn);
	L->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(L->conn) != CONNECTION_OK)
	{
		x->why = "lookup: cannot connect to the lookup database";
		return false;
	}
	res = PQexec(L->conn, "SET statement_timeout = 5000");
	PQclear(res);
	return true;
}

/* A result row as a JSON object, typed by column OID. */
static yajl_val
row_to_json(PGresult *res)
{
	char		e[64];
	yajl_val	obj = trib_jdoc_parse("{}", e, sizeof(e));

	for (int i = 0; i < PQnfields(res); i++)
	{
		const char *v = PQgetvalue(res, 0, i);
		Oid			t = PQftype(res, i);
		yajl_val	node;

		if (PQgetisnull(res, 0, i))
			node = trib_jdoc_null();
		else if (t == 16)		/* bool */
			node = trib_jdoc_bool(v[0] == 't');
		else if ((t == 20 || t == 21 || t == 23 || t == 700 || t == 701 || t == 1700) &&
				 rl_is_json_number(v))
			node = trib_jdoc_number(v);
		else if ((t == 114 || t == 3802) && (node = trib_jdoc_parse(v, e, sizeof(e))) != NULL)
			;
		else
			node = trib_jdoc_string(v);
		trib_jdoc_put(obj, PQfname(res, i), node);
	}
	return obj;
}

/* Run the query; *row gets the result (NULL: no row).  false: x->why. */
static bool
lk_query(rl_lookup *L, const rl_rule *r, rl_evctx *x, const char *const *params,
		 int nparams, yajl_val *row)
{
	PGresult   *res = NULL;

	for (int attempt = 0; attempt < 2; attempt++)
	{
		if (!lk_connect(L, r, x))
			return false;
		res = PQexecParams(L->conn, r->c->query, nparams, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK || PQstatus(L->conn) == CONNECTION_OK)
			break;
		PQclear(res);			/* the connection broke: once more */
		res = NULL;
	}
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

		snprintf(x->reason, sizeof(x->reason), "lookup: the query failed (SQLSTATE %s)",
				 st ? st : "none");
		x->why = x->reason;
		PQclear(res);
		return false;
	}
	if (PQntuples(res) > 1)
	{
		x->why = "lookup: the query returned more than one row";
		PQclear(res);
		return false;
	}
	*row = PQntuples(res) == 1 ? row_to_json(res) : NULL;
	PQclear(res);
	return true;
}

/* lookup: the row fetched for the event's parameters, into `into`;
 * false: x->why (a failed query) or errbuf. */
static bool
lookup(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	rl_lookup *L = r->lookup;
	const trib_strlist *pl = &r->c->params;
	const char **params = trib_xcalloc(pl->count + 1, sizeof(char *));
	trib_strbuf key = {0};
	void	   *cached = NULL;
	bool		hit = false;
	yajl_val	row = NULL;
	bool		ok = true;

	if (L == NULL)
		L = r->lookup = trib_xcalloc(1, sizeof(*L));
	if (!rl_img_all(x, errbuf, errlen) || x->img[IMG_AFTER] == NULL)
	{
		free(params);
		return x->img[IMG_AFTER] == NULL && x->ev->after == NULL;	/* deletes: nothing to enrich */
	}
	for (size_t i = 0; i < pl->count; i++)
	{
		trib_jpath	p;

		if (!trib_jpath_parse(pl->items[i], &p, errbuf, errlen))
		{
			free(params);
			trib_strbuf_free(&key);
			return false;
		}
		params[i] = rl_row_value(x, &p, errbuf, errlen);
		trib_jpath_free(&p);
		trib_strbuf_adds(&key, params[i] ? params[i] : "\x1f");
		trib_strbuf_addc(&key, '\x1e');
	}
	if (r->c->cache_size > 0 && L->cache == NULL &&
		(L->cache = trib_lru_new((size_t) r->c->cache_size, row_free)) == NULL)
	{
		snprintf(errbuf, errlen, "lookup: OpenSSL could not key the cache");
		trib_strbuf_free(&key);
		free(params);
		return false;
	}
	if (L->cache)
		hit = trib_lru_get(L->cache, key.data ? key.data : "", &cached);
	if (hit)
		row = cached;
	else
		ok = lk_query(L, r, x, params, (int) pl->count, &row);
	if (ok)
	{
		trib_jdoc_put(x->img[IMG_AFTER], r->c->into,
					  row ? trib_jdoc_copy(row) : trib_jdoc_null());
		x->dirty[IMG_AFTER] = true;
		x->reshaped = true;
		x->why_field = NULL;
	}
	else
		x->why_field = r->c->into;
	if (ok && !hit && L->cache)
		trib_lru_put(L->cache, key.data ? key.data : "", row);	/* takes row */
	else if (!hit && row)
		yajl_tree_free(row);
	trib_strbuf_free(&key);
	free(params);
	return ok;
}

static trib_verdict
apply_lookup(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	if (lookup(x, r, errbuf, errlen))
		return TRIB_VERDICT_KEEP;
	return x->why ? TRIB_VERDICT_DEAD_LETTER : TRIB_VERDICT_FAIL;
}

/* aggregate: a new column, bigint for count, else numeric. */
static void
reshape_aggregate(trib_relation *rel, const rl_rule *r)
{
	rl_rel_add_column(rel, r->c->field, r->c->function == TRIB_AGG_COUNT ? "bigint" : "numeric");
}

/* lookup: a new jsonb column. */
static void
reshape_lookup(trib_relation *rel, const rl_rule *r)
{
	rl_rel_add_column(rel, r->c->into, "jsonb");
}

const rl_ops rl_ops_outbox = {0, NULL, NULL, apply_outbox, NULL, NULL, NULL, NULL};
const rl_ops rl_ops_aggregate = {RL_ROWS | RL_SHAPE_KNOWN, NULL, NULL, apply_aggregate, NULL,
	rl_shapes_always, reshape_aggregate, NULL};
const rl_ops rl_ops_lookup = {RL_ROWS | RL_SHAPE_KNOWN, NULL, free_lookup, apply_lookup, NULL,
	rl_shapes_always, reshape_lookup, NULL};
