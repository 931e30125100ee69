/*
 * bench_rules.c: per-event cost of transform rules (rules.c), and per-value
 * cost of each masking strategy, without I/O.
 *
 *   build/tools/bench_rules [EVENTS [CASE]]
 *
 * Part 1 builds W1-shaped events (public.bench_events: id, name, email,
 * amount, created, active, meta) through the PostgreSQL source's record
 * parse (pgrecord.h: a relation record, then one insert record per event,
 * as the plugin writes them, so each event carries its relation and the
 * image index the parse leaves, event.h), and times trib_rules_apply for each of the
 * five masking rules of bench/transforms.sh alone, all five together,
 * Fernet (encrypt then decrypt the e-mail; not one of the five) and the
 * Lua filter; prints ns/event.  Part 2 times each strategy alone on the
 * value it gets in part 1 (no row image parsed or written), plus the parse
 * and write-back of the image that the rules share; prints ns/value.  Best
 * of 3 rounds each.  CASE runs only the case of that label (for perf).
 * Part 1 also runs all five on 1 thread and through a pool of 2 and 3 threads
 * (rules_pool.h) in batches of 512, as the pipeline does (taking every
 * result back in order): the calling thread's CPU ns per event (what the
 * pipeline's thread still spends) and the wall ns per event.
 * A development tool for finding where the end-to-end cost goes.
 *
 * Environment: BENCH_RULES_HAND=1 builds part 1's events by hand instead
 * (after and key only, no relation, no index: the figures before
 * 2026-12-06 22:00); BENCH_RULES_NOINDEX=1 keeps the parse but has the
 * rules ignore the image index (rl_splice_source_index), to compare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "event.h"
#include "jsondoc.h"
#include "keys.h"
#include "mask.h"
#include "mask_fake.h"
#include "mask_hash.h"
#include "mask_tokenize.h"
#include "pgrecord.h"
#include "rules.h"
#include "rules_pool.h"
#include "rules_splice.h"

#define HEAD "pipeline: b\nsources:\n  pg: {type: postgres, dsn: \"dbname=x\", snapshot: never}\n" \
	"sinks:\n  out: {type: stdout}\ntransforms:\n"
#define KEYHEX "00112233445566778899aabbccddeeff"

#define BATCH 1000				/* inputs built, then timed together */

static const char *only;		/* CASE: run just this label */
static int	id_step = 1;		/* W1's ids: 1..1,000,000 spread over EVENTS */
static trib_pgrec_parser *parser;	/* part 1's events, NULL: by hand */

/* W1's table as the plugin describes it. */
#define REL_RECORD "{\"kind\":\"relation\",\"xid\":700,\"commit_lsn\":\"0/1000000\"," \
	"\"ts\":\"2026-11-22T10:00:00.123456Z\",\"lsn\":\"0/1000000\",\"relid\":16384," \
	"\"schema\":\"public\",\"table\":\"bench_events\",\"replica_identity\":\"default\"," \
	"\"columns\":[" \
	"{\"name\":\"id\",\"type\":\"bigint\",\"type_oid\":20,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true}," \
	"{\"name\":\"name\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}," \
	"{\"name\":\"email\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}," \
	"{\"name\":\"amount\",\"type\":\"numeric(12,2)\",\"type_oid\":1700,\"typmod\":786438,\"nullable\":true,\"pk\":false,\"identity\":false}," \
	"{\"name\":\"created\",\"type\":\"timestamp with time zone\",\"type_oid\":1184,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}," \
	"{\"name\":\"active\",\"type\":\"boolean\",\"type_oid\":16,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}," \
	"{\"name\":\"meta\",\"type\":\"jsonb\",\"type_oid\":3802,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}]," \
	"\"primary_key\":[\"id\"],\"identity_key\":[\"id\"]}"

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void
die(const char *label, const char *err)
{
	fprintf(stderr, "%s: %s\n", label, err);
	exit(1);
}

/* Should the case `label` run? */
static bool
wanted(const char *label)
{
	return only == NULL || strcmp(only, label) == 0;
}

/* The W1-shaped row image and key of row i.  The id is spread over W1's
 * 1..1,000,000 so that, as in W1, 90% of ids have the 6 digits FF1 needs
 * (tokenize masks shorter ones whole by default). */
static void
row_of(int i, char *after, size_t alen, char *key, size_t klen)
{
	int			id = i * id_step;

	snprintf(after, alen, "{\"id\":%d,\"name\":\"name%d\",\"email\":\"user%d@example.com\","
			 "\"amount\":%d.50,\"created\":\"2026-11-22 10:00:00.123456+00\",\"active\":%s,"
			 "\"meta\":{\"k\":%d}}", id, i, i, i, i % 2 ? "false" : "true", i);
	snprintf(key, klen, "{\"id\":%d}", id);
}

/*
 * What one case times, over BATCH-sized slices of its n inputs: build(k,
 * i) prepares input i in slot k (not timed), run(k) works on slot k
 * (timed), clear(k) releases it (not timed; may be NULL).
 */
typedef struct timed_case
{
	void		(*build) (void *arg, int k, int i);
	void		(*run) (void *arg, int k);
	void		(*clear) (void *arg, int k);
	void	   *arg;
} timed_case;

/* Best of 3 rounds over inputs 1..n: CPU ns per input. */
static double
time_case(const timed_case *c, int n)
{
	double		best = 1e18;

	for (int round = 0; round < 3; round++)
	{
		double		t = 0;

		for (int first = 1; first <= n; first += BATCH)
		{
			int			m = n - first + 1 < BATCH ? n - first + 1 : BATCH;
			double		t0;

			for (int k = 0; k < m; k++)
				c->build(c->arg, k, first + k);
			t0 = now_ns();
			for (int k = 0; k < m; k++)
				c->run(c->arg, k);
			t += now_ns() - t0;
			for (int k = 0; c->clear && k < m; k++)
				c->clear(c->arg, k);
		}
		best = t / n < best ? t / n : best;
	}
	return best;
}

/* ---- part 1: trib_rules_apply ------------------------------------------- */

typedef struct rules_arg
{
	trib_rules *rs;
	trib_event *evs[BATCH];
} rules_arg;

/* Event i as the PostgreSQL source hands it over: the plugin's insert
 * record of row i (row_of's values; jsonb as PostgreSQL writes it, with a
 * space after the colon) through the record parse. */
static trib_event *
parsed_event(int i)
{
	char		rec[512];
	char		err[1024];
	trib_pgrec *r;
	trib_event *ev;
	int			id = i * id_step;

	snprintf(rec, sizeof(rec), "{\"kind\":\"insert\",\"xid\":701,\"commit_lsn\":\"0/1000100\","
			 "\"ts\":\"2026-11-22T10:00:01.123456Z\",\"lsn\":\"0/1000080\",\"seq\":%d,"
			 "\"schema\":\"public\",\"table\":\"bench_events\",\"new\":{\"id\":%d,"
			 "\"name\":\"name%d\",\"email\":\"user%d@example.com\",\"amount\":%d.50,"
			 "\"created\":\"2026-11-22 10:00:00.123456+00\",\"active\":%s,"
			 "\"meta\":{\"k\": %d}}}", i, id, i, i, i, i % 2 ? "false" : "true", i);
	if (!trib_pgrec_parser_parse(parser, rec, strlen(rec), &r, err, sizeof(err)) || r == NULL)
		die("record parse", err);
	ev = trib_pgrec_take_event(r);
	trib_pgrec_free(r);
	if (ev == NULL)
		die("record parse", "no event");
	return ev;
}

/* Event i, W1-shaped, as the source would hand it over, into slot k. */
static void
rules_build(void *arg, int k, int i)
{
	trib_event *ev;
	char		after[256];
	char		key[32];

	if (parser != NULL)
	{
		((rules_arg *) arg)->evs[k] = parsed_event(i);
		return;
	}
	ev = trib_event_new();
	row_of(i, after, sizeof(after), key, sizeof(key));
	ev->op = TRIB_OP_CREATE;
	ev->source = "pg";
	ev->schema = "public";
	ev->table = "bench_events";
	ev->after = strdup(after);
	ev->key = strdup(key);
	((rules_arg *) arg)->evs[k] = ev;
}

static void
rules_run(void *arg, int k)
{
	rules_arg  *a = arg;
	char		err[1024];

	if (trib_rules_apply(a->rs, a->evs[k], err, sizeof(err)) == TRIB_VERDICT_FAIL)
		die("trib_rules_apply", err);
}

static void
rules_clear(void *arg, int k)
{
	trib_event_free(((rules_arg *) arg)->evs[k]);
}

static void
bench(const char *label, const char *rules, int n)
{
	char		yaml[4096];
	char		err[1024];
	trib_config *cfg;
	static rules_arg a;
	timed_case	c = {rules_build, rules_run, rules_clear, &a};

	if (!wanted(label))
		return;
	snprintf(yaml, sizeof(yaml), "%s%s", HEAD, rules);
	if (!trib_config_load_buffer("b.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
		die(label, err);
	if ((a.rs = trib_rules_new(cfg, NULL, err, sizeof(err))) == NULL)
		die(label, err);
	printf("%-28s %8.0f ns/event\n", label, time_case(&c, n));
	trib_rules_free(a.rs);
	trib_config_free(cfg);
}

/* Wall-clock ns. */
static double
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One event's verdict as the pipeline gets it: from the pool (which hands
 * results back as they are masked) or from the rules on this thread. */
static trib_verdict
bench_take(trib_rules_pool *pl, trib_rules *rs, trib_event *ev, char *err, size_t errlen)
{
	trib_verdict v;
	const trib_relation *src;

	if (pl != NULL && trib_rules_pool_take(pl, ev, &v, &src, err, errlen))
		return v;
	return trib_rules_apply(rs, ev, err, errlen);
}

/* The rules through a pool of `parts` threads (1: trib_rules_apply, no
 * pool), in batches of 512: best of 3 rounds of the caller's CPU and of
 * wall time, ns per event. */
static void
bench_pool(const char *label, const char *rules, int n, int parts)
{
	char		yaml[4096];
	char		err[1024];
	trib_config *cfg;
	trib_rules *rs;
	trib_rules_pool *pl;
	static trib_event *evs[512];
	double		best_cpu = 1e18,
				best_wall = 1e18;

	if (!wanted(label))
		return;
	snprintf(yaml, sizeof(yaml), "%s%s", HEAD, rules);
	if (!trib_config_load_buffer("b.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
		die(label, err);
	if ((rs = trib_rules_new(cfg, NULL, err, sizeof(err))) == NULL ||
		((pl = trib_rules_pool_new(rs, cfg, NULL, parts, err, sizeof(err))) == NULL && parts > 1))
		die(label, err);
	for (int round = 0; round < 3; round++)
	{
		double		cpu = 0,
					wall = 0;

		for (int first = 1; first <= n; first += 512)
		{
			int			m = n - first + 1 < 512 ? n - first + 1 : 512;
			double		c0,
						w0;

			for (int k = 0; k < m; k++)
			{
				static rules_arg a;

				rules_build(&a, 0, first + k);
				evs[k] = a.evs[0];
			}
			c0 = now_ns();
			w0 = wall_ns();
			if (pl != NULL)
				trib_rules_pool_run(pl, evs, (size_t) m);
			for (int k = 0; k < m; k++)
				if (bench_take(pl, rs, evs[k], err, sizeof(err)) == TRIB_VERDICT_FAIL)
					die(label, err);
			cpu += now_ns() - c0;
			wall += wall_ns() - w0;
			trib_rules_pool_forget(pl);
			for (int k = 0; k < m; k++)
				trib_event_free(evs[k]);
		}
		best_cpu = cpu / n < best_cpu ? cpu / n : best_cpu;
		best_wall = wall / n < best_wall ? wall / n : best_wall;
	}
	printf("%-28s %8.0f ns/event on the caller's thread, %8.0f ns/event wall\n", label,
		   best_cpu, best_wall);
	trib_rules_pool_free(pl);
	trib_rules_free(rs);
	trib_config_free(cfg);
}

/* ---- part 2: each strategy alone ---------------------------------------- */

/* The value a strategy gets for row i: name, email, amount, meta.k, id
 * (6 digits, as 90% of W1's ids). */
enum
{
	V_NAME, V_EMAIL, V_AMOUNT, V_METAK, V_ID
};

static void
value_of(int which, int i, char *buf, size_t len, trib_jvalue *v)
{
	static const char *const fmt[] = {"name%d", "user%d@example.com", "%d.50", "%d", "%d"};

	snprintf(buf, len, fmt[which], which == V_ID ? 100000 + i : i);
	v->kind = which == V_NAME || which == V_EMAIL ? TRIB_J_STRING : TRIB_J_NUMBER;
	v->text = buf;
	v->len = strlen(buf);
	v->sqltype = NULL;
}

/* The strategies of part 2, set up once. */
typedef struct strategies
{
	trib_key   *key;
	trib_fake_dicts *dicts;
	trib_mask  *subst,
			   *perturb,
			   *partial;
	trib_mask_hash *hash;
	trib_mask_tokenizer *tok;
} strategies;

static trib_mask *
mask_of(trib_mask_kind kind, strategies *s)
{
	trib_mask_spec spec;
	trib_mask  *m;
	char		err[512];

	trib_mask_spec_init(&spec, kind);
	spec.key = s->key->bytes;
	spec.keylen = s->key->len;
	spec.dicts = s->dicts;
	spec.perturb.amount = 5;
	spec.partial.keep_last = 2;
	if ((m = trib_mask_new(&spec, err, sizeof(err))) == NULL)
		die("trib_mask_new", err);
	return m;
}

static void
strategies_init(strategies *s)
{
	char		err[512];

	s->key = trib_key_parse(KEYHEX, strlen(KEYHEX), TRIB_KEY_HEX, "bench", err, sizeof(err));
	if (s->key == NULL || (s->dicts = trib_fake_dicts_load(NULL, err, sizeof(err))) == NULL)
		die("setup", err);
	s->subst = mask_of(TRIB_MASK_SUBSTITUTE, s);
	s->perturb = mask_of(TRIB_MASK_PERTURB, s);
	s->partial = mask_of(TRIB_MASK_PARTIAL, s);
	s->hash = trib_mask_hash_new(s->key, "email", 5, TRIB_MASK_HASH_HEX, 0, err, sizeof(err));
	s->tok = trib_mask_tokenize_new(s->key, TRIB_ALPHA_DIGITS, "id", 2, false, err, sizeof(err));
	if (s->hash == NULL || s->tok == NULL)
		die("setup", err);
}

static void
strategies_free(strategies *s)
{
	trib_mask_free(s->subst);
	trib_mask_free(s->perturb);
	trib_mask_free(s->partial);
	trib_mask_hash_free(s->hash);
	trib_mask_tokenize_free(s->tok);
	trib_fake_dicts_free(s->dicts);
	trib_key_free(s->key);
}

/* The inputs of part 2 in their slots. */
typedef struct value_arg
{
	strategies *s;
	int			which;
	char		bufs[BATCH][64];
	char		keys[BATCH][256];	/* row keys; the tree case: images */
	trib_jvalue vs[BATCH];
} value_arg;

static void
value_build(void *arg, int k, int i)
{
	value_arg  *a = arg;

	value_of(a->which, i, a->bufs[k], sizeof(a->bufs[k]), &a->vs[k]);
	snprintf(a->keys[k], sizeof(a->keys[k]), "{\"id\":%d}", i);
}

/* One value through strategy `which`. */
static void
value_run(void *arg, int k)
{
	value_arg  *a = arg;
	strategies *s = a->s;
	const trib_jvalue *v = &a->vs[k];
	trib_mask_row row = {a->keys[k], strlen(a->keys[k]), "amount"};
	trib_jvalue_buf out = {0};
	char		err[512];
	char	   *text = NULL;
	size_t		n;
	bool		ok;

	if (a->which == V_EMAIL)
		ok = trib_mask_hash_apply(s->hash, v->text, v->len, &text, &n, err, sizeof(err));
	else if (a->which == V_ID)
		ok = trib_mask_tokenize(s->tok, v->text, v->len, &text, err, sizeof(err));
	else
		ok = trib_mask_apply(a->which == V_NAME ? s->subst : a->which == V_AMOUNT ? s->perturb
							 : s->partial, v, &row, &out, err, sizeof(err));
	if (!ok)
		die("strategy", err);
	free(text);
	trib_jvalue_buf_free(&out);
}

/* The row image of row i (in bufs: too small) and its key, for the tree case. */
static void
tree_build(void *arg, int k, int i)
{
	value_arg  *a = arg;
	char		key[32];

	row_of(i, a->keys[k], sizeof(a->keys[k]), key, sizeof(key));
	snprintf(a->bufs[k], sizeof(a->bufs[k]), "%s", key);
}

/* Parse the image and the key into trees and write them back. */
static void
tree_run(void *arg, int k)
{
	value_arg  *a = arg;
	char		err[256];

	for (int img = 0; img < 2; img++)
	{
		yajl_val	v = trib_jdoc_parse(img ? a->bufs[k] : a->keys[k], err, sizeof(err));
		char	   *d = v ? trib_jdoc_dump(v) : NULL;

		if (d == NULL)
			die("image parse", err);
		free(d);
		yajl_tree_free(v);
	}
}

/* ns per value of strategy `which`, or (which < 0) ns per event of the
 * image parse and write-back. */
static void
bench_value(strategies *s, const char *label, int which, int n)
{
	static value_arg a;
	timed_case	c = {which < 0 ? tree_build : value_build,
	which < 0 ? tree_run : value_run, NULL, &a};

	if (!wanted(label))
		return;
	a.s = s;
	a.which = which;
	printf("%-28s %8.0f ns/%s\n", label, time_case(&c, n), which < 0 ? "event" : "value");
}

static void
bench_strategies(int n)
{
	strategies	s = {0};

	strategies_init(&s);
	printf("-- each strategy alone, on its W1 value (no image parsed) --\n");
	bench_value(&s, "value: substitute full_name", V_NAME, n);
	bench_value(&s, "value: hash email", V_EMAIL, n);
	bench_value(&s, "value: perturb amount", V_AMOUNT, n);
	bench_value(&s, "value: partial meta.k", V_METAK, n);
	bench_value(&s, "value: tokenize id (FF1)", V_ID, n);
	bench_value(&s, "image parse + write-back", -1, n);
	strategies_free(&s);
}

int
main(int argc, char **argv)
{
	int			n = argc > 1 ? atoi(argv[1]) : 100000;
	const char *k = "key: \"" KEYHEX "\"";
	char		r[5][256];
	char		all[1400] = "";

	only = argc > 2 ? argv[2] : NULL;
	if (getenv("BENCH_RULES_NOINDEX") != NULL)
		rl_splice_source_index = false;
	if (getenv("BENCH_RULES_HAND") == NULL)
	{
		char		err[1024];
		trib_pgrec *rel = NULL;

		parser = trib_pgrec_parser_new("pg", "bench");
		trib_pgrec_parser_set_image_index(parser, true);	/* as with rules */
		if (!trib_pgrec_parser_parse(parser, REL_RECORD, strlen(REL_RECORD), &rel, err, sizeof(err)))
			die("relation record", err);
		trib_pgrec_free(rel);
	}
	id_step = n > 0 && n < 1000000 ? 1000000 / n : 1;
	snprintf(r[0], sizeof(r[0]), "  - {type: substitute, fields: [name], kind: full_name, %s}\n", k);
	snprintf(r[1], sizeof(r[1]), "  - {type: hash, fields: [email], context: email, %s}\n", k);
	snprintf(r[2], sizeof(r[2]), "  - {type: perturb, fields: [amount], percent: 5, %s}\n", k);
	snprintf(r[3], sizeof(r[3]), "  - {type: partial, fields: [meta.k], keep_last: 2}\n");
	snprintf(r[4], sizeof(r[4]), "  - {type: tokenize, fields: [id], alphabet: digits, %s}\n", k);
	printf("-- trib_rules_apply, W1 events --\n");
	bench("none", "  []\n", n);
	bench("substitute name", r[0], n);
	bench("hash email", r[1], n);
	bench("perturb amount", r[2], n);
	bench("partial meta.k", r[3], n);
	bench("tokenize id", r[4], n);
	for (int i = 0; i < 5; i++)
		strcat(all, r[i]);
	bench("all five", all, n);
	bench_pool("all five, 1 thread", all, n, 1);
	bench_pool("all five, 2 threads", all, n, 2);
	bench_pool("all five, 3 threads", all, n, 3);
	bench("fernet email (enc + dec)", "  - {type: encrypt, fields: [email], cipher: fernet, "
		  "key: \"" KEYHEX KEYHEX "\"}\n  - {type: decrypt, fields: [email], cipher: fernet, "
		  "key: \"" KEYHEX KEYHEX "\"}\n", n);
	bench("lua filter", "  - {type: filter, lua: \"after.amount > 100 and op ~= 'd'\"}\n", n);
	bench_strategies(n);
	trib_pgrec_parser_free(parser);
	return 0;
}
