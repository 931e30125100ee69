/*
 * errors.h: MongoDB server error codes, their names, and the error value
 * the modules of mongo_double (a TEST DOUBLE, see ../README.md) fill in.
 *
 * The codes and names are MongoDB's (src/mongo/base/error_codes.yml in the
 * server's sources).  md_code_name() knows the codes the double returns
 * and those tests inject with failCommand; any other code is named
 * "UnknownError" (its number is still sent as given).
 */
#ifndef MD_ERRORS_H
#define MD_ERRORS_H

#include <stdbool.h>

enum {
    MD_BAD_VALUE = 2,
    MD_NO_SUCH_KEY = 4,
    MD_FAILED_TO_PARSE = 9,
    MD_TYPE_MISMATCH = 14,
    MD_INVALID_LENGTH = 16,
    MD_ILLEGAL_OPERATION = 20,
    MD_NAMESPACE_NOT_FOUND = 26,
    MD_PATH_NOT_VIABLE = 28,
    MD_CURSOR_NOT_FOUND = 43,
    MD_NO_MATCHING_DOCUMENT = 47,
    MD_NAMESPACE_EXISTS = 48,
    MD_COMMAND_NOT_FOUND = 59,
    MD_IMMUTABLE_FIELD = 66,
    MD_INVALID_OPTIONS = 72,
    MD_INVALID_NAMESPACE = 73,
    MD_CAPPED_POSITION_LOST = 136,
    MD_WRITE_CONFLICT = 112,
    MD_NO_SUCH_TRANSACTION = 251,
    MD_TRANSACTION_TOO_OLD = 225,
    MD_CURSOR_KILLED = 237,
    MD_INVALID_RESUME_TOKEN = 260,
    MD_OPERATION_NOT_SUPPORTED_IN_TRANSACTION = 263,
    MD_CHANGE_STREAM_FATAL_ERROR = 280,
    MD_CHANGE_STREAM_HISTORY_LOST = 286,
    MD_UNSUPPORTED_OP_QUERY_COMMAND = 352,
    MD_DUPLICATE_KEY = 11000,
    MD_UNRECOGNIZED_STAGE = 40324,
    MD_NO_DB = 40571,
    MD_CHANGE_STREAM_NOT_FIRST = 40602,
};

/* An error: code 0 means none. */
typedef struct md_err {
    int code;
    char msg[512];
} md_err_t;

/* md_seterr: fill e; returns false so callers can `return md_seterr(...)`. */
bool md_seterr(md_err_t *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* md_code_name: MongoDB's name of a code ("UnknownError" when unknown). */
const char *md_code_name(int code);

/* md_code_resumable: a code on which the server labels change stream
 * errors ResumableChangeStreamError (and writes RetryableWriteError). */
bool md_code_resumable(int code);

#endif
