/*
 * erasure_audit.c: the erasure audit log (erasure_int.h).
 *
 * One JSON object per line, appended: the time, what happened (`event`:
 * request, key or message), the stream position of the event it is about,
 * the result and, for a refusal, the reason.  The subject is never
 * written: a request line carries `subject_hmac`, HMAC-SHA256 of the
 * subject under `subject_key` with context "erasure.subject", hex, the
 * `hash` strategy's construction (mask_hash.h).  Whoever holds the key can
 * check whether a subject was erased:
 *
 *     echo 42 | tributary hash --key-file K --context erasure.subject
 *
 * The file is created with `audit_log_mode` (0600); an existing file with
 * wider permissions is narrowed (fileio.h).  It is opened per line, so it
 * can be moved away for rotation at any time.
 */
#include "erasure_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "fileio.h"
#include "jsondoc.h"
#include "keys.h"
#include "mask_hash.h"

#define SUBJECT_CONTEXT "erasure.subject"

struct er_audit
{
	const char *path;			/* borrowed from the config */
	mode_t		mode;
	trib_mask_hash *subject;
};

er_audit *
er_audit_new(const trib_erasure_conf *c, char *errbuf, size_t errlen)
{
	er_audit   *a;
	trib_key   *key;
	mode_t		mode = TRIB_FILE_MODE_DEFAULT;

	if (c->audit_log_mode && !trib_fileio_mode_parse(c->audit_log_mode, &mode))
	{
		snprintf(errbuf, errlen, "erasure: audit_log_mode \"%s\" is not an octal mode such "
				 "as 0600", c->audit_log_mode);
		return NULL;
	}
	key = trib_key_parse(c->subject_key, c->subject_key ? strlen(c->subject_key) : 0,
						 (trib_key_format) c->subject_key_format, "the erasure subject_key",
						 errbuf, errlen);
	if (key == NULL)
		return NULL;
	a = trib_xcalloc(1, sizeof(*a));
	a->path = c->audit_log;
	a->mode = mode;
	a->subject = trib_mask_hash_new(key, SUBJECT_CONTEXT, strlen(SUBJECT_CONTEXT),
									TRIB_MASK_HASH_HEX, 0, errbuf, errlen);
	trib_key_free(key);
	if (a->subject == NULL)
	{
		free(a);
		return NULL;
	}
	return a;
}

void
er_audit_free(er_audit *a)
{
	if (a == NULL)
		return;
	trib_mask_hash_free(a->subject);
	free(a);
}

void
er_audit_begin(trib_strbuf *line, const char *event, const trib_position *pos)
{
	char		ts[32];
	char		id[64];
	time_t		now = time(NULL);
	struct tm	tm;

	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	trib_envelope_event_id(pos, id, sizeof(id));
	trib_strbuf_printf(line, "{\"ts\":\"%s\",\"event\":\"%s\",\"position\":\"%s\"", ts, event, id);
}

bool
er_audit_subject(er_audit *a, trib_strbuf *line, const char *subject, char *errbuf,
				 size_t errlen)
{
	char	   *mac;
	size_t		len;

	if (!trib_mask_hash_apply(a->subject, subject, strlen(subject), &mac, &len, errbuf, errlen))
		return false;
	trib_strbuf_printf(line, ",\"subject_hmac\":\"%s\"", mac);
	free(mac);
	return true;
}

bool
er_audit_write(er_audit *a, trib_strbuf *line, bool durable, char *errbuf, size_t errlen)
{
	int			fd = trib_fileio_open_private(a->path, O_WRONLY | O_APPEND, a->mode);
	bool		ok;

	if (fd < 0)
	{
		snprintf(errbuf, errlen, "erasure: cannot open the audit log %s: %m", a->path);
		return false;
	}
	trib_strbuf_adds(line, "}\n");
	ok = trib_fileio_write_all(fd, line->data, line->len) && (!durable || fsync(fd) == 0);
	if (!ok)
		snprintf(errbuf, errlen, "erasure: cannot write the audit log %s: %m", a->path);
	close(fd);
	return ok;
}
