/*
 * metrics.c: the metrics registry and its Prometheus text exposition.
 *
 * Layout.  The registry is a mutex and a list of families; a family is a
 * list of series.  A series' value is a double kept as its bit pattern in
 * an _Atomic uint64_t and updated with compare-and-swap, so updates never
 * lock; histograms keep one atomic count per bucket (not cumulative, one
 * increment per observation) and add them up when rendering.  The mutex
 * guards only the lists: registration, series creation and rendering.
 *
 * Exposition (https://prometheus.io/docs/instrumenting/exposition_formats/,
 * version 0.0.4): per family "# HELP name text" (backslash and newline
 * escaped), "# TYPE name counter|gauge|histogram", then one line per
 * series, `name{l1="v1",l2="v2"} value`, label values escaped (backslash,
 * double quote, newline).  A histogram writes name_bucket{...,le="b"} for
 * every bound and le="+Inf", cumulative, then name_sum and name_count.
 * Families without series write only their HELP and TYPE lines.
 *
 * The standard families (trib_std_metrics):
 *   tributary_source_events_total{source}      events read from a source
 *   tributary_sink_events_total{sink}          events written to a sink
 *   tributary_sink_acked_events_total{sink}    events a sink made durable
 *   tributary_errors_total{component}          errors, by component
 *   tributary_source_lag_bytes{source}         WAL bytes behind the server
 *   tributary_source_lag_seconds{source}       commit time to now
 *   tributary_checkpoint_lsn{source}           confirmed position (an LSN
 *                                              as a number; exact up to
 *                                              2^53, /status has the text)
 *   tributary_sink_acked_lsn{sink}             last acknowledged commit LSN
 *   tributary_queue_depth{queue}               events waiting in a queue
 *   tributary_commit_to_ack_seconds{sink}      source commit -> sink ack
 *   tributary_receipt_to_ack_seconds{sink}     the pipeline's receipt of the
 *                                              commit -> sink ack (the
 *                                              daemon's share of the above)
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct trib_metric
{
	trib_metric_family *fam;
	char	  **values;			/* fam->nlabels label values */
	_Atomic uint64_t bits;		/* the value (histogram: the sum) */
	_Atomic uint64_t count;		/* histogram: observations */
	_Atomic uint64_t *buckets;	/* histogram: per bound, not cumulative */
	trib_metric *next;
};

struct trib_metric_family
{
	trib_metrics *reg;
	char	   *name;
	char	   *help;
	trib_metric_type type;
	int			nlabels;
	char	   *labels[TRIB_METRICS_MAX_LABELS];
	double	   *bounds;
	size_t		nbounds;
	trib_metric *first;
	trib_metric *last;
	trib_metric_family *next;
};

struct trib_metrics
{
	pthread_mutex_t lock;
	trib_metric_family *first;
	trib_metric_family *last;
};

/*
 * Latency buckets (seconds): 1 ms steps up to 20 ms, where the latency
 * targets lie (p99 <= 10 ms at 1,000 commits/s, <= 25 ms at 10,000), so a
 * quantile read from them is exact to 1 ms there; coarser above.
 */
const double trib_metrics_latency_buckets[] = {
	0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01,
	0.011, 0.012, 0.013, 0.014, 0.015, 0.016, 0.017, 0.018, 0.019, 0.02,
	0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 2, 5
};
const size_t trib_metrics_latency_nbuckets =
	sizeof(trib_metrics_latency_buckets) / sizeof(trib_metrics_latency_buckets[0]);

/* The bits of a double and back (memcpy: no aliasing games). */
static uint64_t
d2u(double d)
{
	uint64_t	u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double
u2d(uint64_t u)
{
	double		d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

/* Atomically add v to the double stored in *bits. */
static void
atomic_add_double(_Atomic uint64_t *bits, double v)
{
	uint64_t	old = atomic_load_explicit(bits, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(bits, &old, d2u(u2d(old) + v),
												  memory_order_relaxed,
												  memory_order_relaxed))
		;
}

/* A new empty registry. */
trib_metrics *
trib_metrics_new(void)
{
	trib_metrics *reg = trib_xcalloc(1, sizeof(*reg));

	pthread_mutex_init(&reg->lock, NULL);
	return reg;
}

/* Free one series. */
static void
metric_free(trib_metric *m)
{
	int			i;

	for (i = 0; i < m->fam->nlabels; i++)
		free(m->values[i]);
	free(m->values);
	free(m->buckets);
	free(m);
}

/* Free one family and its series. */
static void
family_free(trib_metric_family *f)
{
	trib_metric *m = f->first;
	int			i;

	while (m)
	{
		trib_metric *next = m->next;

		metric_free(m);
		m = next;
	}
	for (i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->name);
	free(f->help);
	free(f->bounds);
	free(f);
}

/* Free the registry and everything in it. */
void
trib_metrics_free(trib_metrics *reg)
{
	trib_metric_family *f;

	if (reg == NULL)
		return;
	f = reg->first;
	while (f)
	{
		trib_metric_family *next = f->next;

		family_free(f);
		f = next;
	}
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

/* True when s matches [a-zA-Z_:][a-zA-Z0-9_:]* (colon only if allow_colon). */
static bool
valid_name(const char *s, size_t n, bool allow_colon)
{
	size_t		i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
	{
		char		c = s[i];
		bool		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			c == '_' || (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');

		if (!ok)
			return false;
	}
	return true;
}

/* Split "a,b" into label names; false on a bad or reserved name. */
static bool
parse_labels(const char *labels, trib_metric_type type,
			 char **out, int *nout)
{
	const char *p = labels ? labels : "";
	int			n = 0;

	while (*p)
	{
		const char *end = strchr(p, ',');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		int			i;

		if (n == TRIB_METRICS_MAX_LABELS || !valid_name(p, len, false) ||
			(len >= 2 && p[0] == '_' && p[1] == '_') ||
			(type == TRIB_METRIC_HISTOGRAM && len == 2 && memcmp(p, "le", 2) == 0))
			goto bad;
		out[n] = trib_xstrndup(p, len);
		for (i = 0; i < n; i++)
			if (strcmp(out[i], out[n]) == 0)
			{
				n++;
				goto bad;
			}
		n++;
		if (!end)
			break;
		p = end + 1;
		if (*p == '\0')
			goto bad;			/* trailing comma */
	}
	*nout = n;
	return true;
bad:
	while (n > 0)
		free(out[--n]);
	return false;
}

/* True when an existing family has exactly this shape. */
static bool
same_shape(const trib_metric_family *f, trib_metric_type type,
		   char **labels, int nlabels, const double *bounds, size_t nbounds)
{
	int			i;

	if (f->type != type || f->nlabels != nlabels || f->nbounds != nbounds)
		return false;
	for (i = 0; i < nlabels; i++)
		if (strcmp(f->labels[i], labels[i]) != 0)
			return false;
	return nbounds == 0 || memcmp(f->bounds, bounds, nbounds * sizeof(double)) == 0;
}

/* Register (or find) a family of any type. */
static trib_metric_family *
family_register(trib_metrics *reg, const char *name, const char *help,
				const char *labels, trib_metric_type type,
				const double *bounds, size_t nbounds)
{
	char	   *lab[TRIB_METRICS_MAX_LABELS];
	int			nlab = 0,
				i;
	trib_metric_family *f;

	if (!reg || !name || !valid_name(name, strlen(name), true) ||
		!parse_labels(labels, type, lab, &nlab))
		return NULL;
	pthread_mutex_lock(&reg->lock);
	for (f = reg->first; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			break;
	if (f)
	{
		if (!same_shape(f, type, lab, nlab, bounds, nbounds))
			f = NULL;
		pthread_mutex_unlock(&reg->lock);
		for (i = 0; i < nlab; i++)
			free(lab[i]);
		return f;
	}
	f = trib_xcalloc(1, sizeof(*f));
	f->reg = reg;
	f->name = trib_xstrdup(name);
	f->help = trib_xstrdup(help ? help : "");
	f->type = type;
	f->nlabels = nlab;
	memcpy(f->labels, lab, sizeof(char *) * (size_t) nlab);
	if (nbounds)
	{
		f->bounds = trib_xmalloc(nbounds * sizeof(double));
		memcpy(f->bounds, bounds, nbounds * sizeof(double));
		f->nbounds = nbounds;
	}
	if (reg->last)
		reg->last->next = f;
	else
		reg->first = f;
	reg->last = f;
	pthread_mutex_unlock(&reg->lock);
	return f;
}

/* Register a counter family. */
trib_metric_family *
trib_metrics_counter(trib_metrics *reg, const char *name, const char *help,
					 const char *labels)
{
	return family_register(reg, name, help, labels, TRIB_METRIC_COUNTER, NULL, 0);
}

/* Register a gauge family. */
trib_metric_family *
trib_metrics_gauge(trib_metrics *reg, const char *name, const char *help,
				   const char *labels)
{
	return family_register(reg, name, help, labels, TRIB_METRIC_GAUGE, NULL, 0);
}

/* Register a histogram family; bounds must be finite and increasing. */
trib_metric_family *
trib_metrics_histogram(trib_metrics *reg, const char *name, const char *help,
					   const char *labels, const double *bounds, size_t nbounds)
{
	size_t		i;

	if (nbounds == 0 || nbounds > TRIB_METRICS_MAX_BUCKETS || !bounds)
		return NULL;
	for (i = 0; i < nbounds; i++)
		if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
			return NULL;
	return family_register(reg, name, help, labels, TRIB_METRIC_HISTOGRAM,
						   bounds, nbounds);
}

/* The series with these label values; created when missing. */
trib_metric *
trib_metric_getv(trib_metric_family *fam, const char *const *values)
{
	trib_metric *m;
	int			i;

	if (!fam)
		return NULL;
	pthread_mutex_lock(&fam->reg->lock);
	for (m = fam->first; m; m = m->next)
	{
		for (i = 0; i < fam->nlabels; i++)
			if (strcmp(m->values[i], values[i] ? values[i] : "") != 0)
				break;
		if (i == fam->nlabels)
		{
			pthread_mutex_unlock(&fam->reg->lock);
			return m;
		}
	}
	m = trib_xcalloc(1, sizeof(*m));
	m->fam = fam;
	m->values = trib_xcalloc((size_t) fam->nlabels + 1, sizeof(char *));
	for (i = 0; i < fam->nlabels; i++)
		m->values[i] = trib_xstrdup(values[i] ? values[i] : "");
	if (fam->type == TRIB_METRIC_HISTOGRAM)
		m->buckets = trib_xcalloc(fam->nbounds, sizeof(*m->buckets));
	atomic_init(&m->bits, d2u(0.0));
	atomic_init(&m->count, 0);
	if (fam->last)
		fam->last->next = m;
	else
		fam->first = m;
	fam->last = m;
	pthread_mutex_unlock(&fam->reg->lock);
	return m;
}

/* The series for label values given as arguments. */
trib_metric *
trib_metric_get(trib_metric_family *fam,...)
{
	const char *values[TRIB_METRICS_MAX_LABELS];
	va_list		ap;
	int			i;

	if (!fam)
		return NULL;
	va_start(ap, fam);
	for (i = 0; i < fam->nlabels; i++)
		values[i] = va_arg(ap, const char *);
	va_end(ap);
	return trib_metric_getv(fam, values);
}

/* Add 1. */
void
trib_metric_inc(trib_metric *m)
{
	trib_metric_add(m, 1.0);
}

/* Add v (counters: only v >= 0). */
void
trib_metric_add(trib_metric *m, double v)
{
	if (!m || m->fam->type == TRIB_METRIC_HISTOGRAM)
		return;
	if (m->fam->type == TRIB_METRIC_COUNTER && !(v >= 0))
		return;
	atomic_add_double(&m->bits, v);
}

/* Set a gauge. */
void
trib_metric_set(trib_metric *m, double v)
{
	if (!m || m->fam->type != TRIB_METRIC_GAUGE)
		return;
	atomic_store_explicit(&m->bits, d2u(v), memory_order_relaxed);
}

/*
 * The first bucket whose bound is >= v, or nbounds (only +Inf): a binary
 * search, the bounds being increasing (checked at registration).  The
 * linear scan it replaces cost about 150 instructions per observation on
 * the latency histograms (two observations per transaction).
 */
static size_t
bucket_of(const trib_metric_family *f, double v)
{
	size_t		lo = 0,
				hi = f->nbounds;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (v <= f->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Record one observation in a histogram. */
void
trib_metric_observe(trib_metric *m, double v)
{
	size_t		i;

	if (!m || m->fam->type != TRIB_METRIC_HISTOGRAM || isnan(v))
		return;
	i = bucket_of(m->fam, v);
	if (i < m->fam->nbounds)
		atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
	atomic_add_double(&m->bits, v);
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

/* Record n observations of v in a histogram. */
void
trib_metric_observe_n(trib_metric *m, double v, uint64_t n)
{
	size_t		i;

	if (!m || m->fam->type != TRIB_METRIC_HISTOGRAM || isnan(v) || n == 0)
		return;
	i = bucket_of(m->fam, v);
	if (i < m->fam->nbounds)
		atomic_fetch_add_explicit(&m->buckets[i], n, memory_order_relaxed);
	atomic_add_double(&m->bits, v * (double) n);
	atomic_fetch_add_explicit(&m->count, n, memory_order_relaxed);
}

/* The value (histogram: the sum). */
double
trib_metric_value(const trib_metric *m)
{
	if (!m)
		return 0;
	return u2d(atomic_load_explicit(&((trib_metric *) m)->bits, memory_order_relaxed));
}

/* A histogram's number of observations. */
uint64_t
trib_metric_count(const trib_metric *m)
{
	if (!m || m->fam->type != TRIB_METRIC_HISTOGRAM)
		return 0;
	return atomic_load_explicit(&((trib_metric *) m)->count, memory_order_relaxed);
}

/* Append a double in the exposition's number syntax. */
void
trib_metrics_format_double(trib_strbuf *out, double v)
{
	char		buf[40];
	int			prec;

	if (isnan(v))
	{
		trib_strbuf_adds(out, "NaN");
		return;
	}
	if (isinf(v))
	{
		trib_strbuf_adds(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
	{
		trib_strbuf_printf(out, "%.0f", v == 0 ? 0.0 : v);
		return;
	}
	for (prec = 1; prec <= 17; prec++)
	{
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	trib_strbuf_adds(out, buf);
}

/* Append s with the given characters escaped (label values, help text). */
static void
add_escaped(trib_strbuf *out, const char *s, bool quote)
{
	for (; *s; s++)
	{
		if (*s == '\\')
			trib_strbuf_adds(out, "\\\\");
		else if (*s == '\n')
			trib_strbuf_adds(out, "\\n");
		else if (quote && *s == '"')
			trib_strbuf_adds(out, "\\\"");
		else
			trib_strbuf_addc(out, *s);
	}
}

/* Append {l1="v1",...[,le="b"]}; nothing when there are no labels. */
static void
add_labels(trib_strbuf *out, const trib_metric *m, const char *le)
{
	int			i;

	if (m->fam->nlabels == 0 && !le)
		return;
	trib_strbuf_addc(out, '{');
	for (i = 0; i < m->fam->nlabels; i++)
	{
		if (i > 0)
			trib_strbuf_addc(out, ',');
		trib_strbuf_adds(out, m->fam->labels[i]);
		trib_strbuf_adds(out, "=\"");
		add_escaped(out, m->values[i], true);
		trib_strbuf_addc(out, '"');
	}
	if (le)
	{
		if (m->fam->nlabels > 0)
			trib_strbuf_addc(out, ',');
		trib_strbuf_printf(out, "le=\"%s\"", le);
	}
	trib_strbuf_addc(out, '}');
}

/* Append the lines of one histogram series. */
static void
render_histogram(trib_strbuf *out, const trib_metric *m)
{
	const trib_metric_family *f = m->fam;
	uint64_t	count = atomic_load_explicit(&((trib_metric *) m)->count,
											 memory_order_relaxed);
	uint64_t	cum = 0;
	size_t		i;

	for (i = 0; i < f->nbounds; i++)
	{
		trib_strbuf le = {0};

		cum += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
		trib_metrics_format_double(&le, f->bounds[i]);
		trib_strbuf_printf(out, "%s_bucket", f->name);
		add_labels(out, m, le.data);
		trib_strbuf_printf(out, " %llu\n", (unsigned long long) cum);
		trib_strbuf_free(&le);
	}
	if (cum > count)
		count = cum;			/* an observation in flight: stay monotonic */
	trib_strbuf_printf(out, "%s_bucket", f->name);
	add_labels(out, m, "+Inf");
	trib_strbuf_printf(out, " %llu\n", (unsigned long long) count);
	trib_strbuf_printf(out, "%s_sum", f->name);
	add_labels(out, m, NULL);
	trib_strbuf_addc(out, ' ');
	trib_metrics_format_double(out, trib_metric_value(m));
	trib_strbuf_printf(out, "\n%s_count", f->name);
	add_labels(out, m, NULL);
	trib_strbuf_printf(out, " %llu\n", (unsigned long long) count);
}

/* Append the exposition of the whole registry. */
void
trib_metrics_render(trib_metrics *reg, trib_strbuf *out)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	trib_metric_family *f;

	pthread_mutex_lock(&reg->lock);
	for (f = reg->first; f; f = f->next)
	{
		trib_metric *m;

		trib_strbuf_printf(out, "# HELP %s ", f->name);
		add_escaped(out, f->help, false);
		trib_strbuf_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
		for (m = f->first; m; m = m->next)
		{
			if (f->type == TRIB_METRIC_HISTOGRAM)
			{
				render_histogram(out, m);
				continue;
			}
			trib_strbuf_adds(out, f->name);
			add_labels(out, m, NULL);
			trib_strbuf_addc(out, ' ');
			trib_metrics_format_double(out, trib_metric_value(m));
			trib_strbuf_addc(out, '\n');
		}
	}
	pthread_mutex_unlock(&reg->lock);
}

/* Register the standard families. */
bool
trib_metrics_register_std(trib_metrics *reg, trib_std_metrics *s)
{
	memset(s, 0, sizeof(*s));
	s->source_events = trib_metrics_counter(reg, "tributary_source_events_total",
											"Events read from a source.", "source");
	s->sink_events = trib_metrics_counter(reg, "tributary_sink_events_total",
										  "Events written to a sink.", "sink");
	s->sink_acked_events = trib_metrics_counter(reg, "tributary_sink_acked_events_total",
												"Events a sink acknowledged as durable.", "sink");
	s->errors = trib_metrics_counter(reg, "tributary_errors_total",
									 "Errors, by component.", "component");
	s->lag_bytes = trib_metrics_gauge(reg, "tributary_source_lag_bytes",
									  "WAL bytes between the server's position and the last event read.",
									  "source");
	s->lag_seconds = trib_metrics_gauge(reg, "tributary_source_lag_seconds",
										"Seconds between the last event's commit and its reading.",
										"source");
	s->checkpoint_lsn = trib_metrics_gauge(reg, "tributary_checkpoint_lsn",
										   "Position confirmed to the source, as a number.",
										   "source");
	s->sink_acked_lsn = trib_metrics_gauge(reg, "tributary_sink_acked_lsn",
										   "Commit LSN of the last event a sink acknowledged, as a number.",
										   "sink");
	s->queue_depth = trib_metrics_gauge(reg, "tributary_queue_depth",
										"Events waiting in a queue.", "queue");
	s->ack_latency = trib_metrics_histogram(reg, "tributary_commit_to_ack_seconds",
											"Seconds from a transaction's commit at the source to its acknowledgement by a sink.",
											"sink", trib_metrics_latency_buckets,
											trib_metrics_latency_nbuckets);
	s->receipt_latency = trib_metrics_histogram(reg, "tributary_receipt_to_ack_seconds",
												"Seconds from the pipeline's receipt of a transaction's commit to its acknowledgement by a sink.",
												"sink", trib_metrics_latency_buckets,
												trib_metrics_latency_nbuckets);
	return s->source_events && s->sink_events && s->sink_acked_events &&
		s->errors && s->lag_bytes && s->lag_seconds && s->checkpoint_lsn &&
		s->sink_acked_lsn && s->queue_depth && s->ack_latency && s->receipt_latency;
}
