/*
 * pgsource_cat.c: stream a PostgreSQL source to JSON lines; the driver of
 * the end-to-end tests of source_pg, checkpoint and leader.
 *
 *   pgsource_cat --dsn DSN --slot S [--create-slot] [--create-extension]
 *                [--pipeline P] [--output FILE] [--checkpoint FILE |
 *                --checkpoint-catalog] [--resume-after ID] [--exit-after N]
 *                [--heartbeat-ms N] [--status-ms N] [--include-tables T]
 *                [--exclude-tables T] [--skip-empty-xacts] [-o name[=value]]
 *                [--leader] [--fsync] [--verbose]
 *
 * One line per event:
 *   {"id":"0/16B3748:4","op":"c","schema":"public","table":"t",
 *    "key":{...},"before":null,"after":{...},"unchanged":null,"extra":null,
 *    "txid":741,"ts_ms":...,"last":true,"end_lsn":"0/16B3778"}
 * with "after_json_nulls" and "before_json_nulls" after "unchanged" when
 * the event has them.  Row images, key, unchanged, the JSON null lists
 * and extra are the event's raw JSON text.
 *
 * Exactly once into a file.  Output is written with write(2).  After each
 * transaction (and every 100 events inside a long one) the tool saves the
 * checkpoint, whose opaque part records the output file's size; only then
 * does it confirm the transaction's end_lsn to the slot.  On start it
 * truncates the output back to that size and resumes after the
 * checkpoint's id, so a kill -9 at any point loses and repeats nothing.
 *
 * Exit status: 0 done (signal or --exit-after), 1 error, 3 lost leadership.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl_gen.h>
#include <yajl_tree.h>

#include "checkpoint.h"
#include "leader_pg.h"
#include "pg_source_conf.h"
#include "pgrecord.h"
#include "source_pg.h"

#define BATCH 256
#define CKPT_EVERY 100

static volatile sig_atomic_t stop_flag;
static int	verbose;

static void
on_signal(int sig)
{
	(void) sig;
	stop_flag = 1;
}

/* Log callback for the source. */
static void
log_cb(int level, const char *msg, void *arg)
{
	(void) arg;
	if (level <= 1 || verbose)
		fprintf(stderr, "pgsource_cat: %s\n", msg);
}

static void
usage(void)
{
	fputs("usage: pgsource_cat --dsn DSN --slot SLOT [options]; see the source\n", stderr);
	exit(1);
}

typedef struct out_state
{
	int			fd;
	long long	bytes;			/* size of the output file */
	bool		fsync_out;
} out_state;

/* Append buf to the output. */
static bool
out_write(out_state *o, const unsigned char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(o->fd, buf, len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pgsource_cat: write: %s\n", strerror(errno));
			return false;
		}
		buf += n;
		len -= (size_t) n;
		o->bytes += n;
	}
	return true;
}

/* Raw JSON text or null. */
static void
gen_raw(yajl_gen g, const char *key, const char *raw)
{
	yajl_gen_string(g, (const unsigned char *) key, strlen(key));
	if (raw)
		yajl_gen_number(g, raw, strlen(raw));
	else
		yajl_gen_null(g);
}

/* A string or null. */
static void
gen_str(yajl_gen g, const char *key, const char *s)
{
	yajl_gen_string(g, (const unsigned char *) key, strlen(key));
	if (s)
		yajl_gen_string(g, (const unsigned char *) s, strlen(s));
	else
		yajl_gen_null(g);
}

/* Write one event line. */
static bool
write_event(out_state *o, const trib_event *ev)
{
	yajl_gen	g = yajl_gen_alloc(NULL);
	char		id[TRIB_EVENTID_LEN];
	char		end[TRIB_EVENTID_LEN];
	char		op[2] = {(char) ev->op, 0};
	const unsigned char *buf;
	size_t		len;
	bool		ok;

	trib_eventid_format(ev->pos.commit_lsn, ev->pos.seq, id, sizeof(id));
	trib_eventid_format(ev->pos.end_lsn, TRIB_SEQ_ALL, end, sizeof(end));
	yajl_gen_map_open(g);
	gen_str(g, "id", id);
	gen_str(g, "op", op);
	gen_str(g, "schema", ev->schema);
	gen_str(g, "table", ev->table);
	gen_raw(g, "key", ev->key);
	gen_raw(g, "before", ev->before);
	gen_raw(g, "after", ev->after);
	gen_raw(g, "unchanged", ev->unchanged);
	if (ev->after_json_nulls)
		gen_raw(g, "after_json_nulls", ev->after_json_nulls);
	if (ev->before_json_nulls)
		gen_raw(g, "before_json_nulls", ev->before_json_nulls);
	gen_raw(g, "extra", ev->extra);
	yajl_gen_string(g, (const unsigned char *) "txid", 4);
	yajl_gen_integer(g, (long long) ev->txid);
	yajl_gen_string(g, (const unsigned char *) "ts_ms", 5);
	yajl_gen_integer(g, (long long) ev->ts_ms);
	yajl_gen_string(g, (const unsigned char *) "last", 4);
	yajl_gen_bool(g, ev->last_in_tx);
	gen_str(g, "end_lsn", ev->last_in_tx ? end : NULL);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	ok = out_write(o, buf, len) && out_write(o, (const unsigned char *) "\n", 1);
	yajl_gen_free(g);
	return ok;
}

/* Save the checkpoint at (lsn, seq) with the output size. */
static bool
save_ckpt(trib_checkpoint *ck, out_state *o, uint64_t lsn, uint64_t seq)
{
	char		opaque[64];
	trib_position pos;
	char		err[512];

	if (!ck)
		return true;
	if (o->fsync_out && fsync(o->fd) != 0 && errno != EINVAL)
	{
		fprintf(stderr, "pgsource_cat: fsync output: %s\n", strerror(errno));
		return false;
	}
	memset(&pos, 0, sizeof(pos));
	pos.commit_lsn = lsn;
	pos.seq = seq;
	snprintf(opaque, sizeof(opaque), "{\"output_bytes\":%lld}", o->bytes);
	pos.opaque = opaque;
	if (!trib_checkpoint_save(ck, &pos, err, sizeof(err)))
	{
		fprintf(stderr, "pgsource_cat: %s\n", err);
		return false;
	}
	return true;
}

/* output_bytes from an opaque checkpoint position, or -1. */
static long long
opaque_bytes(const char *opaque)
{
	char		perr[64];
	yajl_val	v = opaque ? yajl_tree_parse(opaque, perr, sizeof(perr)) : NULL;
	const char *path[] = {"output_bytes", NULL};
	yajl_val	n = v ? yajl_tree_get(v, path, yajl_t_number) : NULL;
	long long	r = (n && YAJL_IS_INTEGER(n)) ? n->u.number.i : -1;

	yajl_tree_free(v);
	return r;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dsn", required_argument, NULL, 'd'},
		{"slot", required_argument, NULL, 's'},
		{"pipeline", required_argument, NULL, 'p'},
		{"create-slot", no_argument, NULL, 'C'},
		{"create-extension", no_argument, NULL, 'E'},
		{"output", required_argument, NULL, 'O'},
		{"checkpoint", required_argument, NULL, 'k'},
		{"checkpoint-catalog", no_argument, NULL, 'K'},
		{"resume-after", required_argument, NULL, 'r'},
		{"exit-after", required_argument, NULL, 'x'},
		{"heartbeat-ms", required_argument, NULL, 'H'},
		{"status-ms", required_argument, NULL, 'S'},
		{"include-tables", required_argument, NULL, 'i'},
		{"exclude-tables", required_argument, NULL, 'e'},
		{"skip-empty-xacts", no_argument, NULL, 'z'},
		{"leader", no_argument, NULL, 'L'},
		{"fsync", no_argument, NULL, 'F'},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0}
	};
	trib_source_pg_conf conf;
	const char *ckpt_file = NULL,
			   *output = NULL,
			   *resume_arg = NULL;
	bool		ckpt_catalog = false,
				use_leader = false;
	long long	exit_after = -1,
				nevents = 0;
	const char **popts = calloc((size_t) argc * 2 + 2, sizeof(char *));
	int			npopts = 0;
	int			c,
				rc = 1;
	char		err[1024];
	trib_checkpoint *ck = NULL;
	trib_leader *leader = NULL;
	trib_source_pg *src = NULL;
	trib_position resume;
	bool		have_resume = false;
	out_state	o = {STDOUT_FILENO, 0, false};
	uint64_t	last_lsn = 0,
				last_seq = 0;
	int			since_ckpt = 0;
	bool		pending_events = false;	/* events since the last commit */
	time_t		last_leader_check = 0;
	struct sigaction sa;

	memset(&conf, 0, sizeof(conf));
	memset(&resume, 0, sizeof(resume));
	conf.log = log_cb;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				conf.dsn = optarg;
				break;
			case 's':
				conf.slot = optarg;
				break;
			case 'p':
				conf.pipeline = optarg;
				break;
			case 'C':
				conf.create_slot = true;
				break;
			case 'E':
				conf.create_extension = true;
				break;
			case 'O':
				output = optarg;
				break;
			case 'k':
				ckpt_file = optarg;
				break;
			case 'K':
				ckpt_catalog = true;
				break;
			case 'r':
				resume_arg = optarg;
				break;
			case 'x':
				exit_after = atoll(optarg);
				break;
			case 'H':
				conf.heartbeat_interval_ms = atoi(optarg);
				break;
			case 'S':
				conf.status_interval_ms = atoi(optarg);
				break;
			case 'i':
				conf.include_tables = optarg;
				break;
			case 'e':
				conf.exclude_tables = optarg;
				break;
			case 'z':
				conf.skip_empty_xacts = true;
				break;
			case 'L':
				use_leader = true;
				break;
			case 'F':
				o.fsync_out = true;
				break;
			case 'v':
				verbose = 1;
				break;
			case 'o':
				{
					char	   *eq = strchr(optarg, '=');

					if (eq)
						*eq = '\0';
					popts[npopts++] = optarg;
					popts[npopts++] = eq ? eq + 1 : NULL;
					break;
				}
			default:
				usage();
		}
	}
	if (!conf.dsn || !conf.slot)
		usage();
	conf.plugin_options = popts;
	conf.reconnect_min_ms = 100;
	conf.reconnect_max_ms = 2000;
	if (!conf.pipeline)
		conf.pipeline = "pgsource_cat";

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (use_leader)
	{
		leader = trib_leader_pg_new(conf.dsn, conf.pipeline);
		fprintf(stderr, "pgsource_cat: waiting for leadership of %s\n", conf.pipeline);
		if (!trib_leader_acquire(leader, 1000, -1, (volatile int *) &stop_flag, err, sizeof(err)))
		{
			fprintf(stderr, "pgsource_cat: %s\n", err);
			rc = stop_flag ? 0 : 1;
			goto done;
		}
		fprintf(stderr, "pgsource_cat: leader of %s\n", conf.pipeline);
		last_leader_check = time(NULL);
	}

	if (ckpt_file || ckpt_catalog)
	{
		int			r;

		ck = trib_checkpoint_open(ckpt_catalog ? TRIB_CKPT_CATALOG : TRIB_CKPT_FILE,
								  ckpt_catalog ? conf.dsn : ckpt_file,
								  conf.pipeline, conf.slot, &trib_pg_source_ops,
								  err, sizeof(err));
		if (!ck)
		{
			fprintf(stderr, "pgsource_cat: %s\n", err);
			goto done;
		}
		r = trib_checkpoint_load(ck, &resume, err, sizeof(err));
		if (r < 0)
		{
			fprintf(stderr, "pgsource_cat: %s\n", err);
			goto done;
		}
		have_resume = r == 1;
	}
	if (output)
	{
		struct stat st;

		o.fd = open(output, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (o.fd < 0 || fstat(o.fd, &st) != 0)
		{
			fprintf(stderr, "pgsource_cat: cannot open %s: %s\n", output, strerror(errno));
			goto done;
		}
		o.bytes = st.st_size;
		if (have_resume)
		{
			long long	b = opaque_bytes(resume.opaque);

			if (b >= 0 && b <= o.bytes)
			{
				if (ftruncate(o.fd, b) != 0)
				{
					fprintf(stderr, "pgsource_cat: truncate: %s\n", strerror(errno));
					goto done;
				}
				o.bytes = b;
			}
		}
		else if (ck && ftruncate(o.fd, 0) == 0)
			o.bytes = 0;		/* no checkpoint: nothing was durable */
		lseek(o.fd, 0, SEEK_END);
	}
	free(resume.opaque);
	resume.opaque = NULL;
	if (resume_arg)
	{
		if (!trib_eventid_parse(resume_arg, &resume.commit_lsn, &resume.seq))
		{
			fprintf(stderr, "pgsource_cat: bad --resume-after %s\n", resume_arg);
			goto done;
		}
		have_resume = true;
	}

	src = trib_source_pg_new(&conf, err, sizeof(err));
	if (!src)
	{
		fprintf(stderr, "pgsource_cat: %s\n", err);
		goto done;
	}
	if (!trib_source_pg_start(src, have_resume ? &resume : NULL, 30000, err, sizeof(err)))
	{
		fprintf(stderr, "pgsource_cat: %s\n", err);
		goto done;
	}
	if (have_resume)
	{
		char		id[TRIB_EVENTID_LEN];

		trib_eventid_format(resume.commit_lsn, resume.seq, id, sizeof(id));
		fprintf(stderr, "pgsource_cat: streaming, resume-after %s\n", id);
	}
	else
		fprintf(stderr, "pgsource_cat: streaming\n");

	while (!stop_flag)
	{
		trib_pgrec *batch[BATCH];
		int			n = trib_source_pg_poll(src, batch, BATCH, 200, err, sizeof(err));
		int			i;
		bool		failed = false;

		if (n < 0)
		{
			fprintf(stderr, "pgsource_cat: %s\n", err);
			goto done;
		}
		for (i = 0; i < n; i++)
		{
			trib_pgrec *r = batch[i];
			uint64_t	confirm = 0;

			if (!failed && r->ev)
			{
				failed = !write_event(&o, r->ev);
				last_lsn = r->ev->pos.commit_lsn;
				last_seq = r->ev->pos.seq;
				nevents++;
				pending_events = true;
				if (r->ev->last_in_tx && r->kind == TRIB_PGREC_MESSAGE && !r->transactional)
					confirm = r->ev->pos.end_lsn;
				else if (++since_ckpt >= CKPT_EVERY)
				{
					failed = failed || !save_ckpt(ck, &o, last_lsn, last_seq);
					since_ckpt = 0;
				}
				if (!failed && confirm)
					failed = !save_ckpt(ck, &o, last_lsn, last_seq);
			}
			else if (!failed)
			{
				switch (r->kind)
				{
					case TRIB_PGREC_COMMIT:
					case TRIB_PGREC_STREAM_COMMIT:
					case TRIB_PGREC_COMMIT_PREPARED:	/* a held one, delivered */
						/*
						 * Save only when the transaction delivered events:
						 * an empty one (heartbeat, filtered, or the catalog
						 * checkpoint's own write) needs no checkpoint, and
						 * saving one would feed back into the stream.
						 */
						if (pending_events)
						{
							last_lsn = r->commit_lsn;
							last_seq = TRIB_SEQ_ALL;
							failed = !save_ckpt(ck, &o, last_lsn, last_seq);
						}
						pending_events = false;
						since_ckpt = 0;
						confirm = r->end_lsn;
						break;
					case TRIB_PGREC_ROLLBACK_PREPARED:
						confirm = r->end_lsn;
						break;
					default:
						break;
				}
			}
			if (!failed && confirm)
			{
				uint64_t	floor;

				/* never past a prepared transaction the source holds */
				if (trib_source_pg_prepared_floor(src, &floor) && floor < confirm)
					confirm = floor;
				trib_source_pg_confirm(src, confirm);
			}
			trib_pgrec_free(r);
			if (!failed && exit_after >= 0 && nevents >= exit_after && i + 1 < n)
			{
				/* stop here: free the rest unprocessed */
				int			j;

				for (j = i + 1; j < n; j++)
					trib_pgrec_free(batch[j]);
				break;
			}
		}
		if (failed)
			goto done;
		if (exit_after >= 0 && nevents >= exit_after)
		{
			if (!save_ckpt(ck, &o, last_lsn, last_seq))
				goto done;
			break;
		}
		if (leader && time(NULL) != last_leader_check)
		{
			last_leader_check = time(NULL);
			if (!trib_leader_check(leader, err, sizeof(err)))
			{
				fprintf(stderr, "pgsource_cat: %s; stopping\n", err);
				rc = 3;
				goto done;
			}
		}
	}
	rc = 0;
done:
	if (src)
		trib_source_pg_free(src);
	trib_checkpoint_close(ck);
	trib_leader_free(leader);
	if (o.fd != STDOUT_FILENO && o.fd >= 0)
		close(o.fd);
	free(popts);
	return rc;
}
