/*
 * checkpoint_check.c: the checkpoint store's part of `tributary check`
 * (checkpoint.h): whether the store `run` would resume from is there and
 * what it holds.
 *
 * Design.  The store is the pipeline's, so its check lives beside it, not
 * in the CLI: the file store's file (its size and, for a pipeline of one
 * source, the position it holds in the source's words, or why it is
 * missing), or
 * the catalog's rows for this pipeline, read with a bound parameter on a
 * short-lived connection with the check's timeout (check_report.h).
 * Read-only; an unreadable catalog counts as a problem, and so does a
 * stored position `run` could not read (sealed, and the key given does not
 * open it: trib_checkpoint_text_opens; the file store's goes through
 * trib_checkpoint_load).  The pause state's row (pause.h, TRIB_PAUSE_KEY)
 * is shown as what it is, opened, not as a source.
 */
#include "checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>

#include "check_report.h"
#include "config.h"
#include "eventid.h"
#include "merge.h"
#include "pause.h"
#include "registry.h"
#include "source.h"

/* Where `run` starts without a checkpoint, in the source's words (its
 * ops' origin); static text. */
static const char *
start_words(const trib_config *cfg)
{
	if (cfg->nsources == 1 && cfg->sources[0].plugin->source_ops != NULL)
		return trib_source_origin(cfg->sources[0].plugin->source_ops);
	return "each source's own position";
}

/* The file store at path for source, loaded as `run` loads it (with the
 * config's key): the store, which the caller closes, or NULL when it does
 * not open; the load's result in *rc, *pos and err. */
static trib_checkpoint *
load_as_run(const trib_config *cfg, const char *path, const char *source,
			const trib_source_ops *ops, trib_position *pos, int *rc, char *err, size_t errlen)
{
	trib_checkpoint *ck = trib_checkpoint_open(TRIB_CKPT_FILE, path, cfg->pipeline, source, ops,
											   err, errlen);

	memset(pos, 0, sizeof(*pos));
	*rc = -1;
	if (ck != NULL && trib_checkpoint_key_from_conf(ck, &cfg->checkpoint, err, errlen))
		*rc = trib_checkpoint_load(ck, pos, err, errlen);
	return ck;
}

/* The file store keeps the pause state (pause.h) beside the checkpoint,
 * in PATH.paused: say so when it is there, and read it as `run` would
 * (trib_pause_open: sealed, it must open with the key given). */
static void
check_pause_file(const trib_config *cfg, const char *path, trib_check_report *rep)
{
	char		paused[4096],
				err[1024];
	struct stat st;
	trib_checkpoint *ck;
	trib_position pos;
	int			rc;

	snprintf(paused, sizeof(paused), "%s.paused", path);
	if (stat(paused, &st) != 0)
		return;
	trib_check_report_say(rep, "  pause state kept in %s; `run` restores it", paused);
	if ((ck = load_as_run(cfg, paused, TRIB_PAUSE_KEY, &trib_merge_pos_ops, &pos, &rc, err,
						  sizeof(err))) == NULL)
		return;
	if (rc < 0)
	{
		trib_check_report_say(rep, "  cannot read the pause state: %s", err);
		rep->problems++;
	}
	free(pos.opaque);
	trib_checkpoint_close(ck);
}

/* The position a file checkpoint holds, in its source's words
 * (format_id; for MySQL GTID/FILE:OFFSET when the opaque position is kept,
 * /FILE-NUMBER:OFFSET from the numbers alone), with the stored numbers. */
static void
say_file_position(const trib_config *cfg, size_t i, const char *path, trib_check_report *rep)
{
	const trib_source_ops *ops = cfg->sources[i].plugin->source_ops;
	char		err[512],
				id[TRIB_EVENTID_LEN],
				key[TRIB_LSN_BUFLEN];
	trib_checkpoint *ck;
	trib_position pos;
	uint64_t	seq;
	int			rc;

	if (ops == NULL ||
		(ck = load_as_run(cfg, path, cfg->sources[i].name, ops, &pos, &rc, err,
						  sizeof(err))) == NULL)
		return;
	if (rc < 0)
	{
		trib_check_report_say(rep, "  cannot read it: %s", err);
		rep->problems++;
	}
	else if (rc > 0)
	{
		ops->format_id(&pos, id, sizeof(id));
		ops->store_form(&pos, key, sizeof(key), &seq);
		trib_check_report_say(rep, "  source %s: position %s (commit_lsn %s, seq %llu%s)",
			cfg->sources[i].name, id, key[0] ? key : "-", (unsigned long long) seq,
			pos.opaque ? "" : ", no opaque position");
		free(pos.opaque);
	}
	trib_checkpoint_close(ck);
}

/* See checkpoint.h. */
void
trib_checkpoint_check(const trib_config *cfg, trib_check_report *rep)
{
	const trib_checkpoint_conf *cc = &cfg->checkpoint;
	const char *params[1] = {cfg->pipeline};
	PGconn	   *conn;
	PGresult   *r;
	char		exposed[512];

	if (cc->store == TRIB_CHECKPOINT_FILE)
	{
		struct stat st;

		trib_check_report_say(rep, "checkpoint (file %s%s)", cc->path,
			cc->encryption_key ? ", positions sealed" : "");
		if (trib_checkpoint_key_exposed(cfg, exposed, sizeof(exposed)))
			trib_check_report_say(rep, "  warning: %s", exposed);
		if (stat(cc->path, &st) == 0)
		{
			trib_check_report_say(rep, "  exists (%lld bytes); `run` resumes from it", (long long) st.st_size);
			if (cfg->nsources == 1)
				say_file_position(cfg, 0, cc->path, rep);
		}
		else
			trib_check_report_say(rep, "  does not exist yet (%s); `run` starts from %s",
				strerror(errno), start_words(cfg));
		check_pause_file(cfg, cc->path, rep);
		return;
	}
	trib_check_report_say(rep, "checkpoint (catalog tributary.source_checkpoints%s)",
		cc->encryption_key ? ", positions sealed" : "");
	if (trib_checkpoint_key_exposed(cfg, exposed, sizeof(exposed)))
		trib_check_report_say(rep, "  warning: %s", exposed);
	if ((conn = trib_check_report_pg_connect(rep, "database", cc->dsn)) == NULL)
		return;
	r = PQexecParams(conn, "SELECT source, commit_lsn, seq, updated_at, position::text "
					 "FROM tributary.source_checkpoints WHERE pipeline = $1 ORDER BY 1",
					 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
	{
		char		e[512];

		trib_check_report_say(rep, "  cannot read it: %s (is the extension installed?)",
			trib_check_report_pg_msg(conn, e, sizeof(e)));
		rep->problems++;
	}
	else if (PQntuples(r) == 0)
		trib_check_report_say(rep, "  no checkpoint for pipeline %s yet; `run` starts from %s",
			cfg->pipeline, start_words(cfg));
	for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++)
	{
		const char *source = PQgetvalue(r, i, 0);
		char	   *plain = NULL;
		char		e[1024];

		/* the position as `run` would read it: sealed ones open with the
		 * key given, or the check fails now rather than the next start */
		if (!PQgetisnull(r, i, 4) &&
			!trib_checkpoint_text_opens(cfg->pipeline, source, cc, PQgetvalue(r, i, 4), &plain,
										e, sizeof(e)))
		{
			trib_check_report_say(rep, "  %s%s: cannot read it: %s",
				strcmp(source, TRIB_PAUSE_KEY) == 0 ? "pause state" : "source ",
				strcmp(source, TRIB_PAUSE_KEY) == 0 ? "" : source, e);
			rep->problems++;
		}
		else if (strcmp(source, TRIB_PAUSE_KEY) == 0)
			trib_check_report_say(rep, "  pause state (kept for `run`): %s, saved %s",
				plain != NULL ? plain : "{}", PQgetvalue(r, i, 3));
		else
			trib_check_report_say(rep, "  source %s: commit %s, seq %s, saved %s",
				source, PQgetisnull(r, i, 1) ? "-" : PQgetvalue(r, i, 1),
				PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
		free(plain);
	}
	PQclear(r);
	PQfinish(conn);
}

