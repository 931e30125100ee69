/*
 * log.c: the process-wide structured log.
 *
 * State is a handful of globals behind one mutex: the destination
 * descriptor (stderr or an O_APPEND file, kept with its path for reopen),
 * the format, and the secret registry.  The level is an atomic so that
 * trib_log_enabled() costs no lock on the debug fast path.  A line is
 * built completely in memory (format, redact, escape) and written with one
 * write(2); O_APPEND keeps lines whole even when logrotate copies or
 * another process appends.
 *
 * Escaping.  Text lines must stay one line: control characters in a
 * message are written as \n, \t, \xNN.  JSON lines must always parse: the
 * message is escaped per RFC 8259 and bytes that are not valid UTF-8 are
 * written as U+FFFD.
 *
 * Redaction is a scan of the message for every registered secret, longest
 * first, so a secret that contains another is masked whole.
 */
#include "log.h"

#include "quoted.h"
#include "strbuf.h"
#include "utf8.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define REDACTED "***"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int	log_fd = STDERR_FILENO;
static char *log_path;			/* NULL: stderr */
static trib_log_format log_format = TRIB_LOG_TEXT;
static atomic_int log_level = TRIB_LOG_INFO;
static volatile sig_atomic_t reopen_requested;

static char **secrets;			/* sorted by length, longest first */
static size_t nsecrets;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};

/* Name of a level. */
const char *
trib_log_level_name(trib_log_level level)
{
	if ((int) level < 0 || level > TRIB_LOG_DEBUG)
		return "unknown";
	return level_names[level];
}

/* Parse a level name, case-insensitively. */
bool
trib_log_parse_level(const char *s, trib_log_level *out)
{
	for (int i = 0; i <= TRIB_LOG_DEBUG; i++)
	{
		if (strcasecmp(s, level_names[i]) == 0)
		{
			*out = (trib_log_level) i;
			return true;
		}
	}
	if (strcasecmp(s, "warning") == 0)
	{
		*out = TRIB_LOG_WARN;
		return true;
	}
	return false;
}

void
trib_log_set_level(trib_log_level level)
{
	atomic_store(&log_level, (int) level);
}

trib_log_level
trib_log_get_level(void)
{
	return (trib_log_level) atomic_load(&log_level);
}

bool
trib_log_enabled(trib_log_level level)
{
	return (int) level <= atomic_load(&log_level);
}

/* Open a log file for appending; -1 with errno on failure. */
static int
open_log_file(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
}

/*
 * Make fd the destination and close the previous one (never stderr).
 * With set_path, log_path becomes path (owned; NULL for stderr); with
 * format, the format changes in the same step.
 */
static void
switch_fd(int fd, bool set_path, char *path, const trib_log_format *format)
{
	int			old_fd;

	pthread_mutex_lock(&log_lock);
	old_fd = log_fd;
	log_fd = fd;
	if (set_path)
	{
		free(log_path);
		log_path = path;
	}
	if (format)
		log_format = *format;
	pthread_mutex_unlock(&log_lock);
	if (old_fd != STDERR_FILENO)
		close(old_fd);
}

/* Configure level, format and destination; see log.h. */
bool
trib_log_open(trib_log_level level, trib_log_format format, const char *path,
			  char *errbuf, size_t errlen)
{
	int			fd = STDERR_FILENO;
	char	   *copy = NULL;

	if (path != NULL)
	{
		copy = strdup(path);
		if (copy == NULL)
		{
			snprintf(errbuf, errlen, "out of memory");
			return false;
		}
		fd = open_log_file(path);
		if (fd < 0)
		{
			snprintf(errbuf, errlen, "cannot open log file \"%s\": %s", path, strerror(errno));
			free(copy);
			return false;
		}
	}
	switch_fd(fd, true, copy, &format);
	trib_log_set_level(level);
	return true;
}

/* Back to stderr. */
void
trib_log_close(void)
{
	switch_fd(STDERR_FILENO, true, NULL, NULL);
}

/* Async-signal-safe: only sets a flag. */
void
trib_log_request_reopen(void)
{
	reopen_requested = 1;
}

bool
trib_log_reopen_pending(void)
{
	return reopen_requested != 0;
}

/* Reopen the log file; see log.h. */
bool
trib_log_reopen(char *errbuf, size_t errlen)
{
	char	   *path = NULL;
	int			fd;
	int			err;

	reopen_requested = 0;
	pthread_mutex_lock(&log_lock);
	if (log_path != NULL)
		path = strdup(log_path);
	pthread_mutex_unlock(&log_lock);
	if (path == NULL)
		return true;			/* stderr: nothing to reopen */

	fd = open_log_file(path);
	if (fd < 0)
	{
		err = errno;
		snprintf(errbuf, errlen, "cannot reopen log file \"%s\": %s", path, strerror(err));
		tlog_error("log", "cannot reopen log file \"%s\": %s; still writing to the old file",
				   path, strerror(err));
		free(path);
		return false;
	}
	switch_fd(fd, false, NULL, NULL);
	free(path);
	return true;
}

/* Register a secret (see log.h). */
void
trib_log_add_secret(const char *secret)
{
	size_t		len;
	size_t		pos;
	char	   *copy;

	if (secret == NULL || secret[0] == '\0')
		return;
	len = strlen(secret);
	pthread_mutex_lock(&log_lock);
	for (size_t i = 0; i < nsecrets; i++)
	{
		if (strcmp(secrets[i], secret) == 0)
		{
			pthread_mutex_unlock(&log_lock);
			return;
		}
	}
	copy = trib_xstrdup(secret);
	secrets = trib_xrealloc(secrets, (nsecrets + 1) * sizeof(char *));
	/* keep longest first, so that a secret containing another wins */
	for (pos = 0; pos < nsecrets && strlen(secrets[pos]) >= len; pos++)
		;
	memmove(secrets + pos + 1, secrets + pos, (nsecrets - pos) * sizeof(char *));
	secrets[pos] = copy;
	nsecrets++;
	pthread_mutex_unlock(&log_lock);
}

/* Forget every secret. */
void
trib_log_clear_secrets(void)
{
	pthread_mutex_lock(&log_lock);
	for (size_t i = 0; i < nsecrets; i++)
		free(secrets[i]);
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
	pthread_mutex_unlock(&log_lock);
}

/* Append `text` with secrets replaced; the caller holds log_lock. */
static void
redact_into(trib_strbuf *out, const char *text)
{
	const char *p = text;

	while (*p)
	{
		bool		hit = false;

		for (size_t i = 0; i < nsecrets; i++)
		{
			size_t		n = strlen(secrets[i]);

			if (secrets[i][0] == *p && strncmp(p, secrets[i], n) == 0)
			{
				trib_strbuf_adds(out, REDACTED);
				p += n;
				hit = true;
				break;
			}
		}
		if (!hit)
			trib_strbuf_add(out, p++, 1);
	}
}

/* A redacted copy; see log.h. */
char *
trib_log_redact(const char *text)
{
	trib_strbuf out = {0};

	pthread_mutex_lock(&log_lock);
	redact_into(&out, text);
	pthread_mutex_unlock(&log_lock);
	return trib_strbuf_finish(&out);
}

/* Append `s` as the inside of a JSON string. */
static void
json_escape(trib_strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + strlen(s);

	while (*p)
	{
		size_t		n;

		switch (*p)
		{
			case '"':
				trib_strbuf_adds(out, "\\\"");
				p++;
				continue;
			case '\\':
				trib_strbuf_adds(out, "\\\\");
				p++;
				continue;
			case '\n':
				trib_strbuf_adds(out, "\\n");
				p++;
				continue;
			case '\r':
				trib_strbuf_adds(out, "\\r");
				p++;
				continue;
			case '\t':
				trib_strbuf_adds(out, "\\t");
				p++;
				continue;
			default:
				break;
		}
		if (*p < 0x20)
		{
			trib_strbuf_printf(out, "\\u%04x", *p);
			p++;
			continue;
		}
		n = trib_utf8_seqlen((const char *) p, (size_t) (end - p));
		if (n == 0)
		{
			trib_strbuf_adds(out, "\\ufffd");
			p++;
			continue;
		}
		trib_strbuf_add(out, (const char *) p, n);
		p += n;
	}
}

/* Append `s` for a text line: control characters escaped. */
static void
text_escape(trib_strbuf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p == '\n')
			trib_strbuf_adds(out, "\\n");
		else if (*p == '\t')
			trib_strbuf_adds(out, "\\t");
		else if (*p == '\r')
			trib_strbuf_adds(out, "\\r");
		else if (*p < 0x20 || *p == 0x7F)
			trib_strbuf_printf(out, "\\x%02X", *p);
		else
			trib_strbuf_add(out, (const char *) p, 1);
	}
}

/* ISO 8601 UTC time stamp with milliseconds. */
static void
format_time(char *buf, size_t len)
{
	struct timespec ts;
	struct tm	tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, (ts.tv_nsec / 1000000) % 1000);
}

/* write(2) all of it, retrying on EINTR and short writes. */
static void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, buf, len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return;				/* nowhere left to report it */
		}
		buf += n;
		len -= (size_t) n;
	}
}

/* See log.h: a line through a caller's hook. */
void
trib_log_hookf(trib_log_hook_fn hook, void *arg, int level, const char *fmt,...)
{
	char		msg[1024];
	va_list		ap;

	if (hook == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hook(level, msg, arg);
}

/* Format, redact, escape and write one line. */
void
trib_log_vwrite(trib_log_level level, const char *component,
				const char *fmt, va_list ap)
{
	trib_strbuf buf = {0};
	trib_strbuf line = {0};
	char	   *msg;
	char	   *clean;
	size_t		len;
	char		ts[96];
	int			saved_errno = errno;

	if (!trib_log_enabled(level))
		return;
	if ((int) level < 0 || level > TRIB_LOG_DEBUG)
		level = TRIB_LOG_ERROR;
	if (component == NULL)
		component = "tributary";

	trib_strbuf_vprintf(&buf, fmt, ap);
	msg = trib_strbuf_finish(&buf);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	format_time(ts, sizeof(ts));

	pthread_mutex_lock(&log_lock);
	redact_into(&buf, msg);
	clean = trib_strbuf_finish(&buf);
	if (log_format == TRIB_LOG_JSON)
	{
		trib_strbuf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"pid\":%ld,\"component\":\"",
				  ts, level_names[level], (long) getpid());
		json_escape(&line, component);
		trib_strbuf_adds(&line, "\",\"msg\":\"");
		json_escape(&line, clean);
		trib_strbuf_adds(&line, "\"}\n");
	}
	else
	{
		trib_strbuf_printf(&line, "%s [%ld] %s ", ts, (long) getpid(), level_tags[level]);
		text_escape(&line, component);
		trib_strbuf_adds(&line, ": ");
		text_escape(&line, clean);
		trib_strbuf_adds(&line, "\n");
	}
	write_all(log_fd, line.data, line.len);
	pthread_mutex_unlock(&log_lock);

	free(msg);
	free(clean);
	trib_strbuf_free(&line);
	errno = saved_errno;
}

/* Varargs form of trib_log_vwrite. */
void
trib_log_write(trib_log_level level, const char *component, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	trib_log_vwrite(level, component, fmt, ap);
	va_end(ap);
}

/* True when `key` (n bytes, percent-decoded if `uri`) names a password. */
static bool
is_password_key(const char *key, size_t n, bool uri)
{
	char		dec[32];
	size_t		k = 0;

	for (size_t i = 0; i < n && k < sizeof(dec) - 1; i++)
	{
		if (uri && key[i] == '%' && i + 2 < n &&
			isxdigit((unsigned char) key[i + 1]) && isxdigit((unsigned char) key[i + 2]))
		{
			char		hex[3] = {key[i + 1], key[i + 2], '\0'};

			dec[k++] = (char) strtol(hex, NULL, 16);
			i += 2;
		}
		else
			dec[k++] = key[i];
	}
	dec[k] = '\0';
	return strcmp(dec, "password") == 0 || strcmp(dec, "sslpassword") == 0;
}

/* Redact a keyword=value connection string into `out`. */
static void
redact_keyword_value(trib_strbuf *out, const char *s)
{
	const char *p = s;

	while (*p)
	{
		const char *key;
		size_t		keylen;
		const char *val;

		while (isspace((unsigned char) *p))
			trib_strbuf_add(out, p++, 1);
		if (*p == '\0')
			break;
		key = p;
		while (*p && *p != '=' && !isspace((unsigned char) *p))
			p++;
		keylen = (size_t) (p - key);
		trib_strbuf_add(out, key, keylen);
		while (isspace((unsigned char) *p))
			trib_strbuf_add(out, p++, 1);
		if (*p != '=')
		{
			trib_strbuf_adds(out, p);	/* not a connection string: leave as is */
			return;
		}
		trib_strbuf_add(out, p++, 1);
		while (isspace((unsigned char) *p))
			trib_strbuf_add(out, p++, 1);
		val = p;
		if (*p == '\'')
		{
			p = trib_quoted_end(p);
			if (*p == '\'')
				p++;
		}
		else
		{
			for (; *p && !isspace((unsigned char) *p); p++)
				if (*p == '\\' && p[1])
					p++;
		}
		if (is_password_key(key, keylen, false))
			trib_strbuf_adds(out, REDACTED);
		else
			trib_strbuf_add(out, val, (size_t) (p - val));
	}
}

/* Redact a postgres:// URI into `out`: user:password@ and ?password=. */
static void
redact_uri(trib_strbuf *out, const char *s)
{
	const char *rest = strstr(s, "://") + 3;
	const char *query = strchr(rest, '?');
	const char *end = query ? query : rest + strlen(rest);
	const char *at = NULL;
	const char *colon;

	trib_strbuf_add(out, s, (size_t) (rest - s));
	/* the last '@' before the query: a password with a raw '/' or '@' in
	 * it is still masked whole */
	for (const char *p = rest; p < end; p++)
		if (*p == '@')
			at = p;
	colon = at ? memchr(rest, ':', (size_t) (at - rest)) : NULL;
	if (colon != NULL)
	{
		trib_strbuf_add(out, rest, (size_t) (colon - rest) + 1);
		trib_strbuf_adds(out, REDACTED);
		trib_strbuf_add(out, at, (size_t) (end - at));
	}
	else
		trib_strbuf_add(out, rest, (size_t) (end - rest));
	if (query == NULL)
		return;

	for (const char *p = query; *p;)
	{
		const char *param = p + 1;	/* after '?' or '&' */
		const char *amp = strchr(param, '&');
		const char *pend = amp ? amp : param + strlen(param);
		const char *eq = memchr(param, '=', (size_t) (pend - param));

		trib_strbuf_add(out, p, 1);
		if (eq != NULL && is_password_key(param, (size_t) (eq - param), true))
		{
			trib_strbuf_add(out, param, (size_t) (eq - param) + 1);
			trib_strbuf_adds(out, REDACTED);
		}
		else
			trib_strbuf_add(out, param, (size_t) (pend - param));
		p = pend;
	}
}

/* See log.h. */
char *
trib_log_redact_conninfo(const char *conninfo)
{
	trib_strbuf out = {0};

	if (conninfo == NULL)
		conninfo = "";
	if (strncmp(conninfo, "postgresql://", 13) == 0 ||
		strncmp(conninfo, "postgres://", 11) == 0)
		redact_uri(&out, conninfo);
	else
		redact_keyword_value(&out, conninfo);
	return trib_strbuf_finish(&out);
}
