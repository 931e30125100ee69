/*
 * fuzz_envelope.c: libFuzzer target for the Debezium envelope (envelope.c).
 *
 * The input is split at '\n' into the fields of an event: op, before,
 * after, key, unchanged, extra, schema, table, topic (an empty field is
 * NULL).  Whatever the bytes, encoding must not crash or touch memory it
 * does not own (run with ASan/UBSan).  When every JSON field of the event
 * is valid JSON, as the source guarantees, every value produced must parse
 * as JSON too, and every topic must be a legal Kafka topic name.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined $(find consumer/src -type d -printf "-I%p ") \
 *     consumer/fuzz/fuzz_envelope.c consumer/src/format/envelope.c \
 *     consumer/src/core/event.c $(pkg-config --cflags --libs yajl) -o fuzz_envelope
 *   ./fuzz_envelope -max_total_time=60
 *
 * Without libFuzzer, -DTRIB_FUZZ_MAIN builds a main() that runs the files
 * named on the command line (a corpus replay under gcc).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "envelope.h"
#include "event.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of [s, s+n), or NULL when n is 0. */
static char *
field(const uint8_t *s, size_t n)
{
	char	   *d;

	if (n == 0)
		return NULL;
	d = malloc(n + 1);
	if (d == NULL)
		abort();
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Where the top-level container of a document ends. */
typedef struct strict_ctx
{
	yajl_handle h;
	int			depth;
	size_t		end;			/* bytes consumed when depth went back to 0 */
} strict_ctx;

static int
cb_open(void *arg)
{
	((strict_ctx *) arg)->depth++;
	return 1;
}

static int
cb_open_key(void *arg, const unsigned char *k, size_t n)
{
	(void) k;
	(void) n;
	(void) arg;
	return 1;
}

static int
cb_close(void *arg)
{
	strict_ctx *c = arg;

	if (--c->depth == 0)
		c->end = yajl_get_bytes_consumed(c->h);
	return 1;
}

/*
 * True when s is NULL or one strict JSON object or array.  yajl's parser
 * forbids comments and trailing garbage by default, but yajl 2.1 accepts
 * an unterminated string after a complete value ("{}\""), and
 * yajl_tree_parse allows comments; so record where the top-level
 * container closed and demand only whitespace after it.
 */
static bool
json_ok(const char *s)
{
	static const yajl_callbacks cbs = {
		.yajl_start_map = cb_open, .yajl_map_key = cb_open_key,
		.yajl_end_map = cb_close, .yajl_start_array = cb_open,
		.yajl_end_array = cb_close,
	};
	strict_ctx	c = {0};
	size_t		n;
	bool		ok;

	if (s == NULL)
		return true;
	n = strlen(s);
	c.h = yajl_alloc(&cbs, NULL, &c);
	ok = yajl_parse(c.h, (const unsigned char *) s, n) == yajl_status_ok &&
		yajl_complete_parse(c.h) == yajl_status_ok;
	yajl_free(c.h);
	if (!ok || c.end == 0)
		return false;
	for (size_t i = c.end; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

/* True when s (len bytes, NUL after) is strict JSON. */
static bool
json_ok_len(const char *s, size_t len)
{
	return strlen(s) == len && json_ok(s);
}

/* Row images and keys must be objects for the splice to stay JSON. */
static bool
object_or_null(const char *s)
{
	const char *p = s;

	if (s == NULL)
		return true;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return *p == '{' && json_ok(s);
}

/* The fixed clock keeps runs reproducible. */
static int64_t
clock0(void)
{
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static trib_envelope *env;
	char	   *f[9] = {0};
	size_t		nf = 0;
	size_t		start = 0;
	trib_event *ev;
	const trib_record *r;
	size_t		n;
	char		err[256];
	bool		valid;

	if (env == NULL)
	{
		trib_envelope_opts o;

		trib_envelope_opts_init(&o);
		o.clock_ms = clock0;
		o.transaction_metadata = true;
		env = trib_envelope_new(&o, err, sizeof(err));
		if (env == NULL)
			abort();
	}
	for (size_t i = 0; i <= size && nf < 9; i++)
		if (i == size || data[i] == '\n')
		{
			f[nf++] = field(data + start, i - start);
			start = i + 1;
		}

	ev = trib_event_new();
	ev->op = f[0] ? (trib_op) f[0][0] : TRIB_OP_CREATE;
	ev->before = f[1];
	ev->after = f[2];
	ev->key = f[3];
	ev->unchanged = f[4];
	ev->extra = f[5];
	/* naming strings are borrowed (event.h): f[6], f[7] are freed below */
	ev->schema = f[6];
	ev->table = f[7];
	ev->topic = f[8];
	free(f[0]);
	ev->connector = "postgresql";
	ev->db = "db";
	ev->txid = size;
	ev->pos.commit_lsn = size * 7;
	ev->pos.seq = size % 5;

	valid = object_or_null(ev->before) && object_or_null(ev->after) &&
		object_or_null(ev->key) && object_or_null(ev->extra) &&
		json_ok(ev->unchanged);
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	for (size_t i = 0; r != NULL && i < n; i++)
	{
		size_t		tl = strlen(r[i].topic);

		if (tl == 0 || tl > TRIB_TOPIC_MAX)
			abort();
		for (size_t j = 0; j < tl; j++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						"0123456789._-", r[i].topic[j]))
				abort();
		if (valid && r[i].value && !json_ok_len(r[i].value, r[i].value_len))
		{
			fprintf(stderr, "not JSON: %.*s\n", (int) r[i].value_len, r[i].value);
			abort();
		}
		if (valid && r[i].key && !json_ok_len(r[i].key, r[i].key_len))
			abort();
	}
	trib_event_free(ev);
	free(f[6]);
	free(f[7]);
	return 0;
}

#ifdef TRIB_FUZZ_MAIN
/* Replay the files named on the command line. */
int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		FILE	   *fp = fopen(argv[i], "rb");
		uint8_t    *buf;
		long		len;

		if (fp == NULL)
		{
			perror(argv[i]);
			return 1;
		}
		fseek(fp, 0, SEEK_END);
		len = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		buf = malloc((size_t) len + 1);
		if (buf == NULL || fread(buf, 1, (size_t) len, fp) != (size_t) len)
			return 1;
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, (size_t) len);
		free(buf);
	}
	return 0;
}
#endif
