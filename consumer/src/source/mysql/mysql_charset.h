/*
 * mysql_charset.h: MySQL/MariaDB collation ids to character sets, and text
 * in any of them to UTF-8.
 *
 * Design.  The binlog tags each character column with a collation id
 * (TABLE_MAP optional metadata, or information_schema), and the value's
 * bytes are in that collation's character set.  A built-in table maps
 * every collation id MariaDB 10.11 and MySQL 8 define to its character set
 * (taken from their information_schema.COLLATIONS; MariaDB's UCA-14
 * collations from id 2048 on are blocks of 256 per character set).  The
 * source may add ids a newer server knows (trib_my_charsets_add) from the
 * server's own information_schema.
 *
 * Conversion uses iconv(3), one descriptor per character set, opened on
 * first use and kept.  utf8mb3/utf8mb4 pass through after validation.
 * MySQL's latin1 is Windows-1252 whose five unassigned bytes (0x81, 0x8D,
 * 0x8F, 0x90, 0x9D) the server maps to the C1 controls of the same value;
 * so does this converter.  Any other byte sequence that is invalid in its
 * character set becomes U+FFFD (the server itself stores only valid text,
 * so this happens only for data written around its checks).  `binary` is
 * not text: its columns are written as base64 and never come here.
 *
 * Ownership: a trib_my_charsets is owned by one decoder (no global state);
 * not thread-safe.
 */
#ifndef TRIB_MYSQL_CHARSET_H
#define TRIB_MYSQL_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* The collation of binary strings (BINARY, VARBINARY, BLOB, GEOMETRY). */
#define TRIB_MY_COLLATION_BINARY 63

typedef struct trib_my_charsets trib_my_charsets;

trib_my_charsets *trib_my_charsets_new(void);
void		trib_my_charsets_free(trib_my_charsets *cs);

/* Map collation id -> character set name (as the server names it,
 * "utf8mb4").  False when the name is not one this converter knows or the
 * id is out of range (above 65535). */
bool		trib_my_charsets_add(trib_my_charsets *cs, uint32_t collation,
								 const char *charset);

/* The character set of a collation id, or NULL when unknown. */
const char *trib_my_charset_name(const trib_my_charsets *cs, uint32_t collation);

/*
 * Append s[0..len), in the character set of `collation`, to out as UTF-8.
 * False and a message naming the collation when it is unknown or has no
 * converter here (keybcs2).  Never fails on the bytes themselves.
 */
bool		trib_my_to_utf8(trib_my_charsets *cs, uint32_t collation,
							const char *s, size_t len, trib_strbuf *out,
							char *errbuf, size_t errlen);

#endif							/* TRIB_MYSQL_CHARSET_H */
