/*
 * legacy.h: the pipeline format of the Python copy-and-sanitize tool that
 * teams move from, run unchanged.
 *
 * Design.  Such a file has a top-level `pipelines:` (a list of steps, or a
 * map of step name -> step) instead of `pipeline:`.  Each step copies
 * `collections` from `source_db` to `dest_db`, with per-field strategies:
 *
 *   pipelines:
 *     - step: sanitize_customers
 *       type: sanitize_obfuscate          # copy | sanitize_obfuscate | minimize
 *       order: 2
 *       depends_on: [copy_reference]      # optional
 *       source_db: postgresql://prod/shop
 *       dest_db: postgresql://staging/shop
 *       collections:
 *         customers:
 *           email: {strategy: hash_salt, params: {salt_env: MASK_SALT}}
 *           phone: {strategy: redact}
 *
 * The loader validates the file itself (every error names the file, line,
 * column and key, like the native format) and translates each step into a
 * native pipeline configuration: a Postgres source with `snapshot: only`
 * restricted to the collections, the strategies as transform rules, a
 * Postgres sink with create_tables, and a checkpoint file in a state
 * directory so an interrupted copy resumes.  The mapping is documented in
 * docs/TRANSFORMS.md.  The generated text goes through the native loader,
 * so the rules are checked exactly as if written by hand.
 *
 * Steps form a DAG: a step runs after every step it depends on and after
 * every step with a smaller `order`; the run order is computed once
 * (cycles are errors).
 *
 * Ownership: trib_legacy owns its steps and their texts.
 */
#ifndef TRIB_LEGACY_H
#define TRIB_LEGACY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct trib_legacy_step
{
	char	   *name;
	char	   *type;			/* copy, sanitize_obfuscate, minimize */
	int			order;
	int			line;
	char	   *config;			/* the native pipeline YAML */
	char	   *pipeline;		/* its pipeline name (file-step) */
	int			nrules;			/* transforms[i] came from field rule_at[i] */
	char	  **rule_at;		/* "LINE:COL: pipelines[..].collections.T.F" */
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
 * Load and translate a legacy file; `state_dir` holds the steps'
 * checkpoint files.  false and one error per line in errbuf.
 */
bool		trib_legacy_load(const char *path, const char *buf, size_t len,
							 const char *state_dir, trib_legacy **out,
							 char *errbuf, size_t errlen);

void		trib_legacy_free(trib_legacy *lg);

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
 * check).  The state directory is $TRIBUTARY_STATE_DIR, else
 * ".tributary-state" next to the file.
 */
int			trib_legacy_load_file(const char *path, trib_legacy **out,
								  char *errbuf, size_t errlen);

#endif							/* TRIB_LEGACY_H */
