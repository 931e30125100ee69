/*
 * metrics.h: a small, thread-safe registry of counters, gauges and
 * histograms, rendered in the Prometheus text exposition format 0.0.4.
 *
 * Design.  A registry holds families (one metric name, its help text, its
 * type and its label names) in registration order; a family holds series
 * (one per combination of label values) in creation order, so the
 * exposition is deterministic and a golden test can compare it byte for
 * byte.  Looking a series up takes the registry's mutex; updating one does
 * not: values are atomics, so the pipeline thread looks its series up once
 * (at start-up) and then updates them lock-free while the HTTP thread
 * renders.  A rendering is consistent per value, not across values (as in
 * every Prometheus client library).
 *
 *     trib_metric_family *f = trib_metrics_counter(reg,
 *         "tributary_sink_events_total", "Events written to a sink.", "sink");
 *     trib_metric *m = trib_metric_get(f, "kafka1");
 *     trib_metric_inc(m);
 *
 * Label names are given as one comma-separated string ("source,table"; ""
 * or NULL for none).  Registering a name twice with the same type, labels
 * (and buckets) returns the existing family; with anything different it
 * fails (NULL).  Series pointers stay valid until trib_metrics_free().
 *
 * Values are doubles (the exposition's type).  Counters only go up: a
 * negative or NaN add is ignored.  Histograms take observations in the
 * unit of their bucket bounds and keep cumulative bucket counts, _sum and
 * _count.
 *
 * trib_std_metrics is the set every pipeline exports (names in metrics.c's
 * header comment); the pipeline registers it once and updates it.
 *
 * Ownership: the registry owns its families and series; trib_metrics_free()
 * releases everything.  Thread safety: every function may be called from
 * any thread, except trib_metrics_free() (no other call may run).
 */
#ifndef TRIB_METRICS_H
#define TRIB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* The Content-Type of the text exposition format. */
#define TRIB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* At most this many labels per family, and buckets per histogram. */
#define TRIB_METRICS_MAX_LABELS 8
#define TRIB_METRICS_MAX_BUCKETS 64

typedef enum trib_metric_type
{
	TRIB_METRIC_COUNTER,
	TRIB_METRIC_GAUGE,
	TRIB_METRIC_HISTOGRAM
} trib_metric_type;

typedef struct trib_metrics trib_metrics;
typedef struct trib_metric_family trib_metric_family;
typedef struct trib_metric trib_metric;

/* A new empty registry; never NULL (aborts on out-of-memory). */
trib_metrics *trib_metrics_new(void);

/* Free a registry, its families and series; NULL is allowed. */
void		trib_metrics_free(trib_metrics *reg);

/*
 * Register a family.  `name` must match [a-zA-Z_:][a-zA-Z0-9_:]*, each
 * label [a-zA-Z_][a-zA-Z0-9_]* not starting with "__" (and not "le" for a
 * histogram).  Returns NULL on a bad name, a bad label list, or a clash
 * with an existing family of the same name.
 */
trib_metric_family *trib_metrics_counter(trib_metrics *reg, const char *name,
										 const char *help, const char *labels);
trib_metric_family *trib_metrics_gauge(trib_metrics *reg, const char *name,
									   const char *help, const char *labels);

/* A histogram with `nbounds` finite, strictly increasing upper bounds (the
 * +Inf bucket is implicit). */
trib_metric_family *trib_metrics_histogram(trib_metrics *reg, const char *name,
										   const char *help, const char *labels,
										   const double *bounds, size_t nbounds);

/*
 * The series of a family for the given label values (as many as the family
 * has labels; none for a family without labels), created at zero on first
 * use.  Never NULL for a valid family; NULL only when `fam` is NULL.
 * Values may be any UTF-8 text; they are escaped on output.
 */
trib_metric *trib_metric_get(trib_metric_family *fam,...);
trib_metric *trib_metric_getv(trib_metric_family *fam, const char *const *values);

/* Counter or gauge: add 1 / add v.  Counters ignore v < 0 and NaN. */
void		trib_metric_inc(trib_metric *m);
void		trib_metric_add(trib_metric *m, double v);

/* Gauge: set the value (a counter ignores it). */
void		trib_metric_set(trib_metric *m, double v);

/* Histogram: record one observation (others ignore it). */
void		trib_metric_observe(trib_metric *m, double v);

/* n observations of the same value v at once: its bucket found once, the
 * sum grown by v * n (the pipeline's latency histograms, where several
 * transactions become durable in the same millisecond). */
void		trib_metric_observe_n(trib_metric *m, double v, uint64_t n);

/* Counter or gauge value; for a histogram, its _sum.  0 for NULL. */
double		trib_metric_value(const trib_metric *m);

/* Histogram: its _count.  0 for others and NULL. */
uint64_t	trib_metric_count(const trib_metric *m);

/* Append the exposition of every family to `out`. */
void		trib_metrics_render(trib_metrics *reg, trib_strbuf *out);

/* Append `v` as the exposition writes numbers ("1", "0.25", "NaN",
 * "+Inf", "-Inf", shortest text that reads back as the same double). */
void		trib_metrics_format_double(trib_strbuf *out, double v);

/*
 * The metrics every pipeline exports.  Latency buckets are in seconds
 * (Prometheus' base unit): 1 ms, 2, 5, 10, 20, 50, 100, 200, 500 ms, 1 s,
 * 2 s, 5 s.
 */
typedef struct trib_std_metrics
{
	trib_metric_family *source_events;	/* counter {source} */
	trib_metric_family *sink_events;	/* counter {sink} */
	trib_metric_family *sink_acked_events;	/* counter {sink} */
	trib_metric_family *errors;		/* counter {component} */
	trib_metric_family *lag_bytes;	/* gauge {source} */
	trib_metric_family *lag_seconds;	/* gauge {source} */
	trib_metric_family *checkpoint_lsn; /* gauge {source} */
	trib_metric_family *sink_acked_lsn; /* gauge {sink} */
	trib_metric_family *queue_depth;	/* gauge {queue} */
	trib_metric_family *ack_latency;	/* histogram {sink}, seconds */
	trib_metric_family *receipt_latency;	/* histogram {sink}, seconds */
} trib_std_metrics;

/* Register the standard families in `reg`; false only on a clash with an
 * existing family of the same name but another shape. */
bool		trib_metrics_register_std(trib_metrics *reg, trib_std_metrics *out);

/* The latency buckets of trib_std_metrics, in seconds. */
extern const double trib_metrics_latency_buckets[];
extern const size_t trib_metrics_latency_nbuckets;

#endif							/* TRIB_METRICS_H */
