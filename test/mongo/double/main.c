/*
 * main.c: mongo_double, a MongoDB wire-protocol TEST DOUBLE.
 *
 * It is NOT a database.  It is a small, single-threaded, in-memory stand-in
 * for a one-member MongoDB 6.0 replica set, written from the MongoDB wire
 * protocol and change streams specifications so that tributary's MongoDB
 * source and sink can be tested where no MongoDB server can be installed.
 * What it models, and what not, is in ../README.md; the official Node.js
 * driver (test/interop) and libmongoc (smoke/) check it against the
 * drivers' expectations.
 *
 * Usage: mongo_double [--bind ADDR] [--port N] [--port-file PATH]
 *                     [--set-name NAME] [--advertise HOST:PORT]
 *                     [--oplog-size N] [--verbose]
 *                     [--setParameter transactionLifetimeLimitSeconds=N]
 * It serves until SIGINT or SIGTERM and then exits 0; exit status 2 for bad
 * usage, 1 when it cannot listen.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "cursors.h"
#include "failpoint.h"
#include "net.h"
#include "oplog.h"
#include "store.h"
#include "txn.h"

#define DEFAULT_OPLOG_ENTRIES 100000

typedef struct options {
    const char *bind;
    int port;
    const char *port_file;
    const char *set_name;
    const char *advertise;
    long oplog_size;
} options_t;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: mongo_double [options]\n"
            "A MongoDB wire-protocol TEST DOUBLE (not a database): a one-member replica set\n"
            "primary presenting MongoDB 6.0, in memory, for tests.  See test/mongo/README.md.\n"
            "  --bind ADDR        IPv4 address to listen on (default 127.0.0.1)\n"
            "  --port N           port (default 0: a free port, printed and written to --port-file)\n"
            "  --port-file PATH   write the bound port there once listening\n"
            "  --set-name NAME    replica set name (default rs0)\n"
            "  --advertise H:P    host name hello advertises (default ADDR:PORT)\n"
            "  --oplog-size N     oplog entries kept for change streams (default %d)\n"
            "  --setParameter transactionLifetimeLimitSeconds=N\n"
            "                     abort transactions open longer than N s (default 60)\n"
            "  --standalone       hello answers as a standalone server (no replica set);\n"
            "                     only hello changes\n"
            "  --verbose          log every command\n",
            DEFAULT_OPLOG_ENTRIES);
}

/* parse_args: the command line into o; false on bad usage. */
static bool parse_args(int argc, char **argv, options_t *o)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'},     {"port", required_argument, NULL, 'p'},
        {"port-file", required_argument, NULL, 'f'}, {"set-name", required_argument, NULL, 's'},
        {"advertise", required_argument, NULL, 'a'}, {"oplog-size", required_argument, NULL, 'o'},
        {"verbose", no_argument, NULL, 'v'},          {"help", no_argument, NULL, 'h'},
        {"setParameter", required_argument, NULL, 'P'}, {"standalone", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0}};
    int ch;
    char *end;

    *o = (options_t){"127.0.0.1", 0, NULL, "rs0", NULL, DEFAULT_OPLOG_ENTRIES};
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b': o->bind = optarg; break;
        case 'p':
            o->port = (int)strtol(optarg, &end, 10);
            if (*end || o->port < 0 || o->port > 65535) {
                fprintf(stderr, "mongo_double: --port %s: not a port number (0-65535)\n", optarg);
                return false;
            }
            break;
        case 'f': o->port_file = optarg; break;
        case 's': o->set_name = optarg; break;
        case 'a': o->advertise = optarg; break;
        case 'o':
            o->oplog_size = strtol(optarg, &end, 10);
            if (*end || o->oplog_size < 1) {
                fprintf(stderr, "mongo_double: --oplog-size %s: need a number of entries >= 1\n",
                        optarg);
                return false;
            }
            break;
        case 'v': md_verbose = 1; break;
        case 'S': md_server.standalone = true; break;
        case 'P': {
            /* mongod's --setParameter; this one parameter only */
            static const char name[] = "transactionLifetimeLimitSeconds=";
            long n = strncmp(optarg, name, sizeof name - 1) ? 0
                                                            : strtol(optarg + sizeof name - 1, &end, 10);

            if (n < 1 || *end || n > 86400) {
                fprintf(stderr, "mongo_double: --setParameter %s: accepted: "
                        "transactionLifetimeLimitSeconds=N (N from 1 to 86400)\n", optarg);
                return false;
            }
            md_txn_lifetime_s = (int)n;
            break;
        }
        case 'h': usage(stdout); exit(0);
        default: return false;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mongo_double: unexpected argument '%s'\n", argv[optind]);
        return false;
    }
    return true;
}

/* write_port_file: the port, atomically (tmp file + rename). */
static bool write_port_file(const char *path, int port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(f = fopen(tmp, "w")) || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
        rename(tmp, path) != 0) {
        perror("mongo_double: --port-file");
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    options_t o;
    char err[256];
    int port;

    if (!parse_args(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    port = o.port;
    if (!md_net_listen(o.bind, &port, err, sizeof err)) {
        md_log("%s", err);
        return 1;
    }
    if (o.advertise)
        snprintf(md_server.host, sizeof md_server.host, "%s", o.advertise);
    else
        snprintf(md_server.host, sizeof md_server.host, "%s:%d", o.bind, port);
    snprintf(md_server.set_name, sizeof md_server.set_name, "%s", o.set_name);
    bson_oid_init(&md_server.process_id, NULL);
    md_server.started_ms = md_now_ms();
    md_oplog_init((size_t)o.oplog_size);
    md_oplog_set_listener(md_net_oplog_grew);
    md_log("TEST DOUBLE of a MongoDB 6.0 replica-set primary (not a database; in memory); "
           "replica set %s, oplog %ld entries%s", o.set_name, o.oplog_size,
           md_server.standalone ? "; hello answers as a standalone server" : "");
    md_log("listening on %s:%d (mongodb://%s/?replicaSet=%s)", o.bind, port, md_server.host,
           o.set_name);
    if (o.port_file && !write_port_file(o.port_file, port))
        return 1;
    md_net_run();
    md_cursors_free();
    md_sessions_free();
    md_failpoint_free();
    md_auth_info_free();
    md_oplog_free();
    md_store_reset();
    md_log("stopped");
    return 0;
}
