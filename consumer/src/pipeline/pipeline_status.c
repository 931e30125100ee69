/*
 * pipeline_status.c: what the pipeline shows of itself: the gauges of
 * /metrics (pl_update_gauges(), on an idle loop turn or every GAUGE_MS;
 * pl_update_source_metrics(), every turn), the /status document
 * (trib_pipeline_status_json) and the HTTP server's endpoints (/health,
 * /metrics, /status, and the control and registry APIs when configured).
 * The HTTP thread reads only what these functions publish: the metrics
 * registry and the status text built on the loop's thread.
 */
#include "pipeline_int.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "jsondoc.h"
#include "log.h"
#include "strbuf.h"

/*
 * The sources' own metrics (source.h's update_metrics), every loop turn:
 * a source may ask its server a question there and take the answer on a
 * later turn (the MySQL binlog lag in bytes, mysql_source_ops.c), and
 * that answer must be taken while what it measured is still true.
 */
void
pl_update_source_metrics(trib_pipeline *p)
{
	for (size_t c = 0; c < p->nsrcs; c++)
		p->srcs[c].src.ops->update_metrics(&p->srcs[c].src);
}

/* Refresh the pipeline's gauges of /metrics (the sources' own are
 * pl_update_source_metrics()'s). */
void
pl_update_gauges(trib_pipeline *p)
{
	for (size_t c = 0; c < p->nsrcs; c++)
	{
		pl_src_slot *ss = &p->srcs[c];
		bool		has_saved = p->merge ? ss->has_saved : p->has_saved;
		const trib_position *saved = p->merge ? &ss->saved : &p->saved;
		double		lag_s = 0;

		/* its oldest transaction not yet confirmed (a bounded look) */
		for (size_t i = 0; i < p->qlen && i < 4096; i++)
		{
			const pl_pending_tx *tx = &p->queue[(p->qhead + i) % p->qcap];

			if (tx->src != c)
				continue;
			if (tx->ts_ms > 0)
				lag_s = (double) (trib_clock_wall_ms() - tx->ts_ms) / 1000.0;
			break;
		}
		/* held by a pause: nothing is read, so it is behind by at least
		 * the time since (pause.h) */
		if ((double) pl_held_ms(p, c) / 1000.0 > lag_s)
			lag_s = (double) pl_held_ms(p, c) / 1000.0;
		trib_metric_set(trib_metric_get(p->m.lag_seconds, ss->src.name), lag_s > 0 ? lag_s : 0);
		trib_metric_set(trib_metric_get(p->m.checkpoint_lsn, ss->src.name),
						has_saved ? ss->src.ops->gauge(saved) : 0);
	}
	trib_metric_set(trib_metric_get(p->m.queue_depth, "transactions"), (double) p->qlen);
	trib_pause_update_gauges(p->pause);
	for (size_t i = 0; i < p->nsinks; i++)
	{
		trib_metric_set(p->sinks[i].m_held_events,
						(double) trib_sink_buffer_events(p->sinks[i].held));
		trib_metric_set(p->sinks[i].m_held_bytes,
						(double) trib_sink_buffer_bytes(p->sinks[i].held));
	}
	trib_metric_set(p->m_pressed, p->pressed_since != 0 ? 1 : 0);
}

static bool
http_ready(void *arg, char *reason, size_t len)
{
	trib_pipeline *p = arg;

	if (strcmp(p->state, "streaming") == 0)
		return true;
	snprintf(reason, len, "pipeline is %s", p->state);
	return false;
}

static char *
http_status(void *arg)
{
	return trib_pipeline_status_json(arg);
}

/* POST /api/v1/reload (control.h): a reload request. */
static void
http_reload(void *arg, trib_reload_result *res)
{
	trib_pipeline *p = arg;

	trib_reload_request(p->reload, res);
}

/* Start /health, /metrics and /status when the config asks for them. */
bool
pl_start_http(trib_pipeline *p, char *errbuf, size_t errlen)
{
	trib_http_opts o;

	if (!trib_regapi_setup(p->cfg, &p->regapi, errbuf, errlen))
		return false;
	if (!p->cfg->http.enabled)
		return true;
	trib_http_opts_init(&o);
	if (p->regapi != NULL)
		trib_http_opts_add_route(&o, trib_regapi_handle, trib_regapi_request_done, p->regapi);
	p->control = trib_control_new(p->cfg, http_status, p);
	if ((p->quality = trib_quality_api_new(p->cfg, errbuf, errlen)) == NULL)
		return false;
	trib_control_set_pause(p->control, trib_pause_request, p->pause);
	trib_control_set_quality(p->control, trib_quality_api_check, p->quality);
	if (p->reload != NULL)
		trib_control_on_reload(p->control, http_reload, p);
	trib_http_opts_add_route(&o, trib_control_handle, trib_control_request_done, p->control);
	o.host = p->cfg->http.host;
	o.port = trib_reload_port(p->reload, p->cfg->http.port);
	o.tls_cert_file = p->cfg->http.tls_cert_file;
	o.tls_key_file = p->cfg->http.tls_key_file;
	o.metrics = p->metrics;
	o.ready = http_ready;
	o.status = http_status;
	o.arg = p;
	p->http = trib_http_start(&o, errbuf, errlen);
	if (p->http == NULL)
		return false;
	if (p->regapi != NULL)
		trib_regapi_listening_on(p->regapi, trib_http_address(p->http));
	trib_reload_note_port(p->reload, trib_http_port(p->http));
	trib_control_listening_on(p->control, trib_http_address(p->http));
	tlog_info("http", "serving /health, /metrics and /status on %s port %d",
			  trib_http_address(p->http), trib_http_port(p->http));
	return true;
}

/* One "name":"value" member of the status object (the value quoted and
 * escaped: names come from the config and may hold any character). */
static void
status_str(trib_strbuf *b, const char *sep, const char *name, const char *value)
{
	trib_strbuf_printf(b, "%s\"%s\":", sep, name);
	trib_jdoc_quote(b, value);
}

/* ,"paused":B,"paused_since":"ISO"|null of source (sink false) or sink i. */
static void
status_paused(trib_strbuf *b, const trib_pipeline *p, bool sink, size_t i)
{
	long long	since = trib_pause_since(p->pause, sink, i);
	char		iso[40];

	trib_strbuf_printf(b, ",\"paused\":%s,\"paused_since\":", since ? "true" : "false");
	if (since == 0)
		trib_strbuf_adds(b, "null");
	else
		trib_jdoc_quote(b, trib_clock_iso8601(since, iso, sizeof(iso)));
}

char *
trib_pipeline_status_json(trib_pipeline *p)
{
	trib_strbuf b = {0};
	char		ck[TRIB_EVENTID_LEN],
				conf[TRIB_EVENTID_LEN];
	trib_position confirmed;
	size_t		i;

	/* the source's ids (PostgreSQL: "L:S", or "L" for all of the
	 * transaction committed at L; what the slot was confirmed to) */
	p->srcs[0].src.ops->format_id(p->merge ? &p->srcs[0].saved : &p->saved, ck, sizeof(ck));
	p->srcs[0].src.ops->confirmed(&p->srcs[0].src, &confirmed);
	p->srcs[0].src.ops->format_id(&confirmed, conf, sizeof(conf));
	status_str(&b, "{", "pipeline", p->cfg->pipeline);
	status_str(&b, ",", "state", p->state);
	trib_strbuf_printf(&b, ",\"events_in\":%llu", (unsigned long long) p->events_in);
	status_str(&b, ",", "checkpoint", ck);
	status_str(&b, ",", "confirmed_lsn", conf);
	trib_strbuf_adds(&b, ",\"sinks\":[");
	for (i = 0; i < p->nsinks; i++)
	{
		char		a[TRIB_EVENTID_LEN];

		p->pops->format_id(&p->sinks[i].acked, a, sizeof(a));
		status_str(&b, i ? ",{" : "{", "name", p->cfg->sinks[i].name);
		trib_strbuf_printf(&b, ",\"written\":%llu", (unsigned long long) p->sinks[i].written);
		status_str(&b, ",", "acked", a);
		status_paused(&b, p, true, i);
		trib_strbuf_printf(&b, ",\"buffered_events\":%llu,\"buffered_bytes\":%llu}",
						   (unsigned long long) trib_sink_buffer_events(p->sinks[i].held),
						   (unsigned long long) trib_sink_buffer_bytes(p->sinks[i].held));
	}
	trib_strbuf_printf(&b, "],\"backpressure\":%s", p->pressed_since ? "true" : "false");
	/* each source's pause; several: its checkpoint and confirmed position */
	for (i = 0; i < p->nsrcs; i++)
	{
		const trib_source *src = &p->srcs[i].src;

		status_str(&b, i ? ",{" : ",\"sources\":[{", "name", p->cfg->sources[i].name);
		status_paused(&b, p, false, i);
		if (p->merge != NULL)
		{
			src->ops->format_id(&p->srcs[i].saved, ck, sizeof(ck));
			src->ops->confirmed(src, &confirmed);
			src->ops->format_id(&confirmed, conf, sizeof(conf));
			status_str(&b, ",", "checkpoint", ck);
			status_str(&b, ",", "confirmed", conf);
		}
		trib_strbuf_addc(&b, '}');
	}
	trib_strbuf_adds(&b, "]}");
	return trib_strbuf_finish(&b);
}
