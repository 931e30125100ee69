/*
 * mongouri.h: the check of a MongoDB connection string that the mongodb
 * source's and sink's key tables share (their `uri` rows), and the client
 * both make from a parsed one.
 *
 * libmongoc parses it (never a hand-written parser); its password is
 * registered as a secret of the log (log.h), so that no later message
 * shows it.
 */
#ifndef TRIB_MONGOURI_H
#define TRIB_MONGOURI_H

#include <stdbool.h>
#include <stddef.h>

#include <mongoc/mongoc.h>

/* A URI libmongoc accepts (a ck_check_fn): false and a message saying
 * what is accepted otherwise. */
bool		trib_mongo_uri_check(const char *value, char *msg, size_t msglen);

/*
 * A client for uri (destroyed here, in every case) with libmongoc's
 * version 2 error API and the application name appname; NULL when
 * libmongoc refuses it, errbuf then holds prefix and libmongoc's message.
 */
mongoc_client_t *trib_mongo_client_from_uri(mongoc_uri_t *uri, const char *appname,
											const char *prefix, char *errbuf, size_t errlen);

#endif							/* TRIB_MONGOURI_H */
