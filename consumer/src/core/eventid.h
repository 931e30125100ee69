/*
 * eventid.h: event ids as text, the one implementation: "L:S" (the
 * commit LSN as lsn.h writes it, ':', the decimal seq), or "L" alone for
 * a whole transaction (seq TRIB_SEQ_ALL, position.h) where a resume point
 * is written.  Formatting is what snprintf("%X/%X:%llu") writes, truncated
 * the same way, without its cost (the Kafka sink formats one per record).
 */
#ifndef TRIB_EVENTID_H
#define TRIB_EVENTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* seq of a position that stands for the whole transaction at commit_lsn
 * (position.h); its text form leaves the seq out. */
#define TRIB_SEQ_ALL ((uint64_t) INT64_MAX)

/* Buffer size that holds any formatted event id. */
#define TRIB_EVENTID_LEN 48

/*
 * format writes "L:S", or "L" when seq is TRIB_SEQ_ALL; format_seq always
 * writes "L:S".  Both truncate to len like snprintf and return the length
 * written.  parse reads "L" (seq TRIB_SEQ_ALL) or "L:S" (seq at most
 * INT64_MAX).
 */
size_t		trib_eventid_format(uint64_t lsn, uint64_t seq, char *buf, size_t len);
size_t		trib_eventid_format_seq(uint64_t lsn, uint64_t seq, char *buf, size_t len);
bool		trib_eventid_parse(const char *s, uint64_t *lsn, uint64_t *seq);

/*
 * "L:", the part of "L:S" before the seq, at p (room for TRIB_EVENTID_LEN
 * bytes, not NUL-terminated); returns its end.  For a writer that keeps
 * it while the commit LSN repeats and appends each seq's digits (the
 * Kafka sink).
 */
char	   *trib_eventid_put_head(char *p, uint64_t lsn);

#endif							/* TRIB_EVENTID_H */
