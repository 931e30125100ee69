/*
 * test_fake_kinds.c: every substitute kind the copy-and-sanitize format's
 * `field_type` names (Python Faker's provider names) gives a deterministic,
 * keyed fake in the expected format: the same key and input give the same
 * fake, another key another one, distinct inputs mostly distinct fakes, and
 * each value parses as what it claims to be (Luhn, IBAN mod 97, UUID
 * version and variant, a real calendar date, a public IPv4 address, an SSN
 * outside the never-issued ranges, a dictionary entry).
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isodate.h"
#include "mask.h"
#include "mask_fake.h"
#include "fake_fixture.h"

#define NINPUTS 300


/* A keyed substitute mask for a field_type word. */
static trib_mask *
mk(const char *field_type, const char *key)
{
	trib_mask_spec s;
	trib_mask  *m;
	char		err[256];

	trib_mask_spec_init(&s, TRIB_MASK_SUBSTITUTE);
	if (!trib_fake_kind_parse(field_type, &s.substitute.what))
		fail_msg("field_type %s is not accepted", field_type);
	s.dicts = test_dicts;
	s.key = (const unsigned char *) key;
	s.keylen = strlen(key);
	if ((m = trib_mask_new(&s, err, sizeof(err))) == NULL)
		fail_msg("trib_mask_new(%s): %s", field_type, err);
	return m;
}

/* The fake of `in` (malloc'd). */
static char *
fake(const trib_mask *m, const char *in)
{
	trib_jvalue v = {TRIB_J_STRING, in, strlen(in), NULL};
	trib_jvalue_buf o = {0};
	char		err[256];
	char	   *s;

	if (!trib_mask_apply(m, &v, NULL, &o, err, sizeof(err)))
		fail_msg("apply on %s: %s", in, err);
	s = strdup(o.text.data ? o.text.data : "");
	trib_jvalue_buf_free(&o);
	return s;
}

static bool
matches(const char *re, const char *s)
{
	regex_t		r;
	bool		ok;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		fail_msg("bad regex %s", re);
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

static bool
in_list(const trib_fake_list *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

/* ---- the checks beyond the pattern ---------------------------------------- */

static bool
ssn_ok(const char *s)
{
	int			area = atoi(s),
				group = atoi(s + 4),
				serial = atoi(s + 7);

	return area > 0 && area < 900 && area != 666 && group > 0 && serial > 0;
}

static bool
dob_ok(const char *s)
{
	trib_isodate d;
	int64_t		y;
	int			m,
				day;

	if (!trib_isodate_parse(s, strlen(s), &d) || d.has_time)
		return false;
	/* a real day: the day count maps back to the same date */
	trib_isodate_civil_from_days(trib_isodate_days_from_civil(d.year, d.month, d.day),
								 &y, &m, &day);
	return y == d.year && m == d.month && day == d.day && d.year >= 1935 && d.year <= 2007;
}

static bool
ipv4_ok(const char *s)
{
	unsigned	a,
				b,
				c,
				d;

	if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 || c > 255 ||
		d > 255)
		return false;
	return a != 0 && a != 10 && a != 127 && a < 224 && !(a == 172 && b >= 16 && b < 32) &&
		!(a == 192 && b == 168) && !(a == 169 && b == 254) && d != 0 && d != 255;
}

static bool
domain_ok(const char *s)
{
	const char *at = strchr(s, '@');

	return at != NULL && in_list(&test_dicts->domains, at + 1);
}

static bool
url_domain_ok(const char *s)
{
	const char *h = strstr(s, "://") + 3;
	char		host[128];

	if (strncmp(h, "www.", 4) == 0)
		h += 4;
	snprintf(host, sizeof(host), "%.*s", (int) strcspn(h, "/"), h);
	return in_list(&test_dicts->domains, host);
}

static bool
name_ok(const char *s)
{
	/* "first last": a first name, then a last name (either may hold spaces) */
	for (const char *sp = strchr(s, ' '); sp; sp = strchr(sp + 1, ' '))
	{
		char		first[128];

		snprintf(first, sizeof(first), "%.*s", (int) (sp - s), s);
		if (in_list(&test_dicts->first_names, first) && in_list(&test_dicts->last_names, sp + 1))
			return true;
	}
	return false;
}

static bool
city_ok(const char *s)
{
	return in_list(&test_dicts->cities, s);
}

static bool
first_ok(const char *s)
{
	return in_list(&test_dicts->first_names, s);
}

static bool
last_ok(const char *s)
{
	return in_list(&test_dicts->last_names, s);
}

static bool
company_ok(const char *s)
{
	return in_list(&test_dicts->companies, s);
}

static bool
country_ok(const char *s)
{
	return in_list(&test_dicts->countries, s);
}

static bool
job_ok(const char *s)
{
	return in_list(&test_dicts->jobs, s);
}

static bool
address_ok(const char *s)
{
	/* "<street>, <city> <postcode>": the city between the last ", " and
	 * the last space */
	const char *comma = NULL,
			   *sp = strrchr(s, ' ');
	char		city[128];

	for (const char *p = strstr(s, ", "); p; p = strstr(p + 1, ", "))
		comma = p;
	if (comma == NULL || sp == NULL || sp < comma + 2)
		return false;
	snprintf(city, sizeof(city), "%.*s", (int) (sp - comma - 2), comma + 2);
	return in_list(&test_dicts->cities, city);
}

static bool
uuid_ok(const char *s)
{
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* ---- the table ------------------------------------------------------------ */

typedef struct kind_case
{
	const char *field_type;
	const char *pattern;
	bool		(*valid) (const char *);
	int			min_distinct;	/* of NINPUTS inputs */
} kind_case;

static const kind_case cases[] = {
	{"username", "^[a-z0-9._]+$", NULL, 280},
	{"user_name", "^[a-z0-9._]+$", NULL, 280},
	{"email", "^[a-z0-9._]+@[a-z0-9.-]+$", domain_ok, 290},
	{"safe_email", "^[a-z0-9._]+@example\\.(com|net|org)$", NULL, 280},
	{"name", "^[^ ]+( [^ ]+)+$", name_ok, 280},
	{"first_name", "^[^ ].*$", first_ok, 150},
	{"last_name", "^[^ ].*$", last_ok, 150},
	{"phone_number", "^\\+1 [2-9][0-9]{2}-555-01[0-9]{2}$", NULL, 250},
	{"address", "^[0-9]+ .+, .+ [0-9]{5}$", address_ok, 295},
	{"street_address", "^[0-9]+ [^ ].*$", NULL, 280},
	{"city", "^[^ ].*$", city_ok, 200},
	{"postcode", "^[0-9]{5}$", NULL, 295},
	{"country", "^[^ ].*$", country_ok, 100},
	{"company", "^[^ ].*$", company_ok, 250},
	{"job", "^[A-Z].*$", job_ok, 100},
	{"ssn", "^[0-9]{3}-[0-9]{2}-[0-9]{4}$", ssn_ok, 299},
	{"iban", "^[A-Z]{2}[0-9]{2}[A-Z0-9]{12,30}$", trib_fake_iban_valid, 299},
	{"credit_card_number", "^[0-9]{16}$", trib_fake_luhn_valid, 299},
	{"date_of_birth", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", dob_ok, 290},
	{"ipv4", "^[0-9]{1,3}(\\.[0-9]{1,3}){3}$", ipv4_ok, 299},
	{"url", "^https?://(www\\.)?[a-z0-9.-]+/$", url_domain_ok, 200},
	{"uuid4", "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
	uuid_ok, 300},
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* How many different strings out[0..n) holds (sorts it). */
static int
distinct(char **out, int n)
{
	int			d = n > 0;

	qsort(out, (size_t) n, sizeof(char *), cmp_str);
	for (int i = 1; i < n; i++)
		d += strcmp(out[i], out[i - 1]) != 0;
	return d;
}

static void
one_kind(const kind_case *kc)
{
	trib_mask  *m = mk(kc->field_type, "a-key-of-sixteen-bytes-or-more");
	trib_mask  *again = mk(kc->field_type, "a-key-of-sixteen-bytes-or-more");
	trib_mask  *other = mk(kc->field_type, "another-key-of-sixteen-bytes");
	char	   *out[NINPUTS];
	int			same_other = 0,
				d;

	for (int i = 0; i < NINPUTS; i++)
	{
		char		in[64];
		char	   *b,
				   *c;

		snprintf(in, sizeof(in), "original-value-%d", i);
		out[i] = fake(m, in);
		if (!matches(kc->pattern, out[i]))
			fail_msg("%s: \"%s\" does not match %s", kc->field_type, out[i], kc->pattern);
		if (kc->valid && !kc->valid(out[i]))
			fail_msg("%s: \"%s\" is not a valid value", kc->field_type, out[i]);
		b = fake(again, in);
		if (strcmp(out[i], b) != 0)
			fail_msg("%s: not deterministic: \"%s\" then \"%s\"", kc->field_type, out[i], b);
		c = fake(other, in);
		same_other += strcmp(out[i], c) == 0;
		free(b);
		free(c);
	}
	d = distinct(out, NINPUTS);
	if (d < kc->min_distinct)
		fail_msg("%s: only %d distinct fakes of %d inputs (expected >= %d)", kc->field_type,
				 d, NINPUTS, kc->min_distinct);
	/* another key: another fake, except by chance in a small dictionary */
	if (same_other > NINPUTS / 10)
		fail_msg("%s: %d of %d fakes equal under another key", kc->field_type, same_other,
				 NINPUTS);
	for (int i = 0; i < NINPUTS; i++)
		free(out[i]);
	trib_mask_free(m);
	trib_mask_free(again);
	trib_mask_free(other);
}

static void
every_faker_field_type_is_deterministic_keyed_and_well_formed(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one_kind(&cases[i]);
}

static void
faker_aliases_give_the_same_fakes_as_our_names(void **state)
{
	static const char *const pairs[][2] = {
		{"name", "full_name"}, {"user_name", "username"}, {"phone_number", "phone"},
		{"credit_card_number", "credit_card"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
	{
		trib_mask  *a = mk(pairs[i][0], "a-key-of-sixteen-bytes-or-more");
		trib_mask  *b = mk(pairs[i][1], "a-key-of-sixteen-bytes-or-more");
		char	   *x = fake(a, "Ada Lovelace");
		char	   *y = fake(b, "Ada Lovelace");

		assert_string_equal(x, y);
		free(x);
		free(y);
		trib_mask_free(a);
		trib_mask_free(b);
	}
}

static void
postcode_keeps_the_shape_of_the_input(void **state)
{
	trib_mask  *m = mk("postcode", "a-key-of-sixteen-bytes-or-more");
	static const char *const in[][2] = {
		{"SW1A 1AA", "^[A-Z]{2}[0-9][A-Z] [0-9][A-Z]{2}$"},
		{"12345-6789", "^[0-9]{5}-[0-9]{4}$"},
		{"75008", "^[0-9]{5}$"},
		{"H3Z 2Y7", "^[A-Z][0-9][A-Z] [0-9][A-Z][0-9]$"},
		{"not a postcode at all", "^[0-9]{5}$"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
	{
		char	   *s = fake(m, in[i][0]);

		if (!matches(in[i][1], s))
			fail_msg("postcode of \"%s\": \"%s\" does not match %s", in[i][0], s, in[i][1]);
		assert_string_not_equal(s, in[i][0]);
		free(s);
	}
	trib_mask_free(m);
}

static void
the_list_of_accepted_words_names_every_faker_type(void **state)
{
	trib_strbuf b = {0};

	(void) state;
	trib_strbuf_adds(&b, ", ");
	trib_fake_kind_list(&b);
	trib_strbuf_adds(&b, ",");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		word[64];

		snprintf(word, sizeof(word), ", %s,", cases[i].field_type);
		if (strstr(b.data, word) == NULL)
			fail_msg("%s is not in the list: %s", cases[i].field_type, b.data);
	}
	trib_strbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_faker_field_type_is_deterministic_keyed_and_well_formed),
		cmocka_unit_test(faker_aliases_give_the_same_fakes_as_our_names),
		cmocka_unit_test(postcode_keeps_the_shape_of_the_input),
		cmocka_unit_test(the_list_of_accepted_words_names_every_faker_type),
	};

	return cmocka_run_group_tests(tests, test_dicts_setup, test_dicts_teardown);
}
