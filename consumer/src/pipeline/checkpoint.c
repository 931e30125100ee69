/*
 * checkpoint.c: checkpoint stores, catalog (SQL API of the extension) and
 * file (atomic JSON file).  See checkpoint.h.
 *
 * The file holds one object:
 *   {"pipeline":"p","source":"s","commit_lsn":"0/16B3748","seq":4,
 *    "position":{...} or null}
 * It is written with yajl_gen (strings escaped correctly whatever the
 * names) and read back with yajl_tree.  The opaque position is re-emitted
 * through yajl_gen from the parsed tree only for validation on load; on
 * save it is written as given after a validating parse, so numbers keep
 * their text.
 */
#include "checkpoint.h"
#include "fileio.h"
#include "jsondoc.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <yajl_gen.h>
#include <yajl_tree.h>

#include "config.h"
#include "errf.h"
#include "jpath.h"
#include "keys.h"
#include "log.h"
#include "pgconn.h"
#include "registry.h"
#include "rules.h"
#include "seal.h"
#include "xalloc.h"

/* Largest checkpoint file we read: room for a position sealed at the
 * largest text seal takes (base64, a third longer), so that whatever
 * file_save writes loads back. */
#define MAX_FILE_BYTES (2 * 1024 * 1024)
_Static_assert(MAX_FILE_BYTES > (TRIB_SEAL_MAX_PLAIN + 64) / 3 * 4 + 64 * 1024,
			   "a sealed position of TRIB_SEAL_MAX_PLAIN bytes must fit a checkpoint file");

struct trib_checkpoint
{
	trib_ckpt_mode mode;
	char	   *target;			/* path or dsn */
	char	   *pipeline;
	char	   *source;
	const trib_source_ops *ops; /* the source's: its positions' stored form */
	PGconn	   *conn;			/* catalog mode */
	trib_key   *key;			/* seals opaque positions, or NULL */
	bool		warned_clear;	/* logged that a clear position was read */
};

/* (Re)connect the catalog connection if needed. */
static bool
catalog_connect(trib_checkpoint *ck, char *errbuf, size_t errlen)
{
	char		eb[512];

	if (ck->conn && PQstatus(ck->conn) == CONNECTION_OK)
		return true;
	if (ck->conn)
		PQfinish(ck->conn);
	ck->conn = PQconnectdb(ck->target);
	if (!ck->conn || PQstatus(ck->conn) != CONNECTION_OK)
	{
		trib_errf(errbuf, errlen, "checkpoint: connection failed: %s",
				  trib_pq_error_text(ck->conn, eb, sizeof(eb)));
		PQfinish(ck->conn);
		ck->conn = NULL;
		return false;
	}
	return true;
}

/* Open a store. */
trib_checkpoint *
trib_checkpoint_open(trib_ckpt_mode mode, const char *target,
					 const char *pipeline, const char *source,
					 const trib_source_ops *ops, char *errbuf, size_t errlen)
{
	trib_checkpoint *ck;

	if (!target || !*target || !pipeline || !*pipeline || !source || !*source)
		return trib_errf(errbuf, errlen, "checkpoint: target, pipeline and source are required"), NULL;
	ck = trib_xcalloc(1, sizeof(*ck));
	ck->mode = mode;
	ck->ops = ops;
	ck->target = trib_xstrdup(target ? target : "");
	ck->pipeline = trib_xstrdup(pipeline ? pipeline : "");
	ck->source = trib_xstrdup(source ? source : "");
	if (mode == TRIB_CKPT_CATALOG && !catalog_connect(ck, errbuf, errlen))
	{
		trib_checkpoint_close(ck);
		return NULL;
	}
	return ck;
}

/* Close a store. */
void
trib_checkpoint_close(trib_checkpoint *ck)
{
	if (!ck)
		return;
	if (ck->conn)
		PQfinish(ck->conn);
	free(ck->target);
	free(ck->pipeline);
	free(ck->source);
	trib_key_free(ck->key);
	free(ck);
}

/* See checkpoint.h. */
void
trib_checkpoint_set_key(trib_checkpoint *ck, const trib_key *key)
{
	trib_key_free(ck->key);
	ck->key = key != NULL ? trib_key_dup(key) : NULL;
}

/* See checkpoint.h. */
bool
trib_checkpoint_key_from_conf(trib_checkpoint *ck, const trib_checkpoint_conf *cc, char *errbuf,
							  size_t errlen)
{
	trib_key   *key;

	if (cc->encryption_key == NULL)
		return true;
	if ((key = trib_checkpoint_conf_key(cc, errbuf, errlen)) == NULL)
		return false;
	trib_checkpoint_set_key(ck, key);
	trib_key_free(key);
	return true;
}

/* Does some glob of l match name (an empty list matches all)? */
static bool
globs_match(const trib_strlist *l, const char *name)
{
	for (size_t i = 0; i < l->count; i++)
		if (fnmatch(l->items[i], name, 0) == 0)
			return true;
	return l->count == 0;
}

/* Does a rule's field path reach the field or a member of it?  Its first
 * segment is matched as the rules match it (jpath.h): "_id", "_id.email",
 * and globs such as "*", "_*" or "*.email" do; "_id\\.x" (one field with a
 * dot in its name) does not.  A path that does not parse reaches nothing
 * (the config's check refuses it). */
static bool
path_in_field(const char *path, const char *field)
{
	trib_jpath	p;
	char		e[128];
	bool		hit;

	if (!trib_jpath_parse(path, &p, e, sizeof(e)))
		return false;
	hit = trib_jpath_first_matches(&p, field);
	trib_jpath_free(&p);
	return hit;
}

/* See checkpoint.h. */
bool
trib_checkpoint_key_exposed(const trib_config *cfg, char *msg, size_t len)
{
	if (cfg->checkpoint.encryption_key != NULL)
		return false;
	for (size_t s = 0; s < cfg->nsources; s++)
	{
		const trib_source_ops *ops = cfg->sources[s].plugin->source_ops;
		const char *field = ops != NULL ? ops->position_key_field : NULL;

		for (size_t r = 0; field != NULL && r < cfg->nrules; r++)
		{
			const trib_rule_conf *rc = &cfg->rules[r];

			if (!trib_rule_masks(rc->type) || !globs_match(&rc->sources, cfg->sources[s].name))
				continue;
			for (size_t f = 0; f < rc->fields.count; f++)
				if (path_in_field(rc->fields.items[f], field))
				{
					snprintf(msg, len, "rule %s (%s) masks %s of source %s, whose stored "
							 "positions (resume tokens) hold the clear %s: without "
							 "checkpoint.encryption_key the checkpoint store keeps it readable",
							 rc->name, rc->type_name, rc->fields.items[f], cfg->sources[s].name,
							 field);
					return true;
				}
		}
	}
	return false;
}

/* The store in words for messages: the file's path or the catalog table
 * (never the dsn). */
static const char *
store_words(const trib_checkpoint *ck, char *buf, size_t len)
{
	if (ck->mode == TRIB_CKPT_FILE)
		snprintf(buf, len, "file %s", ck->target);
	else
		snprintf(buf, len, "catalog table tributary.source_checkpoints");
	return buf;
}

/* The associated data a sealed position is bound to: a fixed label, the
 * pipeline and the source, NUL-separated; the length into *len. */
static unsigned char *
seal_aad(const trib_checkpoint *ck, size_t *len)
{
	static const char label[] = "tributary checkpoint position";
	size_t		lp = strlen(ck->pipeline),
				ls = strlen(ck->source);
	unsigned char *aad = trib_xmalloc(sizeof(label) + lp + 1 + ls);

	memcpy(aad, label, sizeof(label));
	memcpy(aad + sizeof(label), ck->pipeline, lp + 1);
	memcpy(aad + sizeof(label) + lp + 1, ck->source, ls);
	*len = sizeof(label) + lp + 1 + ls;
	return aad;
}

/* pos->opaque as it is written: sealed with the store's key (a new string
 * in *sealed), or as it is; false with errbuf. */
static bool
opaque_out(trib_checkpoint *ck, const trib_position *pos, char **sealed, const char **text,
		   char *errbuf, size_t errlen)
{
	char		e[256],
				w[1024];
	size_t		alen;
	unsigned char *aad;

	*sealed = NULL;
	*text = pos->opaque;
	if (ck->key == NULL || pos->opaque == NULL)
		return true;
	aad = seal_aad(ck, &alen);
	*sealed = trib_seal(ck->key, aad, alen, pos->opaque, e, sizeof(e));
	free(aad);
	if (*sealed == NULL)
		return trib_errf(errbuf, errlen, "checkpoint of pipeline %s, source %s (%s): cannot "
						 "seal the position: %s", ck->pipeline, ck->source,
						 store_words(ck, w, sizeof(w)), e);
	*text = *sealed;
	return true;
}

/* Open out->opaque as read from the store, in place; false with errbuf
 * when it is sealed and does not open. */
static bool
opaque_in(trib_checkpoint *ck, trib_position *out, char *errbuf, size_t errlen)
{
	char		e[256],
				w[1024];
	char	   *plain = NULL;
	size_t		alen;
	unsigned char *aad;
	int			r;

	if (out->opaque == NULL)
		return true;
	aad = seal_aad(ck, &alen);
	r = trib_unseal(ck->key, aad, alen, out->opaque, &plain, e, sizeof(e));
	free(aad);
	if (r < 0)
	{
		trib_errf(errbuf, errlen, "checkpoint of pipeline %s, source %s (%s): the stored "
				  "position cannot be read: %s%s; not starting over from scratch (give the "
				  "key it was sealed with, or remove the checkpoint deliberately)",
				  ck->pipeline, ck->source, store_words(ck, w, sizeof(w)), e,
				  ck->key == NULL ? " (set checkpoint.encryption_key)" : "");
		free(out->opaque);
		out->opaque = NULL;
		return false;
	}
	if (r > 0)
	{
		free(out->opaque);
		out->opaque = plain;
	}
	else if (ck->key != NULL && !ck->warned_clear)
	{
		ck->warned_clear = true;
		tlog_warn("checkpoint", "pipeline %s, source %s (%s): the stored position is not "
				  "sealed (written before checkpoint.encryption_key was set); it is sealed "
				  "from the next save on", ck->pipeline, ck->source, store_words(ck, w, sizeof(w)));
	}
	return true;
}

/* See checkpoint.h. */
bool
trib_checkpoint_text_opens(const char *pipeline, const char *source,
						   const trib_checkpoint_conf *cc, const char *text, char **plain,
						   char *errbuf, size_t errlen)
{
	trib_checkpoint ck = {
		.mode = TRIB_CKPT_CATALOG,
		.pipeline = (char *) pipeline,
		.source = (char *) source,
		.warned_clear = true,	/* check reports, it does not log */
	};
	trib_position pos = {0};
	bool		ok;

	if (cc->encryption_key != NULL &&
		(ck.key = trib_checkpoint_conf_key(cc, errbuf, errlen)) == NULL)
		return false;
	pos.opaque = trib_xstrdup(text);
	ok = opaque_in(&ck, &pos, errbuf, errlen);
	if (ok && plain != NULL)
		*plain = pos.opaque;
	else
	{
		if (pos.opaque != NULL)
			OPENSSL_cleanse(pos.opaque, strlen(pos.opaque));
		free(pos.opaque);
	}
	trib_key_free(ck.key);
	return ok;
}

/* ---------------------------------------------------------------------- */
/* catalog mode */

/* Load through tributary.checkpoint_get. */
static int
catalog_load(trib_checkpoint *ck, trib_position *out, char *errbuf, size_t errlen)
{
	const char *params[2] = {ck->pipeline, ck->source};
	PGresult   *res;
	char		eb[512];
	int			rc = 0;

	if (!catalog_connect(ck, errbuf, errlen))
		return -1;
	res = PQexecParams(ck->conn,
					   "SELECT commit_lsn::text, seq::text, position::text "
					   "FROM tributary.checkpoint_get($1, $2)",
					   2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		trib_errf(errbuf, errlen, "checkpoint: tributary.checkpoint_get failed: %s",
				  trib_pq_error_text(ck->conn, eb, sizeof(eb)));
		rc = -1;
	}
	else if (PQntuples(res) == 1)
	{
		char		id[TRIB_EVENTID_LEN + 32];

		memset(out, 0, sizeof(*out));
		if (!PQgetisnull(res, 0, 0))
		{
			snprintf(id, sizeof(id), "%s:%s", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
			if (!ck->ops->parse_id(id, out))
			{
				PQclear(res);
				return trib_errf(errbuf, errlen, "checkpoint: stored position is not valid"), -1;
			}
		}
		if (!PQgetisnull(res, 0, 2))
			out->opaque = trib_xstrdup(PQgetvalue(res, 0, 2));
		rc = 1;
	}
	PQclear(res);
	return rc;
}

/* Save through tributary.checkpoint_save. */
static bool
catalog_save(trib_checkpoint *ck, const trib_position *pos, char *errbuf,
			 size_t errlen)
{
	char		key[TRIB_LSN_BUFLEN],
				seq[32];
	uint64_t	seqn;
	const char *params[5];
	PGresult   *res;
	char		eb[512];
	char	   *sealed;
	bool		ok;

	if (!catalog_connect(ck, errbuf, errlen) ||
		!opaque_out(ck, pos, &sealed, &params[4], errbuf, errlen))
		return false;
	ck->ops->store_form(pos, key, sizeof(key), &seqn);
	snprintf(seq, sizeof(seq), "%" PRIu64, seqn);
	params[0] = ck->pipeline;
	params[1] = ck->source;
	params[2] = key[0] ? key : NULL;
	params[3] = seq;
	res = PQexecParams(ck->conn,
					   "SELECT 1 FROM tributary.checkpoint_save($1, $2, $3::pg_lsn, $4::bigint, $5::jsonb)",
					   5, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		trib_errf(errbuf, errlen, "checkpoint: tributary.checkpoint_save failed: %s",
				  trib_pq_error_text(ck->conn, eb, sizeof(eb)));
	PQclear(res);
	free(sealed);
	return ok;
}

/* ---------------------------------------------------------------------- */
/* file mode */

/* Read the whole file; NULL with errno ENOENT when it does not exist. */
static char *
read_file(const char *path, size_t *len, char *errbuf, size_t errlen)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	size_t		n;

	if (!f)
	{
		if (errno != ENOENT)
			trib_errf(errbuf, errlen, "checkpoint: cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = trib_xmalloc(MAX_FILE_BYTES + 1);
	n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
	if (ferror(f) || n > MAX_FILE_BYTES)
	{
		trib_errf(errbuf, errlen, "checkpoint: cannot read %s (error or larger than %d bytes)",
				  path, MAX_FILE_BYTES);
		fclose(f);
		free(buf);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Load the file store. */
static int
file_load(trib_checkpoint *ck, trib_position *out, char *errbuf, size_t errlen)
{
	size_t		len = 0;
	char	   *text;
	char		perr[256];
	yajl_val	root,
				v;
	const char *p_lsn[] = {"commit_lsn", NULL};
	const char *p_seq[] = {"seq", NULL};
	const char *p_pos[] = {"position", NULL};
	const char *p_pipe[] = {"pipeline", NULL};
	const char *p_src[] = {"source", NULL};
	char		key[TRIB_LSN_BUFLEN];
	uint64_t	seq;
	int			rc = -1;

	errno = 0;
	text = read_file(ck->target, &len, errbuf, errlen);
	if (!text)
		return errno == ENOENT ? 0 : -1;
	root = yajl_tree_parse(text, perr, sizeof(perr));
	free(text);
	if (!root || !YAJL_IS_OBJECT(root))
	{
		trib_errf(errbuf, errlen, "checkpoint: %s is not a JSON object%s%s", ck->target,
				  root ? "" : ": ", root ? "" : perr);
		goto done;
	}
	v = yajl_tree_get(root, p_pipe, yajl_t_string);
	if (!v || strcmp(v->u.string, ck->pipeline) != 0)
	{
		trib_errf(errbuf, errlen, "checkpoint: %s belongs to another pipeline", ck->target);
		goto done;
	}
	v = yajl_tree_get(root, p_src, yajl_t_string);
	if (!v || strcmp(v->u.string, ck->source) != 0)
	{
		trib_errf(errbuf, errlen, "checkpoint: %s belongs to another source", ck->target);
		goto done;
	}
	memset(out, 0, sizeof(*out));
	v = yajl_tree_get(root, p_lsn, yajl_t_string);
	if (v)
	{
		char		id[TRIB_EVENTID_LEN + 32];
		yajl_val	s = yajl_tree_get(root, p_seq, yajl_t_number);

		if (!s || !YAJL_IS_INTEGER(s) || s->u.number.i < 0)
		{
			trib_errf(errbuf, errlen, "checkpoint: %s: seq is missing or not a non-negative integer",
					  ck->target);
			goto done;
		}
		snprintf(id, sizeof(id), "%.32s:%lld", v->u.string, s->u.number.i);
		if (!ck->ops->parse_id(id, out))
		{
			trib_errf(errbuf, errlen, "checkpoint: %s: commit_lsn is not an LSN", ck->target);
			goto done;
		}
	}
	v = yajl_tree_get(root, p_pos, yajl_t_any);
	if (v && YAJL_IS_OBJECT(v))
	{
		yajl_gen	g = yajl_gen_alloc(NULL);
		const unsigned char *buf;
		size_t		blen;

		if (!trib_jdoc_gen(g, v))
		{
			yajl_gen_free(g);
			trib_errf(errbuf, errlen, "checkpoint: %s: cannot render position", ck->target);
			goto done;
		}
		yajl_gen_get_buf(g, &buf, &blen);
		out->opaque = trib_xmalloc(blen + 1);
		memcpy(out->opaque, buf, blen);
		out->opaque[blen] = '\0';
		yajl_gen_free(g);
	}
	else if (v && !YAJL_IS_NULL(v))
	{
		trib_errf(errbuf, errlen, "checkpoint: %s: position must be an object or null", ck->target);
		goto done;
	}
	ck->ops->store_form(out, key, sizeof(key), &seq);
	if (key[0] == '\0' && !out->opaque)
	{
		trib_errf(errbuf, errlen, "checkpoint: %s holds no position", ck->target);
		goto done;
	}
	rc = 1;
done:
	yajl_tree_free(root);
	return rc;
}

/* Is text one JSON object?  (Validated with yajl_tree.) */
static bool
is_json_object(const char *text)
{
	char		perr[128];
	yajl_val	v = yajl_tree_parse(text, perr, sizeof(perr));
	bool		ok = v && YAJL_IS_OBJECT(v);

	yajl_tree_free(v);
	return ok;
}

/* Save the file store atomically. */
static bool
file_save(trib_checkpoint *ck, const trib_position *pos, char *errbuf,
		  size_t errlen)
{
	yajl_gen	g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t		blen;
	char		key[TRIB_LSN_BUFLEN];
	uint64_t	seq;
	bool		ok = false;
	char	   *sealed;
	const char *opaque;

	if (pos->opaque && !is_json_object(pos->opaque))
	{
		yajl_gen_free(g);
		return trib_errf(errbuf, errlen, "checkpoint: opaque position is not a JSON object");
	}
	if (!opaque_out(ck, pos, &sealed, &opaque, errbuf, errlen))
	{
		yajl_gen_free(g);
		return false;
	}
	ck->ops->store_form(pos, key, sizeof(key), &seq);
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *) "pipeline", 8);
	yajl_gen_string(g, (const unsigned char *) ck->pipeline, strlen(ck->pipeline));
	yajl_gen_string(g, (const unsigned char *) "source", 6);
	yajl_gen_string(g, (const unsigned char *) ck->source, strlen(ck->source));
	if (key[0])
	{
		yajl_gen_string(g, (const unsigned char *) "commit_lsn", 10);
		yajl_gen_string(g, (const unsigned char *) key, strlen(key));
		yajl_gen_string(g, (const unsigned char *) "seq", 3);
		yajl_gen_integer(g, (long long) seq);
	}
	yajl_gen_string(g, (const unsigned char *) "position", 8);
	if (opaque)
		yajl_gen_number(g, opaque, strlen(opaque));	/* verbatim */
	else
		yajl_gen_null(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &blen);

	{
		/* the JSON and a newline, replacing the file atomically */
		char	   *text = trib_xmalloc(blen + 1);
		const char *what = NULL;

		memcpy(text, buf, blen);
		text[blen] = '\n';
		ok = trib_fileio_write_atomic(ck->target, text, blen + 1, 0600, true, &what);
		if (!ok)
			trib_errf(errbuf, errlen, "checkpoint: cannot %s %s: %s", what, ck->target,
					  strerror(errno));
		free(text);
	}
	yajl_gen_free(g);
	free(sealed);
	return ok;
}

/* ---------------------------------------------------------------------- */

int
trib_checkpoint_load(trib_checkpoint *ck, trib_position *out, char *errbuf,
					 size_t errlen)
{
	int			r;

	memset(out, 0, sizeof(*out));
	r = ck->mode == TRIB_CKPT_CATALOG ? catalog_load(ck, out, errbuf, errlen)
		: file_load(ck, out, errbuf, errlen);
	if (r > 0 && !opaque_in(ck, out, errbuf, errlen))
		return TRIB_CHECKPOINT_UNREADABLE;
	return r;
}

bool
trib_checkpoint_save(trib_checkpoint *ck, const trib_position *pos,
					 char *errbuf, size_t errlen)
{
	char		key[TRIB_LSN_BUFLEN];
	uint64_t	seq;

	ck->ops->store_form(pos, key, sizeof(key), &seq);
	if (key[0] == '\0' && !pos->opaque)
		return trib_errf(errbuf, errlen, "checkpoint: nothing to save (no commit_lsn, no position)");
	return ck->mode == TRIB_CKPT_CATALOG ? catalog_save(ck, pos, errbuf, errlen)
		: file_save(ck, pos, errbuf, errlen);
}
