/*
 * mongouri.c: the MongoDB URI check (see mongouri.h).
 */
#include "mongouri.h"

#include <stdio.h>

#include <mongoc/mongoc.h>

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
