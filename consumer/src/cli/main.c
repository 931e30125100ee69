/*
 * main.c: the `tributary` command line.
 *
 *   tributary run -c pipeline.yaml        run a pipeline until SIGTERM/SIGINT
 *   tributary check -c pipeline.yaml [--offline]
 *                                         validate the config; then, unless
 *                                         --offline, report what it would
 *                                         capture and where (check.c)
 *   tributary snapshot -c pipeline.yaml   a one-off consistent copy, then exit
 *   tributary ctl status|pipeline|rules   ask a running daemon (ctl.h)
 *   tributary config-doc                  print docs/CONFIG.md
 *   tributary detokenize|tokenize|hash|encrypt|decrypt ...
 *                                         the masking strategies by hand,
 *                                         for authorised use (crypt_cli.h)
 *   tributary --version
 *   tributary help [command]
 *
 * A copy-and-sanitize file (legacy.h) may be given to run, check and
 * snapshot; --source-uri, --dest-uri and --key-file (over
 * TRIBUTARY_SOURCE_URI, TRIBUTARY_DEST_URI, TRIBUTARY_KEY_FILE) say where
 * its bare database names are and where its default key is.
 *
 * Exit codes: 0 OK, 1 runtime failure, 2 bad usage or bad config; `run`
 * and `snapshot` also exit 2 when the source database refuses the dsn's
 * role, password or database (SQLSTATE 28000, 28P01, 3D000, 42501: see
 * pgconn.h), which no retry fixes, while an unreachable server is retried
 * with the source's reconnect backoff, saying why each time.  `check`
 * exits 0 for a valid config even when a system it names is not reachable
 * (the report says so): validity is a property of the file, reachability
 * of the moment.
 *
 * Signals: SIGTERM and SIGINT ask the pipeline to drain, checkpoint and
 * exit 0 (`snapshot`: save its progress and exit 1, the copy being
 * unfinished); SIGHUP reopens the log file and, under `run`, reloads the
 * pipeline file (pipeline/reload.h): an accepted reload stops the
 * pipeline at a transaction boundary, exactly as a stop would, and
 * run_pipeline() builds it again from the new config.  Handlers only set
 * flags.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "clock.h"
#include "checkpoint.h"
#include "config.h"
#include "crypt_cli.h"
#include "ctl.h"
#include "lineage_cli.h"
#include "schema_cli.h"
#include "legacy.h"
#include "log.h"
#include "pg_source_conf.h"
#include "pipeline.h"
#include "reload.h"
#include "runner.h"
#include "sink_postgres_conf.h"

#ifndef TRIB_VERSION
#define TRIB_VERSION "0.2.0"
#endif

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static volatile sig_atomic_t stop_requested = 0;
static trib_reload *reloads;	/* `run` of a native file; else NULL */

static void
on_stop(int sig)
{
	(void) sig;
	stop_requested = 1;
}

static void
on_hup(int sig)
{
	(void) sig;
	trib_log_request_reopen();
	if (reloads != NULL)
		trib_reload_signal(reloads);
}

/* The commands main() dispatches, for "accepted: ..." lists. */
#define COMMANDS "run, check, snapshot, ctl, schema, lineage, config-doc, tokenize, " \
	"detokenize, hash, encrypt, decrypt, --version, help"

static const char *const usage_text[][2] = {
	{"run", "tributary run -c FILE [--source-uri URI] [--dest-uri URI] [--key-file PATH]\n"
		"  Run the pipeline FILE describes until SIGTERM or SIGINT, which drain\n"
		"  the sinks, save the checkpoint and exit 0.  SIGHUP reopens the log\n"
		"  and reloads FILE (docs/OPERATIONS.md): applied between transactions\n"
		"  when valid and applicable, else refused with the reason.\n"
		"  A copy-and-sanitize file (top-level `pipelines:`) runs its steps in\n"
		"  order, then exits: its bare database names are on the server of\n"
		"  --source-uri / --dest-uri (default: TRIBUTARY_SOURCE_URI and\n"
		"  TRIBUTARY_DEST_URI, the dest defaulting to the source, both to libpq's\n"
		"  defaults), its keyed strategies use --key-file (or TRIBUTARY_KEY_FILE,\n"
		"  or TRIBUTARY_KEY) unless they name a key.  See docs/TRANSFORMS.md.\n"},
	{"check", "tributary check -c FILE [--offline] [--source-uri URI] [--dest-uri URI]\n"
		"                       [--key-file PATH]\n"
		"  Validate FILE: every error names the file, line, column and key.\n"
		"  Then, unless --offline, connect (read-only, %d s timeouts) and report\n"
		"  what the pipeline would capture: the source's server, extension, slot\n"
		"  (plugin, confirmed position, lag) and the tables include/exclude match\n"
		"  (columns, primary key, replica identity); the saved checkpoint; for\n"
		"  each sink whether it is reachable (Kafka metadata; Postgres connection\n"
		"  and target tables, existing or to be created; file directory).\n"
		"  What cannot be reached is reported as such.  Secrets are never shown.\n"
		"  A copy-and-sanitize file: its steps in run order, where each reads\n"
		"  and writes; unless --offline, whether each step may run (a step in\n"
		"  place needs primary keys and no strategy on a key column).\n"
		"  Exit 0 when FILE is valid (reachable or not), 2 otherwise.\n"},
	{"snapshot", "tributary snapshot -c FILE [--source-uri URI] [--dest-uri URI] [--key-file PATH]\n"
		"  Copy the captured tables into the sinks under one consistent snapshot,\n"
		"  then exit 0 (whatever the source's `snapshot` key says; no slot is\n"
		"  needed).  Tables are read in parallel, in chunks by primary key; on a\n"
		"  terminal it shows rows/s and an ETA per table.  Interrupted (SIGTERM,\n"
		"  SIGINT, a crash), it saves its progress; run it again to continue, or\n"
		"  after a finished copy to make a new one.  Exit 1 when interrupted or\n"
		"  failed.  See docs/SNAPSHOT.md.\n"},
	{"schema", "tributary schema accept SUBJECT VERSION -c FILE\n"
		"  Accept a schema version the pipeline FILE quarantined (schemas:\n"
		"  on_incompatible: quarantine): a running pipeline sends its events to\n"
		"  the sinks again from its next transaction.  See docs/SCHEMA_REGISTRY.md.\n"},
	{"ctl", trib_ctl_usage},
	{"config-doc", "tributary config-doc\n"
		"  Print the reference of every configuration key (docs/CONFIG.md).\n"},
	{"detokenize", "tributary detokenize --key-env NAME|--key-file PATH [--key-format F]\n"
		"                     --alphabet digits|alnum-lower|alnum-upper|alnum\n"
		"                     --tweak T|--tweak-hex H [--strict] [VALUE...]\n"
		"  Turn FF1 tokens (the tokenize rule) back into values, for authorised use.\n"
		"  Without VALUEs, reads one per line from standard input (keeps them out\n"
		"  of ps).  Also: tokenize, hash, encrypt, decrypt (docs/MASKING.md).\n"},
	{"lineage", "tributary lineage upstream|downstream|impact|unmasked ASSET\n"
		"                  [--format tree|dot|json] [--depth N] [-c FILE | --dsn DSN]\n"
		"tributary lineage dot --all [--depth N] [-c FILE | --dsn DSN]\n"
		"  Ask the lineage catalog where ASSET comes from, where it goes, what a\n"
		"  change to it affects, or where it reaches a sink unmasked; `dot --all`\n"
		"  draws every job (pipe into `dot -Tsvg`).  The database is the config's\n"
		"  lineage dsn (else its checkpoint's) or --dsn.  See docs/LINEAGE.md.\n"},
	{NULL, NULL}
};

/* A usage text; the check text carries the timeout. */
static void
print_usage_text(FILE *f, const char *text)
{
	if (strstr(text, "%d") != NULL)
		fprintf(f, text, TRIB_CHECK_TIMEOUT_S);
	else
		fputs(text, f);
}

static void
usage(FILE *f)
{
	int			i;

	fprintf(f, "tributary %s: change data capture\n\nCommands:\n", TRIB_VERSION);
	for (i = 0; usage_text[i][0]; i++)
	{
		fputc('\n', f);
		print_usage_text(f, usage_text[i][1]);
	}
	fprintf(f, "\ntributary --version\ntributary help [COMMAND]\n"
			"\nExit codes: 0 OK, 1 runtime failure, 2 bad usage or config (also when the\n"
			"source database refuses the dsn's role, password or database).\n");
}

/* The usage text of a command, or NULL. */
static const char *
usage_text_of(const char *cmd)
{
	for (int i = 0; usage_text[i][0]; i++)
		if (strcmp(usage_text[i][0], cmd) == 0)
			return usage_text[i][1];
	return NULL;
}

/* `help [COMMAND]`: every command main() dispatches has a text. */
static int
help(const char *cmd)
{
	if (cmd == NULL)
	{
		usage(stdout);
		return 0;
	}
	if (usage_text_of(cmd) != NULL)
	{
		print_usage_text(stdout, usage_text_of(cmd));
		return 0;
	}
	if (trib_crypt_cli_is_command(cmd))
	{
		print_usage_text(stdout, usage_text_of("detokenize"));
		return 0;
	}
	fprintf(stderr, "tributary help: unknown command \"%s\" (accepted: " COMMANDS ")\n", cmd);
	return EXIT_USAGE;
}

/*
 * -c FILE / --config FILE / --config=FILE, the only argument left once the
 * flags are taken; NULL with a message when it is absent, given twice or
 * followed by anything else (which would otherwise be ignored: `check -c F
 * --ofline` must not connect).
 */
static const char *
config_arg(int argc, char **argv, const char *cmd)
{
	const char *path = NULL;
	const char *bad = NULL;

	for (int i = 2; i < argc && bad == NULL; i++)
	{
		const char *v = NULL;

		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			v = argv[i] + 9;
		else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
		{
			fprintf(stderr, "tributary %s: %s needs a FILE (usage: tributary %s -c FILE)\n",
					cmd, argv[i], cmd);
			return NULL;
		}
		else
			bad = argv[i];
		if (v != NULL && path != NULL)
		{
			fprintf(stderr, "tributary %s: -c FILE given twice (usage: tributary %s -c FILE)\n",
					cmd, cmd);
			return NULL;
		}
		path = v != NULL ? v : path;
	}
	if (bad != NULL)
		fprintf(stderr, "tributary %s: unexpected argument \"%s\" (usage: tributary %s -c FILE; "
				"tributary help %s)\n", cmd, bad, cmd, cmd);
	else if (path == NULL || path[0] == '\0')
		fprintf(stderr, "tributary %s: missing -c FILE (usage: tributary %s -c FILE)\n", cmd, cmd);
	return bad == NULL && path != NULL && path[0] != '\0' ? path : NULL;
}

/* A command that takes no arguments: false after a message when given some. */
static bool
no_more_args(int argc, char **argv)
{
	if (argc <= 2)
		return true;
	fprintf(stderr, "tributary %s: unexpected argument \"%s\" (it takes none)\n", argv[1], argv[2]);
	return false;
}

/* Load and validate; prints the errors.  NULL on failure. */
static trib_config *
load(const char *path)
{
	trib_config *cfg = NULL;
	char		err[8192];

	if (!trib_config_load(path, &cfg, err, sizeof(err)))
	{
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return cfg;
}

/*
 * Load and check step i's native configuration, then connect and check
 * that it may run (trib_legacy_preflight): 1, 0 (it must not) or -1 (a
 * database is not reachable); err says why.  *cfg is the caller's.
 */
static int
legacy_step_config(const char *path, const trib_legacy_step *st, trib_config **cfg,
				   bool *in_place, char *err, size_t errlen)
{
	*cfg = NULL;
	if (!trib_config_load_buffer(path, st->config, strlen(st->config), cfg, err, errlen))
		return 0;
	return trib_legacy_preflight(path, st, trib_pg_source_conf_of(&(*cfg)->sources[0])->dsn,
								 trib_pgsink_conf_of(&(*cfg)->sinks[0])->dsn, in_place,
								 err, errlen);
}

/* `check` of a copy-and-sanitize file (legacy.h): the steps in run order
 * and, unless offline, whether each may run. */
static int
check_legacy(const char *path, trib_legacy *lg, bool offline)
{
	int			problems = 0,
				refused = 0;

	printf("%s: OK (copy-and-sanitize format, %zu step(s), run in this order)\n", path,
		   lg->nsteps);
	trib_legacy_print(lg, stdout);
	for (size_t i = 0; !offline && i < lg->nsteps; i++)
	{
		trib_config *cfg;
		char		err[4096];
		bool		in_place;
		int			rc = legacy_step_config(path, &lg->steps[i], &cfg, &in_place, err,
											sizeof(err));

		if (rc == 1)
			printf("  step %s: can run (%s)\n", lg->steps[i].name,
				   in_place ? "in place" : "a copy into another database");
		else
			printf("  %s\n", err);	/* names the file and the step */
		problems += rc == -1;
		refused += rc == 0;
		trib_config_free(cfg);
	}
	if (!offline)
		printf("%d problem(s) found%s\n", problems + refused,
			   refused ? "" : problems ? " (the configuration itself is valid)" : "");
	trib_legacy_free(lg);
	return refused ? EXIT_USAGE : 0;
}

/* The copy-and-sanitize options: the environment's, then the command
 * line's (legacy.h). */
typedef struct legacy_args
{
	trib_legacy_opts opts;
	bool		given;			/* one came from the command line */
} legacy_args;

/* A native file with the copy-and-sanitize flags: an error. */
static int
native_with_legacy_args(const char *path)
{
	fprintf(stderr, "%s: --source-uri, --dest-uri and --key-file are for copy-and-sanitize "
			"files (a top-level `pipelines:`); this file names its connections itself\n", path);
	return EXIT_USAGE;
}

static int
cmd_check(const char *path, bool offline, const legacy_args *la)
{
	trib_config *cfg;
	trib_legacy *lg;
	char		err[8192];
	int			problems;
	int			rc = trib_legacy_load_file(path, &la->opts, &lg, err, sizeof(err));

	if (rc < 0)
	{
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	if (rc == 1)
		return check_legacy(path, lg, offline);
	if (la->given)
		return native_with_legacy_args(path);
	cfg = load(path);

	if (cfg == NULL)
		return EXIT_USAGE;
	printf("%s: OK (pipeline %s, %zu source(s), %zu sink(s))\n", path,
		   cfg->pipeline, cfg->nsources, cfg->nsinks);
	if (offline && trib_checkpoint_key_exposed(cfg, err, sizeof(err)))
		printf("warning: %s\n", err);	/* connected: in the checkpoint's part */
	if (!offline)
	{
		int			bad_rules = 0;

		fflush(stdout);
		problems = trib_check_connected(cfg, stdout, &bad_rules);
		if (bad_rules > 0)
		{
			printf("%d rule(s) name columns that do not exist\n", bad_rules);
			trib_config_free(cfg);
			return EXIT_USAGE;
		}
		printf("%d problem(s) found%s\n", problems,
			   problems ? " (the configuration itself is valid)" : "");
	}
	trib_config_free(cfg);
	return 0;
}

/*
 * Remove `flag VALUE` or `flag=VALUE` from argv; 1 and *value when it was
 * there, 0 when not, -1 (reported) when the value is missing.
 */
static int
take_value(int *argc, char **argv, const char *flag, const char **value)
{
	size_t		n = strlen(flag);

	for (int i = 2; i < *argc; i++)
	{
		int			used = 0;

		if (strcmp(argv[i], flag) == 0 && i + 1 < *argc)
			*value = argv[i + 1], used = 2;
		else if (strcmp(argv[i], flag) == 0)
		{
			fprintf(stderr, "tributary %s: %s needs a value\n", argv[1], flag);
			return -1;
		}
		else if (strncmp(argv[i], flag, n) == 0 && argv[i][n] == '=')
			*value = argv[i] + n + 1, used = 1;
		if (used)
		{
			memmove(&argv[i], &argv[i + used], (size_t) (*argc - i - used + 1) * sizeof(char *));
			*argc -= used;
			return 1;
		}
	}
	return 0;
}

/* The copy-and-sanitize options; false (reported) on a bad flag. */
static bool
legacy_args_parse(int *argc, char **argv, legacy_args *la)
{
	const char *v;
	int			rc;

	trib_legacy_opts_from_env(&la->opts);
	la->given = false;
	if ((rc = take_value(argc, argv, "--source-uri", &v)) == 1)
		la->opts.source_uri = v, la->opts.source_uri_from = "--source-uri";
	la->given = la->given || rc == 1;
	if (rc >= 0 && (rc = take_value(argc, argv, "--dest-uri", &v)) == 1)
		la->opts.dest_uri = v, la->opts.dest_uri_from = "--dest-uri";
	la->given = la->given || rc == 1;
	if (rc >= 0 && (rc = take_value(argc, argv, "--key-file", &v)) == 1)
		la->opts.key_file = v, la->opts.key_file_from = "--key-file";
	la->given = la->given || rc == 1;
	return rc >= 0;
}

/* Remove `flag` from argv if present; true when it was. */
static bool
take_flag(int *argc, char **argv, const char *flag)
{
	for (int i = 2; i < *argc; i++)
		if (strcmp(argv[i], flag) == 0)
		{
			memmove(&argv[i], &argv[i + 1], (size_t) (*argc - i) * sizeof(char *));
			(*argc)--;
			return true;
		}
	return false;
}

/* Sleep ms milliseconds, or less when a stop is requested. */
static void
nap(int ms)
{
	struct timespec ts = {0, 50 * 1000000L};

	for (int t = 0; t < ms && !stop_requested; t += 50)
		nanosleep(&ts, NULL);
}

/* The log section of a reloaded config, when it differs. */
static void
reload_log(const trib_config *from, const trib_config *to)
{
	char		err[512],
				back[512];
	const char *f1 = from->log.file ? from->log.file : "",
			   *f2 = to->log.file ? to->log.file : "";

	if (from->log.level == to->log.level && from->log.format == to->log.format &&
		strcmp(f1, f2) == 0)
		return;
	trib_log_close();
	if (trib_log_open(to->log.level, to->log.format, to->log.file, err, sizeof(err)))
		return;
	if (!trib_log_open(from->log.level, from->log.format, from->log.file, back, sizeof(back)))
		trib_log_close();
	tlog_error("reload", "the reloaded log settings do not work (%s); the log stays as it "
			   "was", err);
}

/*
 * Reloads between two pipelines: `next` (accepted, taken from the reload)
 * becomes the config; the one it replaces stays as *fallback until the new
 * pipeline is built.
 */
typedef struct run_configs
{
	const trib_config *cfg;		/* what the next pipeline is built from */
	trib_config *owned;			/* cfg when a reload gave it */
	const trib_config *fallback;	/* the config before the last reload */
	trib_config *fallback_owned;
} run_configs;

static void
configs_switch(run_configs *rc, trib_config *next)
{
	trib_config_free(rc->fallback_owned);
	rc->fallback = rc->cfg;
	rc->fallback_owned = rc->owned;
	reload_log(rc->cfg, next);
	rc->cfg = rc->owned = next;
	tlog_info("reload", "starting pipeline %s again with the reloaded config",
			  next->pipeline);
}

/* The pipeline built from the reloaded config; back to the fallback when
 * it cannot be (false: there was none). */
static bool
configs_revert(run_configs *rc, const char *why)
{
	if (rc->fallback == NULL)
		return false;
	tlog_error("reload", "the reloaded config cannot be set up (%s); starting again with "
			   "the previous one", why);
	reload_log(rc->cfg, rc->fallback);
	trib_config_free(rc->owned);
	rc->cfg = rc->fallback;
	rc->owned = rc->fallback_owned;
	rc->fallback = NULL;
	rc->fallback_owned = NULL;
	return true;
}

/* The new pipeline is built: the fallback goes. */
static void
configs_settled(run_configs *rc)
{
	trib_config_free(rc->fallback_owned);
	rc->fallback = NULL;
	rc->fallback_owned = NULL;
}

static int run_one_config(run_configs *rc, bool snapshot);

/* Run with reloads (see run_one_config); cfg stays the caller's. */
static int
run_pipeline(const trib_config *cfg, bool snapshot)
{
	run_configs rc = {.cfg = cfg};
	int			ret = run_one_config(&rc, snapshot);

	trib_config_free(rc.owned);
	trib_config_free(rc.fallback_owned);
	return ret;
}

/*
 * Run one loaded pipeline (the caller opened the log), built again from
 * the new config after each reload applied (run_configs).  A failure on a
 * lost connection to the source database (a PostgreSQL restart took the
 * pipeline lock's session or the catalog checkpoint store) builds the
 * pipeline again after a backoff, as a supervisor restarting the process
 * would: every position is reloaded from the sinks and the checkpoint, so
 * nothing is lost or repeated.  The backoff is the first source's own
 * reconnect backoff, whatever its type (trib_pipeline_restart_backoff),
 * read from each pipeline built, so a reloaded config's applies.  The exit
 * status: 0, EXIT_RUNTIME, or EXIT_USAGE when the pipeline cannot be built
 * from the config or the source refuses its credentials.
 */
static int
run_one_config(run_configs *rc, bool snapshot)
{
	const trib_config *cfg = rc->cfg;
	int			delay = 0;		/* 0: the next wait is the initial one */

	if (stop_requested)
		return 0;				/* stopped while starting: nothing to drain */
	for (;;)
	{
		trib_pipeline *p;
		char		err[4096] = "";
		bool		ok;
		bool		complete;
		bool		again;
		bool		refused;
		trib_config *next;
		int			initial_ms;
		int			max_ms;
		int64_t		t0 = trib_clock_mono_ms();

		cfg = rc->cfg;
		p = trib_pipeline_new(cfg, err, sizeof(err));
		if (p == NULL && configs_revert(rc, err))
			continue;
		if (p == NULL)
		{
			tlog_error("main", "%s", err);
			return EXIT_USAGE;
		}
		configs_settled(rc);
		if (reloads != NULL && !snapshot)
		{
			trib_pipeline_set_reload(p, reloads);
			trib_reload_set_current(reloads, cfg);
		}
		tlog_info("main", "tributary %s starting pipeline %s", TRIB_VERSION, cfg->pipeline);
		ok = trib_runner_run(p, snapshot, &complete, &stop_requested, err, sizeof(err));
		again = !ok && !stop_requested && trib_pipeline_retriable(p);
		refused = !ok && trib_pipeline_refused(p);
		if (refused)
			tlog_error("main", "pipeline %s cannot start: source %s: %s; not retried: correct "
					   "%s", cfg->pipeline, cfg->sources[0].name, err,
					   trib_pipeline_refused_hint(p));
		else if (!ok && !again)
			tlog_error("main", "pipeline %s failed: %s", cfg->pipeline, err);
		else if (ok && snapshot && !complete)
		{
			tlog_error("main", "snapshot of pipeline %s interrupted; its progress is saved: "
					   "run it again to continue", cfg->pipeline);
			ok = false;
		}
		next = ok && reloads != NULL && !snapshot && !stop_requested
			? trib_reload_take(reloads) : NULL;
		trib_pipeline_restart_backoff(p, &initial_ms, &max_ms);
		trib_pipeline_free(p);
		if (next != NULL)
		{
			configs_switch(rc, next);
			delay = 0;
			continue;
		}
		if (refused)
			return EXIT_USAGE;
		if (!again)
			return ok ? 0 : EXIT_RUNTIME;
		if (delay == 0 || trib_clock_mono_ms() - t0 > 60000)
			delay = initial_ms; /* first, or it ran a while: start over */
		else if (delay < initial_ms)
			delay = initial_ms; /* never below this run's (a lost lock's) */
		tlog_warn("main", "pipeline %s lost its database connection (%s); starting it "
				  "again in %d ms", cfg->pipeline, err, delay);
		nap(delay);
		if (stop_requested)
			return 0;
		delay = delay * 2 > max_ms ? max_ms : delay * 2;
	}
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a file past RLIMIT_FSIZE: write() fails with EFBIG, which the sink
	 * or store reports with its path, instead of the signal killing us */
	signal(SIGXFSZ, SIG_IGN);
}

/*
 * A copy-and-sanitize file (legacy.h): each step is a snapshot-only copy,
 * in the DAG's order, after its preflight (in place or a copy); the steps
 * an interrupted run finished are skipped.
 */
static int
run_legacy(const char *path, trib_legacy *lg)
{
	char		err[4096] = "";
	bool		ok = trib_log_open(TRIB_LOG_INFO, TRIB_LOG_TEXT, NULL, err, sizeof(err)) &&
		trib_legacy_begin(lg, err, sizeof(err));

	if (!ok)
	{
		fprintf(stderr, "tributary: %s\n", err);
		trib_legacy_free(lg);
		return EXIT_RUNTIME;
	}
	install_signals();
	for (size_t i = 0; ok && i < lg->nsteps && !stop_requested; i++)
	{
		trib_config *cfg = NULL;
		bool		in_place = false;

		if (trib_legacy_step_done(lg, i))
		{
			tlog_info("main", "%s: step %s was done by the interrupted run: skipped", path,
					  lg->steps[i].name);
			continue;
		}
		ok = legacy_step_config(path, &lg->steps[i], &cfg, &in_place, err, sizeof(err)) == 1;
		if (!ok)
			tlog_error("main", "%s", err);
		else
			tlog_info("main", "%s: step %zu of %zu: %s (%s, %s)", path, i + 1, lg->nsteps,
					  lg->steps[i].name, lg->steps[i].type,
					  in_place ? "in place" : "a copy into another database");
		err[0] = '\0';
		ok = ok && run_pipeline(cfg, true) == 0 &&
			trib_legacy_mark_done(lg, i, err, sizeof(err));
		if (!ok && err[0])
			tlog_error("main", "step %s: %s", lg->steps[i].name, err);
		trib_config_free(cfg);
	}
	if (ok && stop_requested)
		ok = false;
	trib_legacy_free(lg);
	trib_log_close();
	return ok ? 0 : EXIT_RUNTIME;
}

/* `run`, or `snapshot` (copy only) when snapshot is true. */
static int
cmd_run(const char *path, bool snapshot, const legacy_args *la)
{
	trib_config *cfg;
	trib_legacy *lg;
	char		err[4096] = "";
	int			rc;

	/*
	 * First of all, so that a SIGTERM sent while the configuration loads or
	 * the log opens (a supervisor stopping a daemon it just started) is a
	 * clean stop, not a death by the default action.
	 */
	install_signals();
	rc = trib_legacy_load_file(path, &la->opts, &lg, err, sizeof(err));
	if (rc < 0)
	{
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	if (rc == 1)
		return run_legacy(path, lg);
	if (la->given)
		return native_with_legacy_args(path);
	if ((cfg = load(path)) == NULL)
		return EXIT_USAGE;
	if (!snapshot)
		reloads = trib_reload_new(path);
	if (!trib_log_open(cfg->log.level, cfg->log.format, cfg->log.file, err, sizeof(err)))
	{
		trib_config_free(cfg);
		if (stop_requested)
			return 0;			/* the stop interrupted the open */
		fprintf(stderr, "tributary: %s\n", err);
		return EXIT_USAGE;
	}
	rc = run_pipeline(cfg, snapshot);
	trib_config_free(cfg);
	trib_log_close();
	{
		trib_reload *r = reloads;

		reloads = NULL;			/* before the signal handler could see it freed */
		trib_reload_free(r);
	}
	return rc;
}

/* The command line's command; its exit status. */
static int
dispatch(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	const char *path;

	if (cmd == NULL)
	{
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0)
	{
		if (!no_more_args(argc, argv))
			return EXIT_USAGE;
		printf("tributary %s\n", TRIB_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
	{
		if (argc > 3)
		{
			fprintf(stderr, "tributary help: unexpected argument \"%s\" (usage: tributary help "
					"[COMMAND])\n", argv[3]);
			return EXIT_USAGE;
		}
		return help(argc > 2 ? argv[2] : NULL);
	}
	/* `tributary COMMAND ... --help` (or `COMMAND -h`) is `help COMMAND` */
	for (int i = 2; i < argc && (usage_text_of(cmd) || trib_crypt_cli_is_command(cmd)); i++)
		if (strcmp(argv[i], "--help") == 0 || (i == 2 && strcmp(argv[i], "-h") == 0))
			return help(cmd);
	if (strcmp(cmd, "config-doc") == 0)
	{
		if (!no_more_args(argc, argv))
			return EXIT_USAGE;
		trib_config_write_doc(stdout);
		return 0;
	}
	if (strcmp(cmd, "schema") == 0)
		return trib_schema_cli(argc - 1, argv + 1);
	if (trib_crypt_cli_is_command(cmd))
		return trib_crypt_cli(argc - 1, argv + 1, stdin, stdout, stderr);
	if (strcmp(cmd, "lineage") == 0)
		return trib_lineage_cli(argc - 1, argv + 1, stdout, stderr);
	if (strcmp(cmd, "ctl") == 0)
		return trib_ctl_main(argc - 1, argv + 1, stdout, stderr);
	if (strcmp(cmd, "run") == 0 || strcmp(cmd, "check") == 0 || strcmp(cmd, "snapshot") == 0)
	{
		bool		offline = strcmp(cmd, "check") == 0 &&
			take_flag(&argc, argv, "--offline");
		legacy_args la;

		if (!legacy_args_parse(&argc, argv, &la) ||
			(path = config_arg(argc, argv, cmd)) == NULL)
			return EXIT_USAGE;
		if (strcmp(cmd, "check") == 0)
			return cmd_check(path, offline, &la);
		return cmd_run(path, strcmp(cmd, "snapshot") == 0, &la);
	}
	fprintf(stderr, "tributary: unknown command \"%s\" (accepted: " COMMANDS "; "
			"tributary help)\n", cmd);
	return EXIT_USAGE;
}

/*
 * What a command printed must have reached its destination: `config-doc >
 * CONFIG.md` on a full disk, or `check` into a closed pipe, exits 1 with a
 * message rather than 0 with the output cut short.
 */
int
main(int argc, char **argv)
{
	int			rc = dispatch(argc, argv);
	bool		flushed = fflush(stdout) == 0;

	if ((!flushed || ferror(stdout)) && rc == 0)
	{
		fprintf(stderr, "tributary: cannot write the output%s%s\n", flushed ? "" : ": ",
				flushed ? "" : strerror(errno));
		rc = EXIT_RUNTIME;
	}
	return rc;
}
