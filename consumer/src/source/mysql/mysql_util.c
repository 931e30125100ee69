/*
 * mysql_util.c: error formatting and identifier quoting for source/mysql/
 * (mysql_int.h).
 *
 * Messages go into the caller's errbuf, librdkafka-style; a caller that
 * adds context to a message a callee wrote uses trib_my_fail_prefix(),
 * which never formats errbuf into itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mysql_int.h"

void
trib_my_quote_ident(trib_strbuf *b, const char *name)
{
	trib_strbuf_addc(b, '`');
	for (const char *p = name; *p; p++)
	{
		if (*p == '`')
			trib_strbuf_addc(b, '`');
		trib_strbuf_addc(b, *p);
	}
	trib_strbuf_addc(b, '`');
}

bool
trib_my_fail_prefix(char *errbuf, size_t errlen, const char *fmt,...)
{
	char		inner[1024],
				prefix[512];
	va_list		ap;

	if (errbuf == NULL || errlen == 0)
		return false;
	snprintf(inner, sizeof(inner), "%s", errbuf);
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(errbuf, errlen, "%s: %s", prefix, inner);
	return false;
}
