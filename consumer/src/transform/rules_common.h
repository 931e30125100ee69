/*
 * rules_common.h: what the files of the rule engine share, owned by
 * rules_common.c.  Private to transform/; everything else uses rules.h.
 * It does not include rules.h (rules.c includes the families, which
 * include this header): the verdict comes from verdict.h.
 *
 * The engine's files depend one way: rules.c (the driver and the table of
 * rule operations) uses the rule families (rules_fields.c, rules_mask.c,
 * rules_crypto.c, rules_events.c, rules_enrich.c, rules_lua.c,
 * rules_quality.c, rules_strict.c), each through its own header, and
 * they all use rules_common.c; nothing calls back up.
 *
 * A rule type is a row of operations (rl_ops): how to prepare it, free
 * it, apply it to an event, and, for value rules, what to do with one
 * value.  A compiled rule points at its row.
 *
 * An event is worked on through an rl_evctx: its three images (before,
 * after, key) parsed on first use into yajl trees that every later rule
 * shares, marked dirty when changed, and written back once by the driver.
 * A rule's verdict is what its apply op returns, with two explicit fields
 * where a verdict needs more: `stop` (a FAIL that stops the pipeline, a
 * quality rule's action: fail, as opposed to data the rule could not
 * read) and `why_names_rule` (a dead-letter reason that already names its
 * rule).  A rule that refuses an event sets `why` (and `why_field`) for
 * the dead-letter record: never a field's value.
 */
#ifndef TRIB_RULES_COMMON_H
#define TRIB_RULES_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "hmac.h"
#include "jpath.h"
#include "jsondoc.h"
#include "metrics.h"
#include "rules_splice.h"
#include "strbuf.h"
#include "verdict.h"

#define IMG_BEFORE 0
#define IMG_AFTER 1
#define IMG_KEY 2
#define NIMG 3

struct trib_key;
struct trib_fernet;
struct trib_mask;
struct trib_fake_dicts;
struct trib_lua;
struct trib_lua_expr;
struct trib_quality;
struct rl_lookup;

typedef struct rl_ops rl_ops;
typedef struct trib_rules trib_rules;	/* also in rules.h; defined below */

typedef struct rl_rule
{
	const trib_rule_conf *c;
	const rl_ops *ops;			/* the row of its type (rules.c) */
	trib_jpath *paths;
	int			npaths;
	struct rl_sp_path *sp_paths;	/* paths prepared for rules_splice.c */
	int		   *sp_member;		/* rl_splice_find's answers, path p image i
								 * at [p * NIMG + i], within one event */
	trib_jpath	by;
	bool		has_by;
	uint64_t	threshold;		/* sample: keep when hash < threshold */
	bool		keep_all;		/* sample: 100% */
	trib_hmac  *mac;			/* sample: keyed once */
	trib_metric *m_selected;	/* events the rule applied to */
	trib_metric *m_pass;		/* quality */
	trib_metric *m_fail;
	struct rl_lookup *lookup;	/* lookup: connection and cache */
	struct trib_key *key;		/* hash, sample, tokenize, en/decrypt */
	void	   *objs;			/* rules_crypto.c: strategy per context */
	int			nobjs;
	struct trib_fernet *fernet;	/* encrypt/decrypt with cipher: fernet */
	struct trib_mask *mask;		/* redact, partial, substitute, perturb,
								 * generalize; tokenize: too-short values */
	struct trib_mask *mask_email;	/* partial, keep_email_domain: values
									 * with an '@' */
	struct trib_fake_dicts *dicts;	/* substitute */
	/* the masks' last SQL type lookup (rules_mask.c): column sqlt_name of
	 * relation sqlt_rel at sqlt_version has type sqlt_type (NULL: none) */
	const trib_relation *sqlt_rel;
	uint32_t	sqlt_version;
	char		sqlt_name[64];
	const char *sqlt_type;
	struct trib_lua *lua_state; /* Lua rules: the pipeline's state (borrowed) */
	struct trib_lua_expr *expr; /* filter, compute, map, route with lua */
	struct trib_quality *qc;		/* quality: the compiled check */
} rl_rule;

/* A relation reshaped by the shape rules that select its table. */
typedef struct rl_derived
{
	const trib_relation *src;
	uint32_t	version;
	trib_relation *rel;			/* NULL: no shape rule applies */
} rl_derived;

struct trib_rules
{
	rl_rule    *r;
	int			n;
	rl_derived *d;
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
	struct rl_splice *splice;	/* rules_splice.c: kept for the next event */
};

/* One event while the rules run. */
typedef struct rl_evctx
{
	trib_event *ev;
	yajl_val	img[NIMG];
	bool		parsed[NIMG];
	bool		dirty[NIMG];
	bool		reshaped;
	const char *why;			/* dead-letter reason (static text) */
	const char *why_field;		/* in an image's tree, or why_field_own */
	char	   *why_field_own;	/* a copy, where the name's tree is freed
								 * before the reason is written; freed with
								 * the context (rl_apply) */
	bool		why_names_rule; /* why names its rule already */
	bool		stop;			/* FAIL stops the pipeline (not bad data) */
	char		reason[256];	/* why points here for quality failures */
	char		check_reason[200];	/* a regex/lua check's own reason */
	bool		bound;			/* bound to the Lua state (quality lua) */
	trib_strbuf tags;
	struct rl_splice *sp;		/* rules_splice.c: the images as text
								 * (trib_rules.splice, lent) */
} rl_evctx;

/* The arguments of a value op. */
typedef struct rl_value_arg
{
	rl_evctx   *x;
	const rl_rule *r;
	bool		changed;
	char	   *errbuf;			/* internal errors (not data) */
	size_t		errlen;
} rl_value_arg;

/* The first value a path reaches (rl_first_cb's argument). */
typedef struct rl_first_arg
{
	const char *text;
	bool		found;
	bool		is_null;
} rl_first_arg;

/* rl_ops.flags */
#define RL_ROWS 0x01			/* applies to row events only (c, u, d, r) */
#define RL_SHAPE_KNOWN 0x02		/* what it makes of a table's shape follows
								 * from the relation alone (rules.c derives
								 * it), so a target can be made before any
								 * row (trib_rules_target); not so for route,
								 * flatten, outbox and map */
#define RL_MASKS 0x04			/* masks the values it touches: lineage
								 * marks them (trib_rule_masks), strict mode
								 * counts them as a decision */
#define RL_PURE_TEXT 0x08		/* its value_text is a function of the
								 * value, the field's name and the event (no
								 * randomness, no state): one path's equal
								 * values in before, after and key are
								 * masked once (rules_splice.h's `same`) */

/*
 * The operations of one rule type.  init and free may be NULL.  apply
 * returns the verdict (KEEP to go on); a value rule's apply is
 * rl_apply_values, which calls `value` on every value its paths reach.
 * A value op returns false to refuse the event (x->why set: bad data) or
 * on an internal error (errbuf).
 *
 * Derived relations (rules.c's rl_derive): `shapes` says whether a rule
 * so configured changes its table's columns (NULL: never), and `reshape`
 * makes that change on a copy of the relation.
 */
struct rl_ops
{
	unsigned	flags;
	bool		(*init) (trib_rules *rs, rl_rule *r, char *errbuf, size_t errlen);
	void		(*free) (rl_rule *r);
	trib_verdict (*apply) (rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen);
	bool		(*value) (yajl_val *slot, const char *name, rl_value_arg *a);
	bool		(*shapes) (const trib_rule_conf *c);
	void		(*reshape) (trib_relation *rel, const rl_rule *r);
	/* optional: `value` on a scalar's text, no nodes (rules_splice.h); on
	 * the text path it runs first, and `value` only when it declines */
	rl_sp_text_res (*value_text) (const trib_jvalue *in, const char *name,
								  rl_value_arg *a, trib_jvalue_buf *out);
};

/* Does rule conf c select this event (sources, tables)? */
bool		rl_selected(const trib_rule_conf *c, const trib_event *ev);

/* The event's text of image i, and the three images parsed (false when
 * one is not JSON); changed images written back into the event. */
char	  **rl_img_text(trib_event *ev, int i);
bool		rl_img_all(rl_evctx *x, char *errbuf, size_t errlen);
void		rl_img_write_back(rl_evctx *x);

/* A value rule's apply: the value op on every path in before, after and,
 * for top-level columns, the key. */
trib_verdict rl_apply_values(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen);

/* Replace a tree node (the old one is freed). */
void		rl_replace(yajl_val *slot, yajl_val v);

/* JSON number text, and one written without fraction or exponent. */
bool		rl_is_json_number(const char *s);
bool		rl_is_json_integer(const char *s);

/* Does a one-segment path of r match this top-level column? */
bool		rl_any_path_first(const rl_rule *r, const char *column);

/* trib_jpath_each callback: the first value a path reaches (rl_first_arg). */
bool		rl_first_cb(yajl_val *slot, const char *name, void *arg);

/* The text of the first scalar `path` reaches in the row (after, else
 * before); NULL when missing, null, or not a scalar. */
const char *rl_row_value(rl_evctx *x, const trib_jpath *path, char *errbuf, size_t errlen);

/* Expand a topic template for this event into *out (malloc'd); false with
 * x->why set when a field is missing, null or not a scalar. */
bool		rl_expand_template(rl_evctx *x, const char *tmpl, char **out,
							   char *errbuf, size_t errlen);

/* The rule's key (r->key, keys.h) when it has one configured. */
bool		rl_rule_key(rl_rule *r, char *errbuf, size_t errlen);

/* ---- derived relations: what the reshape ops share -------------------- */

/* A shapes op for rules that always change their table's columns. */
bool		rl_shapes_always(const trib_rule_conf *c);

/* A reshape op for value rules that write strings: every column a path of
 * r names and whose type is not text becomes text. */
void		rl_reshape_text(trib_relation *rel, const rl_rule *r);

/* Remove column i; give a column a new type (its declaration dropped);
 * add a nullable column, or retype it when it exists. */
void		rl_rel_remove_column(trib_relation *rel, int i);
void		rl_rel_set_type(trib_column *col, const char *type);
void		rl_rel_add_column(trib_relation *rel, const char *name, const char *type);

/*
 * The rules on ev without touching its relation (rules.c): *reshaped says
 * whether the caller must give ev the derived relation, rl_derive(), as
 * trib_rules_apply() does.  rules_pool.c runs it on worker threads, each
 * with its own trib_rules, and derives on the pipeline's, in order.
 */
trib_verdict rl_apply(trib_rules *rs, trib_event *ev, bool *reshaped,
					  char *errbuf, size_t errlen);
const trib_relation *rl_derive(trib_rules *rs, const trib_event *ev);

#endif							/* TRIB_RULES_COMMON_H */
