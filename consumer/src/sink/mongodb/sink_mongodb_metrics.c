/*
 * sink_mongodb_metrics.c: the MongoDB sink's series in /metrics
 * (docs/MONGODB.md, "Metrics"), labelled with the sink's name:
 *
 *   tributary_mongodb_sink_changes_total{sink,result}  written (accepted
 *       for a batch), skipped_stored (at or before the stored position),
 *       skipped_no_key (no key to address a document by)
 *   tributary_mongodb_sink_batches_total{sink,result}  applied, replayed
 *       (the stored position already covered it: another writer or an
 *       earlier run)
 *   tributary_mongodb_sink_batch_seconds{sink}  time to apply a batch
 *       with its position (a histogram)
 *
 * The same counts stay in trib_mongosink_stats for the unit tests.
 */
#include "sink_mongodb_int.h"

#include "metrics.h"

void
mgs_metrics_init(mgs_sink *s, trib_metrics *reg)
{
	static const double bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
	trib_metric_family *ch,
			   *ba;

	if (reg == NULL)
		return;
	ch = trib_metrics_counter(reg, "tributary_mongodb_sink_changes_total",
							  "Changes a MongoDB sink took: written (into a batch), "
							  "skipped_stored (already covered by its stored position), "
							  "skipped_no_key (no key to address a document by).", "sink,result");
	ba = trib_metrics_counter(reg, "tributary_mongodb_sink_batches_total",
							  "Batches a MongoDB sink applied, or found already covered by "
							  "its stored position (replayed).", "sink,result");
	s->m[MGS_EVENTS] = trib_metric_get(ch, s->sink_name, "written");
	s->m[MGS_SKIPPED] = trib_metric_get(ch, s->sink_name, "skipped_stored");
	s->m[MGS_NO_KEY] = trib_metric_get(ch, s->sink_name, "skipped_no_key");
	s->m[MGS_BATCHES] = trib_metric_get(ba, s->sink_name, "applied");
	s->m[MGS_REPLAYS] = trib_metric_get(ba, s->sink_name, "replayed");
	s->m_batch_seconds = trib_metric_get(trib_metrics_histogram(reg,
																"tributary_mongodb_sink_batch_seconds",
																"Time a MongoDB sink took to apply a "
																"batch with its position.", "sink",
																bounds,
																sizeof(bounds) / sizeof(bounds[0])),
										 s->sink_name);
}

void
mgs_count(mgs_sink *s, mgs_counter c)
{
	uint64_t   *f[] = {&s->stats.events, &s->stats.skipped, &s->stats.skipped_no_key,
	&s->stats.batches, &s->stats.replays};

	(*f[c])++;
	trib_metric_inc(s->m[c]);	/* NULL: not registered */
}

void
mgs_observe_batch(mgs_sink *s, double seconds)
{
	trib_metric_observe(s->m_batch_seconds, seconds);
}
