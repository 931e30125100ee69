/*
 * failpoint.h: fault injection in mongo_double (a TEST DOUBLE, see
 * ../README.md), in the shape of MongoDB's failCommand fail point, which
 * drivers' own test suites use:
 *
 *   {configureFailPoint: "failCommand",
 *    mode: "alwaysOn" | "off" | {times: n} | {skip: n},
 *    data: {failCommands: ["getMore", ...], errorCode: N,
 *           closeConnection: bool, errorLabels: [...],
 *           blockConnection: bool, blockTimeMS: ms,
 *           writeConcernError: {code, errmsg}, appName: "..."}}
 *
 * on the admin database.  When a command named in failCommands arrives
 * (from a client whose appName matches, if one is given) and the mode
 * allows, the fail point fires once: it blocks the connection for
 * blockTimeMS, then closes the connection without a reply, or answers
 * with errorCode (and errorLabels exactly as given, or else the labels the
 * server would add), or runs the command and adds writeConcernError.
 * configureFailPoint itself is never failed.  One failCommand is active at
 * a time, as on the server; "off" clears it.
 */
#ifndef MD_FAILPOINT_H
#define MD_FAILPOINT_H

#include <bson.h>

/* md_failpoint_take: if failCommand fires for this command, a copy of its
 * data (the caller's) in *data. */
bool md_failpoint_take(const char *command, const char *app_name, bson_t **data);

void md_failpoint_free(void);

#endif
