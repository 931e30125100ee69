/*
 * sr_test.h: helpers shared by the schema registry's cmocka tests
 * (sr_test.c): parse a schema or fail the test, and run a check and
 * summarize its violations as a sorted, comma-separated list of kinds, so
 * a table row can state what it expects in one string.
 */
#ifndef SR_TEST_H
#define SR_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tribsr.h"

/* Parse text as fmt; fails the test with the parser's message if refused. */
trib_sr_schema *sr_test_parse(trib_sr_format fmt, const char *text);

/* The distinct kinds of a list, sorted, joined by ","; "" when empty.
 * Returns a static buffer (tests are single-threaded). */
const char *sr_test_kinds(const trib_sr_violations *v);

/* Check new against the previous documents (oldest first) under level and
 * return the kinds as above; fails the test if the check errs.  *out (when
 * not NULL) receives the list, which the caller frees. */
const char *sr_test_check(trib_sr_format fmt, const char *new_text, const char *const *prev,
						  size_t nprev, trib_sr_level level, trib_sr_violations **out);

/* One cmocka test per (row, level): a generic runner. */
typedef struct sr_matrix_row
{
	const char *name;
	const char *old_schema;
	const char *new_schema;
	const char *backward;		/* kinds when the new schema reads old data */
	const char *forward;		/* kinds when the old schema reads new data */
} sr_matrix_row;

/* Run every row of a matrix under all seven levels; returns cmocka's
 * result. */
int			sr_test_run_matrix(const char *group, trib_sr_format fmt,
							   const sr_matrix_row *rows, size_t nrows);

#endif							/* SR_TEST_H */
