/*
 * kafka_props.h: the Kafka sink's librdkafka properties, below both the
 * key table (kafka_conf.c) and the client (kafka_client.c): which names
 * hold secrets and how their values are kept out of texts, and the
 * settings the producer sets before the user's properties, and the
 * check of the user's properties without a network.
 *
 * Design.  The client builds the producer from these settings, and
 * redacts its logs and errors with them; this module includes neither
 * the client nor the key table, so that the table's finish function can
 * use it too without an include cycle.
 */
#ifndef TRIB_KAFKA_PROPS_H
#define TRIB_KAFKA_PROPS_H

#include <stdbool.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

/* True when `name` is a property whose value must never be shown. */
bool		trib_kafka_secret_property(const char *name);

/* Replace every occurrence in s of the value of a secret property of
 * props by "***" (a value of 1 or 2 bytes by as many '*'). */
void		kfk_props_redact(const trib_kvlist *props, char *s);

/* One librdkafka setting. */
typedef struct kfk_setting
{
	const char *name;
	const char *value;
} kfk_setting;

/* The producer's own settings, set in this order after the shared ones
 * (bootstrap.servers, client.id, log.queue) and before the
 * transactional id and the user's properties; ends with name == NULL. */
extern const kfk_setting kfk_producer_settings[];

/* A log callback that drops librdkafka's lines (scratch clients). */
void		kfk_props_quiet_log(const rd_kafka_t *rk, int level, const char *fac,
								const char *buf);

/* A problem kfk_props_check found: prop is the property librdkafka
 * refused, or NULL when it refused the configuration as a whole (a check
 * across properties); msg is librdkafka's text, secrets redacted. */
typedef void (*kfk_props_problem_fn) (void *arg, const char *prop, const char *msg);

/*
 * Build the producer's configuration as the sink does (kfk_producer_settings,
 * transactional_id unless NULL, then props in order) on a scratch
 * rd_kafka_conf_t, without a network: each property librdkafka refuses
 * is passed to report; when none is, a client with no brokers is made
 * and destroyed, and its refusal (librdkafka's checks across
 * properties) is passed with prop NULL.  Returns the number of problems
 * reported (0: accepted).
 */
int			kfk_props_check(const trib_kvlist *props, const char *transactional_id,
							kfk_props_problem_fn report, void *arg);

#endif							/* TRIB_KAFKA_PROPS_H */
