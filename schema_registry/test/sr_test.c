/*
 * sr_test.c: helpers for the schema registry's tests (see sr_test.h),
 * including the compatibility matrix runner: each row states the kinds
 * expected in each direction, and the runner derives every level's
 * expectation from them (NONE: nothing; BACKWARD*: the backward kinds;
 * FORWARD*: the forward kinds; FULL*: both), one cmocka test each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr_test.h"

trib_sr_schema *
sr_test_parse(trib_sr_format fmt, const char *text)
{
	char		err[512] = "";
	trib_sr_schema *s = trib_sr_schema_parse(fmt, text, strlen(text), err, sizeof(err));

	if (s == NULL)
		fail_msg("schema refused: %s\n  schema: %s", err, text);
	return s;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

const char *
sr_test_kinds(const trib_sr_violations *v)
{
	static char buf[4096];
	const char *k[256];
	size_t		n = trib_sr_violations_count(v),
				m = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < 256; i++)
		k[i] = trib_sr_violations_get(v, i)->kind;
	n = n < 256 ? n : 256;
	qsort(k, n, sizeof(k[0]), cmp_str);
	for (size_t i = 0; i < n; i++)
	{
		if (i > 0 && strcmp(k[i], k[i - 1]) == 0)
			continue;
		m += (size_t) snprintf(buf + m, sizeof(buf) - m, "%s%s", m ? "," : "", k[i]);
		if (m >= sizeof(buf))
			break;
	}
	return buf;
}

const char *
sr_test_check(trib_sr_format fmt, const char *new_text, const char *const *prev, size_t nprev,
			  trib_sr_level level, trib_sr_violations **out)
{
	trib_sr_schema *n = sr_test_parse(fmt, new_text);
	trib_sr_schema *p[16];
	trib_sr_violations *v;
	char		err[512] = "";
	const char *kinds;

	assert_true(nprev <= 16);
	for (size_t i = 0; i < nprev; i++)
		p[i] = sr_test_parse(fmt, prev[i]);
	v = trib_sr_check(n, (const trib_sr_schema *const *) p, nprev, level, err, sizeof(err));
	if (v == NULL)
		fail_msg("check failed: %s", err);
	kinds = sr_test_kinds(v);
	if (out != NULL)
		*out = v;
	else
		trib_sr_violations_free(v);
	for (size_t i = 0; i < nprev; i++)
		trib_sr_schema_free(p[i]);
	trib_sr_schema_free(n);
	return kinds;
}

typedef struct cell
{
	trib_sr_format fmt;
	const sr_matrix_row *row;
	trib_sr_level level;
	char		expect[1024];
} cell;

/* The union of two kind lists, sorted and without repeats. */
static void
merge_kinds(const char *a, const char *b, char *out, size_t outlen)
{
	char		tmp[1024];
	char	   *k[128];
	size_t		n = 0,
				m = 0;

	snprintf(tmp, sizeof(tmp), "%s%s%s", a, a[0] && b[0] ? "," : "", b);
	for (char *t = strtok(tmp, ","); t != NULL && n < 128; t = strtok(NULL, ","))
		k[n++] = t;
	qsort(k, n, sizeof(k[0]), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(k[i], k[i - 1]) != 0)
			m += (size_t) snprintf(out + m, outlen - m, "%s%s", m ? "," : "", k[i]);
}

static void
run_cell(void **state)
{
	const cell *c = *state;
	const char *prev[1] = {c->row->old_schema};
	const char *got = sr_test_check(c->fmt, c->row->new_schema, prev, 1, c->level, NULL);

	if (strcmp(got, c->expect) != 0)
		fail_msg("%s under %s:\n  expected [%s]\n  got      [%s]", c->row->name,
				 trib_sr_level_name(c->level), c->expect, got);
}

int
sr_test_run_matrix(const char *group, trib_sr_format fmt, const sr_matrix_row *rows, size_t nrows)
{
	size_t		ncells = nrows * 7;
	cell	   *cells = calloc(ncells, sizeof(*cells));
	struct CMUnitTest *tests = calloc(ncells, sizeof(*tests));
	char	  **names = calloc(ncells, sizeof(*names));
	int			rc;

	assert_non_null(cells);
	for (size_t r = 0; r < nrows; r++)
		for (int l = 0; l < 7; l++)
		{
			size_t		i = r * 7 + (size_t) l;
			cell	   *c = &cells[i];
			trib_sr_level lv = (trib_sr_level) l;

			c->fmt = fmt;
			c->row = &rows[r];
			c->level = lv;
			if (lv == TRIB_SR_BACKWARD || lv == TRIB_SR_BACKWARD_TRANSITIVE)
				merge_kinds(rows[r].backward, "", c->expect, sizeof(c->expect));
			else if (lv == TRIB_SR_FORWARD || lv == TRIB_SR_FORWARD_TRANSITIVE)
				merge_kinds(rows[r].forward, "", c->expect, sizeof(c->expect));
			else if (lv != TRIB_SR_NONE)
				merge_kinds(rows[r].backward, rows[r].forward, c->expect, sizeof(c->expect));
			if (asprintf(&names[i], "%s/%s/%s", group, rows[r].name, trib_sr_level_name(lv)) < 0)
				abort();
			tests[i].name = names[i];
			tests[i].test_func = run_cell;
			tests[i].initial_state = c;
		}
	rc = _cmocka_run_group_tests(group, tests, ncells, NULL, NULL);
	for (size_t i = 0; i < ncells; i++)
		free(names[i]);
	free(names);
	free(tests);
	free(cells);
	return rc;
}
