/*
 * mysql_check.c: preconditions of the MySQL/MariaDB source (mysql_check.h).
 *
 * Variables are read one by one with SELECT @@name, so that a variable one
 * server lacks (binlog_row_metadata before MariaDB 10.5 or MySQL 8.0.1,
 * log_bin_compress on MySQL) reads as "" instead of failing the rest.
 * Privileges come from information_schema.USER_PRIVILEGES and
 * SCHEMA_PRIVILEGES for exactly CURRENT_USER() (a user with global SELECT
 * sees everyone's rows there); privileges granted through roles are not
 * seen, which the message says.
 */
#include "mysql_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mysql_int.h"
#include "strbuf.h"

/* The grantee form of CURRENT_USER(): 'user'@'host'. */
static const char *const GRANTEE =
"CONCAT('''', LEFT(CURRENT_USER(), LENGTH(CURRENT_USER()) - LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1), "
"'''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";

/* SELECT @@name into buf ("" when the server has no such variable). */
static void
read_var(MYSQL *m, const char *name, char *buf, size_t len)
{
	char		sql[128];
	trib_my_rows r;
	char		err[256];

	buf[0] = '\0';
	snprintf(sql, sizeof(sql), "SELECT @@%s", name);
	if (!trib_my_select(m, sql, NULL, 0, &r, err, sizeof(err)))
		return;
	if (trib_my_cell(&r, 0, 0))
		snprintf(buf, len, "%s", trib_my_cell(&r, 0, 0));
	trib_my_rows_free(&r);
}

/* Global and schema privileges of the current user. */
static void
read_privileges(MYSQL *m, trib_my_facts *f)
{
	trib_strbuf sql = {0};
	trib_my_rows r;
	char		err[256];

	trib_strbuf_printf(&sql, "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES "
					   "WHERE GRANTEE = %s", GRANTEE);
	if (trib_my_select(m, sql.data, NULL, 0, &r, err, sizeof(err)))
	{
		for (int i = 0; i < r.nrows; i++)
		{
			const char *p = trib_my_cell(&r, i, 0);

			if (p == NULL)
				continue;
			f->repl_slave |= strcasecmp(p, "REPLICATION SLAVE") == 0;
			f->repl_client |= strcasecmp(p, "REPLICATION CLIENT") == 0 ||
				strcasecmp(p, "BINLOG MONITOR") == 0;
			f->select_global |= strcasecmp(p, "SELECT") == 0;
		}
		trib_my_rows_free(&r);
	}
	sql.len = 0;
	trib_strbuf_printf(&sql, "SELECT TABLE_SCHEMA FROM information_schema.SCHEMA_PRIVILEGES "
					   "WHERE GRANTEE = %s AND PRIVILEGE_TYPE = 'SELECT'", GRANTEE);
	if (trib_my_select(m, sql.data, NULL, 0, &r, err, sizeof(err)))
	{
		f->select_dbs = trib_xcalloc((size_t) (r.nrows ? r.nrows : 1), sizeof(char *));
		for (int i = 0; i < r.nrows; i++)
			if (trib_my_cell(&r, i, 0))
				f->select_dbs[f->nselect_dbs++] = trib_xstrdup(trib_my_cell(&r, i, 0));
		trib_my_rows_free(&r);
	}
	trib_strbuf_free(&sql);
}

/* Registered replicas (SHOW SLAVE HOSTS), if the user may list them. */
static void
read_replicas(MYSQL *m, trib_my_facts *f)
{
	trib_my_rows r;
	char		err[256];

	if (!trib_my_select(m, "SHOW SLAVE HOSTS", NULL, 0, &r, err, sizeof(err)))
		return;
	f->replicas_known = true;
	f->replica_ids = trib_xcalloc((size_t) (r.nrows ? r.nrows : 1), sizeof(uint32_t));
	for (int i = 0; i < r.nrows; i++)
		if (trib_my_cell(&r, i, 0))
			f->replica_ids[f->nreplicas++] = (uint32_t) strtoul(trib_my_cell(&r, i, 0), NULL, 10);
	trib_my_rows_free(&r);
}

bool
trib_my_facts_gather(MYSQL *m, trib_my_facts *f, unsigned *errnum,
					 char *errbuf, size_t errlen)
{
	char		id[TRIB_MY_VAR_LEN];
	trib_my_rows r;

	memset(f, 0, sizeof(*f));
	if (!trib_my_select_errnum(m, "SELECT VERSION(), CURRENT_USER()", NULL, 0, &r, errnum,
							   errbuf, errlen))
		return false;
	snprintf(f->version, sizeof(f->version), "%s", trib_my_cell(&r, 0, 0) ? trib_my_cell(&r, 0, 0) : "");
	snprintf(f->user, sizeof(f->user), "%s", trib_my_cell(&r, 0, 1) ? trib_my_cell(&r, 0, 1) : "");
	trib_my_rows_free(&r);
	f->mariadb = strstr(f->version, "MariaDB") != NULL;
	read_var(m, "log_bin", f->log_bin, sizeof(f->log_bin));
	read_var(m, "binlog_format", f->binlog_format, sizeof(f->binlog_format));
	read_var(m, "binlog_row_image", f->binlog_row_image, sizeof(f->binlog_row_image));
	read_var(m, "binlog_row_metadata", f->binlog_row_metadata, sizeof(f->binlog_row_metadata));
	read_var(m, "log_bin_compress", f->log_bin_compress, sizeof(f->log_bin_compress));
	read_var(m, "binlog_transaction_compression", f->binlog_transaction_compression,
			 sizeof(f->binlog_transaction_compression));
	read_var(m, "binlog_row_value_options", f->binlog_row_value_options,
			 sizeof(f->binlog_row_value_options));
	read_var(m, "server_id", id, sizeof(id));
	f->server_id = (uint32_t) strtoul(id, NULL, 10);
	read_privileges(m, f);
	read_replicas(m, f);
	/* the reads above take a failure for a missing fact: a connection lost
	 * among them would pass for facts */
	if (mysql_ping(m) != 0)
	{
		if (errnum)
			*errnum = mysql_errno(m);
		trib_my_facts_free(f);
		return trib_my_fail(errbuf, errlen, "the connection was lost while reading the "
							"server's settings: %s (error %u)", mysql_error(m), mysql_errno(m));
	}
	return true;
}

void
trib_my_facts_free(trib_my_facts *f)
{
	for (int i = 0; i < f->nselect_dbs; i++)
		free(f->select_dbs[i]);
	free(f->select_dbs);
	free(f->replica_ids);
	memset(f, 0, sizeof(*f));
}

/* Findings under construction. */
typedef struct findings
{
	trib_my_finding *v;
	int			n;
} findings;

/* Add a finding. */
static void
add(findings *fs, trib_my_verdict verdict, const char *what, const char *fmt,...)
{
	trib_strbuf msg = {0};
	va_list		ap;

	va_start(ap, fmt);
	trib_strbuf_vprintf(&msg, fmt, ap);
	va_end(ap);
	fs->v = trib_xrealloc(fs->v, sizeof(trib_my_finding) * (size_t) (fs->n + 1));
	fs->v[fs->n].verdict = verdict;
	fs->v[fs->n].what = trib_xstrdup(what);
	fs->v[fs->n].message = trib_strbuf_finish(&msg);
	fs->n++;
}

/* Is the variable's value (case-insensitive) one of the given? */
static bool
is(const char *v, const char *a)
{
	return strcasecmp(v, a) == 0;
}

/* Variable `what` should be `good`: ok, else `otherwise` with its value
 * (`unknown` when the server has none) and the fix. */
static void
want(findings *fs, const char *what, const char *value, const char *good,
	 trib_my_verdict otherwise, const char *unknown, const char *fix)
{
	if (is(value, good))
		add(fs, TRIB_MY_OK, what, "%s is %s", what, good);
	else
		add(fs, otherwise, what, "%s is %s: %s", what, value[0] ? value : unknown, fix);
}

/* The binlog settings. */
static void
rules_binlog(const trib_my_facts *f, findings *fs)
{
	if (is(f->log_bin, "1") || is(f->log_bin, "ON"))
		add(fs, TRIB_MY_OK, "log_bin", "binary logging is on");
	else
		add(fs, TRIB_MY_FAIL, "log_bin",
			"binary logging is off: start the server with log_bin (log-bin=NAME in its config)");
	want(fs, "binlog_format", f->binlog_format, "ROW", TRIB_MY_FAIL, "unknown",
		 "set binlog_format=ROW (SET GLOBAL binlog_format='ROW' and in the config)");
	want(fs, "binlog_row_image", f->binlog_row_image, "FULL", TRIB_MY_WARN, "unknown",
		 "before images hold only the key and after images only changed columns "
		 "(docs/MYSQL.md); set binlog_row_image=FULL for complete images");
	want(fs, "binlog_row_metadata", f->binlog_row_metadata, "FULL", TRIB_MY_WARN, "not available",
		 "column names come from information_schema instead of the binlog, which is exact "
		 "only while no DDL is pending; set binlog_row_metadata=FULL");
	if (f->log_bin_compress[0] && !is(f->log_bin_compress, "0") && !is(f->log_bin_compress, "OFF"))
		add(fs, TRIB_MY_FAIL, "log_bin_compress",
			"log_bin_compress is ON: compressed events are not decoded; set log_bin_compress=OFF");
	if (f->binlog_transaction_compression[0] &&
		!is(f->binlog_transaction_compression, "0") &&
		!is(f->binlog_transaction_compression, "OFF"))
		add(fs, TRIB_MY_FAIL, "binlog_transaction_compression",
			"binlog_transaction_compression is ON: compressed transactions are not decoded; set it OFF");
	if (strstr(f->binlog_row_value_options, "PARTIAL_JSON"))
		add(fs, TRIB_MY_FAIL, "binlog_row_value_options",
			"binlog_row_value_options is PARTIAL_JSON: partial JSON updates are not decoded; set it to ''");
}

/* server_id: the server's and ours. */
static void
rules_server_id(const trib_my_facts *f, uint32_t ours, findings *fs)
{
	if (f->server_id == 0)
		add(fs, TRIB_MY_FAIL, "server_id",
			"the server's server_id is 0: a server with server_id 0 refuses replicas; set server_id");
	else if (f->server_id == ours)
		add(fs, TRIB_MY_FAIL, "server_id",
			"our server_id %u is the server's own: give the source another server_id", ours);
	else
		add(fs, TRIB_MY_OK, "server_id", "the server's server_id is %u, ours %u", f->server_id, ours);
	if (!f->replicas_known)
	{
		add(fs, TRIB_MY_WARN, "server_id uniqueness",
			"could not list the server's replicas (SHOW SLAVE HOSTS needs REPLICATION MASTER ADMIN "
			"on MariaDB, REPLICATION SLAVE on MySQL): make sure no other replica uses server_id %u",
			ours);
		return;
	}
	for (int i = 0; i < f->nreplicas; i++)
		if (f->replica_ids[i] == ours)
		{
			add(fs, TRIB_MY_FAIL, "server_id uniqueness",
				"a replica with server_id %u is already registered (SHOW SLAVE HOSTS): the server "
				"disconnects one of two replicas with the same id; give the source a unique server_id",
				ours);
			return;
		}
	add(fs, TRIB_MY_OK, "server_id uniqueness", "no other replica uses server_id %u", ours);
}

/* The three privileges. */
static void
rules_privileges(const trib_my_facts *f, const char *const *dbs, int ndbs, findings *fs)
{
	if (f->repl_slave)
		add(fs, TRIB_MY_OK, "REPLICATION SLAVE", "%s has REPLICATION SLAVE", f->user);
	else
		add(fs, TRIB_MY_FAIL, "REPLICATION SLAVE",
			"%s lacks REPLICATION SLAVE (needed to read the binlog): GRANT REPLICATION SLAVE ON *.* TO it "
			"(privileges through roles are not seen here)", f->user);
	if (f->repl_client)
		add(fs, TRIB_MY_OK, "REPLICATION CLIENT", "%s has REPLICATION CLIENT", f->user);
	else
		add(fs, TRIB_MY_FAIL, "REPLICATION CLIENT",
			"%s lacks REPLICATION CLIENT%s (needed for SHOW MASTER STATUS): GRANT REPLICATION CLIENT ON *.* TO it",
			f->user, f->mariadb ? " (BINLOG MONITOR)" : "");
	if (f->select_global)
	{
		add(fs, TRIB_MY_OK, "SELECT", "%s has SELECT on every database", f->user);
		return;
	}
	for (int i = 0; i < ndbs; i++)
	{
		bool		found = false;

		for (int k = 0; k < f->nselect_dbs && !found; k++)
			found = strcmp(f->select_dbs[k], dbs[i]) == 0;
		if (!found)
		{
			add(fs, TRIB_MY_FAIL, "SELECT",
				"%s lacks SELECT on database %s (needed for information_schema and snapshots): "
				"GRANT SELECT ON %s.* TO it", f->user, dbs[i], dbs[i]);
			return;
		}
	}
	if (ndbs > 0 || f->nselect_dbs > 0)
		add(fs, TRIB_MY_OK, "SELECT", "%s has SELECT on the captured databases", f->user);
	else
		add(fs, TRIB_MY_FAIL, "SELECT",
			"%s has no SELECT privilege (needed for information_schema and snapshots): "
			"GRANT SELECT ON *.* (or on each captured database) TO it", f->user);
}

int
trib_my_check_evaluate(const trib_my_facts *f, uint32_t server_id,
					   const char *const *dbs, int ndbs, trib_my_finding **out)
{
	findings	fs = {0};

	rules_binlog(f, &fs);
	rules_server_id(f, server_id, &fs);
	rules_privileges(f, dbs, ndbs, &fs);
	*out = fs.v;
	return fs.n;
}

void
trib_my_findings_free(trib_my_finding *fs, int n)
{
	for (int i = 0; i < n; i++)
	{
		free(fs[i].what);
		free(fs[i].message);
	}
	free(fs);
}

int
trib_my_check(const trib_my_conn_conf *conf, uint32_t server_id,
			  const char *const *dbs, int ndbs, trib_my_finding **out,
			  char *errbuf, size_t errlen)
{
	return trib_my_check_errnum(conf, server_id, dbs, ndbs, out, NULL, errbuf, errlen);
}

/* See mysql_check.h. */
int
trib_my_check_errnum(const trib_my_conn_conf *conf, uint32_t server_id,
					 const char *const *dbs, int ndbs, trib_my_finding **out,
					 unsigned *errnum, char *errbuf, size_t errlen)
{
	MYSQL	   *m = trib_my_connect(conf, errnum, errbuf, errlen);
	trib_my_facts f;
	int			n;

	*out = NULL;
	if (m == NULL)
		return -1;
	if (!trib_my_facts_gather(m, &f, errnum, errbuf, errlen))
	{
		mysql_close(m);
		return -1;
	}
	mysql_close(m);
	n = trib_my_check_evaluate(&f, server_id, dbs, ndbs, out);
	trib_my_facts_free(&f);
	return n;
}
