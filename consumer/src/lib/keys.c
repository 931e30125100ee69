/*
 * keys.c: loading key material from the environment or a file (see
 * keys.h).
 *
 * Every path goes through trib_key_parse(): trim (text formats), decode
 * into a scratch buffer, copy into an OPENSSL_malloc'd key, wipe the
 * scratch.  File contents are read into a buffer that is wiped before it
 * is freed.  No message ever includes key text; decoding errors say only
 * which source and which formats were tried.
 */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base64.h"
#include "errf.h"
#include "hex.h"
#include "log.h"
#include "strbuf.h"
#include "words.h"

static const char *const format_names[] = {
	[TRIB_KEY_AUTO] = "auto",
	[TRIB_KEY_HEX] = "hex",
	[TRIB_KEY_BASE64] = "base64",
	[TRIB_KEY_RAW] = "raw",
};

TRIB_WORDS_PARSER(trib_key_format_parse, trib_key_format, format_names, "key format")

const char *
trib_key_format_name(trib_key_format format)
{
	return trib_words_name(format_names, TRIB_NWORDS(format_names), (int) format);
}

/* A key holding a copy of bytes[0..len). */
static trib_key *
key_new(const unsigned char *bytes, size_t len, const char *source)
{
	trib_key   *k = trib_xcalloc(1, sizeof(*k));

	k->bytes = OPENSSL_malloc(len > 0 ? len : 1);
	if (k->bytes == NULL)
		abort();
	if (len > 0)
		memcpy(k->bytes, bytes, len);
	k->len = len;
	k->source = trib_xstrdup(source);
	return k;
}

void
trib_key_free(trib_key *key)
{
	if (key == NULL)
		return;
	OPENSSL_clear_free(key->bytes, key->len > 0 ? key->len : 1);
	free(key->source);
	free(key);
}

trib_key *
trib_key_dup(const trib_key *key)
{
	return key_new(key->bytes, key->len, key->source);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Narrow [*text, *text + *len) to drop ASCII whitespace at both ends. */
static void
trim(const char **text, size_t *len)
{
	while (*len > 0 && is_space((*text)[0]))
	{
		(*text)++;
		(*len)--;
	}
	while (*len > 0 && is_space((*text)[*len - 1]))
		(*len)--;
}

/* Decode text as `format` (hex or base64) into out; false when invalid. */
static bool
decode_as(const char *text, size_t len, trib_key_format format,
		  unsigned char *out, size_t *outlen)
{
	if (format == TRIB_KEY_HEX)
		return trib_hex_decode(text, len, out, outlen);
	return trib_b64_decode(text, len, TRIB_B64_ANY, TRIB_B64_PAD_OPTIONAL, out, outlen);
}

trib_key *
trib_key_parse(const char *text, size_t len, trib_key_format format,
			   const char *source, char *errbuf, size_t errlen)
{
	unsigned char *scratch;
	size_t		cap;
	size_t		n = 0;
	bool		ok;
	trib_key   *k;

	if (format == TRIB_KEY_RAW)
	{
		if (len == 0)
		{
			snprintf(errbuf, errlen, "key from %s is empty", source);
			return NULL;
		}
		return key_new((const unsigned char *) text, len, source);
	}
	trim(&text, &len);
	if (len == 0)
	{
		snprintf(errbuf, errlen, "key from %s is empty", source);
		return NULL;
	}
	cap = trib_b64_decoded_max(len) + 1;
	scratch = OPENSSL_malloc(cap);
	if (scratch == NULL)
		abort();
	/* auto: only hex digits (an even count) is hex, anything else base64 */
	ok = decode_as(text, len, format == TRIB_KEY_AUTO ?
				   (trib_hex_valid(text, len) ? TRIB_KEY_HEX : TRIB_KEY_BASE64) :
				   format, scratch, &n);
	if (!ok)
	{
		OPENSSL_clear_free(scratch, cap);
		if (format == TRIB_KEY_AUTO)
			snprintf(errbuf, errlen, "key from %s is neither hex nor base64 "
					 "(accepted: hex digits, base64 or base64url; for a binary "
					 "key file set format: raw)", source);
		else
			snprintf(errbuf, errlen, "key from %s is not valid %s%s", source,
					 format_names[format], format == TRIB_KEY_HEX ?
					 " (an even number of hex digits)" :
					 " (RFC 4648 base64 or base64url, padding optional)");
		return NULL;
	}
	if (n == 0)
	{
		OPENSSL_clear_free(scratch, cap);
		snprintf(errbuf, errlen, "key from %s is empty", source);
		return NULL;
	}
	k = key_new(scratch, n, source);
	OPENSSL_clear_free(scratch, cap);
	return k;
}

/* Register the text form of a key with the log's redaction. */
static void
register_secret(const char *text, size_t len, trib_key_format format)
{
	char	   *copy;

	if (format == TRIB_KEY_RAW)
		return;
	trim(&text, &len);
	if (len < 8 || memchr(text, '\0', len) != NULL)
		return;
	copy = trib_xstrndup(text, len);
	trib_log_add_secret(copy);
	OPENSSL_cleanse(copy, len);
	free(copy);
}

trib_key *
trib_key_from_env(const char *name, trib_key_format format, char *errbuf,
				  size_t errlen)
{
	const char *val = getenv(name);
	trib_strbuf src = {0};
	trib_key   *k;

	trib_strbuf_printf(&src, "environment variable %s", name);
	if (val == NULL)
	{
		snprintf(errbuf, errlen, "key from %s: the variable is not set", src.data);
		trib_strbuf_free(&src);
		return NULL;
	}
	k = trib_key_parse(val, strlen(val), format, src.data, errbuf, errlen);
	if (k != NULL)
		register_secret(val, strlen(val), format);
	trib_strbuf_free(&src);
	return k;
}

/* Read at most TRIB_KEY_FILE_MAX bytes of a regular file into buf. */
static bool
read_key_file(const char *path, unsigned char *buf, size_t *len, char *errbuf,
			  size_t errlen)
{
	/* O_NONBLOCK: a FIFO given by mistake is refused below, not waited on */
	int			fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	size_t		n = 0;

	if (fd < 0)
		return trib_errf(errbuf, errlen, "key file %s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		snprintf(errbuf, errlen, "key file %s: not a regular file", path);
		close(fd);
		return false;
	}
	for (;;)
	{
		ssize_t		r = read(fd, buf + n, TRIB_KEY_FILE_MAX + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
		{
			snprintf(errbuf, errlen, "key file %s: cannot read: %s", path, strerror(errno));
			close(fd);
			return false;
		}
		if (r == 0)
			break;
		n += (size_t) r;
		if (n > TRIB_KEY_FILE_MAX)
		{
			snprintf(errbuf, errlen, "key file %s: larger than %d bytes; a key "
					 "file holds one key", path, TRIB_KEY_FILE_MAX);
			close(fd);
			return false;
		}
	}
	close(fd);
	*len = n;
	return true;
}

trib_key *
trib_key_from_file(const char *path, trib_key_format format, char *errbuf,
				   size_t errlen)
{
	unsigned char *buf = OPENSSL_malloc(TRIB_KEY_FILE_MAX + 1);
	size_t		n = 0;
	trib_strbuf src = {0};
	trib_key   *k = NULL;

	if (buf == NULL)
		abort();
	trib_strbuf_printf(&src, "key file %s", path);
	if (read_key_file(path, buf, &n, errbuf, errlen))
	{
		k = trib_key_parse((const char *) buf, n, format, src.data, errbuf, errlen);
		if (k != NULL)
			register_secret((const char *) buf, n, format);
	}
	OPENSSL_clear_free(buf, TRIB_KEY_FILE_MAX + 1);
	trib_strbuf_free(&src);
	return k;
}

trib_key *
trib_key_from_ref(const char *ref, trib_key_format format, char *errbuf,
				  size_t errlen)
{
	if (strncmp(ref, "env:", 4) == 0 && ref[4] != '\0')
		return trib_key_from_env(ref + 4, format, errbuf, errlen);
	if (strncmp(ref, "file:", 5) == 0 && ref[5] != '\0')
		return trib_key_from_file(ref + 5, format, errbuf, errlen);
	snprintf(errbuf, errlen, "key reference must be env:NAME or file:PATH");
	return NULL;
}

/* "16, 24 or 32" for lens[0..n). */
static void
list_lens(trib_strbuf *b, const size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++)
		trib_strbuf_printf(b, "%s%zu", i == 0 ? "" : i + 1 == n ? " or " : ", ",
						   lens[i]);
}

bool
trib_key_require_lens(const trib_key *key, const size_t *lens, size_t nlens,
					  const char *purpose, char *errbuf, size_t errlen)
{
	trib_strbuf b = {0};

	for (size_t i = 0; i < nlens; i++)
		if (key->len == lens[i])
			return true;
	list_lens(&b, lens, nlens);
	snprintf(errbuf, errlen, "key from %s is %zu bytes; %s needs %s bytes",
			 key->source, key->len, purpose, b.data);
	trib_strbuf_free(&b);
	return false;
}

bool
trib_key_require_range(const trib_key *key, size_t min, size_t max,
					   const char *purpose, char *errbuf, size_t errlen)
{
	if (key->len >= min && key->len <= max)
		return true;
	snprintf(errbuf, errlen, "key from %s is %zu bytes; %s needs %zu to %zu bytes",
			 key->source, key->len, purpose, min, max);
	return false;
}
