/*
 * mask.h: value strategies of the transform rules (redact, partial,
 * substitute, perturb, generalize) applied to one value of a row image.
 *
 * Design.  A rule names a strategy and its parameters once, in the config;
 * trib_mask_new() validates them and returns a compiled handle, and
 * trib_mask_apply() runs it on one value at a time.  A value is what one
 * column holds in a row image (event.h: JSON object text), decoded into a
 * trib_jvalue (jvalue.h): its JSON kind, its text (a string's decoded
 * UTF-8 content, a number's literal exactly as written, so no digit is
 * lost), and the column's SQL type name when the source knows it.  The
 * result comes back in the same form (trib_jvalue_buf); the rule engine
 * splices it into the image.
 *
 * Every strategy maps JSON null to null (there is nothing to hide),
 * except redact's fixed mode, which writes its value whatever the column
 * held.  redact's mask mode keeps the shape of objects and arrays and
 * masks each scalar leaf; partial refuses objects and arrays.  The rule
 * engine applies a strategy to a value of a parsed row image in place
 * with trib_mask_apply_node().  Strategies fail closed: a value a strategy cannot handle (perturb of a
 * word, generalize of a boolean) is an error with a message that never
 * contains the value, and the rule engine dead-letters the event; it is
 * never passed through unmasked.
 *
 * Keyed strategies.  substitute and perturb derive everything from
 * HMAC-SHA256 under a secret key (trib_mask_spec.key), so the same input
 * (and, for perturb, the same row key and column) always gives the same
 * output, across tables, restarts and replays, while nobody without the
 * key can recompute it.  Without a key, a fixed public key is used; the
 * outputs are still deterministic but anyone can recompute them, so fakes
 * can be matched back to candidate inputs (a dictionary attack).  See
 * docs/MASKING.md.
 *
 * Threads: a trib_mask is immutable after trib_mask_new() and may be used
 * from several threads at once.
 *
 * Ownership: trib_mask_new() copies everything it keeps from the spec
 * except `dicts` (borrowed; must outlive the mask).
 */
#ifndef TRIB_MASK_H
#define TRIB_MASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "jvalue.h"
#include "mask_fake.h"
#include "strbuf.h"

/* ---- strategies --------------------------------------------------------- */

typedef enum trib_mask_kind
{
	TRIB_MASK_REDACT = 0,
	TRIB_MASK_PARTIAL,
	TRIB_MASK_SUBSTITUTE,
	TRIB_MASK_PERTURB,
	TRIB_MASK_GENERALIZE
} trib_mask_kind;

typedef enum trib_redact_mode
{
	TRIB_REDACT_NULL = 0,		/* the value becomes null */
	TRIB_REDACT_FIXED,			/* the value becomes fixed_json */
	TRIB_REDACT_MASK			/* one mask character per character */
} trib_redact_mode;

typedef enum trib_perturb_mode
{
	TRIB_PERTURB_PERCENT = 0,	/* +- amount percent of the value */
	TRIB_PERTURB_ABSOLUTE,		/* +- amount */
	TRIB_PERTURB_DAYS			/* dates/timestamps +- 1..days whole days */
} trib_perturb_mode;

typedef enum trib_generalize_mode
{
	TRIB_GEN_RANGE = 0,			/* numbers -> "30-39" (width 10) */
	TRIB_GEN_LOWER,				/* numbers -> 30, the bucket's lower bound */
	TRIB_GEN_MONTH,				/* dates/timestamps -> first of the month */
	TRIB_GEN_YEAR				/* dates/timestamps -> January 1st */
} trib_generalize_mode;

/*
 * A strategy and its parameters.  trib_mask_spec_init() sets the defaults
 * given in the comments; set what the rule says and call trib_mask_new().
 */
typedef struct trib_mask_spec
{
	trib_mask_kind kind;

	struct
	{
		trib_redact_mode mode;	/* default TRIB_REDACT_MASK */
		const char *fixed_json; /* FIXED: any JSON value text, e.g.
								 * "\"REDACTED\"" or "0" */
		const char *fixed_string;	/* FIXED: a string value as it is
									 * (instead of fixed_json) */
		const char *mask_char;	/* MASK: one UTF-8 character; default "*" */
		int			length;		/* MASK: > 0 always this many characters
								 * (hides the length); default 0: as many
								 * as the value has */
	}			redact;

	struct
	{
		int			keep_first; /* characters kept at the start; default 0 */
		int			keep_last;	/* characters kept at the end; default 4 */
		bool		keep_separators;	/* ASCII punctuation and spaces stay
										 * and do not count; default false */
		bool		email;		/* mask the local part only, keep "@domain";
								 * keep_first/keep_last apply to the local
								 * part; default false */
		const char *mask_char;	/* default "*" */
	}			partial;

	struct
	{
		trib_fake_kind what;	/* default TRIB_FAKE_FULL_NAME */
		const char *iban_country;	/* IBAN country when the input is not
									 * an IBAN of a supported country;
									 * default "DE" */
	}			substitute;

	struct
	{
		trib_perturb_mode mode; /* default TRIB_PERTURB_PERCENT */
		double		amount;		/* PERCENT/ABSOLUTE: > 0; default 10 */
		int			days;		/* DAYS: 1..36500; default 30 */
	}			perturb;

	struct
	{
		trib_generalize_mode mode;	/* default TRIB_GEN_RANGE */
		int64_t		width;		/* RANGE/LOWER: bucket width >= 1;
								 * default 10 */
	}			generalize;

	/* substitute and perturb: the secret key (copied); NULL: public key */
	const unsigned char *key;
	size_t		keylen;
	/* substitute: the dictionaries (borrowed, must outlive the mask) */
	const trib_fake_dicts *dicts;
} trib_mask_spec;

/* Where a value sits: perturb derives its noise from these. */
typedef struct trib_mask_row
{
	const char *row_key;		/* the event's key (JSON object text), or
								 * NULL when the table has none */
	size_t		row_key_len;
	const char *column;			/* the column's name, or NULL */
} trib_mask_row;

typedef struct trib_mask trib_mask;

/* Defaults for kind (see the field comments). */
void		trib_mask_spec_init(trib_mask_spec *spec, trib_mask_kind kind);

/* Validate spec and compile it; NULL with errbuf filled on bad parameters. */
trib_mask  *trib_mask_new(const trib_mask_spec *spec, char *errbuf,
						  size_t errlen);

/* Free a mask (NULL allowed); wipes the copied key. */
void		trib_mask_free(trib_mask *m);

/*
 * Apply m to in.  row may be NULL (perturb then derives its noise from the
 * value itself).  On success *out holds the result (its previous text is
 * released first).  On failure errbuf says why, without the value.
 */
bool		trib_mask_apply(const trib_mask *m, const trib_jvalue *in,
							const trib_mask_row *row, trib_jvalue_buf *out,
							char *errbuf, size_t errlen);

/*
 * Apply m to the value in *slot, a node of a yajl tree (jsondoc.h), and
 * replace it with the result; sqltype as in trib_jvalue.  redact's mask
 * mode walks objects and arrays and masks their scalar leaves in place.
 * On failure *slot is unchanged and errbuf says why, without the value.
 */
bool		trib_mask_apply_node(const trib_mask *m, yajl_val *slot,
								 const char *sqltype, const trib_mask_row *row,
								 char *errbuf, size_t errlen);

/* Config words <-> enums: "redact", "partial", ...; false if unknown. */
bool		trib_mask_kind_parse(const char *s, trib_mask_kind *out);
const char *trib_mask_kind_name(trib_mask_kind k);

#endif							/* TRIB_MASK_H */
