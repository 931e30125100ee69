/*
 * lsn.h: PostgreSQL LSNs as text, the one implementation: "X/Y" as
 * pg_lsn writes it, the high and low 32 bits in upper-case hex without
 * leading zeros ("0/16B3748"); parsing follows pg_lsn_in (one to eight
 * hex digits, either case, '/', one to eight hex digits, nothing else).
 */
#ifndef TRIB_LSN_H
#define TRIB_LSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Buffer size that holds any formatted LSN ("FFFFFFFF/FFFFFFFF"). */
#define TRIB_LSN_BUFLEN 18

/* "0/16B3748" -> LSN; false (and *out untouched) on bad input.  parse_n
 * reads exactly s[0..n) (no NUL needed). */
bool		trib_lsn_parse(const char *s, uint64_t *out);
bool		trib_lsn_parse_n(const char *s, size_t n, uint64_t *out);

/* LSN -> "0/16B3748" in buf, truncated to len like snprintf. */
void		trib_lsn_format(uint64_t lsn, char *buf, size_t len);

/* Write the LSN's text at p (no NUL; at most 17 bytes); returns its end. */
char	   *trib_lsn_put(char *p, uint64_t lsn);

#endif							/* TRIB_LSN_H */
