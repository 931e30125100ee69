/*
 * fuzz_erasure.c: libFuzzer target for what a stream can offer the erasure
 * module as an erasure.
 *
 * The input is the `after` image of an insert into tributary.erasure_keys
 * (erasure_row.c): whatever it holds, a key row either becomes a delete or
 * update of the described table with exactly its key columns, or is
 * refused and leaves the event as it was; never a crash or a leak.  The
 * same bytes are also offered as the content of a `tributary.erasure`
 * logical message to the guard (erasure.c), which must refuse it whatever
 * it says and never rewrite the event.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "erasure.h"
#include "erasure_int.h"
#include "event.h"
#include "jsondoc.h"
#include "log.h"
#include "utf8.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* public.c (id, k2, n) keyed (id, k2): the table key rows are checked against. */
static er_table *
described(void)
{
	static er_table t;
	static char *cols[] = {"id", "k2", "n"};
	static char *types[] = {"text", "integer", "text"};
	static int	key[] = {0, 1};

	t.schema = "public";
	t.table = "c";
	t.ncols = 3;
	t.cols = cols;
	t.types = types;
	t.nkey = 2;
	t.key = key;
	return &t;
}

/* The guard without an erasure section (no audit log, no database). */
static trib_erasure *
guard(void)
{
	static trib_config cfg;
	static trib_erasure *er;
	char		err[256];

	if (er == NULL)
	{
		trib_log_set_level(TRIB_LOG_ERROR);
		er = trib_erasure_new(&cfg, NULL, err, sizeof(err));
	}
	return er;
}

/* The key row path: rewritten with the key's two columns, or untouched. */
static void
key_row(const char *text)
{
	trib_event *ev = trib_event_new();
	er_keyrow	row;
	const char *why;

	ev->op = TRIB_OP_CREATE;
	ev->schema = TRIB_CATALOG_SCHEMA;
	ev->table = TRIB_ERASURE_KEYS;
	ev->after = strdup(text);
	why = er_keyrow_read(ev->after, &row);
	if (why == NULL)
		why = er_keyrow_apply(&row, described(), strlen(text) % 2 ? TRIB_ERASE_ANONYMIZE
							  : TRIB_ERASE_DELETE, ev, "public", "c");
	er_keyrow_free(&row);
	if (why == NULL &&
		(ev->key == NULL || strncmp(ev->key, "{\"id\":", 6) != 0 || strstr(ev->key, ",\"k2\":") == NULL ||
		 (ev->op != TRIB_OP_DELETE && ev->op != TRIB_OP_UPDATE)))
		__builtin_trap();
	if (why != NULL && (ev->op != TRIB_OP_CREATE || strcmp(ev->after, text) != 0))
		__builtin_trap();
	trib_event_free(ev);
}

/*
 * The message path: refused and consumed, the event untouched.  pgrecord.c
 * hands on only what yajl parsed, so the content is valid UTF-8.
 */
static void
message(const char *content)
{
	trib_event *ev = trib_event_new();
	yajl_val	x = trib_jdoc_parse("{}", NULL, 0);
	char		err[256];
	char	   *extra;

	/* the message as pgrecord.c builds it: content as a JSON string */
	trib_jdoc_put(x, "transactional", trib_jdoc_bool(strlen(content) % 2 == 0));
	trib_jdoc_put(x, "prefix", trib_jdoc_string(TRIB_ERASURE_MESSAGE_PREFIX));
	trib_jdoc_put(x, "encoding", trib_jdoc_string("utf8"));
	trib_jdoc_put(x, "content", trib_jdoc_string(content));
	ev->op = TRIB_OP_MESSAGE;
	ev->extra = trib_jdoc_dump(x);
	extra = strdup(ev->extra);
	if (trib_erasure_take(guard(), ev, err, sizeof(err)) != TRIB_ERASURE_CONSUMED ||
		ev->op != TRIB_OP_MESSAGE || strcmp(ev->extra, extra) != 0)
		__builtin_trap();
	free(extra);
	yajl_tree_free(x);
	trib_event_free(ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = strndup((const char *) data, size);

	key_row(text);
	if (trib_utf8_valid(text, strlen(text)))
		message(text);
	free(text);
	return 0;
}
