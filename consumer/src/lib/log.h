/*
 * log.h: structured logging for the tributary daemon.
 *
 * Design.  One process-wide log (like Redis's serverLog or pgbouncer's
 * slog_*): every line carries a time stamp, the level and the component
 * that wrote it ("kafka", "source.pg", "config"), as text or as one JSON
 * object per line, written with a single write(2) so lines from different
 * threads (librdkafka calls back from its own) never interleave.  Until
 * trib_log_open() is called, lines go to stderr at level info, as text.
 *
 *     tlog_info("kafka", "delivered %zu messages to %s", n, topic);
 *
 * Debug lines are gated on the level before their arguments are evaluated.
 *
 * Log files and rotation.  With a file, a SIGHUP handler calls
 * trib_log_request_reopen() (async-signal-safe: it only sets a flag); the
 * main loop sees trib_log_reopen_pending() and calls trib_log_reopen(),
 * which opens the path again (logrotate's "create" mode) and only then
 * closes the old descriptor, so a failed reopen loses nothing.
 *
 * Secrets.  Every string given to trib_log_add_secret() (passwords, whole
 * DSNs, keys read from *_file settings) is replaced by "***" in every
 * message before it is written, whatever the format string did.  The
 * config loader registers what it reads, so a secret cannot reach a log by
 * accident.  trib_log_redact_conninfo() masks the password in a libpq
 * connection string or URI for the cases where a DSN is shown on purpose.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef TRIB_LOG_H
#define TRIB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum trib_log_level
{
	TRIB_LOG_ERROR = 0,
	TRIB_LOG_WARN = 1,
	TRIB_LOG_INFO = 2,
	TRIB_LOG_DEBUG = 3
} trib_log_level;

typedef enum trib_log_format
{
	TRIB_LOG_TEXT = 0,			/* 2026-11-21T09:15:02.412Z [pid] INFO  kafka: msg */
	TRIB_LOG_JSON = 1			/* {"ts":...,"level":...,"component":...,"msg":...} */
} trib_log_format;

#if defined(__GNUC__)
#define TRIB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TRIB_PRINTF(f, a)
#endif

/*
 * Configure the log.  `path` NULL means stderr; otherwise the file is
 * opened for appending (created 0640).  On failure the previous
 * destination stays and errbuf says why.
 */
bool		trib_log_open(trib_log_level level, trib_log_format format,
						  const char *path, char *errbuf, size_t errlen);

/* Back to stderr, closing a log file. */
void		trib_log_close(void);

void		trib_log_set_level(trib_log_level level);
trib_log_level trib_log_get_level(void);

/* True when lines of `level` are written. */
bool		trib_log_enabled(trib_log_level level);

/* Write one line (a trailing newline in the message is dropped). */
void		trib_log_write(trib_log_level level, const char *component,
						   const char *fmt,...) TRIB_PRINTF(3, 4);
void		trib_log_vwrite(trib_log_level level, const char *component,
							const char *fmt, va_list ap) TRIB_PRINTF(3, 0);

/*
 * Log hooks.  A part that logs for an owner (a source for its pipeline)
 * is given a hook and its argument instead of writing to the log itself.
 * trib_log_hookf() formats one line into a 1,024-byte buffer (a longer
 * line is cut) and passes it to hook with arg; nothing when hook is
 * NULL.  The hook decides the component and writes the line.
 */
typedef void (*trib_log_hook_fn) (int level, const char *msg, void *arg);
void		trib_log_hookf(trib_log_hook_fn hook, void *arg, int level,
						   const char *fmt,...) TRIB_PRINTF(4, 5);

#define tlog_error(component, ...) \
	trib_log_write(TRIB_LOG_ERROR, (component), __VA_ARGS__)
#define tlog_warn(component, ...) \
	trib_log_write(TRIB_LOG_WARN, (component), __VA_ARGS__)
#define tlog_info(component, ...) \
	trib_log_write(TRIB_LOG_INFO, (component), __VA_ARGS__)
#define tlog_debug(component, ...) \
	do { \
		if (trib_log_enabled(TRIB_LOG_DEBUG)) \
			trib_log_write(TRIB_LOG_DEBUG, (component), __VA_ARGS__); \
	} while (0)

/* Ask for the log file to be reopened; async-signal-safe (SIGHUP). */
void		trib_log_request_reopen(void);

/* True when a reopen was requested and not yet done. */
bool		trib_log_reopen_pending(void);

/*
 * Reopen the log file (no-op for stderr) and clear the request.  On failure
 * the old descriptor stays in use, the failure is logged to it, and errbuf
 * says why.
 */
bool		trib_log_reopen(char *errbuf, size_t errlen);

/* "error", "warn", "info", "debug"; parse accepts "warning" too. */
const char *trib_log_level_name(trib_log_level level);
bool		trib_log_parse_level(const char *s, trib_log_level *out);

/*
 * Register a secret: from now on it is written as "***".  The string is
 * copied; empty strings and repeats are ignored.
 */
void		trib_log_add_secret(const char *secret);

/* Forget every secret (tests, fuzzing). */
void		trib_log_clear_secrets(void);

/* A malloc'd copy of `text` with every registered secret replaced by
 * "***"; the caller frees it. */
char	   *trib_log_redact(const char *text);

/*
 * A malloc'd copy of a libpq connection string (keyword=value form or a
 * postgres:// / postgresql:// URI) with the values of password and
 * sslpassword replaced by "***"; the caller frees it.  Text that is not a
 * connection string is copied unchanged.
 */
char	   *trib_log_redact_conninfo(const char *conninfo);

#endif							/* TRIB_LOG_H */
