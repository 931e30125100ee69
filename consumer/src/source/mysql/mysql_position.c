/*
 * mysql_position.c: GTID and binlog position text forms and order
 * (mysql_position.h).
 *
 * Parsing is strict and allocation-free: numbers are decimal without sign
 * or spaces and must fit their fields; a MySQL UUID is the 8-4-4-4-12 hex
 * form; a file name is 1 to TRIB_MY_FILE_MAX-1 bytes without '/' or NUL.
 */
#include "mysql_position.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "mysql_int.h"

/* Parse decimal s[0..len) into *out, at most max; false on anything else. */
static bool
parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;

	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		unsigned	d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned) (s[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* "3e11fa47-71ca-11e1-9e33-c80aa9429562" (36 characters) into 16 bytes. */
static bool
parse_uuid(const char *s, size_t len, uint8_t *uuid)
{
	size_t		n = 0;

	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		int			hi,
					lo;

		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
			continue;
		}
		hi = trib_hex_digit((unsigned char) s[i]);
		lo = i + 1 < len ? trib_hex_digit((unsigned char) s[i + 1]) : -1;
		if (hi < 0 || lo < 0)
			return false;
		uuid[n++] = (uint8_t) (hi << 4 | lo);
		i++;
	}
	return n == 16;
}

bool
trib_my_gtid_parse(const char *s, size_t len, trib_my_gtid *out)
{
	const char *colon = memchr(s, ':', len);
	const char *d1,
			   *d2;
	uint64_t	domain,
				server;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return true;
	if (colon)
	{
		out->kind = TRIB_MY_GTID_MYSQL;
		return parse_uuid(s, (size_t) (colon - s), out->uuid) &&
			parse_u64(colon + 1, len - (size_t) (colon - s) - 1, INT64_MAX,
					  &out->seq);
	}
	d1 = memchr(s, '-', len);
	d2 = d1 ? memchr(d1 + 1, '-', len - (size_t) (d1 + 1 - s)) : NULL;
	if (d2 == NULL)
		return false;
	out->kind = TRIB_MY_GTID_MARIADB;
	if (!parse_u64(s, (size_t) (d1 - s), UINT32_MAX, &domain) ||
		!parse_u64(d1 + 1, (size_t) (d2 - d1 - 1), UINT32_MAX, &server) ||
		!parse_u64(d2 + 1, len - (size_t) (d2 + 1 - s), UINT64_MAX, &out->seq))
		return false;
	out->domain = (uint32_t) domain;
	out->server = (uint32_t) server;
	return true;
}

size_t
trib_my_gtid_format(const trib_my_gtid *g, char *buf, size_t len)
{
	int			n = 0;
	const uint8_t *u = g->uuid;

	switch (g->kind)
	{
		case TRIB_MY_GTID_NONE:
			n = snprintf(buf, len, "%s", "");
			break;
		case TRIB_MY_GTID_MARIADB:
			n = snprintf(buf, len, "%" PRIu32 "-%" PRIu32 "-%" PRIu64,
						 g->domain, g->server, g->seq);
			break;
		case TRIB_MY_GTID_MYSQL:
			n = snprintf(buf, len,
						 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
						 "%02x%02x%02x%02x%02x%02x:%" PRIu64,
						 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8],
						 u[9], u[10], u[11], u[12], u[13], u[14], u[15], g->seq);
			break;
	}
	return n < 0 ? 0 : (size_t) n;
}

bool
trib_my_gtid_equal(const trib_my_gtid *a, const trib_my_gtid *b)
{
	if (a->kind != b->kind || a->seq != b->seq)
		return false;
	if (a->kind == TRIB_MY_GTID_MARIADB)
		return a->domain == b->domain && a->server == b->server;
	if (a->kind == TRIB_MY_GTID_MYSQL)
		return memcmp(a->uuid, b->uuid, 16) == 0;
	return true;
}

bool
trib_my_file_number(const char *file, uint32_t *out)
{
	const char *dot = strrchr(file, '.');
	uint64_t	v;

	if (dot == NULL || !parse_u64(dot + 1, strlen(dot + 1), UINT32_MAX, &v))
		return false;
	*out = (uint32_t) v;
	return true;
}

/* Compare two unsigned numbers. */
static int
cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

int
trib_my_pos_cmp(const trib_my_pos *a, const trib_my_pos *b)
{
	uint32_t	fa,
				fb;
	int			c;

	if (strcmp(a->file, b->file) == 0)
		c = 0;					/* one name, one number: nothing to parse */
	else if (trib_my_file_number(a->file, &fa) && trib_my_file_number(b->file, &fb))
		c = cmp_u64(fa, fb);
	else
		c = strcmp(a->file, b->file);
	if (c == 0)
		c = cmp_u64(a->tx_pos, b->tx_pos);
	if (c == 0)
		c = cmp_u64(a->row, b->row);
	return c < 0 ? -1 : c > 0;
}

size_t
trib_my_pos_format(const trib_my_pos *p, char *buf, size_t len)
{
	char		gtid[TRIB_MY_GTID_BUFLEN];
	int			n;

	trib_my_gtid_format(&p->gtid, gtid, sizeof(gtid));
	if (p->row == TRIB_MY_ROW_ALL)
		n = snprintf(buf, len, "%s/%s:%" PRIu64, gtid, p->file, p->tx_pos);
	else
		n = snprintf(buf, len, "%s/%s:%" PRIu64 "/%" PRIu64, gtid, p->file,
					 p->tx_pos, p->row);
	return n < 0 ? 0 : (size_t) n;
}

bool
trib_my_pos_parse(const char *s, trib_my_pos *out, char *errbuf, size_t errlen)
{
	const char *slash = strchr(s, '/');
	const char *rest,
			   *slash2,
			   *colon,
			   *end;
	size_t		flen;

	memset(out, 0, sizeof(*out));
	if (slash == NULL)
		return trib_my_fail(errbuf, errlen,
							"position \"%s\": expected GTID/FILE:POS[/ROW]", s);
	if (!trib_my_gtid_parse(s, (size_t) (slash - s), &out->gtid))
		return trib_my_fail(errbuf, errlen,
							"position \"%s\": \"%.*s\" is not a GTID (domain-server-seq or uuid:n)",
							s, (int) (slash - s), s);
	rest = slash + 1;
	slash2 = strchr(rest, '/');
	end = slash2 ? slash2 : rest + strlen(rest);
	colon = NULL;
	for (const char *c = rest; c < end; c++)
		if (*c == ':')
			colon = c;
	flen = colon ? (size_t) (colon - rest) : 0;
	if (colon == NULL || flen == 0 || flen >= TRIB_MY_FILE_MAX)
		return trib_my_fail(errbuf, errlen,
							"position \"%s\": expected FILE:POS after the GTID", s);
	memcpy(out->file, rest, flen);
	out->file[flen] = '\0';
	if (!parse_u64(colon + 1, (size_t) (end - colon - 1), UINT64_MAX, &out->tx_pos))
		return trib_my_fail(errbuf, errlen,
							"position \"%s\": the offset is not a number", s);
	out->row = TRIB_MY_ROW_ALL;
	if (slash2 && !parse_u64(slash2 + 1, strlen(slash2 + 1), INT64_MAX - 1,
							 &out->row))
		return trib_my_fail(errbuf, errlen,
							"position \"%s\": the row is not a number", s);
	return true;
}

bool
trib_my_pos_major(const trib_my_pos *p, uint64_t *major)
{
	uint32_t	fnum;

	if (!trib_my_file_number(p->file, &fnum) || p->tx_pos > UINT32_MAX)
		return false;
	*major = (uint64_t) fnum << 32 | p->tx_pos;
	return true;
}
