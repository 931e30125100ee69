/*
 * sink_seal.c: sealing the positions a sink stores for itself (see
 * sink_seal.h).
 *
 * The associated data is a fixed label, the pipeline and the sink's name,
 * NUL-separated, so a sink's sealed text opens only for that sink of that
 * pipeline (and never as a checkpoint store's, whose label differs).
 */
#include "sink_seal.h"

#include <stdlib.h>
#include <string.h>

#include "errf.h"
#include "log.h"
#include "seal.h"
#include "xalloc.h"

/* The associated data for sink's texts; the length into *len. */
static unsigned char *
sink_aad(const trib_sink *sink, size_t *len)
{
	static const char label[] = "tributary sink position";
	const char *pl = sink->pipeline != NULL ? sink->pipeline : "";
	const char *sn = sink->name != NULL ? sink->name : "";
	size_t		lp = strlen(pl),
				ls = strlen(sn);
	unsigned char *aad = trib_xmalloc(sizeof(label) + lp + 1 + ls);

	memcpy(aad, label, sizeof(label));
	memcpy(aad + sizeof(label), pl, lp + 1);
	memcpy(aad + sizeof(label) + lp + 1, sn, ls);
	*len = sizeof(label) + lp + 1 + ls;
	return aad;
}

/* See sink_seal.h. */
bool
trib_sink_seal(const trib_sink *sink, const char *store, const char *plain,
			   char **sealed, const char **text, char *errbuf, size_t errlen)
{
	char		e[256];
	size_t		alen;
	unsigned char *aad;

	*sealed = NULL;
	*text = plain;
	if (sink->seal_key == NULL || plain == NULL)
		return true;
	aad = sink_aad(sink, &alen);
	*sealed = trib_seal(sink->seal_key, aad, alen, plain, e, sizeof(e));
	free(aad);
	if (*sealed == NULL)
		return trib_errf(errbuf, errlen, "pipeline %s, sink %s (%s): cannot seal the "
						 "position: %s", sink->pipeline ? sink->pipeline : "",
						 sink->name ? sink->name : "", store, e);
	*text = *sealed;
	return true;
}

/* See sink_seal.h. */
bool
trib_sink_unseal(trib_sink *sink, const char *store, char **text, char *errbuf, size_t errlen)
{
	char		e[256];
	char	   *plain = NULL;
	size_t		alen;
	unsigned char *aad;
	int			r;

	if (*text == NULL)
		return true;
	aad = sink_aad(sink, &alen);
	r = trib_unseal(sink->seal_key, aad, alen, *text, &plain, e, sizeof(e));
	free(aad);
	if (r < 0)
	{
		free(*text);
		*text = NULL;
		return trib_errf(errbuf, errlen, "pipeline %s, sink %s (%s): the stored position "
						 "cannot be read: %s%s; not starting over from scratch (give the key "
						 "it was sealed with, or remove the sink's position deliberately)",
						 sink->pipeline ? sink->pipeline : "", sink->name ? sink->name : "",
						 store, e,
						 sink->seal_key == NULL ? " (set checkpoint.encryption_key)" : "");
	}
	if (r > 0)
	{
		free(*text);
		*text = plain;
	}
	else if (sink->seal_key != NULL && !sink->seal_warned)
	{
		sink->seal_warned = true;
		tlog_warn("sink", "pipeline %s, sink %s (%s): the stored position is not sealed "
				  "(written before checkpoint.encryption_key was set); it is sealed from "
				  "the next write on", sink->pipeline ? sink->pipeline : "",
				  sink->name ? sink->name : "", store);
	}
	return true;
}
