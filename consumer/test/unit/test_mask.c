/*
 * test_mask.c: the value strategies (mask.c, mask_perturb.c, mask_fake.c)
 * and their helpers (decimal.c, isodate.c, utf8.c).
 *
 * Each strategy is run on real values as the plugin writes them and the
 * output is checked against what docs/MASKING.md promises: exact texts
 * where the output is fixed, properties (check digits, bounds, scale,
 * determinism, dependence on the key) where it is keyed.  Check digits
 * of generated IBANs are verified by an independent implementation that is
 * itself tested on published example IBANs first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "decimal.h"
#include "isodate.h"
#include "mask.h"
#include "mask_fake.h"
#include "fake_fixture.h"
#include "utf8.h"


/* A string value. */
static trib_jvalue
str(const char *s)
{
	return (trib_jvalue)
	{
		TRIB_J_STRING, s, strlen(s), NULL
	};
}

/* A number value (literal text). */
static trib_jvalue
num(const char *s)
{
	return (trib_jvalue)
	{
		TRIB_J_NUMBER, s, strlen(s), NULL
	};
}

/* Compile spec; fail the test on error. */
static trib_mask *
mk(const trib_mask_spec *spec)
{
	char		err[256];
	trib_mask  *m = trib_mask_new(spec, err, sizeof(err));

	if (m == NULL)
		fail_msg("trib_mask_new: %s", err);
	return m;
}

/* Apply m to in; return the result text (static buffer) and kind. */
static const char *
run(const trib_mask *m, trib_jvalue in, const trib_mask_row *row,
	trib_jkind *kind)
{
	static char buf[512];
	char		err[256];
	trib_jvalue_buf o = {0};

	if (!trib_mask_apply(m, &in, row, &o, err, sizeof(err)))
		fail_msg("apply on %.*s: %s", (int) in.len, in.text, err);
	snprintf(buf, sizeof(buf), "%s", o.text.data ? o.text.data : "");
	if (kind)
		*kind = o.kind;
	trib_jvalue_buf_free(&o);
	return buf;
}

/* Apply must fail; return the error. */
static const char *
run_err(const trib_mask *m, trib_jvalue in)
{
	static char err[256];
	trib_jvalue_buf o = {0};

	if (trib_mask_apply(m, &in, NULL, &o, err, sizeof(err)))
		fail_msg("apply on %.*s succeeded with %s", (int) in.len, in.text,
				 o.text.data);
	trib_jvalue_buf_free(&o);
	return err;
}

#define assert_out(m, in, want) assert_string_equal(run(m, in, NULL, NULL), want)

/* ---- redact -------------------------------------------------------------- */

static void
test_redact_mask_counts_characters(void **state)
{
	trib_mask_spec s;
	trib_mask  *m;
	trib_jkind	k;

	(void) state;
	trib_mask_spec_init(&s, TRIB_MASK_REDACT);
	m = mk(&s);
	assert_out(m, str("José Müller"), "***********");
	assert_out(m, str(""), "");
	/* a number is masked in its text and becomes a string */
	assert_string_equal(run(m, num("12.50"), NULL, &k), "*****");
	assert_int_equal(k, TRIB_J_STRING);
	/* null stays null */
	run(m, (trib_jvalue)
	{
		TRIB_J_NULL, "null", 4, NULL
	}, NULL, &k);
	assert_int_equal(k, TRIB_J_NULL);
	trib_mask_free(m);

	s.redact.mask_char = "•";
	s.redact.length = 6;
	m = mk(&s);
	assert_out(m, str("ab"), "••••••");
	assert_out(m, str("a much longer secret"), "••••••");
	trib_mask_free(m);
}

static void
test_redact_null_and_fixed(void **state)
{
	trib_mask_spec s;
	trib_mask  *m;
	trib_jkind	k;
	trib_jvalue_buf o = {0};
	trib_strbuf json = {0};
	char		err[256];
	trib_jvalue	in = str("secret");

	(void) state;
	trib_mask_spec_init(&s, TRIB_MASK_REDACT);
	s.redact.mode = TRIB_REDACT_NULL;
	m = mk(&s);
	run(m, str("secret"), NULL, &k);
	assert_int_equal(k, TRIB_J_NULL);
	trib_mask_free(m);

	s.redact.mode = TRIB_REDACT_FIXED;
	s.redact.fixed_json = "\"REDACTED \\\"x\\\"\"";
	m = mk(&s);
	assert_string_equal(run(m, num("42"), NULL, &k), "REDACTED \"x\"");
	assert_int_equal(k, TRIB_J_STRING);
	assert_true(trib_mask_apply(m, &in, NULL, &o, err, sizeof(err)));
	trib_jvalue_buf_json(&o, &json);
	assert_string_equal(json.data, "\"REDACTED \\\"x\\\"\"");
	trib_jvalue_buf_free(&o);
	trib_strbuf_free(&json);
	trib_mask_free(m);

	s.redact.fixed_json = "0.00";
	m = mk(&s);
	assert_string_equal(run(m, num("1234.56"), NULL, &k), "0.00");
	assert_int_equal(k, TRIB_J_NUMBER);
	trib_mask_free(m);
}

static void
test_redact_bad_parameters(void **state)
{
	trib_mask_spec s;
	char		err[256];

	(void) state;
	trib_mask_spec_init(&s, TRIB_MASK_REDACT);
	s.redact.mask_char = "**";
	assert_null(trib_mask_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "mask_char"));
	s.redact.mask_char = "";
	assert_null(trib_mask_new(&s, err, sizeof(err)));
	s.redact.mask_char = "\xff";
	assert_null(trib_mask_new(&s, err, sizeof(err)));
	s.redact.mask_char = "*";
	s.redact.length = -1;
	assert_null(trib_mask_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "length"));
	s.redact.mode = TRIB_REDACT_FIXED;
	s.redact.fixed_json = "REDACTED";
	assert_null(trib_mask_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "not JSON"));
	s.redact.fixed_json = NULL;
	assert_null(trib_mask_new(&s, err, sizeof(err)));
}

/* ---- partial ------------------------------------------------------------- */

static void
test_partial_card_and_separators(void **state)
{
	trib_mask_spec s;
	trib_mask  *m;

	(void) state;
	trib_mask_spec_init(&s, TRIB_MASK_PARTIAL);
	m = mk(&s);
	assert_out(m, str("4111 1111 1111 1234"), "***************1234");
	trib_mask_free(m);

	s.partial.keep_separators = true;
	m = mk(&s);
	assert_out(m, str("4111 1111 1111 1234"), "**** **** **** 1234");
	assert_out(m, str("4111-1111-1111-1234"), "****-****-****-1234");
	/* separators do not count toward keep_last */
	assert_out(m, str("12-34-56"), "**-34-56");
	trib_mask_free(m);

	s.partial.keep_first = 2;
	s.partial.keep_last = 2;
	s.partial.keep_separators = false;
	s.partial.mask_char = "#";
	m = mk(&s);
	assert_out(m, str("Zoë Ñandú"), "Zo#####dú");
	/* too short to reveal 4 and hide anything: all masked */
	assert_out(m, str("abcd"), "####");
	assert_out(m, str("abcde"), "ab#de");
	trib_mask_free(m);
}

static void
test_partial_email_keeps_domain(void **state)
{
	trib_mask_spec s;
	trib_mask  *m;

	(void) state;
	trib_mask_spec_init(&s, TRIB_MASK_PARTIAL);
	s.partial.email = true;
	s.partial.keep_first = 1;
	s.partial.keep_last = 0;
	m = mk(&s);
	assert_out(m, str("alice.smith@corp.example.com"), "a**********@corp.example.com");
	/* the last @ separates the domain */
	assert_out(m, str("\"a@b\"@example.org"), "\"****@example.org");
	/* not an address: everything is hidden */
	assert_out(m, str("no address"), "**********");
	trib_mask_free(m);
}

/* ---- substitute ---------------------------------------------------------- */

static trib_mask *
mk_sub(trib_fake_kind what, const char *key)
{
	trib_mask_spec s;

	trib_mask_spec_init(&s, TRIB_MASK_SUBSTITUTE);
	s.substitute.what = what;
	s.dicts = test_dicts;
	s.key = (const unsigned char *) key;
	s.keylen = key ? strlen(key) : 0;
	return mk(&s);
}

static bool
in_list(const trib_fake_list *l, const char *s, size_t n)
{
	for (size_t i = 0; i < l->count; i++)
		if (strlen(l->items[i]) == n && memcmp(l->items[i], s, n) == 0)
			return true;
	return false;
}

static void
test_substitute_deterministic_and_keyed(void **state)
{
	trib_mask  *a = mk_sub(TRIB_FAKE_FULL_NAME, "key-one");
	trib_mask  *a2 = mk_sub(TRIB_FAKE_FULL_NAME, "key-one");
	trib_mask  *b = mk_sub(TRIB_FAKE_FULL_NAME, "key-two");
	trib_mask  *u = mk_sub(TRIB_FAKE_FULL_NAME, NULL);
	int			differ_key = 0,
				distinct = 0;
	char		prev[256] = "";

	(void) state;
	for (int i = 0; i < 40; i++)
	{
		char		in[32],
					x[256],
					y[256];

		snprintf(in, sizeof(in), "person-%d", i);
		snprintf(x, sizeof(x), "%s", run(a, str(in), NULL, NULL));
		/* same key and input: same fake, from another compiled mask too */
		assert_string_equal(run(a2, str(in), NULL, NULL), x);
		assert_string_equal(run(a, str(in), NULL, NULL), x);
		snprintf(y, sizeof(y), "%s", run(b, str(in), NULL, NULL));
		differ_key += strcmp(x, y) != 0;
		distinct += strcmp(x, prev) != 0;
		snprintf(prev, sizeof(prev), "%s", x);
		/* a full name is "first last" from the dictionaries */
		{
			const char *sp = strchr(x, ' ');

			assert_non_null(sp);
			assert_true(in_list(&test_dicts->first_names, x, (size_t) (sp - x)));
			assert_true(in_list(&test_dicts->last_names, sp + 1, strlen(sp + 1)));
		}
	}
	/* another key gives other fakes (a few may coincide by chance) */
	assert_true(differ_key >= 35);
	assert_true(distinct >= 35);
	/* the unkeyed fallback is deterministic too */
	{
		char		x[256];
		trib_mask  *u2 = mk_sub(TRIB_FAKE_FULL_NAME, NULL);

		snprintf(x, sizeof(x), "%s", run(u, str("x"), NULL, NULL));
		assert_string_equal(run(u2, str("x"), NULL, NULL), x);
		assert_string_not_equal(run(a, str("x"), NULL, NULL), x);
		trib_mask_free(u2);
	}
	trib_mask_free(a);
	trib_mask_free(a2);
	trib_mask_free(b);
	trib_mask_free(u);
}

static void
test_substitute_email_and_username(void **state)
{
	trib_mask  *e = mk_sub(TRIB_FAKE_EMAIL, "k");
	trib_mask  *un = mk_sub(TRIB_FAKE_USERNAME, "k");

	(void) state;
	for (int i = 0; i < 200; i++)
	{
		char		in[32];
		const char *out,
				   *at;

		snprintf(in, sizeof(in), "user%d@real.com", i);
		out = run(e, str(in), NULL, NULL);
		at = strchr(out, '@');
		assert_non_null(at);
		assert_true(at > out);
		assert_true(in_list(&test_dicts->domains, at + 1, strlen(at + 1)));
		for (const char *p = out; p < at; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._", *p))
				fail_msg("bad local part in %s", out);
		assert_true(out[0] != '.' && at[-1] != '.');
		out = run(un, str(in), NULL, NULL);
		assert_true(strlen(out) >= 2);
		for (const char *p = out; *p; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._", *p))
				fail_msg("bad user name %s", out);
		assert_true(out[0] != '.' && out[strlen(out) - 1] != '.');
	}
	trib_mask_free(e);
	trib_mask_free(un);
}

static void
test_substitute_other_kinds(void **state)
{
	static const trib_fake_kind kinds[] = {TRIB_FAKE_FIRST_NAME, TRIB_FAKE_LAST_NAME,
	TRIB_FAKE_CITY, TRIB_FAKE_COMPANY};
	const trib_fake_list *lists[] = {&test_dicts->first_names, &test_dicts->last_names,
	&test_dicts->cities, &test_dicts->companies};

	(void) state;
	for (size_t k = 0; k < 4; k++)
	{
		trib_mask  *m = mk_sub(kinds[k], "k");
		const char *o = run(m, str("Original Value"), NULL, NULL);

		assert_true(in_list(lists[k], o, strlen(o)));
		trib_mask_free(m);
	}
	{
		trib_mask  *m = mk_sub(TRIB_FAKE_PHONE, "k");

		for (int i = 0; i < 50; i++)
		{
			char		in[16];
			const char *o;

			snprintf(in, sizeof(in), "%d", i);
			o = run(m, str(in), NULL, NULL);
			/* +1 NXX-555-01XX */
			assert_int_equal(strlen(o), 15);
			assert_memory_equal(o, "+1 ", 3);
			assert_true(o[3] >= '2' && o[3] <= '9');
			assert_memory_equal(o + 6, "-555-01", 7);
		}
		trib_mask_free(m);
	}
	{
		trib_mask  *m = mk_sub(TRIB_FAKE_STREET_ADDRESS, "k");
		const char *o = run(m, str("1 Real Street"), NULL, NULL);
		char	   *sp = strchr(o, ' ');
		char		street[128];
		size_t		n;

		assert_non_null(sp);
		assert_true(atoi(o) >= 1 && atoi(o) <= 9999);
		snprintf(street, sizeof(street), "%s", sp + 1);
		n = strcspn(street, ",");
		assert_true(in_list(&test_dicts->streets, street, n));
		trib_mask_free(m);
	}
}

/* Independent IBAN mod-97 for the tests. */
static int
t_mod97(const char *iban)
{
	char		r[80];
	int			n = 0,
				rem = 0;
	size_t		len = strlen(iban);

	snprintf(r, sizeof(r), "%s%.4s", iban + 4, iban);
	(void) len;
	for (const char *p = r; *p; p++)
	{
		if (*p >= 'A' && *p <= 'Z')
		{
			int			v = *p - 'A' + 10;

			rem = (rem * 10 + v / 10) % 97;
			rem = (rem * 10 + v % 10) % 97;
		}
		else
			rem = (rem * 10 + (*p - '0')) % 97;
		n++;
	}
	return rem;
}

/* Independent national checks (BE, ES; FR with numeric accounts). */
static bool
t_national_ok(const char *iban)
{
	const char *b = iban + 4;

	if (strncmp(iban, "BE", 2) == 0)
	{
		long long	v = 0;
		int			k;

		for (int i = 0; i < 10; i++)
			v = v * 10 + (b[i] - '0');
		k = (int) (v % 97);
		return (k == 0 ? 97 : k) == (b[10] - '0') * 10 + (b[11] - '0');
	}
	if (strncmp(iban, "ES", 2) == 0)
	{
		static const int w[10] = {1, 2, 4, 8, 5, 10, 9, 7, 3, 6};
		char		first[11] = "00";
		int			d[2];

		memcpy(first + 2, b, 8);
		for (int j = 0; j < 2; j++)
		{
			const char *s = j == 0 ? first : b + 10;
			int			sum = 0;

			for (int i = 0; i < 10; i++)
				sum += (s[i] - '0') * w[i];
			d[j] = 11 - sum % 11;
			d[j] = d[j] == 11 ? 0 : d[j] == 10 ? 1 : d[j];
		}
		return b[8] - '0' == d[0] && b[9] - '0' == d[1];
	}
	if (strncmp(iban, "FR", 2) == 0)
	{
		long long	bank = 0,
					branch = 0,
					acct = 0;

		for (int i = 0; i < 5; i++)
			bank = bank * 10 + (b[i] - '0');
		for (int i = 5; i < 10; i++)
			branch = branch * 10 + (b[i] - '0');
		for (int i = 10; i < 21; i++)
			acct = acct * 10 + (b[i] - '0');
		return 97 - (89 * bank + 15 * branch + 3 * acct) % 97 ==
			(b[21] - '0') * 10 + (b[22] - '0');
	}
	return true;
}

static void
test_iban_check_digits(void **state)
{
	/* Published example IBANs */
	static const char *const valid[] = {
		"DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300",
		"BE68539007547034", "ES9121000418450200051332", "CH9300762011623852957",
		"AT611904300234573201", "FR7630006000011234567890189",
	};
	static const struct
	{
		const char *c;
		size_t		len;
	}			countries[] = {
		{"DE", 22}, {"AT", 20}, {"CH", 21}, {"GB", 22}, {"NL", 18}, {"FR", 27},
		{"BE", 16}, {"ES", 24}
	};

	(void) state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
	{
		assert_int_equal(t_mod97(valid[i]), 1);
		assert_true(t_national_ok(valid[i]));
		assert_true(trib_fake_iban_valid(valid[i]));
	}
	assert_false(trib_fake_iban_valid("DE89370400440532013001"));
	assert_false(trib_fake_iban_valid("DE8937040044053201300"));	/* length */
	assert_true(trib_fake_iban_valid("DE89 3704 0044 0532 0130 00"));

	for (size_t c = 0; c < sizeof(countries) / sizeof(countries[0]); c++)
	{
		trib_mask_spec s;
		trib_mask  *m;

		trib_mask_spec_init(&s, TRIB_MASK_SUBSTITUTE);
		s.substitute.what = TRIB_FAKE_IBAN;
		s.substitute.iban_country = countries[c].c;
		s.dicts = test_dicts;
		m = mk(&s);
		for (int i = 0; i < 100; i++)
		{
			char		in[32];
			const char *o;

			snprintf(in, sizeof(in), "acct-%d", i);
			o = run(m, str(in), NULL, NULL);
			assert_memory_equal(o, countries[c].c, 2);
			assert_int_equal(strlen(o), countries[c].len);
			assert_int_equal(t_mod97(o), 1);
			assert_true(t_national_ok(o));
		}
		trib_mask_free(m);
	}
	/* an input IBAN keeps its country and its print format */
	{
		trib_mask  *m = mk_sub(TRIB_FAKE_IBAN, "k");
		const char *o = run(m, str("GB82 WEST 1234 5698 7654 32"), NULL, NULL);
		char		compact[64];
		size_t		n = 0;

		assert_int_equal(strlen(o), 27);
		assert_memory_equal(o, "GB", 2);
		for (const char *p = o; *p; p++)
			if (*p != ' ')
				compact[n++] = *p;
			else
				assert_int_equal((p - o) % 5, 4);
		compact[n] = '\0';
		assert_int_equal(t_mod97(compact), 1);
		trib_mask_free(m);
	}
}

static void
test_iban_bad_country(void **state)
{
	trib_mask_spec s;
	char		err[256];

	(void) state;
	trib_mask_spec_init(&s, TRIB_MASK_SUBSTITUTE);
	s.substitute.what = TRIB_FAKE_IBAN;
	s.substitute.iban_country = "XX";
	s.dicts = test_dicts;
	assert_null(trib_mask_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "iban_country"));
	s.substitute.iban_country = "DE";
	s.dicts = NULL;
	assert_null(trib_mask_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "dictionaries"));
}

/* Independent Luhn. */
static bool
t_luhn(const char *s)
{
	int			sum = 0,
				n = 0;

	for (int i = (int) strlen(s) - 1; i >= 0; i--)
	{
		int			v;

		if (s[i] < '0' || s[i] > '9')
			continue;
		v = s[i] - '0';
		if (n++ % 2 == 1)
			v = v * 2 > 9 ? v * 2 - 9 : v * 2;
		sum += v;
	}
	return sum % 10 == 0;
}

static void
test_credit_card(void **state)
{
	trib_mask  *m = mk_sub(TRIB_FAKE_CREDIT_CARD, "k");
	trib_jkind	k;
	const char *o;

	(void) state;
	assert_true(t_luhn("4111111111111111"));
	assert_true(trib_fake_luhn_valid("4111 1111 1111 1111"));
	assert_false(trib_fake_luhn_valid("4111 1111 1111 1112"));
	for (int i = 0; i < 300; i++)
	{
		char		in[32];

		snprintf(in, sizeof(in), "4000 %04d 0000 0002", i);
		o = run(m, str(in), NULL, &k);
		assert_int_equal(strlen(o), 19);
		assert_int_equal(k, TRIB_J_STRING);
		assert_true(o[4] == ' ' && o[9] == ' ' && o[14] == ' ');
		assert_true(t_luhn(o));
		assert_true(trib_fake_luhn_valid(o));
		/* an issuer prefix: Visa 4, Mastercard 51-55/2221-2720, Discover
		 * 6011/644-649/65, JCB 3528-3589 (16 digits) */
		assert_true(o[0] == '4' || (o[0] == '5' && o[1] >= '1' && o[1] <= '5') ||
					o[0] == '2' || o[0] == '6' || strncmp(o, "35", 2) == 0);
	}
	/* 15 digits: American Express 34/37 */
	o = run(m, str("378282246310005"), NULL, NULL);
	assert_int_equal(strlen(o), 15);
	assert_true(strncmp(o, "34", 2) == 0 || strncmp(o, "37", 2) == 0);
	assert_true(t_luhn(o));
	/* a JSON number stays a number */
	o = run(m, num("4111111111111111"), NULL, &k);
	assert_int_equal(k, TRIB_J_NUMBER);
	assert_int_equal(strlen(o), 16);
	assert_true(t_luhn(o));
	/* not a card number: a plain 16-digit card */
	o = run(m, str("n/a"), NULL, NULL);
	assert_int_equal(strlen(o), 16);
	assert_true(t_luhn(o));
	trib_mask_free(m);
}

/* ---- dictionaries -------------------------------------------------------- */

static void
test_dictionaries(void **state)
{
	trib_fake_list l;
	char		err[256];
	const char	ok[] = "# comment\n\n  Alpha  \nBeta\r\nGamma\nDelta\nEpsilon\n"
		"Zeta\nEta\nTheta\nIota\nKappa\n";

	(void) state;
	assert_true(test_dicts->first_names.count >= 300);
	assert_true(test_dicts->last_names.count >= 300);
	assert_true(test_dicts->cities.count >= 300);
	assert_true(test_dicts->companies.count >= 300);
	assert_true(test_dicts->streets.count >= 300);
	assert_true(test_dicts->domains.count >= 50);

	assert_true(trib_fake_list_parse("t.txt", ok, sizeof(ok) - 1, false, &l,
									 err, sizeof(err)));
	assert_int_equal(l.count, 10);
	assert_string_equal(l.items[0], "Alpha");
	assert_string_equal(l.items[1], "Beta");
	trib_fake_list_free(&l);

	assert_false(trib_fake_list_parse("t.txt", "a\nb\n", 4, false, &l, err, sizeof(err)));
	assert_string_equal(err, "t.txt: 2 entries; at least 10 are needed");
	assert_false(trib_fake_list_parse("t.txt", "ok\nbad \xc3\x28\n", 9, false, &l,
									  err, sizeof(err)));
	assert_string_equal(err, "t.txt:2: not valid UTF-8");
	assert_false(trib_fake_list_parse("t.txt", "a\tb\n", 4, false, &l, err, sizeof(err)));
	assert_string_equal(err, "t.txt:1: control character (byte 0x09)");
	assert_false(trib_fake_list_parse("d.txt", "Example.com\n", 12, true, &l, err,
									  sizeof(err)));
	assert_non_null(strstr(err, "d.txt:1: not a lower-case host name"));
	assert_false(trib_fake_list_parse("d.txt", "localhost\n", 10, true, &l, err,
									  sizeof(err)));
	assert_false(trib_fake_list_parse("d.txt", "a-.example\n", 11, true, &l, err,
									  sizeof(err)));

	assert_null(trib_fake_dicts_load("/nonexistent/dir", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir/first_names.txt: No such file"));

	setenv("TRIBUTARY_DATA_DIR", "/opt/trib", 1);
	assert_string_equal(trib_fake_default_dir(), "/opt/trib/fake");
	unsetenv("TRIBUTARY_DATA_DIR");
	/* the installed directory, or the source tree's when not installed */
	if (access(TRIB_DATADIR "/fake", R_OK) == 0)
		assert_string_equal(trib_fake_default_dir(), TRIB_DATADIR "/fake");
	else
		assert_string_equal(trib_fake_default_dir(), TRIB_SRC_DATADIR "/fake");
}

/* ---- perturb ------------------------------------------------------------- */

static trib_mask *
mk_perturb(trib_perturb_mode mode, double amount, int days)
{
	trib_mask_spec s;

	trib_mask_spec_init(&s, TRIB_MASK_PERTURB);
	s.perturb.mode = mode;
	s.perturb.amount = amount;
	s.perturb.days = days;
	s.key = (const unsigned char *) "secret";
	s.keylen = 6;
	return mk(&s);
}

static void
test_perturb_numbers_keep_scale(void **state)
{
	trib_mask  *m = mk_perturb(TRIB_PERTURB_PERCENT, 10, 0);
	int			changed = 0,
				distinct = 0;
	char		prev[64] = "";

	(void) state;
	for (int i = 0; i < 100; i++)
	{
		char		key[32];
		trib_mask_row row = {key, 0, "amount"};
		const char *o;
		double		v;
		trib_jkind	k;

		snprintf(key, sizeof(key), "{\"id\":%d}", i);
		row.row_key_len = strlen(key);
		o = run(m, num("1000.50"), &row, &k);
		assert_int_equal(k, TRIB_J_NUMBER);
		/* two decimals, within +-10% */
		assert_non_null(strchr(o, '.'));
		assert_int_equal(strlen(strchr(o, '.')), 3);
		v = strtod(o, NULL);
		assert_true(v >= 900.45 && v <= 1100.55);
		changed += strcmp(o, "1000.50") != 0;
		distinct += strcmp(o, prev) != 0;
		snprintf(prev, sizeof(prev), "%s", o);
		/* same row, same column: same noise (an update cannot average it) */
		assert_string_equal(run(m, num("1000.50"), &row, NULL), prev);
	}
	assert_true(changed >= 95);
	assert_true(distinct >= 90);
	{
		/* another column of the same row gets other noise */
		trib_mask_row r1 = {"{\"id\":1}", 8, "a"},
					r2 = {"{\"id\":1}", 8, "b"};
		char		x[64];

		snprintf(x, sizeof(x), "%s", run(m, num("1000000"), &r1, NULL));
		assert_string_not_equal(x, run(m, num("1000000"), &r2, NULL));
		/* integers stay integers */
		assert_null(strchr(x, '.'));
	}
	trib_mask_free(m);
}

static void
test_perturb_big_and_special(void **state)
{
	trib_mask  *m = mk_perturb(TRIB_PERTURB_ABSOLUTE, 5, 0);
	trib_mask_row row = {"{\"id\":7}", 8, "big"};
	const char *o;
	trib_dec	a,
				b;
	trib_jkind	k;

	(void) state;
	/* 32 digits: a double would lose the low digits; the noise only
	 * touches the last ones */
	o = run(m, num("123456789012345678901234567890.12"), &row, NULL);
	assert_int_equal(strlen(o), 33);
	assert_memory_equal(o, "12345678901234567890123456", 26);
	assert_true(trib_dec_parse(o, strlen(o), &a));
	assert_true(trib_dec_parse("123456789012345678901234567885.12", 33, &b));
	assert_true(trib_dec_cmp(&a, &b) >= 0);
	trib_dec_free(&a);
	trib_dec_free(&b);
	assert_true(trib_dec_parse("123456789012345678901234567895.12", 33, &b));
	assert_true(trib_dec_parse(o, strlen(o), &a));
	assert_true(trib_dec_cmp(&a, &b) <= 0);
	trib_dec_free(&a);
	trib_dec_free(&b);

	/* numeric strings stay strings; NaN is left alone */
	o = run(m, str("42.000"), &row, &k);
	assert_int_equal(k, TRIB_J_STRING);
	assert_int_equal(strlen(strchr(o, '.')), 4);
	assert_string_equal(run(m, str("NaN"), &row, NULL), "NaN");
	/* exponent form (float columns): perturbed as a double */
	o = run(m, num("1e+30"), &row, &k);
	assert_int_equal(k, TRIB_J_NUMBER);
	assert_true(strtod(o, NULL) > 9.9e29);
	/* without a row key: deterministic from the value */
	{
		char		x[64];

		snprintf(x, sizeof(x), "%s", run(m, num("17"), NULL, NULL));
		assert_string_equal(run(m, num("17"), NULL, NULL), x);
	}

	assert_non_null(strstr(run_err(m, str("twelve")), "not a number"));
	assert_non_null(strstr(run_err(m, (trib_jvalue)
								   {
								   TRIB_J_BOOL, "true", 4, NULL}
								   ), "boolean"));
	trib_mask_free(m);
}

/* A number of an SQL type. */
static trib_jvalue
typed(const char *s, const char *sqltype)
{
	return (trib_jvalue)
	{
		TRIB_J_NUMBER, s, strlen(s), sqltype
	};
}

/* n perturbed by m as sqltype is an integer in [lo, hi]; returns it. */
static long long
perturbed_in(const trib_mask *m, const char *n, const char *sqltype, int row_id,
			 long long lo, long long hi)
{
	char		key[32];
	trib_mask_row row = {key, 0, "n"};
	const char *o;
	trib_dec	d,
				dl,
				dh;
	char		lt[24],
				ht[24];
	long long	x;

	snprintf(key, sizeof(key), "{\"id\":%d}", row_id);
	row.row_key_len = strlen(key);
	o = run(m, typed(n, sqltype), &row, NULL);
	snprintf(lt, sizeof(lt), "%lld", lo);
	snprintf(ht, sizeof(ht), "%lld", hi);
	assert_true(trib_dec_parse(o, strlen(o), &d));
	assert_true(trib_dec_parse(lt, strlen(lt), &dl));
	assert_true(trib_dec_parse(ht, strlen(ht), &dh));
	if (trib_dec_cmp(&d, &dl) < 0 || trib_dec_cmp(&d, &dh) > 0)
		fail_msg("%s %s perturbed to %s, outside [%s, %s]", sqltype, n, o, lt, ht);
	trib_dec_free(&d);
	trib_dec_free(&dl);
	trib_dec_free(&dh);
	x = strtoll(o, NULL, 10);
	return x;
}

/* An integer column near its type's bounds stays in the type (the target
 * refused the row when the noise pushed it past INT16_MAX, INT64_MIN...). */
static void
test_perturb_integer_limits(void **state)
{
	trib_mask  *m = mk_perturb(TRIB_PERTURB_ABSOLUTE, 100, 0);
	trib_mask  *wide = mk_perturb(TRIB_PERTURB_ABSOLUTE, 1e6, 0);
	int			moved = 0;

	(void) state;
	for (int i = 0; i < 40; i++)
	{
		moved += perturbed_in(m, "32767", "smallint", i, 32667, 32767) != 32767;
		(void) perturbed_in(m, "-32768", "smallint", i, -32768, -32668);
		(void) perturbed_in(m, "2147483647", "integer", i, 2147483547LL, 2147483647LL);
		(void) perturbed_in(m, "-2147483648", "int4", i, -2147483648LL, -2147483548LL);
		(void) perturbed_in(m, "9223372036854775807", "bigint", i,
							9223372036854775707LL, 9223372036854775807LL);
		(void) perturbed_in(m, "-9223372036854775808", "bigint", i,
							INT64_MIN, INT64_MIN + 100);
		(void) perturbed_in(m, "127", "tinyint", i, 27, 127);
		/* noise wider than the type: clamped */
		(void) perturbed_in(wide, "5", "smallint", i, -32768, 32767);
	}
	assert_true(moved >= 35);
	/* the same row gets the same value (deterministic) */
	assert_int_equal(perturbed_in(m, "32767", "smallint", 3, 32667, 32767),
					 perturbed_in(m, "32767", "smallint", 3, 32667, 32767));
	/* numeric and unknown types are not bounded */
	{
		trib_mask_row row = {"{\"id\":1}", 8, "n"};
		int			above = 0;

		for (int i = 0; i < 40; i++)
		{
			char		key[32];
			const char *o;

			snprintf(key, sizeof(key), "{\"id\":%d}", i);
			row.row_key = key;
			row.row_key_len = strlen(key);
			o = run(m, typed("32767", "numeric"), &row, NULL);
			above += strtol(o, NULL, 10) > 32767;
		}
		assert_true(above > 0);
	}
	trib_mask_free(m);
	trib_mask_free(wide);
}

static void
test_perturb_dates(void **state)
{
	trib_mask  *m = mk_perturb(TRIB_PERTURB_DAYS, 0, 30);
	int64_t		base = trib_isodate_days_from_civil(2024, 2, 29);
	int			seen_neg = 0,
				seen_pos = 0;

	(void) state;
	for (int i = 0; i < 200; i++)
	{
		char		key[32];
		trib_mask_row row = {key, 0, "born"};
		const char *o;
		trib_isodate d;
		int64_t		delta;

		snprintf(key, sizeof(key), "{\"id\":%d}", i);
		row.row_key_len = strlen(key);
		o = run(m, str("2024-02-29"), &row, NULL);
		assert_true(trib_isodate_parse(o, strlen(o), &d));
		assert_int_equal(strlen(o), 10);
		delta = trib_isodate_days_from_civil(d.year, d.month, d.day) - base;
		assert_true(delta != 0 && delta >= -30 && delta <= 30);
		seen_neg += delta < 0;
		seen_pos += delta > 0;
		/* timestamps keep their time and zone, shifted by the same days */
		o = run(m, str("2024-02-29T10:20:30.5Z"), &row, NULL);
		assert_string_equal(o + 10, "T10:20:30.5Z");
		assert_true(trib_isodate_parse(o, strlen(o), &d));
		assert_int_equal(trib_isodate_days_from_civil(d.year, d.month, d.day) - base, delta);
	}
	assert_true(seen_neg > 50 && seen_pos > 50);
	assert_string_equal(run(m, str("infinity"), NULL, NULL), "infinity");
	assert_non_null(strstr(run_err(m, str("2023-02-29")), "not a date"));
	assert_non_null(strstr(run_err(m, num("20240229")), "not a date"));
	trib_mask_free(m);
}

static void
test_perturb_bad_parameters(void **state)
{
	trib_mask_spec s;
	char		err[256];

	(void) state;
	trib_mask_spec_init(&s, TRIB_MASK_PERTURB);
	s.perturb.amount = 0;
	assert_null(trib_mask_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "amount"));
	s.perturb.mode = TRIB_PERTURB_DAYS;
	s.perturb.days = 0;
	assert_null(trib_mask_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "days"));
}

/* ---- generalize ---------------------------------------------------------- */

static trib_mask *
mk_gen(trib_generalize_mode mode, int64_t width)
{
	trib_mask_spec s;

	trib_mask_spec_init(&s, TRIB_MASK_GENERALIZE);
	s.generalize.mode = mode;
	s.generalize.width = width;
	return mk(&s);
}

static void
test_generalize_numbers(void **state)
{
	trib_mask  *r = mk_gen(TRIB_GEN_RANGE, 10);
	trib_mask  *l = mk_gen(TRIB_GEN_LOWER, 10);
	trib_mask  *one = mk_gen(TRIB_GEN_RANGE, 1);
	trib_jkind	k;

	(void) state;
	assert_string_equal(run(r, num("34"), NULL, &k), "30-39");
	assert_int_equal(k, TRIB_J_STRING);
	assert_out(r, num("30"), "30-39");
	assert_out(r, num("39.99"), "30-39");
	assert_out(r, num("0"), "0-9");
	assert_out(r, num("-5"), "-10--1");
	assert_out(r, num("-10"), "-10--1");
	assert_out(r, num("1.5e2"), "150-159");
	assert_out(r, num("123456789012345678901234567890"),
			   "123456789012345678901234567890-123456789012345678901234567899");
	assert_string_equal(run(l, num("34.7"), NULL, &k), "30");
	assert_int_equal(k, TRIB_J_NUMBER);
	assert_out(l, num("-0.5"), "-10");
	assert_out(l, str("77"), "70");
	assert_out(one, num("34.7"), "34");
	assert_non_null(strstr(run_err(r, str("abc")), "not a number"));
	assert_non_null(strstr(run_err(r, (trib_jvalue)
								   {
								   TRIB_J_BOOL, "false", 5, NULL}
								   ), "not a number"));
	trib_mask_free(r);
	trib_mask_free(l);
	trib_mask_free(one);
}

static void
test_generalize_dates(void **state)
{
	trib_mask  *mo = mk_gen(TRIB_GEN_MONTH, 0);
	trib_mask  *yr = mk_gen(TRIB_GEN_YEAR, 0);

	(void) state;
	assert_out(mo, str("2024-03-15"), "2024-03-01");
	assert_out(yr, str("2024-03-15"), "2024-01-01");
	assert_out(mo, str("1999-12-31T23:59:59.5"), "1999-12-01T00:00:00");
	assert_out(yr, str("2024-06-01T10:20:30.5+05:30"), "2024-01-01T00:00:00+05:30");
	assert_out(mo, str("2024-06-01 10:00:00Z"), "2024-06-01 00:00:00Z");
	assert_out(yr, str("-0043-03-15"), "-0043-01-01");
	assert_out(yr, str("+10000-05-05"), "+10000-01-01");
	assert_out(mo, str("-infinity"), "-infinity");
	assert_non_null(strstr(run_err(mo, str("15/03/2024")), "not a date"));
	assert_non_null(strstr(run_err(mo, str("2024-03-15T25:00")), "not a date"));
	trib_mask_free(mo);
	trib_mask_free(yr);
}

/* ---- helpers ------------------------------------------------------------- */

static void
test_decimal(void **state)
{
	static const char *const bad[] = {"01", "1.", ".5", "+1", "1e", "-", "", "1 ", "0x1",
	"1e+", "--1", "NaN"};
	trib_dec	a,
				b;
	trib_strbuf c = {0},
				d = {0};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (trib_dec_parse(bad[i], strlen(bad[i]), &a))
			fail_msg("parsed %s", bad[i]);
	assert_true(trib_dec_parse("1.50", 4, &a));
	assert_true(trib_dec_parse("15e-1", 5, &b));
	assert_int_equal(a.scale, 2);
	assert_int_equal(trib_dec_cmp(&a, &b), 0);
	trib_dec_canonical(&a, &c);
	trib_dec_canonical(&b, &d);
	assert_string_equal(c.data, d.data);
	trib_dec_free(&a);
	trib_dec_free(&b);
	assert_true(trib_dec_parse("-0.000", 6, &a));
	assert_true(trib_dec_parse("0", 1, &b));
	assert_int_equal(trib_dec_cmp(&a, &b), 0);
	trib_dec_free(&a);
	trib_dec_free(&b);
	assert_true(trib_dec_parse("-2", 2, &a));
	assert_true(trib_dec_parse("-10", 3, &b));
	assert_int_equal(trib_dec_cmp(&a, &b), 1);
	trib_dec_free(&a);
	trib_dec_free(&b);
	assert_true(trib_dec_parse("99999999999999999999.5", 22, &a));
	assert_true(trib_dec_parse("1e20", 4, &b));
	assert_int_equal(trib_dec_cmp(&a, &b), -1);
	trib_dec_free(&a);
	trib_dec_free(&b);
	trib_strbuf_free(&c);
	trib_strbuf_free(&d);
}

static void
test_isodate(void **state)
{
	trib_isodate d;

	(void) state;
	assert_int_equal(trib_isodate_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(trib_isodate_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(trib_isodate_days_from_civil(1969, 12, 31), -1);
	for (int64_t z = -800000; z < 800000; z += 97)
	{
		int64_t		y;
		int			m,
					dd;

		trib_isodate_civil_from_days(z, &y, &m, &dd);
		assert_int_equal(trib_isodate_days_from_civil(y, m, dd), z);
	}
	assert_true(trib_isodate_parse("2024-02-29", 10, &d));
	assert_false(trib_isodate_parse("2023-02-29", 10, &d));
	assert_false(trib_isodate_parse("1900-02-29", 10, &d));
	assert_true(trib_isodate_parse("2000-02-29", 10, &d));
	assert_false(trib_isodate_parse("2024-13-01", 10, &d));
	assert_false(trib_isodate_parse("24-01-01", 8, &d));
	assert_false(trib_isodate_parse("2024-01-01x", 11, &d));
	assert_true(trib_isodate_parse("2024-01-01T00:00", 16, &d));
	assert_true(trib_isodate_parse("2024-01-01T00:00:00+0530", 24, &d));
	assert_false(trib_isodate_parse("2024-01-01T00:00:00+05:3", 24, &d));
	assert_false(trib_isodate_parse("2024-01-01T", 11, &d));
}

static void
test_utf8(void **state)
{
	(void) state;
	assert_true(trib_utf8_valid("José", strlen("José")));
	assert_int_equal(trib_utf8_count("José", strlen("José")), 4);
	assert_false(trib_utf8_valid("\xc0\xaf", 2));	/* overlong */
	assert_false(trib_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(trib_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(trib_utf8_valid("\xe2\x82", 2));	/* truncated */
	assert_true(trib_utf8_valid("\xef\xbf\xbd", 3));	/* U+FFFD itself */
}

/* trib_utf8_scrub: each ill-formed byte becomes U+FFFD, the rest is kept. */
static void
test_utf8_scrub(void **state)
{
	static const struct
	{
		const char *in;
		const char *out;
	}			cases[] = {
		{"José", "José"},
		{"", ""},
		{"a\xff", "a\xef\xbf\xbd"},
		{"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"},	/* cut short: two bytes */
		{"\xc0\xafx", "\xef\xbf\xbd\xef\xbf\xbdx"},	/* overlong */
		{"\xef\xbf\xbd\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *got = trib_utf8_scrub(cases[i].in, strlen(cases[i].in));

		assert_string_equal(got, cases[i].out);
		assert_true(trib_utf8_valid(got, strlen(got)));
		free(got);
	}
}

static void
test_kind_names(void **state)
{
	trib_mask_kind k;
	trib_fake_kind f;

	(void) state;
	assert_true(trib_mask_kind_parse("generalize", &k));
	assert_int_equal(k, TRIB_MASK_GENERALIZE);
	assert_false(trib_mask_kind_parse("hash", &k));
	for (int i = 0; i < TRIB_FAKE_NKINDS; i++)
	{
		assert_true(trib_fake_kind_parse(trib_fake_kind_name((trib_fake_kind) i), &f));
		assert_int_equal(f, i);
	}
	assert_false(trib_fake_kind_parse("passport_number", &f));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_mask_counts_characters),
		cmocka_unit_test(test_redact_null_and_fixed),
		cmocka_unit_test(test_redact_bad_parameters),
		cmocka_unit_test(test_partial_card_and_separators),
		cmocka_unit_test(test_partial_email_keeps_domain),
		cmocka_unit_test(test_substitute_deterministic_and_keyed),
		cmocka_unit_test(test_substitute_email_and_username),
		cmocka_unit_test(test_substitute_other_kinds),
		cmocka_unit_test(test_iban_check_digits),
		cmocka_unit_test(test_iban_bad_country),
		cmocka_unit_test(test_credit_card),
		cmocka_unit_test(test_dictionaries),
		cmocka_unit_test(test_perturb_numbers_keep_scale),
		cmocka_unit_test(test_perturb_big_and_special),
		cmocka_unit_test(test_perturb_integer_limits),
		cmocka_unit_test(test_perturb_dates),
		cmocka_unit_test(test_perturb_bad_parameters),
		cmocka_unit_test(test_generalize_numbers),
		cmocka_unit_test(test_generalize_dates),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_isodate),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_utf8_scrub),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, test_dicts_setup, test_dicts_teardown);
}
