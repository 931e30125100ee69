/*
 * mysql_tx.c: the transaction assembler (mysql_tx.h).
 *
 * State: whether a group is open, its position (file, offset of its first
 * event, GTID), whether it is a standalone (DDL) group, the next change
 * number, one event held back, and a FIFO of finished items.  The GTID
 * state is one GTID per MariaDB domain or MySQL source UUID, updated by
 * GTID_LIST events and every group's GTID.
 *
 * Hot path.  Every row's event carries packed positions (file number << 32
 * | offset).  The group's file name is parsed for its number once, when the
 * group opens (file_no), and a row reuses it whenever its rows event is in
 * that file, which is always: a group never spans binlog files.  Only a
 * name that differs is parsed again.
 */
#include "mysql_tx.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_int.h"
#include "mysql_opaque.h"
#include "strbuf.h"

struct trib_my_tx
{
	const char *source_name;
	const trib_my_schema *schema;
	bool		has_resume;
	trib_my_pos resume;

	trib_my_gtid *state;		/* one per domain / source UUID */
	int			nstate;

	bool		in_tx;
	bool		standalone;		/* no COMMIT follows (DDL group) */
	bool		saw_begin;		/* QUERY BEGIN seen in this group */
	trib_my_pos tx;				/* row unused */
	bool		file_numbered;	/* tx.file has a number: file_no */
	uint32_t	file_no;
	int64_t		tx_ts_ms;
	uint32_t	tx_server;
	uint32_t	tx_thread;		/* QUERY BEGIN's thread id; 0: unknown */
	bool		include_query;	/* the source block has "query" */
	char	   *rows_query;		/* the SQL of the rows events, or NULL */
	uint64_t	next_row;
	uint64_t	nchanges;
	trib_event *held;			/* newest event, not yet queued */

	trib_my_item *queue;
	size_t		qhead,
				qlen,
				qcap;
	trib_my_opaque opaque;		/* the opaque text's per-transaction parts */
};

/* Add a GTID to the state, replacing its domain's (or UUID's) entry. */
static void
state_update(trib_my_tx *tx, const trib_my_gtid *g)
{
	if (g->kind == TRIB_MY_GTID_NONE)
		return;
	for (int i = 0; i < tx->nstate; i++)
	{
		trib_my_gtid *s = &tx->state[i];

		if (s->kind == g->kind &&
			(g->kind == TRIB_MY_GTID_MARIADB ? s->domain == g->domain
			 : memcmp(s->uuid, g->uuid, 16) == 0))
		{
			*s = *g;
			return;
		}
	}
	tx->state = trib_xrealloc(tx->state, sizeof(trib_my_gtid) * (size_t) (tx->nstate + 1));
	tx->state[tx->nstate++] = *g;
}

/* Parse "0-1-42,1-2-7" into the state. */
static bool
state_parse(trib_my_tx *tx, const char *s, char *errbuf, size_t errlen)
{
	while (s && *s)
	{
		const char *comma = strchr(s, ',');
		size_t		n = comma ? (size_t) (comma - s) : strlen(s);
		trib_my_gtid g;

		while (n > 0 && (*s == ' '))
			s++, n--;
		if (!trib_my_gtid_parse(s, n, &g) || g.kind == TRIB_MY_GTID_NONE)
			return trib_my_fail(errbuf, errlen,
								"GTID state \"%.*s\": expected GTIDs separated by commas",
								(int) n, s);
		state_update(tx, &g);
		s = comma ? comma + 1 : NULL;
	}
	return true;
}

size_t
trib_my_tx_gtid_state(const trib_my_tx *tx, char *buf, size_t len)
{
	size_t		n = 0;

	if (len > 0)
		buf[0] = '\0';
	for (int i = 0; i < tx->nstate && n + 1 < len; i++)
	{
		char		g[TRIB_MY_GTID_BUFLEN];

		trib_my_gtid_format(&tx->state[i], g, sizeof(g));
		n += (size_t) snprintf(buf + n, len - n, "%s%s", i ? "," : "", g);
	}
	return n < len ? n : len - 1;
}

trib_my_tx *
trib_my_tx_new(const trib_my_tx_conf *conf, char *errbuf, size_t errlen)
{
	trib_my_tx *tx = trib_xcalloc(1, sizeof(*tx));

	tx->source_name = conf->source_name;
	tx->schema = conf->schema;
	tx->include_query = conf->include_query;
	if (conf->resume_after)
	{
		tx->has_resume = true;
		tx->resume = *conf->resume_after;
	}
	if (!state_parse(tx, conf->gtid_state, errbuf, errlen))
	{
		trib_my_tx_free(tx);
		return NULL;
	}
	return tx;
}

void
trib_my_item_clear(trib_my_item *it)
{
	trib_event_free(it->event);
	free(it->db);
	free(it->statement);
	free(it->gtid_state);
	memset(it, 0, sizeof(*it));
}

void
trib_my_tx_free(trib_my_tx *tx)
{
	if (tx == NULL)
		return;
	for (size_t i = tx->qhead; i < tx->qlen; i++)
		trib_my_item_clear(&tx->queue[i]);
	free(tx->queue);
	trib_event_free(tx->held);
	free(tx->state);
	free(tx->rows_query);
	trib_my_opaque_free(&tx->opaque);
	free(tx);
}

bool
trib_my_tx_open(const trib_my_tx *tx, trib_my_pos *at)
{
	if (tx->in_tx && at)
	{
		*at = tx->tx;
		at->row = tx->next_row;
	}
	return tx->in_tx;
}

bool
trib_my_tx_next(trib_my_tx *tx, trib_my_item *out)
{
	if (tx->qhead == tx->qlen)
		return false;
	*out = tx->queue[tx->qhead++];
	if (tx->qhead == tx->qlen)
		tx->qhead = tx->qlen = 0;
	return true;
}

bool
trib_my_tx_ready(const trib_my_tx *tx)
{
	return tx->qhead < tx->qlen;
}

/* Append an item to the queue (taking what it owns). */
static void
enqueue(trib_my_tx *tx, trib_my_item *it)
{
	if (tx->qlen == tx->qcap)
	{
		if (tx->qhead > 0)
		{
			memmove(tx->queue, tx->queue + tx->qhead,
					sizeof(trib_my_item) * (tx->qlen - tx->qhead));
			tx->qlen -= tx->qhead;
			tx->qhead = 0;
		}
		tx->queue = trib_xgrow(tx->queue, tx->qlen, &tx->qcap, sizeof(trib_my_item), 16);
	}
	tx->queue[tx->qlen++] = *it;
}

/* Is this position covered by the resume point (already delivered)? */
static bool
covered(const trib_my_tx *tx, const trib_my_pos *p)
{
	return tx->has_resume && trib_my_pos_cmp(p, &tx->resume) <= 0;
}

/* The group's position with the given row. */
static trib_my_pos
pos_row(const trib_my_tx *tx, uint64_t row)
{
	trib_my_pos p = tx->tx;

	p.row = row;
	return p;
}

/* file number << 32 | offset, 0 when the file has no number or the offset
 * does not fit 32 bits (as trib_my_pos_major); the group's file by the
 * number parsed when it opened. */
static uint64_t
major_at(const trib_my_tx *tx, const char *file, uint64_t off)
{
	uint32_t	n;

	if (off > UINT32_MAX)
		return 0;
	if (strcmp(file, tx->tx.file) == 0)
		return tx->file_numbered ? (uint64_t) tx->file_no << 32 | off : 0;
	return trib_my_file_number(file, &n) ? (uint64_t) n << 32 | off : 0;
}

/* The opaque position of an event (mysql_opaque.h; end_pos and the GTID
 * state when `last`), with its opaque_source hint in *source_len. */
static char *
opaque(trib_my_tx *tx, const trib_my_pos *p, uint64_t event_pos, bool last,
	   uint64_t end_pos, size_t *source_len)
{
	trib_my_opaque_tx t = {
		.tx = &tx->tx,
		.server_id = tx->tx_server,
		.thread = tx->tx_thread,
		.include_query = tx->include_query,
		.query = tx->rows_query,
	};
	char		state[4096];

	if (last)
		trib_my_tx_gtid_state(tx, state, sizeof(state));
	return trib_my_opaque_row(&tx->opaque, &t, p->row, event_pos, last, end_pos,
							  last ? state : NULL, source_len);
}

/* Queue the held event, marking it last of its transaction when `last`. */
static void
release_held(trib_my_tx *tx, bool last, uint64_t end_pos)
{
	trib_my_item it = {0};
	trib_event *ev = tx->held;
	trib_my_pos p;

	if (ev == NULL)
		return;
	tx->held = NULL;
	p = pos_row(tx, ev->pos.seq);
	if (last)
	{
		size_t		source_len;
		char	   *o = opaque(tx, &p, ev->pos.lsn & 0xFFFFFFFFu, true, end_pos,
							   &source_len);

		free(ev->pos.opaque);
		trib_position_set_opaque(&ev->pos, o, source_len);
		ev->pos.end_lsn = major_at(tx, p.file, end_pos);
		ev->last_in_tx = true;
	}
	it.kind = TRIB_MY_ITEM_EVENT;
	it.pos = p;
	it.ts_ms = ev->ts_ms;
	it.server_id = tx->tx_server;
	it.event = ev;
	enqueue(tx, &it);
}

/* Queue the BEGIN item of the open group, unless resume covers it. */
static void
emit_begin(trib_my_tx *tx)
{
	trib_my_item it = {0};
	trib_my_pos all = pos_row(tx, TRIB_MY_ROW_ALL);

	if (covered(tx, &all))
		return;
	it.kind = TRIB_MY_ITEM_BEGIN;
	it.pos = pos_row(tx, 0);
	it.ts_ms = tx->tx_ts_ms;
	it.server_id = tx->tx_server;
	enqueue(tx, &it);
}

/* Open a group at the event's position. */
static bool
begin_group(trib_my_tx *tx, const trib_my_event *ev, bool standalone,
			char *errbuf, size_t errlen)
{
	if (tx->in_tx)
		return trib_my_fail(errbuf, errlen,
							"binlog %s:%llu: a new event group starts before the one at %llu ended",
							ev->file, (unsigned long long) ev->pos,
							(unsigned long long) tx->tx.tx_pos);
	memset(&tx->tx, 0, sizeof(tx->tx));
	snprintf(tx->tx.file, sizeof(tx->tx.file), "%s", ev->file);
	tx->file_numbered = trib_my_file_number(tx->tx.file, &tx->file_no);
	tx->tx.tx_pos = ev->pos;
	tx->tx.gtid = ev->gtid;
	tx->tx_ts_ms = (int64_t) ev->timestamp * 1000;
	tx->tx_server = ev->server_id;
	tx->in_tx = true;
	tx->standalone = standalone;
	tx->saw_begin = ev->kind == TRIB_MY_EV_QUERY && ev->query == TRIB_MY_Q_BEGIN;
	tx->tx_thread = tx->saw_begin ? ev->thread_id : 0;
	free(tx->rows_query);
	tx->rows_query = NULL;
	tx->next_row = 0;
	tx->nchanges = 0;
	trib_my_opaque_invalidate(&tx->opaque);
	state_update(tx, &ev->gtid);
	if (tx->has_resume && strcmp(tx->tx.file, tx->resume.file) == 0 &&
		tx->tx.tx_pos == tx->resume.tx_pos &&
		tx->tx.gtid.kind != TRIB_MY_GTID_NONE &&
		tx->resume.gtid.kind != TRIB_MY_GTID_NONE &&
		!trib_my_gtid_equal(&tx->tx.gtid, &tx->resume.gtid))
	{
		char		a[TRIB_MY_GTID_BUFLEN],
					b[TRIB_MY_GTID_BUFLEN];

		trib_my_gtid_format(&tx->tx.gtid, a, sizeof(a));
		trib_my_gtid_format(&tx->resume.gtid, b, sizeof(b));
		return trib_my_fail(errbuf, errlen,
							"binlog %s:%llu holds transaction %s, but the checkpoint recorded %s there: "
							"the server's binlog was replaced; take a new snapshot (docs/MYSQL.md)",
							tx->tx.file, (unsigned long long) tx->tx.tx_pos, a, b);
	}
	/* MariaDB's GTID says whether a COMMIT follows; after MySQL's, a
	 * BEGIN says so */
	if (!standalone && (ev->gtid.kind == TRIB_MY_GTID_MARIADB || tx->saw_begin))
		emit_begin(tx);
	return true;
}

/* Close the group: the held event becomes its last, then END. */
static void
end_group(trib_my_tx *tx, const trib_my_event *ev)
{
	trib_my_item it = {0};
	uint64_t	end_pos = ev->next_pos;
	char		state[4096];

	release_held(tx, true, end_pos);
	it.kind = TRIB_MY_ITEM_END;
	it.pos = pos_row(tx, TRIB_MY_ROW_ALL);
	it.end_pos = end_pos;
	it.ts_ms = tx->tx_ts_ms;
	it.server_id = tx->tx_server;
	it.nchanges = tx->nchanges;
	trib_my_tx_gtid_state(tx, state, sizeof(state));
	it.gtid_state = trib_xstrdup(state);
	if (covered(tx, &it.pos))
		trib_my_item_clear(&it);
	else
		enqueue(tx, &it);
	tx->in_tx = false;
}

/* A DDL statement: its own item; ends a standalone group. */
static void
ddl(trib_my_tx *tx, trib_my_event *ev)
{
	trib_my_item it = {0};
	char		state[4096];
	bool		ends = tx->tx.gtid.kind == TRIB_MY_GTID_MARIADB ? tx->standalone
		: !tx->saw_begin;

	it.kind = TRIB_MY_ITEM_DDL;
	it.pos = pos_row(tx, ends && tx->next_row == 0 ? TRIB_MY_ROW_ALL : tx->next_row++);
	it.end_pos = ev->next_pos;
	it.ts_ms = (int64_t) ev->timestamp * 1000;
	it.server_id = ev->server_id;
	it.db = ev->db;
	it.statement = ev->statement;
	ev->db = NULL;
	ev->statement = NULL;
	trib_my_tx_gtid_state(tx, state, sizeof(state));
	it.gtid_state = trib_xstrdup(state);
	if (tx->schema && tx->schema->ops->ddl)
		tx->schema->ops->ddl(tx->schema->ctx, it.db, it.statement, &it.pos);
	release_held(tx, false, 0);
	if (covered(tx, &it.pos))
		trib_my_item_clear(&it);
	else
		enqueue(tx, &it);
	if (ends)
		tx->in_tx = false;
}

/* One row image pair to an event (taking the row's strings). */
static trib_event *
row_event(trib_my_tx *tx, const trib_my_event *ev, trib_my_row *r, uint64_t row)
{
	trib_event *e = trib_event_new();
	trib_my_pos p = pos_row(tx, row);
	size_t		source_len;
	char	   *o;

	e->op = (trib_op) r->op;
	e->source = tx->source_name;
	e->connector = "mysql";
	e->db = ev->shape->db;
	e->table = ev->shape->table;
	e->rel = &ev->shape->rel;
	e->before = r->before;
	e->after = r->after;
	e->key = r->key;
	e->unchanged = r->unchanged;
	r->before = r->after = r->key = r->unchanged = NULL;
	e->txid = tx->tx.gtid.seq;
	e->ts_ms = (int64_t) ev->timestamp * 1000;
	e->pos.commit_lsn = major_at(tx, p.file, p.tx_pos);
	e->pos.seq = row;
	e->pos.lsn = major_at(tx, ev->file, ev->pos);
	o = opaque(tx, &p, ev->pos, false, 0, &source_len);
	trib_position_set_opaque(&e->pos, o, source_len);
	return e;
}

/* A rows event: its rows become events (those not covered by resume). */
static bool
rows(trib_my_tx *tx, trib_my_event *ev, char *errbuf, size_t errlen)
{
	if (!tx->in_tx)
		return trib_my_fail(errbuf, errlen,
							"binlog %s:%llu: a rows event outside a transaction",
							ev->file, (unsigned long long) ev->pos);
	for (int i = 0; i < ev->nrows; i++)
	{
		uint64_t	row = tx->next_row++;
		trib_my_pos p = pos_row(tx, row);

		tx->nchanges++;
		if (covered(tx, &p))
			continue;
		release_held(tx, false, 0);
		tx->held = row_event(tx, ev, &ev->rows[i], row);
	}
	return true;
}

/* A QUERY event: BEGIN, COMMIT/ROLLBACK, SAVEPOINT (nothing), XA and
 * ROLLBACK TO (refused) or DDL. */
static bool
query(trib_my_tx *tx, trib_my_event *ev, char *errbuf, size_t errlen)
{
	switch (ev->query)
	{
		case TRIB_MY_Q_BEGIN:
			if (!tx->in_tx)
				return begin_group(tx, ev, false, errbuf, errlen);
			if (!tx->saw_begin && tx->tx.gtid.kind != TRIB_MY_GTID_MARIADB)
				emit_begin(tx);
			tx->saw_begin = true;
			tx->tx_thread = ev->thread_id;
			trib_my_opaque_invalidate(&tx->opaque);
			return true;
		case TRIB_MY_Q_COMMIT:
		case TRIB_MY_Q_ROLLBACK:
			/* a ROLLBACK in the binlog keeps the changes it logged to
			 * non-transactional tables */
			if (tx->in_tx)
				end_group(tx, ev);
			return true;
		case TRIB_MY_Q_XA:
			return trib_my_fail(errbuf, errlen,
								"binlog %s:%llu: XA transactions are not supported yet (%.40s)",
								ev->file, (unsigned long long) ev->pos, ev->statement);
		case TRIB_MY_Q_SAVEPOINT:
			/* a mark inside the transaction; nothing changed */
			return true;
		case TRIB_MY_Q_ROLLBACK_TO:

			/*
			 * The server logs it only when a change after the savepoint was
			 * to a non-transactional table (else it drops those events
			 * from the transaction): it undid the transactional changes
			 * after the savepoint and kept the others, and the binlog does
			 * not tell them apart.
			 */
			return trib_my_fail(errbuf, errlen,
								"binlog %s:%llu: %.60s in a transaction that changed a "
								"non-transactional table (MyISAM, Aria, ...) after the savepoint: "
								"which of the changes it undid is not in the binlog; not supported "
								"(docs/MYSQL.md)",
								ev->file, (unsigned long long) ev->pos, ev->statement);
		case TRIB_MY_Q_DDL:
			if (!tx->in_tx && !begin_group(tx, ev, true, errbuf, errlen))
				return false;
			ddl(tx, ev);
			return true;
		case TRIB_MY_Q_ACCOUNT:
			/* its own group; dropped whole: it is not data and may hold a
			 * password */
			release_held(tx, false, 0);
			tx->in_tx = false;
			return true;
		default:
			return true;
	}
}

bool
trib_my_tx_feed(trib_my_tx *tx, trib_my_event *ev, char *errbuf, size_t errlen)
{
	switch (ev->kind)
	{
		case TRIB_MY_EV_GTID:
			return begin_group(tx, ev, ev->standalone, errbuf, errlen);
		case TRIB_MY_EV_GTID_LIST:
			for (int i = 0; i < ev->ngtids; i++)
				state_update(tx, &ev->gtids[i]);
			return true;
		case TRIB_MY_EV_QUERY:
			return query(tx, ev, errbuf, errlen);
		case TRIB_MY_EV_XID:
			if (tx->in_tx)
				end_group(tx, ev);
			return true;
		case TRIB_MY_EV_ROWS:
			return rows(tx, ev, errbuf, errlen);
		case TRIB_MY_EV_ROWS_QUERY:
			free(tx->rows_query);
			tx->rows_query = tx->include_query && ev->statement ?
				trib_xstrdup(ev->statement) : NULL;
			trib_my_opaque_invalidate(&tx->opaque);
			return true;
		default:
			return true;
	}
}
