/*
 * registry.c: every source and sink type the daemon knows, one line each.
 *
 * Design.  Each type describes itself with a trib_plugin (registry.h)
 * defined in its own folder: operations, key table, settings size.  This
 * file only lists them.  Adding a sink is its folder plus one X(...) line
 * below; nothing else in the tree changes: the loader accepts the new
 * `type:`, the reference documents its table, `run` opens it and `check`
 * asks it.  The order of the lines is the order of "accepted: ..." lists
 * and of docs/CONFIG.md.
 *
 * Why here.  The registry is the one file that depends on every plugin,
 * so it sits at the top, in cli/, beside main.c, which composes a
 * pipeline from the configured types.  The pipeline itself reaches
 * sources and sinks only through their operations (source.h, sink.h), and
 * the config loader through registry.h, so neither depends on a plugin.
 *
 * Why a macro list.  Each X(symbol) line both declares the plugin's
 * descriptor and puts it in its list, so a registration is exactly one
 * line (PostgreSQL's rmgrlist.h and kwlist.h work the same way); each list
 * ends with a comment line so that the last entry, too, ends with a
 * backslash and a new line is added without touching another.  The
 * descriptor's definition is checked against the declaration in its own
 * folder's header, which its .c file includes.
 */
#include "registry.h"

#include <string.h>

#include "config.h"

/* The source types, one line each: X(descriptor) and a backslash. */
#define TRIB_SOURCE_PLUGINS(X) \
	X(trib_source_postgres) \
	X(trib_source_mysql_plugin) \
	X(trib_source_mongodb_plugin) \
	/* end of the sources */

/* The sink types, one line each: X(descriptor) and a backslash. */
#define TRIB_SINK_PLUGINS(X) \
	X(trib_sink_kafka) \
	X(trib_sink_postgres) \
	X(trib_sink_file) \
	X(trib_sink_stdout) \
	X(trib_sink_null) \
	X(trib_sink_mongodb) \
	/* end of the sinks */

#define TRIB_DECLARE(sym) extern const trib_plugin sym;
#define TRIB_ENTRY(sym) &sym,

TRIB_SOURCE_PLUGINS(TRIB_DECLARE)
TRIB_SINK_PLUGINS(TRIB_DECLARE)

const trib_plugin *const trib_registry_sources[] = {TRIB_SOURCE_PLUGINS(TRIB_ENTRY) NULL};
const trib_plugin *const trib_registry_sinks[] = {TRIB_SINK_PLUGINS(TRIB_ENTRY) NULL};

/* See registry.h. */
const trib_plugin *
trib_registry_find(const trib_plugin *const *list, const char *type)
{
	for (; *list != NULL; list++)
		if (strcmp((*list)->type, type) == 0)
			return *list;
	return NULL;
}

/* See registry.h. */
void *
trib_registry_conf(const trib_plugin_conf *member, const trib_plugin *plugin)
{
	return member != NULL && member->plugin == plugin ? member->conf : NULL;
}
