/*
 * mask_fake.h: realistic fake values for the substitute strategy, and the
 * dictionaries they are drawn from.
 *
 * Design.  A fake value is a pure function of a 32-byte seed (the
 * strategy derives the seed with HMAC-SHA256 from the key and the input,
 * mask.c), so equal inputs give equal fakes everywhere.  The seed is
 * stretched into as many random words as a generator needs by SHA-256 in
 * counter mode.  Names, streets, cities, companies, countries, jobs and
 * e-mail domains come from dictionaries shipped in data/fake/ (one entry a
 * line, UTF-8, '#' comments), loaded once at start-up; numbers with check
 * digits (IBAN per ISO 13616 mod 97, card numbers per Luhn) and the other
 * identifiers (mask_fake_ids.c) are computed.
 *
 * Kinds have one canonical name each (the PRF context, so renaming one
 * would change every fake) and may have aliases: Python Faker's provider
 * names, which the copy-and-sanitize format's `field_type` uses (name,
 * user_name, phone_number, credit_card_number).
 *
 * Where the dictionaries are: trib_fake_dicts_load(dir) reads dir when it
 * is not NULL (the rule engine passes its config option), else
 * $TRIBUTARY_DATA_DIR/fake when that variable is set, else the install
 * location TRIB_DATADIR/fake (`make install` puts the files there;
 * TRIB_DATADIR defaults to /usr/local/share/tributary).
 *
 * Ownership: trib_fake_dicts owns all its strings; free with
 * trib_fake_dicts_free().  It is immutable after loading and may be shared
 * between threads.
 */
#ifndef TRIB_MASK_FAKE_H
#define TRIB_MASK_FAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

typedef enum trib_fake_kind
{
	TRIB_FAKE_FIRST_NAME = 0,
	TRIB_FAKE_LAST_NAME,
	TRIB_FAKE_FULL_NAME,
	TRIB_FAKE_EMAIL,
	TRIB_FAKE_PHONE,
	TRIB_FAKE_STREET_ADDRESS,
	TRIB_FAKE_CITY,
	TRIB_FAKE_COMPANY,
	TRIB_FAKE_USERNAME,
	TRIB_FAKE_IBAN,
	TRIB_FAKE_CREDIT_CARD,
	TRIB_FAKE_SAFE_EMAIL,
	TRIB_FAKE_ADDRESS,
	TRIB_FAKE_POSTCODE,
	TRIB_FAKE_COUNTRY,
	TRIB_FAKE_JOB,
	TRIB_FAKE_SSN,
	TRIB_FAKE_DATE_OF_BIRTH,
	TRIB_FAKE_IPV4,
	TRIB_FAKE_URL,
	TRIB_FAKE_UUID4
} trib_fake_kind;

#define TRIB_FAKE_NKINDS (TRIB_FAKE_UUID4 + 1)

/* One dictionary: entries in file order. */
typedef struct trib_fake_list
{
	char	  **items;
	size_t		count;
} trib_fake_list;

/* The dictionaries, one per data file. */
typedef struct trib_fake_dicts
{
	trib_fake_list first_names; /* first_names.txt */
	trib_fake_list last_names;	/* last_names.txt */
	trib_fake_list streets;		/* streets.txt */
	trib_fake_list cities;		/* cities.txt */
	trib_fake_list companies;	/* companies.txt */
	trib_fake_list domains;		/* domains.txt */
	trib_fake_list countries;	/* countries.txt */
	trib_fake_list jobs;		/* jobs.txt */
} trib_fake_dicts;

/* Every dictionary must have at least this many entries. */
#define TRIB_FAKE_MIN_ENTRIES 10
/* An entry is at most this many bytes. */
#define TRIB_FAKE_MAX_ENTRY 100

/* The directory trib_fake_dicts_load(NULL) reads (see above). */
const char *trib_fake_default_dir(void);

/*
 * Load every dictionary from dir (NULL: the default).  Errors name the
 * file and line: a missing file, invalid UTF-8, a control character, an
 * entry over TRIB_FAKE_MAX_ENTRY bytes, too few entries, a domain that is
 * not a lower-case host name.
 */
trib_fake_dicts *trib_fake_dicts_load(const char *dir, char *errbuf,
									  size_t errlen);

void		trib_fake_dicts_free(trib_fake_dicts *d);

/*
 * Parse one dictionary from memory (what the loader does per file; the
 * fuzz target's entry).  `name` is used in errors ("first_names.txt:12:
 * ...").  domains: also require host-name syntax.  On success *out owns
 * the entries; free with trib_fake_list_free().
 */
bool		trib_fake_list_parse(const char *name, const char *buf,
								 size_t len, bool domains,
								 trib_fake_list *out, char *errbuf,
								 size_t errlen);

void		trib_fake_list_free(trib_fake_list *l);

/*
 * Append the fake of kind derived from seed to out.  `input` (the
 * original value's text, may be NULL) only shapes the format: a card
 * number keeps the input's digit count and separators when it has 13-19
 * digits, an IBAN keeps the input's country when it is a supported one
 * (else iban_country), and keeps print format (groups of four) when the
 * input had spaces; a postcode keeps the input's shape when it looks like
 * one (mask_fake_ids.c).  Returns false only for an unsupported
 * iban_country.
 */
bool		trib_fake_generate(const trib_fake_dicts *d, trib_fake_kind kind,
							   const unsigned char seed[32],
							   const char *input, size_t inlen,
							   const char *iban_country, trib_strbuf *out,
							   char *errbuf, size_t errlen);

/* True when country (e.g. "DE") has a known IBAN layout. */
bool		trib_fake_iban_country_ok(const char *country);

/* ISO 13616 check: 2 letters, 2 digits, BBAN, mod 97 == 1, and the length
 * for the country when known.  Spaces are ignored. */
bool		trib_fake_iban_valid(const char *s);

/* Luhn check over the digits of s (separators ignored); needs >= 2. */
bool		trib_fake_luhn_valid(const char *s);

/* Config words <-> kinds: "first_name", "email", "credit_card", ...; parse
 * takes the aliases too ("name", "phone_number", ...), name gives the
 * canonical word. */
bool		trib_fake_kind_parse(const char *s, trib_fake_kind *out);
const char *trib_fake_kind_name(trib_fake_kind k);

/* Append every word trib_fake_kind_parse() accepts, ", "-separated. */
void		trib_fake_kind_list(trib_strbuf *out);

#endif							/* TRIB_MASK_FAKE_H */
