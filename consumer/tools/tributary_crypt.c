/*
 * tributary_crypt.c: the cryptographic transforms' command line as a
 * stand-alone binary (build/tools/tributary_crypt), until main.c
 * dispatches `tributary detokenize ...` to the same code (crypt_cli.h):
 *
 *   tributary_crypt detokenize --key-env PII_KEY --alphabet digits \
 *       --tweak payments.card_number 8214-5521 0930-1183
 */
#include <stdio.h>

#include "crypt_cli.h"

int
main(int argc, char **argv)
{
	if (argc < 2 || !trib_crypt_cli_is_command(argv[1]))
	{
		trib_crypt_cli_usage(stderr);
		return 2;
	}
	return trib_crypt_cli(argc - 1, argv + 1, stdin, stdout, stderr);
}
