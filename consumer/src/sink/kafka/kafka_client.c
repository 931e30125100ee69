/*
 * kafka_client.c: the Kafka sink's librdkafka client (see sink_kafka_int.h):
 * its configuration, its callbacks, and its logs and errors.
 *
 * Configuration.  Our settings first (kafka_props.c: idempotence,
 * acks=all, the Java client's partitioner, linger, queue size; then the
 * transactional id), then the user's properties, so that theirs win; a
 * property that weakens the guarantees is logged.
 *
 * Callbacks.  Delivery reports feed the ack tracker in at-least-once mode
 * (the write number + 1 is the message's opaque) and fail the sink on a
 * permanent error; in transactional mode they only mark the open
 * transaction failed, since an abort purges records on purpose.  Fatal
 * client errors fail the sink; the rest are logged, librdkafka retries.
 *
 * Logs from librdkafka are routed through the main queue (log.queue), so
 * the log callback runs on the caller's thread, inside poll, and every
 * line, like every error text, goes through redact() first
 * (kafka_props.c): the value of a property whose name looks secret never
 * leaves the sink.
 */
#include "sink_kafka_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errf.h"

/* Replace every occurrence of a secret property's value in s by "***". */
static void
redact(const trib_kafka *k, char *s)
{
	kfk_props_redact(&k->c->properties, s);
}

/* Log through the caller's function, redacted. */
void
kfk_log(trib_kafka *k, int level, const char *fmt,...)
{
	char		msg[1024];
	va_list		ap;

	if (k->t.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	redact(k, msg);
	k->t.log(k->t.log_arg, level, msg);
}

/* Fill errbuf (redacted). */
void
kfk_err(trib_kafka *k, char *errbuf, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	trib_verrf(errbuf, errlen, fmt, ap);
	va_end(ap);
	if (k)
		redact(k, errbuf);
}

/* Make the sink fail for good with this message (first one wins). */
void
kfk_fail(trib_kafka *k, const char *fmt,...)
{
	va_list		ap;

	if (k->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(k->err, sizeof(k->err), fmt, ap);
	va_end(ap);
	redact(k, k->err);
	k->failed = true;
	kfk_log(k, 3, "%s", k->err);
}

/* Copy the sticky error out. */
bool
kfk_failed_out(trib_kafka *k, char *errbuf, size_t errlen)
{
	if (errlen)
		snprintf(errbuf, errlen, "%s", k->err);
	return false;
}

/* False with "kafka: sink not open" when the sink has no producer. */
bool
kfk_is_open(trib_kafka *k, char *errbuf, size_t errlen)
{
	if (k != NULL && k->rk != NULL)
		return true;
	kfk_err(k, errbuf, errlen, "kafka: sink not open");
	return false;
}

/* An rd_kafka_error_t to errbuf; destroys it. */
void
kfk_error_out(trib_kafka *k, rd_kafka_error_t *error, const char *what,
		   char *errbuf, size_t errlen)
{
	kfk_err(k, errbuf, errlen, "kafka: %s: %s (%s)", what,
		 rd_kafka_error_string(error), rd_kafka_error_name(error));
	rd_kafka_error_destroy(error);
}

/* Delivery report: count it, and in at-least-once mode feed the tracker. */
static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	trib_kafka *k = opaque;
	uint64_t	tag = (uint64_t) (uintptr_t) m->_private;

	(void) rk;
	if (m->err)
	{
		k->st.failed++;
		if (k->c->transactional)
		{
			/* only the open transaction's failures count: an abort
			 * purges the records of its transaction on purpose */
			kfk_log(k, 7, "kafka: delivery to %s [%d] in a transaction: %s",
				 rd_kafka_topic_name(m->rkt), (int) m->partition,
				 rd_kafka_err2str(m->err));
			if (tag == k->txn_gen && k->in_txn && !k->txn_failed)
			{
				k->txn_failed = true;
				snprintf(k->txn_err, sizeof(k->txn_err), "delivery to %s [%d]: %s",
						 rd_kafka_topic_name(m->rkt), (int) m->partition,
						 rd_kafka_err2str(m->err));
			}
			return;
		}
		kfk_fail(k, "kafka: delivery to %s [%d] failed: %s (%s)",
			 rd_kafka_topic_name(m->rkt), (int) m->partition,
			 rd_kafka_err2str(m->err), rd_kafka_err2name(m->err));
		return;
	}
	k->st.delivered++;
	if (tag != 0 && k->trk)
		trib_ack_tracker_done(k->trk, tag - 1);
}

/* Client errors: fatal ones fail the sink, the rest are logged (librdkafka
 * retries them by itself). */
static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	trib_kafka *k = opaque;

	if (err == RD_KAFKA_RESP_ERR__FATAL)
	{
		char		fatal[512];
		rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));

		kfk_fail(k, "kafka: fatal error: %s (%s)", fatal, rd_kafka_err2name(orig));
		return;
	}
	kfk_log(k, 4, "kafka: %s (%s)", reason,
		 rd_kafka_err2name((rd_kafka_resp_err_t) err));
}

/* librdkafka's own log lines (served by poll, on our thread). */
static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	trib_kafka *k = rd_kafka_opaque(rk);

	if (k)
		kfk_log(k, level, "kafka: %s: %s", fac, buf);
}

/* Ack when the watermark moved (at-least-once mode). */
void
kfk_maybe_ack(trib_kafka *k)
{
	const trib_position *pos;

	if (k->trk == NULL || !trib_ack_tracker_advance(k->trk, &pos))
		return;
	k->st.acks++;
	if (k->sink->ack)
		k->sink->ack(k->sink, pos, k->sink->ack_arg);
}

/* Set one property; errors never show a secret value. */
bool
kfk_conf_set(trib_kafka *k, rd_kafka_conf_t *conf, const char *name,
		 const char *value, char *errbuf, size_t errlen)
{
	char		err[512];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) == RD_KAFKA_CONF_OK)
		return true;
	if (trib_kafka_secret_property(name))
		kfk_err(k, errbuf, errlen,
			 "kafka: property \"%s\": rejected by librdkafka (value not shown)",
			 name);
	else
		kfk_err(k, errbuf, errlen, "kafka: property \"%s\": %s", name, err);
	return false;
}

/* The configuration shared by producer and checkpoint reader. */
rd_kafka_conf_t *
kfk_base_conf(trib_kafka *k, const char *bootstrap, char *errbuf, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (!kfk_conf_set(k, conf, "bootstrap.servers", bootstrap, errbuf, errlen) ||
		!kfk_conf_set(k, conf, "client.id", "tributary", errbuf, errlen) ||
		!kfk_conf_set(k, conf, "log.queue", "true", errbuf, errlen))
	{
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	return conf;
}

/* Apply the user's properties, after ours, so that they win. */
bool
kfk_user_conf(trib_kafka *k, rd_kafka_conf_t *conf, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < k->c->properties.count; i++)
	{
		const trib_kv *p = &k->c->properties.items[i];

		if (p->key == NULL || p->value == NULL)
		{
			kfk_err(k, errbuf, errlen, "kafka: property %zu has no name or value", i);
			return false;
		}
		if (!kfk_conf_set(k, conf, p->key, p->value, errbuf, errlen))
			return false;
		if ((strcmp(p->key, "enable.idempotence") == 0 &&
			 strcmp(p->value, "true") != 0) ||
			(strcmp(p->key, "acks") == 0 && strcmp(p->value, "all") != 0 &&
			 strcmp(p->value, "-1") != 0))
			kfk_log(k, 4, "kafka: %s=%s weakens the sink's guarantees "
				 "(retries may duplicate or reorder records, acked records "
				 "may be lost)", p->key, p->value);
	}
	return true;
}

/* The producer's configuration: our settings, then the user's. */
rd_kafka_conf_t *
kfk_producer_conf(trib_kafka *k, const char *bootstrap, char *errbuf, size_t errlen)
{
	rd_kafka_conf_t *kc = kfk_base_conf(k, bootstrap, errbuf, errlen);

	if (kc == NULL)
		return NULL;
	for (const kfk_setting *s = kfk_producer_settings; s->name; s++)
		if (!kfk_conf_set(k, kc, s->name, s->value, errbuf, errlen))
			goto fail;
	if ((k->c->transactional &&
		 !kfk_conf_set(k, kc, "transactional.id", k->c->transactional_id,
					   errbuf, errlen)) ||
		!kfk_user_conf(k, kc, errbuf, errlen))
		goto fail;
	rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
	return kc;
fail:
	rd_kafka_conf_destroy(kc);
	return NULL;
}
