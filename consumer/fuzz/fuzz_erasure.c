/*
 * fuzz_erasure.c: libFuzzer target for the erasure messages read back from
 * the replication stream (erasure.c's trib_erasure_rewrite).  The input is
 * the content of a `tributary.erasure` logical message: whatever it holds,
 * the rewrite must either turn the event into a delete or update of a table
 * with a key, or refuse it, never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "erasure.h"
#include "event.h"
#include "jsondoc.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One erasure handler for the whole run (it interns the names). */
static trib_erasure *
handler(void)
{
	static trib_config cfg;
	static trib_erasure *er;

	if (er == NULL)
	{
		cfg.erasure.table = (char *) "public.erasure_requests";
		er = trib_erasure_new(&cfg);
	}
	return er;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	trib_erasure *er = handler();
	trib_event *ev = trib_event_new();
	char	   *content = strndup((const char *) data, size);
	yajl_val	x = trib_jdoc_parse("{}", NULL, 0);
	char		err[256];
	int			rc;

	/* the message as pgrecord.c builds it: content as a JSON string */
	trib_jdoc_put(x, "prefix", trib_jdoc_string(TRIB_ERASURE_PREFIX));
	trib_jdoc_put(x, "encoding", trib_jdoc_string("utf8"));
	trib_jdoc_put(x, "content", trib_jdoc_string(content));
	ev->op = TRIB_OP_MESSAGE;
	ev->extra = trib_jdoc_dump(x);
	rc = trib_erasure_rewrite(er, ev, err, sizeof(err));
	if (rc == 1 && (ev->table == NULL || ev->key == NULL ||
					(ev->op != TRIB_OP_DELETE && ev->op != TRIB_OP_UPDATE)))
		__builtin_trap();
	yajl_tree_free(x);
	free(content);
	trib_event_free(ev);
	return 0;
}
