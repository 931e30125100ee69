/*
 * crypt_cli.c: `tributary hash|tokenize|detokenize|encrypt|decrypt`
 * (see crypt_cli.h).
 *
 * Options are parsed into one struct; the command builds the one
 * transform it needs (hasher, tokenizer, GCM or Fernet instance) and then
 * applies it to every value, from the arguments or standard input.  A
 * failing value is reported by position and skipped; a bad option or key
 * stops before any value is read.
 */
#include "crypt_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "hex.h"
#include "keys.h"
#include "mask_fernet.h"
#include "mask_gcm.h"
#include "mask_hash.h"
#include "mask_tokenize.h"
#include "strbuf.h"

typedef enum cli_cmd
{
	CMD_HASH,
	CMD_TOKENIZE,
	CMD_DETOKENIZE,
	CMD_ENCRYPT,
	CMD_DECRYPT
} cli_cmd;

static const char *const cmd_names[] = {
	[CMD_HASH] = "hash", [CMD_TOKENIZE] = "tokenize", [CMD_DETOKENIZE] = "detokenize",
	[CMD_ENCRYPT] = "encrypt", [CMD_DECRYPT] = "decrypt",
};

typedef struct cli_opts
{
	cli_cmd		cmd;
	char	   *key_ref;		/* env:NAME or file:PATH; owned */
	trib_key_format key_format;
	trib_mask_token_alphabet alphabet;
	unsigned char *tweak;
	size_t		tweaklen;
	bool		strict;
	const char *context;
	trib_mask_hash_encoding encoding;
	size_t		length;
	bool		fernet;
	bool		url;
	int64_t		ttl;
} cli_opts;

/* The transform built for the command. */
typedef struct cli_xf
{
	trib_mask_hash *hasher;
	trib_mask_tokenizer *tok;
	trib_gcm   *gcm;
	trib_fernet *fernet;
} cli_xf;

bool
trib_crypt_cli_is_command(const char *name)
{
	for (size_t i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (strcmp(name, cmd_names[i]) == 0)
			return true;
	return false;
}

void
trib_crypt_cli_usage(FILE *to)
{
	fputs("usage:\n"
		  "  tributary detokenize|tokenize KEY --alphabet A [--tweak T|--tweak-hex H] "
		  "[--strict] [VALUE...]\n"
		  "  tributary decrypt|encrypt KEY [--algorithm aes-256-gcm|fernet] [--context C]\n"
		  "                    [--ttl SECONDS (decrypt, fernet)] [--url (encrypt, gcm)] "
		  "[VALUE...]\n"
		  "  tributary hash KEY [--context C] [--encoding hex|base64|base64url] "
		  "[--length N] [VALUE...]\n"
		  "KEY: --key-env NAME | --key-file PATH | --key env:NAME|file:PATH, "
		  "[--key-format auto|hex|base64|raw]\n"
		  "alphabets: digits, alnum-lower, alnum-upper, alnum\n"
		  "Without VALUE arguments, values are read from standard input, one per line.\n"
		  "Exit status: 0 done, 1 a value failed, 2 usage or key error.\n", to);
}

/* Parse a non-negative decimal number; false when it is not one. */
static bool
parse_count(const char *s, long long max, long long *out)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

/* Store the tweak from text or hex. */
static bool
set_tweak(cli_opts *o, const char *s, bool hex, FILE *err)
{
	size_t		n = strlen(s);

	free(o->tweak);
	o->tweak = trib_xmalloc(n + 1);
	if (!hex)
	{
		memcpy(o->tweak, s, n);
		o->tweaklen = n;
		return true;
	}
	if (!trib_hex_decode(s, n, o->tweak, &o->tweaklen))
	{
		fprintf(err, "tributary %s: --tweak-hex must be an even number of hex digits\n",
				cmd_names[o->cmd]);
		return false;
	}
	return true;
}

/* Apply one option; false (message written) when its value is bad. */
static bool
apply_opt(cli_opts *o, int c, const char *arg, FILE *err)
{
	char		msg[256];
	long long	v;
	trib_strbuf ref = {0};

	switch (c)
	{
		case 'E':
		case 'F':
		case 'k':
			if (c != 'k')
				trib_strbuf_printf(&ref, "%s:", c == 'E' ? "env" : "file");
			trib_strbuf_adds(&ref, arg);
			free(o->key_ref);
			o->key_ref = trib_strbuf_finish(&ref);
			return true;
		case 'f':
			if (trib_key_format_parse(arg, &o->key_format, msg, sizeof(msg)))
				return true;
			break;
		case 'a':
			if (trib_mask_tokenize_alphabet_parse(arg, &o->alphabet, msg, sizeof(msg)))
				return true;
			break;
		case 't':
		case 'x':
			return set_tweak(o, arg, c == 'x', err);
		case 's':
			o->strict = true;
			return true;
		case 'c':
			o->context = arg;
			return true;
		case 'e':
			if (trib_mask_hash_encoding_parse(arg, &o->encoding, msg, sizeof(msg)))
				return true;
			break;
		case 'l':
			if (parse_count(arg, 4096, &v))
			{
				o->length = (size_t) v;
				return true;
			}
			snprintf(msg, sizeof(msg), "--length must be a number of characters (0 for all)");
			break;
		case 'A':
			if (strcmp(arg, "aes-256-gcm") == 0 || strcmp(arg, "fernet") == 0)
			{
				o->fernet = strcmp(arg, "fernet") == 0;
				return true;
			}
			snprintf(msg, sizeof(msg), "unknown --algorithm \"%s\" (accepted: aes-256-gcm, "
					 "fernet)", arg);
			break;
		case 'u':
			o->url = true;
			return true;
		case 'T':
			if (parse_count(arg, INT64_C(1) << 40, &v))
			{
				o->ttl = v;
				return true;
			}
			snprintf(msg, sizeof(msg), "--ttl must be a number of seconds");
			break;
		default:
			return false;
	}
	fprintf(err, "tributary %s: %s\n", cmd_names[o->cmd], msg);
	return false;
}

/* Parse argv into o; *first is the index of the first value.  0 or 2. */
static int
parse_opts(int argc, char **argv, cli_opts *o, int *first, FILE *err)
{
	static const struct option longopts[] = {
		{"key-env", required_argument, NULL, 'E'},
		{"key-file", required_argument, NULL, 'F'},
		{"key", required_argument, NULL, 'k'},
		{"key-format", required_argument, NULL, 'f'},
		{"alphabet", required_argument, NULL, 'a'},
		{"tweak", required_argument, NULL, 't'},
		{"tweak-hex", required_argument, NULL, 'x'},
		{"strict", no_argument, NULL, 's'},
		{"context", required_argument, NULL, 'c'},
		{"encoding", required_argument, NULL, 'e'},
		{"length", required_argument, NULL, 'l'},
		{"algorithm", required_argument, NULL, 'A'},
		{"url", no_argument, NULL, 'u'},
		{"ttl", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int			c;

	optind = 0;					/* glibc: full re-initialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1)
	{
		if (c == 'h')
		{
			trib_crypt_cli_usage(err);
			return 2;
		}
		if (c == '?' || c == ':')
		{
			fprintf(err, "tributary %s: unknown option or missing value: %s\n",
					cmd_names[o->cmd], argv[optind - 1]);
			trib_crypt_cli_usage(err);
			return 2;
		}
		if (!apply_opt(o, c, optarg, err))
			return 2;
	}
	if (o->key_ref == NULL)
	{
		fprintf(err, "tributary %s: a key is required (--key-env NAME, --key-file PATH "
				"or --key env:NAME|file:PATH)\n", cmd_names[o->cmd]);
		return 2;
	}
	*first = optind;
	return 0;
}

/* Build the transform the command needs; false with msg. */
static bool
build_xf(const cli_opts *o, const trib_key *key, cli_xf *x, char *msg, size_t len)
{
	const char *ctx = o->context ? o->context : "";

	switch (o->cmd)
	{
		case CMD_HASH:
			x->hasher = trib_mask_hash_new(key, ctx, strlen(ctx), o->encoding, o->length,
										   msg, len);
			return x->hasher != NULL;
		case CMD_TOKENIZE:
		case CMD_DETOKENIZE:
			x->tok = trib_mask_tokenize_new(key, o->alphabet, o->tweak, o->tweaklen, o->strict,
											msg, len);
			return x->tok != NULL;
		case CMD_ENCRYPT:
		case CMD_DECRYPT:
			if (o->fernet)
				x->fernet = trib_fernet_new(key, msg, len);
			else
				x->gcm = trib_gcm_new(key, ctx, strlen(ctx), o->url, msg, len);
			return x->fernet != NULL || x->gcm != NULL;
	}
	return false;
}

static void
free_xf(cli_xf *x)
{
	trib_mask_hash_free(x->hasher);
	trib_mask_tokenize_free(x->tok);
	trib_gcm_free(x->gcm);
	trib_fernet_free(x->fernet);
}

/* Transform one value and print the result line; false with msg. */
static bool
run_one(const cli_opts *o, cli_xf *x, const char *v, size_t n, FILE *out, char *msg,
		size_t len)
{
	char	   *res = NULL;
	unsigned char *plain = NULL;
	size_t		rn = 0;
	bool		ok = false;

	switch (o->cmd)
	{
		case CMD_HASH:
			ok = trib_mask_hash_apply(x->hasher, v, n, &res, &rn, msg, len);
			break;
		case CMD_TOKENIZE:
		case CMD_DETOKENIZE:
			ok = (o->cmd == CMD_TOKENIZE ? trib_mask_tokenize
				  : trib_mask_tokenize_reverse) (x->tok, v, n, &res, msg, len);
			rn = n;
			break;
		case CMD_ENCRYPT:
			ok = o->fernet ? trib_fernet_encrypt(x->fernet, v, n, (int64_t) time(NULL), &res,
												 &rn, msg, len) :
				trib_gcm_encrypt(x->gcm, v, n, &res, &rn, msg, len);
			break;
		case CMD_DECRYPT:
			ok = o->fernet ? trib_fernet_decrypt(x->fernet, v, n, o->ttl, (int64_t) time(NULL),
												 &plain, &rn, msg, len) :
				trib_gcm_decrypt(x->gcm, v, n, &plain, &rn, msg, len);
			res = (char *) plain;
			break;
	}
	if (ok)
	{
		fwrite(res, 1, rn, out);
		fputc('\n', out);
		OPENSSL_cleanse(res, rn);
	}
	free(res);
	return ok;
}

/* Apply the transform to each value; returns 0 or 1. */
static int
run_values(const cli_opts *o, cli_xf *x, int argc, char **argv, int first, FILE *in,
		   FILE *out, FILE *err)
{
	char		msg[512];
	int			status = 0;
	size_t		pos = 0;
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		n;

	for (int i = first; i < argc; i++)
		if (!run_one(o, x, argv[i], strlen(argv[i]), out, msg, sizeof(msg)))
		{
			fprintf(err, "tributary %s: value %d: %s\n", cmd_names[o->cmd], i - first + 1, msg);
			status = 1;
		}
	if (first < argc)
		return status;
	while ((n = getline(&line, &cap, in)) >= 0)
	{
		pos++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (!run_one(o, x, line, (size_t) n, out, msg, sizeof(msg)))
		{
			fprintf(err, "tributary %s: line %zu: %s\n", cmd_names[o->cmd], pos, msg);
			status = 1;
		}
		OPENSSL_cleanse(line, cap);
	}
	free(line);
	return status;
}

int
trib_crypt_cli(int argc, char **argv, FILE *in, FILE *out, FILE *err)
{
	cli_opts	o = {.key_format = TRIB_KEY_AUTO, .alphabet = TRIB_ALPHA_DIGITS};
	cli_xf		x = {0};
	char		msg[512];
	trib_key   *key = NULL;
	int			first = argc;
	int			status = 2;

	for (size_t i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (argc > 0 && strcmp(argv[0], cmd_names[i]) == 0)
			o.cmd = (cli_cmd) i;
	if (argc < 1 || !trib_crypt_cli_is_command(argv[0]))
	{
		trib_crypt_cli_usage(err);
		return 2;
	}
	if (parse_opts(argc, argv, &o, &first, err) == 0)
	{
		key = trib_key_from_ref(o.key_ref, o.key_format, msg, sizeof(msg));
		if (key == NULL || !build_xf(&o, key, &x, msg, sizeof(msg)))
			fprintf(err, "tributary %s: %s\n", cmd_names[o.cmd], msg);
		else
		{
			status = run_values(&o, &x, argc, argv, first, in, out, err);
			fflush(out);
		}
	}
	free_xf(&x);
	trib_key_free(key);
	free(o.tweak);
	free(o.key_ref);
	return status;
}
