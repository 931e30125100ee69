/*
 * legacy.h: the pipeline format of the Python copy-and-sanitize tool that
 * teams move from, run unchanged.
 *
 * Design.  Such a file has a top-level `pipelines:` (a list of stages, or
 * a map of stage name -> stage) instead of `pipeline:`.  Each stage copies
 * `collections` from `source_db` to `dest_db`, with per-field strategies.
 * The tool's own documentation example runs as written:
 *
 *   pipelines:
 *     - step: sanitize_clean
 *       type: sanitize_obfuscate          # copy | sanitize_obfuscate | minimize
 *       order: 2                          # (refresh: "not supported yet")
 *       source_db: financial_data_clean
 *       dest_db: financial_data_clean
 *       collections:
 *         customers:                      # fields here, or under `fields:`
 *           username:
 *             strategy: substitute
 *             params:
 *               field_type: username      # a Faker provider name
 *
 * Databases are bare names, as in the tool, whose servers came from the
 * environment: a bare name connects to the server of TRIBUTARY_SOURCE_URI
 * / TRIBUTARY_DEST_URI (or --source-uri / --dest-uri; the dest defaults to
 * the source's, both to libpq's defaults) with its database name replaced
 * (legacy_conn.c).  A postgres:// URI or a libpq conninfo in the file is
 * used as it is.  MongoDB URIs are refused until the MongoDB source exists.
 *
 * Same database, in place.  When a stage's source and dest are the same
 * database (the example above), the stage rewrites its collections where
 * they are: each row is read under one snapshot and written back by its
 * primary key.  That needs a primary key on every collection and no
 * strategy on a key column (checked before the stage runs); a `copy` or
 * `minimize` stage in place is refused (it would change nothing, or keep
 * the rows outside the sample).  Different databases: the stage copies.
 *
 * Keys.  substitute, perturb and hash_salt are keyed (HMAC): a key from
 * the strategy's params (key_env, key_file, salt_env, ...), else the run's
 * default key: --key-file or TRIBUTARY_KEY_FILE (a file), else
 * TRIBUTARY_KEY (hex or base64).  No key at all is an error that says so;
 * there is no built-in one.  sample uses the default key when there is
 * one.
 *
 * The loader validates the file itself (every error names the file, line,
 * column and key, like the native format) and translates each stage into
 * a native pipeline configuration: a Postgres source with `snapshot: only`
 * restricted to the collections, the strategies as transform rules, a
 * Postgres sink with create_tables, and a checkpoint file in a state
 * directory so an interrupted copy resumes.  The mapping is documented in
 * docs/TRANSFORMS.md.  The generated text goes through the native loader,
 * so the rules are checked exactly as if written by hand.
 *
 * Stages form a DAG: a stage runs after every stage it depends on and
 * after every stage with a smaller `order`; the run order is computed once
 * (cycles are errors).
 *
 * Ownership: trib_legacy owns its steps and their texts.
 */
#ifndef TRIB_LEGACY_H
#define TRIB_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Where the connections and the default key come from (not the file). */
typedef struct trib_legacy_opts
{
	const char *source_uri;		/* server of bare source_db names; NULL:
								 * libpq's defaults (PGHOST, ...) */
	const char *source_uri_from;	/* for messages: "TRIBUTARY_SOURCE_URI" */
	const char *dest_uri;		/* of bare dest_db names; NULL: source_uri */
	const char *dest_uri_from;
	const char *key_file;		/* the default key's file, or NULL */
	const char *key_file_from;	/* for messages: "--key-file" */
	const char *key_env;		/* the variable holding the default key, or
								 * NULL (used when key_file is NULL) */
	const char *state_dir;		/* NULL: from the file's path */
} trib_legacy_opts;

/* One strategy on one field, as the file gives it. */
typedef struct trib_legacy_field
{
	char	   *at;				/* "LINE:COL: pipelines[..].collections.T.F" */
	char	   *table;			/* schema.table */
	char	   *column;
	char	   *strategy;		/* the file's word: substitute, sample, ... */
	const char *key_from;		/* the default key's origin ("TRIBUTARY_KEY"),
								 * or NULL: the params gave one, or none */
} trib_legacy_field;

typedef struct trib_legacy_step
{
	char	   *name;
	char	   *type;			/* copy, sanitize_obfuscate, minimize */
	int			order;
	int			line;
	char	   *config;			/* the native pipeline YAML */
	char	   *pipeline;		/* its pipeline name (file-step) */
	char	   *source;			/* where it reads, password hidden */
	char	   *dest;			/* where it writes, password hidden */
	bool		in_place;		/* source and dest name the same database */
	char	  **tables;			/* the collections, schema.table */
	size_t		ntables;
	int			nfields;		/* transforms[i] came from fields[i] */
	trib_legacy_field *fields;
} trib_legacy_step;

typedef struct trib_legacy
{
	trib_legacy_step *steps;	/* in run order */
	size_t		nsteps;
	char	   *state_dir;		/* checkpoints and the steps' done markers */
} trib_legacy;

/* Does this text use the legacy format (a top-level `pipelines` key and no
 * `pipeline`)?  Cheap; a full parse follows. */
bool		trib_legacy_detect(const char *buf, size_t len);

/*
 * The options from the environment: TRIBUTARY_SOURCE_URI,
 * TRIBUTARY_DEST_URI, TRIBUTARY_KEY_FILE, TRIBUTARY_KEY (its name when it
 * is set), TRIBUTARY_STATE_DIR.  Command-line values are set over them.
 */
void		trib_legacy_opts_from_env(trib_legacy_opts *o);

/*
 * Load and translate a legacy file; opts->state_dir must be set (the
 * steps' checkpoint files go there).  false and one error per line in
 * errbuf.
 */
bool		trib_legacy_load(const char *path, const char *buf, size_t len,
							 const trib_legacy_opts *opts, trib_legacy **out,
							 char *errbuf, size_t errlen);

void		trib_legacy_free(trib_legacy *lg);

/* The steps in run order, where each reads and writes (for `check`). */
void		trib_legacy_print(const trib_legacy *lg, FILE *f);

/*
 * Before a step runs (and in `check`): connect to its source and dest
 * (the native configuration's expanded dsns), find out whether they are
 * the same database (a NOTIFY sent on one is heard on the other), and if
 * so check what rewriting in place needs (see above).  1 when the step
 * may run (*in_place says how), 0 when it must not, -1 when a database
 * cannot be reached; errbuf says why, starting with `path` (the file).
 */
int			trib_legacy_preflight(const char *path, const trib_legacy_step *st,
								  const char *source_dsn, const char *dest_dsn,
								  bool *in_place, char *errbuf, size_t errlen);

/*
 * Resuming a run: a step that completed leaves a marker in the state
 * directory.  trib_legacy_begin() creates the directory and, when every
 * step has its marker (the previous run finished), removes them so this
 * run copies everything again; an interrupted run keeps them, and its
 * finished steps are skipped.  false and errbuf when the directory cannot
 * be used.
 */
bool		trib_legacy_begin(trib_legacy *lg, char *errbuf, size_t errlen);
bool		trib_legacy_step_done(const trib_legacy *lg, size_t i);
bool		trib_legacy_mark_done(const trib_legacy *lg, size_t i,
								  char *errbuf, size_t errlen);

/*
 * Read `path`: -1 and errbuf when unreadable, 0 when it is not a legacy
 * file, 1 when it is (and *out holds it, translated, each step's
 * configuration checked by the native loader; errors as in
 * trib_legacy_load, or "PATH:LINE: step NAME: ..." from the native
 * check).  The state directory is opts->state_dir, else
 * ".tributary-state" next to the file.
 */
int			trib_legacy_load_file(const char *path, const trib_legacy_opts *opts,
								  trib_legacy **out, char *errbuf, size_t errlen);

#endif							/* TRIB_LEGACY_H */
