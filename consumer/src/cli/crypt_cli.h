/*
 * crypt_cli.h: the command line of the cryptographic transforms, for
 * authorised use outside the pipeline: look up the pseudonym of a known
 * value, turn tokens and ciphertexts back into values, or produce them.
 *
 *   tributary detokenize --key-env NAME --alphabet digits --tweak T VALUE...
 *   tributary tokenize   --key-file PATH --alphabet alnum --tweak T VALUE...
 *   tributary decrypt    --key-env NAME [--algorithm aes-256-gcm|fernet]
 *                        [--context C] [--ttl SECONDS] VALUE...
 *   tributary encrypt    --key-env NAME [--algorithm ...] [--context C] [--url]
 *   tributary hash       --key-env NAME --context C [--encoding hex|base64|
 *                        base64url] [--length N] VALUE...
 *
 * Key options (one required): --key-env NAME, --key-file PATH, or --key
 * env:NAME / file:PATH; --key-format auto|hex|base64|raw (default auto).
 * The key itself is never an argument.  Tweak: --tweak TEXT (its bytes)
 * or --tweak-hex HEX.  --strict makes characters outside the alphabet an
 * error.  Values come from the arguments after the options ("--" ends
 * the options), or, when there are none, from standard input, one per
 * line (LF or CRLF; prefer this: arguments show in `ps`).  Each result is
 * written on its own line to standard output; a decrypted value is
 * written as its bytes.
 *
 * Exit status: 0 all values done, 1 at least one value failed (each
 * failure is reported on stderr with its 1-based position, without the
 * value), 2 usage or key error.
 *
 * main.c dispatches `tributary <command>` here when
 * trib_crypt_cli_is_command(command); tools/tributary_crypt.c is the same
 * as a stand-alone binary.
 */
#ifndef TRIB_CRYPT_CLI_H
#define TRIB_CRYPT_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* True for "hash", "tokenize", "detokenize", "encrypt", "decrypt". */
bool		trib_crypt_cli_is_command(const char *name);

/*
 * Run argv[0] (the command) with its options and values; in, out and err
 * are the streams to use (stdin/stdout/stderr from main).  Returns the
 * exit status above.  Uses getopt_long (resets optind).
 */
int			trib_crypt_cli(int argc, char **argv, FILE *in, FILE *out, FILE *err);

/* The usage text of the commands. */
void		trib_crypt_cli_usage(FILE *to);

#endif							/* TRIB_CRYPT_CLI_H */
