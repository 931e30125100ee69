/*
 * quality_api.c: the quality check of the control API; see quality_api.h.
 */
#include "quality_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "rules.h"
#include "xalloc.h"

struct trib_quality_api
{
	const trib_config *cfg;
	trib_rules *rules;			/* used under lock only */
	pthread_mutex_t lock;
};

/* See quality_api.h. */
trib_quality_api *
trib_quality_api_new(const trib_config *cfg, char *errbuf, size_t errlen)
{
	trib_quality_api *qa = trib_xcalloc(1, sizeof(*qa));

	qa->cfg = cfg;
	qa->rules = trib_rules_new(cfg, NULL, errbuf, errlen);
	if (qa->rules == NULL)
	{
		free(qa);
		return NULL;
	}
	pthread_mutex_init(&qa->lock, NULL);
	return qa;
}

/* See quality_api.h. */
void
trib_quality_api_free(trib_quality_api *qa)
{
	if (qa == NULL)
		return;
	trib_rules_free(qa->rules);
	pthread_mutex_destroy(&qa->lock);
	free(qa);
}

/* trib_quality_verdict_fn: one object of the array. */
static void
on_verdict(void *arg, const char *rule, const char *field, bool pass, const char *why,
		   const char *action)
{
	yajl_gen	g = arg;
	const char *const keys[] = {"rule", "field", "reason", "action"};
	const char *const vals[] = {rule, field, why, action};

	yajl_gen_map_open(g);
	for (int i = 0; i < 4; i++)
	{
		yajl_gen_string(g, (const unsigned char *) keys[i], strlen(keys[i]));
		if (vals[i] == NULL)
			yajl_gen_null(g);
		else
			yajl_gen_string(g, (const unsigned char *) vals[i], strlen(vals[i]));
	}
	yajl_gen_string(g, (const unsigned char *) "pass", 4);
	yajl_gen_bool(g, pass);
	yajl_gen_map_close(g);
}

/* The configured source `name`, or NULL. */
static const char *
find_source(const trib_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsources; i++)
		if (name == NULL || strcmp(cfg->sources[i].name, name) == 0)
			return cfg->sources[i].name;
	return NULL;
}

/* See quality_api.h. */
char *
trib_quality_api_check(void *arg, const char *source, const char *schema, const char *table,
					   const char *row, unsigned *status, char *msg, size_t msglen)
{
	trib_quality_api *qa = arg;
	const char *src = find_source(qa->cfg, source);
	yajl_gen	g;
	const unsigned char *buf;
	size_t		len;
	char	   *out = NULL;
	char		e[512];

	if (src == NULL)
	{
		snprintf(msg, msglen, "no source named \"%.100s\" (the pipeline's sources are in "
				 "GET /api/v1/pipeline)", source);
		*status = 404;
		return NULL;
	}
	g = yajl_gen_alloc(NULL);
	yajl_gen_array_open(g);
	pthread_mutex_lock(&qa->lock);
	if (trib_rules_quality_check(qa->rules, src, schema, table, row, on_verdict, g,
								 e, sizeof(e)))
	{
		yajl_gen_array_close(g);
		yajl_gen_get_buf(g, &buf, &len);
		out = trib_xmalloc(len + 1);
		memcpy(out, buf, len);
		out[len] = '\0';
	}
	else
	{
		snprintf(msg, msglen, "the row cannot be checked: %s", e);
		*status = 400;
	}
	pthread_mutex_unlock(&qa->lock);
	yajl_gen_free(g);
	return out;
}
