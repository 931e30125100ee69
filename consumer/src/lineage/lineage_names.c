/*
 * lineage_names.c: OpenLineage dataset names for the sources and sinks
 * of a pipeline, and the config's fingerprint.
 *
 * Design.  OpenLineage names a dataset by a namespace (where it lives:
 * postgres://host:port, kafka://bootstrap:port, file:///dir) and a name
 * (db.schema.table, the topic, the file), so that our graph joins with
 * other lineage tools.  What each plugin writes is in its settings,
 * which only the plugin reads as a struct; this file reads them through
 * the plugin's own key table (config_keys.h: the table is the single
 * source of a section's keys and where their values live), by key name,
 * so it includes no plugin.  A type not listed here falls back to
 * "<type>://<member name>".  Connection strings are parsed by libpq
 * (PQconninfoParse) and only host, port and database are ever kept:
 * no user or password reaches a name.
 */
#include "lineage.h"

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_keys.h"
#include "errf.h"
#include "fileio.h"
#include "registry.h"
#include "xalloc.h"

/* Where the value of a plugin member's key of type t is, or NULL. */
static const void *
conf_value(const trib_plugin_conf *m, const char *key, ck_type t)
{
	if (m->plugin == NULL || m->plugin->section == NULL)
		return NULL;
	for (const ck_key *k = m->plugin->section->keys; k->name != NULL; k++)
		if (k->type == t && strcmp(k->name, key) == 0)
			return (const char *) m->conf + k->offset;
	return NULL;
}

/* A CK_STRING key's value, or NULL. */
static const char *
conf_string(const trib_plugin_conf *m, const char *key)
{
	const char *const *v = conf_value(m, key, CK_STRING);

	return v ? *v : NULL;
}

/* A CK_INT key's value, or dflt. */
static int
conf_int(const trib_plugin_conf *m, const char *key, int dflt)
{
	const int  *v = conf_value(m, key, CK_INT);

	return v ? *v : dflt;
}

/* A CK_BOOL key's value, or false. */
static bool
conf_bool(const trib_plugin_conf *m, const char *key)
{
	const bool *v = conf_value(m, key, CK_BOOL);

	return v ? *v : false;
}

/* A libpq dsn's host, port and database: "postgres://host:port" into ns
 * and the database into db (a socket directory counts as localhost). */
static void
pg_where(const char *dsn, char *ns, size_t nslen, char *db, size_t dblen)
{
	PQconninfoOption *opts = dsn ? PQconninfoParse(dsn, NULL) : NULL;
	const char *host = NULL,
			   *port = NULL,
			   *dbname = NULL,
			   *user = NULL;

	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
	{
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0 && host == NULL)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			dbname = o->val;
		else if (strcmp(o->keyword, "user") == 0)
			user = o->val;
	}
	if (host == NULL || host[0] == '/' || host[0] == '@')
		host = "localhost";
	snprintf(ns, nslen, "postgres://%.*s:%s", (int) strcspn(host, ","), host,
			 port ? port : "5432");
	snprintf(db, dblen, "%s", dbname ? dbname : user ? user : "postgres");
	PQconninfoFree(opts);
}

/* The hosts of a MongoDB URI, without credentials or options. */
static void
mongo_where(const char *uri, char *ns, size_t nslen)
{
	const char *p = uri ? strstr(uri, "://") : NULL;
	const char *at;
	size_t		n;

	p = p ? p + 3 : "localhost";
	n = strcspn(p, "/?");
	at = memchr(p, '@', n);
	if (at != NULL)
	{
		n -= (size_t) (at + 1 - p);
		p = at + 1;
	}
	snprintf(ns, nslen, "mongodb://%.*s", (int) n, p);
}

/* db.schema.table (or db.table without a schema) into name. */
static void
qualified(char *name, size_t len, const char *db, const char *schema, const char *table)
{
	if (schema != NULL && schema[0] != '\0')
		snprintf(name, len, "%s.%s.%s", db, schema, table);
	else
		snprintf(name, len, "%s.%s", db, table);
}

/* A source's dataset. */
static bool
source_dataset(const trib_plugin_conf *m, const trib_event *ev, char *ns, size_t nslen,
			   char *name, size_t namelen, const char **type)
{
	char		db[256];

	*type = "table";
	if (strcmp(m->type_name, "postgres") == 0)
	{
		pg_where(conf_string(m, "dsn"), ns, nslen, db, sizeof(db));
		qualified(name, namelen, ev->db ? ev->db : db, ev->schema ? ev->schema : "public",
				  ev->table);
		return true;
	}
	if (strcmp(m->type_name, "mysql") == 0)
	{
		const char *host = conf_string(m, "host");

		snprintf(ns, nslen, "mysql://%s:%d", host ? host : "127.0.0.1",
				 conf_int(m, "port", 3306));
		qualified(name, namelen, ev->db ? ev->db : (ev->schema ? ev->schema : "mysql"),
				  NULL, ev->table);
		return true;
	}
	snprintf(ns, nslen, "%s://%s", m->type_name, m->name);
	qualified(name, namelen, ev->db ? ev->db : m->name, ev->schema, ev->table);
	return true;
}

/* A sink's dataset; false for one that writes none. */
static bool
sink_dataset(const trib_plugin_conf *m, const trib_event *ev, const char *route,
			 char *ns, size_t nslen, char *name, size_t namelen, const char **type)
{
	const char *t = m->type_name;
	char		db[256];

	if (strcmp(t, "null") == 0)
		return false;
	if (strcmp(t, "kafka") == 0)
	{
		const char *boot = conf_string(m, "bootstrap_servers");
		const char *pattern = conf_string(m, "topic_pattern");
		char	   *topic;

		snprintf(ns, nslen, "kafka://%.*s", boot ? (int) strcspn(boot, ",") : 9,
				 boot ? boot : "localhost");
		topic = route ? trib_xstrdup(route)
			: trib_name_expand(pattern, TRIB_TOPIC_DEFAULT_PATTERN,
							   conf_string(m, "topic_prefix"), ev->source, ev->db, ev->schema,
							   ev->table);
		snprintf(name, namelen, "%s", topic);
		free(topic);
		*type = "topic";
		return true;
	}
	if (strcmp(t, "postgres") == 0)
	{
		const char *schema = conf_string(m, "schema");

		if (!conf_bool(m, "table_from_route"))
			route = NULL;		/* only then does the sink follow a route */
		pg_where(conf_string(m, "dsn"), ns, nslen, db, sizeof(db));
		if (route != NULL && strchr(route, '.') != NULL)
			snprintf(name, namelen, "%s.%s", db, route);
		else
			qualified(name, namelen, db, schema ? schema : "public", route ? route : ev->table);
		*type = "table";
		return true;
	}
	if (strcmp(t, "mongodb") == 0)
	{
		const char *coll = conf_string(m, "collection");
		char	   *c = trib_config_topic_expand(coll ? coll : "${schema}_${table}", NULL,
												 ev->source, ev->db, ev->schema, ev->table);
		const char *database = conf_string(m, "database");

		mongo_where(conf_string(m, "uri"), ns, nslen);
		snprintf(name, namelen, "%s.%s", database ? database : "test", c);
		free(c);
		*type = "collection";
		return true;
	}
	if (strcmp(t, "file") == 0)
	{
		const char *path = conf_string(m, "path");
		char	   *abs = path ? trib_fileio_path_resolve(path) : NULL;
		const char *p = abs ? abs : (path ? path : m->name);
		const char *slash = strrchr(p, '/');

		if (slash != NULL)
		{
			snprintf(ns, nslen, "file://%.*s", (int) (slash - p > 0 ? slash - p : 1), p);
			snprintf(name, namelen, "%s", slash + 1);
		}
		else
		{
			snprintf(ns, nslen, "file://.");
			snprintf(name, namelen, "%s", p);
		}
		free(abs);
		*type = "file";
		return true;
	}
	if (strcmp(t, "stdout") == 0)
	{
		snprintf(ns, nslen, "file:///dev");
		snprintf(name, namelen, "stdout");
		*type = "file";
		return true;
	}
	snprintf(ns, nslen, "%s://%s", t, m->name);
	qualified(name, namelen, ev->db ? ev->db : m->name, ev->schema, ev->table);
	*type = "dataset";
	return true;
}

/* See lineage.h. */
bool
trib_lineage_dataset(const trib_plugin_conf *member, const trib_event *ev,
					 const char *route, char *ns, size_t nslen,
					 char *name, size_t namelen, const char **type)
{
	if (member->plugin != NULL && member->plugin->source_ops != NULL)
		return source_dataset(member, ev, ns, nslen, name, namelen, type);
	return sink_dataset(member, ev, route, ns, nslen, name, namelen, type);
}

/* See lineage.h. */
bool
trib_lineage_config_fingerprint(const char *path, char out[65], char *errbuf, size_t errlen)
{
	char		msg[256];
	FILE	   *f = trib_fileio_fopen_read(path, msg, sizeof(msg));
	unsigned char md[EVP_MAX_MD_SIZE],
				buf[8192];
	unsigned int mdlen = 0;
	size_t		n;
	EVP_MD_CTX *ctx;

	if (f == NULL)
		return trib_errf(errbuf, errlen, "%s: cannot read it for its fingerprint: %s", path, msg);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		abort();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	fclose(f);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return true;
}
