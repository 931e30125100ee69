/*
 * catalog.h: the names of the extension's catalog (sql/) as the daemon
 * uses them, in one place.
 *
 * Design.  CREATE EXTENSION tributary makes schema `tributary`.  Its tables
 * are never data: the source keeps them out of the stream, except the two
 * erasure tables when a pipeline has an `erasure` section, and the erasure
 * module consumes every event of the schema that still arrives, so none
 * reaches a sink.  Rows of those two tables may carry authority because
 * only members of tributary_eraser can insert them (sql/tributary--0.2--0.3.sql);
 * a logical message, which any role can emit, carries none (see
 * docs/ARCHITECTURE.md, "What may carry authority").
 */
#ifndef TRIB_CATALOG_H
#define TRIB_CATALOG_H

#define TRIB_CATALOG_SCHEMA "tributary"

/* Plugin table patterns: the whole catalog, and the part that is never read. */
#define TRIB_CATALOG_PATTERN "tributary.*"
#define TRIB_CATALOG_UNREAD "tributary.source_checkpoints"

/* The erasure tables (table names in TRIB_CATALOG_SCHEMA), and as a
 * plugin include-tables list. */
#define TRIB_ERASURE_REQUESTS "erasure_requests"
#define TRIB_ERASURE_KEYS "erasure_keys"
#define TRIB_ERASURE_TABLES \
	TRIB_CATALOG_SCHEMA "." TRIB_ERASURE_REQUESTS "," TRIB_CATALOG_SCHEMA "." TRIB_ERASURE_KEYS

/* The prefix of the logical messages that carried erasures up to 0.2:
 * now refused, audited and counted. */
#define TRIB_ERASURE_MESSAGE_PREFIX "tributary.erasure"

#endif							/* TRIB_CATALOG_H */
