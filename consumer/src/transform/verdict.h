/*
 * verdict.h: what a transform decides about one event.  Shared by the
 * rule engine's public header (rules.h), its rule families (through
 * rules_common.h) and the pipeline, so that the families need not include
 * rules.h, which depends on them.  Includes nothing.
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

#endif							/* TRIB_VERDICT_H */
