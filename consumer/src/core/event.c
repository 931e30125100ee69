/*
 * event.c: life cycle of the internal event type.
 *
 * An event is a flat struct of owned strings plus borrowed naming strings
 * (event.h), so freeing it is a fixed list of free() calls, each made only
 * for a field that is set; allocation failure aborts, because a
 * consumer that cannot allocate an event cannot make progress anyway.
 * The image index (event.h) is one allocation, freed and copied whole;
 * whether a part of it still describes its image is checked by length
 * and trib_image_hash(), a multiply-and-shift over eight bytes a step
 * (~4 instructions per 8 bytes: ~100 for a W1 row, against the ~2,500
 * of scanning the image it saves).
 */
#include "event.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* A new zeroed event; aborts on out-of-memory (xalloc.h). */
trib_event *
trib_event_new(void)
{
	return trib_xcalloc(1, sizeof(trib_event));
}

/* Free an event and every string it owns; the naming strings
 * (source ... table) are borrowed and stay. */
void
trib_event_free(trib_event *ev)
{
	if (ev == NULL)
		return;
	trib_event_clear(ev);
	free(ev);
}

/* free(p) unless p is NULL: most of an event's eleven owned fields are
 * NULL (a W1 insert owns after and key only); the nine calls of free(NULL)
 * cost ~23 instructions an event under callgrind. */
static inline void
free_set(void *p)
{
	if (p != NULL)
		free(p);
}

/* Release what an event owns and zero it; the struct stays. */
void
trib_event_clear(trib_event *ev)
{
	free_set(ev->before);
	free_set(ev->after);
	free_set(ev->key);
	free_set(ev->image_index);
	free_set(ev->unchanged);
	free_set(ev->after_json_nulls);
	free_set(ev->before_json_nulls);
	free_set(ev->extra);
	free_set(ev->pos.opaque);
	free_set(ev->topic);
	free_set(ev->tags);
	free_set(ev->error);
	memset(ev, 0, sizeof(*ev));
}

/* *dst = a copy of src (NULL stays NULL); adds its size to *bytes. */
static void
dup_owned(char **dst, const char *src, size_t *bytes)
{
	if (src == NULL)
		return;
	*dst = trib_xstrdup(src);
	*bytes += strlen(src) + 1;
}

/* See event.h. */
size_t
trib_event_copy(const trib_event *ev, trib_event *out)
{
	size_t		bytes = 0;

	*out = *ev;					/* scalars and the borrowed pointers */
	out->before = out->after = out->key = out->unchanged = NULL;
	out->image_index = NULL;
	out->after_json_nulls = out->before_json_nulls = out->extra = NULL;
	out->pos.opaque = out->topic = out->tags = out->error = NULL;
	dup_owned(&out->before, ev->before, &bytes);
	dup_owned(&out->after, ev->after, &bytes);
	dup_owned(&out->key, ev->key, &bytes);
	if (ev->image_index != NULL)
	{
		size_t		n = sizeof(*ev->image_index) + ev->image_index->nm * sizeof(trib_image_member);

		out->image_index = trib_xmalloc(n);
		memcpy(out->image_index, ev->image_index, n);
		bytes += n;
	}
	dup_owned(&out->unchanged, ev->unchanged, &bytes);
	dup_owned(&out->after_json_nulls, ev->after_json_nulls, &bytes);
	dup_owned(&out->before_json_nulls, ev->before_json_nulls, &bytes);
	dup_owned(&out->extra, ev->extra, &bytes);
	dup_owned(&out->pos.opaque, ev->pos.opaque, &bytes);
	trib_position_set_opaque(&out->pos, out->pos.opaque, trib_position_opaque_source(&ev->pos));
	dup_owned(&out->topic, ev->topic, &bytes);
	dup_owned(&out->tags, ev->tags, &bytes);
	dup_owned(&out->error, ev->error, &bytes);
	return bytes;
}

/* See event.h: per eight bytes a multiply and a shift. */
uint64_t
trib_image_hash(const char *s, size_t n)
{
	uint64_t	h = (uint64_t) n * 0x9E3779B97F4A7C15u;
	uint64_t	w;

	for (; n >= 8; s += 8, n -= 8)
	{
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDu;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0xC4CEB9FE1A85EC53u;
	return h ^ (h >> 29);
}

/* See event.h. */
const trib_image_part *
trib_image_index_part(const trib_event *ev, int which, const char *text, size_t n)
{
	const trib_image_part *p;

	if (ev->image_index == NULL)
		return NULL;
	p = &ev->image_index->part[which];
	if (p->len != n || p->len == UINT32_MAX || trib_image_hash(text, n) != p->hash)
		return NULL;
	return p;
}

/* See event.h. */
void
trib_image_index_forget(trib_event *ev, int which)
{
	if (ev->image_index != NULL)
		ev->image_index->part[which].len = UINT32_MAX;
}
