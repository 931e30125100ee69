/*
 * pgprepared.c: prepared transactions held until COMMIT PREPARED, and the
 * resume filter (see pgprepared.h for the design and the positions).
 *
 * Structure.  Records that may leave go to the output queue (`q`, linked
 * through trib_pgrec.next).  A prepared transaction (held_tx) sits in
 * `held` from its begin_prepare until its commit_prepared; then its
 * commit_prepared record enters the queue as a marker and the transaction
 * moves to the releasing list (`rel_head`), in queue order.  pop() meeting
 * a marker first produces that transaction's begin_prepare and events, one
 * per call (from memory, then from its spill file), then the marker.
 *
 * Spill format.  One record per event: a fixed header (spill_hdr) and the
 * bytes of its strings (every string the record and its event own, the
 * JSON null lists included).  The borrowed naming strings and the
 * relation are stored as an index into the transaction's table of
 * distinct ones (`names`), which lives in memory: a held transaction
 * touches few tables.  The file is this process's scratch space, never
 * read by another one.
 */
#include "pgprepared.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errf.h"
#include "lsn.h"
#include "strbuf.h"
#include "xalloc.h"

#define SPILL_BUFFER (256 * 1024)	/* stdio buffer of a spill file */
#define NO_STRING UINT32_MAX		/* spill_hdr.len of a NULL string */

/* The strings of a record and its event, in spill order. */
enum
{
	S_PREFIX, S_BEFORE, S_AFTER, S_KEY, S_UNCHANGED, S_AFTER_JNULLS,
	S_BEFORE_JNULLS, S_EXTRA, S_OPAQUE, S_TOPIC, S_TAGS, S_ERROR, NSTR
};

/* Flags of spill_hdr. */
#define F_HAS_COMMIT_LSN 0x01
#define F_HAS_TS 0x02
#define F_HAS_SEQ 0x04
#define F_TRANSACTIONAL 0x08
#define F_SNAPSHOT 0x10
#define F_LAST_IN_TX 0x20

/* One spilled event: this header, then its strings' bytes. */
typedef struct spill_hdr
{
	uint32_t	len[NSTR];
	uint32_t	names;			/* index into held_tx.names */
	uint32_t	xid;
	uint32_t	subxid;
	uint8_t		kind;
	uint8_t		op;
	uint8_t		flags;
	uint8_t		flatten;
	uint64_t	lsn;
	uint64_t	seq;
	uint64_t	commit_lsn;
	int64_t		rec_ts_ms;
	uint64_t	txid;
	int64_t		ev_ts_ms;
	uint64_t	pos_commit_lsn;
	uint64_t	pos_seq;
	uint64_t	pos_end_lsn;
	uint64_t	pos_lsn;
	int64_t		rec_ts_us;
	int64_t		ev_ts_us;
} spill_hdr;

/* What an event borrows from the source. */
typedef struct names_ent
{
	const char *source;
	const char *connector;
	const char *db;
	const char *schema;
	const char *table;
	const trib_relation *rel;
} names_ent;

/* How much of a transaction being delivered the resume filter drops. */
typedef enum skip_mode
{
	SKIP_NONE,
	SKIP_THROUGH				/* events with seq <= skip_seq */
} skip_mode;

/* Where the delivery of a released transaction stands. */
typedef enum release_stage
{
	ST_BEGIN,
	ST_MEMORY,
	ST_FILE,
	ST_DONE
} release_stage;

/* One prepared transaction. */
typedef struct held_tx
{
	uint32_t	xid;
	uint64_t	prepare_lsn;
	bool		complete;		/* its prepare came */
	trib_pgrec *begin;			/* its begin_prepare */
	trib_pgrec *head;			/* events in memory, in order */
	trib_pgrec *tail;
	size_t		mem_bytes;
	/* events past the memory budget, after those in memory */
	char	   *path;
	FILE	   *f;
	uint64_t	nspilled;
	uint64_t	spill_bytes;
	names_ent  *names;
	size_t		nnames;
	size_t		capnames;
	size_t		last_name;
	/* delivery, once its commit_prepared came */
	trib_pgrec *commit;			/* the marker, owned by the queue */
	skip_mode	skip;
	uint64_t	skip_seq;
	release_stage stage;
	struct held_tx *next;
} held_tx;

struct trib_pgprep
{
	char	   *spill_dir;
	char	   *spill_prefix;
	size_t		budget;
	size_t		mem_bytes;		/* events in memory, all transactions */
	held_tx    *held;			/* not released yet, oldest first */
	held_tx    *cur;			/* between begin_prepare and prepare */
	held_tx    *rel_head;		/* released, in queue order */
	held_tx    *rel_tail;
	trib_pgrec *qhead;
	trib_pgrec *qtail;
	bool		has_resume;
	uint64_t	resume_lsn;
	uint64_t	resume_seq;
	uint64_t	committed;
	uint64_t	rolled_back;
	uint64_t	without_changes;
	void		(*warn) (const char *msg, void *arg);
	void	   *warn_arg;
};

/* ---------------------------------------------------------------------- */
/* construction */

trib_pgprep *
trib_pgprep_new(const trib_pgprep_conf *conf)
{
	trib_pgprep *h = trib_xcalloc(1, sizeof(*h));

	h->spill_dir = trib_xstrdup(conf && conf->spill_dir ? conf->spill_dir : "/var/tmp");
	h->spill_prefix = trib_xstrdup(conf && conf->spill_prefix ? conf->spill_prefix :
								   "tributary.");
	h->budget = conf ? conf->memory_bytes : 0;
	h->warn = conf ? conf->warn : NULL;
	h->warn_arg = conf ? conf->warn_arg : NULL;
	return h;
}

/* Free a transaction and delete its spill file (not its marker, which
 * belongs to the queue). */
static void
held_free(trib_pgprep *h, held_tx *t)
{
	h->mem_bytes -= t->mem_bytes;
	trib_pgrec_free_list(t->head);
	trib_pgrec_free(t->begin);
	if (t->f)
		fclose(t->f);
	if (t->path)
	{
		unlink(t->path);
		free(t->path);
	}
	free(t->names);
	free(t);
}

/* Free every transaction of a list. */
static void
held_free_list(trib_pgprep *h, held_tx *t)
{
	while (t)
	{
		held_tx    *next = t->next;

		held_free(h, t);
		t = next;
	}
}

void
trib_pgprep_free(trib_pgprep *h)
{
	if (!h)
		return;
	held_free_list(h, h->held);
	held_free_list(h, h->rel_head);
	trib_pgrec_free_list(h->qhead);
	free(h->spill_dir);
	free(h->spill_prefix);
	free(h);
}

void
trib_pgprep_reset(trib_pgprep *h)
{
	/*
	 * Held transactions stay (and keep the floor) until the server sends
	 * them again: hold_begin() then replaces each.  Dropping them now
	 * would let the slot be confirmed past their PREPARE in between.
	 */
	h->cur = NULL;
}

int
trib_pgprep_clean(const trib_pgprep_conf *conf, char *errbuf, size_t errlen)
{
	DIR		   *d = opendir(conf->spill_dir);
	struct dirent *e;
	size_t		plen = strlen(conf->spill_prefix);
	int			n = 0;

	if (!d)
		return trib_errf(errbuf, errlen, "spill directory %s: %s", conf->spill_dir,
					strerror(errno)), -1;
	while ((e = readdir(d)) != NULL)
	{
		trib_strbuf p = {0};
		struct stat st;

		if (strncmp(e->d_name, conf->spill_prefix, plen) != 0)
			continue;
		trib_strbuf_printf(&p, "%s/%s", conf->spill_dir, e->d_name);
		if (lstat(p.data, &st) == 0 && S_ISREG(st.st_mode) &&
			st.st_uid == geteuid() && unlink(p.data) == 0)
			n++;
		trib_strbuf_free(&p);
	}
	closedir(d);
	return n;
}

/* ---------------------------------------------------------------------- */
/* positions */

void
trib_pgprep_set_resume(trib_pgprep *h, uint64_t lsn, uint64_t seq)
{
	h->has_resume = true;
	h->resume_lsn = lsn;
	h->resume_seq = seq;
}

bool
trib_pgprep_resume(const trib_pgprep *h, uint64_t *lsn, uint64_t *seq)
{
	if (!h->has_resume)
		return false;
	*lsn = h->resume_lsn;
	*seq = h->resume_seq;
	return true;
}

/* Is event (lsn, seq) at or before the resume point? */
static bool
covered(const trib_pgprep *h, uint64_t lsn, uint64_t seq)
{
	return h->has_resume && (lsn < h->resume_lsn ||
							 (lsn == h->resume_lsn && seq <= h->resume_seq));
}

/* Move the resume point on to (lsn, seq) when that is later. */
static void
advance(trib_pgprep *h, uint64_t lsn, uint64_t seq)
{
	if (!covered(h, lsn, seq))
		trib_pgprep_set_resume(h, lsn, seq);
}

bool
trib_pgprep_floor(const trib_pgprep *h, uint64_t *lsn)
{
	const held_tx *lists[2] = {h->held, h->rel_head};
	bool		have = false;

	for (int i = 0; i < 2; i++)
		for (const held_tx *t = lists[i]; t; t = t->next)
			if (!have || t->prepare_lsn < *lsn)
			{
				*lsn = t->prepare_lsn;
				have = true;
			}
	return have;
}

void
trib_pgprep_stats_get(const trib_pgprep *h, trib_pgprep_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (const held_tx *t = h->held; t; t = t->next)
	{
		out->held++;
		out->spilled_bytes += t->spill_bytes;
	}
	out->memory_bytes = h->mem_bytes;
	out->committed = h->committed;
	out->rolled_back = h->rolled_back;
	out->without_changes = h->without_changes;
}

/* ---------------------------------------------------------------------- */
/* the output queue */

static void
enqueue(trib_pgprep *h, trib_pgrec *r)
{
	trib_pgrec_append(&h->qhead, &h->qtail, r);
}

/* Queue a record that is not part of a held transaction, unless the resume
 * filter drops it; move the resume point on. */
static void
pass(trib_pgprep *h, trib_pgrec *r)
{
	if (r->ev)
	{
		if (covered(h, r->ev->pos.commit_lsn, r->ev->pos.seq))
			goto drop;
		advance(h, r->ev->pos.commit_lsn, r->ev->pos.seq);
	}
	else if (r->kind == TRIB_PGREC_BEGIN || r->kind == TRIB_PGREC_COMMIT ||
			 r->kind == TRIB_PGREC_STREAM_COMMIT || r->kind == TRIB_PGREC_COMMIT_PREPARED)
	{
		/* the plugin's rule: begin and commit go with a transaction
		 * that is not wholly covered */
		if (covered(h, r->commit_lsn, TRIB_SEQ_ALL))
			goto drop;
		if (r->kind != TRIB_PGREC_BEGIN)
			advance(h, r->commit_lsn, TRIB_SEQ_ALL);
	}
	else if (r->kind == TRIB_PGREC_ROLLBACK_PREPARED)
	{
		if (covered(h, r->commit_lsn, 0))
			goto drop;
		advance(h, r->commit_lsn, 0);
	}
	enqueue(h, r);
	return;
drop:
	trib_pgrec_free(r);
}

bool
trib_pgprep_ready(const trib_pgprep *h)
{
	return h->qhead != NULL;
}

/* ---------------------------------------------------------------------- */
/* holding */

/* The held transaction of xid, or NULL. */
static held_tx *
find_held(trib_pgprep *h, uint32_t xid, held_tx ***link)
{
	for (held_tx **pp = &h->held; *pp; pp = &(*pp)->next)
		if ((*pp)->xid == xid)
		{
			if (link)
				*link = pp;
			return *pp;
		}
	return NULL;
}

/* Unlink t from `held`. */
static void
unlink_held(trib_pgprep *h, held_tx *t)
{
	held_tx   **pp;

	if (find_held(h, t->xid, &pp) == t)
		*pp = t->next;
	if (h->cur == t)
		h->cur = NULL;
	t->next = NULL;
}

/* begin_prepare: a new held transaction. */
static bool
hold_begin(trib_pgprep *h, trib_pgrec *rec, char *errbuf, size_t errlen)
{
	held_tx    *t;
	held_tx   **pp;

	if (h->cur)
	{
		uint32_t	xid = rec->xid;

		trib_pgrec_free(rec);
		return trib_errf(errbuf, errlen, "begin_prepare of xid %u while prepared transaction %u "
					"has no prepare yet", xid, h->cur->xid);
	}
	/* the same transaction again (sent anew after a reconnection) */
	if ((t = find_held(h, rec->xid, NULL)) != NULL)
	{
		unlink_held(h, t);
		held_free(h, t);
	}
	t = trib_xcalloc(1, sizeof(*t));
	t->xid = rec->xid;
	t->prepare_lsn = rec->commit_lsn;
	t->begin = rec;
	rec->next = NULL;
	for (pp = &h->held; *pp; pp = &(*pp)->next)
		;
	*pp = t;
	h->cur = t;
	return true;
}

/* The index of the event's naming strings and relation in t->names. */
static uint32_t
names_index(held_tx *t, const trib_event *e)
{
	names_ent	n = {e->source, e->connector, e->db, e->schema, e->table, e->rel};

	if (t->last_name < t->nnames &&
		memcmp(&t->names[t->last_name], &n, sizeof(n)) == 0)
		return (uint32_t) t->last_name;
	for (size_t i = 0; i < t->nnames; i++)
		if (memcmp(&t->names[i], &n, sizeof(n)) == 0)
			return (uint32_t) (t->last_name = i);
	t->names = trib_xgrow(t->names, t->nnames, &t->capnames, sizeof(*t->names), 8);
	t->names[t->nnames] = n;
	return (uint32_t) (t->last_name = t->nnames++);
}

/* Open t's spill file. */
static bool
spill_open(trib_pgprep *h, held_tx *t, char *errbuf, size_t errlen)
{
	trib_strbuf p = {0};
	int			fd;

	trib_strbuf_printf(&p, "%s/%sXXXXXX", h->spill_dir, h->spill_prefix);
	t->path = trib_strbuf_finish(&p);
	fd = mkstemp(t->path);		/* O_EXCL, mode 0600 */
	if (fd < 0 || (t->f = fdopen(fd, "w+")) == NULL)
	{
		int			e = errno;

		if (fd >= 0)
			close(fd);
		free(t->path);
		t->path = NULL;
		return trib_errf(errbuf, errlen, "cannot create a spill file in %s for prepared "
					"transaction %u: %s", h->spill_dir, t->xid, strerror(e));
	}
	setvbuf(t->f, NULL, _IOFBF, SPILL_BUFFER);
	return true;
}

/* Append one event to t's spill file; the record is freed. */
static bool
spill_write(held_tx *t, trib_pgrec *r, char *errbuf, size_t errlen)
{
	const trib_event *e = r->ev;
	const char *s[NSTR] = {r->prefix, e->before, e->after, e->key, e->unchanged,
		e->after_json_nulls, e->before_json_nulls, e->extra, e->pos.opaque, e->topic,
		e->tags, e->error};
	spill_hdr	hd;
	size_t		total = sizeof(hd);
	bool		ok;

	memset(&hd, 0, sizeof(hd));
	for (int i = 0; i < NSTR; i++)
	{
		hd.len[i] = s[i] ? (uint32_t) strlen(s[i]) : NO_STRING;
		total += s[i] ? hd.len[i] : 0;
	}
	hd.names = names_index(t, e);
	hd.xid = r->xid;
	hd.subxid = r->subxid;
	hd.kind = (uint8_t) r->kind;
	hd.op = (uint8_t) e->op;
	hd.flags = (r->has_commit_lsn ? F_HAS_COMMIT_LSN : 0) | (r->has_ts ? F_HAS_TS : 0) |
		(r->has_seq ? F_HAS_SEQ : 0) | (r->transactional ? F_TRANSACTIONAL : 0) |
		(e->snapshot ? F_SNAPSHOT : 0) | (e->last_in_tx ? F_LAST_IN_TX : 0);
	hd.flatten = e->flatten;
	hd.lsn = r->lsn;
	hd.seq = r->seq;
	hd.commit_lsn = r->commit_lsn;
	hd.rec_ts_ms = r->ts_ms;
	hd.rec_ts_us = r->ts_us;
	hd.txid = e->txid;
	hd.ev_ts_ms = e->ts_ms;
	hd.ev_ts_us = e->ts_us;
	hd.pos_commit_lsn = e->pos.commit_lsn;
	hd.pos_seq = e->pos.seq;
	hd.pos_end_lsn = e->pos.end_lsn;
	hd.pos_lsn = e->pos.lsn;
	ok = fwrite(&hd, sizeof(hd), 1, t->f) == 1;
	for (int i = 0; ok && i < NSTR; i++)
		if (s[i] && hd.len[i] > 0)
			ok = fwrite(s[i], hd.len[i], 1, t->f) == 1;
	trib_pgrec_free(r);
	if (!ok)
		return trib_errf(errbuf, errlen, "cannot write spill file %s: %s", t->path,
					strerror(errno));
	t->nspilled++;
	t->spill_bytes += total;
	return true;
}

/* A change of the transaction being prepared: in memory while the budget
 * allows, else in its spill file. */
static bool
hold_event(trib_pgprep *h, held_tx *t, trib_pgrec *r, char *errbuf, size_t errlen)
{
	size_t		b = trib_pgrec_bytes(r);

	if (!t->f && h->mem_bytes + b <= h->budget)
	{
		trib_pgrec_append(&t->head, &t->tail, r);
		t->mem_bytes += b;
		h->mem_bytes += b;
		return true;
	}
	if (!t->f && !spill_open(h, t, errbuf, errlen))
	{
		trib_pgrec_free(r);
		return false;
	}
	return spill_write(t, r, errbuf, errlen);
}

/* commit_prepared of a held transaction: queue it for delivery. */
static bool
release(trib_pgprep *h, held_tx *t, trib_pgrec *commit, char *errbuf, size_t errlen)
{
	unlink_held(h, t);
	commit->prepare_lsn = t->prepare_lsn;
	h->committed++;
	if (covered(h, commit->commit_lsn, TRIB_SEQ_ALL))
	{
		/* delivered before a restart or reconnection */
		held_free(h, t);
		trib_pgrec_free(commit);
		return true;
	}
	if (h->has_resume && commit->commit_lsn == h->resume_lsn)
	{
		t->skip = SKIP_THROUGH;
		t->skip_seq = h->resume_seq;
	}
	if (t->f && (fflush(t->f) != 0 || fseek(t->f, 0, SEEK_SET) != 0))
	{
		int			e = errno;

		held_free(h, t);
		trib_pgrec_free(commit);
		return trib_errf(errbuf, errlen, "cannot write spill file: %s", strerror(e));
	}
	advance(h, commit->commit_lsn, TRIB_SEQ_ALL);
	t->commit = commit;
	t->stage = ST_BEGIN;
	if (h->rel_tail)
		h->rel_tail->next = t;
	else
		h->rel_head = t;
	h->rel_tail = t;
	enqueue(h, commit);
	return true;
}

/*
 * COMMIT PREPARED of a transaction not held.  PostgreSQL sends it alone
 * when the slot's confirmed position lies between its PREPARE and its
 * COMMIT PREPARED.  That is normal after a restart when the transaction was
 * delivered and another prepared transaction held the slot back: the resume
 * point covers it then, and it is dropped.  Past the resume point it is a
 * transaction of which nothing was delivered (every event dropped by
 * rules), or one prepared while two-phase was off and committed after it
 * was turned on, whose changes never came (CONFIG.md): warn, and let it
 * pass as an empty transaction so that the slot moves on.
 */
static void
commit_without_changes(trib_pgprep *h, trib_pgrec *rec)
{
	char		l[TRIB_LSN_BUFLEN];
	trib_strbuf m = {0};

	if (h->has_resume && rec->commit_lsn <= h->resume_lsn)
	{
		trib_pgrec_free(rec);
		return;
	}
	trib_lsn_format(rec->commit_lsn, l, sizeof(l));
	trib_strbuf_printf(&m, "COMMIT PREPARED of transaction %u (gid \"%s\") at %s came without "
					   "its changes, and they were not delivered before: if it was prepared "
					   "while two-phase was off, its changes are missing in the sinks",
					   rec->xid, rec->gid ? rec->gid : "", l);
	if (h->warn)
		h->warn(m.data, h->warn_arg);
	trib_strbuf_free(&m);
	h->without_changes++;
	pass(h, rec);
}

/* A two-phase record: begin, prepare, commit or rollback prepared. */
static bool
push_twophase(trib_pgprep *h, trib_pgrec *rec, char *errbuf, size_t errlen)
{
	held_tx    *t;

	switch (rec->kind)
	{
		case TRIB_PGREC_BEGIN_PREPARE:
			return hold_begin(h, rec, errbuf, errlen);
		case TRIB_PGREC_PREPARE:
		case TRIB_PGREC_STREAM_PREPARE:
			if (h->cur && h->cur->xid == rec->xid)
			{
				h->cur->complete = true;
				h->cur = NULL;
			}
			trib_pgrec_free(rec);
			return true;
		case TRIB_PGREC_COMMIT_PREPARED:
			t = find_held(h, rec->xid, NULL);
			if (t && t->complete)
				return release(h, t, rec, errbuf, errlen);
			commit_without_changes(h, rec);
			return true;
		default:				/* TRIB_PGREC_ROLLBACK_PREPARED */
			if ((t = find_held(h, rec->xid, NULL)) != NULL)
			{
				unlink_held(h, t);
				held_free(h, t);
				h->rolled_back++;
			}
			pass(h, rec);
			return true;
	}
}

bool
trib_pgprep_push(trib_pgprep *h, trib_pgrec *rec, char *errbuf, size_t errlen)
{
	switch (rec->kind)
	{
		case TRIB_PGREC_BEGIN_PREPARE:
		case TRIB_PGREC_PREPARE:
		case TRIB_PGREC_STREAM_PREPARE:
		case TRIB_PGREC_COMMIT_PREPARED:
		case TRIB_PGREC_ROLLBACK_PREPARED:
			return push_twophase(h, rec, errbuf, errlen);
		default:
			break;
	}
	if (h->cur && rec->ev)
	{
		if (rec->xid != h->cur->xid)
		{
			uint32_t	xid = rec->xid;

			trib_pgrec_free(rec);
			return trib_errf(errbuf, errlen, "change of xid %u inside prepared transaction %u",
						xid, h->cur->xid);
		}
		return hold_event(h, h->cur, rec, errbuf, errlen);
	}
	pass(h, rec);
	return true;
}

/* ---------------------------------------------------------------------- */
/* delivery */

/* Read a string of len bytes (NO_STRING: NULL) into *out. */
static bool
read_string(FILE *f, uint32_t len, char **out)
{
	*out = NULL;
	if (len == NO_STRING)
		return true;
	*out = trib_xmalloc((size_t) len + 1);
	(*out)[len] = '\0';
	return len == 0 || fread(*out, len, 1, f) == 1;
}

/* The next spilled event of t. */
static bool
spill_read(held_tx *t, trib_pgrec **out, char *errbuf, size_t errlen)
{
	spill_hdr	hd;
	char	   *s[NSTR] = {0};
	trib_pgrec *r;
	trib_event *e;
	bool		ok = fread(&hd, sizeof(hd), 1, t->f) == 1 && hd.names < t->nnames;

	for (int i = 0; ok && i < NSTR; i++)
		ok = read_string(t->f, hd.len[i], &s[i]);
	if (!ok)
	{
		for (int i = 0; i < NSTR; i++)
			free(s[i]);
		return trib_errf(errbuf, errlen, "cannot read spill file %s: %s", t->path,
					ferror(t->f) ? strerror(errno) : "truncated");
	}
	r = trib_xcalloc(1, sizeof(*r));
	e = r->ev = trib_event_new();
	r->kind = (trib_pgrec_kind) hd.kind;
	r->xid = hd.xid;
	r->subxid = hd.subxid;
	r->has_commit_lsn = hd.flags & F_HAS_COMMIT_LSN;
	r->commit_lsn = hd.commit_lsn;
	r->lsn = hd.lsn;
	r->has_ts = hd.flags & F_HAS_TS;
	r->ts_ms = hd.rec_ts_ms;
	r->ts_us = hd.rec_ts_us;
	r->has_seq = hd.flags & F_HAS_SEQ;
	r->seq = hd.seq;
	r->transactional = hd.flags & F_TRANSACTIONAL;
	r->prefix = s[S_PREFIX];
	e->op = (trib_op) hd.op;
	e->source = t->names[hd.names].source;
	e->connector = t->names[hd.names].connector;
	e->db = t->names[hd.names].db;
	e->schema = t->names[hd.names].schema;
	e->table = t->names[hd.names].table;
	e->rel = t->names[hd.names].rel;
	e->before = s[S_BEFORE];
	e->after = s[S_AFTER];
	e->key = s[S_KEY];
	e->unchanged = s[S_UNCHANGED];
	e->after_json_nulls = s[S_AFTER_JNULLS];
	e->before_json_nulls = s[S_BEFORE_JNULLS];
	e->extra = s[S_EXTRA];
	e->txid = hd.txid;
	e->ts_ms = hd.ev_ts_ms;
	e->ts_us = hd.ev_ts_us;
	e->snapshot = hd.flags & F_SNAPSHOT;
	e->last_in_tx = hd.flags & F_LAST_IN_TX;
	e->pos.commit_lsn = hd.pos_commit_lsn;
	e->pos.seq = hd.pos_seq;
	e->pos.end_lsn = hd.pos_end_lsn;
	e->pos.lsn = hd.pos_lsn;
	e->pos.opaque = s[S_OPAQUE];
	e->topic = s[S_TOPIC];
	e->tags = s[S_TAGS];
	e->error = s[S_ERROR];
	e->flatten = hd.flatten;
	t->nspilled--;
	*out = r;
	return true;
}

/* Give a record of t the position of its COMMIT PREPARED. */
static void
reposition(const held_tx *t, trib_pgrec *r)
{
	const trib_pgrec *c = t->commit;

	r->commit_lsn = c->commit_lsn;
	r->has_ts = c->has_ts;
	r->ts_ms = c->ts_ms;
	r->ts_us = c->ts_us;
	if (r->ev)
	{
		r->ev->pos.commit_lsn = c->commit_lsn;
		r->ev->ts_ms = c->ts_ms;
		r->ev->ts_us = c->ts_us;
		r->ev->pos.end_lsn = r->ev->last_in_tx ? c->end_lsn : 0;
	}
}

/* The next event of t in memory or in its file; NULL at the end. */
static bool
next_event(trib_pgprep *h, held_tx *t, trib_pgrec **out, char *errbuf, size_t errlen)
{
	*out = NULL;
	if (t->stage == ST_MEMORY && t->head)
	{
		trib_pgrec *r = t->head;
		size_t		b = trib_pgrec_bytes(r);

		t->head = r->next;
		if (!t->head)
			t->tail = NULL;
		r->next = NULL;
		t->mem_bytes -= b;
		h->mem_bytes -= b;
		*out = r;
		return true;
	}
	t->stage = ST_FILE;
	if (t->f && t->nspilled > 0)
		return spill_read(t, out, errbuf, errlen);
	t->stage = ST_DONE;
	return true;
}

/* The next record t delivers before its marker: 1, 0 at the end, -1. */
static int
release_next(trib_pgprep *h, held_tx *t, trib_pgrec **out, char *errbuf, size_t errlen)
{
	trib_pgrec *r;

	if (t->stage == ST_BEGIN)
	{
		t->stage = ST_MEMORY;
		r = t->begin;
		t->begin = NULL;
		reposition(t, r);
		*out = r;
		return 1;
	}
	while (t->stage != ST_DONE)
	{
		if (!next_event(h, t, &r, errbuf, errlen))
			return -1;
		if (!r)
			break;
		if (t->skip == SKIP_THROUGH && r->ev->pos.seq <= t->skip_seq)
		{
			trib_pgrec_free(r);
			continue;
		}
		reposition(t, r);
		*out = r;
		return 1;
	}
	return 0;
}

int
trib_pgprep_pop(trib_pgprep *h, trib_pgrec **out, char *errbuf, size_t errlen)
{
	trib_pgrec *r = h->qhead;

	if (!r)
		return 0;
	if (h->rel_head && h->rel_head->commit == r)
	{
		held_tx    *t = h->rel_head;
		int			rc = release_next(h, t, out, errbuf, errlen);

		if (rc != 0)
			return rc;
		h->rel_head = t->next;
		if (!h->rel_head)
			h->rel_tail = NULL;
		held_free(h, t);
	}
	h->qhead = r->next;
	if (!h->qhead)
		h->qtail = NULL;
	r->next = NULL;
	*out = r;
	return 1;
}
