/*
 * sink.c: what every sink does alike around its operations (sink.h).
 *
 * Design.  A sink that meets an error it cannot retry fails for good: it
 * keeps the message in a trib_sink_fault, and every later write, flush
 * and poll reports it, so an idle pipeline stops too.  Before open, or
 * after a failed open, the sink's state is NULL and each operation says
 * the sink is not open.  These few lines were written in each sink; they
 * are written here once.
 */
#include "sink.h"

#include <stdarg.h>
#include <stdio.h>

/* See sink.h. */
bool
trib_sink_no_conf(const char *type, char *errbuf, size_t errlen)
{
	snprintf(errbuf, errlen, "%s sink: no configuration", type);
	return false;
}

/* See sink.h. */
bool
trib_sink_failed_out(const trib_sink_fault *fault, char *errbuf, size_t errlen)
{
	snprintf(errbuf, errlen, "%s", fault->msg);
	return false;
}

/* See sink.h. */
bool
trib_sink_usable(const trib_sink_fault *fault, const char *what,
				 char *errbuf, size_t errlen)
{
	if (fault == NULL)
	{
		snprintf(errbuf, errlen, "%s not open", what);
		return false;
	}
	return fault->failed ? trib_sink_failed_out(fault, errbuf, errlen) : true;
}

/* See sink.h. */
bool
trib_sink_fail(trib_sink_fault *fault, char *errbuf, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(fault->msg, sizeof(fault->msg), fmt, ap);
	va_end(ap);
	fault->failed = true;
	return trib_sink_failed_out(fault, errbuf, errlen);
}

/* See sink.h. */
bool
trib_sink_report_durable(bool has_durable, const trib_position *durable, trib_position *out)
{
	if (!has_durable)
		return false;
	*out = *durable;			/* opaque borrowed: the sink keeps it */
	return true;
}
