/*
 * mysql_check.h: the MySQL/MariaDB source's preconditions, for start-up and
 * `tributary check`.
 *
 * Design.  Two halves, so the rules are unit-tested without a server:
 *
 *   trib_my_facts_gather()   reads what the rules need from the server
 *                            (SELECT @@variables, information_schema's
 *                            privileges of CURRENT_USER(), SHOW SLAVE
 *                            HOSTS where allowed)
 *   trib_my_check_evaluate() applies the rules to those facts and returns
 *                            one finding per rule: ok, warning or failure,
 *                            each failure naming the server variable or
 *                            privilege to fix and how
 *
 * Rules:
 *   log_bin               ON
 *   binlog_format         ROW (fail otherwise)
 *   binlog_row_image      FULL (ok), MINIMAL or NOBLOB (warning: images
 *                         lack unchanged columns, docs/MYSQL.md)
 *   binlog_row_metadata   FULL (ok), MINIMAL/NO_LOG (warning: names come
 *                         from information_schema)
 *   server_id             the server's non-zero and not ours; no other
 *                         replica registered with ours (warning when SHOW
 *                         SLAVE HOSTS is not allowed)
 *   privileges            REPLICATION SLAVE; REPLICATION CLIENT (MariaDB
 *                         10.5+: BINLOG MONITOR); SELECT (global, or on
 *                         every captured database)
 *   log_bin_compress      OFF (MariaDB), binlog_transaction_compression
 *                         OFF and binlog_row_value_options not PARTIAL_JSON
 *                         (MySQL): their events are not decoded
 */
#ifndef TRIB_MYSQL_CHECK_H
#define TRIB_MYSQL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mysql_conn.h"

#define TRIB_MY_VAR_LEN 64

/* What the rules look at ("" for a variable the server does not have). */
typedef struct trib_my_facts
{
	char		version[TRIB_MY_VAR_LEN];
	bool		mariadb;
	char		log_bin[TRIB_MY_VAR_LEN];
	char		binlog_format[TRIB_MY_VAR_LEN];
	char		binlog_row_image[TRIB_MY_VAR_LEN];
	char		binlog_row_metadata[TRIB_MY_VAR_LEN];
	char		log_bin_compress[TRIB_MY_VAR_LEN];
	char		binlog_transaction_compression[TRIB_MY_VAR_LEN];
	char		binlog_row_value_options[TRIB_MY_VAR_LEN];
	uint32_t	server_id;
	char		user[256];		/* CURRENT_USER() */
	bool		repl_slave;
	bool		repl_client;	/* REPLICATION CLIENT or BINLOG MONITOR */
	bool		select_global;
	char	  **select_dbs;		/* databases with a schema-level SELECT */
	int			nselect_dbs;
	bool		replicas_known; /* SHOW SLAVE HOSTS was allowed */
	uint32_t   *replica_ids;	/* server ids of registered replicas */
	int			nreplicas;
} trib_my_facts;

typedef enum trib_my_verdict
{
	TRIB_MY_OK = 0,
	TRIB_MY_WARN = 1,
	TRIB_MY_FAIL = 2
} trib_my_verdict;

typedef struct trib_my_finding
{
	trib_my_verdict verdict;
	char	   *what;			/* "binlog_format", "REPLICATION SLAVE", ... */
	char	   *message;		/* what was found and, if not ok, the fix */
} trib_my_finding;

/* Read the facts over m; false with errbuf only when the server cannot be
 * queried at all, or the connection was lost while reading (so the facts
 * may be partial); *errnum (may be NULL) then has the error number.
 * Missing privileges are facts, not errors. */
bool		trib_my_facts_gather(MYSQL *m, trib_my_facts *f, unsigned *errnum,
								 char *errbuf, size_t errlen);
void		trib_my_facts_free(trib_my_facts *f);

/*
 * Apply the rules for a replica with `server_id` capturing `dbs` (NULL,
 * 0: any).  *out gets a new array of findings (free with
 * trib_my_findings_free); returns how many.
 */
int			trib_my_check_evaluate(const trib_my_facts *f, uint32_t server_id,
								   const char *const *dbs, int ndbs,
								   trib_my_finding **out);
void		trib_my_findings_free(trib_my_finding *fs, int n);

/* Connect, gather, evaluate: -1 with errbuf when the server cannot be
 * reached, else the number of findings in *out. */
int			trib_my_check(const trib_my_conn_conf *conf, uint32_t server_id,
						  const char *const *dbs, int ndbs, trib_my_finding **out,
						  char *errbuf, size_t errlen);

/* trib_my_check() that also gives the error number of a -1 (the
 * connect's or a query's; trib_my_error_retryable() tells a lost or
 * refused connection). */
int			trib_my_check_errnum(const trib_my_conn_conf *conf, uint32_t server_id,
								 const char *const *dbs, int ndbs,
								 trib_my_finding **out, unsigned *errnum,
								 char *errbuf, size_t errlen);

#endif							/* TRIB_MYSQL_CHECK_H */
