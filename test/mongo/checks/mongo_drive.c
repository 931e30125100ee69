/*
 * mongo_drive.c: drive changes into a MongoDB deployment (the test double
 * or a real mongod) from a script, through libmongoc, for end-to-end tests
 * of tributary's MongoDB source (consumer/test/e2e/48_mongodb_source.sh).
 *
 *   mongo_drive URI < script
 *
 * The script has one command per line:
 *   DB {command as Extended JSON}   run it on database DB (in the open
 *                                   transaction, if any)
 *   begin                           start a transaction (one session)
 *   commit                          commit it
 *   # ...                           a comment; blank lines are skipped
 * Each command's reply is printed as relaxed Extended JSON, one line.  A
 * command that fails prints "error CODE: message" and the tool exits 1
 * after the script.
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run one "DB {json}" line; false on an error (printed). */
static bool run_line(mongoc_client_t *client, mongoc_client_session_t *session, char *line) {
    char *sp = strchr(line, ' ');
    bson_error_t error;
    bson_t *cmd, opts = BSON_INITIALIZER, reply;
    bool ok;
    char *text;

    if (sp == NULL) {
        printf("error 0: expected `DB {json}`: %s\n", line);
        return false;
    }
    *sp = '\0';
    cmd = bson_new_from_json((const uint8_t *) sp + 1, -1, &error);
    if (cmd == NULL) {
        printf("error 0: not JSON: %s\n", error.message);
        return false;
    }
    if (session && !mongoc_client_session_append(session, &opts, &error)) {
        printf("error %u: %s\n", error.code, error.message);
        bson_destroy(cmd);
        return false;
    }
    ok = mongoc_client_command_with_opts(client, line, cmd, NULL, &opts, &reply, &error);
    if (ok) {
        text = bson_as_relaxed_extended_json(&reply, NULL);
        printf("%s\n", text);
        bson_free(text);
    } else
        printf("error %u: %s\n", error.code, error.message);
    bson_destroy(&reply);
    bson_destroy(&opts);
    bson_destroy(cmd);
    return ok;
}

int main(int argc, char **argv) {
    mongoc_client_t *client;
    mongoc_client_session_t *session = NULL;
    bson_error_t error;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: mongo_drive URI < script\n");
        return 2;
    }
    mongoc_init();
    client = mongoc_client_new(argv[1]);
    if (client == NULL) {
        fprintf(stderr, "mongo_drive: not a valid URI\n");
        return 2;
    }
    mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (strcmp(line, "begin") == 0) {
            session = mongoc_client_start_session(client, NULL, &error);
            if (session == NULL || !mongoc_client_session_start_transaction(session, NULL, &error)) {
                printf("error %u: %s\n", error.code, error.message);
                rc = 1;
            }
        } else if (strcmp(line, "commit") == 0) {
            if (session == NULL || !mongoc_client_session_commit_transaction(session, NULL, &error)) {
                printf("error %u: %s\n", session ? error.code : 0u,
                       session ? error.message : "commit without begin");
                rc = 1;
            } else
                printf("committed\n");
            if (session)
                mongoc_client_session_destroy(session);
            session = NULL;
        } else if (!run_line(client, session, line))
            rc = 1;
        fflush(stdout);
    }
    free(line);
    if (session)
        mongoc_client_session_destroy(session);
    mongoc_client_destroy(client);
    mongoc_cleanup();
    return rc;
}
