/*
 * sr_compat.c: compatibility levels, written once for both formats.
 *
 * A level is a set of (direction, which previous versions) checks, as in
 * Confluent Schema Registry: BACKWARD checks that the new schema reads
 * data written with the latest version, FORWARD that the latest reads
 * data written with the new one, FULL both; the _TRANSITIVE levels do the
 * same against every previous version, latest first.  Each (reader,
 * writer) pair goes to the checker of its format (sr_jsch_compat.c,
 * sr_avro_compat.c), which reports every violation; this file tags them
 * with the previous version and the direction.
 */
#include <stdlib.h>
#include <string.h>

#include "sr_int.h"

struct trib_sr_violations
{
	trib_sr_violation *items;
	size_t		count;
	char	  **strings;		/* owned copies of paths and messages */
};

static bool
level_backward(trib_sr_level l)
{
	return l == TRIB_SR_BACKWARD || l == TRIB_SR_BACKWARD_TRANSITIVE ||
		l == TRIB_SR_FULL || l == TRIB_SR_FULL_TRANSITIVE;
}

static bool
level_forward(trib_sr_level l)
{
	return l == TRIB_SR_FORWARD || l == TRIB_SR_FORWARD_TRANSITIVE ||
		l == TRIB_SR_FULL || l == TRIB_SR_FULL_TRANSITIVE;
}

static bool
level_transitive(trib_sr_level l)
{
	return l == TRIB_SR_BACKWARD_TRANSITIVE || l == TRIB_SR_FORWARD_TRANSITIVE ||
		l == TRIB_SR_FULL_TRANSITIVE;
}

/* Check one direction against one previous version. */
static void
check_pair(const trib_sr_schema *reader, const trib_sr_schema *writer, bool reader_is_new,
		   sr_diffs *d)
{
	if (reader->fmt != writer->fmt)
		sr_diffs_add(d, reader->fmt == TRIB_SR_JSON ? "#/" : "/", "SCHEMA_TYPE_CHANGED",
					 "The new schema is %s and the old one %s: schemas of different types "
					 "are never compatible", trib_sr_format_name(reader_is_new ? reader->fmt : writer->fmt),
					 trib_sr_format_name(reader_is_new ? writer->fmt : reader->fmt));
	else if (reader->fmt == TRIB_SR_JSON)
		sr_json_check(reader, writer, reader_is_new, d);
	else
		sr_avro_check(reader, writer, reader_is_new, d);
}

/* Move d's differences into the public list. */
static bool
append(trib_sr_violations *v, sr_diffs *d, size_t previous, trib_sr_direction dir)
{
	trib_sr_violation *items;
	char	  **strings;

	if (d->count == 0)
		return true;
	items = realloc(v->items, (v->count + d->count) * sizeof(*items));
	if (items == NULL)
		return false;
	v->items = items;
	strings = realloc(v->strings, 2 * (v->count + d->count) * sizeof(*strings));
	if (strings == NULL)
		return false;
	v->strings = strings;
	for (size_t i = 0; i < d->count; i++)
	{
		trib_sr_violation *x = &v->items[v->count];

		v->strings[2 * v->count] = d->items[i].path;
		v->strings[2 * v->count + 1] = d->items[i].message;
		x->path = d->items[i].path;
		x->kind = d->items[i].kind;
		x->message = d->items[i].message;
		x->previous = previous;
		x->direction = dir;
		v->count++;
		d->items[i].path = d->items[i].message = NULL;	/* moved */
	}
	return true;
}

trib_sr_violations *
trib_sr_check(const trib_sr_schema *new_schema, const trib_sr_schema *const *previous,
			  size_t nprevious, trib_sr_level level, char *errbuf, size_t errlen)
{
	trib_sr_violations *v = calloc(1, sizeof(*v));
	size_t		first;

	if (v == NULL)
		return sr_err(errbuf, errlen, "out of memory"), NULL;
	if (new_schema == NULL || (nprevious > 0 && previous == NULL) ||
		(unsigned) level > TRIB_SR_FULL_TRANSITIVE)
	{
		trib_sr_violations_free(v);
		return sr_err(errbuf, errlen, "trib_sr_check: no schema, or an unknown level"), NULL;
	}
	if (level == TRIB_SR_NONE || nprevious == 0)
		return v;
	first = level_transitive(level) ? 0 : nprevious - 1;
	for (size_t i = nprevious; i-- > first;)
	{
		sr_diffs	d = {0};
		bool		ok = true;

		if (level_backward(level))
		{
			check_pair(new_schema, previous[i], true, &d);
			ok = !d.oom && !d.too_big && append(v, &d, i, TRIB_SR_NEW_READS_OLD);
			sr_diffs_free(&d);
		}
		if (ok && level_forward(level))
		{
			check_pair(previous[i], new_schema, false, &d);
			ok = !d.oom && !d.too_big && append(v, &d, i, TRIB_SR_OLD_READS_NEW);
			sr_diffs_free(&d);
		}
		if (!ok)
		{
			sr_err(errbuf, errlen, d.too_big ? "the schemas are too large or too recursive to compare"
				   " within the checker's work limit" : "out of memory");
			trib_sr_violations_free(v);
			return NULL;
		}
	}
	return v;
}

size_t
trib_sr_violations_count(const trib_sr_violations *v)
{
	return v->count;
}

const trib_sr_violation *
trib_sr_violations_get(const trib_sr_violations *v, size_t i)
{
	return i < v->count ? &v->items[i] : NULL;
}

void
trib_sr_violations_free(trib_sr_violations *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < 2 * v->count; i++)
		free(v->strings[i]);
	free(v->strings);
	free(v->items);
	free(v);
}
