/*
 * mongouri.c: the MongoDB URI check and the client made from a URI (see
 * mongouri.h).
 */
#include "mongouri.h"

#include <stdio.h>

#include <mongoc/mongoc.h>

#include "errf.h"
#include "log.h"

bool
trib_mongo_uri_check(const char *value, char *msg, size_t msglen)
{
	bson_error_t err;
	mongoc_uri_t *uri = mongoc_uri_new_with_error(value, &err);

	if (uri == NULL)
	{
		/* libmongoc's message does not repeat the URI */
		snprintf(msg, msglen, "not a valid MongoDB URI (mongodb://host:port/?replicaSet=rs0): "
				 "%s", err.message);
		return false;
	}
	if (mongoc_uri_get_password(uri) != NULL)
		trib_log_add_secret(mongoc_uri_get_password(uri));
	mongoc_uri_destroy(uri);
	return true;
}

/* See mongouri.h. */
mongoc_client_t *
trib_mongo_client_from_uri(mongoc_uri_t *uri, const char *appname, const char *prefix,
						   char *errbuf, size_t errlen)
{
	bson_error_t err;
	mongoc_client_t *cl = mongoc_client_new_from_uri_with_error(uri, &err);

	mongoc_uri_destroy(uri);
	if (cl == NULL)
	{
		trib_errf(errbuf, errlen, "%s%s", prefix, err.message);
		return NULL;
	}
	mongoc_client_set_error_api(cl, MONGOC_ERROR_API_VERSION_2);
	mongoc_client_set_appname(cl, appname);
	return cl;
}
