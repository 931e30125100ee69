/*
 * failpoint.h: fault injection in mongo_double (a TEST DOUBLE, see
 * ../README.md), through two of MongoDB's fail points, in the shapes
 * drivers' own test suites use, set with configureFailPoint on admin:
 *
 *   {configureFailPoint: "failCommand",
 *    mode: "alwaysOn" | "off" | {times: n} | {skip: n},
 *    data: {failCommands: ["getMore", ...], errorCode: N,
 *           closeConnection: bool, errorLabels: [...],
 *           blockConnection: bool, blockTimeMS: ms,
 *           writeConcernError: {code, errmsg}, appName: "..."}}
 *
 * fires on the commands named (from a client whose appName matches, if
 * given): it blocks the connection for blockTimeMS, then closes it without
 * a reply, or answers errorCode, or runs the command and adds
 * writeConcernError.  Its error carries errorLabels exactly as given; with
 * none given, the labels the server adds (RetryableWriteError on retryable
 * writes, TransientTransactionError in transactions) but, as on the server,
 * never ResumableChangeStreamError: failCommand fires before the getMore
 * has checked out its cursor, so nothing knows it is a change stream
 * (SERVER-46091).
 *
 *   {configureFailPoint: "failGetMoreAfterCursorCheckout", mode: ...,
 *    data: {errorCode: N}}
 *
 * fails a getMore after its cursor is found, so a resumable code on a
 * change stream cursor is labelled ResumableChangeStreamError, as a real
 * error there would be.
 *
 * configureFailPoint itself is never failed.  Each fail point has one
 * setting at a time; mode "off" clears it.
 */
#ifndef MD_FAILPOINT_H
#define MD_FAILPOINT_H

#include <bson.h>

/* md_failpoint_take: if failCommand fires for this command, a copy of its
 * data (the caller's) in *data. */
bool md_failpoint_take(const char *command, const char *app_name, bson_t **data);

/* md_failpoint_after_checkout: if failGetMoreAfterCursorCheckout fires, its
 * errorCode in *code. */
bool md_failpoint_after_checkout(int *code);

void md_failpoint_free(void);

#endif
