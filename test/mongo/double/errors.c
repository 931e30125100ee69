/*
 * errors.c: code names and the resumable-code list (errors.h).
 *
 * The resumable list is the change streams specification's list of codes
 * drivers resumed on before servers labelled errors (wire version < 9); the
 * server labels exactly these ResumableChangeStreamError, and the retryable
 * writes specification lists the same network and stepdown codes as
 * RetryableWriteError.
 */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    int code;
    const char *name;
} names[] = {
    {1, "InternalError"},
    {2, "BadValue"},
    {4, "NoSuchKey"},
    {6, "HostUnreachable"},
    {7, "HostNotFound"},
    {9, "FailedToParse"},
    {11, "UserNotFound"},
    {13, "Unauthorized"},
    {14, "TypeMismatch"},
    {16, "InvalidLength"},
    {20, "IllegalOperation"},
    {26, "NamespaceNotFound"},
    {28, "PathNotViable"},
    {43, "CursorNotFound"},
    {47, "NoMatchingDocument"},
    {48, "NamespaceExists"},
    {50, "MaxTimeMSExpired"},
    {59, "CommandNotFound"},
    {63, "StaleShardVersion"},
    {66, "ImmutableField"},
    {72, "InvalidOptions"},
    {73, "InvalidNamespace"},
    {89, "NetworkTimeout"},
    {91, "ShutdownInProgress"},
    {133, "FailedToSatisfyReadPreference"},
    {136, "CappedPositionLost"},
    {150, "StaleEpoch"},
    {189, "PrimarySteppedDown"},
    {216, "ElectionInProgress"},
    {225, "TransactionTooOld"},
    {234, "RetryChangeStream"},
    {237, "CursorKilled"},
    {239, "SnapshotTooOld"},
    {246, "SnapshotUnavailable"},
    {251, "NoSuchTransaction"},
    {256, "TransactionCommitted"},
    {260, "InvalidResumeToken"},
    {262, "ExceededTimeLimit"},
    {263, "OperationNotSupportedInTransaction"},
    {280, "ChangeStreamFatalError"},
    {286, "ChangeStreamHistoryLost"},
    {352, "UnsupportedOpQueryCommand"},
    {9001, "SocketException"},
    {10107, "NotWritablePrimary"},
    {11000, "DuplicateKey"},
    {11600, "InterruptedAtShutdown"},
    {11601, "Interrupted"},
    {11602, "InterruptedDueToReplStateChange"},
    {13388, "StaleConfig"},
    {13435, "NotPrimaryNoSecondaryOk"},
    {13436, "NotPrimaryOrSecondary"},
    {40324, "Location40324"},
    {40571, "Location40571"},
    {40602, "Location40602"},
};

static const int resumable[] = {6,   7,   89,    91,    133,   150,   189,   234,   262,
                                63,  9001, 10107, 11600, 11602, 13388, 13435, 13436};

bool md_seterr(md_err_t *e, int code, const char *fmt, ...)
{
    va_list ap;

    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return false;
}

const char *md_code_name(int code)
{
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (names[i].code == code)
            return names[i].name;
    return "UnknownError";
}

bool md_code_resumable(int code)
{
    for (size_t i = 0; i < sizeof resumable / sizeof *resumable; i++)
        if (resumable[i] == code)
            return true;
    return false;
}
