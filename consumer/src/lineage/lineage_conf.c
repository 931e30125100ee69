/*
 * lineage_conf.c: the `lineage` section of pipeline.yaml, owned by the
 * lineage stage (lineage.h): its key table and the checks across keys.
 *
 * Design.  As schema/schema_conf.c does for the schema stage, the stage
 * keeps its settings' table next to its code; the loader (config/) cannot
 * include lineage/, so the section is declared in config_keys.h and the
 * settings struct, trib_lineage_conf, is part of trib_config (config.h).
 *
 * Adding a key: a field in trib_lineage_conf and one row below; run
 * `make -C consumer doc`.
 */
#include "config.h"
#include "config_keys.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml_tree.h"

static bool check_url(const char *value, char *msg, size_t msglen);
static void finish_lineage(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
						   const char *path, void *base, const char *name);

static const ck_key lineage_keys[] = {
	CK_ROW(trib_lineage_conf, enabled, CK_BOOL, 0, .def = "false",
		.desc = "derive the pipeline's column-level lineage and record it in the catalog "
		"(docs/LINEAGE.md, section 7); off: nothing is derived or recorded"),
	CK_ROW(trib_lineage_conf, dsn, CK_STRING, CK_SECRET, .check = ck_check_conninfo,
		.doc_type = "conninfo", .doc_default = "the checkpoint's dsn",
		.desc = "database holding the lineage catalog (the tributary extension, 0.5 or "
		"later); its role needs `tributary_writer`"),
	CK_ROW(trib_lineage_conf, job_namespace, CK_STRING, 0, .def = "tributary",
		.desc = "the OpenLineage namespace of the pipeline's job"),
	CK_ROW(trib_lineage_conf, job, CK_STRING, 0, .doc_default = "the pipeline's name",
		.desc = "the OpenLineage name of the pipeline's job"),
	CK_ROW(trib_lineage_conf, export_url, CK_STRING, 0, .check = check_url,
		.doc_type = "URL",
		.desc = "POST every OpenLineage RunEvent of the run to this endpoint (Marquez: "
		"`http://host:5000/api/v1/lineage`), retried with backoff, off the stream's thread"),
	CK_ROW(trib_lineage_conf, export_file, CK_STRING, 0, .doc_type = "path",
		.desc = "append every OpenLineage RunEvent of the run to this JSON Lines file"),
	CK_ROW(trib_lineage_conf, export_state, CK_STRING, 0, .doc_type = "path",
		.doc_default = "export_file or the pipeline file, with `.lineage-sent`",
		.desc = "the export's sent-marker: how many events of which run went out, so that "
		"none is lost or sent twice across failures and restarts"),
	CK_ROW(trib_lineage_conf, export_max_backoff_ms, CK_INT, 0, .def = "30000", .min = 100,
		.max = 3600000, .desc = "longest wait between two tries of a failed export"),
	CK_END_ROW
};

/* See config_keys.h. */
const ck_section ck_lineage_section = {
	.doc_title = "`lineage`",
	.what = "the lineage section",
	.keys = lineage_keys,
	.finish = finish_lineage,
	.doc_intro = "The lineage recording stage (docs/LINEAGE.md, section 7). The graph of "
	"each captured table is derived when its first event arrives and recorded at the next "
	"checkpoint; counts per edge follow at most once per checkpoint. Failures are logged "
	"and counted, never fatal.",
};

/* An http:// or https:// URL. */
static bool
check_url(const char *value, char *msg, size_t msglen)
{
	if (strncmp(value, "http://", 7) == 0 || strncmp(value, "https://", 8) == 0)
		return true;
	snprintf(msg, msglen, "must be an http:// or https:// URL");
	return false;
}

/* Export needs the stage on. */
static void
finish_lineage(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
			   const char *path, void *base, const char *name)
{
	const trib_lineage_conf *l = base;

	(void) name;
	if (!l->enabled && (l->export_url != NULL || l->export_file != NULL))
		ck_error(c, map ? map : at, path,
				 "export_url and export_file need enabled: true (the events come from "
				 "the runs the stage records)");
}
