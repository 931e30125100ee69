/*
 * mongo_check.c: the preconditions of a mongodb source (mongo_check.h).
 * Read-only: a hello, a connectionStatus, and a change stream opened and
 * closed without reading.
 */
#include "mongo_check.h"

#include <stdio.h>
#include <string.h>

#include "mongo_stream.h"

/* Does the privilege list grant `action` on the scope?  A resource
 * matches when its db is the database or "" (any), and its collection is
 * the collection or "" (any); cluster-wide resources count for a
 * deployment stream. */
static bool
grants(const bson_t *status, const trib_mongo_source_conf *c, const char *action)
{
	bson_iter_t it,
				privs;

	if (!bson_iter_init(&it, status) ||
		!bson_iter_find_descendant(&it, "authInfo.authenticatedUserPrivileges", &privs) ||
		!BSON_ITER_HOLDS_ARRAY(&privs) || !bson_iter_recurse(&privs, &it))
		return false;
	while (bson_iter_next(&it))
	{
		bson_iter_t p,
					a;
		const char *db = NULL,
				   *coll = NULL;
		bool		cluster = false,
					has = false;

		if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &p))
			continue;
		while (bson_iter_next(&p))
		{
			if (strcmp(bson_iter_key(&p), "resource") == 0 && BSON_ITER_HOLDS_DOCUMENT(&p))
			{
				bson_iter_t r;

				bson_iter_recurse(&p, &r);
				while (bson_iter_next(&r))
					if (strcmp(bson_iter_key(&r), "db") == 0 && BSON_ITER_HOLDS_UTF8(&r))
						db = bson_iter_utf8(&r, NULL);
					else if (strcmp(bson_iter_key(&r), "collection") == 0 &&
							 BSON_ITER_HOLDS_UTF8(&r))
						coll = bson_iter_utf8(&r, NULL);
					else if (strcmp(bson_iter_key(&r), "cluster") == 0 ||
							 strcmp(bson_iter_key(&r), "anyResource") == 0)
						cluster = true;
			}
			else if (strcmp(bson_iter_key(&p), "actions") == 0 && BSON_ITER_HOLDS_ARRAY(&p))
			{
				bson_iter_recurse(&p, &a);
				while (bson_iter_next(&a))
					if (BSON_ITER_HOLDS_UTF8(&a) && strcmp(bson_iter_utf8(&a, NULL), action) == 0)
						has = true;
			}
		}
		if (has && (cluster || (db && (db[0] == '\0' || (c->database &&
														  strcmp(db, c->database) == 0)) &&
								coll && (coll[0] == '\0' || (c->collection &&
															 strcmp(coll, c->collection) == 0)))))
			return true;
	}
	return false;
}

/* Are users authenticated (access control on)? */
static bool
authenticated(const bson_t *status)
{
	bson_iter_t it;

	return bson_iter_init(&it, status) &&
		bson_iter_find_descendant(&it, "authInfo.authenticatedUsers", &it) &&
		BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &it) && bson_iter_next(&it);
}

/* The privileges, from connectionStatus. */
static void
check_privileges(mongoc_client_t *cl, const trib_mongo_source_conf *c, trib_check_report *rep)
{
	bson_t		cmd = BSON_INITIALIZER,
				reply;
	bson_error_t err;
	static const char *const actions[] = {"changeStream", "find"};

	BSON_APPEND_INT32(&cmd, "connectionStatus", 1);
	BSON_APPEND_BOOL(&cmd, "showPrivileges", true);
	if (!mongoc_client_command_simple(cl, "admin", &cmd, NULL, &reply, &err))
	{
		trib_check_report_say(rep, "  warn privileges: connectionStatus failed: %s",
							  err.message);
		bson_destroy(&cmd);
		return;
	}
	bson_destroy(&cmd);
	if (!authenticated(&reply))
		trib_check_report_say(rep, "  ok   privileges: the server runs without access "
							  "control (no authenticated user): nothing to check");
	else
		for (size_t i = 0; i < 2; i++)
		{
			bool		ok = grants(&reply, c, actions[i]);

			trib_check_report_say(rep, "  %s privilege %s on the watched scope%s",
								  ok ? "ok  " : "FAIL", actions[i], ok ? "" : ": missing");
			rep->problems += !ok;
		}
	bson_destroy(&reply);
}

void
trib_mongo_check(const trib_mongo_source_conf *c, trib_check_report *rep)
{
	char		err[1024],
				rs[256];
	mongoc_client_t *cl = trib_mongo_client_new(c, err, sizeof(err));
	trib_mongo_start now = {.kind = TRIB_MONGO_FROM_NOW};
	trib_mongo_next_rc rc;
	trib_mongo_stream *s;

	if (cl == NULL || trib_mongo_set_name(cl, rs, sizeof(rs), err, sizeof(err)) != TRIB_MONGO_DOC)
	{
		trib_check_report_say(rep, "  deployment: %s", err);
		rep->problems++;
		if (cl)
			mongoc_client_destroy(cl);
		return;
	}
	if (rs[0])
		trib_check_report_say(rep, "  ok   deployment: replica set %s", rs);
	else
		trib_check_report_say(rep, "  ok   deployment: a sharded cluster (mongos)");
	check_privileges(cl, c, rep);
	s = trib_mongo_stream_open(cl, c, &now, &rc, err, sizeof(err));
	if (s == NULL)
	{
		trib_check_report_say(rep, "  FAIL change stream on %s%s%s: %s",
							  c->database ? c->database : "the deployment",
							  c->collection ? "." : "", c->collection ? c->collection : "", err);
		rep->problems++;
	}
	else
		trib_check_report_say(rep, "  ok   change stream on %s%s%s opens",
							  c->database ? c->database : "the deployment",
							  c->collection ? "." : "", c->collection ? c->collection : "");
	trib_mongo_stream_free(s);
	mongoc_client_destroy(cl);
}
