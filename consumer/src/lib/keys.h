/*
 * keys.h: key material for the cryptographic transforms (hash, tokenize,
 * encrypt), read from an environment variable or a file.
 *
 * Design.  A rule names where its key lives, never the key itself:
 *
 *     key: {env: TRIB_PII_KEY}                  -- environment variable
 *     key: {file: /run/secrets/pii.key}         -- file
 *     key: {file: /run/secrets/pii.bin, format: raw}
 *
 * Formats (`format`, default auto):
 *   hex     hex digits, either case, even count
 *   base64  RFC 4648 base64, standard (+/) or URL-safe (-_) alphabet,
 *           padding optional (a Fernet key is URL-safe base64 of 32 bytes)
 *   raw     the bytes exactly as stored (a file of 32 random bytes); from
 *           an environment variable, its bytes as they are
 *   auto    hex when the text is only hex digits (an even count), else
 *           base64 when it is valid base64, else an error that says to
 *           set format: raw for a binary key file
 * For hex, base64 and auto, leading and trailing ASCII whitespace (the
 * newline at the end of a file) is ignored.  Whether the length fits is
 * up to the strategy (trib_key_require_len): AES wants 16/24/32 bytes,
 * AES-256-GCM and Fernet 32, HMAC at least 16.
 *
 * Secrets.  Error messages name the source ("environment variable
 * TRIB_PII_KEY", "key file /run/secrets/pii.key") and what is accepted,
 * never the value.  The text of a hex/base64 key read from the environment
 * or a file is registered with the log's redaction (trib_log_add_secret).
 * The key bytes live in memory from OPENSSL_malloc and are wiped with
 * OPENSSL_cleanse when the key is freed; intermediate copies are wiped
 * too.
 *
 * Ownership: every constructor returns a key the caller frees with
 * trib_key_free(), or NULL with errbuf filled.
 */
#ifndef TRIB_KEYS_H
#define TRIB_KEYS_H

#include <stdbool.h>
#include <stddef.h>

/* The largest key file read (a key is at most a few dozen bytes). */
#define TRIB_KEY_FILE_MAX 4096

typedef enum trib_key_format
{
	TRIB_KEY_AUTO,
	TRIB_KEY_HEX,
	TRIB_KEY_BASE64,
	TRIB_KEY_RAW
} trib_key_format;

typedef struct trib_key
{
	unsigned char *bytes;		/* len bytes; wiped on free */
	size_t		len;
	char	   *source;			/* "environment variable X" / "key file P" */
} trib_key;

/* "auto", "hex", "base64", "raw" to a format; errbuf lists them. */
bool		trib_key_format_parse(const char *name, trib_key_format *out,
								  char *errbuf, size_t errlen);

/* The name of a format ("auto", ...). */
const char *trib_key_format_name(trib_key_format format);

/* The key in environment variable `name`. */
trib_key   *trib_key_from_env(const char *name, trib_key_format format,
							  char *errbuf, size_t errlen);

/* The key in the file at `path` (at most TRIB_KEY_FILE_MAX bytes). */
trib_key   *trib_key_from_file(const char *path, trib_key_format format,
							   char *errbuf, size_t errlen);

/*
 * A key reference as a command line gives it: "env:NAME" or "file:PATH".
 */
trib_key   *trib_key_from_ref(const char *ref, trib_key_format format,
							  char *errbuf, size_t errlen);

/*
 * Parse key text[0..len) in `format`; `source` names where it came from in
 * error messages (and in the key).  The parser behind the loaders above,
 * exposed for tests and fuzzing; it registers nothing with the log.
 */
trib_key   *trib_key_parse(const char *text, size_t len, trib_key_format format,
						   const char *source, char *errbuf, size_t errlen);

/*
 * Check the key is one of lens[0..nlens) bytes long.  `purpose` names the
 * user ("tokenize (FF1-AES)") in the message, which also gives the source
 * and the lengths accepted, e.g. "key from environment variable K is 20
 * bytes; tokenize (FF1-AES) needs 16, 24 or 32 bytes".
 */
bool		trib_key_require_lens(const trib_key *key, const size_t *lens,
								  size_t nlens, const char *purpose,
								  char *errbuf, size_t errlen);

/* Check the key is between min and max bytes long (same message style). */
bool		trib_key_require_range(const trib_key *key, size_t min, size_t max,
								   const char *purpose, char *errbuf, size_t errlen);

/* A copy of the key (own bytes, own source). */
trib_key   *trib_key_dup(const trib_key *key);

/* Wipe and free the key; NULL is fine. */
void		trib_key_free(trib_key *key);

#endif							/* TRIB_KEYS_H */
