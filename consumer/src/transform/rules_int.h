/*
 * rules_int.h: what the files of the rule engine share (rules.c, the
 * driver; rules_fields.c, value and shape rules; rules_events.c, sample,
 * route and flatten; rules_quality.c).  Private to them; everything else
 * uses rules.h.
 *
 * An event is worked on through an evctx: its three images (before, after,
 * key) parsed on first use into yajl trees that every later rule shares,
 * marked dirty when changed, and written back once by the driver.  A rule
 * that refuses an event sets `why` (and `why_field`) for the dead-letter
 * record: never a field's value.
 */
#ifndef TRIB_RULES_INT_H
#define TRIB_RULES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hmac.h"
#include "jsondoc.h"
#include "rules.h"
#include "strbuf.h"

#define IMG_BEFORE 0
#define IMG_AFTER 1
#define IMG_KEY 2
#define NIMG 3

/* The key `sample` uses without a configured one: public, so anyone can
 * recompute the sample; set a key to make it unpredictable. */
#define SAMPLE_DEFAULT_KEY "tributary-sample-v1"

struct trib_key;
struct trib_fernet;
struct trib_mask;
struct trib_fake_dicts;
struct trib_lua;
struct trib_lua_expr;
struct trib_qcheck;

typedef struct rule
{
	const trib_rule_conf *c;
	trib_jpath *paths;
	int			npaths;
	trib_jpath	by;
	bool		has_by;
	uint64_t	threshold;		/* sample: keep when hash < threshold */
	bool		keep_all;		/* sample: 100% */
	trib_hmac  *mac;			/* sample: keyed once */
	trib_metric *m_selected;	/* events the rule applied to */
	trib_metric *m_pass;		/* quality */
	trib_metric *m_fail;
	struct lookup_state *lookup;	/* lookup: connection and cache */
	struct trib_key *key;		/* hash, sample, tokenize, en/decrypt */
	void	   *objs;			/* rules_crypto.c: strategy per context */
	int			nobjs;
	struct trib_fernet *fernet;	/* encrypt/decrypt with cipher: fernet */
	struct trib_mask *mask;		/* redact, partial, substitute, perturb,
								 * generalize; tokenize: too-short values */
	struct trib_mask *mask_email;	/* partial, keep_email_domain: values
									 * with an '@' */
	struct trib_fake_dicts *dicts;	/* substitute */
	struct trib_lua *lua_state; /* Lua rules: the pipeline's state (borrowed) */
	struct trib_lua_expr *expr; /* filter, compute, map, route with lua */
	struct trib_qcheck *qc;		/* quality: the compiled check */
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
	bool		strict;			/* columns without a rule become null */
	void	   *cov;			/* rules_strict.c: decisions per column */
	trib_metric *m_strict;		/* values strict mode replaced */
	struct trib_lua *lua;		/* one sandboxed state for every Lua rule */
	int64_t		lua_max_instructions;
	int			lua_max_memory_mb;
	/* which rules select the last event's table: events come in runs of
	 * one table, so the globs run once per run, not once per event */
	char	   *sel_source;
	char	   *sel_schema;
	char	   *sel_table;
	bool	   *sel;			/* per rule */
	bool		sel_valid;
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
	char		check_reason[200];	/* a regex/lua check's own reason */
	bool		bound;			/* bound to the Lua state (quality lua) */
	trib_strbuf tags;
} evctx;



/* Value arguments of the per-field callbacks. */
typedef struct value_arg
{
	evctx	   *x;
	const rule *r;
	bool		changed;
	char	   *errbuf;			/* internal errors (not data) */
	size_t		errlen;
} value_arg;

/* The first value a path reaches (rl_first_cb's argument). */
typedef struct first_arg
{
	const char *text;
	bool		found;
	bool		is_null;
} first_arg;

/* rules.c */
bool		rl_selected(const trib_rule_conf *c, const trib_event *ev);
char	  **rl_img_text(trib_event *ev, int i);
bool		rl_img_all(evctx *x, char *errbuf, size_t errlen);

/* rules_fields.c: helpers */
void		rl_replace(yajl_val *slot, yajl_val v);
bool		rl_is_json_number(const char *s);
bool		rl_is_json_integer(const char *s);
bool		rl_any_path_first(const rule *r, const char *column);
bool		rl_first_cb(yajl_val *slot, const char *name, void *arg);
const char *rl_row_value(evctx *x, const trib_jpath *path, char *errbuf, size_t errlen);

/* rules_events.c */
bool		rl_expand_template(evctx *x, const char *tmpl, char **out,
							   char *errbuf, size_t errlen);

/* the rules: false / TRIB_VERDICT_* as the driver expects */
bool		rl_apply_value_rule(evctx *x, const rule *r, char *errbuf, size_t errlen);
bool		rl_apply_shape_rule(evctx *x, const rule *r, char *errbuf, size_t errlen);
trib_verdict rl_apply_sample(evctx *x, const rule *r, char *errbuf, size_t errlen);
bool		rl_apply_route(evctx *x, const rule *r, char *errbuf, size_t errlen);
trib_verdict rl_apply_flatten(evctx *x, const rule *r, char *errbuf, size_t errlen);
trib_verdict rl_apply_quality(evctx *x, rule *r, char *errbuf, size_t errlen);
trib_verdict rl_apply_outbox(evctx *x, const rule *r, char *errbuf, size_t errlen);
bool		rl_apply_aggregate(evctx *x, const rule *r, char *errbuf, size_t errlen);
bool		rl_apply_lookup(evctx *x, rule *r, char *errbuf, size_t errlen);
void		rl_lookup_free(rule *r);

/* rules_crypto.c */
bool		rl_crypto_init(rule *r, char *errbuf, size_t errlen);
void		rl_crypto_free(rule *r);
bool		rl_crypto_value(yajl_val *slot, const char *name, value_arg *a,
							char *errbuf, size_t errlen);

/* rules_mask.c */
bool		rl_mask_init(rule *r, char *errbuf, size_t errlen);
void		rl_mask_free(rule *r);
bool		rl_mask_value(yajl_val *slot, const char *name, value_arg *a,
						  char *errbuf, size_t errlen);

/* rules_lua.c */
struct trib_lua *rl_lua_state(trib_rules *rs, char *errbuf, size_t errlen);
bool		rl_lua_init(trib_rules *rs, rule *r, char *errbuf, size_t errlen);
void		rl_lua_bind(evctx *x, struct trib_lua *T);
trib_verdict rl_apply_lua(evctx *x, const rule *r, char *errbuf, size_t errlen);

/* rules_quality.c */
bool		rl_quality_init(trib_rules *rs, rule *r, char *errbuf, size_t errlen);
void		rl_quality_free(rule *r);
void		rl_quality_batch_end(rule *r);

/* rules_strict.c */
trib_verdict rl_strict_pass(trib_rules *rs, evctx *x, char *errbuf, size_t errlen);
void		rl_strict_free(trib_rules *rs);

#endif							/* TRIB_RULES_INT_H */
