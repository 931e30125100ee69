/*
 * config_values.c: value checks and word lists that several key tables
 * share: libpq connection strings (sources, sinks, checkpoint, erasure,
 * lookup rules), file modes (file sinks, the erasure audit log) and the
 * formats of a key given as text (erasure, crypto rules), names made of
 * a few characters (pipelines, slots, topics).
 *
 * A check that only one table uses lives next to that table, in the
 * plugin's or section's own file.
 */
#include "config.h"
#include "config_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "conninfo.h"
#include "fileio.h"
#include "log.h"
#include "strbuf.h"

const char *const ck_key_format_words[] = {"auto", "hex", "base64", "raw", NULL};

/* A libpq conninfo or URI; registers its passwords as log secrets. */
bool
ck_check_conninfo(const char *value, char *msg, size_t msglen)
{
	char	   *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(value, &err);
	char		clean[256];

	if (opts == NULL)
	{
		trib_conninfo_error_masked(err ? err : "out of memory", clean, sizeof(clean));
		snprintf(msg, msglen, "not a valid libpq connection string or URI: %s", clean);
		PQfreemem(err);
		return false;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
	{
		if ((strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "sslpassword") == 0) &&
			o->val != NULL)
			trib_log_add_secret(o->val);
	}
	PQconninfoFree(opts);
	return true;
}

/* See config_keys.h. */
bool
ck_only_chars(const char *s, const char *allowed, size_t maxlen)
{
	size_t		n = strlen(s);

	return n >= 1 && n <= maxlen && strspn(s, allowed) == n;
}

/* See config_keys.h. */
bool
ck_check_name(const char *value, const char *what, const char *allowed, size_t maxlen,
			  const char *accepted, char *msg, size_t msglen)
{
	if (ck_only_chars(value, allowed, maxlen))
		return true;
	snprintf(msg, msglen, "invalid %s \"%s\" (accepted: %s, 1 to %zu characters)",
			 what, value, accepted, maxlen);
	return false;
}

/* Permissions as octal digits (fileio.h). */
bool
ck_check_file_mode(const char *value, char *msg, size_t msglen)
{
	mode_t		m;

	if (trib_fileio_mode_parse(value, &m))
		return true;
	snprintf(msg, msglen, "\"%s\" is not a file mode (accepted: three octal digits, "
			 "optionally after a 0, e.g. 0600 or 0640)", value);
	return false;
}

/* A bearer token a guess cannot find: at least 16 bytes. */
bool
ck_check_token(const char *value, char *msg, size_t msglen)
{
	if (strlen(value) >= 16)
		return true;
	snprintf(msg, msglen, "the token is too short (at least 16 bytes)");
	return false;
}
