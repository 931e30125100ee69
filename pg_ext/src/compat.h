/*-------------------------------------------------------------------------
 *
 * compat.h
 *		PostgreSQL version differences, kept in one place.
 *
 * The plugin targets PostgreSQL 15.  The macros below name the few spots
 * where the reorder buffer API differs between major versions, so that a
 * port to 14 or 16/17 touches only this file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TRIBUTARY_COMPAT_H
#define TRIBUTARY_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "tributary requires PostgreSQL 15 or later"
#endif

/* Commit (or prepare) time of a reorder buffer transaction. */
#define TRIB_TXN_COMMIT_TIME(txn)	((txn)->xact_time.commit_time)
#define TRIB_TXN_PREPARE_TIME(txn)	((txn)->xact_time.prepare_time)

/* The tuple inside a change's old/new tuple buffer (a HeapTuple from 17). */
#if PG_VERSION_NUM >= 170000
#define TRIB_CHANGE_TUPLE(buf)		(buf)
#else
#define TRIB_CHANGE_TUPLE(buf)		(&(buf)->tuple)
#endif

/* The top-level transaction of a (sub)transaction. */
#if PG_VERSION_NUM >= 170000
#define TRIB_TOPTXN(txn)	(rbtxn_get_toptxn(txn))
#else
#define TRIB_TOPTXN(txn)	((txn)->toptxn ? (txn)->toptxn : (txn))
#endif

#endif							/* TRIBUTARY_COMPAT_H */
