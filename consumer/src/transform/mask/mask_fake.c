/*
 * mask_fake.c: fake values and their dictionaries (see mask_fake.h).
 *
 * Randomness.  Each generator draws words from a stream seeded by the
 * caller's 32-byte seed (mask_fake_int.h): block i is SHA-256(seed || i),
 * taken 8 bytes at a time.  A choice among n entries is word % n; with
 * 64-bit words and n at most a few thousand the bias is below 2^-50.
 * SHA-256 is fetched from OpenSSL once per process (an implicit fetch per
 * block cost more than the hash of 36 bytes), and each thread hashes on
 * one digest context of its own, reset per block (no context allocated
 * and freed per block).
 *
 * Formats.  E-mail addresses and user names are built from a fake first
 * and last name folded to ASCII (a small table maps the Latin letters with
 * diacritics the name lists use; other characters are dropped) under a
 * reserved domain (domains.txt: example.com/.net/.org, *.example, *.test).
 * Phone numbers are North American numbers in 555-0100..555-0199, the
 * range reserved for fiction.  IBANs follow each country's BBAN layout,
 * with the ISO 13616 mod-97 check digits and, for BE, ES and FR, the
 * national check digits too.  Card numbers take a realistic issuer prefix
 * for their length and a Luhn check digit.  `safe_email` uses only
 * example.com/.net/.org; `address` is one line, "<street address>, <city>
 * <postcode>"; `country` and `job` are entries of countries.txt and
 * jobs.txt.  Identifiers, dates and network values: mask_fake_ids.c.
 */
#include "mask_fake.h"
#include "mask_fake_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include <openssl/evp.h>

#include "errf.h"
#include "fileio.h"
#include "utf8.h"
#include "words.h"
#include "xalloc.h"

#ifndef TRIB_DATADIR
#define TRIB_DATADIR "/usr/local/share/tributary"
#endif

/* Dictionary files larger than this are refused. */
#define DICT_MAX_BYTES (16u << 20)

/* ---- randomness ---------------------------------------------------------- */

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;		/* fetched once, kept for the process */
static pthread_key_t md_ctx_key;	/* frees a thread's context at its exit */

/* Each thread's digest context, reused block after block: EVP_Digest
 * allocated, set up and freed one per block (~1,000 instructions over the
 * block's own).  Freed by the key's destructor when the thread exits. */
static _Thread_local EVP_MD_CTX *md_ctx;

static void
md_ctx_free(void *p)
{
	EVP_MD_CTX_free(p);
}

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (pthread_key_create(&md_ctx_key, md_ctx_free) != 0)
		abort();
}

/* SHA-256, fetched on first use. */
static const EVP_MD *
sha256(void)
{
	if (pthread_once(&sha256_once, sha256_fetch) != 0 || sha256_md == NULL)
		abort();
	return sha256_md;
}

/* SHA-256 of in[0..n) into out, on the thread's context. */
static void
sha256_block(const unsigned char *in, size_t n, unsigned char out[32])
{
	const EVP_MD *md = sha256();

	if (md_ctx == NULL)
	{
		if ((md_ctx = EVP_MD_CTX_new()) == NULL ||
			pthread_setspecific(md_ctx_key, md_ctx) != 0)
			abort();
	}
	if (!EVP_DigestInit_ex2(md_ctx, md, NULL) || !EVP_DigestUpdate(md_ctx, in, n) ||
		!EVP_DigestFinal_ex(md_ctx, out, NULL))
		abort();
}

void
fake_rng_init(fake_rng *r, const unsigned char seed[32])
{
	memcpy(r->seed, seed, 32);
	r->counter = 0;
	r->pos = sizeof(r->block);
}

/* The next 64 random bits. */
uint64_t
fake_rng_u64(fake_rng *r)
{
	uint64_t	v = 0;

	if (r->pos + 8 > sizeof(r->block))
	{
		unsigned char in[36];

		memcpy(in, r->seed, 32);
		in[32] = (unsigned char) (r->counter >> 24);
		in[33] = (unsigned char) (r->counter >> 16);
		in[34] = (unsigned char) (r->counter >> 8);
		in[35] = (unsigned char) r->counter;
		r->counter++;
		sha256_block(in, sizeof(in), r->block);
		r->pos = 0;
	}
	for (int i = 0; i < 8; i++)
		v = (v << 8) | r->block[r->pos++];
	return v;
}

/* Uniform in [0, n). */
uint64_t
fake_rng_below(fake_rng *r, uint64_t n)
{
	return fake_rng_u64(r) % n;
}

const char *
fake_rng_pick(fake_rng *r, const trib_fake_list *l)
{
	return l->items[fake_rng_below(r, l->count)];
}

char
fake_rng_digit(fake_rng *r)
{
	return (char) ('0' + fake_rng_below(r, 10));
}

/* ---- dictionaries -------------------------------------------------------- */

void
trib_fake_list_free(trib_fake_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* Host-name syntax: lower-case labels of [a-z0-9-], at least two. */
static bool
domain_ok(const char *s, size_t n)
{
	size_t		label = 0,
				labels = 1;

	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];

		if (c == '.')
		{
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			labels++;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && label == 0)
			return false;
		label++;
	}
	return label > 0 && s[n - 1] != '-' && labels >= 2;
}

/* Check one trimmed entry; fill errbuf with "name:line: ..." on failure. */
static bool
entry_ok(const char *name, size_t lineno, const char *s, size_t n,
		 bool domains, char *errbuf, size_t errlen)
{
	if (n > TRIB_FAKE_MAX_ENTRY)
		return trib_errf(errbuf, errlen, "%s:%zu: entry longer than %d bytes", name,
						 lineno, TRIB_FAKE_MAX_ENTRY);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
			return trib_errf(errbuf, errlen, "%s:%zu: control character (byte 0x%02x)",
							 name, lineno, (unsigned char) s[i]);
	if (!trib_utf8_valid(s, n))
		return trib_errf(errbuf, errlen, "%s:%zu: not valid UTF-8", name, lineno);
	if (domains && !domain_ok(s, n))
		return trib_errf(errbuf, errlen, "%s:%zu: not a lower-case host name "
						 "(letters, digits, '-', at least one '.')", name, lineno);
	return true;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

bool
trib_fake_list_parse(const char *name, const char *buf, size_t len,
					 bool domains, trib_fake_list *out, char *errbuf,
					 size_t errlen)
{
	size_t		cap = 0,
				lineno = 0,
				pos = 0;

	memset(out, 0, sizeof(*out));
	while (pos < len)
	{
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t		end = nl ? (size_t) (nl - buf) : len;
		size_t		a = pos,
					b = end;

		lineno++;
		pos = end + 1;
		while (a < b && is_blank(buf[a]))
			a++;
		while (b > a && is_blank(buf[b - 1]))
			b--;
		if (a == b || buf[a] == '#')
			continue;
		if (!entry_ok(name, lineno, buf + a, b - a, domains, errbuf, errlen))
		{
			trib_fake_list_free(out);
			return false;
		}
		out->items = trib_xgrow(out->items, out->count, &cap, sizeof(char *), 64);
		out->items[out->count++] = trib_xstrndup(buf + a, b - a);
	}
	if (out->count < TRIB_FAKE_MIN_ENTRIES)
	{
		snprintf(errbuf, errlen, "%s: %zu entries; at least %d are needed",
				 name, out->count, TRIB_FAKE_MIN_ENTRIES);
		trib_fake_list_free(out);
		return false;
	}
	return true;
}

/* Read dir/file into memory and parse it. */
static bool
load_list(const char *dir, const char *file, bool domains,
		  trib_fake_list *out, char *errbuf, size_t errlen)
{
	trib_strbuf path = {0};
	char	   *data,
				msg[256];
	size_t		n;
	bool		ok;

	trib_strbuf_printf(&path, "%s/%s", dir, file);
	data = trib_fileio_read_small(path.data, DICT_MAX_BYTES, &n, msg, sizeof(msg));
	if (data == NULL)
	{
		snprintf(errbuf, errlen, "%s: %s (fake-value dictionaries are looked "
				 "for in the configured directory, else "
				 "$TRIBUTARY_DATA_DIR/fake, else %s/fake)", path.data,
				 strncmp(msg, "cannot open: ", 13) == 0 ? msg + 13 : msg, TRIB_DATADIR);
		trib_strbuf_free(&path);
		return false;
	}
	ok = trib_fake_list_parse(path.data, data, n, domains, out, errbuf, errlen);
	free(data);
	trib_strbuf_free(&path);
	return ok;
}

const char *
trib_fake_default_dir(void)
{
	static char buf[4096];
	const char *env = getenv("TRIBUTARY_DATA_DIR");

	snprintf(buf, sizeof(buf), "%s/fake",
			 env && env[0] ? env : TRIB_DATADIR);
#ifdef TRIB_SRC_DATADIR
	/* a binary run from the build tree, not installed: the tree's copy */
	if ((env == NULL || env[0] == '\0') && access(buf, R_OK) != 0)
		snprintf(buf, sizeof(buf), "%s/fake", TRIB_SRC_DATADIR);
#endif
	return buf;
}

trib_fake_dicts *
trib_fake_dicts_load(const char *dir, char *errbuf, size_t errlen)
{
	trib_fake_dicts *d = trib_xcalloc(1, sizeof(*d));

	if (dir == NULL)
		dir = trib_fake_default_dir();
	if (load_list(dir, "first_names.txt", false, &d->first_names, errbuf, errlen) &&
		load_list(dir, "last_names.txt", false, &d->last_names, errbuf, errlen) &&
		load_list(dir, "streets.txt", false, &d->streets, errbuf, errlen) &&
		load_list(dir, "cities.txt", false, &d->cities, errbuf, errlen) &&
		load_list(dir, "companies.txt", false, &d->companies, errbuf, errlen) &&
		load_list(dir, "domains.txt", true, &d->domains, errbuf, errlen) &&
		load_list(dir, "countries.txt", false, &d->countries, errbuf, errlen) &&
		load_list(dir, "jobs.txt", false, &d->jobs, errbuf, errlen))
		return d;
	trib_fake_dicts_free(d);
	return NULL;
}

void
trib_fake_dicts_free(trib_fake_dicts *d)
{
	if (d == NULL)
		return;
	trib_fake_list_free(&d->first_names);
	trib_fake_list_free(&d->last_names);
	trib_fake_list_free(&d->streets);
	trib_fake_list_free(&d->cities);
	trib_fake_list_free(&d->companies);
	trib_fake_list_free(&d->domains);
	trib_fake_list_free(&d->countries);
	trib_fake_list_free(&d->jobs);
	free(d);
}

/* ---- names, e-mail, user names ------------------------------------------ */

/* Latin letters with diacritics -> ASCII (lower case). */
static const struct
{
	uint32_t	cp;
	const char *ascii;
}			fold_table[] = {
	{0xC0, "a"}, {0xC1, "a"}, {0xC2, "a"}, {0xC3, "a"}, {0xC4, "a"}, {0xC5, "a"},
	{0xC6, "ae"}, {0xC7, "c"}, {0xC8, "e"}, {0xC9, "e"}, {0xCA, "e"}, {0xCB, "e"},
	{0xCC, "i"}, {0xCD, "i"}, {0xCE, "i"}, {0xCF, "i"}, {0xD0, "d"}, {0xD1, "n"},
	{0xD2, "o"}, {0xD3, "o"}, {0xD4, "o"}, {0xD5, "o"}, {0xD6, "o"}, {0xD8, "o"},
	{0xD9, "u"}, {0xDA, "u"}, {0xDB, "u"}, {0xDC, "u"}, {0xDD, "y"}, {0xDE, "th"},
	{0xDF, "ss"}, {0xE0, "a"}, {0xE1, "a"}, {0xE2, "a"}, {0xE3, "a"}, {0xE4, "a"},
	{0xE5, "a"}, {0xE6, "ae"}, {0xE7, "c"}, {0xE8, "e"}, {0xE9, "e"}, {0xEA, "e"},
	{0xEB, "e"}, {0xEC, "i"}, {0xED, "i"}, {0xEE, "i"}, {0xEF, "i"}, {0xF0, "d"},
	{0xF1, "n"}, {0xF2, "o"}, {0xF3, "o"}, {0xF4, "o"}, {0xF5, "o"}, {0xF6, "o"},
	{0xF8, "o"}, {0xF9, "u"}, {0xFA, "u"}, {0xFB, "u"}, {0xFC, "u"}, {0xFD, "y"},
	{0xFE, "th"}, {0xFF, "y"}, {0x101, "a"}, {0x103, "a"}, {0x105, "a"},
	{0x107, "c"}, {0x10D, "c"}, {0x10F, "d"}, {0x111, "d"}, {0x113, "e"},
	{0x117, "e"}, {0x119, "e"}, {0x11B, "e"}, {0x11F, "g"}, {0x12B, "i"},
	{0x130, "i"}, {0x131, "i"}, {0x141, "l"}, {0x142, "l"}, {0x13E, "l"},
	{0x144, "n"}, {0x148, "n"}, {0x14D, "o"}, {0x151, "o"}, {0x153, "oe"},
	{0x159, "r"}, {0x15B, "s"}, {0x15F, "s"}, {0x161, "s"}, {0x163, "t"},
	{0x165, "t"}, {0x16B, "u"}, {0x16F, "u"}, {0x171, "u"}, {0x17A, "z"},
	{0x17C, "z"}, {0x17E, "z"}, {0x160, "s"}, {0x17D, "z"}, {0x15A, "s"},
	{0x179, "z"}, {0x17B, "z"}, {0x10C, "c"}, {0x106, "c"}, {0x158, "r"},
	{0x15E, "s"},
};

/* Append s folded to [a-z0-9]; return how many bytes were appended. */
static size_t
fold_ascii(const char *s, trib_strbuf *out)
{
	size_t		len = strlen(s),
				i = 0,
				before = out->len;
	uint32_t	cp;

	while (i < len)
	{
		i += trib_utf8_next(s, len, i, &cp);
		if (cp >= 'A' && cp <= 'Z')
			trib_strbuf_addc(out, (char) (cp - 'A' + 'a'));
		else if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
			trib_strbuf_addc(out, (char) cp);
		else
			for (size_t k = 0; k < sizeof(fold_table) / sizeof(fold_table[0]); k++)
				if (fold_table[k].cp == cp)
				{
					trib_strbuf_adds(out, fold_table[k].ascii);
					break;
				}
	}
	return out->len - before;
}

/* Fold a dictionary name to ASCII; a name that folds to nothing (a script
 * the table does not cover) becomes `fallback`. */
static void
fold_or(const char *name, const char *fallback, trib_strbuf *out)
{
	if (fold_ascii(name, out) == 0)
		trib_strbuf_adds(out, fallback);
}

/* Append a user-name-like ASCII handle from a fake first and last name. */
static void
gen_handle(const trib_fake_dicts *d, fake_rng *r, bool email, trib_strbuf *out)
{
	trib_strbuf f = {0},
				l = {0};
	char		sep = email ? '.' : '_';

	fold_or(fake_rng_pick(r, &d->first_names), "user", &f);
	fold_or(fake_rng_pick(r, &d->last_names), "name", &l);
	switch (fake_rng_below(r, email ? 6 : 7))
	{
		case 0:					/* jane.doe */
			trib_strbuf_printf(out, "%s.%s", f.data, l.data);
			break;
		case 1:					/* janedoe */
			trib_strbuf_printf(out, "%s%s", f.data, l.data);
			break;
		case 2:					/* j.doe (e-mail), jdoe */
			trib_strbuf_addc(out, f.data[0]);
			if (email)
				trib_strbuf_addc(out, '.');
			trib_strbuf_adds(out, l.data);
			break;
		case 3:					/* jane_doe */
			trib_strbuf_printf(out, "%s_%s", f.data, l.data);
			break;
		case 4:					/* jane.doe84, jane_doe84 */
			trib_strbuf_printf(out, "%s%c%s%02u", f.data, sep, l.data,
							   (unsigned) fake_rng_below(r, 100));
			break;
		case 5:					/* jane1987 */
			trib_strbuf_printf(out, "%s%u", f.data,
							   (unsigned) (1950 + fake_rng_below(r, 60)));
			break;
		default:				/* doejane */
			trib_strbuf_printf(out, "%s%s", l.data, f.data);
			break;
	}
	trib_strbuf_free(&f);
	trib_strbuf_free(&l);
}

static bool
gen_email(fake_req *q, trib_strbuf *out)
{
	gen_handle(q->d, q->r, true, out);
	trib_strbuf_addc(out, '@');
	trib_strbuf_adds(out, fake_rng_pick(q->r, &q->d->domains));
	return true;
}

static bool
gen_username(fake_req *q, trib_strbuf *out)
{
	gen_handle(q->d, q->r, false, out);
	return true;
}

/* Faker's safe_email: a handle at one of the names RFC 2606 reserves. */
static bool
gen_safe_email(fake_req *q, trib_strbuf *out)
{
	static const char *const safe[] = {"example.com", "example.net", "example.org"};

	gen_handle(q->d, q->r, true, out);
	trib_strbuf_printf(out, "@%s", safe[fake_rng_below(q->r, 3)]);
	return true;
}

/* +1 NXX-555-01XX: any valid area code, a line number reserved for fiction. */
static bool
gen_phone(fake_req *q, trib_strbuf *out)
{
	fake_rng   *r = q->r;
	unsigned	a,
				b,
				c;

	do
	{
		a = 2 + (unsigned) fake_rng_below(r, 8);
		b = (unsigned) fake_rng_below(r, 10);
		c = (unsigned) fake_rng_below(r, 10);
	} while (b == 1 && c == 1);	/* N11 codes are service numbers */
	trib_strbuf_printf(out, "+1 %u%u%u-555-01%02u", a, b, c,
					   (unsigned) fake_rng_below(r, 100));
	return true;
}

static bool
gen_street(fake_req *q, trib_strbuf *out)
{
	fake_rng   *r = q->r;
	uint64_t	n = fake_rng_below(r, 10) < 8 ? 1 + fake_rng_below(r, 2999) : 1 + fake_rng_below(r, 9999);

	trib_strbuf_printf(out, "%u %s", (unsigned) n, fake_rng_pick(r, &q->d->streets));
	if (fake_rng_below(r, 100) < 15)
		trib_strbuf_printf(out, ", Apt %u", (unsigned) (1 + fake_rng_below(r, 40)));
	return true;
}

/* One line: "<street address>, <city> <five-digit postcode>" (the
 * postcode not shaped by the input). */
static bool
gen_address(fake_req *q, trib_strbuf *out)
{
	fake_req	pc = *q;

	gen_street(q, out);
	trib_strbuf_printf(out, ", %s ", fake_rng_pick(q->r, &q->d->cities));
	pc.input = NULL;
	pc.inlen = 0;
	return fake_gen_postcode(&pc, out);
}

/* ---- IBAN ---------------------------------------------------------------- */

/*
 * BBAN layouts: n digit, a upper-case letter.  `banks` gives realistic
 * letter bank codes where the layout starts with letters.
 */
typedef struct iban_layout
{
	const char *country;
	const char *bban;
	const char *const *banks;
} iban_layout;

static const char *const gb_banks[] = {"NWBK", "BARC", "LOYD", "HBUK", "MIDL", "NAIA", NULL};
static const char *const nl_banks[] = {"ABNA", "INGB", "RABO", "SNSB", "TRIO", "KNAB", NULL};

static const iban_layout iban_layouts[] = {
	{"DE", "nnnnnnnnnnnnnnnnnn", NULL},	/* 22: bank 8 + account 10 */
	{"AT", "nnnnnnnnnnnnnnnn", NULL},	/* 20 */
	{"CH", "nnnnnnnnnnnnnnnnn", NULL},	/* 21 */
	{"GB", "aaaannnnnnnnnnnnnn", gb_banks},	/* 22: bank 4 + sort 6 + acct 8 */
	{"NL", "aaaannnnnnnnnn", nl_banks},	/* 18 */
	{"FR", "nnnnnnnnnnnnnnnnnnnnnnn", NULL},	/* 27, national key */
	{"BE", "nnnnnnnnnnnn", NULL},	/* 16, national check */
	{"ES", "nnnnnnnnnnnnnnnnnnnn", NULL},	/* 24, control digits */
};

static const iban_layout *
iban_find(const char *cc)
{
	for (size_t i = 0; i < sizeof(iban_layouts) / sizeof(iban_layouts[0]); i++)
		if (cc[0] == iban_layouts[i].country[0] && cc[1] == iban_layouts[i].country[1])
			return &iban_layouts[i];
	return NULL;
}

bool
trib_fake_iban_country_ok(const char *country)
{
	return country && strlen(country) == 2 && iban_find(country) != NULL;
}

/* Remainder mod 97 of the digits of s (letters as 10..35), continuing r. */
static unsigned
mod97_add(unsigned r, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];

		if (c >= '0' && c <= '9')
			r = (r * 10 + (unsigned) (c - '0')) % 97;
		else if (c >= 'A' && c <= 'Z')
			r = (r * 100 + (unsigned) (c - 'A' + 10)) % 97;
	}
	return r;
}

/* Remainder mod m of a digit string. */
static uint64_t
digits_mod(const char *s, size_t n, uint64_t m)
{
	uint64_t	r = 0;

	for (size_t i = 0; i < n; i++)
		r = (r * 10 + (uint64_t) (s[i] - '0')) % m;
	return r;
}

/* ES control digit over 10 digits. */
static char
es_control(const char *s)
{
	static const int w[10] = {1, 2, 4, 8, 5, 10, 9, 7, 3, 6};
	int			sum = 0,
				dgt;

	for (int i = 0; i < 10; i++)
		sum += (s[i] - '0') * w[i];
	dgt = 11 - sum % 11;
	if (dgt == 11)
		dgt = 0;
	else if (dgt == 10)
		dgt = 1;
	return (char) ('0' + dgt);
}

/* Fix the national check digits of bban (in place) for BE, ES, FR. */
static void
iban_national(const char *cc, char *bban)
{
	if (strcmp(cc, "BE") == 0)
	{
		unsigned	k = (unsigned) digits_mod(bban, 10, 97);

		if (k == 0)
			k = 97;
		bban[10] = (char) ('0' + k / 10);
		bban[11] = (char) ('0' + k % 10);
	}
	else if (strcmp(cc, "ES") == 0)
	{
		char		first[10];

		first[0] = first[1] = '0';
		memcpy(first + 2, bban, 8);
		bban[8] = es_control(first);
		bban[9] = es_control(bban + 10);
	}
	else if (strcmp(cc, "FR") == 0)
	{
		/* RIB key: 97 - (89 bank + 15 branch + 3 account) mod 97 */
		uint64_t	bank = digits_mod(bban, 5, 97),
					branch = digits_mod(bban + 5, 5, 97),
					acct = digits_mod(bban + 10, 11, 97);
		unsigned	k = (unsigned) (97 - (89 * bank + 15 * branch + 3 * acct) % 97);

		bban[21] = (char) ('0' + k / 10);
		bban[22] = (char) ('0' + k % 10);
	}
}

static bool
gen_iban(fake_req *q, trib_strbuf *out)
{
	fake_rng   *r = q->r;
	const char *input = q->input;
	size_t		inlen = q->inlen;
	const iban_layout *lay = NULL;
	char		bban[40],
				cc[3],
				iban[48];
	size_t		n;
	unsigned	check;
	bool		spaced = input && memchr(input, ' ', inlen) != NULL;

	if (input && inlen >= 2)
	{
		cc[0] = (char) (input[0] & ~0x20);
		cc[1] = (char) (input[1] & ~0x20);
		cc[2] = '\0';
		if (cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z')
			lay = iban_find(cc);
	}
	if (lay == NULL)
	{
		if (!trib_fake_iban_country_ok(q->iban_country))
			return trib_errf(q->errbuf, q->errlen, "unsupported IBAN country");
		lay = iban_find(q->iban_country);
	}
	n = strlen(lay->bban);
	for (size_t i = 0; i < n; i++)
		bban[i] = lay->bban[i] == 'a' ? (char) ('A' + fake_rng_below(r, 26)) : fake_rng_digit(r);
	bban[n] = '\0';
	if (lay->banks)
	{
		size_t		nb = 0;

		while (lay->banks[nb])
			nb++;
		memcpy(bban, lay->banks[fake_rng_below(r, nb)], 4);
	}
	iban_national(lay->country, bban);
	check = 98 - mod97_add(mod97_add(mod97_add(0, bban, n), lay->country, 2), "00", 2);
	snprintf(iban, sizeof(iban), "%s%02u%s", lay->country, check, bban);
	for (size_t i = 0; iban[i]; i++)
	{
		if (spaced && i > 0 && i % 4 == 0)
			trib_strbuf_addc(out, ' ');
		trib_strbuf_addc(out, iban[i]);
	}
	return true;
}

bool
trib_fake_iban_valid(const char *s)
{
	char		buf[64];
	size_t		n = 0;
	const iban_layout *lay;

	for (; *s; s++)
	{
		if (*s == ' ')
			continue;
		if (n + 1 >= sizeof(buf))
			return false;
		buf[n++] = *s;
	}
	buf[n] = '\0';
	if (n < 5 || !(buf[0] >= 'A' && buf[0] <= 'Z') || !(buf[1] >= 'A' && buf[1] <= 'Z') ||
		!(buf[2] >= '0' && buf[2] <= '9') || !(buf[3] >= '0' && buf[3] <= '9'))
		return false;
	for (size_t i = 4; i < n; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'A' && buf[i] <= 'Z')))
			return false;
	lay = iban_find(buf);
	if (lay && n != 4 + strlen(lay->bban))
		return false;
	return mod97_add(mod97_add(0, buf + 4, n - 4), buf, 4) == 1;
}

/* ---- card numbers -------------------------------------------------------- */

typedef struct card_brand
{
	const char *name;
	int			weight;
	int			minlen,
				maxlen;
} card_brand;

static const card_brand brands[] = {
	{"visa", 40, 13, 19},		/* 4; 13, 16, 19 */
	{"mastercard", 35, 16, 16},	/* 51-55, 2221-2720 */
	{"amex", 10, 15, 15},		/* 34, 37 */
	{"discover", 6, 16, 19},	/* 6011, 644-649, 65 */
	{"jcb", 5, 16, 19},			/* 3528-3589 */
	{"diners", 4, 14, 14},		/* 36 */
};

/* Does brand b issue numbers of len digits? */
static bool
brand_fits(const card_brand *b, int len)
{
	if (strcmp(b->name, "visa") == 0)
		return len == 13 || len == 16 || len == 19;
	return len >= b->minlen && len <= b->maxlen;
}

/* Write brand b's issuer prefix into p; return its length. */
static int
brand_prefix(const char *b, fake_rng *r, char *p)
{
	if (strcmp(b, "visa") == 0)
		return sprintf(p, "4");
	if (strcmp(b, "mastercard") == 0)
		return fake_rng_below(r, 4) == 0
			? sprintf(p, "%u", (unsigned) (2221 + fake_rng_below(r, 500)))
			: sprintf(p, "5%u", (unsigned) (1 + fake_rng_below(r, 5)));
	if (strcmp(b, "amex") == 0)
		return sprintf(p, "3%c", fake_rng_below(r, 2) ? '4' : '7');
	if (strcmp(b, "discover") == 0)
	{
		uint64_t	k = fake_rng_below(r, 3);

		return k == 0 ? sprintf(p, "6011")
			: k == 1 ? sprintf(p, "64%u", (unsigned) (4 + fake_rng_below(r, 6)))
			: sprintf(p, "65");
	}
	if (strcmp(b, "jcb") == 0)
		return sprintf(p, "35%02u", (unsigned) (28 + fake_rng_below(r, 62)));
	return sprintf(p, "36");
}

/* The Luhn check digit for payload digits d[0..n). */
static char
luhn_digit(const char *d, size_t n)
{
	int			sum = 0;

	for (size_t i = 0; i < n; i++)
	{
		int			v = d[n - 1 - i] - '0';

		if (i % 2 == 0)
			v = v * 2 > 9 ? v * 2 - 9 : v * 2;
		sum += v;
	}
	return (char) ('0' + (10 - sum % 10) % 10);
}

bool
trib_fake_luhn_valid(const char *s)
{
	char		d[64];
	size_t		n = 0;

	for (; *s; s++)
		if (*s >= '0' && *s <= '9')
		{
			if (n + 1 >= sizeof(d))
				return false;
			d[n++] = *s;
		}
	return n >= 2 && luhn_digit(d, n - 1) == d[n - 1];
}

static bool
gen_card(fake_req *q, trib_strbuf *out)
{
	fake_rng   *r = q->r;
	const char *input = q->input;
	size_t		inlen = q->inlen;
	int			len = 0,
				total = 0;
	const card_brand *fit[6];
	int			nfit = 0;
	uint64_t	pick;
	char		num[24];
	int			p;

	for (size_t i = 0; input && i < inlen; i++)
		len += input[i] >= '0' && input[i] <= '9';
	if (len < 13 || len > 19)
		len = 16, input = NULL;
	for (size_t i = 0; i < sizeof(brands) / sizeof(brands[0]); i++)
		if (brand_fits(&brands[i], len))
			fit[nfit++] = &brands[i], total += brands[i].weight;
	pick = fake_rng_below(r, (uint64_t) total);
	for (int i = 0; i < nfit; i++)
	{
		if (pick < (uint64_t) fit[i]->weight)
		{
			pick = (uint64_t) i;
			break;
		}
		pick -= (uint64_t) fit[i]->weight;
	}
	p = brand_prefix(fit[pick]->name, r, num);
	while (p < len - 1)
		num[p++] = fake_rng_digit(r);
	num[len - 1] = luhn_digit(num, (size_t) len - 1);
	num[len] = '\0';
	if (input == NULL)
	{
		trib_strbuf_adds(out, num);
		return true;
	}
	for (size_t i = 0, k = 0; i < inlen; i++)
		trib_strbuf_addc(out, input[i] >= '0' && input[i] <= '9' ? num[k++] : input[i]);
	return true;
}

/* ---- dispatch ------------------------------------------------------------ */

/* One entry of the kind's dictionary (q->list). */
static bool
gen_pick(fake_req *q, trib_strbuf *out)
{
	trib_strbuf_adds(out, fake_rng_pick(q->r, q->list));
	return true;
}

static bool
gen_full_name(fake_req *q, trib_strbuf *out)
{
	trib_strbuf_adds(out, fake_rng_pick(q->r, &q->d->first_names));
	trib_strbuf_addc(out, ' ');
	trib_strbuf_adds(out, fake_rng_pick(q->r, &q->d->last_names));
	return true;
}

#define DICT(field) offsetof(trib_fake_dicts, field)

/* How each kind is made: its generator, and for gen_pick the dictionary
 * (its offset in trib_fake_dicts). */
static const struct
{
	fake_gen	gen;
	size_t		dict;
}			kinds[TRIB_FAKE_NKINDS] = {
	[TRIB_FAKE_FIRST_NAME] = {.gen = gen_pick, .dict = DICT(first_names)},
	[TRIB_FAKE_LAST_NAME] = {.gen = gen_pick, .dict = DICT(last_names)},
	[TRIB_FAKE_FULL_NAME] = {.gen = gen_full_name},
	[TRIB_FAKE_EMAIL] = {.gen = gen_email},
	[TRIB_FAKE_PHONE] = {.gen = gen_phone},
	[TRIB_FAKE_STREET_ADDRESS] = {.gen = gen_street},
	[TRIB_FAKE_CITY] = {.gen = gen_pick, .dict = DICT(cities)},
	[TRIB_FAKE_COMPANY] = {.gen = gen_pick, .dict = DICT(companies)},
	[TRIB_FAKE_USERNAME] = {.gen = gen_username},
	[TRIB_FAKE_IBAN] = {.gen = gen_iban},
	[TRIB_FAKE_CREDIT_CARD] = {.gen = gen_card},
	[TRIB_FAKE_SAFE_EMAIL] = {.gen = gen_safe_email},
	[TRIB_FAKE_ADDRESS] = {.gen = gen_address},
	[TRIB_FAKE_POSTCODE] = {.gen = fake_gen_postcode},
	[TRIB_FAKE_COUNTRY] = {.gen = gen_pick, .dict = DICT(countries)},
	[TRIB_FAKE_JOB] = {.gen = gen_pick, .dict = DICT(jobs)},
	[TRIB_FAKE_SSN] = {.gen = fake_gen_ssn},
	[TRIB_FAKE_DATE_OF_BIRTH] = {.gen = fake_gen_date_of_birth},
	[TRIB_FAKE_IPV4] = {.gen = fake_gen_ipv4},
	[TRIB_FAKE_URL] = {.gen = fake_gen_url},
	[TRIB_FAKE_UUID4] = {.gen = fake_gen_uuid4},
};

bool
trib_fake_generate(const trib_fake_dicts *d, trib_fake_kind kind,
				   const unsigned char seed[32], const char *input,
				   size_t inlen, const char *iban_country, trib_strbuf *out,
				   char *errbuf, size_t errlen)
{
	fake_rng	r;
	fake_req	q = {.d = d, .r = &r, .input = input, .inlen = inlen,
	.iban_country = iban_country, .errbuf = errbuf, .errlen = errlen};

	if ((unsigned) kind >= TRIB_FAKE_NKINDS || kinds[kind].gen == NULL)
		return trib_errf(errbuf, errlen, "unknown fake kind %d", (int) kind);
	fake_rng_init(&r, seed);
	q.list = (const trib_fake_list *) ((const char *) d + kinds[kind].dict);
	return kinds[kind].gen(&q, out);
}

static const char *const kind_names[TRIB_FAKE_NKINDS] = {
	"first_name", "last_name", "full_name", "email", "phone",
	"street_address", "city", "company", "username", "iban", "credit_card",
	"safe_email", "address", "postcode", "country", "job", "ssn",
	"date_of_birth", "ipv4", "url", "uuid4"
};

/* Faker's provider names where they differ from ours. */
static const struct
{
	const char *alias;
	trib_fake_kind kind;
}			kind_aliases[] = {
	{"name", TRIB_FAKE_FULL_NAME},
	{"user_name", TRIB_FAKE_USERNAME},
	{"phone_number", TRIB_FAKE_PHONE},
	{"credit_card_number", TRIB_FAKE_CREDIT_CARD},
};

#define NALIASES (sizeof(kind_aliases) / sizeof(kind_aliases[0]))

bool
trib_fake_kind_parse(const char *s, trib_fake_kind *out)
{
	int			i = trib_words_find(kind_names, TRIB_FAKE_NKINDS, s);

	if (i >= 0)
	{
		*out = (trib_fake_kind) i;
		return true;
	}
	for (size_t j = 0; j < NALIASES; j++)
		if (strcmp(s, kind_aliases[j].alias) == 0)
		{
			*out = kind_aliases[j].kind;
			return true;
		}
	return false;
}

void
trib_fake_kind_list(trib_strbuf *out)
{
	for (int i = 0; i < TRIB_FAKE_NKINDS; i++)
		trib_strbuf_printf(out, "%s%s", i ? ", " : "", kind_names[i]);
	for (size_t i = 0; i < NALIASES; i++)
		trib_strbuf_printf(out, ", %s", kind_aliases[i].alias);
}

const char *
trib_fake_kind_name(trib_fake_kind k)
{
	return trib_words_name(kind_names, TRIB_FAKE_NKINDS, (int) k);
}
