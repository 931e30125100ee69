/*
 * registry_api_cache.c: schemas by id, kept in memory.
 *
 * GET /schemas/ids/{id} is what every Confluent deserializer calls, once
 * per id it meets, and what the registry must serve fastest.  A schema's
 * id never changes its document: ids come from an identity column, are
 * never reused, and the catalog's rows of registry_schemas are never
 * updated.  So an id, once read, is answered from here without a
 * statement.  The one way a cached id goes stale is a permanent delete
 * that removes an unused schema: every successful DELETE through the API
 * empties the cache; one made in SQL directly is seen after a restart.
 *
 * Each slot also keeps the rendered answer of GET /schemas/ids/{id} once
 * it was written, so that a repeated GET copies bytes and neither queries
 * nor writes JSON.
 *
 * Direct-mapped: REGAPI_CACHE_SLOTS slots, slot id % slots, a newer id
 * replaces an older one.  The HTTP thread is its only user.
 */
#include "registry_api_int.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* One cached schema. */
typedef struct cache_slot
{
	int64_t		id;				/* 0: empty */
	char	   *type;
	char	   *schema;
	char	   *answer;			/* the rendered GET answer, or NULL */
	size_t		answer_len;
} cache_slot;

struct regapi_cache
{
	cache_slot	slot[REGAPI_CACHE_SLOTS];
};

/* The slot of an id. */
static cache_slot *
slot_of(regapi_cache *c, int64_t id)
{
	return &c->slot[(uint64_t) id % REGAPI_CACHE_SLOTS];
}

/* Empty one slot. */
static void
clear_slot(cache_slot *s)
{
	free(s->type);
	free(s->schema);
	free(s->answer);
	memset(s, 0, sizeof(*s));
}

/* A new, empty cache. */
regapi_cache *
regapi_cache_new(void)
{
	return trib_xcalloc(1, sizeof(regapi_cache));
}

/* The cached type and schema of an id (owned by the cache), or false. */
bool
regapi_cache_get(regapi_cache *c, int64_t id, const char **type, const char **schema)
{
	cache_slot *s = slot_of(c, id);

	if (s->id != id || id == 0)
		return false;
	*type = s->type;
	*schema = s->schema;
	return true;
}

/* Remember an id's type and schema (copied). */
void
regapi_cache_put(regapi_cache *c, int64_t id, const char *type, const char *schema)
{
	cache_slot *s = slot_of(c, id);

	clear_slot(s);
	s->id = id;
	s->type = trib_xstrdup(type);
	s->schema = trib_xstrdup(schema);
}

const char *
regapi_cache_answer(regapi_cache *c, int64_t id, size_t *len)
{
	cache_slot *s = slot_of(c, id);

	if (s->id != id || id == 0 || s->answer == NULL)
		return NULL;
	*len = s->answer_len;
	return s->answer;
}

void
regapi_cache_set_answer(regapi_cache *c, int64_t id, const char *answer, size_t len)
{
	cache_slot *s = slot_of(c, id);

	if (s->id != id || id == 0)
		return;
	free(s->answer);
	s->answer = trib_xmalloc(len + 1);
	memcpy(s->answer, answer, len);
	s->answer[len] = '\0';
	s->answer_len = len;
}

/* Forget every id. */
void
regapi_cache_clear(regapi_cache *c)
{
	for (size_t i = 0; i < REGAPI_CACHE_SLOTS; i++)
		clear_slot(&c->slot[i]);
}

/* Free; NULL ok. */
void
regapi_cache_free(regapi_cache *c)
{
	if (c == NULL)
		return;
	regapi_cache_clear(c);
	free(c);
}
