/*
 * sink_null.c: the null sink (see sink_null.h): its operations, its key
 * table and its registration.
 */
#include "sink_null.h"

#include <stddef.h>

#include "check_report.h"
#include "config_keys.h"

/* Ready at once: there is nothing to connect to. */
static bool
null_open(trib_sink *sink, const struct trib_plugin_conf *conf, char *errbuf, size_t errlen)
{
	(void) conf;
	(void) errbuf;
	(void) errlen;
	sink->ops = &trib_sink_null_ops;
	sink->state = NULL;
	return true;
}

/* Drop the event; everything up to it is as durable as it will ever be. */
static bool
null_write(trib_sink *sink, const trib_event *ev, char *errbuf, size_t errlen)
{
	(void) errbuf;
	(void) errlen;
	if (sink->ack != NULL)
		sink->ack(sink, &ev->pos, sink->ack_arg);
	return true;
}

/* Nothing is ever pending. */
static bool
null_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	(void) sink;
	(void) timeout_ms;
	(void) errbuf;
	(void) errlen;
	return true;
}

/* Nothing to close. */
static void
null_close(trib_sink *sink)
{
	sink->state = NULL;
}

/* `tributary check`: nothing to reach. */
static void
null_check(const struct trib_plugin_conf *conf, trib_check_report *rep)
{
	(void) conf;
	trib_check_report_say(rep, "  discards every event: nothing to reach");
}

const trib_sink_ops trib_sink_null_ops = {
	.type = "null",
	.open = null_open,
	.write = null_write,
	.flush = null_flush,
	.poll = null_flush,
	.close = null_close,
	.check = null_check,
};

static const ck_key null_sink_keys[] = {
	CK_TYPE_ROW("`\"null\"`", "the kind of sink, quoted: a bare `null` is YAML's null"),
	CK_END_ROW
};

static const ck_section null_sink_section = {
	.doc_title = "`sinks.<name>` with `type: \"null\"`",
	.what = "a null sink",
	.keys = null_sink_keys,
	.doc_intro = "Discards every event and acknowledges it at once; it has no other "
	"settings. Useful to measure the source and the transforms alone: "
	"`sinks: {nothing: {type: \"null\"}}`.",
};

const trib_plugin trib_sink_null = {
	.type = "null",
	.sink_ops = &trib_sink_null_ops,
	.section = &null_sink_section,
};
