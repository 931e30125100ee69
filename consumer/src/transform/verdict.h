/*
 * verdict.h: what a transform decides about one event.  Shared by the
 * rule engine's public header (rules.h), its rule families (through
 * rules_common.h) and the pipeline, so that the families need not include
 * rules.h, which depends on them.  Includes only stdbool.h.
 */
#ifndef TRIB_VERDICT_H
#define TRIB_VERDICT_H

typedef enum trib_verdict
{
	TRIB_VERDICT_KEEP = 0,
	TRIB_VERDICT_DROP,
	TRIB_VERDICT_DEAD_LETTER,	/* ev->error says why */
	TRIB_VERDICT_FAIL			/* stop the pipeline; errbuf says why */
} trib_verdict;

#include <stdbool.h>

/* One value a quality rule checked (rules.h, trib_rules_quality_check):
 * the rule, the field's path, whether it passed, why not (never the
 * value) and what the stream would do then ("dead_letter", "drop", "tag",
 * "fail"). */
typedef void (*trib_quality_verdict_fn) (void *arg, const char *rule, const char *field,
										 bool pass, const char *why, const char *action);

#endif							/* TRIB_VERDICT_H */
