/*
 * test_crypt_cli.c: the `tributary hash|tokenize|detokenize|encrypt|
 * decrypt` command line (crypt_cli.c): round trips through the commands,
 * values from arguments and from standard input, exit statuses, and
 * error messages that name positions but never values or keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypt_cli.h"

#define KEY_HEX "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define FERNET_KEY "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="

typedef struct run_result
{
	int			status;
	char	   *out;
	char	   *err;
} run_result;

/* Run the CLI with a NULL-terminated argv and `input` on stdin. */
static run_result
run(const char *input, const char **argv)
{
	run_result	r;
	size_t		outlen,
				errlen;
	FILE	   *in = fmemopen((void *) (input ? input : ""), input ? strlen(input) : 0, "r");
	FILE	   *out = open_memstream(&r.out, &outlen);
	FILE	   *err = open_memstream(&r.err, &errlen);
	int			argc = 0;

	assert_true(in && out && err);
	while (argv[argc])
		argc++;
	r.status = trib_crypt_cli(argc, (char **) argv, in, out, err);
	fclose(in);
	fclose(out);
	fclose(err);
	return r;
}

static void
free_result(run_result *r)
{
	free(r->out);
	free(r->err);
}

static int
setup(void **state)
{
	(void) state;
	setenv("TRIB_CLI_KEY", KEY_HEX, 1);
	setenv("TRIB_CLI_FERNET", FERNET_KEY, 1);
	return 0;
}

/* tokenize then detokenize through the CLI gives the values back. */
static void
test_cli_tokenize_round_trip(void **state)
{
	const char *tok[] = {"tokenize", "--key-env", "TRIB_CLI_KEY", "--tweak", "cards",
	"4111-1111-1111-1111", "5500 0000 0000 0004", NULL};
	run_result	a,
				b;
	const char *det[] = {"detokenize", "--key", "env:TRIB_CLI_KEY", "--tweak-hex",
	"6361726473", NULL};			/* "cards" in hex */

	(void) state;
	a = run(NULL, tok);
	assert_int_equal(a.status, 0);
	assert_string_equal(a.err, "");
	assert_int_equal(strlen(a.out), 40);
	assert_non_null(strstr(a.out, "-"));
	b = run(a.out, det);
	assert_int_equal(b.status, 0);
	assert_string_equal(b.out, "4111-1111-1111-1111\n5500 0000 0000 0004\n");
	free_result(&a);
	free_result(&b);
}

/* encrypt/decrypt for both algorithms; a wrong context fails with 1. */
static void
test_cli_encrypt_decrypt(void **state)
{
	const char *enc_g[] = {"encrypt", "--key-env", "TRIB_CLI_KEY", "--context", "c1",
	"--url", "--", "-secret value-", NULL};
	const char *dec_g[] = {"decrypt", "--key-env", "TRIB_CLI_KEY", "--context", "c1", NULL};
	const char *dec_bad[] = {"decrypt", "--key-env", "TRIB_CLI_KEY", "--context", "c2",
	NULL};
	const char *enc_f[] = {"encrypt", "--key-env", "TRIB_CLI_FERNET", "--algorithm",
	"fernet", "x y", NULL};
	const char *dec_f[] = {"decrypt", "--key-env", "TRIB_CLI_FERNET", "--algorithm",
	"fernet", "--ttl", "3600", NULL};
	run_result	a,
				b,
				c;

	(void) state;
	a = run(NULL, enc_g);
	assert_int_equal(a.status, 0);
	assert_null(strpbrk(a.out, "+/="));
	b = run(a.out, dec_g);
	assert_int_equal(b.status, 0);
	assert_string_equal(b.out, "-secret value-\n");
	c = run(a.out, dec_bad);
	assert_int_equal(c.status, 1);
	assert_string_equal(c.out, "");
	assert_non_null(strstr(c.err, "line 1: decrypt: authentication failed"));
	assert_null(strstr(c.err, "secret"));
	free_result(&a);
	free_result(&b);
	free_result(&c);
	a = run(NULL, enc_f);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.out[0], 'g');	/* 0x80 in base64url */
	b = run(a.out, dec_f);
	assert_int_equal(b.status, 0);
	assert_string_equal(b.out, "x y\n");
	free_result(&a);
	free_result(&b);
}

/* hash: stdin lines (CRLF too), encoding and length options. */
static void
test_cli_hash(void **state)
{
	const char *h[] = {"hash", "--key-env", "TRIB_CLI_KEY", "--context", "email",
	"--encoding", "base64url", "--length", "12", NULL};
	const char *h2[] = {"hash", "--key-env", "TRIB_CLI_KEY", "--context", "email",
	"--encoding", "base64url", "--length", "12", "a@x.org", NULL};
	run_result	a,
				b;

	(void) state;
	a = run("a@x.org\r\nb@x.org\n", h);
	assert_int_equal(a.status, 0);
	assert_int_equal(strlen(a.out), 26);
	b = run(NULL, h2);
	assert_memory_equal(a.out, b.out, 13);	/* CR stripped: same pseudonym */
	free_result(&a);
	free_result(&b);
}

/* Usage and key errors are status 2 and never print key material. */
static void
test_cli_errors(void **state)
{
	const char *nokey[] = {"detokenize", "123456", NULL};
	const char *badopt[] = {"detokenize", "--key-env", "TRIB_CLI_KEY", "--bogus", NULL};
	const char *badalg[] = {"decrypt", "--key-env", "TRIB_CLI_KEY", "--algorithm", "rot13",
	NULL};
	const char *shortkey[] = {"encrypt", "--key-env", "TRIB_CLI_FERNET", "--key-format",
	"hex", "v", NULL};
	const char *badlen[] = {"hash", "--key-env", "TRIB_CLI_KEY", "--length", "-1", "v",
	NULL};
	const char *toolong[] = {"tokenize", "--key-env", "TRIB_CLI_KEY", "12345", "123456",
	NULL};
	const char *notcmd[] = {"frobnicate", NULL};
	run_result	r;

	(void) state;
	r = run(NULL, nokey);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "a key is required"));
	free_result(&r);
	r = run(NULL, badopt);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--bogus"));
	free_result(&r);
	r = run(NULL, badalg);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "accepted: aes-256-gcm, fernet"));
	free_result(&r);
	r = run(NULL, shortkey);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "environment variable TRIB_CLI_FERNET is not valid hex"));
	assert_null(strstr(r.err, "cw_0x"));
	free_result(&r);
	r = run(NULL, badlen);
	assert_int_equal(r.status, 2);
	free_result(&r);
	/* one short value fails (1), the other is still tokenized */
	r = run(NULL, toolong);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "value 1: tokenize: the value has 5 characters"));
	assert_null(strstr(r.err, "12345"));
	assert_int_equal(strlen(r.out), 7);
	free_result(&r);
	r = run(NULL, notcmd);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "usage:"));
	free_result(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_tokenize_round_trip),
		cmocka_unit_test(test_cli_encrypt_decrypt),
		cmocka_unit_test(test_cli_hash),
		cmocka_unit_test(test_cli_errors),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
