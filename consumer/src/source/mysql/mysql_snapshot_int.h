/*
 * mysql_snapshot_int.h: the MySQL snapshot engine's state (struct
 * trib_my_snap) and what its files share; private to source/mysql/.
 * The files:
 *   mysql_snapshot.c         new, prepare, free; the consistent snapshot,
 *                            its binlog position and GTID state
 *   mysql_snapshot_tables.c  the table list and each table's description
 *   mysql_snapshot_read.c    the workers, key chunks, the bounded queue,
 *                            new snapshots for altered tables
 */
#ifndef TRIB_MYSQL_SNAPSHOT_INT_H
#define TRIB_MYSQL_SNAPSHOT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "chunk_wait.h"
#include "mysql_infoschema.h"
#include "mysql_snapshot.h"

typedef struct msnap_worker
{
	trib_my_snap *s;
	MYSQL	   *m;
	pthread_t	thread;
	bool		started;
} msnap_worker;

struct trib_my_snap
{
	trib_my_snap_conf conf;
	char	   *slots[4];		/* copies of the connection strings */
	char	  **tables_copy;
	char	   *source_name;
	char	   *zero_date;
	bool		mariadb;
	msnap_worker *w;
	int			nw;
	char		file[TRIB_MY_FILE_MAX];
	uint64_t	pos;
	char	   *gtid;
	bool		locked;
	trib_my_snap_table *t;
	int			nt;
	/* shared with the workers, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int			next_table;
	int			running;		/* workers not finished */
	bool		stopping;
	char		err[512];
	trib_chunkq q;				/* read, not taken (chunk_queue.h) */
	trib_chunkwait wait;		/* the waits on q (chunk_wait.h) */
	int			test_read_delay_ms; /* msnap_test_hook_init() */
};

/* mysql_snapshot.c */
/* Open a worker's consistent-snapshot transaction. */
bool		msnap_begin_tx(MYSQL *m, char *errbuf, size_t errlen);
/* MariaDB: the transaction's binlog position; 1 found, 0 not said, -1 error. */
int			msnap_snapshot_status(MYSQL *m, char *file, size_t flen, uint64_t *pos,
								  char *errbuf, size_t errlen);
/* A reading connection (utf8mb4, UTC); NULL with errbuf on error. */
MYSQL	   *msnap_read_connect(trib_my_snap *s, char *errbuf, size_t errlen);

/* mysql_snapshot_tables.c */
/* Describe one table (m: a connection for the catalog queries). */
bool		msnap_describe(MYSQL *m, trib_my_infoschema *is, trib_my_snap_table *t,
						   char *errbuf, size_t errlen);
/* Free what msnap_describe() filled. */
void		msnap_table_clear(trib_my_snap_table *t);
/* List and describe the tables to copy into s->t. */
bool		msnap_load_tables(trib_my_snap *s, char *errbuf, size_t errlen);

/* mysql_snapshot_read.c */
/* Read the tests' read-delay hook from the environment, once. */
void		msnap_test_hook_init(trib_my_snap *s);

#endif							/* TRIB_MYSQL_SNAPSHOT_INT_H */
