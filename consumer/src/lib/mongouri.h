/*
 * mongouri.h: the check of a MongoDB connection string that the mongodb
 * source's and sink's key tables share (their `uri` rows).
 *
 * libmongoc parses it (never a hand-written parser); its password is
 * registered as a secret of the log (log.h), so that no later message
 * shows it.
 */
#ifndef TRIB_MONGOURI_H
#define TRIB_MONGOURI_H

#include <stdbool.h>
#include <stddef.h>

/* A URI libmongoc accepts (a ck_check_fn): false and a message saying
 * what is accepted otherwise. */
bool		trib_mongo_uri_check(const char *value, char *msg, size_t msglen);

#endif							/* TRIB_MONGOURI_H */
