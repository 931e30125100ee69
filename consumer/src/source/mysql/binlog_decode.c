/*
 * binlog_decode.c: the binlog decoder (mysql_binlog.h): event headers, the
 * stream's state, and the control events; TABLE_MAP and ROWS are in their
 * own files.
 *
 * Every event starts with the v4 header (MariaDB KB "2 - Binlog Event
 * Header"): timestamp 4, type 1, server id 4, event length 4, position of
 * the next event 4, flags 2, all little-endian.  When the stream has
 * checksums, the last 4 bytes are a CRC32 (Connector/C verifies it); which
 * it has says the FORMAT_DESCRIPTION event (its last 5 bytes: algorithm,
 * CRC), and before that the decoder's configuration, because a dump starts
 * with an artificial ROTATE sent in the form the replica asked for.
 *
 * Post-header lengths come from the FORMAT_DESCRIPTION too, so the body of
 * an event is found without knowing every server's layout: that is how a
 * v1 rows event (8 bytes) is told from a v2 one (10), and an old 4-byte
 * table id from the 6-byte one.
 *
 * Control events:
 *   FORMAT_DESCRIPTION  binlog version 2, server version 50, timestamp 4,
 *                       header length 1, post-header lengths, checksum
 *                       algorithm 1 (+ CRC 4)
 *   ROTATE              position 8, then the next file's name
 *   GTID (MariaDB)      seq_no 8, domain 4, flags 1 (FL_STANDALONE = 1: no
 *                       COMMIT follows); the server id is the header's
 *   GTID_LOG (MySQL)    flags 1, source UUID 16, gno 8
 *   GTID_LIST (MariaDB) count 4 (low 28 bits), then domain 4, server 4,
 *                       seq 8 each
 *   QUERY               thread 4, exec time 4, db length 1, error 2,
 *                       status length 2; status variables, db, NUL, the
 *                       statement (in character_set_client, which the
 *                       Q_CHARSET status variable gives)
 *   XID                 xid 8
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_int.h"

/* Status variable codes of QUERY events, with their sizes where fixed. */
enum
{
	Q_FLAGS2 = 0, Q_SQL_MODE = 1, Q_CATALOG = 2, Q_AUTO_INCREMENT = 3,
	Q_CHARSET = 4, Q_TIME_ZONE = 5, Q_CATALOG_NZ = 6, Q_LC_TIME_NAMES = 7,
	Q_CHARSET_DATABASE = 8, Q_TABLE_MAP_FOR_UPDATE = 9,
	Q_MASTER_DATA_WRITTEN = 10, Q_INVOKER = 11, Q_UPDATED_DB_NAMES = 12,
	Q_MICROSECONDS = 13, Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP = 16,
	Q_DDL_LOGGED_WITH_XID = 17, Q_DEFAULT_COLLATION_FOR_UTF8MB4 = 18,
	Q_SQL_REQUIRE_PRIMARY_KEY = 19, Q_DEFAULT_TABLE_ENCRYPTION = 20,
	Q_HRNOW = 128, Q_XID = 129
};

/* MariaDB GTID flags. */
#define FL_STANDALONE 0x01

trib_my_decoder *
trib_my_decoder_new(const trib_my_decoder_conf *conf)
{
	trib_my_decoder *d = trib_xcalloc(1, sizeof(*d));

	d->schema = conf->schema;
	d->zero_date = conf->zero_date ? trib_xstrdup(conf->zero_date) : NULL;
	d->checksums = conf->checksums;
	d->post_header[TRIB_MY_ROTATE_EVENT] = 8;
	d->charsets = trib_my_charsets_new();
	d->gen = yajl_gen_alloc(NULL);
	if (d->gen == NULL)
	{
		fputs("tributary: out of memory (yajl_gen_alloc)\n", stderr);
		abort();
	}
	return d;
}

void
trib_my_decoder_free(trib_my_decoder *d)
{
	if (d == NULL)
		return;
	trib_my_shapes_free(d);
	trib_my_charsets_free(d->charsets);
	yajl_gen_free(d->gen);
	trib_strbuf_free(&d->text);
	trib_strbuf_free(&d->text2);
	free(d->gtid_list);
	free(d->zero_date);
	free(d);
}

const char *
trib_my_decoder_file(const trib_my_decoder *d)
{
	return d->file;
}

trib_my_flavor
trib_my_decoder_flavor(const trib_my_decoder *d)
{
	return d->flavor;
}

void
trib_my_decoder_set_file(trib_my_decoder *d, const char *file)
{
	snprintf(d->file, sizeof(d->file), "%s", file);
}

bool
trib_my_decoder_add_collation(trib_my_decoder *d, uint32_t id, const char *charset)
{
	return trib_my_charsets_add(d->charsets, id, charset);
}

void
trib_my_decoder_reset_tables(trib_my_decoder *d)
{
	d->nactive = 0;
}

void
trib_my_event_clear(trib_my_event *ev)
{
	for (int i = 0; i < ev->nrows; i++)
	{
		free(ev->rows[i].before);
		free(ev->rows[i].after);
		free(ev->rows[i].key);
		free(ev->rows[i].unchanged);
	}
	free(ev->rows);
	free(ev->db);
	free(ev->statement);
	memset(ev, 0, sizeof(*ev));
}

/* Does this server version write the checksum algorithm into its FDE
 * (MySQL 5.6.1 and later, every MariaDB from 5.3)? */
static bool
fde_has_checksum_alg(const char *version)
{
	int			major = 0,
				minor = 0,
				patch = 0;

	if (strstr(version, "MariaDB"))
		return true;
	sscanf(version, "%d.%d.%d", &major, &minor, &patch);
	return major > 5 || (major == 5 && (minor > 6 || (minor == 6 && patch >= 1)));
}

/* FORMAT_DESCRIPTION: flavour, checksums, post-header lengths. */
static bool
format_description(trib_my_decoder *d, const uint8_t *body, size_t len,
				   char *errbuf, size_t errlen)
{
	trib_my_cur c = trib_my_cur_make(body, len);
	char		version[51];
	const uint8_t *v;
	size_t		nlens;
	bool		alg;

	trib_my_cur_le(&c, 2);		/* binlog version */
	v = trib_my_cur_take(&c, 50);
	trib_my_cur_le(&c, 4);
	if (c.bad || trib_my_cur_u8(&c) != TRIB_MY_HEADER_LEN)
		return trib_my_fail(errbuf, errlen,
							"FORMAT_DESCRIPTION: not a v4 binlog with 19-byte headers");
	memcpy(version, v, 50);
	version[50] = '\0';
	d->flavor = strstr(version, "MariaDB") ? TRIB_MY_MARIADB : TRIB_MY_MYSQL;
	alg = fde_has_checksum_alg(version);
	nlens = trib_my_cur_left(&c) - (alg ? 5 : 0);
	if (alg && trib_my_cur_left(&c) < 5)
		return trib_my_fail(errbuf, errlen, "FORMAT_DESCRIPTION: truncated");
	memset(d->post_header, 0, sizeof(d->post_header));
	for (size_t i = 0; i < nlens && i < 255; i++)
		d->post_header[i + 1] = c.p[i];
	d->checksums = alg && c.p[nlens] != 0;
	d->have_format = true;
	return true;
}

/* ROTATE: the next file (and where in it the stream goes on). */
static void
rotate(trib_my_decoder *d, trib_my_cur *c, trib_my_event *ev)
{
	size_t		n;

	ev->rotate_pos = trib_my_cur_le(c, 8);
	n = trib_my_cur_left(c);
	if (n >= sizeof(d->file))
		n = sizeof(d->file) - 1;
	memcpy(d->file, c->p, n);
	d->file[n] = '\0';
	d->nactive = 0;
}

/* MariaDB GTID event. */
static void
gtid_mariadb(trib_my_cur *c, trib_my_event *ev)
{
	ev->gtid.kind = TRIB_MY_GTID_MARIADB;
	ev->gtid.seq = trib_my_cur_le(c, 8);
	ev->gtid.domain = (uint32_t) trib_my_cur_le(c, 4);
	ev->gtid.server = ev->server_id;
	ev->standalone = trib_my_cur_u8(c) & FL_STANDALONE;
}

/* MySQL GTID_LOG / ANONYMOUS_GTID_LOG event. */
static void
gtid_mysql(trib_my_cur *c, trib_my_event *ev)
{
	const uint8_t *sid;

	trib_my_cur_u8(c);			/* commit flag */
	sid = trib_my_cur_take(c, 16);
	ev->gtid.seq = trib_my_cur_le(c, 8);
	if (sid && ev->type == TRIB_MY_GTID_LOG_EVENT)
	{
		ev->gtid.kind = TRIB_MY_GTID_MYSQL;
		memcpy(ev->gtid.uuid, sid, 16);
	}
	else
		memset(&ev->gtid, 0, sizeof(ev->gtid));
}

/* MariaDB GTID_LIST: the state at the start of a file. */
static bool
gtid_list(trib_my_decoder *d, trib_my_cur *c, trib_my_event *ev,
		  char *errbuf, size_t errlen)
{
	uint32_t	n = (uint32_t) trib_my_cur_le(c, 4) & 0x0FFFFFFF;

	if (c->bad || (uint64_t) n * 16 > trib_my_cur_left(c))
		return trib_my_fail(errbuf, errlen, "GTID_LIST: truncated");
	free(d->gtid_list);
	d->gtid_list = trib_xcalloc(n ? n : 1, sizeof(trib_my_gtid));
	d->ngtid_list = (int) n;
	for (uint32_t i = 0; i < n; i++)
	{
		d->gtid_list[i].kind = TRIB_MY_GTID_MARIADB;
		d->gtid_list[i].domain = (uint32_t) trib_my_cur_le(c, 4);
		d->gtid_list[i].server = (uint32_t) trib_my_cur_le(c, 4);
		d->gtid_list[i].seq = trib_my_cur_le(c, 8);
	}
	ev->ngtids = d->ngtid_list;
	ev->gtids = d->gtid_list;
	return true;
}

/* Walk the status variables for the client charset; stop at a code whose
 * size is unknown (the statement is found by lengths, not by this walk). */
static uint32_t
query_charset(trib_my_cur c)
{
	while (trib_my_cur_left(&c) > 0 && !c.bad)
	{
		uint8_t		code = trib_my_cur_u8(&c);
		static const int8_t fixed[] = {
			[Q_FLAGS2] = 4, [Q_SQL_MODE] = 8, [Q_AUTO_INCREMENT] = 4,
			[Q_LC_TIME_NAMES] = 2, [Q_CHARSET_DATABASE] = 2,
			[Q_TABLE_MAP_FOR_UPDATE] = 8, [Q_MASTER_DATA_WRITTEN] = 4,
			[Q_MICROSECONDS] = 3, [Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP] = 1,
			[Q_DDL_LOGGED_WITH_XID] = 8, [Q_DEFAULT_COLLATION_FOR_UTF8MB4] = 2,
			[Q_SQL_REQUIRE_PRIMARY_KEY] = 1, [Q_DEFAULT_TABLE_ENCRYPTION] = 1
		};

		if (code == Q_CHARSET)
			return (uint32_t) trib_my_cur_le(&c, 2);
		if (code < sizeof(fixed) && fixed[code] > 0)
			trib_my_cur_take(&c, (size_t) fixed[code]);
		else if (code == Q_TIME_ZONE || code == Q_CATALOG_NZ)
			trib_my_cur_take(&c, trib_my_cur_u8(&c));
		else if (code == Q_CATALOG)
			trib_my_cur_take(&c, (size_t) trib_my_cur_u8(&c) + 1);
		else if (code == Q_INVOKER)
		{
			trib_my_cur_take(&c, trib_my_cur_u8(&c));
			trib_my_cur_take(&c, trib_my_cur_u8(&c));
		}
		else if (code == Q_HRNOW)
			trib_my_cur_take(&c, 3);
		else if (code == Q_XID)
			trib_my_cur_take(&c, 8);
		else
			break;
	}
	return 0;
}

/* Does s start with word (case-insensitive) followed by a non-word
 * character?  *rest gets what follows, spaces skipped. */
static bool
word(const char *s, const char *w, const char **rest)
{
	size_t		n = strlen(w);

	if (strncasecmp(s, w, n) != 0 || isalnum((unsigned char) s[n]) || s[n] == '_')
		return false;
	for (s += n; isspace((unsigned char) *s);)
		s++;
	*rest = s;
	return true;
}

/* Account management: statements that may carry a password. */
static bool
is_account_statement(const char *s)
{
	const char *r;

	if (word(s, "GRANT", &r) || word(s, "REVOKE", &r))
		return true;
	if (word(s, "SET", &r) && word(r, "PASSWORD", &r))
		return true;
	if (word(s, "CREATE", &r) || word(s, "ALTER", &r) || word(s, "DROP", &r) ||
		word(s, "RENAME", &r))
	{
		if (word(r, "OR", &r) && !word(r, "REPLACE", &r))
			return false;
		return word(r, "USER", &r) || word(r, "ROLE", &r);
	}
	return false;
}

/* Classify a statement by its first word(s). */
static trib_my_qkind
query_kind(const char *s)
{
	const char *r;

	while (isspace((unsigned char) *s))
		s++;
	if (*s == '\0')
		return TRIB_MY_Q_OTHER;
	if (strncasecmp(s, "BEGIN", 5) == 0 && !isalnum((unsigned char) s[5]))
		return TRIB_MY_Q_BEGIN;
	if (strncasecmp(s, "COMMIT", 6) == 0 && !isalnum((unsigned char) s[6]))
		return TRIB_MY_Q_COMMIT;
	if (word(s, "ROLLBACK", &r))
		return word(r, "TO", &r) ? TRIB_MY_Q_ROLLBACK_TO : TRIB_MY_Q_ROLLBACK;
	if (word(s, "SAVEPOINT", &r) || (word(s, "RELEASE", &r) && word(r, "SAVEPOINT", &r)))
		return TRIB_MY_Q_SAVEPOINT;
	if (strncasecmp(s, "XA", 2) == 0 && isspace((unsigned char) s[2]))
		return TRIB_MY_Q_XA;
	if (is_account_statement(s))
		return TRIB_MY_Q_ACCOUNT;
	return TRIB_MY_Q_DDL;
}

/* QUERY: db, statement (as UTF-8) and its kind. */
static bool
query(trib_my_decoder *d, trib_my_cur *c, size_t post_len, trib_my_event *ev,
	  char *errbuf, size_t errlen)
{
	size_t		dblen,
				stlen,
				n;
	const uint8_t *status,
			   *db,
			   *st;
	uint32_t	charset;
	trib_strbuf out = {0};

	ev->thread_id = (uint32_t) trib_my_cur_le(c, 4);
	trib_my_cur_le(c, 4);		/* execution time */
	dblen = trib_my_cur_u8(c);
	trib_my_cur_le(c, 2);		/* error code */
	stlen = post_len >= 13 ? (size_t) trib_my_cur_le(c, 2) : 0;
	trib_my_cur_take(c, post_len > 13 ? post_len - 13 : 0);
	status = trib_my_cur_take(c, stlen);
	db = trib_my_cur_take(c, dblen);
	trib_my_cur_take(c, 1);
	n = trib_my_cur_left(c);
	st = trib_my_cur_take(c, n);
	if (c->bad)
		return trib_my_fail(errbuf, errlen, "QUERY: truncated");
	charset = query_charset(trib_my_cur_make(status, stlen));
	ev->db = trib_xstrndup((const char *) db, dblen);
	if (!trib_my_to_utf8(d->charsets, charset ? charset : 33, (const char *) st, n,
						 &out, errbuf, errlen))
		trib_my_to_utf8(d->charsets, 33, (const char *) st, n, &out, errbuf, errlen);
	ev->statement = trib_strbuf_finish(&out);
	ev->query = query_kind(ev->statement);
	if (ev->query == TRIB_MY_Q_ACCOUNT)
	{
		/* may hold a password: keep none of it */
		memset(ev->statement, 0, strlen(ev->statement));
	}
	return true;
}

/* ANNOTATE_ROWS (MariaDB: the statement is the body) and ROWS_QUERY
 * (MySQL: a length byte, ignored, then the statement): the SQL of the
 * rows events that follow, as UTF-8 (the client's charset is not
 * logged: utf8 is assumed, and what is not valid UTF-8 is replaced). */
static bool
rows_query(trib_my_decoder *d, trib_my_cur *c, bool length_byte, trib_my_event *ev,
		   char *errbuf, size_t errlen)
{
	size_t		n;
	const uint8_t *st;
	trib_strbuf out = {0};

	if (length_byte)
		trib_my_cur_u8(c);
	n = trib_my_cur_left(c);
	st = trib_my_cur_take(c, n);
	if (c->bad)
		return trib_my_fail(errbuf, errlen, "ROWS_QUERY: truncated");
	if (!trib_my_to_utf8(d->charsets, 33, (const char *) st, n, &out, errbuf, errlen))
		return false;
	ev->statement = trib_strbuf_finish(&out);
	return true;
}

/* Decode the 19-byte header into ev; false when it cannot be one. */
static bool
header(const uint8_t *buf, size_t len, trib_my_event *ev, char *errbuf,
	   size_t errlen)
{
	trib_my_cur c = trib_my_cur_make(buf, len);

	ev->timestamp = (uint32_t) trib_my_cur_le(&c, 4);
	ev->type = trib_my_cur_u8(&c);
	ev->server_id = (uint32_t) trib_my_cur_le(&c, 4);
	ev->length = (uint32_t) trib_my_cur_le(&c, 4);
	ev->next_pos = (uint32_t) trib_my_cur_le(&c, 4);
	ev->flags = (uint16_t) trib_my_cur_le(&c, 2);
	if (c.bad)
		return trib_my_fail(errbuf, errlen, "binlog event of %zu bytes: shorter than its header",
							len);
	if (ev->length < TRIB_MY_HEADER_LEN || ev->length > len)
		return trib_my_fail(errbuf, errlen,
							"binlog event type %u: length %u does not match the %zu bytes received",
							(unsigned) ev->type, (unsigned) ev->length, len);
	if (ev->next_pos >= ev->length)
		ev->pos = ev->next_pos - ev->length;
	return true;
}

/* See binlog_int.h. */
bool
trib_my_refuse_event(uint8_t type, char *errbuf, size_t errlen)
{
	if (type == TRIB_MY_TRANSACTION_PAYLOAD_EVENT)
		return trib_my_fail(errbuf, errlen,
							"compressed transactions are not supported: set "
							"binlog_transaction_compression=OFF on the server");
	if (type == TRIB_MY_PARTIAL_UPDATE_ROWS_EVENT)
		return trib_my_fail(errbuf, errlen,
							"PARTIAL_UPDATE_ROWS events are not supported: set binlog_row_value_options='' "
							"(not PARTIAL_JSON) on the server");
	return trib_my_fail(errbuf, errlen,
						"compressed events (type %u) are not supported: set log_bin_compress=OFF "
						"on the server", (unsigned) type);
}

/* Dispatch on the event type; body is the event without header and CRC.
 * *errnum: a schema lookup's error number (trib_my_decode()). */
static bool
dispatch(trib_my_decoder *d, trib_my_cur *c, const trib_my_pos *at,
		 trib_my_event *ev, unsigned *errnum, char *errbuf, size_t errlen)
{
	size_t		post = d->post_header[ev->type];

	switch (ev->type)
	{
		case TRIB_MY_ROTATE_EVENT:
			ev->kind = TRIB_MY_EV_ROTATE;
			rotate(d, c, ev);
			break;
		case TRIB_MY_GTID_EVENT:
			ev->kind = TRIB_MY_EV_GTID;
			gtid_mariadb(c, ev);
			break;
		case TRIB_MY_GTID_LOG_EVENT:
		case TRIB_MY_ANONYMOUS_GTID_LOG_EVENT:
			ev->kind = TRIB_MY_EV_GTID;
			gtid_mysql(c, ev);
			break;
		case TRIB_MY_GTID_LIST_EVENT:
			ev->kind = TRIB_MY_EV_GTID_LIST;
			return gtid_list(d, c, ev, errbuf, errlen);
		case TRIB_MY_QUERY_EVENT:
			ev->kind = TRIB_MY_EV_QUERY;
			return query(d, c, post ? post : 13, ev, errbuf, errlen);
		case TRIB_MY_XID_EVENT:
			ev->kind = TRIB_MY_EV_XID;
			ev->xid = trib_my_cur_le(c, 8);
			break;
		case TRIB_MY_TABLE_MAP_EVENT:
			ev->kind = TRIB_MY_EV_TABLE_MAP;
			return trib_my_tablemap(d, c, post == 6, at, ev, errnum, errbuf, errlen);
		case TRIB_MY_WRITE_ROWS_EVENT_V1:
		case TRIB_MY_UPDATE_ROWS_EVENT_V1:
		case TRIB_MY_DELETE_ROWS_EVENT_V1:
		case TRIB_MY_WRITE_ROWS_EVENT:
		case TRIB_MY_UPDATE_ROWS_EVENT:
		case TRIB_MY_DELETE_ROWS_EVENT:
		case TRIB_MY_PARTIAL_UPDATE_ROWS_EVENT:
			ev->kind = TRIB_MY_EV_ROWS;
			if (!trib_my_rows(d, c, ev->type, post ? post : 8, ev, errbuf, errlen))
				return false;
			if (ev->stmt_end)
				d->nactive = 0;
			return true;
		case TRIB_MY_HEARTBEAT_EVENT:
		case TRIB_MY_HEARTBEAT_LOG_EVENT_V2:
			ev->kind = TRIB_MY_EV_HEARTBEAT;
			break;
		case TRIB_MY_STOP_EVENT:
			ev->kind = TRIB_MY_EV_STOP;
			break;
		case TRIB_MY_ANNOTATE_ROWS_EVENT:
		case TRIB_MY_ROWS_QUERY_LOG_EVENT:
			ev->kind = TRIB_MY_EV_ROWS_QUERY;
			return rows_query(d, c, ev->type == TRIB_MY_ROWS_QUERY_LOG_EVENT, ev,
							  errbuf, errlen);
		case TRIB_MY_TRANSACTION_PAYLOAD_EVENT:
			return trib_my_refuse_event(ev->type, errbuf, errlen);
		default:
			if (ev->type >= TRIB_MY_QUERY_COMPRESSED_EVENT &&
				ev->type <= TRIB_MY_DELETE_ROWS_COMPRESSED_EVENT)
				return trib_my_refuse_event(ev->type, errbuf, errlen);
			ev->kind = TRIB_MY_EV_OTHER;
			break;
	}
	if (c->bad)
		return trib_my_fail(errbuf, errlen, "binlog event type %u: truncated",
							(unsigned) ev->type);
	return true;
}

bool
trib_my_decode(trib_my_decoder *d, const uint8_t *buf, size_t len,
			   const trib_my_pos *at, trib_my_event *ev, unsigned *errnum,
			   char *errbuf, size_t errlen)
{
	size_t		body;
	trib_my_cur c;
	bool		ok;
	unsigned	num = 0;

	if (errnum)
		*errnum = 0;
	trib_my_event_clear(ev);
	if (!header(buf, len, ev, errbuf, errlen))
		return false;
	len = ev->length;
	if (ev->type == TRIB_MY_FORMAT_DESCRIPTION_EVENT)
	{
		ev->kind = TRIB_MY_EV_FORMAT;
		ev->file = d->file;
		return format_description(d, buf + TRIB_MY_HEADER_LEN,
								  len - TRIB_MY_HEADER_LEN, errbuf, errlen);
	}
	body = len - TRIB_MY_HEADER_LEN;
	if (d->checksums)
	{
		if (body < 4)
			return trib_my_fail(errbuf, errlen,
								"binlog event type %u: too short for its checksum",
								(unsigned) ev->type);
		body -= 4;
	}
	c = trib_my_cur_make(buf + TRIB_MY_HEADER_LEN, body);
	ok = dispatch(d, &c, at, ev, &num, errbuf, errlen);
	ev->file = d->file;
	if (!ok)
	{
		if (errnum)
			*errnum = num;
		char		where[TRIB_MY_FILE_MAX + 32];

		snprintf(where, sizeof(where), "%s:%llu", d->file[0] ? d->file : "?",
				 (unsigned long long) ev->pos);
		trib_my_fail_prefix(errbuf, errlen, "binlog event at %s", where);
	}
	return ok;
}
