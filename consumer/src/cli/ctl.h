/*
 * ctl.h: `tributary ctl`, the client of a running daemon's HTTP endpoint
 * (docs/API.md), so operators never hand-write curl.
 *
 *   tributary ctl status|pipeline|rules|reload [-c FILE | --url URL]
 *                 [--token-file F] [--cacert PEM] [--json]
 *
 * status GETs /status, pipeline /api/v1/pipeline, rules /api/v1/rules;
 * reload POSTs /api/v1/reload and prints its answer (outcome,
 * fingerprints, changes; the error of a 409 or 422 on stderr).
 * The address is --url, else the `http.listen` of the config FILE (whose
 * `http.token_file` also gives the token).  --token-file F sends the
 * token in F (trailing newline ignored) as `Authorization: Bearer`; the
 * token is never printed.  An endpoint with TLS (http.tls_cert_file) is
 * asked over https; --cacert PEM trusts that CA (a self-signed
 * certificate) instead of the system's.  Output: the document as
 * readable text, one `key: value` per line and a line per listed item,
 * or as received with --json.
 *
 * Exit status: 0 answered 200, 1 any other answer or no answer (the
 * status and the server's error message on stderr), 2 bad usage or
 * config.  Pause and resume come with their endpoints.
 *
 * Uses libcurl for HTTP.
 */
#ifndef TRIB_CTL_H
#define TRIB_CTL_H

#include <stdio.h>

/* Run `ctl` with argv[0] = "ctl"; returns the exit status above. */
int			trib_ctl_main(int argc, char **argv, FILE *out, FILE *err);

/* The usage text. */
extern const char trib_ctl_usage[];

#endif							/* TRIB_CTL_H */
