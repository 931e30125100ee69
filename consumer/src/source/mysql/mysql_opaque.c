/*
 * mysql_opaque.c: the opaque position text of MySQL events, constant
 * parts rendered once per transaction (mysql_opaque.h).
 *
 * Strings are escaped by yajl's generator (trib_jdoc_quote: the same
 * bytes as a yajl_gen of the whole object would write); numbers are
 * written by add_u64, the only work done per row besides one allocation
 * and a few copies.  Since every byte of the "source" object is then what
 * yajl's generator writes, its length goes with the text as the
 * position's source hint (core/position.h), so that the envelope
 * copies the members instead of parsing them again; not when a string in
 * it is not valid UTF-8 (the parse refuses those: no hint, same output).
 */
#include "mysql_opaque.h"

#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "utf8.h"
#include "xalloc.h"

/* Append s as a JSON string (quoted and escaped by yajl, jsondoc.h); with
 * `open`, the closing quote is left off so that more characters may
 * follow. */
static void
add_jstr(trib_strbuf *b, const char *s, bool open)
{
	trib_jdoc_quote(b, s);
	if (open)
		b->data[--b->len] = '\0';
}

/* Append v in decimal. */
static void
add_u64(trib_strbuf *b, uint64_t v)
{
	char		d[20];
	size_t		n = 0;

	do
		d[sizeof(d) - ++n] = (char) ('0' + v % 10);
	while ((v /= 10) != 0);
	trib_strbuf_add(b, d + sizeof(d) - n, n);
}

/* Append the GTID as a JSON string, or null without one. */
static void
add_gtid(trib_strbuf *b, const trib_my_gtid *g, bool null_if_none)
{
	char		text[TRIB_MY_GTID_BUFLEN];

	if (trib_my_gtid_format(g, text, sizeof(text)) == 0 && null_if_none)
		trib_strbuf_adds(b, "null");
	else
		add_jstr(b, text, false);
}

/* Render the four constant parts of transaction t. */
static void
render(trib_my_opaque *o, const trib_my_opaque_tx *t)
{
	char		prefix[TRIB_MY_POS_BUFLEN];
	trib_my_pos p = *t->tx;
	size_t		n;

	o->head.len = o->mid.len = o->tail.len = o->tail2.len = 0;
	trib_strbuf_adds(&o->head, "{\"source\":{\"server_id\":");
	add_u64(&o->head, t->server_id);
	trib_strbuf_adds(&o->head, ",\"gtid\":");
	add_gtid(&o->head, &p.gtid, true);
	trib_strbuf_adds(&o->head, ",\"file\":");
	add_jstr(&o->head, p.file, false);
	trib_strbuf_adds(&o->head, ",\"pos\":");

	trib_strbuf_adds(&o->mid, ",\"thread\":");
	if (t->thread)
		add_u64(&o->mid, t->thread);
	else
		trib_strbuf_adds(&o->mid, "null");
	if (t->include_query)
	{
		trib_strbuf_adds(&o->mid, ",\"query\":");
		if (t->query)
			add_jstr(&o->mid, t->query, false);
		else
			trib_strbuf_adds(&o->mid, "null");
	}
	/* the id of row 0, less the row: "G/F:TXPOS/" */
	p.row = 0;
	n = trib_my_pos_format(&p, prefix, sizeof(prefix));
	prefix[n > 0 ? n - 1 : 0] = '\0';
	trib_strbuf_addc(&o->mid, '}');
	o->mid_source = o->mid.len;
	trib_strbuf_adds(&o->mid, ",\"id\":");
	add_jstr(&o->mid, prefix, true);

	trib_strbuf_adds(&o->tail, "\",\"file\":");
	add_jstr(&o->tail, p.file, false);
	trib_strbuf_adds(&o->tail, ",\"pos\":");
	add_u64(&o->tail, p.tx_pos);
	trib_strbuf_adds(&o->tail, ",\"row\":");

	trib_strbuf_adds(&o->tail2, ",\"gtid\":");
	add_gtid(&o->tail2, &p.gtid, false);
	trib_strbuf_adds(&o->tail2, ",\"server_id\":");
	add_u64(&o->tail2, t->server_id);
	trib_strbuf_adds(&o->tail2, ",\"event_pos\":");
	/* what the envelope's parse would refuse is left to it (no hint) */
	o->source_utf8 = trib_utf8_valid(o->head.data, o->head.len) &&
		trib_utf8_valid(o->mid.data, o->mid_source);
	o->valid = true;
}

void
trib_my_opaque_invalidate(trib_my_opaque *o)
{
	o->valid = false;
}

char *
trib_my_opaque_row(trib_my_opaque *o, const trib_my_opaque_tx *t,
				   uint64_t row, uint64_t event_pos, bool last,
				   uint64_t end_pos, const char *gtid_state, size_t *source_len)
{
	trib_strbuf b = {0};

	if (!o->valid)
		render(o, t);
	/* one allocation: the parts, five numbers of at most 20 digits, '}' */
	b.cap = o->head.len + o->mid.len + o->tail.len + o->tail2.len + 5 * 20 + 2;
	b.data = trib_xmalloc(b.cap);
	trib_strbuf_add(&b, o->head.data, o->head.len);
	add_u64(&b, event_pos);
	trib_strbuf_adds(&b, ",\"row\":");
	add_u64(&b, row);
	trib_strbuf_add(&b, o->mid.data, o->mid.len);
	*source_len = o->source_utf8 ? b.len - o->mid.len + o->mid_source : 0;
	add_u64(&b, row);
	trib_strbuf_add(&b, o->tail.data, o->tail.len);
	add_u64(&b, row);
	trib_strbuf_add(&b, o->tail2.data, o->tail2.len);
	add_u64(&b, event_pos);
	if (last)
	{
		trib_strbuf_adds(&b, ",\"end_pos\":");
		add_u64(&b, end_pos);
		trib_strbuf_adds(&b, ",\"gtid_state\":");
		add_jstr(&b, gtid_state ? gtid_state : "", false);
	}
	trib_strbuf_addc(&b, '}');
	return trib_strbuf_finish(&b);
}

void
trib_my_opaque_free(trib_my_opaque *o)
{
	trib_strbuf_free(&o->head);
	trib_strbuf_free(&o->mid);
	trib_strbuf_free(&o->tail);
	trib_strbuf_free(&o->tail2);
	o->valid = false;
}
